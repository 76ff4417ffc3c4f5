"""Reading a YOLO model: ``convcalc net yolov8n.yaml`` against ``YOLO("yolov8n.yaml").info()`` in the same run, each
in its own process, run in turn (wall time, medians), and the ratio (goal: convcalc at least 30x faster).

    python benchmarks/bench_yolo.py [yolov8n.yaml] [--runs 3]   # needs ultralytics (the `ultralytics` extra)

The YAML is read from the installed ultralytics package (never copied): its ``yolov8.yaml`` is put in a temporary
folder under the scaled name's folder so that both tools resolve ``yolov8n.yaml`` the same way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ULTRALYTICS = """
import sys
from ultralytics import YOLO
YOLO(sys.argv[1]).info()
"""

# The libraries any `convcalc net` run imports before its own code runs (the CLI, PyYAML, spec validation, and the
# standard modules the core needs): the floor of convcalc's time, and so the best ratio any such run could reach.
STACK = "import typer, yaml, pydantic_core, dataclasses, fractions"


def timed(command: list[str], cwd: str) -> float:
    """Wall time of one run of ``command``, with bytecode caching on (as an installed package has it;
    PYTHONDONTWRITEBYTECODE would recompile every module each run); a failure stops it."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd, env=env)
    return time.perf_counter() - start


def in_turn(ours: list[str], theirs: list[str], runs: int, cwd: str) -> tuple[list[float], list[float]]:
    """Both commands ``runs`` times, alternating (so that both meet the same load), after one warm-up run each."""
    timed(ours, cwd), timed(theirs, cwd)
    pairs = [(timed(ours, cwd), timed(theirs, cwd)) for _ in range(runs)]
    return [a for a, _ in pairs], [b for _, b in pairs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="yolov8n.yaml")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    import re

    import ultralytics

    unified = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", options.model)
    source = next((Path(ultralytics.__file__).parent / "cfg" / "models").rglob(unified))
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(source, Path(folder) / unified)
        script = Path(sys.executable).with_name("convcalc")  # the console script, as a user runs it
        ours = [str(script), "net", options.model] if script.exists() else [sys.executable, "-m", "convcalc", "net", options.model]
        convcalc, reference = in_turn(ours, [sys.executable, "-c", ULTRALYTICS, options.model], options.runs, folder)
        floor, start = in_turn([sys.executable, "-c", STACK], [sys.executable, "-c", "pass"], options.runs, folder)
        library, info = in_process(options.model, options.runs, folder)
    ratios = [b / a for a, b in zip(convcalc, reference)]
    print(f"{options.model}: convcalc net {statistics.median(convcalc) * 1000:.0f} ms, YOLO(...).info() "
          f"{statistics.median(reference) * 1000:.0f} ms: {statistics.median(ratios):.1f}x faster (medians of "
          f"{options.runs} runs in turn, each in its own process, imports included; pair by pair "
          f"{', '.join(f'{r:.1f}' for r in ratios)})")
    print(f"the floor: `python -c pass` {statistics.median(start) * 1000:.0f} ms; `python -c '{STACK}'` "
          f"{statistics.median(floor) * 1000:.0f} ms, so no run that imports these can be more than "
          f"{statistics.median(reference) / statistics.median(floor):.1f}x faster than YOLO(...).info()")
    print(f"{options.model}: in one process after the imports: convcalc {library * 1000:.1f} ms (load, analyse, "
          f"Ultralytics' count), YOLO(...).info() {info * 1000:.0f} ms: {info / library:.1f}x faster")


def in_process(model: str, runs: int, folder: str) -> tuple[float, float]:
    """Best times in this process, the libraries imported: convcalc's load + analysis + Ultralytics convention, and
    ``YOLO(model).info()`` (which builds the model and profiles it with thop)."""
    import contextlib
    import io
    import logging

    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    from convcalc.conventions.counting import total_macs
    from convcalc.frontends.sources import load_network
    from convcalc.graph.analysis import analyze

    LOGGER.setLevel(logging.ERROR)
    path = str(Path(folder) / model)
    ours, theirs = [], []
    for _ in range(runs + 1):
        start = time.perf_counter()
        total_macs("ultralytics", analyze(load_network(path, 1_000_000)))
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            YOLO(model).info()  # Ultralytics finds its own yolov8.yaml for the scaled name
        theirs.append(time.perf_counter() - start)
    return min(ours[1:]), min(theirs[1:])


if __name__ == "__main__":
    main()
