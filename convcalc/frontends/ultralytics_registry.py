"""Which Ultralytics module a YAML row may name, and how ``parse_model`` treats its arguments: one table, each entry
the module's builder (:mod:`convcalc.frontends.ultralytics_modules`, ``ultralytics_heads``, or one op for the
``torch.nn`` modules) and its argument rule.

Argument rules, as ``parse_model`` in ultralytics 8.4.190 applies them (c1 = the input's channels):

- ``base``: c2 = args[0] scaled to ``make_divisible(min(c2, max_channels) * width, 8)``; args = [c1, c2, *args[1:]]
- ``repeat``: ``base``, and the row's repeats n inserted as args[2] (the module repeats inside; the row runs once)
- ``classify``: ``base`` without scaling c2 (the classes)
- ``head``: args + [reg_max, end2end, channels of each input] (``segment``: args[2], the protos, scaled as c2)
- ``channels``: args + [channels of each input] (``v10Detect``, ``SemanticSegment``); ``depth``: [args[0], channels]
- ``cblinear``: c2 = args[0], a list of pieces, unscaled; args = [c1, *args]; ``cbfuse``: c2 = the last input's
- ``concat``: c2 = the sum of the inputs' channels; ``bn``: args = [c1]; ``same``: c2 = c1, args as written
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convcalc.frontends import ultralytics_area as area
from convcalc.frontends import ultralytics_heads as heads
from convcalc.frontends import ultralytics_modules as modules
from convcalc.frontends import ultralytics_v9 as v9
from convcalc.frontends import ultralytics_v10 as v10
from convcalc.frontends.ultralytics_build import Builder


@dataclass(frozen=True)
class ModuleRule:
    """A module a row may name: ``build(builder, *args)`` gives a block name (or an op entry for a torch.nn module),
    ``args`` the argument rule, ``type`` the class path Ultralytics prints."""

    build: Callable[..., Any]
    args: str
    type: str


def upsample(b: Builder, size: Any = None, scale_factor: Any = None, mode: str = "nearest", *rest: Any) -> dict[str, Any]:
    """``nn.Upsample(size, scale_factor, mode)``."""
    if size is not None:
        return {"interpolate": {"size": size, "mode": mode}}
    return {"upsample": {"scale": scale_factor, "mode": mode}}


def maxpool(b: Builder, k: Any, s: Any = None, p: Any = 0, *rest: Any) -> dict[str, Any]:
    """``nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0)``."""
    return {"maxpool": {"k": k, "s": k if s is None else s, "p": p}}


def zero_pad(b: Builder, padding: Any) -> dict[str, Any]:
    """``nn.ZeroPad2d(padding)``: an int, or (left, right, top, bottom)."""
    if isinstance(padding, int):
        return {"pad": {"p": padding}}
    left, right, top, bottom = padding
    return {"pad": {"p": [[top, bottom], [left, right]]}}


def conv_transpose2d(b: Builder, c1: int, c2: int, k: Any = 1, s: Any = 1, p: Any = 0, *rest: Any) -> dict[str, Any]:
    """``nn.ConvTranspose2d(c1, c2, kernel_size, stride, padding)`` with its default bias."""
    return {"deconv": {"out": c2, "k": k, "s": s, "p": p, "bias": True}}


def batchnorm(b: Builder, c1: int) -> dict[str, Any]:
    return {"bn": {}}


def identity(b: Builder, *args: Any) -> dict[str, Any]:
    return {"identity": {}}


def concat(b: Builder, dimension: int = 1) -> dict[str, Any]:
    """``Concat(dimension)``: PyTorch's dim 1 of (N, C, H, W) is convcalc's channels (-1)."""
    return {"concat": {"dim": {1: -1, 2: 0, 3: 1}.get(dimension, -1)}}


CONV = "ultralytics.nn.modules.conv."
BLOCK = "ultralytics.nn.modules.block."
HEAD = "ultralytics.nn.modules.head."

MODULES: dict[str, ModuleRule] = {
    "Conv": ModuleRule(modules.conv, "base", CONV + "Conv"),
    "DWConv": ModuleRule(modules.dwconv, "base", CONV + "DWConv"),
    "ConvTranspose": ModuleRule(modules.conv_transpose, "base", CONV + "ConvTranspose"),
    "Focus": ModuleRule(modules.focus, "base", CONV + "Focus"),
    "GhostConv": ModuleRule(modules.ghost_conv, "base", CONV + "GhostConv"),
    "Concat": ModuleRule(concat, "concat", CONV + "Concat"),
    "Bottleneck": ModuleRule(modules.bottleneck, "base", BLOCK + "Bottleneck"),
    "GhostBottleneck": ModuleRule(modules.ghost_bottleneck, "base", BLOCK + "GhostBottleneck"),
    "C1": ModuleRule(modules.c1_block, "repeat", BLOCK + "C1"),
    "C2": ModuleRule(modules.c2_block, "repeat", BLOCK + "C2"),
    "C2f": ModuleRule(modules.c2f, "repeat", BLOCK + "C2f"),
    "C3": ModuleRule(modules.c3, "repeat", BLOCK + "C3"),
    "C3x": ModuleRule(modules.c3x, "repeat", BLOCK + "C3x"),
    "C3k": ModuleRule(modules.c3k, "repeat", BLOCK + "C3k"),
    "C3k2": ModuleRule(modules.c3k2, "repeat", BLOCK + "C3k2"),
    "C3Ghost": ModuleRule(modules.c3_ghost, "repeat", BLOCK + "C3Ghost"),
    "C2PSA": ModuleRule(modules.c2psa, "repeat", BLOCK + "C2PSA"),
    "SPP": ModuleRule(modules.spp, "base", BLOCK + "SPP"),
    "SPPF": ModuleRule(modules.sppf, "base", BLOCK + "SPPF"),
    "RepNCSPELAN4": ModuleRule(v9.repncspelan4, "base", BLOCK + "RepNCSPELAN4"),
    "ELAN1": ModuleRule(v9.elan1, "base", BLOCK + "ELAN1"),
    "AConv": ModuleRule(v9.aconv, "base", BLOCK + "AConv"),
    "ADown": ModuleRule(v9.adown, "base", BLOCK + "ADown"),
    "SPPELAN": ModuleRule(v9.sppelan, "base", BLOCK + "SPPELAN"),
    "CBLinear": ModuleRule(v9.cb_linear, "cblinear", BLOCK + "CBLinear"),
    "CBFuse": ModuleRule(v9.cb_fuse, "cbfuse", BLOCK + "CBFuse"),
    "SCDown": ModuleRule(v10.scdown, "base", BLOCK + "SCDown"),
    "PSA": ModuleRule(v10.psa, "base", BLOCK + "PSA"),
    "C2fCIB": ModuleRule(v10.c2fcib, "repeat", BLOCK + "C2fCIB"),
    "A2C2f": ModuleRule(area.a2c2f, "repeat", BLOCK + "A2C2f"),
    "Detect": ModuleRule(heads.detect, "head", HEAD + "Detect"),
    "v10Detect": ModuleRule(heads.v10_detect, "channels", HEAD + "v10Detect"),
    "Segment26": ModuleRule(heads.segment26, "segment", HEAD + "Segment26"),
    "Pose26": ModuleRule(heads.pose26, "head", HEAD + "Pose26"),
    "OBB26": ModuleRule(heads.obb26, "head", HEAD + "OBB26"),
    "Depth": ModuleRule(heads.depth, "depth", HEAD + "Depth"),
    "SemanticSegment": ModuleRule(heads.semantic_segment, "channels", HEAD + "SemanticSegment"),
    "Segment": ModuleRule(heads.segment, "segment", HEAD + "Segment"),
    "Pose": ModuleRule(heads.pose, "head", HEAD + "Pose"),
    "OBB": ModuleRule(heads.obb, "head", HEAD + "OBB"),
    "Classify": ModuleRule(heads.classify, "classify", HEAD + "Classify"),
    "nn.Upsample": ModuleRule(upsample, "same", "torch.nn.modules.upsampling.Upsample"),
    "nn.MaxPool2d": ModuleRule(maxpool, "same", "torch.nn.modules.pooling.MaxPool2d"),
    "nn.ZeroPad2d": ModuleRule(zero_pad, "same", "torch.nn.modules.padding.ZeroPad2d"),
    "nn.ConvTranspose2d": ModuleRule(conv_transpose2d, "base", "torch.nn.modules.conv.ConvTranspose2d"),
    "nn.BatchNorm2d": ModuleRule(batchnorm, "bn", "torch.nn.modules.batchnorm.BatchNorm2d"),
    "nn.Identity": ModuleRule(identity, "same", "torch.nn.modules.linear.Identity"),
}

HEADS = frozenset({"Detect", "Segment", "Pose", "OBB", "Segment26", "Pose26", "OBB26"})  # take parse_model's legacy
LEGACY_OFF = frozenset({"C3k2", "A2C2f", "C2fCIB"})  # any of them makes the detection heads YOLO11's (legacy = False)

ACTIVATIONS = {  # ``activation: nn.ReLU()`` in a YAML replaces Conv.default_act
    "SiLU": "silu", "ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leakyrelu", "Hardswish": "hardswish",
    "Mish": "mish", "GELU": "gelu", "Sigmoid": "sigmoid", "Tanh": "tanh", "ELU": "elu", "Identity": "identity",
}  # fmt: skip
