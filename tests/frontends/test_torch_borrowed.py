"""Weight ops whose weight is not their own (convcalc.frontends.torch_borrowed): a blur filter registered as a buffer,
a weight standardised in forward, a module called twice; each checked against PyTorch itself: params =
sum(p.numel() for p in model.parameters()), buffers, MACs = FlopCounterMode / 2, the output shape."""

from __future__ import annotations

import pytest

from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import to_spec_data
from convcalc.graph.analysis import Report, analyze
from convcalc.specfile.loader import build

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def captured(model: object, shape: tuple[int, ...]) -> Report:
    from convcalc.frontends.torch_capture import capture

    return analyze(build(to_spec_data(capture(model, shape, "model")), "model.yaml", 10**6))


def assert_exact(model: object, shape: tuple[int, ...], grid: bool = True) -> Report:
    """The capture's params, buffers, MACs and output shape equal PyTorch's (eval mode, batch 1; ``grid``: an
    (N, C, H, W) output, channels last in convcalc; else tokens as they are)."""
    from torch.utils.flop_counter import FlopCounterMode

    report = captured(model, shape)
    model.eval()  # type: ignore[attr-defined]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        output = model(torch.randn(1, shape[-1], *shape[:-1]))  # type: ignore[operator]
    assert report.params == sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]
    assert report.buffers == sum(b.numel() for b in model.buffers())  # type: ignore[attr-defined]
    assert report.macs == counter.get_total_flops() // 2
    assert report.output_shape == ((*output.shape[2:], output.shape[1]) if grid else tuple(output.shape[1:]))
    return report


class Blur(nn.Module):
    """timm's BlurPool2d: a fixed [1, 2, 1] x [1, 2, 1] / 16 filter registered as a buffer, reflect padding, a
    depthwise conv of stride 2 by ``F.conv2d``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        row = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("filt", (row[:, None] * row[None, :] / 16).expand(channels, 1, 3, 3).contiguous())
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), "reflect"), self.filt, stride=2, groups=self.channels)


def test_a_conv_by_a_buffer_filter_counts_no_params_and_the_filter_as_buffers() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), Blur(8), nn.Conv2d(8, 4, 1))
    report = assert_exact(model, (16, 16, 3))
    assert report.buffers == 8 * 9  # by hand: the filter's elements
    assert report.params == 3 * 8 * 9 + 8 + 8 * 4 + 4
    assert report.macs == 16 * 16 * 8 * 27 + 8 * 8 * 8 * 9 + 8 * 8 * 4 * 8  # conv, blur (depthwise 3x3), 1x1 conv


class ScaledStdConv(nn.Conv2d):
    """The NF-nets' ScaledStdConv2d: the weight standardised per output channel in forward, times a gain."""

    def __init__(self, cin: int, cout: int, k: int, gain: bool = True) -> None:
        super().__init__(cin, cout, k, padding=k // 2)
        self.gain = nn.Parameter(torch.ones(cout, 1, 1, 1)) if gain else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None,
                              weight=None if self.gain is None else self.gain.view(-1), training=True, momentum=0.0,
                              eps=1e-6).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding)


@pytest.mark.parametrize("gain", [True, False])
def test_a_standardised_weight_counts_the_weight_and_the_gain_once(gain: bool) -> None:
    model = nn.Sequential(ScaledStdConv(3, 8, 3, gain), nn.ReLU(), ScaledStdConv(8, 4, 1, gain))
    report = assert_exact(model, (12, 12, 3))
    assert report.params == 3 * 8 * 9 + 8 + 8 * 4 + 4 + (8 + 4 if gain else 0)


class Twice(nn.Module):
    """One conv and one linear, each called twice (CoaT's shared position encodings): counted once."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.pos(x) + x
        x = self.pos(x) + x
        tokens = x.flatten(2).transpose(1, 2)
        return self.fc(self.fc(tokens))


def test_a_module_called_twice_counts_its_params_once_and_its_macs_twice() -> None:
    report = assert_exact(Twice(), (6, 6, 3), grid=False)
    assert report.params == 3 * 8 * 9 + 8 + 8 * 9 + 8 + 8 * 8 + 8
    assert report.macs == 36 * (8 * 27 + 2 * 8 * 9 + 2 * 8 * 8)


class TransposedTwice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.up(x))


def test_a_transposed_conv_called_twice_is_refused_in_one_line() -> None:
    with pytest.raises(ConvCalcError) as caught:
        captured(TransposedTwice(), (4, 4, 4))
    message = str(caught.value)
    assert "\n" not in message
    assert "aten.conv_transpose2d" in message or "aten.convolution" in message
    assert "module 'up'" in message and "up.weight is not its own" in message and "called twice" in message


class Tied(nn.Module):
    """A conv's bias read again as an operand after the conv (tied weights): counted once, by the conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.conv.bias.view(1, -1, 1, 1)


def test_a_parameter_read_again_after_its_layer_is_counted_once() -> None:
    report = assert_exact(Tied(), (5, 5, 3))
    assert report.params == 4 * 27 + 4
