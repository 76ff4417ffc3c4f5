"""Property tests: the closed-form arithmetic of convcalc against brute force written independently here.

Each brute force enumerates what the formula summarises (window positions, multiply-accumulates, weights,
untouched input positions), over thousands of random 1-D to 3-D configurations, through the public API.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from math import prod

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convcalc import InputError, ShapeError, avgpool, conv, deconv, linear, maxpool
from convcalc.core.windows import Window, uncovered_inputs
from convcalc.report.explain import explain

FAST = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MEDIUM = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- brute force, written from scratch


def span(k: int, d: int) -> int:
    """Input positions from a window's first tap to its last."""
    return d * (k - 1) + 1


def conv_starts(n: int, k: int, s: int, d: int, p0: int, p1: int) -> list[int]:
    """Start positions (in padded coordinates) of every window that fits inside the padded input."""
    length = p0 + n + p1
    starts = []
    t = 0
    while t < length:
        if t + span(k, d) <= length:
            starts.append(t)
        t += s
    return starts


def pool_starts(n: int, k: int, s: int, d: int, p: int, ceil: bool) -> list[int]:
    """PyTorch's pooling windows, symmetric padding p. Floor mode: the window must fit in the padded input.
    Ceil mode: it may overhang the padded input's end by fewer than s positions, but it must start inside the
    input or the left padding (PyTorch drops a window that would start in the right padding)."""
    length = n + 2 * p
    starts = []
    t = 0
    while t <= length + s + span(k, d):
        overhang = t + span(k, d) - length
        if ceil:
            if overhang < s and t < p + n:
                starts.append(t)
        elif overhang <= 0:
            starts.append(t)
        t += s
    return starts


def untouched(n: int, k: int, d: int, p0: int, starts: list[int]) -> int:
    """Real input positions (0..n-1) that no tap of any window reads."""
    seen = [False] * n
    for t in starts:
        for j in range(k):
            pos = t + j * d - p0
            if 0 <= pos < n:
                seen[pos] = True
    return seen.count(False)


def connections(c_in: int, c_out: int, groups: int, kernel: tuple[int, ...]) -> int:
    """Weights of a (possibly grouped) conv or transposed conv: one per tap per (input, output) channel pair
    in the same group."""
    in_per, out_per = c_in // groups, c_out // groups
    count = 0
    for ci in range(c_in):
        for co in range(c_out):
            if ci // in_per == co // out_per:
                for _ in itertools.product(*(range(k) for k in kernel)):
                    count += 1
    return count


WARNING = re.compile(r"^(\w+): (\d+) of (\d+) input positions are in no window \(stride \d+(, dilation \d+)?\)$")
NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def reported_uncovered(warnings: tuple[str, ...], rank: int) -> list[int]:
    """The per-dimension counts of the coverage warnings (0 where a dimension has none)."""
    found = {}
    for text in warnings:
        m = WARNING.match(text)
        if m:
            found[m.group(1)] = int(m.group(2))
    return [found.get(name, 0) for name in NAMES[rank]]


# --------------------------------------------------------------------------- strategies


@st.composite
def conv_dims(draw, max_rank=3, max_n=30, max_k=7, max_s=5, max_d=3, max_p=4):
    rank = draw(st.integers(1, max_rank))
    dims = []
    for _ in range(rank):
        n = draw(st.integers(1, max_n))
        k = draw(st.integers(1, max_k))
        s = draw(st.integers(1, max_s))
        d = draw(st.integers(1, max_d))
        p0 = draw(st.integers(0, max_p))
        p1 = draw(st.one_of(st.just(p0), st.integers(0, max_p)))
        dims.append((n, k, s, d, p0, p1))
    return dims


@st.composite
def pool_dims(draw, max_rank=3, max_n=30, max_k=6, max_s=5, max_d=3):
    rank = draw(st.integers(1, max_rank))
    dims = []
    for _ in range(rank):
        n = draw(st.integers(1, max_n))
        k = draw(st.integers(1, max_k))
        s = draw(st.integers(1, max_s))
        d = draw(st.integers(1, max_d))
        p = draw(st.integers(0, k // 2))
        dims.append((n, k, s, d, p))
    return dims


@st.composite
def channels_and_groups(draw, max_c=12):
    groups = draw(st.integers(1, 4))
    c_in = groups * draw(st.integers(1, max_c // groups))
    c_out = groups * draw(st.integers(1, max_c // groups))
    return c_in, c_out, groups


def conv_args(dims):
    cols = list(zip(*dims))
    n, k, s, d = (list(c) for c in cols[:4])
    pads = [(p0, p1) for p0, p1 in zip(cols[4], cols[5])]
    return n, k, s, d, pads


# --------------------------------------------------------------------------- (a) output size = window count


@FAST
@given(dims=conv_dims(), c=st.integers(1, 4), out=st.integers(1, 4))
def test_conv_output_size_counts_window_positions(dims, c, out):
    n, k, s, d, pads = conv_args(dims)
    expected = [len(conv_starts(*dim)) for dim in dims]
    if 0 in expected:
        with pytest.raises(ShapeError) as info:
            conv(tuple(n) + (c,), out=out, k=k, s=s, d=d, p=pads)
        assert info.value.param == "k"
        return
    r = conv(tuple(n) + (c,), out=out, k=k, s=s, d=d, p=pads)
    assert r.output_shape == tuple(expected) + (out,)
    assert r.receptive_field == tuple(span(kk, dd) for kk, dd in zip(k, d))
    assert r.start == tuple(-p0 for p0, _ in pads)


@FAST
@given(
    dims=pool_dims(),
    c=st.integers(1, 4),
    ceil=st.booleans(),
    kind=st.sampled_from(["max", "avg"]),
    default_stride=st.booleans(),
)
def test_pool_output_size_follows_pytorch_rule(dims, c, ceil, kind, default_stride):
    if kind == "avg":  # average pooling has no dilation
        dims = [(n, k, s, 1, p) for n, k, s, _, p in dims]
    if default_stride:  # stride defaults to the kernel
        dims = [(n, k, k, d, p) for n, k, _, d, p in dims]
    n, k, s, d, p = (list(col) for col in zip(*dims))
    stride = None if default_stride else s

    def call():
        if kind == "max":
            return maxpool(tuple(n) + (c,), k=k, s=stride, p=p, d=d, ceil=ceil)
        return avgpool(tuple(n) + (c,), k=k, s=stride, p=p, ceil=ceil)

    expected = [len(pool_starts(*dim, ceil)) for dim in dims]
    avgpool3d_refuses = kind == "avg" and len(dims) == 3 and any(size < kernel for size, kernel in zip(n, k))
    if 0 in expected or avgpool3d_refuses:  # PyTorch's AvgPool3d also wants every unpadded size >= the kernel
        with pytest.raises(ShapeError) as info:
            call()
        assert info.value.param == "k"
        return
    r = call()
    assert r.output_shape == tuple(expected) + (c,)
    assert r.params == 0 and r.macs == 0
    per_output = prod(k) - 1 if kind == "max" else prod(k)
    assert r.flops == per_output * prod(expected) * c


@FAST
@given(n=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 5), p=st.integers(0, 6))
def test_pool_padding_over_half_the_kernel_is_refused(n, k, s, p):
    if p <= k // 2:
        try:
            maxpool((n, 1), k=k, s=s, p=p, ceil=True)
        except ShapeError as error:  # accepted padding; only a kernel that fits nowhere is refused
            assert error.param == "k"
        return
    with pytest.raises(InputError) as info:
        maxpool((n, 1), k=k, s=s, p=p)
    assert info.value.param == "p"


# --------------------------------------------------------------------------- (b) deconv undoes conv's shape


@FAST
@given(dims=conv_dims(), cg=channels_and_groups())
def test_deconv_restores_the_shape_of_the_conv_input(dims, cg):
    assume(all(conv_starts(*dim) for dim in dims))
    c_in, c_out, g = cg
    n, k, s, d, pads = conv_args(dims)
    shape = tuple(n) + (c_in,)
    down = conv(shape, out=c_out, k=k, s=s, d=d, p=pads, g=g)
    extra = [(nn + p0 + p1 - span(kk, dd)) % ss for nn, kk, ss, dd, p0, p1 in dims]
    up = deconv(down.output_shape, out=c_in, k=k, s=s, d=d, p=pads, g=g, output_padding=extra)
    assert up.output_shape == shape


@FAST
@given(dims=conv_dims(max_n=12), c=st.integers(1, 3), data=st.data())
def test_deconv_output_size_is_the_extent_of_the_scatter(dims, c, data):
    n, k, s, d, pads = conv_args(dims)
    extra = [data.draw(st.integers(0, max(ss, dd) - 1)) for _, _, ss, dd, _, _ in dims]
    expected = []
    for (nn, kk, ss, dd, p0, p1), op in zip(dims, extra):
        # input i, tap j writes the uncropped output i*s + j*d; crop p0 and p1, append output_padding
        last = max(i * ss + j * dd for i in range(nn) for j in range(kk))
        expected.append(last + 1 - p0 - p1 + op)
    if min(expected) < 1:
        with pytest.raises(ShapeError) as info:
            deconv(tuple(n) + (c,), k=k, s=s, d=d, p=pads, output_padding=extra)
        assert info.value.param == "p"
        return
    r = deconv(tuple(n) + (c,), k=k, s=s, d=d, p=pads, output_padding=extra)
    assert r.output_shape == tuple(expected) + (c,)


@MEDIUM
@given(n=st.integers(1, 10), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3), op=st.integers(0, 5))
def test_deconv_output_padding_must_be_below_max_stride_dilation(n, k, s, d, op):
    if op < max(s, d):
        deconv((n, 1), k=k, s=s, d=d, output_padding=op)
        return
    with pytest.raises(InputError) as info:
        deconv((n, 1), k=k, s=s, d=d, output_padding=op)
    assert info.value.param == "output_padding"


# --------------------------------------------------------------------------- (c) MACs by counting


@SLOW
@given(
    dims=conv_dims(max_rank=2, max_n=8, max_k=3, max_s=3, max_d=2, max_p=2),
    cg=channels_and_groups(max_c=6),
    batch=st.integers(1, 3),
    bias=st.booleans(),
)
def test_conv_macs_count_every_tap(dims, cg, batch, bias):
    starts = [conv_starts(*dim) for dim in dims]
    assume(all(starts))
    c_in, c_out, g = cg
    n, k, s, d, pads = conv_args(dims)
    in_per, out_per = c_in // g, c_out // g
    macs = 0
    outputs = 0
    for _position in itertools.product(*starts):
        for co in range(c_out):
            outputs += 1
            group = co // out_per
            for _ci in range(group * in_per, (group + 1) * in_per):
                for _tap in itertools.product(*(range(kk) for kk in k)):
                    macs += 1
    r = conv(tuple(n) + (c_in,), out=c_out, k=k, s=s, d=d, p=pads, g=g, bias=bias, batch=batch)
    assert r.macs == macs * batch
    assert r.flops == (2 * macs + (outputs if bias else 0)) * batch


@SLOW
@given(
    dims=conv_dims(max_rank=2, max_n=6, max_k=3, max_s=3, max_d=2, max_p=2),
    cg=channels_and_groups(max_c=6),
    batch=st.integers(1, 3),
)
def test_deconv_macs_count_every_scattered_tap(dims, cg, batch):
    c_in, c_out, g = cg
    n, k, s, d, pads = conv_args(dims)
    try:
        r = deconv(tuple(n) + (c_in,), out=c_out, k=k, s=s, d=d, p=pads, g=g, batch=batch)
    except ShapeError:
        assume(False)
    in_per, out_per = c_in // g, c_out // g
    macs = 0
    inside = 0
    for position in itertools.product(*(range(nn) for nn in n)):
        for ci in range(c_in):
            group = ci // in_per
            for _co in range(group * out_per, (group + 1) * out_per):
                for tap in itertools.product(*(range(kk) for kk in k)):
                    macs += 1  # counted per input position, wherever the product lands
                    target = [i * ss - p0 + j * dd for i, j, ss, dd, (p0, _) in zip(position, tap, s, d, pads)]
                    inside += all(0 <= t < o for t, o in zip(target, r.output_shape))
    assert r.macs == macs * batch
    assert inside <= macs


@MEDIUM
@given(
    rows=st.lists(st.integers(1, 4), max_size=2),
    features=st.integers(1, 40),
    out=st.integers(1, 40),
    bias=st.booleans(),
    batch=st.integers(1, 3),
)
def test_linear_counts(rows, features, out, bias, batch):
    shape = tuple(rows) + (features,)
    r = linear(shape if rows else features, out=out, bias=bias, batch=batch)
    macs = sum(
        1 for _row in itertools.product(*(range(x) for x in rows)) for _i in range(features) for _o in range(out)
    )
    weights = sum(1 for _i in range(features) for _o in range(out))
    assert r.output_shape == tuple(rows) + (out,)
    assert r.params == weights + (out if bias else 0)
    assert r.macs == macs * batch


# --------------------------------------------------------------------------- (d) params by counting weights


@MEDIUM
@given(
    kernel=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    cg=channels_and_groups(max_c=16),
    bias=st.booleans(),
    transposed=st.booleans(),
)
def test_params_count_every_weight(kernel, cg, bias, transposed):
    c_in, c_out, g = cg
    shape = tuple(kk + 2 for kk in kernel) + (c_in,)
    layer = deconv if transposed else conv
    r = layer(shape, out=c_out, k=kernel, g=g, bias=bias)
    assert r.params == connections(c_in, c_out, g, tuple(kernel)) + (c_out if bias else 0)
    # and the PyTorch weight tensor: conv (C_out, C_in/g, *k), transposed conv (C_in, C_out/g, *k)
    weight = (c_in, c_out // g, *kernel) if transposed else (c_out, c_in // g, *kernel)
    assert r.params == prod(weight) + (c_out if bias else 0)


@MEDIUM
@given(n=st.integers(1, 20), c=st.integers(1, 8), k=st.integers(1, 4), ceil=st.booleans())
def test_pooling_has_no_params_or_macs(n, c, k, ceil):
    assume(k <= n)
    for r in (maxpool((n, n, c), k=k, ceil=ceil), avgpool((n, c), k=k, ceil=ceil)):
        assert r.params == 0 and r.macs == 0


# --------------------------------------------------------------------------- (e) coverage warnings


@FAST
@given(dims=conv_dims(max_n=40))
def test_conv_coverage_warning_counts_untouched_positions(dims):
    starts = [conv_starts(*dim) for dim in dims]
    assume(all(starts))
    n, k, s, d, pads = conv_args(dims)
    r = conv(tuple(n) + (2,), k=k, s=s, d=d, p=pads)
    expected = [untouched(nn, kk, dd, p0, st_) for (nn, kk, _, dd, p0, _), st_ in zip(dims, starts)]
    assert reported_uncovered(r.warnings, len(dims)) == expected
    coverage = [w for w in r.warnings if "no window" in w]
    assert len(coverage) == sum(1 for e in expected if e)
    for (nn, kk, ss, dd, p0, p1), out, e in zip(dims, r.output_shape, expected):
        assert uncovered_inputs(nn, Window(kk, ss, dd, (p0, p1)), out) == e


@FAST
@given(dims=pool_dims(max_n=40))
def test_floor_pool_coverage_warning_counts_untouched_positions(dims):
    starts = [pool_starts(*dim, False) for dim in dims]
    assume(all(starts))
    n, k, s, d, p = (list(col) for col in zip(*dims))
    r = maxpool(tuple(n) + (3,), k=k, s=s, d=d, p=p)
    expected = [untouched(nn, kk, dd, pp, st_) for (nn, kk, _, dd, pp), st_ in zip(dims, starts)]
    assert reported_uncovered(r.warnings, len(dims)) == expected


@MEDIUM
@given(dims=pool_dims(max_n=40))
def test_ceil_pool_coverage_warning_counts_untouched_positions(dims):
    starts = [pool_starts(*dim, True) for dim in dims]
    assume(all(starts))
    n, k, s, d, p = (list(col) for col in zip(*dims))
    r = maxpool(tuple(n) + (3,), k=k, s=s, d=d, p=p, ceil=True)
    expected = [untouched(nn, kk, dd, pp, st_) for (nn, kk, _, dd, pp), st_ in zip(dims, starts)]
    assert reported_uncovered(r.warnings, len(dims)) == expected


@settings(max_examples=50, deadline=None)
@given(n=st.integers(10**9, 10**9 + 10**6), s=st.integers(2, 5))
def test_coverage_count_on_long_inputs(n, s):
    # a 1x1 kernel reads exactly the positions 0, s, 2s, ...: the rest, n - out, are untouched
    # (10**9 positions are too many to mark one by one, so this checks the shortcut for long inputs)
    out = (n - 1) // s + 1
    assert uncovered_inputs(n, Window(1, s, 1, (0, 0)), out) == n - out


# --------------------------------------------------------------------------- (f) padding 'same'


@FAST
@given(dims=conv_dims(max_n=40, max_k=8, max_s=5, max_d=3), c=st.integers(1, 3))
def test_same_padding_gives_ceil_n_over_s(dims, c):
    n, k, s, d, _ = conv_args(dims)
    r = conv(tuple(n) + (c,), k=k, s=s, d=d, p="same")
    assert r.output_shape == tuple(-(-nn // ss) for nn, ss in zip(n, s)) + (c,)
    for (nn, kk, ss, dd, _, _), (before, after) in zip(dims, (w.pad for w in r.spec.windows)):
        assert after - before in (0, 1)  # the odd pixel at the end
        # the least padding that holds ceil(n/s) windows
        assert len(conv_starts(nn, kk, ss, dd, before, after)) == -(-nn // ss)
        total = before + after
        if total:
            assert len(conv_starts(nn, kk, ss, dd, 0, total - 1)) < -(-nn // ss)
    if all(ss == 1 for ss in s):  # PyTorch's padding='same': the output keeps the input size
        assert r.output_shape[:-1] == tuple(n)


@FAST
@given(dims=pool_dims(max_n=40), c=st.integers(1, 3))
def test_same_pooling_gives_ceil_n_over_s_or_refuses_wide_padding(dims, c):
    n, k, s, _, _ = (list(col) for col in zip(*dims))
    try:
        r = maxpool(tuple(n) + (c,), k=k, s=s, p="same")
    except InputError as error:
        assert error.param == "p"
        totals = [max((-(-nn // ss) - 1) * ss + kk - nn, 0) for nn, kk, ss in zip(n, k, s)]
        assert any(t - t // 2 > kk // 2 for t, kk in zip(totals, k))
        return
    assert r.output_shape == tuple(-(-nn // ss) for nn, ss in zip(n, s)) + (c,)


# --------------------------------------------------------------------------- explain agrees with the result


@MEDIUM
@given(dims=conv_dims(max_n=40), kind=st.sampled_from(["conv", "maxpool", "maxpool-ceil"]))
def test_explain_output_size_lines_agree_with_the_result(dims, kind):
    n, k, s, d, pads = conv_args(dims)
    try:
        if kind == "conv":
            r = conv(tuple(n) + (2,), k=k, s=s, d=d, p=pads)
        else:
            p = [min(p0, kk // 2) for (_, kk, _, _, p0, _) in dims]
            r = maxpool(tuple(n) + (2,), k=k, s=s, d=d, p=p, ceil=kind.endswith("ceil"))
    except ShapeError:
        assume(False)
    lines = [line.strip() for line in explain(r)]
    steps = [line for line in lines if re.match(r"^[LDHW]_out = ", line)]
    assert len(steps) == len(dims)
    for line, out in zip(steps, r.output_shape):
        assert int(re.search(r"(\d+)$", line).group(1)) == out
    assert any(line.endswith(f"= {r.flops:,}") for line in lines)


# --------------------------------------------------------------------------- transposed conv receptive field


@MEDIUM
@given(k=st.integers(1, 7), s=st.integers(1, 5), d=st.integers(1, 4), p=st.integers(0, 6))
def test_deconv_receptive_field_and_start_by_scattering(k, s, d, p):
    # input i, tap j writes output i*s - p + j*d. On an input long enough to have no border effects, the
    # receptive field is the widest range of inputs that meet in one output; "start" is the first input
    # (negative: before the real input) reaching output 0.
    n = 2 * d * k + 4 * p + 8  # the middle outputs below see only real inputs
    r = deconv((n, 1), k=k, s=s, d=d, p=p)
    reach: dict[int, list[int]] = {}
    for i in range(-n, 2 * n):  # virtual inputs on both sides, so output 0 shows where its window starts
        for j in range(k):
            reach.setdefault(i * s - p + j * d, []).append(i)
    middle = range(n * s // 2, n * s // 2 + s * d * k)
    assert r.receptive_field == (max(max(reach[o]) - min(reach[o]) + 1 for o in middle if o in reach),)
    if 0 in reach:
        assert r.start == (min(reach[0]),)
    assert r.jump == (Fraction(1, s),)
