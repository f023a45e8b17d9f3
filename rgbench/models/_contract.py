"""The architecture contract, checked before any compute (`check_contract`).

A network a config builds must map a batch of input symbols of shape ``(batch, T)`` (0 … V, V the
[MASK] symbol) to ``apply(inputs, collect=True) == (stream, logits)`` with ``stream`` of shape
``(batch, depth + 1, T, width)`` — the embedding output, then the stream after each block — and
``logits`` of shape ``(batch, T, V)``. A plugin family that breaks it would otherwise fail after
training, in measurement, with a broadcast error that names neither the family nor the contract.
The check traces the network abstractly (`jax.eval_shape`: no parameter is allocated, nothing runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._configs import ArchitectureConfig

__all__ = ["ArchitectureContractError", "check_contract"]


class ArchitectureContractError(ValueError):
    """A network whose ``apply`` does not return what the architecture contract asks (the message says what)."""


def check_contract(arch: ArchitectureConfig, vocab: int, length: int, *, batch: int = 2) -> None:
    """Raise `ArchitectureContractError` unless ``arch``'s network, on inputs of shape (batch, length),
    returns a stream of shape (batch, depth + 1, length, width) and logits of shape (batch, length, vocab)."""
    import jax
    import jax.numpy as jnp

    kind = getattr(arch, "kind", type(arch).__name__)
    where = f"architecture {kind!r} ({type(arch).__module__}.{type(arch).__qualname__})"
    want_stream = (batch, arch.depth + 1, length, arch.width)
    want_logits = (batch, length, vocab)
    contract = (
        f"apply(inputs of shape (batch, T) = {(batch, length)}, collect=True) must return (stream, logits) with "
        f"stream of shape (batch, depth + 1, T, width) = {want_stream} — the embedding output, then the stream "
        f"after each of the {arch.depth} blocks — and logits of shape (batch, T, V) = {want_logits}"
    )

    def run(key, inputs):
        return arch.network(vocab, length, key=key).apply(inputs, collect=True)

    try:
        out = jax.eval_shape(run, jax.random.key(0), jax.ShapeDtypeStruct((batch, length), jnp.int32))
    except Exception as e:  # whatever the family raised, named with the contract it was asked to meet
        raise ArchitectureContractError(
            f"{where}: building or applying the network failed ({type(e).__name__}: {e}); {contract}"
        ) from e
    try:
        stream, logits = out
    except (TypeError, ValueError):
        raise ArchitectureContractError(f"{where}: apply returned {type(out).__name__}, not a pair; {contract}") from None
    got_stream = None if stream is None else tuple(getattr(stream, "shape", ()))
    got_logits = tuple(getattr(logits, "shape", ()))
    if got_stream != want_stream or got_logits != want_logits:
        raise ArchitectureContractError(
            f"{where}: apply returned stream of shape {got_stream} and logits of shape {got_logits}; {contract}"
        )
