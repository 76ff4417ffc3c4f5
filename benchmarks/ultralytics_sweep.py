"""Every model YAML of the installed ultralytics package at every scale: convcalc's params and Ultralytics GFLOPs
(``--convention ultralytics``) against the model Ultralytics builds (no weights) and ``get_flops``; one line each,
OK or BAD, and convcalc's time per model.

    python benchmarks/ultralytics_sweep.py ["v8/*.yaml"] [n,s]    # needs ultralytics and ultralytics-thop
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import sys
import time
from pathlib import Path


def main() -> None:
    import ultralytics
    from ultralytics.nn import tasks
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import get_flops

    from convcalc.conventions.counting import total_macs
    from convcalc.errors import ConvCalcError
    from convcalc.frontends.sources import SourceOptions, load_network
    from convcalc.graph.analysis import analyze

    LOGGER.setLevel(logging.ERROR)
    classes = {"detect": tasks.DetectionModel, "segment": tasks.SegmentationModel, "pose": tasks.PoseModel,
               "obb": tasks.OBBModel, "classify": tasks.ClassificationModel, "depth": tasks.DepthModel,
               "semantic": tasks.SemanticSegmentationModel}  # fmt: skip
    root = Path(ultralytics.__file__).parent / "cfg" / "models"
    pattern = sys.argv[1] if len(sys.argv) > 1 else "*/*.yaml"
    only = sys.argv[2].split(",") if len(sys.argv) > 2 else None
    for path in sorted(root.glob(pattern)):
        data = tasks.yaml_model_load(path)
        for scale in list(data.get("scales") or {}) or [""]:
            if only and scale not in only:
                continue
            task = tasks.guess_model_task(data)
            size = 224 if task == "classify" else 640
            start = time.perf_counter()
            try:
                report = analyze(load_network(str(path), 1_000_000, SourceOptions(scale=scale or None)))
                ours: tuple[object, object] = (report.params, 2 * total_macs("ultralytics", report) / 1e9)
            except ConvCalcError as error:
                ours = ("refused", error.message[:80])
            took = time.perf_counter() - start
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    model = classes.get(task, tasks.DetectionModel)(dict(copy.deepcopy(data), scale=scale), verbose=False)
                theirs: tuple[object, object] = (sum(p.numel() for p in model.parameters()), get_flops(model, size))
            except Exception as error:  # noqa: BLE001 (Ultralytics cannot build some of its own YAMLs alone)
                theirs = ("error", str(error)[:60])
            same = ours[0] == theirs[0] and isinstance(ours[1], float) and isinstance(theirs[1], float) and abs(
                ours[1] - theirs[1]) <= 0.001 * theirs[1]  # fmt: skip
            print(f"{'OK ' if same else 'BAD'} {path.parent.name}/{path.name} {scale or '-'}: convcalc {ours} "
                  f"({took * 1000:.0f} ms), ultralytics {theirs}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
