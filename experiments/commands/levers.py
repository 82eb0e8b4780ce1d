"""``mixsim levers``: the catalogue of policy levers (or of behavioural parameters)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    """Register ``mixsim levers``."""
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
