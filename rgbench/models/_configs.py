"""What a suite may say about an architecture: the config of every built-in family.

These classes are plain pydantic and import no JAX, so validating a suite (``rgbench validate``,
``list``, ``show``) costs no JAX import; each family's ``network`` imports its Equinox module
(``_tokenwise``, ``_mixer``, ``_windowed``, ``_transformer``, ``_plain``) when a network is first built.
"""

from __future__ import annotations

import abc
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ..registry import ARCHITECTURES, Component

if TYPE_CHECKING:
    from jaxtyping import PRNGKeyArray

    from ._base import AbstractArchitecture
    from ._mixer import MixerNet
    from ._plain import PlainNet
    from ._tokenwise import TokenwiseNet
    from ._transformer import TransformerNet
    from ._windowed import WindowedNet

__all__ = ["Activation", "ArchitectureConfig", "Mixer", "NetworkCost", "Norm", "Plain", "Tokenwise", "Transformer", "Windowed"]

Activation = Literal["gelu", "relu", "tanh"]
#: The largest |residual_scale| a number may give (beyond it the first block's output leaves float32).
MAX_RESIDUAL_SCALE = 100.0
Norm = Literal["layernorm", "rmsnorm", "none"]


@dataclass(frozen=True)
class NetworkCost:
    """One network's size for sequences of a given length: what an architecture states about itself.

    params: parameters (one seed); flops: forward floating-point operations for one sequence
    (2 per multiply-add); activations: floats one sequence's forward keeps for the backward pass;
    stream: floats of the recorded residual stream of one sequence, (L + 1) · T · d."""

    params: int
    flops: float
    activations: float
    stream: int


def _norm_params(norm: str, width: int) -> int:
    return {"layernorm": 2 * width, "rmsnorm": width}.get(norm, 0)


class ArchitectureConfig(Component):
    """Base of every residual MLP family: the hyperparameters every family has, and how it is built.

    The contract of a concrete (final) config, registered with ``@ARCHITECTURES.register``:

    * ``kind: Literal["name"]``, and the family's own hyperparameters as pydantic fields;
    * ``network(vocab, length, *, key)`` (abstract: a class without it cannot be registered) —
      the Equinox network, an `AbstractArchitecture` (import it inside, so that reading a suite
      does not import JAX);
    * ``context_free = True`` when the network is a `ContextFreeArchitecture` (the cost estimate
      reads it without building one);
    * optionally ``cost(vocab, length)``, the network's size in closed form.

    ``build`` (compiled, cached), ``hidden`` and ``alpha`` are derived here.
    """

    depth: int = Field(6, ge=1, le=1024, description="number of residual blocks L")
    width: int = Field(64, ge=1, le=65536, description="residual stream width d")
    hidden_mult: float = Field(4.0, gt=0, le=64, allow_inf_nan=False, description="hidden width of each MLP as a multiple of d")
    activation: Activation = Field("gelu", description="MLP nonlinearity (gelu is the exact, erf form)")
    norm: Norm = Field("layernorm", description="pre-norm of each block and before the readout")
    residual_scale: float | Literal["1", "1/sqrt(L)", "1/L"] = Field(
        1.0, description=f"branch multiplier α in h ← h + α·f(h): a number (|α| ≤ {MAX_RESIDUAL_SCALE:g}), '1/sqrt(L)' or '1/L'"
    )
    init_scale: float = Field(
        1.0,
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="multiplier on the N(0, 1/fan_in) init standard deviation of the block weights",
    )
    positions: bool = Field(False, description="add a learned positional embedding (zero at init)")

    @field_validator("residual_scale")
    @classmethod
    def _bounded_residual_scale(cls, scale: float | str) -> float | str:
        if isinstance(scale, float) and not (math.isfinite(scale) and abs(scale) <= MAX_RESIDUAL_SCALE):
            raise ValueError(f"a numeric residual_scale must be finite with |α| ≤ {MAX_RESIDUAL_SCALE:g}")
        return scale

    #: The network's output at a position depends only on that position's symbol (tokenwise, plain):
    #: training evaluates it once per symbol, so a step costs V + 1 rows, not batch · T.
    context_free: ClassVar[bool] = False
    # The family's FLOP rates relative to `rgbench.cost.FLOPS_PER_SECOND`: training (with the
    # evaluation set) and measurement. `rgbench.cost` divides the FLOPs by them; 1 unless measured
    # (`python benchmarks/cost_rates.py`: fit on the wall times of the shipped stores at the suites'
    # d = 64, T = 64; benchmarks/results/cost_rates.json).
    relative_rate: ClassVar[float] = 1.0
    measure_rate: ClassVar[float] = 1.0

    @property
    def learned_positions(self) -> bool:
        """Whether the network holds a learned (T, d) positional table (a family with other kinds of
        positions overrides this)."""
        return bool(self.positions)

    @property
    def hidden(self) -> int:
        """Hidden width of each block's MLP: round(hidden_mult · width), at least 1."""
        return max(1, round(self.hidden_mult * self.width))

    @property
    def alpha(self) -> float:
        """The residual-branch multiplier α resolved against the depth."""
        return self.alpha_for(self.residual_scale, self.depth)

    @staticmethod
    def alpha_for(residual_scale: float | str, depth: int) -> float:
        """α of a ``residual_scale`` (a number, '1', '1/sqrt(L)' or '1/L') at ``depth`` L: what `alpha`
        gives, for a resolved spec read back as a mapping (`rgbench.theory`)."""
        if residual_scale == "1":
            return 1.0
        if residual_scale == "1/sqrt(L)":
            return 1.0 / math.sqrt(depth)
        if residual_scale == "1/L":
            return 1.0 / depth
        return float(residual_scale)

    def cost(self, vocab: int, length: int) -> NetworkCost:
        """This network's size for sequences of `length` (see `rgbench.cost`): parameters, forward FLOPs
        and activations of one sequence, and its recorded stream.

        Every built-in family states it in closed form. This default serves a plugin family: it counts
        the parameters of the network built abstractly (``jax.eval_shape``: nothing is allocated) and
        takes 2 FLOPs per parameter and token, and a stream plus a normed copy and two hidden
        activations per block and token; a family that knows better overrides it."""
        import jax

        shapes = jax.eval_shape(lambda k: self.network(vocab, length, key=k), jax.random.key(0))
        params = sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(shapes) if hasattr(x, "shape"))
        hidden = self.hidden if isinstance(self.hidden_mult, (int, float)) else self.width
        return NetworkCost(
            params,
            2.0 * params * length,
            length * (self.depth * (2 * self.width + 2 * hidden) + 2 * vocab),
            (self.depth + 1) * length * self.width,
        )

    def _mlp_cost(self, vocab: int, length: int, fan_in: int, extra: NetworkCost | None = None) -> NetworkCost:
        """A stack of pre-norm channel MLPs (fan_in → hidden → width) on every token, with the shared
        embedding and readout, plus `extra` per block (the mixer's token MLP, the transformer's attention)."""
        d, h, depth = self.width, self.hidden, self.depth
        norm = _norm_params(self.norm, d)
        block = norm + fan_in * h + h + h * d + d
        embed = (vocab + 1) * d + (length * d if self.learned_positions else 0)
        readout = _norm_params(self.norm, d) + d * vocab + vocab
        flops = length * (depth * 2.0 * (fan_in * h + h * d) + 2.0 * d * vocab)
        acts = length * (depth * (3 * d + fan_in + 2 * h) + 2 * vocab)
        if extra is not None:
            block += extra.params
            flops += depth * extra.flops
            acts += depth * extra.activations
        return NetworkCost(embed + depth * block + readout, flops, acts, (depth + 1) * length * d)

    def build(self, vocab: int, length: int, *, key: PRNGKeyArray) -> AbstractArchitecture:
        """The network for inputs 0 … vocab (vocab is [MASK]) of the given length, initialised from key.

        Runs ``network`` as one compiled program (cached per config and shape), compiled without
        XLA's backend optimisations: initialisation is a handful of random draws, and optimising
        them (threefry, erf⁻¹) took seconds per config, eagerly or jitted, against under one
        second here. The same key gives bitwise-identical parameters, vmapped over keys or not.
        """
        import jax

        if isinstance(key, jax.core.Tracer):  # inside someone's trace: they compile it
            return self.network(vocab, length, key=key)
        return _compiled_builder(self, vocab, length)(key)

    @abc.abstractmethod
    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> AbstractArchitecture:
        """Construct the network (eagerly, or under a trace); ``build`` is the compiled entry point.

        Every family implements this: inputs are 0 … vocab (vocab is [MASK]), sequences of `length`.
        """


ARCHITECTURES.require(ArchitectureConfig)


@functools.lru_cache(maxsize=128)
def _compiled_builder(config: ArchitectureConfig, vocab: int, length: int) -> Callable[[PRNGKeyArray], AbstractArchitecture]:
    """The jitted `config.network` for one shape (cached): what `ArchitectureConfig.build` runs."""
    import jax

    from ._base import INIT_COMPILER_OPTIONS

    return jax.jit(lambda key: config.network(vocab, length, key=key), compiler_options=INIT_COMPILER_OPTIONS)


@ARCHITECTURES.register
class Tokenwise(ArchitectureConfig):
    """Pre-LN residual MLP applied to each position on its own (no context; bounded by the tokenwise floor)."""

    kind: Literal["tokenwise"] = "tokenwise"
    # FLOP rates (`ArchitectureConfig.relative_rate`): benchmarks/cost_rates.py on the shipped stores.
    relative_rate: ClassVar[float] = 0.82
    context_free: ClassVar[bool] = True

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> TokenwiseNet:
        from ._tokenwise import TokenwiseNet

        return TokenwiseNet(self, vocab, length, key=key)

    def cost(self, vocab: int, length: int) -> NetworkCost:
        return self._mlp_cost(vocab, length, self.width)


@ARCHITECTURES.register
class Mixer(ArchitectureConfig):
    """MLP-Mixer: pre-norm residual token-mixing MLP across positions, then a channel MLP, per block."""

    kind: Literal["mixer"] = "mixer"
    # FLOP rates (`ArchitectureConfig.relative_rate`): benchmarks/cost_rates.py on the shipped stores.
    relative_rate: ClassVar[float] = 1.6
    measure_rate: ClassVar[float] = 0.78
    token_hidden: int | None = Field(
        None,
        ge=1,
        le=4_194_304,
        description="hidden width of the token-mixing MLP; null = round(hidden_mult × length)",
    )

    def token_hidden_for(self, length: int) -> int:
        return self.token_hidden if self.token_hidden is not None else max(1, round(self.hidden_mult * length))

    def cost(self, vocab: int, length: int) -> NetworkCost:
        d, th = self.width, self.token_hidden_for(length)
        token = NetworkCost(
            _norm_params(self.norm, d) + 2 * length * th + th + length,  # one block's token MLP
            4.0 * length * th * d,
            3 * length * d + 2 * th * d,
            0,
        )
        return self._mlp_cost(vocab, length, d, token)

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> MixerNet:
        from ._mixer import MixerNet

        return MixerNet(self, vocab, length, key=key)


@ARCHITECTURES.register
class Windowed(ArchitectureConfig):
    """Residual MLP whose block at position t sees the normed stream at t−k … t+k (zero padded at the edges)."""

    kind: Literal["windowed"] = "windowed"
    # FLOP rates (`ArchitectureConfig.relative_rate`): benchmarks/cost_rates.py on the shipped stores.
    relative_rate: ClassVar[float] = 2.5
    measure_rate: ClassVar[float] = 0.82
    radius: int = Field(1, ge=0, le=4096, description="k: each block's MLP reads the 2k + 1 positions t−k … t+k")

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> WindowedNet:
        from ._windowed import WindowedNet

        return WindowedNet(self, vocab, length, key=key)

    def cost(self, vocab: int, length: int) -> NetworkCost:
        return self._mlp_cost(vocab, length, (2 * self.radius + 1) * self.width)


#: The largest window radius `attention: window:<r>` may give (the longest sequence a suite may ask for).
MAX_ATTENTION_RADIUS = 65536
_WINDOW = re.compile(r"window:([0-9]+)")


@ARCHITECTURES.register
class Transformer(ArchitectureConfig):
    """Pre-norm transformer encoder: bidirectional multi-head self-attention, then a channel MLP, per block.

    h ← h + α·MHSA(norm(h)); h ← h + α·ChannelMLP(norm(h)). Queries, keys and values project
    width → heads × head_width, and the heads' outputs project back to width (width need not equal
    heads × head_width). Trained with the masked-token objective of every family, so attention is
    bidirectional; ``attention: window:<r>`` restricts query t to keys |t − s| ≤ r.
    """

    kind: Literal["transformer"] = "transformer"
    # FLOP rates (`ArchitectureConfig.relative_rate`): benchmarks/cost_rates.py on architectures-v2's
    # store. Training at 0.81 of the mixer's rate (FLOPs say 1.25× the mixer's step time, and
    # `benchmarks/cost_ratio.py` measured 1.65–1.76×); measuring also computes every head's attention
    # (T² per head and block, in float64), which the FLOP count leaves out: hence the low measure rate.
    relative_rate: ClassVar[float] = 1.3
    measure_rate: ClassVar[float] = 0.19
    heads: int = Field(4, ge=1, le=1024, description="attention heads per block")
    head_width: int | None = Field(
        None,
        ge=1,
        le=65536,
        description="width of each head's queries, keys and values; null = width // heads",
    )
    positions: Literal["learned", "sinusoidal", "none"] = Field(
        "sinusoidal",
        description="positional information added to the token embedding: learned (a trained T × d table, zero at "
        "init, as in every family), sinusoidal (the fixed table of Vaswani et al. 2017) or none "
        "(the network is then equivariant under permutations of the positions)",
    )
    attention: str = Field(
        "full",
        pattern=r"^(full|window:[0-9]+)$",
        description="full: every position attends to every position; window:<r>: query t attends only to keys "
        f"|t − s| ≤ r (the windowed MLP's locality at radius r; 0 ≤ r ≤ {MAX_ATTENTION_RADIUS})",
    )

    @field_validator("attention", mode="before")
    @classmethod
    def _attention_form(cls, value: object) -> object:
        if not isinstance(value, str):
            return value  # pydantic's own type error
        if value == "full":
            return value
        match = _WINDOW.fullmatch(value)
        if match is None or int(match[1]) > MAX_ATTENTION_RADIUS:
            raise ValueError(
                f"attention must be 'full' or 'window:<r>' with r a whole number 0 … {MAX_ATTENTION_RADIUS} (e.g. window:2)"
            )
        return f"window:{int(match[1])}"  # one spelling per radius (window:02 is window:2)

    @model_validator(mode="after")
    def _heads_fit(self):
        if self.head_width is None and self.heads > self.width:
            raise ValueError(
                f"head_width = width // heads would be 0 ({self.width} // {self.heads}): "
                "use at most `width` heads or set `head_width`"
            )
        return self

    @property
    def learned_positions(self) -> bool:
        return self.positions == "learned"

    @property
    def resolved_head_width(self) -> int:
        """Width of each head: `head_width`, or width // heads when unset."""
        return self.head_width if self.head_width is not None else self.width // self.heads

    @property
    def window(self) -> int | None:
        """The attention radius r of ``window:<r>``; None for full attention."""
        return None if self.attention == "full" else int(self.attention.removeprefix("window:"))

    def cost(self, vocab: int, length: int) -> NetworkCost:
        """The channel-MLP stack plus one attention branch per block: norm, q/k/v projections with biases
        (d → 3·heads·head_width), the output projection with its bias, and the T² terms of QKᵀ and of the
        attention-weighted values (2·T²·heads·head_width FLOPs each). A window is a mask on the full
        T × T scores, so it costs as much as full attention. Activations: the normed input, q, k, v, the
        heads' output and the branch's output per token, and the scores and their softmax per head."""
        d, t, n = self.width, length, self.heads
        inner = n * self.resolved_head_width
        attention = NetworkCost(
            _norm_params(self.norm, d) + 3 * (d * inner + inner) + inner * d + d,
            2.0 * t * (3 * d * inner + inner * d) + 2 * 2.0 * t * t * inner,
            t * (2 * d + 4 * inner) + 2 * n * t * t,
            0,
        )
        return self._mlp_cost(vocab, length, d, attention)

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> TransformerNet:
        from ._transformer import TransformerNet

        return TransformerNet(self, vocab, length, key=key)


@ARCHITECTURES.register
class Plain(ArchitectureConfig):
    """Bias-free MLP stack h ← W φ(h) (or h ← h + α·W φ(h)), no norm, no hidden layer: exactly solvable at init.

    The reference architecture of the ``theory`` predictions; see ``rgbench.models._plain``.
    """

    kind: Literal["plain"] = "plain"
    context_free: ClassVar[bool] = True
    residual: bool = Field(False, description="true: h ← h + α·W φ(h) (α = residual_scale); false: h ← W φ(h)")
    activation: Activation = Field("relu", description="nonlinearity φ (the exact theory is for relu)")
    norm: Literal["none"] = Field("none", description="plain stacks have no normalisation; 'none' is the only value")
    init_scale: float = Field(
        math.sqrt(2.0),
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="σ_w: block weights N(0, σ_w²/width); √2 (He) is critical for relu",
    )
    hidden_mult: float | None = Field(None, description="not used: a plain block is one width × width matrix; leave unset")

    @model_validator(mode="after")
    def _plain_fields(self):
        if self.hidden_mult is not None:
            raise ValueError(
                f"a plain block is one width × width matrix with no hidden layer: leave `hidden_mult` unset "
                f"(got {self.hidden_mult!r}); use kind tokenwise for W₂ φ(W₁ h) blocks"
            )
        if not self.residual and self.residual_scale not in (1.0, "1"):
            raise ValueError(
                f"`residual_scale` ({self.residual_scale!r}) multiplies a residual branch; set `residual: true` "
                "or leave residual_scale at 1"
            )
        return self

    def network(self, vocab: int, length: int, *, key: PRNGKeyArray) -> PlainNet:
        from ._plain import PlainNet

        return PlainNet(self, vocab, length, key=key)

    def cost(self, vocab: int, length: int) -> NetworkCost:
        d, depth = self.width, self.depth
        embed = (vocab + 1) * d + (length * d if self.learned_positions else 0)
        return NetworkCost(
            embed + depth * d * d + d * vocab + vocab,
            length * (depth * 2.0 * d * d + 2.0 * d * vocab),
            length * (depth * 2 * d + 2 * vocab),
            (depth + 1) * length * d,
        )
