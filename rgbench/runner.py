"""Execute a suite: every case trained, measured and stored, resumably.

Executors:
* in-process (default, ``--workers 1``): nothing to start; live step-level progress;
* local processes (``--workers N``): one case per process (spawned), each writing its own group;
* dask.distributed (``--scheduler tcp://HOST:PORT``): the same unit of work on a cluster's workers.

Every executor runs `execute_case`, which claims the case, skips it when the store already holds it
with the same spec hash, otherwise computes it and writes it, the completion marker last. A case
that raises is stored with status ``failed: <reason>`` (the scorer reports ERROR) and the rest go on.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._git import git_commit, preregistration
from ._progress import Outcome, Reporter
from ._version import DATA_FORMAT_VERSION, __version__
from .checkpoint import Checkpoints, checkpoint_interval
from .cost import FLOPS_PER_SECOND, budget, estimate
from .plugins import loaded_plugins
from .store import FINAL_STATUSES, Store, StoreIOError, group_name, is_local
from .suite import (
    Case,
    Suite,
    SuiteError,
    case_from_dict,
    case_to_dict,
    plugin_sources,
)

if TYPE_CHECKING:  # JAX-importing modules: loaded when a case runs, not when the runner is imported
    import xarray as xr

    from .inputs import AbstractInput
    from .train import TrainResult

#: ``progress(step_done, total_steps, loss_per_seed)``, as `rgbench.train.train` calls it (loss None: resumed there).
Progress = Callable[[int, int, Any], None]

__all__ = ["run_suite", "run_case", "execute_case", "select_cases", "Outcome", "default_store"]

# One XLA thread per process when several cases run side by side (docs/engineering.md: unknown flags abort).
_SINGLE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# Processes that share one accelerator must not each take ~75 % of its memory at start (JAX's default):
# a worker allocates what its case needs. No effect on the CPU.
SHARED_DEVICE_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


def default_store(suite: Suite) -> str:
    return str(Path("results") / f"{suite.name}.zarr")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"rgbench_version": __version__}
    for pkg in ("jax", "jaxlib", "equinox", "optax", "numpy", "xarray", "zarr"):
        try:
            out[f"{pkg}_version"] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def provenance(case: Case, suite_name: str, prereg: dict[str, Any] | None = None) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "suite": suite_name,
        "case_id": case.id,
        "spec": case.to_json(),
        "spec_hash": case.hash,
        "data_format_version": DATA_FORMAT_VERSION,
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        **_versions(),
    }
    plugins = plugin_sources(case.resolved(), predictions=True)
    if plugins:
        attrs["plugins"] = json.dumps(plugins, sort_keys=True)  # kind → "distribution version"
    commit = git_commit()
    if commit:
        attrs["git_commit"] = commit
    if prereg is not None:
        attrs["preregistration"] = json.dumps(prereg, sort_keys=True)
    return attrs


# The last training run of this process, reused by a following case that differs only in what it
# measures (a probe-size sweep: `grid: {measure.samples: [...]}`). Training is deterministic for a
# given architecture, input, training config and seed list, so reuse changes no number.
_LAST_TRAINING: dict[str, Any] = {}


#: (store, case id) of every claim this process holds now: what an interrupted run releases before it
#: leaves (`release_held_claims`).
HELD_CLAIMS: set[tuple[str, str]] = set()


def release_held_claims() -> None:
    """Release every claim this process holds (on an interrupt, before leaving without unwinding)."""
    for store_path, case_id in list(HELD_CLAIMS):
        Store(store_path).release(case_id)
        HELD_CLAIMS.discard((store_path, case_id))


def _training_key(case: Case) -> str:
    return case.training_key


def case_checkpoints(case: Case, store_path: str) -> Checkpoints | None:
    """The case's checkpoints in a local store at the interval ``train.checkpoint_every`` asks for (by
    default about every 10 minutes of the cost estimate's training time), or None for none."""
    if not is_local(store_path):
        return None
    t = case.train
    est = estimate(case)
    seconds_per_step = est.flops["training"] / (FLOPS_PER_SECOND * est.rate) / max(1, t.steps)
    every = checkpoint_interval(t.checkpoint_every, t.steps, t.log_every, seconds_per_step)
    if not every:
        return None
    identity = {"spec_hash": case.hash, "seeds": case.seed_list}  # training adds its device count
    return Checkpoints(store_path, group_name(case.id), identity, every)


def _train(
    case: Case, data: AbstractInput, progress: Progress | None, checkpoints: Checkpoints | None = None
) -> tuple[TrainResult, str | None]:
    """(TrainResult, id of the case whose training was reused or None)."""
    from .train import train

    key = _training_key(case)
    if _LAST_TRAINING.get("key") == key:
        return _LAST_TRAINING["result"], _LAST_TRAINING["case"]
    _LAST_TRAINING.clear()
    result = train(
        case.architecture,
        data,
        case.train,
        case.seed_list,
        progress=progress,
        checkpoints=checkpoints,
        snapshot_steps=case.measure.step_stages,
    )
    _LAST_TRAINING.update(key=key, result=result, case=case.id)
    return result, None


def run_case(
    case: Case,
    suite_name: str,
    *,
    progress: Progress | None = None,
    prereg: dict[str, Any] | None = None,
    checkpoints: Checkpoints | None = None,
) -> xr.Dataset:
    """Train and measure one case; returns its dataset (status ``complete`` or ``diverged``).

    A case that trains exactly as the previous case run in this process (same architecture, input,
    training and seeds: it differs only in `measure`) measures that case's trained networks instead
    of training them again; its ``train_reused_from`` attribute names the case. With `checkpoints`
    (`case_checkpoints`) training resumes from the case's last checkpoint and saves new ones; its
    ``train_resumed_from_step`` attribute says where it resumed (0: from the start)."""
    from .measure import measure

    start, t0 = _now(), time.perf_counter()
    data = case.input.build()
    result, reused = _train(case, data, progress, checkpoints)
    n_div = int(result.diverged.sum())
    status = "diverged" if n_div else "complete"
    attrs = provenance(case, suite_name, prereg)
    t_measure = time.perf_counter()
    ds = measure(case, data, result, attrs=attrs)
    measure_seconds = time.perf_counter() - t_measure
    wall = time.perf_counter() - t0
    ds.attrs.update(
        status=status,
        diverged_seeds=n_div,
        start_time=start,
        end_time=_now(),
        wall_seconds=round(wall, 3),
        train_seconds=0.0 if reused else round(float(result.wall_seconds), 3),
        measure_seconds=round(measure_seconds, 3),
        train_devices=int(result.devices),
        history=f"{start} rgbench {__version__} run (suite {suite_name}, case {case.id})",
    )
    if reused:
        ds.attrs["train_reused_from"] = reused
    elif checkpoints is not None:
        ds.attrs.update(train_resumed_from_step=int(result.resumed_from), checkpoint_every=int(checkpoints.every))
    return ds


def _failed_dataset(case: Case, suite_name: str, exc: BaseException, wall: float, prereg: dict[str, Any] | None = None):
    import xarray as xr

    reason = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")[:500]
    return xr.Dataset(
        attrs={
            **provenance(case, suite_name, prereg),
            "status": f"failed: {reason}",
            "traceback": "".join(traceback.format_exception(exc))[-8000:],
            "end_time": _now(),
            "wall_seconds": round(wall, 3),
        }
    )


def execute_case(
    case_json: str,
    suite_name: str,
    store_path: str,
    force: bool = False,
    progress: Progress | None = None,
    plugins: Sequence[str] = (),
    on_start: Callable[[], None] | None = None,
    prereg: dict[str, Any] | None = None,
    keep_checkpoints: bool = False,
) -> Outcome:
    """Claim, skip-or-compute, write. Top-level and picklable: the unit of work of every executor.

    `plugins` are the ``--plugin`` specs of the run, imported here first (a worker process or a dask
    worker starts without them; installed entry points load by themselves). `prereg` is the suite
    file's pre-registration record, taken once where the run started (`rgbench._git.preregistration`).
    The case's training checkpoints (`rgbench.checkpoint`) are removed once it is stored complete or
    diverged, unless `keep_checkpoints`; a failed case keeps them, so that a rerun resumes."""
    from .plugins import load_plugins

    load_plugins(plugins)
    case = case_from_dict(json.loads(case_json))
    store = Store(store_path)
    with _store_io("claiming the case", case.id):
        claimed = store.claim(case.id)
    if not claimed:
        return Outcome(case.id, "busy", message="another runner holds this case")
    HELD_CLAIMS.add((store_path, case.id))
    try:
        with _store_io("recovering an interrupted replacement", case.id):
            store.recover(case.id)  # a replacement an interruption left half done: finished or undone
        if not force and store.is_done(case.id, case.hash):
            return Outcome(case.id, "skipped", message="already complete with the same spec hash")
        if on_start is not None:
            on_start()
        t0 = time.perf_counter()
        checkpoints = None
        try:
            checkpoints = case_checkpoints(case, store_path)
            ds = run_case(case, suite_name, progress=progress, prereg=prereg, checkpoints=checkpoints)
        except Exception as exc:  # noqa: BLE001 - recorded in the store, the rest of the suite goes on
            ds = _failed_dataset(case, suite_name, exc, time.perf_counter() - t0, prereg)
        with _store_io("writing the case", case.id):
            store.write_case(ds, case.id, case.hash)
        if checkpoints is not None and not keep_checkpoints and ds.attrs["status"] in FINAL_STATUSES:
            checkpoints.clear()
        return Outcome(case.id, str(ds.attrs["status"]), float(ds.attrs.get("wall_seconds", 0.0)))
    finally:
        store.release(case.id)
        HELD_CLAIMS.discard((store_path, case.id))


def _case_payload(case: Case) -> str:
    return json.dumps(case_to_dict(case))


def _remote_args(case: Case, suite_name: str, store_path: str, force: bool) -> tuple:
    """`execute_case`'s positional arguments for a case run in another process (a local worker or a
    dask worker): no progress callback, and the ``--plugin`` specs that process must import first."""
    return _case_payload(case), suite_name, store_path, force, None, loaded_plugins()


# -------------------------------------------------------------------------------------------------
# Progress


# -------------------------------------------------------------------------------------------------
# Executors


def select_cases(suite: Suite, only: Sequence[str]) -> list[Case]:
    """The cases named by `only`, in suite order: each name is a case id or a grid's base id (all
    its expanded cases). A name that matches nothing raises KeyError listing the ids and base ids."""
    wanted = set(only)
    bases = {c.base_id for c in suite.cases}
    unknown = [name for name in only if name not in suite.ids and name not in bases]
    if unknown:
        grids = sorted(b for b in bases if b not in suite.ids)
        raise KeyError(
            f"--only names no case of suite {suite.name!r}: {', '.join(unknown)} (cases: {', '.join(suite.ids)}"
            + (f"; grids: {', '.join(grids)}" if grids else "")
            + ")"
        )
    return [c for c in suite.cases if c.id in wanted or c.base_id in wanted]


def run_suite(
    suite: Suite,
    store_path: str | None = None,
    *,
    only: Sequence[str] | None = None,
    force: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    resources: dict[str, float] | None = None,
    quiet: bool = False,
    max_memory: float | None = None,
    max_hours: float | None = None,
    strict: bool = False,
    keep_checkpoints: bool = False,
) -> list[Outcome]:
    """Run (or resume) a suite into its store. Returns one Outcome per selected case.

    A case interrupted during training resumes from its last checkpoint (`rgbench.checkpoint`);
    `keep_checkpoints` keeps a case's checkpoints after it completes.

    Before any compute, every selected case's cost is estimated (`rgbench.cost`): SuiteError if one
    needs more memory than `max_memory` bytes (default: this machine's, unless a dask `scheduler`
    runs the cases elsewhere), or more than `max_hours` when `strict` (otherwise a warning).

    `resources` (dask only) is what each case asks of a worker, e.g. ``{"GPU": 1}``: the scheduler then
    runs a case only on a worker started with ``--resources GPU=1``, one case per GPU at a time."""
    store_path = store_path or default_store(suite)
    cases = list(suite.cases)
    if only:
        cases = select_cases(suite, only)
    refused, warned = budget(cases, max_memory=max_memory, max_hours=max_hours, strict=strict, machine=not scheduler)
    if refused:
        raise SuiteError(refused)
    for w in warned if not quiet else ():
        print(w, file=sys.stderr)
    Store(store_path).check_target([c.id for c in cases])  # before any compute: never write over what is not ours
    _check_contracts(cases)
    prereg = preregistration(suite.path)  # taken once, here, before any case starts
    manifest = {"cases": {c.id: c.hash for c in suite.cases}, "preregistration": prereg}
    with _store_io("creating the store", None):
        Store(store_path).init(suite.name, suite.title, suite.to_json(), manifest=manifest)

    if scheduler or workers > 1:
        _check_importable(cases)
    reporter = Reporter(cases, quiet, training_keys=[_training_key(c) for c in cases])
    outcomes: list[Outcome] = []
    try:
        if scheduler:
            outcomes = _run_dask(cases, suite.name, store_path, force, scheduler, reporter, resources, prereg, keep_checkpoints)
        elif workers > 1:
            outcomes = _run_processes(cases, suite.name, store_path, force, workers, reporter, prereg, keep_checkpoints)
        else:
            _LAST_TRAINING.clear()  # reuse trained networks between consecutive cases of this run only
            for case in cases:
                out = execute_case(
                    _case_payload(case),
                    suite.name,
                    store_path,
                    force,
                    progress=lambda step, total, loss, cid=case.id: reporter.step(cid, step, total, loss),
                    on_start=lambda cid=case.id: reporter.start_case(cid),
                    prereg=prereg,
                    keep_checkpoints=keep_checkpoints,
                )
                reporter.finish_case(out)
                outcomes.append(out)
    finally:
        _LAST_TRAINING.clear()
        reporter.close()
    with _store_io("consolidating the store's metadata", None):
        Store(store_path).consolidate()  # the run is over: a plain xr.open_zarr now opens without warnings
    return outcomes


def _located(case: Case, key: str, message: str):
    """A problem of `case` at its place in the suite file (file, line), its message prefixed with the case."""
    from .suite import Located

    file, line, _ = case.source or ("suite", None, f"cases[{case.id}]")
    return Located(file, line, key, f"case {case.id!r}: {message}")


def _check_importable(cases: Sequence[Case]) -> None:
    """Worker processes import every kind a case names by its module and name: a config class defined
    inside a function (``f.<locals>.X``, as in a test or a notebook's helper) cannot be found there.
    SuiteError naming the class and the fix, before any compute."""
    problems = []
    for case in cases:
        for what, config in (("architecture", case.architecture), ("input", case.input)):
            cls = type(config)
            if "<locals>" in cls.__qualname__:
                problems.append(
                    _located(
                        case,
                        what,
                        f"{what} {getattr(config, 'kind', '?')!r} is the class {cls.__module__}."
                        f"{cls.__qualname__}, defined inside a function: worker processes (--workers, --scheduler) "
                        "import a kind by its module and name and cannot reach it; define the class at the top "
                        "level of a module (a --plugin file or an installed package), or run in this process",
                    )
                )
    if problems:
        raise SuiteError(problems)


def _check_contracts(cases: Sequence[Case]) -> None:
    """Every distinct network of `cases` meets the architecture contract (`rgbench.models.check_contract`),
    traced abstractly before any compute: a plugin family that breaks it is refused with the contract
    named, not after training with a broadcast error. SuiteError otherwise."""
    from .models import ArchitectureContractError, check_contract

    problems, seen = [], set()
    for case in cases:
        key = (case.architecture, case.input.vocab, case.input.length)
        if key in seen:
            continue
        seen.add(key)
        try:
            check_contract(case.architecture, case.input.vocab, case.input.length)
        except ArchitectureContractError as e:
            problems.append(_located(case, "architecture", str(e)))
    if problems:
        raise SuiteError(problems)


@contextlib.contextmanager
def _store_io(what: str, case_id: str | None):
    """An operating-system error while writing the store becomes a `StoreIOError` that says what was
    being done and for which case (`rgbench run` prints it and exits EXIT_IO, no traceback)."""
    try:
        yield
    except OSError as e:
        raise StoreIOError(what, case_id, e) from e


def _run_processes(cases, suite_name, store_path, force, workers, reporter, prereg=None, keep=False) -> list[Outcome]:
    import multiprocessing as mp

    old = os.environ.get("XLA_FLAGS")
    os.environ["XLA_FLAGS"] = ((old + " ") if old else "") + _SINGLE_THREAD_XLA
    shared = {k: os.environ.get(k) for k in SHARED_DEVICE_ENV}
    for k, v in SHARED_DEVICE_ENV.items():
        os.environ.setdefault(k, v)  # spawned workers inherit it; a value the user set wins
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {}
            reporter.note(f"{len(cases)} case(s) on {workers} worker processes; each line below is a finished case")
            for case in cases:
                futures[
                    pool.submit(
                        execute_case, *_remote_args(case, suite_name, store_path, force), prereg=prereg, keep_checkpoints=keep
                    )
                ] = case.id
            outcomes = _collect(futures, as_completed(futures), reporter, "worker died")
    finally:
        if old is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = old
        for k, v in shared.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return _in_suite_order(outcomes, cases)


def _run_dask(
    cases, suite_name, store_path, force, scheduler, reporter, resources=None, prereg=None, keep=False
) -> list[Outcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(scheduler) as client:
        futures = {}
        reporter.note(f"{len(cases)} case(s) sent to the dask scheduler {scheduler}; each line below is a finished case")
        for case in cases:
            fut = client.submit(
                execute_case,
                *_remote_args(case, suite_name, store_path, force),
                prereg=prereg,
                keep_checkpoints=keep,
                pure=False,
                key=f"rgbench-{case.hash}-{case.id}",
                resources=resources or None,
            )
            futures[fut] = case.id
        outcomes = _collect(futures, dask_completed(list(futures)), reporter, "worker error")
    return _in_suite_order(outcomes, cases)


def _collect(futures: dict[Any, str], finished, reporter: Reporter, failure: str) -> list[Outcome]:
    """The outcome of every case an executor was handed (`futures`: future → case id), reported as each
    future in `finished` completes. A future that raises (its worker died, e.g. out of memory) is a
    failed case, ``failed: <failure>: <exception>``; the others go on."""
    outcomes = []
    for fut in finished:
        try:
            out = fut.result()
        except Exception as exc:  # noqa: BLE001 - the case failed with its worker, the rest of the suite goes on
            out = Outcome(futures[fut], f"failed: {failure}: {type(exc).__name__}: {exc}")
        reporter.finish_case(out)
        outcomes.append(out)
    return outcomes


def _in_suite_order(outcomes: list[Outcome], cases: Sequence[Case]) -> list[Outcome]:
    order = {c.id: i for i, c in enumerate(cases)}
    return sorted(outcomes, key=lambda o: order[o.case_id])


# -------------------------------------------------------------------------------------------------
# CLI


def parse_resources(items: Sequence[str]) -> dict[str, float]:
    """``["GPU=1", "MEM=8e9"]`` → ``{"GPU": 1.0, "MEM": 8e9}``; ValueError naming the bad item and the form."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, amount = item.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = float("nan")
        if not sep or not name.strip() or not (value > 0):
            raise ValueError(f"--resources {item!r}: expected NAME=AMOUNT with AMOUNT > 0, e.g. GPU=1")
        out[name.strip()] = value
    return out
