"""Share of a run's wall time spent recording indicators (issue: ≤ 15 % at scale 1, 15 years).

Run by hand: ``python benchmarks/bench_indicators.py [--scale 1] [--years 15]``. It wraps every
recorder entry point with a timer and compares with the run's wall time.
"""

from __future__ import annotations

import argparse
import time

from mixsim.model import Scenario, run_scenario
from mixsim.model.recorder import Recorder
from mixsim.model.territory import load_territory


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=15)
    args = ap.parse_args()
    spent = {"t": 0.0}
    for name in ("start", "month", "end_year", "finish", "frame"):
        orig = getattr(Recorder, name)

        def timed(self, *a, _orig=orig, **k):
            t0 = time.perf_counter()
            try:
                return _orig(self, *a, **k)
            finally:
                spent["t"] += time.perf_counter() - t0

        setattr(Recorder, name, timed)
    t = load_territory(scale=args.scale)
    t0 = time.perf_counter()
    r = run_scenario(Scenario(years=args.years), territory=t, seed=1, keep_moves=False)
    wall = time.perf_counter() - t0
    print(f"scale {args.scale}, {args.years} years: wall {wall:.2f} s, indicators "
          f"{spent['t']:.2f} s = {100 * spent['t'] / wall:.1f} % ({len(r.indicators):,} rows)")


if __name__ == "__main__":
    main()
