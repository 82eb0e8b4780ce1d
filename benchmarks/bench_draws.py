"""Does the exact-numpy-draw emulation (``model.state.sample_without_replacement``) pay?

Run by hand: ``python benchmarks/bench_draws.py [--scale 1] [--years 2] [--repeat 5]``.

``sample_without_replacement(rng, n, k)`` returns what ``rng.choice(n, size=k, replace=False)``
returns, from the same bits (tested in tests/test_processes.py), through a compiled copy of
numpy's algorithm on the generator's bit stream. Replacing it by numpy's own call would leave
every result unchanged; the emulation exists for speed only. This script

1. runs the default territory (today's rules) for ``--years`` at ``--scale`` with the function
   wrapped, recording every call's ``(n, k, sort)`` and the time spent in it;
2. replays those calls, ``--repeat`` times each way, interleaved, on a fresh generator: the
   emulation against ``rng.choice(n, k, replace=False)`` (then ``np.sort`` when the caller asks
   for sorted positions), and prints the best totals and the saving per simulated month.

The spin-up (15 years before year 0) is read from its cache as in any repeated run; the draws it
makes on a cold cache are not counted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def record(scale: float, years: int) -> tuple[list[tuple[int, int, bool]], float, float]:
    """Run the model with the function wrapped; return its calls, time in it, run wall time."""
    import mixsim.model.processes.intentions as intentions
    import mixsim.model.state as state
    from mixsim.model import Scenario, run_scenario

    original = state.sample_without_replacement
    calls: list[tuple[int, int, bool]] = []
    spent = [0.0]

    def wrapped(rng, n, k, sort=False):
        t = time.perf_counter()
        out = original(rng, n, k, sort)
        spent[0] += time.perf_counter() - t
        calls.append((int(n), int(k), bool(sort)))
        return out

    run_scenario(Scenario(years=1), scale=0.01, seed=0, keep_moves=False)  # kernels loaded
    state.sample_without_replacement = wrapped
    intentions.sample_without_replacement = wrapped
    try:
        t = time.perf_counter()
        run_scenario(Scenario(years=years), scale=scale, seed=1, keep_moves=False)
        wall = time.perf_counter() - t
    finally:
        state.sample_without_replacement = original
        intentions.sample_without_replacement = original
    return calls, spent[0], wall


def replay(calls, repeat: int) -> tuple[float, float]:
    """Best total seconds of the calls through the emulation and through numpy's choice."""
    from mixsim.model.state import sample_without_replacement

    best_emul, best_numpy = float("inf"), float("inf")
    for _ in range(repeat):
        rng = np.random.default_rng(1)
        t = time.perf_counter()
        for n, k, s in calls:
            sample_without_replacement(rng, n, k, s)
        best_emul = min(best_emul, time.perf_counter() - t)
        rng = np.random.default_rng(1)
        t = time.perf_counter()
        for n, k, s in calls:
            if k == 0:
                continue
            out = rng.choice(n, size=k, replace=False)
            if s:
                out = np.sort(out)
        best_numpy = min(best_numpy, time.perf_counter() - t)
    return best_emul, best_numpy


def main() -> None:
    """Print the figures of benchmarks/README.md ("Draws without replacement")."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    calls, spent, wall = record(a.scale, a.years)
    months = 12 * a.years
    ks = np.array([k for _, k, _ in calls])
    ns = np.array([n for n, _, _ in calls])
    print(f"scale {a.scale}, {a.years} years: run {wall:.2f} s, {len(calls)} calls "
          f"({len(calls) / months:.1f} a month), {spent * 1e3:.1f} ms inside them")
    print(f"n: median {np.median(ns):.0f}, max {ns.max()}; k: median {np.median(ks):.0f}, "
          f"max {ks.max()}, total {ks.sum()}")
    emul, numpy_ = replay(calls, a.repeat)
    print(f"replayed (best of {a.repeat}): emulation {emul * 1e3:.1f} ms, numpy choice "
          f"{numpy_ * 1e3:.1f} ms; saving {(numpy_ - emul) * 1e3:.1f} ms per {months} months "
          f"({(numpy_ - emul) / months * 1e3:.2f} ms a month, "
          f"{(numpy_ - emul) / wall * 100:.2f} % of the run)")


if __name__ == "__main__":
    main()
