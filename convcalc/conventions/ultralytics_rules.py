"""Ultralytics 8.4.190 with ultralytics-thop 2.2.3: ``get_flops(model, imgsz) / 2`` in MACs (Ultralytics prints
GFLOPs = 2 x these MACs / 1e9). ``thop.profile`` hooks each module type (``count_convNd``, ``count_normalization``,
...) and, since ultralytics PR #25545, counts the products a forward runs as function calls outside any counted module
(``q @ k`` in ``Attention``: one multiply-add per output element per element of the contracted axis).

``get_flops`` profiles proxy images one stride (the model's largest, at least 32) tall and a few strides wide and
extrapolates to the image (Newton forward differences over 1, 2 or 4 proxies, as the model has only convolutions,
fixed-size layers, or products quadratic in the positions); for models whose costs are such polynomials in the
number of stride cells (every YOLO family convcalc reads) that is exactly the count at the image itself, which is
what these rules give, layer by layer.

These rules describe the modules Ultralytics builds: its softmax, activations other than modules, pooling in
``ADown`` and the box decoding are function calls (not counted); ``nn.Upsample`` is nearest (0).
"""

from __future__ import annotations

from math import prod

from convcalc.conventions.base import Layer, Rule, Tool, zero
from convcalc.ops.catalogue import OPS_BY_NAME

TOOL = Tool("ultralytics", "8.4.190 (ultralytics-thop 2.2.3)", "MACs (GFLOPs / 2)",
            "ultralytics.utils.torch_utils.get_flops(model, imgsz) / 2 * 1e9")  # fmt: skip


def conv(layer: Layer) -> dict[str, int]:
    """``count_convNd``: output elements x C_in/g x prod(k); the bias is not counted."""
    return {"conv weights": layer.out_elements * (layer.in_channels // layer.groups) * prod(layer.kernel)}


def deconv(layer: Layer) -> dict[str, int]:
    """``count_convtNd``: input elements x C_out/g x prod(k) (per input position); the bias is not counted."""
    return {"conv weights": layer.in_elements * (layer.out_channels // layer.groups) * prod(layer.kernel)}


def linear(layer: Layer) -> dict[str, int]:
    """``count_linear``: in_features x output elements; the bias is not counted."""
    return {"linear": layer.in_channels * layer.out_elements}


def batchnorm(layer: Layer) -> dict[str, int]:
    """``count_normalization``: 2 x input elements, doubled when affine (Ultralytics' BatchNorm2d: 4 x)."""
    affine = layer.args.get("elementwise_affine", True) if layer.op == "layernorm" else layer.args.get("affine", layer.op == "bn")
    return {"normalisation": layer.in_elements * (4 if affine else 2)}


def adaptive_avgpool(layer: Layer) -> dict[str, int]:
    """``count_adap_avgpool``: one add per pooled input (the sizes of PyTorch's windows, per axis) + one divide per
    output."""
    pooled = layer.output_shape[:-1] if layer.op == "adaptive_avgpool" else (1,) * (len(layer.input_shape) - 1)
    reads = layer.in_channels
    for n, out in zip(layer.input_shape[:-1], pooled):
        reads *= n if n == out else sum(-(-(j + 1) * n // out) - j * n // out for j in range(out))
    return {"pooling": reads + prod(layer.output_shape)}


def matmul(layer: Layer) -> dict[str, int]:
    """``q @ k`` (``torch.matmul``, counted as a function since PR #25545): output elements x the contracted size."""
    return {"other": layer.out_elements * layer.input_shapes[0][-1]}


def einsum(layer: Layer) -> dict[str, int]:
    """``torch.einsum`` of two operands: the product of every letter's size that both operands have or the output
    keeps (size 1 letters left out), as ``_count_einsum``; convcalc writes Ultralytics' ``a @ b`` products so."""
    equation = str(layer.args.get("equation", ""))
    inputs, _, output = equation.replace(" ", "").partition("->")
    operands = inputs.split(",")
    if len(operands) != 2 or len(layer.input_shapes) != 2:
        return {}
    sizes = [{letter: size for letter, size in zip(term, shape) if size != 1} for term, shape in zip(operands, layer.input_shapes)]
    total = 1
    for letter in sizes[0].keys() | sizes[1].keys():
        if (letter in sizes[0] and letter in sizes[1]) or letter in output:
            total *= sizes[0].get(letter, sizes[1].get(letter, 1))
    return {"other": total}


def attention(layer: Layer) -> dict[str, int]:
    """``F.scaled_dot_product_attention`` (``_count_sdpa``): per query, keys x (q features + v features)."""
    q, k, v = layer.input_shapes[:3]
    return {"other": prod(layer.output_shape) // v[-1] * k[-2] * (q[-1] + v[-1])}


def softmax(layer: Layer) -> dict[str, int]:
    """``count_softmax`` of an ``nn.Softmax`` module; Ultralytics calls ``x.softmax(dim)`` (DFL, Attention,
    Classify), a function thop does not count: 0."""
    return {}


COUNTED: dict[str, Rule] = {
    "conv": conv,
    "deconv": deconv,
    "linear": linear,
    "bn": batchnorm,
    "layernorm": batchnorm,
    "instancenorm": batchnorm,
    "adaptive_avgpool": adaptive_avgpool,
    "global_avgpool": adaptive_avgpool,
    "avgpool": zero("Ultralytics pools on average with F.avg_pool2d (ADown), a function call thop does not count"),
    "matmul": matmul,
    "einsum": einsum,
    "attention": attention,
    "softmax": softmax,
}

RULES: dict[str, Rule] = {
    op: COUNTED.get(op) or zero("no thop rule for its module (activations, MaxPool2d, Identity, Dropout, nearest "
                                "nn.Upsample) or a function call thop does not count (torch.cat, +, *, view, split)")
    for op in OPS_BY_NAME
}
