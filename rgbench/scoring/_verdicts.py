"""Verdict logic: the seed rule, the interval rule and the nulls, and the results they produce.

Given a test and its per-seed statistics (`rgbench.predictions.SeedStatistics`), `decide` gives the
across-seed verdict; `null_rule` turns a PASS that a null shares into NONSPECIFIC and a broken null
into ERROR. The semantics are documented in `rgbench.scoring`. Nothing here reads a store or a suite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import numpy as np

from ..predictions import AbstractTest, SeedStatistics, format_region
from ._stats import bootstrap_ci

__all__ = ["Verdict", "ScoreError", "NullResult", "PredictionResult", "seed_rule", "decide", "null_rule"]

_EPS = 1e-12


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
    stage: str | None
    compare_to: str | None
    verdict: Verdict
    statistic: float | None = None
    ci: tuple[float, float] | None = None
    seeds_passing: int | None = None
    seeds: int | None = None
    reason: str = ""
    per_seed: dict[str, list] = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        """Whether this null makes a PASS nonspecific: the test passes here too, or cannot be told from passing."""
        return self.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)

    @property
    def text(self) -> str:
        seeds = "" if self.seeds is None else f", {self.seeds_passing}/{self.seeds}"
        return f"{self.ref}: {self.verdict.value} {_ci_text(self.statistic, self.ci)}{seeds}"

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
        )


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


def seed_rule(passing: int, n: int, q: float) -> str:
    """'pass', 'fail' or 'inconclusive': `passing` of `n` seeds pass, PASS needs a fraction ≥ `q`, FAIL ≤ 1 − `q`."""
    f = passing / n
    if f >= q - _EPS:
        return "pass"
    if 1 - f >= q - _EPS:
        return "fail"
    return "inconclusive"


def decide(test: AbstractTest, s: SeedStatistics) -> tuple[Verdict, tuple[float, float] | None, str, dict[str, Any]]:
    """Across-seed verdict of per-seed statistics: (verdict, 95 % CI, reason, detail)."""
    n = len(s.values)
    k = int(np.sum(s.passed))
    q = test.seeds_at_least
    region = format_region(s.region)
    if n < 2:
        return Verdict.INCONCLUSIVE, None, f"only {n} seed: no interval can be formed; run ≥ 2 seeds (10 recommended)", {}
    ci = bootstrap_ci(s)
    by_seeds = seed_rule(k, n, q)
    by_interval, extra = test.interval_verdict(s, ci)
    ci_text = f"95 % CI [{ci[0]:.4g}, {ci[1]:.4g}]"
    if "p_tost" in extra:
        ci_text = f"TOST p = {extra['p_tost']:.3g} (90 % t-CI [{extra['ci90_t'][0]:.4g}, {extra['ci90_t'][1]:.4g}])"
    seeds_text = f"{k}/{n} seeds pass (PASS needs ≥ {q:.0%}, FAIL ≤ {1 - q:.0%})"
    where = {
        "pass": f"inside {region}",
        "fail": f"outside {region}",
        "inconclusive": f"straddles or touches the bound of {region}",
    }[by_interval]
    if "p_tost" in extra:
        where = {
            "pass": f"shows |·| < {s.region[1]:.4g}",
            "fail": f"shows |·| > {s.region[1]:.4g}",
            "inconclusive": "shows neither equivalence nor difference",
        }[by_interval]
    reason = f"{seeds_text}; {ci_text} {where}"
    if by_seeds == by_interval == "pass":
        verdict = Verdict.PASS
    elif by_seeds == by_interval == "fail":
        verdict = Verdict.FAIL
    else:
        verdict = Verdict.INCONCLUSIVE
        if by_seeds != "inconclusive" and by_interval != "inconclusive":
            reason += f" (seeds say {by_seeds.upper()}, the interval says {by_interval.upper()})"
    return verdict, ci, reason, extra


def null_rule(own: PredictionResult, nulls: tuple[NullResult, ...]) -> PredictionResult:
    """The prediction's result given its nulls' results: ERROR if a null is ERROR (and the case is
    not), NONSPECIFIC if the case PASSes and a null PASSes or is INCONCLUSIVE; `own.verdict` becomes
    the ``test_verdict``."""
    verdict, reason = own.verdict, own.reason
    broken = [n for n in nulls if n.verdict is Verdict.ERROR]
    blocking = [n for n in nulls if n.blocks]
    if verdict is not Verdict.ERROR and broken:
        verdict = Verdict.ERROR
        reason = "; ".join(f"null {n.ref!r} cannot be scored: {n.reason}" for n in broken)
    elif verdict is Verdict.PASS and blocking:
        verdict = Verdict.NONSPECIFIC
        also = "; ".join(
            f"{n.ref!r} {n.verdict.value} ({_ci_text(n.statistic, n.ci)}, {n.seeds_passing}/{n.seeds} seeds)" for n in blocking
        )
        reason = f"the test passes ({reason}), but it also passes or cannot be told from passing on the null {also}"
    return replace(own, verdict=verdict, reason=reason, nulls=tuple(nulls), test_verdict=own.verdict)
