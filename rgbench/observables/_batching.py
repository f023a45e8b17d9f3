"""Chunked, threaded float64 batching: how every observable runs over the leading batch axes.

`_prepare` casts a chunk to float64, centres it (on selected or weighted rows) and zeroes constant
features; `_map_batched` applies a measure to prepared chunks in a thread pool (`_run_chunks`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:  # optional: without it BLAS keeps its own threads (correct, but slow on a busy machine)
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - depends on the environment
    _threadpool_limits = None

_EPS = float(np.finfo(np.float64).eps)
# float64 bytes of input processed per chunk: large enough that the batched BLAS/LAPACK calls
# dominate, small enough that allocator reuse keeps page faults (and peak memory) low.
_CHUNK_BYTES = 1 << 22


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
