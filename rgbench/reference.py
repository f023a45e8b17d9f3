"""The reference of the suite language: every key a suite may hold, with its default, what is allowed
and one line of meaning — what ``rgbench list`` prints and ``rgbench list --json`` returns.

Built from the same pydantic models and registries that validate a suite (nothing is written twice):
the top-level and case keys from `rgbench.suite`, ``train:`` from `TrainConfig`, ``measure:`` from
`MeasureConfig`, an input's ``masking:`` from `Masking`, a prediction's own keys from `PredictionBase`, and every registered architecture,
input, observable and test kind from its config class.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ._board_rules import RULES
from .registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS, describe, parameters

__all__ = ["CATEGORIES", "KIND_CATEGORIES", "LANGUAGE_CATEGORIES", "XI_NOTE", "allowed", "reference"]

#: What ξ means wherever an input takes one (stated in the input section of ``rgbench list``).
XI_NOTE = (
    "ξ is the correlation length ξ = −1/ln|λ₂|, λ₂ the second-largest eigenvalue (by modulus) of the chain's "
    "transition matrix: correlations decay as |λ₂|^r = e^(−r/ξ) with the distance r. ξ = 1.2 ↔ |λ₂| = 0.435, "
    "ξ = 6.7 ↔ |λ₂| = 0.861 (docs/science.md)."
)

LANGUAGE_CATEGORIES = ("suite", "case", "train", "measure", "masking", "prediction")
KIND_CATEGORIES = {"architecture": ARCHITECTURES, "input": INPUTS, "observable": OBSERVABLES, "test": TESTS}
CATEGORIES = (*LANGUAGE_CATEGORIES, *KIND_CATEGORIES, "theory", "leaderboard")


def _number(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def allowed(field: FieldInfo) -> str:
    """The constraints pydantic enforces on a field, in words: ``≥ 1, ≤ 1024``, ``finite``, a pattern …"""
    out = []
    for m in field.metadata:
        for attr, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            if getattr(m, attr, None) is not None:
                out.append(f"{sign} {_number(getattr(m, attr))}")
        if getattr(m, "min_length", None) is not None:
            out.append(f"at least {m.min_length} item(s)" if m.min_length != 1 else "not empty")
        if getattr(m, "max_length", None) is not None:
            out.append(f"at most {m.max_length} long")
        if getattr(m, "pattern", None) is not None:
            out.append(f"matches {m.pattern}")
        if getattr(m, "allow_inf_nan", None) is False:
            out.append("finite")
    return ", ".join(dict.fromkeys(out))


def _rows(model: type[BaseModel], *, skip: tuple[str, ...] = (), meaning: dict[str, str] | None = None) -> list[dict]:
    """One row per settable key of `model`: name, type, default, allowed, description."""
    fields = model.model_fields
    rows = []
    for p in parameters(model):
        if p.name in skip:
            continue
        default = p.default
        if isinstance(default, float) and not math.isfinite(default):
            default = str(default)
        rows.append(
            {
                "name": p.name,
                "type": p.type,
                "default": default,
                "allowed": allowed(fields[p.name]),
                "description": (meaning or {}).get(p.name) or p.description,
            }
        )
    return rows


def _row(name: str, type_: str, default: Any, description: str, allowed_: str = "") -> dict:
    return {"name": name, "type": type_, "default": default, "allowed": allowed_, "description": description}


def _language() -> dict[str, dict[str, Any]]:
    from ._train_config import TrainConfig
    from .inputs import Masking
    from .measure import MeasureConfig
    from .predictions import PredictionBase
    from .suite import MAX_ID_BYTES, RESERVED_IDS, TOP_KEY_MEANINGS, models
    from .suite._schema import _CASE_ID_PATTERN

    _, CaseSpec = models()
    case_meaning = {
        "architecture": "the network: a mapping with `kind` (see architecture kinds) and its parameters",
        "input": "the input distribution: a mapping with `kind` (see input kinds) and its parameters",
        "train": "how the seeds are trained (see train keys)",
        "measure": "what is measured on the probe batch (see measure keys)",
    }
    case = [
        _row(
            "id",
            "str",
            "(required)",
            "case id, unique in the suite; a grid appends [key=value,…]",
            f"matches {_CASE_ID_PATTERN}, at most {MAX_ID_BYTES} bytes (UTF-8, grid suffix included), not "
            f"{', '.join(RESERVED_IDS)} in any letter case; ids differing only in letter case are refused",
        )
    ]
    case += _rows(CaseSpec, skip=("id", "predict"), meaning=case_meaning)
    for row in case:
        if row["name"] in ("architecture", "input"):
            row["type"], row["default"] = f"mapping (kind: one of the {row['name']} kinds)", "(required, or from defaults)"
        elif row["name"] in ("train", "measure"):
            row["type"], row["default"] = "mapping", "(all defaults)"
    case += [
        _row("predict", "list[prediction]", [], "the claims scored on this case (see prediction keys)"),
        _row(
            "grid",
            "mapping[dotted key, list]",
            None,
            "sweep: one case per combination of the listed values, e.g. {input.xi: [1.2, 6.7], seeds: [5, 10]}",
            "keys that a case may set; values validated like the case",
        ),
    ]
    prediction = [
        _row(
            "observable",
            "kind | mapping",
            "(required)",
            "what is read from the stored data: a kind name (see observable kinds) or a mapping with `kind` and its parameters",
        ),
        _row("test", "mapping", "(required)", "how the values are judged: a mapping with `kind` (see test kinds)"),
        *_rows(PredictionBase),
    ]
    for row in prediction:
        if row["name"] == "nulls":
            row["type"] = "list[case id | set name | {case, stage, compare_to}]"
    return {
        "suite": {
            "description": "the top-level keys of a suite file",
            "parameters": [_row(k, t, d, m) for k, (t, d, m) in TOP_KEY_MEANINGS.items()],
        },
        "case": {
            "description": "the keys of one case (and of `defaults:`, which every case inherits, except id, predict and grid)",
            "parameters": case,
        },
        "train": {"description": "a case's `train:` mapping", "parameters": _rows(TrainConfig)},
        "measure": {"description": "a case's `measure:` mapping", "parameters": _rows(MeasureConfig)},
        "masking": {"description": "an input's `masking:` mapping (every input kind has one)", "parameters": _rows(Masking)},
        "prediction": {"description": "one entry of a case's `predict:` list", "parameters": prediction},
    }


def reference(categories: tuple[str, ...] | list[str] = CATEGORIES) -> dict[str, Any]:
    """The reference as plain data (JSON-ready): for each category asked for, either a section
    ``{description, parameters: [...]}`` (suite, case, train, measure, prediction) or
    ``{kind: {description, source, parameters: [...]}}`` (architecture, input, observable, test),
    or ``{theory: {description, observables, stages, source}}``, or the leaderboard's ranking rules
    ``{description, rules: {name: text}}``."""
    from .suite import models
    from .theory import THEORY

    models()  # registers every component, plugins' included
    out: dict[str, Any] = {}
    language = _language() if set(categories) & set(LANGUAGE_CATEGORIES) else {}
    for cat in categories:
        if cat in LANGUAGE_CATEGORIES:
            out[cat] = language[cat]
        elif cat in KIND_CATEGORIES:
            reg = KIND_CATEGORIES[cat]
            out[cat] = {
                kind: {"description": describe(cls), "source": str(reg.source(kind)), "parameters": _rows(cls)}
                for kind, cls in reg.items()
            }
        elif cat == "leaderboard":
            out[cat] = {"description": "how `rgbench leaderboard` ranks architectures", "rules": dict(RULES)}
        elif cat == "theory":
            out[cat] = {
                t.name: {"description": t.doc, "observables": list(t.observables), "stages": list(t.stages), "source": t.source}
                for t in THEORY.values()
            }
        else:
            raise ValueError(f"no reference category {cat!r}; allowed: {', '.join(CATEGORIES)}")
    return out
