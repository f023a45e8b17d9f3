"""A case's identity and the sources of its kinds: `case_hash` (what a case computes, hashed), the
plugins its kinds come from (`plugin_sources`), and the kinds a stored suite names that no registry holds."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .._version import DATA_FORMAT_VERSION
from ..registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS, Registry
from ._schema import _CASE_KEYS, models


def _kinds(tree: Any, registry: Registry, out: dict[str, str]) -> None:
    """Every registered kind named anywhere in `tree` (e.g. a shuffle's `of`), with the source it comes from."""
    if isinstance(tree, dict):
        kind = tree.get("kind")
        if isinstance(kind, str) and kind in registry:
            source = registry.source(kind)
            if not source.builtin:
                out[f"{registry.category} {kind}"] = str(source)
        for value in tree.values():
            _kinds(value, registry, out)
    elif isinstance(tree, list):
        for value in tree:
            _kinds(value, registry, out)


def plugin_sources(resolved: dict[str, Any], *, predictions: bool = False) -> dict[str, str]:
    """The non-rgbench sources of the kinds a resolved case uses: ``{"architecture gmlp": "rgbench-gmlp 0.1.0"}``.

    What it computes (architecture, input) always; its predictions' observables and tests with
    `predictions` (they change how it is scored, not what is stored)."""
    out: dict[str, str] = {}
    _kinds(resolved.get("architecture"), ARCHITECTURES, out)
    _kinds(resolved.get("input"), INPUTS, out)
    if predictions:
        for pred in resolved.get("predict") or []:
            _kinds(pred.get("observable"), OBSERVABLES, out)
            _kinds(pred.get("test"), TESTS, out)
    return dict(sorted(out.items()))


def unknown_kinds(suite_data: dict[str, Any]) -> list[str]:
    """Kinds a resolved suite (``Suite.to_json`` data) names that no registry holds, e.g. "architecture 'gmlp'"."""
    models()
    found: dict[str, None] = {}

    def walk(tree: Any, registry: Registry) -> None:
        if isinstance(tree, dict):
            kind = tree.get("kind")
            if isinstance(kind, str) and kind not in registry:
                found[f"{registry.category} {kind!r}"] = None
            for value in tree.values():
                walk(value, registry)
        elif isinstance(tree, list):
            for value in tree:
                walk(value, registry)

    for case in suite_data.get("cases", []):
        walk(case.get("architecture"), ARCHITECTURES)
        walk(case.get("input"), INPUTS)
        for pred in case.get("predict") or []:
            walk(pred.get("observable"), OBSERVABLES)
            walk(pred.get("test"), TESTS)
    return list(found)


#: ``train`` keys that do not change what a case computes, left out of its hash.
UNHASHED_TRAIN_KEYS = ("checkpoint_every",)


def case_hash(resolved: dict[str, Any]) -> str:
    """Stable identity of a case: what it computes (not its id or predictions) + data-format version.

    ``seed_start`` enters only when it is not 0, and the plugins its architecture and input come
    from (distribution and version) only when there are any, so every case written before either
    existed keeps its hash; `UNHASHED_TRAIN_KEYS` never enter."""
    payload = {k: resolved[k] for k in _CASE_KEYS}
    if isinstance(payload.get("train"), dict):  # how often training state is saved changes no number
        payload["train"] = {k: v for k, v in payload["train"].items() if k not in UNHASHED_TRAIN_KEYS}
    if resolved.get("seed_start"):
        payload["seed_start"] = resolved["seed_start"]
    plugins = plugin_sources(resolved)
    if plugins:
        payload["plugins"] = plugins
    payload["data_format_version"] = DATA_FORMAT_VERSION
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
