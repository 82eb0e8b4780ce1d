"""Wall time of the sensitivity benchmark of issue 6 (8 parameters, n = 256, 4,608 runs).

Run by hand: ``python benchmarks/bench_sensitivity.py [--out DIR] [--jobs 2] [--minutes M]``.
It runs ``mixsim sensitivity benchmarks/sobol_benchmark.toml --out DIR --jobs 2`` and reports
the model runs finished, the wall time and the throughput. With ``--minutes M`` it interrupts
the analysis after ``M`` minutes (the finished evaluations stay saved in ``DIR/evaluations``)
and projects the full analysis from the throughput measured; the same command resumes it.
Figures go into ``benchmarks/README.md`` ("Sensitivity analysis").

The model's compiled kernels are built (or loaded from numba's cache) by a short run before the
clock starts: compiling is paid once per machine, not per analysis; its time is reported.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SPEC = HERE / "sobol_benchmark.toml"
TOTAL = 256 * (2 * 8 + 2)  # Saltelli design with second order: N (2D + 2)


def saved_rows(out: Path) -> int:
    """Model evaluations saved so far in ``out/evaluations``."""
    n = 0
    for f in (out / "evaluations").glob("rows-*.npz"):
        with np.load(f) as z:
            n += len(z["rows"])
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out/bench_sobol"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--minutes", type=float, help="stop after this many minutes and project")
    args = ap.parse_args()
    before = saved_rows(args.out)
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from mixsim.model import Scenario, run_scenario; "
                    "run_scenario(Scenario(years=1), scale=0.02, seed=0)"], env=env, check=True)
    print(f"kernels compiled or loaded in {time.perf_counter() - t0:.1f} s (not counted)")
    cmd = [sys.executable, "-m", "mixsim.experiments.cli", "sensitivity", str(SPEC), "--out",
           str(args.out), "--jobs", str(args.jobs)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    try:
        proc.wait(timeout=None if args.minutes is None else 60 * args.minutes)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    wall = time.perf_counter() - t0
    after = saved_rows(args.out)
    ran = after - before
    rate = ran / wall * 60 if wall > 0 else float("nan")
    print(f"{ran} model runs in {wall / 60:.1f} min ({rate:.1f} runs/min, {args.jobs} jobs); "
          f"{after} of {TOTAL} saved in {args.out}/evaluations")
    if after < TOTAL and ran > 0:
        print(f"projected wall time of the whole analysis at this rate: "
              f"{TOTAL / rate:.0f} min (target: 30 min)")
    elif proc.returncode == 0:
        print(f"analysis complete: exit 0; wall time of this call {wall / 60:.1f} min")


if __name__ == "__main__":
    main()
