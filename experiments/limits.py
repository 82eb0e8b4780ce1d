"""What a command may ask of the machine: workers, memory, worker processes that end with it.

- :func:`available_cpus` counts the CPUs this process may use: its affinity mask
  (``os.sched_getaffinity``, e.g. ``taskset``) and its cgroup's CPU quota (``cpu.max`` of cgroup
  v2, ``cpu.cfs_quota_us / cpu.cfs_period_us`` of v1: a container limited to 2 CPUs on a
  64-core host has 2). :func:`resolve_jobs` refuses more workers than that (exit 2 from the
  command line: more processes than CPUs only slow a run down and multiply its memory) and
  turns ``-1`` into all of them.
- :func:`check_memory` refuses, before anything runs, a territory whose households cannot fit
  in this machine's memory (its physical memory, or its cgroup's limit when lower) at the
  number of processes asked for.
- :func:`init_worker` runs first in every loky worker process (``experiments/evaluators.py``): the
  worker ignores Ctrl-C (the command's own process receives it too and stops the workers
  itself, so an interrupt never surfaces as a worker that failed to un-serialize its task), and
  a watchdog thread ends the worker within :data:`WATCHDOG_PERIOD_S` seconds when its parent
  process dies, even by ``kill -9`` (without it an orphan worker finished its run and lingered
  for minutes, holding some 300 MB).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import threading
import time
from pathlib import Path

from mixsim.model.errors import InputError

__all__ = ["BYTES_PER_HOUSEHOLD", "BYTES_PER_PROCESS", "WATCHDOG_PERIOD_S", "available_cpus",
           "check_memory", "init_worker", "jobs_arg", "memory_limit", "resolve_jobs"]

#: Memory of one model process besides its households (Python, numpy, pandas, Mesa, numba
#: kernels): measured 320 MB (maximum resident set of ``mixsim run --scale 0.2 --years 2``).
BYTES_PER_PROCESS = 320 * 2**20
#: Memory per household of a run: measured ~540 bytes (slope of the maximum resident set between
#: scale 0.2 and 4, 2 years, no move log); four times that leaves room for long runs' move logs.
BYTES_PER_HOUSEHOLD = 2048
#: Seconds between two checks of a worker's watchdog that its parent is alive.
WATCHDOG_PERIOD_S = 1.0

_CGROUP = Path("/sys/fs/cgroup")


def _cgroup_paths(kind: str, root: Path, proc_cgroup: Path) -> list[Path]:
    """Return the cgroup folders of this process for a controller (``""``: v2), deepest first."""
    paths = []
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, rel = parts[1].split(","), parts[2].lstrip("/")
        if (kind == "" and parts[0] == "0") or (kind and kind in controllers):
            base = root if kind == "" else root / kind
            paths.append(base / rel)
    paths.append(root if kind == "" else root / kind)
    return list(dict.fromkeys(paths))


def _cgroup_cpus(root: Path = _CGROUP, proc_cgroup: Path = Path("/proc/self/cgroup")
                 ) -> float | None:
    """CPUs allowed by the cgroup quota (None: no quota)."""
    for folder in _cgroup_paths("", root, proc_cgroup):
        try:
            quota, period = (folder / "cpu.max").read_text().split()[:2]
        except (OSError, ValueError):
            continue
        if quota == "max":
            return None
        return int(quota) / int(period)
    for folder in _cgroup_paths("cpu", root, proc_cgroup):
        try:
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return None if quota <= 0 else quota / period
    return None


def available_cpus(root: Path = _CGROUP, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """CPUs this process may use: its affinity mask and its cgroup quota (at least 1).

    Args:
        root: Mount point of the cgroup file system (tests give a fake one).
        proc_cgroup: The file listing this process's cgroups.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_cpus(root, proc_cgroup)
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, n)


def resolve_jobs(jobs: object, source: str = "--jobs") -> int:
    """Check a number of workers against :func:`available_cpus`; ``-1`` means all of them.

    Raises:
        InputError: for anything but a whole number from 1 to the CPUs available, or -1.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not (jobs >= 1 or jobs == -1):
        raise InputError(f"got {jobs!r}; expected a whole number ≥ 1 (or -1 for every CPU)",
                         source=source)
    cpus = available_cpus()
    if jobs == -1:
        return cpus
    if jobs > cpus:
        raise InputError(f"got {jobs}; this process may use {cpus} CPU(s) (its affinity and "
                         f"cgroup quota): give at most {cpus}, or -1 for all of them",
                         source=source)
    return jobs


def jobs_arg(text: str) -> int:
    """Argument type of ``--jobs``: 1 to the CPUs available, or -1 for all of them."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number ≥ 1 or -1 (every CPU), got {text!r}") from None
    try:
        return resolve_jobs(v)
    except InputError as err:
        raise argparse.ArgumentTypeError(err.detail) from None


def memory_limit(root: Path = _CGROUP, proc_cgroup: Path = Path("/proc/self/cgroup")
                 ) -> int | None:
    """Bytes of memory this process's tree may use: physical memory or cgroup limit if lower."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    for folder in _cgroup_paths("", root, proc_cgroup):
        try:
            text = (folder / "memory.max").read_text().strip()
        except OSError:
            continue
        if text != "max":
            limits.append(int(text))
        break
    for folder in _cgroup_paths("memory", root, proc_cgroup):
        try:
            limits.append(int((folder / "memory.limit_in_bytes").read_text()))
        except (OSError, ValueError):
            continue
        break
    return min(limits) if limits else None


def check_memory(households: int, processes: int = 1, source: str = "--scale") -> None:
    """Refuse a territory too large for this machine's memory, before anything runs.

    Args:
        households: Households of the territory at the scale of the runs.
        processes: Model processes running at once (the ``--jobs``).
        source: What to name in the message.

    Raises:
        InputError: when :data:`BYTES_PER_PROCESS` + ``households`` × :data:`BYTES_PER_HOUSEHOLD`
            per process exceeds :func:`memory_limit`.
    """
    limit = memory_limit()
    need = processes * (BYTES_PER_PROCESS + households * BYTES_PER_HOUSEHOLD)
    if limit is not None and need > limit:
        per = (BYTES_PER_PROCESS + households * BYTES_PER_HOUSEHOLD) / 2**30
        raise InputError(
            f"a territory of {households:,} households needs about {per:.1f} GiB per model "
            f"process ({processes} at once: {need / 2**30:.1f} GiB) but this machine has "
            f"{limit / 2**30:.1f} GiB; lower the scale or the number of jobs", source=source)


# -- worker processes ----------------------------------------------------------------------------


def init_worker(parent: int) -> None:
    """Initialise a loky worker: ignore Ctrl-C, end when the parent process dies.

    Args:
        parent: The pid of the process that starts the workers (``os.getpid()`` there; it may
            be 1 in a container, so a pid of 1 does not mean that the parent died).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:  # the parent died before this worker started
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="mixsim-parent-watchdog",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    """End this process at once when it is no longer the child of ``parent``."""
    while True:
        time.sleep(WATCHDOG_PERIOD_S)
        if os.getppid() != parent:
            os._exit(1)  # a run in progress leaves only a temporary file, removed on resume
