"""Store semantics without training: completion marker, replacement, corrupted groups, claims."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import xarray as xr
import zarr

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
    assert store.is_done("a", "h1") and not store.is_done("a", "h2")
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
    assert "extra" not in ds and float(ds["effective_rank"].max()) == 5.0
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
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = tmp_path / "s.zarr" / ".locks" / "a"
    lock.write_text(json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout), "time": 0}))
    assert store.claim("a")
