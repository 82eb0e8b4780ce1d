"""``mixsim calibrate``: calibrate the behaviour parameters (library: ``calibration.cli``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mixsim.calibration import cli as calibration_cli
from mixsim.calibration.cli import DEFAULT_BUDGET, METHODS, run_calibration
from mixsim.experiments.common import (
    compile_kernels_once,
    positive_float,
    positive_int,
    seed_int,
)
from mixsim.experiments.limits import jobs_arg


def add_parser(sub) -> None:
    """Register ``mixsim calibrate``."""
    p = sub.add_parser("calibrate", help="calibrate behaviour parameters against targets "
                       "(simulated moments or ABC)",
                       description=calibration_cli.__doc__.split("\n\n")[0])
    p.add_argument("data", metavar="DATA_DIR",
                   help="territory folder with a targets.toml, or 'default'")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--method", choices=METHODS, default="msm",
                   help="msm: differential evolution on the distance (default); abc: rejection "
                   "ABC over a Sobol' design")
    p.add_argument("--budget", type=positive_int,
                   help="parameter points to evaluate, each --replicates runs (default: "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_BUDGET.items()) + ")")
    p.add_argument("--jobs", type=jobs_arg, default=1,
                   help="parallel workers, at most the CPUs available (default 1; -1: all)")
    p.add_argument("--scale", type=positive_float,
                   help="territory scale (default 0.1 for 'default', 1 for a folder)")
    p.add_argument("--years", type=positive_int, default=5,
                   help="simulated years per run (default 5; the first is a burn-in)")
    p.add_argument("--replicates", type=positive_int, default=3,
                   help="runs per point, same seeds at every point (default 3)")
    p.add_argument("--seed", type=seed_int, default=0, help="root seed (default 0)")
    p.add_argument("--accept-fraction", type=positive_float, default=0.1,
                   help="ABC: share of the points kept in the posterior (default 0.1)")
    p.add_argument("--force", action="store_true",
                   help="discard a different calibration found in --out")
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run ``mixsim calibrate`` and print the fit."""
    import os
    import shlex
    parts = [args.data, "--out", str(args.out), "--method", args.method]
    if args.budget is not None:
        parts += ["--budget", str(args.budget)]
    if args.scale is not None:
        parts += ["--scale", f"{args.scale:g}"]
    parts += ["--years", str(args.years), "--replicates", str(args.replicates),
              "--seed", str(args.seed), "--jobs", str(args.jobs)]
    if args.method == "abc":
        parts += ["--accept-fraction", f"{args.accept_fraction:g}"]
    command = "mixsim calibrate " + " ".join(shlex.quote(str(a)) for a in parts)

    def announce(text: str) -> None:  # called once every input is checked, before any run
        print(f"mixsim calibrate: {text}", file=sys.stderr)
        compile_kernels_once("calibrate")

    res = run_calibration(args.data, args.out, method=args.method, budget=args.budget,
                          jobs=args.jobs, scale=args.scale, years=args.years,
                          replicates=args.replicates, seed=args.seed,
                          accept_fraction=args.accept_fraction, force=args.force,
                          progress=not os.environ.get("MIXSIM_NO_PROGRESS"), command=command,
                          announce=announce)
    fit = res["fit"]
    cols = ["target", "observed", "simulated", "simulated_p05", "simulated_p95", "tolerance",
            "within_tolerance"]
    print(fit[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print("\ncalibrated values:")
    for name, value in res["point"].items():
        print(f"  {name} = {value:g}")
    print(f"distance {res['distance']:.3g}; {res['n_new']} point(s) evaluated, "
          f"{res['n_reused']} reused; files written to {args.out}/")
    if res.get("warning"):
        print(f"mixsim calibrate: warning: {res['warning']}", file=sys.stderr)
    return 0
