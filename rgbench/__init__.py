"""rgbench: a declarative benchmark suite for renormalization-group claims about deep networks.

The notebook API (`rgbench.api`) is imported on first use, so ``import rgbench`` stays instant::

    import rgbench
    rgbench.run("suites/smoke.yaml", store="runs/smoke.zarr")
    rgbench.score("runs/smoke.zarr")          # a Report (a table in Jupyter; .to_pandas())
    rgbench.leaderboard(["runs/smoke.zarr"])
    rgbench.open_results("runs/smoke.zarr")   # {case_id: xarray.Dataset}
    rgbench.open_datatree("runs/smoke.zarr")  # the same as one xarray.DataTree
"""

from ._version import DATA_FORMAT_VERSION as DATA_FORMAT_VERSION
from ._version import __version__ as __version__


class RgbenchWarning(UserWarning):
    """Base of rgbench's own warnings (tests turn them into errors)."""


_API = ("run", "score", "leaderboard", "open_results", "open_datatree")
__all__ = ["RgbenchWarning", "__version__", "DATA_FORMAT_VERSION", *_API]


def __getattr__(name: str):
    if name in ("score", "leaderboard"):  # modules that are also callable: rgbench.score(store)
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'rgbench' has no attribute {name!r}")
