"""The evaluators (experiments/evaluators.py): same results whatever the backend and workers."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest

from mixsim.experiments import evaluators as ev
from mixsim.model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def draw(seed: int) -> float:
    """A task with its own seed: what every caller of an evaluator does."""
    return float(np.random.default_rng(seed).normal(size=100).sum())


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("task 3 fails")
    return x


def whose(x: int) -> int:
    return os.getpid()


SEEDS = list(range(12))
WANT = [draw(s) for s in SEEDS]


def _evaluators():
    yield "sequential", ev.Sequential()
    yield "loky", ev.Loky(2)
    yield "loky+self", ev.Loky(2, include_self=True)
    yield "threading", ev.Joblib(2, "threading")


@pytest.mark.parametrize("name", ["sequential", "loky", "loky+self", "threading"])
def test_every_evaluator_gives_the_same_results(name):
    evaluator = dict(_evaluators())[name]
    with evaluator:
        assert list(evaluator.map(draw, SEEDS, ordered=True)) == WANT
        # unordered: the same results, in any order
        assert sorted(evaluator.map(draw, SEEDS)) == sorted(WANT)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_results():
    pytest.importorskip("distributed")
    with ev.make_evaluator(2, "dask") as evaluator:
        assert evaluator.n_workers == 2 and evaluator.shares_files
        assert list(evaluator.map(draw, SEEDS, ordered=True)) == WANT


def test_progress_counts_every_result():
    seen = []
    with ev.Loky(2) as evaluator:
        list(evaluator.map(draw, SEEDS, progress=lambda done, total: seen.append((done, total))))
    assert seen == [(i + 1, len(SEEDS)) for i in range(len(SEEDS))]


def test_a_worker_error_reaches_the_caller_as_raised():
    with ev.Loky(2) as evaluator, pytest.raises(ValueError, match="task 3 fails"):
        list(evaluator.map(fail_on_three, range(8)))
    with pytest.raises(ValueError, match="task 3 fails"):
        list(ev.Sequential().map(fail_on_three, range(8)))


def test_loky_uses_worker_processes_and_this_one_with_include_self():
    with ev.Loky(2) as evaluator:
        pids = set(evaluator.map(whose, range(16)))
    assert os.getpid() not in pids
    with ev.Loky(2, include_self=True) as evaluator:
        pids = set(evaluator.map(whose, range(16)))
    assert os.getpid() in pids  # this process takes tasks from the same queue


def test_stopping_early_hands_out_no_more_tasks_and_the_pool_works_again():
    with ev.Loky(2) as evaluator:
        results = evaluator.map(draw, range(200))
        first = next(results)
        results.close()  # what an interrupted caller does
        assert isinstance(first, float)
        assert list(evaluator.map(draw, SEEDS, ordered=True)) == WANT


def test_make_evaluator_picks_the_backend():
    assert isinstance(ev.make_evaluator(1), ev.Sequential)
    assert isinstance(ev.make_evaluator(2), ev.Loky)
    assert isinstance(ev.make_evaluator(2, "loky", include_self=True), ev.Loky)
    assert ev.local_workers(-1) >= 1 and ev.local_workers(3) == 3
    with pytest.raises(InputError, match="backend"):
        ev.make_evaluator(2, "no-such-backend")


#: Names that create worker processes or pools.
POOL_MAKERS = {"ProcessPoolExecutor", "get_memmapping_executor", "get_reusable_executor",
               "LocalCluster", "Parallel", "Pool"}


def test_only_the_evaluators_module_creates_worker_processes():
    """No other module of model/, calibration/, experiments/ calls a pool constructor."""
    offenders = []
    for folder in ("model", "calibration", "experiments"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "experiments" / "evaluators.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    f = node.func
                    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                    if name in POOL_MAKERS:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not offenders, offenders
