"""``mixsim report``: a self-contained HTML (and PDF) report (library: ``report``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mixsim.experiments import report
from mixsim.experiments.outdir import OutDir


def add_parser(sub) -> None:
    """Register ``mixsim report``."""
    p = sub.add_parser("report", help="self-contained HTML (and PDF) report of an experiment's "
                       "or a run's outputs", description=report.__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path,
                   help="the output folder of `mixsim experiment --out` or `mixsim run --out`")
    p.add_argument("--lang", default="fr", choices=report.LANGS, help="language (default fr)")
    p.add_argument("--reference", help="reference scenario (default: the experiment's)")
    p.add_argument("--pdf", action="store_true",
                   help="also print report.<lang>.pdf with headless Chromium")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``mixsim report`` (holding the experiment folder's lock while writing)."""
    if getattr(args, "pdf", False):
        report.require_chromium()  # say it before any work
    with OutDir(args.folder, "report", option="folder"):
        out = report.build_report(args.folder, lang=args.lang, reference=args.reference)
        print(f"report written to {out} (figures in {out.parent / 'figures' / args.lang}/)")
        if getattr(args, "pdf", False):
            pdf = report.print_pdf(out, report.report_path(out.parent, args.lang, "pdf"))
            print(f"PDF written to {pdf}")
    return 0
