"""Ultralytics model YAMLs (``backbone`` and ``head`` lists of ``[from, repeats, module, args]`` rows, ``scales``) read
as Ultralytics' ``parse_model`` reads them (ultralytics 8.4.190), into convcalc spec data: every module a block of
vocabulary ops (:mod:`convcalc.frontends.ultralytics_registry`), every layer named by its ``state_dict`` path
(``model.2.m.0.cv1.conv``).

The rules: ``from`` is -1 (the previous row), an absolute row or a list; repeats become ``max(round(n * depth), 1)``
when n > 1; output channels ``make_divisible(min(c2, max_channels) * width, 8)``; arguments that name ``nc``,
``kpt_shape`` (and parse_model's other variables) take their values, other strings are read as Python literals (a
parser, never code); ``C3k2``'s ``c3k`` is forced for the m, l and x scales, and any ``C3k2`` (or ``A2C2f``,
``C2fCIB``) gives the detection heads YOLO11's class branch. The scale is ``--scale``, else the file name's
(``yolov8n.yaml`` is ``yolov8.yaml`` at scale n, as ``guess_model_scale`` finds it), else the first (with a note).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcalc.core.notation import format_shape
from convcalc.errors import ConvCalcError, SpecError
from convcalc.frontends.ultralytics_build import Act, Builder, grid_of, make_divisible
from convcalc.frontends.ultralytics_names import MODELS, YoloModel, YoloRow, guess_scale, unified_path
from convcalc.frontends.ultralytics_registry import ACTIVATIONS, HEADS, LEGACY_OFF, MODULES
from convcalc.specfile.yamlnodes import LocatedList, line_of

if TYPE_CHECKING:
    from convcalc.frontends.options import SourceOptions

VARIABLES = ("nc", "kpt_shape", "reg_max", "end2end", "depth", "width", "max_channels", "scale")


def fail(message: str, path: str, line: int | None = None, layer: str | None = None) -> SpecError:
    return SpecError(message, path, line, layer)


def resolve_argument(value: Any, variables: dict[str, Any]) -> Any:
    """A row argument: a variable's value (``nc``), a Python literal in a string (``'None'``), or as written."""
    import ast

    if not isinstance(value, str):
        return value
    if value in variables:
        return variables[value]
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def activation(text: Any, path: str, line: int) -> Act:
    """``activation: nn.ReLU()`` (or ``torch.nn.LeakyReLU(0.1)``): the op replacing the default SiLU of every Conv."""
    match = re.fullmatch(r"\s*(?:torch\.)?nn\.(\w+)\(\s*([^()]*)\)\s*", str(text))
    if match is None or match.group(1) not in ACTIVATIONS:
        raise fail(f"activation {text!r} is not one of nn.{', nn.'.join(ACTIVATIONS)} (written as nn.ReLU())", path, line)
    op, arguments = ACTIVATIONS[match.group(1)], match.group(2).strip()
    args: tuple[tuple[str, Any], ...] = ()
    if arguments and op == "leakyrelu":
        args = (("negative_slope", float(arguments.split(",")[0])),)
    return Act(op, args, shared="Conv.default_act")


def choose_scale(data: dict[str, Any], path: str, options: SourceOptions) -> tuple[str, float, float, float]:
    """(scale, depth, width, max_channels): from ``scales`` at ``--scale``, the file name's scale or the first one;
    ``depth_multiple`` and ``width_multiple`` without ``scales``."""
    scales = data.get("scales")
    scale = options.scale or guess_scale(path)
    if not scales:
        if options.scale:
            raise fail(f"--scale {options.scale}: this model has no scales", path, line_of(data, 1))
        return "", data.get("depth_multiple", 1.0), data.get("width_multiple", 1.0), float("inf")
    if not isinstance(scales, dict):
        raise fail("scales must be a mapping of scale -> [depth, width, max_channels]", path, line_of(scales, 1))
    if not scale:
        scale = next(iter(scales))
        print(f"convcalc: note: {Path(path).name}: no scale given; using {scale!r}, the first (as Ultralytics does); "
              f"choose with --scale {'/'.join(map(str, scales))}", file=sys.stderr)  # fmt: skip
    if scale not in scales:
        where = "--scale" if options.scale else "the file name's scale"
        raise fail(f"{where} {scale!r} is not among the scales {', '.join(map(str, scales))}", path,
                   data.line_of("scales") if hasattr(data, "line_of") else None)  # fmt: skip
    values = scales[scale]
    if not isinstance(values, list) or len(values) != 3:
        raise fail(f"scale {scale!r} must be [depth, width, max_channels]", path, line_of(values, 1))
    return str(scale), *values


def task_of(data: dict[str, Any]) -> str:
    """Ultralytics' ``guess_model_task`` from the last row's module."""
    last = str(data["head"][-1][2]).lower() if data.get("head") and len(data["head"][-1]) > 2 else ""
    for task, words in (("classify", ("classify",)), ("detect", ("detect",)), ("semantic", ("semanticsegment",)),
                        ("segment", ("segment",)), ("pose", ("pose",)), ("obb", ("obb",)), ("depth", ("depth",))):  # fmt: skip
        if any(word in last for word in words):
            return task
    return "detect"


def source_names(f: Any, index: int, path: str, line: int) -> Any:
    """A row's ``from`` as layer names (``model.k``); the first row's -1 is the input."""

    def one(k: Any) -> str:
        if not isinstance(k, int) or isinstance(k, bool):
            raise fail(f"row {index}: from must be a row index or a list of them, got {k!r}", path, line)
        row = index + k if k < 0 else k
        if row >= index or row < -1:
            raise fail(f"row {index}: from {k} is not an earlier row", path, line)
        return "input" if row == -1 else f"model.{row}"

    return [one(k) for k in f] if isinstance(f, list) else one(f)


def channels_of(ch: list[int], f: Any, index: int, path: str, line: int) -> Any:
    """``ch[f]`` as parse_model reads it (a list for several inputs)."""
    try:
        return [ch[k] for k in f] if isinstance(f, list) else ch[f]
    except (IndexError, TypeError):
        raise fail(f"row {index}: from {f!r} names no earlier row", path, line) from None


def to_spec(data: dict[str, Any], path: str, options: SourceOptions) -> dict[str, Any]:
    """Spec data for the Ultralytics model YAML ``data`` read from ``path``, at the scale, classes and input of
    ``options``."""
    scale, depth, width, max_channels = choose_scale(data, path, options)
    nc = options.nc if options.nc is not None else data.get("nc")
    task = task_of(data)
    if options.input_shape is not None:
        input_shape = tuple(options.input_shape)
        if len(input_shape) != 3:  # every Ultralytics model takes images: said here, not by its first conv
            raise ConvCalcError(f"{format_shape(input_shape)} has {len(input_shape)} dim{'s' * (len(input_shape) > 1)}, "
                                "but an Ultralytics model takes an image: HxWxC, channels last (like 640x640x3)", "input")
    else:
        input_shape = (224, 224, 3) if task == "classify" else (640, 640, int(data.get("channels", 3)))
    builder = Builder()
    if data.get("activation"):
        builder.default_act = activation(data["activation"], path, data.line_of("activation"))
    variables = {"nc": nc, "kpt_shape": data.get("kpt_shape", 1.0), "reg_max": data.get("reg_max", 16),
                 "end2end": data.get("end2end"), "depth": depth, "width": width, "max_channels": max_channels,
                 "scale": scale}  # fmt: skip
    rows = _rows(data, path)
    legacy = True
    ch = [input_shape[-1]]
    layers = LocatedList()
    layers.line, layers.item_lines = line_of(data, 1), []
    leaves: set[str] = set()
    containers: set[str] = {"model"}
    shared: set[str] = set()
    described: list[YoloRow] = []
    unused: dict[str, dict[str, int]] = {}
    for index, (f, n, m, raw_args, line) in enumerate(rows):
        rule = MODULES.get(m)
        if rule is None:
            raise fail(f"row {index}: Ultralytics module {m!r} is not supported by convcalc (supported: "
                       f"{', '.join(MODULES)})", path, line, f"model.{index}")  # fmt: skip
        args = [resolve_argument(value, variables) for value in raw_args]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise fail(f"row {index}: repeats must be a whole number >= 1, got {n!r}", path, line)
        n = repeats = max(round(n * depth), 1) if n > 1 else n
        c2 = ch[-1]
        if rule.args in ("base", "repeat", "classify"):
            c1 = channels_of(ch, f, index, path, line)
            if not args or not isinstance(args[0], (int, float)):
                raise fail(f"row {index}: {m} needs its output channels first in its arguments", path, line)
            c2 = args[0] if rule.args == "classify" else make_divisible(min(args[0], max_channels) * width, 8)
            args = [c1, c2, *args[1:]]
            if rule.args == "repeat":
                args.insert(2, n)
                n = 1
            if m in LEGACY_OFF:
                legacy = False
            if m == "C3k2" and scale in {"m", "l", "x"}:
                args[3:4] = [True]
            if m == "A2C2f" and scale in {"l", "x"}:
                args.extend((True, 1.2))
        elif rule.args == "bn":
            args = [channels_of(ch, f, index, path, line)]
            c2 = args[0]
        elif rule.args == "concat":
            c2 = sum(channels_of(ch, f if isinstance(f, list) else [f], index, path, line))
        elif rule.args == "cblinear":
            c2 = args[0] if args else None
            if not isinstance(c2, list) or not all(isinstance(x, int) for x in c2):
                raise fail(f"row {index}: CBLinear needs a list of output channels first in its arguments", path, line)
            args = [channels_of(ch, f, index, path, line), *args]
        elif rule.args == "cbfuse":
            if not isinstance(f, list) or len(f) < 2 or not args or not isinstance(args[0], list):
                raise fail(f"row {index}: CBFuse takes CBLinear rows and a target, and a list of pieces", path, line)
            c2 = channels_of(ch, f[-1], index, path, line)
        elif rule.args in ("channels", "depth"):
            args = args[:1] if rule.args == "depth" else args
            args.append(channels_of(ch, f if isinstance(f, list) else [f], index, path, line))
        elif rule.args in ("head", "segment"):
            args.extend([variables["reg_max"], bool(variables["end2end"]), channels_of(ch, f if isinstance(f, list) else [f], index, path, line)])
            if rule.args == "segment":
                args[2] = make_divisible(min(args[2], max_channels) * width, 8)
        else:
            c2 = channels_of(ch, f, index, path, line)
        extra = {"legacy": legacy} if m in HEADS else {"legacy": len(args) <= 3} if m == "SPPF" else {}
        if m == "CBFuse":
            pieces = [channels_of(ch, k, index, path, line) for k in f[:-1]]
            extra = {"pieces": pieces, "grid": grid_of(builder, layers, input_shape, f[-1], index, (path, line))}
        if m == "A2C2f" and len(args) > 4 and args[3] and args[4] > 1:
            extra = {"grid": grid_of(builder, layers, input_shape, f, index, (path, line))}
        try:
            built = rule.build(builder, *args, **extra)
        except (TypeError, ValueError, IndexError, ZeroDivisionError) as error:
            raise fail(f"row {index}: {m} cannot take the arguments {args}: {error}", path, line, f"model.{index}") from None
        name = f"model.{index}"
        entry, info_leaves, info_containers = _row_entry(builder, built, n, name)
        leaves |= info_leaves
        containers |= info_containers
        if isinstance(built, str):
            shared |= builder.info[built].shared
            unused.update({f"{name}.{module}": {"params": count} for module, count in builder.info[built].unused.items()})
        body = next(iter(entry.values()))
        body["name"] = name
        if index == 0 or f != -1:
            body["from"] = source_names(f, index, path, line)
        layers.append(entry)
        layers.item_lines.append(line)
        described.append(YoloRow(index, f, repeats, rule.type, repr(args), name))
        if index == 0:
            ch = []
        ch.append(c2)
    name = _model_name(path, scale)
    MODELS[path] = YoloModel(
        name, scale, task, tuple(described), len(leaves) + len(shared), len(leaves) + len(containers) + len(shared) + 1
    )
    spec: dict[str, Any] = {
        "name": name,
        "description": f"Ultralytics {Path(path).name}" + (f", scale {scale} (depth {depth}, width {width}, max "
                                                            f"channels {max_channels})" if scale else ""),
        "input": format_shape(input_shape),
        "blocks": builder.blocks,
        "layers": layers,
    }
    if unused:
        spec["unused"] = unused
    if rows and rows[-1][2] in ("Segment", "Segment26"):
        spec["outputs"] = {"output": f"model.{len(rows) - 1}", "proto": f"model.{len(rows) - 1}.proto.cv3"}
    return spec


def _rows(data: dict[str, Any], path: str) -> list[tuple[Any, Any, str, list[Any], int]]:
    """Every row of ``backbone`` then ``head`` as (from, repeats, module, args, line)."""
    rows = []
    for part in ("backbone", "head"):
        items = data.get(part)
        if not isinstance(items, list):
            raise fail(f"{part} must be a list of [from, repeats, module, args] rows", path, line_of(items, line_of(data, 1)))
        for position, row in enumerate(items):
            line = items.line_of(position) if isinstance(items, LocatedList) else 0
            if not isinstance(row, list) or len(row) != 4 or not isinstance(row[2], str) or not isinstance(row[3], list):
                raise fail(f"row {len(rows)}: expected [from, repeats, module, [args]], got {row!r}", path, line)
            rows.append((row[0], row[1], row[2], list(row[3]), line))
    if not rows:
        raise fail("the model has no rows", path, line_of(data, 1))
    return rows


def _row_entry(builder: Builder, built: Any, n: int, name: str) -> tuple[dict[str, Any], set[str], set[str]]:
    """The row's spec entry (a block instance, or an op for a torch.nn module; n copies in an ``nn.Sequential`` when
    the row repeats a module that does not repeat inside), its leaf module paths and its container paths."""
    def one(local: str) -> tuple[dict[str, Any], set[str], set[str]]:
        if isinstance(built, str):
            info = builder.info[built]
            return ({built: {"name": local}}, {f"{local}.{p}" for p in info.leaves},
                    {local} | {f"{local}.{p}" for p in info.containers})  # fmt: skip
        (op, args), = built.items()
        return {op: {**args, "name": local}}, {local}, set()

    if n == 1:
        entry, leaves, containers = one(name)
        return entry, leaves, containers
    layers = builder.layers()
    leaves, containers = set(), {name}
    for index in range(n):
        entry, sub_leaves, sub_containers = one(str(index))
        layers.entries.append(entry)
        leaves |= {f"{name}.{p}" for p in sub_leaves}
        containers |= {f"{name}.{p}" for p in sub_containers}
    block = builder.define("Sequential", layers)
    return {block: {}}, leaves, containers


def _model_name(path: str, scale: str) -> str:
    """``yolov8n``: the file's stem, with the scale after the version when the name has none."""
    stem = Path(path).stem
    if scale and not guess_scale(path):
        stem = re.sub(r"(\d+)", lambda match: match.group(1) + scale, stem, count=1)
    return stem


WRAPPER_KEYS = ("ultralytics", "scale", "nc", "input", "fuse", "name", "description", "expect")


def wrapped_spec(data: dict[str, Any], path: str) -> tuple[dict[str, Any], str, bool]:
    """A convcalc spec that names an Ultralytics YAML as its model (``ultralytics: models/yolov8n.yaml``, relative to
    the spec; with ``scale``, ``nc``, ``input``, ``fuse`` and ``expect``), so CI can gate a YAML it does not copy:
    (spec data of the model carrying the spec's ``expect``, the YAML's path, whether to fuse)."""
    from convcalc.core.notation import parse_shape
    from convcalc.frontends.options import SourceOptions
    from convcalc.specfile.loader import parse_spec_file

    def line(key: str) -> int:
        return data.line_of(key) if hasattr(data, "line_of") else 0

    unknown = [key for key in data if key not in WRAPPER_KEYS]
    if unknown:
        raise fail(f"{unknown[0]!r} is not a key of a spec with ultralytics: (keys: {', '.join(WRAPPER_KEYS)})", path, line(unknown[0]))
    target = data["ultralytics"]
    if not isinstance(target, str) or not target:
        raise fail("ultralytics: expected the path of an Ultralytics model YAML", path, line("ultralytics"))
    model = Path(path).parent / target
    read = unified_path(str(model)) or str(model)
    if not Path(read).is_file():
        raise fail(f"ultralytics: {target}: no such file (relative to the spec)", path, line("ultralytics"))
    for key, kind in (("scale", str), ("nc", int), ("input", str), ("fuse", bool)):
        if key in data and (not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool))):
            raise fail(f"{key}: expected {kind.__name__}, got {data[key]!r}", path, line(key))
    try:
        shape = parse_shape(data["input"], "input") if "input" in data else None
    except SpecError:
        raise
    except Exception as error:  # ConvCalcError: a bad shape
        raise fail(f"input: {getattr(error, 'message', error)}", path, line("input")) from None
    options = SourceOptions(scale=data.get("scale"), nc=data.get("nc"), input_shape=shape)
    yolo = parse_spec_file(read)
    if not isinstance(yolo, dict) or "backbone" not in yolo or "head" not in yolo:
        raise fail(f"ultralytics: {target} is not an Ultralytics model YAML (no backbone and head)", path, line("ultralytics"))
    spec = to_spec(yolo, str(model), options)
    MODELS[path] = MODELS[str(model)]
    for key in ("name", "description", "expect"):
        if key in data:
            spec[key] = data[key]
    return spec, read, bool(data.get("fuse", False))
