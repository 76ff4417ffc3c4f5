"""Export a network spec to a self-contained PyTorch module (source code; only ``torch`` imported by it).

Generating the code needs no torch; running it does. Every layer becomes a submodule named as in the spec
(dotted names nest: ``layer1.0.conv1``), and ``forward`` follows the graph. Tensors are PyTorch's channels-first;
convcalc's shapes are channels-last, so a shape (H, W, C) here is (N, C, H, W) there.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from convcalc import __version__
from convcalc.errors import ConvCalcError
from convcalc.network import Step, walk
from convcalc.notation import format_shape
from convcalc.spec import NETWORK_INPUT, Network

ACTIVATION_MODULES = {
    "relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU", "silu": "SiLU",
    "swish": "SiLU", "leakyrelu": "LeakyReLU", "elu": "ELU", "selu": "SELU", "celu": "CELU", "mish": "Mish",
    "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "hardtanh": "Hardtanh", "softplus": "Softplus",
    "logsigmoid": "LogSigmoid",
}  # fmt: skip
ACTIVATION_KWARGS = ("negative_slope", "alpha", "beta", "threshold", "min_val", "max_val", "approximate")


def identifier(name: str, taken: set[str]) -> str:
    """A Python variable name for a layer name: ``layer1.0.conv1`` -> ``layer1_0_conv1``."""
    text = re.sub(r"\W", "_", name) or "x"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "_" + text
    candidate, number = text, 1
    while candidate in taken:
        number += 1
        candidate = f"{text}_{number}"
    taken.add(candidate)
    return candidate


def class_name(name: str) -> str:
    parts = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(part[:1].upper() + part[1:] for part in parts) or "Net"
    return text if not text[0].isdigit() else "Net" + text


def args_text(*positional: Any, **keywords: Any) -> str:
    items = [repr(value) for value in positional] + [f"{key}={value!r}" for key, value in keywords.items()]
    return ", ".join(items)


def _torch_pads(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """PyTorch's pad order: last dimension first, (before, after) each."""
    return tuple(value for pair in reversed(pads) for value in pair)


def _windows(step: Step) -> tuple[Any, ...]:
    assert step.result.layer is not None and step.result.layer.spec is not None
    return step.result.layer.spec.windows  # type: ignore[union-attr]


def module_code(step: Step) -> str | None:
    """The constructor of the node's module, or None for ops done in ``forward`` (add, concat)."""
    node, result = step.node, step.result
    args, shape = node.args, step.input_shapes[0]
    rank = len(shape) - 1
    op = node.op
    if op in ("add", "mul", "concat", "crop"):
        return None
    if op in ("conv", "deconv", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "pad", "upsample",
              "global_avgpool", "global_maxpool") and not 1 <= rank <= 3:  # fmt: skip
        raise ConvCalcError(f"PyTorch has no {rank}-D {op}", "in")
    if op in ("conv", "deconv", "maxpool", "avgpool"):
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
            code = f"nn.Sequential(nn.ConstantPad{rank}d({_torch_pads(pads)!r}, {fill}), {code})"
        return code
    if op in ("adaptive_avgpool", "adaptive_maxpool"):
        size = tuple(result.output_shape[:-1])
        kind = "Avg" if op == "adaptive_avgpool" else "Max"
        return f"nn.Adaptive{kind}Pool{rank}d({size[0] if len(set(size)) == 1 else size!r})"
    if op in ("global_avgpool", "global_maxpool"):
        kind = "Avg" if op == "global_avgpool" else "Max"
        return f"nn.Sequential(nn.Adaptive{kind}Pool{rank}d(1), nn.Flatten())"
    if op == "linear":
        return f"nn.Linear({args_text(shape[-1], args['out'], **({} if args.get('bias', True) else {'bias': False}))})"
    if op == "flatten":
        return "nn.Flatten()"
    if op == "bn":
        keywords = {key: args[key] for key in ("eps", "momentum", "affine", "track_running_stats") if key in args}
        return f"nn.BatchNorm{max(rank, 1)}d({args_text(shape[-1], **keywords)})"
    if op in ACTIVATION_MODULES:
        keywords = {key: args[key] for key in ACTIVATION_KWARGS if key in args}
        return f"nn.{ACTIVATION_MODULES[op]}({args_text(**keywords)})"
    if op == "prelu":
        return f"nn.PReLU({args_text(args.get('num_parameters', 1))})"
    if op == "softmax":
        return "nn.Softmax(dim=1)"
    if op == "dropout":
        return f"nn.Dropout({args.get('p', 0.5)!r})"
    if op == "identity":
        return "nn.Identity()"
    if op == "upsample":
        scale = tuple(o // i for o, i in zip(result.output_shape[:-1], shape[:-1]))
        keywords = {"scale_factor": scale[0] if len(set(scale)) == 1 else scale, "mode": args.get("mode", "nearest")}
        return f"nn.Upsample({args_text(**keywords)})"
    if op == "pad":
        pads = tuple((-int(t), int(o) - i + int(t)) for t, o, i in zip(result.offset, result.output_shape, shape))
        return f"nn.ConstantPad{rank}d({_torch_pads(pads)!r}, 0.0)"
    raise ConvCalcError(f"cannot export op {op!r} to PyTorch", None)


def merge_expression(step: Step, inputs: list[str]) -> str:
    """Ops written in ``forward`` itself: sums, products, concatenation, cropping by slicing."""
    op = step.node.op
    if op == "add":
        return " + ".join(inputs)
    if op == "mul":
        return " * ".join(inputs)
    if op == "concat":
        return f"torch.cat([{', '.join(inputs)}], dim=1)"
    slices = ", ".join(f"{int(start)}:{int(start) + out}" for start, out in zip(step.result.offset, step.result.output_shape[:-1]))
    return f"{inputs[0]}[:, :, {slices}]"  # crop


def module_path(name: str) -> list[str]:
    return name.split(".")


def accessor(parts: list[str]) -> str:
    """``self.layer1["0"]["conv1"]`` for a nested name; plain attributes at the top level."""
    head, *rest = parts
    text = f"self.{head}" if head.isidentifier() and not keyword.iskeyword(head) else f'self.get_submodule("{head}")'
    return text + "".join(f'["{part}"]' for part in rest)


def export_torch(network: Network) -> str:
    """Python source of an ``nn.Module`` equivalent to the spec."""
    steps = walk(network)
    init: list[str] = []
    containers: set[tuple[str, ...]] = set()
    forward: list[str] = []
    taken: set[str] = {"x", "self", "torch", "nn"}
    variables: dict[int, str] = {NETWORK_INPUT: "x"}
    for step in steps:
        node = step.node
        try:
            code = module_code(step)
        except ConvCalcError as error:
            raise ConvCalcError(f"layer '{node.name}': {error.message}", "to") from None
        inputs = [variables[i] for i in node.inputs]
        target = identifier(node.name, taken)
        variables[node.index] = target
        if code is None:
            expression = merge_expression(step, inputs)
        else:
            parts = module_path(node.name)
            for depth in range(1, len(parts)):
                prefix = tuple(parts[:depth])
                if prefix not in containers:
                    containers.add(prefix)
                    init.append(_assign(list(prefix), "nn.ModuleDict()"))
            init.append(_assign(parts, code))
            call = accessor(parts)
            if node.op == "linear" and len(step.input_shapes[0]) > 1:
                expression = f"{call}({inputs[0]}.movedim(1, -1)).movedim(-1, 1)"
            else:
                expression = f"{call}({inputs[0]})"
        forward.append(f"{target} = {expression}")
    output = variables[steps[-1].node.index] if steps else "x"
    channels_first = (network.input_shape[-1], *network.input_shape[:-1])
    source = network.file or "a spec"
    lines = [
        f'"""{network.name}: generated by convcalc {__version__} from {source}.',
        "",
        f"Input {format_shape(network.input_shape)} (channels last); in PyTorch: torch.randn(1, {', '.join(map(str, channels_first))}).",
        '"""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        f"class {class_name(network.name)}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(f"        {line}" for line in init),
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *(f"        {line}" for line in forward),
        f"        return {output}",
        "",
        "",
        f"INPUT_SHAPE = (1, {', '.join(map(str, channels_first))})",
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {class_name(network.name)}()",
        "    print(model(torch.randn(*INPUT_SHAPE)).shape)",
        "",
    ]
    return "\n".join(lines)


def _assign(parts: list[str], code: str) -> str:
    """The statement that stores a module under its (possibly nested) name."""
    head, *rest = parts
    if rest:
        return f'{accessor([head, *rest[:-1]])}["{rest[-1]}"] = {code}'
    if head.isidentifier() and not keyword.iskeyword(head):
        return f"self.{head} = {code}"
    return f'self.add_module("{head}", {code})'
