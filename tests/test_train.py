"""Training: the TrainResult contract, keys and pairing, divergence, and a science check on the floors."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import TINY_ARCH, TINY_TRAIN, fast_compiles

from rgbench import train as train_module
from rgbench.inputs import Sticky
from rgbench.models import Mixer, Tokenwise
from rgbench.train import EVAL_KEY, TrainConfig, TrainResult, forward, train

LONG_XI = TrainConfig(steps=150, log_every=150, batch=16, lr=1e-2, eval_sequences=128)


@pytest.fixture(scope="module", autouse=True)
def _fast_compiles():
    """Tiny programs spend their time compiling: skip XLA's backend optimisations in this module."""
    with fast_compiles():
        yield


@pytest.fixture(scope="module")
def data():
    return Sticky(vocab=4, length=8, xi=1.2).build()


@pytest.fixture(scope="module")
def progress_calls() -> list:
    return []


@pytest.fixture(scope="module")
def result(data, progress_calls) -> TrainResult:
    return train(Tokenwise(**TINY_ARCH), data, TINY_TRAIN, [3, 5], progress=lambda *a: progress_calls.append(a))


def leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def test_result_contract(result, data, progress_calls):
    r = result
    assert r.steps.dtype == np.int64
    assert r.steps.tolist() == [10, 20]
    assert r.loss.dtype == np.float32
    assert r.loss.shape == (2, 2)
    assert np.isfinite(r.loss).all()
    assert r.final_loss.dtype == np.float64
    assert r.final_loss.shape == (2,)
    assert np.isfinite(r.final_loss).all()
    assert r.diverged.dtype == np.bool_
    assert not r.diverged.any()
    assert r.status == ["complete", "complete"]
    assert r.eval_tokens.shape == r.eval_inputs.shape == r.eval_scored.shape == (128, 8)
    assert r.eval_tokens.dtype == np.int32
    assert r.eval_scored.dtype == np.bool_
    assert r.eval_inputs.max() <= data.mask_id
    assert r.wall_seconds > 0
    # Stacked over seeds, in the storage layout, and training moved the parameters.
    for init, trained in zip(leaves(r.init), leaves(r.trained)):
        assert init.shape == trained.shape
        assert init.shape[0] == 2
    assert r.init.blocks.w1.shape == (2, 2, 8, 16)
    assert any(not np.array_equal(a, b) for a, b in zip(leaves(r.init), leaves(r.trained)))
    # progress after every chunk, with the chunk's mean loss per seed.
    assert [(c[0], c[1]) for c in progress_calls] == [(10, 20), (20, 20)]
    np.testing.assert_array_equal(progress_calls[-1][2], r.loss[:, -1])


def test_chunks_end_with_the_remainder():
    assert train_module.chunk_lengths(25, 10) == [10, 10, 5]
    assert train_module.chunk_lengths(20, 10) == [10, 10]
    assert train_module.chunk_lengths(3, 10) == [3]
    assert train_module.chunk_lengths(0, 10) == []


def test_keys_pair_seeds_and_the_eval_set_is_fixed(result, data):
    # The network of seed s is built from fold_in(key(s), 0), whatever else the case is.
    expected = Tokenwise(**TINY_ARCH).build(data.vocab, data.length, key=jax.random.fold_in(jax.random.key(5), 0))
    for stacked, single in zip(leaves(result.init), leaves(expected)):
        np.testing.assert_array_equal(stacked[1], single)
    # Other seeds: the same evaluation set (drawn from the fixed key).
    other = train(Tokenwise(**TINY_ARCH), data, TINY_TRAIN.model_copy(update={"steps": 0}), [11, 12])
    np.testing.assert_array_equal(other.eval_inputs, result.eval_inputs)
    np.testing.assert_array_equal(other.eval_scored, result.eval_scored)
    k_sample, _ = jax.random.split(jax.random.key(EVAL_KEY))
    tokens = jax.jit(data.sample, static_argnums=1)(k_sample, 128)
    np.testing.assert_array_equal(result.eval_tokens, tokens)


def test_reproducible_bitwise(result, data):
    again = train(Tokenwise(**TINY_ARCH), data, TINY_TRAIN, [3, 5])
    np.testing.assert_array_equal(again.final_loss, result.final_loss)
    np.testing.assert_array_equal(again.loss, result.loss)
    for a, b in zip(leaves(again.trained), leaves(result.trained)):
        np.testing.assert_array_equal(a, b)


def test_zero_steps_is_init(data):
    r = train(Tokenwise(**TINY_ARCH), data, TINY_TRAIN.model_copy(update={"steps": 0}), [3, 5])
    assert r.steps.shape == (0,)
    assert r.loss.shape == (2, 0)
    for a, b in zip(leaves(r.init), leaves(r.trained)):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(r.final_loss).all()
    assert not r.diverged.any()


def test_forced_divergence_is_reported_not_raised(data):
    cfg = TINY_TRAIN.model_copy(update={"optimizer": "sgd", "lr": 100.0})
    r = train(Tokenwise(**TINY_ARCH, norm="none", init_scale=3.0), data, cfg, [0, 1])
    assert r.diverged.all()
    assert r.status == ["diverged", "diverged"]
    assert np.isnan(r.final_loss).all()
    assert np.isnan(r.loss[:, -1]).all()
    # Frozen at the last parameters known to be finite.
    assert all(np.isfinite(x).all() for x in leaves(r.trained))


def test_one_diverging_seed_does_not_stop_the_others(result, data):
    # Seed 3's readout is non-finite from the start: its loss is nan at the first step. Seed 5
    # trains bitwise as it did beside a healthy seed 3: vmap does not couple the seeds.
    weight = result.init.readout.weight
    bad = eqx.tree_at(lambda m: m.readout.weight, result.init, weight.at[0, 0, 0].set(jnp.nan))
    _, data_keys = train_module.seed_keys([3, 5])
    r = train_module._fit(Tokenwise(**TINY_ARCH), data, TINY_TRAIN, bad, data_keys)
    assert r.diverged.tolist() == [True, False]
    assert np.isnan(r.final_loss[0])
    assert np.isnan(r.loss[0]).all()
    np.testing.assert_array_equal(r.final_loss[1], result.final_loss[1])
    np.testing.assert_array_equal(r.loss[1], result.loss[1])


def test_forward_matches_the_networks(result):
    inputs = result.eval_inputs[:7]
    streams, logits = forward(result.trained, inputs)
    assert streams.shape == (2, 7, 3, 8, 8)
    assert logits.shape == (2, 7, 8, 4)
    assert streams.dtype == np.float32
    second = jax.tree_util.tree_map(lambda x: x[1], result.trained)
    s, l = jax.jit(jax.vmap(second))(jnp.asarray(inputs))
    np.testing.assert_allclose(streams[1], s, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(logits[1], l, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def long_xi():
    """ξ ≈ 7: neighbours nearly always agree, so context helps; a tokenwise net cannot use it."""
    data = Sticky(vocab=4, length=8, xi=7.0).build()
    mixer = train(Mixer(depth=2, width=16, hidden_mult=2.0), data, LONG_XI, [0, 1])
    tokenwise = train(Tokenwise(**TINY_ARCH), data, LONG_XI, [0, 1])
    return data, mixer, tokenwise


def test_mixer_beats_the_tokenwise_floor_on_long_xi_and_tokenwise_does_not(long_xi):
    data, mixer, tokenwise = long_xi
    np.testing.assert_array_equal(mixer.eval_tokens, tokenwise.eval_tokens)  # paired
    floor, se = data.tokenwise_loss(mixer.eval_tokens, mixer.eval_inputs, mixer.eval_scored)
    bayes, _ = data.bayes_loss(mixer.eval_tokens, mixer.eval_inputs, mixer.eval_scored)
    assert (mixer.final_loss < floor - 0.5).all(), (mixer.final_loss, floor)
    assert (mixer.final_loss > bayes - 0.1).all()
    assert (tokenwise.final_loss > floor - 3 * se).all(), (tokenwise.final_loss, floor, se)


def test_forward_chunks_over_samples(monkeypatch, long_xi):
    _, mixer, _ = long_xi
    inputs = mixer.eval_inputs[:11]
    whole = forward(mixer.trained, inputs)
    monkeypatch.setattr(train_module, "_FORWARD_BYTES", 1)  # one sample per chunk
    chunked = forward(mixer.trained, inputs)
    for a, b in zip(whole, chunked):  # another chunk shape may round differently (measured: 1 ulp)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    second = jax.tree_util.tree_map(lambda x: x[1], mixer.trained)
    s, _ = jax.jit(jax.vmap(second))(jnp.asarray(inputs))
    np.testing.assert_allclose(whole[0][1], s, rtol=1e-5, atol=1e-5)


def test_schedules_and_optimizers():
    for kwargs in [
        dict(optimizer="adamw", weight_decay=0.1, warmup=5, schedule="cosine", clip=1.0),
        dict(optimizer="sgd", weight_decay=0.01, warmup=3),
        dict(optimizer="adam"),
    ]:
        cfg = TrainConfig(steps=20, **kwargs)
        lr = train_module.learning_rate(cfg)
        assert float(lr(0)) == (0.0 if cfg.warmup else cfg.lr)
        assert float(lr(cfg.warmup)) == pytest.approx(cfg.lr)
        if cfg.schedule == "cosine":
            assert float(lr(cfg.steps)) == pytest.approx(0.0, abs=1e-9)
        opt = train_module.make_optimizer(cfg)
        params = {"w": jnp.ones(3)}
        updates, _ = jax.jit(opt.update)({"w": jnp.ones(3)}, opt.init(params), params)
        assert updates["w"].shape == (3,)


def test_seed_groups_run_one_after_another(monkeypatch, result, data):
    """Where one seed's step is large (mixer, windowed), seeds are not vmapped but run in turn:
    the same training, and a diverging seed still leaves the others alone."""
    tiny = Tokenwise(**TINY_ARCH).build(16, 64, key=jax.random.key(0))
    n_params = sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(tiny, eqx.is_array)))
    assert train_module.seeds_per_vmap(Mixer(**TINY_ARCH).build(8, 128, key=jax.random.key(0)), 32, 128) == 1
    # Context-free: a seed-step works on the 17 symbol rows, so tiny networks vmap many seeds …
    assert train_module.seeds_per_vmap(tiny, 32, 64) == train_module._VMAP_WORK // (17 * n_params) > 1
    # … and the seed config (d = 64, 201 552 parameters: 3.4M multiply-adds a seed-step) none.
    seed_config = eqx.filter_eval_shape(Tokenwise(depth=6, width=64).build, 16, 64, key=jax.random.key(0))
    assert train_module.seeds_per_vmap(seed_config, 32, 64) == 1
    monkeypatch.setattr(train_module, "_VMAP_WORK", 1)
    train_module._chunk_program.cache_clear()
    try:
        weight = result.init.readout.weight
        bad = eqx.tree_at(lambda m: m.readout.weight, result.init, weight.at[0, 0, 0].set(jnp.nan))
        _, data_keys = train_module.seed_keys([3, 5])
        r = train_module._fit(Tokenwise(**TINY_ARCH), data, TINY_TRAIN, bad, data_keys)
        g = train(Tokenwise(**TINY_ARCH), data, TINY_TRAIN, [3, 5])
    finally:
        train_module._chunk_program.cache_clear()
    assert r.diverged.tolist() == [True, False]
    assert np.isnan(r.final_loss[0])
    np.testing.assert_allclose(r.final_loss[1], result.final_loss[1], rtol=1e-5)
    np.testing.assert_allclose(g.final_loss, result.final_loss, rtol=1e-5)
    np.testing.assert_allclose(g.loss, result.loss, rtol=1e-5)
