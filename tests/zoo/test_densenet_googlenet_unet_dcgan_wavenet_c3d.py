"""The bundled DenseNet-121, GoogLeNet, U-Net, DCGAN generator, WaveNet-style stack and C3D specs.

Plain tests check the parameter counts (torchvision's published ones, or worked out here by arithmetic), the output
shapes, a few layers by hand and the receptive field of the WaveNet stack. The torch tests build each network as
its source writes it (torchvision's DenseNet and GoogLeNet written out here: torchvision is not a dependency; the
PyTorch DCGAN tutorial's generator; for the others a module named like the spec), run it with a forward hook on
every leaf module and compare, layer by layer under the same name, the output shape (channels last), the params and
the MACs under convcalc's convention (conv: output elements * C_in/g * prod(k); transposed conv: input elements *
C_out/g * prod(k); linear: in * out per row; bias excluded; everything else 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from helpers import EXAMPLES, channels_last, report_of, rows_by_name, run_with_hooks, torch_input

from convcalc.graph.analysis import analyze
from convcalc.graph.model import Network
from convcalc.specfile.loader import load


def conv_params(c_in: int, c_out: int, k: int, rank: int = 2, bias: bool = True) -> int:
    return c_in * c_out * k**rank + (c_out if bias else 0)


def unet_params() -> int:
    widths = [64, 128, 256, 512, 1024]
    encoder = conv_params(1, 64, 3) + conv_params(64, 64, 3)
    encoder += sum(conv_params(w // 2, w, 3) + conv_params(w, w, 3) for w in widths[1:])
    # up level of width w: transposed conv 2w -> w (k2), conv 2w (skip + upsampled) -> w, conv w -> w
    decoder = sum(conv_params(2 * w, w, 2) + conv_params(2 * w, w, 3) + conv_params(w, w, 3) for w in widths[:4])
    return encoder + decoder + conv_params(64, 2, 1)


def dcgan_params() -> int:
    channels = [100, 512, 256, 128, 64, 3]
    weights = sum(conv_params(a, b, 4, bias=False) for a, b in zip(channels, channels[1:]))
    return weights + 2 * sum(channels[1:-1])  # BN scale and shift after all but the last


def wavenet_params() -> int:
    residual = conv_params(32, 32, 2, rank=1) + conv_params(32, 32, 1, rank=1)
    return (
        conv_params(1, 32, 1, rank=1)
        + 30 * residual
        + conv_params(32, 256, 1, rank=1)
        + conv_params(256, 256, 1, rank=1)
    )


def c3d_params() -> int:
    channels = [3, 64, 128, 256, 256, 512, 512, 512, 512]
    convs = sum(conv_params(a, b, 3, rank=3) for a, b in zip(channels, channels[1:]))
    return convs + (8192 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 487 + 487)


PARAMS = {
    "densenet121": 7_978_856,  # torchvision's published counts
    "googlenet": 6_624_904,
    "unet": unet_params(),
    "dcgan_generator": dcgan_params(),
    "wavenet": wavenet_params(),
    "c3d": c3d_params(),
}
SHAPES = {  # (input, output), channels last
    "densenet121": ((224, 224, 3), (1000,)),
    "googlenet": ((224, 224, 3), (1000,)),
    "unet": ((256, 256, 1), (256, 256, 2)),
    "dcgan_generator": ((1, 1, 100), (64, 64, 3)),
    "wavenet": ((16000, 1), (16000, 256)),
    "c3d": ((16, 112, 112, 3), (487,)),
}
SPECS = tuple(PARAMS)


# --------------------------------------------------------------------------- plain tests (no torch)


def test_arithmetic_params() -> None:
    assert PARAMS["unet"] == 31_030_658
    assert PARAMS["dcgan_generator"] == 3_576_704
    assert PARAMS["wavenet"] == 168_384
    assert PARAMS["c3d"] == 79_991_015


@pytest.mark.parametrize("name", SPECS)
def test_params_and_shapes(name: str) -> None:
    report = report_of(name)
    assert report.params == report.trainable_params == PARAMS[name]
    assert (report.input_shape, report.output_shape) == SHAPES[name]
    assert not [(row.name, row.warnings) for row in report.rows if row.warnings]


def test_densenet121_by_hand() -> None:
    report = report_of("densenet121")
    rows = rows_by_name(report)
    assert rows["features.pool0"].output_shape == (56, 56, 64)
    # each dense layer adds 32 channels to its input: 4 * 32 in the bottleneck, 32 new ones out
    for block, (count, c0, side) in enumerate(((6, 64, 56), (12, 128, 28), (24, 256, 14), (16, 512, 7)), 1):
        for j in range(1, count + 1):
            prefix = f"features.denseblock{block}.denselayer{j}"
            c_in = c0 + 32 * (j - 1)
            assert rows[f"{prefix}.norm1"].output_shape == (side, side, c_in)
            assert rows[f"{prefix}.conv1"].macs == side * side * 128 * c_in
            assert rows[f"{prefix}.conv2"].output_shape == (side, side, 32)
            assert rows[f"{prefix}.conv2"].macs == side * side * 32 * 128 * 9
            assert rows[f"{prefix}.cat"].output_shape == (side, side, c_in + 32)
        if block < 4:
            assert rows[f"features.transition{block}.pool"].output_shape == (
                side // 2,
                side // 2,
                (c0 + 32 * count) // 2,
            )
    assert sum(row.op == "concat" for row in report.rows) == 6 + 12 + 24 + 16
    assert sum(row.op == "conv" for row in report.rows) == 1 + 2 * 58 + 3
    assert rows["features.norm5"].output_shape == (7, 7, 1024)
    assert rows["classifier"].params == 1024 * 1000 + 1000
    assert report.macs == 2_834_161_664  # the torch test below counts the same


def test_googlenet_by_hand() -> None:
    report = report_of("googlenet")
    rows = rows_by_name(report)
    # ceil_mode: ceil((n - 3) / 2) + 1
    assert rows["maxpool1"].output_shape == (-(-(112 - 3) // 2) + 1,) * 2 + (64,) == (56, 56, 64)
    assert rows["maxpool2"].output_shape == (28, 28, 192)
    assert rows["maxpool3"].output_shape == (14, 14, 480)
    assert rows["maxpool4"].output_shape == (7, 7, 832)
    assert rows["conv1.bn"].params == 2 * 64 and rows["conv1.conv"].params == 3 * 64 * 49
    assert rows["inception3a.branch3.1.conv"].params == 16 * 32 * 3 * 3  # torchvision's 3x3, not the paper's 5x5
    assert rows["inception3a.branch4.0"].output_shape == (28, 28, 192)
    assert rows["inception3a.cat"].output_shape == (28, 28, 64 + 128 + 32 + 32)
    assert rows["inception5b.cat"].output_shape == (7, 7, 384 + 384 + 128 + 128)
    assert sum(row.op == "concat" for row in report.rows) == 9
    assert sum(row.op == "conv" for row in report.rows) == 3 + 9 * 6
    assert rows["fc"].params == 1024 * 1000 + 1000
    assert report.macs == 1_498_376_192


def test_unet_by_hand() -> None:
    report = report_of("unet")
    rows = rows_by_name(report)
    for level in range(1, 6):
        side, width = 256 // 2 ** (level - 1), 64 * 2 ** (level - 1)
        assert rows[f"enc{level}.conv2"].output_shape == (side, side, width)
    assert "enc1.pool" not in rows
    for level in range(1, 5):
        side, width = 256 // 2 ** (level - 1), 64 * 2 ** (level - 1)
        upconv = rows[f"dec{level}.upconv"]
        assert upconv.output_shape == (side, side, width)
        assert upconv.macs == (side // 2) ** 2 * (2 * width) * width * 4  # input elements * C_out * prod(k)
        assert rows[f"dec{level}.cat"].inputs == (f"enc{level}.relu2", f"dec{level}.upconv")
        assert rows[f"dec{level}.cat"].output_shape == (side, side, 2 * width)
    assert rows["head"].macs == 256 * 256 * 2 * 64


def test_dcgan_generator_by_hand() -> None:
    report = report_of("dcgan_generator")
    rows = rows_by_name(report)
    assert [rows[f"up{j}.conv"].output_shape for j in range(1, 5)] == [
        (4, 4, 512),  # (1 - 1) * 1 - 0 + 4
        (8, 8, 256),  # (n - 1) * 2 - 2 + 4 = 2n
        (16, 16, 128),
        (32, 32, 64),
    ]
    channels, sides = [100, 512, 256, 128, 64, 3], [1, 4, 8, 16, 32]
    macs = sum(n * n * a * b * 16 for n, a, b in zip(sides, channels, channels[1:]))
    assert report.macs == macs == 104_628_224
    assert report.buffers == 2 * (512 + 256 + 128 + 64)


def test_wavenet_receptive_field_grows_with_the_dilations() -> None:
    report = report_of("wavenet")
    rows = rows_by_name(report)
    assert rows["embed"].field.receptive_field == (1,)
    for stack in range(3):
        for j in range(10):
            prefix = f"stack.{stack}.layer.{j}"
            seen = 1 + stack * (2**10 - 1) + (2 ** (j + 1) - 1)  # 1 + the dilations so far, kernel 2
            for part in ("dilated", "add"):
                row = rows[f"{prefix}.{part}"]
                assert row.field.receptive_field == (seen,), row.name
                assert row.field.start == (-(seen - 1),), row.name  # causal: sample t sees t - seen + 1 ... t
                assert row.output_shape == (16000, 32)
    dilations = [2**j for j in range(10)] * 3
    rf = 1 + sum(dilations)
    assert rf == 3070
    assert report.rows[-1].name == "out2"
    assert report.rows[-1].field.receptive_field == (rf,) and report.rows[-1].field.jump == (1,)
    assert rows["stack.2.layer.9.dilated"].macs == 16000 * 32 * 32 * 2


def test_c3d_by_hand() -> None:
    report = report_of("c3d")
    rows = rows_by_name(report)
    assert rows["pool1"].output_shape == (16, 56, 56, 64)  # 1x2x2 keeps the 16 frames
    assert rows["pool4"].output_shape == (2, 7, 7, 512)
    assert rows["pool5"].output_shape == ((2 - 2) // 2 + 1, (7 + 2 - 2) // 2 + 1, 4, 512) == (1, 4, 4, 512)
    assert rows["flatten"].output_shape == (8192,)
    assert rows["conv1"].macs == 16 * 112 * 112 * 64 * 3 * 27
    assert rows["conv5b"].macs == 2 * 7 * 7 * 512 * 512 * 27
    assert sum(row.op == "relu" for row in report.rows) == 10
    assert sum(row.op == "dropout" for row in report.rows) == 2


# --------------------------------------------------------------------------- the networks in PyTorch


def torch_models(torch: Any) -> dict[str, Callable[[], Any]]:
    """Builders, module for module: torchvision's DenseNet-121 and GoogLeNet (torchvision/models/densenet.py and
    googlenet.py, v0.2x), the PyTorch DCGAN tutorial's generator, and modules named like the other specs."""
    from torch import nn
    from torch.nn import functional as F

    # ------------------------------------------------------------------ torchvision.models.densenet
    class _DenseLayer(nn.Module):
        def __init__(self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float) -> None:
            super().__init__()
            self.norm1 = nn.BatchNorm2d(num_input_features)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
            self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
            self.relu2 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
            self.drop_rate = float(drop_rate)

        def bn_function(self, inputs: list[Any]) -> Any:
            concated_features = torch.cat(inputs, 1)
            return self.conv1(self.relu1(self.norm1(concated_features)))

        def forward(self, input: Any) -> Any:
            prev_features = [input] if isinstance(input, torch.Tensor) else input
            bottleneck_output = self.bn_function(prev_features)
            new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
            if self.drop_rate > 0:
                new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
            return new_features

    class _DenseBlock(nn.ModuleDict):
        def __init__(
            self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int, drop_rate: float
        ) -> None:
            super().__init__()
            for i in range(num_layers):
                layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
                self.add_module(f"denselayer{i + 1}", layer)

        def forward(self, init_features: Any) -> Any:
            features = [init_features]
            for _name, layer in self.items():
                new_features = layer(features)
                features.append(new_features)
            return torch.cat(features, 1)

    class _Transition(nn.Sequential):
        def __init__(self, num_input_features: int, num_output_features: int) -> None:
            super().__init__()
            self.norm = nn.BatchNorm2d(num_input_features)
            self.relu = nn.ReLU(inplace=True)
            self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
            self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    class DenseNet(nn.Module):
        def __init__(
            self,
            growth_rate: int = 32,
            block_config: tuple[int, ...] = (6, 12, 24, 16),
            num_init_features: int = 64,
            bn_size: int = 4,
            drop_rate: float = 0,
            num_classes: int = 1000,
        ) -> None:
            super().__init__()
            from collections import OrderedDict

            self.features = nn.Sequential(
                OrderedDict(
                    [
                        ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
                        ("norm0", nn.BatchNorm2d(num_init_features)),
                        ("relu0", nn.ReLU(inplace=True)),
                        ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                    ]
                )
            )
            num_features = num_init_features
            for i, num_layers in enumerate(block_config):
                block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
                self.features.add_module(f"denseblock{i + 1}", block)
                num_features = num_features + num_layers * growth_rate
                if i != len(block_config) - 1:
                    trans = _Transition(num_input_features=num_features, num_output_features=num_features // 2)
                    self.features.add_module(f"transition{i + 1}", trans)
                    num_features = num_features // 2
            self.features.add_module("norm5", nn.BatchNorm2d(num_features))
            self.classifier = nn.Linear(num_features, num_classes)

        def forward(self, x: Any) -> Any:
            features = self.features(x)
            out = F.relu(features, inplace=True)
            out = F.adaptive_avg_pool2d(out, (1, 1))
            out = torch.flatten(out, 1)
            return self.classifier(out)

    # ------------------------------------------------------------------ torchvision.models.googlenet
    class BasicConv2d(nn.Module):
        def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
            self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

        def forward(self, x: Any) -> Any:
            return F.relu(self.bn(self.conv(x)), inplace=True)

    class Inception(nn.Module):
        def __init__(
            self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int, pool_proj: int
        ) -> None:
            super().__init__()
            conv_block = BasicConv2d
            self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
            self.branch2 = nn.Sequential(
                conv_block(in_channels, ch3x3red, kernel_size=1), conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1)
            )
            self.branch3 = nn.Sequential(
                conv_block(in_channels, ch5x5red, kernel_size=1),
                # Here, kernel_size=3 instead of kernel_size=5 is a known bug (torchvision's comment)
                conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1),
            )
            self.branch4 = nn.Sequential(
                nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                conv_block(in_channels, pool_proj, kernel_size=1),
            )

        def forward(self, x: Any) -> Any:
            outputs = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
            return torch.cat(outputs, 1)

    class GoogLeNet(nn.Module):  # aux_logits=False, transform_input=False
        def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
            super().__init__()
            conv_block, inception_block = BasicConv2d, Inception
            self.conv1 = conv_block(3, 64, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            self.conv2 = conv_block(64, 64, kernel_size=1)
            self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
            self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
            self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
            self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
            self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
            self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
            self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
            self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
            self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
            self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
            self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
            self.aux1 = None
            self.aux2 = None
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=dropout)
            self.fc = nn.Linear(1024, num_classes)

        def forward(self, x: Any) -> Any:
            x = self.maxpool1(self.conv1(x))
            x = self.maxpool2(self.conv3(self.conv2(x)))
            x = self.maxpool3(self.inception3b(self.inception3a(x)))
            x = self.inception4a(x)
            x = self.inception4d(self.inception4c(self.inception4b(x)))
            x = self.maxpool4(self.inception4e(x))
            x = self.inception5b(self.inception5a(x))
            x = torch.flatten(self.avgpool(x), 1)
            return self.fc(self.dropout(x))

    # ------------------------------------------------------------------ U-Net, named like examples/unet.yaml
    class Down(nn.Module):
        def __init__(self, c_in: int, c_out: int, pool: bool) -> None:
            super().__init__()
            if pool:
                self.pool = nn.MaxPool2d(2)
            self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.relu2 = nn.ReLU(inplace=True)

        def forward(self, x: Any) -> Any:
            if hasattr(self, "pool"):
                x = self.pool(x)
            return self.relu2(self.conv2(self.relu1(self.conv1(x))))

    class Up(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.upconv = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
            self.conv1 = nn.Conv2d(2 * c_out, c_out, 3, padding=1)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.relu2 = nn.ReLU(inplace=True)

        def forward(self, x: Any, skip: Any) -> Any:
            x = torch.cat([skip, self.upconv(x)], 1)
            return self.relu2(self.conv2(self.relu1(self.conv1(x))))

    class UNet(nn.Module):
        def __init__(self, in_channels: int = 1, classes: int = 2) -> None:
            super().__init__()
            widths = [64, 128, 256, 512, 1024]
            c_in = in_channels
            for level, width in enumerate(widths, 1):
                self.add_module(f"enc{level}", Down(c_in, width, pool=level > 1))
                c_in = width
            for level, width in enumerate(widths[:4], 1):
                self.add_module(f"dec{level}", Up(2 * width, width))
            self.head = nn.Conv2d(64, classes, 1)

        def forward(self, x: Any) -> Any:
            skips = []
            for level in range(1, 6):
                x = getattr(self, f"enc{level}")(x)
                skips.append(x)
            for level in range(4, 0, -1):
                x = getattr(self, f"dec{level}")(x, skips[level - 1])
            return self.head(x)

    # ------------------------------------------------------------------ the PyTorch DCGAN tutorial's generator
    class Generator(nn.Module):
        def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 8),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh(),
            )

        def forward(self, input: Any) -> Any:
            return self.main(input)

    # ------------------------------------------------------------------ WaveNet-style stack, named like the spec
    class Residual(nn.Module):
        def __init__(self, channels: int, dilation: int) -> None:
            super().__init__()
            self.dilation = dilation
            self.dilated = nn.Conv1d(channels, channels, 2, dilation=dilation)
            self.tanh = nn.Tanh()
            self.proj = nn.Conv1d(channels, channels, 1)

        def forward(self, x: Any) -> Any:
            causal = F.pad(x, (self.dilation, 0))  # the left side only: output t sees t - d and t
            return x + self.proj(self.tanh(self.dilated(causal)))

    class Stack(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.layer = nn.Sequential(*(Residual(channels, 2**i) for i in range(10)))

        def forward(self, x: Any) -> Any:
            return self.layer(x)

    class WaveNet(nn.Module):
        def __init__(self, channels: int = 32, classes: int = 256) -> None:
            super().__init__()
            self.embed = nn.Conv1d(1, channels, 1)
            self.stack = nn.Sequential(*(Stack(channels) for _ in range(3)))
            self.relu1 = nn.ReLU()
            self.out1 = nn.Conv1d(channels, classes, 1)
            self.relu2 = nn.ReLU()
            self.out2 = nn.Conv1d(classes, classes, 1)

        def forward(self, x: Any) -> Any:
            x = self.stack(self.embed(x))
            return self.out2(self.relu2(self.out1(self.relu1(x))))

    # ------------------------------------------------------------------ C3D as c3d-pytorch writes it
    class C3D(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv3d(3, 64, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
            self.conv2 = nn.Conv3d(64, 128, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.pool2 = nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2))
            self.conv3a = nn.Conv3d(128, 256, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.conv3b = nn.Conv3d(256, 256, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.pool3 = nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2))
            self.conv4a = nn.Conv3d(256, 512, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.conv4b = nn.Conv3d(512, 512, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.pool4 = nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2))
            self.conv5a = nn.Conv3d(512, 512, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.conv5b = nn.Conv3d(512, 512, kernel_size=(3, 3, 3), padding=(1, 1, 1))
            self.pool5 = nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 1, 1))
            self.fc6 = nn.Linear(8192, 4096)
            self.fc7 = nn.Linear(4096, 4096)
            self.fc8 = nn.Linear(4096, 487)
            self.dropout = nn.Dropout(p=0.5)
            self.relu = nn.ReLU()

        def forward(self, x: Any) -> Any:  # the port's final softmax left out: the spec ends with the logits
            h = self.pool1(self.relu(self.conv1(x)))
            h = self.pool2(self.relu(self.conv2(h)))
            h = self.pool3(self.relu(self.conv3b(self.relu(self.conv3a(h)))))
            h = self.pool4(self.relu(self.conv4b(self.relu(self.conv4a(h)))))
            h = self.pool5(self.relu(self.conv5b(self.relu(self.conv5a(h)))))
            h = h.view(-1, 8192)
            h = self.dropout(self.relu(self.fc6(h)))
            h = self.dropout(self.relu(self.fc7(h)))
            return self.fc8(h)

    return {
        "densenet121": DenseNet,
        "googlenet": GoogLeNet,
        "unet": UNet,
        "dcgan_generator": Generator,
        "wavenet": WaveNet,
        "c3d": C3D,
    }


# convcalc rows that are functions in the torch model's forward(), not modules
FUNCTIONAL_OPS = {"add", "concat", "flatten"}
FUNCTIONAL_NAMES = {
    "densenet121": {"relu", "avgpool"},  # F.relu, F.adaptive_avg_pool2d
    "googlenet": set(),  # (and every BasicConv2d's F.relu, below)
}
# torch modules called more than once (c3d-pytorch's one ReLU and one Dropout): convcalc rows of that op take
# their calls in order
SHARED = {"c3d": {"relu": "relu", "dropout": "dropout"}}
# the DCGAN tutorial's nn.Sequential `main`: convcalc's layer N is main.N
RENAME: dict[str, Callable[[Any], str]] = {"dcgan_generator": lambda row: f"main.{row.index}"}


def build(torch: Any, name: str) -> tuple[Any, Network]:
    """The torch model (eval mode) and the spec."""
    torch.manual_seed(0)
    return torch_models(torch)[name]().eval(), load(EXAMPLES / f"{name}.yaml")


@pytest.mark.torch
@pytest.mark.parametrize("name", SPECS)
def test_matches_torch_layer_by_layer(torch: Any, name: str) -> None:
    model, network = build(torch, name)
    report = analyze(network)
    assert sum(p.numel() for p in model.parameters()) == report.params == PARAMS[name]
    statistics = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert statistics == report.buffers

    calls, output = run_with_hooks(torch, model, torch_input(torch, network))  # C3D, U-Net: < 1 s on 2 threads
    assert channels_last(output.shape) == report.output_shape
    modules = dict(model.named_modules())
    pending = {module: list(module_calls) for module, module_calls in calls.items()}
    rename = RENAME.get(name, lambda row: row.name)
    shared = SHARED.get(name, {})
    matched = 0
    for row in report.rows:
        module_name = rename(row)
        if module_name in calls:  # the module of the same name
            assert len(calls[module_name]) == 1, module_name
            assert calls[module_name][0] == (row.output_shape, row.macs), row.name
            assert sum(p.numel() for p in modules[module_name].parameters()) == row.params, row.name
            pending.pop(module_name)
            matched += 1
        elif row.op in shared:
            assert pending[shared[row.op]].pop(0) == (row.output_shape, 0), row.name
            matched += 1
        elif name == "googlenet" and row.op == "relu" and row.name.endswith(".relu"):
            pass  # BasicConv2d applies F.relu
        else:
            assert row.op in FUNCTIONAL_OPS or row.name in FUNCTIONAL_NAMES.get(name, set()), row.name
            assert row.params == row.macs == 0, row.name
    assert not [module for module, left in pending.items() if left], "torch modules with no convcalc layer"
    assert matched == sum(len(module_calls) for module_calls in calls.values())
    assert sum(macs for module_calls in calls.values() for _, macs in module_calls) == report.macs


@pytest.mark.torch
def test_wavenet_receptive_field_in_torch(torch: Any) -> None:
    """The gradient of one output sample reaches exactly the 3070 input samples convcalc reports, all in the past."""
    model, network = build(torch, "wavenet")
    model = model.double()
    length, t = 4000, 3500
    x = torch.randn(1, 1, length, dtype=torch.float64, requires_grad=True)
    model(x)[0, :, t].sum().backward()
    seen = torch.nonzero(x.grad[0, 0]).flatten().tolist()
    report = analyze(replace(network, input_shape=(length, 1)))
    rf = report.rows[-1].field
    assert rf.receptive_field == (3070,) and rf.start == (-3069,)
    assert seen == list(range(t + int(rf.start[0]), t + 1))
