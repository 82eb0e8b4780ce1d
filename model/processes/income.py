"""Income (ODD §7.2): yearly rank mobility and monthly over-ceiling counters.

Income per consumption unit is lognormal around a median that grows with ``income_growth``; a
household's normal score ``z`` follows an AR(1) each January (rank persistence
``income_persistence``, typically 0.85–0.95 for yearly French income ranks).

Every amount is in euros of the reference year (2024). In law the income ceilings (L441-1 CCH,
revised each January on the IRL), the rents of social dwellings (L442-1 CCH: the yearly revision
may not exceed the IRL's variation), the housing benefit's parameters (L823-4 CCH: indexed each
October on the IRL) and the RLS amounts (L442-2-1 CCH) all follow the IRL, i.e. prices: in
constant euros they stay put, and ``income_growth`` is the *real* growth of the median (0 by
default). Earlier versions let the median and the ceilings grow 1 %/year in nominal terms
while social rents and the housing benefit stayed at their 2024 amounts: social housing became 1 %
cheaper each year relative to incomes (30 % over the 35 years of spin-up), and the Q1 share
of leases outside QPV rose with no lever (0.166 -> 0.187 over 20 years at scale 1).
"""

from __future__ import annotations

import numpy as np

from ..ceilings import PLS_FIN, PLUS_FIN, ceiling_one, resources_one, taxable_income
from ..config import Behaviour, OverIncome
from ..jit import njit
from ..rules import household_income, income_from_z, income_one, size_one
from ..scans import tenure_members
from ..state import PLS, SOCIAL, State

LOSS_AGE_EXEMPT = 65.0  # L442-3-1 CCH: tenants aged 65 or more keep the right to stay


def yearly_income(state: State, beh: Behaviour, rng: np.random.Generator) -> None:
    """January update: RFR lag, AR(1) on income normal scores, median and ceiling growth.

    Before the update, the RFR of each household becomes the taxable income recorded a year
    ago and the taxable income of the year just ended is recorded: the RFR used in year N is
    the taxable income of year N-2 (arrêté of 29 July 1987; :mod:`mixsim.model.ceilings`).
    """
    hh = state.hh
    alive = np.flatnonzero(hh.alive)
    hh.rfr[alive] = hh.taxable_prev[alive]
    hh.taxable_prev[alive] = taxable_income(household_income(hh, alive), hh.income_uc[alive],
                                            state.median_income_uc)
    rho = beh.income_persistence
    hh.z[alive] = rho * hh.z[alive] + np.sqrt(1.0 - rho * rho) * rng.standard_normal(len(alive))
    state.median_income_uc *= 1.0 + beh.income_growth  # real growth: ceilings stay (module doc)
    hh.income_uc[alive] = income_from_z(hh.z[alive], state.median_income_uc)


def over_ceiling(state: State, rules: OverIncome) -> None:
    """Monthly: count consecutive months social tenants spend above the SLS and loss thresholds.

    The SLS threshold is a multiple of the ceiling of the tenant's own dwelling: the PLS ceiling
    in a PLS dwelling, the PLUS ceiling otherwise (L441-3 CCH; PLAI dwellings are let under the
    PLAI ceiling but the SLS refers to the PLUS one [U]). The loss threshold is a multiple of the
    PLS ceiling (L442-3-1 CCH); tenants aged 65 or more are exempt from the loss. QPV tenants
    may be exempt from both. The resources compared are those of the ceilings: the RFR of year
    N-2, or the current taxable income when 10 % lower (L441-9 CCH: the yearly survey;
    :mod:`mixsim.model.ceilings`).
    """
    hh, dw, nb = state.hh, state.dw, state.nb
    _over_ceiling(hh.alive, hh.tenure, hh.income_uc, hh.rfr, hh.adults, hh.kids_u14,
                  hh.kids_14p, hh.age, hh.dwelling, dw.financing, dw.nbhd, nb.qpv,
                  float(state.ceiling_index), float(state.median_income_uc),
                  float(rules.sls_threshold), float(rules.loss_threshold),
                  bool(rules.qpv_exempt), hh.months_over, hh.months_over_loss)


@njit
def _over_ceiling(alive, tenure, income_uc, rfr, adults, kids_u14, kids_14p, age, dwelling,
                  dw_financing, dw_nbhd, qpv, ceiling_index, median, sls_ratio, loss_ratio,
                  qpv_exempt, months_over, months_over_loss):
    """Advance or reset the over-ceiling counters of living social tenants, in place.

    A tenant is over when its resources (:func:`~mixsim.model.ceilings.resources_one`) exceed
    ``sls_ratio`` × the ceiling of its dwelling (PLS ceiling in a PLS dwelling, PLUS otherwise;
    category of the arrêté, indexed by ``ceiling_index``), over the loss threshold above
    ``loss_ratio`` × its PLS ceiling unless aged 65 or more; never in a QPV with
    ``qpv_exempt``.
    """
    # living social tenants (no condition on a second column, relocated or not)
    for i in tenure_members(alive, tenure, SOCIAL):
        income = income_one(income_uc[i], adults[i], kids_u14[i], kids_14p[i])
        res = resources_one(income, income_uc[i], rfr[i], median)
        size = size_one(adults[i], kids_u14[i], kids_14p[i])
        pls = ceiling_one(PLS_FIN, adults[i], size, age[i], ceiling_index)
        ceiling = pls if dw_financing[dwelling[i]] == PLS else ceiling_one(
            PLUS_FIN, adults[i], size, age[i], ceiling_index)
        over = res > sls_ratio * ceiling
        loss = res > loss_ratio * pls and age[i] < LOSS_AGE_EXEMPT
        if qpv_exempt and qpv[dw_nbhd[dwelling[i]]]:
            over = loss = False
        months_over[i] = months_over[i] + 1 if over else 0
        months_over_loss[i] = months_over_loss[i] + 1 if loss else 0
