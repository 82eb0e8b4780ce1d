"""Regression cases: fixed seeds and scenarios whose hashed tables are kept in tests/regression/.

Each case runs one scenario file of ``experiments/scenarios/`` at a small scale for a few years
and reduces its indicator and move tables to a SHA-256 (values rounded to 10 significant digits,
so that the last bits of a float sum, which differ between numpy builds, do not count) plus a few
summary figures that make a changed result readable in the test's diff.

When a change is *meant* to alter results, regenerate the files and say why in the commit::

    python -m pytest tests/test_regression.py --update-regression
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FOLDER = Path(__file__).resolve().parent / "regression"
SCALE = 0.1
YEARS = 4
#: (case name, scenario file, seed)
CASES = (
    ("baseline_seed1", "baseline.toml", 1),
    ("baseline_seed2", "baseline.toml", 2),
    ("quota_q1_seed1", "lever_quota_q1.toml", 1),
    ("renewal_seed1", "lever_renewal.toml", 1),
    ("allocation_reform_seed1", "combo_allocation_reform.toml", 1),
)
#: EPCI indicators shown in the summary (horizon year).
SUMMARY = ("households", "leases", "turnover", "vacancy", "applicants", "median_wait_months",
           "q1_share_in_qpv", "q1_share_leases_outside_qpv", "dissimilarity_q1_by_neighbourhoods")


def _num(v: object) -> str:
    """Text of a value rounded to 10 significant digits (``nan`` for missing)."""
    if v is None or v is pd.NA:
        return "NA"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else format(v, ".10g")
    return str(v)


def table_hash(df: pd.DataFrame, keys: list[str]) -> str:
    """SHA-256 of a table sorted by ``keys``, each value written by :func:`_num`."""
    df = df.sort_values(keys, kind="stable").reset_index(drop=True)
    h = hashlib.sha256(",".join(df.columns).encode())
    for row in df.astype(object).itertuples(index=False, name=None):
        h.update(("\n" + ",".join(_num(v) for v in row)).encode())
    return h.hexdigest()


def run_case(scenario_file: str, seed: int) -> dict:
    """Run one case and return its record (hashes and summary figures)."""
    from mixsim.model import run_scenario
    from mixsim.model.config import load_scenario

    sc = load_scenario(ROOT / "experiments" / "scenarios" / scenario_file)
    res = run_scenario(sc, scale=SCALE, years=YEARS, seed=seed)
    ind = res.indicators.assign(scale=res.indicators.scale.astype(str),
                                register=res.indicators.register.astype(str))
    moves = res.moves.assign(kind=res.moves.kind.astype(str))
    horizon = res.yearly().loc[YEARS]
    return {
        "scenario": scenario_file, "seed": seed, "scale": SCALE, "years": YEARS,
        "indicators_sha256": table_hash(ind, ["year", "month", "scale", "unit", "register",
                                              "indicator"]),
        "moves_sha256": table_hash(moves, ["month", "household", "kind", "from_dwelling",
                                           "to_dwelling"]),
        "indicator_rows": len(ind),
        "moves_by_kind": {k: int(n) for k, n in sorted(moves.kind.value_counts().items())},
        "horizon": {k: float(_num(float(horizon[k]))) for k in SUMMARY},
    }


def path_of(case: str) -> Path:
    """File of one case's stored record."""
    return FOLDER / f"{case}.json"


def write(case: str, record: dict) -> None:
    """Store one case's record."""
    path_of(case).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
