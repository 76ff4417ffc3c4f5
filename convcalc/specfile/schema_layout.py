"""The argument types (``TypedDict``s) of layout ops (pad, flatten, permute, reshape, ..., slice, roll, index_select) and of linear
algebra and attention (einsum, attention, mha). pydantic evaluates their annotations in this module."""

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
    Padding,
    PosInt,
    Probability,
    ShapeList,
    alias,
)


class PadArgs(TypedDict):
    """Padding: an int, one per dimension, or [before, after] per dimension (like nn.ZeroPadNd); ``dims`` the axes
    padded (default the grid), ``mode`` constant (``value``, default 0), reflect, replicate or circular."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    p: Annotated[Padding, alias("p", "padding", "pad")]
    dims: Annotated[NotRequired[Union[Int, Annotated[list[Int], Field(min_length=1)]]], alias("dims", "dim")]
    mode: NotRequired[Literal["constant", "zeros", "reflect", "replicate", "circular"]]
    value: NotRequired[Union[Int, Float]]


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


class IndexSelectArgs(TypedDict):
    """torch.index_select: the positions ``index`` (0 to size - 1) of axis ``dim`` (default -1), in that order."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    index: Annotated[Annotated[list[Int], Field(min_length=1)], alias("index", "indices")]
    dim: Annotated[NotRequired[Int], alias("dim", "axis")]


# linear algebra and attention (issue 11)
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
