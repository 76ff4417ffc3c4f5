"""Export a network spec to a self-contained PyTorch module (source code; only ``torch`` imported by it).

Generating the code needs no torch; running it does. Every layer becomes a submodule named as in the spec
(dotted names nest: ``layer1.0.conv1``), and ``forward`` follows the graph. Tensors are PyTorch's channels-first;
convcalc's shapes are channels-last, so a shape (H, W, C) here is (N, C, H, W) there.

Names are data, never code: text from a spec reaches the source only as a ``repr`` literal, as an ASCII identifier
derived from it, or escaped inside the docstring. A name part PyTorch cannot take as a submodule name (empty, or an
attribute of ``nn.Module`` such as ``forward``, ``training``, ``to``) gets trailing underscores (``forward_``); the
module lists such layers in its ``RENAMED`` dict. The source is parsed and compiled before it is returned.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Sequence
from typing import Any

from convcalc import __version__
from convcalc.core.notation import format_shape
from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import Report, Row, analyze
from convcalc.graph.model import NETWORK_INPUT, Network
from convcalc.ops.catalogue import ACTIVATIONS, CATALOGUE, op

ACTIVATION_MODULES = {name: op(name).torch for name in ACTIVATIONS}
ACTIVATION_KWARGS = ("negative_slope", "alpha", "beta", "threshold", "min_val", "max_val", "approximate")
FORWARD_OPS = tuple(entry.name for entry in CATALOGUE if not entry.torch)  # written in ``forward``: no submodule

# Attributes of an ``nn.Module`` instance (``dir(nn.Module())`` in torch 2.x, plus a few older private ones):
# ``add_module`` refuses these as submodule names, and ``self.forward = ...`` would shadow nothing but recurse.
RESERVED = frozenset(
    """
    T_destination __annotations__ __call__ __class__ __delattr__ __dict__ __dir__ __doc__ __eq__ __format__ __ge__
    __getattr__ __getattribute__ __getstate__ __gt__ __hash__ __init__ __init_subclass__ __le__ __lt__ __module__
    __ne__ __new__ __reduce__ __reduce_ex__ __repr__ __setattr__ __setstate__ __sizeof__ __str__ __subclasshook__
    __weakref__ __slots__ __qualname__ __firstlineno__ __static_attributes__ _apply _backward_hooks
    _backward_pre_hooks _buffers _call_impl _compiled_call_impl _forward_hooks _forward_hooks_always_called
    _forward_hooks_with_kwargs _forward_pre_hooks _forward_pre_hooks_with_kwargs _get_backward_hooks
    _get_backward_pre_hooks _get_name _is_full_backward_hook _load_from_state_dict _load_state_dict_post_hooks
    _load_state_dict_pre_hooks _maybe_warn_non_full_backward_hook _modules _named_members
    _non_persistent_buffers_set _parameters _register_load_state_dict_pre_hook _register_state_dict_hook
    _replicate_for_data_parallel _save_to_state_dict _slow_forward _state_dict_hooks _state_dict_pre_hooks _version
    _wrapped_call_impl add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
    dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
    load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty
    train training type xpu zero_grad
    """.split()
)
TAKEN_VARIABLES = frozenset({"x", "self", "torch", "nn"})
MAX_VARIABLE = 60  # characters of a layer name kept in its variable name


def identifier(name: str, taken: set[str]) -> str:
    """A local variable name for a layer name: ``layer1.0.conv1`` -> ``layer1_0_conv1`` (ASCII only, unique)."""
    text = re.sub(r"[^0-9A-Za-z_]", "_", name)[:MAX_VARIABLE] or "x"
    if text.startswith("__"):  # no private-name mangling, no ``__debug__``
        text = "v" + text
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "_" + text
    candidate, number = text, 1
    while candidate in taken:
        number += 1
        candidate = f"{text}_{number}"
    taken.add(candidate)
    return candidate


def class_name(name: str) -> str:
    """An ASCII CamelCase class name from the network's name: ``LeNet-5`` -> ``LeNet5``."""
    parts = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(part[:1].upper() + part[1:] for part in parts) or "Net"
    return text if not (text[0].isdigit() or keyword.iskeyword(text)) else "Net" + text


def literal(value: Any) -> str:
    """Python source for a plain value (number, string, bool, None, tuple or list of these)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(item) for item in value) + (",)" if len(value) == 1 else ")")
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise ConvCalcError(f"cannot write a value of type {type(value).__name__} into Python source", None)


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
    """The constructor of the node's module, or None for ops done in ``forward`` (add, concat)."""
    node, result = step.node, step.result
    args, shape = node.args, step.input_shapes[0]
    rank = len(shape) - 1
    op = node.op
    if op in FORWARD_OPS:
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
            code = f"nn.Sequential(nn.ConstantPad{rank}d({literal(_torch_pads(pads))}, {fill}), {code})"
        return code
    if op in ("adaptive_avgpool", "adaptive_maxpool"):
        size = tuple(result.output_shape[:-1])
        kind = "Avg" if op == "adaptive_avgpool" else "Max"
        return f"nn.Adaptive{kind}Pool{rank}d({literal(size[0] if len(set(size)) == 1 else size)})"
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
        return f"nn.Dropout({literal(args.get('p', 0.5))})"
    if op == "identity":
        return "nn.Identity()"
    if op == "upsample":
        scale = tuple(o // i for o, i in zip(result.output_shape[:-1], shape[:-1]))
        keywords = {"scale_factor": scale[0] if len(set(scale)) == 1 else scale, "mode": args.get("mode", "nearest")}
        return f"nn.Upsample({args_text(**keywords)})"
    if op == "pad":
        pads = tuple((-int(t), int(o) - i + int(t)) for t, o, i in zip(result.offset, result.output_shape, shape))
        return f"nn.ConstantPad{rank}d({literal(_torch_pads(pads))}, 0.0)"
    raise ConvCalcError(f"cannot export op {op!r} to PyTorch", None)


def merge_expression(step: Row, inputs: list[str]) -> str:
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


def valid_part(part: str) -> bool:
    """Whether PyTorch takes this as a submodule name as it is (``add_module`` refuses these)."""
    return part != "" and part not in RESERVED


class PathPlan:
    """The submodule tree: which dotted paths are leaves (layers) and which are containers."""

    def __init__(self) -> None:
        self.leaves: set[tuple[str, ...]] = set()
        self.containers: set[tuple[str, ...]] = set()

    def fits(self, parts: tuple[str, ...]) -> bool:
        """A new leaf here clashes with no layer and no container, and no layer would become a container."""
        prefixes = (parts[:depth] for depth in range(1, len(parts)))
        return parts not in self.leaves and parts not in self.containers and not any(p in self.leaves for p in prefixes)

    def add(self, parts: tuple[str, ...]) -> None:
        self.leaves.add(parts)
        self.containers.update(parts[:depth] for depth in range(1, len(parts)))

    def mangle(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        """Each part made valid and free by trailing underscores (``forward`` -> ``forward_``, empty -> ``_``)."""
        done: tuple[str, ...] = ()
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            candidate = part or "_"
            while not valid_part(candidate) or self._taken(done + (candidate,), last):
                candidate += "_"
            done += (candidate,)
        return done

    def _taken(self, parts: tuple[str, ...], last: bool) -> bool:
        return parts in self.leaves or (last and parts in self.containers)


def submodule_paths(names: list[str]) -> dict[str, str]:
    """Spec layer name -> dotted submodule path; a name is kept whenever PyTorch can take it (first come first)."""
    plan, paths = PathPlan(), {}
    for name in names:
        parts = tuple(name.split("."))
        if all(valid_part(part) for part in parts) and plan.fits(parts):
            plan.add(parts)
            paths[name] = name
    for name in names:
        if name not in paths:
            parts = plan.mangle(tuple(name.split(".")))
            plan.add(parts)
            paths[name] = ".".join(parts)
    return paths


def module_names(source: Network | Report) -> dict[str, str]:
    """Spec layer name -> submodule path in the exported module, for every layer that is a submodule."""
    return submodule_paths([row.name for row in as_report(source).rows if row.op not in FORWARD_OPS])


def as_report(source: Network | Report) -> Report:
    """The analysis the exporter reads (its resolved padding, windows and shapes); a Network is analysed once."""
    return source if isinstance(source, Report) else analyze(source)


def is_attribute(part: str) -> bool:
    """Whether ``self.<part>`` names exactly this submodule (ASCII: no NFKC folding; no ``__`` name mangling)."""
    return part.isascii() and part.isidentifier() and not keyword.iskeyword(part) and not part.startswith("__")


def accessor(path: str) -> str:
    """``self.fc`` at the top level when that is plain Python, else ``self.get_submodule('layer1.0.conv1')``."""
    return f"self.{path}" if is_attribute(path) else f"self.get_submodule({path!r})"


def attach(parts: tuple[str, ...], code: str) -> str:
    """The statement that stores a module under its (possibly nested) path."""
    *parent, last = parts
    if parent:
        return f"{accessor('.'.join(parent))}.add_module({last!r}, {code})"
    if is_attribute(last):
        return f"self.{last} = {code}"
    return f"self.add_module({last!r}, {code})"


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


def printable(text: str) -> str:
    """Text on one line: control characters, line breaks and the like as their escapes (``\\n``)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def docstring(lines: list[str]) -> str:
    """A triple-quoted literal whose value is exactly ``lines`` (each made printable), whatever they contain."""
    body = "\n".join(printable(line) for line in lines)
    return '"""' + body.replace("\\", "\\\\").replace('"', '\\"') + '\n"""'


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
