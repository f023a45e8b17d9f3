"""Whether a store's criteria were pre-registered: its cases' records of the suite file, read back.

Each case records, when its run started, the suite file's git blob id, the last commit that touched
it, that commit's time, and whether the file on disk differed from it (`rgbench._git`). A report is
pre-registered when every case carries a record of one commit, unmodified, made before the first case
started; otherwise the report says why not.
"""

from __future__ import annotations

from typing import Any

__all__ = ["preregistration_text"]


def preregistration_text(cases: dict[str, Any]) -> str:
    """'pre-registered: suite committed <time>, first case started <time>', or why not, from a report's
    case summaries (`CaseSummary`: status, start_time and the suite file's record taken at the run's start)."""
    stored = [c for c in cases.values() if c.status != "missing"]
    records = [c.preregistration for c in stored]
    if not stored or any(r is None for r in records):
        return "no pre-registration record: some cases were written before rgbench recorded the suite's commit"
    for r in records:
        if "reason" in r:
            return f"not pre-registered: {r['reason']} ({r.get('file')})"
        if r.get("modified"):
            return f"not pre-registered: the suite file differed from its last commit when the run started ({r.get('file')})"
    commits = {(r["commit"], r["commit_time"]) for r in records}
    if len(commits) > 1:
        return "not pre-registered as one: the cases were run from different commits of the suite file"
    ((commit, committed),) = commits
    starts = sorted(c.start_time for c in stored if c.start_time)
    if starts and committed > starts[0]:
        return f"not pre-registered: the suite was committed at {committed}, after the first case started ({starts[0]})"
    first = f", first case started {starts[0]}" if starts else ""
    return f"pre-registered: suite committed {committed} (commit {commit[:12]}){first}"
