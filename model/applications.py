"""Social-housing applications: opening them with their wishes, the wishes' weights, Q1.

Used by every process that registers applications (move intentions, demography, policy, the
private market) and by the initial population.
"""

from __future__ import annotations

import numpy as np

from .draws import draw_wishes
from .jit import njit
from .state import APP_NONE, HOSTED, S_SOCIAL, State


def commune_weights(state: State) -> np.ndarray:
    """Weight of each commune in applicants' wishes: its social stock."""
    dw = state.dw
    soc = (dw.sector == S_SOCIAL) & dw.active
    per_nb = np.bincount(dw.nbhd[soc], minlength=len(state.nb))
    return np.bincount(state.nb.commune, weights=per_nb, minlength=len(state.commune_ids)) + 1.0


def update_q1_threshold(state: State) -> None:
    """Q1 threshold: first quartile of applicants' income per UC (L441-1 CCH, yearly arrêté)."""
    hh = state.hh
    apps = hh.alive & (hh.app > 0)
    if apps.any():
        state.q1_threshold = float(np.quantile(hh.income_uc[apps], 0.25))


def open_applications(state: State, idx: np.ndarray, kind: int, rng: np.random.Generator,
                      breadth: int) -> None:
    """Register social-housing applications (first application or transfer) with their wishes.

    Households of ``idx`` that already apply are left as they are.
    """
    hh = state.hh
    # priority status (DALO / L441-1 criteria: homelessness, over-crowding with children,
    # very low income...). Assumption [U]: 5 % of applicants, +20 points of probability
    # for low incomes and +15 for households without a home; tuned so that about a quarter of
    # leases go to priority households, the legal target (L441-1 CCH).
    idx, p = _open(hh.app, hh.app_month, hh.refusals, hh.z, hh.tenure,
                   np.asarray(idx, np.int64), kind, state.month)
    if len(idx) == 0:
        return
    u = rng.random(len(idx))
    home = _priority_and_home(hh.priority, hh.nbhd, state.nb.commune, idx, u, p)
    hh.wishes[idx] = draw_wishes(rng, home, breadth, state.commune_w)


@njit
def _open(app, app_month, refusals, z, tenure, idx, kind, month):
    """Open applications for the members of ``idx`` without one; return them and P(priority)."""
    n = 0
    for i in idx:
        if app[i] == APP_NONE:
            n += 1
    out = np.empty(n, np.int64)
    p = np.empty(n)
    n = 0
    for i in idx:
        if app[i] == APP_NONE:
            out[n] = i
            p[n] = 0.05 + 0.20 * (1.0 if z[i] < -0.5 else 0.0) \
                + 0.15 * (1.0 if tenure[i] == HOSTED else 0.0)
            n += 1
    for i in out:
        app[i] = kind
        app_month[i] = month
        refusals[i] = 0
    return out, p


@njit
def _priority_and_home(priority, nbhd, commune, idx, u, p):
    """Priority status drawn (``u`` < ``p``) for new applicants; return their home communes."""
    home = np.empty(len(idx), np.int64)
    for j in range(len(idx)):
        i = idx[j]
        if u[j] < p[j]:
            priority[i] = True
        home[j] = commune[nbhd[i]]
    return home
