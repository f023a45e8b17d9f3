"""How much of a seed-setting case's wall time is spent outside its training steps?

Runs one case of a standard suite at the seed setting's 10 seeds — by default architectures-full's
``mixer-short-xi`` (d = 64, T = 64, batch 32, 6 blocks, 512 probe sequences), split over 2 CPU
devices as ``rgbench run --devices 2`` does — through the runner (`rgbench.runner.execute_case`:
claim, train, evaluate, measure, write, digests) for its first ``--steps`` training steps (default
1,000 of the seed setting's 10,000), timing every chunk of training as the progress callback
reports it. The step time is the median chunk's time per step once training is under way (the first
two chunks, which compile, left out); everything else — compilation, the evaluation set, building
the input and the probe, measurement, writing the store — is "outside the steps". The full case's
share outside the steps is then extrapolated to ``--full-steps`` (10,000): the outside part does not
grow with the number of steps, the steps part does. Issue target: at most 15 %.

    python benchmarks/case_overhead.py [--json] [--out PATH] [--steps 1000] [--case mixer-short-xi]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="suites/archive/architectures-full.yaml")
    parser.add_argument("--case", default="mixer-short-xi")
    parser.add_argument("--steps", type=int, default=1000, help="training steps actually run")
    parser.add_argument("--full-steps", type=int, default=10_000, help="the seed setting's steps, extrapolated to")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)

    from rgbench.train import use_cpu_devices

    use_cpu_devices(args.devices)
    import zarr

    from rgbench import runner
    from rgbench.suite import load_suite

    suite = load_suite(ROOT / args.suite, overrides=[f"train.steps={args.steps}", f"seeds={args.seeds}"])
    case = suite.case(args.case)
    ticks: list[tuple[int, float]] = []

    def progress(step, total, loss):
        ticks.append((step, time.perf_counter()))
        print(f"  step {step}/{total}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "case.zarr")
        runner.Store(store).init(suite.name, suite.title, suite.to_json())
        t0 = time.perf_counter()
        out = runner.execute_case(runner._case_payload(case), suite.name, store, progress=progress)
        wall = time.perf_counter() - t0
        attrs = dict(zarr.open_group(store, path=case.id, mode="r").attrs)
    if out.status != "complete":
        raise SystemExit(f"the case ended {out.status}")

    per_step = [(t1 - t0_) / (s1 - s0) for (s0, t0_), (s1, t1) in zip(ticks[2:], ticks[3:])]
    step_s = statistics.median(per_step)
    steps_s = step_s * args.steps
    outside = wall - steps_s
    full_steps_s = step_s * args.full_steps
    result = {
        "suite": args.suite,
        "case": args.case,
        "seeds": args.seeds,
        "devices": args.devices,
        "steps_run": args.steps,
        "log_every": case.train.log_every,
        "step_seconds": step_s,
        "seed_steps_per_second": args.seeds / step_s,
        "wall_seconds": wall,
        "train_seconds": attrs.get("train_seconds"),
        "measure_seconds": attrs.get("measure_seconds"),
        "steps_seconds": steps_s,
        "outside_seconds": outside,
        "outside_share_run": outside / wall,
        "full_steps": args.full_steps,
        "outside_share_full_case_extrapolated": outside / (outside + full_steps_s),
        "full_case_seconds_extrapolated": outside + full_steps_s,
        "target_share": 0.15,
    }
    result["met"] = result["outside_share_full_case_extrapolated"] <= result["target_share"]
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.json:
        print(text)
    else:
        print(
            f"{args.case}, {args.seeds} seeds on {args.devices} devices, {args.steps} steps: {wall:.0f} s wall, "
            f"{step_s * 1e3:.0f} ms a step ({args.seeds / step_s:.1f} seed-steps/s); outside the steps "
            f"{outside:.0f} s (training incl. compilation and evaluation {attrs.get('train_seconds'):.0f} s, "
            f"measurement {attrs.get('measure_seconds'):.0f} s)\n"
            f"at {args.full_steps} steps (extrapolated): {result['full_case_seconds_extrapolated'] / 60:.0f} min, "
            f"{100 * result['outside_share_full_case_extrapolated']:.1f} % outside the steps "
            f"(target ≤ 15 %: {'met' if result['met'] else 'not met'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
