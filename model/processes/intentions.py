"""Move intentions (ODD §7.3) and departures from the territory (ODD §7.4).

Each month every household draws whether it wants to move. Hazards rise with over-crowding,
under-occupation, rent burden and the gap between the attractiveness its income lets it aspire to
and that of its neighbourhood. A social tenant asks for a transfer (mutation) or leaves the stock
for private renting or ownership when its income allows (an upward exit, helped by the SLS
surcharge and forced by the loss of the right to stay); a low-income private tenant applies for
social housing; owners move rarely; anyone may leave the territory. Every move hazard of a
housed household also depends on the reference person's age and on the time in the home
(:func:`mobility`). Demands lapse when not renewed on their yearly anniversary
(:func:`non_renewals`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..ceilings import resources_one
from ..config import Behaviour, Levers
from ..jit import njit
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
    effort_one,
    household_size,
    income_one,
    maximum_one,
    monthly_hazard,
    open_applications,
    plus_ceiling_one,
    rooms_needed_one,
    sample_without_replacement,
    size_one,
)

ASPIRATION_SLOPE = 0.7  # attractiveness units per standard deviation of the income score
# multipliers of the application hazard of private tenants: effort rate above 35 %, income
# score below −0.5 (else), household of 1, 2, 3 or more persons
APPLY_EFFORT = 2.0
APPLY_LOW_INCOME = (1.5, 0.6)
APPLY_FAMILY = (1.0, 1.5, 2.5)


# group selectors of _pick and the scanning kernels: tenure code, any tenure, any but hosted;
# application or search column; that column none, not none, or either
_ANY, _NOT_HOSTED = -1, -2
_APP, _SEEK = 0, 1
_ZERO, _NONZERO = 0, 1
_NO_ROWS = np.zeros(0, np.int64)
# word-at-a-time scanning: eight one-byte columns (bool, int8) are read as one uint64
_LO = np.uint64(0x0101010101010101)
_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_PAIRS = np.uint64(0x0303030303030303)
_ONE = np.uint64(1)
_FAMILY = np.asarray(APPLY_FAMILY)
_LOW, _NOT_LOW = APPLY_LOW_INCOME
_HOMELESS_AREA = float(AREA_BY_ROOMS[1])  # m² used in effort rates of households without home

# mobility by age of the reference person (ODD §7.3): yearly share of people who moved, by age
# (RP 2014, Observatoire des territoires 2018: 11 % overall, 28 % at 20–24, under 5 % from about
# 55, rising again after 80; INSEE Première n°2073, 2025: 8.8 % in 2023). Bands: < 25, 25–29,
# 30–39, 40–54, 55–79, 80+; the values between the published anchors are interpolated
# [assumption]. Hazards are multiplied by the band's rate over AGE_MOBILITY_MEAN, the mean of
# the schedule over the reference persons of the default territory at the start, so that the
# calibrated base rates keep their meaning.
AGE_BANDS = (25.0, 30.0, 40.0, 55.0, 80.0)
AGE_MOBILITY = (0.28, 0.20, 0.13, 0.075, 0.045, 0.06)
AGE_MOBILITY_MEAN = 0.101
# time in place: the first two years more mobile, after eight years less (duration_effect)
RECENT_MONTHS, SETTLED_MONTHS = 24, 96
_AGE_MULT = np.asarray(AGE_MOBILITY) / AGE_MOBILITY_MEAN
_AGE_EDGES = np.asarray(AGE_BANDS)


@njit
def mobility_one(age, months_in_place, duration_effect):
    """Multiplier of a household's move hazards for its age and its time in its home.

    The age schedule's rate over its mean (AGE_MOBILITY), times exp(duration_effect) in the
    first RECENT_MONTHS and exp(−duration_effect / 2) after SETTLED_MONTHS.
    """
    band = 0
    while band < len(_AGE_EDGES) and age >= _AGE_EDGES[band]:
        band += 1
    m = _AGE_MULT[band]
    if months_in_place < RECENT_MONTHS:
        m *= math.exp(duration_effect)
    elif months_in_place >= SETTLED_MONTHS:
        m *= math.exp(-0.5 * duration_effect)
    return m


def mobility(state: State, idx: np.ndarray, duration_effect: float, *, by_age: bool = True
             ) -> np.ndarray:
    """:func:`mobility_one` of households ``idx`` (array version).

    ``by_age=False`` keeps the time-in-place factor only (departures from the territory: the
    arrivals that replace them are not drawn by the same age schedule, so an age-selective
    outflow would age the population and lower its births).
    """
    hh = state.hh
    idx = np.asarray(idx, np.int64)
    band = np.searchsorted(_AGE_EDGES, hh.age[idx].astype(np.float64), side="right")
    m = _AGE_MULT[band] if by_age else np.ones(len(idx))
    months = state.month - hh.move_in[idx]
    return m * np.where(months < RECENT_MONTHS, math.exp(duration_effect),
                        np.where(months >= SETTLED_MONTHS, math.exp(-0.5 * duration_effect), 1.0))


def mobility_bound(duration_effect: float) -> float:
    """Return the largest value of :func:`mobility_one` (thinning bound)."""
    return float(_AGE_MULT.max() * math.exp(duration_effect))


def aspiration(z: np.ndarray) -> np.ndarray:
    """Neighbourhood attractiveness a household's income lets it aspire to."""
    return ASPIRATION_SLOPE * z


def _positions(table_len: int, idx) -> np.ndarray:
    """Return ``idx`` as an integer array of row indices (it may be a slice or a mask)."""
    if isinstance(idx, np.ndarray) and idx.dtype.kind in "iu":
        return idx
    return np.arange(table_len)[idx]


def crowding(state: State, idx: np.ndarray, size: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Return over-crowding and under-occupation of households ``idx``.

    Over-crowded: fewer rooms than needed; under-occupying: rooms > size + 1 (loi ELAN). Both
    are false for households without a dwelling.
    """
    hh, dw = state.hh, state.dw
    idx = _positions(hh.n, idx)
    if size is None:
        size = household_size(hh, idx)
    return _crowding(idx, np.asarray(size), hh.dwelling, dw.rooms)


def housing_situation(state: State, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Over-crowding, under-occupation and effort rate of housed households ``idx``."""
    hh, dw, nb = state.hh, state.dw, state.nb
    over, under, effort, size, income = _situation(
        _positions(hh.n, idx), hh.dwelling, hh.tenure, hh.nbhd, hh.adults, hh.kids_u14,
        hh.kids_14p, hh.income_uc, dw.rooms, dw.area, dw.rent_m2, dw.rent_factor,
        nb.private_rent_m2)
    return {"overcrowded": over, "under_occupied": under, "effort": effort, "size": size,
            "income": income}


@lru_cache(maxsize=256)
def _hazard(annual: float, multiplier: float = 1.0) -> float:
    """:func:`monthly_hazard` of scalars, remembered (the same few values every month)."""
    return monthly_hazard(annual, multiplier)


@lru_cache(maxsize=256)
def _rate(annual: float) -> float:
    """Monthly rate λ/12 of :func:`monthly_hazard` (kernels compute 1 − exp(−λ · m / 12))."""
    return float(-np.log1p(-min(float(annual), 0.999999)) / 12.0)


def move_intentions(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator,
                    log: MoveLog) -> dict[str, int]:
    """Draw this month's transfer requests, applications, upward exits and departures.

    Hazards that are equal for a whole group are drawn with :func:`bernoulli_subset`, those of
    private tenants by thinning (:func:`thinned`), the others with one uniform per household,
    for the households they concern only: the laws of one uniform per household throughout.
    The groups are living households of a tenure, looking or not, applying or not, relocated
    or not (see :func:`_pick`); no tenure changes before the departures at the end.
    """
    hh = state.hh
    cols = (hh.alive, hh.tenure, hh.app, hh.seek, hh.relocation)
    # sizes of the groups drawn from later, before anything changes: social, private and owner
    # households not relocated (departures), private tenants not looking, private tenants
    # without an application, owners not looking
    n_soc, n_priv, n_own, n_priv_idle, n_priv_noapp, n_own_idle = _group_sizes(*cols)
    out = _social_tenants(state, beh, levers, rng)
    out.update(_private_tenants(state, beh, levers, rng, n_priv_idle, n_priv_noapp))

    # owners move rarely (by thinning: drawn with the largest mobility, kept with their own)
    de = float(beh.duration_effect)
    top = mobility_bound(de)
    bound = _hazard(beh.owner_move_rate, top)
    mv = _pick(rng, cols, bound, OWNER, _SEEK, _ZERO, False, n_own_idle)
    if len(mv):
        mv = mv[rng.random(len(mv)) * bound
                < monthly_hazard(beh.owner_move_rate, mobility(state, mv, de))]
        _set_owner_seek(hh.seek, mv, hh.z)

    # applicants cancel between renewals, or do not renew their demand on its anniversary
    # (CCH R441-2-6); hosted ones whose demand ends leave the territory
    cancel = _pick(rng, cols, _hazard(beh.give_up_rate), _ANY, _APP, _NONZERO, True)
    lapsed = non_renewals(state, beh.renewal_dropout, rng)
    out["non_renewals"] = len(lapsed)
    if len(lapsed):
        cancel = np.union1d(cancel, lapsed)
    gone, n_free, n_applying = _cancel(cancel, hh.alive, hh.tenure, hh.app, hh.priority,
                                       hh.relocation)
    out["cancellations"] = len(cancel)

    # departures from the territory (relocated households wait for their offer); hosted
    # households that do not apply and find nothing go elsewhere (×8). Groups: social, owner,
    # private households, hosted ones without and with an application (see _departures)
    # housed households by thinning on their mobility (age, time in place)
    groups = ((n_soc, 0.8 * top), (n_own, 0.5 * top), (n_priv, 1.0 * top), (n_free, 8.0),
              (n_applying, 1.5))
    ranks = [_draw_ranks(rng, n, _hazard(beh.leave_rate, mult)) for n, mult in groups]
    leave = _departures(hh.alive, hh.tenure, hh.app, hh.relocation, ranks[0], ranks[1],
                        ranks[2], ranks[3], ranks[4], gone)
    leave = _thin_departures(state, leave, gone, beh.leave_rate, de, top, rng)
    remove(state, leave, log, "departure")
    out["departures"] = len(leave)
    return out




def _thin_departures(state: State, leave: np.ndarray, gone: np.ndarray, rate: float,
                     duration_effect: float, top: float, rng: np.random.Generator
                     ) -> np.ndarray:
    """Keep the housed households drawn to leave with probability hazard / bound.

    They were drawn with the bound (their tenure's multiplier × the largest mobility); each is
    kept when a uniform × the bound falls below its own hazard (its tenure's multiplier × its
    mobility). Hosted households and ``gone`` (hosted ones whose demand ended) all leave.
    """
    hh = state.hh
    ten = hh.tenure[leave]
    housed = (ten != HOSTED) & ~np.isin(leave, gone)
    if not housed.any():
        return leave
    who = leave[housed]
    g = np.select([hh.tenure[who] == SOCIAL, hh.tenure[who] == OWNER], [0.8, 0.5], 1.0)
    bound = monthly_hazard(rate, g * top)
    h = monthly_hazard(rate, g * mobility(state, who, duration_effect, by_age=False))
    keep = np.ones(len(leave), bool)
    keep[np.flatnonzero(housed)] = rng.random(len(who)) * bound < h
    return leave[keep]


def non_renewals(state: State, dropout: float, rng: np.random.Generator) -> np.ndarray:
    """Demands not renewed this month (ascending rows), to be cancelled.

    A demand must be renewed every year on its anniversary or it is cancelled (CCH R441-2-6);
    each demand reaching a whole number of years this month is not renewed with probability
    ``dropout`` (one uniform per such demand). Relocations by urban renewal are not renewed by
    the household (the landlord owes the offer) and never lapse.
    """
    hh = state.hh
    due = _anniversaries(hh.alive, hh.app, hh.app_month, hh.relocation, state.month)
    if len(due) == 0 or dropout <= 0.0:
        return _NO_ROWS
    return due[rng.random(len(due)) < dropout]


@njit
def _anniversaries(alive, app, app_month, relocation, month):
    """Living applicants (not relocated) whose demand is a whole number (≥ 1) of years old."""
    n = 0
    for i in range(len(alive)):
        age = month - app_month[i]
        n += alive[i] and app[i] != APP_NONE and not relocation[i] and age > 0 and age % 12 == 0
    out = np.empty(n, np.int64)
    m = 0
    for i in range(len(alive)):
        age = month - app_month[i]
        if alive[i] and app[i] != APP_NONE and not relocation[i] and age > 0 and age % 12 == 0:
            out[m] = i
            m += 1
    return out


def _pick(rng: np.random.Generator, cols: tuple, p: float, tenure: int, x: int, x_mode: int,
          settled: bool, n: int | None = None) -> np.ndarray:
    """:func:`bernoulli_subset` of a group of households, without listing the group.

    The group: living households of tenure ``tenure`` (any with ``_ANY``) whose application
    (``x`` = ``_APP``) or search (``_SEEK``) is none (``x_mode`` = ``_ZERO``) or not
    (``_NONZERO``) or either (``_ANY``), not relocated if ``settled``; ``n`` its size if known.
    The same draws as :func:`bernoulli_subset` (a binomial count, then that many members
    without replacement, in row order), members found by their rank in the group.
    """
    alive, ten, app, seek, reloc = cols
    xcol = app if x == _APP else seek
    if n is None:
        n = _group_count(alive, ten, xcol, reloc, tenure, x_mode, settled)
    ranks = _draw_ranks(rng, n, p)
    if len(ranks) == 0:
        return _NO_ROWS
    return _group_ranks(alive, ten, xcol, reloc, tenure, x_mode, settled, ranks)


def _draw_ranks(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Ranks (unsorted) of the members of a group of ``n`` hit by an event of probability ``p``.

    The draws of :func:`bernoulli_subset`: a binomial count, then that many ranks without
    replacement.
    """
    k = int(rng.binomial(n, min(max(float(p), 0.0), 1.0))) if n else 0
    if k == 0:
        return _NO_ROWS
    return sample_without_replacement(rng, n, k)


def _social_tenants(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator
                    ) -> dict[str, int]:
    """Draw social tenants' transfer requests and upward exits (SLS, loss of the right to stay).

    Transfer requests among tenants without an application, upward exits among tenants not
    already looking.
    """
    hh, dw, nb = state.hh, state.dw, state.nb
    rules = levers.over_income
    # transfer requests: more when over-crowded or under-occupying, and with the gap between
    # aspiration and the attractiveness of the neighbourhood; upward exits: with income, more
    # for tenants paying the SLS
    me = float(beh.mismatch_effect)
    de = float(beh.duration_effect)
    tr, h_tr, idle = _social_hazards(
        hh.alive, hh.tenure, hh.app, hh.seek, hh.dwelling, dw.rooms, hh.adults, hh.kids_u14,
        hh.kids_14p, hh.z, hh.nbhd, nb.attractiveness, me, float(np.sqrt(me)),
        float(beh.aspiration_effect), _rate(beh.transfer_rate), hh.age, hh.move_in,
        state.month, de)
    tr = _below(tr, rng.random(len(tr)), 1.0, h_tr)
    if len(tr):
        open_applications(state, tr, APP_TRANSFER, rng, levers.information.wish_breadth)
    # upward exits, forced by the loss of the right to stay
    up, own_p = _upward(idle, rng.random(len(idle)), hh.z, hh.months_over,
                        hh.months_over_loss, _rate(beh.upward_exit_rate),
                        float(rules.sls_exit_multiplier), bool(rules.loss_enabled),
                        float(12 * rules.loss_years + rules.loss_notice_months),
                        float(beh.ownership_share * 2.0),
                        float(beh.exit_income_effect), hh.age, hh.move_in, state.month, de)
    _set_seek(hh.seek, up, rng.random(len(own_p)), own_p)
    return {"transfer_requests": len(tr), "exit_intentions": len(up)}


def _private_tenants(state: State, beh: Behaviour, levers: Levers, rng: np.random.Generator,
                     n_idle: int, n_no_app: int) -> dict[str, int]:
    """Draw the moves of private tenants and their applications for social housing.

    Both are drawn by thinning (:func:`thinned`): the individual hazards are only computed for
    the few tenants drawn with the largest one. ``n_idle`` private tenants are not looking,
    ``n_no_app`` have no application.
    """
    hh, dw, nb = state.hh, state.dw, state.nb
    cols = (hh.alive, hh.tenure, hh.app, hh.seek, hh.relocation)
    me = float(beh.mismatch_effect)
    # thinning as in thinned(): candidates drawn with the bound, kept with hazard / bound
    de = float(beh.duration_effect)
    bound = _hazard(beh.private_move_rate, beh.mismatch_effect * mobility_bound(de))
    mv = _pick(rng, cols, bound, PRIVATE, _SEEK, _ZERO, False, n_idle)
    if len(mv):
        mv = _movers(mv, rng.random(len(mv)), float(bound), hh.dwelling, dw.rooms, hh.adults,
                     hh.kids_u14, hh.kids_14p, _rate(beh.private_move_rate), me, hh.age,
                     hh.move_in, state.month, de)
    _set_buyers(hh.seek, mv, hh.z, rng.random(len(mv)))
    # applications, among eligible tenants without one
    top = max(APPLY_LOW_INCOME) * APPLY_EFFORT * beh.mismatch_effect * max(APPLY_FAMILY)
    bound = _hazard(beh.apply_rate, top)
    ap = _pick(rng, cols, bound, PRIVATE, _APP, _ZERO, False, n_no_app)
    if len(ap):
        u = rng.random(len(ap))
        ap = _below(ap, u, float(bound), _apply_hazards(
            ap, hh.dwelling, hh.tenure, hh.nbhd, hh.adults, hh.kids_u14, hh.kids_14p,
            hh.income_uc, hh.z, hh.age, hh.rfr, dw.rooms, dw.area, dw.rent_m2, dw.rent_factor,
            nb.private_rent_m2, float(state.ceiling_index), float(state.median_income_uc),
            _rate(beh.apply_rate), me))
        if len(ap):
            open_applications(state, ap, APP_FIRST, rng, levers.information.wish_breadth)
    return {"applications": len(ap)}


def _move_hazard(state: State, beh: Behaviour, idx: np.ndarray) -> np.ndarray:
    """Monthly move probability of private tenants ``idx`` (more when over-crowded).

    Times their mobility for age and time in place (:func:`mobility`).
    """
    over, _ = crowding(state, idx)
    return monthly_hazard(beh.private_move_rate, np.where(over, beh.mismatch_effect, 1.0)
                          * mobility(state, idx, beh.duration_effect))


def _apply_hazard(state: State, beh: Behaviour, idx: np.ndarray) -> np.ndarray:
    """Monthly probability that private tenants ``idx`` apply for social housing (0: ineligible).

    Eligible below the PLUS ceiling; more often when over-crowded, with an effort rate above
    35 %, a low income and a family (see :func:`_apply_hazards`).
    """
    hh, dw, nb = state.hh, state.dw, state.nb
    return _apply_hazards(
        _positions(hh.n, idx), hh.dwelling, hh.tenure, hh.nbhd, hh.adults, hh.kids_u14,
        hh.kids_14p, hh.income_uc, hh.z, hh.age, hh.rfr, dw.rooms, dw.area, dw.rent_m2,
        dw.rent_factor, nb.private_rent_m2, float(state.ceiling_index),
        float(state.median_income_uc), _rate(beh.apply_rate), float(beh.mismatch_effect))


def give_up_seeking(state: State, rng: np.random.Generator, p: float = 0.2) -> None:
    """Housed households that found nothing on the market stop looking with probability ``p``.

    Tenants who lost the right to stay keep looking (once the run has started).
    """
    hh = state.hh
    n = _group_count(hh.alive, hh.tenure, hh.seek, hh.relocation, _NOT_HOSTED, _NONZERO, False)
    _stop_seeking(rng.random(n), float(p), state.month >= 0, hh.alive, hh.tenure, hh.seek,
                  hh.relocation, hh.months_over_loss)


# ----------------------------------------------------------------------------------------------
# kernels (numpy's arithmetic and types, see model.jit)
# ----------------------------------------------------------------------------------------------


@njit
def row_situation(i, dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, dw_rooms,
                   dw_area, rent_m2, rent_factor, private_rent_m2):
    """Over-crowding, under-occupation, effort rate, size and income of household row ``i``.

    Rent: social rent at the dwelling's modulation (float32 as the columns), private rent of
    the neighbourhood, none for owners; households without a dwelling have neither crowding
    nor effort.
    """
    size = size_one(adults[i], kids_u14[i], kids_14p[i])
    income = income_one(income_uc[i], adults[i], kids_u14[i], kids_14p[i])
    d = dwelling[i]
    if d < 0:
        return False, False, 0.0, size, income
    rooms = dw_rooms[d]
    area = np.float64(dw_area[d])
    t = tenure[i]
    if t == OWNER:
        rent = 0.0
    elif t == SOCIAL:
        rent = np.float64(np.float32(np.float32(rent_m2[d] * dw_area[d]) * rent_factor[d]))
    else:
        rent = private_rent_m2[nbhd[i]] * area
    return (rooms < rooms_needed_one(size), rooms > size + 1,
            effort_one(income, size, rent, area), size, income)


@njit
def _crowding(idx, size, dwelling, dw_rooms):
    """Over-crowding and under-occupation of households ``idx`` of sizes ``size``."""
    n = len(idx)
    over = np.zeros(n, np.bool_)
    under = np.zeros(n, np.bool_)
    for k in range(n):
        d = dwelling[idx[k]]
        if d >= 0:
            rooms = dw_rooms[d]
            over[k] = rooms < rooms_needed_one(size[k])
            under[k] = rooms > size[k] + 1
    return over, under


@njit
def _situation(idx, dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, dw_rooms,
               dw_area, rent_m2, rent_factor, private_rent_m2):
    """Over-crowding, under-occupation, effort rate, size (int16) and income of ``idx``."""
    n = len(idx)
    over = np.zeros(n, np.bool_)
    under = np.zeros(n, np.bool_)
    effort = np.zeros(n)
    size = np.empty(n, np.int16)
    income = np.empty(n)
    for k in range(n):
        over[k], under[k], effort[k], size[k], income[k] = row_situation(
            idx[k], dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, dw_rooms,
            dw_area, rent_m2, rent_factor, private_rent_m2)
    return over, under, effort, size, income


@njit
def _below(idx, u, scale, h):
    """Members of ``idx`` whose uniform ``u`` × ``scale`` is below their probability ``h``."""
    keep = np.empty(len(idx), np.int64)
    m = 0
    for k in range(len(idx)):
        if u[k] * scale < h[k]:
            keep[m] = idx[k]
            m += 1
    return keep[:m].copy()


@njit
def _upward(idle, u, z, months_over, months_over_loss, rate, sls_multiplier, loss_enabled,
            loss_months, own2, income_effect, age, move_in, month, duration_effect):
    """Upward exits among ``idle`` and their probabilities of seeking to buy (else to rent).

    An exit is drawn, ``u`` < 1 − exp(−rate × m) with m = exp(income_effect × z) × the SLS
    multiplier for tenants above the SLS threshold × the mobility for age and time in place
    (:func:`mobility_one`), or forced after ``loss_months`` above the loss threshold; the
    ownership probability is ``own2`` / (1 + exp(−1.5 z)).
    """
    up = np.empty(len(idle), np.int64)
    m = 0
    for k in range(len(idle)):
        i = idle[k]
        mob = mobility_one(age[i], month - move_in[i], duration_effect)
        x = rate * (np.exp(income_effect * z[i]) * (sls_multiplier if months_over[i] > 0
                                                     else 1.0) * mob)
        # 1 − exp(−x) ≤ x: the probability is only computed when u may fall below it
        hit = u[k] < x * (1.0 + 1e-9) and u[k] < -np.expm1(-x)
        if hit or (loss_enabled and months_over_loss[i] >= loss_months):
            up[m] = i
            m += 1
    up = up[:m].copy()
    own_p = np.empty(m)
    for k in range(m):
        own_p[k] = own2 / (1.0 + np.exp(-1.5 * z[up[k]]))
    return up, own_p


@njit
def _set_seek(seek, idx, u, own_p):
    """Set households ``idx`` to seek to buy where ``u`` < ``own_p``, else to rent."""
    for k in range(len(idx)):
        seek[idx[k]] = SEEK_OWN if u[k] < own_p[k] else SEEK_RENT


@njit
def _set_buyers(seek, idx, z, u):
    """Set private tenants ``idx`` to seek to buy when z > 0.3 and ``u`` < 0.35, else to rent."""
    for k in range(len(idx)):
        i = idx[k]
        seek[i] = SEEK_OWN if (z[i] > 0.3 and u[k] < 0.35) else SEEK_RENT


@njit
def _set_owner_seek(seek, idx, z):
    """Set moving owners ``idx`` to seek to rent when z < −0.5, else to buy."""
    for k in range(len(idx)):
        i = idx[k]
        seek[i] = SEEK_RENT if z[i] < -0.5 else SEEK_OWN


@njit
def _movers(cand, u, bound, dwelling, dw_rooms, adults, kids_u14, kids_14p, rate, mismatch,
            age, move_in, month, duration_effect):
    """Candidates kept by thinning: ``u`` × ``bound`` below their move probability.

    Move probability 1 − exp(−rate × m), m = (mismatch when over-crowded, else 1) × the
    mobility for age and time in place (:func:`mobility_one`).
    """
    keep = np.empty(len(cand), np.int64)
    m = 0
    for k in range(len(cand)):
        i = cand[k]
        mult = mobility_one(age[i], month - move_in[i], duration_effect)
        d = dwelling[i]
        if d >= 0 and dw_rooms[d] < rooms_needed_one(adults[i] + kids_u14[i] + kids_14p[i]):
            mult *= mismatch
        if u[k] * bound < -np.expm1(-rate * mult):
            keep[m] = i
            m += 1
    return keep[:m].copy()


@njit
def _apply_hazards(idx, dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, z, age,
                   rfr, dw_rooms, dw_area, rent_m2, rent_factor, private_rent_m2, ceiling_index,
                   median, rate, mismatch):
    """Monthly application probabilities of private tenants ``idx`` (0 above the PLUS ceiling).

    Resources against the ceiling: :func:`~mixsim.model.ceilings.resources_one` (RFR N-2).

    1 − exp(−rate × m), m = (APPLY_EFFORT if effort > 35 %) × (low-income or other multiplier)
    × (mismatch if over-crowded) × family multiplier of the size (1, 2, 3+ persons).
    """
    h = np.zeros(len(idx))
    for k in range(len(idx)):
        i = idx[k]
        over, _, effort, size, income = row_situation(
            i, dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, dw_rooms, dw_area,
            rent_m2, rent_factor, private_rent_m2)
        if not (resources_one(income, income_uc[i], rfr[i], median)
                <= plus_ceiling_one(adults[i], size, age[i], ceiling_index)):
            continue
        mult = ((APPLY_EFFORT if effort > 0.35 else 1.0) * (_LOW if z[i] < -0.5 else _NOT_LOW)
                * (mismatch if over else 1.0) * _FAMILY[min(max(size, 1), 3) - 1])
        h[k] = -np.expm1(-rate * mult)
    return h


@njit
def _nonzero_bytes(x):
    """Set bit 0 of each byte of the uint64 ``x`` where that byte is not zero (others 0)."""
    x = (x & _NIBBLES) | ((x >> np.uint64(4)) & _NIBBLES)
    x = (x & _PAIRS) | ((x >> np.uint64(2)) & _PAIRS)
    return (x | (x >> _ONE)) & _LO


@njit
def _words(col, nw):
    """View the first ``nw`` × 8 entries of a one-byte column as ``nw`` uint64 words."""
    return col[: nw * 8].view(np.uint64)


@njit
def _word_flags(alive, ten, x, reloc, tenure, x_mode, settled):
    """Group membership (bit 0 of each byte) of eight rows (see :func:`_pick`).

    ``alive``, ``ten``, ``x``, ``reloc``: the rows' columns as one word each (:func:`_words`).
    """
    f = alive
    if tenure >= 0:
        f &= _nonzero_bytes(ten ^ (np.uint64(tenure) * _LO)) ^ _LO
    elif tenure == _NOT_HOSTED:
        f &= _nonzero_bytes(ten ^ (np.uint64(HOSTED) * _LO))
    if x_mode == _ZERO:
        f &= _nonzero_bytes(x) ^ _LO
    elif x_mode == _NONZERO:
        f &= _nonzero_bytes(x)
    if settled:
        f &= reloc ^ _LO
    return f


@njit
def _row_flag(i, alive, ten, x, reloc, tenure, x_mode, settled):
    """Whether row ``i`` is in the group (see :func:`_pick`)."""
    if not alive[i]:
        return False
    if (tenure >= 0 and ten[i] != tenure) or (tenure == _NOT_HOSTED and ten[i] == HOSTED):
        return False
    if (x_mode == _ZERO and x[i] != 0) or (x_mode == _NONZERO and x[i] == 0):
        return False
    return not (settled and reloc[i])


@njit
def _popcount(f):
    """Count the bytes of ``f`` with bit 0 set (the other bits being 0)."""
    return np.int64((f * _LO) >> np.uint64(56))


@njit
def _group_count(alive, ten, x, reloc, tenure, x_mode, settled):
    """Size of a group of households (see :func:`_pick`)."""
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = _words(alive, nw), _words(ten, nw), _words(x, nw), _words(reloc, nw)
    c = 0
    for w in range(nw):
        c += _popcount(_word_flags(aw[w], tw[w], xw[w], rw[w], tenure, x_mode, settled))
    for i in range(nw * 8, n):
        c += _row_flag(i, alive, ten, x, reloc, tenure, x_mode, settled)
    return c


@njit
def _group_ranks(alive, ten, x, reloc, tenure, x_mode, settled, ranks):
    """Members of a group (see :func:`_pick`) of the given distinct ranks, in row order."""
    ranks = np.sort(ranks)
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = _words(alive, nw), _words(ten, nw), _words(x, nw), _words(reloc, nw)
    k = len(ranks)
    out = np.empty(k, np.int64)
    j = 0
    cum = 0
    for w in range(nw):
        if j == k:
            break
        f = _word_flags(aw[w], tw[w], xw[w], rw[w], tenure, x_mode, settled)
        c = _popcount(f)
        while j < k and ranks[j] < cum + c:
            r = ranks[j] - cum
            for b in range(8):
                if (f >> np.uint64(8 * b)) & _ONE:
                    if r == 0:
                        out[j] = w * 8 + b
                        break
                    r -= 1
            j += 1
        cum += c
    for i in range(nw * 8, n):
        if j < k and _row_flag(i, alive, ten, x, reloc, tenure, x_mode, settled):
            if ranks[j] == cum:
                out[j] = i
                j += 1
            cum += 1
    return out


@njit
def group_members(alive, ten, x, reloc, tenure, x_mode, settled):
    """Members of a group (see :func:`_pick`) in row order (also used by over_ceiling)."""
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = _words(alive, nw), _words(ten, nw), _words(x, nw), _words(reloc, nw)
    out = np.empty(_group_count(alive, ten, x, reloc, tenure, x_mode, settled) + 8, np.int64)
    m = 0
    for w in range(nw):
        f = _word_flags(aw[w], tw[w], xw[w], rw[w], tenure, x_mode, settled)
        if f == 0:
            continue
        for b in range(8):  # no branch: written at m, kept by moving m past it
            out[m] = w * 8 + b
            m += np.int64((f >> np.uint64(8 * b)) & _ONE)
    for i in range(nw * 8, n):
        out[m] = i
        m += _row_flag(i, alive, ten, x, reloc, tenure, x_mode, settled)
    return out[:m]


@njit
def _group_sizes(alive, tenure, app, seek, relocation):
    """Sizes of the groups drawn from after the social tenants' draws (one pass).

    Social, private and owner households not relocated, private tenants not looking, private
    tenants without an application, owners not looking.
    """
    n = len(alive)
    nw = n >> 3
    aw, tw = _words(alive, nw), _words(tenure, nw)
    apw, sw, rw = _words(app, nw), _words(seek, nw), _words(relocation, nw)
    c0 = c1 = c2 = c3 = c4 = c5 = 0
    for w in range(nw):
        a = aw[w]
        t = tw[w]
        soc = a & (_nonzero_bytes(t ^ (np.uint64(SOCIAL) * _LO)) ^ _LO)
        priv = a & (_nonzero_bytes(t ^ (np.uint64(PRIVATE) * _LO)) ^ _LO)
        own = a & (_nonzero_bytes(t ^ (np.uint64(OWNER) * _LO)) ^ _LO)
        stay = rw[w] ^ _LO
        idle = _nonzero_bytes(sw[w]) ^ _LO
        c0 += _popcount(soc & stay)
        c1 += _popcount(priv & stay)
        c2 += _popcount(own & stay)
        c3 += _popcount(priv & idle)
        c4 += _popcount(priv & (_nonzero_bytes(apw[w]) ^ _LO))
        c5 += _popcount(own & idle)
    for i in range(nw * 8, n):
        if alive[i]:
            ti = tenure[i]
            settled = not relocation[i]
            c0 += ti == SOCIAL and settled
            c1 += ti == PRIVATE and settled
            c2 += ti == OWNER and settled
            c3 += ti == PRIVATE and seek[i] == SEEK_NONE
            c4 += ti == PRIVATE and app[i] == APP_NONE
            c5 += ti == OWNER and seek[i] == SEEK_NONE
    return c0, c1, c2, c3, c4, c5


@njit
def _social_groups(alive, tenure, app, seek):
    """Social tenants without an application and social tenants not looking (one scan each).

    A scan counts both, the other lists both.
    """
    n = len(alive)
    nw = n >> 3
    aw, tw, apw, sw = _words(alive, nw), _words(tenure, nw), _words(app, nw), _words(seek, nw)
    n_tr = n_idle = 0
    for w in range(nw):
        soc = aw[w] & (_nonzero_bytes(tw[w] ^ (np.uint64(SOCIAL) * _LO)) ^ _LO)
        n_tr += _popcount(soc & (_nonzero_bytes(apw[w]) ^ _LO))
        n_idle += _popcount(soc & (_nonzero_bytes(sw[w]) ^ _LO))
    for i in range(nw * 8, n):
        n_tr += alive[i] and tenure[i] == SOCIAL and app[i] == APP_NONE
        n_idle += alive[i] and tenure[i] == SOCIAL and seek[i] == SEEK_NONE
    tr = np.empty(n_tr + 8, np.int64)
    idle = np.empty(n_idle + 8, np.int64)
    m_tr = m_idle = 0
    for w in range(nw):
        soc = aw[w] & (_nonzero_bytes(tw[w] ^ (np.uint64(SOCIAL) * _LO)) ^ _LO)
        if soc == 0:
            continue
        f_tr = soc & (_nonzero_bytes(apw[w]) ^ _LO)
        f_idle = soc & (_nonzero_bytes(sw[w]) ^ _LO)
        for b in range(8):  # no branch: written at m, kept by moving m past it
            tr[m_tr] = w * 8 + b
            m_tr += np.int64((f_tr >> np.uint64(8 * b)) & _ONE)
            idle[m_idle] = w * 8 + b
            m_idle += np.int64((f_idle >> np.uint64(8 * b)) & _ONE)
    for i in range(nw * 8, n):
        soc = alive[i] and tenure[i] == SOCIAL
        tr[m_tr] = i
        m_tr += soc and app[i] == APP_NONE
        idle[m_idle] = i
        m_idle += soc and seek[i] == SEEK_NONE
    return tr[:m_tr], idle[:m_idle]


@njit
def _social_hazards(alive, tenure, app, seek, dwelling, dw_rooms, adults, kids_u14, kids_14p,
                    z, nbhd, attractiveness, mismatch, sqrt_mismatch, aspiration_effect, rate_tr,
                    age, move_in, month, duration_effect):
    """Transfer-request and upward-exit probabilities of the social tenants they concern.

    Returns social tenants without an application and their monthly transfer-request
    probabilities, social tenants not looking and their upward-exit probabilities.
    Transfer: rate × (mismatch if over-crowded, √mismatch if under-occupying) × exp(aspiration
    effect × positive gap between aspiration and attractiveness) × the mobility for age and
    time in place (:func:`mobility_one`). Probabilities 1 − exp(−rate × m).
    """
    tr, idle = _social_groups(alive, tenure, app, seek)
    h_tr = np.empty(len(tr))
    finite = np.isfinite(aspiration_effect)
    for k in range(len(tr)):
        i = tr[k]
        crowd = mobility_one(age[i], month - move_in[i], duration_effect)
        d = dwelling[i]
        if d >= 0:
            size = adults[i] + kids_u14[i] + kids_14p[i]
            rooms = dw_rooms[d]
            if rooms < rooms_needed_one(size):
                crowd *= mismatch
            elif rooms > size + 1:
                crowd *= sqrt_mismatch
        gap = maximum_one(0.0, ASPIRATION_SLOPE * z[i] - attractiveness[nbhd[i]])
        if gap != 0.0 or not finite:
            crowd = crowd * np.exp(aspiration_effect * gap)
        h_tr[k] = -np.expm1(-rate_tr * crowd)
    return tr, h_tr, idle


@njit
def _stop_seeking(u, p, keep_forced, alive, tenure, seek, relocation, months_over_loss):
    """Housed seekers (in row order, the k-th with uniform ``u[k]``) stop looking if < ``p``.

    Unless forced out by the loss of the right to stay (with ``keep_forced``).
    """
    n = len(alive)
    nw = n >> 3
    aw, tw, sw, rw = _words(alive, nw), _words(tenure, nw), _words(seek, nw), _words(relocation, nw)
    k = 0
    for w in range(nw):
        f = _word_flags(aw[w], tw[w], sw[w], rw[w], _NOT_HOSTED, _NONZERO, False)
        if f == 0:
            continue
        for b in range(8):
            if (f >> np.uint64(8 * b)) & _ONE:
                i = w * 8 + b
                if u[k] < p and not (keep_forced and months_over_loss[i] > 0):
                    seek[i] = SEEK_NONE
                k += 1
    for i in range(nw * 8, n):
        if _row_flag(i, alive, tenure, seek, relocation, _NOT_HOSTED, _NONZERO, False):
            if u[k] < p and not (keep_forced and months_over_loss[i] > 0):
                seek[i] = SEEK_NONE
            k += 1


@njit
def _cancel(cancel, alive, tenure, app, priority, relocation):
    """Close the applications ``cancel``; return the hosted households among them.

    Also returns the numbers of hosted households not relocated without and with an
    application (after the cancellations).
    """
    gone = np.empty(len(cancel), np.int64)
    m = 0
    for k in range(len(cancel)):
        i = cancel[k]
        app[i] = APP_NONE
        priority[i] = False
        gone[m] = i
        m += tenure[i] == HOSTED
    n_free = _group_count(alive, tenure, app, relocation, HOSTED, _ZERO, True)
    n_applying = _group_count(alive, tenure, app, relocation, HOSTED, _NONZERO, True)
    return gone[:m].copy(), n_free, n_applying


@njit
def _take(f, w, ranks, j, cum, out, m):
    """Append to ``out`` (from ``m``) the members of word ``w`` (flags ``f``) drawn by rank.

    ``ranks`` ascending, ``j`` the next one to find, ``cum`` the group members before the word;
    returns the updated ``j``, ``cum`` and ``m``.
    """
    c = _popcount(f)
    while j < len(ranks) and ranks[j] < cum + c:
        q = ranks[j] - cum
        for b in range(8):
            if (f >> np.uint64(8 * b)) & _ONE:
                if q == 0:
                    out[m] = w * 8 + b
                    m += 1
                    break
                q -= 1
        j += 1
    return j, cum + c, m


@njit
def _departures(alive, tenure, app, relocation, r_soc, r_own, r_priv, r_free, r_applying, gone):
    """Households leaving the territory, ascending: ``gone`` and the members drawn by rank.

    Groups (living, not relocated): social tenants, owners, private tenants, hosted households
    without and with an application; ``r_*`` the drawn ranks in each (in any order).
    """
    r0, r1, r2 = np.sort(r_soc), np.sort(r_own), np.sort(r_priv)
    r3, r4 = np.sort(r_free), np.sort(r_applying)
    drawn = len(r0) + len(r1) + len(r2) + len(r3) + len(r4)
    out = np.empty(len(gone) + drawn, np.int64)
    out[: len(gone)] = gone
    m = len(gone)
    n = len(alive)
    nw = n >> 3
    aw, tw, xw, rw = _words(alive, nw), _words(tenure, nw), _words(app, nw), _words(relocation, nw)
    j0 = j1 = j2 = j3 = j4 = 0
    c0 = c1 = c2 = c3 = c4 = 0
    for w in range(nw):
        if m == len(out):
            break
        here = aw[w] & (rw[w] ^ _LO)
        t = tw[w]
        hosted = here & (_nonzero_bytes(t ^ (np.uint64(HOSTED) * _LO)) ^ _LO)
        applying = _nonzero_bytes(xw[w])
        j0, c0, m = _take(here & (_nonzero_bytes(t ^ (np.uint64(SOCIAL) * _LO)) ^ _LO), w, r0,
                          j0, c0, out, m)
        j1, c1, m = _take(here & (_nonzero_bytes(t ^ (np.uint64(OWNER) * _LO)) ^ _LO), w, r1,
                          j1, c1, out, m)
        j2, c2, m = _take(here & (_nonzero_bytes(t ^ (np.uint64(PRIVATE) * _LO)) ^ _LO), w, r2,
                          j2, c2, out, m)
        j3, c3, m = _take(hosted & (applying ^ _LO), w, r3, j3, c3, out, m)
        j4, c4, m = _take(hosted & applying, w, r4, j4, c4, out, m)
    for i in range(nw * 8, n):
        if not alive[i] or relocation[i]:
            continue
        ti = tenure[i]
        if ti == SOCIAL:
            if j0 < len(r0) and r0[j0] == c0:
                out[m] = i
                m += 1
                j0 += 1
            c0 += 1
        elif ti == OWNER:
            if j1 < len(r1) and r1[j1] == c1:
                out[m] = i
                m += 1
                j1 += 1
            c1 += 1
        elif ti == PRIVATE:
            if j2 < len(r2) and r2[j2] == c2:
                out[m] = i
                m += 1
                j2 += 1
            c2 += 1
        elif ti == HOSTED and app[i] == APP_NONE:
            if j3 < len(r3) and r3[j3] == c3:
                out[m] = i
                m += 1
                j3 += 1
            c3 += 1
        elif ti == HOSTED:
            if j4 < len(r4) and r4[j4] == c4:
                out[m] = i
                m += 1
                j4 += 1
            c4 += 1
    # np.union1d: sorted, each once (a cancelled hosted household may also be drawn)
    out.sort()
    keep = np.empty(len(out), np.int64)
    m = 0
    for k in range(len(out)):
        if k == 0 or out[k] != out[k - 1]:
            keep[m] = out[k]
            m += 1
    return keep[:m].copy()
