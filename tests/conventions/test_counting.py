"""Counting conventions: convcalc reproduces torchinfo's, fvcore's, ptflops' and thop's numbers from a spec.

The plain tests need nothing but convcalc. The torch-marked ones run the real tools (``pip install
'convcalc[counters]'``, versions pinned there) on PyTorch models, each tool skipped when it is not installed: a
torchvision-layout ResNet-50 written here, every example of the zoo and one small network per op, exported by
convcalc's torch bridge; and assert that the tool's number equals convcalc's under that tool's convention.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
from helpers import EXAMPLES, RESNET50_MACS

from convcalc.conventions import counting as conventions
from convcalc.conventions.base import CATEGORIES
from convcalc.conventions.counting import (
    CONVENTIONS,
    compare,
    network_breakdown,
    result_breakdown,
    total_macs,
    totals,
)
from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze, walk
from convcalc.graph.model import Network
from convcalc.ops.catalogue import ACTIVATIONS, UNARY_MATH
from convcalc.specfile.loader import load, load_text

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
RESNET50 = EXAMPLES / "resnet50.yaml"

# The breakdown that explains them (docs/conventions.md and the README show it).
RESNET50_BREAKDOWN = {
    "convcalc": {"conv weights": 4_087_136_256, "linear": 2_048_000},
    "torchinfo": {"conv weights": 4_087_136_256, "linear": 2_048_000, "bias": 1_000, "normalisation": 53_120},
    "fvcore": {"conv weights": 4_087_136_256, "linear": 2_048_000, "normalisation": 22_227_968, "pooling": 100_352},
    "ptflops": {
        "conv weights": 4_087_136_256,
        "linear": 2_048_000,
        "bias": 1_000,
        "normalisation": 22_227_968,
        "activation": 19_217_408,
        "pooling": 1_806_336,
    },
    "thop": {"conv weights": 4_087_136_256, "linear": 2_048_000, "normalisation": 44_455_936, "pooling": 102_400},
    "ultralytics": {"conv weights": 4_087_136_256, "linear": 2_048_000, "normalisation": 44_455_936, "pooling": 102_400},
}


# --------------------------------------------------------------------------- plain tests


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_resnet50_totals_are_the_tools_numbers(convention: str) -> None:
    assert total_macs(convention, load(RESNET50)) == RESNET50_MACS[convention]


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_resnet50_breakdown(convention: str) -> None:
    expected = dict.fromkeys(CATEGORIES, 0) | RESNET50_BREAKDOWN[convention]
    assert totals(convention, load(RESNET50)) == expected


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_layer_breakdowns_sum_to_the_totals(path: Path) -> None:
    network = load(path)
    steps = walk(network)
    table = compare(steps)
    assert list(table) == list(CONVENTIONS)
    for convention in CONVENTIONS:
        layers = network_breakdown(convention, steps)
        assert len(layers) == len(network.nodes)
        assert all(list(counts) == list(CATEGORIES) for counts in layers)
        assert all(count >= 0 for counts in layers for count in counts.values())
        for category in CATEGORIES:
            assert sum(counts[category] for counts in layers) == table[convention][category]
        assert sum(sum(counts.values()) for counts in layers) == total_macs(convention, network)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_convcalc_convention_is_our_macs_layer_by_layer(path: Path) -> None:
    network = load(path)
    report = analyze(network)
    layers = network_breakdown("convcalc", network)
    assert [sum(counts.values()) for counts in layers] == [row.macs for row in report.rows]
    assert total_macs("convcalc", network) == report.macs


def test_unknown_convention_is_refused() -> None:
    with pytest.raises(ConvCalcError, match="unknown convention 'flops'; choose convcalc, torchinfo") as error:
        total_macs("flops", load(RESNET50))
    assert error.value.param == "convention"


def test_layer_results_of_the_layer_command() -> None:
    from convcalc.core.layer import conv, deconv, linear, maxpool

    result = conv("16x16x8", out=12, k=3, g=4, p=1, bias=True, batch=3)
    per_sample = result.macs // 3
    assert result_breakdown("convcalc", result)["conv weights"] == per_sample
    assert result_breakdown("ptflops", result)["bias"] == 16 * 16 * 12
    assert result_breakdown("torchinfo", result)["bias"] == 16 * 16 * 12
    assert result_breakdown("thop", result)["bias"] == 0
    up = deconv("8x8x4", out=6, k=3, s=2, p=1, output_padding=1)  # 16x16x6
    assert result_breakdown("convcalc", up)["conv weights"] == 8 * 8 * 4 * 6 * 9 == up.macs
    assert result_breakdown("fvcore", up)["conv weights"] == up.macs
    assert result_breakdown("thop", up)["conv weights"] == 16 * 16 * 6 * 4 * 9  # per output position
    assert result_breakdown("torchinfo", up)["conv weights"] == 16 * 16 * 4 * 6 * 9
    fc = linear("5x7", out=3)  # 5 rows of 7 features
    assert result_breakdown("convcalc", fc)["linear"] == 5 * 7 * 3
    assert result_breakdown("torchinfo", fc) == dict.fromkeys(CATEGORIES, 0) | {"linear": 7 * 3, "bias": 3}
    assert result_breakdown("ptflops", fc)["bias"] == 15
    pool = maxpool("8x8x4", k=2)
    assert result_breakdown("ptflops", pool)["pooling"] == 2 * 8 * 8 * 4
    assert sum(result_breakdown("thop", pool).values()) == 0


def test_every_convention_has_a_documented_rule_for_every_op() -> None:
    from convcalc.ops.handlers import OPS

    assert list(conventions.RULES) == list(CONVENTIONS) == list(conventions.TOOLS)
    for convention, table in conventions.RULES.items():
        assert set(table) == set(OPS), convention
        for op, rule in table.items():
            assert rule.__doc__, (convention, op)


# --------------------------------------------------------------------------- the real tools


def torch_input(network: Network) -> Any:
    import torch

    shape = network.input_shape
    return torch.randn(1, shape[-1], *shape[:-1])


def run_torchinfo(model: Any, x: Any) -> int:
    torchinfo = pytest.importorskip("torchinfo")
    return int(torchinfo.summary(model, input_data=x, verbose=0, device="cpu").total_mult_adds)


def run_fvcore(model: Any, x: Any) -> int:
    fvcore_nn = pytest.importorskip("fvcore.nn")
    analysis = fvcore_nn.FlopCountAnalysis(model.eval(), x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(analysis.total())


def run_ptflops(model: Any, x: Any) -> int:
    ptflops = pytest.importorskip("ptflops")
    macs, _ = ptflops.get_model_complexity_info(
        model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False, backend="pytorch", ost=io.StringIO()
    )
    assert macs is not None, "ptflops failed"
    return int(macs)


def run_thop(model: Any, x: Any) -> int:
    thop = pytest.importorskip("thop")
    with contextlib.redirect_stdout(io.StringIO()):
        macs, _ = thop.profile(model, inputs=(x,), verbose=False)
    return int(macs)


RUNNERS = {"torchinfo": run_torchinfo, "fvcore": run_fvcore, "ptflops": run_ptflops, "thop": run_thop}
TOOLS = tuple(RUNNERS)


def tool_count(tool: str, model: Any, x: Any) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return RUNNERS[tool](model, x)


def torchvision_resnet50() -> Any:
    """torchvision.models.resnet50() as torchvision writes it: one inplace ReLU module shared by the three
    activations of a Bottleneck, ``out += identity``, ``torch.flatten``."""
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Any = None) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x: Any) -> Any:
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self.make_layer(64, 3, 1)
            self.layer2 = self.make_layer(128, 4, 2)
            self.layer3 = self.make_layer(256, 6, 2)
            self.layer4 = self.make_layer(512, 3, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(2048, 1000)

        def make_layer(self, planes: int, blocks: int, stride: int) -> Any:
            down = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )
            layers = [Bottleneck(self.inplanes, planes, stride, down)]
            self.inplanes = planes * 4
            layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            import torch

            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet().eval()


@pytest.mark.torch
@pytest.mark.parametrize("tool", TOOLS)
def test_tools_on_torchvision_resnet50(tool: str) -> None:
    torch = pytest.importorskip("torch")
    model = torchvision_resnet50()
    assert sum(p.numel() for p in model.parameters()) == 25_557_032
    count = tool_count(tool, model, torch.randn(1, 3, 224, 224))
    assert count == RESNET50_MACS[tool] == total_macs(tool, load(RESNET50))


@pytest.mark.torch
@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_tools_on_the_zoo(path: Path, tool: str) -> None:
    pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    network = load(path)
    model = build_module(network, device="cpu").eval()
    assert tool_count(tool, model, torch_input(network)) == total_macs(tool, network)


# One small network per op and variant: every rule of every convention meets its tool.
OP_CASES = {
    "conv-bias-groups": ("16x16x8", "- conv: {out: 12, k: 3, g: 4, p: 1}"),
    "conv-stride-dilation-nobias": ("17x15x3", "- conv: {out: 5, k: [3, 2], s: [2, 1], d: 2, bias: false}"),
    "conv-same-even-kernel": ("12x12x4", "- conv: {out: 6, k: 4, p: same}"),
    "conv1d": ("50x6", "- conv: {out: 4, k: 5, s: 2}"),
    "conv3d": ("6x8x8x3", "- conv: {out: 4, k: 3, p: 1, bias: false}"),
    "depthwise": ("10x10x6", "- conv: {out: 6, k: 3, g: 6}"),
    "deconv-bias-groups": ("7x9x4", "- deconv: {out: 6, k: 3, s: 2, p: 1, g: 2, output_padding: 1}"),
    "deconv-nobias": ("5x5x8", "- deconv: {out: 3, k: 4, s: 2, bias: false}"),
    "deconv1d": ("20x4", "- deconv: {out: 2, k: 3, s: 3}"),
    "deconv3d": ("3x4x4x2", "- deconv: {out: 3, k: 2, s: 2}"),
    "linear-on-3d": ("6x7x16", "- linear: {out: 10}"),
    "linear-on-2d-nobias": ("9x12", "- linear: {out: 5, bias: false}"),
    "flatten-linear": ("4x4x3", "- flatten\n- linear: {out: 7}\n- linear: {out: 2, bias: false}"),
    "linear-features": ("64", "- linear: {out: 10}"),
    "bn": ("8x8x5", "- bn"),
    "bn-no-affine": ("8x8x5", "- bn: {affine: false}"),
    "bn-no-running-stats": ("8x8x5", "- bn: {track_running_stats: false}"),
    "bn-no-affine-no-stats": ("8x8x5", "- bn: {affine: false, track_running_stats: false}"),
    "bn1d-features": ("32", "- bn"),
    "bn1d": ("20x6", "- bn"),
    "bn3d": ("4x5x6x3", "- bn"),
    "prelu": ("6x6x4", "- prelu"),
    "prelu-channels": ("6x6x4", "- prelu: {num_parameters: 4}"),
    "softmax": ("5x3x7", "- softmax"),
    "softmax-features": ("10", "- softmax"),
    "maxpool": ("16x16x3", "- maxpool: {k: 3, s: 2, p: 1}"),
    "maxpool-ceil-dilation": ("15x15x2", "- maxpool: {k: 2, s: 2, d: 2, ceil: true}"),
    "maxpool-asymmetric": ("9x9x2", "- maxpool: {k: 2, s: 2, p: same}"),
    "maxpool1d": ("30x4", "- maxpool: {k: 3}"),
    "maxpool1d-asymmetric": ("31x4", "- maxpool: {k: 3, s: 2, p: [[1, 0]]}"),
    "maxpool3d": ("6x6x6x2", "- maxpool: {k: 2}"),
    "avgpool": ("16x16x3", "- avgpool: {k: 3, s: 2, p: 1}"),
    "avgpool-asymmetric": ("9x8x2", "- avgpool: {k: 2, s: 2, p: [[0, 1], [1, 1]]}"),
    "avgpool-ceil": ("15x15x2", "- avgpool: {k: 2, ceil: true}"),
    "avgpool1d": ("30x4", "- avgpool: {k: 3}"),
    "avgpool3d": ("6x6x6x2", "- avgpool: {k: 2}"),
    "adaptive-avgpool": ("7x7x8", "- adaptive_avgpool: {size: 1}"),
    "adaptive-avgpool-uneven": ("7x10x3", "- adaptive_avgpool: {size: [3, 4]}"),
    "adaptive-avgpool1d": ("10x3", "- adaptive_avgpool: {size: 3}"),
    "adaptive-avgpool3d": ("5x6x7x2", "- adaptive_avgpool: {size: [2, 3, 3]}"),
    "adaptive-maxpool": ("7x10x3", "- adaptive_maxpool: {size: [3, 4]}"),
    "adaptive-maxpool1d": ("10x3", "- adaptive_maxpool: {size: 4}"),
    "global-avgpool": ("7x7x8", "- global_avgpool"),
    "global-avgpool1d": ("9x4", "- global_avgpool"),
    "global-avgpool3d": ("3x4x5x2", "- global_avgpool"),
    "global-maxpool": ("7x7x8", "- global_maxpool"),
    "upsample-nearest": ("5x6x3", "- upsample: {scale: 2}"),
    "upsample-nearest-uneven": ("5x6x3", "- upsample: {scale: [2, 3]}"),
    "upsample-bilinear": ("5x6x3", "- upsample: {scale: 2, mode: bilinear}"),
    "upsample-bicubic": ("5x6x3", "- upsample: {scale: 3, mode: bicubic}"),
    "upsample-nearest1d": ("8x3", "- upsample: {scale: 2}"),
    "upsample-linear": ("8x3", "- upsample: {scale: 2, mode: linear}"),
    "upsample-nearest3d": ("3x3x3x2", "- upsample: {scale: 2}"),
    "upsample-trilinear": ("3x3x3x2", "- upsample: {scale: 2, mode: trilinear}"),
    "add": ("6x6x4", "- conv: {out: 4, k: 1, name: a}\n- conv: {out: 4, k: 3, p: 1, from: input, name: b}\n- add: {from: [a, b, input]}"),
    "concat": ("6x6x4", "- conv: {out: 2, k: 1, name: a}\n- concat: {from: [a, input]}"),
    "split-conv": ("6x6x4", '- split: {sizes: [1, 3], name: s}\n- conv: {out: 2, k: 1, from: "s[1]"}'),
    "split-concat-rows": ("6x6x4", '- split: {sizes: 2, dim: 0, name: s}\n- concat: {from: ["s[2]", "s[0]"], dim: 0}'),
    "chunk-stack": ("6x6x4", "- chunk: {chunks: 3, name: c}\n- stack: {dim: -1}"),
    "chunk-stack-conv": ("6x6x4", "- chunk: {chunks: 2, dim: 1, name: c}\n- stack: {dim: 2}\n- conv: {out: 3, k: 1}"),
    "pad-dropout-identity": ("6x6x4", "- pad: {p: [[1, 0], [2, 1]]}\n- dropout\n- identity"),
    # pointwise math and learnable tensors (issue 11)
    "binary-constants": ("6x6x4", "- sub: {value: 0.5}\n- div: {value: 2.0, reverse: true}\n- mul: {value: 3}\n- add: {value: 1}"),
    "binary-params": ("6x6x4", "- param: {shape: [4], name: g}\n- mul: {from: [input, g]}\n- param: {shape: [6, 6, 4], name: pos}\n"
                      "- add: {from: [-2, pos]}\n- sub: {from: [-1, input]}\n- div: {from: [-1, g]}\n- conv: {out: 2, k: 1}"),
    "param-tokens": ("10x8", "- param: {shape: [10, 8], name: pos}\n- add: {from: [input, pos]}\n- linear: {out: 3}"),
    "constant-buffer-matmul": ("5x6", "- constant: {shape: [6, 3], name: m}\n- matmul: {from: [input, m]}"),
    "constant-computed-add": ("4x4x3", "- constant: {shape: [4, 4, 3], buffer: false, name: pos}\n"
                              "- add: {from: [input, pos]}\n- conv: {out: 2, k: 1}"),
    "pow": ("5x5x3", "- pow: {exponent: 2}"),
    "clamp": ("5x5x3", "- clamp: {min: 0, max: 6}"),
    **{f"unary-{name}": ("5x5x3", f"- {name}") for name in UNARY_MATH if name not in ("pow", "clamp")},
    # norms and reductions (issue 11)
    "layernorm": ("5x4x6", "- layernorm"),
    "layernorm-two-axes-nobias": ("5x4x6", "- layernorm: {shape: [4, 6], bias: false}"),
    "layernorm-no-affine": ("5x4x6", "- layernorm: {elementwise_affine: false}"),
    "layernorm-features": ("12", "- layernorm"),
    "layernorm1d-all-axes": ("9x6", "- layernorm: {shape: [9, 6]}"),
    "rmsnorm": ("5x4x6", "- rmsnorm"),
    "rmsnorm-no-affine": ("9x6", "- rmsnorm: {shape: [9, 6], elementwise_affine: false}"),
    "groupnorm": ("5x4x6", "- groupnorm: {groups: 3}"),
    "groupnorm-no-affine": ("5x4x6", "- groupnorm: {groups: 2, affine: false}"),
    "groupnorm-nobias-features": ("8", "- groupnorm: {groups: 4, bias: false}"),
    "groupnorm3d": ("3x4x5x6", "- groupnorm: {groups: 6}"),
    "instancenorm": ("5x4x6", "- instancenorm"),
    "instancenorm-affine": ("5x4x6", "- instancenorm: {affine: true}"),
    "instancenorm-stats-nobias": ("5x4x6", "- instancenorm: {affine: true, bias: false, track_running_stats: true}"),
    "instancenorm1d": ("9x6", "- instancenorm: {track_running_stats: true}"),
    "instancenorm3d": ("3x4x5x2", "- instancenorm: {affine: true}"),
    "lrn": ("5x4x6", "- lrn: {size: 3}"),
    "lrn1d-even": ("9x6", "- lrn: {size: 4, alpha: 0.001, beta: 0.5, k: 2.0}"),
    "lrn3d": ("3x4x5x7", "- lrn: {size: 5}"),
    "mean-se": ("5x4x6", "- mean: {dims: [0, 1], keepdim: true}"),
    "sum-channels": ("5x4x6", "- sum: {dims: -1}"),
    "amax-amin": ("5x4x6", "- amax: {dims: 0, name: a}\n- amin: {dims: [0, 1], from: input}"),
    "var-norm": ("5x4x6", "- var: {dims: [0, 1, 2], keepdim: true}\n- norm: {dims: [0, 1], p: 1.0, from: input}"),
    **{f"activation-{name}": ("5x5x3", f"- {name}") for name in ACTIVATIONS},
    # linear algebra and attention (issue 11)
    "matmul-tokens": ("6x8", "- einsum: {from: [input, input], equation: 'qd,kd->qk'}\n- softmax\n- matmul: {from: [-1, input]}"),
    "matmul-param": ("5x4x6", "- param: {shape: [6, 3], name: w}\n- matmul: {from: [input, w]}"),
    "matmul-broadcast": ("3x5x6", "- param: {shape: [2, 1, 4, 5], name: a}\n- matmul: {from: [a, input]}"),
    "bmm": ("5x5", "- bmm: {from: [input, input]}"),
    "einsum-linear": ("5x6", "- param: {shape: [4, 6], name: w}\n- einsum: {from: [input, w], equation: 'lc,dc->ld'}"),
    "einsum-scores": ("2x5x6", "- einsum: {from: [input, input], equation: 'hqd,hkd->hqk'}"),
    "einsum-product": ("5x6", "- einsum: {from: [input, input], equation: 'lc,lc->lc'}"),
    "einsum-implicit": ("5x6", "- param: {shape: [6, 3], name: w}\n- einsum: {from: [input, w], equation: 'lc,cd'}"),
    "einsum-fvcore-forms": ("5x6", "- param: {shape: [5, 3], name: w}\n- einsum: {from: [input, w], equation: 'ij,ik->jk'}\n"
                            "- param: {shape: [2, 3], name: u}\n- einsum: {from: [-2, u], equation: 'ij,kj->ki'}"),
    "einsum-broadcast-sum": ("3x1", "- param: {shape: [4, 5], name: w}\n- einsum: {from: [input, w], equation: 'ij,jk->ik'}"),
    "softmax-dim": ("5x3x7", "- softmax: {dim: 0}"),
    "logsoftmax": ("5x3x7", "- logsoftmax"),
    "logsoftmax-dim": ("5x7", "- logsoftmax: {dim: 0}"),
    "attention": ("6x8", "- attention: {from: [input, input, input]}"),
    "attention-heads-mask": ("6x8", "- param: {shape: [6, 6], name: m}\n- linear: {out: 4, from: input, name: v}\n"
                             "- attention: {from: [input, input, v, m], heads: 2}"),
    "attention-causal": ("3x6x8", "- attention: {from: [input, input, input], causal: true}"),
    "mha": ("6x8", "- mha: {heads: 2}"),
    "mha-nobias": ("6x8", "- mha: {heads: 4, bias: false}"),
    "mha-cross-kv": ("6x8", "- linear: {out: 5, name: kv}\n- mha: {heads: 2, from: [input, kv], kdim: 5, vdim: 5}"),
    "mha-qkv": ("6x8", "- linear: {out: 3, name: k}\n- linear: {out: 8, from: input, name: v}\n"
                "- mha: {heads: 2, from: [input, k, v], kdim: 3, add_bias_kv: true, add_zero_attn: true}"),
    # layout ops (issue 11): every tool counts 0
    "permute-transpose-movedim": ("6x5x4", "- permute: {dims: [1, 0, 2]}\n- transpose: {dim0: 0, dim1: 1}\n"
                                  "- movedim: {source: -1, destination: 0}\n- movedim: {source: 0, destination: -1}"),
    "tokens-linear-back": ("6x6x4", "- flatten: {start: 0, end: 1}\n- linear: {out: 8}\n- unflatten: {dim: 0, sizes: [6, 6]}\n"
                           "- conv: {out: 2, k: 3}"),
    "reshape-squeeze-unsqueeze-expand": ("6x6x4", "- reshape: {shape: [6, 6, 2, 2]}\n- unsqueeze: {dim: 0}\n- squeeze\n"
                                         "- flatten: {start: 2}\n- mean: {dims: [0, 1], keepdim: true}\n- expand: {shape: [6, 6, 4]}"),
    "channel-shuffle": ("6x6x8", "- channel_shuffle: {groups: 4}"),
    "pixel-shuffle-unshuffle": ("6x6x8", "- pixel_shuffle: {r: 2}\n- pixel_unshuffle: {r: 3}"),
    "slice-roll": ("9x9x4", "- slice: {dim: 0, start: 1, step: 2}\n- roll: {shifts: [1, -1], dims: [0, 1]}\n- roll: {shifts: 3}"),
    "pad-modes": ("6x6x4", "- pad: {p: 2, mode: reflect}\n- pad: {p: [[1, 0], [0, 2]], mode: replicate}\n"
                  "- pad: {p: 1, mode: circular}\n- pad: {p: [[0, 2]], dims: -1, value: 1.0}"),
    "pad-1d-channels": ("8x3", "- pad: {p: 1, mode: reflect}\n- pad: {p: [[1, 1]], dims: -1, mode: replicate}"),
    # resampling (issue 11): F.interpolate in forward
    "interpolate-nearest": ("5x6x3", "- interpolate: {scale: 2}"),
    "interpolate-nearest-size": ("5x6x3", "- interpolate: {size: [7, 9]}"),
    "interpolate-bilinear-float": ("5x6x3", "- interpolate: {scale: 1.5, mode: bilinear}"),
    "interpolate-bilinear-size-align": ("5x6x3", "- interpolate: {size: [8, 10], mode: bilinear, align_corners: true}"),
    "interpolate-bicubic": ("5x6x3", "- interpolate: {scale: [2, 2.5], mode: bicubic}"),
    "interpolate-area-down": ("8x6x3", "- interpolate: {scale: 0.5, mode: area}"),
    "interpolate-area-uneven": ("7x10x3", "- interpolate: {size: [3, 4], mode: area}"),
    "interpolate-nearest-exact": ("6x6x3", "- interpolate: {scale: [0.5, 2], mode: nearest-exact}"),
    "interpolate-linear1d": ("8x3", "- interpolate: {scale: 2.5, mode: linear}"),
    "interpolate-nearest1d": ("8x3", "- interpolate: {size: 5}"),
    "interpolate-area1d": ("9x3", "- interpolate: {size: 4, mode: area}"),
    "interpolate-trilinear": ("3x3x3x2", "- interpolate: {scale: 2, mode: trilinear}"),
    "interpolate-nearest3d": ("3x4x5x2", "- interpolate: {size: [2, 6, 5]}"),
    "unfold-fold": ("6x5x3", "- unfold: {k: 3, s: 2, p: 1}\n- fold: {size: [6, 5], k: 3, s: 2, p: 1}"),
    "unfold-linear": ("6x6x2", "- unfold: {k: 2, s: 2}\n- linear: {out: 4}"),
}


def case_network(case: str) -> Network:
    shape, layers = OP_CASES[case]
    text = f"name: {case}\ninput: '{shape}'\nlayers:\n" + textwrap.indent(layers, "  ")
    return load_text(text)


def test_op_cases_are_valid_specs() -> None:
    for case in OP_CASES:
        assert analyze(case_network(case)).rows


# The rules worked by hand on some cases above: case -> convention -> {category: count} of its last layer.
BY_HAND: dict[str, dict[str, dict[str, int]]] = {
    "conv-bias-groups": {  # 16x16x8 -> 16x16x12, 3x3, 4 groups: 3*3 * 8 * 12/4 = 216 weights
        "convcalc": {"conv weights": 16 * 16 * 216},
        "torchinfo": {"conv weights": 16 * 16 * 216, "bias": 16 * 16 * 12},
        "fvcore": {"conv weights": 16 * 16 * 216},
        "ptflops": {"conv weights": 16 * 16 * 216, "bias": 16 * 16 * 12},
        "thop": {"conv weights": 16 * 16 * 12 * (8 // 4) * 3 * 3},
    },
    "deconv-nobias": {  # 5x5x8 -> 12x12x3, 4x4 stride 2: 4*4 * 8 * 3 = 384 weights
        "convcalc": {"conv weights": 5 * 5 * 384},
        "torchinfo": {"conv weights": 12 * 12 * 384},
        "fvcore": {"conv weights": 5 * 5 * 384},
        "ptflops": {"conv weights": 5 * 5 * 384},
        "thop": {"conv weights": 12 * 12 * 3 * 8 * 4 * 4},
    },
    "linear-on-3d": {  # 6x7x16 -> 6x7x10: 42 rows
        "convcalc": {"linear": 42 * 16 * 10},
        "torchinfo": {"linear": 16 * 10, "bias": 10},
        "fvcore": {"linear": 42 * 16 * 10},
        "ptflops": {"linear": 42 * 16 * 10, "bias": 42 * 10},
        "thop": {"linear": 16 * 42 * 10},
    },
    "bn": {  # 8x8x5
        "convcalc": {},
        "torchinfo": {"normalisation": 2 * 5},
        "fvcore": {"normalisation": 2 * 8 * 8 * 5},
        "ptflops": {"normalisation": 2 * 8 * 8 * 5},
        "thop": {"normalisation": 4 * 8 * 8 * 5},
    },
    "bn-no-running-stats": {"fvcore": {"normalisation": 5 * 8 * 8 * 5}, "thop": {"normalisation": 4 * 8 * 8 * 5}},
    "activation-relu": {"ptflops": {"activation": 2 * 5 * 5 * 3}, "thop": {}, "fvcore": {}},
    "activation-relu6": {"ptflops": {"activation": 5 * 5 * 3}},
    "activation-sigmoid": {"ptflops": {}},
    "prelu-channels": {"torchinfo": {"activation": 4}, "ptflops": {"activation": 2 * 6 * 6 * 4}, "thop": {"activation": 6 * 6 * 4}},
    "softmax": {"ptflops": {"activation": 5 * 3 * 7}, "thop": {"activation": 5 * 3 * (3 * 7 - 1)}},
    "maxpool": {"ptflops": {"pooling": 2 * 16 * 16 * 3}, "thop": {}, "fvcore": {}},
    "maxpool-asymmetric": {"ptflops": {"pooling": 2 * 10 * 10 * 2}},  # 9x9 padded to 10x10 first
    "avgpool": {"ptflops": {"pooling": 2 * 16 * 16 * 3}, "thop": {"pooling": 8 * 8 * 3}, "fvcore": {}},
    "adaptive-avgpool-uneven": {  # 7x10x3 -> 3x4x3: thop's kernel 7/3 * 10/4 = 5.83
        "fvcore": {"pooling": 7 * 10 * 3},
        "ptflops": {"pooling": 2 * 7 * 10 * 3},
        "thop": {"pooling": 246},  # int((5.8333 + 1) * 36)
    },
    "adaptive-avgpool1d": {"fvcore": {}, "thop": {"pooling": int((10 / 3 + 1) * 3 * 3)}},
    "global-avgpool": {"fvcore": {"pooling": 7 * 7 * 8}, "thop": {"pooling": (49 + 1) * 8}},
    "upsample-bilinear": {  # 5x6x3 -> 10x12x3
        "fvcore": {"other": 4 * 10 * 12 * 3},
        "ptflops": {"other": 2 * 10 * 12 * 3},
        "thop": {"other": 11 * 10 * 12 * 3},
    },
    "upsample-bicubic": {"fvcore": {}, "thop": {"other": 259 * 15 * 18 * 3}},
    "upsample-trilinear": {"fvcore": {}, "thop": {}, "ptflops": {"other": 2 * 6 * 6 * 6 * 2}},
    "interpolate-bilinear-float": {  # 5x6x3 -> 7x9x3 by 1.5: ptflops 90 inputs x int(1.5) x int(1.5)
        "convcalc": {}, "torchinfo": {}, "thop": {},
        "fvcore": {"other": 4 * 7 * 9 * 3},
        "ptflops": {"other": 5 * 6 * 3},
    },
    "interpolate-area-down": {"fvcore": {"pooling": 8 * 6 * 3}, "ptflops": {"pooling": 8 * 6 * 3}},  # int(0.5) = 0
    "interpolate-area-uneven": {"ptflops": {"other": 3 * 4 * 3, "pooling": 7 * 10 * 3}},
    "interpolate-nearest-size": {"fvcore": {"other": 7 * 9 * 3}, "ptflops": {"other": 7 * 9 * 3}},
    "interpolate-nearest-exact": {"fvcore": {}, "ptflops": {}},
    "add": {convention: {} for convention in CONVENTIONS},
    "binary-constants": {convention: {} for convention in CONVENTIONS},  # x + 1: no tool counts it
    "unary-exp": {convention: {} for convention in CONVENTIONS},
    "layernorm-two-axes-nobias": {  # 5x4x6, weight 4x6
        "convcalc": {},
        "torchinfo": {"normalisation": 24},
        "fvcore": {"normalisation": 5 * 120},
        "ptflops": {"normalisation": 120},
        "thop": {"normalisation": 4 * 120},
    },
    "groupnorm": {"torchinfo": {"normalisation": 12}, "fvcore": {"normalisation": 600},
                  "ptflops": {"normalisation": 240}, "thop": {}},  # fmt: skip
    "instancenorm": {"torchinfo": {}, "fvcore": {"normalisation": 480}, "ptflops": {"normalisation": 120},
                     "thop": {"normalisation": 240}},  # fmt: skip
    "rmsnorm": {"torchinfo": {"normalisation": 6}, "fvcore": {}, "ptflops": {}, "thop": {}},
    "lrn": {"ptflops": {"normalisation": 3 * 120 + (6 + 2) * 20}, "fvcore": {}, "thop": {}, "torchinfo": {}},
    "mean-se": {convention: {} for convention in CONVENTIONS},
    "mha": {  # 6 tokens of 8, 2 heads: projections 4 x 6 x 8 x 8, attention 2 x 6 x 6 x 8
        "convcalc": {"linear": 4 * 6 * 64 + 2 * 36 * 8},
        "torchinfo": {},  # not a leaf module
        "fvcore": {"linear": 4 * 6 * 64},  # its linears; aten::scaled_dot_product_attention has no handle
        "ptflops": {"linear": 4 * 6 * 64, "bias": 6 * 8 + 18 * 8, "other": 6 * 8 + 2 * 36 * (4 + 1 + 4)},
        "thop": {},
    },
    "matmul-broadcast": {  # (2, 1, 4, 5) x (3, 5, 6) -> (2, 3, 4, 6): the tools count the first operand once
        "convcalc": {"linear": 2 * 3 * 4 * 6 * 5},
        "fvcore": {"linear": 2 * 4 * 5 * 6},
        "ptflops": {"linear": 2 * 4 * 5 * 6},
        "thop": {},
        "torchinfo": {},
    },
    "einsum-product": {"convcalc": {}, "fvcore": {"linear": 5 * 6 // 2}, "ptflops": {}},
    "softmax-dim": {"ptflops": {"activation": 105}, "thop": {"activation": 105 // 5 * (3 * 5 - 1)}},
}


@pytest.mark.parametrize("case", BY_HAND)
def test_rules_by_hand(case: str) -> None:
    last = walk(case_network(case))[-1]
    for convention, expected in BY_HAND[case].items():
        assert conventions.breakdown(convention, last) == dict.fromkeys(CATEGORIES, 0) | expected, convention


@pytest.mark.torch
@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("case", OP_CASES)
def test_tools_on_each_op(case: str, tool: str) -> None:
    pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module

    network = case_network(case)
    model = build_module(network, device="cpu").eval()
    assert tool_count(tool, model, torch_input(network)) == total_macs(tool, network)
