"""Method of simulated moments: minimise the distance to the targets by differential evolution.

The objective is :func:`mixsim.calibration.distance.distances` of the replicate-averaged moments,
with common random numbers (the same replicate seeds at every point), so that it is a deterministic
function of the parameters. It is minimised over the prior box by
:func:`scipy.optimize.differential_evolution` (Storn & Price 1997), a population method that
needs no gradient and tolerates the objective's small discontinuities (discrete events):

- seeded (``SeedSequence(seed, spawn_key=(1,))``), ``polish=False`` (no gradient steps on a noisy
  surface), Latin-hypercube initial population, ``updating="deferred"``;
- the population of each generation is evaluated as one batch through the ``workers`` map, which
  :class:`~mixsim.calibration.distance.PointEvaluator` runs on worker processes via
  :func:`mixsim.experiments.sensitivity.evaluate`; the result does not depend on the number of
  workers;
- the budget is a number of parameter points (each ``replicates`` model runs):
  ``popsize`` is :data:`POPSIZE` members per parameter (fewer if the budget would not pay for an
  initial population and two generations) and ``maxiter = budget // members − 1`` generations.
  As the population does not depend on the budget otherwise, a run with budget ``2N`` evaluates
  the same first ``N`` points as a run with budget ``N`` (which a resumed calibration reuses).
  The search can stop before the budget when the population's distances agree (``tol``).

Reference: Storn, R. & Price, K. (1997), "Differential evolution — a simple and efficient
heuristic for global optimization over continuous spaces", Journal of Global Optimization 11,
341–359.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import differential_evolution

from mixsim.calibration.distance import PointEvaluator, Problem
from mixsim.model.errors import InputError

__all__ = ["POPSIZE", "MSMResult", "calibrate_msm", "de_settings"]

#: Members of the population per calibrated parameter (SciPy's default is 15; fewer members and
#: more generations suit the small budgets a simulation model affords).
POPSIZE = 5
#: Distance given to the optimiser for a point with an undefined moment (its table shows inf).
PENALTY = 1e12


@dataclass(frozen=True)
class MSMResult:
    """Outcome of :func:`calibrate_msm`.

    Attributes:
        point: Best point found (dotted name → value).
        distance: Its distance to the targets.
        evaluations: Every point evaluated, in order, with its moments and distance.
        popsize: DE ``popsize`` (members per parameter) used.
        members: Population size.
        maxiter: Generations allowed by the budget.
        generations: Generations run.
        n_new: Points evaluated by this call (model runs = ``n_new × replicates``).
        n_reused: Points found among the stored evaluations.
        message: The optimiser's stopping message.

    """

    point: dict[str, float]
    distance: float
    evaluations: pd.DataFrame
    popsize: int
    members: int
    maxiter: int
    generations: int
    n_new: int
    n_reused: int
    message: str


def de_settings(budget: int, n_parameters: int) -> tuple[int, int, int]:
    """DE ``(popsize, members, maxiter)`` for a budget of parameter points.

    ``members = popsize × n_parameters`` (at least 5, SciPy's minimum); ``popsize`` is
    :data:`POPSIZE`, lowered (to no less than 2) when the budget does not cover the initial
    population and two generations.

    Raises:
        InputError: If the budget does not pay for two generations of 5 members.

    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise InputError(f"got {budget!r}; expected a whole number ≥ 1", field="budget")
    popsize = POPSIZE
    while popsize > 2 and budget < 3 * max(5, popsize * n_parameters):
        popsize -= 1
    members = max(5, popsize * n_parameters)
    if budget < 2 * members:
        raise InputError(f"a budget of {budget} points is too small for {n_parameters} "
                         f"parameter(s); give at least {2 * members}", field="budget")
    return popsize, members, budget // members - 1


class _Abort(Exception):
    """Carries an error out of SciPy, which rewrites map errors as RuntimeError."""


def calibrate_msm(problem: Problem, *, budget: int, n_jobs: int = 1,
                  evaluator: PointEvaluator | None = None, tol: float = 0.01) -> MSMResult:
    """Minimise the distance to the targets over the prior box.

    Args:
        problem: What is calibrated against what (targets, box, replicates, seed).
        budget: Parameter points to evaluate at most (each ``problem.replicates`` runs).
        n_jobs: Worker processes (ignored when ``evaluator`` is given).
        evaluator: Evaluator to use, e.g. holding stored points and a store callback.
        tol: DE relative convergence tolerance on the population's distances.

    Returns:
        The best point and every evaluation.

    Raises:
        InputError: For a budget too small for the number of parameters.

    """
    names = list(problem.names)
    popsize, members, maxiter = de_settings(budget, len(names))
    evaluator = evaluator or PointEvaluator(problem, n_jobs=n_jobs, stage="msm")
    errors: list[BaseException] = []

    def batch(_func, points) -> Sequence[float]:
        try:
            d = evaluator.distances(np.asarray(list(points), dtype=float))
        except Exception as err:  # noqa: BLE001 — re-raised below, outside SciPy
            errors.append(err)
            raise _Abort from err
        return np.minimum(d, PENALTY).tolist()

    rng = np.random.default_rng(problem.search_seed())
    try:
        res = differential_evolution(
            _unused_objective, problem.bounds, popsize=popsize, maxiter=maxiter, tol=tol,
            rng=rng, polish=False, init="latinhypercube", updating="deferred", workers=batch)
    except _Abort:
        raise errors[0] from None
    except RuntimeError:
        if errors:
            raise errors[0] from None
        raise
    point = {n: float(v) for n, v in zip(names, res.x, strict=True)}
    evals = evaluator.table()
    best = float(evaluator.distance_of(res.x))
    return MSMResult(point=point, distance=best, evaluations=evals, popsize=popsize,
                     members=members, maxiter=maxiter, generations=int(res.nit),
                     n_new=evaluator.n_new, n_reused=evaluator.n_reused,
                     message=str(res.message))


def _unused_objective(x: np.ndarray) -> float:
    """Stand in for the objective: DE evaluates through its ``workers`` map, never this."""
    raise AssertionError("differential_evolution evaluates through the workers map")
