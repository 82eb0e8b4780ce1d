"""Wall time of one calibration of the example territory (``calibration/example_data``).

Run by hand: ``python benchmarks/bench_calibration.py [--method msm] [--budget 40] [--jobs 1]
[--scale 1] [--years 3] [--replicates 2]``. It runs ``mixsim calibrate`` in a temporary folder
(nothing is reused) and prints one JSON line: the settings, model runs, wall time, seconds per
model run and the distance reached. Figures for the record go into ``docs/calibration.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "calibration" / "example_data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=("msm", "abc"), default="msm")
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--replicates", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("MIXSIM_NO_PROGRESS", "1")

    from mixsim.calibration.cli import run_calibration
    from mixsim.model.api import cached_territory

    t_load = time.perf_counter()
    territory = cached_territory(str(EXAMPLE), args.scale)
    t_load = time.perf_counter() - t_load
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_calibration(EXAMPLE, Path(tmp) / "cal", method=args.method,
                              budget=args.budget, jobs=args.jobs, scale=args.scale,
                              years=args.years, replicates=args.replicates, progress=False)
        wall = time.perf_counter() - t0
    runs = (res["n_new"] + 1) * args.replicates  # the points, then the fit at the result
    print(json.dumps({
        "method": args.method, "budget": args.budget, "jobs": args.jobs, "scale": args.scale,
        "households": territory.n_households, "years": args.years,
        "replicates": args.replicates, "points": res["n_new"], "model_runs": runs,
        "territory_load_s": round(t_load, 2), "wall_s": round(wall, 1),
        "s_per_run": round(wall / runs, 3), "distance": round(res["distance"], 2)}))


if __name__ == "__main__":
    main()
