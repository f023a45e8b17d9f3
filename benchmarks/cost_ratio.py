"""`rgbench.cost`'s training time of the transformer relative to the mixer, against the measured ratio.

The cost model estimates a case's training time as its training FLOPs at one rate for every family
(`rgbench.cost.FLOPS_PER_SECOND`), so its ratio of two families' step times is the ratio of their
step FLOPs (3 × forward, T² attention terms included). This measures the ratio it stands for: the
steady-state steps/s of one seed of each network (the suites' configuration: V = 16, T = 64, batch 32,
depth 6, d = 64; the mixer of architectures-full with hidden 3d and token hidden 64; the transformer
of the attention family with 4 heads of width 16 and hidden 2d), alternating for ``--rounds`` rounds,
each figure in a fresh process, and prints estimated / measured per round (issue 35's target:
within 10 %).

    python benchmarks/cost_ratio.py [--json] [--rounds 3] [--steps 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

VOCAB, BATCH, XI, DEPTH, LOG_EVERY = 16, 32, 1.2, 6, 20
# (length T, width d): "suite", the configuration the factor of `rgbench.cost` was fit on; "small",
# the v1 architectures suite's d = 32, T = 32, where the factor is checked out of sample
CONFIGS = {"suite": (64, 64), "small": (32, 32)}


def arch(kind: str, config: str):
    from rgbench.models import Mixer, Transformer

    length, width = CONFIGS[config]
    if kind == "mixer":
        return Mixer(depth=DEPTH, width=width, hidden_mult=3.0, token_hidden=length)
    return Transformer(depth=DEPTH, width=width, heads=4, head_width=width // 4, hidden_mult=2.0)


def step_flops(kind: str, config: str) -> float:
    """The cost model's FLOPs of one training step: 3 × forward over the batch."""
    return 3.0 * BATCH * arch(kind, config).cost(VOCAB, CONFIGS[config][0]).flops


def estimated_time_ratio(config: str) -> float:
    """The cost model's transformer / mixer step time: FLOPs over each family's rate (`relative_rate`)."""
    t, m = arch("transformer", config), arch("mixer", config)
    return (step_flops("transformer", config) / t.relative_rate) / (step_flops("mixer", config) / m.relative_rate)


def child(kind: str, config: str, steps: int) -> dict:
    import throughput

    from rgbench.inputs import Sticky

    length = CONFIGS[config][0]
    data = Sticky(vocab=VOCAB, length=length, xi=XI)
    c = dict(name=kind, arch=arch(kind, config), data=data, batch=BATCH, log_every=LOG_EVERY)
    total = LOG_EVERY * (1 + max(4, -(-steps // LOG_EVERY)))  # the first chunk compiles; ≥ 4 timed chunks
    r = throughput.rgbench_rate(c, [0], steps=total)
    return {"steps_per_second": r["steps_per_second"]}


def one_config(config: str, args) -> dict:
    from _timing import fresh_process

    rounds = []
    for _ in range(args.rounds):
        rates = {
            k: fresh_process(__file__, "--child", k, "--config", config, "--steps", str(args.steps))["steps_per_second"]
            for k in ("mixer", "transformer")
        }
        measured = rates["mixer"] / rates["transformer"]  # transformer step time over mixer step time
        rounds.append({"rates": rates, "measured_time_ratio": measured})
    estimated = estimated_time_ratio(config)
    per_round = [estimated / r["measured_time_ratio"] for r in rounds]
    length, width = CONFIGS[config]
    return {
        "config": dict(vocab=VOCAB, length=length, batch=BATCH, depth=DEPTH, width=width, steps=args.steps),
        "step_flops": {k: step_flops(k, config) for k in ("mixer", "transformer")},
        "flops_time_ratio": step_flops("transformer", config) / step_flops("mixer", config),
        "estimated_time_ratio": estimated,
        "rounds": rounds,
        "estimated_over_measured": per_round,
        "median": statistics.median(per_round),
        "within_10_percent": all(abs(x - 1) <= 0.10 for x in per_round),
    }


def main(args) -> dict:
    return {config: one_config(config, args) for config in args.configs}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    p.add_argument("--child", choices=["mixer", "transformer"], default=None, help=argparse.SUPPRESS)
    p.add_argument("--config", choices=list(CONFIGS), default="suite", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.config, a.steps)))
        sys.exit(0)
    out = main(a)
    if a.json:
        print(json.dumps(out, indent=1))
    else:
        for config, o in out.items():
            for i, r in enumerate(o["rounds"]):
                print(
                    f"{config} round {i + 1}: mixer {r['rates']['mixer']:.1f} steps/s, transformer "
                    f"{r['rates']['transformer']:.1f} steps/s, measured time ratio {r['measured_time_ratio']:.3f}, "
                    f"estimated {o['estimated_time_ratio']:.3f}, estimated / measured {o['estimated_over_measured'][i]:.3f}"
                )
            print(
                f"{config}: median estimated / measured {o['median']:.3f}; within 10 % in every round: {o['within_10_percent']}"
            )
