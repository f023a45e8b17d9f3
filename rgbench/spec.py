"""Deprecated import path: use rgbench.suite.

Kept for this version so that code importing from ``rgbench.spec`` keeps working; every name below is
re-exported from the `rgbench.suite` package, which now owns the suite language.
"""

from .suite import MAX_CASES as MAX_CASES
from .suite import MAX_FILES as MAX_FILES
from .suite import MAX_ID_BYTES as MAX_ID_BYTES
from .suite import MAX_NULLS as MAX_NULLS
from .suite import RESERVED_IDS as RESERVED_IDS
from .suite import TOP_KEY_MEANINGS as TOP_KEY_MEANINGS
from .suite import Case as Case
from .suite import Suite as Suite
from .suite import SuiteError as SuiteError
from .suite import case_from_dict as case_from_dict
from .suite import case_hash as case_hash
from .suite import case_to_dict as case_to_dict
from .suite import load_suite as load_suite
from .suite import models as models
from .suite import plugin_sources as plugin_sources
from .suite import suite_from_json as suite_from_json
from .suite import unknown_kinds as unknown_kinds
from .suite._schema import _CASE_ID_PATTERN as _CASE_ID_PATTERN
from .suite._schema import _TOP_KEYS as _TOP_KEYS

__all__ = [
    "Case",
    "Suite",
    "SuiteError",
    "load_suite",
    "suite_from_json",
    "case_from_dict",
    "case_to_dict",
    "case_hash",
    "models",
    "plugin_sources",
    "unknown_kinds",
    "MAX_CASES",
    "MAX_FILES",
    "MAX_ID_BYTES",
    "MAX_NULLS",
    "RESERVED_IDS",
    "TOP_KEY_MEANINGS",
]
