"""Arrivals (SPEC §2.4) and the private market (SPEC §2.5).

Vacant private and owner-occupied dwellings are taken by movers through a multinomial-logit choice
over (neighbourhood, rooms) cells on attractiveness and price, under a budget constraint (rent ≤
``budget_share`` of income; owners' monthly cost = 1.15 × the local rent). Conflicts are resolved
in rounds: a cell with fewer vacancies than choosers takes a random subset, the others choose
again. This is where income sorting comes from outside the social stock. Private rents follow
income growth and the yearly change of attractiveness.
"""

from __future__ import annotations

import numpy as np

from ..config import Behaviour
from ..moves import MoveLog, move_into
from ..state import (
    APP_FIRST,
    AREA_BY_ROOMS,
    HOSTED,
    NEVER,
    OWNER,
    PRIVATE,
    S_OWNER,
    S_PRIVATE,
    SEEK_NONE,
    SEEK_OWN,
    SEEK_RENT,
    SOCIAL,
    State,
    household_income,
    household_size,
    income_from_z,
    open_applications,
    plus_ceiling,
    rooms_needed,
    synthesise_households,
)

OWNER_COST_RATIO = 1.15  # monthly cost of owning relative to renting the same dwelling
ROUNDS = 2
CHOICE_SET = 12  # neighbourhoods sampled into each mover's choice set
SEARCH_INTENSITY = 0.5  # share of seekers visiting the market in a given month
CROWDING_PENALTY = 1.5  # utility lost by taking one room less than needed
ARRIVAL_TYPES = (0.47, 0.20, 0.17, 0.12, 0.04)  # like private tenants (build_default.TYPE_SHARES)


def arrivals(state: State, beh: Behaviour, rng: np.random.Generator, wish_breadth: int) -> int:
    """Create arriving households so that the housed population follows ``growth``.

    Called after residents have had their turn on the private market: arrivals (1.3 × the gap to
    the target, since some find nothing) seek owner-occupied or rented dwellings in proportion to
    what is vacant; eligible low-income ones also apply for social housing
    (``arrival_apply_share``). Those housed by neither by the end of the month and not applying
    did not come (see :func:`settle_arrivals`).
    """
    hh, dw = state.hh, state.dw
    target = state.start_households * (1.0 + beh.growth) ** (state.month / 12.0)
    housed = int((hh.alive & (hh.dwelling >= 0)).sum())
    want = 1.3 * max(0.0, target - housed)
    n = int(np.floor(want) + (rng.random() < want % 1))
    n = min(n, max(1, int(0.02 * housed)))
    if n <= 0:
        state.pending_arrivals = np.zeros(0, np.int64)
        return 0
    free = (dw.occupant < 0) & dw.active
    v_own = int((free & (dw.sector == S_OWNER)).sum())
    v_rent = int((free & (dw.sector == S_PRIVATE)).sum())
    p_own = v_own / max(1, v_own + v_rent)
    own = rng.random(n) < p_own
    idx = hh.add(n)
    types = rng.choice(5, size=n, p=ARRIVAL_TYPES).astype(np.int8)
    z = np.where(own, rng.normal(0.4, 0.9, n), rng.normal(-0.2, 1.0, n))
    synthesise_households(rng, hh, idx, types, z)
    hh.age[idx] = np.minimum(hh.age[idx], rng.uniform(22, 55, n))
    hh.income_uc[idx] = income_from_z(z, state.median_income_uc)
    hh.quartile[idx] = 1 + np.searchsorted(state.quartile_cuts, hh.income_uc[idx], side="right")
    weights = np.bincount(dw.nbhd, minlength=len(state.nb)).astype(float)
    hh.nbhd[idx] = rng.choice(len(state.nb), size=n, p=weights / weights.sum())
    hh.tenure[idx] = HOSTED
    hh.move_in[idx] = state.month
    hh.seek[idx] = np.where(own, SEEK_OWN, SEEK_RENT)
    eligible = household_income(hh, idx) <= plus_ceiling(hh, idx, state.ceiling_index)
    apply = eligible & (z < 0) & (rng.random(n) < beh.arrival_apply_share)
    open_applications(state, idx[apply], APP_FIRST, rng, wish_breadth)
    state.pending_arrivals = idx
    return n


def settle_arrivals(state: State, log: MoveLog) -> int:
    """Arrivals that found no home and did not apply never came; the others are logged."""
    hh = state.hh
    idx = state.pending_arrivals
    state.pending_arrivals = np.zeros(0, np.int64)
    if len(idx) == 0:
        return 0
    # most arrivals with no home did not come; some applicants wait in the territory (hosted)
    unhoused = hh.tenure[idx] == HOSTED
    stays = (hh.app[idx] != 0) & (hh.income_uc[idx] < np.median(hh.income_uc[idx])) \
        if len(idx) else unhoused
    never = idx[unhoused & ~stays]
    hh.alive[never] = False
    hh.tenure[never] = NEVER
    hh.seek[never] = 0
    hh.app[never] = 0
    came = np.setdiff1d(idx, never)
    hosted = came[hh.tenure[came] == HOSTED]
    minus = np.full(len(hosted), -1)
    log.add(hosted, state.month, minus, minus, minus, hh.nbhd[hosted], "arrival")
    state.arrivals += len(came)
    return len(came)


def private_market(state: State, beh: Behaviour, rng: np.random.Generator, log: MoveLog,
                   only: np.ndarray | None = None) -> dict[str, int]:
    """Match movers to vacant private dwellings by a logit choice under a budget constraint.

    Args:
        state: Model state (changed in place).
        beh: Behavioural parameters.
        rng: The run's random generator.
        log: Move log.
        only: Restrict the movers to these households (used for this month's arrivals, who come
            after residents).
    """
    hh, dw = state.hh, state.dw
    if only is None:
        # each month a seeker is active on the market with probability SEARCH_INTENSITY (halved
        # for hosted households, who can wait where they are); drawn for seekers only
        seekers = np.flatnonzero(hh.seek != SEEK_NONE)
        seekers = seekers[hh.alive[seekers]]
        p = np.where(hh.tenure[seekers] == HOSTED, 0.5, 1.0) * SEARCH_INTENSITY
        active = seekers[rng.random(len(seekers)) < p]
    else:
        active = np.asarray(only, np.int64)
        active = active[hh.alive[active]]
    out = {"private_moves": 0, "exit_ownership": 0, "exit_private_rental": 0}
    free = np.flatnonzero(dw.active & (dw.occupant < 0))
    free_sector = dw.sector[free]
    seek = hh.seek[active]
    for sector, wanted, tenure in ((S_PRIVATE, SEEK_RENT, PRIVATE), (S_OWNER, SEEK_OWN, OWNER)):
        movers = active[seek == wanted]
        vac = free[free_sector == sector]
        if len(movers) == 0 or len(vac) == 0:
            continue
        who, target = _match(state, beh, rng, movers, vac, sector)
        if len(who) == 0:
            continue
        old_ten = hh.tenure[who].copy()
        from_dw, from_nb = hh.dwelling[who].copy(), hh.nbhd[who].copy()
        move_into(state, who, target, tenure)
        was_social = old_ten == SOCIAL
        kind = np.where(was_social, 4 if tenure == OWNER else 5, 3)
        kind = np.where(np.isin(who, state.pending_arrivals), 6, kind)
        log.add(who, state.month, from_dw, from_nb, target, dw.nbhd[target], kind)
        out["private_moves"] += int((~was_social).sum())
        if tenure == OWNER:
            out["exit_ownership"] += int(was_social.sum())
        else:
            out["exit_private_rental"] += int(was_social.sum())
    return out


def _choice_weights(state: State, beh: Behaviour, rng: np.random.Generator, movers: np.ndarray,
                    sector: int) -> tuple[np.ndarray, np.ndarray]:
    """Choice sets of the movers and the logit weight of each alternative.

    Each mover considers one room less than it needs (crowded) up to two more, in a random
    sample of neighbourhoods drawn uniformly with replacement (sampling of alternatives,
    McFadden 1978): the logit keeps its ranking of what it compares.

    Returns:
        Cells (neighbourhood × 5 + rooms − 1) of each alternative, shape (M, 4 × CHOICE_SET),
        and exp(utility without the vacancy term) up to a factor per row, 0 where the rent
        exceeds the budget.
    """
    hh, nb = state.hh, state.nb
    n_nb = len(nb)
    cost = nb.private_rent_m2[:, None] * AREA_BY_ROOMS[None, 1:]  # (n_nb, 5) €/month
    if sector == S_OWNER:
        cost = cost * OWNER_COST_RATIO
    attraction = np.repeat(beh.market_attractiveness * nb.attractiveness, 5)  # per cell
    income_m = np.maximum(household_income(hh, movers) / 12.0, 1.0)
    need = np.minimum(rooms_needed(household_size(hh, movers)), 5).astype(np.int64)
    offsets = np.array([-1, 0, 1, 2])
    rooms = np.clip(need[:, None] + offsets[None, :], 1, 5)  # (M, 4)
    n_s = min(n_nb, CHOICE_SET)
    sample = rng.integers(0, n_nb, size=(len(movers), n_s))  # (M, S), with replacement
    cols = (sample[:, None, :] * 5 + rooms[:, :, None] - 1).reshape(len(movers), -1)
    burden = cost.reshape(-1)[cols] / income_m[:, None]
    util = attraction[cols] - beh.market_price * burden
    # one room less than needed (the first S alternatives, when the mover needs 2 rooms or more)
    crowded = util[:, :n_s]
    crowded[need >= 2] -= CROWDING_PENALTY
    # exp(utility), scaled by each row's largest utility (utilities span far less than the
    # ~700 that would underflow); rents above the budget are excluded
    weight = np.exp(util - util.max(axis=1)[:, None])
    weight[burden > beh.budget_share] = 0.0
    return cols, weight


def _match(state: State, beh: Behaviour, rng: np.random.Generator, movers: np.ndarray,
           vac: np.ndarray, sector: int) -> tuple[np.ndarray, np.ndarray]:
    """Logit choice of cells in ROUNDS rounds, then concrete dwellings.

    Utility = attractiveness and price terms + ln(vacancies in the cell) + Gumbel noise. The
    argmax of utilities with Gumbel noise is a draw from the multinomial logit, so each mover
    draws its alternative directly with probability ∝ exp(utility) × vacancies (the same law
    as drawing one Gumbel per alternative, with one uniform per mover). A cell with fewer
    vacancies than choosers takes a random subset; the others choose again in the next round.

    Returns:
        The movers who found a dwelling and their dwellings.
    """
    dw = state.dw
    cell = dw.nbhd[vac].astype(np.int64) * 5 + dw.rooms[vac] - 1
    cap = np.bincount(cell, minlength=len(state.nb) * 5).astype(np.int64)
    cols, weight = _choice_weights(state, beh, rng, movers, sector)
    chosen = np.full(len(movers), -1)
    pending = np.arange(len(movers))
    for n_round in range(ROUNDS):
        if len(pending) == 0:
            break
        c_p = cols[pending] if n_round else cols
        cum = np.cumsum((weight[pending] if n_round else weight) * cap[c_p], axis=1)
        total = cum[:, -1]
        has = total > 0
        cum, total, c_p, cand = cum[has], total[has], c_p[has], pending[has]
        # inverse CDF; u × total < total keeps the draw off the zero-weight tail
        r = np.minimum(rng.random(len(cand)) * total, np.nextafter(total, 0.0))
        pick = c_p[np.arange(len(cand)), (cum <= r[:, None]).sum(axis=1)]
        order = np.lexsort((rng.random(len(cand)), pick))
        cand, pick = cand[order], pick[order]
        rank = np.arange(len(pick)) - np.searchsorted(pick, pick, side="left")
        win = rank < cap[pick]
        chosen[cand[win]] = pick[win]
        np.subtract.at(cap, pick[win], 1)
        pending = cand[~win]
    got = np.flatnonzero(chosen >= 0)
    who = movers[got]
    c = chosen[got]
    # concrete dwellings: the first vacancies of each cell in a random order
    vorder = np.lexsort((rng.random(len(vac)), cell))
    vac_sorted, cell_sorted = vac[vorder], cell[vorder]
    worder = np.argsort(c, kind="stable")
    who, c = who[worder], c[worder]
    start = np.searchsorted(cell_sorted, c, side="left")
    k = np.arange(len(c)) - np.searchsorted(c, c, side="left")
    return who, vac_sorted[start + k]


def yearly_private_rents(state: State, beh: Behaviour) -> None:
    """January: private rents follow income growth and last year's change of attractiveness."""
    nb = state.nb
    change = nb.attractiveness - nb.attractiveness_year_start
    nb.private_rent_m2 *= (1.0 + beh.income_growth) * np.exp(0.1 * beh.rent_adjustment * change)
    nb.attractiveness_year_start = nb.attractiveness.copy()


def private_construction(state: State, beh: Behaviour, rng: np.random.Generator) -> int:
    """January: new private and owner dwellings keep pace with household growth, outside QPV."""
    dw, nb = state.dw, state.nb
    priv = (dw.sector != 0) & dw.active
    n = int(round(max(0.0, beh.growth) * priv.sum()))
    if n == 0:
        return 0
    w = np.where(nb.qpv, 0.0, np.exp(0.5 * nb.attractiveness))
    idx = dw.add(n)
    dw.nbhd[idx] = rng.choice(len(nb), size=n, p=w / w.sum())
    dw.sector[idx] = np.where(rng.random(n) < 0.6, S_OWNER, S_PRIVATE)
    dw.rooms[idx] = 1 + rng.choice(5, size=n, p=[0.1, 0.2, 0.3, 0.25, 0.15])
    dw.area[idx] = AREA_BY_ROOMS[dw.rooms[idx]] * rng.uniform(0.9, 1.1, n)
    dw.new[idx] = True
    return n
