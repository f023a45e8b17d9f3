"""The standard suites as the package rgbench.suites: found by name from any directory (a path that
exists wins), an unknown name answered with the list, `rgbench suites`, and the packaged files being
the repository's own. .ci/wheel-check runs the built wheel from an empty directory."""

from __future__ import annotations

import importlib.resources
import json
import tomllib
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, TINY_SUITE

from rgbench.cli import EXIT_INVALID, main
from rgbench.suite import SuiteError, _packaged, load_suite, resolve_suite_path, standard_suites

SUITES = ROOT / "suites"


def _declared(path: Path) -> str:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["suite"]


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("smoke", "smoke.yaml"),
        ("smoke.yaml", "smoke.yaml"),
        ("rg-paper", "rg-paper.yaml"),
        ("rg-paper-v3", "rg-paper.yaml"),  # the declared name
        ("architectures-v3", "architectures.yaml"),
        ("archive/rg-paper-v1", "archive/rg-paper-v1.yaml"),
        ("archive/rg-paper", "archive/rg-paper-v1.yaml"),  # an archived suite's declared name
    ],
)
def test_a_standard_suite_is_found_by_name_from_any_directory(name, file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_suite_path(name).resolve().read_bytes() == (SUITES / file).read_bytes()


def test_load_suite_and_the_commands_take_a_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert load_suite("smoke").name == _declared(SUITES / "smoke.yaml")
    assert load_suite("rg-paper-v3").ids == load_suite(SUITES / "rg-paper.yaml").ids
    assert main(["validate", "smoke", "rg-paper-v3", "archive/rg-paper-v2"]) == 0
    assert "suite 'rg-paper-v2'" in capsys.readouterr().out
    assert main(["show", "smoke", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["suite"] == "smoke"


def test_a_path_that_exists_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smoke").write_bytes(TINY_SUITE.read_bytes())  # a file named like a standard suite
    assert resolve_suite_path("smoke") == Path("smoke")
    assert load_suite("smoke").name == "tiny"
    # a name that is no bare name is a path, reported missing as before
    with pytest.raises(SuiteError, match="file cannot be read"):
        load_suite("elsewhere/smoke")


def test_an_unknown_name_lists_the_standard_suites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SuiteError) as e:
        load_suite("nosuch")
    message = str(e.value)
    assert message.startswith("nosuch: no such file, and no standard suite of that name;")
    for path in SUITES.glob("*.yaml"):
        assert path.stem in message
    assert "rg-paper (rg-paper-v3)" in message and "archive/NAME" in message
    # an archived suite's name without its prefix: the archived one is suggested, not taken
    with pytest.raises(SuiteError, match=r"did you mean archive/rg-paper-v2\?"):
        load_suite("rg-paper-v2")
    assert main(["run", "nosuch", "--store", "x.zarr"]) == EXIT_INVALID
    assert "the standard suites" in capsys.readouterr().err
    assert not (tmp_path / "x.zarr").exists()


def test_an_include_resolves_inside_the_suites_directory(tmp_path, monkeypatch):
    """A standard suite's `include:` is relative to its file, in the package as in the repository."""
    packaged = tmp_path / "packaged"
    (packaged / "archive").mkdir(parents=True)
    (packaged / "common.yaml").write_bytes(TINY_SUITE.read_bytes())
    (packaged / "archive" / "mine.yaml").write_text("suite: mine\ninclude: [../common.yaml]\n")
    monkeypatch.setattr(_packaged, "suites_dir", lambda: packaged)
    monkeypatch.chdir(tmp_path)
    suite = load_suite("archive/mine")
    assert suite.name == "mine" and suite.ids == load_suite(TINY_SUITE).ids


def test_rgbench_suites_lists_every_suite_file(capsys):
    assert main(["suites", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    files = sorted(SUITES.glob("*.yaml"))
    assert [r["name"] for r in rows] == [p.stem for p in files]
    assert [r["suite"] for r in rows] == [_declared(p) for p in files]
    for r in rows:
        suite = load_suite(SUITES / f"{r['name']}.yaml")
        assert r["cases"] == len(suite.cases) and r["title"] == suite.title and not r["archived"]
        assert r["version"] == (r["suite"].rsplit("-", 1)[1] if r["suite"][-3:-1] == "-v" else None)
        assert r["estimated_seconds"] > 0
    assert {r["name"]: r["version"] for r in rows}["rg-paper"] == "v3"

    assert main(["suites", "--all", "--json"]) == 0
    archived = [r for r in json.loads(capsys.readouterr().out) if r["archived"]]
    assert [r["name"] for r in archived] == [f"archive/{p.stem}" for p in sorted((SUITES / "archive").glob("*.yaml"))]

    assert main(["suites"]) == 0
    table = capsys.readouterr().out
    assert "rg-paper-v3" in table and "archive/rg-paper-v1" not in table  # archived suites with --all only


def test_the_packaged_suites_are_the_repositorys_files():
    """rgbench.suites is suites/ itself (pyproject.toml's package-dir): the same files, byte for byte."""
    packaged = importlib.resources.files("rgbench.suites")
    files = sorted(p.relative_to(SUITES) for p in SUITES.rglob("*.yaml"))
    assert files and {s.path.resolve().relative_to(SUITES.resolve()) for s in standard_suites()} == set(files)
    for rel in files:
        assert packaged.joinpath(*rel.parts).read_bytes() == (SUITES / rel).read_bytes(), rel


def test_pyproject_lists_every_package():
    """The packages are listed by hand (find cannot map suites/ into rgbench): none may be missing."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "rgbench").rglob("__init__.py")}
    assert set(tool["packages"]) == found | {"rgbench.suites", "rgbench.suites.archive", "rgbench.results"}
    assert tool["package-dir"]["rgbench.suites"] == "suites" and tool["package-dir"]["rgbench.results"] == "results"
    assert set(tool["package-data"]) == {"rgbench.suites", "rgbench.suites.archive", "rgbench.results"}
    assert tool["package-data"]["rgbench.results"] == ["*.score.json"]  # the reports, never the stores
