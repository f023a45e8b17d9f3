"""Progress of a run: a live display on a terminal, one plain line per event otherwise, and the time
left estimated from the cost model (`rgbench.cost`) at the rate this machine has shown so far."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .cost import FLOPS_PER_SECOND, OVERHEAD_S, estimate
from .suite import Case

__all__ = ["Outcome", "Reporter"]


@dataclass(frozen=True)
class Outcome:
    case_id: str
    status: str  # complete | diverged | failed: ... | skipped | busy (claimed by another runner)
    wall_seconds: float = 0.0
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status.startswith("failed")


class Reporter:
    """Live display when attached to a terminal, plain lines otherwise, nothing when quiet."""

    def __init__(self, cases: Sequence[Case], quiet: bool, stream=None, training_keys: Sequence[str] | None = None):
        """`training_keys`: per case, what it trains (`rgbench.runner`); a case with its predecessor's key
        reuses that training and costs only its measurement."""
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.total = len(cases)
        self.done = 0
        self.t0 = time.perf_counter()
        keys = list(training_keys) if training_keys is not None else [c.id for c in cases]
        self._cost = {
            c.id: estimate(c, reuses_training=i > 0 and keys[i] == keys[i - 1]).total_flops for i, c in enumerate(cases)
        }  # FLOPs (rgbench.cost)
        self._left = sum(self._cost.values())  # cost of the cases not finished yet
        self._n_left = len(cases)
        self._spent = 0.0  # cost, seconds and number of the cases computed so far (skipped ones cost nothing)
        self._seconds = 0.0
        self._computed = 0
        self.live = not quiet and self.stream.isatty()
        self._progress = None
        self._task = None
        self._last_line = 0.0
        self._clock: dict[str, tuple[float, int]] = {}  # per case: when training passed which step
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[detail]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("cases", total=self.total, detail="")

    def start_case(self, case_id: str) -> None:
        if self.quiet:
            return
        if self.live:
            self._progress.update(self._task, detail=f"{case_id}: compiling")
        else:
            print(f"[{self.done}/{self.total}] {case_id}: running", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            (self._progress.console.print if self.live else lambda t: print(t, file=self.stream, flush=True))(text)

    def step(self, case_id: str, step: int, total: int, loss) -> None:
        """A chunk of training done (its loss per seed), or, with `loss` None, training resumed at `step`."""
        if self.quiet:
            return
        if loss is None:
            self._clock.pop(case_id, None)  # the rate restarts after the resumed run's first chunk
            self.note(f"  {case_id}: resumed from its checkpoint at step {step}/{total}")
            return
        now = time.perf_counter()
        start = self._clock.get(case_id)
        if start is None or step <= start[1]:
            self._clock[case_id] = (now, step)  # after the first chunk, which holds the compilation
        import numpy as np

        loss = np.asarray(loss, dtype=float)
        finite = loss[np.isfinite(loss)]
        mean = f"{finite.mean():.4f}" if finite.size else "nan"
        text = f"{case_id}: step {step}/{total} loss {mean}"
        if start is not None and step > start[1] and now > start[0]:
            per_min = (step - start[1]) / (now - start[0]) * 60  # measurements at stages included
            text += f" · {per_min:.0f} steps/min, ≈ {(total - step) / per_min:.0f} min of training left"
        if self.live:
            self._progress.update(self._task, detail=text)
        elif time.perf_counter() - self._last_line > 10:
            self._last_line = time.perf_counter()
            print(f"  {text}", file=self.stream, flush=True)

    # Seconds every computed case costs whatever its size, and the prior of the rate (seconds per FLOP):
    # the time estimate of `rgbench.cost`, at the rate the shipped suites ran at on the reference
    # machine. The prior is worth as much work as one overhead's worth of compute, so a first case that
    # is mostly compilation (the smoke suite's) cannot set the rate alone, and a few real cases replace
    # it with what this machine does.
    OVERHEAD_S = OVERHEAD_S
    PRIOR_S_PER_COST = 1.0 / FLOPS_PER_SECOND
    PRIOR_COST = OVERHEAD_S / PRIOR_S_PER_COST

    def rate(self) -> float:
        """Seconds per unit of cost: the time computed cases took beyond their overhead over their cost,
        shrunk towards `PRIOR_S_PER_COST` by `PRIOR_COST` pseudo-units."""
        excess = max(0.0, self._seconds - self._computed * self.OVERHEAD_S)
        return (excess + self.PRIOR_S_PER_COST * self.PRIOR_COST) / (self._spent + self.PRIOR_COST)

    def eta(self) -> float | None:
        """Seconds left: each case left costs OVERHEAD_S plus its estimated FLOPs at `rate()`; None before a case ran."""
        if self._computed == 0:
            return None
        return self._n_left * self.OVERHEAD_S + self.rate() * self._left

    def finish_case(self, out: Outcome) -> None:
        self.done += 1
        cost = self._cost.get(out.case_id, 0.0)
        self._left = max(0.0, self._left - cost)
        self._n_left -= 1
        if out.status not in ("skipped", "busy") and out.wall_seconds > 0:
            self._spent += cost
            self._seconds += out.wall_seconds
            self._computed += 1
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.t0
        eta = self.eta()
        line = f"[{self.done}/{self.total}] {out.case_id}: {out.status}"
        if out.wall_seconds:
            line += f" in {out.wall_seconds:.1f}s"
        if out.message:
            line += f" ({out.message})"
        if self.live:
            self._progress.console.print(line)
            self._progress.update(self._task, advance=1, detail="")
        else:
            left = "" if self.done == self.total else (", ETA —" if eta is None else f", ETA {eta:.0f}s")
            print(f"{line} — elapsed {elapsed:.0f}s{left}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
