"""Social housing allocation (SPEC §3): the monthly commission round.

For each vacant social dwelling (re-letting or new delivery), in random order:

1. **Channel** — the reservation holder designates candidates: the préfet among priority and
   relocated households, Action Logement among employees, a commune among its residents (local
   preference), the landlord among everybody. Under *stock* management the holder is fixed per
   dwelling; a holder with no eligible candidate keeps the vacancy ``handback_months`` before the
   landlord designates. Under *flux* management (ELAN art. 114) the vacancy goes to the holder
   furthest behind its share of the year's flow that has an eligible candidate.
2. **Eligibility** — income ≤ the ceiling of the dwelling's financing, rooms adequate to the
   household size (at least the rooms needed, not under-occupied), effort rate after housing
   benefit ≤ ``max_effort_rate``, the dwelling's commune among the applicant's wishes.
3. **Ranking** — the cotation score (ELAN art. 111): points per month waited, priority,
   situation, transfer, relocation, minus refusals.
4. **Quotas** (L441-1 CCH) counted on signed leases of the calendar year: outside QPV, Q1
   applicants or relocated households; inside QPV, Q2–Q4 applicants. Enforcement ``none``,
   ``target`` (a bonus for the lagging group while behind) or ``strict`` (offers reserved to the
   lagging group while behind and it has an eligible candidate).
5. **Commission (CALEOL)** — up to ``candidates_per_dwelling`` ranked candidates (R441-3); the
   first who accepts signs. Acceptance rises with attractiveness relative to aspiration, falls with
   the effort rate; refusals are counted and may cost points.
6. **Unlet** — a dwelling nobody accepts stays vacant and returns next month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import Behaviour, Levers
from ..moves import KIND, MoveLog, move_into
from ..state import (
    APP_NONE,
    APP_TRANSFER,
    CHARGES_M2,
    HOSTED,
    S_SOCIAL,
    SEEK_NONE,
    SOCIAL,
    State,
    ceilings_by_financing,
    household_income,
    household_size,
    rooms_needed,
)
from .intentions import aspiration, housing_situation

PREFET, ACTION_LOGEMENT, COMMUNE, BAILLEUR = 0, 1, 2, 3
_NONE, _NONE_F = np.zeros(0, np.int64), np.zeros(0)
RLS_PASS_THROUGH = 0.05
HARD_TO_LET_MONTHS = 3  # after 3 (6) months vacant, 1 (2) more rooms of under-occupation


@dataclass
class AllocationResult:
    """What one allocation round did (arrays have one entry per signed lease)."""

    households: np.ndarray
    dwellings: np.ndarray
    holders: np.ndarray
    in_qpv: np.ndarray
    q1: np.ndarray  # below the applicants' Q1 threshold
    relocation: np.ndarray
    transfer: np.ndarray
    priority: np.ndarray
    new_unit: np.ndarray
    wait: np.ndarray  # months
    quartile: np.ndarray  # territory income quartile
    offers: int = 0
    refusals: int = 0
    vacancies: int = 0
    unlet_no_candidate: int = 0
    unlet_refused: int = 0

    @property
    def n(self) -> int:
        """Signed leases."""
        return len(self.households)


def _count(state: State, key: str, k: float = 1) -> None:
    state.counters[key] = state.counters.get(key, 0) + k


def applicant_scores(state: State, idx: np.ndarray, levers: Levers, sit: dict[str, np.ndarray]
                     ) -> np.ndarray:
    """Cotation score of applicants ``idx`` (points; higher is served first)."""
    hh = state.hh
    w = levers.cotation
    waited = state.month - hh.app_month[idx]
    return (w.per_month_waited * waited + w.priority * hh.priority[idx]
            + w.homeless * (hh.tenure[idx] == HOSTED) + w.overcrowded * sit["overcrowded"]
            + w.excessive_cost * (sit["effort"] > 0.35) + w.separation * hh.separated[idx]
            + w.transfer * (hh.app[idx] == APP_TRANSFER) + w.relocation * hh.relocation[idx]
            - w.refusal_penalty * hh.refusals[idx])


LEASE_FIELDS = ("households", "dwellings", "holders", "in_qpv", "q1", "relocation", "transfer",
                "priority", "new_unit", "wait", "quartile")


def allocate(state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
             log: MoveLog) -> AllocationResult:
    """Run this month's allocation round; return the signed leases and offer counts."""
    hh, dw = state.hh, state.dw
    vac = np.flatnonzero((dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
                         & (dw.occupant < 0))
    apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE))
    res = dict(offers=0, refusals=0, vacancies=len(vac), unlet_no_candidate=0, unlet_refused=0)
    signed: list[tuple[int, int, int, float]] = []
    if len(vac) and len(apps):
        _round(state, levers, beh, rng, vac, apps, signed, res)
    else:
        res["unlet_no_candidate"] = len(vac)
    leases = _sign_all(state, levers, apps, signed, log)
    still = vac[dw.occupant[vac] < 0]
    dw.months_vacant[still] += 1
    return AllocationResult(**leases, **res)


class _Applicants:
    """Applicant attributes fixed for one round, and score-sorted candidate lists per commune."""

    def __init__(self, state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
                 apps: np.ndarray):
        hh, nb = state.hh, state.nb
        sit = housing_situation(state, apps)
        self.size = household_size(hh, apps)
        self.need = rooms_needed(self.size)
        self.max_rooms = self.size + 1
        self.income = household_income(hh, apps)
        self.ceilings = ceilings_by_financing(hh, apps, state.ceiling_index)
        self.home = nb.commune[hh.nbhd[apps]]
        self.q1 = hh.income_uc[apps] <= state.q1_threshold
        self.reloc = hh.relocation[apps]
        self.prio = hh.priority[apps] | self.reloc
        self.transfer = hh.app[apps] == APP_TRANSFER
        self.everyone = np.ones(len(apps), bool)
        self.pools = (self.prio, hh.employed[apps], None, self.everyone)
        self.asp = aspiration(hh.z[apps])
        # commissions weigh the ability to pay: points lost per standard deviation of income
        # below the median (OFCE 2023: the poorest applicants are served less often)
        solvency = beh.commission_solvency * np.minimum(hh.z[apps], 0.0)
        self.base = (applicant_scores(state, apps, levers, sit) + solvency
                     + rng.random(len(apps)) * 0.5)
        self.accept_adj = (np.where(self.transfer, -0.5, 0.0)
                           + np.where(hh.tenure[apps] == HOSTED, 0.5, 0.0)
                           + np.where(self.prio, 0.5, 0.0) + np.where(self.reloc, 1.5, 0.0)
                           + 1.0 * levers.information.level)
        # effort-rate terms that do not depend on the dwelling (see state.housing_benefit)
        self.income_m = np.maximum(self.income / 12.0, 1.0)
        self.asp_l = self.asp.tolist()
        self.accept_adj_l = self.accept_adj.tolist()
        self.apl_cap = 300.0 + 60.0 * (self.size - 1)
        self.apl_part = 0.35 * np.maximum(0.0, self.income / 12.0 - 500.0
                                          - 100.0 * (self.size - 1))
        self.rls_relief = rls_relief(self.income, levers)
        order = np.argsort(-self.base, kind="stable")
        wishes = hh.wishes[apps][order]
        reloc = self.reloc[order]
        self.lists = [order[((wishes >> c) & 1).astype(bool) | reloc]
                      for c in range(len(state.commune_ids))]
        self.available = np.ones(len(apps), bool)
        self._static: dict[tuple[int, int, int, int], np.ndarray] = {}
        self._pooled: dict[tuple, np.ndarray] = {}

    def pool_list(self, key: tuple, lst: np.ndarray, holder: int, commune: int) -> np.ndarray:
        """Return the part of a static list that a holder may designate (cached)."""
        pkey = key + (holder,)
        out = self._pooled.get(pkey)
        if out is None:
            if holder == COMMUNE:
                out = lst[self.home[lst] == commune]
            elif holder == BAILLEUR:
                out = lst
            else:
                out = lst[self.pools[holder][lst]]
            self._pooled[pkey] = out
        return out

    def static_list(self, commune: int, rooms: int, financing: int, slack: int = 0
                    ) -> np.ndarray:
        """Score-sorted applicants wishing ``commune`` whose income and size fit the dwelling.

        ``slack`` extra rooms of under-occupation are tolerated (hard-to-let dwellings).
        """
        key = (commune, rooms, financing, slack)
        lst = self._static.get(key)
        if lst is None:
            c = self.lists[commune]
            ok = ((self.income[c] <= self.ceilings[financing][c]) & (self.need[c] <= rooms)
                  & (rooms <= self.max_rooms[c] + slack))
            lst = self._static[key] = c[ok]
        return lst


class _Vacancy:
    """Eligibility of candidates for one vacant dwelling (SPEC §3.2)."""

    def __init__(self, a: _Applicants, in_qpv: bool, area: float, base_rent: float,
                 modulation: float, uplift: float, rls: float, max_effort: float):
        self.a, self.in_qpv, self.area = a, in_qpv, area
        self.charges = CHARGES_M2 * area
        self.base_rent, self.modulation = base_rent, modulation
        self.uplift, self.rls, self.max_effort = uplift, rls, max_effort

    def factor(self, p: np.ndarray) -> np.ndarray | float:
        """Rent factor for candidates ``p`` (revenue-neutral modulation)."""
        if self.in_qpv:
            return 1.0 + self.uplift
        if self.modulation == 0.0:
            return 1.0
        return np.where(self.a.q1[p], 1.0 - self.modulation, 1.0)

    def effort(self, q: np.ndarray) -> np.ndarray:
        """Effort rate of candidates ``q`` in this dwelling.

        Same formula as :func:`model.state.effort_rate`, with the applicant terms precomputed.
        """
        a = self.a
        rent = self.base_rent * self.factor(q)
        apl = np.maximum(0.0, np.minimum(rent, a.apl_cap[q]) - a.apl_part[q])
        return (rent + self.charges - apl - a.rls_relief[q]) / a.income_m[q]

    def eligible(self, p: np.ndarray, group: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of ``p`` in the reserved group whose effort rate fits, with that rate.

        ``p`` comes from :meth:`_Applicants.pool_list`, so income, size, wishes and the
        holder's pool already fit.
        """
        if group is not None:
            p = p[group[p]]
        eff = self.effort(p)
        fits = eff <= self.max_effort
        return p[fits], eff[fits]



def _select(a: _Applicants, lst: np.ndarray, vx: _Vacancy, group: np.ndarray | None,
            bonus: list[tuple[np.ndarray, float]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` eligible candidates of a score-sorted list by effective score (base + bonuses).

    Scans growing prefixes of ``lst``: once the k-th best effective score found beats the base
    score of every later applicant plus the largest possible bonus, nobody further down the list
    can enter the top ``k``.

    Returns:
        Local applicant indices (best first) and their effort rates in this dwelling.
    """
    n = len(lst)
    size = 64
    if not bonus:
        # the list is sorted by score: the first k eligible candidates are the top k
        while True:
            pre = lst[:size]
            pre, eff = vx.eligible(pre[a.available[pre]], group)
            if len(pre) >= k or size >= n:
                return pre[:k], eff[:k]
            size *= 4
    max_bonus = sum(b for _, b in bonus)
    while True:
        pre = lst[:size]
        pre, eff = vx.eligible(pre[a.available[pre]], group)
        score = a.base[pre]
        for g, b in bonus:
            score = score + b * g[pre]
        if size >= n:
            break
        if len(pre) >= k:
            kth = np.partition(score, len(score) - k)[len(score) - k]
            if a.base[lst[size - 1]] + max_bonus < kth:
                break
        size *= 4
    if len(pre) > k:
        top = np.argpartition(-score, k - 1)[:k]
        pre, eff, score = pre[top], eff[top], score[top]
    order = np.argsort(-score, kind="stable")
    return pre[order], eff[order]


class _Round:
    """One month's commission round: designation by holder, quotas, commission (SPEC §3)."""

    def __init__(self, state: State, levers: Levers, beh: Behaviour, a: _Applicants):
        self.state, self.L, self.beh, self.a = state, levers, beh, a
        self.c = state.counters
        self.k_max = levers.commission.candidates_per_dwelling
        # vacancies proven to have no eligible candidate this month, by (class, holder):
        # the smallest (rent, area) that failed; effort rises with both, so dearer or larger
        # dwellings of the same class fail too (candidates only leave the pool during a round)
        self.failed: dict[tuple, tuple[float, float]] = {}

    def groups(self, holder: int, v_com: int, v_qpv: bool
               ) -> tuple[list[np.ndarray], list[tuple[np.ndarray, float]]]:
        """Reserved groups (strict) and cotation bonuses (target) that apply now."""
        a, L, c = self.a, self.L, self.c
        strict: list[np.ndarray] = []
        bonus: list[tuple[np.ndarray, float]] = []
        if holder == COMMUNE and L.reservation.local_preference > 0:
            bonus.append((a.home == v_com, L.reservation.local_preference))
        if not v_qpv and L.quota_q1.enforcement != "none" and \
                c.get("q1_out", 0) < L.quota_q1.share * (c.get("leases_out", 0) + 1):
            g = a.q1 | a.reloc if L.renewal.relocation_priority else a.q1
            (strict.append(g) if L.quota_q1.enforcement == "strict"
             else bonus.append((g, L.quota_q1.bonus_points)))
        if v_qpv and L.quota_qpv.enforcement != "none" and \
                c.get("q234_in", 0) < L.quota_qpv.share * (c.get("leases_in", 0) + 1):
            (strict.append(~a.q1) if L.quota_qpv.enforcement == "strict"
             else bonus.append((~a.q1, L.quota_qpv.bonus_points)))
        if L.priority.enforcement != "none" and \
                c.get(f"prio_h{holder}", 0) < L.priority.share * (c.get(f"alloc_h{holder}", 0)
                                                                  + 1):
            (strict.append(a.prio) if L.priority.enforcement == "strict"
             else bonus.append((a.prio, L.priority.bonus_points)))
        if L.transfers.share > 0 and \
                c.get("transfers", 0) < L.transfers.share * (c.get("leases", 0) + 1):
            bonus.append((a.transfer, L.transfers.bonus_points))
        return strict, bonus

    def designate(self, key: tuple, lst: np.ndarray, vx: _Vacancy, holder: int, v_com: int,
                  v_qpv: bool, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ranked candidates the holder designates, with their effort rates in the dwelling.

        Empty when the holder has nobody eligible.
        """
        fkey = key + (holder,)
        prev = self.failed.get(fkey)
        if prev is not None and vx.base_rent >= prev[0] and vx.area >= prev[1]:
            return _NONE, _NONE_F
        a = self.a
        k = self.k_max if k is None else k
        lst = a.pool_list(key, lst, holder, v_com)
        if len(lst) == 0:
            self.failed[fkey] = (-np.inf, -np.inf)
            return _NONE, _NONE_F
        strict, bonus = self.groups(holder, v_com, v_qpv)
        sel, eff = _NONE, _NONE_F
        if strict:
            g_all = np.logical_and.reduce(strict) if len(strict) > 1 else strict[0]
            sel, eff = _select(a, lst, vx, g_all, bonus, k)
            if not len(sel) and len(strict) > 1:
                for g in strict:  # relax to one reservation at a time
                    sel, eff = _select(a, lst, vx, g, bonus, k)
                    if len(sel):
                        break
        if not len(sel):
            sel, eff = _select(a, lst, vx, None, bonus, k)
        if not len(sel):
            r0, a0 = prev if prev is not None else (np.inf, np.inf)
            if vx.base_rent <= r0 and vx.area <= a0:
                self.failed[fkey] = (vx.base_rent, vx.area)
        return sel, eff


def _round(state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
           vac: np.ndarray, apps: np.ndarray, signed: list, res: dict) -> None:
    dw, nb = state.dw, state.nb
    L = levers
    a = _Applicants(state, L, beh, rng, apps)
    rnd = _Round(state, L, beh, a)
    shares = np.array(L.reservation.shares())
    flux = L.reservation.management == "flux"
    # rent modulation (revenue-neutral): cheaper outside QPV for Q1, dearer inside QPV
    m = L.rent.modulation
    soc_active = (dw.sector == S_SOCIAL) & dw.active
    n_in = max(1, int((soc_active & nb.qpv[dw.nbhd]).sum()))
    n_out = int(soc_active.sum()) - n_in
    uplift = min(1.0, m * 0.25 * n_out / n_in)
    c = state.counters
    k_max = rnd.k_max
    order = rng.permutation(vac)
    u_all = rng.random((len(order), k_max))
    # per-vacancy attributes as Python scalars (cheaper than numpy scalar indexing in the loop)
    v_nb_l = dw.nbhd[order].tolist()
    v_com_l = nb.commune[dw.nbhd[order]].tolist()
    v_qpv_l = nb.qpv[dw.nbhd[order]].tolist()
    rooms_l = dw.rooms[order].tolist()
    fin_l = dw.financing[order].tolist()
    area_l = dw.area[order].astype(float).tolist()
    rent_l = (dw.rent_m2[order] * dw.area[order]).astype(float).tolist()
    mv_l = dw.months_vacant[order].tolist()
    holder_l = dw.holder[order].tolist()
    attr = nb.attractiveness
    handback = L.reservation.handback_months

    for n_v, v in enumerate(order.tolist()):
        v_com, v_qpv, rooms, area = v_com_l[n_v], v_qpv_l[n_v], rooms_l[n_v], area_l[n_v]
        slack = int(mv_l[n_v] >= HARD_TO_LET_MONTHS) + int(mv_l[n_v] >= 2 * HARD_TO_LET_MONTHS)
        key = (v_com, rooms, fin_l[n_v], slack, v_qpv)
        lst = a.static_list(v_com, rooms, fin_l[n_v], slack)
        if len(lst) == 0:
            res["unlet_no_candidate"] += 1
            continue
        vx = _Vacancy(a, v_qpv, area, rent_l[n_v], m, uplift, 0.0, beh.max_effort_rate)

        # ---- channel and designation
        sel = _NONE
        if flux:
            given = np.array([c.get(f"flux_h{h}", 0) for h in range(4)])
            deficit = shares * (given.sum() + 1) - given
            holder = -1
            for h in np.argsort(-deficit, kind="stable").tolist():
                if shares[h] <= 0 and h != BAILLEUR:
                    continue
                sel, eff = rnd.designate(key, lst, vx, h, v_com, v_qpv)
                if len(sel):
                    holder = h
                    break
            if holder < 0:
                res["unlet_no_candidate"] += 1
                continue
            _count(state, f"flux_h{holder}")
        else:
            holder = holder_l[n_v]
            sel, eff = rnd.designate(key, lst, vx, holder, v_com, v_qpv)
            if not len(sel) and holder != BAILLEUR and mv_l[n_v] >= handback:
                holder = BAILLEUR  # the holder found nobody: the landlord designates
                sel, eff = rnd.designate(key, lst, vx, holder, v_com, v_qpv)
        if not len(sel):
            res["unlet_no_candidate"] += 1
            _count(state, f"unlet_holder_h{holder}")
            continue
        # ---- commission: ranked candidates, the first who accepts signs
        # (a few candidates: plain Python floats are faster than numpy here)
        a_v = float(attr[v_nb_l[n_v]])
        first = -1
        for j, (i, e) in enumerate(zip(sel.tolist(), eff.tolist(), strict=True)):
            logit = (beh.accept_base + beh.accept_attractiveness * (a_v - a.asp_l[i])
                     - beh.accept_effort * (e - 0.25) + a.accept_adj_l[i])
            if u_all[n_v, j] * (1.0 + math.exp(-logit)) < 1.0:
                first = j
                break
        if first >= 0:
            refused = sel[:first]
            winner = int(sel[first])
            a.available[winner] = False
            fac = vx.factor(sel[first:first + 1])
            signed.append((winner, v, holder, float(np.ravel(fac)[0])))
            _count_lease(state, L, v_qpv, bool(a.q1[winner]), bool(a.reloc[winner]),
                         bool(a.prio[winner]), bool(a.transfer[winner]), holder)
            res["offers"] += first + 1
        else:
            refused = sel
            res["unlet_refused"] += 1
            res["offers"] += len(sel)
        res["refusals"] += len(refused)
        a.available[refused] = False
        state.hh.refusals[apps[refused]] += 1
    state.__dict__["_last_q1"] = a.q1


def rls_relief(income: np.ndarray, levers: Levers) -> np.ndarray:
    """Net monthly relief (€) the RLS gives housing-benefit tenants (income under ~1,500 €/month).

    The landlord cuts the rent by the RLS and the State cuts housing benefit by 90–98 % of it
    (ANIL), so the tenant keeps about ``RLS_PASS_THROUGH`` of the amount.
    """
    amount = levers.rent.rls_amount * RLS_PASS_THROUGH if levers.rent.rls else 0.0
    return np.where(income / 12.0 < 1500.0, amount, 0.0)


def _count_lease(state: State, levers: Levers, in_qpv: bool, q1: bool, reloc: bool, prio: bool,
                 transfer: bool, holder: int) -> None:
    """Update the year's counters (quotas are counted on signed leases)."""
    _count(state, "leases")
    _count(state, f"alloc_h{holder}")
    if prio:
        _count(state, f"prio_h{holder}")
    if transfer:
        _count(state, "transfers")
    if in_qpv:
        _count(state, "leases_in")
        if not q1:
            _count(state, "q234_in")
    else:
        _count(state, "leases_out")
        if q1 or (reloc and levers.renewal.relocation_priority):
            _count(state, "q1_out")


def _sign_all(state: State, levers: Levers, apps: np.ndarray, signed: list, log: MoveLog
              ) -> dict[str, np.ndarray]:
    """Move the round's winners into their new dwellings (one vectorised update)."""
    hh, dw, nb = state.hh, state.dw, state.nb
    q1_local = state.__dict__.pop("_last_q1", None)
    if not signed:
        z = np.zeros(0, np.int64)
        return {k: (z if k in ("households", "dwellings", "holders", "wait", "quartile")
                    else z.astype(bool)) for k in LEASE_FIELDS}
    local = np.array([x[0] for x in signed])
    who = apps[local]
    dws = np.array([x[1] for x in signed])
    holders = np.array([x[2] for x in signed])
    factor = np.array([x[3] for x in signed])
    reloc = hh.relocation[who].copy()
    transfer = hh.tenure[who] == SOCIAL
    out = {
        "households": who, "dwellings": dws, "holders": holders,
        "in_qpv": nb.qpv[dw.nbhd[dws]], "q1": q1_local[local], "relocation": reloc,
        "transfer": transfer, "priority": hh.priority[who] | reloc, "new_unit": dw.new[dws].copy(),
        "wait": (state.month - hh.app_month[who]).astype(np.int64),
        "quartile": hh.quartile[who].astype(np.int64),
    }
    kind = np.where(reloc, KIND["relocation"], np.where(transfer, KIND["transfer"],
                                                        KIND["first_letting"]))
    from_dw, from_nb = hh.dwelling[who].copy(), hh.nbhd[who].copy()
    move_into(state, who, dws, SOCIAL)
    dw.rent_factor[dws] = factor
    hh.app[who] = APP_NONE
    hh.priority[who] = False
    hh.relocation[who] = False
    hh.separated[who] = False
    hh.refusals[who] = 0
    hh.seek[who] = SEEK_NONE
    log.add(who, state.month, from_dw, from_nb, dws, dw.nbhd[dws], kind)
    return out
