"""CLI tests of ``convcalc solve``: the table, JSON checked against the forward formula written here, per-dimension
targets, --same, --limit, and every error as one line naming its flag (exit 2)."""

from __future__ import annotations

import json

import pytest
from helpers import cli_ok, conv_out, usage_error

KEYS = {"dimensions", "input", "k", "s", "p", "d", "output_padding", "ceil", "output", "receptive_field",
        "covers_all", "uncovered"}  # fmt: skip


def solutions(*args: str) -> list[dict]:
    data = json.loads(cli_ok("solve", *args, "--format", "json").stdout)
    assert isinstance(data, list)
    for entry in data:
        assert set(entry) >= KEYS, entry
        assert isinstance(entry["k"], int) and isinstance(entry["covers_all"], bool)
        assert entry["covers_all"] == (entry["uncovered"] == 0)
    return data


def test_table_224_to_112():
    lines = cli_ok("solve", "--in", "224", "--out", "112").stdout.splitlines()
    assert lines[0].startswith("conv 224 -> 112: ") and "the best 20 shown (--limit 0 shows all)" in lines[0]
    assert lines[1].split() == ["k", "s", "p", "d", "output", "field", "covers", "all"]
    assert lines[2].split() == ["2", "2", "0", "1", "112", "2", "yes"]
    assert lines[3].split() == ["3", "2", "1", "1", "112", "3", "yes"]
    assert len(lines) == 22 and all(len(line) <= 80 for line in lines)


def test_json_solutions_give_the_output():
    data = solutions("--in", "224", "--out", "112", "--limit", "0")
    pairs = {(e["k"], e["s"], tuple(e["p"]), e["d"]) for e in data}
    assert {(3, 2, (1, 1), 1), (7, 2, (3, 3), 1), (2, 2, (0, 0), 1)} <= pairs
    for e in data:
        before, after = e["p"]
        assert (224 + before + after - e["d"] * (e["k"] - 1) - 1) // e["s"] + 1 == e["output"] == 112
        assert e["receptive_field"] == e["d"] * (e["k"] - 1) + 1
        assert e["dimensions"] == ["L"] and e["input"] == 224 and e["output_padding"] is None and e["ceil"] is None
    assert len(solutions("--in", "224", "--out", "112")) == 20  # the default --limit


def test_fixed_values_and_limit():
    data = solutions("--in", "224", "--out", "112", "--k", "3", "--s", "2", "--limit", "0")
    assert {(e["k"], e["s"]) for e in data} == {(3, 2)}
    assert all(conv_out(224, 3, 2, e["p"][0], e["d"]) == 112 for e in data if e["p"][0] == e["p"][1])
    assert len(solutions("--in", "224", "--out", "112", "--limit", "3")) == 3
    assert solutions("--in", "224", "--out", "112", "--p", "1", "--d", "1", "--limit", "0")[0]["k"] == 3


def test_per_dimension_targets():
    data = solutions("--in", "640x640", "--out", "320x160", "--k", "3", "--limit", "0")
    by_dim = {tuple(e["dimensions"]) for e in data}
    assert by_dim == {("H",), ("W",)}
    assert {e["output"] for e in data if e["dimensions"] == ["W"]} == {160}
    text = cli_ok("solve", "--in", "640x640", "--out", "320x160", "--k", "3").stdout
    assert "H: conv 640 -> 320" in text and "W: conv 640 -> 160" in text
    assert {tuple(e["dimensions"]) for e in solutions("--in", "640x640", "--out", "320")} == {("H", "W")}


def test_deconv_and_pooling():
    deconv = solutions("--in", "112", "--out", "224", "--op", "deconv", "--limit", "0")
    assert {"k": 4, "s": 2, "p": [1, 1], "d": 1, "output_padding": 0} in [
        {key: e[key] for key in ("k", "s", "p", "d", "output_padding")} for e in deconv
    ]
    for e in deconv:  # (n-1)s - 2p + d(k-1) + output_padding + 1
        assert 111 * e["s"] - 2 * e["p"][0] + e["d"] * (e["k"] - 1) + e["output_padding"] + 1 == 224
    pool = solutions("--in", "112", "--out", "56", "--op", "maxpool", "--limit", "0")
    assert any((e["k"], e["s"], e["p"], e["ceil"]) == (3, 2, [1, 1], False) for e in pool)
    assert any((e["k"], e["s"], e["p"], e["ceil"]) == (3, 2, [0, 0], True) for e in pool)
    header = cli_ok("solve", "--in", "112", "--out", "56", "--op", "avgpool").stdout.splitlines()[1].split()
    assert header == ["k", "s", "p", "ceil", "output", "field", "covers", "all"]


def test_same():
    data = solutions("--in", "224", "--same", "--k", "3", "--s", "2")
    assert {tuple(e["p"]): e["rule"] for e in data} == {(1, 1): ["PyTorch padding=1"], (0, 1): ["TensorFlow SAME"]}
    text = cli_ok("solve", "--in", "32", "--same", "--k", "4").stdout
    assert "PyTorch padding='same'; TF SAME" in text and "odd" in text
    assert all(len(line) <= 80 for line in text.splitlines())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--in", "224", "--out", "200", "--k", "3", "--s", "2", "--d", "1"], "--out: no conv within the search bounds "
         "(k = 3, s = 2, padding per side <= d(k-1), d = 1) takes 224 to 200; the nearest size it reaches is 113"),
        (["--in", "224", "--out", "500"], "--out: no conv within the search bounds (k <= 11, s <= 4, padding per side "
         "<= d(k-1), d <= 3) takes 224 to 500; the nearest size it reaches is 254; to upsample use --op deconv"),
        (["--in", "224"], "--out: is required (or --same for the padding that keeps the size)"),
        (["--in", "0", "--out", "1"], "--in: must be >= 1, got '0'"),
        (["--in", "64x64", "--out", "1x2x3"], "--out: has 3 values but --in has 2"),
        (["--in", "64", "--out", "32", "--k", "0"], "--k: must be >= 1, got '0'"),
        (["--in", "64", "--out", "32", "--p", "-1"], "--p: must be >= 0, got '-1'"),
        (["--in", "64", "--out", "32", "--k", "a"], "--k: expected a value such as 3 or 3x5, got 'a'"),
        (["--in", "64", "--out", "32", "--op", "avgpool", "--d", "2"],
         "--d: avgpool has no dilation (PyTorch's AvgPool takes none), got 2"),
        (["--in", "64", "--same"], "--k: --same needs the kernel size"),
        (["--in", "64", "--same", "--k", "3", "--out", "64"], "--out: --same keeps the size (ceil(n/s) with --s): leave --out out"),
        (["--in", "64", "--same", "--k", "3", "--op", "maxpool"], "--same: works for --op conv only, got maxpool"),
        (["--in", "64", "--out", "32", "--k", "3", "--k", "5"], "--k: given twice; give each option once"),
    ],
)
def test_errors_are_one_line(args, message):
    assert usage_error("solve", *args) == f"convcalc: error: {message}"


def test_usage_errors_of_choices():
    assert "--op" in usage_error("solve", "--in", "64", "--out", "32", "--op", "linear")
    assert "--limit" in usage_error("solve", "--in", "64", "--out", "32", "--limit", "-1")
