"""Cost estimates (rgbench.cost): closed forms against the networks and XLA, and the refusals they drive."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from helpers import TINY_SUITE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rgbench.cli import main
from rgbench.cost import budget, estimate, parse_bytes, parse_hours
from rgbench.models import Mixer, Plain, Tokenwise, Transformer, Windowed
from rgbench.models._configs import ArchitectureConfig
from rgbench.suite import load_suite

TINY = str(TINY_SUITE)

CONFIGS = [
    Tokenwise(depth=3, width=8, positions=True),
    Tokenwise(depth=2, width=5, norm="rmsnorm", hidden_mult=1.5),
    Mixer(depth=2, width=8, token_hidden=7),
    Mixer(depth=2, width=6, norm="none", positions=True),
    Windowed(depth=2, width=8, radius=2),
    Transformer(depth=2, width=8, heads=2),
    Transformer(depth=2, width=9, heads=3, head_width=4, positions="learned", norm="rmsnorm", attention="window:1"),
    Plain(depth=4, width=8),
    Plain(depth=3, width=5, positions=True, residual=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.kind}-L{c.depth}-d{c.width}")
def test_closed_form_parameters_are_the_networks_own(config):
    # the generic count builds the network abstractly (jax.eval_shape) and counts its leaves
    closed, counted = config.cost(5, 6).params, ArchitectureConfig.cost(config, 5, 6).params
    assert closed == counted, f"{config.kind}: closed form {closed} parameters, the network has {counted}"


@pytest.mark.parametrize(
    "config",
    [
        Tokenwise(depth=1, width=64),
        Mixer(depth=1, width=64),
        Windowed(depth=1, width=64, radius=2),
        Transformer(depth=1, width=64),
        Plain(depth=1, width=64),
    ],
    ids=lambda c: c.kind,
)
def test_closed_form_flops_are_the_matmuls_xla_counts(config):
    # depth 1: XLA's cost analysis counts a scan's body once, so only then is its figure the whole
    # network's. Ours counts the matmuls (2 per multiply-add); XLA adds norms and activations (a few %).
    import jax
    import jax.numpy as jnp

    vocab, length, batch = 16, 32, 8
    net = config.build(vocab, length, key=jax.random.key(0))
    compiled = jax.jit(lambda n, x: n.apply(x, collect=False)[1]).lower(net, jnp.zeros((batch, length), jnp.int32))
    analysis = compiled.compile().cost_analysis()
    xla = (analysis[0] if isinstance(analysis, list) else analysis)["flops"] / batch
    ratio = config.cost(vocab, length).flops / xla
    assert 0.9 <= ratio <= 1.0, f"{config.kind}: closed-form FLOPs are {ratio:.3f} of XLA's count"


def test_estimates_grow_with_what_costs():
    suite = load_suite(TINY)
    base = next(c for c in suite.cases if c.architecture.kind == "mixer")
    e = estimate(base)
    assert e.params == base.architecture.cost(base.input.vocab, base.input.length).params
    assert e.peak_bytes > 0
    assert e.total_flops > 0
    assert e.stored_bytes > 0
    wider = load_suite(TINY, ["architecture.width=64"]).case(base.id)
    assert estimate(wider).peak_bytes > e.peak_bytes, "a wider network was not estimated to need more memory"
    longer = load_suite(TINY, ["train.steps=2000"]).case(base.id)
    assert estimate(longer).flops["training"] == pytest.approx(e.flops["training"] * 2000 / base.train.steps)
    assert estimate(base, reuses_training=True).flops["training"] == 0, "a reused training was counted"


@pytest.mark.parametrize("text, value", [("8GB", 8e9), ("512MiB", 512 * 2**20), ("2e9", 2e9), ("1.5 tb", 1.5e12)])
def test_sizes_parse(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "-1GB", "0", "12XB", "GB", "nan"])
def test_bad_sizes_are_refused_with_what_is_allowed(text):
    with pytest.raises(ValueError, match="expected a positive size such as 8GB"):
        parse_bytes(text)


@pytest.mark.parametrize("text", ["0", "-2", "inf", "nan", "two"])
def test_bad_hours_are_refused(text):
    with pytest.raises(ValueError, match="expected a positive number of hours"):
        parse_hours(text)


def test_validate_refuses_a_case_larger_than_the_machine_with_its_place_and_estimate(capsys):
    # width 65536 is within the field's bound; its parameters alone would fill terabytes
    assert main(["validate", TINY, "--set", "architecture.width=65536"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "needs about" in line]
    assert len(lines) == 3, f"one refusal per case expected:\n{err}"
    assert lines[0].startswith(f"{os.path.relpath(TINY)}:") or lines[0].startswith(TINY), lines[0]
    assert "TB of memory, more than this machine's memory" in lines[0], lines[0]


def test_max_memory_refuses_and_max_hours_warns_or_refuses_when_strict(capsys):
    assert main(["validate", TINY, "--max-memory", "1MB"]) == 2
    assert "more than --max-memory (1 MB)" in capsys.readouterr().err
    assert main(["validate", TINY, "--max-hours", "1e-6"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("warning: case") == 3, captured.err
    assert "ok" in captured.out
    assert main(["validate", TINY, "--max-hours", "1e-6", "--strict"]) == 2
    assert capsys.readouterr().err.count("(refused: --strict)") == 3


def test_run_refuses_before_creating_the_store(tmp_path, capsys):
    store = tmp_path / "never.zarr"
    assert main(["run", TINY, "--store", str(store), "--max-memory", "1MB", "--quiet"]) == 2
    assert "needs about" in capsys.readouterr().err
    assert not store.exists(), "a refused run created its store"


def test_show_prints_every_estimate(capsys):
    assert main(["show", TINY, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    estimates = {e["case"]: e for e in data["estimates"]}
    assert set(estimates) == {c["id"] for c in data["cases"]}
    for case in load_suite(TINY).cases:
        assert estimates[case.id]["peak_bytes"] == pytest.approx(estimate(case).peak_bytes)
    assert main(["show", TINY]) == 0
    assert "GFLOP/s" in capsys.readouterr().out


_SIZES = {  # every size field across its whole allowed range (rgbench list gives the bounds)
    "depth": (1, 1024),
    "width": (1, 65536),
    "radius": (0, 64),
    "vocab": (2, 4096),
    "length": (2, 65536),
    "steps": (1, 10**6),
    "batch": (1, 10**6),
    "samples": (2, 10**6),
    "seeds": (1, 1000),
}


@st.composite
def valid_cases(draw):
    size = {k: draw(st.integers(lo, hi)) for k, (lo, hi) in _SIZES.items()}
    kind = draw(st.sampled_from(["tokenwise", "mixer", "windowed", "transformer", "plain"]))
    arch = {"kind": kind, "depth": size["depth"], "width": size["width"]}
    if kind == "windowed":
        arch["radius"] = size["radius"]
    if kind == "transformer":
        arch["heads"] = draw(st.integers(1, min(size["width"], 1024)))
        arch["attention"] = draw(st.sampled_from(["full", f"window:{size['radius']}"]))
    return {
        "id": "c",
        "architecture": arch,
        "input": {"kind": "iid", "vocab": size["vocab"], "length": size["length"]},
        "train": {"steps": size["steps"], "batch": size["batch"], "log_every": 1},
        "measure": {"samples": size["samples"]},
        "seeds": size["seeds"],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=valid_cases(), limit=st.sampled_from([1e9, 16e9, 1e12]))
def test_random_valid_suites_get_an_estimate_within_the_limit_or_a_clean_refusal(tmp_path, case, limit):
    # Property: whatever sizes a valid suite asks for, validation gives either an estimate no larger
    # than the limit or a located refusal — never a crash, never a silent pass above the limit.
    path = tmp_path / "random.yaml"
    path.write_text(json.dumps({"suite": "random", "cases": [case]}))  # JSON is YAML
    suite = load_suite(path)
    refused, _ = budget(suite.cases, max_memory=limit)
    c = suite.cases[0]
    e = estimate(c)
    # every seed's initial and trained networks are held at once: the estimate is at least that,
    # counted here on the network itself (built abstractly)
    held = 2 * 4 * c.seeds * ArchitectureConfig.cost(c.architecture, c.input.vocab, c.input.length).params
    assert np.isfinite(e.peak_bytes), f"{case}: estimate {e.peak_bytes} < {held}"
    assert e.peak_bytes >= held, f"{case}: estimate {e.peak_bytes} < {held}"
    if e.peak_bytes > limit:
        assert len(refused) == 1, f"{case}: {e.peak_bytes:.3g} B > {limit:.3g} B but not refused"
        assert refused[0].line is not None, refused[0]
        assert "needs about" in refused[0].message, refused[0]
    else:
        assert refused == [], f"{case}: {e.peak_bytes:.3g} B within {limit:.3g} B but refused"


def test_time_is_training_at_the_family_rate_and_measurement_at_its_own():
    from rgbench.cost import FLOPS_PER_SECOND, OVERHEAD_S, Estimate

    e = Estimate(
        "c",
        1,
        1,
        flops={"training": 3 * FLOPS_PER_SECOND, "evaluation": FLOPS_PER_SECOND, "measurement": FLOPS_PER_SECOND},
        rate=2.0,
        measure_rate=0.5,
    )
    assert e.seconds == pytest.approx(OVERHEAD_S + 4 / 2.0 + 1 / 0.5)
    assert (Mixer.relative_rate, Transformer.measure_rate) != (1.0, 1.0)  # fit (benchmarks/cost_rates.py), not defaults


def test_a_probe_size_sweep_after_its_first_case_is_estimated_as_measurement_only(tmp_path):
    from rgbench.cost import estimates

    path = tmp_path / "sweep.yaml"
    path.write_text(
        "suite: sweep\ndefaults:\n  architecture: {kind: mixer, depth: 2, width: 8}\n"
        "  input: {kind: sticky, vocab: 4, length: 8}\n  train: {steps: 100}\n  seeds: 2\n"
        "cases:\n  - id: probe\n    grid: {measure.samples: [64, 128]}\n  - id: other\n    input: {xi: 3.0}\n"
    )
    first, second, other = estimates(load_suite(path).cases)
    assert first.flops["training"] > 0 and other.flops["training"] > 0
    assert second.flops["training"] == 0 and second.flops["evaluation"] == 0 and second.flops["measurement"] > 0
