"""Leaderboard: rows by architecture, bootstrap rank intervals, refusal to mix data formats."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import numpy as np
import pytest
from helpers import ALT, case, pred, suite, synthetic_case

from rgbench import leaderboard as LB
from rgbench import score as S
from rgbench.cli import build_parser

MONO = {"kind": "monotone", "spearman_at_most": -0.9, "seeds_at_least": 0.8}
SELECTIVE = {"kind": "difference", "compare_to": "long-xi", "at_least": 0.0}


def _predictions():
    return [
        pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:"),
        pred("rank_collapse", SELECTIVE, claim="collapse is selective"),
        pred("kernel_drift", {"kind": "concentration"}, claim="drift concentrates"),
    ]


def _report(kind: str, *, short_erank=None, drift=None, name="s", version=None, store=None, wall=10.0) -> S.Report:
    s = suite(case("short-xi", _predictions(), kind=kind), case("long-xi", [], kind=kind, xi=6.7), name=name)
    d = {
        "short-xi": synthetic_case("short-xi", erank=short_erank, drift=drift, architecture=kind, wall_seconds=wall),
        "long-xi": synthetic_case("long-xi", erank=np.full(7, 15.0), xi=6.7, architecture=kind, wall_seconds=wall),
    }
    if version is not None:
        for ds in d.values():
            ds.attrs["data_format_version"] = version
    rep = S.score_datasets(d, s, store=store or f"{name}.zarr")
    if version is not None:  # a store of another format: the report records it
        rep.data_format_version = version
    return rep


def test_rows_by_architecture_and_clear_ranking():
    good = _report("tokenwise", store="a.zarr")
    rising = 5 + 1.5 * np.arange(7.0)
    bad = _report("mixer", short_erank=rising, drift=np.full(6, 0.05), store="b.zarr")
    board = LB.build_leaderboard([bad, good], n_resamples=500)
    assert [r.label for r in board.rows] == ["tokenwise L=6 d=64", "mixer L=6 d=64"]
    top, bottom = board.rows
    assert (top.agreed, top.scored, top.errors) == (3, 3, 0)
    assert top.rank == (1, 1)
    assert (bottom.agreed, bottom.scored) == (0, 3)
    assert bottom.rank == (2, 2)
    assert top.verdicts == {"erank falls with depth": "PASS", "collapse is selective": "PASS", "drift concentrates": "PASS"}
    assert board.claims == ["erank falls with depth", "collapse is selective", "drift concentrates"]  # one column each
    assert set(bottom.verdicts.values()) == {"FAIL"}
    # figures average both cases: collapse (7.5 + 0) / 2; gap to the Bayes floor 1.8 − 1.65
    assert top.figures["collapse"].value == pytest.approx(3.75)
    assert top.figures["loss_gap_bayes"].value == pytest.approx(0.15)
    assert top.wall_seconds == 20.0
    only_short = LB.build_leaderboard([good], figures_from=["short-xi"], n_resamples=200)
    assert only_short.rows[0].figures["collapse"].value == pytest.approx(7.5)


def test_ties_show_as_overlapping_intervals():
    # identical data under two architectures: the same agreement in every replicate
    a = _report("tokenwise", store="a.zarr")
    b = _report("mixer", store="b.zarr")
    board = LB.build_leaderboard([a, b], n_resamples=300)
    r1, r2 = board.rows
    assert r1.rank == r2.rank == (1, 1)
    # noisy, borderline data under two architectures: intervals overlap, neither is ranked apart
    noisy = 15 - (1.5 + ALT[:, None] * 1.4) * np.arange(7.0)  # half the seeds barely fall
    c = _report("tokenwise", short_erank=noisy, store="c.zarr")
    d = _report("mixer", short_erank=noisy, store="d.zarr")
    board = LB.build_leaderboard([c, d], n_resamples=500)
    r1, r2 = board.rows
    assert r1.rank[0] <= r2.rank[1]
    assert r2.rank[0] <= r1.rank[1]
    assert r1.rank != (1, 1) or r2.rank != (2, 2)
    md = board.to_markdown()
    assert "rank (95 % CI)" in md
    assert "–" in md  # intervals, never bare ranks


def test_refuses_mixed_data_formats():
    a = _report("tokenwise", store="old.zarr", version=1)
    b = _report("mixer", store="new.zarr", version=2)
    with pytest.raises(LB.MixedFormatError, match=r"v1 \(old.zarr\).*v2 \(new.zarr\).*rgbench run"):
        LB.build_leaderboard([a, b])


def test_error_counts_as_scored_not_agreed():
    s = suite(case("short-xi", _predictions(), kind="tokenwise"), case("long-xi", [], kind="tokenwise"))
    d = {"short-xi": synthetic_case("short-xi"), "long-xi": synthetic_case("long-xi", status="diverged")}
    row = LB.build_leaderboard([S.score_datasets(d, s, store="x.zarr")], n_resamples=200).rows[0]
    assert (row.agreed, row.scored, row.errors, row.pending) == (2, 3, 1, 0)
    assert row.verdicts["collapse is selective"] == "ERROR"


def test_a_case_not_yet_in_its_store_leaves_its_claims_pending_not_errors(tmp_path):
    """A store still being computed: a claim that compares with a missing case is PENDING — neither
    scored nor an ERROR — and an architecture whose every claim waits is listed apart, not ranked."""
    contrast = pred("rank_collapse", SELECTIVE, claim="collapse is selective", nulls=[{"stage": "init"}])
    s = suite(
        case("short-xi", [*_predictions()[::2], contrast], kind="tokenwise"),  # its init null reads long-xi too
        case("long-xi", [], kind="tokenwise"),
        case("m", [pred("effective_rank", MONO, claim="erank falls with depth")], kind="mixer"),
    )
    s.multiplicity = "none"  # no family waits on its pending claim (test_a_claim_whose_family_waits…)
    rep = S.score_datasets({"short-xi": synthetic_case("short-xi")}, s, store="x.zarr")  # long-xi and m missing
    assert [p.verdict for p in rep.predictions].count(S.Verdict.ERROR) == 2  # the scorer: nothing passes on missing data
    board = LB.build_leaderboard([rep], n_resamples=200)
    (row,) = board.rows
    assert (row.agreed, row.scored, row.errors, row.pending) == (2, 2, 0, 1)
    assert row.verdicts["collapse is selective"] == "PENDING"
    assert row.agreement.value == 1.0 and row.rank == (1, 1)
    assert [(r.label, r.pending, r.scored) for r in board.unranked] == [("mixer L=6 d=64", 1, 0)]
    md = board.to_markdown()
    assert "| PEND |" in md and "| ERR" not in md and "(1 ERROR)" not in md
    assert "- mixer L=6 d=64: synthetic/m — 1 claim pending, 1 of its 1 cases not stored yet" in md
    assert "PEND (PENDING): the claim needs a case" in md and "rgbench verify STORE --partial" in md
    assert json.loads(board.to_json())["rows"][0]["pending"] == 1
    page = board.to_html()
    assert "mixer L=6 d=64: synthetic/m — 1 claim pending" in page and "PEND (PENDING)" in page
    assert row.cells["collapse is selective"][0]["statistic"] is None  # no number shown for a pending claim
    from rgbench._heatmap import plot_heatmap

    svg = plot_heatmap(board, tmp_path / "h.svg").read_text()
    assert "pending: mixer L=6 d=64" in svg and "1. tokenwise L=6 d=64" in svg and "PEND" in svg  # drawn last, unranked
    complete = LB.build_leaderboard([_report("tokenwise", store="a.zarr")], n_resamples=200)
    assert "PEND" not in complete.to_markdown() and complete.rows[0].pending == 0


def test_an_error_with_a_cause_of_its_own_stays_error_while_another_case_is_missing():
    """A claim whose own case diverged is ERROR for good, even while its null's case is not stored yet."""
    s = suite(
        case("short-xi", [pred("effective_rank", MONO, claim="erank falls with depth", nulls=["iid"])], kind="tokenwise"),
        case("iid", [], kind="tokenwise"),
    )
    rep = S.score_datasets({"short-xi": synthetic_case("short-xi", status="diverged")}, s, store="x.zarr")  # iid missing
    (row,) = LB.build_leaderboard([rep], n_resamples=100).rows
    assert (row.verdicts["erank falls with depth"], row.errors, row.pending, row.missing) == ("ERROR", 1, 0, 1)


def test_a_claim_whose_family_waits_on_a_case_is_pending_too():
    """Holm adjusts a family's claims together: while one claim of a family waits on a case, the others'
    adjusted verdicts can still change, so they are PEND too; another family's claims are final."""
    waits = pred("rank_collapse", SELECTIVE, claim="collapse is selective", family="a")
    same = pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:", family="a")
    other = pred("kernel_drift", {"kind": "concentration"}, claim="drift concentrates", family="b")
    s = suite(case("short-xi", [waits, same, other], kind="tokenwise"), case("long-xi", [], kind="tokenwise"))
    rep = S.score_datasets({"short-xi": synthetic_case("short-xi")}, s, store="x.zarr")  # long-xi missing
    assert rep.predictions[1].verdict is S.Verdict.PASS  # the scorer's verdict, adjusted over the decided claims
    (row,) = [*LB.build_leaderboard([rep], n_resamples=100).rows, *LB.build_leaderboard([rep], n_resamples=100).unranked]
    assert row.verdicts == {"collapse is selective": "PENDING", "erank falls with depth": "PENDING", "drift concentrates": "PASS"}
    assert (row.scored, row.pending) == (1, 2)
    s.multiplicity = "none"  # no correction: a family's claims do not wait on each other
    rep = S.score_datasets({"short-xi": synthetic_case("short-xi")}, s, store="x.zarr")
    (row,) = [*LB.build_leaderboard([rep], n_resamples=100).rows, *LB.build_leaderboard([rep], n_resamples=100).unranked]
    assert row.verdicts["erank falls with depth"] == "PASS" and row.pending == 1


def test_a_row_with_a_shared_claim_pending_is_not_ranked_and_the_others_keep_their_basis():
    """The claims a ranking is on are those every row states, pending or not: while one of a row's shared
    claims waits on a case the row is listed apart, and the complete rows keep the same scores."""
    complete = _report("tokenwise", store="a.zarr")
    s = suite(case("short-xi", _predictions(), kind="mixer"), case("long-xi", [], kind="mixer", xi=6.7))
    s.multiplicity = "none"  # only the claim that reads long-xi waits
    waiting = S.score_datasets({"short-xi": synthetic_case("short-xi", architecture="mixer")}, s, store="b.zarr")
    alone = LB.build_leaderboard([complete], n_resamples=200)
    board = LB.build_leaderboard([complete, waiting], n_resamples=200)
    assert board.shared == alone.shared == ["erank falls with depth", "collapse is selective", "drift concentrates"]
    assert [r.label for r in board.rows] == ["tokenwise L=6 d=64"]
    assert board.rows[0].score.value == pytest.approx(alone.rows[0].score.value)
    (mixer,) = board.unranked
    assert (mixer.label, mixer.scored, mixer.pending, mixer.missing) == ("mixer L=6 d=64", 2, 1, 1)
    assert mixer.verdicts["collapse is selective"] == "PENDING" and mixer.verdicts["drift concentrates"] == "PASS"


def test_nonspecific_is_not_support_and_has_its_own_column():
    with_null = [pred("effective_rank", MONO, claim="erank falls with depth", nulls=["iid"]), *_predictions()[1:]]
    s = suite(case("short-xi", with_null), case("long-xi", [], xi=6.7), case("iid", []))
    flat = np.full(7, 15.0)
    d = {
        "short-xi": synthetic_case("short-xi"),
        "long-xi": synthetic_case("long-xi", erank=flat),
        "iid": synthetic_case("iid"),
    }  # i.i.d. input falls with depth just as much: the claim is not specific
    row = LB.build_leaderboard([S.score_datasets(d, s, store="x.zarr")], n_resamples=300).rows[0]
    assert (row.agreed, row.scored, row.nonspecific) == (2, 3, 1)
    assert row.verdicts["erank falls with depth"] == "NONSPECIFIC"
    # the resampled agreement never counts the nonspecific claim: at most 2 of 3 in every replicate
    assert row.agreement.value == pytest.approx(2 / 3)
    assert row.agreement.hi == pytest.approx(2 / 3)
    assert "| 2 / 3 | 1 |" in LB.build_leaderboard([S.score_datasets(d, s, store="x.zarr")], n_resamples=100).to_markdown()
    d["iid"] = synthetic_case("iid", erank=flat)
    clean = LB.build_leaderboard([S.score_datasets(d, s, store="y.zarr")], n_resamples=300).rows[0]
    assert (clean.agreed, clean.nonspecific) == (3, 0)
    assert clean.agreement.hi == pytest.approx(1.0)


def test_one_claim_from_two_suites_shares_a_column():
    a = _report("tokenwise", store="a.zarr")
    b = _report("tokenwise", short_erank=np.full(7, 15.0), store="b.zarr")  # the same architecture, erank flat
    board = LB.build_leaderboard([a, b], n_resamples=100)
    (row,) = board.rows
    assert len(board.claims) == 3
    assert row.scored == 6
    assert row.verdicts["erank falls with depth"] == "PASS / FAIL"
    assert "| PASS/FAIL |" in board.to_markdown()


def test_formats_and_cli(tmp_path, capsys):
    good = _report("tokenwise", store="a.zarr")
    bad = _report("mixer", short_erank=np.full(7, 15.0), store="b.zarr")
    board = LB.build_leaderboard([good, bad], n_resamples=200)
    d = json.loads(board.to_json())
    assert set(d) == {
        "name",
        "trained",
        "figures_from",
        "rankings",
        "sources",
        "data_format_version",
        "n_resamples",
        "claims",
        "claim_texts",
        "claim_tests",
        "shared_claims",
        "probability_of_beating",
        "commits",
        "rows",
        "unranked",
    }
    assert set(d["rows"][0]) == {
        "label",
        "ranking",
        "architecture",
        "cases",
        "rank",
        "agreed",
        "scored",
        "errors",
        "nonspecific",
        "agreement",
        "verdicts",
        "diagnostics",
        "figures",
        "wall_seconds",
        "params",
        "train_flops_per_seed",
        "wall_seconds_per_seed",
        "wall_extrapolated",
        "pending",
        "missing",
        "cells",
        "score",
    }
    rows = list(csv.DictReader(io.StringIO(board.to_csv())))
    assert rows[0]["architecture"] == "tokenwise L=6 d=64"
    assert rows[0]["rank_lo"] == "1"
    assert rows[0]["erank falls with depth"] == "PASS"
    page = board.to_html()
    assert page.startswith("<!doctype html>")
    assert "<table" in page
    assert "tokenwise L=6 d=64" in page

    # the CLI reads report JSON files as well as stores
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(good.to_json())
    pb.write_text(bad.to_json())
    parser = build_parser()
    out = tmp_path / "board" / "LEADERBOARD.md"
    args = parser.parse_args(["leaderboard", str(pa), str(pb), "--out", str(out)])
    assert args.func(args) == 0
    text = out.read_text()
    assert "| 1 | tokenwise L=6 d=64 | 3 / 3 | 0 |" in text
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}")
    args = parser.parse_args(["leaderboard", str(bogus), "--format", "csv"])
    assert args.func(args) == 2
    assert "score report" in capsys.readouterr().err


def test_rows_without_scored_claims_are_listed_apart_and_not_ranked():
    good = _report("tokenwise", store="a.zarr")
    silent = S.score_datasets(
        {"c": synthetic_case("c", architecture="mixer")}, suite(case("c", [], kind="mixer")), store="b.zarr"
    )  # a mixer case with no predictions
    board = LB.build_leaderboard([good, silent], n_resamples=200)
    assert [r.label for r in board.rows] == ["tokenwise L=6 d=64"]
    assert board.rows[0].rank == (1, 1)
    assert [r.label for r in board.unranked] == ["mixer L=6 d=64"]
    md = board.to_markdown()
    assert "| mixer" not in md
    assert "Not ranked — no scored claims" in md
    assert "- mixer L=6 d=64: synthetic/c" in md
    assert json.loads(board.to_json())["unranked"][0]["label"] == "mixer L=6 d=64"


def _report_with(predictions, kind: str, *, store: str, name: str = "s") -> S.Report:
    s = suite(case("short-xi", predictions, kind=kind), case("long-xi", [], kind=kind, xi=6.7), name=name)
    d = {
        "short-xi": synthetic_case("short-xi", architecture=kind),
        "long-xi": synthetic_case("long-xi", erank=np.full(7, 15.0), xi=6.7, architecture=kind),
    }
    return S.score_datasets(d, s, store=store)


def test_diagnostics_are_badges_never_support():
    """A passing diagnostic adds nothing to a row's support and a failing one costs it nothing: the
    rows rank on their claims; a diagnostic that did not pass is listed beside the row."""
    claim = pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:")
    passing = pred("effective_rank", MONO, claim="setup works", stage="trained", layers="1:", purpose="diagnostic")
    failing = pred("kernel_drift", {"kind": "threshold", "at_least": 10.0}, claim="drift is huge", purpose="diagnostic")
    a = _report_with([claim, passing], "tokenwise", store="a.zarr")
    b = _report_with([claim, failing], "mixer", store="b.zarr")
    board = LB.build_leaderboard([a, b], n_resamples=200)
    rows = {r.label.split()[0]: r for r in board.rows}
    assert (rows["tokenwise"].agreed, rows["tokenwise"].scored) == (1, 1)
    assert (rows["mixer"].agreed, rows["mixer"].scored) == (1, 1)
    assert rows["tokenwise"].rank == rows["mixer"].rank  # the same claims, the same verdicts
    assert board.claims == ["erank falls with depth"]  # diagnostics get no column
    assert rows["tokenwise"].badges == [] and rows["mixer"].badges == ["FAIL: drift is huge"]
    assert "FAIL: drift is huge" in board.to_markdown()


def test_claims_line_up_by_id_whatever_their_words():
    """Two suites that state one claim in different words but with the same id share its column, named
    by the id; a claim without an id keeps a column of its own, named C1, C2, …"""
    one = pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:", id="rg.i.monotone")
    other = pred("effective_rank", MONO, claim="rank decreases along layers", stage="trained", layers="1:", id="rg.i.monotone")
    plain = pred("kernel_drift", {"kind": "concentration"}, claim="drift concentrates")
    board = LB.build_leaderboard(
        [_report_with([one, plain], "tokenwise", store="a.zarr"), _report_with([other], "mixer", store="b.zarr", name="t")],
        n_resamples=200,
    )
    assert board.claims == ["rg.i.monotone", "drift concentrates"]
    assert all(r.verdicts["rg.i.monotone"] == "PASS" for r in board.rows)
    md = board.to_markdown()
    assert "| rg.i.monotone | C2 |" in md
    assert "- rg.i.monotone: erank falls with depth" in md and "- C2: drift concentrates" in md
    assert json.loads(board.to_json())["claim_texts"]["rg.i.monotone"] == "erank falls with depth"


def test_heatmap_and_html_page(tmp_path):
    """`rgbench leaderboard --heatmap --html`: a PNG and an SVG whose cells name each claim's verdict and
    statistic (a claim a row does not test says so), and one HTML page that needs no network: the
    sortable table, the heatmap embedded, every claim with its test and pass region."""
    from rgbench._heatmap import plot_heatmap
    from rgbench.cli import main

    plain = pred("kernel_drift", {"kind": "concentration"}, claim="drift concentrates")
    only_a = pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:", id="rg.i.monotone")
    a = _report_with([only_a, plain], "tokenwise", store="a.zarr")
    b = _report_with([plain], "mixer", store="b.zarr", name="t")
    board = LB.build_leaderboard([a, b], n_resamples=100)
    assert plot_heatmap(board, tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = plot_heatmap(board, tmp_path / "h.svg").read_text()
    assert "rg.i.monotone" in svg and "not tested" in svg and "PASS" in svg  # the mixer does not test rg.i.monotone
    # each cell's margin is what it adds to the score: the score is their mean over the shared claims
    assert board.shared and all(
        r.score.value == pytest.approx(np.mean([r.cells[k][0]["margin"] for k in board.shared])) for r in board.rows
    )
    assert all(f"margin {r.cells[k][0]['margin']:+.2f}" in svg for r in board.rows for k in board.shared)

    paths = []
    for rep, name in ((a, "a"), (b, "b")):
        (tmp_path / f"{name}.json").write_text(rep.to_json())
        paths.append(str(tmp_path / f"{name}.json"))
    page = tmp_path / "board.html"
    assert (
        main(["leaderboard", *paths, "--out", str(tmp_path / "b.md"), "--html", str(page), "--heatmap", str(tmp_path / "x.svg")])
        == 0
    )
    text = page.read_text()
    assert "<script>" in text and "addEventListener('click'" in text  # sortable columns
    assert "data:image/png;base64," in text  # the heatmap travels inside the page
    assert "http://" not in text and "https://" not in text and "<link" not in text  # nothing fetched
    assert "rg.i.monotone</b>: erank falls with depth — <i>monotone" in text and "pass region" in text
    assert (tmp_path / "x.svg").is_file()


def test_rows_that_share_no_claim_are_not_ranked_against_each_other():
    """Two stores with disjoint claim sets: two rankings, each row keeps its verdicts, nothing ranks
    one above the other; and in one ranking whose rows share no claim (A states X, B states X and Y,
    C states Y), no row is ranked at all."""
    drift = pred("kernel_drift", {"kind": "concentration"}, claim="drift concentrates")
    mono = pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:")
    a = _report_with([drift], "tokenwise", store="a.zarr")
    b = _report_with([mono], "mixer", store="b.zarr")
    board = LB.build_leaderboard([a, b], n_resamples=100)
    assert [len(x.rows) for x in board.sections] == [1, 1] and board.shared == []
    assert {r.ranking for r in board.rows} == {x.name for x in board.sections} and len(board.sections[0].name) > 0
    assert all(v == {} for x in board.sections for v in x.beats.values())  # nothing beats across rankings
    assert all(r.agreed == 1 for r in board.rows)  # each still PASSes its own claim
    md = board.to_markdown()
    assert md.count("## Ranking ") == 2 and "rank (95 % CI)" in md

    chain = [
        _report_with([drift], "tokenwise", store="a.zarr"),
        _report_with([drift, mono], "mixer", store="b.zarr"),
        _report_with([mono], "windowed", store="c.zarr"),
    ]
    board = LB.build_leaderboard(chain, n_resamples=100)
    assert board.sections == [] and len(board.rows) == 3  # one ranking: the reports share claims pairwise
    assert board.shared == [] and board.beats == {}
    assert all(r.rank_text == "—" and r.score is None for r in board.rows)
    assert "Not ranked: the rows share no claim" in board.to_markdown()


def test_a_claim_under_other_criteria_or_untrained_is_another_ranking():
    """The same claim text with another pass region (a version-1 criterion) and the same claim on an
    untrained network (a theory suite) never join the trained version-2 ranking; the same claim under
    the same criteria does, whatever case it compares with."""
    mono = pred("effective_rank", MONO, claim="erank falls with depth", stage="trained", layers="1:")
    looser = dict(MONO, seeds_at_least=0.6)
    v1 = pred("effective_rank", looser, claim="erank falls with depth", stage="trained", layers="1:")
    reports = [
        _report_with([mono], "tokenwise", store="a.zarr", name="v2"),
        _report_with([mono], "mixer", store="b.zarr", name="v2-other"),
        _report_with([v1], "windowed", store="c.zarr", name="v1"),
    ]
    untrained = _report_with([mono], "plain", store="d.zarr", name="theory")
    untrained.cases = {k: dataclasses.replace(cs, train={"steps": 0}) for k, cs in untrained.cases.items()}
    board = LB.build_leaderboard([*reports, untrained], n_resamples=100)
    names = [x.name for x in board.sections]
    assert names == ["v2 + v2-other", "v1", "theory (untrained)"]
    assert [len(x.rows) for x in board.sections] == [2, 1, 1]
    assert sorted(r.rank for r in board.sections[0].rows)[0][0] == 1  # the two v2 rows are ranked together
    assert board.sections[0].shared == ["erank falls with depth"]


def test_the_score_interval_has_zero_width_only_when_no_seed_varies():
    """The score resamples seeds and recomputes each claim's margin: constant seeds give a point,
    seeds that vary — even a claim that PASSes in every resample — give an interval of some width."""
    from rgbench.leaderboard._margins import standardized_margin

    collapse = pred("rank_collapse", {"kind": "threshold", "at_least": 0.0}, claim="training collapses rank", layers="1:")
    ell = np.arange(7.0)
    erank = 15.0 - (1.5 + 0.2 * ALT[:, None]) * ell  # every seed collapses, by different amounts
    s = suite(case("short-xi", [collapse]), name="s")
    varying = S.score_datasets({"short-xi": synthetic_case("short-xi", erank=erank)}, s, store="a.zarr")
    board = LB.build_leaderboard([varying], n_resamples=300)
    [row] = board.rows
    assert row.agreed == 1 and row.agreement.lo == row.agreement.hi  # decided alike in every resample: no width
    assert row.score.hi - row.score.lo > 0  # but the margin moves with the seeds

    flat = np.full((300, 10), 0.5)
    assert np.ptp(standardized_margin(flat, (0.0, None))) == 0  # constant seeds: one value, +3 (all inside)
    assert standardized_margin(np.full(10, 0.5), (0.0, None)) == pytest.approx(3.0)
    assert standardized_margin(np.full(10, 0.0), (0.0, None)) == 0.0  # on the bound
    v = np.array([1.0, 2.0, 3.0])  # mean 2, sd 1: margin 2 over ≥ 0, squashed
    assert standardized_margin(v, (0.0, None)) == pytest.approx(3 * np.tanh(2 / 3))
    assert standardized_margin(v, (None, 1.0)) == pytest.approx(3 * np.tanh(-1 / 3))
    assert standardized_margin(v, (1.5, 4.0)) == pytest.approx(3 * np.tanh(0.5 / 3))  # the nearer side


def test_a_claim_id_with_a_margin_per_family_is_one_column_and_one_ranking():
    """Two suites state the claim `rg.i.x` with margins set per architecture family (0 and 0.5): one
    column, one ranking; the same two claims without an id (keyed by their words) are two criteria,
    so two rankings."""
    at = lambda bound, **kw: pred("rank_collapse", {"kind": "threshold", "at_least": bound}, claim="collapse", layers="1:", **kw)  # noqa: E731
    with_id = [
        _report_with([at(0.0, id="rg.i.x")], "tokenwise", store="a.zarr", name="v3-tokenwise"),
        _report_with([at(0.5, id="rg.i.x")], "mixer", store="b.zarr", name="v3-architectures"),
    ]
    board = LB.build_leaderboard(with_id, n_resamples=100)
    assert board.sections == [] and board.claims == ["rg.i.x"] and board.shared == ["rg.i.x"]
    assert {len(r.cells["rg.i.x"]) for r in board.rows} == {1}
    without = [
        _report_with([at(0.0)], "tokenwise", store="a.zarr", name="v3-tokenwise"),
        _report_with([at(0.5)], "mixer", store="b.zarr", name="v3-architectures"),
    ]
    assert len(LB.build_leaderboard(without, n_resamples=100).sections) == 2


def test_reference_reports_are_the_shipped_score_reports_and_join_by_claims(tmp_path):
    """`--reference` adds the shipped stores' score reports (the package rgbench.results, from any
    directory): they are results/*.score.json, and a report that states none of their claims is a
    ranking of its own beside them."""
    from helpers import ROOT, run_rgbench

    found = LB.reference_reports()
    assert sorted(p.name for p in found) == sorted(p.name for p in (ROOT / "results").glob("*.score.json"))
    assert all(p.read_bytes() == (ROOT / "results" / p.name).read_bytes() for p in found)
    own = tmp_path / "own.score.json"
    own.write_text(
        _report_with(
            [pred("final_loss", {"kind": "threshold", "at_most": 9.0}, claim="mine")], "tokenwise", store="own.zarr"
        ).to_json()
    )
    out = run_rgbench("leaderboard", own, "--reference", "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rankings = json.loads(out.stdout)["rankings"]
    assert len(rankings) >= 2 and any(r["sources"] == ["own.zarr"] for r in rankings)


def test_a_resumed_cases_wall_time_is_extrapolated_and_marked():
    """A case resumed from a checkpoint recorded only the steps after the resume: the row's wall time
    adds its training time before the resume at the same rate, and every rendering marks it (~)."""
    s = suite(case("short-xi", _predictions()), case("long-xi", [], xi=6.7))
    for c in s.cases:
        c.train = {"steps": 1000}
    d = {
        "short-xi": synthetic_case("short-xi", wall_seconds=10.0),
        "long-xi": synthetic_case("long-xi", erank=np.full(7, 15.0), xi=6.7, wall_seconds=10.0),
    }
    whole = LB.build_leaderboard([S.score_datasets(d, s, store="a.zarr")], n_resamples=100)
    assert whole.rows[0].wall_seconds == 20.0 and not whole.rows[0].wall_extrapolated
    assert "~ in a wall-time column" not in whole.to_markdown()
    steps = 1000
    d["short-xi"].attrs.update(train_seconds=6.0, train_resumed_from_step=steps // 4)  # 3/4 of the steps took 6 s
    rep = S.score_datasets(d, s, store="a.zarr")
    assert rep.cases["short-xi"].train_resumed_from_step == steps // 4
    assert S.Report.from_json(rep.to_json()).cases["short-xi"].train_resumed_from_step == steps // 4
    board = LB.build_leaderboard([rep], n_resamples=100)
    (row,) = board.rows
    assert row.wall_seconds == pytest.approx(20.0 + 6.0 * (steps // 4) / (steps - steps // 4)) and row.wall_extrapolated
    md = board.to_markdown()
    assert f"| ~{row.wall_seconds:.0f} s |" in md and "~ in a wall-time column" in md
    assert json.loads(board.to_json())["rows"][0]["wall_extrapolated"] is True
    assert "~ in a wall-time column" in board.to_html()
