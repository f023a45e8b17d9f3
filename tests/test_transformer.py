"""The transformer family: the stream contract, permutation equivariance without positions, the
window's receptive field, parameters and cost against hand formulas, the attention scores against a
hand computation, the config's validation, and training."""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pydantic
import pytest
import scipy.special
from helpers import TINY_ARCH, fast_compiles

from rgbench.inputs import Sticky
from rgbench.models import Transformer, TransformerNet, _ops
from rgbench.models._base import unstack_blocks
from rgbench.models._transformer import sinusoidal_positions
from rgbench.registry import ARCHITECTURES
from rgbench.train import TrainConfig, forward, train

V, T = 5, 9
SMALL = dict(depth=2, width=8, hidden_mult=2.0)
FAST = {"xla_backend_optimization_level": 0}  # tiny programs: compiling is most of their time
RNG = np.random.default_rng(0)


def jit(fun, **kwargs):
    return jax.jit(fun, compiler_options=FAST, **kwargs)


def symbols(*shape, high=V + 1):
    return jnp.asarray(RNG.integers(0, high, shape), jnp.int32)


@functools.lru_cache(maxsize=None)
def trained_like(cfg: Transformer, seed: int = 0) -> TransformerNet:
    """A network with random values in every parameter (biases, gains, learned positions included)."""

    def make(key):
        k_build, k_noise = jax.random.split(key)
        leaves, treedef = jax.tree_util.tree_flatten(cfg.network(V, T, key=k_build))
        keys = jax.random.split(k_noise, len(leaves))
        leaves = [x + 0.3 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)]
        return jax.tree_util.tree_unflatten(treedef, leaves)

    return jit(make)(jax.random.key(seed))


@jit
def run(model, inputs, batch):
    return model(inputs), model.apply(batch, collect=True), model.apply(batch, collect=False)


CONFIGS = [
    Transformer(**SMALL, heads=2),
    Transformer(**SMALL, heads=3, head_width=5, positions="learned", norm="rmsnorm", activation="relu", residual_scale="1/L"),
    Transformer(**SMALL, heads=1, positions="none", attention="window:1", norm="none", activation="tanh", init_scale=2.0),
]


# -- (a) the stream contract ------------------------------------------------------------------------


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.positions}-{c.attention}-{c.norm}")
def test_stream_and_logits_shapes(cfg):
    model = trained_like(cfg)
    assert isinstance(model, TransformerNet)
    inputs, batch = symbols(T), symbols(3, T)
    (stream, logits), (bstream, blogits), (_, blogits2) = run(model, inputs, batch)
    assert stream.shape == (cfg.depth + 1, T, cfg.width)
    assert stream.dtype == jnp.float32
    assert logits.shape == (T, V)
    assert bstream.shape == (3, cfg.depth + 1, T, cfg.width)
    assert blogits.shape == (3, T, V)
    np.testing.assert_allclose(blogits2, blogits, rtol=1e-6, atol=1e-6)
    # layer 0 is the embedding output: tokens plus the positions of the configured kind
    expected0 = model.embedding.tokens[inputs]
    if cfg.positions == "learned":
        expected0 = expected0 + model.embedding.positions
    if cfg.positions == "sinusoidal":
        expected0 = expected0 + sinusoidal_positions(T, cfg.width)
    np.testing.assert_allclose(stream[0], expected0, rtol=1e-6, atol=1e-6)
    # the logits are the readout of the last layer; one sequence is the batch forward's row
    np.testing.assert_allclose(model.readout(cfg.norm, stream[-1]), logits, rtol=1e-5, atol=1e-5)
    (one_stream, one_logits), (bstream, blogits), _ = run(model, batch[1], batch)
    np.testing.assert_allclose(one_stream, bstream[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(one_logits, blogits[1], rtol=1e-5, atol=1e-5)


def test_sinusoidal_table_is_vaswanis():
    d = 6
    table = sinusoidal_positions(T, d)
    for t in range(T):
        for i in range(d // 2):
            angle = t / 10000 ** (2 * i / d)
            assert table[t, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[t, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    assert sinusoidal_positions(T, 7)[:, 6] == pytest.approx(np.sin(np.arange(T) / 10000 ** (6 / 7)), abs=1e-6)
    assert not table.flags.writeable, "the cached table is shared: it must be read-only"


# -- (b) no positions: permutation equivariance -----------------------------------------------------


def test_without_positions_the_network_commutes_with_permutations_of_positions():
    perm = RNG.permutation(T)
    inputs = symbols(T)
    batch = symbols(2, T)
    for positions, equivariant in (("none", True), ("sinusoidal", False), ("learned", False)):
        model = trained_like(Transformer(**SMALL, heads=2, positions=positions))
        (stream, logits), _, _ = run(model, inputs, batch)
        (pstream, plogits), _, _ = run(model, inputs[perm], batch)
        if equivariant:
            np.testing.assert_allclose(pstream, stream[:, perm], rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(plogits, logits[perm], rtol=1e-5, atol=1e-5)
        else:  # the check can fail: positional information breaks it
            assert not np.allclose(plogits, logits[perm], rtol=1e-3, atol=1e-3), positions


# -- (c) the window's receptive field ---------------------------------------------------------------


@pytest.mark.parametrize("radius, depth", [(1, 2), (2, 2), (0, 3)])
def test_window_attention_reads_exactly_t_minus_rl_to_t_plus_rl(radius, depth):
    """∂(stream at layer ℓ, position t)/∂(layer-0 stream at position s) is exactly zero for
    |t − s| > r·ℓ and nonzero for every |t − s| ≤ r·ℓ; the logits see r·depth."""
    cfg = Transformer(depth=depth, width=8, hidden_mult=2.0, heads=2, attention=f"window:{radius}")
    model = trained_like(cfg)
    h0 = model.embed(symbols(1, T))

    def outputs(h0):
        h, hs = model._trunk(h0, collect=True)
        return hs[0], model.readout(cfg.norm, h)[0]  # (layer, position, width), (position, vocab)

    (j_stream, j_logits) = jit(jax.jacrev(outputs))(h0)  # (..., 1, position s, width)
    dist = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])  # (t, s)
    for layer in range(1, depth + 1):
        # |∂ stream[ℓ, t, :] / ∂ h0[s, :]| summed: (t, s)
        reach = np.abs(np.asarray(j_stream[layer - 1])).sum(axis=(1, 2, 4))
        inside = dist <= radius * layer
        assert (reach[~inside] == 0).all(), f"layer {layer}: a position beyond r·ℓ = {radius * layer} is read"
        assert (reach[inside] > 0).all(), f"layer {layer}: a position within r·ℓ = {radius * layer} is not read"
    reach = np.abs(np.asarray(j_logits)).sum(axis=(1, 2, 4))
    np.testing.assert_array_equal(reach > 0, dist <= radius * depth)


def test_full_attention_reads_every_position_in_one_block():
    model = trained_like(Transformer(depth=1, width=8, hidden_mult=2.0, heads=2))
    h0 = model.embed(symbols(1, T))
    jac = jit(jax.jacrev(lambda h: model._trunk(h, collect=False)[0][0]))(h0)
    assert (np.abs(np.asarray(jac)).sum(axis=(1, 2, 4)) > 0).all()


# -- (d) parameters and cost ------------------------------------------------------------------------


def hand_parameter_count(cfg: Transformer, vocab: int, length: int) -> int:
    d, hidden, n = cfg.width, round(cfg.hidden_mult * cfg.width), cfg.heads
    w = cfg.head_width if cfg.head_width is not None else d // n
    inner = n * w
    norm = {"layernorm": 2 * d, "rmsnorm": d, "none": 0}[cfg.norm]  # gain and bias, gain, nothing
    embedding = (vocab + 1) * d + (length * d if cfg.positions == "learned" else 0)  # V + 1 symbols ([MASK])
    attention = norm + (d * inner + inner) * 3 + (inner * d + d)  # q, k, v with biases; output with bias
    mlp = norm + (d * hidden + hidden) + (hidden * d + d)
    readout = norm + d * vocab + vocab
    return embedding + cfg.depth * (attention + mlp) + readout


PARAMETER_CONFIGS = [
    *CONFIGS,
    Transformer(depth=3, width=12, hidden_mult=1.5, heads=5, head_width=2, positions="learned", attention="window:2"),
    Transformer(depth=1, width=7, hidden_mult=3.0, heads=2),  # width // heads rounds down: 3
]


@pytest.mark.parametrize("cfg", PARAMETER_CONFIGS, ids=lambda c: f"{c.heads}x{c.head_width}-{c.positions}-{c.norm}")
def test_parameter_count_is_the_hand_formula_and_the_cost(cfg):
    net = cfg.build(V, T, key=jax.random.key(0))
    counted = sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(net, eqx.is_array)))
    assert counted == hand_parameter_count(cfg, V, T)
    assert cfg.cost(V, T).params == counted
    assert net.blocks.attention.wqkv.shape == (cfg.depth, cfg.width, 3 * cfg.heads * cfg.resolved_head_width)


def test_cost_counts_the_attention_t_squared_terms():
    cfg = Transformer(depth=3, width=16, heads=4, head_width=5)
    short, long = cfg.cost(V, 10), cfg.cost(V, 20)
    # everything but QKᵀ and AV is per token (linear in T); those two are 2·T²·heads·head_width each
    assert long.flops - 2 * short.flops == pytest.approx(cfg.depth * 4 * 20 * (400 - 200))
    assert long.activations - 2 * short.activations == cfg.depth * 2 * 4 * (400 - 200)  # scores and softmax per head
    assert long.stream == (cfg.depth + 1) * 20 * 16
    # a window is a mask on the full scores: it costs what full attention costs
    assert Transformer(depth=3, width=16, heads=4, head_width=5, attention="window:1").cost(V, 20) == long


# -- (e) attention scores by hand -------------------------------------------------------------------


def _layernorm(x, gain, bias):
    x = np.asarray(x, np.float64)
    c = x - x.mean(-1, keepdims=True)
    return c / np.sqrt((c * c).mean(-1, keepdims=True) + _ops.NORM_EPS) * gain + bias


def _gelu(x):
    return 0.5 * x * (1 + scipy.special.erf(x / math.sqrt(2)))


def test_attention_scores_match_a_hand_computation_and_drive_the_block():
    cfg = Transformer(depth=2, width=8, hidden_mult=2.0, heads=2, head_width=3, attention="window:1")
    model = trained_like(cfg)
    inputs = symbols(T)
    (stream, _), scores, batch_scores = jit(lambda m, x: (m(x), m.attention_scores(x), m.attention_scores(x[None])))(
        model, inputs
    )
    n, w, inner = 2, 3, 6
    assert scores.shape == (cfg.depth, n, T, T)
    np.testing.assert_array_equal(batch_scores[0], scores)
    allowed = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :]) <= 1
    assert np.isneginf(np.asarray(scores)[:, :, ~allowed]).all(), "a disallowed pair has a finite score"
    assert np.isfinite(np.asarray(scores)[:, :, allowed]).all(), "an allowed pair has an infinite score"

    for layer in range(cfg.depth):
        a = jax.tree_util.tree_map(lambda x, layer=layer: np.asarray(x[layer], np.float64), model.blocks.attention)
        h = np.asarray(stream[layer], np.float64)
        u = _layernorm(h, a.norm.gain, a.norm.bias)
        qkv = u @ a.wqkv + a.bqkv
        q, k, v = (qkv[:, i * inner : (i + 1) * inner].reshape(T, n, w) for i in range(3))
        hand = np.einsum("thc,shc->hts", q, k) / math.sqrt(w)
        np.testing.assert_allclose(np.asarray(scores[layer])[:, allowed], hand[:, allowed], rtol=1e-4, atol=1e-4)

        # the softmax of these scores is what the block applies (jax.nn.dot_product_attention's path)
        s = np.where(allowed, hand, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = np.einsum("hts,shc->thc", p, v).reshape(T, inner)
        mid = h + cfg.alpha * (o @ a.wo + a.bo)
        c = jax.tree_util.tree_map(lambda x, layer=layer: np.asarray(x[layer], np.float64), model.blocks.channel)
        z = _gelu(_layernorm(mid, c.norm.gain, c.norm.bias) @ c.w1 + c.b1)
        np.testing.assert_allclose(stream[layer + 1], mid + cfg.alpha * (z @ c.w2 + c.b2), rtol=1e-4, atol=1e-4)


def test_attention_scores_of_a_batch_and_of_the_training_layout():
    cfg = Transformer(**SMALL, heads=2, positions="learned")
    model = trained_like(cfg)
    batch = symbols(3, T)
    scores, row, unrolled = jit(
        lambda m, x: (m.attention_scores(x), m.attention_scores(x[1]), unstack_blocks(m).attention_scores(x))
    )(model, batch)
    assert scores.shape == (3, cfg.depth, 2, T, T)
    assert np.isfinite(np.asarray(scores)).all(), "full attention masks nothing"
    np.testing.assert_allclose(row, scores[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(unrolled, scores, rtol=1e-5, atol=1e-5)


# -- the config --------------------------------------------------------------------------------------


def test_config_parses_defaults_and_refuses_what_it_cannot_build():
    cfg = ARCHITECTURES.parse({"kind": "transformer", "attention": "window:03"})
    assert isinstance(cfg, Transformer)
    assert (cfg.heads, cfg.resolved_head_width, cfg.positions, cfg.attention, cfg.window) == (4, 16, "sinusoidal", "window:3", 3)
    assert Transformer().window is None
    assert Transformer(width=10, heads=3).resolved_head_width == 3
    assert not Transformer().context_free
    for bad in ("window", "window:", "window:-1", "window:1.5", "window: 2", "local:2", "Full", "window:65537"):
        with pytest.raises(pydantic.ValidationError, match=r"attention must be 'full' or 'window:<r>' with r a whole number"):
            Transformer(attention=bad)
    with pytest.raises(pydantic.ValidationError, match=r"width // heads would be 0 \(8 // 9\)"):
        Transformer(width=8, heads=9)
    Transformer(width=8, heads=9, head_width=1)  # fine with an explicit head width
    with pytest.raises(pydantic.ValidationError, match="Input should be 'learned', 'sinusoidal' or 'none'"):
        Transformer(positions=True)
    with pytest.raises(pydantic.ValidationError, match="less than or equal to 1024"):
        Transformer(heads=2000)


# -- (f) training ------------------------------------------------------------------------------------


def test_it_trains():
    data = Sticky(vocab=4, length=8, xi=1.2).build()
    cfg = TrainConfig(steps=30, log_every=10, batch=8, lr=1e-2, eval_sequences=128)
    with fast_compiles():
        r = train(Transformer(**TINY_ARCH, heads=2), data, cfg, [0])
        _, logits = forward(r.init, r.eval_inputs)
    assert r.status == ["complete"]
    logp = scipy.special.log_softmax(np.asarray(logits[0], np.float64), axis=-1)
    picked = np.take_along_axis(logp, r.eval_tokens[..., None], axis=-1)[..., 0]
    init_loss = -picked[r.eval_scored].mean()
    assert r.final_loss[0] < init_loss - 0.05, f"evaluation loss {init_loss:.3f} at init, {r.final_loss[0]:.3f} trained"
    assert r.loss[0, -1] < r.loss[0, 0], r.loss
    assert isinstance(r.trained, TransformerNet)
