"""Elementwise ops: activations (prelu's weights), identity and dropout, binary ops with PyTorch's broadcasting (add,
sub, mul, div), unary math (exp, log, ..., clamp) and learnable tensors (param)."""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

from convcalc.core.notation import Shape, format_shape
from convcalc.core.resolve import check_elements
from convcalc.errors import InputError, ShapeError
from convcalc.ops.catalogue import UNARY
from convcalc.ops.handlers.results import OpResult, one_input, pointwise


def op_activation(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    return pointwise(one_input(shapes), 1)


def op_prelu(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    shape = one_input(shapes)
    count = args.get("num_parameters", 1)
    if count not in (1, shape[-1]):
        raise ShapeError(f"num_parameters must be 1 or the channel count {shape[-1]}, got {count}", "num_parameters")
    return pointwise(shape, 1, params=count)


def op_free(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """identity, dropout: no change, no cost."""
    return pointwise(one_input(shapes), 0)


# -- pointwise math (issue 11): binary ops with broadcasting, unary ops, learnable tensors -------------------------


def broadcast(op: str, shapes: list[Shape]) -> Shape:
    """PyTorch's broadcasting of batch-free shapes: aligned from the last axis, each size equal or 1 (a missing
    leading axis counts as 1); anything else is refused as PyTorch refuses it."""
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in shapes]
    out = tuple(max(sizes) for sizes in zip(*padded))
    if any(size not in (1, biggest) for shape in padded for size, biggest in zip(shape, out)):
        raise ShapeError(f"{op} needs equal sizes (or 1 to broadcast), got " + ", ".join(map(format_shape, shapes)), "from")
    return out


def binary(op: str) -> Callable[[dict[str, Any], list[Shape]], OpResult]:
    """add, sub, mul, div: the inputs broadcast together (a param is an input like any other), then the constant
    ``value`` if given; one FLOP per output element for every operand after the first. No weights: 0 MACs."""

    def handler(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
        operands = len(shapes) + ("value" in args)
        if not shapes or operands < 2:
            raise InputError(f"{op} needs at least two inputs, got {len(shapes)} (or one and a constant value)", "from")
        out = broadcast(op, shapes)
        return OpResult(output_shape=out, flops=(operands - 1) * prod(out), field="merge")

    handler.__name__ = f"op_{op}"
    return handler


op_add = binary("add")


op_sub = binary("sub")


op_mul = binary("mul")


op_div = binary("div")


UNARY_OPS = tuple(name for name, *_ in UNARY if name != "clamp")  # clamp checks its bounds first


def op_unary(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """exp, log, sqrt, rsqrt, pow, neg, abs, clamp, reciprocal, square, sign: 1 FLOP per element, as an activation."""
    return pointwise(one_input(shapes), 1)


def op_clamp(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.clamp: PyTorch refuses a clamp with neither bound."""
    if "min" not in args and "max" not in args:
        raise InputError("clamp needs min, max or both", "min")
    return op_unary(args, shapes)


def param_shape(args: dict[str, Any]) -> Shape:
    shape = args["shape"]
    return (shape,) if isinstance(shape, int) else tuple(shape)


def op_param(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """A learnable tensor: no input, its elements are params; its field is empty (it sees no input position)."""
    if shapes:
        raise InputError(f"param takes no input, got {len(shapes)}", "from")
    shape = param_shape(args)
    check_elements(shape, 1, "shape")
    return OpResult(output_shape=shape, params=prod(shape), field="window")


def op_constant(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """A non-learnable tensor: no input, no params; its elements are buffers when it is a registered buffer
    (``buffer``, default true), nothing when computed in forward; its field is empty (it sees no input position)."""
    if shapes:
        raise InputError(f"constant takes no input, got {len(shapes)}", "from")
    shape = param_shape(args)
    check_elements(shape, 1, "shape")
    return OpResult(output_shape=shape, buffers=prod(shape) if args.get("buffer", True) else 0, field="window")
