"""Plugins: kinds from other packages (entry points) or one run's --plugin, with provenance and identity.

Anything that imports a plugin runs in a subprocess, so the registries of this test process stay
rgbench's own (other tests list the allowed kinds).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Literal

import pytest
from helpers import ROOT, run_python, run_rgbench

from rgbench import registry as R
from rgbench.models import ArchitectureConfig, Tokenwise
from rgbench.suite import models

EXAMPLE = ROOT / "examples" / "plugin"

TOY = '''
from typing import Literal
from rgbench.models import Tokenwise
from rgbench.registry import ARCHITECTURES

@ARCHITECTURES.register
class Toy(Tokenwise):
    """A tokenwise network under another name (a plugin in a test)."""
    kind: Literal["toy"] = "toy"
'''

SUITE = """
suite: toy-suite
defaults:
  architecture: {kind: toy, depth: 3, width: 8, hidden_mult: 2}
  input: {kind: sticky, vocab: 4, length: 8, xi: 1.0}
  train: {steps: 10, batch: 8, log_every: 5, eval_sequences: 16}
  measure: {samples: 16, role_samples: 16}
  seeds: 2
cases:
  - id: a
    predict:
      - claim: erank falls
        observable: effective_rank
        test: {kind: monotone}
  - id: b
    input: {xi: 3.0}
"""


def _python(code: str, *, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_python(textwrap.dedent(code), cwd=cwd, env=env)


@pytest.fixture
def isolated_registries(monkeypatch):
    """Registrations made in the test vanish afterwards (registries, their sources and the generation)."""
    models()  # rgbench's own kinds are registered first, so they are part of what is restored
    for reg in (R.ARCHITECTURES, R.INPUTS, R.OBSERVABLES, R.TESTS):
        monkeypatch.setattr(reg, "_entries", dict(reg._entries))
        monkeypatch.setattr(reg, "_sources", dict(reg._sources))
    during = [R._GENERATION[0]]
    monkeypatch.setattr(R, "_GENERATION", during)
    yield
    monkeypatch.undo()
    # The suite models are cached by generation: move the real one past every generation this test
    # reached, so that no later test (or later registration) reuses a model built with its kinds.
    R._GENERATION[0] = max(R._GENERATION[0], during[0]) + 1


# --------------------------------------------------------------------------------------------
# The registry's own checks


def test_a_registered_class_must_subclass_the_abstract_base_and_be_concrete(isolated_registries):
    from rgbench.inputs import InputConfig

    class NotAnArchitecture(InputConfig):
        kind: Literal["not-an-arch"] = "not-an-arch"

        def build(self):  # pragma: no cover - never called
            raise AssertionError

    with pytest.raises(TypeError, match=r"must subclass rgbench\.models\.ArchitectureConfig$"):
        R.ARCHITECTURES.register(NotAnArchitecture)

    class HalfDone(ArchitectureConfig):
        kind: Literal["half-done"] = "half-done"

    with pytest.raises(TypeError, match=r"leaves abstract methods unimplemented \(network\)"):
        R.ARCHITECTURES.register(HalfDone)
    assert "half-done" not in R.ARCHITECTURES
    assert "not-an-arch" not in R.ARCHITECTURES


def test_two_distributions_registering_one_kind_is_an_error_naming_both(isolated_registries):
    class A(Tokenwise):
        kind: Literal["shared-kind"] = "shared-kind"

    class B(Tokenwise):
        kind: Literal["shared-kind"] = "shared-kind"

    with R.registering_as(R.Source("pkg-a", "1.0")):
        R.ARCHITECTURES.register(A)
    with R.registering_as(R.Source("pkg-b", "2.3")), pytest.raises(ValueError) as info:
        R.ARCHITECTURES.register(B)
    message = str(info.value)
    assert "registered twice" in message
    assert "pkg-a 1.0" in message
    assert "pkg-b 2.3" in message
    assert R.ARCHITECTURES.source("shared-kind") == R.Source("pkg-a", "1.0")
    assert R.ARCHITECTURES.source("tokenwise").builtin


def test_a_kind_registered_after_the_models_were_built_is_picked_up(isolated_registries):
    before = models()

    class Late(Tokenwise):
        kind: Literal["late-kind"] = "late-kind"

    with R.registering_as(R.Source("late-pkg", "0.1")):
        R.ARCHITECTURES.register(Late)
    after = models()
    assert after is not before
    spec = after[1].model_validate({"id": "x", "architecture": {"kind": "late-kind"}, "input": {"kind": "sticky"}})
    assert spec.architecture.kind == "late-kind"


# --------------------------------------------------------------------------------------------
# --plugin MODULE_OR_PATH


def test_a_plugin_path_registers_its_kind_and_its_source_enters_the_hash(tmp_path):
    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "suite.yaml").write_text(SUITE)
    code = """
        import json
        from rgbench.plugins import load_plugin
        from rgbench.registry import ARCHITECTURES
        from rgbench.suite import load_suite, plugin_sources
        source = load_plugin("toy.py")
        suite = load_suite("suite.yaml")
        print(json.dumps({"source": str(ARCHITECTURES.source("toy")), "hash": suite.cases[0].hash,
                          "plugins": plugin_sources(suite.cases[0].resolved())}))
    """
    first = json.loads(_python(code, cwd=tmp_path).stdout)
    again = json.loads(_python(code, cwd=tmp_path).stdout)
    assert first["source"].startswith("--plugin toy.py source ")
    assert first == again
    moved = json.loads(_python(code.replace('load_plugin("toy.py")', 'load_plugin("./toy.py")'), cwd=tmp_path).stdout)
    assert moved == first  # the path as spelled is not part of the identity
    assert first["plugins"] == {"architecture toy": first["source"]}
    (tmp_path / "toy.py").write_text(TOY + "\n# a changed plugin\n")
    changed = json.loads(_python(code, cwd=tmp_path).stdout)
    assert changed["hash"] != first["hash"]  # results of a changed plugin are never mixed with old ones


def test_an_unknown_kind_says_how_to_load_a_plugin_and_a_broken_plugin_is_one_clear_line(tmp_path):
    (tmp_path / "suite.yaml").write_text(SUITE)
    out = run_rgbench("validate", "suite.yaml", cwd=tmp_path)
    assert out.returncode == 2
    assert "unknown architecture kind 'toy'" in out.stderr
    assert "--plugin" in out.stderr
    (tmp_path / "broken.py").write_text("raise RuntimeError('the plugin is broken')\n")
    out = run_rgbench("validate", "suite.yaml", "--plugin", "broken.py", cwd=tmp_path)
    assert out.returncode == 2
    assert "--plugin 'broken.py' failed to import: RuntimeError: the plugin is broken" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_rgbench("validate", "suite.yaml", "--plugin", "nowhere/missing.py", cwd=tmp_path)
    assert out.returncode == 2
    assert "no such file or directory" in out.stderr


@pytest.mark.slow
def test_worker_processes_load_the_plugins_of_the_run_and_the_store_records_them(tmp_path):
    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "suite.yaml").write_text(SUITE)
    out = run_rgbench("run", "suite.yaml", "--plugin", "toy.py", "--store", "s.zarr", "--workers", "2", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    code = """
        import json
        from rgbench.store import open_results
        ds = open_results("s.zarr")
        print(json.dumps({k: [v.attrs["status"], json.loads(v.attrs["plugins"])] for k, v in ds.items()}))
    """
    stored = json.loads(_python(code, cwd=tmp_path).stdout)
    assert {k: v[0] for k, v in stored.items()} == {"a": "complete", "b": "complete"}
    assert list(stored["a"][1]) == ["architecture toy"]
    assert stored["a"][1]["architecture toy"].startswith("--plugin toy.py")
    scored = run_rgbench("score", "s.zarr", "--plugin", "toy.py", "--format", "json", cwd=tmp_path)
    assert scored.returncode == 0
    assert json.loads(scored.stdout)["predictions"][0]["verdict"] != "ERROR"
    # scoring reads stored data only: without the plugin the same verdicts, the case still named by its kind
    unloaded = run_rgbench("score", "s.zarr", "--format", "json", cwd=tmp_path)
    assert unloaded.returncode == 0, unloaded.stderr
    with_plugin, without = json.loads(scored.stdout), json.loads(unloaded.stdout)
    assert [(p["case"], p["verdict"], p["statistic"]) for p in without["predictions"]] == [
        (p["case"], p["verdict"], p["statistic"]) for p in with_plugin["predictions"]
    ]
    assert without["cases"]["a"]["architecture"]["kind"] == "toy"
    board = run_rgbench("leaderboard", "s.zarr", cwd=tmp_path)
    assert board.returncode == 0 and "toy L=3 d=8" in board.stdout, board.stderr


# --------------------------------------------------------------------------------------------
# Installed distributions: the rgbench.components entry point


def _fake_distribution(root: Path, dist: str, module: str, source: str) -> None:
    """A distribution importlib.metadata finds on sys.path: <dist>.dist-info with METADATA and entry_points.txt."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[rgbench.components]\n{module} = {module}\n")


def test_entry_point_plugins_load_by_themselves_and_list_says_where_kinds_come_from(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(site, "rgbench-toy", "toy_plugin", TOY)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = run_rgbench("list", "architecture", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    kinds = json.loads(out.stdout)["architecture"]
    assert kinds["toy"]["source"] == "rgbench-toy 0.1"
    assert kinds["tokenwise"]["source"].startswith("rgbench ")
    (tmp_path / "suite.yaml").write_text(SUITE)
    assert run_rgbench("validate", "suite.yaml", cwd=tmp_path, env=env).returncode == 0

    _fake_distribution(site, "rgbench-broken", "broken_plugin", "raise ImportError('needs a missing library')\n")
    out = run_rgbench("validate", "suite.yaml", cwd=tmp_path, env=env)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert (
        "plugin entry point 'broken_plugin' (broken_plugin) of distribution rgbench-broken 0.1 failed to import: "
        "ImportError: needs a missing library"
    ) in out.stderr


# --------------------------------------------------------------------------------------------
# The example package: gMLP


@pytest.mark.slow
def test_the_gmlp_example_returns_the_stream_and_mixes_positions_only_through_its_gate(tmp_path):
    code = f"""
        import jax, jax.numpy as jnp, numpy as np
        from rgbench.plugins import load_plugin
        load_plugin({str(EXAMPLE / "src" / "rgbench_gmlp")!r})
        from rgbench.registry import ARCHITECTURES
        G = ARCHITECTURES["gmlp"]
        closed = G(depth=3, width=8, gate_init=0.0).build(4, 6, key=jax.random.key(0))
        opened = G(depth=3, width=8, gate_init=0.5).build(4, 6, key=jax.random.key(0))
        x = jnp.array([0, 1, 2, 3, 4, 1]); y = x.at[0].set(2)  # change position 0 only
        stream, logits = closed(x)
        assert stream.shape == (4, 6, 8) and logits.shape == (6, 4), (stream.shape, logits.shape)
        far = lambda net: float(jnp.abs(net(x)[0][:, 3:] - net(y)[0][:, 3:]).max())
        print(far(closed), far(opened))
    """
    out = _python(code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    closed, opened = map(float, out.stdout.split())
    # W_s = 0: a block is a channel MLP, position 3 never sees position 0; W_s ≠ 0: it does
    assert closed == 0.0
    assert opened > 1e-4
    run = run_rgbench(
        "run",
        str(EXAMPLE / "gmlp.yaml"),
        "--plugin",
        str(EXAMPLE / "src" / "rgbench_gmlp"),
        "--store",
        "g.zarr",
        "--set",
        "train.steps=20",
        "--set",
        "seeds=2",
        "--set",
        "measure.samples=32",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    scored = run_rgbench("score", "g.zarr", "--plugin", str(EXAMPLE / "src" / "rgbench_gmlp"), "--format", "json", cwd=tmp_path)
    report = json.loads(scored.stdout)
    assert [c["status"] for c in report["cases"].values()] == ["complete", "complete"]
    assert all(p["verdict"] != "ERROR" for p in report["predictions"])


BREAKS_CONTRACT = '''
import dataclasses
from typing import Literal
from rgbench.models import Tokenwise
from rgbench.models._tokenwise import TokenwiseNet
from rgbench.registry import ARCHITECTURES


class ForgetsTheEmbedding(TokenwiseNet):
    def apply(self, inputs, *, collect):
        stream, logits = super().apply(inputs, collect=collect)
        return (None if stream is None else stream[:, 1:]), logits  # the embedding output dropped


@ARCHITECTURES.register
class Forgetful(Tokenwise):
    """A plugin whose network returns depth streams, not depth + 1."""
    kind: Literal["forgetful"] = "forgetful"

    def network(self, vocab, length, *, key):
        net = super().network(vocab, length, key=key)
        broken = object.__new__(ForgetsTheEmbedding)  # the same fields, the broken apply
        for f in dataclasses.fields(net):
            object.__setattr__(broken, f.name, getattr(net, f.name))
        return broken
'''


def test_a_network_that_breaks_the_contract_is_refused_before_any_compute(tmp_path):
    """A plugin family whose stream lacks the embedding layer is refused by `rgbench run` with the
    contract named (shapes wanted and got), before a store case is written — not after training."""
    (tmp_path / "forgetful.py").write_text(BREAKS_CONTRACT)
    (tmp_path / "suite.yaml").write_text(SUITE.replace("kind: toy", "kind: forgetful"))
    out = run_rgbench("run", "suite.yaml", "--plugin", "forgetful.py", "--store", "s.zarr", cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "architecture 'forgetful'" in out.stderr and "depth + 1" in out.stderr, out.stderr
    assert "(2, 3, 8, 8)" in out.stderr and "(2, 4, 8, 8)" in out.stderr, out.stderr  # got, wanted
    assert not (tmp_path / "s.zarr").exists() or not any((tmp_path / "s.zarr").glob("a"))


def test_the_builtin_families_meet_the_contract():
    from rgbench.models import Mixer, Transformer, Windowed, check_contract

    for arch in (
        Tokenwise(depth=2, width=8, hidden_mult=2),
        Mixer(depth=2, width=8, hidden_mult=2, token_hidden=4),
        Windowed(depth=2, width=8, hidden_mult=2),
        Transformer(depth=2, width=8, heads=2, head_width=4, hidden_mult=2),
    ):
        check_contract(arch, 4, 8)  # raises ArchitectureContractError otherwise


def test_a_kind_defined_inside_a_function_is_refused_for_worker_processes_with_the_fix(isolated_registries, tmp_path):
    """Worker processes import a kind by module and name: a config class defined in a function cannot
    be reached there, so `run_suite(..., workers=2)` refuses it before any compute and says what to do."""
    from rgbench.runner import run_suite
    from rgbench.suite import SuiteError, load_suite

    @R.ARCHITECTURES.register
    class Local(Tokenwise):
        """A tokenwise network registered inside a test function."""

        kind: Literal["local"] = "local"

    (tmp_path / "suite.yaml").write_text(SUITE.replace("kind: toy", "kind: local"))
    suite = load_suite(tmp_path / "suite.yaml")
    with pytest.raises(SuiteError, match="defined inside a function") as err:
        run_suite(suite, str(tmp_path / "s.zarr"), workers=2, quiet=True)
    assert "top level of a module" in str(err.value) and "Local" in str(err.value)
