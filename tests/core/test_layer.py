"""The one-layer API (convcalc.core.layer: conv, deconv, maxpool, avgpool, linear): the worked examples of SEEDS.md,
a table per op, every refused argument naming its parameter, and the JSON contract of a result.

Window arithmetic, counts, receptive fields and notation have their own files beside this one (test_windows.py,
test_counts.py, test_receptive.py, test_notation.py); the explanation is tests/report/test_explain.py.

Expected values are written as the arithmetic that produces them (the textbook formula with the numbers
substituted), not as pasted outputs, so a reader can check each row by hand.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import conv_out

from convcalc import ConvCalcError, InputError, ShapeError, avgpool, conv, deconv, linear, maxpool

# --------------------------------------------------------------------------- SEEDS.md worked examples


def test_seed_pytorch_640x640_rgb_conv():
    # Conv2d(3, 5, kernel_size=(3, 5), stride=(1, 2), padding=2) on a 640x640 RGB image -> (1, 5, 642, 320)
    r = conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2)
    assert r.output_shape == ((640 + 4 - 3) // 1 + 1, (640 + 4 - 5) // 2 + 1, 5) == (642, 320, 5)
    assert r.params == 3 * 5 * 3 * 5 + 5 == 230
    assert r.macs == 642 * 320 * 5 * (3 * 3 * 5)
    assert r.flops == 2 * r.macs + 642 * 320 * 5
    assert r.receptive_field == (3, 5)
    assert r.jump == (1, 2)


def test_seed_6x6x3_to_2_maps_has_56_params():
    r = conv("6x6x3", out=2, k=3)
    assert r.params == 3 * 3 * 3 * 2 + 2 == 56
    assert r.output_shape == (6 - 3 + 1, 6 - 3 + 1, 2)


def test_seed_3x3_1_to_16_channels_has_160_params():
    assert conv("28x28x1", out=16, k=3).params == 3 * 3 * 1 * 16 + 16 == 160


def test_seed_operation_count_batch_100():
    r = conv("16x16x1", out=16, k=3, batch=100)
    assert r.output_shape == (14, 14, 16)
    assert r.params == 3 * 3 * 1 * 16 + 16  # params are not multiplied by the batch
    assert r.batch == 100
    assert r.macs == 14 * 14 * 16 * (1 * 3 * 3) * 100 == 2_822_400
    bias_adds = 14 * 14 * 16 * 100
    assert bias_adds == 313_600
    assert r.flops == 2 * r.macs + bias_adds
    # the articles' "operations": (params incl. bias) x output positions x batch = MACs + bias adds
    assert r.params * 14 * 14 * 100 == r.macs + bias_adds == 3_136_000


def test_seed_dilation_2_sees_5_with_9_weights():
    r = conv("9x9x1", out=1, k=3, d=2, bias=False)
    assert r.receptive_field == (2 * (3 - 1) + 1,) * 2 == (5, 5)
    assert r.params == 3 * 3 == 9
    assert Fraction(r.params, 5 * 5) == Fraction(36, 100)
    assert r.output_shape == (9 - 5 + 1, 9 - 5 + 1, 1)


def test_seed_c_at_hxw_notation():
    r = conv("3@512x512", out=10, k=7, p=3)
    assert r.input_shape == (512, 512, 3)
    assert r.output_shape == ((512 + 2 * 3 - 7) // 1 + 1,) * 2 + (10,) == (512, 512, 10)
    assert r.params == 7 * 7 * 3 * 10 + 10


def test_seed_224x224x3_to_32_maps_with_5x5x3_kernels():
    r = conv("224x224x3", out=32, k=5)
    assert r.params == 5 * 5 * 3 * 32 + 32
    assert r.output_shape == (224 - 5 + 1, 224 - 5 + 1, 32)


def test_seed_mnist_fully_connected():
    first = linear(784, out=256)
    assert first.params == 784 * 256 + 256 == 200_960
    assert first.output_shape == (256,)
    assert first.macs == 784 * 256
    second = linear(first.output_shape, out=10)
    assert second.params == 256 * 10 + 10


def test_seed_1x1_conv_keeps_shape_and_mixes_channels():
    r = conv("16x16x64", out=64, k=1)
    assert r.output_shape == (16, 16, 64)
    assert r.params == 1 * 1 * 64 * 64 + 64
    assert r.receptive_field == (1, 1)
    assert r.warnings == ()


def test_seed_lenet5_layer_by_layer():
    c1 = conv("32x32x1", out=6, k=5)
    assert c1.output_shape == (32 - 5 + 1, 32 - 5 + 1, 6) == (28, 28, 6)
    assert c1.params == 5 * 5 * 1 * 6 + 6
    s2 = avgpool(c1.output_shape, k=2)
    assert s2.output_shape == (28 // 2, 28 // 2, 6) == (14, 14, 6)
    assert s2.params == 0
    c3 = conv(s2.output_shape, out=16, k=5)
    assert c3.output_shape == (14 - 5 + 1, 14 - 5 + 1, 16) == (10, 10, 16)
    assert c3.params - 16 == 16 * (6 * 25)  # fully connected C3 (the original used a partial table)
    s4 = avgpool(c3.output_shape, k=2)
    assert s4.output_shape == (5, 5, 16)
    c5 = conv(s4.output_shape, out=120, k=5)
    assert c5.output_shape == (1, 1, 120)
    assert c5.params == 5 * 5 * 16 * 120 + 120
    f6 = linear(120, out=84)
    assert f6.params == (120 + 1) * 84 == 10_164
    out = linear(84, out=10)
    assert out.params == (84 + 1) * 10
    assert out.output_shape == (10,)


def test_seed_pooling_3x3_map_2x2_windows_stride_1():
    for pool in (maxpool, avgpool):
        r = pool("3x3x1", k=2, s=1)
        assert r.output_shape == (2, 2, 1)
        assert r.params == 0 and r.macs == 0


# --------------------------------------------------------------------------- conv table


CONV_CASES = [
    # (id, input, kwargs, output shape, params, MACs)
    (
        "640-rgb",
        "640x640x3",
        {"out": 5, "k": (3, 5), "s": (1, 2), "p": 2},
        (conv_out(640, 3, 1, 2), conv_out(640, 5, 2, 2), 5),
        3 * 5 * 3 * 5 + 5,
        642 * 320 * 5 * 3 * 3 * 5,
    ),
    ("default-out-is-c-in", "8x8x4", {"k": 3}, (6, 6, 4), 3 * 3 * 4 * 4 + 4, 6 * 6 * 4 * 4 * 3 * 3),
    ("no-bias", "8x8x4", {"out": 2, "k": 3, "bias": False}, (6, 6, 2), 3 * 3 * 4 * 2, 6 * 6 * 2 * 4 * 3 * 3),
    (
        "stride-2-pad-1",
        "224x224x3",
        {"out": 64, "k": 7, "s": 2, "p": 3},
        (112, 112, 64),
        7 * 7 * 3 * 64 + 64,
        112 * 112 * 64 * 3 * 7 * 7,
    ),
    (
        "grouped-4",
        "32x32x64",
        {"out": 128, "k": 3, "p": 1, "g": 4},
        (32, 32, 128),
        3 * 3 * (64 // 4) * 128 + 128,
        32 * 32 * 128 * (64 // 4) * 3 * 3,
    ),
    (
        "depthwise",
        "56x56x32",
        {"out": 32, "k": 3, "p": 1, "g": 32},
        (56, 56, 32),
        3 * 3 * 1 * 32 + 32,
        56 * 56 * 32 * 1 * 3 * 3,
    ),
    (
        "depthwise-multiplier-2",
        "56x56x32",
        {"out": 64, "k": 3, "p": 1, "g": 32},
        (56, 56, 64),
        3 * 3 * 1 * 64 + 64,
        56 * 56 * 64 * 1 * 3 * 3,
    ),
    (
        "dilation-2",
        "32x32x8",
        {"out": 8, "k": 3, "d": 2},
        (conv_out(32, 3, d=2),) * 2 + (8,),
        3 * 3 * 8 * 8 + 8,
        28 * 28 * 8 * 8 * 3 * 3,
    ),
    (
        "1d",
        "100x16",
        {"out": 32, "k": 5, "s": 2},
        (conv_out(100, 5, 2), 32),
        5 * 16 * 32 + 32,
        conv_out(100, 5, 2) * 32 * 16 * 5,
    ),
    (
        "1d-list-args",
        (100, 16),
        {"out": 32, "k": [5], "s": [2], "p": [1]},
        (conv_out(100, 5, 2, 1), 32),
        5 * 16 * 32 + 32,
        conv_out(100, 5, 2, 1) * 32 * 16 * 5,
    ),
    (
        "3d",
        "16x112x112x3",
        {"out": 64, "k": 3, "p": 1},
        (16, 112, 112, 64),
        3 * 3 * 3 * 3 * 64 + 64,
        16 * 112 * 112 * 64 * 3 * 3 * 3 * 3,
    ),
    (
        "3d-per-dim",
        "16x112x112x3",
        {"out": 64, "k": (3, 7, 7), "s": (1, 2, 2), "p": (1, 3, 3)},
        (conv_out(16, 3, 1, 1), conv_out(112, 7, 2, 3), conv_out(112, 7, 2, 3), 64),
        3 * 7 * 7 * 3 * 64 + 64,
        16 * 56 * 56 * 64 * 3 * 3 * 7 * 7,
    ),
    (
        "per-dim-dilation",
        "20x20x2",
        {"out": 4, "k": 3, "d": (1, 3)},
        (conv_out(20, 3), conv_out(20, 3, d=3), 4),
        3 * 3 * 2 * 4 + 4,
        18 * 14 * 4 * 2 * 3 * 3,
    ),
    (
        "asymmetric-pad-pairs",
        "10x10x1",
        {"out": 1, "k": 3, "p": ((0, 1), (2, 0))},
        (10 + 0 + 1 - 3 + 1, 10 + 2 + 0 - 3 + 1, 1),
        3 * 3 + 1,
        9 * 10 * 1 * 3 * 3,
    ),
    ("valid", "10x10x1", {"out": 1, "k": 3, "p": "valid"}, (8, 8, 1), 3 * 3 + 1, 8 * 8 * 3 * 3),
    (
        "same-stride-1",
        "32x32x3",
        {"out": 8, "k": 5, "p": "same"},
        (32, 32, 8),
        5 * 5 * 3 * 8 + 8,
        32 * 32 * 8 * 3 * 5 * 5,
    ),
    (
        "same-even-kernel",
        "32x32x3",
        {"out": 8, "k": 4, "p": "same"},
        (32, 32, 8),
        4 * 4 * 3 * 8 + 8,
        32 * 32 * 8 * 3 * 4 * 4,
    ),
    (
        "same-stride-2",
        "7x8x1",
        {"out": 1, "k": 3, "s": 2, "p": "SAME"},
        (-(-7 // 2), -(-8 // 2), 1),
        3 * 3 + 1,
        4 * 4 * 3 * 3,
    ),
    ("kernel-equals-padded-input", "3x3x2", {"out": 1, "k": 5, "p": 1}, (1, 1, 1), 5 * 5 * 2 + 1, 1 * 1 * 2 * 5 * 5),
    ("kernel-list-of-one-broadcasts", "9x9x1", {"out": 1, "k": [3]}, (7, 7, 1), 3 * 3 + 1, 7 * 7 * 3 * 3),
]


@pytest.mark.parametrize(
    "shape, kwargs, out_shape, params, macs", [c[1:] for c in CONV_CASES], ids=[c[0] for c in CONV_CASES]
)
def test_conv_table(shape, kwargs, out_shape, params, macs):
    r = conv(shape, **kwargs)
    assert r.op == "conv"
    assert r.output_shape == out_shape
    assert r.params == params
    assert r.macs == macs
    out_elements = 1
    for size in out_shape:
        out_elements *= size
    bias = kwargs.get("bias", True)
    assert r.flops == 2 * macs + (out_elements if bias else 0)
    assert r.batch == 1


# --------------------------------------------------------------------------- transposed conv table


DECONV_CASES = [
    # (id, input, kwargs, output shape, params, MACs counted per input position)
    (
        "readme",
        (4, 4, 8),
        {"out": 3, "k": 4, "s": 2, "p": 1},
        ((4 - 1) * 2 - 2 * 1 + 1 * (4 - 1) + 0 + 1,) * 2 + (3,),
        4 * 4 * 8 * 3 + 3,
        4 * 4 * 8 * 3 * 4 * 4,
    ),
    (
        "stride-1-grows-by-k-1",
        "5x5x2",
        {"out": 2, "k": 3},
        (5 + 3 - 1, 5 + 3 - 1, 2),
        3 * 3 * 2 * 2 + 2,
        5 * 5 * 2 * 2 * 3 * 3,
    ),
    (
        "grouped",
        "5x5x8",
        {"out": 4, "k": 3, "s": 2, "g": 2},
        ((5 - 1) * 2 + 3,) * 2 + (4,),
        3 * 3 * 8 * (4 // 2) + 4,
        5 * 5 * 8 * (4 // 2) * 3 * 3,
    ),
    ("depthwise", "5x5x8", {"out": 8, "k": 3, "s": 2, "g": 8}, (11, 11, 8), 3 * 3 * 8 * 1 + 8, 5 * 5 * 8 * 1 * 3 * 3),
    (
        "output-padding",
        "5x5x8",
        {"out": 8, "k": 3, "s": 2, "p": 1, "output_padding": 1},
        ((5 - 1) * 2 - 2 * 1 + (3 - 1) + 1 + 1,) * 2 + (8,),
        3 * 3 * 8 * 8 + 8,
        5 * 5 * 8 * 8 * 3 * 3,
    ),
    (
        "per-dim-output-padding",
        "5x5x1",
        {"out": 1, "k": 3, "s": 2, "p": 1, "output_padding": (0, 1)},
        ((5 - 1) * 2 - 2 + 2 + 0 + 1, (5 - 1) * 2 - 2 + 2 + 1 + 1, 1),
        3 * 3 + 1,
        5 * 5 * 3 * 3,
    ),
    ("dilation", "5x1", {"out": 1, "k": 3, "d": 2}, ((5 - 1) * 1 + 2 * (3 - 1) + 1, 1), 3 + 1, 5 * 3),
    (
        "dilation-allows-output-padding",
        "5x1",
        {"out": 1, "k": 3, "d": 3, "output_padding": 2},
        ((5 - 1) * 1 + 3 * (3 - 1) + 2 + 1, 1),
        3 + 1,
        5 * 3,
    ),
    ("1d", "50x16", {"out": 8, "k": 4, "s": 4}, ((50 - 1) * 4 + 4, 8), 4 * 16 * 8 + 8, 50 * 16 * 8 * 4),
    (
        "3d",
        "4x8x8x16",
        {"out": 8, "k": (2, 4, 4), "s": (2, 2, 2), "p": (0, 1, 1)},
        ((4 - 1) * 2 + 2, (8 - 1) * 2 - 2 + 4, (8 - 1) * 2 - 2 + 4, 8),
        2 * 4 * 4 * 16 * 8 + 8,
        4 * 8 * 8 * 16 * 8 * 2 * 4 * 4,
    ),
    (
        "no-bias",
        "4x4x8",
        {"out": 3, "k": 4, "s": 2, "p": 1, "bias": False},
        (8, 8, 3),
        4 * 4 * 8 * 3,
        4 * 4 * 8 * 3 * 4 * 4,
    ),
    (
        "asymmetric-pads",
        "6x1",
        {"out": 1, "k": 3, "s": 2, "p": [(1, 0)]},
        ((6 - 1) * 2 - 1 - 0 + 2 + 1, 1),
        3 + 1,
        6 * 3,
    ),
]


@pytest.mark.parametrize(
    "shape, kwargs, out_shape, params, macs", [c[1:] for c in DECONV_CASES], ids=[c[0] for c in DECONV_CASES]
)
def test_deconv_table(shape, kwargs, out_shape, params, macs):
    r = deconv(shape, **kwargs)
    assert r.op == "deconv"
    assert r.output_shape == out_shape
    assert r.params == params
    assert r.macs == macs
    out_elements = 1
    for size in out_shape:
        out_elements *= size
    assert r.flops == 2 * macs + (out_elements if kwargs.get("bias", True) else 0)


# --------------------------------------------------------------------------- pooling table


POOL_CASES = [
    # (id, op, input, kwargs, output shape)
    ("stride-defaults-to-kernel", maxpool, "28x28x6", {"k": 2}, (14, 14, 6)),
    ("avg-stride-defaults-to-kernel", avgpool, "10x10x16", {"k": 2}, (5, 5, 16)),
    ("floor-drops-partial", maxpool, "9x9x3", {"k": 3, "s": 4}, ((9 - 3) // 4 + 1,) * 2 + (3,)),
    ("readme-ceil", maxpool, "9x9x3", {"k": 3, "s": 4, "ceil": True}, (-(-(9 - 3) // 4) + 1,) * 2 + (3,)),
    ("ceil-divisible-same-as-floor", maxpool, "8x8x1", {"k": 2, "ceil": True}, (4, 4, 1)),
    ("ceil-odd-input", maxpool, "7x7x1", {"k": 2, "ceil": True}, (-(-(7 - 2) // 2) + 1,) * 2 + (1,)),
    # n=5, k=2, s=2, p=1: ceil(5/2) + 1 = 4, but window 4 would start at 3*2 = 6 >= 5 + 1 -> 3
    ("ceil-last-window-in-right-padding-dropped", maxpool, "5x1", {"k": 2, "s": 2, "p": 1, "ceil": True}, (3, 1)),
    # n=4, k=3, s=2, p=1: ceil(3/2) + 1 = 3, window 3 starts at 2*2 = 4 < 4 + 1 -> kept
    ("ceil-last-window-starts-in-input-kept", maxpool, "4x1", {"k": 3, "s": 2, "p": 1, "ceil": True}, (3, 1)),
    # n=6, k=3, s=3, p=1: ceil(5/3) + 1 = 3, window 3 starts at 6 < 6 + 1 -> kept
    ("ceil-last-window-at-last-input", avgpool, "6x1", {"k": 3, "s": 3, "p": 1, "ceil": True}, (3, 1)),
    # PyTorch accepts a kernel longer than the input in ceil mode: ceil((2-3)/3) + 1 = 1
    ("ceil-kernel-longer-than-input", maxpool, "2x1", {"k": 3, "s": 3, "ceil": True}, (1, 1)),
    ("padding-half-kernel", maxpool, "8x8x1", {"k": 3, "s": 2, "p": 1}, ((8 + 2 - 3) // 2 + 1,) * 2 + (1,)),
    ("dilation", maxpool, "10x1", {"k": 3, "s": 1, "d": 2}, (10 - (2 * (3 - 1) + 1) + 1, 1)),
    ("per-dim", maxpool, "12x20x4", {"k": (2, 4), "s": (2, 3)}, ((12 - 2) // 2 + 1, (20 - 4) // 3 + 1, 4)),
    ("1d", avgpool, "100x16", {"k": 4}, (25, 16)),
    ("3d", maxpool, "16x32x32x8", {"k": (1, 2, 2)}, (16, 16, 16, 8)),
    ("same", maxpool, "7x7x1", {"k": 2, "s": 2, "p": "same"}, (-(-7 // 2),) * 2 + (1,)),
    ("same-stride-1", avgpool, "7x7x1", {"k": 3, "s": 1, "p": "same"}, (7, 7, 1)),
    ("valid", maxpool, "7x7x1", {"k": 2, "p": "valid"}, (3, 3, 1)),
]


@pytest.mark.parametrize("pool, shape, kwargs, out_shape", [c[1:] for c in POOL_CASES], ids=[c[0] for c in POOL_CASES])
def test_pool_table(pool, shape, kwargs, out_shape):
    r = pool(shape, **kwargs)
    assert r.output_shape == out_shape
    assert r.params == 0
    assert r.macs == 0


# --------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    "shape, out, kwargs, out_shape, params, macs",
    [
        (784, 256, {}, (256,), 784 * 256 + 256, 784 * 256),
        ("784", 256, {}, (256,), 784 * 256 + 256, 784 * 256),
        ((120,), 84, {}, (84,), (120 + 1) * 84, 120 * 84),
        (84, 10, {"bias": False}, (10,), 84 * 10, 84 * 10),
        ("10x784", 256, {}, (10, 256), 784 * 256 + 256, 10 * 784 * 256),
        ("4x5x6", 3, {}, (4, 5, 3), 6 * 3 + 3, 4 * 5 * 6 * 3),
        (784, 256, {"batch": 32}, (256,), 784 * 256 + 256, 784 * 256 * 32),
    ],
)
def test_linear_table(shape, out, kwargs, out_shape, params, macs):
    r = linear(shape, out=out, **kwargs)
    assert r.op == "linear"
    assert r.output_shape == out_shape
    assert r.params == params
    assert r.macs == macs
    rows_out = 1
    for size in out_shape:
        rows_out *= size
    assert r.flops == 2 * macs + (rows_out * kwargs.get("batch", 1) if kwargs.get("bias", True) else 0)


# --------------------------------------------------------------------------- errors


ERROR_CASES = [
    # (id, call, exception type, param)
    ("k-zero", lambda: conv("8x8x3", k=0), InputError, "k"),
    ("k-zero-one-dim", lambda: conv("8x8x3", k=(3, 0)), InputError, "k"),
    ("k-not-int", lambda: conv("8x8x3", k=2.5), InputError, "k"),
    ("k-bool", lambda: conv("8x8x3", k=True), InputError, "k"),
    ("pool-k-not-int", lambda: maxpool("8x8x3", k=2.0), InputError, "k"),
    ("stride-not-int", lambda: conv("8x8x3", s=2.5), InputError, "s"),
    ("dilation-not-int", lambda: conv("8x8x3", d=1.5), InputError, "d"),
    ("padding-not-int", lambda: conv("8x8x3", p=1.5), InputError, "p"),
    ("padding-none", lambda: conv("8x8x3", p=None), InputError, "p"),
    ("output-padding-not-int", lambda: deconv("8x8x3", s=2, output_padding=0.5), InputError, "output_padding"),
    ("groups-not-int", lambda: conv("8x8x4", out=4, g=1.5), InputError, "g"),
    ("stride-negative", lambda: conv("8x8x3", s=-1), InputError, "s"),
    ("stride-zero", lambda: maxpool("8x8x3", k=2, s=0), InputError, "s"),
    ("dilation-zero", lambda: conv("8x8x3", d=0), InputError, "d"),
    ("padding-negative", lambda: conv("8x8x3", p=-1), InputError, "p"),
    ("padding-pair-negative", lambda: conv("8x8x3", p=((1, -1), (0, 0))), InputError, "p"),
    ("padding-bad-word", lambda: conv("8x8x3", p="full"), InputError, "p"),
    ("padding-bad-pair", lambda: conv("8x8x3", p=((1, 2, 3), (0, 0))), InputError, "p"),
    ("groups-zero", lambda: conv("8x8x4", out=4, g=0), InputError, "g"),
    ("groups-do-not-divide-in", lambda: conv("8x8x6", out=8, g=4), ShapeError, "g"),
    ("groups-do-not-divide-out", lambda: conv("8x8x4", out=6, g=4), ShapeError, "g"),
    ("deconv-groups-do-not-divide-in", lambda: deconv("8x8x6", out=8, g=4), ShapeError, "g"),
    ("deconv-groups-do-not-divide-out", lambda: deconv("8x8x4", out=6, g=4), ShapeError, "g"),
    ("kernel-larger-than-input", lambda: conv("4x4x1", k=5), ShapeError, "k"),
    ("kernel-larger-than-padded-input", lambda: conv("4x4x1", k=7, p=1), ShapeError, "k"),
    ("dilated-kernel-larger-than-input", lambda: conv("4x4x1", k=3, d=2), ShapeError, "k"),
    ("kernel-larger-one-dim", lambda: conv("40x4x1", k=(3, 5)), ShapeError, "k"),
    ("pool-kernel-larger", lambda: maxpool("2x2x1", k=3), ShapeError, "k"),
    ("rank-mismatch-k", lambda: conv("32x32x3", k=(3, 3, 3)), InputError, "k"),
    ("rank-mismatch-s", lambda: conv("32x32x3", s=(1, 1, 1)), InputError, "s"),
    ("rank-mismatch-d", lambda: conv("32x32x3", d=(1, 2, 1)), InputError, "d"),
    ("rank-mismatch-p", lambda: conv("32x32x3", p=(1, 1, 1)), InputError, "p"),
    ("rank-mismatch-1d-pair", lambda: conv("32x3", p=(1, 2)), InputError, "p"),
    ("output-padding-equals-stride", lambda: deconv("8x8x3", k=3, s=2, output_padding=2), InputError, "output_padding"),
    ("output-padding-stride-1", lambda: deconv("8x8x3", k=3, output_padding=1), InputError, "output_padding"),
    (
        "output-padding-equals-dilation",
        lambda: deconv("8x8x3", k=3, d=3, output_padding=3),
        InputError,
        "output_padding",
    ),
    (
        "output-padding-one-dim",
        lambda: deconv("8x8x3", k=3, s=(2, 1), output_padding=(1, 1)),
        InputError,
        "output_padding",
    ),
    ("output-padding-negative", lambda: deconv("8x8x3", k=3, s=2, output_padding=-1), InputError, "output_padding"),
    ("output-padding-rank", lambda: deconv("8x8x3", k=3, s=2, output_padding=(1, 1, 1)), InputError, "output_padding"),
    ("deconv-same", lambda: deconv("8x8x3", k=3, p="same"), InputError, "p"),
    ("deconv-padding-eats-output", lambda: deconv("1x1", k=1, p=1), ShapeError, "p"),
    ("pool-padding-over-half", lambda: maxpool("8x8x1", k=3, p=2), InputError, "p"),
    ("avgpool-padding-over-half", lambda: avgpool("8x8x1", k=2, p=2), InputError, "p"),
    ("pool-padding-over-half-one-dim", lambda: maxpool("8x8x1", k=(2, 4), p=(1, 3)), InputError, "p"),
    ("out-zero", lambda: conv("8x8x3", out=0), InputError, "out"),
    ("linear-out-zero", lambda: linear(784, out=0), InputError, "out"),
    ("batch-zero", lambda: conv("8x8x3", batch=0), InputError, "batch"),
    ("batch-negative", lambda: linear(784, out=10, batch=-1), InputError, "batch"),
    ("shape-no-spatial", lambda: conv("32", k=1), ShapeError, "in"),
    ("pool-shape-no-spatial", lambda: maxpool((32,), k=1), ShapeError, "in"),
    ("shape-zero-size", lambda: conv((0, 3), k=1), InputError, "in"),
    ("shape-empty", lambda: conv((), k=1), InputError, "in"),
    ("shape-string-bad", lambda: conv("32xx32x3"), InputError, "in"),
    ("linear-zero-features", lambda: linear(0, out=10), InputError, "in"),
    ("linear-negative-features", lambda: linear(-5, out=10), InputError, "in"),
]


@pytest.mark.parametrize("call, exc, param", [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors_name_the_param(call, exc, param):
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, ConvCalcError)
    assert info.value.param == param
    assert str(info.value)  # a message, not an empty exception


def test_error_hierarchy():
    assert issubclass(InputError, ConvCalcError)
    assert issubclass(ShapeError, ConvCalcError)
    assert issubclass(ConvCalcError, Exception)


def test_error_messages_say_what_is_wrong():
    with pytest.raises(InputError, match="has 3 values but the input has 2 spatial dimensions"):
        conv("32x32x3", k=(3, 3, 3))
    with pytest.raises(ShapeError, match="kernel 5 is larger than the padded input 4"):
        conv("4x1", k=5)
    with pytest.raises(ShapeError, match="groups 4 must divide the input channels 6"):
        conv("8x8x6", out=8, g=4)
    with pytest.raises(ShapeError, match="groups 4 must divide the output channels 6"):
        conv("8x8x4", out=6, g=4)


@pytest.mark.parametrize(
    "call",
    [
        lambda: conv("5x1", k=5),  # kernel exactly the input
        lambda: conv("3x1", k=5, p=1),  # exactly the padded input
        lambda: deconv("8x8x3", k=3, s=1, d=2, output_padding=1),  # < max(1, 2)
        lambda: deconv("8x8x3", k=3, s=3, output_padding=2),  # < 3
        lambda: maxpool("8x8x1", k=4, p=2),  # exactly half
    ],
)
def test_boundary_cases_are_accepted(call):
    call()


def test_results_are_frozen():
    r = conv("8x8x3")
    with pytest.raises(AttributeError):
        r.params = 0  # type: ignore[misc]
