"""The experiment file: scenarios × replicates, uncertainties and outputs (docs/experiments.md).

An experiment is a set of *scenarios* (lever combinations, given as an explicit list and/or a
factorial grid of lever values), each run for the same *replicates*. Replicate ``r`` uses the seed
``SeedSequence(seed).spawn(replicates)[r]`` in every scenario, and the same draw of the
*uncertainties* (behavioural parameters sampled over ``[low, high]`` by a Latin hypercube), so that
scenarios are compared on common random numbers (paired comparisons). ``docs/experiments.md``
describes the file with a commented example (``experiments/compare_levers.toml``).

Vocabulary (exploratory modelling, docs/experiments.md): *levers* are policy choices,
*uncertainties* are behavioural or external parameters, *outcomes* are indicators.

>>> from mixsim.experiments import load_experiment
>>> exp = load_experiment("experiments/compare_levers.toml")  # doctest: +SKIP
>>> [s.name for s in exp.scenarios], exp.replicates  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixsim.model.config import (
    Scenario,
    TerritorySpec,
    deep_merge,
    from_dict,
    iter_parameters,
    load_scenario,
    parse_toml_file,
    to_toml,
)
from mixsim.model.errors import InputError
from mixsim.model.indicators.catalogue import SCALES as CATALOGUE_SCALES
from mixsim.model.indicators.catalogue import names_at
from mixsim.model.ranges import parse_range

__all__ = [
    "SCALES",
    "Experiment",
    "Outputs",
    "RunPlan",
    "ScenarioEntry",
    "Uncertainty",
    "experiment_from_dict",
    "known_indicators",
    "latin_hypercube",
    "load_experiment",
]

#: Spatial scales of the indicator table (``scale`` column of ``RunResult.indicators``).
SCALES = CATALOGUE_SCALES
#: Roots of the parameter paths a scenario, the grid or an uncertainty may set.
PARAMETER_ROOTS = ("levers", "behaviour")
#: Spawn key of the Latin-hypercube seed: ``SeedSequence(seed, spawn_key=(UNCERTAINTY_KEY,))``.
#: It is far above any replicate index, so the sample's stream never meets a run's.
UNCERTAINTY_KEY = 0x756E63  # "unc"
#: Scenario names become file names (``runs/<scenario>-r000.parquet``): keep them portable.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+,-]{0,99}$")
#: Version of the layout of the ``--out`` folder, part of the fingerprint.
FORMAT_VERSION = 1

#: Optional presentation texts, per language (read by ``mixsim report``; not in the fingerprint):
#: a readable title, the question the experiment answers, and descriptions in French or English.
EXPERIMENT_TEXT_KEYS = ("title", "title_fr", "title_en", "question", "question_fr",
                        "question_en", "description_fr", "description_en")
SCENARIO_TEXT_KEYS = ("title", "title_fr", "title_en", "description_fr", "description_en")
_TOP_KEYS = ("name", "description", "years", "replicates", "seed", "reference", "base",
             "territory", "levers", "behaviour", "scenarios", "grid", "uncertainties",
             "outputs") + EXPERIMENT_TEXT_KEYS
_OUTPUT_KEYS = ("indicators", "scales", "years", "moves")


# ------------------------------------------------------------------------------------------------
# The resolved experiment
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uncertainty:
    """An uncertain parameter, sampled uniformly (Latin hypercube) over ``[low, high]``.

    Attributes:
        path: Dotted parameter path, e.g. ``"behaviour.upward_exit_rate"``.
        low: Lower end of the range (inclusive), in the parameter's unit.
        high: Upper end of the range, ``> low``.
    """

    path: str
    low: float
    high: float


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario of the experiment.

    Attributes:
        name: Unique name (letters, digits and ``_ . = + , -``); it appears in run ids.
        overrides: ``(dotted path, value)`` pairs set on top of the base levers and behaviour.
        scenario: The resolved, validated model scenario (before uncertainties are applied).
        origin: ``"list"`` for a ``[[scenarios]]`` entry, ``"grid"`` for a factorial-grid point.
        texts: Presentation texts (:data:`SCENARIO_TEXT_KEYS` → text), e.g. ``title_fr``.
    """

    name: str
    overrides: tuple[tuple[str, Any], ...]
    scenario: Scenario
    origin: str = "list"
    texts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outputs:
    """What the runs keep and what the summary reports.

    Attributes:
        indicators: Indicator names kept (empty: every indicator of the kept scales).
        scales: Scales kept, among :data:`SCALES` (default: the EPCI level only).
        years: Years reported in ``summary.csv`` (empty: the final year).
        moves: Also keep each run's move log (``moves.parquet``; it can be large).
    """

    indicators: tuple[str, ...] = ()
    scales: tuple[str, ...] = ("epci",)
    years: tuple[int, ...] = ()
    moves: bool = False


@dataclass(frozen=True)
class RunPlan:
    """One run of the experiment: a scenario, a replicate, its seed and its uncertainty draw.

    Attributes:
        run_id: ``<scenario>-r<replicate, 3 digits>``.
        scenario_name: Name of the scenario.
        replicate: Replicate number, ``0 .. replicates-1``.
        scenario: The model scenario with the replicate's uncertainty values applied.
        seed_entropy: Entropy of the run's SeedSequence (the experiment's root seed).
        spawn_key: Spawn key of the run's SeedSequence, ``(replicate,)``.
        levers: Values of the parameters that vary between scenarios (dotted path → value).
        uncertain: The replicate's uncertainty values (dotted path → value).
        config_hash: ``scenario.config_hash()``, checked when a run is resumed.
    """

    run_id: str
    scenario_name: str
    replicate: int
    scenario: Scenario
    seed_entropy: int
    spawn_key: tuple[int, ...]
    levers: Mapping[str, Any]
    uncertain: Mapping[str, float]
    config_hash: str

    def seed(self) -> np.random.SeedSequence:
        """Return the run's SeedSequence."""
        return np.random.SeedSequence(self.seed_entropy, spawn_key=self.spawn_key)


@dataclass(frozen=True)
class Experiment:
    """A resolved, validated experiment.

    Build it with :func:`load_experiment` or :func:`experiment_from_dict`.

    Attributes:
        name: Experiment name.
        description: Free text.
        source: File it was read from (``"<dict>"`` when built from a mapping).
        years: Horizon of every run, in years.
        replicates: Replicates per scenario (≥ 1).
        seed: Root seed; replicate ``r`` uses ``SeedSequence(seed).spawn(replicates)[r]``.
        base: Base scenario (territory, horizon, base levers and behaviour).
        scenarios: The scenarios, explicit list first, then the grid points.
        uncertainties: Uncertain parameters, sampled once per replicate.
        outputs: Indicators and scales kept, years of the summary, move logs.
        reference: Name of the scenario the summary's paired differences refer to.
        texts: Presentation texts (:data:`EXPERIMENT_TEXT_KEYS` → text), e.g. ``question_fr``.
    """

    name: str
    description: str
    source: str
    years: int
    replicates: int
    seed: int
    base: Scenario
    scenarios: tuple[ScenarioEntry, ...]
    uncertainties: tuple[Uncertainty, ...]
    outputs: Outputs
    reference: str
    texts: tuple[tuple[str, str], ...] = ()

    # -- derived settings ------------------------------------------------------------------------
    @property
    def territory(self) -> TerritorySpec:
        """Territory source and scale of every run."""
        return self.base.territory

    @property
    def summary_years(self) -> tuple[int, ...]:
        """Years reported in the summary (the final year when none is given)."""
        return self.outputs.years or (self.years,)

    @property
    def scenario_names(self) -> tuple[str, ...]:
        """Names of the scenarios, in order."""
        return tuple(s.name for s in self.scenarios)

    @property
    def varying(self) -> tuple[str, ...]:
        """Parameter paths set by at least one scenario, in order of first appearance."""
        seen: dict[str, None] = {}
        for s in self.scenarios:
            for path, _ in s.overrides:
                seen.setdefault(path, None)
        return tuple(seen)

    def with_settings(self, *, scale: float | None = None, years: int | None = None,
                      replicates: int | None = None, source: str = "overrides") -> Experiment:
        """Return a copy with another territory scale, horizon or number of replicates.

        Summary years beyond a shortened horizon are dropped (the final year is used if none is
        left). The uncertainty sample is redrawn for the new number of replicates, since a Latin
        hypercube depends on its size; the replicate seeds of the first replicates do not change.

        Raises:
            InputError: naming ``source`` and the setting when a value is out of range.
        """
        exp = self
        if replicates is not None:
            if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
                raise InputError(f"got {replicates!r}; expected a whole number ≥ 1",
                                 source=source, field="replicates")
            exp = dataclasses.replace(exp, replicates=replicates)
        if scale is None and years is None:
            return exp
        try:
            territory = TerritorySpec(source=exp.territory.source,
                                      scale=exp.territory.scale if scale is None else scale)
            change: dict[str, Any] = {"territory": territory}
            if years is not None:
                change["years"] = years
            base = dataclasses.replace(exp.base, **change)
        except InputError as err:
            raise InputError(err.detail, source=source, field=err.field) from None
        scenarios = tuple(dataclasses.replace(s, scenario=dataclasses.replace(s.scenario, **change))
                          for s in exp.scenarios)
        outputs = exp.outputs
        if years is not None:
            outputs = dataclasses.replace(outputs, years=tuple(y for y in outputs.years
                                                               if y <= base.years))
        return dataclasses.replace(exp, base=base, years=base.years, scenarios=scenarios,
                                   outputs=outputs)

    # -- seeds and runs --------------------------------------------------------------------------
    def replicate_seeds(self) -> list[np.random.SeedSequence]:
        """One SeedSequence per replicate, spawned from the root seed, shared by all scenarios."""
        return np.random.SeedSequence(self.seed).spawn(self.replicates)

    def uncertainty_sample(self) -> list[dict[str, float]]:
        """Draw the uncertainty values of each replicate (a Latin hypercube over the ranges).

        The hypercube is seeded by ``SeedSequence(seed, spawn_key=(UNCERTAINTY_KEY,))``: the same
        experiment gives the same values; they are also stored per run in ``runs.parquet``.
        """
        if not self.uncertainties:
            return [{} for _ in range(self.replicates)]
        rng = np.random.default_rng(np.random.SeedSequence(self.seed,
                                                           spawn_key=(UNCERTAINTY_KEY,)))
        unit = latin_hypercube(self.replicates, len(self.uncertainties), rng)
        lows = np.array([u.low for u in self.uncertainties])
        highs = np.array([u.high for u in self.uncertainties])
        values = lows + unit * (highs - lows)
        return [{u.path: float(values[r, j]) for j, u in enumerate(self.uncertainties)}
                for r in range(self.replicates)]

    def runs(self) -> list[RunPlan]:
        """Every run, replicate by replicate (all scenarios of replicate 0 first)."""
        seeds = self.replicate_seeds()
        draws = self.uncertainty_sample()
        varying = self.varying
        plans = []
        for r, (seq, draw) in enumerate(zip(seeds, draws, strict=True)):
            for s in self.scenarios:
                scenario = s.scenario
                if draw:
                    scenario = scenario.with_overrides(draw, source=self.source)
                plans.append(RunPlan(
                    run_id=run_id(s.name, r), scenario_name=s.name, replicate=r,
                    scenario=scenario, seed_entropy=int(seq.entropy),
                    spawn_key=tuple(int(k) for k in seq.spawn_key),
                    levers={p: _get(scenario, p) for p in varying}, uncertain=draw,
                    config_hash=scenario.config_hash()))
        return plans

    # -- identity and provenance -----------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """Everything that determines the runs' results (JSON-serialisable).

        The name, description, reference scenario and summary years are left out: changing them
        only changes the summary, which is recomputed from the stored runs.
        """
        return {
            "format": FORMAT_VERSION,
            "territory": {"source": self.territory.source, "scale": self.territory.scale},
            "years": self.years,
            "replicates": self.replicates,
            "seed": str(self.seed),
            "scenarios": {s.name: s.scenario.config_hash() for s in self.scenarios},
            "uncertainties": [[u.path, u.low, u.high] for u in self.uncertainties],
            "outputs": {"indicators": list(self.outputs.indicators),
                        "scales": list(self.outputs.scales), "moves": self.outputs.moves},
        }

    def fingerprint(self) -> str:
        """Short hash of :meth:`identity`; a ``--out`` folder only resumes the same fingerprint."""
        blob = json.dumps(self.identity(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_toml(self) -> str:
        """Write the resolved experiment as TOML.

        Every lever and behaviour value is written out and the grid is expanded into named
        scenarios; :func:`load_experiment` reads it back to the same runs.
        """
        head = {"name": self.name, "description": self.description, "years": self.years,
                "replicates": self.replicates, "seed": self.seed, "reference": self.reference,
                **dict(self.texts)}
        parts = [to_toml(head),
                 to_toml({"territory": dataclasses.asdict(self.territory)}),
                 "# base levers and behaviour of every scenario (all values written out)",
                 to_toml({"levers": dataclasses.asdict(self.base.levers)}),
                 to_toml({"behaviour": dataclasses.asdict(self.base.behaviour)})]
        for s in self.scenarios:
            entry: dict[str, Any] = {"name": s.name}
            if s.scenario.description:
                entry["description"] = s.scenario.description
            entry.update(s.texts)
            body = to_toml(entry)
            for path, value in s.overrides:
                body += "\n" + to_toml({f'"{path}"': value})
            origin = "  # from the grid" if s.origin == "grid" else ""
            parts.append(f"[[scenarios]]{origin}\n{body}")
        if self.uncertainties:
            parts.append("[uncertainties]\n" + "\n".join(
                to_toml({f'"{u.path}"': [u.low, u.high]}) for u in self.uncertainties))
        o = self.outputs
        parts.append(to_toml({"outputs": {"indicators": list(o.indicators),
                                          "scales": list(o.scales), "years": list(o.years),
                                          "moves": o.moves}}))
        return "\n\n".join(parts) + "\n"

    def scenario_table(self) -> list[dict[str, Any]]:
        """One row per scenario: name, origin and the values of the varying parameters."""
        return [{"scenario": s.name, "origin": s.origin,
                 **{p: _get(s.scenario, p) for p in self.varying}} for s in self.scenarios]


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` points in ``[0, 1)^d``, one in each of the ``n`` equal strata of every axis.

    Latin hypercube sampling (McKay, Beckman & Conover 1979, Technometrics 21, 239–245): on each
    axis, the strata ``[k/n, (k+1)/n)`` are shuffled independently and a point is drawn uniformly
    inside its stratum. Every replicate then sees a different part of each range.
    """
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1)
    return (strata + rng.random((n, d))) / n


def run_id(scenario: str, replicate: int) -> str:
    """Name a run: ``<scenario>-r<replicate>``, the replicate on at least 3 digits."""
    return f"{scenario}-r{replicate:03d}"


def _get(scenario: Scenario, path: str) -> Any:
    obj: Any = scenario
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


# ------------------------------------------------------------------------------------------------
# Loading and validation
# ------------------------------------------------------------------------------------------------


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file (format: ``docs/experiments.md``).

    Raises:
        InputError: naming the file, the field and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "file not found"
        raise InputError(what, source=str(path))
    return experiment_from_dict(parse_toml_file(path), source=str(path), base_dir=path.parent)


def experiment_from_dict(data: Mapping[str, Any], *, source: str = "<dict>",
                         base_dir: str | Path | None = None) -> Experiment:
    """Build and validate an experiment from the nested mapping a TOML file gives.

    Args:
        data: The file's content (see ``docs/experiments.md``).
        source: Where it came from, named in error messages.
        base_dir: Folder that relative paths (``base``, ``territory.source``) start from
            (default: the current folder).

    Raises:
        InputError: naming ``source``, the field and what is allowed.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"expected a table, got {data!r}", source=source)
    base_dir = Path(base_dir) if base_dir is not None else Path()
    for key in data:
        if key not in _TOP_KEYS:
            raise InputError(_unknown(key, _TOP_KEYS), source=source, field=key)

    name = _string(data, "name", source, default="experiment")
    description = _string(data, "description", source, default="")
    replicates = _integer(data, "replicates", source, default=10, lo=1)
    seed = _integer(data, "seed", source, default=0, lo=0, hi=2**63 - 1)

    base = _base_scenario(data, source, base_dir, seed)
    years = base.years
    entries = _explicit_scenarios(data.get("scenarios"), base, source)
    entries += _grid_scenarios(data, base, source)
    if not entries:
        raise InputError("no scenario: give a [[scenarios]] list and/or a [grid] of lever "
                         "values", source=source, field="scenarios")
    names = [e.name for e in entries]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise InputError(f"two scenarios are named {n!r}; names must be unique",
                             source=source, field="scenarios")

    uncertainties = _uncertainties(data.get("uncertainties"), source, entries)
    outputs = _outputs(data.get("outputs"), source, years)
    reference = _string(data, "reference", source, default=names[0])
    if reference not in names:
        raise InputError(_unknown(reference, names, what="scenario"), source=source,
                         field="reference")
    return Experiment(name=name, description=description, source=source, years=years,
                      replicates=replicates, seed=seed, base=base, scenarios=tuple(entries),
                      uncertainties=uncertainties, outputs=outputs, reference=reference,
                      texts=_texts(data, EXPERIMENT_TEXT_KEYS, source, ""))


def _texts(table: Mapping[str, Any], keys: tuple[str, ...], source: str, where: str
           ) -> tuple[tuple[str, str], ...]:
    """Return the presentation texts of a table (``title_en`` ...), each checked to be a string."""
    out = []
    for key in keys:
        if key in table:
            if not isinstance(table[key], str):
                raise InputError(f"got {table[key]!r}; expected a string", source=source,
                                 field=f"{where}{key}")
            out.append((key, table[key]))
    return tuple(out)


def _base_scenario(data: Mapping[str, Any], source: str, base_dir: Path, seed: int) -> Scenario:
    """Build the base scenario: the ``base`` scenario file (if any), then the file's tables."""
    if "base" in data:
        ref = data["base"]
        if not isinstance(ref, str):
            raise InputError(f"got {ref!r}; expected the path of a scenario file",
                             source=source, field="base")
        start = load_scenario(base_dir / ref).to_dict()
    else:
        start = Scenario().to_dict()
    for key in ("territory", "levers", "behaviour"):
        if key in data:
            if not isinstance(data[key], Mapping):
                raise InputError(f"expected a table, got {data[key]!r}", source=source, field=key)
            deep_merge(start[key], data[key])
    if "years" in data:
        start["years"] = data["years"]
    src = start["territory"].get("source")
    if isinstance(src, str) and src != "default" and not Path(src).is_absolute():
        start["territory"]["source"] = str((base_dir / src).resolve())
    start.update(name="base", description="", seed=seed)
    return from_dict(Scenario, start, source=source)


def _explicit_scenarios(items: Any, base: Scenario, source: str) -> list[ScenarioEntry]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise InputError("expected a list of tables ([[scenarios]] entries)", source=source,
                         field="scenarios")
    entries = []
    for i, item in enumerate(items):
        where = f"scenarios[{i}]"
        if "name" not in item:
            raise InputError("every scenario needs a name", source=source, field=where)
        name = _name(item["name"], source, f"{where}.name")
        where = f"scenarios[{i}] ({name})"
        description = item.get("description", "")
        if not isinstance(description, str):
            raise InputError(f"got {description!r}; expected a string", source=source,
                             field=f"{where}.description")
        plain = ("name", "description") + SCENARIO_TEXT_KEYS
        overrides = _parameter_paths({k: v for k, v in item.items() if k not in plain},
                                     source, where)
        scenario = _apply(base, overrides, source, where)
        entries.append(ScenarioEntry(name=name, overrides=tuple(overrides.items()),
                                     scenario=dataclasses.replace(scenario, name=name,
                                                                  description=description),
                                     texts=_texts(item, SCENARIO_TEXT_KEYS, source,
                                                  f"{where}.")))
    return entries


def _grid_scenarios(data: Mapping[str, Any], base: Scenario, source: str) -> list[ScenarioEntry]:
    if "grid" not in data:
        return []
    grid = data["grid"]
    if not isinstance(grid, Mapping):
        raise InputError(f"expected a table of lever paths and value lists, got {grid!r}",
                         source=source, field="grid")
    axes = _parameter_paths(grid, source, "grid")
    if not axes:
        raise InputError('empty grid: give at least one lever path with a list of values, e.g. '
                         '"levers.quota_q1.enforcement" = ["none", "strict"]', source=source,
                         field="grid")
    for path, values in axes.items():
        if not isinstance(values, list):
            raise InputError(f"got {values!r}; expected a list of values", source=source,
                             field=f"grid.{path}")
        if not values:
            raise InputError("empty list of values; give at least one", source=source,
                             field=f"grid.{path}")
        seen = set()
        for v in values:
            key = (type(v).__name__, repr(v))
            if key in seen:
                raise InputError(f"value {v!r} is listed twice", source=source,
                                 field=f"grid.{path}")
            seen.add(key)
    labels = _short_labels(list(axes))
    entries = []
    for combo in itertools.product(*axes.values()):
        overrides = dict(zip(axes, combo, strict=True))
        name = ",".join(f"{labels[p]}={_format(v)}" for p, v in overrides.items())
        _name(name, source, "grid")
        scenario = _apply(base, overrides, source, "grid")
        description = "grid: " + ", ".join(f"{p} = {v!r}" for p, v in overrides.items())
        entries.append(ScenarioEntry(name=name, overrides=tuple(overrides.items()),
                                     scenario=dataclasses.replace(scenario, name=name,
                                                                  description=description),
                                     origin="grid"))
    return entries


def _uncertainties(table: Any, source: str, entries: Sequence[ScenarioEntry]
                   ) -> tuple[Uncertainty, ...]:
    if table is None:
        return ()
    if not isinstance(table, Mapping):
        raise InputError(f"expected a table of parameter paths and [low, high] ranges, got "
                         f"{table!r}", source=source, field="uncertainties")
    fields_by_path = {name: f for name, f, _ in iter_parameters(Scenario())}
    set_by_scenarios = {p for e in entries for p, _ in e.overrides}
    out = []
    for path, rng in _parameter_paths(table, source, "uncertainties").items():
        where = f"uncertainties.{path}"
        f = fields_by_path.get(path)
        if f is None:  # an unknown path: with_overrides names it with a did-you-mean
            _apply(Scenario(), {path: None}, source, "uncertainties")
            raise InputError("not a parameter; see `mixsim levers`", source=source, field=where)
        if f.type is not float:
            raise InputError("only real-valued parameters can be uncertain (this one is "
                             f"{f.type.__name__ if isinstance(f.type, type) else f.type})",
                             source=source, field=where)
        low, high = parse_range(rng, source=source, field=where, kind="float",
                                allowed=(f.metadata.get("lo"), f.metadata.get("hi"))).as_tuple()
        if path in set_by_scenarios:
            raise InputError("is also set by a scenario or the grid; a parameter is either a "
                             "lever of the scenarios or an uncertainty", source=source,
                             field=where)
        out.append(Uncertainty(path=path, low=low, high=high))
    return tuple(out)


def _outputs(table: Any, source: str, years: int) -> Outputs:
    if table is None:
        return Outputs()
    if not isinstance(table, Mapping):
        raise InputError(f"expected a table, got {table!r}", source=source, field="outputs")
    for key in table:
        if key not in _OUTPUT_KEYS:
            raise InputError(_unknown(key, _OUTPUT_KEYS), source=source, field=f"outputs.{key}")
    scales = _string_list(table, "scales", source, default=["epci"])
    if not scales:
        raise InputError(f"empty list; give at least one of {', '.join(SCALES)}",
                         source=source, field="outputs.scales")
    for s in scales:
        if s not in SCALES:
            raise InputError(_unknown(s, SCALES, what="scale"), source=source,
                             field="outputs.scales")
    indicators = _string_list(table, "indicators", source, default=[])
    if indicators:
        known = known_indicators()
        available = sorted(set().union(*(known.get(s, set()) for s in scales)))
        for name in indicators:
            if name not in available:
                hint = difflib.get_close_matches(name, available, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise InputError(f"unknown indicator {name!r}{extra} at the scales "
                                 f"{', '.join(scales)}; `docs/indicators.md` lists them",
                                 source=source, field="outputs.indicators")
    summary_years = table.get("years", [])
    if (not isinstance(summary_years, list)
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in summary_years)):
        raise InputError(f"got {summary_years!r}; expected a list of whole years",
                         source=source, field="outputs.years")
    for y in summary_years:
        if not 0 <= y <= years:
            raise InputError(f"year {y} is outside the horizon 0..{years}", source=source,
                             field="outputs.years")
    moves = table.get("moves", False)
    if not isinstance(moves, bool):
        raise InputError(f"got {moves!r}; expected true or false", source=source,
                         field="outputs.moves")
    return Outputs(indicators=tuple(dict.fromkeys(indicators)), scales=tuple(dict.fromkeys(scales)),
                   years=tuple(sorted(set(summary_years))), moves=moves)


def known_indicators() -> dict[str, frozenset[str]]:
    """List the indicator names at each scale, from the catalogue (docs/indicators.md).

    Read from :data:`mixsim.model.indicators.catalogue.CATALOGUE`, the fixed list a test checks
    against what a run records; no model is run.
    """
    return {s: frozenset(names_at(s)) for s in SCALES}


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------


def _unknown(key: str, allowed: Sequence[str], what: str = "key") -> str:
    hint = difflib.get_close_matches(str(key), list(allowed), n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown {what} {key!r}{extra}; allowed: {', '.join(allowed)}"


def _string(data: Mapping[str, Any], key: str, source: str, *, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise InputError(f"got {value!r}; expected a string", source=source, field=key)
    return value


def _string_list(data: Mapping[str, Any], key: str, source: str, *, default: list[str]
                 ) -> list[str]:
    value = data.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"got {value!r}; expected a list of names", source=source,
                         field=f"outputs.{key}")
    return value


def _integer(data: Mapping[str, Any], key: str, source: str, *, default: int, lo: int,
             hi: int | None = None) -> int:
    value = data.get(key, default)
    allowed = f"a whole number ≥ {lo}" if hi is None else f"a whole number from {lo} to {hi}"
    if (isinstance(value, bool) or not isinstance(value, int) or value < lo
            or (hi is not None and value > hi)):
        raise InputError(f"got {value!r}; expected {allowed}", source=source, field=key)
    return value


def _name(value: Any, source: str, where: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise InputError(f"got {value!r}; a scenario name is 1 to 100 letters, digits or "
                         "_ . = + , - (it names files), starting with a letter or digit",
                         source=source, field=where)
    return value


def _parameter_paths(table: Mapping[str, Any], source: str, where: str) -> dict[str, Any]:
    """Flatten nested tables to dotted parameter paths.

    ``[grid.levers.quota_q1] share = [...]``, the dotted key ``levers.quota_q1.share = [...]`` and
    the quoted ``"levers.quota_q1.share" = [...]`` are the same path; every path must start with
    ``levers.`` or ``behaviour.``.
    """
    flat: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for k, v in node.items():
            path = f"{prefix}{k}"
            if isinstance(v, Mapping) and not v:  # an empty table: its name must exist
                _check_table(path, source, where)
            elif isinstance(v, Mapping):
                walk(v, path + ".")
            elif path in flat:
                raise InputError("is given twice", source=source, field=f"{where}.{path}")
            else:
                flat[path] = v

    walk(table, "")
    for path in flat:
        root = path.split(".", 1)[0]
        if root not in PARAMETER_ROOTS or "." not in path:
            hint = difflib.get_close_matches(root, PARAMETER_ROOTS, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint and hint[0] != root else ""
            raise InputError(f"a parameter path starts with 'levers.' or 'behaviour.'{extra}, "
                             "e.g. levers.quota_q1.share; see `mixsim levers`", source=source,
                             field=f"{where}.{path}")
    return flat


def _check_table(path: str, source: str, where: str) -> None:
    node: Any = Scenario().to_dict()
    for i, part in enumerate(path.split(".")):
        if not isinstance(node, dict) or part not in node:
            allowed = list(node) if isinstance(node, dict) else []
            raise InputError(_unknown(part, allowed), source=source,
                             field=f"{where}." + ".".join(path.split(".")[: i + 1]))
        node = node[part]


def _apply(base: Scenario, overrides: Mapping[str, Any], source: str, where: str) -> Scenario:
    """``base.with_overrides`` with the error's field prefixed by where it is in the file."""
    try:
        return base.with_overrides(overrides, source=source)
    except InputError as err:
        raise InputError(err.detail, source=source,
                         field=f"{where}.{err.field}" if err.field else where) from None


def _short_labels(paths: Sequence[str]) -> dict[str, str]:
    """Give each path its shortest dotted suffix that tells it apart from the other paths."""
    labels = {}
    for p in paths:
        parts = p.split(".")
        for n in range(1, len(parts) + 1):
            label = ".".join(parts[-n:])
            if sum(q == label or q.endswith("." + label) for q in paths) == 1:
                break
        labels[p] = label
    return labels


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)
