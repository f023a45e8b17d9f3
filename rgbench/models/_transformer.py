"""Pre-norm transformer encoder: multi-head self-attention, then a channel MLP, in every residual block.

h ← h + α·MHSA(norm(h));  h ← h + α·ChannelMLP(norm(h)), the stream recorded after each block.
Bidirectional (the masked-token objective of every family): query t attends to every key s, or,
with ``attention: window:<r>``, to the keys |t − s| ≤ r only.

The attention itself is ``jax.nn.dot_product_attention`` with a boolean ``mask`` (its XLA
implementation, the one it picks on CPU, applies any mask shape broadcastable to (batch, head,
query, key): disallowed scores become a large negative number before the softmax, so they get
exactly zero weight and pass exactly zero gradient). A window is such a mask on the full T × T
scores: it costs what full attention costs.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ._base import AbstractArchitecture, scan_blocks, stack_blocks, stacked
from ._layers import ChannelMLP, Embedding, Normalization, Readout, normal
from ._ops import along_last, dense

__all__ = ["SelfAttention", "TransformerBlock", "TransformerNet", "sinusoidal_positions"]


@functools.lru_cache(maxsize=16)
def sinusoidal_positions(length: int, width: int) -> Float[np.ndarray, "position width"]:
    """The fixed table of Vaswani et al. (2017): PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] =
    cos(t / 10000^(2i/d)), d = width (an odd width ends with a sine column). Computed in float64 on the
    host (float32 angles lose ~T·2⁻²⁴ of accuracy at large t) and entered as a constant. Read-only, cached."""
    t = np.arange(length, dtype=np.float64)[:, None]
    i = np.arange(width)[None, :]
    angle = t / 10000.0 ** ((i - i % 2) / width)
    table = np.where(i % 2 == 0, np.sin(angle), np.cos(angle)).astype(np.float32)
    table.flags.writeable = False
    return table


def window_mask(length: int, radius: int | None) -> Bool[Array, "query key"] | None:
    """Which keys s each query t may attend to: |t − s| ≤ radius; None (every key) for full attention.

    Computed, not a T × T literal in the compiled program (which would grow it by T² bytes)."""
    if radius is None:
        return None
    t = jnp.arange(length)
    return jnp.abs(t[:, None] - t[None, :]) <= radius


class SelfAttention(eqx.Module):
    """Multi-head self-attention branch: norm → q, k, v (width → heads × head_width each, with biases)
    → softmax(q·kᵀ/√head_width) v per head → concatenated heads → width (with a bias).

    ``wqkv``'s columns are [q | k | v], each heads × head_width, head-major. Weights N(0, s²/fan_in)
    with s the init scale (fan-in width for q, k, v; heads × head_width for the output); zero biases.
    """

    norm: Normalization
    wqkv: Float[Array, "width qkv"]
    bqkv: Float[Array, " qkv"]
    wo: Float[Array, "inner width"]
    bo: Float[Array, " width"]
    heads: int = eqx.field(static=True)
    head_width: int = eqx.field(static=True)

    def __init__(self, norm: str, width: int, heads: int, head_width: int, init_scale: float, *, key: PRNGKeyArray):
        k_qkv, k_out = jax.random.split(key)
        inner = heads * head_width
        self.norm = Normalization(norm, width)
        self.wqkv = normal(k_qkv, (width, 3 * inner), init_scale / math.sqrt(width))
        self.bqkv = jnp.zeros((3 * inner,), jnp.float32)
        self.wo = normal(k_out, (inner, width), init_scale / math.sqrt(inner))
        self.bo = jnp.zeros((width,), jnp.float32)
        self.heads, self.head_width = heads, head_width

    def project(
        self, norm: str, h: Float[Array, "batch position width"]
    ) -> tuple[
        Float[Array, "batch position head head_width"],
        Float[Array, "batch position head head_width"],
        Float[Array, "batch position head head_width"],
    ]:
        """Queries, keys and values of the normed stream."""
        b, t, _ = h.shape
        qkv = along_last(dense(self.norm(norm, h), self.wqkv), None, self.bqkv)
        qkv = qkv.reshape(b, t, 3, self.heads, self.head_width)
        return qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]

    def __call__(
        self, norm: str, h: Float[Array, "batch position width"], mask: Bool[Array, "1 1 query key"] | None
    ) -> Float[Array, "batch position width"]:
        b, t, _ = h.shape
        q, k, v = self.project(norm, h)
        o = jax.nn.dot_product_attention(q, k, v, mask=mask, scale=1.0 / math.sqrt(self.head_width))
        return along_last(dense(o.reshape(b, t, self.heads * self.head_width), self.wo), None, self.bo)

    def scores(
        self, norm: str, h: Float[Array, "batch position width"], mask: Bool[Array, "1 1 query key"] | None
    ) -> Float[Array, "batch head query key"]:
        """q·k/√head_width per head, −inf where the mask disallows the pair."""
        q, k, _ = self.project(norm, h)
        s = jnp.einsum("bqhc,bkhc->bhqk", q, k) / math.sqrt(self.head_width)
        return s if mask is None else jnp.where(mask, s, -jnp.inf)


class TransformerBlock(eqx.Module):
    attention: SelfAttention
    channel: ChannelMLP


class TransformerNet(AbstractArchitecture):
    """h₀ = E[x_t] (+ positions);  h ← h + α·MHSA(norm(h));  h ← h + α·ChannelMLP(norm(h)), per block;
    logits from norm(h_L). The stream is recorded after each block (layer 0: h₀).

    ``positions``: "learned" (the embedding's trained T × d table, zero at init), "sinusoidal" (the
    fixed `sinusoidal_positions` table, no parameters) or "none" (then the network commutes with
    every permutation of the positions under full attention). ``window``: the attention radius r,
    or None for full attention.
    """

    blocks: TransformerBlock  # stacked: every leaf has a leading layer axis
    norm: str = eqx.field(static=True)
    heads: int = eqx.field(static=True)
    head_width: int = eqx.field(static=True)
    positions: str = eqx.field(static=True)
    window: int | None = eqx.field(static=True)

    def __init__(self, config, vocab: int, length: int, *, key: PRNGKeyArray):  # config: rgbench.models.Transformer
        k_embed, k_blocks, k_out = jax.random.split(key, 3)
        d, heads, head_width = config.width, config.heads, config.resolved_head_width

        def block(k):
            ka, kc = jax.random.split(k)
            return TransformerBlock(
                SelfAttention(config.norm, d, heads, head_width, config.init_scale, key=ka),
                ChannelMLP(config.norm, d, d, config.hidden, config.init_scale, key=kc),
            )

        self.embedding = Embedding(vocab, length, d, config.positions == "learned", key=k_embed)
        self.blocks = stacked(block, config.depth, key=k_blocks)
        self.readout = Readout(config.norm, d, vocab, key=k_out)
        self.vocab, self.length, self.depth, self.width = vocab, length, config.depth, d
        self.activation, self.norm, self.alpha = config.activation, config.norm, config.alpha
        self.heads, self.head_width = heads, head_width
        self.positions, self.window = config.positions, config.window

    def _mask(self) -> Bool[Array, "1 1 query key"] | None:
        mask = window_mask(self.length, self.window)
        return None if mask is None else mask[None, None]

    def embed(self, inputs: Int[Array, "*batch position"]) -> Float[Array, "*batch position width"]:
        """Layer 0 of the stream: token embedding plus the positions (learned or sinusoidal)."""
        h = self.embedding(inputs)
        if self.positions == "sinusoidal":
            table = sinusoidal_positions(self.length, self.width)
            h = h + jnp.asarray(table).reshape((1,) * (inputs.ndim - 1) + table.shape)
        return h

    def _trunk(self, h: Float[Array, "batch position width"], *, collect: bool):
        mask = self._mask()

        def step(block: TransformerBlock, h):
            h = h + self.alpha * block.attention(self.norm, h, mask)
            c = block.channel
            return h + self.alpha * c.out(c.hidden(self.activation, c.norm(self.norm, h)))

        return scan_blocks(step, h, self.blocks, collect=collect, stream_axis=1)

    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        h0 = self.embed(inputs)
        h, hs = self._trunk(h0, collect=collect)
        logits = self.readout(self.norm, h)
        if not collect:
            return None, logits
        return jnp.concatenate([h0[:, None], hs], axis=1), logits

    def attention_scores(self, inputs: Int[Array, "*batch position"]) -> Float[Array, "*batch layer head query key"]:
        """Every block's pre-softmax attention scores: ``scores[..., ℓ, n, t, s]`` = q_t·k_s/√head_width of
        head n in the block that maps layer ℓ of the stream (``self(inputs)[0][ℓ]``) to layer ℓ + 1
        (ℓ = 0 … depth − 1), q and k projected from that layer, normed; −inf where query t may not
        attend to key s (|t − s| > r under ``window:<r>``; nowhere under full attention).

        ``jax.nn.softmax(scores, axis=-1)`` is the attention the block applies to its values; every row
        has at least one finite entry (s = t is always allowed), so the row's entropy, its
        log-partition logsumexp(scores) (−free energy at unit temperature) and its mean attention
        distance Σ_s p_ts |t − s| are finite. ``inputs``: one sequence (position,) or a batch
        (batch, position), as ``__call__`` and ``apply`` take them; the result has the same leading
        axes. Holds (batch, depth, heads, T, T) floats.
        """
        batch_shape = inputs.shape[:-1]
        rows = inputs.reshape(-1, inputs.shape[-1])
        stream, _ = self.apply(rows, collect=True)  # (batch, layer, position, width)
        mask = self._mask()
        dynamic, static = eqx.partition(stack_blocks(self).blocks, eqx.is_array)

        def one(arrays, h: Float[Array, "batch position width"]) -> Float[Array, "batch head query key"]:
            return eqx.combine(arrays, static).attention.scores(self.norm, h, mask)

        scores = jax.vmap(one, in_axes=(0, 1), out_axes=1)(dynamic, stream[:, :-1])
        return scores.reshape(batch_shape + scores.shape[1:])
