"""Margins and seed counts of the version-3 suites, from data that already exists.

Run before any version-3 case (its output is committed with the suites it sets, and the suites quote
it):

    python scripts/margins_v3.py                 # the table
    python scripts/margins_v3.py --json results/margins-v3.json

**Margins.** For every statistic a version-3 claim tests, the per-seed values on that claim's *null
cases* (the conditions in which the claim says nothing should happen) are read from the shipped
stores of the same architecture family — version 2 (`rg-paper-v2`, `architectures-full`,
`architectures-v2`) and version 1 (`archive/rg-paper-v1`, `archive/architectures-v1`, `controls`)
where they hold the same statistic — and the margin is set at or beyond the 95th percentile of that
spread, never below version 2's margin:

* rank collapse C (token rows, layers 1..L, trained minus init): a context-using network collapses
  the token rows on i.i.d. input as well (by 6–10 effective dimensions in version 2), so every
  collapse claim is a contrast with the i.i.d. case, paired by seed — (i) C(short ξ) − C(i.i.d.) ≥ δ,
  (ii) C(short ξ) − C(long ξ) ≥ δ_Δ, and "absent at long ξ" |C(long ξ) − C(i.i.d.)| < δ (this
  contrast also replaces "Spearman ≤ −0.9", whose untrained null already reaches −1). The null of a
  difference of two collapse values is the difference between two null measurements: two seeds of
  the i.i.d. case (every ordered pair), and for Δ also the within-sequence shuffles of the two chains
  where a store has them (tokenwise); δ = P95 of |that difference|, at least 0.3;
* drift concentration, top-2 share over transitions 1..L−1, relative to the squared update ratio
  and relative to the even share, each the smallest value with one transition left out (the window
  is fixed and the claim robust to it): the nulls are the untrained network (every case at init)
  and trained i.i.d. input; the margin is P95 of the null values, at least 1.1 and 1.5;
* the [MASK]-distance diagnostic (last layer, trained − init): the null is i.i.d. input; the margin
  is P95 of its values, at least 0.

**Convergence gate.** The slope of the training loss over the last 10 % of the steps (nats per 1000
steps, `loss_slope`) is listed per family; version 3 gates every case on a mean slope not below
−0.01 (a loss still falling faster than 0.1 nats per 10k steps at the end makes its claims ERROR).

**Seeds (power).** For each claim, seeds are simulated from a normal with the claim's own per-seed
standard deviation in version 2 (its claim case), centred one margin-width beyond the pass bound
(the bound's distance from the nulls' mean, again beyond it: a true effect twice as far from the
nulls as the margin); a simulated run PASSes when its two-sided t interval at level 1 − α/m lies
inside the pass region (m the number of claims in the family: Holm's most stringent step) and the
seed rule holds (≥ 80 % of seeds past the bound where the claim asks for it). The seeds needed for
80 % power are the smallest n at which the simulated PASS rate reaches 0.8; a family's seed count is
the largest over its claims, at least 10, at most what its cost allows (tokenwise 40; the
context-using families 10 — about an hour a case on 2 cores), and the power at the count chosen is
reported beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import stats

from rgbench.predictions import DriftConcentration, LossSlope, MaskDistance, ObservableUnavailable, RankCollapse

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
ALPHA = 0.05
SEEDS_MIN = 10
SEEDS_CAP = {"tokenwise": 40, "mixer": 10, "windowed": 10, "transformer": 10}
GATE_SLOPE = -0.01  # nats per 1000 steps: the convergence gate of every version-3 case
# Version 2's margins: a version-3 margin is never below them.
FLOOR = {"collapse": 0.3, "selective": 0.3, "ratio_update": 1.1, "ratio_even": 1.5, "mask": 0.0}

# family → store → {role: case id}; roles: short, long, iid, shuffle-short, shuffle-long
SOURCES: dict[str, dict[str, dict[str, str]]] = {
    "tokenwise": {
        "rg-paper-v2.zarr": {
            "short": "short-xi",
            "long": "long-xi",
            "iid": "iid",
            "shuffle-short": "shuffle-short",
            "shuffle-long": "shuffle-long",
        },
        "archive/rg-paper-v1.zarr": {"short": "short-xi", "long": "long-xi"},
        "archive/controls-v1.zarr": {"iid": "iid"},
    },
    "mixer": {
        "architectures-full.zarr": {"short": "mixer-short-xi", "long": "mixer-long-xi", "iid": "mixer-iid"},
        "archive/architectures-v1.zarr": {"short": "mixer-short-xi", "long": "mixer-long-xi"},
    },
    "windowed": {
        "architectures-full.zarr": {"short": "windowed-short-xi", "long": "windowed-long-xi", "iid": "windowed-iid"},
        "archive/architectures-v1.zarr": {"short": "windowed-short-xi", "long": "windowed-long-xi"},
    },
    "transformer": {
        "architectures-v2.zarr": {
            "short": "transformer-short-xi",
            "long": "transformer-long-xi",
            "iid": "transformer-iid",
        },
    },
}
# The store whose claim cases give each family's per-seed spread for the power analysis (version 2).
PRIMARY = {
    "tokenwise": "rg-paper-v2.zarr",
    "mixer": "architectures-full.zarr",
    "windowed": "architectures-full.zarr",
    "transformer": "architectures-v2.zarr",
}

COLLAPSE = RankCollapse()
RATIO_UPDATE = DriftConcentration(relative_to="update_ratio", leave_one_out=True)
RATIO_EVEN = DriftConcentration(relative_to="even", leave_one_out=True)


def _open(store: str) -> xr.DataTree:
    return xr.open_datatree(RESULTS / store, engine="zarr")


def _v(obs, ds: xr.Dataset, **sel) -> np.ndarray:
    return np.asarray(obs.values(ds, **sel).values, dtype=float)


def _collapse(ds: xr.Dataset) -> np.ndarray:
    return _v(COLLAPSE, ds, layers="1:", role="token")


def null_samples(family: str) -> dict[str, dict[str, list[float]]]:
    """Per statistic, the null values per source ("store/case@stage" → values); a store that does not
    hold a statistic (version 1 measured no token rows) is left out of that statistic."""
    out: dict[str, dict[str, list[float]]] = {k: {} for k in ("collapse", "selective", "ratio_update", "ratio_even", "mask")}

    def put(key: str, src: str, fn) -> None:
        try:
            out[key][src] = np.asarray(fn(), dtype=float).ravel().tolist()
        except ObservableUnavailable:
            pass

    mask = MaskDistance()
    for store, roles in SOURCES[family].items():
        tree = _open(store)
        cases = {r: tree[c].to_dataset() for r, c in roles.items()}
        if "iid" in cases:
            ds, src = cases["iid"], f"{store}/{roles['iid']}"

            def pairs(ds=ds):  # two null measurements' difference: seed i − seed j of the i.i.d. case
                c = _collapse(ds)
                return [a - b for i, a in enumerate(c) for j, b in enumerate(c) if i != j]

            put("collapse", f"{src} (seed i − seed j)", pairs)
            put("selective", f"{src} (seed i − seed j)", pairs)
            put("ratio_update", f"{src}@trained", lambda: _v(RATIO_UPDATE, ds, stage="trained", layers="1:"))
            put("ratio_even", f"{src}@trained", lambda: _v(RATIO_EVEN, ds, stage="trained", layers="1:"))
            put("mask", src, lambda: _v(mask, ds, stage="trained", layers="-1") - _v(mask, ds, stage="init", layers="-1"))
        if "shuffle-short" in cases and "shuffle-long" in cases:
            put(
                "selective",
                f"{store}/shuffle-short − shuffle-long",
                lambda: _collapse(cases["shuffle-short"]) - _collapse(cases["shuffle-long"]),
            )
        for role, ds in cases.items():  # the untrained network: every case at init
            src = f"{store}/{roles[role]}@init"
            put("ratio_update", src, lambda ds=ds: _v(RATIO_UPDATE, ds, stage="init", layers="1:"))
            put("ratio_even", src, lambda ds=ds: _v(RATIO_EVEN, ds, stage="init", layers="1:"))
    return out


def claim_values(family: str) -> dict[str, list[float]]:
    """Per statistic, the version-2 per-seed values on the family's claim cases (the power's spread)."""
    tree = _open(PRIMARY[family])
    roles = SOURCES[family][PRIMARY[family]]
    short, long_, iid = (_collapse(tree[roles[r]].to_dataset()) for r in ("short", "long", "iid"))
    short_ds = tree[roles["short"]].to_dataset()
    return {
        "collapse": (short - iid).tolist(),
        "selective": (short - long_).tolist(),
        "absent": (long_ - iid).tolist(),
        "ratio_update": _v(RATIO_UPDATE, short_ds, stage="trained", layers="1:").tolist(),
        "ratio_even": _v(RATIO_EVEN, short_ds, stage="trained", layers="1:").tolist(),
    }


def loss_slopes(family: str) -> dict[str, list[float]]:
    out = {}
    for store, roles in SOURCES[family].items():
        tree = _open(store)
        for c in roles.values():
            try:
                out[f"{store}/{c}"] = _v(LossSlope(), tree[c].to_dataset()).tolist()
            except Exception as e:  # noqa: BLE001 — a store too coarse to fit: say so in the table
                out[f"{store}/{c}"] = [f"unavailable: {e}"]  # type: ignore[list-item]
    return out


def p95(values: dict[str, list[float]], absolute: bool) -> float | None:
    v = np.concatenate([np.asarray(x, dtype=float) for x in values.values()]) if values else np.array([])
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    return float(np.percentile(np.abs(v) if absolute else v, 95))


def power(
    sd: float, effect: float, n: int, level: float, *, two_bounds: bool = False, seeds_q: float | None = None, rng=None
) -> float:
    """Simulated PASS rate of `n` seeds drawn from N(bound + effect, sd) (N(0, sd) inside ±effect for
    an equivalence claim, `two_bounds`): t interval at 1 − `level` inside the region, and ≥ `seeds_q`
    of the seeds past the bound where given."""
    rng = rng or np.random.default_rng(0)
    reps = 4000
    if two_bounds:  # |mean| < effect by TOST: the (1 − 2·level) interval inside (−effect, effect)
        x = rng.normal(0.0, sd, size=(reps, n))
        m, se = x.mean(1), x.std(1, ddof=1) / math.sqrt(n)
        t = stats.t.ppf(1 - level, n - 1)
        return float(np.mean((m - t * se > -effect) & (m + t * se < effect)))
    x = rng.normal(effect, sd, size=(reps, n))  # the bound at 0
    m, se = x.mean(1), x.std(1, ddof=1) / math.sqrt(n)
    ok = m - stats.t.ppf(1 - level / 2, n - 1) * se > 0
    if seeds_q is not None:
        ok &= (x > 0).mean(1) >= seeds_q - 1e-9
    return float(np.mean(ok))


def decision_power(sd: float, shift: float, n: int, level: float, *, half: float | None = None, rng=None) -> float:
    """Simulated rate at which `n` seeds from N(shift, sd) — `shift` the true mean's distance past the
    bound (negative: short of it) — are *decided* at level `level`: the two-sided t interval clear of
    the bound on either side; for an equivalence (|·| < `half`, the true mean `shift` from the centre)
    the TOST interval inside ±half or clear of it."""
    rng = rng or np.random.default_rng(1)
    x = rng.normal(shift, sd, size=(4000, n))
    m, se = x.mean(1), x.std(1, ddof=1) / math.sqrt(n)
    if half is not None:
        t = stats.t.ppf(1 - level, n - 1)
        inside = (m - t * se > -half) & (m + t * se < half)
        outside = (m - t * se > half) | (m + t * se < -half)
        return float(np.mean(inside | outside))
    t = stats.t.ppf(1 - level / 2, n - 1)
    return float(np.mean((m - t * se > 0) | (m + t * se < 0)))


def seeds_to_decide(sd: float, shift: float, level: float, **kw) -> int | None:
    """Seeds at which version 2's own effect would be decided (PASS or FAIL) with 80 % probability."""
    if not sd > 0:
        return None
    for n in (*range(3, 60), *range(60, 201, 10)):
        if decision_power(sd, shift, n, level, **kw) >= 0.8:
            return n
    return None


def seeds_needed(sd: float, effect: float, level: float, **kw) -> int | None:
    if not (sd > 0 and effect > 0):
        return None
    for n in range(3, 201):
        if power(sd, effect, n, level, **kw) >= 0.8:
            return n
    return None


def family_table(family: str, n_claims: int) -> dict:
    nulls = null_samples(family)
    claims = claim_values(family)
    margins, centres = {}, {}
    for key, absolute in (
        ("collapse", True),
        ("selective", True),
        ("ratio_update", False),
        ("ratio_even", False),
        ("mask", False),
    ):
        q = p95(nulls[key], absolute)
        margins[key] = max(FLOOR[key], q) if q is not None else FLOOR[key]
        vals = [x for v in nulls[key].values() for x in v]
        centres[key] = float(np.mean(np.abs(vals) if absolute else vals)) if vals else None
        margins[key] = math.ceil(margins[key] * 100) / 100  # two decimals, rounded outward
    level = ALPHA / n_claims
    bound = {
        "collapse": margins["collapse"],
        "selective": margins["selective"],
        "absent": 0.0,
        "ratio_update": margins["ratio_update"],
        "ratio_even": margins["ratio_even"],
    }
    rows = {}
    for key, effect_of, q, two in (
        ("collapse", lambda: margins["collapse"], None, False),
        ("selective", lambda: margins["selective"], None, False),
        ("absent", lambda: margins["collapse"], None, True),
        ("ratio_update", lambda: margins["ratio_update"] - centres["ratio_update"], 0.8, False),
        ("ratio_even", lambda: margins["ratio_even"] - centres["ratio_even"], 0.8, False),
    ):
        sd = float(np.std(claims[key], ddof=1))
        effect = float(effect_of())
        shift = float(np.mean(claims[key])) - bound[key]
        half = margins["collapse"] if two else None
        rows[key] = {
            "sd_v2": sd,
            "mean_v2": float(np.mean(claims[key])),
            "effect": effect,
            "seeds_80": seeds_needed(sd, effect, level, two_bounds=two, seeds_q=q),
            "seeds_to_decide_v2": seeds_to_decide(sd, shift, level, half=half),
        }
    asks = [r["seeds_80"] or 0 for r in rows.values()]
    asks += [r["seeds_to_decide_v2"] if r["seeds_to_decide_v2"] is not None else 10**6 for r in rows.values()]
    wanted = max([*asks, SEEDS_MIN])
    seeds = min(wanted, SEEDS_CAP[family])
    for key, r in rows.items():
        r["power_at_seeds"] = (
            power(
                r["sd_v2"],
                r["effect"],
                seeds,
                level,
                two_bounds=key == "absent",
                seeds_q=0.8 if key.startswith("ratio") else None,
            )
            if r["sd_v2"] > 0 and r["effect"] > 0
            else None
        )
        shift = r["mean_v2"] - bound[key]
        r["decided_at_seeds"] = (
            decision_power(r["sd_v2"], shift, seeds, level, half=margins["collapse"] if key == "absent" else None)
            if r["sd_v2"] > 0
            else None
        )
    return {
        "margins": margins,
        "null_centres": centres,
        "null_p95": {k: p95(nulls[k], k in ("collapse", "selective")) for k in nulls},
        "null_sources": {k: {s: len(v) for s, v in d.items()} for k, d in nulls.items()},
        "holm_first_level": level,
        "claims": rows,
        "seeds_wanted": wanted,
        "seeds": seeds,
        "loss_slopes": {
            k: (None if isinstance(v[0], str) else [float(np.mean(v)), float(np.std(v, ddof=1))])
            for k, v in loss_slopes(family).items()
        },
    }


# Claims per family in version 3 (the Holm family's size): tokenwise states (i) and (iii) only —
# its optimal predictor sees one position, so (ii) is a diagnostic there.
N_CLAIMS = {"tokenwise": 5, "mixer": 7, "windowed": 7, "transformer": 7}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--family", nargs="*", default=list(SOURCES), choices=list(SOURCES))
    args = ap.parse_args(argv)
    out = {"alpha": ALPHA, "gate_loss_slope_at_least": GATE_SLOPE, "families": {}}
    for fam in args.family:
        t = family_table(fam, N_CLAIMS[fam])
        out["families"][fam] = t
        m = t["margins"]
        print(
            f"\n{fam}: margins δ_C = {m['collapse']}, δ_Δ = {m['selective']}, drift ÷ update² ≥ {m['ratio_update']}, "
            f"drift ÷ even ≥ {m['ratio_even']}, [MASK] distance > {m['mask']}"
        )
        print("  nulls' P95: " + ", ".join(f"{k} {v:.3f}" for k, v in t["null_p95"].items() if v is not None))
        print("  nulls' mean: " + ", ".join(f"{k} {v:.3f}" for k, v in t["null_centres"].items() if v is not None))
        for key, r in t["claims"].items():
            pw = "—" if r["power_at_seeds"] is None else f"{r['power_at_seeds']:.2f}"
            dec = "—" if r["decided_at_seeds"] is None else f"{r['decided_at_seeds']:.2f}"
            print(
                f"  {key:13s} v2 {r['mean_v2']:+.3f} ± SD {r['sd_v2']:.3f}; 80 % power for an effect {r['effect']:.3f} past the bound: "
                f"{r['seeds_80'] or '> 200'} seeds; v2's own effect decided with 80 %: {r['seeds_to_decide_v2'] or '> 200'} seeds; "
                f"at {t['seeds']} seeds: power {pw}, decided {dec}"
            )
        asks = "> 200" if t["seeds_wanted"] >= 10**6 else t["seeds_wanted"]
        print(
            f"  seeds: {t['seeds']} (power asks {asks}, cost allows {SEEDS_CAP[fam]}); Holm's first level α/{N_CLAIMS[fam]} = {t['holm_first_level']:.4f}"
        )
        slopes = ", ".join(f"{k.split('/')[-1]} {v[0]:+.4f}±{v[1]:.4f}" for k, v in t["loss_slopes"].items() if v)
        print(f"  loss slope, last 10 % (nats / 1000 steps, mean ± SD over seeds): {slopes}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
