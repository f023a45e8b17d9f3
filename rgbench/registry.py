"""Name → component registries, so a suite file can name architectures, inputs, observables and tests.

Every registered component is a *config class*: a frozen pydantic model whose fields are the
parameters a suite may set, with defaults and descriptions. The YAML key ``kind:`` picks the class;
the registry is the single source of the allowed kinds and their parameters, used both by the suite
validator (``rgbench.spec``) and by ``rgbench list``.

A config class declares its kind as a literal field, e.g.::

    @INPUTS.register
    class Sticky(InputConfig):
        \"\"\"π-matched sticky Markov chain P = αI + (1−α)𝟙πᵀ.\"\"\"
        kind: Literal["sticky"] = "sticky"
        xi: float = Field(1.2, gt=0, description="correlation length −1/ln|λ₂|")

The first docstring line is the one-line description shown by ``rgbench list``.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Component",
    "Registry",
    "ARCHITECTURES",
    "INPUTS",
    "OBSERVABLES",
    "TESTS",
    "Parameter",
]


class Component(BaseModel):
    """Base of every registered config: strict about unknown keys, immutable, hashable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    kind: str


C = TypeVar("C", bound=Component)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    description: str


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def parameters(cls: type[BaseModel]) -> list[Parameter]:
    """The settable parameters of a config class (``kind`` excluded), for docs and ``rgbench list``."""
    out = []
    for name, field in cls.model_fields.items():
        if name == "kind":
            continue
        if field.is_required():
            out.append(Parameter(name, _type_name(field.annotation), "(required)", field.description or ""))
            continue
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = default.model_dump(mode="json")
        out.append(Parameter(name, _type_name(field.annotation), default, field.description or ""))
    return out


def describe(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


class Registry(Generic[C]):
    """A named set of component config classes, keyed by their ``kind`` literal."""

    def __init__(self, category: str):
        self.category = category
        self._entries: dict[str, type[C]] = {}

    def register(self, cls: type[C]) -> type[C]:
        field = cls.model_fields.get("kind")
        args = typing.get_args(field.annotation) if field is not None else ()
        if field is None or typing.get_origin(field.annotation) is not typing.Literal or len(args) != 1:
            raise TypeError(f"{cls.__name__} must declare `kind: Literal['<name>']` to be registered")
        kind = args[0]
        if kind in self._entries and self._entries[kind] is not cls:
            raise ValueError(f"{self.category} kind {kind!r} is already registered by {self._entries[kind].__name__}")
        self._entries[kind] = cls
        return cls

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def __getitem__(self, kind: str) -> type[C]:
        try:
            return self._entries[kind]
        except KeyError:
            raise KeyError(self.unknown_message(kind)) from None

    def __iter__(self):
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, type[C]]]:
        return sorted(self._entries.items())

    def unknown_message(self, kind: object) -> str:
        allowed = sorted(self._entries)
        close = difflib.get_close_matches(str(kind), allowed, n=1) if isinstance(kind, str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.category} kind {kind!r}{hint} (allowed: {', '.join(allowed)})"

    def parse(self, data: Any) -> C:
        """Validate a mapping with a ``kind`` key into its config class (raises pydantic.ValidationError)."""
        if not isinstance(data, dict):
            raise TypeError(f"a {self.category} must be a mapping with a `kind` key")
        return self[data.get("kind")].model_validate(data)


ARCHITECTURES: Registry = Registry("architecture")
INPUTS: Registry = Registry("input")
OBSERVABLES: Registry = Registry("observable")
TESTS: Registry = Registry("test")
