"""The documentation's examples run as written: the notebook block, the stored-data block and the
suite-file example of docs/guide.md ("Using rgbench"), and the citations of docs/ passages."""

from __future__ import annotations

import re

import pytest
from helpers import ROOT

README = (ROOT / "README.md").read_text()
GUIDE = (ROOT / "docs" / "guide.md").read_text()


def _block(after: str, lang: str = "python") -> str:
    section = GUIDE.split(after, 1)[1]
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match, f"no {lang} block after {after!r}"
    return match.group(1)


@pytest.mark.slow
def test_the_notebook_example_runs(tmp_path, monkeypatch, capsys):
    code = _block("### In a notebook").replace('"runs/', f'"{tmp_path}/runs/')
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/guide.md (In a notebook)", "exec"), {})
    out = capsys.readouterr().out
    assert "['complete', 'complete', 'complete']" in out
    assert "tokenwise" in out
    assert "mixer" in out  # the leaderboard's rows


def test_the_stored_data_example_opens_a_shipped_store_without_warnings(monkeypatch):
    import warnings

    code = _block("## The stored data")
    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated metadata: no "failed to open consolidated" warning
        namespace: dict = {}
        exec(compile(code, "docs/guide.md (The stored data)", "exec"), namespace)
    assert namespace["ds"].sizes["layer"] == 7


def test_the_suite_file_example_validates(tmp_path):
    from rgbench.suite import load_suite

    text = _block("## Writing a suite", "yaml")
    path = tmp_path / "my-suite.yaml"
    path.write_text(text)
    (tmp_path / "common.yaml").write_text("defaults: {seeds: 10}\n")  # the example's include
    suite = load_suite(path)
    assert suite.name == "my-suite"
    assert "short-xi" in suite.ids


def test_the_api_names_work_beside_the_modules_of_the_same_name(monkeypatch):
    import rgbench
    from rgbench import leaderboard as LB
    from rgbench import score as S  # importing the module must not shadow the function

    monkeypatch.chdir(ROOT)
    report = rgbench.score("results/smoke.zarr")
    assert isinstance(report, S.Report)
    assert S.Verdict.PASS.value == "PASS"
    assert list(report.to_pandas().columns)[:3] == ["case", "claim", "verdict"]
    assert "<table" in report._repr_html_()
    board = rgbench.leaderboard(["results/smoke.zarr"])
    assert isinstance(board, LB.Leaderboard)
    assert "<table" in board._repr_html_()
    tree = rgbench.open_datatree("results/smoke.zarr")
    assert set(tree.children) == {"short-xi", "long-xi", "mixer-long-xi"}
    assert tree.attrs["suite"] == "smoke"


def test_every_citation_of_docs_names_a_file_and_passage_that_exist():
    """What the code and README cite is in the repository: docs/<file>.md, and a quoted heading or
    passage of it ("Observables", 'Tokenwise symmetry at init') where one is named."""
    cite = re.compile(r"docs/([\w-]+\.md)`{0,2},?[ \n]*(?:[\"'“]([^\"'”\n]{3,}))?")
    pages = (ROOT / "docs").glob("*.md")
    sources = [README, *(p.read_text() for p in pages), *(p.read_text() for p in (ROOT / "rgbench").rglob("*.py"))]
    found = 0
    for text in sources:
        for name, passage in cite.findall(text):
            doc = ROOT / "docs" / name
            assert doc.is_file(), f"cited docs/{name} does not exist"
            if passage:
                assert passage.strip()[:20] in doc.read_text(), f"docs/{name} has no {passage!r}"
            found += 1
    assert found >= 10
