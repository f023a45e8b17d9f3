"""Masked-token training: optax, ``lax.scan`` chunks of steps, every seed of a case in one program.

``train(arch, data, cfg, seeds)`` builds one network per seed and trains all of them together:
one jitted function runs a ``lax.scan`` of ``cfg.log_every`` optimizer steps for every seed, so
Python runs once per chunk, not once per step or per seed. Inside it the seeds are ``vmap``ped
where a seed-step is small and otherwise run one after another (``seeds_per_vmap``), and split
over several devices where there are several (``SeedPlacement``). Each step draws a fresh batch on
device from the case's input distribution, corrupts it, and minimises the mean cross-entropy over
the scored (masked) positions. A seed whose loss or parameters stop being finite is frozen at its
last finite parameters and reported as diverged; the other seeds train on.

Keys (paired comparisons): seed s → ``k = jax.random.key(s)``; the network is built from
``fold_in(k, 0)`` and the batch of step i from ``fold_in(fold_in(k, 1), i)``. Seed s of two cases
with the same architecture therefore starts from the same parameters, and two cases with the same
input see the same batches. The evaluation set is drawn once from the fixed ``EVAL_KEY`` seed,
whatever the seeds, so the model losses and the exact floors are computed on the same sequences.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Integer, Key

from ._placement import SeedPlacement, use_cpu_devices
from ._train_config import TrainConfig
from .checkpoint import Checkpoints
from .inputs import AbstractInput
from .models import AbstractArchitecture, ArchitectureConfig
from .models._base import INIT_COMPILER_OPTIONS, ContextFreeArchitecture, stack_blocks, unstack_blocks

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train",
    "forward",
    "symbol_tables",
    "masked_loss",
    "make_optimizer",
    "EVAL_KEY",
    "use_cpu_devices",
]

EVAL_KEY = 2**31 - 1
"""Seed of the evaluation set's key: identical for every seed and every case with the same input."""

COMPILER_OPTIONS: dict = {}
"""XLA options for the training, evaluation and forward programs (tests lower the optimisation
level: compiling takes most of a tiny test's time, and the default optimisations were measured
to matter: level 1 ran the tokenwise step 2× slower)."""

_EVAL_CHUNK = 128  # sequences per evaluation / forward chunk (bounds the activations held at once)
_FORWARD_BYTES = 64 * 2**20  # target size of one forward chunk's stream output
_DRAW_BYTES = 64 * 2**20  # target size of the batches drawn at once inside a training chunk
_VMAP_WORK = 1_000_000  # seeds are vmapped together while a seed-step is below ~this many multiply-adds


@dataclass(frozen=True)
class TrainResult:
    """Everything training hands to measurement and storage.

    ``init`` and ``trained`` are networks stacked over seeds (every array leaf has a leading seed
    axis; ``forward`` runs them), and so is each of ``snapshots`` (the networks at a step of training). ``loss[s, i]`` is seed s's mean training loss over the
    ``log_every`` steps ending at ``steps[i]`` (nan from the chunk where it diverged on).
    ``final_loss[s]`` is the mean cross-entropy over all scored positions of the evaluation set
    (``eval_*``, the same for every seed), nan if the seed diverged.
    """

    init: AbstractArchitecture
    trained: AbstractArchitecture
    steps: np.ndarray  # int64 (n_log,)
    loss: np.ndarray  # float32 (seed, n_log)
    final_loss: np.ndarray  # float64 (seed,)
    diverged: np.ndarray  # bool (seed,)
    eval_tokens: np.ndarray  # int32 (eval_sequences, length)
    eval_inputs: np.ndarray  # int32 (eval_sequences, length)
    eval_scored: np.ndarray  # bool (eval_sequences, length)
    wall_seconds: float
    devices: int = 1  # devices the seed axis was split over (see SeedPlacement)
    resumed_from: int = 0  # the step a checkpoint resumed training at (0: trained from the start here)
    snapshots: dict[int, AbstractArchitecture] = field(default_factory=dict)  # step → networks at that step

    @property
    def status(self) -> list[str]:
        """Per seed: ``complete`` or ``diverged``."""
        return ["diverged" if d else "complete" for d in self.diverged]


# ---------------------------------------------------------------------------------------------
# Optimizer


def learning_rate(cfg: TrainConfig) -> optax.Schedule:
    """Linear warmup 0 → lr over ``warmup`` steps, then constant or cosine decay to 0 at ``steps``."""
    if cfg.schedule == "cosine":
        total = max(cfg.steps, cfg.warmup + 1)
        return optax.warmup_cosine_decay_schedule(0.0, cfg.lr, cfg.warmup, total, end_value=0.0)
    if cfg.warmup == 0:
        return optax.constant_schedule(cfg.lr)
    return optax.join_schedules([optax.linear_schedule(0.0, cfg.lr, cfg.warmup), optax.constant_schedule(cfg.lr)], [cfg.warmup])


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    """clip (optional) → L2 (adam/sgd with weight_decay) → adam / adamw / sgd with the schedule."""
    lr = learning_rate(cfg)
    parts = []
    if cfg.clip is not None:
        parts.append(optax.clip_by_global_norm(cfg.clip))
    if cfg.optimizer == "adamw":
        parts.append(optax.adamw(lr, weight_decay=cfg.weight_decay))
    else:
        if cfg.weight_decay > 0:
            parts.append(optax.add_decayed_weights(cfg.weight_decay))
        parts.append(optax.adam(lr) if cfg.optimizer == "adam" else optax.sgd(lr))
    return optax.chain(*parts)


# ---------------------------------------------------------------------------------------------
# Objective


def masked_loss(
    model: AbstractArchitecture,
    tokens: Int[Array, "batch position"],
    inputs: Int[Array, "batch position"],
    scored: Bool[Array, "batch position"],
) -> Float[Array, ""]:
    """Mean cross-entropy over the scored positions of a batch: Σ CE·scored / max(Σ scored, 1)."""
    total, count = model.masked_ce_sum(tokens, inputs, scored)
    return total / jnp.maximum(count, 1.0)


def _all_finite(tree) -> Bool[Array, ""]:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree) if eqx.is_inexact_array(x)]
    return jnp.stack(leaves).all() if leaves else jnp.bool_(True)


def _select(pred: Bool[Array, ""], on_true, on_false):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


def _shapes(arch: ArchitectureConfig, vocab: int, length: int):
    """The network with every array replaced by its ``jax.ShapeDtypeStruct`` (nothing computed)."""
    return eqx.filter_eval_shape(arch.build, vocab, length, key=jax.random.key(0))


def _training_static(shapes):
    """The static part (structure and hyperparameters) of ``_shapes``' network, in the training layout."""
    if shapes.unroll_in_training:
        shapes = unstack_blocks(shapes)
    return eqx.partition(shapes, lambda x: isinstance(x, jax.ShapeDtypeStruct))[1]


def _to_training_layout(models):
    """Seed-stacked networks → the layout the step runs fastest on (per-layer blocks where it pays)."""
    return unstack_blocks(models, axis=1) if models.unroll_in_training else models


def _to_storage_layout(models):
    return stack_blocks(models, axis=1)


def _steps_per_draw(n_steps: int, batch: int, length: int, n_seeds: int) -> int:
    """Largest divisor q of n_steps such that q steps' batches of all seeds stay near _DRAW_BYTES."""
    per_step = n_seeds * batch * length * 48  # tokens, inputs, scored and the sampler's temporaries
    limit = max(1, _DRAW_BYTES // per_step)
    return max(q for q in range(1, n_steps + 1) if n_steps % q == 0 and q <= limit)


@functools.lru_cache(maxsize=32)
def _chunk_program(arch: ArchitectureConfig, data, cfg: TrainConfig, n_steps: int, n_seeds: int, sharding=None):
    """Jitted: (params, opt_state, alive, data_keys, start) → same, plus losses (seed, n_steps).

    Batches are drawn q steps at a time, vectorised over steps (the sampler's and the RNG's
    fixed per-operation costs are paid once per q steps, not per step), and reduced to the
    objective's ``batch_statistics`` before the q optimizer steps run in a ``lax.scan``. The
    batch of step i is drawn from ``fold_in(data_key, i)`` whatever q is.

    Divergence costs nothing per step: a seed is marked dead at its first non-finite loss and,
    at the end of the chunk (or if its parameters are no longer finite), its parameters and
    optimizer state are put back to those it started the chunk with: the last ones known finite.
    Cached on (architecture, input, train config, chunk length, seeds), so calling ``train`` again
    for the same case (e.g. one seed at a time) reuses the compiled program.
    """
    shapes = _shapes(arch, data.vocab, data.length)
    static = _training_static(shapes)
    opt = make_optimizer(cfg)
    q = _steps_per_draw(n_steps, cfg.batch, data.length, n_seeds)

    def loss_fn(params, statistics):
        total, count = eqx.combine(params, static).ce_sum(statistics)
        return total / jnp.maximum(count, 1.0)

    def one_seed(params, opt_state, alive, data_key, start):
        model = eqx.combine(params, static)  # batch_statistics reads only static structure

        def draw(i):
            k_sample, k_corrupt = jax.random.split(jax.random.fold_in(data_key, start + i))
            tokens = data.sample(k_sample, cfg.batch)
            inputs, scored = data.corrupt(k_corrupt, tokens)
            return model.batch_statistics(tokens, inputs, scored)

        def step(carry, statistics):
            params, opt_state, alive = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, statistics)
            updates, opt_state = opt.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            return (params, opt_state, alive & jnp.isfinite(loss)), jnp.where(alive, loss, jnp.nan)

        def steps(carry, idx):
            return jax.lax.scan(step, carry, jax.vmap(draw)(idx))

        idx = jnp.arange(n_steps).reshape(n_steps // q, q)
        carry = (params, opt_state, alive)
        if n_steps == q:
            carry, losses = steps(carry, idx[0])
        else:
            carry, losses = jax.lax.scan(steps, carry, idx)
        new_params, new_state, alive = carry
        alive = alive & _all_finite(new_params)
        losses = losses.reshape(n_steps)
        return _select(alive, new_params, params), _select(alive, new_state, opt_state), alive, losses

    program = _over_seeds(
        one_seed, n_seeds, 1 if sharding is None else sharding.mesh.size, seeds_per_vmap(shapes, cfg.batch, data.length)
    )
    if sharding is None:
        return _jit(program)
    # Seed-sharded: outputs laid out like the inputs, so every chunk reuses one compiled program.
    replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
    return _jit(program, in_shardings=(sharding,) * 4 + (replicated,), out_shardings=(sharding,) * 4)


def seeds_per_vmap(network: AbstractArchitecture, batch: int, length: int) -> int:
    """How many seeds one device trains in lockstep (vmapped); the rest of its share run one
    group after another (``lax.map``).

    ``network`` may be abstract (``eqx.filter_eval_shape``): only its structure and parameter
    shapes are read. A seed-step costs about rows × parameters multiply-adds, where rows are the
    (V + 1)·P symbol-table rows of a context-free network and batch × T otherwise. Vmapping seeds
    amortises per-operation costs, which only matter while that work is small (tiny networks);
    above ``_VMAP_WORK`` it did not pay on the reference machine: vmapped seeds run the same
    matmuls batched, no larger, with every seed's weights, gradients and Adam moments live at
    once. ``benchmarks/seed_scaling.py`` measures it: 10 seeds of the tokenwise seed config (3.4M
    multiply-adds a seed-step) trained 1.26× faster one after another than in lockstep on one
    device, 1.44× on two (``benchmarks/results/seed_scaling.json``). Networks that see batch × T
    rows (mixer, windowed) are far above the threshold and always train one seed at a time.
    """
    if isinstance(network, ContextFreeArchitecture):
        rows = network.table_positions * (network.vocab + 1)
    else:
        rows = batch * length
    params = sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(network) if hasattr(x, "shape"))
    return max(1, _VMAP_WORK // max(1, rows * params))


def _over_seeds(one_seed, n_seeds: int, n_devices: int, group: int):
    """``one_seed`` over a leading seed axis split into ``n_devices`` equal shares: vmapped over the
    shares (one per device when sharded), within a share vmapped in groups of ``group`` seeds run
    one after another."""
    per_device = n_seeds // n_devices
    if group >= per_device:
        return jax.vmap(one_seed, in_axes=(0, 0, 0, 0, None))

    def program(params, opt_state, alive, data_keys, start):
        def share(*arrays):
            return jax.lax.map(lambda xs: one_seed(*xs, start), arrays, batch_size=group)

        def split(x):
            return x.reshape((n_devices, per_device) + x.shape[1:])

        def merge(x):
            return x.reshape((n_seeds,) + x.shape[2:])

        arrays = jax.tree_util.tree_map(split, (params, opt_state, alive, data_keys))
        return jax.tree_util.tree_map(merge, jax.vmap(share)(*arrays))

    return program


@functools.lru_cache(maxsize=32)
def _opt_init_program(cfg: TrainConfig):
    return _jit(jax.vmap(make_optimizer(cfg).init))


@functools.lru_cache(maxsize=32)
def _init_program(arch: ArchitectureConfig, vocab: int, length: int):
    build = jax.vmap(lambda k: arch.build(vocab, length, key=k))
    return jax.jit(build, compiler_options=INIT_COMPILER_OPTIONS)


@functools.lru_cache(maxsize=32)
def _eval_set_program(data, n: int):
    def draw():
        k_sample, k_corrupt = jax.random.split(jax.random.key(EVAL_KEY))
        tokens = data.sample(k_sample, n)
        inputs, scored = data.corrupt(k_corrupt, tokens)
        return tokens, inputs, scored

    return _jit(draw)


def _chunked(x: np.ndarray, size: int, fill) -> np.ndarray:
    """(n, …) → (ceil(n / size), size, …), padding the last chunk with ``fill``."""
    n = x.shape[0]
    m = -(-n // size)
    pad = np.full((m * size - n,) + x.shape[1:], fill, dtype=x.dtype)
    return np.concatenate([x, pad]).reshape((m, size) + x.shape[1:])


def _jit(fun, **shardings):
    """``jax.jit`` with the current ``COMPILER_OPTIONS``, one wrapper per (function, options)."""
    return _jit_cached(fun, tuple(sorted(COMPILER_OPTIONS.items())), tuple(sorted(shardings.items())))


@functools.lru_cache(maxsize=64)
def _jit_cached(fun, options, shardings=()):
    return jax.jit(fun, compiler_options=dict(options) or None, **dict(shardings))


def _eval_sums(models, tokens, inputs, scored):
    """Per seed and chunk: (Σ CE over scored positions, number scored); chunks run one at a time."""

    def one_seed(model):
        return jax.lax.map(lambda c: model.masked_ce_sum(*c), (tokens, inputs, scored))

    return eqx.filter_vmap(one_seed)(models)


def evaluation_loss(
    models: AbstractArchitecture,
    tokens: Integer[ArrayLike, "n length"],
    inputs: Integer[ArrayLike, "n length"],
    scored: Bool[ArrayLike, "n length"],
) -> Float[np.ndarray, " seed"]:
    """Mean cross-entropy over all scored positions of (tokens, inputs, scored), per seed, float64."""
    tokens, inputs, scored = (np.asarray(a) for a in (tokens, inputs, scored))
    size = min(_EVAL_CHUNK, tokens.shape[0])
    sums, counts = _jit(_eval_sums)(models, _chunked(tokens, size, 0), _chunked(inputs, size, 0), _chunked(scored, size, False))
    sums = np.asarray(sums, dtype=np.float64).sum(axis=1)
    counts = np.asarray(counts, dtype=np.float64).sum(axis=1)
    return sums / np.maximum(counts, 1.0)


# ---------------------------------------------------------------------------------------------
# Training


def chunk_lengths(steps: int, log_every: int) -> list[int]:
    """Steps per compiled chunk: ``log_every`` each, the remainder (if any) last."""
    chunks = [log_every] * (steps // log_every)
    if steps % log_every:
        chunks.append(steps % log_every)
    return chunks


def seed_stream_keys(seeds: Sequence[int], stream: int) -> Key[Array, " seed"]:
    """``fold_in(key(s), stream)`` for each seed s: stream 0 builds the network, 1 draws its training
    batches; measurement's theory draws use their own (`rgbench._theory_measure.THEORY_DATA_STREAM`)."""
    base = jnp.stack([jax.random.key(int(s)) for s in seeds])
    return jax.vmap(lambda k: jax.random.fold_in(k, stream))(base)


def seed_keys(seeds: Sequence[int]) -> tuple[Key[Array, " seed"], Key[Array, " seed"]]:
    """(model init keys, data stream keys), one per seed: streams 0 and 1 of `seed_stream_keys`."""
    return seed_stream_keys(seeds, 0), seed_stream_keys(seeds, 1)


def train(
    arch: ArchitectureConfig,
    data: AbstractInput,
    cfg: TrainConfig,
    seeds: Sequence[int],
    *,
    progress: Callable[[int, int, np.ndarray], None] | None = None,
    checkpoints: Checkpoints | None = None,
    snapshot_steps: Sequence[int] = (),
) -> TrainResult:
    """Train one network per seed on ``data`` (an ``AbstractInput``) as one compiled program.

    ``progress(step_done, total_steps, loss_per_seed)`` is called after each chunk of
    ``cfg.log_every`` steps with that chunk's mean loss per seed, and once with ``loss_per_seed``
    None where a checkpoint resumed training, at that step. With `checkpoints`
    (`rgbench.checkpoint.Checkpoints`, whose ``every`` is a multiple of ``cfg.log_every``) training
    starts from the newest usable checkpoint, if any, and saves its state every ``every`` steps: the
    result is bitwise that of a run never interrupted. ``snapshot_steps`` (ends of chunks, before
    ``cfg.steps``) are the steps whose networks `TrainResult.snapshots` keeps, for observables along
    training (``measure.stages: [init, 500, trained]``).
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("train needs at least one seed; got an empty list")
    start_time = time.perf_counter()
    init_keys, data_keys = seed_keys(seeds)
    init = _init_program(arch, data.vocab, data.length)(init_keys)
    if any(s <= 0 or s >= cfg.steps or s % cfg.log_every for s in snapshot_steps):
        raise ValueError(
            f"snapshot steps {list(snapshot_steps)} must lie strictly between 0 and {cfg.steps} and be "
            f"multiples of log_every ({cfg.log_every})"
        )
    return _fit(
        arch,
        data,
        cfg,
        init,
        data_keys,
        progress=progress,
        start_time=start_time,
        checkpoints=checkpoints,
        snapshot_steps=snapshot_steps,
    )


def _resume(checkpoints, state, placement):
    """(step to resume at, state) from the newest usable checkpoint, or (0, state) without one.
    The state is saved as the devices hold it (seeds padded to the devices), and put back so."""
    if checkpoints is None or checkpoints.latest() is None:  # nothing to read: touch no array (no wait on the device)
        return 0, state
    found = checkpoints.load(jax.tree_util.tree_map(np.asarray, state))
    if found is None:
        return 0, state
    step, (device_state, loss) = found
    sharding = placement.sharding
    put = (lambda x: jax.device_put(x, sharding)) if sharding is not None else jnp.asarray
    return step, (jax.tree_util.tree_map(put, device_state), np.array(loss))


def _run_chunks(run_chunk, state, loss, ends, *, resumed, collect, checkpoints, snapshot_steps, steps):
    """Run every chunk ending after `resumed`; returns the final device state.

    ``state`` is (params, opt_state, alive, snapshots), ``run_chunk(state, i, start)`` its next value
    and chunk i's losses. Chunk i is dispatched before chunk i − 1's losses are read, so the device
    never waits on Python; where a checkpoint is due the chunk's losses are read at once, since a
    checkpoint holds them too. The parameters at each of `snapshot_steps` are kept (an array is
    immutable: a reference, no copy) in ``snapshots``, whose slots start as the initial parameters."""
    every = 0 if checkpoints is None else checkpoints.every
    pending = None
    for i, end in enumerate(ends):
        if end <= resumed:
            continue
        (params, opt_state, alive, snapshots), losses = run_chunk(state, i, int(ends[i - 1]) if i else 0)
        snapshots = tuple(params if s == end else snap for s, snap in zip(snapshot_steps, snapshots))
        state = (params, opt_state, alive, snapshots)
        if pending is not None and collect(*pending):
            return state
        pending = (i, losses, alive)
        if every and end % every == 0 and end < steps:
            if collect(*pending):
                return state
            pending = None
            checkpoints.save(int(end), steps, (state, loss))
    if pending is not None:
        collect(*pending)
    return state


def _fit(arch, data, cfg, init, data_keys, *, progress=None, start_time=None, checkpoints=None, snapshot_steps=()) -> TrainResult:
    """Train the stacked networks ``init`` (one per data key); see ``train``."""
    start_time = time.perf_counter() if start_time is None else start_time
    n_seeds = len(data_keys)
    placement = SeedPlacement.for_seeds(n_seeds)
    params, static = eqx.partition(_to_training_layout(init), eqx.is_array)
    params, data_keys = placement.spread(params), placement.spread(data_keys)
    opt_state = placement.spread(_opt_init_program(cfg)(params))
    alive = placement.spread(jnp.ones((n_seeds,), bool))
    snapshot_steps = tuple(int(s) for s in snapshot_steps)
    state = (params, opt_state, alive, (params,) * len(snapshot_steps))

    chunks = chunk_lengths(cfg.steps, cfg.log_every)
    ends = np.cumsum(chunks, dtype=np.int64)
    loss = np.full((n_seeds, len(chunks)), np.nan, np.float32)
    if checkpoints is not None:  # a state saved on another number of devices would round differently
        checkpoints = checkpoints.for_devices(len(placement.devices))
    resumed, (state, loss) = _resume(checkpoints, (state, loss), placement)
    if resumed and progress is not None:
        progress(int(resumed), cfg.steps, None)

    def run_chunk(state, i, start):
        params, opt_state, alive, snapshots = state
        program = _chunk_program(arch, data, cfg, chunks[i], placement.padded, placement.sharding)
        params, opt_state, alive, losses = program(params, opt_state, alive, data_keys, jnp.int32(start))
        return (params, opt_state, alive, snapshots), losses

    def collect(i, losses, alive_now) -> bool:
        """Record chunk i's losses; report progress; True when every seed has diverged."""
        loss[:, i] = np.asarray(losses, np.float32)[:n_seeds].mean(axis=1)
        if progress is not None:
            progress(int(ends[i]), cfg.steps, loss[:, i].copy())
        return not bool(np.asarray(alive_now)[:n_seeds].any())

    params, _, alive, snapshots = _run_chunks(
        run_chunk,
        state,
        loss,
        ends,
        resumed=resumed,
        collect=collect,
        checkpoints=checkpoints,
        snapshot_steps=snapshot_steps,
        steps=cfg.steps,
    )

    def stored(p):
        return _to_storage_layout(eqx.combine(placement.gather(p), static))

    trained = stored(params)
    alive = placement.gather(alive)
    tokens, inputs, scored = _eval_set_program(data, cfg.eval_sequences)()
    final = evaluation_loss(trained, tokens, inputs, scored)
    diverged = ~np.asarray(alive) | ~np.isfinite(final)
    final = np.where(diverged, np.nan, final)
    return TrainResult(
        init=init,
        trained=trained,
        steps=ends,
        loss=loss,
        final_loss=final.astype(np.float64),
        diverged=diverged.astype(np.bool_),
        eval_tokens=np.asarray(tokens, np.int32),
        eval_inputs=np.asarray(inputs, np.int32),
        eval_scored=np.asarray(scored, np.bool_),
        wall_seconds=time.perf_counter() - start_time,
        devices=len(placement.devices),
        resumed_from=int(resumed),
        snapshots={s: stored(p) for s, p in zip(snapshot_steps, snapshots)},
    )


# ---------------------------------------------------------------------------------------------
# Forward pass for measurement


def _forward_chunk(models, inputs: Int[Array, "n position"]):
    def one_seed(model):
        if isinstance(model, ContextFreeArchitecture):
            # Context-free (tokenwise, plain): the stream at (t, x_t) is a row of the symbol table; gather it.
            table, logits = model.symbol_table()  # (P, S, L+1, d), (P, S, V)
            rows = (
                jnp.zeros_like(inputs)
                if model.table_positions == 1
                else jnp.broadcast_to(jnp.arange(inputs.shape[1]), inputs.shape)
            )
            return jnp.moveaxis(table[rows, inputs], 2, 1), logits[rows, inputs]
        return model.apply(inputs, collect=True)

    return eqx.filter_vmap(one_seed)(models)


def _tables(models):
    return eqx.filter_vmap(lambda model: model.symbol_table()[0])(models)


def symbol_tables(models: AbstractArchitecture) -> Float[np.ndarray, "seed table symbol layer width"] | None:
    """The streams of stacked context-free networks for every (position row, symbol), or None.

    A context-free network's stream at position t is ``table[p(t), x_t]`` (p(t) = 0 without
    learned positions, t with them; see ``ContextFreeArchitecture.symbol_table``): measurement
    needs only this table and the probe's symbol counts, not the seed × n × layer × T × d streams.
    Returns float32 (seed, P, V + 1, depth + 1, width); None for a network that uses context.
    """
    if not isinstance(models, ContextFreeArchitecture):
        return None
    return np.asarray(_jit(_tables)(models), dtype=np.float32)


def forward(
    models: AbstractArchitecture, inputs: Int[Array | np.ndarray, "n position"]
) -> tuple[Float[np.ndarray, "seed n layer position width"], Float[np.ndarray, "seed n position vocab"]]:
    """Residual streams and logits of stacked networks (leading seed axis) on a probe batch.

    Returns numpy float32 arrays. Runs in chunks of samples (one compiled shape) so that the
    activations held at once stay near 64 MiB whatever n; the outputs themselves are
    seed × n × (depth + 1) × T × d floats.
    """
    inputs = np.asarray(inputs, np.int32)
    n, length = inputs.shape
    first = jax.tree_util.tree_leaves(eqx.filter(models, eqx.is_array))[0]
    n_seeds = first.shape[0]
    static = eqx.partition(models, eqx.is_array)[1]
    depth, width, vocab = static.depth, static.width, static.vocab
    per_sample = n_seeds * (depth + 1) * length * width * 4
    size = int(min(n, max(1, _FORWARD_BYTES // per_sample)))
    streams = np.empty((n_seeds, n, depth + 1, length, width), np.float32)
    logits = np.empty((n_seeds, n, length, vocab), np.float32)
    for i, chunk in enumerate(_chunked(inputs, size, 0)):
        lo, hi = i * size, min(n, (i + 1) * size)
        s, l = _jit(_forward_chunk)(models, jnp.asarray(chunk))
        streams[:, lo:hi] = np.asarray(s)[:, : hi - lo]
        logits[:, lo:hi] = np.asarray(l)[:, : hi - lo]
    return streams, logits
