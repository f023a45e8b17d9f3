"""Validation problems, located: pydantic's errors on a resolved case → file, line, dotted key, message.

`rgbench.suite` resolves every case from its sources (the defaults of each file, the case itself, its
grid entries, ``--set``) and records for each where it came from (`Resolved.where`). When pydantic
refuses a case, `case_problems` places each error at the most specific source that sets the key
(`locate`) and says what is allowed: the kinds of a registry slot (`COMPONENT_SLOTS`), the keys of
the mapping (with a did-you-mean), the bad value (`format_value`). `SuiteError` carries every
problem of a suite at once.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import pydantic
from pydantic import BaseModel

from ..registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS, Registry, closest
from ._yaml import Located, dotted

__all__ = [
    "COMPONENT_SLOTS",
    "Resolved",
    "SuiteError",
    "case_problems",
    "format_value",
    "locate",
    "shorthand",
    "unknown_key",
    "value_at",
]


class SuiteError(Exception):
    """A suite that does not validate. `problems` holds every located problem found."""

    def __init__(self, problems: list[Located]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@runtime_checkable  # annotations are checked at run time in the tests: isinstance must work
class Resolved(Protocol):
    """A resolved case as `locate` reads it: ``where`` lists (data-path prefix, source, source-path
    prefix, display prefix) in priority order — a grid entry (non-empty data-path prefix) sets exactly
    that path; the others are mappings (the case, the defaults) whose keys the source's ``lines``
    (key path → line) places in its ``file``."""

    where: list[tuple[tuple, Any, tuple, str]]


#: Which registry decides the allowed `kind` at a path inside a case (messages, and the merge of defaults).
COMPONENT_SLOTS: dict[tuple[str, ...], Registry] = {
    ("architecture",): ARCHITECTURES,
    ("input",): INPUTS,
    ("predict", "*", "observable"): OBSERVABLES,
    ("predict", "*", "test"): TESTS,
}


def shorthand(value: Any) -> Any:
    """A bare string where a mapping with `kind` is expected names the kind: ``effective_rank`` is
    ``{kind: effective_rank}``."""
    return {"kind": value} if isinstance(value, str) else value


def unknown_key(key: Any, allowed: Iterable[str]) -> str:
    """'unknown key …', with the allowed key the typo most plausibly meant and every allowed key."""
    allowed = list(allowed)
    close = closest(key, allowed)
    hint = f"; did you mean {close!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def format_value(v: Any) -> str:
    """A value as a grid's case id and a message show it (compact JSON for mappings and lists)."""
    if isinstance(v, str):
        return v.replace("/", "÷")  # ids become store group names: no path separators
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return repr(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"), sort_keys=True)
    return str(v)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listing(names: Sequence[str], limit: int = 10) -> str:
    """Names for a message, at most `limit` of them (a grid may make thousands)."""
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])}, … ({len(names)} in all)"


def _join(label: str, rest: tuple) -> str:
    if not rest:
        return label
    tail = dotted(rest)
    return label + (tail if tail.startswith("[") else "." + tail)


def locate(exp: Resolved, loc: tuple) -> tuple[str, int | None, str]:
    """File, line and dotted key for a path inside a resolved case: the most specific source that
    defines it (a grid entry, the case itself, or the defaults of this or an included file)."""
    best: tuple[int, str, int | None, str] | None = None
    for prefix, src, spath, label in exp.where:
        if prefix:  # a grid entry sets exactly this path
            if loc[: len(prefix)] == prefix:
                return src.file, src.lines.get(spath), _join(label, loc[len(prefix) :])
            continue
        full = spath + loc
        for n in range(len(full), len(spath), -1):
            if full[:n] in src.lines:
                depth = n - len(spath)
                if best is None or depth > best[0]:
                    best = (depth, src.file, src.lines[full[:n]], _join(label, loc))
                break
    if best is not None:
        return best[1], best[2], best[3]
    _, src, spath, label = next(w for w in exp.where if not w[0])
    return src.file, src.lines.get(spath), _join(label, loc)


def value_at(data: Any, loc: tuple) -> Any:
    """The value at `loc` inside nested mappings and lists, or None where the path leads nowhere."""
    for part in loc:
        if not (
            (isinstance(data, dict) and part in data) or (isinstance(data, list) and isinstance(part, int) and part < len(data))
        ):
            return None
        data = data[part]
    return data


def _clean_loc(data: Any, loc: tuple) -> tuple:
    """Drop the union-tag elements pydantic inserts (e.g. ('input', 'sticky', 'xi') → ('input', 'xi'))
    and function-validator markers."""
    out: list = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part not in cur and cur.get("kind") == part:
            continue
        if isinstance(part, str) and part.startswith(("function-", "tagged-union[")):
            continue
        if isinstance(part, str) and cur is not None and not isinstance(cur, dict):
            continue  # a member of a union (``float``, ``literal[...]``): a key cannot index a value or a list
        out.append(part)
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            cur = cur[part]
        else:
            cur = None
    return tuple(out)


def _slot(loc: tuple) -> Registry | None:
    for pattern, reg in COMPONENT_SLOTS.items():
        if len(loc) == len(pattern) and all(p == "*" or p == q for p, q in zip(pattern, loc)):
            return reg
    return None


def _model_keys(model: type[BaseModel], data: Any, loc: tuple) -> list[str] | None:
    """Allowed keys of the mapping at `loc` (for 'unknown key' messages)."""
    cur_model: Any = model
    cur = data
    for i, part in enumerate(loc):
        slot = _slot(loc[: i + 1]) if isinstance(part, str) else None
        if isinstance(part, int):
            cur = cur[part] if isinstance(cur, list) and part < len(cur) else None
            continue
        if not (isinstance(cur_model, type) and issubclass(cur_model, BaseModel)) or part not in cur_model.model_fields:
            return None
        cur = cur.get(part) if isinstance(cur, dict) else None
        if slot is not None:
            kind = shorthand(cur).get("kind") if isinstance(shorthand(cur), dict) else None
            cur_model = slot[kind] if kind in slot else None
            if cur_model is None:
                return None
            continue
        cur_model = _inner_model(cur_model.model_fields[part].annotation)
    if isinstance(cur_model, type) and issubclass(cur_model, BaseModel):
        return list(cur_model.model_fields)
    return None


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside Optional[...] / list[...] annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def _numeric(value: Any) -> bool:
    """Whether a string is a number someone quoted (so unquoting it gives what was meant)."""
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _message(err: dict, value: Any, allowed_keys: list[str] | None, reg: Registry | None) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = err["loc"][-1] if err["loc"] else "?"
        return unknown_key(key, allowed_keys or [])
    if kind in ("union_tag_invalid", "union_tag_not_found", "literal_error") and reg is not None:
        if kind == "union_tag_not_found":
            return f"missing `kind` (allowed: {', '.join(reg)})"
        return reg.unknown_message(value.get("kind") if isinstance(value, dict) else value)
    if kind == "missing":
        return "required key missing"
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    msg = msg.replace("input should be", "must be").replace("Input should be", "must be")
    if kind.startswith(("value_error", "assertion_error")):
        msg = msg.removeprefix("value error, ").removeprefix("assertion failed, ")
    got = format_value(value) if value is not None else "null"
    if kind in ("float_type", "int_type", "bool_type") and isinstance(value, (str, bool, int, float)):
        # a strict type error: say what YAML read it as, and how to write what was meant
        read_as = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}[type(value)]
        got = f"{value!r} ({read_as}{'; write it unquoted' if _numeric(value) else ''})"
    return f"{msg}; got {got}"


_NULL_ERROR = re.compile(r"^nulls\[(?P<index>\d+)\] \([^)]*\): (?P<message>.*)$", re.S)


def case_problems(
    error: pydantic.ValidationError, data: dict[str, Any], exp: Resolved, case_model: type[BaseModel]
) -> list[Located]:
    """Every error pydantic found in the resolved case `data` (validated as `case_model`), located in
    the sources `exp` came from, with a message that says what is allowed."""
    problems: list[Located] = []
    for err in error.errors():
        loc = _clean_loc(data, tuple(err["loc"]))
        reg = _slot(loc) or (_slot(loc[:-1]) if loc and loc[-1] == "kind" else None)
        if reg is not None and loc and loc[-1] == "kind":
            loc = loc[:-1]
        null = _NULL_ERROR.match(err["msg"].removeprefix("Value error, "))
        if null and len(loc) == 2 and loc[0] == "predict":  # a prediction's check of one of its nulls
            loc += ("nulls", int(null["index"]))
            file, line, key = locate(exp, loc)
            problems.append(Located(file, line, key, null["message"]))
            continue
        value = value_at(data, loc)
        allowed = _model_keys(case_model, data, loc[:-1]) if err["type"] == "extra_forbidden" else None
        if err["type"] == "extra_forbidden" and reg is None and allowed is None and loc[:-1] == ():
            allowed = list(case_model.model_fields) + ["grid"]
        file, line, key = locate(exp, loc)
        if err["type"] == "extra_forbidden" and any(w[0] and loc[: len(w[0])] == w[0] for w in exp.where):
            problems.append(Located(file, line, key, "grid key does not exist: " + _message(err, value, allowed, reg)))
        else:
            problems.append(Located(file, line, key, _message(err, value, allowed, reg)))
    return problems
