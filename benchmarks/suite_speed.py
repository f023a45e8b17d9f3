"""Training speed at the standard suites' own setting: rgbench beside PyTorch and beside the step's same-run bound.

    python benchmarks/suite_speed.py [--json] [--out PATH] [--rounds 5] [--steps 150] [--only FAMILY] [--quick]

Configuration: the three families that use context, exactly as the suites train them (read from the
suite files, not restated): ``mixer-short-xi`` and ``windowed-short-xi`` of
``suites/archive/architectures-full.yaml`` and ``transformer-short-xi`` of ``suites/archive/architectures-v2.yaml`` —
d = 64, T = 64, depth 6, GELU, LayerNorm; V = 16 sticky chain at ξ = 1.2 with BERT masking (15 %);
Adam 3e-4, batch 32. Mixer: channel hidden 3d, token hidden 64. Windowed: radius 1, hidden 2d.
Transformer: 4 heads of width 16, hidden 2d, sinusoidal positions, full attention.

Measured, per family, every figure in a fresh process (``benchmarks/_timing.py``), with the same
threads for XLA and PyTorch (default: every core; XLA pinned as ``transformer_peer._xla_threads``
pins it), the variants alternating for ``--rounds`` rounds (the machine's speed drifts over minutes;
each ratio is taken within a round):

* ``check`` (once) — the PyTorch peer is the same network: parameter counts, and the largest logit
  difference once rgbench's seed-0 weights are copied into it (the transformer's by
  ``transformer_peer.check_child``; the windowed peer is ``torch_peers.WindowedBlock``, new here);
* ``rgbench_1seed`` — steps/s of ``rgbench.train.train`` on seed 0, steady state
  (``throughput.rgbench_rate``: the fastest window of three 10-step loss reports after the first,
  so compilation is excluded; the batch is drawn on device inside the step);
* ``rgbench_10seed`` — seeds 0 … 9 in one ``train`` call on one CPU device (as ``rgbench run``
  without ``--devices``): seed-steps/s, timed the same way over 5-step loss reports;
* ``torch_eager`` and ``torch_compile`` — ``torch_peers.make_step`` of the same network, 1 seed (the
  loss under ``torch.compile`` in the second; fused Adam in both): steps/s by ``_timing.torch_rate``
  (a compiled variant compiles before the clock starts);
* ``bound`` — the same-run bound, as ``benchmarks/mixer_ceiling.py`` builds it: every matrix product
  of one step alone (each forward GEMM at its exact shape and both of its backward GEMMs, input and
  weight gradients, batched for attention's q·kᵀ and p·v) in one jitted JAX program, plus the
  step's optimizer update alone (the case's own optax Adam on the parameter tree as training lays
  it out, chained through 50 steps in a ``lax.scan``). Ten seeds cost ten times one seed's
  products and update, so 10 seeds cannot train faster than 1000 / (GEMMs ms + optimizer ms)
  seed-steps/s on this machine; ``ten_seeds_vs_bound`` is rgbench's 10-seed rate over it.
* ``breakdown`` — where rgbench's 1-seed step goes (medians over rounds): the step, its products
  alone, its optimizer alone, and the remainder (elementwise work, norms, softmax, sampling, copies,
  dispatch) in ms and as a share of the step; for the transformer also one block's attention alone
  (forward + backward of ``jax.nn.dot_product_attention`` against PyTorch's
  ``scaled_dot_product_attention`` at this shape, ``transformer_peer.attention_child``).

Targets, per family: ``one_seed_vs_compile`` — rgbench 1 seed / ``torch.compile``, median ≥ 1.1 and
no round below 1.0; ``ten_seeds_vs_bound`` — rgbench 10 seeds / bound, median ≥ 0.85. Each is
reported with ``met`` true or false.

The machine may be shared: before each figure the benchmark waits (up to ``--quiet-wait`` seconds,
default 180) until other processes use under 0.25 cores for 3 s, and it records the cores other
processes used while each figure ran (``other_processes_cores``, from ``/proc/stat`` less this
benchmark's own CPU time): a figure taken beside someone else's job is slow for that reason alone.

The JSON (``--json`` prints it) is written to ``--out`` (default
``benchmarks/results/suite_speed.json``; a ``--quick`` smoke test writes only where ``--out`` says).
Progress goes to stderr. The full run (5 rounds, 150 steps a figure) took 21 minutes on 2 quiet cores:

    python benchmarks/suite_speed.py --json --rounds 5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from _quiet import QUIET_CORES, Others, wait_quiet  # noqa: E402 - benchmarks/ is on the path only from here
from _timing import best_ms, fresh_process, torch_rate  # noqa: E402
from transformer_peer import _xla_threads  # noqa: E402

#: family → (suite file, case): the configuration each family is benchmarked at
FAMILIES = {
    "mixer": ("suites/archive/architectures-full.yaml", "mixer-short-xi"),
    "windowed": ("suites/archive/architectures-full.yaml", "windowed-short-xi"),
    "transformer": ("suites/archive/architectures-v2.yaml", "transformer-short-xi"),
}
SEEDS = 10
LOG_EVERY = 10  # rgbench's loss reports with one seed (the chunks it is timed over)
LOG_EVERY_SEEDS = 5  # … and with ten (each chunk is ten seeds' steps)
OPTIMIZER_STEPS = 50  # Adam updates chained in the optimizer-alone program
TARGETS = {
    "one_seed_vs_compile": {"ratio": "rgbench_1seed / torch_compile", "median_at_least": 1.1, "min_at_least": 1.0},
    "ten_seeds_vs_bound": {"ratio": "rgbench_10seed / bound", "median_at_least": 0.85},
}
VARIANTS = ("rgbench_1seed", "torch_eager", "torch_compile", "rgbench_10seed", "bound")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument(
        "--out", default=None, help="write the JSON here (default benchmarks/results/suite_speed.json; none with --quick)"
    )
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    p.add_argument("--steps", type=int, default=150, help="timed 1-seed steps per figure on every side (default 150)")
    p.add_argument("--only", action="append", choices=list(FAMILIES), help="benchmark this family only (repeatable)")
    p.add_argument("--quick", action="store_true", help="a smoke test: 1 round of a few steps")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for XLA and PyTorch")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=180.0,
        help=f"before each figure, wait up to this many seconds for other processes to use < {QUIET_CORES} cores (0: no wait)",
    )
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_family", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_seeds", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 1, min(args.steps, 20)
    if args._child:
        return args
    if args.rounds < 1 or args.steps < 10:
        p.error("--rounds must be at least 1 and --steps at least 10")
    if args.out is None and not args.quick:
        args.out = os.path.join(HERE, "results", "suite_speed.json")
    return args


# ---------------------------------------------------------------------------------------------
# The configuration, read from the suites (no JAX: a PyTorch child reads it too)


def case(family: str):
    from rgbench.suite import load_suite

    path, case_id = FAMILIES[family]
    c = load_suite(os.path.join(ROOT, path)).case(case_id)
    t = c.train
    # throughput.rgbench_rate trains with throughput.train_config (Adam, 3e-4, constant): the case must too
    if (t.optimizer, t.lr, t.warmup, t.schedule, t.clip, t.weight_decay) != ("adam", 3e-4, 0, "constant", None, 0.0):
        raise SystemExit(f"{path}: {case_id} no longer trains with constant Adam 3e-4; update the benchmark ({t})")
    return c


def shape(family: str) -> dict:
    """The network and batch of `family`'s case as ``torch_peers.make_step`` takes them."""
    c = case(family)
    a, data = c.architecture, c.input
    s = dict(vocab=data.vocab, length=data.length, batch=c.train.batch, xi=data.xi, d=a.width, depth=a.depth, hidden=a.hidden)
    if family == "mixer":
        s["token_hidden"] = a.token_hidden_for(data.length)
    elif family == "windowed":
        s["radius"] = a.radius
    else:
        s.update(heads=a.heads, head_width=a.resolved_head_width)
    return s


def gemm_shapes(family: str, s: dict) -> list[tuple[int, int, int, int]]:
    """(batch, M, K, N) of every matrix product of one training step, as rgbench computes the forward
    pass: each forward M×K @ K×N, then its input gradient (M×N @ N×K) and weight gradient (K×M @ M×N).
    Rows are batch·T tokens, or batch·width for the mixer's token MLP; attention's two products are
    batched over batch·heads."""
    b, t, d, h, v = s["batch"], s["length"], s["d"], s["hidden"], s["vocab"]
    rows = b * t
    block: list[tuple[int, int, int, int]]
    if family == "mixer":
        th = s["token_hidden"]
        block = [(1, b * d, t, th), (1, b * d, th, t), (1, rows, d, h), (1, rows, h, d)]
    elif family == "windowed":
        block = [(1, rows, (2 * s["radius"] + 1) * d, h), (1, rows, h, d)]
    else:
        n, hw = s["heads"], s["head_width"]
        block = [
            (1, rows, d, 3 * n * hw),  # q | k | v
            (b * n, t, hw, t),  # q·kᵀ
            (b * n, t, t, hw),  # softmax · v
            (1, rows, n * hw, d),  # heads → width
            (1, rows, d, h),
            (1, rows, h, d),
        ]
    forward = block * s["depth"] + [(1, rows, d, v)]  # the readout
    out = []
    for bb, m, k, n in forward:
        out += [(bb, m, k, n), (bb, m, n, k), (bb, k, m, n)]
    return out


def gemm_gflop(shapes) -> float:
    return sum(2 * bb * m * k * n for bb, m, k, n in shapes) / 1e9


# ---------------------------------------------------------------------------------------------
# Children: one figure each, in its own process


def rgbench_child(family: str, seeds: int, steps: int, threads: int) -> dict:
    """Steady-state rate of one ``train`` call on seeds 0 … seeds − 1 on one CPU device."""
    _xla_threads(threads)
    import throughput

    c = case(family)
    log_every = LOG_EVERY if seeds == 1 else LOG_EVERY_SEEDS
    spec = dict(name=family, arch=c.architecture, data=c.input, batch=c.train.batch, log_every=log_every)
    return throughput.timed_rate(spec, seeds, steps)


def torch_child(family: str, variant: str, steps: int, threads: int) -> dict:
    import torch
    import torch_peers

    torch.set_num_threads(threads)
    step = torch_peers.make_step(family, variant, **shape(family))
    t0 = time.perf_counter()
    step().item()  # a compiled variant compiles here (inductor's on-disk cache may shorten later rounds)
    first = time.perf_counter() - t0
    rate = torch_rate(step, steps)
    return {"steps_per_second": rate, "first_step_seconds": first, "loss": float(step().item())}


def bound_child(family: str, threads: int, quick: bool) -> dict:
    """One step's matrix products alone and its optimizer update alone, in milliseconds (best of blocks)."""
    _xla_threads(threads)
    import equinox as eqx
    import jax
    import optax

    from rgbench.models._base import unstack_blocks
    from rgbench.train import make_optimizer

    c = case(family)
    shapes = gemm_shapes(family, shape(family))
    keys = jax.random.split(jax.random.key(0), 2 * len(shapes))

    def operands(i, bb, m, k, n):
        lead = () if bb == 1 else (bb,)
        return jax.random.normal(keys[2 * i], lead + (m, k)), jax.random.normal(keys[2 * i + 1], lead + (k, n))

    ops = [operands(i, *sh) for i, sh in enumerate(shapes)]
    products = jax.jit(lambda ops: [a @ b for a, b in ops])
    calls = 3 if quick else 10
    out = {
        "gemm_count": len(shapes),
        "gemm_gflop": gemm_gflop(shapes),
        "gemms_ms": best_ms(lambda: jax.block_until_ready(products(ops)), calls),
    }
    if family == "transformer":  # the attention's own products (the batched ones), for the breakdown
        att = [op for op, sh in zip(ops, shapes) if sh[0] > 1]
        out["attention_gemms_ms"] = best_ms(lambda: jax.block_until_ready(products(att)), calls)

    a, data = c.architecture, c.input
    net = a.build(data.vocab, data.length, key=jax.random.key(0))
    params = eqx.filter(unstack_blocks(net) if net.unroll_in_training else net, eqx.is_array)  # training's layout
    grads = jax.tree_util.tree_map(lambda p: 1e-3 * p + 1e-4, params)
    opt = make_optimizer(c.train)

    def updates(params, grads):
        def step(carry, _):
            p, st = carry
            u, st = opt.update(grads, st, p)
            return (optax.apply_updates(p, u), st), None

        return jax.lax.scan(step, (params, opt.init(params)), None, length=OPTIMIZER_STEPS)[0][0]

    chained = jax.jit(updates)
    out["optimizer_ms"] = best_ms(lambda: jax.block_until_ready(chained(params, grads)), 1, 3 if quick else 5) / OPTIMIZER_STEPS
    out["parameters"] = int(sum(x.size for x in jax.tree_util.tree_leaves(params)))
    return out


def check_child(family: str) -> dict:
    """Parameter counts, and rgbench's seed-0 network copied into the PyTorch peer: the largest
    difference of their logits on 8 random sequences (masks included)."""
    if family == "transformer":
        import transformer_peer

        if transformer_peer.arch() != case(family).architecture:
            raise SystemExit("transformer_peer.arch() is not the suite's transformer: its check would not apply")
        return transformer_peer.check_child()
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import torch
    import torch_peers

    c, s = case(family), shape(family)
    a, v, t, d = c.architecture, s["vocab"], s["length"], s["d"]
    net = a.network(v, t, key=jax.random.key(0))
    ours = sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(net, eqx.is_inexact_array)))
    if family == "mixer":
        peer = torch_peers.Net(v, d, s["depth"], lambda: torch_peers.MixerBlock(d, s["hidden"], t, s["token_hidden"]))
    else:
        peer = torch_peers.Net(v, d, s["depth"], lambda: torch_peers.WindowedBlock(d, s["hidden"], s["radius"]))
    theirs = sum(p.numel() for p in peer.parameters())

    def branch(norm, mlp, src, layer):  # rgbench: x @ W (in, out); torch: W (out, in)
        return [
            (norm.weight, src.norm.gain[layer], False),
            (norm.bias, src.norm.bias[layer], False),
            (mlp.fc1.weight, src.w1[layer], True),
            (mlp.fc1.bias, src.b1[layer], False),
            (mlp.fc2.weight, src.w2[layer], True),
            (mlp.fc2.bias, src.b2[layer], False),
        ]

    pairs = [(peer.embed.weight, net.embedding.tokens, False)]
    for layer, blk in enumerate(peer.blocks):
        if family == "mixer":
            pairs += branch(blk.norm1, blk.token, net.blocks.token, layer) + branch(
                blk.norm2, blk.channel, net.blocks.channel, layer
            )
        else:
            pairs += branch(blk.norm, blk.mlp, net.blocks, layer)
    pairs += [
        (peer.norm.weight, net.readout.norm.gain, False),
        (peer.norm.bias, net.readout.norm.bias, False),
        (peer.out.weight, net.readout.weight, True),
        (peer.out.bias, net.readout.bias, False),
    ]
    with torch.no_grad():
        for dst, src, tr in pairs:
            x = torch.from_numpy(np.array(src))
            dst.copy_(x.T if tr else x)
        x = np.random.default_rng(0).integers(0, v + 1, (8, t))  # symbol V = [MASK]
        _, logits = net.apply(jnp.asarray(x), collect=False)
        peer_logits = peer(torch.from_numpy(x)).numpy()
    return {
        "parameters_rgbench": int(ours),
        "parameters_rgbench_cost": int(a.cost(v, t).params),
        "parameters_torch": int(theirs),
        "parameters_equal": bool(ours == theirs),
        "logits_max_abs_difference": float(np.abs(np.asarray(logits) - peer_logits).max()),
        "logits_max_abs": float(np.abs(peer_logits).max()),
    }


# ---------------------------------------------------------------------------------------------


def _summary(values: list[float]) -> dict:
    return {"per_round": values, "median": statistics.median(values), "min": min(values)}


def _ratios(ours: list[float], theirs: list[float]) -> dict:
    return _summary([a / b for a, b in zip(ours, theirs)])


def _met(ratio: dict, target: dict) -> dict:
    ok = ratio["median"] >= target["median_at_least"] and ratio["min"] >= target.get("min_at_least", -math.inf)
    return {**target, "median": ratio["median"], "min": ratio["min"], "met": bool(ok)}


def main(args) -> dict:
    def log(*a):
        print(*a, file=sys.stderr, flush=True)

    waited: list[float] = []
    others: list[float | None] = []

    def child(what: str, family: str, *argv: str):
        """One figure in a fresh process, after waiting for a quiet machine; others' CPU use during it is kept."""
        if args.quiet_wait > 0:
            waited.append(wait_quiet(args.quiet_wait, log))
        probe = Others()
        m = fresh_process(__file__, "--_child", what, "--_family", family, "--threads", str(args.threads), *argv)
        others.append(probe.cores())
        return m

    families = [f for f in FAMILIES if not args.only or f in args.only]
    seed_steps = max(LOG_EVERY_SEEDS, args.steps // 5)  # program steps of the 10-seed figure (each is 10 seed-steps)
    torch_steps = max(10, args.steps)
    started = time.perf_counter()
    shapes = {f: shape(f) for f in families}
    checks = {}
    for f in families:
        log(f"[{f}] check: parameter counts and the same logits from the same weights …")
        checks[f] = child("check", f)
        if not checks[f]["parameters_equal"]:
            raise SystemExit(f"{f}: parameter counts differ: {checks[f]}")
    rounds: dict[str, dict[str, list[dict]]] = {f: {v: [] for v in VARIANTS} for f in families}
    for r in range(args.rounds):
        for f in families:
            for v in VARIANTS:
                log(f"round {r + 1}/{args.rounds} [{f}] {v} … ({time.perf_counter() - started:.0f} s)")
                if v == "rgbench_1seed":
                    m = child("rgbench", f, "--steps", str(args.steps), "--_seeds", "1")
                elif v == "rgbench_10seed":
                    m = child("rgbench", f, "--steps", str(seed_steps), "--_seeds", str(SEEDS))
                elif v == "bound":
                    m = child("bound", f, *(["--quick"] if args.quick else []))
                else:
                    m = child(v, f, "--steps", str(torch_steps))
                rounds[f][v].append({**m, "other_processes_cores": others[-1]})
    attention = None
    if "transformer" in families:
        log("[transformer] attention alone, one block, each library (alternating) …")
        script = os.path.join(HERE, "transformer_peer.py")
        att = {lib: [] for lib in ("jax", "torch")}
        for _ in range(1 if args.quick else 2):
            for lib in att:
                att[lib].append(fresh_process(script, "--_child", f"attention_{lib}", "--threads", str(args.threads)))
        attention = {lib: {k: min(m[k] for m in ms) for k in ("fwd_ms", "fwd_bwd_ms")} for lib, ms in att.items()}

    out: dict = {
        "config": {
            "suites": {f: {"file": FAMILIES[f][0], "case": FAMILIES[f][1]} for f in families},
            "shapes": shapes,
            "architectures": {f: case(f).architecture.model_dump(mode="json") for f in families},
            "input": case(families[0]).input.model_dump(mode="json"),
            "train": {
                k: v for k, v in case(families[0]).train.model_dump(mode="json").items() if k not in ("steps", "log_every")
            },
            "seeds_10": list(range(SEEDS)),
            "devices_10": "one CPU device (rgbench run without --devices)",
            "torch": "torch_peers.make_step, plain (eager) and plain_compiled (loss under torch.compile); fused Adam",
        },
        "threads": args.threads,
        "rounds": args.rounds,
        "steps": {"rgbench_1seed": args.steps, "rgbench_10seed_program_steps": seed_steps, "torch": torch_steps},
        "quick": args.quick,
        "platform": platform.platform(),
        "quiet_wait_seconds": {"limit": args.quiet_wait, "total": sum(waited), "max": max(waited, default=0.0)},
        "targets": TARGETS,
        "families": {},
    }
    for f in families:
        rs = rounds[f]
        one = [m["steps_per_second"] for m in rs["rgbench_1seed"]]
        ten = [m["seed_steps_per_second"] for m in rs["rgbench_10seed"]]
        eager = [m["steps_per_second"] for m in rs["torch_eager"]]
        compiled = [m["steps_per_second"] for m in rs["torch_compile"]]
        gemms = [m["gemms_ms"] for m in rs["bound"]]
        opt = [m["optimizer_ms"] for m in rs["bound"]]
        bound = [1e3 / (g + o) for g, o in zip(gemms, opt)]  # 10 seeds: 10 × (g + o) ms per 10 seed-steps
        per_round = {
            "rgbench_1seed_steps_per_second": one,
            "rgbench_10seed_seed_steps_per_second": ten,
            "torch_eager_steps_per_second": eager,
            "torch_compile_steps_per_second": compiled,
            "gemms_ms": gemms,
            "optimizer_ms": opt,
            "bound_seed_steps_per_second": bound,
        }
        vs_compile, vs_eager, vs_bound = _ratios(one, compiled), _ratios(one, eager), _ratios(ten, bound)
        step_ms = 1e3 / statistics.median(one)
        g_ms, o_ms = statistics.median(gemms), statistics.median(opt)
        rest = step_ms - g_ms - o_ms
        b0 = rs["bound"][0]
        fam = {
            "check": checks[f],
            "per_round": per_round,
            "median": {k: statistics.median(v) for k, v in per_round.items()},
            "ratio_vs_torch_compile": vs_compile,
            "ratio_vs_torch_eager": vs_eager,
            "ten_seeds_vs_bound": vs_bound,
            "targets": {
                "one_seed_vs_compile": _met(vs_compile, TARGETS["one_seed_vs_compile"]),
                "ten_seeds_vs_bound": _met(vs_bound, TARGETS["ten_seeds_vs_bound"]),
            },
            "breakdown": {
                "step_ms": step_ms,
                "gemms_ms": g_ms,
                "optimizer_ms": o_ms,
                "remainder_ms": rest,
                "gemms_share": g_ms / step_ms,
                "optimizer_share": o_ms / step_ms,
                "remainder_share": rest / step_ms,
                "gemm_count": b0["gemm_count"],
                "gemm_gflop_per_step": b0["gemm_gflop"],
                "gemms_gflops": b0["gemm_gflop"] / (g_ms / 1e3),
                "parameters": b0["parameters"],
                "torch_eager_step_ms": 1e3 / statistics.median(eager),
                "torch_compile_step_ms": 1e3 / statistics.median(compiled),
            },
            "rgbench_10seed_devices": rs["rgbench_10seed"][0]["devices"],
            # cores other processes on the machine used while each figure ran (None: not measurable here)
            "other_processes_cores": {v: [m["other_processes_cores"] for m in rs[v]] for v in VARIANTS},
            "torch_compile_first_step_seconds": [m["first_step_seconds"] for m in rs["torch_compile"]],
            "rgbench_wall_seconds": {
                "1seed": [m["wall_seconds"] for m in rs["rgbench_1seed"]],
                "10seed": [m["wall_seconds"] for m in rs["rgbench_10seed"]],
            },
        }
        if f == "transformer":
            depth = shapes[f]["depth"]
            att_gemms = statistics.median(m["attention_gemms_ms"] for m in rs["bound"])
            fam["attention_one_block"] = {
                **attention,
                "jax_over_torch_fwd_bwd": attention["jax"]["fwd_bwd_ms"] / attention["torch"]["fwd_bwd_ms"],
                "depth_x_fwd_bwd_ms": {lib: depth * a["fwd_bwd_ms"] for lib, a in attention.items()},
                # the attention's products are among the GEMMs: what it costs beyond them is in the remainder
                "attention_gemms_ms": att_gemms,
                "jax_beyond_its_gemms_ms": depth * attention["jax"]["fwd_bwd_ms"] - att_gemms,
            }
        out["families"][f] = fam
    import importlib.metadata as md

    out["versions"] = {p: md.version(p) for p in ("jax", "torch")}
    out["benchmark_seconds"] = time.perf_counter() - started
    return out


def table(out: dict) -> str:
    lines = [
        f"threads {out['threads']}, {out['rounds']} round(s), {out['steps']['rgbench_1seed']} steps a 1-seed figure"
        f"{', quick' if out['quick'] else ''}; jax {out['versions']['jax']}, torch {out['versions']['torch']}"
    ]
    for f, r in out["families"].items():
        c = r["check"]
        lines += [
            "",
            f"{f} ({out['config']['suites'][f]['case']}): {c['parameters_rgbench']} parameters both sides; same weights → "
            f"logits within {c['logits_max_abs_difference']:.1e}",
        ]
        for k, v in r["per_round"].items():
            lines.append(f"  {k:38s} " + "  ".join(f"{x:7.2f}" for x in v) + f"   median {r['median'][k]:7.2f}")
        for name, key in (
            ("rgbench 1 seed / torch.compile", "ratio_vs_torch_compile"),
            ("rgbench 1 seed / torch eager", "ratio_vs_torch_eager"),
            ("rgbench 10 seeds / bound", "ten_seeds_vs_bound"),
        ):
            v = r[key]
            lines.append(
                f"  {name:38s} "
                + "  ".join(f"{x:7.2f}" for x in v["per_round"])
                + f"   median {v['median']:.2f}, min {v['min']:.2f}"
            )
        for name, t in r["targets"].items():
            want = f"median ≥ {t['median_at_least']}" + (f", min ≥ {t['min_at_least']}" if "min_at_least" in t else "")
            lines.append(f"  target {name}: {want}: {'met' if t['met'] else 'NOT met'}")
        busy = [x for v in r["other_processes_cores"].values() for x in v if x is not None]
        if busy:
            lines.append(
                f"  other processes during the figures: at most {max(busy):.2f} cores (mean {statistics.mean(busy):.2f})"
            )
        b = r["breakdown"]
        lines.append(
            f"  1-seed step {b['step_ms']:.1f} ms = GEMMs {b['gemms_ms']:.1f} ({b['gemms_share']:.0%}; {b['gemm_count']} products, "
            f"{b['gemms_gflops']:.0f} GFLOP/s) + Adam {b['optimizer_ms']:.2f} ({b['optimizer_share']:.0%}) + the rest "
            f"{b['remainder_ms']:.1f} ({b['remainder_share']:.0%}); torch eager {b['torch_eager_step_ms']:.1f}, "
            f"compile {b['torch_compile_step_ms']:.1f} ms"
        )
        if "attention_one_block" in r:
            a = r["attention_one_block"]
            lines.append(
                f"  attention alone, one block, fwd + bwd: jax {a['jax']['fwd_bwd_ms']:.2f} ms, torch {a['torch']['fwd_bwd_ms']:.2f} ms; "
                f"× depth, jax {a['depth_x_fwd_bwd_ms']['jax']:.1f} ms, of which its products {a['attention_gemms_ms']:.1f} ms"
            )
    lines.append(f"({out['benchmark_seconds']:.0f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS._child:
        what, fam = ARGS._child, ARGS._family
        if what == "check":
            result = check_child(fam)
        elif what == "rgbench":
            result = rgbench_child(fam, ARGS._seeds, ARGS.steps, ARGS.threads)
        elif what == "bound":
            result = bound_child(fam, ARGS.threads, ARGS.quick)
        else:
            result = torch_child(fam, {"torch_eager": "plain", "torch_compile": "plain_compiled"}[what], ARGS.steps, ARGS.threads)
        print(json.dumps(result))
    else:
        result = main(ARGS)
        text = json.dumps(result, indent=2)
        if ARGS.out:
            os.makedirs(os.path.dirname(os.path.abspath(ARGS.out)), exist_ok=True)
            with open(ARGS.out, "w") as fh:
                fh.write(text + "\n")
        print(text if ARGS.json else table(result))
