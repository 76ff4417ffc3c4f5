"""Output sizes of sliding windows, one spatial dimension at a time, exactly as PyTorch computes them.

All functions take one dimension's integers; the layer code maps them over the dimensions.
Padding is a pair ``(before, after)`` so asymmetric padding (TensorFlow's SAME, ``nn.ZeroPad2d``) is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.errors import ShapeError

Pad = tuple[int, int]


@dataclass(frozen=True)
class Window:
    """One dimension of a sliding window: kernel k, stride s, dilation d, padding (before, after)."""

    kernel: int
    stride: int
    dilation: int
    pad: Pad

    @property
    def span(self) -> int:
        """Effective kernel: d(k-1) + 1 input positions from the first tap to the last."""
        return self.dilation * (self.kernel - 1) + 1

    def padded(self, n: int) -> int:
        return n + self.pad[0] + self.pad[1]


def conv_length(n: int, w: Window, dim: str = "") -> int:
    """out = floor((n + p_before + p_after - d(k-1) - 1)/s) + 1; the padded input must hold one window."""
    if w.padded(n) < w.span:
        raise ShapeError(f"{dim}{_kernel_words(w)} is larger than the padded input {w.padded(n)}", "k")
    return (w.padded(n) - w.span) // w.stride + 1


def _kernel_words(w: Window) -> str:
    return f"kernel {w.kernel}" if w.dilation == 1 else f"effective kernel {w.span} (k={w.kernel}, d={w.dilation})"


def pool_length(n: int, w: Window, ceil_mode: bool, dim: str = "") -> int:
    """PyTorch's pooling size: like a conv, with ``ceil_mode`` rounding up, but the last window must start
    inside the input or the left padding: if (out-1)s >= n + p_before, drop it."""
    extra = w.stride - 1 if ceil_mode else 0
    out = (w.padded(n) - w.span + extra) // w.stride + 1
    if ceil_mode and (out - 1) * w.stride >= n + w.pad[0]:
        out -= 1
    if out < 1:
        raise ShapeError(f"{dim}{_kernel_words(w)} is larger than the padded input {w.padded(n)}", "k")
    return out


def deconv_length(n: int, w: Window, output_padding: int, dim: str = "") -> int:
    """Transposed conv: out = (n-1)s - p_before - p_after + d(k-1) + output_padding + 1."""
    out = (n - 1) * w.stride - w.pad[0] - w.pad[1] + w.span - 1 + output_padding + 1
    if out < 1:
        raise ShapeError(f"{dim}output size {out} is too small: the padding removes every output position", "p")
    return out


def same_padding(n: int, kernel: int, stride: int, dilation: int) -> Pad:
    """TensorFlow's SAME: out = ceil(n/s), total padding max((out-1)s + d(k-1) + 1 - n, 0),
    split evenly with the odd pixel at the end. At stride 1 this equals PyTorch's ``padding='same'``."""
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def uncovered_inputs(n: int, w: Window, out: int) -> int:
    """How many of the n real input positions no window touches (strides or dilations that skip pixels)."""
    length = max(w.padded(n), (out - 1) * w.stride + w.span)  # ceil mode: the last window may overhang
    if length > 50_000_000:  # too long to mark: count what the last window leaves at the end
        last = (out - 1) * w.stride + w.span
        return max(0, w.padded(n) - last - w.pad[1])
    touched = bytearray(length)
    count = (out - 1) * w.stride + 1
    for tap in range(w.kernel):
        start = tap * w.dilation
        touched[start : start + count : w.stride] = b"\x01" * len(range(start, start + count, w.stride))
    return touched[w.pad[0] : w.pad[0] + n].count(0)


def deconv_field(kernel: int, stride: int, dilation: int) -> int:
    """Receptive field of one transposed-conv output in input positions: the largest span of inputs
    that reach one output, max over the s phases of ((last tap - first tap) * d / s) + 1."""
    best = 1
    for phase in range(stride):
        taps = [j for j in range(kernel) if (j * dilation) % stride == phase]
        if taps:
            best = max(best, (taps[-1] - taps[0]) * dilation // stride + 1)
    return best


def deconv_first_input(kernel: int, stride: int, dilation: int, pad_before: int) -> int:
    """Index of the first input position that reaches output 0 of a transposed conv
    (output o gathers inputs i with o = i*s - p_before + j*d)."""
    hits = [(pad_before - j * dilation) // stride for j in range(kernel) if (pad_before - j * dilation) % stride == 0]
    return min(hits) if hits else -(-(pad_before - (kernel - 1) * dilation) // stride)
