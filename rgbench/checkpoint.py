"""Checkpoints inside a case: the training state of a case saved every so many steps, so that a run
killed at any moment (SIGKILL, the end of a working session) continues from its last checkpoint in a
later process and ends exactly where an uninterrupted run would have.

Layout, beside the case groups of a store (a dot-name: no reader takes it for a case)::

    <store>/.checkpoints/<case group>/step-0000002000/
        meta.json     what the state belongs to: spec hash, step, total steps, seeds, devices, time
        state.eqx     the training state's leaves (`equinox.tree_serialise_leaves`): parameters,
                      optimizer state, which seeds are alive, the losses logged so far

A checkpoint appears whole or not at all: it is written into ``.step-….tmp-<pid>`` and renamed into
place, and only then are older ones deleted. One is used only by a run of the same case (spec hash),
seed list and device count — the float rounding depends on the device count, so a state saved under
another count would end elsewhere than an uninterrupted run — and otherwise ignored and replaced.
The runner removes a case's checkpoints once the case is stored (``rgbench run --keep-checkpoints``
keeps them); they are never part of the results (git ignores ``.checkpoints/`` by name), and
``rgbench verify`` lists those present.

What a checkpoint holds suffices for bitwise identity: every training batch is drawn from the seed's
key folded with the step number, so the data and RNG positions are the step itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Checkpoints", "CheckpointInfo", "CHECKPOINT_DIR", "checkpoint_interval", "stored_checkpoints"]

CHECKPOINT_DIR = ".checkpoints"
_STEP = re.compile(r"^step-(?P<step>\d{10})$")
#: Wall time between checkpoints that ``train.checkpoint_every: null`` aims at (by the cost estimate).
DEFAULT_INTERVAL_S = 600.0


def checkpoint_interval(every: int | None, steps: int, log_every: int, seconds_per_step: float) -> int:
    """Steps between checkpoints: a multiple of `log_every` (a checkpoint sits at a chunk's end), 0 for none.

    ``every`` None aims at `DEFAULT_INTERVAL_S` of estimated training time (`seconds_per_step`, from
    `rgbench.cost`); 0 means never; a number of steps is rounded up to a whole number of chunks. A
    case shorter than one interval gets none (nothing would be saved before it ends)."""
    if every == 0 or steps <= log_every:
        return 0
    if every is None:
        every = int(DEFAULT_INTERVAL_S / max(seconds_per_step, 1e-9))
    every = max(log_every, -(-every // log_every) * log_every)
    return every if every < steps else 0


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint on disk, as `rgbench verify` reports it."""

    case_group: str
    step: int
    steps: int
    spec_hash: str
    written: str

    def describe(self) -> str:
        return f"checkpoint at step {self.step} of {self.steps} (written {self.written}); `rgbench run` resumes there"


class Checkpoints:
    """The checkpoints of one case of a local store (see the module docstring).

    ``identity`` is what a state must match to be reused: ``{"spec_hash", "seeds"}``, and ``"devices"``
    once training binds the device count it runs on (`for_devices`)."""

    def __init__(self, store_path: str | os.PathLike, case_group: str, identity: dict[str, Any], every: int):
        self.dir = Path(str(store_path).removeprefix("file://")) / CHECKPOINT_DIR / case_group
        self.identity = dict(identity)
        self.every = int(every)

    def for_devices(self, n: int) -> Checkpoints:
        """The same checkpoints, usable only by a run on `n` devices (`rgbench.train` binds its own)."""
        return Checkpoints(self.dir.parent.parent, self.dir.name, {**self.identity, "devices": int(n)}, self.every)

    def _complete(self) -> list[tuple[int, Path]]:
        if not self.dir.is_dir():
            return []
        found = [(int(m["step"]), p) for p in self.dir.iterdir() if (m := _STEP.match(p.name)) and (p / "meta.json").is_file()]
        return sorted(found)

    def latest(self) -> tuple[int, Path, dict[str, Any]] | None:
        """(step, directory, meta) of the newest usable checkpoint, or None. Unreadable or foreign
        ones (another spec, seed list or device count) are skipped."""
        for step, path in reversed(self._complete()):
            try:
                meta = json.loads((path / "meta.json").read_text())
            except (OSError, ValueError):
                continue
            if all(meta.get(k) == v for k, v in self.identity.items()) and (path / "state.eqx").is_file():
                return step, path, meta
        return None

    def load(self, like: Any) -> tuple[int, Any] | None:
        """(step, state) from the newest usable checkpoint, the state shaped like `like`; None if there is none."""
        import equinox as eqx

        found = self.latest()
        if found is None:
            return None
        step, path, _ = found
        return step, eqx.tree_deserialise_leaves(path / "state.eqx", like)

    def save(self, step: int, steps: int, state: Any) -> Path:
        """Write the state at `step` atomically, then delete older checkpoints of the case."""
        import equinox as eqx

        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"step-{step:010d}"
        tmp = self.dir / f".{final.name}.tmp-{socket.gethostname()}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            eqx.tree_serialise_leaves(tmp / "state.eqx", state)
            meta = {
                **self.identity,
                "step": int(step),
                "steps": int(steps),
                "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (tmp / "meta.json").write_text(json.dumps(meta, sort_keys=True))
            for name in ("state.eqx", "meta.json"):
                with open(tmp / name, "rb") as f:
                    os.fsync(f.fileno())
            shutil.rmtree(final, ignore_errors=True)  # the same step saved by an earlier, killed process
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for old_step, path in self._complete():
            if old_step < step:
                shutil.rmtree(path, ignore_errors=True)
        return final

    def clear(self) -> None:
        """Remove every checkpoint of the case (and the store's checkpoint folder once empty)."""
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            self.dir.parent.rmdir()
        except OSError:
            pass  # another case's checkpoints are still there, or it is gone already


def stored_checkpoints(store_path: str | os.PathLike) -> list[CheckpointInfo]:
    """Every complete checkpoint in a local store, newest per case (for `rgbench verify`)."""
    root = Path(str(store_path).removeprefix("file://")) / CHECKPOINT_DIR
    out = []
    if not root.is_dir():
        return out
    for case_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        steps = sorted((int(m["step"]), p) for p in case_dir.iterdir() if (m := _STEP.match(p.name)))
        if not steps:
            continue
        try:
            meta = json.loads((steps[-1][1] / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        out.append(
            CheckpointInfo(
                case_dir.name, steps[-1][0], int(meta.get("steps", 0)), str(meta.get("spec_hash")), str(meta.get("written"))
            )
        )
    return out
