"""Verdict logic: the seed rule, the interval rule and the nulls, and the results they produce.

Given a test and its per-seed statistics (`rgbench.predictions.SeedStatistics`), `decide` gives the
across-seed verdict; `null_rule` turns a PASS that a null shares into NONSPECIFIC and a broken null
into ERROR. The semantics are documented in `rgbench.scoring`. Nothing here reads a store or a suite.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import numpy as np
from scipy import stats

from ..predictions import AbstractTest, SeedStatistics, format_region
from ._stats import binomial_pvalues, bootstrap_ci, interval_pvalues, mean_interval, ratio_interval, welch_interval

__all__ = [
    "Verdict",
    "ScoreError",
    "NullResult",
    "PredictionResult",
    "seed_rule",
    "decide",
    "redecide",
    "null_rule",
    "minimum_detectable_effect",
    "seeds_for_seed_rule",
    "seeds_for_interval",
]

_EPS = 1e-12
_MOST_SEEDS = 100_000  # "seeds needed" beyond this is reported as no finite number
ALPHA = 0.05  # the suite's default `alpha`: the unadjusted level of every rule, and of the nulls
INTERVALS = {
    "mean": "t ∪ Hall",
    "ratio": "t of log ratios",
    "welch": "Welch t",
    "bootstrap": "BCa bootstrap",
}


class ScoreError(Exception):
    """A problem the user must fix before anything can be scored (the message says how)."""


class Verdict(str, Enum):
    """Outcome of one prediction."""

    PASS = "PASS"
    NONSPECIFIC = "NONSPECIFIC"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------------------------
# Results


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ci_list(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_num(ci[0]), _num(ci[1])]


def _ci_text(statistic: float | None, ci: tuple[float, float] | None) -> str:
    if statistic is None:
        return "—"
    if ci is None:
        return f"{statistic:.4g}"
    return f"{statistic:.4g} [{ci[0]:.4g}, {ci[1]:.4g}]"


@dataclass(frozen=True)
class NullResult:
    """The same observable and test evaluated on one of a prediction's nulls."""

    ref: str  # readable: 'init', 'iid', 'iid@init', 'shuffle-long vs long-xi'
    case: str
    stage: str | int | None
    compare_to: str | None
    verdict: Verdict
    statistic: float | None = None
    ci: tuple[float, float] | None = None
    seeds_passing: int | None = None
    seeds: int | None = None
    reason: str = ""
    per_seed: dict[str, list] = field(default_factory=dict)
    uninformative: bool = False  # zero spread across seeds on 0 or a bound: it could not have passed

    @property
    def blocks(self) -> bool:
        """Whether this null makes a PASS nonspecific: the test passes here too, or cannot be told from passing."""
        return self.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)

    @property
    def text(self) -> str:
        seeds = "" if self.seeds is None else f", {self.seeds_passing}/{self.seeds}"
        flag = "UNINFORMATIVE " if self.uninformative else ""
        return f"{self.ref}: {flag}{self.verdict.value} {_ci_text(self.statistic, self.ci)}{seeds}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "case": self.case,
            "stage": self.stage,
            "compare_to": self.compare_to,
            "verdict": self.verdict.value,
            "statistic": _num(self.statistic),
            "ci": _ci_list(self.ci),
            "seeds_passing": self.seeds_passing,
            "seeds": self.seeds,
            "reason": self.reason,
            "per_seed": self.per_seed,
            "uninformative": self.uninformative,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NullResult:
        return cls(
            ref=d["ref"],
            case=d["case"],
            stage=d.get("stage"),
            compare_to=d.get("compare_to"),
            verdict=Verdict(d["verdict"]),
            statistic=d.get("statistic"),
            ci=tuple(d["ci"]) if d.get("ci") else None,
            seeds_passing=d.get("seeds_passing"),
            seeds=d.get("seeds"),
            reason=d.get("reason", ""),
            per_seed=d.get("per_seed") or {},
            uninformative=bool(d.get("uninformative", False)),
        )


def uninformative(result: PredictionResult, identity: float | None = None) -> bool:
    """Whether a null's data could not have told anything: the statistic has zero spread across seeds and
    sits on a bound of the pass region, or, for a comparison, on what comparing a thing with itself gives
    (`identity`: 0 for a difference, 1 for a ratio — two identical untrained networks, a stage compared
    with itself). Such a null never counts as one that failed."""
    values = np.asarray(result.per_seed.get("statistic", []), dtype=float)
    if len(values) < 2 or np.ptp(values) != 0 or result.verdict is Verdict.ERROR:
        return False
    marks = [b for b in (result.threshold or (None, None)) if b is not None]
    if identity is not None:
        marks.append(identity)
    return any(math.isclose(float(values[0]), b, abs_tol=1e-12) for b in marks)


@dataclass(frozen=True)
class PredictionResult:
    """The verdict of one prediction with the numbers behind it (and those of its nulls)."""

    case: str
    claim: str
    observable: str
    test: str
    verdict: Verdict
    statistic: float | None = None
    ci: tuple[float, float] | None = None
    seeds_passing: int | None = None
    seeds: int | None = None
    threshold: tuple[float | None, float | None] | None = None
    reason: str = ""
    observable_label: str = ""
    test_label: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    seeds_at_least: float | None = None
    per_seed: dict[str, list] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    nulls: tuple[NullResult, ...] = ()
    test_verdict: Verdict | None = None  # the test's own outcome on the case, before the nulls (None: = verdict)
    purpose: str = "claim"  # claim | diagnostic
    claim_id: str | None = None  # the prediction's stable `id:` (the leaderboard's column), if the suite gives one
    family: str | None = None  # the claim's multiplicity family (None: the suite's one family)
    gate: bool = False
    multiplicity: dict[str, Any] = field(default_factory=dict)  # method, alpha, family, size, adjusted p-values
    previous_verdict: str | None = None  # the verdict an earlier report gave, where it differs (`Report.with_previous`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "claim": self.claim,
            "observable": self.observable,
            "test": self.test,
            "verdict": self.verdict.value,
            "test_verdict": (self.test_verdict or self.verdict).value,
            "statistic": _num(self.statistic),
            "ci": _ci_list(self.ci),
            "seeds_passing": self.seeds_passing,
            "seeds": self.seeds,
            "threshold": None if self.threshold is None else [_num(self.threshold[0]), _num(self.threshold[1])],
            "reason": self.reason,
            "labels": {"observable": self.observable_label, "test": self.test_label},
            "spec": self.spec,
            "seeds_at_least": self.seeds_at_least,
            "per_seed": self.per_seed,
            "detail": _jsonable(self.detail),
            "nulls": [n.to_dict() for n in self.nulls],
            "purpose": self.purpose,
            "claim_id": self.claim_id,
            "family": self.family,
            "gate": self.gate,
            "multiplicity": _jsonable(self.multiplicity),
            "previous_verdict": self.previous_verdict,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PredictionResult:
        labels = d.get("labels") or {}
        return cls(
            case=d["case"],
            claim=d["claim"],
            observable=d["observable"],
            test=d["test"],
            verdict=Verdict(d["verdict"]),
            statistic=d.get("statistic"),
            ci=tuple(d["ci"]) if d.get("ci") else None,
            seeds_passing=d.get("seeds_passing"),
            seeds=d.get("seeds"),
            threshold=tuple(d["threshold"]) if d.get("threshold") else None,
            reason=d.get("reason", ""),
            observable_label=labels.get("observable", d["observable"]),
            test_label=labels.get("test", d["test"]),
            spec=d.get("spec") or {},
            seeds_at_least=d.get("seeds_at_least"),
            per_seed=d.get("per_seed") or {},
            detail=d.get("detail") or {},
            nulls=tuple(NullResult.from_dict(n) for n in d.get("nulls") or ()),
            test_verdict=Verdict(d["test_verdict"]) if d.get("test_verdict") else None,
            purpose=d.get("purpose", "claim"),
            claim_id=d.get("claim_id"),
            family=d.get("family"),
            gate=bool(d.get("gate", False)),
            multiplicity=d.get("multiplicity") or {},
            previous_verdict=d.get("previous_verdict"),
        )

    @property
    def threshold_text(self) -> str:
        return "" if self.threshold is None else format_region(self.threshold)

    @property
    def statistic_text(self) -> str:
        return _ci_text(self.statistic, self.ci)

    @property
    def nulls_text(self) -> str:
        return "; ".join(n.text for n in self.nulls) or "—"


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --------------------------------------------------------------------------------------------
# Rules


def seed_rule(passing: int, n: int, q: float, alpha: float = ALPHA) -> str:
    """'pass', 'fail' or 'inconclusive': `passing` of `n` seeds pass; PASS needs a fraction ≥ `q`, FAIL an
    exact binomial test rejecting "a fraction ≥ q pass" at `alpha` (doubled one-sided p, the reports'
    two-sided convention). Decidable: at any true fraction other than q, enough seeds give PASS or FAIL."""
    if passing / n >= q - _EPS:
        return "pass"
    if binomial_pvalues(passing, n, q)[1] <= alpha:
        return "fail"
    return "inconclusive"


def seeds_for_seed_rule(passing: int, n: int, q: float, alpha: float = ALPHA, most: int = _MOST_SEEDS) -> int | None:
    """Seeds at which the seed rule would decide if the observed pass fraction held (None: not within `most`)."""
    f = passing / n
    if f >= q - _EPS:
        return n
    ns = np.arange(n, most + 1)
    ks = np.floor(f * ns + 1e-9)
    decided = 2 * stats.binom.cdf(ks, ns, q) <= alpha
    return int(ns[np.argmax(decided)]) if decided.any() else None


def interval_family(test: AbstractTest, s: SeedStatistics) -> tuple[str, Callable[[float], tuple[float, float]]]:
    """(name, level → interval) of the statistic's interval, per `SeedStatistics.interval`."""
    kind = s.interval
    if kind == "mean":
        x = np.asarray(s.samples[0], dtype=float)
        return INTERVALS[kind], lambda level: _shifted(mean_interval(x, level), s.offset)
    if kind == "ratio":
        x = np.asarray(s.samples[0], dtype=float)
        return INTERVALS[kind], lambda level: ratio_interval(x, level)
    if kind == "welch":
        a, b = (np.asarray(v, dtype=float) for v in s.samples)
        return INTERVALS[kind], lambda level: welch_interval(a, b, level)
    return INTERVALS["bootstrap"], functools.lru_cache(maxsize=None)(lambda level: bootstrap_ci(s, level=level))


def _shifted(ci: tuple[float, float], offset: float) -> tuple[float, float]:
    return (ci[0] + offset, ci[1] + offset)


def _interval_rule(p_pass: float, p_fail: float, alpha: float) -> str:
    if p_pass <= alpha:
        return "pass"
    if p_fail <= alpha:
        return "fail"
    return "inconclusive"


def _distance_to_bound(s: SeedStatistics, ci: tuple[float, float]) -> tuple[float, float] | None:
    """(distance of the mean from the nearest finite bound of the pass region, the interval's half-width
    on that side): what `seeds_for_interval` scales; None for an unbounded region."""
    m = float(s.mean)
    bounds = [b for b in s.region if b is not None]
    if not bounds:
        return None
    b = min(bounds, key=lambda v: abs(m - v))
    return abs(m - b), (m - ci[0]) if b < m else (ci[1] - m)


def seeds_for_interval(
    n: int, distance: float, half: float, alpha: float, alpha_needed: float, most: int = _MOST_SEEDS
) -> int | None:
    """Seeds at which an interval of half-width `half` (at level 1 − `alpha`, from `n` seeds) would shrink,
    at the same spread, below `distance` at level 1 − `alpha_needed` (t quantiles and √(n/n′));
    None when the mean sits on the bound or no number up to `most` does it."""
    if distance <= 0 or half <= 0 or n < 2:
        return None
    ns = np.arange(n, most + 1, dtype=float)
    scale = stats.t.ppf(1 - alpha_needed / 2, ns - 1) / stats.t.ppf(1 - alpha / 2, n - 1) * np.sqrt(n / ns)
    ok = half * scale < distance
    return int(ns[np.argmax(ok)]) if ok.any() else None


def minimum_detectable_effect(s: SeedStatistics, alpha: float = ALPHA, power: float = 0.8) -> float | None:
    """The smallest shift of the mean from a bound this many seeds detect with `power` (t approximation:
    (t_{1−α/2} + t_{power}) · s/√n, n − 1 degrees of freedom); None below 2 seeds or with no spread."""
    v = np.asarray(s.values, dtype=float)
    n = len(v)
    if n < 2 or float(np.std(v, ddof=1)) == 0:
        return None
    return float((stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)) * np.std(v, ddof=1) / math.sqrt(n))


def decide(
    test: AbstractTest, s: SeedStatistics, *, alpha: float = ALPHA
) -> tuple[Verdict, tuple[float, float] | None, str, dict[str, Any]]:
    """Across-seed verdict of per-seed statistics at level `alpha`: (verdict, interval at 1 − α, reason, detail).

    `detail["decision"]` carries what a multiplicity correction needs to decide again (`redecide`):
    the interval rule's p-values, the seed rule's counts, the interval's name."""
    n = len(s.values)
    k = int(np.sum(s.passed))
    if n < 2:
        return Verdict.INCONCLUSIVE, None, f"only {n} seed: no interval can be formed; run ≥ 2 seeds (10 recommended)", {}
    name, interval = interval_family(test, s)
    ci = interval(1 - alpha)
    own = test.own_pvalues(s)
    _, extra = test.interval_verdict(s, ci)
    p_pass, p_fail = own if own is not None else interval_pvalues(interval, s.region, strict=test.strict_interval)
    decision = {
        "alpha": alpha,
        "interval": "TOST (two one-sided t-tests)" if own is not None else name,
        "p_pass": p_pass,
        "p_fail": p_fail,
        "seeds_passing": k,
        "seeds": n,
        "seeds_at_least": test.seeds_at_least,
        "region": list(s.region),
        "statistic": float(s.mean),
    }
    near = _distance_to_bound(s, ci) if own is None else None
    if near is not None:
        decision["distance_to_bound"], decision["half_width_toward_bound"] = near
    decision["seeds_needed_seed_rule"] = seeds_for_seed_rule(k, n, test.seeds_at_least, alpha)
    mde = minimum_detectable_effect(s, alpha)
    if mde is not None:
        decision["minimum_detectable_effect"] = mde
    verdict, reason = verdict_of(decision, ci, extra, p_pass=p_pass, p_fail=p_fail)
    return verdict, ci, reason, {**extra, "decision": decision}


def verdict_of(
    decision: dict[str, Any], ci: tuple[float, float], extra: dict[str, Any], *, p_pass: float, p_fail: float, note: str = ""
) -> tuple[Verdict, str]:
    """The verdict and its reason from the decision's numbers, deciding the interval rule with the given
    (possibly multiplicity-adjusted) p-values and the seed rule at the unadjusted α."""
    alpha, k, n, q = decision["alpha"], decision["seeds_passing"], decision["seeds"], decision["seeds_at_least"]
    region = tuple(decision["region"])
    by_seeds = seed_rule(k, n, q, alpha)
    by_interval = _interval_rule(p_pass, p_fail, alpha)
    level = f"{1 - alpha:.0%}".replace("%", " %")
    side = "pass" if decision["p_pass"] <= decision["p_fail"] else "fail"  # the side the data lean to
    p_text = f"p of {'passing' if side == 'pass' else 'failing'} = {decision['p_' + side]:.3g}"
    if note:
        p_text += f", {note} {p_pass if side == 'pass' else p_fail:.3g}"
    ci_text = f"{level} CI [{ci[0]:.4g}, {ci[1]:.4g}] ({decision['interval']}; {p_text})"
    if "p_tost" in extra:
        ci90 = f"{1 - 2 * alpha:.0%} t-CI [{extra['ci90_t'][0]:.4g}, {extra['ci90_t'][1]:.4g}]"
        ci_text = f"TOST ({ci90}; {p_text})"
    seeds_text = f"{k}/{n} seeds pass (PASS needs ≥ {q:.0%}; FAIL, a binomial test showing fewer)"
    where = {
        "pass": f"inside {format_region(region)}",
        "fail": f"outside {format_region(region)}",
        "inconclusive": f"straddles or touches the bound of {format_region(region)}",
    }[by_interval]
    if "p_tost" in extra:
        where = {
            "pass": f"shows |·| < {region[1]:.4g}",
            "fail": f"shows |·| > {region[1]:.4g}",
            "inconclusive": "shows neither equivalence nor difference",
        }[by_interval]
    reason = f"{seeds_text}; {ci_text} {where}"
    if by_seeds == by_interval == "pass":
        mde = decision.get("minimum_detectable_effect")
        if "p_tost" in extra and mde:  # an absent-claim: how large an effect these seeds would have seen
            reason += f"; {n} seeds detect a shift of {mde:.3g} with 80 % power"
        return Verdict.PASS, reason
    if by_seeds == by_interval == "fail":
        mde = decision.get("minimum_detectable_effect")
        return Verdict.FAIL, reason + (f"; {n} seeds detect a shift of {mde:.3g} with 80 % power" if mde else "")
    if "inconclusive" not in (by_seeds, by_interval):
        return Verdict.INCONCLUSIVE, reason + f" (seeds say {by_seeds.upper()}, the interval says {by_interval.upper()})"
    needs = [decision.get("seeds_needed_seed_rule")] if by_seeds == "inconclusive" else []
    if by_interval == "inconclusive" and "distance_to_bound" in decision:
        # the level this claim is decided at: α itself, or α scaled as its adjustment scaled its p
        p_raw = min(decision["p_pass"], decision["p_fail"])
        p_now = min(p_pass, p_fail)
        level = alpha * p_raw / p_now if 0 < p_raw < p_now else alpha
        needs.append(seeds_for_interval(n, decision["distance_to_bound"], decision["half_width_toward_bound"], alpha, level))
    if needs and None in needs:
        reason += "; no finite number of seeds decides it at this spread (the estimate sits on the bound)"
    elif needs and max(needs) > n:
        reason += f"; about {max(needs)} seeds would decide it at the observed spread"
    return Verdict.INCONCLUSIVE, reason


def redecide(result: PredictionResult, p_pass: float, p_fail: float, multiplicity: dict[str, Any]) -> PredictionResult:
    """The result decided again with multiplicity-adjusted p-values (its nulls stay at the unadjusted
    level, so an adjustment never makes a claim look more specific), then the nulls applied again."""
    decision = result.detail.get("decision")
    if not decision:  # an ERROR, or fewer than two seeds: nothing to decide again
        return replace(result, multiplicity=multiplicity)
    size = multiplicity["size"]
    note = f"{multiplicity['method']}-adjusted over {size} claim{'s' * (size != 1)}"
    if multiplicity["method"] == "none" or size == 1:
        note = ""
    verdict, reason = verdict_of(decision, result.ci, result.detail, p_pass=p_pass, p_fail=p_fail, note=note)
    own = replace(result, verdict=verdict, reason=reason, nulls=(), test_verdict=None, multiplicity=multiplicity)
    return null_rule(own, result.nulls)


def null_rule(own: PredictionResult, nulls: tuple[NullResult, ...]) -> PredictionResult:
    """The prediction's result given its nulls' results: ERROR if a null is ERROR (and the case is
    not), NONSPECIFIC if the case PASSes and a null PASSes or is INCONCLUSIVE; `own.verdict` becomes
    the ``test_verdict``."""
    verdict, reason = own.verdict, own.reason
    broken = [n for n in nulls if n.verdict is Verdict.ERROR]
    blocking = [n for n in nulls if n.blocks and not n.uninformative]
    idle = [n for n in nulls if n.uninformative]
    if verdict is not Verdict.ERROR and broken:
        verdict = Verdict.ERROR
        reason = "; ".join(f"null {n.ref!r} cannot be scored: {n.reason}" for n in broken)
    elif verdict is Verdict.PASS and blocking:
        verdict = Verdict.NONSPECIFIC
        also = "; ".join(
            f"{n.ref!r} {n.verdict.value} ({_ci_text(n.statistic, n.ci)}, {n.seeds_passing}/{n.seeds} seeds)" for n in blocking
        )
        reason = f"the test passes ({reason}), but it also passes or cannot be told from passing on the null {also}"
    if idle and verdict is not Verdict.ERROR:
        names = ", ".join(repr(n.ref) for n in idle)
        if len(idle) == len(nulls) and verdict is Verdict.PASS:
            reason += f"; specificity untested: every null ({names}) is uninformative — zero spread on 0 or a bound"
        else:
            reason += f"; null {names} is uninformative (zero spread on 0 or a bound) and not counted"
    return replace(own, verdict=verdict, reason=reason, nulls=tuple(nulls), test_verdict=own.verdict)
