"""Summary of an ensemble: each scenario across replicates, and paired differences to a reference.

For every scenario, indicator (at each scale and unit kept) and chosen year, over the replicates:

- ``n``, ``mean``, ``p05``, ``p95``: the number of replicates with a value, their mean and their
  5th and 95th percentiles (a 90 % band of the outcome of one run);
- ``n_paired``, ``diff_mean``, ``diff_p05``, ``diff_p95``: the paired differences
  ``value(scenario, r) − value(reference, r)`` over the replicates ``r`` present in both (same seed
  and same uncertainty draw, docs/experiments.md), their mean and their 5th and 95th percentiles (a
  90 % band
  of the difference in one run);
- ``diff_ci90_low``, ``diff_ci90_high``: a 90 % confidence interval of the *mean* paired
  difference, ``diff_mean ± t(0.95, n−1) · sd / √n`` (Student, e.g. Wasserman 2004, §10.1); it
  narrows as replicates are added, the band above does not.

Percentiles interpolate linearly between order statistics (numpy's default, Hyndman & Fan type
7), so with few replicates they lie close to the minimum and maximum. Undefined indicator values
(``nan``, see ``docs/indicators.md``) are left out and not counted in ``n``; statistics that need
more values than there are (a percentile of nothing, an interval from one difference) are ``nan``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["KEYS", "SUMMARY_COLUMNS", "summarise"]

#: What identifies one outcome series within a scenario.
KEYS = ["scale", "unit", "indicator", "year"]
SUMMARY_COLUMNS = ["scenario", *KEYS, "n", "mean", "p05", "p95", "n_paired", "diff_mean",
                   "diff_p05", "diff_p95", "diff_ci90_low", "diff_ci90_high"]


def summarise(indicators: pd.DataFrame, *, reference: str, years: Sequence[int] | None = None,
              scenarios: Sequence[str] | None = None) -> pd.DataFrame:
    """Summary table of an ensemble (the columns are described in the module docstring).

    Args:
        indicators: Tidy rows with at least ``scenario, replicate, scale, unit, indicator, year,
            value`` (``indicators.parquet``).
        reference: Scenario the paired differences refer to.
        years: Years to report (default: every year present).
        scenarios: Order of the scenarios in the table (default: order of appearance).

    Returns:
        One row per scenario × scale × unit × indicator × year, in ``SUMMARY_COLUMNS`` order.
    """
    from scipy.special import stdtrit  # Student t quantile (lighter than scipy.stats)

    df = indicators
    if years is not None:
        df = df[df["year"].isin(list(years))]
    df = df[["scenario", "replicate", *KEYS, "value"]].copy()
    for c in ("scenario", "scale", "unit", "indicator"):
        df[c] = df[c].astype(str)
    df = df.dropna(subset=["value"])
    if df.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    groups = ["scenario", *KEYS]

    g = df.groupby(groups, sort=False)["value"]
    level = pd.DataFrame({"n": g.count(), "mean": g.mean(), "p05": g.quantile(0.05),
                          "p95": g.quantile(0.95)})

    ref = df[df["scenario"] == reference].set_index(["replicate", *KEYS])["value"]
    ref = ref.rename("reference_value")
    paired = df.join(ref, on=["replicate", *KEYS], how="inner")
    paired["diff"] = paired["value"] - paired["reference_value"]
    g = paired.groupby(groups, sort=False)["diff"]
    diff = pd.DataFrame({"n_paired": g.count(), "diff_mean": g.mean(),
                         "diff_p05": g.quantile(0.05), "diff_p95": g.quantile(0.95),
                         "diff_sd": g.std()})
    n = diff["n_paired"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stdtrit(n - 1, 0.95) * diff["diff_sd"].to_numpy() / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    diff["diff_ci90_low"] = diff["diff_mean"] - half
    diff["diff_ci90_high"] = diff["diff_mean"] + half
    diff = diff.drop(columns="diff_sd")

    out = level.join(diff, how="left").reset_index()
    out["n_paired"] = out["n_paired"].fillna(0).astype(int)
    order = list(scenarios) if scenarios is not None else list(dict.fromkeys(out["scenario"]))
    out["scenario"] = pd.Categorical(out["scenario"], categories=order, ordered=True)
    out = out.sort_values(groups, kind="stable").reset_index(drop=True)
    out["scenario"] = out["scenario"].astype(str)
    return out[SUMMARY_COLUMNS]
