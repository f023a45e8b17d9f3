"""Which reports a leaderboard ranks together (`_rankings`), and the column each claim gets there
(`_column_keys`): the same claim — its stable id, or its text — under the same criteria (`_criteria`),
all trained or all untrained (`_trained`). Also what a row's network costs (`_case_cost`, `_case_wall`), its
label (`_labels`) and which of its claims wait on a case not yet computed (`_pending`)."""

from __future__ import annotations

import json
from typing import Any

from ..registry import ARCHITECTURES
from ..scoring import Report, Verdict

#: a claim's verdict on the board while a case it needs has no result in its store yet (`_pending`)
PENDING = "PENDING"

_BOUNDS = (
    "at_least",
    "at_most",
    "delta",
    "share_at_least",
    "spearman_at_most",
    "spearman_at_least",
    "below",
    "fraction_at_least",
)


def _criteria(p) -> str:
    """What decides a claim: its observable, test, pass region, stage, layers and rows, and whether it
    is judged against nulls — not the cases it names (a comparison's other case, the nulls' cases),
    which differ from one architecture to the next for the same claim. A claim with a stable ``id:``
    is the same claim whatever its margin: suites set margins per architecture family (from each
    family's nulls), so its numeric bounds are left out too."""
    spec = dict(p.spec)
    if isinstance(spec.get("test"), dict):
        drop = ("compare_to", *(_BOUNDS if p.claim_id else ()))
        spec["test"] = {k: v for k, v in spec["test"].items() if k not in drop}
    return json.dumps({"spec": spec, "nulls": bool(p.nulls)}, sort_keys=True, default=str)


def _column_keys(reports: list[Report], members: list[int]) -> dict[tuple[int, int], str]:
    """(report, prediction index) → the claim's column in the ranking of the reports `members`: its
    stable id, or its text where its suite gives none; where one key is decided by different criteria
    in different reports, each report's column is the key followed by " · " and its suite, so that
    only the same claim under the same criteria shares a column."""
    criteria: dict[str, set[str]] = {}
    for ri in members:
        for p in reports[ri].predictions:
            if p.purpose == "claim":
                criteria.setdefault(p.claim_id or p.claim, set()).add(_criteria(p))
    out = {}
    for ri in members:
        rep = reports[ri]
        for pi, p in enumerate(rep.predictions):
            key = p.claim_id or p.claim
            out[(ri, pi)] = key if len(criteria.get(key, ())) <= 1 else f"{key} · {rep.suite}"
    return out


def _trained(rep: Report) -> bool:
    """False only where every case records that it trains for no step (a theory suite); a case that
    records no training configuration (an older report) counts as trained."""
    return not rep.cases or any((cs.train or {}).get("steps", 1) > 0 for cs in rep.cases.values())


def _rankings(reports: list[Report]) -> list[tuple[list[int], str, bool]]:
    """The reports grouped into rankings — (member indices, name, trained) in order of first report.

    Two reports join one ranking when they state the same claim (its id, or its text) under the same
    criteria (`_criteria`) and both train their networks or neither does: version-1 and
    version-2 criteria, or a suite of untrained theory configurations and a suite of trained
    networks, never meet in one ranking. A report with no claim is a ranking of its own (unranked rows)."""
    parent = list(range(len(reports)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    trained = [_trained(rep) for rep in reports]
    owner: dict[tuple[str, str, bool], int] = {}
    for ri, rep in enumerate(reports):
        for p in rep.predictions:
            if p.purpose == "claim":
                j = owner.setdefault((p.claim_id or p.claim, _criteria(p), trained[ri]), ri)
                parent[find(ri)] = find(j)
    members: dict[int, list[int]] = {}
    for ri in range(len(reports)):
        members.setdefault(find(ri), []).append(ri)
    out: list[tuple[list[int], str, bool]] = []
    for group in members.values():
        suites = list(dict.fromkeys(reports[ri].suite for ri in group))
        any_trained = any(trained[ri] for ri in group)
        name = " + ".join(suites) + ("" if any_trained else " (untrained)")
        taken = sum(1 for _, n, _ in out if n == name or n.startswith(f"{name} #"))
        out.append((group, name if not taken else f"{name} #{taken + 1}", any_trained))
    return out


def _case_cost(cs) -> tuple[int, float] | None:
    """(parameters, training FLOPs per seed) of a case from its stored configuration; None where a
    configuration is absent or names a kind this installation does not know (a plugin's)."""
    from .._train_config import TrainConfig
    from ..cost import training_cost
    from ..registry import INPUTS

    arch, inp = cs.architecture, cs.input
    if not cs.train or arch.get("kind") not in ARCHITECTURES or inp.get("kind") not in INPUTS:
        return None
    try:
        a = ARCHITECTURES[arch["kind"]].model_validate(arch)
        x = INPUTS[inp["kind"]].model_validate(inp)
        return training_cost(a, x, TrainConfig.model_validate(cs.train))
    except (ValueError, TypeError):  # a stored configuration an older or newer rgbench wrote differently
        return None


def _resumed(cs) -> tuple[int, int] | None:
    """(r, n): the case's training resumed from a checkpoint at step r of its n (it recorded the seconds
    of the n − r steps after the resume only); None where it ran uninterrupted or records no resume."""
    r, n = cs.train_resumed_from_step or 0, (cs.train or {}).get("steps")
    return (r, n) if r and cs.train_seconds and isinstance(n, int) and n > r else None


def _case_wall(cs) -> float | None:
    """A case's wall seconds as if it had run uninterrupted: a resumed case's training seconds scaled by
    n / (n − r) — the steps before the resume taken to run at the rate of those after it."""
    resumed = _resumed(cs)
    if cs.wall_seconds is None or resumed is None:
        return cs.wall_seconds
    r, n = resumed
    return cs.wall_seconds + cs.train_seconds * r / (n - r)


def _pending(rep: Report, p) -> bool:
    """The prediction has no final verdict yet, in a store still being computed (`rgbench verify
    --partial`): it waits on a case with no result yet (`_waits`), or it is a claim whose multiplicity
    family holds one that does — its adjusted verdict can still change when that claim is decided. The
    board shows PENDING and neither scores nor ranks it."""
    if _waits(rep, p):
        return True
    if p.purpose != "claim" or rep.multiplicity in (None, "none"):
        return False
    return any(q.family == p.family and _waits(rep, q) for q in rep.predictions if q.purpose == "claim")


def _waits(rep: Report, p) -> bool:
    """The prediction's ERROR comes only from a case with no result in its store yet — its case, the
    case it is compared with, or a null's. The scorer says ERROR (nothing passes on missing data); an
    ERROR with a cause of its own — a case that is there but diverged, failed or cannot be read, or a
    failed gate — stays ERROR, whatever else is missing."""
    if p.verdict is not Verdict.ERROR:
        return False

    def missing(*names: str | None) -> bool:
        return any(getattr(rep.cases.get(c), "status", None) == "missing" for c in names if c)

    own = (p.case, (p.spec.get("test") or {}).get("compare_to"))
    if not missing(*own):
        if p.statistic is None:
            return False  # the case, or the case it is compared with, is there and in error
        if any(g.gate and g.case == p.case and g.verdict in (Verdict.FAIL, Verdict.ERROR) for g in rep.predictions):
            return False  # its case failed its gate
    # a null reads its case and the case it is compared with: its own, or the prediction's (an init null)
    errors = [(n.case, n.compare_to or own[1]) for n in p.nulls if n.verdict is Verdict.ERROR]
    if any(not missing(*needed) for needed in errors):
        return False  # a null is there and in error
    return missing(*own) or bool(errors)


def _default(kind: Any, key: str) -> Any:
    """The default of an architecture kind's key as stored (JSON), or a marker no value equals."""
    if not isinstance(kind, str) or kind not in ARCHITECTURES:
        return _NO_DEFAULT
    info = ARCHITECTURES[kind].model_fields.get(key)
    if info is None or info.is_required():
        return _NO_DEFAULT
    return json.loads(json.dumps(info.get_default(call_default_factory=True), default=str))


_NO_DEFAULT = object()


def _labels(archs: list[dict[str, Any]]) -> list[str]:
    """Kind, depth and width, then each key on which the rows differ, where a row's value is not its
    kind's default (a tokenwise row does not say `positions=False` because a transformer says more)."""
    keys = sorted({k for a in archs for k in a})
    varying = [
        k for k in keys if k not in ("kind", "depth", "width") and len({json.dumps(a.get(k), sort_keys=True) for a in archs}) > 1
    ]
    out = []
    for a in archs:
        parts = [str(a.get("kind", "?"))]
        if "depth" in a:
            parts.append(f"L={a['depth']}")
        if "width" in a:
            parts.append(f"d={a['width']}")
        parts += [f"{k}={a[k]}" for k in varying if a.get(k) is not None and a[k] != _default(a.get("kind"), k)]
        out.append(" ".join(parts))
    return out
