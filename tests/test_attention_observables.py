"""Attention observables (rgbench/observables/_attention.py) against closed forms, invariances and bounds."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rgbench.observables import _batching, attention_distance, attention_entropy, attention_free_energy

ATTENTION = (attention_entropy, attention_free_energy, attention_distance)


@pytest.fixture
def rng():
    return np.random.default_rng(20250101)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def offsets(t):
    """|k − t| for a (t, t) score matrix: rows are queries, columns keys."""
    return np.abs(np.arange(t)[None, :] - np.arange(t)[:, None])


def window(t, r):
    """Uniform attention in a window of radius r: 0 where |k − t| ≤ r, −inf elsewhere."""
    return np.where(offsets(t) <= r, 0.0, -np.inf)


def reference(s):
    """Per-query (entropy, log Z, distance) of one (T, T) matrix by the textbook formulas, row by row
    (nan for a row with no allowed key)."""
    rows = []
    for t, row in enumerate(np.asarray(s, dtype=np.float64)):
        allowed = np.isfinite(row)
        if not allowed.any():
            rows.append((np.nan, np.nan, np.nan))
            continue
        p = np.zeros_like(row)
        p[allowed] = np.exp(row[allowed] - row[allowed].max())
        p /= p.sum()
        logp = np.log(p, where=p > 0, out=np.zeros_like(p))
        rows.append((-(p * logp).sum(), np.logaddexp.reduce(row[allowed]), (p * np.abs(np.arange(len(row)) - t)).sum()))
    return np.array(rows)  # (T, 3)


# ---------------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("t", [1, 2, 5, 16, 64])
def test_uniform_attention(t, no_warnings):
    s = np.zeros((t, t))
    assert attention_entropy(s) == np.log(t)  # exactly: every p is 1/T, Σ exp 0 = T
    assert attention_free_energy(s) == np.log(t)
    # mean over t of mean_k |k − t| = Σ_{t,k} |k − t| / T² = [T(T² − 1)/3] / T²
    assert attention_distance(s) == pytest.approx((t * t - 1) / (3 * t), rel=1e-14)


@pytest.mark.parametrize("value", [0.0, 7.5, -3.0, 1e6])
def test_one_hot_attention(value, no_warnings):
    t, key = 6, 4
    s = np.full((t, t), -np.inf)
    s[:, key] = value
    assert attention_entropy(s) == 0.0
    assert attention_free_energy(s) == value
    assert attention_distance(s) == pytest.approx(np.abs(key - np.arange(t)).mean(), rel=1e-15)
    np.fill_diagonal(s, value)  # also the query's own key: half its attention stays at distance 0
    s[key] = -np.inf
    s[key, key] = value
    d = np.where(np.arange(t) == key, 0.0, np.abs(key - np.arange(t)) / 2)
    assert attention_distance(s) == pytest.approx(d.mean(), rel=1e-15)
    h = np.where(np.arange(t) == key, 0.0, np.log(2))
    assert attention_entropy(s) == pytest.approx(h.mean(), rel=1e-15)


def test_window_of_radius_one_closed_form(no_warnings):
    # T = 5, r = 1, uniform inside the window. Allowed offsets j = k − t per query:
    # t = 0: {0, 1}, t = 1, 2, 3: {−1, 0, 1}, t = 4: {−1, 0}. Mean |j|: 1/2, 2/3, 2/3, 2/3, 1/2.
    s = window(5, 1)
    assert attention_distance(s) == pytest.approx((1 / 2 + 3 * (2 / 3) + 1 / 2) / 5, rel=1e-15)  # = 3/5
    assert attention_distance(s) == pytest.approx(3 / 5, rel=1e-15)
    h = (2 * np.log(2) + 3 * np.log(3)) / 5  # ln(number of allowed keys), averaged over the queries
    assert attention_entropy(s) == pytest.approx(h, rel=1e-15)
    assert attention_free_energy(s) == pytest.approx(h, rel=1e-15)  # ln Σ exp 0 = ln n_t too


@pytest.mark.parametrize("t", [1, 3, 8, 33])
def test_uniform_causal_attention_closed_form(t):
    s = np.where(np.arange(t)[None, :] <= np.arange(t)[:, None], 0.0, -np.inf)  # keys k ≤ t
    assert attention_distance(s) == pytest.approx((t - 1) / 4, rel=1e-14, abs=1e-15)  # mean_t t/2
    assert attention_entropy(s) == pytest.approx(np.log(np.arange(1, t + 1)).mean(), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize(("t", "r"), [(5, 1), (9, 2), (12, 3), (4, 0)])
def test_window_mask_bounds_distance_and_entropy(rng, t, r):
    s = np.where(offsets(t) <= r, rng.standard_normal((20, t, t)) * 3, -np.inf)
    assert (attention_distance(s) <= r * (1 + 1e-14)).all()
    assert (attention_entropy(s) <= np.log(2 * r + 1) * (1 + 1e-14)).all()
    assert (attention_entropy(s) >= 0).all()


def test_agrees_with_the_row_by_row_reference(rng):
    s = rng.standard_normal((4, 7, 7)) * 4
    s[rng.random(s.shape) < 0.3] = -np.inf
    s[..., np.arange(7), np.arange(7)] = rng.standard_normal((4, 7))  # every query allowed its own key
    want = np.array([reference(m).mean(axis=0) for m in s])  # (4, 3)
    got = np.stack([f(s) for f in ATTENTION], axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_free_energy_is_mean_score_plus_entropy(rng):
    # ln Z = ⟨s⟩_p + H, i.e. F = U − TS at T = 1 with E = −s, F = −ln Z
    s = rng.standard_normal((3, 10, 10)) * 5
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    mean_score = (p * s).sum(axis=-1).mean(axis=-1)
    np.testing.assert_allclose(attention_free_energy(s), mean_score + attention_entropy(s), rtol=1e-13)


# ---------------------------------------------------------------------------------- invariances, batching


def test_shifting_a_row_moves_only_the_free_energy(rng, no_warnings):
    t = 8
    s = np.where(offsets(t) <= 3, rng.standard_normal((2, t, t)), -np.inf)
    c = rng.uniform(-50, 50, size=(2, t, 1))  # a constant per query row (−inf stays −inf)
    shifted = s + c
    np.testing.assert_allclose(attention_entropy(shifted), attention_entropy(s), rtol=1e-12)
    np.testing.assert_allclose(attention_distance(shifted), attention_distance(s), rtol=1e-12)
    np.testing.assert_allclose(attention_free_energy(shifted), attention_free_energy(s) + c[..., 0].mean(axis=-1), rtol=1e-12)
    # Scores whose exp overflows float64 (e^1000): the max-shift keeps everything finite.
    big = s + 1000.0
    np.testing.assert_allclose(attention_free_energy(big), attention_free_energy(s) + 1000.0, rtol=1e-14)
    np.testing.assert_allclose(attention_entropy(big), attention_entropy(s), rtol=1e-11)
    np.testing.assert_allclose(attention_distance(big), attention_distance(s), rtol=1e-11)
    assert attention_free_energy(np.array([[1e308, 1e308, -1e308]])) == 1e308  # + ln 2 is below 1e308's ulp


def test_batched_stack_equals_per_matrix_and_chunks_stitch(rng, monkeypatch):
    layers, heads, t = 3, 4, 9
    s = rng.standard_normal((layers, heads, t, t)) * 2
    s = np.where(np.arange(t)[None, :] <= np.arange(t)[:, None], s, -np.inf)  # causal
    for f in ATTENTION:
        want = np.array([[f(s[i, j]) for j in range(heads)] for i in range(layers)])
        for chunk_bytes in (_batching._CHUNK_BYTES, 700):  # 700 B: one matrix per chunk, 12 chunks
            monkeypatch.setattr(_batching, "_CHUNK_BYTES", chunk_bytes)
            got = f(s)
            assert got.shape == (layers, heads) and got.dtype == np.float64
            np.testing.assert_array_equal(got, want, err_msg=f.__name__)
        monkeypatch.undo()
    view = np.moveaxis(s, 0, 1)  # (head, layer, T, T): a strided view, gathered chunk by chunk
    for f in ATTENTION:
        np.testing.assert_array_equal(f(view), np.moveaxis(f(s), 0, 1))


def test_queries_select_the_rows_averaged(rng, no_warnings):
    t = 6
    s = rng.standard_normal((2, t, t))
    s[:, 4] = -np.inf  # a padding query that attends to nothing: allowed only if not selected
    pick = np.array([True, False, True, True, False, False])
    for f, col in zip(ATTENTION, range(3), strict=True):
        want = [reference(m)[pick, col].mean() for m in s]
        np.testing.assert_allclose(f(s, queries=pick), want, rtol=1e-13, err_msg=f.__name__)
        per_item = np.stack([pick, np.arange(t) == 0])  # (2, T): a different selection per matrix
        got = f(s, queries=per_item)
        np.testing.assert_allclose(got, [want[0], reference(s[1])[0, col]], rtol=1e-13, err_msg=f.__name__)
        assert np.isnan(f(s, queries=np.zeros(t, dtype=bool))).all()  # no query selected: nan


def test_jax_float32_and_integer_input(no_warnings):
    s32 = np.where(offsets(7) <= 2, np.linspace(-1, 1, 49).reshape(7, 7), -np.inf).astype(np.float32)
    for f in ATTENTION:
        got = f(jnp.asarray(s32))
        assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == ()
        assert got == f(s32.astype(np.float64))
        assert f(np.zeros((2, 5, 5), dtype=np.int32)).shape == (2,)
    assert attention_entropy(np.zeros((0, 3, 4, 4))).shape == (0, 3)  # empty batch


def test_masked_keys_may_be_large_negative_instead_of_minus_inf():
    s = window(9, 2)
    finite = np.where(np.isfinite(s), s, -1e9)  # the common "additive mask" convention
    for f in ATTENTION:
        assert f(finite) == pytest.approx(f(s), rel=1e-15)


# ---------------------------------------------------------------------------------- property


@st.composite
def masked_scores(draw):
    tq, tk = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    s = draw(hnp.arrays(np.float64, (tq, tk), elements=st.floats(-30, 30, allow_subnormal=False)))
    allowed = draw(hnp.arrays(np.bool_, (tq, tk)))
    allowed[np.arange(tq), draw(hnp.arrays(np.int64, tq, elements=st.integers(0, tk - 1)))] = True  # ≥ 1 per row
    return np.where(allowed, s, -np.inf)


@settings(max_examples=80, deadline=None)
@given(masked_scores())
def test_entropy_and_free_energy_within_bounds_property(s):
    n = np.isfinite(s).sum(axis=-1)
    queries = np.eye(len(s), dtype=bool)  # (Tq, Tq): select each query alone → its own value
    h = attention_entropy(np.broadcast_to(s, (len(s), *s.shape)), queries=queries)
    assert (h >= 0).all()
    assert (h <= np.log(n) + 1e-12).all()
    top = s.max(axis=-1)
    f = attention_free_energy(np.broadcast_to(s, (len(s), *s.shape)), queries=queries)
    assert (f >= top - 1e-12 * np.abs(top)).all()
    assert (f <= top + np.log(n) + 1e-12 * (1 + np.abs(top))).all()
    if s.shape[0] == s.shape[1]:
        d = attention_distance(np.broadcast_to(s, (len(s), *s.shape)), queries=queries)
        farthest = np.where(np.isfinite(s), offsets(len(s)), 0).max(axis=-1)
        assert (d >= 0).all() and (d <= farthest * (1 + 1e-12)).all()


# ---------------------------------------------------------------------------------- errors


def test_a_query_with_no_allowed_key_is_an_error():
    s = np.zeros((2, 3, 4, 4))
    s[0, 1, 2] = -np.inf
    s[1, 2, 0] = -np.inf
    s[1, 2, 3] = -np.inf
    for f in ATTENTION:
        with pytest.raises(ValueError, match=r"3 query row\(s\) with every key at -inf.*batch index \(0, 1\), query 2"):
            f(s)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_plus_inf_are_errors_or_nan_items(bad, no_warnings):
    s = np.zeros((3, 5, 5))
    s[1, 2, 3] = bad
    for f in ATTENTION:
        with pytest.raises(ValueError, match=r"nan or \+inf in 1 of 3 .*batch index \(1,\).*nonfinite='nan'"):
            f(s)
        out = f(s, nonfinite="nan")
        assert np.array_equal(np.isnan(out), [False, True, False])
        np.testing.assert_array_equal(out[[0, 2]], f(s[[0, 2]]))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: attention_distance(np.zeros((2, 4, 5))), r"square scores, T_query == T_key.*\(2, 4, 5\)"),
        (lambda: attention_entropy(np.zeros(5)), r"\(\.\.\., T_query, T_key\).*s\[None, :\]"),
        (lambda: attention_entropy(np.zeros((3, 0))), "at least 1 query and 1 key"),
        (lambda: attention_free_energy(np.ones((4, 4), dtype=bool)), "real-valued attention scores.*a mask"),
        (lambda: attention_entropy(np.zeros((4, 4), dtype=complex)), "real-valued attention scores"),
        (lambda: attention_entropy(np.zeros((2, 4, 4)), queries=np.ones(3, bool)), r"does not broadcast to s.shape\[:-1\]"),
        (lambda: attention_entropy(np.zeros((4, 4)), queries=np.ones(4)), "boolean mask over queries"),
        (lambda: attention_distance(np.zeros((4, 4)), nonfinite="skip"), "must be one of 'raise', 'nan'"),
    ],
)
def test_errors_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()
