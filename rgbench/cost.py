"""What a case will cost before it runs: parameters, peak memory, FLOPs, stored bytes and time.

Computed from the resolved spec alone, in closed form (no JAX, no allocation), so a suite of
thousands of cases is costed in milliseconds and an absurd size is refused before anything is
built. Each architecture states its own network's size (`ArchitectureConfig.cost`): parameters,
forward FLOPs and activations per sequence; this module adds what training and measurement hold
and do around it, following `rgbench.train` and `rgbench.measure`:

* **memory** (the peak of one case in one process): the initial and trained networks of every seed
  (measurement reads both), each seed's gradients, optimizer moments and the chunk-start copy a
  diverging chunk is rolled back to; the activations of the seeds trained in lockstep
  (`seeds_per_vmap`) over one batch (the V + 1 symbol rows of a context-free network); the batches
  drawn at once; the evaluation set and its forward chunks; then, for measurement, the residual
  streams and logits of every seed over the probe batch, plus the runtime itself. It is an
  estimate of the order of magnitude, meant to refuse what cannot fit (terabytes), not to budget
  the last megabyte: `benchmarks/memory_estimate.py` compares it with the measured peak of one case
  of each kind of network (docs/guide.md "Writing a suite" quotes the ratios).
* **FLOPs**: training (≈ 3 × forward per step: forward and backward), the evaluation set, the
  forward over the probe batch per stage, and the rank spectra and CKA of every (stage, layer,
  position).
* **time**: `OVERHEAD_S` per case (compilation, building the input, writing) plus the FLOPs at
  `FLOPS_PER_SECOND` times the family's rates (`ArchitectureConfig.relative_rate` for training and
  the evaluation set, `measure_rate` for measurement), fit on the wall times the shipped suites
  recorded on the 2-core reference machine (`benchmarks/cost_rates.py`). It is a
  CPU figure; on an accelerator the estimate is pessimistic. The progress ETA starts from it and
  corrects the rate with what the run measures.

``rgbench show`` prints the estimate of every case; ``rgbench validate`` and ``rgbench run``
refuse a case whose memory estimate exceeds this machine's memory (or ``--max-memory``), and warn
about one above ``--max-hours`` (refuse it with ``--strict``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .models import NetworkCost

if TYPE_CHECKING:
    from .suite import Case, Located

__all__ = [
    "Estimate",
    "NetworkCost",
    "budget",
    "estimate",
    "estimates",
    "human_bytes",
    "machine_memory",
    "parse_bytes",
    "parse_hours",
]

FLOAT = 4  # bytes of a float32
#: The process itself: Python, JAX, xarray, zarr, XLA's compiled programs and buffers for a small case
#: (the peak of the smallest shipped cases, `benchmarks/memory_estimate.py`).
RUNTIME_BYTES = 2**30
#: Seconds every computed case costs whatever its size (compilation, building the input, writing).
OVERHEAD_S = 6.0
#: FLOPs a second the shipped suites sustained on the 2-core reference machine (`benchmarks/`,
#: docs/speed.md "At the suites' own configuration"): the time estimate's rate and the progress ETA's prior.
FLOPS_PER_SECOND = 4.0e10
_EVAL_CHUNK = 128  # sequences per evaluation forward chunk (rgbench.train._EVAL_CHUNK)
_DRAW_BYTES = 64 * 2**20  # batches drawn at once inside a training chunk (rgbench.train._DRAW_BYTES)
_FORWARD_BYTES = 64 * 2**20  # one measurement forward chunk's output (rgbench.train._FORWARD_BYTES)
_VMAP_WORK = 1_000_000  # rgbench.train._VMAP_WORK: seeds train in lockstep below this much work a step
_OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "sgd": 0}  # moments per parameter


@dataclass(frozen=True)
class Estimate:
    """The cost of one case (all its seeds). Sizes in bytes, work in FLOPs, time in seconds."""

    case_id: str
    params: int  # per seed
    seeds: int
    memory: dict[str, float] = field(default_factory=dict)  # part → bytes; the peak is their sum
    flops: dict[str, float] = field(default_factory=dict)  # part → FLOPs
    stored_bytes: float = 0.0
    rate: float = 1.0  # the family's training FLOP rate relative to FLOPS_PER_SECOND (`ArchitectureConfig.relative_rate`)
    measure_rate: float = 1.0  # and its measurement's (`ArchitectureConfig.measure_rate`)

    @property
    def peak_bytes(self) -> float:
        return sum(self.memory.values())

    @property
    def total_flops(self) -> float:
        return sum(self.flops.values())

    @property
    def seconds(self) -> float:
        training = self.flops.get("training", 0.0) + self.flops.get("evaluation", 0.0)
        measurement = self.total_flops - training
        return OVERHEAD_S + training / (FLOPS_PER_SECOND * self.rate) + measurement / (FLOPS_PER_SECOND * self.measure_rate)

    def summary(self) -> str:
        return (
            f"{human_count(self.params)} params/seed × {self.seeds} · peak ≈ {human_bytes(self.peak_bytes)} · "
            f"{human_flops(self.total_flops)} · ≈ {human_seconds(self.seconds)} · stores ≈ {human_bytes(self.stored_bytes)}"
        )

    def to_json(self) -> dict:
        return {
            "case": self.case_id,
            "params_per_seed": self.params,
            "seeds": self.seeds,
            "peak_bytes": self.peak_bytes,
            "memory_bytes": dict(self.memory),
            "flops": self.total_flops,
            "flops_by_part": dict(self.flops),
            "seconds": self.seconds,
            "stored_bytes": self.stored_bytes,
        }


def training_cost(architecture, data, train) -> tuple[int, float]:
    """(parameters, training FLOPs) of one seed of a network: the `architecture` config trained with
    the `train` config on the `data` config (its ``vocab`` and ``length``). The leaderboard's cost columns."""
    net = architecture.cost(data.vocab, data.length)
    table_positions = data.length if architecture.learned_positions else 1
    step_sequences = (data.vocab + 1) * table_positions / data.length if architecture.context_free else train.batch
    return net.params, 3.0 * train.steps * step_sequences * net.flops


def estimate(case: Case, *, reuses_training: bool = False) -> Estimate:
    """The cost of `case` from its resolved spec (see the module docstring for what is counted).

    `reuses_training`: the case before it in the run trains the same networks (only the probe or the
    predictions differ), so this one only measures (`rgbench.runner.run_case`)."""
    a, x, t, m = case.architecture, case.input, case.train, case.measure
    vocab, length, seeds = x.vocab, x.length, case.seeds
    net = a.cost(vocab, length)
    p = net.params
    context_free = a.context_free
    # sequences' worth of rows one training step evaluates (a context-free network: its symbol table)
    table_positions = length if a.learned_positions else 1
    step_sequences = (vocab + 1) * table_positions / length if context_free else t.batch
    rows = (vocab + 1) * table_positions if context_free else t.batch * length
    lockstep = min(seeds, max(1, _VMAP_WORK // max(1, rows * p)))
    slots = _OPTIMIZER_SLOTS.get(t.optimizer, 2)
    # the evaluation set runs in chunks, every seed at once (a context-free network: on its table)
    eval_sequences = step_sequences if context_free else min(t.eval_sequences, _EVAL_CHUNK)

    memory = {
        "networks (initial and trained, every seed)": 2.0 * seeds * p * FLOAT,
        "gradients, optimizer state and rollback copy": seeds * p * FLOAT * (1 + slots + 1 + slots),
        "training activations": 2.0 * lockstep * step_sequences * net.activations * FLOAT,
        "batches drawn at once": min(_DRAW_BYTES, 3.0 * t.steps * t.batch * length * FLOAT),
        # forward only: a block's activations are freed once the next block has run
        "evaluation set": 3.0 * t.eval_sequences * length * FLOAT
        + seeds * eval_sequences * 2 * net.activations / a.depth * FLOAT,
        "runtime": RUNTIME_BYTES,
    }
    probe = m.samples * length * 3 * FLOAT
    if context_free:  # symbol tables, and the theory statistics' cosines of every symbol pair (float64)
        measured = seeds * (vocab + 1) * table_positions * (a.depth + 1) * a.width * FLOAT + 2 * 8 * seeds * (
            (vocab + 1) ** 2 + (vocab + 1) * (a.depth + 1) * a.width
        )
    else:  # rgbench.train.forward: every seed's stream and logits over the probe batch; rgbench.measure then
        # holds a float64 centred copy of the streams (rank_measures) and a reshaped one (float32): 4x the streams
        measured = 4 * seeds * m.samples * net.stream * FLOAT + seeds * m.samples * length * vocab * FLOAT + 2 * _FORWARD_BYTES
    memory["probe batch and measured streams"] = probe + measured
    # training and measurement do not overlap: the larger of the two is held, plus what both keep
    train_parts = (
        "gradients, optimizer state and rollback copy",
        "training activations",
        "batches drawn at once",
        "evaluation set",
    )
    train_bytes = sum(memory[k] for k in train_parts)
    if memory["probe batch and measured streams"] > train_bytes:
        for k in train_parts:
            memory[k] = 0.0
    else:
        memory["probe batch and measured streams"] = 0.0
    memory = {k: v for k, v in memory.items() if v}

    stages = len(m.stages)
    rows_measured = (vocab + 1) * table_positions if context_free else m.samples
    layers = a.depth + 1
    forward = rows_measured * net.flops / length if context_free else m.samples * net.flops
    # rank spectra of every (layer, position): Gram matrices of the probe rows and of their subsets
    # (rgbench.measure.ROWS), then eigenvalues; CKA: one cross-Gram per pair of layers and position
    spectra = layers * length * (8.0 * rows_measured * a.width**2 + 40.0 * a.width**3)
    cka = 2.0 * rows_measured * a.width**2 * length * (layers * (layers + 1) / 2 if m.cka else a.depth)
    flops = {
        "training": 0.0 if reuses_training else seeds * training_cost(a, x, t)[1],
        "evaluation": 0.0 if reuses_training else seeds * t.eval_sequences * net.flops,
        "measurement": seeds * stages * (forward + spectra + cka),
    }
    n_rows = 4  # rgbench.measure.ROWS
    per_seed_stage = layers * length * (4 + 3 * n_rows) + layers * 5 + 2 * a.depth + (layers**2 if m.cka else 0)
    chunks = math.ceil(t.steps / t.log_every)
    stored = FLOAT * (seeds * stages * per_seed_stage + seeds * chunks + 3 * length + vocab) + 2 * 8 * length
    if context_free:  # rgbench._theory_measure.theory_variables: per-layer norms and the layer-0 cosine of each symbol pair
        pairs = vocab * (vocab + 1) // 2
        stored += 8 * (seeds * (pairs + 3 * layers) + 2 * pairs)
    return Estimate(case.id, p, seeds, memory, flops, float(stored), rate=a.relative_rate, measure_rate=a.measure_rate)


def estimates(cases: Sequence[Case]) -> list[Estimate]:
    """`estimate` of each case as a run executes them in this order: a case that trains what the case
    before it trained (`Case.training_key`: a probe-size sweep) only measures."""
    keys = [c.training_key for c in cases]
    return [estimate(c, reuses_training=i > 0 and keys[i] == keys[i - 1]) for i, c in enumerate(cases)]


# -- limits ---------------------------------------------------------------------------------------


def machine_memory() -> int | None:
    """This machine's physical memory in bytes (None where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1e3,
    "kb": 1e3,
    "m": 1e6,
    "mb": 1e6,
    "g": 1e9,
    "gb": 1e9,
    "t": 1e12,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_bytes(text: str) -> int:
    """``'8GB'``, ``'512MiB'``, ``'2e9'`` → bytes; ValueError naming what is allowed otherwise."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(f"expected a positive size such as 8GB, 512MiB or 2e9 (bytes); got {text!r}")
    return int(float(match.group(1)) * _UNITS[unit])


def parse_hours(text: str) -> float:
    """``'2'``, ``'0.5'`` → hours; ValueError unless a positive finite number."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0):
        raise ValueError(f"expected a positive number of hours such as 2 or 0.5; got {text!r}")
    return hours


def budget(
    cases: Sequence[Case],
    *,
    max_memory: float | None = None,
    max_hours: float | None = None,
    strict: bool = False,
    machine: bool = True,
) -> tuple[list[Located], list[Located]]:
    """(refusals, warnings), each located at the case's id in its suite file.

    A case whose memory estimate exceeds `max_memory` (bytes; by default this machine's memory, when
    `machine`: cases run here) is refused. One whose time estimate exceeds `max_hours` is warned
    about, and refused when `strict`."""
    from .suite import Located

    limit = max_memory if max_memory is not None else (machine_memory() if machine else None)
    named = "--max-memory" if max_memory is not None else "this machine's memory"
    refused: list[Located] = []
    warned: list[Located] = []
    for case in cases:
        e = estimate(case)
        file, line, key = case.source or ("suite", None, f"cases[{case.id}]")
        if limit is not None and e.peak_bytes > limit:
            part = max(e.memory, key=lambda k: e.memory[k])
            refused.append(
                Located(
                    file,
                    line,
                    key,
                    (
                        f"case {case.id!r} needs about {human_bytes(e.peak_bytes)} of memory, more than {named} "
                        f"({human_bytes(limit)}); the largest part is {part} ({human_bytes(e.memory[part])}): make the case "
                        "smaller (width, depth, seeds, batch, samples) or, if the estimate is wrong for your machine, raise "
                        "--max-memory"
                    ),
                )
            )
        if max_hours is not None and e.seconds > max_hours * 3600:
            message = (
                f"case {case.id!r} is estimated at {human_seconds(e.seconds)} ({human_flops(e.total_flops)} at "
                f"{FLOPS_PER_SECOND / 1e9:g} GFLOP/s), more than --max-hours {max_hours:g}"
            )
            if strict:
                refused.append(Located(file, line, key, message + " (refused: --strict)"))
            else:
                warned.append(Located(file, line, key, "warning: " + message))
    return refused, warned


# -- formatting -----------------------------------------------------------------------------------


def _scaled(value: float, units: list[tuple[float, str]], fmt: str = "{:.3g}") -> str:
    for scale, unit in units:
        if abs(value) >= scale:
            return fmt.format(value / scale) + unit
    return fmt.format(value / units[-1][0]) + units[-1][1]


def human_bytes(n: float) -> str:
    return _scaled(n, [(1e15, " PB"), (1e12, " TB"), (1e9, " GB"), (1e6, " MB"), (1e3, " kB"), (1, " B")])


def human_count(n: float) -> str:
    return _scaled(n, [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")])


def human_flops(n: float) -> str:
    return _scaled(n, [(1e18, " EFLOP"), (1e15, " PFLOP"), (1e12, " TFLOP"), (1e9, " GFLOP"), (1e6, " MFLOP"), (1, " FLOP")])


def human_seconds(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.3g} days"
