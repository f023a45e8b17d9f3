"""The scorer's statistics, public: calibrated intervals of a mean over seeds, their p-values, multiplicity.

``from rgbench import stats``: `mean_interval(values, level)` for a 1-D array of per-seed values,
`adjust(pvalues, method)` for adjusted p-values in input order, and the rest of
`rgbench.scoring._stats` (its docstring gives the methods, their references and measured coverage;
``python benchmarks/coverage.py`` measures it again).
"""

from .scoring._stats import BOOTSTRAP_SEED as BOOTSTRAP_SEED
from .scoring._stats import CONFIDENCE as CONFIDENCE
from .scoring._stats import METHODS as METHODS
from .scoring._stats import N_RESAMPLES as N_RESAMPLES
from .scoring._stats import adjust as adjust
from .scoring._stats import binomial_pvalues as binomial_pvalues
from .scoring._stats import bootstrap_ci as bootstrap_ci
from .scoring._stats import clopper_pearson as clopper_pearson
from .scoring._stats import hall_interval as hall_interval
from .scoring._stats import interval_pvalues as interval_pvalues
from .scoring._stats import mean_interval as mean_interval
from .scoring._stats import ratio_interval as ratio_interval
from .scoring._stats import t_interval as t_interval
from .scoring._stats import welch_interval as welch_interval

__all__ = [
    "BOOTSTRAP_SEED",
    "CONFIDENCE",
    "METHODS",
    "N_RESAMPLES",
    "adjust",
    "binomial_pvalues",
    "bootstrap_ci",
    "clopper_pearson",
    "hall_interval",
    "interval_pvalues",
    "mean_interval",
    "ratio_interval",
    "t_interval",
    "welch_interval",
]
