"""Allocation rules of the law on hand-built states (issue #15; docs/levers.md §3–§4, §11).

Each test builds a small situation on the tiny territory (tests/conftest.py): its own
applicants and vacancies, every other application closed, acceptance made certain (or
impossible) through ``accept_base`` so that the outcome depends on the rule only.
"""

import numpy as np
import pytest

from mixsim.model.config import Behaviour, Scenario
from mixsim.model.moves import MoveLog, vacate
from mixsim.model.processes.allocation import COMMUNE, allocate
from mixsim.model.rules import consumption_units
from mixsim.model.state import (
    APP_FIRST,
    APP_NONE,
    APP_TRANSFER,
    HOSTED,
    PLS_RATIO,
    S_SOCIAL,
    SINGLE,
    SOCIAL,
    plus_ceiling,
)

# acceptance log-odds ±10 (P ≈ 1 − 5e-5 or 5e-5 with the adjustments), fixed seeds
# no re-letting or processing delay (ODD §7.6): a freed unit and a new file meet at once
SURE = Behaviour(accept_base=10.0, accept_attractiveness=0.0, accept_effort=0.0, relet_months=0,
                processing_months=0)
NEVER = Behaviour(accept_base=-10.0, accept_attractiveness=0.0, accept_effort=0.0, relet_months=0,
                 processing_months=0)


def levers(**overrides):
    return Scenario().with_overrides({f"levers.{k}": v for k, v in overrides.items()}).levers


def close_applications(st):
    """Close every application and take the social units vacant at the start off the market."""
    st.hh.app[:] = APP_NONE
    dw = st.dw
    dw.active[(dw.sector == S_SOCIAL) & (dw.occupant < 0)] = False


def free_units(st, units):
    """Empty ``units`` (and put them back on the market): their tenants stay in the territory
    as hosted non-applicants."""
    occ = st.dw.occupant[units]
    occ = occ[occ >= 0]
    vacate(st, occ)
    st.hh.tenure[occ] = HOSTED
    st.dw.active[units] = True
    st.dw.months_vacant[units] = 0


def add_applicants(st, n, nbhd, *, waited=0, z=0.0):
    """Singles hosted in ``nbhd`` applying for a first letting, wishing both communes."""
    hh = st.hh
    idx = hh.add(n)
    hh.alive[idx] = True
    hh.hh_type[idx] = SINGLE
    hh.adults[idx] = 1
    hh.age[idx] = 35.0
    hh.tenure[idx] = HOSTED
    hh.nbhd[idx] = nbhd
    hh.z[idx] = z
    hh.income_uc[idx] = st.median_income_uc * np.exp(0.5 * z)
    hh.app[idx] = APP_FIRST
    hh.app_month[idx] = st.month - waited
    hh.wishes[idx] = 0b11
    return idx


def one_room_units(st, nbhd_id):
    dw, nb = st.dw, st.nb
    return np.flatnonzero((dw.sector == S_SOCIAL) & (dw.nbhd == nb.ids.index(nbhd_id))
                          & (dw.rooms == 1))


def commune_round(st, *, preference, residents=True):
    """Commune-held one-room vacancies in A2 (commune A); 4 applicants living in A who have just
    applied, 4 living in B who have waited 24 months (24 cotation points more)."""
    close_applications(st)
    units = one_room_units(st, "A2")
    free_units(st, units)
    st.dw.holder[units] = COMMUNE
    res_a = add_applicants(st, 4, st.nb.ids.index("A1"), waited=0) if residents else None
    res_b = add_applicants(st, 4, st.nb.ids.index("B1"), waited=24)
    out = allocate(st, levers(**{"reservation.local_preference": preference}), SURE,
                   np.random.default_rng(3), MoveLog())
    assert out.n == len(units) == 4
    return set(out.households.tolist()), res_a, res_b


@pytest.mark.parametrize("preference", [30.0, 500.0])
def test_commune_preference_ranks_its_residents_first(tiny_state, preference):
    won, res_a, _ = commune_round(tiny_state, preference=preference)
    assert won == set(res_a.tolist())  # 30 or 500 points beat 24 months of seniority


def test_commune_without_preference_ranks_by_cotation_only(tiny_state):
    won, _, res_b = commune_round(tiny_state, preference=0.0)
    assert won == set(res_b.tolist())


def test_commune_holder_lets_to_non_residents_when_no_resident_applies(tiny_state):
    # L441-1 CCH: not living in the commune cannot by itself justify refusing a dwelling
    won, _, res_b = commune_round(tiny_state, preference=30.0, residents=False)
    assert won == set(res_b.tolist())


def relocation_setup(st):
    """One QPV résidence to demolish with a single tenant left, whose income is twice its PLS
    ceiling; every other social unit outside QPV of the even rows freed."""
    dw, nb, hh = st.dw, st.nb, st.hh
    close_applications(st)
    qpv_units = np.flatnonzero((dw.sector == S_SOCIAL) & nb.qpv[dw.nbhd] & (dw.occupant >= 0))
    r = dw.residence[qpv_units[0]]
    units = np.flatnonzero(dw.residence == r)
    tenant = dw.occupant[units[dw.occupant[units] >= 0]][0]
    occ = dw.occupant[units]
    free_units(st, units[(occ >= 0) & (occ != tenant)])
    dw.to_demolish[units] = True
    dw.active[units[dw.occupant[units] < 0]] = False
    hh.relocation[tenant] = True
    hh.priority[tenant] = False
    hh.app[tenant] = APP_TRANSFER
    hh.app_month[tenant] = st.month
    hh.wishes[tenant] = 1 << nb.commune[hh.nbhd[tenant]]
    pls = PLS_RATIO * plus_ceiling(hh, [tenant], st.ceiling_index)[0]
    hh.income_uc[tenant] = 2.0 * pls / consumption_units(hh, [tenant])[0]
    hh.z[tenant] = 3.0
    outside = np.flatnonzero((dw.sector == S_SOCIAL) & dw.active & ~nb.qpv[dw.nbhd])
    free_units(st, outside[::2])
    return tenant, units


@pytest.mark.parametrize("relocation_priority", [True, False])
def test_relocated_household_above_the_pls_ceiling_is_rehoused_and_its_building_closes(
        tiny_state, relocation_priority):
    """L314-2 code de l'urbanisme: the relocation duty is owed to every occupant, whatever its
    income; L441-1 CCH: the lease counts in the Q1 quota outside QPV (with relocation
    priority), not in the priority households' share."""
    st = tiny_state
    tenant, units = relocation_setup(st)
    lv = levers(**{"renewal.relocation_priority": relocation_priority})
    rng = np.random.default_rng(5)
    signed = None
    for _ in range(4):  # a préfet-held vacancy goes to the landlord after handback_months
        before = dict(st.counters)
        out = allocate(st, lv, SURE, rng, MoveLog())
        st.month += 1
        if out.n:
            signed = out
            break
    assert signed is not None and signed.n == 1 and signed.households[0] == tenant
    assert signed.relocation[0] and not signed.priority[0] and not signed.in_qpv[0]
    assert st.hh.tenure[tenant] == SOCIAL and st.dw.residence[st.hh.dwelling[tenant]] != \
        st.dw.residence[units[0]]
    assert not st.dw.active[units].any()  # the building is empty: it closes
    gained = {k: st.counters.get(k, 0) - before.get(k, 0) for k in st.counters}
    assert gained.get("q1_out", 0) == (1 if relocation_priority else 0)
    assert sum(gained.get(f"prio_h{h}", 0) for h in range(4)) == 0


def test_relocated_households_are_not_in_the_prefet_pool(tiny_state):
    st = tiny_state
    tenant, _ = relocation_setup(st)
    hh = st.hh  # an income within every ceiling: only the pool can keep it out
    hh.income_uc[tenant] = 0.5 * 0.55 * plus_ceiling(hh, [tenant])[0] / consumption_units(
        hh, [tenant])[0]
    hh.z[tenant] = 0.0
    st.dw.holder[st.dw.sector == S_SOCIAL] = 0  # every dwelling held by the préfet
    out = allocate(st, levers(**{"reservation.handback_months": 12}), SURE,
                   np.random.default_rng(5), MoveLog())
    assert tenant not in out.households


def test_flux_counts_a_vacancy_refused_by_every_candidate_once(tiny_state):
    """Décret 2020-145: a holder's flow is the vacancies let through it; a vacancy all of whose
    candidates refuse returns next month and is counted once, when let."""
    st = tiny_state
    close_applications(st)
    unit = one_room_units(st, "A2")[:1]
    free_units(st, unit)
    add_applicants(st, 3, st.nb.ids.index("A1"), waited=5)
    lv = levers(**{"reservation.management": "flux"})
    flux = [f"flux_h{h}" for h in range(4)]
    first = allocate(st, lv, NEVER, np.random.default_rng(1), MoveLog())
    assert first.n == 0 and first.refusals == 3 and first.unlet_refused == 1
    st.month += 1
    second = allocate(st, lv, SURE, np.random.default_rng(2), MoveLog())
    assert second.n == 1
    assert sum(st.counters.get(k, 0) for k in flux) == 1


def solvency_round(st, floor, *, holder=3, priority=False):
    """A one-room vacancy in A2; a poor applicant who waited 50 months (residual income about
    18 €/day after rent, charges and housing benefit) and a median one who just applied."""
    close_applications(st)
    unit = one_room_units(st, "A2")[:1]
    free_units(st, unit)
    st.dw.holder[unit] = holder
    poor = add_applicants(st, 1, st.nb.ids.index("A1"), waited=50)
    st.hh.income_uc[poor] = 650.0 * 12
    st.hh.z[poor] = -2.0
    st.hh.priority[poor] = priority
    median = add_applicants(st, 1, st.nb.ids.index("A1"), waited=0)
    beh = Behaviour(accept_base=10.0, accept_attractiveness=0.0, accept_effort=0.0, relet_months=0,
                    processing_months=0,
                    commission_solvency=floor)
    out = allocate(st, levers(), beh, np.random.default_rng(4), MoveLog())
    assert out.n == 1
    return out.households[0], poor[0], median[0]


def test_commission_solvency_floor_passes_over_a_candidate_unable_to_bear_the_cost(tiny_state):
    won, poor, median = solvency_round(tiny_state, 22.0)
    assert won == median


def test_without_the_solvency_practice_the_cotation_decides(tiny_state):
    won, poor, median = solvency_round(tiny_state, 0.0)
    assert won == poor


def test_prefet_designations_are_exempt_from_the_solvency_practice(tiny_state):
    # L441-2-3 CCH: the préfet may allocate a DALO household the commission refused
    won, poor, median = solvency_round(tiny_state, 22.0, holder=0, priority=True)
    assert won == poor


@pytest.mark.parametrize("agents", [0.0, 0.05])
def test_prefet_designates_state_agents_within_its_five_points(tiny_state, agents):
    """R441-5 CCH: of the préfet's 30 %, up to 5 points for State agents (employed applicants
    stand for them), the rest for priority households."""
    st = tiny_state
    close_applications(st)
    units = one_room_units(st, "A2")
    free_units(st, units)
    st.dw.holder[units] = 0
    prio = add_applicants(st, 4, st.nb.ids.index("A1"), waited=30)
    st.hh.priority[prio] = True
    agent = add_applicants(st, 1, st.nb.ids.index("A1"), waited=0)
    st.hh.employed[agent] = True
    lv = levers(**{"reservation.prefet_agents": agents, "reservation.handback_months": 12})
    out = allocate(st, lv, SURE, np.random.default_rng(8), MoveLog())
    # the first préfet lease of the year goes to an agent while the agents' part is behind
    assert (agent[0] in out.households) == (agents > 0)
    assert st.counters.get("prefet_agents", 0) == (1 if agents > 0 else 0)


def test_rebuilding_below_sixty_percent_plai_warns():
    with pytest.warns(UserWarning, match="60%"):
        Scenario().with_overrides({"levers.renewal.rebuild_outside_share": 1.0,
                                   "levers.renewal.rebuild_plai_share": 0.4})


def test_sls_is_tested_against_the_ceiling_of_the_tenants_own_dwelling(tiny_state):
    """L441-3 CCH: a PLS tenant pays the SLS above 120 % of the PLS ceiling, a PLUS tenant above
    120 % of the PLUS ceiling; an income of 1.3 × PLUS is over for the second only."""
    from mixsim.model.config import OverIncome
    from mixsim.model.processes.income import over_ceiling
    from mixsim.model.state import PLS, PLUS
    st = tiny_state
    hh, dw, nb = st.hh, st.dw, st.nb
    ten = np.flatnonzero(hh.alive & (hh.tenure == SOCIAL))
    ten = ten[~nb.qpv[dw.nbhd[hh.dwelling[ten]]]]
    fin = dw.financing[hh.dwelling[ten]]
    assert (fin == PLS).any() and (fin == PLUS).any()
    # resources (the RFR of year N-2, model/ceilings.py) of 1.3 × PLUS, the current taxable
    # income equal to them (0.9 × 0.98 of the disposable income above the 4th decile)
    hh.rfr[ten] = 1.3 * plus_ceiling(hh, ten, st.ceiling_index)
    hh.income_uc[ten] = hh.rfr[ten] / (0.9 * 0.98) / consumption_units(hh, ten)
    hh.months_over[ten] = 0
    over_ceiling(st, OverIncome())
    assert (hh.months_over[ten[fin == PLUS]] == 1).all()
    assert (hh.months_over[ten[fin == PLS]] == 0).all()


def test_tenants_aged_65_or_more_keep_the_right_to_stay(tiny_state):
    """L442-3-1 CCH: the loss of the right to stay spares tenants aged 65 or more."""
    from mixsim.model.config import OverIncome
    from mixsim.model.processes.income import over_ceiling
    st = tiny_state
    hh, dw, nb = st.hh, st.dw, st.nb
    ten = np.flatnonzero(hh.alive & (hh.tenure == SOCIAL))
    ten = ten[~nb.qpv[dw.nbhd[hh.dwelling[ten]]]]
    hh.income_uc[ten] = 1e6  # far above any threshold
    hh.age[ten[::2]] = 70.0
    hh.age[ten[1::2]] = 40.0
    hh.months_over_loss[ten] = 0
    over_ceiling(st, OverIncome(loss_enabled=True))
    assert (hh.months_over_loss[ten[::2]] == 0).all()
    assert (hh.months_over_loss[ten[1::2]] == 1).all()
    assert (hh.months_over[ten] == 1).all()  # the SLS is still due


def caleol_round(st, holder, n_candidates):
    """One vacancy held by ``holder``, ``n_candidates`` eligible priority applicants, every
    offer refused: the offers made are the candidates the commission examined."""
    close_applications(st)
    unit = one_room_units(st, "A2")[:1]
    free_units(st, unit)
    st.dw.holder[unit] = holder
    prio = add_applicants(st, n_candidates, st.nb.ids.index("A1"), waited=12)
    st.hh.priority[prio] = True
    lv = levers(**{"reservation.prefet_agents": 0.0, "reservation.handback_months": 12,
                   "priority.lost_after_refusal": False})
    return allocate(st, lv, NEVER, np.random.default_rng(2), MoveLog())


@pytest.mark.parametrize("holder, n_candidates, examined", [
    (3, 5, 3),  # the landlord's vacancy: three candidates (R441-3 CCH)
    (3, 2, 2),  # too few candidates: those there are
    (0, 5, 1),  # a préfet's DALO designation: examined alone (L441-2-3, R441-3 CCH)
])
def test_commission_examines_three_candidates_except_dalo_and_too_few(tiny_state, holder,
                                                                      n_candidates, examined):
    out = caleol_round(tiny_state, holder, n_candidates)
    assert out.n == 0 and out.offers == out.refusals == examined


def test_rent_modulation_stops_at_the_conventions_maximum_rent(tiny_state):
    """L353-2 CCH: the uplift of QPV rents under modulation cannot exceed the maximum rent of
    the convention (PLUS: 6.70 €/m², model.processes.allocation.CONVENTION_MAX_RENT_M2)."""
    from mixsim.model.processes.allocation import CONVENTION_MAX_RENT_M2
    from mixsim.model.state import PLUS
    st = tiny_state
    dw, nb = st.dw, st.nb
    close_applications(st)
    units = np.flatnonzero((dw.sector == S_SOCIAL) & nb.qpv[dw.nbhd] & (dw.rooms == 1))[:2]
    assert len(units) == 2
    free_units(st, units)
    dw.holder[units] = 3
    dw.financing[units] = PLUS
    dw.rent_m2[units] = [6.5, 4.0]  # near the maximum; far below it
    add_applicants(st, 4, nb.ids.index("A1"), waited=12, z=0.0)
    out = allocate(st, levers(**{"rent.modulation": 0.5}), SURE, np.random.default_rng(4),
                   MoveLog())
    assert out.n == 2
    f = dw.rent_factor[units]
    assert np.isclose(f[0], CONVENTION_MAX_RENT_M2[PLUS] / 6.5, rtol=1e-6)
    assert f[1] > f[0]  # the other keeps the revenue-neutral uplift
    assert (dw.rent_m2[units] * f <= CONVENTION_MAX_RENT_M2[PLUS] * (1 + 1e-6)).all()


def ceiling_round(st, *, age, rfr_ratio, income_ratio):
    """One two-room PLUS vacancy outside QPV, one applying couple whose RFR is
    ``rfr_ratio`` × and whose current taxable income is ``income_ratio`` × its category-2 PLUS
    ceiling (category 3 for a jeune ménage); return whether it signs."""
    from mixsim.model.ceilings import PLUS_CEILINGS_2024
    from mixsim.model.state import COUPLE, PLUS
    close_applications(st)
    dw, nb = st.dw, st.nb
    unit = np.flatnonzero((dw.sector == S_SOCIAL) & ~nb.qpv[dw.nbhd] & (dw.rooms == 2))[:1]
    free_units(st, unit)
    dw.holder[unit] = 3
    dw.financing[unit] = PLUS
    dw.rent_m2[unit] = 5.0
    i = add_applicants(st, 1, nb.ids.index("A1"), waited=6)
    hh = st.hh
    hh.hh_type[i] = COUPLE
    hh.adults[i] = 2
    hh.age[i] = age
    cat2 = PLUS_CEILINGS_2024[1] * st.ceiling_index
    hh.rfr[i] = rfr_ratio * cat2
    # disposable income whose taxable part (0.9 × 0.98 above the 4th decile) is the target
    hh.income_uc[i] = income_ratio * cat2 / (0.9 * 0.98) / consumption_units(hh, i)
    hh.z[i] = 1.0
    out = allocate(st, levers(), SURE, np.random.default_rng(6), MoveLog())
    return i[0] in out.households


def test_ceilings_test_the_rfr_of_two_years_before(tiny_state):
    """Arrêté of 29 July 1987: the RFR of year N-2 is compared with the ceiling, even when the
    current income is above it."""
    assert ceiling_round(tiny_state, age=40.0, rfr_ratio=0.95, income_ratio=1.05)


def test_an_rfr_above_the_ceiling_excludes_unless_resources_fell_by_10_percent(tiny_state):
    """The current resources replace the RFR only when at least 10 % lower."""
    assert not ceiling_round(tiny_state, age=40.0, rfr_ratio=1.05, income_ratio=1.0)


def test_resources_that_fell_by_10_percent_are_used(tiny_state):
    assert ceiling_round(tiny_state, age=40.0, rfr_ratio=1.05, income_ratio=0.9)


@pytest.mark.parametrize("age, signs", [(25.0, True), (40.0, False)])
def test_a_jeune_menage_has_the_ceiling_of_category_3(tiny_state, age, signs):
    """A couple aged 25 + 25 (≤ 55) is in category 3: 1.1 × the category-2 ceiling passes; a
    couple aged 40 + 40 is in category 2 and does not."""
    assert ceiling_round(tiny_state, age=age, rfr_ratio=1.1, income_ratio=1.1) == signs


def test_size_lists_hold_exactly_the_applicants_whose_size_fits_each_vacancy():
    """The round reads, for a vacancy, only its commune's applicants whose size can fit
    (``_size_lists``): checked against a plain loop over every commune's list, with sizes
    beyond the largest vacancy (capped), slack beyond the rooms and empty communes."""
    from mixsim.model.processes.allocation import _any_size_fitting, _size_lists

    rng = np.random.default_rng(7)
    n_a, n_c = 300, 5
    order = rng.permutation(n_a)
    need = rng.integers(1, 9, n_a)
    max_rooms = need + rng.integers(0, 3, n_a)
    wish = rng.random((n_a, n_c)) < 0.4
    wish[:, 4] = False  # a commune nobody wishes
    lists = [[i for i in order if wish[i, c]] for c in range(n_c)]
    start = np.cumsum([0] + [len(x) for x in lists]).astype(np.int64)
    lst = np.array([i for x in lists for i in x], np.int64)
    rooms_of_vacancies = np.array([1, 3, 5], np.int64)
    sstart, spos, r_cap, rank = _size_lists(order.astype(np.int64), lst, start, n_c, need,
                                            max_rooms, rooms_of_vacancies)
    assert r_cap == 6 and list(rank[order]) == list(range(n_a))
    w = r_cap + 1
    for c in range(n_c):
        for rooms in (1, 3, 5):
            for slack in (0, 1, 7):
                got = sorted(lst[spos[q]] for a in range(rooms + 1)
                             for b in range(max(rooms - slack, 0), w)
                             for q in range(sstart[(c * w + a) * w + b],
                                            sstart[(c * w + a) * w + b + 1]))
                want = sorted(i for i in lists[c]
                              if need[i] <= rooms and max_rooms[i] >= rooms - slack)
                assert got == want
                ok_fin = rng.random(n_a) < 0.05
                assert _any_size_fitting((sstart, spos, r_cap, rank), c, rooms, slack, lst,
                                         ok_fin) == any(ok_fin[i] for i in want)


# --- advertised hard-to-let dwellings (location voulue, ODD §7.6) ------------------------------


def advert_round(st, beh, *, months_on_offer, holder=3, priority=False, keen_elsewhere=False):
    """A one-room vacancy in A2 on offer for ``months_on_offer`` months; a long-waiting
    applicant whose aspiration (z = +3) is far above any neighbourhood, then one who just
    applied with a low aspiration (z = −2); both at the median income, so that only the
    aspiration tells them apart. ``keen_elsewhere``: the keen one wishes only the other
    commune."""
    close_applications(st)
    unit = one_room_units(st, "A2")[:1]
    free_units(st, unit)
    st.dw.holder[unit] = holder
    st.dw.months_vacant[unit] = months_on_offer  # relet_months = 0 below: months on offer
    choosy = add_applicants(st, 1, st.nb.ids.index("A1"), waited=60, z=3.0)
    keen = add_applicants(st, 1, st.nb.ids.index("A1"), waited=0, z=-2.0)
    both = np.concatenate([choosy, keen])
    st.hh.income_uc[both] = st.median_income_uc
    st.hh.priority[both] = priority
    if keen_elsewhere:
        st.hh.wishes[keen] = 0b11 & ~(1 << int(st.nb.commune[st.dw.nbhd[unit[0]]]))
    lv = levers(**{"reservation.handback_months": 12, "priority.lost_after_refusal": False})
    out = allocate(st, lv, beh, np.random.default_rng(5), MoveLog())
    return out, choosy[0], keen[0]


# acceptance by aspiration alone: log-odds 10 × (attractiveness − 0.7 z), about −21 for the
# choosy applicant and +14 for the keen one wherever A2's attractiveness lies in the tiny
# territory (−0.5 … 0.5)
PICKY = dict(accept_base=0.0, accept_attractiveness=10.0, accept_effort=0.0, relet_months=0,
             processing_months=0)


# oversize_after_months 12: no tolerated extra room, the designation's early-stop path; 2: from
# two months on offer, the path reading every size list
@pytest.mark.parametrize("oversize_after", [2, 12])
@pytest.mark.parametrize("months_on_offer, advertised", [(0, False), (1, False), (2, True),
                                                         (6, True)])
def test_a_dwelling_on_offer_two_months_is_advertised_and_nobody_refuses_it(
        tiny_state, months_on_offer, advertised, oversize_after):
    st = tiny_state
    beh = Behaviour(**PICKY, oversize_after_months=oversize_after)
    out, choosy, keen = advert_round(st, beh, months_on_offer=months_on_offer)
    assert list(out.households) == [keen]
    if advertised:
        # the choosy applicant, first in rank, does not answer the advertisement: no offer,
        # no refusal, no penalty on its score
        assert out.offers == 1 and out.refusals == 0 and st.hh.refusals[choosy] == 0
    else:
        # the commission offers it to the first in rank, who refuses, then to the second
        assert out.offers == 2 and out.refusals == 1 and st.hh.refusals[choosy] == 1


def test_advertising_can_be_switched_off(tiny_state):
    beh = Behaviour(**{**PICKY, "advertise_after_months": 0})
    out, choosy, keen = advert_round(tiny_state, beh, months_on_offer=24)
    assert out.refusals == 1 and list(out.households) == [keen]


def test_an_advertisement_nobody_answers_stays_unlet_without_refusals(tiny_state):
    out, choosy, keen = advert_round(tiny_state, NEVER, months_on_offer=3)
    assert out.n == 0 and out.offers == 0 and out.refusals == 0
    assert out.unlet_no_candidate == 1


def test_prefet_dalo_designations_are_not_advertised(tiny_state):
    # the préfet designates a priority household himself (L441-2-3 CCH): examined alone,
    # whatever the months on offer; the choosy first in rank refuses
    out, choosy, keen = advert_round(tiny_state, Behaviour(**PICKY), months_on_offer=6,
                                     holder=0, priority=True)
    assert out.offers == 1 and out.refusals == 1 and out.n == 0


@pytest.mark.parametrize("scope, months_on_offer, signs", [
    ("territory", 6, True), ("commune", 6, False), ("territory", 0, False)])
def test_a_public_listing_reaches_applicants_who_wished_another_commune(
        tiny_state, scope, months_on_offer, signs):
    # the keen applicant wishes only commune B; the vacancy is in A. On a public listing
    # (advertise_scope "territory") it sees the advertisement and signs; when only applicants
    # wishing A see it, or before the dwelling is advertised, the commission proposes the
    # choosy one alone, who refuses (or, advertised, does not answer)
    beh = Behaviour(**PICKY, advertise_scope=scope)
    out, choosy, keen = advert_round(tiny_state, beh, months_on_offer=months_on_offer,
                                     keen_elsewhere=True)
    assert list(out.households) == ([keen] if signs else [])
    assert out.refusals == (1 if months_on_offer < 2 else 0)


def test_the_round_reports_who_was_offered_and_who_refused(tiny_state):
    st = tiny_state
    out, choosy, keen = advert_round(st, Behaviour(**PICKY), months_on_offer=0)
    # not advertised: the choosy first in rank refuses, the keen one signs
    assert out.refused_ids.tolist() == [st.hh.hid[choosy]]
    assert sorted(out.offered_ids.tolist()) == sorted([st.hh.hid[choosy], st.hh.hid[keen]])


def test_refusing_applicant_share_counts_households_not_offers():
    from mixsim.model.recorder import refusing_applicant_share

    class Round:  # the two fields the share reads
        def __init__(self, offered, refused):
            self.offered_ids, self.refused_ids = np.array(offered), np.array(refused)

    # household 1 refuses in two months then signs: counted once, as refusing; 2 signs; 3
    # refuses: 2 refusing of 3 offered (refusals per offer would be 3 of 5)
    rounds = [Round([1, 2], [1]), Round([1, 3], [1, 3]), Round([1], [])]
    assert refusing_applicant_share(rounds) == pytest.approx(2 / 3)
    assert np.isnan(refusing_applicant_share([]))
    assert np.isnan(refusing_applicant_share([Round([], [])]))


def test_answer_draws_are_uniform_and_independent():
    """The answers to an advertisement come from a counter-based generator
    (processes.allocation._uniform): uniform on [0, 1), and unrelated between keys."""
    from scipy import stats

    from mixsim.model.processes.allocation import _uniform
    n = 20_000
    a = np.array([_uniform(12345, i) for i in range(n)])
    b = np.array([_uniform(12346, i) for i in range(n)])
    assert ((a >= 0) & (a < 1)).all()
    # a KS test at the 0.1 % level: fails by chance once in a thousand seeds (fixed here)
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    # correlation of independent uniforms: sd 1/√n ≈ 0.007; 0.03 is over 4 sd
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.03
