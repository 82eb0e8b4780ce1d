"""Income ceilings of social housing and the resources compared with them (ODD §7.2, §7.6).

**Ceilings** (arrêté of 29 July 1987 on the resource ceilings of HLM beneficiaries, as
amended; amounts revised every 1 January on the IRL, L441-1 and R441-1 CCH). Six categories of
household plus an amount per person beyond six:

1. one person;
2. two persons without a dependant, *jeunes ménages* excepted;
3. three persons, one person with one dependant, or a *jeune ménage* (a couple without a
   dependant whose ages sum to 55 or less);
4. four persons or one person with two dependants;
5. five persons or one person with three dependants;
6. six persons or one person with four dependants;

then each further person adds a fixed amount. A single adult with ``k`` dependants is in the
category of ``k + 2`` persons. The amounts are those of 2024 for "autres régions" (the default
territory's zone; docs/sources.md §1):

* PLUS: 22,642 / 30,238 / 36,362 / 43,899 / 51,641 / 58,200 €, + 6,492 € per extra person
  (ANIL, plafonds de ressources 2024);
* PLAI: 12,452 / 18,143 / 21,817 / 24,276 / 28,402 / 32,011 €, + 3,570 € per extra person:
  the published tables for 1 January 2023 (11,531 / 16,800 / 20,203 / 22,479 / 26,300 / 29,641,
  + 3,306 €; info-dalo-logement.fr) indexed like the PLUS amounts (× 22,642 / 20,966), which
  agree within 1 € with the published 2025 amounts (12,759 / 18,591 / 22,356 / 24,875 €)
  deflated by their 2.47 % indexation [P]. The PLAI amounts are 55 % of the PLUS ones except
  for categories 2 and 3 (60 %) and 4 (55.3 %);
* PLS: 130 % of the PLUS ceiling (R331-12 CCH; docs/sources.md §1).

The model knows the age of the household's reference person only: a couple is a *jeune
ménage* when twice that age is at most 55 [assumption: partners of the same age].

**Resources compared with the ceilings**: the *revenu fiscal de référence* (RFR) of year N-2,
or the resources of the last twelve months when they are at least 10 % lower (arrêté of 29 July
1987, art. 1; R441-1 CCH). The model's income is a disposable income (after taxes and social
benefits); its taxable part is the disposable income less the non-contributory social benefits
(not taxable: minimum incomes, housing and family benefits, prime d'activité), less the 10 %
deduction for professional expenses on wages and pensions (CGI art. 83 3°). The benefits'
share of disposable income is the one DREES publishes for 2022 (ERFS, DREES, June 2025, "la
redistribution diminue d'un tiers le taux de pauvreté"): 38 % for poor households (living
standard below 60 % of the median), 12 % for modest non-poor ones (up to the 4th decile), 2 %
above. Income tax, not added back, lowers the RFR of the upper half by a few per cent
[assumption]. Each January a household's RFR becomes the taxable income it had recorded a
year earlier (:func:`mixsim.model.processes.income.yearly_income`), so that the RFR used in year
N is the taxable income of year N-2; a household with no recorded year yet (formed or arrived
during the last two years) is judged on its current taxable income.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import njit

PLAI_FIN, PLUS_FIN, PLS_FIN = 0, 1, 2  # the financing codes of model.state (PLAI, PLUS, PLS)
PLUS_CEILINGS_2024 = np.array([22_642, 30_238, 36_362, 43_899, 51_641, 58_200], float)
PLUS_EXTRA_2024 = 6_492.0
PLAI_CEILINGS_2024 = np.array([12_452, 18_143, 21_817, 24_276, 28_402, 32_011], float)
PLAI_EXTRA_2024 = 3_570.0
PLS_RATIO = 1.30
JEUNE_MENAGE_AGE_SUM = 55.0
# (3, 7): PLAI, PLUS, PLS rows; categories 1..6 then the amount per extra person
CEILINGS_2024 = np.stack([
    np.append(PLAI_CEILINGS_2024, PLAI_EXTRA_2024),
    np.append(PLUS_CEILINGS_2024, PLUS_EXTRA_2024),
    PLS_RATIO * np.append(PLUS_CEILINGS_2024, PLUS_EXTRA_2024),
])

# taxable income (see the module docstring)
BENEFIT_SHARES = (0.38, 0.12, 0.02)  # poor, modest non-poor (to D4), above D4 (DREES 2022)
POVERTY_LINE = 0.60  # of the median living standard
# 4th decile / median of the model's lognormal living standard (log-sd model.state.INCOME_SIGMA
# = 0.5; Φ⁻¹(0.4) = −0.253347; a test checks the two agree)
D4_RATIO = math.exp(0.5 * -0.2533471031357997)
PROFESSIONAL_DEDUCTION = 0.10
DROP_SHARE = 0.10  # resources at least 10 % below the RFR: the last twelve months are used

_CEIL = tuple(tuple(row) for row in CEILINGS_2024.tolist())
_PLAI, _PLUS, _PLS = _CEIL


def ceiling_persons(adults, size, age) -> np.ndarray:
    """Persons the ceiling category counts (categories 1..6, beyond 6 the extra amounts).

    A single adult with dependants counts one more (one person with ``k`` dependants is the
    category of ``k + 2`` persons); a *jeune ménage* (two adults without dependants whose ages
    sum to at most 55, taken as twice the reference person's age) counts three.
    """
    adults, size = np.asarray(adults, np.int64), np.asarray(size, np.int64)
    persons = np.maximum(size, 1) + ((adults == 1) & (size >= 2))
    young = (adults == 2) & (size == 2) & (2.0 * np.asarray(age, float) <= JEUNE_MENAGE_AGE_SUM)
    return np.where(young, 3, persons)


def ceilings(adults, size, age, index: float = 1.0) -> np.ndarray:
    """Array (3, n) of the PLAI, PLUS and PLS ceilings (€/year) of households."""
    p = ceiling_persons(adults, size, age)
    cat = np.minimum(p, 6) - 1
    extra = np.maximum(p - 6, 0)
    return (CEILINGS_2024[:, cat] + CEILINGS_2024[:, 6:7] * extra) * index


@njit
def ceiling_persons_one(adults, size, age):
    """Persons the ceiling category counts for one household (:func:`ceiling_persons`)."""
    p = max(np.int64(size), 1)
    if adults == 1 and size >= 2:
        p += 1
    if adults == 2 and size == 2 and 2.0 * np.float64(age) <= JEUNE_MENAGE_AGE_SUM:
        p = 3
    return p


@njit
def ceiling_one(financing, adults, size, age, index):
    """Ceiling (€/year) of the financing ``financing`` (0 PLAI, 1 PLUS, 2 PLS), one household."""
    p = ceiling_persons_one(adults, size, age)
    row = _PLAI if financing == PLAI_FIN else (_PLUS if financing == PLUS_FIN else _PLS)
    cat = min(p, 6) - 1
    return (row[cat] + row[6] * max(p - 6, 0)) * index


def taxable_income(income, income_uc, median: float) -> np.ndarray:
    """Taxable income (€/year) of a disposable ``income`` with living standard ``income_uc``."""
    income_uc = np.asarray(income_uc, float)
    share = np.where(income_uc < POVERTY_LINE * median, BENEFIT_SHARES[0],
                     np.where(income_uc < D4_RATIO * median, BENEFIT_SHARES[1],
                              BENEFIT_SHARES[2]))
    return (1.0 - PROFESSIONAL_DEDUCTION) * (1.0 - share) * np.asarray(income, float)


def resources(taxable, rfr) -> np.ndarray:
    """Resources compared with the ceilings: the RFR (N-2), else the current taxable income.

    The current taxable income is used when it is at least 10 % lower than the RFR or when no
    RFR is recorded (``nan``).
    """
    taxable, rfr = np.asarray(taxable, float), np.asarray(rfr, float)
    use_now = np.isnan(rfr) | (taxable < (1.0 - DROP_SHARE) * rfr)
    return np.where(use_now, taxable, rfr)


@njit
def taxable_one(income, income_uc, median):
    """Taxable income of one household (:func:`taxable_income`)."""
    if income_uc < POVERTY_LINE * median:
        share = BENEFIT_SHARES[0]
    elif income_uc < D4_RATIO * median:
        share = BENEFIT_SHARES[1]
    else:
        share = BENEFIT_SHARES[2]
    return (1.0 - PROFESSIONAL_DEDUCTION) * (1.0 - share) * income


@njit
def resources_one(income, income_uc, rfr, median):
    """Resources of one household compared with the ceilings (:func:`resources`)."""
    t = taxable_one(income, income_uc, median)
    if rfr != rfr or t < (1.0 - DROP_SHARE) * rfr:
        return t
    return rfr
