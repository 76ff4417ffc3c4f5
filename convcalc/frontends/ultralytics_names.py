"""Ultralytics' file names, and what the front end read: the little that the command line needs for every file,
kept apart from :mod:`convcalc.frontends.ultralytics_yaml` so that reading a convcalc spec never imports the
Ultralytics front end (start-up time).

``yolov8n.yaml`` is Ultralytics' name for ``yolov8.yaml`` at scale n (its ``guess_model_scale``); :data:`MODELS`
holds the description of each Ultralytics model read, by the path it was read as (for its table and summary line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCALE_IN_NAME = re.compile(r"yolo(e-)?[v]?\d+([nslmx])")


@dataclass(frozen=True)
class YoloRow:
    """One YAML row as ``parse_model`` prints it: index, from, repeats (after the depth gain), module class,
    arguments (after the insertions); ``name`` is its module path (``model.4``)."""

    index: int
    source: Any
    repeats: int
    module: str
    arguments: str
    name: str


@dataclass(frozen=True)
class YoloModel:
    """What the YAML says beyond the layers: the rows, the scale, the task and Ultralytics' two layer counts (leaf
    modules as ``model.info()`` prints them since 8.1, with the activation every Conv shares counted once; and every
    module, containers included, as older versions printed)."""

    name: str
    scale: str
    task: str
    rows: tuple[YoloRow, ...]
    leaf_layers: int
    all_layers: int


MODELS: dict[str, YoloModel] = {}


def guess_scale(path: str) -> str:
    """The scale letter in a file name as Ultralytics' ``guess_model_scale`` finds it (``yolov8n`` -> n), or ''."""
    match = SCALE_IN_NAME.search(Path(path).stem)
    return match.group(2) if match else ""


def unified_path(path: str) -> str | None:
    """``yolov8n.yaml`` (absent) -> ``yolov8.yaml`` next to it, when that exists: Ultralytics' scaled file names."""
    file = Path(path)
    if file.is_file() or not guess_scale(path):
        return None
    unified = file.with_name(re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", file.name))
    return str(unified) if unified.is_file() else None


def describe(path: str) -> YoloModel | None:
    """The Ultralytics description of the model last read from ``path`` (None if none was)."""
    return MODELS.get(path)
