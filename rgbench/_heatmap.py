"""The leaderboard as a heatmap: architectures × claims, each cell coloured by its verdict and
labelled with the statistic, its 95 % interval and its specific margin (the row's score is the mean
of its margins over the claims every row of the ranking states; `plot_heatmap`; PNG or SVG by the
file's suffix).

A row with several predictions of one claim (two suites state it) shows each on its own line in the
cell, coloured by the first; a claim a row does not test is blank ("not tested"), never a FAIL. A
board of several rankings draws them one under the other, a line between them, each row labelled
with its ranking's number ("R2 1–3. mixer …": rank 1–3 of ranking 2). An architecture whose every
claim waits on a case not yet in its store comes last in its ranking, unranked ("pending: LABEL"),
its cells PEND.
"""

from __future__ import annotations

from pathlib import Path

from .leaderboard import Leaderboard
from .leaderboard._render import _VSHORT, _columns

__all__ = ["plot_heatmap", "VERDICT_COLOURS"]

#: Verdict → cell colour (light, so the text on it stays legible); the same in the HTML page.
VERDICT_COLOURS = {
    "PASS": "#a7e3b3",
    "NONSPECIFIC": "#f5c99b",
    "FAIL": "#f4a6a6",
    "INCONCLUSIVE": "#f2e3a0",
    "ERROR": "#d4c2f0",
    "PENDING": "#e6e6e6",  # a case not yet in its store (`rgbench.leaderboard._rankings._pending`)
}


def _cell_text(cells: list[dict]) -> str:
    lines = []
    for c in cells:
        text = _VSHORT.get(c["verdict"], c["verdict"])
        if c.get("statistic") is not None:
            text += f"\n{c['statistic']:.3g}"
            if c.get("ci"):
                text += f" [{c['ci'][0]:.3g}, {c['ci'][1]:.3g}]"
        if c.get("margin") is not None:
            text += f"\nmargin {c['margin']:+.2f}"
        lines.append(text)
    return "\n".join(lines)


def plot_heatmap(board: Leaderboard, path: str | Path) -> Path:
    """Write the heatmap of `board` to `path` (.png or .svg) and return the path."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    path = Path(path)
    # each ranking's rows, then those whose every claim is pending (a store still being computed)
    rows = [r for b in board.sections or [board] for r in (*b.rows, *(u for u in b.unranked if u.pending))]
    keys = board.claims
    columns = _columns(board)
    cell_w, cell_h = 1.35, 0.8 * max([1] + [len(r.cells.get(k, [])) for r in rows for k in keys])
    with matplotlib.rc_context({"font.size": 8, "svg.fonttype": "none"}):
        fig = Figure(figsize=(2.6 + cell_w * max(1, len(keys)), 0.9 + cell_h * max(1, len(rows))))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        for i, row in enumerate(rows):
            for j, key in enumerate(keys):
                cells = row.cells.get(key, [])
                colour = VERDICT_COLOURS.get(cells[0]["verdict"], "white") if cells else "white"
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white", lw=2))
                ax.text(j + 0.5, i + 0.5, _cell_text(cells) or "not tested", ha="center", va="center", fontsize=6.5)
        ax.set_xlim(0, len(keys))
        ax.set_ylim(len(rows), 0)
        ax.set_xticks([j + 0.5 for j in range(len(keys))], columns, rotation=30, ha="left")
        ax.xaxis.tick_top()
        number = {b.name: i + 1 for i, b in enumerate(board.sections)}
        prefix = [f"R{number[r.ranking]} " if board.sections else "" for r in rows]
        ranks = [f"{r.rank_text}." if r.rank[0] else "pending:" if r.pending else "unranked:" for r in rows]
        ax.set_yticks([i + 0.5 for i in range(len(rows))], [f"{p}{k} {r.label}" for p, k, r in zip(prefix, ranks, rows)])
        for i in range(1, len(rows)):
            if rows[i].ranking != rows[i - 1].ranking:
                ax.axhline(i, color="black", lw=1.5)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.1)
    return path
