"""Where QPV poverty goes: the change of the poverty rate of QPV households, by process.

Run by hand: ``python benchmarks/qpv_poverty_decomposition.py [--scale 0.2] [--out FILE]
[param=value ...]`` (behaviour overrides, e.g. ``income_persistence=0.99``). It builds the
default territory's drawn state, runs the 35-year spin-up and then 12 years of today's rules
(seed 1), and wraps every process of the monthly schedule (``mixsim.model.schedule``): before
and after each call every household (by its stable id) is classified as housed in a QPV or not
and poor or not, the poverty line (60 % of the housed households' median income per consumption
unit) held fixed across the call. Each process's share of the change of the QPV poverty rate,
and the households it moves into and out of QPV with their poverty, are summed by band of
years and printed per year and per 1,000 QPV households; the yearly rates (QPV, overall, by
tenure, share of the poor living in QPV) are printed too. ``--out`` keeps the tallies as JSON.
Figures in docs/validation.md ("Poverty in QPV").
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import math

import numpy as np
from schedule_hooks import wrap_processes

from mixsim.model import spinup
from mixsim.model.api import cached_territory
from mixsim.model.config import Behaviour, Scenario
from mixsim.model.model import HousingModel
from mixsim.model.population import build_state

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--scale", type=float, default=0.2)
ap.add_argument("--out", help="write the tallies to this JSON file")
ap.add_argument("-v", "--verbose", action="store_true", help="every flow in and out of QPV")
ap.add_argument("overrides", nargs="*", metavar="param=value", help="behaviour overrides")
args = ap.parse_args()
SCALE = args.scale
ov = {k: float(v) for k, v in (a.split("=", 1) for a in args.overrides)}
beh = dataclasses.replace(Behaviour(), **ov)

STATE = {"s": None, "phase": "spinup", "year": 0}
# acc[(phase_band, process)] -> Counter
acc = collections.defaultdict(collections.Counter)
yearly = []  # (phase, year, rate, N, tenure shares/poverty)


def snap(s):
    hh, nb = s.hh, s.nb
    housed = hh.alive & (hh.dwelling >= 0)
    H = int(hh.hid.max()) + 1 if hh.n else 0
    qpv = np.zeros(hh.n, bool)
    qpv[housed] = nb.qpv[hh.nbhd[housed]]
    d = {
        "H": H,
        "hid": hh.hid.copy(),
        "housed": housed,
        "qpv": qpv,
        "z": hh.z.astype(float).copy(),
        "tenure": hh.tenure.copy(),
        "alive": hh.alive.copy(),
        "dwelling": hh.dwelling.copy(),
    }
    zline = float(np.median(hh.z[housed])) + 2 * math.log(0.6) if housed.any() else 0.0
    return d, zline


def by_hid(d, key, H, fill):
    out = np.full(H, fill, dtype=d[key].dtype)
    out[d["hid"]] = d[key]
    return out


def band(phase, year):
    if phase == "spinup":
        return "spinup_01-05" if year <= 5 else ("spinup_06-15" if year <= 15 else "spinup_16-35")
    return "run_01-05" if year <= 5 else "run_06-12"


def record(name, b, a, zline, zline_after):
    H = max(b["H"], a["H"])
    q0 = by_hid(b, "qpv", H, False)
    q1 = by_hid(a, "qpv", H, False)
    h0 = by_hid(b, "housed", H, False)
    h1 = by_hid(a, "housed", H, False)
    z0 = by_hid(b, "z", H, np.nan)
    z1 = by_hid(a, "z", H, np.nan)
    al1 = by_hid(a, "alive", H, False)
    t1 = by_hid(a, "tenure", H, 4)
    t0 = by_hid(b, "tenure", H, 5)
    d0 = by_hid(b, "dwelling", H, -1)
    d1 = by_hid(a, "dwelling", H, -1)
    p0 = z0 < zline
    p1 = z1 < zline
    c = acc[(band(STATE["phase"], STATE["year"]), name)]
    N0, P0 = q0.sum(), (q0 & p0).sum()
    N1, P1 = q1.sum(), (q1 & p1).sum()
    if N0 == 0 or N1 == 0:
        return
    c["drate"] += P1 / N1 - P0 / N0
    # the same households judged against the line recomputed after the process (median drift)
    c["dline"] += (q1 & (z1 < zline_after)).sum() / N1 - P1 / N1
    stay = q0 & q1
    c["stay_np2p"] += int((stay & ~p0 & p1).sum())
    c["stay_p2np"] += int((stay & p0 & ~p1).sum())
    c["moves_within_qpv"] += int((stay & (d0 != d1)).sum())
    ent = q1 & ~q0
    ten = {0: "social", 1: "private", 2: "owner"}
    for k, tn in ten.items():
        e = ent & (t1 == k)
        if not e.any():
            continue
        orig_new = e & ~h0
        c[f"in_{tn}_from_unhoused"] += int(orig_new.sum())
        c[f"in_{tn}_from_unhoused_poor"] += int((orig_new & p1).sum())
        orig_nq = e & h0
        c[f"in_{tn}_from_nonqpv"] += int(orig_nq.sum())
        c[f"in_{tn}_from_nonqpv_poor"] += int((orig_nq & p1).sum())
    ex = q0 & ~q1
    dest = {
        "gone_or_dead": ~al1 | (t1 == 4),
        "unhoused": al1 & (t1 != 4) & ~h1,
        "social_nonqpv": h1 & (t1 == 0),
        "private_nonqpv": h1 & (t1 == 1),
        "owner_nonqpv": h1 & (t1 == 2),
    }
    for k, m in dest.items():
        e = ex & m
        for tk, tn in ten.items():
            ee = e & (t0 == tk)
            if ee.any():
                c[f"out_{tn}_to_{k}"] += int(ee.sum())
                c[f"out_{tn}_to_{k}_poor"] += int((ee & p0).sum())
    c["N_months"] += 1
    c["N_sum"] += int(N0)


def classified(name, fn, args, kw):
    s = args[0]
    label = name
    if name == "private_market":
        label = (
            "private_market_arrivals"
            if kw.get("only") is not None
            else "private_market_residents"
        )
    b, zl = snap(s)
    out = fn(*args, **kw)
    a, zla = snap(s)
    record(label, b, a, zl, zla)
    return out


wrap_processes(classified, (
    "demography",
    "move_intentions",
    "private_market",
    "arrivals",
    "settle_arrivals",
    "give_up_seeking",
    "policy_events",
    "allocate",
    "yearly_income",
    "compact_households",
    "update_attractiveness",
    "over_ceiling",
))


def qpv_stats(s):
    hh, nb = s.hh, s.nb
    housed = hh.alive & (hh.dwelling >= 0)
    med = np.median(hh.income_uc[housed])
    poor = hh.income_uc < 0.6 * med
    q = np.zeros(hh.n, bool)
    q[housed] = nb.qpv[hh.nbhd[housed]]
    out = {
        "rate_qpv": float(poor[q].mean()),
        "rate": float(poor[housed].mean()),
        "N_qpv": int(q.sum()),
    }
    for k, tn in {0: "social", 1: "private", 2: "owner"}.items():
        m = q & (hh.tenure == k)
        out[f"share_{tn}"] = float(m.sum() / q.sum())
        out[f"pov_{tn}"] = float(poor[m].mean()) if m.any() else None
        m2 = ~q & housed & (hh.tenure == k)
        out[f"pov_{tn}_nonqpv"] = float(poor[m2].mean()) if m2.any() else None
    # poor households: share living in QPV
    out["poor_share_in_qpv"] = float((poor & q).sum() / (poor & housed).sum())
    return out


def spin_up_year_stats(name, fn, args, kw):
    """Yearly rates of the spin-up, taken as each of its years starts (``new_year``)."""
    if STATE["phase"] == "spinup":
        yearly.append({"phase": "spinup", "year": STATE["year"], **qpv_stats(args[0])})
        STATE["year"] += 1
    return fn(*args, **kw)


restore_new_year = wrap_processes(spin_up_year_stats, ("new_year",))

terr = cached_territory("default", SCALE)
own = np.random.default_rng(spinup.spin_up_seed(terr))
state = build_state(terr, own, **spinup.today_options())
yearly.append({"phase": "drawn", "year": 0, **qpv_stats(state)})
STATE["year"] = 1
spinup.spin_up(state, own, spinup.SPIN_UP_YEARS, SCALE, beh)
yearly.append({"phase": "spun", "year": 35, **qpv_stats(state)})
# the run: the spun-up state we just built (same as the cached one), scenario's seed 1
restore_new_year()
STATE["phase"] = "run"
STATE["year"] = 1
sc = Scenario(behaviour=beh)
model = HousingModel(sc, territory=terr, rng=1, run_id="d", spin_up_years=spinup.SPIN_UP_YEARS)
for _ in range(12 * 12):
    model.step()
    if model.state.month % 12 == 0:
        yearly.append({"phase": "run", "year": STATE["year"], **qpv_stats(model.state)})
        STATE["year"] += 1
res = {
    "scale": SCALE,
    "overrides": ov,
    "yearly": yearly,
    "acc": {f"{k[0]}|{k[1]}": dict(v) for k, v in acc.items()},
}
if args.out:
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, default=float)
for y in yearly:
    if (
        y["phase"] in ("drawn", "spun")
        or y["year"] in (1, 5, 15, 34)
        or (y["phase"] == "run" and y["year"] in (6, 12))
    ):
        print(
            y["phase"],
            y["year"],
            {
                k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in y.items()
                if k not in ("phase", "year")
            },
        )
bands = collections.defaultdict(dict)
for k, v in res["acc"].items():
    b, p = k.split("|")
    bands[b][p] = v
nyears = {"spinup_01-05": 5, "spinup_06-15": 10, "spinup_16-35": 20, "run_01-05": 5, "run_06-12": 7}
for b in sorted(bands, key=lambda x: (x.startswith("run"), x)):
    ny = nyears[b]
    # mean QPV households over the band: from any process N_sum/N_months
    any_p = next(iter(bands[b].values()))
    Nbar = any_p["N_sum"] / any_p["N_months"]
    print(f"\n== {b}: {ny} years, mean QPV housed households {Nbar:.0f}; "
          "per year, per 1000 QPV households")
    tot = 0
    totl = 0
    for p, c in sorted(bands[b].items(), key=lambda kv: kv[1].get("drate", 0)):
        dr = c.get("drate", 0) / ny
        tot += dr
        dl = c.get("dline", 0) / ny
        totl += dl
        ins = sum(v for k, v in c.items() if k.startswith("in_") and not k.endswith("_poor"))
        ins_p = sum(v for k, v in c.items() if k.startswith("in_") and k.endswith("_poor"))
        outs = sum(v for k, v in c.items() if k.startswith("out_") and not k.endswith("_poor"))
        outs_p = sum(v for k, v in c.items() if k.startswith("out_") and k.endswith("_poor"))
        f = 1000 / Nbar / ny
        line = (
            f"{p:26s} drate/yr {dr:+.4f} line {dl:+.4f}  in {ins * f:6.1f} "
            f"(poor {ins_p / ins if ins else 0:.2f})"
            f"  out {outs * f:6.1f} (poor {outs_p / outs if outs else 0:.2f})"
            f"  stay np->p {c.get('stay_np2p', 0) * f:5.1f} p->np {c.get('stay_p2np', 0) * f:5.1f}"
        )
        print(line)
        if args.verbose:
            for k in sorted(c):
                if (
                    (k.startswith("in_") or k.startswith("out_"))
                    and not k.endswith("_poor")
                    and c[k]
                ):
                    share = c.get(k + "_poor", 0) / c[k]
                    print(f"      {k:38s} {c[k] * f:6.1f}/1000/yr poor {share:.2f}")
    print(f"{'sum of processes':26s} drate/yr {tot:+.4f}  line drift/yr {totl:+.4f}  "
          f"total {tot + totl:+.4f}")
