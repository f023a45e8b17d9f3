"""The benchmarks' shared timer and fresh-process runner (no imports beyond the standard library: a
PyTorch-only child process must not start JAX's thread pool by importing it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def best_ms(f: Callable[[], object], n: int = 30, blocks: int = 5) -> float:
    """Milliseconds per call of `f`: two warm-up calls, then the fastest of `blocks` blocks of `n` calls."""
    f()
    f()
    best = float("inf")
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e3


def fresh_process(script: str, *argv: str, env: dict[str, str] | None = None) -> Any:
    """Run `script` with `argv` in a new Python process and return the JSON of its last output line.

    A figure measured in its own process has its own thread pools, XLA flags and CPU device count,
    and nothing a previous figure compiled or allocated. `env` is added to this process's environment.
    """
    out = subprocess.run(
        [sys.executable, script, *argv],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else {**os.environ, **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_rate(step: Callable[[], Any], steps: int) -> float:
    """Steps per second of a PyTorch training step: the fastest of ~10 blocks of steps, after 3 warm-up
    steps (a compiled variant compiles on its first call, before this is called). Standard library
    only, so a PyTorch child process imports no JAX to time it."""
    for _ in range(3):
        step()
    block = max(1, steps // 10)
    times = []
    for _ in range(max(1, steps // block)):
        t0 = time.perf_counter()
        for _ in range(block):
            loss = step()
        loss.item()
        times.append(time.perf_counter() - t0)
    return block / min(times)
