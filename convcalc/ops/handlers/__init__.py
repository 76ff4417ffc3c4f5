"""What each op of a network does to its inputs: output shape, parameters, buffers, MACs, FLOPs, local field.

One small handler per op kind, dispatched through :data:`OPS`. Handlers take the op's validated arguments (a dict
with canonical keys) and the input shapes (channels last, batch excluded), and return an :class:`OpResult`.
Counts are per sample. Weighted layers reuse :mod:`convcalc.core.layer`, so one formula serves ``layer`` and ``net``.

Conventions beyond those of :mod:`convcalc.core.counts`: batch norm has 2C trainable params (scale, shift) and 2C buffers
(running mean, variance), and 2 FLOPs per element; an activation is 1 FLOP per element (softmax 3: exp, sum,
divide); ``add``, ``sub``, ``mul``, ``div`` are one FLOP per output element for every operand after the first
(inputs and a constant), unary math (exp, log, sqrt, ...) 1 per element; a ``param`` is free, its elements params;
concat, flatten, pad, dropout and identity cost nothing; nearest upsampling costs nothing, (bi/tri)linear 2^R
multiplies and 2^R - 1 adds per element. Products of activations (matmul, einsum, attention, mha) count their
multiply-accumulates as PyTorch's FlopCounterMode does (its total / 2, attention through the math backend), FLOPs 2
per MAC plus softmax and scaling (docs/spec.md, "Linear algebra and attention").

The handlers live by op family: ``windows.py`` (conv, deconv, pooling, adaptive and global pooling, upsampling,
linear), ``elementwise.py`` (activations, unary math, broadcasting binary ops, params), ``norms.py``,
``reductions.py``, ``layout.py`` (flatten, reshape, permute, ..., pad, crop, slice, roll, index_select, the shuffles),
``merges.py`` (concat, stack, split, chunk), ``linalg.py`` (softmax, matmul, einsum, attention, mha) and
``resampling.py`` (interpolate, unfold, fold), all built on
``results.py`` (:class:`OpResult` and the helpers every family shares). :data:`OPS` is assembled here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convcalc.core.notation import Shape
from convcalc.ops.catalogue import ACTIVATIONS
from convcalc.ops.handlers.elementwise import (
    UNARY_OPS,
    broadcast,
    op_activation,
    op_add,
    op_clamp,
    op_constant,
    op_div,
    op_free,
    op_mul,
    op_param,
    op_prelu,
    op_sub,
    op_unary,
)
from convcalc.ops.handlers.layout import (
    op_channel_shuffle,
    op_crop,
    op_expand,
    op_flatten,
    op_index_select,
    op_movedim,
    op_pad,
    op_permute,
    op_pixel_shuffle,
    op_pixel_unshuffle,
    op_reshape,
    op_roll,
    op_slice,
    op_squeeze,
    op_transpose,
    op_unflatten,
    op_unsqueeze,
)
from convcalc.ops.handlers.linalg import (
    LETTERS,
    op_attention,
    op_einsum,
    op_matmul,
    op_mha,
    op_softmax,
    parse_einsum,
    settled,
)
from convcalc.ops.handlers.merges import op_chunk, op_concat, op_split, op_stack
from convcalc.ops.handlers.norms import (
    normalized_shape,
    op_bn,
    op_groupnorm,
    op_instancenorm,
    op_layernorm,
    op_lrn,
    op_rmsnorm,
)
from convcalc.ops.handlers.reductions import op_amax, op_amin, op_mean, op_norm, op_sum, op_var, reduced_axes
from convcalc.ops.handlers.resampling import op_fold, op_interpolate, op_unfold
from convcalc.ops.handlers.results import AxisSource, FieldKind, OpResult, from_layer, one_input, pointwise
from convcalc.ops.handlers.windows import (
    op_adaptive_avgpool,
    op_adaptive_maxpool,
    op_avgpool,
    op_conv,
    op_deconv,
    op_global_avgpool,
    op_global_maxpool,
    op_linear,
    op_maxpool,
    op_upsample,
)

__all__ = [
    "LETTERS", "OPS", "AxisSource", "FieldKind", "OpResult", "broadcast", "from_layer", "normalized_shape",
    "one_input", "parse_einsum", "pointwise", "reduced_axes", "settled",
]

OPS: dict[str, Callable[[dict[str, Any], list[Shape]], OpResult]] = {
    "conv": op_conv,
    "deconv": op_deconv,
    "maxpool": op_maxpool,
    "avgpool": op_avgpool,
    "adaptive_avgpool": op_adaptive_avgpool,
    "adaptive_maxpool": op_adaptive_maxpool,
    "global_avgpool": op_global_avgpool,
    "global_maxpool": op_global_maxpool,
    "linear": op_linear,
    "bn": op_bn,
    "mean": op_mean,
    "sum": op_sum,
    "amax": op_amax,
    "amin": op_amin,
    "var": op_var,
    "norm": op_norm,
    "layernorm": op_layernorm,
    "rmsnorm": op_rmsnorm,
    "groupnorm": op_groupnorm,
    "instancenorm": op_instancenorm,
    "lrn": op_lrn,
    "prelu": op_prelu,
    "softmax": op_softmax,
    "dropout": op_free,
    "identity": op_free,
    "upsample": op_upsample,
    "interpolate": op_interpolate,
    "unfold": op_unfold,
    "fold": op_fold,
    "add": op_add,
    "sub": op_sub,
    "mul": op_mul,
    "div": op_div,
    **dict.fromkeys(UNARY_OPS, op_unary),
    "clamp": op_clamp,
    "param": op_param,
    "constant": op_constant,
    "concat": op_concat,
    "crop": op_crop,
    "stack": op_stack,
    "split": op_split,
    "chunk": op_chunk,
    "logsoftmax": op_softmax,
    "matmul": op_matmul,
    "einsum": op_einsum,
    "attention": op_attention,
    "mha": op_mha,
    **{name: op_activation for name in ACTIVATIONS},
    "flatten": op_flatten,
    "pad": op_pad,
    "permute": op_permute,
    "transpose": op_transpose,
    "movedim": op_movedim,
    "reshape": op_reshape,
    "unflatten": op_unflatten,
    "squeeze": op_squeeze,
    "unsqueeze": op_unsqueeze,
    "expand": op_expand,
    "channel_shuffle": op_channel_shuffle,
    "pixel_shuffle": op_pixel_shuffle,
    "pixel_unshuffle": op_pixel_unshuffle,
    "slice": op_slice,
    "roll": op_roll,
    "index_select": op_index_select,
}
