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


def evaluate(source: str, names: dict[str, Any]) -> Any:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise ExprError(f"cannot parse expression {source!r}") from None
    return _eval(tree.body, names, source)


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
        try:
            value = BINARY[type(node.op)](left, right)
        except (TypeError, ZeroDivisionError, OverflowError) as error:
            raise ExprError(f"{error} in {source!r}") from None
        if isinstance(value, float) and value.is_integer() and isinstance(node.op, ast.Div):
            return int(value)
        return value
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, names, source)
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
