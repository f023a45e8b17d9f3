"""Checkpoints inside a case: a case killed with SIGKILL at any point resumes from its last checkpoint
in a new process and stores exactly the data of a run never interrupted (values compared byte for
byte); the interval rule; checkpoints change no case hash; `rgbench verify` lists them."""

from __future__ import annotations

import json
import signal
import textwrap

import numpy as np
import pytest
import xarray as xr
from helpers import ROOT, run_python, run_rgbench

from rgbench.checkpoint import DEFAULT_INTERVAL_S, Checkpoints, checkpoint_interval, stored_checkpoints
from rgbench.suite import load_suite

# 3 seeds on 2 CPU devices (one padding copy), a network that trains one seed at a time per device
# (mixer: lax.map, measured at steps 10 and 25 of training as well) and one vmapped tokenwise case;
# 40 steps in chunks of 5, a checkpoint every 10.
SUITE = textwrap.dedent(
    """
    suite: ckpt
    title: checkpoint test
    defaults:
      architecture: {kind: mixer, depth: 2, width: 8, hidden_mult: 2, token_hidden: 8}
      input: {kind: sticky, vocab: 4, length: 8, xi: 1.2}
      train: {steps: 40, batch: 8, lr: 3.0e-3, log_every: 5, eval_sequences: 64, checkpoint_every: 10}
      measure: {samples: 32, stages: [init, trained]}
      seeds: 3
    cases:
      - id: mixer
        measure: {stages: [init, 10, 25, trained]}  # snapshots along training survive a resume too
      - id: tokenwise
        architecture: {kind: tokenwise, hidden_mult: 2}
    """
)

# Runs one case into a store in a process with 2 CPU devices, and kills itself (SIGKILL: no cleanup
# of any kind runs) where argv[4] says: "step:N" once step N's losses are reported (before a
# checkpoint due at N is written), "save:N" in the middle of writing the checkpoint of step N (its
# files written, not yet renamed into place), "measure" once training is over; "none" runs through.
_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from rgbench.train import use_cpu_devices
    use_cpu_devices(2)
    from rgbench import checkpoint, runner, train
    from rgbench.suite import load_suite
    train.COMPILER_OPTIONS.update({"xla_backend_optimization_level": 0})
    suite_path, store, case_id, kill = sys.argv[1:5]
    suite = load_suite(suite_path)
    case = suite.case(case_id)
    die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    progress = lambda step, total, loss: print(f"resumed at {step}/{total}", file=sys.stderr) if loss is None else None
    if kill.startswith("step:"):
        at = int(kill[5:])
        progress = lambda step, total, loss: die() if step == at else None
    elif kill.startswith("save:"):
        name, rename = f"step-{int(kill[5:]):010d}", os.rename
        checkpoint.os.rename = lambda a, b: die() if os.path.basename(b) == name else rename(a, b)
    elif kill == "measure":
        import rgbench.measure
        rgbench.measure.measure = die
    runner.Store(store).init(suite.name, suite.title, suite.to_json())  # as `run_suite` does first
    out = runner.execute_case(runner._case_payload(case), suite.name, store, progress=progress)
    print(json.dumps({"status": out.status}))
    """
)


def _run(suite_path, store, case_id, kill="none"):
    return run_python(_CHILD, suite_path, store, case_id, kill, cwd=ROOT)


def _data(store, case_id) -> xr.Dataset:
    return xr.open_zarr(store, group=case_id, consolidated=False).load()


def _assert_same_bytes(a: xr.Dataset, b: xr.Dataset) -> None:
    assert sorted(a.variables) == sorted(b.variables)
    for name in a.variables:
        x, y = a[name].values, b[name].values
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes(), f"{name} differs"


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "ckpt.yaml"
    path.write_text(SUITE)
    return path


@pytest.fixture(scope="module")
def uninterrupted(suite_file, tmp_path_factory):
    store = tmp_path_factory.mktemp("straight") / "s.zarr"
    for case_id in ("mixer", "tokenwise"):
        proc = _run(suite_file, store, case_id)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (store / ".checkpoints").exists()  # removed once each case completed
    return store


@pytest.mark.parametrize(
    ("case_id", "kill", "resumed_from"),
    [
        ("mixer", "step:15", 10),  # between checkpoints
        ("mixer", "step:20", 10),  # at a checkpoint step, before it is written
        ("mixer", "save:30", 20),  # while the checkpoint of step 30 is being written
        ("tokenwise", "measure", 30),  # training over, nothing stored yet
    ],
)
def test_a_case_killed_anywhere_resumes_to_the_same_bytes(suite_file, uninterrupted, tmp_path, case_id, kill, resumed_from):
    store = tmp_path / "s.zarr"
    killed = _run(suite_file, store, case_id, kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    [left] = stored_checkpoints(store)
    assert (left.case_group, left.step, left.steps) == (case_id, resumed_from, 40)
    assert not list((store / ".checkpoints" / case_id).glob(".*tmp*")) or kill.startswith("save:")

    resumed = _run(suite_file, store, case_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout.splitlines()[-1])["status"] == "complete"
    assert f"resumed at {resumed_from}/40" in resumed.stderr  # told once, at the step it resumed from
    assert "resumed at" not in killed.stderr
    ds = _data(store, case_id)
    assert ds.attrs["train_resumed_from_step"] == resumed_from
    assert ds.attrs["checkpoint_every"] == 10
    _assert_same_bytes(ds, _data(uninterrupted, case_id))
    assert not (store / ".checkpoints").exists()  # the half-written one of a killed save included


def test_verify_lists_a_checkpoint_beside_the_unfinished_case(suite_file, tmp_path):
    store = tmp_path / "s.zarr"
    assert _run(suite_file, store, "tokenwise", "measure").returncode == -signal.SIGKILL
    proc = run_rgbench("verify", store, "--format", "json")
    rows = json.loads(proc.stdout)
    assert sorted((r["case"], r["state"]) for r in rows) == [
        ("mixer", "missing"),
        ("tokenwise", "checkpoint"),
        ("tokenwise", "missing"),
    ]
    [row] = [r for r in rows if r["state"] == "checkpoint"]
    assert "step 30 of 40" in row["reason"] and "resumes there" in row["reason"]
    assert proc.returncode == 1, proc.stderr  # for the missing cases: the run is not finished


def test_checkpoints_of_another_spec_or_device_count_are_not_used(tmp_path):
    identity = {"spec_hash": "a" * 16, "seeds": [0, 1], "devices": 2}
    ckpt = Checkpoints(tmp_path, "case", identity, every=10)
    ckpt.save(10, 40, {"w": np.arange(3.0)})
    assert ckpt.load({"w": np.zeros(3)})[0] == 10
    for change in ({"spec_hash": "b" * 16}, {"devices": 1}, {"seeds": [0, 2]}):
        assert Checkpoints(tmp_path, "case", identity | change, every=10).load({"w": np.zeros(3)}) is None
    ckpt.save(20, 40, {"w": np.arange(3.0) + 1})  # a newer one replaces the older
    assert [p.name for p in ckpt.dir.iterdir()] == ["step-0000000020"]
    step, state = ckpt.load({"w": np.zeros(3)})
    assert step == 20 and state["w"].tolist() == [1.0, 2.0, 3.0]
    ckpt.clear()
    assert not (tmp_path / ".checkpoints").exists()


def test_the_interval_is_whole_chunks_and_about_ten_minutes_by_default():
    assert checkpoint_interval(0, 10_000, 100, 0.1) == 0  # never
    assert checkpoint_interval(250, 10_000, 100, 0.1) == 300  # rounded up to whole chunks
    assert checkpoint_interval(50, 10_000, 100, 0.1) == 100  # at least one chunk
    assert checkpoint_interval(None, 10_000, 100, 0.1) == int(DEFAULT_INTERVAL_S / 0.1)  # 6000 steps ≈ 10 min
    assert checkpoint_interval(None, 10_000, 100, 0.5) == 1200
    assert checkpoint_interval(None, 10_000, 100, 0.01) == 0  # the whole case takes under 10 minutes
    assert checkpoint_interval(5_000, 2_500, 100, 1.0) == 0  # no checkpoint before the end


def test_checkpoint_every_changes_no_case_hash(tmp_path):
    """How often state is saved changes no number, so it is not part of a case's identity: a store
    run with one interval is complete for the same suite with another."""
    base = load_suite(ROOT / "suites" / "smoke.yaml")
    other = load_suite(ROOT / "suites" / "smoke.yaml", overrides=["train.checkpoint_every=7"])
    assert [c.hash for c in base.cases] == [c.hash for c in other.cases]
    assert all(c.train.checkpoint_every == 7 for c in other.cases)
    stored = json.loads((ROOT / "results" / "smoke.zarr" / base.cases[0].id / "zarr.json").read_text())
    assert stored["attributes"]["spec_hash"] == base.cases[0].hash  # shipped before the key existed
