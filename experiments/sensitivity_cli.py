"""``mixsim sensitivity FILE.toml --out DIR``: global sensitivity analysis of the model.

The file names the base scenario, the levers and uncertain parameters with their ranges, the
outcomes (indicators at chosen years), the method (Sobol' or Morris), the sample size and the
seed::

    include = ["scenarios/baseline.toml"]     # the base scenario (optional)
    years = 10

    [territory]
    scale = 0.1

    [sensitivity]
    method = "sobol"          # or "morris"
    n = 64                    # Sobol': a power of two; Morris: trajectories
    seed = 2024
    replicates = 2            # model runs averaged per point (common random numbers)
    second_order = false
    convergence = true        # also run at 2n and report how much the indices moved

    [sensitivity.parameters] # dotted names of numeric levers or behaviour parameters
    "levers.quota_q1.share" = [0.15, 0.40]
    "behaviour.beta_poverty" = [1.0, 5.0]

    [sensitivity.outcomes]
    indicators = ["dissimilarity_q1_by_neighbourhoods", "q1_share_leases_outside_qpv"]
    years = [10]

Outputs: ``indices.csv`` (one row per outcome and parameter), ``second_order.csv`` when asked,
``convergence.csv``, one bar chart per outcome (PNG and SVG) with confidence intervals, and the
resolved specification ``sensitivity.toml``. Every model evaluation is saved in
``evaluations/`` as it finishes: rerunning the same command on the same ``--out`` resumes an
interrupted analysis (``--force`` discards the evaluations of another specification).

A failed or undefined (NaN) evaluation does not stop the analysis: like the experiment runner's
failed runs, it is recorded in ``failed.csv`` (sample row, replicate, outcome, error, traceback,
parameter values), the indices use the design's complete blocks only and say so (columns
``n_missing`` and ``n_used`` of ``indices.csv``), the command exits with code 1 and rerunning it
retries the failed points only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixsim.model.config import Scenario, from_dict, iter_parameters, read_toml, to_toml
from mixsim.model.errors import InputError

METHODS = ("sobol", "morris")
SPEC_KEYS = ("method", "n", "seed", "replicates", "second_order", "convergence", "num_levels",
             "parameters", "outcomes")


@dataclass(frozen=True)
class SensitivitySpec:
    """A validated sensitivity specification."""

    scenario: Scenario
    method: str
    n: int
    seed: int
    replicates: int
    second_order: bool
    convergence: bool
    num_levels: int
    parameters: dict[str, tuple[float, float]]
    indicators: tuple[str, ...]
    years: tuple[int, ...]


def load_spec(path: str | Path) -> SensitivitySpec:
    """Read and validate a sensitivity file (errors name the file and the field)."""
    path = Path(path)
    src = str(path)
    data = read_toml(path)
    sens = data.pop("sensitivity", None)
    if not isinstance(sens, dict):
        raise InputError("missing [sensitivity] table", source=src, field="sensitivity")
    scenario = from_dict(Scenario, data, source=src)
    unknown = [k for k in sens if k not in SPEC_KEYS]
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; allowed: {', '.join(SPEC_KEYS)}",
                         source=src, field=f"sensitivity.{unknown[0]}")
    method = sens.get("method", "sobol")
    if method not in METHODS:
        raise InputError(f"got {method!r}; allowed: {', '.join(METHODS)}", source=src,
                         field="sensitivity.method")

    def whole(key: str, default: int, lo: int) -> int:
        v = sens.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InputError(f"got {v!r}; expected a whole number ≥ {lo}", source=src,
                             field=f"sensitivity.{key}")
        return v

    n = whole("n", 64 if method == "sobol" else 20, 1)
    if method == "sobol" and n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise InputError(f"got {n}; Sobol' needs a power of two (nearest: {lo} or {2 * lo})",
                         source=src, field="sensitivity.n")
    flags = {}
    for key, default in (("second_order", False), ("convergence", True)):
        v = sens.get(key, default)
        if not isinstance(v, bool):
            raise InputError(f"got {v!r}; expected true or false", source=src,
                             field=f"sensitivity.{key}")
        flags[key] = v
    params = sens.get("parameters")
    if not isinstance(params, dict) or not params:
        raise InputError("expected a table of 'dotted.name' = [low, high]", source=src,
                         field="sensitivity.parameters")
    known = {name: f for name, f, _ in iter_parameters(Scenario())}
    ranges: dict[str, tuple[float, float]] = {}
    for name, rng in params.items():
        where = f"sensitivity.parameters.{name}"
        if name not in known:
            import difflib
            hint = difflib.get_close_matches(name, list(known), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"unknown parameter{extra}", source=src, field=where)
        f = known[name]
        if f.type not in (int, float):
            raise InputError(f"is not numeric ({f.type.__name__}); only numeric levers and "
                             "parameters can vary in a sensitivity analysis", source=src,
                             field=where)
        if (not isinstance(rng, list) or len(rng) != 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool)
                           for x in rng)):
            raise InputError(f"got {rng!r}; expected [low, high]", source=src, field=where)
        low, high = float(rng[0]), float(rng[1])
        if not low < high:
            raise InputError(f"low {low:g} must be below high {high:g}", source=src, field=where)
        lo_b, hi_b = f.metadata.get("lo"), f.metadata.get("hi")
        if (lo_b is not None and low < lo_b) or (hi_b is not None and high > hi_b):
            raise InputError(f"range [{low:g}, {high:g}] leaves the allowed [{lo_b}, {hi_b}]",
                             source=src, field=where)
        ranges[name] = (low, high)
    outs = sens.get("outcomes", {})
    inds = outs.get("indicators") if isinstance(outs, dict) else None
    if not isinstance(inds, list) or not inds or not all(isinstance(x, str) for x in inds):
        raise InputError("expected a non-empty list of indicator names", source=src,
                         field="sensitivity.outcomes.indicators")
    from mixsim.experiments.spec import known_indicators
    available = sorted(known_indicators().get("epci", ()))
    for name in inds:
        if name not in available:
            import difflib
            hint = difflib.get_close_matches(name, available, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"unknown indicator {name!r}{extra}; the outcomes are EPCI "
                             "indicators, listed in `docs/indicators.md`", source=src,
                             field="sensitivity.outcomes.indicators")
    years = outs.get("years", [scenario.years])
    if (not isinstance(years, list) or not years
            or not all(isinstance(y, int) and 1 <= y <= scenario.years for y in years)):
        raise InputError(f"got {years!r}; expected years between 1 and {scenario.years}",
                         source=src, field="sensitivity.outcomes.years")
    return SensitivitySpec(scenario=scenario, method=method, n=n,
                           seed=whole("seed", 0, 0), replicates=whole("replicates", 1, 1),
                           second_order=flags["second_order"], convergence=flags["convergence"],
                           num_levels=whole("num_levels", 4, 2), parameters=ranges,
                           indicators=tuple(inds), years=tuple(years))


def to_identifier(name: str) -> str:
    """Dotted parameter name as a Python identifier (the sensitivity core passes keywords)."""
    return name.replace(".", "__")


def from_identifier(name: str) -> str:
    """Inverse of :func:`to_identifier`."""
    return name.replace("__", ".")


class MixsimOutcomes:
    """Picklable model function for :func:`mixsim.experiments.sensitivity.analyze`.

    ``MixsimOutcomes(spec)(replicate=r, **params)`` runs the base scenario with the parameters
    overridden, on replicate seed ``r`` spawned from the specification's seed (the same seeds at
    every sample point: common random numbers), and returns ``{"indicator@year": value}``.
    """

    def __init__(self, spec: SensitivitySpec):
        self.base = spec.scenario.to_dict()
        self.seed = spec.seed
        self.indicators = spec.indicators
        self.years = spec.years
        self.ints = {name for name, f, _ in iter_parameters(Scenario()) if f.type is int}

    def __call__(self, replicate: int = 0, **params: float) -> dict[str, float]:
        """Run one replicate at one parameter point; return the outcomes."""
        from mixsim.model import run_indicators
        params = {from_identifier(k): v for k, v in params.items()}
        values = {k: (int(round(v)) if k in self.ints else float(v)) for k, v in params.items()}
        scenario = from_dict(Scenario, self.base).with_overrides(values)
        seq = np.random.SeedSequence(self.seed, spawn_key=(int(replicate),))
        values = run_indicators(scenario, seed=seq, record_years=self.years)
        names = {name for _, name in values}
        out = {}
        for name in self.indicators:
            if name not in names:
                raise KeyError(f"the model has no EPCI indicator {name!r}")
            for y in self.years:
                out[f"{name}@{y}"] = float(values.get((y, name), np.nan))
        return out


EVALUATIONS = "evaluations"
#: The failed or undefined evaluations of the last call (absent when there are none).
FAILED = "failed.csv"


def run_sensitivity(spec: SensitivitySpec, out: Path, *, jobs: int = 1,
                    progress: bool = True, force: bool = False) -> dict[str, Any]:
    """Run the analysis and write tables and charts into ``out``; return the frames.

    Every finished model evaluation is saved in ``out/evaluations/``: run again on the same
    ``out``, the analysis reuses them and runs only the rest (an interrupted analysis resumes;
    the 2n design of the convergence check reuses the n design's points). A folder holding the
    evaluations of another specification is refused unless ``force``, which discards them.
    Failed or undefined evaluations are recorded (``failures`` in the result, ``failed.csv``)
    and the indices use the complete blocks of the design (see the module docstring).
    ``out`` is locked for the whole call (:class:`~experiments.outdir.OutDir`).
    """
    from mixsim.model.api import _cached_territory

    from .limits import check_memory, resolve_jobs
    from .outdir import OutDir, check_out_dir

    out = Path(out)
    check_out_dir(out, kind="sensitivity")
    jobs = resolve_jobs(jobs)
    territory = _cached_territory(spec.scenario.territory.source, spec.scenario.territory.scale)
    check_memory(territory.n_households, jobs, source="territory.scale")
    with OutDir(out, "sensitivity", kind="sensitivity"):
        return _run_held(spec, out, jobs=jobs, progress=progress, force=force)


def _run_held(spec: SensitivitySpec, out: Path, *, jobs: int, progress: bool, force: bool
              ) -> dict[str, Any]:
    """:func:`run_sensitivity` once its inputs are checked and ``out`` is locked."""
    import matplotlib
    matplotlib.use("Agg")

    from .cli import progress_bar, write_atomic
    from .limits import worker_config
    from .sensitivity import analyze, plot_indices, second_order_indices

    model_fn = MixsimOutcomes(spec)
    params = {to_identifier(k): v for k, v in spec.parameters.items()}
    outcomes = [f"{name}@{y}" for name in spec.indicators for y in spec.years]
    opts = dict(method=spec.method, seed=spec.seed, n_jobs=jobs, replicates=spec.replicates,
                second_order=spec.second_order, num_levels=spec.num_levels, outcomes=outcomes)
    text = _spec_toml(spec)
    cache = out / EVALUATIONS
    old = out / "sensitivity.toml"
    if old.is_file() and old.read_text() != text and cache.is_dir():
        if not force:
            raise InputError(
                f"{out} holds the evaluations of another specification ({old}); choose another "
                "--out, or pass --force to discard them", source=str(out), field="--out")
        shutil.rmtree(cache)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "sensitivity.toml", lambda p: p.write_text(text))
    if spec.method == "sobol":
        per_point = 2 * len(spec.parameters) + 2 if spec.second_order else len(spec.parameters) + 2
    else:
        per_point = len(spec.parameters) + 1
    # the 2n design of the convergence check extends the n design: n × per_point points more
    total = spec.n * per_point * (2 if spec.convergence and spec.method == "sobol" else 1)
    failures: list[dict[str, Any]] = []
    with progress_bar(total, "model evaluations", unit="point") as bar, worker_config():
        last = [0]

        def tick(done: int, tot: int) -> None:
            if done < last[0]:  # a new design (the 2n one): its first points were counted
                last[0] = 0
            bar.update(done - last[0])
            last[0] = done

        tick = tick if progress else None
        df = analyze(model_fn, params, n=spec.n, progress=tick, cache=cache, failures=failures,
                     **opts)
        conv = None
        if spec.convergence and spec.method == "sobol":
            # the 2n design extends the n design (same seed): compare the indices; its failures
            # include the n design's again (failed points are not saved, so they are retried)
            df_n, failures = df, []
            df = analyze(model_fn, params, n=2 * spec.n, progress=tick, cache=cache,
                         failures=failures, **opts)
            conv = convergence_table(df_n, df)
    df["parameter"] = df["parameter"].map(from_identifier)
    if conv is not None:
        conv["parameter"] = conv["parameter"].map(from_identifier)
    write_atomic(out / "indices.csv", lambda p: df.to_csv(p, index=False))
    failed = pd.DataFrame(failures)
    if len(failed):
        failed = failed.rename(columns=from_identifier).sort_values("row", kind="stable")
        write_atomic(out / FAILED, lambda p: failed.to_csv(p, index=False))
    else:
        (out / FAILED).unlink(missing_ok=True)  # left by an earlier call
    if spec.second_order and spec.method == "sobol":
        s2 = second_order_indices(df)
        for c in ("parameter_1", "parameter_2"):
            s2[c] = s2[c].map(from_identifier)
        write_atomic(out / "second_order.csv", lambda p: s2.to_csv(p, index=False))
    if conv is not None:
        write_atomic(out / "convergence.csv", lambda p: conv.to_csv(p, index=False))
    for outcome in df["outcome"].unique():
        fig = plot_indices(df, outcome)
        stem = outcome.replace("@", "_year")
        for ext in ("png", "svg"):
            write_atomic(out / f"indices_{stem}.{ext}",
                         lambda p, f=fig, e=ext: f.savefig(p, format=e, bbox_inches="tight"))
    return {"indices": df, "convergence": conv, "failed": failed}


def convergence_table(at_n: pd.DataFrame, at_2n: pd.DataFrame) -> pd.DataFrame:
    """Put the indices at n and 2n side by side, with their absolute difference."""
    keys = ["outcome", "parameter"]
    rows = []
    for idx in ("S1", "ST"):
        m = at_n[keys + [idx]].merge(at_2n[keys + [idx, f"{idx}_conf"]], on=keys,
                                     suffixes=("_n", "_2n"))
        rows.append(pd.DataFrame({"outcome": m.outcome, "parameter": m.parameter, "index": idx,
                                  "at_n": m[f"{idx}_n"], "at_2n": m[f"{idx}_2n"],
                                  "abs_diff": (m[f"{idx}_n"] - m[f"{idx}_2n"]).abs(),
                                  "conf_2n": m[f"{idx}_conf"]}))
    return pd.concat(rows, ignore_index=True)


def _spec_toml(spec: SensitivitySpec) -> str:
    d = spec.scenario.to_dict()
    d["sensitivity"] = {
        "method": spec.method, "n": spec.n, "seed": spec.seed, "replicates": spec.replicates,
        "second_order": spec.second_order, "convergence": spec.convergence,
        "num_levels": spec.num_levels,
        "parameters": {k: list(v) for k, v in spec.parameters.items()},
        "outcomes": {"indicators": list(spec.indicators), "years": list(spec.years)},
    }
    return to_toml(d) + "\n"


def add_parser(sub) -> None:
    """Register ``mixsim sensitivity``."""
    from .cli import positive_float, positive_int
    p = sub.add_parser("sensitivity", help="global sensitivity analysis (Sobol' or Morris)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, help="sensitivity specification (TOML)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    from .limits import jobs_arg
    p.add_argument("--jobs", type=jobs_arg, default=1,
                   help="parallel workers, at most the CPUs available (default 1; -1: all)")
    p.add_argument("--n", type=positive_int, help="override the sample size")
    p.add_argument("--scale", type=positive_float, help="override the territory scale")
    p.add_argument("--years", type=positive_int, help="override the horizon")
    p.add_argument("--force", action="store_true",
                   help="discard the saved evaluations of another specification in --out")
    p.set_defaults(func=cmd_sensitivity)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Run ``mixsim sensitivity``."""
    from .cli import check_out_dir
    check_out_dir(args.out, kind="sensitivity")
    spec = load_spec(args.file)
    sc = spec.scenario
    if args.scale is not None:
        sc = dataclasses.replace(sc, territory=dataclasses.replace(sc.territory,
                                                                    scale=args.scale))
    if args.years is not None:
        if max(spec.years) > args.years:
            raise InputError(f"outcome years {list(spec.years)} exceed --years {args.years}",
                             source="--years")
        sc = dataclasses.replace(sc, years=args.years)
    spec = dataclasses.replace(spec, scenario=sc)
    if args.n is not None:
        if spec.method == "sobol" and args.n & (args.n - 1):
            raise InputError(f"got {args.n}; Sobol' needs a power of two", source="--n")
        spec = dataclasses.replace(spec, n=args.n)
    from mixsim.experiments.limits import check_memory
    from mixsim.model.api import _cached_territory
    territory = _cached_territory(sc.territory.source, sc.territory.scale)  # validate first
    check_memory(territory.n_households, args.jobs, source="--scale")
    print(f"mixsim sensitivity: {spec.method}, {len(spec.parameters)} parameters, n = {spec.n},"
          f" {spec.replicates} replicate(s), {args.jobs} job(s)", file=sys.stderr)
    from mixsim.experiments.cli import compile_kernels_once
    compile_kernels_once("sensitivity")
    res = run_sensitivity(spec, args.out, jobs=args.jobs, force=args.force,
                          progress=not os.environ.get("MIXSIM_NO_PROGRESS"))
    df = res["indices"]
    cols = ["outcome", "parameter"] + [c for c in ("S1", "ST", "mu_star", "sigma")
                                       if c in df.columns]
    print(df[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if res["convergence"] is not None:
        worst = res["convergence"]["abs_diff"].max()
        print(f"\nconvergence: largest change of an index between n and 2n = {worst:.3f}")
    print(f"tables and charts written to {args.out}/")
    failed = res["failed"]
    if len(failed):
        print(f"mixsim sensitivity: {len(failed)} evaluation(s) failed or gave no value; the "
              f"indices leave out their blocks (columns n_missing, n_used of indices.csv):",
              file=sys.stderr)
        for row in failed.head(10).itertuples():
            print(f"  sample row {row.row}: {row.error.splitlines()[0]}", file=sys.stderr)
        if len(failed) > 10:
            print(f"  … and {len(failed) - 10} more", file=sys.stderr)
        print(f"tracebacks and parameter values: {args.out}/{FAILED}; rerunning the same "
              "command retries the failed points only", file=sys.stderr)
        return 1
    return 0

