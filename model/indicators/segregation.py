"""Segregation and concentration indices on count arrays.

Every function here is pure and vectorised: it takes array-likes of counts
(households or persons per spatial unit: EPCI, commune, neighbourhood,
résidence) and returns a float, a small frozen dataclass or an array. Nothing
depends on pandas or on the model state.

Conventions shared by all functions (see ``docs/indicators.md``):

* **Counts** may be ints or floats (e.g. weighted counts); they must be finite
  and non-negative, and a group count may not exceed its unit's total.
  Violations raise :class:`ValueError` naming the offending argument.
* **Empty units** (total 0) carry no population and are dropped before the
  index is computed. None of the indices changes when an empty unit is added
  or removed.
* **Undefined cases return nan**. The segregation indices (D, isolation,
  exposure, Theil's H) are nan for an empty territory, fewer than two
  non-empty units, a group that is absent, or a group that is the whole
  population (for H: fewer than two groups present). There is nothing to
  segregate in those cases, so no number is reported. Each function's
  docstring states its own undefined cases (entropy, spread, Gini,
  transition rows).

References:
    Duncan, O. D. & Duncan, B. (1955). A methodological analysis of
    segregation indexes. American Sociological Review, 20(2), 210-217.

    Massey, D. S. & Denton, N. A. (1988). The dimensions of residential
    segregation. Social Forces, 67(2), 281-315.

    Theil, H. (1972). Statistical Decomposition Analysis. North-Holland.

    Reardon, S. F. & Firebaugh, G. (2002). Measures of multigroup
    segregation. Sociological Methodology, 32, 33-67.

    Gini, C. (1912). Variabilità e mutabilità. Bologna: C. Cuppini.

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ShareSpread",
    "dissimilarity",
    "dissimilarity_random",
    "entropy",
    "exposure",
    "gini",
    "isolation",
    "share_spread",
    "theil_h",
    "transition_matrix",
]

NAN = float("nan")


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _as_counts(values: ArrayLike, name: str, ndim: int | tuple[int, ...] = 1) -> np.ndarray:
    """Return ``values`` as a float array of finite non-negative counts.

    Args:
        values: Array-like of counts.
        name: Argument name used in error messages.
        ndim: Required number of dimensions, or a tuple of accepted ones.

    Returns:
        A float64 array with an accepted number of dimensions.

    Raises:
        ValueError: If the array has the wrong shape, is not numeric, or holds
            a negative or non-finite value.

    """
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numeric counts") from exc
    accepted = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in accepted:
        wanted = " or ".join(f"{d}-D" for d in accepted)
        raise ValueError(f"{name} must be {wanted}, got an array with {arr.ndim} dimension(s)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite counts (found nan or inf)")
    if np.any(arr < 0):
        raise ValueError(f"{name} must hold non-negative counts (found {arr.min():g})")
    return arr


def _check_group(group: np.ndarray, total: np.ndarray, name: str) -> None:
    """Check that a group array matches ``total`` and never exceeds it.

    Args:
        group: Group counts per unit.
        total: Total counts per unit.
        name: Argument name of ``group`` used in error messages.

    Raises:
        ValueError: If the lengths differ or ``group > total`` in some unit.

    """
    if group.shape != total.shape:
        raise ValueError(
            f"{name} and total must have the same length ({group.shape[0]} != {total.shape[0]})"
        )
    bad = np.flatnonzero(group > total)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"{name} must not exceed total in any unit "
            f"(unit {i}: {name}={group[i]:g} > total={total[i]:g})"
        )


def _group_and_total(
    group: ArrayLike, total: ArrayLike, name: str = "group"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a group/total pair and drop empty units.

    Args:
        group: Group counts per unit.
        total: Total counts per unit.
        name: Argument name of ``group`` used in error messages.

    Returns:
        ``(group, total)`` restricted to the units with ``total > 0``.

    """
    t = _as_counts(total, "total")
    g = _as_counts(group, name)
    _check_group(g, t, name)
    keep = t > 0
    return g[keep], t[keep]


def _is_degenerate(g: np.ndarray, t: np.ndarray) -> bool:
    """Tell whether a single-group index is undefined for these units.

    Args:
        g: Group counts per non-empty unit.
        t: Total counts per non-empty unit.

    Returns:
        True for fewer than two non-empty units, an absent group, or a group
        that is the whole population.

    """
    if t.size < 2:
        return True
    G, T = g.sum(), t.sum()
    return bool(G <= 0 or G >= T)


def _xlogx(p: np.ndarray) -> np.ndarray:
    """Return ``p * log(p)`` element-wise with the convention ``0 log 0 = 0``.

    Args:
        p: Non-negative array.

    Returns:
        Array of the same shape as ``p``.

    """
    out = np.zeros_like(p, dtype=float)
    pos = p > 0
    out[pos] = p[pos] * np.log(p[pos])
    return out


# --------------------------------------------------------------------------
# single-group indices
# --------------------------------------------------------------------------


def dissimilarity(group: ArrayLike, total: ArrayLike) -> float:
    r"""Duncan dissimilarity index D of a group versus the rest of the population.

    .. math::

        D = \tfrac12 \sum_i \left| \frac{g_i}{G} - \frac{t_i - g_i}{T - G} \right|

    with ``g_i`` and ``t_i`` the group and total counts of unit ``i`` and
    ``G``, ``T`` their sums. D is the share of the group (equivalently of the
    rest) that would have to move to make every unit's group share equal to
    the territory's. 0 = even distribution, 1 = complete separation.

    Source: Duncan & Duncan (1955); Massey & Denton (1988), evenness
    dimension.

    Args:
        group: Count of the group (e.g. Q1 households) per unit, 1-D.
        total: Count of all households per unit, 1-D, same length.

    Returns:
        D in [0, 1]. Empty units (total 0) are dropped. Returns nan for an
        empty territory, fewer than two non-empty units, an absent group
        (G = 0) or a group that is the whole population (G = T).

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, hold a
            negative or non-finite count, or ``group > total`` somewhere.

    """
    g, t = _group_and_total(group, total)
    if _is_degenerate(g, t):
        return NAN
    G, T = g.sum(), t.sum()
    return float(0.5 * np.abs(g / G - (t - g) / (T - G)).sum())


def dissimilarity_random(group: ArrayLike, total: ArrayLike) -> float:
    r"""Return the expected D if the same households were allocated to the same units at random.

    Under random allocation, the group count of unit ``i`` follows the hypergeometric law of
    ``t_i`` draws without replacement from ``T`` households of which ``G`` are in the group, and
    by linearity of expectation

    .. math::

        E[D] = \tfrac12 \sum_i E\left| \frac{g_i}{G} - \frac{t_i - g_i}{T - G} \right|,

    computed exactly from each unit's hypergeometric distribution (no simulation). With small
    units this expectation is far from 0: D of a small territory is partly counting noise
    (Cortese, Falk & Cohen 1976; Carrington & Troske 1997, "On measuring segregation in samples
    with small units"). Reporting ``D − E[D]`` (see :func:`dissimilarity` and the ``*_excess``
    indicators) separates structure from that noise at any scale.

    Args:
        group: Count of the group per unit (only its total ``G`` matters), 1-D whole numbers.
        total: Count of all households per unit, 1-D whole numbers, same length.

    Returns:
        E[D] in [0, 1], or nan in the cases where :func:`dissimilarity` is nan.

    Raises:
        ValueError: As :func:`dissimilarity`, or if a count is not a whole number.

    """
    from scipy.stats import hypergeom

    g, t = _group_and_total(group, total)
    if _is_degenerate(g, t):
        return NAN
    if np.any(t != np.round(t)) or np.any(g != np.round(g)):
        raise ValueError("dissimilarity_random needs whole-number counts")
    G, T = int(round(g.sum())), int(round(t.sum()))
    expected = 0.0
    for size in np.unique(t.astype(np.int64)):  # units of the same size share one law
        k = np.arange(0, size + 1)
        pmf = hypergeom.pmf(k, T, G, size)
        term = np.abs(k / G - (size - k) / (T - G))
        expected += 0.5 * float((pmf * term).sum()) * int((t == size).sum())
    return expected


def isolation(group: ArrayLike, total: ArrayLike) -> float:
    r"""Isolation index xPx* of a group.

    .. math::

        {}_xP^*_x = \sum_i \frac{g_i}{G} \cdot \frac{g_i}{t_i}

    The group share of the unit in which the average group member lives.
    It equals the group's overall share ``G/T`` when every unit has the same
    share and 1 when the group lives in units of its own.

    Source: Massey & Denton (1988), exposure dimension (isolation index
    :math:`{}_xP^*_x`).

    Args:
        group: Count of the group per unit, 1-D.
        total: Count of all households per unit, 1-D, same length.

    Returns:
        xPx* in [G/T, 1]. Empty units are dropped. Returns nan for an empty
        territory, fewer than two non-empty units, G = 0 or G = T.

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, hold a
            negative or non-finite count, or ``group > total`` somewhere.

    """
    g, t = _group_and_total(group, total)
    if _is_degenerate(g, t):
        return NAN
    return float(np.sum((g / g.sum()) * (g / t)))


def exposure(group_a: ArrayLike, group_b: ArrayLike, total: ArrayLike) -> float:
    r"""Exposure (interaction) index aPb* of group a to group b.

    .. math::

        {}_aP^*_b = \sum_i \frac{a_i}{A} \cdot \frac{b_i}{t_i}

    The share of group b in the unit of the average member of group a. It is
    asymmetric (aPb* ≠ bPa* in general). With ``b = total - a`` it is the
    complement of isolation: aPb* = 1 - aPa*. ``a`` and ``b`` are normally
    disjoint groups, but this is not checked (``exposure(g, g, t)`` equals
    ``isolation(g, t)``).

    Source: Massey & Denton (1988), exposure dimension (interaction index
    :math:`{}_xP^*_y`).

    Args:
        group_a: Count of the reference group per unit, 1-D.
        group_b: Count of the other group per unit, 1-D.
        total: Count of all households per unit, 1-D, same length.

    Returns:
        aPb* in [0, 1]. Empty units are dropped. Returns nan for an empty
        territory, fewer than two non-empty units, or when group a is absent
        (A = 0) or the whole population (A = T).

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, hold a
            negative or non-finite count, or a group exceeds ``total``.

    """
    t = _as_counts(total, "total")
    a = _as_counts(group_a, "group_a")
    b = _as_counts(group_b, "group_b")
    _check_group(a, t, "group_a")
    _check_group(b, t, "group_b")
    keep = t > 0
    a, b, t = a[keep], b[keep], t[keep]
    if _is_degenerate(a, t):
        return NAN
    return float(np.sum((a / a.sum()) * (b / t)))


# --------------------------------------------------------------------------
# multigroup: entropy and Theil's H
# --------------------------------------------------------------------------


def entropy(counts: ArrayLike) -> float:
    r"""Entropy (diversity) of a group composition, natural logarithm.

    .. math::

        E = -\sum_k p_k \ln p_k , \qquad 0 \ln 0 = 0

    * ``counts`` 1-D (one unit, one entry per group): ``p_k`` are the group
      shares of that unit, so this is the unit's entropy ``E_i``.
    * ``counts`` 2-D (units × groups): ``p_k`` are the group shares of the
      whole territory (column sums over the grand total), so this is the
      territory's entropy ``E`` used as the denominator of Theil's H. Unit
      boundaries do not matter here.

    E is 0 when a single group is present and ``ln K`` when the K groups have
    equal shares. This is a diversity measure, not a segregation index, so
    the "fewer than two units" rule does not apply.

    Source: Theil (1972); Reardon & Firebaugh (2002), entropy E.

    Args:
        counts: Non-negative counts, 1-D (groups) or 2-D (units × groups).

    Returns:
        E in [0, ln K]. Returns nan when all counts are zero.

    Raises:
        ValueError: If ``counts`` is not 1-D or 2-D, or holds a negative or
            non-finite count.

    """
    c = _as_counts(counts, "counts", ndim=(1, 2))
    by_group = c if c.ndim == 1 else c.sum(axis=0)
    n = by_group.sum()
    if n <= 0:
        return NAN
    return float(-_xlogx(by_group / n).sum())


def theil_h(counts: ArrayLike) -> float:
    r"""Theil's information-theory index H for several groups.

    .. math::

        H = \sum_i \frac{t_i (E - E_i)}{T\,E}

    where ``E`` is the entropy of the territory's group shares, ``E_i`` the
    entropy of unit i (both natural log, see :func:`entropy`), ``t_i`` the
    unit total and ``T`` the grand total. H is the share of the territory's
    diversity that is lost within units: 0 when every unit has the
    territory's composition, 1 when each unit holds a single group. Used for
    income quartiles (K = 4) but valid for any K ≥ 2.

    Source: Theil (1972); Reardon & Firebaugh (2002), information theory
    index H.

    Args:
        counts: Counts, 2-D array of shape (units, groups).

    Returns:
        H in [0, 1]. Empty units (row sum 0) are dropped. Groups absent from
        the whole territory contribute nothing. Returns nan for an empty
        territory, fewer than two non-empty units, or fewer than two groups
        present (E = 0).

    Raises:
        ValueError: If ``counts`` is not 2-D or holds a negative or
            non-finite count.

    """
    c = _as_counts(counts, "counts", ndim=2)
    t = c.sum(axis=1)
    c, t = c[t > 0], t[t > 0]
    if t.size < 2:
        return NAN
    T = t.sum()
    E = -_xlogx(c.sum(axis=0) / T).sum()
    if E <= 0:
        return NAN
    E_i = -_xlogx(c / t[:, None]).sum(axis=1)
    return float(np.sum(t * (E - E_i)) / (T * E))


# --------------------------------------------------------------------------
# spread of unit shares
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareSpread:
    """Spread of a group's share across units.

    Attributes:
        n_units: Number of non-empty units used.
        min_share: Smallest unit share ``g_i / t_i``.
        max_share: Largest unit share.
        ratio: ``max_share / min_share``; inf when the smallest share is 0 and
            the largest is not; nan when both are 0.
        range: ``max_share - min_share`` (share points, in [0, 1]).
        cv: Coefficient of variation of the unit shares (population standard
            deviation over mean, each unit counted once); nan when the mean
            is 0.

    """

    n_units: int
    min_share: float
    max_share: float
    ratio: float
    range: float
    cv: float


def share_spread(group: ArrayLike, total: ArrayLike) -> ShareSpread:
    r"""Spread of the group's share ``s_i = g_i / t_i`` across units.

    Gives max/min ratio, max − min and the coefficient of variation
    :math:`\sigma(s)/\bar s` of the unit shares, unweighted (each unit counts
    once), as asked in docs/indicators.md ("spread (max/min, Gini) of neighbourhood Q1
    shares"). For the Gini of the shares use :func:`gini`.

    Source: descriptive statistics of unit shares; Massey & Denton (1988)
    discuss evenness measured through the variation of unit shares.

    Args:
        group: Count of the group per unit, 1-D.
        total: Count of all households per unit, 1-D, same length.

    Returns:
        A :class:`ShareSpread`. Empty units are dropped. With fewer than two
        non-empty units every statistic is nan (``n_units`` is still set).

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, hold a
            negative or non-finite count, or ``group > total`` somewhere.

    """
    g, t = _group_and_total(group, total)
    n = int(t.size)
    if n < 2:
        return ShareSpread(n, NAN, NAN, NAN, NAN, NAN)
    s = g / t
    lo, hi = float(s.min()), float(s.max())
    if lo > 0:
        ratio = hi / lo
    else:
        ratio = float("inf") if hi > 0 else NAN
    mean = s.mean()
    cv = float(s.std() / mean) if mean > 0 else NAN
    return ShareSpread(n, lo, hi, ratio, hi - lo, cv)


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    r"""Gini coefficient of non-negative values, optionally weighted.

    .. math::

        G = \frac{\sum_i \sum_j w_i w_j |x_i - x_j|}{2 W^2 \bar x},
        \qquad \bar x = \frac{\sum_i w_i x_i}{W}

    Intended for unit shares (``x_i = g_i / t_i``), weighted by unit totals
    (``w_i = t_i``) or unweighted (``w_i = 1``). Computed in O(n log n) by
    sorting. With ``x_i = g_i/t_i`` and ``w_i = t_i``, ``G / (1 - P)`` (P the
    overall group share) is Massey & Denton's Gini segregation index.

    Source: Gini (1912), mean-difference form; Massey & Denton (1988) for
    the population-weighted version on unit shares (Gini evenness index).

    Args:
        values: Values per unit, 1-D, finite and non-negative.
        weights: Optional non-negative weights per unit (e.g. unit totals),
            same length. Units with weight 0 are dropped (empty units).

    Returns:
        G in [0, 1). Returns nan when fewer than two units (with positive
        weight) remain or when the weighted mean is 0.

    Raises:
        ValueError: If the inputs are not 1-D, differ in length, or hold a
            negative or non-finite entry.

    """
    x = _as_counts(values, "values")
    if weights is None:
        w = np.ones_like(x)
    else:
        w = _as_counts(weights, "weights")
        if w.shape != x.shape:
            raise ValueError(
                f"weights and values must have the same length ({w.shape[0]} != {x.shape[0]})"
            )
        x, w = x[w > 0], w[w > 0]
    if x.size < 2:
        return NAN
    W = w.sum()
    mean = np.sum(w * x) / W
    if mean <= 0:
        return NAN
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    # sum_{i<j} w_i w_j (x_j - x_i) with x sorted ascending:
    # sum_j w_j (x_j C_{j-1} - S_{j-1}), C and S the cumulative sums of w and w*x before j.
    cw = np.concatenate(([0.0], np.cumsum(w)[:-1]))
    cwx = np.concatenate(([0.0], np.cumsum(w * x)[:-1]))
    half = np.sum(w * (x * cw - cwx))  # = (1/2) sum_i sum_j w_i w_j |x_i - x_j|
    return float(half / (W * W * mean))


# --------------------------------------------------------------------------
# transition matrix
# --------------------------------------------------------------------------


def _as_labels(labels: ArrayLike, name: str, n_classes: int) -> np.ndarray:
    """Return class labels as an int array, with -1 for "not observed".

    Args:
        labels: 1-D integer labels; negative (or nan) means not observed.
        name: Argument name used in error messages.
        n_classes: Number of classes; valid labels are ``0 .. n_classes-1``.

    Returns:
        An int64 array where every unobserved entry is -1.

    Raises:
        ValueError: If the array is not 1-D, holds a non-integer value or a
            label ``>= n_classes``.

    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array with {arr.ndim} dimension(s)")
    if arr.dtype.kind in "iub":
        out = arr.astype(np.int64)
    elif arr.dtype.kind == "f":
        missing = np.isnan(arr)
        filled = np.where(missing, -1.0, arr)
        if not np.all(np.isfinite(filled)) or np.any(filled != np.round(filled)):
            raise ValueError(f"{name} must hold integer class labels")
        out = filled.astype(np.int64)
    else:
        raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if out.size and out.max() >= n_classes:
        raise ValueError(f"{name} holds label {out.max()} >= n_classes={n_classes}")
    return np.where(out < 0, -1, out)


def transition_matrix(
    start_class: ArrayLike,
    end_class: ArrayLike,
    n_classes: int,
    *,
    return_counts: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Transition matrix between classes for a cohort followed over time.

    Entry ``[j, k]`` is the share of the cohort members observed in class j
    at the start that are in class k at the end:

    .. math::

        P_{jk} = \frac{n_{jk}}{\sum_{k'} n_{jk'}}

    (the maximum-likelihood estimate of a Markov transition matrix from
    observed moves). Used for neighbourhood classes (e.g. deprivation
    deciles, QPV / non-QPV) in docs/indicators.md, "upward mobility".

    Source: Anderson, T. W. & Goodman, L. A. (1957). Statistical inference
    about Markov chains. Annals of Mathematical Statistics, 28(1), 89-110.

    Args:
        start_class: Class label of each cohort member at the start, 1-D
            integers in ``0 .. n_classes-1``.
        end_class: Class label of the same members at the end, same length.
        n_classes: Number of classes (matrix side), at least 1.
        return_counts: Also return the matrix of counts ``n_jk``.

    Returns:
        The ``(n_classes, n_classes)`` float matrix of row shares; each row
        sums to 1, except rows of classes with nobody observed at the start,
        which are all nan. With ``return_counts=True``, the tuple
        ``(shares, counts)`` with ``counts`` an int64 matrix. Members with a
        negative label (or nan, for float input) at the start or at the end
        are "not observed" and dropped.

    Raises:
        ValueError: If ``n_classes`` is not a positive integer, the arrays
            differ in length, are not 1-D, or hold a non-integer label or a
            label ``>= n_classes``.

    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes}")
    n = int(n_classes)
    s = _as_labels(start_class, "start_class", n)
    e = _as_labels(end_class, "end_class", n)
    if s.shape != e.shape:
        raise ValueError(
            f"start_class and end_class must have the same length ({s.size} != {e.size})"
        )
    seen = (s >= 0) & (e >= 0)
    counts = np.bincount(s[seen] * n + e[seen], minlength=n * n).reshape(n, n).astype(np.int64)
    rows = counts.sum(axis=1, keepdims=True)
    shares = counts / np.where(rows > 0, rows, 1)
    shares[rows[:, 0] == 0] = np.nan
    if return_counts:
        return shares, counts
    return shares
