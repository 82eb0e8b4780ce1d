"""Observation (ODD §3): yearly indicators as a tidy table.

Allocation counters are accumulated monthly and summarised each December with the composition of
the population; mobility indicators are read from the move log. Every row is
``(run_id, year, month, scale, unit, register, indicator, value)``; ``docs/indicators.md`` defines
each indicator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .indicators.composition import composition_rows
from .indicators.demography import demography_rows
from .indicators.trajectories import transition_rows
from .moves import KIND, MoveLog, rows_of
from .processes.allocation import AllocationResult
from .state import APP_NONE, S_SOCIAL, SOCIAL, State, ceiling_resources, plus_ceiling

HOLDER_NAMES = ("prefet", "action_logement", "commune", "bailleur")
DAYS_PER_MONTH = 365.25 / 12
COLUMNS = ["run_id", "year", "month", "scale", "unit", "register", "indicator", "value"]


class Recorder:
    """Collects the indicator rows of one run.

    Args:
        run_id: Identifier written in every row.
        composition_years: Years whose composition (polarisation) rows are computed; None for
            every year. Allocation and mobility rows are kept every year. The composition is
            most of the recording cost: a caller that reads a few years only (a sensitivity
            analysis) computes just those.
        record_years: Years whose rows are recorded at all (composition, allocation, mobility);
            None for every year. The transition rows of the starting cohort at the horizon are
            always recorded.
    """

    def __init__(self, run_id: str = "run", composition_years=None, record_years=None) -> None:
        self.run_id = run_id
        self.composition_years = (None if composition_years is None
                                  else frozenset(int(y) for y in composition_years))
        self.record_years = (None if record_years is None
                             else frozenset(int(y) for y in record_years))
        self._rows: list[tuple] = []
        self._allocs: list[AllocationResult] = []
        self._log_pos = 0
        self._stock_start = 0
        self._stock_start_by_rooms = np.zeros(6, np.int64)
        self._social_tenants_start = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, state: State, log: MoveLog) -> None:
        """Record the initial composition (year 0) and open the first year."""
        rows = composition_rows(state) if self._composition(0) else []
        if self.record_years is None or 0 in self.record_years:
            rows += demography_rows(state)
        self._add_rows(0, state.month, rows)
        self._open_year(state, log)

    def _open_year(self, state: State, log: MoveLog) -> None:
        dw, hh = state.dw, state.hh
        soc = (dw.sector == S_SOCIAL) & dw.active
        self._stock_start = int(soc.sum())
        self._stock_start_by_rooms = np.bincount(dw.rooms[soc], minlength=6)[:6]
        self._social_tenants_start = int((hh.alive & (hh.tenure == SOCIAL)).sum())
        self._log_pos = len(log)
        self._allocs = []

    def month(self, alloc: AllocationResult) -> None:
        """Keep this month's allocation outcome."""
        self._allocs.append(alloc)

    def end_year(self, state: State, log: MoveLog, year: int) -> None:
        """Summarise the year just ended (call after the December step)."""
        if self.record_years is not None and year not in self.record_years:
            self._open_year(state, log)
            return
        rows = composition_rows(state) if self._composition(year) else []
        rows += self._allocation_rows(state)
        rows += self._mobility_rows(state, log.array(self._log_pos))
        rows += demography_rows(state)
        self._add_rows(year, state.month, rows)
        self._open_year(state, log)

    def _composition(self, year: int) -> bool:
        return ((self.composition_years is None or year in self.composition_years)
                and (self.record_years is None or year in self.record_years))

    def _add_rows(self, year: int, month: int, rows: list[tuple]) -> None:
        self._rows.extend((self.run_id, year, month) + r for r in rows)

    def finish(self, state: State, cohort_start: dict[str, np.ndarray],
               attractiveness_start: np.ndarray) -> None:
        """Add the starting cohort's transition matrices at the horizon."""
        hh = state.hh
        idx = rows_of(state, cohort_start["hid"])  # (−1: the row was compacted away)
        alive = (idx >= 0) & hh.alive[np.maximum(idx, 0)]
        rows = transition_rows(cohort_start["nbhd"], cohort_start["tenure"] == SOCIAL,
                               np.where(alive, hh.nbhd[np.maximum(idx, 0)], -1), alive,
                               state.nb.qpv, attractiveness_start)
        self._add_rows(state.month // 12, state.month, rows)

    def values(self, scale: str = "epci", unit: str = "EPCI") -> dict[tuple[int, str], float]:
        """One unit's rows as ``{(year, indicator): value}`` (the first row of each pair)."""
        out: dict[tuple[int, str], float] = {}
        for row in self._rows:
            if row[3] == scale and row[4] == unit:
                out.setdefault((row[1], row[6]), row[7])
        return out

    def frame(self) -> pd.DataFrame:
        """All rows as a tidy DataFrame."""
        df = pd.DataFrame(self._rows, columns=COLUMNS)
        for c in ("scale", "register"):
            df[c] = df[c].astype("category")
        return df

    # -- allocation monitoring ------------------------------------------------------------------
    def _allocation_rows(self, state: State) -> list[tuple]:
        a = self._allocs
        cat = {k: np.concatenate([getattr(x, k) for x in a]) if a else np.zeros(0)
               for k in ("dwellings", "holders", "in_qpv", "q1", "relocation", "transfer",
                         "priority", "new_unit", "wait", "quartile", "advertised")}
        sums = {k: sum(getattr(x, k) for x in a) for k in
                ("offers", "refusals", "vacancies", "unlet_no_candidate", "unlet_refused")}
        c = state.counters
        nan = float("nan")
        n = len(cat["wait"])
        out_qpv = ~cat["in_qpv"].astype(bool)
        rows: list[tuple] = []

        def add(name: str, value: float, unit: str = "EPCI", scale: str = "epci") -> None:
            rows.append((scale, unit, "allocation", name, float(value)))

        def share(num: float, den: float) -> float:
            return num / den if den else nan

        add("leases", n)
        add("leases_outside_qpv", out_qpv.sum())
        add("q1_share_leases_outside_qpv", share(c.get("q1_out", 0), c.get("leases_out", 0)))
        add("q234_share_leases_inside_qpv", share(c.get("q234_in", 0), c.get("leases_in", 0)))
        add("transfer_share", share(cat["transfer"].sum(), n))
        add("advertised_lease_share", share(cat["advertised"].sum(), n))
        add("relocations", cat["relocation"].sum())
        add("priority_share", share(cat["priority"].sum(), n))
        for h, name in enumerate(HOLDER_NAMES):
            mine = cat["holders"] == h
            add("allocations", mine.sum(), unit=name, scale="holder")
            add("priority_share", share((cat["priority"] & mine).sum(), mine.sum()), unit=name,
                scale="holder")
            add("unlet_for_lack_of_candidate", c.get(f"unlet_holder_h{h}", 0), unit=name,
                scale="holder")
        applicants = int((state.hh.alive & (state.hh.app != APP_NONE)).sum())
        add("applicants", applicants)
        # the waits of pending demands (ANCOLS 2022: 721 days on average)
        hh = state.hh
        pending = (state.month - hh.app_month[hh.alive & (hh.app != APP_NONE)]).astype(float)
        add("median_wait_months_pending", np.median(pending) if len(pending) else nan)
        add("mean_wait_days_pending",
            pending.mean() * DAYS_PER_MONTH if len(pending) else nan)
        add("applicants_per_allocation", share(applicants, n))
        wait = cat["wait"].astype(float)
        add("median_wait_months", np.median(wait) if n else nan)
        add("p90_wait_months", np.percentile(wait, 90) if n else nan)
        add("mean_wait_days", wait.mean() * DAYS_PER_MONTH if n else nan)
        for q in range(1, 5):
            w = wait[cat["quartile"] == q]
            add(f"median_wait_months_q{q}", np.median(w) if len(w) else nan)
            add(f"p90_wait_months_q{q}", np.percentile(w, 90) if len(w) else nan)
        for label, m in (("priority", cat["priority"]), ("non_priority", ~cat["priority"])):
            w = wait[m.astype(bool)]
            add(f"median_wait_months_{label}", np.median(w) if len(w) else nan)
            add(f"p90_wait_months_{label}", np.percentile(w, 90) if len(w) else nan)
        add("offers", sums["offers"])
        add("refusals", sums["refusals"])
        add("refusal_rate", share(sums["refusals"], sums["offers"]))
        add("refusing_applicant_share", refusing_applicant_share(a))
        relet = n - cat["new_unit"].sum()
        add("turnover", share(relet, self._stock_start))
        dw = state.dw
        # by size (DREAL Occitanie 2023: studios 26.5 %, five rooms or more 6.4 %)
        relet_rooms = dw.rooms[cat["dwellings"][~cat["new_unit"].astype(bool)].astype(np.int64)]
        relet_by_rooms = np.bincount(relet_rooms, minlength=6)
        for r in range(1, 6):
            add(f"turnover_t{r}", share(relet_by_rooms[r], self._stock_start_by_rooms[r]))
        soc = (dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
        vacant = soc & (dw.occupant < 0)
        add("vacancy", share(vacant.sum(), soc.sum()))
        add("vacancy_over_3_months", share((vacant & (dw.months_vacant > 3)).sum(), soc.sum()))
        add("vacancies_offered", sums["vacancies"])
        add("unlet_for_lack_of_candidate", sums["unlet_no_candidate"])
        add("unlet_after_refusals", sums["unlet_refused"])
        add("unlet_for_lack_of_candidate_share",
            share(sums["unlet_no_candidate"], sums["vacancies"]))
        add("new_units", c.get("new_units", 0))
        add("demolished", c.get("demolished", 0))
        # social tenants' resources against the ceilings (OPS: 61 % below 60 % of the PLUS
        # ceiling, USH 2022; ~3 % pay the SLS; docs/sources.md §1, §2)
        ten = np.flatnonzero(hh.alive & (hh.tenure == SOCIAL))
        res = ceiling_resources(hh, ten, state.median_income_uc)
        plus = plus_ceiling(hh, ten, state.ceiling_index)
        add("tenants_below_60pct_ceiling_share", share((res < 0.6 * plus).sum(), len(ten)))
        add("sls_payer_share", share((hh.months_over[ten] > 0).sum(), len(ten)))
        return rows

    # -- mobility -------------------------------------------------------------------------------
    def _mobility_rows(self, state: State, moves: np.ndarray) -> list[tuple]:
        hh, nb = state.hh, state.nb
        kind = moves[6]
        rows: list[tuple] = []

        def add(name: str, value: float) -> None:
            rows.append(("epci", "EPCI", "mobility", name, float(value)))

        own = int((kind == KIND["exit_ownership"]).sum())
        sold = int((kind == KIND["sale_to_tenant"]).sum())
        priv = int((kind == KIND["exit_private_rental"]).sum())
        base = max(1, self._social_tenants_start)
        add("exits_to_ownership", own + sold)
        add("sales_to_tenants", sold)
        add("exits_to_private_rental", priv)
        add("exits_to_ownership_per_1000_tenants", 1000 * (own + sold) / base)
        add("exits_to_private_rental_per_1000_tenants", 1000 * priv / base)
        add("departures", int((kind == KIND["departure"]).sum()))
        add("deaths", int((kind == KIND["death"]).sum()))
        add("arrivals", int((kind == KIND["arrival"]).sum()))
        between = (moves[3] >= 0) & (moves[5] >= 0) & (moves[2] != moves[4])
        f_nb, t_nb = moves[3][between], moves[5][between]
        add("moves", int(between.sum()))
        add("moves_qpv_to_non_qpv", int((nb.qpv[f_nb] & ~nb.qpv[t_nb]).sum()))
        add("moves_non_qpv_to_qpv", int((~nb.qpv[f_nb] & nb.qpv[t_nb]).sum()))
        social_moves = np.isin(kind[between], [KIND["transfer"], KIND["relocation"]])
        add("transfers_qpv_to_non_qpv",
            int((nb.qpv[f_nb] & ~nb.qpv[t_nb] & social_moves).sum()))
        gain = nb.attractiveness[t_nb] - nb.attractiveness[f_nb]
        q = hh.quartile[np.maximum(rows_of(state, moves[0][between]), 0)]
        for k in range(1, 5):
            g = gain[q == k]
            rows.append(("epci", "EPCI", "mobility",
                         f"attractiveness_change_per_move_q{k}",
                         float(g.mean()) if len(g) else float("nan")))
        return rows


def refusing_applicant_share(allocs) -> float:
    """Of the households offered a dwelling in the rounds ``allocs``, the share who refused one.

    The count of the published figure (Eurométropole de Strasbourg 2017: 46–47 % of the
    applicants with an offer refused): a household refusing twice counts once, and a household
    who refused then signed counts as refusing. NaN without offers.
    """
    if not allocs:
        return float("nan")
    offered = np.unique(np.concatenate([x.offered_ids for x in allocs]))
    refusing = np.unique(np.concatenate([x.refused_ids for x in allocs]))
    return len(refusing) / len(offered) if len(offered) else float("nan")
