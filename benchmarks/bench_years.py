"""CPU time of each simulated year, by process, on the default territory (issue #14).

Run by hand: ``python benchmarks/bench_years.py SCALE YEARS [SEED]``. Each process of the
monthly schedule (``mixsim.model.schedule``) is wrapped in a CPU timer; every year prints the
year's CPU time, the processes' share of it, the household table's rows and living households,
and the time of each process. It tells whether a late year costs more because of the work
(more vacancies, offers, households) or because of a table that grows (figures in
``benchmarks/README.md``, "Session 7").
"""

from __future__ import annotations

import collections
import sys
import time

from schedule_hooks import MONTHLY, wrap_processes

from mixsim.model import Scenario
from mixsim.model.api import build_model
from mixsim.model.config import TerritorySpec

PROCESSES = MONTHLY + ("new_year",)  # new_year's own processes are inside its time


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python benchmarks/bench_years.py SCALE YEARS [SEED]")
    scale, years = float(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    spent: collections.Counter = collections.Counter()

    def timed(name, fn, args, kwargs):
        t = time.process_time()
        out = fn(*args, **kwargs)
        spent[name] += time.process_time() - t
        return out

    wrap_processes(timed, PROCESSES)
    model = build_model(Scenario(years=years, territory=TerritorySpec(scale=scale)), seed=seed)
    for year in range(1, years + 1):
        spent.clear()
        t0 = time.process_time()
        for _ in range(12):
            model.step()
        total = time.process_time() - t0
        hh = model.state.hh
        print(f"year {year:2d}: {total:.3f} s (processes {sum(spent.values()):.3f} s), "
              f"{hh.n} rows, {int(hh.alive.sum())} living households; "
              + " ".join(f"{n}={spent[n]:.3f}" for n in PROCESSES), flush=True)


if __name__ == "__main__":
    main()
