"""Weight ops whose weight is not a parameter of their own: a fixed filter registered as a buffer (timm's
``BlurPool2d``, anti-aliased downsampling), a constant, or a parameter an earlier layer already counts (a module
called twice: CoaT's shared position encodings). convcalc's ``conv`` and ``linear`` count their weights as params,
so such a call is written as the same arithmetic on a ``constant`` operand (no params):

- a 2-D convolution is ``unfold`` (im2col: ``(L, C*kh*kw)``), a ``reshape`` to ``(L, g, C/g*kh*kw)``, an ``einsum``
  ``lgk,gok->lgo`` with the weight as ``(g, O/g, C/g*kh*kw)`` and a ``reshape`` to the output grid: MACs
  ``L * O * C/g * kh * kw``, the conv's own; a bias is an ``add`` of a constant of the output's shape per channel;
- a linear is a ``matmul`` by the weight transposed, ``(in, out)``, then the bias added likewise.

The weight is a ``constant`` layer: ``buffer: true`` for a registered buffer (its elements counted once as buffers),
``buffer: false`` for a constant or a parameter counted elsewhere. Other rank or a transposed conv is refused in
one line. Pure standard library.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from convcalc.frontends.torch_aten_layout import one_or_list, set_unless_default
from convcalc.frontends.torch_layout import channels_first, natural
from convcalc.frontends.torch_values import Param, Tensor

if TYPE_CHECKING:
    from convcalc.frontends.torch_builder import Builder


def own_weight(b: Builder, weight: Param) -> Param | None:
    """The parameter a weight op counts as its weight; None when the weight is not its own to count (a buffer, a
    constant, a parameter some layer already counts, a part of a parameter table). A weight computed from one
    parameter alone, of its size (timm's ``StdConv2d``: the weight standardised), is that parameter."""
    if weight.kind == "gathered" and weight.numel == prod(weight.shape) and weight.fqn not in b.counted:
        return Param(weight.fqn, weight.shape, transposed=weight.transposed)
    if weight.kind == "param" and weight.fqn not in b.counted:
        return weight
    return None


def weight_constant(b: Builder, weight: Param, shape: tuple[int, ...]) -> Tensor:
    """The weight as a ``constant`` operand of logical ``shape`` (a registered buffer counted once as buffers; a
    table it is gathered from counted once as params)."""
    if weight.kind == "gathered" and weight.source is not None and weight.fqn not in b.counted:
        b.param_tensor(Param(weight.fqn, weight.source), tuple(weight.source))
    if weight.kind == "buffer":
        first = b.constant_tensor(weight)
        return b.emit(b.node, "reshape", {"shape": list(shape)}, [first.ref], shape, natural(shape, None), main=False)
    return b.emit(b.node, "constant", {"shape": list(shape), "buffer": False}, [], shape, natural(shape, None),
                  main=False)


def add_bias(b: Builder, node: Any, out: Tensor, bias: Any, channel_dim: int) -> Tensor:
    """``out + bias`` with the bias along physical dim ``channel_dim``: a constant of the output's shape (no params:
    the bias belongs to the layer that counts the weight, or is a buffer)."""
    if bias is None:
        return out
    size = out.shape[channel_dim]
    view = Param(getattr(bias, "fqn", "bias"), (size,) + (1,) * (len(out.shape) - channel_dim - 1), "constant")
    return b.binary(node, "add", [out, view], out.shape)


def borrowed_conv(b: Builder, node: Any, x: Any, weight: Param, bias: Any, stride: Any, padding: Any,
                  dilation: Any, groups: int, transposed_: bool = False) -> Tensor:
    """A 2-D convolution by a weight that is not its own: unfold, einsum with the weight, reshape (module doc)."""
    if len(weight.shape) != 4 or isinstance(padding, str) or transposed_:
        what = {"buffer": "a buffer", "constant": "a constant"}.get(weight.kind, "counted by an earlier call: a "
                                                                             "module called twice")
        b.fail(f"a conv whose weight {weight.fqn} is not its own ({what}) has no convcalc op but as a 2-D conv "
               "with numeric padding")
    out_channels, per_group, kh, kw = weight.shape
    x = b.tensor(x)
    x = b.conform(x, channels_first(len(x.shape)))
    if x.shape[0] != 1:
        b.fail("a conv over windows or heads merged into the batch dim has no convcalc op")
    out_shape = b.out_shape(node)
    positions, taps = out_shape[2] * out_shape[3], per_group * kh * kw
    args: dict[str, Any] = {"k": one_or_list([kh, kw])}
    set_unless_default(args, "s", one_or_list(list(stride)), 1)
    set_unless_default(args, "p", one_or_list(list(padding) * (2 if len(padding) == 1 else 1)), 0)
    set_unless_default(args, "d", one_or_list(list(dilation)), 1)
    shape = (1, positions, x.shape[1] * kh * kw)
    columns = b.emit(node, "unfold", args, [x.ref], shape, natural(shape), main=False)
    shape = (1, positions, groups, taps)
    columns = b.emit(node, "reshape", {"shape": list(shape[1:])}, [columns.ref], shape, natural(shape), main=False)
    kernel = weight_constant(b, weight, (groups, out_channels // groups, taps))
    shape = (1, positions, groups, out_channels // groups)
    product = b.emit(node, "einsum", {"equation": "lgk,gok->lgo"}, [columns.ref, kernel.ref], shape, natural(shape))
    layout = channels_first(4)
    out = b.emit(node, "reshape", {"shape": list(layout.logical(out_shape))}, [product.ref], out_shape, layout,
                 main=False)
    return add_bias(b, node, out, bias, 1)


def borrowed_linear(b: Builder, node: Any, x: Any, weight: Param, bias: Any) -> Tensor:
    """A linear by a weight that is not its own: ``matmul`` by the weight transposed, ``(in, out)``, then the bias."""
    if len(weight.shape) != 2:
        b.fail(f"a linear whose weight {weight.fqn} is not 2-D has no convcalc op")
    x = b.tensor(x)
    x = b.conform(x, natural(x.shape, x.layout.batch))
    out_shape = b.out_shape(node)
    kernel = weight_constant(b, weight, (weight.shape[1], weight.shape[0]))
    out = b.emit(node, "matmul", {}, [x.ref, kernel.ref], out_shape, natural(out_shape, x.layout.batch))
    return add_bias(b, node, out, bias, len(out_shape) - 1)
