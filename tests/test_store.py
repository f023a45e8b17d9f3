"""Store semantics without training: completion marker, replacement, corrupted groups, claims."""

from __future__ import annotations

import json
import os

import numpy as np
import xarray as xr
import zarr
from helpers import ROOT, TINY_SUITE, run_python, run_rgbench

from rgbench.store import COMPLETE_KEY, Store, open_results


def tiny(value: float = 1.0, status: str = "complete") -> xr.Dataset:
    return xr.Dataset(
        {"effective_rank": (("seed", "layer"), np.full((2, 3), value, np.float32))},
        coords={"seed": [0, 1], "layer": [0, 1, 2], "stage": ("stage", np.array(["init", "trained"], dtype=object))},
        attrs={"status": status, "case_id": "a"},
    )


def test_complete_case_round_trips_and_is_readable_without_rgbench(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    store.write_case(tiny(2.0), "a", "h1")
    assert store.is_done("a", "h1")
    assert not store.is_done("a", "h2")
    plain = xr.open_zarr(store.path, group="a", consolidated=False)
    np.testing.assert_array_equal(plain["effective_rank"].values, np.full((2, 3), 2.0, np.float32))
    assert list(plain["stage"].values) == ["init", "trained"]
    assert set(open_results(store.path)) == {"a"}


def test_group_without_marker_is_invisible(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    tiny().to_zarr(store.path, group="half", mode="w", consolidated=False)  # a killed run: no marker
    store.write_case(tiny(), "a", "h")
    assert set(open_results(store.path)) == {"a"}
    assert not store.is_done("half", "anything")


def test_corrupted_group_is_ignored(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    store.write_case(tiny(), "a", "h")
    store.write_case(tiny(), "b", "h")
    (tmp_path / "s.zarr" / "b" / "zarr.json").write_text("{ not json")
    assert set(open_results(store.path)) == {"a"}
    assert not store.is_done("b", "h")


def test_replacement_never_mixes_old_and_new(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    old = tiny().assign(extra=(("seed",), np.zeros(2)))
    store.write_case(old, "a", "old-hash")
    store.write_case(tiny(5.0), "a", "new-hash")
    ds = store.open_case("a")
    assert "extra" not in ds
    assert float(ds["effective_rank"].max()) == 5.0
    assert zarr.open_group(store.path, path="a", mode="r").attrs[COMPLETE_KEY] == "new-hash"


def test_failed_cases_are_recorded_but_retried(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    store.write_case(xr.Dataset(attrs={"status": "failed: boom"}), "a", "h")
    assert "a" in open_results(store.path)  # the scorer sees it (ERROR)
    assert not store.is_done("a", "h")  # a rerun recomputes it


def test_store_refuses_another_suite_or_format(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    try:
        store.init("other", "t", "{}")
    except ValueError as e:
        assert "belongs to suite 's'" in str(e)
    else:
        raise AssertionError("a store must not silently change suites")


def test_claims_are_exclusive_and_stale_claims_are_taken_over(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    assert store.claim("a")
    assert not store.claim("a")
    store.release("a")
    assert store.claim("a")
    store.release("a")
    # a claim left by a process that no longer exists (killed) is stale
    dead = run_python("import os; print(os.getpid())")
    lock = tmp_path / "s.zarr" / ".locks" / "a"
    lock.write_text(json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout), "time": 0}))
    assert store.claim("a")


# ------------------------------------------------------------------ refusing what is not ours


def test_a_foreign_directory_is_refused_before_compute_and_left_untouched(tmp_path):
    # the reported loss: a subdirectory named like a case id was deleted with its contents
    import pytest

    from rgbench.runner import run_suite
    from rgbench.store import StoreError
    from rgbench.suite import load_suite

    (tmp_path / "d" / "short").mkdir(parents=True)
    precious = tmp_path / "d" / "short" / "precious.txt"
    precious.write_text("x")
    with pytest.raises(StoreError, match="did not write"):
        run_suite(load_suite(TINY_SUITE), str(tmp_path / "d"), only=["short"], quiet=True)
    assert precious.read_text() == "x", "a file rgbench did not write was touched"
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["short"], "rgbench wrote into a foreign directory"


def test_a_store_another_runner_is_creating_is_not_foreign(tmp_path):
    # two runs started together on a new store: the second looks while the first writes the root
    # (zarr writes zarr.json through a zarr.<hex>.partial file renamed into place)
    root = tmp_path / "s.zarr"
    root.mkdir()
    (root / f"zarr.{'a' * 32}.partial").write_text("{")
    Store(root).check_target()  # only zarr's partial file: being created
    (root / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}))
    (root / ".locks").mkdir()
    Store(root).check_target()  # a root group without attributes yet, and the claims folder


def test_store_paths_rgbench_must_not_write_to_are_refused(tmp_path):
    import pytest

    from rgbench.store import StoreError

    a_file = tmp_path / "file.zarr"
    a_file.write_text("not a store")
    with pytest.raises(StoreError, match="is not a directory"):
        Store(a_file).check_target()
    assert a_file.read_text() == "not a store"
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    (tmp_path / "s.zarr" / ".locks").write_text("")
    with pytest.raises(StoreError, match=r"\.locks.* is not a directory"):
        store.check_target()
    (tmp_path / "s.zarr" / ".locks").unlink()
    (tmp_path / "s.zarr" / "a").write_text("a file where case a would go")
    with pytest.raises(StoreError, match="is not a case group"):
        store.check_target(["a"])
    Store(tmp_path / "empty").check_target(["a"])  # an empty directory or a new path is fine
    (tmp_path / "empty").mkdir()
    Store(tmp_path / "empty").check_target(["a"])


def test_a_read_only_location_is_refused(tmp_path):
    import pytest

    from rgbench.store import StoreError

    if os.geteuid() == 0:
        pytest.skip("root writes through permission bits")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="not writable"):
            Store(ro / "s.zarr").check_target()
    finally:
        ro.chmod(0o755)


# ------------------------------------------------------------------ atomic replacement


def _interrupt_after(n_renames: int, monkeypatch):
    """os.rename that raises (an interruption) once `n_renames` renames have happened."""
    import rgbench.store as S

    real, done = os.rename, []

    def rename(a, b):
        if len(done) == n_renames:
            raise KeyboardInterrupt("killed mid-swap")
        done.append((a, b))
        real(a, b)

    monkeypatch.setattr(S.os, "rename", rename)


def test_force_replacement_interrupted_at_any_rename_leaves_the_old_or_the_new_case(tmp_path, monkeypatch):
    import pytest

    for n in (0, 1):  # before the old group is set aside, and between the two renames
        store = Store(tmp_path / f"s{n}.zarr")
        store.init("s", "t", "{}")
        store.write_case(tiny(1.0), "a", "old")
        with monkeypatch.context() as m:
            _interrupt_after(n, m)
            with pytest.raises(KeyboardInterrupt):
                store.write_case(tiny(5.0), "a", "new")
        store.recover("a")  # what the next run does once it holds the claim
        hidden = [p.name for p in (tmp_path / f"s{n}.zarr").iterdir() if p.name.startswith(".a.")]
        assert hidden == [], f"leftovers after recovery: {hidden}"
        check = store.check_case("a")
        assert check.state == "complete", f"interrupted after {n} renames: {check}"
        value = float(store.open_case("a")["effective_rank"].max())
        assert (check.spec_hash, value) in {("old", 1.0), ("new", 5.0)}, f"a mixture: {check.spec_hash}, {value}"


def test_an_interrupted_new_group_is_discarded(tmp_path):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    store.write_case(tiny(1.0), "a", "old")
    tiny(5.0).to_zarr(store.path, group=".a.new-999999", mode="w", consolidated=False)  # no marker: killed mid-write
    store.recover("a")
    assert not (tmp_path / "s.zarr" / ".a.new-999999").exists()
    assert float(store.open_case("a")["effective_rank"].max()) == 1.0


# ------------------------------------------------------------------ integrity


def _store_with_case(tmp_path, value: float = 2.0):
    store = Store(tmp_path / "s.zarr")
    store.init("s", "t", "{}")
    store.write_case(tiny(value).assign_attrs(spec='{"id": "a"}'), "a", "h")
    return store


def test_intact_cases_verify_and_legacy_cases_are_unverified(tmp_path):
    store = _store_with_case(tmp_path)
    assert store.check_case("a").state == "complete"
    group = zarr.open_group(store.path, path="a", mode="r+")
    del group.attrs["rgbench_digests"]  # as written before digests existed
    assert store.check_case("a").state == "unverified"
    assert store.is_done("a", "h"), "a legacy complete case must not be recomputed"


def test_changed_values_are_corrupted_recomputed_and_scored_error(tmp_path):
    store = _store_with_case(tmp_path)
    arr = zarr.open_array(store.path, path="a/effective_rank", mode="r+")
    arr[0, 0] = 9e23  # a flipped byte that still decodes
    check = store.check_case("a")
    assert check.state == "corrupted", check
    assert "effective_rank changed" in check.reason, check
    assert not store.is_done("a", "h"), "run must recompute a corrupted case"
    status = open_results(store.path)["a"].attrs["status"]
    assert status.startswith("corrupted"), status
    assert "effective_rank" in status, status


def test_edited_provenance_and_a_deleted_coordinate_are_corrupted(tmp_path):
    import shutil

    store = _store_with_case(tmp_path)
    zarr.open_group(store.path, path="a", mode="r+").attrs["spec"] = '{"id": "edited"}'
    assert "attributes" in store.check_case("a").reason
    store = _store_with_case(tmp_path / "2")
    shutil.rmtree(os.path.join(store.path, "a", "layer"))
    check = store.check_case("a")
    assert check.state == "corrupted", check


def test_a_truncated_chunk_is_corrupted_not_absent(tmp_path):
    store = _store_with_case(tmp_path)
    chunks = [
        os.path.join(d, f)
        for d, _, fs in os.walk(os.path.join(store.path, "a", "effective_rank"))
        for f in fs
        if f != "zarr.json"
    ]
    assert chunks, "the array has no chunk file"
    with open(chunks[0], "r+b") as f:
        f.truncate(3)
    check = store.check_case("a")
    assert check.state == "corrupted", check
    assert not store.is_done("a", "h")


def test_rgbench_verify_reports_every_case_and_exits_1_on_damage(tmp_path):
    store = _store_with_case(tmp_path)
    store.write_case(tiny(3.0), "b", "h")
    cmd = ["verify", store.path, "--format", "json"]
    ok = run_rgbench(*cmd)
    assert ok.returncode == 0, ok.stderr
    assert {c["case"]: c["state"] for c in json.loads(ok.stdout)} == {"a": "complete", "b": "complete"}
    zarr.open_array(store.path, path="b/effective_rank", mode="r+")[1, 1] = -1.0
    bad = run_rgbench(*cmd)
    assert bad.returncode == 1, bad.stderr
    assert {c["case"]: c["state"] for c in json.loads(bad.stdout)} == {"a": "complete", "b": "corrupted"}
    foreign = run_rgbench("verify", tmp_path)
    assert foreign.returncode == 2
    assert "not an rgbench store" in foreign.stderr
    assert "Traceback" not in foreign.stderr


def test_a_missing_coordinate_chunk_is_corrupted_even_without_digests(tmp_path):
    # a legacy store (no digests): a deleted chunk of the seed coordinate decodes as fill values,
    # and the repeated seeds used to end `rgbench score` in a pandas traceback
    import shutil

    store = _store_with_case(tmp_path)
    del zarr.open_group(store.path, path="a", mode="r+").attrs["rgbench_digests"]
    shutil.rmtree(os.path.join(store.path, "a", "seed", "c"))
    check = store.check_case("a")
    assert check.state == "corrupted", check
    assert "'seed' repeats values" in check.reason, check.reason
    assert open_results(store.path)["a"].attrs["status"].startswith("corrupted"), "score would read damaged data"


def test_score_of_a_shipped_store_with_a_missing_seed_chunk_is_error_not_a_traceback(tmp_path):
    import shutil

    shipped = ROOT / "results" / "smoke.zarr"
    copy = tmp_path / "smoke.zarr"
    shutil.copytree(shipped, copy)
    for chunk in (copy / "short-xi" / "seed" / "c").iterdir():
        chunk.unlink()
    out = run_rgbench("score", copy, "--format", "json")
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 3  # an ERROR verdict: a script can tell a broken store from a finished one
    verdicts = {(r["case"], r["verdict"]) for r in json.loads(out.stdout)["predictions"]}
    assert ("short-xi", "ERROR") in verdicts, verdicts


def test_verify_knows_what_the_store_should_hold(tmp_path):
    """A case the store's suite expects and that is absent, a deleted group, or a case's garbled
    zarr.json make `verify` exit 1; a garbled root zarr.json makes it and `score` refuse the store."""
    import shutil

    from helpers import e2e_store

    path = e2e_store(tmp_path)  # the e2e suite has a case, never-run, that the store does not hold
    out = run_rgbench("verify", path, "--format", "json")
    states = {c["case"]: c["state"] for c in json.loads(out.stdout)}
    assert states == {"short-xi": "complete", "long-xi": "complete", "never-run": "missing"}
    assert out.returncode == 1
    out = run_rgbench("verify", path, "--format", "json", "--partial")  # a run in progress: not computed yet
    assert {c["case"]: c["state"] for c in json.loads(out.stdout)}["never-run"] == "pending"
    assert out.returncode == 0

    shutil.rmtree(path / "long-xi")  # a complete case deleted
    out = run_rgbench("verify", path, "--format", "json")
    assert {c["case"]: c["state"] for c in json.loads(out.stdout)}["long-xi"] == "missing"
    assert out.returncode == 1

    (path / "short-xi" / "zarr.json").write_text("{ not json")  # a case's metadata garbled
    assert run_rgbench("verify", path, "--partial").returncode == 1  # --partial forgives no case present
    out = run_rgbench("verify", path, "--format", "json")
    garbled = {c["case"]: c for c in json.loads(out.stdout)}["short-xi"]
    assert garbled["state"] == "corrupted" and "metadata" in garbled["reason"]
    assert out.returncode == 1

    (path / "zarr.json").write_text("garbage")  # the root's metadata garbled
    verify, score = run_rgbench("verify", path), run_rgbench("score", path, "--suite", tmp_path / "e2e.yaml")
    assert verify.returncode == 2 and score.returncode == 2
    assert "root metadata" in verify.stderr and "root metadata" in score.stderr
    assert "Traceback" not in verify.stderr + score.stderr


def test_the_runner_writes_a_manifest_before_any_case(tmp_path, monkeypatch):
    from helpers import E2E_SUITE

    import rgbench.runner as runner
    from rgbench.suite import load_suite

    (tmp_path / "e2e.yaml").write_text(E2E_SUITE)
    suite = load_suite(tmp_path / "e2e.yaml")
    seen = []

    def fake(
        payload, suite_name, store_path, force, progress=None, plugins=(), on_start=None, prereg=None, keep_checkpoints=False
    ):
        seen.append(Store(store_path).expected())  # the manifest is there when the first case starts
        return runner.Outcome(json.loads(payload)["id"], "skipped")

    monkeypatch.setattr(runner, "execute_case", fake)
    runner.run_suite(suite, str(tmp_path / "s.zarr"), only=["short-xi"], quiet=True)
    assert seen == [{c.id: c.hash for c in suite.cases}]  # every case of the suite, not only those run


def test_seal_writes_digests_for_a_case_stored_without_them(tmp_path):
    """A case written before digests (unverified) is sealed by `verify --seal`: its digests are
    written from its data as they are, with when; it then verifies complete, its scores are unchanged,
    and a change to its data afterwards is caught as corruption. A case that has digests is untouched."""
    import shutil

    from helpers import e2e_store

    from rgbench.store import DIGEST_KEY, SEALED_KEY

    path = e2e_store(tmp_path)
    group = zarr.open_group(str(path), path="short-xi", mode="r+")
    del group.attrs[DIGEST_KEY]  # as a store written before rgbench stored digests
    before_long = (path / "long-xi" / "zarr.json").read_bytes()
    assert Store(str(path)).check_case("short-xi").state == "unverified"
    scored = run_rgbench("score", path, "--format", "json", "--allow-errors").stdout

    out = run_rgbench("verify", path, "--seal", "--partial", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {c["case"]: c for c in json.loads(out.stdout)}
    assert rows["short-xi"]["state"] == "complete" and "after the case was computed" in rows["short-xi"]["reason"]
    assert "sealed 1 case(s)" in out.stderr
    assert SEALED_KEY in dict(zarr.open_group(str(path), path="short-xi", mode="r").attrs)
    assert (path / "long-xi" / "zarr.json").read_bytes() == before_long  # had digests: not rewritten
    assert run_rgbench("score", path, "--format", "json", "--allow-errors").stdout == scored

    copy = tmp_path / "copy.zarr"
    shutil.copytree(path, copy)
    ds = xr.open_zarr(str(copy), group="short-xi", consolidated=False).load()
    name = next(n for n in ds.data_vars if ds[n].dtype.kind == "f" and ds[n].size > 1)
    arr = zarr.open_array(str(copy), path=f"short-xi/{name}", mode="r+")
    arr[(0,) * arr.ndim] = float(arr[(0,) * arr.ndim]) + 1.0
    assert Store(str(copy)).check_case("short-xi").state == "corrupted"
