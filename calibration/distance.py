"""Simulated moments, the distance to the targets, and the evaluation of parameter points.

A *moment* is what the model says about a target: the target's EPCI indicator averaged over the
chosen simulated years (by default every year after the burn-in) in one run, then averaged over
the replicate runs of a parameter point. The distance of a point to the targets is the weighted
sum of squared misfits in units of tolerance (McFadden 1989; Gouriéroux & Monfort 1996, with a
diagonal weighting matrix set by the user's tolerances rather than by the moments' covariance)::

    d(θ) = Σ_i w_i ((m_i(θ) − obs_i) / tol_i)²

so d = 1 for one target one tolerance away and the others exact.

Common random numbers: replicate ``r`` of every parameter point runs on the seed
``SeedSequence(seed, spawn_key=(0, r))``, the same at every point, so differences between points
come from the parameters, not from the draws (the search and design use ``spawn_key=(1,)``).

Parallelism goes through :func:`mixsim.experiments.sensitivity.evaluate` (an evaluator of
:mod:`mixsim.experiments.evaluators`), whose results do not depend on the number of workers.
:class:`PointEvaluator` adds a cache of evaluated points (so a resumed calibration skips them)
and hands every finished chunk to a callback that stores it.

References: McFadden, D. (1989), "A method of simulated moments for estimation of discrete
response models without numerical integration", Econometrica 57, 995–1026; Gouriéroux, C. &
Monfort, A. (1996), *Simulation-Based Econometric Methods*, Oxford University Press.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mixsim.calibration.targets import CalibrationTargets
from mixsim.model.config import Scenario, from_dict
from mixsim.model.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MomentModel",
    "PointEvaluator",
    "Problem",
    "distance",
    "distances",
    "fit_table",
    "plot_fit",
    "replicate_moments",
    "scaled_residuals",
]

#: Spawn-key branch of the replicate seeds (``(MODEL_BRANCH, r)``) and of the search/design seed.
MODEL_BRANCH, SEARCH_BRANCH = 0, 1
#: Suffix of the outcome telling whether a moment was defined in a run (see :class:`MomentModel`).
DEFINED = "__defined"


def to_identifier(name: str) -> str:
    """Dotted parameter name as a keyword (``behaviour.apply_rate`` → ``behaviour__apply_rate``)."""
    return name.replace(".", "__")


def from_identifier(name: str) -> str:
    """Inverse of :func:`to_identifier`."""
    return name.replace("__", ".")


# ------------------------------------------------------------------------------------------------
# Moments and distance: pure functions
# ------------------------------------------------------------------------------------------------


def replicate_moments(yearly: pd.DataFrame, targets: CalibrationTargets, horizon: int
                      ) -> np.ndarray:
    """Moments of one run: each target's indicator averaged over its years.

    Args:
        yearly: ``RunResult.yearly()`` (one row per year, one column per indicator).
        targets: The targets (indicator, years and burn-in).
        horizon: Simulated years of the run.

    Returns:
        One value per target, in order; NaN when the indicator is undefined (NaN) in every
        averaged year (e.g. a wait with no allocation). Years where it is NaN are skipped.

    """
    out = np.empty(len(targets.targets))
    for i, t in enumerate(targets.targets):
        years = list(t.moment_years(targets.burn_in, horizon))
        values = yearly[t.indicator].reindex(years).to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        out[i] = finite.mean() if finite.size else math.nan
    return out


def scaled_residuals(simulated: Sequence[float] | np.ndarray, targets: CalibrationTargets
                     ) -> np.ndarray:
    """Misfits in units of tolerance, ``(simulated − observed) / tolerance``, per target."""
    sim = np.asarray(simulated, dtype=float)
    obs = np.array([t.value for t in targets.targets])
    tol = np.array([t.tolerance for t in targets.targets])
    return (sim - obs) / tol


def distances(simulated: np.ndarray, targets: CalibrationTargets) -> np.ndarray:
    """Distance of each row of moments to the targets, ``Σ w ((sim − obs)/tol)²``.

    Args:
        simulated: Moments, shape ``(points, targets)`` (or one row).
        targets: The targets (values, tolerances, weights).

    Returns:
        One distance per row; ``inf`` where a moment with a positive weight is undefined (NaN).

    """
    sim = np.atleast_2d(np.asarray(simulated, dtype=float))
    w = np.array([t.weight for t in targets.targets])
    z = scaled_residuals(sim, targets)
    used = w > 0
    d = (w[used] * z[:, used] ** 2).sum(axis=1)
    return np.where(np.isnan(d), np.inf, d)


def distance(simulated: Sequence[float] | np.ndarray | Mapping[str, float],
             targets: CalibrationTargets) -> float:
    """Distance of one point's moments (a sequence in target order, or ``{name: value}``)."""
    if isinstance(simulated, Mapping):
        simulated = [simulated[name] for name in targets.names]
    return float(distances(np.asarray(simulated, dtype=float), targets)[0])


# ------------------------------------------------------------------------------------------------
# The calibration problem and its model function
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is calibrated, against what, and how each point is simulated.

    Attributes:
        scenario: Base scenario (territory and scale, horizon, levers, behaviour not calibrated).
        targets: Targets and the prior box of each calibrated parameter.
        replicates: Runs per parameter point, averaged (common random numbers).
        seed: Root seed: replicate ``r`` runs on ``SeedSequence(seed, spawn_key=(0, r))``; the
            optimiser or design draws from ``SeedSequence(seed, spawn_key=(1,))``.

    """

    scenario: Scenario
    targets: CalibrationTargets
    replicates: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.replicates, bool) or not isinstance(self.replicates, int) \
                or self.replicates < 1:
            raise InputError(f"got {self.replicates!r}; expected a whole number ≥ 1",
                             field="replicates")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"got {self.seed!r}; expected a whole number ≥ 0", field="seed")
        for t in self.targets.targets:
            try:
                t.moment_years(self.targets.burn_in, self.scenario.years)
            except InputError as err:
                raise InputError(err.detail, source=self.targets.source,
                                 field=f"targets.{t.name}.years") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Calibrated parameters (dotted names)."""
        return self.targets.parameter_names

    @property
    def bounds(self) -> np.ndarray:
        """Prior box, shape ``(parameters, 2)``."""
        return np.array([self.targets.parameters[n] for n in self.names], dtype=float)

    def replicate_seed(self, replicate: int) -> np.random.SeedSequence:
        """Seed of replicate ``replicate`` (the same at every parameter point)."""
        return np.random.SeedSequence(self.seed, spawn_key=(MODEL_BRANCH, int(replicate)))

    def search_seed(self) -> np.random.SeedSequence:
        """Seed of the optimiser (MSM) or of the design (ABC)."""
        return np.random.SeedSequence(self.seed, spawn_key=(SEARCH_BRANCH,))

    def model_fn(self) -> MomentModel:
        """Return the picklable model function evaluated at every point."""
        return MomentModel(self.scenario.to_dict(), self.targets, self.seed)

    def identity(self) -> dict[str, Any]:
        """Everything that determines the evaluations (the fingerprint of a calibration)."""
        scen = self.scenario.to_dict()
        scen.pop("name"), scen.pop("description")
        for name in self.names:  # the calibrated values come from each point, not the base
            section, key = name.split(".", 1)
            scen[section].pop(key, None)
        return {"scenario": scen, "targets": self.targets.identity(),
                "replicates": self.replicates, "seed": self.seed}

    def scenario_at(self, params: Mapping[str, float]) -> Scenario:
        """Return the base scenario with the calibrated parameters set to ``params``."""
        return self.scenario.with_overrides(dict(params), source="calibration")


class MomentModel:
    """Model function for :func:`mixsim.experiments.sensitivity.evaluate`: moments of one run.

    ``MomentModel(...)(replicate=r, **params)`` runs the base scenario with the parameters (given
    as identifiers, ``behaviour__apply_rate``) on replicate seed ``r`` and returns, per target,
    its moment and ``<name>__defined`` (1 or 0). An undefined moment (NaN) is returned as 0 with
    ``__defined = 0``, since ``evaluate`` requires finite outcomes; averaging both over the
    replicates gives the mean over the replicates where the moment is defined:
    ``mean(value) / mean(defined)``.
    """

    def __init__(self, scenario: Mapping[str, Any], targets: CalibrationTargets, seed: int):
        self.scenario = dict(scenario)
        self.targets = targets
        self.seed = seed

    def outcomes(self) -> list[str]:
        """Outcome names, in order: the moments then their ``__defined`` flags."""
        names = list(self.targets.names)
        return names + [n + DEFINED for n in names]

    def __call__(self, replicate: float = 0, **params: float) -> dict[str, float]:
        """Run one replicate at one parameter point; return its moments."""
        from mixsim.model import run_scenario
        values = {from_identifier(k): float(v) for k, v in params.items()}
        scenario = from_dict(Scenario, self.scenario).with_overrides(values,
                                                                     source="calibration")
        seq = np.random.SeedSequence(self.seed, spawn_key=(MODEL_BRANCH, int(round(replicate))))
        wide = run_scenario(scenario, seed=seq, keep_moves=False).yearly()
        moments = replicate_moments(wide, self.targets, scenario.years)
        out: dict[str, float] = {}
        for name, m in zip(self.targets.names, moments, strict=True):
            out[name] = float(m) if math.isfinite(m) else 0.0
        for name, m in zip(self.targets.names, moments, strict=True):
            out[name + DEFINED] = 1.0 if math.isfinite(m) else 0.0
        return out


def _combine(y: np.ndarray, n_targets: int) -> np.ndarray:
    """Replicate-averaged ``(values, defined)`` columns → mean over defined replicates (or NaN)."""
    values, defined = y[:, :n_targets], y[:, n_targets:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(defined > 0, values / np.where(defined > 0, defined, 1.0), np.nan)


# ------------------------------------------------------------------------------------------------
# Evaluating points, with a cache and a store
# ------------------------------------------------------------------------------------------------


class PointEvaluator:
    """Evaluate parameter points in parallel; remember them; report each finished chunk.

    Points are matched exactly (the same floats): an optimiser or design with the same seed asks
    for the same points again, so a rerun finds them in the cache instead of running the model.

    Args:
        problem: The calibration problem.
        n_jobs: Workers for :func:`mixsim.experiments.sensitivity.evaluate` (1: in-process).
        known: Points evaluated before (a table as returned by :meth:`table`), reused.
        on_chunk: Called with the table of each chunk of newly evaluated points, in order, as soon
            as it is finished (the command line appends it to ``evaluations.parquet``).
        progress: Called with the number of points finished (new or reused) after each step.
        chunk_size: Points per call of ``evaluate`` (default: 4 in-process, 8 per worker in
            parallel: ``evaluate`` runs the first point of a call alone, so longer chunks keep
            the workers busier; shorter ones store points sooner).
        stage: Label written in the ``stage`` column of new points (e.g. ``"msm"``).

    """

    def __init__(self, problem: Problem, *, n_jobs: int = 1, known: pd.DataFrame | None = None,
                 on_chunk: Callable[[pd.DataFrame], None] | None = None,
                 progress: Callable[[int], None] | None = None, chunk_size: int | None = None,
                 stage: str = ""):
        self.problem = problem
        self.n_jobs = n_jobs
        self.on_chunk = on_chunk
        self.progress = progress
        from mixsim.experiments.evaluators import local_workers
        workers = 1 if n_jobs == 1 else local_workers(n_jobs)
        self.chunk_size = chunk_size or (4 if workers == 1 else 8 * workers)
        self.stage = stage
        self.n_new = 0
        self.n_reused = 0
        self._cache: dict[tuple[float, ...], np.ndarray] = {}
        self._frames: list[pd.DataFrame] = []
        self._count = 0
        if known is not None and len(known):
            self._load(known)

    # -- table layout ----------------------------------------------------------------------------

    @property
    def moment_columns(self) -> list[str]:
        """Columns of the simulated moments (``sim_<target>``)."""
        return [f"sim_{n}" for n in self.problem.targets.names]

    def _load(self, known: pd.DataFrame) -> None:
        cols = list(self.problem.names) + self.moment_columns
        missing = [c for c in cols if c not in known.columns]
        if missing:
            raise InputError(f"stored evaluations lack columns {missing}", field="evaluations")
        X = known[list(self.problem.names)].to_numpy(dtype=float)
        M = known[self.moment_columns].to_numpy(dtype=float)
        for x, m in zip(X, M, strict=True):
            self._cache[tuple(x.tolist())] = m
        self._frames.append(known.reset_index(drop=True))
        self._count = len(known)

    def _frame(self, X: np.ndarray, M: np.ndarray) -> pd.DataFrame:
        df = pd.DataFrame({"point": np.arange(self._count, self._count + len(X)),
                           "stage": self.stage})
        for j, name in enumerate(self.problem.names):
            df[name] = X[:, j]
        for j, col in enumerate(self.moment_columns):
            df[col] = M[:, j]
        df["distance"] = distances(M, self.problem.targets)
        return df

    def table(self) -> pd.DataFrame:
        """Every point evaluated so far (stored ones first), with moments and distance."""
        if not self._frames:
            return self._frame(np.empty((0, len(self.problem.names))),
                               np.empty((0, len(self.problem.targets.names))))
        return pd.concat(self._frames, ignore_index=True)

    # -- evaluation ------------------------------------------------------------------------------

    def moments(self, X: np.ndarray) -> np.ndarray:
        """Replicate-averaged moments of each row of ``X`` (NaN where undefined)."""
        from mixsim.experiments.sensitivity import evaluate
        X = np.atleast_2d(np.asarray(X, dtype=float))
        keys = [tuple(x.tolist()) for x in X]
        todo: list[int] = []
        seen: set[tuple[float, ...]] = set()
        for i, k in enumerate(keys):
            if k not in self._cache and k not in seen:
                todo.append(i)
                seen.add(k)
        reused = len(X) - len(todo)
        self.n_reused += reused
        if reused and self.progress is not None:
            self.progress(reused)
        model_fn = self.problem.model_fn()
        ids = [to_identifier(n) for n in self.problem.names]
        n_t = len(self.problem.targets.names)
        for start in range(0, len(todo), self.chunk_size):
            rows = todo[start:start + self.chunk_size]
            Xc = X[rows]
            done = [0]

            def tick(n_done: int, total: int, done: list[int] = done) -> None:
                if self.progress is not None and n_done > done[0]:
                    self.progress(n_done - done[0])
                done[0] = n_done

            Y, _ = evaluate(model_fn, ids, Xc, n_jobs=self.n_jobs,
                            replicates=self.problem.replicates, progress=tick,
                            outcomes=model_fn.outcomes())
            M = _combine(Y, n_t)
            for i, m in zip(rows, M, strict=True):
                self._cache[keys[i]] = m
            frame = self._frame(Xc, M)
            self._count += len(frame)
            self._frames.append(frame)
            self.n_new += len(rows)
            if self.on_chunk is not None:
                self.on_chunk(frame)
        return np.array([self._cache[k] for k in keys]).reshape(len(X), n_t)

    def distances(self, X: np.ndarray) -> np.ndarray:
        """Distance of each row of ``X`` to the targets."""
        return distances(self.moments(X), self.problem.targets)

    def distance_of(self, x: Sequence[float] | np.ndarray) -> float:
        """Distance of a point already evaluated (no model run, not counted as reused)."""
        key = tuple(np.asarray(x, dtype=float).tolist())
        if key not in self._cache:
            raise KeyError(f"point {key} has not been evaluated")
        return float(distances(self._cache[key], self.problem.targets)[0])


# ------------------------------------------------------------------------------------------------
# Fit at one point
# ------------------------------------------------------------------------------------------------


def replicate_table(problem: Problem, params: Mapping[str, float], *, n_jobs: int = 1,
                    replicate_ids: Sequence[int] | None = None) -> np.ndarray:
    """Moments of each replicate at one point, shape ``(replicates, targets)`` (NaN: undefined).

    The replicates run in parallel (one sample row each, through ``evaluate``). Replicate ``r``
    runs on ``SeedSequence(problem.seed, spawn_key=(0, r))``; ``replicate_ids`` (default
    ``range(problem.replicates)``, the search's) chooses which.
    """
    from mixsim.experiments.sensitivity import evaluate
    model_fn = problem.model_fn()
    ids = [to_identifier(n) for n in problem.names] + ["replicate"]
    x = [float(params[n]) for n in problem.names]
    ids_r = range(problem.replicates) if replicate_ids is None else replicate_ids
    X = np.array([x + [float(r)] for r in ids_r])
    Y, _ = evaluate(model_fn, ids, X, n_jobs=n_jobs, replicates=1, outcomes=model_fn.outcomes())
    n_t = len(problem.targets.names)
    return np.where(Y[:, n_t:] > 0, Y[:, :n_t], np.nan)


def fit_table(problem: Problem, params: Mapping[str, float], *, n_jobs: int = 1,
              per_replicate: np.ndarray | None = None) -> pd.DataFrame:
    """Observed against simulated figures at one point (the calibrated one).

    Args:
        problem: The calibration problem.
        params: Value of every calibrated parameter (dotted names).
        n_jobs: Workers for the replicate runs.
        per_replicate: Replicate moments already computed (:func:`replicate_table`).

    Returns:
        One row per target: ``target``, ``indicator``, ``unit``, ``observed``, ``tolerance``,
        ``weight``, ``simulated`` (mean over replicates), ``simulated_p05`` and
        ``simulated_p95`` (90 % interval over the replicates, linear interpolation between
        order statistics: with 3 replicates it nearly spans them), ``residual`` (``(simulated −
        observed) / tolerance``), ``within_tolerance`` (``|simulated − observed| ≤ tolerance``),
        ``contribution`` (the target's term of the distance) and ``source``.

    """
    reps = replicate_table(problem, params, n_jobs=n_jobs) if per_replicate is None \
        else np.asarray(per_replicate, dtype=float)
    rows = []
    for j, t in enumerate(problem.targets.targets):
        col = reps[:, j][np.isfinite(reps[:, j])]
        mean = float(col.mean()) if col.size else math.nan
        lo, hi = (np.quantile(col, [0.05, 0.95]) if col.size else (math.nan, math.nan))
        z = (mean - t.value) / t.tolerance
        rows.append({"target": t.name, "indicator": t.indicator, "unit": t.unit,
                     "observed": t.value, "tolerance": t.tolerance, "weight": t.weight,
                     "simulated": mean, "simulated_p05": float(lo), "simulated_p95": float(hi),
                     "replicates_defined": int(col.size), "residual": z,
                     "within_tolerance": bool(abs(mean - t.value) <= t.tolerance),
                     "contribution": t.weight * z * z if math.isfinite(z) else math.inf,
                     "source": t.source})
    return pd.DataFrame(rows)


def plot_fit(fit: pd.DataFrame, title: str = "Calibration fit") -> Figure:
    """Chart of a fit table: simulated mean and 90 % interval against the observed value.

    The axis is in units of tolerance, ``(simulated − observed) / tolerance``: the observed value
    is at 0 and the band ±1 is the tolerance. Labels give both figures in their units.
    """
    from matplotlib.figure import Figure

    n = len(fit)
    fig = Figure(figsize=(8, 0.55 * n + 1.4))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    tol = fit["tolerance"].to_numpy(float)
    obs = fit["observed"].to_numpy(float)
    mid = (fit["simulated"].to_numpy(float) - obs) / tol
    lo = (fit["simulated_p05"].to_numpy(float) - obs) / tol
    hi = (fit["simulated_p95"].to_numpy(float) - obs) / tol
    ax.axvspan(-1, 1, color="tab:green", alpha=0.12, label="observed ± tolerance")
    ax.axvline(0, color="tab:green", lw=1.2)
    ax.hlines(y, lo, hi, color="tab:blue", lw=2, label="simulated, 90 % interval")
    fitted = fit["weight"].to_numpy(float) > 0 if "weight" in fit else np.ones(n, bool)
    inside = np.abs(mid) <= 1
    for mask, style, label in (
            (fitted & inside, dict(color="tab:blue"), "simulated mean"),
            (fitted & ~inside, dict(color="tab:red"), "mean outside tolerance"),
            (~fitted, dict(color="grey", mfc="white"), "not fitted (weight 0)")):
        if mask.any():
            ax.plot(mid[mask], y[mask], "o", label=label, **style)
    labels = [f"{r.target}{'' if f else ' (not fitted)'}\nobs {r.observed:.3g}, "
              f"sim {r.simulated:.3g}" for r, f in zip(fit.itertuples(), fitted, strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    span = np.nanmax(np.abs(np.r_[lo, hi, mid, 1.5]))
    ax.set_xlim(-1.1 * span, 1.1 * span)
    ax.set_xlabel("(simulated − observed) / tolerance")
    ax.set_title(title)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
