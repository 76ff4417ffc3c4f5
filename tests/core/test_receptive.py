"""Receptive fields (convcalc.core.receptive): of one layer through the public API, and through networks (small
specs analysed with convcalc.graph.analysis): hand-worked chains and graphs and conformance with Araujo, Norris & Sim,
"Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019), Table 1.

Receptive fields are per spatial dimension, in input pixels: size r, jump j (distance between neighbouring outputs)
and start u (first input pixel of output unit 0; negative when the field reaches into the padding).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import EXAMPLES, MISALIGNED, conv_out, explained_field, field_of, load_net, rows_of
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import conv, deconv, maxpool
from convcalc.core.receptive import Field, forward
from convcalc.graph.analysis import analyze
from convcalc.report.cells import field_text
from convcalc.report.json_output import layer_dict, row_dict
from convcalc.specfile.loader import load


def test_seed_two_stacked_3x3_see_5x5():
    # RF_in = (RF_out - 1)*stride + kernel, backwards from one output pixel
    first = conv("32x32x3", k=3)
    second = conv(first.output_shape, k=3)
    rf = 1
    for layer in (second, first):
        rf = (rf - 1) * layer.jump[0] + layer.receptive_field[0]
    assert rf == 5


def test_conv_per_dim_results():
    r = conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2, d=(1, 2))
    assert r.receptive_field == (1 * (3 - 1) + 1, 2 * (5 - 1) + 1)
    assert r.jump == (1, 2)
    assert r.start == (-2, -2)
    assert r.output_shape == (conv_out(640, 3, 1, 2), conv_out(640, 5, 2, 2, 2), 5)


def test_deconv_jump_is_one_over_stride_and_json_fraction():
    r = deconv((4, 4, 8), out=3, k=4, s=(2, 3), p=1)
    assert r.jump == (Fraction(1, 2), Fraction(1, 3))
    data = layer_dict(r)
    assert data["jump"] == ["1/2", "1/3"]
    assert data["output_padding"] == [0, 0]
    assert data["op"] == "deconv"


def test_pool_receptive_field_and_jump():
    r = maxpool("32x32x3", k=3, s=2, p=1)
    assert r.receptive_field == (3, 3)
    assert r.jump == (2, 2)
    assert r.start == (-1, -1)
    assert maxpool("32x1", k=3, d=2).receptive_field == (2 * (3 - 1) + 1,)


# --------------------------------------------------------------------------- networks, hand-worked


def test_two_3x3_convs_see_5x5():
    by_name = rows_of("input: 16x16x1\nlayers:\n  - conv: {k: 3, name: a}\n  - conv: {k: 3, name: b}\n")
    assert field_of(by_name["a"]) == ((3, 3), (1, 1), (0, 0))
    assert field_of(by_name["b"]) == ((3 + 2 * 1, 3 + 2 * 1), (1, 1), (0, 0)) == ((5, 5), (1, 1), (0, 0))


def test_two_strided_3x3_convs_see_7_with_jump_4():
    by_name = rows_of("input: 16x16x1\nlayers:\n  - conv: {k: 3, s: 2, name: a}\n  - conv: {k: 3, s: 2, name: b}\n")
    assert field_of(by_name["a"]) == ((3, 3), (2, 2), (0, 0))
    assert field_of(by_name["b"]) == ((3 + 2 * 2,) * 2, (2 * 2,) * 2, (0, 0)) == ((7, 7), (4, 4), (0, 0))


def test_start_is_negative_with_padding():
    by_name = rows_of(
        "input: 16x16x1\nlayers:\n  - conv: {k: 3, p: 1, s: 2, name: a}\n  - conv: {k: 5, p: [2, 0], name: b}\n"
        "  - pad: {p: [[3, 0], [0, 1]], name: z}\n"
    )
    assert field_of(by_name["a"]) == ((3, 3), (2, 2), (-1, -1))
    # b: u = -1 + (-2)*2 = -5 in H; -1 + 0*2 = -1 in W; r = 3 + 4*2 = 11
    assert field_of(by_name["b"]) == ((11, 11), (2, 2), (-1 - 2 * 2, -1 - 0 * 2))
    # zero padding moves the start back by (pad before) * jump and keeps the size
    assert field_of(by_name["z"]) == ((11, 11), (2, 2), (-5 - 3 * 2, -1 - 0 * 2))


def test_dilation_and_pooling():
    by_name = rows_of(
        "input: 32x32x1\nlayers:\n  - conv: {k: 3, d: 2, name: a}\n  - maxpool: {k: 2, name: m}\n"
        "  - conv: {k: 3, d: 3, name: b}\n"
    )
    assert by_name["a"].field.receptive_field == (2 * (3 - 1) + 1,) * 2 == (5, 5)
    assert by_name["m"].field.receptive_field == (5 + 1 * 1,) * 2 and by_name["m"].field.jump == (2, 2)
    assert by_name["b"].field.receptive_field == (6 + (3 * (3 - 1)) * 2,) * 2 == (18, 18)


def test_upsampling_has_a_fractional_jump():
    by_name = rows_of(
        "input: 16x16x1\nlayers:\n  - conv: {k: 3, s: 2, name: a}\n  - upsample: {scale: 2, name: up}\n"
        "  - upsample: {scale: 2, name: up2}\n  - conv: {k: 3, name: b}\n"
    )
    assert by_name["up"].field.jump == (1, 1) and by_name["up2"].field.jump == (Fraction(1, 2),) * 2
    assert by_name["b"].field.receptive_field == (3 + 2 * Fraction(1, 2),) * 2 == (4, 4)


def test_residual_add_takes_the_hull_of_its_paths():
    text = """
input: 16x16x4
layers:
  - conv: {out: 4, k: 3, p: 1, name: a}
  - conv: {out: 4, k: 3, p: 1, name: b}
  - add: {from: [b, input], name: res}
  - conv: {out: 4, k: 5, p: [[4, 0], [0, 4]], from: input, name: shifted}
  - add: {from: [res, shifted], name: res2}
"""
    network = load_net(text)
    by_name = {row.name: row for row in analyze(network).rows}
    # main path: 3 then 5 pixels, starting at -2; the identity path: 1 pixel at 0; hull: the main path.
    assert field_of(by_name["b"]) == ((5, 5), (1, 1), (-2, -2))
    assert field_of(by_name["res"]) == ((5, 5), (1, 1), (-2, -2))
    # a 5x5 window shifted up by 4 rows: H [-4, 1), W [0, 5); the hull with [-2, 3) is H [-4, 3), W [-2, 5).
    assert field_of(by_name["shifted"]) == ((5, 5), (1, 1), (-4, 0))
    assert field_of(by_name["res2"]) == ((3 - (-4), 5 - (-2)), (1, 1), (-4, -2)) == ((7, 7), (1, 1), (-4, -2))
    assert by_name["res2"].warnings == ()
    assert explained_field(network, "res2") == ((7, 7), (-4, -2))
    assert by_name["res"].flops == 16 * 16 * 4  # one add per element for the second input
    assert by_name["res"].params == by_name["res"].macs == 0


def test_concat_takes_the_hull_and_sums_channels():
    text = """
input: 16x16x3
layers:
  - conv: {out: 4, k: 1, name: one}
  - conv: {out: 5, k: 3, p: 1, from: input, name: three}
  - conv: {out: 6, k: 5, p: 2, from: input, name: five}
  - concat: {from: [one, three, five], name: cat}
  - conv: {out: 2, k: 3, name: after}
"""
    network = load_net(text)
    by_name = {row.name: row for row in analyze(network).rows}
    assert by_name["cat"].output_shape == (16, 16, 4 + 5 + 6)
    assert field_of(by_name["cat"]) == ((5, 5), (1, 1), (-2, -2))
    assert field_of(by_name["after"]) == ((7, 7), (1, 1), (-2, -2))
    assert by_name["cat"].params == by_name["cat"].macs == by_name["cat"].flops == 0
    assert by_name["after"].params == 3 * 3 * 15 * 2 + 2
    assert explained_field(network, "after") == ((7, 7), (-2, -2))


def test_merging_paths_with_different_jumps_is_flagged():
    by_name = rows_of(
        "input: 5x5x1\nlayers:\n  - conv: {k: 3, s: 2, name: a}\n  - conv: {k: 4, from: input, name: b}\n"
        "  - add: {from: [a, b], name: s}\n"
    )
    assert by_name["a"].output_shape == by_name["b"].output_shape == (2, 2, 1)
    assert MISALIGNED in by_name["s"].warnings
    assert by_name["s"].field.receptive_field == (4, 4)  # the hull of [0, 3) and [0, 4)


@pytest.mark.parametrize(
    "tail", ["  - flatten\n", "  - global_avgpool\n", "  - global_maxpool\n", "  - flatten\n  - linear: {out: 3}\n"]
)
def test_after_flatten_or_global_pooling_the_field_is_the_whole_input(tail):
    network = load_net("input: 12x10x2\nlayers:\n  - conv: {k: 3, s: 2, name: a}\n" + tail)
    report = analyze(network)
    last = report.rows[-1]
    assert last.field.whole
    data = row_dict(last)
    assert data["receptive_field"] == "whole" and data["jump"] is None and data["start"] is None
    assert field_text(last) == ("whole", "-")
    assert explained_field(network, last.name) == "whole"
    assert explained_field(network, "a") == ((3, 3), (0, 0))


def test_adaptive_pooling_to_one_sees_everything_of_its_input():
    by_name = rows_of("input: 9x9x2\nlayers:\n  - conv: {k: 3, name: a}\n  - adaptive_avgpool: {size: 1, name: gap}\n")
    assert by_name["gap"].output_shape == (1, 1, 2)
    assert by_name["gap"].field.receptive_field == (3 + (7 - 1) * 1,) * 2 == (9, 9)


def test_flat_input_has_no_field():
    report = analyze(load_net("input: [20]\nlayers:\n  - linear: {out: 5}\n"))
    assert report.rows[0].field is None
    assert row_dict(report.rows[0])["receptive_field"] == "whole"  # a fully connected layer, as `layer` says


# --------------------------------------------------------------------------- Distill 2019, Table 1


TORCHVISION_ALEXNET = """
name: AlexNet (torchvision)
input: 224x224x3
layers:
  - conv: {out: 64, k: 11, s: 4, p: 2, name: features.0}
  - relu
  - maxpool: {k: 3, s: 2, name: features.2}
  - conv: {out: 192, k: 5, p: 2, name: features.3}
  - relu
  - maxpool: {k: 3, s: 2, name: features.5}
  - conv: {out: 384, k: 3, p: 1, name: features.6}
  - relu
  - conv: {out: 256, k: 3, p: 1, name: features.8}
  - relu
  - conv: {out: 256, k: 3, p: 1, name: features.10}
  - relu
  - maxpool: {k: 3, s: 2, name: features.12}
  - adaptive_avgpool: {size: 6, name: avgpool}
  - flatten
  - dropout
  - linear: {out: 4096, name: classifier.1}
  - relu
  - dropout
  - linear: {out: 4096, name: classifier.4}
  - relu
  - linear: {out: 1000, name: classifier.6}
"""


# TF-slim's alexnet_v2 (the model of the Distill table): VALID convolution 1 and pooling, SAME elsewhere.
ALEXNET_V2 = """
name: alexnet_v2
input: 224x224x3
layers:
  - conv: {out: 64, k: 11, s: 4, p: valid, name: conv1}
  - maxpool: {k: 3, s: 2, name: pool1}
  - conv: {out: 192, k: 5, p: same, name: conv2}
  - maxpool: {k: 3, s: 2, name: pool2}
  - conv: {out: 384, k: 3, p: same, name: conv3}
  - conv: {out: 384, k: 3, p: same, name: conv4}
  - conv: {out: 256, k: 3, p: same, name: conv5}
  - maxpool: {k: 3, s: 2, name: pool5}
"""


def test_alexnet_torchvision_field_is_195():
    network = load_net(TORCHVISION_ALEXNET)
    report = analyze(network)
    by_name = {row.name: row for row in report.rows}
    pool = by_name["features.12"]
    # 11; +2*4 = 19 (jump 8); +4*8 = 51; +2*8 = 67 (jump 16); +3*(2*16) = 163; +2*16 = 195 (jump 32)
    assert pool.field.receptive_field == (11 + 2 * 4 + 4 * 8 + 2 * 8 + 3 * 2 * 16 + 2 * 16,) * 2 == (195, 195)
    assert pool.field.jump == (32, 32)
    assert pool.field.start == (-2 - 2 * 8 - 3 * 16,) * 2 == (-66, -66)
    assert pool.output_shape == (6, 6, 256)
    assert explained_field(network, "features.12") == ((195, 195), (-66, -66))
    features = 11 * 11 * 3 * 64 + 64 + 5 * 5 * 64 * 192 + 192 + 3 * 3 * 192 * 384 + 384 + 3 * 3 * 384 * 256 + 256
    features += 3 * 3 * 256 * 256 + 256
    assert report.params == features + 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000 == 61_100_840


def test_alexnet_v2_field_is_195_with_padding_64():
    report = analyze(load_net(ALEXNET_V2))
    pool5 = report.rows[-1]
    assert pool5.output_shape == (5, 5, 256)
    assert field_of(pool5) == ((195, 195), (32, 32), (-64, -64))  # google-research/receptive_field: 195, 32, 64


def test_alexnet_example_field_is_195():
    path = EXAMPLES / "alexnet.yaml"
    if not path.is_file():
        pytest.skip("examples/alexnet.yaml does not exist yet")
    report = analyze(load(path))
    pool = [row for row in report.rows if row.op == "maxpool"][-1]
    assert pool.field.receptive_field == (195, 195) and pool.field.jump == (32, 32)


VGG16 = """
name: VGG-16
input: 224x224x3
layers:
  - conv: {out: 64, k: 3, p: 1, name: conv1_1}
  - relu
  - conv: {out: 64, k: 3, p: 1, name: conv1_2}
  - relu
  - maxpool: {k: 2, s: 2, name: pool1}
  - conv: {out: 128, k: 3, p: 1, name: conv2_1}
  - conv: {out: 128, k: 3, p: 1, name: conv2_2}
  - maxpool: {k: 2, s: 2, name: pool2}
  - conv: {out: 256, k: 3, p: 1, name: conv3, repeat: 3}
  - maxpool: {k: 2, s: 2, name: pool3}
  - conv: {out: 512, k: 3, p: 1, name: conv4, repeat: 3}
  - maxpool: {k: 2, s: 2, name: pool4}
  - conv: {out: 512, k: 3, p: 1, name: conv5, repeat: 3}
  - maxpool: {k: 2, s: 2, name: pool5}
  - flatten
  - linear: {out: 4096, name: fc6}
  - relu
  - dropout
  - linear: {out: 4096, name: fc7}
  - relu
  - dropout
  - linear: {out: 1000, name: fc8}
"""


def test_vgg16_field_is_196_at_conv5_3_and_212_at_pool5():
    network = load_net(VGG16)
    report = analyze(network)
    by_name = {row.name: row for row in report.rows}
    conv5_3, pool5 = by_name["conv5.2"], by_name["pool5"]
    # +2 per conv at jump 1, 2, 4, 8, 16 (2, 2, 3, 3, 3 convs) and +1*jump per 2x2 pool
    r_conv5_3 = 1 + 2 * 2 * 1 + 1 * 1 + 2 * 2 * 2 + 1 * 2 + 3 * 2 * 4 + 1 * 4 + 3 * 2 * 8 + 1 * 8 + 3 * 2 * 16
    assert conv5_3.field.receptive_field == (r_conv5_3,) * 2 == (196, 196)
    assert pool5.field.receptive_field == (196 + 1 * 16,) * 2 == (212, 212)
    assert pool5.field.jump == (32, 32)
    # effective padding 90 (google-research/receptive_field): 1 per conv times its input's jump
    assert pool5.field.start == (-(2 * 1 + 2 * 2 + 3 * 4 + 3 * 8 + 3 * 16),) * 2 == (-90, -90)
    assert pool5.output_shape == (7, 7, 512)
    assert explained_field(network, "pool5") == ((212, 212), (-90, -90))
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256)]
    convs += [(256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    features = sum(9 * a * b + b for a, b in convs)
    assert features == 14_714_688
    assert report.params == features + 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000 == 138_357_544


# TF-slim resnet_v1 (nets/resnet_v1.py), as google-research/receptive_field measures it: the root is conv2d_same
# 7x7/2 (explicit padding 3) and a 3x3/2 max pool with SAME padding; resnet_v1_block puts the block's stride on the
# LAST unit (blocks 1-3 stride 2, block 4 stride 1); in the bottleneck the stride is on the 3x3 conv2 (conv2d_same:
# SAME at stride 1, explicit padding 1 then VALID at stride 2), and the shortcut is a 1x1 conv with the stride when
# the depth changes, else subsample() = a 1x1 max pool with the stride.
RESNET_V1 = """
name: resnet_v1_{depth}
input: 224x224x3
blocks:
  unit:
    args: {{depth: 64, stride: 1, project: false}}
    layers:
      - conv: {{out: $depth, k: 1, bias: false, name: conv1}}
      - bn
      - relu
      - conv: {{out: $depth, k: 3, s: $stride, p: "${{1 if stride > 1 else 'same'}}", bias: false, name: conv2}}
      - bn
      - relu
      - conv: {{out: "${{4 * depth}}", k: 1, bias: false, name: conv3}}
      - bn: {{name: conv3_bn}}
      - conv: {{out: "${{4 * depth}}", k: 1, s: $stride, bias: false, from: input, name: shortcut, if: $project}}
      - bn: {{name: shortcut_bn, if: $project}}
      - maxpool: {{k: 1, s: $stride, from: input, name: shortcut, if: "${{not project}}"}}
      - add: {{from: [conv3_bn, "${{'shortcut_bn' if project else 'shortcut'}}"], name: sum}}
      - relu: {{name: out}}
layers:
  - conv: {{out: 64, k: 7, s: 2, p: 3, bias: false, name: conv1}}
  - bn
  - relu
  - maxpool: {{k: 3, s: 2, p: same, name: pool1}}
  - unit: {{depth: 64, stride: "${{2 if i == {n1} - 1 else 1}}", project: "${{i == 0}}", repeat: {n1}, name: block1}}
  - unit: {{depth: 128, stride: "${{2 if i == {n2} - 1 else 1}}", project: "${{i == 0}}", repeat: {n2}, name: block2}}
  - unit: {{depth: 256, stride: "${{2 if i == {n3} - 1 else 1}}", project: "${{i == 0}}", repeat: {n3}, name: block3}}
  - unit: {{depth: 512, stride: 1, project: "${{i == 0}}", repeat: {n4}, name: block4}}
"""


@pytest.mark.parametrize(
    ("depth", "units", "size", "padding"),
    [(50, (3, 4, 6, 3), 483, 239), (101, (3, 4, 23, 3), 1027, 511)],
)
def test_resnet_v1_tf_slim_field(depth, units, size, padding):
    n1, n2, n3, n4 = units
    network = load_net(RESNET_V1.format(depth=depth, n1=n1, n2=n2, n3=n3, n4=n4))
    report = analyze(network)
    last = report.rows[-1]
    assert last.name == f"block4.{n4 - 1}.out"
    assert last.output_shape == (7, 7, 2048)
    # the stem: 7, then +2*2 = 11 at jump 4; a unit adds 2*jump (its 3x3), the last of blocks 1-3 at the old jump
    expected = 11 + n1 * 2 * 4 + n2 * 2 * 8 + n3 * 2 * 16 + n4 * 2 * 32
    assert last.field.receptive_field == (expected, expected) == (size, size)  # Distill Table 1: resnet_v1_50 483
    assert last.field.jump == (32, 32)
    assert last.field.start == (-padding, -padding)  # google-research/receptive_field: effective padding
    assert not any(row.warnings for row in report.rows if row.op == "add")
    assert explained_field(network, last.name) == ((size, size), (-padding, -padding))


# --------------------------------------------------------------------------- forward's exact shortcuts

_WHOLE = st.integers(-40, 40)
_ANY = st.one_of(_WHOLE.map(Fraction), st.fractions(min_value=-40, max_value=40, max_denominator=6))
_STEP = st.one_of(_ANY, _WHOLE)  # an op's jump and start: Fractions, or ints


@given(
    st.integers(1, 3).flatmap(
        lambda rank: st.tuples(*[st.lists(values, min_size=rank, max_size=rank) for values in
                                 (_ANY, _ANY, _ANY, st.integers(1, 9), _STEP, _STEP)])  # fmt: skip
    )
)
@settings(max_examples=400, deadline=None)
def test_forward_equals_the_fraction_recursion(values):
    """forward's whole-number and pointwise shortcuts give the recursion's values, as Fractions:
    r' = r + (k-1) j, j' = j s, u' = u + t j (each computed here with Fraction arithmetic)."""
    r, j, u, k, s, t = (tuple(column) for column in values)
    moved = forward(Field(r, j, u), k, s, t)
    assert moved.receptive_field == tuple(Fraction(a) + (b - 1) * Fraction(c) for a, b, c in zip(r, k, j))
    assert moved.jump == tuple(Fraction(a) * b for a, b in zip(j, s))
    assert moved.start == tuple(Fraction(a) + b * Fraction(c) for a, b, c in zip(u, t, j))
    assert all(type(v) is Fraction for v in (*moved.receptive_field, *moved.jump, *moved.start))
    pointwise = forward(Field(r, j, u), (1,) * len(r), (Fraction(1),) * len(r), (Fraction(0),) * len(r))
    assert (pointwise.receptive_field, pointwise.jump, pointwise.start) == (r, j, u)
