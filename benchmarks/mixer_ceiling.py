"""How fast can one mixer training step be? Its matrix products alone, in each library.

The mixer targets of ``benchmarks/throughput.py`` (≥ 1.3× PyTorch eager, ≥ 50 % of the float32
matmul peak) are judged here against what the step's own matrix products cost when nothing else
runs: every GEMM of the forward pass and both of its backward GEMMs (input and weight gradients),
at the exact shapes of the benchmark configuration (d = 64, depth 8, batch 128, T = 16, hidden
256, token hidden 64, V = 16), timed

* in PyTorch: ``torch.mm(a, b, out=c)`` on preallocated operands, one after another;
* in JAX: one jitted program that computes all of them (XLA may overlap independent ones);

beside the full training steps (rgbench's, PyTorch eager's and ``torch.compile``'s), in alternating
rounds, each figure in a fresh process. No real step can take less than its products: if JAX's products alone take longer than
PyTorch eager's whole step / 1.3 (or than ``torch.compile``'s whole step), no XLA:CPU program
reaches that target; if even PyTorch's
products take longer than FLOPs / (0.5 × peak), no program built on these libraries reaches the
second at these shapes (the peak is measured on large square products, which small, skinny ones
do not reach).

    python benchmarks/mixer_ceiling.py [--json] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _timing import best_ms, fresh_process  # noqa: E402 - benchmarks/ is on the path only from here

B, T, D, H, TH, V, DEPTH = 128, 16, 64, 256, 64, 16, 8


def gemm_shapes() -> list[tuple[int, int, int]]:
    """(M, K, N) of every product of one step: forward M×K @ K×N, then dX (M×N @ N×K) and dW (K×M @ M×N)."""
    forward = []
    for _ in range(DEPTH):
        forward += [
            (B * D, T, TH),
            (B * D, TH, T),  # token MLP on (batch·width) rows
            (B * T, D, H),
            (B * T, H, D),
        ]  # channel MLP on (batch·position) rows
    forward.append((B * T, D, V))  # readout
    out = []
    for m, k, n in forward:
        out += [(m, k, n), (m, n, k), (k, m, n)]
    return out


def flops() -> float:
    return float(sum(2 * m * k * n for m, k, n in gemm_shapes()))


def torch_gemms_ms(threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    ops = [(torch.randn(m, k, generator=g), torch.randn(k, n, generator=g), torch.empty(m, n)) for m, k, n in gemm_shapes()]

    def run():
        for a, b, c in ops:
            torch.mm(a, b, out=c)

    return best_ms(run, 20)


def jax_gemms_ms() -> float:
    import jax

    keys = jax.random.split(jax.random.key(0), 2 * len(gemm_shapes()))
    ops = [
        (jax.random.normal(keys[2 * i], (m, k)), jax.random.normal(keys[2 * i + 1], (k, n)))
        for i, (m, k, n) in enumerate(gemm_shapes())
    ]
    run = jax.jit(lambda ops: [a @ b for a, b in ops])
    return best_ms(lambda: jax.block_until_ready(run(ops)), 20)


def per_shape_ms(library: str, threads: int) -> dict:
    """Each distinct product of the step alone, in one library (one process per library: two thread
    pools in one process disturb each other): where XLA's kernels lose."""
    out = {}
    for m, k, n in sorted(set(gemm_shapes())):
        if library == "jax":
            import jax

            a, b = jax.random.normal(jax.random.key(0), (m, k)), jax.random.normal(jax.random.key(1), (k, n))
            product = jax.jit(lambda a, b: a @ b)
            out[f"{m}x{k} @ {k}x{n}"] = best_ms(lambda: product(a, b).block_until_ready(), 50)
        else:
            import torch

            torch.set_num_threads(threads)
            ta, tb, tc = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
            out[f"{m}x{k} @ {k}x{n}"] = best_ms(lambda: torch.mm(ta, tb, out=tc), 50)
    return out


def torch_step_ms(threads: int) -> float:
    import throughput

    c = next(c for c in throughput.configs(False) if c["name"] == "mixer")
    step = throughput.torch_step(c, "plain", threads)
    return 1e3 / throughput.torch_rate(step, 60)


def torch_compiled_step_ms(threads: int) -> float:
    import throughput

    c = next(c for c in throughput.configs(False) if c["name"] == "mixer")
    step = throughput.torch_step(c, "plain_compiled", threads)
    step()  # compiles
    return 1e3 / throughput.torch_rate(step, 60)


def rgbench_step_ms() -> float:
    import throughput

    c = next(c for c in throughput.configs(False) if c["name"] == "mixer")
    return 1e3 / throughput.rgbench_rate(c, [0], steps=110)["steps_per_second"]


def _child(what: str) -> Any:
    return fresh_process(__file__, "--_child", what)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    if args._child:
        fn = {
            "torch_gemms": lambda: torch_gemms_ms(threads),
            "jax_gemms": jax_gemms_ms,
            "torch_step": lambda: torch_step_ms(threads),
            "rgbench_step": rgbench_step_ms,
            "torch_compiled_step": lambda: torch_compiled_step_ms(threads),
            "shapes_jax": lambda: per_shape_ms("jax", threads),
            "shapes_torch": lambda: per_shape_ms("torch", threads),
        }[args._child]
        print(json.dumps(fn()))
        return
    import throughput

    names = ("rgbench_step", "torch_step", "torch_compiled_step", "jax_gemms", "torch_gemms")
    rounds = {k: [] for k in names}
    for _ in range(args.rounds):  # alternating: every figure of a round sees the same machine
        for k in names:
            rounds[k].append(_child(k))
    best = {k: min(v) for k, v in rounds.items()}
    by_library = {lib: _child(f"shapes_{lib}") for lib in ("jax", "torch")}
    counts = {f"{m}x{k} @ {k}x{n}": gemm_shapes().count((m, k, n)) for m, k, n in set(gemm_shapes())}
    shapes = {
        shape: {"count": counts[shape], "jax_ms": by_library["jax"][shape], "torch_ms": by_library["torch"][shape]}
        for shape in by_library["jax"]
    }
    peak = max(throughput.torch_peak(threads), 1e-9)
    work = flops()
    out = {
        "threads": threads,
        "rounds_ms": rounds,
        "best_ms": best,
        "gemm_count": len(gemm_shapes()),
        "gemm_gflop_per_step": work / 1e9,
        "peak_gflops": peak,
        "per_shape": shapes,
        # what each target asks of a step, and the floors the products alone set
        "target_ms": {
            "1.3x_torch_eager": best["torch_step"] / 1.3,
            "1.0x_torch_compile": best["torch_compiled_step"],
            "50pct_of_peak": work / (0.5 * peak * 1e9) * 1e3,
        },
        "gemm_fraction_of_peak": {
            "jax": work / (best["jax_gemms"] / 1e3) / (peak * 1e9),
            "torch": work / (best["torch_gemms"] / 1e3) / (peak * 1e9),
        },
    }
    out["reachable"] = {
        "1.3x_torch_eager": best["jax_gemms"] <= out["target_ms"]["1.3x_torch_eager"],
        "1.0x_torch_compile": best["jax_gemms"] <= out["target_ms"]["1.0x_torch_compile"],
        "50pct_of_peak_jax": best["jax_gemms"] <= out["target_ms"]["50pct_of_peak"],
        "50pct_of_peak_any": min(best["jax_gemms"], best["torch_gemms"]) <= out["target_ms"]["50pct_of_peak"],
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for k in names:
        print(f"{k:19s} " + "  ".join(f"{v:7.2f}" for v in rounds[k]) + f"   best {best[k]:7.2f} ms")
    for shape, r in shapes.items():
        print(
            f"  {shape:22s} x{r['count']:2d}: jax {r['jax_ms']:6.3f} ms, torch {r['torch_ms']:6.3f} ms "
            f"(jax / torch {r['jax_ms'] / r['torch_ms']:.2f})"
        )
    print(f"products: {out['gemm_count']} GEMMs, {work / 1e9:.2f} GFLOP a step; peak {peak:.0f} GFLOP/s")
    for k, v in out["target_ms"].items():
        print(f"target {k}: a step of at most {v:.2f} ms")
    print(
        f"products alone at {out['gemm_fraction_of_peak']['jax']:.0%} (JAX) and "
        f"{out['gemm_fraction_of_peak']['torch']:.0%} (PyTorch) of the peak; reachable: {out['reachable']}"
    )


if __name__ == "__main__":
    main()
