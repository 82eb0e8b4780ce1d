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
    effort_rate,
    household_income,
    household_size,
    monthly_hazard,
    open_applications,
    plus_ceiling,
    rooms_needed,
    social_rent,
)

ASPIRATION_SLOPE = 0.7  # attractiveness units per standard deviation of the income score


def aspiration(z: np.ndarray) -> np.ndarray:
    """Neighbourhood attractiveness a household's income lets it aspire to."""
    return ASPIRATION_SLOPE * z


def housing_situation(state: State, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Over-crowding, under-occupation and effort rate of housed households ``idx``."""
    hh, dw, nb = state.hh, state.dw, state.nb
    d = hh.dwelling[idx]
    has = d >= 0
    size = household_size(hh, idx)
    rooms = np.where(has, dw.rooms[np.maximum(d, 0)], 0)
    area = np.where(has, dw.area[np.maximum(d, 0)], AREA_BY_ROOMS[1])
    income = household_income(hh, idx)
    rent = np.where(hh.tenure[idx] == SOCIAL, social_rent(dw, np.maximum(d, 0)),
                    nb.private_rent_m2[hh.nbhd[idx]] * area)
    rent = np.where(has & (hh.tenure[idx] != OWNER), rent, 0.0)
    return {
        "overcrowded": has & (rooms < rooms_needed(size)),
        "under_occupied": has & (rooms > size + 1),
        "effort": np.where(has, effort_rate(income, size, rent, area), 0.0),
        "size": size,
        "income": income,
    }


def move_intentions(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator,
                    log: MoveLog) -> dict[str, int]:
    """Draw this month's transfer requests, applications, upward exits and departures."""
    hh, nb = state.hh, state.nb
    breadth = levers.information.wish_breadth
    out: dict[str, int] = {}
    tenure = hh.tenure
    alive = hh.alive

    # social tenants: transfer requests and upward exits (SLS, loss of the right to stay)
    soc = np.flatnonzero(alive & (tenure == SOCIAL))
    sit = housing_situation(state, soc)
    z = hh.z[soc]
    crowd = np.where(sit["overcrowded"], beh.mismatch_effect,
                     np.where(sit["under_occupied"], np.sqrt(beh.mismatch_effect), 1.0))
    gap = np.maximum(0.0, aspiration(z) - nb.attractiveness[hh.nbhd[soc]])
    u = rng.random((3, len(soc)))
    h_tr = monthly_hazard(beh.transfer_rate, crowd * np.exp(beh.aspiration_effect * gap))
    tr = soc[(hh.app[soc] == APP_NONE) & (u[0] < h_tr)]
    open_applications(state, tr, APP_TRANSFER, rng, breadth)
    out["transfer_requests"] = len(tr)
    rules = levers.over_income
    mult = np.exp(1.5 * z) * np.where(hh.months_over[soc] > 0, rules.sls_exit_multiplier, 1.0)
    up = (hh.seek[soc] == SEEK_NONE) & (u[1] < monthly_hazard(beh.upward_exit_rate, mult))
    if rules.loss_enabled:
        up |= (hh.seek[soc] == SEEK_NONE) & (hh.months_over_loss[soc] >= 12 * rules.loss_years)
    own_p = beh.ownership_share * 2.0 / (1.0 + np.exp(-1.5 * z))
    hh.seek[soc[up]] = np.where(u[2][up] < own_p[up], SEEK_OWN, SEEK_RENT)
    out["exit_intentions"] = int(up.sum())

    # private tenants: moves and applications
    priv = np.flatnonzero(alive & (tenure == PRIVATE))
    sit = housing_situation(state, priv)
    z = hh.z[priv]
    u = rng.random((3, len(priv)))
    crowd = np.where(sit["overcrowded"], beh.mismatch_effect, 1.0)
    mv = (hh.seek[priv] == SEEK_NONE) & (u[0] < monthly_hazard(beh.private_move_rate, crowd))
    buy = (z > 0.3) & (u[2] < 0.35)
    hh.seek[priv[mv]] = np.where(buy[mv], SEEK_OWN, SEEK_RENT)
    eligible = sit["income"] <= plus_ceiling(hh, priv, state.ceiling_index)
    # families apply more often (SNE: 45 % of applicants live alone, far fewer than in the
    # pool of low-income private tenants)
    family = np.where(sit["size"] >= 3, 2.5, np.where(sit["size"] == 2, 1.5, 1.0))
    mult = (np.where(sit["effort"] > 0.35, 2.0, 1.0) * np.where(z < -0.5, 1.5, 0.6) * crowd
            * family)
    ap = priv[(hh.app[priv] == APP_NONE) & eligible
              & (u[1] < monthly_hazard(beh.apply_rate, mult))]
    open_applications(state, ap, APP_FIRST, rng, breadth)
    out["applications"] = len(ap)

    # owners move rarely
    own = np.flatnonzero(alive & (tenure == OWNER) & (hh.seek == SEEK_NONE))
    mv = own[rng.random(len(own)) < monthly_hazard(beh.owner_move_rate)]
    hh.seek[mv] = np.where(hh.z[mv] < -0.5, SEEK_RENT, SEEK_OWN)

    # applicants cancel; hosted ones that cancel leave the territory
    apps = np.flatnonzero(alive & (hh.app != APP_NONE) & ~hh.relocation)
    cancel = apps[rng.random(len(apps)) < monthly_hazard(beh.give_up_rate)]
    hh.app[cancel] = APP_NONE
    hh.priority[cancel] = False
    gone = cancel[tenure[cancel] == HOSTED]
    out["cancellations"] = len(cancel)

    # departures from the territory (relocated households wait for their offer)
    cand = np.flatnonzero(alive & ~hh.relocation)
    t = tenure[cand]
    # hosted households that do not apply and find nothing go elsewhere (×8)
    mult = np.select([t == SOCIAL, t == OWNER, (t == HOSTED) & (hh.app[cand] == APP_NONE),
                      t == HOSTED], [0.8, 0.5, 8.0, 1.5], 1.0)
    leave = cand[rng.random(len(cand)) < monthly_hazard(beh.leave_rate, mult)]
    leave = np.union1d(leave, gone)
    remove(state, leave, log, "departure")
    out["departures"] = len(leave)
    return out


def give_up_seeking(state: State, rng: np.random.Generator, p: float = 0.2) -> None:
    """Housed households that found nothing on the market stop looking with probability ``p``."""
    hh = state.hh
    s = np.flatnonzero(hh.alive & (hh.seek != SEEK_NONE) & (hh.tenure != HOSTED))
    stop = s[rng.random(len(s)) < p]
    if state.month >= 0:
        forced = hh.months_over_loss[stop] > 0
        stop = stop[~forced]
    hh.seek[stop] = SEEK_NONE
