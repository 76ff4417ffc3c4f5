#!/usr/bin/env python3
"""Wall time and peak memory of whole convcalc commands, relative to a bare ``python -c pass``.

    python benchmarks/bench.py [--runs N] [--only TEXT] [--via script|module] [--strict]

Each case is a complete process, started the way a user starts it (the ``convcalc`` console script next to
``sys.executable``, or ``python -m convcalc``), with stdout and stderr discarded. The baseline is
``sys.executable -c pass`` measured in the same run, interleaved with every case (baseline, case, baseline,
case, ...) so machine noise hits both alike. Time ratios are median(case) / median(baseline) and
min(case) / min(baseline). Peak memory is the child's ``ru_maxrss`` from ``os.wait4``.

On Linux a child's ``ru_maxrss`` is never below the RSS of the process that spawned it (exec carries the old
address space's high-water mark over), so readings at or under this script's own peak RSS (the "floor",
printed) are shown as ``<=floor``; anything above the floor is the child's true peak.

Stdlib only. Exit status 0 whatever the results, unless ``--strict`` (then 1 when a case fails or errors).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository; relative paths in cases are resolved here


@dataclass(frozen=True)
class Case:
    """One command to time. ``args`` follow ``convcalc``; ``{gen:NAME:N}`` is replaced by the path of a spec
    written by ``GENERATORS[NAME](N)``. ``files`` must exist (relative to the repository) or the case is skipped.
    ``max_ratio`` / ``goal_ratio``: wall time as a multiple of ``python -c pass`` (median). ``max_mib``: peak RSS.
    ``exit``: the expected exit status (an error case exits 2)."""

    name: str
    args: tuple[str, ...]
    max_ratio: float | None = None
    goal_ratio: float | None = None
    max_mib: float | None = None
    files: tuple[str, ...] = ()
    exit: int = 0


SEEDS = ("--in", "640x640x3", "--k", "3x5", "--s", "1x2", "--p", "2")

# ------------------------------------------------------------------------------------------------ the targets
CASES: list[Case] = [
    Case("layer (seeds example)", ("layer", *SEEDS), max_ratio=9, goal_ratio=6),
    Case("layer --format json", ("layer", *SEEDS, "--format", "json"), max_ratio=9, goal_ratio=6),
    Case("layer --explain", ("layer", *SEEDS, "--explain"), max_ratio=9, goal_ratio=6),
    Case("layer error (--k 0)", ("layer", "--in", "8x8x3", "--k", "0"), max_ratio=9, goal_ratio=6, exit=2),
    Case("net lenet5.yaml", ("net", "examples/lenet5.yaml"), max_ratio=16, max_mib=50, files=("examples/lenet5.yaml",)),
    Case("net resnet50.yaml", ("net", "examples/resnet50.yaml"), max_ratio=16, max_mib=50,
         files=("examples/resnet50.yaml",)),
    Case("net resnet50 --format json", ("net", "examples/resnet50.yaml", "--format", "json"), max_ratio=16,
         max_mib=50, files=("examples/resnet50.yaml",)),
    # Generated specs: a chain of N layers. Only the scaling between them is judged (see SCALING).
    Case("net chain-100", ("net", "{gen:chain:100}"), max_mib=50),
    Case("net chain-400", ("net", "{gen:chain:400}"), max_mib=50),
    Case("net chain-1600", ("net", "{gen:chain:1600}"), max_mib=100),
    Case("net chain-5000", ("net", "{gen:chain:5000}", "--format", "json"), max_mib=200),
    Case("net chain-20000", ("net", "{gen:chain:20000}", "--format", "json"), max_mib=600),
]  # fmt: skip

# Linear scaling: the extra time per layer from the 2nd to the 3rd case may be at most `max_growth` times the
# extra time per layer from the 1st to the 2nd (a quadratic cost at sizes 100/400/1600 would give about 4).
# Judged on the fastest run of each case, the least noisy estimate of a command's own cost.
SCALING: list[tuple[str, tuple[str, str, str], float]] = [
    ("net chain: ms per layer", ("net chain-100", "net chain-400", "net chain-1600"), 2.0),
    ("net chain: ms per layer, large", ("net chain-1600", "net chain-5000", "net chain-20000"), 2.0),
]


def chain_spec(n: int) -> str:
    """A plain chain of n layers (conv, bn, relu in turn) on a 32x32x16 input; every shape stays the same."""
    kinds = ("conv: {out: 16, k: 3, p: 1, bias: false, name: c%d}", "bn: {name: b%d}", "relu: {name: r%d}")
    lines = [f"name: chain-{n}", "input: 32x32x16", "layers:"]
    lines += ["  - " + kinds[i % 3] % i for i in range(n)]
    return "\n".join(lines) + "\n"


GENERATORS = {"chain": chain_spec}

# ------------------------------------------------------------------------------------------------ measuring


@dataclass
class Samples:
    seconds: list[float] = field(default_factory=list)
    max_kib: list[int] = field(default_factory=list)
    error: str | None = None
    exit: int = 0  # expected


def run_once(argv: list[str], samples: Samples) -> None:
    """Spawn argv with stdout to /dev/null and stderr to a temp file; record wall time and the child's peak RSS."""
    with tempfile.TemporaryFile() as err:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != samples.exit and samples.error is None:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines() or [""]
            samples.error = f"exit {code} (expected {samples.exit}): {lines[-1][:80]}"
    samples.seconds.append(elapsed)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    samples.max_kib.append(usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss)


def convcalc_argv(via: str) -> list[str]:
    script = Path(sys.executable).with_name("convcalc")
    if via == "script" or (via == "auto" and script.exists()):
        return [str(script)]
    return [sys.executable, "-m", "convcalc"]


def resolve(case: Case, tmp: Path) -> tuple[str, ...] | str:
    """The case's arguments with generated specs written out, or the reason it is skipped."""
    missing = [f for f in case.files if not (ROOT / f).exists()]
    if missing:
        return f"skipped: {', '.join(missing)} not found"
    args = []
    for arg in case.args:
        if arg.startswith("{gen:") and arg.endswith("}"):
            _, name, size = arg[1:-1].split(":")
            path = tmp / f"{name}-{size}.yaml"
            if not path.exists():
                path.write_text(GENERATORS[name](int(size)))
            arg = str(path)
        args.append(arg)
    return tuple(args)


def fmt(value: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each case (default 15)")
    parser.add_argument("--only", default="", help="run only cases whose name contains this text")
    parser.add_argument(
        "--via",
        choices=("auto", "script", "module"),
        default="auto",
        help="the console script next to sys.executable, or python -m convcalc (default: auto)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if any case fails or errors")
    options = parser.parse_args()
    runs = max(1, options.runs)

    os.chdir(ROOT)
    prefix = convcalc_argv(options.via)
    baseline_argv = [sys.executable, "-c", "pass"]
    cases = [c for c in CASES if options.only.lower() in c.name.lower()]

    with tempfile.TemporaryDirectory(prefix="convcalc-bench-") as tmpdir:
        resolved = {case.name: resolve(case, Path(tmpdir)) for case in cases}
        active = [c for c in cases if not isinstance(resolved[c.name], str)]
        argvs = {c.name: prefix + list(resolved[c.name]) for c in active}
        results = {c.name: Samples(exit=c.exit) for c in active}
        baseline = Samples()

        for case in active:  # warm-up: caches, bytecode
            run_once(argvs[case.name], Samples(exit=case.exit))
        run_once(baseline_argv, Samples())
        for round_ in range(runs):
            order = active[round_ % len(active) :] + active[: round_ % len(active)] if active else []
            for case in order:
                run_once(baseline_argv, baseline)
                run_once(argvs[case.name], results[case.name])
            if not active:
                run_once(baseline_argv, baseline)

    floor_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    floor = floor_kib / 1024

    def peak(samples: Samples) -> tuple[float, str]:
        mib = max(samples.max_kib) / 1024
        return mib, (f"<={floor:.1f}" if mib <= floor + 0.05 else f"{mib:.1f}")

    base_med, base_min = statistics.median(baseline.seconds), min(baseline.seconds)
    print(f"convcalc benchmark: {runs} runs per case, via {' '.join(Path(p).name for p in prefix)}")
    print(f"baseline `python -c pass`: median {base_med * 1000:.1f} ms, min {base_min * 1000:.1f} ms, "
          f"peak {peak(baseline)[1]} MiB  ({sys.executable}, Python {sys.version.split()[0]})")  # fmt: skip
    print(f"memory floor (this script's peak RSS, which Linux carries into each child): {floor:.1f} MiB\n")

    header = ("case", "median ms", "min ms", "ratio", "min ratio", "peak MiB", "target", "result")
    rows: list[tuple[str, ...]] = []
    failed = False
    fastest: dict[str, float] = {}
    for case in cases:
        target = (
            " ".join(
                part
                for part in (
                    f"<{case.max_ratio:g}x" if case.max_ratio else "",
                    f"(goal {case.goal_ratio:g}x)" if case.goal_ratio else "",
                    f"<{case.max_mib:g} MiB" if case.max_mib else "",
                )
                if part
            )
            or "-"
        )
        if isinstance(resolved[case.name], str):
            rows.append((case.name, "-", "-", "-", "-", "-", target, str(resolved[case.name])))
            continue
        s = results[case.name]
        med, low = statistics.median(s.seconds), min(s.seconds)
        mib, mib_text = peak(s)
        fastest[case.name] = low
        ratio, min_ratio = med / base_med, low / base_min
        if s.error:
            verdict, failed = f"ERROR {s.error}", True
        else:
            bad = (case.max_ratio is not None and ratio > case.max_ratio) or (
                case.max_mib is not None and mib > case.max_mib
            )
            failed |= bad
            if bad:
                verdict = "FAIL"
            elif case.max_ratio is None and case.max_mib is None:
                verdict = "info"
            else:
                verdict = "PASS" + (" (goal missed)" if case.goal_ratio and ratio > case.goal_ratio else "")
        rows.append((case.name, fmt(med * 1000), fmt(low * 1000), fmt(ratio, ".2f", "x"),
                     fmt(min_ratio, ".2f", "x"), mib_text, target, verdict))  # fmt: skip

    for name, (a, b, c), max_growth in SCALING:
        sizes = []
        for case_name in (a, b, c):
            case = next((x for x in CASES if x.name == case_name), None)
            generated = [arg for arg in case.args if arg.startswith("{gen:")] if case else []
            sizes.append(int(generated[0][1:-1].split(":")[2]) if generated else None)
        if not all(n in fastest for n in (a, b, c)) or None in sizes:
            continue
        first = (fastest[b] - fastest[a]) / (sizes[1] - sizes[0]) * 1000
        second = (fastest[c] - fastest[b]) / (sizes[2] - sizes[1]) * 1000
        if first <= 0:
            verdict, growth_text = "n/a (too noisy; more --runs)", "-"
        else:
            growth = second / first
            bad = growth > max_growth
            failed |= bad
            verdict, growth_text = ("FAIL" if bad else "PASS (linear)"), f"{growth:.2f}x"
        rows.append((name, f"{first:.3f} -> {second:.3f}", "-", growth_text, "-", "-",
                     f"growth <{max_growth:g}x", verdict))  # fmt: skip

    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 3, 4, 5}
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
    return 1 if failed and options.strict else 0


if __name__ == "__main__":
    sys.exit(main())
