"""How the tokenwise seed config's training rate scales with vmapped seeds, with the seed axis split
over CPU devices (``rgbench run --devices N``), and the ceiling its matmuls alone set — the figures
the Speed page (docs/speed.md) quotes.

    python benchmarks/seed_scaling.py [--seeds 1 2 4 10] [--steps 1100] [--devices 2] [--json]

For each seed count S: steady-state steps per second of one ``rgbench.train.train`` call on S
seeds (compile excluded, the fastest window of three loss reports, as in throughput.py) and the
seed-steps per second S × rate. Then the largest S again with the seeds split over ``--devices``
CPU devices (``rgbench.train.use_cpu_devices``, so each configuration runs in a fresh subprocess),
and the largest difference between the two runs' trained parameters (a different number of seeds
per compiled program changes XLA's float rounding; 0 would mean bitwise identical).

Lockstep: the largest S, on one device and on ``--devices``, once more with every seed of a
device's share vmapped together (``rgbench.train._VMAP_WORK`` raised past this config's
3.4M multiply-adds per seed-step, as rgbench did before it ran such seeds one after another), and
the ratio of rgbench's rate to that lockstep rate (> 1: running seeds in turn is faster).

The ceiling: a program that runs only the matrix products of a tokenwise training step (forward,
input gradients and weight gradients of the 6 blocks and the readout, on the V + 1 = 17 symbol
rows; 20.2 MFLOP per seed-step), chained through 200 steps so nothing is hoisted, for 1 seed on
one device and for the largest S split over the devices. No training step can outrun its own
matrix products, so S-seed training on this machine is bounded by that rate. And the optimizer
floor: the same S seeds' Adam update alone (``optimizer_floor``); training does both, so it is
bounded by ``matmul_plus_optimizer_bound`` = 1 / (1/matmul rate + 1/Adam rate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from _timing import best_ms, fresh_process


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 4, 10], help="seed counts to time")
    p.add_argument("--steps", type=int, default=1100, help="training steps per timing (log every 100)")
    p.add_argument("--devices", type=int, default=2, help="host devices to shard the largest seed count over (1: skip)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--_one", nargs=4, metavar=("SEEDS", "DEVICES", "PARAMS", "LOCKSTEP"), help=argparse.SUPPRESS)
    p.add_argument("--_ceiling", nargs=2, metavar=("SEEDS", "DEVICES"), help=argparse.SUPPRESS)
    p.add_argument("--_optimizer", nargs=2, metavar=("SEEDS", "DEVICES"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def one(seeds: int, devices: int, steps: int, params_path: str, lockstep: bool = False) -> dict:
    """Run in a fresh process: time one train call; save the trained parameters."""
    from rgbench import train as rgbench_train
    from rgbench.train import use_cpu_devices

    use_cpu_devices(devices)
    if lockstep:
        rgbench_train._VMAP_WORK = 10**18  # every seed of a device's share vmapped together
    import equinox as eqx
    import jax
    import numpy as np

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from throughput import configs, rgbench_rate

    c = configs(quick=False)[0]  # the tokenwise seed config
    c["steps"] = steps
    rate = rgbench_rate(c, list(range(seeds)))
    assert rate["result"].devices == min(devices, seeds)
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(rate["result"].trained, eqx.is_array))]
    np.savez(params_path, *leaves)
    return {
        "seeds": seeds,
        "devices": devices,
        "lockstep": lockstep,
        "steps_per_second": rate["steps_per_second"],
        "seed_steps_per_second": rate["steps_per_second"] * seeds,
        "mflop_per_seed_step": mflop_per_seed_step(c),
    }


def mflop_per_seed_step(c) -> float:
    arch, vocab = c["arch"], c["data"].vocab
    matmul_params = arch.depth * 2 * arch.width * arch.hidden + arch.width * vocab  # blocks + readout
    return 3 * 2 * (vocab + 1) * matmul_params / 1e6


def best_seconds(fun, *args, tries: int = 5) -> float:
    """Fastest of `tries` timed calls of a jitted `fun`, after warm-up calls (the first compiles it)."""
    import jax

    return best_ms(lambda: jax.block_until_ready(fun(*args)), n=1, blocks=tries) / 1e3


def ceiling(seeds: int, devices: int) -> dict:
    """Run in a fresh process: seed-steps per second of the step's matrix products alone."""
    from rgbench.train import use_cpu_devices

    use_cpu_devices(devices)

    import jax
    import jax.numpy as jnp

    from rgbench.train import SeedPlacement

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from throughput import configs

    c = configs(quick=False)[0]
    rows, d, h, v, depth, n = c["data"].vocab + 1, c["arch"].width, c["arch"].hidden, c["data"].vocab, c["arch"].depth, 200

    def seed_steps(w1, w2, wo, x0):
        def step(weights, _):
            w1, w2, wo = weights
            xs, zs, x = [], [], x0
            for layer in range(depth):  # forward
                z = x @ w1[layer]
                xs.append(x), zs.append(z)
                x = x + 0.01 * (z @ w2[layer])
            g = x @ wo
            gx, gwo = g @ wo.T, x.T @ g
            gw1, gw2 = [], []
            for layer in reversed(range(depth)):  # input and weight gradients
                gz = gx @ w2[layer].T
                gw2.append(zs[layer].T @ gx)
                gw1.append(xs[layer].T @ gz)
                gx = gx + gz @ w1[layer].T
            return (w1 - 1e-6 * jnp.stack(gw1[::-1]), w2 - 1e-6 * jnp.stack(gw2[::-1]), wo - 1e-6 * gwo), None

        return jax.lax.scan(step, (w1, w2, wo), None, length=n)[0]

    k = jax.random.split(jax.random.key(0), 4)
    args = (
        jax.random.normal(k[0], (seeds, depth, d, h)) * 0.1,
        jax.random.normal(k[1], (seeds, depth, h, d)) * 0.1,
        jax.random.normal(k[2], (seeds, d, v)) * 0.1,
        jax.random.normal(k[3], (seeds, rows, d)),
    )
    fun = jax.vmap(seed_steps)
    sharding = SeedPlacement.for_seeds(seeds).sharding  # the seed axis split as training splits it
    if sharding is not None:
        args = jax.device_put(args, sharding)
        fun = jax.jit(fun, in_shardings=(sharding,) * 4, out_shardings=(sharding,) * 3)
    else:
        fun = jax.jit(fun)
    rate = seeds * n / best_seconds(fun, *args)
    return {"seeds": seeds, "devices": devices, "seed_steps_per_second": rate, "gflops": rate * mflop_per_seed_step(c) / 1e3}


def optimizer_floor(seeds: int, devices: int) -> dict:
    """Run in a fresh process: seed-steps per second of the step's Adam update alone.

    The optimizer rgbench trains with (``make_optimizer``: Adam with its schedule), applied to the
    S seeds' real parameter pytree with a fixed gradient, chained through 200 steps. Every training
    step does this elementwise work on every parameter (read p, g, m, v; write p, m, v) besides its
    matrix products, so S-seed training is bounded by ``1 / (1/matmul rate + 1/optimizer rate)``.
    """
    from rgbench.train import use_cpu_devices

    use_cpu_devices(devices)

    import equinox as eqx
    import jax
    import optax

    from rgbench.train import SeedPlacement, _init_program, make_optimizer

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from throughput import configs, train_config

    c, n = configs(quick=False)[0], 200
    models = _init_program(c["arch"], c["data"].vocab, c["data"].length)(jax.random.split(jax.random.key(0), seeds))
    params = eqx.filter(models, eqx.is_array)
    opt = make_optimizer(train_config(c))
    grads = jax.tree_util.tree_map(lambda p: 1e-3 * p + 1e-4, params)

    def steps(params, grads):
        state = jax.vmap(opt.init)(params)

        def step(carry, _):
            p, st = carry
            updates, st = jax.vmap(opt.update)(grads, st, p)
            return (optax.apply_updates(p, updates), st), None

        return jax.lax.scan(step, (params, state), None, length=n)[0][0]

    sharding = SeedPlacement.for_seeds(seeds).sharding
    if sharding is not None:
        params, grads = jax.device_put((params, grads), sharding)
    best = best_seconds(jax.jit(steps), params, grads)
    n_params = sum(x.size for x in jax.tree_util.tree_leaves(params)) // seeds
    return {"seeds": seeds, "devices": devices, "seed_steps_per_second": seeds * n / best, "parameters_per_seed": int(n_params)}


def run(seeds: int, devices: int, steps: int, params_path: str, lockstep: bool = False) -> dict:
    return fresh_process(__file__, "--steps", str(steps), "--_one", str(seeds), str(devices), params_path, str(int(lockstep)))


def run_ceiling(seeds: int, devices: int, what: str = "--_ceiling") -> dict:
    return fresh_process(__file__, what, str(seeds), str(devices))


def main(args) -> dict:
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(s, 1, args.steps, os.path.join(tmp, f"p{s}.npz")) for s in args.seeds]
        result = {"steps": args.steps, "rows": rows, "mflop_per_seed_step": rows[0]["mflop_per_seed_step"]}
        if args.devices > 1:
            s = max(args.seeds)
            sharded = run(s, args.devices, args.steps, os.path.join(tmp, "sharded.npz"))
            a, b = np.load(os.path.join(tmp, f"p{s}.npz")), np.load(os.path.join(tmp, "sharded.npz"))
            diff = max(float(np.max(np.abs(a[k] - b[k]))) for k in a.files)
            base = next(r for r in rows if r["seeds"] == s)
            result["sharded"] = {
                **sharded,
                "speedup": sharded["steps_per_second"] / base["steps_per_second"],
                "max_parameter_difference": diff,
            }
        s = max(args.seeds)
        result["lockstep"] = []
        for d in sorted({1, args.devices}):
            lock = run(s, d, args.steps, os.path.join(tmp, f"lock{d}.npz"), lockstep=True)
            ours = next(r for r in rows if r["seeds"] == s) if d == 1 else result["sharded"]
            result["lockstep"].append({**lock, "rgbench_over_lockstep": ours["steps_per_second"] / lock["steps_per_second"]})
        result["ceiling"] = [run_ceiling(1, 1)] + ([run_ceiling(s, args.devices)] if args.devices > 1 else [run_ceiling(s, 1)])
        result["optimizer"] = run_ceiling(s, args.devices if args.devices > 1 else 1, "--_optimizer")
        mm, op = result["ceiling"][-1]["seed_steps_per_second"], result["optimizer"]["seed_steps_per_second"]
        result["matmul_plus_optimizer_bound"] = 1.0 / (1.0 / mm + 1.0 / op)
        one_seed = next(r for r in rows if r["seeds"] == 1) if 1 in args.seeds else None
        if one_seed:
            result["ceiling_over_one_seed_training"] = (
                result["ceiling"][-1]["seed_steps_per_second"] / one_seed["seed_steps_per_second"]
            )
    return result


def table(r: dict) -> str:
    lines = [
        f"tokenwise seed config, {r['steps']} steps; {r['mflop_per_seed_step']:.1f} MFLOP of matmuls per seed-step",
        f"{'seeds':>6s} {'devices':>8s} {'steps/s':>10s} {'seed-steps/s':>13s}",
    ]
    for row in r["rows"] + ([r["sharded"]] if "sharded" in r else []):
        lines.append(
            f"{row['seeds']:6d} {row['devices']:8d} {row['steps_per_second']:10.1f} {row['seed_steps_per_second']:13.1f}"
        )
    if "sharded" in r:
        sh = r["sharded"]
        lines.append(
            f"sharded over {sh['devices']} devices: {sh['speedup']:.2f}× the one-device rate; "
            f"trained parameters differ by up to {sh['max_parameter_difference']:.2g}"
        )
    for row in r.get("lockstep", []):
        lines.append(
            f"{row['seeds']} seeds in lockstep (all vmapped) on {row['devices']} device(s): "
            f"{row['seed_steps_per_second']:.1f} seed-steps/s; rgbench's grouping is "
            f"{row['rgbench_over_lockstep']:.2f}× that"
        )
    for c in r.get("ceiling", []):
        lines.append(
            f"matmuls only, {c['seeds']} seed(s) on {c['devices']} device(s): "
            f"{c['seed_steps_per_second']:.0f} seed-steps/s ({c['gflops']:.1f} GFLOP/s)"
        )
    if "optimizer" in r:
        o = r["optimizer"]
        lines.append(
            f"Adam update only ({o['parameters_per_seed']} parameters per seed), {o['seeds']} seeds on "
            f"{o['devices']} device(s): {o['seed_steps_per_second']:.0f} seed-steps/s; matmuls + Adam bound: "
            f"{r['matmul_plus_optimizer_bound']:.0f} seed-steps/s"
        )
    if "ceiling_over_one_seed_training" in r:
        lines.append(f"ceiling for S-seed training: {r['ceiling_over_one_seed_training']:.2f}× one-seed training's seed-steps/s")
    return "\n".join(lines)


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS._ceiling:
        print(json.dumps(ceiling(int(ARGS._ceiling[0]), int(ARGS._ceiling[1]))))
    elif ARGS._optimizer:
        print(json.dumps(optimizer_floor(int(ARGS._optimizer[0]), int(ARGS._optimizer[1]))))
    elif ARGS._one:
        s, d, path, lockstep = ARGS._one
        print(json.dumps(one(int(s), int(d), ARGS.steps, path, lockstep=bool(int(lockstep)))))
    else:
        res = main(ARGS)
        print(json.dumps(res, indent=2) if ARGS.json else table(res))
