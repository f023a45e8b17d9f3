"""The command line, `rgbench validate | list | show | suites | run | score | leaderboard | verify | plot`: the top layer.
It owns the grammar (`_parser`), the shared options, the terminal width, and turning a user's errors into exit 2.

Each command's module is imported only when the command runs, so ``rgbench --help`` starts no JAX.
"""

from __future__ import annotations

import errno
import os
import shlex
import sys

from ._commands import EXIT_INVALID, _print_problems
from ._parser import build_parser as build_parser

EXIT_IO = 4  # the store could not be written (a full disk, no permission, a read-only file system, gone)

__all__ = ["main", "build_parser", "EXIT_INVALID", "EXIT_IO"]


def _leave_interrupted(command: str, argv: list[str] | None) -> None:
    """Print how to resume and exit 130 at once. No partial case is kept (a case counts only once
    complete, and a replacement is swapped in whole) and the claims this process holds are released
    first. Leave without unwinding: an exception raised through XLA's frames, or the interpreter
    tearing down while XLA still holds threads of an interrupted compilation, could crash it
    (SIGSEGV; tests/test_runner.py)."""
    if command == "run":
        from ..runner import release_held_claims

        release_held_claims()
    words = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    hint = f"; nothing partial is kept — resume with: rgbench {words}" if command == "run" else ""
    print(f"interrupted{hint}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def main(argv: list[str] | None = None) -> int:
    from ..plugins import PluginError, load_plugins

    args = build_parser().parse_args(argv)
    if args.command == "run" and argv is None:  # the command line (not a call from Python): a Ctrl-C
        # leaves from the signal handler itself, between two bytecodes, never as an exception that
        # unwinds through JAX
        import signal

        signal.signal(signal.SIGINT, lambda *_: _leave_interrupted(args.command, argv))
    try:
        load_plugins(getattr(args, "plugins", None) or [])
        return int(args.func(args) or 0)
    except PluginError as e:
        print(f"rgbench: {e}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        _leave_interrupted(args.command, argv)
    except BrokenPipeError:
        return 0
    except Exception as e:  # the errors a user can cause end in their message and exit 2, never a traceback
        from ..store import StoreIOError
        from ..suite import SuiteError

        if isinstance(e, StoreIOError) and not args.debug:
            words = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
            print(_io_message(e, args.command, words), file=sys.stderr)
            return EXIT_IO

        if isinstance(e, SuiteError):  # an invalid suite (show, run, `score --suite`, `plot --suite`) or a refused case
            _print_problems(e.problems)
            return EXIT_INVALID
        if type(e).__name__ == "StoreError" and type(e).__module__ == "rgbench.store":
            print(f"rgbench {args.command}: {e}", file=sys.stderr)
            return EXIT_INVALID
        raise


def _io_message(e, command: str, words: str) -> str:
    """One message for a store that could not be written: what failed, that the store is consistent,
    what to fix, and the command that resumes."""
    fix = {
        errno.ENOSPC: "free disk space (or point --store at a disk with room)",
        errno.EDQUOT: "free space within your disk quota",
        errno.EACCES: "make the store's directory writable",
        errno.EPERM: "make the store's directory writable",
        errno.EROFS: "use a store on a writable file system (--store)",
        errno.ENOENT: "the store's directory vanished: check the path (a resume starts it again)",
    }.get(e.error.errno, "fix the cause above")
    return (
        f"rgbench {command}: {e}.\nThe store is consistent: every case in it was written whole (a case counts only "
        f"once complete) and nothing partial is kept. {fix[0].upper() + fix[1:]}, then resume with: rgbench {words}"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
