"""The import sweep: `convcalc import` on every torchvision model and one timm model per family, each checked exact.

For each model, in a subprocess with a timeout: import it (``convcalc.frontends.torch_models.import_model``), build
and analyse the spec, and compare with PyTorch at the same input: params = ``sum(p.numel() for p in
model.parameters())``, MACs = ``FlopCounterMode`` total / 2 (the MHA fast path off, SDPA's math kernel, so that
attention's matmuls are counted), and the output shape. Writes docs/import-sweep.md and prints the rates.

    python benchmarks/import_sweep.py                 # the full sweep (hours on 2 cores)
    python benchmarks/import_sweep.py --only torchvision:resnet50 timm:ghostnet_100
    python benchmarks/import_sweep.py --worker torchvision:resnet50    # one model, JSON on stdout
    python benchmarks/import_sweep.py --rerun                          # again the models the table has not exact

Needs the vision extra (torch, torchvision, timm). Weights are never loaded.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIDEO_FRAMES = 16  # torchvision's video models' clips; the height and width are their weights' crop size
DETECTION_BACKBONES = ("resnet50", "mobilenet_v3_large", "resnet18", "resnext50_32x4d", "wide_resnet50_2",
                       "mobilenet_v2", "efficientnet_b0", "regnet_y_400mf")


def video_input(target: str) -> str:
    """16 frames at the crop size of the model's weights' transforms (112 for R3D, 224 for MViT, S3D, Swin3D)."""
    import torchvision

    weights = list(torchvision.models.get_model_weights(target.rsplit(":", 1)[-1]))[0]
    crop = list(weights.transforms().crop_size)
    height, width = (crop * 2)[:2]
    return f"{VIDEO_FRAMES}x{height}x{width}x3"


def torchvision_targets() -> list[tuple[str, str]]:
    """(group, target) for torchvision's classification, segmentation and video models and detection backbones."""
    import torchvision

    targets = []
    for group, module in (("classification", torchvision.models), ("segmentation", torchvision.models.segmentation),
                          ("video", torchvision.models.video)):
        targets += [(group, f"torchvision:{name}") for name in torchvision.models.list_models(module=module)]
    targets += [("detection backbone", f"benchmarks/import_sweep.py:fpn_{name}") for name in DETECTION_BACKBONES]  # cwd: ROOT
    return targets


def timm_targets() -> list[tuple[str, str]]:
    """One timm model per family: ``timm.list_models()`` grouped by the name before the first digit or ``_``."""
    import timm

    families: dict[str, str] = {}
    for name in timm.list_models():
        families.setdefault(re.split(r"[\d_]", name, maxsplit=1)[0], name)
    return [("timm", f"timm:{name}") for name in families.values()]


def fpn_backbone(name: str) -> object:
    """torchvision's detection feature extractor for a classification backbone: its body and FPN (dict output)."""
    from torchvision.models.detection.backbone_utils import mobilenet_backbone, resnet_fpn_backbone

    if name.startswith(("resnet", "resnext", "wide_resnet")):
        return resnet_fpn_backbone(backbone_name=name, weights=None, trainable_layers=5)
    if name.startswith("mobilenet"):
        return mobilenet_backbone(backbone_name=name, weights=None, fpn=True, trainable_layers=6)
    import torch
    import torchvision
    from torchvision.models.detection.backbone_utils import BackboneWithFPN

    model = torchvision.models.get_model(name, weights=None)
    features = getattr(model, "features", None)
    if features is None:  # RegNet: a stem, then the stages of its trunk
        features = torch.nn.Sequential(model.stem, *model.trunk_output)
    return _features_fpn(features, BackboneWithFPN)


def _features_fpn(features: object, backbone_with_fpn: type) -> object:
    import torch

    stages = [str(k) for k, _ in enumerate(features)]  # type: ignore[arg-type]
    picks = stages[-3:]
    with torch.no_grad():
        x, channels = torch.zeros(1, 3, 64, 64), []
        for index, block in enumerate(features):  # type: ignore[arg-type]
            x = block(x)
            if str(index) in picks:
                channels.append(x.shape[1])
    return backbone_with_fpn(features, {k: k for k in picks}, channels, 256)


def __getattr__(name: str) -> object:  # fpn_<backbone> targets for `file.py:callable`
    if name.startswith("fpn_"):
        return lambda: fpn_backbone(name.removeprefix("fpn_"))
    raise AttributeError(name)


def reference(model: object, input_shape: tuple[int, ...]) -> dict[str, object]:
    """PyTorch's own numbers at one input of batch 1: params, MACs (FlopCounterMode / 2), output shapes."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    physical = (1, input_shape[-1], *input_shape[:-1])
    model.eval()  # type: ignore[attr-defined]
    for parameter in model.parameters():  # type: ignore[attr-defined]
        parameter.requires_grad_(False)  # FlopCounterMode's module tracker trips on expanded params (CaiT, PiT)
    torch.backends.mha.set_fastpath_enabled(False)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        output = model(torch.randn(*physical))  # type: ignore[operator]
    leaves = [t for t in torch.utils._pytree.tree_leaves(output) if isinstance(t, torch.Tensor)]
    return {
        "params": sum(p.numel() for p in model.parameters()),  # type: ignore[attr-defined]
        "macs": counter.get_total_flops() // 2,
        "shapes": [list(t.shape[1:]) for t in leaves],
    }


def same_shape(torch_shape: list[int], convcalc_shape: list[int]) -> bool:
    """convcalc's shape is PyTorch's without the batch, in order or with the channels moved last."""
    moved = torch_shape[1:] + torch_shape[:1] if len(torch_shape) >= 2 else torch_shape
    return convcalc_shape in (torch_shape, moved)


def worker(target: str, input_text: str | None) -> dict[str, object]:
    """Import one model and compare it with PyTorch; a dict for the table."""
    from convcalc.errors import ConvCalcError
    from convcalc.frontends.flat import to_spec_data
    from convcalc.frontends.torch_models import default_input, import_model, load_target
    from convcalc.graph.analysis import analyze
    from convcalc.specfile.loader import build

    shape = tuple(int(v) for v in input_text.split("x")) if input_text else None
    started = time.perf_counter()
    try:
        flat = import_model(target, shape)
    except ConvCalcError as error:
        return {"imported": False, "reason": str(error)}
    seconds = time.perf_counter() - started
    try:
        report = analyze(build(to_spec_data(flat), f"{target}.yaml", 10**7))
    except Exception as error:  # noqa: BLE001 - the spec convcalc wrote does not load: a failure to report
        return {"imported": False, "reason": f"the spec does not load: {type(error).__name__}: {error}"}
    model = load_target(target)
    truth = reference(model, shape or default_input(target, model) or flat.input_shape)
    shapes = [list(o.shape) for o in report.outputs] or [list(report.output_shape)]
    return {
        "imported": True, "seconds": round(seconds, 1), "layers": len(flat.layers),
        "params": report.params, "true_params": truth["params"], "macs": report.macs, "true_macs": truth["macs"],
        "shapes": shapes, "true_shapes": truth["shapes"],
        "exact_params": report.params == truth["params"], "exact_macs": report.macs == truth["macs"],
        "exact_shape": len(shapes) == len(truth["shapes"]) and all(  # type: ignore[arg-type]
            same_shape(t, c) for t, c in zip(truth["shapes"], shapes)),  # type: ignore[call-overload]
    }


def run_one(target: str, input_text: str | None, timeout: float) -> dict[str, object]:
    command = [sys.executable, __file__, "--worker", target] + (["--input", input_text] if input_text else [])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"imported": False, "reason": f"timeout after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"imported": False, "reason": f"crash: {tail[:200]}"}
    return json.loads(lines[-1])


def exact(row: dict[str, object]) -> bool:
    return bool(row.get("imported") and row["exact_params"] and row["exact_macs"] and row["exact_shape"])


def write_table(rows: list[tuple[str, str, dict[str, object]]], path: Path) -> str:
    """docs/import-sweep.md: the rates per group and one row per model."""
    groups = Counter(group if group != "timm" else "timm" for group, _, _ in rows)
    summary = []
    for side in ("torchvision", "timm"):
        chosen = [(g, t, r) for g, t, r in rows if (g == "timm") == (side == "timm")]
        if not chosen:
            continue
        imported = sum(1 for _, _, r in chosen if r.get("imported"))
        exact_count = sum(1 for _, _, r in chosen if exact(r))
        summary.append(f"| {side} | {len(chosen)} | {imported} ({100 * imported / len(chosen):.1f}%) | "
                       f"{exact_count} ({100 * exact_count / len(chosen):.1f}%) |")
    lines = [
        "# Import sweep", "",
        "Generated by `python benchmarks/import_sweep.py` (torch, torchvision 0.29, timm 1.0; weights never loaded). "
        "Every model is imported with `convcalc import` at its default input and checked against PyTorch at the same "
        "input: params (all of `model.parameters()`), MACs (`FlopCounterMode` / 2, attention included) and output "
        "shape. See [import.md](import.md).", "",
        "| library | models | imported | exact |", "| --- | --- | --- | --- |", *summary, "",
        f"Groups: {', '.join(f'{g} {n}' for g, n in sorted(groups.items()))}.", "",
        "| group | model | imported | params | MACs | shape | failure |", "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group, target, row in rows:
        if row.get("imported"):
            marks = ["exact" if row[k] else f"{row[v]} vs {row[t]}" for k, v, t in
                     (("exact_params", "params", "true_params"), ("exact_macs", "macs", "true_macs"),
                      ("exact_shape", "shapes", "true_shapes"))]
            lines.append(f"| {group} | {target.rsplit(':', 1)[-1]} | yes | {' | '.join(marks)} | |")
        else:
            reason = str(row.get("reason", "")).replace("|", "\\|").replace("\n", " ")[:240]
            lines.append(f"| {group} | {target.rsplit(':', 1)[-1]} | no | | | | {reason} |")
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return "\n".join(summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help="import one target and print JSON")
    parser.add_argument("--input", help="the input for --worker")
    parser.add_argument("--only", nargs="*", help="these targets only")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--output", default=str(ROOT / "docs" / "import-sweep.md"))
    parser.add_argument("--rerun", action="store_true",
                        help="run again the models that are not exact in the results kept beside --output (.json)")
    options = parser.parse_args()
    if options.worker:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(worker(options.worker, options.input)))
        return
    output, state_path = Path(options.output), Path(options.output).with_suffix(".json")
    if options.rerun:
        rows = [(group, target, row) for group, target, row in json.loads(state_path.read_text())]
        todo = [index for index, (_, _, row) in enumerate(rows) if not exact(row)]
    else:
        targets = [("only", t) for t in options.only] if options.only else torchvision_targets() + timm_targets()
        rows, todo = [(group, target, {}) for group, target in targets], list(range(len(targets)))
    for number, index in enumerate(todo, 1):
        group, target, _ = rows[index]
        input_text = video_input(target) if group == "video" else "224x224x3" if group == "detection backbone" else None
        started = time.perf_counter()
        row = run_one(target, input_text, options.timeout)
        rows[index] = (group, target, row)
        state = "exact" if exact(row) else ("inexact" if row.get("imported") else "failed: " + str(row.get("reason"))[:150])
        print(f"[{number}/{len(todo)}] {target}: {state} ({time.perf_counter() - started:.0f} s)", flush=True)
        done = [entry for entry in rows if entry[2]]
        write_table(done, output)
        state_path.write_text(json.dumps(done, indent=1) + "\n")
    print(write_table([entry for entry in rows if entry[2]], output))


if __name__ == "__main__":
    main()
