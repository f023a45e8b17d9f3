"""Theory values (rgbench.theory): each formula against an independent closed form or brute force,
the theory observables on tiny networks, and the suite/scoring plumbing of `{theory: NAME}`."""

from __future__ import annotations

import itertools
import json
import math
from types import SimpleNamespace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from scipy import integrate, stats

from rgbench import theory as T
from rgbench._theory_measure import _stream_statistics, theory_variables
from rgbench.inputs import Block, Sticky
from rgbench.models import Plain
from rgbench.observables import effective_rank
from rgbench.registry import OBSERVABLES, TESTS
from rgbench.score import Verdict, evaluate_prediction
from rgbench.suite import SuiteError, load_suite

# ---------------------------------------------------------------------------------------------
# Formulas against independent computations


@pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.4, 0.95])
def test_arccos_kernel_against_quadrature(rho):
    """E[relu(u) relu(v)] = f(ρ)/(2π) for unit Gaussians: inner expectation in closed form, outer by quadrature."""
    s = math.sqrt(1 - rho * rho)

    def integrand(z):  # relu(z)·E[relu(ρz + s·Z)], E[relu(a + sZ)] = aΦ(a/s) + sφ(a/s)
        a = rho * z
        return stats.norm.pdf(z) * z * (a * stats.norm.cdf(a / s) + s * stats.norm.pdf(a / s))

    value, _ = integrate.quad(integrand, 0, np.inf, epsabs=1e-13)
    assert T.arccos_f(rho) / (2 * np.pi) == pytest.approx(value, abs=1e-10)


def test_correlation_maps_fixed_points_and_limits():
    assert T.relu_correlation_map(1.0) == pytest.approx(1.0)
    assert T.relu_correlation_map(0.0) == pytest.approx(1 / np.pi)
    assert T.residual_correlation_map(0.3, 0.0) == pytest.approx(0.3)  # no branch: identity
    rho = T.iterate_correlation(np.array([0.0, 0.5]), 6400, lambda p: T.residual_correlation_map(p, 1.0))
    assert rho.shape == (6401, 2)
    assert np.all(np.diff(rho, axis=0) >= 0)
    # Collapse at α = 1: f/π = ρ + (2√2/3π)ε^{3/2} + …, ε = 1 − ρ, so ε_ℓ ℓ² → 4/k², k = (r/(1+r))·2√2/(3π).
    k = 0.5 * 2 * math.sqrt(2) / (3 * math.pi)
    assert (1 - rho[-1]) * 6400**2 == pytest.approx(np.full(2, 4 / k**2), rel=0.01)


def test_ode_against_scipy_and_recursion_converges_at_rate_one_over_depth():
    c, rho0 = 1.0, np.array([0.0, 0.6])
    ours = T.ode_correlation(rho0, c, np.array([0.5, 1.0]))
    for i, r0 in enumerate(rho0):
        ref = integrate.solve_ivp(
            lambda t, y: c * (T.relu_correlation_map(y) - y), (0, 1), [r0], t_eval=[0.5, 1.0], rtol=1e-12, atol=1e-13
        ).y[0]
        assert ours[:, i] == pytest.approx(ref, abs=1e-9)
    gaps = []
    for depth in (64, 256):
        rec = T.iterate_correlation(rho0, depth, lambda p, r=c / depth: T.residual_correlation_map(p, r))[-1]
        gaps.append(np.abs(rec - ours[-1]))
    assert np.all(gaps[1] < gaps[0])
    assert gaps[0] / gaps[1] == pytest.approx(np.full(2, 4.0), rel=0.05)


def _relu_layer_moments(n: int, p: int) -> float:
    """E[(2Y/n)^p], Y = Σ_k relu(g_k)², g ~ N(0, I_n): Y | K ~ χ²_K with K ~ Binomial(n, ½)."""
    k = np.arange(n + 1)
    m = np.ones(n + 1)
    for j in range(p):
        m = m * (k + 2 * j)
    return float((stats.binom.pmf(k, n, 0.5) * m).sum() * (2 / n) ** p)


@pytest.mark.parametrize("n", [4, 16, 64])
def test_fourth_moment_against_exact_layer_factorisation(n):
    """‖h_ℓ‖² = (‖h₀‖²)·Π(2Y_ℓ/n) with independent factors, so the ratio is E[(χ²_n/n)²]·E[(2Y/n)²]^ℓ."""
    layers = np.arange(5)
    exact = (1 + 2 / n) * np.array([_relu_layer_moments(n, 2) ** ell for ell in layers])
    assert T.fourth_moment_ratio(n, layers) == pytest.approx(exact, rel=1e-12)


def test_fourth_moment_against_monte_carlo():
    """Brute force at n = 6, two ReLU layers: Gaussian first layer, then W ~ N(0, 2/n)."""
    rng = np.random.default_rng(0)
    n, draws = 6, 400_000
    h = rng.standard_normal((draws, n))
    for _ in range(2):
        w = rng.standard_normal((draws, n, n)) * math.sqrt(2 / n)
        h = np.einsum("bij,bj->bi", w, np.maximum(h, 0))
    q = (h * h).sum(1)
    estimate = (q**2).mean() / q.mean() ** 2
    assert estimate == pytest.approx(T.fourth_moment_ratio(n, 2), rel=0.04)


def test_pooled_covariance_against_exact_enumeration():
    """V = 3, T = 3: the covariance of the pooled one-hot histogram over all 27 sequences, reversible and not."""
    rng = np.random.default_rng(1)
    V, length = 3, 3
    for reversible in (True, False):
        P = rng.random((V, V)) + 0.2
        if reversible:
            P = P + P.T
        P = P / P.sum(1, keepdims=True)
        evals, evecs = np.linalg.eig(P.T)
        pi = np.real(evecs[:, np.argmin(np.abs(evals - 1))])
        pi = pi / pi.sum()
        mean, second = np.zeros(V), np.zeros((V, V))
        for seq in itertools.product(range(V), repeat=length):
            prob = pi[seq[0]] * np.prod([P[a, b] for a, b in itertools.pairwise(seq)])
            hist = np.bincount(seq, minlength=V) / length
            mean += prob * hist
            second += prob * np.outer(hist, hist)
        exact = second - np.outer(mean, mean)

        def lag_joint(r, pi=pi, P=P):
            return pi[:, None] * np.linalg.matrix_power(P, r)

        assert T.pooled_covariance(lag_joint, pi, length) == pytest.approx(exact, abs=1e-14)


def test_pooled_rank_sticky_is_v_minus_one_and_block_is_lower():
    for xi in (1.2, 6.7):
        data = Sticky(vocab=16, length=64, xi=xi).build()
        cov = T.pooled_covariance(data.lag_joint, data.stationary(), data.length)
        assert T.effective_rank_of_covariance(cov) == pytest.approx(15.0, abs=1e-9)
    ranks = []
    for xi_slow in (3.0, 6.7, 20.0):
        data = Block(vocab=16, length=64, blocks=4, xi_fast=1.2, xi_slow=xi_slow).build()
        ranks.append(T.effective_rank_of_covariance(T.pooled_covariance(data.lag_joint, data.stationary(), 64)))
    assert 15 > ranks[0] > ranks[1] > ranks[2] > 3


def test_weighting_erank_matches_observables_on_the_one_hot_matrix():
    rng = np.random.default_rng(2)
    symbols = rng.integers(0, 5, size=(3, 200))
    ours = T.weighting_effective_rank(symbols, 5)
    ref = effective_rank(np.eye(5)[symbols])
    assert ours == pytest.approx(ref, rel=1e-9)
    assert T.weighting_effective_rank(np.repeat(np.arange(4), 10)[None], 6)[0] == pytest.approx(3.0)


# ---------------------------------------------------------------------------------------------
# Networks at init: the measured variables and observables against the theories


def _case_dataset(arch, seeds: int, *, vocab: int = 8, length: int = 2) -> xr.Dataset:
    """What the runner stores for an untrained case, through `theory_variables` (plus the spec)."""
    data = Sticky(vocab=vocab, length=length, xi=1.0).build()
    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(s), 0))(jnp.arange(seeds, dtype=jnp.uint32))
    # lax.map, not vmap: the same networks (one per key), but vmap of build compiles 3-4× slower here.
    shapes = eqx.filter_eval_shape(arch.build, vocab, length, key=keys[0])
    static = eqx.partition(shapes, lambda x: isinstance(x, jax.ShapeDtypeStruct))[1]
    arrays = jax.jit(lambda ks: jax.lax.map(lambda k: eqx.filter(arch.build(vocab, length, key=k), eqx.is_array), ks))(keys)
    models = eqx.combine(arrays, static)
    case = SimpleNamespace(seeds=seeds, seed_list=list(range(seeds)), measure=SimpleNamespace(samples=8))
    ds = theory_variables(case, data, SimpleNamespace(init=models), np.zeros((8, length), np.int32))
    spec = {"architecture": arch.model_dump(mode="json"), "input": {"kind": "sticky"}}
    ds = ds.assign_coords(transition=np.arange(arch.depth))
    ds.attrs.update(spec=json.dumps(spec), case_id="tiny", status="complete")
    return ds


def test_stream_statistics_leave_out_pairs_with_a_dead_stream():
    streams = np.random.default_rng(4).standard_normal((2, 3, 2, 5))  # (seed, symbol, layer, width)
    streams[1, 1, 1] = 0.0  # seed 1, symbol 1, layer 1: every unit off
    stats_ = _stream_statistics(streams)
    a, c = streams[1, 0, 1], streams[1, 2, 1]
    assert stats_["init_correlation"][1, 1] == pytest.approx(a @ c / np.linalg.norm(a) / np.linalg.norm(c))  # pair (0, 2) only
    assert np.isfinite(stats_["init_correlation"]).all()
    q = (streams[1, :, 1] ** 2).sum(-1) / 5  # symbol 1's q is 0 and counts in the mean over symbols
    assert q[1] == 0.0
    assert stats_["init_sq_norm"][1, 1] == pytest.approx(q.mean())
    assert stats_["init_sq_norm_sq"][1, 1] == pytest.approx((q**2).mean())


def _mean_deviation(ds, theory: str, observable: str):
    obs = OBSERVABLES[observable]()
    x = obs.values(ds, layers=None)
    theta = T.predict(theory, T.TheoryContext(observable, ds, "init")).broadcast_like(x).transpose(*x.dims)
    d = x - theta
    return d.mean("seed").values, (d.std("seed") / math.sqrt(d.sizes["seed"])).values


@pytest.fixture(scope="module")
def plain16():
    """One compiled network for most tests: a bias-free ReLU stack, width 16, 2 layers, 400 seeds, 9 symbols."""
    return _case_dataset(Plain(depth=2, width=16), seeds=400)


def _with_arch(ds: xr.Dataset, arch) -> xr.Dataset:
    """The same stored variables under another architecture's spec (theories read the spec)."""
    out = ds.copy()
    out.attrs = {**ds.attrs, "spec": json.dumps({"architecture": arch.model_dump(mode="json")})}
    return out


def test_theory_variables_layout(plain16):
    ds = plain16
    assert ds["init_sq_norm"].dims == ("seed", "layer")
    assert ds["init_sq_norm"].shape == (400, 3)
    assert ds["init_sq_norm_sq"].dims == ("seed", "layer")
    assert ds["init_correlation"].dims == ("seed", "layer")
    assert ds["init_input_correlation"].dims == ("seed", "pair")
    assert ds["init_input_correlation"].shape == (400, 36)
    assert list(zip(ds["symbol_a"].values[:3], ds["symbol_b"].values[:3])) == [(0, 1), (0, 2), (0, 3)]
    # Layer 0's mean pairwise cosine is the mean of the stored per-pair cosines.
    assert ds["init_correlation"].values[:, 0] == pytest.approx(ds["init_input_correlation"].values.mean(1), abs=1e-6)
    # Jensen: the mean of q² is at least the square of the mean of q, seed by seed.
    assert np.all(ds["init_sq_norm_sq"].values >= ds["init_sq_norm"].values ** 2 * (1 - 1e-6))
    assert ds["input_pooled_covariance"].dims == ("token", "token2")
    assert ds["data_effective_rank_pooled"].dims == ("seed",)
    assert ds["input_symbol_effective_rank"].values == pytest.approx([0.0, 0.0])  # the probe here is all symbol 0
    assert all("long_name" in ds[v].attrs for v in ds.data_vars)


@pytest.mark.parametrize("branch", ["plain", "tokenwise"])
def test_residual_recursion_against_monte_carlo(branch):
    """Brute force, n = 384, 3 blocks, α = 1: h ← h + W relu(h) (W ~ N(0, 2/n)), or the tokenwise branch
    h ← h + W₂ relu(W₁ h) (N(0, s²/fan_in), s = 1.2, hidden 2n) whose kernel is the same with σ_w² = s⁴."""
    rng = np.random.default_rng(3)
    n, depth, draws, rho0 = 384, 3, 24, 0.3
    sw2 = 2.0 if branch == "plain" else 1.2**4
    h = rng.standard_normal((draws, 2, n))
    h[:, 1] = rho0 * h[:, 0] + math.sqrt(1 - rho0**2) * h[:, 1]
    q0 = (h * h).mean(-1)
    cos0 = (h[:, 0] * h[:, 1]).sum(-1) / np.linalg.norm(h, axis=-1).prod(-1)  # measured ρ₀, as the observables use
    for _ in range(depth):
        if branch == "plain":
            w = rng.standard_normal((draws, n, n)) * math.sqrt(sw2 / n)
            h = h + np.einsum("bij,bkj->bki", w, np.maximum(h, 0))
        else:
            w1 = rng.standard_normal((draws, 2 * n, n)) * 1.2 / math.sqrt(n)
            w2 = rng.standard_normal((draws, n, 2 * n)) * 1.2 / math.sqrt(2 * n)
            h = h + np.einsum("bij,bkj->bki", w2, np.maximum(np.einsum("bij,bkj->bki", w1, h), 0))
    cos = (h[:, 0] * h[:, 1]).sum(-1) / np.linalg.norm(h, axis=-1).prod(-1)
    r = sw2 / 2
    growth = ((h * h).mean(-1) / q0).mean(-1)
    expected_rho = T.iterate_correlation(cos0, depth, lambda p: T.residual_correlation_map(p, r))[-1]
    for measured, expected, scale in ((cos, expected_rho, 1.0), (growth, np.full(draws, (1 + r) ** depth), (1 + r) ** depth)):
        d = measured - expected
        assert abs(d.mean()) <= scale * 3 / n + 3 * d.std() / math.sqrt(draws), (branch, d.mean(), d.std())


def test_plain_relu_stack_fourth_moment_and_kernel(plain16):
    ds = plain16
    m, se = _mean_deviation(ds, "fourth_moment_relu", "fourth_moment_ratio")
    assert np.all(np.abs(m) <= 4 * se), (m, se)
    ratio = OBSERVABLES["fourth_moment_ratio"]().values(ds, layers=None).mean("seed").values
    assert ratio[-1] > 1.5  # far from the Gaussian value 1: the finite-width effect is measured, not noise
    growth = OBSERVABLES["norm_growth"]().values(ds, layers=None)
    assert T.predict("nngp_relu", T.TheoryContext("norm_growth", ds, "init")).values == pytest.approx([1, 1, 1])
    assert float(growth.mean()) == pytest.approx(1.0, abs=0.1)


def test_fourth_moment_pseudo_values_average_to_the_ratio_of_means(plain16):
    pseudo = OBSERVABLES["fourth_moment_ratio"]().values(plain16, layers="-1").values[:, 0]
    a = plain16["init_sq_norm_sq"].values[:, -1].astype(np.float64)
    b = plain16["init_sq_norm"].values[:, -1].astype(np.float64)
    s = len(a)
    loo = (a.sum() - a) / (s - 1) / ((b.sum() - b) / (s - 1)) ** 2
    assert pseudo == pytest.approx(s * a.mean() / b.mean() ** 2 - (s - 1) * loo, rel=1e-9)
    i = 7  # one leave-one-out estimate, the slow way
    assert loo[i] == pytest.approx(np.delete(a, i).mean() / np.delete(b, i).mean() ** 2, rel=1e-12)


def test_depth_limits(plain16):
    rho0 = plain16["init_input_correlation"].values.astype(np.float64).mean(1)
    for scale in ("1/L", "1", "1/sqrt(L)"):
        ds = _with_arch(plain16, Plain(depth=2, width=16, residual=True, residual_scale=scale))
        ctx = T.TheoryContext("symbol_correlation", ds, "init")
        limit, exact = T.predict("nngp_residual_relu_limit", ctx).values, T.predict("nngp_residual_relu", ctx).values
        assert limit[:, 0] == pytest.approx(rho0)
        assert exact[:, 0] == pytest.approx(rho0)
        if scale == "1/L":  # frozen
            assert limit == pytest.approx(np.repeat(limit[:, :1], 3, axis=1))
        elif scale == "1":  # collapse
            assert limit[:, 1:] == pytest.approx(1.0)
        else:  # the ODE, which the recursion approaches from below
            assert np.all(np.diff(limit, axis=1) > 0)
            assert np.all(exact[:, 1:] < limit[:, 1:])
    ds = _with_arch(plain16, Plain(depth=2, width=16, residual=True))
    with pytest.raises(T.TheoryNotApplicable, match="no depth limit"):
        T.predict("nngp_residual_relu_limit", T.TheoryContext("norm_growth", ds, "init"))


def test_theories_refuse_cases_they_do_not_describe(plain16):
    from rgbench.models import Tokenwise

    ds = _with_arch(plain16, Tokenwise(depth=2, width=16))
    with pytest.raises(T.TheoryNotApplicable, match="plain"):
        T.predict("fourth_moment_relu", T.TheoryContext("fourth_moment_ratio", ds, "init"))
    with pytest.raises(T.TheoryNotApplicable, match="relu"):
        T.predict("nngp_residual_relu", T.TheoryContext("symbol_correlation", ds, "init"))
    with pytest.raises(T.TheoryNotApplicable, match="initialisation"):
        T.predict("tokenwise_symmetry", T.TheoryContext("kernel_drift", ds, "trained"))
    with pytest.raises(T.TheoryNotApplicable, match="nngp_relu"):
        T.predict("nngp_residual_relu", T.TheoryContext("symbol_correlation", plain16, "init"))
    with pytest.raises(ValueError, match="did you mean 'nngp_relu'"):
        T.check_theory("nngp_rellu")


# ---------------------------------------------------------------------------------------------
# Suites and scoring


def _prediction(observable: str, test: dict, **extra):
    from rgbench.suite import models

    Prediction, _ = models()
    return Prediction.model_validate({"claim": "c", "observable": observable, "test": test, **extra})


def test_suite_validation_of_theory_values(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "suite: t\n"
        "defaults:\n"
        "  architecture: {kind: plain, depth: 2, width: 8}\n"
        "  input: {kind: sticky, vocab: 4, length: 2}\n"
        "  train: {steps: 0}\n"
        "cases:\n"
        "  - id: a\n"
        "    predict:\n"
        "      - claim: bad name\n"
        "        observable: fourth_moment_ratio\n"
        "        test: {kind: close_to, value: {theory: fourth_moment_rlu}, tolerance_se: 4, replicates: 5}\n"
        "      - claim: wrong observable\n"
        "        observable: symbol_correlation\n"
        "        test: {kind: close_to, value: {theory: fourth_moment_relu}, tolerance: 0.1}\n"
        "      - claim: se without replicates\n"
        "        observable: symbol_correlation\n"
        "        test: {kind: close_to, value: {theory: nngp_relu}, tolerance_se: 3}\n"
        "      - claim: trained stage\n"
        "        observable: norm_growth\n"
        "        stage: trained\n"
        "        test: {kind: close_to, value: 1.0, tolerance: 0.1}\n"
        "      - claim: symmetry after training\n"
        "        observable: effective_rank\n"
        "        test: {kind: close_to, value: {theory: tokenwise_symmetry}, tolerance: 0.1}\n"
    )
    with pytest.raises(SuiteError) as e:
        load_suite(suite)
    text = str(e.value)
    assert "did you mean 'fourth_moment_relu'" in text
    assert "s.yaml:11" in text
    assert "predicts fourth_moment_ratio, not 'symbol_correlation'" in text
    assert "set `replicates`" in text
    assert "at initialisation only" in text
    assert "holds at stage init; the prediction reads stage 'trained' — set `stage: init`" in text


def test_plain_config_rejects_unused_fields():
    with pytest.raises(ValueError, match="hidden_mult"):
        Plain(hidden_mult=4)
    with pytest.raises(ValueError, match="residual: true"):
        Plain(residual_scale="1/L")


def test_close_to_theory_scores_pass_and_a_wrong_value_fails(plain16):
    datasets = {"tiny": plain16}
    # 5 standard errors: on this fixture's 10 seeds the mean sits 2 SE below the theory, and the
    # calibrated interval's half-width is t(0.975, 9) = 2.26 SE, so a band of 4 SE cannot hold it
    theory = _prediction(
        "fourth_moment_ratio",
        {"kind": "close_to", "value": {"theory": "fourth_moment_relu"}, "tolerance_se": 5, "replicates": 10},
        layers="-1",
    )
    r = evaluate_prediction(theory, "tiny", datasets)
    assert r.verdict is Verdict.PASS, r.reason
    assert r.detail["theory"] == "fourth_moment_relu"
    assert r.seeds == 10
    assert r.detail["predicted"] == pytest.approx(float(T.fourth_moment_ratio(16, 2)))
    gaussian = _prediction(
        "fourth_moment_ratio", {"kind": "close_to", "value": 1.0, "tolerance_se": 4, "replicates": 10}, layers="-1"
    )
    assert evaluate_prediction(gaussian, "tiny", datasets).verdict is Verdict.FAIL
    wrong_arch = _prediction(
        "symbol_correlation",
        {
            "kind": "close_to",
            "value": {"theory": "nngp_residual_relu"},
            "tolerance_width": 2,
            "tolerance_se": 3,
            "replicates": 10,
        },
    )
    r = evaluate_prediction(wrong_arch, "tiny", datasets)
    assert r.verdict is Verdict.ERROR
    assert "nngp_relu" in r.reason


def _synthetic(width: int, deviation: float, seeds: int = 200, seed: int = 0) -> xr.Dataset:
    """A stored init_correlation whose mean deviation from the nngp_relu prediction is `deviation`."""
    rng = np.random.default_rng(seed)
    arch = Plain(depth=1, width=width)
    rho0 = rng.normal(0, 0.05, size=(seeds, 3, 3))
    rho0 = (rho0 + np.swapaxes(rho0, 1, 2)) / 2
    rho0[:, range(3), range(3)] = 1
    a, b = np.triu_indices(3, 1)
    theory1 = T.relu_correlation_map(rho0[:, a, b]).mean(1)
    measured = np.stack([rho0[:, a, b].mean(1), theory1 + deviation + rng.normal(0, 0.002, seeds)], axis=1)
    ds = xr.Dataset(
        {"init_correlation": (("seed", "layer"), measured), "init_input_correlation": (("seed", "pair"), rho0[:, a, b])},
        coords={"seed": np.arange(seeds), "layer": [0, 1]},
    )
    ds.attrs.update(spec=json.dumps({"architecture": arch.model_dump(mode="json")}), case_id=f"w{width}", status="complete")
    return ds


def test_scaling_test_reads_the_exponent_across_widths():
    test = {
        "kind": "scaling",
        "compare_to": "w128",
        "exponent": -1,
        "value": {"theory": "nngp_relu"},
        "tolerance": 0.2,
        "tolerance_se": 2,
    }
    pred = _prediction("symbol_correlation", test, layers="-1")
    right = {"w32": _synthetic(32, -1 / 32), "w128": _synthetic(128, -1 / 128, seed=1)}
    r = evaluate_prediction(pred, "w32", right)
    assert r.verdict is Verdict.PASS, r.reason
    assert r.statistic == pytest.approx(-1.0, abs=0.05)
    too_fast = {"w32": _synthetic(32, -1 / 32), "w128": _synthetic(128, -1 / 128**2 * 32, seed=1)}
    assert evaluate_prediction(pred, "w32", too_fast).verdict is Verdict.FAIL
    unresolved = {"w32": _synthetic(32, -1 / 32), "w128": _synthetic(128, 0.0, seed=1)}
    r = evaluate_prediction(pred, "w32", unresolved)
    assert r.verdict is Verdict.ERROR
    assert "not resolved" in r.reason
    assert TESTS["scaling"] is type(pred.test)


def test_theory_suite_validates():
    suite = load_suite("suites/theory.yaml")
    assert len(suite.cases) >= 10
    kinds = {p.test.kind for c in suite.cases for p in c.predict}
    theories = {p.test.value.theory for c in suite.cases for p in c.predict if hasattr(getattr(p.test, "value", None), "theory")}
    assert {"close_to", "scaling"} <= kinds
    assert set(T.THEORY) == theories


def test_stored_pair_cosines_round_trip_within_their_quantum(plain16, tmp_path):
    ds = plain16[["init_input_correlation", "init_sq_norm_sq"]].copy()
    ds["init_input_correlation"][0, 0] = np.nan  # a dead stream's pair
    ds.to_zarr(tmp_path / "s.zarr", mode="w", consolidated=False, zarr_format=3)
    back = xr.open_zarr(tmp_path / "s.zarr", consolidated=False).load()
    assert back["init_input_correlation"].encoding["dtype"] == np.int16
    a, b = back["init_input_correlation"].values, ds["init_input_correlation"].values.astype(np.float64)
    assert np.isnan(a[0, 0])
    assert np.nanmax(np.abs(a - b)) <= 0.51 / 32000  # rounding, in float32
    assert back["init_sq_norm_sq"].dtype == np.float64  # q² of deep stacks needs float64's range
