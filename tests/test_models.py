"""Architectures: shapes, locality, determinism, and the tokenwise symbol-table objective."""

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

from rgbench.models import (
    ArchitectureConfig,
    Mixer,
    MixerNet,
    Tokenwise,
    TokenwiseNet,
    Transformer,
    TransformerNet,
    Windowed,
    WindowedNet,
    _ops,
    per_token_ce_sum,
)
from rgbench.models._base import scan_blocks, stack_blocks, unstack_blocks
from rgbench.models._transformer import sinusoidal_positions
from rgbench.registry import ARCHITECTURES

V, T = 6, 12
SMALL = dict(depth=3, width=8, hidden_mult=2.0)


def configs() -> list[ArchitectureConfig]:
    """One of each kind with the defaults, plus variants that exercise every option."""
    return [
        Tokenwise(**SMALL),
        Mixer(**SMALL),
        Windowed(**SMALL, radius=1),
        Transformer(**SMALL, heads=2),
        Tokenwise(**SMALL, positions=True, norm="rmsnorm", activation="relu", residual_scale="1/sqrt(L)"),
        Mixer(**SMALL, token_hidden=5, positions=True, norm="none", activation="tanh", residual_scale=0.5),
        Windowed(**SMALL, radius=2, norm="rmsnorm", init_scale=2.0, residual_scale="1/L"),
        Transformer(
            **SMALL,
            heads=3,
            head_width=2,
            positions="learned",
            attention="window:1",
            norm="rmsnorm",
            activation="tanh",
            residual_scale=0.5,
        ),
    ]


def one_of_each() -> list[ArchitectureConfig]:
    return configs()[:4]


# Tests compile many small programs: skip XLA's backend optimisations (seconds each on 2 cores).
FAST = {"xla_backend_optimization_level": 0}


def jit(fun, **kwargs):
    return jax.jit(fun, compiler_options=FAST, **kwargs)


@functools.lru_cache(maxsize=None)
def trained_like(cfg: ArchitectureConfig, seed: int = 0):
    """A network with random values in every parameter (biases, gains and zero-initialised
    positions included), built and perturbed in one compiled program and cached across tests."""

    def make(key):
        k_build, k_noise = jax.random.split(key)
        leaves, treedef = jax.tree_util.tree_flatten(cfg.network(V, T, key=k_build))
        keys = jax.random.split(k_noise, len(leaves))
        leaves = [x + 0.3 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)]
        return jax.tree_util.tree_unflatten(treedef, leaves)

    return jit(make)(jax.random.key(seed))


RNG = np.random.default_rng(0)  # test inputs from numpy: no compile per shape


def symbols(*shape, high=V + 1):
    return jnp.asarray(RNG.integers(0, high, shape), jnp.int32)


def random_batch(n, *, vocab=V, length=T):
    tokens = symbols(n, length, high=vocab)
    scored = jnp.asarray(RNG.random((n, length)) < 0.4)
    inputs = jnp.where(scored, symbols(n, length, high=vocab + 1), tokens)
    return tokens, inputs, scored


def test_registered_kinds():
    assert {"tokenwise", "mixer", "windowed", "transformer"} <= set(ARCHITECTURES)
    cfg = ARCHITECTURES.parse({"kind": "mixer", "depth": 8, "token_hidden": 32})
    assert isinstance(cfg, Mixer)
    assert cfg.depth == 8
    assert cfg.token_hidden == 32
    with pytest.raises(pydantic.ValidationError, match=r"widht\n  Extra inputs are not permitted"):
        ARCHITECTURES.parse({"kind": "tokenwise", "widht": 64})
    with pytest.raises(pydantic.ValidationError, match=r"activation\n  Input should be 'gelu', 'relu' or 'tanh'"):
        ARCHITECTURES.parse({"kind": "windowed", "activation": "swish"})


def test_seed_config_defaults():
    cfg = Tokenwise()
    assert (cfg.depth, cfg.width, cfg.hidden, cfg.activation, cfg.norm, cfg.positions) == (6, 64, 256, "gelu", "layernorm", False)
    assert Tokenwise(depth=16, residual_scale="1/sqrt(L)").alpha == pytest.approx(0.25)
    assert Tokenwise(depth=8, residual_scale="1/L").alpha == pytest.approx(0.125)
    assert Tokenwise(residual_scale=0.3).alpha == pytest.approx(0.3)
    assert Mixer().token_hidden_for(16) == 64


@jit
def run(model, inputs, batch):
    """One program per network for the shape and locality tests: the call on one sequence, and
    the batch forward with and without the stream."""
    return model(inputs), model.apply(batch, collect=True), model.apply(batch, collect=False)


@pytest.mark.parametrize("cfg", configs(), ids=lambda c: f"{c.kind}-{c.norm}-{c.activation}")
def test_stream_shapes(cfg):
    model = trained_like(cfg)
    inputs, batch = symbols(T), symbols(3, T)
    (stream, logits), (bstream, blogits), (_, blogits2) = run(model, inputs, batch)
    assert stream.shape == (cfg.depth + 1, T, cfg.width)
    assert stream.dtype == jnp.float32
    assert logits.shape == (T, V)
    assert bstream.shape == (3, cfg.depth + 1, T, cfg.width)
    assert blogits.shape == (3, T, V)
    np.testing.assert_allclose(blogits2, blogits, rtol=1e-6, atol=1e-6)
    # Layer 0 is the embedding output.
    expected0 = model.embedding.tokens[inputs]
    if model.embedding.positions is not None:
        expected0 = expected0 + model.embedding.positions
    if isinstance(model, TransformerNet) and model.positions == "sinusoidal":  # a fixed table, not a parameter
        expected0 = expected0 + sinusoidal_positions(T, cfg.width)
    np.testing.assert_array_equal(stream[0], expected0)
    # The call on one sequence is the batch forward's row.
    (one_stream, one_logits), (bstream, blogits), _ = run(model, batch[1], batch)
    np.testing.assert_allclose(one_stream, bstream[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(one_logits, blogits[1], rtol=1e-5, atol=1e-5)


def test_tokenwise_is_exactly_local_and_the_others_are_not():
    a, b = symbols(T), symbols(T)
    t = 5
    b = b.at[t].set(a[t])
    assert bool(jnp.any(a != b))
    batch = symbols(3, T)
    for cfg in one_of_each():
        model = trained_like(cfg)
        (sa, la), _, _ = run(model, a, batch)
        (sb, lb), _, _ = run(model, b, batch)
        if cfg.kind == "tokenwise":
            np.testing.assert_array_equal(sa[:, t], sb[:, t])
            np.testing.assert_array_equal(la[t], lb[t])
        else:
            assert not np.allclose(la[t], lb[t]), cfg


def test_windowed_receptive_field():
    """Depth L, radius k: position t reads t − Lk … t + Lk and nothing else."""
    cfg = one_of_each()[2]
    assert cfg.kind == "windowed"
    assert cfg.depth * cfg.radius == 3
    model = trained_like(cfg)
    base = symbols(T, high=V)
    t = 6
    batch = symbols(3, T)
    (_, ref), _, _ = run(model, base, batch)
    for j in range(T):
        (_, out), _, _ = run(model, base.at[j].set((base[j] + 1) % V), batch)
        if abs(j - t) <= 3:
            assert not np.allclose(out[t], ref[t]), j
        else:
            np.testing.assert_array_equal(out[t], ref[t])


@pytest.mark.parametrize("cfg", one_of_each(), ids=lambda c: c.kind)
def test_same_key_same_parameters_bitwise(cfg):
    one = cfg.build(V, T, key=jax.random.key(7))
    two = cfg.build(V, T, key=jax.random.key(7))
    other = cfg.build(V, T, key=jax.random.key(8))
    leaves1, leaves2 = jax.tree_util.tree_leaves(one), jax.tree_util.tree_leaves(two)
    assert len(leaves1) == len(leaves2)
    for x, y in zip(leaves1, leaves2):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(leaves1, jax.tree_util.tree_leaves(other)))


@pytest.mark.parametrize("positions", [False, True])
def test_tokenwise_symbol_table_objective_equals_per_token(positions):
    cfg = Tokenwise(**SMALL, positions=positions)
    model = trained_like(cfg)
    tokens, inputs, scored = random_batch(9)

    def fast(m):
        total, count = m.masked_ce_sum(tokens, inputs, scored)
        return total / count

    def plain(m):
        total, count = per_token_ce_sum(m, tokens, inputs, scored)
        return total / count

    (loss_fast, g_fast), (loss_plain, g_plain) = jit(lambda m: (jax.value_and_grad(fast)(m), jax.value_and_grad(plain)(m)))(model)
    np.testing.assert_allclose(loss_fast, loss_plain, rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(g_fast), jax.tree_util.tree_leaves(g_plain)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
    # The count table holds exactly the scored positions.
    counts = model.batch_statistics(tokens, inputs, scored)
    assert counts.shape == (T if positions else 1, V + 1, V)
    assert float(counts.sum()) == float(scored.sum())


def test_tokenwise_symbol_table_is_the_stream():
    cfg = Tokenwise(**SMALL, positions=True)
    model = trained_like(cfg)
    inputs = symbols(T)
    (stream, logits), table_and_logits = jit(lambda m, x: (m(x), m.symbol_table()))(model, inputs)
    table, table_logits = table_and_logits
    rows = table[jnp.arange(T), inputs]  # (T, layer, width)
    np.testing.assert_allclose(jnp.swapaxes(rows, 0, 1), stream, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(table_logits[jnp.arange(T), inputs], logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cfg", one_of_each(), ids=lambda c: c.kind)
def test_unrolled_training_layout_matches_scan(cfg):
    model = trained_like(cfg)
    unrolled = unstack_blocks(model)
    assert isinstance(unrolled.blocks, tuple)
    assert len(unrolled.blocks) == cfg.depth
    batch = symbols(4, T)
    (s1, l1), (s2, l2) = jit(lambda a, b: (a.apply(batch, collect=True), b.apply(batch, collect=True)))(model, unrolled)
    np.testing.assert_allclose(s1, s2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(l1, l2, rtol=1e-5, atol=1e-5)
    back = stack_blocks(unrolled)
    for x, y in zip(jax.tree_util.tree_leaves(model), jax.tree_util.tree_leaves(back)):
        np.testing.assert_array_equal(x, y)


class _Dense(eqx.Module):
    w: jax.Array


@pytest.mark.parametrize("layout", ["stacked", "per-layer"])
@pytest.mark.parametrize("remat", [False, True])
def test_scan_blocks_runs_the_blocks_in_order(layout, remat):
    # h ← h + tanh(h W_ℓ) for ℓ = 0, 1, 2, against the same loop written out; the gradient too
    # (with remat the backward pass recomputes each block instead of storing its activations).
    w = jnp.asarray(RNG.standard_normal((3, 4, 4)) / 2, jnp.float32)
    h0 = jnp.asarray(RNG.standard_normal((5, 4)), jnp.float32)

    def reference(w):
        h, hs = h0, []
        for layer in w:
            h = h + jnp.tanh(h @ layer)
            hs.append(h)
        return h, jnp.stack(hs)

    def run(w):
        blocks = _Dense(w) if layout == "stacked" else tuple(_Dense(layer) for layer in w)
        return scan_blocks(lambda block, h: h + jnp.tanh(h @ block.w), h0, blocks, collect=True, remat=remat)

    (h, hs), (h_ref, hs_ref) = run(w), reference(w)
    np.testing.assert_allclose(h, h_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hs, hs_ref, rtol=1e-6, atol=1e-6)
    grad, grad_ref = (jax.grad(lambda w, f=f: jnp.sum(f(w)[0] ** 2))(w) for f in (run, reference))
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rows", [7, 300])
def test_ops_match_textbook_formulas(rows):
    x, weights = (jnp.asarray(RNG.standard_normal((rows, 16)), jnp.float32) for _ in range(2))
    gain, bias = (jnp.asarray(RNG.standard_normal(16), jnp.float32) for _ in range(2))
    w = jnp.asarray(RNG.standard_normal((16, 5)), jnp.float32)

    def ln_ref(x, g, b):
        c = x - x.mean(-1, keepdims=True)
        return c / jnp.sqrt((c * c).mean(-1, keepdims=True) + _ops.NORM_EPS) * g[None] + b[None]

    def rms_ref(x, g, b):
        return x / jnp.sqrt((x * x).mean(-1, keepdims=True) + _ops.NORM_EPS) * g[None] + 0 * b[None]

    cases = [
        (lambda x, g, b: _ops.layernorm(x, g, b), ln_ref),
        (lambda x, g, b: _ops.rmsnorm(x, g) + 0 * b[None], rms_ref),
        (lambda x, g, b: _ops.along_last(x, g, b), lambda x, g, b: x * g[None] + b[None]),
        (lambda x, g, b: _ops.dense(x, w) @ w.T * g[None], lambda x, g, b: (x @ w) @ w.T * g[None]),
        (lambda x, g, b: _ops.add_rows(x.T, b).T, lambda x, g, b: x + b[None]),
    ]

    @jit
    def values_and_grads(x, gain, bias):
        out = []
        for fast, ref in cases:
            for f in (fast, ref):

                def loss(*a, f=f):
                    return jnp.sum(f(*a) * weights)

                out.append((f(x, gain, bias), jax.grad(loss, argnums=(0, 1, 2))(x, gain, bias)))
        return out

    results = values_and_grads(x, gain, bias)
    for (fast_value, fast_grads), (ref_value, ref_grads) in zip(results[::2], results[1::2]):
        np.testing.assert_allclose(fast_value, ref_value, rtol=1e-5, atol=1e-5)
        for a, b in zip(fast_grads, ref_grads):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_gelu_is_exact_gelu():
    x = np.linspace(-9, 9, 20001).astype(np.float32)
    xe = x.astype(np.float64)
    exact = 0.5 * xe * (1 + scipy.special.erf(xe / math.sqrt(2)))
    slope = 0.5 * (1 + scipy.special.erf(xe / math.sqrt(2))) + xe * np.exp(-xe * xe / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(jax.jit(_ops.gelu)(jnp.asarray(x)), exact, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.grad(_ops.gelu)))(jnp.asarray(x)), slope, rtol=1e-6, atol=1e-6)
    # XLA's erfc-based GELU, for comparison, is also within 1e-6.
    np.testing.assert_allclose(jax.nn.gelu(jnp.asarray(x), approximate=False), exact, rtol=0, atol=1e-6)


def test_nets_are_the_registered_classes():
    assert isinstance(Tokenwise(**SMALL).build(V, T, key=jax.random.key(0)), TokenwiseNet)
    assert isinstance(Mixer(**SMALL).build(V, T, key=jax.random.key(0)), MixerNet)
    assert isinstance(Windowed(**SMALL).build(V, T, key=jax.random.key(0)), WindowedNet)
    assert isinstance(Transformer(**SMALL).build(V, T, key=jax.random.key(0)), TransformerNet)


@pytest.mark.parametrize("batch", [3, 40])  # 15 and 320 rows of batch·width: both paths of `dense`
def test_token_mixing_matches_the_textbook_formula(batch):
    """The token MLP (custom backward passes, position-major layout) against the plain formula
    out[t, b, :] = Σ_j W₂[j, t] σ(Σ_s W₁[s, j] LN(h)[s, b, :] + b₁[j]) + b₂[t], values and gradients."""
    from rgbench.models._mixer import TokenMLP

    t, d, th = 5, 8, 7
    keys = jax.random.split(jax.random.key(3), 4)
    mlp = TokenMLP("layernorm", d, t, th, 1.0, key=keys[0])
    mlp = eqx.tree_at(
        lambda m: (m.b1, m.b2, m.norm.gain, m.norm.bias),
        mlp,
        tuple(jax.random.normal(k, s) for k, s in zip(jax.random.split(keys[1], 4), [(th,), (t,), (d,), (d,)])),
    )
    h = jax.random.normal(keys[2], (t, batch, d))
    weights = jax.random.normal(keys[3], (t, batch, d))

    def reference(mlp, h):
        mu = h.mean(-1, keepdims=True)
        var = ((h - mu) ** 2).mean(-1, keepdims=True)
        u = (h - mu) / jnp.sqrt(var + _ops.NORM_EPS) * mlp.norm.gain[None, None] + mlp.norm.bias[None, None]
        z = jax.nn.gelu(jnp.einsum("sbd,sj->jbd", u, mlp.w1) + mlp.b1[:, None, None], approximate=False)
        return jnp.einsum("jbd,jt->tbd", z, mlp.w2) + mlp.b2[:, None, None]

    def fast(mlp, h):
        return mlp("layernorm", "gelu", h)

    @jit
    def both(mlp, h):
        out = []
        for f in (fast, reference):

            def loss(m, x, f=f):
                return jnp.sum(f(m, x) * weights)

            out.append((f(mlp, h), jax.grad(loss, argnums=(0, 1))(mlp, h)))
        return out

    (value, grads), (ref_value, ref_grads) = both(mlp, h)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5, atol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(ref_grads)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
