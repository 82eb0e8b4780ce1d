"""Arrivals (ODD §7.4) and the private market (ODD §7.4).

Vacant private and owner-occupied dwellings are taken by movers through a multinomial-logit choice
over (neighbourhood, rooms) cells on attractiveness and price, under a budget constraint (rent ≤
``budget_share`` of income; owners' monthly cost = 1.15 × the local rent). Conflicts are resolved
in rounds: a cell with fewer vacancies than choosers takes a random subset, the others choose
again. This is where income sorting comes from outside the social stock. Private rents follow
income growth and the yearly change of attractiveness.

The computations between random draws run in compiled kernels (:mod:`mixsim.model.jit`); every draw
stays in numpy, in the same order and with the same sizes, so that runs are those of the plain
numpy formulation the kernels' docstrings describe.
"""

from __future__ import annotations

import numpy as np

from ..applications import open_applications
from ..ceilings import taxable_one
from ..config import Behaviour
from ..draws import weighted_choice
from ..jit import njit
from ..moves import MoveLog, move_into
from ..population import synthesise_households
from ..rules import income_from_z, income_one, rooms_needed_one, size_one
from ..state import (
    APP_FIRST,
    AREA_BY_ROOMS,
    HOSTED,
    NEVER,
    OWNER,
    PRIVATE,
    S_OWNER,
    S_PRIVATE,
    S_SOCIAL,
    SEEK_NONE,
    SEEK_OWN,
    SEEK_RENT,
    SOCIAL,
    State,
    plus_ceiling_one,
)

OWNER_COST_RATIO = 1.15  # monthly cost of owning relative to renting the same dwelling
ROUNDS = 2
CHOICE_SET = 12  # neighbourhoods sampled into each mover's choice set
SEARCH_INTENSITY = 0.5  # share of seekers visiting the market in a given month
CROWDING_PENALTY = 1.5  # utility lost by taking one room less than needed
ARRIVAL_TYPES = (0.47, 0.20, 0.17, 0.12, 0.04)  # like private tenants (build_default.TYPE_SHARES)
ROOM_OFFSETS = np.array([-1, 0, 1, 2])  # rooms considered relative to the rooms needed
_NONE = np.zeros(0, np.int64)  # no households, no dwellings



@njit
def _order_by_cell(cells, key, n_cells):
    """``np.lexsort((key, cells))`` for cells in ``0..n_cells-1`` and the start of each cell.

    A stable counting sort on the cell, then a stable insertion sort on ``key`` inside each cell
    (cells hold few items). Returns the order and ``start`` (n_cells + 1): the items of cell
    ``c`` are ``order[start[c]:start[c + 1]]``.
    """
    n = len(cells)
    start = np.zeros(n_cells + 1, np.int64)
    for k in range(n):
        start[cells[k] + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    pos = start[:n_cells].copy()
    order = np.empty(n, np.int64)
    for k in range(n):
        order[pos[cells[k]]] = k
        pos[cells[k]] += 1
    for c in range(n_cells):
        for t in range(start[c] + 1, start[c + 1]):
            k = order[t]
            s = t
            while s > start[c] and key[order[s - 1]] > key[k]:
                order[s] = order[s - 1]
                s -= 1
            order[s] = k
    return order, start


@njit
def _arrival_counts(alive, dwelling, occupant, active, sector, dw_nbhd, n_nb):
    """Housed households, vacant owner and rented dwellings, dwellings per neighbourhood.

    Returns:
        ``(hh.alive & (hh.dwelling >= 0)).sum()``, the vacant active dwellings of S_OWNER and of
        S_PRIVATE, and ``np.bincount(dw.nbhd, minlength=n_nb)`` as floats.
    """
    housed = 0
    for i in range(len(alive)):
        housed += alive[i] & (dwelling[i] >= 0)
    v_own = 0
    v_rent = 0
    top = 0
    for d in range(len(occupant)):
        free = (occupant[d] < 0) & active[d]
        v_own += free & (sector[d] == S_OWNER)
        v_rent += free & (sector[d] == S_PRIVATE)
        top = max(top, dw_nbhd[d])
    weights = np.zeros(max(n_nb, top + 1))
    for d in range(len(dw_nbhd)):
        weights[dw_nbhd[d]] += 1.0
    return housed, v_own, v_rent, weights


@njit
def _arrival_fill(idx, own, nbhd_draw, age_draw, income, month, cuts, index, z,
                  age, income_uc, quartile, nbhd, tenure, move_in, seek, adults, kids_u14,
                  kids_14p):
    """Write the arrivals' columns; return who is eligible to social housing with ``z < 0``.

    Age = min(age, drawn age); income per UC, quartile (``1 + searchsorted(cuts, income,
    "right")``), neighbourhood, tenure HOSTED, move-in month, seeking (owner or rent); the
    returned mask is ``resources <= plus_ceiling & (z < 0)`` (``index``: the ceiling index and
    the median income per UC; an arrival has no RFR recorded: its current taxable income is
    compared, :mod:`mixsim.model.ceilings`).
    """
    ceiling_index, median = index
    n = len(idx)
    low = np.zeros(n, np.bool_)
    for k in range(n):
        i = idx[k]
        a = np.float64(age[i])
        age[i] = a if a <= age_draw[k] else age_draw[k]
        x = income[k]
        income_uc[i] = x
        q = 0
        for c in range(len(cuts)):  # the cuts are sorted
            q += cuts[c] <= x
        quartile[i] = 1 + q
        nbhd[i] = nbhd_draw[k]
        tenure[i] = HOSTED
        move_in[i] = month
        seek[i] = SEEK_OWN if own[k] else SEEK_RENT
        income_i = income_one(income_uc[i], adults[i], kids_u14[i], kids_14p[i])
        eligible = (taxable_one(income_i, income_uc[i], median)
                    <= plus_ceiling_one(adults[i], size_one(adults[i], kids_u14[i], kids_14p[i]),
                                        age[i], ceiling_index))
        low[k] = eligible and z[k] < 0
    return low


@njit
def _settle(idx, tenure, app, income_uc, alive, seek, nbhd):
    """Remove the arrivals who never came; return the number who came and the hosted ones.

    The arrivals ``idx`` still HOSTED without an application or with an income per UC at or
    above the arrivals' median never came (alive False, tenure NEVER, no seeking, no
    application). Returns the number who came, those of them still hosted and their
    neighbourhoods; -1 and nothing changed when ``idx`` is not increasing.
    """
    n = len(idx)
    for k in range(1, n):
        if idx[k] <= idx[k - 1]:
            return -1, np.empty(0, np.int64), np.empty(0, np.int64)
    inc = np.empty(n)
    for k in range(n):
        inc[k] = income_uc[idx[k]]
    inc.sort()
    half = n // 2
    median = inc[half] if n % 2 else (inc[half - 1] + inc[half]) / 2.0
    came = 0
    hosted = np.empty(n, np.int64)
    hosted_nb = np.empty(n, np.int64)
    n_hosted = 0
    for k in range(n):
        i = idx[k]
        if tenure[i] == HOSTED:
            if not (app[i] != 0 and income_uc[i] < median):
                alive[i] = False
                tenure[i] = NEVER
                seek[i] = 0
                app[i] = 0
                continue
            hosted[n_hosted] = i
            hosted_nb[n_hosted] = nbhd[i]
            n_hosted += 1
        came += 1
    return came, hosted[:n_hosted], hosted_nb[:n_hosted]


@njit
def _seekers(seek, alive, tenure):
    """Living seekers (increasing) and the probability that each is active this month."""
    n = 0
    for i in range(len(seek)):
        n += (seek[i] != SEEK_NONE) & alive[i]
    seekers = np.empty(n, np.int64)
    p = np.empty(n)
    k = 0
    for i in range(len(seek)):
        if seek[i] != SEEK_NONE and alive[i]:
            seekers[k] = i
            p[k] = (0.5 if tenure[i] == HOSTED else 1.0) * SEARCH_INTENSITY
            k += 1
    return seekers, p


@njit
def _market_sides(cand, u, p, drawn, alive, seek, dw_active, occupant, sector):
    """Movers and vacancies of the rental and owner markets.

    The active households are ``cand[u < p]`` when ``drawn``, else the living ones of
    ``cand``. Returns those seeking to rent, those seeking to own (in the order of ``cand``),
    the vacant active S_PRIVATE dwellings and the vacant active S_OWNER ones (increasing).
    """
    rent = np.empty(len(cand), np.int64)
    own = np.empty(len(cand), np.int64)
    n_rent = 0
    n_own = 0
    for k in range(len(cand)):
        i = cand[k]
        if (u[k] < p[k]) if drawn else alive[i]:
            if seek[i] == SEEK_RENT:
                rent[n_rent] = i
                n_rent += 1
            elif seek[i] == SEEK_OWN:
                own[n_own] = i
                n_own += 1
    v_rent = 0
    v_own = 0
    for d in range(len(occupant)):
        free = dw_active[d] & (occupant[d] < 0)
        v_rent += free & (sector[d] == S_PRIVATE)
        v_own += free & (sector[d] == S_OWNER)
    vac_rent = np.empty(v_rent, np.int64)
    vac_own = np.empty(v_own, np.int64)
    v_rent = 0
    v_own = 0
    for d in range(len(occupant)):
        if dw_active[d] and occupant[d] < 0:
            if sector[d] == S_PRIVATE:
                vac_rent[v_rent] = d
                v_rent += 1
            elif sector[d] == S_OWNER:
                vac_own[v_own] = d
                v_own += 1
    return rent[:n_rent], own[:n_own], vac_rent, vac_own


@njit
def _move_records(who_rent, target_rent, who_own, target_own, tenure, dwelling, hh_nbhd,
                  dw_nbhd, pending):
    """Join the moves of both markets (rental first) with their move-log fields (before moving).

    Returns the movers, their new dwellings and tenures (PRIVATE, OWNER), their dwelling and
    neighbourhood, the neighbourhood of the new dwelling, the move kind (5 for former social
    tenants renting, 4 buying, else 3; 6 for households in ``pending``, this month's arrivals)
    and the number of former social tenants in each market.
    """
    n_rent = len(who_rent)
    n = n_rent + len(who_own)
    who = np.empty(n, np.int64)
    target = np.empty(n, np.int64)
    new_tenure = np.empty(n, np.int64)
    from_dw = np.empty(n, np.int64)
    from_nb = np.empty(n, np.int64)
    to_nb = np.empty(n, np.int64)
    kind = np.empty(n, np.int64)
    arrivals = np.sort(pending)
    social = np.zeros(2, np.int64)
    for k in range(n):
        rent = k < n_rent
        i = who_rent[k] if rent else who_own[k - n_rent]
        d = target_rent[k] if rent else target_own[k - n_rent]
        who[k] = i
        target[k] = d
        new_tenure[k] = PRIVATE if rent else OWNER
        from_dw[k] = dwelling[i]
        from_nb[k] = hh_nbhd[i]
        to_nb[k] = dw_nbhd[d]
        kind[k] = 3
        if tenure[i] == SOCIAL:
            kind[k] = 5 if rent else 4
            social[0 if rent else 1] += 1
        if len(arrivals):
            j = np.searchsorted(arrivals, i)
            if j < len(arrivals) and arrivals[j] == i:
                kind[k] = 6
    return who, target, new_tenure, from_dw, from_nb, to_nb, kind, social[0], social[1]


@njit
def _vacancy_cells(vac, dw_nbhd, dw_rooms, n_cells):
    """Cell (neighbourhood × 5 + rooms − 1) of each vacancy and the vacancies per cell.

    The counts are ``np.bincount(cell, minlength=n_cells)``.
    """
    cell = np.empty(len(vac), np.int64)
    for k in range(len(vac)):
        cell[k] = np.int64(dw_nbhd[vac[k]]) * 5 + dw_rooms[vac[k]] - 1
        n_cells = max(n_cells, cell[k] + 1)
    cap = np.zeros(n_cells, np.int64)
    for k in range(len(vac)):
        cap[cell[k]] += 1
    return cell, cap


@njit
def _weights_kernel(movers, sample, income_uc, adults, kids_u14, kids_14p, rent_m2,
                    attractiveness, area_by_rooms, owner, market_attractiveness, market_price,
                    budget_share, cap):
    """Cells and logit weights of the movers' alternatives (see :func:`_choice_weights`).

    For mover ``m``, room offset ``j`` (``ROOM_OFFSETS``) and sampled neighbourhood ``s``, the
    alternative ``j × S + s`` is the cell ``sample[m, s] × 5 + rooms − 1`` with rooms = need +
    offset clipped to 1..5, need = min(rooms_needed(size), 5). With burden = cost of the cell
    (rent per m² × area of the rooms, × OWNER_COST_RATIO for owners) / max(income / 12, 1):
    utility = market_attractiveness × attractiveness − market_price × burden, minus
    CROWDING_PENALTY for the first S alternatives when the mover needs 2 rooms or more; the
    weight is exp(utility − the row's largest utility), 0 where burden > budget_share, and 0
    where ``cap`` (if not empty) has no vacancy in the cell.
    """
    n_m, n_s = sample.shape
    n_alt = len(ROOM_OFFSETS) * n_s
    all_cells = len(cap) == 0
    cols = np.empty((n_m, n_alt), np.int64)
    weight = np.empty((n_m, n_alt))
    skip = np.empty(n_alt, np.bool_)
    for m in range(n_m):
        i = movers[m]
        income_m = max(income_one(income_uc[i], adults[i], kids_u14[i], kids_14p[i]) / 12.0, 1.0)
        size = size_one(adults[i], kids_u14[i], kids_14p[i])
        need = rooms_needed_one(size)
        top = -np.inf
        for j in range(len(ROOM_OFFSETS)):
            rooms = min(max(need + ROOM_OFFSETS[j], 1), 5)
            for s in range(n_s):
                a = j * n_s + s
                nb = sample[m, s]
                col = nb * 5 + rooms - 1
                cols[m, a] = col
                cost = rent_m2[nb] * area_by_rooms[rooms]
                if owner:
                    cost = cost * OWNER_COST_RATIO
                burden = cost / income_m
                util = market_attractiveness * attractiveness[nb] - market_price * burden
                if j == 0 and need >= 2:
                    util -= CROWDING_PENALTY
                weight[m, a] = util
                skip[a] = burden > budget_share or not (all_cells or cap[col] > 0)
                top = max(top, util)
        for a in range(n_alt):
            weight[m, a] = 0.0 if skip[a] else np.exp(weight[m, a] - top)
    return cols, weight


@njit
def _candidates(weight, cols, cap, pending):
    """Those of ``pending`` with some weight on cells with vacancies, in their order.

    That is a positive total, the last of ``np.cumsum(weight * cap[cols], axis=1)`` on their
    row (all terms are ≥ 0).
    """
    cand = np.empty(len(pending), np.int64)
    n = 0
    for k in range(len(pending)):
        row = pending[k]
        total = weight[row, 0] * cap[cols[row, 0]]
        for a in range(1, cols.shape[1]):
            total += weight[row, a] * cap[cols[row, a]]
        cand[n] = row
        n += total > 0
    return cand[:n]


@njit
def _resolve(weight, cols, cap, cand, u, key, chosen):
    """One round of choices: each candidate picks a cell, full cells take a random subset.

    Candidate ``k`` picks the alternative at its inverse CDF: with ``cum = np.cumsum(weight *
    cap[cols])`` of its row and ``r = min(u[k] × total, nextafter(total, 0))``, the
    alternative ``(cum <= r).sum()``. Candidates are ordered by cell, ties by ``key``
    (``np.lexsort((key, pick))``); the first ``cap`` of each cell win it (``chosen`` is set and
    ``cap`` decremented in place).

    Returns:
        The losers in that order, and the number of losers.
    """
    nc = len(cand)
    n_alt = cols.shape[1]
    pick = np.empty(nc, np.int64)
    cum = np.empty(n_alt)
    for k in range(nc):
        row = cand[k]
        s = weight[row, 0] * cap[cols[row, 0]]
        cum[0] = s
        for a in range(1, n_alt):
            s += weight[row, a] * cap[cols[row, a]]
            cum[a] = s
        total = cum[n_alt - 1]
        r = min(u[k] * total, np.nextafter(total, 0.0))
        j = 0
        for a in range(n_alt):
            j += cum[a] <= r
        pick[k] = cols[row, j]
    order, start = _order_by_cell(pick, key, len(cap))
    losers = np.empty(nc, np.int64)
    n_lose = 0
    for c in range(len(cap)):
        won = min(start[c + 1] - start[c], cap[c])
        for t in range(start[c], start[c + 1]):
            k = order[t]
            if t - start[c] < won:
                chosen[cand[k]] = c
            else:
                losers[n_lose] = cand[k]
                n_lose += 1
        cap[c] -= won
    return losers[:n_lose]


@njit
def _dwellings(movers, chosen, vac, cell, key, n_cells):
    """Concrete dwellings: the movers with a cell take its first vacancies in a random order.

    Vacancies are ordered by cell, ties by ``key`` (``np.lexsort((key, cell))``); the movers
    with a cell (``chosen >= 0``), stably by cell. The k-th mover of a cell takes its k-th
    vacancy. Returns the movers in that order and their dwellings.
    """
    v_order, v_start = _order_by_cell(cell, key, n_cells)
    start = np.zeros(n_cells + 1, np.int64)
    for m in range(len(chosen)):
        if chosen[m] >= 0:
            start[chosen[m] + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    pos = start[:n_cells].copy()
    who = np.empty(start[n_cells], movers.dtype)
    target = np.empty(start[n_cells], vac.dtype)
    for m in range(len(chosen)):
        c = chosen[m]
        if c >= 0:
            t = pos[c]
            who[t] = movers[m]
            target[t] = vac[v_order[v_start[c] + t - start[c]]]
            pos[c] += 1
    return who, target


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
    housed, v_own, v_rent, weights = _arrival_counts(
        hh.alive, hh.dwelling, dw.occupant, dw.active, dw.sector, dw.nbhd, len(state.nb))
    want = 1.3 * max(0.0, target - housed)
    n = int(np.floor(want) + (rng.random() < want % 1))
    n = min(n, max(1, int(0.02 * housed)))
    if n <= 0:
        state.pending_arrivals = np.zeros(0, np.int64)
        return 0
    p_own = v_own / max(1, v_own + v_rent)
    own = rng.random(n) < p_own
    idx = hh.add(n)
    types = weighted_choice(rng, ARRIVAL_TYPES, n).astype(np.int8)
    z = np.where(own, rng.normal(0.4, 0.9, n), rng.normal(-0.2, 1.0, n))
    synthesise_households(rng, hh, idx, types, z)
    age_draw = rng.uniform(22, 55, n)
    income = income_from_z(z, state.median_income_uc)
    # arrivals are hosted in neighbourhoods in proportion to their dwellings
    nbhd = weighted_choice(rng, weights / weights.sum(), n)
    # they seek owner-occupied or rented dwellings; eligible low-income ones may also apply
    low = _arrival_fill(idx, own, nbhd, age_draw, income, state.month, state.quartile_cuts,
                        (state.ceiling_index, state.median_income_uc), z, hh.age, hh.income_uc,
                        hh.quartile, hh.nbhd, hh.tenure, hh.move_in, hh.seek, hh.adults,
                        hh.kids_u14, hh.kids_14p)
    apply = low & (rng.random(n) < beh.arrival_apply_share)
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
    # most arrivals with no home did not come; some applicants wait in the territory (hosted):
    # those with an income per UC below the arrivals' median
    n_came, hosted, hosted_nb = _settle(idx, hh.tenure, hh.app, hh.income_uc, hh.alive, hh.seek,
                                        hh.nbhd)
    if n_came < 0:  # arrivals not in increasing order (the model makes them consecutive rows)
        unhoused = hh.tenure[idx] == HOSTED
        stays = (hh.app[idx] != 0) & (hh.income_uc[idx] < np.median(hh.income_uc[idx]))
        never = idx[unhoused & ~stays]
        hh.alive[never] = False
        hh.tenure[never] = NEVER
        hh.seek[never] = 0
        hh.app[never] = 0
        came = np.setdiff1d(idx, never)
        n_came = len(came)
        hosted = came[hh.tenure[came] == HOSTED]
        hosted_nb = hh.nbhd[hosted]
    minus = np.full(len(hosted), -1)
    log.add(hosted, state.month, minus, minus, minus, hosted_nb, "arrival")
    state.arrivals += n_came
    return n_came


def private_market(state: State, beh: Behaviour, rng: np.random.Generator, log: MoveLog,
                   only: np.ndarray | None = None) -> dict[str, int]:
    """Match movers to vacant private dwellings by a logit choice under a budget constraint.

    The rental market is matched first, then the owner market (on the vacancies of the start).
    Both markets' moves are made and logged together (the same as one after the other: movers,
    their old and new dwellings are distinct, and the matching reads nothing that a move
    changes).

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
        cand, p = _seekers(hh.seek, hh.alive, hh.tenure)
        u = rng.random(len(cand))
    else:
        cand = np.asarray(only, np.int64)
        u = p = np.zeros(0)
    movers_rent, movers_own, vac_rent, vac_own = _market_sides(
        cand, u, p, only is None, hh.alive, hh.seek, dw.active, dw.occupant, dw.sector)
    rent = own = (_NONE, _NONE)
    if len(movers_rent) and len(vac_rent):
        rent = _match(state, beh, rng, movers_rent, vac_rent, S_PRIVATE)
    if len(movers_own) and len(vac_own):
        own = _match(state, beh, rng, movers_own, vac_own, S_OWNER)
    out = {"private_moves": 0, "exit_ownership": 0, "exit_private_rental": 0}
    if len(rent[0]) + len(own[0]) == 0:
        return out
    # this month's arrivals are logged as arrivals, former social tenants as exits
    who, target, tenure, from_dw, from_nb, to_nb, kind, social_rent, social_own = _move_records(
        rent[0], rent[1], own[0], own[1], hh.tenure, hh.dwelling, hh.nbhd, dw.nbhd,
        state.pending_arrivals)
    move_into(state, who, target, tenure)
    log.add(who, state.month, from_dw, from_nb, target, to_nb, kind)
    out["private_moves"] = len(who) - social_rent - social_own
    out["exit_ownership"] = int(social_own)
    out["exit_private_rental"] = int(social_rent)
    return out


def _choice_weights(state: State, beh: Behaviour, rng: np.random.Generator, movers: np.ndarray,
                    sector: int, cap: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Choice sets of the movers and the logit weight of each alternative.

    Each mover considers one room less than it needs (crowded) up to two more, in a random
    sample of neighbourhoods drawn uniformly with replacement (sampling of alternatives,
    McFadden 1978): the logit keeps its ranking of what it compares. Utility = attractiveness
    term − price × rent-to-income ratio (owners' cost = OWNER_COST_RATIO × the rent), minus
    CROWDING_PENALTY for one room less than needed (see :func:`_weights_kernel`).

    Args:
        state: Model state.
        beh: Behavioural parameters.
        rng: The run's random generator.
        movers: The movers (household rows).
        sector: S_PRIVATE or S_OWNER.
        cap: Vacancies per cell, if given: alternatives in cells without vacancies, which are
            never drawn, get weight 0 (most are; this saves their exponentials).

    Returns:
        Cells (neighbourhood × 5 + rooms − 1) of each alternative, shape (M, 4 × CHOICE_SET),
        and exp(utility without the vacancy term) up to a factor per row, 0 where the rent
        exceeds the budget.
    """
    hh, nb = state.hh, state.nb
    n_nb = len(nb)
    n_s = min(n_nb, CHOICE_SET)
    sample = rng.integers(0, n_nb, size=(len(movers), n_s))  # (M, S), with replacement
    # exp(utility), scaled by each row's largest utility (utilities span far less than the
    # ~700 that would underflow); rents above the budget are excluded
    return _weights_kernel(movers, sample, hh.income_uc, hh.adults, hh.kids_u14, hh.kids_14p,
                           nb.private_rent_m2, nb.attractiveness, AREA_BY_ROOMS,
                           sector == S_OWNER, beh.market_attractiveness, beh.market_price,
                           beh.budget_share, _NONE if cap is None else cap)


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
    cell, cap = _vacancy_cells(vac, dw.nbhd, dw.rooms, len(state.nb) * 5)
    cols, weight = _choice_weights(state, beh, rng, movers, sector, cap)
    chosen = np.full(len(movers), -1)
    pending = np.arange(len(movers))
    for _ in range(ROUNDS):
        if len(pending) == 0:
            break
        # movers with some weight on a cell that still has vacancies draw a cell (inverse CDF,
        # one uniform each), then a random key ordering the choosers of a full cell
        cand = _candidates(weight, cols, cap, pending)
        u = rng.random(len(cand))
        pending = _resolve(weight, cols, cap, cand, u, rng.random(len(cand)), chosen)
    # concrete dwellings: the first vacancies of each cell in a random order
    return _dwellings(movers, chosen, vac, cell, rng.random(len(vac)), len(cap))


def yearly_private_rents(state: State, beh: Behaviour) -> None:
    """January: private rents follow income growth and last year's change of attractiveness."""
    nb = state.nb
    change = nb.attractiveness - nb.attractiveness_year_start
    nb.private_rent_m2 *= (1.0 + beh.income_growth) * np.exp(0.1 * beh.rent_adjustment * change)
    nb.attractiveness_year_start = nb.attractiveness.copy()


PRIVATE_BUILD_CAP = 0.03  # at most 3 % of the private stock a year (France: ~1 %/yr built)


def private_construction_due(state: State, beh: Behaviour) -> int:
    """Return the number of new private and owner dwellings due this January.

    Enough for next year's households in the private sectors (those housed there now, grown by
    ``growth``) to leave ``private_vacancy_target`` of the stock vacant; none when the stock
    already exceeds it (supply follows demand: the vacancy does not drift), at most
    ``PRIVATE_BUILD_CAP`` of the stock.
    """
    dw = state.dw
    priv = (dw.sector != S_SOCIAL) & dw.active
    stock = int(priv.sum())
    occupied = int((priv & (dw.occupant >= 0)).sum())
    target = occupied * (1.0 + max(0.0, beh.growth)) / (1.0 - beh.private_vacancy_target)
    return int(min(max(0.0, round(target - stock)), PRIVATE_BUILD_CAP * stock))


def private_construction(state: State, beh: Behaviour, rng: np.random.Generator) -> int:
    """January: new private and owner dwellings follow demand, outside QPV.

    See :func:`private_construction_due`; placed by attractiveness outside QPV.
    """
    dw, nb = state.dw, state.nb
    n = private_construction_due(state, beh)
    if n == 0:
        return 0
    w = np.where(nb.qpv, 0.0, np.exp(0.5 * nb.attractiveness))
    idx = dw.add(n)
    dw.nbhd[idx] = weighted_choice(rng, w / w.sum(), n)
    dw.sector[idx] = np.where(rng.random(n) < 0.6, S_OWNER, S_PRIVATE)
    dw.rooms[idx] = 1 + weighted_choice(rng, [0.1, 0.2, 0.3, 0.25, 0.15], n)
    dw.area[idx] = AREA_BY_ROOMS[dw.rooms[idx]] * rng.uniform(0.9, 1.1, n)
    dw.new[idx] = True
    return n
