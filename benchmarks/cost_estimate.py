"""The estimates of `rgbench.cost` against what cases really take.

Memory: each case below runs alone in a fresh `rgbench run` process (training shortened with
``--set train.steps=…``: memory does not grow with the number of steps) and the process's peak
resident set is read from the operating system (``getrusage``, children). Time: the estimate of
every case of the shipped stores against the wall time the store recorded for it (a case that
reused the previous case's training is estimated as measurement only). Prints the ratios;
``--json`` for machine-readable output.

    python benchmarks/cost_estimate.py [--json] [--steps 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from rgbench.cost import estimate, human_bytes
from rgbench.suite import load_suite

CASES = [  # (suite file, case id): one of each kind of network and the largest probe
    ("suites/rg-paper.yaml", "short-xi"),
    ("suites/controls.yaml", "width-sweep[architecture.width=128]"),
    ("suites/theory.yaml", "nngp-residual-w128"),
    ("suites/archive/architectures-full.yaml", "mixer-short-xi-n2048"),
    ("suites/archive/architectures-full.yaml", "windowed-short-xi"),
]


def peak_of_run(suite: str, case_id: str, steps: int) -> tuple[float, float]:
    """(peak resident bytes, seconds) of one `rgbench run` of one case in a new process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-c",
            "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
            sys.executable,
            "-m",
            "rgbench",
            "run",
            suite,
            "--only",
            case_id,
            "--store",
            os.path.join(tmp, "s.zarr"),
            "--set",
            f"train.steps={steps}",
            "--set",
            f"train.log_every={steps}",
            "--quiet",
        ]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return float(out.split()[-1]) * 1024, time.perf_counter() - t0  # ru_maxrss is in KiB on Linux


SHIPPED = ["rg-paper-v2", "noise", "architectures-full", "architectures", "controls", "theory"]


def time_ratios(results: str = "results") -> dict:
    """Per shipped store: estimated seconds / recorded wall seconds, per case."""
    import zarr

    from rgbench.suite import suite_from_json

    out = {}
    for name in SHIPPED:
        root = zarr.open_group(os.path.join(results, f"{name}.zarr"), mode="r")
        suite = suite_from_json(root.attrs["suite_json"])
        ratios = {}
        for case in suite.cases:
            attrs = dict(root[case.id].attrs)
            wall = attrs.get("wall_seconds")
            if wall:
                ratios[case.id] = estimate(case, reuses_training=bool(attrs.get("train_reused_from"))).seconds / wall
        out[name] = {"min": min(ratios.values()), "max": max(ratios.values()), "per_case": ratios}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--steps", type=int, default=100, help="training steps of each run (default 100)")
    args = parser.parse_args()
    rows = []
    for suite_file, case_id in CASES:
        case = load_suite(suite_file, [f"train.steps={args.steps}", f"train.log_every={args.steps}"]).case(case_id)
        e = estimate(case)
        peak, seconds = peak_of_run(suite_file, case_id, args.steps)
        rows.append(
            {
                "suite": suite_file,
                "case": case_id,
                "kind": case.architecture.kind,
                "estimate_bytes": e.peak_bytes,
                "measured_peak_bytes": peak,
                "ratio": e.peak_bytes / peak,
                "seconds": seconds,
                "parts": e.memory,
            }
        )
        if not args.json:
            print(
                f"{suite_file}:{case_id}: estimate {human_bytes(e.peak_bytes)}, measured peak {human_bytes(peak)} "
                f"(estimate / peak = {e.peak_bytes / peak:.2f})",
                flush=True,
            )
    ratios = [r["ratio"] for r in rows]
    times = time_ratios()
    summary = {
        "steps": args.steps,
        "memory": {"cases": rows, "min_ratio": min(ratios), "max_ratio": max(ratios)},
        "time": {
            "stores": times,
            "min_ratio": min(t["min"] for t in times.values()),
            "max_ratio": max(t["max"] for t in times.values()),
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"memory: estimate / measured peak {min(ratios):.2f} – {max(ratios):.2f}")
    for name, t in times.items():
        print(f"time, {name}: estimate / recorded wall time {t['min']:.2f} – {t['max']:.2f}")


if __name__ == "__main__":
    main()
