"""The ``[low, high]`` parameter range read from every specification file.

An experiment's uncertainties (``experiments/spec.py``), a sensitivity analysis's parameters
(``experiments/sensitivity_cli.py``, ``experiments/sensitivity.py``) and a calibration's prior
boxes (``calibration/targets.py``) all give a parameter a range. They read it with
:func:`parse_range`, so the three accept and refuse the same values with the same message: two
finite real numbers (not booleans), ``low < high``, inside the bounds the parameter allows
(the ``lo``/``hi`` metadata of its field in ``model/config.py``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InputError

__all__ = ["Range", "parse_range"]

#: Parameter types a range can be given for.
KINDS = ("float", "int")


@dataclass(frozen=True)
class Range:
    """A finite, ordered range of a numeric parameter.

    Attributes:
        low: Lower end (inclusive), in the parameter's unit.
        high: Upper end, ``> low``.
        kind: Type of the parameter the range is for: ``"float"`` or ``"int"``.

    Raises:
        InputError: If an end is not finite, ``low >= high`` or ``kind`` is unknown.
    """

    low: float
    high: float
    kind: str = "float"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"unknown range kind {self.kind!r}; allowed: {', '.join(KINDS)}")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise InputError(f"got [{self.low!r}, {self.high!r}]; both ends must be finite")
        if not self.low < self.high:
            raise InputError(f"got [{self.low:g}, {self.high:g}]; low must be below high")

    def as_tuple(self) -> tuple[float, float]:
        """Return ``(low, high)``."""
        return (self.low, self.high)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def parse_range(value: Any, *, source: str | None, field: str, kind: str = "float",
                allowed: tuple[float | None, float | None] = (None, None)) -> Range:
    """Read a ``[low, high]`` range from a parsed file (a list or tuple of two numbers).

    Args:
        value: The value read: a TOML list, or any sequence of two numbers.
        source: The file the value comes from, named in the error.
        field: The dotted field name, named in the error.
        kind: Type of the parameter: ``"float"`` or ``"int"``.
        allowed: The bounds the parameter allows, ``None`` for no bound on that side.

    Returns:
        The range, with float ends.

    Raises:
        InputError: Naming ``source`` and ``field``, if the value is not two finite numbers,
            ``low >= high`` or the range leaves ``allowed``.
    """
    lo_b, hi_b = allowed
    inside = (f" within [{'-inf' if lo_b is None else f'{lo_b:g}'}, "
              f"{'inf' if hi_b is None else f'{hi_b:g}'}]")
    expected = f"expected [low, high]: two finite numbers, low < high{inside}"
    items = (() if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable)
             else tuple(value))
    if len(items) != 2 or not all(_is_number(x) and math.isfinite(x) for x in items):
        raise InputError(f"got {value!r}; {expected}", source=source, field=field)
    low, high = float(items[0]), float(items[1])
    if not low < high:
        raise InputError(f"got [{low:g}, {high:g}]; low must be below high", source=source,
                         field=field)
    if (lo_b is not None and low < lo_b) or (hi_b is not None and high > hi_b):
        raise InputError(f"range [{low:g}, {high:g}] leaves the allowed range{inside[7:]}",
                         source=source, field=field)
    try:
        return Range(low, high, kind)
    except InputError as err:
        raise InputError(err.detail, source=source, field=field) from None
