"""Paired comparison of single levers against the baseline: which are bit-identical, Q1 shares.

Run by hand (issue #15; figures in docs/levers.md)::

    python benchmarks/lever_identity.py --out out/lever_identity --scale 0.2 --years 8 \
        --seeds 1 2 3

Each scenario changes one lever (or one lever in the context where it applies) from a
reference scenario, on the same seeds. The script prints, per scenario, whether its indicator
table is identical to its reference's on every seed (or that it was refused), and the mean
over seeds and years 1.. of a few allocation indicators; it writes the same table to
``<out>/summary.csv``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from mixsim.model import Scenario, run_scenario
from mixsim.model.errors import InputError

RENEWAL = {"levers.renewal.demolitions_per_year": 300.0}
FLUX = {"levers.reservation.management": "flux"}
# scenario -> (overrides, the scenario it is compared with for bit-identity)
SCENARIOS: dict[str, tuple[dict, str]] = {
    "baseline": ({}, "baseline"),
    "quota_q1_target": ({"levers.quota_q1.enforcement": "target"}, "baseline"),
    "quota_q1_strict": ({"levers.quota_q1.enforcement": "strict"}, "baseline"),
    "local_preference_0": ({"levers.reservation.local_preference": 0.0}, "baseline"),
    "local_preference_500": ({"levers.reservation.local_preference": 500.0}, "baseline"),
    "handback_3": ({"levers.reservation.handback_months": 3}, "baseline"),
    "flux": (FLUX, "baseline"),
    "flux_handback_3": ({**FLUX, "levers.reservation.handback_months": 3}, "flux"),
    "prefet_020": ({"levers.reservation.prefet": 0.20}, "baseline"),
    "prefet_agents_0": ({"levers.reservation.prefet_agents": 0.0}, "baseline"),
    "priority_kept_after_refusal": ({"levers.priority.lost_after_refusal": False}, "baseline"),
    "renewal": (RENEWAL, "baseline"),
    "renewal_no_relocation_priority": ({**RENEWAL, "levers.renewal.relocation_priority": False},
                                       "renewal"),
    "renewal_relocation_points_0": ({**RENEWAL, "levers.cotation.relocation": 0.0}, "renewal"),
    "solvency_0": ({"behaviour.commission_solvency": 0.0}, "baseline"),
    "solvency_0_q1_target": ({"behaviour.commission_solvency": 0.0,
                              "levers.quota_q1.enforcement": "target"}, "solvency_0"),
}
INDICATORS = ("q1_share_leases_outside_qpv", "priority_share", "leases", "relocations",
              "unlet_for_lack_of_candidate_share", "refusal_rate",
              "tenants_below_60pct_ceiling_share", "sls_payer_share")


def run_one(name: str, overrides: dict, seed: int, scale: float, years: int, out: Path):
    """Run (or read back) one scenario × seed; return its indicator table or None if rejected."""
    path = out / f"{name}_{seed}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    try:
        sc = Scenario(years=years).with_overrides(overrides)
    except InputError as err:  # the lever is refused in this configuration
        (out / f"{name}_{seed}.rejected").write_text(str(err))
        return None
    df = run_scenario(sc, scale=scale, seed=seed, keep_moves=False).indicators
    df.to_parquet(path)
    return df


def main() -> None:
    """Run the comparison and print the summary."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--years", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    tables: dict[str, dict] = {}
    for name, (ov, ref) in SCENARIOS.items():
        if a.only and name not in a.only and name != ref:
            continue
        tables[name] = {s: run_one(name, ov, s, a.scale, a.years, a.out) for s in a.seeds}
        if any(t is None for t in tables[name].values()):
            rows.append({"scenario": name, "reference": ref, "identical": "rejected"})
            continue
        base = tables.get(ref)
        same = base is not None and name != ref and all(
            tables[name][s].drop(columns="run_id").equals(base[s].drop(columns="run_id"))
            for s in a.seeds)
        row = {"scenario": name, "reference": ref, "identical": same}
        for ind in INDICATORS:
            vals = []
            for s in a.seeds:
                t = tables[name][s]
                sel = t[(t.scale == "epci") & (t.indicator == ind) & (t.year >= 1)]
                vals.append(sel.value.mean())
            row[ind] = float(np.mean(vals))
            row[ind + "_sd"] = float(np.std(vals))
        rows.append(row)
    df = pd.DataFrame(rows)
    df.to_csv(a.out / "summary.csv", index=False)
    (a.out / "settings.json").write_text(json.dumps(vars(a), default=str))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(df.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
