"""``mixsim validate``: compare today's baseline with the territory's observed figures.

Runs today's rules (the default scenario, no lever changed) on a territory for ``--years`` years
and ``--replicates`` replicates (an experiment of one scenario, through the experiment runner:
parallel, resumable, same seeds whatever the number of workers), then compares each calibration
target with the simulated value in every band of years (by default 5-year bands after the
targets' burn-in: 2–5, 6–10, 11–15, 16–20 for a 20-year run with a burn-in of 1):

* the simulated value of a replicate in a band is the mean of the target's yearly EPCI indicator
  over the band's years; the table gives its mean over replicates and the 5th–95th percentiles
  across replicates (a 90 % interval);
* a target passes in a band when the replicate mean lies within ``value ± tolerance``.

The targets are the territory's own: ``targets.toml`` of a data folder, or the national figures of
``calibration/default_targets.toml`` for the embedded default territory (docs/calibration.md).
The command writes ``validation.csv``, ``validation.parquet`` and a chart ``validation.png`` to
``--out`` (with the runs in ``--out/runs``), prints the table and the verdict, and exits 0
whatever the verdict (2 for bad input).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError

__all__ = ["VALIDATION_COLUMNS", "bands", "plot_validation",
           "validate", "validation_table"]

#: Columns of ``validation.csv``, one row per target and band of years.
VALIDATION_COLUMNS = ("target", "indicator", "band", "first_year", "last_year", "value",
                      "tolerance", "low", "high", "simulated_mean", "simulated_p05",
                      "simulated_p95", "replicates", "passed", "unit", "source")


def bands(first: int, last: int, width: int = 5) -> list[tuple[int, int]]:
    """Split the years ``first..last`` into consecutive bands ending on multiples of ``width``.

    >>> bands(2, 20)
    [(2, 5), (6, 10), (11, 15), (16, 20)]
    >>> bands(1, 7, 5)
    [(1, 5), (6, 7)]
    """
    if width < 1:
        raise InputError(f"got {width}; expected a whole number ≥ 1", field="--band")
    out, start = [], first
    while start <= last:
        end = min(last, ((start - 1) // width + 1) * width)
        out.append((start, end))
        start = end + 1
    return out


def validation_table(yearly: pd.DataFrame, targets: Any, band_list: Sequence[tuple[int, int]]
                     ) -> pd.DataFrame:
    """Compare each target with the simulated replicates in each band of years.

    Args:
        yearly: EPCI yearly indicators of the replicates: columns ``replicate``, ``year`` and one
            column per indicator.
        targets: A :class:`~mixsim.calibration.targets.CalibrationTargets`.
        band_list: ``(first_year, last_year)`` bands.

    Returns:
        One row per target and band (:data:`VALIDATION_COLUMNS`). A band where the indicator is
        undefined in every replicate gets NaN values and ``passed = False``.
    """
    rows = []
    for t in targets.targets:
        for first, last in band_list:
            if t.years is not None:  # a target tied to given years is checked on those only
                years = [y for y in t.years if first <= y <= last]
                if not years:
                    continue
            else:
                years = list(range(first, last + 1))
            band = yearly[yearly["year"].isin(years)]
            per_rep = (band.groupby("replicate")[t.indicator].mean().dropna()
                       if t.indicator in band else pd.Series(dtype=float))
            vals = per_rep.to_numpy(dtype=float)
            mean = float(vals.mean()) if len(vals) else math.nan
            p05, p95 = ((float(np.percentile(vals, 5)), float(np.percentile(vals, 95)))
                        if len(vals) else (math.nan, math.nan))
            rows.append({
                "target": t.name, "indicator": t.indicator, "band": f"{first}–{last}",
                "first_year": first, "last_year": last, "value": t.value,
                "tolerance": t.tolerance, "low": t.value - t.tolerance,
                "high": t.value + t.tolerance, "simulated_mean": mean, "simulated_p05": p05,
                "simulated_p95": p95, "replicates": len(vals),
                "passed": bool(len(vals) and abs(mean - t.value) <= t.tolerance),
                "unit": t.unit, "source": t.source})
    return pd.DataFrame(rows, columns=list(VALIDATION_COLUMNS))


def _targets_for(source: str, targets_path: Path | None):
    from mixsim.calibration.targets import default_targets, load_targets
    if targets_path is not None:
        return load_targets(targets_path)
    if source == "default":
        return default_targets()
    folder = Path(source)
    if not (folder / "targets.toml").is_file():
        raise InputError("has no targets.toml: give one with --targets, or see "
                         "docs/calibration.md for its format", source=str(folder))
    return load_targets(folder)


def validate(territory: str = "default", *, years: int = 20, replicates: int = 3,
             scale: float = 1.0, seed: int = 1, out: str | Path = "out/validate",
             jobs: int = 1, band_width: int = 5, targets_path: str | Path | None = None,
             progress: bool = True) -> pd.DataFrame:
    """Run today's rules and return (and write) the validation table.

    Args:
        territory: ``"default"`` or the path of a territory data folder.
        years: Horizon of each run.
        replicates: Runs, each with its own seed from ``SeedSequence(seed)``.
        scale: Territory scale.
        seed: Root seed of the replicates.
        out: Output folder (the runs are kept in ``out/runs``; a rerun resumes).
        jobs: Worker processes for the runs.
        band_width: Width of the bands of years, in years.
        targets_path: A targets file or folder overriding the territory's own targets.
        progress: Show the runner's progress bar.

    Returns:
        The validation table (:func:`validation_table`).
    """
    from mixsim.experiments.runner import run_experiment

    targets = _targets_for(territory, Path(targets_path) if targets_path else None)
    first = targets.burn_in + 1
    if years < first:
        raise InputError(f"got {years}; the targets' burn-in of {targets.burn_in} year(s) "
                         f"needs at least {first} years", field="--years")
    band_list = bands(first, years, band_width)
    indicators = sorted({t.indicator for t in targets.targets})
    experiment = {
        "name": "validation", "description": "Today's rules, for validation against targets",
        "years": years, "replicates": replicates, "seed": seed, "reference": "today",
        "territory": {"source": territory, "scale": scale},
        "scenarios": [{"name": "today", "description": "Today's rules as practised"}],
        "outputs": {"indicators": indicators, "moves": False},
    }
    out = Path(out)
    result = run_experiment(experiment, out, jobs=jobs, progress=progress)
    ind = result.indicators()
    ind = ind[(ind["scale"] == "epci") & ind["indicator"].isin(indicators)]
    runs = result.runs.set_index("run_id")["replicate"]
    ind = ind.assign(replicate=ind["run_id"].map(runs))
    yearly = ind.pivot_table(index=["replicate", "year"], columns="indicator", values="value",
                             aggfunc="mean").reset_index()
    table = validation_table(yearly, targets, band_list)
    from mixsim.experiments.common import write_atomic
    write_atomic(out / "validation.csv", lambda p: table.to_csv(p, index=False))
    write_atomic(out / "validation.parquet", lambda p: table.to_parquet(p, index=False))
    fig = plot_validation(table, title=f"Validation of today's rules — {territory}, scale "
                          f"{scale:g}, {replicates} replicates")
    write_atomic(out / "validation.png",
                 lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
    return table


def plot_validation(table: pd.DataFrame, title: str = "Validation"):
    """One small panel per target: its tolerance band and the simulated mean and interval per band.

    Returns:
        A matplotlib ``Figure``.
    """
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(table["target"]))
    ncol = min(3, max(1, len(names)))
    nrow = math.ceil(len(names) / ncol) or 1
    fig = Figure(figsize=(4.2 * ncol, 2.8 * nrow), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        rows = table[table["target"] == name]
        x = np.arange(len(rows))
        t0 = rows.iloc[0]
        ax.axhspan(t0["low"], t0["high"], color="#009E73", alpha=0.18, label="target ± tolerance")
        ax.axhline(t0["value"], color="#009E73", lw=1)
        colours = ["#0072B2" if p else "#D55E00" for p in rows["passed"]]
        err = np.vstack([rows["simulated_mean"] - rows["simulated_p05"],
                         rows["simulated_p95"] - rows["simulated_mean"]]).clip(min=0)
        ax.errorbar(x, rows["simulated_mean"], yerr=err, fmt="none", ecolor="#555555",
                    capsize=3)
        ax.scatter(x, rows["simulated_mean"], c=colours, zorder=3, s=28)
        ax.set_xticks(x, [f"years {b}" for b in rows["band"]], fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"{title}\n(green: target ± tolerance; dots: simulated mean, blue pass, "
                 "orange fail; bars: 90 % interval across replicates)", fontsize=9)
    return fig


def format_table(table: pd.DataFrame) -> str:
    """Return the validation table as aligned text, with the verdict."""
    lines = [f"{'target':<28} {'years':>7} {'target':>9} {'± tol':>8} {'simulated':>10} "
             f"{'90 % interval':>19}  verdict"]
    for _, r in table.iterrows():
        fmt = "{:.3f}" if abs(r["value"]) < 10 else "{:.0f}"
        sim = "—" if math.isnan(r["simulated_mean"]) else fmt.format(r["simulated_mean"])
        iv = ("—" if math.isnan(r["simulated_p05"]) else
              f"{fmt.format(r['simulated_p05'])}–{fmt.format(r['simulated_p95'])}")
        lines.append(f"{r['target']:<28} {r['band']:>7} {fmt.format(r['value']):>9} "
                     f"{fmt.format(r['tolerance']):>8} {sim:>10} {iv:>19}  "
                     f"{'pass' if r['passed'] else 'FAIL'}")
    n_pass, n = int(table["passed"].sum()), len(table)
    verdict = ("every target within tolerance in every band" if n_pass == n else
               f"{n - n_pass} of {n} target-bands out of tolerance: "
               + ", ".join(sorted(set(table.loc[~table["passed"], "target"]))))
    lines.append(f"\nverdict: {n_pass} of {n} pass — {verdict}")
    return "\n".join(lines)
