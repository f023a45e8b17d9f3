"""What measuring a case costs against training it, per case of the shipped stores (nothing is run).

Reads each complete case's attributes: ``train_seconds`` (the ``train`` call, compilation included)
and ``measure_seconds`` (the ``measure`` call: forward passes of every stage over the probe batch
and every observable) where the store records it; older stores record only ``wall_seconds``, and
their measurement share is bounded from above by (wall − train) / train (building the input and
the provenance are counted as measurement). Cases that reused another case's training are skipped.

    python benchmarks/measure_cost.py                      # rg-paper-v2 and architectures-full
    python benchmarks/measure_cost.py results/noise.zarr   # any stores
    python benchmarks/measure_cost.py --json

``--run SUITE`` first runs the suite (``rgbench run``, full size, into a temporary store: nothing
shipped is touched; ``--only ID`` as there) and reports that store, so the figures are the current
code's — e.g. ``--run suites/rg-paper.yaml --json`` for ``benchmarks/results/measure_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import zarr

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["results/rg-paper-v2.zarr", "results/architectures-full.zarr"]
TARGET = 0.20  # measuring a case costs at most 20 % of training it


def cases(store: str) -> list[dict]:
    group = zarr.open_group(str(ROOT / store) if not Path(store).is_absolute() else store, mode="r", use_consolidated=False)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the store's .locks folder is rgbench's, not a zarr node
        children = sorted(group.groups())
    for name, child in children:
        attrs = dict(child.attrs)
        if attrs.get("status") != "complete" or attrs.get("train_reused_from") or not attrs.get("train_seconds"):
            continue
        train, wall = float(attrs["train_seconds"]), float(attrs["wall_seconds"])
        measured = attrs.get("measure_seconds")
        share = (float(measured) if measured is not None else wall - train) / train
        rows.append(
            {
                "store": store,
                "case": name,
                "train_seconds": train,
                "wall_seconds": wall,
                "measure_seconds": measured,
                "share": share,
                "upper_bound": measured is None,
                "meets_target": share <= TARGET,
            }
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stores", nargs="*", help=f"stores to read (default: {' '.join(DEFAULT)}; none with --run)")
    p.add_argument("--run", metavar="SUITE", help="run SUITE into a temporary store first and report that store")
    p.add_argument("--only", nargs="*", default=[], metavar="ID", help="with --run: these cases only")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="rgbench-measure-cost-") as tmp:
        stores = args.stores or ([] if args.run else DEFAULT)
        if args.run:
            store = str(Path(tmp) / "run.zarr")
            cmd = [sys.executable, "-m", "rgbench", "run", args.run, "--store", store, "--quiet"]
            subprocess.run(cmd + (["--only", *args.only] if args.only else []), check=True, cwd=ROOT, stdout=sys.stderr)
            stores = [*stores, store]
        rows = [r for s in stores for r in cases(s)]
    for r in rows:
        if args.run and r["store"].startswith(tmp):
            r["store"] = f"rgbench run {args.run}"
    if args.json:
        print(
            json.dumps(
                {
                    "target": TARGET,
                    "command": " ".join(["python benchmarks/measure_cost.py", *sys.argv[1:]]),
                    "all_meet_target": all(r["meets_target"] for r in rows),
                    "cases": rows,
                },
                indent=2,
            )
        )
        return
    print(f"{'store/case':52s} {'train s':>8s} {'measure s':>10s} {'share':>7s}  (target ≤ {TARGET:.0%})")
    for r in rows:
        m = r["measure_seconds"] if r["measure_seconds"] is not None else r["wall_seconds"] - r["train_seconds"]
        flag = "" if r["meets_target"] else "  over"
        bound = " ≤" if r["upper_bound"] else "  "
        print(
            f"{Path(r['store']).stem.removeprefix('rgbench run ') + '/' + r['case']:52s} {r['train_seconds']:8.1f} {m:10.1f} {bound}{r['share']:5.0%}{flag}"
        )


if __name__ == "__main__":
    main()
