"""Drift of the baseline: today's rules on the default territory, year by year (issue #14).

Run by hand: ``python benchmarks/baseline_drift.py [--scale 1] [--seeds 1 2 3] [--years 20]
[--show 0 1 2 5 10 15 20] [--csv out.csv]``. Each seed runs in this process (kernels loaded
first); the table is the mean over seeds of the indicators the model records
(docs/indicators.md), plus the CPU time of each simulated year (process time: less disturbed
than the wall time by other processes on the machine; year 0 is the model build, spin-up
included). A baseline that holds still has
flat rows; the reference column gives the published level (docs/sources.md).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from mixsim.model import Scenario
from mixsim.model.api import build_model, warm_up
from mixsim.model.config import TerritorySpec

# (label, indicator, factor, format, reference)
ROWS = [
    ("persons per household", "persons_per_household", 1, "{:.2f}",
     "2.16 (2021), -0.5 %/yr"),
    ("one-person households %", "one_person_share", 100, "{:.1f}", "a bit over 1/3"),
    ("couples without children %", "type_share_couple", 100, "{:.1f}", ""),
    ("couples with children %", "type_share_couple_children", 100, "{:.1f}", ""),
    ("single parents %", "type_share_single_parent", 100, "{:.1f}", ""),
    ("other households %", "type_share_other", 100, "{:.1f}", ""),
    ("births per 1,000 persons", "births_per_1000", 1, "{:.1f}", "~10-11"),
    ("deaths per 1,000 persons", "deaths_per_1000", 1, "{:.1f}", "~9"),
    ("applicants single persons %", "applicants_single_person_share", 100, "{:.1f}",
     "45 (2020)"),
    ("social vacancy %", "vacancy", 100, "{:.2f}", "2.4"),
    ("  T1 vacancy %", "vacancy_t1", 100, "{:.2f}", ""),
    ("  T2 vacancy %", "vacancy_t2", 100, "{:.2f}", ""),
    ("  T3 vacancy %", "vacancy_t3", 100, "{:.2f}", ""),
    ("  T4 vacancy %", "vacancy_t4", 100, "{:.2f}", ""),
    ("  T5 vacancy %", "vacancy_t5", 100, "{:.2f}", ""),
    ("unlet for lack of candidate %", "unlet_for_lack_of_candidate_share", 100, "{:.1f}", ""),
    ("median wait allocated (months)", "median_wait_months", 1, "{:.1f}", "mean 520 days"),
    ("Q1 share leases outside QPV %", "q1_share_leases_outside_qpv", 100, "{:.1f}",
     "15.5 (2019), 18 (2021)"),
    ("exits to ownership", "exits_to_ownership", 1, "{:.0f}", ""),
    ("private vacancy %", "private_vacancy", 100, "{:.2f}", ""),
    ("social share of dwellings %", "social_share_of_dwellings", 100, "{:.1f}", "16-20"),
    ("QPV share of social dwellings %", "qpv_share_of_social_dwellings", 100, "{:.1f}", "~33"),
    ("poverty rate %", "poverty_rate", 100, "{:.1f}", "~15"),
    ("poverty rate in QPV %", "poverty_rate_qpv", 100, "{:.1f}", "~43"),
    ("Q1 share of QPV households %", "q1_share_of_qpv_households", 100, "{:.1f}", ""),
    ("D index Q1 social by nbhd", "dissimilarity_q1_by_neighbourhoods_social", 1, "{:.3f}", ""),
    ("household rows (k)", "household_rows", 1e-3, "{:.1f}", ""),
    ("living households (k)", "living_households", 1e-3, "{:.1f}", ""),
    ("CPU time of the year (s)", "cpu_s", 1, "{:.2f}", ""),
]


def run_one(scale: float, seed: int, years: int, spin_up: int | None = None) -> pd.DataFrame:
    """One run; returns a wide table (year × indicator) with the wall time of each year."""
    scenario = Scenario(years=years, territory=TerritorySpec(scale=scale))
    t0 = time.process_time()
    model = build_model(scenario, seed=seed, spin_up_years=spin_up)
    walls = {0: time.process_time() - t0}
    for y in range(1, years + 1):
        t0 = time.process_time()
        for _ in range(12):
            model.step()
        walls[y] = time.process_time() - t0
    model.recorder.finish(model.state, model.cohort_start, model.attractiveness_start)
    df = model.recorder.frame()
    wide = df[(df.scale == "epci") & (df.unit == "EPCI")].pivot_table(
        index="year", columns="indicator", values="value", aggfunc="first", observed=True)
    wide["cpu_s"] = pd.Series(walls)
    for flow in ("births_per_1000", "deaths_per_1000"):  # (no flow in the initial state)
        wide.loc[0, flow] = np.nan
    return wide


def main() -> None:
    """Run the seeds and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--show", type=int, nargs="+", default=None,
                    help="years shown (default 0 1 2 5 10 15 20 within the horizon)")
    ap.add_argument("--spin-up", type=int, default=None,
                    help="spin-up years (default: the model's; 0 for none)")
    ap.add_argument("--csv", default=None, help="write the mean table (all years) to this CSV")
    args = ap.parse_args()
    warm_up()
    tables = [run_one(args.scale, s, args.years, args.spin_up) for s in args.seeds]
    mean = pd.concat(tables).groupby(level=0).mean()
    show = args.show or [y for y in (0, 1, 2, 5, 10, 15, 20, 30) if y <= args.years]
    lines = [f"scale {args.scale}, seeds {args.seeds}, {args.years} years; mean over seeds",
             "| | " + " | ".join(f"y{y}" for y in show) + " | reference |",
             "|---|" + "---|" * (len(show) + 1)]
    for label, ind, factor, fmt, ref in ROWS:
        if ind not in mean.columns:
            continue
        vals = [mean.at[y, ind] * factor if y in mean.index else np.nan for y in show]
        cells = ["–" if not np.isfinite(v) else fmt.format(v) for v in vals]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {ref} |")
    w = mean["cpu_s"]
    if args.years >= 2:
        last = w.loc[max(1, args.years - 1):].mean()
        lines.append(f"CPU per simulated year: year 1 {w.loc[1]:.2f} s, last two years "
                     f"{last:.2f} s (ratio {last / w.loc[1]:.2f}); build {w.loc[0]:.2f} s")
    print("\n".join(lines))
    if args.csv:
        mean.to_csv(args.csv)


if __name__ == "__main__":
    main()
