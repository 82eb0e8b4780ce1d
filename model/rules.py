"""Household rules: size, consumption units, income, rooms needed, housing benefit, effort rate.

Each rule exists in two versions side by side: an array version over the rows of a household
table (numpy, used by the processes' Python code and the indicators) and a one-household version
(suffix ``_one``, compiled, used inside kernels). Both do the same arithmetic in the same order
and types (tests check them equal, value for value).

Reference rules (docs/sources.md §1):

* consumption units (OECD-modified scale): 1 for the first adult, 0.5 per other person aged 14+,
  0.3 per child under 14;
* under-occupation: habitable rooms > occupants + 1 (loi ELAN 2018 definition);
* housing benefit: a stylised APL schedule (:func:`housing_benefit`).

The income-ceiling rules (PLUS, PLAI, PLS ceilings) are in :mod:`mixsim.model.state`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .codes import OWNER, SOCIAL
from .jit import njit

if TYPE_CHECKING:  # (annotations only: state imports this module)
    from .state import Table

INCOME_SIGMA = 0.5  # log-sd: gives ~15 % below 60 % of the median (INSEE poverty rate 14.6 %)
CHARGES_M2 = 2.0  # €/m²/month of charges
ASPIRATION_SLOPE = 0.7  # attractiveness units per standard deviation of the income score

# Housing benefit (APL), stylised schedule [assumption, not the legal formula]: reference rent
# APL_RENT_BASE + APL_RENT_PER_PERSON per extra person, participation APL_RATE of the monthly
# income above APL_INCOME_BASE + APL_INCOME_PER_PERSON per extra person.
APL_RENT_BASE, APL_RENT_PER_PERSON = 300.0, 60.0
APL_RATE, APL_INCOME_BASE, APL_INCOME_PER_PERSON = 0.35, 500.0, 100.0


# ----------------------------------------------------------------------------------------------
# array versions (rows ``idx`` of a household table)
# ----------------------------------------------------------------------------------------------


def household_size(hh: Table, idx=slice(None)) -> np.ndarray:
    """Persons per household."""
    return hh.adults[idx].astype(np.int16) + hh.kids_u14[idx] + hh.kids_14p[idx]


def consumption_units(hh: Table, idx=slice(None)) -> np.ndarray:
    """OECD-modified consumption units (1 / 0.5 for 14+ / 0.3 under 14)."""
    return (1.0 + 0.5 * (hh.adults[idx] - 1 + hh.kids_14p[idx]) + 0.3 * hh.kids_u14[idx])


def household_income(hh: Table, idx=slice(None)) -> np.ndarray:
    """Annual income (€/year) = income per UC × consumption units."""
    return hh.income_uc[idx] * consumption_units(hh, idx)


def income_from_z(z: np.ndarray, median: float) -> np.ndarray:
    """Income per UC from its normal score (lognormal distribution around ``median``)."""
    return median * np.exp(INCOME_SIGMA * z)


def rooms_needed(size: np.ndarray) -> np.ndarray:
    """Rooms needed (1..5): one for a single person, then roughly one per couple and two persons."""
    size = np.asarray(size)
    return np.minimum(5, np.ceil(size / 2).astype(np.int16) + (size >= 2))


def housing_benefit(income: np.ndarray, size: np.ndarray, rent: np.ndarray) -> np.ndarray:
    """Simplified APL (€/month): reference rent minus a participation rising with income.

    A stylised schedule (assumption, not the legal formula): reference rent 300 € + 60 € per
    extra person, participation 35 % of monthly income above 500 € + 100 € per extra person
    (the ``APL_*`` constants; :func:`housing_benefit_one` for one household).
    """
    ref = np.minimum(rent, APL_RENT_BASE + APL_RENT_PER_PERSON * (size - 1))
    part = APL_RATE * np.maximum(
        0.0, income / 12.0 - APL_INCOME_BASE - APL_INCOME_PER_PERSON * (size - 1))
    return np.maximum(0.0, ref - part)


def effort_rate(income: np.ndarray, size: np.ndarray, rent: np.ndarray, area: np.ndarray
                ) -> np.ndarray:
    """Share of monthly income spent on rent and charges after housing benefit."""
    apl = housing_benefit(income, size, rent)
    return (rent + CHARGES_M2 * area - apl) / np.maximum(income / 12.0, 1.0)


def aspiration(z: np.ndarray) -> np.ndarray:
    """Neighbourhood attractiveness a household's income lets it aspire to."""
    return ASPIRATION_SLOPE * z


def social_rent(dw: Table, idx=slice(None)) -> np.ndarray:
    """Monthly rent (€) of social dwellings at their current modulation."""
    return dw.rent_m2[idx] * dw.area[idx] * dw.rent_factor[idx]


def monthly_hazard(annual: float, multiplier: np.ndarray | float = 1.0) -> np.ndarray | float:
    """Monthly probability of an event with annual probability ``annual`` (proportional hazards).

    The annual probability gives a rate λ = −ln(1 − p); a multiplier scales the rate, and the
    monthly probability is 1 − exp(−λ · multiplier / 12).
    """
    lam = -math.log1p(-min(float(annual), 0.999999)) / 12.0
    if isinstance(multiplier, int | float):  # (the C library's functions, as numpy's)
        return -math.expm1(-lam * multiplier)
    # (a float64 rate: numpy would keep a float32 multiplier's product in float32)
    return -np.expm1(-np.float64(lam) * np.asarray(multiplier))


# ----------------------------------------------------------------------------------------------
# one-household versions for compiled kernels: the same arithmetic (tests check them against the
# array versions)
# ----------------------------------------------------------------------------------------------


@njit
def size_one(adults, kids_u14, kids_14p):
    """Persons in one household (:func:`household_size`)."""
    return np.int64(adults) + kids_u14 + kids_14p


@njit
def income_one(income_uc, adults, kids_u14, kids_14p):
    """Annual income of one household (:func:`household_income`)."""
    return income_uc * (1.0 + 0.5 * (np.int64(adults) - 1 + kids_14p) + 0.3 * kids_u14)


@njit
def rooms_needed_one(size):
    """Rooms needed by a household of ``size`` persons (:func:`rooms_needed`)."""
    return min(5, np.int64(math.ceil(size / 2)) + (1 if size >= 2 else 0))


@njit
def maximum_one(a, b):
    """``np.maximum`` of two floats (nan propagates)."""
    return a if (a >= b or a != a) else b


@njit
def minimum_one(a, b):
    """``np.minimum`` of two floats (nan propagates)."""
    return a if (a <= b or a != a) else b


@njit
def apl_reference_one(size):
    """Return the reference rent (€/month) of the housing benefit of ``size`` persons."""
    return APL_RENT_BASE + APL_RENT_PER_PERSON * (size - 1)


@njit
def apl_participation_one(income, size):
    """Participation (€/month) in the housing benefit of ``size`` persons of annual ``income``."""
    return APL_RATE * maximum_one(
        0.0, income / 12.0 - APL_INCOME_BASE - APL_INCOME_PER_PERSON * (size - 1))


@njit
def apl_from_terms_one(rent, reference, participation):
    """Housing benefit of a rent, given :func:`apl_reference_one` and the participation.

    The two terms do not depend on the dwelling: the allocation round computes them once per
    applicant and this per offer.
    """
    return maximum_one(0.0, minimum_one(rent, reference) - participation)


@njit
def housing_benefit_one(income, size, rent):
    """Housing benefit of one household (:func:`housing_benefit`)."""
    return apl_from_terms_one(rent, apl_reference_one(size), apl_participation_one(income, size))


@njit
def effort_one(income, size, rent, area):
    """Effort rate of one household (:func:`effort_rate` with :func:`housing_benefit`)."""
    apl = housing_benefit_one(income, size, rent)
    return (rent + CHARGES_M2 * area - apl) / maximum_one(income / 12.0, 1.0)


@njit
def row_situation(i, dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, dw_rooms,
                  dw_area, rent_m2, rent_factor, private_rent_m2):
    """Over-crowding, under-occupation, effort rate, size and income of household row ``i``.

    Rent: social rent at the dwelling's modulation (float32 as the columns, :func:`social_rent`),
    private rent of the neighbourhood, none for owners; households without a dwelling have
    neither crowding nor effort.
    """
    size = size_one(adults[i], kids_u14[i], kids_14p[i])
    income = income_one(income_uc[i], adults[i], kids_u14[i], kids_14p[i])
    d = dwelling[i]
    if d < 0:
        return False, False, 0.0, size, income
    rooms = dw_rooms[d]
    area = np.float64(dw_area[d])
    t = tenure[i]
    if t == OWNER:
        rent = 0.0
    elif t == SOCIAL:
        rent = np.float64(np.float32(np.float32(rent_m2[d] * dw_area[d]) * rent_factor[d]))
    else:
        rent = private_rent_m2[nbhd[i]] * area
    return (rooms < rooms_needed_one(size), rooms > size + 1,
            effort_one(income, size, rent, area), size, income)
