"""``claims.png``: every claim's statistic along training against its pass region.

A suite that measures at steps of training (``measure.stages: [init, 1000, 3000, trained]``) gets,
per claim, the statistic had training stopped at each of those steps (the report's
``detail["along_training"]``, `rgbench.scoring`). One panel per claim: that statistic against the
step (log scale), the final statistic's interval as an error bar at the last step, the pass region
shaded and its bounds drawn, the verdict in the title — so a reader sees whether a verdict still
moves at the end of training, and toward which side. Diagnostics are left out (they claim nothing).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..scoring._render import VERDICT_COLORS
from ._style import _figure, _save, _styled

__all__ = ["claims_along_training", "plot_claims"]

_PASS_REGION = VERDICT_COLORS["PASS"]


def claims_along_training(report: Any) -> list[tuple[Any, list[int], list[float]]]:
    """(prediction, steps, statistic at each step) for every claim of `report` measured at two or more steps."""
    out = []
    for p in report.claims:
        along = (p.detail or {}).get("along_training") or {}
        points = sorted((int(step), float(v)) for step, v in along.items() if v is not None and math.isfinite(float(v)))
        if len(points) >= 2:
            out.append((p, [s for s, _ in points], [v for _, v in points]))
    return out


def _limits(values: list[float], ci: Any, bounds: list[float]) -> tuple[float, float]:
    """The y range: the statistic, its interval and the pass bounds, with a margin."""
    seen = [*values, *(c for c in (ci or ()) if c is not None and math.isfinite(c)), *bounds]
    lo, hi = min(seen), max(seen)
    pad = 0.12 * (hi - lo) if hi > lo else max(0.1, 0.1 * abs(hi))
    return lo - pad, hi + pad


@_styled
def plot_claims(report: Any, out_dir: str | Path) -> Path | None:
    """Write ``claims.png`` (see the module docstring); None where no claim was measured at two steps."""
    series = claims_along_training(report)
    if not series:
        return None
    nrows = math.ceil(len(series) / 4)
    ncols = math.ceil(len(series) / nrows)  # rows as full as they can be: 5 claims are 3 + 2, not 4 + 1
    # Four panels of 2.8 in: about 1250 px, one row of the report at natural size, as the overview.
    fig, axes = _figure(nrows, ncols, width=2.8, height=2.5, wspace=0.45, hspace=0.75)
    for ax, (p, steps, values) in zip(axes, series):
        verdict = p.verdict.value
        color = VERDICT_COLORS.get(verdict, "0.2")
        lo, hi = p.threshold or (None, None)
        bounds = [b for b in (lo, hi) if b is not None]
        ymin, ymax = _limits(values, p.ci, bounds)
        ax.axhspan(ymin if lo is None else lo, ymax if hi is None else hi, color=_PASS_REGION, alpha=0.1, lw=0)
        for b in bounds:
            ax.axhline(b, color=_PASS_REGION, lw=0.9, ls="--")
        ax.plot(steps, values, color=color, marker="o", ms=4, lw=1.3)
        if p.ci is not None and p.statistic is not None:
            below, above = p.statistic - p.ci[0], p.ci[1] - p.statistic
            ax.errorbar([steps[-1]], [p.statistic], yerr=[[below], [above]], color=color, capsize=3, lw=1.2)
        ax.set_ylim(ymin, ymax)
        ax.set_xscale("log")
        ax.set_xticks(steps, [f"{s:g}" for s in steps])
        ax.minorticks_off()
        name = p.claim_id or (p.claim if len(p.claim) <= 40 else p.claim[:39] + "…")
        ax.set_title(f"{p.case}: {name}\n{verdict}", color=color, fontsize=9)
        ax.set_xlabel("training step")
    for ax in axes[len(series) :]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("statistic")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    key = [
        Patch(color=_PASS_REGION, alpha=0.1, label="pass region (bound dashed)"),
        Line2D([], [], color="0.3", marker="o", ms=4, lw=1.3, label="statistic had training stopped at the step"),
        Line2D([], [], color="0.3", marker="|", ms=8, lw=1.2, label="its 95 % interval at the end; colour: verdict"),
    ]
    # below the bottom row's axis labels, which reach about 0.2 in under the figure's lower edge
    fig.legend(handles=key, loc="upper center", ncols=3, frameon=False, bbox_to_anchor=(0.5, -0.22 / fig.get_figheight()))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return _save(fig, Path(out_dir) / "claims.png")
