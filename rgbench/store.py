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
killed run) or with another hash (the case's spec changed) is invisible to readers and recomputed.

**Replacing a case is atomic.** A case is written beside its old group, as ``.<case-id>.new-<pid>``,
completed there (data, then digests and marker), and swapped in by two renames (old group aside to
``.<case-id>.old-<pid>``, new group in place); the old one is deleted last. An interruption at any
moment leaves the old complete case or the new one: the next run that claims the case finishes or
undoes a half-done swap (`Store.recover`), and readers never see a mixture.

**Integrity.** The completion record holds a SHA-256 digest of every variable and coordinate
(dims, dtype, shape, attributes, values) and of the case's attributes (``rgbench_digests``), taken
from the data as read back after writing. `Store.check_case` recomputes them: a case whose data,
coordinates or provenance changed after completion, or that no longer decodes, is *corrupted* —
``run`` recomputes it, ``score`` gives ERROR with the reason, ``rgbench verify`` lists it. Cases
written before digests existed are reported as unverified and used as they are; `Store.seal`
(``rgbench verify --seal``) writes their digests now, with a record of when (``rgbench_sealed``),
so that from then on they are checked like any case — a protection from the sealing on, not before.

**Never destroy what rgbench did not write.** A local store path must be absent, an empty
directory, or a directory whose root ``zarr.json`` carries rgbench's root attributes (``suite`` and
``data_format_version``); anything else — a file, a foreign directory, a read-only location — is
refused before compute (`Store.check_target`), and so is an entry at a case's path that is not a
zarr group.

Plain ``xr.open_zarr(path, group=case_id)`` reads a case without rgbench: a run writes the store's
consolidated metadata when it ends (`Store.consolidate`), so it opens without warnings; while a
run is writing, pass ``consolidated=False``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr
import zarr

from ._version import DATA_FORMAT_VERSION, __version__

__all__ = [
    "Store",
    "StoreError",
    "CaseRecord",
    "CaseCheck",
    "open_results",
    "group_name",
    "is_local",
    "dataset_digests",
    "COMPLETE_KEY",
    "DIGEST_KEY",
]

COMPLETE_KEY = "rgbench_complete"
MANIFEST_KEY = "rgbench_manifest"  # root attribute: the cases a store should hold (`Store.expected`)
DIGEST_KEY = "rgbench_digests"
SEALED_KEY = "rgbench_sealed"  # digests written after the case was computed (`Store.seal`): when, by what
_RECORD_KEYS = (COMPLETE_KEY, DIGEST_KEY)  # the completion record: not part of what the digests cover
_ZARR_PARTIAL = re.compile(r"zarr\.[0-9a-f]{32}\.partial")  # zarr's LocalStore writes zarr.json through one
_SWAP = re.compile(r"^\.(?P<name>.+)\.(?P<kind>new|old)-(?P<pid>\d+)$")
FINAL_STATUSES = ("complete", "diverged")  # a rerun keeps these; `failed: ...` is retried


def group_name(case_id: str) -> str:
    """The group a case is stored under (case ids never contain '/'; this is a guard)."""
    return case_id.replace("/", "÷")


def is_local(path: str) -> bool:
    """A store path on this machine's file system (a plain path or ``file://``), not a remote URL."""
    return "://" not in path or path.startswith("file://")


class StoreIOError(Exception):
    """Writing the store failed at the operating-system level (a full disk, no permission, a read-only
    file system, the store's directory gone): what was being done, for which case, and the OS error."""

    def __init__(self, what: str, case_id: str | None, error: OSError):
        self.what, self.case_id, self.error = what, case_id, error
        where = f" for case {case_id!r}" if case_id else ""
        super().__init__(f"{what}{where} failed: {error.strerror or error} ({error.filename or 'the store'})")


class StoreError(ValueError):
    """A store path rgbench will not write to, or a store it cannot read (one clear line)."""


def _canonical(a: Any) -> bytes:
    import numpy as np

    a = np.asarray(a)
    if a.dtype.kind in "OUS":  # text: its characters, not object pointers or padding
        return json.dumps([str(v) for v in a.reshape(-1)], ensure_ascii=False).encode()
    return np.ascontiguousarray(a).tobytes()


def _json(x: Any) -> bytes:
    return json.dumps(x, sort_keys=True, default=str, ensure_ascii=False).encode()


def dataset_digests(ds: xr.Dataset) -> dict[str, Any]:
    """SHA-256 of every variable and coordinate (dims, dtype, shape, attrs, values) and of the
    dataset's attributes (the completion record excluded): what `Store.check_case` compares."""
    out: dict[str, str] = {}
    for name, var in {**ds.coords, **ds.data_vars}.items():
        h = hashlib.sha256(_json([str(name), list(var.dims), str(var.dtype), list(var.shape), dict(var.attrs)]))
        h.update(_canonical(var.values))
        out[str(name)] = h.hexdigest()
    attrs = {k: v for k, v in ds.attrs.items() if k not in _RECORD_KEYS}
    return {"variables": out, "attrs": hashlib.sha256(_json(attrs)).hexdigest()}


def _node_meta(path: Path) -> dict[str, Any] | None:
    """The zarr.json of the node at `path` (a local directory), or None if absent or unreadable."""
    try:
        meta = json.loads((path / "zarr.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


@dataclass(frozen=True)
class CaseCheck:
    """The state of one case group: complete (digests match), unverified (complete, written before
    digests), corrupted, incomplete (no completion marker) or missing; `reason` says why."""

    case_id: str
    state: str
    reason: str = ""
    status: str | None = None
    spec_hash: str | None = None

    @property
    def usable(self) -> bool:
        return self.state in ("complete", "unverified")


def _differences(stored: dict[str, Any], now: dict[str, Any]) -> str:
    want, got = stored.get("variables", {}), now["variables"]
    parts = [f"{k} missing" for k in sorted(set(want) - set(got))]
    parts += [f"{k} changed" for k in sorted(set(want) & set(got)) if want[k] != got[k]]
    parts += [f"{k} added" for k in sorted(set(got) - set(want))]
    if stored.get("attrs") != now["attrs"]:
        parts.append("attributes (provenance) changed")
    return ", ".join(parts)


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

    def check_target(self, case_ids: list[str] | tuple[str, ...] = ()) -> None:
        """Refuse (StoreError) a local path rgbench must not write to, before any compute: a file, a
        directory that is neither empty nor an rgbench store, a read-only location, a ``.locks`` that
        is not a directory, or an entry at one of `case_ids`' group paths that is not a zarr group."""
        if not is_local(self.path):
            return
        root = Path(self.path.removeprefix("file://"))
        where = f"--store {self.path}"
        if root.exists() or root.is_symlink():
            if not root.is_dir():
                raise StoreError(f"{where} is not a directory; give a new path (rgbench creates it) or an rgbench store")
            entries = self._foreign_entries(root)
            if entries:
                shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
                raise StoreError(
                    f"{where} is a directory rgbench did not write (it holds {shown}); rgbench never "
                    f"writes into or deletes from it: give a new path or an empty directory"
                )
            locks = root / ".locks"
            if locks.exists() and not locks.is_dir():
                raise StoreError(f"{where}: {locks} is not a directory (rgbench keeps its case claims there); move it away")
            for case_id in case_ids:
                entry = root / group_name(case_id)
                if (entry.exists() or entry.is_symlink()) and not (entry.is_dir() and (entry / "zarr.json").is_file()):
                    raise StoreError(
                        f"{where}: {entry} is not a case group rgbench wrote; move it away (rgbench would "
                        f"replace it with case {case_id!r})"
                    )
            probe = root
        else:
            probe = next((p for p in root.parents if p.exists()), Path("."))
            if not probe.is_dir():
                raise StoreError(f"{where}: {probe} is not a directory")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise StoreError(f"{where}: {probe} is not writable; give a store path you can write to")

    @classmethod
    def _foreign_entries(cls, root: Path, settle_s: float = 2.0) -> list[str]:
        """The entries of a directory that is not (or not becoming) an rgbench store; [] for one that is.

        Another runner may be creating the store this instant, and a directory listing and the read of
        zarr.json that follows are not one snapshot: a store is called foreign only once it has looked
        foreign for `settle_s` seconds (creating one takes milliseconds), so a race never refuses."""
        deadline = time.monotonic() + settle_s
        while True:
            entries = sorted(p.name for p in root.iterdir())
            settled = [e for e in entries if not _ZARR_PARTIAL.fullmatch(e)]  # zarr's own atomic-write files
            if not entries or cls._is_rgbench_root(root) or cls._being_created(root, settled):
                return []
            if time.monotonic() >= deadline:
                return entries
            time.sleep(0.05)

    @staticmethod
    def _being_created(root: Path, entries: list[str]) -> bool:
        """A store another runner is creating right now: only a root group whose attributes are not
        written yet (and perhaps the claims folder). Holds nothing anyone could lose."""
        if not set(entries) <= {"zarr.json", ".locks"}:
            return False
        meta = _node_meta(root)
        if meta is None:
            return "zarr.json" in entries or not entries  # being written this instant (or only zarr's partial file)
        return meta.get("node_type") == "group" and not meta.get("attributes")

    @staticmethod
    def _is_rgbench_root(root: Path) -> bool:
        meta = _node_meta(root) or {}
        return meta.get("node_type") == "group" and {"suite", "data_format_version"} <= set(meta.get("attributes") or {})

    def init(self, suite_name: str, title: str, suite_json: str, manifest: dict[str, Any] | None = None) -> None:
        """Create the store (or update its root provenance) for a suite, before any case starts.

        `manifest` is what the store should hold: ``{"cases": {case id: spec hash}, "preregistration":
        {...}}`` (the runner's); `rgbench verify` reports an expected case that is absent."""
        self.check_target()
        try:
            root = self._root("a")
        except zarr.errors.ContainsGroupError:  # another runner created the root between our look and our write
            root = self._root("r+")
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
            {
                "suite": suite_name,
                "title": title,
                "suite_json": suite_json,
                "data_format_version": DATA_FORMAT_VERSION,
                "rgbench_version": __version__,
                **({MANIFEST_KEY: manifest} if manifest is not None else {}),
            }
        )

    def root_problem(self) -> str | None:
        """Why the store's root metadata cannot be trusted (unreadable, or not rgbench's), or None."""
        if not is_local(self.path):
            return None
        root = self._local_root()
        if not root.is_dir():
            return f"no store at {self.path}"
        if not (root / "zarr.json").is_file():
            return f"{self.path} is not an rgbench store (it has no root zarr.json)"
        meta = _node_meta(root)
        if meta is None:
            return f"the store's root metadata ({root / 'zarr.json'}) cannot be read: it is damaged"
        if not self._is_rgbench_root(root):
            return f"{self.path} is not an rgbench store (its root zarr.json has none of rgbench's attributes)"
        return None

    def expected(self) -> dict[str, str | None]:
        """The cases the store should hold: its manifest's (id → spec hash), or, for a store written before
        manifests, the case ids of the suite it records (hash None); {} if it records neither."""
        attrs = self.attrs()
        manifest = attrs.get(MANIFEST_KEY)
        if isinstance(manifest, dict) and isinstance(manifest.get("cases"), dict):
            return {str(k): (str(v) if v is not None else None) for k, v in manifest["cases"].items()}
        try:
            cases = json.loads(attrs.get("suite_json") or "{}").get("cases") or []
            return {str(c["id"]): None for c in cases if isinstance(c, dict) and "id" in c}
        except (ValueError, TypeError, AttributeError):
            return {}

    def attrs(self) -> dict[str, Any]:
        try:
            return dict(self._root("r").attrs)
        except Exception:  # noqa: BLE001 - no store yet
            return {}

    # -- cases -----------------------------------------------------------------------------------
    def record(self, case_id: str) -> CaseRecord:
        try:
            group = zarr.open_group(self.path, path=group_name(case_id), mode="r")
            attrs = dict(group.attrs)
        except Exception:  # noqa: BLE001 - missing or corrupted group: treated as absent
            return CaseRecord(case_id, None, None)
        return CaseRecord(case_id, attrs.get(COMPLETE_KEY), attrs.get("status"))

    def _group_names(self) -> list[str]:
        if is_local(self.path):
            # list directories ourselves: one corrupted child must not hide its siblings
            root = Path(self.path.removeprefix("file://"))
            if not root.is_dir():
                return []
            return sorted(
                d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".") and (d / "zarr.json").is_file()
            )
        try:
            return sorted(self._root("r").group_keys())
        except Exception:  # noqa: BLE001 - no store yet
            return []

    def records(self) -> list[CaseRecord]:
        return [self.record(n) for n in self._group_names()]

    def is_done(self, case_id: str, spec_hash: str) -> bool:
        """Complete with this spec hash, a final status, and intact (a corrupted case is recomputed)."""
        rec = self.record(case_id)
        if rec.spec_hash != spec_hash or (rec.status or "") not in FINAL_STATUSES:
            return False
        return self.check_case(case_id).usable

    def _load_checked(self, case_id: str) -> tuple[xr.Dataset | None, CaseCheck]:
        rec = self.record(case_id)
        if rec.spec_hash is None and is_local(self.path) and self._has_group(case_id):
            if _node_meta(self._local_root() / group_name(case_id)) is None:
                return None, CaseCheck(case_id, "corrupted", "its metadata (zarr.json) cannot be read: it is damaged")
        if rec.spec_hash is None:
            state = "incomplete" if rec.status is not None or self._has_group(case_id) else "missing"
            return None, CaseCheck(case_id, state, "no completion marker (an interrupted write)" if state == "incomplete" else "")
        try:
            ds = self.open_case(case_id).load()
        except Exception as e:  # noqa: BLE001 - any decoding failure is damage, reported with its message
            return None, CaseCheck(
                case_id, "corrupted", f"its data no longer decodes ({type(e).__name__}: {e})", rec.status, rec.spec_hash
            )
        repeated = next((d for d in ds.dims if d in ds.indexes and not ds.indexes[d].is_unique), None)
        if repeated is not None:  # checked without digests too: a missing chunk decodes as fill values
            return None, CaseCheck(
                case_id,
                "corrupted",
                f"its coordinate {repeated!r} repeats values (a chunk is missing or was overwritten)",
                rec.status,
                rec.spec_hash,
            )
        stored = ds.attrs.get(DIGEST_KEY)
        if not isinstance(stored, dict):
            return ds, CaseCheck(case_id, "unverified", "written before rgbench stored digests", rec.status, rec.spec_hash)
        diff = _differences(stored, dataset_digests(ds))
        if diff:
            return None, CaseCheck(case_id, "corrupted", f"changed after completion: {diff}", rec.status, rec.spec_hash)
        sealed = ds.attrs.get(SEALED_KEY)
        reason = "digests match"
        if isinstance(sealed, dict):
            reason += f" (digests written {sealed.get('at', '?')}, after the case was computed: `rgbench verify --seal`)"
        return ds, CaseCheck(case_id, "complete", reason, rec.status, rec.spec_hash)

    def seal(self, case_id: str, record: dict[str, Any]) -> CaseCheck:
        """Write the digests of a case stored before rgbench wrote digests (state ``unverified``), from its
        data as they are now, with `record` (when, by which rgbench and commit) as ``rgbench_sealed`` —
        itself covered by the digests. Any other case is left as it is. Returns the case's check after."""
        ds, check = self._load_checked(case_id)
        if check.state != "unverified":
            return check
        group = zarr.open_group(self.path, path=group_name(case_id), mode="r+")
        group.attrs[SEALED_KEY] = record
        group.attrs[DIGEST_KEY] = dataset_digests(self.open_case(case_id).load())
        return self.check_case(case_id)

    def check_case(self, case_id: str) -> CaseCheck:
        """Recompute a case's digests against its completion record (loads the case)."""
        return self._load_checked(case_id)[1]

    def _local_root(self) -> Path:
        return Path(self.path.removeprefix("file://"))

    def check_all(self) -> list[CaseCheck]:
        """`check_case` for every case group, plus swaps an interruption left half done."""
        names = self._group_names()
        checks = [self.check_case(n) for n in names]
        present = set(names)
        for case_id, spec_hash in self.expected().items():
            if group_name(case_id) not in present and not self._has_group(case_id):
                checks.append(
                    CaseCheck(
                        case_id,
                        "missing",
                        "the suite this store records expects it, and it is not there; `rgbench run` computes it",
                        spec_hash=spec_hash,
                    )
                )
        if is_local(self.path) and self._local_root().is_dir():
            for entry in sorted(self._local_root().iterdir()):
                m = _SWAP.match(entry.name)
                if m:
                    checks.append(
                        CaseCheck(
                            m["name"],
                            "interrupted",
                            f"a replacement was interrupted ({entry.name}); `rgbench run` finishes or undoes it",
                        )
                    )
        return checks

    def _has_group(self, case_id: str) -> bool:
        return not is_local(self.path) or (self._local_root() / group_name(case_id) / "zarr.json").is_file()

    def write_case(self, ds: xr.Dataset, case_id: str, spec_hash: str) -> None:
        """Write a case's dataset and its completion record; replaces an earlier group atomically.

        The record (digests, then the marker) is the last write of the new group, and the new group
        replaces the old by renames, so the case is at every moment the old complete one or the new."""
        name = group_name(case_id)
        ds = ds.copy()
        for key in _RECORD_KEYS:
            ds.attrs.pop(key, None)
        local = is_local(self.path)
        target = f".{name}.new-{os.getpid()}" if local else name
        if local:
            shutil.rmtree(self._local_root() / target, ignore_errors=True)
        try:
            ds.to_zarr(self.path, group=target, mode="w", consolidated=False, zarr_format=3)
            written = xr.open_zarr(self.path, group=target, consolidated=False).load()
            group = zarr.open_group(self.path, path=target, mode="r+")
            group.attrs[DIGEST_KEY] = dataset_digests(written)
            group.attrs[COMPLETE_KEY] = spec_hash
        except BaseException:
            if local:  # nothing partial is kept: the case stays what it was (absent, or the old complete one)
                shutil.rmtree(self._local_root() / target, ignore_errors=True)
            raise
        if local:
            self._swap(name, target)

    def _swap(self, name: str, new: str) -> None:
        root = self._local_root()
        old = root / f".{name}.old-{os.getpid()}"
        if (root / name).exists():
            os.rename(root / name, old)
        os.rename(root / new, root / name)
        shutil.rmtree(old, ignore_errors=True)

    def recover(self, case_id: str) -> None:
        """Finish or undo a replacement of `case_id` that an interruption left half done.

        Call only while holding the case's claim (no other process is writing it). A new group that
        was completed replaces a missing case; an old group set aside comes back if nothing replaced
        it; everything else left over (an incomplete new group, an old one already replaced) is deleted."""
        if not is_local(self.path) or not self._local_root().is_dir():
            return
        root, name = self._local_root(), group_name(case_id)
        leftovers = sorted(
            (e for e in root.iterdir() if (m := _SWAP.match(e.name)) and m["name"] == name),
            key=lambda e: _SWAP.match(e.name)["kind"] != "new",
        )  # new ones first
        for entry in leftovers:
            kind = _SWAP.match(entry.name)["kind"]
            if not (root / name).exists() and (kind == "old" or self._complete_at(entry)):
                os.rename(entry, root / name)
            else:
                shutil.rmtree(entry, ignore_errors=True)

    @staticmethod
    def _complete_at(path: Path) -> bool:
        return COMPLETE_KEY in ((_node_meta(path) or {}).get("attributes") or {})

    def open_case(self, case_id: str) -> xr.Dataset:
        return xr.open_zarr(self.path, group=group_name(case_id), consolidated=False)

    def open_results(self, *, load: bool = True) -> dict[str, xr.Dataset]:
        """Every complete case (including diverged and failed ones, by their status).

        With `load` (the default) each case is checked against its digests: a corrupted case is
        returned as an empty dataset with status ``corrupted: <reason>``, so a scorer reports it
        as ERROR instead of scoring damaged data."""
        out: dict[str, xr.Dataset] = {}
        for rec in self.records():
            if not rec.complete:
                continue
            if not load:
                try:
                    ds = self.open_case(rec.case_id)
                except Exception:  # noqa: BLE001 - an unreadable group is as good as absent
                    continue
                out[str(ds.attrs.get("case_id", rec.case_id))] = ds
                continue
            ds, check = self._load_checked(rec.case_id)
            if ds is None:
                out[rec.case_id] = xr.Dataset(attrs={"status": f"corrupted: {check.reason}", "case_id": rec.case_id})
            else:
                out[str(ds.attrs.get("case_id", rec.case_id))] = ds
        return out

    # -- claims, so concurrent runners on one local store never compute a case twice -------------
    def _lock_path(self, case_id: str) -> Path:
        return Path(self.path) / ".locks" / group_name(case_id)

    def claim(self, case_id: str) -> bool:
        """Try to take the claim on a case. Always True for remote stores (dask workers each own
        their cases by construction)."""
        if not is_local(self.path):
            return True
        lock = self._lock_path(case_id)
        lock.parent.mkdir(parents=True, exist_ok=True)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}
        # The claim appears with its content in one step (a hard link of a written file): a claim
        # created empty and filled afterwards could be read in between as "unreadable, stale" and
        # taken over by a second runner, which then computed the case twice.
        tmp = lock.parent / f".{lock.name}.{socket.gethostname()}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(me))
        try:
            for _ in range(2):
                try:
                    os.link(tmp, lock)
                except FileExistsError:
                    if self._stale(lock):
                        lock.unlink(missing_ok=True)
                        continue
                    return False
                return True
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def release(self, case_id: str) -> None:
        if is_local(self.path):
            try:
                self._lock_path(case_id).unlink(missing_ok=True)
            except OSError:  # the store's directory is gone or not writable: a claim left behind is stale
                pass

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
