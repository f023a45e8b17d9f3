"""`rgbench validate | list | show | run | score | leaderboard | plot`."""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from ._options import add_plugin_option, add_set_option

EXIT_INVALID = 2


def _cmd_validate(args: argparse.Namespace) -> int:
    from .spec import SuiteError, load_suite

    bad = 0
    for path in args.paths:
        try:
            suite = load_suite(path, args.overrides)
        except SuiteError as e:
            bad += 1
            for p in sorted(e.problems, key=lambda p: (p.file, p.line or 0)):
                print(p, file=sys.stderr)
            continue
        if not args.quiet:
            print(f"{path}: ok — suite {suite.name!r}, {len(suite.cases)} case(s)")
    return EXIT_INVALID if bad else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ._console import console as make_console
    from rich.markup import escape
    from rich.table import Table

    from .registry import ARCHITECTURES, INPUTS, OBSERVABLES, TESTS, describe, parameters
    from .spec import models

    from .theory import THEORY

    models()  # registers every component
    registries = {"architecture": ARCHITECTURES, "input": INPUTS, "observable": OBSERVABLES, "test": TESTS}
    wanted = [args.category] if args.category else [*registries, "theory"]
    if args.json:
        out = {
            cat: {
                kind: {
                    "description": describe(cls),
                    "source": str(registries[cat].source(kind)),
                    "parameters": [
                        {"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                        for p in parameters(cls)
                    ],
                }
                for kind, cls in registries[cat].items()
            }
            for cat in wanted
            if cat in registries
        }
        if "theory" in wanted:
            out["theory"] = {
                t.name: {"description": t.doc, "observables": list(t.observables), "stages": list(t.stages), "source": t.source}
                for t in THEORY.values()
            }
        print(json.dumps(out, indent=2, default=str))
        return 0
    console = make_console()
    for cat in wanted:
        if cat == "theory":
            table = Table(title="theories (a prediction's `value: {theory: NAME}`)", show_lines=True, title_justify="left")
            table.add_column("theory", style="bold")
            table.add_column("formula")
            table.add_column("predicts")
            table.add_column("source")
            for t in THEORY.values():
                table.add_row(escape(t.name), escape(t.doc), escape(", ".join(t.observables) + f"\n(stage {'|'.join(t.stages)})"), escape(t.source))
            console.print(table)
            continue
        table = Table(title=f"{cat} kinds", show_lines=True, title_justify="left")
        table.add_column("kind", style="bold")
        table.add_column("description")
        table.add_column("parameters (default)")
        table.add_column("from")
        for kind, cls in registries[cat].items():
            params = "\n".join(f"{p.name}: {p.type} = {json.dumps(p.default, default=str)}" for p in parameters(cls))
            table.add_row(escape(kind), escape(describe(cls)), escape(params) or "—", escape(str(registries[cat].source(kind))))
        console.print(table)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from ._console import console as make_console
    from rich.markup import escape
    from rich.table import Table

    from .spec import SuiteError, load_suite

    try:
        suite = load_suite(args.suite, args.overrides)
    except SuiteError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        print(json.dumps(json.loads(suite.to_json()), indent=2))
        return 0
    console = make_console()
    table = Table(title=f"{suite.name} — {suite.title}" if suite.title else suite.name, title_justify="left")
    for col in ("case", "hash", "architecture", "input", "train", "seeds", "predictions"):
        table.add_column(col)
    for c in suite.cases:
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
        )
    console.print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rgbench", description="Declarative benchmark suite for renormalization-group claims about deep networks."
    )
    parser.add_argument("--version", action="version", version=f"rgbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check suite files; exit 2 and one line per problem if any is invalid")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("list", help="every registered kind with its description and parameters")
    p.add_argument("category", nargs="?", choices=["architecture", "input", "observable", "test", "theory"])
    p.add_argument("--json", action="store_true")
    add_plugin_option(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="a suite's expanded cases with their hashes")
    p.add_argument("suite", metavar="SUITE")
    p.add_argument("--json", action="store_true", help="the resolved suite as JSON")
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_cmd_show)

    import importlib

    for name in ("runner", "score", "leaderboard", "plots"):
        importlib.import_module(f".{name}", __package__).add_cli(sub)
    for name, p in sub.choices.items():
        if name in ("run", "score", "leaderboard", "plot"):
            add_plugin_option(p)
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
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

