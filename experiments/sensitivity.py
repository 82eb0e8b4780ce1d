"""Global sensitivity analysis (Sobol' and Morris) of any callable model, through SALib.

docs/experiments.md: Sobol' (first, total and, on request, second order, with confidence intervals)
and Morris
indices over levers and uncertain parameters, on replicate-averaged outcomes, for *any* callable
model, so that the machinery can be checked on test functions with known indices
(:mod:`mixsim.experiments.testfunctions`).

The model contract
------------------
``model_fn(**params) -> dict[str, float]``: one keyword argument per parameter (a float within its
range), returning a mapping of outcome name to value. Every call must return every outcome, finite.

If ``replicates > 1`` the function is called ``replicates`` times per sample point with an extra
keyword ``replicate`` (``0 .. replicates-1``) and the outcomes are averaged over the replicates. The
model must derive its randomness from ``replicate`` alone (for instance from
``SeedSequence(root_entropy).spawn(replicates)[replicate]``, the root being bound with
:func:`functools.partial`) so that every sample point sees the *same* replicate streams —
common random numbers, which keep the noise from swamping the differences between sample points.
With ``replicates == 1`` no ``replicate`` keyword is passed (a deterministic model need not accept
it).

For parallel runs (``n_jobs != 1``) the model is sent to worker processes (an evaluator of
:mod:`mixsim.experiments.evaluators`: loky by default, or Dask), so it must pickle
with cloudpickle: a module-level function, or a :func:`functools.partial` of one, is safest.

Noise and verdicts
------------------
A stochastic model's replicate-averaged outcome is ``Y(x) = f(x) + ε(x)``. Common random numbers
cancel the part of ``ε`` that every point shares; the rest, of variance ``τ² = σ²/R`` (``σ²``:
one run's, ``R``: replicates averaged), is independent between points. With ``V = Var(Y)`` over
the design, its share is ``η = τ²/V`` (:func:`noise_estimate`, :func:`noise_shares`). For
Saltelli's first-order and Jansen's total estimators (the ones SALib uses; Saltelli et al. 2010,
table 2, estimators (b) and (f)), ``E[(Y_A - Y_ABi)²] / 2 = V_f ST_f + τ²`` and
``E[Y_B (Y_ABi - Y_A)] = V_f S1_f`` (the noise terms are independent of everything else and
cancel in the product), so, dividing by ``V = V_f + τ²``::

    ST = (1 - η) ST_f + η        S1 = (1 - η) S1_f

(``ST_f``, ``S1_f``: the indices of the noise-free ``f``). Noise inflates every total index by
about ``η`` and shrinks first-order indices by ``1 - η``: a parameter with no effect at all has
``ST ≈ η`` and ``S1 ≈ 0``, the *floor*. :func:`index_verdict` compares each index's bootstrap
interval ``value ± conf`` with that floor: ``signal`` when the interval lies above it,
``noise-dominated`` when its top is within ``η`` of it (the parameter's share is at most the
noise's) or when ``η >= 0.5``, ``uncertain`` otherwise. :func:`convergence_verdict` calls an
index converged when doubling ``n`` moves it by at most ``0.05``. :func:`pilot_guidance` turns a
pilot's noise and design variances into the replicates (or scale) that bring ``η`` under a
threshold.

Seeds
-----
One :class:`numpy.random.SeedSequence` built from ``seed`` is spawned into a sampler seed and an
analyser (bootstrap) seed; its entropy and spawn key are stored in ``df.attrs["seed_entropy"]`` and
``df.attrs["seed_spawn_key"]``, so any run can be repeated exactly by passing
``SeedSequence(entropy, spawn_key=key)`` (or just the entropy, for an int seed) back as ``seed``.
The same seed gives the same sample and the same bootstrap intervals; results do not depend on
``n_jobs``. The sampler and analyser are SALib's; no global random state is used.

References: Saltelli, A. et al. (2010), "Variance based sensitivity analysis of model output. Design
and estimator for the total sensitivity index", Computer Physics Communications 181, 259–270;
Morris, M.D. (1991), "Factorial sampling plans for preliminary computational experiments",
Technometrics 33, 161–174; Campolongo, F., Cariboni, J. & Saltelli, A. (2007), Environmental
Modelling & Software 22, 1509–1518 (``mu*``).
"""

from __future__ import annotations

import functools
import logging
import math
import numbers
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from mixsim.model.errors import InputError
from mixsim.model.ranges import parse_range

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "METHODS",
    "Method",
    "ModelOutputError",
    "analyze",
    "CONVERGENCE_TOL",
    "NOISE_DOMINATED_SHARE",
    "VERDICTS",
    "convergence",
    "convergence_verdict",
    "evaluate",
    "index_verdict",
    "noise_estimate",
    "noise_shares",
    "pilot_guidance",
    "plot_indices",
    "second_order_indices",
    "verdicts",
]

logger = logging.getLogger(__name__)

ModelFn = Callable[..., Mapping[str, float]]
Progress = Callable[[int, int], None]

#: Default base sample size: Sobol' base samples (``n (D + 2)`` points, ``n (2D + 2)`` with second
#: order) or Morris trajectories (``n (D + 1)`` points).
DEFAULT_N: Mapping[str, int] = MappingProxyType({"sobol": 1024, "morris": 100})

#: Rows per parallel task, as a share of the work: about this many tasks per worker.
_TASKS_PER_WORKER = 16
#: With a cache, at most this many rows per task, so that an interruption loses little work.
_CACHED_TASK_ROWS = 8


class ModelOutputError(ValueError):
    """A model evaluation returned no value, or a non-finite one, for an outcome.

    Args:
        message: What is wrong.
        row: Index of the sample row (parameter point) concerned.
        outcome: Name of the outcome concerned, if any.
        replicate: Replicate number concerned, if any.

    """

    def __init__(
        self,
        message: str,
        row: int | None = None,
        outcome: str | None = None,
        replicate: int | None = None,
    ):
        self.row = row
        self.outcome = outcome
        self.replicate = replicate
        super().__init__(message)

    def __reduce__(self):
        """Keep the attributes when the error crosses a process boundary (joblib workers)."""
        return (type(self), (self.args[0], self.row, self.outcome, self.replicate))


# --------------------------------------------------------------------------------------------------
# Methods: sampler and analyser pairs, looked up in an explicit registry.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """Method options shared by samplers and analysers (validated by :func:`analyze`)."""

    second_order: bool
    num_levels: int
    conf_level: float


def _sobol_sample(
    problem: dict, n: int, options: _Options, seed: np.random.Generator
) -> np.ndarray:
    """Saltelli design over a scrambled Sobol' sequence (SALib ``sample.sobol``)."""
    return sobol_sample.sample(problem, n, calc_second_order=options.second_order, seed=seed)


def _sobol_analyze(
    problem: dict, X: np.ndarray, Y: np.ndarray, options: _Options, seed: int
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Sobol' first- and total-order indices (and second order on request) of one outcome."""
    names = problem["names"]
    d = len(names)
    if np.ptp(Y) == 0.0:
        # A constant output has no variance to apportion; SALib's convention (tests/test_sobol.py,
        # test_constant_output) is zero indices and intervals. Its own path would divide by Y.std().
        zeros = np.zeros(d)
        columns = {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
        s2 = s2_conf = np.zeros((d, d))
    else:
        si = sobol_analyze.analyze(
            problem,
            Y,
            calc_second_order=options.second_order,
            conf_level=options.conf_level,
            print_to_console=False,
            seed=seed,
        )
        columns = {k: np.asarray(si[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        if options.second_order:
            s2, s2_conf = np.asarray(si["S2"]), np.asarray(si["S2_conf"])
    if not options.second_order:
        return columns, []
    pairs = [
        {
            "parameter_1": names[j],
            "parameter_2": names[k],
            "S2": float(s2[j, k]),
            "S2_conf": float(s2_conf[j, k]),
        }
        for j in range(d)
        for k in range(j + 1, d)
    ]
    return columns, pairs


def _morris_sample(
    problem: dict, n: int, options: _Options, seed: np.random.Generator
) -> np.ndarray:
    """Morris trajectories on a ``num_levels`` grid (SALib ``sample.morris``)."""
    return morris_sample.sample(problem, n, num_levels=options.num_levels, seed=seed)


def _morris_analyze(
    problem: dict, X: np.ndarray, Y: np.ndarray, options: _Options, seed: int
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Morris ``mu``, ``mu*`` (with bootstrap interval) and ``sigma`` of one outcome."""
    si = morris_analyze.analyze(
        problem,
        X,
        Y,
        num_levels=options.num_levels,
        conf_level=options.conf_level,
        print_to_console=False,
        seed=seed,
    )
    columns = {
        k: np.asarray(si[k], dtype=float) for k in ("mu", "mu_star", "mu_star_conf", "sigma")
    }
    return columns, []


@dataclass(frozen=True)
class Method:
    """A sensitivity method: its SALib sampler and analyser and the columns it reports.

    Attributes:
        name: Registry key.
        sample: ``(problem, n, options, rng) -> X``.
        analyze: ``(problem, X, Y, options, seed) -> (columns, second-order records)``.
        columns: Index columns of the result frame, in order.
        indices: The columns that are point estimates (compared by :func:`convergence`).
        conf: Confidence half-width column of each index column that has one.
        group: ``(D, options) -> rows`` of the smallest self-contained block of the design (a
            Sobol' base sample, a Morris trajectory): a block with a failed point is left out.

    """

    name: str
    sample: Callable[..., np.ndarray]
    analyze: Callable[..., tuple[dict[str, np.ndarray], list[dict[str, Any]]]]
    columns: tuple[str, ...]
    indices: tuple[str, ...]
    conf: Mapping[str, str]
    group: Callable[[int, _Options], int] = lambda d, options: 1


#: Registry of methods accepted by :func:`analyze`.
METHODS: Mapping[str, Method] = MappingProxyType(
    {
        "sobol": Method(
            name="sobol",
            sample=_sobol_sample,
            analyze=_sobol_analyze,
            columns=("S1", "S1_conf", "ST", "ST_conf"),
            indices=("S1", "ST"),
            conf={"S1": "S1_conf", "ST": "ST_conf"},
            # the Saltelli rows of one base sample: A, AB_1..AB_D, (BA_1..BA_D), B
            group=lambda d, options: 2 * d + 2 if options.second_order else d + 2,
        ),
        "morris": Method(
            name="morris",
            sample=_morris_sample,
            analyze=_morris_analyze,
            columns=("mu", "mu_star", "mu_star_conf", "sigma"),
            indices=("mu", "mu_star", "sigma"),
            conf={"mu_star": "mu_star_conf"},
            group=lambda d, options: d + 1,  # one trajectory
        ),
    }
)


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_parameters(parameters: Mapping[str, Sequence[float]]) -> tuple[list[str], np.ndarray]:
    """Return the parameter names (in mapping order) and a ``(D, 2)`` array of bounds."""
    if not isinstance(parameters, Mapping):
        raise InputError(
            f"must be a mapping of name to (low, high), got {type(parameters).__name__}",
            field="parameters",
        )
    if not parameters:
        raise InputError("is empty: give at least one name -> (low, high)", field="parameters")
    names: list[str] = []
    bounds: list[tuple[float, float]] = []
    for name, rng in parameters.items():
        where = f"parameters[{name!r}]"
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError("a parameter name must be a valid Python identifier", field=where)
        if name == "replicate":
            raise InputError("'replicate' is reserved for the replicate number", field=where)
        low, high = parse_range(rng, source=None, field=where).as_tuple()
        names.append(name)
        bounds.append((low, high))
    return names, np.array(bounds)


def _check_n(n: object, method: str) -> int:
    if not _is_int(n) or n < 1:
        raise InputError(f"must be an integer >= 1, got {n!r}", field="n")
    n = int(n)
    if method == "sobol" and n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise InputError(
            f"must be a power of two for method='sobol' (balance of the Sobol' sequence), "
            f"got {n}; nearest powers of two: {lower} or {2 * lower}",
            field="n",
        )
    return n


def _check_options(
    *,
    method: object,
    n: object,
    n_jobs: object,
    replicates: object,
    second_order: object,
    num_levels: object,
    conf_level: object,
    outcomes: object,
    progress: object,
) -> tuple[Method, int, list[str] | None]:
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"unknown method {method!r}; allowed: {sorted(METHODS)}", field="method")
    n = _check_n(DEFAULT_N[method] if n is None else n, method)
    _check_run_options(n_jobs=n_jobs, replicates=replicates, progress=progress)
    if not isinstance(second_order, bool):
        raise InputError(f"must be True or False, got {second_order!r}", field="second_order")
    if second_order and method != "sobol":
        raise InputError(
            "second-order indices are only available with method='sobol'", field="second_order"
        )
    if method == "morris" and (not _is_int(num_levels) or num_levels < 2 or num_levels % 2):
        raise InputError(f"must be an even integer >= 2, got {num_levels!r}", field="num_levels")
    if not (isinstance(conf_level, numbers.Real) and 0 < conf_level < 1):
        raise InputError(
            f"must be strictly between 0 and 1, got {conf_level!r}", field="conf_level"
        )
    return METHODS[method], n, _check_outcomes(outcomes)


def _check_run_options(*, n_jobs: object, replicates: object, progress: object) -> None:
    if not _is_int(replicates) or replicates < 1:
        raise InputError(f"must be an integer >= 1, got {replicates!r}", field="replicates")
    if not _is_int(n_jobs) or n_jobs == 0:
        raise InputError(
            f"must be a non-zero integer (1: in-process, k > 1: k workers, -1: all cores), "
            f"got {n_jobs!r}",
            field="n_jobs",
        )
    if progress is not None and not callable(progress):
        raise InputError("must be None or a callable(done, total)", field="progress")


def _check_outcomes(outcomes: object) -> list[str] | None:
    if outcomes is None:
        return None
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if not isinstance(outcomes, Sequence) or not outcomes:
        raise InputError("must be None or a non-empty list of outcome names", field="outcomes")
    if not all(isinstance(o, str) for o in outcomes):
        raise InputError(f"outcome names must be strings, got {list(outcomes)!r}", field="outcomes")
    if len(set(outcomes)) != len(outcomes):
        raise InputError(f"contains duplicates: {list(outcomes)!r}", field="outcomes")
    return list(outcomes)


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


def _call(model_fn: ModelFn, params: dict[str, float], row: int, replicate: int | None) -> Mapping:
    """Call the model once and check that it returned a mapping."""
    out = model_fn(**params) if replicate is None else model_fn(**params, replicate=replicate)
    if not isinstance(out, Mapping):
        raise ModelOutputError(
            f"sample row {row}: model returned {type(out).__name__}, expected a mapping "
            f"outcome -> value",
            row=row,
            replicate=replicate,
        )
    return out


def _value(out: Mapping, outcome: str, row: int, replicate: int | None, params: dict) -> float:
    """One outcome of one call, checked to be present and finite."""
    where = f"sample row {row}" + ("" if replicate is None else f", replicate {replicate}")
    if outcome not in out:
        raise ModelOutputError(
            f"{where}: model returned no value for outcome {outcome!r} "
            f"(returned {sorted(out)}; parameters {params})",
            row=row,
            outcome=outcome,
            replicate=replicate,
        )
    try:
        value = float(out[outcome])
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ModelOutputError(
            f"{where}: outcome {outcome!r} is {out[outcome]!r}, expected a finite number "
            f"(parameters {params})",
            row=row,
            outcome=outcome,
            replicate=replicate,
        )
    return value


def _row_values(
    model_fn: ModelFn,
    params: dict[str, float],
    row: int,
    replicates: int,
    outcomes: Sequence[str],
    first: Mapping | None = None,
) -> np.ndarray:
    """Replicate-averaged outcomes at one point (``first``: output of replicate 0, if run)."""
    reps: Sequence[int | None] = [None] if replicates == 1 else range(replicates)
    total = np.zeros(len(outcomes))
    for k, rep in enumerate(reps):
        out = first if (k == 0 and first is not None) else _call(model_fn, params, row, rep)
        total += [_value(out, o, row, rep, params) for o in outcomes]
    return total / len(reps)


def _evaluate_rows(
    model_fn: ModelFn,
    names: Sequence[str],
    X: np.ndarray,
    start: int,
    replicates: int,
    outcomes: Sequence[str],
    rows: np.ndarray | None = None,
    failures: list[dict[str, Any]] | None = None,
) -> np.ndarray:
    """Replicate-averaged outcomes of sample rows (a top-level, picklable work unit).

    Args:
        model_fn: The model (see the module docstring for the contract).
        names: Parameter names, one per column of ``X``.
        X: Sample rows to run, shape ``(rows, len(names))``.
        start: Index of ``X[0]`` in the full sample (for error messages).
        rows: Indices of all the rows of ``X`` in the full sample (default: consecutive from
            ``start``).
        replicates: Calls per row; ``replicate`` is passed only when > 1.
        outcomes: Outcomes to keep, in column order.
        failures: None to raise on the first failed row; a list to record each failed row
            there (:func:`_failure`) and leave its values NaN.

    Returns:
        Array of shape ``(rows, len(outcomes))``.

    """
    result = np.empty((len(X), len(outcomes)))
    for i, x in enumerate(X):
        params = {name: float(v) for name, v in zip(names, x, strict=True)}
        row = start + i if rows is None else int(rows[i])
        if failures is None:
            result[i] = _row_values(model_fn, params, row, replicates, outcomes)
            continue
        try:
            result[i] = _row_values(model_fn, params, row, replicates, outcomes)
        except Exception as err:  # recorded, the other points go on (like failed runs)
            result[i] = np.nan
            failures.append(_failure(row, params, err))
    return result


def _failure(row: int, params: Mapping[str, float], err: BaseException) -> dict[str, Any]:
    """Describe a failed or undefined evaluation: row, replicate, error, traceback, point."""
    import traceback

    return {"row": int(row), "replicate": getattr(err, "replicate", None),
            "outcome": getattr(err, "outcome", None), "error": f"{type(err).__name__}: {err}",
            "traceback": "".join(traceback.format_exception(err)), **dict(params)}


def evaluate(
    model_fn: ModelFn,
    names: Sequence[str],
    X: np.ndarray,
    *,
    n_jobs: int = 1,
    replicates: int = 1,
    progress: Progress | None = None,
    outcomes: Sequence[str] | None = None,
    cache: str | Path | None = None,
    backend: str | None = None,
    failures: list[dict[str, Any]] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Run the model at every sample row, averaging over replicates.

    The first row runs in-process to learn (and check) the outcomes; the others run in chunks,
    in-process with ``n_jobs == 1`` or on workers otherwise (an evaluator of
    :mod:`mixsim.experiments.evaluators`). The result is in sample order and identical whatever
    ``n_jobs`` and ``backend``.

    With a ``cache`` folder every finished chunk is saved there at once (its rows, their
    parameter values and outcomes); a later call with the same cache reuses the saved rows whose
    parameter values and outcome names match, and runs only the others. An interrupted analysis
    thus resumes, and a Sobol' design at 2n reuses the rows of the design at n it extends. The
    cache does not know the model: the caller keeps one cache per model (the command line keeps
    it in the output folder, whose specification it checks).

    Args:
        model_fn: ``model_fn(**params[, replicate=r]) -> {outcome: value}`` (see module docstring).
        names: Parameter names, one per column of ``X``.
        X: Sample, shape ``(rows, len(names))``, in model units.
        n_jobs: 1 to run in-process, ``k > 1`` for ``k`` workers, -1 for all CPUs.
        replicates: Model calls per row, averaged (common random numbers via ``replicate``).
        progress: Optional ``progress(done, total)`` called as rows finish, ``done`` counting sample
            rows (each ``replicates`` model calls) out of ``total = len(X)``.
        outcomes: Outcomes to keep, in this order; by default all outcomes of the first row, in the
            order the model returns them.
        cache: Folder of saved evaluations (created if needed), or None.
        backend: backend of the parallel runs (``n_jobs != 1``): None or ``"loky"`` for
            joblib's loky process pool on this machine, ``"dask"`` for a Dask
            distributed cluster (the current ``distributed.Client``; ``n_jobs=-1`` uses all its
            workers), or any registered joblib backend. The result does not depend on it.
        failures: None (the default) to raise on the first failed evaluation; a list to record
            every failed or undefined (non-finite) evaluation there (one dict per sample row:
            ``row``, ``replicate``, ``outcome``, ``error``, ``traceback`` and the parameter
            values) and leave its row NaN in ``Y``. Failed rows are not saved in the cache, so a
            later call retries them. Row 0 must succeed when ``outcomes`` is None (it names the
            outcomes).

    Returns:
        ``(Y, outcome_names)`` with ``Y`` of shape ``(rows, len(outcome_names))``.

    Raises:
        InputError: If ``X`` has the wrong shape, an option is invalid or a requested outcome is not
            returned by the model (both subclass ``ValueError``).
        ModelOutputError: If a call returns no value or a non-finite value for an outcome; the
            message names the sample row, replicate and outcome.

    """
    _check_run_options(n_jobs=n_jobs, replicates=replicates, progress=progress)
    X = np.asarray(X, dtype=float)
    names = list(names)
    if X.ndim != 2 or X.shape[1] != len(names) or len(X) == 0:
        raise InputError(
            f"must be a non-empty 2-D array with {len(names)} columns (one per parameter), "
            f"got shape {X.shape}",
            field="X",
        )
    requested = _check_outcomes(outcomes)
    total = len(X)
    store = _EvaluationCache(cache) if cache is not None else None
    saved_names, saved = store.load(X) if store is not None else (None, {})
    if requested is None and saved_names is not None and 0 in saved:
        requested = saved_names  # the outcomes the model returned at row 0 when it was saved
    if requested is not None and saved_names is not None and list(saved_names) != requested:
        saved = {}  # saved for other outcomes

    done_rows = np.zeros(total, bool)
    if 0 in saved:
        selected = requested
        Y = np.empty((total, len(selected)))
    else:
        # First row in-process: it fixes the outcome names and fails fast on a bad specification.
        params0 = {name: float(v) for name, v in zip(names, X[0], strict=True)}
        try:
            first = _call(model_fn, params0, 0, None if replicates == 1 else 0)
        except Exception as err:
            if failures is None or requested is None:
                raise
            failures.append(_failure(0, params0, err))
            first = None
        if first is None:
            selected = requested
        elif requested is None:
            selected = [str(k) for k in first]
            if not selected:
                raise ModelOutputError("sample row 0: model returned no outcomes", row=0)
        else:
            missing = [o for o in requested if o not in first]
            if missing:
                raise InputError(
                    f"requested {missing} not returned by the model; it returns {sorted(first)}",
                    field="outcomes",
                )
            selected = requested
        if saved_names is not None and list(saved_names) != selected:
            saved = {}  # saved for other outcomes
        Y = np.empty((total, len(selected)))
        if first is None:
            Y[0] = np.nan
        elif failures is None:
            Y[0] = _row_values(model_fn, params0, 0, replicates, selected, first=first)
        else:
            try:
                Y[0] = _row_values(model_fn, params0, 0, replicates, selected, first=first)
            except Exception as err:
                Y[0] = np.nan
                failures.append(_failure(0, params0, err))
        if store is not None and np.isfinite(Y[0]).all():
            store.save(np.array([0]), X[:1], Y[:1], selected)
    for row, values in saved.items():
        Y[row] = values
        done_rows[row] = True
    done_rows[0] = True
    done = int(done_rows.sum())
    if saved:
        logger.info("%d of %d sample rows reused from %s", len(saved), total, cache)
    if progress is not None:
        progress(done, total)

    todo = np.flatnonzero(~done_rows)
    if len(todo) == 0:
        return Y, selected
    from mixsim.experiments.evaluators import current_dask_client, make_evaluator
    client = current_dask_client() if backend == "dask" and n_jobs != 1 else None
    evaluator = (make_evaluator(1) if n_jobs == 1
                 else make_evaluator(n_jobs, backend, client=client))
    if n_jobs == 1:
        size = 1  # one row per chunk, in-process: the finest progress and no pickling
    else:
        size = max(1, math.ceil(len(todo) / (evaluator.n_workers * _TASKS_PER_WORKER)))
        if store is not None:
            size = min(size, _CACHED_TASK_ROWS)
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    logger.debug("evaluating %d rows in %d chunks on %d workers", len(todo), len(chunks),
                 evaluator.n_workers)
    task = functools.partial(_evaluate_chunk, model_fn, names, replicates, selected,
                             failures is not None)
    with evaluator:
        blocks = evaluator.map(task, [(rows, X[rows]) for rows in chunks])
        try:
            _store_blocks(blocks, Y, failures, store, X, selected, done, total, progress)
        finally:
            blocks.close()
    return Y, selected


def _store_blocks(blocks: Any, Y: np.ndarray, failures: list[dict[str, Any]] | None,
                  store: _EvaluationCache | None, X: np.ndarray, selected: list[str], done: int,
                  total: int, progress: Progress | None) -> None:
    """Place each evaluated chunk in ``Y`` (by its rows), save it, report progress."""
    for rows, block, failed in blocks:
        Y[rows] = block
        if failures is not None:
            failures.extend(failed)
        if store is not None:
            ok = np.isfinite(block).all(axis=1)  # failed rows are retried by a later call
            if ok.any():
                store.save(rows[ok], X[rows[ok]], block[ok], selected)
        done += len(rows)
        if progress is not None:
            progress(done, total)


def _evaluate_chunk(
    model_fn: ModelFn,
    names: Sequence[str],
    replicates: int,
    outcomes: Sequence[str],
    record: bool,
    chunk: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """:func:`_evaluate_rows` on a chunk ``(rows, X[rows])``; return the rows, values, failures."""
    rows, X = chunk
    failures: list[dict[str, Any]] | None = [] if record else None
    values = _evaluate_rows(model_fn, names, X, int(rows[0]), replicates, outcomes, rows,
                            failures)
    return rows, values, failures or []


class _EvaluationCache:
    """Saved evaluations: one ``.npz`` file per finished chunk (rows, parameters, outcomes)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder} exists and is not a folder", field="cache")

    def load(self, X: np.ndarray) -> tuple[list[str] | None, dict[int, np.ndarray]]:
        """Return the saved rows whose parameters equal ``X``'s and their outcome names (or None).

        Only files saved for the outcomes of the file holding row 0 are read; unreadable files
        (a crash while writing leaves none: writes are atomic) are skipped.
        """
        if not self.folder.is_dir():
            return None, {}
        files = sorted(self.folder.glob("rows-*.npz"))
        chunks = []
        for f in files:
            try:
                with np.load(f, allow_pickle=False) as z:
                    chunks.append((z["rows"], z["X"], z["Y"], [str(o) for o in z["outcomes"]]))
            except (OSError, ValueError, KeyError) as err:
                logger.warning("skipping unreadable saved evaluations %s: %s", f, err)
        names = next((c[3] for c in chunks if 0 in c[0]), chunks[0][3] if chunks else None)
        out: dict[int, np.ndarray] = {}
        for rows, x, y, outcomes in chunks:
            if outcomes != names or x.shape[1:] != X.shape[1:] or y.shape[1] != len(outcomes):
                continue
            for r, xr, yr in zip(rows.tolist(), x, y, strict=True):
                if 0 <= r < len(X) and np.array_equal(xr, X[r]):
                    out[r] = yr
        return names, out

    def save(self, rows: np.ndarray, X: np.ndarray, Y: np.ndarray, outcomes: Sequence[str]
             ) -> None:
        """Save one finished chunk (atomic: a temporary file renamed into place)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"rows-{int(rows[0]):07d}-{int(rows[-1]):07d}.npz"
        fd, tmp = tempfile.mkstemp(prefix=".rows-", suffix=".npz", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, rows=np.asarray(rows, np.int64), X=X, Y=Y,
                         outcomes=np.array(list(outcomes), dtype=str))
            mask = os.umask(0o022)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)  # mkstemp's 0600 → the user's usual mode
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


# --------------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------------


def _root_seed(seed: int | Sequence[int] | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """Return a fresh root SeedSequence (a given one is copied: spawning must not alter it)."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
    return np.random.SeedSequence(seed)


def _derived_seeds(seed: int | Sequence[int] | np.random.SeedSequence | None):
    """Root SeedSequence, sampler Generator and analyser integer seed."""
    root = _root_seed(seed)
    sample_ss, analyze_ss = root.spawn(2)
    # SALib's sobol.analyze tests `if seed:` and falls back to numpy's global state on 0, so the
    # analyser seed is kept in [1, 2**32].
    analyze_seed = int(analyze_ss.generate_state(1, dtype=np.uint32)[0]) + 1
    return root, np.random.default_rng(sample_ss), analyze_seed


def analyze(
    model_fn: ModelFn,
    parameters: Mapping[str, tuple[float, float]],
    *,
    method: str = "sobol",
    n: int | None = None,
    seed: int | Sequence[int] | np.random.SeedSequence | None = None,
    n_jobs: int = 1,
    replicates: int = 1,
    second_order: bool = False,
    num_levels: int = 4,
    outcomes: Sequence[str] | None = None,
    progress: Progress | None = None,
    conf_level: float = 0.95,
    cache: str | Path | None = None,
    backend: str | None = None,
    failures: list[dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Sobol' or Morris sensitivity indices of a model's outcomes to uniform parameters.

    Parameters are independent and uniform on their ranges. The model contract (``replicate``
    keyword, common random numbers) is in the module docstring.

    Args:
        model_fn: ``model_fn(**params[, replicate=r]) -> {outcome: value}``.
        parameters: ``name -> (low, high)``, in model units; the order is kept in the result.
        method: ``"sobol"`` (variance-based; Saltelli design on a scrambled Sobol' sequence) or
            ``"morris"`` (elementary effects screening).
        n: Sobol': base sample size, a power of two (``n (D + 2)`` points, ``n (2D + 2)`` with
            second order; default 1024). Morris: number of trajectories (``n (D + 1)`` points;
            default 100). Each point costs ``replicates`` model calls.
        seed: Root seed (int, entropy, SeedSequence, or None for fresh entropy); see the module
            docstring.
        n_jobs: 1 to run in-process, ``k > 1`` for ``k`` workers, -1 for all CPUs.
        replicates: Model calls per point, averaged; ``replicate`` is passed only when > 1.
        second_order: Sobol' only: also estimate second-order indices (a larger design), read them
            with :func:`second_order_indices`.
        num_levels: Morris only: number of grid levels, even.
        outcomes: Outcomes to analyse, in this order; default all that the model returns.
        progress: Optional ``progress(done, total)`` called as sample points finish.
        conf_level: Confidence level of the bootstrap intervals (``*_conf`` are half-widths).
        cache: Folder where evaluations are saved as they finish and reused by a later call
            (resuming an interrupted analysis); see :func:`evaluate`.
        backend: backend of the parallel runs (e.g. ``"dask"``); see :func:`evaluate`.
        failures: None (the default) to raise on the first failed evaluation; a list to record
            failed or undefined evaluations there (see :func:`evaluate`) and go on: each
            outcome's indices then use the design's complete blocks only (Sobol' base samples,
            Morris trajectories, see :attr:`Method.group`), and the result has two more columns,
            ``n_missing`` (points without a value) and ``n_used`` (points the indices use);
            indices are NaN when fewer than two blocks are complete.

    Returns:
        One row per (outcome, parameter). Sobol': ``outcome, parameter, S1, S1_conf, ST, ST_conf``.
        Morris: ``outcome, parameter, mu, mu_star, mu_star_conf, sigma``. ``df.attrs`` holds
        ``method``, ``n``, ``n_points``, ``replicates``, ``conf_level``, ``seed_entropy``,
        ``seed_spawn_key``, ``bounds``, ``output_variance`` (``{outcome: variance of the
        replicate-averaged outcome over the design}``, the denominator of the noise share, see
        :func:`noise_shares`) and, with ``second_order=True``, ``second_order`` (records,
        see :func:`second_order_indices`). Every outcome is analysed with the same bootstrap seed,
        so an outcome's indices do not depend on which other outcomes are analysed.

    Raises:
        InputError: (a ``ValueError``) on an invalid specification, naming the argument: empty
            parameters, a range that is not two finite numbers or has low >= high, an unknown
            method, n < 1 or (Sobol') not a power of two, replicates < 1, an outcome the model does
            not return, ...
        ModelOutputError: (a ``ValueError``) if a model call returns a missing or non-finite
            outcome, naming the sample row and outcome.

    """
    names, bounds = _check_parameters(parameters)
    spec, n, requested = _check_options(
        method=method,
        n=n,
        n_jobs=n_jobs,
        replicates=replicates,
        second_order=second_order,
        num_levels=num_levels,
        conf_level=conf_level,
        outcomes=outcomes,
        progress=progress,
    )
    options = _Options(
        second_order=second_order, num_levels=num_levels, conf_level=float(conf_level)
    )
    root, sample_rng, analyze_seed = _derived_seeds(seed)
    problem = {"num_vars": len(names), "names": list(names), "bounds": bounds.tolist()}

    X = spec.sample(problem, n, options, sample_rng)
    logger.info(
        "%s sensitivity: %d parameters, %d points x %d replicates, seed entropy %s",
        spec.name,
        len(names),
        len(X),
        replicates,
        root.entropy,
    )
    Y, outcome_names = evaluate(
        model_fn,
        names,
        X,
        n_jobs=n_jobs,
        replicates=replicates,
        progress=progress,
        outcomes=requested,
        cache=cache,
        backend=backend,
        failures=failures,
    )

    frames = []
    second: list[dict[str, Any]] = []
    group = spec.group(len(names), options)
    for j, outcome in enumerate(outcome_names):
        y, x = Y[:, j], X
        extra: dict[str, int] = {}
        if failures is not None:
            complete = np.isfinite(y).reshape(-1, group).all(axis=1)
            keep = np.repeat(complete, group)
            extra = {"n_missing": int((~np.isfinite(y)).sum()), "n_used": int(keep.sum())}
            if not keep.all():
                logger.warning("outcome %r: %d of %d points have no value; the indices use "
                               "the %d complete blocks of %d", outcome, extra["n_missing"],
                               len(y), int(complete.sum()), len(complete))
            y, x = y[keep], X[keep]
        if failures is not None and len(y) < 2 * group:
            columns = {c: np.full(len(names), np.nan) for c in spec.columns}
            pairs = []
        else:
            if np.ptp(y) == 0.0:
                logger.warning("outcome %r is constant over the sample: its indices are zero",
                               outcome)
            columns, pairs = spec.analyze(problem, x, y, options, analyze_seed)
        frame = pd.DataFrame({"outcome": outcome, "parameter": names, **columns, **extra})
        frames.append(frame[["outcome", "parameter", *spec.columns, *extra]])
        second.extend({"outcome": outcome, **pair} for pair in pairs)
    df = pd.concat(frames, ignore_index=True)
    df.attrs.update(
        method=spec.name,
        n=n,
        n_points=len(X),
        replicates=replicates,
        conf_level=float(conf_level),
        seed_entropy=root.entropy,
        seed_spawn_key=tuple(root.spawn_key),
        bounds={name: (float(lo), float(hi)) for name, (lo, hi) in zip(names, bounds, strict=True)},
        output_variance={
            o: float(np.var(Y[:, j], ddof=1)) if len(Y) > 1 else 0.0
            for j, o in enumerate(outcome_names)
        },
    )
    if second_order:
        df.attrs["second_order"] = second
    return df


def second_order_indices(df: pd.DataFrame) -> pd.DataFrame:
    """Second-order Sobol' indices of a result of ``analyze(..., second_order=True)``.

    They are kept in ``df.attrs["second_order"]`` as plain records (so that the attributes survive
    copies and concatenation); this function makes them a frame.

    Args:
        df: A frame returned by :func:`analyze` with ``method="sobol", second_order=True``.

    Returns:
        One row per (outcome, pair of parameters in input order) with columns
        ``outcome, parameter_1, parameter_2, S2, S2_conf``.

    Raises:
        ValueError: If ``df`` was not computed with ``second_order=True``.

    """
    if "second_order" not in df.attrs:
        raise ValueError(
            "no second-order indices: run analyze(..., method='sobol', second_order=True)"
        )
    columns = ["outcome", "parameter_1", "parameter_2", "S2", "S2_conf"]
    return pd.DataFrame(df.attrs["second_order"], columns=columns)


def convergence(
    model_fn: ModelFn,
    parameters: Mapping[str, tuple[float, float]],
    *,
    n: int,
    seed: int | Sequence[int] | np.random.SeedSequence | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Convergence check: the indices at sample sizes ``n`` and ``2n`` and their difference.

    Both runs use the same seed, so the ``2n`` design extends the ``n`` design (same leading Sobol'
    points or Morris trajectories) and the difference measures what the extra points change.

    Args:
        model_fn: The model, as for :func:`analyze`.
        parameters: ``name -> (low, high)``, as for :func:`analyze`.
        n: The smaller sample size (a power of two for Sobol').
        seed: Root seed shared by both runs (None: fresh entropy, stored in ``attrs``).
        **options: Other keyword arguments of :func:`analyze` (``method``, ``n_jobs``,
            ``replicates``, ...).

    Returns:
        One row per (outcome, parameter, index) with columns ``outcome, parameter, index, at_n,
        at_2n, abs_diff, conf_2n, converged`` (``conf_2n``: confidence half-width at ``2n``, NaN
        where the method gives none; ``converged``: see :func:`convergence_verdict`).
        ``attrs`` holds ``method``, ``n``, ``n2``, ``seed_entropy`` and
        ``seed_spawn_key``.

    """
    root = _root_seed(seed)
    small = analyze(model_fn, parameters, n=n, seed=root, **options)
    large = analyze(model_fn, parameters, n=2 * n, seed=root, **options)
    spec = METHODS[small.attrs["method"]]
    keys = ["outcome", "parameter"]
    merged = small.merge(large, on=keys, suffixes=("_n", "_2n"), validate="one_to_one")
    parts = []
    for index in spec.indices:
        conf = spec.conf.get(index)
        parts.append(
            pd.DataFrame(
                {
                    "outcome": merged["outcome"],
                    "parameter": merged["parameter"],
                    "index": index,
                    "at_n": merged[f"{index}_n"],
                    "at_2n": merged[f"{index}_2n"],
                    "abs_diff": (merged[f"{index}_2n"] - merged[f"{index}_n"]).abs(),
                    "conf_2n": merged[f"{conf}_2n"] if conf else np.nan,
                }
            )
        )
    out = convergence_verdict(pd.concat(parts, ignore_index=True))
    # Order: outcome (as analysed), then index (as the method lists them), then parameter.
    outcome_rank = {name: i for i, name in enumerate(pd.unique(small["outcome"]))}
    index_rank = {name: i for i, name in enumerate(spec.indices)}
    rank = out["outcome"].map(outcome_rank) * len(index_rank) + out["index"].map(index_rank)
    out = out.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    out.attrs.update(
        method=spec.name,
        n=n,
        n2=2 * n,
        seed_entropy=root.entropy,
        seed_spawn_key=tuple(root.spawn_key),
    )
    return out


# --------------------------------------------------------------------------------------------------
# Noise: its share of the output variance, index verdicts, convergence verdict, pilot guidance
# --------------------------------------------------------------------------------------------------


class _AtReplicate:
    """``model_fn`` with the replicate number as an ordinary (sampled) parameter ``_replicate``.

    Lets :func:`evaluate` (and its parallel machinery) run chosen replicates one by one instead of
    averaging them: a row ``(params..., r)`` is one call ``model_fn(**params, replicate=r)``.
    """

    def __init__(self, model_fn: ModelFn):
        self.model_fn = model_fn

    def __call__(self, _replicate: float, **params: float) -> Mapping[str, float]:
        """Run replicate ``_replicate`` at ``params``."""
        return self.model_fn(**params, replicate=int(round(_replicate)))


def noise_estimate(
    model_fn: ModelFn,
    points: Sequence[Mapping[str, float]],
    *,
    replicates: int = 8,
    outcomes: Sequence[str] | None = None,
    n_jobs: int = 1,
    backend: str | None = None,
    cache: str | Path | None = None,
) -> pd.DataFrame:
    """Variance of each outcome across replicates, at one or several parameter points.

    Every point is run on replicates ``0 .. replicates-1`` (the streams an analysis with as many
    replicates uses, common random numbers), one call each. With ``Y[i, r]`` the outcome at point
    ``i`` on replicate ``r`` and the decomposition ``Y[i, r] = f_i + c_r + e_ir`` (``c_r``: the
    part of the noise that replicate ``r`` gives every point alike, ``e_ir``: the rest):

    * ``noise_variance`` is the within-point variance ``Var(c) + Var(e)``, pooled over the points
      (unbiased, ``ddof=1``): the noise of one run;
    * ``independent_variance`` (two points or more) is the two-way residual variance
      ``Σ (Y - row mean - column mean + grand mean)² / ((m - 1)(R - 1))``, an unbiased estimate of
      ``Var(e)``: the part that common random numbers do not cancel between design points, the
      one that disturbs the indices. With one point it is NaN.

    ``effective_variance`` is ``independent_variance`` when known, else ``noise_variance`` (an
    upper bound: it counts the shared part too).

    Args:
        model_fn: The model; it must accept the ``replicate`` keyword (module docstring).
        points: Parameter points, ``{name: value}`` each with the same names (the first is
            usually the base point: the scenario's own values).
        replicates: Replicates per point, at least 2.
        outcomes: Outcomes to keep; default all that the model returns.
        n_jobs: Workers, as for :func:`evaluate`.
        backend: backend of the parallel runs, as for :func:`evaluate`.
        cache: Folder of saved evaluations, as for :func:`evaluate` (not the analysis's own: the
            rows here are single replicates).

    Returns:
        One row per outcome: ``outcome, points, replicates, mean, noise_variance,
        independent_variance, effective_variance``. ``attrs["values"]`` holds ``{outcome:
        array (points, replicates)}``.

    Raises:
        InputError: On fewer than 2 replicates, no points, or points with different names.

    """
    if not _is_int(replicates) or replicates < 2:
        raise InputError(f"must be an integer >= 2, got {replicates!r}", field="noise_replicates")
    points = list(points)
    if not points or not all(isinstance(p, Mapping) for p in points):
        raise InputError("must be a non-empty list of {name: value} points", field="points")
    names = list(points[0])
    if any(list(p) != names for p in points):
        raise InputError("every point must give the same parameters, in the same order",
                         field="points")
    m = len(points)
    X = np.array(
        [[float(p[k]) for k in names] + [float(r)] for p in points for r in range(replicates)]
    ).reshape(m * replicates, len(names) + 1)
    Y, outcome_names = evaluate(
        _AtReplicate(model_fn), [*names, "_replicate"], X, n_jobs=n_jobs, outcomes=outcomes,
        cache=cache, backend=backend,
    )
    rows = []
    values = {}
    for j, outcome in enumerate(outcome_names):
        y = Y[:, j].reshape(m, replicates)
        values[outcome] = y
        within = float(np.mean(np.var(y, axis=1, ddof=1)))
        if m >= 2:
            resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
            independent = float(np.sum(resid**2) / ((m - 1) * (replicates - 1)))
        else:
            independent = math.nan
        rows.append(
            {
                "outcome": outcome,
                "points": m,
                "replicates": replicates,
                "mean": float(y.mean()),
                "noise_variance": within,
                "independent_variance": independent,
                "effective_variance": within if math.isnan(independent) else independent,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["values"] = values
    return out


def noise_shares(
    noise: pd.DataFrame, output_variance: Mapping[str, float], replicates: int
) -> dict[str, float]:
    """Share of each outcome's variance over the design that the replicate noise explains.

    ``η = (σ² / R) / V``: ``σ²`` the noise variance of one run (``effective_variance`` of
    :func:`noise_estimate`), ``R`` the replicates averaged per design point, ``V`` the variance of
    the replicate-averaged outcome over the design (``attrs["output_variance"]`` of
    :func:`analyze`). Clipped to ``[0, 1]``; 1 where ``V`` is zero and ``σ²`` is not, 0 where
    both are zero.

    Args:
        noise: A frame returned by :func:`noise_estimate`.
        output_variance: ``{outcome: V}``.
        replicates: ``R``.

    Returns:
        ``{outcome: η}`` for the outcomes in both.

    """
    shares = {}
    for row in noise.itertuples(index=False):
        if row.outcome not in output_variance:
            continue
        tau2 = row.effective_variance / replicates
        total = output_variance[row.outcome]
        if total > 0:
            shares[row.outcome] = float(min(1.0, max(0.0, tau2 / total)))
        else:
            shares[row.outcome] = 1.0 if tau2 > 0 else 0.0
    return shares


#: Index verdicts, from clear to hopeless.
VERDICTS = ("signal", "uncertain", "noise-dominated")
#: Noise share from which an outcome is noise-dominated: its indices are at best ``uncertain``.
NOISE_DOMINATED_SHARE = 0.5
#: Largest change of an index between n and 2n for which it counts as converged.
CONVERGENCE_TOL = 0.05


def index_verdict(index: str, value: float, conf: float, eta: float) -> str:
    """Verdict on one Sobol' index from its bootstrap interval and the noise share ``η``.

    The rule (derived in docs/sensitivity.md, "Noise"): with independent noise of share ``η``
    the total index of a parameter is ``ST = (1 - η) ST_f + η`` and the first-order index
    ``S1 = (1 - η) S1_f`` (``ST_f``, ``S1_f``: the indices of the noise-free model), so noise
    alone gives ``ST = η`` and ``S1 = 0`` — the *floor* (``η`` for ST, 0 for S1). With
    ``lo, hi = value ∓ conf``:

    * if ``η < NOISE_DOMINATED_SHARE``: ``signal`` when ``lo > floor`` (distinguishable from what
      noise alone gives); else ``noise-dominated`` when ``hi <= floor + η`` (whatever the
      parameter adds is at most the noise's own share); else ``uncertain`` (more points ``n``
      would tell);
    * if ``η >= NOISE_DOMINATED_SHARE``: ``noise-dominated``, whatever the interval. The noise
      is then most of the output variance: an index's excess over the floor is the difference of
      two noise-dominated estimates, which the bootstrap interval understates (on Ishigami with
      ``η ≈ 0.97``, ST comes out at 1.06–1.24 ± 0.2, above the floor and above 1).

    Args:
        index: ``"S1"`` or ``"ST"``.
        value: The index.
        conf: Its bootstrap half-width.
        eta: The outcome's noise share.

    Returns:
        One of :data:`VERDICTS`, or ``""`` if ``value``, ``conf`` or ``eta`` is NaN.

    Raises:
        ValueError: If ``index`` is neither ``"S1"`` nor ``"ST"``.

    """
    if index not in ("S1", "ST"):
        raise ValueError(f"no verdict rule for index {index!r}; known: S1, ST")
    if any(math.isnan(v) for v in (value, conf, eta)):
        return ""
    floor = eta if index == "ST" else 0.0
    lo, hi = value - conf, value + conf
    if eta >= NOISE_DOMINATED_SHARE:
        return "noise-dominated"
    if lo > floor:
        return "signal"
    return "noise-dominated" if hi <= floor + eta else "uncertain"


def verdicts(df: pd.DataFrame, shares: Mapping[str, float]) -> pd.DataFrame:
    """Add the noise share and a verdict per Sobol' index to a result of :func:`analyze`.

    Args:
        df: Sobol' indices (columns ``S1, S1_conf, ST, ST_conf``).
        shares: ``{outcome: η}`` (:func:`noise_shares`); an outcome missing gets NaN and no
            verdict.

    Returns:
        A copy with columns ``noise_share``, ``S1_verdict`` and ``ST_verdict`` added (see
        :func:`index_verdict`); ``attrs`` kept.

    Raises:
        ValueError: If ``df`` has no Sobol' columns.

    """
    if not {"S1", "S1_conf", "ST", "ST_conf"} <= set(df.columns):
        raise ValueError("verdicts need Sobol' indices (S1, S1_conf, ST, ST_conf)")
    out = df.copy()
    out["noise_share"] = out["outcome"].map(lambda o: shares.get(o, math.nan)).astype(float)
    for index in ("S1", "ST"):
        out[f"{index}_verdict"] = [
            index_verdict(index, float(v), float(c), float(e))
            for v, c, e in zip(out[index], out[f"{index}_conf"], out["noise_share"], strict=True)
        ]
    return out


def convergence_verdict(conv: pd.DataFrame, tol: float = CONVERGENCE_TOL) -> pd.DataFrame:
    """Mark each index of a convergence table converged when it moved by at most ``tol``.

    An index is ``converged`` when doubling the sample (n → 2n, the 2n design extending the n
    one) changes it by at most ``tol`` (absolute; default 0.05, the threshold of Sarrazin,
    Pianosi & Wagener (2016), "Global Sensitivity Analysis of environmental models: convergence
    and validation", Environmental Modelling & Software 79, 135–152).

    Args:
        conv: A table with an ``abs_diff`` column (:func:`convergence`).
        tol: The threshold, > 0.

    Returns:
        A copy with a boolean ``converged`` column.

    Raises:
        InputError: If ``tol`` is not a positive number.

    """
    if not (isinstance(tol, numbers.Real) and not isinstance(tol, bool) and tol > 0):
        raise InputError(f"must be a number > 0, got {tol!r}", field="convergence_tol")
    out = conv.copy()
    out["converged"] = out["abs_diff"].to_numpy(dtype=float) <= tol
    return out


def pilot_guidance(
    noise: pd.DataFrame,
    design_variance: Mapping[str, float],
    *,
    replicates: int,
    threshold: float = 0.1,
    scale: float | None = None,
) -> pd.DataFrame:
    """How many replicates (or which scale) bring each outcome's noise share under a threshold.

    From a pilot: the noise variance ``σ²`` of one run (:func:`noise_estimate`) and the variance
    ``V_R`` of the outcome over a small design averaged over ``R`` replicates. The signal variance
    is ``V_f = max(V_R - σ²/R, 0)`` (the design variance less the noise it holds) and with ``R'``
    replicates the noise share would be ``η(R') = (σ²/R') / (V_f + σ²/R')``, which is at most
    ``θ`` when ``R' >= σ² (1 - θ) / (θ V_f)``.

    Scale: counting noise (a share among ``N`` households, ``N`` proportional to the scale)
    has a variance about proportional to ``1 / scale``, while ``V_f`` does not depend on it, so
    ``σ²(s') ≈ σ² s / s'``: ``R'`` replicates at scale ``s'`` are worth ``R' s' / s`` at scale
    ``s``. This is an approximation (dynamics may amplify noise differently at other scales);
    confirm the choice with a second pilot.

    Args:
        noise: A frame returned by :func:`noise_estimate`.
        design_variance: ``{outcome: V_R}`` (``attrs["output_variance"]`` of :func:`analyze`).
        replicates: ``R``, the replicates averaged per design point in the pilot design.
        threshold: ``θ``, strictly between 0 and 1.
        scale: The pilot's scale ``s`` (territory scale, 0 < s <= 1), or None for no scale advice.

    Returns:
        One row per outcome: ``outcome, noise_variance, design_variance, signal_variance,
        noise_share`` (at ``R``), ``threshold``, ``replicates_needed`` (at scale ``s``; NaN where
        no signal was seen), and with a scale, ``scale_needed`` (at ``R`` replicates; NaN above 1,
        out of reach) and ``replicates_at_scale_1``.

    Raises:
        InputError: On a threshold outside (0, 1), replicates < 1 or a scale outside (0, 1].

    """
    if not (isinstance(threshold, numbers.Real) and 0 < threshold < 1):
        raise InputError(f"must be strictly between 0 and 1, got {threshold!r}",
                         field="noise_threshold")
    if not _is_int(replicates) or replicates < 1:
        raise InputError(f"must be an integer >= 1, got {replicates!r}", field="replicates")
    if scale is not None and not (isinstance(scale, numbers.Real) and 0 < scale <= 1):
        raise InputError(f"must be in (0, 1], got {scale!r}", field="scale")
    rows = []
    for row in noise.itertuples(index=False):
        if row.outcome not in design_variance:
            continue
        sigma2 = float(row.effective_variance)
        v_r = float(design_variance[row.outcome])
        v_f = max(v_r - sigma2 / replicates, 0.0)
        tau2 = sigma2 / replicates
        share = tau2 / (v_f + tau2) if v_f + tau2 > 0 else 0.0
        # replicates (real) needed at the pilot's scale
        need = sigma2 * (1 - threshold) / (threshold * v_f) if v_f > 0 else math.inf
        if sigma2 == 0:
            need = 1.0
        rec = {
            "outcome": row.outcome,
            "noise_variance": sigma2,
            "design_variance": v_r,
            "signal_variance": v_f,
            "noise_share": share,
            "threshold": float(threshold),
            "replicates_needed": _ceil_or_nan(need),
        }
        if scale is not None:
            s_need = scale * need / replicates
            rec["scale_needed"] = s_need if s_need <= 1 else math.nan
            rec["replicates_at_scale_1"] = _ceil_or_nan(need * scale)
        rows.append(rec)
    return pd.DataFrame(rows)


def _ceil_or_nan(x: float) -> float:
    """``max(1, ceil(x))`` (with a small tolerance for rounding), NaN for infinity."""
    return float(max(1, math.ceil(x - 1e-9))) if math.isfinite(x) else math.nan


# --------------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------------


def plot_indices(df: pd.DataFrame, outcome: str, ax: Axes | None = None) -> Figure:
    """Horizontal bar chart of one outcome's indices with their confidence intervals.

    Sobol': S1 and ST side by side per parameter, error bars ``±S1_conf`` / ``±ST_conf``. Morris:
    ``mu*`` with ``±mu_star_conf``. Uses no pyplot state, so it works under any backend (Agg).

    When ``df`` carries the verdicts (:func:`verdicts`: ``noise_share``, ``S1_verdict``,
    ``ST_verdict``), the chart shows them too: a dashed line at the noise floor of the total
    indices (``ST = η``, what a parameter with no effect gets), the noise share in the title,
    each bar's verdict at its end, and the bars of noise-dominated indices faded, so that the
    eye goes to the indices that stand out from the noise.

    Args:
        df: A frame returned by :func:`analyze`.
        outcome: The outcome to plot.
        ax: Axes to draw into; by default a new figure is made.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: If ``outcome`` is not in ``df`` or ``df`` has no known index columns.

    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    available = list(pd.unique(df["outcome"]))
    if outcome not in available:
        raise ValueError(f"outcome {outcome!r} not in the results; available: {available}")
    if {"S1", "ST"} <= set(df.columns):
        bars = [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST")]
        xlabel = "Sobol' index"
    elif "mu_star" in df.columns:
        bars = [("mu_star", "mu_star_conf", "mu*")]
        xlabel = "Morris mu* (outcome units)"
    else:
        raise ValueError("df has neither Sobol' (S1, ST) nor Morris (mu_star) columns")

    rows = df[df["outcome"] == outcome]
    if ax is None:
        fig = Figure(figsize=(6.0, 1.0 + 0.45 * len(rows) * len(bars)), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    y = np.arange(len(rows))
    height = 0.8 / len(bars)
    eta = float(rows["noise_share"].iloc[0]) if "noise_share" in rows.columns else math.nan
    ends: list[float] = []  # right ends of the verdict labels' bars, to make room for them
    handles: list = []  # the legend's, drawn before any bar is faded
    for k, (column, conf, label) in enumerate(bars):
        # First bar on top of each group: the y axis is inverted below.
        pos = y + (k - (len(bars) - 1) / 2) * height
        values, errors = rows[column].to_numpy(dtype=float), rows[conf].to_numpy(dtype=float)
        drawn = ax.barh(pos, values, height=height, xerr=errors, capsize=3, label=label)
        handles.append(Patch(facecolor=drawn.patches[0].get_facecolor(), label=label))
        verdict = f"{column}_verdict"
        if verdict not in rows.columns:
            continue
        for bar, text, v, e, yy in zip(drawn, rows[verdict].fillna(""), values, errors, pos,
                                       strict=True):
            if text == "noise-dominated":
                bar.set_alpha(0.35)
            if text:
                end = max(v + (e if np.isfinite(e) else 0.0), 0.0)  # right of its error bar
                ax.text(end + 0.02, yy, text, va="center", fontsize=7, color="0.3")
                ends.append(end)
    if np.isfinite(eta):
        handles.append(ax.axvline(eta, color="0.3", linestyle="--", linewidth=0.9,
                                  label=f"noise floor of ST (η = {eta:.2f})"))
    if ends:
        ax.set_xlim(right=max(ax.get_xlim()[1], max(ends) + 0.3))
    ax.set_yticks(y, rows["parameter"].tolist())
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    title = str(outcome) if not np.isfinite(eta) else f"{outcome}\nnoise share η = {eta:.2f}"
    ax.set_title(title)
    # Outside the axes: inside, it would hide the verdicts of the top rows.
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.04 - 0.3 / len(rows)),
              fontsize=8)
    return fig
