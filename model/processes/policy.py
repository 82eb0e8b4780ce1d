"""Policy events on their calendar (ODD §7.5).

New social dwellings, urban renewal (demolitions with relocation, rebuilding outside QPV,
diversification), sales to sitting tenants, renovation.

Deliveries are yearly (each January); renovation acts monthly. Counts per year are given at
scale 1 and multiplied by the territory's scale, with the fractional remainder carried over.
"""

from __future__ import annotations

import numpy as np

from ..applications import open_applications
from ..config import Behaviour, Levers
from ..draws import binomial, weighted_choice
from ..moves import KIND, MoveLog
from ..rules import household_size, rooms_needed
from ..state import (
    APP_NONE,
    APP_TRANSFER,
    AREA_BY_ROOMS,
    OWNER,
    PLAI,
    PLS,
    PLUS,
    S_OWNER,
    S_PRIVATE,
    S_SOCIAL,
    SOCIAL,
    State,
)

SOCIAL_ROOMS = (0.08, 0.20, 0.38, 0.26, 0.08)
DEMAND_MIX = 0.5  # share of the new units' size mix that follows the demand
BASE_RENT_M2 = {PLAI: 5.6, PLUS: 6.4, PLS: 8.7}  # new units, €/m²/month (SDES mean 6.27 in 2023)


def _yearly_count(state: State, key: str, per_year: float, scale: float) -> int:
    """Whole units due this year, carrying the fractional part over."""
    acc = state.accum.get(key, 0.0) + per_year * scale
    n = int(np.floor(acc + 1e-9))
    state.accum[key] = acc - n
    return n


# sales to sitting tenants (L443-7 ff. CCH): only dwellings built or acquired by the landlord
# more than ten years ago may be sold (L443-7), and a unit sold still counts as social housing
# in the SRU inventory for ten years after the sale (L302-5 CCH)
SALE_MIN_AGE_MONTHS = 120
SRU_AFTER_SALE_MONTHS = 120


def sru_units(state: State) -> np.ndarray:
    """Per active dwelling, whether it counts in the SRU inventory (L302-5 CCH).

    Social dwellings, and dwellings sold to their tenants within the last ten years.
    """
    dw = state.dw
    act = dw.active
    sold = (state.month - dw.sold_month[act] < SRU_AFTER_SALE_MONTHS) & (dw.sector[act] == S_OWNER)
    return (dw.sector[act] == S_SOCIAL) | sold


def sru_deficit_communes(state: State) -> np.ndarray:
    """Communes subject to SRU whose social share of dwellings is below 25 % (loi SRU art. 55).

    The social dwellings counted are those of the SRU inventory (:func:`sru_units`: sold units
    count for ten years after the sale).
    """
    dw, nb = state.dw, state.nb
    act = dw.active
    c = nb.commune[dw.nbhd[act]]
    tot = np.bincount(c, minlength=len(state.commune_ids))
    soc = np.bincount(c, weights=sru_units(state), minlength=len(state.commune_ids))
    return state.sru_applies & (soc < 0.25 * tot)


def demand_room_shares(state: State) -> np.ndarray:
    """Size mix of new social units: half the programme's (SOCIAL_ROOMS), half the demand's.

    The demand's: the rooms needed by pending applicants (1–5). Landlords programme sizes from
    the local demand (PLH, SNE demand by size) [assumption: half and half].
    """
    hh = state.hh
    apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE))
    prog = np.asarray(SOCIAL_ROOMS, float)
    if len(apps) == 0:
        return prog
    need = rooms_needed(household_size(hh, apps))
    demand = np.bincount(np.clip(need, 1, 5) - 1, minlength=5)[:5].astype(float)
    return DEMAND_MIX * demand / demand.sum() + (1.0 - DEMAND_MIX) * prog


def build_social(state: State, n: int, rng: np.random.Generator, *, outside_share: float,
                 plai_share: float, pls_share: float, sru_catchup: bool, holder_shares,
                 room_shares=SOCIAL_ROOMS) -> np.ndarray:
    """Deliver ``n`` new social dwellings, one new résidence per neighbourhood that receives some.

    ``room_shares``: the shares of 1–5 rooms.

    Returns:
        Indices of the new (vacant) dwellings.
    """
    if n <= 0:
        return np.zeros(0, np.int64)
    dw, nb = state.dw, state.nb
    n_out = binomial(rng, n, outside_share)
    sizes = {False: n - n_out, True: n_out}
    deficit = sru_deficit_communes(state) if sru_catchup else None
    target_nb = []
    for outside, k in sizes.items():
        if k == 0:
            continue
        w = np.where(nb.qpv != outside, 1.0, 0.0) * np.bincount(dw.nbhd, minlength=len(nb))
        if deficit is not None and outside and deficit[nb.commune].any():
            w = w * np.where(deficit[nb.commune], 1.0, 0.0)
        if w.sum() <= 0:
            w = np.ones(len(nb))
        target_nb.append(weighted_choice(rng, w / w.sum(), k))
    where = np.concatenate(target_nb)
    idx = dw.add(n)
    dw.nbhd[idx] = where
    dw.sector[idx] = S_SOCIAL
    dw.rooms[idx] = 1 + weighted_choice(rng, room_shares, n)
    dw.area[idx] = AREA_BY_ROOMS[dw.rooms[idx]] * rng.uniform(0.9, 1.1, n)
    u = rng.random(n)
    fin = np.where(u < plai_share, PLAI, np.where(u < plai_share + pls_share, PLS, PLUS))
    dw.financing[idx] = fin
    dw.rent_m2[idx] = np.vectorize(BASE_RENT_M2.get)(fin) * rng.uniform(0.95, 1.05, n)
    dw.holder[idx] = weighted_choice(rng, np.asarray(holder_shares) / sum(holder_shares), n)
    dw.landlord[idx] = 0
    dw.new[idx] = True
    dw.built_month[idx] = state.month
    # one résidence per receiving neighbourhood and year
    for j in np.unique(where):
        state.residence_ids.append(f"NEW{state.month // 12 + 1:02d}-{nb.ids[j]}")
        dw.residence[idx[where == j]] = len(state.residence_ids) - 1
    state.counters["new_units"] = state.counters.get("new_units", 0) + n
    return idx


def demolish(state: State, n: int, rng: np.random.Generator, levers: Levers) -> np.ndarray:
    """Mark about ``n`` social dwellings of QPV résidences for demolition (whole résidences).

    Tenants become relocation applicants (transfer requests with relocation status); vacant
    units close at once, occupied ones when their tenants are rehoused.

    Returns:
        Indices of the dwellings marked.
    """
    if n <= 0:
        return np.zeros(0, np.int64)
    dw, nb, hh = state.dw, state.nb, state.hh
    cand = (dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish & nb.qpv[dw.nbhd]
    res = np.unique(dw.residence[cand])
    marked: list[np.ndarray] = []
    total = 0
    for r in rng.permutation(res):
        if total >= n:
            break
        units = np.flatnonzero(cand & (dw.residence == r))
        units = units[: n - total] if total + len(units) > 1.5 * n else units
        marked.append(units)
        total += len(units)
    if not marked:
        return np.zeros(0, np.int64)
    units = np.concatenate(marked)
    dw.to_demolish[units] = True
    empty = units[dw.occupant[units] < 0]
    dw.active[empty] = False
    state.counters["demolished"] = state.counters.get("demolished", 0) + len(empty)
    tenants = dw.occupant[units]
    tenants = tenants[tenants >= 0]
    hh.app[tenants] = 0  # replaced by the relocation request
    open_applications(state, tenants, APP_TRANSFER, rng, max(2, levers.information.wish_breadth))
    hh.relocation[tenants] = True
    state.counters["relocations_opened"] = (state.counters.get("relocations_opened", 0)
                                            + len(tenants))
    return units


def diversify(state: State, n: int, rng: np.random.Generator) -> int:
    """Build ``n`` private-rental or owner dwellings in QPV neighbourhoods."""
    if n <= 0:
        return 0
    dw, nb = state.dw, state.nb
    q = np.flatnonzero(nb.qpv)
    if len(q) == 0:
        return 0
    idx = dw.add(n)
    dw.nbhd[idx] = rng.choice(q, size=n)
    dw.sector[idx] = np.where(rng.random(n) < 0.5, S_OWNER, S_PRIVATE)
    dw.rooms[idx] = 1 + weighted_choice(rng, [0.05, 0.2, 0.35, 0.25, 0.15], n)
    dw.area[idx] = AREA_BY_ROOMS[dw.rooms[idx]] * rng.uniform(0.9, 1.1, n)
    dw.new[idx] = True
    return n


def sell_to_tenants(state: State, n: int, rng: np.random.Generator, where: str,
                    log: MoveLog) -> int:
    """Sell ``n`` occupied social dwellings to their tenants (an exit to ownership, in place).

    Buyers are drawn among tenants not in relocation with a probability rising with income.
    Only dwellings delivered more than ten years ago may be sold (L443-7 CCH; the stock of the
    territory at the start is taken as over ten years old: the territory has no construction
    year [assumption]); a sold unit keeps counting in the SRU inventory for ten years
    (:func:`sru_units`).
    """
    if n <= 0:
        return 0
    dw, hh, nb = state.dw, state.hh, state.nb
    occ = ((dw.sector == S_SOCIAL) & dw.active & (dw.occupant >= 0) & ~dw.to_demolish
           & (dw.built_month <= state.month - SALE_MIN_AGE_MONTHS))
    if where == "outside_qpv":
        occ &= ~nb.qpv[dw.nbhd]
    elif where == "qpv":
        occ &= nb.qpv[dw.nbhd]
    units = np.flatnonzero(occ)
    tenants = dw.occupant[units]
    ok = ~hh.relocation[tenants]
    units, tenants = units[ok], tenants[ok]
    if len(units) == 0:
        return 0
    w = np.exp(1.5 * hh.z[tenants])
    k = min(n, len(units))
    pick = rng.choice(len(units), size=k, replace=False, p=w / w.sum())
    units, buyers = units[pick], tenants[pick]
    dw.sector[units] = S_OWNER
    dw.residence[units] = -1
    dw.financing[units] = -1
    dw.sold_month[units] = state.month
    hh.tenure[buyers] = OWNER
    hh.app[buyers] = 0
    hh.seek[buyers] = 0
    log.add(buyers, state.month, units, dw.nbhd[units], units, dw.nbhd[units], "sale_to_tenant")
    state.counters["sales"] = state.counters.get("sales", 0) + k
    return k


def construction_multiplier(tension: float, tension_target: float, response: float,
                            vacancy: float, vacancy_target: float) -> float:
    """Share of the social construction programme delivered, given the demand.

    Landlords build where the demand is. At the target tension (pending applicants per yearly
    allocation, 4.3 in 2022, SDES) the programme is delivered as set
    (``Construction.stock_share``); it rises or falls by ``response`` × the relative gap of
    tension, between none and twice the programme. A vacancy above ``vacancy_target`` (RPLS
    2023: 2.4 %) cuts it further, to none at twice the target. ``response`` 0 and a vacancy
    below the target deliver the programme whatever the demand.
    """
    m = 1.0
    if tension_target > 0.0 and np.isfinite(tension):
        m = float(np.clip(1.0 + response * (tension / tension_target - 1.0), 0.0, 2.0))
    if vacancy_target > 0.0 and vacancy > vacancy_target:
        m *= float(np.clip(1.0 - (vacancy - vacancy_target) / vacancy_target, 0.0, 1.0))
    return m


def tension(state: State, log: MoveLog) -> float:
    """Pending applicants per signed lease over the last twelve months (nan without leases).

    Leases are read from the move log (transfers, first lettings, relocations) since the
    previous call, which marks the log.
    """
    start = int(state.accum.get("tension_log_mark", 0))
    arr = log.array(min(start, len(log)))
    state.accum["tension_log_mark"] = float(len(log))
    kinds = (KIND["transfer"], KIND["first_letting"], KIND["relocation"])
    recent = arr[1] >= state.month - 12
    leases = int((np.isin(arr[6], kinds) & recent).sum())
    hh = state.hh
    pending = int((hh.alive & (hh.app != APP_NONE)).sum())
    return pending / leases if leases else float("nan")


def social_vacancy(state: State) -> float:
    """Vacant share of the active social dwellings not marked for demolition."""
    dw = state.dw
    soc = (dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
    n = int(soc.sum())
    return float((soc & (dw.occupant < 0)).sum() / n) if n else 0.0


def policy_events(state: State, levers: Levers, rng: np.random.Generator, log: MoveLog,
                  scale: float, beh: Behaviour | None = None) -> dict[str, int]:
    """Apply this month's policy events (deliveries in January, renovation every month).

    With ``beh``, the programme of new social dwellings (``Construction.stock_share``) follows
    the tension and the vacancy (:func:`construction_multiplier`) and its sizes the demand
    (:func:`demand_room_shares`); the lever ``units_per_year`` adds its units as set.
    """
    out: dict[str, int] = {}
    nb = state.nb
    ren = levers.renovation
    if ren.investment_per_qpv > 0 and state.month < 12 * ren.years:
        step = ren.investment_per_qpv / 12.0
        nb.base_attractiveness[nb.qpv] += step
        nb.investment[nb.qpv] += step
    if state.month % 12 != 0:
        return out
    c, r, s = levers.construction, levers.renewal, levers.sales
    holder_shares = levers.reservation.shares()
    stock = int(((state.dw.sector == S_SOCIAL) & state.dw.active).sum())
    # the landlords' programme follows demand (volume by the vacancy, sizes by the demand);
    # further units of the lever units_per_year are built as set
    programme = c.stock_share * stock
    rooms = SOCIAL_ROOMS
    if beh is not None:
        programme *= construction_multiplier(tension(state, log), beh.tension_target,
                                             beh.construction_response, social_vacancy(state),
                                             beh.social_vacancy_target)
        rooms = demand_room_shares(state)
    due = c.units_per_year * scale + programme
    out["new_units"] = len(build_social(
        state, _yearly_count(state, "construction", due, 1.0), rng,
        outside_share=c.share_outside_qpv, plai_share=c.plai_share, pls_share=c.pls_share,
        sru_catchup=c.sru_catchup, holder_shares=holder_shares, room_shares=rooms))
    demolished = demolish(state, _yearly_count(state, "demolition", r.demolitions_per_year, scale),
                          rng, levers)
    out["marked_for_demolition"] = len(demolished)
    n_rebuild = _yearly_count(state, "rebuild", r.rebuild_outside_share * len(demolished), 1.0)
    out["rebuilt"] = len(build_social(state, n_rebuild, rng, outside_share=1.0,
                                      plai_share=r.rebuild_plai_share, pls_share=0.0,
                                      sru_catchup=c.sru_catchup, holder_shares=holder_shares))
    out["diversification"] = diversify(
        state, _yearly_count(state, "diversification", r.diversification_per_year, scale), rng)
    out["sales"] = sell_to_tenants(state, _yearly_count(state, "sales", s.share_per_year * stock,
                                                        1.0), rng, s.where, log)
    _ = SOCIAL
    return out
