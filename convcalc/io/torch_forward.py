"""What the exported ``forward`` writes for ops without a module (``FORWARD_CODE``: merges, pointwise math, reductions,
linear algebra and attention, layout ops on the channels-last view) and for modules called in their own way
(``CALL_CODE``: mha, flatten, unflatten)."""

from __future__ import annotations

from collections.abc import Callable

from convcalc.graph.analysis import Row
from convcalc.io.torch_modules import _flatten_wrapped, torch_dim
from convcalc.io.torch_names import literal
from convcalc.ops.catalogue import UNARY
from convcalc.ops.handlers import LETTERS, parse_einsum, reduced_axes


def reduction_code(step: Row, inputs: list[str]) -> str:
    """``x.mean(dim=..., keepdim=...)`` and the like on PyTorch's dims; when the channel axis goes, PyTorch's last
    axis is convcalc's new channel axis: moved to dim 1."""
    args, shape, kind = step.node.args, step.input_shapes[0], step.node.op
    axes = reduced_axes(args["dims"], len(shape))
    dims = tuple(sorted(torch_dim(axis, len(shape)) for axis in axes))
    keep = args.get("keepdim", False)
    where = f"dim={literal(dims[0] if len(dims) == 1 else dims)}, keepdim={keep}"
    if kind == "norm":
        p = args.get("p", 2.0)
        order = literal(float(p) if isinstance(p, str) else p)
        code = f"torch.linalg.vector_norm({inputs[0]}, ord={order}, {where})"
    elif kind == "var":
        code = f"{inputs[0]}.var({where}, correction={literal(args.get('correction', 1))})"
    else:
        code = f"{inputs[0]}.{kind}({where})"
    if not keep and len(shape) - 1 in axes and len(step.result.output_shape) > 1:
        code += ".movedim(-1, 1)"
    return code


def concat_code(step: Row, inputs: list[str]) -> str:
    rank = len(step.input_shapes[0])
    return f"torch.cat([{', '.join(inputs)}], dim={torch_dim(step.node.args.get('dim', -1) % rank, rank)})"


def stack_code(step: Row, inputs: list[str]) -> str:
    """torch.stack on the new axis; a new last axis (after the channels) is dim 1, the channels then moved last."""
    rank = len(step.input_shapes[0]) + 1
    axis = step.node.args["dim"] % rank
    if axis == rank - 1:
        return f"torch.stack([{', '.join(inputs)}], dim=1).movedim(2, -1)"
    return f"torch.stack([{', '.join(inputs)}], dim={torch_dim(axis, rank)})"


def split_code(step: Row, inputs: list[str]) -> str:
    """torch.split with every piece's size as convcalc worked them out: a tuple, output k is ``name[k]``."""
    shape = step.input_shapes[0]
    axis = step.node.args.get("dim", -1) % len(shape)
    sizes = [piece[axis] for piece in step.result.shapes]
    return f"torch.split({inputs[0]}, {literal(sizes)}, dim={torch_dim(axis, len(shape))})"


def chunk_code(step: Row, inputs: list[str]) -> str:
    rank, chunks = len(step.input_shapes[0]), step.node.args["chunks"]
    return f"torch.chunk({inputs[0]}, {literal(chunks)}, dim={torch_dim(step.node.args.get('dim', -1) % rank, rank)})"


def merge_expression(step: Row, inputs: list[str]) -> str:
    """Ops written in ``forward`` itself: sums, products, concatenation, cropping by slicing."""
    return FORWARD_CODE[step.node.op](step, inputs)


def crop_code(step: Row, inputs: list[str]) -> str:
    slices = ", ".join(f"{lo}:{lo + out}" for (lo, _), out in zip(step.result.pads, step.result.output_shape[:-1]))
    return f"{inputs[0]}[:, :, {slices}]"


# -- pointwise math and learnable tensors (issue 11) ------------------------------------------------------------
BINARY_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def binary_code(step: Row, inputs: list[str]) -> str:
    """``a + b`` (``-``, ``*``, ``/``), then the constant (first with ``reverse``). convcalc broadcasts the
    batch-free, channels-last shapes from the last axis; in the channels-first module an input with fewer axes gets
    its missing leading axes as size-1 axes after the channels (``g[:, :, None, None]``), so PyTorch broadcasts the
    same axes."""
    rank = len(step.result.output_shape)
    operands = [
        name if len(shape) == rank else f"{name}[:, :{', None' * (rank - len(shape))}]"
        for name, shape in zip(inputs, step.input_shapes)
    ]
    args = step.node.args
    if "value" in args:
        operands.insert(0 if args.get("reverse") else len(operands), literal(args["value"]))
    return f" {BINARY_SYMBOLS[step.node.op]} ".join(operands)


def unary_code(step: Row, inputs: list[str]) -> str:
    """``torch.exp(a)`` and the like; ``torch.pow(a, exponent)``, ``torch.clamp(a, min=..., max=...)``."""
    op, args = step.node.op, step.node.args
    extra = {"pow": lambda: f", {literal(args['exponent'])}",
             "clamp": lambda: "".join(f", {key}={literal(args[key])}" for key in ("min", "max") if key in args)}  # fmt: skip
    return f"torch.{op}({inputs[0]}{extra[op]() if op in extra else ''})"


def param_expression(step: Row, parameter: str, network_input: str) -> str:
    """The param as every other tensor of ``forward``: channels first (``movedim(-1, 0)``) and the batch of the
    input (``expand``: a view, no copy), so that add, mul, concat, ... take it as they take a layer's output."""
    rank = len(step.result.output_shape)
    moved = f"{parameter}.movedim(-1, 0)" if rank > 1 else parameter
    return f"{moved}.expand({network_input}.shape[0], {', '.join(['-1'] * rank)})"


def interpolate_code(step: Row, inputs: list[str]) -> str:
    """``torch.nn.functional.interpolate`` with the spec's size, or its scale one per axis (PyTorch then maps
    positions with 1/scale, as the spec means), its mode and align_corners."""
    args, rank = step.node.args, len(step.input_shapes[0]) - 1
    if "size" in args:
        where = f"size={literal(tuple(step.result.output_shape[:-1]))}"
    else:
        scale = args["scale"]
        scales = tuple(float(v) for v in scale) if isinstance(scale, list) else (float(scale),) * rank
        where = f"scale_factor={literal(scales)}"
    extra = "".join(f", {key}={literal(args[key])}" for key in ("align_corners",) if key in args)
    return f"torch.nn.functional.interpolate({inputs[0]}, {where}, mode={literal(args.get('mode', 'nearest'))}{extra})"


def constant_code(step: Row, inputs: list[str]) -> str:
    """A constant computed in forward (``buffer: false``): zeros of its shape, channels first, on the input's device,
    with the input's batch (``x``, forward's argument)."""
    shape = step.result.output_shape
    channels_first = (shape[-1], *shape[:-1]) if len(shape) > 1 else tuple(shape)
    sizes = ", ".join(map(str, channels_first))
    return f"torch.zeros({sizes}, device=x.device).expand(x.shape[0], {', '.join(['-1'] * len(shape))})"


FORWARD_CODE: dict[str, Callable[[Row, list[str]], str]] = {  # op -> its expression in ``forward`` (no module)
    "constant": constant_code,
    "concat": concat_code,
    "crop": crop_code,
    "interpolate": interpolate_code,
    **dict.fromkeys(BINARY_SYMBOLS, lambda step, inputs: binary_code(step, inputs)),
    **dict.fromkeys((name for name, *_ in UNARY), lambda step, inputs: unary_code(step, inputs)),
    "stack": stack_code,
    "split": split_code,
    "chunk": chunk_code,
    **dict.fromkeys(("mean", "sum", "amax", "amin", "var", "norm"), reduction_code),
    "matmul": lambda step, inputs: matmul_code(step, inputs),
    "einsum": lambda step, inputs: einsum_code(step, inputs),
    "attention": lambda step, inputs: attention_code(step, inputs),
}


# -- linear algebra and attention (issue 11) ---------------------------------------------------------------------
# The forward's tensors are channels first; these ops work channels last (as convcalc's axes): each input is moved
# (``movedim(1, -1)``), given its missing leading axes as size-1 axes after the batch (convcalc broadcasts the
# batch-free shapes), and the result moved back.


def channels_last_operand(name: str, shape: tuple[int, ...], rank: int) -> str:
    moved = f"{name}.movedim(1, -1)" if len(shape) > 1 else name
    missing = rank - len(shape)
    return f"{moved}[:{', None' * missing}]" if missing > 0 else moved


def channels_first_result(code: str, rank: int) -> str:
    return f"{code}.movedim(-1, 1)" if rank > 1 else code


def matmul_code(step: Row, inputs: list[str]) -> str:
    rank = len(step.result.output_shape)
    a, b = (channels_last_operand(name, shape, rank) for name, shape in zip(inputs, step.input_shapes))
    return channels_first_result(f"torch.matmul({a}, {b})", rank)


def einsum_code(step: Row, inputs: list[str]) -> str:
    """torch.einsum with a batch letter in front of every operand (one PyTorch does not use in the equation)."""
    operands, out, _ = parse_einsum(step.node.args["equation"], list(step.input_shapes))
    batch = next(letter for letter in "ZYXWVUTSRQPONMLKJIHGFEDCBA" + LETTERS if letter not in "".join(operands) + out)
    equation = ",".join(batch + word for word in operands) + "->" + batch + out
    moved = ", ".join(channels_last_operand(name, shape, len(shape)) for name, shape in zip(inputs, step.input_shapes))
    return channels_first_result(f"torch.einsum({literal(equation)}, {moved})", len(out))


def attention_code(step: Row, inputs: list[str]) -> str:
    """F.scaled_dot_product_attention on (N, ..., L, E); ``heads`` split from the features before, joined after."""
    args, shapes = step.node.args, step.input_shapes
    rank = len(step.result.output_shape)
    q, k, v = (channels_last_operand(name, shape, rank) for name, shape in zip(inputs[:3], shapes[:3]))
    if "heads" in args:
        q, k, v = (f"{x}.unflatten(-1, ({args['heads']}, -1)).transpose(-3, -2)" for x in (q, k, v))
    keywords = ""
    if len(inputs) == 4:
        keywords += f", attn_mask={channels_last_operand(inputs[3], shapes[3], rank + ('heads' in args))}"
    if args.get("causal"):
        keywords += ", is_causal=True"
    if "scale" in args:
        keywords += f", scale={literal(args['scale'])}"
    code = f"nn.functional.scaled_dot_product_attention({q}, {k}, {v}{keywords})"
    if "heads" in args:
        code += ".transpose(-3, -2).flatten(-2)"
    return channels_first_result(code, rank)


def mha_call(step: Row, module: str, inputs: list[str]) -> str:
    """The module on (N, L, E) tensors, its output without the attention weights (``need_weights=False``, as
    torchvision's ViT calls it); self-attention passes one tensor three times (PyTorch's packed projection)."""
    moved = [channels_last_operand(name, shape, 2) for name, shape in zip(inputs, step.input_shapes)]
    operands = f"*[{moved[0]}] * 3" if len(moved) == 1 else f"{moved[0]}, *[{moved[1]}] * 2" if len(moved) == 2 else ", ".join(moved)
    return channels_first_result(f"{module}({operands}, need_weights=False)[0]", 2)


CALL_CODE: dict[str, Callable[[Row, str, list[str]], str]] = {"mha": mha_call}  # modules called in their own way


# -- layout ops (issue 11) ---------------------------------------------------------------------------------------
# convcalc's axes are channels last; the module's tensors channels first. Ops that move or regroup axes are written
# on the channels-last view (``movedim(1, -1)``, batch first: logical axis a is its dim a + 1) and moved back;
# slicing, rolling, padding and the shuffles use PyTorch's own dims (``torch_dim``).


def _channels_last(step: Row, inputs: list[str]) -> str:
    return channels_last_operand(inputs[0], step.input_shapes[0], len(step.input_shapes[0]))


def flatten_call(step: Row, module: str, inputs: list[str]) -> str:
    if not _flatten_wrapped(step):
        return f"{module}({inputs[0]})"
    return channels_first_result(f"{module}({_channels_last(step, inputs)})", len(step.result.output_shape))


def permute_code(step: Row, inputs: list[str]) -> str:
    from convcalc.ops.handlers.layout import permutation

    n = len(step.input_shapes[0])
    perm = permutation(step.node.op, step.node.args, n)
    if perm == list(range(n)):
        return inputs[0]
    return channels_first_result(f"{_channels_last(step, inputs)}.permute(0, {', '.join(str(a + 1) for a in perm)})", n)


def reshape_code(step: Row, inputs: list[str]) -> str:
    """reshape, squeeze, unsqueeze: the channels-last view reshaped to the output's shape (batch first)."""
    out = step.result.output_shape
    return channels_first_result(f"{_channels_last(step, inputs)}.reshape({inputs[0]}.shape[0], {', '.join(map(str, out))})", len(out))


def expand_code(step: Row, inputs: list[str]) -> str:
    shape, out = step.input_shapes[0], step.result.output_shape
    ones = (1,) * (len(out) - len(shape)) + tuple(shape)
    code = f"{_channels_last(step, inputs)}.reshape({inputs[0]}.shape[0], {', '.join(map(str, ones))}).expand(-1, {', '.join(map(str, out))})"
    return channels_first_result(code, len(out))


def slice_code(step: Row, inputs: list[str]) -> str:
    from convcalc.ops.handlers.layout import slice_range

    shape, args = step.input_shapes[0], step.node.args
    axis = args.get("dim", -1) % len(shape)
    start, stop, stride = slice_range(args, shape[axis])
    return f"{inputs[0]}[{':, ' * torch_dim(axis, len(shape))}{start}:{stop}:{stride}]"


def roll_code(step: Row, inputs: list[str]) -> str:
    from convcalc.ops.handlers.layout import roll_shifts

    shape = step.input_shapes[0]
    pairs = roll_shifts(step.node.args, shape)
    if pairs[0][0] is None:  # the flattened (batch-free, channels-last) tensor
        code = f"{_channels_last(step, inputs)}.flatten(1).roll({pairs[0][1]}, 1).reshape({inputs[0]}.shape[0], {', '.join(map(str, shape))})"
        return channels_first_result(code, len(shape))
    shifts = tuple(shift for _, shift in pairs)
    dims = tuple(torch_dim(axis, len(shape)) for axis, _ in pairs)  # type: ignore[arg-type]
    return f"torch.roll({inputs[0]}, shifts={literal(shifts)}, dims={literal(dims)})"


def index_select_code(step: Row, inputs: list[str]) -> str:
    """``x[:, :, [2, 0, 1]]``: a list index on PyTorch's dim (advanced indexing: index_select, on any device)."""
    from convcalc.ops.handlers.layout import selected_positions

    shape = step.input_shapes[0]
    axis, positions = selected_positions(step.node.args, shape)
    return f"{inputs[0]}[{':, ' * torch_dim(axis, len(shape))}{literal(positions)}]"


FORWARD_CODE |= {
    **dict.fromkeys(("permute", "transpose", "movedim"), permute_code),
    **dict.fromkeys(("reshape", "squeeze", "unsqueeze"), reshape_code),
    "expand": expand_code,
    "slice": slice_code,
    "roll": roll_code,
    "index_select": index_select_code,
}


CALL_CODE |= {"flatten": flatten_call, "unflatten": flatten_call}
