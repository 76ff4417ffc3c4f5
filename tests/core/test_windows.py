"""Window arithmetic (convcalc.core.windows) through the one-layer API: 'same' and 'valid' padding, transposed conv
undoing conv, pooling padding limits, and the warnings for input positions no window covers."""

from __future__ import annotations

import pytest
from helpers import run_isolated

from convcalc import avgpool, conv, deconv, maxpool


@pytest.mark.parametrize(
    "n, k, s, d, pad",
    [
        # total = max((ceil(n/s) - 1)*s + d(k-1) + 1 - n, 0), split with the odd pixel at the end
        (32, 5, 1, 1, (2, 2)),
        (32, 4, 1, 1, (1, 2)),
        (32, 3, 1, 2, (2, 2)),
        (7, 3, 2, 1, (1, 1)),  # out 4: (4-1)*2 + 3 - 7 = 2
        (8, 3, 2, 1, (0, 1)),  # out 4: (4-1)*2 + 3 - 8 = 1
        (10, 1, 2, 1, (0, 0)),  # out 5: (5-1)*2 + 1 - 10 < 0 -> 0
        (9, 4, 3, 1, (0, 1)),  # out 3: (3-1)*3 + 4 - 9 = 1
        (5, 7, 1, 1, (3, 3)),  # out 5: 4 + 7 - 5 = 6, kernel longer than the input
        (5, 6, 1, 1, (2, 3)),  # out 5: 4 + 6 - 5 = 5
    ],
)
def test_same_padding_tensorflow_rule(n, k, s, d, pad):
    r = conv((n, 1), out=1, k=k, s=s, d=d, p="same")
    assert r.output_shape == (-(-n // s), 1)
    assert [w.pad for w in r.spec.windows] == [pad]


def test_same_padding_stride_2_warns_about_pytorch():
    r = conv("8x8x1", k=3, s=2, p="same")
    assert any("same" in w and "TensorFlow" in w for w in r.warnings)
    assert not any("same" in w for w in conv("8x8x1", k=3, s=1, p="same").warnings)


def test_valid_padding_is_zero():
    assert [w.pad for w in conv("10x1", k=3, p="valid").spec.windows] == [(0, 0)]
    assert conv("10x1", k=3, p=" Valid ").output_shape == (8, 1)


@pytest.mark.parametrize(
    "n, k, s, p",
    [(640, 3, 1, 2), (640, 5, 2, 2), (7, 3, 2, 1), (8, 3, 2, 1), (224, 7, 2, 3), (10, 4, 3, 0)],
)
def test_deconv_restores_conv_input_size(n, k, s, p):
    m = conv((n, 1), k=k, s=s, p=p).output_shape[0]
    restored = deconv((m, 1), k=k, s=s, p=p, output_padding=(n + 2 * p - k) % s).output_shape[0]
    assert restored == n


def test_pool_padding_of_exactly_half_the_kernel_is_allowed():
    assert maxpool("8x1", k=2, s=1, p=1).output_shape == (8 + 2 - 2 + 1, 1)
    assert avgpool("8x1", k=5, s=1, p=2).output_shape == (8, 1)


@pytest.mark.parametrize(
    "call, expected",
    [
        # 1x1 conv, stride 2, on 10: windows at 0, 2, 4, 6, 8 -> 10 - 5 = 5 unused in each dimension
        (
            lambda: conv("10x10x3", k=1, s=2),
            [
                "H: 5 of 10 input positions are in no window (stride 2)",
                "W: 5 of 10 input positions are in no window (stride 2)",
            ],
        ),
        (lambda: conv("10x1", k=1, s=2), ["L: 5 of 10 input positions are in no window (stride 2)"]),
        # k=3 s=2 on 6: windows [0,2], [2,4]; position 5 unused
        (lambda: conv("6x1", k=3, s=2), ["L: 1 of 6 input positions are in no window (stride 2)"]),
        # k=2 d=3 on 5: taps {0,3}, {1,4}; position 2 unused
        (lambda: conv("5x1", k=2, d=3), ["L: 1 of 5 input positions are in no window (stride 1, dilation 3)"]),
        # per dimension: only W skips (k=1, s=3 on 7: 0, 3, 6 -> 4 unused)
        (lambda: conv("7x7x1", k=(3, 1), s=(1, 3)), ["W: 4 of 7 input positions are in no window (stride 3)"]),
        # 3-D names
        (lambda: conv("4x4x4x1", k=1, s=(1, 1, 2)), ["W: 2 of 4 input positions are in no window (stride 2)"]),
        # floor-mode pooling drops the tail: k=2 on 5 -> position 4 unused
        (
            lambda: maxpool("5x5x1", k=2),
            [
                "H: 1 of 5 input positions are in no window (stride 2)",
                "W: 1 of 5 input positions are in no window (stride 2)",
            ],
        ),
        # padding covers everything
        (lambda: conv("6x1", k=3, s=2, p=1), []),
        (lambda: conv("32x32x3", k=3), []),
        (lambda: maxpool("28x28x6", k=2), []),
    ],
)
def test_coverage_warnings(call, expected):
    assert list(call().warnings) == expected


def test_coverage_warning_in_ceil_mode_pooling():
    # k=2, s=3, ceil on 10: windows at 0, 3, 6, 9 (the last one partial) -> positions 2, 5, 8 are in no window.
    # The README promises a warning whenever a stride leaves input positions in no window.
    r = maxpool("10x1", k=2, s=3, ceil=True)
    assert r.output_shape == (4, 1)
    assert list(r.warnings) == ["L: 3 of 10 input positions are in no window (stride 3)"]


@pytest.mark.parametrize("n", [20_000_000, 1_000_000_000])
def test_coverage_warning_on_a_very_long_input(n):
    # k=1, s=2: every other position is skipped, n/2 of them (however long the input: 10**9 cannot be marked
    # position by position, so this also checks whatever shortcut counts long inputs)
    r = conv((n, 1), k=1, s=2)
    assert r.output_shape == (n // 2, 1)
    assert list(r.warnings) == [f"L: {n // 2} of {n} input positions are in no window (stride 2)"]


@pytest.mark.parametrize(
    "text",
    [
        "input: 8x1\nlayers:\n  - deconv: {k: 3, s: 1000000000}\n",
        "input: 1000000000x1\nlayers:\n  - conv: {k: 999999999, s: 7}\n",
    ],
    ids=["deconv-stride", "conv-kernel"],
)
def test_large_valid_numbers_are_computed_fast(text):
    # BUG: the deconv field loops over every stride phase and the coverage count is linear in the kernel, so one
    # large number in a spec stalls `convcalc net` (k = 10**7 already takes ~11 s). The answers are closed forms.
    done = run_isolated(text, timeout=3)
    assert done.returncode == 0, done.stdout + done.stderr
