"""Scoring stored cases: read a suite and its store, evaluate every prediction and null, build the report.

The one part of `rgbench.scoring` that knows suites and stores: `evaluate_prediction` reads the stored
case datasets (refusing unusable ones), `score_datasets` scores a suite on them, `score_store` a store.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from .._version import DATA_FORMAT_VERSION
from ..predictions import AbstractObservable, AbstractTest, ObservableUnavailable, resolved_selection
from ._report import FIGURES, CaseSummary, Report, case_figures
from ._stats import adjust
from ._verdicts import ALPHA, NullResult, PredictionResult, ScoreError, Verdict, decide, null_rule, redecide, uninformative

if TYPE_CHECKING:
    from ..suite import Suite

__all__ = ["evaluate_prediction", "score_datasets", "score_store", "apply_gates", "correct_for_multiplicity"]


def _dump(x: Any) -> Any:
    return x.model_dump(mode="json") if hasattr(x, "model_dump") else x


def _usable(ds: xr.Dataset | None, case_id: str, expected_hash: str | None, what: str = "case") -> str | None:
    """Why a stored case cannot be scored, or None."""
    if ds is None:
        return f"{what} {case_id!r} has no complete result in the store; run `rgbench run` to compute it"
    status = str(ds.attrs.get("status", ""))
    if status.startswith("corrupted"):
        return f"{what} {case_id!r} is {status}; `rgbench run` recomputes it (`rgbench verify STORE` lists every case)"
    if status.startswith("failed"):
        return f"{what} {case_id!r} {status}; fix it and rerun the case"
    if status == "diverged":
        seeds = _diverged_seeds(ds)
        return f"{what} {case_id!r} diverged{f' (seeds {seeds})' if seeds else ''}; lower `train.lr` or set `train.clip`"
    if status != "complete":
        return f"{what} {case_id!r} has status {status or 'none'!r}, not 'complete'; rerun it"
    seeds = _diverged_seeds(ds)
    if seeds:
        return f"{what} {case_id!r}: seeds {seeds} diverged; lower `train.lr` or set `train.clip`"
    version = ds.attrs.get("data_format_version")
    if version is not None and int(version) != DATA_FORMAT_VERSION:
        return (
            f"{what} {case_id!r} was written in data format v{int(version)}; this rgbench reads v{DATA_FORMAT_VERSION}: "
            "rerun the case or score with the matching rgbench version"
        )
    stored = ds.attrs.get("spec_hash", ds.attrs.get("rgbench_complete"))
    if expected_hash is not None and stored is not None and str(stored) != str(expected_hash):
        return (
            f"{what} {case_id!r} in the store was computed from a different spec (hash {stored}, suite has "
            f"{expected_hash}); rerun it with `rgbench run` or score with the suite it was run from"
        )
    return None


def _diverged_seeds(ds: xr.Dataset) -> list[int]:
    if "diverged" not in ds.data_vars:
        return []
    d = np.asarray(ds["diverged"].values, dtype=bool).reshape(-1)
    seeds = ds["seed"].values if "seed" in ds.coords else np.arange(len(d))
    return [int(s) for s in np.asarray(seeds)[d]]


def evaluate_prediction(
    prediction: Any,
    case_id: str,
    datasets: dict[str, xr.Dataset],
    hashes: dict[str, str | None] | None = None,
    *,
    alpha: float = ALPHA,
) -> PredictionResult:
    """Verdict of one prediction of case `case_id` at the unadjusted level `alpha`, reading `datasets`
    (case id → stored dataset); `score_datasets` then corrects the suite's claims for multiplicity.

    The test is evaluated on the case and on each of the prediction's nulls. A null that is ERROR
    makes the prediction ERROR; a PASS with a null that PASSes or is INCONCLUSIVE is NONSPECIFIC.
    """
    own = _evaluate(prediction, case_id, datasets, hashes or {}, alpha=alpha)
    nulls = tuple(getattr(prediction, "nulls", None) or ())
    if not nulls:
        return own
    results = []
    for ref in nulls:
        target, variant = prediction.null_variant(ref)
        r = _evaluate(variant, target or case_id, datasets, hashes or {}, what="null case", alpha=alpha)
        results.append(
            NullResult(
                ref=ref.label(),
                case=target or case_id,
                stage=ref.stage,
                compare_to=ref.compare_to,
                verdict=r.verdict,
                statistic=r.statistic,
                ci=r.ci,
                seeds_passing=r.seeds_passing,
                seeds=r.seeds,
                reason=r.reason,
                per_seed=r.per_seed,
                uninformative=uninformative(r, _identity(variant.test)),
            )
        )
    return null_rule(own, tuple(results))


def _identity(test: AbstractTest) -> float | None:
    """What a comparison gives when both sides are the same thing (None for a one-sample test)."""
    if test.reference() == (None, None):
        return None
    return 1.0 if getattr(test, "op", "-") == "/" else 0.0


def _described(prediction: Any, case_id: str) -> dict[str, Any]:
    """What a prediction's result says of the prediction itself, whatever its verdict."""
    obs, test = prediction.observable, prediction.test
    stage, layers, role = prediction.stage, prediction.layers, getattr(prediction, "role", "all")
    return dict(
        case=case_id,
        claim=prediction.claim,
        claim_id=getattr(prediction, "id", None),
        observable=obs.kind,
        test=test.kind,
        spec={"observable": _dump(obs), "test": _dump(test), "stage": stage, "layers": layers, "role": role},
        observable_label=obs.label(stage, layers, role),
        test_label=test.label(),
        threshold=getattr(test, "region", None),
        seeds_at_least=test.seeds_at_least,
        purpose=getattr(prediction, "purpose", "claim"),
        family=getattr(prediction, "family", None),
        gate=bool(getattr(prediction, "gate", False)),
    )


def _evaluate(
    prediction: Any,
    case_id: str,
    datasets: dict[str, xr.Dataset],
    hashes: dict[str, str | None],
    *,
    what: str = "case",
    alpha: float = ALPHA,
) -> PredictionResult:
    obs: AbstractObservable = prediction.observable
    test: AbstractTest = prediction.test
    stage, layers, role = prediction.stage, prediction.layers, getattr(prediction, "role", "all")
    compare_to, against = test.reference()
    rstage, rlayers = resolved_selection(obs, stage, layers)
    base = _described(prediction, case_id)

    def error(reason: str) -> PredictionResult:
        return PredictionResult(verdict=Verdict.ERROR, reason=reason, **base)

    problem = _usable(datasets.get(case_id), case_id, hashes.get(case_id), what)
    if problem:
        return error(problem)
    ds = datasets[case_id]
    try:
        obs.check_selection(rstage, rlayers, role, resolved=True)
        test.check_observable(obs, stage)
        x = obs.values(ds, stage=stage, layers=layers, role=role)
        ref = None
        if compare_to is not None:
            problem = _usable(datasets.get(compare_to), compare_to, hashes.get(compare_to), "reference case")
            if problem:
                return error(problem)
            ref = obs.values(datasets[compare_to], stage=stage, layers=layers, role=role)
        elif against is not None:
            ref = obs.values(ds, stage=against, layers=layers, role=role)
        s = test.seed_statistics(x, ref)
    except (ObservableUnavailable, ValueError) as e:
        return error(str(e))
    except Exception as e:  # noqa: BLE001 - stored data is input: whatever reading it raises is this case's ERROR
        return error(
            f"the stored data cannot be read as this prediction needs ({type(e).__name__}: {e}); check the "
            "store with `rgbench verify` or rerun the case with --force"
        )
    if not math.isfinite(s.mean):
        bad = [str(seed) for seed, v in zip(s.seeds, np.asarray(s.values, dtype=float)) if not np.isfinite(v)]
        return error(
            f"the statistic is not finite (mean {s.mean}{'; seeds ' + ', '.join(bad) if bad else ''}): no "
            f"verdict can rest on it; check the store with `rgbench verify` or rerun the case with --force"
        )
    verdict, ci, reason, extra = decide(test, s, alpha=alpha)
    per_seed = {
        "seed": [int(v) if np.issubdtype(np.asarray(v).dtype, np.integer) else str(v) for v in s.seeds],
        "statistic": [float(v) for v in s.values],
        "passed": [bool(v) for v in s.passed],
    }
    return PredictionResult(
        verdict=verdict,
        statistic=s.mean,
        ci=ci,
        seeds_passing=int(np.sum(s.passed)),
        seeds=len(s.values),
        reason=reason,
        per_seed=per_seed,
        detail={**s.detail, **extra},
        **{**base, "threshold": s.region},
    )


def _as_trained_at(ds: xr.Dataset, step: str) -> xr.Dataset:
    """`ds` as if training had stopped at the snapshot `step` (a stage of ``measure.stages``): its
    stages init and that snapshot, the snapshot labelled ``trained``."""
    view = ds.sel(stage=["init", step])
    return view.assign_coords(stage=["init", "trained"])


def _with_trajectory(
    result: PredictionResult, prediction: Any, case_id: str, datasets: dict[str, xr.Dataset], hashes, alpha: float
) -> PredictionResult:
    """`result` with ``detail["along_training"]``: the prediction's statistic had training stopped at
    each intermediate step every case it reads measured (``measure.stages: [init, 1000, 3000, trained]``),
    then at the end — so a reader sees whether a verdict still moves at the end of training. Only for a
    prediction read after training (no explicit intermediate stage) of an observable with stages."""
    if result.statistic is None or not getattr(prediction.observable, "staged", False):
        return result
    if prediction.stage not in (None, "trained"):
        return result
    compare_to, _ = prediction.test.reference()
    reads = {c: datasets[c] for c in (case_id, compare_to) if c is not None and c in datasets}
    stages = [{str(v) for v in ds["stage"].values} for ds in reads.values() if "stage" in ds.dims and "stage_step" in ds.coords]
    steps = sorted(set.intersection(*stages) - {"init", "trained"}, key=int) if stages else []
    if not steps:
        return result
    along: dict[str, float | None] = {}
    for step in steps:  # the claim's own statistic at each step: its nulls are not read again
        views = {cid: _as_trained_at(ds, step) for cid, ds in reads.items()}
        along[step] = _evaluate(prediction, case_id, views, hashes, alpha=alpha).statistic
    own = reads.get(case_id)
    end = str(int(own["stage_step"].sel(stage="trained"))) if own is not None and "stage_step" in own.coords else "trained"
    along[end] = result.statistic
    return replace(result, detail={**result.detail, "along_training": along})


def _summary(case: Any, ds: xr.Dataset | None) -> CaseSummary:
    status = "missing" if ds is None else str(ds.attrs.get("status", "unknown"))
    version = None if ds is None or ds.attrs.get("data_format_version") is None else int(ds.attrs["data_format_version"])
    wall = None if ds is None or ds.attrs.get("wall_seconds") is None else float(ds.attrs["wall_seconds"])
    # The headline figures describe training (collapse and drift after training, loss gaps at the
    # end of it): an untrained case (train.steps 0, a control) has none, and so does not dilute a
    # leaderboard row's averages.
    trained = getattr(getattr(case, "train", None), "steps", None) != 0
    figures = case_figures(ds) if ds is not None and status == "complete" and trained else {k: None for k in FIGURES}
    return CaseSummary(
        case=case.id,
        architecture=_dump(case.architecture) or {},
        input=_dump(case.input) or {},
        status=status,
        data_format_version=version,
        spec_hash=None if ds is None else ds.attrs.get("spec_hash"),
        wall_seconds=wall,
        figures=figures,
        start_time=None if ds is None else ds.attrs.get("start_time"),
        preregistration=None if ds is None or "preregistration" not in ds.attrs else json.loads(ds.attrs["preregistration"]),
        train=train if isinstance(train := _dump(getattr(case, "train", None)), dict) else {},
        seeds=getattr(case, "seeds", None),
        train_seconds=None if ds is None or ds.attrs.get("train_seconds") is None else float(ds.attrs["train_seconds"]),
        train_resumed_from_step=None
        if ds is None or ds.attrs.get("train_resumed_from_step") is None
        else int(ds.attrs["train_resumed_from_step"]),
    )


def score_datasets(datasets: dict[str, xr.Dataset], suite: Any, *, store: str | None = None) -> Report:
    """Score every prediction of `suite` against `datasets` (case id → dataset, as `open_results` returns).

    `suite` needs ``name`` (and optionally ``title``) and ``cases``; each case needs ``id``,
    ``predict`` and optionally ``hash``, ``architecture`` and ``input``.
    """
    hashes = {c.id: getattr(c, "hash", None) for c in suite.cases}
    alpha, method = getattr(suite, "alpha", ALPHA), getattr(suite, "multiplicity", "holm")
    results = [
        _with_trajectory(evaluate_prediction(p, c.id, datasets, hashes, alpha=alpha), p, c.id, datasets, hashes, alpha)
        for c in suite.cases
        for p in c.predict
    ]
    results = correct_for_multiplicity(apply_gates(results), alpha, method)
    cases = {c.id: _summary(c, datasets.get(c.id)) for c in suite.cases}
    versions = {v.data_format_version for v in cases.values() if v.data_format_version is not None}
    if len(versions) > 1:
        raise ScoreError(
            f"the store {store or ''} mixes data-format versions {sorted(versions)}; rerun the old cases "
            "with this rgbench so they share one version"
        )
    version = versions.pop() if versions else None
    return Report(
        suite=suite.name,
        title=getattr(suite, "title", "") or "",
        predictions=results,
        cases=cases,
        store=store,
        data_format_version=version,
        alpha=alpha,
        multiplicity=method,
    )


def apply_gates(results: list[PredictionResult]) -> list[PredictionResult]:
    """Every claim of a case whose gate (a diagnostic with ``gate: true``) is FAIL or ERROR becomes ERROR,
    naming the gate: a claim about a network that failed its precondition says nothing."""
    failed: dict[str, list[PredictionResult]] = {}
    for r in results:
        if r.gate and r.verdict in (Verdict.FAIL, Verdict.ERROR):
            failed.setdefault(r.case, []).append(r)
    out = []
    for r in results:
        gates = failed.get(r.case, []) if r.purpose == "claim" else []
        if gates:
            why = "; ".join(f"gate {g.claim!r} is {g.verdict.value}" for g in gates)
            r = replace(
                r, verdict=Verdict.ERROR, test_verdict=r.test_verdict or r.verdict, reason=f"{why}: the claim is not scored"
            )
        out.append(r)
    return out


def correct_for_multiplicity(results: list[PredictionResult], alpha: float, method: str) -> list[PredictionResult]:
    """Decide every claim again at its family's adjusted level (`rgbench.stats.adjust` of the interval
    rule's p-values, those of passing and those of failing apart); diagnostics and claims without a
    decision (ERROR, one seed) are left as they are and counted in no family."""
    families: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        if r.purpose == "claim" and r.verdict is not Verdict.ERROR and r.detail.get("decision"):
            families.setdefault(r.family or "claims", []).append(i)
    out = list(results)
    for family, members in families.items():
        decisions = [results[i].detail["decision"] for i in members]
        p_pass = adjust([d["p_pass"] for d in decisions], method)
        p_fail = adjust([d["p_fail"] for d in decisions], method)
        for i, d, a, b in zip(members, decisions, p_pass, p_fail):
            info = {
                "method": method,
                "alpha": alpha,
                "family": family,
                "size": len(members),
                "p_pass": d["p_pass"],
                "p_fail": d["p_fail"],
                "p_pass_adjusted": float(a),
                "p_fail_adjusted": float(b),
            }
            out[i] = redecide(results[i], float(a), float(b), info)
    return out


def _load_suite(path: str | Path, suite: Suite | str | Path | None) -> Suite:
    """The suite to score with: given, loaded from a file, or rebuilt from the store's provenance."""
    if isinstance(suite, (str, Path)):
        from ..suite import load_suite

        return load_suite(suite)
    if suite is not None:
        return suite
    from ..store import Store
    from ..suite import suite_from_json, unknown_kinds

    try:
        text = Store(path).attrs().get("suite_json")
        if not text:
            raise KeyError("suite_json")
        data = json.loads(text)
        missing = unknown_kinds(data)
        if missing and all(m.startswith(("architecture ", "input ")) for m in missing):
            return _with_stand_ins(data, Store(path).expected())
        if missing:
            raise ScoreError(
                f"the store {str(path)!r} was computed with kinds this rgbench does not have: "
                f"{', '.join(missing)}{_plugin_hint(path)}; install the package that provides them or "
                "pass `--plugin MODULE_OR_PATH`"
            )
        return suite_from_json(text)
    except (KeyError, FileNotFoundError, ValueError, TypeError) as e:
        raise ScoreError(
            f"the store {str(path)!r} carries no readable suite provenance ({e}); pass the suite file with --suite"
        ) from e


class _Recorded:
    """A case of a store whose architecture or input kind is not installed (a plugin's): scored from
    what the store recorded — its predictions, training and seeds validated as usual, its architecture
    and input kept as the JSON the store holds, its hash the one its manifest holds. Scoring reads
    stored data only, so a plugin is needed to train a case, not to read it."""

    def __init__(self, case: Any, raw: dict[str, Any], spec_hash: str | None):
        self._case, self.architecture, self.input, self.hash = case, raw["architecture"], raw["input"], spec_hash

    def __getattr__(self, name: str) -> Any:
        return getattr(self._case, name)


def _with_stand_ins(data: dict[str, Any], hashes: dict[str, str | None]) -> Suite:
    """The recorded suite `data` with each case's uninstalled architecture or input replaced, for
    validation only, by a built-in one of the same vocabulary and length (`_Recorded` keeps the real)."""
    from ..suite import Suite, case_from_dict
    from ..suite._hash import unknown_kinds

    cases = []
    for raw in data["cases"]:
        if not unknown_kinds({"cases": [raw]}):
            cases.append(case_from_dict(raw))
            continue
        inp = raw["input"]
        stand_in = dict(raw, architecture={"kind": "tokenwise", "depth": raw["architecture"].get("depth", 1), "width": 8})
        stand_in["input"] = {"kind": "iid", "vocab": inp.get("vocab", 2), "length": inp.get("length", 2)}
        if isinstance(inp.get("masking"), dict):
            stand_in["input"]["masking"] = inp["masking"]
        cases.append(_Recorded(case_from_dict(stand_in), raw, hashes.get(raw["id"])))
    return Suite(
        data["suite"],
        data.get("title", ""),
        tuple(cases),
        None,
        data.get("description", ""),
        tuple(data.get("overrides", ())),
        alpha=float(data.get("alpha", 0.05)),
        multiplicity=str(data.get("multiplicity", "holm")),
    )


def _plugin_hint(path: str | Path) -> str:
    """' (from …)': the plugin sources the store's cases recorded, if any."""
    from ..store import open_results

    sources: set[str] = set()
    try:
        for ds in open_results(path).values():
            sources.update(json.loads(ds.attrs.get("plugins", "{}")).values())
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    return f" (recorded as coming from {', '.join(sorted(sources))})" if sources else ""


def score_store(path: str | Path, suite: Suite | str | Path | None = None) -> Report:
    """Score a results store. `suite`: a Suite, a suite file path, or None (read from the store's provenance)."""
    from ..store import open_results

    if not Path(path).exists() and "://" not in str(path):
        raise ScoreError(f"no store at {str(path)!r}; run `rgbench run SUITE` first or check the path")
    from ..store import Store

    problem = Store(path).root_problem()
    if problem:  # what `rgbench verify` refuses, `score` refuses with the same words
        raise ScoreError(f"{problem}; `rgbench verify {path}` says the same")
    source = str(suite) if isinstance(suite, (str, Path)) else "store" if suite is None else "given"
    suite = _load_suite(path, suite)
    return replace(score_datasets(open_results(path), suite, store=str(path)), suite_source=source)
