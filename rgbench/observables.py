"""Spectral and kernel observables of representations: effective rank, CKA, kernel drift.

Every function takes activations ``x`` of shape ``(..., N samples, d features)`` with any number of
leading batch dimensions (seed, stage, layer, position, ...), as a numpy or JAX array of any real
dtype, and returns a numpy ``float64`` array of shape ``(...)`` (0-d for a single matrix). One call
handles a whole batch: the work is batched matrix products and batched symmetric eigensolvers, run
over the batch in fixed-size chunks so that float32 input of several GiB never needs a float64 copy
of itself. There is no Python loop over batch elements.

Conventions shared by all functions (see ``docs/science.md``, "Observables"):

* **float64.** Input is cast to float64 chunk by chunk; spectra of nearly degenerate matrices need it.
* **Centred over samples** by default (``center=True``): ``x ← x − mean over the N axis`` (two
  passes, so the centred columns sum to zero to rounding of the centred values, not of the mean).
  Uncentred spectra are dominated by the mean (one huge singular value), so ``center=False`` is an
  explicit opt-out. After centring the rank is at most ``N − 1``: use ``N ≥ 4d``.
* **Constant features.** A feature whose range over the samples is at most ``N·ε·max|x|`` (ε the
  float64 machine epsilon) is treated as constant and centres to exactly 0, not to rounding noise.
  A constant layer therefore has a zero centred Gram matrix: rank measures 0, CKA ``nan``.
* **Spectra via the smaller Gram matrix.** Singular values come from ``eigvalsh`` of ``XᵀX``
  (``d×d``) or ``XXᵀ`` (``N×N``), whichever is smaller. Gram eigenvalues below
  ``λ_max·max(N, d)·ε`` are rounding noise of that method and are set to 0 (this also clips the tiny
  negative ones), so singular values below ≈ ``√(max(N, d)·ε)·σ_max`` (≈ 3e-7·σ_max at N = 512)
  are reported as exactly 0. Their weight in any of the rank measures here is below 1e-5.
* **Errors.** ``ValueError`` for fewer than 2 dimensions, fewer than 2 samples, non-finite values,
  non-real dtypes and mismatched shapes. ``nonfinite="nan"`` instead returns nan for every item
  (a matrix; for the layer-stack functions the whole stack) that holds a nan or inf, e.g. the
  activations of a diverged seed, and measures the rest.
* **Layer stacks.** ``cka_matrix``, ``kernel_drift`` and ``update_ratio`` take layers on axis -3:
  for activations stored as (seed, stage, layer, position, N, d) pass ``np.moveaxis(x, 2, -3)``
  (a view; chunks are gathered from it without copying the whole array).
* **Threads.** Chunks run in a thread pool of one thread per CPU with BLAS limited to one thread
  meanwhile (via ``threadpoolctl`` when installed). Letting OpenBLAS thread each small product
  instead made these calls 10-20× slower on a 2-core machine busy with other processes.

References
----------
Roy & Vetterli (2007), "The effective rank: a measure of effective dimensionality", EUSIPCO.
Gao et al. (2017), "A theory of multineuronal dimensionality, dynamics and measurement", bioRxiv 214262.
Rudelson & Vershynin (2007), "Sampling from large matrices: an approach through geometric
functional analysis", J. ACM 54(4).
Kornblith, Norouzi, Lee & Hinton (2019), "Similarity of neural network representations revisited",
ICML.
Song, Smola, Gretton, Bedo & Borgwardt (2012), "Feature selection via dependence maximization",
JMLR 13.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Real

try:  # optional: without it BLAS keeps its own threads (correct, but slow on a busy machine)
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - depends on the environment
    _threadpool_limits = None

__all__ = [
    "singular_values",
    "effective_rank",
    "participation_ratio",
    "stable_rank",
    "numerical_rank",
    "rank_measures",
    "linear_cka",
    "cka_matrix",
    "kernel_drift",
    "update_ratio",
    "cloud_distance",
]

_EPS = float(np.finfo(np.float64).eps)
# float64 bytes of input processed per chunk: large enough that the batched BLAS/LAPACK calls
# dominate, small enough that allocator reuse keeps page faults (and peak memory) low.
_CHUNK_BYTES = 1 << 22

_DRIFT_METRICS = ("1-cka", "angle")
_NONFINITE = ("raise", "nan")
NonFinite = Literal["raise", "nan"]


# --------------------------------------------------------------------------------------------
# Input handling


_MATRICES = "(..., N samples, d features)"
_LAYERS = "(..., L layers, N samples, d features)"


def _check_array(a: Any, name: str, *, min_ndim: int = 2, what: str = _MATRICES) -> None:
    """The dtype and shape checks of an array argument: `a` is anything with ``shape`` and ``dtype``
    (a numpy or JAX array, read without converting it)."""
    if a.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must be a real numeric array; got dtype {a.dtype}")
    if a.ndim < min_ndim:
        raise ValueError(
            f"`{name}` must have shape {what} with at least {min_ndim} dimensions; got shape {a.shape}. "
            f"For a single vector of samples use x[:, None]."
        )
    n, d = a.shape[-2], a.shape[-1]
    if n < 2:
        raise ValueError(
            f"`{name}` needs at least 2 samples along axis -2 (N) to centre and measure; got shape "
            f"{a.shape}. Check that axis -2 is samples and axis -1 is features."
        )
    if d < 1:
        raise ValueError(f"`{name}` needs at least 1 feature along axis -1; got shape {a.shape}")


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of `shape` broadcasts to exactly `target` (as ``np.broadcast_to`` needs)."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _check_metric(metric: str) -> None:
    if metric not in _DRIFT_METRICS:
        raise ValueError(f"unknown kernel-drift metric {metric!r}; allowed: {', '.join(map(repr, _DRIFT_METRICS))}")


def _check_arguments(args: dict[str, Any]) -> None:
    """rgbench's checks of a public observable's arguments (by name: `x`, `y`, `xs`, `rows`,
    `weights`, `a`, `b`, `nonfinite`, `metric`), each with a message that says what is wrong: ranks,
    dtypes, sample counts, shapes that must agree or broadcast, options, and row weights' values."""
    if "nonfinite" in args:
        _check_nonfinite(args["nonfinite"])
    if "metric" in args:
        _check_metric(args["metric"])
    if "xs" in args:
        xs = _array_view(args["xs"])
        _check_array(xs, "xs", min_ndim=3, what=_LAYERS)
        shape = xs.shape
        rows_shape = (*shape[:-3], shape[-2])  # weights of a layer stack: (..., N), shared by its layers
        rows_name = str(rows_shape)
    else:
        x = _array_view(args["x"])
        _check_array(x, "x")
        shape = x.shape
        rows_shape, rows_name = shape[:-1], f"x.shape[:-1] = {shape[:-1]}"
    if "y" in args:
        y = _array_view(args["y"])
        _check_array(y, "y")
        if shape[:-1] != y.shape[:-1]:
            raise ValueError(
                f"`x` and `y` must agree in all but the last (feature) axis: same batch dims and the same "
                f"N samples; got x {shape} and y {y.shape}"
            )
    for key in ("rows", "weights"):
        if args.get(key) is not None and not _broadcasts(np.shape(args[key]), rows_shape):
            raise ValueError(f"`{key}` of shape {np.shape(args[key])} does not broadcast to {rows_name}")
    if args.get("rows") is not None and args.get("weights") is not None:
        raise ValueError("pass `rows` (a selection) or `weights` (multiplicities), not both")
    for key in ("weights", "a", "b"):  # row multiplicities (`a`, `b` may instead be boolean selections)
        w = None if args.get(key) is None else np.asarray(args[key])
        if w is not None and w.dtype != bool and not (np.isfinite(w).all() and (w >= 0).all()):
            raise ValueError(f"`{key}` must be finite and non-negative (row multiplicities)")
    if "a" in args and not (_broadcasts(np.shape(args["a"]), rows_shape) and _broadcasts(np.shape(args["b"]), rows_shape)):
        raise ValueError(f"row selections of shapes {np.shape(args['a'])}, {np.shape(args['b'])} do not broadcast to {rows_name}")


def _array_view(x: Any) -> Any:
    """`x` itself when it has ``shape`` and ``dtype`` (numpy, JAX: not copied to host), else ``np.asarray(x)``."""
    return x if hasattr(x, "shape") and hasattr(x, "dtype") else np.asarray(x)


def _arguments_first(fn: Callable) -> Callable:
    """Check a public observable's arguments (`_check_arguments`) before the function is entered.

    The checks say what is wrong in rgbench's terms ("needs at least 2 samples along axis -2 ...").
    Under a run-time checker of the annotations — the test suite's jaxtyping + beartype import hook
    wraps every rgbench function, innermost — an argument of the wrong rank, dtype or size or an
    unknown option would otherwise fail the annotation check first, with the checker's message.
    Here, outside that wrapper, they run first: a caller gets the same ValueError with or without
    a checker, and the checker sees only arguments that passed them. They run once per call: the
    bodies and the private helpers behind them (`_rank_measures`, `_map_batched`) do not repeat them.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        _check_arguments(signature.bind(*args, **kwargs).arguments)
        return fn(*args, **kwargs)

    return checked


def _check_nonfinite(nonfinite: str) -> None:
    if nonfinite not in _NONFINITE:
        raise ValueError(f"`nonfinite` must be one of {', '.join(map(repr, _NONFINITE))}; got {nonfinite!r}")


def _chunks(batch: int, item_bytes: int) -> Iterator[slice]:
    """Slices over a flattened batch axis, each covering about `_CHUNK_BYTES` of float64 input."""
    step = max(1, _CHUNK_BYTES // max(1, item_bytes))
    for start in range(0, batch, step):
        yield slice(start, min(start + step, batch))


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _run_chunks(batch: int, item_bytes: int, work: Callable[[slice], object]) -> list:
    """`work(slice)` for each chunk of a batch of `batch` items, in order.

    With several chunks they run in a thread pool (numpy releases the GIL in matmul, eigvalsh and
    large ufunc loops) and BLAS is limited to ``cpus // pool`` threads meanwhile: OpenBLAS threading
    a 64×512 product gains nothing and, on a machine busy with other processes, its spinning threads
    made these calls 10× slower in wall time and CPU time alike (measured on 2 cores).
    """
    slices = list(_chunks(batch, item_bytes))
    pool_size = min(_workers(), len(slices))
    if pool_size <= 1:
        return [work(sl) for sl in slices]
    limits = (
        _threadpool_limits(limits=max(1, _workers() // pool_size), user_api="blas")
        if _threadpool_limits is not None
        else contextlib.nullcontext()
    )
    with limits, ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="rgbench-obs") as pool:
        return list(pool.map(work, slices))


def _prepare(
    block: np.ndarray,
    *,
    name: str,
    center: bool,
    batch_shape: tuple,
    offset: int,
    normalize: bool = True,
    nonfinite: str = "raise",
    rows: np.ndarray | None = None,
):
    """float64 copy of `block` (b, ..., N, d), centred, constant features zeroed, scaled to max|x| = 1.

    Returns the prepared array, the per-matrix scale max|x| (b, ...) and a mask (b,) of items that
    held non-finite values (zeroed here; only with ``nonfinite="nan"``, otherwise they raise). With
    `normalize`, the scale is divided out, so that scale-invariant measures never overflow or
    underflow and scale-dependent ones can restore it. With `rows` (b, ..., N) boolean, only the
    selected rows count: they are centred on their own mean and every other row is set to 0 (a zero
    row adds nothing to XᵀX); items with fewer than 2 selected rows are flagged like non-finite ones
    (their outputs become nan), whatever `nonfinite` says. With `rows` of a float dtype, its values
    are row multiplicities w ≥ 0: rows are centred on the w-weighted mean and scaled by √w, so
    XᵀX is that of the matrix holding row i w_i times (items with Σw < 2 are flagged).
    """
    x = np.array(block, dtype=np.float64)  # always a copy: modified in place below
    n = x.shape[-2]
    w = None
    weighted = rows is not None and np.asarray(rows).dtype != bool
    if rows is not None:
        w = np.asarray(rows, dtype=np.float64 if weighted else bool)[..., None]  # (b, ..., N, 1)
        present = w > 0 if weighted else w
        x = np.where(present, x, 0.0)  # excluded rows may hold anything, nan included: they do not count
        count = w.sum(axis=-2, keepdims=True)  # (b, ..., 1, 1)
        with np.errstate(invalid="ignore"):
            col_max = np.where(present, x, -np.inf).max(axis=-2, keepdims=True)
            col_min = np.where(present, x, np.inf).min(axis=-2, keepdims=True)
        empty = count < 1
        col_max, col_min = np.where(empty, 0.0, col_max), np.where(empty, 0.0, col_min)
        n = np.maximum(count, 1)
    else:
        col_max = x.max(axis=-2, keepdims=True)
        col_min = x.min(axis=-2, keepdims=True)
    col_abs = np.maximum(np.abs(col_max), np.abs(col_min))
    scale = col_abs.max(axis=-1, keepdims=True)  # (b, ..., 1, 1); nan/inf iff x is not finite
    bad = ~np.isfinite(scale.reshape(scale.shape[0], -1)).all(axis=-1)
    if bad.any():
        if nonfinite == "raise":
            where = np.unravel_index(offset + int(np.flatnonzero(bad)[0]), batch_shape) if batch_shape else ()
            raise ValueError(
                f"`{name}` contains non-finite values (nan or inf), first in the item at batch index "
                f"{tuple(int(i) for i in where)}; measurements need finite activations (did training diverge?). "
                f"Pass nonfinite='nan' to get nan for such items instead."
            )
        for arr in (x, col_max, col_min, col_abs, scale):
            arr[bad] = 0.0
    if w is not None:
        bad = bad | (count.reshape(count.shape[0], -1) < 2).any(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(scale > 0, 1.0 / scale, 0.0) if normalize else np.ones_like(scale)
    if center and w is not None:
        for _ in range(2):  # two passes, as below
            x -= (x * w if weighted else x).sum(axis=-2, keepdims=True) / n
            x *= present
        constant = (col_max - col_min) <= n * _EPS * col_abs
        x *= np.where(constant, 0.0, inv)
    elif center:
        x -= x.mean(axis=-2, keepdims=True)
        # Second pass: removes the rounding error of the first mean, which is relative to |x|, not to
        # the (possibly much smaller) centred values, and would otherwise leave a spurious direction.
        x -= x.mean(axis=-2, keepdims=True)
        # A constant feature centres to rounding noise of the mean, not to 0; make it exactly 0 so a
        # constant layer has a zero Gram (rank 0, CKA nan) instead of a spectrum of noise.
        constant = (col_max - col_min) <= n * _EPS * col_abs
        x *= np.where(constant, 0.0, inv)
    elif normalize:
        x *= inv
    if weighted:
        x *= np.sqrt(w)  # a row of multiplicity w adds w·xxᵀ to XᵀX
    return x, scale[..., 0, 0], bad


def _flat_items(x: np.ndarray, core_ndim: int) -> tuple[int, Callable[[slice], np.ndarray]]:
    """Number of batch items and a getter for a slice of them along the flattened batch axes.

    A view when the batch axes can be flattened without copying (e.g. contiguous input); otherwise
    (e.g. ``np.moveaxis(x, 2, -3)``) each chunk is gathered on its own, never the whole array.
    """
    batch_shape, core_shape = x.shape[:-core_ndim], x.shape[-core_ndim:]
    batch = int(np.prod(batch_shape))
    try:
        flat = np.reshape(x, (batch, *core_shape), copy=False)
    except ValueError:
        return batch, lambda sl: x[np.unravel_index(np.arange(sl.start, sl.stop), batch_shape)]
    return batch, lambda sl: flat[sl]


def _map_batched(
    fn: Callable[[np.ndarray], dict[str, np.ndarray]],
    x: np.ndarray,
    *,
    name: str,
    center: bool,
    core_ndim: int,
    normalize: bool = True,
    nonfinite: str = "raise",
    rows: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Apply `fn(prepared_chunk, scale_chunk)` over chunks of the flattened leading batch axes.

    `core_ndim` trailing axes are the per-item core (2 for a matrix, 3 for a layer stack); `fn`
    returns a dict of float arrays whose first axis is the chunk's batch axis. Items that held
    non-finite values (``nonfinite="nan"``) get nan in every output, and so do items of a matrix
    batch with fewer than 2 rows selected by `rows` (boolean, broadcast to ``x.shape[:-1]``) or of
    total weight below 2 (`weights`: row multiplicities, broadcast to ``x.shape[:-1]``, or for a
    layer stack to ``x.shape[:-3] + x.shape[-2:-1]``: every layer has the same rows).
    The public callers' arguments are checked (`_arguments_first`): names, shapes and options here
    are known to be valid; what is left to check is what the values say.
    """
    batch_shape = x.shape[:-core_ndim]
    core_shape = x.shape[-core_ndim:]
    batch, items = _flat_items(x, core_ndim)
    row_items = None
    if rows is not None:  # a selection of rows of (N, d) matrices: only rank_measures takes it
        rows = np.broadcast_to(np.asarray(rows, dtype=bool), x.shape[:-1])
        row_items = _flat_items(rows, 1)[1]
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        shape = x.shape[:-1] if core_ndim == 2 else (*x.shape[:-3], 1, x.shape[-2])
        w = np.broadcast_to(w if core_ndim == 2 else w[..., None, :], shape)
        row_items = _flat_items(w, core_ndim - 1)[1]

    def work(sl: slice) -> dict[str, np.ndarray]:
        prepared, scale, bad = _prepare(
            items(sl),
            name=name,
            center=center,
            batch_shape=batch_shape,
            offset=sl.start,
            normalize=normalize,
            nonfinite=nonfinite,
            rows=None if row_items is None else row_items(sl),
        )
        out = fn(prepared, scale)
        if bad.any():
            for val in out.values():
                val[bad] = np.nan
        return out

    parts: dict[str, list[np.ndarray]] = {}
    for result in _run_chunks(batch, 8 * int(np.prod(core_shape)), work):
        for key, val in result.items():
            parts.setdefault(key, []).append(val)
    if not parts:  # a batch axis of length 0: run fn on one dummy item only to learn the output layout
        dummy = np.ones((1, *core_shape))
        return {k: np.zeros((*batch_shape, *v.shape[1:])) for k, v in fn(dummy, np.ones(dummy.shape[:-2])).items()}
    return {k: np.concatenate(v, axis=0).reshape((*batch_shape, *v[0].shape[1:])) for k, v in parts.items()}


# --------------------------------------------------------------------------------------------
# Spectra and rank measures


def _gram_eigenvalues(x: np.ndarray) -> np.ndarray:
    """Eigenvalues λ = σ² of the smaller Gram of x (..., N, d), descending, noise set to 0."""
    n, d = x.shape[-2:]
    xt = np.swapaxes(x, -1, -2)
    gram = np.matmul(xt, x) if d <= n else np.matmul(x, xt)
    lam = np.linalg.eigvalsh(gram)[..., ::-1]
    tol = np.maximum(lam[..., :1], 0.0) * (max(n, d) * _EPS)
    return np.ascontiguousarray(np.where(lam > tol, lam, 0.0))


def _rank_measures_from_eigenvalues(lam: np.ndarray) -> dict[str, np.ndarray]:
    """erank, PR and stable rank from descending Gram eigenvalues; 0 for an all-zero spectrum."""
    lam_max = lam[..., 0]
    nonzero = lam_max > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = lam / lam_max[..., None]  # λ/λ_max ∈ [0, 1]: no overflow in the squares below
        r = np.where(nonzero[..., None], r, 0.0)
        sigma = np.sqrt(r)
        p = sigma / sigma.sum(axis=-1, keepdims=True)
        plogp = np.where(p > 0, p * np.log(p), 0.0)  # 0·ln 0 = 0
        erank = np.exp(-plogp.sum(axis=-1))
        r_sum = r.sum(axis=-1)
        pr = r_sum**2 / (r**2).sum(axis=-1)
    return {
        "effective_rank": np.where(nonzero, erank, 0.0),
        "participation_ratio": np.where(nonzero, pr, 0.0),
        "stable_rank": np.where(nonzero, r_sum, 0.0),
    }


@_arguments_first
def singular_values(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch k"]:
    """Singular values of each (N, d) matrix, descending, float64; k = min(N, d).

    Computed as σ = √λ from ``eigvalsh`` of the smaller Gram matrix (``XᵀX`` or ``XXᵀ``) of the
    (by default sample-centred) matrix. Gram eigenvalues below ``λ_max·max(N, d)·ε`` are rounding
    noise and are set to 0, so singular values below ≈ ``√(max(N, d)·ε)·σ_max`` come back as 0
    (use ``np.linalg.svd`` if you need them). With ``center=True`` at most ``min(N − 1, d)`` are
    non-zero.
    """
    a = np.asarray(x)

    def fn(xc, scale):
        return {"s": np.sqrt(_gram_eigenvalues(xc)) * scale[..., None]}

    return _map_batched(fn, a, name="x", center=center, core_ndim=2, nonfinite=nonfinite)["s"]


@_arguments_first
def rank_measures(
    x: Real[ArrayLike, "*batch n d"],
    *,
    center: bool = True,
    nonfinite: NonFinite = "raise",
    rows: Bool[ArrayLike, "*#batch n"] | None = None,
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> dict[str, Float[np.ndarray, "*batch"]]:
    """Effective rank, participation ratio and stable rank from ONE eigendecomposition per matrix.

    Returns ``{"effective_rank": ..., "participation_ratio": ..., "stable_rank": ...}``, each of
    shape ``x.shape[:-2]``; the formulas are those of :func:`effective_rank`,
    :func:`participation_ratio` and :func:`stable_rank` (all three are 0 for an all-zero matrix,
    e.g. a constant layer after centring). Use this in measurement code instead of three calls.

    ``rows`` (boolean, broadcast to ``x.shape[:-1]``) measures each matrix on its selected rows
    only — centred on their own mean, as if the others were not there — so matrices with different
    numbers of rows (the [MASK] and the token rows of each position) run as one batch. A matrix
    with fewer than 2 selected rows has no centred spectrum: nan.

    ``weights`` (non-negative, broadcast to ``x.shape[:-1]``) are row multiplicities: the matrix
    measured holds row i ``weights[i]`` times (centred on the weighted mean). A representation that
    takes few distinct values — a context-free network's stream at a position is one of V + 1
    rows — is measured from its distinct rows and their counts, equal up to rounding to measuring
    every sample. Rows of weight 0 do not count (they may hold anything); total weight < 2: nan.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite, rows=rows, weights=weights)


def _rank_measures(
    a: np.ndarray,
    *,
    center: bool,
    nonfinite: NonFinite,
    rows: Bool[ArrayLike, "*#batch n"] | None = None,
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> dict[str, Float[np.ndarray, "*batch"]]:
    """:func:`rank_measures` of arguments it has checked: what it and the single measures share."""

    def fn(xc, scale):
        return _rank_measures_from_eigenvalues(_gram_eigenvalues(xc))

    return _map_batched(fn, a, name="x", center=center, core_ndim=2, nonfinite=nonfinite, rows=rows, weights=weights)


@_arguments_first
def effective_rank(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Effective rank (Roy & Vetterli 2007), **σ-based**: exp of the entropy of normalised singular values.

    ``p_k = σ_k / Σ_j σ_j``,  ``erank = exp(−Σ_k p_k ln p_k)``  with ``0·ln 0 = 0``.

    Uses singular values σ, not eigenvalues λ = σ² (the λ-based variant gives a different number).
    Ranges over ``[1, rank]`` for a non-zero matrix; an all-zero matrix (e.g. a constant layer after
    centring) has no spectrum to normalise and is defined to have effective rank **0**.
    k equal non-zero singular values give exactly k.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite)["effective_rank"]


@_arguments_first
def participation_ratio(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Participation ratio (Gao et al. 2017): ``PR = (Σ_k λ_k)² / Σ_k λ_k²`` with ``λ_k = σ_k²``.

    The eigenvalues λ are those of the (centred) covariance up to a factor 1/N, which cancels.
    0 for an all-zero matrix.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite)["participation_ratio"]


@_arguments_first
def stable_rank(
    x: Real[ArrayLike, "*batch n d"], *, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Stable rank (Rudelson & Vershynin 2007): ``‖X‖_F² / ‖X‖_2² = Σ_k σ_k² / σ_max²``.

    0 for an all-zero matrix.
    """
    return _rank_measures(np.asarray(x), center=center, nonfinite=nonfinite)["stable_rank"]


@_arguments_first
def numerical_rank(
    x: Real[ArrayLike, "*batch n d"], *, rtol: float = 1e-6, center: bool = True, nonfinite: NonFinite = "raise"
) -> Float[np.ndarray, "*batch"]:
    """Numerical rank: ``#{k : σ_k > rtol·σ_max}`` (0 for an all-zero matrix), returned as float64.

    ``rtol`` must lie in (0, 1) and above the resolution of the Gram-eigenvalue method,
    ``√(max(N, d)·ε)`` (≈ 3.4e-7 at max(N, d) = 512); below it use ``np.linalg.matrix_rank``.
    """
    a = np.asarray(x)
    floor = float(np.sqrt(max(a.shape[-2:]) * _EPS))
    if not (0 < rtol < 1):
        raise ValueError(f"`rtol` must lie in (0, 1); got {rtol}")
    if rtol <= floor:
        raise ValueError(
            f"`rtol`={rtol:g} is below what eigenvalues of the Gram matrix resolve for this shape "
            f"(√(max(N, d)·ε) = {floor:.2g}); use rtol > {floor:.2g} or np.linalg.matrix_rank"
        )

    def fn(xc, scale):
        lam = _gram_eigenvalues(xc)
        return {"r": np.count_nonzero(lam > (rtol * rtol) * lam[..., :1], axis=-1).astype(np.float64)}

    return _map_batched(fn, a, name="x", center=center, core_ndim=2, nonfinite=nonfinite)["r"]


# --------------------------------------------------------------------------------------------
# Linear CKA
#
# Everything is written in terms of K = XXᵀ without forming it unless N < d:
#   tr(KL) = ‖XᵀY‖_F²  (feature space, cost N·dx·dy)  or  Σ_ij K_ij L_ij  (Gram space, N²),
#   diag K = row norms², K𝟙 = X(Xᵀ𝟙).
# The unbiased HSIC estimator (Song et al. 2012, eq. 5) on K̃, L̃ = K, L with zeroed diagonals is
#   HSIC₁ = [tr(K̃L̃) + (𝟙ᵀK̃𝟙)(𝟙ᵀL̃𝟙)/((n−1)(n−2)) − 2/(n−2)·(K̃𝟙)ᵀ(L̃𝟙)] / (n(n−3)),
# with tr(K̃L̃) = tr(KL) − Σ_i K_ii L_ii and K̃𝟙 = K𝟙 − diag K, so it too costs no N×N matrix.
# The factor 1/(n(n−3)) (and 1/(n−1)² of the biased HSIC) cancels in the CKA ratio.


def _kernel_terms(x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-matrix terms of the unbiased HSIC for x (..., N, d): diag K, K̃𝟙 and 𝟙ᵀK̃𝟙."""
    k = np.einsum("...nd,...nd->...n", x, x)
    s = x.sum(axis=-2)
    k1 = np.matmul(x, s[..., None])[..., 0] - k
    return {"diag": k, "rowsum": k1, "total": np.einsum("...d,...d->...", s, s) - k.sum(axis=-1)}


def _hsic_unbiased(tr_kl, diag_dot, total_k, total_l, rowsum_dot, n: int):
    """n(n−3)·HSIC₁ from its pieces (Song et al. 2012); broadcasts over all arguments."""
    return (tr_kl - diag_dot) + total_k * total_l / ((n - 1) * (n - 2)) - 2.0 * rowsum_dot / (n - 2)


def _hsic_pair(p: dict[str, np.ndarray], q: dict[str, np.ndarray], tr_kl: np.ndarray, n: int) -> np.ndarray:
    """n(n−3)·HSIC₁ between two kernels given their `_kernel_terms` and tr(KL)."""
    return _hsic_unbiased(
        tr_kl,
        np.einsum("...n,...n->...", p["diag"], q["diag"]),
        p["total"],
        q["total"],
        np.einsum("...n,...n->...", p["rowsum"], q["rowsum"]),
        n,
    )


def _use_feature_space(n: int, dx: int, dy: int) -> bool:
    # ‖XᵀY‖² costs N·dx·dy; the Gram route costs N²·(dx + dy) to form K, L plus N² to contract.
    return dx * dy <= n * (dx + dy + 1)


def _trace_products(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """tr(K L) = ‖XᵀY‖_F² for x (..., N, dx), y (..., N, dy), by the cheaper route."""
    n, dx, dy = x.shape[-2], x.shape[-1], y.shape[-1]
    if _use_feature_space(n, dx, dy):
        c = np.matmul(np.swapaxes(x, -1, -2), y)
        return np.einsum("...ij,...ij->...", c, c)
    kx = np.matmul(x, np.swapaxes(x, -1, -2))
    ky = np.matmul(y, np.swapaxes(y, -1, -2))
    return np.einsum("...ij,...ij->...", kx, ky)


def _cka_ratio(h_xy, h_xx, h_yy):
    """h_xy / √(h_xx h_yy), nan where the denominator is not positive (a degenerate kernel)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        den = h_xx * h_yy
        return np.where(den > 0, h_xy / np.sqrt(np.where(den > 0, den, 1.0)), np.nan)


def _check_debiased(n: int, debiased: bool) -> None:
    if debiased and n < 4:
        raise ValueError(f"debiased CKA needs at least 4 samples (the estimator divides by n−3); got N = {n}")


def _check_weighted(weights, debiased: bool) -> None:
    if weights is not None and debiased:
        raise ValueError(
            "`weights` apply to biased CKA only: the unbiased HSIC is not a function of the weighted "
            "Gram matrix (pass debiased=False, or repeat the rows)"
        )


@_arguments_first
def linear_cka(
    x: Real[ArrayLike, "*batch n dx"],
    y: Real[ArrayLike, "*batch n dy"],
    *,
    debiased: bool = False,
    center: bool = True,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Linear centred kernel alignment (Kornblith et al. 2019) between x (..., N, dx) and y (..., N, dy).

    ``CKA = ‖YᵀX‖_F² / (‖XᵀX‖_F ‖YᵀY‖_F)`` on sample-centred X, Y; equivalently the cosine between
    the centred Gram matrices XXᵀ and YYᵀ, so ``arccos(CKA)`` is a metric. In [0, 1]; invariant to
    orthogonal maps and isotropic scaling of either argument, not to general invertible maps.

    ``debiased=True`` replaces each HSIC in the ratio by the unbiased estimator of Song et al. (2012)
    (Gram matrices with zeroed diagonals; used for CKA by Nguyen, Raghu & Kornblith 2021, "Do wide
    and deep networks learn the same things?", ICLR); it removes the ≈ d/(N + d) floor of biased
    CKA between independent representations, and can be slightly negative. Needs N ≥ 4. The
    estimator is invariant to shifting the features, so ``center`` does not change it beyond rounding.

    The feature-space form (cost N·dx·dy) is used when it is cheaper than forming N×N Grams; the
    debiased terms are also evaluated without N×N matrices. Rows of x and y must be the same samples;
    batch shapes must be equal (use ``np.broadcast_to`` to compare one array with many).
    Returns ``nan`` where either centred Gram is zero (a constant representation: CKA undefined).
    """
    a, b = np.asarray(x), np.asarray(y)  # checked by `_arguments_first`: x and y agree but in the feature axis
    n = a.shape[-2]
    _check_debiased(n, debiased)
    batch_shape = a.shape[:-2]
    batch, x_items = _flat_items(a, 2)
    _, y_items = _flat_items(b, 2)

    # x and y have their own widths, so they are prepared separately, in lock-step chunks.
    def work(sl: slice) -> np.ndarray:
        common = dict(center=center, batch_shape=batch_shape, offset=sl.start, nonfinite=nonfinite)
        xc, _, bad_x = _prepare(x_items(sl), name="x", **common)
        yc, _, bad_y = _prepare(y_items(sl), name="y", **common)
        t_xy, t_xx, t_yy = _trace_products(xc, yc), _trace_products(xc, xc), _trace_products(yc, yc)
        if debiased:
            kx, ky = _kernel_terms(xc), _kernel_terms(yc)
            cka = _cka_ratio(_hsic_pair(kx, ky, t_xy, n), _hsic_pair(kx, kx, t_xx, n), _hsic_pair(ky, ky, t_yy, n))
        else:
            cka = _cka_ratio(t_xy, t_xx, t_yy)
        cka[bad_x | bad_y] = np.nan
        return cka

    out = _run_chunks(batch, 8 * n * (a.shape[-1] + b.shape[-1]), work)
    if not out:
        return np.zeros(batch_shape)
    return np.concatenate(out).reshape(batch_shape)


def _cka_matrix_chunk(xs: np.ndarray, debiased: bool) -> np.ndarray:
    """CKA between all layer pairs of a prepared chunk xs (b, L, N, d) → (b, L, L)."""
    b, n_layers, n, d = xs.shape
    t = np.empty((b, n_layers, n_layers))
    if _use_feature_space(n, d, d):
        # Stack layers along features once, then one product X_aᵀ[X_a … X_L] per layer a: only the
        # upper triangle of the (L·d)² cross-product matrix is formed.
        z = np.ascontiguousarray(np.moveaxis(xs, 1, 2)).reshape(b, n, n_layers * d)
        for i in range(n_layers):  # a loop over layers (L), not over batch elements
            c = np.matmul(np.swapaxes(xs[:, i], -1, -2), z[:, :, i * d :])  # (b, d, (L−i)·d)
            c = c.reshape(b, d, n_layers - i, d)
            t[:, i, i:] = np.einsum("bjmk,bjmk->bm", c, c)
            t[:, i:, i] = t[:, i, i:]
    else:
        k = np.matmul(xs, np.swapaxes(xs, -1, -2)).reshape(b, n_layers, n * n)
        t = np.matmul(k, np.swapaxes(k, -1, -2))
    if debiased:
        terms = _kernel_terms(xs)  # each (b, L, ...)
        h = _hsic_unbiased(
            t,
            np.matmul(terms["diag"], np.swapaxes(terms["diag"], -1, -2)),
            terms["total"][:, :, None],
            terms["total"][:, None, :],
            np.matmul(terms["rowsum"], np.swapaxes(terms["rowsum"], -1, -2)),
            n,
        )
    else:
        h = t
    diag = np.diagonal(h, axis1=-2, axis2=-1)
    cka = _cka_ratio(h, diag[:, :, None], diag[:, None, :])
    # The diagonal is 1 by definition wherever it is defined; don't let rounding say otherwise.
    idx = np.arange(n_layers)
    cka[:, idx, idx] = np.where(diag > 0, 1.0, np.nan)
    return cka


@_arguments_first
def cka_matrix(
    xs: Real[ArrayLike, "*batch layer n d"],
    *,
    debiased: bool = False,
    center: bool = True,
    nonfinite: NonFinite = "raise",
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> Float[np.ndarray, "*batch layer layer"]:
    """Linear CKA between every pair of layers: xs (..., L, N, d) → (..., L, L).

    Entry (a, b) is :func:`linear_cka` ``(xs[..., a, :, :], xs[..., b, :, :])`` (Kornblith et al. 2019;
    ``debiased`` as there). Each centred layer is prepared once and the cross products ``X_aᵀX_b``
    are formed only for a ≤ b (or, when N < d, the N×N Grams once per layer), so the cost is about
    L(L+1)/2 products of N×d matrices. Symmetric, with ones on the diagonal; rows and columns of a
    degenerate (constant) layer are ``nan``. ``weights`` (..., N): row multiplicities shared by all
    layers, as in :func:`rank_measures` (biased CKA only).
    """
    return _layer_cka(np.asarray(xs), _cka_matrix_chunk, debiased, center, nonfinite, weights)


def _layer_cka(
    a: np.ndarray,
    chunk: Callable[[np.ndarray, bool], np.ndarray],
    debiased: bool,
    center: bool,
    nonfinite: NonFinite,
    weights: Real[ArrayLike, "*#batch n"] | None,
) -> np.ndarray:
    """CKA between the layers of `a` (..., L, N, d) as `chunk` (a prepared chunk (b, L, N, d), debiased)
    computes it, with the checks and preparation (centring, weights, non-finite rows) of :func:`linear_cka`:
    what `cka_matrix` and `kernel_drift` share."""
    _check_debiased(a.shape[-2], debiased)
    _check_weighted(weights, debiased)
    return _map_batched(
        lambda x, scale: {"c": chunk(x, debiased)},
        a,
        name="xs",
        center=center,
        core_ndim=3,
        nonfinite=nonfinite,
        weights=weights,
    )["c"]


def _adjacent_cka_chunk(xs: np.ndarray, debiased: bool) -> np.ndarray:
    """CKA(H_ℓ, H_ℓ₊₁) for a prepared chunk xs (b, L, N, d) → (b, L − 1)."""
    n, d = xs.shape[-2:]
    if _use_feature_space(n, d, d):
        t_self = _trace_products(xs, xs)
        t_next = _trace_products(xs[:, :-1], xs[:, 1:])
    else:
        k = np.matmul(xs, np.swapaxes(xs, -1, -2))
        t_self = np.einsum("blij,blij->bl", k, k)
        t_next = np.einsum("blij,blij->bl", k[:, :-1], k[:, 1:])
    if debiased:
        terms = _kernel_terms(xs)
        diag, rowsum, total = terms["diag"], terms["rowsum"], terms["total"]
        h_self = _hsic_unbiased(
            t_self, np.einsum("bln,bln->bl", diag, diag), total, total, np.einsum("bln,bln->bl", rowsum, rowsum), n
        )
        h_next = _hsic_unbiased(
            t_next,
            np.einsum("bln,bln->bl", diag[:, :-1], diag[:, 1:]),
            total[:, :-1],
            total[:, 1:],
            np.einsum("bln,bln->bl", rowsum[:, :-1], rowsum[:, 1:]),
            n,
        )
    else:
        h_self, h_next = t_self, t_next
    return _cka_ratio(h_next, h_self[:, :-1], h_self[:, 1:])


@_arguments_first
def kernel_drift(
    xs: Real[ArrayLike, "*batch layer n d"],
    *,
    metric: Literal["1-cka", "angle"] = "1-cka",
    debiased: bool = False,
    center: bool = True,
    nonfinite: NonFinite = "raise",
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> Float[np.ndarray, "*batch transition"]:
    """Inter-layer kernel drift: xs (..., L, N, d) → (..., L − 1), one value per transition ℓ → ℓ+1.

    ``metric="1-cka"``: ``1 − CKA(H_ℓ, H_ℓ₊₁)`` (the measure of the seed paper; note that the
    Frobenius distance between unit-norm centred Grams is ``√(2(1 − CKA))``, the same information).
    ``metric="angle"``: ``θ_ℓ = arccos CKA(H_ℓ, H_ℓ₊₁)`` ∈ [0, π/2], the angle between centred Gram
    matrices, which is a metric on kernels (so drifts along a path obey the triangle inequality).
    With ``debiased=True`` CKA can be slightly negative (θ up to π) and θ is no longer a metric.
    CKA is linear CKA (Kornblith et al. 2019; ``debiased`` and ``center`` as in :func:`linear_cka`),
    computed only for adjacent pairs: 2L − 1 products of N×d matrices. ``nan`` where either layer is
    constant. Rows must be the same probe samples for every layer. ``weights`` (..., N): row
    multiplicities shared by all layers, as in :func:`rank_measures` (biased CKA only).
    """
    a = np.asarray(xs)
    if a.shape[-3] < 2:
        raise ValueError(f"kernel drift needs at least 2 layers along axis -3; got shape {a.shape}")
    cka = _layer_cka(a, _adjacent_cka_chunk, debiased, center, nonfinite, weights)
    if metric == "angle":
        with np.errstate(invalid="ignore"):
            return np.arccos(np.clip(cka, -1.0, 1.0))
    return 1.0 - cka


@_arguments_first
def update_ratio(
    xs: Real[ArrayLike, "*batch layer n d"],
    *,
    nonfinite: NonFinite = "raise",
    weights: Real[ArrayLike, "*#batch n"] | None = None,
) -> Float[np.ndarray, "*batch transition"]:
    """Relative size of each block's update: ``‖H_ℓ₊₁ − H_ℓ‖_F / ‖H_ℓ‖_F``, xs (..., L, N, d) → (..., L − 1).

    **Uncentred** (the residual update itself, mean included), on the raw activations. Reported next
    to kernel drift so that one dominant block is not mistaken for a fixed-point plateau
    (``docs/engineering.md``, "Measuring"). IEEE conventions for a zero layer: ``inf`` if the next layer
    is non-zero, ``nan`` if both are zero (no warnings are raised). ``weights`` (..., N): row
    multiplicities shared by all layers, as in :func:`rank_measures`.
    """
    a = np.asarray(xs)
    if a.shape[-3] < 2:
        raise ValueError(f"update ratio needs at least 2 layers along axis -3; got shape {a.shape}")

    def fn(h, scale):
        diff = h[:, 1:] - h[:, :-1]
        num = np.sqrt(np.einsum("blnd,blnd->bl", diff, diff))
        den = np.sqrt(np.einsum("blnd,blnd->bl", h[:, :-1], h[:, :-1]))
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"r": num / den}

    return _map_batched(fn, a, name="xs", center=False, core_ndim=3, normalize=False, nonfinite=nonfinite, weights=weights)["r"]


@_arguments_first
def cloud_distance(
    x: Real[ArrayLike, "*batch n d"],
    a: Bool[ArrayLike, "*#batch n"] | Real[ArrayLike, "*#batch n"],
    b: Bool[ArrayLike, "*#batch n"] | Real[ArrayLike, "*#batch n"],
    *,
    nonfinite: NonFinite = "raise",
) -> Float[np.ndarray, "*batch"]:
    """Distance between the means of two sets of rows, in units of the second set's RMS radius.

    ``D = ‖μ_a − μ_b‖ / r_b`` with ``μ`` the mean row of each set and
    ``r_b = (mean_{i∈b} ‖x_i − μ_b‖²)^½`` (two-pass, float64). In measurement: a = the rows whose
    input is [MASK], b = the token rows, so D says how far the [MASK] symbol's stream sits from the
    cloud of real tokens. ``a``, ``b`` are boolean, broadcast to ``x.shape[:-1]``, or non-negative
    row multiplicities (as ``weights`` in :func:`rank_measures`; a row of weight 0 in both does not
    count). nan where a has no row or b fewer than 2, or where the item holds a non-finite value
    (``nonfinite="nan"``); inf where b's rows are all equal and the means differ.
    """
    arr = np.asarray(x)
    shape = arr.shape[:-1]
    a, b = (np.broadcast_to(v if v.dtype == bool else v.astype(np.float64), shape) for v in map(np.asarray, (a, b)))
    batch, items = _flat_items(arr, 2)
    a_items, b_items = _flat_items(a, 1)[1], _flat_items(b, 1)[1]

    def work(sl: slice) -> np.ndarray:
        h = np.array(items(sl), dtype=np.float64)
        wa, wb = a_items(sl).astype(np.float64), b_items(sl).astype(np.float64)
        h[(wa == 0) & (wb == 0)] = 0.0  # rows in neither set do not count
        na, nb = wa.sum(axis=-1), wb.sum(axis=-1)
        finite = np.isfinite(h).all(axis=(-2, -1))
        if not finite.all():
            if nonfinite == "raise":
                raise ValueError(
                    "`x` contains non-finite values (nan or inf); pass nonfinite='nan' to get nan for such items instead"
                )
            h[~finite] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mu_a = np.einsum("bn,bnd->bd", wa, h) / na[:, None]
            mu_b = np.einsum("bn,bnd->bd", wb, h) / nb[:, None]
            mu_b += np.einsum("bn,bnd->bd", wb, h - mu_b[:, None, :]) / nb[:, None]  # second pass: the mean's rounding
            h -= mu_b[:, None, :]
            radius = np.sqrt(np.einsum("bn,bn->b", wb, np.einsum("bnd,bnd->bn", h, h)) / nb)
            dist = np.linalg.norm(mu_a - mu_b, axis=-1) / radius
        return np.where(finite & (na >= 1) & (nb >= 2), dist, np.nan)

    parts = _run_chunks(batch, 8 * int(np.prod(arr.shape[-2:])), work)
    return (np.concatenate(parts) if parts else np.zeros(0)).reshape(shape[:-1])
