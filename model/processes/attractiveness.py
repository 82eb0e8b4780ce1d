"""Attractiveness feedback (SPEC §2.8).

Each neighbourhood's attractiveness moves toward
``base − β_poverty·(Q1 share − territory Q1 share) − β_vacancy·social vacancy rate + noise`` with
inertia (``attractiveness_inertia`` months to close 63 % of the gap). Renovation raises ``base``
(policy events). The poverty term makes concentration self-reinforcing; setting both β to zero
removes the feedback.
"""

from __future__ import annotations

import numpy as np

from ..config import Behaviour
from ..state import S_SOCIAL, State


def neighbourhood_q1_shares(state: State) -> tuple[np.ndarray, float]:
    """Share of housed households in income quartile 1, per neighbourhood and overall."""
    hh = state.hh
    housed = hh.alive & (hh.dwelling >= 0)
    n_nb = len(state.nb)
    tot = np.bincount(hh.nbhd[housed], minlength=n_nb)
    q1 = np.bincount(hh.nbhd[housed & (hh.quartile == 1)], minlength=n_nb)
    overall = q1.sum() / max(1, tot.sum())
    share = np.where(tot > 0, q1 / np.maximum(tot, 1), overall)
    return share, float(overall)


def social_vacancy(state: State) -> np.ndarray:
    """Vacancy rate of the active social stock per neighbourhood (0 where there is none)."""
    dw = state.dw
    soc = (dw.sector == S_SOCIAL) & dw.active
    n_nb = len(state.nb)
    tot = np.bincount(dw.nbhd[soc], minlength=n_nb)
    vac = np.bincount(dw.nbhd[soc & (dw.occupant < 0)], minlength=n_nb)
    return vac / np.maximum(tot, 1)


def update_attractiveness(state: State, beh: Behaviour, rng: np.random.Generator) -> None:
    """Move attractiveness one month toward its target."""
    nb = state.nb
    share, overall = neighbourhood_q1_shares(state)
    target = (nb.base_attractiveness - beh.beta_poverty * (share - overall)
              - beh.beta_vacancy * social_vacancy(state))
    noise = beh.attractiveness_noise * rng.standard_normal(len(nb))
    nb.attractiveness += (target - nb.attractiveness) / beh.attractiveness_inertia + noise


def anchor_base(state: State, beh: Behaviour) -> None:
    """Set intrinsic base attractiveness so that the initial state is at its target.

    The territory gives observed attractiveness, which already includes the effect of today's
    composition and vacancy; the intrinsic base adds those effects back, so that the feedback
    only acts on *changes* of composition and vacancy.
    """
    nb = state.nb
    share, overall = neighbourhood_q1_shares(state)
    nb.base_attractiveness = (nb.attractiveness + beh.beta_poverty * (share - overall)
                              + beh.beta_vacancy * social_vacancy(state))
