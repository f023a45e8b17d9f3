"""Tokenwise residual MLP: every position is processed on its own (the seed paper's setting)."""

from __future__ import annotations

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray

from ._base import ContextFreeArchitecture, scan_blocks, stacked
from ._layers import ChannelMLP, Embedding, Readout


class TokenwiseNet(ContextFreeArchitecture):
    """h₀ = E[x_t] (+ p_t);  h_{ℓ+1} = h_ℓ + α·(W₂ σ(W₁ norm(h_ℓ) + b₁) + b₂), per position; logits from norm(h_L).

    Its output at a position depends only on that position's symbol (and the position itself when
    learned positions are on), so a batch's loss is a weighted sum over a (symbol, target) count
    table and the network need only be evaluated once per symbol: ``batch_statistics`` and
    ``ce_sum`` implement the objective that way, ``per_token_ce_sum`` is the plain reference.
    """

    blocks: ChannelMLP  # stacked: every leaf has a leading layer axis
    norm: str = eqx.field(static=True)
    positions: bool = eqx.field(static=True)

    def __init__(self, config, vocab: int, length: int, *, key: PRNGKeyArray):  # config: rgbench.models.Tokenwise
        k_embed, k_blocks, k_out = jax.random.split(key, 3)
        d = config.width
        self.embedding = Embedding(vocab, length, d, config.positions, key=k_embed)
        self.blocks = stacked(
            lambda k: ChannelMLP(config.norm, d, d, config.hidden, config.init_scale, key=k), config.depth, key=k_blocks
        )
        self.readout = Readout(config.norm, d, vocab, key=k_out)
        self.vocab, self.length, self.depth, self.width = vocab, length, config.depth, d
        self.activation, self.norm, self.alpha = config.activation, config.norm, config.alpha
        self.positions = config.positions

    def _trunk(self, h: Float[Array, "row width"], *, collect: bool):
        """The blocks on independent rows; the collected stream is (row, layer, width)."""

        def step(block: ChannelMLP, h):
            return h + self.alpha * block.out(block.hidden(self.activation, block.norm(self.norm, h)))

        # Checkpointing this cheap per-token block made the step slower (docs/engineering.md): no remat.
        return scan_blocks(step, h, self.blocks, collect=collect, stream_axis=1)

    @property
    def readout_norm(self) -> str:
        """The blocks' pre-norm, applied again before the readout."""
        return self.norm
