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
