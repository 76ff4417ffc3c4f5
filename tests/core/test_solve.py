"""The inverse search (convcalc.core.solve): hand-worked answers, the ranking, ``--same``, and properties against a
brute force written here: every returned solution gives the requested size (by core/windows.py and by the
formulas below), and no solution within the search bounds is missing. A torch-marked test builds a sample of the
solutions in PyTorch."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.core.solve import OPS, Bounds, Fixed, check, nearest_outputs, same, same_solutions, solve, solve_dimension
from convcalc.errors import InputError, ShapeError
from convcalc.report.formats import SolveOp

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = Bounds(kernel=5, stride=3, dilation=2)


def key(solution) -> tuple:
    return (solution.kernel, solution.stride, solution.pad, solution.dilation, solution.output_padding, solution.ceil)


def keys(solutions) -> set[tuple]:
    return {key(solution) for solution in solutions}


# --------------------------------------------------------------------------- hand-worked answers


def test_224_to_112_conv():
    found = keys(solve_dimension("conv", 224, 112))
    assert (3, 2, (1, 1), 1, None, None) in found  # floor((224 + 2 - 3)/2) + 1 = 111 + 1
    assert (7, 2, (3, 3), 1, None, None) in found  # floor((224 + 6 - 7)/2) + 1 = 111 + 1
    assert (2, 2, (0, 0), 1, None, None) in found  # floor((224 - 2)/2) + 1 = 111 + 1
    assert (3, 2, (0, 1), 1, None, None) in found  # TensorFlow's SAME: floor((224 + 1 - 3)/2) + 1 = 112
    assert (3, 2, (0, 0), 1, None, None) not in found  # floor(221/2) + 1 = 111
    assert (1, 2, (0, 0), 1, None, None) in found  # floor(223/2) + 1 = 112, reading every other pixel
    assert all(s == 2 for _, s, *_ in found)  # s = 1 would need d(k-1) >= 113; s = 3 at most 75 + 1 outputs


def test_ranking_224_to_112():
    solutions = solve_dimension("conv", 224, 112)
    assert key(solutions[0]) == (2, 2, (0, 0), 1, None, None)
    assert key(solutions[1]) == (3, 2, (1, 1), 1, None, None)
    skipped = [s.uncovered for s in solutions]
    assert skipped == sorted(skipped)  # every window-covers-all choice first
    k1 = next(s for s in solutions if s.kernel == 1)
    assert k1.uncovered == 112 and not k1.covers_all  # windows read 0, 2, ..., 222: 112 of 224
    covering = [s for s in solutions if s.covers_all]
    dilations = [s.dilation for s in covering]
    assert dilations == sorted(dilations)  # no dilation first
    plain = [s for s in covering if s.dilation == 1]
    assert [s.symmetric for s in plain] == sorted((s.symmetric for s in plain), reverse=True)  # symmetric first
    assert [s.kernel for s in plain if s.symmetric] == list(range(2, 12))  # then small kernels: k = 2 .. 11


def test_fixed_values_and_receptive_field():
    solutions = solve_dimension("conv", 640, 320, Fixed(kernel=3, dilation=2))
    assert {(s.kernel, s.dilation) for s in solutions} == {(3, 2)}
    # span 2*(3-1) + 1 = 5: floor((640 + T - 5)/2) + 1 = 320 for T = 3 (1,2) and T = 4 (2,2)
    assert keys(solutions) == {(3, 2, (1, 2), 2, None, None), (3, 2, (2, 2), 2, None, None)}
    assert {s.receptive_field for s in solutions} == {5}
    assert all(s.uncovered == 320 for s in solutions)  # taps 0, 2, 4 at even offsets: odd pixels never read
    fixed = solve_dimension("conv", 224, 112, Fixed(kernel=13, stride=2, dilation=1))  # fixed values replace bounds
    assert keys(fixed) == {(13, 2, (6, 6), 1, None, None), (13, 2, (5, 6), 1, None, None)}  # T = 12 or 11


def test_deconv_112_to_224():
    found = keys(solve_dimension("deconv", 112, 224))
    assert (4, 2, (1, 1), 1, 0, None) in found  # DCGAN: 111*2 - 2 + 3 + 0 + 1 = 224
    assert (3, 2, (1, 1), 1, 1, None) in found  # 111*2 - 2 + 2 + 1 + 1 = 224
    assert (2, 2, (0, 0), 1, 0, None) in found  # 111*2 + 1 + 1 = 224
    assert (3, 2, (1, 1), 1, 0, None) not in found  # 223
    gaps = solve_dimension("deconv", 4, 10, Fixed(kernel=1, stride=3, dilation=1))  # 3*3 + 0 + op + 1 = 10: op = 0
    assert keys(gaps) == {(1, 3, (0, 0), 1, 0, None)}
    assert gaps[0].uncovered == 6  # inputs land on 0, 3, 6, 9: six outputs receive nothing
    assert solve_dimension("deconv", 112, 224, Fixed(kernel=3))[0].receptive_field == 2  # taps 0, 2 meet one output


def test_pooling_with_ceil():
    found = keys(solve_dimension("maxpool", 112, 56))
    assert (3, 2, (1, 1), 1, None, False) in found  # ResNet: floor((112 + 2 - 3)/2) + 1 = 56
    assert (3, 2, (0, 0), 1, None, True) in found  # ceil((112 - 3)/2) + 1 = 55 + 1
    assert (3, 2, (0, 0), 1, None, False) not in found  # floor(109/2) + 1 = 55
    # 5 -> 3 with k 2, s 2, p 1, ceil: ceil(5/2) + 1 = 4, but the 4th window starts at 6 >= 5 + 1: dropped
    assert (2, 2, (1, 1), 1, None, True) in keys(solve_dimension("maxpool", 5, 3))
    assert (2, 2, (1, 1), 1, None, True) not in keys(solve_dimension("maxpool", 5, 4))
    assert all(max(s.pad) <= s.kernel // 2 for s in solve_dimension("avgpool", 50, 25))  # PyTorch's limit
    assert {s.dilation for s in solve_dimension("avgpool", 50, 25)} == {1}


def test_same_padding():
    strided = same_solutions(224, 3, 2, 1)
    assert strided.target == 112  # ceil(224/2)
    assert {s.pad: s.rules for s in strided.solutions} == {(1, 1): ("PyTorch padding=1",), (0, 1): ("TensorFlow SAME",)}
    assert "stride > 1" in strided.notes[0]
    even = same_solutions(32, 4, 1, 1)  # total 3: (1, 2), no symmetric int
    assert {s.pad: s.rules for s in even.solutions} == {(1, 2): ("PyTorch padding='same'", "TensorFlow SAME")}
    assert "odd" in even.notes[0]
    dilated = same_solutions(31, 3, 1, 2)  # total 2*(3-1) = 4
    assert {s.pad: s.rules for s in dilated.solutions} == {
        (2, 2): ("PyTorch padding=2", "PyTorch padding='same'", "TensorFlow SAME")
    }
    odd = same_solutions(225, 3, 2, 1)  # out 113, total 112*2 + 3 - 225 = 2: TensorFlow pads (1, 1) too
    assert {s.pad: s.rules for s in odd.solutions} == {(1, 1): ("PyTorch padding=1", "TensorFlow SAME")}
    answers = same([224, 224], [3, 3], [1, 1], [1, 1])
    assert len(answers) == 1 and answers[0].dims == ("H", "W")  # one question, one answer


def test_per_dimension_targets():
    answers = solve("conv", [640, 640], [320, 160], [Fixed(kernel=3)] * 2)
    assert [(a.dims, a.target) for a in answers] == [(("H",), 320), (("W",), 160)]
    assert (3, 4, (0, 0), 1, None, None) in keys(answers[1].solutions)  # floor(637/4) + 1 = 160
    shared = solve("conv", [640, 640], [320, 320], [Fixed()] * 2)
    assert len(shared) == 1 and shared[0].dims == ("H", "W")


def test_errors_name_the_flag_and_suggest_the_nearest():
    with pytest.raises(ShapeError) as caught:
        solve("conv", [224], [200], [Fixed(kernel=3, stride=2, dilation=1)])
    # floor((224 + T - 3)/2) + 1 for T = 0..4: 111, 112, 112, 113, 113
    assert caught.value.param == "out" and "nearest size it reaches is 113" in caught.value.message
    assert nearest_outputs("conv", 224, 500) == [254]  # k 11, d 3, T 60, s 1: 224 + 60 - 31 + 1
    with pytest.raises(ShapeError, match="use --op deconv"):
        solve("conv", [224], [500], [Fixed()])
    with pytest.raises(InputError) as caught:
        solve("avgpool", [8], [4], [Fixed(dilation=2)])
    assert caught.value.param == "d"
    assert list(OPS) == list(SolveOp)  # the command line's --op choices


# --------------------------------------------------------------------------- the brute force, written again here


def conv_size(n: int, k: int, s: int, d: int, before: int, after: int) -> int | None:
    reach = n + before + after - d * (k - 1) - 1
    return reach // s + 1 if reach >= 0 else None


def pool_size(n: int, k: int, s: int, d: int, p: int, ceil: bool) -> int | None:
    """PyTorch's pooling_output_shape: floor or ceil, then the last window must start inside input + left pad."""
    reach = n + 2 * p - d * (k - 1) - 1
    out = (reach + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out if out >= 1 else None


def deconv_size(n: int, k: int, s: int, d: int, p: int, extra: int) -> int | None:
    out = (n - 1) * s - 2 * p + d * (k - 1) + extra + 1
    return out if out >= 1 else None


def brute_force(op: str, n: int, t: int, bounds: Bounds) -> set[tuple]:
    """Every candidate of the documented bounds, tried by the formulas above."""
    top = max(bounds.stride, -(-max(n, t) // min(n, t)))
    found = set()
    for k in range(1, bounds.kernel + 1):
        for d in range(1, (bounds.dilation if op != "avgpool" else 1) + 1):
            span = d * (k - 1) + 1
            for s in range(1, top + 1):
                if op == "conv":
                    for total in range(2 * (span - 1) + 1):
                        pad = (total // 2, total - total // 2)
                        if conv_size(n, k, s, d, *pad) == t:
                            found.add((k, s, pad, d, None, None))
                elif op == "deconv":
                    for p in range(span):
                        for extra in range(max(s, d)):
                            if deconv_size(n, k, s, d, p, extra) == t:
                                found.add((k, s, (p, p), d, extra, None))
                else:
                    for p in range(k // 2 + 1):
                        for ceil in (False, True):
                            if pool_size(n, k, s, d, p, ceil) == t:
                                found.add((k, s, (p, p), d, None, ceil))
    return found


def unread(op: str, n: int, solution) -> int:
    """Input positions no window reads (deconv: output positions no input reaches), by listing them."""
    k, s, d, before = solution.kernel, solution.stride, solution.dilation, solution.pad[0]
    if op == "deconv":
        reached = {i * s - before + j * d for i in range(n) for j in range(k)}
        return sum(1 for o in range(solution.output) if o not in reached)
    read = {i * s + j * d - before for i in range(solution.output) for j in range(k)}
    return sum(1 for position in range(n) if position not in read)


def independent_size(op: str, n: int, solution) -> int | None:
    k, s, d, pad = solution.kernel, solution.stride, solution.dilation, solution.pad
    if op == "conv":
        return conv_size(n, k, s, d, *pad)
    if op == "deconv":
        return deconv_size(n, k, s, d, pad[0], solution.output_padding)
    return pool_size(n, k, s, d, pad[0], solution.ceil)


@PROPERTY
@given(op=st.sampled_from(OPS), n=st.integers(1, 24), t=st.integers(1, 48))
def test_solutions_are_exact_and_complete(op, n, t):
    solutions = solve_dimension(op, n, t, bounds=SMALL)
    assert keys(solutions) == brute_force(op, n, t, SMALL)
    for solution in solutions:
        assert solution.output == t
        assert check(op, n, solution) == t  # core/windows.py
        assert independent_size(op, n, solution) == t  # the formulas of this file
        assert solution.uncovered == unread(op, n, solution)
    assert [s.rank() for s in solutions] == sorted(s.rank() for s in solutions)


@settings(max_examples=25, deadline=None)
@given(op=st.sampled_from(OPS), n=st.integers(1, 40), t=st.integers(1, 80))
def test_default_bounds_are_complete(op, n, t):
    assert keys(solve_dimension(op, n, t)) == brute_force(op, n, t, Bounds())


@PROPERTY
@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_keeps_ceil_n_over_s(n, k, s, d):
    answer = same_solutions(n, k, s, d)
    for solution in answer.solutions:
        assert conv_size(n, k, s, d, *solution.pad) == -(-n // s)
    total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)  # TensorFlow's SAME
    assert any(sol.pad == (total // 2, total - total // 2) and "TensorFlow SAME" in sol.rules for sol in answer.solutions)


# --------------------------------------------------------------------------- PyTorch


@pytest.mark.torch
def test_a_sample_of_solutions_in_torch():
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional
    cases = [("conv", 224, 112), ("conv", 37, 9), ("deconv", 112, 224), ("deconv", 7, 30), ("maxpool", 112, 56),
             ("maxpool", 5, 3), ("avgpool", 55, 27), ("avgpool", 9, 5)]  # fmt: skip
    checked = 0
    for op, n, t in cases:
        solutions = solve_dimension(op, n, t)
        for solution in solutions[:: max(1, len(solutions) // 12)]:
            k, s, d, (before, after) = solution.kernel, solution.stride, solution.dilation, solution.pad
            x = torch.zeros(1, 1, n)
            with torch.no_grad():
                if op == "conv":
                    y = nn.Conv1d(1, 1, k, s, 0, d)(F.pad(x, (before, after)))
                elif op == "deconv":
                    y = nn.ConvTranspose1d(1, 1, k, s, before, solution.output_padding, dilation=d)(x)
                elif op == "maxpool":
                    y = nn.MaxPool1d(k, s, before, d, ceil_mode=solution.ceil)(x)
                else:
                    y = nn.AvgPool1d(k, s, before, ceil_mode=solution.ceil)(x)
            assert y.shape[-1] == t, (op, n, solution)
            checked += 1
    assert checked > 60
