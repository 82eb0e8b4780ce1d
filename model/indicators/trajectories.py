"""Residential trajectories of the starting cohort (docs/indicators.md, "upward mobility").

The cohort is every household present at the start. It is followed to the horizon wherever it
goes: into another social dwelling, to the private market, to ownership, or out of the territory.
Neighbourhood classes are QPV / non-QPV and terciles of the neighbourhoods' starting
attractiveness; households that left the territory or died end in the class ``gone``. Transition
matrices between classes follow Clark, van Ham & Coulter (2011, IZA DP 5861), who study moves
between neighbourhood-deprivation classes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .segregation import transition_matrix

QPV_CLASSES = ("qpv", "non_qpv")
TERCILE_CLASSES = ("low", "middle", "high")


def attractiveness_terciles(attractiveness: np.ndarray) -> np.ndarray:
    """Tercile (0 low, 1 middle, 2 high) of each neighbourhood's attractiveness."""
    cuts = np.quantile(attractiveness, [1 / 3, 2 / 3])
    return np.searchsorted(cuts, attractiveness, side="right")


def cohort_transitions(start_nbhd: np.ndarray, end_nbhd: np.ndarray, alive_end: np.ndarray,
                       nbhd_class: np.ndarray, n_classes: int,
                       start_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Transition matrix of a cohort between neighbourhood classes, with ``gone`` as last column.

    Args:
        start_nbhd: Neighbourhood index of each cohort household at the start (−1: no home).
        end_nbhd: Neighbourhood index at the horizon (ignored where not alive).
        alive_end: Whether the household is still in the territory at the horizon.
        nbhd_class: Class of each neighbourhood (0 .. n_classes − 1).
        n_classes: Number of classes.
        start_mask: Optional subset of the cohort (e.g. social tenants at the start).

    Returns:
        Row-normalised shares (n_classes × (n_classes + 1)) and the counts; rows with nobody
        are nan. Households with no neighbourhood at the start (−1) are left out.
    """
    start_nbhd = np.asarray(start_nbhd)
    keep = start_nbhd >= 0
    if start_mask is not None:
        keep &= np.asarray(start_mask, bool)
    s = nbhd_class[start_nbhd[keep]]
    alive = np.asarray(alive_end, bool)[keep]
    e_nb = np.asarray(end_nbhd)[keep]
    e = np.where(alive & (e_nb >= 0), nbhd_class[np.maximum(e_nb, 0)], n_classes)
    shares, counts = transition_matrix(s, e, n_classes + 1, return_counts=True)
    return shares[:n_classes], counts[:n_classes]


def transition_rows(start_nbhd: np.ndarray, start_social: np.ndarray, end_nbhd: np.ndarray,
                    alive_end: np.ndarray, qpv: np.ndarray, attractiveness_start: np.ndarray
                    ) -> list[tuple[str, str, str, str, float]]:
    """Tidy rows ``(scale, unit, register, indicator, value)`` of the cohort's transitions.

    Indicators are named ``transition_<from>_to_<to>`` (shares of the row) for two class
    systems (QPV / non-QPV, attractiveness terciles), for all households and for social tenants
    at the start (suffix ``_social``).
    """
    rows = []
    systems = (("qpv", np.where(qpv, 0, 1), QPV_CLASSES),
               ("tercile", attractiveness_terciles(attractiveness_start), TERCILE_CLASSES))
    for pop, mask in (("", None), ("_social", start_social)):
        for system, cls, names in systems:
            shares, counts = cohort_transitions(start_nbhd, end_nbhd, alive_end, cls,
                                                len(names), mask)
            to_names = list(names) + ["gone"]
            for i, a in enumerate(names):
                rows.append(("epci", "EPCI", "trajectory",
                             f"cohort_{system}_{a}{pop}", float(counts[i].sum())))
                for j, b in enumerate(to_names):
                    rows.append(("epci", "EPCI", "trajectory",
                                 f"transition_{system}_{a}_to_{b}{pop}", float(shares[i, j])))
    return rows


def household_paths(moves: pd.DataFrame) -> pd.DataFrame:
    """One row per household: the ordered neighbourhoods and move kinds of its trajectory.

    Args:
        moves: A run's move log (``RunResult.moves``).

    Returns:
        DataFrame indexed by household with columns ``months``, ``neighbourhoods`` (the starting
        one first, then each destination) and ``kinds``, each a list.
    """
    m = moves.sort_values(["household", "month"], kind="stable")
    g = m.groupby("household", sort=True)
    first = g["from_nbhd"].first()
    return pd.DataFrame({
        "months": g["month"].agg(list),
        "neighbourhoods": [[f] + list(t) for f, t in zip(first, g["to_nbhd"].agg(list),
                                                          strict=True)],
        "kinds": g["kind"].agg(lambda k: [str(x) for x in k]),
    })
