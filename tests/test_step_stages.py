"""Observables along training: ``measure.stages`` may name steps of training; the same run keeps the
networks at those steps, measures them, stores them along ``stage`` with their ``stage_step``, scores
predictions that name them, and draws them against the step."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest
from helpers import TINY_ARCH, fast_compiles

from rgbench.inputs import Sticky
from rgbench.models import Mixer, Tokenwise
from rgbench.train import TrainConfig, train


def _leaves(model) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))]


@pytest.mark.parametrize("arch", [Tokenwise(**TINY_ARCH), Mixer(depth=2, width=8, hidden_mult=2.0, token_hidden=8)])
def test_a_snapshot_is_the_network_a_run_of_that_many_steps_ends_with(arch):
    """The networks kept at step 10 of a 30-step run are those a 10-step run ends with, bit for bit
    (the same chunks of the same programs on the same batches): a snapshot is the flow's own state,
    not an approximation of it."""
    data = Sticky(vocab=4, length=8, xi=1.2).build()
    long = TrainConfig(steps=30, log_every=5, batch=8, lr=3e-3, eval_sequences=64)
    short = long.model_copy(update={"steps": 10})
    with fast_compiles():
        full = train(arch, data, long, [0, 1], snapshot_steps=(10, 20))
        ten = train(arch, data, short, [0, 1])
    assert sorted(full.snapshots) == [10, 20]
    for a, b in zip(_leaves(full.snapshots[10]), _leaves(ten.trained)):
        assert a.tobytes() == b.tobytes()
    moved = [np.abs(a - b).max() for a, b in zip(_leaves(full.snapshots[20]), _leaves(full.snapshots[10]))]
    assert max(moved) > 0  # step 20 is not step 10 again


def test_snapshot_steps_must_end_a_chunk_before_the_end():
    data = Sticky(vocab=4, length=8, xi=1.2).build()
    cfg = TrainConfig(steps=30, log_every=10, batch=8, eval_sequences=64)
    for bad in ((15,), (30,), (0,)):
        with pytest.raises(ValueError, match="multiples of log_every"):
            train(Tokenwise(**TINY_ARCH), data, cfg, [0], snapshot_steps=bad)


SUITE = """\
suite: flow
title: observables along training
defaults:
  architecture: {kind: tokenwise, depth: 2, width: 8, hidden_mult: 2}
  input: {kind: sticky, vocab: 4, length: 8, xi: 1.2}
  train: {steps: 30, batch: 8, lr: 3.0e-3, log_every: 5, eval_sequences: 64}
  measure: {samples: 32, stages: [init, 10, trained]}
  seeds: 3
cases:
  - id: flow
    predict:
      - claim: the rank at step 10 is not below 1
        observable: effective_rank
        stage: 10
        layers: "1:"
        test: {kind: threshold, at_least: 1.0}
        nulls: [{stage: init}]
      - claim: the trained rank is not below 1
        observable: effective_rank
        layers: "1:"
        test: {kind: threshold, at_least: 1.0}
"""


def test_a_suite_with_step_stages_runs_scores_and_plots(tmp_path):
    from rgbench.api import open_results, run
    from rgbench.plots import plot_store
    from rgbench.score import score_store

    (tmp_path / "flow.yaml").write_text(SUITE)
    store = tmp_path / "flow.zarr"
    with fast_compiles():
        run(tmp_path / "flow.yaml", store=store, quiet=True)
    ds = open_results(store)["flow"]
    assert list(ds["stage"].values) == ["init", "10", "trained"]
    assert ds["stage_step"].values.tolist() == [0, 10, 30]
    er = ds["effective_rank"]
    assert not np.array_equal(er.sel(stage="10").values, er.sel(stage="trained").values)
    assert not np.array_equal(er.sel(stage="10").values, er.sel(stage="init").values)

    p, q = score_store(store).predictions
    assert "step 10" in p.observable_label, p.observable_label
    assert p.verdict.name in {"PASS", "NONSPECIFIC"}, p  # every seed's rank is far above 1
    assert "along_training" not in p.detail  # read at an explicit step: no trajectory
    # read after training: its statistic had training stopped at step 10, then at the end (step 30)
    assert list(q.detail["along_training"]) == ["10", "30"] and q.detail["along_training"]["30"] == q.statistic
    from rgbench.predictions import EffectiveRank

    at_10 = EffectiveRank().values(ds, stage="10", layers="1:").mean("layer")  # the test's reduce: mean over layers
    assert q.detail["along_training"]["10"] == pytest.approx(float(at_10.mean()), rel=1e-6)

    out = plot_store(store, tmp_path / "figures")
    assert "training" in out.figures["flow"]
    assert out.claims == tmp_path / "figures" / "claims.png" and out.claims.is_file()


def test_each_step_stage_is_counted_in_the_cost(tmp_path):
    """Measurement costs one more forward and set of spectra per stage."""
    from rgbench.cost import estimate
    from rgbench.suite import load_suite

    (tmp_path / "a.yaml").write_text(SUITE)
    (tmp_path / "b.yaml").write_text(SUITE.replace("10, trained]", "trained]").replace("stage: 10", "stage: trained"))
    three, two = (estimate(load_suite(tmp_path / f).cases[0]).flops["measurement"] for f in ("a.yaml", "b.yaml"))
    assert three == pytest.approx(1.5 * two)
