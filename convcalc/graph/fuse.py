"""The inference graph (``--fuse``), as inference engines and Ultralytics' ``model.fuse()`` make it.

- **Batch norm folded** into the layer before it. At inference a batch norm is y = gamma (x - mean) / sqrt(var + eps)
  + beta: a scale and a shift per channel, which a conv, transposed conv or linear layer that feeds only it absorbs:
  its weights scaled per output channel, its bias (made if it had none) shifted. The layer gains a bias (+C params),
  the batch norm goes (-2C params when affine, -2C buffers); shapes and receptive fields stay.
- **Parallel convs summed, merged** (RepVGG's re-parameterisation, Ultralytics' ``RepVGGDW`` and ``RepConv``): two
  convs of the same input, the same stride, groups and output channels, read only by one ``add``, the smaller kernel
  centred in the larger (padding larger by half the difference), are one conv of the larger kernel with a bias: the
  smaller conv and the add go, their sum is the larger conv's output. Activation-free layers between a conv and the
  add (``identity``) are looked through.
- **Nothing unread**: layers no output reads are removed (Ultralytics' end-to-end heads run a one-to-one copy of
  every branch beside the one-to-many head, whose output is returned, and hold training-only parameters; ``fuse()``
  drops both). Modules a spec lists as ``unused:`` stay: nothing says an inference engine would drop them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from convcalc.graph.model import NETWORK_INPUT, Network, Node

FOLDS_INTO = frozenset({"conv", "deconv", "linear"})
SEE_THROUGH = frozenset({"identity"})


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


def _rebuild(network: Network, removed: dict[int, int], changes: dict[int, dict[str, Any]]) -> Network:
    """``network`` without the nodes ``removed`` (each mapped to the node whose output replaces its own, or to itself
    when nothing reads it), with ``changes`` to the arguments of others; indices renumbered."""
    if not removed and not changes:
        return network
    renumber: dict[int, int] = {}
    for node in network.nodes:
        if node.index not in removed:
            renumber[node.index] = len(renumber)

    def moved(index: int) -> int:
        while index in removed and removed[index] != index:
            index = removed[index]
        return index if index == NETWORK_INPUT else renumber[index]

    nodes = []
    for node in network.nodes:
        if node.index in removed:
            continue
        update: dict[str, object] = {"index": renumber[node.index], "inputs": tuple(moved(i) for i in node.inputs)}
        if node.index in changes:
            update.update(changes[node.index])
        nodes.append(replace(node, **update))  # type: ignore[arg-type]
    outputs = tuple(replace(output, node=moved(output.node)) for output in network.outputs)
    return replace(network, nodes=tuple(nodes), outputs=outputs)


def fold_batchnorm(network: Network) -> Network:
    """Each foldable batch norm removed and the layer before it given a bias (and the batch norm's ``expect``)."""
    users = _users(network)
    removed: dict[int, int] = {}
    changes: dict[int, dict[str, Any]] = {}
    for node in network.nodes:
        target = foldable(node, network, users)
        if target is not None:
            removed[node.index] = target
            source = network.nodes[target]
            changes[target] = {"args": {**source.args, "bias": True}}
            if source.expect is None and node.expect is not None:
                changes[target]["expect"] = node.expect
    return _rebuild(network, removed, changes)


def _per_dim(value: Any, rank: int) -> tuple[int, ...] | None:
    """A kernel or padding as one int per spatial dimension (None if it is not plain ints)."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank
    return values if all(isinstance(v, int) and not isinstance(v, bool) for v in values) else None


def _branch(network: Network, index: int, users: list[int]) -> list[int] | None:
    """The nodes from an add's input back to a conv through see-through layers, each read once: [.., conv]."""
    path = [index]
    while index != NETWORK_INPUT and network.nodes[index].op in SEE_THROUGH and users[index] == 1:
        node = network.nodes[index]
        if len(node.inputs) != 1 or (node.picks and node.picks[0] is not None):
            return None
        index = node.inputs[0]
        path.append(index)
    if index == NETWORK_INPUT or network.nodes[index].op != "conv" or users[index] != 1:
        return None
    return path


def _merges_into(big: Node, small: Node) -> bool:
    """Whether conv ``small`` is conv ``big`` with a smaller kernel centred in it (same input, everything else equal)."""
    if big.inputs != small.inputs or big.picks != small.picks:
        return False
    same = {key: value for key, value in big.args.items() if key not in ("k", "p", "bias")}
    if (
        same != {key: value for key, value in small.args.items() if key not in ("k", "p", "bias")}
        or big.args.get("d", 1) != 1
    ):
        return False
    rank = max(len(v) if isinstance(v, (list, tuple)) else 1 for v in (big.args.get("k", 1), small.args.get("k", 1)))
    kb, ks = _per_dim(big.args.get("k", 1), rank), _per_dim(small.args.get("k", 1), rank)
    pb, ps = _per_dim(big.args.get("p", 0), rank), _per_dim(small.args.get("p", 0), rank)
    if None in (kb, ks, pb, ps):
        return False
    return all(b >= s and (b - s) % 2 == 0 and p - q == (b - s) // 2 for b, s, p, q in zip(kb, ks, pb, ps))  # type: ignore[arg-type]


def merge_parallel_convs(network: Network) -> Network:
    """Each ``add`` of two convs of one input whose kernels nest (see the module) replaced by the larger conv."""
    users = _users(network)
    removed: dict[int, int] = {}
    changes: dict[int, dict[str, Any]] = {}
    for node in network.nodes:
        if node.op != "add" or len(node.inputs) != 2 or any(p is not None for p in node.picks):
            continue
        paths = [_branch(network, source, users) for source in node.inputs]
        if paths[0] is None or paths[1] is None or set(paths[0]) & set(paths[1]):
            continue
        for big, small in ((paths[0], paths[1]), (paths[1], paths[0])):
            if _merges_into(network.nodes[big[-1]], network.nodes[small[-1]]):
                removed[node.index] = big[0]
                removed.update({index: index for index in small})
                changes[big[-1]] = {"args": {**network.nodes[big[-1]].args, "bias": True}}
                break
    return _rebuild(network, removed, changes)


def drop_unread(network: Network) -> Network:
    """Without the layers no output reads, directly or through others (``param`` tensors read by nothing too)."""
    read = [False] * len(network.nodes)
    pending = [output.node for output in network.outputs] or ([len(network.nodes) - 1] if network.nodes else [])
    while pending:
        index = pending.pop()
        if index != NETWORK_INPUT and not read[index]:
            read[index] = True
            pending.extend(network.nodes[index].inputs)
    dropped = {node.index: node.index for node in network.nodes if not read[node.index]}
    return _rebuild(network, dropped, {})


def fuse_batchnorm(network: Network) -> Network:
    """The inference graph: batch norms folded, nested parallel convs merged, nothing unread (see the module)."""
    fused = drop_unread(merge_parallel_convs(fold_batchnorm(network)))
    return network if fused == network else fused
