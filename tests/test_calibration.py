"""Calibration (docs/calibration.md): targets files, moments and distance, MSM and ABC recovery,
the CLI.

Recovery tests calibrate against targets the model itself generated at known parameters. They
run a 4 % default territory for 2 years (about 0.3 s a run) so the file stays near a minute.
"""

from __future__ import annotations

import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixsim.calibration.abc import calibrate_abc, design
from mixsim.calibration.distance import (
    PointEvaluator,
    Problem,
    distance,
    distances,
    fit_table,
    replicate_moments,
    replicate_table,
)
from mixsim.calibration.msm import calibrate_msm, de_settings
from mixsim.calibration.targets import (
    CalibrationTargets,
    Target,
    default_targets,
    load_targets,
    parse_targets,
)
from mixsim.experiments.cli import main
from mixsim.model import InputError, Scenario, load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "calibration" / "example_data"

# --- the recovery set-up ------------------------------------------------------------------------
# Two parameters, each driving one target: apply_rate the applicants per allocation, accept_base
# the refusals per offer. Truth in the middle of the box; burn-in 0 so both simulated years count.
TRUTH = {"behaviour.apply_rate": 0.15, "behaviour.accept_base": 0.5}
BOX = {"behaviour.apply_rate": [0.05, 0.30], "behaviour.accept_base": [-1.0, 2.5]}
# Tolerances: scale 0.1 and 4 years, where one run's applicants per allocation vary by about
# 0.6 between seeds and its refusals per offer by about 0.025 (2026-12-03, evening defaults,
# seeds of SeedSequence(7): 6.46 and 5.73, 0.615 and 0.590 at the truth). At scale 0.08 they
# were not monotone in apply_rate (10.3 at 0.20, 9.0 at 0.30: a few small neighbourhoods tip),
# so the distance did not grow away from the truth. Refusals move only −0.06 per unit of
# accept_base since advertised dwellings collect none, so their tolerance is the tighter one:
# with 0.04 the distance followed the noise of applicants per allocation and ABC's interval on
# accept_base was 0.7 of its box.
TOLS = {"applicants_per_allocation": 1.0, "refusal_rate": 0.02}


def recovery_targets(values) -> CalibrationTargets:
    return parse_targets({
        "burn_in": 0,
        "targets": {n: {"value": float(v), "tolerance": TOLS[n], "source": "the model itself"}
                    for n, v in zip(TOLS, values, strict=True)},
        "parameters": BOX}, source="recovery")


def recovery_problem(values, *, replicates: int, seed: int) -> Problem:
    scenario = Scenario(years=4).with_overrides({"territory.scale": 0.1})
    return Problem(scenario, recovery_targets(values), replicates=replicates, seed=seed)


@pytest.fixture(scope="module")
def observed() -> np.ndarray:
    """Targets generated at the truth: mean of 6 runs on seeds unrelated to the calibration's."""
    gen = recovery_problem([1.0, 1.0], replicates=6, seed=99)
    return np.nanmean(replicate_table(gen, TRUTH), axis=0)


# --- targets files ------------------------------------------------------------------------------


FITTED = ("turnover", "vacancy", "applicants_per_allocation", "transfer_share", "mean_wait_days",
          "q1_share_leases_outside_qpv", "refusing_applicant_share", "vacancy_over_3_months",
          "mean_wait_days_pending", "poverty_rate_qpv", "poverty_rate", "one_person_share",
          "deaths_per_1000")


def test_default_targets_are_the_spec_table():
    t = default_targets()
    values = {x.name: x.value for x in t.targets}
    assert {k: values[k] for k in FITTED} == {
        "turnover": 0.088, "vacancy": 0.024, "applicants_per_allocation": 4.3,
        "transfer_share": 0.30, "mean_wait_days": 520.0, "q1_share_leases_outside_qpv": 0.155,
        "refusing_applicant_share": 0.46, "vacancy_over_3_months": 0.013,
        "mean_wait_days_pending": 721.0, "poverty_rate_qpv": 0.432, "poverty_rate": 0.146,
        "one_person_share": 0.36, "deaths_per_1000": 9.4}
    # the demography and the size structure are reported, not fitted (weight 0), except the
    # one-person share and the death rate, which leave_rate drives
    assert {x.name for x in t.targets if x.weight == 0} == set(values) - set(FITTED)
    assert values["turnover_t1"] > values["turnover"] > values["turnover_t5"]
    assert all(x.source and x.tolerance > 0 and x.indicator == x.name for x in t.targets)
    # the source's count (an applicant refusing twice counts once), hence weight 1
    assert "refusal_rate" not in values and t["refusing_applicant_share"].weight == 1.0
    assert t["vacancy"].weight == 1.0  # fitted since the re-letting delay (docs/calibration.md)
    assert pickle.loads(pickle.dumps(t)) == t  # joblib workers receive it
    assert t.burn_in == 1 and set(t.parameters) == {
        "behaviour.apply_rate", "behaviour.accept_base", "behaviour.commission_solvency",
        "behaviour.transfer_rate", "behaviour.upward_exit_rate", "behaviour.leave_rate",
        "behaviour.accept_attractiveness"}
    defaults = Scenario().behaviour
    for name, (lo, hi) in t.parameters.items():  # today's defaults lie inside the boxes
        assert lo < getattr(defaults, name.split(".")[1]) < hi


def test_example_targets_load_with_default_boxes():
    t = load_targets(EXAMPLE)  # a folder: its targets.toml
    assert t.names == default_targets().names
    assert t.parameters == default_targets().parameters and t.source.endswith("targets.toml")


GOOD = """
[targets.turnover]
value = 0.09
tolerance = 0.01
source = "here"
"""


@pytest.mark.parametrize("text, field, words", [
    (GOOD.replace("[targets.turnover]", "[targets.turnovr]"), "targets.turnovr",
     "did you mean 'turnover'"),
    (GOOD + 'indicator = "vacancyy"\n', "targets.turnover.indicator", "did you mean 'vacancy'"),
    (GOOD.replace("tolerance = 0.01", "tolerance = 0"), "targets.turnover.tolerance", "> 0"),
    (GOOD.replace("tolerance = 0.01", "tolerance = -1"), "targets.turnover.tolerance", "> 0"),
    (GOOD.replace("tolerance = 0.01", 'tolerance = "1"'), "targets.turnover.tolerance",
     "number"),
    (GOOD.replace('source = "here"', ""), "targets.turnover.source", "missing"),
    (GOOD + "toleranse = 2\n", "targets.turnover.toleranse", "did you mean 'tolerance'"),
    (GOOD + "years = [0, 1]\n", "targets.turnover.years", "≥ 1"),
    (GOOD + "weight = -1\n", "targets.turnover.weight", "≥ 0"),
    ("burnin = 1\n" + GOOD, "burnin", "did you mean 'burn_in'"),
    (GOOD + '[parameters]\n"behaviour.aply_rate" = [0.1, 0.2]\n', "parameters.behaviour.aply_rate",
     "did you mean 'behaviour.apply_rate'"),
    (GOOD + '[parameters]\n"levers.quota_q1.share" = [0.1, 0.2]\n',
     "parameters.levers.quota_q1.share", "only behaviour parameters"),
    (GOOD + '[parameters]\n"behaviour.apply_rate" = [0.2, 0.1]\n',
     "parameters.behaviour.apply_rate", "below"),
    (GOOD + '[parameters]\n"behaviour.apply_rate" = [0.1, 2.0]\n',
     "parameters.behaviour.apply_rate", "allowed range"),
    ("[targets]\n", "targets", "one [targets.<name>] table"),
    ("x = [", None, "not valid TOML"),
])
def test_bad_targets_file_names_file_and_field(tmp_path, text, field, words):
    f = tmp_path / "targets.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_targets(f)
    assert err.value.source == str(f)
    assert err.value.field == field
    assert words in str(err.value)


def test_missing_targets_file(tmp_path):
    with pytest.raises(InputError, match="targets.toml"):
        load_targets(tmp_path)


# --- moments and distance -----------------------------------------------------------------------


def test_moments_average_years_after_burn_in_skipping_undefined():
    yearly = pd.DataFrame({"turnover": [np.nan, 0.5, 0.1, 0.2, np.nan],
                           "vacancy": [np.nan, 0.9, np.nan, np.nan, np.nan]},
                          index=pd.Index(range(5), name="year"))
    t = CalibrationTargets(
        targets=(Target("turnover", 0.1, 0.05, "s", "turnover"),
                 Target("late", 0.1, 0.05, "s", "turnover", years=(4,)),
                 Target("vacancy", 0.02, 0.01, "s", "vacancy")),
        parameters={"behaviour.apply_rate": (0.1, 0.2)}, burn_in=1)
    m = replicate_moments(yearly, t, horizon=4)
    assert m[0] == pytest.approx((0.1 + 0.2) / 2)  # years 2-4, year 4 undefined
    assert math.isnan(m[1])  # year 4 only, undefined
    assert math.isnan(m[2])
    with pytest.raises(InputError, match="no year after the burn-in"):
        replicate_moments(yearly, t, horizon=1)


def test_distance_is_weighted_squared_misfit_in_tolerances():
    t = CalibrationTargets(
        targets=(Target("a", 1.0, 0.5, "s", "turnover"),
                 Target("b", 10.0, 2.0, "s", "vacancy", weight=0.5),
                 Target("c", 0.0, 1.0, "s", "vacancy", weight=0.0)),
        parameters={"behaviour.apply_rate": (0.1, 0.2)})
    # ((2 - 1) / 0.5)² + 0.5 ((4 - 10) / 2)² = 4 + 4.5; weight 0 ignored, even undefined
    assert distance([2.0, 4.0, np.nan], t) == pytest.approx(8.5)
    assert distance({"a": 1.0, "b": 10.0, "c": 5.0}, t) == 0.0
    assert distances(np.array([[np.nan, 10.0, 0.0]]), t)[0] == math.inf


@pytest.mark.slow
def test_distance_is_zero_at_truth_with_the_same_seeds_and_grows_away():
    gen = recovery_problem([1.0, 1.0], replicates=2, seed=7)
    obs = np.nanmean(replicate_table(gen, TRUTH), axis=0)  # in-process, one run per row
    problem = recovery_problem(obs, replicates=2, seed=7)  # same replicate seeds
    # two workers, two replicates per row: exactly 0 at the truth also shows that the results
    # do not depend on the number of workers nor on how replicates are grouped
    ev = PointEvaluator(problem, n_jobs=2, chunk_size=4)
    a0 = TRUTH["behaviour.apply_rate"]
    X = np.array([[a0, 0.5], [a0 + 0.05, 0.5], [a0 + 0.15, 0.5], [a0, 2.0]])
    d = ev.distances(X)
    assert d[0] == 0.0
    assert 0 < d[1] < d[2] and d[3] > 0
    assert ev.n_new == 4 and ev.n_reused == 0
    ev.distances(X[:2])  # cached: no model run
    assert ev.n_new == 4 and ev.n_reused == 2
    assert len(ev.table()) == 4 and list(ev.table()["point"]) == [0, 1, 2, 3]


def test_design_is_prefix_stable_and_inside_the_box():
    bounds = np.array([[0.0, 1.0], [-2.0, 3.0]])
    a = design(bounds, 8, 5)
    b = design(bounds, 16, 5)
    np.testing.assert_array_equal(a, b[:8])
    assert (b >= bounds[:, 0]).all() and (b <= bounds[:, 1]).all()


def test_de_settings_follow_the_budget():
    assert de_settings(30, 2) == (5, 10, 2)     # 10 members, 3 generations
    assert de_settings(300, 5) == (5, 25, 11)
    assert de_settings(20, 5) == (2, 10, 1)     # small budget: smaller population
    assert de_settings(40, 5)[:2] == de_settings(20, 5)[:2]  # same population: 40 extends 20
    with pytest.raises(InputError, match="at least"):
        de_settings(9, 5)


# --- recovery -----------------------------------------------------------------------------------
# Tolerances of recovery. The targets are a 6-run mean at the truth and each calibration point a
# 2-run mean on other seeds, so the moments differ by ≈ 0.82 of a run's sd at the truth even
# there. Through the local slopes (applicants per allocation +15 to +18 per unit of apply_rate
# at scale 0.1: 6.1, 7.0, 8.3 at 0.15, 0.20, 0.30; refusals per offer −0.06 per unit of
# accept_base) that is an sd of ≈ 0.03 on apply_rate and ≈ 0.34 on accept_base. We accept about
# 3 sd: 0.085 and 1.0 (a third and 0.29 of the boxes). Observed at scale 0.08 on the afternoon
# of 2026-12-03 with seeds 5, 6 and 8 and budget 48: MSM errors up to 0.066 and 0.58; ABC medians
# within 0.025 and 0.52, accept_base intervals 1.3–1.5 wide (the test asks < 1.75); both pass
# at scale 0.1 with seed 5 (evening defaults).
RECOVERY_TOL = {"behaviour.apply_rate": 0.085, "behaviour.accept_base": 1.0}


@pytest.mark.slow
def test_msm_recovers_known_parameters(observed):
    problem = recovery_problem(observed, replicates=2, seed=5)
    # a budget of 48 gives 10 members and 3 generations after the initial population; 24 points
    # stopped on a ridge where a higher apply_rate and fewer refusals give the same applicants
    # per allocation
    res = calibrate_msm(problem, budget=48)
    assert res.members == 10 and res.n_new + res.n_reused <= 48  # DE may repeat a point
    assert len(res.evaluations) == res.n_new
    for name, tol in RECOVERY_TOL.items():
        assert abs(res.point[name] - TRUTH[name]) < tol, (name, res.point)
    assert res.distance == res.evaluations["distance"].min()


@pytest.mark.slow
def test_abc_posterior_covers_known_parameters(observed):
    problem = recovery_problem(observed, replicates=2, seed=5)
    res = calibrate_abc(problem, budget=48, accept_fraction=0.25)
    assert len(res.posterior) == 12 and len(res.evaluations) == 48
    assert (res.posterior["distance"] <= res.threshold).all()
    assert res.posterior["distance"].is_monotonic_increasing
    summary = res.summary.set_index("parameter")
    for name, tol in RECOVERY_TOL.items():
        lo, hi = summary.loc[name, ["p05", "p95"]]
        assert lo <= TRUTH[name] <= hi, (name, lo, hi)
        assert abs(summary.loc[name, "p50"] - TRUTH[name]) < tol
    # accept_base is pinned down (90 % interval 1.3–1.5 of a 3.5 box; 12 points drawn at random
    # from the box would span about 0.76 of it); with 12 of 48 points kept and noisy applicants
    # per allocation, apply_rate's interval still spans most of its box
    lo, hi = summary.loc["behaviour.accept_base", ["p05", "p95"]]
    assert hi - lo < 0.5 * (BOX["behaviour.accept_base"][1] - BOX["behaviour.accept_base"][0])
    assert res.posterior["distance"].mean() < res.evaluations["distance"].mean()
    fit = fit_table(problem, res.point)
    assert list(fit["target"]) == list(TOLS) and fit["simulated"].notna().all()
    assert (fit["simulated_p05"] <= fit["simulated"]).all()
    assert (fit["simulated"] <= fit["simulated_p95"]).all()


def _searched(rows):
    return pd.DataFrame(rows, columns=["behaviour.apply_rate", "behaviour.accept_base",
                                       "distance"])


STABLE_BOX = {"behaviour.apply_rate": (0.05, 0.30), "behaviour.accept_base": (-1.0, 2.5)}
STABLE_NAMES = list(STABLE_BOX)


def test_confirmed_point_keeps_the_smallest_distance_on_fresh_runs():
    from mixsim.calibration.cli import confirmed_point
    table = _searched([[0.123456, 1.23456, 5.0],     # best searched, but its noise was lucky
                       [0.2, 0.5, math.inf],          # undefined target: never re-evaluated
                       [0.111111, 0.987654, 6.0],
                       [0.1234561, 1.234559, 5.1],    # rounds to the best point: not rerun
                       [0.09, 0.1, 9.0]])
    confirmed = {(0.1235, 1.235): 30.0, (0.1111, 0.9877): 9.5, (0.09, 0.1): 7.0}
    calls = []

    def distance_at(p):
        calls.append(tuple(p.values()))
        return confirmed[tuple(p.values())]

    point, tried = confirmed_point(table, STABLE_NAMES, STABLE_BOX, distance_at)
    # every distinct rounded point among the best is rerun, in search order; the smallest
    # confirmed distance wins, even from the last place of the search
    assert calls == [(0.1235, 1.235), (0.1111, 0.9877), (0.09, 0.1)]
    assert point == {"behaviour.apply_rate": 0.09, "behaviour.accept_base": 0.1}
    assert [t["kept"] for t in tried] == [False, False, True]
    assert tried[0]["search_distance"] == 5.0 and tried[0]["confirmed_distance"] == 30.0


def test_confirmed_point_limits_the_reruns_breaks_ties_and_stays_in_the_box():
    from mixsim.calibration.cli import confirmed_point
    table = _searched([[0.1, 0.2, 1.0], [0.2, 0.3, 2.0], [0.25, 0.4, 3.0]])
    point, tried = confirmed_point(table, STABLE_NAMES, STABLE_BOX, lambda p: 4.0, tries=2)
    assert len(tried) == 2  # the third point is beyond `tries`
    # equal confirmed distances: the first in search order
    assert point == {"behaviour.apply_rate": 0.1, "behaviour.accept_base": 0.2}
    edge = _searched([[0.300004, -1.00004, 1.0]])
    point, _ = confirmed_point(edge, STABLE_NAMES, STABLE_BOX, lambda p: 1.0)
    assert point == {"behaviour.apply_rate": 0.30, "behaviour.accept_base": -1.0}
    with pytest.raises(InputError, match="finite distance"):
        confirmed_point(_searched([[0.1, 0.2, math.inf]]), STABLE_NAMES, STABLE_BOX,
                        lambda p: 1.0)


def test_replicate_table_runs_the_replicate_seeds_asked_for():
    # the confirmation of MSM runs replicates the search did not use (calibration/cli.py)
    problem = Problem(Scenario(years=2).with_overrides({"territory.scale": 0.05}),
                      recovery_targets([5.0, 0.5]), replicates=2, seed=3)
    both = replicate_table(problem, TRUTH)
    second = replicate_table(problem, TRUTH, replicate_ids=[1])
    third = replicate_table(problem, TRUTH, replicate_ids=[2])
    assert np.array_equal(second, both[1:], equal_nan=True)
    assert not np.array_equal(third, both[1:], equal_nan=True)


# --- command line -------------------------------------------------------------------------------

QUICK = ["--replicates", "1", "--years", "2", "--scale", "0.5"]


@pytest.fixture
def frozen_code(monkeypatch):
    """Pin the model-code hash: an edit of model/ during the test must not refuse a rerun."""
    import mixsim.calibration.cli as cli
    monkeypatch.setattr(cli, "model_code_hash", lambda: "model under test")
    return cli


def _summary_counts(out: str) -> tuple[int, int]:
    m = re.search(r"(\d+) point\(s\) evaluated, (\d+) reused", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


@pytest.mark.slow
def test_cli_msm_on_example_data_writes_every_file(tmp_path, capsys, frozen_code):
    out = tmp_path / "cal"
    assert main(["calibrate", str(EXAMPLE), "--out", str(out), "--budget", "28", *QUICK]) == 0
    printed = capsys.readouterr().out
    assert _summary_counts(printed) == (28, 0)
    for name in ("calibrated.toml", "fit.csv", "fit.png", "fit.svg", "evaluations.parquet",
                 "calibration.json"):
        assert (out / name).is_file(), name
    assert (out / "fit.png").stat().st_size > 5000
    fit = pd.read_csv(out / "fit.csv")
    assert list(fit["target"]) == list(default_targets().names)
    assert {"observed", "simulated", "simulated_p05", "simulated_p95", "tolerance",
            "within_tolerance"} <= set(fit.columns)
    evals = pd.read_parquet(out / "evaluations.parquet")
    assert len(evals) == 28 and evals["distance"].notna().all()
    # the calibrated file is a scenario fragment that scenario files can include
    scen = tmp_path / "scenario.toml"
    scen.write_text('include = ["cal/calibrated.toml"]\nyears = 3\n', encoding="utf-8")
    loaded = load_scenario(scen)
    record = json.loads((out / "calibration.json").read_text())
    assert record["status"] == "done" and record["de"]["members"] == 14
    for name, value in record["calibrated"].items():
        assert getattr(loaded.behaviour, name.split(".")[1]) == value
    assert "mixsim calibrate" in record["command"]
    # a larger budget extends the run: the 28 points are reused, 14 more evaluated
    assert main(["calibrate", str(EXAMPLE), "--out", str(out), "--budget", "42", *QUICK]) == 0
    assert _summary_counts(capsys.readouterr().out) == (14, 28)
    again = pd.read_parquet(out / "evaluations.parquet")
    assert len(again) == 42
    pd.testing.assert_frame_equal(again.iloc[:28], evals)


@pytest.mark.slow
def test_cli_abc_resumes_after_an_interruption(tmp_path, capsys, monkeypatch, frozen_code):
    import mixsim.calibration.distance as dist
    calls = {"n": 0, "stop_at": 6}  # the first chunk of 4 points is stored, not the second
    original = dist.MomentModel.__call__

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == calls["stop_at"]:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(dist.MomentModel, "__call__", counting)
    out = tmp_path / "abc"
    args = ["calibrate", str(EXAMPLE), "--out", str(out), "--method", "abc",
            "--accept-fraction", "0.25", *QUICK]
    assert main([*args, "--budget", "8"]) == 130
    assert len(pd.read_parquet(out / "evaluations.parquet")) == 4
    assert not (out / "fit.csv").exists()
    calls.update(n=0, stop_at=-1)
    assert main([*args, "--budget", "8"]) == 0
    assert _summary_counts(capsys.readouterr().out) == (4, 4)
    assert calls["n"] == 4 + 1  # four points, then one run for the fit (1 replicate)
    first = pd.read_parquet(out / "evaluations.parquet")
    assert list(first["point"]) == list(range(8))
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 2 and (out / "posterior_summary.csv").is_file()
    calls["n"] = 0
    assert main([*args, "--budget", "16"]) == 0  # budget 2N: the first N points are reused
    assert _summary_counts(capsys.readouterr().out) == (8, 8)
    assert calls["n"] == 8 + 1
    evals = pd.read_parquet(out / "evaluations.parquet")
    pd.testing.assert_frame_equal(evals.iloc[:8], first)
    # a changed configuration is refused; --force discards the old files
    assert main([*args, "--budget", "16", "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "different calibration" in err and "seed" in err and "--force" in err
    monkeypatch.setattr(frozen_code, "model_code_hash", lambda: "another model")
    assert main([*args, "--budget", "16"]) == 2  # stored points of another model version
    assert "model_code" in capsys.readouterr().err
    calls["n"] = 0
    assert main([*args, "--budget", "2", "--seed", "1", "--force"]) == 0
    assert calls["n"] == 2 + 1
    assert len(pd.read_parquet(out / "evaluations.parquet")) == 2


@pytest.mark.parametrize("argv, words", [
    (["calibrate", "nowhere", "--out", "{tmp}/o"], "not a folder"),
    (["calibrate", "{tmp}", "--out", "{tmp}/o"], "targets.toml"),
    (["calibrate", "default", "--out", "{tmp}/o", "--budget", "5"], "too small"),
    (["calibrate", "default", "--out", "{tmp}/o", "--years", "1"], "burn-in"),
    (["calibrate", "default", "--out", "{tmp}/o", "--method", "abc", "--accept-fraction", "2"],
     "share"),
])
def test_cli_bad_input_exits_2_before_running(tmp_path, capsys, argv, words):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mixsim calibrate: error:") and words in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "evaluations.parquet").exists()


def test_model_code_hash_follows_the_model_files():
    from mixsim.calibration.cli import model_code_hash
    h = model_code_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", h) and model_code_hash() == h


def test_calibrated_file_holds_the_defaults():
    """One source of truth: calibration/default_calibrated.toml records the fit that *is*
    the defaults of Scenario(); a refit must update both."""
    import tomllib
    from pathlib import Path

    from mixsim.model.config import Behaviour
    path = Path(__file__).parent.parent / "calibration" / "default_calibrated.toml"
    values = tomllib.loads(path.read_text(encoding="utf-8"))["behaviour"]
    defaults = Behaviour()
    assert values and {k: getattr(defaults, k) for k in values} == values


def test_odd_quotes_the_calibrated_defaults():
    """docs/ODD.md quotes each calibrated parameter with its current value: a refit that forgets
    the model description fails here (it had kept apply_rate 0.10 and leave_rate 0.05)."""
    import tomllib

    root = Path(__file__).parent.parent
    path = root / "calibration" / "default_calibrated.toml"
    values = tomllib.loads(path.read_text(encoding="utf-8"))["behaviour"]
    odd = (root / "docs" / "ODD.md").read_text(encoding="utf-8")
    for name, value in values.items():
        quoted = re.findall(rf"`(?:behaviour\.)?{name}` \(([-0-9.]+)", odd)
        assert quoted, f"docs/ODD.md does not quote `{name}` (value …)"
        assert all(float(q) == value for q in quoted), (name, quoted, value)
