"""Regenerate the pictures of the README and docs/pictures.md (docs/img/*.svg) from convcalc itself.

    python docs/make_images.py            # writes docs/img/
    python docs/make_images.py OUT_DIR    # writes elsewhere (tests/test_make_images.py checks the committed ones)

Each picture is what a `convcalc` command writes (shown next to it); nothing here is drawn by hand."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _window(**layer: object) -> Callable[[], str]:
    def draw() -> str:
        from convcalc import conv, deconv
        from convcalc.report.draw_window import draw_window

        options = dict(layer)
        kind, frames = options.pop("op", "conv"), bool(options.pop("frames", False))
        result = (deconv if kind == "deconv" else conv)(**options)
        return draw_window(result, frames)

    return draw


def _network(name: str, depth: str | None = None) -> Callable[[], str]:
    def draw() -> str:
        from convcalc.report.draw_network import draw_network
        from convcalc.run import analyze_spec

        run = analyze_spec(str(EXAMPLES / f"{name}.yaml"), depth_text=depth)
        return draw_network(run.report, run.depth)

    return draw


def _field(name: str, layer: str) -> Callable[[], str]:
    def draw() -> str:
        from convcalc.graph.backward import backward_recursion
        from convcalc.report.draw_field import draw_field
        from convcalc.run import analyze_spec, layer_index

        path = str(EXAMPLES / f"{name}.yaml")
        run = analyze_spec(path)
        target = layer_index(run.graph, layer, path)
        return draw_field(run.report, target, backward_recursion(run.report, target))

    return draw


# file name -> (the command that writes the same picture, how to draw it)
PICTURES: dict[str, tuple[str, Callable[[], str]]] = {
    "window_padding_strides.svg": (
        "convcalc layer --in 5x5x1 --k 3 --s 2 --p 1 --out 1 --draw window_padding_strides.svg",
        _window(input_shape="5x5x1", out=1, k=3, s=2, p=1),
    ),
    "window_transposed.svg": (
        "convcalc layer --op deconv --in 3x3x1 --k 3 --s 2 --p 1 --out 1 --draw window_transposed.svg",
        _window(op="deconv", input_shape="3x3x1", out=1, k=3, s=2, p=1),
    ),
    "window_dilation_frames.svg": (
        "convcalc layer --in 7x7x1 --k 3 --d 2 --out 1 --draw window_dilation_frames.svg --frames",
        _window(input_shape="7x7x1", out=1, k=3, d=2, frames=True),
    ),
    "window_groups_corner.svg": (
        "convcalc layer --in 640x640x8 --k 3 --s 2 --p same --g 4 --out 16 --draw window_groups_corner.svg",
        _window(input_shape="640x640x8", out=16, k=3, s=2, p="same", g=4),
    ),
    "field_resnet50.svg": (
        "convcalc net resnet50 --explain layer1.0.conv2 --draw field_resnet50.svg",
        _field("resnet50", "layer1.0.conv2"),
    ),
    "network_resnet50.svg": ("convcalc net resnet50 --depth 0 --draw network_resnet50.svg", _network("resnet50", "0")),
    "network_unet.svg": ("convcalc net unet --draw network_unet.svg", _network("unet")),
}


def make_images(directory: Path) -> list[Path]:
    """Write every picture into ``directory``; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (_, draw) in PICTURES.items():
        path = directory / name
        path.write_text(draw(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    for path in make_images(target):
        print(f"wrote {path}")
