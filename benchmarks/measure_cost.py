"""What measuring a case costs against training it, per case of the shipped stores (nothing is run).

Reads each complete case's attributes: ``train_seconds`` (the ``train`` call, compilation included)
and ``measure_seconds`` (the ``measure`` call: forward passes of every stage over the probe batch
and every observable) where the store records it; older stores record only ``wall_seconds``, and
their measurement share is bounded from above by (wall − train) / train (building the input and
the provenance are counted as measurement). Cases that reused another case's training are skipped.

    python benchmarks/measure_cost.py                      # rg-paper-v2 and architectures-full
    python benchmarks/measure_cost.py results/noise.zarr   # any stores
    python benchmarks/measure_cost.py --json
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import zarr

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["results/rg-paper-v2.zarr", "results/architectures-full.zarr"]
TARGET = 0.20  # measuring a case costs at most 20 % of training it


def cases(store: str) -> list[dict]:
    group = zarr.open_group(str(ROOT / store) if not Path(store).is_absolute() else store, mode="r",
                            use_consolidated=False)
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
        rows.append({"store": store, "case": name, "train_seconds": train, "wall_seconds": wall,
                     "measure_seconds": measured, "share": share, "upper_bound": measured is None,
                     "meets_target": share <= TARGET})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stores", nargs="*", default=DEFAULT)
    p.add_argument("--json", action="store_true", help="one JSON list on stdout")
    args = p.parse_args()
    rows = [r for s in args.stores for r in cases(s)]
    if args.json:
        print(json.dumps({"target": TARGET, "cases": rows}, indent=2))
        return
    print(f"{'store/case':52s} {'train s':>8s} {'measure s':>10s} {'share':>7s}  (target ≤ {TARGET:.0%})")
    for r in rows:
        m = r["measure_seconds"] if r["measure_seconds"] is not None else r["wall_seconds"] - r["train_seconds"]
        flag = "" if r["meets_target"] else "  over"
        bound = " ≤" if r["upper_bound"] else "  "
        print(f"{Path(r['store']).stem + '/' + r['case']:52s} {r['train_seconds']:8.1f} {m:10.1f} {bound}{r['share']:5.0%}{flag}")


if __name__ == "__main__":
    main()
