"""The PyTorch side of the bridge: build an exported spec as a module and check it against convcalc's numbers.

Imports torch only inside functions; without torch every entry point raises one ConvCalcError saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from convcalc.core.notation import Shape
from convcalc.errors import ConvCalcError
from convcalc.graph.analysis import Report
from convcalc.graph.model import Network

NEEDS_TORCH = "needs PyTorch: pip install 'convcalc[torch]'"


def require_torch() -> Any:
    import warnings

    try:
        with warnings.catch_warnings():  # a torch wheel without numpy warns on import; convcalc needs no numpy
            warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
            import torch
    except ImportError:
        raise ConvCalcError(NEEDS_TORCH) from None
    return torch


def build_module(network: Network | Report, device: str = "meta") -> Any:
    """Execute the exported source and instantiate the module (on the meta device: no memory for weights)."""
    torch = require_torch()
    from convcalc.io.torch_export import export_torch
    from convcalc.io.torch_names import class_name

    source = export_torch(network)
    namespace: dict[str, Any] = {"__name__": "convcalc_export"}
    with torch_errors("build"):
        exec(compile(source, "<convcalc export>", "exec", dont_inherit=True), namespace)
        with torch.device(device):
            return namespace[class_name(network.name)]()


@contextmanager
def torch_errors(stage: str) -> Iterator[None]:
    """Any failure inside PyTorch becomes one ConvCalcError line: ``PyTorch could not build the module: ...``."""
    try:
        yield
    except ConvCalcError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever torch raises, the user gets one line, not a traceback
        raise ConvCalcError(f"PyTorch could not {stage} the exported module: {one_line(error)}") from None


def one_line(error: BaseException) -> str:
    """The exception's type and the first line of its message, escaped and cut to a readable length."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = f"{error.__class__.__name__}: {lines[0]}" if lines else error.__class__.__name__
    text = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return text if len(text) <= 300 else text[:297] + "..."


def channels_last(shape: Any) -> Shape:
    """PyTorch (N, C, *spatial) -> convcalc (*spatial, C), batch dropped."""
    dims = tuple(int(n) for n in shape)[1:]
    return dims[1:] + dims[:1] if len(dims) > 1 else dims


@dataclass(frozen=True)
class Difference:
    layer: str
    what: str
    convcalc: str
    torch: str


def verify(report: Report) -> list[Difference]:
    """Run the exported module on the meta device and compare every layer's output shape and parameter count."""
    return verify_layers(report)[0]


def verify_layers(report: Report) -> tuple[list[Difference], int]:
    """The differences, and how many layers were compared: those that are PyTorch modules (ops written in
    ``forward``, such as add, mul, concat and crop, have no module of their own to check)."""
    torch = require_torch()
    from convcalc.io.torch_export import module_names, works_channels_last

    model = build_module(report).eval()  # inference, as convcalc counts it (norms use their running statistics)
    paths = module_names(report)
    modules = dict(model.named_modules())
    rows = [row for row in report.rows if paths.get(row.name) in modules]
    layers = {row.name: modules[paths[row.name]] for row in rows}
    shapes: dict[str, Shape] = {}
    handles = [layers[row.name].register_forward_hook(_recorder(shapes, row.name, works_channels_last(row))) for row in rows]
    spatial, channels = report.input_shape[:-1], report.input_shape[-1]
    with torch_errors("run"), torch.no_grad():
        returned = model(torch.empty(1, channels, *spatial, device="meta"))
    for handle in handles:
        handle.remove()
    differences = []
    for row in report.rows:
        module = layers.get(row.name)
        if module is None:
            continue
        if row.name in shapes and shapes[row.name] != row.output_shape:
            differences.append(Difference(row.name, "output shape", _shape(row.output_shape), _shape(shapes[row.name])))
        params = sum(p.numel() for p in module.parameters())
        if params != row.params:
            differences.append(Difference(row.name, "params", f"{row.params:,}", f"{params:,}"))
    differences += output_differences(report, returned)
    total, expected = sum(p.numel() for p in model.parameters()), report.params - report.unused_params  # unused: not built
    if total != expected:
        differences.append(Difference("(total)", "params", f"{expected:,}", f"{total:,}"))
    return differences, len(rows)


def output_differences(report: Report, returned: Any) -> list[Difference]:
    """The declared outputs (``outputs:``; the forward returns them as a tuple) against what the module returned."""
    if len(report.outputs) < 2:
        return []
    differences = []
    for output, tensor in zip(report.outputs, returned):
        shape = channels_last(tuple(tensor.shape))
        if shape != output.shape:
            differences.append(Difference(f"(output {output.name})", "output shape", _shape(output.shape), _shape(shape)))
    return differences


def _recorder(shapes: dict[str, Shape], name: str, channels_last_module: bool) -> Any:
    def hook(module: Any, inputs: Any, output: Any) -> None:
        if isinstance(output, tuple):  # nn.MultiheadAttention: (output, attention weights)
            output = output[0]
        shape = tuple(output.shape)
        if channels_last_module and len(shape) > 2:  # channels last around them
            shape = (shape[0], shape[-1], *shape[1:-1])
        shapes[name] = channels_last(shape)

    return hook


def _shape(shape: Shape) -> str:
    return "x".join(map(str, shape))
