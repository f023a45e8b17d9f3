"""Test-session setup. Everything in rgbench runs under a runtime type checker here.

The jaxtyping import hook decorates every function and dataclass of every ``rgbench`` module with
``@jaxtyped(typechecker=beartype)``: each call checks its arguments and return value against their
annotations, array dtypes and shapes included (``Float[Array, "batch width"]``), and the sizes a
shape string names (``batch``, ``width``, ...) must agree across the arguments and return of one
call. The hook acts when a module is first imported, so it is installed here, before anything
imports rgbench: conftest is imported before the test modules and ``helpers.py``, and nothing in
pyproject's pytest options imports rgbench (its ``filterwarnings`` entry naming
``rgbench.RgbenchWarning`` is added in ``pytest_configure`` below, after the hook, for that reason).
``tests/test_observables.py::test_the_runtime_checker_is_on`` fails if the checker is not active.

``is_pep484_tower=True``: an ``int`` satisfies a ``float`` annotation (and ``float`` a ``complex``
one), as PEP 484 says and as rgbench's signatures mean.

Not checked: rgbench processes that tests start (``rgbench run ...`` through ``helpers.run_rgbench``
and the like) import rgbench without this hook, so only what runs inside the pytest process is
checked.
"""

import sys

from jaxtyping import install_import_hook

assert "rgbench" not in sys.modules, "rgbench was imported before tests/conftest.py installed the type-checking hook"
install_import_hook("rgbench", "beartype.beartype(conf=beartype.BeartypeConf(is_pep484_tower=True))")

import itertools  # noqa: E402 - rgbench-importing modules come after the hook

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_configure(config):
    # Here, not in pyproject: resolving `rgbench.RgbenchWarning` imports rgbench, and pytest reads
    # pyproject's filters before conftest runs, so rgbench would be imported unchecked.
    config.addinivalue_line("filterwarnings", "error::rgbench.RgbenchWarning")


@pytest.fixture
def getkey():
    """Fresh, deterministic PRNG keys: `getkey()` returns a new key each call."""
    counter = itertools.count()
    return lambda: jax.random.key(next(counter))
