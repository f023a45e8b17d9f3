"""What git says of the code and of a suite file: the commit rgbench runs from, and a suite's
pre-registration record (its blob id, the last commit that touched it, that commit's time, and
whether the file on disk differs from it). Standard library only; every answer is None or a reason
when git or a repository is not there, never an exception."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "preregistration"]


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(where: Path | None = None) -> str | None:
    """The commit checked out where rgbench's code (or `where`) lives, or None outside a repository."""
    return _git(["rev-parse", "HEAD"], where or Path(__file__).resolve().parent) or None


def preregistration(suite_file: str | Path | None) -> dict[str, Any]:
    """The suite file's pre-registration record, taken when a run starts.

    ``{"file", "blob", "commit", "commit_time", "modified"}``: the file's git blob id as it is on disk,
    the last commit that touched it and that commit's time (ISO 8601), and whether the file on disk
    differs from that commit; or ``{"file", "reason"}`` when there is none (no file, no git, not in a
    repository, never committed)."""
    if suite_file is None:
        return {"file": None, "reason": "the suite was not read from a file"}
    path = Path(suite_file).resolve()
    record: dict[str, Any] = {"file": str(suite_file)}
    if not path.is_file():
        return record | {"reason": "the suite file is not on this machine"}
    top = _git(["rev-parse", "--show-toplevel"], path.parent)
    if top is None:
        return record | {"reason": "the suite file is not in a git repository (or git is not installed)"}
    blob = _git(["hash-object", "--", str(path)], path.parent)
    log = _git(["log", "-1", "--format=%H %cI", "--", str(path)], path.parent)
    if not log:
        return record | {"blob": blob, "reason": "the suite file was never committed"}
    commit, commit_time = log.split(" ", 1)
    committed_blob = _git(["rev-parse", f"{commit}:{path.relative_to(Path(top).resolve()).as_posix()}"], path.parent)
    return record | {"blob": blob, "commit": commit, "commit_time": commit_time, "modified": blob != committed_blob}
