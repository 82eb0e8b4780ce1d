"""Experiments on the model: ensembles of scenarios (runner), sensitivity analysis, reports.

>>> from mixsim.experiments import load_experiment, run_experiment
>>> result = run_experiment("experiments/compare_levers.toml", "out/trial", jobs=2,
...                         scale=0.05, years=3, replicates=2)  # doctest: +SKIP
>>> result.summary.head()  # doctest: +SKIP

The names below are imported on first use, so that ``python -m mixsim.experiments.cli`` and the
sub-modules load only what they need.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Experiment": "mixsim.experiments.spec",
    "experiment_from_dict": "mixsim.experiments.spec",
    "load_experiment": "mixsim.experiments.spec",
    "ExperimentError": "mixsim.experiments.runner",
    "ExperimentResult": "mixsim.experiments.runner",
    "run_experiment": "mixsim.experiments.runner",
    "summarise": "mixsim.experiments.summary",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use (PEP 562)."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the exported names with the module's own."""
    return sorted(set(globals()) | set(__all__))
