"""The shipped reference stores score exactly as the committed score files (README and docs/results.md) say."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pytest

from rgbench.score import score_store

RESULTS = Path(__file__).resolve().parents[1] / "results"
SHIPPED = sorted([*RESULTS.glob("*.score.json"), *RESULTS.glob("archive/*.score.json")])

# Scoring a shipped store takes seconds to tens of seconds and several tests need the same store's
# report (its committed score, a leaderboard, the results page): each store is scored once per worker,
# and every test of this module runs on one worker (`--dist loadfile`, pyproject.toml).


@functools.cache
def _scored(store: str):
    """`rgbench score results/STORE` (the suite its provenance records), its `store` field the relative
    path the scripts and CLI pass (what a leaderboard built from that path lists as its source)."""
    return dataclasses.replace(score_store(RESULTS.parent / store), store=store)


def _board(stores: list[str], **kw):
    """build_leaderboard of the stores (paths relative to the repository root) from their cached reports."""
    from rgbench.leaderboard import build_leaderboard

    return build_leaderboard([_scored(s) for s in stores], **kw)


@pytest.mark.parametrize("score_file", SHIPPED, ids=[str(p.relative_to(RESULTS)) for p in SHIPPED])
def test_shipped_store_scores_as_committed(score_file):
    committed = json.loads(score_file.read_text())
    store = score_file.with_name(score_file.name.replace(".score.json", ".zarr"))
    source = committed.get("suite_source")  # the suite file it was scored with (scripts/rescore-results.sh)
    if source in (None, "store"):
        report = _scored(str(store.relative_to(RESULTS.parent)))
    else:
        report = score_store(store, RESULTS.parent / source)
    fresh = json.loads(report.to_json())

    def key(p):
        return p["case"], p["claim"]

    assert sorted(map(key, fresh["predictions"])) == sorted(map(key, committed["predictions"]))
    by_claim = {key(p): p for p in committed["predictions"]}
    for p in fresh["predictions"]:
        c = by_claim[key(p)]
        assert p["verdict"] == c["verdict"], key(p)
        assert p["seeds_passing"] == c["seeds_passing"], key(p)
        assert p["seeds"] == c["seeds"], key(p)
        if c["statistic"] is not None:
            assert p["statistic"] == pytest.approx(c["statistic"], rel=1e-9, abs=1e-12)
            assert p["ci"] == pytest.approx(c["ci"], rel=1e-9, abs=1e-12)


def test_readme_quotes_the_rg_paper_verdicts():
    """The results page's rg-paper-v2 table has one row per prediction, its final verdict in bold in the last column."""
    committed = json.loads((RESULTS / "rg-paper-v2.score.json").read_text())
    page = (RESULTS.parent / "docs" / "results.md").read_text()
    table = page.split("\n## rg-paper-v2", 1)[1].split("\n## ", 1)[0]
    last = [line.rstrip().rstrip("|").rsplit("|", 1)[1].strip() for line in table.splitlines() if line.startswith("| ")]
    for verdict in ("PASS", "NONSPECIFIC", "FAIL", "INCONCLUSIVE", "ERROR"):
        n = sum(p["verdict"] == verdict for p in committed["predictions"])
        assert sum(cell.startswith(f"**{verdict}**") for cell in last) == n, verdict
    moved = [p for p in committed["predictions"] if p.get("previous_verdict")]
    assert sum("(was " in cell for cell in last) == len(moved)


def test_the_v1_leaderboard_is_what_the_v1_stores_give():
    """results/archive/LEADERBOARD-v1.md is exactly `rgbench leaderboard` of the version-1 stores, as
    scripts/regenerate-results.sh builds it (store paths relative to the repository root, as the board
    lists its sources: `_scored` gives each report that path)."""
    stores = ["results/archive/rg-paper-v1.zarr", "results/archive/controls-v1.zarr", "results/archive/architectures-v1.zarr"]
    assert all((RESULTS.parent / s).is_dir() for s in stores)
    assert _board(stores).to_markdown() == (RESULTS / "archive" / "LEADERBOARD-v1.md").read_text()


@pytest.mark.parametrize("page", ["README.md", "docs/results.md"])
def test_readme_quotes_every_shipped_suite_count(page):
    """README's results table, and the results page's, has a row per shipped suite, its last cell the
    suite's verdict counts exactly (`N PASS, N NONSPECIFIC, N FAIL, N INCONCLUSIVE, N ERROR`)."""
    readme = (RESULTS.parent / page).read_text()
    table = readme.split("| suite | what |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells[-1].endswith(" ERROR"):
            rows[cells[0].split("`")[1]] = cells[-1]
    for score_file in SHIPPED:
        counts = json.loads(score_file.read_text())["counts"]
        name = str(score_file.relative_to(RESULTS)).removesuffix(".score.json")
        expected = ", ".join(f"{counts[v]} {v}" for v in ("PASS", "NONSPECIFIC", "FAIL", "INCONCLUSIVE", "ERROR"))
        assert rows.get(name) == expected, (name, rows.get(name), expected)
    assert len(rows) == len(SHIPPED), sorted(rows)


V2 = [
    p
    for p in SHIPPED
    if p.name
    in (
        "rg-paper-v2.score.json",
        "noise.score.json",
        "architectures-full.score.json",
        "architectures-v2.score.json",
        "rg-paper-v3.score.json",
        "architectures-v3.score.json",
    )
]


@pytest.mark.parametrize("score_file", V2, ids=[p.name for p in V2])
def test_every_shipped_v2_pass_is_specific(score_file):
    """A PASS of a pre-registered (v2) suite has FAILed on every one of its nulls; its RG claims all have nulls."""
    for p in json.loads(score_file.read_text())["predictions"]:
        if p["claim"].startswith(("(i)", "(ii)", "(iii)", "(N")):
            assert p["nulls"], p["claim"]
        if p["verdict"] == "PASS":
            assert all(n["verdict"] == "FAIL" for n in p["nulls"]), (p["case"], p["claim"])
        if p["verdict"] == "NONSPECIFIC":
            assert any(n["verdict"] in ("PASS", "INCONCLUSIVE") for n in p["nulls"]), (p["case"], p["claim"])


def test_the_v2_leaderboard_is_what_the_v2_stores_give():
    """results/archive/LEADERBOARD-v2.md is exactly `rgbench leaderboard` of the version-2 stores."""
    stores = ["results/rg-paper-v2.zarr", "results/architectures-full.zarr", "results/architectures-v2.zarr"]
    assert all((RESULTS.parent / s).is_dir() for s in stores)
    board = _board(stores, figures_from=["short-xi", "mixer-short-xi", "windowed-short-xi", "transformer-short-xi"])
    assert board.to_markdown() == (RESULTS / "archive" / "LEADERBOARD-v2.md").read_text()


def test_the_leaderboard_is_what_the_v3_stores_give():
    """results/LEADERBOARD.md is `rgbench leaderboard` of the version-3 stores as committed (as
    scripts/rescore-results.sh builds it): every family ranked, none PEND (a family whose cases are
    not all stored would show PEND and not be ranked)."""
    stores = ["results/rg-paper-v3.zarr", "results/architectures-v3.zarr"]
    board = _board(stores, figures_from=["short-xi", "mixer-short-xi", "windowed-short-xi", "transformer-short-xi"])
    assert board.to_markdown() == (RESULTS / "LEADERBOARD.md").read_text()
    ranked = {r.label.split()[0] for r in board.rows}
    assert ranked == {"tokenwise", "mixer", "windowed", "transformer"}  # every family, its cases all stored
    assert not board.unranked  # nothing PEND: architectures-v3 is whole


def test_the_noise_suites_init_nulls_are_flagged_uninformative_and_warned_about():
    """The three nulls that compare two cases differing only in training at init are 0.0 in every seed:
    the scorer flags them, and `rgbench validate` names the same three from the suite alone."""
    from rgbench.suite import load_suite

    report = json.loads((RESULTS / "noise.score.json").read_text())
    flagged = [(p["case"], n["ref"]) for p in report["predictions"] for n in p["nulls"] if n["uninformative"]]
    assert len(flagged) == 3 and all(ref == "init" for _, ref in flagged)
    assert all(
        n["statistic"] == 0.0 for p in report["predictions"] for n in p["nulls"] if n["uninformative"]
    )  # exactly 0, by construction
    warnings = load_suite(RESULTS.parent / "suites" / "noise.yaml").warnings
    assert sorted(str(w).split("cases[")[1].split("]")[0] for w in warnings) == sorted(case for case, _ in flagged)


def test_the_v2_boards_cost_columns_are_the_networks_own():
    """Each row's parameter count is the number of scalars its network holds (built here), and its
    training FLOPs per seed are 3 × steps × batch × the network's forward FLOPs per sequence."""
    import equinox as eqx
    import jax

    from rgbench.registry import ARCHITECTURES

    board = _board(["results/architectures-full.zarr", "results/architectures-v2.zarr"], n_resamples=50)
    assert len(board.rows) == 3
    for row in board.rows:
        arch = ARCHITECTURES[row.architecture["kind"]].model_validate(row.architecture)
        net = arch.build(16, 64, key=jax.random.key(0))
        assert row.params == sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(net, eqx.is_inexact_array)))
        assert row.train_flops == pytest.approx(3 * 2500 * 32 * arch.cost(16, 64).flops)
        assert row.wall_per_seed > 0


@pytest.mark.parametrize("store", sorted([*RESULTS.glob("*.zarr"), *(RESULTS / "archive").glob("*.zarr")]), ids=lambda p: p.name)
def test_every_shipped_store_verifies(store):
    """No case of a shipped store is corrupted, interrupted or incomplete; a case its suite expects is
    absent only from a store still being computed (one without its score report yet: `verify --partial`)."""
    from rgbench.store import Store

    states = {c.case_id: c.state for c in Store(str(store)).check_all()}
    assert states and all(s in ("complete", "unverified", "missing") for s in states.values()), states
    if store.with_suffix(".score.json").is_file():
        assert "missing" not in states.values(), states


def _script(name: str):
    """scripts/NAME.py as a module (the scripts are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, RESULTS.parent / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V3_TABLES = [p for p in SHIPPED if p.name in ("rg-paper-v3.score.json", "architectures-v3.score.json", "controls-v2.score.json")]


@pytest.mark.parametrize("score_file", V3_TABLES, ids=[p.name for p in V3_TABLES])
def test_the_results_page_quotes_each_v3_claims_table_as_the_script_prints_it(score_file):
    """docs/results.md holds `python scripts/claims_table.py REPORT` of every version-3 report verbatim,
    so the page's statistics, intervals, verdicts and nulls are the committed report's."""
    module = _script("claims_table")
    table = module.table(json.loads(score_file.read_text()))
    assert table.count("\n| ") >= 1
    assert table in (RESULTS.parent / "docs" / "results.md").read_text()


def test_the_results_page_quotes_every_finished_v3_familys_table_as_the_script_scores_it_from_the_store():
    """An architectures-v3 family's verdicts are final once its five cases are stored (its own Holm family,
    its own margins), even while the store's other families are being computed: docs/results.md quotes
    the rows of `claims_table.py results/architectures-v3.zarr --family F` for every family none of
    whose claims is pending — the store scored as it stands (the whole store's table, once there, holds
    the same rows) — and the mixer, whose cases are all committed, is one of them."""
    from rgbench.leaderboard._rankings import _pending

    module = _script("claims_table")
    report = _scored("results/architectures-v3.zarr")
    claims = [p for p in report.predictions if p.purpose == "claim"]
    finished = [
        f for f in dict.fromkeys(p.family for p in claims) if not any(_pending(report, p) for p in claims if p.family == f)
    ]
    assert set(finished) == {"mixer", "windowed", "transformer"}
    page = (RESULTS.parent / "docs" / "results.md").read_text()
    readme = (RESULTS.parent / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `architectures-v3`"))
    for family in finished:
        rows = module.table(json.loads(report.to_json()), family=family).splitlines()[2:]
        assert len(rows) == 7 and all(r.startswith(f"| {family}-") for r in rows), family
        assert "\n".join(rows) in page, f"docs/results.md lacks the {family} family's claims table"
        counts = ", ".join(f"{n} {v}" for v, n in report.family_counts[family].items())
        assert f"{family}: {counts}" in row, (family, counts, row)  # README's results table gives its counts


def test_the_results_page_quotes_the_drift_window_table_as_the_script_prints_it():
    """docs/results.md quotes `python scripts/drift_window.py` (version 2's drift ratio per window, the
    reason for version 3's fixed window and leave-one-out rule) as the script computes it from the store."""
    module = _script("drift_window")
    table = module.table(RESULTS / "architectures-full.zarr")
    assert "| mixer-short-xi | 1.185 | 0.993 | 1.068 | 1.068 |" in table.splitlines()
    page = (RESULTS.parent / "docs" / "results.md").read_text()
    assert "\n".join("   " + line for line in table.splitlines()) in page
