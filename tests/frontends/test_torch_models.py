"""Importing models by target (convcalc.frontends.torch_models): files, packages, torchvision and timm; then `net`
on the spec: the numbers, the names, the default inputs and what cannot be represented. The `vision` tests import
a representative set of torchvision and timm models and check each exact against PyTorch (params, MACs by
FlopCounterMode / 2, output shape). The small modules of each failure class are in test_torch_capture.py."""

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
    model.eval()  # type: ignore[attr-defined]
    with torch.no_grad():
        output = model(torch.zeros(1, shape[-1], *shape[:-1]))  # type: ignore[operator]
    return sum(p.numel() for p in model.parameters()), tuple(output.shape[1:])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("factory", "shape"),
    [("resnet18", (224, 224, 3)), ("mixed", (37, 29, 3)), ("ResNet18", (64, 64, 3))],
)
def test_import_then_net_reproduces_the_model(models: Path, factory: str, shape: tuple[int, ...]) -> None:
    from convcalc.frontends.torch_models import import_text, load_target
    from convcalc.io.torch_verify import verify

    report = analyze(load_text(import_text(f"{models}:{factory}", shape), "imported.yaml"))
    params, output = torch_numbers(load_target(f"{models}:{factory}"), shape)
    assert report.params == params
    assert report.output_shape == (*output[1:], output[0])
    assert verify(report) == []  # and every layer's shape, through the exported module


def test_import_resnet18_gives_torchvisions_count_and_names(models: Path) -> None:
    from convcalc.frontends.torch_models import import_text

    report = analyze(load_text(import_text(f"{models}:resnet18", (224, 224, 3)), "r18.yaml"))
    assert report.params == 11_689_512
    names = {row.name for row in report.rows}
    assert {"layer3.1.conv2", "layer2.0.downsample.0", "fc"} <= names
    adds = [row for row in report.rows if row.op == "add"]
    assert len(adds) == 8 and all(len(row.inputs) == 2 for row in adds)


@pytest.mark.parametrize(
    ("factory", "message"),
    [("Unsupported", "aten.gru in module 'rnn' (GRU) at "), ("Branchy", "torch.export cannot capture Branchy: ")],
)
def test_import_names_what_it_cannot_represent(models: Path, factory: str, message: str) -> None:
    from convcalc.frontends.torch_models import import_model

    with pytest.raises(ConvCalcError) as raised:
        import_model(f"{models}:{factory}", (4, 8))
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_import_bad_targets(models: Path) -> None:
    from convcalc.frontends.torch_models import load_target

    for target, message in [
        ("nonsense", "expected torchvision:NAME, timm:NAME, path/to/file.py:callable"),
        (f"{models}:missing", "has no attribute 'missing'"),
        ("no/such/file.py:make", "no such file"),
        ("convcalc_no_such_module:make", "cannot import"),
    ]:
        with pytest.raises(ConvCalcError, match=message):
            load_target(target)


def test_a_file_target_needs_an_input(models: Path) -> None:
    from convcalc.frontends.torch_models import import_model

    with pytest.raises(ConvCalcError, match=r"its library gives no input size; give --input \(channels last, e\.g\. 224x224x3\)"):
        import_model(f"{models}:resnet18", None)


def test_a_2d_input_for_a_model_of_conv2d_is_an_error(models: Path) -> None:
    from convcalc.frontends.torch_models import import_model

    with pytest.raises(ConvCalcError, match="224x224 has 2 dims, but conv1 \\(Conv2d\\) takes 2 spatial dims"):
        import_model(f"{models}:resnet18", (224, 224))


SWEEP = Path(__file__).resolve().parents[2] / "benchmarks" / "import_sweep.py"
VISION_MODELS = [
    # torchvision: plain CNNs, aux heads (unused), attention, windows (index, roll, masks), einsum, 3-D, dict outputs
    "torchvision:resnet50", "torchvision:alexnet", "torchvision:vgg11", "torchvision:squeezenet1_0",
    "torchvision:densenet121", "torchvision:googlenet", "torchvision:inception_v3", "torchvision:mobilenet_v3_small",
    "torchvision:efficientnet_b0", "torchvision:shufflenet_v2_x0_5", "torchvision:regnet_y_400mf",
    "torchvision:mnasnet0_5", "torchvision:convnext_tiny", "torchvision:vit_b_32", "torchvision:swin_t",
    "torchvision:maxvit_t", "torchvision:fcn_resnet50", "torchvision:lraspp_mobilenet_v3_large",
    "torchvision:r3d_18", "torchvision:r2plus1d_18",
    # timm: run-time "same" padding, BatchNormAct2d, optional attn_mask, ghost modules, windows, layer scale
    "timm:tf_efficientnet_b0", "timm:efficientnet_b0", "timm:ghostnet_100", "timm:vit_tiny_patch16_224",
    "timm:swin_tiny_patch4_window7_224", "timm:convnext_atto", "timm:resnet18", "timm:mobilenetv3_small_100",
    "timm:regnetx_002", "timm:deit_tiny_patch16_224",
    # repeat, col2im and max over a dim, Tensor.unfold, window ops over merged images, writes into slices
    "timm:xcit_nano_12_p16_224", "timm:volo_d1_224", "timm:halonet26t", "timm:hieradet_small", "timm:mvitv2_tiny",
    "timm:tnt_s_patch16_224", "torchvision:mvit_v2_s",
    # a detection backbone: FPN, an OrderedDict of feature maps
    f"{SWEEP}:fpn_mobilenet_v3_large",
]
INPUTS = {"torchvision:r3d_18": "8x112x112x3", "torchvision:r2plus1d_18": "8x112x112x3",
          "torchvision:mvit_v2_s": "16x224x224x3",
          f"{SWEEP}:fpn_mobilenet_v3_large": "224x224x3", "torchvision:fcn_resnet50": "224x224x3",
          "torchvision:lraspp_mobilenet_v3_large": "224x224x3"}


@pytest.fixture(scope="module")
def sweep() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("import_sweep", SWEEP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.vision
@pytest.mark.parametrize("target", VISION_MODELS)
def test_real_models_import_exactly(target: str, sweep: object) -> None:
    """params == sum(model.parameters()), MACs == FlopCounterMode / 2 and the output shapes, at the same input."""
    pytest.importorskip("torchvision")
    pytest.importorskip("timm")
    row = sweep.worker(target, INPUTS.get(target))  # type: ignore[attr-defined]
    assert row["imported"], row.get("reason")
    assert (row["params"], row["macs"], row["exact_shape"]) == (row["true_params"], row["true_macs"], True), row


@pytest.mark.vision
def test_googlenet_reports_its_auxiliary_classifiers() -> None:
    pytest.importorskip("torchvision")
    from convcalc.frontends.torch_models import import_model

    flat = import_model("torchvision:googlenet", None)
    assert flat.input_shape == (224, 224, 3)
    assert sorted(flat.unused) == ["aux1.conv.bn", "aux1.conv.conv", "aux1.fc1", "aux1.fc2",
                                   "aux2.conv.bn", "aux2.conv.conv", "aux2.fc1", "aux2.fc2"]
    assert sum(counts["params"] for counts in flat.unused.values()) == 6_379_984


@pytest.mark.vision
def test_default_inputs_come_from_the_library() -> None:
    pytest.importorskip("timm")
    from convcalc.frontends.torch_models import default_input, load_target

    assert default_input("timm:convnext_tiny", load_target("timm:convnext_tiny")) == (224, 224, 3)
    assert default_input("timm:tf_efficientnet_b3", load_target("timm:tf_efficientnet_b3")) == (300, 300, 3)
    assert default_input("torchvision:inception_v3", load_target("torchvision:inception_v3")) == (299, 299, 3)
    assert default_input("torchvision:r3d_18", load_target("torchvision:r3d_18")) is None
    from convcalc.frontends.torch_models import import_model

    # a video model: the error says what to give, at the weights' crop size and the clip length they need
    with pytest.raises(ConvCalcError, match=r"give --input \(channels last, frames x H x W x C, e\.g\. 16x112x112x3\)"):
        import_model("torchvision:r3d_18", None)
    with pytest.raises(ConvCalcError, match=r"e\.g\. 16x224x224x3\)"):
        import_model("torchvision:mvit_v2_s", None)
    # vit_h_14's first weights are 518x518, but the model without weights is built for its own image_size, 224
    assert default_input("torchvision:vit_h_14", load_target("torchvision:vit_h_14")) == (224, 224, 3)
    with pytest.raises(ConvCalcError, match="timm has no model 'no_such_net'"):
        load_target("timm:no_such_net")
