"""Indicators computed from the model state: pure functions on arrays (docs/indicators.md)."""

from .segregation import (
    ShareSpread,
    dissimilarity,
    entropy,
    exposure,
    gini,
    isolation,
    share_spread,
    theil_h,
    transition_matrix,
)

__all__ = [
    "ShareSpread",
    "dissimilarity",
    "entropy",
    "exposure",
    "gini",
    "isolation",
    "share_spread",
    "theil_h",
    "transition_matrix",
]
