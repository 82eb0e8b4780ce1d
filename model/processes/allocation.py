"""Social housing allocation (ODD §7.6): the monthly commission round.

For each vacant social dwelling (re-letting or new delivery), in random order:

1. **Channel** — the reservation holder designates candidates: the préfet among priority
   households (R441-5 CCH), Action Logement among employees, a commune among everybody eligible
   with ``local_preference`` points for its own residents (it may prefer them; living elsewhere
   cannot by itself exclude an applicant, L441-1 CCH), the landlord among everybody. Under
   *stock* management the holder is fixed per dwelling; a holder with no eligible candidate
   keeps the vacancy ``handback_months`` before the landlord designates. Under *flux* management
   (ELAN art. 114, décret 2020-145) the vacancy goes to the holder furthest behind its share of
   the year's flow that has an eligible candidate; a holder's flow counts the vacancies let
   through it (signed leases), so a vacancy refused by every candidate is counted once, when it
   is finally let.
2. **Eligibility** — income ≤ the ceiling of the dwelling's financing, rooms adequate to the
   household size (at least the rooms needed; under-occupation, rooms > persons + 1, only for
   a dwelling vacant without an adequate candidate, after every adequate one), effort rate
   after housing benefit ≤ ``max_effort_rate``, the dwelling's commune among the applicant's
   wishes. A file reaches a commission ``processing_months`` after its registration.
   Households relocated by urban renewal are rehoused whatever their income (the relocation duty
   is owed to every occupant, L314-2 code de l'urbanisme) and may be offered any commune.
3. **Ranking** — the cotation score (ELAN art. 111): points per month waited, priority,
   situation, transfer, relocation (when ``renewal.relocation_priority``), minus refusals.
   Relocated households are not L441-1 priority households: they are outside the préfet's pool
   and the holders' priority share, and count in the Q1 quota outside QPV (L441-1 CCH).
4. **Quotas** (L441-1 CCH) counted on signed leases of the calendar year: outside QPV, Q1
   applicants or relocated households; inside QPV, Q2–Q4 applicants. Enforcement ``none``,
   ``target`` (a bonus for the lagging group while behind) or ``strict`` (offers reserved to the
   lagging group while behind and it has an eligible candidate).
5. **Commission (CALEOL)** — up to ``candidates_per_dwelling`` ranked candidates (R441-3); fewer
   when fewer are eligible, one for a préfet's DALO designation (R441-3's two exceptions); the
   first who accepts signs. Acceptance rises with attractiveness relative to aspiration, falls with
   the effort rate; refusals are counted and may cost points.
6. **Unlet** — a dwelling nobody accepts stays vacant and returns next month.

Implementation. The applicants' attributes are computed once per round with numpy (with the
random part of their score); the round itself, vacancy by vacancy, is one compiled kernel
(:func:`_round_kernel`, see :mod:`mixsim.model.jit`): per vacancy it scans the applicants wishing
the
commune in decreasing score order, keeps those eligible, available and in the holder's pool,
and proposes the best by score plus the bonuses that apply. The random draws (score noise, the
order of vacancies, the acceptance uniforms) are made in numpy before the kernel runs.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np

from ..ceilings import ceiling_one, resources_one
from ..config import Behaviour, Levers
from ..jit import njit
from ..moves import KIND, MoveLog, move_into
from ..rules import (
    ASPIRATION_SLOPE,
    CHARGES_M2,
    apl_from_terms_one,
    apl_participation_one,
    apl_reference_one,
    rooms_needed_one,
    row_situation,
)
from ..state import (
    APP_NONE,
    APP_TRANSFER,
    HOSTED,
    S_SOCIAL,
    SEEK_NONE,
    SOCIAL,
    State,
)

PREFET, ACTION_LOGEMENT, COMMUNE, BAILLEUR = 0, 1, 2, 3
_NONE = np.zeros(0, np.int64)
RLS_PASS_THROUGH = 0.05
# maximum rents of the APL conventions (€/m²/month) by financing PLAI, PLUS, PLS: the upper
# ends of the published ranges (PLAI 4.56–5.97, PLUS 5.14–6.70 €/m², docs/sources.md §1 [P]);
# PLS 150 % of the PLUS maximum (avis loyers [U]). A modulated rent cannot exceed them
# (the convention's maximum binds, L353-2 and L445-2 CCH); a rent already above is not raised.
CONVENTION_MAX_RENT_M2 = np.array([5.97, 6.70, 1.5 * 6.70])
DAYS_PER_MONTH = 365.0 / 12.0
# occupancy norm (ODD §7.6): a dwelling goes first to households it does not leave
# under-occupying (rooms ≤ persons + 1, loi ELAN); once it has stayed vacant
# Behaviour.oversize_after_months without an adequate candidate, smaller households (up to
# Behaviour.oversize_rooms rooms beyond the norm) may be proposed, adequate ones still first and
# then the fewest surplus rooms: the penalty makes the order lexicographic
OVERSIZE_PENALTY = 1.0e6
# rooms of tolerated under-occupation from which the ability-to-pay practice yields (see _designate)
FLOOR_YIELDS_SLACK = 4
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
    # signed on an advertisement (location voulue; the applicant may not have wished the commune)
    advertised: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # stable ids (``hid``) of the households offered a dwelling this month: those who refused
    # one, and every household offered (signers and refusers)
    refused_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offered_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offers: int = 0
    refusals: int = 0
    vacancies: int = 0
    unlet_no_candidate: int = 0
    unlet_refused: int = 0

    @property
    def n(self) -> int:
        """Signed leases."""
        return len(self.households)


def _by_decreasing(score: np.ndarray) -> np.ndarray:
    """Return the indices by decreasing score, ties in index order (as numpy's stable sort)."""
    order = np.argsort(-score)
    ranked = score[order]
    if (ranked[1:] == ranked[:-1]).any():  # ties (practically never: scores carry noise)
        order = np.argsort(-score, kind="stable")
    return order


LEASE_FIELDS = ("households", "dwellings", "holders", "in_qpv", "q1", "relocation", "transfer",
                "priority", "new_unit", "wait", "quartile", "advertised")


def allocate(state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
             log: MoveLog) -> AllocationResult:
    """Run this month's allocation round; return the signed leases and offer counts."""
    hh, dw = state.hh, state.dw
    vacant = np.flatnonzero((dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
                            & (dw.occupant < 0))
    # a vacated dwelling is offered after ``relet_months`` (inventory, repairs, the
    # commission's calendar); new units are offered at delivery
    vac = vacant[(dw.months_vacant[vacant] >= beh.relet_months) | dw.new[vacant]]
    # a file reaches a commission ``processing_months`` after its registration (lifecycle of
    # a demand: registration, processing, yearly renewal, allocation; ODD §7.6)
    apps = np.flatnonzero(hh.alive & (hh.app != APP_NONE)
                          & (hh.app_month <= state.month - beh.processing_months))
    res = dict(offers=0, refusals=0, vacancies=len(vac), unlet_no_candidate=0, unlet_refused=0,
               refused_ids=np.zeros(0, np.int64))
    signed = (_NONE, _NONE, _NONE, np.zeros(0), _NONE.astype(bool))
    q1 = _NONE.astype(bool)
    if len(vac) and len(apps):
        q1, signed = _round(state, levers, beh, rng, vac, apps, res)
    else:
        res["unlet_no_candidate"] = len(vac)
    leases = _sign_all(state, apps, q1, signed, log)
    res["offered_ids"] = np.concatenate([hh.hid[leases["households"]], res["refused_ids"]])
    still = vacant[dw.occupant[vacant] < 0]
    dw.months_vacant[still] += 1
    return AllocationResult(**leases, **res)


# ----------------------------------------------------------------------------------------------
# the round, compiled
# ----------------------------------------------------------------------------------------------

# group codes (membership tests of _member) and enforcement codes
G_LOCAL, G_Q1, G_Q234, G_PRIO, G_TRANSFER = range(5)
ENFORCEMENT = {"none": 0, "target": 1, "strict": 2}
STRICT = ENFORCEMENT["strict"]
# slots of the year's counters the round reads and updates (see _count_lease)
C_LEASES, C_ALLOC, C_PRIO, C_TRANSFERS = 0, 1, 5, 9
C_LEASES_IN, C_Q234_IN, C_LEASES_OUT, C_Q1_OUT, C_UNLET, C_FLUX = 10, 11, 12, 13, 14, 18
C_AGENTS = 22  # leases of the préfet's State-agents part
COUNTER_KEYS = (("leases",) + ALLOC_KEYS + PRIO_KEYS
                + ("transfers", "leases_in", "q234_in", "leases_out", "q1_out")
                + UNLET_KEYS + tuple(f"flux_h{h}" for h in range(4)) + ("prefet_agents",))
# pools a holder designates from (see _designate)
POOL_PRIORITY, POOL_EMPLOYED, POOL_ALL = range(3)


# the round's rules, passed to the kernels as named tuples (fields: see _round and _applicants)
RoundRules = namedtuple("RoundRules", [
    "k_max", "flux", "handback_months", "modulation", "uplift", "max_effort", "accept_base",
    "accept_attractiveness", "accept_effort", "local_preference",
    "q1_enforcement", "q1_share", "q1_bonus", "qpv_enforcement", "qpv_share", "qpv_bonus",
    "priority_enforcement", "priority_share", "priority_bonus", "transfer_share",
    "transfer_bonus", "relocation_priority", "solvency_floor", "prefet_agents_share",
    "advertise_months", "advertise_public", "ad_seed"])
CotationWeights = namedtuple("CotationWeights", [
    "per_month_waited", "priority", "homeless", "overcrowded", "excessive_cost", "separation",
    "transfer", "relocation", "refusal_penalty"])
ApplicantTerms = namedtuple("ApplicantTerms", [
    "month", "q1_threshold", "ceiling_index", "information", "rls", "relocation_counts",
    "median"])

# rows of the applicants' packed attribute arrays (see _applicants)
F_BASE, F_APL_CAP, F_APL_PART, F_RLS, F_INCOME_M, F_ASPIRATION, F_ACCEPT, F_UC = range(8)
I_NEED, I_MAX_ROOMS, I_HOME, I_WISHES = range(4)
B_Q1, B_Q1_GROUP, B_RELOC, B_PRIO, B_EMPLOYED, B_TRANSFER, B_FIN = range(7)  # B_FIN + financing
# rows of the vacancies' packed arrays
V_DW, V_COM, V_QPV, V_ROOMS, V_FIN, V_SLACK, V_MONTHS, V_HOLDER = range(8)
V_AREA, V_RENT, V_ATTR, V_CAP = range(4)


def _applicants(state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
                apps: np.ndarray) -> tuple[np.ndarray, ...]:
    """Compute the applicants' attributes for the round (draws the score noise).

    Returns:
        Local indices by decreasing base score, and the attributes packed by type, one row per
        attribute (local index = position in ``apps``): floats (``F_*``: base score = cotation
        + noise, the effort-rate terms that do not depend on the dwelling, aspiration,
        acceptance adjustment, consumption units), integers (``I_*``: rooms needed, rooms
        beyond which the dwelling is under-occupied, commune of residence, wished communes)
        and flags (``B_*``: Q1, counted in the Q1 quota, relocated, priority, employee,
        transfer, and from ``B_FIN`` on eligible for PLAI, PLUS, PLS dwellings: income within
        the ceiling, or relocated).
    """
    hh, dw, nb = state.hh, state.dw, state.nb
    w = levers.cotation
    weights = CotationWeights(*(float(x) for x in (
        w.per_month_waited, w.priority, w.homeless, w.overcrowded, w.excessive_cost,
        w.separation, w.transfer, w.relocation, w.refusal_penalty)))
    rls = levers.rent.rls_amount * RLS_PASS_THROUGH if levers.rent.rls else 0.0
    terms = ApplicantTerms(
        month=float(state.month), q1_threshold=float(state.q1_threshold),
        ceiling_index=float(state.ceiling_index), information=float(levers.information.level),
        rls=float(rls), relocation_counts=bool(levers.renewal.relocation_priority),
        median=float(state.median_income_uc))
    noise = rng.random(len(apps))
    floats, ints, flags = _applicant_kernel(
        apps, noise, terms, weights, hh.adults, hh.kids_u14, hh.kids_14p, hh.income_uc, hh.z,
        hh.tenure, hh.dwelling, hh.nbhd, hh.app, hh.app_month, hh.priority, hh.separated,
        hh.relocation, hh.refusals, hh.employed, hh.wishes, hh.age, hh.rfr, dw.rooms, dw.area,
        dw.rent_m2, dw.rent_factor, nb.private_rent_m2, nb.commune)
    return _by_decreasing(floats[F_BASE]), floats, ints, flags


@njit
def _applicant_kernel(apps, noise, terms, w, adults, kids_u14, kids_14p, income_uc, z, tenure,
                      dwelling, nbhd, app, app_month, priority, separated, relocation, refusals,
                      employed, wishes, age, rfr, dw_rooms, dw_area, dw_rent_m2,
                      dw_rent_factor, private_rent_m2, commune):
    """Attributes of applicants ``apps`` (see :func:`_applicants`).

    The cotation score (ELAN art. 111) adds points per month waited and for priority,
    homelessness or hosting, over-crowding, an effort rate above 35 %, separation, transfer and
    (with ``relocation_priority``) relocation, and subtracts points per refusal (weights
    ``w``); ``noise`` × 0.5 breaks ties.
    The score is the legal grid only: the commissions' weighing of the ability to pay acts at
    the commission stage (:func:`_round_kernel`). Relocated households pass every income
    ceiling (the relocation duty is owed whatever the income) and are not priority households
    (``B_PRIO``). Over-crowding and the effort rate are those of the current home (0 without one).
    The others' resources (RFR of year N-2, :func:`~mixsim.model.ceilings.resources_one`) are
    compared with the ceilings of the arrêté of 29 July 1987 (:mod:`mixsim.model.ceilings`).
    """
    month, q1_threshold, ceiling_index = terms.month, terms.q1_threshold, terms.ceiling_index
    information, rls, reloc_counts = terms.information, terms.rls, terms.relocation_counts
    median = terms.median
    n = len(apps)
    floats = np.empty((8, n))
    ints = np.empty((4, n), np.int64)
    flags = np.empty((B_FIN + 3, n), np.bool_)
    for j in range(n):
        i = apps[j]
        # situation in the current home (none without one)
        over, _, effort, size, income = row_situation(
            i, dwelling, tenure, nbhd, adults, kids_u14, kids_14p, income_uc, dw_rooms, dw_area,
            dw_rent_m2, dw_rent_factor, private_rent_m2)
        need = rooms_needed_one(size)
        hosted = tenure[i] == HOSTED
        transfer = app[i] == APP_TRANSFER
        reloc = relocation[i]
        prio = priority[i]
        score = (w.per_month_waited * (month - app_month[i]) + w.priority * _f(prio)
                 + w.homeless * _f(hosted) + w.overcrowded * _f(over)
                 + w.excessive_cost * _f(effort > 0.35) + w.separation * _f(separated[i])
                 + w.transfer * _f(transfer) + w.relocation * _f(reloc and reloc_counts)
                 - w.refusal_penalty * refusals[i])
        floats[F_BASE, j] = score + noise[j] * 0.5
        floats[F_APL_CAP, j] = apl_reference_one(size)
        floats[F_APL_PART, j] = apl_participation_one(income, size)
        floats[F_RLS, j] = rls if income / 12.0 < 1500.0 else 0.0
        floats[F_INCOME_M, j] = max(income / 12.0, 1.0)
        floats[F_UC, j] = 1.0 + 0.5 * (adults[i] - 1 + kids_14p[i]) + 0.3 * kids_u14[i]
        floats[F_ASPIRATION, j] = ASPIRATION_SLOPE * z[i]
        floats[F_ACCEPT, j] = ((-0.5 if transfer else 0.0) + (0.5 if hosted else 0.0)
                               + (0.5 if prio or reloc else 0.0) + (1.5 if reloc else 0.0)
                               + 1.0 * information)
        ints[I_NEED, j] = need
        ints[I_MAX_ROOMS, j] = size + 1
        ints[I_HOME, j] = commune[nbhd[i]]
        ints[I_WISHES, j] = wishes[i]
        q1 = income_uc[i] <= q1_threshold
        flags[B_Q1, j] = q1
        flags[B_Q1_GROUP, j] = q1 or (reloc and reloc_counts)
        flags[B_RELOC, j] = reloc
        flags[B_PRIO, j] = prio
        flags[B_EMPLOYED, j] = employed[i]
        flags[B_TRANSFER, j] = transfer
        res = resources_one(income, income_uc[i], rfr[i], median)
        for f in range(3):  # PLAI, PLUS, PLS
            flags[B_FIN + f, j] = reloc or res <= ceiling_one(f, adults[i], size, age[i],
                                                              ceiling_index)
    return floats, ints, flags


@njit
def _f(flag):
    """1.0 for True, 0.0 for False."""
    return 1.0 if flag else 0.0


def _round(state: State, levers: Levers, beh: Behaviour, rng: np.random.Generator,
           vac: np.ndarray, apps: np.ndarray, res: dict) -> tuple[np.ndarray, tuple]:
    """Treat the vacancies in random order (see :func:`_round_kernel`).

    Returns:
        Whether each applicant (local index) counts as Q1, and the signed leases: local
        applicant indices, dwellings, holders and rent factors.
    """
    dw, nb = state.dw, state.nb
    L = levers
    a_order, a_f, a_i, a_b = _applicants(state, L, beh, rng, apps)
    k_max = L.commission.candidates_per_dwelling
    # rent modulation (revenue-neutral): cheaper outside QPV for Q1, dearer inside QPV
    m = L.rent.modulation
    soc_active = (dw.sector == S_SOCIAL) & dw.active
    n_in = max(1, int((soc_active & nb.qpv[dw.nbhd]).sum()))
    n_out = int(soc_active.sum()) - n_in
    uplift = min(1.0, m * 0.25 * n_out / n_in)
    order = rng.permutation(vac)
    u = rng.random((len(order), k_max))
    v_nb = dw.nbhd[order]
    mv = dw.months_vacant[order]
    # extra rooms of under-occupation tolerated once on offer without an adequate candidate:
    # oversize_rooms more every oversize_after_months (months on offer: vacant months after
    # the re-letting delay; new units are on offer from delivery; the holders' hand-back
    # also counts months on offer)
    on_offer = np.maximum(0, mv.astype(np.int64)
                          - np.where(dw.new[order], 0, beh.relet_months))
    slack = beh.oversize_rooms * (on_offer // max(1, beh.oversize_after_months))
    if beh.oversize_after_months == 0:
        slack[:] = 5 * max(1, beh.oversize_rooms)
    v_i = np.stack([order, nb.commune[v_nb], nb.qpv[v_nb], dw.rooms[order],
                    dw.financing[order], slack, on_offer, dw.holder[order]]).astype(np.int64)
    # the largest rent factor the convention's maximum rent allows (at least 1)
    cap = np.maximum(1.0, CONVENTION_MAX_RENT_M2[np.maximum(dw.financing[order], 0)]
                     / np.maximum(dw.rent_m2[order].astype(float), 1e-9))
    v_f = np.stack([dw.area[order].astype(float),
                    (dw.rent_m2[order] * dw.area[order]).astype(float),
                    nb.attractiveness[v_nb].astype(float), cap])
    c = state.counters
    counters = np.array([float(c.get(key, 0)) for key in COUNTER_KEYS])
    before = counters.copy()
    q, p, t = L.quota_q1, L.quota_qpv, L.priority
    rules = RoundRules(
        k_max=int(k_max), flux=L.reservation.management == "flux",
        handback_months=float(L.reservation.handback_months), modulation=float(m),
        uplift=float(uplift), max_effort=float(beh.max_effort_rate),
        accept_base=float(beh.accept_base), accept_attractiveness=float(beh.accept_attractiveness),
        accept_effort=float(beh.accept_effort),
        local_preference=float(L.reservation.local_preference),
        q1_enforcement=ENFORCEMENT[q.enforcement], q1_share=float(q.share),
        q1_bonus=float(q.bonus_points),
        qpv_enforcement=ENFORCEMENT[p.enforcement], qpv_share=float(p.share),
        qpv_bonus=float(p.bonus_points),
        priority_enforcement=ENFORCEMENT[t.enforcement], priority_share=float(t.share),
        priority_bonus=float(t.bonus_points),
        transfer_share=float(L.transfers.share), transfer_bonus=float(L.transfers.bonus_points),
        relocation_priority=bool(L.renewal.relocation_priority),
        # €/month per consumption unit, indexed as incomes
        solvency_floor=float(beh.commission_solvency * DAYS_PER_MONTH * state.ceiling_index),
        prefet_agents_share=float(L.reservation.prefet_agents / L.reservation.prefet
                                  if L.reservation.prefet > 0 else 0.0),
        advertise_months=int(beh.advertise_after_months),
        advertise_public=beh.advertise_scope == "territory",
        ad_seed=int(rng.integers(0, 2**62)) if beh.advertise_after_months > 0 else 0)
    shares = np.asarray(L.reservation.shares(), float)
    w_local, w_dw, w_holder, w_factor, w_adv, refused, refused_h, stats = _round_kernel(
        a_order, a_f, a_i, a_b, v_i, v_f, u, rules, shares, len(state.commune_ids), counters)
    for key, old, new in zip(COUNTER_KEYS, before.tolist(), counters.tolist(), strict=True):
        if new != old:
            c[key] = c.get(key, 0) + int(new - old)
    for name, value in zip(("offers", "refusals", "unlet_no_candidate", "unlet_refused"),
                           stats.tolist(), strict=True):
        res[name] += value
    # each refuser is offered one dwelling at most in a round: the indices are distinct
    state.hh.refusals[apps[refused]] += 1
    res["refused_ids"] = state.hh.hid[apps[refused]]
    if L.priority.lost_after_refusal:
        # a priority household refusing the préfet's adapted offer releases the préfet of its
        # obligation (L441-2-3 CCH; every offer made is adapted: eligible, sized, affordable)
        state.hh.priority[apps[refused[refused_h == PREFET]]] = False
    return a_b[B_Q1], (w_local, w_dw, w_holder, w_factor, w_adv)


@njit
def _round_kernel(order, a_f, a_i, a_b, v_i, v_f, u, rules, shares, n_communes, counters):
    """Run the commission round over the vacancies in the given (random) order.

    For each vacancy: the holder designates (or, under flux management, the holder furthest
    behind its share that has an eligible candidate), :func:`_designate`; the commission offers
    the dwelling to the candidates in turn, the first who accepts signs; refusers leave the
    round. ``counters`` (the year's lease counters, slots ``C_*``) are updated in place.

    Returns:
        Signed leases (local applicant, dwelling, holder, rent factor), the refusers (local
        indices) and the holders whose offer they refused, and the counts of offers, refusals,
        vacancies unlet for lack of candidate and vacancies refused by every candidate.
    """
    k_max, flux, handback = rules.k_max, rules.flux, rules.handback_months
    modulation, uplift, max_e = rules.modulation, rules.uplift, rules.max_effort
    n_a, n_v = len(order), v_i.shape[1]
    reloc, wishes = a_b[B_RELOC], a_i[I_WISHES]
    need, max_rooms = a_i[I_NEED], a_i[I_MAX_ROOMS]
    # applicants wishing each commune (relocated households: every commune), by decreasing
    # score: compressed rows, commune c's list at lst[start[c]:start[c + 1]]; one more list,
    # index n_communes, holds every applicant (who sees a public listing's advertisements)
    start = np.zeros(n_communes + 2, np.int64)
    for r in range(n_a):
        i = order[r]
        for c in range(n_communes):
            if reloc[i] or (wishes[i] >> c) & 1:
                start[c + 1] += 1
    start[n_communes + 1] = n_a
    for c in range(n_communes + 1):
        start[c + 1] += start[c]
    lst = np.empty(start[n_communes + 1], np.int64)
    fill = start[:n_communes + 1].copy()
    for r in range(n_a):
        i = order[r]
        for c in range(n_communes):
            if reloc[i] or (wishes[i] >> c) & 1:
                lst[fill[c]] = i
                fill[c] += 1
        lst[fill[n_communes]] = i
        fill[n_communes] += 1
    sizes = _size_lists(order, lst, start, n_communes + 1, need, max_rooms, v_i[V_ROOMS])
    avail = np.ones(n_a, np.bool_)
    buf_i = np.empty(2 * n_a, np.int64)  # fitting candidates (the second half: _keep_members)
    buf_e = np.empty(2 * n_a)
    sel = np.empty(k_max, np.int64)
    eff = np.empty(k_max)
    w_local = np.empty(n_v, np.int64)
    w_dw = np.empty(n_v, np.int64)
    w_holder = np.empty(n_v, np.int64)
    w_factor = np.empty(n_v)
    w_adv = np.zeros(n_v, np.bool_)
    refused = np.empty(n_v * k_max, np.int64)
    refused_h = np.empty(n_v * k_max, np.int64)
    n_w = n_r = offers = unlet_none = unlet_refused = 0
    flux_order = np.empty(4, np.int64)
    deficit = np.empty(4)
    adv_out = np.zeros(1, np.int64)
    for n in range(n_v):
        com, rooms, fin, slack = v_i[V_COM, n], v_i[V_ROOMS, n], v_i[V_FIN, n], v_i[V_SLACK, n]
        ad_index = n * n_a if (rules.advertise_months > 0
                               and v_i[V_MONTHS, n] >= rules.advertise_months) else -1
        adv_out[0] = 0
        in_qpv = v_i[V_QPV, n] != 0
        # nobody wishing the commune whose income and size fit (availability aside); an
        # advertisement on a public listing is seen by applicants of every commune
        if not (ad_index >= 0 and rules.advertise_public) \
                and not _any_size_fitting(sizes, com, rooms, slack, lst, a_b[B_FIN + fin]):
            unlet_none += 1
            continue
        # rent terms of the offer (revenue-neutral modulation: dearer in QPV, up to the
        # convention's maximum rent, cheaper outside QPV for Q1 applicants)
        if in_qpv:
            f_q1 = f_other = min(1.0 + uplift, v_f[V_CAP, n])
        elif modulation == 0.0:
            f_q1 = f_other = 1.0
        else:
            f_q1, f_other = 1.0 - modulation, 1.0
        rent_q1, rent_other = v_f[V_RENT, n] * f_q1, v_f[V_RENT, n] * f_other
        charges = CHARGES_M2 * v_f[V_AREA, n]
        if flux:
            total = counters[C_FLUX:C_FLUX + 4].sum() + 1
            for h in range(4):
                deficit[h] = shares[h] * total - counters[C_FLUX + h]
                flux_order[h] = h
            for h in range(1, 4):  # stable insertion sort by decreasing deficit
                x = flux_order[h]
                j = h - 1
                while j >= 0 and deficit[flux_order[j]] < deficit[x]:
                    flux_order[j + 1] = flux_order[j]
                    j -= 1
                flux_order[j + 1] = x
            holder, n_sel = -1, 0
            for h in flux_order:
                if shares[h] <= 0 and h != BAILLEUR:
                    continue
                n_sel = _holder_designates(h, com, rooms, fin, slack, in_qpv, rent_q1,
                                           rent_other, charges, max_e, a_f, a_i, a_b, lst,
                                           start, sizes, avail, rules, counters, k_max, buf_i,
                                           buf_e, sel, eff, ad_index, v_f[V_ATTR, n], adv_out)
                if n_sel:
                    holder = h
                    break
            if holder < 0:
                unlet_none += 1
                continue
        else:
            holder = v_i[V_HOLDER, n]
            n_sel = _holder_designates(holder, com, rooms, fin, slack, in_qpv, rent_q1,
                                       rent_other, charges, max_e, a_f, a_i, a_b, lst, start, sizes,
                                       avail, rules, counters, k_max, buf_i, buf_e, sel, eff,
                                       ad_index, v_f[V_ATTR, n], adv_out)
            if n_sel == 0 and holder != BAILLEUR and v_i[V_MONTHS, n] >= handback:
                holder = BAILLEUR  # the holder found nobody: the landlord designates
                n_sel = _holder_designates(holder, com, rooms, fin, slack, in_qpv, rent_q1,
                                           rent_other, charges, max_e, a_f, a_i, a_b, lst,
                                           start, sizes, avail, rules, counters, k_max, buf_i,
                                           buf_e, sel, eff, ad_index, v_f[V_ATTR, n], adv_out)
        if n_sel == 0:
            unlet_none += 1
            counters[C_UNLET + holder] += 1
            continue
        # commission: each candidate in turn accepts with probability _accept_probability
        first = -1
        if adv_out[0]:
            first = 0  # those who answered the advertisement: the first in rank signs
        for j in range(n_sel if first < 0 else 0):
            if u[n, j] < _accept_probability(rules, v_f[V_ATTR, n], eff[j], a_f, sel[j]):
                first = j
                break
        n_ref = n_sel if first < 0 else first
        for j in range(n_ref):
            avail[sel[j]] = False
            refused[n_r] = sel[j]
            refused_h[n_r] = holder
            n_r += 1
        if first >= 0:
            i = sel[first]
            avail[i] = False
            w_local[n_w] = i
            w_dw[n_w] = v_i[V_DW, n]
            w_holder[n_w] = holder
            w_factor[n_w] = f_q1 if a_b[B_Q1, i] else f_other
            w_adv[n_w] = adv_out[0] != 0
            n_w += 1
            if flux:  # the holder's flow counts the vacancy once, on its signed lease
                counters[C_FLUX + holder] += 1
            if holder == PREFET and not a_b[B_PRIO, i]:  # designated as a State agent
                counters[C_AGENTS] += 1
            _count_lease(counters, in_qpv, a_b[B_Q1, i], a_b[B_RELOC, i], a_b[B_PRIO, i],
                         a_b[B_TRANSFER, i], holder, rules.relocation_priority)
            offers += first + 1
        else:
            unlet_refused += 1
            offers += n_sel
    stats = np.array([offers, n_r, unlet_none, unlet_refused], np.int64)
    return (w_local[:n_w], w_dw[:n_w], w_holder[:n_w], w_factor[:n_w], w_adv[:n_w],
            refused[:n_r], refused_h[:n_r], stats)


@njit
def _accept_probability(rules, attractiveness, effort, a_f, i):
    """Probability that applicant ``i`` accepts (or answers the advertisement of) a dwelling.

    logistic(accept_base + accept_attractiveness × (attractiveness − aspiration)
    − accept_effort × (effort − 0.25) + the applicant's adjustments) [ODD §7.6].
    """
    logit = (rules.accept_base + rules.accept_attractiveness
             * (attractiveness - a_f[F_ASPIRATION, i])
             - rules.accept_effort * (effort - 0.25) + a_f[F_ACCEPT, i])
    return 1.0 / (1.0 + math.exp(-logit))


@njit
def _uniform(key, index):
    """Return a uniform number in [0, 1) determined by ``key`` and ``index``.

    The SplitMix64 finaliser (Steele, Lea & Flood 2014), for draws whose number is not known in
    advance (the applicants who see an advertisement).
    """
    z = np.uint64(key) + np.uint64(index + 1) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit
def _member(g, i, com, a_i, a_b):
    """Whether local applicant ``i`` belongs to group ``g`` (``G_LOCAL``: lives in ``com``)."""
    if g == G_LOCAL:
        return a_i[I_HOME, i] == com
    if g == G_Q1:
        return a_b[B_Q1_GROUP, i]
    if g == G_Q234:
        return not a_b[B_Q1, i]
    if g == G_PRIO:
        return a_b[B_PRIO, i]
    return a_b[B_TRANSFER, i]


@njit
def _holder_designates(holder, com, rooms, fin, slack, in_qpv, rent_q1, rent_other, charges,
                       max_e, a_f, a_i, a_b, lst, start, sizes, avail, rules, counters, k_max,
                       buf_i, buf_e, sel, eff, ad_index, attr, adv_out):
    """Ranked candidates a holder designates from its pool; return how many (in ``sel``).

    Pools: préfet, priority households — except that while the leases of its State agents'
    part are behind ``prefet_agents`` / ``prefet`` of its leases it designates among employed
    applicants (standing for State agents) first (R441-5 CCH: of the préfet's 30 %, 25 points
    for priority households and 5 for State agents); Action Logement, employees; commune and
    landlord, everybody.

    The commission examines ``k_max`` candidates (at least three, R441-3 CCH) except in the
    two cases of that article: when there are fewer eligible candidates (then those there are),
    and for a household the préfet designates under the DALO procedure (L441-2-3 CCH), examined
    alone: the préfet's designations of priority households stand for these [assumption: the
    model does not tell DALO households from the other L441-1 priorities].
    """
    args = (com, rooms, fin, slack, in_qpv, rent_q1, rent_other, charges, max_e, a_f, a_i, a_b,
            lst, start, sizes, avail, rules, counters, k_max, buf_i, buf_e, sel, eff, ad_index,
            attr, adv_out)
    if holder == PREFET:
        agents = rules.prefet_agents_share
        if agents > 0 and counters[C_AGENTS] < agents * (counters[C_ALLOC + PREFET] + 1):
            n_sel = _designate(holder, POOL_EMPLOYED, *args)
            if n_sel:
                return n_sel
        # a DALO designation: one candidate (R441-3 CCH)
        return _designate(holder, POOL_PRIORITY, com, rooms, fin, slack, in_qpv, rent_q1,
                          rent_other, charges, max_e, a_f, a_i, a_b, lst, start, sizes, avail,
                          rules, counters, 1, buf_i, buf_e, sel, eff, ad_index, attr, adv_out)
    return _designate(holder, POOL_EMPLOYED if holder == ACTION_LOGEMENT else POOL_ALL, *args)


@njit
def _designate(holder, pool, com, rooms, fin, slack, in_qpv, rent_q1, rent_other, charges,
               max_e, a_f, a_i, a_b, lst, start, sizes, avail, rules, counters, k_max, buf_i, buf_e,
               sel, eff, ad_index, attr, adv_out):
    """Ranked candidates a holder designates for a vacancy; return how many (in ``sel``).

    The candidates are the available applicants of the ``pool`` (``POOL_PRIORITY``: priority
    households; ``POOL_EMPLOYED``: employees; ``POOL_ALL``: everybody, a commune holder adding
    ``local_preference`` points for its residents) who wish the commune, whose income is
    within the ceiling of the dwelling's financing (relocated households: any income), whose
    size fits its rooms and whose effort rate is at most ``max_e`` (``eff`` receives the
    effort rates).

    The commission's ability-to-pay practice (L441-1 CCH lets resources be judged only against
    the cost of the housing): an applicant is not proposed for a dwelling that would leave it a
    residual income (*reste à vivre*: income minus rent and charges plus housing benefit) below
    ``commission_solvency`` €/day per consumption unit (constant 2024 euros, as every amount:
    :mod:`~model.processes.income`) — for cheaper dwellings it still is. The
    préfet's designations of priority households are exempt: the préfet may allocate himself
    when a commission refuses a DALO household (L441-2-3 CCH); and while offers outside QPV are
    reserved to the Q1 group (strict enforcement of the L441-1 quota), the floor yields to the
    quota for its members. This is a practice parameter, not a criterion of the cotation grid.

    Under strict enforcement only members of every lagging group
    are proposed, then members of one of them, then anybody; the ``k_max`` best are proposed
    by decreasing score plus the bonuses that apply, ties in base-score order.
    """
    # groups that quotas reserve (strict) or favour (bonus points), while behind their share
    strict = np.empty(3, np.int64)
    bonus_g = np.empty(5, np.int64)
    bonus_p = np.empty(5)
    n_s = n_b = 0
    if holder == COMMUNE and rules.local_preference > 0:
        bonus_g[n_b] = G_LOCAL
        bonus_p[n_b] = rules.local_preference
        n_b += 1
    c = counters
    for q in range(3):  # the Q1 quota (outside QPV), the QPV quota (inside), priority
        if q == 0:
            behind = not in_qpv and c[C_Q1_OUT] < rules.q1_share * (c[C_LEASES_OUT] + 1)
            enforcement, bonus, g = rules.q1_enforcement, rules.q1_bonus, G_Q1
        elif q == 1:
            behind = in_qpv and c[C_Q234_IN] < rules.qpv_share * (c[C_LEASES_IN] + 1)
            enforcement, bonus, g = rules.qpv_enforcement, rules.qpv_bonus, G_Q234
        else:
            behind = c[C_PRIO + holder] < rules.priority_share * (c[C_ALLOC + holder] + 1)
            enforcement, bonus, g = rules.priority_enforcement, rules.priority_bonus, G_PRIO
        if behind and enforcement != 0:
            if enforcement == STRICT:
                strict[n_s] = g
                n_s += 1
            else:
                bonus_g[n_b] = g
                bonus_p[n_b] = bonus
                n_b += 1
    if rules.transfer_share > 0 and c[C_TRANSFERS] < rules.transfer_share * (c[C_LEASES] + 1):
        bonus_g[n_b] = G_TRANSFER
        bonus_p[n_b] = rules.transfer_bonus
        n_b += 1
    # fitting candidates in base-score order (the first k_max suffice without groups and
    # without tolerated under-occupation)
    ok_fin, need, max_rooms = a_b[B_FIN + fin], a_i[I_NEED], a_i[I_MAX_ROOMS]
    prio, employed, q1 = a_b[B_PRIO], a_b[B_EMPLOYED], a_b[B_Q1]
    apl_cap, apl_part, rls, income_m = a_f[F_APL_CAP], a_f[F_APL_PART], a_f[F_RLS], \
        a_f[F_INCOME_M]
    uc, floor, q1_group = a_f[F_UC], rules.solvency_floor, a_b[B_Q1_GROUP]
    exempt = holder == PREFET and pool == POOL_PRIORITY
    # a dwelling on offer for advertise_months is advertised (location voulue): applicants see
    # it and answer with the probability they would accept it (the commission step's
    # acceptance); the commission ranks those who answered, and the first signs (an applicant
    # who does not answer has refused no offer). The préfet's designations of priority
    # households are not advertised. advertise_public: on a public listing, seen by the
    # applicants of every commune (Bienvéo.fr, USH 2017; landlords' adverts; "location active"
    # of the Pays Voironnais); else by those who wish the dwelling's commune [ODD §7.6]
    advertised = not exempt and ad_index >= 0
    adv_out[0] = 1 if advertised else 0
    q1_reserved = False  # offers reserved to the Q1 group: the floor yields to the quota
    for q in range(n_s):
        if strict[q] == G_Q1:
            q1_reserved = True
    # on a public listing (advertise_public) every applicant of the territory sees it: the
    # list of every applicant, after the communes' (see _round_kernel)
    lc = len(start) - 2 if advertised and rules.advertise_public else com
    n_fit = 0
    stop = k_max if n_s == 0 and n_b == 0 and slack == 0 else -1
    # With an early stop, the list in base-score order; else only the applicants whose size
    # can fit (_size_lists), in any order: the selection below breaks score ties by
    # base-score rank, so the order they are found in does not matter.
    sstart, spos, r_cap, rank = sizes
    w = r_cap + 1
    lo_b = max(rooms - slack, 0)
    n_lists = (min(rooms, r_cap) + 1) * (w - lo_b) if stop < 0 else 1
    for x in range(n_lists):
        if stop < 0:
            a, b = x // (w - lo_b), lo_b + x % (w - lo_b)
            y = (lc * w + a) * w + b
            first, last = sstart[y], sstart[y + 1]
        else:
            first, last = start[lc], start[lc + 1]
        for q in range(first, last):
            i = lst[spos[q]] if stop < 0 else lst[q]
            if not avail[i] or not ok_fin[i] or need[i] > rooms or max_rooms[i] < rooms - slack:
                continue
            if (pool == POOL_PRIORITY and not prio[i]) \
                    or (pool == POOL_EMPLOYED and not employed[i]):
                continue
            rent = rent_q1 if q1[i] else rent_other
            apl = apl_from_terms_one(rent, apl_cap[i], apl_part[i])  # housing benefit
            e = (rent + charges - apl - rls[i]) / income_m[i]
            if e <= max_e:
                # judged unable to bear this dwelling's cost (commission practice); the practice
                # yields once the dwelling has stayed on offer unlet through two periods of
                # tolerated under-occupation (slack ≥ FLOOR_YIELDS_SLACK rooms: 4 months with the
                # defaults): a hard-to-let dwelling goes to who can take it, with the usual support
                # of the FSL [assumption, ODD §7.6]
                if not exempt and not (q1_reserved and q1_group[i]) and slack < FLOOR_YIELDS_SLACK \
                        and income_m[i] * (1.0 - e) < floor * uc[i]:
                    continue
                if advertised and _uniform(rules.ad_seed, ad_index + i) \
                        >= _accept_probability(rules, attr, e, a_f, i):
                    continue  # does not answer the advertisement
                buf_i[n_fit] = i
                buf_e[n_fit] = e
                n_fit += 1
                if n_fit == stop:
                    break
    if n_fit == 0:
        return 0
    # strict reservation: members of every lagging group, else of one at a time, else anybody
    if n_s:
        kept = _keep_members(buf_i, buf_e, n_fit, strict, n_s, com, a_i, a_b)
        if kept == 0 and n_s > 1:
            for q in range(n_s):
                kept = _keep_members(buf_i, buf_e, n_fit, strict[q:q + 1], 1, com, a_i, a_b)
                if kept:
                    break
        if kept:
            n_fit = kept
    # the k_max best by decreasing effective score, ties in base-score order
    score = np.empty(n_fit)
    for j in range(n_fit):
        i = buf_i[j]
        s = a_f[F_BASE, i]
        for b in range(n_b):
            s = s + bonus_p[b] * (1.0 if _member(bonus_g[b], i, com, a_i, a_b) else 0.0)
        if rooms > max_rooms[i]:  # under-occupying: after every adequate candidate
            s = s - OVERSIZE_PENALTY * (rooms - max_rooms[i])
        score[j] = s
    n_sel = min(k_max, n_fit)
    for m in range(n_sel):
        best = -1
        for j in range(n_fit):
            if score[j] != -np.inf and (best < 0 or score[j] > score[best] or (
                    score[j] == score[best] and rank[buf_i[j]] < rank[buf_i[best]])):
                best = j
        sel[m] = buf_i[best]
        eff[m] = buf_e[best]
        score[best] = -np.inf
    return n_sel


@njit
def _size_lists(order, lst, start, n_communes, need, max_rooms, rooms):
    """Each commune's applicants split by size, and each applicant's base-score rank.

    The size of an applicant is the rooms it needs and the rooms beyond which a dwelling is
    under-occupied, both capped at ``r_cap``, one more than the largest vacancy's rooms (above
    it every applicant behaves alike). A vacancy of ``rooms`` rooms with ``slack`` rooms of
    tolerance reads only the lists of sizes ``a <= rooms``, ``b >= rooms - slack`` instead of
    every applicant of its commune (the round's cost grew as vacancies × applicants).

    Returns ``(sstart, spos, r_cap, rank)``: the positions in ``lst`` of commune ``c``'s
    applicants of size ``(a, b)`` are ``spos[sstart[y]:sstart[y + 1]]``,
    ``y = (c * (r_cap + 1) + a) * (r_cap + 1) + b``; ``rank[i]``: applicant ``i``'s place in
    ``order`` (by decreasing base score).
    """
    r_cap = (rooms.max() if len(rooms) else 0) + 1
    w = r_cap + 1
    rank = np.empty(len(order), np.int64)
    for r in range(len(order)):
        rank[order[r]] = r
    sstart = np.zeros(n_communes * w * w + 1, np.int64)
    key = np.empty(len(lst), np.int64)
    for c in range(n_communes):
        for t in range(start[c], start[c + 1]):
            i = lst[t]
            key[t] = (c * w + min(max(need[i], 0), r_cap)) * w + min(max(max_rooms[i], 0), r_cap)
            sstart[key[t] + 1] += 1
    for y in range(n_communes * w * w):
        sstart[y + 1] += sstart[y]
    spos = np.empty(len(lst), np.int64)
    fill = sstart[:-1].copy()
    for t in range(len(lst)):
        spos[fill[key[t]]] = t
        fill[key[t]] += 1
    return sstart, spos, r_cap, rank


@njit
def _any_size_fitting(sizes, com, rooms, slack, lst, ok_fin):
    """Whether an applicant of commune ``com`` can fit a vacancy, availability aside.

    It fits when its size fits ``rooms`` rooms with ``slack`` rooms of tolerance and its income
    is within the dwelling's ceiling (``ok_fin``).
    """
    sstart, spos, r_cap, _ = sizes
    w = r_cap + 1
    for a in range(min(rooms, r_cap) + 1):
        for b in range(max(rooms - slack, 0), w):
            y = (com * w + a) * w + b
            for q in range(sstart[y], sstart[y + 1]):
                if ok_fin[lst[spos[q]]]:
                    return True
    return False


@njit
def _keep_members(buf_i, buf_e, n, groups, n_g, com, a_i, a_b):
    """Move the candidates belonging to every group of ``groups`` to the head; return how many.

    Returns 0, leaving the buffers unchanged, when there are none.
    """
    kept = 0
    for j in range(n):
        ok = True
        for q in range(n_g):
            if not _member(groups[q], buf_i[j], com, a_i, a_b):
                ok = False
                break
        if ok:
            buf_i[n + kept] = buf_i[j]  # staged after the n candidates
            buf_e[n + kept] = buf_e[j]
            kept += 1
    if kept:
        buf_i[:kept] = buf_i[n:n + kept].copy()
        buf_e[:kept] = buf_e[n:n + kept].copy()
    return kept


@njit
def _count_lease(c, in_qpv, q1, reloc, prio, transfer, holder, relocation_priority):
    """Update the year's counters for a signed lease (quotas are counted on signed leases)."""
    c[C_LEASES] += 1
    c[C_ALLOC + holder] += 1
    if prio:
        c[C_PRIO + holder] += 1
    if transfer:
        c[C_TRANSFERS] += 1
    if in_qpv:
        c[C_LEASES_IN] += 1
        if not q1:
            c[C_Q234_IN] += 1
    else:
        c[C_LEASES_OUT] += 1
        if q1 or (reloc and relocation_priority):
            c[C_Q1_OUT] += 1


def rls_relief(income: np.ndarray, levers: Levers) -> np.ndarray:
    """Net monthly relief (€) the RLS gives housing-benefit tenants (income under ~1,500 €/month).

    The landlord cuts the rent by the RLS and the State cuts housing benefit by 90–98 % of it
    (ANIL), so the tenant keeps about ``RLS_PASS_THROUGH`` of the amount.
    """
    amount = levers.rent.rls_amount * RLS_PASS_THROUGH if levers.rent.rls else 0.0
    return np.where(income / 12.0 < 1500.0, amount, 0.0)


def _sign_all(state: State, apps: np.ndarray, q1_local: np.ndarray, signed: tuple,
              log: MoveLog) -> dict[str, np.ndarray]:
    """Move the round's winners into their new dwellings (one vectorised update)."""
    hh, dw, nb = state.hh, state.dw, state.nb
    local, dws, holders, factor, advertised = signed
    if len(local) == 0:
        z = np.zeros(0, np.int64)
        return {k: (z if k in ("households", "dwellings", "holders", "wait", "quartile")
                    else z.astype(bool)) for k in LEASE_FIELDS}
    who = apps[local]
    reloc = hh.relocation[who].copy()
    transfer = hh.tenure[who] == SOCIAL
    out = {
        "households": who, "dwellings": dws, "holders": holders,
        "in_qpv": nb.qpv[dw.nbhd[dws]], "q1": q1_local[local], "relocation": reloc,
        "transfer": transfer, "priority": hh.priority[who].copy(), "new_unit": dw.new[dws].copy(),
        "wait": (state.month - hh.app_month[who]).astype(np.int64),
        "quartile": hh.quartile[who].astype(np.int64),
        "advertised": np.asarray(advertised, bool),
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
