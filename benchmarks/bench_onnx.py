"""Reading an ONNX model: ``convcalc net resnet50.onnx`` against onnx-tool's profile of the same file, side by side
in one run, each in its own process (time and peak resident memory).

    python benchmarks/bench_onnx.py            # needs torch and onnx-tool (the dev venv has both)

The model is examples/resnet50.yaml exported by PyTorch (opset 17, eval mode) into a temporary folder: about 97 MiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

EXPORT = """
import sys, torch
code = open(sys.argv[1]).read()
namespace = {"__name__": "exported"}
exec(compile(code, "exported", "exec"), namespace)
module = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, torch.nn.Module)
          and v.__module__ == "exported"][-1]
torch.onnx.export(module().eval(), (torch.randn(*namespace["INPUT_SHAPE"]),), sys.argv[2], opset_version=17,
                  dynamo=False)
"""

ONNX_TOOL = """
import sys, onnx_tool
model = onnx_tool.Model(sys.argv[1])
model.graph.shape_infer()
model.graph.profile()
print(model.graph.macs)
"""


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one process run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, usage = os.wait4(process.pid, 0)[1:]
    elapsed = time.perf_counter() - start
    if process.returncode not in (None, 0) or os.waitstatus_to_exitcode(_) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        code = os.path.join(folder, "resnet50.py")
        model = os.path.join(folder, "resnet50.onnx")
        with open(code, "w") as handle:
            handle.write(subprocess.run([sys.executable, "-m", "convcalc", "export", "examples/resnet50.yaml"],
                                        capture_output=True, text=True, check=True).stdout)  # fmt: skip
        subprocess.run([sys.executable, "-c", EXPORT, code, model], check=True, capture_output=True)
        size = os.path.getsize(model) / 2**20
        print(f"resnet50.onnx: {size:.1f} MiB")
        runs = {
            "convcalc net resnet50.onnx": [sys.executable, "-m", "convcalc", "net", model, "--format", "json"],
            "onnx-tool profile": [sys.executable, "-c", ONNX_TOOL, model],
        }
        for label, command in runs.items():
            best = min(measured(command) for _ in range(3))
            print(f"{label:28} {best[0]:6.2f} s   peak {best[1]:6.0f} MiB")


if __name__ == "__main__":
    main()
