"""Import a PyTorch model into a spec: trace it with torch.fx and write every leaf module and merge as a layer.

Layer names are the modules' qualified names (``layer1.0.conv1``); residual additions become ``add`` and
``torch.cat`` on the channel axis becomes ``concat``. Anything that cannot be represented is an error naming it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import operator
import re
import sys
from pathlib import Path
from typing import Any

from convcalc.core.notation import Shape, dim_names, format_shape
from convcalc.errors import ConvCalcError
from convcalc.io.torch_verify import require_torch
from convcalc.ops.catalogue import ACTIVATIONS as ACTIVATION_OPS
from convcalc.ops.catalogue import op

ACTIVATIONS: dict[str, str] = {}  # PyTorch class -> op, from the catalogue (SiLU is silu, its first op)
for _name in ACTIVATION_OPS:
    ACTIVATIONS.setdefault(op(_name).torch, _name)
FUNCTIONAL_ACTIVATIONS = {name.lower(): op for name, op in ACTIVATIONS.items()} | {"relu_": "relu"}


def load_target(target: str) -> Any:
    """``path/to/file.py:callable`` or ``package.module:callable`` -> the nn.Module it returns."""
    location, _, attribute = target.rpartition(":")
    if not location or not attribute:
        raise ConvCalcError(f"expected path/to/file.py:callable or package.module:callable, got {target!r}", "target")
    try:
        if location.endswith(".py") or "/" in location:
            path = Path(location)
            if not path.is_file():
                raise ConvCalcError(f"no such file: {location}", "target")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(path.stem, module)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(location)
    except ConvCalcError:
        raise
    except Exception as error:  # the user's code failed to import: say so in one line
        raise ConvCalcError(f"cannot import {location}: {type(error).__name__}: {error}", "target") from None
    factory = getattr(module, attribute, None)
    if factory is None:
        raise ConvCalcError(f"{location} has no attribute {attribute!r}", "target")
    torch = require_torch()
    model = factory() if not isinstance(factory, torch.nn.Module) else factory
    if not isinstance(model, torch.nn.Module):
        raise ConvCalcError(f"{target} returned {type(model).__name__}, not a torch.nn.Module", "target")
    return model


def _pair_list(value: Any) -> Any:
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    return values[0] if len(set(values)) == 1 else values


def module_layer(module: Any, name: str) -> tuple[str, dict[str, Any]]:
    """(op, args) for a leaf module, or ConvCalcError naming it."""
    torch = require_torch()
    nn = torch.nn
    kind = type(module).__name__
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        if module.padding_mode != "zeros":
            raise ConvCalcError(f"module '{name}' ({kind}) uses padding_mode={module.padding_mode!r}; only zeros is supported")
        transposed = isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
        args: dict[str, Any] = {"out": module.out_channels, "k": _pair_list(module.kernel_size)}
        if any(s != 1 for s in module.stride):
            args["s"] = _pair_list(module.stride)
        padding = module.padding if isinstance(module.padding, str) else _pair_list(module.padding)
        if padding not in (0, "valid"):
            args["p"] = padding
        if any(d != 1 for d in module.dilation):
            args["d"] = _pair_list(module.dilation)
        if module.groups != 1:
            args["g"] = module.groups
        if transposed and any(module.output_padding):
            args["output_padding"] = _pair_list(module.output_padding)
        if module.bias is None:
            args["bias"] = False
        return ("deconv" if transposed else "conv"), args
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        is_max = kind.startswith("Max")
        if is_max and module.return_indices:
            raise ConvCalcError(f"module '{name}' ({kind}) returns indices; not supported")
        args = {"k": _pair_list(module.kernel_size)}
        stride = module.stride if module.stride is not None else module.kernel_size
        if _pair_list(stride) != args["k"]:
            args["s"] = _pair_list(stride)
        if _pair_list(module.padding) != 0:
            args["p"] = _pair_list(module.padding)
        if is_max and _pair_list(module.dilation) != 1:
            args["d"] = _pair_list(module.dilation)
        if module.ceil_mode:
            args["ceil"] = True
        if not is_max and getattr(module, "divisor_override", None) is not None:
            raise ConvCalcError(f"module '{name}' ({kind}) has divisor_override; not supported")
        return ("maxpool" if is_max else "avgpool"), args
    if kind.startswith(("AdaptiveAvgPool", "AdaptiveMaxPool")):
        size = module.output_size
        if size is None or (isinstance(size, tuple) and None in size):
            raise ConvCalcError(f"module '{name}' ({kind}) keeps a dimension (output_size None); not supported")
        return ("adaptive_avgpool" if "Avg" in kind else "adaptive_maxpool"), {"size": _pair_list(size)}
    if isinstance(module, nn.Linear):
        return "linear", {"out": module.out_features, **({} if module.bias is not None else {"bias": False})}
    if isinstance(module, nn.Flatten):
        if module.start_dim != 1 or module.end_dim != -1:
            raise ConvCalcError(f"module '{name}' (Flatten) flattens dims {module.start_dim}..{module.end_dim}; only 1..-1")
        return "flatten", {}
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        args = {}
        if not module.affine:
            args["affine"] = False
        if not module.track_running_stats:
            args["track_running_stats"] = False
        if module.eps != 1e-5:
            args["eps"] = module.eps
        return "bn", args
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind], {}
    if isinstance(module, nn.PReLU):
        return "prelu", ({} if module.num_parameters == 1 else {"num_parameters": module.num_parameters})
    if isinstance(module, nn.Softmax):
        if module.dim != 1:
            raise ConvCalcError(f"module '{name}' (Softmax) over dim {module.dim}; only the channel dim 1")
        return "softmax", {}
    if isinstance(module, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
        return "dropout", {"p": module.p}
    if isinstance(module, nn.Identity):
        return "identity", {}
    if isinstance(module, nn.Upsample):
        if module.scale_factor is None:
            raise ConvCalcError(f"module '{name}' (Upsample) has an output size; only scale_factor is supported")
        scale = _pair_list(module.scale_factor)
        if any(float(s) != int(s) for s in (scale if isinstance(scale, list) else [scale])):
            raise ConvCalcError(f"module '{name}' (Upsample) has a fractional scale {scale}")
        scale = [int(s) for s in scale] if isinstance(scale, list) else int(scale)
        return "upsample", {"scale": scale, **({} if module.mode == "nearest" else {"mode": module.mode})}
    if kind.startswith(("ZeroPad", "ConstantPad")):
        if getattr(module, "value", 0) != 0:
            raise ConvCalcError(f"module '{name}' ({kind}) pads with {module.value}; only zeros")
        flat = list(module.padding)
        pairs = [flat[i : i + 2] for i in range(0, len(flat), 2)][::-1]  # PyTorch: last dimension first
        return "pad", {"p": pairs}
    raise ConvCalcError(f"module '{name}' ({kind}) has no convcalc op")


def function_layer(node: Any, args: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """(op, args) for a traced function or method call; None when it is not a layer."""
    torch = require_torch()
    target = node.target
    name = getattr(target, "__name__", str(target))
    if target in (operator.add, operator.iadd, torch.add) or (node.op == "call_method" and target in ("add", "add_")):
        return "add", {}
    if target in (operator.mul, operator.imul, torch.mul) or (node.op == "call_method" and target in ("mul", "mul_")):
        return "mul", {}
    if target is torch.cat or target is torch.concat:
        dim = node.kwargs.get("dim", args[1] if len(args) > 1 else 0)
        if dim != 1:
            raise ConvCalcError(f"'{node.name}': torch.cat over dim {dim}; only the channel dim 1 is supported")
        return "concat", {}
    if target is torch.flatten or (node.op == "call_method" and target == "flatten"):
        start = node.kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
        if start != 1:
            raise ConvCalcError(f"'{node.name}': flatten from dim {start}; only from dim 1 (keeping the batch)")
        return "flatten", {}
    short = name.lower().rstrip("_") if isinstance(name, str) else ""
    if short in FUNCTIONAL_ACTIVATIONS:
        return FUNCTIONAL_ACTIVATIONS[short], {}
    if short in ("adaptive_avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool3d"):
        return "adaptive_avgpool", {"size": _pair_list(args[1])}
    if short == "dropout":
        return "dropout", {}
    raise ConvCalcError(f"'{node.name}' calls {name}, which convcalc cannot represent")


def yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z_][\w.\-]*", value) and value not in ("true", "false", "null", "yes", "no", "on", "off") else json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    return repr(value)


def spatial_rank(model: Any) -> tuple[int, str] | None:
    """The number of spatial dims the model's first N-d layer takes (Conv2d: 2), with that layer's name."""
    for path, module in model.named_modules():
        kind = type(module)
        found = re.search(r"([123])d$", kind.__name__)
        if found and kind.__module__.startswith("torch.nn"):
            return int(found.group(1)), f"{path or 'the model'} ({kind.__name__})"
    return None


def check_input_rank(model: Any, input_shape: Shape) -> None:
    """``--input 224x224`` for a model of Conv2d layers is an error, not a 1-D spec with the wrong counts."""
    found = spatial_rank(model)
    if found is None:
        return
    rank, layer = found
    if len(input_shape) != rank + 1:
        expected = "x".join((*dim_names(rank), "C"))
        raise ConvCalcError(
            f"{format_shape(input_shape)} has {len(input_shape)} dims, but {layer} takes {rank} spatial dims and the "
            f"channels: {expected}, channels last",
            "input",
        )


def import_torch(target: str, input_shape: Shape, name: str | None = None) -> str:
    """Trace the model and return the text of an equivalent spec."""
    torch = require_torch()
    model = load_target(target)
    check_input_rank(model, input_shape)
    try:
        import torch.fx

        graph = torch.fx.symbolic_trace(model).graph
    except Exception as error:
        raise ConvCalcError(f"torch.fx cannot trace the model: {type(error).__name__}: {str(error).splitlines()[0]}") from None
    names: dict[Any, str] = {}
    used: set[str] = set()
    lines: list[str] = []
    previous: str | None = "input"
    for node in graph.nodes:
        if node.op == "placeholder":
            if names:
                raise ConvCalcError(f"the model takes more than one input ('{node.name}')")
            names[node] = "input"
            continue
        if node.op == "output":
            break
        if node.op == "get_attr":
            raise ConvCalcError(f"'{node.name}' reads the tensor attribute {node.target}; not supported")
        sources = [a for a in node.all_input_nodes]
        if node.op == "call_module":
            module = model.get_submodule(node.target)
            op, args = module_layer(module, node.target)
            base = node.target
        else:
            values = [names.get(a, a) for a in node.args]
            layer = function_layer(node, values)
            assert layer is not None
            op, args = layer
            base = node.name
            if op == "concat":
                sources = list(node.args[0]) if isinstance(node.args[0], (list, tuple)) else sources
        if op in ("add", "mul") and len(sources) != 2:
            raise ConvCalcError(f"'{node.name}' {op}s a constant; only tensor {'+' if op == 'add' else '*'} tensor is supported")
        layer_name = base
        number = 1
        while layer_name in used or layer_name == "input":
            layer_name = f"{base}_{number}"
            number += 1
        used.add(layer_name)
        names[node] = layer_name
        inputs = [names[s] for s in sources]
        if op in ("add", "mul", "concat"):
            args["from"] = inputs
        elif inputs != [previous]:
            args["from"] = inputs[0]
        args = {"name": layer_name, **args} if op in ("add", "mul", "concat") else {**args, "name": layer_name}
        body = ", ".join(f"{key}: {yaml_value(value)}" for key, value in args.items())
        lines.append(f"  - {op}: {{{body}}}")
        previous = layer_name
    title = name or type(model).__name__
    header = [
        f"# Imported by convcalc from {target} (torch {torch.__version__}).",
        f"name: {yaml_value(title)}",
        f"input: {format_shape(input_shape)}",
        "layers:",
    ]
    return "\n".join(header + lines) + "\n"
