"""The ``mixsim`` command line.

Sub-commands: ``run`` (one scenario), ``levers`` (the catalogue), and the ensemble, sensitivity,
calibration and report commands registered by their modules. Every bad input (file, field,
argument) prints one message naming it and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from mixsim.model.errors import InputError

EXIT_BAD_INPUT = 2
# the sub-commands beyond `run` and `levers` live in their own modules; each module exposes
# `add_parser(subparsers)` that registers its command and a handler `func(args) -> int`
EXTRA_COMMANDS = ("mixsim.experiments.runner", "mixsim.experiments.sensitivity_cli",
                  "mixsim.calibration.cli", "mixsim.experiments.report",
                  "mixsim.experiments.validate")

SUMMARY = [
    ("dissimilarity_q1_by_neighbourhoods", "D of Q1 vs others (neighbourhoods)", "{:.3f}"),
    ("q1_share_in_qpv", "share of Q1 households living in QPV", "{:.1%}"),
    ("q1_share_of_qpv_households", "Q1 share of QPV households", "{:.1%}"),
    ("q1_share_leases_outside_qpv", "Q1 share of leases outside QPV", "{:.1%}"),
    ("q234_share_leases_inside_qpv", "Q2–Q4 share of leases inside QPV", "{:.1%}"),
    ("turnover", "social turnover", "{:.1%}"),
    ("vacancy", "social vacancy", "{:.1%}"),
    ("applicants_per_allocation", "applicants per allocation", "{:.1f}"),
    ("median_wait_months", "median wait of allocated (months)", "{:.0f}"),
    ("refusal_rate", "refusals per offer", "{:.1%}"),
    ("exits_to_ownership", "exits to ownership (per year)", "{:.0f}"),
    ("exits_to_private_rental", "exits to private renting (per year)", "{:.0f}"),
]


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message (argparse already uses 2)."""


def positive_float(text: str) -> float:
    """Argument type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def positive_int(text: str) -> int:
    """Argument type: a whole number ≥ 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return v


def seed_int(text: str) -> int:
    """Argument type: a seed, a whole number ≥ 0."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text!r}")
    return v


def check_out_dir(out: Path, option: str = "--out") -> None:
    """Refuse an output path that exists and is not a folder."""
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give a folder path", source=option,
                         field=str(out))


def versions() -> dict[str, str]:
    """Versions of mixsim, Python and the core libraries (provenance)."""
    import mesa
    import numpy
    import pandas

    from mixsim.model import __version__
    return {"mixsim": __version__, "python": platform.python_version(),
            "mesa": mesa.__version__, "numpy": numpy.__version__, "pandas": pandas.__version__}


def file_mode() -> int:
    """Return the mode a new file gets under the user's umask (0644 under the usual 022).

    ``tempfile.mkstemp`` creates files 0600 whatever the umask; files renamed into place from it
    get this mode instead, so that colleagues on a shared server can read a report.
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    """Write a file through a temporary name in the same folder, then rename it into place.

    The file gets the user's usual mode (:func:`file_mode`), not ``mkstemp``'s 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compile_kernels_once(command: str) -> None:
    """On a machine where the model's kernels are not compiled yet, compile them with a notice.

    Without it the first month of the first run takes the whole compilation (about a minute)
    and the progress bar shows a misleading estimate. Later runs load the cache in about 1 s.
    """
    import time

    from mixsim.model import jit
    if jit.kernels_cached():
        return
    print(f"mixsim {command}: compiling the model's kernels once for this machine (about a "
          f"minute; cached in {jit.CACHE_DIR})...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    from mixsim.model.api import warm_up
    warm_up()
    print(f"mixsim {command}: kernels compiled in {time.perf_counter() - start:.0f} s",
          file=sys.stderr, flush=True)


def progress_bar(total: int, desc: str, unit: str = "month"):
    """Return a tqdm progress bar on stderr (silent when ``MIXSIM_NO_PROGRESS`` is set)."""
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=bool(os.environ.get("MIXSIM_NO_PROGRESS")), dynamic_ncols=True)


# ------------------------------------------------------------------------------------------------
# mixsim run
# ------------------------------------------------------------------------------------------------


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run one scenario (default: today's rules on the embedded "
                       "territory)", description="Run one scenario and write its tables.")
    p.add_argument("scenario", nargs="?", type=Path, help="scenario TOML file (optional)")
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the file)")
    p.add_argument("--scale", type=positive_float,
                   help="territory scale, e.g. 0.1 for a 10 %% version (overrides the file)")
    p.add_argument("--seed", type=seed_int, help="random seed (overrides the file)")
    p.add_argument("--out", type=Path, default=Path("out/run"),
                   help="output folder (default: out/run)")
    p.add_argument("--csv", action="store_true", help="also write CSV copies of the tables")
    p.add_argument("--no-moves", action="store_true", help="do not write the move log")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario, write its tables atomically into ``--out``, print a summary."""
    import dataclasses

    from mixsim.model import Scenario, load_scenario, run_scenario
    from mixsim.model.config import TerritorySpec, to_toml

    check_out_dir(args.out)
    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    if args.years is not None:
        scenario = dataclasses.replace(scenario, years=args.years)
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    if args.scale is not None:
        scenario = dataclasses.replace(scenario, territory=TerritorySpec(
            source=scenario.territory.source, scale=args.scale))
    # validate the territory before anything is written
    from mixsim.model.api import _cached_territory
    territory = _cached_territory(scenario.territory.source, scenario.territory.scale)
    print(f"mixsim run: scenario {scenario.name!r}, {territory.n_households:,} households, "
          f"{scenario.years} years, seed {scenario.seed}", file=sys.stderr)
    compile_kernels_once("run")
    with progress_bar(12 * scenario.years, "simulating") as bar:
        result = run_scenario(scenario, territory=territory, run_id=scenario.name,
                              progress=lambda done, total: bar.update(1),
                              keep_moves=not args.no_moves)
    # write into a temporary folder next to --out, then move the files in
    args.out.mkdir(parents=True, exist_ok=True)
    tables = {"indicators": result.indicators, "neighbourhoods": result.neighbourhoods,
              "cohort": result.cohort, "yearly": result.yearly().reset_index()}
    if not args.no_moves:
        tables["moves"] = result.moves
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=args.out))
    try:
        for name, df in tables.items():
            df.to_parquet(staging / f"{name}.parquet", index=False)
            if args.csv:
                df.to_csv(staging / f"{name}.csv", index=False)
        (staging / "scenario.toml").write_text(to_toml(result.scenario.to_dict()) + "\n")
        meta = {"run_id": result.run_id, "config_hash": result.config_hash,
                "seed_entropy": str(result.seed_entropy), "spawn_key": list(result.spawn_key),
                "wall_time_s": round(result.wall_time, 3), "versions": versions(),
                "territory": scenario.territory.source, "scale": scenario.territory.scale,
                "households": territory.n_households}
        (staging / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
        for f in staging.iterdir():
            os.replace(f, args.out / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(summary_table(result.yearly()))
    print(f"\n{result.wall_time:.1f} s; tables written to {args.out}/")
    return 0


def summary_table(yearly) -> str:
    """Key indicators at the start and at the end of a run, as aligned text."""
    first_year = int(yearly.index.min())
    alloc_year = 1 if 1 in yearly.index else first_year
    last = int(yearly.index.max())
    lines = [f"{'indicator':<40} {'start':>10} {'end':>10}",
             f"{'':<40} {'(year ' + str(first_year) + ')':>10} {'(year ' + str(last) + ')':>10}"]
    for name, label, fmt in SUMMARY:
        if name not in yearly.columns:
            continue
        start_y = alloc_year if math.isnan(yearly[name].get(first_year, math.nan)) else first_year
        a, b = yearly[name].get(start_y, math.nan), yearly[name].get(last, math.nan)
        cell = [("—" if math.isnan(x) else fmt.format(x)) for x in (a, b)]
        lines.append(f"{label:<40} {cell[0]:>10} {cell[1]:>10}")
    lines.append("(allocation indicators start at year 1: they count a year of leases)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# mixsim levers
# ------------------------------------------------------------------------------------------------


def _add_levers(sub) -> None:
    p = sub.add_parser("levers", help="print the catalogue of policy levers",
                       description="Print every lever: name, default, allowed values, meaning.")
    p.add_argument("--behaviour", action="store_true",
                   help="print the behavioural (uncertain) parameters instead")
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p.set_defaults(func=cmd_levers)


def cmd_levers(args: argparse.Namespace) -> int:
    """Print the lever (or behaviour) catalogue."""
    from mixsim.model.config import Behaviour, Levers, catalogue
    rows = catalogue(Behaviour() if args.behaviour else Levers())
    prefix = "behaviour." if args.behaviour else "levers."
    if args.markdown:
        print("| name | default | allowed | meaning |\n|---|---|---|---|")
        for r in rows:
            print(f"| `{prefix}{r['name']}` | {r['default']!r} | {r['allowed']} | "
                  f"{r['meaning']} |")
        return 0
    width = max(len(prefix + r["name"]) for r in rows)
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        print(f"{prefix + r['name']:<{width}}  default {r['default']!r}{unit}; "
              f"{r['allowed']}\n{'':<{width}}  {r['meaning']}")
    return 0


# ------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available sub-command."""
    import importlib

    parser = _Parser(prog="mixsim", description="Agent-based simulation of residential "
                     "trajectories and social-housing allocation levers.")
    from mixsim.model import __version__
    parser.add_argument("--version", action="version", version=f"mixsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    _add_levers(sub)
    for mod in EXTRA_COMMANDS:
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as err:
            if err.name == mod:
                continue
            raise
        if hasattr(module, "add_parser"):
            module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mixsim`` command."""
    import signal
    if hasattr(signal, "SIGPIPE"):  # `mixsim levers | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        print(f"mixsim {args.command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"mixsim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
