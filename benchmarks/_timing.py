"""The benchmarks' shared timer (no imports beyond the standard library: a PyTorch-only child
process must not start JAX's thread pool by importing it)."""

from __future__ import annotations

import time
from collections.abc import Callable


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
