"""How the tokenwise seed config's training rate scales with vmapped seeds, and with the seed axis
split over XLA host devices (one per core) — the figures README's "Speed" section quotes.

    python benchmarks/seed_scaling.py [--seeds 1 2 4 10] [--steps 1100] [--devices 2] [--json]

For each seed count S: steady-state steps per second of one ``rgbench.train.train`` call on S
seeds (compile excluded, the fastest window of three loss reports, as in throughput.py) and the
seed-steps per second S × rate. Then the largest S again with the seed axis sharded over
``--devices`` host devices (``--xla_force_host_platform_device_count``, set before JAX starts, so
each configuration runs in a subprocess), and the largest difference between the two runs' trained
parameters (sharding changes how XLA schedules the arithmetic; 0 would mean bitwise identical).
Also printed: the matmul FLOPs of one tokenwise seed-step (forward + backward = 3 × forward, on
the V + 1 symbol rows the symbol-table objective evaluates).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 4, 10], help="seed counts to time")
    p.add_argument("--steps", type=int, default=1100, help="training steps per timing (log every 100)")
    p.add_argument("--devices", type=int, default=2, help="host devices to shard the largest seed count over (1: skip)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--_one", nargs=3, metavar=("SEEDS", "DEVICES", "PARAMS"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def one(seeds: int, devices: int, steps: int, params_path: str) -> dict:
    """Run in a fresh process: time one train call; save the trained parameters."""
    if devices > 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}").strip()
    import equinox as eqx
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from throughput import configs, rgbench_rate

    from rgbench import train as T

    c = configs(quick=False)[0]  # the tokenwise seed config
    c["steps"] = steps
    if devices > 1:  # shard the seed axis of the initial networks and data keys; jit propagates it
        sharding = NamedSharding(Mesh(np.array(jax.devices()[:devices]), ("seed",)), PartitionSpec("seed"))
        fit = T._fit

        def sharded_fit(arch, data, cfg, init, data_keys, **kw):
            return fit(arch, data, cfg, jax.device_put(init, sharding), jax.device_put(data_keys, sharding), **kw)

        T._fit = sharded_fit
    rate = rgbench_rate(c, list(range(seeds)))
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(rate["result"].trained, eqx.is_array))]
    np.savez(params_path, *leaves)
    arch, vocab = c["arch"], c["data"].vocab
    matmul_params = arch.depth * 2 * arch.width * arch.hidden + arch.width * vocab  # blocks + readout
    return {"seeds": seeds, "devices": devices, "steps_per_second": rate["steps_per_second"],
            "seed_steps_per_second": rate["steps_per_second"] * seeds,
            "mflop_per_seed_step": 3 * 2 * (vocab + 1) * matmul_params / 1e6}


def run(seeds: int, devices: int, steps: int, params_path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--steps", str(steps), "--_one", str(seeds), str(devices), params_path],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
            result["sharded"] = {**sharded, "speedup": sharded["steps_per_second"] / base["steps_per_second"],
                                 "max_parameter_difference": diff}
    return result


def table(r: dict) -> str:
    lines = [f"tokenwise seed config, {r['steps']} steps; {r['mflop_per_seed_step']:.1f} MFLOP of matmuls per seed-step",
             f"{'seeds':>6s} {'devices':>8s} {'steps/s':>10s} {'seed-steps/s':>13s}"]
    for row in r["rows"] + ([r["sharded"]] if "sharded" in r else []):
        lines.append(f"{row['seeds']:6d} {row['devices']:8d} {row['steps_per_second']:10.1f} {row['seed_steps_per_second']:13.1f}")
    if "sharded" in r:
        sh = r["sharded"]
        lines.append(f"sharded over {sh['devices']} devices: {sh['speedup']:.2f}× the one-device rate; "
                     f"trained parameters differ by up to {sh['max_parameter_difference']:.2g}")
    return "\n".join(lines)


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS._one:
        s, d, path = ARGS._one
        print(json.dumps(one(int(s), int(d), ARGS.steps, path)))
    else:
        res = main(ARGS)
        print(json.dumps(res, indent=2) if ARGS.json else table(res))
