"""A network that attends stores its attention observables per seed, stage, block and head, and a
suite can predict them; a network that does not attend stores none."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import fast_compiles

from rgbench.runner import run_suite
from rgbench.score import Verdict, score_store
from rgbench.store import open_results
from rgbench.suite import load_suite

pytestmark = pytest.mark.slow

SUITE = """\
suite: tf-tiny
defaults:
  architecture: {kind: transformer, depth: 2, width: 16, heads: 2, hidden_mult: 2}
  input: {kind: sticky, vocab: 8, length: 16, xi: 1.2}
  train: {steps: 20, batch: 8, lr: 3.0e-3, log_every: 10, eval_sequences: 64}
  measure: {samples: 48}
  seeds: 2
cases:
  - id: full
  - id: window
    architecture: {attention: "window:1"}
    predict:
      - claim: a radius-1 window keeps the mean attention distance within 1 position
        observable: attention_distance
        stage: trained
        test: {kind: threshold, at_most: 1.0, reduce: max}
      - claim: head 1 alone, too
        observable: {kind: attention_entropy, head: 1}
        test: {kind: threshold, at_most: 1.0987, reduce: max}
  - id: tokenwise
    architecture: {kind: tokenwise, depth: 2, width: 16, hidden_mult: 2}
    predict:
      - claim: a network without attention has no attention entropy
        observable: attention_entropy
        test: {kind: threshold, at_most: 1.0}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("tf")
    (base / "tf.yaml").write_text(SUITE)
    with fast_compiles():
        outcomes = run_suite(load_suite(base / "tf.yaml"), str(base / "tf.zarr"), quiet=True)
    assert [o.status for o in outcomes] == ["complete"] * 3
    return base


def test_attention_observables_are_stored_with_their_bounds(store):
    results = open_results(store / "tf.zarr")
    full, window = results["full"], results["window"]
    for ds in (full, window):
        for name in ("attention_entropy", "attention_free_energy", "attention_distance"):
            assert ds[name].dims == ("seed", "stage", "transition", "head")
            assert ds[name].shape == (2, 2, 2, 2)
            assert ds[name].attrs["units"] in ("nat", "position") and ds[name].attrs["long_name"]
        assert list(ds["head"].values) == [0, 1]
    t = 16
    assert np.all(full["attention_entropy"].values <= np.log(t) + 1e-6)
    assert np.all(full["attention_entropy"].values > 0)
    assert np.all(window["attention_entropy"].values <= np.log(3) + 1e-6)  # at most 2r + 1 keys
    assert np.all(window["attention_distance"].values <= 1 + 1e-6)
    # near-uniform attention at init: the mean distance near (T² − 1)/(3T) = 5.31
    init = full["attention_distance"].sel(stage="init").values
    assert np.all(np.abs(init - (t * t - 1) / (3 * t)) < 0.5), init
    assert "attention_entropy" not in results["tokenwise"]


def test_a_suite_predicts_them_and_a_network_without_attention_is_error(store):
    report = score_store(store / "tf.zarr", store / "tf.yaml")
    distance, entropy_head, tokenwise = report.predictions
    assert distance.verdict is Verdict.INCONCLUSIVE or distance.verdict is Verdict.PASS  # 2 seeds decide little
    assert distance.statistic <= 1.0 and entropy_head.statistic <= np.log(3)
    assert tokenwise.verdict is Verdict.ERROR and "attention" in tokenwise.reason
