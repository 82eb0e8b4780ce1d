"""Synthetic initial population: households and dwellings drawn from a territory's tables.

:func:`build_state` draws households from the population counts (type, income quartile,
tenure, neighbourhood), dwellings from the stock counts, matches them by size, and draws the
pending applications from the applicant counts; the compositions and ages follow INSEE's census
orders of magnitude (see each function).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from .applications import commune_weights, update_q1_threshold
from .draws import binomial_each, draw_wishes, weighted_choice
from .rules import household_size, income_from_z
from .state import (
    APP_FIRST,
    APP_NONE,
    APP_TRANSFER,
    AREA_BY_ROOMS,
    COUPLE,
    COUPLE_CHILDREN,
    DWELLING_COLUMNS,
    HOSTED,
    HOUSEHOLD_COLUMNS,
    MEDIAN_INCOME_UC,
    OTHER,
    OWNER,
    PRIVATE,
    S_OWNER,
    S_PRIVATE,
    S_SOCIAL,
    SEEK_RENT,
    SINGLE,
    SINGLE_PARENT,
    SOCIAL,
    Neighbourhoods,
    State,
    Table,
    ceiling_resources,
    plus_ceiling,
    update_quartiles,
)
from .territory import FINANCING, HH_TYPES, HOLDERS, Territory

# Age of the reference person by household type: shares of the ten-year bands 20–29 … 90–99
# (orders of magnitude of INSEE's census 2019, households by type and age of the reference
# person, rounded; persons living alone are old more often than not, couples with children
# are 30–59).
AGE_BANDS = np.array([20, 30, 40, 50, 60, 70, 80, 90, 100])
AGE_BAND_SHARES = {
    SINGLE: (0.17, 0.12, 0.10, 0.13, 0.15, 0.14, 0.14, 0.05),
    COUPLE: (0.07, 0.06, 0.05, 0.14, 0.27, 0.25, 0.14, 0.02),
    COUPLE_CHILDREN: (0.05, 0.31, 0.39, 0.21, 0.04, 0.0, 0.0, 0.0),
    SINGLE_PARENT: (0.07, 0.25, 0.35, 0.23, 0.07, 0.02, 0.01, 0.0),
    OTHER: (0.20, 0.14, 0.14, 0.16, 0.14, 0.12, 0.08, 0.02),
}


def draw_ages(rng: np.random.Generator, hh_type: np.ndarray) -> np.ndarray:
    """Ages of reference persons by household type (:data:`AGE_BAND_SHARES`, uniform in a band)."""
    ages = np.empty(len(hh_type))
    for t, shares in AGE_BAND_SHARES.items():
        m = np.flatnonzero(hh_type == t)
        if len(m) == 0:
            continue
        p = np.asarray(shares) / np.sum(shares)
        band = weighted_choice(rng, p, len(m))
        ages[m] = AGE_BANDS[band] + 10.0 * rng.random(len(m))
    return ages


def synthesise_households(rng: np.random.Generator, hh: Table, idx: np.ndarray,
                          hh_type: np.ndarray, z: np.ndarray) -> None:
    """Fill composition, age and income of new household rows."""
    n = len(idx)
    hh.alive[idx] = True
    hh.hh_type[idx] = hh_type
    adults = np.ones(n, np.int8)
    adults[(hh_type == COUPLE) | (hh_type == COUPLE_CHILDREN)] = 2
    other = hh_type == OTHER
    adults[other] = 2 + (rng.random(other.sum()) < 0.3)
    kids = np.zeros(n, np.int8)
    with_kids = (hh_type == COUPLE_CHILDREN) | (hh_type == SINGLE_PARENT)
    kids[with_kids] = 1 + weighted_choice(rng, [0.45, 0.38, 0.17], with_kids.sum())
    u14 = binomial_each(rng, kids, 0.65).astype(np.int8)
    hh.adults[idx] = adults
    hh.kids_u14[idx] = u14
    hh.kids_14p[idx] = kids - u14
    hh.age[idx] = draw_ages(rng, hh_type)
    hh.z[idx] = z
    hh.employed[idx] = (hh.age[idx] < 62) & (rng.random(n) < 0.55 + 0.15 * np.tanh(z))
    hh.women[idx] = draw_women(rng, hh_type, adults, hh.age[idx])


def draw_women(rng: np.random.Generator, hh_type: np.ndarray, adults: np.ndarray,
               age: np.ndarray) -> np.ndarray:
    """Draw the number of adult women of synthetic households.

    A couple is a man and a woman (same-sex couples, about 1 % of couples in the 2018 census,
    are not told apart). Single parents are mothers in 85 % of cases (INSEE: 85 % of
    single-parent families in 2020). Persons living alone are women in 45 % of cases under 60
    and 65 % from 60 on (INSEE 2017: 27 % of men and 62 % of women aged 80+ live alone; women
    outlive men). Each adult of an *other* household is a woman with probability 1/2.
    """
    n = len(hh_type)
    u = rng.random(n)
    single_w = np.where(age < 60, 0.45, 0.65)
    women = np.where(hh_type == SINGLE, u < single_w,
                     np.where(hh_type == SINGLE_PARENT, u < 0.85, 0)).astype(np.int8)
    couple = (hh_type == COUPLE) | (hh_type == COUPLE_CHILDREN)
    women[couple] = 1
    other = hh_type == OTHER
    women[other] = binomial_each(rng, adults[other], 0.5)
    return women


def z_from_quartile(rng: np.random.Generator, quartile: np.ndarray) -> np.ndarray:
    """Draw normal scores uniformly inside the given income quartiles."""
    u = (quartile - 1 + rng.uniform(0.001, 0.999, len(quartile))) / 4.0
    return ndtri(u)


def build_state(territory: Territory, rng: np.random.Generator, *, holder_shares=None,
                wish_breadth: int = 2) -> State:
    """Synthesise households and dwellings from the territory tables.

    Households are drawn from the population counts (type, income quartile, tenure,
    neighbourhood); dwellings from the stock counts; households of a tenure are matched to the
    dwellings of that sector in their neighbourhood by size (with noise, so that some are over-
    crowded or under-occupy); applicants are drawn from the applicant counts.
    """
    t = territory
    com_ids = list(t.communes.commune)
    com_index = {c: i for i, c in enumerate(com_ids)}
    nbdf = t.neighbourhoods.reset_index(drop=True)
    nb_index = {n: i for i, n in enumerate(nbdf.neighbourhood)}
    base = nbdf.base_attractiveness.to_numpy(float)
    nb = Neighbourhoods(
        ids=list(nbdf.neighbourhood), names=list(nbdf.name),
        commune=nbdf.commune.map(com_index).to_numpy(np.int32),
        qpv=nbdf.qpv.to_numpy().astype(bool), x=nbdf.x.to_numpy(float).copy(),
        y=nbdf.y.to_numpy(float).copy(), base_attractiveness=base.copy(),
        attractiveness=base.copy(), private_rent_m2=nbdf.private_rent_m2.to_numpy(float).copy(),
        investment=np.zeros(len(nbdf)))

    # ---- dwellings
    private = t.dwellings
    social = t.social_stock.reset_index(drop=True)
    res_ids = list(dict.fromkeys(social.residence))
    res_index = {r: i for i, r in enumerate(res_ids)}
    landlords = list(dict.fromkeys(social.landlord))
    ll_index = {r: i for i, r in enumerate(landlords)}
    n_dw = int(private["count"].sum() + social["count"].sum())
    dw = Table(DWELLING_COLUMNS, 0)
    dw.add(n_dw)
    pc = private["count"].to_numpy(np.int64)
    sc = social["count"].to_numpy(np.int64)
    npriv = int(pc.sum())
    dw.nbhd[:npriv] = np.repeat(private.neighbourhood.map(nb_index).to_numpy(), pc)
    dw.sector[:npriv] = np.repeat(np.where(private.sector == "owner", S_OWNER, S_PRIVATE), pc)
    dw.rooms[:npriv] = np.repeat(private.rooms.to_numpy(), pc)
    s = slice(npriv, n_dw)
    dw.nbhd[s] = np.repeat(social.neighbourhood.map(nb_index).to_numpy(), sc)
    dw.sector[s] = S_SOCIAL
    dw.rooms[s] = np.repeat(social.rooms.to_numpy(), sc)
    dw.residence[s] = np.repeat(social.residence.map(res_index).to_numpy(), sc)
    dw.landlord[s] = np.repeat(social.landlord.map(ll_index).to_numpy(), sc)
    dw.financing[s] = np.repeat(social.financing.map({f: i for i, f in enumerate(FINANCING)})
                                .to_numpy(), sc)
    dw.rent_m2[s] = np.repeat(social.rent_m2.to_numpy(float), sc)
    dw.area[:] = AREA_BY_ROOMS[dw.rooms] * rng.uniform(0.9, 1.1, n_dw)
    n_soc = n_dw - npriv
    if "holder" in social.columns:
        dw.holder[s] = np.repeat(social.holder.map({h: i for i, h in enumerate(HOLDERS)})
                                 .to_numpy(), sc)
    else:
        shares = np.asarray(holder_shares if holder_shares is not None else (0.3, 0.3, 0.2, 0.2))
        counts = np.floor(shares * n_soc).astype(int)
        counts[-1] = n_soc - counts[:-1].sum()
        dw.holder[s] = rng.permutation(np.repeat(np.arange(4), counts))

    # ---- households
    pop = t.population.reset_index(drop=True)
    cnt = pop["count"].to_numpy(np.int64)
    n_hh = int(cnt.sum())
    hh = Table(HOUSEHOLD_COLUMNS, 0)
    idx = hh.add(n_hh)
    tenure_code = {"social": SOCIAL, "private": PRIVATE, "owner": OWNER, "hosted": HOSTED}
    hh.tenure[:] = np.repeat(pop.tenure.map(tenure_code).to_numpy(), cnt)
    hh.nbhd[:] = np.repeat(pop.neighbourhood.map(nb_index).to_numpy(), cnt)
    quart = np.repeat(pop.quartile.to_numpy(), cnt)
    types = np.repeat(pop.hh_type.map({h: i for i, h in enumerate(HH_TYPES)}).to_numpy(), cnt)
    synthesise_households(rng, hh, idx, types.astype(np.int8), z_from_quartile(rng, quart))
    hh.income_uc[:] = income_from_z(hh.z, MEDIAN_INCOME_UC)
    hh.cohort[:] = True
    hh.quartile[:] = quart
    # time already spent in place: roughly exponential, mean 8 years (owners 14)
    mean_stay = np.where(hh.tenure == OWNER, 168.0, np.where(hh.tenure == PRIVATE, 48.0, 110.0))
    hh.move_in[:] = -np.minimum(rng.exponential(mean_stay), 600).astype(np.int32)

    # ---- match households to dwellings by size within (neighbourhood, sector)
    housed = np.flatnonzero(hh.tenure != HOSTED)
    h_group = hh.nbhd[housed].astype(np.int64) * 3 + hh.tenure[housed]
    d_group = dw.nbhd.astype(np.int64) * 3 + dw.sector
    # keep a random subset of dwellings of each group, as many as households
    h_count = np.bincount(h_group, minlength=len(nb) * 3)
    d_order = np.lexsort((rng.random(n_dw), d_group))
    d_sorted_group = d_group[d_order]
    starts = np.searchsorted(d_sorted_group, np.arange(len(nb) * 3))
    rank = np.arange(n_dw) - starts[d_sorted_group]
    kept = d_order[rank < h_count[d_sorted_group]]
    size = household_size(hh, housed)
    h_sorted = housed[np.lexsort((size + rng.normal(0, 0.9, len(housed)), h_group))]
    kg = d_group[kept]
    d_sorted = kept[np.lexsort((dw.rooms[kept] * 1.5 + rng.normal(0, 0.9, len(kept)), kg))]
    hh.dwelling[h_sorted] = d_sorted
    dw.occupant[d_sorted] = h_sorted
    vacant = dw.occupant < 0
    dw.months_vacant[vacant] = rng.integers(0, 4, vacant.sum())

    state = State(hh=hh, dw=dw, nb=nb, commune_ids=com_ids,
                  commune_names=list(t.communes.name),
                  sru_applies=t.communes.sru_applies.to_numpy().astype(bool),
                  residence_ids=res_ids, landlord_ids=landlords)

    # ---- applicants: eligible households only (income within the PLUS ceiling, as for the
    # applications of the run), their demands of the ages a lifecycle at rest gives
    app = t.applicants
    weights = commune_weights(state)
    eligible = (ceiling_resources(hh, median=state.median_income_uc)
                <= plus_ceiling(hh, index=state.ceiling_index))
    for row in app.itertuples(index=False):
        pool = np.flatnonzero((hh.tenure == tenure_code[row.tenure]) & (hh.quartile == row.quartile)
                              & (hh.app == APP_NONE) & eligible)
        pick = rng.choice(pool, size=min(int(row.count), len(pool)), replace=False)
        hh.app[pick] = APP_TRANSFER if row.tenure == "social" else APP_FIRST
        hh.app_month[pick] = -pending_ages(rng, len(pick))
        hh.priority[pick] = bool(row.priority)
    apps = np.flatnonzero(hh.app > 0)
    hh.wishes[apps] = draw_wishes(rng, nb.commune[hh.nbhd[apps]], wish_breadth, weights)
    # hosted households that are not applicants look for a private dwelling
    hh.seek[(hh.tenure == HOSTED) & (hh.app == APP_NONE)] = SEEK_RENT
    state.initial_households = n_hh
    state.start_households = int((hh.dwelling >= 0).sum())
    state.commune_w = commune_weights(state)
    update_quartiles(state)
    update_q1_threshold(state)
    return state


PENDING_MEAN_AGE_MONTHS = 721 / (365.25 / 12)  # ANCOLS 2022: mean wait of pending demands
PENDING_MAX_AGE_MONTHS = 120


def pending_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages in whole months (≥ 0) of ``n`` pending demands of a queue at rest.

    With constant inflows, and each year a share of the demands allocated (≈17.5 %: 420,000 of
    2.4 M in 2022, SDES/ANCOLS) and a share not renewed (``Behaviour.renewal_dropout``), the
    ages of pending demands are close to exponential; the mean is the national 721 days
    (ANCOLS 2022), the ages capped at ten years.
    """
    a = rng.exponential(PENDING_MEAN_AGE_MONTHS, n)
    return np.minimum(np.floor(a), PENDING_MAX_AGE_MONTHS).astype(np.int32)

