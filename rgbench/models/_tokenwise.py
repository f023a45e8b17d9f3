"""Tokenwise residual MLP: every position is processed on its own (the seed paper's setting)."""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ..registry import ARCHITECTURES
from ._base import AbstractArchitecture, ArchitectureConfig, ChannelMLP, Embedding, Readout, scan_blocks, stacked


@ARCHITECTURES.register
class Tokenwise(ArchitectureConfig):
    """Pre-LN residual MLP applied to each position on its own (no context; bounded by the tokenwise floor)."""

    kind: Literal["tokenwise"] = "tokenwise"

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> TokenwiseNet:
        return TokenwiseNet(self, vocab, length, key=key)


class TokenwiseNet(AbstractArchitecture):
    """h₀ = E[x_t] (+ p_t);  h_{ℓ+1} = h_ℓ + α·(W₂ σ(W₁ norm(h_ℓ) + b₁) + b₂), per position; logits from norm(h_L).

    Its output at a position depends only on that position's symbol (and the position itself when
    learned positions are on), so a batch's loss is a weighted sum over a (symbol, target) count
    table and the network need only be evaluated once per symbol: ``batch_statistics`` and
    ``ce_sum`` implement the objective that way, ``per_token_ce_sum`` is the plain reference.
    """

    embedding: Embedding
    blocks: ChannelMLP  # stacked: every leaf has a leading layer axis
    readout: Readout
    vocab: int = eqx.field(static=True)
    length: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    norm: str = eqx.field(static=True)
    alpha: float = eqx.field(static=True)
    positions: bool = eqx.field(static=True)

    def __init__(self, config: ArchitectureConfig, vocab: int, length: int, *, key: PRNGKeyArray):
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

        # Checkpointing this cheap per-token block made the step slower (PITFALLS.md): no remat.
        return scan_blocks(step, h, self.blocks, collect=collect, remat=False, stream_axis=1)

    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        b, t = inputs.shape
        h0 = self.embedding(inputs).reshape(b * t, self.width)
        h, hs = self._trunk(h0, collect=collect)
        logits = self.readout(self.norm, h).reshape(b, t, self.vocab)
        if not collect:
            return None, logits
        stream = jnp.concatenate([h0[:, None], hs], axis=1).reshape(b, t, self.depth + 1, self.width)
        return jnp.swapaxes(stream, 1, 2), logits

    @property
    def table_positions(self) -> int:
        """Rows P of the symbol table: 1 without learned positions, else the sequence length."""
        return self.length if self.positions else 1

    def symbol_table(
        self, *, collect: bool = True
    ) -> tuple[Float[Array, "table symbol layer width"] | None, Float[Array, "table symbol vocab"]]:
        """Stream and logits for every (position, symbol) the network can tell apart.

        Without learned positions the table has one row (P = 1); with them, one row per position.
        ``stream[p, s]`` equals ``self(inputs)[0][:, t]`` wherever ``inputs[t] = s`` (and t = p).
        """
        p, s = self.table_positions, self.vocab + 1
        h0 = self.embedding.tokens[None]  # (1, S, d)
        if self.positions:
            h0 = h0 + self.embedding.positions[:, None]
        h0 = jnp.broadcast_to(h0, (p, s, self.width)).reshape(p * s, self.width)
        h, hs = self._trunk(h0, collect=collect)
        logits = self.readout(self.norm, h).reshape(p, s, self.vocab)
        if not collect:
            return None, logits
        stream = jnp.concatenate([h0[:, None], hs], axis=1)
        return stream.reshape(p, s, self.depth + 1, self.width), logits

    def batch_statistics(
        self,
        tokens: Int[Array, "batch position"],
        inputs: Int[Array, "batch position"],
        scored: Bool[Array, "batch position"],
    ) -> Float[Array, "table symbol vocab"]:
        """Count table c[p, s, y]: scored positions (in row p) whose input symbol is s and target y."""
        p, s, v = self.table_positions, self.vocab + 1, self.vocab
        cell = inputs * v + tokens
        if p > 1:
            cell = cell + (jnp.arange(self.length, dtype=cell.dtype) * (s * v))[None, :]
        # A scatter-add (bincount) of batch·T entries: far cheaper than one-hot matrices.
        weight = scored.reshape(-1).astype(jnp.float32)
        counts = jnp.zeros((p * s * v,), jnp.float32).at[cell.reshape(-1)].add(weight)
        return counts.reshape(p, s, v)

    def ce_sum(self, statistics: Float[Array, "table symbol vocab"]) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Σ −c[p, s, y]·log q(y | p, s) over the count table, and Σ c.

        Exactly the per-token objective (``per_token_ce_sum``) up to float rounding, at the cost of
        (V + 1)·P network evaluations instead of batch·T.
        """
        _, logits = self.symbol_table(collect=False)
        logp = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.sum(statistics * logp), jnp.sum(statistics)
