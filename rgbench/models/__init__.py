"""Equinox residual MLP families; each returns the residual stream at every layer plus logits.

A suite names a family with ``kind:`` (``tokenwise``, ``mixer``, ``windowed``, and ``plain`` for theory at init); its config's
``build(vocab, length, *, key)`` returns the network, whose ``__call__(inputs)`` gives
``(stream[layer, position, width], logits[position, vocab])`` with layer 0 the embedding output.

A new family (in rgbench or in a plugin, see ``rgbench.plugins``) is two classes: a config that
subclasses `ArchitectureConfig`, declares ``kind: Literal["name"]`` and its hyperparameters and
implements ``network(vocab, length, *, key)``; and a network that subclasses
`AbstractArchitecture`, holds its residual blocks stacked in a field ``blocks`` (`stacked`) and
implements ``apply(inputs, *, collect)`` with `scan_blocks`. `Embedding`, `Readout`,
`Normalization`, `ChannelMLP`, `normal` and `activate` are the pieces the built-in families use.
"""

from ._base import AbstractArchitecture as AbstractArchitecture
from ._base import ArchitectureConfig as ArchitectureConfig
from ._base import ChannelMLP as ChannelMLP
from ._base import Embedding as Embedding
from ._base import Normalization as Normalization
from ._base import Readout as Readout
from ._base import activate as activate
from ._base import normal as normal
from ._base import per_token_ce_sum as per_token_ce_sum
from ._base import scan_blocks as scan_blocks
from ._base import stacked as stacked
from ._mixer import Mixer as Mixer
from ._mixer import MixerNet as MixerNet
from ._plain import Plain as Plain
from ._plain import PlainNet as PlainNet
from ._tokenwise import Tokenwise as Tokenwise
from ._tokenwise import TokenwiseNet as TokenwiseNet
from ._windowed import Windowed as Windowed
from ._windowed import WindowedNet as WindowedNet
