"""Renderings of a `Leaderboard`: markdown, CSV, HTML (a fragment or a page), a pandas frame.

Functions of a leaderboard, not methods of what builds it: `Leaderboard`'s methods of these names
call them. `_page` is the HTML page every rgbench report shares (`rgbench.plots` writes its own with it).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from typing import TYPE_CHECKING

from .._board_rules import RULES
from ..cost import human_count, human_flops
from ..scoring import FIGURES

if TYPE_CHECKING:
    from . import Leaderboard, Row

__all__ = ["RULES", "to_markdown", "to_csv", "to_html", "to_pandas"]

_VSHORT = {"PASS": "PASS", "NONSPECIFIC": "NONSP", "FAIL": "FAIL", "INCONCLUSIVE": "INC", "ERROR": "ERR", "PENDING": "PEND"}
_FIG = {
    "collapse": "collapse C",
    "drift_share": "drift top-2 share",
    "loss_gap_bayes": "gap to Bayes",
    "loss_gap_tokenwise": "gap to tokenwise",
}
_METHOD = " ".join(RULES.values())
_UNRANKED = "Not ranked — no scored claims (their cases carry no predictions), or a claim of the ranking pending:"


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
        "—" if r.score is None else r.score.text(".2f"),
        *verdicts,
        *figs,
        _approx(r, _duration(r.wall_seconds)),
        "—" if r.params is None else human_count(r.params),
        "—" if r.train_flops is None else human_flops(r.train_flops),
        _approx(r, _duration(r.wall_per_seed)),
        "; ".join(r.badges) or "—",
    ]


def _header(board: Leaderboard) -> list[str]:
    return [
        "rank (95 % CI)",
        "architecture",
        "claims supported / scored",
        "nonspecific",
        "agreement [95 % CI]",
        "score: specific margin [95 % CI]",
        *_columns(board),
        *[f"{_FIG[k]}{'†' if board.figures_from else ''} [95 % CI]" for k in FIGURES],
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
    lines: list[str] = []
    for i, section in enumerate(board.sections or [board]):
        if board.sections:
            lines += [f"## Ranking {i + 1}: {section.name}", ""]
        lines += _section_markdown(section)
    lines += [_METHOD, *([_figures_note(board)] if board.figures_from else []), *_resumed_note(board), *_pending_note(board)]
    lines.append(f"Sources: {', '.join(board.sources)}; data format v{board.data_format_version}.")
    return "\n".join(lines) + "\n"


def _section_markdown(board: Leaderboard) -> list[str]:
    """One ranking: its table, its claims, what it is ranked on, who beats whom, its unranked rows."""

    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    head = _header(board)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(c) for c in _cells(board, r)) + " |" for r in board.rows]
    lines += ["", *[f"- {cell(x)}" for x in _legend(board)], "", _shared_text(board), "", *_beats_table(board)]
    if board.unranked:
        lines += [_UNRANKED, ""]
        lines += [f"- {cell(_unranked_text(r))}" for r in board.unranked]
        lines.append("")
    return lines


def _approx(r: Row, text: str) -> str:
    return f"~{text}" if r.wall_extrapolated and text != "—" else text


def _resumed_note(board: Leaderboard) -> list[str]:
    if not any(r.wall_extrapolated for b in (board.sections or [board]) for r in b.rows):
        return []
    return [
        "~ in a wall-time column: a case of the row resumed its training from a checkpoint, so it recorded "
        "only the steps after the resume; its training time before it is extrapolated at the same rate "
        "(rgbench.leaderboard._rankings._case_wall)."
    ]


def _unranked_text(r: Row) -> str:
    pending = f" — {r.pending} claim{'s' * (r.pending != 1)} pending" if r.pending else ""
    if r.missing:
        pending += f", {r.missing} of its {len(r.cases)} cases not stored yet"
    return f"{r.label}: {', '.join(r.cases)}{pending}"


def _pending_note(board: Leaderboard) -> list[str]:
    boards = board.sections or [board]
    if not any(r.pending for b in boards for r in [*b.rows, *b.unranked]):
        return []
    return [
        "PEND (PENDING): the claim needs a case — its own, the case it is compared with, or a null's — that has "
        "no result in its store yet (a store still being computed: `rgbench verify STORE --partial` says where "
        "each case stands), or it shares its multiplicity family with such a claim, so that its adjusted "
        "verdict can still change. A pending claim is neither scored nor ranked, and a row with one of the ranking's "
        "claims pending is listed apart; PEND is no ERROR: ERROR is a case that is there and diverged or "
        "failed (rgbench.leaderboard._rankings._pending)."
    ]


def _figures_note(board: Leaderboard) -> str:
    return (
        f"Figures (the columns marked †) are taken from the cases {', '.join(board.figures_from or [])} only "
        "(`--figures-from`); a row with none of them shows —."
    )


def _shared_text(board: Leaderboard) -> str:
    cols = dict(zip(board.claims, _columns(board)))
    if not board.shared:
        return "Not ranked: the rows share no claim, so no score compares them."
    return f"Ranked on the {len(board.shared)} claims every row states: {', '.join(cols[c] for c in board.shared)}."


def _beats_table(board: Leaderboard) -> list[str]:
    """P(the row's score beats the column's), over the bootstrap resamples (rliable's probability of improvement)."""
    if not board.beats or len(board.rows) < 2:
        return []
    labels = [r.label for r in board.rows]
    head = "| P(row beats column) | " + " | ".join(f"{i + 1}" for i in range(len(labels))) + " |"
    lines = [head, "|" + "---|" * (len(labels) + 1)]
    for i, a in enumerate(labels):
        cells = ["—" if a == b else f"{board.beats[a][b]:.2f}" for b in labels]
        lines.append(f"| {i + 1}. {a} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _beats_html(board: Leaderboard) -> str:
    if not board.beats or len(board.rows) < 2:
        return ""
    labels = [r.label for r in board.rows]
    head = "<th>P(row beats column)</th>" + "".join(f"<th>{i + 1}</th>" for i in range(len(labels)))
    body = "".join(
        f"<tr><td>{i + 1}. {html.escape(a)}</td>"
        + "".join(f"<td>{'—' if a == b else f'{board.beats[a][b]:.2f}'}</td>" for b in labels)
        + "</tr>"
        for i, a in enumerate(labels)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    figs = [f"{k}{s}" for k in FIGURES for s in ("", "_lo", "_hi")]
    w.writerow(
        [
            "ranking",
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
                r.ranking,
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


def _sort_keys(board: Leaderboard, r: Row) -> list[str]:
    """What each of a row's cells sorts by in the HTML page (numbers where the cell shows one)."""

    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.6g}"

    figs = [num(None if r.figures.get(k) is None else r.figures[k].value) for k in FIGURES]
    return [
        str(r.rank[0]),
        r.label,
        num(r.agreed / r.scored if r.scored else 0.0),
        str(r.nonspecific),
        num(r.agreement.value),
        num(None if r.score is None else r.score.value),
        *[r.verdicts.get(c, "") for c in board.claims],
        *figs,
        num(r.wall_seconds),
        num(r.params),
        num(r.train_flops),
        num(r.wall_per_seed),
        "; ".join(r.badges),
    ]


# Click a column's header to sort the rows by it (again: the other way); numbers sort as numbers.
_SORT_JS = (
    "document.querySelectorAll('table.rgbench-leaderboard th').forEach((th,i)=>{th.title='sort';"
    "th.addEventListener('click',()=>{const tb=th.closest('table').tBodies[0];const rows=[...tb.rows];"
    "const dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';"
    "const key=r=>{const t=r.cells[i].dataset.sort;const n=parseFloat(t);return t!==''&&!isNaN(n)?n:t};"
    "rows.sort((a,b)=>{const x=key(a),y=key(b);if(typeof x!==typeof y)return(typeof x==='number'?-1:1)*dir;"
    "return(x>y?1:x<y?-1:0)*dir});rows.forEach(r=>tb.appendChild(r))})});"
)


def to_html(board: Leaderboard, full: bool = True, heatmap_png: bytes | None = None) -> str:
    """An HTML table (a whole page when `full`: sortable columns, the claims with their tests and pass
    regions, the heatmap `heatmap_png` embedded where given, the sources and the commits they ran at;
    one file, nothing fetched from a network); one table per ranking where the board has several."""
    frag = ""
    for i, section in enumerate(board.sections or [board]):
        if board.sections:
            frag += f"<h2>Ranking {i + 1}: {html.escape(section.name)}</h2>"
        frag += _section_html(section)
    frag += f"<p>{html.escape(_METHOD)}</p>"
    if board.figures_from:
        frag += f"<p>{html.escape(_figures_note(board))}</p>"
    frag += "".join(f"<p>{html.escape(note)}</p>" for note in [*_resumed_note(board), *_pending_note(board)])
    sources = "".join(
        f"<li>{html.escape(src)}"
        + (f" (commit {html.escape(', '.join(x[:12] for x in board.commits[src]))})" if board.commits.get(src) else "")
        + "</li>"
        for src in board.sources
    )
    frag += f"<h2>Sources</h2><ul>{sources}</ul><p>Data format v{board.data_format_version}.</p>"
    if not full:
        return frag
    if heatmap_png is not None:
        data = base64.b64encode(heatmap_png).decode()
        frag = (
            f'{frag}<h2>Heatmap</h2><figure class="wide"><img alt="verdicts: architectures × claims" '
            f'src="data:image/png;base64,{data}"><figcaption>Each cell: the verdict, the statistic and its 95 % '
            "interval; blank: not tested.</figcaption></figure>"
        )
    return _page("rgbench leaderboard", f"<h1>rgbench leaderboard</h1>{frag}<script>{_SORT_JS}</script>")


def _section_html(board: Leaderboard) -> str:
    """One ranking: its sortable table, what it is ranked on, who beats whom, its claims, its unranked rows."""
    colors = {"PASS": "#1a7f37", "NONSP": "#bc4c00", "FAIL": "#cf222e", "INC": "#9a6700", "ERR": "#8250df", "PEND": "#57606a"}
    # Two tables, so that a board fits a window without scrolling sideways: the verdicts (rank,
    # support, score, a column per claim), then the figures, the costs and the diagnostics not passed.
    n = 6 + len(board.claims)
    parts = [list(range(n)), [0, 1, *range(n, n + len(FIGURES) + 5)]]
    header = _header(board)
    tables = []
    for columns in parts:
        head = "".join(f"<th>{html.escape(header[j])}</th>" for j in columns)
        body = []
        for r in board.rows:
            texts, keys = _cells(board, r), _sort_keys(board, r)
            cells = []
            for j in columns:
                style = f' style="color:{colors[texts[j]]};font-weight:bold"' if texts[j] in colors else ""
                cells.append(f'<td data-sort="{html.escape(keys[j])}"{style}>{html.escape(texts[j])}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        tables.append(
            f'<div class="scroll"><table class="rgbench-leaderboard"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )
    legend = "".join(
        f"<li><b>{html.escape(col)}</b>: {html.escape(board.claim_texts.get(c, c))}"
        + (f" — <i>{html.escape(board.claim_tests[c])}</i>" if board.claim_tests.get(c) else "")
        + "</li>"
        for col, c in zip(_columns(board), board.claims)
    )
    frag = (
        f"{tables[0]}<p>{html.escape(_shared_text(board))}</p>{_beats_html(board)}"
        f"<h3>Figures, costs and diagnostics not passed</h3>{tables[1]}"
        f"<h3>Claims</h3><ul>{legend}</ul>"
    )
    if board.unranked:
        items = "".join(f"<li>{html.escape(_unranked_text(r))}</li>" for r in board.unranked)
        frag += f"<p>{html.escape(_UNRANKED)}</p><ul>{items}</ul>"
    return frag


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:90em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f6f8fa}"
    ".scroll{overflow-x:auto}"  # a table with a column per claim scrolls rather than overflow the page
    # The board is compact: a one-store board fits 1280 px without scrolling; intervals wrap at their spaces.
    ".rgbench-leaderboard{font-size:.8em}.rgbench-leaderboard td,.rgbench-leaderboard th{padding:.2em .35em}"
    ".rgbench-leaderboard td:last-child{min-width:16em}"  # the diagnostics not passed: prose, not a column of words
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
