"""One layer from options written as text (``convcalc layer --in 640x640x3 --k 3x5 --p same``).

Which options an op takes comes from the op catalogue (``layer_options``). Every error is a ConvCalcError whose
``param`` is the option at fault (``op``, ``in``, ``k``, ``output_padding``, ``bias`` ...), for the caller to name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from convcalc.core import layer as layers
from convcalc.core.notation import parse_ints, parse_shape
from convcalc.core.resolved import LayerResult
from convcalc.errors import ConvCalcError
from convcalc.ops.catalogue import LAYER_OPS, canonical_op
from convcalc.ops.catalogue import op as op_entry

# An option's value: its text (``"3x5"``), a flag's value (``ceil=True``, ``bias=False`` for no bias), None: not given.
Option = str | bool | None

WINDOW_CALLS: dict[str, Callable[..., LayerResult]] = {
    "conv": layers.conv, "deconv": layers.deconv, "maxpool": layers.maxpool, "avgpool": layers.avgpool,
}  # fmt: skip


def layer_op(name: str) -> str:
    """The canonical name of an op that ``layer`` computes, from any of its spellings."""
    kind = canonical_op(name)
    if kind not in LAYER_OPS:
        known = f"{kind} is an op of network specs (convcalc net)" if kind else f"unknown op {name!r}"
        raise ConvCalcError(f"{known}; `layer` takes {', '.join(LAYER_OPS)} (and their aliases: convcalc ops)", "op")
    return kind


def refuse_other_options(kind: str, options: Mapping[str, Option]) -> None:
    """The first option given that ``kind`` does not take is an error (it would be silently ignored)."""
    accepted = op_entry(kind).layer_options or frozenset()
    for name, value in options.items():
        if value is not None and name not in accepted:
            raise ConvCalcError(f"not an option of {kind}", name)


def ints(name: str, text: Option, what: str = "value") -> tuple[int, ...] | None:
    """``"3x5"`` -> ``(3, 5)``; None when not given."""
    return None if text is None else parse_ints(str(text), name, what)


def one_int(name: str, text: Option) -> int | None:
    """One whole number; None when not given."""
    values = ints(name, text, "whole number")
    if values is not None and len(values) != 1:
        raise ConvCalcError(f"takes one whole number, got {text!r}", name)
    return None if values is None else values[0]


def window_arguments(kind: str, options: Mapping[str, Option]) -> dict[str, Any]:
    """Kernel, stride, dilation and padding of a conv or pooling layer; the kernel is required."""
    if options.get("k") is None:
        raise ConvCalcError(f"is required for {kind} (the kernel size, e.g. 3 or 3x5)", "k")
    arguments: dict[str, Any] = {"k": ints("k", options["k"])}
    for name in ("s", "d"):
        if options.get(name) is not None:
            arguments[name] = ints(name, options[name])
    padding = options.get("p")
    if padding is not None:
        word = str(padding).strip().lower()
        arguments["p"] = word if word in ("same", "valid") else ints("p", padding, "padding such as 2, 1x2, same or valid")
    return arguments


def layer_from_options(
    op: str, input_text: str, options: Mapping[str, Option], batch_text: str = "1"
) -> LayerResult:
    """``convcalc layer``: the op by any spelling, the input shape as text (a feature count for linear), the
    options by their catalogue names (out, k, s, p, d, g, output_padding, ceil, bias) and the batch size."""
    kind = layer_op(op)
    refuse_other_options(kind, options)
    if kind == "linear" and input_text.strip().isdigit():
        shape: tuple[int, ...] = (one_int("in", input_text),)  # type: ignore[assignment]
    else:
        shape = parse_shape(input_text)
    arguments: dict[str, Any] = {"batch": one_int("batch", batch_text)}
    bias = options.get("bias") is not False
    if kind == "linear":
        if options.get("out") is None:
            raise ConvCalcError("is required for linear (the number of output features)", "out")
        return layers.linear(shape, one_int("out", options["out"]), bias=bias, **arguments)  # type: ignore[arg-type]
    arguments.update(window_arguments(kind, options))
    if kind in ("conv", "deconv"):
        groups = one_int("g", options.get("g"))
        arguments.update(out=one_int("out", options.get("out")), g=1 if groups is None else groups, bias=bias)
        if kind == "deconv" and options.get("output_padding") is not None:
            arguments["output_padding"] = ints("output_padding", options["output_padding"])
    else:
        arguments["ceil"] = bool(options.get("ceil"))
    return WINDOW_CALLS[kind](shape, **arguments)
