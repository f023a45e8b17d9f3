"""Input distributions: synthetic token sequences with exactly known spectral structure.

Each family is a registered config (``rgbench.registry.INPUTS``, YAML ``kind:``); ``cfg.build()``
returns an ``AbstractInput`` that samples and corrupts sequences in JAX and knows its exact
eigenvalues, stationary law, correlation length, one-hot autocorrelation and loss floors.
"""

from ._base import AbstractInput as AbstractInput
from ._base import InputConfig as InputConfig
from ._base import Masking as Masking
from ._beta import BetaSticky as BetaSticky
from ._floors import single_mask_loss as single_mask_loss
from ._markov import MarkovInput as MarkovInput
from ._shuffle import Shuffle as Shuffle
from ._spectral import Block as Block
from ._spectral import ClusterHMM as ClusterHMM
from ._spectral import Cyclic as Cyclic
from ._spectral import Spectral as Spectral
from ._sticky import IID as IID
from ._sticky import Sticky as Sticky
