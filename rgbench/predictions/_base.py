"""The prediction, and the two contracts it is made of: an observable and a test.

A prediction in a suite file reads::

    - claim: effective rank falls monotonically with depth after training
      observable: effective_rank          # shorthand for {kind: effective_rank}
      stage: trained                      # parameter snapshot (null: the observable's default)
      layers: "1:"                        # python slice over layers (null: the observable's default)
      role: token                         # which probe rows (see `Role`)
      test: {kind: monotone, along: layer, direction: decreasing, spearman_at_most: -0.9}
      nulls: [{stage: init}, iid]         # the same observable and test must NOT pass on these

`rgbench.suite` builds the full ``Prediction`` model from `PredictionBase` plus an ``observable``
field (one of the classes registered in ``OBSERVABLES``) and a ``test`` field (one of ``TESTS``).

Observables
    An `AbstractObservable` reads stored variables of one case (docs/guide.md "The stored data") and
    returns a per-seed `xarray.DataArray`: dims ``(seed,)`` for a scalar per seed, or
    ``(seed, layer)`` / ``(seed, transition)`` for a vector per seed. Anything it needs but cannot
    find (variable, stage, role, NaN values) raises `ObservableUnavailable`, which the scorer turns
    into an ERROR verdict — nothing passes on missing data.

Tests
    An `AbstractTest` turns the per-seed values (and, for comparisons, the per-seed values of a
    reference: another case by ``compare_to``, or another stage of the same case by
    ``against_stage``) into `SeedStatistics`: one statistic per seed, whether each seed passes, and
    the *pass region* ``[lo, hi]`` of the statistic. The across-seed verdict (in `rgbench.score`)
    combines two rules:

    * seed rule: with f the fraction of seeds passing and q = ``seeds_at_least`` (> ½), PASS if
      f ≥ q; FAIL if an exact binomial test shows that the pass fraction is below q (at the
      suite's α, two-sided convention); else INCONCLUSIVE, and more seeds would decide;
    * interval rule: the interval of the statistic across seeds at level 1 − α (`rgbench.stats`:
      the mean of per-seed values by Student t ∪ Hall's skewness-corrected t; a paired ratio's
      geometric mean by the t interval of its logs; an unpaired difference by Welch's interval; any
      other statistic by the BCa bootstrap); PASS if it lies inside the pass region and excludes
      its bounds (``at_least: 0`` means "the interval excludes 0"; `Monotone` and `Plateau`, whose
      statistics are discrete, include the bounds), FAIL if it lies wholly outside, else
      INCONCLUSIVE (it straddles or touches a bound). Its p-values (the smallest α at which it
      passes, or fails) are what the suite's multiplicity correction adjusts for claims.
      `Equivalence` replaces it by a two one-sided t-test (TOST) at α.

    The verdict is PASS when both rules say PASS, FAIL when both say FAIL, INCONCLUSIVE otherwise.
    Fewer than two seeds give no interval and are INCONCLUSIVE.

Nulls
    ``nulls`` lists references on which the *same* observable and test are evaluated: another case
    (``iid``), another stage of this case (``{stage: init}``), both (``{case: iid, stage: init}``),
    and for comparisons optionally another reference case (``{case: shuffle-long, compare_to:
    long-xi}``). A PASS whose null also PASSes (or is INCONCLUSIVE) is NONSPECIFIC, never PASS
    (`rgbench.score`). For an equivalence ("absent") claim the natural null is the case where the
    effect is present: the same margin must not call that case equivalent.

Comparisons (``ratio``, ``difference``, optionally ``equivalence``) with ``paired: true`` pair seeds
by their ``seed`` label (the seeds both sides have); ``paired: false`` compares each seed with the
reference's mean and treats the two sides as independent groups.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..registry import OBSERVABLES, TESTS, Component
from ..theory import TheoryContext

if TYPE_CHECKING:
    import xarray as xr

Stage = Literal["init", "trained"] | Annotated[int, Field(ge=1, le=10_000_000)]
"""A parameter snapshot: ``init``, ``trained``, or a step of training that the case measures
(``measure.stages: [init, 500, trained]``; stored under the label ``"500"``)."""
Purpose = Literal["claim", "diagnostic"]
IntervalKind = Literal["mean", "ratio", "welch", "bootstrap"]
Role = Literal["all", "token", "mask", "masked", "visible"]
"""Which probe rows an observable is taken on.

all: every row at each position; token: rows whose *input* is a vocabulary symbol (no [MASK]);
mask: rows whose input is [MASK] (both per position, then averaged over positions); masked /
visible: scored / unscored (sample, position) rows pooled over positions, equally many of each.
"""

CONTEXT_ATTR = "rgbench_context"
"""Attribute under which `AbstractObservable.values` hands tests the case its values came from (in memory only)."""


class ObservableUnavailable(Exception):
    """The data a prediction needs is not in the case dataset (or is NaN); its verdict is ERROR."""


# --------------------------------------------------------------------------------------------
# The prediction


class NullRef(BaseModel):
    """Where a prediction's null is evaluated: a case, a stage, or both (and optionally a reference case).

    Unset fields keep the prediction's own: ``{stage: init}`` is this case untrained, ``{case: iid}``
    the i.i.d. case at the prediction's stage. A bare string in a suite is ``{case: <string>}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: str | None = Field(None, min_length=1, description="case id on which the same test is run (default: this case)")
    stage: Stage | None = Field(None, description="stage at which the observable is read (default: the prediction's)")
    compare_to: str | None = Field(
        None, min_length=1, description="for comparison tests: the reference case of the null (default: the test's)"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"case": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something(self) -> NullRef:
        if self.case is None and self.stage is None and self.compare_to is None:
            raise ValueError("a null names a `case`, a `stage` or a `compare_to` case (e.g. {stage: init} or iid)")
        return self

    def label(self) -> str:
        """'init', 'iid', 'iid@init', 'shuffle-long vs long-xi' …"""
        text = self.case or ""
        if self.stage is not None:
            stage = f"step {self.stage}" if isinstance(self.stage, int) else self.stage
            text = f"{text}@{stage}" if text else stage
        if self.compare_to is not None:
            text = f"{text or 'this case'} vs {self.compare_to}"
        return text


class PredictionBase(BaseModel):
    """Fields of a prediction other than the registry-dispatched `observable` and `test`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1, description="the claim in words, printed next to its verdict")
    id: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_.\-]*$",
        max_length=128,
        description="the claim's stable id (e.g. rg.i.monotone), the same in every suite and case that states it: "
        "the leaderboard lines claims up by id (by their text where there is none); unique within a case",
    )
    stage: Stage | None = Field(None, description="parameter snapshot; null = observable's default")
    layers: str | None = Field(
        None, pattern=r"^-?\d*:?-?\d*$", description="python-style slice of layers, e.g. '1:' (layer 0 is the embedding)"
    )
    role: Role = Field("all", description="which probe rows: all | token | mask (per position) | masked | visible (pooled)")
    nulls: list[NullRef] = Field(
        default_factory=list,
        description="references (cases, stages) on which the same test must not pass; a name "
        "from the suite's top-level `nulls:` sets",
    )
    purpose: Purpose = Field(
        "claim",
        description="claim: a statement the suite tests (counted in its verdicts, corrected for multiplicity); "
        "diagnostic: a check that the setup works (loss below a floor, the network uses context), reported "
        "apart and never counted or corrected",
    )
    family: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        max_length=128,
        description="the multiplicity family of a claim (default: one family, all the suite's claims); "
        "the suite's `multiplicity` correction runs within each family",
    )
    gate: bool = Field(
        False,
        description="a diagnostic whose FAIL or ERROR makes every claim of its case ERROR, with the gate "
        "named as the reason (e.g. the network did not train below the context-free floor)",
    )

    @model_validator(mode="after")
    def _compatible(self) -> PredictionBase:
        if self.gate and self.purpose != "diagnostic":
            raise ValueError("`gate: true` applies to a diagnostic (`purpose: diagnostic`), not to a claim")
        if self.family is not None and self.purpose != "claim":
            raise ValueError("`family` groups claims for the multiplicity correction; a diagnostic has none")
        # `observable` and `test` are added by rgbench.suite; check here that they fit together, so a
        # mismatch is reported when the suite loads rather than as an ERROR after training.
        obs, test = getattr(self, "observable", None), getattr(self, "test", None)
        if isinstance(obs, AbstractObservable):
            obs.check_selection(self.stage, self.layers, self.role)
            if isinstance(test, AbstractTest):
                test.check_observable(obs, self.stage)
                for i, null in enumerate(self.nulls):
                    self._check_null(i, null, obs, test)
        return self

    def _check_null(self, i: int, null: NullRef, obs: AbstractObservable, test: AbstractTest) -> None:
        compare_to, against = test.reference()
        where = f"nulls[{i}] ({null.label()})"
        if null.stage is not None:
            if not obs.staged:
                raise ValueError(f"{where}: observable {obs.kind!r} has no stages, so a null cannot set `stage`")
            try:
                obs.check_selection(null.stage, self.layers, self.role)
                test.check_observable(obs, null.stage)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
        if null.compare_to is not None and compare_to is None:
            raise ValueError(
                f"{where}: `compare_to` applies only to tests that compare with another case; test {test.kind!r} has none"
            )
        own = resolved_selection(obs, self.stage, self.layers)[0]
        if null.case is None and null.compare_to is None and (null.stage is None or null.stage == own):
            raise ValueError(f"{where}: this null is the prediction itself (same case, stage {own}); name another case or stage")

    def null_variant(self, null: NullRef) -> tuple[str | None, PredictionBase]:
        """(case to evaluate on, or None for this case; the prediction with the null's stage and reference)."""
        update: dict[str, Any] = {}
        if null.stage is not None:
            update["stage"] = null.stage
        if null.compare_to is not None:
            update["test"] = getattr(self, "test").model_copy(update={"compare_to": null.compare_to})
        return null.case, self.model_copy(update={**update, "nulls": []})


def parse_layers(text: str | None) -> slice:
    """'1:' → slice(1, None); '3' → slice(3, 4); '-1' → the last layer; None or '' → everything."""
    if text is None or text.strip() in ("", ":"):
        return slice(None)
    if ":" not in text:
        i = int(text)
        return slice(i, i + 1 if i != -1 else None)
    lo, hi = text.split(":")
    return slice(int(lo) if lo else None, int(hi) if hi else None)


def resolved_selection(
    observable: AbstractObservable, stage: str | int | None, layers: str | None
) -> tuple[str | int | None, str | None]:
    """The (stage, layers) an observable actually reads: the prediction's, else the observable's defaults."""
    return (stage if stage is not None else observable.default_stage, layers if layers is not None else observable.default_layers)


# --------------------------------------------------------------------------------------------
# Observables


class AbstractObservable(Component):
    """An observable read from a stored case dataset, one value (or one vector) per seed.

    The contract of a concrete (final) observable, registered with ``@OBSERVABLES.register``:

    * ``kind: Literal["name"]``, and its parameters as pydantic fields;
    * ``_values(ds, *, stage, sel, role)`` (abstract: a class without it cannot be registered) —
      the values for a resolved selection from the stored variables, dims ``("seed",)`` or
      ``("seed", dim)``; anything missing raises `ObservableUnavailable` (use `variable` and
      `at_stage`);
    * the class variables below, where the defaults do not fit: ``dim`` (the vector dimension, None
      for one value per seed), ``default_stage`` and ``default_layers`` (what an unset ``stage`` /
      ``layers`` means), ``staged`` and ``layered`` (whether ``stage`` / ``layers`` mean anything)
      and ``roles`` (the probe rows it is stored for);
    * optionally a narrower ``check_selection`` (calling this one first) and ``_label_extra``.

    `values` checks the selection, calls `_values`, and checks the dims and NaNs of the result.
    """

    dim: ClassVar[str | None] = None  # the vector dim of the result; None for a scalar per seed
    default_stage: ClassVar[str | None] = "trained"
    default_layers: ClassVar[str | None] = None
    staged: ClassVar[bool] = True  # has a `stage` dimension
    layered: ClassVar[bool] = True  # `layers` means something
    roles: ClassVar[tuple[str, ...]] = ("all",)

    def values(
        self, ds: xr.Dataset, *, stage: str | int | None = None, layers: str | None = None, role: str = "all"
    ) -> xr.DataArray:
        """Per-seed values: dims ``("seed",)`` or ``("seed", self.dim)``. Raises ObservableUnavailable."""
        stage, layers = resolved_selection(self, stage, layers)
        self.check_selection(stage, layers, role, resolved=True)
        out = self._values(ds, stage=stage, sel=parse_layers(layers), role=role)
        expected = {"seed", *([self.dim] if self.dim else [])}
        if set(out.dims) != expected:
            raise ObservableUnavailable(
                f"{self.kind} of case {case_name(ds)} has dims {out.dims}, expected {sorted(expected)}; "
                "the store does not follow the data format this rgbench reads"
            )
        out = out.transpose("seed", *([self.dim] if self.dim else []))
        if out.sizes["seed"] == 0 or (self.dim and out.sizes[self.dim] == 0):
            raise ObservableUnavailable(f"{self.kind}: the selection (layers {layers!r}) is empty in case {case_name(ds)}")
        bad = np.isnan(out.values).reshape(out.sizes["seed"], -1).any(axis=1)
        if bad.any():
            seeds = [int(s) for s in out["seed"].values[bad]]
            raise ObservableUnavailable(
                f"{self.kind} is NaN for seeds {seeds} of case {case_name(ds)}; nothing is scored on missing data"
            )
        # Tests that compare with a theory value (rgbench.theory) compute it from the case these
        # values came from; scoring hands tests only the values, so the case travels with them.
        out.attrs[CONTEXT_ATTR] = TheoryContext(self.kind, ds, stage, role)
        return out

    @abc.abstractmethod
    def _values(self, ds: xr.Dataset, *, stage: str | int | None, sel: slice, role: str) -> xr.DataArray:
        """The observable for a resolved selection (`sel` a slice over layers)."""

    def check_selection(self, stage: str | int | None, layers: str | None, role: str, *, resolved: bool = False) -> None:
        """Raise ValueError when the selection does not apply to this observable."""
        if not self.staged and stage not in (None, "trained"):
            raise ValueError(f"observable {self.kind!r} exists only after training; leave `stage` unset (got {stage!r})")
        if not self.layered and layers is not None:
            raise ValueError(f"observable {self.kind!r} has no layers; leave `layers` unset (got {layers!r})")
        if role not in self.roles:
            raise ValueError(f"observable {self.kind!r} supports role {' | '.join(self.roles)} (got {role!r})")

    def label(self, stage: str | int | None = None, layers: str | None = None, role: str = "all") -> str:
        """Short human description of the observable and its selection."""
        stage, layers = resolved_selection(self, stage, layers)
        rows = {"token": "token rows", "mask": "[MASK] rows"}.get(role, f"{role} positions")
        parts = [
            (f"step {stage}" if isinstance(stage, int) else stage) if self.staged and stage else None,
            f"layers {layers}" if self.layered and layers else None,
            rows if role != "all" else None,
        ]
        extra = self._label_extra(stage)
        inside = ", ".join(p for p in [extra, *parts] if p)
        return f"{self.kind}[{inside}]" if inside else self.kind

    def _label_extra(self, stage: str | int | None) -> str:
        return ""


OBSERVABLES.require(AbstractObservable)


def case_name(ds: xr.Dataset) -> str:
    """The case id of a stored dataset, quoted, for messages."""
    return repr(ds.attrs.get("case_id", "?"))


def variable(ds: xr.Dataset, name: str) -> xr.DataArray:
    """A stored variable, or ObservableUnavailable saying it is absent."""
    if name not in ds.data_vars:
        raise ObservableUnavailable(
            f"variable {name!r} is not stored for case {case_name(ds)}; it was not measured or the "
            "store predates it — rerun the case (`rgbench run SUITE --only CASE --force`)"
        )
    return ds[name]


def at_stage(da: xr.DataArray, stage: str | int | None, ds: xr.Dataset) -> xr.DataArray:
    """`da` at one stage (unchanged when it has no stage dimension)."""
    if "stage" not in da.dims:
        return da
    stages = [str(s) for s in da["stage"].values]
    stage = None if stage is None else str(stage)
    if stage not in stages:
        raise ObservableUnavailable(
            f"stage {stage!r} of {da.name!r} was not measured for case {case_name(ds)} (stages: "
            f"{', '.join(stages)}); add it to `measure.stages`"
        )
    return da.sel(stage=stage, drop=True)


# --------------------------------------------------------------------------------------------
# Tests


@dataclass(frozen=True)
class SeedStatistics:
    """A test's per-seed outcome, before the across-seed verdict.

    `values` holds one statistic per seed and `passed` whether that seed passes; `region` is the
    pass region [lo, hi] (None = unbounded) of the statistic's across-seed mean. `interval` names the
    interval the scorer forms over `samples` (see the field); a bootstrap resamples `samples`
    (paired along axis 0 when `paired`) and recomputes `statistic` on them.
    """

    values: np.ndarray
    passed: np.ndarray
    region: tuple[float | None, float | None]
    seeds: np.ndarray
    samples: tuple[np.ndarray, ...] = ()
    statistic: Callable[..., Any] | None = None
    paired: bool = True
    detail: dict[str, Any] = field(default_factory=dict)
    # Which interval the scorer forms (`rgbench.stats`): "mean" — offset + the mean of samples[0]
    # (t ∪ Hall); "ratio" — the geometric mean of positive samples[0] (t of logs); "welch" —
    # mean(samples[0]) − mean(samples[1]) of two unpaired groups; "bootstrap" — any other statistic.
    # None: "mean" for the default statistic, else "bootstrap".
    interval: IntervalKind | None = None
    offset: float = 0.0

    def __post_init__(self):
        if not self.samples:
            object.__setattr__(self, "samples", (np.asarray(self.values, dtype=float),))
        if self.interval is None:
            plain = self.statistic is None or self.statistic is seed_mean
            object.__setattr__(self, "interval", "mean" if plain and len(self.samples) == 1 else "bootstrap")
        if self.statistic is None:
            object.__setattr__(self, "statistic", seed_mean)

    @property
    def mean(self) -> float:
        return float(self.statistic(*self.samples, axis=-1))


def seed_mean(*samples: np.ndarray, axis: int = -1) -> np.ndarray | np.floating:
    """The default across-seed statistic: the mean of the first sample."""
    return np.mean(samples[0], axis=axis)


def in_region(x: np.ndarray | float, region: tuple[float | None, float | None]) -> np.ndarray:
    lo, hi = region
    x = np.asarray(x, dtype=float)
    ok = np.ones(x.shape, dtype=bool)
    if lo is not None:
        ok &= x >= lo
    if hi is not None:
        ok &= x <= hi
    return ok


def interval_rule(ci: tuple[float, float], region: tuple[float | None, float | None], strict: bool = True) -> str:
    """'pass' if the interval lies inside the region, 'fail' if wholly outside, else 'inconclusive'.

    Strict (the default): the interval must also exclude the bounds, so ``at_least: 0`` means "the
    interval excludes 0" and data sitting exactly on a bound (e.g. two identical cases) never pass.
    """
    lo, hi = region
    a, b = ci
    if strict:
        inside = (lo is None or a > lo) and (hi is None or b < hi)
    else:
        inside = (lo is None or a >= lo) and (hi is None or b <= hi)
    if inside:
        return "pass"
    if (lo is not None and b < lo) or (hi is not None and a > hi):
        return "fail"
    return "inconclusive"


def format_region(region: tuple[float | None, float | None]) -> str:
    lo, hi = region
    if lo is not None and hi is not None:
        return f"[{lo:.4g}, {hi:.4g}]"
    if lo is not None:
        return f"≥ {lo:.4g}"
    if hi is not None:
        return f"≤ {hi:.4g}"
    return "any"


def seeds_at_least_field(default: float) -> Any:
    """The `seeds_at_least` field of a test, with that test's default."""
    return Field(
        default,
        gt=0.5,
        le=1,
        description="the seed rule: PASS needs at least this fraction of seeds passing; FAIL needs an exact "
        "binomial test to show that fewer do (at the suite's alpha), so more seeds always decide",
    )


class AbstractTest(Component):
    """A test of per-seed values; see the module docstring for the across-seed verdict rules.

    The contract of a concrete (final) test, registered with ``@TESTS.register``:

    * ``kind: Literal["name"]``, and its parameters as pydantic fields (``seeds_at_least`` is
      declared here; redeclare it to change the default);
    * ``seed_statistics(x, ref)`` and ``label()`` (abstract: a class without them cannot be
      registered);
    * a test of a vector observable subclasses `AbstractVectorTest` and gives its field ``along`` a
      default; any other test reads one value per seed (`scalar_per_seed` turns a vector into one);
    * a comparison overrides ``reference()``; a test of a discrete statistic sets the class
      variable ``strict_interval = False``; a test with its own interval rule overrides
      ``interval_verdict``; a test may narrow ``check_observable`` (calling this one first).
    """

    seeds_at_least: float = seeds_at_least_field(0.7)

    # Whether the interval must exclude the bounds of the pass region. Tests of discrete statistics
    # (Spearman ρ over a few layers, fractions of transitions) set False: hitting a bound exactly is
    # a legitimate value there, not a tie.
    strict_interval: ClassVar[bool] = True

    def reference(self) -> tuple[str | None, str | None]:
        """(compare_to case id, against_stage) of a comparison; (None, None) for a one-sample test."""
        return None, None

    @abc.abstractmethod
    def seed_statistics(self, x: xr.DataArray, ref: xr.DataArray | None = None) -> SeedStatistics:
        """Per-seed statistics of the observable values `x` (and the reference values `ref`)."""

    @abc.abstractmethod
    def label(self) -> str:
        """A short description of the test, printed beside the verdict."""

    def interval_verdict(self, stats_: SeedStatistics, ci: tuple[float, float]) -> tuple[str, dict[str, Any]]:
        """Interval rule: 'pass' | 'fail' | 'inconclusive' and any numbers worth reporting."""
        return interval_rule(ci, stats_.region, self.strict_interval), {}

    def own_pvalues(self, stats_: SeedStatistics) -> tuple[float, float] | None:
        """(p_pass, p_fail) of a test with its own interval rule (PASS when p_pass ≤ α, FAIL when p_fail ≤ α),
        or None: the scorer derives them from the interval, as the smallest α whose (1 − α) interval
        lies inside (outside) the pass region."""
        return None

    @property
    def along_dim(self) -> str | None:
        """The dimension a vector test runs along (`AbstractVectorTest.along`); None for a scalar test."""
        return self.along if isinstance(self, AbstractVectorTest) else None

    # -- checks shared by the suite validator and the scorer
    def check_observable(self, obs: AbstractObservable, stage: str | int | None) -> None:
        """Raise ValueError when the test cannot judge `obs` at `stage` (checked when the suite loads)."""
        along = self.along_dim
        if along is not None:
            if obs.dim is None:
                raise ValueError(
                    f"test {self.kind!r} needs a vector observable along {along!r}; {obs.kind!r} is one value per seed"
                )
            if obs.dim != along:
                raise ValueError(
                    f"test {self.kind!r} runs along {along!r} but observable {obs.kind!r} is a vector "
                    f"along {obs.dim!r}; set `along: {obs.dim}`"
                )
        _, against = self.reference()
        if against is not None:
            if not obs.staged:
                raise ValueError(f"observable {obs.kind!r} has no stages; `against_stage` does not apply")
            own = stage if stage is not None else obs.default_stage
            if own == against:
                raise ValueError(
                    f"`against_stage: {against}` compares stage {own!r} with itself; set the prediction's "
                    "`stage` to the other one"
                )


class AbstractVectorTest(AbstractTest):
    """A test of a vector observable (dims ``(seed, along)``), e.g. a trend along layers.

    Besides the `AbstractTest` contract, a concrete subclass redeclares ``along`` with its default
    (``along: str = Field("layer", description=...)``); `check_observable` then refuses an observable
    that is not a vector along it, and ``_vector`` gives the values as (seed, along).
    """

    along: str = Field(description="dimension the test runs along")

    def _vector(self, x: xr.DataArray) -> xr.DataArray:
        if self.along not in x.dims:
            raise ObservableUnavailable(f"test {self.kind!r} runs along {self.along!r} but the observable has dims {x.dims}")
        return x.transpose("seed", self.along)


def scalar_per_seed(x: xr.DataArray, how: str) -> xr.DataArray:
    """`x` as one value per seed: unchanged when it has only the seed dimension, else reduced along
    its one other dimension by `how` (``mean``, ``min``, ``max``, ``sum``, ``first``, ``last``: a
    scalar test's ``reduce`` field), NaN kept."""
    extra = [d for d in x.dims if d != "seed"]
    if not extra:
        return x
    (dim,) = extra
    if how == "first":
        return x.isel({dim: 0}, drop=True)
    if how == "last":
        return x.isel({dim: -1}, drop=True)
    return getattr(x, how)(dim, skipna=False)


TESTS.require(AbstractTest)
