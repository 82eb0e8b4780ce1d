"""``mixsim sensitivity FILE.toml --out DIR``: global sensitivity analysis of the model.

The file names the base scenario, the levers and uncertain parameters with their ranges, the
outcomes (indicators at chosen years), the method (Sobol' or Morris), the sample size and the
seed::

    include = ["scenarios/baseline.toml"]     # the base scenario (optional)
    years = 10

    [territory]
    scale = 0.1

    [sensitivity]
    method = "sobol"          # or "morris"
    n = 64                    # Sobol': a power of two; Morris: trajectories
    seed = 2024
    replicates = 2            # model runs averaged per point (common random numbers)
    second_order = false
    convergence = true        # also run at 2n and report how much the indices moved
    convergence_tol = 0.05    # an index is converged if it moves by at most this from n to 2n
    noise_replicates = 8      # replicates run at the base point to measure the noise (≥ 2)
    noise_points = 3          # and at this many other points (0: the base point only)
    noise_threshold = 0.1     # the noise share --pilot aims for
    pilot_n = 8               # --pilot: base sample size of the pilot design
    spin_up = "point"         # each point starts from its own behaviour's spun-up state;
                              # "base": every point from the base scenario's (see below)

    [sensitivity.parameters] # dotted names of numeric levers or behaviour parameters
    "levers.quota_q1.share" = [0.15, 0.40]
    "behaviour.beta_poverty" = [1.0, 5.0]

    [sensitivity.outcomes]
    indicators = ["dissimilarity_q1_by_neighbourhoods", "q1_share_leases_outside_qpv"]
    years = [10]              # outcomes "indicator@10"
    window = [6, 10]          # and "indicator@6-10", the mean over years 6-10 ([[a, b], ...]
                              # for several windows; without `years`, windows only)

Outputs: ``indices.csv`` (one row per outcome and parameter, with the noise share, a verdict
per index — ``signal``, ``uncertain`` or ``noise-dominated`` — and whether it converged),
``noise.csv`` (the replicate noise of each outcome and its share of the output variance),
``second_order.csv`` when asked, ``convergence.csv``, one bar chart per outcome (PNG and SVG)
with confidence intervals, and the resolved specification ``sensitivity.toml``. With
``--pilot`` the command runs only a short pilot and writes ``pilot.csv``: for each outcome the
replicates (or the scale) that bring its noise share under ``noise_threshold``
(docs/sensitivity.md, "Noise"). Every model evaluation is saved in
``evaluations/`` as it finishes: rerunning the same command on the same ``--out`` resumes an
interrupted analysis (``--force`` discards the evaluations of another specification).

A failed or undefined (NaN) evaluation does not stop the analysis: like the experiment runner's
failed runs, it is recorded in ``failed.csv`` (sample row, replicate, outcome, error, traceback,
parameter values), the indices use the design's complete blocks only and say so (columns
``n_missing`` and ``n_used`` of ``indices.csv``), the command exits with code 1 and rerunning it
retries the failed points only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixsim.experiments.outdir import FolderLayout, ResultFolder, fingerprint_of
from mixsim.model.config import Scenario, from_dict, iter_parameters, read_toml, to_toml
from mixsim.model.errors import InputError
from mixsim.model.ranges import parse_range

METHODS = ("sobol", "morris")
SPEC_KEYS = ("method", "n", "seed", "replicates", "second_order", "convergence", "num_levels",
             "parameters", "outcomes", "noise_replicates", "noise_points", "noise_threshold",
             "convergence_tol", "pilot_n", "spin_up")
SPIN_UPS = ("point", "base")
OUTCOME_KEYS = ("indicators", "years", "window")


@dataclass(frozen=True)
class SensitivitySpec:
    """A validated sensitivity specification."""

    scenario: Scenario
    method: str
    n: int
    seed: int
    replicates: int
    second_order: bool
    convergence: bool
    num_levels: int
    parameters: dict[str, tuple[float, float]]
    indicators: tuple[str, ...]
    years: tuple[int, ...]
    windows: tuple[tuple[int, int], ...] = ()
    noise_replicates: int = 4
    noise_points: int = 0
    noise_threshold: float = 0.1
    convergence_tol: float = 0.05
    pilot_n: int = 8
    spin_up: str = "point"

    def outcome_names(self) -> list[str]:
        """Return the outcomes in order: ``indicator@year``, then ``indicator@first-last``."""
        return [f"{name}@{y}" for name in self.indicators for y in self.years] + [
            f"{name}@{a}-{b}" for name in self.indicators for a, b in self.windows]


def load_spec(path: str | Path) -> SensitivitySpec:
    """Read and validate a sensitivity file (errors name the file and the field)."""
    path = Path(path)
    src = str(path)
    data = read_toml(path)
    sens = data.pop("sensitivity", None)
    if not isinstance(sens, dict):
        raise InputError("missing [sensitivity] table", source=src, field="sensitivity")
    scenario = from_dict(Scenario, data, source=src)
    unknown = [k for k in sens if k not in SPEC_KEYS]
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; allowed: {', '.join(SPEC_KEYS)}",
                         source=src, field=f"sensitivity.{unknown[0]}")
    method = sens.get("method", "sobol")
    if method not in METHODS:
        raise InputError(f"got {method!r}; allowed: {', '.join(METHODS)}", source=src,
                         field="sensitivity.method")

    def whole(key: str, default: int, lo: int) -> int:
        v = sens.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InputError(f"got {v!r}; expected a whole number ≥ {lo}", source=src,
                             field=f"sensitivity.{key}")
        return v

    n = whole("n", 64 if method == "sobol" else 20, 1)
    if method == "sobol" and n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise InputError(f"got {n}; Sobol' needs a power of two (nearest: {lo} or {2 * lo})",
                         source=src, field="sensitivity.n")
    flags = {}
    for key, default in (("second_order", False), ("convergence", True)):
        v = sens.get(key, default)
        if not isinstance(v, bool):
            raise InputError(f"got {v!r}; expected true or false", source=src,
                             field=f"sensitivity.{key}")
        flags[key] = v
    params = sens.get("parameters")
    if not isinstance(params, dict) or not params:
        raise InputError("expected a table of 'dotted.name' = [low, high]", source=src,
                         field="sensitivity.parameters")
    known = {name: f for name, f, _ in iter_parameters(Scenario())}
    ranges: dict[str, tuple[float, float]] = {}
    for name, rng in params.items():
        where = f"sensitivity.parameters.{name}"
        if name not in known:
            import difflib
            hint = difflib.get_close_matches(name, list(known), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"unknown parameter{extra}", source=src, field=where)
        f = known[name]
        if f.type not in (int, float):
            raise InputError(f"is not numeric ({f.type.__name__}); only numeric levers and "
                             "parameters can vary in a sensitivity analysis", source=src,
                             field=where)
        ranges[name] = parse_range(rng, source=src, field=where, kind=f.type.__name__,
                                   allowed=(f.metadata.get("lo"), f.metadata.get("hi"))
                                   ).as_tuple()
    outs = sens.get("outcomes", {})
    inds = outs.get("indicators") if isinstance(outs, dict) else None
    if not isinstance(inds, list) or not inds or not all(isinstance(x, str) for x in inds):
        raise InputError("expected a non-empty list of indicator names", source=src,
                         field="sensitivity.outcomes.indicators")
    unknown = [k for k in outs if k not in OUTCOME_KEYS]
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; allowed: {', '.join(OUTCOME_KEYS)}",
                         source=src, field=f"sensitivity.outcomes.{unknown[0]}")
    from mixsim.experiments.spec import known_indicators
    available = sorted(known_indicators().get("epci", ()))
    for name in inds:
        if name not in available:
            import difflib
            hint = difflib.get_close_matches(name, available, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"unknown indicator {name!r}{extra}; the outcomes are EPCI "
                             "indicators, listed in `docs/indicators.md`", source=src,
                             field="sensitivity.outcomes.indicators")
    windows = _windows(outs.get("window"), scenario.years, src)
    years = outs.get("years", [] if windows else [scenario.years])
    if (not isinstance(years, list) or (not years and not windows)
            or not all(isinstance(y, int) and not isinstance(y, bool)
                       and 1 <= y <= scenario.years for y in years)):
        raise InputError(f"got {years!r}; expected years between 1 and {scenario.years}",
                         source=src, field="sensitivity.outcomes.years")
    noise_replicates = whole("noise_replicates", 4, 2)
    noise_points = whole("noise_points", 0, 0)
    pilot_n = whole("pilot_n", 8, 1)
    if method == "sobol" and pilot_n & (pilot_n - 1):
        raise InputError(f"got {pilot_n}; Sobol' needs a power of two", source=src,
                         field="sensitivity.pilot_n")
    share = {}
    for key, default, hi in (("noise_threshold", 0.1, 1.0), ("convergence_tol", 0.05, None)):
        v = sens.get(key, default)
        if (isinstance(v, bool) or not isinstance(v, int | float) or not v > 0
                or (hi is not None and not v < hi)):
            allowed = "a number strictly between 0 and 1" if hi else "a number > 0"
            raise InputError(f"got {v!r}; expected {allowed}", source=src,
                             field=f"sensitivity.{key}")
        share[key] = float(v)
    spin_up = sens.get("spin_up", "point")
    if spin_up not in SPIN_UPS:
        raise InputError(f"got {spin_up!r}; allowed: {', '.join(map(repr, SPIN_UPS))} (each "
                         "point from its own behaviour's spun-up state, or every point from the "
                         "base scenario's)", source=src, field="sensitivity.spin_up")
    return SensitivitySpec(scenario=scenario, method=method, n=n,
                           seed=whole("seed", 0, 0), replicates=whole("replicates", 1, 1),
                           second_order=flags["second_order"], convergence=flags["convergence"],
                           num_levels=whole("num_levels", 4, 2), parameters=ranges,
                           indicators=tuple(inds), years=tuple(years), windows=windows,
                           noise_replicates=noise_replicates, noise_points=noise_points,
                           noise_threshold=share["noise_threshold"],
                           convergence_tol=share["convergence_tol"], pilot_n=pilot_n,
                           spin_up=spin_up)


def _windows(value: Any, horizon: int, src: str) -> tuple[tuple[int, int], ...]:
    """``window = [first, last]`` or a list of such pairs: year windows whose mean is an outcome."""
    if value is None:
        return ()
    field = "sensitivity.outcomes.window"
    pairs = value if isinstance(value, list) and value and isinstance(value[0], list) else [value]
    out = []
    for pair in pairs:
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(y, int) and not isinstance(y, bool) for y in pair)):
            raise InputError(f"got {value!r}; expected [first, last] years (or a list of them)",
                             source=src, field=field)
        a, b = pair
        if not 1 <= a <= b <= horizon:
            raise InputError(f"window [{a}, {b}] must satisfy 1 ≤ first ≤ last ≤ {horizon} "
                             "(the horizon)", source=src, field=field)
        out.append((a, b))
    if len(set(out)) != len(out):
        raise InputError(f"got {value!r}: a window is repeated", source=src, field=field)
    return tuple(out)


def to_identifier(name: str) -> str:
    """Dotted parameter name as a Python identifier (the sensitivity core passes keywords)."""
    return name.replace(".", "__")


def from_identifier(name: str) -> str:
    """Inverse of :func:`to_identifier`."""
    return name.replace("__", ".")


class MixsimOutcomes:
    """Picklable model function for :func:`mixsim.experiments.sensitivity.analyze`.

    ``MixsimOutcomes(spec)(replicate=r, **params)`` runs the base scenario with the parameters
    overridden, on replicate seed ``r`` spawned from the specification's seed (the same seeds at
    every sample point: common random numbers), and returns ``{"indicator@year": value}``.

    With ``spin_up = "point"`` (the default) each point's run starts from the spun-up state of
    its own behaviour: a behaviour parameter acts on the territory's past as well as on its
    future. With ``"base"`` every point starts from the base scenario's spun-up state (today's
    territory, one state for the whole analysis) and behaviour parameters act from year 0, as
    levers do: the analysis asks what drives the projection from today's state.
    """

    def __init__(self, spec: SensitivitySpec):
        self.base = spec.scenario.to_dict()
        self.spin_up_behaviour = spec.scenario.behaviour if spec.spin_up == "base" else None
        self.seed = spec.seed
        self.indicators = spec.indicators
        self.years = spec.years
        self.windows = spec.windows
        self.record = sorted(set(spec.years).union(*(range(a, b + 1) for a, b in spec.windows)))
        self.ints = {name for name, f, _ in iter_parameters(Scenario()) if f.type is int}

    def __call__(self, replicate: int = 0, **params: float) -> dict[str, float]:
        """Run one replicate at one parameter point; return the outcomes."""
        from mixsim.model import run_indicators
        params = {from_identifier(k): v for k, v in params.items()}
        values = {k: (int(round(v)) if k in self.ints else float(v)) for k, v in params.items()}
        scenario = from_dict(Scenario, self.base).with_overrides(values)
        seq = np.random.SeedSequence(self.seed, spawn_key=(int(replicate),))
        values = run_indicators(scenario, seed=seq, record_years=self.record,
                                spin_up_behaviour=self.spin_up_behaviour)
        names = {name for _, name in values}
        out = {}
        for name in self.indicators:
            if name not in names:
                raise KeyError(f"the model has no EPCI indicator {name!r}")
            for y in self.years:
                out[f"{name}@{y}"] = float(values.get((y, name), np.nan))
        for name in self.indicators:
            for a, b in self.windows:
                # the mean over the window's years (NaN if a year has no value)
                out[f"{name}@{a}-{b}"] = float(np.mean(
                    [values.get((y, name), np.nan) for y in range(a, b + 1)]))
        return out


EVALUATIONS = "evaluations"
#: Subfolder of ``evaluations/`` holding the single-replicate runs of the noise estimate.
NOISE_EVALUATIONS = "noise"


def noise_points(spec: SensitivitySpec) -> list[dict[str, float]]:
    """Points of the noise estimate: the base point, then ``noise_points`` random design points.

    The base point is the scenario's own value of every parameter; the others are uniform in the
    ranges, drawn from the specification's seed (the same points on every run).
    """
    current = {name: value for name, _, value in iter_parameters(spec.scenario)}
    base = {to_identifier(k): float(current[k]) for k in spec.parameters}
    rng = np.random.default_rng([spec.seed, 0x6E6F697365])  # "noise": a stream of its own
    lows = np.array([lo for lo, _ in spec.parameters.values()])
    highs = np.array([hi for _, hi in spec.parameters.values()])
    others = [dict(zip(base, rng.uniform(lows, highs).tolist(), strict=True))
              for _ in range(spec.noise_points)]
    return [base, *others]


#: The sensitivity folder (experiments/outdir.py): ``evaluations/`` holds its results;
#: ``--force`` discards them when they belong to another specification.
LAYOUT = FolderLayout(
    kind="sensitivity", results=(EVALUATIONS,), outputs=(EVALUATIONS,), noun="evaluations",
    different="holds the evaluations of another specification ({changes}); choose another "
              "--out, or pass --force to discard them")

#: Keys that do not change what a saved evaluation holds (a saved point is matched by its
#: parameter values): changing them on the same ``--out`` reuses the evaluations.
ANALYSIS_ONLY_KEYS = ("n", "convergence", "noise_replicates", "noise_points", "noise_threshold",
                      "convergence_tol", "pilot_n")


def _evaluation_key(text: str) -> dict[str, Any] | None:
    """Return the part of a resolved specification that decides the saved evaluations."""
    import tomllib
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    for key in ANALYSIS_ONLY_KEYS:
        d.get("sensitivity", {}).pop(key, None)
    return d


def _read_marker(path: Path) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
    """Read ``sensitivity.toml`` as a marker: its identity is its :func:`_evaluation_key`."""
    try:
        key = _evaluation_key(path.read_text(encoding="utf-8"))
    except OSError:
        key = None
    if key is None:
        return {}, None, {}
    return key, fingerprint_of(key), key


def _prepare_out(spec: SensitivitySpec, out: Path, force: bool) -> Path:
    """Check ``out`` against the specification, write ``sensitivity.toml``; return the cache."""
    from .common import write_atomic
    text = _spec_toml(spec)
    key = _evaluation_key(text) or {}
    folder = ResultFolder(out, LAYOUT, fingerprint=fingerprint_of(key), identity=key,
                          read=_read_marker)
    folder.check(force)
    if force and not folder.matches():
        folder.clear()
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "sensitivity.toml", lambda p: p.write_text(text))
    return out / EVALUATIONS


def _noise(spec: SensitivitySpec, model_fn: MixsimOutcomes, cache: Path, jobs: int
           ) -> pd.DataFrame:
    """Estimate the replicate noise of every outcome at the base point (and noise_points more)."""
    from .sensitivity import noise_estimate
    return noise_estimate(model_fn, noise_points(spec), replicates=spec.noise_replicates,
                          outcomes=spec.outcome_names(), n_jobs=jobs,
                          cache=cache / NOISE_EVALUATIONS)


#: The failed or undefined evaluations of the last call (absent when there are none).
FAILED = "failed.csv"


def run_sensitivity(spec: SensitivitySpec, out: Path, *, jobs: int = 1,
                    progress: bool = True, force: bool = False) -> dict[str, Any]:
    """Run the analysis and write tables and charts into ``out``; return the frames.

    Every finished model evaluation is saved in ``out/evaluations/``: run again on the same
    ``out``, the analysis reuses them and runs only the rest (an interrupted analysis resumes;
    the 2n design of the convergence check reuses the n design's points). A folder holding the
    evaluations of another specification is refused unless ``force``, which discards them.
    Failed or undefined evaluations are recorded (``failures`` in the result, ``failed.csv``)
    and the indices use the complete blocks of the design (see the module docstring).
    ``out`` is locked for the whole call (:class:`~experiments.outdir.OutDir`).
    """
    from mixsim.model.api import cached_territory

    from .limits import check_memory, resolve_jobs
    from .outdir import OutDir, check_out_dir

    out = Path(out)
    check_out_dir(out, kind="sensitivity")
    jobs = resolve_jobs(jobs)
    territory = cached_territory(spec.scenario.territory.source, spec.scenario.territory.scale)
    check_memory(territory.n_households, jobs, source="territory.scale")
    with OutDir(out, "sensitivity", kind="sensitivity"):
        return _run_held(spec, out, jobs=jobs, progress=progress, force=force)


def _run_held(spec: SensitivitySpec, out: Path, *, jobs: int, progress: bool, force: bool
              ) -> dict[str, Any]:
    """:func:`run_sensitivity` once its inputs are checked and ``out`` is locked."""
    from .common import progress_bar, write_atomic
    from .sensitivity import (
        analyze,
        convergence_verdict,
        noise_shares,
        plot_indices,
        second_order_indices,
        verdicts,
    )

    model_fn = MixsimOutcomes(spec)
    params = {to_identifier(k): v for k, v in spec.parameters.items()}
    opts = dict(method=spec.method, seed=spec.seed, n_jobs=jobs, replicates=spec.replicates,
                second_order=spec.second_order, num_levels=spec.num_levels,
                outcomes=spec.outcome_names())
    cache = _prepare_out(spec, out, force)
    if spec.method == "sobol":
        per_point = 2 * len(spec.parameters) + 2 if spec.second_order else len(spec.parameters) + 2
    else:
        per_point = len(spec.parameters) + 1
    # the 2n design of the convergence check extends the n design: n × per_point points more
    total = spec.n * per_point * (2 if spec.convergence and spec.method == "sobol" else 1)
    failures: list[dict[str, Any]] = []
    with progress_bar(total, "model evaluations", unit="point") as bar:
        last = [0]

        def tick(done: int, tot: int) -> None:
            if done < last[0]:  # a new design (the 2n one): its first points were counted
                last[0] = 0
            bar.update(done - last[0])
            last[0] = done

        tick = tick if progress else None
        df = analyze(model_fn, params, n=spec.n, progress=tick, cache=cache, failures=failures,
                     **opts)
        conv = None
        if spec.convergence and spec.method == "sobol":
            # the 2n design extends the n design (same seed): compare the indices; its failures
            # include the n design's again (failed points are not saved, so they are retried)
            df_n, failures = df, []
            df = analyze(model_fn, params, n=2 * spec.n, progress=tick, cache=cache,
                         failures=failures, **opts)
            conv = convergence_verdict(convergence_table(df_n, df), spec.convergence_tol)
    noise = _noise(spec, model_fn, cache, jobs)
    shares = noise_shares(noise, df.attrs["output_variance"], spec.replicates)
    noise = noise.assign(
        output_variance=noise["outcome"].map(df.attrs["output_variance"]),
        design_replicates=spec.replicates, noise_share=noise["outcome"].map(shares))
    if spec.method == "sobol":
        df = verdicts(df, shares)
    else:  # Morris: the noise share is reported, no verdict rule (docs/sensitivity.md)
        df = df.assign(noise_share=df["outcome"].map(shares))
    if conv is not None:
        ok = conv.groupby(["outcome", "parameter"], sort=False)["converged"].all()
        df["converged"] = [bool(ok[(o, p)]) for o, p in zip(df.outcome, df.parameter,
                                                             strict=True)]
    df["parameter"] = df["parameter"].map(from_identifier)
    if conv is not None:
        conv["parameter"] = conv["parameter"].map(from_identifier)
    write_atomic(out / "indices.csv", lambda p: df.to_csv(p, index=False))
    write_atomic(out / "noise.csv", lambda p: noise.to_csv(p, index=False))
    failed = pd.DataFrame(failures)
    if len(failed):
        failed = failed.rename(columns=from_identifier).sort_values("row", kind="stable")
        write_atomic(out / FAILED, lambda p: failed.to_csv(p, index=False))
    else:
        (out / FAILED).unlink(missing_ok=True)  # left by an earlier call
    if spec.second_order and spec.method == "sobol":
        s2 = second_order_indices(df)
        for c in ("parameter_1", "parameter_2"):
            s2[c] = s2[c].map(from_identifier)
        write_atomic(out / "second_order.csv", lambda p: s2.to_csv(p, index=False))
    if conv is not None:
        write_atomic(out / "convergence.csv", lambda p: conv.to_csv(p, index=False))
    for outcome in df["outcome"].unique():
        fig = plot_indices(df, outcome)
        stem = outcome.replace("@", "_year")
        for ext in ("png", "svg"):
            write_atomic(out / f"indices_{stem}.{ext}",
                         lambda p, f=fig, e=ext: f.savefig(p, format=e, bbox_inches="tight"))
    return {"indices": df, "convergence": conv, "noise": noise, "failed": failed}


def run_pilot(spec: SensitivitySpec, out: Path, *, jobs: int = 1, progress: bool = True,
              force: bool = False) -> pd.DataFrame:
    """Short pilot: the noise at the base point and a small design; write ``pilot.csv``.

    The base point (and ``noise_points`` others) runs on ``noise_replicates`` replicates, a
    design of ``pilot_n`` base points on ``replicates`` replicates; from them
    :func:`mixsim.experiments.sensitivity.pilot_guidance` computes, for each outcome, the
    replicates (and the scale) that bring its noise share under ``noise_threshold``. The pilot's
    evaluations are saved in ``out/evaluations`` like the analysis's, and its design is the
    leading part of the analysis's (same seed): a full run on the same ``out`` reuses them.
    """
    from .outdir import OutDir, check_out_dir

    out = Path(out)
    check_out_dir(out, kind="sensitivity")
    with OutDir(out, "sensitivity", kind="sensitivity"):
        return _pilot_held(spec, out, jobs=jobs, progress=progress, force=force)


def _pilot_held(spec: SensitivitySpec, out: Path, *, jobs: int, progress: bool, force: bool
                ) -> pd.DataFrame:
    """:func:`run_pilot` once ``out`` is locked."""
    from .common import progress_bar, write_atomic
    from .sensitivity import analyze, pilot_guidance

    model_fn = MixsimOutcomes(spec)
    params = {to_identifier(k): v for k, v in spec.parameters.items()}
    cache = _prepare_out(spec, out, force)
    per_point = len(spec.parameters) + (2 if spec.method == "sobol" else 1)
    with progress_bar(spec.pilot_n * per_point, "pilot evaluations", unit="point") as bar:
        def tick(done: int, tot: int) -> None:
            bar.n = done
            bar.refresh()
        df = analyze(model_fn, params, method=spec.method, n=spec.pilot_n, seed=spec.seed,
                     n_jobs=jobs, replicates=spec.replicates, num_levels=spec.num_levels,
                     outcomes=spec.outcome_names(), cache=cache,
                     progress=tick if progress else None)
    noise = _noise(spec, model_fn, cache, jobs)
    table = pilot_guidance(noise, df.attrs["output_variance"], replicates=spec.replicates,
                           threshold=spec.noise_threshold, scale=spec.scenario.territory.scale)
    table.insert(1, "noise_replicates", spec.noise_replicates)
    table.insert(2, "noise_points", 1 + spec.noise_points)
    table.insert(3, "design_points", df.attrs["n_points"])
    table.insert(4, "replicates", spec.replicates)
    table.insert(5, "scale", spec.scenario.territory.scale)
    write_atomic(out / "pilot.csv", lambda p: table.to_csv(p, index=False))
    return table


def convergence_table(at_n: pd.DataFrame, at_2n: pd.DataFrame) -> pd.DataFrame:
    """Put the indices at n and 2n side by side, with their absolute difference."""
    keys = ["outcome", "parameter"]
    rows = []
    for idx in ("S1", "ST"):
        m = at_n[keys + [idx]].merge(at_2n[keys + [idx, f"{idx}_conf"]], on=keys,
                                     suffixes=("_n", "_2n"))
        rows.append(pd.DataFrame({"outcome": m.outcome, "parameter": m.parameter, "index": idx,
                                  "at_n": m[f"{idx}_n"], "at_2n": m[f"{idx}_2n"],
                                  "abs_diff": (m[f"{idx}_n"] - m[f"{idx}_2n"]).abs(),
                                  "conf_2n": m[f"{idx}_conf"]}))
    return pd.concat(rows, ignore_index=True)


def _spec_toml(spec: SensitivitySpec) -> str:
    d = spec.scenario.to_dict()
    d["sensitivity"] = {
        "method": spec.method, "n": spec.n, "seed": spec.seed, "replicates": spec.replicates,
        "second_order": spec.second_order, "convergence": spec.convergence,
        "num_levels": spec.num_levels,
        "parameters": {k: list(v) for k, v in spec.parameters.items()},
        "outcomes": {"indicators": list(spec.indicators), "years": list(spec.years)},
        "noise_replicates": spec.noise_replicates, "noise_points": spec.noise_points,
        "noise_threshold": spec.noise_threshold, "convergence_tol": spec.convergence_tol,
        "pilot_n": spec.pilot_n,
    }
    if spec.windows:
        d["sensitivity"]["outcomes"]["window"] = [list(w) for w in spec.windows]
    if spec.spin_up != "point":  # (absent from folders written before the option existed)
        d["sensitivity"]["spin_up"] = spec.spin_up
    return to_toml(d) + "\n"
