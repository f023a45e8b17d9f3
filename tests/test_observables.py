"""Observables against the closed forms of docs/science.md ("Observables", "Closed forms")."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jaxtyping import TypeCheckError

from rgbench import observables as obs
from rgbench.observables import (
    _attention,
    _batching,
    _checks,
    _geometry,
    _kernel,
    _rank,
    cka_matrix,
    effective_rank,
    kernel_drift,
    linear_cka,
    numerical_rank,
    participation_ratio,
    rank_measures,
    singular_values,
    stable_rank,
    update_ratio,
)

RANKS = (effective_rank, participation_ratio, stable_rank, numerical_rank)


def centred_orthonormal(rng, n, k):
    """n×k matrix with orthonormal columns that each sum to zero (so centring leaves it unchanged)."""
    a = rng.standard_normal((n, k))
    q, _ = np.linalg.qr(a - a.mean(axis=0))
    return q


def orthogonal(rng, d):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def with_spectrum(rng, sigma, n=64, d=48):
    """Centred n×d matrix with singular values `sigma` (len(sigma) ≤ min(n − 1, d))."""
    k = len(sigma)
    return centred_orthonormal(rng, n, k) @ np.diag(sigma) @ orthogonal(rng, d)[:k]


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------------------------- rank measures


@pytest.mark.parametrize("n", [2, 5, 17])
def test_identity_gives_n_for_every_rank_measure(n):
    eye = np.eye(n)
    for f in RANKS:
        # Uncentred: the columns of I_n do not sum to zero.
        assert f(eye, center=False) == pytest.approx(n, rel=1e-12), f.__name__


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("center", [True, False])
def test_k_equal_singular_values_give_k(rng, k, center):
    x = 2.5 * with_spectrum(rng, np.ones(k))
    for f in RANKS:
        assert f(x, center=center) == pytest.approx(k, rel=1e-10), f.__name__


def geometric_erank(q, big_q):
    """science.md: ln erank = ln[(1−q^Q)/(1−q)] − ln q·[q/(1−q) − Q q^Q/(1−q^Q)]."""
    qq = q**big_q
    return np.exp(np.log((1 - qq) / (1 - q)) - np.log(q) * (q / (1 - q) - big_q * qq / (1 - qq)))


@pytest.mark.parametrize(("q", "big_q"), [(0.5, 3), (0.5, 12), (0.8, 20), (0.3, 8)])
def test_geometric_spectrum_closed_forms(rng, q, big_q):
    x = 7.0 * with_spectrum(rng, q ** np.arange(big_q))
    m = rank_measures(x)
    s2 = (1 - q ** (2 * big_q)) / (1 - q**2)
    assert m["effective_rank"] == pytest.approx(geometric_erank(q, big_q), rel=1e-9)
    assert m["stable_rank"] == pytest.approx(s2, rel=1e-9)
    assert m["participation_ratio"] == pytest.approx(s2**2 / ((1 - q ** (4 * big_q)) / (1 - q**4)), rel=1e-9)
    # Direct entropy of the spectrum: the σ-based definition, not the λ-based one.
    p = q ** np.arange(big_q) / np.sum(q ** np.arange(big_q))
    assert m["effective_rank"] == pytest.approx(np.exp(-np.sum(p * np.log(p))), rel=1e-9)


def test_geometric_erank_approaches_infinite_q_limit(rng):
    q = 0.5
    limit = q ** (-q / (1 - q)) / (1 - q)
    assert limit == pytest.approx(4.0)
    qs = [2, 4, 8, 16, 40]
    x = np.stack([with_spectrum(rng, q ** np.arange(big_q)) for big_q in qs])
    er = effective_rank(x)
    assert np.all(np.diff(er) > 0)
    assert np.all(er < limit)
    # Q = 40 reaches σ = 2⁻³⁹, far below the Gram method's resolution; the truncated tail is invisible.
    assert er[-1] == pytest.approx(limit, rel=1e-5)
    assert er[:-1] == pytest.approx(geometric_erank(q, np.array(qs[:-1])), rel=1e-9)


def test_singular_values_match_svd(rng):
    x = rng.standard_normal((3, 30, 8)) @ np.diag(np.arange(1.0, 9.0)) + 4.0
    ref = np.linalg.svd(x - x.mean(axis=-2, keepdims=True), compute_uv=False)
    s = singular_values(x)
    assert s.shape == (3, 8)
    assert s.dtype == np.float64
    np.testing.assert_allclose(s, ref, rtol=1e-10)
    # N < d: the N×N Gram is used; centred rank is N − 1, the last value is exactly 0.
    y = rng.standard_normal((6, 20))
    s = singular_values(y)
    assert s.shape == (6,)
    assert np.all(np.diff(s) <= 0)
    assert s[-1] == 0.0
    np.testing.assert_allclose(s[:-1], np.linalg.svd(y - y.mean(0), compute_uv=False)[:-1], rtol=1e-10)
    np.testing.assert_allclose(singular_values(y, center=False), np.linalg.svd(y, compute_uv=False), rtol=1e-10)


def test_centring_matters_and_removes_the_mean(rng):
    x = rng.standard_normal((200, 6)) @ np.diag([3.0, 2.0, 1.5, 1.0, 1.0, 0.5])
    shifted = x + 50.0 * rng.standard_normal(6)
    centred = effective_rank(x)
    assert effective_rank(shifted) == pytest.approx(centred, rel=1e-9)
    # Uncentred, one huge singular value from the mean dominates.
    assert effective_rank(shifted, center=False) < 0.5 * centred
    assert numerical_rank(rng.standard_normal((5, 9))) == 4  # centred rank ≤ N − 1
    assert numerical_rank(rng.standard_normal((5, 9)), center=False) == 5


def test_zero_and_constant_matrices(no_warnings):
    z = np.zeros((10, 4))
    const = np.full((10, 4), 0.1) + np.array([0.0, 1e3, -7.3, 1 / 3])  # means not exact in float64
    for x in (z, const):
        for f in RANKS:
            assert f(x) == 0.0, f.__name__
        assert np.all(singular_values(x) == 0.0)
    assert effective_rank(const, center=False) == pytest.approx(1.0)


def test_numerical_rank_threshold(rng):
    x = with_spectrum(rng, [1.0, 1e-3, 1e-5], n=40, d=10)
    assert numerical_rank(x) == 3
    assert numerical_rank(x, rtol=1e-4) == 2
    assert numerical_rank(x, rtol=1e-2) == 1
    assert numerical_rank(x).dtype == np.float64


# ---------------------------------------------------------------------------------- CKA


def test_cka_closed_forms(rng):
    u = centred_orthonormal(rng, 100, 6)
    assert linear_cka(u[:, :2], u[:, :1]) == pytest.approx(1 / np.sqrt(2), rel=1e-12)
    for c in (0.0, 0.5, 3.0):
        expected = (1 + c**2) / (np.sqrt(2) * np.sqrt(1 + c**4))
        assert linear_cka(u[:, :2], u[:, :2] * np.array([1.0, c])) == pytest.approx(expected, rel=1e-12)
    # Isotropic subspaces of dims k = 4 and m = 3 sharing j = 2 directions.
    assert linear_cka(u[:, :4], u[:, [0, 1, 4]]) == pytest.approx(2 / np.sqrt(12), rel=1e-12)
    assert linear_cka(u[:, :3], u[:, 3:]) == pytest.approx(0.0, abs=1e-14)


def test_cka_invariances(rng):
    x = rng.standard_normal((150, 10)) @ rng.standard_normal((10, 10))
    z = np.tanh(x @ rng.standard_normal((10, 7)))
    base = linear_cka(x, z)
    moved = 3.7 * x @ orthogonal(rng, 10) + 5.0  # orthogonal map, isotropic scaling, shift
    assert linear_cka(moved, z) == pytest.approx(base, rel=1e-10)
    assert linear_cka(x, moved) == pytest.approx(1.0, rel=1e-12)
    general = x @ (np.eye(10) + rng.standard_normal((10, 10)))
    assert abs(linear_cka(general, z) - base) > 1e-2
    assert linear_cka(x, general) < 0.99


def cka_reference(x, y, debiased):
    """Explicit N×N Gram implementation (Kornblith et al. 2019; Song et al. 2012)."""
    n = x.shape[0]
    hc = np.eye(n) - 1.0 / n
    kx, ky = x @ x.T, y @ y.T

    def hsic(a, b):
        if not debiased:
            return np.sum((hc @ a @ hc) * (hc @ b @ hc))
        a, b = a - np.diag(np.diag(a)), b - np.diag(np.diag(b))
        one = np.ones(n)
        return (np.trace(a @ b) + (one @ a @ one) * (one @ b @ one) / ((n - 1) * (n - 2)) - 2 / (n - 2) * one @ a @ b @ one) / (
            n * (n - 3)
        )

    return hsic(kx, ky) / np.sqrt(hsic(kx, kx) * hsic(ky, ky))


@pytest.mark.parametrize(("n", "dx", "dy"), [(50, 5, 3), (12, 30, 40), (20, 3, 60)])
@pytest.mark.parametrize("debiased", [False, True])
def test_cka_matches_gram_reference(rng, n, dx, dy, debiased):
    x = rng.standard_normal((n, dx)) + 2.0
    y = np.sin(x @ rng.standard_normal((dx, dy))) + 0.5 * rng.standard_normal((n, dy))
    ref = cka_reference(x, y, debiased)
    assert linear_cka(x, y, debiased=debiased) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    if debiased:  # the unbiased estimator does not see a feature shift
        assert linear_cka(x, y, debiased=True, center=False) == pytest.approx(ref, rel=1e-8, abs=1e-12)


def test_debiased_cka_removes_independent_floor():
    n, d = 512, 64
    k = np.random.default_rng(3).standard_normal((2, 4, n, d))
    biased = linear_cka(k[0], k[1])
    debiased = linear_cka(k[0], k[1], debiased=True)
    assert np.all(np.abs(debiased) < 0.05)
    assert np.mean(biased) == pytest.approx(d / (n + d), rel=0.03)


def test_cka_matrix_and_kernel_drift_agree_with_linear_cka(rng):
    base = rng.standard_normal((2, 60, 8))
    layers = [base]
    for _ in range(4):
        layers.append(np.tanh(layers[-1] @ rng.standard_normal((8, 8)) / 2) + layers[-1])
    xs = np.stack(layers, axis=-3)  # (2, 5, 60, 8)
    for debiased in (False, True):
        m = cka_matrix(xs, debiased=debiased)
        assert m.shape == (2, 5, 5)
        np.testing.assert_allclose(m, np.swapaxes(m, -1, -2), rtol=0, atol=0)
        np.testing.assert_array_equal(np.diagonal(m, axis1=-2, axis2=-1), 1.0)
        for a in range(5):
            for b in range(5):
                np.testing.assert_allclose(m[:, a, b], linear_cka(xs[:, a], xs[:, b], debiased=debiased), rtol=1e-10, atol=1e-13)
        adjacent = np.stack([m[:, i, i + 1] for i in range(4)], axis=-1)
        np.testing.assert_allclose(kernel_drift(xs, debiased=debiased), 1 - adjacent, rtol=1e-9, atol=1e-13)
    cka = np.stack([cka_matrix(xs)[:, i, i + 1] for i in range(4)], axis=-1)
    np.testing.assert_allclose(kernel_drift(xs, metric="angle"), np.arccos(cka), rtol=1e-9)


def test_cka_matrix_gram_route(rng):
    xs = rng.standard_normal((3, 10, 40))  # N = 10 < d = 40: N×N Grams
    xs[1] += xs[0]
    for debiased in (False, True):
        m = cka_matrix(xs, debiased=debiased)
        assert m[0, 1] == pytest.approx(cka_reference(xs[0], xs[1], debiased), rel=1e-9)
        assert kernel_drift(xs, debiased=debiased)[1] == pytest.approx(1 - m[1, 2], rel=1e-9)


def test_angle_drift_is_a_metric_along_a_path(rng):
    xs = np.cumsum(rng.standard_normal((6, 80, 5)), axis=0)
    theta = np.arccos(np.clip(cka_matrix(xs), -1, 1))
    steps = kernel_drift(xs, metric="angle")
    assert theta[0, -1] <= steps.sum() + 1e-12


def test_degenerate_layer_gives_nan_without_warnings(rng, no_warnings):
    xs = rng.standard_normal((4, 30, 5))
    xs[2] = 0.1  # constant layer: zero centred Gram, CKA undefined
    m = cka_matrix(xs)
    assert np.all(np.isnan(m[2]))
    assert np.all(np.isnan(m[:, 2]))
    assert np.isfinite(m[np.ix_([0, 1, 3], [0, 1, 3])]).all()
    drift = kernel_drift(xs)
    assert np.isnan(drift[1])
    assert np.isnan(drift[2])
    assert np.isfinite(drift[0])
    assert np.isnan(linear_cka(xs[2], xs[0]))
    assert np.isnan(linear_cka(xs[2], xs[0], debiased=True))
    assert np.isnan(kernel_drift(xs, metric="angle")[1])
    assert effective_rank(xs[2]) == 0.0


# ---------------------------------------------------------------------------------- update ratio


def test_update_ratio_is_uncentred(rng, no_warnings):
    h = rng.standard_normal((30, 4))
    shift = np.full((30, 4), 2.0)
    xs = np.stack([h, 1.5 * h, 1.5 * h + shift, np.zeros_like(h), np.zeros_like(h)])
    r = update_ratio(xs)
    assert r.shape == (4,)
    assert r[0] == pytest.approx(0.5, rel=1e-12)
    assert r[1] == pytest.approx(np.linalg.norm(shift) / np.linalg.norm(1.5 * h), rel=1e-12)
    assert r[2] == pytest.approx(1.0)
    assert np.isnan(r[3])  # 0/0


# ---------------------------------------------------------------------------------- batching, inputs


def test_batched_equals_loop_and_chunks_stitch(rng, monkeypatch):
    xs = rng.standard_normal((2, 3, 4, 40, 6)) + rng.standard_normal((2, 3, 4, 1, 6))
    ys = rng.standard_normal((2, 3, 4, 40, 2))
    expected = {
        "rank": np.array(
            [[[rank_measures(xs[i, j, k])["effective_rank"] for k in range(4)] for j in range(3)] for i in range(2)]
        ),
        "sv": np.array([[[singular_values(xs[i, j, k]) for k in range(4)] for j in range(3)] for i in range(2)]),
        "cka": np.array(
            [[[linear_cka(xs[i, j, k], ys[i, j, k], debiased=True) for k in range(4)] for j in range(3)] for i in range(2)]
        ),
        "mat": np.array([[cka_matrix(xs[i, j]) for j in range(3)] for i in range(2)]),
        "drift": np.array([[kernel_drift(xs[i, j]) for j in range(3)] for i in range(2)]),
        "upd": np.array([[update_ratio(xs[i, j]) for j in range(3)] for i in range(2)]),
    }

    def batched():
        return {
            "rank": rank_measures(xs)["effective_rank"],
            "sv": singular_values(xs),
            "cka": linear_cka(xs, ys, debiased=True),
            "mat": cka_matrix(xs),
            "drift": kernel_drift(xs),
            "upd": update_ratio(xs),
        }

    for chunk_bytes in (_batching._CHUNK_BYTES, 5000):  # 5000 B: one matrix per chunk, many chunks
        monkeypatch.setattr(_batching, "_CHUNK_BYTES", chunk_bytes)
        got = batched()
        for key, val in expected.items():
            assert got[key].shape == val.shape, key
            np.testing.assert_allclose(got[key], val, rtol=1e-12, atol=1e-14, err_msg=key)


def test_non_contiguous_layer_axis(rng):
    # Activations stored (seed, layer, position, N, d) with layers moved next to N: a strided view.
    x = rng.standard_normal((2, 5, 3, 30, 4))
    view = np.moveaxis(x, 1, 2)
    copy = np.ascontiguousarray(view)
    np.testing.assert_array_equal(cka_matrix(view), cka_matrix(copy))
    np.testing.assert_array_equal(kernel_drift(view), kernel_drift(copy))
    np.testing.assert_array_equal(effective_rank(view), effective_rank(copy))
    np.testing.assert_array_equal(linear_cka(view, view[..., :2]), linear_cka(copy, copy[..., :2]))


def test_jax_and_float32_input(rng):
    x32 = rng.standard_normal((2, 50, 6)).astype(np.float32)
    want = effective_rank(x32.astype(np.float64))
    got = effective_rank(jnp.asarray(x32))
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float64
    assert got.shape == (2,)
    np.testing.assert_array_equal(got, want)
    assert isinstance(linear_cka(jnp.asarray(x32[0]), x32[1]), np.ndarray)
    assert effective_rank(np.arange(12).reshape(6, 2)).shape == ()  # int input, 0-d result


def test_nonfinite_nan_marks_only_the_bad_items(rng, no_warnings):
    x = rng.standard_normal((3, 4, 20, 5))  # (seed, layer, N, d); seed 1 diverged at layer 2
    x[1, 2, 3, 0] = np.inf
    bad = np.zeros((3, 4), dtype=bool)
    bad[1, 2] = True
    er = effective_rank(x, nonfinite="nan")
    assert np.array_equal(np.isnan(er), bad)
    np.testing.assert_array_equal(er[[0, 2]], effective_rank(x[[0, 2]]))
    assert np.isnan(singular_values(x, nonfinite="nan")[1, 2]).all()
    assert np.array_equal(np.isnan(numerical_rank(x, nonfinite="nan")), bad)
    assert np.array_equal(np.isnan(linear_cka(x[:, 2], x[:, 1], nonfinite="nan")), [False, True, False])
    # Layer-stack functions: the whole stack of the bad seed is nan, the others are untouched.
    for f in (cka_matrix, kernel_drift, update_ratio):
        out = f(x, nonfinite="nan")
        assert np.isnan(out[1]).all(), f.__name__
        np.testing.assert_array_equal(out[[0, 2]], f(x[[0, 2]]), err_msg=f.__name__)


def test_empty_batch():
    assert effective_rank(np.zeros((0, 3, 10, 4))).shape == (0, 3)
    assert cka_matrix(np.zeros((0, 3, 10, 4))).shape == (0, 3, 3)
    assert kernel_drift(np.zeros((0, 3, 10, 4))).shape == (0, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: effective_rank(np.ones(5)), "at least 2 dimensions"),
        (lambda: effective_rank(np.ones((1, 5))), "at least 2 samples"),
        (lambda: effective_rank(np.array([[1.0, np.nan], [0.0, 1.0]])), "non-finite"),
        (
            lambda: effective_rank(np.ones((3, 5, 2)) * np.array([1, np.inf, 1])[:, None, None]),
            r"batch index \(1,\).*nonfinite='nan'",
        ),
        (lambda: effective_rank(np.ones((4, 2), dtype=complex)), "real numeric"),
        (lambda: linear_cka(np.ones((10, 3)), np.ones((11, 3))), "same N samples"),
        (lambda: linear_cka(np.ones((2, 10, 3)), np.ones((3, 10, 3))), "same N samples"),
        (lambda: linear_cka(np.eye(3), np.eye(3), debiased=True), "at least 4 samples"),
        (lambda: cka_matrix(np.ones((10, 3))), "at least 3 dimensions"),
        (lambda: kernel_drift(np.ones((1, 10, 3))), "at least 2 layers"),
        (lambda: kernel_drift(np.ones((2, 10, 3)), metric="cosine"), "allowed: '1-cka', 'angle'"),
        (lambda: update_ratio(np.ones((10, 3))), "at least 3 dimensions"),
        (lambda: numerical_rank(np.ones((10, 3)), rtol=1e-9), "below what"),
        (lambda: numerical_rank(np.ones((10, 3)), rtol=2.0), r"in \(0, 1\)"),
        (lambda: effective_rank(np.ones((10, 3)), nonfinite="skip"), "must be one of 'raise', 'nan'"),
        (lambda: linear_cka(np.ones((10, 3)), np.ones((10, 3)), nonfinite="skip"), "must be one of"),
        (lambda: kernel_drift(np.ones((2, 10, 3)), weights=np.ones(9)), r"shape \(9,\) does not broadcast to \(10,\)"),
        (
            lambda: obs.cloud_distance(np.ones((10, 3)), np.ones(10, bool), np.ones(4, bool)),
            r"shapes \(10,\), \(4,\) do not broadcast to x.shape\[:-1\] = \(10,\)",
        ),
    ],
)
def test_errors_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


ONE_CALL_EACH = {
    "singular_values": lambda f, x: f(x),
    "effective_rank": lambda f, x: f(x),
    "participation_ratio": lambda f, x: f(x),
    "stable_rank": lambda f, x: f(x),
    "numerical_rank": lambda f, x: f(x),
    "rank_measures": lambda f, x: f(x, weights=np.ones(x.shape[-2])),
    "linear_cka": lambda f, x: f(x[0], x[1]),
    "cka_matrix": lambda f, x: f(x),
    "kernel_drift": lambda f, x: f(x),
    "update_ratio": lambda f, x: f(x),
    "cloud_distance": lambda f, x: f(x, np.arange(10) < 3, np.arange(10) >= 3),
    "attention_entropy": lambda f, x: f(x @ np.swapaxes(x, -1, -2), queries=np.arange(10) < 3),  # scores (2, 10, 10)
    "attention_free_energy": lambda f, x: f(x @ np.swapaxes(x, -1, -2)),
    "attention_distance": lambda f, x: f(x @ np.swapaxes(x, -1, -2), nonfinite="nan"),
}


def test_every_public_observable_checks_its_arguments_once(monkeypatch):
    assert set(ONE_CALL_EACH) == set(obs.__all__), "a public observable without a case here"
    # `_arguments_first` looks `_check_arguments` up in `_checks` at each call, so patching it there
    # counts every check; a module that imported the name itself could call it uncounted.
    assert [m for m in (_rank, _kernel, _geometry, _attention, _batching) if hasattr(m, "_check_arguments")] == []
    seen = []
    real = _checks._check_arguments
    monkeypatch.setattr(_checks, "_check_arguments", lambda args: (seen.append(args), real(args)))
    x = np.random.default_rng(0).standard_normal((2, 10, 3))
    for name, call in ONE_CALL_EACH.items():
        seen.clear()
        call(getattr(obs, name), x)
        assert len(seen) == 1, f"{name} checked its arguments {len(seen)} times"


def test_the_runtime_checker_is_on():
    # tests/conftest.py runs rgbench under jaxtyping + beartype: a call that breaks an annotation fails
    # the check. The public observables check their arguments themselves first (the test above: the
    # same ValueErrors with or without a checker); the function they wrap is the annotated one.
    with pytest.raises(TypeCheckError, match=r"(?s)effective_rank.*parameter 'x'.*'\*batch n d'"):
        effective_rank.__wrapped__(np.ones(5))  # rank 1 for (*batch, n, d)
    with pytest.raises(TypeCheckError, match=r"(?s)rank_measures.*parameter 'rows'"):
        rank_measures(np.ones((10, 3)), rows=np.ones(10, dtype=np.int64))  # a row selection is boolean
    with pytest.raises(TypeCheckError, match=r"(?s)linear_cka.*parameter 'center'"):
        linear_cka(np.ones((10, 3)), np.ones((10, 3)), center="yes")


# ---------------------------------------------------------------------------------- properties

matrices = st.tuples(st.integers(2, 10), st.integers(1, 6)).flatmap(
    lambda s: hnp.arrays(np.float64, s, elements=st.floats(-10, 10, allow_subnormal=False))
)


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_rank_ordering_property(x):
    n, d = x.shape
    m = rank_measures(x)
    er, pr, sr, nr = m["effective_rank"], m["participation_ratio"], m["stable_rank"], numerical_rank(x)
    assert nr <= min(n - 1, d)
    assert er <= nr * (1 + 1e-4) + 1e-12  # σ between the Gram floor and rtol·σ_max add < 1e-5
    assert er == 0 or er >= 1 - 1e-12
    assert sr <= pr + 1e-9
    assert pr <= nr * (1 + 1e-4) + 1e-12  # stable rank ≤ PR ≤ rank
    if np.ptp(x, axis=0).max() > 1e-6 * np.abs(x).max():
        assert er >= 1 - 1e-12


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(st.integers(2, 10), st.integers(1, 5), st.integers(1, 5)).flatmap(
        lambda s: st.tuples(
            hnp.arrays(np.float64, (s[0], s[1]), elements=st.floats(-10, 10, allow_subnormal=False)),
            hnp.arrays(np.float64, (s[0], s[2]), elements=st.floats(-10, 10, allow_subnormal=False)),
        )
    )
)
def test_cka_bounded_and_symmetric_property(xy):
    x, y = xy
    c = linear_cka(x, y)
    if np.isnan(c):
        assert np.isnan(linear_cka(y, x))
        return
    assert -1e-12 <= c <= 1 + 1e-12
    assert linear_cka(y, x) == pytest.approx(c, rel=1e-12, abs=1e-15)


def test_measure_streams_cka_matrix_is_optional_and_agrees_with_drift():
    from rgbench.measure import MeasureConfig, measure_streams

    rng = np.random.default_rng(0)
    streams = rng.standard_normal((2, 64, 4, 3, 8)).astype(np.float32)  # (seed, n, layer, position, width)
    scored = rng.random((64, 3)) < 0.3
    full = measure_streams(streams, scored, MeasureConfig(), rng=np.random.default_rng(0))
    lean = measure_streams(streams, scored, MeasureConfig(cka=False), rng=np.random.default_rng(0))
    assert "cka" in full
    assert "cka" not in lean
    np.testing.assert_allclose(full["cka"][:, range(4), range(4)], 1.0, atol=1e-5)  # CKA(X, X) = 1
    np.testing.assert_allclose(full["cka"][:, range(3), range(1, 4)], 1.0 - full["kernel_drift"], atol=1e-6)
    for name in lean:
        np.testing.assert_array_equal(lean[name], full[name])


# ------------------------------------------------------------------ row subsets and the [MASK] point


def tokenwise_probe(*, vocab=5, width=8, n=80, positions=3, c=3.0):
    """A context-free stream: token a ↦ e_a (a < V), [MASK] ↦ c·e_V, at every layer.

    At position t the rows i ≡ t (mod 8) are [MASK]; the others take the symbols 0 … V−1 in turn,
    so every symbol is equally frequent in all the rows and in the first N/2 (70 and 35 token rows).
    Returns (streams (seed 1, n, layer 2, position, width) float32, is_mask (n, position))."""
    is_mask = (np.arange(n)[:, None] % 8) == np.arange(positions)[None, :]
    streams = np.zeros((1, n, 2, positions, width), np.float32)
    for t in range(positions):
        tokens = np.flatnonzero(~is_mask[:, t])
        streams[0, tokens, :, t, :] = np.eye(width)[np.arange(len(tokens)) % vocab][:, None, :]
        streams[0, is_mask[:, t], :, t, vocab] = c
    return streams, is_mask


@pytest.mark.parametrize("c", [0.5, 3.0, 20.0])
def test_token_row_rank_of_a_displaced_mask_point_is_the_closed_form(c):
    # V equally frequent orthonormal points: centred, V − 1 equal singular values → every measure V − 1,
    # wherever the [MASK] point sits; the [MASK] rows are one point (rank 0); the all-row rank moves with c.
    from rgbench.measure import ROWS, MeasureConfig, measure_streams

    vocab = 5
    streams, is_mask = tokenwise_probe(vocab=vocab, c=c)
    out = measure_streams(streams, np.zeros_like(is_mask), MeasureConfig(), rng=np.random.default_rng(0), is_mask=is_mask)
    rows = dict(zip(ROWS, np.moveaxis(out["effective_rank_rows"], -1, 0)))
    np.testing.assert_allclose(rows["token"], vocab - 1, rtol=1e-12)
    np.testing.assert_allclose(rows["token_half"], vocab - 1, rtol=1e-12)
    np.testing.assert_array_equal(rows["mask"], 0.0)
    for name in ("participation_ratio_rows", "stable_rank_rows"):
        np.testing.assert_allclose(out[name][..., 0], vocab - 1, rtol=1e-12)
    assert np.all(np.abs(out["effective_rank"] - (vocab - 1)) > 0.1)  # the [MASK] point adds a direction
    # D = ‖c·e_V − 𝟙/V‖ / (1 − 1/V)^½: the [MASK] mean against the token cloud's RMS radius
    np.testing.assert_allclose(out["mask_distance"], np.sqrt(c**2 + 1 / vocab) / np.sqrt(1 - 1 / vocab), rtol=1e-6)


def test_rows_measure_as_if_the_other_rows_were_not_there(rng):
    x = rng.standard_normal((3, 40, 6))
    keep = rng.random((3, 40)) < 0.6
    got = rank_measures(x, rows=keep)
    for i in range(3):
        ref = rank_measures(x[i][keep[i]])
        for k in got:
            assert got[k][i] == pytest.approx(float(ref[k]), rel=1e-10)
    nan_elsewhere = np.where(keep[..., None], x, np.nan)  # what is outside the selection does not matter
    for k, v in rank_measures(nan_elsewhere, rows=keep).items():
        np.testing.assert_allclose(v, got[k], rtol=1e-12)
    one_row = np.zeros((3, 40), bool)
    one_row[:, 0] = True
    assert np.isnan(rank_measures(x, rows=one_row)["effective_rank"]).all()  # one row has no centred spectrum
    with pytest.raises(ValueError, match="does not broadcast"):
        rank_measures(x, rows=np.ones(7, bool))


def test_cloud_distance_closed_form_and_edges(rng):
    # b: ±1 along two axes around 0 (RMS radius 1), a: the point (3, 4) → D = 5
    b = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], float)
    x = np.concatenate([b, [[3.0, 4.0]] * 3])
    a_rows = np.r_[np.zeros(4, bool), np.ones(3, bool)]
    assert obs.cloud_distance(x, a_rows, ~a_rows) == pytest.approx(5.0)
    assert obs.cloud_distance(x * 7 + 2, a_rows, ~a_rows) == pytest.approx(5.0)  # invariant to shift and scale
    assert np.isnan(obs.cloud_distance(x, np.zeros(7, bool), ~a_rows))  # no [MASK] row
    bad = x.copy()
    bad[0, 0] = np.nan
    assert np.isnan(obs.cloud_distance(bad, a_rows, ~a_rows, nonfinite="nan"))
    with pytest.raises(ValueError, match="non-finite"):
        obs.cloud_distance(bad, a_rows, ~a_rows)


# ------------------------------------------------------------------ row multiplicities (weights)


def repeated(x, w):
    """The matrix that holds row i of x (N, d) w[i] times: what `weights=w` stands for."""
    return np.repeat(x, w.astype(int), axis=-2)


def test_weighted_rank_measures_equal_the_repeated_rows(rng):
    x = rng.standard_normal((3, 9, 6))
    w = rng.integers(0, 5, size=(3, 9)).astype(float)
    w[:, :2] = [3.0, 0.0]  # at least two weighted rows, one row of weight 0
    got = rank_measures(x, weights=w)
    for i in range(3):
        ref = rank_measures(repeated(x[i], w[i]))
        for k in got:
            assert got[k][i] == pytest.approx(float(ref[k]), rel=1e-10), f"{k}, matrix {i}"
    x_nan = x.copy()
    x_nan[:, 1] = np.nan  # a row of weight 0 may hold anything
    for k, v in rank_measures(x_nan, weights=w).items():
        np.testing.assert_allclose(v, got[k], rtol=1e-12, err_msg=k)


def test_weights_of_distinct_symbols_give_the_closed_form_rank():
    # V orthonormal points, equally frequent: centred, V − 1 equal singular values → every measure is V − 1
    vocab = 5
    got = rank_measures(np.eye(vocab), weights=np.full(vocab, 7.0))
    for k, v in got.items():
        assert v == pytest.approx(vocab - 1, rel=1e-12), k
    single = rank_measures(np.eye(vocab), weights=np.r_[9.0, np.zeros(vocab - 1)])  # one point, 9 times
    assert single["effective_rank"] == 0.0, "one distinct row centres to zero: rank 0"
    assert np.isnan(rank_measures(np.eye(vocab), weights=np.r_[1.0, np.zeros(vocab - 1)])["effective_rank"]), (
        "total weight below 2 has no centred spectrum"
    )


def test_weighted_layer_stack_measures_equal_the_repeated_rows(rng):
    xs = rng.standard_normal((2, 4, 7, 5))  # (batch, layer, N, d)
    w = rng.integers(1, 4, size=(2, 7)).astype(float)
    got_cka, got_drift = cka_matrix(xs, weights=w), kernel_drift(xs, weights=w)
    got_ratio = update_ratio(xs, weights=w)
    for i in range(2):
        rep = np.stack([repeated(xs[i, layer], w[i]) for layer in range(4)])
        np.testing.assert_allclose(got_cka[i], cka_matrix(rep), rtol=1e-10, err_msg=f"cka, item {i}")
        np.testing.assert_allclose(got_drift[i], kernel_drift(rep), rtol=1e-9, atol=1e-12, err_msg=f"drift, item {i}")
        np.testing.assert_allclose(got_ratio[i], update_ratio(rep), rtol=1e-12, err_msg=f"update ratio, item {i}")


def test_weighted_cloud_distance_equals_the_repeated_rows(rng):
    x = rng.standard_normal((6, 3))
    wa, wb = np.r_[2.0, 0, 0, 0, 0, 0], np.r_[0, 1.0, 3, 2, 0, 4]
    rows = np.repeat(np.arange(6), (wa + wb).astype(int))
    a_rows, b_rows = np.repeat(wa > 0, (wa + wb).astype(int)), np.repeat(wb > 0, (wa + wb).astype(int))
    ref = obs.cloud_distance(x[rows], a_rows, b_rows)
    assert obs.cloud_distance(x, wa, wb) == pytest.approx(float(ref), rel=1e-12)
    x[4] = np.nan  # in neither set: does not count
    assert obs.cloud_distance(x, wa, wb) == pytest.approx(float(ref), rel=1e-12)


def test_weights_are_checked():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="finite and non-negative"):
        rank_measures(x, weights=np.r_[1.0, -1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="does not broadcast"):
        rank_measures(x, weights=np.ones(5))
    with pytest.raises(ValueError, match="not both"):
        rank_measures(x, rows=np.ones(4, bool), weights=np.ones(4))
    with pytest.raises(ValueError, match="biased CKA only"):
        kernel_drift(np.ones((2, 4, 3)), debiased=True, weights=np.ones(4))
    with pytest.raises(ValueError, match="finite and non-negative"):
        obs.cloud_distance(x, np.r_[1.0, 0, 0, np.nan], np.ones(4))


@pytest.mark.parametrize("positions", [False, True])
def test_measure_tables_equals_measuring_every_probe_row(positions):
    # The symbol-table path of a context-free network against the generic path on its gathered streams.
    import equinox as eqx
    import jax

    from rgbench.inputs import Sticky
    from rgbench.measure import MeasureConfig, measure_streams, measure_tables
    from rgbench.models import Tokenwise
    from rgbench.train import forward, symbol_tables

    arch = Tokenwise(depth=2, width=8, hidden_mult=2, positions=positions)
    data = Sticky(vocab=4, length=6, xi=1.0).build()
    models = eqx.filter_vmap(lambda k: arch.build(data.vocab, data.length, key=k))(jax.random.split(jax.random.key(0), 2))
    tokens = data.sample(jax.random.key(1), 48)
    inputs, scored = (np.asarray(a) for a in data.corrupt(jax.random.key(2), tokens))
    cfg = MeasureConfig(samples=48, role_samples=16)
    streams, _ = forward(models, inputs)
    ref = measure_streams(np.asarray(streams), scored, cfg, rng=np.random.default_rng(0), is_mask=inputs == data.mask_id)
    got = measure_tables(symbol_tables(models), inputs, scored, cfg, rng=np.random.default_rng(0), mask_id=data.mask_id)
    assert set(got) == set(ref)
    assert (inputs == data.mask_id).any(), "the probe must hold [MASK] rows for the mask block to be tested"
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=k)
