"""The op catalogue: every op a network can use, once, with everything the rest of convcalc needs to know about it.

Each :class:`OpDef` gives an op's canonical name, its other spellings (PyTorch's, Keras', common ones), the
pydantic type of its arguments (in :mod:`convcalc.specfile.schema`), its category, what it costs, whether
``convcalc layer --op`` takes it (and with which options), its PyTorch module (for export, import and
``--verify``) and its formulas (a handler in :mod:`convcalc.ops.handlers`). Spec validation, the JSON Schema,
``layer``'s choices, export, import, the counting conventions, ``--verify`` and ``convcalc ops`` all read this table:
adding an op is one entry here, its formulas and its tests.

This module imports nothing heavy: the spec loader reads it on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What an op does, for grouping (docs, ``convcalc ops``, the counting conventions)."""

    CONVOLUTION = "convolution"
    POOLING = "pooling"
    LINEAR = "linear"
    NORMALISATION = "normalisation"
    ACTIVATION = "activation"
    LAYOUT = "layout"  # moves or copies values, computes nothing: flatten, pad, crop, concat, identity, dropout
    RESAMPLE = "resample"
    ELEMENTWISE = "elementwise"


@dataclass(frozen=True)
class OpDef:
    """One op. ``torch`` is the PyTorch module class, ``{n}`` standing for the spatial rank (``Conv{n}d``); empty
    for ops written in ``forward`` (add, mul, concat, crop). ``layer_options`` are the options ``convcalc layer``
    takes for it (None: not a ``layer`` op)."""

    name: str
    category: Category
    args: str  # the TypedDict of its arguments in convcalc.specfile.schema
    summary: str
    cost: str
    aliases: tuple[str, ...] = ()
    torch: str = ""
    merge: bool = False  # takes several inputs (``from:`` a list)
    layer_options: frozenset[str] | None = None

    @property
    def spellings(self) -> tuple[str, ...]:
        """The canonical name and every alias."""
        return (self.name, *self.aliases)

    def torch_class(self, rank: int) -> str:
        """The PyTorch module class for a ``rank``-D input (``Conv2d``), or "" when the op has no module."""
        return self.torch.format(n=rank)


def _nd(base: str) -> tuple[str, ...]:
    """``conv1d``, ``conv2d``, ``conv3d`` for base ``conv``: PyTorch's class names, lower case."""
    return tuple(f"{base}{n}d" for n in (1, 2, 3))


WINDOW_COST = "FLOPs: {} per output element"
ACTIVATION_MODULES = {
    "relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU", "silu": "SiLU",
    "swish": "SiLU", "leakyrelu": "LeakyReLU", "elu": "ELU", "selu": "SELU", "celu": "CELU", "mish": "Mish",
    "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "hardtanh": "Hardtanh", "softplus": "Softplus",
    "logsigmoid": "LogSigmoid",
}  # fmt: skip
ACTIVATION_ALIASES = {"leakyrelu": ("leaky_relu",), "hardswish": ("hard_swish",), "hardsigmoid": ("hard_sigmoid",)}

CATALOGUE: tuple[OpDef, ...] = (
    OpDef(
        "conv", Category.CONVOLUTION, "ConvArgs", "convolution, like torch.nn.ConvNd (N from the input); `out` defaults to the input channels",
        "MACs: output positions x C_out x C_in/g x prod(k); FLOPs: 2 x MACs + one add per output element for a bias",
        aliases=("convolution", *_nd("conv")), torch="Conv{n}d",
        layer_options=frozenset({"out", "k", "s", "p", "d", "g", "bias"}),
    ),
    OpDef(
        "deconv", Category.CONVOLUTION, "DeconvArgs", "transposed convolution, like torch.nn.ConvTransposeNd (numeric padding)",
        "MACs: input positions x C_in x C_out/g x prod(k) (per input position); FLOPs: 2 x MACs + bias adds",
        aliases=("transpose", "transposed", "convtranspose", "conv_transpose", "upconv", "deconvolution",
                 "transposed_conv", *_nd("convtranspose")),
        torch="ConvTranspose{n}d",
        layer_options=frozenset({"out", "k", "s", "p", "d", "g", "output_padding", "bias"}),
    ),
    OpDef(
        "maxpool", Category.POOLING, "MaxPoolArgs", "max pooling, like torch.nn.MaxPoolNd (stride defaults to k)",
        WINDOW_COST.format("prod(k) - 1 comparisons"),
        aliases=("max_pool", "max", *_nd("maxpool")), torch="MaxPool{n}d",
        layer_options=frozenset({"k", "s", "p", "d", "ceil"}),
    ),
    OpDef(
        "avgpool", Category.POOLING, "AvgPoolArgs", "average pooling, like torch.nn.AvgPoolNd (stride defaults to k)",
        WINDOW_COST.format("prod(k) (adds and one divide)"),
        aliases=("avg_pool", "avg", "meanpool", "mean_pool", *_nd("avgpool")), torch="AvgPool{n}d",
        layer_options=frozenset({"k", "s", "p", "ceil"}),
    ),
    OpDef(
        "adaptive_avgpool", Category.POOLING, "AdaptivePoolArgs", "adaptive average pooling to a size (PyTorch's bins)",
        "FLOPs: the elements of every bin", aliases=("adaptiveavgpool", "adaptive_avg_pool", *_nd("adaptiveavgpool")),
        torch="AdaptiveAvgPool{n}d",
    ),
    OpDef(
        "adaptive_maxpool", Category.POOLING, "AdaptivePoolArgs", "adaptive max pooling to a size (PyTorch's bins)",
        "FLOPs: the elements of every bin - 1", aliases=("adaptivemaxpool", "adaptive_max_pool", *_nd("adaptivemaxpool")),
        torch="AdaptiveMaxPool{n}d",
    ),
    OpDef(
        "global_avgpool", Category.POOLING, "NoArgs", "average over every position, then flatten: C features",
        "FLOPs: input elements", aliases=("global_avg_pool", "gap", "globalavgpool"),
        torch="AdaptiveAvgPool{n}d",
    ),
    OpDef(
        "global_maxpool", Category.POOLING, "NoArgs", "maximum over every position, then flatten: C features",
        "FLOPs: input elements - C", aliases=("global_max_pool", "gmp", "globalmaxpool"), torch="AdaptiveMaxPool{n}d",
    ),
    OpDef(
        "linear", Category.LINEAR, "LinearArgs", "fully connected on the last axis (every position is a row)",
        "MACs: rows x in x out; FLOPs: 2 x MACs + out per row for a bias", aliases=("fc", "dense", "fully_connected"),
        torch="Linear", layer_options=frozenset({"out", "bias"}),
    ),
    OpDef(
        "flatten", Category.LAYOUT, "NoArgs", "everything but the batch into one axis (counted channels last)",
        "free", torch="Flatten",
    ),
    OpDef(
        "bn", Category.NORMALISATION, "BatchNormArgs", "batch normalisation (inference: a scale and a shift per channel)",
        "FLOPs: 2 per element; params 2C (affine), buffers 2C (running statistics)",
        aliases=("batchnorm", "batch_norm", *_nd("batchnorm")), torch="BatchNorm{n}d",
    ),
    *(
        OpDef(name, Category.ACTIVATION, "ActivationArgs", f"elementwise {name}", "FLOPs: 1 per element",
              aliases=ACTIVATION_ALIASES.get(name, ()), torch=module)  # fmt: skip
        for name, module in ACTIVATION_MODULES.items()
    ),
    OpDef(
        "prelu", Category.ACTIVATION, "PReLUArgs", "PReLU: a learned slope (one, or one per channel)",
        "FLOPs: 1 per element; params: the slopes", torch="PReLU",
    ),
    OpDef("softmax", Category.ACTIVATION, "SoftmaxArgs", "softmax over the channels", "FLOPs: 3 per element",
          torch="Softmax"),  # fmt: skip
    OpDef("dropout", Category.LAYOUT, "DropoutArgs", "dropout: identity at inference", "free", torch="Dropout"),
    OpDef("identity", Category.LAYOUT, "NoArgs", "no change", "free", torch="Identity"),
    OpDef(
        "upsample", Category.RESAMPLE, "UpsampleArgs", "upsampling by an integer scale per dimension",
        "FLOPs: 0 (nearest); 2^(rank+1) - 1 per output element (linear modes)", aliases=("interpolate",),
        torch="Upsample",
    ),
    OpDef("pad", Category.LAYOUT, "PadArgs", "zero padding, like nn.ZeroPadNd", "free",
          aliases=("zeropad", "zero_pad", "constantpad"), torch="ConstantPad{n}d"),  # fmt: skip
    OpDef("crop", Category.LAYOUT, "PadArgs", "removes positions at the borders (U-Net's unpadded skips)", "free"),
    OpDef("add", Category.ELEMENTWISE, "NoArgs", "elementwise sum of equal shapes (residual connections)",
          "FLOPs: one add per element per extra input", aliases=("sum",), merge=True),  # fmt: skip
    OpDef(
        "mul", Category.ELEMENTWISE, "NoArgs", "elementwise product, broadcasting size-1 dimensions (gates, SE)",
        "FLOPs: one multiply per output element per extra input", aliases=("multiply", "prod"), merge=True,
    ),
    OpDef("concat", Category.LAYOUT, "NoArgs", "concatenation on the channel axis", "free", aliases=("cat",),
          merge=True),  # fmt: skip
)

OPS_BY_NAME: dict[str, OpDef] = {op.name: op for op in CATALOGUE}
_SPELLINGS: dict[str, str] = {spelling: op.name for op in CATALOGUE for spelling in op.spellings}
OP_ARG_TYPES: dict[str, str] = {op.name: op.args for op in CATALOGUE}
ACTIVATIONS: tuple[str, ...] = tuple(op.name for op in CATALOGUE if op.args == "ActivationArgs")
MERGES: frozenset[str] = frozenset(op.name for op in CATALOGUE if op.merge)
LAYER_OPS: tuple[str, ...] = tuple(op.name for op in CATALOGUE if op.layer_options is not None)


def normalise(name: str) -> str:
    """How a spelling is compared: lower case, spaces and hyphens as underscores (``Conv-Transpose`` ->
    ``conv_transpose``)."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def canonical_op(name: str) -> str | None:
    """The canonical op name for a spelling, or None when it names no op."""
    return _SPELLINGS.get(normalise(name))


def spellings() -> list[str]:
    """Every name an op can be written with (for "did you mean" suggestions)."""
    return sorted(_SPELLINGS)


def ops_in(*categories: Category) -> tuple[str, ...]:
    """The ops of the given categories, in catalogue order."""
    return tuple(op.name for op in CATALOGUE if op.category in categories)


def op(name: str) -> OpDef:
    """The catalogue entry of a canonical op name."""
    return OPS_BY_NAME[name]
