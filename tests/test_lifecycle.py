"""Lifecycle of a demand: registration, processing delay, yearly renewal, initial queue."""

from __future__ import annotations

import copy

import numpy as np

from mixsim.model.config import Behaviour, Levers
from mixsim.model.moves import MoveLog
from mixsim.model.population import PENDING_MEAN_AGE_MONTHS, build_state, pending_ages
from mixsim.model.processes.allocation import allocate
from mixsim.model.processes.intentions import move_intentions, non_renewals
from mixsim.model.state import (
    APP_FIRST,
    APP_NONE,
    HOSTED,
    S_SOCIAL,
    ceiling_resources,
    plus_ceiling,
)

# behaviour where nothing but the process under test happens
QUIET = dict(transfer_rate=0.0, upward_exit_rate=0.0, private_move_rate=0.0, owner_move_rate=0.0,
             apply_rate=0.0, leave_rate=0.0, give_up_rate=0.0)


def _open_for_all_vacancies(st):
    """Every social vacancy on offer (past its re-letting delay), no applicant yet."""
    hh, dw = st.hh, st.dw
    vac = (dw.sector == S_SOCIAL) & dw.active & (dw.occupant < 0)
    dw.months_vacant[vac] = 12
    hh.app[:] = APP_NONE
    return np.flatnonzero(vac)


def _applicants(st, n=40):
    """Low-income hosted applicants wishing every commune (likely to fit some vacancy)."""
    hh = st.hh
    who = np.flatnonzero(hh.alive & (hh.tenure == HOSTED))[:n]
    hh.app[who] = APP_FIRST
    hh.wishes[who] = (1 << len(st.commune_ids)) - 1
    hh.z[who] = -0.8
    hh.income_uc[who] = 14_000.0
    return who


def test_application_cannot_be_signed_before_its_processing_delay(tiny_state):
    st = tiny_state
    st2 = copy.deepcopy(st)
    _open_for_all_vacancies(st)
    who = _applicants(st)
    assert len(who) > 5
    st.month = 30
    beh = Behaviour(processing_months=2, accept_base=10.0, max_effort_rate=1.0)
    st.hh.app_month[who] = st.month - 1  # registered last month: still processed
    res = allocate(st, Levers(), beh, np.random.default_rng(1), MoveLog())
    assert res.n == 0 and (st.hh.app[who] == APP_FIRST).all()
    st.hh.app_month[who] = st.month - 2  # two months ago: may now be signed
    res = allocate(st, Levers(), beh, np.random.default_rng(1), MoveLog())
    assert res.n > 0
    assert (res.wait >= 2).all()
    # with no delay, a demand registered this month may be signed at once
    _open_for_all_vacancies(st2)
    who2 = _applicants(st2)
    st2.month = 30
    st2.hh.app_month[who2] = st2.month
    res = allocate(st2, Levers(), Behaviour(processing_months=0, accept_base=10.0,
                                            max_effort_rate=1.0),
                   np.random.default_rng(1), MoveLog())
    assert res.n > 0 and (res.wait == 0).all()


def test_non_renewed_demand_is_cancelled_on_its_anniversary(tiny_state):
    st = tiny_state
    hh = st.hh
    st.month = 40
    apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE))
    assert len(apps) >= 6
    due, young, relocated = apps[0::3], apps[1::3], apps[2::3]
    hh.app_month[due] = st.month - 24  # a whole number of years: must renew now
    hh.app_month[young] = st.month - 7
    hh.app_month[relocated] = st.month - 12
    hh.relocation[relocated] = True  # urban-renewal relocations never lapse
    assert len(non_renewals(st, 0.0, np.random.default_rng(0))) == 0
    lapsed = non_renewals(st, 1.0, np.random.default_rng(0))
    assert set(lapsed.tolist()) == set(due.tolist())
    # through the monthly step: cancelled, hosted ones leave the territory
    beh = Behaviour(renewal_dropout=1.0, **QUIET)
    was_hosted = due[hh.tenure[due] == HOSTED]
    move_intentions(st, beh, Levers(), np.random.default_rng(2), MoveLog())
    assert (hh.app[due] == APP_NONE).all()
    assert (hh.app[young] != APP_NONE).all() and (hh.app[relocated] != APP_NONE).all()
    assert not hh.alive[was_hosted].any()


def test_renewal_dropout_share_over_seeds(tiny_state):
    """The share of demands not renewed at their anniversary is ``renewal_dropout``."""
    st = tiny_state
    hh = st.hh
    st.month = 50
    apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE))
    hh.app_month[apps] = st.month - 12
    hh.relocation[apps] = False
    p = 0.25
    hits = sum(len(non_renewals(st, p, np.random.default_rng(seed))) for seed in range(40))
    n = 40 * len(apps)
    # binomial: 4 standard deviations (a false alarm once in ~16,000 runs)
    assert abs(hits / n - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_initial_queue_ages_and_eligibility(tiny_territory):
    # ages of pending demands: exponential with the national mean (721 days), capped
    a = pending_ages(np.random.default_rng(3), 40_000)
    assert a.min() >= 0 and a.max() <= 120
    # the mean of 40,000 draws has sd 23.7 / 200 ≈ 0.12 month; flooring lowers it by ~0.5
    assert abs(a.mean() + 0.5 - PENDING_MEAN_AGE_MONTHS) < 0.8
    st = build_state(tiny_territory, np.random.default_rng(4))
    hh = st.hh
    apps = np.flatnonzero(hh.app != APP_NONE)
    assert len(apps) > 0
    assert (-hh.app_month[apps] >= 0).all()
    # only eligible households are in the initial queue (income within the PLUS ceiling)
    assert (ceiling_resources(hh, apps, st.median_income_uc)
            <= plus_ceiling(hh, apps, st.ceiling_index) + 1e-9).all()


def test_pending_waits_are_recorded(tiny_territory):
    from mixsim.model.model import HousingModel

    model = HousingModel(territory=tiny_territory, rng=5)
    for _ in range(12):
        model.step()
    hh, month = model.state.hh, model.state.month
    ages = (month - hh.app_month[hh.alive & (hh.app != APP_NONE)]).astype(float)
    vals = model.recorder.values()
    assert vals[(1, "median_wait_months_pending")] == np.median(ages)
    assert np.isclose(vals[(1, "mean_wait_days_pending")], ages.mean() * 365.25 / 12)
