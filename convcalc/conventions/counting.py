"""Counting conventions: the number each popular PyTorch counter reports, reproduced from a spec, layer by layer.

The counters disagree because each counts a different set of things (bias or not, batch norm or not, activations,
pooling, how a transposed conv is counted). Under a convention, a layer's count is exactly what that tool adds for
the layer's PyTorch module at batch size 1 (the module convcalc's ``export --to torch`` writes for it, which is
what torchvision uses: ``nn.ReLU``, ``nn.MaxPool2d``, ``nn.AdaptiveAvgPool2d``, ``x + y`` for residual adds), split
by :data:`~convcalc.conventions.base.CATEGORIES` so that the differences between conventions can be explained.
Each tool's rules, with what it counts for each op, are in its own module (``convcalc.conventions.<tool>_rules``);
this one applies them to a report or a ``convcalc layer`` result.

Versions whose source these rules were read from, and checked against (``pip install 'convcalc[torch,counters]'``):

=========== ====================== ============================================================================
convention  version                the number reproduced
=========== ====================== ============================================================================
torchinfo   1.8.0                  ``torchinfo.summary(model, input_size=(1, C, H, W)).total_mult_adds``
fvcore      0.1.5.post20221221     ``fvcore.nn.FlopCountAnalysis(model.eval(), x).total()``
ptflops     0.7.5                  ``get_model_complexity_info(model, (C, H, W), as_strings=False)[0]``
                                   (its default backend, ``pytorch``, with functional counting on; its README
                                   says ``aten`` is the default, its code does not)
thop        0.1.1.post2209072238   ``thop.profile(model, inputs=(x,))[0]``
ultralytics 8.4.190, thop 2.2.3     ``get_flops(model, imgsz) / 2 * 1e9`` (Ultralytics prints 2 x MACs as GFLOPs)
=========== ====================== ============================================================================

For torchvision's ResNet-50 at 224x224: convcalc 4,089,184,256; torchinfo 4,089,238,376; fvcore 4,111,512,576;
ptflops 4,132,436,968; thop 4,133,742,592; ultralytics (thop 2.2.3's rules) 4,133,742,592.

Every rule is per sample (batch 1); convcalc multiplies by ``--batch``. (The tools themselves are not all linear in
the batch: ptflops divides its module counts by the batch but not its functional ones; thop truncates adaptive
average pooling's fractional count after multiplying by the batch.)

Pure Python: nothing here imports torch or the tools.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Union

from convcalc.conventions import (
    convcalc_rules,
    fvcore_rules,
    ptflops_rules,
    thop_rules,
    torchinfo_rules,
    ultralytics_rules,
)
from convcalc.conventions.base import CATEGORIES, Layer, Rule, Tool, layer_of_result, layer_of_row
from convcalc.core.resolved import LayerResult
from convcalc.errors import ConvCalcError

if TYPE_CHECKING:  # the network modules load only when a network is counted (`convcalc layer` needs none)
    from convcalc.graph.analysis import Report, Row
    from convcalc.graph.model import Network

    Rows = Union[Report, Network, Sequence[Row]]

_MODULES = (convcalc_rules, torchinfo_rules, fvcore_rules, ptflops_rules, thop_rules, ultralytics_rules)
CONVENTIONS = tuple(module.TOOL.name for module in _MODULES)
TOOLS: dict[str, Tool] = {module.TOOL.name: module.TOOL for module in _MODULES}
RULES: dict[str, dict[str, Rule]] = {module.TOOL.name: module.RULES for module in _MODULES}


def check_convention(convention: str) -> str:
    if convention not in RULES:
        raise ConvCalcError(f"unknown convention {convention!r}; choose {', '.join(CONVENTIONS)}", "convention")
    return convention


def rule_for(convention: str, op: str) -> Rule:
    """``convention``'s rule for ``op``; an error for an unknown convention or an op it has no rule for."""
    rule = RULES[check_convention(convention)].get(op)
    if rule is None:
        raise ConvCalcError(f"no {convention} rule for op {op!r}", "convention")
    return rule


def layer_breakdown(convention: str, layer: Layer) -> dict[str, int]:
    """Category -> count of one layer at batch 1 under ``convention`` (every category present, zeros included)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    counts.update(rule_for(convention, layer.op)(layer))
    return counts


def rule_description(convention: str, op: str) -> str:
    """What ``convention`` counts for ``op``, in one line: its rule's docstring without reStructuredText marks."""
    return " ".join((rule_for(convention, op).__doc__ or "").replace("``", "").split())


def breakdown(convention: str, row: Row) -> dict[str, int]:
    """Category -> count of one layer of a report, at batch 1, under ``convention``."""
    return layer_breakdown(convention, layer_of_row(row))


def result_breakdown(convention: str, result: LayerResult) -> dict[str, int]:
    """Category -> count of one ``convcalc layer`` result, per sample (batch 1) whatever its ``batch``."""
    return layer_breakdown(convention, layer_of_result(result))


def _rows(source: Rows) -> Sequence[Row]:
    """A report's rows; a bare Network is analysed once (the rules read what the analysis computed)."""
    from convcalc.graph.analysis import Report, analyze
    from convcalc.graph.model import Network

    if isinstance(source, Network):
        source = analyze(source)
    return source.rows if isinstance(source, Report) else source


def network_breakdown(convention: str, network: Rows) -> list[dict[str, int]]:
    """Every layer's breakdown at batch 1, in topological order."""
    return [breakdown(convention, row) for row in _rows(network)]


def sum_breakdowns(breakdowns: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(CATEGORIES, 0)
    for counts in breakdowns:
        for category, count in counts.items():
            total[category] += count
    return total


def totals(convention: str, network: Rows) -> dict[str, int]:
    """Category -> the network's count at batch 1 under ``convention``."""
    return sum_breakdowns(network_breakdown(convention, network))


def total_macs(convention: str, network: Rows) -> int:
    """The network's count at batch 1 under ``convention``: the number that tool reports for it."""
    return sum(totals(convention, network).values())


def compare(network: Rows) -> dict[str, dict[str, int]]:
    """Convention -> category -> count at batch 1, for every convention, from one report."""
    rows = _rows(network)
    return {convention: totals(convention, rows) for convention in CONVENTIONS}


def with_convention(report: Report, convention: str) -> Report:
    """The report with every layer's MACs counted under ``convention`` (times the report's batch)."""
    counts = network_breakdown(check_convention(convention), report)
    rows = tuple(replace(row, macs=sum(c.values()) * report.batch) for row, c in zip(report.rows, counts))
    return replace(report, rows=rows, convention=convention)


def layer_with_convention(result: LayerResult, convention: str) -> LayerResult:
    """A ``convcalc layer`` result with its MACs counted under ``convention`` (times its batch)."""
    return replace(result, macs=sum(result_breakdown(check_convention(convention), result).values()) * result.batch)
