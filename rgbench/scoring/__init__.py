"""Scoring: predictions × stored case datasets → verdicts, and the report that carries them.
Owns the statistics, the verdict rules (seeds, intervals, nulls) and the report; `rgbench.score` is the public face.

For every prediction of every case of a suite the scorer reads the observable from the stored case
dataset (and, for comparisons, from the reference case or stage), lets the test compute one
statistic per seed (`rgbench.predictions`), then decides across seeds.

Verdicts
    PASS / FAIL      the data support the claim / its negation: *both* rules below agree.
    NONSPECIFIC      the test PASSes, but so does (or cannot be told from passing: INCONCLUSIVE)
                     one of the prediction's nulls — the same observable and test on the untrained
                     network, on i.i.d. input, … (`PredictionBase.nulls`). Never counted as PASS.
    INCONCLUSIVE     the rules disagree or either is undecided, or fewer than two seeds.
    ERROR            the case (or the reference case) is missing from the store, diverged or failed,
                     was computed from a different spec (stale hash) or data-format version, or the
                     observable is absent or NaN — or any of this holds for a null. Nothing
                     ever passes on missing data.

    Seed rule: f = seeds passing / seeds, q = the test's ``seeds_at_least`` (> ½). PASS if f ≥ q;
    FAIL if an exact binomial test rejects "a fraction ≥ q of seeds pass" at the suite's α (the
    doubled one-sided p, the reports' two-sided convention); otherwise INCONCLUSIVE — and then
    more seeds decide it (`seeds_for_seed_rule`).

    Interval rule: the interval of the across-seed statistic at level 1 − α (`rgbench.stats`; the
    kind is `SeedStatistics.interval`): a mean of per-seed values (or a paired difference) by the
    union of Student's t and Hall's skewness-corrected t, a paired ratio's geometric mean by the t
    interval of its logs, an unpaired difference by Welch's interval, anything else by the BCa
    bootstrap (fixed RNG seed `BOOTSTRAP_SEED`: deterministic). PASS if it lies inside the test's
    pass region and excludes its bounds (``at_least: 0`` passes only when the interval excludes 0;
    the discrete statistics of `monotone` and `plateau` may touch them), FAIL if it lies wholly
    outside, INCONCLUSIVE if it straddles or touches a bound. Its p-values p_pass / p_fail are the
    smallest α at which it would pass / fail. `Equivalence` uses a TOST instead (see its docstring).

    Multiplicity: the suite's claims (``purpose: claim``, the default) are corrected per ``family``
    with the suite's ``multiplicity`` (Holm by default; `rgbench.stats.adjust`): the interval rule
    says PASS when the adjusted p_pass ≤ α, FAIL when the adjusted p_fail ≤ α. The seed rule and
    the nulls stay at the unadjusted α. Diagnostics (``purpose: diagnostic``) are decided at α,
    counted apart (`Report.diagnostic_counts`), and a failed gate (``gate: true``) makes its case's
    claims ERROR. An INCONCLUSIVE reason gives the seeds that would decide it at the observed spread
    (or none); a FAIL the shift its seeds detect with 80 % power.

    Nulls that cannot fail: a null whose statistic has zero spread across seeds on a bound, or, for
    a comparison, on what comparing a thing with itself gives (two identical untrained networks), is
    flagged ``uninformative`` and never counts as a null that failed.

Every result carries the statistic's mean, its interval at 1 − α, seeds passing / seeds, the pass region
(``threshold``: [lo, hi], null = unbounded) and the claim text. `Report.to_json` gives::

    {"suite": ..., "title": ..., "store": ..., "data_format_version": ..., "alpha": 0.05,
     "multiplicity": "holm", "suite_source": "suites/x.yaml" | "store", "previous": ... | null,
     "counts": {...claims...}, "diagnostic_counts": {...}, "family_counts": {family: {...}} (where the
     suite names families), "preregistration": "pre-registered: …" | why not,
     "predictions": [{"case", "claim", "observable", "test", "verdict", "statistic", "ci": [lo, hi],
                      "seeds_passing", "seeds", "threshold": [lo, hi], "reason", "labels", "spec",
                      "seeds_at_least", "per_seed": {"seed", "statistic", "passed"}, "detail", "test_verdict",
                      "purpose", "family", "gate", "previous_verdict",
                      "multiplicity": {"method", "alpha", "family", "size", "p_pass", "p_fail",
                                       "p_pass_adjusted", "p_fail_adjusted"},
                      "nulls": [{"ref", "case", "stage", "compare_to", "verdict", "statistic", "ci",
                                 "seeds_passing", "seeds", "reason", "per_seed", "uninformative"}]}],
     "cases": {case_id: {"architecture", "input", "status", "data_format_version", "spec_hash",
                         "wall_seconds", "figures": {name: [per-seed values] | null},
                         "start_time", "preregistration": {...} | null}}}

``detail.decision`` holds the numbers each verdict was decided from (p-values, the interval's name,
the seeds that would decide an INCONCLUSIVE, the minimum detectable effect).

``observable`` and ``test`` are the registered kinds; ``labels`` has readable descriptions of both.
Each null reports the verdict the same test gets there; ``test_verdict`` is the test's own outcome
on the case and ``verdict`` the final one (NONSPECIFIC or ERROR where a null decides it).
The keys listed first are the stable contract; the per-seed values and case figures feed the
leaderboard so it needs reports, never training.

Modules, from the bottom: `_stats` (intervals, p-values, multiplicity, the binomial seed test;
numbers in, numbers out; public as `rgbench.stats`), `_verdicts` (the seed rule, the interval rule,
the null rule, deciding again at an adjusted level, and the result records), `_preregistration`
(what the cases' records of the suite file say), `_report` (the `Report` as data, its counts and
JSON), `_render` (summary line, notes, markdown, HTML, a rich table, pandas: functions of a
`Report`), `_score` (the one that reads suites and stores, applies gates and the multiplicity
correction).
"""

from ._report import FIGURES as FIGURES
from ._report import CaseSummary as CaseSummary
from ._report import Report as Report
from ._report import case_figures as case_figures
from ._score import evaluate_prediction as evaluate_prediction
from ._score import score_datasets as score_datasets
from ._score import score_store as score_store
from ._stats import BOOTSTRAP_SEED as BOOTSTRAP_SEED
from ._stats import CONFIDENCE as CONFIDENCE
from ._stats import N_RESAMPLES as N_RESAMPLES
from ._stats import bootstrap_ci as bootstrap_ci
from ._verdicts import ALPHA as ALPHA
from ._verdicts import NullResult as NullResult
from ._verdicts import PredictionResult as PredictionResult
from ._verdicts import ScoreError as ScoreError
from ._verdicts import Verdict as Verdict
from ._verdicts import decide as decide
from ._verdicts import minimum_detectable_effect as minimum_detectable_effect
from ._verdicts import null_rule as null_rule
from ._verdicts import redecide as redecide
from ._verdicts import seed_rule as seed_rule
from ._verdicts import seeds_for_interval as seeds_for_interval
from ._verdicts import seeds_for_seed_rule as seeds_for_seed_rule
from ._verdicts import uninformative as uninformative

__all__ = [
    "Verdict",
    "ScoreError",
    "PredictionResult",
    "NullResult",
    "CaseSummary",
    "Report",
    "score_store",
    "score_datasets",
    "evaluate_prediction",
    "bootstrap_ci",
    "decide",
    "seed_rule",
    "seeds_for_seed_rule",
    "seeds_for_interval",
    "uninformative",
    "minimum_detectable_effect",
    "redecide",
    "null_rule",
    "ALPHA",
    "case_figures",
    "FIGURES",
    "BOOTSTRAP_SEED",
    "N_RESAMPLES",
    "CONFIDENCE",
]
