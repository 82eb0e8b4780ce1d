"""Throughput, overhead and parent memory of the experiment runner (issue 5).

Run by hand: ``python benchmarks/bench_runner.py [--years 5 15] [--repeat 1]`` (about 3.5 minutes
with the defaults on a 2-core machine). The experiment has 4 lever combinations × 10 replicates =
40 runs at scale 0.1, for each horizon given (default 5 and 15 years: 15 is the model's default
horizon). Each setting (1 worker, 2 workers) runs in a fresh subprocess, as the command would, so
that worker start-up is counted and the parent's memory is its own; with ``--repeat k`` the
settings alternate (1, 2, 2, 1, ...) and the fastest of the ``k`` runs is kept, which filters out
other jobs on a shared machine. Reported per setting:

- ``wall_s``: wall time of ``run_experiment`` (pool start-up, runs, final tables, summary);
- ``runs_per_min`` and, for 2 workers, the speedup = throughput(2) / throughput(1);
- ``overhead_s`` = wall − Σ run wall times / workers, the run wall time being measured inside the
  worker around the whole task (model build and run, writing the run's files), and its share of
  the wall time; ``overhead_model_s`` uses the model's own ``wall_time`` instead (stricter);
- its parts: ``first_run_starts_after_s`` (preparation and worker start-up: a loky worker
  imports the model and loads its compiled kernels, ~2 s, and loads the territory) and
  ``tables_after_last_run_s`` (final tables and summary); the rest is the end of the
  ensemble, when one worker has finished and the other is still on its last run;
- parent RSS (resident memory, MB) before the experiment, after 10 runs, after all runs and at
  the end, sampled every 50 ms: flat in the number of runs when the middle two agree.

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
from mixsim.experiments import run_experiment

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
    ap.add_argument("--years", type=int, nargs="+", default=[5, 15])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--replicates", type=int, default=10, help="per scenario (4 scenarios)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1, help="keep the fastest of k runs")
    args = ap.parse_args()
    env = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}
    # compile the kernels once (numba's cache); workers then load them while starting up
    subprocess.run([sys.executable, "-c", "from mixsim.model import Scenario, run_scenario; "
                    "run_scenario(Scenario(years=1), scale=0.01, seed=0)"], env=env, check=True)
    for years in args.years:
        best: dict[int, dict] = {}
        for k in range(args.repeat):
            for jobs in (args.jobs if k % 2 == 0 else args.jobs[::-1]):
                out = subprocess.run([sys.executable, "-c", CHILD, str(jobs), str(years),
                                      str(args.scale), str(args.replicates)],
                                     capture_output=True, text=True, env=env, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(json.dumps(r), flush=True)
                if jobs not in best or r["wall_s"] < best[jobs]["wall_s"]:
                    best[jobs] = r
        base = best.get(1)
        for jobs, r in sorted(best.items()):
            speed = (f"speedup {r['runs_per_min'] / base['runs_per_min']:.2f}× over 1 worker; "
                     if base is not None and jobs != 1 else "")
            print(f"{years} years, {jobs} worker(s), best of {args.repeat}: {r['wall_s']:.1f} s, "
                  f"{r['runs_per_min']:.1f} runs/min; {speed}overhead {r['overhead_s']:.2f} s = "
                  f"{100 * r['overhead_share']:.1f} % (start-up {r['first_run_starts_after_s']:.2f}"
                  f" s, final tables {r['tables_after_last_run_s']:.2f} s); parent RSS "
                  f"{r['rss_after_10_runs_mb']:.0f} MB after 10 runs, "
                  f"{r['rss_after_all_runs_mb']:.0f} MB after {r['runs']}", flush=True)


if __name__ == "__main__":
    main()
