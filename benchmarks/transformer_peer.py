"""Transformer training throughput: rgbench against the same network in PyTorch, eager and ``torch.compile``.

    python benchmarks/transformer_peer.py [--json] [--rounds 5] [--steps 100] [--seeds 10] [--quick]

Configuration (issue 35; the same batch, steps and thread count on every side): the transformer
family at V = 16, T = 64, ξ = 1.2 sticky input, BERT masking (15 % scored; 80/10/10), batch 32;
depth 6, d = 64, 4 heads of width 16, channel-MLP hidden 2d = 128, GELU, LayerNorm, sinusoidal
positions, full (bidirectional) attention; Adam 3e-4. 203 088 parameters on both sides (checked).

Measured, each figure in a fresh process (``benchmarks/_timing.py``), with the same threads for XLA
and PyTorch (default: every core):

* ``check`` — the PyTorch peer (``benchmarks/torch_peers.py``'s ``TransformerNet``) is the same
  network: both parameter counts, and the largest logit difference after rgbench's seed-0 weights
  are copied into it (float32 rounding, ~1e-6, when the two compute the same function);
* rgbench, one seed: steady-state steps per second of ``rgbench.train.train`` (compile excluded: the
  fastest window of three ``log_every`` chunks after the first, as ``benchmarks/throughput.py``
  times it; the batch is drawn on device inside the step);
* PyTorch eager and PyTorch with the loss (forward; its backward through AOTAutograd) under
  ``torch.compile``: fused Adam, batches sampled with torch ops in the step, ``F.cross_entropy`` on
  the scored positions, ``F.scaled_dot_product_attention``; the fastest of ~10 blocks of steps
  after warm-up (a compiled variant compiles before the clock starts, its time reported apart);
* the three alternate for ``--rounds`` rounds (the machine's speed drifts over minutes; alternating
  exposes every side to the same drift): ratios rgbench / eager and rgbench / compile are taken
  within a round and reported per round, with their median and minimum;
* ``--seeds S`` seeds (default 10) in one rgbench program, split over as many CPU devices as
  threads (as ``rgbench run --devices`` does), once after the rounds: steps/s of each seed and the
  seed-steps/s of the program;
* one block's attention alone (forward, and forward + backward), ``jax.nn.dot_product_attention``
  against ``F.scaled_dot_product_attention`` at the benchmark's shape, twice, alternating: how much
  of the gap between the two steps the attention kernels alone would account for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _timing import fresh_process, torch_rate  # noqa: E402 - benchmarks/ is on the path only from here

VOCAB, LENGTH, XI, BATCH = 16, 64, 1.2, 32
DEPTH, WIDTH, HEADS, HEAD_WIDTH, HIDDEN_MULT = 6, 64, 4, 16, 2.0
LOG_EVERY = 10  # rgbench's loss reports (the chunks it is timed over)
SIDES = ("rgbench", "torch_plain", "torch_plain_compiled")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    p.add_argument("--steps", type=int, default=100, help="timed steps per measurement on every side (default 100)")
    p.add_argument("--seeds", type=int, default=10, help="seeds in one rgbench program, timed once (0: skip)")
    p.add_argument("--quick", action="store_true", help="a fast look: 2 rounds of 40 steps, 4 seeds")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for XLA and PyTorch")
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.seeds = min(args.rounds, 2), min(args.steps, 40), min(args.seeds, 4)
    if args._child:
        return args
    if args.rounds < 1 or args.steps < 3 * LOG_EVERY:
        p.error(f"--rounds must be at least 1 and --steps at least {3 * LOG_EVERY}")
    return args


def _xla_threads(threads: int) -> None:
    """Before JAX is imported: one thread, as ``benchmarks/throughput.py`` sets it (XLA:CPU otherwise
    uses every core, which is the default --threads)."""
    if threads == 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        ).strip()


def arch():
    from rgbench.models import Transformer

    return Transformer(depth=DEPTH, width=WIDTH, heads=HEADS, head_width=HEAD_WIDTH, hidden_mult=HIDDEN_MULT, activation="gelu")


def torch_shape() -> dict:
    return dict(
        vocab=VOCAB,
        length=LENGTH,
        batch=BATCH,
        xi=XI,
        d=WIDTH,
        depth=DEPTH,
        hidden=round(HIDDEN_MULT * WIDTH),
        heads=HEADS,
        head_width=HEAD_WIDTH,
    )


# ---------------------------------------------------------------------------------------------
# Children: one figure each, in its own process


def rgbench_child(steps: int, seeds: int, threads: int) -> dict:
    """Steady-state steps/s of one ``train`` call over `seeds` seeds (``throughput.rgbench_rate``)."""
    _xla_threads(threads)
    from rgbench.train import use_cpu_devices

    if seeds > 1:
        use_cpu_devices(threads)  # the seeds split over the cores, as `rgbench run --devices <cores>`
    import throughput

    from rgbench.inputs import Sticky

    log_every = LOG_EVERY if seeds == 1 else max(2, LOG_EVERY // 2)
    c = dict(name="transformer", arch=arch(), data=Sticky(vocab=VOCAB, length=LENGTH, xi=XI), batch=BATCH, log_every=log_every)
    return throughput.timed_rate(c, seeds, steps)


def torch_child(variant: str, steps: int, threads: int) -> dict:
    import torch
    import torch_peers

    torch.set_num_threads(threads)
    step = torch_peers.make_step("transformer", variant, **torch_shape())
    t0 = time.perf_counter()
    loss = step()  # a compiled variant compiles here (inductor's on-disk cache may shorten later rounds)
    loss.item()
    first = time.perf_counter() - t0
    rate = torch_rate(step, steps)
    return {"steps_per_second": rate, "first_step_seconds": first, "loss": float(step().item())}


def check_child() -> dict:
    """Parameter counts, and rgbench's seed-0 network copied into the PyTorch peer: the largest
    difference of their logits on 8 random sequences (masks included)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import torch
    import torch_peers

    from rgbench.models._transformer import sinusoidal_positions

    a = arch()
    net = a.network(VOCAB, LENGTH, key=jax.random.key(0))
    ours = sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(net, eqx.is_inexact_array)))
    s = torch_shape()
    peer = torch_peers.TransformerNet(VOCAB, LENGTH, WIDTH, DEPTH, s["hidden"], HEADS, HEAD_WIDTH)
    theirs = sum(p.numel() for p in peer.parameters())

    def t(x, transpose=False):
        x = torch.from_numpy(np.array(x))
        return x.T if transpose else x

    with torch.no_grad():
        peer.embed.weight.copy_(t(net.embedding.tokens))
        at, ch = net.blocks.attention, net.blocks.channel  # stacked: leading layer axis
        for layer, blk in enumerate(peer.blocks):
            pairs = [
                (blk.attention.norm.weight, at.norm.gain[layer], False),
                (blk.attention.norm.bias, at.norm.bias[layer], False),
                (blk.attention.qkv.weight, at.wqkv[layer], True),  # rgbench: x @ W (in, out); torch: W (out, in)
                (blk.attention.qkv.bias, at.bqkv[layer], False),
                (blk.attention.out.weight, at.wo[layer], True),
                (blk.attention.out.bias, at.bo[layer], False),
                (blk.norm.weight, ch.norm.gain[layer], False),
                (blk.norm.bias, ch.norm.bias[layer], False),
                (blk.mlp.fc1.weight, ch.w1[layer], True),
                (blk.mlp.fc1.bias, ch.b1[layer], False),
                (blk.mlp.fc2.weight, ch.w2[layer], True),
                (blk.mlp.fc2.bias, ch.b2[layer], False),
            ]
            for dst, src, tr in pairs:
                dst.copy_(t(src, tr))
        peer.norm.weight.copy_(t(net.readout.norm.gain))
        peer.norm.bias.copy_(t(net.readout.norm.bias))
        peer.out.weight.copy_(t(net.readout.weight, True))
        peer.out.bias.copy_(t(net.readout.bias))
        x = np.random.default_rng(0).integers(0, VOCAB + 1, (8, LENGTH))  # symbol V = [MASK]
        _, logits = net.apply(jnp.asarray(x), collect=False)
        peer_logits = peer(torch.from_numpy(x)).numpy()
    return {
        "parameters_rgbench": int(ours),
        "parameters_rgbench_cost": int(a.cost(VOCAB, LENGTH).params),
        "parameters_torch": int(theirs),
        "parameters_equal": bool(ours == theirs),
        "positions_max_abs_difference": float(np.abs(peer.positions.numpy() - sinusoidal_positions(LENGTH, WIDTH)).max()),
        "logits_max_abs_difference": float(np.abs(np.asarray(logits) - peer_logits).max()),
        "logits_max_abs": float(np.abs(peer_logits).max()),
    }


def attention_child(library: str, threads: int) -> dict:
    """One block's attention alone, at the benchmark's shape (batch 32, T = 64, 4 heads of width 16):
    milliseconds of the forward and of forward + backward (gradients of q, k, v), the best of
    blocks of 50 calls; ``jax.nn.dot_product_attention`` (as rgbench calls it) or PyTorch's
    ``scaled_dot_product_attention`` (as the peer does), each on its own layout."""
    from _timing import best_ms

    b, t, n, h = BATCH, LENGTH, HEADS, HEAD_WIDTH
    if library == "jax":
        _xla_threads(threads)
        import jax

        q, k, v, g = (jax.random.normal(key, (b, t, n, h)) for key in jax.random.split(jax.random.key(0), 4))

        def attend(q, k, v):
            return jax.nn.dot_product_attention(q, k, v, scale=h**-0.5)

        fwd = jax.jit(attend)
        fwd_bwd = jax.jit(lambda q, k, v, g: jax.vjp(attend, q, k, v)[1](g))
        return {
            "fwd_ms": best_ms(lambda: fwd(q, k, v).block_until_ready(), 50),
            "fwd_bwd_ms": best_ms(lambda: jax.block_until_ready(fwd_bwd(q, k, v, g)), 50),
        }
    import torch
    from torch.nn import functional as F

    torch.set_num_threads(threads)
    q, k, v, g = (torch.randn(b, n, t, h) for _ in range(4))
    leaves = [x.clone().requires_grad_() for x in (q, k, v)]

    def fwd():
        with torch.no_grad():
            return F.scaled_dot_product_attention(q, k, v)

    def fwd_bwd():
        return torch.autograd.grad(F.scaled_dot_product_attention(*leaves), leaves, g)

    return {"fwd_ms": best_ms(fwd, 50), "fwd_bwd_ms": best_ms(fwd_bwd, 50)}


# ---------------------------------------------------------------------------------------------


def _ratios(ours: list[float], theirs: list[float]) -> dict:
    r = [a / b for a, b in zip(ours, theirs)]
    return {"per_round": r, "median": statistics.median(r), "min": min(r)}


def main(args) -> dict:
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    child = lambda *argv: fresh_process(__file__, "--_child", *argv, "--threads", str(args.threads))  # noqa: E731
    started = time.perf_counter()
    log("check: parameter counts and the same logits from the same weights …")
    check = child("check")
    if not check["parameters_equal"]:
        raise SystemExit(f"parameter counts differ: {check}")
    rounds: dict[str, list[dict]] = {s: [] for s in SIDES}
    for r in range(args.rounds):
        for side in SIDES:
            log(f"round {r + 1}/{args.rounds}: {side} …")
            rounds[side].append(child(side, "--steps", str(args.steps), "--seeds", "1"))
    rates = {s: [m["steps_per_second"] for m in rounds[s]] for s in SIDES}
    out = {
        "config": dict(
            vocab=VOCAB,
            length=LENGTH,
            xi=XI,
            batch=BATCH,
            depth=DEPTH,
            width=WIDTH,
            heads=HEADS,
            head_width=HEAD_WIDTH,
            hidden=round(HIDDEN_MULT * WIDTH),
            positions="sinusoidal",
            attention="full",
            optimizer="adam 3e-4 (fused in PyTorch)",
        ),
        "threads": args.threads,
        "rounds": args.rounds,
        "steps": args.steps,
        "quick": args.quick,
        "platform": platform.platform(),
        "check": check,
        "steps_per_second": {s: {"per_round": v, "median": statistics.median(v), "max": max(v)} for s, v in rates.items()},
        "ratio_vs_torch_eager": _ratios(rates["rgbench"], rates["torch_plain"]),
        "ratio_vs_torch_compiled": _ratios(rates["rgbench"], rates["torch_plain_compiled"]),
        "torch_compile_first_step_seconds": [m["first_step_seconds"] for m in rounds["torch_plain_compiled"]],
        "rgbench_wall_seconds": [m["wall_seconds"] for m in rounds["rgbench"]],
    }
    if args.seeds > 1:
        log(f"rgbench, {args.seeds} seeds in one program …")
        many = child("rgbench", "--steps", str(max(3 * LOG_EVERY, args.steps // 4)), "--seeds", str(args.seeds))
        one = statistics.median(rates["rgbench"])
        out["seeds"] = {
            **{k: many[k] for k in ("seeds", "devices", "steps", "steps_per_second", "seed_steps_per_second", "wall_seconds")},
            "speedup_vs_one_seed_median": many["seed_steps_per_second"] / one,
        }
    log("attention alone, one block, each library (twice, alternating) …")
    att = {lib: [] for lib in ("jax", "torch")}
    for _ in range(2):
        for lib in att:
            att[lib].append(child(f"attention_{lib}"))
    best = {lib: {k: min(m[k] for m in ms) for k in ("fwd_ms", "fwd_bwd_ms")} for lib, ms in att.items()}
    step_ms = {"rgbench": 1e3 / statistics.median(rates["rgbench"]), "torch_plain": 1e3 / statistics.median(rates["torch_plain"])}
    out["attention_one_block"] = {
        **best,
        "jax_over_torch_fwd_bwd": best["jax"]["fwd_bwd_ms"] / best["torch"]["fwd_bwd_ms"],
        # what depth × (forward + backward) of attention alone would account for, against the median steps
        "depth_x_fwd_bwd_ms": {lib: DEPTH * b["fwd_bwd_ms"] for lib, b in best.items()},
        "median_step_ms": step_ms,
        "step_gap_ms": step_ms["rgbench"] - step_ms["torch_plain"],
        "attention_gap_ms": DEPTH * (best["jax"]["fwd_bwd_ms"] - best["torch"]["fwd_bwd_ms"]),
    }
    import importlib.metadata as md

    out["versions"] = {p: md.version(p) for p in ("jax", "torch")}
    out["benchmark_seconds"] = time.perf_counter() - started
    return out


def table(out: dict) -> str:
    c = out["check"]
    lines = [
        f"threads {out['threads']}, {out['rounds']} rounds of {out['steps']} steps{', quick' if out['quick'] else ''}; "
        f"jax {out['versions']['jax']}, torch {out['versions']['torch']}",
        f"parameters: rgbench {c['parameters_rgbench']}, PyTorch {c['parameters_torch']}; same weights → logits within "
        f"{c['logits_max_abs_difference']:.1e} (of |logit| ≤ {c['logits_max_abs']:.1f})",
    ]
    for s, v in out["steps_per_second"].items():
        lines.append(f"{s:22s} " + "  ".join(f"{x:7.2f}" for x in v["per_round"]) + f"   median {v['median']:7.2f} steps/s")
    for name, key in (("rgbench / eager", "ratio_vs_torch_eager"), ("rgbench / compile", "ratio_vs_torch_compiled")):
        v = out[key]
        lines.append(
            f"{name:22s} " + "  ".join(f"{x:7.2f}" for x in v["per_round"]) + f"   median {v['median']:.2f}, min {v['min']:.2f}"
        )
    if "seeds" in out:
        s = out["seeds"]
        lines.append(
            f"rgbench, {s['seeds']} seeds on {s['devices']} device(s): {s['steps_per_second']:.2f} steps/s per seed, "
            f"{s['seed_steps_per_second']:.1f} seed-steps/s ({s['speedup_vs_one_seed_median']:.2f}× one seed's median)"
        )
    a = out["attention_one_block"]
    lines.append(
        f"attention alone, one block, forward + backward: jax {a['jax']['fwd_bwd_ms']:.2f} ms, torch "
        f"{a['torch']['fwd_bwd_ms']:.2f} ms; × depth {a['attention_gap_ms']:.1f} ms of the "
        f"{a['step_gap_ms']:.1f} ms between the median steps (rgbench vs eager)"
    )
    lines.append(f"({out['benchmark_seconds']:.0f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS._child:
        what = ARGS._child
        if what == "check":
            result = check_child()
        elif what.startswith("attention_"):
            result = attention_child(what.removeprefix("attention_"), ARGS.threads)
        elif what == "rgbench":
            result = rgbench_child(ARGS.steps, max(1, ARGS.seeds), ARGS.threads)
        else:
            result = torch_child(what.removeprefix("torch_"), ARGS.steps, ARGS.threads)
        print(json.dumps(result))
    else:
        result = main(ARGS)
        print(json.dumps(result, indent=2) if ARGS.json else table(result))
