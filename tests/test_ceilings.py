"""Income ceilings of the arrêté of 29 July 1987 and the RFR of year N-2 (issue #15; ODD §7.2).

Hand-built households against the published amounts (2024, "autres régions"), the compiled
one-household versions against the array versions, and the two-year lag of the RFR.
"""

import numpy as np
from scipy.special import ndtri

from mixsim.model.ceilings import (
    D4_RATIO,
    ceiling_one,
    ceilings,
    resources,
    resources_one,
    taxable_income,
    taxable_one,
)
from mixsim.model.config import Behaviour
from mixsim.model.processes.income import yearly_income
from mixsim.model.rules import INCOME_SIGMA, household_income
from mixsim.model.state import (
    COUPLE,
    HOUSEHOLD_COLUMNS,
    Table,
    ceiling_category,
    ceiling_resources,
    ceilings_by_financing,
    plus_ceiling,
    plus_ceiling_one,
)

# (adults, children, age of the reference person) -> (category 1..6, extra persons, case)
CASES = [
    (1, 0, 40.0, 1, 0),  # one person
    (2, 0, 30.0, 2, 0),  # a couple aged 30 + 30 = 60 > 55: not a jeune ménage
    (2, 0, 27.0, 3, 0),  # jeune ménage (27 + 27 ≤ 55): category 3
    (1, 1, 35.0, 3, 0),  # one person with one dependant
    (2, 1, 35.0, 3, 0),  # three persons
    (1, 2, 35.0, 4, 0),  # one person with two dependants
    (2, 2, 35.0, 4, 0),
    (2, 3, 35.0, 5, 0),
    (1, 4, 35.0, 6, 0),  # one person with four dependants
    (2, 4, 35.0, 6, 0),  # six persons
    (1, 5, 35.0, 6, 1),  # one person with five dependants: one extra person
    (2, 6, 35.0, 6, 2),  # eight persons: two extra persons
]
PLUS_2024 = [22_642, 30_238, 36_362, 43_899, 51_641, 58_200, 6_492]  # ANIL 2024
PLAI_2024 = [12_452, 18_143, 21_817, 24_276, 28_402, 32_011, 3_570]


def households(cases):
    hh = Table(HOUSEHOLD_COLUMNS, len(cases))
    hh.alive = True
    hh.hh_type = COUPLE
    hh.adults = [c[0] for c in cases]
    hh.kids_u14 = [c[1] for c in cases]
    hh.age = [c[2] for c in cases]
    return hh


def test_categories_and_amounts_are_those_of_the_arrete():
    hh = households(CASES)
    cat = np.array([c[3] for c in CASES])
    extra = np.array([c[4] for c in CASES])
    np.testing.assert_array_equal(ceiling_category(hh), cat - 1)
    plus = np.array(PLUS_2024)[cat - 1] + PLUS_2024[6] * extra
    plai = np.array(PLAI_2024)[cat - 1] + PLAI_2024[6] * extra
    got = ceilings_by_financing(hh, index=1.0)
    np.testing.assert_allclose(got[0], plai)
    np.testing.assert_allclose(got[1], plus)
    np.testing.assert_allclose(got[2], 1.3 * plus)
    # the PLAI ceiling is not a flat ratio of the PLUS one (60 % in categories 2 and 3)
    ratio = got[0] / got[1]
    assert ratio[1] > 0.59 and ratio[0] < 0.56
    np.testing.assert_allclose(plus_ceiling(hh, index=1.05), 1.05 * plus)


def test_compiled_versions_equal_the_array_versions():
    rng = np.random.default_rng(7)
    n = 4000
    adults = rng.integers(1, 4, n)
    size = adults + rng.integers(0, 7, n)
    age = rng.uniform(18, 90, n)
    index = 1.037
    table = ceilings(adults, size, age, index)
    rows = list(zip(adults, size, age, strict=True))
    for f in range(3):
        one = np.array([ceiling_one(f, a, s, g, index) for a, s, g in rows])
        np.testing.assert_array_equal(one, table[f])
    one = np.array([plus_ceiling_one(a, s, g, index) for a, s, g in rows])
    np.testing.assert_array_equal(one, table[1])
    median = 22_000.0
    income_uc = median * np.exp(0.5 * rng.standard_normal(n))
    income = income_uc * rng.uniform(1.0, 3.0, n)
    tax = taxable_income(income, income_uc, median)
    np.testing.assert_array_equal(
        tax, [taxable_one(i, u, median) for i, u in zip(income, income_uc, strict=True)])
    rfr = np.where(rng.random(n) < 0.2, np.nan, tax * rng.uniform(0.7, 1.3, n))
    np.testing.assert_array_equal(
        resources(tax, rfr), [resources_one(i, u, r, median)
                              for i, u, r in zip(income, income_uc, rfr, strict=True)])


def test_taxable_income_and_resources():
    median = 20_000.0
    # poor (38 % benefits), modest (12 %), above the 4th decile (2 %); 10 % deduction
    uc = np.array([0.5, 0.8, 1.2]) * median
    np.testing.assert_allclose(taxable_income(uc, uc, median),
                               0.9 * np.array([0.62, 0.88, 0.98]) * uc)
    # the RFR of N-2 unless the current taxable income is 10 % lower or no RFR is recorded
    np.testing.assert_allclose(resources([100.0, 95.0, 89.0, 100.0], [90.0, 100.0, 100.0, np.nan]),
                               [90.0, 100.0, 89.0, 100.0])


def test_fourth_decile_ratio_follows_the_income_distribution():
    assert np.isclose(D4_RATIO, np.exp(INCOME_SIGMA * ndtri(0.4)))


def test_rfr_is_the_taxable_income_of_two_years_before(tiny_state):
    st = tiny_state
    hh = st.hh
    alive = np.flatnonzero(hh.alive)
    beh = Behaviour(income_persistence=0.9, income_growth=0.02)
    rng = np.random.default_rng(5)
    assert np.isnan(hh.rfr[alive]).all()  # no year recorded at the start
    # the current taxable income is used while no RFR is recorded
    tax0 = taxable_income(household_income(hh, alive), hh.income_uc[alive], st.median_income_uc)
    np.testing.assert_array_equal(ceiling_resources(hh, alive, st.median_income_uc), tax0)
    yearly_income(st, beh, rng)  # January of year 1: year 0 recorded
    assert np.isnan(hh.rfr[alive]).all()
    np.testing.assert_array_equal(hh.taxable_prev[alive], tax0)
    yearly_income(st, beh, rng)  # January of year 2: the RFR is year 0's taxable income
    np.testing.assert_array_equal(hh.rfr[alive], tax0)
    now = taxable_income(household_income(hh, alive), hh.income_uc[alive], st.median_income_uc)
    res = ceiling_resources(hh, alive, st.median_income_uc)
    fell = now < 0.9 * tax0
    assert fell.any() and (~fell).any()
    np.testing.assert_array_equal(res, np.where(fell, now, tax0))
