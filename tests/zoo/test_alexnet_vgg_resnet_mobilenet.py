"""The bundled AlexNet, VGG-16, ResNet-18 and MobileNetV2 specs against torchvision.

Plain tests check the published parameter counts and a few shapes and MACs worked out by hand. The torch tests
build each network as torchvision's source writes it (written out here: torchvision is not a dependency), run it
on a 1x3x224x224 input with a forward hook on every leaf module and compare, layer by layer under the same name,
the output shape, the params and the MACs (convcalc's convention: weight multiplies only, bias excluded).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import report_of, rows_by_name, run_with_hooks

from convcalc.ops.catalogue import ACTIVATIONS

# torchvision.models.<name>(): sum(p.numel() for p in model.parameters()), as torchvision's docs publish them
PARAMS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "mobilenet_v2": 3_504_872,
}
SPECS = tuple(PARAMS)


# --------------------------------------------------------------------------- plain tests (no torch)


@pytest.mark.parametrize("name", SPECS)
def test_published_params_and_output(name: str) -> None:
    report = report_of(name)
    assert report.input_shape == (224, 224, 3)
    assert report.params == PARAMS[name]
    assert report.trainable_params == PARAMS[name]
    assert report.output_shape == (1000,)
    assert not [row.name for row in report.rows if row.warnings and row.op != "conv"]


def test_alexnet_by_hand() -> None:
    rows = rows_by_name(report_of("alexnet"))
    assert rows["features.0"].output_shape == ((224 + 2 * 2 - 11) // 4 + 1,) * 2 + (64,) == (55, 55, 64)
    assert rows["features.0"].macs == 55 * 55 * 64 * (3 * 11 * 11)
    assert rows["features.0"].params == 64 * 3 * 11 * 11 + 64
    assert rows["features.2"].output_shape == ((55 - 3) // 2 + 1, 27, 64)
    assert rows["features.3"].macs == 27 * 27 * 192 * (64 * 5 * 5)
    assert rows["features.5"].output_shape == ((27 - 3) // 2 + 1, 13, 192)
    assert rows["features.12"].output_shape == ((13 - 3) // 2 + 1, 6, 256)
    assert rows["avgpool"].output_shape == (6, 6, 256)
    assert rows["flatten"].output_shape == (256 * 6 * 6,)
    assert rows["classifier.1"].params == 9216 * 4096 + 4096
    assert rows["classifier.1"].macs == 9216 * 4096
    rf = 11 + (3 - 1) * 4 + (5 - 1) * 8 + (3 - 1) * 8 + 3 * (3 - 1) * 16 + (3 - 1) * 16  # r += (k - 1) * jump
    assert rows["features.12"].field.receptive_field == (rf, rf) == (195, 195)


def test_vgg16_by_hand() -> None:
    report = report_of("vgg16")
    rows = rows_by_name(report)
    assert rows["features.0"].macs == 224 * 224 * 64 * (3 * 3 * 3)
    assert rows["features.2"].macs == 224 * 224 * 64 * (64 * 3 * 3)
    assert rows["features.4"].output_shape == (112, 112, 64)
    assert rows["features.16"].output_shape == (28, 28, 256)
    assert rows["features.30"].output_shape == (224 // 2**5, 224 // 2**5, 512) == (7, 7, 512)
    assert rows["classifier.0"].params == 512 * 7 * 7 * 4096 + 4096
    assert sum(row.op == "conv" for row in report.rows) == 13
    assert sum(row.op == "linear" for row in report.rows) == 3
    # the 13 convs at their resolutions: 2 at 224, 2 at 112, 3 at 56, 3 at 28, 3 at 14
    conv_macs = 9 * (
        224**2 * (3 * 64 + 64 * 64)
        + 112**2 * (64 * 128 + 128 * 128)
        + 56**2 * (128 * 256 + 2 * 256 * 256)
        + 28**2 * (256 * 512 + 2 * 512 * 512)
        + 14**2 * (3 * 512 * 512)
    )
    assert report.macs == conv_macs + 25088 * 4096 + 4096 * 4096 + 4096 * 1000 == 15_470_264_320


def test_resnet18_by_hand() -> None:
    report = report_of("resnet18")
    rows = rows_by_name(report)
    assert rows["conv1"].output_shape == (112, 112, 64)
    assert rows["conv1"].macs == 112 * 112 * 64 * (3 * 7 * 7)
    assert rows["maxpool"].output_shape == ((112 + 2 - 3) // 2 + 1, 56, 64)
    assert rows["layer1.1.conv2"].macs == 56 * 56 * 64 * (64 * 3 * 3)
    assert rows["layer2.0.conv1"].output_shape == (28, 28, 128)
    assert rows["layer2.0.downsample.0"].macs == 28 * 28 * 128 * 64
    assert rows["layer4.1.bn2"].output_shape == (7, 7, 512)
    assert "layer1.0.downsample.0" not in rows  # layer1 keeps 64 channels and stride 1
    assert sum(row.op == "add" for row in report.rows) == 8
    assert rows["fc"].params == 512 * 1000 + 1000
    # per stage: 4 3x3 convs of width w at side n (the first at stride 2 reads w/2 channels), plus the 1x1 shortcut
    stages = 9 * 56**2 * 64 * 64 * 4
    for n, w in ((28, 128), (14, 256), (7, 512)):
        stages += 9 * n * n * w * (w // 2 + 3 * w) + n * n * w * (w // 2)
    assert report.macs == 112 * 112 * 64 * 3 * 49 + stages + 512 * 1000 == 1_814_073_344


def test_mobilenet_v2_by_hand() -> None:
    report = report_of("mobilenet_v2")
    rows = rows_by_name(report)
    assert rows["features.0.0"].output_shape == (112, 112, 32)
    # t = 1: no expand conv, conv.0 is the depthwise 3x3 (one input channel per group)
    assert rows["features.1.conv.0.0"].macs == 112 * 112 * 32 * (1 * 3 * 3)
    assert rows["features.1.conv.0.0"].params == 32 * 3 * 3
    assert rows["features.1.conv.1"].output_shape == (112, 112, 16)
    assert rows["features.1.conv.2"].op == "bn" and "features.1.conv.3" not in rows
    # t = 6: expand 16 -> 96, depthwise at stride 2, project to 24
    assert rows["features.2.conv.0.0"].macs == 112 * 112 * (16 * 6) * 16
    assert rows["features.2.conv.1.0"].output_shape == (56, 56, 96)
    assert rows["features.2.conv.1.0"].macs == 56 * 56 * 96 * 9
    assert rows["features.2.conv.2"].macs == 56 * 56 * 24 * 96
    assert rows["features.17.conv.3"].output_shape == (7, 7, 320)
    assert rows["features.18.0"].macs == 7 * 7 * 1280 * 320
    assert rows["features.18.2"].op == "relu6"
    assert rows["classifier.1"].params == 1280 * 1000 + 1000
    # residual adds only at stride 1 with equal channels: 1 + 2 + 3 + 2 + 2 of the (n - 1) repeats per stage
    adds = sorted(int(row.name.split(".")[1]) for row in report.rows if row.op == "add")
    assert adds == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]
    assert report.macs == 300_774_272


# --------------------------------------------------------------------------- torchvision's models, written out


def torchvision_models(torch: Any) -> dict[str, Any]:
    """Builders of torchvision's AlexNet, VGG-16, ResNet-18 and MobileNetV2 (torchvision/models/*.py, v0.2x),
    module for module."""
    from torch import nn

    class AlexNet(nn.Module):
        def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(64, 192, kernel_size=5, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(192, 384, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
            )
            self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
            self.classifier = nn.Sequential(
                nn.Dropout(p=dropout),
                nn.Linear(256 * 6 * 6, 4096),
                nn.ReLU(inplace=True),
                nn.Dropout(p=dropout),
                nn.Linear(4096, 4096),
                nn.ReLU(inplace=True),
                nn.Linear(4096, num_classes),
            )

        def forward(self, x: Any) -> Any:
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    class VGG(nn.Module):
        def __init__(self, features: Any, num_classes: int = 1000, dropout: float = 0.5) -> None:
            super().__init__()
            self.features = features
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096),
                nn.ReLU(True),
                nn.Dropout(p=dropout),
                nn.Linear(4096, 4096),
                nn.ReLU(True),
                nn.Dropout(p=dropout),
                nn.Linear(4096, num_classes),
            )

        def forward(self, x: Any) -> Any:
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    def vgg_layers(cfg: list[Any]) -> Any:
        layers: list[Any] = []
        in_channels = 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                in_channels = v
        return nn.Sequential(*layers)

    def vgg16() -> Any:
        cfg_d = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
        return VGG(vgg_layers(cfg_d))

    def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> Any:
        return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)

    def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Any:
        return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Any = None) -> None:
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x: Any) -> Any:
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, block: Any, layers: list[int], num_classes: int = 1000) -> None:
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
            self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
            self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * block.expansion, num_classes)

        def _make_layer(self, block: Any, planes: int, blocks: int, stride: int = 1) -> Any:
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    conv1x1(self.inplanes, planes * block.expansion, stride), nn.BatchNorm2d(planes * block.expansion)
                )
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.fc(x)

    def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
        if min_value is None:
            min_value = divisor
        new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
        if new_v < 0.9 * v:
            new_v += divisor
        return new_v

    class Conv2dNormActivation(nn.Sequential):  # torchvision.ops.misc, with norm BatchNorm2d and ReLU6
        def __init__(
            self, in_planes: int, out_planes: int, kernel_size: int = 3, stride: int = 1, groups: int = 1
        ) -> None:
            padding = (kernel_size - 1) // 2
            super().__init__(
                nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, groups=groups, bias=False),
                nn.BatchNorm2d(out_planes),
                nn.ReLU6(inplace=True),
            )

    class InvertedResidual(nn.Module):
        def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
            super().__init__()
            hidden_dim = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers: list[Any] = []
            if expand_ratio != 1:
                layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
            layers += [
                Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            ]
            self.conv = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(
            self, num_classes: int = 1000, width_mult: float = 1.0, round_nearest: int = 8, dropout: float = 0.2
        ) -> None:
            super().__init__()
            input_channel, last_channel = 32, 1280
            setting = [
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
            input_channel = make_divisible(input_channel * width_mult, round_nearest)
            self.last_channel = make_divisible(last_channel * max(1.0, width_mult), round_nearest)
            features: list[Any] = [Conv2dNormActivation(3, input_channel, stride=2)]
            for t, c, n, s in setting:
                output_channel = make_divisible(c * width_mult, round_nearest)
                for i in range(n):
                    features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t))
                    input_channel = output_channel
            features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        def forward(self, x: Any) -> Any:
            x = self.features(x)
            x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
            x = torch.flatten(x, 1)
            return self.classifier(x)

    return {
        "alexnet": AlexNet,
        "vgg16": vgg16,
        "resnet18": lambda: ResNet(BasicBlock, [2, 2, 2, 2]),
        "mobilenet_v2": MobileNetV2,
    }


# convcalc rows that are functions in torchvision's forward(), not modules
FUNCTIONAL = {"add", "flatten"}
FUNCTIONAL_BY_NAME = {"mobilenet_v2": {"avgpool"}}  # nn.functional.adaptive_avg_pool2d


@pytest.mark.torch
@pytest.mark.parametrize("name", SPECS)
def test_matches_torchvision_layer_by_layer(torch: Any, name: str) -> None:
    torch.manual_seed(0)
    model = torchvision_models(torch)[name]().eval()
    report = report_of(name)

    assert sum(p.numel() for p in model.parameters()) == report.params == PARAMS[name]
    statistics = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert statistics == report.buffers

    calls, output = run_with_hooks(torch, model, torch.randn(1, 3, 224, 224))
    assert tuple(output.shape) == (1, 1000)
    modules = dict(model.named_modules())
    pending = {module: list(shapes) for module, shapes in calls.items()}
    matched = 0
    for row in report.rows:
        if row.name in calls:  # the module of the same name
            module_calls = calls[row.name]
            assert len(module_calls) == 1, row.name
            assert module_calls[0] == (row.output_shape, row.macs), row.name
            params = sum(p.numel() for p in modules[row.name].parameters())
            assert params == row.params, row.name
            pending.pop(row.name)
            matched += 1
        elif row.op in ACTIVATIONS and row.blocks and f"{row.blocks[-1]}.{row.op}" in pending:
            # torchvision's BasicBlock calls its one ReLU module twice: match the calls in order
            shape, macs = pending[f"{row.blocks[-1]}.{row.op}"].pop(0)
            assert (shape, macs) == (row.output_shape, 0), row.name
            matched += 1
        else:
            assert row.op in FUNCTIONAL or row.name in FUNCTIONAL_BY_NAME.get(name, set()), row.name
    assert not [module for module, left in pending.items() if left], "torch modules with no convcalc layer"
    assert matched == sum(len(shapes) for shapes in calls.values())

    assert sum(macs for module_calls in calls.values() for _, macs in module_calls) == report.macs
