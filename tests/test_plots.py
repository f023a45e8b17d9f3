"""Plots: PNG figures per case and one self-contained HTML report."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from helpers import ROOT, case, e2e_store, pred, suite, synthetic_case, with_rows

from rgbench import leaderboard as LB
from rgbench import plots as PL
from rgbench import score as S
from rgbench.cli import build_parser

PNG = b"\x89PNG\r\n\x1a\n"
# The report shows every PNG at its natural size: a per-case figure in one of two columns of a page
# about 1340 CSS px wide (a 1400 px window), the overview in a row of its own.
COLUMN, PAGE_ROW = 560, 1300


def test_plot_datasets_writes_pngs_and_one_html(tmp_path):
    s = suite(
        case("short-xi", [pred("effective_rank", {"kind": "monotone"}, claim="erank falls <fast>")]),
        case("long-xi[input.xi=6.7]", []),
    )
    dsets = {
        "short-xi": synthetic_case("short-xi"),
        "long-xi[input.xi=6.7]": synthetic_case("long-xi", erank=np.full(7, 15.0), xi=6.7).drop_vars(
            ["loss", "kernel_drift", "update_ratio", "effective_rank_pooled"]
        ),
    }
    report = S.score_datasets(dsets, s, store="mem.zarr")
    board = LB.build_leaderboard([report], n_resamples=100)
    out = PL.plot_datasets(dsets, tmp_path / "figs", report=report, leaderboard=board, title="synthetic")
    assert set(out.figures["short-xi"]) == {"erank", "pooled", "drift", "loss"}
    assert set(out.figures["long-xi[input.xi=6.7]"]) == {"erank"}
    assert set(out.skipped["long-xi[input.xi=6.7]"]) == {"pooled", "drift", "loss"}
    assert "effective_rank_pooled" in out.skipped["long-xi[input.xi=6.7]"]["pooled"]
    for figs in out.figures.values():
        for path in figs.values():
            assert path.read_bytes()[:8] == PNG
            assert path.parent == tmp_path / "figs"
    assert out.figures["long-xi[input.xi=6.7]"]["erank"].name == "long-xi_input.xi_6.7_erank.png"
    assert out.overview == tmp_path / "figs" / "overview.png"
    assert out.overview.read_bytes()[:8] == PNG
    # Crowded ξ ticks are thinned on the symlog axis; distinct ones are all kept.
    assert PL._uncrowded([0.0, 0.5, 0.574, 1.0, 1.2, 2.0, 14.0], linthresh=0.5) == [0.0, 0.5, 1.0, 2.0, 14.0]
    assert PL._uncrowded([1.2, 6.7], linthresh=0.5) == [1.2, 6.7]
    page = out.html.read_text()
    assert page.count("data:image/png;base64,") == 6
    assert "rgbench-leaderboard" in page
    assert "rgbench-score" in page
    assert "erank falls &lt;fast&gt;" in page
    assert "not drawn" in page


def test_untrained_case_skips_the_loss_figure(tmp_path):
    ds = synthetic_case("untrained", steps=0)
    written, skipped = PL.plot_case(ds, tmp_path, "untrained")
    assert "loss" not in written
    assert "0 steps" in skipped["loss"]
    assert "erank" in written


def test_plot_cli_reports_missing_store(tmp_path, capsys):
    parser = build_parser()
    args = parser.parse_args(["plot", str(tmp_path / "nope.zarr"), "--out", str(tmp_path / "o")])
    assert args.func(args) == 2
    assert "no store" in capsys.readouterr().err


def test_plot_store_end_to_end(tmp_path):
    path = e2e_store(tmp_path, cases=("short-xi",))
    out = PL.plot_store(path, tmp_path / "out")
    assert set(out.figures) == {"short-xi"}
    assert len(out.figures["short-xi"]) == 4
    page = out.html.read_text()
    assert "rgbench report: e2e" in page
    assert "ERROR" in page
    assert "rgbench-leaderboard" in page


def test_overview_adds_the_token_row_panel_when_the_store_has_token_rows(tmp_path):
    import struct

    plain = {"a": synthetic_case("a")}
    rows = {"a": with_rows(synthetic_case("a"), token=np.full((2, 7), 15.0), mask=np.zeros((2, 7)))}

    def width(path):  # PNG IHDR: the width is the first field after the 8-byte signature and 8-byte chunk header
        return struct.unpack(">I", path.read_bytes()[16:20])[0]

    narrow = width(PL.plot_overview(plain, tmp_path))
    (tmp_path / "rows").mkdir()
    wide = width(PL.plot_overview(rows, tmp_path / "rows"))
    assert narrow < wide <= PAGE_ROW  # one more panel, still one row of the report at natural size


def _png_size(path):
    import struct

    return struct.unpack(">II", path.read_bytes()[16:24])


def test_figures_are_drawn_for_the_size_the_report_shows_them(tmp_path):
    from matplotlib.image import imread

    # Long tick labels (15.25, …) beside the long y label, and a long case id in the title, were cut
    # off by the fixed margins.
    case_id = "depth-sweep[architecture.depth=12]"
    ds = synthetic_case(case_id, depth=12, erank=15.3 - 0.14 * np.arange(13))
    written, _ = PL.plot_case(ds, tmp_path, case_id)
    for name, path in written.items():
        w, h = _png_size(path)
        assert w <= COLUMN, (name, w)
        img = imread(path)[..., :3]
        for edge in (img[:, :2], img[:, -2:], img[:2], img[-2:]):  # nothing drawn is cut at the border
            assert edge.min() > 0.9, name
    rows = {"a": with_rows(synthetic_case("a"), token=np.full((2, 7), 15.0), mask=np.zeros((2, 7)))}
    w, _ = _png_size(PL.plot_overview(rows, tmp_path))
    assert w <= PAGE_ROW
    page = PL.plot_datasets({"a": rows["a"]}, tmp_path / "rep").html.read_text()
    css = page[page.index("<style>") : page.index("</style>")]
    assert "%" not in css.replace("max-width:100%", "").replace("calc(100% - 1em)", "")  # no image shrunk to a fraction
    assert '<figure class="wide"><img alt="overview"' in page


def _rendered_gaps(fig, line) -> int:
    """Gaps (runs of ≥ 2 px without the line's colour) along a drawn Line2D's centre, as rendered."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgb

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3] / 255.0
    (x0, y), (x1, _) = line.get_transform().transform(line.get_xydata()[[0, -1]])
    row = int(round(img.shape[0] - y))
    band = img[row - 1 : row + 2, int(np.ceil(x0)) + 1 : int(np.floor(x1)) - 1]
    ink = (np.abs(band - np.array(to_rgb(line.get_color()))).max(axis=-1) < 0.3).any(axis=0)
    gaps, run = 0, 0
    for on in ink:
        run = 0 if on else run + 1
        gaps += run == 2
    return gaps


def _legend_entries(fig):
    """(legend handle, the plotted line of that label) for every line entry of every legend."""
    lines = {ln.get_label(): ln for ax in fig.axes for ln in ax.get_lines()}
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    assert legends
    out = []
    for leg in legends:
        for handle, text in zip(leg.legend_handles, leg.get_texts()):
            if hasattr(handle, "get_linestyle") and text.get_text() in lines and hasattr(handle, "get_marker"):
                out.append((handle, lines[text.get_text()]))
    return out


def test_legend_entries_look_like_their_lines():
    """Every legend entry has its line's colour, line style and marker, and a dashed or dotted line's
    entry shows its gaps once drawn (the marker in the middle of a short entry used to hide the only
    one, so the pooled figure's init entries looked solid against dashed curves)."""
    import matplotlib
    from matplotlib.colors import to_rgba

    ds = synthetic_case("short-xi")
    figs = {name: PL._PLOTTERS[name](ds, "short-xi") for name in ("erank", "pooled", "drift", "loss")}
    captured = []
    orig = matplotlib.figure.Figure.savefig

    def grab(self, *args, **kwargs):
        captured.append(self)
        return orig(self, *args, **kwargs)

    import tempfile
    from unittest import mock

    with mock.patch.object(matplotlib.figure.Figure, "savefig", grab), tempfile.TemporaryDirectory() as d:
        rows = {
            c: with_rows(synthetic_case(c, xi=x), token=np.full((2, 7), 15.0), mask=np.zeros((2, 7)))
            for c, x in (("a", 1.2), ("b", 6.7))
        }
        PL.plot_overview(rows, d)
    figs["overview"] = fig = captured[0]
    # Its legend lies below the panels, outside the canvas that bbox_inches="tight" extends: draw it inside.
    for leg in fig.legends:
        leg.set_bbox_to_anchor((0.5, 0.6), transform=fig.transFigure)
    styles = set()
    for name, fig in figs.items():
        entries = _legend_entries(fig)
        assert entries, name
        for handle, line in entries:
            label = line.get_label()
            assert handle.get_linestyle() == line.get_linestyle(), (name, label)
            assert to_rgba(handle.get_color()) == to_rgba(line.get_color()), (name, label)
            assert handle.get_marker() == line.get_marker(), (name, label)
            dashed = line.get_linestyle() not in ("-", "solid")
            assert (_rendered_gaps(fig, handle) > 0) == dashed, (name, label, line.get_linestyle())
            styles.add((name, line.get_linestyle()))
    assert {("pooled", "--"), ("pooled", "-"), ("erank", "--"), ("erank", ":"), ("drift", "--"), ("loss", "--")} <= styles


def _stored_case(tmp_path, yaml_case: str, case_id: str, xi: float):
    """A synthetic case dataset with the attributes the runner stores for the case of that suite entry."""
    from rgbench import suite
    from rgbench.runner import provenance

    (tmp_path / "s.yaml").write_text(
        "suite: t\ntitle: t\ndefaults:\n  architecture: {kind: tokenwise, depth: 6, width: 16}\n  seeds: 10\ncases:\n" + yaml_case
    )
    c = suite.load_suite(tmp_path / "s.yaml").case(case_id)
    ds = synthetic_case(case_id, xi=xi)
    ds.attrs.update(provenance(c, "t"), input_kind=c.input.kind)
    return ds


def test_titles_state_every_parameter_of_the_input(tmp_path):
    block = _stored_case(
        tmp_path,
        "  - id: block\n    input: {kind: block, vocab: 16, length: 64, blocks: 4, xi_fast: 1.0, xi_slow: 7.0}\n",
        "block",
        xi=6.999999999999973,
    )
    title = PL._title(block, "block")
    assert title == "block · tokenwise · block, V = 16, T = 64, blocks = 4, ξ_fast = 1, ξ_slow = 7"
    fig = PL._erank(block, "block")
    assert fig.axes[0].get_title() == "block · tokenwise\nblock, V = 16, T = 64, blocks = 4, ξ_fast = 1, ξ_slow = 7"
    shuffle = _stored_case(
        tmp_path, "  - id: sh\n    input: {kind: shuffle, vocab: 8, length: 32, of: {kind: sticky, xi: 6.7}}\n", "sh", xi=0.5737
    )
    assert PL._input_title(shuffle) == "shuffle, V = 8, T = 32, of sticky (ξ = 6.7), effective ξ = 0.574"
    other = _stored_case(
        tmp_path, "  - id: o\n    input: {kind: sticky, lambda2: 0.5, masking: {scheme: single}}\n", "o", xi=1.4427
    )
    assert PL._input_title(other) == "sticky, V = 16, T = 64, λ₂ = 0.5, single masking, ξ = 1.44"
    assert PL._title(synthetic_case("bare"), "bare") == "bare · tokenwise · ξ = 1.2"  # no spec stored: what the attributes say


# --------------------------------------------------------------------------------------------
# The rows the claims read, what a band is, the loss axis, the report's leaderboard


def _token_case(case_id: str = "a"):
    """A synthetic case whose token rows (varying by seed) differ from its all-row effective rank."""
    seeds = np.arange(10)[:, None, None]
    layers = np.arange(7)
    token = np.stack([np.full(7, 20.0), 30.0 - 2.0 * layers])[None] + 0.1 * seeds  # seed, stage, layer
    return with_rows(synthetic_case(case_id), token=token, mask=np.zeros((2, 7)))


def _line(ax, label):
    [line] = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def _band_extent(collection) -> tuple[float, float]:
    y = collection.get_paths()[0].vertices[:, 1]
    return float(y.min()), float(y.max())


def test_claimed_rows_are_the_token_rows_of_a_case_and_of_its_references():
    monotone = {"kind": "monotone", "along": "layer", "direction": "decreasing", "spearman_at_most": -0.9}
    s = suite(
        case("a", [pred("effective_rank", monotone, role="token", stage="trained", nulls=["iid"])]),
        case("b", [pred({"kind": "rank_collapse"}, {"kind": "difference", "compare_to": "c", "at_least": 0.3}, role="token")]),
        case("c", []),
        case("d", [pred("effective_rank", monotone, stage="trained")]),  # all rows
        case("e", [pred("mask_distance", {"kind": "threshold", "at_least": 0.0})]),
        case("iid", []),
    )
    assert PL.claimed_rows(s) == {"a": "token", "iid": "token", "b": "token", "c": "token"}


def test_the_erank_figure_of_a_token_claim_draws_the_token_rows(tmp_path):
    from unittest import mock

    ds = _token_case()
    rows = PL.rank_rows(ds, "token")
    assert rows.dims == ("seed", "stage", "layer")
    np.testing.assert_allclose(rows.sel(stage="trained").mean("seed"), 30.0 - 2.0 * np.arange(7) + 0.45)
    fig = PL._erank(ds, "a", role="token")
    ax = fig.axes[0]
    trained, init = _line(ax, "trained"), _line(ax, "init")
    np.testing.assert_allclose(trained.get_ydata(), rows.sel(stage="trained").mean("seed"))
    np.testing.assert_allclose(init.get_ydata(), 20.45)
    every_row = PL._erank(ds, "a").axes[0]  # all rows: the synthetic default, 15 − 1.5 ℓ
    np.testing.assert_allclose(_line(every_row, "trained").get_ydata(), 15.0 - 1.5 * np.arange(7))
    assert "token rows" in ax.get_legend().get_title().get_text()
    assert "token rows" in ax.get_ylabel()
    assert "token rows" not in every_row.get_legend().get_title().get_text() + every_row.get_ylabel()
    # plot_datasets draws each case on the rows the suite's claims read
    s = suite(case("a", [pred("effective_rank", {"kind": "monotone", "along": "layer"}, role="token", stage="trained")]))
    with mock.patch.object(PL, "plot_case", wraps=PL.plot_case) as spy:
        PL.plot_datasets({"a": ds, "b": _token_case("b")}, tmp_path, suite=s)
    assert {c.args[2]: c.kwargs["role"] for c in spy.call_args_list} == {"a": "token", "b": "all"}
    # a case whose token rows are not stored is listed as not drawn, not drawn from all rows
    written, skipped = PL.plot_case(synthetic_case("a"), tmp_path, "a", role="token")
    assert "erank" not in written and "effective_rank_rows" in skipped["erank"]


def test_the_training_figure_draws_the_token_rows_of_a_token_claim():
    ds = _token_case()
    ds = ds.sel(stage=["init", "trained", "trained"]).assign_coords(
        stage=["init", "10", "trained"], stage_step=("stage", [0, 10, 30])
    )
    ax = PL._training(ds, "a", role="token").axes[0]
    np.testing.assert_allclose(_line(ax, "layer 6").get_ydata(), [20.45, 18.45, 18.45])
    assert "token rows" in ax.get_legend().get_title().get_text()


def test_every_band_is_mean_pm_se_over_seeds_and_says_so(tmp_path):
    from unittest import mock

    import matplotlib
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    # the band is the standard error of the mean over seeds, not their range or SD
    ax = Figure().subplots()
    da = xr.DataArray([[1.0, 10.0], [2.0, 10.0], [3.0, 13.0]], dims=("seed", "layer"))
    PL._band(ax, [0, 1], da, color="C0", ls="-", label="x")
    [band] = ax.collections
    lo, hi = _band_extent(band)
    assert lo == pytest.approx(2.0 - 1 / np.sqrt(3)) and hi == pytest.approx(11.0 + np.sqrt(3) / np.sqrt(3))

    ds = _token_case()
    staged = ds.sel(stage=["init", "trained", "trained"]).assign_coords(
        stage=["init", "10", "trained"], stage_step=("stage", [0, 10, 30])
    )
    figs = {name: PL._PLOTTERS[name](ds, "a") for name in ("erank", "pooled", "drift", "loss")}
    figs["training"] = PL._training(staged, "a")
    figs["erank token"] = PL._erank(ds, "a", role="token")
    for name, fig in figs.items():
        banded = [ax for ax in fig.axes if any(isinstance(c, PolyCollection) for c in ax.collections)]
        assert banded, name
        for ax in banded:
            assert PL.BAND == "mean ± SE over seeds"
            assert PL.BAND in ax.get_legend().get_title().get_text(), name
    # the token-row band: mean ± SE of the seeds' token rows (0.1 apart: SD 0.303, SE 0.0957)
    ax = figs["erank token"].axes[0]
    trained = next(c for c in ax.collections if isinstance(c, PolyCollection) and np.isclose(_band_extent(c)[1], 30.55, atol=0.2))
    se = np.std(0.1 * np.arange(10), ddof=1) / np.sqrt(10)
    assert _band_extent(trained) == pytest.approx((30.45 - 2.0 * 6 - se, 30.45 + se))

    captured = []
    orig = matplotlib.figure.Figure.savefig

    def grab(self, *args, **kwargs):
        captured.append(self)
        return orig(self, *args, **kwargs)

    with mock.patch.object(matplotlib.figure.Figure, "savefig", grab):
        PL.plot_overview({"a": ds}, tmp_path)
    [overview] = captured
    assert any(isinstance(c, PolyCollection) for c in overview.axes[0].collections)
    assert PL.BAND in overview.legends[0].get_title().get_text()


def _loss_axes(**kwargs):
    ax = PL._loss(synthetic_case("a", **kwargs), "a").axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    floors = {ln.get_label(): ln for ln in ax.get_lines() if "floor" in ln.get_label()}
    return ax, labels, floors


def test_the_loss_axis_fits_the_curve_and_names_a_floor_far_beyond_it():
    # the synthetic curve runs from 2.8 down to the final loss 1.8 (every seed alike)
    ax, labels, floors = _loss_axes(bayes_loss=0.21, tokenwise_loss=2.61)
    lo, hi = ax.get_ylim()
    pad = PL._PAD * 1.0
    assert lo == pytest.approx(1.8 - pad) and hi == pytest.approx(2.8 + pad)
    assert "Bayes floor 0.210 ↓ below the axis" in labels
    bayes = floors["Bayes floor 0.210 ↓ below the axis"]
    assert len(bayes.get_ydata()) == 0  # named, not drawn
    assert list(floors["tokenwise floor 2.610"].get_ydata()) == [2.61, 2.61]  # within the curve: drawn
    # a floor just below the curve widens the axis to hold it, with the same margin
    ax, labels, floors = _loss_axes(bayes_loss=1.7, tokenwise_loss=9.0)
    lo, hi = ax.get_ylim()
    assert lo == pytest.approx(1.7 - PL._PAD * 1.1) and hi == pytest.approx(2.8 + PL._PAD * 1.1)
    assert list(floors["Bayes floor 1.700"].get_ydata()) == [1.7, 1.7]
    assert "tokenwise floor 9.000 ↑ above the axis" in labels


@pytest.mark.slow
def test_the_report_leaderboard_of_one_store_needs_no_sideways_scroll_at_1280_px(tmp_path):
    """The widest shipped one-store board (rg-paper-v2, ~27 columns: 2176 px as the leaderboard page
    sets it) fits a 1280 px window in report.html: neither the page nor the board's box scrolls sideways."""
    import shutil
    import subprocess

    chromium = next((c for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)
    store = ROOT / "results" / "rg-paper-v2.zarr"
    if chromium is None or not store.is_dir():
        pytest.skip("no headless Chromium or no results/rg-paper-v2.zarr")
    page = PL.plot_store(store, tmp_path / "rep").html.read_text()
    assert '<div class="board">' in page and PL._REPORT_CSS in page[: page.index("</head>")]
    probe = (
        "<script>var b=document.querySelector('.board .scroll')||document.querySelector('.board');"
        "document.title=[document.documentElement.scrollWidth,document.documentElement.clientWidth,"
        "b.scrollWidth,b.clientWidth].join(' ')</script>"
    )
    copy = tmp_path / "probe.html"
    copy.write_text(page.replace("</body>", probe + "</body>"))
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--dump-dom", copy.as_uri()]
    dom = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
    page_w, page_client, board_w, board_client = map(int, dom.split("<title>")[1].split("</title>")[0].split())
    assert page_w <= page_client, (page_w, page_client)
    assert board_w <= board_client, (board_w, board_client)


def test_the_claims_figure_draws_each_claims_statistic_along_training_from_the_report(tmp_path):
    """claims.png has a panel per claim measured at two or more steps, holding the report's own numbers;
    a report without steps of training (or only diagnostics) gives no figure."""
    import dataclasses
    import json
    from pathlib import Path

    from rgbench.plots._claims import claims_along_training, plot_claims
    from rgbench.scoring import Report

    path = Path(__file__).resolve().parents[1] / "results" / "rg-paper-v3.score.json"
    report = Report.from_json(path.read_text())
    series = claims_along_training(report)
    committed = [p for p in json.loads(path.read_text())["predictions"] if p["purpose"] == "claim"]
    assert [p.claim_id for p, _, _ in series] == [p["claim_id"] for p in committed]  # all 5 claims, in order
    for (p, steps, values), c in zip(series, committed):
        along = c["detail"]["along_training"]
        assert steps == [1000, 3000, 10000] and values == [along["1000"], along["3000"], along["10000"]]
        assert values[-1] == c["statistic"]  # the end of training is the verdict's own statistic
    out = plot_claims(report, tmp_path)
    assert out == tmp_path / "claims.png" and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    flat = dataclasses.replace(report, predictions=[dataclasses.replace(p, detail={}) for p in report.predictions])
    assert plot_claims(flat, tmp_path / "none") is None and not (tmp_path / "none").exists()
    only_diagnostics = dataclasses.replace(
        report, predictions=[dataclasses.replace(p, purpose="diagnostic") for p in report.predictions]
    )
    assert claims_along_training(only_diagnostics) == []
