"""Seeds split over several CPU devices (``rgbench run --devices N``): same results up to float
rounding, padding dropped, divergence still per seed, and clear errors when it cannot apply."""

from __future__ import annotations

import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ROOT, TINY_ARCH, TINY_TRAIN, fast_compiles, run_python

from rgbench import cli
from rgbench import train as train_module
from rgbench.inputs import Sticky
from rgbench.models import Tokenwise
from rgbench.train import use_cpu_devices

SEEDS = [3, 5, 7]  # three seeds on two devices: one padding copy

# Trains the same three seeds twice in a process started with two CPU devices: healthy, and with
# seed 5's readout poisoned (non-finite from the first step). Saves what the parent compares.
_CHILD = textwrap.dedent(
    """
    import sys
    import jax
    from rgbench.train import use_cpu_devices
    use_cpu_devices(2)
    import equinox as eqx, jax.numpy as jnp, numpy as np
    from rgbench import train as T
    from rgbench.inputs import Sticky
    from rgbench.models import Tokenwise
    T.COMPILER_OPTIONS.update({"xla_backend_optimization_level": 0})
    arch, data = Tokenwise(depth=2, width=8, hidden_mult=2.0), Sticky(vocab=4, length=8, xi=1.2).build()
    cfg = T.TrainConfig(steps=20, log_every=10, batch=8, lr=3e-3, eval_sequences=128)
    seeds = [3, 5, 7]
    r = T.train(arch, data, cfg, seeds)
    w = r.init.readout.weight
    bad = eqx.tree_at(lambda m: m.readout.weight, r.init, w.at[1, 0, 0].set(jnp.nan))
    b = T._fit(arch, data, cfg, bad, T.seed_keys(seeds)[1])
    T._VMAP_WORK = 1  # one seed at a time within each device's share (lax.map), as for a mixer
    g = T.train(arch, data, cfg, seeds)
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(r.trained, eqx.is_array))]
    np.savez(sys.argv[1], devices=r.devices, n_devices=len(jax.devices()), loss=r.loss,
             final=r.final_loss, bad_diverged=b.diverged, bad_final=b.final_loss,
             grouped_final=g.final_loss, grouped_loss=g.loss, *leaves)
    """
)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    out = tmp_path_factory.mktemp("devices") / "sharded.npz"
    proc = run_python(_CHILD, out, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(out))


@pytest.fixture(scope="module")
def single():
    with fast_compiles():
        return train_module.train(Tokenwise(**TINY_ARCH), Sticky(vocab=4, length=8, xi=1.2).build(), TINY_TRAIN, SEEDS)


def test_two_devices_train_the_same_seeds(sharded, single):
    assert int(sharded["n_devices"]) == 2
    assert int(sharded["devices"]) == 2
    assert single.devices == 1
    # The padding seed is gone: every array is per real seed.
    assert sharded["loss"].shape == single.loss.shape == (3, 2)
    assert sharded["final"].shape == (3,)
    # Same seeds, same batches: equal up to float rounding (XLA compiles a 2-seed program per
    # device instead of one 3-seed program).
    np.testing.assert_allclose(sharded["final"], single.final_loss, rtol=1e-5)
    np.testing.assert_allclose(sharded["loss"], single.loss, rtol=1e-5)
    ours = [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(single.trained, eqx.is_array))]
    theirs = [sharded[f"arr_{i}"] for i in range(len(ours))]
    assert [a.shape for a in ours] == [b.shape for b in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # Seeds differ from each other (the split did not hand every device the same seed).
    assert len(set(np.round(single.final_loss, 6))) == 3


def test_seeds_run_one_after_another_within_each_device(sharded, single):
    np.testing.assert_allclose(sharded["grouped_final"], single.final_loss, rtol=1e-5)
    np.testing.assert_allclose(sharded["grouped_loss"], single.loss, rtol=1e-5)


def test_a_diverging_seed_on_one_device_leaves_the_others(sharded, single):
    assert sharded["bad_diverged"].tolist() == [False, True, False]
    assert np.isnan(sharded["bad_final"][1])
    np.testing.assert_allclose(sharded["bad_final"][[0, 2]], single.final_loss[[0, 2]], rtol=1e-5)


def test_use_cpu_devices_after_jax_started():
    jnp.zeros(1).block_until_ready()  # JAX has started in this process, with one CPU device
    use_cpu_devices(len(jax.devices("cpu")))  # asking for what it has is fine
    with pytest.raises(RuntimeError, match="already started with 1"):
        use_cpu_devices(2)
    with pytest.raises(ValueError, match="at least 1"):
        use_cpu_devices(0)


@pytest.mark.parametrize("extra", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:1"]])
def test_devices_is_refused_with_other_executors(extra, capsys):
    rc = cli.main(["run", str(ROOT / "suites" / "smoke.yaml"), "--devices", "2", *extra, "--store", "unused.zarr"])
    assert rc == 2
    assert "--devices" in capsys.readouterr().err
