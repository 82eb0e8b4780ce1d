"""Python API used by notebooks, the command line and the experiment runner.

>>> from mixsim.model import run_scenario, Scenario
>>> result = run_scenario(Scenario(years=2), scale=0.05, seed=1)
>>> result.yearly()[["q1_share_in_qpv", "q1_share_leases_outside_qpv"]]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .config import Behaviour, Scenario, TerritorySpec
from .model import HousingModel, as_seed_sequence
from .territory import Territory, load_territory


@dataclass(frozen=True)
class RunResult:
    """Named result of one run.

    Attributes:
        run_id: Identifier of the run (also in every indicator row).
        scenario: The scenario that was run (with years/scale overrides applied).
        config_hash: Hash of the scenario's parameters.
        seed_entropy: Entropy of the run's SeedSequence.
        spawn_key: Spawn key of the run's SeedSequence (empty for a root seed).
        indicators: Tidy table (run_id, year, month, scale, unit, register, indicator, value).
        moves: Move log (household, month, from/to dwelling and neighbourhood, kind).
        neighbourhoods: Neighbourhood attributes (id, commune, qpv, x, y, attractiveness at the
            start and at the end).
        wall_time: Seconds spent running.
    """

    run_id: str
    scenario: Scenario
    config_hash: str
    seed_entropy: int
    spawn_key: tuple[int, ...]
    indicators: pd.DataFrame
    moves: pd.DataFrame
    neighbourhoods: pd.DataFrame
    cohort: pd.DataFrame
    wall_time: float

    def yearly(self, scale: str = "epci", unit: str = "EPCI") -> pd.DataFrame:
        """Wide table: one row per year, one column per indicator of one unit."""
        df = self.indicators
        sel = df[(df.scale == scale) & (df.unit == unit)]
        return sel.pivot_table(index="year", columns="indicator", values="value",
                               aggfunc="first", observed=True)

    def indicator(self, name: str, scale: str = "epci", unit: str = "EPCI") -> pd.Series:
        """One indicator by year; raises KeyError naming close matches if it does not exist."""
        wide = self.yearly(scale, unit)
        if name not in wide.columns:
            import difflib
            close = difflib.get_close_matches(name, list(wide.columns), n=3)
            raise KeyError(f"no indicator {name!r} at {scale}/{unit}; close: {close}")
        return wide[name]


@lru_cache(maxsize=8)
def cached_territory(source: str, scale: float) -> Territory:
    """Return :func:`load_territory` ``(source, scale)``, kept for this process (8 most recent).

    A run, an ensemble's worker or a command that checks a territory's size before running it
    loads each territory once. The territory is shared: callers must not modify it.
    """
    return load_territory(source, scale)


#: Former private name of :func:`cached_territory`, kept for code written against it.
_cached_territory = cached_territory


def build_model(scenario: Scenario | None = None, *, seed: int | np.random.SeedSequence | None
                = None, territory: Territory | None = None, run_id: str = "run",
                composition_years=None, record_years=None, spin_up_years: int | None = None,
                spin_up_behaviour: Behaviour | None = None) -> HousingModel:
    """Build a model from a scenario (territory loaded and scaled as the scenario says).

    ``spin_up_years``: years run before year 0 (default :data:`~model.spinup.SPIN_UP_YEARS`).
    ``spin_up_behaviour``: behaviour of the spin-up (default: the scenario's; see
    :class:`~model.model.HousingModel`).
    """
    scenario = scenario or Scenario()
    if territory is None:
        territory = cached_territory(scenario.territory.source, scenario.territory.scale)
    return HousingModel(scenario, territory=territory, rng=seed, run_id=run_id,
                        composition_years=composition_years, record_years=record_years,
                        spin_up_years=spin_up_years, spin_up_behaviour=spin_up_behaviour)


def run_scenario(scenario: Scenario | None = None, *, seed: int | np.random.SeedSequence | None
                 = None, years: int | None = None, scale: float | None = None,
                 territory: Territory | None = None, run_id: str = "run", progress=None,
                 keep_moves: bool = True, composition_years=None, record_years=None,
                 spin_up_years: int | None = None) -> RunResult:
    """Run one scenario and return its tables.

    Args:
        scenario: Scenario (defaults: today's rules on the embedded default territory).
        seed: Overrides ``scenario.seed`` (an int or a SeedSequence spawned by an ensemble).
        years: Overrides ``scenario.years``.
        scale: Overrides ``scenario.territory.scale``.
        territory: A pre-loaded territory (then ``scale`` must be None).
        run_id: Identifier written in the tables.
        progress: Optional callable ``(months_done, months_total)``.
        keep_moves: Keep the move log in the result (it can be large).
        composition_years: Years whose composition (polarisation) indicators are computed;
            None, the default, for every year. Reading a few years only is faster.
        record_years: Years whose indicator rows are recorded at all; None, the default, for
            every year (a sensitivity analysis reads its outcome years only).
        spin_up_years: Years run before year 0 under today's rules (default
            :data:`~model.spinup.SPIN_UP_YEARS`; see :mod:`mixsim.model.spinup`).
    """
    scenario = scenario or Scenario()
    if years is not None:
        scenario = dataclasses.replace(scenario, years=int(years))
    if scale is not None:
        scenario = dataclasses.replace(scenario, territory=TerritorySpec(
            source=scenario.territory.source, scale=float(scale)))
    seq = as_seed_sequence(scenario.seed if seed is None else seed)
    t0 = time.perf_counter()
    with _released_models():  # the tables hold no reference to the model
        model = build_model(scenario, seed=seq, territory=territory, run_id=run_id,
                            composition_years=composition_years, record_years=record_years,
                            spin_up_years=spin_up_years)
        model.run(scenario.years, progress=progress)
        wall = time.perf_counter() - t0
        s = model.state
        nb = s.nb
        nbdf = pd.DataFrame({
            "neighbourhood": nb.ids, "name": nb.names,
            "commune": [s.commune_ids[c] for c in nb.commune], "qpv": nb.qpv, "x": nb.x, "y": nb.y,
            "attractiveness_start": model.territory.neighbourhoods.base_attractiveness.to_numpy(),
            "attractiveness_end": nb.attractiveness.copy(),
        })
        moves = model.log.to_frame(nb.ids) if keep_moves else pd.DataFrame()
        if keep_moves:
            moves.insert(0, "run_id", run_id)
        entropy = seq.entropy if isinstance(seq.entropy, int) else int(np.asarray(seq.entropy)[0])
        cohort = cohort_table(model)
        return RunResult(run_id=run_id, scenario=scenario, config_hash=scenario.config_hash(),
                         seed_entropy=entropy, spawn_key=tuple(seq.spawn_key),
                         indicators=model.recorder.frame(), moves=moves, neighbourhoods=nbdf,
                         cohort=cohort, wall_time=wall)


def run_indicators(scenario: Scenario, *, seed: int | np.random.SeedSequence | None = None,
                   record_years=None, scale: str = "epci", unit: str = "EPCI",
                   spin_up_behaviour: Behaviour | None = None
                   ) -> dict[tuple[int, str], float]:
    """Run one scenario and return one unit's indicators by (year, name), without tables.

    The values are those of :func:`run_scenario` (``result.yearly(scale, unit)``); building no
    data frame saves some 20 ms a run, which counts in sensitivity analyses of thousands of
    short runs.

    Args:
        scenario: Scenario to run (its years, territory and, without ``seed``, seed).
        seed: Overrides ``scenario.seed``.
        record_years: Years to record (None: every year); see :class:`~model.recorder.Recorder`.
        scale: Scale of the unit (``epci``, ``commune``, ``neighbourhood``...).
        unit: The unit.
        spin_up_behaviour: Behaviour of the spin-up (default: the scenario's). A sensitivity
            analysis that starts every point from the base scenario's spun-up state passes the
            base behaviour here (see :class:`~model.model.HousingModel`).
    """
    seq = as_seed_sequence(scenario.seed if seed is None else seed)
    with _released_models():
        model = build_model(scenario, seed=seq, record_years=record_years,
                            spin_up_behaviour=spin_up_behaviour)
        model.run(scenario.years)
        return model.recorder.values(scale, unit)


@contextlib.contextmanager
def _released_models() -> Iterator[None]:
    """Drop the models created inside the block from Mesa's class-level registry of agents.

    mesa <= 3.3 keeps every model that created agents alive through ``mesa.Agent._ids`` (a dict
    keyed by model; mesa issue #3179, fixed by mesa PR #3180), so a process running many models
    (an ensemble, a sensitivity analysis, a calibration) grew by a whole model per run, and loky
    restarted its workers as leaking. Models of a failed run are dropped too.
    """
    import mesa
    ids = getattr(mesa.Agent, "_ids", None)
    known = set(ids) if isinstance(ids, dict) else set()
    try:
        yield
    finally:
        if isinstance(ids, dict):
            for model in [m for m in ids if m not in known]:
                del ids[model]


def cohort_table(model: HousingModel) -> pd.DataFrame:
    """Households present at the start: where they are at the horizon (for trajectories)."""
    from .moves import rows_of
    from .state import GONE, TENURE_NAMES
    hh, nb = model.state.hh, model.state.nb
    start = model.cohort_start
    rows = rows_of(model.state, start["hid"])  # (−1: ended and compacted away)
    found = rows >= 0
    r = np.maximum(rows, 0)
    alive = found & hh.alive[r]
    names = np.array(TENURE_NAMES, dtype=object)
    ids = np.array(list(nb.ids) + [None], dtype=object)
    return pd.DataFrame({
        "household": start["hid"],
        "tenure_start": names[start["tenure"]], "nbhd_start": ids[start["nbhd"]],
        "qpv_start": nb.qpv[start["nbhd"]], "quartile_start": start["quartile"],
        "alive_end": alive, "tenure_end": names[np.where(found, hh.tenure[r], GONE)],
        "nbhd_end": ids[np.where(alive, hh.nbhd[r], -1)],
        "qpv_end": np.where(alive, nb.qpv[hh.nbhd[r]], False),
        "quartile_end": np.where(found, hh.quartile[r], start["quartile"])})


def warm_up() -> None:
    """Compile (or load from the cache) every kernel of a month: one year at scale 0.02.

    The commands call it, with a notice, on a machine that has not compiled them yet
    (:func:`mixsim.model.jit.kernels_cached`), and the test suite at its start.
    """
    from . import jit

    run_scenario(Scenario(years=1), scale=0.02, seed=0, keep_moves=False)
    jit.mark_compiled()
