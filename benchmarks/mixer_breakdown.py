"""Where the mixer's training step goes: the throughput mixer with its GELU and LayerNorm swapped
for cheaper parts, one at a time — the figures the next speed work on the mixer starts from.

    python benchmarks/mixer_breakdown.py [--steps 60] [--rounds 2] [--json]

The mixer of ``benchmarks/throughput.py`` (d = 64, depth 8, hidden 4d, token hidden 4T; V = 16,
T = 16, batch 128; 1 seed, Adam) is trained as it is (gelu, layernorm) and with activation relu
and/or norm none. The variants alternate for ``--rounds`` rounds and each keeps its fastest
steady-state rate (``throughput.rgbench_rate``: compile excluded), so a slow minute of the machine
hits all of them. The difference of step times between a variant and the benchmark config bounds
what making that part free could gain (relu and no norm still cost something, so it is a lower
bound on the part's cost).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

VARIANTS = [("gelu", "layernorm"), ("relu", "layernorm"), ("gelu", "none"), ("relu", "none")]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60, help="training steps per timing (a loss report every 10)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds over the variants")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return p.parse_args(argv)


def main(args) -> dict:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from throughput import configs, rgbench_rate

    base = configs(quick=True)[1]  # the mixer
    assert base["name"] == "mixer"
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for activation, norm in VARIANTS:
            c = dict(base, steps=args.steps, arch=base["arch"].model_copy(update={"activation": activation, "norm": norm}))
            rate = rgbench_rate(c, [0])["steps_per_second"]
            best[activation, norm] = max(best.get((activation, norm), 0.0), rate)
    ms = {f"{a}+{n}": 1e3 / r for (a, n), r in best.items()}
    ref = ms["gelu+layernorm"]
    return {
        "steps": args.steps,
        "rounds": args.rounds,
        "ms_per_step": ms,
        "saved_ms_vs_benchmark_config": {k: ref - v for k, v in ms.items()},
    }


def table(r: dict) -> str:
    lines = [
        f"mixer (throughput.py config), 1 seed, best of {r['rounds']} rounds of {r['steps']} steps",
        f"{'activation+norm':18s} {'ms/step':>9s} {'saved vs gelu+layernorm':>25s}",
    ]
    for k, v in r["ms_per_step"].items():
        lines.append(f"{k:18s} {v:9.1f} {r['saved_ms_vs_benchmark_config'][k]:25.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    res = main(parse_args())
    print(json.dumps(res, indent=2) if "--json" in sys.argv else table(res))
