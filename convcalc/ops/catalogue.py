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
    REDUCTION = "reduction"  # mean, sum, amax, ... over given axes


@dataclass(frozen=True)
class OpDef:
    """One op. ``torch`` is the PyTorch module class, ``{n}`` standing for the spatial rank (``Conv{n}d``); empty
    for ops written in ``forward`` (add, mul, concat, crop). ``layer_options`` are the options ``convcalc layer``
    takes for it (None: not a ``layer`` op)."""

    name: str
    category: Category
    args: str  # the TypedDict of its arguments (convcalc.specfile.schema_ops or schema_layout)
    summary: str
    cost: str
    aliases: tuple[str, ...] = ()
    torch: str = ""
    merge: bool = False  # takes several inputs (``from:`` a list; an unindexed layer with several outputs gives all)
    several: bool = False  # returns several outputs (a tuple in PyTorch), picked with ``from: name[k]``
    source: bool = False  # takes no input (``param``: a learnable tensor); its output does not depend on the input
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
REDUCTIONS = (  # name, argument type, what it computes, its cost, its aliases
    ("mean", "ReduceArgs", "mean", "FLOPs: input elements (the adds and one divide per output element)", ("reduce_mean",)),
    ("sum", "ReduceArgs", "sum", "FLOPs: input elements - output elements (adds)", ("reduce_sum",)),
    ("amax", "ReduceArgs", "maximum", "FLOPs: input elements - output elements (comparisons)", ("reduce_max",)),
    ("amin", "ReduceArgs", "minimum", "FLOPs: input elements - output elements (comparisons)", ("reduce_min",)),
    ("var", "VarArgs", "variance (`correction`, default 1)",
     "FLOPs: 4 x input elements (mean, subtract, square, sum; one divide per output element)", ("variance",)),
    ("norm", "NormArgs", "vector `p`-norm (default 2; `inf`, `-inf`)",
     "FLOPs: 2 x input elements (|x|^p and the sum)", ("vector_norm",)),
)  # fmt: skip
BINARY = (  # name, what it computes, its FLOP, its aliases (PyTorch's)
    ("add", "elementwise sum", "add", ()),
    ("sub", "elementwise difference (the first minus the others)", "subtract", ("subtract",)),
    ("mul", "elementwise product", "multiply", ("multiply",)),  # (not prod: torch.prod is a reduction)
    ("div", "elementwise quotient (the first divided by the others)", "divide", ("divide", "true_divide")),
)  # fmt: skip
UNARY = (  # name, argument type, what it computes, its aliases (PyTorch's): 1 FLOP per element each
    ("exp", "NoArgs", "exponential", ()),
    ("log", "NoArgs", "natural logarithm", ()),
    ("sqrt", "NoArgs", "square root", ()),
    ("rsqrt", "NoArgs", "reciprocal square root", ()),
    ("pow", "PowArgs", "power to a constant `exponent`", ("power",)),
    ("neg", "NoArgs", "negation", ("negative",)),
    ("abs", "NoArgs", "absolute value", ("absolute",)),
    ("clamp", "ClampArgs", "clamp to [`min`, `max`] (either may be omitted, not both)", ("clip",)),
    ("reciprocal", "NoArgs", "reciprocal 1/x", ()),
    ("square", "NoArgs", "square", ()),
    ("sign", "NoArgs", "sign (-1, 0 or 1)", ()),
)  # fmt: skip
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
        aliases=("transposed", "convtranspose", "conv_transpose", "upconv", "deconvolution",
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
        "flatten", Category.LAYOUT, "FlattenArgs", "axes `start` to `end` into one (default: every axis, counted "
        "channels last); `start: 0, end: -2` makes the grid a sequence of tokens", "free", torch="Flatten",
    ),
    OpDef(
        "bn", Category.NORMALISATION, "BatchNormArgs", "batch normalisation (inference: a scale and a shift per channel)",
        "FLOPs: 2 per element; params 2C (affine), buffers 2C (running statistics)",
        aliases=("batchnorm", "batch_norm", *_nd("batchnorm")), torch="BatchNorm{n}d",
    ),
    # reductions and normalisations (issue 11); axes are convcalc's logical axes (docs/spec.md, "Tensors and dims")
    *(
        OpDef(name, Category.REDUCTION, args, f"{what} over the axes `dims` (`keepdim` keeps them as size 1), like "
              f"torch.{name}", cost, aliases=aliases)  # fmt: skip
        for name, args, what, cost, aliases in REDUCTIONS
    ),
    OpDef(
        "layernorm", Category.NORMALISATION, "LayerNormArgs",
        "layer normalisation over the last axes (`shape`, default the channels), like torch.nn.LayerNorm",
        "FLOPs: 5 per element (statistics and normalising) + 1 for the weight + 1 for the bias; params: prod(shape) "
        "per weight and bias", aliases=("layer_norm",), torch="LayerNorm",
    ),
    OpDef(
        "rmsnorm", Category.NORMALISATION, "RMSNormArgs",
        "root-mean-square normalisation over the last axes (`shape`, default the channels), like torch.nn.RMSNorm",
        "FLOPs: 3 per element + 1 for the weight; params: prod(shape) (the weight)", aliases=("rms_norm",),
        torch="RMSNorm",
    ),
    OpDef(
        "groupnorm", Category.NORMALISATION, "GroupNormArgs",
        "group normalisation: statistics over each group of channels and every position, like torch.nn.GroupNorm",
        "FLOPs: 5 per element + 1 for the weight + 1 for the bias; params: C per weight and bias (affine)",
        aliases=("group_norm",), torch="GroupNorm",
    ),
    OpDef(
        "instancenorm", Category.NORMALISATION, "InstanceNormArgs",
        "instance normalisation: statistics per channel over every position, like torch.nn.InstanceNormNd",
        "FLOPs: 5 per element + 1 for the weight + 1 for the bias; with running statistics (inference) 2 per element "
        "as bn; params C per weight and bias (affine), buffers 2C (track_running_stats)",
        aliases=("instance_norm", *_nd("instancenorm")), torch="InstanceNorm{n}d",
    ),
    OpDef(
        "lrn", Category.NORMALISATION, "LRNArgs",
        "local response normalisation across `size` neighbouring channels (AlexNet), like torch.nn.LocalResponseNorm",
        "FLOPs: size + 4 per element (square, window sum, scale, add k, power, divide)",
        aliases=("localresponsenorm", "local_response_norm"), torch="LocalResponseNorm",
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
    OpDef("softmax", Category.ACTIVATION, "SoftmaxArgs", "softmax over the axis `dim` (default -1: the channels), "
          "like torch.nn.Softmax", "FLOPs: 3 per element (exp, sum, divide)", torch="Softmax"),  # fmt: skip
    OpDef("dropout", Category.LAYOUT, "DropoutArgs", "dropout: identity at inference", "free", torch="Dropout"),
    OpDef("identity", Category.LAYOUT, "NoArgs", "no change", "free", torch="Identity"),
    OpDef(
        "upsample", Category.RESAMPLE, "UpsampleArgs", "upsampling by an integer scale per dimension",
        "FLOPs: 0 (nearest); 2^(rank+1) - 1 per output element (linear modes)",
        torch="Upsample",
    ),
    # resampling (issue 11)
    OpDef(
        "interpolate", Category.RESAMPLE, "InterpolateArgs", "resampling to a `size` or by a `scale` (output "
        "floor(n * scale)) on every spatial axis, like F.interpolate: `mode` nearest (default), nearest-exact, "
        "linear/bilinear/trilinear (1-D/2-D/3-D, `align_corners`), bicubic (2-D, `align_corners`), area",
        "FLOPs per output element: 0 (nearest, nearest-exact); 2^(rank+1) - 1 (linear modes: a weighted sum of 2^rank "
        "taps); 2*4^rank - 1 = 31 (bicubic: 16 taps); area: its adaptive average pooling's, window size (adds and "
        "one divide)", aliases=("resize",),
    ),
    OpDef("unfold", Category.RESAMPLE, "UnfoldArgs", "the sliding blocks of a 2-D grid as (L, C x kh x kw), like "
          "nn.Unfold (im2col): `k`, `d`, `p` (both sides), `s`; L the blocks, row-major", "free (copies)",
          aliases=("im2col",), torch="Unfold"),  # fmt: skip
    OpDef("fold", Category.RESAMPLE, "FoldArgs", "(L, C x kh x kw) blocks summed into a `size` grid of C channels, "
          "like nn.Fold (col2im): `k`, `d`, `p`, `s` as unfold's", "FLOPs: input elements (each block value added "
          "into its position)", aliases=("col2im",), torch="Fold"),  # fmt: skip
    OpDef("pad", Category.LAYOUT, "PadArgs", "padding of the grid (or of the axes `dims`): `mode` constant (`value`, "
          "default 0), reflect, replicate or circular, like F.pad", "free",
          aliases=("zeropad", "zero_pad", "constantpad"), torch="ConstantPad{n}d"),  # fmt: skip
    OpDef("crop", Category.LAYOUT, "PadArgs", "removes positions at the borders (U-Net's unpadded skips)", "free"),
    # pointwise math (issue 11): binary ops broadcast their inputs, a param or a constant `value`; unary ops below
    *(
        OpDef(name, Category.ELEMENTWISE, "BinaryArgs", f"{what} of its inputs (and a constant `value`), broadcasting "
              "as PyTorch does (right-aligned; equal sizes or 1)", f"FLOPs: one {verb} per output element per operand "
              "after the first (inputs and `value`)", aliases=aliases, merge=True)  # fmt: skip
        for name, what, verb, aliases in BINARY
    ),
    *(
        OpDef(name, Category.ELEMENTWISE, args, f"elementwise {what}, like torch.{name}", "FLOPs: 1 per element",
              aliases=aliases)  # fmt: skip
        for name, args, what, aliases in UNARY
    ),
    OpDef(
        "param", Category.LAYOUT, "ParamArgs", "a learnable tensor of `shape` (layer scale, class token, position "
        "embedding): no input; an operand of add, sub, mul, div, concat", "free; params: prod(shape)",
        aliases=("parameter",), torch="Parameter", source=True,
    ),
    OpDef(
        "constant", Category.LAYOUT, "ConstantArgs", "a non-learnable tensor of `shape` (a registered buffer, or with "
        "`buffer: false` a constant computed in forward: a position table, a resize matrix): no input; an operand of "
        "any op", "free; buffers: prod(shape) (`buffer: true`, the default), else nothing",
        aliases=("buffer", "register_buffer"), torch="Buffer", source=True,
    ),
    # several outputs, and joining on any axis (issue 11): split/chunk give a tuple, picked by ``from: name[k]``
    OpDef("concat", Category.LAYOUT, "ConcatArgs", "concatenation on an axis (`dim`, default -1: the channels)", "free",
          aliases=("cat", "concatenate"), merge=True),  # fmt: skip
    OpDef("stack", Category.LAYOUT, "StackArgs", "stacks equal shapes on a new axis `dim` (required: PyTorch's default "
          "counts the batch)", "free", merge=True),  # fmt: skip
    OpDef("split", Category.LAYOUT, "SplitArgs", "torch.split on axis `dim` (default -1): pieces of `sizes` (one size: "
          "equal pieces, the last smaller; a list: those sizes); several outputs, `from: name[k]`", "free",
          aliases=("split_with_sizes",), several=True),  # fmt: skip
    OpDef("chunk", Category.LAYOUT, "ChunkArgs", "torch.chunk on axis `dim` (default -1): `chunks` pieces of ceil(n / "
          "chunks), the last smaller, fewer when they run out; several outputs, `from: name[k]`", "free",
          several=True),  # fmt: skip
)

# layout ops (issue 11): move, regroup, slice, pad values on convcalc's logical axes; free; fields in docs/spec.md
LAYOUT_OPS = (  # name, argument type, summary, aliases
    ("permute", "PermuteArgs", "reorders the axes: `dims` lists every axis in its new order (like torch.permute)", ()),
    ("transpose", "TransposeArgs", "swaps axes `dim0` and `dim1` (like torch.transpose)", ("swapaxes", "swapdims")),
    ("movedim", "MovedimArgs", "moves axis `source` to position `destination` (like torch.movedim)", ("moveaxis",)),
    ("reshape", "ReshapeArgs", "a new `shape` of the same elements (one size may be -1), like torch.reshape", ("view",)),
    ("unflatten", "UnflattenArgs", "splits axis `dim` into `sizes` (one may be -1), like torch.unflatten", ()),
    ("squeeze", "SqueezeArgs", "removes axes of size 1 (`dims`, default every one), like torch.squeeze", ()),
    ("unsqueeze", "UnsqueezeArgs", "inserts an axis of size 1 at `dim`, like torch.unsqueeze", ()),
    ("expand", "ExpandArgs", "broadcasts axes of size 1 to `shape` (-1 keeps a size; new leading axes allowed), "
     "like Tensor.expand", ("broadcast_to",)),
    ("channel_shuffle", "ChannelShuffleArgs", "interleaves `groups` groups of channels (ShuffleNet), like "
     "nn.ChannelShuffle", ("channelshuffle",)),
    ("pixel_shuffle", "PixelShuffleArgs", "HxWx(C r^2) -> (H r)x(W r)xC by upscale factor `r`, like nn.PixelShuffle",
     ("pixelshuffle",)),
    ("pixel_unshuffle", "PixelUnshuffleArgs", "HxWxC -> (H/r)x(W/r)x(C r^2) by downscale factor `r`, like "
     "nn.PixelUnshuffle", ("pixelunshuffle",)),
    ("slice", "SliceArgs", "`start`:`stop`:`step` on axis `dim` (negative indices as in Python), like x[..., a:b:c]",
     ()),
    ("roll", "RollArgs", "rolls axes `dims` by `shifts` (without `dims`: the flattened tensor), like torch.roll", ()),
    ("index_select", "IndexSelectArgs", "the positions `index` of axis `dim`, in that order (a permutation, a "
     "selection, repeats), like torch.index_select", ("take",)),
)  # fmt: skip
LAYOUT_MODULES = {"flatten": "Flatten", "unflatten": "Unflatten", "channel_shuffle": "ChannelShuffle",
                  "pixel_shuffle": "PixelShuffle", "pixel_unshuffle": "PixelUnshuffle"}  # fmt: skip
CATALOGUE += tuple(
    OpDef(name, Category.LAYOUT, args, summary, "free", aliases=aliases, torch=LAYOUT_MODULES.get(name, ""))
    for name, args, summary, aliases in LAYOUT_OPS
)

# linear algebra and attention (issue 11): products of two activations, softmax on any axis, attention
CATALOGUE += (
    OpDef("logsoftmax", Category.ACTIVATION, "SoftmaxArgs", "log-softmax over the axis `dim` (default -1: the "
          "channels), like torch.nn.LogSoftmax", "FLOPs: 3 per element (exp, sum, subtract; one log per row)",
          aliases=("log_softmax",), torch="LogSoftmax"),  # fmt: skip
    OpDef("matmul", Category.LINEAR, "NoArgs", "torch.matmul of two inputs (`from: [a, b]`): (..., n, k) x (..., k, "
          "m) -> (..., n, m), the leading axes broadcast", "MACs: output elements x k; FLOPs: 2 x MACs",
          aliases=("bmm", "batch_matmul"), merge=True),  # fmt: skip
    OpDef("einsum", Category.LINEAR, "EinsumArgs", "torch.einsum of two inputs over convcalc's axes (batch left out, "
          "channels last): `equation` such as `lc,dc->ld`", "MACs: the output's and the contracted letters' sizes "
          "multiplied (0 without a contraction: a product); FLOPs: 2 x MACs (or the products) + the adds of letters "
          "summed in one operand only", merge=True),  # fmt: skip
    OpDef("attention", Category.LINEAR, "AttentionArgs", "scaled dot-product attention of `from: [q, k, v]` (and an "
          "additive mask), like F.scaled_dot_product_attention; `heads` splits the features into heads",
          "MACs: L_q x L_k x (d_qk + d_v) per head (q.kT and attention.v); FLOPs: 2 x MACs + 4 per score (scale, "
          "softmax) + 1 per score for a mask", aliases=("scaled_dot_product_attention", "sdpa"), merge=True),  # fmt: skip
    OpDef("mha", Category.LINEAR, "MHAArgs", "torch.nn.MultiheadAttention: in-projections, `heads` attention heads, "
          "out-projection; self-attention of one input, or `from: [q, kv]` or `[q, k, v]`",
          "MACs: L x E x E (q) + S x (kdim + vdim) x E (k, v) + S' x L x 2E (attention; S' = S + add_bias_kv + "
          "add_zero_attn) + L x E x E (out); FLOPs: 2 x MACs + biases + 4 per score",
          aliases=("multiheadattention", "multihead_attention", "multi_head_attention"),
          torch="MultiheadAttention", merge=True),  # fmt: skip
)

OPS_BY_NAME: dict[str, OpDef] = {op.name: op for op in CATALOGUE}
_SPELLINGS: dict[str, str] = {spelling: op.name for op in CATALOGUE for spelling in op.spellings}
OP_ARG_TYPES: dict[str, str] = {op.name: op.args for op in CATALOGUE}
ACTIVATIONS: tuple[str, ...] = tuple(op.name for op in CATALOGUE if op.args == "ActivationArgs")
MERGES: frozenset[str] = frozenset(op.name for op in CATALOGUE if op.merge)
SEVERAL_OUTPUTS: frozenset[str] = frozenset(op.name for op in CATALOGUE if op.several)
SOURCES: frozenset[str] = frozenset(op.name for op in CATALOGUE if op.source)  # ops without an input: param, constant
UNARY_MATH: tuple[str, ...] = tuple(name for name, *_ in UNARY)  # exp, log, sqrt, ... (1 FLOP per element)
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
