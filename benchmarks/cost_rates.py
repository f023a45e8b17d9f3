"""The cost model's rates, fit on the wall times the shipped stores recorded — no compute.

`rgbench.cost` turns FLOPs into seconds at ``FLOPS_PER_SECOND`` (40 GFLOP/s, the 2-core reference
machine) times a family's rate: ``train_rate`` for training and the evaluation set, ``measure_rate``
for measurement. By FLOPs alone the families differ: at the suites' configuration (d = 64, T = 64,
batch 32) the matrix products of a mixer or windowed step are larger and run nearer the machine's
peak than the tokenwise network's symbol-table rows, while measuring a transformer also computes
every head's attention. This script reads every case of the stores run at that configuration —
rg-paper-v2 (tokenwise), architectures-full (mixer, windowed), architectures-v2 (transformer) — and
fits each family's rates as the median over its cases of

    rate = (FLOPs / FLOPS_PER_SECOND) / seconds

with the seconds each store recorded: ``train_seconds`` for training, ``measure_seconds`` for
measurement (stores written before that attribute existed: a case that reused the previous case's
training only measured, so its ``wall_seconds`` less the per-case overhead). It prints the rates and,
with them, the estimate of every case and suite against what it took (in sample for these stores;
``results/archive/architectures-v1.zarr`` at d = 32, T = 32 is out of sample). The rates in
``rgbench/models/_configs.py`` are this script's output, rounded.

    python benchmarks/cost_rates.py [--json] [--out benchmarks/results/cost_rates.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import zarr

from rgbench.cost import FLOPS_PER_SECOND, OVERHEAD_S, estimate
from rgbench.suite import suite_from_json

ROOT = Path(__file__).resolve().parents[1]
FIT = ["results/rg-paper-v2.zarr", "results/architectures-full.zarr", "results/architectures-v2.zarr"]
CHECK = [*FIT, "results/archive/architectures-v1.zarr", "results/noise.zarr"]


def cases(store: str):
    """(case, stored attributes) of every case of a store, with the suite it recorded."""
    path = ROOT / store
    suite = suite_from_json(zarr.open_group(str(path), mode="r").attrs["suite_json"])
    for case in suite.cases:
        try:
            attrs = dict(zarr.open_group(str(path), path=case.id, mode="r").attrs)
        except (FileNotFoundError, KeyError):
            continue
        yield case, attrs


def observations(stores: list[str]) -> dict[str, dict[str, list[float]]]:
    """family → {"train": [rate, ...], "measure": [rate, ...]} at the current FLOP counts."""
    out: dict[str, dict[str, list[float]]] = {}
    for store in stores:
        for case, attrs in cases(store):
            reused = bool(attrs.get("train_reused_from"))
            e = estimate(case, reuses_training=reused)
            rates = out.setdefault(case.architecture.kind, {"train": [], "measure": []})
            train_s = attrs.get("train_seconds")
            if not reused and train_s:
                rates["train"].append((e.flops["training"] + e.flops["evaluation"]) / FLOPS_PER_SECOND / train_s)
            measure_s = attrs.get("measure_seconds") or (attrs["wall_seconds"] - OVERHEAD_S if reused else None)
            if measure_s and measure_s > 0:
                rates["measure"].append(e.flops["measurement"] / FLOPS_PER_SECOND / measure_s)
    return out


def check(stores: list[str]) -> dict[str, dict]:
    """Per store: estimated / recorded wall seconds, per case and for the whole store."""
    out = {}
    for store in stores:
        per_case, est_total, wall_total = {}, 0.0, 0.0
        for case, attrs in cases(store):
            est = estimate(case, reuses_training=bool(attrs.get("train_reused_from"))).seconds
            per_case[case.id] = est / attrs["wall_seconds"]
            est_total += est
            wall_total += attrs["wall_seconds"]
        out[store] = {
            "suite": est_total / wall_total,
            "min": min(per_case.values()),
            "max": max(per_case.values()),
            "per_case": per_case,
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    obs = observations(FIT)
    fitted = {
        kind: {part: (statistics.median(v) if v else None) for part, v in rates.items()}
        | {"n": {p: len(v) for p, v in rates.items()}}
        for kind, rates in sorted(obs.items())
    }
    current = {}
    for kind in fitted:
        from rgbench.registry import ARCHITECTURES

        cls = ARCHITECTURES[kind]
        current[kind] = {"train": cls.relative_rate, "measure": cls.measure_rate}
    result = {
        "flops_per_second": FLOPS_PER_SECOND,
        "overhead_s": OVERHEAD_S,
        "fitted": fitted,
        "in_use": current,
        "check": check(CHECK),
    }
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.json:
        print(text)
        return 0
    for kind, f in fitted.items():
        rates = ", ".join(f"{p} {v:.3g}" for p, v in f.items() if p != "n" and v is not None)
        print(f"{kind:12s} fitted rates: {rates}   in use: train {current[kind]['train']}, measure {current[kind]['measure']}")
    for store, c in result["check"].items():
        print(f"{store}: estimate / wall {c['suite']:.2f} for the suite, {c['min']:.2f} – {c['max']:.2f} per case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
