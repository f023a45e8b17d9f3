"""The commands that run a suite into a store or read one back: `rgbench run | verify | score | leaderboard | plot`.

Each imports its module (JAX, zarr, matplotlib) when it runs, never at import.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_ERROR_VERDICT = 3  # `rgbench score`: some verdict is ERROR (a store that is not whole)


def _cmd_run(args: argparse.Namespace) -> int:
    """``rgbench run SUITE``: train, measure and store every case; exit with the number of failed cases (at most 125)."""
    from ..runner import default_store, parse_resources, run_suite
    from ..suite import load_suite

    # A SuiteError (an invalid suite, a case refused by its cost) is printed by `rgbench.cli.main`: exit 2.
    suite = load_suite(args.suite, args.overrides)
    if args.overrides and not args.store:
        print(
            f"rgbench run: --set changes what the cases compute; name the store they go to with --store (e.g. "
            f"--store runs/{suite.name}.zarr), so that {default_store(suite)} is not overwritten",
            file=sys.stderr,
        )
        return 2
    if args.devices != 1:
        if args.devices < 1 or args.workers > 1 or args.scheduler:
            print(
                f"rgbench run: --devices must be a positive number and applies to the in-process executor only "
                f"(got --devices {args.devices}{' with --workers' if args.workers > 1 else ''}"
                f"{' with --scheduler' if args.scheduler else ''})",
                file=sys.stderr,
            )
            return 2
        from ..train import use_cpu_devices

        use_cpu_devices(args.devices)
    try:
        resources = parse_resources(getattr(args, "resources", None) or [])
        if resources and not args.scheduler:
            raise ValueError("--resources is what each case asks of a dask worker: give it with --scheduler")
        outcomes = run_suite(
            suite,
            args.store,
            only=args.only,
            force=args.force,
            workers=args.workers,
            scheduler=args.scheduler,
            resources=resources,
            quiet=args.quiet,
            max_memory=args.max_memory,
            max_hours=args.max_hours,
            strict=args.strict,
            keep_checkpoints=args.keep_checkpoints,
        )
    except (KeyError, ValueError) as e:
        print(f"rgbench run: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    failed = [o for o in outcomes if o.failed]
    busy = [o for o in outcomes if o.status == "busy"]
    if not args.quiet:
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status.split(":")[0]] = counts.get(o.status.split(":")[0], 0) + 1
        store = args.store or default_store(suite)
        print(f"{suite.name}: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f" → {store}", file=sys.stderr)
        for o in failed:
            print(f"  {o.case_id}: {o.status}", file=sys.stderr)
        if busy:
            print(
                f"  {len(busy)} case(s) were being computed by another runner; rerun to pick up any it did not finish",
                file=sys.stderr,
            )
    return min(len(failed), 125)


def _cli_verify(args: argparse.Namespace) -> int:
    """``rgbench verify STORE``: one line per case; exit 1 if any is corrupted, interrupted or missing (expected
    by the store's suite and absent; with ``--partial`` such a case is pending and does not fail), 2 if there is no store or its root metadata cannot be read. A case's
    training checkpoint (an interrupted run's; `rgbench.checkpoint`) is listed as state ``checkpoint``."""
    from ..checkpoint import stored_checkpoints
    from ..store import CaseCheck, Store

    store = Store(args.store)
    problem = store.root_problem()
    if problem:
        print(f"rgbench verify: {problem}", file=sys.stderr)
        return 2
    if getattr(args, "seal", False):
        _seal(store)
    checks = store.check_all()
    if getattr(args, "partial", False):
        checks = [
            CaseCheck(c.case_id, "pending", "not computed yet (--partial: a run in progress)", spec_hash=c.spec_hash)
            if c.state == "missing"
            else c
            for c in checks
        ]
    done = {c.case_id for c in checks if c.usable}
    checks += [
        CaseCheck(
            c.case_group,
            "checkpoint",
            f"checkpoint at step {c.step} of {c.steps} kept after the case completed (--keep-checkpoints)"
            if c.case_group in done
            else c.describe(),
            spec_hash=c.spec_hash,
        )
        for c in stored_checkpoints(args.store)
    ]
    if args.format == "json":
        print(
            json.dumps(
                [
                    {"case": c.case_id, "state": c.state, "reason": c.reason, "status": c.status, "spec_hash": c.spec_hash}
                    for c in checks
                ],
                indent=2,
            )
        )
    else:
        width = max([len(c.case_id) for c in checks] + [4])
        for c in checks:
            print(f"{c.case_id:{width}s}  {c.state:11s}  {c.reason}" + (f" (status {c.status})" if c.status else ""))
        counts: dict[str, int] = {}
        for c in checks:
            counts[c.state] = counts.get(c.state, 0) + 1
        print(f"{args.store}: " + (", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no cases"))
    return 1 if any(c.state in ("corrupted", "interrupted", "missing") for c in checks) else 0


def _seal(store) -> None:
    """Digests for every unverified case of `store`, written now, with when and by what (`Store.seal`)."""
    from datetime import datetime, timezone

    from .._git import git_commit
    from .._version import __version__
    from ..store import is_local

    record = {
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rgbench_version": __version__,
        "commit": git_commit(),
        "why": "the case was written before rgbench stored digests; these protect it from this time on",
    }
    sealed = [c.case_id for c in store.check_all() if c.state == "unverified"]
    for case_id in sealed:
        store.seal(case_id, record)
    if sealed and is_local(store.path):
        store.consolidate()
    print(f"sealed {len(sealed)} case(s): digests written {record['at']}" if sealed else "nothing to seal", file=sys.stderr)


def _cli_plot(args: argparse.Namespace) -> int:
    """``rgbench plot STORE --out DIR``: every case's figures, the overview and report.html."""
    from ..plots import plot_store

    if not Path(args.store).exists() and "://" not in str(args.store):
        print(f"rgbench plot: no store at {args.store!r}; run `rgbench run SUITE` first or check the path", file=sys.stderr)
        return 2
    out = plot_store(args.store, args.out, args.suite)
    n = sum(len(f) for f in out.figures.values())
    overview = "".join(f", {f.name}" for f in (out.overview, out.claims) if f is not None)
    print(f"wrote {n} case figures{overview} and {out.html.name} to {Path(args.out)} ({len(out.paths)} files)")
    return 0


def _cli_score(args: argparse.Namespace) -> int:
    """``rgbench score STORE``: the report as a table, JSON or markdown. Exit 3 when a verdict is ERROR (unless
    --allow-errors), 1 with --strict on any FAIL, NONSPECIFIC or ERROR, 2 when nothing can be scored."""
    from ..scoring import Report, ScoreError, Verdict, score_store

    try:
        report = score_store(args.store, args.suite)
        if getattr(args, "previous", None):
            try:
                earlier = Report.from_json(Path(args.previous).read_text())
            except (OSError, ValueError) as e:
                raise ScoreError(f"--previous {args.previous!r} cannot be read as a score report ({e})") from None
            report = report.with_previous(earlier, args.previous)
    except ScoreError as e:
        print(f"rgbench score: {e}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(report.to_json())
    elif args.format == "markdown":
        print(report.to_markdown(), end="")
    else:
        from rich.markup import escape

        from ._console import console as make_console

        console = make_console()
        console.print(report.to_table())
        for note in report.notes():
            console.print(escape(note), highlight=False)
    if args.strict and not report.ok():
        return 1
    if not getattr(args, "allow_errors", False) and any(p.verdict is Verdict.ERROR for p in report.predictions):
        return EXIT_ERROR_VERDICT
    return 0


def _cli_leaderboard(args: argparse.Namespace) -> int:
    """``rgbench leaderboard STORE...``: one row per architecture configuration, written or printed."""
    from ..leaderboard import LeaderboardError, build_leaderboard, reference_reports
    from ..scoring import ScoreError

    try:
        stores = list(args.stores)
        if getattr(args, "reference", False):
            stores += [str(p) for p in reference_reports()]
        board = build_leaderboard(stores, figures_from=args.figures_from)
    except (LeaderboardError, ScoreError) as e:
        print(f"rgbench leaderboard: {e}", file=sys.stderr)
        return 2
    text = {"markdown": board.to_markdown, "csv": board.to_csv, "html": board.to_html, "json": board.to_json}[args.format]()
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    if args.heatmap or args.html:
        import tempfile

        from .._heatmap import plot_heatmap

        if args.heatmap:
            plot_heatmap(board, args.heatmap)
        if args.html:
            with tempfile.TemporaryDirectory() as tmp:
                png = plot_heatmap(board, Path(tmp) / "heatmap.png").read_bytes()
            Path(args.html).parent.mkdir(parents=True, exist_ok=True)
            Path(args.html).write_text(board.to_html(full=True, heatmap_png=png))
    return 0
