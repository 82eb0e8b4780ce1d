"""Test models with analytically known sensitivity indices.

These models check :mod:`mixsim.experiments.sensitivity` against exact values (docs/experiments.md:
"for any callable
model, so it can be checked on a test function with known indices"). Each is a module-level function
following the ``model_fn(**params) -> dict[str, float]`` contract, so it pickles for parallel runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "AnalyticIndices",
    "LINEAR_WEIGHTS",
    "WithNoise",
    "ishigami",
    "ishigami_indices",
    "ishigami_variance",
    "linear",
    "linear_indices",
    "linear_mu_star",
]

#: Weights of :func:`linear`, chosen so that the inputs are clearly ranked (x1 > x2 > x3 > x4).
LINEAR_WEIGHTS: Mapping[str, float] = MappingProxyType({"x1": 5.0, "x2": 3.0, "x3": 1.0, "x4": 0.1})


@dataclass(frozen=True)
class AnalyticIndices:
    """Exact variance-based (Sobol') sensitivity indices of a test model.

    Attributes:
        S1: First-order index of each input, keyed by input name.
        ST: Total-order index of each input, keyed by input name.
        S2: Second-order (pure interaction) index of each pair of inputs, keyed by the pair of names
            in input order; pairs that are absent are zero.

    """

    S1: Mapping[str, float]
    ST: Mapping[str, float]
    S2: Mapping[tuple[str, str], float] = field(default_factory=dict)


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> dict[str, float]:
    """Ishigami–Homma function, the usual benchmark of variance-based sensitivity analysis.

    ``y = sin(x1) + a sin²(x2) + b x3⁴ sin(x1)``, with inputs uniform on ``[-π, π]``.

    Source: Ishigami, T. & Homma, T. (1990), "An importance quantification technique in uncertainty
    analysis for computer models", ISUMA '90, 398–403.

    Args:
        x1: First input (dimensionless, nominally in [-π, π]).
        x2: Second input (dimensionless, nominally in [-π, π]).
        x3: Third input (dimensionless, nominally in [-π, π]).
        a: Weight of the ``sin²(x2)`` term.
        b: Weight of the ``x3⁴ sin(x1)`` interaction term.

    Returns:
        ``{"y": value}``.

    """
    return {"y": math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> AnalyticIndices:
    """Exact Sobol' indices of :func:`ishigami` with inputs uniform on ``[-π, π]³``.

    Partial variances (Sobol', I.M. & Levitan, Y.L. (1999), "On the use of variance reducing
    multipliers in Monte Carlo computations of a global sensitivity index", Computer Physics
    Communications 117, 52–61; also Saltelli et al. (2000), *Sensitivity Analysis*, Wiley)::

        V   = a²/8 + b π⁴/5 + b² π⁸/18 + 1/2
        V1  = (1 + b π⁴/5)² / 2
        V2  = a²/8
        V3  = 0
        V13 = b² π⁸ (1/18 - 1/50) = 8 b² π⁸ / 225
        V12 = V23 = V123 = 0

    so that ``V = V1 + V2 + V13``. For a = 7, b = 0.1: S1 ≈ (0.314, 0.442, 0), ST ≈ (0.558, 0.442,
    0.244), S13 ≈ 0.244.

    Args:
        a: Weight of the ``sin²(x2)`` term.
        b: Weight of the ``x3⁴ sin(x1)`` term.

    Returns:
        The first-order, total-order and second-order indices of x1, x2, x3.

    """
    pi4 = math.pi**4
    pi8 = math.pi**8
    v = a**2 / 8 + b * pi4 / 5 + b**2 * pi8 / 18 + 0.5
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * (1 / 18 - 1 / 50)
    return AnalyticIndices(
        S1={"x1": v1 / v, "x2": v2 / v, "x3": 0.0},
        ST={"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v},
        S2={("x1", "x2"): 0.0, ("x1", "x3"): v13 / v, ("x2", "x3"): 0.0},
    )


def ishigami_variance(a: float = 7.0, b: float = 0.1) -> float:
    """Variance of :func:`ishigami` with inputs uniform on ``[-π, π]³`` (``V`` above)."""
    return a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5


def linear(**x: float) -> dict[str, float]:
    """Linear model ``y = Σ w_i x_i`` with the weights :data:`LINEAR_WEIGHTS`.

    Any subset of the inputs ``x1``…``x4`` may be given; missing ones count as zero.

    Args:
        **x: Input values keyed by name (``x1`` to ``x4``).

    Returns:
        ``{"y": value}``.

    Raises:
        TypeError: If an input name has no weight.

    """
    unknown = sorted(set(x) - set(LINEAR_WEIGHTS))
    if unknown:
        raise TypeError(f"linear() got unexpected inputs {unknown}; known: {list(LINEAR_WEIGHTS)}")
    return {"y": sum(LINEAR_WEIGHTS[name] * value for name, value in x.items())}


def linear_indices(bounds: Mapping[str, tuple[float, float]]) -> AnalyticIndices:
    """Exact Sobol' indices of :func:`linear` with independent uniform inputs.

    For ``y = Σ w_i x_i`` with ``x_i ~ U(l_i, h_i)``, ``V_i = w_i² (h_i - l_i)² / 12`` and there are
    no interactions, so ``S1_i = ST_i = V_i / Σ_j V_j``.

    Args:
        bounds: ``(low, high)`` of each input used, keyed by name.

    Returns:
        The indices of the inputs in ``bounds``.

    """
    partial = {k: LINEAR_WEIGHTS[k] ** 2 * (hi - lo) ** 2 / 12 for k, (lo, hi) in bounds.items()}
    total = sum(partial.values())
    shares = {k: v / total for k, v in partial.items()}
    return AnalyticIndices(S1=dict(shares), ST=dict(shares))


def linear_mu_star(bounds: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """Exact Morris ``mu*`` of :func:`linear`, as SALib computes it.

    SALib divides each output difference by the step in the unit hypercube, so an elementary effect
    of input ``i`` is ``w_i (h_i - l_i)`` whatever the step; hence ``mu* = |w_i| (h_i - l_i)`` and
    ``sigma = 0``.

    Args:
        bounds: ``(low, high)`` of each input used, keyed by name.

    Returns:
        ``mu*`` of each input in ``bounds``.

    """
    return {k: abs(LINEAR_WEIGHTS[k]) * (hi - lo) for k, (lo, hi) in bounds.items()}


class WithNoise:
    """A test model plus Gaussian noise of known variance, reproducible from the replicate.

    ``WithNoise(model, sd)(replicate=r, **x)`` returns ``model(**x)`` with ``sd · z`` added to
    every outcome, ``z`` a standard normal drawn from a generator seeded by:

    * ``shared=True``: ``(seed, r)`` alone: every point gets the same noise on replicate ``r``
      (the case common random numbers cancel exactly);
    * ``shared=False``: ``(seed, r)`` and the bits of the inputs: independent noise at every
      point (the case they cannot help), still the same at the same point and replicate.

    The noise variance of one call is ``sd²``; averaged over ``R`` replicates, ``sd² / R``. A
    picklable class (not a closure), so it runs on joblib or Dask workers.

    Args:
        model: A test model, ``model(**x) -> {outcome: value}``.
        sd: Standard deviation of the noise, >= 0.
        shared: Shared (True) or independent (False) noise, as above.
        seed: Root of the noise streams.

    """

    def __init__(self, model: Callable[..., Mapping[str, float]], sd: float, *,
                 shared: bool = False, seed: int = 0):
        if not sd >= 0:
            raise ValueError(f"sd must be >= 0, got {sd!r}")
        self.model, self.sd, self.shared, self.seed = model, float(sd), bool(shared), int(seed)

    def __call__(self, replicate: int = 0, **x: float) -> dict[str, float]:
        """Run the model at ``x`` and add replicate ``replicate``'s noise."""
        key = [self.seed, int(replicate)]
        if not self.shared:
            bits = np.array([x[k] for k in sorted(x)], dtype=np.float64).view(np.uint64)
            key += [int(b) for b in bits]
        z = np.random.default_rng(key).standard_normal()
        return {k: v + self.sd * float(z) for k, v in self.model(**x).items()}
