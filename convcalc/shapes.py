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
    """How many of the n real input positions no window touches (strides or dilations that skip pixels).

    Tap j of window i reads padded position i*s + j*d. Grouping taps by residue r = j*d mod s, each tap covers the
    positions r + m*s for m in an interval of length ``out``; the union of those intervals, clipped to the real
    input, is what is read. Exact, and O(k log k) whatever n is."""
    first_real, last_real = w.pad[0], w.pad[0] + n - 1
    by_residue: dict[int, list[tuple[int, int]]] = {}
    for tap in range(w.kernel):
        offset = tap * w.dilation
        residue, base = offset % w.stride, offset // w.stride
        by_residue.setdefault(residue, []).append((base, base + out - 1))
    touched = 0
    for residue, intervals in by_residue.items():
        low = -(-(first_real - residue) // w.stride)  # smallest m with r + m*s >= first real position
        high = (last_real - residue) // w.stride
        end = None
        for a, b in sorted(intervals):
            if end is not None and a <= end + 1:
                a = end + 1
            if a <= b:
                touched += max(0, min(b, high) - max(a, low) + 1)
                end = b if end is None else max(end, b)
    return n - touched


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
