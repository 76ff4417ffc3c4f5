"""Batch norm folded into the layer before it, as inference engines and Ultralytics' ``model.fuse()`` do.

At inference a batch norm is y = gamma (x - mean) / sqrt(var + eps) + beta: a scale and a shift per channel, which a
conv, transposed conv or linear layer that feeds only it absorbs: its weights scaled per output channel, its bias
(made if it had none) shifted. So the folded network has the layer with a bias (+C params) and no batch norm (-2C
params when affine, -2C buffers), and the same output shapes and receptive fields.
"""

from __future__ import annotations

from dataclasses import replace

from convcalc.graph.model import NETWORK_INPUT, Network, Node

FOLDS_INTO = frozenset({"conv", "deconv", "linear"})


def _users(network: Network) -> list[int]:
    """How many times each node's output is read: by a later node, or as a declared output."""
    users = [0] * len(network.nodes)
    for node in network.nodes:
        for source in node.inputs:
            if source != NETWORK_INPUT:
                users[source] += 1
    for output in network.outputs:
        if output.node != NETWORK_INPUT:
            users[output.node] += 1
    if not network.outputs and network.nodes:
        users[-1] += 1  # the last layer is the output
    return users


def foldable(node: Node, network: Network, users: list[int]) -> int | None:
    """The layer a batch norm folds into (its only input, a conv, deconv or linear read by nothing else), or None.
    A batch norm without running statistics normalises by the batch's own at inference too: it stays."""
    if node.op != "bn" or len(node.inputs) != 1 or not node.args.get("track_running_stats", True):
        return None
    source = node.inputs[0]
    if source == NETWORK_INPUT or (node.picks and node.picks[0] is not None):
        return None
    return source if network.nodes[source].op in FOLDS_INTO and users[source] == 1 else None


def fuse_batchnorm(network: Network) -> Network:
    """``network`` with each foldable batch norm removed and the layer before it given a bias; every reference to the
    batch norm (inputs, outputs) now reads that layer."""
    users = _users(network)
    folded: dict[int, int] = {}
    for node in network.nodes:
        target = foldable(node, network, users)
        if target is not None:
            folded[node.index] = target
    if not folded:
        return network
    into = {target: bn for bn, target in folded.items()}
    renumber: dict[int, int] = {}
    for node in network.nodes:
        if node.index not in folded:
            renumber[node.index] = len(renumber)

    def moved(index: int) -> int:
        return index if index == NETWORK_INPUT else renumber[folded.get(index, index)]

    nodes = []
    for node in network.nodes:
        if node.index in folded:
            continue
        changes: dict[str, object] = {"index": renumber[node.index], "inputs": tuple(moved(i) for i in node.inputs)}
        if node.index in into:
            changes["args"] = {**node.args, "bias": True}
            bn = network.nodes[into[node.index]]
            if node.expect is None and bn.expect is not None:
                changes["expect"] = bn.expect
        nodes.append(replace(node, **changes))  # type: ignore[arg-type]
    outputs = tuple(replace(output, node=moved(output.node)) for output in network.outputs)
    return replace(network, nodes=tuple(nodes), outputs=outputs)
