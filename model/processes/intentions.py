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
from collections import namedtuple
from functools import lru_cache

import numpy as np

from ..applications import open_applications
from ..ceilings import resources_one
from ..config import Behaviour, Levers
from ..draws import binomial, sample_without_replacement
from ..jit import njit
from ..moves import MoveLog, remove
from ..rules import (
    ASPIRATION_SLOPE,
    household_size,
    maximum_one,
    monthly_hazard,
    rooms_needed_one,
    row_situation,
)
from ..scans import (
    ANY,
    NONZERO,
    NOT_HOSTED,
    ZERO,
    departure_members,
    group_count,
    group_members,
    group_ranks,
    intention_group_sizes,
    social_groups,
)
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
    plus_ceiling_one,
)

# multipliers of the application hazard of private tenants: effort rate above 35 %, income
# score below −0.5 (else), household of 1, 2, 3 or more persons
APPLY_EFFORT = 2.0
APPLY_LOW_INCOME = (1.5, 0.6)
APPLY_FAMILY = (1.0, 1.5, 2.5)


# rules of the social tenants' kernels, as named tuples (see _social_tenants)
TransferRules = namedtuple("TransferRules", [
    "rate", "mismatch", "underoccupation", "aspiration_effect", "duration_effect"])
UpwardRules = namedtuple("UpwardRules", [
    "rate", "sls_multiplier", "loss_enabled", "loss_months", "own2", "income_effect",
    "duration_effect"])

# column selectors of _pick: application or search
_APP, _SEEK = 0, 1
_NO_ROWS = np.zeros(0, np.int64)
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
    n_soc, n_priv, n_own, n_priv_idle, n_priv_noapp, n_own_idle = intention_group_sizes(*cols)
    out = _social_tenants(state, beh, levers, rng)
    out.update(_private_tenants(state, beh, levers, rng, n_priv_idle, n_priv_noapp))

    # owners move rarely (by thinning: drawn with the largest mobility, kept with their own)
    de = float(beh.duration_effect)
    top = mobility_bound(de)
    bound = _hazard(beh.owner_move_rate, top)
    mv = _pick(rng, cols, bound, OWNER, _SEEK, ZERO, False, n_own_idle)
    if len(mv):
        mv = mv[rng.random(len(mv)) * bound
                < monthly_hazard(beh.owner_move_rate, mobility(state, mv, de))]
        _set_owner_seek(hh.seek, mv, hh.z)

    # applicants cancel between renewals, or do not renew their demand on its anniversary
    # (CCH R441-2-6); hosted ones whose demand ends leave the territory
    cancel = _pick(rng, cols, _hazard(beh.give_up_rate), ANY, _APP, NONZERO, True)
    lapsed = non_renewals(state, beh.renewal_dropout, rng)
    out["non_renewals"] = len(lapsed)
    if len(lapsed):
        cancel = np.union1d(cancel, lapsed)
    gone, n_free, n_applying = _cancel(cancel, hh.alive, hh.tenure, hh.app, hh.priority,
                                       hh.relocation)
    out["cancellations"] = len(cancel)

    # departures from the territory (relocated households wait for their offer); hosted
    # households that do not apply and find nothing go elsewhere (×8). Groups: social, owner,
    # private households, hosted ones without and with an application (see departure_members)
    # housed households by thinning on their mobility (age, time in place)
    groups = ((n_soc, 0.8 * top), (n_own, 0.5 * top), (n_priv, 1.0 * top), (n_free, 8.0),
              (n_applying, 1.5))
    ranks = [_draw_ranks(rng, n, _hazard(beh.leave_rate, mult)) for n, mult in groups]
    leave = departure_members(hh.alive, hh.tenure, hh.app, hh.relocation, ranks[0], ranks[1],
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

    The group: living households of tenure ``tenure`` (any with ``ANY``) whose application
    (``x`` = ``_APP``) or search (``_SEEK``) is none (``x_mode`` = ``ZERO``) or not
    (``NONZERO``) or either (``ANY``), not relocated if ``settled``; ``n`` its size if known.
    The same draws as :func:`bernoulli_subset` (a binomial count, then that many members
    without replacement, in row order), members found by their rank in the group.
    """
    alive, ten, app, seek, reloc = cols
    xcol = app if x == _APP else seek
    if n is None:
        n = group_count(alive, ten, xcol, reloc, tenure, x_mode, settled)
    ranks = _draw_ranks(rng, n, p)
    if len(ranks) == 0:
        return _NO_ROWS
    return group_ranks(alive, ten, xcol, reloc, tenure, x_mode, settled, ranks)


def _draw_ranks(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Ranks (unsorted) of the members of a group of ``n`` hit by an event of probability ``p``.

    The draws of :func:`bernoulli_subset`: a binomial count, then that many ranks without
    replacement.
    """
    k = binomial(rng, n, p)
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
    transfer = TransferRules(rate=_rate(beh.transfer_rate), mismatch=me,
                             underoccupation=float(beh.underoccupation_effect),
                             aspiration_effect=float(beh.aspiration_effect), duration_effect=de)
    tr, h_tr, idle = _social_hazards(
        hh.alive, hh.tenure, hh.app, hh.seek, hh.dwelling, dw.rooms, hh.adults, hh.kids_u14,
        hh.kids_14p, hh.z, hh.nbhd, nb.attractiveness, hh.age, hh.move_in, state.month,
        transfer)
    tr = _below(tr, rng.random(len(tr)), 1.0, h_tr)
    if len(tr):
        open_applications(state, tr, APP_TRANSFER, rng, levers.information.wish_breadth)
    # upward exits, forced by the loss of the right to stay
    upward = UpwardRules(
        rate=_rate(beh.upward_exit_rate), sls_multiplier=float(rules.sls_exit_multiplier),
        loss_enabled=bool(rules.loss_enabled),
        loss_months=float(12 * rules.loss_years + rules.loss_notice_months),
        own2=float(beh.ownership_share * 2.0), income_effect=float(beh.exit_income_effect),
        duration_effect=de)
    up, own_p = _upward(idle, rng.random(len(idle)), hh.z, hh.months_over,
                        hh.months_over_loss, hh.age, hh.move_in, state.month, upward)
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
    mv = _pick(rng, cols, bound, PRIVATE, _SEEK, ZERO, False, n_idle)
    if len(mv):
        mv = _movers(mv, rng.random(len(mv)), float(bound), hh.dwelling, dw.rooms, hh.adults,
                     hh.kids_u14, hh.kids_14p, _rate(beh.private_move_rate), me, hh.age,
                     hh.move_in, state.month, de)
    _set_buyers(hh.seek, mv, hh.z, rng.random(len(mv)))
    # applications, among eligible tenants without one
    top = max(APPLY_LOW_INCOME) * APPLY_EFFORT * beh.mismatch_effect * max(APPLY_FAMILY)
    bound = _hazard(beh.apply_rate, top)
    ap = _pick(rng, cols, bound, PRIVATE, _APP, ZERO, False, n_no_app)
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


def give_up_seeking(state: State, rng: np.random.Generator, p: float = 0.2) -> None:
    """Housed households that found nothing on the market stop looking with probability ``p``.

    Tenants who lost the right to stay keep looking (once the run has started).
    """
    hh = state.hh
    n = group_count(hh.alive, hh.tenure, hh.seek, hh.relocation, NOT_HOSTED, NONZERO, False)
    _stop_seeking(rng.random(n), float(p), state.month >= 0, hh.alive, hh.tenure, hh.seek,
                  hh.relocation, hh.months_over_loss)


# ----------------------------------------------------------------------------------------------
# kernels (numpy's arithmetic and types, see model.jit)
# ----------------------------------------------------------------------------------------------


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
def _upward(idle, u, z, months_over, months_over_loss, age, move_in, month, rules):
    """Upward exits among ``idle`` and their probabilities of seeking to buy (else to rent).

    An exit is drawn, ``u`` < 1 − exp(−rate × m) with m = exp(income_effect × z) × the SLS
    multiplier for tenants above the SLS threshold × the mobility for age and time in place
    (:func:`mobility_one`), or forced after ``loss_months`` above the loss threshold; the
    ownership probability is ``own2`` / (1 + exp(−1.5 z)). ``rules``: :data:`UpwardRules`.
    """
    rate, sls_multiplier, income_effect = rules.rate, rules.sls_multiplier, rules.income_effect
    loss_enabled, loss_months, own2 = rules.loss_enabled, rules.loss_months, rules.own2
    duration_effect = rules.duration_effect
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
def _social_hazards(alive, tenure, app, seek, dwelling, dw_rooms, adults, kids_u14, kids_14p,
                    z, nbhd, attractiveness, age, move_in, month, rules):
    """Transfer-request and upward-exit probabilities of the social tenants they concern.

    Returns social tenants without an application and their monthly transfer-request
    probabilities, social tenants not looking and their upward-exit probabilities.
    Transfer: rate × (mismatch if over-crowded, underoccupation if under-occupying) × exp(aspiration
    effect × positive gap between aspiration and attractiveness) × the mobility for age and
    time in place (:func:`mobility_one`). Probabilities 1 − exp(−rate × m). ``rules``:
    :data:`TransferRules`.
    """
    mismatch, underoccupation = rules.mismatch, rules.underoccupation
    aspiration_effect, rate_tr = rules.aspiration_effect, rules.rate
    duration_effect = rules.duration_effect
    tr, idle = social_groups(alive, tenure, app, seek)
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
                crowd *= underoccupation
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
    seekers = group_members(alive, tenure, seek, relocation, NOT_HOSTED, NONZERO, False)
    for k in range(len(seekers)):
        i = seekers[k]
        if u[k] < p and not (keep_forced and months_over_loss[i] > 0):
            seek[i] = SEEK_NONE


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
    n_free = group_count(alive, tenure, app, relocation, HOSTED, ZERO, True)
    n_applying = group_count(alive, tenure, app, relocation, HOSTED, NONZERO, True)
    return gone[:m].copy(), n_free, n_applying
