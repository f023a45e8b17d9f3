"""Runner: end to end on a tiny suite, resume after SIGKILL, concurrent runners, dask executor.

The tests that start runs in subprocesses wait for what the run reports (its progress lines, its
exit), never for a time: on a loaded machine a run takes many times longer, and nothing changes."""

from __future__ import annotations

import errno
import re
import signal
import subprocess

import numpy as np
import pytest
import xarray as xr
from helpers import TINY_SUITE, killed_if_hung, rgbench_command

from rgbench.runner import run_suite
from rgbench.store import Store, open_results
from rgbench.suite import load_suite

COMPLETED = re.compile(r"^\[\d+/\d+\] (\S+): complete\b", re.M)  # the reporter's line for a case just written
VOLATILE = {"start_time", "end_time", "wall_seconds", "train_seconds", "measure_seconds", "history", "rgbench_digests"}

pytestmark = pytest.mark.slow


def assert_same(a: dict[str, xr.Dataset], b: dict[str, xr.Dataset]) -> None:
    assert set(a) == set(b)
    for cid in a:
        x, y = a[cid], b[cid]
        assert {k: v for k, v in x.attrs.items() if k not in VOLATILE} == {k: v for k, v in y.attrs.items() if k not in VOLATILE}
        assert set(x.variables) == set(y.variables)
        # the data digests agree too (the attributes' digest covers the run's times, which differ)
        assert x.attrs["rgbench_digests"]["variables"] == y.attrs["rgbench_digests"]["variables"], cid
        for name in x.variables:
            np.testing.assert_array_equal(x[name].values, y[name].values, err_msg=f"{cid}/{name}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "tiny.zarr"
    outcomes = run_suite(load_suite(TINY_SUITE), str(path), quiet=True)
    assert [o.status for o in outcomes] == ["complete"] * 3
    return path, open_results(path)


def test_store_is_labeled_and_rerun_skips(reference, tmp_path):
    path, results = reference
    ds = results["short"]
    assert ds["effective_rank"].dims == ("seed", "stage", "layer", "position")
    assert list(ds["stage"].values) == ["init", "trained"]
    assert list(ds["layer"].values) == [0, 1, 2, 3]
    assert ds["effective_rank"].attrs["long_name"]
    assert ds["final_loss"].attrs["units"] == "nat"
    assert ds.attrs["status"] == "complete"
    assert ds.attrs["suite"] == "tiny"
    assert len(ds.attrs["spec_hash"]) == 16
    again = run_suite(load_suite(TINY_SUITE), str(path), quiet=True)
    assert [o.status for o in again] == ["skipped"] * 3


def test_sigkill_then_resume_equals_uninterrupted(reference, tmp_path):
    path = tmp_path / "killed.zarr"
    # Killed the moment it reports its first case written: a blocked read of its stderr wakes on that
    # line, while the two cases left take seconds of compute (a deadline here once expired under load
    # before the first case was done, and the kill landed before it).
    proc = subprocess.Popen(
        rgbench_command("run", TINY_SUITE, "--store", path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seen = []
    with killed_if_hung(proc):
        for line in proc.stderr:
            seen.append(line)
            if COMPLETED.match(line):
                proc.send_signal(signal.SIGKILL)
                break
    log = "".join(seen)
    assert COMPLETED.search(log), f"the run ended before it completed a case:\n{log}"
    assert proc.returncode == -signal.SIGKILL, f"the run was not killed (exit {proc.returncode}):\n{log}"
    written = sorted(open_results(path))
    assert 1 <= len(written) < 3, f"the kill should land between the first and the last case; the store holds {written}"
    resumed = [o.status for o in run_suite(load_suite(TINY_SUITE), str(path), quiet=True)]
    assert resumed.count("skipped") == len(written), f"a resumed run skips the {len(written)} cases written: {resumed}"
    assert resumed.count("complete") == 3 - len(written), f"a resumed run computes the cases left: {resumed}"
    assert_same(open_results(path), reference[1])


def test_two_concurrent_runs_complete_every_case_once(reference, tmp_path):
    path = tmp_path / "shared.zarr"
    logs = [tmp_path / "a.err", tmp_path / "b.err"]  # files, not pipes: neither run can block on output
    procs = []
    for log in logs:
        with log.open("w") as err:
            procs.append(
                subprocess.Popen(rgbench_command("run", TINY_SUITE, "--store", path), stdout=subprocess.DEVNULL, stderr=err)
            )
    with killed_if_hung(procs[0]), killed_if_hung(procs[1]):
        codes = [p.wait() for p in procs]
    outs = [log.read_text() for log in logs]
    assert codes == [0, 0], f"both runs succeed, exits {codes}:\n" + "\n".join(outs)
    computed = sorted(case for out in outs for case in COMPLETED.findall(out))
    assert computed == ["long", "mixer", "short"], f"each case computed by exactly one run: {computed}\n" + "\n".join(outs)
    assert_same(open_results(path), reference[1])


def test_dask_local_cluster_equals_local(reference, tmp_path, monkeypatch):
    import distributed
    from distributed import LocalCluster

    asked = []
    submit = distributed.Client.submit

    def recording(self, *args, **kwargs):
        asked.append(kwargs.get("resources"))
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "submit", recording)
    path = tmp_path / "dask.zarr"
    # the worker offers one "GPU" and every case asks for it: cases run one at a time on that worker
    # (a case asking for a resource no worker offers would wait for ever: the restriction is real)
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None, resources={"GPU": 1}
    ) as cluster:
        outcomes = run_suite(
            load_suite(TINY_SUITE), str(path), scheduler=cluster.scheduler_address, quiet=True, resources={"GPU": 1}
        )
    assert [o.status for o in outcomes] == ["complete"] * 3
    assert asked == [{"GPU": 1}] * 3
    assert_same(open_results(path), reference[1])


def test_resources_are_parsed_and_need_a_scheduler(capsys):
    from rgbench.cli import main
    from rgbench.runner import parse_resources

    assert parse_resources(["GPU=1", "MEM=8e9"]) == {"GPU": 1.0, "MEM": 8e9}
    for bad in ("GPU", "GPU=0", "=1", "GPU=x"):
        with pytest.raises(ValueError, match="expected NAME=AMOUNT"):
            parse_resources([bad])
    assert main(["run", str(TINY_SUITE), "--store", "unused.zarr", "--resources", "GPU=1", "--quiet"]) == 2
    assert "give it with --scheduler" in capsys.readouterr().err


def test_a_failing_case_is_recorded_and_the_rest_go_on(tmp_path, monkeypatch):
    import rgbench.runner as runner

    real = runner.run_case

    def flaky(case, suite_name, **kw):
        if case.id == "long":
            raise RuntimeError("simulated failure")
        return real(case, suite_name, **kw)

    monkeypatch.setattr(runner, "run_case", flaky)
    outcomes = run_suite(load_suite(TINY_SUITE), str(tmp_path / "f.zarr"), only=["short", "long"], quiet=True)
    assert [o.status for o in outcomes] == ["complete", "failed: RuntimeError: simulated failure"]
    assert open_results(tmp_path / "f.zarr")["long"].attrs["status"].startswith("failed")


def test_diverged_training_is_recorded_as_diverged(tmp_path):
    text = TINY_SUITE.read_text().replace("lr: 1.0e-2", "lr: 100.0, optimizer: sgd, clip: null")
    suite_path = tmp_path / "div.yaml"
    suite_path.write_text(text)
    outcomes = run_suite(load_suite(suite_path), str(tmp_path / "d.zarr"), only=["short"], quiet=True)
    assert outcomes[0].status == "diverged"
    ds = open_results(tmp_path / "d.zarr")["short"]
    assert ds["diverged"].values.all()
    assert np.isnan(ds["effective_rank"].sel(stage="trained").values).all()


def test_a_case_that_differs_only_in_measure_reuses_the_trained_networks(tmp_path):
    text = TINY_SUITE.read_text() + "  - id: short-more-probes\n    measure: {samples: 48, role_samples: 32}\n"
    path = tmp_path / "probe.yaml"
    path.write_text(text)
    suite = load_suite(path)
    together = run_suite(suite, str(tmp_path / "a.zarr"), only=["short", "short-more-probes"], quiet=True)
    assert [o.status for o in together] == ["complete", "complete"]
    alone = run_suite(suite, str(tmp_path / "b.zarr"), only=["short-more-probes"], quiet=True)
    reused, trained = (
        open_results(tmp_path / "a.zarr")["short-more-probes"],
        open_results(tmp_path / "b.zarr")["short-more-probes"],
    )
    assert reused.attrs["train_reused_from"] == "short"
    assert "train_reused_from" not in trained.attrs
    assert alone[0].status == "complete"
    assert reused.attrs["probe_samples"] == 48
    for name in trained.data_vars:  # reuse changes no number: training is deterministic
        np.testing.assert_array_equal(reused[name].values, trained[name].values, err_msg=name)
    # a case that trains differently is trained, not reused
    other = run_suite(suite, str(tmp_path / "c.zarr"), only=["short", "long"], quiet=True)
    assert [o.status for o in other] == ["complete", "complete"]
    assert "train_reused_from" not in open_results(tmp_path / "c.zarr")["long"].attrs


def test_seed_start_labels_the_seeds_it_trains(tmp_path):
    path = tmp_path / "seeds.yaml"
    path.write_text(TINY_SUITE.read_text().replace("  seeds: 2\n", "  seeds: 2\n  seed_start: 7\n"))
    run_suite(load_suite(path), str(tmp_path / "s.zarr"), only=["short"], quiet=True)
    ds = open_results(tmp_path / "s.zarr")["short"]
    assert list(ds["seed"].values) == [7, 8]
    ref = run_suite(load_suite(TINY_SUITE), str(tmp_path / "r.zarr"), only=["short"], quiet=True)
    assert ref[0].status == "complete"
    base = open_results(tmp_path / "r.zarr")["short"]
    assert not np.array_equal(ds["final_loss"].values, base["final_loss"].values)  # other seeds, other networks


def test_a_rerun_reports_skipped_cases_as_skipped_never_as_running(reference, capsys):
    path, _ = reference
    capsys.readouterr()
    run_suite(load_suite(TINY_SUITE), str(path), quiet=False)
    err = capsys.readouterr().err
    assert err.count(": skipped") == 3
    assert "running" not in err


def test_the_eta_is_the_cost_left_at_the_rate_measured_so_far():
    from io import StringIO

    from rgbench.cost import estimate
    from rgbench.runner import Outcome, Reporter

    cases = list(load_suite(TINY_SUITE).cases)  # short, long (tokenwise), mixer
    cost = [estimate(c).total_flops for c in cases]
    assert cost[2] > cost[0]  # a context-mixing step runs batch·T rows, a tokenwise one the V + 1 symbols
    rep = Reporter(cases, quiet=False, stream=StringIO())
    assert rep.eta() is None  # nothing measured yet
    rep.finish_case(Outcome(cases[0].id, "complete", wall_seconds=rep.OVERHEAD_S + 10.0))
    # the measured excess (10 s over cost[0]) and the prior (PRIOR_COST units at PRIOR_S_PER_COST) pooled
    rate = (10.0 + rep.PRIOR_S_PER_COST * rep.PRIOR_COST) / (cost[0] + rep.PRIOR_COST)
    assert rep.rate() == pytest.approx(rate)
    assert rep.eta() == pytest.approx(2 * rep.OVERHEAD_S + rate * (cost[1] + cost[2]))
    rep.finish_case(Outcome(cases[1].id, "skipped"))  # a skipped case takes its cost off, not time
    assert rep.eta() == pytest.approx(rep.OVERHEAD_S + rate * cost[2])


def test_the_reporter_says_where_a_case_resumed_training_and_does_not_throttle_it():
    from io import StringIO

    from rgbench.runner import Reporter

    out = StringIO()
    rep = Reporter(list(load_suite(TINY_SUITE).cases), quiet=False, stream=out)
    rep.step("mixer", 100, 10000, [2.5, 2.7])  # a chunk's losses: printed (then at most every 10 s)
    rep.step("mixer", 3200, 10000, None)  # a checkpoint resumed training at step 3200
    assert out.getvalue().splitlines() == [
        "  mixer: step 100/10000 loss 2.6000",
        "  mixer: resumed from its checkpoint at step 3200/10000",
    ]


def test_a_training_line_gives_the_cases_step_rate_and_the_training_time_left(monkeypatch):
    """From the second chunk on, a line says how fast the case trains (steps per minute since its first
    chunk, which holds the compilation, or since it resumed) and how long its training has left."""
    from io import StringIO

    import rgbench._progress as progress

    now = [1000.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    out = StringIO()
    rep = progress.Reporter(list(load_suite(TINY_SUITE).cases), quiet=False, stream=out)
    rep.step("mixer", 100, 10000, [2.5])  # the first chunk: no rate yet
    now[0] += 60.0
    rep.step("mixer", 400, 10000, [2.4])  # 300 steps in a minute: 9600 left, 32 min
    rep.step("mixer", 3200, 10000, None)  # resumed: the clock starts again after its first chunk (compilation)
    now[0] += 60.0
    rep.step("mixer", 3300, 10000, [2.3])
    now[0] += 30.0
    rep.step("mixer", 3400, 10000, [2.2])  # 100 steps in 30 s: 6600 left at 200 per minute
    assert out.getvalue().splitlines() == [
        "  mixer: step 100/10000 loss 2.5000",
        "  mixer: step 400/10000 loss 2.4000 · 300 steps/min, ≈ 32 min of training left",
        "  mixer: resumed from its checkpoint at step 3200/10000",
        "  mixer: step 3300/10000 loss 2.3000",
        "  mixer: step 3400/10000 loss 2.2000 · 200 steps/min, ≈ 33 min of training left",
    ]


def test_the_eta_rate_tends_to_the_measured_one_and_a_compile_bound_case_does_not_set_it():
    from io import StringIO

    from rgbench.runner import Outcome, Reporter

    cases = list(load_suite(TINY_SUITE).cases)
    rep = Reporter(cases, quiet=True, stream=StringIO())
    # a tiny first case that is mostly compilation: the rate stays within 2x of the prior (the
    # unpooled rate would be (14 − 6) s / 1e8 FLOPs = 8e-8 s per FLOP, over 3000x the prior)
    rep._cost[cases[0].id] = 1e8
    rep.finish_case(Outcome(cases[0].id, "complete", wall_seconds=14.0))
    assert rep.PRIOR_S_PER_COST < rep.rate() < 2.5 * rep.PRIOR_S_PER_COST
    # cases of real size at 3x the prior's speed pull the rate to the measured one
    for c in cases[1:]:
        rep._cost[c.id] = 1e13
        rep.finish_case(Outcome(c.id, "complete", wall_seconds=rep.OVERHEAD_S + 3 * rep.PRIOR_S_PER_COST * 1e13))
    assert rep.rate() == pytest.approx(3 * rep.PRIOR_S_PER_COST, rel=0.01)


def test_a_case_records_what_training_and_measuring_it_took(reference):
    for ds in reference[1].values():
        train, measure, wall = (float(ds.attrs[k]) for k in ("train_seconds", "measure_seconds", "wall_seconds"))
        assert 0 < measure
        assert 0 < train
        assert train + measure <= wall


def test_ctrl_c_during_a_run_exits_130_releases_its_claim_and_says_how_to_resume(tmp_path):
    store = tmp_path / "s.zarr"
    # rgbench_command: SIGINT reaches the run even when this session ignores it (a background job)
    cmd = rgbench_command("run", TINY_SUITE, "--store", store, "--only", "short", "--set", "train.steps=100000")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with killed_if_hung(p):
        for line in p.stdout:  # wait for the case to start (no wall-clock assumption), then interrupt it
            if "running" in line:
                break
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate()
    assert p.returncode == 130, f"exit {p.returncode} (−11 is the segfault this guards against):\n{rest}"
    assert "resume with: rgbench run" in rest, rest
    assert "Traceback" not in rest, rest
    assert list((store / ".locks").iterdir()) == [], "the claim was not released"
    assert not Store(str(store)).record("short").complete, "an interrupted case must not count as complete"


@pytest.mark.parametrize(
    ("method", "fail_on_call", "code"),
    [
        ("init", 1, errno.EACCES),  # creating the store: nothing computed yet
        ("claim", 2, errno.EROFS),  # claiming the second case
        ("write_case", 2, errno.ENOSPC),  # writing the second case: a full disk
        ("consolidate", 1, errno.ENOENT),  # the end of the run: the store's directory gone
    ],
)
def test_an_io_fault_ends_in_one_message_and_a_resume_equals_an_uninterrupted_run(
    reference, tmp_path, monkeypatch, capsys, method, fail_on_call, code
):
    import os

    from rgbench.cli import EXIT_IO, main

    path = tmp_path / "faulty.zarr"
    original = getattr(Store, method)
    calls = []

    def faulty(self, *args, **kwargs):
        calls.append(method)
        if len(calls) == fail_on_call:
            raise OSError(code, os.strerror(code), str(path))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, method, faulty)
    command = ["run", str(TINY_SUITE), "--store", str(path), "--quiet"]
    assert main(command) == EXIT_IO
    message = capsys.readouterr().err
    assert "Traceback" not in message
    assert os.strerror(code) in message and "The store is consistent" in message
    assert f"resume with: rgbench {' '.join(command)}" in message
    if method in ("claim", "write_case"):
        assert "for case 'long'" in message  # the second case of the tiny suite
    monkeypatch.setattr(Store, method, original)
    assert main(command) == 0
    assert_same(open_results(path), reference[1])
    assert all(c.state == "complete" for c in Store(path).check_all())
