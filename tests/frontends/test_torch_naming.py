"""What a captured graph says about its model (convcalc.frontends.torch_naming): unused parameters of shared modules,
and the params safety net (every layer counts exactly the parameters it reads, each once; else one-line refusal)."""

from __future__ import annotations

import pytest

from convcalc.errors import ConvCalcError
from convcalc.frontends.flat import FlatLayer, FlatNetwork, to_spec_data
from convcalc.graph.analysis import analyze
from convcalc.specfile.loader import build

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
nn = torch.nn


def test_the_safety_net_refuses_a_layer_that_counts_other_params_than_it_reads() -> None:
    from convcalc.frontends.torch_naming import check_params

    model = nn.Linear(4, 3)
    layers = (FlatLayer("fc", "linear", {"out": 3}, ("input",)),)
    network = FlatNetwork("model", (4,), layers)
    check_params(network, {"fc": 4 * 3 + 3}, model)  # right: nothing raised
    with pytest.raises(ConvCalcError, match=r"layer 'fc' \(linear, in .*\) would count 15 params where .* have 0"):
        check_params(network, {}, model)


def test_the_safety_net_refuses_a_total_other_than_the_models() -> None:
    from convcalc.frontends.torch_naming import check_params

    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))  # 15 + 8 params, the network has only the first
    network = FlatNetwork("model", (4,), (FlatLayer("0", "linear", {"out": 3}, ("input",)),))
    with pytest.raises(ConvCalcError, match="count 15 params, the model has 23"):
        check_params(network, {"0": 15}, model)


class NormTwice(nn.Module):
    """A batch norm called twice: no convcalc op computes it without counting its params again."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.bn(self.conv(x)))


def test_a_norm_called_twice_is_refused_rather_than_counted_twice() -> None:
    from convcalc.frontends.torch_capture import capture

    with pytest.raises(ConvCalcError) as caught:
        capture(NormTwice(), (8, 8, 3), "model")
    message = str(caught.value)
    assert "\n" not in message
    assert "(bn, in 'bn') would count 8 params where the model's parameters it reads have 0" in message


class Aliased(nn.Module):
    """A module registered under two names (CoaT's shared position encodings), used under the second only."""

    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Conv2d(3, 4, 3)
        self.block = nn.Sequential(nn.ReLU(), self.shared)
        self.head = nn.Linear(4, 2)  # never used: unused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def test_a_shared_module_read_under_another_name_is_not_unused() -> None:
    from convcalc.frontends.torch_capture import capture

    flat = capture(Aliased(), (8, 8, 3), "model")
    assert flat.unused == {"head": {"params": 10}}
    report = analyze(build(to_spec_data(flat), "model.yaml", 10**6))
    assert report.params == 4 * 27 + 4 + 10
