"""Validation of each resolved case (pydantic's errors located by `_problems`), the null sets that
predictions name, and the checks across cases: unique ids, `compare_to` and every null naming a case of
the suite that measures the stage the null reads."""

from __future__ import annotations

import json

import pydantic
from pydantic import BaseModel

from ..registry import closest
from ._expand import _Expanded
from ._problems import _listing, _short, case_problems, locate, value_at
from ._read import _Raw
from ._schema import MAX_NULLS, models
from ._yaml import Located


def _validate(exp: _Expanded, problems: list[Located]) -> BaseModel | None:
    _, CaseSpec = models()
    data = dict(exp.data)
    data.setdefault("id", exp.case_id)
    try:
        # Strict, as JSON: no bool for a number, no number for a bool or a string, no string for a
        # number — while a YAML list still fills a tuple, as a JSON array would.
        return CaseSpec.model_validate_json(json.dumps(data, default=str), strict=True)
    except pydantic.ValidationError as e:
        problems.extend(case_problems(e, data, exp, CaseSpec))
        return None


def _cross_checks(expanded: list[_Expanded], problems: list[Located]) -> None:
    """Checks across cases, on the resolved data (so they run even where a case has other problems)."""
    seen: dict[str, _Expanded] = {}
    folded: dict[str, _Expanded] = {}  # ids by casefold: one directory on a case-insensitive file system
    for exp in expanded:
        if exp.case_id in seen:
            file, line, key = locate(exp, ("id",))
            first = locate(seen[exp.case_id], ("id",))
            problems.append(
                Located(file, line, key, f"duplicate case id {exp.case_id!r} (first defined at {first[0]}:{first[1]})")
            )
            continue
        seen[exp.case_id] = exp
        other = folded.setdefault(exp.case_id.casefold(), exp)
        if other is not exp:
            file, line, key = locate(exp, ("id",))
            first = locate(other, ("id",))
            problems.append(
                Located(
                    file,
                    line,
                    key,
                    f"case id {_short(exp.case_id)!r} differs from {_short(other.case_id)!r} "
                    f"(defined at {first[0]}:{first[1]}) only in letter case: both would "
                    "name one directory of a store on a case-insensitive file system "
                    "(macOS, Windows); rename one",
                )
            )
    ids = list(seen)
    hints = _Hints(ids)
    for exp in expanded:
        predict = exp.data.get("predict")
        for i, pred in enumerate(predict if isinstance(predict, list) else []):
            target = value_at(pred, ("test", "compare_to"))
            if not isinstance(target, str) or target in seen:
                continue
            file, line, key = locate(exp, ("predict", i, "test", "compare_to"))
            problems.append(
                Located(
                    file, line, key, f"compare_to names no case of this suite: {target!r}{hints(target)} (cases: {_listing(ids)})"
                )
            )


class _Hints:
    """``; did you mean 'x'?`` for a name among many case ids, computed once per name (a grid's
    thousands of cases share their predictions, and so their typos)."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        self.memo: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self.memo:
            close = closest(name, self.ids)
            self.memo[name] = f"; did you mean {close!r}?" if close else ""
        return self.memo[name]


def _resolve_null_sets(expanded: list[_Expanded], raw: _Raw, problems: list[Located]) -> None:
    """Replace the names of top-level null sets in every prediction's `nulls` by the sets' references."""
    ids = {exp.case_id for exp in expanded}
    for name, (_, src) in raw.nulls.items():
        if name in ids:
            problems.append(
                Located(
                    src.file,
                    src.lines.get(("nulls", name)),
                    f"nulls.{name}",
                    f"a null set may not share its name with case {name!r}: in a prediction's `nulls` "
                    "the name would mean both; rename the set",
                )
            )

    memo: dict[str, list] = {}  # each set expanded once: sets naming sets twice over cannot grow as 2^depth

    def expand(items: list, chain: tuple[str, ...]) -> list:
        out: list = []
        for item in items:
            if isinstance(item, str) and item in raw.nulls and item not in chain:
                if item not in memo:
                    refs = raw.nulls[item][0]
                    memo[item] = expand(refs if isinstance(refs, list) else [refs], (*chain, item))
                out += memo[item]
            elif isinstance(item, str) and item in chain:
                src = raw.nulls[item][1]
                problems.append(
                    Located(
                        src.file,
                        src.lines.get(("nulls", item)),
                        f"nulls.{item}",
                        f"null sets name each other in a cycle: {' → '.join((*chain, item))}",
                    )
                )
            else:
                out.append(item)
            if len(out) > MAX_NULLS:
                return out[: MAX_NULLS + 1]
        return out

    for exp in expanded:
        predict = exp.data.get("predict")
        for i, pred in enumerate(predict if isinstance(predict, list) else []):
            if isinstance(pred, dict) and isinstance(pred.get("nulls"), (str, list)):
                value = pred["nulls"]
                pred["nulls"] = expand(value if isinstance(value, list) else [value], ())
                if len(pred["nulls"]) > MAX_NULLS:
                    file, line, key = locate(exp, ("predict", i, "nulls"))
                    problems.append(
                        Located(
                            file,
                            line,
                            key,
                            f"names more than {MAX_NULLS} nulls once its null sets "
                            f"expand; a prediction may have at most {MAX_NULLS}",
                        )
                    )


def _null_checks(validated: list[tuple[_Expanded, BaseModel]], expanded: list[_Expanded], problems: list[Located]) -> None:
    """Every null names a case of the suite that measures the stage the null reads."""
    from ..predictions import resolved_selection

    ids = [exp.case_id for exp in expanded]
    known = set(ids)
    hints = _Hints(ids)
    stages = {exp.case_id: list(spec.measure.stages) for exp, spec in validated}
    for exp, spec in validated:
        for i, pred in enumerate(spec.predict):
            for j, null in enumerate(pred.nulls):
                file, line, key = locate(exp, ("predict", i, "nulls", j))
                missing = [c for c in (null.case, null.compare_to) if c is not None and c not in known]
                for c in missing:
                    problems.append(
                        Located(
                            file,
                            line,
                            key,
                            f"null {null.label()!r} names no case of this suite: {c!r}{hints(c)} (cases: {_listing(ids)})",
                        )
                    )
                if missing:
                    continue
                stage = null.stage if null.stage is not None else resolved_selection(pred.observable, pred.stage, None)[0]
                needed = [stage] if stage is not None else (["init", "trained"] if pred.observable.staged else [])
                for c in {null.case or exp.case_id, null.compare_to or pred.test.reference()[0]} - {None}:
                    absent = [st for st in needed if c in stages and st not in stages[c]]
                    if absent:
                        problems.append(
                            Located(
                                file,
                                line,
                                key,
                                f"null {null.label()!r} reads stage {absent[0]!r} of case {c!r}, "
                                f"which measures only {', '.join(stages[c])}; add it to its "
                                "`measure.stages`",
                            )
                        )


def _stage_checks(validated: list[tuple[_Expanded, BaseModel]], problems: list[Located]) -> None:
    """A step of training named in `measure.stages` ends a chunk of training before its end (its
    parameters exist), and a prediction reads a stage its case measures."""
    for exp, spec in validated:
        steps, every = spec.train.steps, spec.train.log_every
        for i, stage in enumerate(spec.measure.stages):
            if isinstance(stage, int) and (stage >= steps or stage % every):
                file, line, key = locate(exp, ("measure", "stages", i))
                near = min(max(every, stage // every * every), (steps - 1) // every * every)
                hint = f", e.g. {near}" if near > 0 else " (this case's training has no such step)"
                problems.append(
                    Located(
                        file,
                        line,
                        key,
                        f"stage {stage} is not a step this case's training stops at: a step stage must be below "
                        f"train.steps ({steps}) and a multiple of train.log_every ({every}){hint}",
                    )
                )
        for i, pred in enumerate(spec.predict):
            if isinstance(pred.stage, int) and pred.stage not in spec.measure.stages:
                file, line, key = locate(exp, ("predict", i, "stage"))
                problems.append(
                    Located(
                        file,
                        line,
                        key,
                        f"stage {pred.stage} is not measured by this case (measure.stages: "
                        f"{', '.join(map(str, spec.measure.stages))}); add it there",
                    )
                )


def _claim_id_checks(validated: list[tuple[_Expanded, BaseModel]], problems: list[Located]) -> None:
    """A claim id names one prediction of a case, and one claim across the suite (the same words)."""
    texts: dict[str, tuple[str, _Expanded, int]] = {}
    for exp, spec in validated:
        seen: dict[str, int] = {}
        for i, pred in enumerate(spec.predict):
            if pred.id is None:
                continue
            file, line, key = locate(exp, ("predict", i, "id"))
            if pred.id in seen:
                first = locate(exp, ("predict", seen[pred.id], "id"))
                problems.append(
                    Located(file, line, key, f"claim id {pred.id!r} is given twice in this case (first at {first[0]}:{first[1]})")
                )
                continue
            seen[pred.id] = i
            other = texts.setdefault(pred.id, (pred.claim, exp, i))
            if other[0] != pred.claim:
                first = locate(other[1], ("predict", other[2], "id"))
                problems.append(
                    Located(
                        file,
                        line,
                        key,
                        f"claim id {pred.id!r} names another claim at {first[0]}:{first[1]} ({_short(other[0])!r}); "
                        "one id, one claim: give this one its own id or the same words",
                    )
                )


_AT_INIT = ("architecture", "input", "measure", "seeds", "seed_start")  # what an untrained case's data depend on


def uninformative_nulls(validated: list[tuple[_Expanded, BaseModel]]) -> list[Located]:
    """Warnings for nulls whose statistic is 0 by construction, known from the suite alone: a comparison
    of two cases at init that differ only in training (identical untrained networks on identical
    probes), or a stage compared with itself. Such a null cannot fail informatively (`rgbench validate`
    prints these; ``--strict`` refuses them)."""
    from ..predictions import resolved_selection

    specs = {exp.case_id: spec for exp, spec in validated}
    out: list[Located] = []
    for exp, spec in validated:
        for i, pred in enumerate(spec.predict):
            compare_to, against = pred.test.reference()
            for j, null in enumerate(pred.nulls):
                stage = null.stage or resolved_selection(pred.observable, pred.stage, None)[0]
                why = None
                if against is not None and stage == against:
                    why = f"it compares stage {stage!r} with itself"
                reference = null.compare_to or compare_to
                here = specs.get(null.case or exp.case_id)
                there = specs.get(reference) if reference is not None else None
                if why is None and stage == "init" and here is not None and there is not None:
                    same = all(_dumped(here, k) == _dumped(there, k) for k in _AT_INIT)
                    if same:
                        why = (
                            f"at init case {here.id!r} and case {there.id!r} differ only in training: their untrained "
                            "networks and probes are identical, so the statistic is exactly 0 in every seed"
                        )
                if why:
                    file, line, key = locate(exp, ("predict", i, "nulls", j))
                    out.append(
                        Located(
                            file,
                            line,
                            key,
                            f"null {null.label()!r} cannot fail informatively: {why}; name a null that differs in what "
                            "the claim is about (e.g. i.i.d. input), or drop it (warning; an error with --strict)",
                        )
                    )
    return out


def _dumped(spec: BaseModel, key: str):
    value = getattr(spec, key, None)
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value
