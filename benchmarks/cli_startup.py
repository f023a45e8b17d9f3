"""CPU cost of the commands a newcomer types first, and which heavy libraries each one imports.

Runs each command in a fresh interpreter ``--repeat`` times and reports the median CPU seconds
(user + system of the child, the steady figure on a shared machine), the median wall seconds and
whether JAX, xarray, SciPy or matplotlib were imported (checked in a separate run that lists
``sys.modules`` after the command). The baseline is the bare interpreter, ``python -c pass``.

    python benchmarks/cli_startup.py              # every command, 5 runs each
    python benchmarks/cli_startup.py --json       # one JSON dict on stdout
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = "suites/rg-paper.yaml"
COMMANDS = {
    "python -c pass": None,
    "rgbench --help": ["--help"],
    "rgbench list": ["list"],
    "rgbench list --json": ["list", "--json"],
    f"rgbench validate {SUITE}": ["validate", SUITE],
    f"rgbench show {SUITE}": ["show", SUITE],
}
HEAVY = ("jax", "equinox", "optax", "xarray", "zarr", "scipy", "matplotlib")

_PROBE = """
import contextlib, io, sys
from rgbench.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def _child_cpu(argv: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def measure(repeat: int) -> dict:
    out: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "repeat": repeat,
        "commands": {},
    }
    for label, args in COMMANDS.items():
        argv = [sys.executable, "-c", "pass"] if args is None else [sys.executable, "-m", "rgbench", *args]
        runs = [_child_cpu(argv) for _ in range(repeat)]
        heavy: list[str] = []
        if args is not None:
            probe = subprocess.run(
                [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args], cwd=ROOT, capture_output=True, text=True, check=True
            )
            heavy = [m for m in (probe.stdout.strip().splitlines() or [""])[-1].split(",") if m]
        out["commands"][label] = {
            "cpu_s": statistics.median(r[0] for r in runs),
            "wall_s": statistics.median(r[1] for r in runs),
            "heavy_imports": heavy,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON dict on stdout")
    args = parser.parse_args()
    result = measure(args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['machine']}; median of {args.repeat} runs")
    print(f"{'command':44s} {'CPU s':>7s} {'wall s':>7s}  heavy imports")
    for label, r in result["commands"].items():
        print(f"{label:44s} {r['cpu_s']:7.2f} {r['wall_s']:7.2f}  {', '.join(r['heavy_imports']) or '—'}")


if __name__ == "__main__":
    main()
