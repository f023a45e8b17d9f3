"""Renderings of a `Leaderboard`: markdown, CSV, HTML (a fragment or a page), a pandas frame.

Functions of a leaderboard, not methods of what builds it: `Leaderboard`'s methods of these names
call them. `_page` is the HTML page every rgbench report shares (`rgbench.plots` writes its own with it).
"""

from __future__ import annotations

import csv
import html
import io
import json
from typing import TYPE_CHECKING

from ..cost import human_count, human_flops
from ..scoring import FIGURES

if TYPE_CHECKING:
    from . import Leaderboard, Row

__all__ = ["to_markdown", "to_csv", "to_html", "to_pandas"]

_VSHORT = {"PASS": "PASS", "NONSPECIFIC": "NONSP", "FAIL": "FAIL", "INCONCLUSIVE": "INC", "ERROR": "ERR"}
_FIG = {
    "collapse": "collapse C",
    "drift_share": "drift top-2 share",
    "loss_gap_bayes": "gap to Bayes",
    "loss_gap_tokenwise": "gap to tokenwise",
}
_METHOD = (
    "Ranks and intervals: 95 % bootstrap over seeds; rows whose rank intervals overlap are not "
    "distinguishable. Only claims count (`purpose: claim`); a row's diagnostics that did not pass are "
    "listed beside it. Figures average the row's cases."
)
_UNRANKED = "Not ranked — no scored claims (their cases carry no predictions):"


def to_pandas(board: Leaderboard):
    """One row per ranked architecture, the CSV's columns — a `pandas.DataFrame`."""
    import pandas as pd

    return pd.read_csv(io.StringIO(to_csv(board)))


def _cells(board: Leaderboard, r: Row, short: bool = True) -> list[str]:
    def short_form(v: str) -> str:
        return "/".join(_VSHORT.get(x, x) for x in v.split(" / ")) if v else "—"

    verdicts = [short_form(r.verdicts.get(c, "")) if short else r.verdicts.get(c, "") for c in board.claims]
    figs = [("—" if r.figures.get(k) is None else r.figures[k].text()) for k in FIGURES]
    agreed = f"{r.agreed} / {r.scored}" + (f" ({r.errors} ERROR)" if r.errors else "")
    return [
        r.rank_text,
        r.label,
        agreed,
        str(r.nonspecific),
        r.agreement.text(".2f"),
        *verdicts,
        *figs,
        _duration(r.wall_seconds),
        "—" if r.params is None else human_count(r.params),
        "—" if r.train_flops is None else human_flops(r.train_flops),
        _duration(r.wall_per_seed),
        "; ".join(r.badges) or "—",
    ]


def _header(board: Leaderboard) -> list[str]:
    return [
        "rank (95 % CI)",
        "architecture",
        "claims supported / scored",
        "nonspecific",
        "agreement [95 % CI]",
        *_columns(board),
        *[f"{_FIG[k]} [95 % CI]" for k in FIGURES],
        "wall time",
        "parameters",
        "training FLOPs / seed",
        "wall time / seed",
        "diagnostics not passed",
    ]


def _columns(board: Leaderboard) -> list[str]:
    """A claim's column: its stable id, or C1, C2, … where its suite gives none."""
    return [c if board.claim_texts.get(c, c) != c else f"C{i + 1}" for i, c in enumerate(board.claims)]


def _legend(board: Leaderboard) -> list[str]:
    return [f"{col}: {board.claim_texts.get(c, c)}" for col, c in zip(_columns(board), board.claims)]


def to_markdown(board: Leaderboard) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    head = _header(board)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(c) for c in _cells(board, r)) + " |" for r in board.rows]
    lines += [
        "",
        *[f"- {cell(x)}" for x in _legend(board)],
        "",
        _METHOD,
        f"Sources: {', '.join(board.sources)}; data format v{board.data_format_version}.",
    ]
    if board.unranked:
        lines += ["", _UNRANKED, ""]
        lines += [f"- {cell(r.label)}: {', '.join(r.cases)}" for r in board.unranked]
    return "\n".join(lines) + "\n"


def to_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    figs = [f"{k}{s}" for k in FIGURES for s in ("", "_lo", "_hi")]
    w.writerow(
        [
            "rank_lo",
            "rank_hi",
            "architecture",
            "agreed",
            "scored",
            "errors",
            "nonspecific",
            "agreement",
            "agreement_lo",
            "agreement_hi",
            *board.claims,
            *figs,
            "wall_seconds",
            "params",
            "train_flops_per_seed",
            "wall_seconds_per_seed",
            "architecture_json",
        ]
    )
    for r in board.rows:
        fig_vals = []
        for k in FIGURES:
            v = r.figures.get(k)
            fig_vals += ["", "", ""] if v is None else [f"{x:.6g}" for x in v.to_list()]
        w.writerow(
            [
                r.rank[0],
                r.rank[1],
                r.label,
                r.agreed,
                r.scored,
                r.errors,
                r.nonspecific,
                *[f"{x:.6g}" for x in r.agreement.to_list()],
                *[r.verdicts.get(c, "") for c in board.claims],
                *fig_vals,
                "" if r.wall_seconds is None else f"{r.wall_seconds:.6g}",
                "" if r.params is None else r.params,
                "" if r.train_flops is None else f"{r.train_flops:.6g}",
                "" if r.wall_per_seed is None else f"{r.wall_per_seed:.6g}",
                json.dumps(r.architecture, sort_keys=True),
            ]
        )
    return buf.getvalue()


def to_html(board: Leaderboard, full: bool = True) -> str:
    """An HTML table (a whole page when `full`)."""
    colors = {"PASS": "#1a7f37", "NONSP": "#bc4c00", "FAIL": "#cf222e", "INC": "#9a6700", "ERR": "#8250df"}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _header(board))
    body = []
    for r in board.rows:
        cells = []
        for c in _cells(board, r):
            style = f' style="color:{colors[c]};font-weight:bold"' if c in colors else ""
            cells.append(f"<td{style}>{html.escape(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    legend = "".join(f"<li>{html.escape(x)}</li>" for x in _legend(board))
    frag = (
        f'<div class="scroll"><table class="rgbench-leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f"<ul>{legend}</ul><p>{html.escape(_METHOD)} Sources: {html.escape(', '.join(board.sources))}; "
        f"data format v{board.data_format_version}.</p>"
    )
    if board.unranked:
        items = "".join(f"<li>{html.escape(r.label)}: {html.escape(', '.join(r.cases))}</li>" for r in board.unranked)
        frag += f"<p>{html.escape(_UNRANKED)}</p><ul>{items}</ul>"
    if not full:
        return frag
    return _page("rgbench leaderboard", f"<h1>rgbench leaderboard</h1>{frag}")


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:90em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f6f8fa}"
    ".scroll{overflow-x:auto}"  # a table with a column per claim scrolls rather than overflow the page
    # Figures at their natural size (they are drawn for it: legible at 1 image pixel per CSS pixel),
    # side by side as the window allows; an image shrinks only in a window narrower than itself.
    # A wide figure (class "wide") has a row of its own.
    "figure{display:inline-block;margin:.5em;vertical-align:top;max-width:calc(100% - 1em)}"
    "figure.wide{display:block}figure img{display:block;max-width:100%;height:auto}"
    "figcaption{color:#444;font-size:.95em;margin-top:.2em}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _duration(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"
