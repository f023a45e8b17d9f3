"""Where the throughput mixer loses to PyTorch: XLA:CPU options, and forward against forward + backward.

    python benchmarks/mixer_gap.py [--rounds 3] [--json]

1. ``flags`` — the mixer of ``benchmarks/throughput.py`` (1 seed, 110 steps, steady-state rate as
   ``throughput.rgbench_rate``) trained in a fresh process per XLA_FLAGS value, the values
   alternating for ``--rounds`` rounds: the default, oneDNN, XNNPACK and fast math.
2. ``split`` — on one fixed batch (128 × 16, BERT-masked), no optimizer: milliseconds of the loss
   alone and of loss and gradients, for rgbench's network with its blocks stacked (scanned) and
   unrolled (``unstack_blocks``, as training runs depth ≤ 16), and for the PyTorch peer of
   ``benchmarks/torch_peers.py`` (eager); best of 5 × 30 calls, each side in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _timing import best_ms, fresh_process  # noqa: E402 - benchmarks/ is on the path only from here

FLAGS = {
    "default": "",
    "onednn": "--xla_cpu_use_onednn=true",
    "xnnpack": "--xla_cpu_use_xnnpack=true",
    "fast_math": "--xla_cpu_enable_fast_math=true",
}
B, T, V = 128, 16, 16


def _child(argv: list[str], env: dict | None = None) -> dict:
    return fresh_process(__file__, *argv, env=env)


def _rate() -> dict:
    sys.path.insert(0, HERE)
    sys.argv = [sys.argv[0]]
    import throughput

    c = throughput.configs(quick=True)[1]
    return {"steps_per_second": max(throughput.rgbench_rate(c, [0], steps=110)["steps_per_second"] for _ in range(2))}


def _batch():
    import numpy as np

    rng = np.random.default_rng(0)
    tokens = rng.integers(0, V, (B, T))
    scored = rng.random((B, T)) < 0.15
    return tokens, np.where(scored, V, tokens), scored


def _split(side: str) -> dict:
    tokens, inputs, scored = _batch()
    if side == "torch":
        import torch
        from torch.nn import functional as F

        sys.path.insert(0, HERE)
        from torch_peers import MixerBlock, Net

        torch.set_num_threads(os.cpu_count() or 1)
        net = Net(V, 64, 8, lambda: MixerBlock(64, 256, T, 64))
        tk, ip, sc = torch.as_tensor(tokens), torch.as_tensor(inputs), torch.as_tensor(scored)

        def forward():
            with torch.no_grad():
                return F.cross_entropy(net(ip)[sc], tk[sc])

        def both():
            loss = F.cross_entropy(net(ip)[sc], tk[sc])
            net.zero_grad(set_to_none=True)
            loss.backward()
            return loss

        return {"forward_ms": best_ms(forward), "forward_backward_ms": best_ms(both)}
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from rgbench.models import Mixer
    from rgbench.models._base import unstack_blocks

    net = Mixer(depth=8, width=64, hidden_mult=4.0).build(V, T, key=jax.random.key(0))
    if side == "jax_unrolled":
        net = unstack_blocks(net)
    tk, ip, sc = jnp.asarray(tokens, jnp.int32), jnp.asarray(inputs, jnp.int32), jnp.asarray(scored)

    def loss(m):
        total, count = m.masked_ce_sum(tk, ip, sc)
        return total / count

    forward, both = eqx.filter_jit(loss), eqx.filter_jit(eqx.filter_value_and_grad(loss))
    return {
        "forward_ms": best_ms(lambda: forward(net).block_until_ready()),
        "forward_backward_ms": best_ms(lambda: jax.block_until_ready(both(net))),
    }


def main(args) -> dict:
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    out: dict = {"rounds": args.rounds, "flags": {k: [] for k in FLAGS}, "split": {}}
    for r in range(args.rounds):
        for name, flag in FLAGS.items():
            log(f"flags: {name} (round {r + 1}/{args.rounds}) …")
            out["flags"][name].append(_child(["--_rate"], {"XLA_FLAGS": flag})["steps_per_second"])
        for side in ("jax_scanned", "jax_unrolled", "torch"):
            log(f"split: {side} (round {r + 1}/{args.rounds}) …")
            out["split"].setdefault(side, []).append(_child(["--_split", side]))
    return out


def table(out: dict) -> str:
    lines = [f"mixer steps/s per XLA_FLAGS value, {out['rounds']} alternating round(s):"]
    for name, rates in out["flags"].items():
        lines.append(f"  {name:10s} " + "  ".join(f"{r:6.2f}" for r in rates))
    lines.append("fixed batch, ms (forward | forward + backward), per round:")
    for side, rounds in out["split"].items():
        lines.append(f"  {side:13s} " + "  ".join(f"{r['forward_ms']:6.1f} | {r['forward_backward_ms']:6.1f}" for r in rounds))
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--_rate", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_split", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a._rate:
        print(json.dumps(_rate()))
    elif a._split:
        print(json.dumps(_split(a._split)))
    else:
        result = main(a)
        print(json.dumps(result, indent=2) if a.json else table(result))
