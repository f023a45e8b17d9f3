"""Renderings of a `Report`: a summary line, the notes, markdown, HTML, a rich table, a pandas frame.

Functions of a report, not methods of what decides it: `Report`'s methods of these names call them.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ._verdicts import Verdict

if TYPE_CHECKING:
    from ._report import Report

__all__ = ["summary_line", "notes", "to_markdown", "to_html", "repr_html", "to_pandas", "to_table"]


def _with_nulls(report: Report) -> bool:
    return any(p.nulls for p in report.predictions)


def _rows(report: Report) -> list[list[str]]:
    rows = [
        [
            p.case,
            p.claim,
            p.observable_label or p.observable,
            p.test_label or p.test,
            p.verdict.value,
            p.statistic_text,
            "—" if p.seeds is None else f"{p.seeds_passing}/{p.seeds}",
            p.threshold_text,
        ]
        for p in report.predictions
    ]
    if _with_nulls(report):
        for row, p in zip(rows, report.predictions):
            row.append(p.nulls_text)
    return rows


def _header(report: Report) -> list[str]:
    head = ["case", "claim", "observable", "test", "verdict", "statistic [95 % CI]", "seeds", "pass region"]
    return head + ["nulls (verdict, statistic [95 % CI], seeds)"] if _with_nulls(report) else head


def summary_line(report: Report) -> str:
    c = report.counts
    return f"{len(report.predictions)} predictions: " + ", ".join(f"{c[v.value]} {v.value}" for v in Verdict)


def to_markdown(report: Report) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    head = f"# {report.suite}" + (f": {report.title}" if report.title else "")
    lines = [head, "", summary_line(report), "", "| " + " | ".join(_header(report)) + " |", "|" + "---|" * len(_header(report))]
    for row, p in zip(_rows(report), report.predictions):
        row[4] = f"**{row[4]}**"
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    why = [f"- {cell(n)}" for n in notes(report)]
    if why:
        lines += ["", "Why not PASS:", "", *why]
    return "\n".join(lines) + "\n"


def to_html(report: Report) -> str:
    """An HTML fragment: the verdict table and why each non-PASS prediction is not PASS."""
    colors = {"PASS": "#1a7f37", "NONSPECIFIC": "#bc4c00", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#8250df"}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _header(report))
    body = []
    for row, p in zip(_rows(report), report.predictions):
        cells = [f"<td>{html.escape(c)}</td>" for c in row]
        cells[4] = f'<td style="color:{colors[p.verdict.value]};font-weight:bold">{p.verdict.value}</td>'
        body.append(f'<tr title="{html.escape(p.reason)}">' + "".join(cells) + "</tr>")
    why = "".join(f"<li>{html.escape(n)}</li>" for n in notes(report))
    return (
        f'<p>{html.escape(summary_line(report))}</p><table class="rgbench-score"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>" + (f"<p>Why not PASS:</p><ul>{why}</ul>" if why else "")
    )


def notes(report: Report) -> list[str]:
    """Why each non-PASS prediction is not PASS, one line each."""
    return [
        f"{p.case} — {p.claim}: {p.verdict.value}: {p.reason}"
        for p in report.predictions
        if p.verdict is not Verdict.PASS and p.reason
    ]


def repr_html(report: Report) -> str:  # Jupyter
    return f"<h4>{report.suite}" + (f": {report.title}" if report.title else "") + "</h4>" + to_html(report)


def to_pandas(report: Report):
    """One row per prediction: case, claim, verdict, test_verdict, statistic, ci_lo, ci_hi, seeds_passing,
    seeds, nulls (text), reason — a `pandas.DataFrame`."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "case": p.case,
                "claim": p.claim,
                "verdict": p.verdict.value,
                "test_verdict": (p.test_verdict or p.verdict).value,
                "statistic": p.statistic,
                "ci_lo": None if p.ci is None else p.ci[0],
                "ci_hi": None if p.ci is None else p.ci[1],
                "seeds_passing": p.seeds_passing,
                "seeds": p.seeds,
                "nulls": p.nulls_text,
                "reason": p.reason,
            }
            for p in report.predictions
        ]
    )


def to_table(report: Report):
    """A `rich.table.Table` for the terminal."""
    from rich.markup import escape
    from rich.table import Table

    style = {
        "PASS": "bold green",
        "NONSPECIFIC": "bold dark_orange",
        "FAIL": "bold red",
        "INCONCLUSIVE": "bold yellow",
        "ERROR": "bold magenta",
    }
    t = Table(title=f"{report.suite}" + (f": {report.title}" if report.title else ""), caption=summary_line(report), expand=True)
    for h in _header(report):
        # numbers and verdicts never wrap; words wrap in the text columns
        fixed = h in ("verdict", "seeds", "pass region", "statistic [95 % CI]")
        width = min(12, max((len(p.case) for p in report.predictions), default=4)) if h == "case" else None
        t.add_column(
            h,
            no_wrap=fixed,
            overflow="ellipsis" if fixed else "fold",
            min_width=width,
            ratio=None if fixed else {"claim": 3, "case": 1}.get(h, 2),
        )
    for row, p in zip(_rows(report), report.predictions):
        row = [escape(c) for c in row]
        row[4] = f"[{style[p.verdict.value]}]{row[4]}[/]"
        t.add_row(*row)
    return t
