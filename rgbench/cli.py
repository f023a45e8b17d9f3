"""`rgbench validate | list | show | run | score | leaderboard | plot`."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from ._options import add_budget_options, add_plugin_option, add_set_option
from ._version import __version__

EXIT_INVALID = 2


def _print_problems(problems) -> None:
    """A suite's located problems, one line each, on standard error (the caller exits EXIT_INVALID)."""
    for problem in problems:
        print(problem, file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .cost import budget
    from .suite import SuiteError, load_suite

    bad = 0
    for path in args.paths:
        try:
            suite = load_suite(path, args.overrides)
            refused, warned = budget(suite.cases, max_memory=args.max_memory, max_hours=args.max_hours, strict=args.strict)
            for w in warned:
                print(w, file=sys.stderr)
            if refused:
                raise SuiteError(refused)
        except SuiteError as e:
            bad += 1
            _print_problems(sorted(e.problems, key=lambda p: (p.file, p.line or 0)))
            continue
        if not args.quiet:
            print(f"{path}: ok — suite {suite.name!r}, {len(suite.cases)} case(s)")
    return EXIT_INVALID if bad else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .reference import CATEGORIES, KIND_CATEGORIES, XI_NOTE, reference

    wanted = [args.category] if args.category else list(CATEGORIES)
    ref = reference(wanted)
    if args.json:
        print(json.dumps(ref, indent=2, default=str))
        return 0

    from rich.markup import escape
    from rich.table import Table

    from ._console import console as make_console

    def value(v) -> str:
        return v if isinstance(v, str) and v.startswith("(") else json.dumps(v, default=str, ensure_ascii=False)

    def key_columns(table: Table) -> None:
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("type")
        table.add_column("default")
        table.add_column("allowed")
        table.add_column("meaning", ratio=1)

    console = make_console()
    for cat in wanted:
        section = ref[cat]
        if cat == "theory":
            table = Table(title="theories (a prediction's `value: {theory: NAME}`)", show_lines=True, title_justify="left")
            for col in ("theory", "formula", "predicts", "source"):
                table.add_column(col, style="bold" if col == "theory" else None)
            for name, t in section.items():
                table.add_row(
                    escape(name),
                    escape(t["description"]),
                    escape(", ".join(t["observables"]) + f"\n(stage {'|'.join(t['stages'])})"),
                    escape(t["source"]),
                )
        elif cat in KIND_CATEGORIES:
            title = f"{cat} kinds (`{cat}: {{kind: NAME, …}}`)"
            if cat == "input":
                title += "\n" + XI_NOTE
            table = Table(title=escape(title), title_justify="left")
            table.add_column("kind", style="bold", no_wrap=True)
            key_columns(table)
            for kind, info in section.items():
                table.add_row(
                    escape(kind), "", "", "", "", f"[italic]{escape(info['description'])}[/] [dim]({escape(info['source'])})[/]"
                )
                for p in info["parameters"]:
                    table.add_row(
                        "",
                        escape(p["name"]),
                        escape(p["type"]),
                        escape(value(p["default"])),
                        escape(p["allowed"]),
                        escape(p["description"]),
                    )
                table.add_section()
        else:
            table = Table(title=escape(f"{cat} keys: {section['description']}"), title_justify="left")
            key_columns(table)
            for p in section["parameters"]:
                table.add_row(
                    escape(p["name"]),
                    escape(p["type"]),
                    escape(value(p["default"])),
                    escape(p["allowed"]),
                    escape(p["description"]),
                )
        console.print(table)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from ._console import console as make_console
    from .cost import FLOPS_PER_SECOND, OVERHEAD_S, estimate, human_bytes, human_count, human_flops, human_seconds
    from .suite import load_suite

    suite = load_suite(args.suite, args.overrides)  # a SuiteError is printed by `main`
    estimates = [estimate(c) for c in suite.cases]
    if args.json:
        data = json.loads(suite.to_json())
        data["estimates"] = [e.to_json() for e in estimates]
        print(json.dumps(data, indent=2))
        return 0
    console = make_console()
    table = Table(
        title=f"{suite.name} — {suite.title}" if suite.title else suite.name,
        title_justify="left",
        caption=f"estimates (rgbench.cost): peak memory of one case, FLOPs, and time at "
        f"{FLOPS_PER_SECOND / 1e9:g} GFLOP/s plus {OVERHEAD_S:g} s a case (the 2-core reference "
        f"machine); in all ≈ {human_seconds(sum(e.seconds for e in estimates))}, "
        f"{human_bytes(sum(e.stored_bytes for e in estimates))} stored",
        caption_justify="left",
    )
    for col in (
        "case",
        "hash",
        "architecture",
        "input",
        "train",
        "seeds",
        "predictions",
        "params/seed",
        "memory",
        "FLOPs",
        "time",
    ):
        table.add_column(col, justify="right" if col in ("params/seed", "memory", "FLOPs", "time") else "left")
    for c, e in zip(suite.cases, estimates):
        a, i, t = c.architecture, c.input, c.train
        xi = getattr(i, "xi", None)
        table.add_row(
            escape(c.id),
            c.hash,
            f"{a.kind} L={a.depth} d={a.width}",
            f"{i.kind} V={i.vocab} T={i.length}" + (f" ξ={xi:g}" if isinstance(xi, float) else ""),
            f"{t.steps} steps × {t.batch}",
            str(c.seeds) + (f" (from {c.seed_start})" if c.seed_start else ""),
            str(len(c.predict)),
            human_count(e.params),
            human_bytes(e.peak_bytes),
            human_flops(e.total_flops),
            human_seconds(e.seconds),
        )
    console.print(table)
    return 0


def _lazy(module: str, name: str):
    """A command whose module (JAX, xarray, matplotlib …) is imported only when the command runs."""

    def command(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(f".{module}", __package__), name)(args)

    return command


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; building it imports nothing heavy (``rgbench --help`` is instant)."""
    parser = argparse.ArgumentParser(
        prog="rgbench", description="Declarative benchmark suite for renormalization-group claims about deep networks."
    )
    parser.add_argument("--version", action="version", version=f"rgbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check suite files; exit 2 and one line per problem if any is invalid")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    add_budget_options(p)
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "list",
        help="the reference: every key a suite may hold and every registered kind, with "
        "defaults, what is allowed and what it means",
    )
    p.add_argument(
        "category",
        nargs="?",
        choices=[
            "suite",
            "case",
            "train",
            "measure",
            "masking",
            "prediction",
            "architecture",
            "input",
            "observable",
            "test",
            "theory",
        ],
        help="one section only (default: all)",
    )
    p.add_argument("--json", action="store_true")
    add_plugin_option(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="a suite's expanded cases with their hashes and cost estimates")
    p.add_argument("suite", metavar="SUITE")
    p.add_argument("--json", action="store_true", help="the resolved suite as JSON, with each case's estimate")
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("run", help="train, measure and store every case of a suite (resumable)")
    p.add_argument("suite", metavar="SUITE")
    p.add_argument("--store", help="Zarr store path or fsspec URL (default results/<suite>.zarr)")
    p.add_argument(
        "--only", nargs="+", metavar="CASE_ID", help="run only these cases: case ids, or a grid's base id for all of its cases"
    )
    p.add_argument("--force", action="store_true", help="recompute cases even if complete")
    p.add_argument("--workers", type=int, default=1, help="local worker processes, one case each (default 1: in-process)")
    p.add_argument(
        "--devices",
        type=int,
        default=1,
        metavar="N",
        help="split each case's seeds over N CPU devices trained side by side (e.g. N = cores; default 1). "
        "Results are bitwise reproducible for a given N; another N changes float rounding",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler, e.g. tcp://host:8786")
    p.add_argument(
        "--resources",
        nargs="+",
        metavar="NAME=AMOUNT",
        help="what each case asks of a dask worker, e.g. GPU=1: one case per GPU on workers started "
        "with --resources GPU=1 (needs --scheduler)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing")
    add_budget_options(p)
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_lazy("runner", "_cmd_run"))

    p = sub.add_parser(
        "score",
        help="verdicts of a suite's predictions on a results store",
        description="Score every prediction of a suite against a results store.",
    )
    p.add_argument("store", help="results store, e.g. results/rg-paper-v2.zarr")
    p.add_argument("--suite", default=None, help="suite file (default: the suite recorded in the store)")
    p.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="output format")
    p.add_argument("--strict", action="store_true", help="exit with status 1 on any FAIL, NONSPECIFIC or ERROR")
    add_plugin_option(p)
    p.set_defaults(func=_lazy("score", "_cli_score"))

    p = sub.add_parser(
        "leaderboard",
        help="compare architectures across result stores",
        description="One row per architecture configuration across all stores (or score "
        "report JSON files) given, with bootstrap rank intervals.",
    )
    p.add_argument("stores", nargs="+", metavar="STORE", help="results stores or `rgbench score --format json` reports")
    p.add_argument("--format", choices=["markdown", "csv", "html", "json"], default="markdown", help="output format")
    p.add_argument("--out", default=None, help="write to FILE instead of standard output")
    p.add_argument(
        "--figures-from",
        nargs="+",
        default=None,
        metavar="CASE",
        help="case ids whose figures each row reports (default: all of the row's cases)",
    )
    add_plugin_option(p)
    p.set_defaults(func=_lazy("leaderboard", "_cli_leaderboard"))

    p = sub.add_parser(
        "verify",
        help="check every case of a results store against its digests",
        description="Report the state of every case of a store: complete (digests match), unverified "
        "(written before digests), corrupted (with the reason), incomplete, or a replacement "
        "an interruption left half done. Exit 1 if any case is corrupted or interrupted.",
    )
    p.add_argument("store", help="results store, e.g. results/rg-paper-v2.zarr")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    p.set_defaults(func=_lazy("store", "_cli_verify"))

    p = sub.add_parser(
        "plot",
        help="figures of a results store and a single-file HTML report",
        description="Write PNG figures of every case and report.html (verdicts, leaderboard, figures).",
    )
    p.add_argument("store", help="results store, e.g. results/rg-paper-v2.zarr")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--suite", default=None, help="suite file (default: the suite recorded in the store)")
    add_plugin_option(p)
    p.set_defaults(func=_lazy("plots", "_cli_plot"))
    return parser


def main(argv: list[str] | None = None) -> int:
    from .plugins import PluginError, load_plugins

    args = build_parser().parse_args(argv)
    try:
        load_plugins(getattr(args, "plugins", None) or [])
        return int(args.func(args) or 0)
    except PluginError as e:
        print(f"rgbench: {e}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        # Claims were released and no partial case is kept (a case counts only once complete, and a
        # replacement is swapped in whole). Leave at once: letting the interpreter tear down while XLA
        # may still hold threads of an interrupted compilation could crash it (SIGSEGV; tests/test_runner.py).
        words = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
        hint = f"; nothing partial is kept — resume with: rgbench {words}" if args.command == "run" else ""
        print(f"interrupted{hint}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    except BrokenPipeError:
        return 0
    except Exception as e:  # the errors a user can cause end in their message and exit 2, never a traceback
        from .suite import SuiteError

        if isinstance(e, SuiteError):  # an invalid suite (show, run, `score --suite`, `plot --suite`) or a refused case
            _print_problems(e.problems)
            return EXIT_INVALID
        if type(e).__name__ == "StoreError" and type(e).__module__ == f"{__package__}.store":
            print(f"rgbench {args.command}: {e}", file=sys.stderr)
            return EXIT_INVALID
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
