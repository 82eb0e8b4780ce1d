"""Lever change → updated charts in `mixsim explore` (issue 20): is it quick enough for a meeting?

Run by hand: ``python benchmarks/bench_explore.py [--scale 0.1] [--replicates 4] [--jobs 2]
[--screenshot docs/figures/explore.png]`` (about two minutes). It needs the ``explore`` extra,
Playwright's Python package and the system's Chromium (``/usr/bin/chromium``).

It starts ``mixsim explore`` as a user would (defaults: scale 0.1, 15 years, 4 paired seeds,
2 worker processes) on a free localhost port, opens the page in headless Chromium, waits for
today's rules (the reference, computed once), then for each of several lever changes — each a
scenario not run before — clicks the lever and *Run* and measures the time until both new
figures (trajectories and maps) and the new table are on the page. Reported per change:

- ``click_to_charts_s``: from the click on *Run* to the updated charts in the browser (what the
  meeting waits for);
- ``server_s``: the runs and the comparison on the server (shown on the page as "Done in").

It also times the engine alone, in this process with the same settings: the runs of one
scenario on the paired seeds, and drawing the two figures. Figures go into ``docs/explore.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# (family panel to open, button to click): each is a scenario not run before
CHANGES = [
    (None, "strict"),                                        # Q1 quota enforced strictly
    (None, "target"),                                        # ... with a ranking bonus
    ("Reservation holders and their management", "flux"),   # flow management of reservations
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def browser_timings(args) -> list[dict]:
    from playwright.sync_api import sync_playwright
    port = free_port()
    cmd = [sys.executable, "-m", "mixsim.experiments.cli", "explore", "--port", str(port),
           "--scale", str(args.scale), "--years", str(args.years), "--replicates",
           str(args.replicates), "--jobs", str(args.jobs), "--lang", "en"]
    proc = subprocess.Popen(cmd, env={**os.environ, "MIXSIM_NO_PROGRESS": "1"})
    rows = []
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1050})
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#trajectories img", timeout=300_000)
            print(f"page with today's rules after {time.perf_counter() - t0:.1f} s "
                  "(reference computed at start-up)", flush=True)
            for panel, button in CHANGES:
                if panel:
                    page.get_by_text(panel).click()
                page.get_by_role("button", name=button).first.click()
                traj = page.locator("#trajectories img").get_attribute("src")
                maps = page.locator("#maps img").get_attribute("src")
                t = time.perf_counter()
                page.get_by_role("button", name="Run").click()
                page.wait_for_function(
                    "([a, b]) => { const t = document.querySelector('#trajectories img'),"
                    " m = document.querySelector('#maps img');"
                    " return t && m && t.src !== a && m.src !== b; }",
                    arg=[traj, maps], timeout=300_000)
                wall = time.perf_counter() - t
                done = page.locator("text=/Done in/").first.inner_text()
                server = float(re.search(r"([\d.]+) s", done).group(1))
                rows.append({"change": button, "click_to_charts_s": round(wall, 2),
                             "server_s": server})
                print(rows[-1], flush=True)
                if args.screenshot and len(rows) == 1:
                    page.screenshot(path=args.screenshot)
                    print(f"screenshot: {args.screenshot}")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return rows


def machine_slowdown(scale: float) -> float:
    """One run of today's rules at ``scale`` here and now, over its idle time.

    The idle time is the best of ``benchmarks/README.md`` (scale 0.1, 15 years: 0.76 s): the
    ratio says how much slower other jobs make this machine during the benchmark.
    """
    from mixsim.model import Scenario, run_scenario
    run_scenario(Scenario(years=1), scale=scale, seed=1, keep_moves=False)  # kernels loaded
    t = time.perf_counter()
    run_scenario(Scenario(), scale=scale, seed=1, keep_moves=False)
    return (time.perf_counter() - t) / IDLE_RUN_S


IDLE_RUN_S = 0.76  # benchmarks/README.md, bench_model.py at scale 0.1 (2026-11-26)


def engine_timings(args) -> dict:
    from mixsim.experiments import explore_engine as eng
    s = eng.Settings(scale=args.scale, years=args.years, replicates=args.replicates,
                     jobs=args.jobs)
    ex = eng.Explorer(s)
    try:
        if ex.runner._pool is not None:
            for f in ex.runner._warm:
                f.result()
        ex.reference()
        values = {**eng.default_values(), "information.level": 1.0}
        t = time.perf_counter()
        cmp = ex.compare(values)
        runs = time.perf_counter() - t
        t = time.perf_counter()
        eng.png(eng.trajectory_figure(cmp, "en"))
        eng.png(eng.map_figure(cmp, ex.neighbourhoods, "en"))
        figs = time.perf_counter() - t
    finally:
        ex.close()
    return {"runs_s": round(runs, 2), "figures_s": round(figs, 2)}


def cpu_estimate(args) -> dict:
    """CPU seconds of a lever change, in this process (one worker), and the idle wall time.

    On a shared machine the wall time mostly measures the other jobs; the CPU time does not.
    With ``jobs`` idle cores the replicates run ``jobs`` at a time, so a lever change takes
    about ``cpu_runs / min(jobs, replicates)`` plus the figures.
    """
    from mixsim.experiments import explore_engine as eng
    s = eng.Settings(scale=args.scale, years=args.years, replicates=args.replicates, jobs=1)
    ex = eng.Explorer(s)
    ex.reference()
    t = time.process_time()
    cmp = ex.compare({**eng.default_values(), "information.level": 1.0})
    runs = time.process_time() - t
    t = time.process_time()
    eng.png(eng.trajectory_figure(cmp, "en"))
    eng.png(eng.map_figure(cmp, ex.neighbourhoods, "en"))
    figs = time.process_time() - t
    idle = runs / min(args.jobs, args.replicates) + figs
    return {"cpu_runs_s": round(runs, 2), "cpu_figures_s": round(figs, 2),
            "idle_estimate_s": round(idle, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--replicates", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--screenshot", type=Path, help="save the page after the first change")
    ap.add_argument("--no-browser", action="store_true", help="time the engine only")
    ap.add_argument("--cpu-only", action="store_true", help="only the CPU-time estimate")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    if args.cpu_only:
        print("CPU time:", cpu_estimate(args))
        return
    if args.scale == 0.1 and args.years == 15:
        print(f"machine slowdown (a scale-0.1 run now / idle): {machine_slowdown(0.1):.1f}x",
              flush=True)
    print("engine:", engine_timings(args), flush=True)
    print("CPU time:", cpu_estimate(args), flush=True)
    if not args.no_browser:
        rows = browser_timings(args)
        best = min(r["click_to_charts_s"] for r in rows)
        worst = max(r["click_to_charts_s"] for r in rows)
        print(f"lever change → charts: {best:.1f}–{worst:.1f} s over {len(rows)} changes")
    print(f"load average after: {os.getloadavg()}")
    if args.scale == 0.1 and args.years == 15:
        print(f"machine slowdown (a scale-0.1 run now / idle): {machine_slowdown(0.1):.1f}x")


if __name__ == "__main__":
    main()
