"""The documentation site's generated page: docs/_hooks.py writes the suite-language reference from
`rgbench.reference.reference()`, so the page cannot drop a key that ``rgbench list`` shows.

mkdocs is not needed (it is in the ``docs`` extra, not ``test``): the hook module is plain Python.
"""

from __future__ import annotations

import importlib.util
import re
import types
from pathlib import Path

import pytest

from rgbench.reference import CATEGORIES, KIND_CATEGORIES, LANGUAGE_CATEGORIES, reference

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def hooks() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("rgbench_docs_hooks", DOCS / "_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ref() -> dict:
    return reference()


@pytest.fixture(scope="module")
def sections(hooks, ref) -> dict[str, str]:
    """The generated Markdown split at its ``## `` headings, keyed by category."""
    markdown = hooks.reference_markdown(ref)
    by_title = {title: cat for cat, title in hooks.TITLES.items()}
    parts = re.split(r"^## (.+)$", markdown, flags=re.M)
    assert parts[0].strip() == ""
    return {by_title[title]: body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells, split as Python-Markdown does: not at an escaped pipe or one inside code."""
    cells, cell, i, body = [], "", 0, row.strip()[1:-1]
    while i < len(body):
        if body[i] == "\\":
            cell, i = cell + body[i : i + 2], i + 2
            continue
        if body[i] == "`":
            fence = re.match(r"`+", body[i:]).group(0)
            end = body.index(fence, i + len(fence))
            cell, i = cell + body[i : end + len(fence)], end + len(fence)
            continue
        if body[i] == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += body[i]
        i += 1
    return [*cells, cell.strip()]


def _table_keys(body: str) -> list[str]:
    """The first column of every table row in `body` (header and rule excluded), code fences removed."""
    keys = []
    for line in body.splitlines():
        if line.startswith("| ") and not line.startswith(("| key |", "| rule |")):
            keys.append(_cells(line)[0].strip("`*"))
    return keys


def test_every_category_has_a_section(sections) -> None:
    assert list(sections) == list(CATEGORIES)


@pytest.mark.parametrize("category", LANGUAGE_CATEGORIES)
def test_every_key_of_the_language_is_on_the_page(sections, ref, category: str) -> None:
    assert _table_keys(sections[category]) == [p["name"] for p in ref[category]["parameters"]]


@pytest.mark.parametrize("category", list(KIND_CATEGORIES))
def test_every_kind_and_parameter_is_on_the_page(sections, ref, category: str) -> None:
    kinds = re.split(r"^### `(.+)`$", sections[category], flags=re.M)
    on_page = dict(zip(kinds[1::2], kinds[2::2], strict=True))
    assert list(on_page) == list(ref[category])
    for kind, info in ref[category].items():
        assert _table_keys(on_page[kind]) == [p["name"] for p in info["parameters"]], kind


def test_every_theory_and_leaderboard_rule_is_on_the_page(sections, ref) -> None:
    assert re.findall(r"^### `(.+)`$", sections["theory"], flags=re.M) == list(ref["theory"])
    for name, theory in ref["theory"].items():
        for observable in theory["observables"]:
            assert f"`{observable}`" in sections["theory"], (name, observable)
    assert _table_keys(sections["leaderboard"]) == list(ref["leaderboard"]["rules"])


def test_the_drift_window_and_the_convergence_gate_are_documented(sections) -> None:
    assert "### `loss_slope`" in sections["observable"]
    assert "| `leave_one_out` |" in sections["observable"]


def test_table_rows_keep_their_columns(hooks, ref) -> None:
    """Pipes in types (``holm | bonferroni``) and text (``|t − s|``) do not split a cell."""
    markdown = hooks.reference_markdown(ref)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert rows
    for row in rows:
        header = 2 if row.startswith("| rule |") or "| **" in row[:4] else 5
        assert len(_cells(row)) == header, row


def test_text_is_escaped_outside_code(hooks) -> None:
    assert hooks.inline("results/<suite>.zarr, a | b, *x*, `a|b`") == r"results/&lt;suite&gt;.zarr, a \| b, \*x\*, `a|b`"
    assert hooks.default("(required)") == r"(required)"
    assert hooks.default("holm") == '`"holm"`'
    assert hooks.default(None) == "`null`"


def test_the_hook_fills_only_the_suite_language_page(hooks) -> None:
    def page(uri: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(file=types.SimpleNamespace(src_uri=uri))

    source = (DOCS / "suite-language.md").read_text(encoding="utf-8")
    assert source.count(hooks.MARKER) == 1
    filled = hooks.on_page_markdown(source, page=page("suite-language.md"), config=None, files=None)
    assert hooks.MARKER not in filled and "## Observable kinds" in filled
    assert hooks.on_page_markdown(hooks.MARKER, page=page("index.md"), config=None, files=None) == hooks.MARKER
    with pytest.raises(ValueError, match="marker"):
        hooks.on_page_markdown("no marker", page=page("suite-language.md"), config=None, files=None)


def test_the_reports_page_holds_every_shipped_report_verbatim_one_level_down(hooks) -> None:
    """docs/reports.md is filled with each results/*.score.md in full, version 3 first, each heading
    one level deeper — so the page is the committed reports and a new report cannot be left out."""

    def page(uri: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(file=types.SimpleNamespace(src_uri=uri))

    root = DOCS.parent
    source = (DOCS / "reports.md").read_text(encoding="utf-8")
    assert source.count(hooks.REPORTS_MARKER) == 1
    config = {"config_file_path": str(root / "mkdocs.yml")}
    filled = hooks.on_page_markdown(source, page=page("reports.md"), config=config, files=None)
    reports = sorted((root / "results").glob("*.score.md"))
    assert reports
    for report in reports:
        lines = report.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# ")
        assert "\n#" + lines[0] + "\n" in filled  # the title, one level down
        body = [line for line in lines if line.startswith("| ")]
        assert all(line in filled for line in body), report.name  # every table row, unchanged
    titles = [line for line in filled.splitlines() if line.startswith("## ")]
    assert titles[0].startswith("## rg-paper-v3:")
    assert not any(line.startswith("# ") for line in filled.splitlines()[1:])  # one page title
    with pytest.raises(ValueError, match="marker"):
        hooks.on_page_markdown("no marker", page=page("reports.md"), config=config, files=None)
