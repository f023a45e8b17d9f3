"""How version 2's drift-concentration verdicts depend on which transitions are counted.

Version 2 (`architectures-full`) judged the top-2 share of kernel drift relative to the squared
update ratio over transitions 1..L−1 (layers ``"1:"``). The mixer's mean ratio there, 1.19, is the
one specific RG PASS of version 2; this script recomputes it from the shipped store over other
windows — all transitions (``"0:"``), the last one left out (``"1:-1"``) — and with version 3's
rule (window 1..L−1 fixed, the smallest value with any one transition left out), which is why
version 3 fixes the window and requires every single transition left out to pass:

    python scripts/drift_window.py            # the table, seed means (architectures-full, trained)

Nothing is trained; the values are those `rgbench.predictions` computes for a claim.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import rgbench
from rgbench.predictions import DriftConcentration

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = {
    "1..5 (v2's window)": ("1:", False),
    "0..5": ("0:", False),
    "1..4": ("1:-1", False),
    "1..5, any one left out (v3)": ("1:", True),
}


def table(store: Path) -> str:
    cases = rgbench.open_results(store)
    lines = ["| case | " + " | ".join(WINDOWS) + " |", "|---|" + "---|" * len(WINDOWS)]
    for case_id, ds in cases.items():
        if "kernel_drift" not in ds or "update_ratio" not in ds:
            continue
        cells = []
        for layers, loo in WINDOWS.values():
            obs = DriftConcentration(top=2, relative_to="update_ratio", leave_one_out=loo)
            cells.append(f"{float(np.mean(obs.values(ds, stage='trained', layers=layers).values)):.3f}")
        lines.append(f"| {case_id} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", nargs="?", default=str(ROOT / "results" / "architectures-full.zarr"))
    print(table(Path(parser.parse_args().store)))


if __name__ == "__main__":
    main()
