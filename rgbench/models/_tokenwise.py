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

    def build(self, vocab: int, length: int, *, key: PRNGKeyArray) -> TokenwiseNet:
        return TokenwiseNet(self, vocab, length, key=key)


class TokenwiseNet(AbstractArchitecture):
    """h₀ = E[x_t] (+ p_t);  h_{ℓ+1} = h_ℓ + α·W₂ σ(W₁ norm(h_ℓ) + b₁) + b₂, per position; logits from norm(h_L).

    Its output at a position depends only on that position's symbol (and the position itself when
    learned positions are on), so a batch's loss is a weighted sum over a (symbol, target) count
    table, and the network need only be evaluated once per symbol (``masked_ce_sum``).
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

    def _trunk(self, h: Float[Array, "row width"], *, collect: bool):
        def step(block: ChannelMLP, h):
            return h + self.alpha * block.out(block.hidden(self.activation, block.norm(self.norm, h)))

        # Checkpointing this cheap per-token block made the step slower (PITFALLS.md): no remat.
        return scan_blocks(step, h, self.blocks, collect=collect, remat=False)

    def __call__(
        self, inputs: Int[Array, " position"]
    ) -> tuple[Float[Array, "layer position width"], Float[Array, "position vocab"]]:
        h0 = self.embedding(inputs)
        h, hs = self._trunk(h0, collect=True)
        return jnp.concatenate([h0[None], hs]), self.readout(self.norm, h)

    def logits(self, inputs: Int[Array, " position"]) -> Float[Array, "position vocab"]:
        h, _ = self._trunk(self.embedding(inputs), collect=False)
        return self.readout(self.norm, h)

    @property
    def table_positions(self) -> int:
        """Rows P of the symbol table: 1 without learned positions, else the sequence length."""
        return 1 if self.embedding.positions is None else self.length

    def symbol_table(
        self, *, collect: bool = True
    ) -> tuple[Float[Array, "table symbol layer width"] | None, Float[Array, "table symbol vocab"]]:
        """Stream and logits for every (position, symbol) the network can tell apart.

        Without learned positions the table has one row (P = 1); with them, one row per position.
        ``stream[p, s]`` equals ``self(inputs)[0][:, t]`` wherever ``inputs[t] = s`` (and t = p).
        """
        p, s = self.table_positions, self.vocab + 1
        h0 = self.embedding.tokens[None]  # (1, S, d)
        if self.embedding.positions is not None:
            h0 = h0 + self.embedding.positions[:, None]
        h0 = jnp.broadcast_to(h0, (p, s, self.width)).reshape(p * s, self.width)
        h, hs = self._trunk(h0, collect=collect)
        logits = self.readout(self.norm, h).reshape(p, s, self.vocab)
        if not collect:
            return None, logits
        stream = jnp.concatenate([h0[None], hs]).reshape(self.depth + 1, p, s, self.width)
        return jnp.moveaxis(stream, 0, 2), logits

    def masked_ce_sum(
        self,
        tokens: Int[Array, "batch position"],
        inputs: Int[Array, "batch position"],
        scored: Bool[Array, "batch position"],
    ) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Σ −log p(target | symbol) over scored positions, from the (symbol, target) count table.

        Exactly the per-token objective (``per_token_ce_sum``) up to float rounding, at the cost of
        (V + 1)·P network evaluations instead of batch·T.
        """
        _, logits = self.symbol_table(collect=False)
        logp = jax.nn.log_softmax(logits, axis=-1)
        weight = scored.astype(logp.dtype)
        seen = jax.nn.one_hot(inputs, self.vocab + 1, dtype=logp.dtype) * weight[..., None]
        target = jax.nn.one_hot(tokens, self.vocab, dtype=logp.dtype)
        if self.table_positions == 1:
            counts = jnp.einsum("bts,btv->sv", seen, target)[None]
        else:
            counts = jnp.einsum("bts,btv->tsv", seen, target)
        return -jnp.sum(counts * logp), jnp.sum(weight)
