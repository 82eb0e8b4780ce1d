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

Implementation. The round costs a few Python steps per vacancy, whatever the number of
applicants: candidate lists sorted by score are cached per dwelling class (commune, rooms,
financing, hard-to-let slack) and holder; a short list is examined candidate by candidate in
plain Python, a long one is split by the bonuses that apply (within a part the best are at the
head) and only its head is examined in Python, the rest with numpy if needed. When nobody left
fits the lowest rent and area of a class's vacancies, the class fails for the holder for the
rest of the round (candidates only leave the pool). Same rules and same random draws as a
plain scan of every applicant for every vacancy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
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
_NONE = np.zeros(0, np.int64)
RLS_PASS_THROUGH = 0.05
HARD_TO_LET_MONTHS = 3  # after 3 (6) months vacant, 1 (2) more rooms of under-occupation
SHORT_POOL = 32  # candidate lists up to this length are examined in plain Python
SCAN_HEAD = 24  # head of a long list examined in plain Python before numpy takes over
# yearly counters per holder (see _count_lease)
ALLOC_KEYS = tuple(f"alloc_h{h}" for h in range(4))
PRIO_KEYS = tuple(f"prio_h{h}" for h in range(4))
UNLET_KEYS = tuple(f"unlet_holder_h{h}" for h in range(4))


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


def _situation(state: State, apps: np.ndarray) -> dict[str, np.ndarray]:
    """Over-crowding and effort rate of applicants (both 0 for those without a dwelling)."""
    housed = state.hh.dwelling[apps] >= 0
    sit = housing_situation(state, apps[housed])
    out = {"overcrowded": np.zeros(len(apps), bool), "effort": np.zeros(len(apps))}
    for name, values in out.items():
        values[housed] = sit[name]
    return out


def _by_decreasing(score: np.ndarray) -> np.ndarray:
    """Return the indices by decreasing score, ties in index order (as numpy's stable sort)."""
    order = np.argsort(-score)
    ranked = score[order]
    if (ranked[1:] == ranked[:-1]).any():  # ties (practically never: scores carry noise)
        order = np.argsort(-score, kind="stable")
    return order


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
    q1 = _NONE.astype(bool)
    if len(vac) and len(apps):
        q1 = _round(state, levers, beh, rng, vac, apps, signed, res)
    else:
        res["unlet_no_candidate"] = len(vac)
    leases = _sign_all(state, apps, q1, signed, log)
    still = vac[dw.occupant[vac] < 0]
    dw.months_vacant[still] += 1
    return AllocationResult(**leases, **res)


class _Applicants:
    """Applicant attributes fixed for one round, and cached score-sorted candidate lists.

    Lists hold local applicant indices (positions in ``apps``), sorted by decreasing base score.
    They are cached, each built once per round: per (commune, rooms, financing, slack) the
    applicants wishing the commune whose income and size fit (:meth:`static_list`); per holder
    the part of it the holder may designate (:meth:`pool`); for long pools, per reserved groups
    and bonuses, the pool's members of the groups split by bonus (:meth:`parts`). Availability
    and the effort rate, which depends on the dwelling's rent, are checked vacancy by vacancy.
    """

    def __init__(self, state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
                 apps: np.ndarray):
        hh, nb = state.hh, state.nb
        sit = _situation(state, apps)
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
        self.pools = (self.prio, hh.employed[apps], None, None)
        # commissions weigh the ability to pay: points lost per standard deviation of income
        # below the median (OFCE 2023: the poorest applicants are served less often)
        solvency = beh.commission_solvency * np.minimum(hh.z[apps], 0.0)
        self.base = (applicant_scores(state, apps, levers, sit) + solvency
                     + rng.random(len(apps)) * 0.5)
        accept_adj = (np.where(self.transfer, -0.5, 0.0)
                      + np.where(hh.tenure[apps] == HOSTED, 0.5, 0.0)
                      + np.where(self.prio, 0.5, 0.0) + np.where(self.reloc, 1.5, 0.0)
                      + 1.0 * levers.information.level)
        # effort-rate terms that do not depend on the dwelling (see state.housing_benefit)
        self.income_m = np.maximum(self.income / 12.0, 1.0)
        self.apl_cap = 300.0 + 60.0 * (self.size - 1)
        self.apl_part = 0.35 * np.maximum(0.0, self.income / 12.0 - 500.0
                                          - 100.0 * (self.size - 1))
        self.rls_relief = rls_relief(self.income, levers)
        # effort terms as Python lists: short candidate lists are examined one by one; other
        # terms are read for a few candidates only, through memoryviews (no copy)
        self.income_m_l = self.income_m.tolist()
        self.apl_cap_l = self.apl_cap.tolist()
        self.apl_part_l = self.apl_part.tolist()
        self.rls_l = self.rls_relief.tolist()
        self.q1_l = self.q1.tolist()
        self.base_m = memoryview(self.base)
        self.asp_m = memoryview(aspiration(hh.z[apps]))
        self.accept_adj_m = memoryview(accept_adj)
        self.reloc_m, self.prio_m = memoryview(self.reloc), memoryview(self.prio)
        self.home_m = memoryview(self.home)
        self.transfer_m = memoryview(self.transfer)
        # availability: one buffer seen both as bytes (scalar access) and as a numpy array
        self.avail = bytearray(b"\x01") * len(apps)
        self.available = np.frombuffer(self.avail, dtype=np.bool_)
        # groups that quotas reserve or favour (SPEC §3.4), by name
        q1_group = self.q1 | self.reloc if levers.renewal.relocation_priority else self.q1
        self.groups = {"q1": q1_group, "q234": ~self.q1, "prio": self.prio,
                       "transfer": self.transfer}
        self.groups_m = {name: memoryview(g) for name, g in self.groups.items()}
        self._local: dict[int, np.ndarray] = {}
        order = _by_decreasing(self.base)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        self.rank_m = memoryview(rank)  # position in the score order
        wishes = hh.wishes[apps][order]
        reloc = self.reloc[order]
        self.lists = [order[((wishes >> c) & 1).astype(bool) | reloc]
                      for c in range(len(state.commune_ids))]
        self._fit: dict[int, tuple] = {}
        self._static: dict[tuple[int, int, int, int], np.ndarray] = {}
        self._pooled: dict[tuple, np.ndarray] = {}
        self._pooled_l: dict[tuple, list[int]] = {}
        self._parts: dict[tuple, list] = {}

    def group(self, name: str, commune: int) -> np.ndarray:
        """Membership mask of a named group (``local``: residents of ``commune``)."""
        if name != "local":
            return self.groups[name]
        mask = self._local.get(commune)
        if mask is None:
            mask = self._local[commune] = self.home == commune
        return mask

    def member(self, name: str, i: int, commune: int) -> bool:
        """Whether applicant ``i`` belongs to a named group (scalar version of :meth:`group`)."""
        if name == "local":
            return self.home_m[i] == commune
        return self.groups_m[name][i]

    def static_list(self, commune: int, rooms: int, financing: int, slack: int = 0
                    ) -> np.ndarray:
        """Score-sorted applicants wishing ``commune`` whose income and size fit the dwelling.

        ``slack`` extra rooms of under-occupation are tolerated (hard-to-let dwellings).
        """
        key = (commune, rooms, financing, slack)
        lst = self._static.get(key)
        if lst is None:
            c, income_ok, need, max_rooms = self._commune_terms(commune)
            ok = income_ok[financing] & (need <= rooms) & (max_rooms >= rooms - slack)
            lst = self._static[key] = c[ok]
        return lst

    def _commune_terms(self, commune: int) -> tuple:
        """Return a commune's list, its members' income test per financing, rooms needed, max."""
        out = self._fit.get(commune)
        if out is None:
            c = self.lists[commune]
            income = self.income[c]
            out = self._fit[commune] = (c, [income <= self.ceilings[f][c] for f in range(3)],
                                        self.need[c], self.max_rooms[c])
        return out

    def pool(self, key: tuple, holder: int) -> np.ndarray:
        """Return the part of the static list of ``key`` that a holder may designate (cached)."""
        pkey = key + (holder,)
        out = self._pooled.get(pkey)
        if out is None:
            commune = key[0]
            out = self.static_list(*key)
            if holder == COMMUNE:
                out = out[self.home[out] == commune]
            elif holder != BAILLEUR:
                out = out[self.pools[holder][out]]
            self._pooled[pkey] = out
        return out

    def pool_list(self, key: tuple, holder: int) -> list[int]:
        """Return :meth:`pool` as a Python list (cached; for short pools)."""
        pkey = key + (holder,)
        out = self._pooled_l.get(pkey)
        if out is None:
            out = self._pooled_l[pkey] = self.pool(key, holder).tolist()
        return out

    def parts(self, key: tuple, holder: int, groups: tuple[str, ...],
              bonus: tuple[tuple[str, float], ...]) -> list[_Part]:
        """Return the holder's pool restricted to ``groups``, split by bonus membership (cached).

        All candidates of a part get the same bonus points, so within a part the order of the
        effective score is the base order: a part's best candidates are at its head.

        Returns:
            The non-empty parts.
        """
        pkey = (key, holder, groups, bonus)
        out = self._parts.get(pkey)
        if out is None:
            commune = key[0]
            lst = self.pool(key, holder)
            for name in groups:
                lst = lst[self.group(name, commune)[lst]]
            parts = [lst]
            for name, _ in bonus:  # split every part by membership of each bonus group
                split = []
                for part in parts:
                    g = self.group(name, commune)[part]
                    split += [part[g], part[~g]]
                parts = split
            out = self._parts[pkey] = [_Part(self, part) for part in parts if len(part)]
        return out


class _Part:
    """Part of a candidate list with equal bonuses, in base-score order (see :meth:`parts`).

    Long parts also hold their members' effort terms, aligned with the list, for the numpy
    examination of their tail.
    """

    __slots__ = ("idx", "view", "q1", "apl_cap", "apl_part", "rls", "income_m")

    def __init__(self, a: _Applicants, idx: np.ndarray):
        self.idx, self.view = idx, memoryview(idx)
        if len(idx) > SCAN_HEAD:
            self.q1, self.apl_cap, self.apl_part = a.q1[idx], a.apl_cap[idx], a.apl_part[idx]
            self.rls, self.income_m = a.rls_relief[idx], a.income_m[idx]

    def effort(self, offer: _Offer, start: int) -> np.ndarray:
        """Effort rates of the members from position ``start`` on (see :func:`_effort`)."""
        if offer.rent_q1 == offer.rent_other:
            rent = offer.rent_q1
        else:
            rent = np.where(self.q1[start:], offer.rent_q1, offer.rent_other)
        apl = np.maximum(0.0, np.minimum(rent, self.apl_cap[start:]) - self.apl_part[start:])
        return (rent + offer.charges - apl - self.rls[start:]) / self.income_m[start:]


class _Offer:
    """Rent terms of one vacant dwelling (SPEC §3.2, §3.7)."""

    __slots__ = ("base_rent", "area", "charges", "rent_q1", "rent_other", "factor_q1",
                 "factor_other", "max_effort")

    def __init__(self, in_qpv: bool, area: float, base_rent: float, modulation: float,
                 uplift: float, max_effort: float):
        self.base_rent, self.area, self.max_effort = base_rent, area, max_effort
        self.charges = CHARGES_M2 * area
        # revenue-neutral modulation: dearer in QPV, cheaper outside QPV for Q1 applicants
        if in_qpv:
            self.factor_q1 = self.factor_other = 1.0 + uplift
        elif modulation == 0.0:
            self.factor_q1 = self.factor_other = 1.0
        else:
            self.factor_q1, self.factor_other = 1.0 - modulation, 1.0
        self.rent_q1 = base_rent * self.factor_q1
        self.rent_other = base_rent * self.factor_other


def _fitting_short(a: _Applicants, pool: Iterable[int], offer: _Offer, k: int = 0
                   ) -> list[tuple[int, float]]:
    """Available candidates of a list whose effort rate fits, with that rate (plain Python).

    The effort rate is :func:`model.state.effort_rate` with the applicant terms precomputed:
    (rent + charges − housing benefit − RLS relief) / monthly income. Stops after ``k``
    candidates when ``k`` > 0.
    """
    fit = []
    avail, q1 = a.avail, a.q1_l
    cap, part, rls, inc = a.apl_cap_l, a.apl_part_l, a.rls_l, a.income_m_l
    rent_q1, rent_other, max_e = offer.rent_q1, offer.rent_other, offer.max_effort
    paid_q1, paid_other = rent_q1 + offer.charges, rent_other + offer.charges
    for i in pool:
        if not avail[i]:
            continue
        if q1[i]:
            rent, paid = rent_q1, paid_q1
        else:
            rent, paid = rent_other, paid_other
        c = cap[i]
        apl = (rent if rent < c else c) - part[i]  # housing benefit before the floor at 0
        if apl < 0.0:
            apl = 0.0
        e = (paid - apl - rls[i]) / inc[i]
        if e <= max_e:
            fit.append((i, e))
            if len(fit) == k:
                break
    return fit


def _first_fitting(a: _Applicants, part: _Part, offer: _Offer, k: int, head: int = SCAN_HEAD
                   ) -> list[tuple[int, float]]:
    """First ``k`` available candidates of a list whose effort rate fits, with that rate.

    The first ``head`` candidates are examined one at a time in plain Python (usually enough
    when some fit), the rest, if needed, at once with numpy (same floating-point operations).
    """
    if len(part.idx) <= SCAN_HEAD:
        return _fitting_short(a, part.view, offer, k)
    fit = _fitting_short(a, part.view[:head], offer, k) if head else []
    if len(fit) < k:
        e = part.effort(offer, head)
        ok = np.flatnonzero(e <= offer.max_effort)
        ok = ok[a.available[part.idx[ok + head]]][: k - len(fit)]
        fit += zip(part.idx[ok + head].tolist(), e[ok].tolist(), strict=True)
    return fit


def _effort(a: _Applicants, idx: np.ndarray, offer: _Offer) -> np.ndarray:
    """Effort rates of candidates ``idx`` (numpy; the operations of :func:`_fitting_short`)."""
    if offer.rent_q1 == offer.rent_other:
        rent = offer.rent_q1
    else:
        rent = np.where(a.q1[idx], offer.rent_q1, offer.rent_other)
    apl = np.maximum(0.0, np.minimum(rent, a.apl_cap[idx]) - a.apl_part[idx])
    return (rent + offer.charges - apl - a.rls_relief[idx]) / a.income_m[idx]


def _pick(a: _Applicants, fit: list[tuple[int, float]], strict: tuple[str, ...],
          bonus: tuple[tuple[str, float], ...], k: int, commune: int
          ) -> tuple[list[int], list[float]]:
    """Choose the ``k`` candidates a holder proposes among the fitting ones (plain Python).

    Strict groups first (members of all of them, else of one at a time, else anybody), then by
    decreasing effective score: base score plus the bonuses of the candidate's groups (same
    floating-point sums and stable order as numpy).
    """
    if strict:
        member = a.member
        cand = [x for x in fit if all(member(g, x[0], commune) for g in strict)]
        if not cand and len(strict) > 1:
            for g in strict:  # relax to one reservation at a time
                cand = [x for x in fit if member(g, x[0], commune)]
                if cand:
                    break
        fit = cand or fit
    if bonus and len(fit) > 1:
        base, member = a.base_m, a.member
        scores = []
        for i, _ in fit:
            score = base[i]
            for name, b in bonus:
                score = score + b * member(name, i, commune)
            scores.append(-score)
        order = sorted(range(len(fit)), key=scores.__getitem__)  # stable, like np.argsort
        fit = [fit[j] for j in order]
    fit = fit[:k]
    return [x[0] for x in fit], [x[1] for x in fit]


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
        self._groups: dict[tuple[int, bool], tuple] = {}  # until the counters change
        self.floors: dict[tuple, tuple[float, float]] = {}  # see _record_failure
        self._floor_checked: dict[tuple, int] = {}
        self.taken = 0  # candidates who left the pool (signed or refused) so far
        # classes that failed for a holder last month (a hint, see designate): likely to fail
        # again, so their floor is checked first; the hint changes no result, only the work
        self.failed_before: set = state.allocation_hints.get("failed", set())
        self.offer_terms: tuple[float, float, float] = (levers.rent.modulation, 0.0,
                                                        beh.max_effort_rate)

    def count_lease(self, in_qpv: bool, winner: int, holder: int) -> None:
        """Update the year's counters for a signed lease (see :func:`_count_lease`)."""
        a = self.a
        _count_lease(self.state, self.L, in_qpv, a.q1_l[winner], a.reloc_m[winner],
                     a.prio_m[winner], a.transfer_m[winner], holder)
        self._groups.clear()

    def groups(self, holder: int, v_qpv: bool
               ) -> tuple[tuple[str, ...], tuple[tuple[str, float], ...]]:
        """Reserved groups (strict) and cotation bonuses (target) that apply now, by name."""
        out = self._groups.get((holder, v_qpv))
        if out is None:
            out = self._groups[(holder, v_qpv)] = self._lagging(holder, v_qpv)
        return out

    def _lagging(self, holder: int, v_qpv: bool
                 ) -> tuple[tuple[str, ...], tuple[tuple[str, float], ...]]:
        """Compute :meth:`groups` from the year's counters."""
        L, c = self.L, self.c
        strict: list[str] = []
        bonus: list[tuple[str, float]] = []
        if holder == COMMUNE and L.reservation.local_preference > 0:
            bonus.append(("local", L.reservation.local_preference))
        if not v_qpv and L.quota_q1.enforcement != "none" and \
                c.get("q1_out", 0) < L.quota_q1.share * (c.get("leases_out", 0) + 1):
            (strict.append("q1") if L.quota_q1.enforcement == "strict"
             else bonus.append(("q1", L.quota_q1.bonus_points)))
        if v_qpv and L.quota_qpv.enforcement != "none" and \
                c.get("q234_in", 0) < L.quota_qpv.share * (c.get("leases_in", 0) + 1):
            (strict.append("q234") if L.quota_qpv.enforcement == "strict"
             else bonus.append(("q234", L.quota_qpv.bonus_points)))
        if L.priority.enforcement != "none" and \
                c.get(PRIO_KEYS[holder], 0) < L.priority.share * (
                    c.get(ALLOC_KEYS[holder], 0) + 1):
            (strict.append("prio") if L.priority.enforcement == "strict"
             else bonus.append(("prio", L.priority.bonus_points)))
        if L.transfers.share > 0 and \
                c.get("transfers", 0) < L.transfers.share * (c.get("leases", 0) + 1):
            bonus.append(("transfer", L.transfers.bonus_points))
        return tuple(strict), tuple(bonus)

    def designate(self, key: tuple, offer: _Offer, holder: int, v_qpv: bool
                  ) -> tuple[list[int], list[float]]:
        """Ranked candidates the holder designates, with their effort rates in the dwelling.

        Under strict enforcement only members of every lagging group are proposed, then members
        of one of them, then anybody. Empty when the holder has nobody eligible.
        """
        fkey = key + (v_qpv, holder)
        prev = self.failed.get(fkey)
        rent, area = offer.base_rent, offer.area
        if prev is not None and rent >= prev[0] and area >= prev[1]:
            return [], []
        if holder != BAILLEUR:  # every holder's pool is part of the landlord's
            landlord = self.failed.get(key + (v_qpv, BAILLEUR))
            if landlord is not None and rent >= landlord[0] and area >= landlord[1]:
                return [], []
        a, k = self.a, self.k_max
        pool = a.pool(key, holder)
        if len(pool) == 0:
            self.failed[fkey] = (-np.inf, -np.inf)
            return [], []
        if prev is None and fkey in self.failed_before and len(pool) > SHORT_POOL:
            # failed last month: if nobody fits the class's floor (its cheapest, smallest
            # vacancy), every vacancy of the class fails for this holder this month
            self.failed_before.discard(fkey)
            rent0, area0 = self.floors[(key, v_qpv)]
            if not self._fits_any(key, holder, _Offer(v_qpv, area0, rent0, *self.offer_terms)):
                self.failed[fkey] = (rent0, area0)
                return [], []
        strict, bonus = self.groups(holder, v_qpv)
        if len(pool) <= SHORT_POOL:
            # (without reserved groups or bonuses, the first k who fit are the best)
            fit = _fitting_short(a, a.pool_list(key, holder), offer,
                                 0 if strict or bonus else k)
            sel, eff = _pick(a, fit, strict, bonus, k, key[0]) if fit else ([], [])
        else:
            # members of every reserved group, else of one at a time, else anybody
            attempts = [strict] if strict else []
            if len(strict) > 1:
                attempts += [(g,) for g in strict]
            # after a failure of the class, another is likely: no candidate-by-candidate head
            head = 0 if prev is not None else SCAN_HEAD
            for groups in attempts + [()]:
                sel, eff = self._best(key, holder, groups, bonus, offer, head)
                if sel:
                    break
        if not sel:
            self._record_failure(key, holder, v_qpv, offer)
        return sel, eff

    def _record_failure(self, key: tuple, holder: int, v_qpv: bool, offer: _Offer) -> None:
        """Remember that nobody in the holder's pool fits the dwelling.

        When nobody fits either the round's cheapest and smallest dwelling of the class (its
        floor: the lowest rent and area of its vacancies), every later vacancy of the class fails
        for this holder; that is remembered instead.
        """
        fkey = key + (v_qpv, holder)
        prev = self.failed.get(fkey)
        r0, a0 = prev if prev is not None else (np.inf, np.inf)
        if offer.base_rent <= r0 and offer.area <= a0:
            self.failed[fkey] = r0, a0 = (offer.base_rent, offer.area)
        rent, area = self.floors.get((key, v_qpv), (r0, a0))
        # (checked again only after candidates have left the pool since the last check)
        if (rent < r0 or area < a0) and self._floor_checked.get(fkey) != self.taken:
            self._floor_checked[fkey] = self.taken
            if not self._fits_any(key, holder, _Offer(v_qpv, area, rent, *self.offer_terms)):
                self.failed[fkey] = (rent, area)

    def _fits_any(self, key: tuple, holder: int, offer: _Offer) -> bool:
        """Whether some available candidate of the holder's pool fits the dwelling."""
        a = self.a
        pool = a.pool(key, holder)
        if len(pool) <= SHORT_POOL:
            return bool(_fitting_short(a, a.pool_list(key, holder), offer, 1))
        pool = pool[a.available[pool]]
        return bool((_effort(a, pool, offer) <= offer.max_effort).any())

    def _best(self, key: tuple, holder: int, groups: tuple[str, ...],
              bonus: tuple[tuple[str, float], ...], offer: _Offer, head: int
              ) -> tuple[list[int], list[float]]:
        """Best ``k`` fitting candidates of a long pool restricted to ``groups``.

        The best of each part (same bonus) are at its head; they are merged in the order of the
        effective score, ties in the pool's order (the order of numpy's stable sort).
        """
        a, k = self.a, self.k_max
        parts = a.parts(key, holder, groups, bonus)
        fit = [x for part in parts for x in _first_fitting(a, part, offer, k, head)]
        if len(parts) > 1:
            fit.sort(key=lambda x: a.rank_m[x[0]])
            return _pick(a, fit, (), bonus, k, key[0])
        return [x[0] for x in fit], [x[1] for x in fit]

    def flux_designate(self, key: tuple, offer: _Offer, v_qpv: bool, shares: list[float]
                       ) -> tuple[int, list[int], list[float]]:
        """Flux management: the holder furthest behind its share with an eligible candidate.

        Returns:
            The holder (−1 if none) and its designated candidates with their effort rates.
        """
        c = self.c
        given = [c.get(f"flux_h{h}", 0) for h in range(4)]
        total = sum(given) + 1
        deficit = [shares[h] * total - given[h] for h in range(4)]
        for h in sorted(range(4), key=lambda h: -deficit[h]):  # stable, like np.argsort
            if shares[h] <= 0 and h != BAILLEUR:
                continue
            sel, eff = self.designate(key, offer, h, v_qpv)
            if sel:
                return h, sel, eff
        return -1, [], []

    def commission(self, sel: list[int], eff: list[float], attractiveness: float,
                   u: list[float]) -> int:
        """Offer the dwelling to the candidates in turn; return the position of the signer or −1.

        Each accepts with probability logistic(accept_base + accept_attractiveness ×
        (attractiveness − aspiration) − accept_effort × (effort − 0.25) + adjustments), drawn
        against the uniforms ``u``.
        """
        a, beh = self.a, self.beh
        for j, i in enumerate(sel):
            logit = (beh.accept_base + beh.accept_attractiveness * (attractiveness - a.asp_m[i])
                     - beh.accept_effort * (eff[j] - 0.25) + a.accept_adj_m[i])
            if u[j] * (1.0 + math.exp(-logit)) < 1.0:
                return j
        return -1


def _round(state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
           vac: np.ndarray, apps: np.ndarray, signed: list, res: dict) -> np.ndarray:
    """Treat the vacancies in random order; append leases to ``signed``.

    Returns:
        Whether each applicant (local index) counts as Q1.
    """
    dw, nb = state.dw, state.nb
    L = levers
    a = _Applicants(state, L, beh, rng, apps)
    rnd = _Round(state, L, beh, a)
    shares = [float(s) for s in L.reservation.shares()]
    flux = L.reservation.management == "flux"
    # rent modulation (revenue-neutral): cheaper outside QPV for Q1, dearer inside QPV
    m = L.rent.modulation
    soc_active = (dw.sector == S_SOCIAL) & dw.active
    n_in = max(1, int((soc_active & nb.qpv[dw.nbhd]).sum()))
    n_out = int(soc_active.sum()) - n_in
    uplift = min(1.0, m * 0.25 * n_out / n_in)
    order = rng.permutation(vac)
    u_all = rng.random((len(order), rnd.k_max)).tolist()
    # per-vacancy attributes as Python scalars (cheaper than numpy scalar indexing in the loop)
    v_nb = dw.nbhd[order]
    attr_l = nb.attractiveness[v_nb].tolist()
    v_com_l = nb.commune[v_nb].tolist()
    v_qpv_l = nb.qpv[v_nb].tolist()
    rooms_l = dw.rooms[order].tolist()
    fin_l = dw.financing[order].tolist()
    area_l = dw.area[order].astype(float).tolist()
    rent_l = (dw.rent_m2[order] * dw.area[order]).astype(float).tolist()
    mv_l = dw.months_vacant[order].tolist()
    holder_l = dw.holder[order].tolist()
    handback = L.reservation.handback_months
    refused_all: list[int] = []
    # class of each vacancy: commune, rooms, financing, and the extra rooms tolerated when
    # hard to let; each class's floor (lowest rent and area) for the failure memory
    slack_l = [int(mv >= HARD_TO_LET_MONTHS) + int(mv >= 2 * HARD_TO_LET_MONTHS) for mv in mv_l]
    key_l = list(zip(v_com_l, rooms_l, fin_l, slack_l, strict=True))
    for key, v_qpv, rent, area in zip(key_l, v_qpv_l, rent_l, area_l, strict=True):
        floor = rnd.floors.get((key, v_qpv))
        rnd.floors[(key, v_qpv)] = ((rent, area) if floor is None
                                    else (min(floor[0], rent), min(floor[1], area)))
    rnd.offer_terms = (m, uplift, beh.max_effort_rate)

    for n_v, v in enumerate(order.tolist()):
        key, v_qpv = key_l[n_v], v_qpv_l[n_v]
        static = a._static.get(key)
        if static is None:
            static = a.static_list(*key)
        if len(static) == 0:
            res["unlet_no_candidate"] += 1
            continue
        offer = _Offer(v_qpv, area_l[n_v], rent_l[n_v], *rnd.offer_terms)

        # ---- channel and designation
        if flux:
            holder, sel, eff = rnd.flux_designate(key, offer, v_qpv, shares)
            if holder < 0:
                res["unlet_no_candidate"] += 1
                continue
            _count(state, f"flux_h{holder}")
        else:
            holder = holder_l[n_v]
            sel, eff = rnd.designate(key, offer, holder, v_qpv)
            if not sel and holder != BAILLEUR and mv_l[n_v] >= handback:
                holder = BAILLEUR  # the holder found nobody: the landlord designates
                sel, eff = rnd.designate(key, offer, holder, v_qpv)
        if not sel:
            res["unlet_no_candidate"] += 1
            _count(state, UNLET_KEYS[holder])
            continue
        # ---- commission: ranked candidates, the first who accepts signs
        first = rnd.commission(sel, eff, attr_l[n_v], u_all[n_v])
        if first >= 0:
            refused = sel[:first]
            winner = sel[first]
            a.avail[winner] = 0
            fac = offer.factor_q1 if a.q1_l[winner] else offer.factor_other
            signed.append((winner, v, holder, fac))
            rnd.count_lease(v_qpv, winner, holder)
            res["offers"] += first + 1
        else:
            refused = sel
            res["unlet_refused"] += 1
            res["offers"] += len(sel)
        res["refusals"] += len(refused)
        for i in refused:
            a.avail[i] = 0
        refused_all += refused
        rnd.taken += len(refused) + (first >= 0)
    state.allocation_hints["failed"] = set(rnd.failed)
    # each refuser is offered one dwelling at most in a round: the indices are distinct
    state.hh.refusals[apps[np.array(refused_all, np.int64)]] += 1
    return a.q1


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
    keys = ["leases", ALLOC_KEYS[holder]]
    if prio:
        keys.append(PRIO_KEYS[holder])
    if transfer:
        keys.append("transfers")
    if in_qpv:
        keys.append("leases_in")
        if not q1:
            keys.append("q234_in")
    else:
        keys.append("leases_out")
        if q1 or (reloc and levers.renewal.relocation_priority):
            keys.append("q1_out")
    c = state.counters
    for key in keys:
        c[key] = c.get(key, 0) + 1


def _sign_all(state: State, apps: np.ndarray, q1_local: np.ndarray, signed: list, log: MoveLog
              ) -> dict[str, np.ndarray]:
    """Move the round's winners into their new dwellings (one vectorised update)."""
    hh, dw, nb = state.hh, state.dw, state.nb
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
