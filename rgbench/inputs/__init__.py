"""Input distributions: synthetic token sequences with exactly known spectral structure.

Each family is a registered config (``rgbench.registry.INPUTS``, YAML ``kind:``); ``cfg.build()``
returns an ``AbstractInput`` that samples and corrupts sequences in JAX and knows its exact
eigenvalues, stationary law, correlation length, one-hot autocorrelation and loss floors.

The configs import no JAX; the runtime classes are imported from their modules on first access.
"""

from .._modules import lazy_exports
from ._base import InputConfig as InputConfig
from ._base import Masking as Masking
from ._beta import BetaSticky as BetaSticky
from ._shuffle import Shuffle as Shuffle
from ._spectral import Block as Block
from ._spectral import ClusterHMM as ClusterHMM
from ._spectral import Cyclic as Cyclic
from ._spectral import Spectral as Spectral
from ._sticky import IID as IID
from ._sticky import Sticky as Sticky

_LAZY = {
    "_runtime": ("AbstractInput",),
    "_markov": ("MarkovInput",),
    "_beta_mixture": ("BetaStickyInput",),
    "_shuffled": ("ShuffledInput",),
    "_floors": ("single_mask_loss",),
}
__getattr__, __dir__, _LAZY_NAMES = lazy_exports(__name__, _LAZY)

__all__ = [
    "IID",
    "BetaSticky",
    "Block",
    "ClusterHMM",
    "Cyclic",
    "InputConfig",
    "Masking",
    "Shuffle",
    "Spectral",
    "Sticky",
    *_LAZY_NAMES,
]
