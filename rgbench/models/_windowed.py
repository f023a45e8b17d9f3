"""Windowed residual MLP: each block's MLP at position t reads positions t−k … t+k."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ._base import AbstractArchitecture, scan_blocks, stacked
from ._layers import ChannelMLP, Embedding, Readout


class WindowedNet(AbstractArchitecture):
    """h_{ℓ+1}[t] = h_ℓ[t] + α·W₂ σ(W₁ [u[t−k]; …; u[t+k]] + b₁) + b₂ with u = norm(h_ℓ), u = 0 outside 0 … T−1."""

    blocks: ChannelMLP  # stacked; W₁ has fan-in (2k + 1)·d
    radius: int = eqx.field(static=True)
    norm: str = eqx.field(static=True)

    def __init__(self, config, vocab: int, length: int, *, key: PRNGKeyArray):  # config: rgbench.models.Windowed
        k_embed, k_blocks, k_out = jax.random.split(key, 3)
        d, k = config.width, config.radius
        self.embedding = Embedding(vocab, length, d, config.positions, key=k_embed)
        self.blocks = stacked(
            lambda kk: ChannelMLP(config.norm, d, (2 * k + 1) * d, config.hidden, config.init_scale, key=kk),
            config.depth,
            key=k_blocks,
        )
        self.readout = Readout(config.norm, d, vocab, key=k_out)
        self.vocab, self.length, self.depth, self.width, self.radius = vocab, length, config.depth, d, k
        self.activation, self.norm, self.alpha = config.activation, config.norm, config.alpha

    def _window(self, u: Float[Array, "batch position width"]) -> Float[Array, "batch position window_width"]:
        k, t = self.radius, u.shape[1]
        padded = jnp.pad(u, ((0, 0), (k, k), (0, 0)))
        return jnp.concatenate([padded[:, j : j + t] for j in range(2 * k + 1)], axis=-1)

    def _trunk(self, h: Float[Array, "batch position width"], *, collect: bool):
        b, t, d = h.shape

        def step(block: ChannelMLP, h):
            u = self._window(block.norm(self.norm, h)).reshape(b * t, (2 * self.radius + 1) * d)
            return h + self.alpha * block.out(block.hidden(self.activation, u)).reshape(b, t, d)

        return scan_blocks(step, h, self.blocks, collect=collect, stream_axis=1)

    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        h0 = self.embedding(inputs)
        h, hs = self._trunk(h0, collect=collect)
        logits = self.readout(self.norm, h)
        if not collect:
            return None, logits
        return jnp.concatenate([h0[:, None], hs], axis=1), logits
