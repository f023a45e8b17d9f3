"""Command-line options shared by several rgbench commands."""

from __future__ import annotations

import argparse

__all__ = ["add_set_option", "add_plugin_option"]


def add_set_option(p: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable): override a dotted key in every case of the suite."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="set a dotted key in every case, above what the file says (repeatable), e.g. "
                   "--set train.steps=10000 --set seeds=10; validated like the file")


def add_plugin_option(p: argparse.ArgumentParser) -> None:
    """``--plugin MODULE_OR_PATH`` (repeatable): import code that registers kinds, for this command only."""
    p.add_argument("--plugin", dest="plugins", action="append", default=[], metavar="MODULE_OR_PATH",
                   help="import a module, .py file or package directory that registers architectures, inputs, "
                   "observables or tests (repeatable); installed packages' rgbench.components entry points load by themselves")
