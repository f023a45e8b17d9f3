"""Equinox residual network families; each returns the residual stream at every layer plus logits.

A suite names a family with ``kind:`` (the MLPs ``tokenwise``, ``mixer``, ``windowed``, the attention
network ``transformer``, and ``plain`` for theory at init); its config's
``build(vocab, length, *, key)`` returns the network, whose ``__call__(inputs)`` gives
``(stream[layer, position, width], logits[position, vocab])`` with layer 0 the embedding output.

A new family (in rgbench or in a plugin, see ``rgbench.plugins``) is two classes: a config that
subclasses `ArchitectureConfig`, declares ``kind: Literal["name"]`` and its hyperparameters and
implements ``network(vocab, length, *, key)`` (and, to be costed in closed form rather than by
counting its abstract network, ``cost(vocab, length) -> NetworkCost``); and a network that subclasses
`AbstractArchitecture`, holds its residual blocks stacked in a field ``blocks`` (`stacked`) and
implements ``apply(inputs, *, collect)`` with `scan_blocks`. `Embedding`, `Readout`,
`Normalization`, `ChannelMLP`, `normal` and `activate` are the pieces the built-in families use.

The configs import no JAX (``_configs``); the networks and pieces are imported from their Equinox
modules on first access, so reading a suite never pays for JAX.
"""

from .._modules import lazy_exports
from ._configs import ArchitectureConfig as ArchitectureConfig
from ._configs import Mixer as Mixer
from ._configs import NetworkCost as NetworkCost
from ._configs import Plain as Plain
from ._configs import Tokenwise as Tokenwise
from ._configs import Transformer as Transformer
from ._configs import Windowed as Windowed

_LAZY = {
    "_contract": ("ArchitectureContractError", "check_contract"),
    "_base": ("AbstractArchitecture", "ContextFreeArchitecture", "per_token_ce_sum", "scan_blocks", "stacked"),
    "_layers": ("ChannelMLP", "Embedding", "Normalization", "Readout", "activate", "normal"),
    "_mixer": ("MixerNet",),
    "_plain": ("PlainNet",),
    "_tokenwise": ("TokenwiseNet",),
    "_transformer": ("TransformerNet",),
    "_windowed": ("WindowedNet",),
}
__getattr__, __dir__, _LAZY_NAMES = lazy_exports(__name__, _LAZY)

__all__ = ["ArchitectureConfig", "Mixer", "Plain", "Tokenwise", "Transformer", "Windowed", *_LAZY_NAMES]
