"""ONNX layout ops, reductions and resampling as convcalc layers (the rest: :mod:`convcalc.frontends.onnx_ops`).

Every ONNX axis is translated through the value's layout (:func:`~convcalc.frontends.onnx_graph.logical_axis`):
for a channels-first (N, C, H, W) value ONNX axis 1 is convcalc's -1 and axis d >= 2 is d - 2. Reshape reads the
elements in ONNX's order, so it works on a ``nat`` value (the channels moved back after the batch first, when
needed), except a flatten of every axis, whose counts and field do not depend on the order. Attributes that became
inputs (Pad, Split, Slice, Squeeze, Unsqueeze, Reduce*) are read from either place.
"""

from __future__ import annotations

from dataclasses import replace
from math import prod
from typing import Any

from convcalc.frontends.onnx_graph import Activation, GraphState, Layout, logical_axis, logical_shape, unit_size
from convcalc.frontends.onnx_ops import ONNX_OPS, OnnxOp, has_input

INT_MAX = 2**62  # Slice's "to the end" (INT64_MAX and the like)


def where(node: Any) -> str:
    return f"ONNX node {node.name or node.output[0]!r} ({node.op_type})"


def axes_of(state: GraphState, node: Any, attrs: dict[str, Any], input_index: int) -> list[int] | None:
    """An ``axes`` list from the attribute (older opsets) or from input ``input_index`` (newer); None if absent."""
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if has_input(node, input_index):
        return state.ints(node, node.input[input_index])
    return None


def same_batch(a: Any, b: Any) -> bool:
    return a == b or (unit_size(a) and unit_size(b))


def size(dims: Any) -> int:
    """The number of elements of ONNX dims, a symbolic one (the batch) counted as 1."""
    return prod(v if isinstance(v, int) else 1 for v in dims)


def reshaped_batch(x: Activation, out: tuple[Any, ...]) -> tuple[int, bool] | None:
    """Where a Reshape puts the batch, by the elements after it (reshapes keep the element order): on an axis of
    its size with as many elements after it, else (a batch of 1) merged before the axis that holds that many;
    None when a larger batch would be merged with other axes."""
    batch_size = 1 if x.merged else x.shape[x.batch]
    after = size(x.shape[x.batch + (0 if x.merged else 1) :])
    for axis, dim in enumerate(out):
        if same_batch(dim, batch_size) and size(out[axis + 1 :]) == after:
            return axis, False
    if not unit_size(batch_size):
        return None
    return next(axis for axis in range(len(out) + 1) if size(out[axis:]) <= after), True


def reshape_to(state: GraphState, node: Any, x: Activation, out: tuple[Any, ...]) -> None:
    """The node's output is x with the ONNX shape ``out``: a flatten of every axis, nothing (the same logical shape),
    or a ``reshape`` of the ``nat`` value. The batch goes where :func:`reshaped_batch` puts it."""
    batch = reshaped_batch(x, out)
    if batch is None:
        raise state.error(node, f"merges the batch axis with others (shape {list(x.shape)} -> {list(out)}); "
                                "convcalc reads a batch of 1 or one it can keep apart")  # fmt: skip
    if x.where_batch == batch == (0, False) and len(out) == 2 and len(x.shape) > 2 and int(out[1]) == size(x.shape[1:]):
        state.output(node, "flatten", {}, [x], "nat")
        return
    x = state.to_layout(node, x, "nat")
    target = Activation(x.ref, tuple(out), "nat", *batch)
    if logical_shape(target) == logical_shape(x):
        state.values[node.output[0]] = target
        return
    state.output(node, "reshape", {"shape": list(logical_shape(target)) or [1]}, [x], "nat", batch=batch)


def reshape(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Reshape, Flatten: the output shape as ONNX's shape inference gives it (``0`` and ``-1`` worked out)."""
    x = state.activation(node, node.input[0])
    if node.op_type == "Flatten" and int(attrs.get("axis", 1)) % max(len(x.shape), 1) == 0:
        raise state.error(node, "axis 0 merges the batch with the other axes")
    reshape_to(state, node, x, state.onnx_shape(node, node.output[0]))


def squeeze(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Squeeze, Unsqueeze (axes an attribute before opset 13, an input since): size-1 axes removed or inserted.
    A channels-first value stays channels first when every such axis is a grid axis (ONNX axis >= 2)."""
    x = state.activation(node, node.input[0])
    out = state.onnx_shape(node, node.output[0])
    axes = axes_of(state, node, attrs, 1)
    rank = len(out) if node.op_type == "Unsqueeze" else len(x.shape)
    if axes is None:
        axes = [a for a, size in enumerate(x.shape) if size == 1]
    axes = [a % rank for a in axes]
    if node.op_type == "Unsqueeze":  # input axis i is output axis kept[i]
        kept = [a for a in range(len(out)) if a not in axes]
    else:
        kept = [i - sum(a < i for a in axes) for i in range(len(x.shape))]
    batch, merged = x.where_batch
    if node.op_type == "Squeeze" and batch in axes and not merged:
        batch, merged = batch - sum(a < batch for a in axes), True  # a batch of 1 squeezed: merged
    else:
        batch = kept[batch] if batch < len(kept) else len(out)
    channels_first = (x.layout == "cf" or len(x.shape) <= 2) and (batch, merged) == (0, False)
    layout: Layout = "cf" if channels_first and min(axes) >= 2 and len(out) >= 2 else "nat"
    x = state.to_layout(node, x, layout) if len(x.shape) > 2 else replace(x, layout=layout)
    target = Activation(x.ref, out, layout, batch, merged)
    if logical_shape(target) == logical_shape(x):
        state.values[node.output[0]] = target
        return
    state.output(node, "reshape", {"shape": list(logical_shape(target)) or [1]}, [x], layout, batch=(batch, merged))


def transpose(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Transpose: ``perm`` (default: reversed); the batch moves with its axis (output axis ``perm.index(batch)``).
    The output is read channels first when that makes the permutation the identity (PyTorch's permute(0, 2, 3, 1)
    of a channels-first value is no change in convcalc's axes), else as it is (``nat``), through a ``permute``
    layer of the other axes."""
    x = state.activation(node, node.input[0])
    rank = len(x.shape)
    perm = [int(p) for p in attrs.get("perm", list(range(rank))[::-1])]
    batch = (perm.index(x.batch) if x.batch < rank else rank, x.merged)
    sources = [logical_axis(x, p, where(node)) for p in perm if x.merged or p != x.batch]
    out = state.onnx_shape(node, node.output[0], batch[0])
    identity = list(range(len(sources)))
    if rank > 2 and batch == (0, False) and sources[1:] + sources[:1] == identity:
        state.values[node.output[0]] = Activation(x.ref, out, "cf")
    elif sources == identity:
        state.values[node.output[0]] = Activation(x.ref, out, "nat", *batch)
    else:
        state.output(node, "permute", {"dims": sources}, [x], "nat", batch=batch)


def concat(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Concat on ``axis``: computed inputs in the first one's layout; a constant input (a class token) a ``param``."""
    computed = [name for name in node.input if name in state.values]
    if not computed:
        raise state.error(node, "every input is a constant")
    first = state.activation(node, computed[0])
    operands: list[Activation | str] = []
    for name in node.input:
        if name in state.values:
            operand = state.to_layout(node, state.activation(node, name), first.layout)
            if operand.where_batch != first.where_batch:
                raise state.error(node, f"input {name!r} has its batch axis elsewhere than {computed[0]!r}")
            operands.append(operand)
        else:
            dims = state.weight_dims(node, name)
            if len(dims) != len(first.shape):
                raise state.error(node, f"constant {name!r} has {len(dims)} axes, the tensors {len(first.shape)}")
            operands.append(state.param(node, name, logical_shape(replace(first, shape=dims))))
    axis = logical_axis(first, int(attrs["axis"]), where(node))
    state.output(node, "concat", {"dim": axis}, operands, first.layout)


def split(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Split on ``axis`` (sizes an attribute before opset 13, an input since, or ``num_outputs`` since 18): the
    pieces' sizes as shape inference gives them; output k is ``name[k]``."""
    x = state.activation(node, node.input[0])
    axis = int(attrs.get("axis", 0))
    dim = logical_axis(x, axis, where(node))
    shapes = [state.onnx_shape(node, out, x.batch) for out in node.output]
    sizes = [int(shape[axis]) for shape in shapes]
    name = state.emit(node, "split", {"sizes": sizes, "dim": dim}, [x.ref])
    for k, (out, shape) in enumerate(zip(node.output, shapes)):
        value = replace(x, ref=f"{name}[{k}]" if len(shapes) > 1 else name, shape=shape)
        state.values[out] = value
        if k == 0:
            state.expected[name] = (node.name, logical_shape(value))


def slice_(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Slice (starts, ends, axes, steps inputs; attributes before opset 10): one ``slice`` layer per axis, indices
    as Python's (an end beyond the axis runs to its end)."""
    x = state.activation(node, node.input[0])
    if "starts" in attrs:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = state.ints(node, node.input[1]), state.ints(node, node.input[2])
        axes = state.ints(node, node.input[3]) if has_input(node, 3) else list(range(len(starts)))
        steps = state.ints(node, node.input[4]) if has_input(node, 4) else [1] * len(starts)
    pieces = []
    for axis, start, end, step in zip(axes, starts, ends, steps):
        length = x.shape[axis]
        if axis % len(x.shape) == x.batch and not x.merged:
            if (start, step) == (0, 1) and (isinstance(length, str) or end >= int(length)):
                continue  # the whole batch
            raise state.error(node, "slices the batch axis")
        args: dict[str, Any] = {"dim": logical_axis(x, axis, where(node))}
        if start != (0 if step > 0 else -1):
            args["start"] = max(min(start, INT_MAX), -INT_MAX)
        if -INT_MAX < end < INT_MAX:
            args["stop"] = end
        if step != 1:
            args["step"] = step
        pieces.append(args)
    if not pieces:
        state.alias(node, x)
        return
    current = x.ref
    for k, args in enumerate(pieces[:-1]):
        current = state.emit(node, "slice", args, [current], f"slice_{k}")
    state.output(node, "slice", pieces[-1], [current], x.layout)


PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Pad: ``pads`` [x1_begin, x2_begin, ..., x1_end, x2_end] (an attribute before opset 11, an input since), for
    every axis or for ``axes`` (opset 18); mode constant (``constant_value``), reflect, edge, wrap."""
    x = state.activation(node, node.input[0])
    pads = [int(v) for v in attrs["pads"]] if "pads" in attrs else state.ints(node, node.input[1])
    axes = axes_of(state, node, {}, 3) or list(range(len(x.shape)))
    mode = attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in PAD_MODES:
        raise state.error(node, f"mode {mode!r} has no convcalc op")
    n = len(axes)
    dims, pairs = [], []
    for axis, begin, end in zip(axes, pads[:n], pads[n:]):
        if begin or end:
            if min(begin, end) < 0:
                raise state.error(node, "negative pads (cropping) have no convcalc op here")
            dims.append(logical_axis(x, axis, where(node)))
            pairs.append([begin, end])
    if not dims:
        state.alias(node, x)
        return
    args: dict[str, Any] = {"p": pairs, "dims": dims, "mode": PAD_MODES[mode]}
    value = attrs.get("value")
    if mode == "constant" and has_input(node, 2):
        value = float(state.constant(node, node.input[2]).reshape(-1)[0])
    if mode == "constant" and value:
        args["value"] = float(value)
    state.output(node, "pad", args, [x], x.layout)


RESIZE_MODES = {"nearest": "nearest", "linear": ("linear", "bilinear", "trilinear"), "cubic": "bicubic"}


def resize(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Resize (opset 11+: roi, scales or sizes inputs), Upsample: ``interpolate`` to the grid size shape inference
    gives; modes nearest, linear (bi-, trilinear by the grid's rank), cubic (bicubic); align_corners kept."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    out = state.onnx_shape(node, node.output[0])
    if out[1] != x.shape[1]:
        raise state.error(node, "resizes the channels; convcalc resamples the grid only")
    mode = attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    spatial = len(x.shape) - 2
    kinds = RESIZE_MODES.get(mode)
    if kinds is None or (mode == "cubic" and spatial != 2) or (mode == "linear" and spatial > 3):
        raise state.error(node, f"mode {mode!r} on a {spatial}-D grid has no convcalc op")
    args: dict[str, Any] = {"size": [int(v) for v in out[2:]],
                            "mode": kinds[spatial - 1] if isinstance(kinds, tuple) else kinds}  # fmt: skip
    transform = attrs.get("coordinate_transformation_mode", b"")
    if mode != "nearest" and transform in (b"align_corners", "align_corners"):
        args["align_corners"] = True
    state.output(node, "interpolate", args, [x], "cf")


def gather(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Gather of one index or a run of indices on an axis of a computed tensor (ViT's ``x[:, 0]``): a ``slice``
    (and a ``reshape`` that drops the axis for a single index); a list of positions in any other order (a
    permutation, ``x[:, :, perm]``): an ``index_select``."""
    x = state.activation(node, node.input[0])
    indices = state.constant(node, node.input[1])
    axis = int(attrs.get("axis", 0))
    size = int(x.shape[axis])
    flat = [int(v) % size for v in indices.reshape(-1).tolist()]
    run = bool(flat) and flat == list(range(flat[0], flat[0] + len(flat)))
    if indices.ndim == 1 and flat and not run:
        state.output(node, "index_select", {"index": flat, "dim": logical_axis(x, axis, where(node))}, [x], x.layout)
        return
    if not run:
        raise state.error(node, "gathers indices of several dims that are not one run of increasing positions")
    dim = logical_axis(x, axis, where(node))
    args = {"dim": dim, "start": flat[0], "stop": flat[-1] + 1}
    if indices.ndim == 1:
        state.output(node, "slice", args, [x], x.layout)
        return
    axis %= len(x.shape)
    batch = (x.batch + indices.ndim - 1 if axis < x.batch else x.batch, x.merged)
    out = state.onnx_shape(node, node.output[0], batch[0])
    piece = state.emit(node, "slice", args, [x.ref], "slice")
    layout: Layout = x.layout if x.layout == "nat" or axis >= 2 else "nat"
    target = logical_shape(Activation("", out, layout, *batch))
    if layout != x.layout:
        raise state.error(node, "drops the channel axis of a channels-first tensor")
    state.output(node, "reshape", {"shape": list(target) or [1]}, [piece], layout, batch=batch)


def expand(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    x = state.activation(node, node.input[0])
    out = state.onnx_shape(node, node.output[0], x.batch)
    if len(out) != len(x.shape):
        raise state.error(node, "adds axes before the batch axis")
    target = replace(x, shape=out)
    if logical_shape(target) == logical_shape(x):
        state.alias(node, x)
        return
    state.output(node, "expand", {"shape": list(logical_shape(target))}, [x], x.layout)


def depth_to_space(op: str) -> OnnxOp:
    """DepthToSpace, SpaceToDepth: ``pixel_shuffle`` / ``pixel_unshuffle`` by ``blocksize`` (the same shapes and
    counts in DCR and CRD order)."""

    def handler(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
        x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
        state.output(node, op, {"r": int(attrs["blocksize"])}, [x], "cf")

    return handler


def channel_shuffle(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """The Reshape, Transpose, Reshape of a channel shuffle (:func:`~convcalc.frontends.onnx_patterns.fuse_channel_shuffle`)."""
    x = state.to_layout(node, state.activation(node, node.input[0]), "cf")
    state.output(node, "channel_shuffle", {"groups": int(attrs["groups"])}, [x], "cf")


REDUCTIONS = {"ReduceMean": ("mean", {}), "ReduceSum": ("sum", {}), "ReduceMax": ("amax", {}),
              "ReduceMin": ("amin", {}), "ReduceL2": ("norm", {}), "ReduceL1": ("norm", {"p": 1.0})}  # fmt: skip


def reduce(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Reduce* over ``axes`` (an attribute before opset 18, ReduceSum's before 13; an input since), ``keepdims``
    (default 1). Without axes every axis, the batch too: refused unless noop_with_empty_axes."""
    op, extra = REDUCTIONS[node.op_type]
    x = state.activation(node, node.input[0])
    axes = axes_of(state, node, attrs, 1)
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            state.alias(node, x)
            return
        raise state.error(node, "reduces every axis, the batch too")
    keep = bool(attrs.get("keepdims", 1))
    dims = sorted({logical_axis(x, a, where(node)) for a in axes})
    layout: Layout = x.layout
    if not keep and x.layout == "cf" and len(x.shape) > 2:
        layout = "nat" if 1 in [a % len(x.shape) for a in axes] else "cf"
    batch = x.batch if keep else x.batch - sum(a % len(x.shape) < x.batch for a in axes)
    state.output(node, op, {"dims": dims, "keepdim": keep} | extra, [x], layout, batch=(batch, x.merged))


def identity(state: GraphState, node: Any, attrs: dict[str, Any]) -> None:
    """Identity, Dropout (inference), Cast of a computed tensor: the input itself, no layer."""
    if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
        raise state.error(node, "its mask output has no convcalc op")
    state.alias(node, state.activation(node, node.input[0]))


ONNX_OPS.update({
    "Reshape": reshape, "Flatten": reshape, "Squeeze": squeeze, "Unsqueeze": squeeze, "Transpose": transpose,
    "Concat": concat, "Split": split, "Slice": slice_, "Pad": pad, "Resize": resize, "Upsample": resize,
    "Gather": gather, "Expand": expand, "DepthToSpace": depth_to_space("pixel_shuffle"),
    "SpaceToDepth": depth_to_space("pixel_unshuffle"), "ChannelShuffle": channel_shuffle, **dict.fromkeys(REDUCTIONS, reduce),
    **dict.fromkeys(("Identity", "Dropout", "Cast"), identity),
})  # fmt: skip
