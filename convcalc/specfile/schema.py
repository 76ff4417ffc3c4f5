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
    __pydantic_config__ = FORBID  # type: ignore[misc]
    dim: NotRequired[Int]


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
    """Zero padding: an int, one per dimension, or [before, after] per dimension (like nn.ZeroPadNd)."""

    __pydantic_config__ = FORBID  # type: ignore[misc]
    p: Annotated[Padding, alias("p", "padding")]


class NoArgs(TypedDict):
    __pydantic_config__ = FORBID  # type: ignore[misc]


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
