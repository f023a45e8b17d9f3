"""Command-line options shared by several rgbench commands."""

from __future__ import annotations

import argparse

__all__ = ["add_budget_options", "add_set_option", "add_plugin_option"]


def add_set_option(p: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable): override a dotted key in every case of the suite."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a dotted key in every case, above what the file says (repeatable), e.g. "
        "--set train.steps=10000 --set seeds=10; validated like the file",
    )


def add_plugin_option(p: argparse.ArgumentParser) -> None:
    """``--plugin MODULE_OR_PATH`` (repeatable): import code that registers kinds, for this command only."""
    p.add_argument(
        "--plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE_OR_PATH",
        help="import a module, .py file or package directory that registers architectures, inputs, "
        "observables or tests (repeatable); installed packages' rgbench.components entry points load by themselves",
    )


def _typed(parse):
    def convert(text: str):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = parse.__name__
    return convert


def add_budget_options(p: argparse.ArgumentParser, *, strict: bool = True) -> None:
    """``--max-memory SIZE``, ``--max-hours H`` and ``--strict``: the limits `rgbench.cost.budget` checks
    every case's estimate against before any compute."""
    from ..cost import parse_bytes, parse_hours

    p.add_argument(
        "--max-memory",
        type=_typed(parse_bytes),
        default=None,
        metavar="SIZE",
        help="refuse a case whose estimated peak memory is above SIZE, e.g. 8GB or 512MiB (default: this "
        "machine's memory; `rgbench show` prints every estimate)",
    )
    p.add_argument(
        "--max-hours",
        type=_typed(parse_hours),
        default=None,
        metavar="H",
        help="warn about a case estimated to take more than H hours (refuse it with --strict)",
    )
    if strict:
        p.add_argument(
            "--strict",
            action="store_true",
            help="refuse, rather than warn about, a case above --max-hours or a null that cannot fail informatively",
        )
