"""The checks every public observable runs on its arguments, once, before its body (`_arguments_first`).

Ranks, dtypes, sample counts, shapes that must agree or broadcast, options and row weights' values
(for attention scores: dtype, rank, the query mask's shape), each with a message that says what is
wrong in rgbench's terms.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

_DRIFT_METRICS = ("1-cka", "angle")
_NONFINITE = ("raise", "nan")
NonFinite = Literal["raise", "nan"]

_MATRICES = "(..., N samples, d features)"
_LAYERS = "(..., L layers, N samples, d features)"
_SCORES = "(..., T_query, T_key)"


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
    `weights`, `a`, `b`, `s`, `queries`, `nonfinite`, `metric`), each with a message that says what
    is wrong: ranks, dtypes, sample counts, shapes that must agree or broadcast, options, and row
    weights' values."""
    if "nonfinite" in args:
        _check_nonfinite(args["nonfinite"])
    if "metric" in args:
        _check_metric(args["metric"])
    if "s" in args:
        _check_scores(_array_view(args["s"]), args.get("queries"))
        return
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


def _check_scores(s: Any, queries: Any) -> None:
    """Attention scores `s` (..., T_query, T_key) and the optional boolean `queries` (..., T_query)."""
    if s.dtype.kind not in "iuf":
        hint = " (a mask? pass scores with -inf at the disallowed keys)" if s.dtype.kind == "b" else ""
        raise ValueError(f"`s` must be real-valued attention scores; got dtype {s.dtype}{hint}")
    if s.ndim < 2 or s.shape[-2] < 1 or s.shape[-1] < 1:
        raise ValueError(
            f"`s` must have shape {_SCORES} with at least 1 query and 1 key; got shape {s.shape}. "
            f"For one query's scores use s[None, :]."
        )
    if queries is None:
        return
    if np.asarray(queries).dtype != bool:
        raise ValueError(f"`queries` must be a boolean mask over queries; got dtype {np.asarray(queries).dtype}")
    if not _broadcasts(np.shape(queries), s.shape[:-1]):
        raise ValueError(f"`queries` of shape {np.shape(queries)} does not broadcast to s.shape[:-1] = {s.shape[:-1]}")


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
