"""Throughput, overhead and parent memory of the experiment runner (issue 5).

Run by hand: ``python benchmarks/bench_runner.py [--years 5] [--scale 0.1] [--replicates 10]``.
The experiment has 4 lever combinations × 10 replicates = 40 runs at scale 0.1 (5 years by
default). Each setting (1 worker, 2 workers) runs in a fresh subprocess, as the command would, so
that worker start-up is counted and the parent's memory is its own. Reported per setting:

- ``wall_s``: wall time of ``run_experiment`` (pool start-up, runs, final tables, summary);
- ``runs_per_min`` and, for 2 workers, ``speedup`` = throughput(2) / throughput(1);
- ``overhead_s`` = wall − Σ run wall times / workers, with the run wall time measured inside the
  worker around the whole task (model build and run, writing the run's files), and its share
  of the wall time; ``overhead_model_s`` uses the model's own ``wall_time`` instead (stricter);
- ``first_run_starts_after_s`` (preparation and worker start-up) and
  ``tables_after_last_run_s`` (final tables and summary), the main parts of the overhead;
- parent RSS (resident memory, MB) before the experiment, after 10 runs, after all runs and at
  the end, sampled every 50 ms: flat in the number of runs when the last three agree.

Figures go into ``benchmarks/README.md`` ("Experiment runner").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, sys, tempfile, threading, time
from pathlib import Path
import psutil
from experiments import run_experiment

jobs, years, replicates = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4])
scale = float(sys.argv[3])
experiment = {
    "name": "bench", "years": years, "replicates": replicates, "seed": 1,
    "territory": {"scale": scale},
    "scenarios": [
        {"name": "today"},
        {"name": "quotas_strict", "levers": {"quota_q1": {"enforcement": "strict"},
                                             "quota_qpv": {"enforcement": "strict"}}},
        {"name": "flux_informed", "levers": {"reservation": {"management": "flux"},
                                             "information": {"level": 1.0}}},
        {"name": "renewal", "levers": {"renewal": {"demolitions_per_year": 100.0,
                                                   "rebuild_outside_share": 1.0}}},
    ],
    "outputs": {"years": [years]},
}
proc = psutil.Process()
out = Path(tempfile.mkdtemp(prefix="bench-runner-"))
samples = []  # (runs finished, rss MB)
stop = threading.Event()

def sample():
    while not stop.is_set():
        done = len(list((out / "runs").glob("*.json"))) if (out / "runs").is_dir() else 0
        samples.append((done, proc.memory_info().rss / 2**20))
        time.sleep(0.05)

rss_before = proc.memory_info().rss / 2**20
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
t0, w0 = time.perf_counter(), time.time()
res = run_experiment(experiment, out, jobs=jobs, progress=False)
wall, w1 = time.perf_counter() - t0, time.time()
stop.set(); sampler.join()
runs = res.runs
n = len(runs)
from datetime import datetime
started = min(datetime.fromisoformat(x).timestamp() for x in runs["started_at"])
finished = max(datetime.fromisoformat(x).timestamp() for x in runs["finished_at"])

def rss_at(k):
    after = [m for d, m in samples if d >= k]
    return round(after[0], 1) if after else None

print(json.dumps({
    "jobs": jobs, "runs": n, "ok": int((runs["status"] == "ok").sum()), "years": years,
    "scale": scale, "wall_s": round(wall, 2), "runs_per_min": round(60 * n / wall, 2),
    "mean_run_s": round(runs["task_time_s"].mean(), 3),
    "overhead_s": round(wall - runs["task_time_s"].sum() / jobs, 2),
    "overhead_share": round((wall - runs["task_time_s"].sum() / jobs) / wall, 4),
    "overhead_model_s": round(wall - runs["wall_time_s"].sum() / jobs, 2),
    "overhead_model_share": round((wall - runs["wall_time_s"].sum() / jobs) / wall, 4),
    "first_run_starts_after_s": round(started - w0, 2),
    "tables_after_last_run_s": round(w1 - finished, 2),
    "rss_before_mb": round(rss_before, 1), "rss_after_10_runs_mb": rss_at(10),
    "rss_after_all_runs_mb": rss_at(n), "rss_end_mb": round(proc.memory_info().rss / 2**20, 1),
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--replicates", type=int, default=10, help="per scenario (4 scenarios)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    results = []
    for jobs in args.jobs:
        out = subprocess.run([sys.executable, "-c", CHILD, str(jobs), str(args.years),
                              str(args.scale), str(args.replicates)],
                             capture_output=True, text=True, env=env, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    base = next((r for r in results if r["jobs"] == 1), None)
    for r in results:
        if base is not None and r is not base:
            print(f"{r['jobs']} workers: speedup {r['runs_per_min'] / base['runs_per_min']:.2f}× "
                  f"over 1 worker; overhead {100 * r['overhead_share']:.1f} % of the wall time")


if __name__ == "__main__":
    main()
