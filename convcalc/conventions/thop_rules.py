"""thop 0.1.1.post2209072238: ``thop.profile(model, inputs=(x,))[0]``, a hook per module type (``count_convNd``,
``count_linear``, ...); function calls such as ``x + y`` are not seen."""

from __future__ import annotations

from math import prod

from convcalc.conventions.base import RESHAPES, Layer, Rule, Tool, zero
from convcalc.ops.catalogue import ACTIVATIONS, UNARY_MATH

TOOL = Tool("thop", "0.1.1.post2209072238", "MACs", "thop.profile(model, inputs=(x,))[0]")


def thop_conv(layer: Layer) -> dict[str, int]:
    """``count_convNd`` (ConvNd and ConvTransposeNd alike): output elements x (C_in/g) x prod(k), with C_in the
    input's channels; bias ignored. A transposed conv is thus counted per *output* position."""
    return {"conv weights": layer.out_elements * (layer.in_channels // layer.groups) * prod(layer.kernel)}


def thop_linear(layer: Layer) -> dict[str, int]:
    """``count_linear``: in_features x output elements (every row); bias ignored."""
    return {"linear": layer.in_channels * layer.out_elements}


def thop_bn(layer: Layer) -> dict[str, int]:
    """``count_normalization``: 2 x input elements, doubled with ``affine``: 4 x input elements."""
    return {"normalisation": layer.in_elements * (4 if layer.args.get("affine", True) else 2)}


def thop_prelu(layer: Layer) -> dict[str, int]:
    """``count_prelu`` in eval mode (``profile`` sets it): input elements."""
    return {"activation": layer.in_elements}


def thop_softmax(layer: Layer) -> dict[str, int]:
    """``count_softmax`` over its ``dim`` (the channels by default: ``nn.Softmax(dim=1)``): exp, sum and divide,
    (3n - 1) per row of n values along that axis."""
    n = layer.input_shape[layer.args.get("dim", -1) % len(layer.input_shape)]
    return {"activation": layer.in_elements // n * (3 * n - 1)}


def thop_avgpool(layer: Layer) -> dict[str, int]:
    """``count_avgpool``: output elements."""
    return {"pooling": layer.out_elements}


def thop_adaptive_avgpool(layer: Layer) -> dict[str, int]:
    """``count_adap_avgpool``: kernel = prod(input size / output size) as floats, (kernel + 1) x output elements,
    truncated to an int (in double precision, as thop does). A global pooling pools to 1 in every dimension."""
    pooled = layer.output_shape[:-1] if layer.op == "adaptive_avgpool" else (1,) * (len(layer.input_shape) - 1)
    kernel = 1.0
    for n, out in zip(layer.input_shape[:-1], pooled):
        kernel *= n / out
    return {"pooling": int((kernel + 1) * layer.out_elements)}


THOP_UPSAMPLE = {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 224 + 35}  # trilinear: 0, with a warning


def thop_upsample(layer: Layer) -> dict[str, int]:
    """``count_upsample``: output elements x 1 (nearest), 5 (linear), 11 (bilinear), 259 (bicubic); trilinear is
    not in its list of modes: 0."""
    return {"other": layer.out_elements * THOP_UPSAMPLE.get(layer.args.get("mode", "nearest"), 0)}


def thop_norm(layer: Layer) -> dict[str, int]:
    """``count_normalization`` on LayerNorm and InstanceNormNd: 2 x input elements, doubled when ``affine`` or
    ``elementwise_affine`` is true (a bias alone changes nothing)."""
    affine = layer.args.get("elementwise_affine", True) if layer.op == "layernorm" else layer.args.get("affine", False)
    return {"normalisation": layer.in_elements * (4 if affine else 2)}


RULES: dict[str, Rule] = {
    "conv": thop_conv,
    "deconv": thop_conv,
    "linear": thop_linear,
    "bn": thop_bn,
    "prelu": thop_prelu,
    "softmax": thop_softmax,
    "avgpool": thop_avgpool,
    "adaptive_avgpool": thop_adaptive_avgpool,
    "global_avgpool": thop_adaptive_avgpool,  # exported as AdaptiveAvgPoolNd(1)
    "upsample": thop_upsample,
    **dict.fromkeys(("maxpool", "adaptive_maxpool", "global_maxpool"), zero("zero_ops")),
    **dict.fromkeys(
        ACTIVATIONS, zero("ReLU, ReLU6: zero_ops; LeakyReLU: count_relu, which returns 0; the others: no hook")
    ),
    "add": zero("x + y is a function call: thop hooks modules only"),
    "mul": zero("x * y is a function call: thop hooks modules only"),
    **dict.fromkeys(RESHAPES, zero("Dropout: zero_ops; Flatten, Unflatten, Identity, the padding modules, PixelShuffle, "
                                          "ChannelShuffle: no hook; torch.cat, permute, reshape, slicing, roll: calls")),
    **dict.fromkeys(("layernorm", "instancenorm"), thop_norm),
    **dict.fromkeys(("groupnorm", "rmsnorm", "lrn"), zero("GroupNorm, RMSNorm, LocalResponseNorm: no hook")),
    **dict.fromkeys(("mean", "sum", "amax", "amin", "var", "norm"), zero("x.mean(...), x.sum(...), ... are calls: thop hooks modules only")),
    **dict.fromkeys(("sub", "div", *UNARY_MATH), zero("x - y, x / y, torch.exp(x), ... are function calls: thop "
                                                     "hooks modules only")),
    "constant": zero("not a module: thop counts no buffer and no tensor made in forward"),
    "param": zero("not a module: thop neither counts it nor adds it to its params"),
    "logsoftmax": zero("LogSoftmax: no hook"),
    **dict.fromkeys(("matmul", "einsum", "attention"), zero("torch.matmul, torch.einsum, "
                                                           "F.scaled_dot_product_attention are function calls")),
    "mha": zero("nn.MultiheadAttention has no hook, and its forward calls F.linear, never its out_proj module"),
    "interpolate": zero("F.interpolate is a function call: thop hooks modules only (count_upsample is nn.Upsample's)"),
    **dict.fromkeys(("unfold", "fold"), zero("nn.Unfold and nn.Fold: no hook")),
}
