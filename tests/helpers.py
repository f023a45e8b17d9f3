"""What several test modules share: paths, running rgbench in a subprocess, and synthetic stored
datasets and predictions (the public contract of docs/guide.md "The stored data", built in memory).

Test modules import from here (``from helpers import ...``), never from one another."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Union

import numpy as np
import pydantic
import xarray as xr
from pydantic import Field

from rgbench import DATA_FORMAT_VERSION
from rgbench import predictions as P
from rgbench.registry import OBSERVABLES, TESTS
from rgbench.store import Store
from rgbench.suite import load_suite
from rgbench.train import COMPILER_OPTIONS, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
TINY_SUITE = Path(__file__).resolve().parent / "data" / "suites" / "tiny.yaml"

# A network and training so small that compiling them is most of their time.
TINY_ARCH = dict(depth=2, width=8, hidden_mult=2.0)
TINY_TRAIN = TrainConfig(steps=20, log_every=10, batch=8, lr=3e-3, eval_sequences=128)


@contextlib.contextmanager
def fast_compiles():
    """Tiny programs spend their time compiling: skip XLA's backend optimisations while inside."""
    saved = dict(COMPILER_OPTIONS)
    COMPILER_OPTIONS.update({"xla_backend_optimization_level": 0})
    try:
        yield
    finally:
        COMPILER_OPTIONS.clear()
        COMPILER_OPTIONS.update(saved)


# A bound on a subprocess that only turns a hang into a failure. It is no speed claim: far beyond
# what any command here takes on a 2-core machine loaded ~6x over (a run of the tiny suite takes
# under a minute unloaded). Nothing in the tests waits for a fixed time.
HANG_S = 1800

# Python leaves SIGINT ignored in a process started with it ignored (a background job of a
# non-interactive shell: `pytest &`, `nohup`, some CI runners), so Ctrl-C would never reach the run;
# the default handler is installed explicitly, as an interactive shell's child has it.
_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('rgbench', run_name='__main__', alter_sys=True)"
)


def rgbench_command(*args: str | os.PathLike) -> list[str]:
    """``python -m rgbench ARGS`` that Ctrl-C (SIGINT) interrupts however the test session was started."""
    return [sys.executable, "-c", _WITH_CTRL_C, *map(str, args)]


@contextlib.contextmanager
def killed_if_hung(proc: subprocess.Popen, seconds: float = HANG_S):
    """Kill `proc` should it outlive `seconds` (turning a hang into a failure; no speed claim), and
    on leaving the block, so no test leaves a process behind."""
    timer = threading.Timer(seconds, proc.kill)
    timer.daemon = True
    timer.start()
    try:
        yield proc
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()


def run_rgbench(
    *args: str | os.PathLike, cwd: str | os.PathLike | None = None, env: dict | None = None, check: bool = False
) -> subprocess.CompletedProcess:
    """``python -m rgbench ARGS`` to completion, output captured; `env` is added to this process's."""
    return _run(["-m", "rgbench", *map(str, args)], cwd, env, check)


def run_python(
    code: str, *args: str | os.PathLike, cwd: str | os.PathLike | None = None, env: dict | None = None, check: bool = False
) -> subprocess.CompletedProcess:
    """``python -c CODE ARGS`` to completion, output captured; `env` is added to this process's."""
    return _run(["-c", code, *map(str, args)], cwd, env, check)


def _run(argv: list[str], cwd, env: dict | None, check: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=check,
        timeout=HANG_S,
    )


# --------------------------------------------------------------------------------------------
# Synthetic stored datasets and predictions


ALT = np.array([1.0, -1.0] * 5)  # alternating per-seed offsets: half the seeds one way, half the other


def _per_seed(x: Any, seeds: int, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.broadcast_to(x, (seeds, n)).copy() if x.ndim < 2 else x.copy()


def synthetic_case(
    case_id: str = "short-xi",
    *,
    seeds: int = 10,
    depth: int = 6,
    positions: int = 4,
    erank: Any = None,
    erank_init: Any = None,
    drift: Any = None,
    drift_init: Any = None,
    final_loss: Any = 1.8,
    bayes_loss: float = 1.65,
    tokenwise_loss: float = 2.61,
    status: str = "complete",
    spec_hash: str | None = None,
    xi: float | None = 1.2,
    architecture: str = "tokenwise",
    wall_seconds: float = 10.0,
    steps: int = 5,
) -> xr.Dataset:
    """A case dataset whose observables are exactly the given profiles (position offsets average to 0).

    erank / erank_init: per layer (L+1,) or per seed and layer (S, L+1); default: trained falls by
    1.5 per layer from 15, init flat at 15. drift / drift_init: per transition (L,) or (S, L).
    """
    L, S_ = depth, seeds
    ell = np.arange(L + 1)
    erank = 15.0 - 1.5 * ell if erank is None else erank
    erank_init = np.full(L + 1, 15.0) if erank_init is None else erank_init
    drift = np.array([0.02, 0.5, 0.3] + [0.02] * (L - 3)) if drift is None else drift
    drift_init = np.full(L, 0.05) if drift_init is None else drift_init
    er = np.stack([_per_seed(erank_init, S_, L + 1), _per_seed(erank, S_, L + 1)], axis=1)  # seed stage layer
    offsets = np.linspace(-0.3, 0.3, positions)
    er_pos = er[..., None] + offsets
    dr = np.stack([_per_seed(drift_init, S_, L), _per_seed(drift, S_, L)], axis=1)
    fl = np.broadcast_to(np.asarray(final_loss, dtype=float), (S_,)).copy()
    coords = {
        "seed": np.arange(S_),
        "stage": ["init", "trained"],
        "layer": ell,
        "position": np.arange(positions),
        "transition": np.arange(L),
        "layer2": ell,
        "role": ["masked", "visible"],
        "step": np.arange(steps) * 100,
        "eig": np.arange(16),
        "lag": np.arange(8),
    }
    sl, slp = ("seed", "stage", "layer"), ("seed", "stage", "layer", "position")
    ds = xr.Dataset(
        {
            "effective_rank": (slp, er_pos),
            "participation_ratio": (slp, er_pos * 0.8),
            "stable_rank": (slp, er_pos * 0.5),
            "effective_rank_pooled": (sl, er - 1.0),
            "participation_ratio_pooled": (sl, er * 0.7),
            "stable_rank_pooled": (sl, er * 0.4),
            "effective_rank_role": (("seed", "stage", "layer", "role"), np.stack([er - 0.5, er + 0.5], axis=-1)),
            "kernel_drift": (("seed", "stage", "transition"), dr),
            "update_ratio": (("seed", "stage", "transition"), dr * 2),
            "cka": (("seed", "stage", "layer", "layer2"), np.ones((S_, 2, L + 1, L + 1))),
            "loss": (("seed", "step"), fl[:, None] + np.linspace(1.0, 0.0, steps)),
            "final_loss": (("seed",), fl),
            "diverged": (("seed",), np.zeros(S_, dtype=bool)),
            "bayes_loss": ((), bayes_loss),
            "tokenwise_loss": ((), tokenwise_loss),
            "input_eigenvalues": (("eig",), np.r_[1.0, np.full(15, 0.43)]),
            "input_autocorrelation": (("lag",), 0.43 ** np.arange(8)),
            "input_effective_rank": (("position",), np.full(positions, 15.0)),
            "input_effective_rank_pooled": ((), 15.0),
        },
        coords=coords,
    )
    ds.attrs.update(
        status=status,
        case_id=case_id,
        suite="synthetic",
        data_format_version=DATA_FORMAT_VERSION,
        architecture_kind=architecture,
        spec="{}",
        wall_seconds=wall_seconds,
    )
    if xi is not None:
        ds.attrs["xi"] = xi
    if spec_hash is not None:
        ds.attrs["spec_hash"] = spec_hash
    return ds


def _model():
    def union(reg):
        return Annotated[Union[tuple(cls for _, cls in reg.items())], Field(discriminator="kind")]

    return pydantic.create_model(
        "Prediction",
        __base__=P.PredictionBase,
        observable=(
            Annotated[union(OBSERVABLES), pydantic.BeforeValidator(lambda v: {"kind": v} if isinstance(v, str) else v)],
            ...,
        ),
        test=(union(TESTS), ...),
    )


Prediction = _model()


def pred(observable: Any, test: dict, claim: str = "a claim", **sel) -> Any:
    return Prediction.model_validate({"claim": claim, "observable": observable, "test": test, **sel})


def case(
    case_id: str,
    predict=(),
    *,
    hash: str | None = None,
    depth: int = 6,
    width: int = 64,
    kind: str = "tokenwise",
    xi: float = 1.2,
):
    return SimpleNamespace(
        id=case_id,
        hash=hash,
        predict=list(predict),
        architecture={"kind": kind, "depth": depth, "width": width},
        input={"kind": "sticky", "xi": xi},
    )


def suite(*cases, name="synthetic", title="synthetic suite"):
    return SimpleNamespace(name=name, title=title, cases=list(cases))


E2E_SUITE = """
suite: e2e
title: end to end
defaults:
  architecture: {kind: tokenwise, depth: 6, width: 16}
  input: {kind: sticky, vocab: 8, length: 16, xi: 1.2}
  seeds: 10
cases:
  - id: short-xi
    predict:
      - claim: effective rank falls monotonically with depth after training
        observable: effective_rank
        stage: trained
        layers: "1:"
        test: {kind: monotone, along: layer, direction: decreasing, spearman_at_most: -0.9, seeds_at_least: 0.8}
      - claim: collapse is selective
        observable: rank_collapse
        test: {kind: difference, compare_to: long-xi, at_least: 0.0, paired: true}
  - id: long-xi
    input: {xi: 6.7}
    predict:
      - claim: no collapse at long xi
        observable: rank_collapse
        test: {kind: equivalence, delta: 0.5}
  - id: never-run
    input: {xi: 3.0}
"""


def e2e_store(tmp_path, cases=("short-xi", "long-xi")):
    """A real zarr store of the E2E suite (written with rgbench.store) holding synthetic cases."""
    (tmp_path / "e2e.yaml").write_text(E2E_SUITE)
    s = load_suite(tmp_path / "e2e.yaml")
    path = tmp_path / "e2e.zarr"
    store = Store(path)
    store.init(s.name, s.title, s.to_json())
    profiles = {"short-xi": None, "long-xi": np.full(7, 15.0)}
    for cid in cases:
        ds = synthetic_case(cid, erank=profiles[cid], spec_hash=s.case(cid).hash)
        ds = ds.assign_coords(
            stage=np.array(["init", "trained"], dtype=object), role=np.array(["masked", "visible"], dtype=object)
        )
        store.write_case(ds, cid, s.case(cid).hash)
    return path


def with_rows(ds: xr.Dataset, token: Any, mask: Any) -> xr.Dataset:
    """`ds` with effective_rank_rows whose token / mask rows hold the given (stage, layer) profiles."""
    er = ds["effective_rank"]
    rows = np.stack([np.broadcast_to(np.asarray(v, float)[..., None], er.shape) for v in (token, mask, token, token)], -1)
    return ds.assign(effective_rank_rows=(er.dims + ("rows",), rows), mask_distance=er * 0 + 2.0).assign_coords(
        rows=["token", "mask", "half", "token_half"]
    )
