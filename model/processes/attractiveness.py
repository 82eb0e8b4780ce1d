"""Attractiveness feedback (ODD §7.7).

Each neighbourhood's attractiveness moves toward
``base − β_poverty·(Q1 share − territory Q1 share) − β_vacancy·social vacancy rate + noise`` with
inertia (``attractiveness_inertia`` months to close 63 % of the gap). Renovation raises ``base``
(policy events). The poverty term makes concentration self-reinforcing; setting both β to zero
removes the feedback.
"""

from __future__ import annotations

import numpy as np

from ..config import Behaviour
from ..jit import njit
from ..state import S_SOCIAL, State


def neighbourhood_q1_shares(state: State) -> tuple[np.ndarray, float]:
    """Share of housed households in income quartile 1, per neighbourhood and overall."""
    hh = state.hh
    tot, q1 = _housed_and_q1(hh.alive, hh.dwelling, hh.nbhd, hh.quartile, len(state.nb))
    overall = q1.sum() / max(1, tot.sum())
    share = np.where(tot > 0, q1 / np.maximum(tot, 1), overall)
    return share, float(overall)


def social_vacancy(state: State) -> np.ndarray:
    """Vacancy rate of the active social stock per neighbourhood (0 where there is none)."""
    dw = state.dw
    tot, vac = _social_and_vacant(dw.sector, dw.active, dw.occupant, dw.nbhd, len(state.nb))
    return vac / np.maximum(tot, 1)


@njit
def _housed_and_q1(alive, dwelling, nbhd, quartile, n_nb):
    """Housed households and those of quartile 1, per neighbourhood."""
    tot = np.zeros(n_nb, np.int64)
    q1 = np.zeros(n_nb, np.int64)
    for i in range(len(alive)):
        if alive[i] and dwelling[i] >= 0:
            tot[nbhd[i]] += 1
            if quartile[i] == 1:
                q1[nbhd[i]] += 1
    return tot, q1


@njit
def _social_and_vacant(sector, active, occupant, nbhd, n_nb):
    """Active social dwellings and the vacant ones among them, per neighbourhood."""
    tot = np.zeros(n_nb, np.int64)
    vac = np.zeros(n_nb, np.int64)
    for d in range(len(sector)):
        if sector[d] == S_SOCIAL and active[d]:
            tot[nbhd[d]] += 1
            if occupant[d] < 0:
                vac[nbhd[d]] += 1
    return tot, vac


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
