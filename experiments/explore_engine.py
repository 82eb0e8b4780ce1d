"""Engine of ``mixsim explore``: the lever form, paired runs against today's rules, figures.

Nothing here imports Solara: the web page (:mod:`mixsim.experiments.explore_app`) only lays out
what this module computes, and the tests and the benchmark drive the same functions directly.

* :func:`controls` lists every lever of :class:`~mixsim.model.config.Levers` with its family,
  kind, default (today's rules) and allowed values, read from the lever's own declaration.
* :func:`scenario_for` builds the scenario of the form's values through the same validation as a
  scenario file (:meth:`Scenario.with_overrides`): a refused combination raises the same
  :class:`~mixsim.model.errors.InputError` message as the TOML file would.
* :class:`Explorer` runs a scenario on ``replicates`` paired seeds (replicate ``r`` uses
  ``SeedSequence(seed).spawn(replicates)[r]``, as ``mixsim experiment`` does) and compares it with
  today's rules on the same seeds; the reference is computed once per territory, scale, horizon
  and seeds and kept in memory. Runs go to worker processes (``jobs``) so that the page stays
  responsive.
* :func:`trajectory_figure`, :func:`map_figure` and :class:`LiveRun` draw with matplotlib
  (``Figure`` objects, no pyplot state); :func:`html_report` writes a self-contained page.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import io
import math
import os
import queue as _queue
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mixsim.model.config import Levers, Scenario, TerritorySpec, iter_parameters, to_toml
from mixsim.model.errors import InputError

from . import explore_i18n as i18n

#: Trajectories drawn (levels and paired differences), in this order.
KEY_TRAJECTORIES = ("q1_share_leases_outside_qpv", "q234_share_leases_inside_qpv",
                    "q1_share_in_qpv", "dissimilarity_q1_by_neighbourhoods")
#: Rows of the comparison table.
TABLE_INDICATORS = KEY_TRAJECTORIES + ("q1_share_of_qpv_households", "median_wait_months",
                                       "exits_to_ownership", "turnover", "vacancy",
                                       "refusal_rate", "applicants_per_allocation")
PERCENT = frozenset({"q1_share_leases_outside_qpv", "q234_share_leases_inside_qpv",
                     "q1_share_in_qpv", "q1_share_of_qpv_households", "turnover", "vacancy",
                     "refusal_rate", "q1_share"})
#: The CIL's objectives: indicator → the lever holding its target share (L441-1 CCH: 25 % of
#: leases outside QPV to Q1 households; CIL orientation: 50 % of leases in QPV to Q2–Q4).
OBJECTIVES = {"q1_share_leases_outside_qpv": "quota_q1.share",
              "q234_share_leases_inside_qpv": "quota_qpv.share"}
#: Two-sided level of the interval of a paired difference (Student's t over the replicates).
INTERVAL = 0.90
#: Scenarios kept in memory (besides the references), most recent first.
RESULTS_KEPT = 8


# ------------------------------------------------------------------------------------------------
# The lever form
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One lever of the form.

    Attributes:
        path: Path below ``levers.`` (``"quota_q1.share"``).
        family: Lever table (``"quota_q1"``), a key of :data:`explore_i18n.FAMILIES`.
        kind: ``"float"``, ``"int"``, ``"bool"`` or ``"choice"``.
        default: Today's rules.
        lo: Inclusive lower bound of a number (None: unbounded).
        hi: Inclusive upper bound of a number (None: unbounded).
        choices: Allowed values of a choice.
        unit: Unit of the value.
    """

    path: str
    family: str
    kind: str
    default: Any
    lo: float | None
    hi: float | None
    choices: tuple[str, ...]
    unit: str

    @property
    def slider(self) -> bool:
        """A bounded number of small range (a share): shown as a slider."""
        return (self.kind == "float" and self.lo is not None and self.hi is not None
                and self.hi - self.lo <= 2.0)

    @property
    def step(self) -> float:
        """Slider step: 1/100 of the range, rounded to a power of ten."""
        if self.kind == "int":
            return 1
        span = (self.hi - self.lo) if self.lo is not None and self.hi is not None else 1.0
        return float(10 ** math.floor(math.log10(span / 100))) if span > 0 else 0.01

    def label(self, lang: str) -> str:
        """Plain-language label."""
        return i18n.lever_label(self.path, lang)

    def help(self, lang: str) -> str:
        """Help sentence with the allowed values and the default."""
        allowed = (", ".join(i18n.choice_label(c, lang) for c in self.choices)
                   if self.kind == "choice" else None)
        if allowed is None and self.kind != "bool" and self.lo is not None and self.hi is not None:
            allowed = f"{self.lo:g} – {self.hi:g}"
        default = format_value(self.default, lang)
        unit = f" {self.unit}" if self.unit else ""
        today = {"fr": "aujourd'hui : {}", "en": "today: {}"}[lang].format(default)
        parts = ([allowed + unit] if allowed else []) + [today]
        tail = " (" + "; ".join(parts) + ")"
        return i18n.lever_help(self.path, lang) + tail


def controls() -> tuple[Control, ...]:
    """Every lever, in the order of :class:`~mixsim.model.config.Levers`."""
    out = []
    for path, f, value in iter_parameters(Levers()):
        m = f.metadata
        kind = ("bool" if f.type is bool else "choice" if m.get("choices") else
                "int" if f.type is int else "float")
        out.append(Control(path=path, family=path.split(".", 1)[0], kind=kind, default=value,
                           lo=m.get("lo"), hi=m.get("hi"), choices=tuple(m.get("choices") or ()),
                           unit=m.get("unit", "")))
    return tuple(out)


def families() -> list[tuple[str, list[Control]]]:
    """Return the controls grouped by lever family, in the page's order."""
    grouped: dict[str, list[Control]] = {}
    for c in controls():
        grouped.setdefault(c.family, []).append(c)
    return [(name, grouped[name]) for name in i18n.FAMILIES if name in grouped] + [
        (name, cs) for name, cs in grouped.items() if name not in i18n.FAMILIES]


def default_values() -> dict[str, Any]:
    """Return the form's values under today's rules (path below ``levers.`` → value)."""
    return {c.path: c.default for c in controls()}


def changed_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values that differ from today's rules, in the form's order."""
    defaults = default_values()
    return {p: v for p, v in values.items() if p in defaults and v != defaults[p]}


def scenario_for(values: Mapping[str, Any], base: Scenario) -> Scenario:
    """Build the scenario of the form's values on top of ``base`` (today's rules).

    The values go through :meth:`Scenario.with_overrides`, the validation of scenario files.

    Raises:
        InputError: the message a scenario file with these values would get.
    """
    changed = changed_values(values)
    unknown = [p for p in values if p not in default_values()]
    if unknown:
        raise InputError(f"unknown lever {unknown[0]!r}; see `mixsim levers`", source="explore",
                         field=f"levers.{unknown[0]}")
    scenario = base.with_overrides({f"levers.{p}": v for p, v in changed.items()},
                                   source="explore")
    description = "; ".join(f"levers.{p} = {v!r}" for p, v in changed.items())
    return dataclasses.replace(scenario, name="explore" if changed else "today",
                               description=description or "today's rules")


def error_text(err: InputError) -> str:
    """Return the message of a refused form: the field and what is allowed (as for a file)."""
    return f"{err.field}: {err.detail}" if err.field else err.detail


def format_value(v: Any, lang: str, percent: bool = False, signed: bool = False,
                 digits: int | None = None) -> str:
    """Format a value for the page: French decimal comma, percentages, percentage points.

    A share is written ``25,3 %`` (fr) or ``25.3%`` (en); a signed difference of shares is in
    percentage points, ``+1,2 pt`` or ``+1.2 pp``.
    """
    if isinstance(v, bool | np.bool_):
        return {"fr": ("oui", "non"), "en": ("yes", "no")}[lang][0 if v else 1]
    if isinstance(v, str):
        return i18n.choice_label(v, lang)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, int | np.integer) and not percent:
        s = f"{v:+,d}" if signed else f"{v:,d}"
    else:
        x = 100.0 * float(v) if percent else float(v)
        if digits is None:
            digits = 1 if percent else (0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2)
        s = f"{x:+,.{digits}f}" if signed else f"{x:,.{digits}f}"
    if lang == "fr":
        s = s.replace(",", "\u202f").replace(".", ",")
    if percent:
        s += {("fr", False): "\u202f%", ("fr", True): "\u202fpt", ("en", False): "%",
              ("en", True): " pp"}[(lang, signed)]
    return s


# ------------------------------------------------------------------------------------------------
# Settings, ensembles and their comparison
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What every run of an exploration shares.

    Attributes:
        source: Territory: ``"default"`` or a data folder.
        scale: Territory scale (a fast one: 0.1 by default).
        years: Horizon in years.
        replicates: Paired seeds per scenario.
        seed: Root seed; replicate ``r`` uses ``SeedSequence(seed).spawn(replicates)[r]``.
        jobs: Worker processes (1: run in the page's process).
        lang: Language of the page, ``"fr"`` or ``"en"``.
    """

    source: str = "default"
    scale: float = 0.1
    years: int = 15
    replicates: int = 4
    seed: int = 0
    jobs: int = 2
    lang: str = "fr"

    def __post_init__(self) -> None:
        TerritorySpec(source=self.source, scale=self.scale)  # same bounds as a scenario file
        Scenario(years=self.years, seed=self.seed)
        for name, v, lo in (("replicates", self.replicates, 1), ("jobs", self.jobs, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise InputError(f"got {v!r}; expected a whole number ≥ {lo}", field=name)
        if self.lang not in i18n.LANGS:
            raise InputError(f"got {self.lang!r}; expected one of {', '.join(i18n.LANGS)}",
                             field="lang")

    def base(self) -> Scenario:
        """Today's rules with these settings (the reference scenario)."""
        return Scenario(name="today", description="today's rules", years=self.years,
                        seed=self.seed,
                        territory=TerritorySpec(source=self.source, scale=self.scale))

    def seeds(self) -> list[np.random.SeedSequence]:
        """Return the replicates' seeds, shared by every scenario (common random numbers)."""
        return np.random.SeedSequence(self.seed).spawn(self.replicates)


@dataclass(frozen=True)
class Ensemble:
    """The runs of one scenario on the paired seeds.

    Attributes:
        scenario: The scenario.
        epci: One row per replicate and year: ``replicate``, ``year`` and the indicators of
            :data:`TABLE_INDICATORS` (EPCI level).
        neighbourhoods: ``replicate``, ``year`` (0 and the horizon), ``neighbourhood`` and
            ``q1_share``.
        wall_time: Seconds the runs took (elapsed, all workers together).
    """

    scenario: Scenario
    epci: pd.DataFrame
    neighbourhoods: pd.DataFrame
    wall_time: float

    @property
    def horizon(self) -> int:
        """The last year."""
        return int(self.epci.year.max())

    def q1_map(self, year: int) -> pd.Series:
        """Q1 share by neighbourhood in ``year``, mean over the replicates."""
        nb = self.neighbourhoods
        return nb[nb.year == year].groupby("neighbourhood")["q1_share"].mean()


@dataclass(frozen=True)
class Comparison:
    """A scenario against today's rules on the same seeds.

    Attributes:
        reference: Today's rules.
        scenario: The explored scenario.
        changed: The levers changed (path below ``levers.`` → value).
        table: One row per indicator of :data:`TABLE_INDICATORS` at the horizon: ``indicator``,
            ``objective`` (NaN when none), ``reference``, ``scenario`` (means), ``diff``,
            ``diff_low``, ``diff_high`` (paired difference and its interval), ``n``.
        seconds: Seconds from the request to the result.
    """

    reference: Ensemble
    scenario: Ensemble
    changed: Mapping[str, Any]
    table: pd.DataFrame
    seconds: float

    @property
    def horizon(self) -> int:
        """The last year."""
        return self.reference.horizon


def paired_difference(reference: pd.Series, scenario: pd.Series,
                      level: float = INTERVAL) -> tuple[float, float, float, int]:
    """Mean of the paired differences and its Student-t interval, over common replicates.

    Both series are indexed by replicate. With one replicate the interval is NaN (unknown).

    Returns:
        ``(mean, low, high, n)``.
    """
    from scipy import stats
    d = (scenario - reference).dropna()
    n = len(d)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(d.mean())
    if n < 2:
        return (mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return (mean, mean - half, mean + half, n)


def _paired_matrices(reference: pd.DataFrame, scenario: pd.DataFrame, name: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Years and the (year × replicate) values of one indicator in both ensembles."""
    r = reference.pivot_table(index="year", columns="replicate", values=name, dropna=False)
    s = scenario.pivot_table(index="year", columns="replicate", values=name, dropna=False)
    years = r.index.intersection(s.index)
    reps = r.columns.intersection(s.columns)
    return (years.to_numpy(), r.loc[years, reps].to_numpy(float),
            s.loc[years, reps].to_numpy(float))


def paired_band(reference: np.ndarray, scenario: np.ndarray, level: float = INTERVAL
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`paired_difference` row by row of two (year × replicate) matrices."""
    from scipy import stats
    d = scenario - reference
    n = np.sum(~np.isnan(d), axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # years without allocations (year 0)
        mean = np.where(n > 0, np.nansum(d, axis=1) / np.maximum(n, 1), np.nan)
        sd = np.nanstd(d, axis=1, ddof=1)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half


def comparison_table(reference: Ensemble, scenario: Ensemble) -> pd.DataFrame:
    """Horizon values of both ensembles and their paired differences (:class:`Comparison`)."""
    horizon = reference.horizon
    ref = reference.epci[reference.epci.year == horizon].set_index("replicate")
    sc = scenario.epci[scenario.epci.year == horizon].set_index("replicate")
    rows = []
    for name in TABLE_INDICATORS:
        if name not in ref.columns or name not in sc.columns:
            continue
        mean, low, high, n = paired_difference(ref[name], sc[name])
        lever = OBJECTIVES.get(name)
        objective = (float(_lever_value(scenario.scenario, lever)) if lever else math.nan)
        rows.append({"indicator": name, "objective": objective,
                     "reference": float(ref[name].mean()), "scenario": float(sc[name].mean()),
                     "diff": mean, "diff_low": low, "diff_high": high, "n": n})
    return pd.DataFrame(rows)


def _lever_value(scenario: Scenario, path: str) -> Any:
    node: Any = scenario.levers
    for part in path.split("."):
        node = getattr(node, part)
    return node


# -- worker side ---------------------------------------------------------------------------------

_worker_queue: Any = None  # the progress queue of a worker process (set by _init_worker)


def _init_worker(progress_queue: Any, parent: int) -> None:
    """Keep the progress queue, and end this worker when the server's process is gone."""
    global _worker_queue
    _worker_queue = progress_queue

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)  # the server stopped (even killed): nothing is left to run for

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _warm_worker(source: str, scale: float) -> int:
    """Load the model's kernels and the territory in a worker process (its first task)."""
    from mixsim.model.api import cached_territory, warm_up
    warm_up()
    cached_territory(source, scale)
    return os.getpid()


def run_replicate(scenario: Scenario, entropy: int, replicate: int, token: str | None = None,
                  progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run one replicate and keep what the page shows (the worker function).

    Args:
        scenario: The scenario.
        entropy: Root seed; the run uses ``SeedSequence(entropy, spawn_key=(replicate,))``.
        replicate: Replicate number.
        token: Identifies the request in the progress messages of a worker process.
        progress: In this process, called with the months simulated so far.

    Returns:
        ``{"replicate", "epci", "neighbourhoods"}`` (two data frames).
    """
    from mixsim.model import run_scenario

    seq = np.random.SeedSequence(entropy, spawn_key=(replicate,))

    def report(done: int, total: int) -> None:
        if done % 6 and done != total:
            return
        if progress is not None:
            progress(done)
        elif _worker_queue is not None and token is not None:
            _worker_queue.put((token, replicate, done))

    result = run_scenario(scenario, seed=seq, run_id=f"r{replicate}", keep_moves=False,
                          progress=report)
    ind = result.indicators
    epci = ind[(ind.scale == "epci") & (ind.unit == "EPCI") & ind.indicator.isin(TABLE_INDICATORS)]
    wide = epci.pivot_table(index="year", columns="indicator", values="value", aggfunc="first",
                            observed=True).reset_index()
    wide.columns.name = None
    wide.insert(0, "replicate", replicate)
    horizon = int(ind.year.max())
    nb = ind[(ind.scale == "neighbourhood") & (ind.indicator == "q1_share")
             & ind.year.isin([0, horizon])]
    nbdf = pd.DataFrame({"replicate": replicate, "year": nb.year.to_numpy(),
                         "neighbourhood": nb.unit.astype(str).to_numpy(),
                         "q1_share": nb.value.to_numpy()})
    return {"replicate": replicate, "epci": wide, "neighbourhoods": nbdf}


# -- parent side ---------------------------------------------------------------------------------


class Runner:
    """Runs replicates in ``jobs`` worker processes (started once, reused), or here if ``jobs=1``.

    The workers are fresh interpreters (``spawn``): the web server's threads are never forked.
    """

    def __init__(self, jobs: int, source: str, scale: float):
        from mixsim.experiments.evaluators import SpawnPool
        self.jobs = jobs
        self._pool: SpawnPool | None = None
        if jobs > 1:
            self._pool = SpawnPool(jobs, initializer=_init_worker,
                                   warm=(_warm_worker, (source, scale)))
        self._count = 0

    def run(self, scenario: Scenario, seeds: Sequence[np.random.SeedSequence],
            progress: Callable[[float], None] | None = None) -> list[dict[str, Any]]:
        """Run ``scenario`` on every seed; ``progress(fraction)`` is called as months pass."""
        total = 12 * scenario.years * len(seeds)
        done = {r: 0 for r in range(len(seeds))}

        def tell() -> None:
            if progress is not None:
                progress(sum(done.values()) / total)

        if self._pool is None:
            out = []
            for r, seq in enumerate(seeds):
                def one(months: int, r: int = r) -> None:
                    done[r] = months
                    tell()
                out.append(run_replicate(scenario, int(seq.entropy), int(seq.spawn_key[0]),
                                         progress=one))
            return out
        self._count += 1
        token = f"{os.getpid()}-{self._count}"
        futures: list[Future] = [
            self._pool.submit(run_replicate, scenario, int(seq.entropy), int(seq.spawn_key[0]),
                              token) for seq in seeds]
        index = {int(seq.spawn_key[0]): r for r, seq in enumerate(seeds)}
        while not all(f.done() for f in futures):
            try:
                tok, replicate, months = self._pool.messages.get(timeout=0.1)
            except _queue.Empty:
                continue
            if tok == token and replicate in index:
                done[index[replicate]] = months
                tell()
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the worker processes.

        The workers are ended by their process ids (the first task of each returned it), and
        each worker also ends itself when this process is gone: a worker must never outlive
        the server (it would keep the server's terminal output open, and its memory).
        """
        if self._pool is None:
            return
        self._pool.close()
        self._pool = None


def _ensemble(scenario: Scenario, parts: list[dict[str, Any]], wall: float) -> Ensemble:
    epci = pd.concat([p["epci"] for p in parts], ignore_index=True)
    nb = pd.concat([p["neighbourhoods"] for p in parts], ignore_index=True)
    return Ensemble(scenario=scenario, epci=epci, neighbourhoods=nb, wall_time=wall)


@dataclass(frozen=True)
class Neighbourhoods:
    """What the maps need of a territory's neighbourhoods.

    Attributes:
        table: ``neighbourhood``, ``name``, ``commune``, ``qpv``, ``x``, ``y``.
        geometry: The GeoJSON FeatureCollection of ``load_geometry``, or None (discs at x/y).
    """

    table: pd.DataFrame
    geometry: dict | None = None


def load_neighbourhoods(source: str) -> Neighbourhoods:
    """Read the neighbourhoods and the polygons (when the territory has them) of a territory."""
    from mixsim.model.territory import load_geometry, load_territory
    t = load_territory(source, 1.0)
    cols = [c for c in ("neighbourhood", "name", "commune", "qpv", "x", "y")
            if c in t.neighbourhoods.columns]
    table = t.neighbourhoods[cols].copy()
    table["neighbourhood"] = table["neighbourhood"].astype(str)
    table["qpv"] = table["qpv"].astype(int).astype(bool)
    return Neighbourhoods(table=table.reset_index(drop=True), geometry=load_geometry(source))


class Explorer:
    """Runs and compares scenarios for one exploration (shared by every page of the server).

    Args:
        settings: Territory, scale, horizon, seeds, workers.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.neighbourhoods = load_neighbourhoods(settings.source)
        self.runner = Runner(settings.jobs, settings.source, settings.scale)
        self._lock = threading.Lock()  # one ensemble at a time (the cores are shared)
        self._references: dict[tuple, Ensemble] = {}
        self._results: OrderedDict[tuple, Ensemble] = OrderedDict()

    def _key(self, scenario: Scenario) -> tuple:
        s = self.settings
        return (scenario.config_hash(), s.replicates, s.seed)

    def has_reference(self) -> bool:
        """Whether today's rules are already computed."""
        return self._key(self.settings.base()) in self._references

    def reference(self, progress: Callable[[float], None] | None = None) -> Ensemble:
        """Today's rules on the paired seeds (computed once, then kept)."""
        base = self.settings.base()
        key = self._key(base)
        with self._lock:
            if key not in self._references:
                t0 = time.perf_counter()
                parts = self.runner.run(base, self.settings.seeds(), progress)
                self._references[key] = _ensemble(base, parts, time.perf_counter() - t0)
            return self._references[key]

    def ensemble(self, scenario: Scenario, progress: Callable[[float], None] | None = None
                 ) -> Ensemble:
        """Run a scenario on the paired seeds (the last :data:`RESULTS_KEPT` are kept)."""
        key = self._key(scenario)
        if key in self._references:
            return dataclasses.replace(self._references[key], scenario=scenario)
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return dataclasses.replace(self._results[key], scenario=scenario)
            t0 = time.perf_counter()
            parts = self.runner.run(scenario, self.settings.seeds(), progress)
            ens = _ensemble(scenario, parts, time.perf_counter() - t0)
            self._results[key] = ens
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
            return ens

    def compare(self, values: Mapping[str, Any],
                progress: Callable[[float], None] | None = None) -> Comparison:
        """Run the form's scenario and compare it with today's rules on the same seeds.

        ``progress`` gets the fraction done; the reference counts for half when it is not
        computed yet.

        Raises:
            InputError: the form's values are refused (before anything runs).
        """
        t0 = time.perf_counter()
        scenario = scenario_for(values, self.settings.base())
        split = 0.0 if self.has_reference() else 0.5

        def ref_progress(f: float) -> None:
            if progress is not None:
                progress(split * f)

        def sc_progress(f: float) -> None:
            if progress is not None:
                progress(split + (1 - split) * f)

        reference = self.reference(ref_progress)
        ens = self.ensemble(scenario, sc_progress)
        if progress is not None:
            progress(1.0)
        return Comparison(reference=reference, scenario=ens, changed=changed_values(values),
                          table=comparison_table(reference, ens),
                          seconds=time.perf_counter() - t0)

    def close(self) -> None:
        """Stop the worker processes."""
        self.runner.close()


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------

REF_COLOUR, SC_COLOUR = "#6b6b6b", "#c0392b"


def _percent_axis(ax, percent: bool, lang: str, signed: bool = False) -> None:
    """Write a share axis in percent (points for a difference), with a decimal when narrow."""
    from matplotlib.ticker import FuncFormatter
    if not percent:
        return

    def tick(v: float, _pos) -> str:
        lo, hi = ax.get_ylim()
        digits = 1 if abs(hi - lo) < 0.06 else 0
        return format_value(v, lang, percent=True, signed=signed, digits=digits)

    ax.yaxis.set_major_formatter(FuncFormatter(tick))


def trajectory_figure(cmp: Comparison, lang: str):
    """Key indicators over the years: levels (top row) and paired differences with their band.

    Levels: mean of the replicates, band from the lowest to the highest replicate; the CIL
    objective as a dotted line. Differences: mean paired difference with its
    :data:`INTERVAL` Student-t interval, year by year.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    t = i18n.TEXT[lang]
    names = [n for n in KEY_TRAJECTORIES if n in cmp.reference.epci.columns]
    # fixed margins: a constrained layout would double the drawing time
    fig = Figure(figsize=(3.3 * len(names), 5.4), dpi=90)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.93, bottom=0.1, wspace=0.32, hspace=0.12)
    axes = fig.subplots(2, len(names), squeeze=False, sharex=True)
    ref, sc = cmp.reference.epci, cmp.scenario.epci
    for j, name in enumerate(names):
        top, bottom = axes[0, j], axes[1, j]
        years, r_mat, s_mat = _paired_matrices(ref, sc, name)
        for mat, colour, label in ((r_mat, REF_COLOUR, t["today"]),
                                   (s_mat, SC_COLOUR, t["scenario"])):
            ok = ~np.all(np.isnan(mat), axis=1)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                top.plot(years[ok], np.nanmean(mat[ok], axis=1), color=colour, lw=2,
                         label=label)
                top.fill_between(years[ok], np.nanmin(mat[ok], axis=1),
                                 np.nanmax(mat[ok], axis=1), color=colour, alpha=0.15, lw=0)
        lever = OBJECTIVES.get(name)
        if lever:
            top.axhline(_lever_value(cmp.scenario.scenario, lever), color="black", ls=":",
                        lw=1, label=t["objective"])
        top.set_title(i18n.indicator_label(name, lang), fontsize=9)
        _percent_axis(top, name in PERCENT, lang)
        mean, low, high = paired_band(r_mat, s_mat)
        ok = ~np.isnan(mean)
        bottom.axhline(0.0, color="black", lw=0.8)
        bottom.plot(years[ok], mean[ok], color=SC_COLOUR, lw=2)
        bottom.fill_between(years[ok], low[ok], high[ok], color=SC_COLOUR, alpha=0.2, lw=0)
        _percent_axis(bottom, name in PERCENT, lang, signed=True)
        bottom.set_xlabel(t["year"])
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=7, loc="best")
    axes[0, 0].set_ylabel(t["levels"], fontsize=8)
    axes[1, 0].set_ylabel(t["diff_axis"], fontsize=8)
    return fig


def _polygons(geometry: Mapping[str, Any]) -> list[tuple[str, list[np.ndarray]]]:
    """(neighbourhood id, exterior rings) of each feature of a GeoJSON FeatureCollection."""
    out = []
    for feat in geometry.get("features", []):
        props = feat.get("properties") or {}
        geom = feat.get("geometry") or {}
        coords = geom.get("coordinates") or []
        if geom.get("type") == "Polygon":
            rings = [np.asarray(coords[0], float)] if coords else []
        elif geom.get("type") == "MultiPolygon":
            rings = [np.asarray(p[0], float) for p in coords if p]
        else:
            rings = []
        out.append((str(props.get("neighbourhood")), rings))
    return out


def draw_neighbourhoods(ax, nbhds: Neighbourhoods, values: pd.Series, cmap, norm) -> str:
    """Colour the neighbourhoods by ``values`` (indexed by id): polygons, or discs at x/y.

    QPV are outlined in black. Returns ``"polygons"`` or ``"discs"`` (what was drawn).
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon
    tab = nbhds.table.set_index("neighbourhood")
    qpv = tab["qpv"]
    if nbhds.geometry is not None:
        patches, colours, edges, widths = [], [], [], []
        for nid, rings in _polygons(nbhds.geometry):
            v = values.get(nid, math.nan)
            for ring in rings:
                patches.append(Polygon(ring[:, :2], closed=True))
                colours.append(cmap(norm(v)) if not math.isnan(v) else (0.9, 0.9, 0.9, 1.0))
                is_qpv = bool(qpv.get(nid, False))
                edges.append("black" if is_qpv else "white")
                widths.append(1.6 if is_qpv else 0.4)
        if patches:
            coll = PatchCollection(patches, facecolors=colours, edgecolors=edges,
                                   linewidths=widths)
            ax.add_collection(coll)
            ax.autoscale_view()
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            return "polygons"
    v = values.reindex(tab.index)
    ax.scatter(tab.x, tab.y, c=v.to_numpy(), cmap=cmap, norm=norm, s=90,
               edgecolors=np.where(qpv.to_numpy(), "black", "none"),
               linewidths=np.where(qpv.to_numpy(), 1.8, 0.0))
    ax.set_aspect("equal")
    ax.margins(0.08)
    ax.set_xticks([])
    ax.set_yticks([])
    return "discs"


def map_figure(cmp: Comparison, nbhds: Neighbourhoods, lang: str):
    """Q1 share by neighbourhood at the horizon (today, scenario) and the difference map."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
    t = i18n.TEXT[lang]
    h = cmp.horizon
    today, scen = cmp.reference.q1_map(h), cmp.scenario.q1_map(h)
    diff = (scen - today).dropna()
    fig = Figure(figsize=(12.0, 4.2), dpi=90)
    fig.subplots_adjust(left=0.01, right=0.95, top=0.92, bottom=0.03, wspace=0.1)
    axes = fig.subplots(1, 3)
    vmax = float(max(today.max(), scen.max(), 0.01))
    norm = Normalize(0.0, vmax)
    cmap = colormaps["OrRd"]
    for ax, values, title in ((axes[0], today, t["map_today"]),
                              (axes[1], scen, t["map_scenario"])):
        draw_neighbourhoods(ax, nbhds, values, cmap, norm)
        ax.set_title(title.format(year=h), fontsize=9)
    from matplotlib.cm import ScalarMappable
    pct = FuncFormatter(lambda v, _p: format_value(v, lang, percent=True, digits=0))
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes[:2].tolist(), shrink=0.8)
    cb.ax.yaxis.set_major_formatter(pct)
    cb.set_label(i18n.indicator_label("q1_share", lang), fontsize=8)
    span = float(max(abs(diff.min()), abs(diff.max()), 0.005)) if len(diff) else 0.01
    dnorm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    dcmap = colormaps["RdBu_r"]
    draw_neighbourhoods(axes[2], nbhds, diff, dcmap, dnorm)
    axes[2].set_title(t["map_diff"], fontsize=9)
    cb2 = fig.colorbar(ScalarMappable(norm=dnorm, cmap=dcmap), ax=axes[2], shrink=0.8)
    cb2.ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: format_value(v, lang, percent=True, signed=True, digits=1)))
    return fig


def png(fig) -> bytes:
    """Render a matplotlib figure to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------
# The live single run (for Mesa users)
# ------------------------------------------------------------------------------------------------


def neighbourhood_q1_shares(state) -> np.ndarray:
    """Share of first-quartile households among the housed households of each neighbourhood.

    The definition of the ``q1_share`` neighbourhood indicator (docs/indicators.md), on the
    current state: NaN for an empty neighbourhood.
    """
    hh = state.hh
    housed = hh.alive & (hh.dwelling >= 0)
    nbhd = hh.nbhd[housed].astype(np.int64)
    n = len(state.nb)
    tot = np.bincount(nbhd, minlength=n).astype(float)
    q1 = np.bincount(nbhd, weights=(hh.quartile[housed] == 1).astype(float), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, q1 / tot, np.nan)


class LiveRun:
    """One :class:`~mixsim.model.HousingModel` (a ``mesa.Model``) stepped month by month.

    It runs replicate 0 of the paired seeds, so that at the horizon it is one of the runs the
    comparison averages.

    Args:
        scenario: The scenario to run.
        seed: The exploration's root seed.
        changed: The levers changed from today's rules (shown with the run).
    """

    def __init__(self, scenario: Scenario, seed: int, changed: Mapping[str, Any] | None = None):
        from mixsim.model.api import build_model
        self.scenario = scenario
        self.changed = dict(changed or {})
        self.model = build_model(scenario, seed=np.random.SeedSequence(seed, spawn_key=(0,)))
        self.total = 12 * scenario.years
        self._lock = threading.Lock()
        self.history: list[tuple[int, float]] = [(0, self._q1_in_qpv())]

    @property
    def month(self) -> int:
        """Months simulated."""
        return self.model.month

    @property
    def finished(self) -> bool:
        """Whether the horizon is reached."""
        return self.month >= self.total

    def _q1_in_qpv(self) -> float:
        s = self.model.state
        hh = s.hh
        housed = hh.alive & (hh.dwelling >= 0) & (hh.quartile == 1)
        n = int(housed.sum())
        return float(s.nb.qpv[hh.nbhd[housed]].sum() / n) if n else math.nan

    def step(self, months: int = 1) -> None:
        """Simulate ``months`` months (not beyond the horizon)."""
        with self._lock:
            for _ in range(max(0, min(months, self.total - self.month))):
                self.model.step()
                self.history.append((self.month, self._q1_in_qpv()))
            if self.finished and not getattr(self, "_closed", False):
                self.model.recorder.finish(self.model.state, self.model.cohort_start,
                                           self.model.attractiveness_start)
                self._closed = True

    def households(self) -> int:
        """Households housed in the territory now."""
        hh = self.model.state.hh
        return int((hh.alive & (hh.dwelling >= 0)).sum())

    def q1_shares(self) -> pd.Series:
        """Return the current Q1 share by neighbourhood id."""
        with self._lock:
            s = self.model.state
            return pd.Series(neighbourhood_q1_shares(s), index=[str(i) for i in s.nb.ids])

    def figure(self, nbhds: Neighbourhoods, lang: str):
        """Map of the current Q1 shares and the monthly series of the Q1 share living in QPV."""
        from matplotlib import colormaps
        from matplotlib.colors import Normalize
        from matplotlib.figure import Figure
        t = i18n.TEXT[lang]
        shares = self.q1_shares()
        with self._lock:
            hist = np.array(self.history)
        fig = Figure(figsize=(10.0, 4.0), dpi=90)
        fig.subplots_adjust(left=0.02, right=0.97, top=0.92, bottom=0.12, wspace=0.15)
        ax_map, ax_ts = fig.subplots(1, 2, width_ratios=[1.1, 1.0])
        norm = Normalize(0.0, 0.6)
        cmap = colormaps["OrRd"]
        draw_neighbourhoods(ax_map, nbhds, shares, cmap, norm)
        from matplotlib.cm import ScalarMappable
        from matplotlib.ticker import FuncFormatter
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax_map, shrink=0.8)
        cb.ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _p: format_value(v, lang, percent=True, digits=0)))
        m = self.month
        ax_map.set_title(t["month"].format(month=m, year=m // 12, m=m % 12), fontsize=9)
        ax_ts.plot(hist[:, 0] / 12.0, hist[:, 1], color=SC_COLOUR, lw=1.5)
        ax_ts.set_xlim(0, self.total / 12.0)
        ax_ts.set_title(t["live_series"], fontsize=9)
        ax_ts.set_xlabel(t["year"])
        ax_ts.grid(alpha=0.3)
        _percent_axis(ax_ts, True, lang)
        return fig

    def close(self) -> None:
        """Drop the model from Mesa's class-level agent registry.

        mesa <= 3.3 keeps every model that created agents alive through ``mesa.Agent._ids``
        (mesa issue #3179); a page restarting its live run many times would grow otherwise.
        """
        import mesa
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self.model, None)


# ------------------------------------------------------------------------------------------------
# Saving and exporting
# ------------------------------------------------------------------------------------------------


def scenario_toml(values: Mapping[str, Any], settings: Settings) -> str:
    """Write the form's scenario as a scenario file that ``mixsim run`` accepts.

    Raises:
        InputError: the form's values are refused.
    """
    scenario = scenario_for(values, settings.base())
    changed = changed_values(values)
    head = ["# Scenario saved by `mixsim explore`. Run it with:",
            "#   mixsim run THIS_FILE.toml",
            "# Levers changed from today's rules:"]
    head += [f"#   levers.{p} = {v!r}" for p, v in changed.items()] or ["#   (none)"]
    return "\n".join(head) + "\n\n" + to_toml(scenario.to_dict()) + "\n"


def experiment_toml(values: Mapping[str, Any], settings: Settings) -> str:
    """Write an experiment file reproducing the comparison with ``mixsim experiment``.

    Two scenarios, ``today`` (the reference) and ``explore``, on the same territory, scale,
    horizon, replicates and root seed: the same runs as the page's.

    Raises:
        InputError: the form's values are refused.
    """
    from mixsim.experiments.spec import experiment_from_dict
    scenario_for(values, settings.base())  # refuse what the page refuses, with its message
    changed = changed_values(values)
    data = {
        "name": "explore", "description": "saved by mixsim explore: "
        + ("; ".join(f"levers.{p} = {v!r}" for p, v in changed.items()) or "today's rules"),
        "years": settings.years, "replicates": settings.replicates, "seed": settings.seed,
        "reference": "today",
        "territory": {"source": settings.source, "scale": settings.scale},
        "scenarios": [{"name": "today", "description": "today's rules"},
                      {"name": "explore", "description": "the explored levers",
                       **{f"levers.{p}": v for p, v in changed.items()}}],
        "outputs": {"indicators": list(TABLE_INDICATORS) + ["q1_share"],
                    "scales": ["epci", "neighbourhood"]},
    }
    exp = experiment_from_dict(data, source="explore")
    return ("# Experiment saved by `mixsim explore`. Reproduce the comparison with:\n"
            "#   mixsim experiment THIS_FILE.toml --out out/explore --jobs 2\n"
            "#   mixsim report out/explore\n\n" + exp.to_toml())


def table_rows(cmp: Comparison, lang: str) -> list[dict[str, str]]:
    """Return the comparison table as display strings (one dict per indicator)."""
    t = i18n.TEXT[lang]
    rows = []
    sep = " ; " if lang == "fr" else ", "
    for r in cmp.table.itertuples():
        pct = r.indicator in PERCENT
        band = ("" if math.isnan(r.diff_low) else
                f" [{format_value(r.diff_low, lang, pct, True)}{sep}"
                f"{format_value(r.diff_high, lang, pct, True)}]")
        diff = format_value(r.diff, lang, pct, True) + band if cmp.changed else "—"
        obj = "" if math.isnan(r.objective) else f"≥ {format_value(r.objective, lang, True)}"
        met = ""
        if obj:
            met = " / ".join(t["met"] if v >= r.objective else t["not_met"]
                             for v in (r.reference, r.scenario))
        rows.append({"indicator": i18n.indicator_label(r.indicator, lang), "objective": obj,
                     "today": format_value(r.reference, lang, pct),
                     "scenario": format_value(r.scenario, lang, pct),
                     "difference": diff, "met": met})
    return rows


def html_table(cmp: Comparison, lang: str) -> str:
    """Return the comparison table as an HTML ``<table>``."""
    t = i18n.TEXT[lang]
    rows = table_rows(cmp, lang)
    head = (f"<tr><th>{t['indicator']}</th><th>{t['objective']}</th><th>{t['today']}</th>"
            f"<th>{t['scenario']}</th><th>{t['difference']}</th><th>{t['met']}</th></tr>")
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(r[k])}</td>" for k in
                         ("indicator", "objective", "today", "scenario", "difference", "met"))
        + "</tr>" for r in rows)
    return f"<table class='comparison'>{head}{body}</table>"


def changed_text(changed: Mapping[str, Any], lang: str) -> list[str]:
    """One line per changed lever: its label and value."""
    return [f"{i18n.lever_label(p, lang)} (levers.{p}) = {format_value(v, lang)}"
            for p, v in changed.items()]


def html_report(cmp: Comparison, nbhds: Neighbourhoods, settings: Settings, lang: str) -> str:
    """Write a self-contained HTML page of the comparison (figures embedded, no network)."""
    t = i18n.TEXT[lang]

    def img(fig) -> str:
        data = base64.b64encode(png(fig)).decode()
        return f"<img alt='' style='max-width:100%' src='data:image/png;base64,{data}'>"

    changed = changed_text(cmp.changed, lang) or [t["none_changed"]]
    intro = t["intro"].format(replicates=settings.replicates, territory=settings.source,
                              scale=settings.scale, years=settings.years)
    note = t["map_note_polygons"] if nbhds.geometry is not None else t["map_note_discs"]
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(t['report_title'])}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}</style></head><body>
<h1>{html.escape(t['report_title'])}</h1>
<p>{html.escape(intro)}</p>
<h2>{t['changed']}</h2><ul>{''.join(f'<li>{html.escape(c)}</li>' for c in changed)}</ul>
<h2>{t['results']}</h2><p>{t['table_intro'].format(year=cmp.horizon)}</p>
{html_table(cmp, lang)}
<h2>{t['trajectories']}</h2>{img(trajectory_figure(cmp, lang))}
<h2>{t['map']}</h2><p>{note}</p>{img(map_figure(cmp, nbhds, lang))}
<h2>{t['settings']}</h2><pre>{html.escape(to_toml(cmp.scenario.scenario.to_dict()))}</pre>
<p><small>mixsim explore, {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</small></p>
</body></html>
"""


@dataclass
class _Shared:
    """The server's one explorer (created by :func:`explorer`)."""

    settings: Settings | None = None
    explorer: Explorer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_SHARED = _Shared()


def configure(settings: Settings) -> None:
    """Set the settings of the pages this process serves (before the server starts)."""
    with _SHARED.lock:
        if _SHARED.explorer is not None and _SHARED.settings != settings:
            _SHARED.explorer.close()
            _SHARED.explorer = None
        _SHARED.settings = settings


def current_settings() -> Settings:
    """Return the settings :func:`configure` set (the defaults before)."""
    return _SHARED.settings or Settings()


def explorer() -> Explorer:
    """Return the process's explorer (created on first use with :func:`configure`'s settings)."""
    with _SHARED.lock:
        if _SHARED.explorer is None:
            _SHARED.explorer = Explorer(_SHARED.settings or Settings())
            _SHARED.settings = _SHARED.explorer.settings
        return _SHARED.explorer
