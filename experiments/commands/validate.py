"""``mixsim validate``: today's baseline against the territory's targets (library: ``validate``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mixsim.experiments.common import (
    check_out_dir,
    compile_kernels_once,
    positive_float,
    positive_int,
    seed_int,
)
from mixsim.experiments.validate import format_table, validate
from mixsim.model.errors import InputError


def add_parser(sub) -> None:
    """Register ``mixsim validate``."""
    p = sub.add_parser("validate", help="compare today's baseline with the territory's targets",
                       description="Run today's rules and compare each calibration target with "
                       "the simulated mean and 90 % interval in every band of years.")
    p.add_argument("territory", nargs="?", default="default",
                   help="'default' (the embedded territory) or a territory data folder")
    p.add_argument("--years", type=positive_int, default=20, help="horizon (default 20)")
    p.add_argument("--replicates", type=positive_int, default=3,
                   help="replicate runs (default 3)")
    p.add_argument("--scale", type=positive_float, default=1.0,
                   help="territory scale (default 1)")
    p.add_argument("--seed", type=seed_int, default=1, help="root seed (default 1)")
    p.add_argument("--band", type=positive_int, default=5,
                   help="width of the bands of years (default 5)")
    p.add_argument("--targets", type=Path,
                   help="targets file (default: the territory's targets.toml, or the national "
                   "targets for the default territory)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--out", type=Path, default=Path("out/validate"),
                   help="output folder (default out/validate)")
    p.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the validation, print the table and the verdict; exit 0 whatever the verdict."""
    import os

    check_out_dir(args.out)
    if args.territory != "default" and not Path(args.territory).is_dir():
        raise InputError("territory folder not found; give 'default' or a data folder",
                         source=str(args.territory))
    compile_kernels_once("validate")
    print(f"mixsim validate: today's rules on {args.territory}, scale {args.scale:g}, "
          f"{args.years} years, {args.replicates} replicates", file=sys.stderr)
    table = validate(args.territory, years=args.years, replicates=args.replicates,
                     scale=args.scale, seed=args.seed, out=args.out, jobs=args.jobs,
                     band_width=args.band, targets_path=args.targets,
                     progress=not os.environ.get("MIXSIM_NO_PROGRESS"))
    print(format_table(table))
    print(f"\nwritten: {args.out}/validation.csv, validation.parquet, validation.png")
    return 0
