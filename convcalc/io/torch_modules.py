"""The exported module's submodules: ``MODULE_CODE`` maps every op with a PyTorch module to its constructor's source
(conv and pooling from the analysis's resolved windows and padding, norms, activations, upsampling, params, the
layout modules); ``module_code`` picks one or says the op is written in ``forward`` (``FORWARD_OPS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import Row
from convcalc.io.torch_names import literal
from convcalc.ops.catalogue import ACTIVATIONS, CATALOGUE, op
from convcalc.ops.handlers import normalized_shape

ACTIVATION_KWARGS = ("negative_slope", "alpha", "beta", "threshold", "min_val", "max_val", "approximate")


FORWARD_OPS = tuple(entry.name for entry in CATALOGUE if not entry.torch)  # written in ``forward``: no submodule


WINDOW_OPS = ("conv", "deconv", "maxpool", "avgpool")  # windows resolved by the analysis: kernel, stride, padding


RANKED_OPS = (*(entry.name for entry in CATALOGUE if "{n}" in entry.torch and entry.name not in ("bn", "pad")), "upsample")  # 1-D to 3-D


def args_text(*positional: Any, **keywords: Any) -> str:
    items = [literal(value) for value in positional] + [f"{key}={literal(value)}" for key, value in keywords.items()]
    return ", ".join(items)


def _torch_pads(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """PyTorch's pad order: last dimension first, (before, after) each."""
    return tuple(value for pair in reversed(pads) for value in pair)


def _windows(step: Row) -> tuple[Any, ...]:
    assert step.result.layer is not None and step.result.layer.spec is not None
    return step.result.layer.spec.windows  # type: ignore[union-attr]


def module_code(step: Row) -> str | None:
    """The constructor of the node's module, or None for ops written in ``forward`` (add, mul, concat, crop, a
    computed constant)."""
    op = step.node.op
    if op in FORWARD_OPS:
        return None
    rank = len(step.input_shapes[0]) - 1 if step.input_shapes else 0  # a param has no input
    if op in RANKED_OPS and not 1 <= rank <= 3:
        raise ConvCalcError(f"PyTorch has no {rank}-D {op}", "in")
    if op not in MODULE_CODE:
        raise ConvCalcError(f"cannot export op {op!r} to PyTorch", None)
    return MODULE_CODE[op](step)


def _rank(step: Row) -> int:
    return len(step.input_shapes[0]) - 1


def adaptive_code(step: Row) -> str:
    size = tuple(step.result.output_shape[:-1])
    return f"nn.{op(step.node.op).torch_class(_rank(step))}({literal(size[0] if len(set(size)) == 1 else size)})"


def global_pool_code(step: Row) -> str:
    return f"nn.Sequential(nn.{op(step.node.op).torch_class(_rank(step))}(1), nn.Flatten())"


def linear_code(step: Row) -> str:
    args = step.node.args
    return f"nn.Linear({args_text(step.input_shapes[0][-1], args['out'], **({} if args.get('bias', True) else {'bias': False}))})"


def batch_norm_code(step: Row) -> str:
    keywords = {key: step.node.args[key] for key in ("eps", "momentum", "affine", "track_running_stats") if key in step.node.args}
    return f"nn.BatchNorm{max(_rank(step), 1)}d({args_text(step.input_shapes[0][-1], **keywords)})"


def activation_code(step: Row) -> str:
    keywords = {key: step.node.args[key] for key in ACTIVATION_KWARGS if key in step.node.args}
    return f"nn.{op(step.node.op).torch}({args_text(**keywords)})"


def upsample_code(step: Row) -> str:
    shape, result = step.input_shapes[0], step.result
    scale = tuple(o // i for o, i in zip(result.output_shape[:-1], shape[:-1]))
    keywords = {"scale_factor": scale[0] if len(set(scale)) == 1 else scale, "mode": step.node.args.get("mode", "nearest")}
    return f"nn.Upsample({args_text(**keywords)})"


def blocks_code(step: Row, module: str) -> str:
    """nn.Unfold / nn.Fold: channels-first (N, C x kh x kw, L) is convcalc's (L, C x kh x kw) as it stands."""
    args = step.node.args
    keywords = {name: args[key] for key, name in (("d", "dilation"), ("p", "padding"), ("s", "stride")) if key in args}
    size = (args["size"],) if module == "Fold" else ()
    return f"nn.{module}({args_text(*size, args['k'], **keywords)})"


def window_module_code(step: Row) -> str:
    """The module of a conv, transposed conv, max or average pooling, from its resolved windows; uneven padding
    becomes an explicit ``ConstantPadNd`` before it (PyTorch pads both sides alike)."""
    node, result = step.node, step.result
    args, shape = node.args, step.input_shapes[0]
    rank = len(shape) - 1
    op = node.op
    windows = _windows(step)
    kernel = tuple(w.kernel for w in windows)
    stride = tuple(w.stride for w in windows)
    dilation = tuple(w.dilation for w in windows)
    pads = tuple(w.pad for w in windows)
    symmetric = all(a == b for a, b in pads)
    padding = tuple(a for a, _ in pads) if symmetric else (0,) * rank
    keywords: dict[str, Any] = {"kernel_size": kernel}
    if op in ("maxpool", "avgpool") or any(s != 1 for s in stride):
        keywords["stride"] = stride
    if any(padding):
        keywords["padding"] = padding
    if op in ("conv", "deconv"):
        if any(d > 1 for d in dilation):
            keywords["dilation"] = dilation
        if args.get("g", 1) > 1:
            keywords["groups"] = args["g"]
        extra = step.result.layer.spec.output_padding if op == "deconv" else ()  # type: ignore[union-attr]
        if any(extra):
            keywords["output_padding"] = extra
        if not args.get("bias", True):
            keywords["bias"] = False
        name = f"Conv{rank}d" if op == "conv" else f"ConvTranspose{rank}d"
        code = f"nn.{name}({args_text(shape[-1], result.output_shape[-1], **keywords)})"
    else:
        if op == "maxpool" and any(d > 1 for d in dilation):
            keywords["dilation"] = dilation
        if args.get("ceil"):
            keywords["ceil_mode"] = True
        if op == "avgpool" and args.get("count_include_pad") is False:
            keywords["count_include_pad"] = False
        code = f"nn.{'MaxPool' if op == 'maxpool' else 'AvgPool'}{rank}d({args_text(**keywords)})"
    if not symmetric and op == "deconv":
        raise ConvCalcError(f"PyTorch's ConvTranspose pads both sides alike; cannot export padding {list(pads)}", "to")
    if not symmetric:
        fill = "float('-inf')" if op == "maxpool" else "0.0"
        code = f"nn.Sequential(nn.ConstantPad{rank}d({literal(_torch_pads(pads))}, {fill}), {code})"
    return code


def param_code(step: Row) -> str:
    """A learnable tensor of the param's batch-free, channels-last shape (zeros: only its size matters here)."""
    return f"nn.Parameter(torch.zeros({', '.join(map(str, step.result.output_shape))}))"


def constant_code(step: Row) -> str | None:
    """A registered buffer of the constant's shape (zeros), channels-last like a param; None for a constant computed
    in forward (``buffer: false``: written there, :mod:`convcalc.io.torch_forward`)."""
    if not step.node.args.get("buffer", True):
        return None
    return f"torch.zeros({', '.join(map(str, step.result.output_shape))})"


MODULE_CODE: dict[str, Callable[[Row], str | None]] = {  # op -> its module's constructor source (every op with a module)
    **dict.fromkeys(WINDOW_OPS, window_module_code),
    "adaptive_avgpool": adaptive_code,
    "adaptive_maxpool": adaptive_code,
    "global_avgpool": global_pool_code,
    "global_maxpool": global_pool_code,
    "linear": linear_code,
    "bn": batch_norm_code,
    **dict.fromkeys(ACTIVATIONS, activation_code),
    "prelu": lambda step: f"nn.PReLU({args_text(step.node.args.get('num_parameters', 1))})",
    "softmax": lambda step: softmax_code(step, "Softmax"),
    "logsoftmax": lambda step: softmax_code(step, "LogSoftmax"),
    "mha": lambda step: mha_code(step),
    "dropout": lambda step: f"nn.Dropout({literal(step.node.args.get('p', 0.5))})",
    "identity": lambda step: "nn.Identity()",
    "upsample": upsample_code,
    "unfold": lambda step: blocks_code(step, "Unfold"),
    "fold": lambda step: blocks_code(step, "Fold"),
    "param": param_code,
    "constant": constant_code,
    "layernorm": lambda step: norm_code(step, "LayerNorm", ("eps", "elementwise_affine", "bias")),
    "rmsnorm": lambda step: norm_code(step, "RMSNorm", ("eps", "elementwise_affine")),
    "groupnorm": lambda step: norm_code(step, "GroupNorm", ("eps", "affine", "bias")),
    "instancenorm": lambda step: norm_code(step, "InstanceNorm", ("eps", "momentum", "affine", "track_running_stats", "bias")),
    "lrn": lambda step: norm_code(step, "LocalResponseNorm", ("alpha", "beta", "k")),
}


def norm_code(step: Row, module: str, keys: tuple[str, ...]) -> str:
    """layernorm, rmsnorm (their normalised shape: the input's last axes, channels last, as the forward moves the
    channels last around them), groupnorm, instancenorm, lrn."""
    args, shape = step.node.args, step.input_shapes[0]
    keywords = {key: args[key] for key in keys if key in args and not (key == "bias" and args[key] is True)}
    positional: tuple[Any, ...] = {
        "LayerNorm": lambda: (list(normalized_shape(args, shape)),),
        "RMSNorm": lambda: (list(normalized_shape(args, shape)),),
        "GroupNorm": lambda: (args["groups"], shape[-1]),
        "InstanceNorm": lambda: (shape[-1],),
        "LocalResponseNorm": lambda: (args["size"],),
    }[module]()
    name = f"InstanceNorm{_rank(step)}d" if module == "InstanceNorm" else module
    return f"nn.{name}({args_text(*positional, **keywords)})"


def torch_dim(axis: int, rank: int) -> int:
    """convcalc's logical axis 0..rank-1 (channels last) as PyTorch's dim of the channels-first (N, C, ...) tensor."""
    return 1 if axis == rank - 1 else axis + 2


def softmax_code(step: Row, module: str) -> str:
    rank = len(step.input_shapes[0])
    return f"nn.{module}(dim={torch_dim(step.node.args.get('dim', -1) % rank, rank)})"


def mha_code(step: Row) -> str:
    args = step.node.args
    keywords = {key: args[key] for key in ("kdim", "vdim", "dropout") if key in args}
    keywords |= {key: False for key in ("bias",) if args.get(key) is False}
    keywords |= {key: True for key in ("add_bias_kv", "add_zero_attn") if args.get(key)}
    return f"nn.MultiheadAttention({args_text(step.input_shapes[0][-1], args['heads'], batch_first=True, **keywords)})"


def _flatten_wrapped(step: Row) -> bool:
    """A flatten or unflatten that involves the channel axis works on the channels-last view."""
    n, args = len(step.input_shapes[0]), step.node.args
    if step.node.op == "unflatten":
        return args["dim"] % n == n - 1
    start, end = args.get("start", 0) % n, args.get("end", -1) % n
    return end == n - 1 and start > 0


def flatten_module(step: Row) -> str:
    n, args = len(step.input_shapes[0]), step.node.args
    start, end = args.get("start", 0) % n, args.get("end", -1) % n
    if start == 0 and end == n - 1:
        return "nn.Flatten()"
    offset = 1 if _flatten_wrapped(step) else 2
    return f"nn.Flatten({start + offset}, {end + offset})"


def unflatten_module(step: Row) -> str:
    n = len(step.input_shapes[0])
    axis = step.node.args["dim"] % n
    sizes = step.result.output_shape[axis : axis + len(step.result.output_shape) - n + 1]
    return f"nn.Unflatten({axis + 1 if _flatten_wrapped(step) else axis + 2}, {literal(tuple(sizes))})"


def pad_module(step: Row) -> str:
    """The padding module of the mode, ``m`` d: PyTorch pads the last m dims (channels first), last dim first."""
    from convcalc.ops.handlers.layout import PAD_MODULES, pad_mode, padded_torch_dims

    shape, pads, mode = step.input_shapes[0], step.result.pads, pad_mode(step.node.args)
    n = len(shape)
    padded = [axis for axis, pair in enumerate(pads) if any(pair)] or [n - 2 if n > 1 else 0]
    m = padded_torch_dims(padded, n, mode)
    logical = [n - 1 if d == 1 else d - 2 for d in range(n, n - m, -1)]
    torch_pads = tuple(value for axis in logical for value in pads[axis])
    if mode == "constant":
        return f"nn.ConstantPad{m}d({literal(torch_pads)}, {literal(float(step.node.args.get('value', 0.0)))})"
    return f"nn.{PAD_MODULES[mode]}{m}d({literal(torch_pads)})"


MODULE_CODE |= {
    "flatten": flatten_module,
    "unflatten": unflatten_module,
    "channel_shuffle": lambda step: f"nn.ChannelShuffle({literal(step.node.args['groups'])})",
    "pixel_shuffle": lambda step: f"nn.PixelShuffle({literal(step.node.args['r'])})",
    "pixel_unshuffle": lambda step: f"nn.PixelUnshuffle({literal(step.node.args['r'])})",
    "pad": pad_module,
}
