"""Export a network spec to a self-contained PyTorch module (source code; only ``torch`` imported by it).

Generating the code needs no torch; running it does. Every layer becomes a submodule named as in the spec
(dotted names nest: ``layer1.0.conv1``), and ``forward`` follows the graph. Tensors are PyTorch's channels-first;
convcalc's shapes are channels-last, so a shape (H, W, C) here is (N, C, H, W) there.

Names are data, never code (:mod:`convcalc.io.torch_names` writes every name and value). The source is parsed and
compiled before it is returned.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Any

from convcalc import __version__
from convcalc.core.notation import format_shape
from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import Report, Row, analyze
from convcalc.graph.model import NETWORK_INPUT, Network
from convcalc.io.torch_names import (
    TAKEN_VARIABLES,
    accessor,
    attach,
    attach_parameter,
    class_name,
    docstring,
    identifier,
    literal,
    parameter_accessor,
    printable,
    submodule_paths,
)
from convcalc.ops.catalogue import ACTIVATIONS, CATALOGUE, SEVERAL_OUTPUTS, SOURCES, UNARY, op
from convcalc.ops.handlers import normalized_shape, reduced_axes

ACTIVATION_KWARGS = ("negative_slope", "alpha", "beta", "threshold", "min_val", "max_val", "approximate")
FORWARD_OPS = tuple(entry.name for entry in CATALOGUE if not entry.torch)  # written in ``forward``: no submodule
WINDOW_OPS = ("conv", "deconv", "maxpool", "avgpool")  # windows resolved by the analysis: kernel, stride, padding
CHANNELS_LAST_MODULES = ("linear", "layernorm", "rmsnorm")  # on the last axis: channels moved last around them
RANKED_OPS = (*(entry.name for entry in CATALOGUE if "{n}" in entry.torch and entry.name != "bn"), "upsample")  # 1-D to 3-D


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
    """The constructor of the node's module, or None for ops written in ``forward`` (add, mul, concat, crop)."""
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


MODULE_CODE: dict[str, Callable[[Row], str]] = {  # op -> its module's constructor source (every op with a module)
    **dict.fromkeys(WINDOW_OPS, window_module_code),
    "adaptive_avgpool": adaptive_code,
    "adaptive_maxpool": adaptive_code,
    "global_avgpool": global_pool_code,
    "global_maxpool": global_pool_code,
    "linear": linear_code,
    "flatten": lambda step: "nn.Flatten()",
    "bn": batch_norm_code,
    **dict.fromkeys(ACTIVATIONS, activation_code),
    "prelu": lambda step: f"nn.PReLU({args_text(step.node.args.get('num_parameters', 1))})",
    "softmax": lambda step: "nn.Softmax(dim=1)",
    "dropout": lambda step: f"nn.Dropout({literal(step.node.args.get('p', 0.5))})",
    "identity": lambda step: "nn.Identity()",
    "upsample": upsample_code,
    "pad": lambda step: f"nn.ConstantPad{_rank(step)}d({literal(_torch_pads(step.result.pads))}, 0.0)",
    "param": param_code,
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


def reduction_code(step: Row, inputs: list[str]) -> str:
    """``x.mean(dim=..., keepdim=...)`` and the like on PyTorch's dims; when the channel axis goes, PyTorch's last
    axis is convcalc's new channel axis: moved to dim 1."""
    args, shape, kind = step.node.args, step.input_shapes[0], step.node.op
    axes = reduced_axes(args["dims"], len(shape))
    dims = tuple(sorted(torch_dim(axis, len(shape)) for axis in axes))
    keep = args.get("keepdim", False)
    where = f"dim={literal(dims[0] if len(dims) == 1 else dims)}, keepdim={keep}"
    if kind == "norm":
        p = args.get("p", 2.0)
        order = literal(float(p) if isinstance(p, str) else p)
        code = f"torch.linalg.vector_norm({inputs[0]}, ord={order}, {where})"
    elif kind == "var":
        code = f"{inputs[0]}.var({where}, correction={literal(args.get('correction', 1))})"
    else:
        code = f"{inputs[0]}.{kind}({where})"
    if not keep and len(shape) - 1 in axes and len(step.result.output_shape) > 1:
        code += ".movedim(-1, 1)"
    return code


def concat_code(step: Row, inputs: list[str]) -> str:
    rank = len(step.input_shapes[0])
    return f"torch.cat([{', '.join(inputs)}], dim={torch_dim(step.node.args.get('dim', -1) % rank, rank)})"


def stack_code(step: Row, inputs: list[str]) -> str:
    """torch.stack on the new axis; a new last axis (after the channels) is dim 1, the channels then moved last."""
    rank = len(step.input_shapes[0]) + 1
    axis = step.node.args["dim"] % rank
    if axis == rank - 1:
        return f"torch.stack([{', '.join(inputs)}], dim=1).movedim(2, -1)"
    return f"torch.stack([{', '.join(inputs)}], dim={torch_dim(axis, rank)})"


def split_code(step: Row, inputs: list[str]) -> str:
    """torch.split with every piece's size as convcalc worked them out: a tuple, output k is ``name[k]``."""
    shape = step.input_shapes[0]
    axis = step.node.args.get("dim", -1) % len(shape)
    sizes = [piece[axis] for piece in step.result.shapes]
    return f"torch.split({inputs[0]}, {literal(sizes)}, dim={torch_dim(axis, len(shape))})"


def chunk_code(step: Row, inputs: list[str]) -> str:
    rank, chunks = len(step.input_shapes[0]), step.node.args["chunks"]
    return f"torch.chunk({inputs[0]}, {literal(chunks)}, dim={torch_dim(step.node.args.get('dim', -1) % rank, rank)})"


def merge_expression(step: Row, inputs: list[str]) -> str:
    """Ops written in ``forward`` itself: sums, products, concatenation, cropping by slicing."""
    return FORWARD_CODE[step.node.op](step, inputs)


def crop_code(step: Row, inputs: list[str]) -> str:
    slices = ", ".join(f"{lo}:{lo + out}" for (lo, _), out in zip(step.result.pads, step.result.output_shape[:-1]))
    return f"{inputs[0]}[:, :, {slices}]"


# -- pointwise math and learnable tensors (issue 11) ------------------------------------------------------------
BINARY_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def binary_code(step: Row, inputs: list[str]) -> str:
    """``a + b`` (``-``, ``*``, ``/``), then the constant (first with ``reverse``). convcalc broadcasts the
    batch-free, channels-last shapes from the last axis; in the channels-first module an input with fewer axes gets
    its missing leading axes as size-1 axes after the channels (``g[:, :, None, None]``), so PyTorch broadcasts the
    same axes."""
    rank = len(step.result.output_shape)
    operands = [
        name if len(shape) == rank else f"{name}[:, :{', None' * (rank - len(shape))}]"
        for name, shape in zip(inputs, step.input_shapes)
    ]
    args = step.node.args
    if "value" in args:
        operands.insert(0 if args.get("reverse") else len(operands), literal(args["value"]))
    return f" {BINARY_SYMBOLS[step.node.op]} ".join(operands)


def unary_code(step: Row, inputs: list[str]) -> str:
    """``torch.exp(a)`` and the like; ``torch.pow(a, exponent)``, ``torch.clamp(a, min=..., max=...)``."""
    op, args = step.node.op, step.node.args
    extra = {"pow": lambda: f", {literal(args['exponent'])}",
             "clamp": lambda: "".join(f", {key}={literal(args[key])}" for key in ("min", "max") if key in args)}  # fmt: skip
    return f"torch.{op}({inputs[0]}{extra[op]() if op in extra else ''})"


def param_expression(step: Row, parameter: str, network_input: str) -> str:
    """The param as every other tensor of ``forward``: channels first (``movedim(-1, 0)``) and the batch of the
    input (``expand``: a view, no copy), so that add, mul, concat, ... take it as they take a layer's output."""
    rank = len(step.result.output_shape)
    moved = f"{parameter}.movedim(-1, 0)" if rank > 1 else parameter
    return f"{moved}.expand({network_input}.shape[0], {', '.join(['-1'] * rank)})"


FORWARD_CODE: dict[str, Callable[[Row, list[str]], str]] = {  # op -> its expression in ``forward`` (no module)
    "concat": concat_code,
    "crop": crop_code,
    **dict.fromkeys(BINARY_SYMBOLS, lambda step, inputs: binary_code(step, inputs)),
    **dict.fromkeys((name for name, *_ in UNARY), lambda step, inputs: unary_code(step, inputs)),
    "stack": stack_code,
    "split": split_code,
    "chunk": chunk_code,
    **dict.fromkeys(("mean", "sum", "amax", "amin", "var", "norm"), reduction_code),
}


def module_names(source: Network | Report) -> dict[str, str]:
    """Spec layer name -> submodule path in the exported module, for every layer that is a submodule."""
    return submodule_paths([row.name for row in as_report(source).rows if row.op not in FORWARD_OPS])


def as_report(source: Network | Report) -> Report:
    """The analysis the exporter reads (its resolved padding, windows and shapes); a Network is analysed once."""
    return source if isinstance(source, Report) else analyze(source)


def init_lines(steps: Sequence[Row], codes: dict[int, str], paths: dict[str, str]) -> list[str]:
    """``__init__``'s body: containers (plain ``nn.Module()``) before the layers nested in them."""
    lines: list[str] = []
    containers: set[tuple[str, ...]] = set()
    for step in steps:
        if step.node.index not in codes:
            continue
        parts = tuple(paths[step.node.name].split("."))
        for depth in range(1, len(parts)):
            if parts[:depth] not in containers:
                containers.add(parts[:depth])
                lines.append(attach(parts[:depth], "nn.Module()"))
        lines.append((attach_parameter if step.node.op in SOURCES else attach)(parts, codes[step.node.index]))
    return lines


def forward_lines(steps: Sequence[Row], codes: dict[int, str], paths: dict[str, str]) -> list[str]:
    """``forward``'s body: one assignment per layer, then the return."""
    taken = set(TAKEN_VARIABLES)
    variables: dict[tuple[int, int], str] = {(NETWORK_INPUT, 0): "x"}  # (node, output) -> expression
    lines = []
    for step in steps:
        node = step.node
        inputs = [variables[source] for source in step.sources]
        target = identifier(node.name, taken)
        several = node.op in SEVERAL_OUTPUTS  # split, chunk: a tuple, output k is ``target[k]``
        variables.update({(node.index, k): f"{target}[{k}]" if several else target for k in range(len(step.result.shapes))})
        if node.index not in codes:
            expression = merge_expression(step, inputs)
        elif node.op in SOURCES:
            expression = param_expression(step, parameter_accessor(paths[node.name]), variables[NETWORK_INPUT, 0])
        elif node.op in CHANNELS_LAST_MODULES and len(step.input_shapes[0]) > 1:
            expression = f"{accessor(paths[node.name])}({inputs[0]}.movedim(1, -1)).movedim(-1, 1)"
        else:
            expression = f"{accessor(paths[node.name])}({inputs[0]})"
        lines.append(f"{target} = {expression}")
    last = variables[steps[-1].node.index, 0] if steps else "x"
    lines.append(f"return {last.split('[')[0]}")  # a split's tuple whole
    return lines


def module_codes(steps: Sequence[Row]) -> dict[int, str]:
    """Node index -> constructor source, for every node that is a submodule."""
    codes = {}
    for step in steps:
        try:
            code = module_code(step)
        except ConvCalcError as error:
            raise ConvCalcError(f"layer {step.node.name!r}: {error.message}", "to") from None
        if code is not None:
            codes[step.node.index] = code
    return codes


def header(network: Report, renamed: dict[str, str]) -> list[str]:
    """The module docstring's lines: where it comes from, the input, and how renamed layers appear."""
    channels_first = (network.input_shape[-1], *network.input_shape[:-1])
    lines = [
        f"{network.name}: generated by convcalc {__version__} from {network.file or 'a spec'}.",
        "",
        f"Input {format_shape(network.input_shape)} (channels last); in PyTorch: torch.randn(1, {', '.join(map(str, channels_first))}).",
    ]  # fmt: skip
    if renamed:
        lines += ["", "Layers whose spec name PyTorch cannot take as a submodule name are renamed; RENAMED maps",
                  "each spec name to its submodule path (the spec's dots nest submodules)."]  # fmt: skip
    return lines


def renamed_lines(renamed: dict[str, str]) -> list[str]:
    """``RENAMED = {spec name: submodule path}`` for the layers not named as in the spec."""
    if not renamed:
        return []
    return ["RENAMED = {", *(f"    {name!r}: {path!r}," for name, path in renamed.items()), "}", "", ""]


def export_torch(source: Network | Report) -> str:
    """Python source of an ``nn.Module`` equivalent to the spec, checked to compile; built from the analysis's rows
    (each with its node, input shapes and resolved layer), so nothing is recomputed here."""
    network = as_report(source)
    steps = network.rows
    codes = module_codes(steps)
    paths = submodule_paths([step.node.name for step in steps if step.node.index in codes])
    renamed = {name: path for name, path in paths.items() if name != path}
    channels_first = (network.input_shape[-1], *network.input_shape[:-1])
    name = class_name(network.name)
    lines = [
        docstring(header(network, renamed)),
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        *renamed_lines(renamed),
        f"class {name}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(f"        {line}" for line in init_lines(steps, codes, paths)),
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *(f"        {line}" for line in forward_lines(steps, codes, paths)),
        "",
        "",
        f"INPUT_SHAPE = (1, {', '.join(map(str, channels_first))})",
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {name}()",
        "    print(model(torch.randn(*INPUT_SHAPE)).shape)",
        "",
    ]
    return checked("\n".join(lines))


def checked(source: str) -> str:
    """The source, once it parses and compiles; else one ConvCalcError (a bug in the exporter, never the spec's)."""
    try:
        compile(ast.parse(source), "<convcalc export>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        reason = printable(f"{error.__class__.__name__}: {error}")
        raise ConvCalcError(f"the exported module does not compile ({reason}); please report this bug", None) from None
    return source
