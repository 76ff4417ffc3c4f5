"""Export a network spec to a self-contained PyTorch module (source code; only ``torch`` imported by it).

Generating the code needs no torch; running it does. Every layer becomes a submodule named as in the spec
(dotted names nest: ``layer1.0.conv1``), and ``forward`` follows the graph. Tensors are PyTorch's channels-first;
convcalc's shapes are channels-last, so a shape (H, W, C) here is (N, C, H, W) there.

Names are data, never code (:mod:`convcalc.io.torch_names` writes every name and value). The source is parsed and
compiled before it is returned.

Each submodule's constructor comes from :mod:`convcalc.io.torch_modules` (``MODULE_CODE``), each expression written
in ``forward`` from :mod:`convcalc.io.torch_forward` (``FORWARD_CODE``, ``CALL_CODE``); this module assembles them.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from convcalc import __version__
from convcalc.core.notation import format_shape
from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import NetOutput, Report, Row, analyze
from convcalc.graph.model import NETWORK_INPUT, Network
from convcalc.io.torch_forward import CALL_CODE, merge_expression, param_expression
from convcalc.io.torch_modules import FORWARD_OPS, _flatten_wrapped, module_code
from convcalc.io.torch_names import (
    TAKEN_VARIABLES,
    accessor,
    attach,
    attach_parameter,
    class_name,
    docstring,
    identifier,
    parameter_accessor,
    printable,
    submodule_paths,
)
from convcalc.ops.catalogue import SEVERAL_OUTPUTS, SOURCES

CHANNELS_LAST_MODULES = ("linear", "layernorm", "rmsnorm")  # on the last axis: channels moved last around them
SOURCE_KINDS = {"param": "parameter", "constant": "buffer"}  # ops without an input: what they register


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
        if step.node.op in SOURCES:
            lines.append(attach_parameter(parts, codes[step.node.index], SOURCE_KINDS[step.node.op]))
        else:
            lines.append(attach(parts, codes[step.node.index]))
    return lines


def forward_lines(
    steps: Sequence[Row], codes: dict[int, str], paths: dict[str, str], outputs: Sequence[NetOutput] = ()
) -> list[str]:
    """``forward``'s body: one assignment per layer, then the return: the last layer's output, or the declared
    ``outputs:`` as a tuple in their order (their names in ``OUTPUTS``)."""
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
            accessor_code = parameter_accessor(paths[node.name], SOURCE_KINDS[node.op])
            expression = param_expression(step, accessor_code, variables[NETWORK_INPUT, 0])
        elif node.op in CHANNELS_LAST_MODULES and len(step.input_shapes[0]) > 1:
            expression = f"{accessor(paths[node.name])}({inputs[0]}.movedim(1, -1)).movedim(-1, 1)"
        else:
            expression = f"{accessor(paths[node.name])}({inputs[0]})"
        lines.append(f"{target} = {expression}")
    if len(outputs) > 1:
        lines.append(f"return ({', '.join(variables[output.source] for output in outputs)})")
    elif outputs:
        lines.append(f"return {variables[outputs[0].source]}")
    else:
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
    several = len(network.outputs) > 1
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
        f"    def forward(self, x: torch.Tensor) -> {'tuple[torch.Tensor, ...]' if several else 'torch.Tensor'}:",
        *(f"        {line}" for line in forward_lines(steps, codes, paths, network.outputs)),
        "",
        "",
        f"INPUT_SHAPE = (1, {', '.join(map(str, channels_first))})",
        *([f"OUTPUTS = ({''.join(repr(output.name) + ', ' for output in network.outputs).rstrip()})  # forward's tuple, in order"]
          if several else []),  # fmt: skip
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {name}()",
        *(["    for name, output in zip(OUTPUTS, model(torch.randn(*INPUT_SHAPE))):", "        print(name, output.shape)"]
          if several else ["    print(model(torch.randn(*INPUT_SHAPE)).shape)"]),  # fmt: skip
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


def works_channels_last(row: Row) -> bool:
    """Whether the row's module runs on the channels-last view (its output moved back after it)."""
    if row.op in ("flatten", "unflatten"):
        return _flatten_wrapped(row)
    return row.op in CHANNELS_LAST_MODULES or row.op in CALL_CODE
