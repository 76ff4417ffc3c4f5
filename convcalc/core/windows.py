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


def tap_classes(kernel: int, stride: int, dilation: int) -> list[tuple[int, int, int]]:
    """Taps j of a window, grouped by the residue of their offset j*d modulo s: within a class the offsets are
    r + s*(base + t*step) for t < count. Returns (residue r, base, count) with step = d / gcd(d, s);
    there are min(k, s / gcd(d, s)) classes, whatever the sizes."""
    from math import gcd

    period = stride // gcd(dilation, stride)  # taps j and j + period have the same residue
    classes = []
    for first in range(min(kernel, period)):
        offset = first * dilation
        classes.append((offset % stride, offset // stride, (kernel - 1 - first) // period + 1))
    return classes


def uncovered_inputs(n: int, w: Window, out: int) -> int:
    """How many of the n real input positions no window touches (strides or dilations that skip pixels).

    Tap j of window i reads padded position i*s + j*d. In a class of taps with the same residue r = j*d mod s,
    tap t covers the positions r + s*m for m in [base + t*step, base + t*step + out - 1]; the union of those
    intervals, clipped to the real input, is what is read. Exact, in O(min(k, s)) arithmetic steps."""
    from math import gcd

    step = w.dilation // gcd(w.dilation, w.stride)
    first_real, last_real = w.pad[0], w.pad[0] + n - 1
    touched = 0
    for residue, base, count in tap_classes(w.kernel, w.stride, w.dilation):
        low = -(-(first_real - residue) // w.stride)  # the real input as an m range
        high = (last_real - residue) // w.stride
        if low > high:
            continue
        if step <= out:  # the class's intervals overlap or touch: one interval
            touched += _overlap(base, base + (count - 1) * step + out - 1, low, high)
        else:  # disjoint intervals of length out, step apart
            touched += _disjoint_overlap(base, step, count, out, low, high)
    return n - touched


def _overlap(a: int, b: int, low: int, high: int) -> int:
    return max(0, min(b, high) - max(a, low) + 1)


def _disjoint_overlap(base: int, step: int, count: int, length: int, low: int, high: int) -> int:
    """Positions of [low, high] inside the intervals [base + t*step, base + t*step + length - 1], t < count."""
    first_full = max(0, -(-(low - base) // step))
    last_full = min(count - 1, (high - length + 1 - base) // step)
    full = max(0, last_full - first_full + 1)
    total = full * length
    partial = {t for t in ((low - base) // step, (high - base) // step) if 0 <= t < count}
    for t in partial:
        if not (first_full <= t <= last_full):
            total += _overlap(base + t * step, base + t * step + length - 1, low, high)
    return total


def deconv_field(kernel: int, stride: int, dilation: int) -> int:
    """Receptive field of one transposed-conv output in input positions: the largest span of inputs that reach
    one output, max over the tap classes (same j*d mod s) of (last tap - first tap) * d / s + 1."""
    from math import gcd

    step = dilation // gcd(dilation, stride)
    return max((count - 1) * step + 1 for _, _, count in tap_classes(kernel, stride, dilation))


def deconv_first_input(kernel: int, stride: int, dilation: int, pad_before: int) -> int:
    """Index of the first input position that reaches output 0 of a transposed conv (output o gathers the inputs
    i with o = i*s - p_before + j*d: the taps with j*d = p_before mod s, the last of them giving the smallest i)."""
    from math import gcd

    step = dilation // gcd(dilation, stride)
    for residue, base, count in tap_classes(kernel, stride, dilation):
        if residue == pad_before % stride:
            last_offset = residue + stride * (base + (count - 1) * step)
            return (pad_before - last_offset) // stride
    return -(-(pad_before - (kernel - 1) * dilation) // stride)  # no tap reaches output 0
