"""Ultralytics-format model YAMLs written here (never Ultralytics' own, which are AGPL), their numbers worked by
hand from the constructors' arithmetic: parse_model's scaling, repeats, argument insertions and names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convcalc.conventions.counting import total_macs
from convcalc.frontends.sources import SourceOptions, load_network
from convcalc.graph.analysis import analyze
from convcalc.graph.fuse import fuse_batchnorm
from tests.helpers import cli, cli_ok, usage_error

TINY = """\
nc: 2
scales:
  n: [0.50, 0.50, 64]
  s: [1.00, 1.00, 32]
backbone:
  - [-1, 1, Conv, [16, 3, 2]]   # 0
  - [-1, 3, C2f, [32, True]]    # 1
head:
  - [-1, 1, Conv, [64, 1, 1]]   # 2
  - [-1, 1, Classify, [nc]]     # 3
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "yolov99.yaml"
    path.write_text(TINY)
    return path


def report(path: Path | str, **options: object):  # type: ignore[no-untyped-def]
    given = {"input_shape": (32, 32, 3), **options}
    return analyze(load_network(str(path), 10_000, SourceOptions(**given)))  # type: ignore[arg-type]


# Scale n (depth 0.5, width 0.5, max 64): row 0 Conv(3, 8, 3, 2): 216 + 16 (BN); row 1 C2f(8, 16, n=round(1.5)=2):
# cv1 Conv(8, 16, 1) 160, two Bottleneck(8, 8, k=3, e=1) of 2 x (576 + 16), cv2 Conv(32, 16, 1) 544;
# row 2 Conv(16, 32, 1) 576; row 3 Classify(32, 2): Conv(32, 1280, 1) 40,960 + 2,560, Linear(1280, 2) 2,562.
SCALE_N = 232 + (160 + 2 * 1184 + 544) + 576 + (40_960 + 2_560 + 2_562)
# Scale s (depth 1, width 1, max 32): Conv(3, 16) 464; C2f(16, 32, n=3): 576 + 3 x 4,672 + Conv(80, 32) 2,624;
# row 2 min(64, 32) = 32: Conv(32, 32, 1) 1,088; Classify(32, 2) as above.
SCALE_S = 464 + (576 + 3 * 4_672 + 2_624) + 1_088 + (40_960 + 2_560 + 2_562)


def test_params_at_each_scale(tiny: Path) -> None:
    assert report(tiny, scale="n").params == SCALE_N == 49_962
    assert report(tiny, scale="s").params == SCALE_S == 64_850


def test_scale_from_the_file_name(tiny: Path) -> None:
    """``yolov99s.yaml`` (absent) is ``yolov99.yaml`` at scale s, as Ultralytics' guess_model_scale reads it."""
    assert report(tiny.with_name("yolov99s.yaml")).params == SCALE_S
    result = cli_ok("net", str(tiny.with_name("yolov99s.yaml")), "--input", "32x32x3", "--format", "json")
    assert json.loads(result.stdout)["total"]["params"] == SCALE_S


def test_first_scale_by_default_with_a_note(tiny: Path) -> None:
    result = cli("net", str(tiny), "--input", "32x32x3", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"]["params"] == SCALE_N
    assert "no scale given; using 'n'" in result.stderr


def test_names_are_state_dict_paths(tiny: Path) -> None:
    names = {row.name for row in report(tiny, scale="n").rows}
    assert {"model.0.conv", "model.0.bn", "model.1.cv1.conv", "model.1.m.0.cv1.conv", "model.1.m.1.cv2.bn",
            "model.1.cv2.conv", "model.3.conv.conv", "model.3.linear"} <= names  # fmt: skip


def test_shapes_and_repeats(tiny: Path) -> None:
    rows = {row.name: row for row in report(tiny, scale="n").rows}
    assert rows["model.0.conv"].output_shape == (16, 16, 8)
    assert rows["model.1.cv2.conv"].output_shape == (16, 16, 16)
    assert "model.1.m.2.cv1.conv" not in rows  # round(3 x 0.5) = 2 bottlenecks
    assert rows["model.3.linear"].output_shape == (2,)


def test_nc_override(tiny: Path) -> None:
    """--nc 5: the linear grows by 1280 x 3 + 3."""
    assert report(tiny, scale="n", nc=5).params == SCALE_N + 3 * 1281


def test_fused_params(tiny: Path) -> None:
    """Each Conv's BN (2C) becomes a conv bias (C): 8 + 16 + 4 x 8 + 16 + 32 + 1280 channels fewer."""
    network = load_network(str(tiny), 10_000, SourceOptions(scale="n", input_shape=(32, 32, 3)))
    assert analyze(fuse_batchnorm(network)).params == SCALE_N - (8 + 16 + 32 + 16 + 32 + 1280)


def test_ultralytics_convention(tiny: Path) -> None:
    """thop's rules at 32x32: convs (output elements x C_in x k^2), 4 per BN element, the adaptive pooling's reads +
    outputs, the linear's in x out; no bias, activation or softmax."""
    convs = 16 * 16 * 8 * 27 + 256 * 16 * 8 + 2 * 2 * 256 * 8 * 72 + 256 * 16 * 32 + 256 * 32 * 16 + 256 * 1280 * 32
    norms = 4 * 256 * (8 + 16 + 4 * 8 + 16 + 32 + 1280)
    assert total_macs("ultralytics", report(tiny, scale="n")) == convs + norms + (1280 * 256 + 1280) + 1280 * 2


def test_c3k_forced_for_m_l_x(tmp_path: Path) -> None:
    """C3k2's c3k argument is True at scales m, l, x whatever the row says: its m.0 is then a C3k (with cv3)."""
    path = tmp_path / "yolo77.yaml"
    path.write_text("nc: 1\nscales:\n  n: [1.0, 0.25, 1024]\n  m: [1.0, 0.25, 1024]\nbackbone:\n"
                    "  - [-1, 1, Conv, [64, 3, 2]]\n  - [-1, 1, C3k2, [64, False]]\nhead:\n  - [-1, 1, Conv, [64, 1]]\n")
    names_n = {row.name for row in report(path, scale="n").rows}
    names_m = {row.name for row in report(path, scale="m").rows}
    assert "model.1.m.0.cv1.conv" in names_n and "model.1.m.0.cv3.conv" not in names_n
    assert "model.1.m.0.cv3.conv" in names_m and "model.1.m.0.m.1.cv2.conv" in names_m


def test_unknown_module_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("nc: 1\nbackbone:\n  - [-1, 1, Conv, [8, 3, 2]]\n  - [-1, 1, MagicBlock, [8]]\nhead:\n"
                    "  - [-1, 1, Conv, [8, 1]]\n")
    line = usage_error("net", str(path))
    assert "odd.yaml:4" in line and "MagicBlock" in line and "row 1" in line


def test_spec_naming_an_ultralytics_yaml_is_checked(tiny: Path) -> None:
    gate = tiny.with_name("gate.yaml")
    gate.write_text(f"ultralytics: {tiny.name}\nscale: n\ninput: 32x32x3\nexpect:\n  params: {SCALE_N}\n")
    assert cli("check", str(gate)).exit_code == 0
    gate.write_text(f"ultralytics: {tiny.name}\nscale: s\ninput: 32x32x3\nfuse: true\nexpect:\n  params: '<= {SCALE_N}'\n")
    failed = cli("check", str(gate))
    assert failed.exit_code == 1 and "gate.yaml:6" in failed.stdout


V10 = """\
nc: 1
scales:
  n: [1.0, 1.0, 1024]
backbone:
  - [-1, 1, Conv, [8, 3, 2]]               # 0
  - [-1, 1, SCDown, [16, 3, 2]]            # 1
head:
  - [-1, 1, C2fCIB, [16, True, True]]      # 2
"""
# Row 0 Conv(3, 8, 3, 2): 216 + 16. Row 1 SCDown: Conv(8, 16, 1) 128 + 32, depthwise Conv(16, 16, 3) 144 + 32.
# Row 2 C2fCIB(16, 16, n=1, shortcut, lk), c = 8: cv1 Conv(16, 16, 1) 256 + 32; CIB(8, 8, e=1): depthwise 3x3 72 + 16,
# 1x1 to 16 128 + 32, RepVGGDW(16) (depthwise 7x7 784 + 32 and 3x3 144 + 32), 1x1 to 8 128 + 16, depthwise 3x3
# 72 + 16; cv2 Conv(24, 16, 1) 384 + 32.
V10_PARAMS = 232 + (160 + 176) + (288 + (88 + 160 + (816 + 176) + 144 + 88) + 416)
# Fused: every BN (2C) becomes a bias (C): C = 8, 16, 16, 16, 8, 16, 16, 16, 8, 8, 16; RepVGGDW's 3x3 (144 + 16
# after folding) merges into its 7x7.
V10_FUSED = V10_PARAMS - (8 + 16 + 16 + 16 + 8 + 16 + 16 + 16 + 8 + 8 + 16) - (144 + 16)


def test_v10_blocks_and_their_fusion(tmp_path: Path) -> None:
    path = tmp_path / "v10.yaml"
    path.write_text(V10)
    network = load_network(str(path), 10_000, SourceOptions(input_shape=(32, 32, 3)))
    assert analyze(network).params == V10_PARAMS == 2_744
    fused = analyze(fuse_batchnorm(network))
    assert fused.params == V10_FUSED == 2_440
    assert "model.2.m.0.cv1.2.conv1.conv" not in {row.name for row in fused.rows}
    assert {row.name: row.output_shape for row in fused.rows}["model.1.cv2.conv"] == (8, 8, 16)


AREA = """\
nc: 1
scales:
  n: [1.0, 1.0, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]              # 0
head:
  - [-1, 1, A2C2f, [64, True, 4]]          # 1
"""


@pytest.mark.parametrize(("size", "positions"), [(16, 64), (12, 36)])
def test_area_attention_attends_within_runs(tmp_path: Path, size: int, positions: int) -> None:
    """A2C2f(64, 64, a2, area 4): c_ = 32, one head of 32; each of its two ABlocks scores q.k within 4 runs of N / 4
    positions (4 x (N/4)^2 x 32 multiply-adds) and weights v as many times; at 12x12 a run is 1.5 rows of 6x6."""
    path = tmp_path / "area.yaml"
    path.write_text(AREA)
    rows = report(path, input_shape=(size, size, 3)).rows
    products = [row for row in rows if row.name.endswith((".scores", ".weighted"))]
    assert len(products) == 4
    assert sum(row.macs for row in products) == 4 * (4 * (positions // 4) ** 2 * 32)
    assert rows[-1].output_shape == (size // 2, size // 2, 64)


def test_check_resolves_scaled_names_with_scale_nc_and_fuse(tiny: Path) -> None:
    """``check yolov99s.yaml --expect``: yolov99.yaml at scale s, as net reads it; --scale, --nc, --fuse build it."""
    scaled = str(tiny.with_name("yolov99s.yaml"))
    assert cli("check", scaled, "--expect", f"params {SCALE_S}").exit_code == 0
    assert cli("check", str(tiny), "--scale", "s", "--expect", f"params {SCALE_S}").exit_code == 0
    assert cli("check", scaled, "--nc", "5", "--expect", f"params {SCALE_S + 3 * 1281}").exit_code == 0
    fused = SCALE_S - (16 + 32 + 3 * 2 * 16 + 32 + 32 + 1280)  # each BN's C, as in test_fused_params at scale s
    assert cli("check", scaled, "--fuse", "--expect", f"params {fused}").exit_code == 0
    failed = cli("check", scaled, "--expect", f"params < {SCALE_S}")
    assert failed.exit_code == 1 and f"{SCALE_S:,}" in failed.stdout


def test_check_flags_need_expect(tiny: Path) -> None:
    assert "--scale" in usage_error("check", str(tiny), "--scale", "s")
    assert "no expect: fields" in cli("check", str(tiny.with_name("yolov99s.yaml"))).stderr


def test_an_input_that_is_no_image_is_one_line_on_input(tiny: Path) -> None:
    result = cli("net", str(tiny), "--scale", "n", "--input", "32x32")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "convcalc: error: --input: 32x32 has 2 dims, but an Ultralytics model takes an image: HxWxC, channels last "
        "(like 640x640x3)"
    ]
