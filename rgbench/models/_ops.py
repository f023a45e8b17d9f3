"""Dense layers, biases and norms written for XLA:CPU (what they compute is the textbook thing).

Measured on the 2-core AVX2 machine this project runs on (jax 0.10.2), and the reason this file
exists:

* **Reductions are slow, matrix-vector products are not.** Summing a (2048, 64) array over its
  rows took 0.61 ms as a ``reduce``; the same sum as ``ones @ x`` took 0.05 ms. Autodiff turns
  every broadcast (a bias, a norm gain) into a reduction over the rows in the backward pass —
  in the MLP-Mixer those reductions were a quarter of the training step. Here the backward of a
  broadcast, and the row statistics of the norms, are computed as matrix-vector products.
* **The weight gradient of a short matrix.** With few rows (the tokenwise symbol table has
  V + 1 = 17), XLA lowers xᵀ·g as a dot contracting the row axis of both operands, at under half
  the speed of the same product with xᵀ formed first; with many rows forming xᵀ is the slow part
  (a strided copy). ``dense`` picks by the row count.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

NORM_EPS = 1e-5
_SMALL_ROWS = 256


def _rows(x: Float[Array, "*rows n"]) -> Float[Array, "rows n"]:
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def column_sum(x: Float[Array, "rows n"]) -> Float[Array, " n"]:
    """Σ over rows; a matrix-vector product when there are many rows (see the module docstring)."""
    if x.shape[0] <= _SMALL_ROWS:
        return jnp.sum(x, axis=0)
    return jnp.ones((x.shape[0],), x.dtype) @ x


def row_mean(x: Float[Array, "rows n"]) -> Float[Array, " rows"]:
    """Mean over the last axis; a matrix-vector product when there are many rows."""
    if x.shape[0] <= _SMALL_ROWS:
        return jnp.mean(x, axis=-1)
    return x @ jnp.full((x.shape[-1],), 1.0 / x.shape[-1], x.dtype)


# --- broadcast along the last axis ---------------------------------------------------------


@jax.custom_vjp
def _add(x: Float[Array, "rows n"], b: Float[Array, " n"]) -> Float[Array, "rows n"]:
    return x + b[None, :]


def _add_fwd(x, b):
    return _add(x, b), None


def _add_bwd(_, g):
    return g, column_sum(g)


_add.defvjp(_add_fwd, _add_bwd)


@jax.custom_vjp
def _mul(x: Float[Array, "rows n"], s: Float[Array, " n"]) -> Float[Array, "rows n"]:
    return x * s[None, :]


def _mul_fwd(x, s):
    return _mul(x, s), (x, s)


def _mul_bwd(res, g):
    x, s = res
    return g * s[None, :], column_sum(g * x)


_mul.defvjp(_mul_fwd, _mul_bwd)


def along_last(
    x: Float[Array, "*rows n"], gain: Float[Array, " n"] | None, bias: Float[Array, " n"] | None
) -> Float[Array, "*rows n"]:
    """x · gain + bias, the vectors broadcast along the last axis (gradients by matrix-vector products)."""
    rows = _rows(x)
    if gain is not None:
        rows = _mul(rows, gain)
    if bias is not None:
        rows = _add(rows, bias)
    return rows.reshape(x.shape)


# --- broadcast along the first axis (token mixing on the position-major stream) -------------


@jax.custom_vjp
def add_rows(x: Float[Array, "n cols"], b: Float[Array, " n"]) -> Float[Array, "n cols"]:
    """x + b[:, None], with the bias gradient g @ 1."""
    return x + b[:, None]


def _add_rows_fwd(x, b):
    return add_rows(x, b), None


def _add_rows_bwd(_, g):
    return g, g @ jnp.ones((g.shape[1],), g.dtype)


add_rows.defvjp(_add_rows_fwd, _add_rows_bwd)


# --- dense ----------------------------------------------------------------------------------


@jax.custom_vjp
def _dense_small(x: Float[Array, "rows n_in"], w: Float[Array, "n_in n_out"]) -> Float[Array, "rows n_out"]:
    return x @ w


def _dense_small_fwd(x, w):
    return x @ w, (x, w)


def _dense_small_bwd(res, g):
    x, w = res
    return g @ w.T, jnp.transpose(x) @ g


_dense_small.defvjp(_dense_small_fwd, _dense_small_bwd)


def dense(x: Float[Array, "*rows n_in"], w: Float[Array, "n_in n_out"]) -> Float[Array, "*rows n_out"]:
    """x @ w over the last axis of x (backward chosen by the row count; see the module docstring)."""
    rows = _rows(x)
    if rows.shape[0] > _SMALL_ROWS:
        out = rows @ w
    else:
        out = _dense_small(rows, w)
    return out.reshape(x.shape[:-1] + w.shape[1:])


# --- norms ----------------------------------------------------------------------------------


def layernorm(
    x: Float[Array, "*rows n"], gain: Float[Array, " n"], bias: Float[Array, " n"]
) -> Float[Array, "*rows n"]:
    """(x − mean) / √(var + ε) · gain + bias over the last axis (Ba et al. 2016), biased variance."""
    rows = _rows(x)
    centred = rows - row_mean(rows)[:, None]
    var = row_mean(centred * centred)
    out = along_last(centred * jax.lax.rsqrt(var + NORM_EPS)[:, None], gain, bias)
    return out.reshape(x.shape)


def rmsnorm(x: Float[Array, "*rows n"], gain: Float[Array, " n"]) -> Float[Array, "*rows n"]:
    """x / √(mean(x²) + ε) · gain over the last axis (Zhang & Sennrich 2019)."""
    rows = _rows(x)
    ms = row_mean(rows * rows)
    return along_last(rows * jax.lax.rsqrt(ms + NORM_EPS)[:, None], gain, None).reshape(x.shape)


# --- GELU -----------------------------------------------------------------------------------

# Abramowitz & Stegun 7.1.26: erf(z) = 1 − t·P(t)·e^(−z²), t = 1/(1 + p z), z ≥ 0, |error| ≤ 1.5e-7.
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def _gelu_parts(x: Float[Array, "..."]) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
    """(x·Φ(x), Φ(x) + x·φ(x)) sharing one exponential e^(−x²/2) between Φ and the density φ."""
    e = jnp.exp(-0.5 * x * x)
    z = jnp.abs(x) * _INV_SQRT2
    t = 1.0 / (1.0 + _AS_P * z)
    a1, a2, a3, a4, a5 = _AS_A
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    half_erfc = 0.5 * poly * e  # ½·erfc(|x|/√2) = P(X > |x|)
    cdf = jnp.where(x >= 0, 1.0 - half_erfc, half_erfc)
    return x * cdf, cdf + x * (_INV_SQRT_2PI * e)


@jax.custom_vjp
def gelu(x: Float[Array, "..."]) -> Float[Array, "..."]:
    """Exact GELU x·Φ(x) (Hendrycks & Gimpel 2016), Φ the normal CDF, to |error| ≤ 1e-7·|x|.

    XLA:CPU's erfc and the exponential autodiff adds for its derivative cost about 1 ns per
    element each; here one exponential serves Φ, the density and so the derivative, which is saved
    for the backward pass (a single multiply).
    """
    return _gelu_parts(x)[0]


def _gelu_fwd(x):
    y, slope = _gelu_parts(x)
    return y, slope


def _gelu_bwd(slope, g):
    return (g * slope,)


gelu.defvjp(_gelu_fwd, _gelu_bwd)
