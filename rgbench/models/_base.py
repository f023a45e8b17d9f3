"""The architecture contract shared by every family (see rgbench/models/__init__.py).

Two halves:

* ``ArchitectureConfig`` — the frozen pydantic config a suite file names with ``kind:``; its
  ``build(vocab, length, *, key)`` returns the Equinox network.
* ``AbstractArchitecture`` — the Equinox network. ``__call__`` maps one sequence of input symbols
  (0 … V, where V is [MASK]) to the residual stream at every layer and the logits over the V
  symbols. ``masked_ce_sum`` is the training objective on a batch; subclasses may override it with
  a faster path that gives the same number (the tokenwise symbol table).
"""

from __future__ import annotations

import abc
import math
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray
from pydantic import Field

from ..registry import Component

Activation = Literal["gelu", "relu", "tanh"]
Norm = Literal["layernorm", "rmsnorm", "none"]

_NORM_EPS = 1e-5


class ArchitectureConfig(Component):
    """Base of every residual MLP family."""

    depth: int = Field(6, ge=1, le=1024, description="number of residual blocks L")
    width: int = Field(64, ge=1, le=65536, description="residual stream width d")
    hidden_mult: float = Field(4.0, gt=0, description="hidden width of each MLP as a multiple of d")
    activation: Activation = Field("gelu", description="MLP nonlinearity (gelu is the exact, erf form)")
    norm: Norm = Field("layernorm", description="pre-norm of each block and before the readout")
    residual_scale: float | Literal["1", "1/sqrt(L)", "1/L"] = Field(
        1.0, description="branch multiplier α in h ← h + α·f(h): a number, '1/sqrt(L)' or '1/L'"
    )
    init_scale: float = Field(
        1.0, gt=0, description="multiplier on the N(0, 1/fan_in) init standard deviation of the block weights"
    )
    positions: bool = Field(False, description="add a learned positional embedding (zero at init)")

    @property
    def hidden(self) -> int:
        """Hidden width of each block's MLP: round(hidden_mult · width), at least 1."""
        return max(1, round(self.hidden_mult * self.width))

    @property
    def alpha(self) -> float:
        """The residual-branch multiplier α resolved against the depth."""
        scale = self.residual_scale
        if scale == "1":
            return 1.0
        if scale == "1/sqrt(L)":
            return 1.0 / math.sqrt(self.depth)
        if scale == "1/L":
            return 1.0 / self.depth
        return float(scale)

    @abc.abstractmethod
    def build(self, vocab: int, length: int, *, key: PRNGKeyArray) -> AbstractArchitecture:
        """The network for inputs 0 … vocab (vocab is [MASK]) of the given length, initialised from key."""


class AbstractArchitecture(eqx.Module):
    """A residual network over token sequences that exposes its residual stream.

    ``__call__(inputs)`` returns ``(stream, logits)`` with ``stream[0]`` the embedding output and
    ``stream[ℓ]`` the stream after block ℓ (ℓ = 1 … depth), i.e. depth + 1 entries.
    """

    @abc.abstractmethod
    def __call__(
        self, inputs: Int[Array, " position"]
    ) -> tuple[Float[Array, "layer position width"], Float[Array, "position vocab"]]:
        """Residual stream at every layer and logits for one sequence."""

    @abc.abstractmethod
    def logits(self, inputs: Int[Array, " position"]) -> Float[Array, "position vocab"]:
        """Logits for one sequence without keeping the stream (the training forward pass)."""

    def masked_ce_sum(
        self,
        tokens: Int[Array, "batch position"],
        inputs: Int[Array, "batch position"],
        scored: Bool[Array, "batch position"],
    ) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """(Σ cross-entropy over scored positions, number of scored positions) for a batch."""
        return per_token_ce_sum(self, tokens, inputs, scored)


def per_token_ce_sum(
    model: AbstractArchitecture,
    tokens: Int[Array, "batch position"],
    inputs: Int[Array, "batch position"],
    scored: Bool[Array, "batch position"],
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """The plain objective: run the network on every sequence, score every masked token."""
    logits = jax.vmap(model.logits)(inputs)
    logp = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(logp, tokens[..., None], axis=-1)[..., 0]
    weight = scored.astype(logp.dtype)
    return -jnp.sum(picked * weight), jnp.sum(weight)


# ---------------------------------------------------------------------------------------------
# Pieces shared by the families.


def activate(name: str, x: Float[Array, "..."]) -> Float[Array, "..."]:
    if name == "gelu":
        return jax.nn.gelu(x, approximate=False)
    if name == "relu":
        return jax.nn.relu(x)
    if name == "tanh":
        return jnp.tanh(x)
    raise ValueError(f"activation must be one of gelu, relu, tanh; got {name!r}")


class Normalization(eqx.Module):
    """Pre-norm over the last (width) axis: layernorm (gain, bias), rmsnorm (gain) or none."""

    gain: Float[Array, " width"] | None
    bias: Float[Array, " width"] | None

    def __init__(self, kind: str, width: int):
        self.gain = None if kind == "none" else jnp.ones((width,), jnp.float32)
        self.bias = jnp.zeros((width,), jnp.float32) if kind == "layernorm" else None

    def __call__(self, kind: str, x: Float[Array, "*rows width"]) -> Float[Array, "*rows width"]:
        if kind == "layernorm":
            mean = jnp.mean(x, axis=-1, keepdims=True)
            centred = x - mean
            var = jnp.mean(centred * centred, axis=-1, keepdims=True)
            return along_last(centred * jax.lax.rsqrt(var + _NORM_EPS), self.gain, self.bias)
        if kind == "rmsnorm":
            ms = jnp.mean(x * x, axis=-1, keepdims=True)
            return along_last(x * jax.lax.rsqrt(ms + _NORM_EPS), self.gain, None)
        return x


def along_last(x: Float[Array, "*rows n"], gain: Float[Array, " n"] | None, bias: Float[Array, " n"] | None):
    """x · gain + bias with the vectors broadcast along the last axis (explicitly: rank promotion is off)."""
    lead = (1,) * (x.ndim - 1)
    if gain is not None:
        x = x * gain.reshape(lead + gain.shape)
    if bias is not None:
        x = x + bias.reshape(lead + bias.shape)
    return x


def normal(key: PRNGKeyArray, shape: tuple[int, ...], std: float) -> Float[Array, "..."]:
    return std * jax.random.normal(key, shape, jnp.float32)


class Embedding(eqx.Module):
    """Token embedding for V + 1 symbols ([MASK] = V), N(0, 1); optional learned positions, zero at init."""

    tokens: Float[Array, "symbol width"]
    positions: Float[Array, "position width"] | None

    def __init__(self, vocab: int, length: int, width: int, positions: bool, *, key: PRNGKeyArray):
        self.tokens = normal(key, (vocab + 1, width), 1.0)
        self.positions = jnp.zeros((length, width), jnp.float32) if positions else None

    def __call__(self, inputs: Int[Array, " position"]) -> Float[Array, "position width"]:
        h = self.tokens[inputs]
        if self.positions is not None:
            h = h + self.positions
        return h


class Readout(eqx.Module):
    """Final pre-norm and the linear map to logits over the V symbols."""

    norm: Normalization
    weight: Float[Array, "width vocab"]
    bias: Float[Array, " vocab"]

    def __init__(self, norm: str, width: int, vocab: int, *, key: PRNGKeyArray):
        self.norm = Normalization(norm, width)
        self.weight = normal(key, (width, vocab), 1.0 / math.sqrt(width))
        self.bias = jnp.zeros((vocab,), jnp.float32)

    def __call__(self, norm: str, h: Float[Array, "*rows width"]) -> Float[Array, "*rows vocab"]:
        return along_last(self.norm(norm, h) @ self.weight, None, self.bias)


class ChannelMLP(eqx.Module):
    """One residual branch acting on the last axis: norm → W₁ → activation → W₂ (weights N(0, s²/fan_in))."""

    norm: Normalization
    w1: Float[Array, "fan_in hidden"]
    b1: Float[Array, " hidden"]
    w2: Float[Array, "hidden width"]
    b2: Float[Array, " width"]

    def __init__(self, norm: str, width: int, fan_in: int, hidden: int, init_scale: float, *, key: PRNGKeyArray):
        k1, k2 = jax.random.split(key)
        self.norm = Normalization(norm, width)
        self.w1 = normal(k1, (fan_in, hidden), init_scale / math.sqrt(fan_in))
        self.b1 = jnp.zeros((hidden,), jnp.float32)
        self.w2 = normal(k2, (hidden, width), init_scale / math.sqrt(hidden))
        self.b2 = jnp.zeros((width,), jnp.float32)

    def hidden(self, activation: str, u: Float[Array, "*rows fan_in"]) -> Float[Array, "*rows hidden"]:
        return activate(activation, along_last(u @ self.w1, None, self.b1))

    def out(self, z: Float[Array, "*rows hidden"]) -> Float[Array, "*rows width"]:
        return along_last(z @ self.w2, None, self.b2)


def stacked(make, depth: int, *, key: PRNGKeyArray):
    """``depth`` blocks built by ``make(key)``, stored as one pytree with a leading layer axis."""
    return eqx.filter_vmap(make)(jax.random.split(key, depth))


def scan_blocks(step, h, blocks, *, collect: bool, remat: bool):
    """Run stacked blocks with ``lax.scan`` (one compiled body whatever the depth).

    ``step(block, h) -> h`` is one residual block. Returns the final stream and, if ``collect``,
    the stream after every block (layer axis first).
    """
    dynamic, static = eqx.partition(blocks, eqx.is_array)

    def body(h, block_arrays):
        h = step(eqx.combine(block_arrays, static), h)
        return h, (h if collect else None)

    if remat:
        body = jax.checkpoint(body)
    return jax.lax.scan(body, h, dynamic)
