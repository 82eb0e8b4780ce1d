"""Demography (SPEC §2.1): ageing, births, children leaving home, separations, deaths.

Monthly hazards come from annual rates (orders of magnitude from INSEE: about 0.07 births per
couple-year under 45, ~1.5 % of couples separating per year, mortality of the oldest persons living
alone ~6 %/year at 75 rising ~9 % per year of age). New households (children leaving home,
separated partners) are *hosted* where they lived and look for a dwelling; some apply for social
housing.
"""

from __future__ import annotations

import numpy as np

from ..config import Behaviour
from ..moves import MoveLog, remove
from ..state import (
    APP_FIRST,
    COUPLE,
    COUPLE_CHILDREN,
    HOSTED,
    SEEK_RENT,
    SINGLE,
    SINGLE_PARENT,
    State,
    bernoulli_subset,
    household_income,
    income_from_z,
    monthly_hazard,
    open_applications,
    plus_ceiling,
)


def _fix_types(hh, idx: np.ndarray) -> None:
    """Re-derive the household type after a change of composition."""
    kids = hh.kids_u14[idx] + hh.kids_14p[idx]
    adults = hh.adults[idx]
    t = hh.hh_type[idx]
    couple_like = (t == COUPLE) | (t == COUPLE_CHILDREN)
    t = np.where(couple_like & (adults >= 2), np.where(kids > 0, COUPLE_CHILDREN, COUPLE), t)
    t = np.where(adults == 1, np.where(kids > 0, SINGLE_PARENT, SINGLE), t)
    hh.hh_type[idx] = t


def new_households(state: State, parents: np.ndarray, age: np.ndarray, z: np.ndarray,
                   rng: np.random.Generator, *, separated: bool, wish_breadth: int) -> np.ndarray:
    """Create single-person households hosted where ``parents`` live; some apply for social housing.

    Returns:
        Indices of the new households.
    """
    hh = state.hh
    k = len(parents)
    if k == 0:
        return parents
    idx = hh.add(k)
    hh.alive[idx] = True
    hh.hh_type[idx] = SINGLE
    hh.adults[idx] = 1
    hh.age[idx] = age
    hh.z[idx] = z
    hh.income_uc[idx] = income_from_z(z, state.median_income_uc)
    hh.nbhd[idx] = hh.nbhd[parents]
    hh.tenure[idx] = HOSTED
    hh.move_in[idx] = state.month
    hh.seek[idx] = SEEK_RENT
    hh.separated[idx] = separated
    hh.employed[idx] = rng.random(k) < 0.6
    hh.quartile[idx] = 1 + np.searchsorted(state.quartile_cuts, hh.income_uc[idx], side="right")
    eligible = household_income(hh, idx) <= plus_ceiling(hh, idx, state.ceiling_index)
    p_apply = np.where(z < 0, 0.12, 0.03) * eligible
    open_applications(state, idx[rng.random(k) < p_apply], APP_FIRST, rng, wish_breadth)
    state.formations += k
    return idx


def demography(state: State, beh: Behaviour, rng: np.random.Generator, log: MoveLog,
               wish_breadth: int = 2) -> dict[str, int]:
    """Apply one month of demographic events; return event counts.

    Events of equal probability within a group are drawn with :func:`bernoulli_subset` (a
    binomial count, then that many members without replacement): the same law as one uniform
    per household or per child.
    """
    # Groups are found with masks over all rows (narrow columns, no gathers), restricted to
    # living households; rows added this month (new households) are not in them.
    hh = state.hh
    alive = hh.alive
    age = hh.age
    age += np.float32(1.0 / 12.0) * alive  # the living age by one month (others: + 0)
    types = hh.hh_type
    couples = ((types == COUPLE) | (types == COUPLE_CHILDREN)) & (hh.adults >= 2) & alive
    old = np.flatnonzero(alive & (age >= 75))
    fertile = np.flatnonzero(couples & (age < 45))
    couples = np.flatnonzero(couples)

    # births
    born = bernoulli_subset(rng, fertile, monthly_hazard(beh.birth_rate))
    hh.kids_u14[born] += 1
    hh.hh_type[born] = COUPLE_CHILDREN

    # children under 14 turn 14 (about 1/14 of them each year), each child independently
    young = np.flatnonzero(hh.alive & (hh.kids_u14 > 0))
    slots = np.cumsum(hh.kids_u14[young], dtype=np.int64)  # children of young[:i + 1]
    turning = bernoulli_subset(rng, np.arange(slots[-1] if len(slots) else 0),
                               monthly_hazard(1.0 / 14.0))
    grow = np.bincount(np.searchsorted(slots, turning, side="right"),
                       minlength=len(young)).astype(np.int8)
    hh.kids_u14[young] -= grow
    hh.kids_14p[young] += grow

    # children aged 14+ leave home: a new hosted household (hazard rate × number of children)
    with_older = np.flatnonzero(hh.alive & (hh.kids_14p > 0))
    n_older = hh.kids_14p[with_older]
    leavers = [bernoulli_subset(rng, with_older[n_older == k],
                                monthly_hazard(beh.child_leave_rate, k))
               for k in np.unique(n_older).tolist()]
    leavers = np.sort(np.concatenate(leavers)) if leavers else with_older[:0]
    hh.kids_14p[leavers] -= 1
    _fix_types(hh, leavers)
    # young adults: income rank tied to the parents', lower on average
    z_child = (0.4 * hh.z[leavers] - 0.5 + np.sqrt(1 - 0.16) * rng.standard_normal(len(leavers)))
    kids = new_households(state, leavers, rng.uniform(18, 26, len(leavers)), z_child, rng,
                          separated=False, wish_breadth=wish_breadth)

    # separations: one partner leaves
    split = bernoulli_subset(rng, couples, monthly_hazard(beh.separation_rate))
    split = split[hh.alive[split]]
    hh.adults[split] -= 1
    _fix_types(hh, split)
    z_sep = hh.z[split] - 0.2 + 0.5 * rng.standard_normal(len(split))
    seps = new_households(state, split, hh.age[split], z_sep, rng, separated=True,
                          wish_breadth=wish_breadth)
    hh.separated[split] = True

    # deaths of the oldest: persons living alone die, couples lose a partner
    old = old[hh.alive[old]]
    hazard = monthly_hazard(beh.death_rate_75, np.exp(0.09 * (hh.age[old] - 75)))
    dies = old[rng.random(len(old)) < hazard]
    alone = dies[hh.adults[dies] == 1]
    widowed = dies[hh.adults[dies] >= 2]
    hh.adults[widowed] -= 1
    _fix_types(hh, widowed)
    remove(state, alone, log, "death")
    return {"births": len(born), "children_leaving": len(kids), "separations": len(seps),
            "deaths": len(alone)}
