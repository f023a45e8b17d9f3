"""The abstract bases state their contracts: what a subclass leaves out fails when the class is
defined, registered or instantiated, never while a suite is scored."""

from __future__ import annotations

from typing import Literal

import jax
import pytest

from rgbench.models import (
    AbstractArchitecture,
    ArchitectureConfig,
    ContextFreeArchitecture,
    Mixer,
    Plain,
    Tokenwise,
    Transformer,
    Windowed,
)
from rgbench.predictions import AbstractTest, AbstractVectorTest, Monotone, Scaling, Threshold
from rgbench.registry import ARCHITECTURES, OBSERVABLES, TESTS, Registry


class _NoBlocks(AbstractArchitecture):
    def __init__(self):
        pass

    def apply(self, inputs, *, collect):
        raise AssertionError("never called")


class _NoPositions(ContextFreeArchitecture):
    blocks: int

    def __init__(self):
        pass

    def _trunk(self, h, *, collect):
        raise AssertionError("never called")


def test_a_network_without_its_declared_fields_cannot_be_instantiated():
    with pytest.raises(TypeError, match="abstract attributes.*blocks"):
        _NoBlocks()
    with pytest.raises(TypeError, match="abstract attributes.*(positions|readout_norm)"):
        _NoPositions()


@pytest.mark.parametrize(
    "config",
    [
        Tokenwise(depth=2, width=8),
        Mixer(depth=2, width=8),
        Windowed(depth=2, width=8),
        Transformer(depth=2, width=8),
        Plain(depth=2, width=8),
    ],
    ids=lambda c: c.kind,
)
def test_config_context_free_agrees_with_the_network_class(config):
    network = config.network(5, 6, key=jax.random.key(0))
    assert isinstance(network, AbstractArchitecture), f"{config.kind}: network is a {type(network).__name__}"
    assert config.context_free == isinstance(network, ContextFreeArchitecture), (
        f"{config.kind}: context_free = {config.context_free} but the network is a {type(network).__name__}"
    )


def test_every_registered_kind_subclasses_its_registry_base():
    registries: list[Registry] = [ARCHITECTURES, OBSERVABLES, TESTS]
    for registry in registries:
        for kind, cls in registry.items():
            assert issubclass(cls, registry.base), f"{registry.category} {kind!r} is a {cls.__mro__}"


def test_registering_a_test_without_its_methods_is_refused():
    class Half(AbstractTest):
        kind: Literal["half-done-test"] = "half-done-test"

        def label(self):
            return "half"

    with pytest.raises(TypeError, match="abstract methods unimplemented.*seed_statistics"):
        TESTS.register(Half)


def test_vector_tests_run_along_their_declared_field_and_scalar_tests_along_nothing():
    assert Monotone().along_dim == "layer", "a vector test runs along its `along` field"
    assert isinstance(Monotone(), AbstractVectorTest)
    threshold = Threshold(at_least=0.0)
    assert threshold.along_dim is None, "a scalar test runs along no dimension"
    scaling = Scaling(compare_to="other", exponent=-1.0, tolerance=0.1)
    assert scaling.along_dim is None, "Scaling's `along` names an architecture parameter, not a dimension"


def test_alpha_of_a_stored_spec_equals_the_config_alpha():
    for scale in (1.0, 0.5, "1", "1/sqrt(L)", "1/L"):
        config = Tokenwise(depth=7, residual_scale=scale)
        stored = config.model_dump(mode="json")
        assert ArchitectureConfig.alpha_for(stored["residual_scale"], stored["depth"]) == config.alpha, scale
