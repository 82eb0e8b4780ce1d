"""Demography (ODD §7.1): ageing, births, children leaving home, separations, deaths.

Monthly hazards come from annual rates (orders of magnitude from INSEE: about 0.07 births per
couple-year under 45, ~1.5 % of couples separating per year, mortality of the oldest persons living
alone ~6 %/year at 75 rising ~9 % per year of age). New households (children leaving home,
separated partners) are *hosted* where they lived and look for a dwelling; some apply for social
housing.

The month is a short sequence of random draws (numpy, in the caller) with compiled kernels
(:mod:`mixsim.model.jit`) doing the work between them: one pass over the household table ages it and
finds the groups, further kernels apply the changes of composition and create the new
households. The kernels follow the numpy arithmetic they replace, including its types (float32
ages, int8 counts that wrap on overflow).
"""

from __future__ import annotations

import functools

import numpy as np

from ..config import Behaviour
from ..jit import njit
from ..moves import MoveLog, remove
from ..state import (
    APP_FIRST,
    COUPLE,
    COUPLE_CHILDREN,
    HOSTED,
    INCOME_SIGMA,
    SEEK_RENT,
    SINGLE,
    SINGLE_PARENT,
    State,
    income_one,
    monthly_hazard,
    open_applications,
    plus_ceiling_one,
    sample_without_replacement,
    size_one,
)

# weight of the innovation in a young adult's income rank (the parents' rank weighs 0.4)
_CHILD_Z_NOISE = float(np.sqrt(1 - 0.16))
_NONE = np.zeros(0, np.int64)


# ----------------------------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------------------------


@njit
def _fix_type_row(r, hh_type, adults, kids_u14, kids_14p):
    """Re-derive the type of household ``r`` from its adults and children (int8 sums wrap)."""
    kids = np.int8(kids_u14[r] + kids_14p[r])
    t = hh_type[r]
    a = adults[r]
    if (t == COUPLE or t == COUPLE_CHILDREN) and a >= 2:
        hh_type[r] = COUPLE_CHILDREN if kids > 0 else COUPLE
    if a == 1:
        hh_type[r] = SINGLE_PARENT if kids > 0 else SINGLE


@njit
def _fix_types_kernel(idx, hh_type, adults, kids_u14, kids_14p):
    """Re-derive the types of the households ``idx``."""
    for i in range(len(idx)):
        _fix_type_row(idx[i], hh_type, adults, kids_u14, kids_14p)


# The first pass leaves the groups in one index buffer ``work`` of five segments of ``n`` rows
# (the table's rows at the start of the month), each used from its start:
_OLD, _FERTILE, _COUPLES, _YOUNG, _OLDER = range(5)


@njit
def _scan(alive, age, hh_type, adults, kids_u14, kids_14p):
    """Age the living by one month (float32) and find the groups of the month's events.

    Returns:
        ``(work, x, n_old, n_fertile, n_couples, n_young, n_older)``: the ascending indices of
        the living households aged 75+ (segment ``_OLD`` of ``work``), of the couples (couple
        types with 2+ adults) under 45 (``_FERTILE``), of all couples (``_COUPLES``), of the
        households with children under 14 (``_YOUNG``) and with children aged 14+ (``_OLDER``),
        their numbers, and the mortality exponent 0.09 × (age − 75) of the old (float32).
    """
    n = len(alive)
    step = np.float32(1.0 / 12.0)
    # one bit per group (bit s: segment s), in a loop the compiler vectorises
    code = np.empty(n, np.uint8)
    for i in range(n):
        al = alive[i]
        a = np.float32(age[i] + step * np.float32(al))
        age[i] = a
        t = hh_type[i]
        couple = ((t == COUPLE) | (t == COUPLE_CHILDREN)) & (adults[i] >= 2)
        code[i] = al * (np.uint8(a >= 75) << _OLD | np.uint8(couple & (a < 45)) << _FERTILE
                        | np.uint8(couple) << _COUPLES | np.uint8(kids_u14[i] > 0) << _YOUNG
                        | np.uint8(kids_14p[i] > 0) << _OLDER)
    # rows in any group, then each group from them (branch-free compaction: write the index,
    # advance when it belongs)
    rows = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        rows[m] = i
        m += code[i] != 0
    work = np.empty(5 * n, np.int64)
    sizes = np.empty(5, np.int64)
    for s in range(5):
        k = s * n
        for j in range(m):
            r = rows[j]
            work[k] = r
            k += (code[r] >> s) & 1
        sizes[s] = k - s * n
    x = np.empty(sizes[_OLD], np.float32)
    c = np.float32(0.09)
    for j in range(sizes[_OLD]):
        x[j] = np.float32(c * np.float32(age[work[_OLD * n + j]] - np.float32(75.0)))
    return (work, x, sizes[_OLD], sizes[_FERTILE], sizes[_COUPLES], sizes[_YOUNG],
            sizes[_OLDER])


@njit
def _merge_rows(a, b):
    """Sorted union of the ascending index arrays ``a`` and ``b``."""
    out = np.empty(len(a) + len(b), np.int64)
    i = j = m = 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and a[i] < b[j]):
            r = a[i]
            i += 1
        elif i == len(a) or b[j] < a[i]:
            r = b[j]
            j += 1
        else:
            r = a[i]
            i += 1
            j += 1
        out[m] = r
        m += 1
    return out[:m]


@njit
def _births(work, n, n_young, picked, alive, hh_type, kids_u14):
    """Couples ``work[_FERTILE * n + sorted(picked)]`` have a child under 14.

    The households with children under 14 (``_YOUNG`` segment) are updated.

    Returns:
        ``(n_young, children)``: their number and their number of children under 14 in all.
    """
    born = work[_FERTILE * n + np.sort(picked)]
    for r in born:
        kids_u14[r] = kids_u14[r] + 1
        hh_type[r] = COUPLE_CHILDREN
    y0 = _YOUNG * n
    young = _merge_rows(work[y0:y0 + n_young], born)
    m = 0
    children = 0
    for r in young:
        if alive[r] and kids_u14[r] > 0:
            work[y0 + m] = r
            m += 1
            children += kids_u14[r]
    return m, children


@njit
def _grow_and_group(work, n, n_young, n_older, turning, alive, kids_u14, kids_14p):
    """Children turn 14, then the households with children aged 14+ are grouped by their number.

    ``turning`` holds positions among the children under 14 of the ``_YOUNG`` households
    (numbered household after household); each moves its household's child from under 14 to
    14+. The ``_OLDER`` segment then holds the living households with children aged 14+ sorted
    by number of such children, then by index.

    Returns:
        Array ``(2, g)``: the numbers of children aged 14+ (ascending) and the number of
        households with each.
    """
    turning = np.sort(turning)
    y0 = _YOUNG * n
    grown = np.empty(n_young, np.int64)
    n_grown = 0
    p = 0
    cum = 0
    for j in range(n_young):
        r = work[y0 + j]
        cum += kids_u14[r]
        g = 0
        while p < len(turning) and turning[p] < cum:
            g += 1
            p += 1
        if g:
            kids_u14[r] = kids_u14[r] - g
            kids_14p[r] = kids_14p[r] + g
            grown[n_grown] = r
            n_grown += 1
    w0 = _OLDER * n
    older = _merge_rows(work[w0:w0 + n_older], grown[:n_grown])
    counts = np.zeros(128, np.int64)
    for r in older:
        if alive[r] and kids_14p[r] > 0:
            counts[kids_14p[r]] += 1
    g = 0
    for v in range(128):
        g += counts[v] > 0
    groups = np.empty((2, g), np.int64)
    pos = np.empty(128, np.int64)
    j = 0
    total = w0
    for v in range(128):
        if counts[v]:
            groups[0, j] = v
            groups[1, j] = counts[v]
            pos[v] = total
            total += counts[v]
            j += 1
    for r in older:
        if alive[r] and kids_14p[r] > 0:
            v = kids_14p[r]
            work[pos[v]] = r
            pos[v] += 1
    return groups


@njit
def _leave_home(work, n, picked, meta, noise, z_noise, ages, u_employed, u_apply, start, params,
                cols):
    """Make a child aged 14+ leave each household picked in groups of the ``_OLDER`` segment.

    With ``g = len(meta) // 2`` groups, ``picked[meta[j]:meta[j + 1]]`` are the positions picked
    in the group ``j``, which starts at ``meta[g + 1 + j]`` in the segment. The young adult of
    the ``i``-th leaving household (ascending) gets the income rank ``0.4 × parents' rank − 0.5
    + z_noise × noise[i]`` and the new row ``start + i`` (see :func:`_fill_row`).

    Returns:
        Rows of the new households applying for social housing.
    """
    hh_type, adults, kids_u14, kids_14p, z = cols[1], cols[2], cols[3], cols[4], cols[6]
    g = len(meta) // 2
    leavers = np.empty(len(picked), np.int64)
    for j in range(g):
        base = _OLDER * n + meta[g + 1 + j]
        for i in range(meta[j], meta[j + 1]):
            leavers[i] = work[base + picked[i]]
    leavers = np.sort(leavers)
    applying = np.empty(len(leavers), np.int64)
    m = 0
    for i in range(len(leavers)):
        r = leavers[i]
        kids_14p[r] = kids_14p[r] - 1
        _fix_type_row(r, hh_type, adults, kids_u14, kids_14p)
        z_child = 0.4 * z[r] - 0.5 + z_noise * noise[i]
        if _fill_row(start + i, r, ages[i], z_child, u_employed[i], u_apply[i], False, params,
                     cols):
            applying[m] = start + i
            m += 1
    return applying[:m]


@njit
def _separate(work, n, picked, noise, u_employed, u_apply, start, params, cols):
    """One partner leaves each couple ``work[_COUPLES * n + sorted(picked)]``.

    The couple is marked separated; the ``i``-th partner leaving gets the couple's age, the
    income rank ``couple's rank − 0.2 + 0.5 × noise[i]`` and the new row ``start + i`` (see
    :func:`_fill_row`).

    Returns:
        Rows of the new households applying for social housing.
    """
    hh_type, adults, kids_u14, kids_14p = cols[1], cols[2], cols[3], cols[4]
    age, z, separated = cols[5], cols[6], cols[12]
    split = work[_COUPLES * n + np.sort(picked)]
    applying = np.empty(len(split), np.int64)
    m = 0
    for i in range(len(split)):
        r = split[i]
        adults[r] = adults[r] - 1
        _fix_type_row(r, hh_type, adults, kids_u14, kids_14p)
        separated[r] = True
        z_sep = z[r] - 0.2 + 0.5 * noise[i]
        if _fill_row(start + i, r, age[r], z_sep, u_employed[i], u_apply[i], True, params,
                     cols):
            applying[m] = start + i
            m += 1
    return applying[:m]


@njit
def _deaths(work, n, n_old, u, hazard, hh_type, adults, kids_u14, kids_14p):
    """Old households (``_OLD`` segment) with ``u < hazard`` die: couples lose a partner.

    Returns:
        The dying households of one adult (they leave the table).
    """
    alone = np.empty(n_old, np.int64)
    m = 0
    for i in range(n_old):
        if u[i] < hazard[i]:
            r = work[_OLD * n + i]
            a = adults[r]
            if a == 1:
                alone[m] = r
                m += 1
            elif a >= 2:
                adults[r] = a - 1
                _fix_type_row(r, hh_type, adults, kids_u14, kids_14p)
    return alone[:m]


@njit
def _searchsorted_right(cuts, v):
    """``np.searchsorted(cuts, v, side="right")`` for sorted ``cuts`` (numpy's NaN order)."""
    lo = 0
    hi = len(cuts)
    while lo < hi:
        mid = lo + ((hi - lo) >> 1)
        c = cuts[mid]
        if v < c or (c != c and v == v):
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit
def _fill_row(r, parent, age, z, u_employed, u_apply, separated, params, cols):
    """Fill the new row ``r``: one adult hosted where ``parent`` lives; whether it applies.

    ``params`` are the month, the median income per UC, the income dispersion ``sigma``, the
    quartile cuts and the index of the income ceilings; ``cols`` the columns of
    :func:`_columns`. Income per UC ``median × exp(sigma × z)``, employed when ``u_employed <
    0.6``; a household whose income is within its PLUS ceiling applies for social housing when
    ``u_apply`` is below 0.12 (income rank below 0) or 0.03.
    """
    month, median, sigma, cuts, ceiling_index = params
    (alive, hh_type, adults, kids_u14, kids_14p, age_col, z_col, income_uc, nbhd, tenure,
     move_in, seek, sep_col, employed, quartile) = cols
    alive[r] = True
    hh_type[r] = SINGLE
    adults[r] = 1
    age_col[r] = age
    z_col[r] = z
    inc = median * np.exp(sigma * z)
    income_uc[r] = inc
    nbhd[r] = nbhd[parent]
    tenure[r] = HOSTED
    move_in[r] = month
    seek[r] = SEEK_RENT
    sep_col[r] = separated
    employed[r] = u_employed < 0.6
    quartile[r] = 1 + _searchsorted_right(cuts, inc)
    # eligibility: household income (income per UC × OECD units) within the PLUS ceiling
    eligible = (income_one(inc, adults[r], kids_u14[r], kids_14p[r])
                <= plus_ceiling_one(adults[r], size_one(adults[r], kids_u14[r], kids_14p[r]),
                                    ceiling_index))
    p_apply = (0.12 if z < 0 else 0.03) if eligible else 0.0
    return u_apply < p_apply


@njit
def _fill_new(start, parents, age, z, u_employed, u_apply, separated, params, cols):
    """Fill the new rows ``start + i`` for ``parents[i]`` (see :func:`_fill_row`).

    Returns:
        Rows of the new households applying for social housing.
    """
    applying = np.empty(len(parents), np.int64)
    m = 0
    for i in range(len(parents)):
        if _fill_row(start + i, parents[i], age[i], z[i], u_employed[i], u_apply[i], separated,
                     params, cols):
            applying[m] = start + i
            m += 1
    return applying[:m]


# ----------------------------------------------------------------------------------------------
# processes
# ----------------------------------------------------------------------------------------------


def _fix_types(hh, idx: np.ndarray) -> None:
    """Re-derive the household type after a change of composition."""
    _fix_types_kernel(np.asarray(idx, np.int64), hh.hh_type, hh.adults, hh.kids_u14, hh.kids_14p)


def _params(state: State) -> tuple:
    """Scalars and small arrays the kernels filling new rows use (see :func:`_fill_row`)."""
    return (int(state.month), float(state.median_income_uc), float(INCOME_SIGMA),
            np.asarray(state.quartile_cuts, np.float64), float(state.ceiling_index))


def _columns(hh) -> tuple:
    """Household columns the kernels filling new rows use (after the rows are added)."""
    return (hh.alive, hh.hh_type, hh.adults, hh.kids_u14, hh.kids_14p, hh.age, hh.z, hh.income_uc,
            hh.nbhd, hh.tenure, hh.move_in, hh.seek, hh.separated, hh.employed, hh.quartile)


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
    u_employed = rng.random(k)
    u_apply = rng.random(k)
    idx = hh.add(k)
    applying = _fill_new(int(idx[0]), np.asarray(parents, np.int64), np.asarray(age),
                         np.asarray(z, np.float64), u_employed, u_apply, bool(separated),
                         _params(state), _columns(hh))
    open_applications(state, applying, APP_FIRST, rng, wish_breadth)
    state.formations += k
    return idx


@functools.lru_cache(maxsize=256)
def _hazard(annual: float, *multiplier: int) -> float:
    """:func:`monthly_hazard` of a scalar rate (and multiplier), remembered."""
    return monthly_hazard(annual, *multiplier)


def _pick(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Draw as :func:`bernoulli_subset` over ``n`` members; return the positions picked (unsorted).

    A binomial number of events, then that many distinct positions (empty when none).
    """
    k = int(rng.binomial(n, min(max(float(p), 0.0), 1.0))) if n else 0
    return sample_without_replacement(rng, n, k) if k else _NONE


def demography(state: State, beh: Behaviour, rng: np.random.Generator, log: MoveLog,
               wish_breadth: int = 2) -> dict[str, int]:
    """Apply one month of demographic events; return event counts.

    Events of equal probability within a group are drawn as by :func:`bernoulli_subset` (a
    binomial count, then that many members without replacement): the same law as one uniform
    per household or per child.
    """
    # Groups are found in one pass over all rows (which also ages the living by one month),
    # restricted to living households; rows added this month (new households) are not in them.
    # Nothing below ends a household before the deaths, and the ages of existing rows do not
    # change: the old and their mortality exponents are found in this pass too.
    hh = state.hh
    n = hh.n
    work, x, n_old, n_fertile, n_couples, n_young, n_older = _scan(
        hh.alive, hh.age, hh.hh_type, hh.adults, hh.kids_u14, hh.kids_14p)

    # births
    born = _pick(rng, n_fertile, _hazard(beh.birth_rate))
    n_young, children = _births(work, n, n_young, born, hh.alive, hh.hh_type, hh.kids_u14)

    # children under 14 turn 14 (about 1/14 of them each year), each child independently
    turning = _pick(rng, int(children), _hazard(1.0 / 14.0))
    groups = _grow_and_group(work, n, n_young, n_older, turning, hh.alive, hh.kids_u14,
                             hh.kids_14p)

    # children aged 14+ leave home: a new hosted household (hazard rate × number of children);
    # the households are grouped by number of children
    picked, bounds, starts = [], [0], []
    start = 0
    for k, size in zip(*groups.tolist(), strict=True):
        sel = _pick(rng, size, _hazard(beh.child_leave_rate, k))
        if len(sel):
            picked.append(sel)
            bounds.append(bounds[-1] + len(sel))
            starts.append(start)
        start += size
    n_kids = 0
    if picked:
        # young adults: income rank tied to the parents', lower on average; the draws of
        # new_households, then the rows
        n_kids = bounds[-1]
        noise = rng.standard_normal(n_kids)
        ages = rng.uniform(18, 26, n_kids)
        u_employed = rng.random(n_kids)
        u_apply = rng.random(n_kids)
        start = hh.n
        hh.add(n_kids)
        applying = _leave_home(work, n, np.concatenate(picked), np.array(bounds + starts, np.int64),
                               noise, _CHILD_Z_NOISE, ages, u_employed, u_apply, start,
                               _params(state), _columns(hh))
        open_applications(state, applying, APP_FIRST, rng, wish_breadth)
        state.formations += n_kids

    # separations: one partner leaves (couples found above are all still living); as above
    split = _pick(rng, n_couples, _hazard(beh.separation_rate))
    n_seps = len(split)
    if n_seps:
        noise = rng.standard_normal(n_seps)
        u_employed = rng.random(n_seps)
        u_apply = rng.random(n_seps)
        start = hh.n
        hh.add(n_seps)
        applying = _separate(work, n, split, noise, u_employed, u_apply, start, _params(state),
                             _columns(hh))
        open_applications(state, applying, APP_FIRST, rng, wish_breadth)
        state.formations += n_seps

    # deaths of the oldest: persons living alone die, couples lose a partner
    hazard = monthly_hazard(beh.death_rate_75, np.exp(x))
    u = rng.random(n_old)
    alone = _deaths(work, n, n_old, u, hazard, hh.hh_type, hh.adults,
                    hh.kids_u14, hh.kids_14p)
    remove(state, alone, log, "death")
    c = state.counters
    c["births"] = c.get("births", 0) + len(born)
    c["deaths_persons"] = c.get("deaths_persons", 0) + int((u < hazard).sum())
    c["separations"] = c.get("separations", 0) + n_seps
    c["children_leaving"] = c.get("children_leaving", 0) + n_kids
    return {"births": len(born), "children_leaving": n_kids, "separations": n_seps,
            "deaths": len(alone)}
