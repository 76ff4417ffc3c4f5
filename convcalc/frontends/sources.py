"""What a network file is, decided by its content, and the one way to load any of them into a :class:`Network`.

- a convcalc spec: a YAML or JSON mapping with ``input`` and ``layers``;
- an Ultralytics model YAML: a mapping with ``backbone`` and ``head`` (:mod:`convcalc.frontends.ultralytics_yaml`);
- an ONNX model: a protobuf ``ModelProto`` (:mod:`convcalc.frontends.onnx_reader`).

Every front end returns spec data (the mapping a spec file holds), which :func:`convcalc.specfile.loader.build`
validates and expands like any spec: one graph, one op catalogue, one analysis.
"""

from __future__ import annotations

from typing import Literal

from convcalc.frontends.options import SourceOptions
from convcalc.graph.model import Network

Kind = Literal["spec", "ultralytics", "onnx"]


def looks_like_onnx(head: bytes) -> bool:
    """An ONNX ``ModelProto`` starts with field 1 (``ir_version``, a varint: tag byte 0x08); no YAML or JSON text
    starts with that byte."""
    return head[:1] == b"\x08"


def source_kind(path: str) -> Kind:
    """``spec``, ``ultralytics`` or ``onnx``, by the file's content (the extension is not consulted)."""
    from convcalc.specfile.loader import read_spec_head

    if looks_like_onnx(read_spec_head(path)):
        return "onnx"
    return "spec"  # YAML: the mapping's keys decide in load_network (one parse)


def load_network(path: str, max_layers: int, options: SourceOptions | None = None) -> Network:
    """Any network file as a :class:`~convcalc.graph.model.Network` of at most ``max_layers`` layers."""
    from convcalc.specfile import loader

    options = options or SourceOptions()
    from convcalc.frontends.ultralytics_names import unified_path

    scaled = unified_path(path)  # `yolov8n.yaml` is Ultralytics' name for `yolov8.yaml` at scale n
    if scaled is not None:
        from convcalc.frontends.ultralytics_yaml import to_spec

        return loader.build(to_spec(loader.parse_spec_file(scaled), path, options), scaled, max_layers)
    if source_kind(path) == "onnx":
        from convcalc.frontends.onnx_reader import read_onnx

        return loader.build(read_onnx(path, options), path, max_layers)
    return network_of_data(loader.parse_spec_file(path), path, max_layers, options)


def network_of_data(data: object, path: str, max_layers: int, options: SourceOptions | None = None) -> Network:
    """Loaded YAML as a network: an Ultralytics model YAML (``backbone`` and ``head``), a spec that names one
    (``ultralytics: yolov8n.yaml``, with ``expect:``), or a spec."""
    from convcalc.specfile import loader

    options = options or SourceOptions()
    if isinstance(data, dict) and "backbone" in data and "head" in data and "layers" not in data:
        from convcalc.frontends.ultralytics_yaml import to_spec

        return loader.build(to_spec(data, path, options), path, max_layers)
    if isinstance(data, dict) and "ultralytics" in data and "layers" not in data:
        from dataclasses import replace

        from convcalc.frontends.ultralytics_yaml import wrapped_spec
        from convcalc.graph.fuse import fuse_batchnorm

        spec, model, fuse = wrapped_spec(data, path)
        network = replace(loader.build(spec, model, max_layers), file=path)
        return fuse_batchnorm(network) if fuse else network
    return loader.check_and_build(data, path, max_layers)
