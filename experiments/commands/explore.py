"""``mixsim explore``: the levers live in a browser (library: ``explore``, ``explore_engine``).

Solara is imported only when the command runs, never when the parser is built.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mixsim.experiments import explore
from mixsim.experiments.common import compile_kernels_once, positive_float, positive_int, seed_int
from mixsim.model.errors import InputError


def add_parser(sub) -> None:
    """Register ``mixsim explore``."""
    p = sub.add_parser(
        "explore", help="explore the levers live in a browser (needs mixsim[explore])",
        description="Serve a local web page to change levers, run them against today's rules "
        "on paired seeds and see the differences (trajectories, CIL objectives, maps), step a "
        "single run month by month, and save the scenario. Needs the optional extra: "
        f"{explore.EXTRA_HINT}.")
    p.add_argument("territory", nargs="?", default="default",
                   help="'default' (the embedded agglomeration) or a territory data folder")
    p.add_argument("--port", type=explore.port_number, default=explore.DEFAULT_PORT,
                   help=f"port to listen on (default {explore.DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--scale", type=positive_float, default=0.1,
                   help="territory scale of the runs (default 0.1, fast enough for a meeting)")
    p.add_argument("--years", type=positive_int, default=15, help="horizon (default 15)")
    p.add_argument("--replicates", type=positive_int, default=4,
                   help="paired seeds per scenario (default 4)")
    p.add_argument("--seed", type=seed_int, default=0, help="root seed (default 0)")
    p.add_argument("--jobs", type=positive_int, default=min(2, os.cpu_count() or 1),
                   help="worker processes (default: 2, or 1 on a one-core machine)")
    p.add_argument("--lang", choices=("fr", "en"), default="fr",
                   help="language of the page (default fr; it can be switched on the page)")
    p.set_defaults(func=cmd_explore)


def cmd_explore(args: argparse.Namespace) -> int:
    """Check the extra and the inputs, then serve the page until interrupted."""
    explore.offline_solara(os.environ)  # before Solara's first import reads its settings
    missing = explore.missing_extra()
    if missing is not None:
        print(f"mixsim explore: error: the browser app needs the optional extra 'explore' "
              f"(package {missing!r} is not installed); install it with: {explore.EXTRA_HINT}",
              file=sys.stderr)
        return 2
    from mixsim.experiments import explore_engine as eng
    source = args.territory
    if source != "default":
        if not Path(source).is_dir():
            raise InputError("not a folder; give 'default' or a territory data folder",
                             source=source, field="TERRITORY")
        source = str(Path(source).resolve())
    settings = eng.Settings(source=source, scale=args.scale, years=args.years,
                            replicates=args.replicates, seed=args.seed, jobs=args.jobs,
                            lang=args.lang)
    from mixsim.model.territory import load_geometry, load_territory
    load_territory(source, args.scale)  # a bad territory stops here, with its message
    load_geometry(source)
    port = explore.check_port(args.host, args.port)
    compile_kernels_once("explore")
    explore.serve(settings, args.host, port)
    return 0
