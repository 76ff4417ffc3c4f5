"""The bundled EfficientNet-B0, Inception v3 and ConvNeXt-T specs against torchvision.

Plain tests check the counts torchvision 0.29.1 gives (measured once with torchvision itself: see TORCHVISION) and
a few layers by hand. The torch tests build each network as torchvision's source writes it (written out here:
torchvision is not a dependency), run it with a forward hook on every leaf module and compare, layer by layer under
the same name, the output shape, the params and the MACs; the totals against PyTorch's FlopCounterMode (total / 2);
and the receptive field of ConvNeXt-T's last spatial map against the support of an input gradient.

What convcalc writes differently from torchvision's modules (the same arithmetic):
- squeeze-and-excitation's AdaptiveAvgPool2d(1) is `mean` over the grid with keepdim (named `avgpool`), and its
  `scale * input` is `mul`;
- ConvNeXt's Permute modules (block.1, block.6) are not written: convcalc tensors are channels last, so its
  LayerNorm and Linears (which torchvision runs on (N, H, W, C)) act on the last axis as they are; layer scale
  (a parameter of the block) is a `param` row;
- the functional ops of the forwards (F.relu, F.avg_pool2d, F.max_pool2d, torch.cat, torch.flatten, +, *) are rows
  with no module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from helpers import EXAMPLES, assert_counts, channels_last, module_macs, report_of, rows_by_name

from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import load

# Measured with torch 2.14.1 and torchvision 0.29.1 (a side venv, once): sum(p.numel() for p in
# model.parameters()), the BN running statistics, and FlopCounterMode's total / 2 on one image, in eval mode.
# efficientnet_b0() and convnext_tiny() at 224x224; inception_v3(aux_logits=False) at 299x299 (the default
# aux_logits=True adds AuxLogits' params, INCEPTION_V3_DEFAULT_PARAMS, and no MACs: eval never runs it).
TORCHVISION = {  # torchvision 0.29.1's numbers
    "efficientnet_b0": {"params": 5_288_548, "buffers": 42_016, "macs": 385_814_752},
    "inception_v3": {"params": 23_834_568, "buffers": 34_432, "macs": 5_713_216_096},
    "convnext_tiny": {"params": 28_589_128, "buffers": 0, "macs": 4_455_531_264},
}
INCEPTION_V3_DEFAULT_PARAMS = 27_161_264  # torchvision 0.29.1's inception_v3(), AuxLogits included
SPECS = tuple(TORCHVISION)
INPUTS = {"efficientnet_b0": (224, 224, 3), "inception_v3": (299, 299, 3), "convnext_tiny": (224, 224, 3)}


# --------------------------------------------------------------------------- plain tests (no torch)


@pytest.mark.parametrize("name", SPECS)
def test_torchvision_counts(name: str) -> None:
    report = report_of(name)
    assert report.input_shape == INPUTS[name]
    assert report.output_shape == (1000,)
    assert report.params == report.trainable_params == TORCHVISION[name]["params"]
    assert report.buffers == TORCHVISION[name]["buffers"]
    assert report.macs == TORCHVISION[name]["macs"]


def test_efficientnet_b0_by_hand() -> None:
    report = report_of("efficientnet_b0")
    rows = rows_by_name(report)
    # features.1 (t = 1): no expand conv; depthwise 3x3 on 32 channels, SE squeezing to 32 // 4, project to 16
    assert rows["features.1.0.block.0.0"].macs == 112 * 112 * 32 * 9
    assert rows["features.1.0.block.1.avgpool"].op == "mean"
    assert rows["features.1.0.block.1.avgpool"].output_shape == (1, 1, 32)
    assert rows["features.1.0.block.1.fc1"].params == 32 * 8 + 8
    assert rows["features.1.0.block.1.fc2"].params == 8 * 32 + 32
    assert rows["features.1.0.block.1.scale"].output_shape == (112, 112, 32)  # the 1x1x32 gate over the grid
    assert rows["features.1.0.block.2.0"].macs == 112 * 112 * 16 * 32
    assert "features.1.0.add" not in rows  # 32 -> 16 channels: no residual
    # features.3.1 (t = 6, k = 5): 40 -> 240 -> depthwise 5x5 -> SE to 40 // 4 -> 40, residual
    assert rows["features.3.1.block.1.0"].params == 240 * 25
    assert rows["features.3.1.block.1.0"].macs == 28 * 28 * 240 * 25
    assert rows["features.3.1.block.2.fc1"].output_shape == (1, 1, 10)
    assert rows["features.3.1.block.3.0"].macs == 28 * 28 * 40 * 240
    assert rows["features.3.1.add"].output_shape == (28, 28, 40)
    # residuals: every block but the first of each stage, and not features.1 or features.7 (channels change)
    adds = [row.name for row in report.rows if row.op == "add"]
    assert len(adds) == (2 - 1) + (2 - 1) + (3 - 1) + (3 - 1) + (4 - 1) == 9
    assert sum(row.op == "mean" for row in report.rows) == 16  # one SE per MBConv block
    assert rows["features.8.0"].macs == 7 * 7 * 1280 * 320
    assert rows["classifier.1"].params == 1280 * 1000 + 1000
    # the first depthwise conv's field is the largest that is not the whole input: every SE sees the whole map
    assert rows["features.1.0.block.0.0"].field.receptive_field == (7, 7)
    assert rows["features.1.0.block.1.avgpool"].field.whole and rows["features.1.0.block.1.scale"].field.whole


def test_inception_v3_by_hand() -> None:
    report = report_of("inception_v3")
    rows = rows_by_name(report)
    assert rows["Conv2d_1a_3x3.conv"].output_shape == ((299 - 3) // 2 + 1, 149, 32)
    assert rows["maxpool2"].output_shape == (35, 35, 192)
    assert rows["Mixed_5b.avg_pool"].output_shape == (35, 35, 192)  # F.avg_pool2d(x, 3, 1, 1) keeps the size
    assert rows["Mixed_5b.cat"].output_shape == (35, 35, 64 + 64 + 96 + 32)
    assert rows["Mixed_6a.cat"].output_shape == (17, 17, 384 + 96 + 288)
    # factorised 7x7: a 1x7 then a 7x1 conv
    assert rows["Mixed_6b.branch7x7_2.conv"].params == 128 * 128 * 7
    assert rows["Mixed_6b.branch7x7_2.conv"].macs == 17 * 17 * 128 * 128 * 7
    before, after = rows["Mixed_6b.branch7x7_1.conv"].field, rows["Mixed_6b.branch7x7_2.conv"].field
    assert after.receptive_field[0] == before.receptive_field[0]  # the 1x7 widens the field along W only
    assert after.receptive_field[1] == before.receptive_field[1] + 6 * before.jump[1]
    assert rows["Mixed_7a.cat"].output_shape == (8, 8, 320 + 192 + 768)
    assert rows["Mixed_7b.cat_3x3"].output_shape == (8, 8, 768)
    assert rows["Mixed_7c.cat"].output_shape == (8, 8, 2048)
    assert rows["fc"].params == 2048 * 1000 + 1000
    # the auxiliary classifier of the default constructor: BasicConv2d(768, 128, 1), BasicConv2d(128, 768, 5), fc
    aux = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
    assert report.params + aux == INCEPTION_V3_DEFAULT_PARAMS


def test_convnext_tiny_by_hand() -> None:
    report = report_of("convnext_tiny")
    rows = rows_by_name(report)
    assert rows["features.0.0"].output_shape == (56, 56, 96)
    assert rows["features.0.0"].params == 3 * 96 * 16 + 96
    assert rows["features.1.0.block.0"].macs == 56 * 56 * 96 * 49  # depthwise 7x7
    assert rows["features.1.0.block.2"].params == 2 * 96  # LayerNorm over the channels
    assert rows["features.1.0.block.3"].macs == 56 * 56 * 96 * 384
    assert rows["features.1.0.block.5"].output_shape == (56, 56, 96)
    assert rows["features.1.0.layer_scale"].params == 96
    assert rows["features.1.0.scale"].output_shape == (56, 56, 96)
    assert rows["features.2.1"].output_shape == (28, 28, 192) and rows["features.2.1"].params == 96 * 192 * 4 + 192
    assert rows["features.7.2.add"].output_shape == (7, 7, 768)
    assert sum(row.op == "param" for row in report.rows) == 3 + 3 + 9 + 3
    # the last spatial map: stem 4 at jump 4; each block's 7x7 adds 6 jumps; each downsampling 1 jump and doubles it
    rf = 4 + 3 * 6 * 4 + 4 + 3 * 6 * 8 + 8 + 9 * 6 * 16 + 16 + 3 * 6 * 32
    start = -3 * (3 * 4 + 3 * 8 + 9 * 16 + 3 * 32)
    field = rows["features.7.2.add"].field
    assert field.receptive_field == (rf, rf) == (1688, 1688)
    assert field.jump == (32, 32) and field.start == (start, start) == (-828, -828)
    assert rows["features.7.2.layer_scale"].field.receptive_field == (0, 0)  # a param sees no input


# --------------------------------------------------------------------------- torchvision's models, written out


def torchvision_models(torch: Any) -> dict[str, Any]:
    """Builders of torchvision's EfficientNet-B0, Inception v3 and ConvNeXt-T (torchvision/models/efficientnet.py,
    inception.py, convnext.py and ops/misc.py, v0.29), module for module and parameter for parameter."""
    from torch import nn
    from torch.nn import functional as F

    class StochasticDepth(nn.Module):  # torchvision.ops.StochasticDepth: the identity at inference
        def __init__(self, p: float, mode: str) -> None:
            super().__init__()
            self.p, self.mode = p, mode

        def forward(self, input: Any) -> Any:
            if not self.training or self.p == 0.0:
                return input
            size = [input.shape[0]] + [1] * (input.ndim - 1) if self.mode == "row" else [1] * input.ndim
            noise = input.new_empty(size).bernoulli_(1.0 - self.p)
            return input * noise.div_(1.0 - self.p)

    class Conv2dNormActivation(nn.Sequential):  # torchvision.ops.misc: conv, norm, activation
        def __init__(
            self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1, padding: int | None = None,
            groups: int = 1, norm_layer: Any = nn.BatchNorm2d, activation_layer: Any = nn.ReLU, bias: bool | None = None,
        ) -> None:  # fmt: skip
            padding = (kernel_size - 1) // 2 if padding is None else padding
            bias = norm_layer is None if bias is None else bias
            layers: list[Any] = [nn.Conv2d(cin, cout, kernel_size, stride, padding, groups=groups, bias=bias)]
            if norm_layer is not None:
                layers.append(norm_layer(cout))
            if activation_layer is not None:
                layers.append(activation_layer(inplace=True))
            super().__init__(*layers)

    # ---- EfficientNet-B0

    class SqueezeExcitation(nn.Module):
        def __init__(self, input_channels: int, squeeze_channels: int) -> None:
            super().__init__()
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
            self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
            self.activation = nn.SiLU(inplace=True)
            self.scale_activation = nn.Sigmoid()

        def forward(self, input: Any) -> Any:
            scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
            return scale * input

    class MBConv(nn.Module):
        def __init__(self, t: int, k: int, stride: int, cin: int, cout: int, sd_prob: float) -> None:
            super().__init__()
            self.use_res_connect = stride == 1 and cin == cout
            expanded = cin * t  # _make_divisible(cin * t, 8): every B0 width is a multiple of 8 already
            layers: list[Any] = []
            if expanded != cin:
                layers.append(Conv2dNormActivation(cin, expanded, 1, activation_layer=nn.SiLU))
            depthwise = Conv2dNormActivation(expanded, expanded, k, stride, groups=expanded, activation_layer=nn.SiLU)
            layers.append(depthwise)
            layers.append(SqueezeExcitation(expanded, max(1, cin // 4)))
            layers.append(Conv2dNormActivation(expanded, cout, 1, activation_layer=None))
            self.block = nn.Sequential(*layers)
            self.stochastic_depth = StochasticDepth(sd_prob, "row")

        def forward(self, input: Any) -> Any:
            result = self.block(input)
            if self.use_res_connect:
                result = self.stochastic_depth(result)
                result += input
            return result

    class EfficientNet(nn.Module):
        def __init__(self, dropout: float = 0.2, stochastic_depth_prob: float = 0.2, num_classes: int = 1000) -> None:
            super().__init__()
            setting = [  # expand ratio, kernel, stride, in, out, blocks (B0: width and depth 1.0)
                (1, 3, 1, 32, 16, 1),
                (6, 3, 2, 16, 24, 2),
                (6, 5, 2, 24, 40, 2),
                (6, 3, 2, 40, 80, 3),
                (6, 5, 1, 80, 112, 3),
                (6, 5, 2, 112, 192, 4),
                (6, 3, 1, 192, 320, 1),
            ]
            layers: list[Any] = [Conv2dNormActivation(3, 32, 3, 2, activation_layer=nn.SiLU)]
            total = sum(n for *_, n in setting)
            block_id = 0
            for t, k, s, cin, cout, n in setting:
                stage = []
                for i in range(n):
                    sd_prob = stochastic_depth_prob * float(block_id) / total
                    stage.append(MBConv(t, k, s if i == 0 else 1, cin if i == 0 else cout, cout, sd_prob))
                    block_id += 1
                layers.append(nn.Sequential(*stage))
            layers.append(Conv2dNormActivation(320, 4 * 320, 1, activation_layer=nn.SiLU))
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(1280, num_classes))

        def forward(self, x: Any) -> Any:
            x = self.avgpool(self.features(x))
            return self.classifier(torch.flatten(x, 1))

    # ---- Inception v3

    class BasicConv2d(nn.Module):
        def __init__(self, cin: int, cout: int, **kwargs: Any) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
            self.bn = nn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x: Any) -> Any:
            return F.relu(self.bn(self.conv(x)), inplace=True)

    class InceptionA(nn.Module):
        def __init__(self, cin: int, pool_features: int) -> None:
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
            self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
            self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

        def forward(self, x: Any) -> Any:
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
            return torch.cat([b1, b5, b3, bp], 1)

    class InceptionB(nn.Module):
        def __init__(self, cin: int) -> None:
            super().__init__()
            self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

        def forward(self, x: Any) -> Any:
            b3 = self.branch3x3(x)
            bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([b3, bd, F.max_pool2d(x, kernel_size=3, stride=2)], 1)

    class InceptionC(nn.Module):
        def __init__(self, cin: int, channels_7x7: int) -> None:
            super().__init__()
            c7 = channels_7x7
            self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
            self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
            self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

        def forward(self, x: Any) -> Any:
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = self.branch7x7dbl_1(x)
            bd = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(bd))))
            bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
            return torch.cat([b1, b7, bd, bp], 1)

    class InceptionD(nn.Module):
        def __init__(self, cin: int) -> None:
            super().__init__()
            self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
            self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
            self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
            self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
            self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

        def forward(self, x: Any) -> Any:
            b3 = self.branch3x3_2(self.branch3x3_1(x))
            b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
            return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)

    class InceptionE(nn.Module):
        def __init__(self, cin: int) -> None:
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
            self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
            self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
            self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
            self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
            self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
            self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

        def forward(self, x: Any) -> Any:
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
            bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
            return torch.cat([b1, b3, bd, bp], 1)

    class InceptionAux(nn.Module):  # built by the default constructor; run only in training
        def __init__(self, cin: int, num_classes: int) -> None:
            super().__init__()
            self.conv0 = BasicConv2d(cin, 128, kernel_size=1)
            self.conv1 = BasicConv2d(128, 768, kernel_size=5)
            self.fc = nn.Linear(768, num_classes)

        def forward(self, x: Any) -> Any:
            x = self.conv1(self.conv0(F.avg_pool2d(x, kernel_size=5, stride=3)))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))

    class Inception3(nn.Module):
        def __init__(self, num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.5) -> None:
            super().__init__()
            self.transform_input = False  # torchvision's default without weights
            self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
            self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
            self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
            self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
            self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
            self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
            self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
            self.Mixed_5b = InceptionA(192, pool_features=32)
            self.Mixed_5c = InceptionA(256, pool_features=64)
            self.Mixed_5d = InceptionA(288, pool_features=64)
            self.Mixed_6a = InceptionB(288)
            self.Mixed_6b = InceptionC(768, channels_7x7=128)
            self.Mixed_6c = InceptionC(768, channels_7x7=160)
            self.Mixed_6d = InceptionC(768, channels_7x7=160)
            self.Mixed_6e = InceptionC(768, channels_7x7=192)
            self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
            self.Mixed_7a = InceptionD(768)
            self.Mixed_7b = InceptionE(1280)
            self.Mixed_7c = InceptionE(2048)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=dropout)
            self.fc = nn.Linear(2048, num_classes)

        def forward(self, x: Any) -> Any:  # eval: no input transform, the auxiliary classifier not run
            x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
            x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(self.maxpool1(x)))
            x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(self.maxpool2(x))))
            x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(self.Mixed_6a(x)))))
            if self.AuxLogits is not None and self.training:
                self.AuxLogits(x)
            x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
            x = self.dropout(self.avgpool(x))
            return self.fc(torch.flatten(x, 1))

    # ---- ConvNeXt-T

    class LayerNorm2d(nn.LayerNorm):
        def forward(self, x: Any) -> Any:
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 1, 2)

    class Permute(nn.Module):
        def __init__(self, dims: list[int]) -> None:
            super().__init__()
            self.dims = dims

        def forward(self, x: Any) -> Any:
            return torch.permute(x, self.dims)

    class CNBlock(nn.Module):
        def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float) -> None:
            super().__init__()
            self.block = nn.Sequential(
                nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
                Permute([0, 2, 3, 1]),
                nn.LayerNorm(dim, eps=1e-6),
                nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
                nn.GELU(),
                nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
                Permute([0, 3, 1, 2]),
            )
            self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
            self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

        def forward(self, input: Any) -> Any:
            result = self.layer_scale * self.block(input)
            result = self.stochastic_depth(result)
            result += input
            return result

    class ConvNeXt(nn.Module):
        def __init__(
            self, block_setting: Any = ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)),
            stochastic_depth_prob: float = 0.1, layer_scale: float = 1e-6, num_classes: int = 1000,
        ) -> None:  # fmt: skip
            super().__init__()
            norm_layer = lambda channels: LayerNorm2d(channels, eps=1e-6)  # noqa: E731
            first = block_setting[0][0]
            layers: list[Any] = [
                Conv2dNormActivation(3, first, 4, 4, 0, norm_layer=norm_layer, activation_layer=None, bias=True)
            ]
            total = sum(n for *_, n in block_setting)
            block_id = 0
            for cin, cout, n in block_setting:
                stage = []
                for _ in range(n):
                    stage.append(CNBlock(cin, layer_scale, stochastic_depth_prob * block_id / (total - 1.0)))
                    block_id += 1
                layers.append(nn.Sequential(*stage))
                if cout is not None:
                    layers.append(nn.Sequential(norm_layer(cin), nn.Conv2d(cin, cout, kernel_size=2, stride=2)))
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            last = block_setting[-1][1] or block_setting[-1][0]
            self.classifier = nn.Sequential(norm_layer(last), nn.Flatten(1), nn.Linear(last, num_classes))

        def forward(self, x: Any) -> Any:
            return self.classifier(self.avgpool(self.features(x)))

    return {
        "efficientnet_b0": EfficientNet,
        "inception_v3": Inception3,
        "inception_v3_default": lambda: Inception3(aux_logits=True),
        "convnext_tiny": ConvNeXt,
    }


# convcalc rows that are functions in torchvision's forward(), not modules: by op, and by the last part of the name
FUNCTIONAL_OPS = {"add", "mul", "concat", "flatten"}
FUNCTIONAL_NAMES = {"relu", "avg_pool", "max_pool"}  # Inception's F.relu (in BasicConv2d), F.avg_pool2d, F.max_pool2d
CHANNELS_LAST_MODULES = (".block.2", ".block.3", ".block.4", ".block.5")  # ConvNeXt: between the Permutes


def torch_shape(name: str, shape: Any) -> tuple[int, ...]:
    """A module's output shape as convcalc writes it: channels moved last, unless the module sees (N, H, W, C)."""
    return tuple(shape)[1:] if name.endswith(CHANNELS_LAST_MODULES) else channels_last(shape)


def run_with_hooks(torch: Any, model: Any, x: Any) -> tuple[dict[str, list[tuple[tuple[int, ...], int]]], Any, int]:
    """Every leaf module's calls in order, (output shape as convcalc writes it, MACs); the model's output; and
    FlopCounterMode's total / 2."""
    from torch.utils.flop_counter import FlopCounterMode

    calls: dict[str, list[tuple[tuple[int, ...], int]]] = {}

    def recorder(name: str) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            calls.setdefault(name, []).append((torch_shape(name, output.shape), module_macs(module, inputs, output)))

        return hook

    handles = [
        module.register_forward_hook(recorder(name))
        for name, module in model.named_modules()
        if name and not list(module.children())
    ]
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            output = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return calls, output, counter.get_total_flops() // 2


@pytest.mark.torch
@pytest.mark.parametrize("name", SPECS)
def test_matches_torchvision_layer_by_layer(torch: Any, name: str) -> None:
    torch.manual_seed(0)
    model = torchvision_models(torch)[name]().eval()
    report = report_of(name)
    expected = TORCHVISION[name]

    assert_counts(model, report, expected)

    h, w, c = report.input_shape
    calls, output, flop_counter_macs = run_with_hooks(torch, model, torch.randn(1, c, h, w))
    assert channels_last(output.shape) == report.output_shape == (1000,)
    assert flop_counter_macs == report.macs == expected["macs"]

    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    pending = {module: list(module_calls) for module, module_calls in calls.items()}
    matched = 0
    for row in report.rows:
        if row.name in calls:  # the module of the same name
            assert len(calls[row.name]) == 1, row.name
            assert calls[row.name][0] == (row.output_shape, row.macs), row.name
            assert sum(p.numel() for p in modules[row.name].parameters()) == row.params, row.name
            pending.pop(row.name)
            matched += 1
        elif row.op == "param":  # ConvNeXt's layer scale: a parameter of the block, (C, 1, 1)
            assert parameters[row.name].numel() == row.params and parameters[row.name].shape[0] == row.output_shape[-1]
        else:
            assert row.op in FUNCTIONAL_OPS or row.name.rsplit(".", 1)[-1] in FUNCTIONAL_NAMES, row.name
            assert row.params == row.macs == 0, row.name
    # torch modules with no convcalc row: only ConvNeXt's Permutes (layout that a channels-last tensor does not need)
    left = {module for module, module_calls in pending.items() if module_calls}
    assert {type(modules[module]).__name__ for module in left} <= {"Permute"}, sorted(left)
    assert len(left) == (2 * (3 + 3 + 9 + 3) if name == "convnext_tiny" else 0)
    assert matched == sum(len(module_calls) for module_calls in calls.values()) - len(left)
    assert sum(macs for module_calls in calls.values() for _, macs in module_calls) == report.macs


@pytest.mark.torch
def test_inception_v3_default_constructor_adds_only_unused_params(torch: Any) -> None:
    """inception_v3() builds AuxLogits (aux_logits=True): more params, the same eval forward and MACs."""
    torch.manual_seed(0)
    model = torchvision_models(torch)["inception_v3_default"]().eval()
    report = report_of("inception_v3")
    assert sum(p.numel() for p in model.parameters()) == INCEPTION_V3_DEFAULT_PARAMS
    _, output, macs = run_with_hooks(torch, model, torch.randn(1, 3, 299, 299))
    assert tuple(output.shape) == (1, 1000) and macs == report.macs


@pytest.mark.torch
def test_convnext_tiny_receptive_field_in_torch(torch: Any) -> None:
    """The gradient of one unit of ConvNeXt-T's last spatial map (features.7) reaches exactly the rows (and, the
    input turned, the columns) of convcalc's field: 1688 pixels starting 828 before the unit's 32-pixel cell.

    The input is long along the measured axis (1760 pixels: the field fits whole) and thin along the other, and the
    model is ConvNeXt-T's structure (the same kernels, strides, paddings and blocks) at 1/12 of its widths: the
    field does not depend on the channels. Every parameter is positive and the input in [0, 1), so no gradient
    cancels to zero by chance."""
    long, thin, row = 1760, 64, 26
    model = torchvision_models(torch)["convnext_tiny"](((8, 16, 3), (16, 32, 3), (32, 64, 9), (64, None, 3)))
    model = model.double().eval()
    for parameter in model.parameters():
        torch.nn.init.uniform_(parameter, 0.5, 1.0)
    network = load(EXAMPLES / "convnext_tiny.yaml")
    for axis, (h, w) in enumerate(((long, thin), (thin, long))):
        field = rows_by_name(analyze(replace(network, input_shape=(h, w, 3))))["features.7.2.add"].field
        size, jump, start = int(field.receptive_field[axis]), int(field.jump[axis]), int(field.start[axis])
        assert (size, jump, start) == (1688, 32, -828)
        x = torch.rand(1, 3, h, w, dtype=torch.float64, requires_grad=True)
        features = model.features(x)
        unit = (0, slice(None), row, 0) if axis == 0 else (0, slice(None), 0, row)
        features[unit].sum().backward()
        support = x.grad[0].abs().sum(0).nonzero()[:, axis]
        low = row * jump + start
        assert low >= 0 and low + size <= long  # the whole field inside the input
        assert (int(support.min()), int(support.max()) + 1) == (low, low + size)
        assert len(support.unique()) == size  # every row (column) in between
