"""Parameter, MAC and FLOP counts of one layer, per sample (the caller multiplies by the batch).

Conventions (convcalc's own; see the README's "Counting conventions"):
- MACs are multiply-accumulates of the weights; bias is excluded.
- A conv is counted per output position: output elements * (C_in/g) * prod(k).
- A transposed conv is counted per *input* position: input elements * (C_out/g) * prod(k)
  (every input value is multiplied by every tap of its group's kernels, whatever lands in the padding).
- FLOPs = 2 * MACs, plus one add per output element when there is a bias.
- Max pooling: prod(k) - 1 comparisons per output element; average pooling: prod(k) - 1 adds and one divide.
"""

from __future__ import annotations

from math import prod


def conv_params(kernel: tuple[int, ...], c_in: int, c_out: int, groups: int, bias: bool) -> int:
    """prod(k) * (C_in/g) * C_out weights, + C_out biases."""
    return prod(kernel) * (c_in // groups) * c_out + (c_out if bias else 0)


def conv_macs(out_spatial: tuple[int, ...], c_in: int, c_out: int, groups: int, kernel: tuple[int, ...]) -> int:
    """Per output element (prod(out) * C_out of them): one MAC per tap, (C_in/g) * prod(k)."""
    return prod(out_spatial) * c_out * (c_in // groups) * prod(kernel)


def deconv_params(kernel: tuple[int, ...], c_in: int, c_out: int, groups: int, bias: bool) -> int:
    """prod(k) * C_in * (C_out/g) weights, + C_out biases (PyTorch's ConvTranspose weight is C_in x C_out/g x k)."""
    return prod(kernel) * c_in * (c_out // groups) + (c_out if bias else 0)


def deconv_macs(in_spatial: tuple[int, ...], c_in: int, c_out: int, groups: int, kernel: tuple[int, ...]) -> int:
    """Per input element (prod(in) * C_in of them): scattered into (C_out/g) * prod(k) outputs."""
    return prod(in_spatial) * c_in * (c_out // groups) * prod(kernel)


def linear_params(features_in: int, features_out: int, bias: bool) -> int:
    """in * out weights, + out biases."""
    return features_in * features_out + (features_out if bias else 0)


def linear_macs(rows: int, features_in: int, features_out: int) -> int:
    """rows * in * out: a linear layer on a (…, in) tensor applies to every row of its leading dimensions."""
    return rows * features_in * features_out


def weight_flops(macs: int, out_elements: int, bias: bool) -> int:
    """2 FLOPs (multiply, add) per MAC, + one add per output element for the bias."""
    return 2 * macs + (out_elements if bias else 0)


def maxpool_flops(kernel: tuple[int, ...], out_elements: int) -> int:
    """prod(k) - 1 comparisons per output element."""
    return (prod(kernel) - 1) * out_elements


def avgpool_flops(kernel: tuple[int, ...], out_elements: int) -> int:
    """prod(k) - 1 adds and one divide per output element."""
    return prod(kernel) * out_elements
