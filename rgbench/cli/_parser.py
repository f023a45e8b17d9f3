"""The command line's grammar: one function per command adds its subparser; nothing heavy is imported."""

from __future__ import annotations

import argparse

from .._version import __version__
from ._commands import _cmd_list, _cmd_show, _cmd_suites, _cmd_validate
from ._options import add_budget_options, add_plugin_option, add_set_option

__all__ = ["build_parser"]

_LIST_CATEGORIES = (
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
    "leaderboard",
)
_SUITE_HELP = "a suite file, or a standard suite's name when no such file exists: smoke, rg-paper-v3, archive/rg-paper-v1 (`rgbench suites`)"


def _lazy(module: str, name: str):
    """A command whose module (JAX, xarray, matplotlib …) is imported only when the command runs."""

    def command(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module, __package__), name)(args)

    return command


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check suite files; exit 2 and one line per problem if any is invalid")
    p.add_argument("paths", nargs="+", metavar="PATH", help="suite files, or standard suites' names (`rgbench suites`)")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    add_budget_options(p)
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_cmd_validate)


def _add_list(sub) -> None:
    p = sub.add_parser(
        "list",
        help="the reference: every key a suite may hold and every registered kind, with "
        "defaults, what is allowed and what it means",
    )
    p.add_argument("category", nargs="?", choices=list(_LIST_CATEGORIES), help="one section only (default: all)")
    p.add_argument("--json", action="store_true")
    add_plugin_option(p)
    p.set_defaults(func=_cmd_list)


def _add_show(sub) -> None:
    p = sub.add_parser("show", help="a suite's expanded cases with their hashes and cost estimates")
    p.add_argument("suite", metavar="SUITE", help=_SUITE_HELP)
    p.add_argument("--json", action="store_true", help="the resolved suite as JSON, with each case's estimate")
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_cmd_show)


def _add_suites(sub) -> None:
    p = sub.add_parser(
        "suites",
        help="the standard suites (installed with rgbench): name, declared name, title, version, cases × seeds, "
        "estimated time; any SUITE argument takes one of these names",
    )
    p.add_argument("--all", action="store_true", help="the archived suites too (archive/NAME)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_suites)


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="train, measure and store every case of a suite (resumable)")
    p.add_argument("suite", metavar="SUITE", help=_SUITE_HELP)
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
    p.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each case's training checkpoints (STORE/.checkpoints/) after it completes; by default they are "
        "removed then (an interrupted case resumes from its last one either way: train.checkpoint_every)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing")
    add_budget_options(p)
    add_set_option(p)
    add_plugin_option(p)
    p.set_defaults(func=_lazy("._stores", "_cmd_run"))


def _add_score(sub) -> None:
    p = sub.add_parser(
        "score",
        help="verdicts of a suite's predictions on a results store",
        description="Score every prediction of a suite against a results store.",
        epilog="Exit status: 0 scored; 3 some verdict is ERROR (a case missing, diverged, failed or corrupted: "
        "`rgbench verify STORE` says which; --allow-errors exits 0 instead); 1 with --strict, some verdict is "
        "FAIL, NONSPECIFIC or ERROR; 2 the store or suite cannot be read.",
    )
    p.add_argument("store", help="results store, e.g. results/rg-paper-v3.zarr")
    p.add_argument("--suite", default=None, help="suite file or standard suite's name (default: the suite recorded in the store)")
    p.add_argument("--format", choices=["table", "json", "markdown"], default="table", help="output format")
    p.add_argument("--strict", action="store_true", help="exit with status 1 on any FAIL, NONSPECIFIC or ERROR")
    p.add_argument("--allow-errors", action="store_true", help="exit 0 even when a verdict is ERROR (by default ERROR exits 3)")
    p.add_argument(
        "--previous",
        metavar="REPORT",
        default=None,
        help="an earlier `rgbench score --format json` report of the same suite: each verdict that differs "
        "from it is shown beside it, `(was X)`",
    )
    add_plugin_option(p)
    p.set_defaults(func=_lazy("._stores", "_cli_score"))


def _add_leaderboard(sub) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="compare architectures across result stores",
        description="One row per architecture configuration across all stores (or score "
        "report JSON files) given, with bootstrap rank intervals.",
    )
    p.add_argument("stores", nargs="+", metavar="STORE", help="results stores or `rgbench score --format json` reports")
    p.add_argument(
        "--reference",
        action="store_true",
        help="add the shipped stores' score reports (installed with rgbench): a store joins the reference rows "
        "whose claims it states under the same criteria",
    )
    p.add_argument("--format", choices=["markdown", "csv", "html", "json"], default="markdown", help="output format")
    p.add_argument("--out", default=None, help="write to FILE instead of standard output")
    p.add_argument(
        "--heatmap",
        metavar="FILE",
        help="also draw the board as a heatmap (architectures × claims, coloured by verdict): FILE.png or FILE.svg",
    )
    p.add_argument(
        "--html",
        metavar="FILE",
        help="also write a single-file HTML page: the sortable table, the heatmap, each claim with its test and "
        "pass region, the sources and their commits (nothing fetched from a network)",
    )
    p.add_argument(
        "--figures-from",
        nargs="+",
        default=None,
        metavar="CASE",
        help="case ids whose figures each row reports (default: all of the row's cases)",
    )
    add_plugin_option(p)
    p.set_defaults(func=_lazy("._stores", "_cli_leaderboard"))


def _add_verify(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check every case of a results store against its digests",
        description="Report the state of every case of a store: complete (digests match), unverified "
        "(written before digests), corrupted (with the reason), incomplete, or a replacement "
        "an interruption left half done. Exit 1 if any case is corrupted or interrupted, or if a case the "
        "store's suite expects is missing (with --partial: pending, which does not fail).",
    )
    p.add_argument("store", help="results store, e.g. results/rg-paper-v3.zarr")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    p.add_argument(
        "--partial",
        action="store_true",
        help="a run still in progress: the cases its suite expects and the store does not hold yet are "
        "'pending' and do not fail (every case present must still verify)",
    )
    p.add_argument(
        "--seal",
        action="store_true",
        help="first write digests for the cases stored before rgbench wrote digests (unverified), from their data "
        "as they are now, recording when: they are checked from then on",
    )
    p.set_defaults(func=_lazy("._stores", "_cli_verify"))


def _add_plot(sub) -> None:
    p = sub.add_parser(
        "plot",
        help="figures of a results store and a single-file HTML report",
        description="Write PNG figures of every case and report.html (verdicts, leaderboard, figures).",
    )
    p.add_argument("store", help="results store, e.g. results/rg-paper-v3.zarr")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--suite", default=None, help="suite file or standard suite's name (default: the suite recorded in the store)")
    add_plugin_option(p)
    p.set_defaults(func=_lazy("._stores", "_cli_plot"))


_COMMANDS = (_add_validate, _add_list, _add_show, _add_suites, _add_run, _add_score, _add_leaderboard, _add_verify, _add_plot)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; building it imports nothing heavy (``rgbench --help`` is instant)."""
    parser = argparse.ArgumentParser(
        prog="rgbench",
        description="Declarative benchmark suite for renormalization-group claims about deep networks.",
        epilog="Exit status: 0 done; 1 a check failed (score --strict, verify); 2 invalid input (a suite, a store, "
        "an option); 3 a verdict is ERROR (score); 4 the store could not be written (disk full, no permission, "
        "read-only, gone: the message says what, and how to resume); 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"rgbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error rgbench would only describe")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser
