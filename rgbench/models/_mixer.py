"""MLP-Mixer-style residual network: a token-mixing MLP across positions, then a channel MLP."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ._base import AbstractArchitecture, scan_blocks, stacked
from ._layers import ChannelMLP, Embedding, Normalization, Readout, activate, mlp_weights
from ._ops import along_last, dense


class TokenMLP(eqx.Module):
    """Residual branch across positions: norm over width, then W₁ (T → hidden), σ, W₂ (hidden → T)."""

    norm: Normalization
    w1: Float[Array, "position hidden"]
    b1: Float[Array, " hidden"]
    w2: Float[Array, "hidden position"]
    b2: Float[Array, " position"]

    def __init__(self, norm: str, width: int, length: int, hidden: int, init_scale: float, *, key: PRNGKeyArray):
        self.norm = Normalization(norm, width)
        self.w1, self.b1, self.w2, self.b2 = mlp_weights(length, hidden, length, init_scale, key=key)

    def __call__(
        self, norm: str, activation: str, h: Float[Array, "position batch width"]
    ) -> Float[Array, "position batch width"]:
        """On the position-major stream, viewed as U (position × batch·width).

        Computed as (Uᵀ W₁) and (Z W₂) with batch·width rows, transposing U in and the result
        out: XLA:CPU's matmuls ran the many-rows orientation ~2× faster than W₁ᵀ U with a long
        trailing axis, which more than pays for the two (T × batch·width) transposes.
        """
        t, b, d = h.shape
        u = self.norm(norm, h).reshape(t, b * d)
        z = activate(activation, along_last(dense(u.T, self.w1), None, self.b1))  # (batch·width, hidden)
        return along_last(dense(z, self.w2), None, self.b2).T.reshape(t, b, d)


class MixerBlock(eqx.Module):
    token: TokenMLP
    channel: ChannelMLP


class MixerNet(AbstractArchitecture):
    """h ← h + α·TokenMLP(h);  h ← h + α·ChannelMLP(h), per block; the stream is recorded after each block."""

    blocks: MixerBlock  # stacked: every leaf has a leading layer axis
    norm: str = eqx.field(static=True)

    def __init__(self, config, vocab: int, length: int, *, key: PRNGKeyArray):  # config: rgbench.models.Mixer
        k_embed, k_blocks, k_out = jax.random.split(key, 3)
        d, th = config.width, config.token_hidden_for(length)

        def block(k):
            kt, kc = jax.random.split(k)
            return MixerBlock(
                TokenMLP(config.norm, d, length, th, config.init_scale, key=kt),
                ChannelMLP(config.norm, d, d, config.hidden, config.init_scale, key=kc),
            )

        self.embedding = Embedding(vocab, length, d, config.positions, key=k_embed)
        self.blocks = stacked(block, config.depth, key=k_blocks)
        self.readout = Readout(config.norm, d, vocab, key=k_out)
        self.vocab, self.length, self.depth, self.width = vocab, length, config.depth, d
        self.activation, self.norm, self.alpha = config.activation, config.norm, config.alpha

    def _trunk(self, h: Float[Array, "position batch width"], *, collect: bool):
        """The blocks on the position-major stream (position, batch, width): the channel MLP is a
        matmul over T·batch rows, and token mixing one over batch·width rows after a single
        (T × batch·width) transpose; the (batch, T, width) layout instead needed transposes of the
        hidden activations, strided copies that cost as much as the matmuls on XLA:CPU."""
        t, b, d = h.shape

        def step(block: MixerBlock, h):
            h = h + self.alpha * block.token(self.norm, self.activation, h)
            c = block.channel
            rows = h.reshape(t * b, d)
            return h + self.alpha * c.out(c.hidden(self.activation, c.norm(self.norm, rows))).reshape(t, b, d)

        return scan_blocks(step, h, self.blocks, collect=collect, stream_axis=0)

    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        h0 = self.embedding.tokens[inputs.T]  # position-major: (position, batch, width)
        if self.embedding.positions is not None:
            h0 = h0 + self.embedding.positions[:, None, :]
        h, hs = self._trunk(h0, collect=collect)
        logits = jnp.swapaxes(self.readout(self.norm, h), 0, 1)
        if not collect:
            return None, logits
        stream = jnp.concatenate([h0[None], hs])  # (layer, position, batch, width)
        return jnp.transpose(stream, (2, 0, 1, 3)), logits
