"""Errors raised on bad user input (scenario files, data folders, command-line arguments)."""

from __future__ import annotations


class InputError(ValueError):
    """A user-supplied file or value is invalid.

    The message always names where the problem is (file, field or row) and what is allowed, so that
    the command-line interface can print it as is and exit with code 2.

    Args:
        message: What is wrong and what is allowed.
        source: The file (or other origin, e.g. ``"--scale"``) the value came from.
        field: The dotted field name, column or row concerned.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        self.detail = message
        where = ": ".join(str(p) for p in (source, field) if p)
        super().__init__(f"{where}: {message}" if where else message)
