"""The attention observables of a case whose networks attend (`rgbench.models.TransformerNet`).

Per seed, block and head: the attention entropy, the log-partition function and the mean attention
distance of `rgbench.observables` (each a mean over the queries of one sequence), averaged over the
probe sequences. A block is indexed by its ``transition`` (the block that maps layer ℓ of the stream
to layer ℓ + 1), as kernel drift is. The scores come from the network's own ``attention_scores``,
run in chunks of probe sequences so that the scores held at once stay near 64 MiB.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ATTENTION_ATTRS", "attends", "measure_attention"]

#: The stored variables: (long_name, units); dims (seed, stage, transition, head).
ATTENTION_ATTRS: dict[str, tuple[str, str]] = {
    "attention_entropy": (
        "attention entropy -sum_s p_ts log p_ts of one head, mean over queries t and probe sequences "
        "(0 for one-hot attention, log T for uniform attention over T keys)",
        "nat",
    ),
    "attention_free_energy": (
        "log-partition function log sum_s exp(score_ts) of one head's attention, mean over queries and probe "
        "sequences (a query's attention read as a Boltzmann distribution over keys at unit temperature)",
        "nat",
    ),
    "attention_distance": (
        "mean attention distance sum_s p_ts |t - s| of one head, mean over queries and probe sequences",
        "position",
    ),
}
_CHUNK_BYTES = 64 * 2**20


def attends(models: Any) -> bool:
    """Whether the networks expose attention scores (a family with attention: `attention_scores`)."""
    return callable(getattr(models, "attention_scores", None))


def measure_attention(models: Any, inputs: np.ndarray) -> dict[str, np.ndarray] | None:
    """(seed, transition, head) float64 arrays of the three attention observables over the probe batch
    `inputs` (n, position), for networks stacked along a leading seed axis; None for networks that do
    not attend."""
    if not attends(models):
        return None
    import equinox as eqx
    import jax.numpy as jnp

    from .observables import attention_distance, attention_entropy, attention_free_energy

    scores_of = eqx.filter_jit(eqx.filter_vmap(lambda model, x: model.attention_scores(x), in_axes=(0, None)))
    inputs = np.asarray(inputs, np.int32)
    n = inputs.shape[0]
    # the shape of one sequence's scores, traced without compiling: (seed, 1, transition, head, T, T)
    one = eqx.filter_eval_shape(scores_of, models, jnp.asarray(inputs[:1]))
    size = int(min(n, max(1, _CHUNK_BYTES // max(int(np.prod(one.shape)) * one.dtype.itemsize, 1))))
    functions = {
        "attention_entropy": attention_entropy,
        "attention_free_energy": attention_free_energy,
        "attention_distance": attention_distance,
    }
    sums = {name: np.zeros(one.shape[:1] + one.shape[2:4]) for name in functions}
    for lo in range(0, n, size):
        chunk = inputs[lo : lo + size]
        m = len(chunk)
        if m < size:  # one compiled shape: pad the last chunk with its first row, then drop the padding
            chunk = np.concatenate([chunk, np.repeat(chunk[:1], size - m, axis=0)])
        scores = np.asarray(scores_of(models, jnp.asarray(chunk)))[:, :m]
        for name, f in functions.items():
            sums[name] += f(scores).sum(axis=1)
    return {name: total / n for name, total in sums.items()}
