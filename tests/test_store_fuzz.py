"""The store fuzzed, as the suite loader is: a random corruption of a random file of a tiny complete
store is never scored as if nothing happened. Either `verify` reports the touched case (or the root)
and `score` refuses the store or gives the case ERROR, or the case still decodes to exactly what was
written (a flip in JSON whitespace changes nothing) — never a PASS or FAIL computed from damaged
data, never an exception other than the scorer's own refusal."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from helpers import e2e_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rgbench.score import ScoreError, Verdict, score_store
from rgbench.store import Store, open_results

_BUILT: dict[str, object] = {}


def _pristine() -> tuple[Path, list[str], dict, dict]:
    """One tiny complete store (built once), its files, its datasets and its verdicts."""
    if not _BUILT:
        base = Path(tempfile.mkdtemp(prefix="rgbench-fuzz-"))
        path = e2e_store(base)
        files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
        _BUILT.update(
            base=base,
            path=path,
            files=files,
            data=open_results(path),
            verdicts={(p.case, p.claim): p.verdict for p in score_store(path, base / "e2e.yaml").predictions},
        )
    return _BUILT["path"], _BUILT["files"], _BUILT["data"], _BUILT["verdicts"]


def _corrupt(path: Path, rel: str, op: str, where: float, byte: int) -> None:
    target = path / rel
    data = target.read_bytes()
    if op == "flip" and data:
        i = int(where * (len(data) - 1))
        target.write_bytes(data[:i] + bytes([data[i] ^ (byte or 1)]) + data[i + 1 :])
    elif op == "truncate":
        target.write_bytes(data[: int(where * len(data))])
    elif op == "delete":
        target.unlink()
    elif op == "garble_json":
        target.write_bytes(b'{"node_type": "group", "zarr_format": 3, "attributes": {')
    elif op == "edit_attribute" and target.name == "zarr.json":
        meta = json.loads(data)
        attrs = meta.get("attributes") or {}
        if attrs:
            key = sorted(attrs)[int(where * (len(attrs) - 1))]
            attrs[key] = "edited"
            target.write_text(json.dumps(meta))
    elif op == "delete_group":
        top = rel.split("/")[0]
        if (path / top).is_dir():
            shutil.rmtree(path / top)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    pick=st.floats(0, 1),
    op=st.sampled_from(["flip", "truncate", "delete", "garble_json", "edit_attribute", "delete_group"]),
    where=st.floats(0, 1),
    byte=st.integers(1, 255),
)
def test_a_corrupted_store_is_never_scored_as_if_nothing_happened(pick, op, where, byte):
    pristine, files, original, verdicts = _pristine()
    rel = files[int(pick * (len(files) - 1))]
    touched = rel.split("/")[0] if "/" in rel else None  # None: the root's own metadata
    work = Path(tempfile.mkdtemp(prefix="rgbench-fuzz-case-"))
    try:
        path = work / "e2e.zarr"
        shutil.copytree(pristine, path)
        _corrupt(path, rel, op, where, byte)
        store = Store(path)
        root_problem = store.root_problem()
        checks = {} if root_problem else {c.case_id: c for c in store.check_all()}
        try:
            report = score_store(path, _BUILT["base"] / "e2e.yaml")
        except ScoreError:
            assert root_problem is not None or touched is None, (rel, op)
            return
        if touched is None:
            return  # the root still reads as rgbench's: the cases carry their own records
        check = checks.get(touched)
        intact = check is not None and check.usable
        if intact:  # then what it decodes to is exactly what was written
            now = open_results(path)[touched]
            for name in original[touched].variables:
                np.testing.assert_array_equal(now[name].values, original[touched][name].values)
        for p in report.predictions:
            if p.case == touched and not intact:
                assert p.verdict is Verdict.ERROR, (rel, op, p.claim, p.verdict)
            if p.case == touched and intact:
                assert p.verdict is verdicts[(p.case, p.claim)]
        if not intact:  # `rgbench verify` exits non-zero on these states
            assert check is not None and check.state in ("corrupted", "missing"), (rel, op, check)
    finally:
        shutil.rmtree(work, ignore_errors=True)
