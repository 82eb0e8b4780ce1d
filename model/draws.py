"""Random draws on numpy's generator: binomial counts, choices, samples, wishes.

Every function takes the run's ``numpy.random.Generator``. :func:`weighted_choice` and
:func:`sample_without_replacement` make the same draws, in the same order, as the numpy call
they stand for (tested): ``rng.choice(len(p), size, p=p)`` without its checks and
``rng.choice(n, size=k, replace=False)``. :func:`binomial` does *not* call
``Generator.binomial``: numpy does not promise that a distribution's algorithm stays the same
from one release to the next (NEP 19), and its binomial did change between numpy 2.4 and 2.5
(2 in 20,000 draws of binomial(2628, 0.154) differ, by 40–50), which made a spun-up state built
under Python 3.12 (numpy 2.5) differ from one built under 3.11 (numpy 2.4) for the same seed.
Ours inverts one uniform of ``rng.random`` — whose bits numpy keeps — so a seed gives the same
run whatever numpy version draws it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .jit import njit


def binomial(rng: np.random.Generator, n: int, p: float) -> int:
    """Draw a binomial count of ``n`` trials of probability ``p`` from one uniform of ``rng``.

    No uniform is drawn when the count is certain (n = 0, p ≤ 0 or p ≥ 1).
    ``p`` is clipped to [0, 1]. Exact inversion (:func:`_binomial_inverse`), the same law as
    ``rng.binomial(n, p)`` but not its draws: see the module's docstring for why.
    """
    n = int(n)
    p = min(max(float(p), 0.0), 1.0)
    if n <= 0 or p == 0.0:
        return 0
    if p == 1.0:
        return n
    return int(_binomial_inverse(rng.random(), n, p))


def binomial_each(rng: np.random.Generator, n: np.ndarray, p: float) -> np.ndarray:
    """One binomial(``n[i]``, ``p``) count per element of ``n`` (one uniform each), as int64."""
    n = np.asarray(n, np.int64)
    p = min(max(float(p), 0.0), 1.0)
    return _binomial_inverse_each(rng.random(len(n)), n, p)


@njit
def _binomial_inverse_each(u, n, p):
    out = np.zeros(len(n), np.int64)
    for i in range(len(n)):
        if n[i] <= 0 or p == 0.0:
            out[i] = 0
        elif p == 1.0:
            out[i] = n[i]
        else:
            out[i] = _binomial_inverse(u[i], n[i], p)
    return out


@njit
def _binomial_inverse(u, n, p):
    """Return the binomial count (n ≥ 1 trials, 0 < p < 1) at which the uniform ``u`` falls.

    Inversion from the mode: the probabilities of m, m − 1, m + 1, m − 2, … (m the mode,
    p(k ± 1) from p(k) by the ratio of consecutive terms) are added until their sum passes
    ``u``; the count reached is returned. It takes about twice as many steps as that count is
    far from the mode (a few standard deviations ``sqrt(n p (1 − p))``), and needs no table.
    If rounding leaves the sum of every term just under ``u`` (odds about 1e-15) the mode is
    returned.
    """
    flip = p > 0.5
    q = 1.0 - p if flip else p
    r = q / (1.0 - q)
    m = min(int((n + 1) * q), n)
    fm = math.exp(math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0)
                  + m * math.log(q) + (n - m) * math.log1p(-q))
    c = fm
    x = m
    if u > c:
        lo, hi, flo, fhi = m, m, fm, fm
        while True:
            if lo > 0 and flo > 0.0:
                flo *= lo / ((n - lo + 1.0) * r)
                lo -= 1
                c += flo
                if u <= c:
                    x = lo
                    break
            if hi < n and fhi > 0.0:
                fhi *= r * (n - hi) / (hi + 1.0)
                hi += 1
                c += fhi
                if u <= c:
                    x = hi
                    break
            if (lo == 0 or flo == 0.0) and (hi == n or fhi == 0.0):
                break
    return n - x if flip else x


def weighted_choice(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """``rng.choice(len(p), size=size, p=p)``: the same draws, without its checks of ``p``.

    numpy's choice with weights inverts the cumulated, normalised weights at ``size`` uniforms;
    this does the same, about 7 times faster for the small draws of a month. ``p`` must be
    non-negative with a positive sum (the callers' weights are).
    """
    cdf = np.cumsum(np.asarray(p, float))
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(size), side="right")


def sample_without_replacement(rng: np.random.Generator, n: int, k: int,
                               sort: bool = False) -> np.ndarray:
    """``rng.choice(n, size=k, replace=False)``, sorted when ``sort``.

    An earlier version ran numpy's algorithm compiled on the generator's bit stream to save
    numpy's per-call checks; it saved 57 ms per 24 months at scale 1 (0.3 % of a run,
    benchmarks/README.md) for about 100 lines of low-level code, and was removed (the draws are
    the same).
    """
    if k == 0:
        return np.zeros(0, np.int64)
    if k > n or k < 0:
        raise ValueError(f"cannot take {k} of {n} without replacement")
    out = rng.choice(n, size=k, replace=False)
    return np.sort(out) if sort else out


def bernoulli_subset(rng: np.random.Generator, idx: np.ndarray, p: float) -> np.ndarray:
    """Members of ``idx`` hit by an event of probability ``p``, each independently (sorted).

    Draws the number of events from a binomial (:func:`binomial`) and picks that many members
    without replacement: the same law as one uniform per member compared with ``p``, far
    cheaper when ``p`` is small and ``idx`` large.
    """
    n = len(idx)
    k = binomial(rng, n, p)
    if k == 0:
        return idx[:0]
    return idx[sample_without_replacement(rng, n, k, sort=True)]


def thinned(rng: np.random.Generator, idx: np.ndarray, bound: float,
            hazard: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Members of ``idx`` hit by events of individual probabilities ``hazard(members)``.

    Thinning (Lewis & Shedler 1979): candidates are drawn with the probability ``bound`` ≥ every
    individual probability (:func:`bernoulli_subset`), then each is kept with probability
    hazard / bound. The law is that of one uniform per member compared with its probability,
    but the probabilities are only computed for the few candidates.
    """
    cand = bernoulli_subset(rng, idx, bound)
    if len(cand) == 0:
        return cand
    return cand[rng.random(len(cand)) * bound < hazard(cand)]


def draw_wishes(rng: np.random.Generator, home_commune: np.ndarray, breadth: int,
                weights: np.ndarray) -> np.ndarray:
    """Bitmask of wished communes: the home commune plus ``breadth − 1`` others drawn by weight.

    Weighted sampling without replacement by exponential keys (Efraimidis & Spirakis 2006): the
    ``breadth`` communes of smallest key exponential / weight, the home commune's key set to −1.
    """
    n, c = len(home_commune), len(weights)
    if n == 0:
        return np.zeros(0, np.int64)
    keys = rng.exponential(size=(n, c)) / np.maximum(weights, 1e-12)
    return _smallest_keys_mask(keys, np.asarray(home_commune, np.int64), min(breadth, c))


@njit
def _smallest_keys_mask(keys, home, k):
    """Bitmask per row of the ``k`` columns of smallest key, the ``home`` column first."""
    n, c = keys.shape
    out = np.zeros(n, np.int64)
    taken = np.zeros(c, np.bool_)
    for r in range(n):
        taken[:] = False
        taken[home[r]] = True
        mask = np.int64(1) << home[r]
        for _ in range(k - 1):
            best = -1
            for j in range(c):
                if not taken[j] and (best < 0 or keys[r, j] < keys[r, best]):
                    best = j
            taken[best] = True
            mask |= np.int64(1) << best
        out[r] = mask
    return out
