"""One place that decides how wide rich output is."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console


def console(file: TextIO | None = None) -> Console:
    """A rich Console; when not writing to a terminal (pipes, CI logs) tables get 160 columns
    instead of rich's 80, so they stay readable rather than wrapping every cell."""
    file = file or sys.stdout
    width = None if file.isatty() else 160
    return Console(file=file, width=width)
