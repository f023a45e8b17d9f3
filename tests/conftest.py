import itertools

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    """Fresh, deterministic PRNG keys: `getkey()` returns a new key each call."""
    counter = itertools.count()
    return lambda: jax.random.key(next(counter))
