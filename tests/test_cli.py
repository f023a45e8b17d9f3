"""The command line a newcomer meets first: no heavy imports, a complete reference, --only by grid."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, run_python

from rgbench.cli import build_parser, main

HEAVY = ("jax", "equinox", "optax", "xarray", "zarr", "scipy", "matplotlib", "distributed")

_PROBE = """
import contextlib, io, sys
from rgbench.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as e:
        code = e.code
print(code, ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["list"],
        ["list", "--json"],
        ["validate", "suites/rg-paper.yaml", "suites/controls.yaml", "suites/theory.yaml"],
        ["show", "suites/rg-paper.yaml"],
        ["show", "smoke"],
        ["suites", "--all"],
    ],
)
def test_reading_commands_import_no_heavy_library(argv):
    """validate, list, show, suites and --help import neither JAX, xarray, SciPy nor matplotlib (they were
    6-7 s of CPU before anything happened); benchmarks/cli_startup.py times them."""
    out = run_python(_PROBE.format(heavy=HEAVY), *argv, cwd=ROOT, check=True)
    code, _, heavy = out.stdout.strip().splitlines()[-1].partition(" ")
    assert code in ("0", "None"), (argv, out.stdout, out.stderr)
    assert heavy == "", (argv, out.stdout, out.stderr)


def _listing(capsys, *argv: str) -> dict:
    assert main(["list", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _names(section: dict) -> list[str]:
    return [p["name"] for p in section["parameters"]]


def test_list_covers_every_key_a_suite_may_hold(capsys):
    from rgbench._train_config import TrainConfig
    from rgbench.inputs import Masking
    from rgbench.measure import MeasureConfig
    from rgbench.predictions import PredictionBase
    from rgbench.suite import models
    from rgbench.suite._schema import _TOP_KEYS

    ref = _listing(capsys)
    _, CaseSpec = models()
    assert _names(ref["suite"]) == list(_TOP_KEYS)
    assert set(_names(ref["case"])) == set(CaseSpec.model_fields) | {"grid"}
    assert _names(ref["train"]) == list(TrainConfig.model_fields)
    assert _names(ref["measure"]) == list(MeasureConfig.model_fields)
    assert _names(ref["masking"]) == list(Masking.model_fields)
    assert set(_names(ref["prediction"])) == set(PredictionBase.model_fields) | {"observable", "test"}
    train = {p["name"]: p for p in ref["train"]["parameters"]}
    # defaults are the models' own, ranges are what pydantic enforces, every key has a meaning
    assert train["steps"]["default"] == TrainConfig().steps == 10_000
    assert train["steps"]["allowed"] == "≥ 0, ≤ 10000000"
    assert train["lr"]["allowed"] == "> 0, ≤ 100"
    assert train["optimizer"]["type"] == "'adam' | 'adamw' | 'sgd'"
    for cat in ("suite", "case", "train", "measure", "masking", "prediction"):
        assert all(p["description"] for p in ref[cat]["parameters"]), cat
    sticky = {p["name"]: p for p in ref["input"]["sticky"]["parameters"]}
    assert sticky["pi"]["type"] == "list[float] | null"
    assert sticky["xi"]["allowed"] == "> 0, finite"
    assert sticky["masking"]["default"] == {"scheme": "bert", "rate": 0.15}


def test_list_table_states_what_xi_means_and_every_section(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "ξ = −1/ln|λ₂|" in text
    assert "second-largest eigenvalue" in text
    for title in (
        "suite keys",
        "case keys",
        "train keys",
        "measure keys",
        "masking keys",
        "prediction keys",
        "architecture kinds",
        "input kinds",
        "observable kinds",
        "test kinds",
        "theories",
    ):
        assert title in text
    assert "eval_sequences" in text
    assert "≥ 1, ≤ 1000000" in text


def test_only_selects_a_grid_by_its_base_id():
    from rgbench.runner import select_cases
    from rgbench.suite import load_suite

    suite = load_suite(ROOT / "suites" / "archive" / "controls-v1.yaml")
    picked = [c.id for c in select_cases(suite, ["width-sweep", "block"])]
    assert picked == ["block", "width-sweep[architecture.width=32]", "width-sweep[architecture.width=128]"]
    assert [c.id for c in select_cases(suite, ["width-sweep[architecture.width=128]"])] == ["width-sweep[architecture.width=128]"]
    with pytest.raises(KeyError, match=r"no case of suite 'controls': nope .*grids: .*width-sweep"):
        select_cases(suite, ["nope"])


def test_parser_has_every_command_and_resolves_them_lazily():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"validate", "list", "show", "suites", "run", "score", "verify", "leaderboard", "plot"}
    args = parser.parse_args(["run", "suites/smoke.yaml", "--only", "short-xi", "--plugin", "x"])
    assert args.only == ["short-xi"]
    assert args.plugins == ["x"]
    assert callable(args.func)
