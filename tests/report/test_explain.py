"""Step-by-step arithmetic of one layer (convcalc.report.explain): each formula, then the user's numbers."""

from __future__ import annotations

import re

from convcalc import avgpool, conv, deconv, linear, maxpool
from convcalc.report.explain import explain


def lines_of(result) -> list[str]:
    return [line.strip() for line in explain(result)]


def test_explain_seed_conv_textbook_substitution():
    lines = lines_of(conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2))
    assert lines[0] == "conv: input 640x640x3 -> output 642x320x5"
    assert "Output size: out = floor((n + 2p - d(k-1) - 1)/s) + 1" in lines
    assert "H_out = floor((640 + 2*2 - 3)/1) + 1 = 642" in lines
    assert "W_out = floor((640 + 2*2 - 5)/2) + 1 = floor(639/2) + 1 = 320" in lines
    assert f"params = 3*5*3*5 + 5 = {3 * 5 * 3 * 5 + 5:,}" in lines
    assert f"MACs = 642*320*5 * 3*3*5 = {642 * 320 * 5 * 3 * 3 * 5:,}" in lines
    macs = 642 * 320 * 5 * 3 * 3 * 5
    assert f"FLOPs = 2*{macs:,} + {642 * 320 * 5:,} = {2 * macs + 642 * 320 * 5:,}" in lines
    assert "H: 1*(3-1) + 1 = 3, jump 1" in lines
    assert "W: 1*(5-1) + 1 = 5, jump 2" in lines


def test_explain_shows_the_numbers_it_claims():
    # every "a = ... = v" line ends in the value the result holds
    r = conv("640x640x3", out=5, k=(3, 5), s=(1, 2), p=2)
    text = "\n".join(explain(r))
    assert "= 642\n" in text and "= 320\n" in text
    assert f"= {r.params:,}" in text and f"= {r.macs:,}" in text and f"= {r.flops:,}" in text


def test_explain_batch_and_bias_adds():
    lines = lines_of(conv("16x16x1", out=16, k=3, batch=100))
    assert f"MACs = 14*14*16 * 1*3*3 * 100 (batch) = {14 * 14 * 16 * 9 * 100:,}" in lines
    assert f"FLOPs = 2*{2_822_400:,} + {313_600:,} = {2 * 2_822_400 + 313_600:,}" in lines


def test_explain_no_bias():
    lines = lines_of(conv("8x8x4", out=2, k=3, bias=False))
    assert f"params = 3*3*4*2 = {3 * 3 * 4 * 2}" in lines
    assert f"FLOPs = 2*{6 * 6 * 2 * 4 * 9:,} = {2 * 6 * 6 * 2 * 4 * 9:,}" in lines


def test_explain_grouped_conv():
    lines = lines_of(conv("32x32x64", out=128, k=3, p=1, g=4))
    assert f"params = 3*3*(64/4)*128 + 128 = {3 * 3 * 16 * 128 + 128:,}" in lines
    assert f"MACs = 32*32*128 * 16*3*3 = {32 * 32 * 128 * 16 * 9:,}" in lines


def test_explain_dilation_and_asymmetric_padding():
    lines = lines_of(conv("9x1", k=3, d=2, p=[(0, 1)]))
    assert f"L_out = floor((9 + 0 + 1 - 2*(3-1) - 1)/1) + 1 = floor({9 + 1 - 5}/1) + 1 = {9 + 1 - 5 + 1}" in lines
    assert "L: 2*(3-1) + 1 = 5, jump 1" in lines


def test_explain_ceil_mode_pool_drop():
    lines = lines_of(maxpool("5x1", k=2, s=2, p=1, ceil=True))
    assert "Output size: out = ceil((n + 2p - d(k-1) - 1)/s) + 1" in lines
    step = next(line for line in lines if line.startswith("L_out"))
    assert step.startswith("L_out = ceil((5 + 2*1 - 2)/2) + 1 = ceil(5/2) + 1 = 4")
    assert step.endswith("the last window would start at 6 >= 5 + 1, so 3")
    assert f"FLOPs = (2 - 1) * 3 = {(2 - 1) * 3}" in lines


def test_explain_avgpool():
    lines = lines_of(avgpool("28x28x6", k=2))
    assert "H_out = floor((28 - 2)/2) + 1 = floor(26/2) + 1 = 14" in lines
    assert f"FLOPs = 2*2 * {14 * 14 * 6:,} = {4 * 14 * 14 * 6:,}" in lines
    assert "Parameters: 0 (pooling has no weights); MACs: 0" in lines


def test_explain_deconv():
    lines = lines_of(deconv((4, 4, 8), out=3, k=4, s=2, p=1))
    assert "Output size: out = (n-1)*s - 2p + d(k-1) + output_padding + 1" in lines
    assert "H_out = (4-1)*2 - 2*1 + 1*(4-1) + 0 + 1 = 8" in lines
    assert f"params = 4*4*8*3 + 3 = {4 * 4 * 8 * 3 + 3}" in lines
    assert f"MACs = 4*4*8 * 3*4*4 = {4 * 4 * 8 * 3 * 4 * 4:,}" in lines
    assert "H: 2 input positions, jump 1/2" in lines


def test_explain_linear():
    lines = lines_of(linear(784, out=256))
    assert f"params = 784*256 + 256 = {784 * 256 + 256:,}" in lines
    assert f"MACs = 784*256 = {784 * 256:,}" in lines
    lines = lines_of(linear("10x784", out=256, batch=2))
    assert f"MACs = 10 * 784*256 * 2 (batch) = {10 * 784 * 256 * 2:,}" in lines


def test_explain_leaves_warnings_to_stderr():
    lines = lines_of(conv("10x1", k=1, s=2))
    assert not any("no window" in line for line in lines)


def test_explain_numbers_match_result_for_many_layers():
    results = [
        conv("224x224x3", out=64, k=7, s=2, p=3),
        conv("16x112x112x3", out=64, k=(3, 7, 7), s=(1, 2, 2), p=(1, 3, 3)),
        deconv("5x5x8", out=8, k=3, s=2, p=1, output_padding=1),
        maxpool("9x9x3", k=3, s=4, ceil=True),
        avgpool("100x16", k=4),
        linear("4x5x6", out=3),
    ]
    for r in results:
        text = "\n".join(explain(r))
        assert f"= {r.flops:,}" in text
        if r.op in ("conv", "deconv", "linear"):
            assert f"= {r.params:,}" in text and f"= {r.macs:,}" in text
        outs = re.findall(r"_out = .* = (\d+)(?:;.*, so (\d+))?$", text, flags=re.MULTILINE)
        if r.op != "linear":
            assert [int(b or a) for a, b in outs] == list(r.output_shape[:-1])
