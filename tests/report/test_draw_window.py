"""`layer --draw`: the sliding-window picture. Every frame's highlighted cells are checked against the window
arithmetic written out here independently (conv: output o reads padded positions o*s + j*d; a transposed conv's
output o gathers the inputs i with o = i*s - p + j*d), for random layers and for the fifteen cases of Dumoulin and
Visin's conv_arithmetic."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import product

import pytest
from helpers import cli, usage_error
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import avgpool, conv, deconv, maxpool
from convcalc.errors import ConvCalcError
from convcalc.report.draw_window import draw_window

SVG = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def cells_of(text: str) -> tuple[dict[tuple[int, ...], str], dict[tuple[int, ...], set[tuple[int, ...]]]]:
    """(kind of every drawn grid cell, the tap cells of every frame by output position) as the SVG states them."""
    root = parse(text)
    kinds = {}
    for rect in root.iter(f"{SVG}rect"):
        if "cell" in rect.get("class", "").split() and rect.get("data-cell"):
            kinds[coords(rect.get("data-cell"))] = rect.get("class").split()[1]
    frames: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    for frame in root.iter(f"{SVG}g"):
        if frame.get("class") == "frame":
            taps = {coords(r.get("data-cell")) for r in frame.iter(f"{SVG}rect") if r.get("class") == "tap"}
            frames.setdefault(coords(frame.get("data-output")), set()).update(taps)
    return kinds, frames


def coords(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


# --------------------------------------------------------------------------- the arithmetic, written out again


def conv_taps(o: int, k: int, s: int, p: int, d: int) -> set[int]:
    """Input coordinates (padding before at negative ones) read by conv output o: o*s - p + j*d."""
    return {o * s - p + j * d for j in range(k)}


def deconv_taps(o: int, k: int, p: int, d: int) -> set[int]:
    """Cells of the zero-inserted input (input i at i*s) that transposed-conv output o reads: o + p - j*d."""
    return {o + p - j * d for j in range(k)}


def deconv_inputs(o: int, n: int, k: int, s: int, p: int, d: int) -> set[int]:
    """The inputs i that reach output o: o = i*s - p + j*d (PyTorch's scatter, read backwards)."""
    return {i for i in range(n) for j in range(k) if i * s - p + j * d == o}


def check_frames(text: str, per_dim_taps, kinds_expected=None) -> int:
    """Every frame's taps equal the product of each dimension's expected taps; returns the number of frames."""
    kinds, frames = cells_of(text)
    assert frames
    for output, taps in frames.items():
        expected = set(product(*(per_dim_taps(dim, o) for dim, o in enumerate(output))))
        assert taps == expected, (output, sorted(taps), sorted(expected))
        assert taps <= set(kinds), "a tap outside the drawn grid"
    if kinds_expected:
        for cell, kind in kinds.items():
            assert kind == kinds_expected(cell), (cell, kind)
    return len(frames)


# --------------------------------------------------------------------------- random layers, frame by frame

sizes = st.integers(1, 9)


@st.composite
def conv_layers(draw):
    rank = draw(st.sampled_from([1, 2]))
    n = draw(st.lists(sizes, min_size=rank, max_size=rank))
    k = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    s = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    d = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    p = draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank))
    return n, k, s, d, p


def dims(values: list[int]) -> str:
    return "x".join(map(str, values))


@settings(max_examples=40, deadline=None)
@given(conv_layers(), st.booleans())
def test_conv_frames_read_the_windows_of_the_arithmetic(layer, frames):
    n, k, s, d, p = layer
    try:
        result = conv(dims(n) + "x2", out=2, k=dims(k), s=dims(s), p=dims(p), d=dims(d))
    except ConvCalcError:
        return  # the kernel does not fit: nothing to draw
    text = draw_window(result, frames)

    def kind(cell):
        return "pad" if any(not 0 <= c < size for c, size in zip(cell, n)) else "input"

    count = check_frames(text, lambda dim, o: conv_taps(o, k[dim], s[dim], p[dim], d[dim]), kind)
    outputs = result.output_shape[:-1]
    if max(outputs) <= 8 and max(n) + 2 * max(p) <= 20:  # small enough to be drawn whole
        assert count == product_of(outputs)


@settings(max_examples=40, deadline=None)
@given(conv_layers(), st.integers(0, 2))
def test_transposed_frames_read_the_zero_inserted_input(layer, extra):
    n, k, s, d, p = layer
    output_padding = [min(extra, max(a, b) - 1) for a, b in zip(s, d)]
    try:
        result = deconv(dims(n) + "x2", out=2, k=dims(k), s=dims(s), p=dims(p), d=dims(d),
                        output_padding=dims(output_padding))  # fmt: skip
    except ConvCalcError:
        return
    text = draw_window(result)

    def kind(cell):
        kinds = []
        for c, size, stride in zip(cell, n, s):
            if not 0 <= c <= (size - 1) * stride:
                kinds.append("pad")
            elif c % stride:
                kinds.append("zero")
        return "pad" if "pad" in kinds else "zero" if kinds else "input"

    check_frames(text, lambda dim, o: deconv_taps(o, k[dim], p[dim], d[dim]), kind)
    kinds, frames = cells_of(text)
    for output, taps in frames.items():  # the real inputs highlighted are those PyTorch's scatter sends to it
        real = {tap for tap in taps if kinds[tap] == "input"}
        expected = product(*(
            {i * s[dim] for i in deconv_inputs(o, n[dim], k[dim], s[dim], p[dim], d[dim])} for dim, o in enumerate(output)
        ))  # fmt: skip
        assert real == set(expected)


@settings(max_examples=30, deadline=None)
@given(conv_layers(), st.booleans(), st.booleans())
def test_pooling_frames_and_ceil_mode(layer, ceil, average):
    n, k, s, d, _ = layer
    p = [min(2, kk // 2) for kk in k]
    try:
        if average:
            result = avgpool(dims(n) + "x3", k=dims(k), s=dims(s), p=dims(p), ceil=ceil)
            d = [1] * len(n)
        else:
            result = maxpool(dims(n) + "x3", k=dims(k), s=dims(s), p=dims(p), d=dims(d), ceil=ceil)
    except ConvCalcError:
        return
    check_frames(draw_window(result), lambda dim, o: conv_taps(o, k[dim], s[dim], p[dim], d[dim]))


def product_of(values) -> int:
    total = 1
    for v in values:
        total *= v
    return total


# --------------------------------------------------------------------------- conv_arithmetic's fifteen pictures

# (name, layer, output side, side of the grid the window slides over), sizes worked by hand from the conv_arithmetic
# README: conv grid = n + 2p; transposed grid = (n-1)s + 1 + 2(d(k-1) - p) + output_padding.
CONV_ARITHMETIC = [
    ("no padding, no strides", lambda: conv("4x4x1", out=1, k=3), 2, 4),
    ("arbitrary padding, no strides", lambda: conv("5x5x1", out=1, k=4, p=2), 6, 9),
    ("half padding, no strides", lambda: conv("5x5x1", out=1, k=3, p=1), 5, 7),
    ("full padding, no strides", lambda: conv("5x5x1", out=1, k=3, p=2), 7, 9),
    ("no padding, strides", lambda: conv("5x5x1", out=1, k=3, s=2), 2, 5),
    ("padding, strides", lambda: conv("5x5x1", out=1, k=3, s=2, p=1), 3, 7),
    ("padding, strides (odd)", lambda: conv("6x6x1", out=1, k=3, s=2, p=1), 3, 8),
    ("no padding, no strides, transposed", lambda: deconv("2x2x1", out=1, k=3), 4, 6),
    ("arbitrary padding, no strides, transposed", lambda: deconv("6x6x1", out=1, k=4, p=2), 5, 8),
    ("half padding, no strides, transposed", lambda: deconv("5x5x1", out=1, k=3, p=1), 5, 7),
    ("full padding, no strides, transposed", lambda: deconv("7x7x1", out=1, k=3, p=2), 5, 7),
    ("no padding, strides, transposed", lambda: deconv("2x2x1", out=1, k=3, s=2), 5, 7),
    ("padding, strides, transposed", lambda: deconv("3x3x1", out=1, k=3, s=2, p=1), 5, 7),
    ("padding, strides, transposed (odd)", lambda: deconv("3x3x1", out=1, k=3, s=2, p=1, output_padding=1), 6, 8),
    ("dilation", lambda: conv("7x7x1", out=1, k=3, d=2), 3, 7),
]


@pytest.mark.parametrize(("name", "make", "out", "grid"), CONV_ARITHMETIC, ids=[c[0] for c in CONV_ARITHMETIC])
@pytest.mark.parametrize("frames", [False, True], ids=["animated", "filmstrip"])
def test_the_fifteen_conv_arithmetic_pictures(name, make, out, grid, frames):
    result = make()
    assert result.output_shape == (out, out, 1)
    text = draw_window(result, frames)
    root = parse(text)
    outputs = [g for g in root.iter(f"{SVG}g") if g.get("class") == "frame"]
    assert len(outputs) == out * out  # one frame per output position
    panels = [g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]
    assert len(panels) == (out * out if frames else 1)
    if not frames:
        animations = [a for a in root.iter(f"{SVG}animate") if a.get("attributeName") == "visibility"]
        assert len(animations) == out * out and all(a.get("repeatCount") == "indefinite" for a in animations)
        kinds, _ = cells_of(text)
        assert len(kinds) == grid * grid
    spec = result.spec
    w = spec.windows[0]
    if spec.transposed:
        check_frames(text, lambda dim, o: deconv_taps(o, w.kernel, w.pad[0], w.dilation))
    else:
        check_frames(text, lambda dim, o: conv_taps(o, w.kernel, w.stride, w.pad[0], w.dilation))


def test_dilation_leaves_gaps_in_the_footprint():
    _, frames = cells_of(draw_window(conv("7x7x1", out=1, k=3, d=2)))
    assert frames[(0, 0)] == {(r, c) for r in (0, 2, 4) for c in (0, 2, 4)}  # the cells between taps stay unmarked


def test_same_padding_is_drawn_per_side():
    result = conv("6x6x1", out=1, k=4, p="same")  # total 3: 1 before, 2 after (TensorFlow's odd pixel at the end)
    kinds, _ = cells_of(draw_window(result))
    rows = sorted({cell[0] for cell in kinds})
    assert rows == list(range(-1, 8)) and kinds[(-1, 0)] == "pad" and kinds[(7, 7)] == "pad"


def test_a_large_input_is_drawn_as_its_corner_with_the_true_sizes():
    text = draw_window(conv("640x640x3", out=16, k=3, s=2, p=1))
    kinds, frames = cells_of(text)
    assert len(frames) <= 64 and (0, 0) in frames
    assert max(cell[0] for cell in kinds) < 20
    assert "640x640x3 -&gt; 320x320x16" in text or "640x640x3 -> 320x320x16" in text
    assert "of the 320x320 outputs" in text


def test_one_dimensional_layers_draw_one_row():
    n, k, s, p = 10, 3, 2, 1
    text = draw_window(conv(f"{n}x4", out=4, k=k, s=s, p=p))
    count = check_frames(text, lambda dim, o: conv_taps(o, k, s, p, 1))
    assert count == (n + 2 * p - k) // s + 1


def test_groups_are_coloured_per_group():
    root = parse(draw_window(conv("6x6x8", out=4, k=3, g=4)))
    squares = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "channel"]
    inputs, outputs = squares[:8], squares[8:]
    assert [int(r.get("data-group")) for r in inputs] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [int(r.get("data-group")) for r in outputs] == [0, 1, 2, 3]
    assert len({r.get("fill") for r in inputs}) == 4
    assert [r.get("fill") for r in inputs[::2]] == [r.get("fill") for r in outputs]


def test_text_is_escaped_and_the_svg_is_one_document():
    text = draw_window(maxpool("9x9x2", k=3, s=2, ceil=True))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    parse(text)
    assert "<script" not in text


# --------------------------------------------------------------------------- the command line


def test_layer_draw_writes_the_svg_and_still_prints_the_table(tmp_path):
    target = tmp_path / "window.svg"
    result = cli("layer", "--in", "5x5x3", "--k", "3", "--s", "2", "--p", "1", "--out", "8", "--draw", str(target))
    assert result.exit_code == 0, result.output
    assert "Output" in result.stdout and result.stderr == f"wrote {target}\n"
    check_frames(target.read_text(encoding="utf-8"), lambda dim, o: conv_taps(o, 3, 2, 1, 1))


def test_layer_frames_writes_a_filmstrip(tmp_path):
    target = tmp_path / "film.svg"
    assert cli("layer", "--in", "4x4x1", "--k", "3", "--draw", str(target), "--frames").exit_code == 0
    root = parse(target.read_text(encoding="utf-8"))
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]) == 4
    assert not list(root.iter(f"{SVG}animate"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--in", "100", "--op", "linear", "--out", "3", "--draw", "x.svg"),
         "--draw: draws sliding windows (conv, deconv, maxpool, avgpool), not linear"),
        (("--in", "5x5x5x3", "--k", "3", "--draw", "x.svg"), "--draw: draws 1-D and 2-D layers; this one has 3 spatial dimensions"),
        (("--in", "5x5x3", "--k", "3", "--frames"), "--frames: draws the filmstrip of --draw FILE.svg; give --draw too"),
        (("--in", "5x5x3", "--k", "3", "--draw", "/nonexistent/dir/x.svg"),
         "--draw: cannot write /nonexistent/dir/x.svg: No such file or directory"),
    ],
)  # fmt: skip
def test_layer_draw_errors_are_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert usage_error("layer", *args) == f"convcalc: error: {message}"
    assert not (tmp_path / "x.svg").exists()


def test_commands_without_draw_import_no_drawing_module():
    import subprocess
    import sys

    code = (
        "import sys\nfrom convcalc.cli import main\n"
        "for args in (['layer', '--in', '8x8x3', '--k', '3'], ['net', 'lenet5'], ['net', 'lenet5', '--explain', 'C3']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "drawing = ('svg', 'draw_window', 'window_plan', 'draw_field', 'draw_network', 'html_output')\n"
        "print(sorted(m for m in sys.modules if m.rsplit('.', 1)[-1] in drawing), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr
