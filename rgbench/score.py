"""`rgbench.score`: the verdicts of a store (``rgbench.score(store)``, `score`) and the scorer's public names.

The scorer lives in `rgbench.scoring`, whose docstring gives the verdict semantics (seed rule,
interval rule, nulls) and the report's JSON schema; this module re-exports its public names and
holds the notebook function and the ``rgbench score`` command.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ._modules import callable_module
from .scoring import BOOTSTRAP_SEED as BOOTSTRAP_SEED
from .scoring import CONFIDENCE as CONFIDENCE
from .scoring import FIGURES as FIGURES
from .scoring import N_RESAMPLES as N_RESAMPLES
from .scoring import CaseSummary as CaseSummary
from .scoring import NullResult as NullResult
from .scoring import PredictionResult as PredictionResult
from .scoring import Report as Report
from .scoring import ScoreError as ScoreError
from .scoring import Verdict as Verdict
from .scoring import bootstrap_ci as bootstrap_ci
from .scoring import case_figures as case_figures
from .scoring import decide as decide
from .scoring import evaluate_prediction as evaluate_prediction
from .scoring import score_datasets as score_datasets
from .scoring import score_store as score_store
from .scoring import seed_rule as seed_rule
from .scoring import seeds_for_interval as seeds_for_interval
from .scoring import seeds_for_seed_rule as seeds_for_seed_rule
from .scoring import uninformative as uninformative

__all__ = [
    "Verdict",
    "ScoreError",
    "PredictionResult",
    "NullResult",
    "CaseSummary",
    "Report",
    "score_store",
    "score_datasets",
    "evaluate_prediction",
    "bootstrap_ci",
    "decide",
    "seed_rule",
    "seeds_for_seed_rule",
    "seeds_for_interval",
    "uninformative",
    "case_figures",
    "BOOTSTRAP_SEED",
    "N_RESAMPLES",
]

# --------------------------------------------------------------------------------------------
# CLI and the notebook function


def score(store: str | os.PathLike, suite: str | os.PathLike | Any = None, *, plugins: Sequence[str] = ()) -> Report:
    """The verdicts of a store, with the suite recorded in it unless `suite` is given: the notebook
    function, exported as ``rgbench.score`` (plugins named in `plugins` are imported first)."""
    from .plugins import load_plugins

    load_plugins(list(plugins))
    return score_store(store, suite)


callable_module(__name__, "score")
