"""The network spec format, defined once with pydantic: the source of truth for validation and ``convcalc schema``.

Each op's arguments are a ``TypedDict`` (canonical short names, PyTorch's names as aliases). At run time the
spec loader validates with pydantic-core validators built from the core schemas generated here and stored in
:mod:`convcalc.specfile._coreschemas` (importing all of pydantic costs ~100 ms, the core alone ~20 ms);
``python -m convcalc.specfile.schema`` regenerates that module and a test checks it is current.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal, NotRequired, Union

from pydantic import AliasChoices, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this TypedDict before Python 3.12

from convcalc.ops.catalogue import OP_ARG_TYPES

# strict: a wrong-typed value (`out: true`, `eps: "x"`) is an error, never converted (true would read as 1)
PosInt = Annotated[int, Field(ge=1, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
Bool = Annotated[bool, Field(strict=True)]
Float = Annotated[float, Field(strict=True)]
Int = Annotated[int, Field(strict=True)]
Ints = Union[PosInt, list[PosInt]]
Padding = Union[NonNegInt, Literal["same", "valid"], list[Union[NonNegInt, list[NonNegInt]]]]
FORBID = ConfigDict(extra="forbid")


def alias(name: str, *others: str) -> Any:
    return Field(validation_alias=AliasChoices(name, *others))


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
Axes = Union[Int, Annotated[list[Int], Field(min_length=1)]]
Sizes = Union[PosInt, Annotated[list[PosInt], Field(min_length=1)]]


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


class PadArgs(TypedDict):
    """Padding: an int, one per dimension, or [before, after] per dimension (like nn.ZeroPadNd); ``dims`` the axes
    padded (default the grid), ``mode`` constant (``value``, default 0), reflect, replicate or circular."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    p: Annotated[Padding, alias("p", "padding", "pad")]
    dims: Annotated[NotRequired[Union[Int, Annotated[list[Int], Field(min_length=1)]]], alias("dims", "dim")]
    mode: NotRequired[Literal["constant", "zeros", "reflect", "replicate", "circular"]]
    value: NotRequired[Union[Int, Float]]


class NoArgs(TypedDict):
    __pydantic_config__ = FORBID  # type: ignore[misc]


# pointwise math and learnable tensors (issue 11)
Number = Union[Int, Float]


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


# layout ops (issue 11): axes are convcalc's logical axes (batch excluded, -1 the channels)
class FlattenArgs(TypedDict):
    """Flatten axes ``start`` to ``end`` (default: every axis)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    start: Annotated[NotRequired[Int], alias("start", "start_dim")]
    end: Annotated[NotRequired[Int], alias("end", "end_dim")]


class PermuteArgs(TypedDict):
    """Every axis once, in its new order."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dims: Annotated[Annotated[list[Int], Field(min_length=1)], alias("dims", "perm", "axes")]


class TransposeArgs(TypedDict):
    """The two axes swapped."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim0: Annotated[Int, alias("dim0", "axis0")]
    dim1: Annotated[Int, alias("dim1", "axis1")]


class MovedimArgs(TypedDict):
    """One axis moved to a new position."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    source: Int
    destination: Int


ShapeList = Annotated[list[Annotated[int, Field(ge=-1, strict=True)]], Field(min_length=1)]


class ReshapeArgs(TypedDict):
    """The new shape, batch excluded, channels last; one size may be -1 (worked out)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shape: Annotated[ShapeList, alias("shape", "size")]


class UnflattenArgs(TypedDict):
    """Axis ``dim`` split into ``sizes`` (one may be -1)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: Annotated[Int, alias("dim", "axis")]
    sizes: Annotated[ShapeList, alias("sizes", "unflattened_size")]


class SqueezeArgs(TypedDict):
    """The axes of size 1 removed (default: every one)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dims: Annotated[NotRequired[Axes], alias("dims", "dim", "axis")]


class UnsqueezeArgs(TypedDict):
    """A new axis of size 1 at ``dim`` of the output."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: Annotated[Int, alias("dim", "axis")]


class ExpandArgs(TypedDict):
    """The shape to broadcast to (-1 keeps an axis's size)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shape: Annotated[ShapeList, alias("shape", "size")]


class ChannelShuffleArgs(TypedDict):
    """ShuffleNet's channel shuffle: ``groups`` divides the channels."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    groups: Annotated[PosInt, alias("groups", "g")]


class PixelShuffleArgs(TypedDict):
    __pydantic_config__ = FORBID  # type: ignore[misc]
    r: Annotated[PosInt, alias("r", "upscale_factor")]


class PixelUnshuffleArgs(TypedDict):
    __pydantic_config__ = FORBID  # type: ignore[misc]
    r: Annotated[PosInt, alias("r", "downscale_factor")]


class SliceArgs(TypedDict):
    """``start:stop:step`` on axis ``dim`` (default -1); negative indices count from the end, as in Python."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: Annotated[NotRequired[Int], alias("dim", "axis")]
    start: NotRequired[Int]
    stop: Annotated[NotRequired[Int], alias("stop", "end")]
    step: NotRequired[Int]


class RollArgs(TypedDict):
    """torch.roll: ``shifts`` (one per axis of ``dims``; without ``dims``, one shift of the flattened tensor)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    shifts: Annotated[Union[Int, Annotated[list[Int], Field(min_length=1)]], alias("shifts", "shift")]
    dims: Annotated[NotRequired[Axes], alias("dims", "dim", "axis")]


# linear algebra and attention (issue 11)
Probability = Annotated[float, Field(ge=0, le=1, strict=True)]


class EinsumArgs(TypedDict):
    """A two-operand einsum equation over convcalc's logical axes (batch left out, channels last): ``lc,dc->ld``."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    equation: Annotated[str, alias("equation", "eq", "subscripts")]


class AttentionArgs(TypedDict):
    """Scaled dot-product attention: ``heads`` splits q's, k's and v's features into heads (default: already split,
    the heads a leading axis); ``causal`` as PyTorch's ``is_causal``; ``scale`` (default 1/sqrt(d)); dropout is off
    at inference."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    heads: Annotated[NotRequired[PosInt], alias("heads", "num_heads")]
    causal: Annotated[NotRequired[Bool], alias("causal", "is_causal")]
    scale: NotRequired[Float]
    dropout: Annotated[NotRequired[Probability], alias("dropout", "dropout_p")]


class MHAArgs(TypedDict):
    """nn.MultiheadAttention: ``heads`` divides the query's features E (``embed_dim``, if given, must be E);
    ``kdim``/``vdim`` the key's and value's features (default E)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    heads: Annotated[PosInt, alias("heads", "num_heads")]
    embed_dim: NotRequired[PosInt]
    kdim: NotRequired[PosInt]
    vdim: NotRequired[PosInt]
    bias: NotRequired[Bool]
    add_bias_kv: NotRequired[Bool]
    add_zero_attn: NotRequired[Bool]
    dropout: NotRequired[Probability]

OP_ARGS: dict[str, type] = {op: globals()[name] for op, name in OP_ARG_TYPES.items()}

class BlockDef(TypedDict):
    """A reusable block: default arguments and its layers (which may use ``$arg`` and ``${expression}``)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    args: NotRequired[dict[str, Any]]
    layers: list[Any]


class NetSpec(TypedDict):
    """A network: its input shape and layers, with optional reusable blocks and expectations."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    name: NotRequired[str]
    description: NotRequired[str]
    input: Union[PosInt, str, list[PosInt]]
    blocks: NotRequired[dict[str, BlockDef]]
    layers: Annotated[list[Any], Field(min_length=1)]
    expect: NotRequired[dict[str, Any]]


def _strip(schema: Any) -> Any:
    """Drop what pydantic-core does not need for validation (classes, metadata) so the schema is plain data."""
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in ("cls", "metadata", "ref", "config")}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    if callable(schema):
        raise TypeError(f"core schema holds a function: {schema!r}")
    return schema


def core_schemas() -> dict[str, Any]:
    """Plain-data pydantic-core schemas: one per distinct argument type, plus the top level."""
    types = {cls.__name__: cls for cls in OP_ARGS.values()} | {"NetSpec": NetSpec, "BlockDef": BlockDef}
    return {name: _strip(TypeAdapter(cls).core_schema) for name, cls in sorted(types.items())}


def write_core_schemas(path: str) -> None:
    import pprint

    text = (
        '"""Generated by `python -m convcalc.specfile.schema`: pydantic-core schemas of the spec format. Do not edit."""\n\n'
        f"SCHEMAS = {pprint.pformat(core_schemas(), width=120, sort_dicts=True)}\n"
    )
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    from pathlib import Path

    write_core_schemas(str(Path(__file__).with_name("_coreschemas.py")))
    sys.exit(0)
