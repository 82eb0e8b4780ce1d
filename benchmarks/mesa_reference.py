"""The allocation process alone as idiomatic Mesa agents, run beside the array engine.

Both engines start from the same 10,000-household state (default territory at scale 0.1). Each
month, the same 1 % of social tenants leave their dwelling and apply again, and the commission
round lets every vacant social dwelling: eligibility (income ceiling of the financing, size, wished
commune, effort rate), cotation ranking, up to three candidates, acceptance draws. The Mesa
version has one ``mesa.Agent`` per household and per dwelling and loops over agents, as a Mesa
user would write it; the array engine is ``mixsim.model.processes.allocation.allocate``.

Run by hand: ``python benchmarks/mesa_reference.py [--months 24]``. It prints the time per
household-month of both and their ratio (the issue asks for ≥ 30×).
"""

from __future__ import annotations

import argparse
import copy
import math
import time

import mesa
import numpy as np

from mixsim.model import HousingModel, Scenario
from mixsim.model.moves import MoveLog, vacate
from mixsim.model.processes.allocation import allocate
from mixsim.model.rules import household_income, household_size, rooms_needed
from mixsim.model.state import (
    HOSTED,
    S_SOCIAL,
    SOCIAL,
    ceiling_resources,
    ceilings_by_financing,
)
from mixsim.model.territory import load_territory


class Household(mesa.Agent):
    """A household as an object (the idiomatic Mesa way)."""

    def __init__(self, model, income, size, ceilings, resources, wishes, score, z):
        super().__init__(model)
        self.income, self.size, self.wishes = income, size, wishes
        self.ceilings, self.resources = ceilings, resources  # PLAI, PLUS, PLS; RFR
        self.score, self.z = score, z
        self.applicant = False
        self.home = None

    def eligible_for(self, d: Dwelling) -> bool:
        if self.resources > self.ceilings[d.financing] or not (
                rooms_needed(self.size) <= d.rooms <= self.size + 1):
            return False
        if not (self.wishes >> d.commune) & 1:
            return False
        apl = max(0.0, min(d.rent, 300 + 60 * (self.size - 1))
                  - 0.35 * max(0.0, self.income / 12 - 500 - 100 * (self.size - 1)))
        return (d.rent + 2.0 * d.area - apl) / max(self.income / 12, 1.0) <= 0.35


class Dwelling(mesa.Agent):
    """A social dwelling as an object."""

    def __init__(self, model, commune, rooms, financing, rent, area, attractiveness):
        super().__init__(model)
        self.commune, self.rooms, self.financing = commune, rooms, financing
        self.rent, self.area, self.attractiveness = rent, area, attractiveness
        self.occupant = None


class MesaAllocation(mesa.Model):
    """Monthly commission round over agent objects."""

    def __init__(self, state, seed: int):
        super().__init__(rng=seed)
        hh, dw, nb = state.hh, state.dw, state.nb
        idx = np.flatnonzero(hh.alive)
        inc = household_income(hh, idx)
        size = household_size(hh, idx)
        ceil = ceilings_by_financing(hh, idx, state.ceiling_index)
        res = ceiling_resources(hh, idx, state.median_income_uc)
        self.households = {}
        for k, i in enumerate(idx):
            a = Household(self, float(inc[k]), int(size[k]), tuple(ceil[:, k].tolist()),
                          float(res[k]), int(hh.wishes[i]),
                          float(state.month - hh.app_month[i]), float(hh.z[i]))
            a.applicant = bool(hh.app[i] > 0)
            self.households[int(i)] = a
        self.dwellings = {}
        for d in np.flatnonzero((dw.sector == S_SOCIAL) & dw.active):
            o = Dwelling(self, int(nb.commune[dw.nbhd[d]]), int(dw.rooms[d]),
                         int(dw.financing[d]), float(dw.rent_m2[d] * dw.area[d]),
                         float(dw.area[d]), float(nb.attractiveness[dw.nbhd[d]]))
            occ = int(dw.occupant[d])
            if occ >= 0:
                o.occupant = self.households[occ]
                self.households[occ].home = o
            self.dwellings[int(d)] = o

    def step(self) -> None:
        """Let every vacant dwelling; count the leases signed in ``self.signed``."""
        applicants = [a for a in self.agents_by_type[Household] if a.applicant]
        signed = 0
        vacant = [d for d in self.agents_by_type[Dwelling] if d.occupant is None]
        self.random.shuffle(vacant)
        for d in vacant:
            cands = sorted((a for a in applicants if a.applicant and a.eligible_for(d)),
                           key=lambda a: -a.score)[:3]
            for a in cands:
                logit = 1.2 + 1.0 * (d.attractiveness - 0.7 * a.z)
                if self.random.random() < 1.0 / (1.0 + math.exp(-logit)):
                    if a.home is not None:
                        a.home.occupant = None
                    d.occupant, a.home, a.applicant = a, d, False
                    signed += 1
                    break
        self.signed = signed


def churn_arrays(state, rng) -> np.ndarray:
    """1 % of social tenants leave and apply again (the same work for both engines)."""
    hh = state.hh
    ten = np.flatnonzero(hh.alive & (hh.tenure == SOCIAL))
    out = rng.choice(ten, size=max(1, len(ten) // 100), replace=False)
    vacate(state, out)
    hh.tenure[out] = HOSTED
    hh.app[out] = 1
    hh.app_month[out] = state.month
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=24)
    args = ap.parse_args()
    model = HousingModel(Scenario(), territory=load_territory(scale=0.1), rng=1)
    state = model.state
    n_hh = int(state.hh.alive.sum())

    arrays = copy.deepcopy(state)
    rng = np.random.default_rng(7)
    leaving = []
    t0 = time.perf_counter()
    leases_arr = 0
    for m in range(args.months):
        arrays.month = m
        leaving.append(churn_arrays(arrays, rng))
        leases_arr += allocate(arrays, model.levers, model.behaviour, rng, MoveLog()).n
    t_arr = time.perf_counter() - t0

    mesa_model = MesaAllocation(state, seed=7)
    t0 = time.perf_counter()
    leases_mesa = 0
    for out in leaving:
        for i in out:
            a = mesa_model.households[int(i)]
            if a.home is not None:
                a.home.occupant = None
                a.home = None
            a.applicant = True
        mesa_model.step()
        leases_mesa += mesa_model.signed
    t_mesa = time.perf_counter() - t0

    per = 1e6 / (n_hh * args.months)
    print(f"households {n_hh:,}, months {args.months}")
    print(f"array engine: {t_arr:.2f} s ({t_arr * per:.3f} µs per household-month), "
          f"{leases_arr} leases")
    print(f"Mesa agents:  {t_mesa:.2f} s ({t_mesa * per:.3f} µs per household-month), "
          f"{leases_mesa} leases")
    print(f"ratio (Mesa / arrays): {t_mesa / t_arr:.0f}×")


if __name__ == "__main__":
    main()
