"""The layers the built-in families are made of: norms, embedding, readout, the channel MLP.

Plain Equinox modules with no knowledge of the architecture contract (``_base``); a plugin family
may build on them::

    from rgbench.models import ChannelMLP, Embedding, Normalization, Readout, activate, normal
    from rgbench.models import AbstractArchitecture, ArchitectureConfig, scan_blocks, stacked
    from rgbench.registry import ARCHITECTURES  # @ARCHITECTURES.register on the config class

A norm or an activation is named by a string that the network keeps as a static field (``"layernorm"``,
``"rmsnorm"``, ``"none"``; ``"gelu"``, ``"relu"``, ``"tanh"``) and passes at call time, so that the
parameters hold arrays only.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ._ops import along_last, dense, gelu, layernorm, rmsnorm

__all__ = ["ChannelMLP", "Embedding", "Normalization", "Readout", "activate", "mlp_weights", "normal"]


def activate(name: str, x: Float[Array, "..."]) -> Float[Array, "..."]:
    """The activation `name` (``gelu`` — the tanh approximation XLA fuses —, ``relu`` or ``tanh``) of `x`,
    elementwise; ValueError for another name."""
    if name == "gelu":
        return gelu(x)
    if name == "relu":
        return jax.nn.relu(x)
    if name == "tanh":
        return jnp.tanh(x)
    raise ValueError(f"activation must be one of gelu, relu, tanh; got {name!r}")


class Normalization(eqx.Module):
    """Pre-norm over the last (width) axis: layernorm (gain, bias), rmsnorm (gain) or none.

    ``Normalization(kind, width)`` holds the parameters the kind needs (gain 1, bias 0 at init);
    ``norm(kind, x)`` applies it to the last axis of `x` — the network passes the same `kind` it was
    built with (a static field), so the module holds arrays only."""

    gain: Float[Array, " width"] | None
    bias: Float[Array, " width"] | None

    def __init__(self, kind: str, width: int):
        self.gain = None if kind == "none" else jnp.ones((width,), jnp.float32)
        self.bias = jnp.zeros((width,), jnp.float32) if kind == "layernorm" else None

    def __call__(self, kind: str, x: Float[Array, "*rows width"]) -> Float[Array, "*rows width"]:
        if kind == "layernorm":
            return layernorm(x, self.gain, self.bias)
        if kind == "rmsnorm":
            return rmsnorm(x, self.gain)
        return x


def normal(key: PRNGKeyArray, shape: tuple[int, ...], std: float) -> Float[Array, "..."]:
    """float32 draws of N(0, std²) of `shape` from `key`: the initialiser of every weight here (a
    dense weight's `std` is init_scale / √fan_in)."""
    return std * jax.random.normal(key, shape, jnp.float32)


class Embedding(eqx.Module):
    """Token embedding for V + 1 symbols ([MASK] = V), N(0, 1); optional learned positions, zero at init.

    ``Embedding(vocab, length, width, positions, key=k)``; ``embedding(inputs)`` maps symbols of any
    batch shape ending in position to streams ``(*batch, position, width)`` — layer 0 of the stream
    the architecture contract asks for."""

    tokens: Float[Array, "symbol width"]
    positions: Float[Array, "position width"] | None

    def __init__(self, vocab: int, length: int, width: int, positions: bool, *, key: PRNGKeyArray):
        self.tokens = normal(key, (vocab + 1, width), 1.0)
        self.positions = jnp.zeros((length, width), jnp.float32) if positions else None

    def __call__(self, inputs: Int[Array, "*batch position"]) -> Float[Array, "*batch position width"]:
        h = self.tokens[inputs]
        if self.positions is not None:
            h = h + self.positions.reshape((1,) * (inputs.ndim - 1) + self.positions.shape)
        return h


class Readout(eqx.Module):
    """Final pre-norm and the linear map to logits over the V symbols (no logit for [MASK]).

    ``Readout(norm, width, vocab, key=k)``; ``readout(norm, h)`` maps the last stream ``(*rows, width)``
    to logits ``(*rows, vocab)``; weights N(0, 1/width), zero bias."""

    norm: Normalization
    weight: Float[Array, "width vocab"]
    bias: Float[Array, " vocab"]

    def __init__(self, norm: str, width: int, vocab: int, *, key: PRNGKeyArray):
        self.norm = Normalization(norm, width)
        self.weight = normal(key, (width, vocab), 1.0 / math.sqrt(width))
        self.bias = jnp.zeros((vocab,), jnp.float32)

    def __call__(self, norm: str, h: Float[Array, "*rows width"]) -> Float[Array, "*rows vocab"]:
        return along_last(dense(self.norm(norm, h), self.weight), None, self.bias)


def mlp_weights(
    fan_in: int, hidden: int, fan_out: int, init_scale: float, *, key: PRNGKeyArray
) -> tuple[Float[Array, "fan_in hidden"], Float[Array, " hidden"], Float[Array, "hidden fan_out"], Float[Array, " fan_out"]]:
    """(W₁, b₁, W₂, b₂) of a two-layer MLP fan_in → hidden → fan_out: each W ~ N(0, s²/its fan-in), s =
    `init_scale`, from the two halves of `key`; zero biases."""
    k1, k2 = jax.random.split(key)
    return (
        normal(k1, (fan_in, hidden), init_scale / math.sqrt(fan_in)),
        jnp.zeros((hidden,), jnp.float32),
        normal(k2, (hidden, fan_out), init_scale / math.sqrt(hidden)),
        jnp.zeros((fan_out,), jnp.float32),
    )


class ChannelMLP(eqx.Module):
    """One residual branch acting on the last axis: norm → W₁ → activation → W₂ (weights N(0, s²/fan_in)).

    ``ChannelMLP(norm, width, fan_in, hidden, init_scale, key=k)``: the branch reads `fan_in` features
    (the stream's width, or a mixed input) and writes `width`; a block computes
    ``h + alpha * mlp.out(mlp.hidden(activation, mlp.norm(norm, h)))``. Build one per layer with
    ``stacked(lambda k: ChannelMLP(...), depth, key=k)`` to get the stacked ``blocks`` the contract asks for."""

    norm: Normalization
    w1: Float[Array, "fan_in hidden"]
    b1: Float[Array, " hidden"]
    w2: Float[Array, "hidden width"]
    b2: Float[Array, " width"]

    def __init__(self, norm: str, width: int, fan_in: int, hidden: int, init_scale: float, *, key: PRNGKeyArray):
        self.norm = Normalization(norm, width)
        self.w1, self.b1, self.w2, self.b2 = mlp_weights(fan_in, hidden, width, init_scale, key=key)

    def hidden(self, activation: str, u: Float[Array, "*rows fan_in"]) -> Float[Array, "*rows hidden"]:
        return activate(activation, along_last(dense(u, self.w1), None, self.b1))

    def out(self, z: Float[Array, "*rows hidden"]) -> Float[Array, "*rows width"]:
        return along_last(dense(z, self.w2), None, self.b2)
