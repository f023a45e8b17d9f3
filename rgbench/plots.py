"""Figures people would rather look at than read, and one HTML report that bundles them.

Per case (PNG, one file per figure, ``<case>_<figure>.png``):

* ``erank``  — effective rank (position-averaged) vs layer; init dashed, trained solid, the band is
  the range over seeds, the dotted line the one-hot input's own effective rank (data-side baseline);
* ``pooled`` — position-level (averaged) vs mean-pooled effective rank vs layer, both stages;
* ``drift``  — kernel drift 1 − CKA and update ratio ‖h_{ℓ+1} − h_ℓ‖/‖h_ℓ‖ per transition;
* ``loss``   — training loss (mean over seeds, seed range) against the Bayes and tokenwise floors.

Per store, ``overview.png`` — every trained case on one page: (a) effective rank (position-averaged,
trained) vs layer, one line per case, the band the standard error over seeds; (b) the rank collapse
(drop of effective rank from layer 1 to the last layer, trained minus init, per seed) against the
input's correlation length ξ, one marker per case, coloured by architecture; (c), where the store
has them, the same on token rows only (no [MASK] input).

A figure whose variables are absent is skipped (and listed in the report). ``report.html`` is a
single self-contained file (images embedded) with the verdicts, the leaderboard of the store and
every figure. Matplotlib is used through its object API (no pyplot, no global backend change).
"""

from __future__ import annotations

import argparse
import base64
import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["plot_store", "plot_datasets", "plot_case", "plot_overview", "PlotOutput", "add_cli", "FIGURES"]

FIGURES = {
    "erank": "effective rank vs layer",
    "pooled": "position-level vs mean-pooled effective rank",
    "drift": "kernel drift and update ratio per transition",
    "loss": "training loss against the Bayes and tokenwise floors",
}

_STAGE_STYLE = {"init": "--", "trained": "-"}


@dataclass
class PlotOutput:
    """Files written by `plot_datasets` / `plot_store`."""

    figures: dict[str, dict[str, Path]] = field(default_factory=dict)  # case → figure name → PNG
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # case → figure name → why
    html: Path | None = None
    overview: Path | None = None

    @property
    def paths(self) -> list[Path]:
        extra = [p for p in (self.overview, self.html) if p is not None]
        return [p for f in self.figures.values() for p in f.values()] + extra


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "case"


def _figure(ncols: int = 1):
    from matplotlib.figure import Figure

    # Fixed margins rather than constrained layout: the layout solver doubles the drawing time.
    fig = Figure(figsize=(5.2 * ncols, 3.6))
    fig.subplots_adjust(left=0.12 / ncols, right=1 - 0.03 / ncols, bottom=0.14, top=0.9, wspace=0.3)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _band(ax, x, da: xr.DataArray, *, color, ls, label, marker: str | None = "o") -> None:
    """Mean over seeds as a line, the range over seeds as a band."""
    v = np.asarray(da.transpose("seed", ...).values, dtype=float)
    with np.errstate(all="ignore"):
        mean, lo, hi = np.nanmean(v, axis=0), np.nanmin(v, axis=0), np.nanmax(v, axis=0)
    ax.plot(x, mean, ls=ls, color=color, label=label, marker=marker, ms=3)
    ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)


def _stages(da: xr.DataArray) -> list[str]:
    return [str(s) for s in da["stage"].values] if "stage" in da.dims else []


def _need(ds: xr.Dataset, *names: str) -> None:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise KeyError(f"not stored: {', '.join(missing)}")


def _title(ds: xr.Dataset, case: str) -> str:
    arch = ds.attrs.get("architecture_kind")
    xi = ds.attrs.get("xi")
    bits = [case] + ([str(arch)] if arch else []) + ([f"ξ = {float(xi):.3g}"] if xi is not None else [])
    return " · ".join(bits)


def _erank(ds: xr.Dataset, case: str):
    _need(ds, "effective_rank")
    fig, (ax,) = _figure()
    er = _position_mean_rank(ds)
    x = ds["layer"].values
    for stage in _stages(er):
        _band(ax, x, er.sel(stage=stage), color="C0", ls=_STAGE_STYLE.get(stage, ":"), label=stage)
    if "input_effective_rank" in ds.data_vars:
        ax.axhline(float(ds["input_effective_rank"].mean()), color="0.4", ls=":", lw=1, label="one-hot input")
    ax.set(xlabel="layer", ylabel="effective rank (position-averaged)", title=_title(ds, case))
    ax.legend(fontsize=8)
    return fig


def _pooled(ds: xr.Dataset, case: str):
    _need(ds, "effective_rank", "effective_rank_pooled")
    fig, (ax,) = _figure()
    x = ds["layer"].values
    per_pos = _position_mean_rank(ds)
    for stage in _stages(per_pos):
        ls = _STAGE_STYLE.get(stage, ":")
        _band(ax, x, per_pos.sel(stage=stage), color="C0", ls=ls, label=f"per position, {stage}")
        _band(ax, x, ds["effective_rank_pooled"].sel(stage=stage), color="C3", ls=ls, label=f"mean-pooled, {stage}")
    if "input_effective_rank_pooled" in ds.data_vars:
        ax.axhline(float(ds["input_effective_rank_pooled"]), color="C3", ls=":", lw=1, label="input, pooled")
    ax.set(xlabel="layer", ylabel="effective rank", title=_title(ds, case))
    ax.legend(fontsize=7)
    return fig


def _drift(ds: xr.Dataset, case: str):
    names = [n for n in ("kernel_drift", "update_ratio") if n in ds.data_vars]
    if not names:
        raise KeyError("not stored: kernel_drift, update_ratio")
    fig, axes = _figure(len(names))
    ylabels = {"kernel_drift": "kernel drift 1 − CKA", "update_ratio": "update ratio ‖Δh‖/‖h‖"}
    for ax, name in zip(axes, names):
        da = ds[name]
        t = da["transition"].values
        for stage in _stages(da):
            _band(ax, t, da.sel(stage=stage), color="C2", ls=_STAGE_STYLE.get(stage, ":"), label=stage)
        ax.set_xticks(t, [f"{int(i)}→{int(i) + 1}" for i in t], fontsize=7)
        ax.set(xlabel="transition ℓ→ℓ+1", ylabel=ylabels[name], title=_title(ds, case))
        ax.legend(fontsize=8)
    return fig


def _loss(ds: xr.Dataset, case: str):
    _need(ds, "loss")
    if ds.sizes.get("step", 0) == 0:
        raise ValueError("not trained (0 steps): no loss curve")
    fig, (ax,) = _figure()
    steps = ds["step"].values if "step" in ds.coords else np.arange(ds.sizes["step"])
    _band(ax, steps, ds["loss"], color="C0", ls="-", label="training loss", marker=None)
    for name, color, text in (("bayes_loss", "C3", "Bayes floor"), ("tokenwise_loss", "C1", "tokenwise floor")):
        if name in ds.data_vars and np.isfinite(float(ds[name])):
            ax.axhline(float(ds[name]), color=color, ls="--", lw=1, label=f"{text} {float(ds[name]):.3f}")
    if "final_loss" in ds.data_vars:
        ax.scatter([steps[-1]] * ds.sizes["seed"], ds["final_loss"].values, s=8, color="k", zorder=3, label="final (eval)")
    ax.set(xlabel="step", ylabel="masked-token loss (nats)", title=_title(ds, case))
    ax.legend(fontsize=8)
    return fig


_PLOTTERS = {"erank": _erank, "pooled": _pooled, "drift": _drift, "loss": _loss}


def plot_case(ds: xr.Dataset, out_dir: str | Path, case: str | None = None) -> tuple[dict[str, Path], dict[str, str]]:
    """Write the PNG figures of one case dataset; returns (written, skipped-with-reason)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    case = case or str(ds.attrs.get("case_id", "case"))
    written, skipped = {}, {}
    for name, plotter in _PLOTTERS.items():
        try:
            fig = plotter(ds, case)
        except (KeyError, ValueError) as e:
            skipped[name] = str(e).strip("'\"")
            continue
        path = out / f"{_safe(case)}_{name}.png"
        fig.savefig(path, dpi=110)
        written[name] = path
    return written, skipped


def _position_mean_rank(ds: xr.Dataset) -> xr.DataArray:
    er = ds["effective_rank"]
    return er.mean("position", skipna=False) if "position" in er.dims else er


def _mean_se(v: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds and its standard error, ignoring non-finite seeds."""
    with np.errstate(all="ignore"):
        return np.nanmean(v, axis=axis), np.nanstd(v, axis=axis, ddof=1) / np.sqrt(np.isfinite(v).sum(axis=axis))


def _uncrowded(values: list[float], linthresh: float, min_gap: float = 0.06) -> list[float]:
    """The sorted `values` less those closer than `min_gap` (a fraction of the span) to the previous
    kept one, measured on the axis' symlog scale."""
    kept: list[float] = []
    last = -np.inf
    pos = np.sign(values) * np.log10(1 + np.abs(values) / linthresh)
    gap = min_gap * max(float(np.ptp(pos)) if len(values) else 0.0, 1e-9)
    for x, p in zip(values, pos):
        if p - last > gap:
            kept.append(x)
            last = p
    return kept


def plot_overview(datasets: dict[str, xr.Dataset], out_dir: str | Path) -> Path | None:
    """Write ``overview.png`` (see the module docstring); None if no case has both stages stored.

    Panel (b) is the ``rank_collapse`` observable of the suites (default layers 1:), per seed.
    """
    from .predictions import RankCollapse

    cases = {
        c: ds for c, ds in datasets.items()
        if "effective_rank" in ds.data_vars and "stage" in ds["effective_rank"].dims
        and {"init", "trained"} <= set(map(str, ds["stage"].values)) and ds.sizes.get("layer", 0) > 2
        and np.isfinite(_position_mean_rank(ds).sel(stage="trained").values).any()
        and ds.sizes.get("step", 1) > 0  # an untrained control has nothing to show here
    }
    if not cases:
        return None
    import matplotlib
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullLocator

    token_rows = any("effective_rank_rows" in ds.data_vars for ds in cases.values())
    fig, axes = _figure(3 if token_rows else 2)
    ax, bx = axes[0], axes[1]
    cx = axes[2] if token_rows else None
    fig.set_size_inches(16.5 if token_rows else 11.5, 4.6)
    fig.subplots_adjust(left=0.05 if token_rows else 0.07, right=0.99, bottom=0.13, top=0.91,
                        wspace=0.25 if token_rows else 0.22)
    kind = {c: str(ds.attrs.get("architecture_kind", "?")) for c, ds in cases.items()}
    archs = sorted(set(kind.values()))
    markers = dict(zip(archs, "osD^v<>p*"))
    for i, (case, ds) in enumerate(cases.items()):
        color = f"C{i % 10}" if len(cases) <= 10 else matplotlib.colormaps["tab20"](i % 20)
        mean, se = _mean_se(np.asarray(_position_mean_rank(ds).sel(stage="trained").transpose("seed", "layer").values, float))
        x = ds["layer"].values
        ax.plot(x, mean, color=color, marker=markers[kind[case]], ms=3, lw=1.2, label=case)
        ax.fill_between(x, mean - se, mean + se, color=color, alpha=0.2, lw=0)
        m, e = _mean_se(np.asarray(RankCollapse().values(ds).values, float))
        bx.errorbar([float(ds.attrs.get("xi", np.nan))], [m], yerr=[e], color=color, marker=markers[kind[case]],
                    ms=5, capsize=2, lw=1)
        if cx is not None and "effective_rank_rows" in ds.data_vars:
            m, e = _mean_se(np.asarray(RankCollapse().values(ds, role="token").values, float))
            cx.errorbar([float(ds.attrs.get("xi", np.nan))], [m], yerr=[e], color=color, marker=markers[kind[case]],
                        ms=5, capsize=2, lw=1)
    ax.set(xlabel="layer", ylabel="effective rank, trained (position mean)", title="(a) effective rank vs depth")
    ax.legend(fontsize=6, ncol=2 if len(cases) > 8 else 1)
    xis = sorted({round(x, 3) for x in (float(ds.attrs.get("xi", np.nan)) for ds in cases.values()) if np.isfinite(x)})
    ticks = _uncrowded(xis, linthresh=0.5)
    titles = (("(b) collapse (layer 1 → last) vs ξ" + (", all rows" if cx is not None else ", mean ± SE over seeds")),
              "(c) the same on token rows (no [MASK] input)")
    for panel, title in zip((bx, cx), titles):
        if panel is None:
            continue
        panel.axhline(0, color="0.5", lw=0.8)
        panel.set_xscale("symlog", linthresh=0.5)
        panel.margins(x=0.08)
        panel.set_xticks(ticks, [f"{x:g}" for x in ticks], fontsize=7)
        panel.xaxis.set_minor_locator(NullLocator())
        panel.set(xlabel="input correlation length ξ", ylabel="rank collapse, trained − init (mean ± SE)", title=title)
        panel.legend([Line2D([], [], color="0.3", marker=markers[a], ls="") for a in archs], archs, fontsize=7)
    out = Path(out_dir) / "overview.png"
    fig.savefig(out, dpi=110)
    return out


def plot_datasets(datasets: dict[str, xr.Dataset], out_dir: str | Path, *, report: Any = None, leaderboard: Any = None,
                  title: str = "rgbench report") -> PlotOutput:
    """PNG figures of every case plus a self-contained ``report.html`` (verdicts, leaderboard, figures)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = PlotOutput()
    for case, ds in datasets.items():
        result.figures[case], result.skipped[case] = plot_case(ds, out_dir, case)
    result.overview = plot_overview(datasets, out_dir)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if report is not None:
        parts += ["<h2>Verdicts</h2>", report.to_html()]
    if leaderboard is not None:
        parts += ["<h2>Leaderboard</h2>", leaderboard.to_html(full=False)]
    parts.append("<h2>Figures</h2>")
    if result.overview is not None:
        data = base64.b64encode(result.overview.read_bytes()).decode()
        parts.append(f'<figure><img alt="overview" src="data:image/png;base64,{data}"><figcaption>every case: '
                     "effective rank vs depth, and rank collapse vs ξ</figcaption></figure>")
    for case, figs in result.figures.items():
        ds = datasets[case]
        status = ds.attrs.get("status", "")
        parts.append(f"<h3>{html.escape(_title(ds, case))}</h3>"
                     + (f"<p>status: {html.escape(str(status))}</p>" if status and status != "complete" else ""))
        for name, path in figs.items():
            data = base64.b64encode(path.read_bytes()).decode()
            parts.append(f'<figure><img alt="{html.escape(case)} {name}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(FIGURES[name])}</figcaption></figure>")
        if result.skipped[case]:
            skipped = "; ".join(f"{n}: {why}" for n, why in result.skipped[case].items())
            parts.append(f"<p><em>not drawn — {html.escape(skipped)}</em></p>")
    from .leaderboard import _page

    result.html = out_dir / "report.html"
    result.html.write_text(_page(title, "".join(parts)))
    return result


def plot_store(path: str | Path, out_dir: str | Path, suite: Any = None) -> PlotOutput:
    """Figures of every stored case and ``report.html`` with the store's verdicts and leaderboard.

    Scoring uses `suite` (a Suite or suite file) or the suite recorded in the store; if the store
    cannot be scored, the report holds the figures alone and says why.
    """
    from .leaderboard import LeaderboardError, build_leaderboard
    from .score import ScoreError, score_datasets, _load_suite
    from .store import open_results

    datasets = open_results(path)
    report = board = None
    title = f"rgbench report: {Path(str(path)).name}"
    try:
        loaded = _load_suite(path, suite)
        report = score_datasets(datasets, loaded, store=str(path))
        board = build_leaderboard([report])
        title = f"rgbench report: {report.suite}" + (f" — {report.title}" if report.title else "")
    except (ScoreError, LeaderboardError) as e:
        print(f"rgbench plot: figures only, no verdicts ({e})", file=sys.stderr)
    return plot_datasets(datasets, out_dir, report=report, leaderboard=board, title=title)


def add_cli(subparsers: Any) -> None:
    """Add ``rgbench plot STORE --out DIR [--suite SUITE]``."""
    p = subparsers.add_parser("plot", help="figures of a results store and a single-file HTML report",
                              description="Write PNG figures of every case and report.html (verdicts, leaderboard, figures).")
    p.add_argument("store", help="results store, e.g. results/rg-paper-v2.zarr")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--suite", default=None, help="suite file (default: the suite recorded in the store)")
    p.set_defaults(func=_cli_plot)


def _cli_plot(args: argparse.Namespace) -> int:
    if not Path(args.store).exists() and "://" not in str(args.store):
        print(f"rgbench plot: no store at {args.store!r}; run `rgbench run SUITE` first or check the path", file=sys.stderr)
        return 2
    out = plot_store(args.store, args.out, args.suite)
    n = sum(len(f) for f in out.figures.values())
    overview = f", {out.overview.name}" if out.overview is not None else ""
    print(f"wrote {n} case figures{overview} and {out.html.name} to {Path(args.out)} ({len(out.paths)} files)")
    return 0
