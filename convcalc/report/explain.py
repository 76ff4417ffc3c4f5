"""Step-by-step arithmetic of one layer, the way a textbook works it: each formula, then the user's numbers; and
`net --explain`, the backward receptive-field recursion, in its three formats.

Pure text: returns lines; the CLI prints them.
"""

from __future__ import annotations

from math import prod

from convcalc.core.notation import dim_names
from convcalc.core.resolved import ConvSpec, LayerResult, LinearSpec, PoolSpec
from convcalc.core.windows import Window
from convcalc.report.numbers import format_shape, grouped


def star(values: tuple[int, ...] | list[int]) -> str:
    return "*".join(str(v) for v in values)


def _padded_terms(size: int, w: Window) -> str:
    """``640 + 2*2 - 3`` (the textbook's n + 2p - k), or the general n + p1 + p2 - d(k-1) - 1."""
    before, after = w.pad
    pad = f" + 2*{before}" if before == after and before else (f" + {before} + {after}" if before or after else "")
    kernel = f" - {w.kernel}" if w.dilation == 1 else f" - {w.dilation}*({w.kernel}-1) - 1"
    return f"{size}{pad}{kernel}"


def _window_lines(result: LayerResult, windows: tuple[Window, ...], ceil_mode: bool) -> list[str]:
    names = dim_names(len(windows))
    rounding = "ceil" if ceil_mode else "floor"
    lines = [f"Output size: out = {rounding}((n + 2p - d(k-1) - 1)/s) + 1"]
    for name, size, w, out in zip(names, result.input_shape, windows, result.output_shape):
        terms = _padded_terms(size, w)
        reach = w.padded(size) - w.span
        quotient = f"{rounding}({reach}/{w.stride})"
        value = (reach + (w.stride - 1 if ceil_mode else 0)) // w.stride + 1
        steps = f"{name}_out = {rounding}(({terms})/{w.stride}) + 1"
        if w.stride > 1 or w.dilation > 1:
            steps += f" = {quotient} + 1"
        steps += f" = {value}"
        if value != out:
            steps += f"; the last window would start at {(value - 1) * w.stride} >= {size} + {w.pad[0]}, so {out}"
        lines.append("  " + steps)
    return lines


def _field_lines(result: LayerResult, windows: tuple[Window, ...]) -> list[str]:
    lines = ["Receptive field: d(k-1) + 1 input positions per dimension; jump (effective stride) = s"]
    for name, w in zip(dim_names(len(windows)), windows):
        lines.append(f"  {name}: {w.dilation}*({w.kernel}-1) + 1 = {w.span}, jump {w.stride}")
    return lines


def _per_group(channels: int, groups: int) -> str:
    return f"({channels}/{groups})" if groups > 1 else str(channels)


def _plus(bias: bool, c_out: int) -> str:
    return f" + {c_out}" if bias else ""


def _batch(result: LayerResult) -> str:
    return f" * {result.batch} (batch)" if result.batch > 1 else ""


def explain_conv(result: LayerResult, spec: ConvSpec) -> list[str]:
    rank = len(spec.windows)
    names = dim_names(rank)
    c_in, c_out, g = result.input_shape[-1], spec.out, spec.groups
    kernel = [w.kernel for w in spec.windows]
    k_names = "*".join(f"k_{name}" for name in names)
    bias = " + C_out" if spec.bias else ""
    lines: list[str] = []
    if spec.transposed:
        lines.append("Output size: out = (n-1)*s - 2p + d(k-1) + output_padding + 1")
        for name, size, w, op, out in zip(names, result.input_shape, spec.windows, spec.output_padding, result.output_shape):
            pads = f"2*{w.pad[0]}" if w.pad[0] == w.pad[1] else f"{w.pad[0]} - {w.pad[1]}"
            lines.append(f"  {name}_out = ({size}-1)*{w.stride} - {pads} + {w.dilation}*({w.kernel}-1) + {op} + 1 = {out}")
        lines.append(f"Parameters: {k_names}*C_in*(C_out/g){bias}")
        lines.append(f"  params = {star(kernel)}*{c_in}*{_per_group(c_out, g)}{_plus(spec.bias, c_out)} = {grouped(result.params)}")
        in_names = "*".join(f"{name}_in" for name in names)
        lines.append(f"MACs, counted per input position (bias excluded): {in_names}*C_in * (C_out/g)*{k_names}")
        lines.append(
            f"  MACs = {star(result.input_shape)} * {c_out // g}*{star(kernel)}{_batch(result)} = {grouped(result.macs)}"
        )
    else:
        lines += _window_lines(result, spec.windows, False)
        lines.append(f"Parameters: {k_names}*(C_in/g)*C_out{bias}")
        lines.append(f"  params = {star(kernel)}*{_per_group(c_in, g)}*{c_out}{_plus(spec.bias, c_out)} = {grouped(result.params)}")
        out_names = "*".join(f"{name}_out" for name in names)
        lines.append(f"MACs (bias excluded): {out_names}*C_out * (C_in/g)*{k_names}")
        lines.append(
            f"  MACs = {star(result.output_shape)} * {c_in // g}*{star(kernel)}{_batch(result)} = {grouped(result.macs)}"
        )
    lines += _flops_lines(result, spec.bias)
    if spec.transposed:
        lines.append("Receptive field: each output sees the inputs its kernel taps reach; jump = 1/s (upsampling)")
        for name, field, jump in zip(names, result.receptive_field, result.jump):
            lines.append(f"  {name}: {field} input positions, jump {jump}")
    else:
        lines += _field_lines(result, spec.windows)
    return lines


def _flops_lines(result: LayerResult, bias: bool) -> list[str]:
    elements = prod(result.output_shape) * result.batch
    if bias:
        return [
            "FLOPs: 2*MACs (a multiply and an add each) + one bias add per output element",
            f"  FLOPs = 2*{grouped(result.macs)} + {grouped(elements)} = {grouped(result.flops)}",
        ]
    return ["FLOPs: 2*MACs (a multiply and an add each), no bias", f"  FLOPs = 2*{grouped(result.macs)} = {grouped(result.flops)}"]


def explain_pool(result: LayerResult, spec: PoolSpec) -> list[str]:
    lines = _window_lines(result, spec.windows, spec.ceil_mode)
    kernel = [w.kernel for w in spec.windows]
    elements = prod(result.output_shape) * result.batch
    lines.append("Parameters: 0 (pooling has no weights); MACs: 0")
    if spec.kind == "max":
        lines.append("FLOPs: prod(k) - 1 comparisons per output element")
        lines.append(f"  FLOPs = ({star(kernel)} - 1) * {grouped(elements)} = {grouped(result.flops)}")
    else:
        lines.append("FLOPs: prod(k) - 1 adds and one divide per output element")
        lines.append(f"  FLOPs = {star(kernel)} * {grouped(elements)} = {grouped(result.flops)}")
    return lines + _field_lines(result, spec.windows)


def explain_linear(result: LayerResult, spec: LinearSpec) -> list[str]:
    features, rows = result.input_shape[-1], prod(result.input_shape[:-1])
    bias = f" + {spec.out}" if spec.bias else ""
    lines = [
        "Parameters: in*out" + (" + out (bias)" if spec.bias else ""),
        f"  params = {features}*{spec.out}{bias} = {grouped(result.params)}",
        "MACs (bias excluded): in*out per row",
        f"  MACs = {f'{rows} * ' if rows > 1 else ''}{features}*{spec.out}{_batch(result)} = {grouped(result.macs)}",
    ]
    return lines + _flops_lines(result, spec.bias)


EXPLAIN = {ConvSpec: explain_conv, PoolSpec: explain_pool, LinearSpec: explain_linear}


def own_counts(result: LayerResult) -> LayerResult:
    """The layer as convcalc counts it, whatever convention ``result``'s MACs were counted under."""
    from convcalc.core.layer import compute

    return result if result.spec is None else compute(result.spec, result.input_shape, result.batch)


def convention_lines(result: LayerResult, convention: str) -> list[str]:
    """How ``convention`` counts the layer (``result`` as convcalc counts it): its rule, then the sum of its
    categories, times the batch. Nothing under convcalc's own convention."""
    if convention == "convcalc":
        return []
    from convcalc.conventions.counting import TOOLS, result_breakdown, rule_description

    tool = TOOLS[convention]
    counts = {category: value for category, value in result_breakdown(convention, result).items() if value}
    total = sum(counts.values()) * result.batch
    terms = " + ".join(grouped(value) for value in counts.values()) or "0"
    if result.batch > 1:
        terms = f"({terms})" if len(counts) > 1 else terms
        terms += f" * {result.batch} (batch)"
    names = " + ".join(counts) or "nothing"
    return [
        f"MACs as {tool.name} {tool.version} counts them (its {tool.calls_it}), --convention {convention}: "
        + rule_description(convention, result.op),
        f"  {convention} {tool.calls_it} = {names} = {terms} = {grouped(total)}"
        if counts
        else f"  {convention} {tool.calls_it} = {grouped(total)}",
    ]


def explain(result: LayerResult, convention: str = "convcalc") -> list[str]:
    """The arithmetic of one layer, step by step, with the result's own numbers substituted. The textbook steps
    are convcalc's counts; under another ``convention`` a last step derives the MACs that convention reports."""
    spec = result.spec
    own = own_counts(result)
    head = f"{result.op}: input {format_shape(result.input_shape)} -> output {format_shape(result.output_shape)}"
    body = EXPLAIN[type(spec)](own, spec) if spec is not None else []
    return [head, *body, *convention_lines(own, convention)]  # warnings go to stderr, not into the steps
