"""Zarr layout, provenance and atomic completion.

Layout of a store ``results/<suite>.zarr``::

    zarr.json                  root group; attrs: suite, title, suite_json (the resolved suite),
                               data_format_version, rgbench_version
    <case-id>/                 one group per case, written by xarray (`Dataset.to_zarr`)
      zarr.json                group attrs: provenance + the completion marker `rgbench_complete`
      effective_rank/ ...      one array per variable
    .locks/<case-id>           a claim held while some process computes that case

A case group counts only once its completion marker — the attribute ``rgbench_complete`` equal to
the case's spec hash — has been written; that is the last write of a case. A group without it (a
killed run) or with another hash (the case's spec changed) is invisible to readers and recomputed;
a recomputation first deletes the old group (``mode="w"``), so old and new data are never mixed.

Plain ``xr.open_zarr(path, group=case_id)`` reads a case without rgbench: a run writes the store's
consolidated metadata when it ends (`Store.consolidate`), so it opens without warnings; while a
run is writing, pass ``consolidated=False``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr
import zarr

from ._version import DATA_FORMAT_VERSION, __version__

__all__ = ["Store", "CaseRecord", "open_results", "group_name", "COMPLETE_KEY"]

COMPLETE_KEY = "rgbench_complete"
FINAL_STATUSES = ("complete", "diverged")  # a rerun keeps these; `failed: ...` is retried


def group_name(case_id: str) -> str:
    """The group a case is stored under (case ids never contain '/'; this is a guard)."""
    return case_id.replace("/", "÷")


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


@dataclass(frozen=True)
class CaseRecord:
    """What the store knows about one case group."""

    case_id: str
    spec_hash: str | None  # the completion marker; None if the group is incomplete
    status: str | None

    @property
    def complete(self) -> bool:
        return self.spec_hash is not None


class Store:
    """A suite's results: one Zarr group per case."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)

    # -- root ------------------------------------------------------------------------------------
    def _root(self, mode: str = "a") -> zarr.Group:
        # Never through consolidated metadata: it may be stale while a run writes (`consolidate`), and
        # a root rewritten from here drops it, so a run in progress is never read from a stale copy.
        return zarr.open_group(self.path, mode=mode, zarr_format=3, use_consolidated=False)

    def consolidate(self) -> None:
        """Write the store's consolidated metadata (once a run is over), so a plain ``xr.open_zarr(path,
        group=…)`` opens a case without warnings and in one read. The next run's `init` drops it again."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr notes that consolidation is not in the v3 spec, and the lock folder
            zarr.consolidate_metadata(self.path, zarr_format=3)

    def init(self, suite_name: str, title: str, suite_json: str) -> None:
        """Create the store (or update its root provenance) for a suite."""
        root = self._root("a")
        existing = root.attrs.get("data_format_version")
        if existing is not None and existing != DATA_FORMAT_VERSION:
            raise ValueError(
                f"store {self.path} holds data-format version {existing}, this rgbench writes "
                f"{DATA_FORMAT_VERSION}; use a new --store path or delete the old store"
            )
        name = root.attrs.get("suite")
        if name is not None and name != suite_name:
            raise ValueError(f"store {self.path} belongs to suite {name!r}, not {suite_name!r}; use another --store")
        root.attrs.update(
            {"suite": suite_name, "title": title, "suite_json": suite_json,
             "data_format_version": DATA_FORMAT_VERSION, "rgbench_version": __version__}
        )

    def attrs(self) -> dict[str, Any]:
        try:
            return dict(self._root("r").attrs)
        except Exception:  # noqa: BLE001 - no store yet
            return {}

    def exists(self) -> bool:
        try:
            self._root("r")
            return True
        except Exception:  # noqa: BLE001 - any failure to open means "no store here"
            return False

    # -- cases -----------------------------------------------------------------------------------
    def record(self, case_id: str) -> CaseRecord:
        try:
            group = zarr.open_group(self.path, path=group_name(case_id), mode="r")
            attrs = dict(group.attrs)
        except Exception:  # noqa: BLE001 - missing or corrupted group: treated as absent
            return CaseRecord(case_id, None, None)
        return CaseRecord(case_id, attrs.get(COMPLETE_KEY), attrs.get("status"))

    def _group_names(self) -> list[str]:
        if _is_local(self.path):
            # list directories ourselves: one corrupted child must not hide its siblings
            root = Path(self.path.removeprefix("file://"))
            if not root.is_dir():
                return []
            return sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".") and (d / "zarr.json").is_file())
        try:
            return sorted(self._root("r").group_keys())
        except Exception:  # noqa: BLE001 - no store yet
            return []

    def records(self) -> list[CaseRecord]:
        return [self.record(n) for n in self._group_names()]

    def is_done(self, case_id: str, spec_hash: str) -> bool:
        rec = self.record(case_id)
        return rec.spec_hash == spec_hash and (rec.status or "") in FINAL_STATUSES

    def write_case(self, ds: xr.Dataset, case_id: str, spec_hash: str) -> None:
        """Write a case's dataset, replacing any earlier group, then mark it complete (last write)."""
        name = group_name(case_id)
        ds = ds.copy()
        ds.attrs.pop(COMPLETE_KEY, None)
        ds.to_zarr(self.path, group=name, mode="w", consolidated=False, zarr_format=3)
        group = zarr.open_group(self.path, path=name, mode="r+")
        group.attrs[COMPLETE_KEY] = spec_hash

    def open_case(self, case_id: str) -> xr.Dataset:
        return xr.open_zarr(self.path, group=group_name(case_id), consolidated=False)

    def open_results(self, *, load: bool = True) -> dict[str, xr.Dataset]:
        """Every complete case (including diverged and failed ones, by their status)."""
        out: dict[str, xr.Dataset] = {}
        for rec in self.records():
            if not rec.complete:
                continue
            try:
                ds = self.open_case(rec.case_id)
                out[str(ds.attrs.get("case_id", rec.case_id))] = ds.load() if load else ds
            except Exception:  # noqa: BLE001 - a corrupted group is as good as absent
                continue
        return out

    # -- claims, so concurrent runners on one local store never compute a case twice -------------
    def _lock_path(self, case_id: str) -> Path:
        return Path(self.path) / ".locks" / group_name(case_id)

    def claim(self, case_id: str) -> bool:
        """Try to take the claim on a case. Always True for remote stores (dask workers each own
        their cases by construction)."""
        if not _is_local(self.path):
            return True
        lock = self._lock_path(case_id)
        lock.parent.mkdir(parents=True, exist_ok=True)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale(lock):
                    lock.unlink(missing_ok=True)
                    continue
                return False
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return True
        return False

    def release(self, case_id: str) -> None:
        if _is_local(self.path):
            self._lock_path(case_id).unlink(missing_ok=True)

    @staticmethod
    def _stale(lock: Path) -> bool:
        try:
            info = json.loads(lock.read_text())
        except (OSError, ValueError):
            return True  # unreadable: written by a process killed mid-claim
        if info.get("host") != socket.gethostname():
            return False
        try:
            os.kill(int(info["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, KeyError, ValueError):
            return False
        return False


def open_results(path: str | os.PathLike, *, load: bool = True) -> dict[str, xr.Dataset]:
    """The complete cases of a store as ``{case_id: xarray.Dataset}``.

    Incomplete (interrupted) groups are left out. Cases whose status is ``diverged`` or
    ``failed: ...`` are included so that a scorer can report them as ERROR.
    """
    return Store(path).open_results(load=load)
