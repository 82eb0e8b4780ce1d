"""The ``mixsim`` sub-commands, one module each (the table is ``mixsim.experiments.cli.COMMANDS``).

Each module defines ``add_parser(subparsers)``, which registers its command and sets the handler
``func(args) -> int`` (the exit code). A command module parses arguments, calls the library
(:mod:`mixsim.experiments.runner`, :mod:`~mixsim.experiments.sensitivity_cli`,
:mod:`mixsim.calibration.cli`, ...) and prints; no library module imports a command module.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: Failures listed one per line before the rest are counted.
FAILURES_SHOWN = 10


def print_failures(lines: Sequence[str]) -> None:
    """Print the first :data:`FAILURES_SHOWN` failures on stderr, then how many more there are."""
    for line in lines[:FAILURES_SHOWN]:
        print(f"  {line}", file=sys.stderr)
    if len(lines) > FAILURES_SHOWN:
        print(f"  … and {len(lines) - FAILURES_SHOWN} more", file=sys.stderr)
