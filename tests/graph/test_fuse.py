"""Batch norm folding (--fuse): each bn after a conv, deconv or linear that feeds only it disappears and the layer
gets a bias; numbers by hand."""

from __future__ import annotations

import json

from convcalc.graph.analysis import analyze
from convcalc.graph.fuse import fuse_batchnorm
from tests.helpers import cli_ok, load_net, spec_file


def test_conv_bn_folds() -> None:
    """conv 3->8 3x3 no bias (216) + bn (16 params, 16 buffers) -> conv with bias (224), no bn."""
    network = load_net("input: 8x8x3\nlayers:\n  - conv: {out: 8, k: 3, bias: false, name: c}\n  - bn: {name: b}\n  - relu\n")
    fused = fuse_batchnorm(network)
    assert [node.op for node in fused.nodes] == ["conv", "relu"]
    assert fused.nodes[1].inputs == (0,)
    report = analyze(fused)
    assert (report.params, report.buffers) == (224, 0)
    assert analyze(network).params == 232


def test_shared_conv_output_is_not_folded() -> None:
    """A conv read by the bn and by an add keeps its bn: folding would change the add's input."""
    network = load_net("input: 8x8x4\nlayers:\n  - conv: {out: 4, k: 1, name: c}\n  - bn: {name: b}\n"
                       "  - add: {from: [b, c]}\n")  # fmt: skip
    assert fuse_batchnorm(network) == network


def test_bn_after_other_ops_and_outputs() -> None:
    """A bn after a relu stays; a folded bn that was the output leaves the conv as the output; deconv and linear fold."""
    network = load_net("input: 8x8x4\nlayers:\n  - relu\n  - bn\n  - deconv: {out: 4, k: 2, s: 2, bias: false}\n"
                       "  - bn\n  - global_avgpool\n  - linear: {out: 3}\n  - bn\n")  # fmt: skip
    fused = fuse_batchnorm(network)
    assert [node.op for node in fused.nodes] == ["relu", "bn", "deconv", "global_avgpool", "linear"]
    assert fused.nodes[2].args["bias"] is True
    # deconv 4*4*4 = 64 (+4 bias), linear 4*3 + 3 = 15; the first bn 8
    assert analyze(fused).params == 8 + 68 + 15


def test_fuse_flag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = spec_file(tmp_path, "input: 8x8x3\nlayers:\n  - conv: {out: 8, k: 3, bias: false}\n  - bn\n")
    total = json.loads(cli_ok("net", path, "--fuse", "--format", "json").stdout)["total"]
    assert total["params"] == 224


def test_nested_parallel_convs_merge() -> None:
    """RepVGG: a 3x3 (p 1) and a 1x1 (p 0) conv of one input, summed, are one 3x3 conv with a bias: 4 x 4 x 9 + 4;
    the 1x1 (16) and the add go. A 1x1 of 2 groups is not the same kind of conv: both stay."""
    text = ("input: 8x8x4\nlayers:\n  - conv: {out: 4, k: 3, p: 1, bias: false, name: a}\n  - bn\n"
            "  - conv: {out: 4, k: 1, p: PAD, bias: false, name: b, from: input}\n  - bn\n  - add: {from: [-3, -1]}\n"
            "  - relu\n")  # fmt: skip
    fused = fuse_batchnorm(load_net(text.replace("PAD", "0")))
    assert [node.op for node in fused.nodes] == ["conv", "relu"]
    assert analyze(fused).params == 4 * 4 * 9 + 4
    kept = fuse_batchnorm(load_net(text.replace("PAD", "0, g: 2")))
    assert [node.op for node in kept.nodes] == ["conv", "conv", "add", "relu"]


def test_unread_layers_go_unused_modules_stay() -> None:
    """A branch no output reads (its conv: 4 x 4 + 4) and a ``param`` nothing reads (10) count unfused and are
    dropped by --fuse, as Ultralytics' fuse() drops the one-to-one head and training-only layers; an ``unused:``
    module (100 params) stays."""
    network = load_net("input: 8x8x4\nunused:\n  aux: {params: 100}\nlayers:\n  - conv: {out: 4, k: 1, name: side}\n"
                       "  - param: {shape: [10], name: extra}\n  - relu: {from: input, name: main}\n")  # fmt: skip
    assert analyze(network).params == 4 * 4 + 4 + 10 + 100
    fused = fuse_batchnorm(network)
    assert [node.name for node in fused.nodes] == ["main"] and analyze(fused).params == 100
