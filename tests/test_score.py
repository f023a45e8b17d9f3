"""Scoring: synthetic case datasets with known outcomes give the designed verdict for every test kind."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pydantic
import pytest
import xarray as xr
from helpers import ALT, case, e2e_store, pred, suite, synthetic_case, with_rows

from rgbench import DATA_FORMAT_VERSION
from rgbench import predictions as P
from rgbench import score as S
from rgbench.cli import build_parser

PASS, FAIL, INC, ERR = S.Verdict.PASS, S.Verdict.FAIL, S.Verdict.INCONCLUSIVE, S.Verdict.ERROR


def verdict(datasets: dict, prediction, case_id: str = "short-xi", hashes=None) -> S.PredictionResult:
    return S.evaluate_prediction(prediction, case_id, datasets, hashes)


# --------------------------------------------------------------------------------------------
# Every test kind: PASS / FAIL / INCONCLUSIVE / ERROR by design


def test_monotone():
    mono = {"kind": "monotone", "along": "layer", "direction": "decreasing", "spearman_at_most": -0.9, "seeds_at_least": 0.8}
    p = pred("effective_rank", mono, stage="trained", layers="1:")
    ell = np.arange(7.0)
    up = 5 + 1.5 * ell
    mixed = np.where(ALT[:, None] > 0, 15 - 1.5 * ell, up)
    dsets = {
        "pass": synthetic_case("pass"),
        "fail": synthetic_case("fail", erank=up),
        "inc": synthetic_case("inc", erank=mixed),
        "err": synthetic_case("err").drop_vars("effective_rank"),
    }
    r = verdict(dsets, p, "pass")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(-1.0)
    assert r.seeds_passing == 10
    assert r.threshold == (None, -0.9)
    assert verdict(dsets, p, "fail").verdict is FAIL
    r = verdict(dsets, p, "inc")
    assert r.verdict is INC
    assert r.seeds_passing == 5
    assert "5/10 seeds pass" in r.reason
    r = verdict(dsets, p, "err")
    assert r.verdict is ERR
    assert "effective_rank" in r.reason
    assert r.statistic is None
    # increasing direction uses spearman_at_least
    inc = pred("effective_rank", {"kind": "monotone", "direction": "increasing"})
    assert verdict(dsets, inc, "fail").verdict is PASS
    assert verdict(dsets, inc, "pass").verdict is FAIL


def test_monotone_constant_profile_has_no_trend():
    p = pred("effective_rank", {"kind": "monotone"})
    r = verdict({"flat": synthetic_case("flat", erank=np.full(7, 9.0))}, p, "flat")
    assert r.verdict is FAIL
    assert r.statistic == 0.0


def test_ratio_against_stage():
    # trained mean over layers 1..6 = c · 9.75, init = 15 → ratio c · 0.65
    base = 15 - 1.5 * np.arange(7.0)
    c = np.where(ALT > 0, 0.6 / 0.65, 0.7 / 0.65)
    dsets = {"a": synthetic_case("a"), "mixed": synthetic_case("mixed", erank=c[:, None] * base[None, :])}
    ratio = {"kind": "ratio", "against_stage": "init"}
    r = verdict(dsets, pred("effective_rank", {**ratio, "at_most": 0.8}), "a")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(0.65)
    assert verdict(dsets, pred("effective_rank", {**ratio, "at_most": 0.5}), "a").verdict is FAIL
    r = verdict(dsets, pred("effective_rank", {**ratio, "at_most": 0.65}), "mixed")
    assert r.verdict is INC
    assert r.seeds_passing == 5
    failed = {"a": synthetic_case("a", status="failed: out of memory")}
    r = verdict(failed, pred("effective_rank", {**ratio, "at_most": 0.8}), "a")
    assert r.verdict is ERR
    assert "out of memory" in r.reason


def test_difference_compare_to_is_paired_by_seed_label():
    # short-xi: C = 7.5 in every seed; long-xi: C = 0; wobbly: C = 7.5 ± 1 alternating
    flat = np.full(7, 15.0)
    wobble = 15 - (1.5 + ALT[:, None] / 5) * np.arange(7.0)
    dsets = {
        "short-xi": synthetic_case("short-xi"),
        "long-xi": synthetic_case("long-xi", erank=flat, xi=6.7),
        "wobbly": synthetic_case("wobbly", erank=wobble),
    }
    diff = {"kind": "difference", "at_least": 0.0, "paired": True}
    r = verdict(dsets, pred("rank_collapse", {**diff, "compare_to": "long-xi"}), "short-xi")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(7.5)
    assert r.ci == (pytest.approx(7.5), pytest.approx(7.5))
    assert verdict(dsets, pred("rank_collapse", {**diff, "compare_to": "short-xi"}), "long-xi").verdict is FAIL
    r = verdict(dsets, pred("rank_collapse", {**diff, "compare_to": "short-xi"}), "wobbly")
    assert r.verdict is INC
    assert r.seeds_passing == 5
    r = verdict(dsets, pred("rank_collapse", {**diff, "compare_to": "mid-xi"}), "short-xi")
    assert r.verdict is ERR
    assert "mid-xi" in r.reason
    assert "rgbench run" in r.reason

    # pairing is by seed label, not by position in the array
    shuffled = dict(dsets, **{"short-xi": dsets["short-xi"].isel(seed=np.arange(10)[::-1])})
    a = verdict(dsets, pred("rank_collapse", {**diff, "compare_to": "short-xi"}), "wobbly")
    b = verdict(shuffled, pred("rank_collapse", {**diff, "compare_to": "short-xi"}), "wobbly")
    assert a.per_seed["statistic"] == b.per_seed["statistic"]
    assert a.ci == b.ci


def test_difference_unpaired():
    dsets = {"short-xi": synthetic_case("short-xi"), "long-xi": synthetic_case("long-xi", erank=np.full(7, 15.0), seeds=7)}
    p = pred("rank_collapse", {"kind": "difference", "compare_to": "long-xi", "at_least": 1.0, "paired": False})
    r = verdict(dsets, p, "short-xi")
    assert r.verdict is PASS
    assert r.seeds == 10
    assert r.statistic == pytest.approx(7.5)


def drift_cases(err):
    """Cases whose kernel drift concentrates (pass: the synthetic default), is flat (fail), is either
    by seed (inc), and `err`, a case the test cannot read."""
    flat = np.full(6, 0.05)
    peaked = np.array([0.02, 0.5, 0.3, 0.02, 0.02, 0.02])
    return {
        "pass": synthetic_case("pass"),
        "fail": synthetic_case("fail", drift=flat),
        "inc": synthetic_case("inc", drift=np.where(ALT[:, None] > 0, peaked, flat)),
        "err": err,
    }


def test_concentration():
    conc = {"kind": "concentration", "along": "transition", "top": 2, "share_at_least": 0.6}
    dsets = drift_cases(err=synthetic_case("err").drop_vars("kernel_drift"))
    p = pred("kernel_drift", conc)
    r = verdict(dsets, p, "pass")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(0.8 / 0.88)
    assert r.detail["modal_top"] == [1, 2]
    assert r.detail["same_top_fraction"] == 1.0
    assert r.detail["chance_share"] == pytest.approx(1 / 3)
    assert verdict(dsets, p, "fail").verdict is FAIL
    assert verdict(dsets, p, "inc").verdict is INC
    assert verdict(dsets, p, "err").verdict is ERR
    # layers keeps the transitions between selected layers: 1→2 … 5→6
    r = verdict(dsets, pred("kernel_drift", conc, layers="1:"), "pass")
    assert r.statistic == pytest.approx(0.8 / 0.86)


def test_concentration_same_top():
    a = np.array([0.02, 0.5, 0.3, 0.02, 0.02, 0.02])
    b = np.array([0.5, 0.02, 0.02, 0.02, 0.3, 0.02])
    drift = np.where(ALT[:, None] > 0, a, b)
    p = pred("kernel_drift", {"kind": "concentration", "same_top_at_least": 0.7})
    r = verdict({"x": synthetic_case("x", drift=drift)}, p, "x")
    assert r.verdict is INC
    assert r.seeds_passing == 5
    assert r.detail["same_top_fraction"] == 0.5


def test_plateau():
    plat = {"kind": "plateau", "along": "transition", "below": 0.25, "fraction_at_least": 0.5}
    dsets = drift_cases(err=synthetic_case("err").sel(stage=["init"]))
    p = pred("kernel_drift", plat)
    r = verdict(dsets, p, "pass")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(4 / 6)
    assert verdict(dsets, p, "fail").verdict is FAIL
    assert verdict(dsets, p, "inc").verdict is INC
    r = verdict(dsets, p, "err")
    assert r.verdict is ERR
    assert "measure.stages" in r.reason


def test_bounds_are_strict_for_continuous_statistics_and_inclusive_for_discrete_ones():
    # two identical cases: every paired difference is exactly 0; "at least 0" is not shown
    dsets = {"a": synthetic_case("a"), "b": synthetic_case("b")}
    r = verdict(dsets, pred("rank_collapse", {"kind": "difference", "compare_to": "b", "at_least": 0.0}), "a")
    assert r.verdict is INC
    assert r.seeds_passing == 10
    assert "touches" in r.reason
    # 3 of 6 transitions on the plateau, exactly the required half: a discrete statistic may sit on its bound
    drift = np.array([0.5, 0.3, 0.2, 0.02, 0.02, 0.02])
    p = pred("kernel_drift", {"kind": "plateau", "below": 0.25, "fraction_at_least": 0.5})
    r = verdict({"a": synthetic_case("a", drift=drift)}, p, "a")
    assert r.verdict is PASS
    assert r.statistic == 0.5


def test_equivalence_tost():
    flat = np.full(7, 15.0)
    tiny = 15 - (ALT[:, None] * 0.002) * np.arange(7.0)  # C = ±0.012
    wide = 15 - (ALT[:, None] * 0.2) * np.arange(7.0)  # C = ±1.2
    nan = synthetic_case("nan")
    nan["effective_rank"][3, 1, 1, 0] = np.nan  # trained, layer 1: used by rank_collapse
    dsets = {
        "pass": synthetic_case("pass", erank=tiny),
        "fail": synthetic_case("fail"),
        "inc": synthetic_case("inc", erank=wide),
        "nan": nan,
        "flat": synthetic_case("flat", erank=flat),
    }
    p = pred("rank_collapse", {"kind": "equivalence", "delta": 0.5})
    r = verdict(dsets, p, "pass")
    assert r.verdict is PASS
    assert r.detail["p_tost"] < 0.05
    assert r.threshold == (-0.5, 0.5)
    r = verdict(dsets, p, "fail")
    assert r.verdict is FAIL
    assert r.statistic == pytest.approx(7.5)
    r = verdict(dsets, p, "inc")
    assert r.verdict is INC
    assert r.seeds_passing == 0
    assert r.detail["p_tost"] > 0.05
    r = verdict(dsets, p, "nan")
    assert r.verdict is ERR
    assert "NaN" in r.reason
    assert "[3]" in r.reason
    assert verdict(dsets, p, "flat").verdict is PASS  # zero variance, exactly 0
    # equivalence of a paired difference between stages
    q = pred("effective_rank", {"kind": "equivalence", "delta": 0.1, "against_stage": "init"}, stage="trained")
    assert verdict(dsets, q, "flat").verdict is PASS
    assert verdict(dsets, q, "fail").verdict is FAIL


def test_threshold():
    dsets = {
        "pass": synthetic_case("pass", final_loss=1.8 + ALT * 0.01),
        "inc": synthetic_case("inc", final_loss=1.8 + ALT * 0.2),
        "err": synthetic_case("err", status="diverged"),
    }
    dsets["err"]["diverged"][[2, 5]] = True
    assert verdict(dsets, pred("final_loss", {"kind": "threshold", "at_most": 2.0}), "pass").verdict is PASS
    assert verdict(dsets, pred("final_loss", {"kind": "threshold", "at_most": 1.7}), "pass").verdict is FAIL
    assert verdict(dsets, pred("final_loss", {"kind": "threshold", "at_most": 1.8}), "inc").verdict is INC
    r = verdict(dsets, pred("final_loss", {"kind": "threshold", "at_most": 2.0}), "err")
    assert r.verdict is ERR
    assert "diverged" in r.reason
    assert "[2, 5]" in r.reason
    # a vector observable is reduced (default mean) before a scalar test
    r = verdict(dsets, pred("effective_rank", {"kind": "threshold", "at_least": 9.0, "reduce": "mean"}), "pass")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(9.75)
    r = verdict(dsets, pred("effective_rank", {"kind": "threshold", "at_most": 6.1, "reduce": "last"}), "pass")
    assert r.verdict is PASS
    assert r.statistic == pytest.approx(6.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("test", [{"kind": "threshold", "at_most": 2.0}, {"kind": "close_to", "value": 1.8, "tolerance": 0.5}])
def test_a_non_finite_statistic_is_error_never_inconclusive(bad, test):
    loss = np.full(10, 1.8)
    loss[4] = bad  # e.g. a damaged chunk that still decodes
    r = verdict({"x": synthetic_case("x", final_loss=loss)}, pred("final_loss", test), "x")
    assert r.verdict is ERR, f"{bad} in one seed gave {r.verdict}"
    assert re.search(r"(NaN|not finite).*seeds \[?4", r.reason), f"the reason names neither the problem nor seed 4: {r.reason}"


def test_threshold_interval_straddles_while_seeds_pass():
    values = np.r_[np.full(9, 0.1), -5.0]
    ds = synthetic_case("x", final_loss=1.65 + values)
    r = verdict({"x": ds}, pred("loss_gap_bayes", {"kind": "threshold", "at_least": 0.0}), "x")
    assert r.verdict is INC
    assert r.seeds_passing == 9
    assert "straddles" in r.reason
    assert r.ci[0] < 0 < r.ci[1] or r.ci[1] < 0


def test_close_to():
    dsets = {"a": synthetic_case("a"), "alt": synthetic_case("alt", final_loss=1.8 + ALT * 0.05)}
    p = pred("loss_gap_bayes", {"kind": "close_to", "value": 0.15, "tolerance": 0.05})
    assert verdict(dsets, p, "a").verdict is PASS
    assert verdict(dsets, pred("loss_gap_bayes", {"kind": "close_to", "value": 1.0, "tolerance": 0.05}), "a").verdict is FAIL
    # every seed misses by 0.05 > 0.04, but the mean is on target: the rules disagree
    r = verdict(dsets, pred("loss_gap_bayes", {"kind": "close_to", "value": 0.15, "tolerance": 0.04}), "alt")
    assert r.verdict is INC
    assert r.seeds_passing == 0
    assert "seeds say FAIL" in r.reason
    r = verdict({"a": synthetic_case("a", spec_hash="old")}, p, "a", hashes={"a": "new"})
    assert r.verdict is ERR
    assert "different spec" in r.reason
    rel = pred("final_loss", {"kind": "close_to", "value": 1.8, "tolerance": 0.01, "relative": True})
    assert verdict(dsets, rel, "a").threshold == (pytest.approx(1.782), pytest.approx(1.818))


# --------------------------------------------------------------------------------------------
# Rules that hold for every test


def test_single_seed_is_inconclusive():
    r = verdict({"a": synthetic_case("a", seeds=1)}, pred("effective_rank", {"kind": "monotone"}), "a")
    assert r.verdict is INC
    assert "2 seeds" in r.reason


def test_missing_case_and_wrong_format_version_are_errors():
    p = pred("final_loss", {"kind": "threshold", "at_most": 2.0})
    assert verdict({}, p, "a").verdict is ERR
    old = synthetic_case("a")
    old.attrs["data_format_version"] = DATA_FORMAT_VERSION + 1
    r = verdict({"a": old}, p, "a")
    assert r.verdict is ERR
    assert "data format" in r.reason
    nofloor = synthetic_case("a", bayes_loss=float("nan"))
    assert verdict({"a": nofloor}, pred("loss_gap_bayes", {"kind": "threshold", "at_most": 2.0}), "a").verdict is ERR


def test_seed_rule_is_a_binomial_test_that_more_seeds_decide():
    assert S.seed_rule(8, 10, 0.8) == "pass"
    # FAIL when 2·P(K ≤ k | n, q) ≤ α: at n = 10, q = 0.8, P(K ≤ 4) = 0.0064 and P(K ≤ 5) = 0.0328
    assert S.seed_rule(4, 10, 0.8) == "fail"
    assert S.seed_rule(5, 10, 0.8) == "inconclusive"
    assert S.seed_rule(7, 10, 0.8) == "inconclusive"
    assert S.seed_rule(7, 10, 0.7) == "pass"
    assert S.seed_rule(3, 10, 0.7) == "fail"
    # the old dead zone: a fraction of 0.5 against q = 0.8 is decided once there are enough seeds
    assert S.seed_rule(10, 20, 0.8) == "fail"
    # seeds needed at a fraction of 0.7 against q = 0.8 (k = ⌊0.7 n⌋): by hand, the first n with
    # 2·P(K ≤ ⌊0.7 n⌋ | n, 0.8) ≤ 0.05
    from scipy import stats as sps

    first = next(n for n in range(10, 1000) if 2 * sps.binom.cdf(int(0.7 * n + 1e-9), n, 0.8) <= 0.05)
    assert S.seeds_for_seed_rule(7, 10, 0.8) == first
    assert S.seeds_for_seed_rule(8, 10, 0.8) == 10  # already PASS


def test_seeds_needed_for_the_interval_scales_its_half_width():
    # half-width 0.3 at n = 10 (α = 0.05), the mean 0.2 from the bound: n′ is the first with
    # 0.3 · t(0.975, n′−1)/t(0.975, 9) · √(10/n′) < 0.2
    from scipy import stats as sps

    def half(n):
        return 0.3 * sps.t.ppf(0.975, n - 1) / sps.t.ppf(0.975, 9) * np.sqrt(10 / n)

    first = next(n for n in range(10, 1000) if half(n) < 0.2)
    assert S.seeds_for_interval(10, 0.2, 0.3, 0.05, 0.05) == first
    assert S.seeds_for_interval(10, 0.0, 0.3, 0.05, 0.05) is None  # the mean on the bound: never
    # a stricter (multiplicity-adjusted) level needs more seeds
    assert S.seeds_for_interval(10, 0.2, 0.3, 0.05, 0.005) > first


def test_observable_values_and_selection():
    ds = synthetic_case("a")
    er = P.EffectiveRank().values(ds)
    assert er.dims == ("seed", "layer")
    assert list(er.layer.values) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(er.isel(seed=0).values, 15 - 1.5 * np.arange(1, 7))
    init = P.EffectiveRank().values(ds, stage="init", layers=":")
    assert init.sizes["layer"] == 7
    masked = P.EffectiveRank().values(ds, role="masked")
    np.testing.assert_allclose(masked.isel(seed=0).values, 15 - 1.5 * np.arange(1, 7) - 0.5)
    np.testing.assert_allclose(P.RankCollapse().values(ds).values, 7.5)
    np.testing.assert_allclose(P.RankCollapse().values(ds, stage="init").values, 0.0, atol=1e-12)
    assert P.KernelDrift().values(ds, layers=":3").transition.values.tolist() == [0, 1]
    assert P.EffectiveRank().values(ds, layers="-1").layer.values.tolist() == [6]
    np.testing.assert_allclose(P.LossGapTokenwise().values(ds).values, 1.8 - 2.61)
    np.testing.assert_allclose(P.DriftConcentration(top=1).values(ds).values, 0.5 / 0.88)
    with pytest.raises(P.ObservableUnavailable, match="effective_rank_role"):
        P.EffectiveRank().values(ds.drop_vars("effective_rank_role"), role="visible")
    assert P.parse_layers("1:") == slice(1, None)
    assert P.parse_layers(None) == slice(None)
    assert P.parse_layers("-2:-1") == slice(-2, -1)


def test_suite_level_validation_of_prediction():
    with pytest.raises(pydantic.ValidationError, match="vector observable"):
        pred("final_loss", {"kind": "monotone"})
    with pytest.raises(pydantic.ValidationError, match="along 'transition'"):
        pred("kernel_drift", {"kind": "monotone"})
    with pytest.raises(pydantic.ValidationError, match="exactly one of"):
        pred("rank_collapse", {"kind": "difference", "at_least": 0})
    with pytest.raises(pydantic.ValidationError, match="at_least"):
        pred("rank_collapse", {"kind": "threshold"})
    with pytest.raises(pydantic.ValidationError, match="only after training"):
        pred("final_loss", {"kind": "threshold", "at_most": 1}, stage="init")
    with pytest.raises(pydantic.ValidationError, match="role"):
        pred("stable_rank", {"kind": "threshold", "at_most": 1}, role="masked")
    with pytest.raises(pydantic.ValidationError, match="spearman_at_most"):
        pred("effective_rank", {"kind": "monotone", "spearman_at_least": 0.9})
    with pytest.raises(pydantic.ValidationError, match=r"seeds_at_least\n  Input should be greater than 0.5"):
        pred("effective_rank", {"kind": "monotone", "seeds_at_least": 0.5})


# --------------------------------------------------------------------------------------------
# Reports


def _report() -> S.Report:
    preds_short = [
        pred(
            "effective_rank",
            {"kind": "monotone", "spearman_at_most": -0.9, "seeds_at_least": 0.8},
            claim="effective rank falls monotonically with depth after training",
            stage="trained",
            layers="1:",
        ),
        pred(
            "rank_collapse",
            {"kind": "difference", "compare_to": "long-xi", "at_least": 0.0},
            claim="collapse is selective (short xi collapses more than long xi)",
        ),
        pred(
            "kernel_drift",
            {"kind": "concentration", "top": 2, "share_at_least": 0.6},
            claim="kernel drift concentrates in one or two transitions",
        ),
    ]
    preds_long = [
        pred("rank_collapse", {"kind": "equivalence", "delta": 0.5}, claim="no collapse at long xi"),
        pred("final_loss", {"kind": "threshold", "at_most": 1.0}, claim="loss | below 1"),
    ]
    s = suite(
        case("short-xi", preds_short),
        case("long-xi", preds_long, xi=6.7),
        case("missing", [pred("final_loss", {"kind": "threshold", "at_most": 1.0}, claim="never ran")]),
    )
    dsets = {"short-xi": synthetic_case("short-xi"), "long-xi": synthetic_case("long-xi", erank=np.full(7, 15.0), xi=6.7)}
    return S.score_datasets(dsets, s, store="mem://synthetic.zarr")


def test_report_json_shape_is_stable():
    rep = _report()
    d = json.loads(rep.to_json())
    assert set(d) == {
        "suite",
        "title",
        "store",
        "data_format_version",
        "alpha",
        "multiplicity",
        "suite_source",
        "previous",
        "counts",
        "diagnostic_counts",
        "preregistration",
        "predictions",
        "cases",
    }
    assert d["suite"] == "synthetic"
    assert d["data_format_version"] == DATA_FORMAT_VERSION
    contract = {"case", "claim", "observable", "test", "verdict", "statistic", "ci", "seeds_passing", "seeds", "threshold"}
    for p in d["predictions"]:
        assert contract <= set(p)
        assert set(p) == contract | {
            "reason",
            "labels",
            "spec",
            "seeds_at_least",
            "per_seed",
            "detail",
            "nulls",
            "test_verdict",
            "purpose",
            "claim_id",
            "family",
            "gate",
            "multiplicity",
            "previous_verdict",
        }
        assert p["test_verdict"] == p["verdict"]  # no nulls: the test's outcome is the verdict
        assert p["verdict"] in {"PASS", "NONSPECIFIC", "FAIL", "INCONCLUSIVE", "ERROR"}
        assert p["nulls"] == []
        assert p["ci"] is None or (len(p["ci"]) == 2 and p["ci"][0] <= p["statistic"] <= p["ci"][1])
        assert p["threshold"] is None or len(p["threshold"]) == 2
    verdicts = [p["verdict"] for p in d["predictions"]]
    assert verdicts == ["PASS", "PASS", "PASS", "PASS", "FAIL", "ERROR"]
    assert d["counts"] == {"PASS": 4, "NONSPECIFIC": 0, "FAIL": 1, "INCONCLUSIVE": 0, "ERROR": 1}
    first = d["predictions"][0]
    assert first["observable"] == "effective_rank"
    assert first["test"] == "monotone"
    assert first["threshold"] == [None, -0.9]
    assert first["spec"]["layers"] == "1:"
    assert len(first["per_seed"]["statistic"]) == 10
    assert d["cases"]["short-xi"]["figures"]["collapse"] == pytest.approx([7.5] * 10)
    assert d["cases"]["missing"]["status"] == "missing"
    # deterministic and round-trips
    assert _report().to_json() == rep.to_json()
    again = S.Report.from_json(rep.to_json())
    assert again.to_json() == rep.to_json()
    assert not rep.ok()


def test_report_markdown_and_table():
    rep = _report()
    md = rep.to_markdown()
    assert md.startswith("# synthetic: synthetic suite")
    assert "| short-xi | effective rank falls monotonically" in md
    assert "**PASS**" in md
    assert "loss \\| below 1" in md
    assert "Why not PASS" in md
    assert "never ran" in md
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(rep.to_table())
    text = console.export_text()
    assert "ERROR" in text
    assert "collapse is selective" in text


def test_cli_score(monkeypatch, capsys):
    import rgbench.scoring

    rep = _report()
    monkeypatch.setattr(rgbench.scoring, "score_store", lambda path, suite=None: rep)
    parser = build_parser()
    args = parser.parse_args(["score", "store.zarr", "--format", "json", "--strict"])
    assert args.func(args) == 1
    assert json.loads(capsys.readouterr().out)["suite"] == "synthetic"
    args = parser.parse_args(["score", "store.zarr", "--format", "markdown"])
    assert args.func(args) == 3  # the report holds an ERROR: a store that is not whole
    assert "**PASS**" in capsys.readouterr().out
    args = parser.parse_args(["score", "store.zarr", "--format", "markdown", "--allow-errors"])
    assert args.func(args) == 0
    capsys.readouterr()
    whole = S.Report(suite="w", predictions=[p for p in rep.predictions if p.verdict is not S.Verdict.ERROR])
    monkeypatch.setattr(rgbench.scoring, "score_store", lambda path, suite=None: whole)
    args = parser.parse_args(["score", "store.zarr", "--format", "json"])
    assert args.func(args) == 0  # FAIL verdicts are results, not errors
    capsys.readouterr()
    monkeypatch.setattr(rgbench.scoring, "score_store", lambda path, suite=None: rep)

    def boom(path, suite=None):
        raise S.ScoreError("no store at 'x'")

    monkeypatch.setattr(rgbench.scoring, "score_store", boom)
    args = parser.parse_args(["score", "x"])
    assert args.func(args) == 2
    assert "no store" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# End to end: suite file → zarr store → score_store with the suite read from the store


def test_score_store_end_to_end(tmp_path):
    path = e2e_store(tmp_path)
    rep = S.score_store(path)  # the suite comes from the store's provenance
    assert [p.verdict for p in rep.predictions] == [PASS, PASS, PASS]
    assert rep.cases["never-run"].status == "missing"
    assert rep.suite == "e2e"
    assert rep.suite_source == "store"
    from_file = S.score_store(path, tmp_path / "e2e.yaml")
    assert from_file.suite_source == str(tmp_path / "e2e.yaml")
    assert replace(from_file, suite_source="store").to_json() == rep.to_json()
    with pytest.raises(S.ScoreError, match="no store"):
        S.score_store(tmp_path / "absent.zarr")


def test_an_untrained_case_has_no_headline_figures():
    trained, untrained = case("short-xi"), case("untrained")
    untrained.train = SimpleNamespace(steps=0)
    rep = S.score_datasets(
        {"short-xi": synthetic_case("short-xi"), "untrained": synthetic_case("untrained")},
        suite(trained, untrained),
        store="x.zarr",
    )
    assert rep.cases["short-xi"].figures["collapse"] == pytest.approx([7.5] * 10)
    assert all(v is None for v in rep.cases["untrained"].figures.values())


# --------------------------------------------------------------------------------------------
# Nulls and specificity: the same test on the untrained network, on another case, on both


FALLING = 15.0 - 1.5 * np.arange(7)  # a clean monotone fall: Spearman −1 in every seed
MONOTONE = {"kind": "monotone", "spearman_at_most": -0.9}


def test_a_claim_whose_null_also_passes_is_nonspecific():
    # the untrained network already falls with depth: the trained fall says nothing about training
    ds = {"a": synthetic_case("a", erank_init=FALLING), "iid": synthetic_case("iid", erank=np.full(7, 15.0))}
    r = verdict(ds, pred("effective_rank", MONOTONE, nulls=[{"stage": "init"}, "iid"]), "a")
    assert r.verdict is S.Verdict.NONSPECIFIC
    assert [(n.ref, n.verdict) for n in r.nulls] == [("init", PASS), ("iid", FAIL)]
    assert r.nulls[0].statistic == pytest.approx(-1.0)
    assert r.nulls[0].seeds_passing == 10
    assert "init" in r.reason
    assert "also passes" in r.reason
    # the test's own numbers are unchanged: only the verdict says NONSPECIFIC
    alone = verdict(ds, pred("effective_rank", MONOTONE), "a")
    assert alone.verdict is PASS
    assert alone.statistic == r.statistic
    assert alone.ci == r.ci


def test_a_null_that_cannot_be_told_from_passing_makes_a_pass_nonspecific():
    half = np.where(np.arange(10)[:, None] < 5, FALLING, np.full(7, 15.0))  # half the seeds fall at init
    r = verdict({"a": synthetic_case("a", erank_init=half)}, pred("effective_rank", MONOTONE, nulls=[{"stage": "init"}]), "a")
    assert r.nulls[0].verdict is INC
    assert r.verdict is S.Verdict.NONSPECIFIC


def test_a_claim_whose_nulls_fail_is_pass():
    flat = np.full(7, 15.0)
    ds = {"a": synthetic_case("a"), "iid": synthetic_case("iid", erank=flat)}
    r = verdict(ds, pred("effective_rank", MONOTONE, nulls=[{"stage": "init"}, "iid", {"case": "iid", "stage": "init"}]), "a")
    assert r.verdict is PASS, r.reason
    assert [n.verdict for n in r.nulls] == [FAIL, FAIL, FAIL]
    assert [n.ref for n in r.nulls] == ["init", "iid", "iid@init"]


def test_a_null_does_not_rescue_a_failing_claim():
    flat = np.full(7, 15.0)
    r = verdict(
        {"a": synthetic_case("a", erank=flat, erank_init=FALLING)},
        pred("effective_rank", MONOTONE, nulls=[{"stage": "init"}]),
        "a",
    )
    assert r.verdict is FAIL
    assert r.nulls[0].verdict is PASS


def test_an_absent_null_case_is_error():
    r = verdict({"a": synthetic_case("a")}, pred("effective_rank", MONOTONE, nulls=["iid"]), "a")
    assert r.verdict is ERR
    assert "null 'iid'" in r.reason
    assert "no complete result" in r.reason
    assert r.nulls[0].verdict is ERR
    assert r.statistic is not None  # the case's own numbers are still reported
    diverged = synthetic_case("iid", status="diverged")
    r = verdict({"a": synthetic_case("a"), "iid": diverged}, pred("effective_rank", MONOTONE, nulls=["iid"]), "a")
    assert r.verdict is ERR
    assert "diverged" in r.reason


def test_a_partial_stores_summary_says_how_many_cases_are_not_complete():
    """Scoring a store still being computed: its predictions that read an absent case are ERROR, and the
    summary line says how many cases are missing (or diverged), so 21 ERRORs read as 'not yet run'."""
    p = pred("effective_rank", MONOTONE, nulls=["iid"])
    partial = S.score_datasets({"a": synthetic_case("a")}, suite(case("a", [p]), case("iid"), case("b")), store="mem://x")
    assert partial.summary_line().endswith(
        "; of 3 cases, 2 missing (not complete: `rgbench verify --partial` says where each stands)"
    )
    mixed = {"a": synthetic_case("a"), "iid": synthetic_case("iid", status="diverged")}
    assert (
        "; of 3 cases, 1 diverged, 1 missing ("
        in S.score_datasets(mixed, suite(case("a", [p]), case("iid"), case("b"))).summary_line()
    )
    failed = {**mixed, "b": synthetic_case("b", status="failed: RuntimeError: out of memory")}  # counted by kind
    assert (
        "; of 3 cases, 1 diverged, 1 failed ("
        in S.score_datasets(failed, suite(case("a", [p]), case("iid"), case("b"))).summary_line()
    )
    whole = {"a": synthetic_case("a"), "iid": synthetic_case("iid"), "b": synthetic_case("b")}
    assert "cases" not in S.score_datasets(whole, suite(case("a", [p]), case("iid"), case("b"))).summary_line()


def test_an_equivalence_claim_is_nonspecific_when_its_margin_also_calls_the_present_case_absent():
    # "collapse absent at long ξ" with δ = 1: the short-ξ case, where collapse is present (C = 0.6),
    # is also called equivalent to 0 — the margin cannot tell presence from absence.
    short = synthetic_case("short", erank=15.0 - 0.1 * np.arange(7), erank_init=np.full(7, 15.0))
    long_ = synthetic_case("long", erank=np.full(7, 15.0))
    wide = pred("rank_collapse", {"kind": "equivalence", "delta": 1.0}, nulls=["short"])
    narrow = pred("rank_collapse", {"kind": "equivalence", "delta": 0.3}, nulls=["short"])
    ds = {"short": short, "long": long_}
    assert verdict(ds, wide, "long").verdict is S.Verdict.NONSPECIFIC
    r = verdict(ds, narrow, "long")
    assert r.verdict is PASS, r.reason
    assert r.nulls[0].verdict is FAIL, r.reason


def test_a_null_can_replace_the_reference_of_a_comparison():
    flat = np.full(7, 15.0)
    ds = {"short": synthetic_case("short"), "long": synthetic_case("long", erank=flat), "shuffle": synthetic_case("shuffle")}
    p = pred(
        "rank_collapse",
        {"kind": "difference", "compare_to": "long", "at_least": 0.0},
        nulls=[{"case": "shuffle"}, {"compare_to": "shuffle"}],
    )
    r = verdict(ds, p, "short")
    # shuffle − long passes too (the effect is not about order); short − shuffle is exactly 0 (not a pass)
    assert [n.ref for n in r.nulls] == ["shuffle", "this case vs shuffle"]
    assert [n.verdict for n in r.nulls] == [PASS, INC]
    assert r.verdict is S.Verdict.NONSPECIFIC


def test_nulls_in_reports_json_markdown_and_strict():
    ds = {"a": synthetic_case("a", erank_init=FALLING), "iid": synthetic_case("iid", erank=np.full(7, 15.0))}
    p = pred("effective_rank", MONOTONE, claim="falls", nulls=[{"stage": "init"}, "iid"])
    rep = S.score_datasets(ds, suite(case("a", [p]), case("iid")), store="mem://x")
    d = json.loads(rep.to_json())
    (only,) = d["predictions"]
    assert only["verdict"] == "NONSPECIFIC"
    assert d["counts"]["NONSPECIFIC"] == 1
    assert d["counts"]["PASS"] == 0
    assert only["test_verdict"] == "PASS"
    assert [(n["ref"], n["verdict"]) for n in only["nulls"]] == [("init", "PASS"), ("iid", "FAIL")]
    assert set(only["nulls"][0]) >= {"ref", "verdict", "statistic", "ci"}
    assert len(only["nulls"][0]["ci"]) == 2
    assert S.Report.from_json(rep.to_json()).to_json() == rep.to_json()
    md = rep.to_markdown()
    assert md.splitlines()[4].startswith("no pre-registration record")
    assert md.splitlines()[6] == "## Claims"
    assert "nulls" in md.splitlines()[8]
    assert "init: PASS -1" in md
    assert "iid: FAIL" in md
    assert "1 NONSPECIFIC" in rep.summary_line()
    assert not rep.ok()  # --strict fails on NONSPECIFIC


def test_null_variant_keeps_everything_but_what_the_null_names():
    p = pred(
        "rank_collapse",
        {"kind": "difference", "compare_to": "long", "at_least": 0.0},
        layers="2:",
        nulls=[{"stage": "init", "compare_to": "iid"}],
    )
    case_id, v = p.null_variant(p.nulls[0])
    assert case_id is None
    assert v.stage == "init"
    assert v.test.compare_to == "iid"
    assert v.layers == "2:"
    assert v.nulls == []
    assert p.test.compare_to == "long"  # the original is untouched


def test_null_references_are_checked_against_the_prediction():
    with pytest.raises(pydantic.ValidationError, match="the prediction itself"):
        pred("effective_rank", MONOTONE, nulls=[{"stage": "trained"}])
    with pytest.raises(pydantic.ValidationError, match="has no stages"):
        pred("final_loss", {"kind": "threshold", "at_most": 1}, nulls=[{"stage": "init"}])
    with pytest.raises(pydantic.ValidationError, match="compares stage 'init' with itself"):
        pred("drift_concentration", {"kind": "difference", "against_stage": "init", "at_least": 0}, nulls=[{"stage": "init"}])
    with pytest.raises(pydantic.ValidationError, match="`compare_to` applies only"):
        pred("effective_rank", MONOTONE, nulls=[{"compare_to": "b"}])
    with pytest.raises(pydantic.ValidationError, match="names a `case`"):
        pred("effective_rank", MONOTONE, nulls=[{}])


# --------------------------------------------------------------------------------------------
# The observables the audit asked for: token rows, the [MASK] point, drift against update ratio


def test_token_rows_tell_a_collapse_carried_by_the_mask_symbol():
    # all rows: a fall of 7.5 after training (the [MASK] point moves); token rows: flat at V − 1 = 15
    ds = with_rows(synthetic_case("a"), token=np.full((2, 7), 15.0), mask=np.zeros((2, 7)))
    assert P.RankCollapse().values(ds).values == pytest.approx([7.5] * 10)
    assert P.RankCollapse().values(ds, role="token").values == pytest.approx([0.0] * 10)
    assert P.EffectiveRank().values(ds, role="mask").values == pytest.approx(np.zeros((10, 6)))
    assert P.EffectiveRank(probe="full_minus_half").values(ds, role="token").values == pytest.approx(np.zeros((10, 6)))
    assert P.MaskDistance().values(ds).values == pytest.approx(np.full((10, 7), 2.0))
    with pytest.raises(P.ObservableUnavailable, match="effective_rank_rows"):
        P.EffectiveRank().values(synthetic_case("a"), role="token")
    with pytest.raises(pydantic.ValidationError, match="probe"):
        pred({"kind": "effective_rank", "probe": "half"}, MONOTONE, role="mask")


def test_drift_relative_to_the_squared_update_ratio_is_one_when_drift_is_a_function_of_it():
    u = np.array([0.9, 0.5, 0.3, 0.2, 0.1, 0.05])
    ds = synthetic_case("a", drift=0.4 * u**2, drift_init=0.4 * (u[::-1]) ** 2)
    ds["update_ratio"] = (ds["kernel_drift"] / 0.4) ** 0.5  # drift = c·u² exactly, at both stages
    rel = P.DriftConcentration(relative_to="update_ratio").values(ds)
    assert rel.values == pytest.approx(np.ones(10))
    share = P.DriftConcentration().values(ds).values
    assert share == pytest.approx(np.full(10, (0.81 + 0.25) / np.sum(u**2)))
    even = P.DriftConcentration(relative_to="even").values(ds, layers="1:")  # transitions 1..5: k/n = 2/5
    assert even.values == pytest.approx(np.full(10, (0.25 + 0.09) / np.sum(u[1:] ** 2) / 0.4))
    assert P.DominantTransition().values(ds).values == pytest.approx(np.zeros(10))
    assert P.DominantTransition().values(ds, stage="init").values == pytest.approx(np.full(10, 5.0))
    with pytest.raises(pydantic.ValidationError, match="of: kernel_drift"):
        P.DriftConcentration(of="update_ratio", relative_to="update_ratio")


def test_a_corrupted_case_is_error_with_its_reason():
    ds = xr.Dataset(attrs={"status": "corrupted: changed after completion: effective_rank changed"})
    r = verdict({"x": ds}, pred("final_loss", {"kind": "threshold", "at_most": 2.0}), "x")
    assert r.verdict is ERR, r.verdict
    assert "effective_rank changed" in r.reason, r.reason
    assert "rgbench run" in r.reason, r.reason


# --------------------------------------------------------------------------------------------
# Multiplicity, purposes and gates


LOSSES = np.array([1.00, 1.02, 0.97, 1.05, 0.99, 1.01, 0.96, 1.03, 1.00, 0.98])


def _bound_with_p(target: float) -> tuple[float, float]:
    """An `at_most` bound whose interval-rule p-value for LOSSES lies just below `target` (by scanning)."""
    from rgbench import stats

    for c in np.arange(1.0, 1.2, 0.0005):
        p, _ = stats.interval_pvalues(lambda level: stats.mean_interval(LOSSES, level), (None, float(c)))
        if p < target:
            return float(c), p
    raise AssertionError("no bound found")


def _multiplicity_suite(method: str, *diagnostics):
    bound, p = _bound_with_p(0.03)
    claims = [pred("final_loss", {"kind": "threshold", "at_most": bound}, claim=f"claim {i}") for i in range(3)]
    s = suite(case("a", [*claims, *diagnostics]))
    s.alpha, s.multiplicity = 0.05, method
    return s, p


def test_claims_are_decided_at_their_family_adjusted_level():
    ds = {"a": synthetic_case("a", final_loss=LOSSES)}
    raw, p = _multiplicity_suite("none")
    assert 0.02 < p < 0.03
    assert [r.verdict for r in S.score_datasets(ds, raw).predictions] == [PASS] * 3  # each alone passes at 0.05
    holm, _ = _multiplicity_suite("holm")
    rep = S.score_datasets(ds, holm)
    # three equal p-values: Holm multiplies each by 3 (> 0.05), so none passes
    assert [r.verdict for r in rep.predictions] == [S.Verdict.INCONCLUSIVE] * 3
    m = rep.predictions[0].multiplicity
    assert m["method"] == "holm" and m["size"] == 3 and m["family"] == "claims"
    assert m["p_pass_adjusted"] == pytest.approx(3 * m["p_pass"], rel=1e-9)
    assert "holm-adjusted over 3 claims" in rep.predictions[0].reason
    assert "p → holm" in rep.to_markdown()


def test_a_diagnostic_is_reported_apart_and_never_in_a_family():
    diagnostic = pred("final_loss", {"kind": "threshold", "at_most": 5.0}, claim="trains", purpose="diagnostic")
    s, _ = _multiplicity_suite("holm", diagnostic)
    rep = S.score_datasets({"a": synthetic_case("a", final_loss=LOSSES)}, s)
    assert [p.purpose for p in rep.predictions] == ["claim"] * 3 + ["diagnostic"]
    assert rep.predictions[-1].verdict is PASS and rep.predictions[-1].multiplicity == {}
    assert rep.predictions[0].multiplicity["size"] == 3  # the diagnostic is not in the family
    assert rep.counts["PASS"] == 0 and sum(rep.counts.values()) == 3
    assert rep.diagnostic_counts["PASS"] == 1
    assert "## Diagnostics" in rep.to_markdown()
    assert "3 claims" in rep.summary_line() and "1 diagnostics" in rep.summary_line()


def test_families_are_corrected_apart():
    bound, _ = _bound_with_p(0.03)
    claims = [
        pred("final_loss", {"kind": "threshold", "at_most": bound}, claim=f"claim {i}", family="one" if i == 0 else "two")
        for i in range(3)
    ]
    s = suite(case("a", claims))
    s.alpha, s.multiplicity = 0.05, "bonferroni"
    rep = S.score_datasets({"a": synthetic_case("a", final_loss=LOSSES)}, s)
    assert [p.multiplicity["size"] for p in rep.predictions] == [1, 2, 2]
    assert rep.predictions[0].verdict is PASS  # alone in its family: no correction
    # each family's counts: in the JSON and on the summary line (only where the suite names families)
    two = {v: rep.family_counts["two"][v] for v in ("PASS", "INCONCLUSIVE")}
    assert rep.family_counts["one"]["PASS"] == 1 and sum(rep.family_counts["one"].values()) == 1
    assert sum(rep.family_counts["two"].values()) == 2 and sum(two.values()) == 2
    assert json.loads(rep.to_json())["family_counts"] == rep.family_counts
    assert "; by family: one 1 PASS; two " in rep.summary_line()
    plain = S.score_datasets({"a": synthetic_case("a", final_loss=LOSSES)}, suite(case("a", claims[:1])))
    assert plain.family_counts == {"one": {v.value: int(v is PASS) for v in S.Verdict}}
    assert "by family" not in plain.summary_line()  # one family: nothing to break down


def test_a_failed_gate_makes_its_case_claims_error():
    gate = pred("final_loss", {"kind": "threshold", "at_most": 0.5}, claim="trains below 0.5", purpose="diagnostic", gate=True)
    claim = pred("final_loss", {"kind": "threshold", "at_most": 5.0}, claim="some claim")
    s = suite(case("a", [claim, gate]), case("b", [claim]))
    rep = S.score_datasets({"a": synthetic_case("a", final_loss=LOSSES), "b": synthetic_case("b", final_loss=LOSSES)}, s)
    a_claim, a_gate, b_claim = rep.predictions
    assert a_gate.verdict is S.Verdict.FAIL
    assert a_claim.verdict is S.Verdict.ERROR and "gate 'trains below 0.5' is FAIL" in a_claim.reason
    assert b_claim.verdict is PASS  # another case's claims are not gated
    assert a_claim.test_verdict is PASS


def test_purpose_family_and_gate_are_validated():
    with pytest.raises(pydantic.ValidationError, match="gate"):
        pred("final_loss", {"kind": "threshold", "at_most": 1.0}, gate=True)
    with pytest.raises(pydantic.ValidationError, match="family"):
        pred("final_loss", {"kind": "threshold", "at_most": 1.0}, purpose="diagnostic", family="x")
    with pytest.raises(pydantic.ValidationError):
        pred("final_loss", {"kind": "threshold", "at_most": 1.0}, purpose="aside")


def test_the_suite_language_and_the_statistics_name_the_same_corrections():
    from rgbench import stats
    from rgbench.suite._schema import MULTIPLICITY_METHODS

    assert MULTIPLICITY_METHODS == stats.METHODS


def test_previous_verdicts_are_shown_where_they_differ():
    rep = _report()
    earlier = S.Report.from_json(rep.to_json())
    first = earlier.predictions[0]
    earlier.predictions[0] = replace(first, verdict=S.Verdict.FAIL)
    marked = rep.with_previous(earlier, "old.json")
    assert marked.predictions[0].previous_verdict == "FAIL"
    assert all(p.previous_verdict is None for p in marked.predictions[1:])
    assert "**PASS** (was FAIL)" in marked.to_markdown()
    assert json.loads(marked.to_json())["previous"] == "old.json"


def test_a_null_with_zero_spread_on_zero_is_flagged_uninformative_and_not_counted():
    # two cases identical at init: the difference of their init collapses is exactly 0 in every seed
    ds = {"a": synthetic_case("a", erank=15.0 - 2.5 * np.arange(7)), "b": synthetic_case("b", erank=FALLING)}
    test = {"kind": "difference", "compare_to": "b", "at_least": 0.3}
    p = pred("rank_collapse", test, claim="a collapses more", nulls=[{"stage": "init"}])
    (r,) = S.score_datasets(ds, suite(case("a", [p]), case("b"))).predictions
    (null,) = r.nulls
    assert null.statistic == 0.0 and null.uninformative
    assert "UNINFORMATIVE" in null.text
    assert r.verdict is PASS
    assert "specificity untested" in r.reason
    assert json.loads(S.Report(suite="x", predictions=[r]).to_json())["predictions"][0]["nulls"][0]["uninformative"]
    # a null with spread, or away from the identity and the bounds, is informative
    assert not S.uninformative(replace(r, per_seed={"statistic": [0.0, 0.1]}), 0.0)
    assert not S.uninformative(replace(r, per_seed={"statistic": [0.2, 0.2]}), 0.0)
    assert S.uninformative(replace(r, per_seed={"statistic": [0.3, 0.3]}))  # on the bound
    # a one-sample statistic at 0 in every seed (a flat profile's Spearman ρ) is a measurement, not a tie
    assert not S.uninformative(replace(r, per_seed={"statistic": [0.0, 0.0]}), None)


def test_drift_concentration_left_one_out_is_the_smallest_over_the_dropped_transitions():
    """Drift (0.02, 0.5, 0.3, 0.02, 0.02, 0.02) on transitions 1..5 (0.5, 0.3, 0.02 ×3, total 0.86):
    the top-2 share relative to the even share 2/5 is 0.8/0.86/0.4; leaving out 1→2 (0.5) gives
    (0.3 + 0.02)/0.36 relative to 2/4 — the smallest of the five — so a window that drops the one
    large transition is what the robust value reports."""
    ds = synthetic_case("a")
    full = P.DriftConcentration(relative_to="even").values(ds, layers="1:").values
    assert full == pytest.approx(np.full(10, 0.8 / 0.86 / 0.4))
    loo = P.DriftConcentration(relative_to="even", leave_one_out=True).values(ds, layers="1:").values
    assert loo == pytest.approx(np.full(10, 0.32 / 0.36 / 0.5))
    plain = P.DriftConcentration(leave_one_out=True).values(ds, layers="1:").values  # min over the raw top-2 shares
    assert plain == pytest.approx(np.full(10, 0.32 / 0.36))
    with pytest.raises(P.ObservableUnavailable, match="more than top = 2"):
        P.DriftConcentration(leave_one_out=True).values(ds, layers="4:")  # transitions 4, 5: nothing to leave out


def test_loss_slope_is_the_least_squares_slope_of_the_last_tenth_of_training():
    """A loss falling linearly by 1 nat over the logged steps has slope −1/(span) per step; a curve
    flat over the window fitted has slope 0; too few logged values in the window is a clear error."""
    ds = synthetic_case("a")
    steps = np.asarray(ds["step"].values, dtype=float)
    assert len(steps) >= 4
    per_step = -1.0 / (steps[-1] - steps[0])  # the helper's loss: final + linspace(1, 0)
    assert P.LossSlope(fraction=1.0).values(ds).values == pytest.approx(np.full(10, per_step * 1000))
    assert P.LossSlope(fraction=1.0, per=1).values(ds).values == pytest.approx(np.full(10, per_step))
    flat = ds.copy()
    flat["loss"] = flat["loss"].where(flat["step"] <= 0.5 * steps[-1], flat["final_loss"])
    assert P.LossSlope(fraction=0.45).values(flat).values == pytest.approx(np.zeros(10), abs=1e-12)
    assert P.LossSlope(fraction=1.0).values(flat).values.max() < 0  # the whole curve still falls
    with pytest.raises(P.ObservableUnavailable, match="log more often"):
        P.LossSlope(fraction=1e-6).values(ds)


def test_a_claims_statistic_along_training_is_the_statistic_had_training_stopped_there():
    """A case measured at init, step 100 and trained: the report gives each staged claim's statistic
    at step 100 — that of the same case with the step-100 snapshot as its trained stage — and at the
    end (its own statistic); a claim on an unstaged observable (the final loss) gets none."""
    ds = synthetic_case("a")  # trained erank falls 1.5 per layer from 15; init flat at 15
    half = ds[[v for v in ds.data_vars if "stage" in ds[v].dims]].sel(stage=["trained"]).assign_coords(stage=["100"])
    half["effective_rank"] = 15.0 - 0.5 * (15.0 - half["effective_rank"])  # half the fall at step 100
    parts = [ds.sel(stage=["init"]), half, ds.sel(stage=["trained"])]
    staged = xr.concat(parts, dim="stage", data_vars="minimal", coords="minimal", compat="override")
    staged = staged.assign_coords(stage_step=("stage", np.array([0, 100, 400])))
    collapse = pred("rank_collapse", {"kind": "threshold", "at_least": 0.0}, claim="collapse", layers="1:")
    loss = pred("final_loss", {"kind": "threshold", "at_most": 9.0}, claim="loss")
    report = S.score_datasets({"a": staged}, suite(case("a", [collapse, loss])), store="x.zarr")
    by_claim = {p.claim: p for p in report.predictions}
    along = by_claim["collapse"].detail["along_training"]
    assert list(along) == ["100", "400"]
    assert along["400"] == pytest.approx(by_claim["collapse"].statistic)
    assert along["100"] == pytest.approx(0.5 * by_claim["collapse"].statistic)  # half the fall, half the collapse
    assert "along_training" not in by_claim["loss"].detail
    from rgbench.scoring._render import notes

    assert any("step 100: " in line and "step 400: " in line for line in notes(report))


def test_along_training_reads_only_the_cases_a_claim_reads():
    """A store that also holds a case measured at init and trained only (an untrained control) still
    gives the staged claims of its other cases their statistic along training: the steps are those of
    the case and of the case it compares with, not of every case in the store (controls-v2 lost its
    trajectories to the intersection over all cases)."""
    ds = synthetic_case("a")
    half = ds[[v for v in ds.data_vars if "stage" in ds[v].dims]].sel(stage=["trained"]).assign_coords(stage=["100"])
    parts = [ds.sel(stage=["init"]), half, ds.sel(stage=["trained"])]
    staged = xr.concat(parts, dim="stage", data_vars="minimal", coords="minimal", compat="override")
    staged = staged.assign_coords(stage_step=("stage", np.array([0, 100, 400])))
    plain = synthetic_case("b").assign_coords(stage_step=("stage", np.array([0, 0])))  # init and trained, no step
    collapse = pred("rank_collapse", {"kind": "threshold", "at_least": 0.0}, claim="collapse", layers="1:")
    other = pred("rank_collapse", {"kind": "threshold", "at_least": 0.0}, claim="other", layers="1:")
    report = S.score_datasets({"a": staged, "b": plain}, suite(case("a", [collapse]), case("b", [other])), store="x.zarr")
    by_claim = {p.claim: p for p in report.predictions}
    assert list(by_claim["collapse"].detail["along_training"]) == ["100", "400"]
    assert "along_training" not in by_claim["other"].detail  # b measured no step of training
