"""Linear algebra and attention: softmax, matmul, einsum, attention, mha, as products of einsum letters over
convcalc's logical axes, with the field each operand gives the output."""

from __future__ import annotations

from math import prod
from typing import Any

from convcalc.core.notation import Shape, format_shape
from convcalc.errors import InputError, ShapeError
from convcalc.ops.handlers.results import FieldKind, OpResult, logical_axis, mixing, one_input, pointwise


def op_softmax(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """softmax and logsoftmax over the logical axis ``dim`` (default -1): pointwise over the channels; over a grid
    axis every output reads that whole axis (the whole input with one grid axis, else unknown)."""
    shape = one_input(shapes)
    axis = logical_axis(args.get("dim", -1), len(shape))
    if axis == len(shape) - 1:
        return pointwise(shape, 3)
    return mixing(shape, shape, {axis}, "softmax", flops=3 * prod(shape))


# -- linear algebra and attention (issue 11): matmul, einsum, attention, mha -----------------------------------------
# Every product is written as einsum letters over convcalc's logical axes (batch left out, channels last): MACs are
# the sizes of the output's and the contracted letters multiplied, as PyTorch's FlopCounterMode counts the bmm it
# runs; fields come from where each operand's grid letters go (operand_field).


def operand_field(op: str, which: str, letters: str, shape: Shape, out_letters: str, out_shape: Shape) -> str:
    """How the output's positions read one operand: "window" when its grid letters are the output's, axis for axis
    and size for size (matmul's first operand, attention's queries); "global" when none of them is a grid letter of
    the output (they are summed, or become the output's channels: every output reads all of its positions); else
    the reason the field is unknown."""
    grid, out_grid = letters[:-1], out_letters[:-1]
    if not out_grid or not any(letter in out_grid for letter in grid):
        return "global"
    sizes = dict(zip(out_letters, out_shape))
    if grid == out_grid and all(n == sizes[letter] for letter, n in zip(grid, shape)):
        return "window"
    return f"{op} maps the grid axes of its {which} to other output axes (or broadcasts them): no one window describes the field"


def settled(operands: tuple[str, ...]) -> FieldKind:
    """The field kind of an op from its operands' (before the analysis leaves out inputs that see nothing)."""
    if any(kind not in ("window", "global") for kind in operands):
        return "unknown"
    return "global" if "global" in operands else "merge"


def _note(operands: tuple[str, ...]) -> str:
    return next((kind for kind in operands if kind not in ("window", "global")), "")


def product_result(op: str, letters: list[str], shapes: list[Shape], out_letters: str, out_shape: Shape,
                   macs: int, flops: int, names: tuple[str, ...], **counts: int) -> OpResult:  # fmt: skip
    operands = tuple(
        operand_field(op, name, word, shape, out_letters, out_shape) for name, word, shape in zip(names, letters, shapes)
    )
    kind = settled(operands)
    return OpResult(output_shape=out_shape, macs=macs, flops=flops, field=kind, field_note=_note(operands),
                    operand_fields=operands, **counts)  # fmt: skip


def broadcast_axes(op: str, shapes: list[Shape], what: str) -> Shape:
    """PyTorch's broadcasting of leading (batch) axes, right-aligned: equal sizes or 1."""
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in shapes]
    out = tuple(max(sizes) for sizes in zip(*padded))
    if any(n not in (1, biggest) for shape in padded for n, biggest in zip(shape, out)):
        listed = ", ".join(f"({', '.join(map(str, shape))})" for shape in shapes)
        raise ShapeError(f"{op}: the {what} do not broadcast (equal sizes or 1, aligned from the right): {listed}", "from")
    return out


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def batch_letters(shape: Shape, rank: int) -> str:
    """Letters for the leading axes of ``shape`` among ``rank`` broadcast leading axes (right-aligned)."""
    return LETTERS[rank - len(shape) : rank] if len(shape) else ""


def op_matmul(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.matmul per sample: (..., n, k) x (..., k, m) -> (..., n, m), the leading axes broadcast. Both operands
    need two axes (a vector times a matrix is a ``linear``). MACs: output elements x k (FlopCounterMode's bmm)."""
    if len(shapes) != 2:
        raise InputError(f"matmul takes two inputs (from: [a, b]), got {len(shapes)}", "from")
    a, b = shapes
    if len(a) < 2 or len(b) < 2:
        raise ShapeError(f"matmul needs two axes or more per operand, got {format_shape(a)} and {format_shape(b)} "
                         "(a vector of features times a weight matrix is a linear)", "from")  # fmt: skip
    if a[-1] != b[-2]:
        raise ShapeError(f"matmul needs the first operand's last axis to match the second's axis -2, got "
                         f"{format_shape(a)} and {format_shape(b)} ({a[-1]} != {b[-2]})", "from")  # fmt: skip
    batch = broadcast_axes("matmul", [a[:-2], b[:-2]], "leading axes")
    out = batch + (a[-2], b[-1])
    macs = prod(out) * a[-1]
    lead = len(batch)
    letters = [batch_letters(a[:-2], lead) + "NK", batch_letters(b[:-2], lead) + "KM"]
    return product_result("matmul", letters, [a, b], LETTERS[:lead] + "NM", out, macs, 2 * macs,
                          ("first operand", "second operand"))  # fmt: skip


def parse_einsum(equation: str, shapes: list[Shape]) -> tuple[list[str], str, dict[str, int]]:
    """The operands' letters, the output's letters and every letter's size, refusing what PyTorch refuses and what
    convcalc does not support: not two operands, an ellipsis, a letter twice in one operand (a diagonal), no output
    letters (one number per sample is no convcalc tensor)."""
    text = equation.replace(" ", "")
    if "." in text:
        raise ShapeError("einsum: an ellipsis (...) is not supported; write every axis out with a letter", "equation")
    left, arrow, right = text.partition("->")
    operands = left.split(",")
    if len(operands) != 2 or len(shapes) != 2:
        raise InputError(f"einsum supports two operands, got {len(operands)} in {equation!r} and {len(shapes)} inputs", "equation")
    bad = next((char for char in text.replace("->", "").replace(",", "") if not char.isascii() or not char.isalpha()), None)
    if bad is not None:
        raise ShapeError(f"einsum: subscripts are letters a-z, A-Z, got {bad!r} in {equation!r}", "equation")
    for k, (word, shape) in enumerate(zip(operands, shapes)):
        if len(word) != len(shape):
            raise ShapeError(f"einsum: operand {k} has {len(word)} subscripts ({word!r}) but {len(shape)} axes "
                             f"({format_shape(shape)})", "equation")  # fmt: skip
        if len(set(word)) != len(word):
            raise ShapeError(f"einsum: a letter twice in operand {k} ({word!r}, a diagonal) is not supported", "equation")
    if not arrow:  # implicit output: the letters that appear once, sorted (upper case first), as PyTorch does
        right = "".join(sorted(letter for letter in set(left) - {","} if left.count(letter) == 1))
    if len(set(right)) != len(right):
        raise ShapeError(f"einsum: an output letter appears more than once in {right!r}", "equation")
    missing = [letter for letter in right if letter not in left]
    if missing:
        raise ShapeError(f"einsum: output letter {missing[0]!r} appears in no operand", "equation")
    if not right:
        raise ShapeError("einsum without output letters gives one number per sample, which is no convcalc tensor",
                         "equation")  # fmt: skip
    sizes: dict[str, int] = {}
    for k, (word, shape) in enumerate(zip(operands, shapes)):
        for letter, n in zip(word, shape):
            seen = sizes.get(letter, n)
            if n != seen and 1 not in (n, seen):
                raise ShapeError(f"einsum: letter {letter!r} has size {n} in operand {k} but {seen} before (sizes must "
                                 "be equal or 1)", "equation")  # fmt: skip
            sizes[letter] = max(seen, n)
    return operands, right, sizes


def op_einsum(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """torch.einsum of two operands over convcalc's logical axes. As PyTorch runs it: letters found in one operand
    only (or of size 1 in one, larger in the other) and not in the output are summed first, letters of size 1 in
    both dropped; the remaining contracted letters make one bmm, output elements x their sizes MACs; without any,
    the operands are multiplied (0 MACs)."""
    operands, out_letters, sizes = parse_einsum(args["equation"], shapes)
    a, b = operands
    own = dict(zip(a, shapes[0])), dict(zip(b, shapes[1]))
    contracted = [l for l in a if l in b and l not in out_letters and own[0][l] == own[1][l] > 1]  # noqa: E741
    out = tuple(sizes[letter] for letter in out_letters)
    summed = sum(prod(shape) - prod(n for l, n in zip(word, shape) if l in out_letters or l in contracted)  # noqa: E741
                 for word, shape in zip(operands, shapes))  # fmt: skip
    macs = prod(out) * prod(sizes[letter] for letter in contracted) if contracted else 0
    flops = (2 * macs if contracted else prod(out)) + summed
    return product_result("einsum", operands, shapes, out_letters, out, macs, flops, ("operand 0", "operand 1"))


def _attention_inputs(op: str, shapes: list[Shape]) -> None:
    if any(len(shape) < 2 for shape in shapes):
        raise ShapeError(f"{op} needs (positions, features) or more axes per input, got "
                         + ", ".join(map(format_shape, shapes)), "from")  # fmt: skip


def op_attention(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """F.scaled_dot_product_attention per sample: q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev), the
    leading axes broadcast; ``heads`` splits E and Ev into heads first (as nn.MultiheadAttention does) and joins
    them after. A fourth input is an additive mask broadcast to the scores (..., [heads,] L, S). MACs: L x S x
    (E + Ev) per leading index, whatever the heads (q.kT and attention.v, h x L x S x d each)."""
    if len(shapes) not in (3, 4):
        raise InputError(f"attention takes q, k, v (and a mask): from: [q, k, v], got {len(shapes)} inputs", "from")
    _attention_inputs("attention", shapes[:3])
    q, k, v = shapes[:3]
    if q[-1] != k[-1]:
        raise ShapeError(f"attention needs q and k with the same features, got {format_shape(q)} and {format_shape(k)}", "from")
    if k[-2] != v[-2]:
        raise ShapeError(f"attention needs k and v with the same positions, got {format_shape(k)} and {format_shape(v)}", "from")
    heads = args.get("heads", 1)
    for name, shape in (("q", q), ("v", v)):
        if shape[-1] % heads:
            raise ShapeError(f"{heads} heads do not divide {name}'s {shape[-1]} features", "heads")
    batch = broadcast_axes("attention", [q[:-2], k[:-2], v[:-2]], "leading axes of q, k and v")
    length, keys = q[-2], k[-2]
    out = batch + (length, v[-1])
    scores = batch + ((heads,) if "heads" in args else ()) + (length, keys)
    letters = [batch_letters(s[:-2], len(batch)) + word for s, word in ((q, "LE"), (k, "SE"), (v, "SV"))]
    names = ("queries", "keys", "values")
    if len(shapes) == 4:
        mask = shapes[3]
        if args.get("causal"):
            raise InputError("attention takes a mask or causal: true, not both (PyTorch refuses both)", "causal")
        padded = (1,) * (len(scores) - len(mask)) + tuple(mask)
        if len(mask) > len(scores) or any(n not in (1, size) for n, size in zip(padded, scores)):
            raise ShapeError(f"attention's mask {format_shape(mask)} does not broadcast to the scores "
                             f"{format_shape(scores)}", "from")  # fmt: skip
        grid = LETTERS[: len(scores) - 2] + "LS"
        letters.append(grid[len(grid) - len(mask) :])
        names += ("mask",)
    macs = prod(batch) * length * keys * (q[-1] + v[-1])
    flops = 2 * macs + (4 + (len(shapes) == 4)) * prod(scores)
    return product_result("attention", letters, list(shapes), LETTERS[: len(batch)] + "LV", out, macs, flops, names)


def op_mha(args: dict[str, Any], shapes: list[Shape]) -> OpResult:
    """nn.MultiheadAttention (batch_first): self-attention of one input, or ``from: [q, kv]`` or ``[q, k, v]``;
    each of shape (L, features). Params as PyTorch counts them: in_proj_weight 3E x E when kdim = vdim = E (else
    q, k, v weights E x E, E x kdim, E x vdim), in_proj_bias 3E, out_proj E x E + E, bias_k and bias_v E each."""
    if len(shapes) not in (1, 2, 3):
        raise InputError(f"mha takes one input (self-attention), [q, kv] or [q, k, v], got {len(shapes)}", "from")
    q, k, v = (shapes * 3)[:3] if len(shapes) == 1 else (shapes[0], shapes[1], shapes[-1])
    if any(len(shape) != 2 for shape in (q, k, v)):
        raise ShapeError("mha takes sequences (positions, features) like nn.MultiheadAttention's batched 3-D input, "
                         "got " + ", ".join(map(format_shape, shapes)), "from")  # fmt: skip
    embed = q[-1]
    if args.get("embed_dim", embed) != embed:
        raise ShapeError(f"embed_dim {args['embed_dim']} is not the query's {embed} features", "embed_dim")
    heads = args["heads"]
    if embed % heads:
        raise ShapeError(f"embed_dim {embed} must be divisible by heads ({heads})", "heads")
    kdim, vdim = args.get("kdim", embed), args.get("vdim", embed)
    for name, shape, size in (("key", k, kdim), ("value", v, vdim)):
        if shape[-1] != size:
            raise ShapeError(f"the {name} has {shape[-1]} features, mha expects {'kdim' if name == 'key' else 'vdim'} "
                             f"{size}", "kdim" if name == "key" else "vdim")  # fmt: skip
    if k[0] != v[0]:
        raise ShapeError(f"mha needs key and value with the same positions, got {format_shape(k)} and {format_shape(v)}", "from")
    bias = args.get("bias", True)
    extra = args.get("add_bias_kv", False)
    length, keys = q[0], k[0] + extra + args.get("add_zero_attn", False)
    params = embed * (embed + kdim + vdim) + 3 * embed * bias + embed * embed + embed * bias + 2 * embed * extra
    projections = (length * embed + k[0] * kdim + v[0] * vdim) * embed + length * embed * embed
    macs = projections + length * keys * 2 * embed
    flops = 2 * macs + (2 * length + 2 * k[0]) * embed * bias + 4 * heads * length * keys
    if len(shapes) == 1:  # self-attention: every output reads every position of its one input
        return OpResult(output_shape=q, params=params, macs=macs, flops=flops, field="global", operand_fields=("global",))
    letters, names = (["LE", "SK"], ("queries", "keys and values")) if len(shapes) == 2 else (
        ["LE", "SK", "SV"], ("queries", "keys", "values"))  # fmt: skip
    return product_result("mha", letters, list(shapes), "LE", q, macs, flops, names, params=params)
