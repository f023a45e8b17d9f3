"""The claims table of a score report, as the results pages quote it.

    python scripts/claims_table.py results/rg-paper-v3.score.json
    python scripts/claims_table.py results/architectures-v3.score.json
    python scripts/claims_table.py results/architectures-v3.zarr --family mixer

prints one Markdown row per claim (purpose ``claim``; diagnostics are left to the full report): the
case, the claim's id, its statistic with the 95 % interval, the pass region, the verdict with the
seeds that pass, the statistic along training (where the suite measured intermediate stages) and
each null's verdict and statistic. docs/results.md pastes this output under each version-3 suite,
and ``tests/test_shipped.py`` checks that the page holds it verbatim, so a table cannot drift from
its report. Numbers are rounded to 3 significant digits. A results store in place of a report is
scored on the fly (`rgbench.scoring.score_store`); ``--family`` keeps the claims of one multiplicity family
(each architecture family's own in the version-3 suites): a family's verdicts are final as soon as
its cases are in the store, even while the store's other families are still being computed.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from rgbench.predictions import format_region


def number(x: float | None) -> str:
    """3 significant digits (a minus sign, not a hyphen); ``—`` for a missing or non-finite value."""
    if x is None or not math.isfinite(x):
        return "—"
    text = f"{x:.3g}"
    if "e" in text:
        text = f"{x:.2e}"
    return text.replace("-", "−")


def region(threshold: list) -> str:
    """The pass region as the report writes it (`rgbench.predictions.format_region`), with minus signs."""
    low, high = (list(threshold) + [None, None])[:2]
    return format_region((low, high)).replace("-", "−")


def along(p: dict) -> str:
    stages = (p.get("detail") or {}).get("along_training") or {}
    return ", ".join(number(v) for _, v in sorted(stages.items(), key=lambda kv: int(kv[0]))) or "—"


def nulls(p: dict) -> str:
    out = []
    for n in p.get("nulls") or []:
        name = n.get("ref") or n.get("case")
        out.append(f"{name}: {n['verdict']} {number(n.get('statistic'))}")
    return "; ".join(out) or "—"


def table(report: dict, family: str | None = None) -> str:
    rows = [
        "| case | claim (id) | statistic [95 % CI] | pass region | verdict (seeds passing) | along training | its nulls |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in report["predictions"]:
        if p.get("purpose", "claim") != "claim" or (family is not None and p.get("family") != family):
            continue
        ci = p.get("ci") or [None, None]
        stat = f"{number(p.get('statistic'))} [{number(ci[0])}, {number(ci[1])}]"
        seeds = f"{p['seeds_passing']}/{p['seeds']}" if p.get("seeds") else "—"
        rows.append(
            f"| {p['case']} | `{p.get('claim_id') or '—'}` | {stat} | {region(p.get('threshold') or [])} "
            f"| **{p['verdict']}** ({seeds}) | {along(p)} | {nulls(p)} |"
        )
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("report", type=Path, help="a score report (rgbench score STORE --format json) or a results store")
    parser.add_argument("--family", help="only the claims of this multiplicity family (e.g. mixer)")
    args = parser.parse_args(argv)
    report = load(args.report)
    families = sorted({str(p.get("family")) for p in report["predictions"] if p.get("family")})
    if args.family is not None and args.family not in families:
        parser.error(f"no claim of {args.report} is in family {args.family!r}; its families: {', '.join(families) or 'none'}")
    print(table(report, args.family), end="")


def load(path: Path) -> dict:
    """A score report's JSON: read from a report file, or a results store scored with the suite it records."""
    if path.suffix == ".json":
        return json.loads(path.read_text())
    from rgbench.scoring import score_store

    return json.loads(score_store(path).to_json())


if __name__ == "__main__":
    main()
