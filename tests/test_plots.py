"""Plots: PNG figures per case and one self-contained HTML report."""

from __future__ import annotations

import argparse

import numpy as np
from test_score import case, e2e_store, pred, suite, synthetic_case

from rgbench import leaderboard as LB
from rgbench import plots as PL
from rgbench import score as S

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_datasets_writes_pngs_and_one_html(tmp_path):
    s = suite(case("short-xi", [pred("effective_rank", {"kind": "monotone"}, claim="erank falls <fast>")]),
              case("long-xi[input.xi=6.7]", []))
    dsets = {"short-xi": synthetic_case("short-xi"),
             "long-xi[input.xi=6.7]": synthetic_case("long-xi", erank=np.full(7, 15.0), xi=6.7).drop_vars(
                 ["loss", "kernel_drift", "update_ratio", "effective_rank_pooled"])}
    report = S.score_datasets(dsets, s, store="mem.zarr")
    board = LB.build_leaderboard([report], n_resamples=100)
    out = PL.plot_datasets(dsets, tmp_path / "figs", report=report, leaderboard=board, title="synthetic")
    assert set(out.figures["short-xi"]) == {"erank", "pooled", "drift", "loss"}
    assert set(out.figures["long-xi[input.xi=6.7]"]) == {"erank"}
    assert set(out.skipped["long-xi[input.xi=6.7]"]) == {"pooled", "drift", "loss"}
    assert "effective_rank_pooled" in out.skipped["long-xi[input.xi=6.7]"]["pooled"]
    for figs in out.figures.values():
        for path in figs.values():
            assert path.read_bytes()[:8] == PNG and path.parent == tmp_path / "figs"
    assert out.figures["long-xi[input.xi=6.7]"]["erank"].name == "long-xi_input.xi_6.7_erank.png"
    assert out.overview == tmp_path / "figs" / "overview.png" and out.overview.read_bytes()[:8] == PNG
    # Crowded ξ ticks are thinned on the symlog axis; distinct ones are all kept.
    assert PL._uncrowded([0.0, 0.5, 0.574, 1.0, 1.2, 2.0, 14.0], linthresh=0.5) == [0.0, 0.5, 1.0, 2.0, 14.0]
    assert PL._uncrowded([1.2, 6.7], linthresh=0.5) == [1.2, 6.7]
    page = out.html.read_text()
    assert page.count("data:image/png;base64,") == 6
    assert "rgbench-leaderboard" in page and "rgbench-score" in page
    assert "erank falls &lt;fast&gt;" in page and "not drawn" in page


def test_untrained_case_skips_the_loss_figure(tmp_path):
    ds = synthetic_case("untrained", steps=0)
    written, skipped = PL.plot_case(ds, tmp_path, "untrained")
    assert "loss" not in written and "0 steps" in skipped["loss"] and "erank" in written


def test_plot_cli_reports_missing_store(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    PL.add_cli(parser.add_subparsers())
    args = parser.parse_args(["plot", str(tmp_path / "nope.zarr"), "--out", str(tmp_path / "o")])
    assert args.func(args) == 2 and "no store" in capsys.readouterr().err


def test_plot_store_end_to_end(tmp_path):
    path = e2e_store(tmp_path, cases=("short-xi",))
    out = PL.plot_store(path, tmp_path / "out")
    assert set(out.figures) == {"short-xi"} and len(out.figures["short-xi"]) == 4
    page = out.html.read_text()
    assert "rgbench report: e2e" in page and "ERROR" in page and "rgbench-leaderboard" in page


def test_overview_adds_the_token_row_panel_when_the_store_has_token_rows(tmp_path):
    import struct

    from test_score import _with_rows

    plain = {"a": synthetic_case("a")}
    rows = {"a": _with_rows(synthetic_case("a"), token=np.full((2, 7), 15.0), mask=np.zeros((2, 7)))}

    def width(path):  # PNG IHDR: the width is the first field after the 8-byte signature and 8-byte chunk header
        return struct.unpack(">I", path.read_bytes()[16:20])[0]

    narrow = width(PL.plot_overview(plain, tmp_path))
    (tmp_path / "rows").mkdir()
    wide = width(PL.plot_overview(rows, tmp_path / "rows"))
    assert narrow == round(11.5 * 110) and wide == round(16.5 * 110)
