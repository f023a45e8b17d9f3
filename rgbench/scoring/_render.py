"""Renderings of a `Report`: a summary line, the notes, markdown, HTML, a rich table, a pandas frame.

Functions of a report, not methods of what decides it: `Report`'s methods of these names call them.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any, Protocol, runtime_checkable

from ._preregistration import preregistration_text
from ._verdicts import PredictionResult, Verdict


@runtime_checkable
class Report(Protocol):
    """What a rendering reads of a report — `rgbench.scoring.Report` is one. Stated here, not imported,
    so that the report (which calls these functions) and its renderings do not import each other."""

    suite: str
    title: str
    alpha: float | None
    multiplicity: str | None
    previous: str | None
    predictions: list[PredictionResult]
    cases: dict[str, Any]

    @property
    def claims(self) -> list[PredictionResult]: ...

    @property
    def diagnostics(self) -> list[PredictionResult]: ...

    @property
    def counts(self) -> dict[str, int]: ...

    @property
    def diagnostic_counts(self) -> dict[str, int]: ...

    @property
    def family_counts(self) -> dict[str, dict[str, int]]: ...


#: The colour of each verdict in every rendering that colours them (HTML reports, `rgbench.plots`).
VERDICT_COLORS = {"PASS": "#1a7f37", "NONSPECIFIC": "#bc4c00", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#8250df"}

__all__ = ["VERDICT_COLORS", "summary_line", "notes", "to_markdown", "to_html", "repr_html", "to_pandas", "to_table"]


def _with_nulls(report: Report) -> bool:
    return any(p.nulls for p in report.predictions)


def _level(report: Report) -> str:
    return f"{1 - (report.alpha if report.alpha is not None else 0.05):.0%}".replace("%", " %")


def _p_text(p: PredictionResult) -> str:
    """The claim's p (of passing or of failing, whichever is smaller) and its adjusted value."""
    m = p.multiplicity
    if not m:
        return "—"
    raw, adjusted = min(m["p_pass"], m["p_fail"]), min(m["p_pass_adjusted"], m["p_fail_adjusted"])
    return f"{raw:.3g} → {adjusted:.3g}" if m["method"] != "none" and m["size"] > 1 else f"{raw:.3g}"


def _rows(report: Report, predictions: list[PredictionResult]) -> list[list[str]]:
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
            _p_text(p),
        ]
        for p in predictions
    ]
    if _with_nulls(report):
        for row, p in zip(rows, predictions):
            row.append(p.nulls_text)
    return rows


def _header(report: Report) -> list[str]:
    level = _level(report)
    adjusted = f"p → {report.multiplicity}" if report.multiplicity not in (None, "none") else "p"
    head = ["case", "claim", "observable", "test", "verdict", f"statistic [{level} CI]", "seeds", "pass region", adjusted]
    return head + [f"nulls (verdict, statistic [{level} CI], seeds)"] if _with_nulls(report) else head


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict)


def summary_line(report: Report) -> str:
    method = report.multiplicity or "none"
    alpha = report.alpha if report.alpha is not None else 0.05
    line = f"{len(report.claims)} claims (α = {alpha:g}, {method} over each family): {_counts_text(report.counts)}"
    families = report.family_counts
    if len(families) > 1:  # each family decided on its own: its counts (those that are not 0)
        line += "; by family: " + "; ".join(
            f"{f} " + ", ".join(f"{n} {v}" for v, n in c.items() if n) for f, c in families.items()
        )
    if report.diagnostics:
        line += f"; {len(report.diagnostics)} diagnostics: {_counts_text(report.diagnostic_counts)}"
    return line + _incomplete_text(report)


def _incomplete_text(report: Report) -> str:
    """'; of N cases, K missing, …' where some case of the suite has no complete result (a store still
    being computed, or a case that diverged or failed): why predictions that read them are ERROR."""
    statuses = Counter(str(c.status).split(":")[0] for c in report.cases.values())  # "failed: why"
    statuses.pop("complete", None)
    if not statuses:
        return ""
    parts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    return f"; of {len(report.cases)} cases, {parts} (not complete: `rgbench verify --partial` says where each stands)"


def _sections(report: Report) -> list[tuple[str, list[PredictionResult]]]:
    return [(title, ps) for title, ps in (("Claims", report.claims), ("Diagnostics", report.diagnostics)) if ps]


def to_markdown(report: Report) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    head = f"# {report.suite}" + (f": {report.title}" if report.title else "")
    lines = [head, "", summary_line(report)]
    if report.cases:
        lines += ["", preregistration_text(report.cases) + "."]
    if report.previous:
        lines += ["", f"(was X): the verdict in {report.previous}, where it differs."]
    for title, predictions in _sections(report):
        lines += ["", f"## {title}", "", "| " + " | ".join(_header(report)) + " |", "|" + "---|" * len(_header(report))]
        for row, p in zip(_rows(report, predictions), predictions):
            row[4] = f"**{row[4]}**" + (f" (was {p.previous_verdict})" if p.previous_verdict else "")
            lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    why = [f"- {cell(n)}" for n in notes(report)]
    if why:
        lines += ["", "Why not PASS:", "", *why]
    return "\n".join(lines) + "\n"


def to_html(report: Report) -> str:
    """An HTML fragment: the verdict table and why each non-PASS prediction is not PASS."""
    colors = VERDICT_COLORS
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _header(report))
    tables = []
    for title, predictions in _sections(report):
        body = []
        for row, p in zip(_rows(report, predictions), predictions):
            cells = [f"<td>{html.escape(c)}</td>" for c in row]
            cells[4] = f'<td style="color:{colors[p.verdict.value]};font-weight:bold">{p.verdict.value}</td>'
            body.append(f'<tr title="{html.escape(p.reason)}">' + "".join(cells) + "</tr>")
        tables.append(
            f'<p><b>{title}</b></p><table class="rgbench-score"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        )
    why = "".join(f"<li>{html.escape(n)}</li>" for n in notes(report))
    return (
        f"<p>{html.escape(summary_line(report))}</p>" + "".join(tables) + (f"<p>Why not PASS:</p><ul>{why}</ul>" if why else "")
    )


def notes(report: Report) -> list[str]:
    """Why each non-PASS prediction is not PASS, one line each."""
    lines = [
        f"{p.case} — {p.claim}: {p.verdict.value}: {p.reason}"
        for p in report.predictions
        if p.verdict is not Verdict.PASS and p.reason
    ]
    along = [
        f"{p.case} — {p.claim}: "
        + ", ".join(f"step {k}: {'—' if v is None else f'{v:.4g}'}" for k, v in p.detail["along_training"].items())
        for p in report.predictions
        if p.detail.get("along_training")
    ]
    return lines + (["Along training (the statistic had training stopped at each measured step):", *along] if along else [])


def repr_html(report: Report) -> str:  # Jupyter
    return f"<h4>{report.suite}" + (f": {report.title}" if report.title else "") + "</h4>" + to_html(report)


def to_pandas(report: Report):
    """One row per prediction: case, claim, verdict, test_verdict, purpose, statistic, ci_lo, ci_hi, seeds_passing,
    seeds, nulls (text), reason — a `pandas.DataFrame`."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "case": p.case,
                "claim": p.claim,
                "verdict": p.verdict.value,
                "test_verdict": (p.test_verdict or p.verdict).value,
                "purpose": p.purpose,
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
        fixed = h in ("verdict", "seeds", "pass region") or h.startswith(("statistic", "p"))
        width = min(12, max((len(p.case) for p in report.predictions), default=4)) if h == "case" else None
        t.add_column(
            h,
            no_wrap=fixed,
            overflow="ellipsis" if fixed else "fold",
            min_width=width,
            ratio=None if fixed else {"claim": 3, "case": 1}.get(h, 2),
        )
    for title, predictions in _sections(report):
        if title == "Diagnostics":
            t.add_section()
        for row, p in zip(_rows(report, predictions), predictions):
            row = [escape(c) for c in row]
            row[4] = f"[{style[p.verdict.value]}]{row[4]}[/]"
            row[1] = row[1] if p.purpose == "claim" else f"[dim](diagnostic)[/] {row[1]}"
            t.add_row(*row)
    return t
