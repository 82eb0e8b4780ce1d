"""``mixsim experiment``: an ensemble of scenarios × replicates (library: ``runner``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mixsim.experiments import runner
from mixsim.experiments.commands import print_failures
from mixsim.experiments.common import (
    check_out_dir,
    compile_kernels_once,
    positive_float,
    positive_int,
)
from mixsim.experiments.limits import jobs_arg
from mixsim.experiments.runner import BACKENDS, run_experiment
from mixsim.experiments.spec import Experiment, load_experiment
from mixsim.model.errors import InputError


def add_parser(sub) -> None:
    """Register ``mixsim experiment``."""
    p = sub.add_parser(
        "experiment", help="run an ensemble of scenarios × replicates from an experiment file",
        description="Run every scenario of an experiment file for every replicate, in parallel, "
        "and write tidy tables into --out. Rerunning the same command on the same --out resumes: "
        "finished runs are not run again. Format: docs/experiments.md.")
    p.add_argument("file", type=Path, help="experiment TOML file")
    p.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    p.add_argument("--jobs", type=jobs_arg, default=1,
                   help="worker processes, at most the CPUs available (default 1: in this "
                   "process; -1: every CPU)")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="loky (this machine, default) or dask (a Dask distributed cluster)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (implies --backend "
                   "dask; without it --backend dask starts a local cluster of --jobs processes)")
    p.add_argument("--scale", type=positive_float, help="territory scale (overrides the file)")
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the file)")
    p.add_argument("--replicates", type=positive_int,
                   help="replicates per scenario (overrides the file)")
    p.add_argument("--force", action="store_true",
                   help="discard the runs already in --out and start again")
    p.add_argument("--dry-run", action="store_true",
                   help="list the scenarios and the runs to do, run nothing")
    p.set_defaults(func=cmd_experiment)


def cmd_experiment(args: argparse.Namespace) -> int:
    """Run an experiment file; print what was done; exit 1 when a run failed."""
    check_out_dir(args.out, kind="experiment")
    exp = load_experiment(args.file)
    try:
        exp = exp.with_settings(scale=args.scale, years=args.years, replicates=args.replicates,
                                source="command line")
    except InputError as err:
        raise InputError(err.detail, source=f"--{err.field}") from None
    if args.dry_run:
        print(_dry_run(exp, args.out))
        return 0
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mixsim experiment: %(message)s"))
    runner.logger.addHandler(handler)
    level = runner.logger.level
    runner.logger.setLevel(logging.INFO)
    try:
        compile_kernels_once("experiment")
        res = run_experiment(exp, args.out, jobs=args.jobs, backend=args.backend,
                             scheduler=args.scheduler, force=args.force)
    except KeyboardInterrupt:
        n = len(runner.finished_runs(args.out / runner.RUNS_DIR, exp.runs(), exp.fingerprint(),
                                     exp.outputs.moves))
        print(f"mixsim experiment: interrupted; {n} finished runs are kept in {args.out}/"
              f"{runner.RUNS_DIR}; rerun the same command to do the rest", file=sys.stderr)
        return 130
    except runner.ExperimentError as err:
        print(f"mixsim experiment: error: {err}", file=sys.stderr)
        return 1
    finally:
        runner.logger.removeHandler(handler)
        runner.logger.setLevel(level)
    n = len(res.runs)
    print(f"{exp.name}: {n} runs, {n - res.n_failed} ok, {res.n_failed} failed "
          f"({res.n_skipped} done before, {res.n_ran} run now) in {res.wall_time:.1f} s")
    print(f"tables in {args.out}/: runs.parquet, indicators.parquet, summary.csv, "
          "experiment.toml" + (", moves.parquet" if exp.outputs.moves else ""))
    if res.n_failed:
        failed = res.failed
        print(f"{res.n_failed} run(s) failed:", file=sys.stderr)
        print_failures([f"{row.run_id}: {row.error.splitlines()[0] if row.error else '?'}"
                        for row in failed.itertuples()])
        print(f"tracebacks: column `traceback` of {args.out}/runs.parquet; rerunning the same "
              "command retries the failed runs only", file=sys.stderr)
        return 1
    return 0


def _dry_run(exp: Experiment, out: Path) -> str:
    """Describe the scenarios and the runs to do, as text."""
    rows = exp.scenario_table()
    lines = [f"{exp.name}: {len(exp.scenarios)} scenarios × {exp.replicates} replicates = "
             f"{len(exp.scenarios) * exp.replicates} runs of {exp.years} years on "
             f"{exp.territory.source!r} at scale {exp.territory.scale:g}; reference "
             f"{exp.reference!r}; fingerprint {exp.fingerprint()}"]
    width = max(len(r["scenario"]) for r in rows)
    for r in rows:
        values = ", ".join(f"{k.removeprefix('levers.')}={v!r}" for k, v in r.items()
                           if k not in ("scenario", "origin"))
        lines.append(f"  {r['scenario']:<{width}}  ({r['origin']}) {values}")
    for u in exp.uncertainties:
        lines.append(f"  uncertain {u.path} in [{u.low:g}, {u.high:g}]")
    runs_dir = out / runner.RUNS_DIR
    if (out / "experiment.json").is_file():
        done = runner.finished_runs(runs_dir, exp.runs(), exp.fingerprint(), exp.outputs.moves)
        lines.append(f"{len(done)} runs already finished in {out}")
    return "\n".join(lines)

