"""Buffers and computed constants read as tensors by the PyTorch importer (convcalc.frontends.torch_builder): each case
a small module, checked exact against PyTorch (params = sum(p.numel()), MACs = FlopCounterMode / 2, output shapes)
and for the ``constant`` layers it writes (a registered buffer counted once, as ``model.buffers()`` counts it)."""

from __future__ import annotations

import pytest

from tests.frontends.test_torch_capture import assert_exact, capture

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
nn = torch.nn


def constants(model: object, shape: tuple[int, ...]) -> dict[str, dict[str, object]]:
    """The ``constant`` layers of the captured model: name -> arguments."""
    flat, _ = capture(model, shape)
    return {layer.name: dict(layer.args) for layer in flat.layers if layer.op == "constant"}


class PositionBiasMlp(nn.Module):
    """Swin V2's continuous position bias: an MLP of a coordinate table buffer (run every forward), gathered by a
    buffer of indices, added to the attention scores; the table read twice."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("table", torch.rand(1, 5, 5, 2))
        self.register_buffer("index", torch.randint(0, 25, (9 * 9,)))
        self.mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2, bias=False))
        self.other = nn.Linear(2, 8)
        self.qkv = nn.Linear(8, 24)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)  # (1, 9, 8)
        q, k, v = self.qkv(tokens).reshape(1, 9, 3, 2, 4).permute(2, 0, 3, 1, 4)
        bias = self.mlp(self.table).view(-1, 2)[self.index].view(9, 9, 2).permute(2, 0, 1)
        scores = (q @ k.transpose(-2, -1)) + 16 * torch.sigmoid(bias).unsqueeze(0)
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(1, 9, 8)
        return out + self.other(self.table).view(1, 25, 8)[:, :9]


def test_a_buffer_read_by_a_linear_is_one_constant_layer_counted_once() -> None:
    assert_exact(PositionBiasMlp(), (3, 3, 8), layout="tokens")
    found = constants(PositionBiasMlp(), (3, 3, 8))
    assert found == {"table": {"shape": [5, 5, 2]}}  # buffer: true (the default), read by mlp.0 and by other
    _, report = capture(PositionBiasMlp(), (3, 3, 8))
    assert report.buffers == 5 * 5 * 2


class ComputedBias(nn.Module):
    """BEiT's qkv bias: cat(q_bias, a zeros buffer, v_bias) as the bias of F.linear."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(8))
        self.register_buffer("k_bias", torch.zeros(8), persistent=False)
        self.v_bias = nn.Parameter(torch.zeros(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = torch.cat((self.q_bias, self.k_bias, self.v_bias))
        return nn.functional.linear(x.flatten(2).transpose(1, 2), self.qkv.weight, bias)


def test_a_bias_computed_from_parameters_and_a_buffer_counts_each_parameter_once() -> None:
    report = assert_exact(ComputedBias(), (4, 4, 8), layout="tokens")
    assert report.params == 8 * 24 + 8 + 8
    flat, _ = capture(ComputedBias(), (4, 4, 8))
    ops = {layer.name: layer.op for layer in flat.layers}
    assert ops["q_bias"] == ops["v_bias"] == "param" and ops["k_bias"] == "constant"
    assert ops["qkv"] == "linear"


class FourierPositions(nn.Module):
    """EdgeNeXt's position encoding: a grid from arange, sines and cosines stacked, through a 1x1 conv (which
    FlopCounterMode counts every forward), added to the features."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Conv2d(4, 6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        ys = torch.arange(h, dtype=torch.float32).view(1, h, 1).expand(1, h, w)
        xs = torch.arange(w, dtype=torch.float32).view(1, 1, w).expand(1, h, w)
        grid = torch.stack((ys.sin(), ys.cos(), xs.sin(), xs.cos()), dim=1)  # (1, 4, h, w)
        return x + self.proj(grid)


def test_a_constant_computed_from_literals_is_a_constant_layer_and_its_conv_counts() -> None:
    report = assert_exact(FourierPositions(), (5, 7, 6))
    assert report.macs == 5 * 7 * 4 * 6
    found = constants(FourierPositions(), (5, 7, 6))
    assert list(found.values()) == [{"shape": [4, 5, 7], "buffer": False}]  # in PyTorch's order: the conv permutes
    assert report.buffers == 0


class ResizeMatrix(nn.Module):
    """A fixed matrix that widens the result of a product (timm's BilinearAttnTransform: an identity resize)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("resize", torch.rand(4, 3))
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x).unsqueeze(-1) * torch.eye(2).view(1, 1, 1, 2, 2)  # (1, 4, 2, 2, 2): widened
        return y.flatten(3) @ self.resize  # (1, 4, 2, 4) x (4, 3)


def test_constants_that_widen_a_product_or_feed_a_matmul_are_layers() -> None:
    assert_exact(ResizeMatrix(), (2, 2, 4), layout="tokens")
    found = constants(ResizeMatrix(), (2, 2, 4))
    assert any(args.get("buffer") is False for args in found.values())
