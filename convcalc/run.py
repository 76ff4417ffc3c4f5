"""A network spec analysed from options written as text, as ``convcalc net`` (and ``export``, ``check``) take them:
load with a layer limit, override the input shape (same rank), analyse at a batch size and element type, count by
a convention. Errors are ConvCalcError naming the option at fault (``input``, ``batch``, ``depth``, ``max_layers``).

Long steps (a large spec, many layers) show progress on stderr when it is a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.errors import ConvCalcError

if TYPE_CHECKING:
    from convcalc.frontends.sources import SourceOptions
    from convcalc.graph.analysis import Report
    from convcalc.graph.model import Network


@dataclass(frozen=True)
class NetRun:
    """A loaded spec (``graph``, with the input as analysed), its analysis and the folding depth asked for."""

    graph: Network
    report: Report
    depth: int | None


def parse_max_layers(text: str | None) -> int:
    """``--max-layers N``: a whole number >= 1; the default limit when not given."""
    from convcalc.core.notation import parse_ints
    from convcalc.specfile.limits import DEFAULT_MAX_LAYERS

    if text is None:
        return DEFAULT_MAX_LAYERS
    values = parse_ints(text, "max_layers", "whole number")
    if len(values) != 1 or values[0] < 1:
        raise ConvCalcError("takes one whole number >= 1", "max_layers")
    return values[0]


def load_spec(path: str, max_layers: str | None, options: SourceOptions | None = None) -> Network:
    """Load a spec, or any network file a front end reads (an Ultralytics YAML, an ONNX file), with the layer limit
    of ``--max-layers``; a large file shows progress on a terminal."""
    import os

    from convcalc.frontends.sources import load_network
    from convcalc.report.progress import working

    with working(f"reading {os.path.basename(path)}", os.path.isfile(path) and os.path.getsize(path) > 200_000):
        return load_network(path, parse_max_layers(max_layers), options)


def same_rank(shape: tuple[int, ...], graph: Network) -> tuple[int, ...]:
    """``--input`` must have the rank of the spec's input: 224x224 would silently make ResNet-50 one-dimensional."""
    from convcalc.core.notation import format_shape, rank_words
    from convcalc.core.resolve import check_elements

    check_elements(shape, 1, "input")
    expected = len(graph.input_shape)
    if len(shape) != expected:
        raise ConvCalcError(
            f"{format_shape(shape)} has {len(shape)} dim{'s' if len(shape) > 1 else ''}, but {graph.name} takes "
            f"{expected}: {rank_words(expected)}, channels last (like its own {format_shape(graph.input_shape)})",
            "input",
        )
    return shape


def analyze_spec(
    path: str,
    *,
    input_text: str | None = None,
    batch_text: str | None = None,
    depth_text: str | None = None,
    dtype: str | None = None,
    convention: str = "convcalc",
    max_layers: str | None = None,
    source: SourceOptions | None = None,
    fuse: bool = False,
) -> NetRun:
    """Load the spec at ``path``, override its input, analyse it and count by ``convention``; options as text.
    ``source``: ``--scale`` and ``--nc`` for an Ultralytics YAML (which takes ``--input`` too, before it builds);
    ``fuse``: ``--fuse``, batch norms folded into the convs before them."""
    import os
    from dataclasses import replace

    from convcalc.core.notation import parse_ints, parse_shape
    from convcalc.frontends.sources import SourceOptions, source_kind
    from convcalc.graph.analysis import analyze
    from convcalc.report.progress import working

    # an ONNX model takes --input before its shapes are inferred (symbolic dims, reshapes of fixed sizes)
    onnx_input = input_text is not None and os.path.isfile(path) and source_kind(path) == "onnx"
    options = SourceOptions(input_shape=parse_shape(input_text, "input")) if onnx_input else None
    if source is not None:  # --scale, --nc: an Ultralytics model, built at --input (its channels, its default size)
        options = replace(source, input_shape=parse_shape(input_text, "input") if input_text is not None else None)
    graph = load_spec(path, max_layers, options)
    if fuse:
        from convcalc.graph.fuse import fuse_batchnorm

        graph = fuse_batchnorm(graph)
    if input_text is not None:
        graph = replace(graph, input_shape=same_rank(parse_shape(input_text, "input"), graph))
    batch = parse_ints(batch_text or "1", "batch", "whole number")
    depth = None if depth_text is None else parse_ints(depth_text, "depth", "whole number")
    if len(batch) != 1 or (depth is not None and (len(depth) != 1 or depth[0] < 0)):
        raise ConvCalcError("takes one whole number >= 0", "batch" if len(batch) != 1 else "depth")
    with working(f"analysing {len(graph.nodes):,} layers", len(graph.nodes) > 5000):
        report = analyze(graph, batch[0], dtype or "float32")
    if convention != "convcalc":
        from convcalc.conventions.counting import with_convention

        report = with_convention(report, convention)
    return NetRun(graph, report, None if depth is None else depth[0])


def source_options(scale: str | None, nc_text: str | None) -> SourceOptions:
    """``--scale`` and ``--nc`` (a whole number >= 1) as the front ends take them."""
    from convcalc.core.notation import parse_ints
    from convcalc.frontends.sources import SourceOptions

    nc = None
    if nc_text is not None:
        values = parse_ints(nc_text, "nc", "whole number")
        if len(values) != 1 or values[0] < 1:
            raise ConvCalcError("takes one whole number >= 1 (the number of classes)", "nc")
        nc = values[0]
    return SourceOptions(scale=scale, nc=nc)


def layer_index(graph: Network, name: str, where: str) -> int:
    """The node that ``--explain NAME`` means: the layer of that name or, for a block instance (``layer4.2``), its
    output, the last of its layers. ``where`` names the spec in the error."""
    target = next((node.index for node in graph.nodes if node.name == name), None)
    if target is None:
        target = next((node.index for node in reversed(graph.nodes) if name in node.blocks), None)
    if target is None:
        from convcalc.specfile.validation import did_you_mean

        names = [node.name for node in graph.nodes]
        raise ConvCalcError(f"no layer named {name!r} in {where}{did_you_mean(name, names)}", "explain")
    return target
