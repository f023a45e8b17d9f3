"""Input distributions: synthetic token sequences with exactly known spectral structure.

Each family is a registered config (``rgbench.registry.INPUTS``, YAML ``kind:``); ``cfg.build()``
returns an ``AbstractInput`` that samples and corrupts sequences in JAX and knows its exact
eigenvalues, stationary law, correlation length, one-hot autocorrelation and loss floors.
"""

from ._base import AbstractInput as AbstractInput, InputConfig as InputConfig, Masking as Masking
from ._floors import single_mask_loss as single_mask_loss
from ._markov import MarkovInput as MarkovInput
from ._sticky import IID as IID, Sticky as Sticky
from ._spectral import Block as Block, ClusterHMM as ClusterHMM, Cyclic as Cyclic, Spectral as Spectral
from ._beta import BetaSticky as BetaSticky
from ._shuffle import Shuffle as Shuffle
