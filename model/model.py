"""HousingModel: the monthly schedule of ODD §3 on column arrays, as a ``mesa.Model``.

Households and dwellings are numpy columns (see :mod:`mixsim.model.state`); neighbourhoods are also
exposed as :class:`Neighbourhood` Mesa agents so that Mesa users can inspect them. Every random
draw goes through the model's one ``numpy.random.Generator`` (``self.rng``).
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import mesa
import numpy as np

from .config import Behaviour, Scenario
from .moves import MoveLog
from .population import build_state
from .processes.attractiveness import anchor_base
from .recorder import Recorder
from .schedule import COMPACT_SHARE, advance_month, new_year  # noqa: F401 (re-exported)
from .state import State
from .territory import Territory, load_territory


def as_seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """Return a SeedSequence from an int, a SeedSequence or None (fresh OS entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


_INITIAL_STATES: OrderedDict = OrderedDict()  # see initial_state
INITIAL_STATES_KEPT = 2


def initial_state(territory: Territory, rng: np.random.Generator, spin_up_years: int = 0,
                  behaviour: Behaviour | None = None, **options) -> State:
    """Return the initial state: :func:`~model.population.build_state`'s, spun up (:mod:`.spinup`).

    Without a spin-up, the synthetic population is drawn with ``rng`` and depends on the
    territory, the generator's state and the options. With one (``spin_up_years > 0``), the
    population is drawn and spun up with a generator of its own, seeded from the territory
    (:func:`~model.spinup.spin_up_seed`): the initial state is the territory's equilibrium
    under ``behaviour`` (:func:`~model.spinup.spin_up_rules`; default: the defaults), the
    same for every seed of an ensemble, and ``rng`` is left untouched — a run's seed drives
    its years from 0 on. Ensembles and sensitivity analyses build the same states again and
    again: the last ``INITIAL_STATES_KEPT`` are kept in memory (with the generator's state
    after building when ``rng`` drew them) and spun-up states on disk too; a repeated build
    is a copy.
    """
    from . import spinup

    if spin_up_years > 0:
        key = ("spun", int(spin_up_years), repr(sorted(options.items())),
               repr(spinup.spin_up_rules(behaviour)[1]))
    else:
        key = ("drawn", repr(rng.bit_generator.state), repr(sorted(options.items())))
    hit = _INITIAL_STATES.get(key)
    if hit is not None and hit[0] is territory:  # (the entry keeps its territory alive)
        _INITIAL_STATES.move_to_end(key)
        if hit[2] is not None:
            rng.bit_generator.state = hit[2]
        return copy.deepcopy(hit[1])
    if spin_up_years > 0:
        after = None
        disk_key = spinup.cache_key(territory, spin_up_years, options, behaviour)
        state = spinup.load_cached(disk_key)
        if state is None:
            own = np.random.default_rng(spinup.spin_up_seed(territory))
            state = build_state(territory, own, **options)
            spinup.spin_up(state, own, spin_up_years, territory.scale, behaviour)
            spinup.store_cached(disk_key, state)
    else:
        state = build_state(territory, rng, **options)
        after = rng.bit_generator.state
    _INITIAL_STATES[key] = (territory, copy.deepcopy(state), after)
    _INITIAL_STATES.move_to_end(key)
    while len(_INITIAL_STATES) > INITIAL_STATES_KEPT:
        _INITIAL_STATES.popitem(last=False)
    return state


class Neighbourhood(mesa.Agent):
    """A neighbourhood (IRIS-like unit) seen as a Mesa agent; its state lives in the arrays."""

    def __init__(self, model: HousingModel, index: int):
        super().__init__(model)
        self.index = index

    @property
    def name(self) -> str:
        """Neighbourhood id."""
        return self.model.state.nb.ids[self.index]

    @property
    def qpv(self) -> bool:
        """Priority neighbourhood (quartier prioritaire de la politique de la ville)."""
        return bool(self.model.state.nb.qpv[self.index])

    @property
    def attractiveness(self) -> float:
        """Current attractiveness."""
        return float(self.model.state.nb.attractiveness[self.index])


class HousingModel(mesa.Model):
    """Residential trajectories in social housing (ODD §2–§3).

    Args:
        scenario: Levers, behaviour and run settings (defaults: today's rules).
        territory: A loaded territory; by default the scenario's (embedded default, scaled).
        rng: Seed (int or ``numpy.random.SeedSequence``); defaults to ``scenario.seed``.
        run_id: Identifier written in the indicator rows.
        composition_years: Years whose composition indicators are recorded (default: every
            year; see :class:`~model.recorder.Recorder`).
        record_years: Years whose indicator rows are recorded at all (default: every year).
        spin_up_years: Years run before year 0 under today's rules, not recorded (default
            :data:`~model.spinup.SPIN_UP_YEARS`; 0 starts from the synthetic population as
            drawn). See :mod:`mixsim.model.spinup`.
        spin_up_behaviour: Behaviour the spin-up runs (default: the scenario's own, so that the
            run starts from its own equilibrium). Another behaviour — a sensitivity analysis's
            base scenario — makes every run start from that behaviour's spun-up state, the
            scenario's behaviour then acting from year 0 like a lever.
    """

    def __init__(self, scenario: Scenario | None = None, *, territory: Territory | None = None,
                 rng: int | np.random.SeedSequence | None = None, run_id: str = "run",
                 composition_years=None, record_years=None, spin_up_years: int | None = None,
                 spin_up_behaviour: Behaviour | None = None):
        from .spinup import SPIN_UP_YEARS
        scenario = scenario or Scenario()
        seq = as_seed_sequence(scenario.seed if rng is None else rng)
        super().__init__(rng=seq)
        # our own generator from the same SeedSequence: identical stream whatever Mesa's version
        # does with ``rng`` internally (Mesa may draw from it to seed ``self.random``)
        self.rng = np.random.default_rng(seq)
        self.seed_sequence = seq
        self.config = scenario  # (not `scenario`: Mesa 3.5 reserves that name)
        self.levers = scenario.levers
        self.behaviour = scenario.behaviour
        self.territory = territory or load_territory(scenario.territory.source,
                                                     scenario.territory.scale)
        self.spin_up_years = SPIN_UP_YEARS if spin_up_years is None else int(spin_up_years)
        options = {"holder_shares": self.levers.reservation.shares(),
                   "wish_breadth": self.levers.information.wish_breadth}
        if self.spin_up_years > 0:
            # the spun-up state is today's rules with the scenario's behaviour, the same for
            # every scenario of a behaviour (paired comparisons of levers start from one
            # state); the scenario's options then apply from year 0
            from .spinup import apply_options, today_options
            self.state = initial_state(self.territory, self.rng, self.spin_up_years,
                                       spin_up_behaviour or self.behaviour, **today_options())
            apply_options(self.state, self.rng, self.territory, **options)
        else:
            self.state = initial_state(self.territory, self.rng, 0, **options)
        anchor_base(self.state, self.behaviour)
        self.attractiveness_start = self.state.nb.attractiveness.copy()
        self._first_month = self.state.month
        self.log = MoveLog()
        self.log.bind(self.state.hh)
        self.recorder = Recorder(run_id, composition_years, record_years)
        self.neighbourhoods = [Neighbourhood(self, j) for j in range(len(self.state.nb))]
        hh = self.state.hh
        self.cohort_start = {"hid": hh.hid.copy(), "nbhd": hh.nbhd.copy(),
                             "tenure": hh.tenure.copy(),
                             "quartile": hh.quartile.copy(), "dwelling": hh.dwelling.copy()}
        self.recorder.start(self.state, self.log)
        self.last_allocation = None

    @property
    def month(self) -> int:
        """Months simulated so far."""
        return self.state.month

    def step(self) -> None:
        """One month: the processes of ODD §3 in order."""
        s = self.state
        self.last_allocation = advance_month(s, self.levers, self.behaviour, self.rng, self.log,
                                             self.territory.scale, self._first_month)
        self.recorder.month(self.last_allocation)
        if s.month % 12 == 0 and s.month > 0:
            self.recorder.end_year(s, self.log, s.month // 12)

    def run(self, years: int, progress=None) -> None:
        """Run ``years`` years of monthly steps; ``progress(done, total)`` is called each month."""
        total = 12 * years
        for k in range(total):
            self.step()
            if progress is not None:
                progress(k + 1, total)
        self.recorder.finish(self.state, self.cohort_start, self.attractiveness_start)
