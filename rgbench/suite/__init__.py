"""The suite language: suite files (YAML) → validated, fully resolved cases, each with a stable hash.
It owns reading (safe YAML with lines, includes), resolution (defaults, grids, ``--set``), validation with located problems, and case identity.

A suite file has the top-level keys of `TOP_KEY_MEANINGS` (suite, title, description, include,
defaults, nulls, cases; each with its meaning there and in ``rgbench list suite``); a case has
``id``, optional ``architecture``, ``input``, ``train``, ``measure``, ``seeds``, ``seed_start``,
``predict`` and ``grid`` (``rgbench list case``).

Merging is a deep merge of mappings, the case winning over the defaults. When a case names a
different ``kind`` of architecture or input than the defaults, only the defaults that the new kind
also accepts are carried over (``vocab``, ``length``, ``masking`` survive a switch from ``sticky`` to
``iid``; ``xi`` does not).

``grid`` maps dotted keys to lists of values; a case with a grid expands into one case per
combination, with ids ``<id>[key=value,...]``.

Validation happens before anything runs and reports *every* problem of a file at once, each with the
file, line, dotted key, bad value and what is allowed (`SuiteError.problems`; pydantic's errors are
located by ``rgbench.suite._problems``).

The modules, in the order a suite goes through them:

* ``_yaml``: safe YAML loading that remembers the line of every key (`Located`, the unit of every problem);
* ``_schema``: the keys, limits and id forms of the language, and the pydantic models built from the registries;
* ``_read``: a file's raw tree and its includes;
* ``_expand``: defaults merged into cases, grids expanded, ``--set`` overrides applied;
* ``_problems``: pydantic's errors located in the sources of a case, and `SuiteError`;
* ``_checks``: each case validated, null sets resolved, the checks across cases;
* ``_hash``: a case's identity (`case_hash`) and the plugins its kinds come from;
* ``_suite``: `Case`, `Suite`, `load_suite` and the JSON a store keeps;
* ``_packaged``: the standard suites (the package ``rgbench.suites``) and the names that find them.

It composes measure, predictions, models, inputs, plugins and the registry, and imports nothing that
builds on it (cost, scoring, runner, plots, reference, cli, api); importing it does not import JAX.
"""

from ._hash import case_hash as case_hash
from ._hash import plugin_sources as plugin_sources
from ._hash import unknown_kinds as unknown_kinds
from ._packaged import StandardSuite as StandardSuite
from ._packaged import resolve_suite_path as resolve_suite_path
from ._packaged import standard_suites as standard_suites
from ._packaged import suites_dir as suites_dir
from ._problems import SuiteError as SuiteError
from ._schema import MAX_CASES as MAX_CASES
from ._schema import MAX_FILES as MAX_FILES
from ._schema import MAX_ID_BYTES as MAX_ID_BYTES
from ._schema import MAX_NULLS as MAX_NULLS
from ._schema import RESERVED_IDS as RESERVED_IDS
from ._schema import TOP_KEY_MEANINGS as TOP_KEY_MEANINGS
from ._schema import models as models
from ._suite import Case as Case
from ._suite import Suite as Suite
from ._suite import case_from_dict as case_from_dict
from ._suite import case_to_dict as case_to_dict
from ._suite import load_suite as load_suite
from ._suite import suite_from_json as suite_from_json
from ._yaml import MAX_FILE_BYTES as MAX_FILE_BYTES
from ._yaml import Located as Located

__all__ = [
    "Case",
    "Suite",
    "SuiteError",
    "Located",
    "load_suite",
    "resolve_suite_path",
    "standard_suites",
    "StandardSuite",
    "suites_dir",
    "suite_from_json",
    "case_from_dict",
    "case_to_dict",
    "case_hash",
    "models",
    "plugin_sources",
    "unknown_kinds",
    "MAX_CASES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_ID_BYTES",
    "MAX_NULLS",
    "RESERVED_IDS",
    "TOP_KEY_MEANINGS",
]
