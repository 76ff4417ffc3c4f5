"""Importing a PyTorch model: ``convcalc import torchvision:resnet50`` against torchinfo's ``summary`` of the same
model, each command in its own process (imports included), run in turn, and the ratio of the medians (goal: convcalc
takes about torchinfo's time or less).

    python benchmarks/bench_import.py [torchvision:resnet50] [--runs 5]   # needs the vision extra and torchinfo

Both build the model without weights (``weights=None``) at the same input: torchvision's 224x224x3 for ResNet-50.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TORCHINFO = """
import sys
import torchinfo
import torchvision
name, size = sys.argv[1], int(sys.argv[2])
model = torchvision.models.get_model(name, weights=None)
torchinfo.summary(model, (1, 3, size, size), verbose=0)
"""


def timed(command: list[str]) -> float:
    """Wall time of one run of ``command`` (a failure stops the benchmark)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="torchvision:resnet50")
    parser.add_argument("--size", type=int, default=224, help="the input's height and width")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    library, name = options.target.split(":", 1)
    if library != "torchvision":
        parser.error("the torchinfo side builds torchvision models: give torchvision:NAME")
    with tempfile.TemporaryDirectory() as folder:
        spec = os.path.join(folder, f"{name}.yaml")
        ours = [sys.executable, "-m", "convcalc", "import", options.target,
                "--input", f"{options.size}x{options.size}x3", "-o", spec]  # fmt: skip
        theirs = [sys.executable, "-c", TORCHINFO, name, str(options.size)]
        timed(ours), timed(theirs)  # warm-up: bytecode caches, the page cache
        convcalc, torchinfo = [], []
        for _ in range(options.runs):  # in turn, so that both meet the same load
            convcalc.append(timed(ours))
            torchinfo.append(timed(theirs))
    ratios = [b / a for a, b in zip(convcalc, torchinfo)]
    print(f"{options.target}: convcalc import {statistics.median(convcalc):.2f} s, torchinfo summary "
          f"{statistics.median(torchinfo):.2f} s (medians of {options.runs}, each in its own process, imports included)")
    print(f"torchinfo / convcalc: median {statistics.median(ratios):.2f}x, pair by pair {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
