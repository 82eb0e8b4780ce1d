"""Rejection approximate Bayesian computation over a quasi-random design of the prior box.

The prior is uniform on the box of each calibrated parameter. ``budget`` points are drawn from a
scrambled Sobol' sequence (:class:`scipy.stats.qmc.Sobol`, seeded with
``SeedSequence(seed, spawn_key=(1,))``), which covers the box more evenly than independent draws;
every point is simulated (``replicates`` runs, common random numbers) in parallel through
:func:`mixsim.experiments.sensitivity.evaluate`, and the ``accept_fraction`` of points closest to
the
targets (:func:`mixsim.calibration.distance.distances`) form the posterior sample: the acceptance
threshold ε is that quantile of the distances (Pritchard et al. 1999; Beaumont et al. 2002
without the regression adjustment). The calibrated point is the posterior median of each
parameter.

The first ``N`` Sobol' points do not depend on how many are drawn, so a run with budget ``2N``
extends one with budget ``N`` (a resumed calibration reuses the stored points). Sobol' sequences
are best balanced when the budget is a power of two; other budgets work too.

References: Pritchard, J.K. et al. (1999), "Population growth of human Y chromosomes: a study of
Y chromosome microsatellites", Molecular Biology and Evolution 16, 1791–1798; Beaumont, M.A.,
Zhang, W. & Balding, D.J. (2002), "Approximate Bayesian computation in population genetics",
Genetics 162, 2025–2035; Owen, A.B. (1998), "Scrambling Sobol' and Niederreiter–Xing points",
Journal of Complexity 14, 466–489.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from mixsim.calibration.distance import PointEvaluator, Problem
from mixsim.model.errors import InputError

__all__ = ["ABCResult", "calibrate_abc", "design", "summarise_posterior"]

logger = logging.getLogger(__name__)

#: Posterior quantiles reported (5 %, median, 95 %: a 90 % credible interval).
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class ABCResult:
    """Outcome of :func:`calibrate_abc`.

    Attributes:
        point: Calibrated point: the posterior median of each parameter.
        posterior: Accepted points, closest first: ``design_index``, the parameters, the
            simulated moments (``sim_<target>``), ``distance`` and ``rank``.
        summary: One row per parameter: ``parameter``, ``prior_low``, ``prior_high``, ``mean``,
            ``sd``, ``p05``, ``p50``, ``p95``.
        threshold: Largest accepted distance (ε).
        evaluations: Every point evaluated, in order, with its moments and distance.
        n_new: Points evaluated by this call.
        n_reused: Points found among the stored evaluations.

    """

    point: dict[str, float]
    posterior: pd.DataFrame
    summary: pd.DataFrame
    threshold: float
    evaluations: pd.DataFrame
    n_new: int
    n_reused: int


def design(bounds: np.ndarray, n: int, seed: np.random.SeedSequence | int) -> np.ndarray:
    """First ``n`` points of a scrambled Sobol' sequence in the box ``bounds`` (``(d, 2)``).

    The points do not depend on ``n`` beyond their number: ``design(b, 2n, s)[:n] ==
    design(b, n, s)``.
    """
    bounds = np.asarray(bounds, dtype=float)
    sampler = qmc.Sobol(d=len(bounds), scramble=True, rng=np.random.default_rng(seed))
    with warnings.catch_warnings():
        # Sobol' warns when n is not a power of two (balance properties); any prefix is valid.
        warnings.filterwarnings("ignore", message=".*balance properties.*", category=UserWarning)
        unit = sampler.random(n)
    return qmc.scale(unit, bounds[:, 0], bounds[:, 1])


def summarise_posterior(posterior: pd.DataFrame, problem: Problem) -> pd.DataFrame:
    """Mean, standard deviation and 5/50/95 % quantiles of each parameter's posterior sample."""
    rows = []
    for name in problem.names:
        v = posterior[name].to_numpy(dtype=float)
        lo, hi = problem.targets.parameters[name]
        q = np.quantile(v, QUANTILES)
        rows.append({"parameter": name, "prior_low": lo, "prior_high": hi,
                     "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                     "p05": float(q[0]), "p50": float(q[1]), "p95": float(q[2]),
                     "accepted": len(v)})
    return pd.DataFrame(rows)


def calibrate_abc(problem: Problem, *, budget: int, accept_fraction: float = 0.1,
                  n_jobs: int = 1, evaluator: PointEvaluator | None = None) -> ABCResult:
    """Rejection ABC: simulate a Sobol' design of the prior box, keep the closest points.

    Args:
        problem: What is calibrated against what (targets, box, replicates, seed).
        budget: Design points (each ``problem.replicates`` runs).
        accept_fraction: Share of the points kept (at least 2 points are kept).
        n_jobs: Worker processes (ignored when ``evaluator`` is given).
        evaluator: Evaluator to use, e.g. holding stored points and a store callback.

    Raises:
        InputError: For a budget below 2 or an acceptance fraction outside (0, 1].

    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 2:
        raise InputError(f"got {budget!r}; expected a whole number ≥ 2", field="budget")
    if not (isinstance(accept_fraction, int | float) and 0 < accept_fraction <= 1):
        raise InputError(f"got {accept_fraction!r}; expected a share in (0, 1]",
                         field="accept_fraction")
    evaluator = evaluator or PointEvaluator(problem, n_jobs=n_jobs, stage="abc")
    X = design(problem.bounds, budget, problem.search_seed())
    M = evaluator.moments(X)
    from mixsim.calibration.distance import distances
    d = distances(M, problem.targets)
    n_keep = min(budget, max(2, math.ceil(accept_fraction * budget)))
    order = np.argsort(d, kind="stable")[:n_keep]
    order = order[np.isfinite(d[order])]
    if len(order) < n_keep:
        logger.warning("%d of the %d closest points have an undefined moment and are left out",
                       n_keep - len(order), n_keep)
    if len(order) == 0:
        raise InputError("no design point has every weighted moment defined; widen the box or "
                         "simulate more years", field="budget")
    post = pd.DataFrame({"design_index": order})
    for j, name in enumerate(problem.names):
        post[name] = X[order, j]
    for j, name in enumerate(problem.targets.names):
        post[f"sim_{name}"] = M[order, j]
    post["distance"] = d[order]
    post["rank"] = np.arange(1, len(order) + 1)
    summary = summarise_posterior(post, problem)
    point = dict(zip(summary["parameter"], summary["p50"].astype(float), strict=True))
    return ABCResult(point=point, posterior=post, summary=summary, threshold=float(d[order[-1]]),
                     evaluations=evaluator.table(), n_new=evaluator.n_new,
                     n_reused=evaluator.n_reused)
