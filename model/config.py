"""Scenario configuration: levers (policy choices), behaviour (uncertainties), run settings.

Every parameter is a field of a frozen dataclass carrying its allowed range, unit, meaning and legal
or statistical source in the field metadata. The same metadata drives validation (when an object is
built and when a TOML file is loaded), the ``mixsim levers`` catalogue and ``docs/levers.md``.

Vocabulary (exploratory modelling, docs/experiments.md): *levers* are policy choices of the CIL,
*behaviour*
parameters are uncertainties about households and markets, *outcomes* are indicators.
"""

import dataclasses
import difflib
import hashlib
import json
import math
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

ENFORCEMENT = ("none", "target", "strict")
MANAGEMENT = ("stock", "flux")
HOLDERS = ("prefet", "action_logement", "commune", "bailleur")
SALES_WHERE = ("all", "outside_qpv", "qpv")
ANRU_PLAI_MIN = 0.6  # ANRU: at least 60 % PLAI in off-site rebuilding


def param(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    unit: str = "",
    source: str = "",
) -> Any:
    """Declare a validated configuration field.

    Args:
        default: Default value (today's rules for levers, a published order of magnitude otherwise).
        doc: One-line meaning, shown by ``mixsim levers``.
        lo: Inclusive lower bound for numbers.
        hi: Inclusive upper bound for numbers.
        choices: Allowed values for strings.
        unit: Unit of the value.
        source: Legal article or statistical source of the default.
    """
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "unit": unit, "source": source}
    return field(default=default, metadata=meta)


def _allowed(f: dataclasses.Field) -> str:
    m = f.metadata
    if m.get("choices"):
        return "one of " + ", ".join(repr(c) for c in m["choices"])
    if f.type is bool:
        return "true or false"
    kind = "an integer" if f.type is int else "a number"
    lo, hi = m.get("lo"), m.get("hi")
    if lo is not None and hi is not None:
        return f"{kind} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{kind} ≥ {lo:g}"
    if hi is not None:
        return f"{kind} ≤ {hi:g}"
    return kind


def _check_value(f: dataclasses.Field, value: Any, where: str) -> Any:
    """Check (and lightly coerce) one field value; raise InputError naming ``where``."""
    typ = f.type
    bad = InputError(f"got {value!r}; expected {_allowed(f)}", field=where)
    if typ is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise bad
    elif typ is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        value = float(value)
        if not math.isfinite(value):
            raise bad
    elif typ is str:
        if not isinstance(value, str):
            raise bad
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            hint = difflib.get_close_matches(value, choices, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"got {value!r}{extra}; expected {_allowed(f)}", field=where)
        return value
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise bad
    return value


class _Validated:
    """Mixin: validate every declared field when the dataclass is built."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            if "doc" in f.metadata:
                object.__setattr__(self, f.name, _check_value(f, getattr(self, f.name), f.name))
        self._check()

    def _check(self) -> None:
        """Cross-field checks; overridden where needed."""


# --------------------------------------------------------------------------------------------
# Levers (docs/levers.md). Defaults = today's rules as practised (enforcement "none", stock
# management).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaQ1(_Validated):
    """Share of leases outside QPV for first-quartile applicants or urban-renewal relocations."""

    share: float = param(0.25, "target share of leases signed outside QPV for Q1 or relocated "
                         "households", lo=0.0, hi=1.0, source="L441-1 CCH (loi Égalité et "
                         "Citoyenneté 2017), default 25 %")
    enforcement: str = param("none", "how the quota is enforced: none (today's practice), target "
                             "(ranking bonus while behind), strict (offers reserved while behind)",
                             choices=ENFORCEMENT)
    bonus_points: float = param(100.0, "cotation bonus given to the lagging group under 'target' "
                                "enforcement", lo=0.0, hi=1000.0, unit="points")


@dataclass(frozen=True)
class QuotaQPV(_Validated):
    """Share of leases inside QPV for applicants of the second to fourth quartiles."""

    share: float = param(0.5, "target share of leases signed inside QPV for Q2–Q4 applicants",
                         lo=0.0, hi=1.0, source="L441-1 CCH; CIL orientations, default 50 %")
    enforcement: str = param("none", "how the target is enforced (none, target, strict)",
                             choices=ENFORCEMENT)
    bonus_points: float = param(100.0, "cotation bonus for Q2–Q4 applicants under 'target' "
                                "enforcement", lo=0.0, hi=1000.0, unit="points")


@dataclass(frozen=True)
class Priority(_Validated):
    """Priority households (DALO and L441-1 criteria)."""

    share: float = param(0.25, "share of each holder's allocations owed to priority households",
                         lo=0.0, hi=1.0, source="L441-1 CCH; R441-5 (préfet contingent 25 points)")
    enforcement: str = param("target", "how the share is pursued (none, target, strict)",
                             choices=ENFORCEMENT)
    bonus_points: float = param(100.0, "cotation bonus for priority households while a holder is "
                                "behind its priority share ('target')", lo=0.0, hi=1000.0,
                                unit="points")
    lost_after_refusal: bool = param(True, "a priority household that refuses an adapted offer "
                                     "designated by the préfet loses its priority status",
                                     source="L441-2-3 CCH: the préfet's obligation is met by an "
                                     "adapted offer")


HANDBACK_DEFAULT = 1


@dataclass(frozen=True)
class Reservation(_Validated):
    """Reservation holders and how vacancies are shared between them."""

    management: str = param("stock", "stock: each dwelling belongs to one holder for good; flux: "
                            "each holder is owed a share of the yearly flow of vacancies",
                            choices=MANAGEMENT, source="loi ELAN 2018 art. 114; décret 2020-145")
    prefet: float = param(0.30, "préfet's share of the stock (or flow), its State agents' part "
                          "included", lo=0.0, hi=0.30,
                          source="R441-5 CCH: at most 30 %, of which at most 5 points for State "
                          "agents and 25 for priority households (the State holds 12.1 % in "
                          "practice [P])")
    prefet_agents: float = param(0.05, "part of the préfet's share designated among State "
                                 "agents (employed applicants stand for them); the rest goes to "
                                 "priority households", lo=0.0, hi=0.05,
                                 source="R441-5 CCH: at most 5 %")
    action_logement: float = param(0.30, "Action Logement's share of a landlord's whole stock "
                                   "(or flow)", lo=0.0, hi=1.0,
                                   source="indicative contingent ~40 % of the programmes it "
                                   "finances [P, docs/sources.md §1]; not every programme is: "
                                   "0.30 of the whole stock [assumption], docs/levers.md §4")
    commune: float = param(0.20, "communes' share (loan guarantees)", lo=0.0, hi=1.0,
                           source="indicative contingent [P]")
    local_preference: float = param(30.0, "cotation bonus a commune holder gives to its own "
                                    "residents among all eligible applicants (0: no "
                                    "preference)", lo=0.0, hi=1000.0, unit="points",
                                    source="L441-1 CCH: not living in the commune cannot alone "
                                    "justify a refusal")
    handback_months: int = param(HANDBACK_DEFAULT, "stock management: months a holder with no "
                                 "eligible candidate keeps a vacancy before the landlord "
                                 "designates (refused under flux: no holder keeps a vacancy)",
                                 lo=0, hi=12, unit="months")

    def _check(self) -> None:
        total = self.prefet + self.action_logement + self.commune
        if total > 1.0 + 1e-12:
            raise InputError(f"holder shares sum to {total:.3f}; prefet + action_logement + "
                             "commune must be ≤ 1 (the landlord keeps the rest)",
                             field="prefet/action_logement/commune")
        if self.prefet_agents > self.prefet + 1e-12:
            raise InputError(f"got {self.prefet_agents!r}; the State agents' part is included in "
                             f"the préfet's share ({self.prefet!r}) and cannot exceed it",
                             field="prefet_agents")
        if self.management == "flux" and self.handback_months != HANDBACK_DEFAULT:
            raise InputError(
                f"got {self.handback_months!r} with management = 'flux'; handback_months applies "
                "to stock management only (under flux a vacancy goes straight to the holder "
                "furthest behind its share that has an eligible candidate, so no holder keeps "
                f"it): leave it at {HANDBACK_DEFAULT} or use management = 'stock'",
                field="handback_months")

    def shares(self) -> tuple[float, float, float, float]:
        """Shares of préfet, Action Logement, commune and landlord (the remainder)."""
        rest = max(0.0, 1.0 - self.prefet - self.action_logement - self.commune)
        return (self.prefet, self.action_logement, self.commune, rest)


@dataclass(frozen=True)
class Cotation(_Validated):
    """Points of the scoring grid used to rank applicants (cotation, ELAN art. 111)."""

    per_month_waited: float = param(1.0, "points per month of waiting", lo=0.0, hi=100.0,
                                    unit="points/month", source="L441-2-8 CCH")
    priority: float = param(60.0, "points for DALO / L441-1 priority status", lo=0.0, hi=1000.0,
                            unit="points")
    homeless: float = param(40.0, "points for applicants without a dwelling (hosted, homeless)",
                            lo=0.0, hi=1000.0, unit="points")
    overcrowded: float = param(20.0, "points for over-crowding", lo=0.0, hi=1000.0, unit="points")
    excessive_cost: float = param(10.0, "points for an excessive effort rate in the current home",
                                  lo=0.0, hi=1000.0, unit="points",
                                  source="example grid (Rhône): 10 points")
    separation: float = param(10.0, "points after a separation", lo=0.0, hi=1000.0, unit="points")
    transfer: float = param(0.0, "points for a transfer request (mutation)", lo=0.0, hi=1000.0,
                            unit="points")
    relocation: float = param(150.0, "points for urban-renewal relocation", lo=0.0, hi=1000.0,
                              unit="points")
    refusal_penalty: float = param(24.0, "points lost per refused offer", lo=0.0, hi=1000.0,
                                   unit="points", source="R441-2-10 11° CCH (décret 2019-1378): "
                                   "the PPGD states whether and how refusing an adapted offer "
                                   "changes the score; Nice Côte d'Azur's grid (2023) has a malus "
                                   "for refusals. No published grid gives a national size: 24 "
                                   "points, two years of seniority at 1 point a month, is an "
                                   "[assumption]")


@dataclass(frozen=True)
class Commission(_Validated):
    """Allocation commission (CALEOL)."""

    candidates_per_dwelling: int = param(3, "ranked candidates examined per dwelling", lo=1, hi=3,
                                         source="R441-3 CCH: three candidates")


@dataclass(frozen=True)
class Information(_Validated):
    """Shared demand management and applicant information."""

    wish_breadth: int = param(2, "number of communes an applicant wishes", lo=1, hi=64,
                              unit="communes")
    level: float = param(0.0, "information level of applicants: 0 today, 1 fully informed "
                         "(fewer refusals of realistic offers)", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class RentPolicy(_Validated):
    """Rent policy at re-letting."""

    modulation: float = param(0.0, "revenue-neutral rent modulation at re-letting: rents outside "
                              "QPV lowered by this share for Q1 tenants, compensated inside QPV "
                              "up to the convention's maximum rent",
                              lo=0.0, hi=0.5, source="LEC 2017, remise en ordre des loyers via "
                              "the CUS [P]")
    rls: bool = param(True, "réduction de loyer de solidarité for housing-benefit tenants "
                      "(its net effect on them only: landlords' finances, which bear it, are "
                      "not modelled)", source="loi de finances 2018; ANIL")
    rls_amount: float = param(50.0, "RLS monthly amount (net effect on tenant is 2–10 % of it)",
                              lo=0.0, hi=200.0, unit="€/month")


@dataclass(frozen=True)
class OverIncome(_Validated):
    """Over-income tenants: SLS surcharge and loss of the right to stay."""

    sls_threshold: float = param(1.2, "income / ceiling ratio above which the SLS is due (the "
                                 "PLS ceiling for PLS dwellings, the PLUS ceiling otherwise)",
                                 lo=1.0, hi=3.0, source="L441-4 CCH: 120 % of the ceiling")
    sls_exit_multiplier: float = param(2.0, "multiplier of the upward-exit hazard of tenants "
                                       "paying the SLS", lo=1.0, hi=10.0)
    loss_threshold: float = param(1.5, "income / PLS-ceiling ratio that, held loss_years, ends "
                                  "the right to stay", lo=1.0, hi=5.0,
                                  source="loi ELAN: 150 % of the PLS ceiling for 2 years")
    loss_years: int = param(2, "years above the loss threshold before the right to stay is "
                            "lost", lo=1, hi=10, unit="years")
    loss_notice_months: int = param(18, "notice after the right to stay is lost before the "
                                    "tenant must leave (income falling back below the threshold "
                                    "meanwhile restores the right)", lo=0, hi=36, unit="months",
                                    source="L442-3-1 CCH: 18 months")
    loss_enabled: bool = param(False, "apply the loss of the right to stay (tense zones only; "
                               "tenants aged 65 or more are exempt)",
                               source="L442-3-1 CCH: exempt from 65 years of age, disability")
    qpv_exempt: bool = param(True, "QPV tenants are exempt from SLS and loss of the right to stay",
                             source="L441-3 / L442-3-1 CCH")


@dataclass(frozen=True)
class Transfers(_Validated):
    """Internal transfers (mutations)."""

    share: float = param(0.0, "share of allocations pursued for transfer requests (0 = no "
                         "target)", lo=0.0, hi=1.0, source="~30 % of allocations are transfers "
                         "(USH)")
    bonus_points: float = param(50.0, "cotation bonus for transfer requests while behind the "
                                "share", lo=0.0, hi=1000.0, unit="points")


@dataclass(frozen=True)
class Construction(_Validated):
    """New social dwellings."""

    stock_share: float = param(0.011, "new social dwellings per year as a share of the social "
                               "stock (so the default fits any territory)", lo=0.0, hi=0.2,
                               unit="1/year", source="SDES 2021: +75,900 for 5.2 M "
                               "(≈1.5 %/year nationally)")
    units_per_year: float = param(0.0, "further new social dwellings per year (at scale 1)",
                                  lo=0.0, hi=10000.0, unit="dwellings/year")
    share_outside_qpv: float = param(0.8, "share of new units built outside QPV", lo=0.0, hi=1.0)
    plai_share: float = param(0.3, "share of new units financed as PLAI", lo=0.0, hi=1.0)
    pls_share: float = param(0.15, "share of new units financed as PLS", lo=0.0, hi=1.0)
    sru_catchup: bool = param(False, "place new units first in communes below the SRU rate",
                              source="loi SRU art. 55")

    def _check(self) -> None:
        if self.plai_share + self.pls_share > 1.0 + 1e-12:
            raise InputError("plai_share + pls_share must be ≤ 1 (PLUS is the rest)",
                             field="plai_share/pls_share")


@dataclass(frozen=True)
class Renewal(_Validated):
    """Urban renewal (ANRU / NPNRU)."""

    demolitions_per_year: float = param(0.0, "social dwellings demolished per year in QPV "
                                        "(at scale 1)", lo=0.0, hi=5000.0, unit="dwellings/year",
                                        source="NPNRU: 114,000 demolitions programmed")
    relocation_priority: bool = param(True, "relocated households get the cotation.relocation "
                                      "points and count in the Q1 quota outside QPV; false: "
                                      "neither (a counterfactual without priority for "
                                      "relocation)", source="L441-1 CCH")
    rebuild_outside_share: float = param(0.0, "dwellings rebuilt outside QPV per demolished one",
                                         lo=0.0, hi=2.0, source="ANRU reconstitution off-site")
    rebuild_plai_share: float = param(0.6, "PLAI share of rebuilt units", lo=0.0, hi=1.0,
                                      source="ANRU: ≥ 60 % PLAI")
    diversification_per_year: float = param(0.0, "private or owner dwellings built in QPV per year "
                                            "(at scale 1)", lo=0.0, hi=5000.0,
                                            unit="dwellings/year")

    def _check(self) -> None:
        if self.rebuild_outside_share > 0 and self.rebuild_plai_share < ANRU_PLAI_MIN:
            warnings.warn(f"renewal.rebuild_plai_share = {self.rebuild_plai_share:g} is below the "
                          f"{ANRU_PLAI_MIN:.0%} of PLAI the ANRU requires of off-site rebuilding "
                          "(NPNRU general regulation); the run goes on", UserWarning,
                          stacklevel=2)


@dataclass(frozen=True)
class Renovation(_Validated):
    """Renovation and services investment in QPV."""

    investment_per_qpv: float = param(0.0, "yearly rise of base attractiveness of each QPV",
                                      lo=0.0, hi=1.0, unit="attractiveness units/year")
    years: int = param(10, "years the investment lasts", lo=0, hi=50, unit="years")


@dataclass(frozen=True)
class Sales(_Validated):
    """Sales of social dwellings to sitting tenants."""

    share_per_year: float = param(0.002, "share of the social stock sold to sitting tenants per "
                                  "year", lo=0.0, hi=0.1, source="SDES 2021: 13,900 sold of 5.2 M")
    where: str = param("all", "where sales happen", choices=SALES_WHERE)


@dataclass(frozen=True)
class Levers:
    """Policy levers of a CIL (docs/levers.md). Every lever combines with the others."""

    quota_q1: QuotaQ1 = field(default_factory=QuotaQ1)
    quota_qpv: QuotaQPV = field(default_factory=QuotaQPV)
    priority: Priority = field(default_factory=Priority)
    reservation: Reservation = field(default_factory=Reservation)
    cotation: Cotation = field(default_factory=Cotation)
    commission: Commission = field(default_factory=Commission)
    information: Information = field(default_factory=Information)
    rent: RentPolicy = field(default_factory=RentPolicy)
    over_income: OverIncome = field(default_factory=OverIncome)
    transfers: Transfers = field(default_factory=Transfers)
    construction: Construction = field(default_factory=Construction)
    renewal: Renewal = field(default_factory=Renewal)
    renovation: Renovation = field(default_factory=Renovation)
    sales: Sales = field(default_factory=Sales)


# --------------------------------------------------------------------------------------------
# Behaviour (uncertainties). Orders of magnitude from INSEE/SDES; calibrated by `calibration`.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour(_Validated):
    """Behavioural and external parameters (uncertainties), annual rates unless stated."""

    # demography
    birth_rate: float = param(0.07, "births per year in couples with a reference person < 45",
                              lo=0.0, hi=0.5, unit="1/year")
    child_leave_rate: float = param(0.12, "yearly hazard that a child aged 14+ leaves home",
                                    lo=0.0, hi=1.0, unit="1/year")
    separation_rate: float = param(0.015, "yearly separation hazard of couples", lo=0.0, hi=0.2,
                                   unit="1/year")
    death_rate_75: float = param(0.06, "yearly death hazard of persons living alone aged 75+",
                                 lo=0.0, hi=0.5, unit="1/year")
    # income
    income_persistence: float = param(0.97, "yearly correlation of income normal scores (AR(1)); "
                                      "0.97 keeps ~80 % of households in their quartile from "
                                      "one year to the next [assumption]", lo=0.0, hi=1.0)
    income_growth: float = param(0.0, "yearly growth of the median income in real terms: the "
                                 "model counts in euros of the reference year (2024), in which "
                                 "income ceilings, social rents, housing benefit and the RLS, all "
                                 "indexed on the IRL in law, stay constant; private rents follow "
                                 "the median. 0 holds the baseline still [assumption]",
                                 lo=-0.1, hi=0.1, unit="1/year")
    # move intentions
    transfer_rate: float = param(0.08694, "base yearly hazard that a social tenant asks a transfer",
                                 lo=0.0, hi=1.0, unit="1/year")
    mismatch_effect: float = param(4.0, "multiplier of move hazards when over-crowded", lo=1.0,
                                   hi=20.0)
    underoccupation_effect: float = param(1.0, "multiplier of a social tenant's transfer-request "
                                          "hazard when under-occupying (rooms > persons + 1)",
                                          lo=0.0, hi=20.0, source="assumption: under-"
                                          "occupation is rarely a reason to move (the loi ELAN "
                                          "made landlords review it every three years, L442-5-2 "
                                          "CCH); as mobile as over-crowding (the former √4 = "
                                          "2×) the model's large flats turned over as fast as "
                                          "small ones, against 26.5 % for studios and 6.4 % for "
                                          "5 rooms or more (DREAL Occitanie 2023)")
    aspiration_effect: float = param(1.0, "log-hazard effect of the gap between aspiration and "
                                     "neighbourhood attractiveness", lo=0.0, hi=5.0)
    upward_exit_rate: float = param(0.03521, "yearly hazard of leaving social housing for the "
                                    "market, for a tenant at the median income", lo=0.0, hi=1.0,
                                    unit="1/year")
    ownership_share: float = param(0.45, "share of upward exits that are to ownership", lo=0.0,
                                   hi=1.0)
    private_move_rate: float = param(0.12, "yearly move hazard of private tenants", lo=0.0,
                                     hi=1.0, unit="1/year")
    owner_move_rate: float = param(0.03, "yearly move hazard of owners", lo=0.0, hi=1.0,
                                   unit="1/year")
    apply_rate: float = param(0.07837, "yearly hazard that an eligible low-income private tenant "
                              "applies for social housing", lo=0.0, hi=1.0, unit="1/year")
    leave_rate: float = param(0.03819, "yearly hazard of leaving the territory", lo=0.0, hi=0.5,
                              unit="1/year")
    give_up_rate: float = param(0.02, "yearly hazard that an applicant cancels the application "
                                "between renewals (withdrawals other than non-renewal)",
                                lo=0.0, hi=1.0, unit="1/year",
                                source="INSEE Flash Grand Est n°59: 7 % of the 57,000 "
                                "cancellations of 2021 (≈2 % of the 206,000 active demands)")
    renewal_dropout: float = param(0.25, "probability that a demand is not renewed at its "
                                   "yearly anniversary (then cancelled, CCH R441-2-6)", lo=0.0,
                                   hi=1.0, source="derived: with ~17.5 %/yr of pending demands "
                                   "allocated (420,000 of 2.4 M, SDES/ANCOLS 2022) it gives the "
                                   "mean age of pending demands of 721 days (ANCOLS 2022)")
    processing_months: int = param(2, "months between registration and the first commission "
                                   "that may examine the file", lo=0, hi=24, unit="months",
                                   source="CCH R441-2-3: registration number within one month; "
                                   "one more month to complete the file [assumption]")
    # mobility by age of the reference person and time in place (every tenure)
    duration_effect: float = param(0.35, "log-multiplier of move hazards in the first two years "
                                   "in a home (minus half of it after eight years)", lo=0.0,
                                   hi=2.0, source="assumption: duration dependence of moves "
                                   "('cumulative inertia'), on top of the age schedule")
    exit_income_effect: float = param(0.6, "log-hazard effect of the income score on upward "
                                      "exits from social housing", lo=0.0, hi=3.0,
                                      source="assumption: with 1.5 the highest-income tenants of "
                                      "the start left within 2–3 years (issue #14)")
    # supply that follows demand (ODD §7.4, §7.5)
    private_vacancy_target: float = param(0.042, "private vacancy rate that private and owner "
                                          "construction aims at each January", lo=0.0, hi=0.3,
                                          source="the default territory's private vacancy at "
                                          "the start [assumption: frictional level]")
    social_vacancy_target: float = param(0.024, "social vacancy rate above which social "
                                         "construction is cut (none at twice the rate)",
                                         lo=0.0, hi=0.3, source="RPLS 2023: 2.4 % (1.3 % over "
                                         "3 months), France métropolitaine")
    tension_target: float = param(4.3, "pending applicants per yearly allocation at which "
                                  "social construction runs at its programme (stock_share)",
                                  lo=0.5, hi=50.0, source="SDES 2022: 4.3 demands per "
                                  "available dwelling")
    construction_response: float = param(4.0, "slope of social deliveries in the relative gap "
                                         "between tension and its target (0: the programme "
                                         "whatever the demand)", lo=0.0, hi=20.0,
                                         source="assumption: steep enough that the stock "
                                         "follows household growth with tension near target")
    # arrivals
    growth: float = param(0.004, "yearly growth of the number of households", lo=-0.05, hi=0.1,
                          unit="1/year")
    arrival_apply_share: float = param(0.25, "share of arriving households that apply for social "
                                       "housing when eligible", lo=0.0, hi=1.0)
    # private market
    market_attractiveness: float = param(3.0, "weight of attractiveness in the private-market "
                                         "choice (logit)", lo=0.0, hi=20.0)
    market_price: float = param(8.0, "weight of the rent-to-income ratio in the choice (logit)",
                                lo=0.0, hi=50.0)
    budget_share: float = param(0.40, "maximum share of income a private rent may take", lo=0.1,
                                hi=1.0)
    rent_adjustment: float = param(0.5, "yearly elasticity of private rents to attractiveness "
                                   "change", lo=0.0, hi=5.0)
    # allocation behaviour
    relet_months: int = param(2, "months between a social tenant's departure and the first "
                              "offer of the dwelling (inventory, repairs, commission calendar)",
                              lo=0, hi=24, unit="months", source="derived: RPLS 2023, 1.1 % of the "
                              "stock vacant under 3 months at 8.8 % turnover (SDES 2022) is "
                              "1.1 / 8.8 × 12 ≈ 1.5 months between tenants, plus the month of "
                              "the commission")
    oversize_after_months: int = param(2, "months on offer after which (and again after each "
                                       "such period) a social dwelling without an adequate "
                                       "candidate may go to households oversize_rooms smaller "
                                       "(0: at once)",
                                       lo=0, hi=120, unit="months",
                                       source="assumption: commissions first seek households "
                                       "the dwelling fits (under-occupation: rooms > persons + 1, "
                                       "loi ELAN)")
    advertise_after_months: int = param(2, "months on offer after which a social vacancy is "
                                        "advertised (location voulue): applicants see it and "
                                        "answer with the probability they would accept it; the "
                                        "first in rank of those who answer signs, and nobody "
                                        "counts a refusal; 0: never", lo=0, hi=120,
                                        unit="months", source="USH, Repères n°65 (2020), 'La "
                                        "cotation de la demande et la location voulue'; the "
                                        "delay is an [assumption]")
    advertise_scope: str = param("territory", "who sees an advertised vacancy: territory (a "
                                 "public listing: applicants of every commune) or commune "
                                 "(applicants who wish the dwelling's commune)",
                                 choices=("territory", "commune"),
                                 source="public listings of social vacancies: Bienvéo.fr "
                                 "(USH, 2017), landlords' adverts on general sites, the "
                                 "'location active' of the Pays Voironnais (Isère)")
    oversize_rooms: int = param(2, "rooms beyond the occupancy norm (persons + 1) tolerated for a "
                                "dwelling without an adequate candidate", lo=0, hi=5,
                                unit="rooms", source="assumption")
    max_effort_rate: float = param(0.35, "maximum effort rate after housing benefit at "
                                   "eligibility", lo=0.1, hi=1.0)
    commission_solvency: float = param(25.72, "commission practice weighing the ability to pay: "
                                       "a candidate is not proposed for a dwelling that would "
                                       "leave it less than this residual income (reste à "
                                       "vivre: income minus rent and charges plus housing "
                                       "benefit) per consumption unit and day; 0: no test. Not "
                                       "a cotation criterion; the préfet's designations are "
                                       "exempt", lo=0.0, hi=40.0, unit="€/day/UC",
                                       source="L441-1 CCH (resources judged against the housing "
                                       "cost); level calibrated on ANCOLS (Q1 15.5–18 % of "
                                       "leases outside QPV) [assumption]")
    accept_base: float = param(2.339, "log-odds of accepting an offer at zero attractiveness gap",
                               lo=-10.0, hi=10.0)
    accept_attractiveness: float = param(5.907, "log-odds effect of (attractiveness − aspiration)",
                                         lo=0.0, hi=20.0)
    accept_effort: float = param(4.0, "log-odds effect of the effort rate", lo=0.0, hi=50.0)
    # attractiveness feedback (ODD §7.7)
    beta_poverty: float = param(3.0, "attractiveness lost per unit of excess Q1 share", lo=0.0,
                                hi=20.0)
    beta_vacancy: float = param(3.0, "attractiveness lost per unit of social vacancy rate",
                                lo=0.0, hi=50.0)
    attractiveness_inertia: float = param(36.0, "months for attractiveness to close 63 % of the "
                                          "gap to its target", lo=1.0, hi=600.0, unit="months")
    attractiveness_noise: float = param(0.02, "monthly noise of attractiveness", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class TerritorySpec(_Validated):
    """Which territory to simulate."""

    source: str = param("default", "'default' (embedded agglomeration) or a data folder path")
    scale: float = param(1.0, "scale factor on every count (0.1 gives a 10 % territory)",
                         lo=0.001, hi=20.0)


@dataclass(frozen=True)
class Scenario(_Validated):
    """One combination of lever values with the behaviour and run settings."""

    name: str = param("baseline", "scenario name")
    description: str = param("", "free text")
    years: int = param(15, "horizon", lo=1, hi=100, unit="years")
    seed: int = param(0, "seed of the run (a replicate's seed overrides it in experiments)",
                      lo=0, hi=2**63 - 1)
    territory: TerritorySpec = field(default_factory=TerritorySpec)
    levers: Levers = field(default_factory=Levers)
    behaviour: Behaviour = field(default_factory=Behaviour)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML/JSON-serialisable)."""
        return dataclasses.asdict(self)

    def config_hash(self) -> str:
        """Stable short hash of everything but name and description."""
        d = self.to_dict()
        d.pop("name"), d.pop("description")
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_overrides(self, overrides: Mapping[str, Any], *, source: str = "overrides"
                       ) -> "Scenario":
        """Return a validated copy with dotted-path overrides (``"levers.quota_q1.share": 0.3``)."""
        d = self.to_dict()
        for path, value in overrides.items():
            node = d
            parts = path.split(".")
            for i, p in enumerate(parts[:-1]):
                if not isinstance(node.get(p), dict):
                    raise InputError(_unknown_msg(p, node), source=source,
                                     field=".".join(parts[: i + 1]))
                node = node[p]
            if parts[-1] not in node or isinstance(node[parts[-1]], dict):
                raise InputError(_unknown_msg(parts[-1], node), source=source, field=path)
            node[parts[-1]] = value
        return from_dict(Scenario, d, source=source)


def _unknown_msg(key: str, allowed: Mapping[str, Any] | Any) -> str:
    names = list(allowed)
    hint = difflib.get_close_matches(key, names, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown key {key!r}{extra}; allowed: {', '.join(names)}"


def from_dict(cls: type, data: Mapping[str, Any], *, source: str = "<dict>", prefix: str = ""
              ) -> Any:
    """Build a config dataclass from nested dicts, validating every key and value.

    Raises:
        InputError: naming ``source``, the dotted field and what is allowed.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"expected a table, got {data!r}", source=source, field=prefix or None)
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{prefix}{key}"
        if key not in known:
            raise InputError(_unknown_msg(key, known), source=source, field=where)
        f = known[key]
        sub = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if is_dataclass(sub):
            kwargs[key] = from_dict(type(sub), value, source=source, prefix=where + ".")
        else:
            try:
                kwargs[key] = _check_value(f, value, where)
            except InputError as err:
                raise InputError(err.detail, source=source, field=where) from None
    try:
        return cls(**kwargs)
    except InputError as err:
        if err.source is None:
            raise InputError(err.detail, source=source,
                             field=f"{prefix}{err.field}" if err.field else prefix or None
                             ) from None
        raise


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    A scenario file may ``include = ["other.toml", ...]`` (paths relative to the file): included
    tables are merged first, the file's own values win (used for calibrated parameter files).
    """
    path = Path(path)
    data = read_toml(path)
    return from_dict(Scenario, data, source=str(path))


def parse_toml_file(path: Path) -> dict[str, Any]:
    """Parse a TOML file that exists; errors name the file (not TOML, not UTF-8 text)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", source=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", source=str(path)) from None


def read_toml(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a TOML file with its ``include`` files merged first (its own values win)."""
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    data = parse_toml_file(path)
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise InputError("expected a list of file paths", source=str(path), field="include")
    merged: dict[str, Any] = {}
    for inc in includes:
        inc_path = (path.parent / inc).resolve()
        if inc_path in _seen:
            raise InputError(f"include cycle through {inc}", source=str(path), field="include")
        deep_merge(merged, read_toml(inc_path, _seen + (path.resolve(),)))
    deep_merge(merged, data)
    return merged


def deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    """Merge nested mapping ``new`` into ``into`` in place (``new``'s values win)."""
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(into.get(k), dict):
            deep_merge(into[k], v)
        else:
            into[k] = dict(v) if isinstance(v, Mapping) else v


def iter_parameters(obj: Any = None, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field,
                                                                          Any]]:
    """Yield ``(dotted name, field, current value)`` for every leaf parameter of a config object."""
    obj = Levers() if obj is None else obj
    for f in fields(obj):
        value = getattr(obj, f.name)
        if is_dataclass(value):
            yield from iter_parameters(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f, value


def catalogue(obj: Any = None) -> list[dict[str, Any]]:
    """Rows describing each parameter: name, default, allowed values, unit, meaning, source."""
    rows = []
    for name, f, value in iter_parameters(obj):
        rows.append({"name": name, "default": value, "allowed": _allowed(f),
                     "unit": f.metadata.get("unit", ""), "meaning": f.metadata.get("doc", ""),
                     "source": f.metadata.get("source", "")})
    return rows


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(data: Mapping[str, Any], _prefix: str = "") -> str:
    """Write nested dicts of scalars as TOML (tables after plain keys)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    out = "\n".join(lines)
    for k, v in data.items():
        if isinstance(v, Mapping):
            name = f"{_prefix}{k}"
            body = to_toml(v, name + ".")
            scalars = any(not isinstance(x, Mapping) for x in v.values())
            block = (f"[{name}]\n" if scalars else "") + body
            out += ("\n\n" if out else "") + block
    return out
