"""convcalc's own convention: the multiply-accumulates of the weights, biases and everything else excluded (their
FLOPs are counted apart)."""

from __future__ import annotations

from convcalc.conventions.base import POOLING, RESHAPES, Layer, Rule, Tool, zero
from convcalc.ops.catalogue import ACTIVATIONS, UNARY_MATH
from convcalc.ops.handlers import OPS

TOOL = Tool("convcalc", "", "MACs", "convcalc net SPEC")


def ours_conv(layer: Layer) -> dict[str, int]:
    """conv: output positions x C_out x (C_in/g) x prod(k); bias excluded."""
    return {"conv weights": layer.out_positions * layer.weights}


def ours_deconv(layer: Layer) -> dict[str, int]:
    """Transposed conv: per *input* position, input positions x C_in x (C_out/g) x prod(k); bias excluded."""
    return {"conv weights": layer.in_positions * layer.weights}


def ours_linear(layer: Layer) -> dict[str, int]:
    """linear: rows x in x out (every position of a (..., in) input is a row); bias excluded."""
    return {"linear": layer.in_positions * layer.in_channels * layer.out_channels}


def ours_product(layer: Layer) -> dict[str, int]:
    """matmul, einsum, attention, mha: their multiply-accumulates as PyTorch's FlopCounterMode counts them (total /
    2, attention by its math backend): output elements x k (matmul); the output's and the contracted letters'
    sizes (einsum, 0 for a product without a contraction); L x S x (E + Ev) per leading index (attention, q.kT and
    attention.v); the projections plus the attention (mha). Biases excluded."""
    return {"linear": OPS[layer.op](dict(layer.args), list(layer.input_shapes)).macs}


RULES: dict[str, Rule] = {
    "conv": ours_conv,
    "deconv": ours_deconv,
    "linear": ours_linear,
    **dict.fromkeys(
        ("bn", "prelu", "softmax", "logsoftmax", "upsample", "add", "mul", *ACTIVATIONS, *POOLING, *RESHAPES),
        zero("convcalc's MACs are the multiply-accumulates of the weights (their FLOPs are counted apart)"),
    ),
    **dict.fromkeys(
        ("layernorm", "rmsnorm", "groupnorm", "instancenorm", "lrn", "mean", "sum", "amax", "amin", "var", "norm"),
        zero("norms and reductions have no multiply-accumulates of weights (their FLOPs are counted apart)"),
    ),
    **dict.fromkeys(
        ("sub", "div", "param", "constant", *UNARY_MATH),
        zero("pointwise math has no multiply-accumulates of weights (its FLOPs are counted apart); a param or a "
             "constant is a tensor, not a computation"),
    ),
    **dict.fromkeys(("matmul", "einsum", "attention", "mha"), ours_product),
    **dict.fromkeys(("interpolate", "unfold", "fold"), zero("resampling has no multiply-accumulates of weights (its "
                                                           "FLOPs are counted apart)")),
}
