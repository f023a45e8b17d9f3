"""Figures people would rather look at than read, and one HTML report that bundles them.

Per case (PNG, one file per figure, ``<case>_<figure>.png``):

* ``erank``  — effective rank (position-averaged) vs layer on the probe rows the case's claims read
  (token rows where a prediction of the suite says ``role: token``, which the legend names; else all
  rows); init dashed, trained solid, the dotted line the one-hot input's own effective rank
  (data-side baseline);
* ``pooled`` — position-level (averaged) vs mean-pooled effective rank vs layer, both stages;
* ``drift``  — kernel drift 1 − CKA above update ratio ‖h_{ℓ+1} − h_ℓ‖/‖h_ℓ‖ per transition;
* ``loss``   — training loss against the Bayes and tokenwise floors, the y axis fitted to the curve
  (a floor outside it is named in the legend as below or above the axis, not drawn);
* ``training`` — where ``measure.stages`` names steps of training: each layer's effective rank (on
  the rows of the erank figure) and each transition's kernel drift against the training step (the
  flow over training, beside the flow over depth the others draw).

Every line is the mean over seeds and every band the standard error of that mean (``mean ± SE over
seeds``, the legend says so; `_band`).

Per store, ``overview.png`` — every trained case on one page: (a) effective rank (position-averaged,
trained) vs layer, one line per case, the band the standard error over seeds; (b) the rank collapse
(drop of effective rank from layer 1 to the last layer, trained minus init, per seed) against the
input's correlation length ξ, one marker per case; (c), where the store has them, the same on token
rows only (no [MASK] input). A case has one colour and marker (its shape by architecture) in every
panel, keyed by one legend below them.

Per scored store whose suite measures at steps of training, ``claims.png`` — one panel per claim:
its statistic had training stopped at each measured step, the final interval, the pass region and
the verdict (`rgbench.plots._claims`), so a reader sees whether a verdict still moves at the end.

Every figure is drawn for the size the report shows it at (its natural size, one image pixel per CSS
pixel): a per-case figure fits one of two columns, the overview one row; each title names the case,
the architecture and the input with all its parameters (`_title`).

A figure whose variables are absent is skipped (and listed in the report). ``report.html`` is a
single self-contained file (images embedded) with the verdicts, the leaderboard of the store (set to
fit a 1280 px window without scrolling sideways: `_REPORT_CSS`) and every figure. Matplotlib is used
through its object API (no pyplot, no global backend change).
"""

from __future__ import annotations

import base64
import html
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ._claims import plot_claims
from ._style import (
    _RC,
    _STAGE_STYLE,
    BAND,
    _band,
    _figure,
    _integer_ticks,
    _legend,
    _mean_se,
    _need,
    _safe,
    _save,
    _stage_label,
    _stages,
    _styled,
    _title,
)
from ._style import (
    _input_title as _input_title,  # reached by the tests as rgbench.plots._input_title
)

if TYPE_CHECKING:
    from ..leaderboard import Leaderboard
    from ..scoring import Report
    from ..suite import Suite

__all__ = [
    "plot_store",
    "plot_datasets",
    "plot_case",
    "plot_overview",
    "rank_rows",
    "claimed_rows",
    "PlotOutput",
    "FIGURES",
    "BAND",
]

FIGURES = {
    "erank": "effective rank vs layer",
    "pooled": "position-level vs mean-pooled effective rank",
    "drift": "kernel drift and update ratio per transition",
    "loss": "training loss against the Bayes and tokenwise floors",
    "training": "effective rank per layer and kernel drift per transition against the training step",
}


@dataclass
class PlotOutput:
    """Files written by `plot_datasets` / `plot_store`."""

    figures: dict[str, dict[str, Path]] = field(default_factory=dict)  # case → figure name → PNG
    skipped: dict[str, dict[str, str]] = field(default_factory=dict)  # case → figure name → why
    html: Path | None = None
    overview: Path | None = None
    claims: Path | None = None  # each claim's statistic along training (`_claims.plot_claims`), with a report

    @property
    def paths(self) -> list[Path]:
        extra = [p for p in (self.overview, self.claims, self.html) if p is not None]
        return [p for f in self.figures.values() for p in f.values()] + extra


@_styled
def _erank(ds: xr.Dataset, case: str, role: str = "all"):
    """Effective rank vs layer on the probe rows `role` selects (`rank_rows`), each stage a line."""
    er = rank_rows(ds, role)
    fig, (ax,) = _figure()
    x = er["layer"].values
    for stage in _stages(er):
        _band(ax, x, er.sel(stage=stage), color="C0", ls=_STAGE_STYLE.get(stage, ":"), label=_stage_label(stage))
    if "input_effective_rank" in ds.data_vars:
        ax.axhline(float(ds["input_effective_rank"].mean()), color="0.4", ls=":", lw=1, label="one-hot input")
    rows = _ROWS[role]
    ax.set(
        xlabel="layer", ylabel=f"effective rank (position-averaged{f', {rows}' if rows else ''})", title=_title(ds, case, "\n")
    )
    _integer_ticks(ax)
    _legend(ax, rows)
    return fig


@_styled
def _pooled(ds: xr.Dataset, case: str):
    _need(ds, "effective_rank", "effective_rank_pooled")
    fig, (ax,) = _figure()
    x = ds["layer"].values
    per_pos = _position_mean_rank(ds)
    for stage in _stages(per_pos):
        ls = _STAGE_STYLE.get(stage, ":")
        _band(ax, x, per_pos.sel(stage=stage), color="C0", ls=ls, label=f"per position, {_stage_label(stage)}")
        _band(ax, x, ds["effective_rank_pooled"].sel(stage=stage), color="C3", ls=ls, label=f"mean-pooled, {_stage_label(stage)}")
    if "input_effective_rank_pooled" in ds.data_vars:
        ax.axhline(float(ds["input_effective_rank_pooled"]), color="C3", ls=":", lw=1, label="input, pooled")
    ax.set(xlabel="layer", ylabel="effective rank", title=_title(ds, case, "\n"))
    _integer_ticks(ax)
    _legend(ax)
    return fig


@_styled
def _drift(ds: xr.Dataset, case: str):
    """Kernel drift above update ratio (one column, shared transition axis), so that the figure is as
    wide as the others."""
    names = [n for n in ("kernel_drift", "update_ratio") if n in ds.data_vars]
    if not names:
        raise KeyError("not stored: kernel_drift, update_ratio")
    fig, axes = _figure(len(names), height=3.0 if len(names) > 1 else 3.5, sharex=True)
    ylabels = {"kernel_drift": "kernel drift 1 − CKA", "update_ratio": "update ratio ‖Δh‖/‖h‖"}
    for ax, name in zip(axes, names):
        da = ds[name]
        t = da["transition"].values
        for stage in _stages(da):
            _band(ax, t, da.sel(stage=stage), color="C2", ls=_STAGE_STYLE.get(stage, ":"), label=_stage_label(stage))
        ax.set(ylabel=ylabels[name])
        _legend(ax)
    axes[0].set_title(_title(ds, case, "\n"))
    axes[-1].set_xticks(t, [f"{int(i)}→{int(i) + 1}" for i in t], rotation=45 if len(t) > 8 else 0)
    axes[-1].set_xlabel("transition ℓ→ℓ+1")
    return fig


@_styled
def _loss(ds: xr.Dataset, case: str):
    _need(ds, "loss")
    if ds.sizes.get("step", 0) == 0:
        raise ValueError("not trained (0 steps): no loss curve")
    fig, (ax,) = _figure()
    steps = ds["step"].values if "step" in ds.coords else np.arange(ds.sizes["step"])
    mean, se = _band(ax, steps, ds["loss"], color="C0", ls="-", label="training loss", marker=None)
    drawn = [mean, mean - se, mean + se]  # the band is NaN where one seed alone has a loss
    if "final_loss" in ds.data_vars:
        ax.scatter([steps[-1]] * ds.sizes["seed"], ds["final_loss"].values, s=8, color="k", zorder=3, label="final (eval)")
        drawn.append(ds["final_loss"].values)
    floors = {
        text: (float(ds[name]), color)
        for name, color, text in (("bayes_loss", "C3", "Bayes floor"), ("tokenwise_loss", "C1", "tokenwise floor"))
        if name in ds.data_vars and np.isfinite(float(ds[name]))
    }
    ylim = _fit(drawn)
    if ylim is not None:  # the curve's range, widened to a floor just beyond it (not to one far away)
        reach = _NEAR * (ylim[1] - ylim[0])
        ylim = _fit(drawn + [v for v, _ in floors.values() if ylim[0] - reach <= v <= ylim[1] + reach])
        ax.set_ylim(ylim)
    for text, (value, color) in floors.items():
        _floor(ax, value, ylim, color=color, text=text)
    ax.set(xlabel="step", ylabel="masked-token loss (nats)", title=_title(ds, case, "\n"))
    _legend(ax)
    return fig


_PAD = 0.05  # the loss axis' margin beyond the drawn values, a fraction of their span
_NEAR = 0.25  # a floor this fraction of the curve's span beyond it widens the loss axis to hold it


def _fit(arrays: list[Any]) -> tuple[float, float] | None:
    """y limits that hold every finite value of `arrays` with a margin of `_PAD` of their span (None: none finite)."""
    v = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays]) if arrays else np.array([])
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    pad = _PAD * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
    return lo - pad, hi + pad


def _floor(ax, value: float, ylim: tuple[float, float] | None, *, color: str, text: str) -> None:
    """A reference loss as a dashed line where it lies within `ylim`; else named in the legend as off
    the axis (``Bayes floor 1.643 ↓ below the axis``) and not drawn, so the axis stays fitted to the curve."""
    label = f"{text} {value:.3f}"
    if ylim is None or ylim[0] <= value <= ylim[1]:
        ax.axhline(value, color=color, ls="--", lw=1, label=label)
    else:
        where = "↓ below" if value < ylim[0] else "↑ above"
        ax.plot([], [], color=color, ls="--", lw=1, label=f"{label} {where} the axis")


class _Inapplicable(Exception):
    """A figure that does not apply to a case (not listed as skipped: nothing is missing)."""


@_styled
def _training(ds: xr.Dataset, case: str, role: str = "all"):
    """The flow over training: each layer's effective rank (on the rows `role` selects) and each
    transition's kernel drift against the training step of the stages measured (``measure.stages:
    [init, 500, …, trained]``)."""
    if "stage_step" not in ds.coords or ds.sizes.get("stage", 0) < 3:
        raise _Inapplicable("measured at init and trained only (no steps of training in measure.stages)")
    names = [n for n in ("effective_rank", "kernel_drift") if n in ds.data_vars]
    if not names:
        raise KeyError("not stored: effective_rank, kernel_drift")
    from matplotlib import colormaps

    order = np.argsort(ds["stage_step"].values, kind="stable")
    x = ds["stage_step"].values[order]
    fig, axes = _figure(len(names), height=3.0, sharex=True)
    for ax, name in zip(axes, names):
        da = (rank_rows(ds, role) if name == "effective_rank" else ds[name]).isel(stage=order)
        along = "layer" if name == "effective_rank" else "transition"
        labels = da[along].values
        cmap = colormaps["viridis"]
        for k, i in enumerate(labels):
            text = f"layer {int(i)}" if along == "layer" else f"{int(i)}→{int(i) + 1}"
            _band(ax, x, da.sel({along: i}), color=cmap(k / max(1, len(labels) - 1)), ls="-", label=text, marker="o")
        rows = _ROWS.get(role) if name == "effective_rank" else None
        ylabel = "effective rank" + (f", {rows}" if rows else "") if name == "effective_rank" else "kernel drift 1 − CKA"
        ax.set(ylabel=ylabel)
        _legend(ax, rows, ncols=2 if len(labels) > 4 else 1, fontsize=7.5, title_fontsize=7.5)
    axes[0].set_title(_title(ds, case, "\n"))
    axes[-1].set_xlabel("training step (0: init)")
    return fig


_PLOTTERS = {"erank": _erank, "pooled": _pooled, "drift": _drift, "loss": _loss, "training": _training}
_BY_ROLE = ("erank", "training")  # the figures drawn on the probe rows the case's claims read


def plot_case(
    ds: xr.Dataset, out_dir: str | Path, case: str | None = None, *, role: str = "all"
) -> tuple[dict[str, Path], dict[str, str]]:
    """Write the PNG figures of one case dataset; returns (written, skipped-with-reason).

    `role` (``all`` | ``token`` | ``mask``, as a prediction's) picks the probe rows of the effective
    rank figures (`rank_rows`; `claimed_rows` gives the role a suite's claims read on each case).
    """
    import matplotlib

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    case = case or str(ds.attrs.get("case_id", "case"))
    written, skipped = {}, {}
    for name, plotter in _PLOTTERS.items():
        try:
            fig = plotter(ds, case, role=role) if name in _BY_ROLE else plotter(ds, case)
        except _Inapplicable:
            continue
        except (KeyError, ValueError) as e:
            skipped[name] = str(e).strip("'\"")
            continue
        with matplotlib.rc_context(_RC):
            written[name] = _save(fig, out / f"{_safe(case)}_{name}.png")
    return written, skipped


def _position_mean_rank(ds: xr.Dataset) -> xr.DataArray:
    er = ds["effective_rank"]
    return er.mean("position", skipna=False) if "position" in er.dims else er


# The probe rows of a role as the figures name them (None: all rows, nothing to say).
_ROWS = {"all": None, "token": "token rows", "mask": "[MASK] rows"}


def rank_rows(ds: xr.Dataset, role: str = "all") -> xr.DataArray:
    """Position-averaged effective rank (seed, stage, layer) on the probe rows `role` selects, read as
    the scorer reads it (`rgbench.predictions.EffectiveRank.profile`: ``token`` the rows whose input is
    a vocabulary symbol, from ``effective_rank_rows``). Raises KeyError naming what is not stored."""
    from ..predictions import EffectiveRank, ObservableUnavailable

    if role not in _ROWS:
        raise ValueError(f"the figures draw the rows of role {' | '.join(_ROWS)} (got {role!r})")
    name = "effective_rank" if role == "all" else "effective_rank_rows"
    _need(ds, name)
    rank, every, stages = EffectiveRank(), slice(None), _stages(ds[name])
    try:
        if not stages:
            return rank.profile(ds, stage=None, sel=every, role=role)
        per_stage = [rank.profile(ds, stage=s, sel=every, role=role) for s in stages]
    except ObservableUnavailable as e:
        raise KeyError(f"not stored: {_ROWS[role]} ({e})") from None
    return xr.concat(per_stage, dim=xr.DataArray(stages, dims="stage", name="stage")).transpose("seed", "stage", ...)


def _is_effective_rank(observable: Any) -> bool:
    """Whether an observable reads the (position-level) effective rank: itself, or its collapse."""
    kind = getattr(observable, "kind", None)
    return kind == "effective_rank" or (kind == "rank_collapse" and getattr(observable, "of", None) == "effective_rank")


def claimed_rows(suite: Suite) -> dict[str, str]:
    """Case id → ``token`` where the suite's effective-rank predictions read token rows on that case: a
    prediction of the case with ``role: token``, or one that reads the case as its null or comparison
    (so a reference case is drawn on the rows it is compared on). Cases absent read all rows."""
    out: dict[str, str] = {}
    for case in suite.cases:
        for p in case.predict:
            if p.role != "token" or not _is_effective_rank(p.observable):
                continue
            compare_to, _ = p.test.reference()
            for name in (case.id, compare_to, *(n.case for n in p.nulls), *(n.compare_to for n in p.nulls)):
                if name:
                    out[name] = "token"
    return out


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


@_styled
def plot_overview(datasets: dict[str, xr.Dataset], out_dir: str | Path) -> Path | None:
    """Write ``overview.png`` (see the module docstring); None if no case has both stages stored.

    Panel (b) is the ``rank_collapse`` observable of the suites (default layers 1:), per seed. One
    legend below the panels serves them all: a case has the same colour and marker everywhere.
    """
    from ..predictions import RankCollapse

    cases = {c: ds for c, ds in datasets.items() if _has_rank_flow(ds)}
    if not cases:
        return None
    import matplotlib
    from matplotlib.ticker import NullLocator

    token_rows = any("effective_rank_rows" in ds.data_vars for ds in cases.values())
    # Panels of 3.8 in: the three-panel figure is about 1250 px wide, one row of the report at natural size.
    fig, axes = _figure(1, 3 if token_rows else 2, width=3.8, height=3.4, wspace=0.34)
    fig.subplots_adjust(bottom=0.2)  # room for the x labels above the legend
    ax, bx = axes[0], axes[1]
    cx = axes[2] if token_rows else None
    kind = {c: str(ds.attrs.get("architecture_kind", "?")) for c, ds in cases.items()}
    archs = sorted(set(kind.values()))
    markers = dict(zip(archs, "osD^v<>p*"))
    for i, (case, ds) in enumerate(cases.items()):
        color = f"C{i % 10}" if len(cases) <= 10 else matplotlib.colormaps["tab20"](i % 20)
        style = dict(color=color, marker=markers[kind[case]])
        mean, se = _mean_se(np.asarray(_position_mean_rank(ds).sel(stage="trained").transpose("seed", "layer").values, float))
        x = ds["layer"].values
        label = case if len(archs) == 1 or kind[case] in case else f"{case} ({kind[case]})"
        ax.plot(x, mean, ms=4, lw=1.2, label=label, **style)
        ax.fill_between(x, mean - se, mean + se, color=color, alpha=0.2, lw=0)
        m, e = _mean_se(np.asarray(RankCollapse().values(ds).values, float))
        bx.errorbar([float(ds.attrs.get("xi", np.nan))], [m], yerr=[e], ms=6, capsize=2, lw=1, **style)
        if cx is not None and "effective_rank_rows" in ds.data_vars:
            m, e = _mean_se(np.asarray(RankCollapse().values(ds, role="token").values, float))
            cx.errorbar([float(ds.attrs.get("xi", np.nan))], [m], yerr=[e], ms=6, capsize=2, lw=1, **style)
    ax.set(xlabel="layer", ylabel="effective rank, trained (position mean)", title="(a) effective rank vs depth")
    _integer_ticks(ax)
    xis = sorted({round(x, 3) for x in (float(ds.attrs.get("xi", np.nan)) for ds in cases.values()) if np.isfinite(x)})
    ticks = _uncrowded(xis, linthresh=0.5, min_gap=0.08)
    titles = (
        "(b) collapse (layer 1 → last) vs ξ" + (", all rows" if cx is not None else ""),
        "(c) the same on token rows (no [MASK] input)",
    )
    for panel, title in zip((bx, cx), titles):
        if panel is None:
            continue
        panel.axhline(0, color="0.5", lw=0.8)
        panel.set_xscale("symlog", linthresh=0.5)
        panel.margins(x=0.08)
        panel.set_xticks(ticks, [f"{x:g}" for x in ticks])
        panel.xaxis.set_minor_locator(NullLocator())
        panel.set(xlabel="input correlation length ξ", ylabel="rank collapse, trained − init", title=title)
    _shared_legend(fig, ax, several_architectures=len(archs) > 1)
    return _save(fig, Path(out_dir) / "overview.png")


def _has_rank_flow(ds: xr.Dataset) -> bool:
    """Whether a case can be drawn in the overview: per-position ranks at both stages, some finite."""
    return (
        "effective_rank" in ds.data_vars
        and "stage" in ds["effective_rank"].dims
        and {"init", "trained"} <= set(map(str, ds["stage"].values))
        and ds.sizes.get("layer", 0) > 2
        and bool(np.isfinite(_position_mean_rank(ds).sel(stage="trained").values).any())
        and ds.sizes.get("step", 1) > 0  # an untrained control has nothing to show here
    )


def _shared_legend(fig: Any, ax: Any, *, several_architectures: bool) -> None:
    """One legend below the panels, as many columns as the figure's width holds, for `ax`'s lines."""
    handles, labels = ax.get_legend_handles_labels()
    width_pt = fig.get_figwidth() * 72
    entry_pt = (max(map(len, labels)) * 0.6 + 2.5 + 2) * _RC["legend.fontsize"]  # characters, handle and padding
    ncol = int(max(1, min(len(labels), width_pt // entry_pt)))
    fig.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.05),
        ncol=ncol,
        handlelength=2.5,
        frameon=False,
        title=(
            f"{BAND}; colour and marker per case, the same in every panel"
            + (", marker shape by architecture" if several_architectures else "")
        ),
    )


def plot_datasets(
    datasets: dict[str, xr.Dataset],
    out_dir: str | Path,
    *,
    report: Report | None = None,
    leaderboard: Leaderboard | None = None,
    title: str = "rgbench report",
    suite: Suite | None = None,
) -> PlotOutput:
    """PNG figures of every case plus a self-contained ``report.html`` (verdicts, leaderboard, figures).

    With `suite`, each case's effective rank is drawn on the rows its claims read (`claimed_rows`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = PlotOutput()
    roles = claimed_rows(suite) if suite is not None else {}
    for case, ds in datasets.items():
        result.figures[case], result.skipped[case] = plot_case(ds, out_dir, case, role=roles.get(case, "all"))
    result.overview = plot_overview(datasets, out_dir)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if report is not None:
        parts += ["<h2>Verdicts</h2>", report.to_html()]
        result.claims = plot_claims(report, out_dir)
        if result.claims is not None:
            data = base64.b64encode(result.claims.read_bytes()).decode()
            parts.append(
                f'<figure class="wide"><img alt="claims along training" src="data:image/png;base64,{data}"><figcaption>'
                "each claim's statistic had training stopped at each measured step, against its pass region</figcaption></figure>"
            )
    if leaderboard is not None:
        parts += ["<h2>Leaderboard</h2>", f'<div class="board">{leaderboard.to_html(full=False)}</div>']
    parts.append("<h2>Figures</h2>")
    if result.overview is not None:
        data = base64.b64encode(result.overview.read_bytes()).decode()
        parts.append(
            f'<figure class="wide"><img alt="overview" src="data:image/png;base64,{data}"><figcaption>every case: '
            "effective rank vs depth, and rank collapse vs ξ</figcaption></figure>"
        )
    for case, figs in result.figures.items():
        ds = datasets[case]
        status = ds.attrs.get("status", "")
        parts.append(
            f"<h3>{html.escape(_title(ds, case))}</h3>"
            + (f"<p>status: {html.escape(str(status))}</p>" if status and status != "complete" else "")
        )
        for name, path in figs.items():
            data = base64.b64encode(path.read_bytes()).decode()
            parts.append(
                f'<figure><img alt="{html.escape(case)} {name}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(FIGURES[name])}</figcaption></figure>"
            )
        if result.skipped[case]:
            skipped = "; ".join(f"{n}: {why}" for n, why in result.skipped[case].items())
            parts.append(f"<p><em>not drawn — {html.escape(skipped)}</em></p>")
    from ..leaderboard._render import _page

    result.html = out_dir / "report.html"
    result.html.write_text(_page(title, "".join(parts)).replace("</head>", f"<style>{_REPORT_CSS}</style></head>", 1))
    return result


# The leaderboard of one store in the report (`.board`) is compact, so that the page needs no sideways
# scroll in a 1280 px window: small type and tight cells, a word longer than its cell broken rather than
# spilling, and no minimum width for the last column (the board's own page gives its prose one; here
# the table shrinks to the page instead). Whole words stay whole where the board fits without breaking
# them: a header is never split into letters to save space it does not need.
# The verdict table above it is set smaller too, a word wrapped only where it cannot fit its cell:
# controls-v2's 19 cases made it 1316 px wide otherwise.
_REPORT_CSS = (
    ".rgbench-score{font-size:.85em}.rgbench-score td{overflow-wrap:break-word}"  # the verdicts fit the page too
    ".board table{font-size:.8em}"
    ".board td,.board th{padding:.2em .3em;overflow-wrap:break-word}"
    ".board .rgbench-leaderboard td:last-child{min-width:0}"
)


def plot_store(path: str | Path, out_dir: str | Path, suite: Suite | str | Path | None = None) -> PlotOutput:
    """Figures of every stored case and ``report.html`` with the store's verdicts and leaderboard.

    Scoring uses `suite` (a Suite or suite file) or the suite recorded in the store, whose claims also
    pick the rows the effective rank figures draw (`claimed_rows`); if the store cannot be scored, the
    report holds the figures alone and says why.
    """
    from ..leaderboard import LeaderboardError, build_leaderboard
    from ..scoring import ScoreError, score_datasets
    from ..scoring._score import _load_suite
    from ..store import open_results

    datasets = open_results(path)
    report = board = loaded = None
    title = f"rgbench report: {Path(str(path)).name}"
    try:
        loaded = _load_suite(path, suite)
        report = score_datasets(datasets, loaded, store=str(path))
        board = build_leaderboard([report])
        title = f"rgbench report: {report.suite}" + (f" — {report.title}" if report.title else "")
    except (ScoreError, LeaderboardError) as e:
        print(f"rgbench plot: figures only, no verdicts ({e})", file=sys.stderr)
    return plot_datasets(datasets, out_dir, report=report, leaderboard=board, title=title, suite=loaded)
