"""Block arguments in specs: ``$name`` and ``${expression}``, evaluated safely (arithmetic, comparisons,
``a if c else b``, and/or/not, lists; no calls, no attributes)."""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod, ast.Pow: operator.pow, ast.Div: operator.truediv,
}  # fmt: skip
COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}  # fmt: skip
WHOLE = re.compile(r"^\$(?:([A-Za-z_]\w*)|\{(.*)\})$", re.S)
EMBEDDED = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_]\w*)")


class ExprError(ValueError):
    pass


MAX_INT = 2**63 - 1  # PyTorch's sizes are 64-bit; nothing in a spec needs more
MAX_TEXT = 1000


def evaluate(source: str, names: dict[str, Any]) -> Any:
    if len(source) > MAX_TEXT:
        raise ExprError(f"expression longer than {MAX_TEXT} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ExprError(f"cannot parse expression {source!r}") from None
    try:
        return _checked(_eval(tree.body, names, source), source)
    except ExprError:
        raise
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, RecursionError) as error:
        raise ExprError(f"{error} in {source!r}") from None


def _checked(value: Any, source: str) -> Any:
    """Refuse values no layer can have, before they cost time or memory (``${9 ** 9 ** 9}``)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise ExprError(f"number too large (over 2**63 - 1) in {source!r}")
    if isinstance(value, float) and value != value:  # NaN
        raise ExprError(f"not a number in {source!r}")
    if isinstance(value, (str, list)) and len(value) > MAX_TEXT:
        raise ExprError(f"value longer than {MAX_TEXT} in {source!r}")
    return value


def _eval(node: ast.AST, names: dict[str, Any], source: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ExprError(f"unknown name {node.id!r} in {source!r} (known: {known})")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _eval(node.left, names, source), _eval(node.right, names, source)
        if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > 64 and left not in (0, 1, -1):
            raise ExprError(f"exponent {right} too large in {source!r}")
        if isinstance(node.op, ast.Mult) and isinstance(left, (str, list)) != isinstance(right, (str, list)):
            count = right if isinstance(left, (str, list)) else left
            if isinstance(count, int) and count > MAX_TEXT:
                raise ExprError(f"value longer than {MAX_TEXT} in {source!r}")
        value = _checked(BINARY[type(node.op)](left, right), source)
        if isinstance(value, float) and value.is_integer() and isinstance(node.op, ast.Div):
            return int(value)
        return value
    if isinstance(node, ast.UnaryOp):
        value = _checked(_eval(node.operand, names, source), source)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        if isinstance(node.op, ast.Not):
            return not value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, names, source) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in COMPARE for op in node.ops):
        left = _eval(node.left, names, source)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, names, source)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, names, source) else node.orelse, names, source)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(item, names, source) for item in node.elts]
    raise ExprError(f"unsupported expression {source!r}")


def substitute(value: Any, names: dict[str, Any]) -> Any:
    """Replace ``$name``/``${expr}`` strings (the whole string: any value; inside text: its string form)."""
    if isinstance(value, str) and "$" in value:
        whole = WHOLE.match(value.strip())
        if whole:
            return evaluate(whole.group(1) or whole.group(2), names)
        return EMBEDDED.sub(lambda m: str(evaluate(m.group(1) or m.group(2), names)), value)
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    return value
