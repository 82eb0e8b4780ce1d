"""The ``mixsim`` command line.

The entry point (``mixsim = mixsim.experiments.cli:main``) and the command table
:data:`COMMANDS`: one module per sub-command under :mod:`mixsim.experiments.commands`, each
registering its parser and handler. Every bad input (file, field, argument) prints one message
naming it and exits with code 2. No library module imports this one (tests/test_imports.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence


def _interrupted_while_loading(signum: int, frame: object) -> None:
    """Ctrl-C while the libraries load (before :func:`main` runs): exit 130, no traceback."""
    print("mixsim: interrupted", file=sys.stderr, flush=True)
    os._exit(130)


try:  # only where Ctrl-C would raise KeyboardInterrupt (not where it is ignored)
    _previous_sigint = (signal.signal(signal.SIGINT, _interrupted_while_loading)
                        if signal.getsignal(signal.SIGINT) is signal.default_int_handler
                        else None)
except ValueError:  # not the main thread
    _previous_sigint = None

# the imports that load the libraries; the helpers are re-exported for earlier callers (they live
# in mixsim.experiments.common: no library module imports this one)
from mixsim.experiments.common import (  # noqa: E402, F401
    check_out_dir,
    compile_kernels_once,
    file_mode,
    positive_float,
    positive_int,
    progress_bar,
    seed_int,
    versions,
    write_atomic,
)
from mixsim.experiments.limits import jobs_arg  # noqa: E402, F401
from mixsim.experiments.outdir import OutDir  # noqa: E402, F401
from mixsim.model.errors import InputError  # noqa: E402

if _previous_sigint is not None:
    signal.signal(signal.SIGINT, _previous_sigint)

EXIT_BAD_INPUT = 2

#: The command table: each sub-command, in the order of ``mixsim --help``, and the module that
#: registers it (``add_parser(subparsers)``, which sets a handler ``func(args) -> int``). The
#: modules are imported when the parser is built, not when this module is.
COMMANDS = (
    ("run", "mixsim.experiments.commands.run"),
    ("levers", "mixsim.experiments.commands.levers"),
    ("experiment", "mixsim.experiments.commands.experiment"),
    ("sensitivity", "mixsim.experiments.commands.sensitivity"),
    ("calibrate", "mixsim.experiments.commands.calibrate"),
    ("report", "mixsim.experiments.commands.report"),
    ("territory", "mixsim.experiments.commands.territory"),
    ("explore", "mixsim.experiments.commands.explore"),
    ("validate", "mixsim.experiments.commands.validate"),
)


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message (argparse already uses 2)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available sub-command."""
    import importlib

    parser = _Parser(prog="mixsim", description="Agent-based simulation of residential "
                     "trajectories and social-housing allocation levers.")
    from mixsim.model import __version__
    parser.add_argument("--version", action="version", version=f"mixsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS:
        module = importlib.import_module(module_name)
        module.add_parser(sub)
        if name not in sub.choices:
            raise RuntimeError(f"{module_name}.add_parser did not register `mixsim {name}`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mixsim`` command.

    SIGPIPE keeps Python's handling (ignored: a write to a closed pipe raises
    ``BrokenPipeError``). Setting it to the default action here made any process that calls
    ``main`` (a test session, a notebook) die silently the next time one of its threads wrote to
    the pipe of a worker process that had just ended. When the reader of the standard output
    goes away (``mixsim levers | head``), the command ends quietly with status 141, as a
    process ended by SIGPIPE does.
    """
    command = "mixsim"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_BAD_INPUT
        command = f"mixsim {args.command}"
        try:
            return int(args.func(args) or 0)
        except InputError as err:
            print(f"{command}: error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # Ctrl-C anywhere, even while loading or cleaning up
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # another pipe (a worker's): a real error
        return EXIT_STDOUT_CLOSED


EXIT_STDOUT_CLOSED = 128 + 13  # the status of a process ended by SIGPIPE


def _stdout_closed() -> bool:
    """Whether the standard output's reader is gone; if so, point it at /dev/null.

    (So that the interpreter's final flush does not print "Exception ignored ... BrokenPipe";
    the recipe of the Python documentation, "Note on SIGPIPE".)
    """
    import select
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        gone = any(ev & select.POLLERR for _, ev in poller.poll(0))  # a pipe without reader
    except (AttributeError, OSError, ValueError):  # no real file behind stdout
        return False
    if gone:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
    return gone


if __name__ == "__main__":
    raise SystemExit(main())
