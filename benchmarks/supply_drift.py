"""Drift of supply, turnover and waits under today's rules (issue #14, items 2–5).

Runs the default territory with no lever change and prints, per year (mean over seeds): social
vacancy overall and by size, private vacancy, turnover by size, share of vacancies unlet for lack
of candidates, median and mean wait of allocated and of pending applicants, applicants per
allocation, Q1 share of leases outside QPV, exits to ownership and to private renting, and the
growth of dwellings and households since the start.

Usage::

    python benchmarks/supply_drift.py --scale 1 --years 20 --seeds 1 2 3 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from mixsim.model.config import Scenario, TerritorySpec
from mixsim.model.model import HousingModel
from mixsim.model.moves import KIND
from mixsim.model.state import S_SOCIAL

DAYS_PER_MONTH = 365.25 / 12


def _year_rows(model: HousingModel, allocs: list, stock_rooms: np.ndarray, start: dict,
               log_from: int) -> dict[str, float]:
    s = model.state
    hh, dw = s.hh, s.dw
    soc = (dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
    vac = soc & (dw.occupant < 0)
    priv = (dw.sector != S_SOCIAL) & dw.active
    out: dict[str, float] = {}
    out["vac_social"] = 100 * vac.sum() / max(1, soc.sum())
    out["vac_3m"] = 100 * (vac & (dw.months_vacant > 3)).sum() / max(1, soc.sum())
    for r in range(1, 6):
        m = soc & (dw.rooms == r)
        out[f"vac_T{r}"] = 100 * (vac & m).sum() / max(1, m.sum())
    out["vac_private"] = 100 * (priv & (dw.occupant < 0)).sum() / max(1, priv.sum())
    dws = np.concatenate([a.dwellings for a in allocs]) if allocs else np.zeros(0, int)
    new = np.concatenate([a.new_unit for a in allocs]) if allocs else np.zeros(0, bool)
    wait = np.concatenate([a.wait for a in allocs]).astype(float) if allocs else np.zeros(0)
    relet_rooms = dw.rooms[dws[~new]]
    total_relet = len(relet_rooms)
    out["turnover"] = 100 * total_relet / max(1, stock_rooms.sum())
    for r in range(1, 6):
        out[f"turn_T{r}"] = 100 * (relet_rooms == r).sum() / max(1, stock_rooms[r - 1])
    offered = sum(a.vacancies for a in allocs)
    out["unlet_none_%"] = 100 * sum(a.unlet_no_candidate for a in allocs) / max(1, offered)
    out["wait_med_m"] = float(np.median(wait)) if len(wait) else float("nan")
    out["wait_mean_d"] = float(wait.mean() * DAYS_PER_MONTH) if len(wait) else float("nan")
    apps = hh.alive & (hh.app > 0)
    pend = (s.month - hh.app_month[apps]).astype(float)
    out["pend_med_m"] = float(np.median(pend)) if len(pend) else float("nan")
    out["pend_mean_d"] = float(pend.mean() * DAYS_PER_MONTH) if len(pend) else float("nan")
    out["apps_per_alloc"] = apps.sum() / max(1, len(wait))
    c = s.counters
    out["q1_out_%"] = 100 * c.get("q1_out", 0) / max(1, c.get("leases_out", 0))
    kind = model.log.array(log_from)[6]
    out["exit_own"] = float((kind == KIND["exit_ownership"]).sum()
                            + (kind == KIND["sale_to_tenant"]).sum())
    out["exit_priv"] = float((kind == KIND["exit_private_rental"]).sum())
    # social tenants' departures from their dwelling, by kind, per 100 social dwellings
    arr = model.log.array(log_from)
    from_dw = arr[2]
    from_soc = (from_dw >= 0) & (from_dw < len(dw.sector))
    from_soc[from_soc] = dw.sector[from_dw[from_soc]] == S_SOCIAL
    for name in ("transfer", "exit_ownership", "exit_private_rental", "departure", "death",
                 "relocation"):
        out[f"out_{name[:10]}"] = 100 * (from_soc & (arr[6] == KIND[name])).sum() / max(
            1, stock_rooms.sum())
    out["dw_growth_%"] = 100 * (dw.active.sum() / start["dw"] - 1)
    out["hh_growth_%"] = 100 * ((hh.alive & (hh.dwelling >= 0)).sum() / start["hh"] - 1)
    return out


def _single_share(s) -> float:
    hh = s.hh
    apps = hh.alive & (hh.app > 0)
    return float(((hh.adults + hh.kids_u14 + hh.kids_14p)[apps] == 1).mean())


def run(scale: float, years: int, seed: int, overrides=None) -> list[dict[str, float]]:
    """Rows per year of one run (``overrides``: dotted parameter paths and values)."""
    sc = Scenario(seed=seed, territory=TerritorySpec(scale=scale))
    if overrides:
        sc = sc.with_overrides(overrides)
    model = HousingModel(sc)
    s = model.state
    dw, hh = s.dw, s.hh
    start = {"dw": dw.active.sum(), "hh": (hh.alive & (hh.dwelling >= 0)).sum()}
    soc = (dw.sector == S_SOCIAL) & dw.active
    y0 = {"vac_social": 100 * (soc & (dw.occupant < 0)).sum() / soc.sum()}
    rows = [y0]
    for _ in range(years):
        dw = s.dw
        soc = (dw.sector == S_SOCIAL) & dw.active & ~dw.to_demolish
        stock_rooms = np.bincount(dw.rooms[soc], minlength=6)[1:6].astype(float)
        log_from = len(model.log)
        allocs = []
        pending0 = int((s.hh.alive & (s.hh.app > 0)).sum())
        opened = 0
        for _m in range(12):
            model.step()
            allocs.append(model.last_allocation)
            hh = s.hh
            opened += int(((hh.app_month == s.month - 1) & (hh.app > 0) & hh.alive).sum())
        row = _year_rows(model, allocs, stock_rooms, start, log_from)
        row["inflow_%pend"] = 100 * opened / max(1, pending0)
        row["single_apps_%"] = 100 * _single_share(s)
        rows.append(row)
    return rows


def main() -> None:
    """Run the seeds and print the mean table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--show", type=int, nargs="+", default=None, help="years to print")
    ap.add_argument("--json", default=None, help="write the mean table to this file")
    ap.add_argument("--set", nargs="*", default=[], metavar="PATH=VALUE",
                    help="parameter overrides, e.g. behaviour.relet_months=3")
    a = ap.parse_args()
    overrides = {}
    for item in a.set:
        path, value = item.split("=", 1)
        overrides[path] = json.loads(value) if value[:1] not in "\"'" else value.strip("\"'")
    t0 = time.perf_counter()
    runs = [run(a.scale, a.years, s, overrides) for s in a.seeds]
    keys = list(runs[0][1].keys())
    mean = []
    for y in range(a.years + 1):
        mean.append({k: float(np.nanmean([r[y].get(k, np.nan) for r in runs])) for k in keys})
    show = a.show or sorted({1, 2, 5, 10, 15, a.years} & set(range(1, a.years + 1)))
    print(f"scale {a.scale}, seeds {a.seeds}, {time.perf_counter() - t0:.0f} s; mean over seeds")
    print(f"{'':16}" + "".join(f"{'y' + str(y):>8}" for y in [0] + show))
    for k in keys:
        vals = [mean[0].get(k, float('nan'))] + [mean[y][k] for y in show]
        print(f"{k:16}" + "".join(f"{v:8.1f}" for v in vals))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"scale": a.scale, "seeds": a.seeds, "years": mean}, f, indent=1)


if __name__ == "__main__":
    main()
