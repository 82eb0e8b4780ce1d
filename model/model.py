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

from .applications import commune_weights, update_q1_threshold
from .config import Behaviour, Levers, Scenario
from .moves import MoveLog, compact_households
from .population import build_state
from .processes.allocation import AllocationResult, allocate
from .processes.attractiveness import anchor_base, update_attractiveness
from .processes.demography import demography
from .processes.income import over_ceiling, yearly_income
from .processes.intentions import give_up_seeking, move_intentions
from .processes.policy import policy_events
from .processes.private_market import (
    arrivals,
    private_construction,
    private_market,
    settle_arrivals,
    yearly_private_rents,
)
from .recorder import Recorder
from .state import State, update_quartiles
from .territory import Territory, load_territory


def advance_month(s: State, L: Levers, B: Behaviour, rng: np.random.Generator, log: MoveLog,
                  scale: float, first_month: int = 0) -> AllocationResult:
    """Run one month of the schedule of ODD §3 on ``s`` (January: the yearly updates first).

    Returns:
        The month's allocation outcome. ``s.month`` is one more on return.
    """
    if s.month % 12 == 0 and s.month != first_month:
        new_year(s, B, rng)
    demography(s, B, rng, log, L.information.wish_breadth)
    over_ceiling(s, L.over_income)
    move_intentions(s, B, L, rng, log)
    private_market(s, B, rng, log)
    arrivals(s, B, rng, L.information.wish_breadth)
    private_market(s, B, rng, log, only=s.pending_arrivals)
    settle_arrivals(s, log)
    give_up_seeking(s, rng)
    policy_events(s, L, rng, log, scale, B)
    result = allocate(s, L, B, rng, log)
    update_attractiveness(s, B, rng)
    s.month += 1
    return result


def new_year(s: State, B: Behaviour, rng: np.random.Generator) -> None:
    """January: incomes, quartiles, Q1 threshold, private rents and stock, yearly counters.

    The rows of households that ended are dropped first when they are over 5 % of the
    table (:func:`~model.moves.compact_households`), so that a month's cost follows the living
    households.
    """
    if s.hh.n - int(s.hh.alive.sum()) > COMPACT_SHARE * s.hh.n:
        compact_households(s)
    yearly_income(s, B, rng)
    update_quartiles(s)
    update_q1_threshold(s)
    yearly_private_rents(s, B)
    private_construction(s, B, rng)
    s.commune_w = commune_weights(s)
    s.counters.clear()


COMPACT_SHARE = 0.05  # dead rows (share of the table) above which they are compacted away


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
    """

    def __init__(self, scenario: Scenario | None = None, *, territory: Territory | None = None,
                 rng: int | np.random.SeedSequence | None = None, run_id: str = "run",
                 composition_years=None, record_years=None, spin_up_years: int | None = None):
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
                                       self.behaviour, **today_options())
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
