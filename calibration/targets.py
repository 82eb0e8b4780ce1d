"""Calibration targets and the parameters calibrated against them (docs/calibration.md).

A *targets file* (TOML) lists the observed figures the model should reproduce, each with a
tolerance, its unit and its source, and the prior box of every calibrated parameter::

    burn_in = 1                       # optional: years left out before averaging (default 1)

    [targets.turnover]
    value = 0.088                     # observed figure, in `unit`
    tolerance = 0.010                 # half-width of the band accepted as a fit, same unit (> 0)
    unit = "share of the social stock per year"
    source = "SDES 2022"              # required: where the figure comes from
    note = "…"                        # optional
    indicator = "turnover"            # optional: EPCI indicator of the model (default: the name)
    years = [2, 3, 4, 5]              # optional: simulated years averaged (default: after burn-in)
    weight = 1.0                      # optional: weight in the distance (default 1; 0: report)

    [parameters]                      # optional: default = the table of default_targets.toml
    "behaviour.apply_rate" = [0.03, 0.30]

Every key is checked when the file is read: an unknown table or key, an indicator the model does
not produce (with the closest names), a tolerance that is not > 0, a parameter that is not a
numeric ``behaviour.*`` field or a box outside its allowed range all raise
:class:`~model.errors.InputError` naming the file and the field.

:func:`default_targets` returns the national figures of docs/calibration.md
(``default_targets.toml``, next to
this module), used for the embedded default territory.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mixsim.model.config import Behaviour, iter_parameters, parse_toml_file
from mixsim.model.errors import InputError
from mixsim.model.indicators.catalogue import names_at
from mixsim.model.ranges import parse_range

__all__ = [
    "CalibrationTargets",
    "DEFAULT_BURN_IN",
    "Target",
    "default_targets",
    "known_indicators",
    "load_targets",
    "parse_targets",
]

#: Years of simulation left out before the indicators are averaged: the first year carries the
#: transient of the synthetic start (applications dated over four years meet a full stock).
DEFAULT_BURN_IN = 1

_TOP_KEYS = ("burn_in", "targets", "parameters")
_TARGET_KEYS = ("value", "tolerance", "unit", "source", "note", "indicator", "years", "weight")
_REQUIRED = ("value", "tolerance", "source")


@dataclass(frozen=True)
class Target:
    """One observed figure the model should reproduce.

    Attributes:
        name: Target name (the key of its ``[targets.<name>]`` table).
        value: Observed value, in ``unit``.
        tolerance: Half-width of the band accepted as a fit, same unit (> 0); the distance
            measures misfit in units of tolerance.
        source: Where the value comes from.
        indicator: EPCI-level yearly indicator of the model it is compared with.
        years: Simulated years averaged; ``None`` for every year after the burn-in.
        weight: Weight of the target in the distance (≥ 0; 0 reports the target without fitting
            it).
        unit: Unit of ``value`` and ``tolerance``.
        note: Definition or caveat.

    """

    name: str
    value: float
    tolerance: float
    source: str
    indicator: str
    years: tuple[int, ...] | None = None
    weight: float = 1.0
    unit: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value)):
            raise InputError(f"got {self.value!r}; expected a finite number",
                             field=f"targets.{self.name}.value")
        if not (math.isfinite(self.tolerance) and self.tolerance > 0):
            raise InputError(f"got {self.tolerance!r}; expected a number > 0",
                             field=f"targets.{self.name}.tolerance")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise InputError(f"got {self.weight!r}; expected a number ≥ 0",
                             field=f"targets.{self.name}.weight")

    def moment_years(self, burn_in: int, horizon: int) -> tuple[int, ...]:
        """Return the simulated years averaged for this target in a run of ``horizon`` years.

        Raises:
            InputError: If no year is left (horizon within the burn-in) or a listed year lies
                beyond the horizon.

        """
        if self.years is None:
            years = tuple(range(burn_in + 1, horizon + 1))
            if not years:
                raise InputError(f"a run of {horizon} year(s) leaves no year after the burn-in "
                                 f"of {burn_in}; simulate at least {burn_in + 1} years",
                                 field="years")
            return years
        late = [y for y in self.years if y > horizon]
        if late:
            raise InputError(f"target {self.name!r} averages years {list(self.years)} but the "
                             f"run has {horizon} year(s)", field="years")
        return self.years


@dataclass(frozen=True)
class CalibrationTargets:
    """The targets of a territory and the prior box of each calibrated parameter.

    Attributes:
        targets: The targets, in file order.
        parameters: Dotted ``behaviour.*`` name → ``(low, high)`` prior box, in file order.
        burn_in: Simulated years left out before averaging (targets without ``years``).
        source: File the targets were read from (``"default"`` for the embedded ones).

    """

    targets: tuple[Target, ...]
    parameters: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: MappingProxyType({}))
    burn_in: int = DEFAULT_BURN_IN
    source: str = "<targets>"

    def __post_init__(self) -> None:
        if not self.targets:
            raise InputError("no target given", source=self.source, field="targets")
        if not any(t.weight > 0 for t in self.targets):
            raise InputError("every target has weight 0; give at least one a weight > 0",
                             source=self.source, field="targets")
        if not self.parameters:
            raise InputError("no parameter to calibrate", source=self.source, field="parameters")
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __reduce__(self):
        """Pickle through a plain dict (a mapping proxy does not pickle; workers need it)."""
        return (type(self), (self.targets, dict(self.parameters), self.burn_in, self.source))

    @property
    def names(self) -> tuple[str, ...]:
        """Target names, in order."""
        return tuple(t.name for t in self.targets)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Calibrated parameters (dotted names), in order."""
        return tuple(self.parameters)

    def __getitem__(self, name: str) -> Target:
        """Return the target called ``name``."""
        for t in self.targets:
            if t.name == name:
                return t
        raise KeyError(name)

    def identity(self) -> dict[str, Any]:
        """Plain description of everything that changes the fit (fingerprints, reports)."""
        return {
            "burn_in": self.burn_in,
            "targets": {t.name: {"value": t.value, "tolerance": t.tolerance,
                                 "indicator": t.indicator, "weight": t.weight,
                                 "years": None if t.years is None else list(t.years)}
                        for t in self.targets},
            "parameters": {k: list(v) for k, v in self.parameters.items()},
        }


# ------------------------------------------------------------------------------------------------
# Reading and validation
# ------------------------------------------------------------------------------------------------


def known_indicators() -> tuple[str, ...]:
    """Names of the EPCI-level yearly indicators the model records (``RunResult.yearly()``).

    Read from the indicator catalogue (:mod:`mixsim.model.indicators.catalogue`, the table of
    docs/indicators.md), which a test checks against what a run records; no model is run.
    """
    return names_at("epci")


def _did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(name, list(choices), n=3)
    return f" (did you mean {' or '.join(repr(h) for h in hint)}?)" if hint else ""


def _unknown_key(key: str, allowed: tuple[str, ...], src: str, where: str) -> InputError:
    return InputError(f"unknown key {key!r}{_did_you_mean(key, allowed)}; allowed: "
                      f"{', '.join(allowed)}", source=src, field=where)


def _number(value: Any, src: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"got {value!r}; expected a number", source=src, field=where)
    return float(value)


def _text(value: Any, src: str, where: str, *, required: bool) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"got {value!r}; expected {'a non-empty' if required else 'a'} string",
                         source=src, field=where)
    return value


def _whole(value: Any, lo: int, src: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InputError(f"got {value!r}; expected a whole number ≥ {lo}", source=src, field=where)
    return value


def _parse_target(name: str, table: Any, src: str) -> Target:
    where = f"targets.{name}"
    if not isinstance(table, dict):
        raise InputError(f"expected a table with {', '.join(_REQUIRED)}, got {table!r}",
                         source=src, field=where)
    for key in table:
        if key not in _TARGET_KEYS:
            raise _unknown_key(key, _TARGET_KEYS, src, f"{where}.{key}")
    for key in _REQUIRED:
        if key not in table:
            raise InputError(f"missing key {key!r}", source=src, field=f"{where}.{key}")
    value = _number(table["value"], src, f"{where}.value")
    tolerance = _number(table["tolerance"], src, f"{where}.tolerance")
    if not tolerance > 0:
        raise InputError(f"got {tolerance:g}; expected a number > 0 (the half-width of the band "
                         "accepted as a fit)", source=src, field=f"{where}.tolerance")
    weight = _number(table.get("weight", 1.0), src, f"{where}.weight")
    if weight < 0:
        raise InputError(f"got {weight:g}; expected a number ≥ 0", source=src,
                         field=f"{where}.weight")
    indicator = _text(table.get("indicator", name), src, f"{where}.indicator", required=True)
    known = known_indicators()
    if indicator not in known:
        key = f"{where}.indicator" if "indicator" in table else where
        raise InputError(f"unknown indicator {indicator!r}{_did_you_mean(indicator, known)}; "
                         "the EPCI indicators are listed in docs/indicators.md", source=src,
                         field=key)
    years = table.get("years")
    if years is not None:
        if (not isinstance(years, list) or not years
                or not all(isinstance(y, int) and not isinstance(y, bool) and y >= 1
                           for y in years)
                or len(set(years)) != len(years)):
            raise InputError(f"got {years!r}; expected a non-empty list of distinct simulated "
                             "years ≥ 1 (year 0 is the initial state)", source=src,
                             field=f"{where}.years")
        years = tuple(sorted(years))
    return Target(name=name, value=value, tolerance=tolerance,
                  source=_text(table["source"], src, f"{where}.source", required=True),
                  indicator=indicator, years=years, weight=weight,
                  unit=_text(table.get("unit", ""), src, f"{where}.unit", required=False),
                  note=_text(table.get("note", ""), src, f"{where}.note", required=False))


def _parse_parameters(table: Any, src: str) -> dict[str, tuple[float, float]]:
    if not isinstance(table, dict) or not table:
        raise InputError('expected a table of "behaviour.name" = [low, high]', source=src,
                         field="parameters")
    known = {f"behaviour.{name}": f for name, f, _ in iter_parameters(Behaviour())}
    out: dict[str, tuple[float, float]] = {}
    for name, box in table.items():
        where = f"parameters.{name}"
        if isinstance(box, dict):  # written without quotes: [parameters.behaviour] apply_rate = …
            raise InputError('quote the dotted name: "behaviour.apply_rate" = [low, high]',
                             source=src, field=where)
        if name not in known:
            raise InputError(f"unknown parameter{_did_you_mean(name, list(known))}; only "
                             "behaviour parameters are calibrated (`mixsim levers --behaviour` "
                             "lists them)", source=src, field=where)
        f = known[name]
        if f.type not in (int, float):
            raise InputError("is not numeric", source=src, field=where)
        out[name] = parse_range(box, source=src, field=where, kind=f.type.__name__,
                                allowed=(f.metadata.get("lo"), f.metadata.get("hi"))).as_tuple()
    return out


def parse_targets(data: Mapping[str, Any], *, source: str = "<targets>",
                  default_parameters: Mapping[str, tuple[float, float]] | None = None
                  ) -> CalibrationTargets:
    """Validate the mapping a targets file holds (see the module docstring).

    Args:
        data: Parsed TOML.
        source: Name of the file, used in error messages.
        default_parameters: Prior boxes used when the file has no ``[parameters]`` table
            (default: those of :func:`default_targets`).

    Raises:
        InputError: Naming ``source`` and the field at fault.

    """
    if not isinstance(data, Mapping):
        raise InputError("expected a table", source=source)
    for key in data:
        if key not in _TOP_KEYS:
            raise _unknown_key(key, _TOP_KEYS, source, key)
    burn_in = _whole(data.get("burn_in", DEFAULT_BURN_IN), 0, source, "burn_in")
    table = data.get("targets")
    if not isinstance(table, dict) or not table:
        raise InputError("expected one [targets.<name>] table per target", source=source,
                         field="targets")
    targets = tuple(_parse_target(str(name), t, source) for name, t in table.items())
    if "parameters" in data:
        parameters = _parse_parameters(data["parameters"], source)
    elif default_parameters is not None:
        parameters = dict(default_parameters)
    else:
        parameters = dict(default_targets().parameters)
    try:
        return CalibrationTargets(targets=targets, parameters=parameters, burn_in=burn_in,
                                  source=source)
    except InputError as err:
        raise InputError(err.detail, source=source, field=err.field) from None


def load_targets(path: str | Path) -> CalibrationTargets:
    """Read and validate a targets file.

    Args:
        path: A TOML file, or a territory data folder holding ``targets.toml``.

    Raises:
        InputError: If the file is missing, not TOML, or a field is invalid; the message names
            the file and the field.

    """
    path = Path(path)
    if path.is_dir():
        path = path / "targets.toml"
    if not path.is_file():
        raise InputError("file not found (a territory folder needs a targets.toml listing its "
                         "calibration targets; see calibration/example_data/targets.toml)",
                         source=str(path))
    return parse_targets(parse_toml_file(path), source=str(path))


@lru_cache(maxsize=1)
def _default_data() -> dict[str, Any]:
    ref = resources.files("mixsim.calibration") / "default_targets.toml"
    text = ref.read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_targets() -> CalibrationTargets:
    """National targets of docs/calibration.md with the default prior boxes.

    Read from ``default_targets.toml``, shipped with the package.
    """
    data = _default_data()
    params = _parse_parameters(data["parameters"], "default_targets.toml")
    return parse_targets(data, source="default_targets.toml", default_parameters=params)
