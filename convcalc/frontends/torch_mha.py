"""``nn.MultiheadAttention`` captured as one convcalc ``mha`` layer named by the module, instead of the in-projection,
reshapes, attention and out-projection its forward is traced into.

A call of the module is the run of graph nodes whose ``nn_module_stack`` holds that module under one key (PyTorch
keys a module's second call ``path@1``). The call becomes one layer when it reads only its query, key and value
(activations of batch 1 in PyTorch's layout: ``(N, L, E)`` with ``batch_first``, else ``(L, N, E)``, each read by a
transpose or an in-projection: no mask) and the module's own parameters, and one of its values is used after it
(the attention output; averaged weights left unused). Its inputs are ordered as its forward reads them (query
first): one input for self-attention, ``[q, kv]`` or ``[q, k, v]``. The merge is kept only when the ``mha`` op counts
exactly the parameters the call reads; otherwise the call is lowered op by op like any other code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convcalc.frontends.torch_builder import Builder
from convcalc.frontends.torch_layout import natural
from convcalc.frontends.torch_naming import op_name
from convcalc.frontends.torch_values import Param, Tensor
from convcalc.ops.handlers.linalg import op_mha

READS_QKV = {"transpose", "linear"}
"""The ops that read the query, key and value first in ``F.multi_head_attention_forward`` (batch_first, else not)."""


@dataclass(frozen=True)
class AttentionCall:
    """One call of an ``nn.MultiheadAttention``: its module path, the module, and its graph nodes in order."""

    path: str
    module: Any
    nodes: tuple[Any, ...]


def attention_calls(nodes: list[Any], modules: dict[str, Any]) -> dict[Any, AttentionCall]:
    """The calls of ``nn.MultiheadAttention`` modules in the graph, by their first node."""
    import torch

    runs: dict[str, list[Any]] = {}
    paths: dict[str, str] = {}
    for node in nodes:
        if node.op != "call_function":
            continue
        for key, (path, _) in (node.meta.get("nn_module_stack") or {}).items():
            if isinstance(modules.get(path), torch.nn.MultiheadAttention):
                runs.setdefault(key, []).append(node)
                paths[key] = path
                break
    return {run[0]: AttentionCall(paths[key], modules[paths[key]], tuple(run)) for key, run in runs.items()}


def mha_args(module: Any) -> dict[str, Any]:
    """The ``mha`` arguments of the module (those that differ from the op's defaults)."""
    args: dict[str, Any] = {"heads": module.num_heads}
    if module.kdim != module.embed_dim:
        args["kdim"] = module.kdim
    if module.vdim != module.embed_dim:
        args["vdim"] = module.vdim
    if module.in_proj_bias is None:
        args["bias"] = False
    if module.bias_k is not None:
        args["add_bias_kv"] = True
    if module.add_zero_attn:
        args["add_zero_attn"] = True
    return args


def outside_reads(call: AttentionCall, values: dict[Any, Any]) -> tuple[list[Tensor], list[Param]] | None:
    """The activations the call reads, one per read (one for self-attention, two when key is value, else three:
    query, key, value in the order the forward reads them), and the module's parameters it reads; None when it reads
    anything else (a mask, a buffer, another module's tensor) or an activation other than by :data:`READS_QKV`."""
    inside = set(call.nodes)
    activations, params, seen = [], [], set()
    for node in call.nodes:
        for arg in node.all_input_nodes:
            if arg in inside:
                continue
            value = values.get(arg)
            if isinstance(value, Tensor) and op_name(node) in READS_QKV:
                activations.append(value)  # each read by its own transpose or in-projection
            elif isinstance(value, Param) and value.kind == "param" and value.fqn.startswith(f"{call.path}."):
                if value.fqn not in seen:
                    params.append(value)
                    seen.add(value.fqn)
            else:
                return None
    return activations, params


def lower_attention(builder: Builder, call: AttentionCall, values: dict[Any, Any]) -> bool:
    """Emit the call as one ``mha`` layer and set the value of its output node; False (nothing emitted) when the call
    cannot be one layer."""
    reads = outside_reads(call, values)
    inside = set(call.nodes)
    used_after = [node for node in call.nodes if any(user not in inside for user in node.users)]
    if reads is None or len(used_after) != 1 or not 1 <= len(reads[0]) <= 3:
        return False
    activations, params = reads
    batch = 0 if call.module.batch_first else 1
    if any(len(x.shape) != 3 or x.shape[batch] != 1 or x.layout.batch != batch for x in activations):
        return False
    out_shape = builder.out_shape(used_after[0])
    if out_shape != tuple(activations[0].shape):
        return False
    args = mha_args(call.module)
    logical = [(x.shape[1 - batch], x.shape[2]) for x in activations]  # (L, E) of each
    if op_mha(args, logical).params != sum(p.numel for p in params):
        return False
    refs = [builder.conform(x, natural(x.shape, batch)).ref for x in activations]
    owned = sorted(params, key=lambda p: p.fqn.rpartition(".")[0] != call.path)  # the module's own first: its name
    values[used_after[0]] = builder.emit(call.nodes[0], "mha", args, refs, out_shape, natural(out_shape, batch), owned)
    return True
