"""The pre-registration record: what git says of a suite file when a run starts (in a temporary
repository), and what a report concludes from its cases' records."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import E2E_SUITE, e2e_store

from rgbench._git import preregistration
from rgbench.score import CaseSummary, score_store
from rgbench.scoring._preregistration import preregistration_text
from rgbench.store import Store

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd, *args):
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": "2026-01-02T03:04:05+00:00",
        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05+00:00",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(cwd),
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_a_committed_modified_and_uncommitted_suite_file(tmp_path):
    _git(tmp_path, "init", "-q")
    suite = tmp_path / "suite.yaml"
    suite.write_text(E2E_SUITE)
    assert preregistration(suite)["reason"] == "the suite file was never committed"
    _git(tmp_path, "add", "suite.yaml")
    _git(tmp_path, "commit", "-q", "-m", "criteria")
    record = preregistration(suite)
    assert record["commit"] == _git(tmp_path, "rev-parse", "HEAD")
    assert record["commit_time"] == "2026-01-02T03:04:05+00:00"
    assert record["blob"] == _git(tmp_path, "hash-object", "suite.yaml")
    assert record["modified"] is False
    suite.write_text(E2E_SUITE + "# edited after the commit\n")
    edited = preregistration(suite)
    assert edited["modified"] is True and edited["commit"] == record["commit"] and edited["blob"] != record["blob"]


def test_no_repository_and_no_file(tmp_path):
    (tmp_path / "suite.yaml").write_text(E2E_SUITE)
    assert "not in a git repository" in preregistration(tmp_path / "suite.yaml")["reason"]
    assert preregistration(None)["reason"] == "the suite was not read from a file"


def _case(start, record, status="complete"):
    return CaseSummary(case="c", architecture={}, input={}, status=status, start_time=start, preregistration=record)


def test_what_a_report_concludes_from_its_cases():
    ok = {"file": "s.yaml", "blob": "b", "commit": "a" * 40, "commit_time": "2026-01-02T03:04:05+00:00", "modified": False}
    text = preregistration_text({"x": _case("2026-01-03T00:00:00+00:00", ok), "y": _case("2026-01-04T00:00:00+00:00", ok)})
    assert (
        text
        == "pre-registered: suite committed 2026-01-02T03:04:05+00:00 (commit aaaaaaaaaaaa), first case started 2026-01-03T00:00:00+00:00"
    )
    late = {**ok, "commit_time": "2026-01-05T00:00:00+00:00"}
    assert "after the first case started" in preregistration_text({"x": _case("2026-01-03T00:00:00+00:00", late)})
    assert "differed from its last commit" in preregistration_text(
        {"x": _case("2026-01-03T00:00:00+00:00", {**ok, "modified": True})}
    )
    assert "never committed" in preregistration_text(
        {"x": _case("t", {"file": "s.yaml", "reason": "the suite file was never committed"})}
    )
    assert preregistration_text({"x": _case("t", None)}).startswith("no pre-registration record")
    other = {**ok, "commit": "b" * 40}
    assert "different commits" in preregistration_text({"x": _case("t", ok), "y": _case("t", other)})
    # a missing case does not count against it
    assert preregistration_text({"x": _case("2026-01-03T00:00:00+00:00", ok), "m": _case(None, None, "missing")}).startswith(
        "pre-registered"
    )


def test_the_report_carries_the_record_of_its_cases(tmp_path):
    path = e2e_store(tmp_path)
    assert json.loads(score_store(path).to_json())["preregistration"].startswith("no pre-registration record")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "e2e.yaml")
    _git(tmp_path, "commit", "-q", "-m", "criteria")
    record = json.dumps(preregistration(tmp_path / "e2e.yaml"))
    store = Store(path)
    for cid, ds in store.open_results(load=True).items():
        store.write_case(
            ds.assign_attrs(preregistration=record, start_time="2026-06-01T00:00:00+00:00"), cid, ds.attrs["spec_hash"]
        )
    report = score_store(path)
    assert json.loads(report.to_json())["preregistration"].startswith("pre-registered: suite committed 2026-01-02T03:04:05")
    assert "pre-registered: suite committed" in report.to_markdown()


def test_the_runner_takes_the_record_once_and_gives_it_to_every_case(tmp_path, monkeypatch):
    import rgbench.runner as runner
    from rgbench.suite import load_suite

    _git(tmp_path, "init", "-q")
    (tmp_path / "e2e.yaml").write_text(E2E_SUITE)
    _git(tmp_path, "add", "e2e.yaml")
    _git(tmp_path, "commit", "-q", "-m", "criteria")
    monkeypatch.chdir(tmp_path)
    seen = []

    def fake(
        payload, suite_name, store_path, force, progress=None, plugins=(), on_start=None, prereg=None, keep_checkpoints=False
    ):
        seen.append(prereg)
        return runner.Outcome(json.loads(payload)["id"], "skipped")

    monkeypatch.setattr(runner, "execute_case", fake)
    suite = load_suite("e2e.yaml")
    runner.run_suite(suite, str(tmp_path / "s.zarr"), quiet=True)
    assert len(seen) == len(suite.cases) and all(r == seen[0] for r in seen)
    assert seen[0]["file"] == "e2e.yaml" and seen[0]["modified"] is False
    attrs = runner.provenance(suite.cases[0], suite.name, seen[0])
    assert json.loads(attrs["preregistration"]) == seen[0]
