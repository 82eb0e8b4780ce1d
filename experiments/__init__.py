"""Experiments on the model: ensembles of scenarios (runner), sensitivity analysis, reports.

>>> from experiments import load_experiment, run_experiment
>>> result = run_experiment("experiments/compare_levers.toml", "out/trial", jobs=2,
...                         scale=0.05, years=3, replicates=2)  # doctest: +SKIP
>>> result.summary.head()  # doctest: +SKIP
"""

from .runner import ExperimentError, ExperimentResult, run_experiment
from .spec import Experiment, experiment_from_dict, load_experiment
from .summary import summarise

__all__ = [
    "Experiment",
    "ExperimentError",
    "ExperimentResult",
    "experiment_from_dict",
    "load_experiment",
    "run_experiment",
    "summarise",
]
