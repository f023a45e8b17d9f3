"""Equinox residual MLP families; each returns the residual stream at every layer plus logits.

A suite names a family with ``kind:`` (``tokenwise``, ``mixer``, ``windowed``, and ``plain`` for theory at init); its config's
``build(vocab, length, *, key)`` returns the network, whose ``__call__(inputs)`` gives
``(stream[layer, position, width], logits[position, vocab])`` with layer 0 the embedding output.
"""

from ._base import (
    AbstractArchitecture as AbstractArchitecture,
    ArchitectureConfig as ArchitectureConfig,
    per_token_ce_sum as per_token_ce_sum,
)
from ._mixer import Mixer as Mixer, MixerNet as MixerNet
from ._plain import Plain as Plain, PlainNet as PlainNet
from ._tokenwise import Tokenwise as Tokenwise, TokenwiseNet as TokenwiseNet
from ._windowed import Windowed as Windowed, WindowedNet as WindowedNet
