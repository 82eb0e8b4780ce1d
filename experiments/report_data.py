"""What ``mixsim report`` reads, and the statistics every section shares.

An experiment's (or a single run's) output folder; horizon values, paired differences, texts.

Two folder layouts are read (``docs/report.md``):

* ``mixsim experiment --out DIR``: ``runs.parquet``, ``indicators.parquet``, ``experiment.toml``
  (``summary.csv`` is not needed: the report recomputes what it shows from the runs);
* ``mixsim run --out DIR``: ``indicators.parquet``, ``scenario.toml`` and ``run.json``, read as an
  experiment of one scenario and one replicate.

Paired differences follow docs/experiments.md ("Seeds and paired comparisons"): replicate ``r`` of
every scenario shares its seed and uncertainty draw, so ``value(s, r) − value(reference, r)``
isolates the levers' effect; the 90 % interval is the 5th–95th percentile of those differences
(linear interpolation, numpy's default), and an effect is "beyond the noise" when that interval
excludes zero.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mixsim.model.errors import InputError

from .report_i18n import FIELDS, LEVERS, MAIN_FIELDS, SHORT, VALUES, fmt_number, fmt_percent

EXPERIMENT_FILES = ("runs.parquet", "indicators.parquet")
RUN_FILES = ("indicators.parquet", "scenario.toml")


@dataclass
class ReportData:
    """What the report found in the folder.

    Attributes:
        folder: The folder read.
        runs: One row per run (``run_id``, ``scenario``, ``replicate``, ``status`` ...).
        indicators: Tidy indicator rows of the successful runs.
        experiment: The resolved experiment file as a plain mapping (``experiment.toml``).
        reference: Name of the reference scenario.
        scale: Territory scale of the runs (counts are divided by it).
        single_run: The folder is a ``mixsim run`` folder (one run, no intervals).
        failed: Number of failed runs left out.
    """

    folder: Path
    runs: pd.DataFrame
    indicators: pd.DataFrame
    experiment: dict
    reference: str
    scale: float = 1.0
    single_run: bool = False
    failed: int = 0
    scenarios: list[str] = field(default_factory=list)

    @property
    def territory_source(self) -> str:
        """The territory's source (``"default"`` or a data folder)."""
        return str(self.experiment.get("territory", {}).get("source", "default"))

    @property
    def n_replicates(self) -> int:
        """Replicates per scenario (the largest count among scenarios)."""
        return int(self.runs.groupby("scenario")["replicate"].nunique().max())

    def epci(self) -> pd.DataFrame:
        """EPCI-level rows."""
        i = self.indicators
        return i[(i.scale == "epci") & (i.unit == "EPCI")]

    def horizon(self) -> int:
        """Return the last simulated year."""
        return int(self.indicators.year.max())


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"is not valid TOML: {err}", source=str(path)) from None


def load_folder_data(folder: Path, reference: str | None = None) -> ReportData:
    """Read an experiment or run output folder; raise InputError when it is neither."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", source=str(folder))
    is_experiment = all((folder / f).is_file() for f in EXPERIMENT_FILES)
    is_run = not is_experiment and all((folder / f).is_file() for f in RUN_FILES)
    if not (is_experiment or is_run):
        absent = [f for f in EXPERIMENT_FILES if not (folder / f).is_file()]
        present = sorted(p.name for p in folder.iterdir())[:8]
        raise InputError(f"not an experiment output folder: missing {', '.join(absent)} "
                         f"(found: {', '.join(present) or 'nothing'}); run `mixsim experiment "
                         "FILE.toml --out FOLDER` (or `mixsim run --out FOLDER`) first",
                         source=str(folder))
    try:
        ind = pd.read_parquet(folder / "indicators.parquet")
        runs = pd.read_parquet(folder / "runs.parquet") if is_experiment else None
    except Exception as err:  # a damaged file: say which
        raise InputError(f"cannot read the tables: {err}", source=str(folder)) from None
    if is_run:
        exp, runs, ind = _as_experiment(folder, ind)
    else:
        exp = (_read_toml(folder / "experiment.toml")
               if (folder / "experiment.toml").is_file() else {})
    need = {"run_id", "scenario", "replicate", "year", "scale", "unit", "indicator", "value"}
    if not need <= set(ind.columns):
        raise InputError(f"indicators.parquet lacks columns {sorted(need - set(ind.columns))}",
                         source=str(folder))
    failed = 0
    if "status" in runs.columns:
        ok = runs.loc[runs.status == "ok", "run_id"]
        failed = int((runs.status != "ok").sum())
        ind = ind[ind.run_id.isin(ok)]
        runs = runs[runs.status == "ok"]
    if ind.empty:
        raise InputError("no finished run in this folder (every run failed or none ran)",
                         source=str(folder))
    scenarios = list(dict.fromkeys(ind["scenario"]))
    ref = reference or exp.get("reference") or scenarios[0]
    if ref not in scenarios:
        raise InputError(f"reference scenario {ref!r} not in this experiment; scenarios: "
                         f"{', '.join(scenarios)}", source="--reference")
    scenarios = [ref] + [s for s in scenarios if s != ref]
    scale = float(exp.get("territory", {}).get("scale", 1.0) or 1.0)
    return ReportData(folder, runs, ind, exp, ref, scale=scale, single_run=is_run,
                      failed=failed, scenarios=scenarios)


def _as_experiment(folder: Path, ind: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Read a ``mixsim run`` folder as an experiment of one scenario and one replicate."""
    scen = _read_toml(folder / "scenario.toml")
    meta = {}
    if (folder / "run.json").is_file():
        try:
            meta = json.loads((folder / "run.json").read_text())
        except json.JSONDecodeError:
            meta = {}
    name = str(scen.get("name") or meta.get("run_id") or "run")
    exp = {"name": name, "description": scen.get("description", ""),
           "territory": scen.get("territory", {}), "levers": scen.get("levers", {}),
           "reference": name, "scenarios": [{"name": name,
                                             "description": scen.get("description", "")}]}
    ind = ind.copy()
    if "run_id" not in ind.columns:
        ind["run_id"] = name
    ind["scenario"] = name
    ind["replicate"] = 0
    runs = pd.DataFrame([{"run_id": ind.run_id.iloc[0] if len(ind) else name, "scenario": name,
                          "replicate": 0, "status": "ok"}])
    return exp, runs, ind


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------


def horizon_stats(data: ReportData, names: tuple[str, ...], year: int | None = None
                  ) -> pd.DataFrame:
    """Summarise each scenario and indicator at ``year`` (default: the horizon).

    Mean, p05, p95 over replicates, and the paired difference to the reference (mean, p05, p95,
    ``n_paired``); counts are divided by the scale (whole territory).
    """
    e = data.epci()
    e = e[e.indicator.isin(names)]
    if e.empty:
        return pd.DataFrame()
    horizon = int(e.year.max()) if year is None else year
    h = e[e.year == horizon]
    wide = h.pivot_table(index=["scenario", "replicate"], columns="indicator", values="value",
                         aggfunc="first")
    counts = [c for c in wide.columns if is_count(c)]
    wide[counts] = wide[counts] / data.scale
    scen_level = wide.index.get_level_values(0)
    ref = wide.xs(data.reference, level="scenario") if data.reference in scen_level else None
    rows = []
    for sc in data.scenarios:
        if sc not in scen_level:
            continue
        w = wide.xs(sc, level="scenario")
        for name in names:
            if name not in w.columns:
                continue
            x = w[name].dropna()
            if x.empty:
                continue
            r = {"scenario": sc, "indicator": name, "mean": x.mean(), "p05": x.quantile(0.05),
                 "p95": x.quantile(0.95), "n": len(x)}
            if ref is not None and name in ref.columns:
                d = (w[name] - ref[name]).dropna()
                if len(d):
                    r.update(diff=d.mean(), diff_p05=d.quantile(0.05),
                             diff_p95=d.quantile(0.95), n_paired=len(d))
            rows.append(r)
    out = pd.DataFrame(rows)
    out.attrs["horizon"] = horizon
    return out


def is_count(name: str) -> bool:
    """Whether an indicator is a yearly count that scales with the territory."""
    from .report_i18n import kind
    return kind(name) == "count"


def beyond_noise(row: pd.Series) -> int:
    """Return +1 / −1 when the 90 % interval of paired differences is above / below zero."""
    lo, hi = row.get("diff_p05", math.nan), row.get("diff_p95", math.nan)
    n = row.get("n_paired", 0)
    if not (n and n >= 2) or pd.isna(lo) or pd.isna(hi):
        return 0
    if lo > 0:
        return 1
    if hi < 0:
        return -1
    return 0


def targets(data: ReportData) -> dict[str, float]:
    """Return the CIL goals: the quota shares of the base levers (legal defaults 25 % / 50 %)."""
    lev = data.experiment.get("levers", {})
    q1 = lev.get("quota_q1", {}).get("share", 0.25)
    qpv = lev.get("quota_qpv", {}).get("share", 0.5)
    return {"q1_share_leases_outside_qpv": float(q1), "q234_share_leases_inside_qpv": float(qpv)}


# --------------------------------------------------------------------------------------------
# texts of the experiment and its scenarios
# --------------------------------------------------------------------------------------------


def pick(table: dict, key: str, lang: str) -> str:
    """Return ``key_<lang>`` from a table, else ``key``, else ``""``."""
    v = table.get(f"{key}_{lang}") or table.get(key) or ""
    return str(v)


def scenario_tables(data: ReportData) -> dict[str, dict]:
    """Return the ``[[scenarios]]`` entries of the experiment file, by name."""
    return {str(s.get("name")): s for s in data.experiment.get("scenarios", [])
            if isinstance(s, dict)}


def overrides(entry: dict) -> dict[str, object]:
    """Return the parameter paths a scenario entry sets (``levers.…`` / ``behaviour.…``)."""
    out: dict[str, object] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out[prefix] = value
    for k, v in entry.items():
        if k.startswith(("levers", "behaviour")):
            walk(k, v)
    return out


def describe_change(path: str, value: object, lang: str, short: bool = False) -> str:
    """Return plain words for one lever setting.

    E.g. ``Quota de ménages Q1 hors QPV (application) : strict``; ``short`` gives
    ``quota Q1 : strict`` (for generated scenario titles).
    """
    parts = path.split(".")
    group = parts[1] if len(parts) > 1 else path
    fld = parts[-1]
    head = getattr(LEVERS[group], lang) if group in LEVERS else group.replace("_", " ")
    what = FIELDS.get(fld, {}).get(lang, fld.replace("_", " "))
    shown = _shown(fld, value, lang)
    if short:
        head = SHORT.get(group, {}).get(lang, head)
        head = head if fld in MAIN_FIELDS else f"{head} ({what})"
        return f"{head} : {shown}" if lang == "fr" else f"{head}: {shown}"
    return f"{head} ({what}) : {shown}" if lang == "fr" else f"{head} ({what}): {shown}"


def _shown(fld: str, value: object, lang: str) -> str:
    if isinstance(value, bool):
        shown = VALUES[str(value)][lang]
    elif isinstance(value, str):
        shown = VALUES.get(value, {}).get(lang, value)
    elif isinstance(value, int | float) and 0 <= abs(value) <= 1 and fld.endswith(
            ("share", "modulation")):
        shown = fmt_percent(value, lang, 0)
    elif isinstance(value, int | float):
        shown = fmt_number(float(value), lang, 0 if float(value).is_integer() else 2)
    else:
        shown = str(value)
    return shown


def scenario_title(data: ReportData, name: str, lang: str) -> str:
    """Readable title of a scenario: the file's ``title_<lang>``/``title``, else generated."""
    entry = scenario_tables(data).get(name, {})
    title = pick(entry, "title", lang)
    if title:
        return title
    ov = overrides(entry)
    if ov and entry.get("description", "").startswith("grid:"):
        title = ", ".join(describe_change(p, v, lang, short=True) for p, v in ov.items())
        return title[0].upper() + title[1:]
    return name


def scenario_description(data: ReportData, name: str, lang: str) -> str:
    """Return a scenario's description in the language (empty for a grid point's)."""
    entry = scenario_tables(data).get(name, {})
    d = pick(entry, "description", lang)
    return "" if d.startswith("grid:") else d


def levers_used(data: ReportData) -> list[str]:
    """Lever groups that some scenario changes or that vary between runs, in catalogue order."""
    groups: set[str] = set()
    for entry in scenario_tables(data).values():
        groups.update(p.split(".")[1] for p in overrides(entry) if p.startswith("levers."))
    groups.update(c.split(".")[1] for c in data.runs.columns if c.startswith("levers."))
    return [g for g in LEVERS if g in groups]


def mean_by_year(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, p05 and p95 over replicates per year of a one-indicator, one-scenario frame."""
    g = frame.groupby("year")["value"]
    return pd.DataFrame({"mean": g.mean(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)})

