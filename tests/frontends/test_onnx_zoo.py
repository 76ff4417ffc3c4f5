"""Every bundled example exported by PyTorch to ONNX (opset 17, eval mode) reads back with the spec's output shape,
receptive fields, MACs and params, the params as PyTorch's exporter leaves them: it folds each BatchNorm that follows
a Conv into it (as ``--fuse`` does) but keeps one that follows a ConvTranspose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from convcalc.check.expectations import largest_field
from convcalc.graph.analysis import Report, analyze
from convcalc.specfile.loader import load
from convcalc.zoo import bundled, names

pytestmark = [pytest.mark.torch, pytest.mark.onnx]
pytest.importorskip("onnx")


def channel_shuffle_view(torch: Any) -> type:
    """nn.ChannelShuffle as view, transpose, reshape (ShuffleNet's original form), which PyTorch can export."""

    class ChannelShuffleView(torch.nn.Module):
        def __init__(self, groups: int) -> None:
            super().__init__()
            self.groups = groups

        def forward(self, x: Any) -> Any:
            n, c, h, w = x.shape
            return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)

    return ChannelShuffleView


def export_onnx(torch: Any, spec: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The spec's module (``convcalc export``) built on the CPU and exported as PyTorch's TorchScript exporter does."""
    code = subprocess.run([sys.executable, "-m", "convcalc", "export", spec], capture_output=True, text=True, check=True).stdout
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), namespace)  # the code convcalc writes from a bundled spec: trusted
    module = next(value for value in reversed(list(namespace.values()))
                  if isinstance(value, type) and issubclass(value, torch.nn.Module) and value.__module__ == "exported")  # fmt: skip
    model = module().eval()
    shuffle = channel_shuffle_view(torch)
    for path, child in list(model.named_modules()):
        if isinstance(child, torch.nn.ChannelShuffle):
            parent, _, leaf = path.rpartition(".")
            setattr(model.get_submodule(parent), leaf, shuffle(child.groups))
    # PyTorch's exporter mistranslates movedim with a negative axis (it indexes a list with the -1 when it merges
    # transposes and folds shapes: perms like [1, 33, 0], reshapes to [197, 33]); the same call, axes counted up
    movedim = torch.Tensor.movedim

    def movedim_counted_up(self: Any, source: Any, destination: Any) -> Any:
        def up(axes: Any) -> Any:
            return axes % self.dim() if isinstance(axes, int) else [axis % self.dim() for axis in axes]

        return movedim(self, up(source), up(destination))

    monkeypatch.setattr(torch.Tensor, "movedim", movedim_counted_up)
    path = folder / (Path(spec).stem + ".onnx")
    torch.onnx.export(model, (torch.randn(*namespace["INPUT_SHAPE"]),), str(path), opset_version=17, dynamo=False)
    return str(path)


def exported_params(report: Report) -> int:
    """The params of the spec once PyTorch's exporter (eval mode) folds each BatchNorm that is the only reader of a
    Conv (not a ConvTranspose) into it: the BatchNorm's 2C gone, the conv's bias (C) made if it had none."""
    readers: dict[int, int] = {}
    for row in report.rows:
        for source, _ in row.sources:
            readers[source] = readers.get(source, 0) + 1
    params = report.params
    for row in report.rows:
        if row.op != "bn" or len(row.sources) != 1:
            continue
        conv = report.rows[row.sources[0][0]] if row.sources[0][0] >= 0 else None
        if conv is None or conv.op != "conv" or readers[conv.index] != 1:
            continue
        channels = row.output_shape[-1]
        params -= row.params - (0 if conv.spec.bias else channels)
    return params


@pytest.mark.parametrize("name", names())
def test_example_reads_back_from_onnx(torch: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from convcalc.frontends.sources import load_network

    source = bundled(name)
    assert source is not None
    spec = load(source)
    path = export_onnx(torch, source, tmp_path, monkeypatch)
    read = analyze(load_network(path, 10**6))
    want = analyze(spec)
    assert read.output_shape == want.output_shape
    assert read.macs == want.macs
    assert largest_field(read) == largest_field(want)
    assert read.rows[-1].field == want.rows[-1].field or (read.rows[-1].field and read.rows[-1].field.whole)
    assert read.params == exported_params(want)


def test_the_exporter_keeps_batchnorm_after_a_transposed_conv(torch: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the expectation is not ``--fuse``'s for DCGAN: BatchNormalization stays after each ConvTranspose."""
    onnx = pytest.importorskip("onnx")
    source = bundled("dcgan_generator")
    assert source is not None
    model = onnx.load(export_onnx(torch, source, tmp_path, monkeypatch), load_external_data=False)
    ops = [node.op_type for node in model.graph.node if node.op_type in ("ConvTranspose", "BatchNormalization")]
    assert ops.count("BatchNormalization") == 4 and ops[:2] == ["ConvTranspose", "BatchNormalization"]
    try:
        from convcalc.graph.fuse import fuse_batchnorm
    except ImportError:
        pytest.skip("convcalc.graph.fuse (--fuse) is not there yet")
    spec = load(source)
    fused = analyze(fuse_batchnorm(spec)).params
    assert exported_params(analyze(spec)) - fused == 512 + 256 + 128 + 64  # per BatchNorm 2C kept, no bias C made


def test_index_select_reads_back_from_onnx(torch: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spec whose tokens and channels are reordered by ``index_select``, exported by PyTorch (list indexing is a
    Gather) and read back: the same output shape and MACs, and an index_select for each reordering."""
    from convcalc.frontends.sources import load_network

    spec = tmp_path / "picked.yaml"
    spec.write_text(
        "name: picked\ninput: 4x4x3\nlayers:\n"
        "  - conv: {out: 8, k: 3, p: 1}\n"
        "  - flatten: {start: 0, end: 1}\n"
        "  - index_select: {index: [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15], dim: 0}\n"
        "  - index_select: {index: [7, 0, 3], dim: -1}\n"
        "  - linear: {out: 5}\n"
    )
    read = analyze(load_network(export_onnx(torch, str(spec), tmp_path, monkeypatch), 10**6))
    want = analyze(load(str(spec)))
    assert (read.output_shape, read.macs, read.params) == (want.output_shape, want.macs, want.params)
    assert [row.node.args["index"] for row in read.rows if row.op == "index_select"] == [
        [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15], [7, 0, 3]]
