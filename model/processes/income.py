"""Income (SPEC §2.2): yearly rank mobility and monthly over-ceiling counters.

Income per consumption unit is lognormal around a median that grows with ``income_growth``; a
household's normal score ``z`` follows an AR(1) each January (rank persistence
``income_persistence``, typically 0.85–0.95 for yearly French income ranks). Income ceilings are
indexed on the same growth (they follow the IRL in law).
"""

from __future__ import annotations

import numpy as np

from ..config import Behaviour, OverIncome
from ..state import PLS_RATIO, SOCIAL, State, household_income, income_from_z, plus_ceiling


def yearly_income(state: State, beh: Behaviour, rng: np.random.Generator) -> None:
    """January update: AR(1) on income normal scores, median and ceiling growth."""
    hh = state.hh
    alive = np.flatnonzero(hh.alive)
    rho = beh.income_persistence
    hh.z[alive] = rho * hh.z[alive] + np.sqrt(1.0 - rho * rho) * rng.standard_normal(len(alive))
    state.median_income_uc *= 1.0 + beh.income_growth
    state.ceiling_index *= 1.0 + beh.income_growth
    hh.income_uc[alive] = income_from_z(hh.z[alive], state.median_income_uc)


def over_ceiling(state: State, rules: OverIncome) -> None:
    """Monthly: count consecutive months social tenants spend above the SLS and loss thresholds."""
    hh, dw, nb = state.hh, state.dw, state.nb
    ten = np.flatnonzero(hh.alive & (hh.tenure == SOCIAL))
    income = household_income(hh, ten)
    plus = plus_ceiling(hh, ten, state.ceiling_index)
    over = income > rules.sls_threshold * plus
    loss = income > rules.loss_threshold * PLS_RATIO * plus
    if rules.qpv_exempt:
        in_qpv = nb.qpv[dw.nbhd[hh.dwelling[ten]]]
        over &= ~in_qpv
        loss &= ~in_qpv
    hh.months_over[ten] = np.where(over, hh.months_over[ten] + 1, 0)
    hh.months_over_loss[ten] = np.where(loss, hh.months_over_loss[ten] + 1, 0)
