"""Issue 22: the folder lock, the worker cap, workers that die with their parent, failed points.

Two processes on one output folder: the second is refused (exit 2, folder and holder's pid),
the first is intact; a stale lock is taken over. ``--jobs`` is bounded by the CPUs the process
may use. No worker outlives a ``kill -9`` of its parent by more than a few seconds. A failed or
undefined sensitivity evaluation is recorded and the indices say how many points are missing.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixsim.experiments import limits, run_experiment
from mixsim.experiments import sensitivity as sa
from mixsim.experiments.cli import main
from mixsim.experiments.outdir import LOCK_NAME, OutDir
from mixsim.model import InputError

pytestmark = pytest.mark.slow  # worker processes, kill signals and locks: seconds to a minute each

# one scenario × 60 replicates of 2 years on a 3 % territory: about 0.3 s a run, 20 s or more
# in one process, long enough for the second command to find it running even under load
LONG = """\
name = "long"
years = 2
replicates = 60
seed = {seed}

[territory]
scale = 0.03

[[scenarios]]
name = "ref"
"""
ENV = {**os.environ, "MIXSIM_NO_PROGRESS": "1"}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mixsim.experiments.cli", *args]


def _start(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(_command(*args), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


# ------------------------------------------------------------------------------------------------
# The lock
# ------------------------------------------------------------------------------------------------


def test_second_experiment_on_a_folder_is_refused_and_the_first_is_intact(tmp_path):
    for seed in (11, 12):
        (tmp_path / f"e{seed}.toml").write_text(LONG.format(seed=seed))
    out = tmp_path / "out"
    first = _start("experiment", str(tmp_path / "e11.toml"), "--out", str(out))
    try:
        _wait_for(lambda: (out / "experiment.json").is_file(), first)
        second = subprocess.run(_command("experiment", str(tmp_path / "e12.toml"), "--out",
                                         str(out)), env=ENV, capture_output=True, text=True,
                                timeout=120)
        assert first.poll() is None, "the first experiment should still be running"
        assert second.returncode == 2, second.stderr
        assert str(out) in second.stderr and f"pid {first.pid}" in second.stderr
        assert "in use by another mixsim command" in second.stderr
        # a run or a report is refused the same way
        report = subprocess.run(_command("report", str(out)), env=ENV, capture_output=True,
                                text=True, timeout=120)
        assert report.returncode == 2 and f"pid {first.pid}" in report.stderr
        assert first.poll() is None, "the first experiment should still be running"
    finally:
        _, err = first.communicate(timeout=180)
    assert first.returncode == 0, err.decode()
    info = json.loads((out / "experiment.json").read_text())
    assert str(info["identity"]["seed"]) == "11"
    assert "seed = 11" in (out / "experiment.toml").read_text()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 60 and (runs["status"] == "ok").all()
    assert len(list((out / "runs").glob("*.json"))) == 60
    assert not (out / LOCK_NAME).exists()


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path, caplog):
    out = tmp_path / "out"
    code = ("import sys, time; from mixsim.experiments.outdir import OutDir; "
            f"OutDir({str(out)!r}, 'experiment').__enter__(); print('held', flush=True); "
            "time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(InputError, match=f"pid {holder.pid}, mixsim experiment"):
            with OutDir(out, "run"):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert (out / LOCK_NAME).read_text().startswith(f"pid {holder.pid}")  # left behind
    with caplog.at_level(logging.WARNING, logger="mixsim.experiments.outdir"):
        with OutDir(out, "run"):
            assert (out / LOCK_NAME).read_text().startswith(f"pid {os.getpid()}, mixsim run")
            with OutDir(out, "run"):  # re-entrant in one process
                pass
            assert (out / LOCK_NAME).exists()
    assert f"stale lock of pid {holder.pid}" in caplog.text
    assert not (out / LOCK_NAME).exists()


def test_a_refused_command_leaves_no_folder_behind(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(ValueError, match="boom"):
        with OutDir(out, "run"):
            assert out.is_dir()
            raise ValueError("boom")
    assert not (tmp_path / "a").exists()


# ------------------------------------------------------------------------------------------------
# The worker cap
# ------------------------------------------------------------------------------------------------


def test_available_cpus_reads_the_affinity_and_the_cgroup_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    proc = tmp_path / "cgroup"
    proc.write_text("0::/job\n")
    root = tmp_path / "fs"
    (root / "job").mkdir(parents=True)
    assert limits.available_cpus(root, proc) == 8  # no cpu.max: the affinity decides
    (root / "job" / "cpu.max").write_text("150000 100000\n")
    assert limits.available_cpus(root, proc) == 2  # 1.5 CPUs of quota: 2 processes
    (root / "job" / "cpu.max").write_text("max 100000\n")
    assert limits.available_cpus(root, proc) == 8
    # cgroup v1
    proc.write_text("4:cpu,cpuacct:/job\n")
    (root / "cpu" / "job").mkdir(parents=True)
    (root / "cpu" / "job" / "cpu.cfs_quota_us").write_text("300000\n")
    (root / "cpu" / "job" / "cpu.cfs_period_us").write_text("100000\n")
    assert limits.available_cpus(root, proc) == 3
    (root / "cpu" / "job" / "cpu.cfs_quota_us").write_text("-1\n")
    assert limits.available_cpus(root, proc) == 8
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert limits.available_cpus(root, proc) == 1


def test_jobs_beyond_the_cpus_are_refused_and_minus_one_means_all(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available_cpus", lambda *a: 3)
    assert limits.resolve_jobs(-1) == 3 and limits.resolve_jobs(3) == 3
    for bad in (4, 999, 0, -2, 1.5, True, "2"):
        with pytest.raises(InputError, match="--jobs"):
            limits.resolve_jobs(bad)
    (tmp_path / "e.toml").write_text(LONG.format(seed=1))
    with pytest.raises(InputError, match="got 4; this process may use 3 CPU"):
        run_experiment(tmp_path / "e.toml", tmp_path / "out", jobs=4, progress=False)
    assert not (tmp_path / "out").exists()


def test_the_cap_follows_the_affinity_of_the_command(tmp_path):
    """Under ``taskset -c 0`` (one CPU) ``--jobs 2`` is refused and ``--jobs -1`` means 1."""
    (tmp_path / "e.toml").write_text(LONG.format(seed=1))
    one_cpu = {"preexec_fn": lambda: os.sched_setaffinity(0, {0})}
    res = subprocess.run(_command("experiment", str(tmp_path / "e.toml"), "--out",
                                  str(tmp_path / "out"), "--jobs", "2"), env=ENV,
                         capture_output=True, text=True, timeout=120, **one_cpu)
    assert res.returncode == 2 and "may use 1 CPU" in res.stderr, res.stderr
    assert not (tmp_path / "out").exists()
    res = subprocess.run(_command("experiment", str(tmp_path / "e.toml"), "--out",
                                  str(tmp_path / "out"), "--jobs", "-1", "--dry-run"), env=ENV,
                         capture_output=True, text=True, timeout=120, **one_cpu)
    assert res.returncode == 0, res.stderr


# ------------------------------------------------------------------------------------------------
# Workers end with their parent
# ------------------------------------------------------------------------------------------------


def test_no_worker_outlives_a_kill_9_of_its_parent(tmp_path):
    (tmp_path / "e.toml").write_text(LONG.format(seed=3))
    out = tmp_path / "out"
    proc = _start("experiment", str(tmp_path / "e.toml"), "--out", str(out), "--jobs", "2")
    try:
        _wait_for(lambda: len(list((out / "runs").glob("*.json"))) >= 1, proc)
        children = _descendants(proc.pid)
        assert children, "the loky worker and resource trackers should be running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    t0 = time.monotonic()
    while any(_alive(p) for p in children) and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    elapsed = time.monotonic() - t0
    alive = [p for p in children if _alive(p)]
    for p in alive:  # do not leave them to the next tests
        os.kill(p, signal.SIGKILL)
    # the watchdog checks its parent every second; 10 s leaves room for a loaded machine
    assert not alive and elapsed < 10, f"{len(alive)} process(es) alive after {elapsed:.1f} s"
    written = len(list((out / "runs").glob("*.json")))
    time.sleep(1.5)
    assert len(list((out / "runs").glob("*.json"))) == written  # nobody writes runs any more


# ------------------------------------------------------------------------------------------------
# Failed sensitivity evaluations
# ------------------------------------------------------------------------------------------------


def _bumpy(x1: float, x2: float) -> dict[str, float]:
    """A model undefined (NaN) on x1 > 0.8 and failing on x2 < 0.1 (a top-level function)."""
    if x2 < 0.1:
        raise RuntimeError("diverged")
    return {"y": math.nan if x1 > 0.8 else x1 + 2 * x2, "z": x1 * x2}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_failed_and_undefined_points_are_recorded_and_counted(n_jobs):
    params = {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}
    with pytest.raises((RuntimeError, sa.ModelOutputError)):  # by default the first one raises
        sa.analyze(_bumpy, params, n=64, seed=5, outcomes=["y", "z"])
    failures: list = []
    df = sa.analyze(_bumpy, params, n=64, seed=5, outcomes=["y", "z"], n_jobs=n_jobs,
                    failures=failures)
    X = sa.METHODS["sobol"].sample({"num_vars": 2, "names": ["x1", "x2"],
                                    "bounds": [[0, 1], [0, 1]]}, 64,
                                   sa._Options(False, 4, 0.95), sa._derived_seeds(5)[1])
    fails = (X[:, 1] < 0.1) | (X[:, 0] > 0.8)
    assert sorted(f["row"] for f in failures) == list(np.flatnonzero(fails))
    assert any("diverged" in f["error"] for f in failures)
    assert any("'y'" in f["error"] and "finite" in f["error"] for f in failures)
    assert {"x1", "x2", "traceback", "replicate"} <= set(failures[0])
    y = df[df.outcome == "y"]
    assert (y["n_missing"] == fails.sum()).all()
    complete = ~fails.reshape(-1, 4).any(axis=1)  # Saltelli blocks of D + 2 = 4 rows
    assert (y["n_used"] == 4 * complete.sum()).all()
    # y = x1 + 2 x2 on the complete blocks: x2 carries most of the variance, the indices exist
    assert y[["S1", "ST"]].notna().all().all()
    assert float(y.set_index("parameter").loc["x2", "ST"]) > float(
        y.set_index("parameter").loc["x1", "ST"])


def test_sensitivity_command_reports_failed_points_and_retries_them(tmp_path, monkeypatch,
                                                                    capsys):
    from mixsim.experiments import sensitivity_cli
    spec = tmp_path / "s.toml"
    spec.write_text("""\
years = 1
[territory]
scale = 0.02
[sensitivity]
method = "sobol"
n = 4
convergence = false
[sensitivity.parameters]
"behaviour.beta_poverty" = [1.0, 5.0]
[sensitivity.outcomes]
indicators = ["q1_share_in_qpv"]
years = [1]
""")
    real = sensitivity_cli.MixsimOutcomes.__call__
    calls: list[float] = []

    def flaky(self, replicate=0, **params):
        beta = params["behaviour__beta_poverty"]
        calls.append(beta)
        if beta > 4.0:
            raise RuntimeError("the model diverged")
        return real(self, replicate=replicate, **params)

    monkeypatch.setattr(sensitivity_cli.MixsimOutcomes, "__call__", flaky)
    out = tmp_path / "out"
    assert main(["sensitivity", str(spec), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    failed = pd.read_csv(out / "failed.csv")
    n_bad = sum(b > 4.0 for b in calls)
    assert n_bad >= 1 and len(failed) == n_bad
    assert f"{n_bad} evaluation(s) failed" in err and "the model diverged" in err
    assert (failed["behaviour.beta_poverty"] > 4.0).all()
    indices = pd.read_csv(out / "indices.csv")
    assert (indices["n_missing"] == n_bad).all()
    # rerun: only the failed points run again
    calls.clear()
    assert main(["sensitivity", str(spec), "--out", str(out)]) == 1
    assert len(calls) == n_bad
