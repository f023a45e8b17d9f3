"""Training throughput: rgbench against a plain PyTorch loop and the machine's float32 matmul peak.

    python benchmarks/throughput.py [--quick] [--json] [--threads N] [--devices D] [--seeds S] [--only tokenwise|mixer]

Configurations (same batch, steps and thread count on both sides):

* ``tokenwise`` — the seed config: V = 16, T = 64, ξ = 1.2, BERT masking; 6 pre-LN GELU blocks,
  d = 64, hidden 4d; Adam 3e-4, batch 32.
* ``mixer`` — MLP-Mixer, d = 64, depth 8, hidden 4d, token hidden 4T; V = 16, T = 16, batch 128.

Measured:

* rgbench steps per second per seed, steady state (compile excluded: timed between the first and
  the last loss report of ``rgbench.train.train``), with one seed, with S seeds vmapped in one
  program — split over D CPU devices, as ``rgbench run --devices D`` does (default D = the thread
  count; ``benchmarks/seed_scaling.py`` has the one-device figures) — and with a Python loop calling
  ``train`` once per seed (compiled program reused; one seed always runs on one device);
* the same training in PyTorch (``torch==2.13.0``, the ``bench`` extra; ``benchmarks/torch_peers.py``),
  one seed, in every variant a careful researcher would try — tokenwise: the plain loop (every
  token through the network), the symbol-table objective rgbench uses (the network on the V + 1
  symbols, the loss from the batch's count table) and that under ``torch.compile``; mixer: eager
  and ``torch.compile`` — each with fused Adam; the **strongest** variant is the peer. rgbench's
  1-seed run and every PyTorch variant alternate for ``--rounds`` rounds (default 3), and each
  ratio is reported per round and as its minimum over rounds (a target must hold in every round);
* 10 tokenwise seeds in PyTorch too: the symbol-table loss ``torch.func.vmap``-ed over stacked
  parameters;
* the ceiling of S-seed tokenwise training: ``benchmarks/seed_scaling.py``'s program of the
  step's matrix products alone, for the same S on the same devices, in the same run;
  ``fraction_of_ceiling`` = rgbench's S-seed rate over it;
* float32 matmul peak: the best of large square ``jnp.dot`` and ``torch.mm`` products;
* rgbench's achieved GFLOP/s on the mixer: hand-counted matmul FLOPs of one training step
  (3 × forward; checkpoint recomputation not counted as useful work) × steps per second;
* the wall time of a tokenwise case of 10 seeds × 10 000 steps (run in full; in ``--quick``,
  extrapolated from the measured compile time and steady-state rate).

The thread count is set before JAX is imported (XLA_FLAGS) and with ``torch.set_num_threads``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

TARGETS = {
    "ratio_vs_strongest_torch.tokenwise.min": 1.5,
    "ratio_vs_torch_eager.mixer.min": 1.3,
    "ratio_vs_torch_compiled.mixer.min": 1.0,
    "achieved_fraction_of_peak": 0.5,
    "fraction_of_ceiling": 0.9,
    "tokenwise_10x10k_seconds": 120.0,
}
TORCH_VARIANTS = {"tokenwise": ("plain", "symbol_table", "symbol_table_compiled"), "mixer": ("plain", "plain_compiled")}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer steps (about a minute or two)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for XLA and torch")
    p.add_argument("--seeds", type=int, default=10, help="seeds for the vmap and Python-loop comparisons")
    p.add_argument("--devices", type=int, help="CPU devices the vmapped seeds are split over (default: --threads)")
    p.add_argument("--only", choices=["tokenwise", "mixer"], help="benchmark one configuration")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch baseline")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of the 1-seed rgbench and PyTorch timings")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.threads == 1:
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    ).strip()

from rgbench.train import use_cpu_devices

if ARGS is not None:
    use_cpu_devices(ARGS.devices or ARGS.threads)

import jax
import jax.numpy as jnp
import numpy as np
from _timing import torch_rate  # the script's directory is on the path (and put there by its importers)

from rgbench.inputs import Sticky
from rgbench.models import Mixer, Tokenwise
from rgbench.train import TrainConfig, train

# ---------------------------------------------------------------------------------------------
# The two configurations


def configs(quick: bool):
    tok = dict(
        name="tokenwise",
        arch=Tokenwise(depth=6, width=64, hidden_mult=4.0, activation="gelu"),
        data=Sticky(vocab=16, length=64, xi=1.2),
        batch=32,
        steps=1100 if quick else 3100,
        log_every=100,
        torch_steps={
            "plain": 30 if quick else 100,
            "symbol_table": 300 if quick else 1000,
            "symbol_table_compiled": 300 if quick else 1000,
            "symbol_table_vmap": 60 if quick else 200,
        },
    )
    mix = dict(
        name="mixer",
        arch=Mixer(depth=8, width=64, hidden_mult=4.0, activation="gelu"),
        data=Sticky(vocab=16, length=16, xi=1.2),
        batch=128,
        steps=110 if quick else 310,
        log_every=10,
        torch_steps={"plain": 30 if quick else 100, "plain_compiled": 30 if quick else 100},
    )
    return [tok, mix]


def train_config(c, steps=None) -> TrainConfig:
    return TrainConfig(steps=steps or c["steps"], batch=c["batch"], optimizer="adam", lr=3e-4, log_every=c["log_every"])


def mixer_flops_per_step(arch: Mixer, vocab: int, length: int, batch: int) -> float:
    """Matmul FLOPs of one training step: 3 × forward (forward, input grads, weight grads)."""
    d, h, th, t = arch.width, arch.hidden, arch.token_hidden_for(length), length
    per_block = 2 * (2 * t * th * d) + 2 * (2 * t * d * h)
    forward = batch * (arch.depth * per_block + 2 * t * d * vocab)
    return 3.0 * forward


# ---------------------------------------------------------------------------------------------
# rgbench


def timed_rate(c, seeds: int, steps: int) -> dict:
    """`rgbench_rate` on seeds 0 … seeds − 1 for at least `steps` timed steps (the first chunk compiles,
    then ≥ 4 timed chunks of ``c["log_every"]``), as suite_speed and transformer_peer report it."""
    import jax

    log_every = c["log_every"]
    total = log_every * (1 + max(4, -(-steps // log_every)))
    t0 = time.perf_counter()
    r = rgbench_rate(c, list(range(seeds)), steps=total)
    return {
        "steps_per_second": r["steps_per_second"],  # program steps/s: every seed advances one step
        "seed_steps_per_second": r["steps_per_second"] * seeds,
        "steps": total,
        "seeds": seeds,
        "devices": len(jax.devices()),
        "wall_seconds": time.perf_counter() - t0,
        "final_loss": [float(x) for x in r["final_loss"]],
    }


def rgbench_rate(c, seeds: list[int], steps: int | None = None) -> dict:
    """Steady-state steps per second (of the whole program) and total wall time of one ``train`` call.

    The rate is ``log_every`` over the shortest time per chunk between loss reports (in windows of
    three chunks): the first chunk (compilation) is excluded, and, as in ``timeit``, the fastest
    of several repetitions is the one least disturbed by other processes (the PyTorch loop is
    timed the same way, the fastest of ~10 blocks of steps).
    """
    stamps: list[float] = []
    data = c["data"].build()
    res = train(c["arch"], data, train_config(c, steps), seeds, progress=lambda s, n, loss: stamps.append(time.perf_counter()))
    if not np.isfinite(res.final_loss).all():
        raise RuntimeError(f"{c['name']}: training diverged in the benchmark ({res.final_loss})")
    # Windows of three chunks: a loss report that Python makes late shortens the next interval.
    window = np.asarray(stamps[3:]) - np.asarray(stamps[:-3])
    chunk = float(np.min(window)) / 3
    return {
        "steps_per_second": c["log_every"] / chunk,
        "wall_seconds": res.wall_seconds,
        "final_loss": res.final_loss,
        "result": res,
    }


def python_loop_rate(c, seeds: list[int]) -> float:
    """Seed-steps per second of a Python loop calling ``train`` once per seed (compile reused).

    Steady state only, like the vmapped rate; every seed does the same work, so ``--quick`` times
    the first three seeds of the loop.
    """
    busy = 0.0
    steps = 0
    for s in seeds:
        r = rgbench_rate(c, [s])
        steps += 1
        busy += 1.0 / r["steps_per_second"]
    return steps / busy


# ---------------------------------------------------------------------------------------------
# PyTorch, as a researcher would write it


def torch_step(c, variant: str, threads: int, seeds: int = 1):
    """A PyTorch step of configuration `c` written as `variant` (``benchmarks/torch_peers.py``)."""
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_peers

    torch.set_num_threads(threads)
    arch, spec = c["arch"], c["data"]
    shape = dict(
        vocab=spec.vocab, length=spec.length, batch=c["batch"], xi=spec.xi, d=arch.width, depth=arch.depth, hidden=arch.hidden
    )
    if variant == "symbol_table_vmap":
        return torch_peers.make_vmapped_tokenwise_step(seeds, **shape)
    if c["name"] == "mixer":
        shape["token_hidden"] = arch.token_hidden_for(spec.length)
    return torch_peers.make_step(c["name"], variant, **shape)


def ceiling(seeds: int, devices: int) -> dict:
    """``benchmarks/seed_scaling.py``'s matmul-only ceiling for `seeds` seeds on `devices` devices, run
    as that script runs it (a fresh process, so its device count is its own)."""
    from _timing import fresh_process

    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed_scaling.py")
    return fresh_process(script, "--_ceiling", str(seeds), str(devices))


def torch_peak(threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    best = 0.0
    for n in (1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)
        for _ in range(3):
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


def jax_peak() -> float:
    best = 0.0
    f = jax.jit(jnp.dot)
    for n in (1024, 2048, 3072):
        a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
        f(a, a).block_until_ready()
        for _ in range(3):
            t0 = time.perf_counter()
            f(a, a).block_until_ready()
            best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


# ---------------------------------------------------------------------------------------------


def main(args) -> dict:
    out: dict = {
        "threads": args.threads,
        "devices": len(jax.devices()),
        "seeds": args.seeds,
        "quick": args.quick,
        "jax": jax.__version__,
        "platform": platform.platform(),
        "steps_per_second": {},
        "ratio_vs_torch": {},
        "ratio_vs_strongest_torch": {},
        "strongest_torch_variant": {},
        "ratio_vs_torch_eager": {},
        "ratio_vs_torch_compiled": {},
        "ratio_vs_torch_vmapped": {},
        "ratio_vs_torch_vmapped_seeds": {},
        "vmap_speedup": {},
        "rounds": {},
    }
    seeds = list(range(args.seeds))
    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    for c in configs(args.quick):
        if args.only and c["name"] != args.only:
            continue
        name = c["name"]
        # 1-seed rgbench and every PyTorch variant alternate: the machine's speed drifts by tens of
        # percent over minutes, and alternating exposes all sides to the same drifts. Each ratio is
        # taken within a round; a target must hold in every round (its minimum).
        variants = () if args.no_torch else TORCH_VARIANTS[name]
        steps = {}
        for v in variants:
            log(f"[{name}] PyTorch {v}: building{' and compiling' if v.endswith('_compiled') else ''} …")
            steps[v] = torch_step(c, v, args.threads)
            steps[v]()  # a compiled variant compiles here, outside the timings
        one_rates: list[float] = []
        torch_rates: dict[str, list[float]] = {v: [] for v in variants}
        for r in range(args.rounds):
            log(f"[{name}] rgbench, 1 seed (round {r + 1}/{args.rounds}) …")
            one_rates.append(rgbench_rate(c, [0])["steps_per_second"])
            for v in variants:
                log(f"[{name}] PyTorch {v} (round {r + 1}/{args.rounds}) …")
                torch_rates[v].append(torch_rate(steps[v], c["torch_steps"][v]))
        log(f"[{name}] rgbench, {len(seeds)} seeds vmapped over {len(jax.devices())} device(s) …")
        many = rgbench_rate(c, seeds)
        log(f"[{name}] rgbench, Python loop over {len(seeds)} seeds …")
        loop = python_loop_rate(c, seeds[:3] if args.quick else seeds)
        rates = {
            "rgbench_1_seed": max(one_rates),
            "rgbench_vmapped_seed_steps": many["steps_per_second"] * len(seeds),
            "rgbench_python_loop_seed_steps": loop,
        }
        if variants:
            out["rounds"][name] = {"rgbench_1_seed": one_rates, **{f"torch_{v}": t for v, t in torch_rates.items()}}
            strongest = [max(torch_rates[v][r] for v in variants) for r in range(args.rounds)]
            out["strongest_torch_variant"][name] = max(variants, key=lambda v: max(torch_rates[v]))
            out["ratio_vs_strongest_torch"][name] = _per_round(one_rates, strongest)
            out["ratio_vs_torch_eager"][name] = _per_round(one_rates, torch_rates["plain"])
            if name == "mixer":
                out["ratio_vs_torch_compiled"][name] = _per_round(one_rates, torch_rates["plain_compiled"])
            for v in variants:
                rates[f"torch_{v}"] = max(torch_rates[v])
            rates["torch"] = max(rates[f"torch_{v}"] for v in variants)
            out["ratio_vs_torch"][name] = rates["rgbench_1_seed"] / rates["torch_plain"]
            out["ratio_vs_torch_vmapped"][name] = rates["rgbench_vmapped_seed_steps"] / rates["torch"]
            if name == "tokenwise":
                log(f"[tokenwise] PyTorch, {len(seeds)} seeds vmapped (torch.func) …")
                vstep = torch_step(c, "symbol_table_vmap", args.threads, seeds=len(seeds))
                rates["torch_symbol_table_vmap_seed_steps"] = torch_rate(vstep, c["torch_steps"]["symbol_table_vmap"]) * len(
                    seeds
                )
                out["ratio_vs_torch_vmapped_seeds"][name] = (
                    rates["rgbench_vmapped_seed_steps"] / rates["torch_symbol_table_vmap_seed_steps"]
                )
        if name == "tokenwise":
            log(f"[tokenwise] ceiling: the step's matrix products alone, {len(seeds)} seeds on {len(jax.devices())} device(s) …")
            ceil = ceiling(len(seeds), len(jax.devices()))
            out["ceiling_seed_steps_per_second"] = ceil["seed_steps_per_second"]
            out["fraction_of_ceiling"] = rates["rgbench_vmapped_seed_steps"] / ceil["seed_steps_per_second"]
        out["vmap_speedup"][name] = rates["rgbench_vmapped_seed_steps"] / loop
        out["steps_per_second"][name] = rates
        if name == "mixer":
            flops = mixer_flops_per_step(c["arch"], c["data"].vocab, c["data"].length, c["batch"])
            out["mixer_gflop_per_step"] = flops / 1e9
            out["achieved_gflops"] = flops * max(rates["rgbench_1_seed"], many["steps_per_second"] * len(seeds)) / 1e9
        if name == "tokenwise":
            if args.quick:
                # compile ≈ wall − steps / rate for the 10-seed call; extrapolate to 10k steps.
                compile_s = many["wall_seconds"] - c["steps"] / many["steps_per_second"]
                out["tokenwise_10x10k_seconds"] = compile_s + 10_000 / many["steps_per_second"]
                out["tokenwise_10x10k_measured"] = False
                if len(seeds) != 10:
                    out["tokenwise_10x10k_seconds"] = None
            else:
                log("[tokenwise] 10 seeds × 10 000 steps …")
                res = train(c["arch"], c["data"].build(), train_config(c, 10_000), list(range(10)))
                out["tokenwise_10x10k_seconds"] = res.wall_seconds
                out["tokenwise_10x10k_measured"] = True
    log("float32 matmul peak …")
    peaks = {"jax": jax_peak()}
    if not args.no_torch:
        peaks["torch"] = torch_peak(args.threads)
    out["peak_gflops_by_library"] = peaks
    out["peak_gflops"] = max(peaks.values())
    if "achieved_gflops" in out:
        out["achieved_fraction_of_peak"] = out["achieved_gflops"] / out["peak_gflops"]
    out["targets_met"] = targets_met(out)
    return out


def _per_round(ours: list[float], theirs: list[float]) -> dict:
    """rgbench's rate over the peer's, per alternating round, and the smallest of them."""
    ratios = [a / b for a, b in zip(ours, theirs)]
    return {"per_round": ratios, "min": min(ratios)}


def lookup(out: dict, dotted: str):
    v = out
    for part in dotted.split("."):
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    return v


def targets_met(out: dict) -> dict:
    met = {}
    for key, target in TARGETS.items():
        v = lookup(out, key)
        if v is None:
            continue
        met[key] = bool(v <= target) if key.endswith("seconds") else bool(v >= target)
    return met


def table(out: dict) -> str:
    lines = [
        f"threads {out['threads']}, seeds {out['seeds']} vmapped over {out['devices']} device(s)"
        f"{', quick' if out['quick'] else ''}; jax {out['jax']}"
    ]
    for name, r in out["steps_per_second"].items():
        lines.append(f"{name}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.items()) + "  (steps/s; *_seed_steps: seed-steps/s)")
    lines.append("")
    rows = [
        (
            "tokenwise vs strongest torch (" + str(out["strongest_torch_variant"].get("tokenwise")) + "), min over rounds",
            "ratio_vs_strongest_torch.tokenwise.min",
            "≥ 1.5×",
        ),
        ("tokenwise vs the plain torch loop, min over rounds", "ratio_vs_torch_eager.tokenwise.min", ""),
        ("tokenwise 10 seeds vs torch.func vmap, 10 seeds", "ratio_vs_torch_vmapped_seeds.tokenwise", ""),
        ("mixer vs torch eager, min over rounds", "ratio_vs_torch_eager.mixer.min", "≥ 1.3×"),
        ("mixer vs torch.compile, min over rounds", "ratio_vs_torch_compiled.mixer.min", "≥ 1.0×"),
        ("vmap speedup vs Python loop, tokenwise", "vmap_speedup.tokenwise", ""),
        ("vmap speedup vs Python loop, mixer", "vmap_speedup.mixer", ""),
        ("tokenwise seeds: fraction of the matmul ceiling", "fraction_of_ceiling", "≥ 0.9"),
        ("float32 matmul peak (GFLOP/s)", "peak_gflops", ""),
        ("mixer achieved (GFLOP/s)", "achieved_gflops", ""),
        ("mixer fraction of peak", "achieved_fraction_of_peak", "≥ 0.5"),
        ("tokenwise 10 seeds × 10k steps (s)", "tokenwise_10x10k_seconds", "≤ 120"),
    ]
    met = out.get("targets_met", {})
    for label, key, target in rows:
        v = lookup(out, key)
        if v is None:
            continue
        flag = "" if key not in met else ("  met" if met[key] else "  NOT met")
        lines.append(f"{label:52s} {v:10.2f}   {target}{flag}")
    if out.get("tokenwise_10x10k_measured") is False:
        lines.append("(10 × 10k extrapolated from the quick run's compile time and rate)")
    return "\n".join(lines)


if __name__ == "__main__":
    result = main(ARGS)
    print(json.dumps(result, indent=2, default=float) if ARGS.json else table(result))
