"""Input families: config validation, runtime contract, exact spectra, π and autocorrelation."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pydantic import ValidationError
from scipy.special import betaln

from rgbench.inputs import (
    IID,
    AbstractInput,
    BetaSticky,
    Block,
    ClusterHMM,
    Cyclic,
    InputConfig,
    Masking,
    Shuffle,
    Spectral,
    Sticky,
)
from rgbench.registry import INPUTS, describe, parameters

PI8 = tuple((np.arange(8) + 2) / (np.arange(8) + 2).sum())
KINDS = {"sticky", "iid", "spectral", "block", "cyclic", "cluster_hmm", "beta_sticky", "shuffle"}


# --- configs ---------------------------------------------------------------------------------------
def test_registry_lists_every_family_with_descriptions():
    assert KINDS <= set(INPUTS)
    for kind, cls in INPUTS.items():
        assert issubclass(cls, InputConfig)
        assert describe(cls), f"{kind} has no one-line description"
        for p in parameters(cls):
            assert p.description, f"{kind}.{p.name} has no description"
        cls()  # every parameter has a valid default


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_config_round_trips_through_dump(kind):
    cfg = INPUTS.parse({"kind": kind})
    again = INPUTS.parse(cfg.model_dump(mode="json"))
    assert again == cfg
    assert hash(again) == hash(cfg)


def test_sticky_xi_or_lambda2():
    assert Sticky().xi == 1.2
    assert math.isclose(Sticky(xi=6.7).alpha, 0.8614, abs_tol=1e-4)
    assert math.isclose(Sticky(xi=1.0).alpha, 0.3679, abs_tol=1e-4)
    assert Sticky(lambda2=-0.05).alpha == -0.05
    with pytest.raises(ValidationError, match="not both"):
        Sticky(xi=1.2, lambda2=0.4)
    with pytest.raises(ValidationError, match="greater than 0"):
        Sticky(xi=-1.0)
    with pytest.raises(ValidationError, match=r"\[-0.0666667, 1\)"):
        Sticky(lambda2=-0.5)


@pytest.mark.parametrize(
    "pi, match",
    [((0.5, 0.5), "vocab = 16 entries; got 2"), ((0.0,) + (1 / 15,) * 15, "> 0; got 0.0"), ((0.1,) * 16, "sum 1.6")],
)
def test_pi_is_checked(pi, match):
    with pytest.raises(ValidationError, match=match):
        Sticky(pi=pi)


def test_family_specific_validation():
    with pytest.raises(ValidationError, match="would have a negative transition entry"):
        Spectral(spectrum=(0.9,))
    with pytest.raises(ValidationError, match="at most vocab − 1 = 3"):
        Spectral(vocab=4, spectrum=(0.1, 0.1, 0.1, 0.1))
    with pytest.raises(ValidationError, match=r"\|λ\| < 1"):
        Spectral(spectrum=(1.0,))
    with pytest.raises(ValidationError, match="must divide vocab = 16"):
        Block(blocks=3)
    with pytest.raises(ValidationError, match="lower xi_fast or raise xi_slow"):
        Block(xi_fast=20.0, xi_slow=1.0)
    with pytest.raises(ValidationError, match="must divide vocab = 16"):
        ClusterHMM(clusters=5)
    with pytest.raises(ValidationError, match="length ≥ 3; got length 2"):
        Sticky(length=2, masking=Masking(scheme="single"))
    with pytest.raises(ValidationError, match="greater than 0"):
        BetaSticky(b=0.0)


def test_shuffle_config():
    cfg = INPUTS.parse({"kind": "shuffle", "of": {"kind": "sticky", "xi": 6.7}, "length": 16})
    assert cfg.of.xi == 6.7
    assert cfg.of.length == 16
    assert INPUTS.parse({"kind": "shuffle", "of": {"kind": "iid", "vocab": 8}}).vocab == 8
    assert cfg.model_dump()["of"]["xi"] == 6.7  # the inner family serializes whole
    with pytest.raises(ValidationError, match="did you mean 'sticky'"):
        INPUTS.parse({"kind": "shuffle", "of": {"kind": "stiky"}})
    with pytest.raises(ValidationError, match="differs from its `of` vocab = 8"):
        INPUTS.parse({"kind": "shuffle", "vocab": 16, "of": {"kind": "sticky", "vocab": 8}})
    with pytest.raises(ValidationError, match="of.xi"):
        INPUTS.parse({"kind": "shuffle", "of": {"kind": "sticky", "xi": -1}})


# --- runtime contract ------------------------------------------------------------------------------
CONFIGS = {
    "sticky": Sticky(vocab=8, length=16, xi=2.0, pi=PI8),
    "sticky_neg": Sticky(vocab=8, length=16, lambda2=-0.04, pi=PI8),
    "iid": IID(vocab=8, length=16, pi=PI8),
    "spectral": Spectral(vocab=8, length=16, spectrum=(0.25, -0.1, 0.05), pi=PI8),
    "block": Block(vocab=8, length=16, blocks=2, xi_fast=0.8, xi_slow=4.0),
    "cyclic": Cyclic(vocab=5, length=16, xi=3.0),
    "cluster_hmm": ClusterHMM(vocab=8, length=16, clusters=4, xi=3.0),
    "beta_sticky": BetaSticky(vocab=8, length=16, a=3.0, b=0.7, pi=PI8),
    "shuffle": Shuffle(vocab=8, length=16, of=Sticky(vocab=8, length=16, xi=4.0, pi=PI8)),
}


N_EMPIRICAL = 100_000


@pytest.fixture(scope="module")
def built():
    return {name: cfg.build() for name, cfg in CONFIGS.items()}


# The module passes through jit as a pytree: families of one runtime class and shape share one
# compile (compiles, not sampling, dominate these tests' time).
_sample = jax.jit(lambda inp, key, n: inp.sample(key, n), static_argnums=2)


@pytest.fixture(scope="module")
def samples(built):
    """10⁵ sequences per family."""
    return {name: np.asarray(_sample(inp, jax.random.key(1234), N_EMPIRICAL)) for name, inp in built.items()}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_sample_contract(name, built, samples):
    inp = built[name]
    assert isinstance(inp, AbstractInput)
    assert (inp.vocab, inp.length, inp.mask_id) == (CONFIGS[name].vocab, 16, CONFIGS[name].vocab)
    x = samples[name]
    assert x.shape == (N_EMPIRICAL, 16)
    assert x.dtype == np.int32
    assert int(x.min()) >= 0
    assert int(x.max()) < inp.vocab
    assert np.array_equal(_sample(inp, jax.random.key(1234), N_EMPIRICAL), x), "not deterministic for a key"
    assert not np.array_equal(_sample(inp, jax.random.key(1), N_EMPIRICAL)[:100], x[:100])


@pytest.mark.parametrize("name", ["sticky", "shuffle"])  # beta: its Gamma sampler compiles slowly
def test_sample_vmaps_over_keys_and_jits_as_bound_method(name, built, samples):
    inp = built[name]
    keys = jax.random.split(jax.random.key(1234), 4)
    xs = jax.jit(jax.vmap(lambda k: inp.sample(k, 3)))(keys)
    assert xs.shape == (4, 3, 16)
    assert xs.dtype == jnp.int32
    if name == "sticky":  # jit of the bound method with n static, the form training code uses
        x = jax.jit(inp.sample, static_argnums=1)(jax.random.key(1234), N_EMPIRICAL)
        assert np.array_equal(x, samples[name])


def test_corrupt_mask_and_single(getkey):
    cfg = Sticky(length=12, masking=Masking(scheme="mask", rate=0.3))
    inp = cfg.build()
    x = jnp.asarray(np.random.default_rng(0).integers(0, 16, (4000, 12)), jnp.int32)  # corrupt ignores the law
    tokens, scored = jax.jit(inp.corrupt)(getkey(), x)
    assert scored.dtype == jnp.bool_
    assert tokens.dtype == jnp.int32
    assert tokens.shape == x.shape
    assert np.all(np.where(scored, tokens == 16, tokens == x))
    assert abs(float(scored.mean()) - 0.3) < 4 * math.sqrt(0.3 * 0.7 / scored.size)
    single = cfg.model_copy(update={"masking": Masking(scheme="single")}).build()
    corrupt = jax.jit(jax.vmap(single.corrupt))
    tokens, scored = corrupt(jax.random.split(getkey(), 2), jnp.stack([x, x]))
    assert tokens.shape == (2, 4000, 12)
    tokens, scored = np.asarray(tokens[0]), np.asarray(scored[0])
    assert np.all(scored.sum(1) == 1)
    assert not scored[:, 0].any()
    assert not scored[:, -1].any()
    assert set(np.argmax(scored, 1)) == set(range(1, 11))
    assert np.all(np.where(scored, tokens == 16, tokens == x))


def test_corrupt_bert_80_10_10(getkey):
    inp = Sticky(vocab=4, length=50).build()  # bert 0.15 by default
    x = jnp.asarray(np.random.default_rng(1).integers(0, 4, (4000, 50)), jnp.int32)
    tokens, scored = jax.jit(inp.corrupt)(getkey(), x)
    x, tokens, scored = np.asarray(x), np.asarray(tokens), np.asarray(scored)
    assert np.array_equal(tokens[~scored], x[~scored])
    n = scored.sum()
    assert abs(n / scored.size - 0.15) < 4 * math.sqrt(0.15 * 0.85 / scored.size)
    o, t = tokens[scored], x[scored]
    # P([MASK]) = 0.8, P(o = x) = 0.1 + 0.1/V, P(o = some other token) = 0.1 (V−1)/V
    for frac, p in [((o == 4).mean(), 0.8), ((o == t).mean(), 0.1 + 0.1 / 4), (((o != 4) & (o != t)).mean(), 0.075)]:
        assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / n), (frac, p)


# --- exact facts -----------------------------------------------------------------------------------
def _alpha(xi):
    return math.exp(-1 / xi)


def _expected_spectrum(name):
    V = CONFIGS[name].vocab
    if name == "sticky":
        return [1] + [_alpha(2.0)] * (V - 1)
    if name == "sticky_neg":
        return [1] + [-0.04] * (V - 1)
    if name == "iid":
        return [1] + [0] * (V - 1)
    if name == "spectral":
        return [1, 0.25, -0.1, 0.05] + [0] * (V - 4)
    if name == "block":
        return [1] + [_alpha(4.0)] * 1 + [_alpha(0.8)] * (V - 2)
    if name == "cyclic":
        return [_alpha(3.0) ** (k > 0) * np.exp(2j * np.pi * k / V) for k in range(V)]
    if name == "cluster_hmm":
        return [1] + [_alpha(3.0)] * 3 + [0] * (V - 4)
    if name == "beta_sticky":
        return [1] + [3.0 / 3.7] * (V - 1)
    if name == "shuffle":
        T = 16
        lam = 2 / (T * (T - 1)) * sum((T - d) * _alpha(4.0) ** d for d in range(1, T))
        return [1] + [lam] * (V - 1)


def _multiset_close(a, b, tol=1e-9):
    a, b = list(np.asarray(a, complex)), list(np.asarray(b, complex))
    for z in a:
        i = int(np.argmin([abs(z - w) for w in b]))
        if abs(z - b[i]) > tol:
            return False
        b.pop(i)
    return not b


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_spectrum_and_stationary(name, built):
    inp = built[name]
    ev = inp.eigenvalues()
    assert ev.dtype == np.complex128
    assert ev.shape == (inp.vocab,)
    assert abs(ev[0] - 1) < 1e-12
    assert np.all(np.diff(np.abs(ev)) <= 1e-12), "not sorted by |λ| descending"
    assert _multiset_close(ev, _expected_spectrum(name)), ev
    pi = inp.stationary()
    assert pi.dtype == np.float64
    assert abs(pi.sum() - 1) < 1e-12
    cfg = CONFIGS[name]
    want = np.asarray(getattr(cfg, "pi", None) or getattr(getattr(cfg, "of", None), "pi", None) or [1 / inp.vocab] * inp.vocab)
    np.testing.assert_allclose(pi, want, atol=1e-14)
    if hasattr(inp, "transition"):
        np.testing.assert_allclose(pi @ inp.transition, pi, atol=1e-13)
    lam2 = abs(ev[1])
    assert inp.xi == (0.0 if lam2 < 1e-12 else pytest.approx(-1 / math.log(lam2)))


def test_xi_round_trips():
    for xi in (1.0, 1.2, 6.7, 7.0):
        assert Sticky(xi=xi).build().xi == pytest.approx(xi, rel=1e-12)
        assert Cyclic(xi=xi).build().xi == pytest.approx(xi, rel=1e-9)
    assert IID().build().xi == 0.0


def _closed_form_C(name):
    cfg = CONFIGS[name]
    T, V = 16, cfg.vocab
    r = np.arange(T)
    var = 1 - float(np.sum(np.asarray(PI8) ** 2))
    if name == "sticky":
        return _alpha(2.0) ** r * var
    if name == "sticky_neg":
        return (-0.04) ** r * var
    if name == "iid":
        return np.where(r == 0, var, 0.0)
    if name == "block":
        m, a, s = 2, _alpha(0.8), _alpha(4.0)
        return a**r * (1 - m / V) + s**r * (m - 1) / V
    if name == "cyclic":
        return _alpha(3.0) ** r * ((r % V == 0) - 1 / V)
    if name == "cluster_hmm":
        return np.where(r == 0, 1 - 1 / V, _alpha(3.0) ** r * 3 / V)
    if name == "beta_sticky":
        return var * np.exp(betaln(3.0 + r, 0.7) - betaln(3.0, 0.7))
    if name == "shuffle":
        c = _alpha(4.0) ** r * var
        pair = 2 / (T * (T - 1)) * sum((T - d) * c[d] for d in range(1, T))
        return np.where(r == 0, var, pair)
    return None


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_autocorrelation_closed_form(name, built):
    C = built[name].autocorrelation()
    assert C.dtype == np.float64
    assert C.shape == (16,)
    want = _closed_form_C(name)
    if want is not None:
        np.testing.assert_allclose(C, want, atol=1e-12)
    # C(r) agrees with the lag joints: Σ_a J_r[a, a] − Σ π²
    pi = built[name].stationary()
    for r in (0, 1, 5):
        assert C[r] == pytest.approx(np.trace(built[name].lag_joint(r)) - pi @ pi, abs=1e-12)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_empirical_autocorrelation_and_marginal(name, built, samples):
    """C(r) and π from 10⁵ sampled sequences agree with the exact values within 4 standard errors."""
    inp = built[name]
    x, n = samples[name], N_EMPIRICAL
    pi = inp.stationary()
    C = inp.autocorrelation()
    for r in range(inp.length):
        per_seq = (x[:, : inp.length - r] == x[:, r:]).mean(1)
        est, se = per_seq.mean() - pi @ pi, per_seq.std(ddof=1) / math.sqrt(n)
        assert abs(est - C[r]) <= 4 * se + 1e-12, (r, est, C[r], se)
    onehot = (x[:, :, None] == np.arange(inp.vocab)).mean(1)  # per-sequence token frequencies
    se = onehot.std(0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(onehot.mean(0) - pi) <= 4 * se), (onehot.mean(0), pi)


@pytest.mark.parametrize("xi", [1.2, 6.7])
def test_count_variance_factor_closed_form_for_the_sticky_chain(xi):
    # π-matched sticky chain: P(x_t = a, x_{t+r} = a) − π_a² = π_a(1 − π_a) λ^r, λ = e^(−1/ξ)
    T, p, V = 64, 0.15, 16
    lam, pi, r = math.exp(-1 / xi), 1 / V, np.arange(1, T)
    var_n = T * pi * (1 - pi) * (1 + 2 * np.sum((1 - r / T) * lam**r))
    expected = (p * (1 - p) * T * pi + p**2 * var_n) / (p * (1 - p) * T * pi + p**2 * T * pi * (1 - pi))
    got = Sticky(vocab=V, length=T, xi=xi).build().count_variance_factor()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[0] == pytest.approx({1.2: 1.2122, 6.7: 2.5650}[xi], abs=1e-4)  # the values suites/noise.yaml uses
    np.testing.assert_allclose(IID(vocab=V, length=T).build().count_variance_factor(), 1.0)
    assert Sticky(vocab=V, length=T, xi=xi, masking={"scheme": "single"}).build().count_variance_factor()[0] == 1.0


def test_count_variance_factor_against_sampled_sequences(getkey):
    # Var of the per-sequence count of scored targets equal to a, sampled through sample → corrupt
    inp = Sticky(vocab=4, length=16, xi=3.0, masking={"scheme": "bert", "rate": 0.3}).build()
    n = 40_000
    x = _sample(inp, getkey(), n)
    _, scored = jax.jit(inp.corrupt)(getkey(), x)
    x, scored = np.asarray(x), np.asarray(scored)
    counts = np.stack([((x == a) & scored).sum(axis=1) for a in range(4)], axis=1)
    iid_var = 0.3 * 0.7 * 16 * 0.25 + 0.09 * 16 * 0.25 * 0.75
    sampled = counts.var(axis=0, ddof=1) / iid_var
    # the sample variance of n draws has relative SE ≈ √(2/n)·(kurtosis factor) ≲ 2 %
    np.testing.assert_allclose(sampled, inp.count_variance_factor(), rtol=0.05)
    assert inp.count_variance_factor()[0] > 1.5  # correlated: clearly above the i.i.d. value
