"""The monthly schedule of ODD §3: one month of every process, and the yearly updates.

Shared by the model (:class:`~model.model.HousingModel`) and its spin-up
(:func:`~model.spinup.spin_up`), which import it; it imports neither.
"""

from __future__ import annotations

import numpy as np

from .applications import commune_weights, update_q1_threshold
from .config import Behaviour, Levers
from .moves import MoveLog, compact_households
from .processes.allocation import AllocationResult, allocate
from .processes.attractiveness import update_attractiveness
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
from .state import State, update_quartiles


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
