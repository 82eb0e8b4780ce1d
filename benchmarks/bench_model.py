"""Wall time and peak memory of the default territory at several scales over 15 years.

Run by hand: ``python benchmarks/bench_model.py [--scales 0.1 1 2] [--years 15] [--repeat 3]``.
Each run is a fresh subprocess so that peak memory (ru_maxrss) is that run's own. The wall time
is that of ``run_scenario`` (territory already loaded; model build, 15 years, result tables).
With ``--repeat k`` every scale runs ``k`` times, interleaved, and the best and median wall times
are printed: this virtual machine's speed drifts by up to 1.6× over an hour (same code, same
seed), and the best of several runs is the figure least disturbed by its neighbours; the
process's CPU time (``cpu_s``) is printed too, less disturbed by other processes. Figures go
into ``benchmarks/README.md``. Each child first makes a one-month run on a tiny territory, which
loads the compiled kernels (numba's cache, written by the first run on the machine); that
loading, paid once per process, is printed apart as ``kernels_s``.

The model's spin-up (35 years before year 0, :mod:`mixsim.model.spinup`) is included: by
default from its disk cache (built by an earlier run with the same seed and code: the cost of
reading it), with ``--cold`` built afresh in an empty cache folder (the cost of a first run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from mixsim.model import Scenario, run_scenario
from mixsim.model.territory import load_territory
scale, years, cold = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
if cold:
    import tempfile
    from pathlib import Path
    import mixsim.model.spinup as sp
    folder = Path(tempfile.mkdtemp())
    sp.cache_folder = lambda: folder
t0 = time.perf_counter()
run_scenario(Scenario(years=1), scale=0.01, seed=0, keep_moves=False)  # loads the kernels
kernels = time.perf_counter() - t0
t = load_territory(scale=scale)
t0, c0 = time.perf_counter(), time.process_time()
r = run_scenario(Scenario(years=years), territory=t, seed=1, keep_moves=True)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
months = 12 * years
print(json.dumps({"scale": scale, "households": t.n_households, "years": years, "cold": cold,
                  "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(peak, 1),
                  "kernels_s": round(kernels, 2),
                  "us_per_household_month": round(1e6 * wall / (t.n_households * months), 3)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[0.1, 1.0, 2.0])
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=1, help="runs per scale (best and median kept)")
    ap.add_argument("--cold", action="store_true", help="spin-up built afresh (empty cache)")
    args = ap.parse_args()
    subprocess.run([sys.executable, "-c", "from mixsim.model import Scenario, run_scenario; "
                    "run_scenario(Scenario(years=1), scale=0.01, seed=0)"], check=True)
    walls: dict[float, list[float]] = {s: [] for s in args.scales}
    for _ in range(args.repeat):
        for s in args.scales:
            out = subprocess.run([sys.executable, "-c", CHILD, str(s), str(args.years),
                                  "1" if args.cold else "0"],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            walls[s].append(r["wall_s"])
            print(r, flush=True)
    if args.repeat > 1:
        for s, w in walls.items():
            print(f"scale {s}: best {min(w):.2f} s, median {statistics.median(w):.2f} s "
                  f"over {len(w)} runs")


if __name__ == "__main__":
    main()
