"""A network as importers find it: a flat list of layers in topological order, each named by the module that made it.

The PyTorch and ONNX importers build a :class:`FlatNetwork`; :func:`to_spec_data` turns it into spec data (every
layer with an explicit ``name`` and ``from``), which the spec loader validates like any spec, and
:mod:`convcalc.frontends.spec_writer` writes it as a readable spec (blocks, ``repeat``) with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convcalc.core.notation import Shape, format_shape


@dataclass(frozen=True)
class FlatLayer:
    """One layer: ``name`` is unique (the module path, ``layer3.2.conv1``, or for a function call inside a module the
    module's path and the op, ``layer3.2.add``); ``inputs`` are earlier layers' names, ``input`` for the network's
    input, ``name[k]`` for output k of a layer with several; ``module`` is the path of the module the layer belongs
    to (``layer3.2``; ``""`` at the top) and ``module_class`` the class of the leaf module that made it (``Conv2d``;
    ``""`` for a function)."""

    name: str
    op: str
    args: dict[str, Any]
    inputs: tuple[str, ...]
    module: str = ""
    module_class: str = ""


@dataclass(frozen=True)
class FlatNetwork:
    """A whole imported network. ``outputs`` maps each output's name to a layer (or ``name[k]``), None when the last
    layer is the only output; ``unused`` maps the path of a module the forward never runs to its counts
    (``{"params": n, "buffers": m}``); ``classes`` maps every module path to its class name (what groups layers into
    blocks)."""

    name: str
    input_shape: Shape
    layers: tuple[FlatLayer, ...]
    outputs: dict[str, str] | None = None
    unused: dict[str, dict[str, int]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    description: str = ""


def layer_entry(layer: FlatLayer, previous: str | None) -> dict[str, Any]:
    """A layer as a spec entry: ``{op: {args..., name, from}}``, ``from`` left out when it is the previous layer."""
    args: dict[str, Any] = dict(layer.args)
    args["name"] = layer.name
    if layer.inputs and (len(layer.inputs) > 1 or layer.inputs[0] != (previous or "input")):
        args["from"] = list(layer.inputs) if len(layer.inputs) > 1 else layer.inputs[0]
    return {layer.op: args}


def to_spec_data(network: FlatNetwork) -> dict[str, Any]:
    """The flat spec of an imported network: what :func:`convcalc.specfile.loader.build` takes."""
    data: dict[str, Any] = {"name": network.name, "input": format_shape(network.input_shape)}
    if network.description:
        data["description"] = network.description
    layers = []
    previous: str | None = None
    for layer in network.layers:
        layers.append(layer_entry(layer, previous))
        previous = layer.name
    data["layers"] = layers
    if network.outputs is not None:
        data["outputs"] = dict(network.outputs)
    if network.unused:
        data["unused"] = {path: dict(counts) for path, counts in network.unused.items()}
    return data
