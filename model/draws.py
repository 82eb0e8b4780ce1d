"""Random draws on numpy's generator: weighted choice, sampling without replacement, wishes.

Every function takes the run's ``numpy.random.Generator`` and makes the same draws, in the same
order, as the numpy call it stands for (tested): :func:`weighted_choice` is
``rng.choice(len(p), size, p=p)`` without its checks, :func:`sample_without_replacement` is
``rng.choice(n, size=k, replace=False)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .jit import njit


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

    Draws the number of events from a binomial and picks that many members without replacement:
    the same law as one uniform per member compared with ``p``, far cheaper when ``p`` is small
    and ``idx`` large.
    """
    n = len(idx)
    k = int(rng.binomial(n, min(max(float(p), 0.0), 1.0))) if n else 0
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
