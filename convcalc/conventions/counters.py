"""Counting conventions: the number each popular PyTorch counter reports, reproduced from a spec, layer by layer.

The counters disagree because each counts a different set of things (bias or not, batch norm or not, activations,
pooling, how a transposed conv is counted). Under a convention, a layer's count is exactly what that tool adds for
the layer's PyTorch module at batch size 1 (the module convcalc's ``export --to torch`` writes for it, which is
what torchvision uses: ``nn.ReLU``, ``nn.MaxPool2d``, ``nn.AdaptiveAvgPool2d``, ``x + y`` for residual adds), split
by :data:`CATEGORIES` so that the differences between conventions can be explained.

Versions whose source these rules were read from, and checked against (``pip install 'convcalc[torch,counters]'``):

========== ====================== ============================================================================
convention version                the number reproduced
========== ====================== ============================================================================
torchinfo  1.8.0                  ``torchinfo.summary(model, input_size=(1, C, H, W)).total_mult_adds``
fvcore     0.1.5.post20221221     ``fvcore.nn.FlopCountAnalysis(model.eval(), x).total()``
ptflops    0.7.5                  ``get_model_complexity_info(model, (C, H, W), as_strings=False)[0]``
                                  (its default backend, ``pytorch``, with functional counting on; its README
                                  says ``aten`` is the default, its code does not)
thop       0.1.1.post2209072238   ``thop.profile(model, inputs=(x,))[0]``
========== ====================== ============================================================================

For torchvision's ResNet-50 at 224x224: convcalc 4,089,184,256; torchinfo 4,089,238,376; fvcore 4,111,512,576;
ptflops 4,132,436,968; thop 4,133,742,592.

Every rule is per sample (batch 1); convcalc multiplies by ``--batch``. (The tools themselves are not all linear in
the batch: ptflops divides its module counts by the batch but not its functional ones; thop truncates adaptive
average pooling's fractional count after multiplying by the batch.)

Pure Python: nothing here imports torch or the tools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING, Any, Union

from convcalc.core.layer import ConvSpec, LayerResult, LinearSpec, PoolSpec
from convcalc.core.notation import Shape
from convcalc.errors import ConvCalcError
from convcalc.ops.catalogue import ACTIVATIONS, Category, ops_in

if TYPE_CHECKING:  # the network modules load only when a network is counted (`convcalc layer` needs none)
    from convcalc.graph.analysis import Report, Row
    from convcalc.graph.model import Network

    Rows = Union[Report, Network, Sequence[Row]]

CONVENTIONS = ("convcalc", "torchinfo", "fvcore", "ptflops", "thop")
CATEGORIES = ("conv weights", "bias", "linear", "normalisation", "activation", "pooling", "elementwise add", "other")


@dataclass(frozen=True)
class Tool:
    """A counter: the version whose rules a convention follows, what it calls its number and how to get it."""

    name: str
    version: str
    calls_it: str
    call: str


TOOLS: dict[str, Tool] = {
    "convcalc": Tool("convcalc", "", "MACs", "convcalc net SPEC"),
    "torchinfo": Tool(
        "torchinfo", "1.8.0", "mult-adds", "torchinfo.summary(model, input_size=(1, C, H, W)).total_mult_adds"
    ),
    "fvcore": Tool("fvcore", "0.1.5.post20221221", "flops", "fvcore.nn.FlopCountAnalysis(model.eval(), x).total()"),
    "ptflops": Tool(
        "ptflops",
        "0.7.5",
        "MACs",
        "ptflops.get_model_complexity_info(model, (C, H, W), as_strings=False, backend='pytorch')[0]",
    ),
    "thop": Tool("thop", "0.1.1.post2209072238", "MACs", "thop.profile(model, inputs=(x,))[0]"),
}


# --------------------------------------------------------------------------- what a rule sees of a layer


@dataclass(frozen=True)
class Layer:
    """One layer at batch 1, as the rules see it. Shapes are convcalc's: channels last, batch excluded."""

    op: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    args: Mapping[str, Any] = field(default_factory=dict)
    kernel: tuple[int, ...] = ()
    pads: tuple[tuple[int, int], ...] = ()  # (before, after) per dimension: conv, deconv, pooling
    groups: int = 1
    bias: bool = False

    @property
    def input_shape(self) -> Shape:
        return self.input_shapes[0]

    @property
    def in_elements(self) -> int:
        return prod(self.input_shape)

    @property
    def out_elements(self) -> int:
        return prod(self.output_shape)

    @property
    def in_positions(self) -> int:
        """Input elements per channel (spatial positions, or rows before a linear layer)."""
        return prod(self.input_shape[:-1])

    @property
    def out_positions(self) -> int:
        return prod(self.output_shape[:-1])

    @property
    def in_channels(self) -> int:
        return self.input_shape[-1]

    @property
    def out_channels(self) -> int:
        return self.output_shape[-1]

    @property
    def torch_in_elements(self) -> int:
        """Input elements as the PyTorch module sees them: PyTorch pads symmetrically only, so a window layer with
        any uneven padding is exported as an explicit pad, then the layer on the padded input."""
        if all(lo == hi for lo, hi in self.pads):
            return self.in_elements
        return prod(n + lo + hi for n, (lo, hi) in zip(self.input_shape[:-1], self.pads)) * self.in_channels

    @property
    def weights(self) -> int:
        """Weight count of a conv, transposed conv or linear layer: prod(k) * C_in * C_out / g."""
        return prod(self.kernel) * self.in_channels * self.out_channels // self.groups


def _spec_facts(spec: object) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...], int, bool]:
    """(kernel, padding, groups, bias) of a resolved layer spec; empty kernel and padding for other layers."""
    kernel: tuple[int, ...] = ()
    pads: tuple[tuple[int, int], ...] = ()
    if isinstance(spec, (ConvSpec, PoolSpec)):
        kernel = tuple(w.kernel for w in spec.windows)
        pads = tuple(w.pad for w in spec.windows)
    groups = spec.groups if isinstance(spec, ConvSpec) else 1
    bias = spec.bias if isinstance(spec, (ConvSpec, LinearSpec)) else False
    return kernel, pads, groups, bias


def layer_of_row(row: Row) -> Layer:
    """The rules' view of one layer of an analysed network: its node's arguments, input shapes and op result, as
    the report keeps them (nothing is recomputed)."""
    node, result = row.node, row.result
    assert node is not None and result is not None, "rows made by analyze() carry their node and result"
    kernel, pads, groups, bias = _spec_facts(result.layer.spec if result.layer is not None else None)
    if node.op == "linear":
        bias = node.args.get("bias", True)
    return Layer(node.op, row.input_shapes, result.output_shape, node.args, kernel, pads, groups, bias)


def layer_of_result(result: LayerResult) -> Layer:
    """The rules' view of one layer computed by ``convcalc layer`` (conv, deconv, maxpool, avgpool, linear)."""
    kernel, pads, groups, bias = _spec_facts(result.spec)
    return Layer(result.op, (result.input_shape,), result.output_shape, {}, kernel, pads, groups, bias)


Rule = Callable[[Layer], dict[str, int]]

POOLING = ops_in(Category.POOLING)
RESHAPES = ops_in(Category.LAYOUT)  # move or copy values: no tool counts them


def zero(why: str) -> Rule:
    """A rule for ops a tool counts as 0, saying why."""

    def rule(layer: Layer) -> dict[str, int]:
        return {}

    rule.__doc__ = f"0: {why}"
    return rule


# --------------------------------------------------------------------------- convcalc (ours)


def ours_conv(layer: Layer) -> dict[str, int]:
    """conv: output positions x C_out x (C_in/g) x prod(k); bias excluded."""
    return {"conv weights": layer.out_positions * layer.weights}


def ours_deconv(layer: Layer) -> dict[str, int]:
    """Transposed conv: per *input* position, input positions x C_in x (C_out/g) x prod(k); bias excluded."""
    return {"conv weights": layer.in_positions * layer.weights}


def ours_linear(layer: Layer) -> dict[str, int]:
    """linear: rows x in x out (every position of a (..., in) input is a row); bias excluded."""
    return {"linear": layer.in_positions * layer.in_channels * layer.out_channels}


CONVCALC: dict[str, Rule] = {
    "conv": ours_conv,
    "deconv": ours_deconv,
    "linear": ours_linear,
    **dict.fromkeys(
        ("bn", "prelu", "softmax", "upsample", "add", "mul", *ACTIVATIONS, *POOLING, *RESHAPES),
        zero("convcalc's MACs are the multiply-accumulates of the weights (their FLOPs are counted apart)"),
    ),
}


# --------------------------------------------------------------------------- torchinfo 1.8.0


def torchinfo_conv(layer: Layer) -> dict[str, int]:
    """``LayerInfo.calculate_macs``, class name containing "Conv" (ConvNd and ConvTransposeNd alike): every
    parameter named ``weight`` or ``bias`` times the output positions, batch x prod(output spatial). A transposed
    conv is thus counted per *output* position: output positions x C_in x (C_out/g) x prod(k), plus C_out biases
    per output position."""
    counts = {"conv weights": layer.out_positions * layer.weights}
    if layer.bias:
        counts["bias"] = layer.out_positions * layer.out_channels
    return counts


def torchinfo_linear(layer: Layer) -> dict[str, int]:
    """Any other module: ``weight`` and ``bias`` parameter counts times ``output_size[0]`` (the batch), so a linear
    layer costs in x out + out per sample however many rows it applies to (a linear layer on (N, L, C) counts one
    row, not L)."""
    counts = {"linear": layer.in_channels * layer.out_channels}
    if layer.bias:
        counts["bias"] = layer.out_channels
    return counts


def torchinfo_bn(layer: Layer) -> dict[str, int]:
    """Batch norm: its parameters (weight, bias: 2C) once per sample; nothing without ``affine``."""
    return {"normalisation": 2 * layer.in_channels} if layer.args.get("affine", True) else {}


def torchinfo_prelu(layer: Layer) -> dict[str, int]:
    """PReLU: its ``weight`` (1 or C slopes) once per sample."""
    return {"activation": layer.args.get("num_parameters", 1)}


TORCHINFO: dict[str, Rule] = {
    "conv": torchinfo_conv,
    "deconv": torchinfo_conv,
    "linear": torchinfo_linear,
    "bn": torchinfo_bn,
    "prelu": torchinfo_prelu,
    **dict.fromkeys(
        ("softmax", "upsample", *ACTIVATIONS, *POOLING, *RESHAPES),
        zero("a module without parameters: torchinfo counts parameters named weight and bias only"),
    ),
    "add": zero("x + y is a function call, not a module: torchinfo sees modules only"),
    "mul": zero("x * y is a function call, not a module: torchinfo sees modules only"),
}


# --------------------------------------------------------------------------- fvcore 0.1.5.post20221221


def fvcore_conv(layer: Layer) -> dict[str, int]:
    """``conv_flop_jit`` on ``aten::_convolution``: prod(weight shape) x output positions; bias ignored."""
    return {"conv weights": layer.out_positions * layer.weights}


def fvcore_deconv(layer: Layer) -> dict[str, int]:
    """``conv_flop_jit``, transposed: prod(weight shape) x *input* positions (as ours); bias ignored."""
    return {"conv weights": layer.in_positions * layer.weights}


def fvcore_linear(layer: Layer) -> dict[str, int]:
    """``linear_flop_jit`` on ``aten::linear``: prod(input shape) x out (all rows); bias ignored."""
    return {"linear": layer.in_elements * layer.out_channels}


def fvcore_bn(layer: Layer) -> dict[str, int]:
    """``batchnorm_flop_jit``: in eval mode input elements x (2 with ``affine``, else 1). Without running statistics
    ``F.batch_norm`` runs in training mode even in eval, and fvcore then counts x5 (affine) or x4. (A model left in
    training mode is counted x5 everywhere: convcalc assumes ``model.eval()``.)"""
    affine = layer.args.get("affine", True)
    if layer.args.get("track_running_stats", True):
        return {"normalisation": layer.in_elements * (2 if affine else 1)}
    return {"normalisation": layer.in_elements * (5 if affine else 4)}


def fvcore_adaptive_avgpool(layer: Layer) -> dict[str, int]:
    """``aten::adaptive_avg_pool2d``: input elements x 1. Only the 2-D op has a handle: 1-D and 3-D adaptive average
    pooling are unsupported ops, counted 0 (with a warning)."""
    return {"pooling": layer.in_elements} if len(layer.input_shape) == 3 else {}


FVCORE_UPSAMPLE = {"nearest": 1, "bilinear": 4}  # aten::upsample_nearest2d, aten::upsample_bilinear2d


def fvcore_upsample(layer: Layer) -> dict[str, int]:
    """``aten::upsample_nearest2d``: output elements x 1; ``aten::upsample_bilinear2d``: x 4. Other modes and
    1-D or 3-D upsampling are unsupported ops: 0."""
    if len(layer.input_shape) != 3:
        return {}
    return {"other": layer.out_elements * FVCORE_UPSAMPLE.get(layer.args.get("mode", "nearest"), 0)}


FVCORE: dict[str, Rule] = {
    "conv": fvcore_conv,
    "deconv": fvcore_deconv,
    "linear": fvcore_linear,
    "bn": fvcore_bn,
    "adaptive_avgpool": fvcore_adaptive_avgpool,
    "global_avgpool": fvcore_adaptive_avgpool,  # exported as AdaptiveAvgPoolNd(1)
    "upsample": fvcore_upsample,
    **dict.fromkeys(
        ("maxpool", "avgpool", "adaptive_maxpool", "global_maxpool", "prelu", "softmax", *ACTIVATIONS),
        zero("no handle for the aten op (aten::relu and aten::relu_ are ignored, the others reported unsupported)"),
    ),
    "add": zero("aten::add and aten::add_ have no handle (reported unsupported)"),
    "mul": zero("aten::mul has no handle (reported unsupported)"),
    **dict.fromkeys(RESHAPES, zero("ignored or unsupported aten op (flatten, dropout, cat, constant_pad_nd)")),
}


# --------------------------------------------------------------------------- ptflops 0.7.5, pytorch backend


def ptflops_conv(layer: Layer) -> dict[str, int]:
    """``conv_flops_counter_hook``: prod(k) x C_in x (C_out/g) per output position, plus one add per output
    element for the bias."""
    counts = {"conv weights": layer.out_positions * layer.weights}
    if layer.bias:
        counts["bias"] = layer.out_elements
    return counts


def ptflops_deconv(layer: Layer) -> dict[str, int]:
    """``conv_flops_counter_hook(transpose=True)``: the weights per *input* position (as ours), plus one add per
    output element for the bias."""
    counts = {"conv weights": layer.in_positions * layer.weights}
    if layer.bias:
        counts["bias"] = layer.out_elements
    return counts


def ptflops_linear(layer: Layer) -> dict[str, int]:
    """``linear_flops_counter_hook``: (in x out + out) per row, every row of a (..., in) input."""
    counts = {"linear": layer.in_positions * layer.in_channels * layer.out_channels}
    if layer.bias:
        counts["bias"] = layer.in_positions * layer.out_channels
    return counts


def ptflops_bn(layer: Layer) -> dict[str, int]:
    """``bn_flops_counter_hook``: input elements, x2 with ``affine``."""
    return {"normalisation": layer.in_elements * (2 if layer.args.get("affine", True) else 1)}


def ptflops_activation(times: int) -> Rule:
    """A rule counting ``times`` x the elements."""

    def rule(layer: Layer) -> dict[str, int]:
        return {"activation": times * layer.in_elements}

    rule.__doc__ = (
        f"{times} x the elements: ``relu_flops_counter_hook`` (output elements) on ReLU, PReLU, ELU, LeakyReLU, "
        "ReLU6 and GELU modules, plus the patched functional (input elements) when the module's forward calls "
        "F.relu, F.prelu, F.elu, F.gelu, F.silu or F.softmax. So ReLU, PReLU, ELU, GELU: 2; LeakyReLU, ReLU6 "
        "(F.hardtanh): 1, module only; SiLU, Softmax: 1, functional only."
    )
    return rule


PTFLOPS_ACTIVATIONS = {"relu": 2, "prelu": 2, "elu": 2, "gelu": 2, "leakyrelu": 1, "relu6": 1, "silu": 1, "swish": 1,
                       "softmax": 1}  # fmt: skip


def ptflops_pool(layer: Layer) -> dict[str, int]:
    """``pool_flops_counter_hook`` (input elements) on every Max/Avg/AdaptiveMax/AdaptiveAvg pooling module, plus
    the patched functional ``F.max_pool2d``, ``F.adaptive_avg_pool2d``, ... (input elements) that its ``forward``
    calls: 2 x input elements (of the padded input when the padding is uneven: see ``Layer.torch_in_elements``)."""
    return {"pooling": 2 * layer.torch_in_elements}


def ptflops_upsample(layer: Layer) -> dict[str, int]:
    """``upsample_flops_counter_hook`` (output elements) plus the patched ``F.interpolate`` (input elements x the
    scale factors = output elements): 2 x output elements, whatever the mode."""
    return {"other": 2 * layer.out_elements}


PTFLOPS: dict[str, Rule] = {
    "conv": ptflops_conv,
    "deconv": ptflops_deconv,
    "linear": ptflops_linear,
    "bn": ptflops_bn,
    **dict.fromkeys(
        (op for op in ACTIVATIONS if op not in PTFLOPS_ACTIVATIONS),
        zero("neither a module in MODULES_MAPPING nor a patched functional (sigmoid, tanh, selu, mish, ...)"),
    ),
    **{op: ptflops_activation(times) for op, times in PTFLOPS_ACTIVATIONS.items()},
    **dict.fromkeys(POOLING, ptflops_pool),
    "upsample": ptflops_upsample,
    "add": zero("x + y calls Tensor.__add__ (or __iadd__ for +=), not the patched torch.add / Tensor.add"),
    "mul": zero("x * y calls Tensor.__mul__, not the patched torch.mul / Tensor.mul"),
    **dict.fromkeys(RESHAPES, zero("not in MODULES_MAPPING, no patched functional")),
}


# --------------------------------------------------------------------------- thop 0.1.1.post2209072238


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
    """``count_softmax`` over the channel axis (``nn.Softmax(dim=1)``): exp, sum and divide, (3C - 1) per position."""
    return {"activation": layer.in_positions * (3 * layer.in_channels - 1)}


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


THOP: dict[str, Rule] = {
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
    **dict.fromkeys(RESHAPES, zero("Dropout: zero_ops; Flatten, Identity, ConstantPadNd: no hook; torch.cat: a call")),
}


# --------------------------------------------------------------------------- dispatch

RULES: dict[str, dict[str, Rule]] = {
    "convcalc": CONVCALC,
    "torchinfo": TORCHINFO,
    "fvcore": FVCORE,
    "ptflops": PTFLOPS,
    "thop": THOP,
}


def check_convention(convention: str) -> str:
    if convention not in RULES:
        raise ConvCalcError(f"unknown convention {convention!r}; choose {', '.join(CONVENTIONS)}", "convention")
    return convention


def layer_breakdown(convention: str, layer: Layer) -> dict[str, int]:
    """Category -> count of one layer at batch 1 under ``convention`` (every category present, zeros included)."""
    rule = RULES[check_convention(convention)].get(layer.op)
    if rule is None:
        raise ConvCalcError(f"no {convention} rule for op {layer.op!r}", "convention")
    counts = dict.fromkeys(CATEGORIES, 0)
    counts.update(rule(layer))
    return counts


def rule_description(convention: str, op: str) -> str:
    """What ``convention`` counts for ``op``, in one line: its rule's docstring without reStructuredText marks."""
    rule = RULES[check_convention(convention)].get(op)
    if rule is None:
        raise ConvCalcError(f"no {convention} rule for op {op!r}", "convention")
    return " ".join((rule.__doc__ or "").replace("``", "").split())


def breakdown(convention: str, row: Row) -> dict[str, int]:
    """Category -> count of one layer of a report, at batch 1, under ``convention``."""
    return layer_breakdown(convention, layer_of_row(row))


def result_breakdown(convention: str, result: LayerResult) -> dict[str, int]:
    """Category -> count of one ``convcalc layer`` result, per sample (batch 1) whatever its ``batch``."""
    return layer_breakdown(convention, layer_of_result(result))


def _rows(source: Rows) -> Sequence[Row]:
    """A report's rows; a bare Network is analysed once (the rules read what the analysis computed)."""
    from convcalc.graph.analysis import Report, analyze
    from convcalc.graph.model import Network

    if isinstance(source, Network):
        source = analyze(source)
    return source.rows if isinstance(source, Report) else source


def network_breakdown(convention: str, network: Rows) -> list[dict[str, int]]:
    """Every layer's breakdown at batch 1, in topological order."""
    return [breakdown(convention, row) for row in _rows(network)]


def sum_breakdowns(breakdowns: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(CATEGORIES, 0)
    for counts in breakdowns:
        for category, count in counts.items():
            total[category] += count
    return total


def totals(convention: str, network: Rows) -> dict[str, int]:
    """Category -> the network's count at batch 1 under ``convention``."""
    return sum_breakdowns(network_breakdown(convention, network))


def total_macs(convention: str, network: Rows) -> int:
    """The network's count at batch 1 under ``convention``: the number that tool reports for it."""
    return sum(totals(convention, network).values())


def compare(network: Rows) -> dict[str, dict[str, int]]:
    """Convention -> category -> count at batch 1, for every convention, from one report."""
    rows = _rows(network)
    return {convention: totals(convention, rows) for convention in CONVENTIONS}


def with_convention(report: Report, convention: str) -> Report:
    """The report with every layer's MACs counted under ``convention`` (times the report's batch)."""
    from dataclasses import replace

    counts = network_breakdown(check_convention(convention), report)
    rows = tuple(replace(row, macs=sum(c.values()) * report.batch) for row, c in zip(report.rows, counts))
    return replace(report, rows=rows, convention=convention)


def layer_with_convention(result: LayerResult, convention: str) -> LayerResult:
    """A ``convcalc layer`` result with its MACs counted under ``convention`` (times its batch)."""
    from dataclasses import replace

    return replace(result, macs=sum(result_breakdown(check_convention(convention), result).values()) * result.batch)
