"""Demography (ODD §7.1): ageing, deaths, births, children leaving home, separations, unions.

Every schedule is by single year of age and comes from a published table (docs/ODD.md §7.1,
docs/sources.md):

* **mortality** by age and sex: INSEE, life table of France 2021–2023 (*bilan démographique
  2023*, quotients de mortalité par sexe et âge). The quotients below are rounded values read at
  five-year anchor ages and interpolated geometrically in between — approximations of the
  published table (life expectancy at birth ≈ 80 years for men and ≈ 85.7 for women, as
  published), not a copy of it. Each adult dies with the quotient of its age and sex; the
  model keeps one age per household (the reference person's), a couple's man is taken one year
  older and its woman one year younger (INSEE: a mean gap of about two years within couples).
  Deaths of children (under 1 ‰ a year before 50) are not modelled.
* **fertility** by age of the mother: INSEE, age-specific fertility rates of 2023 by five-year
  group (total fertility 1.68 child per woman, *bilan démographique 2023*; group rates
  rounded). About 90 % of births are to mothers living in a couple [assumption, order of
  magnitude of INSEE's *Enquête Famille*]; the rate of a woman in a couple is the age rate ×
  0.9 / (share of women of that age living in a couple), and that of a woman living without a
  partner the age rate × 0.1 / (1 − that share), the shares by age being those of the 2019
  census (INSEE RP, rounded).
* **children leaving home** by age: a child aged 14+ leaves each year with the hazard of its
  age, a schedule that puts the median age at leaving the parents' home near 23 (INSEE: 23–24
  in the *Enquête nationale sur les ressources des jeunes*, 2014; the hazards by age are an
  assumption); the model keeps no child ages and takes the child to be 30 years younger than
  the reference person (mean age of mothers at birth ≈ 31, of fathers ≈ 33).
* **separations** by age of the reference person: about 1.7 % of couples a year overall
  (INSEE: ≈ 250,000–300,000 separations of couples a year for ≈ 16 million couples), higher
  when young [assumption on the age profile]; with children, the man leaves in 85 % of cases
  (INSEE: 85 % of single-parent families are a mother with her children).
* **union formation** by age of persons living without a partner (single persons and single
  parents): yearly hazards [assumption, tuned so that the shares of household types stay at
  their start under today's rules — see docs/ODD.md §7.1]. The month's candidates of each sex
  are paired by age (a single finds a partner in another household); those left over (the
  other sex being fewer that month) form a couple with a partner from outside the territory
  (an arrival joining their household).

Each row draws one uniform a month and the events of the month are competing risks on it
(monthly probabilities are a few per cent at most, so at most one event a month per household
changes the rates by their squares only); the position of the uniform inside the event's
interval, rescaled to [0, 1), decides the event's details (who dies, who leaves).
"""

from __future__ import annotations

import functools

import numpy as np

from ..applications import open_applications
from ..ceilings import taxable_one
from ..config import Behaviour
from ..jit import njit
from ..moves import MoveLog, join, remove
from ..rules import INCOME_SIGMA, income_one, size_one
from ..state import (
    APP_FIRST,
    APP_NONE,
    APP_TRANSFER,
    COUPLE,
    COUPLE_CHILDREN,
    SINGLE,
    SINGLE_PARENT,
    SOCIAL,
    State,
    plus_ceiling_one,
)

MAX_AGE = 120
# weight of the innovation in a young adult's income rank (the parents' rank weighs 0.4)
_CHILD_Z_NOISE = float(np.sqrt(1 - 0.16))
_DEFAULT = Behaviour()

# ---- mortality: annual quotients (per 1,000) at anchor ages, INSEE life table 2021–2023,
# rounded approximations (see the module docstring)
_Q_AGES = np.array([0, 1, 5, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95,
                    100, 105, 120])
_Q_MEN = np.array([3.9, 0.25, 0.1, 0.2, 0.55, 0.7, 0.85, 1.1, 1.6, 2.5, 3.9, 6.2, 9.2, 13.0, 18.5,
                   28.0, 46.0, 82.0, 150.0, 260.0, 400.0, 520.0, 900.0]) / 1000.0
_Q_WOMEN = np.array([3.3, 0.2, 0.08, 0.12, 0.22, 0.28, 0.35, 0.5, 0.85, 1.4, 2.2, 3.4, 4.8, 6.4,
                     9.2, 14.5, 27.0, 53.0, 110.0, 210.0, 350.0, 480.0, 900.0]) / 1000.0
# ---- fertility: births per woman-year by five-year group (INSEE 2023, total 1.68), and the
# share of women living in a couple in each group (INSEE RP 2019, rounded)
_F_GROUPS = np.array([15, 20, 25, 30, 35, 40, 45, 50])
_F_RATE = np.array([0.005, 0.034, 0.092, 0.122, 0.066, 0.016, 0.001])
_F_IN_COUPLE = np.array([0.03, 0.25, 0.55, 0.70, 0.74, 0.74, 0.72])
BIRTHS_IN_COUPLE = 0.9
# ---- children aged 14+ leaving home, by the child's age (yearly hazard)
_L_AGES = np.array([14, 18, 20, 22, 24, 27, 30, MAX_AGE + 1])
_L_RATE = np.array([0.02, 0.08, 0.14, 0.20, 0.22, 0.22, 0.25])
CHILD_AGE_GAP = 30.0
# ---- separations by age of the reference person (yearly hazard per couple)
_S_AGES = np.array([0, 30, 40, 50, 60, 70, MAX_AGE + 1])
_S_RATE = np.array([0.035, 0.025, 0.020, 0.012, 0.006, 0.002])
MAN_LEAVES_WITH_CHILDREN = 0.85
# ---- union formation of persons living without a partner (yearly hazard) [assumption]
_U_AGES = np.array([0, 18, 25, 30, 35, 40, 50, 60, 70, MAX_AGE + 1])
_U_RATE = np.array([0.0, 0.08, 0.14, 0.12, 0.09, 0.06, 0.035, 0.015, 0.005])


def _steps(edges: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Yearly rate at each age 0..MAX_AGE from a step schedule (0 outside the edges)."""
    out = np.zeros(MAX_AGE + 1)
    for k in range(len(rates)):
        out[edges[k]:min(edges[k + 1], MAX_AGE + 1)] = rates[k]
    return out


def _monthly(annual: np.ndarray) -> np.ndarray:
    """Monthly probability of an event of annual probability ``annual``."""
    return -np.expm1(np.log1p(-np.minimum(annual, 0.999999)) / 12.0)


def mortality_quotients() -> tuple[np.ndarray, np.ndarray]:
    """Annual death quotients of men and women at ages 0..MAX_AGE (geometric interpolation)."""
    ages = np.arange(MAX_AGE + 1)
    return (np.exp(np.interp(ages, _Q_AGES, np.log(_Q_MEN))),
            np.exp(np.interp(ages, _Q_AGES, np.log(_Q_WOMEN))))


def fertility_rates() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Yearly births per woman at ages 0..MAX_AGE: all women, women in a couple, women without."""
    rate = _steps(_F_GROUPS, _F_RATE)
    share = _steps(_F_GROUPS, _F_IN_COUPLE)
    in_couple = np.where(share > 0, rate * BIRTHS_IN_COUPLE / np.maximum(share, 1e-9), 0.0)
    alone = np.where(share > 0, rate * (1 - BIRTHS_IN_COUPLE) / np.maximum(1 - share, 1e-9), 0.0)
    return rate, in_couple, alone


@functools.lru_cache(maxsize=16)
def schedules(death_mult: float = 1.0, birth_mult: float = 1.0, leave_mult: float = 1.0,
              sep_mult: float = 1.0, union_mult: float = 1.0) -> tuple:
    """Monthly probabilities by age 0..MAX_AGE, the yearly rates scaled by the multipliers.

    Returns:
        Men's and women's deaths, births to women in and out of a couple, a child leaving home
        (by the reference person's age), separations, unions.
    """
    q_m, q_w = mortality_quotients()
    _, f_c, f_a = fertility_rates()
    leave = np.zeros(MAX_AGE + 1)
    child = np.arange(MAX_AGE + 1) - CHILD_AGE_GAP
    leave[:] = _steps(_L_AGES, _L_RATE)[np.clip(child, 14, MAX_AGE).astype(int)]
    out = (_monthly(q_m * death_mult), _monthly(q_w * death_mult), _monthly(f_c * birth_mult),
           _monthly(f_a * birth_mult), _monthly(leave * leave_mult),
           _monthly(_steps(_S_AGES, _S_RATE) * sep_mult),
           _monthly(_steps(_U_AGES, _U_RATE) * union_mult))
    for a in out:
        a.setflags(write=False)
    return out


def behaviour_multipliers(beh: Behaviour) -> tuple[float, float, float, float]:
    """Scale factors of the schedules from the behaviour parameters (1 at their defaults).

    ``death_rate_75``, ``birth_rate``, ``child_leave_rate`` and ``separation_rate`` scale the
    published schedules in proportion to their default values, so that a sensitivity analysis
    or a calibration still varies them.
    """
    def ratio(name: str) -> float:
        d = getattr(_DEFAULT, name)
        return float(getattr(beh, name)) / d if d else 1.0
    return (ratio("death_rate_75"), ratio("birth_rate"), ratio("child_leave_rate"),
            ratio("separation_rate"))


# event codes
E_NONE, E_DEATH_MAN, E_DEATH_WOMAN, E_BIRTH, E_TURN14, E_LEAVE, E_SEPARATION, E_UNION = range(8)


@njit
def _fix_type_row(r, hh_type, adults, kids_u14, kids_14p):
    """Re-derive the type of household ``r`` from its adults and children."""
    kids = np.int64(kids_u14[r]) + kids_14p[r]
    t = hh_type[r]
    a = adults[r]
    if (t == COUPLE or t == COUPLE_CHILDREN) and a >= 2:
        hh_type[r] = COUPLE_CHILDREN if kids > 0 else COUPLE
    if a == 1:
        hh_type[r] = SINGLE_PARENT if kids > 0 else SINGLE


@njit
def _month_events(u, alive, age, hh_type, adults, women, kids_u14, kids_14p, separated,
                  q_m, q_w, f_c, f_a, leave, sep, union):
    """Age the living one month, draw each row's event on ``u`` and apply the simple ones.

    Deaths, births and children turning 14 change the row in place; the rows whose last adult
    died, the rows a child leaves, the couples separating (with the leaver's sex) and the
    persons seeking a partner are returned for the caller to finish.

    Returns:
        ``(dead, leaving, splitting, leaver_woman, seekers, deaths, births)``.
    """
    n = len(alive)
    step = np.float32(1.0 / 12.0)
    dead = np.empty(n, np.int64)
    leaving = np.empty(n, np.int64)
    splitting = np.empty(n, np.int64)
    leaver_woman = np.empty(n, np.bool_)
    seekers = np.empty(n, np.int64)
    nd = nl = ns = nu = 0
    deaths = births = 0
    for i in range(n):
        if not alive[i]:
            continue
        a = np.float32(age[i] + step)
        age[i] = a
        ai = min(max(int(a), 0), 120)
        ad = np.int64(adults[i])
        w = min(np.int64(women[i]), ad)
        m = ad - w
        t = hh_type[i]
        couple = (t == COUPLE or t == COUPLE_CHILDREN) and ad >= 2
        if couple:  # the man one year older, the woman one year younger
            am, aw = min(ai + 1, 120), max(ai - 1, 0)
        else:
            am, aw = ai, ai
        p_dm = m * q_m[am]
        p_dw = w * q_w[aw]
        p_b = 0.0
        if w >= 1:
            if couple:
                p_b = f_c[aw]
            elif ad == 1:
                p_b = f_a[aw]
        p_t = kids_u14[i] * (1.0 / 168.0)  # a child under 14 turns 14 after 14 × 12 months
        p_l = kids_14p[i] * leave[ai]
        p_s = sep[ai] if couple else 0.0
        p_u = union[ai] if ad == 1 else 0.0
        x = u[i]
        c = p_dm
        if x < c:
            adults[i] = ad - 1
            deaths += 1
            if ad == 1:
                dead[nd] = i
                nd += 1
            else:
                _fix_type_row(i, hh_type, adults, kids_u14, kids_14p)
            continue
        c += p_dw
        if x < c:
            adults[i] = ad - 1
            women[i] = w - 1
            deaths += 1
            if ad == 1:
                dead[nd] = i
                nd += 1
            else:
                _fix_type_row(i, hh_type, adults, kids_u14, kids_14p)
            continue
        c += p_b
        if x < c:
            kids_u14[i] += 1
            births += 1
            if hh_type[i] == SINGLE:
                hh_type[i] = SINGLE_PARENT
            elif hh_type[i] == COUPLE:
                hh_type[i] = COUPLE_CHILDREN
            continue
        c += p_t
        if x < c:
            kids_u14[i] -= 1
            kids_14p[i] += 1
            continue
        c += p_l
        if x < c:
            kids_14p[i] -= 1
            _fix_type_row(i, hh_type, adults, kids_u14, kids_14p)
            leaving[nl] = i
            nl += 1
            continue
        lo = c
        c += p_s
        if x < c:
            v = (x - lo) / p_s  # uniform on [0, 1) given the event
            kids = np.int64(kids_u14[i]) + kids_14p[i]
            man_leaves = v < (MAN_LEAVES_WITH_CHILDREN if kids > 0 else 0.5)
            if w == 0:
                man_leaves = True
            elif m == 0:
                man_leaves = False
            adults[i] = ad - 1
            if not man_leaves:
                women[i] = w - 1
            _fix_type_row(i, hh_type, adults, kids_u14, kids_14p)
            separated[i] = True
            splitting[ns] = i
            leaver_woman[ns] = not man_leaves
            ns += 1
            continue
        c += p_u
        if x < c:
            seekers[nu] = i
            nu += 1
    return (dead[:nd], leaving[:nl], splitting[:ns], leaver_woman[:ns], seekers[:nu], deaths,
            births)


@njit
def _searchsorted_right(cuts, v):
    """``np.searchsorted(cuts, v, side="right")`` for sorted ``cuts``."""
    lo = 0
    hi = len(cuts)
    while lo < hi:
        mid = lo + ((hi - lo) >> 1)
        if v < cuts[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit
def _fill_new(start, parents, age, z, woman, u_employed, u_apply, separated, params, cols):
    """Fill the new rows ``start + i``: one adult hosted where ``parents[i]`` lives.

    ``params`` are the month, the median income per UC, the income dispersion, the quartile
    cuts and the index of the income ceilings. Income per UC ``median × exp(sigma × z)``,
    employed when ``u_employed < 0.6``; a household whose income is within its PLUS ceiling
    applies for social housing when ``u_apply`` is below 0.12 (income rank below 0) or 0.03.

    Returns:
        Rows of the new households applying for social housing.
    """
    month, median, sigma, cuts, ceiling_index = params
    (alive, hh_type, adults, women, kids_u14, kids_14p, age_col, z_col, income_uc, nbhd,
     tenure, move_in, seek, sep_col, employed, quartile) = cols
    applying = np.empty(len(parents), np.int64)
    m = 0
    for i in range(len(parents)):
        r = start + i
        parent = parents[i]
        alive[r] = True
        hh_type[r] = SINGLE
        adults[r] = 1
        women[r] = 1 if woman[i] else 0
        age_col[r] = age[i]
        z_col[r] = z[i]
        inc = median * np.exp(sigma * z[i])
        income_uc[r] = inc
        nbhd[r] = nbhd[parent]
        tenure[r] = 3  # HOSTED
        move_in[r] = month
        seek[r] = 1  # SEEK_RENT
        sep_col[r] = separated
        employed[r] = u_employed[i] < 0.6
        quartile[r] = 1 + _searchsorted_right(cuts, inc)
        # a new household has no RFR recorded: its current taxable income is compared
        eligible = (taxable_one(income_one(inc, 1, 0, 0), inc, median)
                    <= plus_ceiling_one(1, size_one(1, 0, 0), age[i], ceiling_index))
        p_apply = (0.12 if z[i] < 0 else 0.03) if eligible else 0.0
        if u_apply[i] < p_apply:
            applying[m] = r
            m += 1
    return applying[:m]


def _params(state: State) -> tuple:
    """Scalars and small arrays the kernel filling new rows uses (see :func:`_fill_new`)."""
    return (int(state.month), float(state.median_income_uc), float(INCOME_SIGMA),
            np.asarray(state.quartile_cuts, np.float64), float(state.ceiling_index))


def _columns(hh) -> tuple:
    """Household columns the kernel filling new rows uses (after the rows are added)."""
    return (hh.alive, hh.hh_type, hh.adults, hh.women, hh.kids_u14, hh.kids_14p, hh.age, hh.z,
            hh.income_uc, hh.nbhd, hh.tenure, hh.move_in, hh.seek, hh.separated, hh.employed,
            hh.quartile)


def new_households(state: State, parents: np.ndarray, age: np.ndarray, z: np.ndarray,
                   woman: np.ndarray, rng: np.random.Generator, *, separated: bool,
                   wish_breadth: int) -> np.ndarray:
    """Create one-person households hosted where ``parents`` live; some apply for social housing.

    Returns:
        Indices of the new households.
    """
    hh = state.hh
    k = len(parents)
    if k == 0:
        return np.zeros(0, np.int64)
    u_employed = rng.random(k)
    u_apply = rng.random(k)
    idx = hh.add(k)
    applying = _fill_new(int(idx[0]), np.asarray(parents, np.int64), np.asarray(age, np.float32),
                         np.asarray(z, np.float64), np.asarray(woman, np.bool_), u_employed,
                         u_apply, bool(separated), _params(state), _columns(hh))
    open_applications(state, applying, APP_FIRST, rng, wish_breadth)
    state.formations += k
    return idx


def form_unions(state: State, seekers: np.ndarray, rng: np.random.Generator,
                log: MoveLog) -> tuple[int, int]:
    """Pair the month's partner seekers by sex and age; the others find a partner from outside.

    Among the seekers, the sex in excess keeps a random subset of as many as the other sex; the
    two lists, sorted by age plus noise (sd 3 years), are paired rank by rank and each pair
    moves into one home (:func:`join_households`). The unpaired seekers form a couple with a
    partner arriving from outside the territory (income rank correlated 0.5 with theirs).

    Returns:
        ``(local, outside)``: unions within the territory and with a partner from outside.
    """
    hh = state.hh
    if len(seekers) == 0:
        return 0, 0
    woman = hh.women[seekers] > 0
    w_idx, m_idx = seekers[woman], seekers[~woman]
    k = min(len(w_idx), len(m_idx))
    if len(w_idx) > k:
        keep = np.zeros(len(w_idx), bool)
        keep[rng.permutation(len(w_idx))[:k]] = True
        outside, w_idx = w_idx[~keep], w_idx[keep]
    else:
        keep = np.zeros(len(m_idx), bool)
        keep[rng.permutation(len(m_idx))[:k]] = True
        outside, m_idx = m_idx[~keep], m_idx[keep]
    if k:
        w_sorted = w_idx[np.argsort(hh.age[w_idx] + rng.normal(0, 3, k), kind="stable")]
        m_sorted = m_idx[np.argsort(hh.age[m_idx] + rng.normal(0, 3, k), kind="stable")]
        join_households(state, w_sorted, m_sorted, log)
    if len(outside):
        z_partner = 0.5 * hh.z[outside] + np.sqrt(1 - 0.25) * rng.standard_normal(len(outside))
        _add_partner(state, outside, z_partner, ~(hh.women[outside] > 0))
    return k, len(outside)


def _set_z(state: State, r: np.ndarray, z: np.ndarray) -> None:
    """Set the income rank of rows ``r``, with their income per UC and quartile."""
    hh = state.hh
    hh.z[r] = z
    inc_uc = state.median_income_uc * np.exp(INCOME_SIGMA * z)
    hh.income_uc[r] = inc_uc
    hh.quartile[r] = 1 + np.searchsorted(state.quartile_cuts, inc_uc, side="right")


def _add_partner(state: State, r: np.ndarray, z_partner: np.ndarray, woman: np.ndarray) -> None:
    """Add a partner from outside the territory to the one-adult households ``r``."""
    hh = state.hh
    hh.adults[r] = hh.adults[r] + 1
    hh.women[r] = hh.women[r] + woman.astype(np.int8)
    kids = (hh.kids_u14[r] + hh.kids_14p[r]) > 0
    hh.hh_type[r] = np.where(kids, COUPLE_CHILDREN, COUPLE).astype(np.int8)
    _set_z(state, r, 0.5 * (hh.z[r] + z_partner))


def join_households(state: State, a: np.ndarray, b: np.ndarray, log: MoveLog) -> None:
    """One-adult households ``a[i]`` and ``b[i]`` form a couple and live in one home.

    The couple lives in the home of the one who has a dwelling (both housed: the larger
    dwelling, then ``a``); the other household's members (its adult and children) join it and
    its row ends (logged as a ``union`` move from its home to the couple's). The couple's income
    rank is the mean of the partners' (the model keeps each household's living standard as a
    rank that composition changes leave as it is — births, departures of children, deaths and
    separations do not change the remaining members' — so a union does not add the economies of
    scale of pooling either, which would raise the ranks of the population year after year); a
    pending application is kept (the host's, else the joiner's, as a
    transfer request when the couple lives in social housing).
    """
    hh, dw = state.hh, state.dw
    da, db = hh.dwelling[a], hh.dwelling[b]
    rooms_a = np.where(da >= 0, dw.rooms[np.maximum(da, 0)], -1)
    rooms_b = np.where(db >= 0, dw.rooms[np.maximum(db, 0)], -1)
    a_hosts = rooms_a >= rooms_b
    host = np.where(a_hosts, a, b)
    joiner = np.where(a_hosts, b, a)
    z = 0.5 * (hh.z[host] + hh.z[joiner])
    hh.adults[host] = hh.adults[host] + hh.adults[joiner]
    hh.women[host] = hh.women[host] + hh.women[joiner]
    hh.kids_u14[host] = hh.kids_u14[host] + hh.kids_u14[joiner]
    hh.kids_14p[host] = hh.kids_14p[host] + hh.kids_14p[joiner]
    kids = (hh.kids_u14[host] + hh.kids_14p[host]) > 0
    hh.hh_type[host] = np.where(kids, COUPLE_CHILDREN, COUPLE).astype(np.int8)
    hh.employed[host] = hh.employed[host] | hh.employed[joiner]
    _set_z(state, host, z)
    take = (hh.app[host] == APP_NONE) & (hh.app[joiner] != APP_NONE)
    h, j = host[take], joiner[take]
    hh.app[h] = np.where(hh.tenure[h] == SOCIAL, APP_TRANSFER, APP_FIRST).astype(np.int8)
    hh.app_month[h] = hh.app_month[j]
    hh.wishes[h] = hh.wishes[j]
    hh.priority[h] = hh.priority[j]
    hh.refusals[h] = hh.refusals[j]
    join(state, joiner, host, log)


def demography(state: State, beh: Behaviour, rng: np.random.Generator, log: MoveLog,
               wish_breadth: int = 2) -> dict[str, int]:
    """Apply one month of demographic events; return event counts (also added to the counters)."""
    hh = state.hh
    sched = schedules(*behaviour_multipliers(beh))
    u = rng.random(hh.n)
    dead, leaving, splitting, leaver_woman, seekers, deaths, births = _month_events(
        u, hh.alive, hh.age, hh.hh_type, hh.adults, hh.women, hh.kids_u14, hh.kids_14p,
        hh.separated, *sched)
    # households whose last adult died end (children left are taken in outside the household
    # table: orphans are a few per 100,000 households a year)
    remove(state, dead, log, "death")
    # young adults leaving home: hosted where their parents live; income rank tied to the
    # parents' (0.4), lower on average; age from the reference person's (child 30 years younger)
    k = len(leaving)
    if k:
        z = 0.4 * hh.z[leaving] - 0.5 + _CHILD_Z_NOISE * rng.standard_normal(k)
        age = np.clip(hh.age[leaving] - CHILD_AGE_GAP + rng.uniform(-2, 2, k), 18, 40)
        woman = rng.random(k) < 0.5
        new_households(state, leaving, age, z, woman, rng, separated=False,
                       wish_breadth=wish_breadth)
    # separations: the leaving partner, hosted in the neighbourhood, the couple's age
    s = len(splitting)
    if s:
        z = hh.z[splitting] - 0.2 + 0.5 * rng.standard_normal(s)
        new_households(state, splitting, hh.age[splitting], z, leaver_woman, rng, separated=True,
                       wish_breadth=wish_breadth)
    # unions (seekers that died or split this month are not among them: one event a row)
    local, outside = form_unions(state, seekers, rng, log)
    c = state.counters
    out = {"births": int(births), "deaths_persons": int(deaths), "deaths": len(dead),
           "children_leaving": k, "separations": s, "unions": local + outside,
           "unions_outside": outside}
    for key in ("births", "deaths_persons", "children_leaving", "separations", "unions"):
        c[key] = c.get(key, 0) + out[key]
    return out
