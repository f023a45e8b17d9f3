"""Where the seeds of a case train: JAX's CPU devices (`use_cpu_devices`) and the seed axis split over
them (`SeedPlacement`). `rgbench.train` uses both; ``rgbench run --devices N`` calls the first."""

from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PyTree

__all__ = ["SeedPlacement", "use_cpu_devices"]


def use_cpu_devices(n: int) -> None:
    """Start JAX's CPU backend with ``n`` devices, so that ``train`` splits the seeds over them.

    On a multi-core CPU, n = the number of cores runs that many shares of the seeds side by side
    (measured: 10 tokenwise seeds train 1.83× faster with 2 devices on 2 cores in
    ``benchmarks/seed_scaling.py``; docs/speed.md "Speed").
    Must be called before JAX computes anything in the process; raises ``RuntimeError`` otherwise
    (unless JAX already has exactly n CPU devices).
    """
    if n < 1:
        raise ValueError(f"devices must be at least 1; got {n}")
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError as e:
        have = len(jax.devices("cpu"))
        if have != n:
            raise RuntimeError(
                f"cannot use {n} CPU devices: JAX has already started with {have} in this process "
                "(call use_cpu_devices before any JAX computation)"
            ) from e


@dataclass(frozen=True)
class SeedPlacement:
    """How the seed axis is laid out over the local devices during training.

    With one device (the default: JAX starts with one CPU device) every seed trains in one
    program on it (vmapped, or in turn: ``seeds_per_vmap``). With several local devices (``rgbench run --devices N`` on a CPU, or
    several accelerators), the seed axis is split evenly over as many of them as there are seeds,
    padded with copies of the first seed up to a multiple of that number (the copies are dropped
    afterwards): each device runs the same program on its share of the seeds, all at once.
    What a seed computes does not depend on which device it lands on, but XLA may round
    differently for a different number of seeds per program: a run is bitwise reproducible for a
    given seed list and device count.
    """

    n_seeds: int
    devices: tuple

    @classmethod
    def for_seeds(cls, n_seeds: int) -> SeedPlacement:
        return cls(n_seeds, tuple(jax.local_devices()[: max(1, n_seeds)]))

    @property
    def sharding(self):
        """The seed axis split over the devices (None with one device)."""
        if len(self.devices) == 1:
            return None
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        return NamedSharding(Mesh(np.array(self.devices), ("seed",)), PartitionSpec("seed"))

    @property
    def padded(self) -> int:
        k = len(self.devices)
        return -(-self.n_seeds // k) * k

    def spread(self, tree: PyTree) -> PyTree:
        """Seed-stacked arrays → padded and split over the devices (unchanged with one device)."""
        sharding = self.sharding
        if sharding is None:
            return tree
        extra = self.padded - self.n_seeds

        def place(x):
            if not eqx.is_array(x):
                return x
            if extra and x.shape[0] == self.n_seeds:
                x = jnp.concatenate([x, jnp.repeat(x[:1], extra, axis=0)])
            return jax.device_put(x, sharding)

        return jax.tree_util.tree_map(place, tree)

    def gather(self, tree: PyTree) -> PyTree:
        """Inverse of ``spread``: the real seeds, back on the first device."""
        if len(self.devices) == 1:
            return tree
        first = self.devices[0]
        return jax.tree_util.tree_map(lambda x: jax.device_put(x, first)[: self.n_seeds] if eqx.is_array(x) else x, tree)
