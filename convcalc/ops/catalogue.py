"""Names of the ops a network spec can use: canonical names, their argument types and spelling variants."""

from __future__ import annotations

ACTIVATIONS = (
    "relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "swish", "leakyrelu", "elu", "selu", "celu", "mish",
    "hardswish", "hardsigmoid", "hardtanh", "softplus", "logsigmoid",
)  # fmt: skip

# op -> name of its argument TypedDict in convcalc.spec.schema
OP_ARG_TYPES: dict[str, str] = {
    "conv": "ConvArgs",
    "deconv": "DeconvArgs",
    "maxpool": "MaxPoolArgs",
    "avgpool": "AvgPoolArgs",
    "adaptive_avgpool": "AdaptivePoolArgs",
    "adaptive_maxpool": "AdaptivePoolArgs",
    "global_avgpool": "NoArgs",
    "global_maxpool": "NoArgs",
    "linear": "LinearArgs",
    "flatten": "NoArgs",
    "bn": "BatchNormArgs",
    "prelu": "PReLUArgs",
    "softmax": "SoftmaxArgs",
    "dropout": "DropoutArgs",
    "identity": "NoArgs",
    "upsample": "UpsampleArgs",
    "pad": "PadArgs",
    "add": "NoArgs",
    "mul": "NoArgs",
    "concat": "NoArgs",
    "crop": "PadArgs",
    **{name: "ActivationArgs" for name in ACTIVATIONS},
}

# Spelling variants users write; the canonical name is what tables and JSON show.
OP_ALIASES = {
    "conv1d": "conv", "conv2d": "conv", "conv3d": "conv", "convolution": "conv",
    "transpose": "deconv", "convtranspose": "deconv", "conv_transpose": "deconv",
    "convtranspose1d": "deconv", "convtranspose2d": "deconv", "convtranspose3d": "deconv",
    "max_pool": "maxpool", "maxpool1d": "maxpool", "maxpool2d": "maxpool", "maxpool3d": "maxpool",
    "avg_pool": "avgpool", "avgpool1d": "avgpool", "avgpool2d": "avgpool", "avgpool3d": "avgpool",
    "adaptiveavgpool": "adaptive_avgpool", "adaptivemaxpool": "adaptive_maxpool",
    "global_avg_pool": "global_avgpool", "global_max_pool": "global_maxpool", "gap": "global_avgpool",
    "fc": "linear", "dense": "linear",
    "batchnorm": "bn", "batch_norm": "bn", "batchnorm1d": "bn", "batchnorm2d": "bn", "batchnorm3d": "bn",
    "leaky_relu": "leakyrelu", "hard_swish": "hardswish", "zeropad": "pad",
    "cat": "concat", "sum": "add", "interpolate": "upsample", "multiply": "mul", "prod": "mul",
}  # fmt: skip


def canonical_op(name: str) -> str | None:
    """The canonical op name for a spelling, or None when it names no op."""
    key = name.strip().lower()
    return key if key in OP_ARG_TYPES else OP_ALIASES.get(key)
