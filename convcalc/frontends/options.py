"""What the command line may set for a front end, apart from the file: one small value every front end reads."""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.core.notation import Shape


@dataclass(frozen=True)
class SourceOptions:
    """What the command line may set for a front end: Ultralytics' ``--scale`` and ``--nc``; ``input_shape`` is the
    ``--input`` override (channels last), which a front end may need before it builds the graph (ONNX's symbolic
    dims, Ultralytics' default input)."""

    scale: str | None = None
    nc: int | None = None
    input_shape: Shape | None = None
