"""Wall time and verdicts of the sensitivity benchmark (issue #21): 8 factors, default territory.

Run by hand: ``python benchmarks/bench_sensitivity.py [--spec FILE] [--out DIR] [--jobs 2]
[--minutes M]``. By default it times the analysis interpreted in ``docs/sensitivity.md``
(``docs/figures/sobol_default.toml``: 4 levers and 4 uncertainties, Sobol' n and 2n, paired
replicates, outcomes averaged over a window of years): first ``mixsim sensitivity FILE --pilot``,
then ``mixsim sensitivity FILE`` on the same ``--out`` (it reuses the pilot's points). It reports
the design points and model runs finished, the wall time of each step and, once the analysis is
complete, for every outcome its noise share and its three largest total indices with their
verdict and whether they converged between n and 2n. With ``--minutes M`` it interrupts the
analysis after ``M`` minutes (the finished evaluations stay saved in ``DIR/evaluations``) and
projects the full analysis from the throughput measured; the same command resumes it. Figures go
into ``benchmarks/README.md`` ("Sensitivity analysis").

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
import pandas as pd

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "docs" / "figures" / "sobol_default.toml"
TARGET_MINUTES = 30


def saved_rows(out: Path) -> int:
    """Design points evaluated and saved so far in ``out/evaluations``."""
    n = 0
    for f in (out / "evaluations").glob("rows-*.npz"):
        with np.load(f) as z:
            n += len(z["rows"])
    return n


def design_points(spec_path: Path) -> tuple[int, int]:
    """Return (points of the whole analysis, replicates per point) of a specification."""
    from mixsim.experiments.sensitivity_cli import load_spec
    spec = load_spec(spec_path)
    d = len(spec.parameters)
    per_n = (2 * d + 2) if spec.second_order else (d + 2)
    n = 2 * spec.n if spec.convergence else spec.n
    return n * per_n, spec.replicates


def run(cmd: list[str], env: dict, minutes: float | None) -> tuple[float, int]:
    """Run ``cmd``; interrupt it (Ctrl-C) after ``minutes``. Return (wall seconds, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    try:
        proc.wait(timeout=None if minutes is None else 60 * minutes)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return time.perf_counter() - t0, proc.returncode


def top_indices(out: Path, k: int = 3) -> pd.DataFrame:
    """The ``k`` largest total indices of each outcome with their verdicts (indices.csv)."""
    df = pd.read_csv(out / "indices.csv")
    df = df.sort_values(["outcome", "ST"], ascending=[True, False])
    cols = ["outcome", "noise_share", "parameter", "ST", "ST_conf", "ST_verdict", "S1",
            "S1_conf", "S1_verdict", "converged"]
    return df.groupby("outcome", sort=False).head(k)[cols]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--out", type=Path, default=Path("out/bench_sobol"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--minutes", type=float, help="stop after this many minutes and project")
    args = ap.parse_args()
    total, replicates = design_points(args.spec)
    before = saved_rows(args.out)
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from mixsim.model import Scenario, run_scenario; "
                    "run_scenario(Scenario(years=1), scale=0.02, seed=0)"], env=env, check=True)
    print(f"kernels compiled or loaded in {time.perf_counter() - t0:.1f} s (not counted)")
    base = [sys.executable, "-m", "mixsim.experiments.cli", "sensitivity", str(args.spec),
            "--out", str(args.out), "--jobs", str(args.jobs)]
    pilot_wall, code = run(base + ["--pilot"], env, args.minutes)
    print(f"pilot: {pilot_wall / 60:.1f} min, exit {code}")
    left = None if args.minutes is None else max(args.minutes - pilot_wall / 60, 0.1)
    wall, code = run(base, env, left)
    wall += pilot_wall
    after = saved_rows(args.out)
    ran = after - before
    rate = ran / wall * 60 if wall > 0 else float("nan")
    print(f"{ran} design points ({ran * replicates} model runs) in {wall / 60:.1f} min "
          f"({rate:.1f} points/min, {args.jobs} jobs); {after} of {total} saved in "
          f"{args.out}/evaluations (plus the noise runs)")
    if after < total and ran > 0:
        print(f"projected wall time of the whole analysis at this rate: "
              f"{total / rate:.0f} min (target: {TARGET_MINUTES} min)")
        return
    print(f"analysis complete: exit {code}; wall time, pilot included, {wall / 60:.1f} min "
          f"(target: {TARGET_MINUTES} min)")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(top_indices(args.out).to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
