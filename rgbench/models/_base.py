"""The network half of the architecture contract (see rgbench/models/__init__.py).

* ``ArchitectureConfig`` (in ``_configs``, which imports no JAX and builds on this module, never
  the other way round) — the frozen pydantic config a
  suite file names with ``kind:``; its ``build(vocab, length, *, key)`` returns the Equinox network.
* ``AbstractArchitecture`` — the Equinox network. ``__call__`` maps one sequence of input symbols
  (0 … V, where V is [MASK]) to the residual stream at every layer and the logits over the V
  symbols. ``masked_ce_sum`` is the training objective on a batch; subclasses may override it with
  a faster path that gives the same number (the tokenwise symbol table).
* ``stacked``, ``scan_blocks``, ``unstack_blocks``, ``stack_blocks`` — the two layouts of
  ``blocks`` (stacked for storage and scans, per layer for training).

The layers the families are built from (norms, embedding, readout, channel MLP) are in ``_layers``.
"""

# No ``from __future__ import annotations`` here: Equinox reads ``eqx.AbstractVar`` only from
# evaluated annotations (a stringified one would silently declare an ordinary field).
import abc
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray, PyTree

from ._layers import Embedding, Readout

INIT_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


class AbstractArchitecture(eqx.Module):
    """A residual network over token sequences that exposes its residual stream.

    ``__call__(inputs)`` returns ``(stream, logits)`` with ``stream[0]`` the embedding output and
    ``stream[ℓ]`` the stream after block ℓ (ℓ = 1 … depth), i.e. depth + 1 entries.

    The contract of a concrete (final) subclass:

    * the field ``blocks`` (an ``eqx.AbstractVar``: a class without it cannot be instantiated) —
      the residual blocks stored stacked, every leaf with a leading layer axis (`stacked`);
      training swaps in a tuple of per-layer blocks (`unstack_blocks`), and `scan_blocks` runs
      either layout;
    * the method ``apply(inputs, *, collect)`` (abstract) — the network on a batch;
    * an ``__init__`` that sets every field: the ones declared here (``embedding``, ``readout``,
      ``vocab``, ``length``, ``depth``, ``width``, ``activation``, ``alpha``), ``blocks``, and the
      subclass's own hyperparameters (static fields).

    ``__call__``, ``logits`` and the training objective (``batch_statistics``, ``ce_sum``,
    ``masked_ce_sum``) are derived from ``apply``; a subclass may override the objective with a
    faster path that gives the same number (`ContextFreeArchitecture`).
    """

    embedding: Embedding
    readout: Readout
    vocab: int = eqx.field(static=True)
    length: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    activation: str = eqx.field(static=True)
    alpha: float = eqx.field(static=True)
    #: The residual blocks, stacked (leading layer axis); a tuple of per-layer blocks while training.
    blocks: eqx.AbstractVar[eqx.Module | tuple[eqx.Module, ...]]

    #: Training unrolls the blocks (per-layer weights) up to this depth; deeper networks scan them.
    unroll_max_depth: ClassVar[int] = 16

    @property
    def unroll_in_training(self) -> bool:
        return self.depth <= self.unroll_max_depth

    @abc.abstractmethod
    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        """The network on a batch of sequences: (stream if ``collect`` else None, logits).

        Written on the batch, not as a vmap of the per-sequence call: the dense layers then see
        batch·T rows at once, which is what XLA's matmuls (and their backward) want.
        """

    def __call__(
        self, inputs: Int[Array, " position"]
    ) -> tuple[Float[Array, "layer position width"], Float[Array, "position vocab"]]:
        """Residual stream at every layer (layer 0 = embedding output) and logits for one sequence."""
        stream, logits = self.apply(inputs[None], collect=True)
        return stream[0], logits[0]

    def logits(self, inputs: Int[Array, " position"]) -> Float[Array, "position vocab"]:
        """Logits for one sequence, without keeping the stream."""
        return self.apply(inputs[None], collect=False)[1][0]

    def batch_statistics(
        self,
        tokens: Int[Array, "batch position"],
        inputs: Int[Array, "batch position"],
        scored: Bool[Array, "batch position"],
    ):
        """What the objective needs from a batch; must not depend on the parameters.

        Training computes it for a whole chunk of batches before the optimizer steps (so cheap
        reductions such as the tokenwise count table run once per chunk, vectorised). Default:
        the batch itself.
        """
        return tokens, inputs, scored

    def ce_sum(self, statistics: PyTree) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """(Σ cross-entropy over scored positions, number of scored positions) from ``batch_statistics``."""
        return per_token_ce_sum(self, *statistics)

    def masked_ce_sum(
        self,
        tokens: Int[Array, "batch position"],
        inputs: Int[Array, "batch position"],
        scored: Bool[Array, "batch position"],
    ) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """(Σ cross-entropy over scored positions, number of scored positions) for a batch."""
        return self.ce_sum(self.batch_statistics(tokens, inputs, scored))


def per_token_ce_sum(
    model: AbstractArchitecture,
    tokens: Int[Array, "batch position"],
    inputs: Int[Array, "batch position"],
    scored: Bool[Array, "batch position"],
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """The plain objective: run the network on every sequence, score every masked token."""
    _, logits = model.apply(inputs, collect=False)
    logp = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(logp, tokens[..., None], axis=-1)[..., 0]
    weight = scored.astype(logp.dtype)
    return -jnp.sum(picked * weight), jnp.sum(weight)


class ContextFreeArchitecture(AbstractArchitecture):
    """A network whose output at a position depends only on that position's symbol (and the
    position itself when learned positions are on): tokenwise and plain stacks.

    A batch's loss is then a weighted sum over a (position row, symbol, target) count table, so the
    network need only be evaluated once per symbol: ``batch_statistics`` and ``ce_sum`` implement
    the objective that way (``per_token_ce_sum`` is the plain reference), and ``symbol_table`` gives
    every symbol's stream at once. ``isinstance(model, ContextFreeArchitecture)`` is how the rest of
    rgbench asks whether a network has a symbol table.

    The contract of a concrete subclass, besides ``blocks`` and the fields every architecture has:
    the method ``_trunk`` (abstract: the blocks on independent rows, returning (h_L, collected
    stream (row, layer, width) or None)), and the declared attributes ``positions`` (a field:
    learned positions on or off) and ``readout_norm`` (the normalisation before the readout: a
    field, a ``ClassVar`` or a property). ``apply`` is implemented here, on ``_trunk``.
    """

    #: Learned positional embeddings on or off (a static field of the subclass).
    positions: eqx.AbstractVar[bool]
    #: The normalisation applied before the readout ("none" for an unnormalised stack).
    readout_norm: eqx.AbstractVar[str]

    @abc.abstractmethod
    def _trunk(self, h: Float[Array, "row width"], *, collect: bool):
        """The blocks on independent rows: (h_L, stream (row, layer, width) if ``collect`` else None)."""

    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        b, t = inputs.shape
        h0 = self.embedding(inputs).reshape(b * t, self.width)
        h, hs = self._trunk(h0, collect=collect)
        logits = self.readout(self.readout_norm, h).reshape(b, t, self.vocab)
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
        logits = self.readout(self.readout_norm, h).reshape(p, s, self.vocab)
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


def stacked(make: Callable[[PRNGKeyArray], eqx.Module], depth: int, *, key: PRNGKeyArray) -> eqx.Module:
    """``depth`` blocks built by ``make(key)``, stored as one pytree with a leading layer axis."""
    return eqx.filter_vmap(make)(jax.random.split(key, depth))


def scan_blocks(
    step: Callable[[eqx.Module, Float[Array, "..."]], Float[Array, "..."]],
    h: Float[Array, "..."],
    blocks: eqx.Module | tuple[eqx.Module, ...],
    *,
    collect: bool,
    remat: bool = False,
    stream_axis: int = 0,
) -> tuple[Float[Array, "..."], Float[Array, "..."] | None]:
    """Run the residual blocks; returns the final stream and, if ``collect``, the stream after every block.

    ``step(block, h) -> h`` is one residual block. ``blocks`` is either stacked (one pytree with a
    leading layer axis, the storage layout) — run with ``lax.scan``, one compiled body whatever
    the depth, each block wrapped in ``jax.checkpoint`` when ``remat`` — or a tuple of per-layer
    blocks (see ``unstack_blocks``), run by an unrolled Python loop. The collected streams are
    stacked along ``stream_axis`` (of the result).
    """
    if isinstance(blocks, tuple):
        hs = []
        for block in blocks:
            h = (jax.checkpoint(step) if remat else step)(block, h)
            hs.append(h)
        return h, (jnp.stack(hs, axis=stream_axis) if collect else None)

    dynamic, static = eqx.partition(blocks, eqx.is_array)

    def body(h, block_arrays):
        h = step(eqx.combine(block_arrays, static), h)
        return h, (h if collect else None)

    if remat:
        body = jax.checkpoint(body)
    h, hs = jax.lax.scan(body, h, dynamic)
    if collect and stream_axis != 0:
        hs = jnp.moveaxis(hs, 0, stream_axis)
    return h, hs


def unstack_blocks(model: AbstractArchitecture, *, axis: int = 0) -> AbstractArchitecture:
    """The same network with ``model.blocks`` split into a tuple of per-layer blocks.

    Training uses this layout: every layer's weights are separate arrays, so the backward pass
    writes each layer's gradient directly, with no slicing of, or accumulation into, a stacked
    buffer. ``axis`` is the layer axis of the stacked leaves (1 for networks stacked over seeds).
    """
    blocks = model.blocks
    depth = jax.tree_util.tree_leaves(blocks)[0].shape[axis]
    split = tuple(
        jax.tree_util.tree_map(lambda x: jnp.take(x, i, axis=axis) if eqx.is_array(x) else x, blocks) for i in range(depth)
    )
    return eqx.tree_at(lambda m: m.blocks, model, split)


def stack_blocks(model: AbstractArchitecture, *, axis: int = 0) -> AbstractArchitecture:
    """Inverse of ``unstack_blocks``: per-layer blocks back into one stacked pytree (the storage layout)."""
    blocks = model.blocks
    if not isinstance(blocks, tuple):
        return model
    stacked_blocks = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs, axis=axis) if eqx.is_array(xs[0]) else xs[0], *blocks)
    return eqx.tree_at(lambda m: m.blocks, model, stacked_blocks)
