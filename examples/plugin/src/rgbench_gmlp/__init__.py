"""gMLP for rgbench: residual MLP blocks whose hidden units are gated by a learned map across positions.

A gMLP block (Liu, Dai, So & Le 2021, "Pay Attention to MLPs", arXiv 2105.08050) on the stream h
(batch × position × width d), with u = norm(h):

    z = σ(u W₁ + b₁)                     hidden 2e, split into z₁, z₂ (e each)
    g = W_s norm(z₂) + b_s               spatial gating: W_s is position × position
    h ← h + α · ((z₁ ⊙ g) W₂ + b₂)

W_s starts near 0 and b_s at 1, so at initialisation every block is a channel MLP and context
enters only as training grows W_s (the paper's near-identity init). e = round(hidden_mult · d).

Importing this module registers the architecture kind ``gmlp``: through the ``rgbench.components``
entry point once the package is installed (``pip install -e examples/plugin``), or for one run
with ``rgbench run SUITE --plugin examples/plugin/src/rgbench_gmlp``.
"""

from __future__ import annotations

import math
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray
from pydantic import Field

from rgbench.models import (
    AbstractArchitecture,
    ArchitectureConfig,
    Embedding,
    Normalization,
    Readout,
    activate,
    normal,
    scan_blocks,
    stacked,
)
from rgbench.registry import ARCHITECTURES

__version__ = "0.1.0"
__all__ = ["GMLP", "GMLPNet", "SpatialGatingBlock"]


@ARCHITECTURES.register
class GMLP(ArchitectureConfig):
    """gMLP: residual channel MLPs whose hidden units are gated by a learned linear map across positions."""

    kind: Literal["gmlp"] = "gmlp"
    hidden_mult: float = Field(2.0, gt=0, description="e / d: width of each half of the gated hidden layer")
    gate_init: float = Field(1e-3, ge=0, description="W_s starts uniform in ±gate_init/T (near 0: no context at init)")

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> GMLPNet:
        return GMLPNet(self, vocab, length, key=key)


class SpatialGatingBlock(eqx.Module):
    """One gMLP block's parameters (see the module docstring)."""

    norm: Normalization
    w1: Float[Array, "width hidden2"]
    b1: Float[Array, " hidden2"]
    gate_norm: Normalization
    w_s: Float[Array, "position position"]
    b_s: Float[Array, " position"]
    w2: Float[Array, "hidden width"]
    b2: Float[Array, " width"]

    def __init__(self, config: GMLP, length: int, *, key: PRNGKeyArray):
        k1, k2, k3 = jax.random.split(key, 3)
        d, e = config.width, config.hidden
        self.norm = Normalization(config.norm, d)
        self.w1 = normal(k1, (d, 2 * e), config.init_scale / math.sqrt(d))
        self.b1 = jnp.zeros((2 * e,), jnp.float32)
        self.gate_norm = Normalization(config.norm, e)
        bound = config.gate_init / length
        self.w_s = jax.random.uniform(k2, (length, length), jnp.float32, -bound, bound)
        self.b_s = jnp.ones((length,), jnp.float32)
        self.w2 = normal(k3, (e, d), config.init_scale / math.sqrt(e))
        self.b2 = jnp.zeros((d,), jnp.float32)


class GMLPNet(AbstractArchitecture):
    """h ← h + α·((σ(norm(h)W₁)₁ ⊙ (W_s norm(σ(norm(h)W₁)₂) + b_s)) W₂ + b₂), per block; stream after each block."""

    blocks: SpatialGatingBlock  # stacked: every leaf has a leading layer axis
    norm: str = eqx.field(static=True)

    def __init__(self, config: GMLP, vocab: int, length: int, *, key: PRNGKeyArray):
        k_embed, k_blocks, k_out = jax.random.split(key, 3)
        d = config.width
        self.embedding = Embedding(vocab, length, d, config.positions, key=k_embed)
        self.blocks = stacked(lambda k: SpatialGatingBlock(config, length, key=k), config.depth, key=k_blocks)
        self.readout = Readout(config.norm, d, vocab, key=k_out)
        self.vocab, self.length, self.depth, self.width = vocab, length, config.depth, d
        self.activation, self.norm, self.alpha = config.activation, config.norm, config.alpha

    def apply(
        self, inputs: Int[Array, "batch position"], *, collect: bool
    ) -> tuple[Float[Array, "batch layer position width"] | None, Float[Array, "batch position vocab"]]:
        h0 = self.embedding(inputs)  # (batch, position, width)

        def step(block: SpatialGatingBlock, h):
            z = activate(self.activation, block.norm(self.norm, h) @ block.w1 + block.b1)
            z1, z2 = jnp.split(z, 2, axis=-1)
            gate = jnp.einsum("st,bte->bse", block.w_s, block.gate_norm(self.norm, z2)) + block.b_s[None, :, None]
            return h + self.alpha * ((z1 * gate) @ block.w2 + block.b2)

        h, hs = scan_blocks(step, h0, self.blocks, collect=collect, remat=False, stream_axis=1)
        logits = self.readout(self.norm, h)
        if not collect:
            return None, logits
        return jnp.concatenate([h0[:, None], hs], axis=1), logits
