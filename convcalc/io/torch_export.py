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
from convcalc.ops.handlers import LETTERS, normalized_shape, parse_einsum, reduced_axes

ACTIVATION_KWARGS = ("negative_slope", "alpha", "beta", "threshold", "min_val", "max_val", "approximate")
FORWARD_OPS = tuple(entry.name for entry in CATALOGUE if not entry.torch)  # written in ``forward``: no submodule
WINDOW_OPS = ("conv", "deconv", "maxpool", "avgpool")  # windows resolved by the analysis: kernel, stride, padding
CHANNELS_LAST_MODULES = ("linear", "layernorm", "rmsnorm")  # on the last axis: channels moved last around them
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
    "bn": batch_norm_code,
    **dict.fromkeys(ACTIVATIONS, activation_code),
    "prelu": lambda step: f"nn.PReLU({args_text(step.node.args.get('num_parameters', 1))})",
    "softmax": lambda step: softmax_code(step, "Softmax"),
    "logsoftmax": lambda step: softmax_code(step, "LogSoftmax"),
    "mha": lambda step: mha_code(step),
    "dropout": lambda step: f"nn.Dropout({literal(step.node.args.get('p', 0.5))})",
    "identity": lambda step: "nn.Identity()",
    "upsample": upsample_code,
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
    "matmul": lambda step, inputs: matmul_code(step, inputs),
    "einsum": lambda step, inputs: einsum_code(step, inputs),
    "attention": lambda step, inputs: attention_code(step, inputs),
}


# -- linear algebra and attention (issue 11) ---------------------------------------------------------------------
# The forward's tensors are channels first; these ops work channels last (as convcalc's axes): each input is moved
# (``movedim(1, -1)``), given its missing leading axes as size-1 axes after the batch (convcalc broadcasts the
# batch-free shapes), and the result moved back.


def channels_last_operand(name: str, shape: tuple[int, ...], rank: int) -> str:
    moved = f"{name}.movedim(1, -1)" if len(shape) > 1 else name
    missing = rank - len(shape)
    return f"{moved}[:{', None' * missing}]" if missing > 0 else moved


def channels_first_result(code: str, rank: int) -> str:
    return f"{code}.movedim(-1, 1)" if rank > 1 else code


def softmax_code(step: Row, module: str) -> str:
    rank = len(step.input_shapes[0])
    return f"nn.{module}(dim={torch_dim(step.node.args.get('dim', -1) % rank, rank)})"


def matmul_code(step: Row, inputs: list[str]) -> str:
    rank = len(step.result.output_shape)
    a, b = (channels_last_operand(name, shape, rank) for name, shape in zip(inputs, step.input_shapes))
    return channels_first_result(f"torch.matmul({a}, {b})", rank)


def einsum_code(step: Row, inputs: list[str]) -> str:
    """torch.einsum with a batch letter in front of every operand (one PyTorch does not use in the equation)."""
    operands, out, _ = parse_einsum(step.node.args["equation"], list(step.input_shapes))
    batch = next(letter for letter in "ZYXWVUTSRQPONMLKJIHGFEDCBA" + LETTERS if letter not in "".join(operands) + out)
    equation = ",".join(batch + word for word in operands) + "->" + batch + out
    moved = ", ".join(channels_last_operand(name, shape, len(shape)) for name, shape in zip(inputs, step.input_shapes))
    return channels_first_result(f"torch.einsum({literal(equation)}, {moved})", len(out))


def attention_code(step: Row, inputs: list[str]) -> str:
    """F.scaled_dot_product_attention on (N, ..., L, E); ``heads`` split from the features before, joined after."""
    args, shapes = step.node.args, step.input_shapes
    rank = len(step.result.output_shape)
    q, k, v = (channels_last_operand(name, shape, rank) for name, shape in zip(inputs[:3], shapes[:3]))
    if "heads" in args:
        q, k, v = (f"{x}.unflatten(-1, ({args['heads']}, -1)).transpose(-3, -2)" for x in (q, k, v))
    keywords = ""
    if len(inputs) == 4:
        keywords += f", attn_mask={channels_last_operand(inputs[3], shapes[3], rank + ('heads' in args))}"
    if args.get("causal"):
        keywords += ", is_causal=True"
    if "scale" in args:
        keywords += f", scale={literal(args['scale'])}"
    code = f"nn.functional.scaled_dot_product_attention({q}, {k}, {v}{keywords})"
    if "heads" in args:
        code += ".transpose(-3, -2).flatten(-2)"
    return channels_first_result(code, rank)


def mha_code(step: Row) -> str:
    args = step.node.args
    keywords = {key: args[key] for key in ("kdim", "vdim", "dropout") if key in args}
    keywords |= {key: False for key in ("bias",) if args.get(key) is False}
    keywords |= {key: True for key in ("add_bias_kv", "add_zero_attn") if args.get(key)}
    return f"nn.MultiheadAttention({args_text(step.input_shapes[0][-1], args['heads'], batch_first=True, **keywords)})"


def mha_call(step: Row, module: str, inputs: list[str]) -> str:
    """The module on (N, L, E) tensors, its output without the attention weights (``need_weights=False``, as
    torchvision's ViT calls it); self-attention passes one tensor three times (PyTorch's packed projection)."""
    moved = [channels_last_operand(name, shape, 2) for name, shape in zip(inputs, step.input_shapes)]
    operands = f"*[{moved[0]}] * 3" if len(moved) == 1 else f"{moved[0]}, *[{moved[1]}] * 2" if len(moved) == 2 else ", ".join(moved)
    return channels_first_result(f"{module}({operands}, need_weights=False)[0]", 2)


CALL_CODE: dict[str, Callable[[Row, str, list[str]], str]] = {"mha": mha_call}  # modules called in their own way


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
        elif node.op in CALL_CODE:  # a module called with several inputs or keywords (mha)
            expression = CALL_CODE[node.op](step, accessor(paths[node.name]), inputs)
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


# -- layout ops (issue 11) ---------------------------------------------------------------------------------------
# convcalc's axes are channels last; the module's tensors channels first. Ops that move or regroup axes are written
# on the channels-last view (``movedim(1, -1)``, batch first: logical axis a is its dim a + 1) and moved back;
# slicing, rolling, padding and the shuffles use PyTorch's own dims (``torch_dim``).


def _channels_last(step: Row, inputs: list[str]) -> str:
    return channels_last_operand(inputs[0], step.input_shapes[0], len(step.input_shapes[0]))


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


def flatten_call(step: Row, module: str, inputs: list[str]) -> str:
    if not _flatten_wrapped(step):
        return f"{module}({inputs[0]})"
    return channels_first_result(f"{module}({_channels_last(step, inputs)})", len(step.result.output_shape))


def pad_module(step: Row) -> str:
    """The padding module of the mode, ``m`` d: PyTorch pads the last m dims (channels first), last dim first."""
    from convcalc.ops.handlers import PAD_MODULES, pad_mode, padded_torch_dims

    shape, pads, mode = step.input_shapes[0], step.result.pads, pad_mode(step.node.args)
    n = len(shape)
    padded = [axis for axis, pair in enumerate(pads) if any(pair)] or [n - 2 if n > 1 else 0]
    m = padded_torch_dims(padded, n, mode)
    logical = [n - 1 if d == 1 else d - 2 for d in range(n, n - m, -1)]
    torch_pads = tuple(value for axis in logical for value in pads[axis])
    if mode == "constant":
        return f"nn.ConstantPad{m}d({literal(torch_pads)}, {literal(float(step.node.args.get('value', 0.0)))})"
    return f"nn.{PAD_MODULES[mode]}{m}d({literal(torch_pads)})"


def permute_code(step: Row, inputs: list[str]) -> str:
    from convcalc.ops.handlers import permutation

    n = len(step.input_shapes[0])
    perm = permutation(step.node.op, step.node.args, n)
    if perm == list(range(n)):
        return inputs[0]
    return channels_first_result(f"{_channels_last(step, inputs)}.permute(0, {', '.join(str(a + 1) for a in perm)})", n)


def reshape_code(step: Row, inputs: list[str]) -> str:
    """reshape, squeeze, unsqueeze: the channels-last view reshaped to the output's shape (batch first)."""
    out = step.result.output_shape
    return channels_first_result(f"{_channels_last(step, inputs)}.reshape({inputs[0]}.shape[0], {', '.join(map(str, out))})", len(out))


def expand_code(step: Row, inputs: list[str]) -> str:
    shape, out = step.input_shapes[0], step.result.output_shape
    ones = (1,) * (len(out) - len(shape)) + tuple(shape)
    code = f"{_channels_last(step, inputs)}.reshape({inputs[0]}.shape[0], {', '.join(map(str, ones))}).expand(-1, {', '.join(map(str, out))})"
    return channels_first_result(code, len(out))


def slice_code(step: Row, inputs: list[str]) -> str:
    from convcalc.ops.handlers import slice_range

    shape, args = step.input_shapes[0], step.node.args
    axis = args.get("dim", -1) % len(shape)
    start, stop, stride = slice_range(args, shape[axis])
    return f"{inputs[0]}[{':, ' * torch_dim(axis, len(shape))}{start}:{stop}:{stride}]"


def roll_code(step: Row, inputs: list[str]) -> str:
    from convcalc.ops.handlers import roll_shifts

    shape = step.input_shapes[0]
    pairs = roll_shifts(step.node.args, shape)
    if pairs[0][0] is None:  # the flattened (batch-free, channels-last) tensor
        code = f"{_channels_last(step, inputs)}.flatten(1).roll({pairs[0][1]}, 1).reshape({inputs[0]}.shape[0], {', '.join(map(str, shape))})"
        return channels_first_result(code, len(shape))
    shifts = tuple(shift for _, shift in pairs)
    dims = tuple(torch_dim(axis, len(shape)) for axis, _ in pairs)  # type: ignore[arg-type]
    return f"torch.roll({inputs[0]}, shifts={literal(shifts)}, dims={literal(dims)})"


MODULE_CODE |= {
    "flatten": flatten_module,
    "unflatten": unflatten_module,
    "channel_shuffle": lambda step: f"nn.ChannelShuffle({literal(step.node.args['groups'])})",
    "pixel_shuffle": lambda step: f"nn.PixelShuffle({literal(step.node.args['r'])})",
    "pixel_unshuffle": lambda step: f"nn.PixelUnshuffle({literal(step.node.args['r'])})",
    "pad": pad_module,
}
FORWARD_CODE |= {
    **dict.fromkeys(("permute", "transpose", "movedim"), permute_code),
    **dict.fromkeys(("reshape", "squeeze", "unsqueeze"), reshape_code),
    "expand": expand_code,
    "slice": slice_code,
    "roll": roll_code,
}
CALL_CODE |= {"flatten": flatten_call, "unflatten": flatten_call}


def works_channels_last(row: Row) -> bool:
    """Whether the row's module runs on the channels-last view (its output moved back after it)."""
    if row.op in ("flatten", "unflatten"):
        return _flatten_wrapped(row)
    return row.op in CHANNELS_LAST_MODULES or row.op in CALL_CODE
