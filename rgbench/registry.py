"""Name → component registries, so a suite file can name architectures, inputs, observables and tests.

Every registered component is a *config class*: a frozen pydantic model whose fields are the
parameters a suite may set, with defaults and descriptions. The YAML key ``kind:`` picks the class;
the registry is the single source of the allowed kinds and their parameters, used both by the suite
validator (``rgbench.suite``) and by ``rgbench list``.

A config class declares its kind as a literal field, e.g.::

    @INPUTS.register
    class Sticky(InputConfig):
        \"\"\"π-matched sticky Markov chain P = αI + (1−α)𝟙πᵀ.\"\"\"
        kind: Literal["sticky"] = "sticky"
        xi: float = Field(1.2, gt=0, description="correlation length −1/ln|λ₂|")

The first docstring line is the one-line description shown by ``rgbench list``.

Every registry knows the abstract base its classes must subclass (set by the module that defines
the base: ``ARCHITECTURES.require(ArchitectureConfig)``) and where each kind comes from: rgbench
itself, an installed distribution's ``rgbench.components`` entry point, or a ``--plugin`` module
(`Source`, set by `rgbench.plugins` while it imports one). Registering a kind that another source
already registered is an error naming both.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import inspect
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from ._version import __version__

__all__ = [
    "Component",
    "Registry",
    "Source",
    "BUILTIN",
    "registering_as",
    "generation",
    "closest",
    "ARCHITECTURES",
    "INPUTS",
    "OBSERVABLES",
    "TESTS",
    "Parameter",
]


@dataclass(frozen=True)
class Source:
    """Where registered kinds come from: a distribution (or ``--plugin`` module) and its version."""

    name: str
    version: str
    entry_point: str | None = None  # the entry point (``name = module``) that loaded it, if any

    @property
    def builtin(self) -> bool:
        return self is BUILTIN or self.name == "rgbench"

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


BUILTIN = Source("rgbench", __version__)
_CURRENT: contextvars.ContextVar[Source] = contextvars.ContextVar("rgbench_registering_as", default=BUILTIN)
_GENERATION = [0]


@contextlib.contextmanager
def registering_as(source: Source) -> Iterator[None]:
    """Attribute every registration made inside the block (a plugin's import) to `source`."""
    token = _CURRENT.set(source)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def closest(word: object, allowed: Iterable[str]) -> str | None:
    """The allowed name a typo most plausibly meant, or None when none is close.

    A name that is a prefix or suffix of the word wins (``probe_samples`` → ``samples``); otherwise
    difflib's closest match, if its similarity is at least 0.75 (``stpes`` → ``steps``, ``lnog`` →
    ``long``; ``window`` is not offered ``kind``)."""
    word = str(word)
    allowed = list(allowed)
    inside = [a for a in allowed if len(a) >= 4 and a != word and (word.startswith(a) or word.endswith(a))]
    if inside:
        return max(inside, key=len)
    close = difflib.get_close_matches(word, allowed, n=1, cutoff=0.75)
    return close[0] if close else None


def generation() -> int:
    """A counter that grows with every new registration (the suite models rebuild when it changes)."""
    return _GENERATION[0]


class Component(BaseModel):
    """Base of every registered config: strict about unknown keys, immutable, hashable.

    A registered kind subclasses the abstract base its registry requires (`ArchitectureConfig`,
    `InputConfig`, `AbstractObservable`, `AbstractTest`: each docstring lists what to implement),
    declares ``kind: Literal["name"]``, and implements every abstract method."""

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
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is tuple and typing.get_args(annotation)[-1:] == (Ellipsis,):  # tuple[float, ...]: a YAML list
        return f"list[{_type_name(typing.get_args(annotation)[0])}]"
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


def public_name(cls: type) -> str:
    """Where users import `cls` from: ``rgbench.models.ArchitectureConfig``, not the private module
    that defines it (``rgbench.models._configs``); the defining module when no parent re-exports it."""
    import sys

    module = cls.__module__
    parts = module.split(".")
    while len(parts) > 1 and parts[-1].startswith("_"):
        parent = sys.modules.get(".".join(parts[:-1]))
        if parent is None or getattr(parent, cls.__name__, None) is not cls:
            break
        parts = parts[:-1]
    return f"{'.'.join(parts)}.{cls.__qualname__}"


def describe(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


class Registry(Generic[C]):
    """A named set of component config classes, keyed by their ``kind`` literal."""

    def __init__(self, category: str):
        self.category = category
        self.base: type | None = None
        self._entries: dict[str, type[C]] = {}
        self._sources: dict[str, Source] = {}

    def require(self, base: type) -> None:
        """Declare the abstract base every class of this registry must subclass."""
        self.base = base

    def register(self, cls: type[C]) -> type[C]:
        """Register a config class under its ``kind`` literal (a decorator). Raises TypeError / ValueError."""
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise TypeError(
                f"{where} is not a pydantic config class; a {self.category} subclasses "
                f"{self.base.__name__ if self.base else 'rgbench.registry.Component'}"
            )
        if self.base is not None and not issubclass(cls, self.base):
            raise TypeError(f"{where} cannot be registered as a {self.category}: it must subclass {public_name(self.base)}")
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(cls.__abstractmethods__))
            raise TypeError(
                f"{where} cannot be registered as a {self.category}: it leaves abstract methods unimplemented ({missing})"
            )
        field = cls.model_fields.get("kind")
        args = typing.get_args(field.annotation) if field is not None else ()
        if field is None or typing.get_origin(field.annotation) is not typing.Literal or len(args) != 1:
            raise TypeError(f"{cls.__name__} must declare `kind: Literal['<name>']` to be registered")
        kind = args[0]
        source = _CURRENT.get()
        if kind in self._entries:
            old = self._entries[kind]
            if old is cls:
                return cls
            old_where = f"{old.__module__}.{old.__qualname__}"
            if (old_where, self._sources[kind]) == (where, source):  # the same module imported again
                self._entries[kind] = cls
                return cls
            raise ValueError(
                f"{self.category} kind {kind!r} is registered twice: by {old_where} ({self._sources[kind]}) "
                f"and by {where} ({source}); uninstall one of them or rename its kind"
            )
        self._entries[kind] = cls
        self._sources[kind] = source
        _GENERATION[0] += 1
        return cls

    def reattribute(self, provisional: Source, final: Source) -> None:
        """Give the kinds registered under `provisional` the `final` source (a plugin's version is known late)."""
        for kind, src in self._sources.items():
            if src == provisional:
                self._sources[kind] = final

    def source(self, kind: str) -> Source:
        """Where `kind` comes from (rgbench itself, a distribution, a --plugin module)."""
        if kind not in self._entries:
            raise KeyError(self.unknown_message(kind))
        return self._sources[kind]

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
        close = closest(kind, allowed) if isinstance(kind, str) else None
        hint = f"; did you mean {close!r}?" if close else ""
        plugin = (
            ""
            if close
            else (
                "; a kind from another package needs that package installed (it registers through "
                "the rgbench.components entry point) or `--plugin MODULE_OR_PATH` on the command line"
            )
        )
        return f"unknown {self.category} kind {kind!r}{hint} (allowed: {', '.join(allowed)}){plugin}"

    def parse(self, data: Any) -> C:
        """Validate a mapping with a ``kind`` key into its config class (raises pydantic.ValidationError)."""
        if not isinstance(data, dict):
            raise TypeError(f"a {self.category} must be a mapping with a `kind` key")
        return self[data.get("kind")].model_validate(data)


ARCHITECTURES: Registry = Registry("architecture")
INPUTS: Registry = Registry("input")
OBSERVABLES: Registry = Registry("observable")
TESTS: Registry = Registry("test")
