"""``mixsim run``: one scenario, its tables written atomically into ``--out``."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from mixsim.experiments.common import (
    compile_kernels_once,
    positive_float,
    positive_int,
    progress_bar,
    seed_int,
    versions,
)
from mixsim.experiments.outdir import OutDir, check_out_dir

SUMMARY = [
    ("dissimilarity_q1_by_neighbourhoods", "D of Q1 vs others (neighbourhoods)", "{:.3f}"),
    ("q1_share_in_qpv", "share of Q1 households living in QPV", "{:.1%}"),
    ("q1_share_of_qpv_households", "Q1 share of QPV households", "{:.1%}"),
    ("q1_share_leases_outside_qpv", "Q1 share of leases outside QPV", "{:.1%}"),
    ("q234_share_leases_inside_qpv", "Q2–Q4 share of leases inside QPV", "{:.1%}"),
    ("turnover", "social turnover", "{:.1%}"),
    ("vacancy", "social vacancy", "{:.1%}"),
    ("applicants_per_allocation", "applicants per allocation", "{:.1f}"),
    ("median_wait_months", "median wait of allocated (months)", "{:.0f}"),
    ("refusal_rate", "refusals per offer", "{:.1%}"),
    ("exits_to_ownership", "exits to ownership (per year)", "{:.0f}"),
    ("exits_to_private_rental", "exits to private renting (per year)", "{:.0f}"),
]


def add_parser(sub) -> None:
    """Register ``mixsim run``."""
    p = sub.add_parser("run", help="run one scenario (default: today's rules on the embedded "
                       "territory)", description="Run one scenario and write its tables.")
    p.add_argument("scenario", nargs="?", type=Path, help="scenario TOML file (optional)")
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the file)")
    p.add_argument("--scale", type=positive_float,
                   help="territory scale, e.g. 0.1 for a 10 %% version (overrides the file)")
    p.add_argument("--seed", type=seed_int, help="random seed (overrides the file)")
    p.add_argument("--out", type=Path, default=Path("out/run"),
                   help="output folder (default: out/run)")
    p.add_argument("--csv", action="store_true", help="also write CSV copies of the tables")
    p.add_argument("--no-moves", action="store_true", help="do not write the move log")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario, write its tables atomically into ``--out``, print a summary."""
    import dataclasses

    from mixsim.model import Scenario, load_scenario, run_scenario
    from mixsim.model.config import TerritorySpec, to_toml

    check_out_dir(args.out, kind="run")
    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    if args.years is not None:
        scenario = dataclasses.replace(scenario, years=args.years)
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    if args.scale is not None:
        scenario = dataclasses.replace(scenario, territory=TerritorySpec(
            source=scenario.territory.source, scale=args.scale))
    # validate the territory and its size before anything is written
    from mixsim.experiments.limits import check_memory
    from mixsim.model.api import cached_territory
    territory = cached_territory(scenario.territory.source, scenario.territory.scale)
    check_memory(territory.n_households, 1, source="--scale")
    with OutDir(args.out, "run", kind="run"):
        print(f"mixsim run: scenario {scenario.name!r}, {territory.n_households:,} households, "
              f"{scenario.years} years, seed {scenario.seed}", file=sys.stderr)
        compile_kernels_once("run")
        with progress_bar(12 * scenario.years, "simulating") as bar:
            result = run_scenario(scenario, territory=territory, run_id=scenario.name,
                                  progress=lambda done, total: bar.update(1),
                                  keep_moves=not args.no_moves)
        tables = {"indicators": result.indicators, "neighbourhoods": result.neighbourhoods,
                  "cohort": result.cohort, "yearly": result.yearly().reset_index()}
        if not args.no_moves:
            tables["moves"] = result.moves
        # write into a temporary folder inside --out, then move the files in
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=args.out))
        try:
            for name, df in tables.items():
                df.to_parquet(staging / f"{name}.parquet", index=False)
                if args.csv:
                    df.to_csv(staging / f"{name}.csv", index=False)
            (staging / "scenario.toml").write_text(to_toml(result.scenario.to_dict()) + "\n")
            meta = {"run_id": result.run_id, "config_hash": result.config_hash,
                    "seed_entropy": str(result.seed_entropy), "spawn_key": list(result.spawn_key),
                    "wall_time_s": round(result.wall_time, 3), "versions": versions(),
                    "territory": scenario.territory.source, "scale": scenario.territory.scale,
                    "households": territory.n_households}
            (staging / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
            # run.json last: it marks the folder as a run's
            for f in sorted(staging.iterdir(), key=lambda f: f.name == "run.json"):
                os.replace(f, args.out / f.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    print(summary_table(result.yearly()))
    print(f"\n{result.wall_time:.1f} s; tables written to {args.out}/")
    return 0


def summary_table(yearly) -> str:
    """Key indicators at the start and at the end of a run, as aligned text."""
    first_year = int(yearly.index.min())
    alloc_year = 1 if 1 in yearly.index else first_year
    last = int(yearly.index.max())
    lines = [f"{'indicator':<40} {'start':>10} {'end':>10}",
             f"{'':<40} {'(year ' + str(first_year) + ')':>10} {'(year ' + str(last) + ')':>10}"]
    for name, label, fmt in SUMMARY:
        if name not in yearly.columns:
            continue
        start_y = alloc_year if math.isnan(yearly[name].get(first_year, math.nan)) else first_year
        a, b = yearly[name].get(start_y, math.nan), yearly[name].get(last, math.nan)
        cell = [("—" if math.isnan(x) else fmt.format(x)) for x in (a, b)]
        lines.append(f"{label:<40} {cell[0]:>10} {cell[1]:>10}")
    lines.append("(allocation indicators start at year 1: they count a year of leases)")
    return "\n".join(lines)
