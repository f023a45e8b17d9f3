"""The Python API for notebooks: the CLI's commands as functions.

Re-exported at the top level and imported only when first used, so that ``import rgbench`` stays
instant: ``rgbench.run``, ``rgbench.open_results`` and ``rgbench.open_datatree`` are here;
``rgbench.score`` and ``rgbench.leaderboard`` are the modules of those names, callable as their
functions (`rgbench.score.score`, `rgbench.leaderboard.leaderboard`). Reports and leaderboards render as tables in Jupyter
(``_repr_html_``) and export to pandas (``.to_pandas()``)::

    import rgbench
    rgbench.run("suites/smoke.yaml", store="runs/smoke.zarr")
    report = rgbench.score("runs/smoke.zarr")        # a Report: shows as a table in a notebook
    report.to_pandas()                               # one row per prediction
    tree = rgbench.open_datatree("runs/smoke.zarr")   # every complete case as an xarray.DataTree
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first used: `import rgbench` stays light
    import xarray as xr

    from .runner import Outcome
    from .suite import Suite

__all__ = ["open_datatree", "open_results", "run"]


def run(
    suite: str | os.PathLike | Suite,
    store: str | os.PathLike | None = None,
    *,
    only: Sequence[str] | None = None,
    force: bool = False,
    devices: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    resources: dict[str, float] | None = None,
    overrides: Sequence[str] = (),
    plugins: Sequence[str] = (),
    quiet: bool = True,
) -> list[Outcome]:
    """Train, measure and store every case of a suite (a file path, a standard suite's name such as
    ``"smoke"`` — `rgbench.suite.standard_suites` — or a loaded `Suite`); resumable.

    As ``rgbench run``: `store` defaults to ``results/<suite>.zarr`` (and must be given with
    `overrides`, ``["train.steps=10000"]``, so a shipped store is never overwritten); `devices`
    splits each case's seeds over that many CPU devices (once per process). Returns one
    ``Outcome`` (case id, status, wall seconds) per case. Raises ``SuiteError`` for a bad suite.
    """
    from .plugins import load_plugins
    from .runner import run_suite
    from .suite import load_suite

    load_plugins(list(plugins))
    if isinstance(suite, (str, os.PathLike)):
        suite = load_suite(suite, list(overrides))
    elif overrides:
        raise ValueError("`overrides` apply to a suite file; pass its path, not a loaded Suite")
    if overrides and store is None:
        raise ValueError(
            "`overrides` change what the cases compute: give `store`, so the suite's default store is not overwritten"
        )
    if devices != 1:
        from .train import use_cpu_devices

        use_cpu_devices(devices)
    return run_suite(
        suite,
        None if store is None else str(store),
        only=only,
        force=force,
        workers=workers,
        scheduler=scheduler,
        resources=resources,
        quiet=quiet,
    )


def open_results(path: str | os.PathLike, *, load: bool = True) -> dict[str, xr.Dataset]:
    """The complete cases of a store as ``{case_id: xarray.Dataset}`` (see `rgbench.store.open_results`)."""
    from .store import open_results as _open

    return _open(path, load=load)


def open_datatree(path: str | os.PathLike, *, load: bool = True) -> xr.DataTree:
    """The complete cases of a store as one `xarray.DataTree`: a child per case, the store's attributes at the root.

    Cases of different depth keep their own ``layer`` dimension (a tree, not one dataset);
    ``tree["short-xi"].effective_rank`` is a case's variable, ``tree.attrs["suite"]`` the suite.
    """
    import xarray as xr

    from .store import Store

    cases = open_results(path, load=load)
    tree = xr.DataTree.from_dict({f"/{case_id}": ds for case_id, ds in cases.items()}, name=Path(str(path)).name)
    tree.attrs.update({k: v for k, v in Store(path).attrs().items() if k != "suite_json"})
    return tree
