"""Move intentions (SPEC §2.3) and departures from the territory (SPEC §2.4).

Each month every household draws whether it wants to move. Hazards rise with over-crowding,
under-occupation, rent burden and the gap between the attractiveness its income lets it aspire to
and that of its neighbourhood. A social tenant asks for a transfer (mutation) or leaves the stock
for private renting or ownership when its income allows (an upward exit, helped by the SLS
surcharge and forced by the loss of the right to stay); a low-income private tenant applies for
social housing; owners move rarely; anyone may leave the territory.
"""

from __future__ import annotations

import numpy as np

from ..config import Behaviour, Levers
from ..moves import MoveLog, remove
from ..state import (
    APP_FIRST,
    APP_NONE,
    APP_TRANSFER,
    AREA_BY_ROOMS,
    HOSTED,
    OWNER,
    PRIVATE,
    SEEK_NONE,
    SEEK_OWN,
    SEEK_RENT,
    SOCIAL,
    State,
    bernoulli_subset,
    effort_rate,
    household_income,
    household_size,
    living_by_tenure,
    monthly_hazard,
    open_applications,
    plus_ceiling,
    rooms_needed,
    social_rent,
    thinned,
)

ASPIRATION_SLOPE = 0.7  # attractiveness units per standard deviation of the income score
# multipliers of the application hazard of private tenants: effort rate above 35 %, income
# score below −0.5 (else), household of 1, 2, 3 or more persons
APPLY_EFFORT = 2.0
APPLY_LOW_INCOME = (1.5, 0.6)
APPLY_FAMILY = (1.0, 1.5, 2.5)


def aspiration(z: np.ndarray) -> np.ndarray:
    """Neighbourhood attractiveness a household's income lets it aspire to."""
    return ASPIRATION_SLOPE * z


def crowding(state: State, idx: np.ndarray, size: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Return over-crowding and under-occupation of households ``idx``.

    Over-crowded: fewer rooms than needed; under-occupying: rooms > size + 1 (loi ELAN). Both
    are false for households without a dwelling.
    """
    hh, dw = state.hh, state.dw
    d = hh.dwelling[idx]
    has = d >= 0
    if size is None:
        size = household_size(hh, idx)
    rooms = np.where(has, dw.rooms[np.maximum(d, 0)], 0)
    return has & (rooms < rooms_needed(size)), has & (rooms > size + 1)


def housing_situation(state: State, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Over-crowding, under-occupation and effort rate of housed households ``idx``."""
    hh, dw, nb = state.hh, state.dw, state.nb
    d = hh.dwelling[idx]
    has = d >= 0
    size = household_size(hh, idx)
    over, under = crowding(state, idx, size)
    area = np.where(has, dw.area[np.maximum(d, 0)], AREA_BY_ROOMS[1])
    income = household_income(hh, idx)
    rent = np.where(hh.tenure[idx] == SOCIAL, social_rent(dw, np.maximum(d, 0)),
                    nb.private_rent_m2[hh.nbhd[idx]] * area)
    rent = np.where(has & (hh.tenure[idx] != OWNER), rent, 0.0)
    return {
        "overcrowded": over,
        "under_occupied": under,
        "effort": np.where(has, effort_rate(income, size, rent, area), 0.0),
        "size": size,
        "income": income,
    }


def move_intentions(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator,
                    log: MoveLog) -> dict[str, int]:
    """Draw this month's transfer requests, applications, upward exits and departures.

    Hazards that are equal for a whole group are drawn with :func:`bernoulli_subset`, those of
    private tenants by thinning (:func:`thinned`), the others with one uniform per household,
    for the households they concern only: the laws of one uniform per household throughout.
    """
    hh = state.hh
    by_tenure = living_by_tenure(hh)  # no tenure changes before the departures at the end
    out = _social_tenants(state, beh, levers, rng, by_tenure[SOCIAL])
    out.update(_private_tenants(state, beh, levers, rng, by_tenure[PRIVATE]))

    # owners move rarely
    own = by_tenure[OWNER]
    mv = bernoulli_subset(rng, own[hh.seek[own] == SEEK_NONE], monthly_hazard(beh.owner_move_rate))
    hh.seek[mv] = np.where(hh.z[mv] < -0.5, SEEK_RENT, SEEK_OWN)

    # applicants cancel; hosted ones that cancel leave the territory
    apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE) & ~hh.relocation)
    cancel = bernoulli_subset(rng, apps, monthly_hazard(beh.give_up_rate))
    hh.app[cancel] = APP_NONE
    hh.priority[cancel] = False
    gone = cancel[hh.tenure[cancel] == HOSTED]
    out["cancellations"] = len(cancel)

    # departures from the territory (relocated households wait for their offer); hosted
    # households that do not apply and find nothing go elsewhere (×8)
    hosted = by_tenure[HOSTED]
    applying = hh.app[hosted] != APP_NONE
    groups = ((by_tenure[SOCIAL], 0.8), (by_tenure[OWNER], 0.5), (by_tenure[PRIVATE], 1.0),
              (hosted[~applying], 8.0), (hosted[applying], 1.5))
    leave = [bernoulli_subset(rng, g[~hh.relocation[g]], monthly_hazard(beh.leave_rate, mult))
             for g, mult in groups]
    leave = np.union1d(np.concatenate(leave), gone)
    remove(state, leave, log, "departure")
    out["departures"] = len(leave)
    return out


def _social_tenants(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator,
                    soc: np.ndarray) -> dict[str, int]:
    """Draw social tenants' transfer requests and upward exits (SLS, loss of the right to stay)."""
    hh, nb = state.hh, state.nb
    rules = levers.over_income
    # transfer requests, among tenants without an application
    tr = soc[hh.app[soc] == APP_NONE]
    over, under = crowding(state, tr)
    crowd = np.where(over, beh.mismatch_effect, np.where(under, np.sqrt(beh.mismatch_effect), 1.0))
    gap = np.maximum(0.0, aspiration(hh.z[tr]) - nb.attractiveness[hh.nbhd[tr]])
    h_tr = monthly_hazard(beh.transfer_rate, crowd * np.exp(beh.aspiration_effect * gap))
    tr = tr[rng.random(len(tr)) < h_tr]
    open_applications(state, tr, APP_TRANSFER, rng, levers.information.wish_breadth)
    # upward exits, among tenants not already looking
    idle = soc[hh.seek[soc] == SEEK_NONE]
    z = hh.z[idle]
    mult = np.exp(1.5 * z) * np.where(hh.months_over[idle] > 0, rules.sls_exit_multiplier, 1.0)
    up = rng.random(len(idle)) < monthly_hazard(beh.upward_exit_rate, mult)
    if rules.loss_enabled:
        up |= hh.months_over_loss[idle] >= 12 * rules.loss_years
    own_p = beh.ownership_share * 2.0 / (1.0 + np.exp(-1.5 * z[up]))
    hh.seek[idle[up]] = np.where(rng.random(len(own_p)) < own_p, SEEK_OWN, SEEK_RENT)
    return {"transfer_requests": len(tr), "exit_intentions": int(up.sum())}


def _private_tenants(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator,
                     priv: np.ndarray) -> dict[str, int]:
    """Draw the moves of private tenants and their applications for social housing.

    Both are drawn by thinning (:func:`thinned`): the individual hazards are only computed for
    the few tenants drawn with the largest one.
    """
    hh = state.hh
    idle = priv[hh.seek[priv] == SEEK_NONE]
    mv = thinned(rng, idle, monthly_hazard(beh.private_move_rate, beh.mismatch_effect),
                 lambda c: _move_hazard(state, beh, c))
    buy = (hh.z[mv] > 0.3) & (rng.random(len(mv)) < 0.35)
    hh.seek[mv] = np.where(buy, SEEK_OWN, SEEK_RENT)
    # applications, among eligible tenants without one
    top = max(APPLY_LOW_INCOME) * APPLY_EFFORT * beh.mismatch_effect * max(APPLY_FAMILY)
    ap = thinned(rng, priv[hh.app[priv] == APP_NONE], monthly_hazard(beh.apply_rate, top),
                 lambda c: _apply_hazard(state, beh, c))
    open_applications(state, ap, APP_FIRST, rng, levers.information.wish_breadth)
    return {"applications": len(ap)}


def _move_hazard(state: State, beh: Behaviour, idx: np.ndarray) -> np.ndarray:
    """Monthly move probability of private tenants ``idx`` (more when over-crowded)."""
    over, _ = crowding(state, idx)
    return monthly_hazard(beh.private_move_rate, np.where(over, beh.mismatch_effect, 1.0))


def _apply_hazard(state: State, beh: Behaviour, idx: np.ndarray) -> np.ndarray:
    """Monthly probability that private tenants ``idx`` apply for social housing (0: ineligible)."""
    hh = state.hh
    eligible = household_income(hh, idx) <= plus_ceiling(hh, idx, state.ceiling_index)
    sit = housing_situation(state, idx)
    z = hh.z[idx]
    crowd = np.where(sit["overcrowded"], beh.mismatch_effect, 1.0)
    # families apply more often (SNE: 45 % of applicants live alone, far fewer than in the
    # pool of low-income private tenants)
    family = np.asarray(APPLY_FAMILY)[np.clip(sit["size"], 1, 3) - 1]
    mult = (np.where(sit["effort"] > 0.35, APPLY_EFFORT, 1.0)
            * np.where(z < -0.5, *APPLY_LOW_INCOME) * crowd * family)
    return np.where(eligible, monthly_hazard(beh.apply_rate, mult), 0.0)


def give_up_seeking(state: State, rng: np.random.Generator, p: float = 0.2) -> None:
    """Housed households that found nothing on the market stop looking with probability ``p``."""
    hh = state.hh
    s = np.flatnonzero(hh.alive & (hh.seek != SEEK_NONE) & (hh.tenure != HOSTED))
    stop = s[rng.random(len(s)) < p]
    if state.month >= 0:
        forced = hh.months_over_loss[stop] > 0
        stop = stop[~forced]
    hh.seek[stop] = SEEK_NONE
