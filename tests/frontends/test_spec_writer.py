"""The readable spec of an imported network: the same layers and numbers as the flat spec, in far fewer lines.

Every check loads the written text (with ``verify=False``: what the block finder wrote, not the flat fallback) and
compares the analysis row by row with that of ``to_spec_data(flat)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.frontends.flat import FlatLayer, FlatNetwork, to_spec_data
from convcalc.frontends.spec_writer import scalar, write_spec
from convcalc.graph.analysis import analyze
from convcalc.graph.model import Network
from convcalc.specfile.loader import build, load, load_text, parse_spec_file
from convcalc.specfile.yamlnodes import load_yaml


def rows(network: Network) -> list[tuple[Any, ...]]:
    report = analyze(network)
    return [(row.name, row.op, row.inputs, row.output_shape, row.output_shapes, row.params, row.buffers, row.macs,
             row.flops, row.field) for row in report.rows]  # fmt: skip


def assert_same_numbers(flat: FlatNetwork) -> str:
    """The written spec loads to the flat spec's layers, numbers, outputs and unused modules; returns the text."""
    text = write_spec(flat, verify=False)
    expected, written = build(to_spec_data(flat)), load_text(text)
    assert rows(written) == rows(expected), text
    assert [(o.name, o.node, o.pick) for o in written.outputs] == [(o.name, o.node, o.pick) for o in expected.outputs]
    assert written.unused == expected.unused
    assert write_spec(flat) == text  # the check inside write_spec agrees: no flat fallback
    return text


class Net:
    """A FlatNetwork built by hand: layers appended in order, each reading the previous one unless told."""

    def __init__(self, shape: tuple[int, ...] = (32, 32, 3)) -> None:
        self.shape = shape
        self.layers: list[FlatLayer] = []
        self.classes: dict[str, str] = {}

    @property
    def last(self) -> str:
        return self.layers[-1].name if self.layers else "input"

    def add(self, name: str, op: str, args: dict[str, Any] | None = None, inputs: tuple[str, ...] | None = None) -> str:
        module = name.rsplit(".", 1)[0] if "." in name else ""
        self.layers.append(FlatLayer(name, op, args or {}, inputs if inputs is not None else (self.last,), module))
        return name

    def network(self, **extra: Any) -> FlatNetwork:
        return FlatNetwork("test", self.shape, tuple(self.layers), classes=self.classes, **extra)


def bottleneck(net: Net, path: str, width: int, stride: int, down: bool) -> None:
    """torchvision's Bottleneck: 1x1, 3x3 (stride), 1x1 (4 x width), a downsample branch on the first of a stage."""
    net.classes[path] = "Bottleneck"
    source = net.last
    net.add(f"{path}.conv1", "conv", {"out": width, "k": 1, "bias": False})
    net.add(f"{path}.bn1", "bn")
    net.add(f"{path}.relu", "relu")
    net.add(f"{path}.conv2", "conv", {"out": width, "k": 3, "p": 1, "bias": False} | ({"s": stride} if stride > 1 else {}))
    net.add(f"{path}.bn2", "bn")
    net.add(f"{path}.relu_1", "relu")
    net.add(f"{path}.conv3", "conv", {"out": 4 * width, "k": 1, "bias": False})
    bn3 = net.add(f"{path}.bn3", "bn")
    identity = source
    if down:
        net.classes[f"{path}.downsample"] = "Sequential"
        net.add(f"{path}.downsample.0", "conv", {"out": 4 * width, "k": 1, "s": stride, "bias": False}, (source,))
        identity = net.add(f"{path}.downsample.1", "bn")
    net.add(f"{path}.add", "add", {}, (bn3, identity))
    net.add(f"{path}.relu_2", "relu")


def resnet_like(stages: tuple[int, ...] = (3, 4, 6, 3), shape: tuple[int, ...] = (64, 64, 3)) -> FlatNetwork:
    net = Net(shape)
    net.add("conv1", "conv", {"out": 16, "k": 7, "s": 2, "p": 3, "bias": False})
    net.add("bn1", "bn")
    net.add("relu", "relu")
    net.add("maxpool", "maxpool", {"k": 3, "s": 2, "p": 1})
    for stage, count in enumerate(stages):
        for index in range(count):
            stride = 2 if index == 0 and stage > 0 else 1
            bottleneck(net, f"layer{stage + 1}.{index}", 8 * 2**stage, stride, down=index == 0)
    net.add("avgpool", "adaptive_avgpool", {"size": 1})
    net.add("flatten", "flatten")
    net.add("fc", "linear", {"out": 10})
    return net.network()


def test_resnet_like_is_one_block_with_a_downsample_variant() -> None:
    flat = resnet_like()
    text = assert_same_numbers(flat)
    assert len(flat.layers) == 4 + 16 * 10 + 4 * 2 + 3  # stem, bottlenecks (+ 4 downsample branches), head
    assert len(text.splitlines()) < 40
    assert text.count("  bottleneck:") == 1  # one block: the downsample variant is `if:` on two of its layers
    assert "repeat: 6, name: layer3}" in text  # copies layer3.0 .. layer3.5
    assert '"${i == 0}"' in text and '"${2 if i == 0 else 1}"' in text


def test_a_stage_of_one_copy_and_a_stage_that_starts_later() -> None:
    flat = resnet_like(stages=(1, 2))
    assert_same_numbers(flat)


def test_densenet_like_concatenations() -> None:
    """Dense layers whose output is the concatenation of their input and their new channels (chained concats)."""
    net = Net((32, 32, 3))
    net.add("features.conv0", "conv", {"out": 16, "k": 3, "p": 1, "bias": False})
    for block, layers in enumerate((4, 6), 1):
        for index in range(1, layers + 1):
            path = f"features.denseblock{block}.denselayer{index}"
            net.classes[path] = "DenseLayer"
            source = net.last
            net.add(f"{path}.norm1", "bn")
            net.add(f"{path}.relu1", "relu")
            net.add(f"{path}.conv1", "conv", {"out": 32, "k": 1, "bias": False})
            net.add(f"{path}.conv2", "conv", {"out": 8, "k": 3, "p": 1, "bias": False})
            net.add(f"{path}.cat", "concat", {}, (source, f"{path}.conv2"))
        net.classes[f"features.transition{block}"] = "Transition"
        net.add(f"features.transition{block}.conv", "conv", {"out": 16, "k": 1, "bias": False})
        net.add(f"features.transition{block}.pool", "avgpool", {"k": 2, "s": 2})
    text = assert_same_numbers(net.network())
    assert 'repeat: 6, name: "features.denseblock2.denselayer${i + 1}"' in text
    assert len(text.splitlines()) < 25


def torchvision_densenet_like(sizes: tuple[int, ...] = (3, 5, 4, 5)) -> FlatNetwork:
    """DenseNet as torchvision's forward runs it: each dense layer concatenates *every* earlier feature map of its
    block (the block's input and each earlier layer's new channels) first, so it reads several tensors from outside;
    the block ends with the concatenation of all of them."""
    net = Net((32, 32, 3))
    net.add("features.conv0", "conv", {"out": 16, "k": 3, "p": 1, "bias": False})
    channels = 16
    for block, size in enumerate(sizes, 1):
        features = [net.last]
        net.classes[f"features.denseblock{block}"] = "_DenseBlock"
        for index in range(1, size + 1):
            path = f"features.denseblock{block}.denselayer{index}"
            net.classes[path] = "_DenseLayer"
            net.add(f"{path}.concat", "concat", {}, tuple(features))
            net.add(f"{path}.norm1", "bn")
            net.add(f"{path}.relu1", "relu")
            net.add(f"{path}.conv1", "conv", {"out": 16, "k": 1, "bias": False})
            features.append(net.add(f"{path}.conv2", "conv", {"out": 4, "k": 3, "p": 1, "bias": False}))
        net.add(f"features.denseblock{block}.concat", "concat", {}, tuple(features))
        channels = (channels + 4 * size) // 2
        if block < len(sizes):
            net.classes[f"features.transition{block}"] = "_Transition"
            net.add(f"features.transition{block}.conv", "conv", {"out": channels, "k": 1, "bias": False})
            net.add(f"features.transition{block}.pool", "avgpool", {"k": 2, "s": 2})
    net.add("pool", "global_avgpool")
    net.add("classifier", "linear", {"out": 10})
    return net.network()


def test_torchvision_densenet_dense_layers_take_several_inputs() -> None:
    flat = torchvision_densenet_like()
    text = assert_same_numbers(flat)
    assert len(flat.layers) == 1 + 17 * 5 + 4 + 3 * 2 + 2
    assert text.count("  dense_layer:") == 1 and text.count("  dense_block:") == 1  # one block each
    assert text.count("  - dense_block: {") == 4  # one line per dense block, whatever its length
    assert "- dense_layer: {from: [input, denselayer1, denselayer2], name: denselayer3}" in text
    assert "      - concat: {name: concat}" in text.replace("concat:  ", "concat: ")  # reads all of its inputs
    assert len(text.splitlines()) < 40


def test_dense_blocks_of_equal_length_have_no_conditions() -> None:
    text = assert_same_numbers(torchvision_densenet_like((3, 3)))
    assert "if:" not in text and "${" not in text


def inception(net: Net, path: str, widths: tuple[int, int, int, int]) -> None:
    """A GoogLeNet-like module: four branches from one input (1x1; 1x1-3x3; 1x1-5x5; pool-1x1), concatenated."""
    net.classes[path] = "Inception"
    source = net.last
    one = net.add(f"{path}.branch1.conv", "conv", {"out": widths[0], "k": 1})
    net.add(f"{path}.branch2.0.conv", "conv", {"out": widths[1], "k": 1}, (source,))
    three = net.add(f"{path}.branch2.1.conv", "conv", {"out": widths[1], "k": 3, "p": 1})
    net.add(f"{path}.branch3.0.conv", "conv", {"out": widths[2], "k": 1}, (source,))
    five = net.add(f"{path}.branch3.1.conv", "conv", {"out": widths[2], "k": 5, "p": 2})
    net.add(f"{path}.branch4.0", "maxpool", {"k": 3, "s": 1, "p": 1}, (source,))
    pool = net.add(f"{path}.branch4.1.conv", "conv", {"out": widths[3], "k": 1})
    net.add(f"{path}.concat", "concat", {}, (one, three, five, pool))


def fuse(net: Net, path: str, lateral: str, top: str, width: int) -> str:
    """An FPN-like module of two inputs: a 1x1 conv of a backbone level plus the upsampled coarser level."""
    net.classes[path] = "Fuse"
    side = net.add(f"{path}.lateral", "conv", {"out": width, "k": 1}, (lateral,))
    up = net.add(f"{path}.up", "upsample", {"scale": 2}, (top,))
    net.add(f"{path}.add", "add", {}, (side, up))
    return net.add(f"{path}.smooth", "conv", {"out": width, "k": 3, "p": 1})


def test_inception_branches_and_fpn_modules_of_two_inputs() -> None:
    net = Net((32, 32, 3))
    net.add("stem", "conv", {"out": 16, "k": 3, "p": 1})
    levels = []
    for stage, widths in enumerate(((8, 12, 4, 4), (16, 16, 8, 8), (16, 24, 8, 16))):
        inception(net, f"inception{stage + 3}a", widths)
        inception(net, f"inception{stage + 3}b", tuple(2 * width for width in widths))  # type: ignore[arg-type]
        levels.append(net.last)
        net.add(f"pool{stage + 3}", "maxpool", {"k": 2, "s": 2})
    top = net.add("top", "conv", {"out": 24, "k": 1})
    for level in (2, 1, 0):
        top = fuse(net, f"fpn.fuse{level}", levels[level], top, 24)
    text = assert_same_numbers(net.network(outputs={"p3": top, "p5": "top"}))
    assert text.count("  - inception: {") == 6 and text.count("  fuse:") == 1
    assert 'from: "input[0]", name: lateral}' in text and 'from: "input[1]", name: up}' in text
    assert "- fuse: {from: [inception5b, top], name: fpn.fuse2}" in text.replace("fuse:      ", "fuse: ")
    assert "- fuse: {from: [inception4b, fpn.fuse2], name: fpn.fuse1}" in text.replace("fuse:      ", "fuse: ")
    assert len(text.splitlines()) < len(net.layers) * 2 / 3


def test_several_outputs_and_unused_modules_pass_through() -> None:
    flat = resnet_like(stages=(2, 2, 2), shape=(32, 32, 3))
    outputs = {"p3": "layer2.1.relu_2", "p4": "layer3.1.relu_2", "logits": "fc"}
    unused = {"aux1": {"params": 1234, "buffers": 10}, "aux2.fc": {"params": 5, "buffers": 0}}
    flat = FlatNetwork(flat.name, flat.input_shape, flat.layers, outputs, unused, flat.classes)
    text = assert_same_numbers(flat)
    assert "outputs:\n  p3: layer2.1.relu_2\n" in text and "unused:\n  aux1: {params: 1234, buffers: 10}\n" in text


def test_names_yaml_would_misread_are_quoted() -> None:
    """Module names that YAML reads as numbers, booleans, null, or that hold `:`, `#`, spaces, quotes."""
    net = Net((16, 16, 3))
    tricky = ["yes", "on", "null", "1.10", "0", "1e5", "a: b", "x #1", "it's", 'say "hi"', "ünï", "~", "- dash"]
    for index, module in enumerate(tricky):
        for copy in range(2):
            path = f"{module}.{copy}"
            net.classes[path] = "Unit"
            net.add(f"{path}.conv", "conv", {"out": 4 + index, "k": 3, "p": 1})
            net.add(f"{path}.true", "relu")
            net.add(f"{path}.off", "sigmoid")
    text = assert_same_numbers(net.network())
    assert len(text.splitlines()) < len(net.layers)


@pytest.mark.parametrize("value", ["yes", "No", "ON", "null", "~", "1.10", "0x1F", "1e5", "12:30", "a: b", "#x", "[0]",
                                   "{a}", "&x", "*x", "!x", "|", ">", "'q'", "\"q\"", "", " lead", "trail ", "a\nb",
                                   "\x85", "\ufeff", "$x", "${i}", "%x", "@x", "`x", "1_000", ".inf", "-.5"])
def test_scalar_reads_back(value: str) -> None:
    assert load_yaml(f"v: {scalar(value)}")["v"] == value
    assert load_yaml(f"v: [{scalar(value)}, {{k: {scalar(value)}}}]")["v"] == [value, {"k": value}]


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
       | st.floats(allow_nan=False) | st.integers() | st.booleans() | st.none())  # fmt: skip
def test_scalar_reads_back_any_value(value: Any) -> None:
    assert load_yaml(f"v: {scalar(value)}")["v"] == value


# --------------------------------------------------------------------------- the bundled examples as imports


def example_flat(path: Path) -> FlatNetwork:
    """An example spec as an importer would see it: its expanded layers with names, ops, arguments and inputs;
    each block instance's class is the block it was written with (found by the line of its innermost layers)."""
    network = load(path)
    data = parse_spec_file(path)
    spans = [(min(block["layers"].item_lines), max(block["layers"].item_lines), name)
             for name, block in (data.get("blocks") or {}).items()]  # fmt: skip
    classes: dict[str, str] = {}
    layers = []
    for node in network.nodes:
        sources = []
        for index, pick in node.sources():
            name = "input" if index == -1 else network.nodes[index].name
            sources.append(name if pick is None else f"{name}[{pick}]")
        for low, high, block in spans:
            if node.blocks and low <= node.line <= high:
                classes.setdefault(node.blocks[-1], block)
        module = node.name.rsplit(".", 1)[0] if "." in node.name else ""
        layers.append(FlatLayer(node.name, node.op, dict(node.args), tuple(sources), module))
    return FlatNetwork(network.name, network.input_shape, tuple(layers), classes=classes)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_example_round_trips(path: Path) -> None:
    flat = example_flat(path)
    text = assert_same_numbers(flat)
    if len(flat.layers) > 100:
        assert len(text.splitlines()) < len(flat.layers) / 2.5


def test_resnet50_example_reads_like_the_example() -> None:
    flat = example_flat(EXAMPLES / "resnet50.yaml")
    text = assert_same_numbers(flat)
    assert len(flat.layers) == 175 and len(text.splitlines()) < 40
    assert text.count("  - bottleneck:") == 4  # one line per stage


# --------------------------------------------------------------------------- random nets with repeated structure


@st.composite
def repeated_nets(draw: st.DrawFn) -> FlatNetwork:
    """A stem, then stages of one or more units of one class (a conv stack with an optional residual add, the
    first unit of a stage possibly strided and widened with a projection), names dotted or numbered; with
    ``side``, every unit also concatenates the stem's output (a second tensor from outside), or a unit two back."""
    net = Net((16, 16, 3))
    stem = net.add("stem", "conv", {"out": 4, "k": 3, "p": 1})
    channels = 4
    kernel = draw(st.sampled_from([1, 3]))
    activation = draw(st.sampled_from(["relu", "silu", None]))
    numbered = draw(st.booleans())
    side = draw(st.sampled_from([None, "stem", "skip"]))
    outputs: list[str] = [stem]  # each unit's output, with its channels
    widths = {stem: 4}
    for stage in range(draw(st.integers(1, 3))):
        width = draw(st.sampled_from([4, 8]))
        stride = 1 if side else draw(st.sampled_from([1, 2]))
        for index in range(draw(st.integers(1, 4))):
            path = f"stage{stage}.unit{index + 1}" if numbered else f"stage{stage}.{index}"
            net.classes[path] = "Unit"
            source, step = net.last, stride if index == 0 else 1
            net.add(f"{path}.conv1", "conv", {"out": width, "k": kernel, "p": kernel // 2} | ({"s": step} if step > 1 else {}))
            if activation:
                net.add(f"{path}.act", activation)
            last = net.add(f"{path}.conv2", "conv", {"out": width, "k": 3, "p": 1, "bias": False})
            if channels == width and step == 1:
                net.add(f"{path}.add", "add", {}, (last, source))
            elif draw(st.booleans()):
                proj = net.add(f"{path}.proj", "conv", {"out": width, "k": 1, "s": step}, (source,))
                net.add(f"{path}.add", "add", {}, (last, proj))
            channels = width
            if side:
                other = stem if side == "stem" else outputs[-2] if len(outputs) > 1 else stem
                net.add(f"{path}.cat", "concat", {}, (net.last, other))
                channels += widths[other]
            outputs.append(net.last)
            widths[net.last] = channels
    net.add("pool", "global_avgpool")
    net.add("head", "linear", {"out": 3})
    return net.network()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repeated_nets())
def test_random_repeated_nets_keep_their_numbers(flat: FlatNetwork) -> None:
    text = assert_same_numbers(flat)
    assert len(text.splitlines()) <= len(flat.layers) + 6


# --------------------------------------------------------------------------- PyTorch models, captured


@pytest.mark.torch
def test_captured_torch_models_keep_their_numbers() -> None:
    torch = pytest.importorskip("torch")
    capture = pytest.importorskip("convcalc.frontends.torch_capture").capture
    nn = torch.nn

    class Unit(nn.Module):
        def __init__(self, channels: int, width: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, width, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU()
            self.shortcut = None if stride == 1 and channels == width else nn.Conv2d(channels, width, 1, stride)

        def forward(self, x: Any) -> Any:
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.shortcut is None else self.shortcut(x)))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, 1, 1)
            stages, channels = [], 8
            for width, count in ((8, 3), (16, 4), (32, 2)):
                units = [Unit(channels if index == 0 else width, width, 1 if width == 8 or index else 2)
                         for index in range(count)]  # fmt: skip
                stages.append(nn.Sequential(*units))
                channels = width
            self.stages = nn.Sequential(*stages)
            self.head = nn.Linear(32, 10)

        def forward(self, x: Any) -> Any:
            return self.head(self.stages(self.stem(x)).mean((2, 3)))

    flat = capture(Net(), (32, 32, 3), "net")
    text = assert_same_numbers(flat)
    assert len(flat.layers) == 68 and len(text.splitlines()) < 25  # 9 units of 7 layers, 2 with a shortcut


def test_a_derived_argument_takes_its_value_where_it_was_not_known_yet() -> None:
    """Hiera's blocks: a width known only where a block projects (``out``, else unknown) and an attention width
    three times the block's everywhere: ``${out * 3}`` must make ``out`` 384 where it was not known, not leave it at
    a placeholder (which wrote a spec of wrong widths, caught only by the writer's own reload)."""
    from convcalc.frontends.spec_values import ABSENT, ArgNamer, Expr

    namer = ArgNamer(3)
    assert namer.express([192, ABSENT, ABSENT], "out") == 192  # a constant while only one value is known
    namer = ArgNamer(3)
    assert namer.express([192, ABSENT, 384], "out") == Expr("$out")
    assert namer.express([576, 1152, 1152], "qkv") == Expr("${out * 3}")
    assert namer.args["out"] == [192, 384, 384] and namer.known["out"] == [True, True, True]
    assert namer.express([577, 1152, 1152], "odd") == Expr("$odd")  # 577 is no multiple of 3: an argument of its own
