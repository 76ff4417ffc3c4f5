"""Cross-checks of the one-layer API against PyTorch itself, on many random small configurations.

For every layer kind PyTorch has (Conv1d/2d/3d, ConvTranspose1d/2d/3d, MaxPool1d/2d/3d, AvgPool1d/2d/3d) the
tests draw random arguments, build the torch module, run it on a zero tensor of shape (1, C, *spatial) and compare
with convcalc (channels last: (*spatial, C)):

- refusal: convcalc raises ConvCalcError exactly when torch refuses (module construction or forward raises);
- otherwise the output shape and the parameter count (sum of ``p.numel()``) are equal;
- MACs of convs and transposed convs equal a brute-force count made by torch: with all-ones inputs and all-ones
  weights and no bias every multiply-accumulate adds exactly 1, so the sum of the output is the number of MACs.
  For a conv the input is padded with ones first (convcalc counts taps in the padding); for a transposed conv
  the count is taken with no padding and no output_padding (convcalc counts every scattered product, including
  those that land in the cropped border), so the MACs of the real configuration must equal it.

Only integer paddings take part in the refusal comparison: convcalc's conv deliberately accepts ``p='same'`` with
a stride > 1 (TensorFlow's rule) where PyTorch refuses; ``'same'`` and ``'valid'`` are compared where torch
accepts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from convcalc import ConvCalcError, avgpool, conv, deconv, maxpool  # noqa: E402

F = torch.nn.functional

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RANKS = [1, 2, 3]
TORCH_REFUSALS = (RuntimeError, ValueError)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: threads only cost start-up time (and the CI box has 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------- running both sides


def call_text(name: str, *args: Any, **kwargs: Any) -> str:
    """A Python call, to paste into a shell when a check fails."""
    parts = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def run_torch(build: Callable[[], Any], x_shape: tuple[int, ...]) -> tuple[Any, Exception | None]:
    """(output shape channels last, params) or the exception torch raised building or running the module."""
    try:
        module = build()
        with torch.no_grad():
            y = module(torch.zeros(x_shape))
    except TORCH_REFUSALS as exc:
        return None, exc
    if y.numel() == 0:
        # a transposed conv whose output size is 0 in some dimension: torch raises "Output size is too small"
        # or returns an empty tensor, depending on the backend it picks (oneDNN for grouped convs and some
        # others). convcalc always refuses it; an empty output counts as a refusal here
        return None, RuntimeError(f"empty output {tuple(y.shape)}")
    shape = tuple(y.shape[2:]) + (y.shape[1],)
    params = sum(p.numel() for p in module.parameters())
    return (shape, params), None


def run_convcalc(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ConvCalcError | None]:
    try:
        return fn(*args, **kwargs), None
    except ConvCalcError as exc:
        return None, exc


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def agree(cc_text: str, cc: Any, cc_error: ConvCalcError | None, torch_text: str, got: Any, t_error: Exception | None):
    """Assert that convcalc and torch agree; return convcalc's result when both accept, None when both refuse."""
    if t_error is not None:
        assert cc_error is not None, (
            f"torch refuses, convcalc accepts\n  {cc_text}\n    -> output_shape {cc.output_shape}, params {cc.params}"
            f"\n  {torch_text}\n    -> {first_line(t_error)}"
        )
        event("both refuse")
        return None
    shape, params = got
    assert cc_error is None, (
        f"convcalc refuses, torch accepts\n  {cc_text}\n    -> {first_line(cc_error)}"
        f"\n  {torch_text}\n    -> output (channels last) {shape}, params {params}"
    )
    assert (cc.output_shape, cc.params) == (shape, params), (
        f"convcalc and torch disagree\n  {cc_text}\n    -> output_shape {cc.output_shape}, params {cc.params}"
        f"\n  {torch_text}\n    -> output (channels last) {shape}, params {params}"
    )
    event("both accept")
    return cc


# --------------------------------------------------------------------------- strategies


def per_dim(rank: int, low: int, high: int) -> st.SearchStrategy:
    """One int for every dimension, or one per dimension (a tuple, which torch and convcalc both take)."""
    return st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * rank))


def divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


@st.composite
def conv_configs(draw, rank: int, transposed: bool = False) -> dict[str, Any]:
    c_in = draw(st.integers(1, 4))
    # mostly groups that divide the input channels (so most draws get past the group check), sometimes any
    groups = draw(st.one_of(st.sampled_from(divisors(c_in)), st.integers(1, 4)))
    c_out = draw(st.one_of(st.sampled_from([groups, 2 * groups]), st.integers(1, 4)))
    cfg = {
        "n": draw(st.tuples(*[st.integers(1, 12)] * rank)),
        "c_in": c_in,
        "out": c_out,
        "k": draw(per_dim(rank, 1, 5)),
        "s": draw(per_dim(rank, 1, 4)),
        "p": draw(per_dim(rank, 0, 3)),
        "d": draw(per_dim(rank, 1, 3)),
        "g": groups,
        "bias": draw(st.booleans()),
    }
    if transposed:
        cfg["output_padding"] = draw(st.one_of(st.just(0), per_dim(rank, 0, 3)))
    return cfg


@st.composite
def pool_configs(draw, rank: int, dilation: bool) -> dict[str, Any]:
    k = draw(per_dim(rank, 1, 5))
    p = draw(per_dim(rank, 0, 3))
    if draw(st.booleans()):  # half the draws keep the padding legal (<= k // 2), so more get past that check
        ks = (k,) * rank if isinstance(k, int) else k
        ps = (p,) * rank if isinstance(p, int) else p
        clipped = tuple(min(pp, kk // 2) for pp, kk in zip(ps, ks))
        p = clipped[0] if isinstance(p, int) and len(set(clipped)) == 1 else clipped
    return {
        "n": draw(st.tuples(*[st.integers(1, 12)] * rank)),
        "c": draw(st.integers(1, 3)),
        "k": k,
        "s": draw(st.one_of(st.none(), per_dim(rank, 1, 4))),
        "p": p,
        "d": draw(per_dim(rank, 1, 3)) if dilation else 1,
        "ceil": draw(st.booleans()),
    }


def conv_cfg(n, c_in=1, out=1, k=1, s=1, p=0, d=1, g=1, bias=True, **extra):
    """An explicit configuration for @example."""
    return {"n": n, "c_in": c_in, "out": out, "k": k, "s": s, "p": p, "d": d, "g": g, "bias": bias, **extra}


def pool_cfg(n, c=1, k=2, s=None, p=0, d=1, ceil=False):
    return {"n": n, "c": c, "k": k, "s": s, "p": p, "d": d, "ceil": ceil}


# --------------------------------------------------------------------------- convolution


def check_conv(rank: int, cfg: dict[str, Any]) -> None:
    n, c_in, out, k, s, p, d, g, bias = (cfg[key] for key in ("n", "c_in", "out", "k", "s", "p", "d", "g", "bias"))
    shape = n + (c_in,)
    cc_text = call_text("conv", shape, out=out, k=k, s=s, p=p, d=d, g=g, bias=bias)
    cls = f"Conv{rank}d"
    torch_kwargs = {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "groups": g, "bias": bias}
    torch_text = call_text(f"torch.nn.{cls}", c_in, out, **torch_kwargs) + f"(torch.zeros({(1, c_in) + n}))"
    got, t_error = run_torch(lambda: getattr(torch.nn, cls)(c_in, out, **torch_kwargs), (1, c_in) + n)
    r = agree(
        cc_text, *run_convcalc(conv, shape, out=out, k=k, s=s, p=p, d=d, g=g, bias=bias), torch_text, got, t_error
    )
    if r is None:
        return
    # brute-force MACs: pad with ones (taps in the padding count), all-ones weights, no bias, sum the output
    pads = (p,) * rank if isinstance(p, int) else p
    x = torch.ones((1, c_in) + n, dtype=torch.float64)
    x = F.pad(x, [q for pad in reversed(pads) for q in (pad, pad)], value=1.0)
    w = torch.ones((out, c_in // g) + ((k,) * rank if isinstance(k, int) else k), dtype=torch.float64)
    with torch.no_grad():
        counted = getattr(F, f"conv{rank}d")(x, w, None, stride=s, padding=0, dilation=d, groups=g).sum().item()
    assert r.macs == int(counted), f"{cc_text}: macs {r.macs}, torch all-ones count {counted}"


@EXAMPLES
@given(cfg=conv_configs(1))
@example(cfg=conv_cfg((5,), k=3, p=1, d=3))  # kernel span exactly the padded input
@example(cfg=conv_cfg((4,), k=3, p=1, d=3))  # one position short
@example(cfg=conv_cfg((6,), c_in=4, out=2, g=4))  # groups do not divide out
@example(cfg=conv_cfg((6,), c_in=3, out=2, g=2))  # groups do not divide in
def test_conv1d_matches_torch(cfg):
    check_conv(1, cfg)


@EXAMPLES
@given(cfg=conv_configs(2))
@example(cfg=conv_cfg((12, 7), c_in=3, out=5, k=(3, 5), s=(1, 2), p=2))
def test_conv2d_matches_torch(cfg):
    check_conv(2, cfg)


@EXAMPLES
@given(cfg=conv_configs(3))
def test_conv3d_matches_torch(cfg):
    check_conv(3, cfg)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("mode", ["same", "valid"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_conv_string_padding_matches_torch(rank, mode, data):
    """'same' (stride 1 only: torch refuses it with a stride) and 'valid' against torch's own string modes."""
    cfg = data.draw(conv_configs(rank))
    if mode == "same":
        cfg["s"] = 1
    check_conv_string(rank, cfg, mode)


def check_conv_string(rank: int, cfg: dict[str, Any], mode: str) -> None:
    n, c_in, out, k, s, d, g, bias = (cfg[key] for key in ("n", "c_in", "out", "k", "s", "d", "g", "bias"))
    shape = n + (c_in,)
    cc_text = call_text("conv", shape, out=out, k=k, s=s, p=mode, d=d, g=g, bias=bias)
    cls = f"Conv{rank}d"
    torch_kwargs = {"kernel_size": k, "stride": s, "padding": mode, "dilation": d, "groups": g, "bias": bias}
    torch_text = call_text(f"torch.nn.{cls}", c_in, out, **torch_kwargs) + f"(torch.zeros({(1, c_in) + n}))"
    got, t_error = run_torch(lambda: getattr(torch.nn, cls)(c_in, out, **torch_kwargs), (1, c_in) + n)
    agree(cc_text, *run_convcalc(conv, shape, out=out, k=k, s=s, p=mode, d=d, g=g, bias=bias), torch_text, got, t_error)


def test_same_padding_with_stride_is_convcalcs_own_rule():
    """The one deliberate difference: torch refuses padding='same' with a stride, convcalc follows TensorFlow."""
    with pytest.raises(ValueError):
        torch.nn.Conv2d(3, 4, 3, stride=2, padding="same")
    r = conv((9, 9, 3), out=4, k=3, s=2, p="same")
    assert r.output_shape == (5, 5, 4)
    assert any("PyTorch refuses" in w for w in r.warnings)


# --------------------------------------------------------------------------- transposed convolution


def check_deconv(rank: int, cfg: dict[str, Any]) -> None:
    keys = ("n", "c_in", "out", "k", "s", "p", "d", "g", "bias", "output_padding")
    n, c_in, out, k, s, p, d, g, bias, op = (cfg.get(key, 0) for key in keys)
    shape = n + (c_in,)
    cc_kwargs = {"out": out, "k": k, "s": s, "p": p, "d": d, "g": g, "output_padding": op, "bias": bias}
    cc_text = call_text("deconv", shape, **cc_kwargs)
    cls = f"ConvTranspose{rank}d"
    torch_kwargs = {
        "kernel_size": k,
        "stride": s,
        "padding": p,
        "output_padding": op,
        "groups": g,
        "bias": bias,
        "dilation": d,
    }
    torch_text = call_text(f"torch.nn.{cls}", c_in, out, **torch_kwargs) + f"(torch.zeros({(1, c_in) + n}))"
    got, t_error = run_torch(lambda: getattr(torch.nn, cls)(c_in, out, **torch_kwargs), (1, c_in) + n)
    r = agree(cc_text, *run_convcalc(deconv, shape, **cc_kwargs), torch_text, got, t_error)
    if r is None:
        return
    # brute-force MACs: every input value times every tap of its group's kernels; with no padding and no
    # output_padding nothing is cropped, so the all-ones output sums to the count (padding does not change it)
    x = torch.ones((1, c_in) + n, dtype=torch.float64)
    w = torch.ones((c_in, out // g) + ((k,) * rank if isinstance(k, int) else k), dtype=torch.float64)
    with torch.no_grad():
        counted = getattr(F, f"conv_transpose{rank}d")(x, w, None, stride=s, padding=0, groups=g, dilation=d)
    assert r.macs == int(counted.sum().item()), f"{cc_text}: macs {r.macs}, torch all-ones count {counted.sum()}"


@EXAMPLES
@given(cfg=conv_configs(1, transposed=True))
@example(cfg=conv_cfg((5,), k=3, s=1, d=3, output_padding=2))  # output_padding >= stride but < dilation
@example(cfg=conv_cfg((5,), k=3, s=2, d=1, output_padding=2))  # output_padding >= both
@example(cfg=conv_cfg((1,), k=3, s=1, p=1))  # output size exactly 1
@example(cfg=conv_cfg((1,), k=3, s=1, p=2))  # padding removes every position
def test_deconv1d_matches_torch(cfg):
    check_deconv(1, cfg)


@EXAMPLES
@given(cfg=conv_configs(2, transposed=True))
@example(cfg=conv_cfg((4, 4), c_in=8, out=3, k=4, s=2, p=1, output_padding=0))
@example(cfg=conv_cfg((3, 3), k=(2, 3), s=(1, 3), d=(2, 1), output_padding=(1, 2)))
@example(cfg=conv_cfg((1, 1), c_in=2, out=2, k=2, p=1, g=2))  # output size 0: torch's oneDNN path returns empty
def test_deconv2d_matches_torch(cfg):
    check_deconv(2, cfg)


@EXAMPLES
@given(cfg=conv_configs(3, transposed=True))
def test_deconv3d_matches_torch(cfg):
    check_deconv(3, cfg)


# --------------------------------------------------------------------------- pooling


def check_pool(kind: str, rank: int, cfg: dict[str, Any]) -> None:
    n, c, k, s, p, d, ceil = (cfg[key] for key in ("n", "c", "k", "s", "p", "d", "ceil"))
    shape = n + (c,)
    if kind == "max":
        fn, cc_kwargs = maxpool, {"k": k, "s": s, "p": p, "d": d, "ceil": ceil}
        cls, torch_kwargs = (
            f"MaxPool{rank}d",
            {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil},
        )
    else:
        fn, cc_kwargs = avgpool, {"k": k, "s": s, "p": p, "ceil": ceil}
        cls, torch_kwargs = f"AvgPool{rank}d", {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}
    cc_text = call_text(fn.__name__, shape, **cc_kwargs)
    torch_text = call_text(f"torch.nn.{cls}", **torch_kwargs) + f"(torch.zeros({(1, c) + n}))"
    got, t_error = run_torch(lambda: getattr(torch.nn, cls)(**torch_kwargs), (1, c) + n)
    r = agree(cc_text, *run_convcalc(fn, shape, **cc_kwargs), torch_text, got, t_error)
    if r is not None:
        assert r.macs == 0


@EXAMPLES
@given(cfg=pool_configs(1, dilation=True))
@example(cfg=pool_cfg((3,), k=2, s=2, p=1, ceil=True))  # ceil mode drops the window starting in the padding
@example(cfg=pool_cfg((9,), k=3, s=4, ceil=True))
@example(cfg=pool_cfg((10,), k=3, p=2, d=2))  # padding above half the kernel (whatever the dilation)
@example(cfg=pool_cfg((2,), k=3, s=1, p=1, d=2))  # effective kernel 5 > padded input 4
def test_maxpool1d_matches_torch(cfg):
    check_pool("max", 1, cfg)


@EXAMPLES
@given(cfg=pool_configs(2, dilation=True))
def test_maxpool2d_matches_torch(cfg):
    check_pool("max", 2, cfg)


@EXAMPLES
@given(cfg=pool_configs(3, dilation=True))
def test_maxpool3d_matches_torch(cfg):
    check_pool("max", 3, cfg)


@EXAMPLES
@given(cfg=pool_configs(1, dilation=False))
@example(cfg=pool_cfg((3,), k=2, s=2, p=1, ceil=True))
@example(cfg=pool_cfg((1,), k=3, s=1, p=1))
def test_avgpool1d_matches_torch(cfg):
    check_pool("avg", 1, cfg)


@EXAMPLES
@given(cfg=pool_configs(2, dilation=False))
def test_avgpool2d_matches_torch(cfg):
    check_pool("avg", 2, cfg)


@EXAMPLES
@given(cfg=pool_configs(3, dilation=False))
@example(cfg=pool_cfg((4, 4, 4), k=3, s=1, p=1))
@example(cfg=pool_cfg((2, 2, 2), k=3, s=1, p=1))  # AvgPool3d only: refused, the unpadded input is below the kernel
def test_avgpool3d_matches_torch(cfg):
    check_pool("avg", 3, cfg)


def test_avgpool3d_refuses_an_input_smaller_than_the_kernel():
    """torch's AvgPool3d (not AvgPool1d/2d, not MaxPool3d) also requires every *unpadded* input size to be at least
    the kernel size, whatever the padding and ceil_mode: "input image (T: 2 H: 2 W: 2) smaller than kernel size"."""
    with pytest.raises(RuntimeError, match="smaller than kernel size"):
        torch.nn.AvgPool3d(3, stride=1, padding=1)(torch.zeros((1, 1, 2, 2, 2)))
    assert torch.nn.AvgPool2d(3, stride=1, padding=1)(torch.zeros((1, 1, 2, 2))).shape == (1, 1, 2, 2)
    assert avgpool((2, 2, 1), k=3, s=1, p=1).output_shape == (2, 2, 1)
    with pytest.raises(ConvCalcError):
        avgpool((2, 2, 2, 1), k=3, s=1, p=1)
