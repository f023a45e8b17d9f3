"""Time the observables on the seed-case activation shape.

Shape (seed 10, stage 2, layer 7, position 64, N 512, d 64), float32 as a model hands it over
(≈ 1.2 GB). Times one call each of:

* ``rank_measures``  on every (seed, stage, layer, position) matrix — 8960 eigendecompositions;
* ``cka_matrix``     per (seed, stage, position): the 7×7 layer CKA matrix;
* ``kernel_drift``   per (seed, stage, position): the 6 adjacent-layer drifts;
* ``update_ratio``   per (seed, stage, position).

The layer axis is moved next to N with ``np.moveaxis`` (a strided view, no copy), as measurement
code holding (seed, stage, layer, position, N, d) arrays would do.

    python benchmarks/measure_speed.py            # full seed shape (< 60 s on 2 cores)
    python benchmarks/measure_speed.py --quick    # 1 seed
    python benchmarks/measure_speed.py --json     # one JSON dict on stdout
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from rgbench.observables import cka_matrix, kernel_drift, rank_measures, update_ratio


def _activations(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """float32 stand-in activations (seed, stage, layer, position, N, d) with layer-to-layer structure.

    Residual-stream-like (each layer adds to the previous one), so CKA is not at its floor. Only
    seed 0 is drawn; the other seeds are rescaled copies with the samples rolled, which keeps making
    the ~1 GiB input a small part of the run (the timings do not depend on the values).
    """
    rng = np.random.default_rng(seed)
    x = np.empty(shape, dtype=np.float32)
    x[0] = rng.standard_normal(shape[1:], dtype=np.float32)
    np.cumsum(x[0], axis=1, out=x[0])  # layer axis of the per-seed block
    for s in range(1, shape[0]):
        x[s] = np.roll(x[0], 37 * s, axis=-2) * np.float32(1.0 + 0.1 * s)
    return x


def _time(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall-clock and CPU seconds (all threads) over `repeat` calls; CPU time is the steadier
    figure on a machine shared with other processes."""
    best_wall, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed instead of 10")
    parser.add_argument("--json", action="store_true", help="print one JSON dict instead of a table")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs per call")
    args = parser.parse_args(argv)

    seeds, stages, layers, positions, n, d = (1 if args.quick else 10), 2, 7, 64, 512, 64
    shape = (seeds, stages, layers, positions, n, d)
    t0 = time.perf_counter()
    x = _activations(shape)
    t_make = time.perf_counter() - t0
    by_layer = np.moveaxis(x, 2, -3)  # (seed, stage, position, layer, N, d), a view

    matrices = seeds * stages * layers * positions
    stacks = seeds * stages * positions
    rows = []
    for name, fn, count, unit in [
        ("rank_measures", lambda: rank_measures(x), matrices, "matrix"),
        ("cka_matrix", lambda: cka_matrix(by_layer), stacks, "layer stack"),
        ("kernel_drift", lambda: kernel_drift(by_layer), stacks, "layer stack"),
        ("kernel_drift(debiased)", lambda: kernel_drift(by_layer, debiased=True), stacks, "layer stack"),
        ("update_ratio", lambda: update_ratio(by_layer), stacks, "layer stack"),
    ]:
        seconds, cpu_seconds, out = _time(fn, args.repeat)
        first = out["effective_rank"] if isinstance(out, dict) else out
        rows.append(
            {
                "call": name,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
                "items": count,
                "unit": unit,
                "us_per_item": round(1e6 * seconds / count, 1),
                "output_shape": list(np.shape(first)),
                "output_mean": float(np.nanmean(first)),
            }
        )

    result = {
        "shape": {"seed": seeds, "stage": stages, "layer": layers, "position": positions, "N": n, "d": d},
        "input_dtype": str(x.dtype),
        "input_gib": round(x.nbytes / 2**30, 3),
        "make_input_seconds": round(t_make, 2),
        "timings": rows,
        "total_seconds": round(sum(r["seconds"] for r in rows), 2),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    print(
        f"input {shape} {x.dtype}, {result['input_gib']} GiB (made in {t_make:.1f} s); "
        f"{os.cpu_count()} CPUs, load average {result['machine']['load_average_1min']}"
    )
    print(f"{'call':<24}{'wall s':>8}{'CPU s':>8}{'items':>7}{'µs/item':>10}  output")
    for r in rows:
        print(
            f"{r['call']:<24}{r['seconds']:>8.2f}{r['cpu_seconds']:>8.2f}{r['items']:>7}{r['us_per_item']:>10.1f}  "
            f"{tuple(r['output_shape'])} mean {r['output_mean']:.4g}"
        )
    print(f"{'total':<24}{result['total_seconds']:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
