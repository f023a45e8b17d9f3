"""Plain bias-free stacks without normalisation: the networks deep-learning theory solves exactly.

``plain`` is the reference architecture of the ``theory`` predictions (``rgbench.theory``):

* ``residual: false`` — h_{ℓ+1} = W_ℓ φ(h_ℓ), the bias-free MLP of Roberts, Yaida & Hanin,
  *The Principles of Deep Learning Theory* (2022), ch. 5, whose finite-width moments are known in
  closed form at every width (for ReLU at σ_w² = 2, E‖h‖⁴/(E‖h‖²)² = (1+2/n)(1+5/n)^ℓ);
* ``residual: true`` — h_{ℓ+1} = h_ℓ + α·W_ℓ φ(h_ℓ), one matrix per block, no hidden layer, whose
  infinite-width kernel follows the arc-cosine recursion of Cho & Saul (2009).

W_ℓ ~ N(0, σ_w²/n) with σ_w = ``init_scale`` (default √2, He initialisation: critical for ReLU) and
n = ``width``. Layer 0 is the token embedding E[x] ~ N(0, I_n) (as in every family), which is itself a
Gaussian first layer of the one-hot input. Like ``tokenwise`` it has no context: the stream at a
position depends only on that position's symbol, so the objective is evaluated through the symbol
table, once per symbol rather than once per token.
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray

from ._base import ContextFreeArchitecture, scan_blocks, stacked
from ._layers import Embedding, Readout, activate, normal
from ._ops import dense

__all__ = ["PlainNet"]


class PlainBlock(eqx.Module):
    """One bias-free layer: a width × width matrix, N(0, σ_w²/width)."""

    weight: Float[Array, "width width"]

    def __init__(self, width: int, init_scale: float, *, key: PRNGKeyArray):
        self.weight = normal(key, (width, width), init_scale / math.sqrt(width))


class PlainNet(ContextFreeArchitecture):
    """h₀ = E[x_t] (+ p_t); h_{ℓ+1} = W_ℓ φ(h_ℓ) or h_ℓ + α·W_ℓ φ(h_ℓ), per position; logits W_o h_L + b_o.

    No biases and no normalisation in the blocks (the readout's bias is zero at init and never enters
    the stream). ``symbol_table`` gives the stream for every symbol at once; the objective uses it
    through a (position, symbol, target) count table exactly as ``TokenwiseNet`` does.
    """

    blocks: PlainBlock  # stacked: every leaf has a leading layer axis
    residual: bool = eqx.field(static=True)
    positions: bool = eqx.field(static=True)
    readout_norm: ClassVar[str] = "none"  # no normalisation anywhere

    def __init__(self, config, vocab: int, length: int, *, key: PRNGKeyArray):  # config: rgbench.models.Plain
        k_embed, k_blocks, k_out = jax.random.split(key, 3)
        d = config.width
        self.embedding = Embedding(vocab, length, d, config.positions, key=k_embed)
        self.blocks = stacked(lambda k: PlainBlock(d, config.init_scale, key=k), config.depth, key=k_blocks)
        self.readout = Readout("none", d, vocab, key=k_out)
        self.vocab, self.length, self.depth, self.width = vocab, length, config.depth, d
        self.activation, self.alpha, self.residual = config.activation, config.alpha, config.residual
        self.positions = config.positions

    def _trunk(self, h: Float[Array, "row width"], *, collect: bool):
        def step(block: PlainBlock, h):
            branch = dense(activate(self.activation, h), block.weight)
            return h + self.alpha * branch if self.residual else branch

        return scan_blocks(step, h, self.blocks, collect=collect, stream_axis=1)
