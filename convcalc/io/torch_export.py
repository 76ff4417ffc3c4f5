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
    class_name,
    docstring,
    identifier,
    literal,
    printable,
    submodule_paths,
)
from convcalc.ops.catalogue import ACTIVATIONS, CATALOGUE, op

ACTIVATION_KWARGS = ("negative_slope", "alpha", "beta", "threshold", "min_val", "max_val", "approximate")
FORWARD_OPS = tuple(entry.name for entry in CATALOGUE if not entry.torch)  # written in ``forward``: no submodule
WINDOW_OPS = ("conv", "deconv", "maxpool", "avgpool")  # windows resolved by the analysis: kernel, stride, padding
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
    op, rank = step.node.op, len(step.input_shapes[0]) - 1
    if op in FORWARD_OPS:
        return None
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
}


def merge_expression(step: Row, inputs: list[str]) -> str:
    """Ops written in ``forward`` itself: sums, products, concatenation, cropping by slicing."""
    return FORWARD_CODE[step.node.op](step, inputs)


def crop_code(step: Row, inputs: list[str]) -> str:
    slices = ", ".join(f"{lo}:{lo + out}" for (lo, _), out in zip(step.result.pads, step.result.output_shape[:-1]))
    return f"{inputs[0]}[:, :, {slices}]"


FORWARD_CODE: dict[str, Callable[[Row, list[str]], str]] = {  # op -> its expression in ``forward`` (no module)
    "add": lambda step, inputs: " + ".join(inputs),
    "mul": lambda step, inputs: " * ".join(inputs),
    "concat": lambda step, inputs: f"torch.cat([{', '.join(inputs)}], dim=1)",
    "crop": crop_code,
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
        lines.append(attach(parts, codes[step.node.index]))
    return lines


def forward_lines(steps: Sequence[Row], codes: dict[int, str], paths: dict[str, str]) -> list[str]:
    """``forward``'s body: one assignment per layer, then the return."""
    taken = set(TAKEN_VARIABLES)
    variables: dict[int, str] = {NETWORK_INPUT: "x"}
    lines = []
    for step in steps:
        node = step.node
        inputs = [variables[i] for i in node.inputs]
        target = identifier(node.name, taken)
        variables[node.index] = target
        if node.index not in codes:
            expression = merge_expression(step, inputs)
        elif node.op == "linear" and len(step.input_shapes[0]) > 1:
            expression = f"{accessor(paths[node.name])}({inputs[0]}.movedim(1, -1)).movedim(-1, 1)"
        else:
            expression = f"{accessor(paths[node.name])}({inputs[0]})"
        lines.append(f"{target} = {expression}")
    lines.append(f"return {variables[steps[-1].node.index] if steps else 'x'}")
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
