"""What every figure of `rgbench.plots` shares: the Matplotlib style and figure sizes (`_styled`,
`_figure`, `_save`), the line-and-band of a mean over seeds (`_band`, `BAND`, `_mean_se`), the
legend, and the titles that name a case's architecture and input with its parameters (`_title`)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

_STAGE_STYLE = {"init": "--", "trained": "-"}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "case"


# One style for every figure, applied with rc_context (no global change): sizes in points at _DPI
# pixels per inch, so 9 pt is 13.75 px on screen when the report shows the PNG at its natural size —
# which it does (every per-case figure fits one column of about 560 px, the overview one row of the
# page). Legend lines are 4 font sizes long: a dashed line's gaps show on both sides of its marker.
_DPI = 110
_RC = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.handlelength": 4.0,
    "legend.title_fontsize": 8.5,
}
_WIDTH = 5.0  # inches per panel column: about 550 px with the tight margins


def _styled(plot):
    """`plot` run under the figures' style `_RC`."""

    def styled(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_RC):
            return plot(*args, **kwargs)

    styled.__name__, styled.__qualname__, styled.__doc__ = plot.__name__, plot.__qualname__, plot.__doc__
    return styled


def _figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float = _WIDTH,
    height: float = 3.5,
    sharex: bool = False,
    wspace: float = 0.3,
    hspace: float = 0.12,
):
    """A figure of nrows × ncols panels of about `width` × `height` inches each, labels included.

    The spacing between panels is fixed and the outer margins are whatever the labels need:
    `_save` crops to the drawn artists (``bbox_inches="tight"``, one extra layout pass) rather than
    running constrained layout, whose solver doubled the drawing time.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows))
    fig.subplots_adjust(
        left=0.15 / ncols, right=1 - 0.03 / ncols, bottom=0.13 / nrows, top=1 - 0.11 / nrows, wspace=wspace, hspace=hspace
    )
    axes = fig.subplots(nrows, ncols, sharex=sharex, squeeze=False).ravel().tolist()
    return fig, axes


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=_DPI, bbox_inches="tight", pad_inches=0.06)
    return path


BAND = "mean ± SE over seeds"  # what every line and band of the figures is (`_band`, `plot_overview`)


def _band(ax, x, da: xr.DataArray, *, color, ls, label, marker: str | None = "o") -> tuple[Any, Any]:
    """Mean over seeds as a line, mean ± its standard error over seeds as a band (`BAND`; `_legend`
    says so); returns (mean, standard error)."""
    mean, se = _mean_se(np.asarray(da.transpose("seed", ...).values, dtype=float))
    ax.plot(x, mean, ls=ls, color=color, label=label, marker=marker, ms=3)
    ax.fill_between(x, mean - se, mean + se, color=color, alpha=0.18, lw=0)
    return mean, se


def _legend(ax, note: str | None = None, **kwargs) -> None:
    """The axes' legend, titled with what its lines and bands are (`BAND`), after `note` if given."""
    ax.legend(title=f"{note}; {BAND}" if note else BAND, **kwargs)


def _stages(da: xr.DataArray) -> list[str]:
    return [str(s) for s in da["stage"].values] if "stage" in da.dims else []


def _stage_label(stage: str) -> str:
    """A stage as a legend names it: init, trained, or "step N" for a step of training."""
    return f"step {stage}" if stage.isdigit() else stage


def _need(ds: xr.Dataset, *names: str) -> None:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise KeyError(f"not stored: {', '.join(missing)}")


# Parameter names as the titles write them (the rest by their field names).
_SYMBOLS = {"vocab": "V", "length": "T", "xi": "ξ", "xi_fast": "ξ_fast", "xi_slow": "ξ_slow", "lambda2": "λ₂", "pi": "π"}
_XI_FIELDS = ("xi", "xi_fast", "xi_slow")
_DEFAULT_MASKING = {"scheme": "bert", "rate": 0.15}


def _value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_value(x) for x in v[:3]) + (", …" if len(v) > 3 else "") + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def _input_spec(ds: xr.Dataset) -> dict[str, Any] | None:
    """The case's input section, from the spec JSON the runner stores in the attributes (None if absent)."""
    import json

    try:
        spec = json.loads(ds.attrs["spec"])
    except (KeyError, TypeError, ValueError):
        return None
    inp = spec.get("input") if isinstance(spec, dict) else None
    return inp if isinstance(inp, dict) else None


def _input_params(inp: dict[str, Any], outer: dict[str, Any] | None = None) -> tuple[list[str], list[float]]:
    """``name = value`` for V, T and every set parameter of the input (a wrapped input in brackets, less
    what it shares with the wrapper), the masking where not the default; and the ξ values stated."""
    bits, xis = [], []
    for key in ("vocab", "length"):
        if key in inp and (outer is None or inp[key] != outer.get(key)):
            bits.append(f"{_SYMBOLS[key]} = {_value(inp[key])}")
    for key, v in inp.items():
        if key in ("kind", "vocab", "length", "masking") or v is None:
            continue
        if isinstance(v, dict) and "kind" in v:  # shuffle: of = another input
            inner, inner_xis = _input_params(v, inp)
            bits.append(f"{key} {v['kind']}" + (f" ({', '.join(inner)})" if inner else ""))
            xis += inner_xis
            continue
        bits.append(f"{_SYMBOLS.get(key, key)} = {_value(v)}")
        if key in _XI_FIELDS and isinstance(v, (int, float)):
            xis.append(float(v))
    masking = inp.get("masking")
    if isinstance(masking, dict) and masking != (outer or {}).get("masking", _DEFAULT_MASKING):
        scheme, rate = masking.get("scheme", "?"), masking.get("rate")
        bits.append(f"{scheme} masking" + (f" {float(rate) * 100:g} %" if scheme != "single" and rate is not None else ""))
    return bits, xis


def _input_title(ds: xr.Dataset) -> str:
    """The input's kind and every parameter that tells it apart, e.g. ``block, V = 16, T = 64, blocks = 4,
    ξ_fast = 1, ξ_slow = 7``. The stored correlation length (attribute ``xi``) is added where no stated
    ξ equals it: ``ξ = 0`` for i.i.d., ``effective ξ = 0.574`` for a shuffled chain."""
    inp = _input_spec(ds)
    kind = (inp or {}).get("kind", ds.attrs.get("input_kind"))
    bits, stated = _input_params(inp) if inp is not None else ([], [])
    xi = ds.attrs.get("xi")
    try:
        xi = float(xi) if xi is not None else None
    except (TypeError, ValueError):
        xi = None
    if xi is not None and np.isfinite(xi) and not any(np.isclose(xi, x, rtol=1e-6, atol=1e-9) for x in stated):
        bits.append(f"{'effective ' if stated else ''}ξ = {xi:.3g}")
    return ", ".join(([str(kind)] if kind else []) + bits)


def _title(ds: xr.Dataset, case: str, sep: str = " · ") -> str:
    """Case, architecture and the input with all its parameters; `sep` = "\\n" puts the input on a line of its own."""
    arch = ds.attrs.get("architecture_kind")
    head = " · ".join([case] + ([str(arch)] if arch else []))
    inp = _input_title(ds)
    return head + (sep + inp if inp else "")


@_styled
def _integer_ticks(ax) -> None:
    """Layers are whole numbers: no 0.5 ticks on a shallow network's layer axis."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _mean_se(v: np.ndarray, axis: int = 0) -> tuple[np.ndarray | np.floating, np.ndarray | np.floating]:
    """Mean over seeds and its standard error, ignoring non-finite seeds (NaN error from one seed)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a slice of one finite seed has no SD
        return np.nanmean(v, axis=axis), np.nanstd(v, axis=axis, ddof=1) / np.sqrt(np.isfinite(v).sum(axis=axis))
