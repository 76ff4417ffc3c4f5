"""The bundled ShuffleNet V2 1.0x and ViT-B/16 specs against torchvision.

Plain tests check the counts torchvision 0.29.1 gives (measured once with torchvision itself: see TORCHVISION) and
a few layers by hand. The torch tests build each network as torchvision's source writes it (written out here:
torchvision is not a dependency), run it with a forward hook on every leaf module (and on each
nn.MultiheadAttention, whose out_proj is never called as a module) under FlopCounterMode, and compare, layer by
layer under the same name, the output shape, the params and the MACs (FlopCounterMode's count for that module / 2);
the totals against FlopCounterMode's total / 2; and ViT's receptive fields against the support of input gradients.

What convcalc writes differently from torchvision's modules (the same arithmetic):
- ShuffleNet's x.chunk(2, dim=1), torch.cat, channel_shuffle (view, transpose, view) and x.mean([2, 3]) are rows
  with no module: `chunk`, `concat`, `channel_shuffle`, `mean`;
- ViT's x.reshape(n, 768, 196).permute(0, 2, 1) is `flatten` of the grid (convcalc tensors are channels last);
  the class token and the position embedding (parameters of the model and of its encoder) are `param` rows,
  joined by `concat` on axis 0 and `add`; x[:, 0] is `slice` then `squeeze`; the residual `+` are `add` rows;
- torchvision names the encoder blocks encoder_layer_N, a repeat names its copies N.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import pytest
from helpers import EXAMPLES, assert_counts, channels_last, report_of, rows_by_name

from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import load

# Measured with torch 2.14.1 and torchvision 0.29.1 (a side venv, once): sum(p.numel() for p in
# model.parameters()), the BN running statistics, and FlopCounterMode's total / 2 on one 224x224 image, in eval
# mode; for vit_b_16 with torch.backends.mha.set_fastpath_enabled(False) and sdpa_kernel(SDPBackend.MATH) (the
# fused CPU kernels count 0).
TORCHVISION = {  # torchvision 0.29.1's numbers
    "shufflenet_v2_x1_0": {"params": 2_278_604, "buffers": 16_180, "macs": 144_907_992},
    "vit_b_16": {"params": 86_567_656, "buffers": 0, "macs": 17_563_828_224},
}
SPECS = tuple(TORCHVISION)


# --------------------------------------------------------------------------- plain tests (no torch)


@pytest.mark.parametrize("name", SPECS)
def test_torchvision_counts(name: str) -> None:
    report = report_of(name)
    assert report.input_shape == (224, 224, 3)
    assert report.output_shape == (1000,)
    assert report.params == report.trainable_params == TORCHVISION[name]["params"]
    assert report.buffers == TORCHVISION[name]["buffers"]
    assert report.macs == TORCHVISION[name]["macs"]


def test_shufflenet_v2_x1_0_by_hand() -> None:
    report = report_of("shufflenet_v2_x1_0")
    rows = rows_by_name(report)
    assert rows["maxpool"].output_shape == (56, 56, 24)
    # stage2.0 (stride 2): both branches read the whole 56x56x24 input, each gives 58 channels at 28x28
    assert rows["stage2.0.branch1.0"].params == 24 * 9 and rows["stage2.0.branch1.0"].output_shape == (28, 28, 24)
    assert rows["stage2.0.branch1.2"].params == 24 * 58
    assert rows["stage2.0.branch2.0"].output_shape == (56, 56, 58)
    assert rows["stage2.0.branch2.0"].macs == 56 * 56 * 58 * 24
    assert rows["stage2.0.branch2.3"].macs == 28 * 28 * 58 * 9  # depthwise 3x3 at stride 2
    assert rows["stage2.0.cat"].output_shape == (28, 28, 116)
    assert "stage2.0.split" not in rows
    # stage3.1 (stride 1): the 232 channels split in two; branch2 works on the second half only
    assert rows["stage3.1.split"].op == "chunk"
    assert rows["stage3.1.split"].output_shapes == ((14, 14, 116), (14, 14, 116))
    assert rows["stage3.1.branch2.0"].params == 116 * 116
    assert rows["stage3.1.branch2.5"].macs == 14 * 14 * 116 * 116
    assert rows["stage3.1.cat"].output_shape == (14, 14, 232)
    assert rows["stage3.1.shuffle"].op == "channel_shuffle" and rows["stage3.1.shuffle"].params == 0
    assert "stage3.1.branch1.0" not in rows
    assert sum(row.op == "chunk" for row in report.rows) == 3 + 7 + 3
    assert sum(row.op == "channel_shuffle" for row in report.rows) == 4 + 8 + 4
    assert rows["conv5.0"].macs == 7 * 7 * 1024 * 464
    assert rows["globalpool"].output_shape == (1024,) and rows["globalpool"].field.whole
    assert rows["fc"].params == 1024 * 1000 + 1000
    # the field: conv1 3 at jump 2, maxpool 7 at 4; each block's depthwise 3x3 adds 2 jumps (the first of a stage
    # at the jump before its stride 2); the untouched half of a split keeps a smaller field, the concat the union
    rf = 7 + 2 * 4 + 3 * 2 * 8 + 2 * 8 + 7 * 2 * 16 + 2 * 16 + 3 * 2 * 32
    assert rows["conv5.2"].field.receptive_field == (rf, rf) == (527, 527)
    assert rows["conv5.2"].field.jump == (32, 32)
    assert rows["stage4.3.split"].field.receptive_field == (463, 463)
    assert rows["stage4.3.shuffle"].field.receptive_field == (527, 527)


def test_vit_b_16_by_hand() -> None:
    report = report_of("vit_b_16")
    rows = rows_by_name(report)
    assert rows["conv_proj"].params == 3 * 16 * 16 * 768 + 768
    assert rows["conv_proj"].macs == 14 * 14 * 768 * 3 * 16 * 16
    assert rows["tokens"].output_shape == (196, 768)
    assert rows["class_token"].params == 768 and rows["encoder.pos_embedding"].params == 197 * 768
    assert rows["cat"].output_shape == (197, 768)
    block = "encoder.layers.5."
    assert rows[block + "ln_1"].params == 2 * 768
    # nn.MultiheadAttention(768, 12): in_proj 3E x E + 3E, out_proj E x E + E; the q, k, v and out projections
    # of 197 tokens, and q.kT and attention.v over 197 x 197 scores
    assert rows[block + "self_attention"].params == 3 * 768 * 768 + 3 * 768 + 768 * 768 + 768 == 2_362_368
    assert rows[block + "self_attention"].macs == 4 * 197 * 768 * 768 + 2 * 197 * 197 * 768 == 524_391_936
    assert rows[block + "mlp.0"].output_shape == (197, 3072)
    assert rows[block + "mlp.0"].macs == rows[block + "mlp.3"].macs == 197 * 768 * 3072
    assert rows[block + "add_2"].output_shape == (197, 768)
    assert sum(row.op == "mha" for row in report.rows) == 12
    assert rows["class_token_out"].output_shape == (1, 768) and rows["select"].output_shape == (768,)
    assert rows["heads.head"].params == 768 * 1000 + 1000
    per_block = 524_391_936 + 2 * 197 * 768 * 3072
    assert report.macs == 14 * 14 * 768 * 768 + 12 * per_block + 768 * 1000


def test_vit_b_16_receptive_fields() -> None:
    """Each patch token sees its 16x16 patch; joining the class token (which sees nothing) before them leaves no
    one window for every token: unknown, with the reason; from the first attention on every token sees the whole
    image (each attends to every patch)."""
    rows = rows_by_name(report_of("vit_b_16"))
    tokens = rows["tokens"].field
    assert (tokens.receptive_field, tokens.jump, tokens.start) == ((16, 16), (16, 16), (0, 0))
    assert rows["class_token"].field.receptive_field == (0, 0)
    for name in ("cat", "encoder.add", "encoder.layers.0.ln_1"):
        assert rows[name].field.unknown == "concat along a grid axis joins positions of different inputs", name
    for name in ("encoder.layers.0.self_attention", "encoder.layers.11.add_2", "encoder.ln", "heads.head"):
        assert rows[name].field.whole, name


# --------------------------------------------------------------------------- torchvision's models, written out


def torchvision_models(torch: Any) -> dict[str, Any]:
    """Builders of torchvision's ShuffleNet V2 and Vision Transformer (torchvision/models/shufflenetv2.py and
    vision_transformer.py, v0.29), module for module and parameter for parameter."""
    from torch import nn

    # ---- ShuffleNet V2

    def channel_shuffle(x: Any, groups: int) -> Any:
        n, c, h, w = x.size()
        x = x.view(n, groups, c // groups, h, w)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(n, c, h, w)

    class InvertedResidual(nn.Module):
        def __init__(self, inp: int, oup: int, stride: int) -> None:
            super().__init__()
            self.stride = stride
            branch = oup // 2
            if stride > 1:
                self.branch1 = nn.Sequential(
                    nn.Conv2d(inp, inp, 3, stride, 1, bias=False, groups=inp),
                    nn.BatchNorm2d(inp),
                    nn.Conv2d(inp, branch, 1, 1, 0, bias=False),
                    nn.BatchNorm2d(branch),
                    nn.ReLU(inplace=True),
                )
            else:
                self.branch1 = nn.Sequential()
            self.branch2 = nn.Sequential(
                nn.Conv2d(inp if stride > 1 else branch, branch, 1, 1, 0, bias=False),
                nn.BatchNorm2d(branch),
                nn.ReLU(inplace=True),
                nn.Conv2d(branch, branch, 3, stride, 1, bias=False, groups=branch),
                nn.BatchNorm2d(branch),
                nn.Conv2d(branch, branch, 1, 1, 0, bias=False),
                nn.BatchNorm2d(branch),
                nn.ReLU(inplace=True),
            )

        def forward(self, x: Any) -> Any:
            if self.stride == 1:
                x1, x2 = x.chunk(2, dim=1)
                out = torch.cat((x1, self.branch2(x2)), dim=1)
            else:
                out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
            return channel_shuffle(out, 2)

    class ShuffleNetV2(nn.Module):
        def __init__(self, repeats: Any = (4, 8, 4), channels: Any = (24, 116, 232, 464, 1024)) -> None:
            super().__init__()
            self.conv1 = nn.Sequential(
                nn.Conv2d(3, channels[0], 3, 2, 1, bias=False), nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True)
            )
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            cin = channels[0]
            for name, n, cout in zip(("stage2", "stage3", "stage4"), repeats, channels[1:]):
                blocks = [InvertedResidual(cin, cout, 2)] + [InvertedResidual(cout, cout, 1) for _ in range(n - 1)]
                setattr(self, name, nn.Sequential(*blocks))
                cin = cout
            self.conv5 = nn.Sequential(
                nn.Conv2d(cin, channels[-1], 1, 1, 0, bias=False), nn.BatchNorm2d(channels[-1]), nn.ReLU(inplace=True)
            )
            self.fc = nn.Linear(channels[-1], 1000)

        def forward(self, x: Any) -> Any:
            x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
            return self.fc(self.conv5(x).mean([2, 3]))

    # ---- ViT-B/16

    class MLPBlock(nn.Sequential):  # torchvision.ops.MLP(768, [3072, 768], GELU, dropout): Linear GELU Dropout x 2
        def __init__(self, dim: int, mlp_dim: int) -> None:
            super().__init__(
                nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp_dim, dim), nn.Dropout(0.0)
            )

    class EncoderBlock(nn.Module):
        def __init__(self, heads: int, dim: int, mlp_dim: int) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
            self.self_attention = nn.MultiheadAttention(dim, heads, dropout=0.0, batch_first=True)
            self.dropout = nn.Dropout(0.0)
            self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = MLPBlock(dim, mlp_dim)

        def forward(self, input: Any) -> Any:
            x = self.ln_1(input)
            x, _ = self.self_attention(x, x, x, need_weights=False)
            x = self.dropout(x) + input
            return x + self.mlp(self.ln_2(x))

    class Encoder(nn.Module):
        def __init__(self, seq_length: int, layers: int, heads: int, dim: int, mlp_dim: int) -> None:
            super().__init__()
            self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, dim).normal_(std=0.02))
            self.dropout = nn.Dropout(0.0)
            blocks = OrderedDict((f"encoder_layer_{i}", EncoderBlock(heads, dim, mlp_dim)) for i in range(layers))
            self.layers = nn.Sequential(blocks)
            self.ln = nn.LayerNorm(dim, eps=1e-6)

        def forward(self, input: Any) -> Any:
            return self.ln(self.layers(self.dropout(input + self.pos_embedding)))

    class VisionTransformer(nn.Module):
        def __init__(
            self, image_size: int = 224, patch: int = 16, layers: int = 12, heads: int = 12, dim: int = 768,
            mlp_dim: int = 3072,
        ) -> None:  # fmt: skip
            super().__init__()
            self.dim = dim
            self.conv_proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
            self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.encoder = Encoder((image_size // patch) ** 2 + 1, layers, heads, dim, mlp_dim)
            self.heads = nn.Sequential(OrderedDict(head=nn.Linear(dim, 1000)))

        def tokens(self, x: Any) -> Any:  # _process_input, then the class token before the patches
            n = x.shape[0]
            x = self.conv_proj(x)
            x = x.reshape(n, self.dim, -1).permute(0, 2, 1)
            return torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)

        def forward(self, x: Any) -> Any:
            return self.heads(self.encoder(self.tokens(x))[:, 0])

    return {"shufflenet_v2_x1_0": ShuffleNetV2, "vit_b_16": VisionTransformer}


# convcalc rows that are functions in torchvision's forward(), not modules
FUNCTIONAL_OPS = {"chunk", "concat", "channel_shuffle", "mean", "flatten", "add", "slice", "squeeze"}


def torch_name(name: str) -> str:
    """The torchvision module of a convcalc row: ViT's blocks are encoder_layer_N, a repeat's copies N."""
    return re.sub(r"^encoder\.layers\.(\d+)\.", r"encoder.layers.encoder_layer_\1.", name)


def run_with_hooks(torch: Any, model: Any, x: Any) -> tuple[dict[str, list[tuple[int, ...]]], dict[str, int], Any, int]:
    """Every leaf module's (and nn.MultiheadAttention's) calls in order, by output shape as convcalc writes it;
    FlopCounterMode's MACs (count / 2) per module; the model's output; and FlopCounterMode's total / 2."""
    from torch import nn
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    calls: dict[str, list[tuple[int, ...]]] = {}

    def recorder(name: str) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            output = output[0] if isinstance(output, tuple) else output  # MultiheadAttention: (output, None)
            shape = channels_last(output.shape) if output.dim() == 4 else tuple(output.shape)[1:]
            calls.setdefault(name, []).append(shape)

        return hook

    handles = [
        module.register_forward_hook(recorder(name))
        for name, module in model.named_modules()
        if name and (not list(module.children()) or isinstance(module, nn.MultiheadAttention))
    ]
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernels count 0 FLOPs: use the math path
    try:
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
            output = model(x)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for handle in handles:
            handle.remove()
    per_module = {key.partition(".")[2]: sum(counts.values()) // 2 for key, counts in counter.get_flop_counts().items()}
    return calls, per_module, output, counter.get_total_flops() // 2


@pytest.mark.torch
@pytest.mark.parametrize("name", SPECS)
def test_matches_torchvision_layer_by_layer(torch: Any, name: str) -> None:
    torch.manual_seed(0)
    model = torchvision_models(torch)[name]().eval()
    report = report_of(name)
    expected = TORCHVISION[name]

    assert_counts(model, report, expected)

    calls, per_module, output, flop_counter_macs = run_with_hooks(torch, model, torch.randn(1, 3, 224, 224))
    assert channels_last(output.shape) == report.output_shape == (1000,)
    assert flop_counter_macs == report.macs == expected["macs"]

    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    pending = dict(calls)
    for row in report.rows:
        module = torch_name(row.name)
        if module in calls:  # the module of the same name, called once
            assert calls[module] == [row.output_shape], row.name
            assert per_module.get(module, 0) == row.macs, row.name
            assert sum(p.numel() for p in modules[module].parameters()) == row.params, row.name
            pending.pop(module)
        elif row.op == "param":  # ViT's class token (1, 1, 768) and position embedding (1, 197, 768)
            assert tuple(parameters[module].shape)[1:] == row.output_shape, row.name
            assert parameters[module].numel() == row.params, row.name
        else:
            assert row.op in FUNCTIONAL_OPS, row.name
            assert row.params == row.macs == 0, row.name
    assert not pending, sorted(pending)  # every torch module that ran has its row
    hooked = sum(per_module.get(module, 0) for module in calls)
    assert hooked == report.macs  # every MAC is in a module with a row


@pytest.mark.torch
def test_vit_receptive_fields_in_torch(torch: Any) -> None:
    """The gradients of ViT's patch tokens reach exactly their 16x16 patch (convcalc's field of `tokens`: 16 at
    jump 16 from 0); the gradient of any token after the first attention reaches every pixel (convcalc: whole).

    The model is ViT-B/16's structure (patch 16, class token, position embedding, pre-norm blocks) with one block
    of width 24 (2 heads): the fields do not depend on the widths or the depth past the first attention. Every
    parameter is positive and the input in [0, 1), in float64."""
    model = torchvision_models(torch)["vit_b_16"](image_size=224, layers=1, heads=2, dim=24, mlp_dim=48)
    model = model.double().eval()
    for parameter in model.parameters():
        torch.nn.init.uniform_(parameter, 0.5, 1.0)
    network = load(EXAMPLES / "vit_b_16.yaml")
    rows = rows_by_name(analyze(replace(network, input_shape=(224, 224, 3))))
    field = rows["tokens"].field
    assert (field.receptive_field, field.jump, field.start) == ((16, 16), (16, 16), (0, 0))
    assert rows["encoder.layers.0.self_attention"].field.whole

    x = torch.rand(1, 3, 224, 224, dtype=torch.float64, requires_grad=True)
    tokens = model.tokens(x)  # (1, 197, 24): the class token, then patch 0 (row 0, column 0), ...
    for token in (0, 15, 195):  # patches (0, 0), (1, 1), (13, 13)
        (grad,) = torch.autograd.grad(tokens[0, 1 + token].sum(), x, retain_graph=True)
        support = grad[0].abs().sum(0).nonzero()
        y, w = divmod(token, 14)
        low = (y * 16, w * 16)
        assert tuple(support.min(0).values.tolist()) == low
        assert tuple((support.max(0).values + 1).tolist()) == (low[0] + 16, low[1] + 16)
        assert len(support) == 16 * 16
    (grad,) = torch.autograd.grad(tokens[0, 0].sum(), x, allow_unused=True)
    assert grad is None or not grad.any()  # the class token sees no pixel

    x = torch.rand(1, 3, 224, 224, dtype=torch.float64, requires_grad=True)
    encoded = model.encoder.layers(model.tokens(x) + model.encoder.pos_embedding)
    for token in (0, 1, 196):  # the class token and patches alike: every pixel
        (grad,) = torch.autograd.grad(encoded[0, token].sum(), x, retain_graph=True)
        assert bool((grad[0].abs().sum(0) > 0).all()), token
