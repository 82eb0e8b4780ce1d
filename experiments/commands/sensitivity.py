"""``mixsim sensitivity``: a global sensitivity analysis (library: ``sensitivity_cli``)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixsim.experiments import sensitivity_cli
from mixsim.experiments.commands import print_failures
from mixsim.experiments.common import (
    check_out_dir,
    compile_kernels_once,
    positive_float,
    positive_int,
)
from mixsim.experiments.limits import check_memory, jobs_arg
from mixsim.experiments.sensitivity_cli import (
    FAILED,
    SensitivitySpec,
    load_spec,
    run_pilot,
    run_sensitivity,
)
from mixsim.model.errors import InputError


def add_parser(sub) -> None:
    """Register ``mixsim sensitivity``."""
    p = sub.add_parser("sensitivity", help="global sensitivity analysis (Sobol' or Morris)",
                       description=sensitivity_cli.__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, help="sensitivity specification (TOML)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--jobs", type=jobs_arg, default=1,
                   help="parallel workers, at most the CPUs available (default 1; -1: all)")
    p.add_argument("--n", type=positive_int, help="override the sample size")
    p.add_argument("--scale", type=positive_float, help="override the territory scale")
    p.add_argument("--years", type=positive_int, help="override the horizon")
    p.add_argument("--pilot", action="store_true",
                   help="run a short pilot instead (the noise at the base point and a design of "
                        "pilot_n points) and print the replicates / scale that bring each "
                        "outcome's noise share under the threshold; writes pilot.csv")
    p.add_argument("--threshold", type=positive_float,
                   help="noise share to reach (overrides noise_threshold; default 0.1)")
    p.add_argument("--force", action="store_true",
                   help="discard the saved evaluations of another specification in --out")
    p.set_defaults(func=cmd_sensitivity)


def _fmt(x: float) -> str:
    return "nan" if x != x else f"{x:.3f}"


def _print_pilot(table: pd.DataFrame, spec: SensitivitySpec) -> None:
    """Print the pilot's recommendation, one line per outcome."""
    sc = spec.scenario.territory.scale
    print(f"pilot: noise on {spec.noise_replicates} replicates at {1 + spec.noise_points} "
          f"point(s), design of {int(table['design_points'].iloc[0])} points on "
          f"{spec.replicates} replicate(s), scale {sc:g}; target noise share < "
          f"{spec.noise_threshold:g}")
    for r in table.itertuples(index=False):
        need = r.replicates_needed
        line = (f"  {r.outcome}: noise share {_fmt(r.noise_share)} with {spec.replicates} "
                f"replicate(s); ")
        if need != need:
            line += "no signal seen in the pilot design: no number of replicates will do"
        elif r.noise_share <= spec.noise_threshold and need <= spec.replicates:
            line += f"already under the threshold ({int(need)} replicate(s) would do)"
        else:
            line += f"needs {int(need)} replicate(s) at scale {sc:g}"
            if r.scale_needed == r.scale_needed:
                line += f", or scale {r.scale_needed:.2f} with {spec.replicates}"
            if sc < 1:
                line += f", or {int(r.replicates_at_scale_1)} at scale 1"
        print(line)


def outcome_reading(df: pd.DataFrame, conv: pd.DataFrame | None) -> list[str]:
    """One line per outcome: its convergence and the drivers the analysis establishes.

    A driver is established when its total index has the ``signal`` verdict and moved by at
    most the tolerance between n and 2n (``conv``: :func:`~mixsim.experiments.sensitivity.
    convergence` with its ``converged`` column); they are listed by decreasing ST. Without a
    convergence table, the signal verdict alone is used and the line says so.
    """
    lines = []
    for outcome, g in df.groupby("outcome", sort=False):
        st_ok: dict[str, bool] = {}
        head = f"  {outcome}:"
        if conv is not None:
            c = conv[conv["outcome"] == outcome]
            head += f" {int(c['converged'].sum())} of {len(c)} indices converged;"
            st = c[c["index"] == "ST"]
            st_ok = dict(zip(st["parameter"], st["converged"].astype(bool), strict=True))
        sig = g[g["ST_verdict"] == "signal"].sort_values("ST", ascending=False)
        if conv is not None:
            sig = sig[np.array([st_ok.get(p, False) for p in sig["parameter"]], dtype=bool)]
        what = "drivers (ST signal, converged)" if conv is not None else "drivers (ST signal)"
        names = ", ".join(f"{p} {v:.2f}" for p, v in zip(sig["parameter"], sig["ST"],
                                                          strict=True))
        lines.append(f"{head} {what}: {names or 'none established'}")
    return lines


def _print_summary(res: dict[str, Any], spec: SensitivitySpec) -> None:
    """Print the indices with their verdicts, the convergence verdict and noise warnings."""
    from mixsim.experiments.sensitivity import NOISE_DOMINATED_SHARE
    df = res["indices"]
    if "S1_verdict" in df.columns:
        tab = pd.DataFrame({
            "outcome": df.outcome, "parameter": df.parameter,
            "S1": [f"{v:.3f} ± {c:.3f}" for v, c in zip(df.S1, df.S1_conf, strict=True)],
            "S1 verdict": df.S1_verdict,
            "ST": [f"{v:.3f} ± {c:.3f}" for v, c in zip(df.ST, df.ST_conf, strict=True)],
            "ST verdict": df.ST_verdict})
        if "converged" in df.columns:
            tab["converged"] = np.where(df.converged, "yes", "no")
        print(tab.to_string(index=False))
    else:
        cols = ["outcome", "parameter"] + [c for c in ("mu_star", "mu_star_conf", "sigma")
                                           if c in df.columns]
        print(df[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("\nnoise share (replicate noise / variance over the design, "
          f"{spec.replicates} replicate(s) averaged):")
    for r in res["noise"].itertuples(index=False):
        print(f"  {r.outcome}: {_fmt(r.noise_share)}")
    conv = res["convergence"]
    if conv is not None:
        worst = conv.loc[conv["abs_diff"].idxmax()]
        ok = int(conv["converged"].sum())
        verdict = "converged" if ok == len(conv) else "NOT converged"
        print(f"\nconvergence (n = {spec.n} vs 2n = {2 * spec.n}, tolerance "
              f"{spec.convergence_tol:g}): {verdict}, {ok} of {len(conv)} indices moved by at "
              f"most {spec.convergence_tol:g}; largest change {worst.abs_diff:.3f} "
              f"({worst['index']} of {worst.parameter} on {worst.outcome})")
    if "ST_verdict" in df.columns:
        print("\nby outcome:")
        for line in outcome_reading(df, conv):
            print(line)
    if "S1_verdict" in df.columns:
        for outcome, g in df.groupby("outcome", sort=False):
            eta = float(g.noise_share.iloc[0])
            bad = int((g.S1_verdict == "noise-dominated").sum()
                      + (g.ST_verdict == "noise-dominated").sum())
            if eta >= NOISE_DOMINATED_SHARE:
                print(f"WARNING: {outcome} is noise-dominated (noise share {eta:.2f} ≥ "
                      f"{NOISE_DOMINATED_SHARE:g}): its indices measure the run noise, not the "
                      "parameters; run with --pilot to see how many replicates or which scale "
                      "it needs")
            elif bad:
                advice = ("more replicates or a larger scale would tell them apart (see "
                          "--pilot)" if eta > spec.noise_threshold else
                          "the noise share is small: those parameters have little effect")
                print(f"WARNING: {outcome}: {bad} of {2 * len(g)} indices are noise-dominated "
                      f"(noise share {eta:.2f}), no larger than the run noise; {advice}")


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Run ``mixsim sensitivity``."""
    check_out_dir(args.out, kind="sensitivity")
    spec = load_spec(args.file)
    sc = spec.scenario
    if args.scale is not None:
        sc = dataclasses.replace(sc, territory=dataclasses.replace(sc.territory,
                                                                    scale=args.scale))
    if args.years is not None:
        last = max([*spec.years, *(b for _, b in spec.windows)])
        if last > args.years:
            raise InputError(f"outcome years (up to {last}) exceed --years {args.years}",
                             source="--years")
        sc = dataclasses.replace(sc, years=args.years)
    spec = dataclasses.replace(spec, scenario=sc)
    if args.n is not None:
        if spec.method == "sobol" and args.n & (args.n - 1):
            raise InputError(f"got {args.n}; Sobol' needs a power of two", source="--n")
        spec = dataclasses.replace(spec, n=args.n)
    if args.threshold is not None:
        if not args.threshold < 1:
            raise InputError(f"got {args.threshold:g}; expected a share strictly between 0 and 1",
                             source="--threshold")
        spec = dataclasses.replace(spec, noise_threshold=args.threshold)
    from mixsim.model.api import cached_territory
    territory = cached_territory(sc.territory.source, sc.territory.scale)  # validate first
    check_memory(territory.n_households, args.jobs, source="--scale")
    what = (f"pilot, n = {spec.pilot_n}" if args.pilot else f"n = {spec.n}")
    print(f"mixsim sensitivity: {spec.method}, {len(spec.parameters)} parameters, {what},"
          f" {spec.replicates} replicate(s), noise on {spec.noise_replicates} replicate(s),"
          f" {args.jobs} job(s)", file=sys.stderr)
    compile_kernels_once("sensitivity")
    progress = not os.environ.get("MIXSIM_NO_PROGRESS")
    if args.pilot:
        _print_pilot(run_pilot(spec, args.out, jobs=args.jobs, force=args.force,
                               progress=progress), spec)
        print(f"pilot table written to {args.out}/pilot.csv")
        return 0
    res = run_sensitivity(spec, args.out, jobs=args.jobs, force=args.force, progress=progress)
    _print_summary(res, spec)
    print(f"tables and charts written to {args.out}/")
    failed = res["failed"]
    if len(failed):
        print(f"mixsim sensitivity: {len(failed)} evaluation(s) failed or gave no value; the "
              f"indices leave out their blocks (columns n_missing, n_used of indices.csv):",
              file=sys.stderr)
        print_failures([f"sample row {row.row}: {row.error.splitlines()[0]}"
                        for row in failed.itertuples()])
        print(f"tracebacks and parameter values: {args.out}/{FAILED}; rerunning the same "
              "command retries the failed points only", file=sys.stderr)
        return 1
    return 0
