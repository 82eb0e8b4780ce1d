"""The income model of the territory builder: a lognormal per neighbourhood, quartile cuts.

Each neighbourhood's income per consumption unit is taken lognormal, fitted to its Filosofi
quantiles (:func:`~mixsim.calibration.filosofi.read_filosofi_iris`); its households are split
between the income quartiles by national cut points (:func:`national_quartile_cuts`) or the
territory's own (:func:`quartiles_by_neighbourhood`, step 2 of
:func:`mixsim.calibration.importers.build_territory_from_public`).

Figures marked [U] are assumptions (orders of magnitude, not verified statistics); [V] figures
are stated in the cited source (legend of docs/sources.md).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from mixsim.model.errors import InputError

from .filosofi import QUANTILE_P
from .ipf import largest_remainder

# National distribution of living standards (€ per UC per year, current euros; persons in
# households of metropolitan France, INSEE ERFS): year -> (D1, median, D9).
NATIONAL_LIVING_STANDARD = {
    2010: (10_430, 19_270, 36_270),  # [V] Insee Première 1412 (2012), "Les niveaux de vie en 2010"
    2014: (10_770, 20_150, 37_260),  # [V] Insee Résultats, "Les niveaux de vie en 2014"
    2018: (11_210, 21_250, 39_130),  # [V] France, portrait social 2020, fiche Niveaux de vie
    2019: (11_660, 22_040, 39_930),  # [V] France, portrait social 2021, fiche Niveaux de vie
    2022: (12_970, 24_330, 43_840),  # [V] France, portrait social 2024, fiche Niveaux de vie
}
_Z90 = float(ndtri(0.9))
_Z75 = float(ndtri(0.75))


class IncomeSplit(NamedTuple):
    """Step 2 of the builder: lognormal income per neighbourhood and households by quartile.

    Attributes:
        mu: Log-median of income per UC per neighbourhood.
        sigma: Log-standard deviation per neighbourhood.
        origin: Where each distribution came from (``iris``, ``commune average``…).
        cuts: Quartile cut points used (€/UC/year).
        shares: Share of each neighbourhood's households in quartiles 1..4.
        counts: Households per neighbourhood x quartile (integers).
    """

    mu: np.ndarray
    sigma: np.ndarray
    origin: np.ndarray
    cuts: tuple[float, float, float]
    shares: np.ndarray
    counts: np.ndarray


def national_quartile_cuts(year: int) -> tuple[float, float, float]:
    """National quartile cut points of income per UC for a year (€ per UC per year).

    Built from :data:`NATIONAL_LIVING_STANDARD` (INSEE ERFS D1, median and D9 of the living
    standard of persons, metropolitan France [V]) by assuming a lognormal distribution through D1
    and D9 around the median, ``Q1/Q3 = median * exp(∓0.674 * sigma)`` with
    ``sigma = ln(D9/D1) / (2 * 1.2816)`` [U: the quartiles are derived, not published figures].
    Years between two listed years are interpolated geometrically; years outside take the
    nearest listed year [U]. E.g. 2019: 15,940 / 22,040 / 30,470; 2022: 17,660 / 24,330 / 33,520.
    The ERFS living standard includes imputed financial income that Filosofi lacks, so the cuts
    may sit a few percent above Filosofi's own [U].
    """
    years = sorted(NATIONAL_LIVING_STANDARD)
    y = min(max(int(year), years[0]), years[-1])
    lo = max(k for k in years if k <= y)
    hi = min(k for k in years if k >= y)
    w = 0.0 if hi == lo else (y - lo) / (hi - lo)
    d1, med, d9 = (math.exp((1 - w) * math.log(a) + w * math.log(b))
                   for a, b in zip(NATIONAL_LIVING_STANDARD[lo], NATIONAL_LIVING_STANDARD[hi],
                                   strict=True))
    sigma = math.log(d9 / d1) / (2 * _Z90)
    return (med * math.exp(-_Z75 * sigma), med, med * math.exp(_Z75 * sigma))


def _fit_lognormal(row: Mapping[str, float], prefix: str) -> tuple[float, float] | None:
    """(mu, sigma) of a lognormal through an IRIS's published quantiles, or None.

    Least squares of ``ln(quantile)`` on the normal score of its probability over every quantile
    present (deciles, quartiles, median). With the median only, sigma is unknown (None).
    """
    z, v = [], []
    for stat, p in QUANTILE_P.items():
        val = row.get(f"{prefix}_{stat}")
        if val is not None and np.isfinite(val) and val > 0:
            z.append(float(ndtri(p)))
            v.append(math.log(val))
    if len(z) < 2:
        return None
    z_arr, v_arr = np.array(z), np.array(v)
    sigma = float(np.cov(z_arr, v_arr, bias=True)[0, 1] / np.var(z_arr))
    if not (sigma > 0.05):
        return None
    return float(v_arr.mean() - sigma * z_arr.mean()), sigma


def _income_distributions(it: pd.DataFrame, fil: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Per neighbourhood: lognormal (mu, sigma) of income per UC and where it came from."""
    prefix = "disp" if any(c.startswith("disp_") for c in fil.columns) else "dec"
    mu, sigma, median_only = _iris_fits(it, fil, prefix)
    if not (np.isfinite(sigma) | median_only).any():
        raise InputError("no neighbourhood of the IRIS table has usable income quantiles in the "
                         f"Filosofi table ({prefix}_med, {prefix}_d1…); check the IRIS codes",
                         source="filosofi")
    origin = _fill_gaps(mu, sigma, median_only, it.commune.to_numpy(), w)
    fallback = [f"{n} ({o})" for n, o in zip(it.neighbourhood, origin, strict=True) if o != "iris"]
    if fallback:
        warnings.warn("income distribution not fully given by Filosofi for "
                      + ", ".join(fallback), UserWarning, stacklevel=4)
    return pd.DataFrame({"mu": mu, "sigma": sigma, "origin": origin})


def _iris_fits(it: pd.DataFrame, fil: pd.DataFrame, prefix: str
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mu, sigma) fitted to each IRIS's own quantiles (NaN when not), and median-only IRIS."""
    by_iris = fil.set_index("iris")
    mu = np.full(len(it), np.nan)
    sigma = np.full(len(it), np.nan)
    median_only = np.zeros(len(it), bool)
    for i, code in enumerate(it.get("iris", pd.Series([""] * len(it)))):
        if not (code and code in by_iris.index):
            continue
        row = by_iris.loc[code].to_dict()
        fit = _fit_lognormal(row, prefix)
        if fit is not None:
            mu[i], sigma[i] = fit
            continue
        med = row.get(f"{prefix}_med")
        if med is not None and np.isfinite(med) and med > 0:
            mu[i] = math.log(med)
            median_only[i] = True
    return mu, sigma, median_only


def _fill_gaps(mu: np.ndarray, sigma: np.ndarray, median_only: np.ndarray,
               communes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fill (in place) the distributions an IRIS lacks; return where each came from.

    A missing sigma is the household-weighted mean over the commune's fitted IRIS, else the
    territory's, else the national dispersion; a missing median the commune's (else the
    territory's) weighted mean of the known ones.
    """
    origin = np.array(["iris"] * len(mu), dtype=object)
    have = np.isfinite(sigma)
    known_mu = np.isfinite(mu)
    for i in np.flatnonzero(~have):
        same = communes == communes[i]
        sigma[i], s_from = _spread(sigma, have, same, w)
        if median_only[i]:
            origin[i] = f"iris median, {s_from} spread"
        else:
            pool = known_mu & same if (known_mu & same).any() else known_mu
            mu[i] = float(np.average(mu[pool], weights=w[pool]))
            origin[i] = ("commune" if (known_mu & same).any() else "territory") + " average"
    return origin


def _spread(sigma: np.ndarray, have: np.ndarray, same: np.ndarray, w: np.ndarray
            ) -> tuple[float, str]:
    """Take the sigma of the commune's fitted IRIS, else the territory's, else the national."""
    if (have & same).any():
        return float(np.average(sigma[have & same], weights=w[have & same])), "commune"
    if have.any():
        return float(np.average(sigma[have], weights=w[have])), "territory"
    d1, _, d9 = NATIONAL_LIVING_STANDARD[max(NATIONAL_LIVING_STANDARD)]
    return math.log(d9 / d1) / (2 * _Z90), "national"


def _territory_cuts(mu: np.ndarray, sigma: np.ndarray, w: np.ndarray) -> tuple[float, ...]:
    """Quartile cuts of the household-weighted mixture of neighbourhood lognormals."""
    w = w / w.sum()
    cuts = []
    for p in (0.25, 0.5, 0.75):
        lo, hi = float((mu - 6 * sigma).min()), float((mu + 6 * sigma).max())
        for _ in range(100):  # bisection on ln(cut)
            mid = 0.5 * (lo + hi)
            if float((w * ndtr((mid - mu) / sigma)).sum()) < p:
                lo = mid
            else:
                hi = mid
        cuts.append(math.exp(0.5 * (lo + hi)))
    return tuple(cuts)


def _quartile_cuts(quartile_cuts, fil: pd.DataFrame, mu: np.ndarray, sigma: np.ndarray,
                   weights: np.ndarray) -> tuple[float, float, float]:
    if isinstance(quartile_cuts, str):
        if quartile_cuts == "national":
            year = int(fil["year"].iloc[0]) if "year" in fil and len(fil) else \
                max(NATIONAL_LIVING_STANDARD)
            return national_quartile_cuts(year)
        if quartile_cuts == "territory":
            return _territory_cuts(mu, sigma, weights)
        raise InputError(f"got {quartile_cuts!r}; expected 'national', 'territory' or three "
                         "cut points", field="quartile_cuts")
    cuts = tuple(float(c) for c in quartile_cuts)
    if len(cuts) != 3 or not all(0 < a < b for a, b in zip(cuts, cuts[1:] + (math.inf,),
                                                          strict=True)):
        raise InputError(f"got {quartile_cuts!r}; expected three increasing positive cut "
                         "points (€/UC/year)", field="quartile_cuts")
    return cuts


def quartiles_by_neighbourhood(it: pd.DataFrame, fil: pd.DataFrame, tenure,
                               quartile_cuts="national") -> IncomeSplit:
    """Income distribution and households by quartile per neighbourhood (builder step 2)."""
    dist = _income_distributions(it, fil, tenure.households.astype(float) + 1e-9)
    mu, sigma = dist.mu.to_numpy(), dist.sigma.to_numpy()
    tot_nb = tenure.tenure.sum(axis=1)
    cuts = _quartile_cuts(quartile_cuts, fil, mu, sigma, tot_nb.astype(float) + 1e-9)
    n_nb = len(it)
    cdf = ndtr((np.log(np.array(cuts))[None, :] - mu[:, None]) / sigma[:, None])
    shares = np.diff(np.concatenate([np.zeros((n_nb, 1)), cdf, np.ones((n_nb, 1))], axis=1),
                     axis=1)
    counts = np.stack([largest_remainder(shares[i], tot_nb[i]) for i in range(n_nb)])
    return IncomeSplit(mu, sigma, dist.origin.to_numpy(), cuts, shares, counts)
