"""Run an experiment: every scenario × replicate, in parallel, resumable (docs/experiments.md).

Each run is a task for a top-level worker function, :func:`execute_run`, that receives plain
picklable arguments, runs the model, writes its own files atomically into ``OUT/runs/`` and
returns a small metadata row, so the parent's memory does not grow with the number of runs. The
tasks go to an evaluator of :mod:`mixsim.experiments.evaluators` (where mixsim's parallelism
lives): in-process with ``jobs=1``; with ``jobs = k > 1`` this process and ``k − 1`` loky worker
processes take the runs one at a time from a shared queue, so that the seconds a fresh worker
spends importing Mesa and pandas are not lost: this process starts running at once. With
``backend="dask"`` the runs go to a Dask distributed cluster (a ``LocalCluster`` of ``jobs``
single-threaded processes when no scheduler address is given).

The ``--out`` folder::

    experiment.toml      the resolved experiment (every value written out; loadable again)
    experiment.json      its fingerprint, identity and the versions that started it
    runs/<run_id>.parquet, runs/<run_id>.json   one finished run: its indicators, its metadata
    runs.parquet         one row per run: ids, seed, lever and uncertainty values, status, times
    indicators.parquet   tidy indicator rows of every successful run
    moves.parquet        move logs (only with ``outputs.moves = true``)
    summary.csv          per scenario, indicator and year (see :mod:`mixsim.experiments.summary`)

Resuming: a run whose ``runs/<run_id>.json`` says ``ok`` with the experiment's fingerprint and the
run's config hash is not run again; failed runs are retried. A folder made by an experiment with
another fingerprint is refused unless ``force=True``, which discards its runs first. The final
tables are rebuilt from ``runs/`` at the end of every call, in a fixed order (scenario, then
replicate), so they do not depend on the number of workers or on interruptions.

Test hook: the environment variable ``MIXSIM_FAIL_RUN`` (comma-separated run ids or shell
patterns, read by the parent) makes the matching runs raise inside the worker. It exists for the
tests of failure handling; do not set it otherwise.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import platform
import socket
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mixsim.experiments.common import progress_bar, versions, write_atomic
from mixsim.experiments.evaluators import BACKENDS, Evaluator, check_distributed, make_evaluator
from mixsim.experiments.limits import check_memory, resolve_jobs
from mixsim.experiments.outdir import FolderLayout, ResultFolder, check_out_dir
from mixsim.experiments.spec import Experiment, RunPlan, experiment_from_dict, load_experiment
from mixsim.experiments.summary import SUMMARY_COLUMNS, summarise
from mixsim.model.errors import InputError

__all__ = ["BACKENDS", "ExperimentError", "ExperimentResult", "RunTask", "execute_run",
           "finished_runs", "run_experiment", "write_run_files"]

logger = logging.getLogger(__name__)

#: Test hook (see the module docstring).
FAIL_ENV = "MIXSIM_FAIL_RUN"
RUNS_DIR = "runs"
#: Files of an experiment folder besides ``runs/`` (``force`` removes only these).
OUTPUT_FILES = ("experiment.toml", "experiment.json", "runs.parquet", "indicators.parquet",
                "moves.parquet", "summary.csv")
#: Columns of ``indicators.parquet``.
INDICATOR_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("scenario", pa.string()), ("replicate", pa.int64()),
    ("year", pa.int64()), ("month", pa.int64()), ("scale", pa.string()), ("unit", pa.string()),
    ("register", pa.string()), ("indicator", pa.string()), ("value", pa.float64())])
#: Seconds an interrupted ensemble waits for the workers' runs in progress before killing them.
INTERRUPT_GRACE_S = 60.0
#: Rows buffered before a row group is written when the per-run files are concatenated.
_ROW_GROUP = 200_000


class ExperimentError(RuntimeError):
    """The worker pool itself failed (not a run: runs that raise are recorded and skipped)."""


# ------------------------------------------------------------------------------------------------
# The worker
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (picklable).

    Attributes:
        plan: The run (scenario with uncertainties applied, seed, lever values).
        fingerprint: Fingerprint of the experiment, stored with the run.
        indicators: Indicator names kept (empty: all of the kept scales).
        scales: Scales kept.
        moves: Keep the move log.
        out_dir: Experiment folder the worker writes into; ``None`` to return the tables to the
            parent instead (workers on other machines).
        fail: Raise inside the run (test hook ``MIXSIM_FAIL_RUN``).
    """

    plan: RunPlan
    fingerprint: str
    indicators: tuple[str, ...]
    scales: tuple[str, ...]
    moves: bool
    out_dir: str | None
    fail: bool = False


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one scenario replicate, write its files, return its metadata (the worker function).

    A run that raises is recorded with ``status = "failed"``, the error and its traceback; the
    exception does not leave this function, so the other runs go on.

    Returns:
        ``{"meta": {...}}``, plus ``"tables"`` (name → pyarrow Table) when ``task.out_dir`` is
        None.
    """
    from mixsim.model import run_scenario

    t0 = time.perf_counter()
    plan = task.plan
    meta: dict[str, Any] = {
        "run_id": plan.run_id, "scenario": plan.scenario_name, "replicate": plan.replicate,
        "status": "failed", "error": "", "traceback": "",
        "seed_entropy": str(plan.seed_entropy), "spawn_key": list(plan.spawn_key),
        "config_hash": plan.config_hash, "fingerprint": task.fingerprint,
        "wall_time_s": float("nan"), "task_time_s": float("nan"),
        "started_at": _now(), "finished_at": "",
        "host": socket.gethostname(), "pid": os.getpid(),
        **{f"version_{k}": v for k, v in _versions().items()},
        "levers": dict(plan.levers), "uncertain": dict(plan.uncertain)}
    tables: dict[str, pa.Table] = {}
    try:
        if task.fail:
            raise RuntimeError(f"test failure of run {plan.run_id} requested by {FAIL_ENV}")
        try:
            result = run_scenario(plan.scenario, seed=plan.seed(), run_id=plan.run_id,
                                  keep_moves=task.moves)
        finally:
            _collect_garbage(time.perf_counter() - t0)
        if result.config_hash != plan.config_hash:
            raise RuntimeError(f"the run's config hash {result.config_hash} differs from the "
                               f"planned {plan.config_hash}")
        tables["indicators"] = _indicator_table(result.indicators, task)
        if task.moves:
            moves = result.moves.copy()
            moves.insert(1, "scenario", plan.scenario_name)
            moves.insert(2, "replicate", plan.replicate)
            tables["moves"] = pa.Table.from_pandas(moves, preserve_index=False)
        meta.update(status="ok", wall_time_s=round(result.wall_time, 4))
    except Exception as err:  # recorded, never raised: the other runs go on
        tables = {}
        meta.update(error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
    meta["task_time_s"] = round(time.perf_counter() - t0, 4)
    meta["finished_at"] = _now()
    if task.out_dir is None:
        return {"meta": meta, "tables": tables}
    write_run_files(Path(task.out_dir) / RUNS_DIR, meta, tables)
    return {"meta": meta}


# Memory of long ensembles. run_scenario drops its model from Mesa's agent registry (see
# model.api._released_models); the worker then collects the garbage cycles a model forms with its
# agents, as often as keeps the collector's cost under ~2 % of the run time.
_GC_SHARE = 0.02
_gc_state = {"run_time": 0.0, "cost": 0.0}


def _collect_garbage(run_time: float) -> None:
    """Collect garbage after runs totalling enough time to keep its cost under _GC_SHARE."""
    import gc

    _gc_state["run_time"] += run_time
    if _gc_state["run_time"] * _GC_SHARE >= _gc_state["cost"]:
        t = time.perf_counter()
        gc.collect()
        _gc_state.update(cost=time.perf_counter() - t, run_time=0.0)


def _indicator_table(df: pd.DataFrame, task: RunTask) -> pa.Table:
    """Select the kept indicator rows, add the scenario and replicate (``INDICATOR_SCHEMA``)."""
    keep = df["scale"].astype(str).isin(task.scales)
    if task.indicators:
        keep &= df["indicator"].isin(task.indicators)
    df = df[keep]
    missing = sorted(set(task.indicators) - set(df["indicator"]))
    if missing:  # a missing outcome raises (house rule 8)
        raise KeyError(f"indicators missing from the run's output: {', '.join(missing)}")
    n = len(df)
    cols = {
        "run_id": pa.array(df["run_id"].astype(str).tolist(), pa.string()),
        "scenario": pa.array([task.plan.scenario_name] * n, pa.string()),
        "replicate": pa.array([task.plan.replicate] * n, pa.int64()),
        "year": pa.array(df["year"].to_numpy(dtype="int64")),
        "month": pa.array(df["month"].to_numpy(dtype="int64")),
    }
    for c in ("scale", "unit", "register", "indicator"):
        cols[c] = pa.array(df[c].astype(str).tolist(), pa.string())
    cols["value"] = pa.array(df["value"].to_numpy(dtype="float64"))
    return pa.table(cols, schema=INDICATOR_SCHEMA)


def write_run_files(runs_dir: Path, meta: Mapping[str, Any], tables: Mapping[str, pa.Table]
                    ) -> None:
    """Write one run's tables, then its metadata JSON (last: it marks the run as finished)."""
    rid = meta["run_id"]
    for name in ("indicators", "moves"):
        path = _run_file(runs_dir, rid, name)
        if name in tables:
            write_atomic(path, lambda tmp, t=tables[name]: pq.write_table(t, tmp))
        else:
            path.unlink(missing_ok=True)  # left by an earlier attempt
    text = json.dumps(meta, indent=1, default=str) + "\n"
    write_atomic(runs_dir / f"{rid}.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _run_file(runs_dir: Path, rid: str, name: str) -> Path:
    return runs_dir / (f"{rid}.parquet" if name == "indicators" else f"{rid}.{name}.parquet")


@lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    v = versions()
    v["joblib"] = joblib.__version__
    v["pyarrow"] = pa.__version__
    return v


# ------------------------------------------------------------------------------------------------
# The result
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentResult:
    """What :func:`run_experiment` returns; the tables themselves are in ``out``.

    Attributes:
        out: The experiment folder.
        experiment: The resolved experiment.
        runs: One row per run (``runs.parquet``).
        summary: The summary table (``summary.csv``).
        n_skipped: Runs already finished in ``out`` before this call (not run again).
        n_ran: Runs run by this call.
        n_failed: Runs whose status is ``failed`` (this call's and none earlier: failed runs are
            retried).
        wall_time: Seconds this call took.
    """

    out: Path
    experiment: Experiment
    runs: pd.DataFrame
    summary: pd.DataFrame
    n_skipped: int
    n_ran: int
    n_failed: int
    wall_time: float

    @property
    def ok(self) -> bool:
        """True when every run succeeded."""
        return self.n_failed == 0

    @property
    def failed(self) -> pd.DataFrame:
        """The failed runs: id, scenario, replicate, error and traceback."""
        cols = ["run_id", "scenario", "replicate", "error", "traceback"]
        return self.runs.loc[self.runs["status"] != "ok", cols].reset_index(drop=True)

    def indicators(self, **read_options: Any) -> pd.DataFrame:
        """Read ``indicators.parquet``.

        Options go to :func:`pandas.read_parquet`, e.g.
        ``filters=[("indicator", "==", "q1_share_in_qpv")]``.
        """
        return pd.read_parquet(self.out / "indicators.parquet", **read_options)


# ------------------------------------------------------------------------------------------------
# Running an experiment
# ------------------------------------------------------------------------------------------------


def run_experiment(experiment: Experiment | str | Path | Mapping[str, Any], out: str | Path, *,
                   jobs: int = 1, backend: str | None = None, scheduler: str | None = None,
                   force: bool = False, progress: bool = True, scale: float | None = None,
                   years: int | None = None, replicates: int | None = None) -> ExperimentResult:
    """Run (or resume) an experiment and write its tables into ``out``.

    Args:
        experiment: An :class:`~experiments.spec.Experiment`, the path of an experiment TOML file,
            or the mapping such a file holds.
        out: Experiment folder (created if needed). Finished runs found there are not run again.
        jobs: Worker processes (``-1``: one per core). ``1`` runs in this process. With a Dask
            scheduler address the cluster's size decides.
        backend: ``"loky"`` (joblib's process pool; the default without a scheduler) or
            ``"dask"`` (a Dask distributed cluster; the default with a scheduler).
        scheduler: Address of a Dask scheduler (``"tcp://host:8786"``); implies ``"dask"``.
            Without it, ``"dask"`` starts a local cluster of ``jobs`` processes.
        force: Discard the runs of a different experiment found in ``out`` instead of refusing
            (with the same experiment, discard them too and start again).
        progress: Show a progress bar on stderr (also silenced by ``MIXSIM_NO_PROGRESS``).
        scale: Override the territory scale (quick trials).
        years: Override the horizon.
        replicates: Override the number of replicates.

    Returns:
        The runs and summary tables, with counts of skipped, run and failed runs.

    Raises:
        InputError: for a bad experiment, option or ``out`` folder (before anything runs).
        ExperimentError: when the worker pool itself fails; finished runs are kept.
        KeyboardInterrupt: on Ctrl-C; finished runs are kept, a new call resumes.
    """
    t0 = time.perf_counter()
    exp = _resolve(experiment).with_settings(scale=scale, years=years, replicates=replicates)
    out = Path(out)
    # every check of the inputs and of the folder comes before anything is written or run
    check_out_dir(out, "out", kind="experiment")
    backend = _check_options(jobs, backend, scheduler)
    if backend == "dask":
        _check_dask(scheduler)
    if not (backend == "dask" and scheduler):
        jobs = resolve_jobs(jobs, source="jobs")
    from mixsim.model.api import cached_territory
    territory = cached_territory(exp.territory.source, exp.territory.scale)
    check_memory(territory.n_households, 1 if scheduler else _n_workers(jobs), source="scale")
    with result_folder(out, exp).lock("experiment"):
        return _run_held(exp, out, t0, jobs=jobs, backend=backend, scheduler=scheduler,
                         force=force, progress=progress)


def _run_held(exp: Experiment, out: Path, t0: float, *, jobs: int, backend: str,
              scheduler: str | None, force: bool, progress: bool) -> ExperimentResult:
    """:func:`run_experiment` once its inputs are checked and ``out`` is locked."""
    plans = exp.runs()
    fingerprint = exp.fingerprint()
    folder = result_folder(out, exp)
    old = folder.check(force)
    done = set() if force else finished_runs(out / RUNS_DIR, plans, fingerprint, exp.outputs.moves)
    todo = [p for p in plans if p.run_id not in done]
    where = _describe_backend(backend, jobs, scheduler)
    logger.info("%s: %d scenarios × %d replicates = %d runs; %s", exp.name, len(exp.scenarios),
                exp.replicates, len(plans),
                f"{len(done)} already done, {len(todo)} to run {where}" if done
                else f"running {where}")
    # loky workers take seconds to start: they start now, while this process goes on
    evaluator = _evaluator(exp, jobs, backend, scheduler) if todo else None
    try:
        _write_out(folder, exp, force, old)
        logger.debug("ready to run after %.2f s", time.perf_counter() - t0)
        if evaluator is not None:
            _execute(todo, exp, out, fingerprint, evaluator=evaluator, backend=backend,
                     progress=progress)
    finally:
        if evaluator is not None:
            evaluator.close()
    logger.debug("runs finished after %.2f s", time.perf_counter() - t0)
    runs, summary = _assemble(out, exp, plans)
    logger.debug("tables written after %.2f s", time.perf_counter() - t0)
    n_failed = int((runs["status"] != "ok").sum())
    return ExperimentResult(out=out, experiment=exp, runs=runs, summary=summary,
                            n_skipped=len(done), n_ran=len(todo), n_failed=n_failed,
                            wall_time=time.perf_counter() - t0)


def _resolve(experiment: Experiment | str | Path | Mapping[str, Any]) -> Experiment:
    if isinstance(experiment, Experiment):
        return experiment
    if isinstance(experiment, str | Path):
        return load_experiment(experiment)
    if isinstance(experiment, Mapping):
        return experiment_from_dict(experiment)
    raise TypeError(f"expected an Experiment, a file path or a mapping, got "
                    f"{type(experiment).__name__}")


def _check_options(jobs: Any, backend: Any, scheduler: Any) -> str:
    """Validate the execution options; return the backend (a scheduler implies ``dask``)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not (jobs >= 1 or jobs == -1):
        raise InputError(f"got {jobs!r}; expected a whole number ≥ 1 (or -1 for every core)",
                         source="jobs")
    if backend is None:
        backend = "dask" if scheduler else "loky"
    if backend not in BACKENDS:
        raise InputError(f"got {backend!r}; expected one of {', '.join(BACKENDS)}",
                         source="backend")
    if scheduler is not None and backend != "dask":
        raise InputError("a scheduler address needs the dask backend", source="scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise InputError(f"got {scheduler!r}; expected an address such as tcp://host:8786",
                         source="scheduler")
    return backend


def _check_dask(scheduler: str | None) -> None:
    """Check that ``distributed`` is installed and the scheduler, if any, answers (no writes).

    A scheduler address must be one you trust: Dask's protocol is unauthenticated and carries
    pickles, so whoever runs the scheduler can run code in this process (docs/experiments.md).
    """
    check_distributed()
    if scheduler is None:
        return
    from urllib.parse import urlsplit
    text = scheduler.strip()
    parts = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme not in ("tcp", "tls") or not host or port is None or " " in host:
        raise InputError(f"got {scheduler!r}; expected an address such as tcp://host:8786",
                         source="scheduler")
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as err:
        raise InputError(f"cannot reach the Dask scheduler at {host}:{port}: "
                         f"{err.strerror or err}", source="scheduler", field=scheduler) from None


def _describe_backend(backend: str, jobs: int, scheduler: str | None) -> str:
    if backend == "dask":
        return (f"on the Dask cluster at {scheduler}" if scheduler
                else f"on a local Dask cluster of {_n_workers(jobs)} processes")
    return ("in this process" if _n_workers(jobs) == 1
            else f"in this process and {_n_workers(jobs) - 1} loky worker(s)")


def _n_workers(jobs: int) -> int:
    return resolve_jobs(jobs, source="jobs")


# -- the experiment folder -----------------------------------------------------------------------


#: The experiment folder (experiments/outdir.py): ``runs/`` holds its results.
LAYOUT = FolderLayout(
    kind="experiment", results=(RUNS_DIR,), outputs=(RUNS_DIR, *OUTPUT_FILES), noun="runs",
    different="holds the runs of a different experiment ({changes}); rerun with --force to "
              "discard them and start again, or choose another --out", named=("scenarios",))


def result_folder(out: Path, exp: Experiment) -> ResultFolder:
    """Return the experiment folder ``out`` for ``exp`` (its marker is ``experiment.json``)."""
    return ResultFolder(out, LAYOUT, fingerprint=exp.fingerprint(), identity=exp.identity(),
                        option="out")


def _write_out(folder: ResultFolder, exp: Experiment, force: bool,
               old: dict[str, Any] | None) -> None:
    """Start or reopen the folder: ``experiment.toml``, ``experiment.json``, a clean ``runs/``."""
    out = folder.path
    if force:
        folder.clear()
    runs_dir = out / RUNS_DIR
    runs_dir.mkdir(parents=True, exist_ok=True)
    for tmp in runs_dir.glob(".*.tmp"):  # left by a write that was killed
        tmp.unlink(missing_ok=True)
    fingerprint = exp.fingerprint()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    info = {"name": exp.name, "fingerprint": fingerprint, "identity": exp.identity(),
            "created": (old or {}).get("created", now), "updated": now, "source": exp.source,
            "versions": _versions(), "python": platform.python_version()}
    header = (f"# Resolved experiment {exp.name!r}, fingerprint {fingerprint}, written by mixsim "
              f"{_versions()['mixsim']} on {now}.\n# Run it again with: mixsim experiment "
              f"{out / 'experiment.toml'} --out {out}\n\n")
    text = header + exp.to_toml()
    write_atomic(out / "experiment.toml", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    blob = json.dumps(info, indent=1) + "\n"
    write_atomic(out / "experiment.json", lambda tmp: tmp.write_text(blob, encoding="utf-8"))


def finished_runs(runs_dir: Path, plans: list[RunPlan], fingerprint: str, moves: bool) -> set[str]:
    """Run ids whose files say they finished, for this experiment and this configuration."""
    done = set()
    for p in plans:
        meta = _read_meta(runs_dir / f"{p.run_id}.json")
        if (meta is not None and meta.get("status") == "ok"
                and meta.get("fingerprint") == fingerprint
                and meta.get("config_hash") == p.config_hash
                and _run_file(runs_dir, p.run_id, "indicators").is_file()
                and (not moves or _run_file(runs_dir, p.run_id, "moves").is_file())):
            done.add(p.run_id)
    return done


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- execution -----------------------------------------------------------------------------------


def _evaluator(exp: Experiment, jobs: int, backend: str, scheduler: str | None) -> Evaluator:
    """Return the evaluator of the runs: this process and ``jobs − 1`` loky workers, or Dask."""
    if backend == "dask":
        return make_evaluator(jobs, "dask", scheduler=scheduler)
    return make_evaluator(_n_workers(jobs), "loky", include_self=True, grace=INTERRUPT_GRACE_S,
                          warm=(_warm_worker, (exp.territory.source, exp.territory.scale)))


def _warm_worker(source: str, scale: float) -> int:
    """Load the worker's modules and territory (the first task a loky worker gets)."""
    from mixsim.model.api import cached_territory
    cached_territory(source, scale)
    return os.getpid()


def _failing_runs() -> list[str]:
    """Run-id patterns of the test hook ``MIXSIM_FAIL_RUN``."""
    return [p.strip() for p in os.environ.get(FAIL_ENV, "").split(",") if p.strip()]


def _execute(todo: list[RunPlan], exp: Experiment, out: Path, fingerprint: str, *,
             evaluator: Evaluator, backend: str, progress: bool) -> int:
    """Run the tasks on the evaluator, writing each run as it finishes; return the failures."""
    fail = _failing_runs()
    runs_dir = out / RUNS_DIR
    # workers that do not see this file system (a remote Dask cluster) send the tables back
    tasks = _tasks(todo, exp, fingerprint, out if evaluator.shares_files else None, fail)
    n_failed = 0
    with _bar(len(todo), exp.name, progress) as bar:
        bar.set_postfix(failed=0, refresh=False)
        results = evaluator.map(execute_run, tasks)
        try:
            for res in results:
                meta = res["meta"]
                if "tables" in res:
                    write_run_files(runs_dir, meta, res["tables"])
                if meta["status"] != "ok":
                    n_failed += 1
                    logger.debug("run %s failed: %s", meta["run_id"], meta["error"])
                bar.update(1)
                bar.set_postfix(failed=n_failed, refresh=False)
        except (KeyboardInterrupt, InputError):
            raise
        except Exception as err:
            raise ExperimentError(
                f"the {backend} workers failed ({type(err).__name__}: {err}); finished runs "
                f"are kept in {runs_dir}, rerun the same command to resume") from err
        finally:
            results.close()  # no new runs; those in progress get INTERRUPT_GRACE_S to finish
    return n_failed


def _tasks(todo: list[RunPlan], exp: Experiment, fingerprint: str, out: Path | None,
           fail: list[str]) -> Iterator[RunTask]:
    """Tasks of the runs to do (``out``: the folder workers write into, None: they return)."""
    return (RunTask(plan=p, fingerprint=fingerprint, indicators=exp.outputs.indicators,
                    scales=exp.outputs.scales, moves=exp.outputs.moves,
                    out_dir=str(out) if out is not None else None,
                    fail=any(fnmatch.fnmatchcase(p.run_id, pat) for pat in fail))
            for p in todo)


def _bar(total: int, desc: str, enabled: bool):
    if enabled:
        return progress_bar(total, desc, unit="run")
    from tqdm import tqdm
    return tqdm(total=total, disable=True)


# -- the final tables ----------------------------------------------------------------------------


def _assemble(out: Path, exp: Experiment, plans: list[RunPlan]) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame]:
    """Write runs.parquet, indicators.parquet (moves.parquet) and summary.csv from ``runs/``."""
    runs_dir = out / RUNS_DIR
    order = {name: i for i, name in enumerate(exp.scenario_names)}
    plans = sorted(plans, key=lambda p: (order[p.scenario_name], p.replicate))
    runs = _runs_table(runs_dir, plans)
    write_atomic(out / "runs.parquet", lambda tmp: runs.to_parquet(tmp, index=False))

    ok = [p.run_id for p, s in zip(plans, runs["status"], strict=True) if s == "ok"]
    _concat(out / "indicators.parquet", [_run_file(runs_dir, r, "indicators") for r in ok],
            INDICATOR_SCHEMA)
    if exp.outputs.moves:
        _concat(out / "moves.parquet", [_run_file(runs_dir, r, "moves") for r in ok], None)

    table = pq.read_table(out / "indicators.parquet",
                          columns=["scenario", "replicate", "scale", "unit", "indicator", "year",
                                   "value"],
                          filters=[("year", "in", list(exp.summary_years))])
    summary = summarise(table.to_pandas(), reference=exp.reference, years=exp.summary_years,
                        scenarios=exp.scenario_names)
    summary = summary.reindex(columns=SUMMARY_COLUMNS)
    write_atomic(out / "summary.csv", lambda tmp: summary.to_csv(tmp, index=False))
    return runs, summary


def _runs_table(runs_dir: Path, plans: list[RunPlan]) -> pd.DataFrame:
    rows = []
    for p in plans:
        meta = _read_meta(runs_dir / f"{p.run_id}.json") or {
            "run_id": p.run_id, "scenario": p.scenario_name, "replicate": p.replicate,
            "status": "missing", "error": "no record of this run", "traceback": "",
            "seed_entropy": str(p.seed_entropy), "spawn_key": list(p.spawn_key),
            "config_hash": p.config_hash, "levers": dict(p.levers),
            "uncertain": dict(p.uncertain)}
        meta = dict(meta)
        levers, uncertain = meta.pop("levers", {}), meta.pop("uncertain", {})
        meta.pop("fingerprint", None)
        rows.append({**meta, **levers, **uncertain})
    first = ["run_id", "scenario", "replicate", "status", "seed_entropy", "spawn_key",
             "config_hash", "wall_time_s", "task_time_s", "error", "traceback"]
    df = pd.DataFrame(rows)
    return df[[c for c in first if c in df.columns] + [c for c in df.columns if c not in first]]


def _concat(dest: Path, files: list[Path], schema: pa.Schema | None) -> None:
    """Concatenate per-run Parquet files into one, a few row groups at a time (flat memory)."""
    if schema is None:
        schema = pq.read_schema(files[0]) if files else pa.schema([])

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema) as writer:
            buf: list[pa.Table] = []
            rows = 0
            for f in files:
                t = pq.read_table(f).cast(schema)
                buf.append(t)
                rows += t.num_rows
                if rows >= _ROW_GROUP:
                    writer.write_table(pa.concat_tables(buf))
                    buf, rows = [], 0
            if buf:
                writer.write_table(pa.concat_tables(buf))

    write_atomic(dest, write)
