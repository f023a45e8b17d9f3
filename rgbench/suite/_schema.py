"""What a suite may say: its keys and their meanings, the limits on its size, the form of ids, and the
pydantic models of a case and a prediction, built from the registries of kinds (`models`)."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from ..registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS, Registry, generation
from ._problems import shorthand
from ._yaml import MAX_FILE_BYTES

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(\[[^\]/]*\])?$"  # base id, then grid values
_CASE_KEYS = ("architecture", "input", "train", "measure", "seeds")  # the hash payload (and seed_start when set)
_DEFAULT_KEYS = (*_CASE_KEYS, "seed_start")  # what `defaults:` and a case may set besides id, predict, grid
# Bounded loading: what one suite may make rgbench read and hold, checked before it is materialised.
#: Cases once every grid is expanded (counted before any is built): a sweep beyond this is several suites.
MAX_CASES = 10_000
#: Files read through `include:`, the suite itself included (each file is read once).
MAX_FILES = 256
#: A case id (grid values included) and a suite name, in UTF-8 bytes: each names a directory of the
#: store, and the store adds its own prefixes and suffixes (``.<id>.new-<pid>``, lock files) within the
#: 255 bytes a file name may have.
MAX_ID_BYTES = 128
#: The nulls of one prediction once named null sets expand (sets may name sets).
MAX_NULLS = 256
#: Names the store uses itself, refused as case ids (compared case-insensitively: macOS and Windows
#: file systems are). Names beginning with '.' (``.locks``, swap directories) cannot be ids at all.
RESERVED_IDS = ("zarr.json",)
#: The top-level keys of a suite file: (type, default, meaning), for validation messages and `rgbench list`.
TOP_KEY_MEANINGS: dict[str, tuple[str, Any, str]] = {
    "suite": (
        "str",
        "(required)",
        f"identifier (letters, digits, -, _, .; at most {MAX_ID_BYTES} characters), the "
        "store's default name results/<suite>.zarr",
    ),
    "title": ("str", None, "one line for people"),
    "description": ("str", None, "a paragraph: what the suite tests and why"),
    "alpha": (
        "float",
        0.05,
        "the level of every verdict (0 < alpha ≤ 0.5): intervals at 1 − alpha, the seed rule's binomial test, "
        "the nulls; claims are decided at their family's multiplicity-adjusted level",
    ),
    "multiplicity": (
        "holm | bonferroni | bh | none",
        "holm",
        "the correction over the suite's claims (each `family:` of claims apart; diagnostics never count): "
        "Holm's step-down (family-wise error), Bonferroni, Benjamini–Hochberg (false discovery rate), or none",
    ),
    "include": (
        "list[path]",
        [],
        "suite files (relative to this one) whose defaults, nulls and cases are merged in "
        "first; each file is read once (a file included again is skipped), cycles are an "
        f"error; at most {MAX_FILES} files in all, each a regular file of at most "
        f"{MAX_FILE_BYTES // 2**20} MiB",
    ),
    "defaults": (
        "partial case",
        {},
        "architecture, input, train, measure, seeds, seed_start merged into every case "
        "(the case wins; a switch of kind keeps only what the new kind accepts)",
    ),
    "nulls": (
        "mapping[name, list[null]]",
        {},
        "named null sets, e.g. untrained-or-iid: [{stage: init}, iid], that a prediction's nulls: may name",
    ),
    "cases": (
        "list[case]",
        "(required)",
        f"the cases (see case keys); at most {MAX_CASES} once every grid is expanded, counted before any case is built",
    ),
}
_TOP_KEYS = tuple(TOP_KEY_MEANINGS)
#: The corrections `multiplicity:` may name (the scorer's `rgbench.stats.METHODS`; a test keeps them equal).
MULTIPLICITY_METHODS = ("holm", "bonferroni", "bh", "none")


def _load_components() -> None:
    # Importing these modules registers rgbench's components; the entry points, installed packages'.
    from .. import inputs, models, predictions  # noqa: F401 - imported for what importing them registers
    from ..plugins import load_entry_points

    load_entry_points()


def _union(registry: Registry):
    classes = [cls for _, cls in registry.items()]
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[tuple(classes)], Field(discriminator="kind")]


def models() -> tuple[type[BaseModel], type[BaseModel]]:
    """The pydantic models of a prediction and of a case, built from the registries.

    Rebuilt whenever a kind has been registered since the last call (a ``--plugin`` imported after
    the first suite was read is picked up, not refused)."""
    _load_components()
    return _models(generation())


@cache
def _models(registrations: int) -> tuple[type[BaseModel], type[BaseModel]]:
    from .._train_config import TrainConfig
    from ..measure import MeasureConfig
    from ..predictions import PredictionBase

    Prediction = pydantic.create_model(
        "Prediction",
        __base__=PredictionBase,
        observable=(Annotated[_union(OBSERVABLES), pydantic.BeforeValidator(shorthand)], ...),
        test=(_union(TESTS), ...),
    )

    class CaseSpec(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        id: str = Field(pattern=_CASE_ID_PATTERN, max_length=300)
        architecture: _union(ARCHITECTURES)  # type: ignore[valid-type]
        input: _union(INPUTS)  # type: ignore[valid-type]
        train: TrainConfig = Field(default_factory=TrainConfig)
        measure: MeasureConfig = Field(default_factory=MeasureConfig)
        seeds: int = Field(10, ge=1, le=1000, description="number of seeds, trained together (vmap)")
        seed_start: int = Field(
            0,
            ge=0,
            le=2**31 - 1000,
            description="first seed: the case runs seeds seed_start … seed_start + seeds − 1 "
            "(fresh seeds for a replication; cases compared by seed should share it)",
        )
        predict: list[Prediction] = Field(default_factory=list)  # type: ignore[valid-type]

    return Prediction, CaseSpec


def _valid_id(s: str) -> bool:
    return re.fullmatch(_ID_PATTERN, s) is not None


def _id_problem(case_id: str) -> str | None:
    """Why `case_id` cannot name a directory of the store, or None: too long, a character a file name
    should not hold (a control character, e.g. from a quoted grid value), or a name the store uses."""
    size = len(case_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        chars = f" ({len(case_id)} characters)" if len(case_id) != size else ""
        return (
            f"is {size} bytes long in UTF-8{chars}; a case id names a directory of the store and may have at most {MAX_ID_BYTES}"
        )
    bad = next((c for c in case_id if not c.isprintable()), None)
    if bad is not None:
        return f"holds U+{ord(bad):04X}, an unprintable character that no file name should hold"
    if case_id.casefold() in RESERVED_IDS:
        return f"is a name the store uses itself (it may not be any of: {', '.join(RESERVED_IDS)})"
    return None
