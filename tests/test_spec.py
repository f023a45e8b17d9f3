"""The suite language: resolution, hashing, and located errors for every class of mistake."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import textwrap
import tracemalloc
import typing
from pathlib import Path

import hypothesis.strategies as st
import pytest
import yaml
from helpers import HANG_S, run_python, run_rgbench
from hypothesis import HealthCheck, given, settings

import rgbench.suite._expand as expand_module
import rgbench.suite._read as read_module
from rgbench.cli import main
from rgbench.suite import MAX_CASES, MAX_FILE_BYTES, MAX_ID_BYTES, MAX_NULLS, SuiteError, load_suite, models, suite_from_json

VALID = """\
suite: demo
title: a demo
defaults:
  architecture: {kind: tokenwise, depth: 6, width: 64}
  input: {kind: sticky, vocab: 16, length: 64, xi: 1.2, masking: {scheme: bert, rate: 0.15}}
  train: {steps: 100, batch: 32}
  seeds: 3
cases:
  - id: short-xi
    predict:
      - claim: erank falls with depth
        observable: effective_rank
        stage: trained
        layers: "1:"
        test: {kind: monotone, along: layer, direction: decreasing}
  - id: long-xi
    input: {xi: 6.7}
  - id: depth-sweep
    grid: {architecture.depth: [3, 8], input.xi: [1.0, 7.0]}
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return [str(p) for p in info.value.problems]


def test_defaults_merge_and_grid_expand(tmp_path):
    suite = load_suite(write(tmp_path, VALID))
    assert suite.name == "demo"
    assert suite.title == "a demo"
    assert suite.ids == [
        "short-xi",
        "long-xi",
        "depth-sweep[architecture.depth=3,input.xi=1.0]",
        "depth-sweep[architecture.depth=3,input.xi=7.0]",
        "depth-sweep[architecture.depth=8,input.xi=1.0]",
        "depth-sweep[architecture.depth=8,input.xi=7.0]",
    ]
    long = suite.case("long-xi")
    assert long.input.xi == 6.7
    assert long.input.vocab == 16
    assert long.input.masking.rate == 0.15
    assert long.architecture.depth == 6
    assert long.seeds == 3
    assert long.train.steps == 100
    sweep = suite.case("depth-sweep[architecture.depth=8,input.xi=7.0]")
    assert sweep.architecture.depth == 8
    assert sweep.input.xi == 7.0
    assert sweep.base_id == "depth-sweep"
    pred = suite.case("short-xi").predict[0]
    assert pred.observable.kind == "effective_rank"
    assert pred.test.kind == "monotone"
    assert pred.layers == "1:"


def test_hash_is_stable_and_tracks_what_is_computed(tmp_path):
    a = load_suite(write(tmp_path, VALID))
    b = load_suite(write(tmp_path, VALID, "again.yaml"))
    assert [c.hash for c in a.cases] == [c.hash for c in b.cases]
    assert len({c.hash for c in a.cases}) == len(a.cases)
    changed = load_suite(write(tmp_path, VALID.replace("steps: 100", "steps: 101"), "changed.yaml"))
    assert all(x.hash != y.hash for x, y in zip(a.cases, changed.cases))
    # predictions do not change what is computed, so they do not change the hash
    no_pred = load_suite(write(tmp_path, VALID.replace("erank falls with depth", "another claim"), "np.yaml"))
    assert no_pred.case("short-xi").hash == a.case("short-xi").hash


def test_json_round_trip(tmp_path):
    suite = load_suite(write(tmp_path, VALID))
    again = suite_from_json(suite.to_json())
    assert again.ids == suite.ids
    assert [c.hash for c in again.cases] == [c.hash for c in suite.cases]
    assert again.to_json() == suite.to_json()


def test_kind_switch_keeps_only_accepted_defaults(tmp_path):
    text = VALID.replace("  - id: long-xi\n    input: {xi: 6.7}", "  - id: long-xi\n    input: {kind: sticky, xi: 6.7}")
    suite = load_suite(write(tmp_path, text))
    assert suite.case("long-xi").input.vocab == 16


def test_include_merges_defaults_and_cases(tmp_path):
    write(
        tmp_path,
        """\
        defaults:
          architecture: {kind: tokenwise, width: 32}
          input: {kind: sticky, xi: 2.0}
        cases:
          - id: from-base
        """,
        "base.yaml",
    )
    path = write(
        tmp_path,
        """\
        suite: top
        include: [base.yaml]
        defaults:
          architecture: {depth: 3}
        cases:
          - id: own
        """,
    )
    suite = load_suite(path)
    assert suite.ids == ["from-base", "own"]
    own = suite.case("own")
    assert own.architecture.width == 32
    assert own.architecture.depth == 3
    assert own.input.xi == 2.0


def test_include_cycle_is_reported(tmp_path):
    write(tmp_path, "include: [b.yaml]\ncases: []\n", "a.yaml")
    write(tmp_path, "include: [a.yaml]\ncases: []\n", "b.yaml")
    path = write(tmp_path, "suite: s\ninclude: [a.yaml]\ncases: [{id: x}]\n")
    lines = problems_of(path)
    assert any("include cycle" in line and "a.yaml" in line for line in lines), lines


@pytest.mark.parametrize(
    ("snippet", "line", "key", "fragment"),
    [
        ("    input: {xi: -1.0}", 11, "cases[bad].input.xi", "greater than 0; got -1.0"),
        ("    architecture: {depth: 0}", 11, "cases[bad].architecture.depth", "greater than or equal to 1; got 0"),
        ("    input: {masking: {rate: 1.5}}", 11, "cases[bad].input.masking.rate", "less than 1; got 1.5"),
        ("    seeds: 0", 11, "cases[bad].seeds", "greater than or equal to 1; got 0"),
        ("    input: {kind: stiky}", 11, "cases[bad].input", "unknown input kind 'stiky'; did you mean 'sticky'?"),
        ("    train: {stpes: 3}", 11, "cases[bad].train.stpes", "unknown key 'stpes'; did you mean 'steps'?"),
        (
            "    train: {steps: many}",
            11,
            "cases[bad].train.steps",
            "must be a valid integer; got 'many' (a string)",
        ),
        ("    seeds: 2\n    seeds: 3", 12, "seeds", "duplicate key (first given on line 11)"),
        ("    grid: {architecture.dept: [1, 2]}", 11, "cases[bad].grid.architecture.dept", "grid key does not exist"),
        ("    grid: {nothing.here: [1]}", 11, "cases[bad].grid.nothing.here", "grid key does not exist"),
        (
            "    predict: [{claim: c, observable: effective_rank, test: {kind: difference, compare_to: lnog}}]",
            11,
            "cases[bad].predict[0].test.compare_to",
            "no case of this suite: 'lnog'; did you mean 'long'?",
        ),
        ("    input: {xi: .nan}", 11, "input.xi", "non-finite number"),
        ("    flavour: vanilla", 11, "cases[bad].flavour", "unknown key 'flavour'"),
        (
            "    train: {steps: 100, log_every: 10}\n    measure: {stages: [init, 25, trained]}",
            12,
            "cases[bad].measure.stages[1]",
            "stage 25 is not a step this case's training stops at: a step stage must be below train.steps (100) "
            "and a multiple of train.log_every (10), e.g. 20",
        ),
        ("    measure: {stages: [init, 10, trained]}", 11, "cases[bad].measure.stages[1]", "has no such step"),
        ("    measure: {stages: [init, trained, init]}", 11, "cases[bad].measure.stages", "init appears more than once"),
        (
            "    predict: [{claim: c, observable: effective_rank, stage: 5, test: {kind: threshold, at_least: 0}}]",
            11,
            "cases[bad].predict[0].stage",
            "stage 5 is not measured by this case (measure.stages: init, trained); add it there",
        ),
        (
            "    predict: [{claim: c, id: Bad Id, observable: effective_rank, test: {kind: threshold, at_least: 0}}]",
            11,
            "cases[bad].predict[0].id",
            "should match pattern",
        ),
        (
            "    predict:\n      - {claim: c, id: rg.x, observable: effective_rank, test: {kind: threshold, at_least: 0}}\n"
            "      - {claim: c, id: rg.x, observable: participation_ratio, test: {kind: threshold, at_least: 0}}",
            13,
            "cases[bad].predict[1].id",
            "claim id 'rg.x' is given twice in this case",
        ),
        (
            "    predict:\n      - {claim: c, id: rg.x, observable: effective_rank, test: {kind: threshold, at_least: 0}}\n"
            "      - {claim: d, id: rg.y, observable: effective_rank, test: {kind: threshold, at_least: 0}}\n"
            "  - id: third\n    predict: [{claim: other words, id: rg.x, observable: effective_rank, "
            "test: {kind: threshold, at_least: 0}}]",
            15,
            "cases[third].predict[0].id",
            "claim id 'rg.x' names another claim at",
        ),
    ],
)
def test_each_mistake_gives_a_located_message(tmp_path, snippet, line, key, fragment):
    text = f"""\
suite: s
defaults:
  architecture: {{kind: tokenwise}}
  input: {{kind: sticky, xi: 1.2}}
  train: {{steps: 10}}
  seeds: 2
cases:
  - id: long
    input: {{xi: 7.0}}
  - id: bad
{snippet}
"""
    path = write(tmp_path, text)
    lines = problems_of(path)
    expected_prefix = f"{path}:{line}: "
    assert any(lp.startswith(expected_prefix) and key in lp and fragment in lp for lp in lines), lines


def test_duplicate_case_ids_and_missing_top_keys(tmp_path):
    lines = problems_of(
        write(
            tmp_path,
            "title: t\ncases:\n  - {id: a, architecture: {kind: tokenwise}, input: {kind: sticky}}\n"
            "  - {id: a, architecture: {kind: tokenwise}, input: {kind: sticky}}\n",
        )
    )
    assert any("suite: required key missing" in x for x in lines)
    assert any(":4: cases[a].id: duplicate case id 'a'" in x for x in lines), lines


def test_five_mistakes_five_lines_exit_2_nothing_written(tmp_path, capsys):
    path = write(
        tmp_path,
        """\
        suite: five
        defaults:
          architecture: {kind: tokenwise, depth: -3}
          input: {kind: stikcy}
          seeds: 0
        cases:
          - id: a
            train: {lr: -1}
          - id: a
        """,
    )
    before = set(tmp_path.rglob("*"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5, err
    assert all(line.startswith(f"{path}:") for line in err)
    assert set(tmp_path.rglob("*")) == before


def test_validate_exit_zero_and_show(tmp_path, capsys):
    path = write(tmp_path, VALID)
    assert main(["validate", str(path)]) == 0
    assert main(["show", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [c["id"] for c in shown["cases"]][:2] == ["short-xi", "long-xi"]


def test_python_dash_m_and_list():
    out = run_rgbench("list", "--json", check=True)
    listing = json.loads(out.stdout)
    assert "tokenwise" in listing["architecture"]
    assert "sticky" in listing["input"]
    xi = [p for p in listing["input"]["sticky"]["parameters"] if p["name"] == "xi"]
    assert xi
    assert xi[0]["description"]
    # Theories are listed with the observables they predict and a source.
    assert {"fourth_moment_relu", "nngp_residual_relu", "pooled_histogram_rank"} <= set(listing["theory"])
    assert listing["theory"]["fourth_moment_relu"]["observables"] == ["fourth_moment_ratio"]
    assert "(1+2/n)(1+5/n)" in listing["theory"]["fourth_moment_relu"]["description"]


def test_unsafe_yaml_is_refused(tmp_path):
    lines = problems_of(write(tmp_path, "suite: s\ncases: !!python/object/apply:os.system ['echo pwned']\n"))
    assert lines
    assert "YAML" in lines[0]


# ----------------------------------------------------------------------------------------------
# Property test: mutated suites validate or raise SuiteError, never anything else.

BASE = yaml.safe_load(VALID)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(BASE) if p]


def _mutate(data, path, op, value):
    import copy

    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif op == "rename" and isinstance(parent, dict):
        parent[str(last) + "x"] = parent.pop(last)
    elif op == "nest":
        nested = value
        for _ in range(80):
            nested = {"k": nested}
        parent[last] = nested
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(ALL_PATHS),
    op=st.sampled_from(["delete", "replace", "rename", "nest", "duplicate", "garbage"]),
    value=_leaves,
    garbage=st.binary(max_size=64),
)
def test_mutated_suites_validate_or_raise_suite_error(tmp_path, path, op, value, garbage):
    target = tmp_path / "mut.yaml"
    if op == "garbage":
        text = VALID.encode()
        cut = len(text) // 2
        target.write_bytes(text[:cut] + garbage + text[cut:])
    elif op == "duplicate":
        target.write_text(VALID.replace("  seeds: 3\n", "  seeds: 3\n  seeds: 4\n"))
    else:
        target.write_text(yaml.safe_dump(_mutate(BASE, path, op, value), allow_unicode=True))
    try:
        load_suite(target)
    except SuiteError as e:
        # Every problem names the mutated file, a line inside it (or none) and says something.
        n_lines = len(target.read_bytes().splitlines()) + 1
        assert e.problems
        for p in e.problems:
            assert Path(p.file).name == target.name, str(p)
            assert p.line is None or 1 <= p.line <= n_lines, str(p)
            assert p.message.strip(), str(p)
        if op == "duplicate":
            assert any("duplicate key" in str(p) for p in e.problems)


def test_kind_switch_in_a_fresh_process_keeps_shared_parameters(tmp_path):
    # Regression: merging ran before the registries were populated, so in a fresh process a case
    # switching kind (tokenwise → mixer) silently lost depth and width from the defaults.
    text = VALID.replace("depth: 6, width: 64", "depth: 5, width: 48")
    path = write(
        tmp_path,
        text.replace(
            "  - id: long-xi\n    input: {xi: 6.7}", "  - id: long-xi\n    architecture: {kind: mixer}\n    input: {xi: 6.7}"
        ),
    )
    code = f"from rgbench.suite import load_suite; a = load_suite({str(path)!r}).case('long-xi').architecture; print(a.kind, a.depth, a.width)"
    out = run_python(code, check=True)
    assert out.stdout.split() == ["mixer", "5", "48"]


NULLS = """\
suite: nulls-demo
nulls:
  untrained-or-iid: [{stage: init}, iid]
  all-controls: [untrained-or-iid, shuffle]
defaults:
  architecture: {kind: tokenwise, depth: 3, width: 8}
  input: {kind: sticky, vocab: 4, length: 8, xi: 1.2}
  seeds: 2
cases:
  - id: short
    predict:
      - claim: falls
        observable: effective_rank
        role: token
        test: {kind: monotone}
        nulls: all-controls
      - claim: selective
        observable: rank_collapse
        test: {kind: difference, compare_to: long, at_least: 0}
        nulls: [{stage: init}, {case: shuffle, compare_to: long}, iid]
  - id: long
    input: {xi: 6.7}
  - id: iid
    input: {kind: iid}
  - id: shuffle
    input: {kind: shuffle, of: {kind: sticky, xi: 6.7}}
"""


def test_nulls_and_named_null_sets_resolve(tmp_path):
    suite = load_suite(write(tmp_path, NULLS))
    falls, selective = suite.case("short").predict
    assert [n.label() for n in falls.nulls] == ["init", "iid", "shuffle"]  # sets expand, nested ones too
    assert [n.label() for n in selective.nulls] == ["init", "shuffle vs long", "iid"]
    again = suite_from_json(suite.to_json())  # nulls survive the store's provenance
    assert again.case("short").predict[1].nulls == selective.nulls
    # predictions are not part of what a case computes: adding nulls changes no hash
    plain = load_suite(write(tmp_path, NULLS.replace("        nulls: all-controls\n", ""), "plain.yaml"))
    assert plain.case("short").hash == suite.case("short").hash


@pytest.mark.parametrize(
    "old, new, line, key, fragment",
    [
        (
            "nulls: all-controls",
            "nulls: [iidd]",
            16,
            "cases[short].predict[0].nulls[0]",
            "names no case of this suite: 'iidd'; did you mean 'iid'?",
        ),
        (
            "{case: shuffle, compare_to: long}",
            "{case: shuffle, compare_to: lnog}",
            20,
            "cases[short].predict[1].nulls[1]",
            "'lnog'; did you mean 'long'?",
        ),
        (
            "    input: {kind: iid}",
            "    input: {kind: iid}\n    measure: {stages: [trained]}",
            20,
            "cases[short].predict[1].nulls[2]",
            "reads stage 'init' of case 'iid', which measures only trained",
        ),
        ("nulls: all-controls", "nulls: [{stage: trained}]", 16, "cases[short].predict[0].nulls[0]", "the prediction itself"),
        ("nulls: all-controls", "nulls: [{stage: later}]", 16, "cases[short].predict[0].nulls[0].stage", "'init' or 'trained'"),
        ("nulls: all-controls", "null: [iid]", 16, "cases[0].predict[0]", "a prediction's nulls are written `nulls:`"),
        ("  untrained-or-iid:", "  iid:", 3, "nulls.iid", "may not share its name with case 'iid'"),
        ("  all-controls: [untrained-or-iid, shuffle]", "  all-controls: [all-controls]", 4, "nulls.all-controls", "cycle"),
    ],
)
def test_bad_nulls_give_located_messages(tmp_path, old, new, line, key, fragment):
    assert old in NULLS
    path = write(tmp_path, NULLS.replace(old, new))
    (problem, *_) = problems_of(path)
    assert problem.startswith(f"{path}:{line}: {key}: "), problem
    assert fragment in problem, problem


def test_seed_start_is_hash_neutral_at_zero_and_part_of_the_identity_otherwise(tmp_path):
    base = load_suite(write(tmp_path, VALID))
    zero = load_suite(write(tmp_path, VALID.replace("  seeds: 3\n", "  seeds: 3\n  seed_start: 0\n"), "zero.yaml"))
    later = load_suite(write(tmp_path, VALID.replace("  seeds: 3\n", "  seeds: 3\n  seed_start: 100\n"), "later.yaml"))
    assert [c.hash for c in zero.cases] == [c.hash for c in base.cases]  # stores written before seed_start stay valid
    assert all(a.hash != b.hash for a, b in zip(base.cases, later.cases))
    assert later.case("short-xi").seed_list == [100, 101, 102]
    assert base.case("short-xi").seed_list == [0, 1, 2]


def test_overrides_apply_to_every_case_and_are_validated_like_the_file(tmp_path):
    path = write(tmp_path, VALID)
    suite = load_suite(path, ["train.steps=10000", "seeds=10"])
    assert {c.train.steps for c in suite.cases} == {10000}
    assert {c.seeds for c in suite.cases} == {10}
    assert suite.overrides == ("train.steps=10000", "seeds=10")
    assert suite_from_json(suite.to_json()).overrides == suite.overrides  # recorded in the store's provenance
    assert load_suite(path).case("short-xi").hash != suite.case("short-xi").hash
    with pytest.raises(SuiteError) as info:
        load_suite(path, ["train.steps=many", "trian.steps=1", "seeds", "architecture.depth=4"])
    lines = sorted(str(p) for p in info.value.problems)
    assert "--set: train.steps: must be a valid integer; got 'many' (a string)" in lines
    assert any(line.startswith("--set: trian.steps: no such key") and "did you mean 'train'" in line for line in lines)
    assert "--set: seeds: must be KEY=VALUE, e.g. --set train.steps=10000" in lines
    assert any(line.startswith("--set: architecture.depth: case 'depth-sweep' sweeps 'architecture.depth'") for line in lines)


def test_run_with_overrides_needs_an_explicit_store(tmp_path, capsys):
    path = write(tmp_path, VALID)
    assert main(["run", str(path), "--set", "seeds=1"]) == 2
    assert "--store" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
    assert main(["validate", str(path), "--set", "seeds=0"]) == 2
    assert "--set: seeds: must be greater than or equal to 1; got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an unquoted slice: located, and the fix spelled out with the user's own key
        (
            "suite: s\ncases:\n  - id: a\n    predict:\n      - layers: 1:\n",
            "suite.yaml:5: YAML syntax: mapping values are not allowed here (line 5, column 18); a value holding a colon "
            'must be quoted, e.g. layers: "1:"',
        ),
        (
            "suite: s\n\tcases: []\n",
            "suite.yaml:2: YAML syntax: while scanning for the next token found character '\\t' "
            "that cannot start any token (line 2, column 1); indent with spaces, not tabs",
        ),
        ("suite: s\ntitle: a\x07b\ncases: []\n", "suite.yaml:2: control character U+0007 at column 9 is not allowed"),
        # noticed on line 5, begun on line 4: both are named
        (
            "suite: s\ncases:\n  - id: a\n    architecture: {kind: tokenwise\n  - id: b\n",
            "(line 5, column 7); the flow mapping began at line 4, column 19: is a bracket or quote there left unclosed?",
        ),
        ('suite: s\ntitle: "abc\ncases: []\n', "the quoted scalar began at line 2, column 8"),
    ],
)
def test_yaml_slips_are_located_by_line_and_column_with_the_fix(tmp_path, text, expected):
    (tmp_path / "suite.yaml").write_text(text)
    lines = problems_of(tmp_path / "suite.yaml")
    assert len(lines) == 1, lines
    assert expected in lines[0], lines


def test_suggestions_only_when_close(tmp_path):
    text = """\
        suite: s
        cases:
          - id: a
            architecture: {kind: tokenwise, window: 3}
            input: {kind: stiky}
            train: {probe_samples: 3, stpes: 5}
    """
    lines = problems_of(write(tmp_path, text))
    window = next(p for p in lines if ".window" in p)
    probe = next(p for p in lines if ".probe_samples" in p)
    assert "did you mean" not in window
    assert "did you mean" not in probe  # not 'kind', not 'role_samples'
    assert "did you mean 'sticky'" in next(p for p in lines if "cases[a].input" in p)
    assert "did you mean 'steps'" in next(p for p in lines if ".stpes" in p)


# ----------------------------------------------------------------------------------------------
# Bounded loading: includes read once, a cap on cases, on file size, regular files only, store-safe
# ids, and an upper bound on every size field. Each test fails if its protection is removed; time
# is bounded by generous alarms, never asserted.

SMALL = """\
suite: small
defaults:
  architecture: {kind: tokenwise, depth: 2, width: 8}
  input: {kind: sticky, vocab: 4, length: 8}
  train: {steps: 10}
  seeds: 1
cases:
"""


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fail (TimeoutError) instead of hanging or running on: a generous bound, not a speed claim."""

    def expired(signum, frame):
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_an_include_diamond_reads_each_file_once(tmp_path, monkeypatch):
    # each file includes the next twice: read naively, depth 14 means 2^14 reads of the last one
    depth = 14
    for i in range(1, depth):
        include = f"include: [f{i + 1}.yaml, f{i + 1}.yaml]\n" if i + 1 < depth else ""
        write(tmp_path, include + ("cases: [{id: x}]\n" if i + 1 == depth else "cases: []\n"), f"f{i}.yaml")
    top = write(tmp_path, SMALL.replace("suite: small\n", "suite: small\ninclude: [f1.yaml, f1.yaml]\n") + "  []\n")
    reads = []
    real_load = read_module.load_yaml
    monkeypatch.setattr(read_module, "load_yaml", lambda path, display: reads.append(path) or real_load(path, display))
    with time_limit(HANG_S):
        suite = load_suite(top)
    assert len(reads) == depth, f"{len(reads)} reads of {depth} files"
    assert suite.ids == ["x"], "the file included 2^13 times contributes its case once"


def test_a_file_included_by_two_files_contributes_once(tmp_path):
    write(tmp_path, "defaults: {seeds: 2}\ncases: [{id: common}]\n", "common.yaml")
    write(tmp_path, "include: [common.yaml]\ncases: [{id: left}]\n", "left.yaml")
    write(tmp_path, "include: [common.yaml]\ncases: [{id: right}]\n", "right.yaml")
    suite = load_suite(
        write(
            tmp_path,
            SMALL.replace("  seeds: 1\n", "").replace("suite: small\n", "suite: small\ninclude: [left.yaml, right.yaml]\n")
            + "  - id: top\n",
        )
    )
    assert suite.ids == ["common", "left", "right", "top"]
    assert suite.case("top").seeds == 2


def test_a_symlink_loop_is_a_located_error(tmp_path):
    (tmp_path / "loop-a.yaml").symlink_to(tmp_path / "loop-b.yaml")
    (tmp_path / "loop-b.yaml").symlink_to(tmp_path / "loop-a.yaml")
    path = write(tmp_path, SMALL.replace("suite: small\n", "suite: small\ninclude: [loop-a.yaml]\n") + "  - id: a\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: include[0]: included file 'loop-a.yaml' "), problem
    assert "symbolic link" in problem, problem
    (top,) = problems_of(tmp_path / "loop-a.yaml")  # the suite path itself
    assert top.startswith(f"{tmp_path / 'loop-a.yaml'}: file cannot be read: "), top
    assert "symbolic links" in top, top


def test_the_case_cap_is_checked_before_a_grid_is_built(tmp_path):
    values = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    keys = ["architecture.depth", "architecture.width", "input.vocab", "input.length", "seeds", "seed_start"]
    grid = ", ".join(f"{k}: {values}" for k in keys)  # 10^6 cases (most of them invalid: never looked at)
    path = write(tmp_path, SMALL + f"  - id: a\n  - id: sweep\n    grid: {{{grid}}}\n")
    tracemalloc.start()
    try:
        with time_limit(HANG_S):
            (problem,) = problems_of(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problem.startswith(f"{path}:10: cases[sweep].grid: the suite expands to 1000001 cases"), problem
    assert f"more than the {MAX_CASES} a suite may have" in problem, problem
    assert "this grid alone gives 1000000 (10 × 10 × 10 × 10 × 10 × 10 values)" in problem, problem
    assert peak < 200 * 2**20, f"refusing the grid held {peak / 2**20:.0f} MiB"


def test_the_case_cap_counts_plain_cases_and_grids_together(tmp_path, monkeypatch):
    monkeypatch.setattr(expand_module, "MAX_CASES", 4)
    at_cap = SMALL + "  - id: a\n  - id: g\n    grid: {seeds: [1, 2, 3]}\n"
    assert len(load_suite(write(tmp_path, at_cap)).cases) == 4
    (grid,) = problems_of(write(tmp_path, at_cap.replace("[1, 2, 3]", "[1, 2, 3, 4]"), "grid.yaml"))
    assert ":10: cases[g].grid: the suite expands to 5 cases, more than the 4 a suite may have" in grid, grid
    (plain,) = problems_of(write(tmp_path, SMALL + "".join(f"  - id: c{i}\n" for i in range(5)), "plain.yaml"))
    assert ":12: cases[c4]: the suite has 5 cases, more than the 4 a suite may have" in plain, plain


def test_a_suite_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path):
    padding = "#" * 99 + "\n"
    text = SMALL + "  - id: a\n" + padding * (MAX_FILE_BYTES // len(padding) + 1)  # valid YAML, 1 MiB of comments
    path = write(tmp_path, text)
    assert path.stat().st_size > MAX_FILE_BYTES
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: file is {path.stat().st_size} bytes, more than the {MAX_FILE_BYTES} bytes"), problem
    write(tmp_path, "cases: [{id: b}]\n" + padding * (MAX_FILE_BYTES // len(padding) + 1), "big.yaml")
    top = write(tmp_path, SMALL.replace("suite: small\n", "suite: small\ninclude: [big.yaml]\n") + "  - id: a\n", "top.yaml")
    (included,) = problems_of(top)
    assert included.startswith(f"{top}:2: include[0]: included file 'big.yaml' is "), included
    assert "(1 MiB) a suite file may have" in included, included


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_or_a_directory_is_refused_at_once_never_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it for reading would block until a writer comes
    (tmp_path / "dir.yaml").mkdir()
    with time_limit(HANG_S):
        (pipe,) = problems_of(tmp_path / "pipe.yaml")
        (directory,) = problems_of(tmp_path / "dir.yaml")
        top = write(tmp_path, SMALL.replace("suite: small\n", "suite: small\ninclude: [pipe.yaml, dir.yaml]\n") + "  - id: a\n")
        included = problems_of(top)
    assert (
        pipe == f"{tmp_path / 'pipe.yaml'}: file is a named pipe (FIFO), not a regular file: a suite is read from a regular file"
    )
    assert directory.startswith(f"{tmp_path / 'dir.yaml'}: file is a directory, not a regular file"), directory
    assert any(p.startswith(f"{top}:2: include[0]: included file 'pipe.yaml' is a named pipe (FIFO)") for p in included), included
    assert any(p.startswith(f"{top}:2: include[1]: included file 'dir.yaml' is a directory") for p in included), included


@pytest.mark.parametrize(
    ("case", "line", "key", "fragment"),
    [
        (
            "  - id: " + "a" * (MAX_ID_BYTES + 1),
            8,
            "cases[" + "a" * (MAX_ID_BYTES + 1) + "].id",
            f"is {MAX_ID_BYTES + 1} bytes long in UTF-8; a case id names a directory of the store and may have at most {MAX_ID_BYTES}",
        ),
        ("  - id: zarr.json", 8, "cases[zarr.json].id", "is a name the store uses itself"),
        ("  - id: ZARR.JSON", 8, "cases[ZARR.JSON].id", "is a name the store uses itself"),
        (
            "  - id: w\n    grid: {architecture.residual_scale: [" + "9" * 130 + "]}",
            9,
            "cases[w].grid",
            "bytes long in UTF-8; a case id names a directory of the store",
        ),
        (
            '  - id: n\n    grid: {input.xi: ["1\\0"]}',
            9,
            "cases[n].grid",
            "holds U+0000, an unprintable character that no file name should hold",
        ),
        ("  - id: Short\n  - id: short", 9, "cases[short].id", "differs from 'Short' (defined at"),
    ],
)
def test_case_ids_a_store_directory_cannot_have_are_located_errors(tmp_path, case, line, key, fragment):
    path = write(tmp_path, SMALL + case + "\n")
    lines = problems_of(path)
    assert any(p.startswith(f"{path}:{line}: {key}: ") and fragment in p for p in lines), lines


def test_the_longest_case_id_a_store_directory_can_have_is_accepted(tmp_path):
    case_id = "a" * MAX_ID_BYTES
    assert load_suite(write(tmp_path, SMALL + f"  - id: {case_id}\n")).ids == [case_id]


def test_a_suite_name_is_bounded_like_a_case_id(tmp_path):
    name = "s" * (MAX_ID_BYTES + 1)
    (problem,) = problems_of(write(tmp_path, SMALL.replace("suite: small", f"suite: {name}") + "  - id: a\n"))
    assert f":1: suite: is {MAX_ID_BYTES + 1} characters long" in problem, problem


def test_null_sets_naming_sets_twice_over_are_expanded_once_and_capped(tmp_path):
    depth = 40  # naively 2^40 expansions
    sets = "".join(f"  n{i}: [n{i + 1}, n{i + 1}]\n" for i in range(depth))
    prediction = "    predict: [{claim: c, observable: effective_rank, test: {kind: monotone}, nulls: n0}]\n"
    empty = SMALL.replace("cases:\n", f"nulls:\n{sets}  n{depth}: []\ncases:\n") + "  - id: a\n" + prediction
    with time_limit(HANG_S):
        assert load_suite(write(tmp_path, empty)).case("a").predict[0].nulls == []
        lines = problems_of(write(tmp_path, empty.replace(f"n{depth}: []", f"n{depth}: [{{stage: init}}]"), "full.yaml"))
    assert any(f"cases[a].predict[0].nulls: names more than {MAX_NULLS} nulls" in p for p in lines), lines


@pytest.mark.parametrize(
    ("snippet", "key", "fragment"),
    [
        (
            "    train: {eval_sequences: 1000000000000}",
            "cases[bad].train.eval_sequences",
            "less than or equal to 1000000; got 1000000000000",
        ),
        (
            "    architecture: {hidden_mult: 1.0e+300}",
            "cases[bad].architecture.hidden_mult",
            "less than or equal to 64; got 1e+300",
        ),
        ("    train: {warmup: 1000000000000000000000}", "cases[bad].train.warmup", "less than or equal to 10000000"),
        (
            "    train: {warmup: 11}",
            "cases[bad].train.warmup",
            "warmup must be at most `steps` (10): the warmup is part of training; got 11",
        ),
        ("    train: {log_every: 100000000000}", "cases[bad].train.log_every", "less than or equal to 10000000"),
        ("    train: {clip: 1.0e+300}", "cases[bad].train.clip", "less than or equal to 1000000"),
        ("    train: {weight_decay: 1.0e+300}", "cases[bad].train.weight_decay", "less than or equal to 100"),
        ("    measure: {role_samples: 100000000000}", "cases[bad].measure.role_samples", "less than or equal to 1000000"),
        (
            "    architecture: {kind: mixer, token_hidden: 100000000000}",
            "cases[bad].architecture.token_hidden",
            "less than or equal to 4194304",
        ),
        ("    architecture: {init_scale: 1.0e+300}", "cases[bad].architecture.init_scale", "less than or equal to 100"),
        (
            "    architecture: {residual_scale: 1.0e+300}",
            "cases[bad].architecture.residual_scale",
            "a numeric residual_scale must be finite with |α| ≤ 100; got 1e+300",
        ),
        (
            "    architecture: {residual_scale: many}",
            "cases[bad].architecture.residual_scale",
            "must be '1', '1/sqrt(L)' or '1/L'; got many",
        ),
    ],
)
def test_every_size_field_has_a_located_upper_bound(tmp_path, snippet, key, fragment):
    path = write(tmp_path, SMALL + "  - id: bad\n" + snippet + "\n")
    lines = problems_of(path)
    assert any(p.startswith(f"{path}:9: {key}: ") and fragment in p for p in lines), lines


def test_warmup_may_equal_steps(tmp_path):
    suite = load_suite(write(tmp_path, SMALL + "  - id: a\n    train: {warmup: 10}\n"))
    assert suite.case("a").train.warmup == 10


def _numeric(annotation) -> bool:
    args = typing.get_args(annotation)
    return annotation in (int, float) or any(a in (int, float) for a in args)


# Numeric fields of rgbench's own configs without an `le`/`lt`, and why that is safe (none sizes an array).
UNBOUNDED_ON_PURPOSE = {
    "residual_scale": "bounded by its own validator (|α| ≤ 100): a union with the named scales",
    "Plain.hidden_mult": "refused whatever its value (a plain block has no hidden layer)",
    "xi": "a correlation length: ξ → ∞ is α → 1, which is handled (ξ = inf)",
    "xi_fast": "a correlation length",
    "xi_slow": "a correlation length",
    "spectrum": "eigenvalues, each checked |λ| < 1, at most vocab − 1 of them",
    "blocks": "divides vocab (≤ 4096)",
    "clusters": "divides vocab (≤ 4096)",
}


def test_every_numeric_config_field_has_an_upper_bound():
    from rgbench._train_config import TrainConfig
    from rgbench.inputs import Masking
    from rgbench.measure import MeasureConfig
    from rgbench.registry import ARCHITECTURES, INPUTS

    models()
    builtin = [cls for reg in (ARCHITECTURES, INPUTS) for kind, cls in reg.items() if reg.source(kind).builtin]
    unbounded = []
    for cls in (TrainConfig, MeasureConfig, Masking, *builtin):
        for name, info in cls.model_fields.items():
            if not _numeric(info.annotation) or {name, f"{cls.__name__}.{name}"} & set(UNBOUNDED_ON_PURPOSE):
                continue
            if not any(getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None for m in info.metadata):
                unbounded.append(f"{cls.__name__}.{name}")
    assert len(builtin) >= 8, [cls.__name__ for cls in builtin]
    assert unbounded == [], f"numeric fields with no upper bound: {unbounded}"


def test_validate_reports_a_bound_located_and_exits_2(tmp_path, capsys):
    path = write(tmp_path, SMALL + "  - id: bad\n    architecture: {hidden_mult: 1.0e+300}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"{path}:9: cases[bad].architecture.hidden_mult: must be less than or equal to 64; got 1e+300"


def test_a_non_finite_override_is_refused_like_one_in_the_file(tmp_path):
    path = write(tmp_path, SMALL + "  - id: a\n")
    with pytest.raises(SuiteError) as info:
        load_suite(path, ["architecture.init_scale=.inf", "input.pi=[.nan, 0.5]"])
    lines = sorted(str(p) for p in info.value.problems)
    assert lines == [
        "--set: architecture.init_scale: non-finite number inf is not allowed in a suite (in '.inf')",
        "--set: input.pi: non-finite number nan is not allowed in a suite (in '[.nan, 0.5]')",
    ]


def test_an_override_is_read_by_the_suite_files_safe_builder(tmp_path):
    path = write(tmp_path, SMALL + "  - id: a\n")
    bomb = (
        "[&a0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]" + "".join(f", &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)) + "]"
    )
    with time_limit(HANG_S), pytest.raises(SuiteError) as info:
        load_suite(path, [f"input.pi={bomb}", "input.xi=!!python/object/apply:os.system [true]"])
    lines = sorted(str(p) for p in info.value.problems)
    assert lines[0].startswith("--set: input.pi: value '[&a0 [0,"), lines
    assert lines[0].endswith("is not valid YAML: document expands to more than 200000 nodes (alias bomb?)"), lines
    assert lines[1].startswith("--set: input.xi: value '!!python/object/apply:os.system [true]' is not valid YAML: YAML tag"), (
        lines
    )


def test_includes_read_at_most_max_files(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_FILES", 3)
    for i in range(1, 4):  # the suite and f1 … f3: four files in a chain
        write(tmp_path, (f"include: [f{i + 1}.yaml]\n" if i < 3 else "") + f"cases: [{{id: c{i}}}]\n", f"f{i}.yaml")
    top = write(tmp_path, SMALL.replace("suite: small\n", "suite: small\ninclude: [f1.yaml]\n") + "  - id: top\n")
    (problem,) = problems_of(top)
    assert problem.startswith(f"{tmp_path / 'f2.yaml'}:1: include[0]: includes read more than 3 suite files"), problem


def test_the_deprecated_spec_path_reexports_the_suite_package_and_neither_imports_jax():
    code = (
        "import sys, rgbench.spec as spec, rgbench.suite as suite; "
        "print([n for n in spec.__all__ if getattr(spec, n) is not getattr(suite, n)], "
        "[m for m in ('jax', 'xarray', 'scipy', 'matplotlib') if m in sys.modules])"
    )
    assert run_python(code, check=True).stdout.strip() == "[] []"


def test_alpha_multiplicity_and_purposes_are_read_and_kept(tmp_path):
    text = VALID.replace("title: a demo\n", "title: a demo\nalpha: 0.01\nmultiplicity: bh\n").replace(
        "        test: {kind: monotone, along: layer, direction: decreasing}\n",
        "        test: {kind: monotone, along: layer, direction: decreasing}\n"
        "        family: depth\n"
        "      - claim: training works\n"
        "        observable: final_loss\n"
        "        purpose: diagnostic\n"
        "        gate: true\n"
        "        test: {kind: threshold, at_most: 3.0}\n",
    )
    s = load_suite(write(tmp_path, text))
    assert (s.alpha, s.multiplicity) == (0.01, "bh")
    claim, diagnostic = s.case("short-xi").predict
    assert (claim.purpose, claim.family, claim.gate) == ("claim", "depth", False)
    assert (diagnostic.purpose, diagnostic.gate) == ("diagnostic", True)
    again = suite_from_json(s.to_json())
    assert (again.alpha, again.multiplicity) == (0.01, "bh")
    assert again.case("short-xi").predict[1].gate is True
    # hashes do not depend on how a suite is scored
    assert [c.hash for c in again.cases] == [c.hash for c in load_suite(write(tmp_path, VALID, "plain.yaml")).cases]
    defaults = load_suite(write(tmp_path, VALID, "defaults.yaml"))
    assert (defaults.alpha, defaults.multiplicity) == (0.05, "holm")


@pytest.mark.parametrize(
    ("line", "key", "fragment"),
    [
        ("alpha: true", "alpha", "0 < alpha ≤ 0.5"),
        ("alpha: 0.7", "alpha", "0 < alpha ≤ 0.5"),
        ("alpha: '0.05'", "alpha", "0 < alpha ≤ 0.5"),
        ("multiplicity: sidak", "multiplicity", "holm, bonferroni, bh, none"),
    ],
)
def test_bad_alpha_or_multiplicity_gives_a_located_message(tmp_path, line, key, fragment):
    (problem,) = problems_of(write(tmp_path, VALID.replace("title: a demo\n", f"title: a demo\n{line}\n")))
    assert ":3" in problem and key in problem and fragment in problem


UNINFORMATIVE = """\
suite: lr
defaults:
  architecture: {kind: tokenwise, depth: 3, width: 16}
  input: {kind: sticky, vocab: 8, length: 16, xi: 1.2}
  train: {steps: 10, batch: 8}
  seeds: 3
cases:
  - id: low
    train: {lr: 1.0e-4}
  - id: high
    train: {lr: 1.0e-3}
    predict:
      - claim: a higher learning rate collapses more
        observable: rank_collapse
        layers: "1:"
        test: {kind: difference, compare_to: low, at_least: 0.3}
        nulls: [{stage: init}, {case: other-input, compare_to: low}]
  - id: other-input
    input: {xi: 6.7}
    train: {lr: 1.0e-3}
"""


def test_a_null_that_is_zero_by_construction_is_a_located_warning_and_an_error_with_strict(tmp_path, capsys):
    path = write(tmp_path, UNINFORMATIVE)
    (warning,) = load_suite(path).warnings  # the init null; the null on another input is informative
    assert ":17" in str(warning) and "nulls[0]" in str(warning)
    assert "'high' and case 'low' differ only in training" in str(warning)
    assert main(["validate", str(path)]) == 0
    assert "warning:" in capsys.readouterr().err
    assert main(["validate", "--strict", str(path)]) == 2
    assert "cannot fail informatively" in capsys.readouterr().err
    # the same claim without the uninformative null validates without a word
    clean = write(tmp_path, UNINFORMATIVE.replace("nulls: [{stage: init}, ", "nulls: ["), "clean.yaml")
    assert load_suite(clean).warnings == ()


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        ("direction: decreasing}", "direction: decreasing, seeds_at_least: true}", "seeds_at_least", "got True (a boolean)"),
        ("  seeds: 3\n", "  seeds: 3.0\n", "seeds", "got 3.0 (a number)"),
        ("train: {steps: 100, batch: 32}", "train: {steps: 100, batch: '32'}", "batch", "got '32' (a string; write it unquoted)"),
        ("train: {steps: 100, batch: 32}", "train: {steps: 100, batch: true}", "batch", "got True (a boolean)"),
        ("train: {steps: 100, batch: 32}", "train: {steps: 100, batch: 32, lr: '3e-4'}", "lr", "(a string; write it unquoted)"),
    ],
)
def test_the_schema_is_strict(tmp_path, old, new, key, fragment):
    assert old in VALID
    (problem,) = problems_of(write(tmp_path, VALID.replace(old, new)))
    assert key in problem and fragment in problem, problem


def test_strict_refuses_a_number_for_a_bool_and_an_absurd_margin_but_reads_3e_4_as_a_number(tmp_path):
    text = VALID.replace("train: {steps: 100, batch: 32}", "train: {steps: 100, batch: 32, lr: 3e-4}")
    assert load_suite(write(tmp_path, text)).cases[0].train.lr == pytest.approx(3e-4)  # YAML 1.2's float
    comparison = text.replace(
        "        test: {kind: monotone, along: layer, direction: decreasing}\n",
        "        test: {kind: monotone, along: layer, direction: decreasing}\n"
        "      - claim: selective\n"
        "        observable: rank_collapse\n"
        "        test: {kind: difference, compare_to: long-xi, at_least: 0.3, paired: 0}\n"
        "      - claim: absent\n"
        "        observable: rank_collapse\n"
        "        test: {kind: equivalence, delta: 9223372036854775808}\n",
    )
    problems = problems_of(write(tmp_path, comparison, "cmp.yaml"))
    assert any("paired: must be a valid boolean; got 0 (an integer)" in p for p in problems), problems
    assert any("delta: must be less than or equal to 1000000" in p for p in problems), problems
    assert len(problems) == 2
