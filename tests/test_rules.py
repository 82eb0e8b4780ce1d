"""Household rules (model.rules): the housing benefit's three forms and one household's situation.

The array and one-household versions must agree value for value (kernels use the latter, the
processes' numpy code and the indicators the former); see also
tests/test_processes.py::test_scalar_rules_of_the_kernels_equal_the_array_rules.
"""

from __future__ import annotations

import numpy as np

from mixsim.model.codes import OWNER, SOCIAL
from mixsim.model.rules import (
    apl_from_terms_one,
    apl_participation_one,
    apl_reference_one,
    effort_rate,
    household_income,
    household_size,
    housing_benefit,
    housing_benefit_one,
    rooms_needed,
    row_situation,
    social_rent,
)


def test_housing_benefit_schedule():
    """The stylised schedule: reference rent 300 € + 60 € per extra person, participation 35 %
    of monthly income above 500 € + 100 € per extra person, never negative."""
    income = np.array([0.0, 12_000.0, 12_000.0, 60_000.0, 18_000.0])
    size = np.array([1, 1, 1, 1, 3])
    rent = np.array([400.0, 250.0, 400.0, 400.0, 500.0])
    # 1. min(400, 300) − 0 = 300; 2. min(250, 300) − 0.35 × (1000 − 500) = 75;
    # 3. 300 − 175 = 125; 4. 300 − 0.35 × 4500 < 0: 0; 5. min(500, 420) − 0.35 × (1500 − 700)
    want = [300.0, 75.0, 125.0, 0.0, 140.0]
    np.testing.assert_allclose(housing_benefit(income, size, rent), want, rtol=0, atol=1e-9)


def test_housing_benefit_forms_are_equal():
    """Array version, one-household version and the allocation round's split terms agree."""
    rng = np.random.default_rng(3)
    n = 5000
    size = rng.integers(1, 9, n).astype(np.int16)
    income = rng.lognormal(9.8, 0.8, n)
    rent = rng.uniform(50.0, 1200.0, n)
    arr = housing_benefit(income, size, rent)
    one = np.array([housing_benefit_one(y, s, r) for y, s, r in zip(income, size, rent,
                                                                     strict=True)])
    split = np.array([apl_from_terms_one(r, apl_reference_one(np.int64(s)),
                                         apl_participation_one(y, np.int64(s)))
                      for y, s, r in zip(income, size, rent, strict=True)])
    np.testing.assert_array_equal(one, arr)
    np.testing.assert_array_equal(split, arr)
    # every regime met: no benefit, a benefit capped by the reference rent, one below the rent
    ref = 300.0 + 60.0 * (size - 1)
    assert (arr == 0).any() and (arr == np.minimum(rent, ref)).any()
    assert ((arr > 0) & (arr < np.minimum(rent, ref))).any()


def test_row_situation_equals_the_array_rules(tiny_state):
    """One household's crowding, effort, size and income as the array functions give them."""
    s = tiny_state
    hh, dw, nb = s.hh, s.dw, s.nb
    rows = np.arange(hh.n)
    got = [row_situation(i, hh.dwelling, hh.tenure, hh.nbhd, hh.adults, hh.kids_u14,
                         hh.kids_14p, hh.income_uc, dw.rooms, dw.area, dw.rent_m2,
                         dw.rent_factor, nb.private_rent_m2) for i in rows]
    over, under, effort, size, income = (np.array(c) for c in zip(*got, strict=True))
    np.testing.assert_array_equal(size, household_size(hh))
    np.testing.assert_array_equal(income, household_income(hh))
    housed = hh.dwelling >= 0
    d = hh.dwelling[housed]
    # over-crowded: fewer rooms than needed; under-occupying: rooms > persons + 1 (loi ELAN)
    want_over = dw.rooms[d] < rooms_needed(size[housed])
    want_under = dw.rooms[d] > size[housed] + 1
    np.testing.assert_array_equal(over[housed], want_over)
    np.testing.assert_array_equal(under[housed], want_under)
    assert not over[~housed].any() and not under[~housed].any()
    assert (effort[~housed] == 0).all()
    # rents: social at the dwelling's modulation, private of the neighbourhood, owners none
    ten = hh.tenure[housed]
    rent = np.where(ten == SOCIAL, social_rent(dw, d).astype(np.float64),
                    nb.private_rent_m2[hh.nbhd[housed]] * dw.area[d].astype(np.float64))
    rent = np.where(ten == OWNER, 0.0, rent)
    want = effort_rate(income[housed], size[housed], rent, dw.area[d].astype(np.float64))
    np.testing.assert_array_equal(effort[housed], want)
    assert set(ten.tolist()) >= {SOCIAL, OWNER} and over.any()
