"""Importing PyTorch models (convcalc.io.torch_import), then running `net` on the spec: the numbers, the names and
what cannot be represented. (Export is tests/io/test_torch_export.py, verification tests/io/test_torch_verify.py.)"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import load_text

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")



MODELS = textwrap.dedent(
    '''
    import torch
    from torch import nn


    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)


    class ResNet18(nn.Module):
        """torchvision.models.resnet18's layout."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths, cin = [64, 128, 256, 512], 64
            for index, width in enumerate(widths):
                stride = 1 if index == 0 else 2
                self.add_module(f"layer{index + 1}", nn.Sequential(BasicBlock(cin, width, stride), BasicBlock(width, width, 1)))
                cin = width
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))


    class Mixed(nn.Module):
        """Concatenation, grouped and transposed convs, ceil-mode pooling, adaptive pooling, 1-D padding."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.grouped = nn.Conv2d(16, 32, 3, padding=1, groups=4)
            self.branch = nn.Conv2d(16, 8, 1)
            self.up = nn.ConvTranspose2d(40, 8, 4, 2, 1, output_padding=0)
            self.avg = nn.AvgPool2d(3, 2, padding=1, ceil_mode=True)
            self.gap = nn.AdaptiveMaxPool2d(3)
            self.fc = nn.Linear(72, 10)

        def forward(self, x):
            x = self.pool(self.stem(x))
            x = torch.cat([self.grouped(x), self.branch(x)], dim=1)
            x = self.avg(self.up(x))
            return self.fc(torch.flatten(self.gap(x), 1))


    class Unsupported(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(4, 4)

        def forward(self, x):
            return self.rnn(x)


    class Branchy(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x


    def resnet18():
        return ResNet18()


    def mixed():
        return Mixed()
    '''
)


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    return path


def torch_numbers(model: object, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    with torch.no_grad():
        output = model(torch.zeros(1, shape[-1], *shape[:-1]))  # type: ignore[operator]
    return sum(p.numel() for p in model.parameters()), tuple(output.shape[1:])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("factory", "shape"),
    [("resnet18", (224, 224, 3)), ("mixed", (37, 29, 3)), ("ResNet18", (64, 64, 3))],
)
def test_import_then_net_reproduces_the_model(models: Path, factory: str, shape: tuple[int, ...]) -> None:
    from convcalc.io.torch_import import import_torch, load_target
    from convcalc.io.torch_verify import verify

    text = import_torch(f"{models}:{factory}", shape)
    network = load_text(text, "imported.yaml")
    report = analyze(network)
    params, output = torch_numbers(load_target(f"{models}:{factory}"), shape)
    assert report.params == params
    assert report.output_shape == output
    assert verify(report) == []  # and every layer's shape, through the exported module


def test_import_resnet18_gives_torchvisions_count_and_names(models: Path) -> None:
    from convcalc.io.torch_import import import_torch

    report = analyze(load_text(import_torch(f"{models}:resnet18", (224, 224, 3)), "r18.yaml"))
    assert report.params == 11_689_512
    names = {row.name for row in report.rows}
    assert {"layer3.1.conv2", "layer2.0.downsample.0", "fc"} <= names
    adds = [row for row in report.rows if row.op == "add"]
    assert len(adds) == 8 and all(len(row.inputs) == 2 for row in adds)


@pytest.mark.parametrize(
    ("factory", "message"),
    [("Unsupported", "module 'rnn' (GRU) has no convcalc op"), ("Branchy", "torch.fx cannot trace")],
)
def test_import_names_what_it_cannot_represent(models: Path, factory: str, message: str) -> None:
    from convcalc.io.torch_import import import_torch

    with pytest.raises(ConvCalcError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_torch(f"{models}:{factory}", (8, 8, 4))


def test_import_bad_targets(models: Path) -> None:
    from convcalc.io.torch_import import load_target

    for target, message in [
        ("nonsense", "expected path/to/file.py:callable"),
        (f"{models}:missing", "has no attribute 'missing'"),
        ("no/such/file.py:make", "no such file"),
        ("convcalc_no_such_module:make", "cannot import"),
    ]:
        with pytest.raises(ConvCalcError, match=message):
            load_target(target)


@pytest.mark.parametrize("model", ["resnet18", "resnet50", "alexnet", "vgg16", "mobilenet_v2", "densenet121", "googlenet"])
def test_import_real_torchvision_models(model: str, tmp_path: Path) -> None:
    """Where torchvision is installed (it is not in CI: it needs another torch build), import its models."""
    torchvision = pytest.importorskip("torchvision")
    from convcalc.io.torch_import import import_torch
    from convcalc.io.torch_verify import verify

    source = tmp_path / "tv.py"
    options = "aux_logits=False, init_weights=False" if model == "googlenet" else ""
    source.write_text(f"import torchvision\n\ndef make():\n    return torchvision.models.{model}({options})\n")
    network = load_text(import_torch(f"{source}:make", (224, 224, 3)), f"{model}.yaml")
    report = analyze(network)
    expected = getattr(torchvision.models, model)(**({"aux_logits": False, "init_weights": False} if model == "googlenet" else {}))
    assert report.params == sum(p.numel() for p in expected.parameters())
    assert verify(report) == []
