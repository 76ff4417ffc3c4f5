"""The argument types (``TypedDict``s) of windowed ops, normalisations, reductions, activations, pointwise math,
params and merges. pydantic evaluates their annotations in this module."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired, Union

from pydantic import Field
from typing_extensions import TypedDict  # pydantic needs this TypedDict before Python 3.12

from convcalc.specfile.schema_types import (
    FORBID,
    Axes,
    Bool,
    Float,
    Int,
    Ints,
    NonNegInt,
    Number,
    Padding,
    PosInt,
    Sizes,
    alias,
)


class ConvArgs(TypedDict):
    """Convolution: like torch.nn.ConvNd (N from the input)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    out: Annotated[NotRequired[PosInt], alias("out", "out_channels")]
    k: Annotated[Ints, alias("k", "kernel_size")]
    s: Annotated[NotRequired[Ints], alias("s", "stride")]
    p: Annotated[NotRequired[Padding], alias("p", "padding")]
    d: Annotated[NotRequired[Ints], alias("d", "dilation")]
    g: Annotated[NotRequired[PosInt], alias("g", "groups")]
    bias: NotRequired[Bool]


class DeconvArgs(ConvArgs):
    """Transposed convolution: like torch.nn.ConvTransposeNd."""

    output_padding: NotRequired[Union[NonNegInt, list[NonNegInt]]]


class MaxPoolArgs(TypedDict):
    """Max pooling: like torch.nn.MaxPoolNd (stride defaults to the kernel)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    k: Annotated[Ints, alias("k", "kernel_size")]
    s: Annotated[NotRequired[Ints], alias("s", "stride")]
    p: Annotated[NotRequired[Padding], alias("p", "padding")]
    d: Annotated[NotRequired[Ints], alias("d", "dilation")]
    ceil: Annotated[NotRequired[Bool], alias("ceil", "ceil_mode")]


class AvgPoolArgs(TypedDict):
    """Average pooling: like torch.nn.AvgPoolNd (stride defaults to the kernel)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    k: Annotated[Ints, alias("k", "kernel_size")]
    s: Annotated[NotRequired[Ints], alias("s", "stride")]
    p: Annotated[NotRequired[Padding], alias("p", "padding")]
    ceil: Annotated[NotRequired[Bool], alias("ceil", "ceil_mode")]
    count_include_pad: NotRequired[Bool]


class AdaptivePoolArgs(TypedDict):
    """Adaptive pooling to a fixed output size, with PyTorch's bins."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    size: Annotated[Ints, alias("size", "output_size")]


class LinearArgs(TypedDict):
    """Fully connected on the last axis."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    out: Annotated[PosInt, alias("out", "out_features")]
    bias: NotRequired[Bool]


class BatchNormArgs(TypedDict):
    """Batch norm: 2C trainable params (affine), 2C buffers (running statistics)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    affine: NotRequired[Bool]
    track_running_stats: NotRequired[Bool]
    eps: NotRequired[Float]
    momentum: NotRequired[Float]


# reductions and normalisations (issue 11): axes are convcalc's logical axes (batch excluded, -1 the channels)
class ReduceArgs(TypedDict):
    """A reduction over the axes ``dims`` (required, as in PyTorch); ``keepdim`` keeps them as size 1."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dims: Annotated[Axes, alias("dims", "dim", "axis")]
    keepdim: Annotated[NotRequired[Bool], alias("keepdim", "keepdims")]


class VarArgs(ReduceArgs):
    """Variance: ``correction`` 1 (Bessel's, PyTorch's default) or 0."""

    correction: NotRequired[NonNegInt]


class NormArgs(ReduceArgs):
    """Vector p-norm (torch.linalg.vector_norm): ``p`` a number, ``inf`` or ``-inf``; default 2."""

    p: Annotated[NotRequired[Union[Float, Literal["inf", "-inf"]]], alias("p", "ord")]


class LayerNormArgs(TypedDict):
    """Layer norm over the last axes: ``shape`` their sizes, channels last (default: the channels)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shape: Annotated[NotRequired[Sizes], alias("shape", "normalized_shape")]
    elementwise_affine: Annotated[NotRequired[Bool], alias("elementwise_affine", "affine")]
    bias: NotRequired[Bool]
    eps: NotRequired[Float]


class RMSNormArgs(TypedDict):
    """RMS norm over the last axes: ``shape`` their sizes, channels last (default: the channels)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shape: Annotated[NotRequired[Sizes], alias("shape", "normalized_shape")]
    elementwise_affine: Annotated[NotRequired[Bool], alias("elementwise_affine", "affine")]
    eps: NotRequired[Float]


class GroupNormArgs(TypedDict):
    """Group norm: ``groups`` must divide the channels (``channels``, if given, must be the input's)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    groups: Annotated[PosInt, alias("groups", "num_groups")]
    channels: Annotated[NotRequired[PosInt], alias("channels", "num_channels")]
    affine: NotRequired[Bool]
    bias: NotRequired[Bool]
    eps: NotRequired[Float]


class InstanceNormArgs(TypedDict):
    """Instance norm (PyTorch's defaults: no affine, no running statistics)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    channels: Annotated[NotRequired[PosInt], alias("channels", "num_features")]
    affine: NotRequired[Bool]
    bias: NotRequired[Bool]
    track_running_stats: NotRequired[Bool]
    eps: NotRequired[Float]
    momentum: NotRequired[Float]


class LRNArgs(TypedDict):
    """Local response norm across ``size`` neighbouring channels: b = a / (k + alpha/size * sum a^2)^beta."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    size: PosInt
    alpha: NotRequired[Float]
    beta: NotRequired[Float]
    k: NotRequired[Float]


class ActivationArgs(TypedDict):
    """An elementwise activation; its options do not change any count."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    inplace: NotRequired[Bool]
    negative_slope: NotRequired[Float]
    alpha: NotRequired[Float]
    beta: NotRequired[Float]
    threshold: NotRequired[Float]
    min_val: NotRequired[Float]
    max_val: NotRequired[Float]
    approximate: NotRequired[Literal["none", "tanh"]]


class PReLUArgs(TypedDict):
    """PReLU: 1 learnable slope, or one per channel."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    num_parameters: NotRequired[PosInt]
    init: NotRequired[Float]


class SoftmaxArgs(TypedDict):
    """softmax, logsoftmax over the logical axis ``dim`` (default -1: the channels)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: Annotated[NotRequired[Int], alias("dim", "axis")]


class DropoutArgs(TypedDict):
    """Dropout: identity at inference; ``p`` is the drop probability here, as in PyTorch."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    p: Annotated[NotRequired[Annotated[float, Field(ge=0, le=1, strict=True)]], alias("p", "rate")]
    inplace: NotRequired[Bool]


class UpsampleArgs(TypedDict):
    """Upsampling by an integer scale factor per dimension."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    scale: Annotated[Ints, alias("scale", "scale_factor")]
    mode: NotRequired[Literal["nearest", "linear", "bilinear", "trilinear", "bicubic"]]
    align_corners: NotRequired[Bool]


class InterpolateArgs(TypedDict):
    """Resampling like torch.nn.functional.interpolate: to a ``size`` or by a ``scale`` (one, or one per spatial
    dimension; the output is floor(n * scale))."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    size: NotRequired[Ints]
    scale: Annotated[NotRequired[Union[Number, list[Number]]], alias("scale", "scale_factor")]
    mode: NotRequired[Literal["nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area"]]
    align_corners: NotRequired[Bool]


class UnfoldArgs(TypedDict):
    """Sliding blocks like torch.nn.Unfold (2 grid axes): kernel, dilation, padding, stride, one or two each."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    k: Annotated[Ints, alias("k", "kernel_size")]
    d: Annotated[NotRequired[Ints], alias("d", "dilation")]
    p: Annotated[NotRequired[Union[NonNegInt, list[NonNegInt]]], alias("p", "padding")]
    s: Annotated[NotRequired[Ints], alias("s", "stride")]


class FoldArgs(UnfoldArgs):
    """The blocks of (L, C x prod(k)) summed back into a grid, like torch.nn.Fold."""

    size: Annotated[Ints, alias("size", "output_size")]


class NoArgs(TypedDict):
    __pydantic_config__ = FORBID  # type: ignore[misc]


# pointwise math and learnable tensors (issue 11)
class BinaryArgs(TypedDict):
    """add, sub, mul, div: the inputs (``from``), then a constant ``value`` if given (``reverse``: the constant
    first, ``value - x``, ``value / x``)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    value: Annotated[NotRequired[Number], alias("value", "other", "scalar")]
    reverse: NotRequired[Bool]


class PowArgs(TypedDict):
    """A constant exponent, like torch.pow(x, exponent)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    exponent: Annotated[Number, alias("exponent", "e")]


class ClampArgs(TypedDict):
    """torch.clamp: a lower bound ``min``, an upper bound ``max``, or both."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    min: Annotated[NotRequired[Number], alias("min", "min_val")]
    max: Annotated[NotRequired[Number], alias("max", "max_val")]


class ParamArgs(TypedDict):
    """A learnable tensor: its shape, batch excluded and channels last like every convcalc tensor."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shape: Annotated[Union[PosInt, Annotated[list[PosInt], Field(min_length=1)]], alias("shape", "size")]


class ConstantArgs(TypedDict):
    """A non-learnable tensor: its shape (batch excluded, channels last) and whether it is a registered buffer
    (``buffer``, default true: its elements are the layer's buffers) or a constant computed in forward (false)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shape: Annotated[Union[PosInt, Annotated[list[PosInt], Field(min_length=1)]], alias("shape", "size")]
    buffer: NotRequired[Bool]


class ConcatArgs(TypedDict):
    """Concatenation on one axis (convcalc's logical axes: batch excluded, -1 the channels)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: Annotated[NotRequired[Int], alias("dim", "axis")]


class StackArgs(TypedDict):
    """Stacking on a new axis ``dim`` of the output (required: PyTorch's default 0 is the batch)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: Annotated[Int, alias("dim", "axis")]


class SplitArgs(TypedDict):
    """torch.split: one piece size (equal pieces, the last smaller) or every piece's size, on axis ``dim``."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    sizes: Annotated[Union[PosInt, Annotated[list[PosInt], Field(min_length=1)]],
                     alias("sizes", "split_size_or_sections", "split_size")]  # fmt: skip
    dim: Annotated[NotRequired[Int], alias("dim", "axis")]


class ChunkArgs(TypedDict):
    """torch.chunk: ``chunks`` pieces of ceil(n / chunks) on axis ``dim`` (fewer when they run out)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    chunks: PosInt
    dim: Annotated[NotRequired[Int], alias("dim", "axis")]
