"""Linear algebra and attention (matmul, einsum, softmax/logsoftmax on any axis, attention, mha): shapes, params,
MACs by hand, fields, refusals, export, and against PyTorch over random shapes (torch-marked: output shapes, params,
MACs = FlopCounterMode total / 2 with the math attention backend, refusals, the exported module's values)."""

from __future__ import annotations

import re
import string
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from math import prod
from typing import Any

import pytest
from helpers import rows_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import analyze
from convcalc.io.torch_export import export_torch
from convcalc.specfile.loader import load_text


def net(shape: str, layers: str) -> dict[str, Any]:
    return rows_of(f"input: {shape}\nlayers:\n" + "".join(f"  - {line}\n" for line in layers.strip().splitlines()))


def last(shape: str, layers: str) -> Any:
    return list(net(shape, layers).values())[-1]


# --------------------------------------------------------------------------- by hand


def test_matmul_by_hand() -> None:
    row = last("6x8", "param: {shape: [8, 5], name: w}\nmatmul: {from: [input, w]}")
    assert (row.output_shape, row.macs, row.flops, row.params) == ((6, 5), 6 * 8 * 5, 2 * 6 * 8 * 5, 0)
    # leading axes broadcast: (2, 1, 4, 5) x (3, 5, 6) -> (2, 3, 4, 6)
    row = last("3x5x6", "param: {shape: [2, 1, 4, 5], name: a}\nbmm: {from: [a, input]}")
    assert (row.output_shape, row.macs) == ((2, 3, 4, 6), 2 * 3 * 4 * 6 * 5)


@pytest.mark.parametrize(
    ("equation", "a", "b", "out", "macs"),
    [
        ("lc,dc->ld", [5, 6], [4, 6], (5, 4), 5 * 4 * 6),  # a linear without bias
        ("hqd,hkd->hqk", [2, 5, 6], [2, 7, 6], (2, 5, 7), 2 * 5 * 7 * 6),  # attention scores
        ("hqk,hkd->hqd", [2, 5, 7], [2, 7, 6], (2, 5, 6), 2 * 5 * 6 * 7),
        ("lc,lc->lc", [5, 6], [5, 6], (5, 6), 0),  # a product: no contraction, no bmm
        ("lc,cd", [5, 6], [6, 3], (3, 5), 5 * 3 * 6),  # implicit output: letters seen once, sorted (dl)
        ("ij,jk->ik", [3, 1], [4, 5], (3, 5), 0),  # j of size 1 in one operand: summed in the other first
        ("bij,bjk->bik", [1, 3, 4], [2, 4, 5], (2, 3, 5), 2 * 3 * 5 * 4),  # b broadcast
        ("ij,kl->il", [3, 4], [5, 6], (3, 6), 0),  # j and k summed in their operand, then a product
    ],
)
def test_einsum_by_hand(equation: str, a: list[int], b: list[int], out: tuple[int, ...], macs: int) -> None:
    row = last("x".join(map(str, a)), f"param: {{shape: {b}, name: w}}\neinsum: {{from: [input, w], equation: '{equation}'}}")
    assert (row.output_shape, row.macs) == (out, macs)


def test_attention_and_mha_by_hand() -> None:
    # ViT-B/16's attention: 197 tokens of 768, 12 heads: q.kT and attention.v, 197 x 197 x 64 each per head
    row = last("197x2304", "chunk: {chunks: 3, name: qkv}\nattention: {from: qkv, heads: 12}")
    assert (row.output_shape, row.macs) == ((197, 768), 12 * 2 * 197 * 197 * 64)
    assert row.flops == 2 * row.macs + 4 * 12 * 197 * 197
    mha = last("197x768", "mha: {heads: 12}")
    assert mha.params == 768 * 3 * 768 + 3 * 768 + 768 * 768 + 768 == 2_362_368  # torchvision ViT-B/16's per block
    assert mha.macs == 197 * 768 * 768 * 4 + 2 * 197 * 197 * 768
    cross = last("7x16", "param: {shape: [9, 6], name: k}\nparam: {shape: [9, 4], name: v}\n"
                         "mha: {heads: 4, from: [input, k, v], kdim: 6, vdim: 4, add_bias_kv: true, bias: false}")  # fmt: skip
    assert cross.params == 16 * (16 + 6 + 4) + 16 * 16 + 2 * 16  # separate q, k, v weights; bias_k, bias_v
    assert cross.macs == 7 * 16 * 16 + 9 * 6 * 16 + 9 * 4 * 16 + 7 * 16 * 16 + 7 * (9 + 1) * 2 * 16


def test_softmax_on_any_axis() -> None:
    assert last("5x3x7", "softmax").field.receptive_field == (1, 1)  # the channels: pointwise, as before
    assert last("5x3x7", "softmax: {dim: -1}").flops == 3 * 105
    assert last("5x3x7", "logsoftmax: {dim: 1}").field.unknown == (
        "softmax over grid axis 1 but not 0: no one window describes the field"
    )
    assert last("9x9", "softmax: {dim: 0}").field.whole


def test_fields() -> None:
    # a matmul over the channels by a weight (a param): a linear, pointwise
    assert last("6x5x16", "param: {shape: [16, 5], name: w}\nmatmul: {from: [input, w]}").field.receptive_field == (1, 1)
    assert last("6x16", "param: {shape: [4, 16], name: w}\neinsum: {from: [input, w], equation: 'lc,dc->ld'}").field.receptive_field == (1,)
    # attention over every token, its scores, a matmul over the positions: the whole input
    rows = net("10x16", "attention: {from: [input, input, input], heads: 4}\n"
                        "einsum: {from: [input, input], equation: 'qc,kc->qk'}\nsoftmax\nmatmul: {from: [-1, input]}\n"
                        "mha: {heads: 2, from: input}")  # fmt: skip
    assert all(row.field.whole for row in rows.values())
    # mixing one grid axis of several: unknown, with the reason
    field = last("6x5x16", "attention: {from: [input, input, input]}").field
    assert field.unknown.startswith("attention maps the grid axes of its keys to other output axes")
    field = last("6x5x16", "param: {shape: [6, 16, 5], name: w}\nmatmul: {from: [input, w]}").field
    assert field.receptive_field == (1, 1)  # the param sees nothing: the first operand's positions are kept


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("matmul: {from: [input, input]}", "matmul needs the first operand's last axis to match the second's axis -2, got 6x8 and 6x8"),
        ("matmul: {from: [input]}", "matmul takes two inputs"),
        ("param: {shape: [8], name: w}\nmatmul: {from: [input, w]}", "matmul needs two axes or more per operand"),
        ("param: {shape: [3, 8, 2], name: w}\nparam: {shape: [2, 6, 8], name: a}\nmatmul: {from: [a, w]}",
         "matmul: the leading axes do not broadcast"),
        ("einsum: {from: [input, input], equation: 'ij,jk->ik'}", "einsum: letter 'j' has size 6 in operand 1 but 8"),
        ("einsum: {from: [input, input], equation: 'ii,ij->ij'}", "a diagonal) is not supported"),
        ("einsum: {from: [input, input], equation: '...c,...c->...c'}", "an ellipsis (...) is not supported"),
        ("einsum: {from: [input, input], equation: 'ij,ij->'}", "one number per sample"),
        ("einsum: {from: [input, input], equation: 'ij,ij->iz'}", "output letter 'z' appears in no operand"),
        ("einsum: {from: [input, input], equation: 'ijk,ij->i'}", "operand 0 has 3 subscripts"),
        ("einsum: {from: [input, input, input], equation: 'ij,ij,ij->i'}", "einsum supports two operands"),
        ("attention: {from: [input, input]}", "attention takes q, k, v"),
        ("attention: {from: [input, input, input], heads: 3}", "3 heads do not divide q's 8 features"),
        ("param: {shape: [6, 5], name: m}\nattention: {from: [input, input, input, m]}", "does not broadcast to the scores"),
        ("param: {shape: [6, 6], name: m}\nattention: {from: [input, input, input, m], causal: true}", "a mask or causal"),
        ("mha: {heads: 3}", "embed_dim 8 must be divisible by heads (3)"),
        ("mha: {heads: 2, embed_dim: 4}", "embed_dim 4 is not the query's 8 features"),
        ("mha: {heads: 2, kdim: 4}", "the key has 8 features, mha expects kdim 4"),
        ("param: {shape: [5, 8], name: v}\nmha: {heads: 2, from: [input, input, v]}", "key and value with the same positions"),
        ("softmax: {dim: 2}", "axis 2 is out of range"),
    ],
)
def test_refusals(layers: str, message: str) -> None:
    with pytest.raises(ConvCalcError, match=re.escape(message)):
        net("6x8", layers)


def test_mha_takes_sequences_only() -> None:
    with pytest.raises(ConvCalcError, match="mha takes sequences"):
        net("4x6x8", "mha: {heads: 2}")


def test_export() -> None:
    text = (
        "input: 6x8\nlayers:\n  - param: {shape: [8, 4], name: w}\n  - matmul: {from: [input, w], name: mm}\n"
        "  - einsum: {from: [mm, input], equation: 'lc,ld->cd', name: e}\n"
        "  - attention: {from: [input, input, input], heads: 2, causal: true, name: a}\n"
        "  - mha: {heads: 2, from: [a, mm], kdim: 4, vdim: 4, name: m}\n  - softmax: {dim: 0}\n"
    )
    source = export_torch(load_text(text))
    for line in (
        "mm = torch.matmul(x.movedim(1, -1), w.movedim(1, -1)).movedim(-1, 1)",
        "e = torch.einsum('Zlc,Zld->Zcd', mm.movedim(1, -1), x.movedim(1, -1)).movedim(-1, 1)",
        "a = nn.functional.scaled_dot_product_attention(x.movedim(1, -1).unflatten(-1, (2, -1)).transpose(-3, -2), ",
        ", is_causal=True).transpose(-3, -2).flatten(-2).movedim(-1, 1)",
        "self.m = nn.MultiheadAttention(8, 2, batch_first=True, kdim=4, vdim=4)",
        "m = self.m(a.movedim(1, -1), *[mm.movedim(1, -1)] * 2, need_weights=False)[0].movedim(-1, 1)",
        "nn.Softmax(dim=2)",
    ):
        assert line in source, line


# --------------------------------------------------------------------------- against PyTorch

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@contextmanager
def math_attention(torch: Any) -> Iterator[None]:
    """PyTorch's reference run: nn.MultiheadAttention without its fast path, attention by the math backend (the
    fused CPU kernels count nothing in FlopCounterMode)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)


def torch_macs(torch: Any, run: Any) -> tuple[Any, int]:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with math_attention(torch), counter, torch.no_grad():
        out = run()
    return out, counter.get_total_flops() // 2


def yaml_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value) if isinstance(value, str) else str(value)


def spec(first: tuple[int, ...], params: dict[str, tuple[int, ...]], layer: str, args: dict[str, Any], inputs: list[str]) -> str:
    lines = [f"  - param: {{shape: {list(shape)}, name: {name}}}" for name, shape in params.items()]
    arguments = ", ".join([f"{key}: {yaml_value(value)}" for key, value in args.items()] + [f"from: [{', '.join(inputs)}]"])
    return f"name: case\ninput: {list(first)}\nlayers:\n" + "\n".join(lines) + f"\n  - {layer}: {{{arguments}, name: out}}\n"


def check_against_torch(torch: Any, text: str, expected: Any, macs: int, params: int, tensors: dict[str, Any], first: Any) -> None:
    """The spec's last layer agrees with PyTorch (shape, params, MACs); the exported module passes --verify, counts
    the same MACs and computes the same values (params set to the reference's tensors)."""
    from convcalc.io.torch_verify import build_module, verify

    report = analyze(load_text(text))
    row = report.rows[-1]
    assert (row.output_shape, row.macs, report.params) == (tuple(expected.shape), macs, params), text
    assert verify(report) == [], text
    model = build_module(report, device="cpu").eval().requires_grad_(False)  # (FlopCounterMode tracks modules)
    with torch.no_grad():
        for name, tensor in tensors.items():
            getattr(model, name).copy_(tensor)
    x = first.unsqueeze(0).movedim(-1, 1) if first.dim() > 1 else first.unsqueeze(0)
    y, exported = torch_macs(torch, lambda: model(x))
    assert exported == sum(r.macs for r in report.rows), text
    y = y.movedim(1, -1) if y.dim() > 2 else y
    assert torch.allclose(y[0], expected, atol=1e-4, rtol=1e-4), text


def refused(text: str) -> bool:
    try:
        analyze(load_text(text))
    except ConvCalcError:
        return True
    return False


sizes = st.integers(1, 4)


@st.composite
def matmuls(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    a = tuple(draw(st.lists(sizes, min_size=2, max_size=4)))
    b = list(draw(st.lists(sizes, min_size=2, max_size=4)))
    if draw(st.integers(0, 3)):
        b[-2] = a[-1]  # mostly multipliable
    return a, tuple(b)


@pytest.mark.torch
@SETTINGS
@given(matmuls())
def test_matmul_against_torch(case: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    torch = pytest.importorskip("torch")
    a, b = case
    x, w = torch.randn(a), torch.randn(b)
    text = spec(a, {"w": b}, "matmul", {}, ["input", "w"])
    try:
        expected, macs = torch_macs(torch, lambda: torch.matmul(x, w))
    except RuntimeError:
        assert refused(text), text
        return
    check_against_torch(torch, text, expected, macs, prod(b), {"w": w}, x)


@st.composite
def einsums(draw: Any) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    letters = draw(st.permutations(string.ascii_letters[:6]))
    a = "".join(draw(st.lists(st.sampled_from(letters), min_size=1, max_size=4, unique=True)))
    b = "".join(draw(st.lists(st.sampled_from(letters), min_size=1, max_size=4, unique=True)))
    pool = sorted(set(a + b))
    out = "".join(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True)))
    size = {letter: draw(sizes) for letter in pool}
    shape = lambda word: tuple(1 if draw(st.integers(0, 6)) == 0 else size[c] for c in word)  # noqa: E731
    equation = f"{a},{b}->{out}" if draw(st.integers(0, 4)) else f"{a},{b}"
    return equation, shape(a), shape(b)


@pytest.mark.torch
@SETTINGS
@given(einsums())
def test_einsum_against_torch(case: tuple[str, tuple[int, ...], tuple[int, ...]]) -> None:
    torch = pytest.importorskip("torch")
    equation, a, b = case
    x, w = torch.randn(a), torch.randn(b)
    text = spec(a, {"w": b}, "einsum", {"equation": equation}, ["input", "w"])
    try:
        expected, macs = torch_macs(torch, lambda: torch.einsum(equation, x, w))
    except RuntimeError:
        assert refused(text), text
        return
    if expected.dim() == 0:  # one number per sample: no convcalc tensor (refused)
        assert refused(text), text
        return
    check_against_torch(torch, text, expected, macs, prod(b), {"w": w}, x)


@st.composite
def attentions(draw: Any) -> tuple[dict[str, tuple[int, ...]], dict[str, Any]]:
    batch = tuple(draw(st.lists(sizes, max_size=2)))
    heads = draw(st.integers(1, 3))
    length, keys = draw(sizes), draw(sizes)
    e, ev = heads * draw(sizes), heads * draw(sizes)
    if not draw(st.integers(0, 5)):
        e += 1  # sometimes not divisible
    shapes = {"q": batch + (length, e), "k": batch + (keys, e), "v": batch + (keys, ev)}
    if draw(st.integers(0, 5)) == 0:
        shapes["v"] = batch + (keys + 1, ev)  # refused
    args: dict[str, Any] = {}
    if draw(st.booleans()):
        args["heads"] = heads
    mask = draw(st.integers(0, 3))
    if mask == 1:
        shapes["m"] = (length, keys)
    elif mask == 2:
        args["causal"] = True
    return shapes, args


def reference_attention(torch: Any, q: Any, k: Any, v: Any, mask: Any, args: dict[str, Any]) -> Any:
    F = torch.nn.functional
    heads = args.get("heads")
    if heads:
        q, k, v = (t.unflatten(-1, (heads, -1)).transpose(-3, -2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=args.get("causal", False))
    return out.transpose(-3, -2).flatten(-2) if heads else out


@pytest.mark.torch
@SETTINGS
@given(attentions())
def test_attention_against_torch(case: tuple[dict[str, tuple[int, ...]], dict[str, Any]]) -> None:
    torch = pytest.importorskip("torch")
    shapes, args = case
    tensors = {name: torch.randn(shape) for name, shape in shapes.items()}
    inputs = ["input", "k", "v"] + (["m"] if "m" in shapes else [])
    text = spec(shapes["q"], {name: s for name, s in shapes.items() if name != "q"}, "attention", args, inputs)
    try:
        expected, macs = torch_macs(torch, lambda: reference_attention(
            torch, tensors["q"], tensors["k"], tensors["v"], tensors.get("m"), args))  # fmt: skip
    except RuntimeError:
        assert refused(text), text
        return
    params = sum(prod(s) for name, s in shapes.items() if name != "q")
    check_against_torch(torch, text, expected, macs, params, {n: t for n, t in tensors.items() if n != "q"}, tensors["q"])


@st.composite
def mhas(draw: Any) -> tuple[int, dict[str, Any], dict[str, tuple[int, ...]]]:
    heads = draw(st.integers(1, 3))
    embed = heads * draw(sizes) + (0 if draw(st.integers(0, 5)) else 1)
    count = draw(st.integers(1, 3))
    length, keys = draw(sizes), draw(sizes)
    args: dict[str, Any] = {"heads": heads}
    shapes = {"q": (length, embed)}
    if count > 1:
        kdim = draw(st.sampled_from([embed, draw(sizes)]))
        vdim = kdim if count == 2 else draw(st.sampled_from([embed, draw(sizes)]))
        shapes["k"] = (keys, kdim)
        if count == 3:
            shapes["v"] = (keys if draw(st.integers(0, 5)) else keys + 1, vdim)
        if kdim != embed or draw(st.booleans()):
            args["kdim"] = kdim
        if vdim != embed or draw(st.booleans()):
            args["vdim"] = vdim
    for flag in ("bias", "add_bias_kv", "add_zero_attn"):
        if draw(st.booleans()):
            args[flag] = draw(st.booleans())
    return count, args, shapes


@pytest.mark.torch
@SETTINGS
@given(mhas())
def test_mha_against_torch(case: tuple[int, dict[str, Any], dict[str, tuple[int, ...]]]) -> None:
    torch = pytest.importorskip("torch")
    count, args, shapes = case
    tensors = {name: torch.randn(shape) for name, shape in shapes.items()}
    q = tensors["q"].unsqueeze(0)
    k = tensors["k"].unsqueeze(0) if count > 1 else q
    v = tensors["v"].unsqueeze(0) if count == 3 else k
    inputs = ["input", "k", "v"][:count]
    text = spec(shapes["q"], {name: s for name, s in shapes.items() if name != "q"}, "mha", args, inputs)
    keywords = {key: args[key] for key in ("kdim", "vdim", "bias", "add_bias_kv", "add_zero_attn") if key in args}
    try:
        module = torch.nn.MultiheadAttention(shapes["q"][-1], args["heads"], batch_first=True, **keywords).eval()
        expected, macs = torch_macs(torch, lambda: module(q, k, v, need_weights=False)[0][0])
    except (RuntimeError, AssertionError):
        assert refused(text), text
        return
    params = sum(p.numel() for p in module.parameters())
    report = analyze(load_text(text))
    row = report.rows[-1]
    assert (row.output_shape, row.macs, row.params) == (tuple(expected.shape), macs, params), text
    from convcalc.io.torch_verify import build_module, verify

    assert verify(report) == [], text
    model = build_module(report, device="cpu").eval().requires_grad_(False)  # (FlopCounterMode tracks modules)
    model.out.load_state_dict(module.state_dict())
    with torch.no_grad():
        for name in ("k", "v"):
            if name in tensors:
                getattr(model, name).copy_(tensors[name])
    y, exported = torch_macs(torch, lambda: model(tensors["q"].unsqueeze(0).movedim(-1, 1)))
    assert exported == macs, text
    assert torch.allclose(y.movedim(1, -1)[0], expected, atol=1e-4, rtol=1e-4), text


@pytest.mark.torch
@SETTINGS
@given(st.lists(sizes, min_size=1, max_size=4), st.integers(-5, 4), st.sampled_from(["softmax", "logsoftmax"]))
def test_softmax_against_torch(shape: list[int], dim: int, kind: str) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.io.torch_verify import build_module, verify

    x = torch.randn(shape)
    text = f"name: case\ninput: {shape}\nlayers:\n  - {kind}: {{dim: {dim}}}\n"
    try:
        expected = getattr(torch, kind.replace("logsoftmax", "log_softmax"))(x, dim)
    except IndexError:
        assert refused(text), text
        return
    report = analyze(load_text(text))
    assert report.rows[0].output_shape == tuple(shape) and report.rows[0].flops == 3 * prod(shape)
    assert verify(report) == []
    model = build_module(report, device="cpu").eval().requires_grad_(False)  # (FlopCounterMode tracks modules)
    with torch.no_grad():
        y = model(x.unsqueeze(0).movedim(-1, 1) if len(shape) > 1 else x.unsqueeze(0))
    y = y.movedim(1, -1) if len(shape) > 1 else y
    assert torch.allclose(y[0], expected, atol=1e-5), text
