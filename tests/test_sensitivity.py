"""Tests of experiments.sensitivity against models with known indices."""

from __future__ import annotations

import io
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from numpy.testing import assert_allclose

from mixsim.experiments import sensitivity as sa
from mixsim.experiments.testfunctions import (
    LINEAR_WEIGHTS,
    WithNoise,
    ishigami,
    ishigami_indices,
    ishigami_variance,
    linear,
    linear_indices,
    linear_mu_star,
)

ISHIGAMI_BOUNDS = {name: (-math.pi, math.pi) for name in ("x1", "x2", "x3")}
LINEAR_BOUNDS = {name: (0.0, 1.0) for name in LINEAR_WEIGHTS}

# Tolerance of SALib's own Ishigami checks: tests/test_regression.py::test_regression_sobol and
# tests/test_sobol.py::test_parallel_second_order compare S1, ST and S2 with
# assert_allclose(..., atol=5e-2, rtol=1e-1) (SALib 1.4-1.6, N = 10000 and 8192 with
# calc_second_order=True). We use the same tolerance with N = 1024 (second order on) and a fixed
# seed; with this design the check passes for each of the seeds 0-99 (checked when written).
SALIB_ATOL = 5e-2
SALIB_RTOL = 1e-1


# Module-level models, so that they pickle for joblib workers. ---------------------------------


def cheap(a: float, b: float, c: float) -> dict[str, float]:
    return {"y": a * b + math.sin(c), "z": a + 2.0 * c}


def noisy_linear(x1: float, x2: float, replicate: int) -> dict[str, float]:
    """Linear signal plus noise that depends on the replicate only (common random numbers)."""
    noise = np.random.default_rng([12345, replicate]).normal(scale=10.0)
    return {"y": 2.0 * x1 + x2 + noise, "rep": float(replicate), "noise": noise}


def spy(x1: float, **extra: object) -> dict[str, float]:
    return {"y": x1, "got_replicate": float("replicate" in extra)}


def nan_at_large_x(x1: float, x2: float) -> dict[str, float]:
    return {"y": x1 + x2, "w": math.nan if x1 > 0.9 else x1}


def missing_at_large_x(x1: float, x2: float) -> dict[str, float]:
    return {"y": x1 + x2} if x1 > 0.9 else {"y": x1 + x2, "w": x1}


def constant(x1: float, x2: float) -> dict[str, float]:
    return {"y": 1.0 + x1, "k": 3.0}


# Analytic reference values. -------------------------------------------------------------------


def test_ishigami_analytic_indices_match_published_values():
    exact = ishigami_indices(7.0, 0.1)
    # Rounded values used as reference in SALib's tests (see SALIB_ATOL above).
    assert_allclose([exact.S1[k] for k in ("x1", "x2", "x3")], [0.31, 0.44, 0.00], atol=1e-2)
    assert_allclose([exact.ST[k] for k in ("x1", "x2", "x3")], [0.55, 0.44, 0.24], atol=1e-2)
    # Four-digit values, e.g. Marrel et al. (2009), Reliab. Eng. Syst. Saf. 94, 742-751.
    assert_allclose([exact.S1["x1"], exact.S1["x2"]], [0.3139, 0.4424], atol=1e-4)
    assert_allclose(
        [exact.ST["x1"], exact.ST["x3"], exact.S2[("x1", "x3")]],
        [0.5576, 0.2437, 0.2437],
        atol=1e-4,
    )
    # No higher-order terms: V = V1 + V2 + V13.
    assert sum(exact.S1.values()) + sum(exact.S2.values()) == pytest.approx(1.0)


def test_ishigami_function_values():
    assert ishigami(0.0, 0.0, 0.0)["y"] == 0.0
    assert ishigami(math.pi / 2, math.pi / 2, 1.0)["y"] == pytest.approx(1.0 + 7.0 + 0.1)


def test_linear_model_and_its_indices():
    assert linear(x1=1.0, x2=1.0, x3=1.0, x4=1.0)["y"] == pytest.approx(9.1)
    with pytest.raises(TypeError, match="x9"):
        linear(x9=1.0)
    exact = linear_indices(LINEAR_BOUNDS)
    assert sum(exact.S1.values()) == pytest.approx(1.0)
    assert exact.S1["x1"] == pytest.approx(25.0 / 35.01)


# Sobol'. --------------------------------------------------------------------------------------


def test_sobol_ishigami_matches_analytic_indices():
    df = sa.analyze(ishigami, ISHIGAMI_BOUNDS, method="sobol", n=1024, seed=2024, second_order=True)
    exact = ishigami_indices(7.0, 0.1)
    assert list(df.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert df["outcome"].tolist() == ["y"] * 3
    assert df["parameter"].tolist() == ["x1", "x2", "x3"]
    names = df["parameter"].tolist()
    assert_allclose(df["S1"], [exact.S1[k] for k in names], atol=SALIB_ATOL, rtol=SALIB_RTOL)
    assert_allclose(df["ST"], [exact.ST[k] for k in names], atol=SALIB_ATOL, rtol=SALIB_RTOL)
    assert (df[["S1_conf", "ST_conf"]] > 0).all().all()

    s2 = sa.second_order_indices(df)
    assert list(s2.columns) == ["outcome", "parameter_1", "parameter_2", "S2", "S2_conf"]
    pairs = list(zip(s2["parameter_1"], s2["parameter_2"], strict=True))
    assert pairs == [("x1", "x2"), ("x1", "x3"), ("x2", "x3")]
    assert_allclose(s2["S2"], [exact.S2[p] for p in pairs], atol=SALIB_ATOL, rtol=SALIB_RTOL)
    assert df.attrs["n_points"] == 1024 * (2 * 3 + 2)


def test_sobol_linear_first_order_design_and_attrs():
    df = sa.analyze(linear, LINEAR_BOUNDS, n=512, seed=5)
    exact = linear_indices(LINEAR_BOUNDS)
    assert_allclose(df["S1"], list(exact.S1.values()), atol=SALIB_ATOL, rtol=SALIB_RTOL)
    assert_allclose(df["ST"], list(exact.ST.values()), atol=SALIB_ATOL, rtol=SALIB_RTOL)
    assert df.attrs["method"] == "sobol"
    assert df.attrs["n"] == 512
    assert df.attrs["n_points"] == 512 * (4 + 2)
    assert df.attrs["seed_entropy"] == 5
    assert "second_order" not in df.attrs
    with pytest.raises(ValueError, match="second_order=True"):
        sa.second_order_indices(df)


def test_multiple_outcomes_order_and_selection():
    bounds = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (-1.0, 1.0)}
    df = sa.analyze(cheap, bounds, n=64, seed=1)
    assert df["outcome"].tolist() == ["y"] * 3 + ["z"] * 3
    only_z = sa.analyze(cheap, bounds, n=64, seed=1, outcomes=["z"])
    pd.testing.assert_frame_equal(only_z, df[df["outcome"] == "z"].reset_index(drop=True))
    # z = a + 2c, with a ~ U(0, 1) and c ~ U(-1, 1): b has no effect.
    assert abs(only_z.loc[only_z["parameter"] == "b", "ST"].item()) < 0.05


def test_constant_outcome_gives_zero_indices():
    df = sa.analyze(constant, {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}, n=32, seed=0)
    k = df[df["outcome"] == "k"]
    assert (k[["S1", "S1_conf", "ST", "ST_conf"]] == 0.0).all().all()


# Morris. --------------------------------------------------------------------------------------


def test_morris_linear_ranks_inputs_by_weight():
    df = sa.analyze(linear, LINEAR_BOUNDS, method="morris", n=20, num_levels=4, seed=11)
    assert list(df.columns) == ["outcome", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    ranking = df.sort_values("mu_star", ascending=False)["parameter"].tolist()
    assert ranking == ["x1", "x2", "x3", "x4"]  # weights 5, 3, 1, 0.1
    # For a linear model every elementary effect equals w_i (h_i - l_i), exactly.
    expected = linear_mu_star(LINEAR_BOUNDS)
    assert_allclose(df["mu_star"], [expected[k] for k in df["parameter"]], rtol=1e-9)
    assert_allclose(df["sigma"], 0.0, atol=1e-9)
    assert df.attrs["n_points"] == 20 * (4 + 1)


def test_morris_ranks_with_unequal_ranges():
    bounds = {"x1": (0.0, 0.1), "x2": (0.0, 1.0), "x3": (0.0, 2.0)}  # mu* = 0.5, 3, 2
    df = sa.analyze(linear, bounds, method="morris", n=10, seed=3)
    assert df.sort_values("mu_star", ascending=False)["parameter"].tolist() == ["x2", "x3", "x1"]


# Seeds and parallelism. ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("method,n", [("sobol", 128), ("morris", 30)])
def test_same_seed_same_indices_whatever_n_jobs(method, n):
    bounds = {"a": (0.0, 1.0), "b": (-1.0, 2.0), "c": (0.0, math.pi)}
    serial = sa.analyze(cheap, bounds, method=method, n=n, seed=42, n_jobs=1)
    parallel = sa.analyze(cheap, bounds, method=method, n=n, seed=42, n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    assert serial.attrs["seed_entropy"] == parallel.attrs["seed_entropy"] == 42
    other = sa.analyze(cheap, bounds, method=method, n=n, seed=43)
    assert not serial[serial.columns[2:]].equals(other[other.columns[2:]])


def test_seed_zero_is_a_seed_and_none_is_recorded():
    bounds = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}
    first = sa.analyze(cheap, bounds, n=32, seed=0)
    again = sa.analyze(cheap, bounds, n=32, seed=0)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert first.attrs["seed_entropy"] == 0

    fresh = sa.analyze(cheap, bounds, n=32, seed=None)
    replay = sa.analyze(cheap, bounds, n=32, seed=fresh.attrs["seed_entropy"])
    pd.testing.assert_frame_equal(fresh, replay, check_exact=True)


def test_seed_sequence_is_not_consumed():
    bounds = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}
    ss = np.random.SeedSequence(7, spawn_key=(3,))
    first = sa.analyze(cheap, bounds, n=32, seed=ss)
    second = sa.analyze(cheap, bounds, n=32, seed=ss)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    assert first.attrs["seed_spawn_key"] == (3,)


@pytest.mark.slow
def test_evaluate_is_in_sample_order_and_reports_progress():
    names = ["a", "b", "c"]
    X = np.random.default_rng(0).uniform(size=(37, 3))
    calls: list[tuple[int, int]] = []
    Y, outcomes = sa.evaluate(
        cheap, names, X, n_jobs=2, replicates=1, progress=lambda d, t: calls.append((d, t))
    )
    assert outcomes == ["y", "z"]
    expected = np.array([[cheap(*x)["y"], cheap(*x)["z"]] for x in X])
    assert_allclose(Y, expected, rtol=0, atol=0)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[0] >= 1 and calls[-1] == (37, 37)
    assert {t for _, t in calls} == {37}

    serial_calls: list[tuple[int, int]] = []
    Y1, _ = sa.evaluate(cheap, names, X, progress=lambda d, t: serial_calls.append((d, t)))
    assert_allclose(Y1, Y, rtol=0, atol=0)
    assert serial_calls == [(i, 37) for i in range(1, 38)]


# Replicates and common random numbers. ----------------------------------------------------


def test_replicates_are_averaged_with_common_random_numbers():
    names = ["x1", "x2"]
    X = np.random.default_rng(1).uniform(size=(25, 2))
    replicates = 5
    Y, outcomes = sa.evaluate(noisy_linear, names, X, replicates=replicates)
    y, rep, noise = (Y[:, outcomes.index(k)] for k in ("y", "rep", "noise"))
    # Averaging: the replicate number 0..4 averages to 2.
    assert_allclose(rep, (replicates - 1) / 2)
    # Common random numbers: every point got the same replicate noises, so the averaged noise is
    # the same constant everywhere and cancels in differences between points.
    mean_noise = np.mean([noisy_linear(0.0, 0.0, r)["noise"] for r in range(replicates)])
    assert_allclose(noise, mean_noise, rtol=0, atol=1e-12)
    assert_allclose(y - (2.0 * X[:, 0] + X[:, 1]), mean_noise, rtol=0, atol=1e-12)
    # Same in parallel.
    Y2, _ = sa.evaluate(noisy_linear, names, X, replicates=replicates, n_jobs=2)
    assert_allclose(Y2, Y, rtol=0, atol=0)


def test_replicated_morris_sees_signal_only():
    bounds = {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}
    df = sa.analyze(
        noisy_linear, bounds, method="morris", n=10, seed=4, replicates=3, outcomes=["y"]
    )
    # Noise (sd 10) dwarfs the signal, but it cancels exactly between the points of a trajectory.
    assert_allclose(df["mu_star"], [2.0, 1.0], rtol=1e-9)
    assert df.attrs["replicates"] == 3


def test_replicate_keyword_only_passed_when_replicates_above_one():
    X = np.linspace(0.0, 1.0, 5)[:, None]
    Y, outcomes = sa.evaluate(spy, ["x1"], X, replicates=1)
    assert_allclose(Y[:, outcomes.index("got_replicate")], 0.0)
    Y, outcomes = sa.evaluate(spy, ["x1"], X, replicates=2)
    assert_allclose(Y[:, outcomes.index("got_replicate")], 1.0)


# Convergence check and plot. --------------------------------------------------------------


def test_convergence_reports_n_and_2n():
    out = sa.convergence(ishigami, ISHIGAMI_BOUNDS, n=256, seed=9)
    assert list(out.columns) == [
        "outcome",
        "parameter",
        "index",
        "at_n",
        "at_2n",
        "abs_diff",
        "conf_2n",
        "converged",
    ]
    assert out["index"].tolist() == ["S1"] * 3 + ["ST"] * 3
    assert out.attrs["n"] == 256 and out.attrs["n2"] == 512
    assert_allclose(out["abs_diff"], (out["at_2n"] - out["at_n"]).abs())
    at_2n = sa.analyze(ishigami, ISHIGAMI_BOUNDS, n=512, seed=9)
    assert_allclose(out.loc[out["index"] == "ST", "at_2n"], at_2n["ST"], rtol=0, atol=0)
    assert_allclose(out.loc[out["index"] == "ST", "conf_2n"], at_2n["ST_conf"], rtol=0, atol=0)

    morris = sa.convergence(linear, LINEAR_BOUNDS, n=8, seed=1, method="morris")
    assert set(morris["index"]) == {"mu", "mu_star", "sigma"}
    assert morris.loc[morris["index"] == "sigma", "conf_2n"].isna().all()


def test_plot_indices_returns_figure():
    sobol = sa.analyze(ishigami, ISHIGAMI_BOUNDS, n=64, seed=1)
    fig = sa.plot_indices(sobol, "y")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2", "x3"]
    assert len(ax.patches) == 6  # S1 and ST bars for three parameters
    fig.savefig(io.BytesIO(), format="png")  # renders with Agg, no display needed

    morris = sa.analyze(linear, LINEAR_BOUNDS, method="morris", n=8, seed=1)
    target = Figure()
    ax = target.add_subplot()
    assert sa.plot_indices(morris, "y", ax=ax) is target
    assert len(ax.patches) == 4
    with pytest.raises(ValueError, match="available"):
        sa.plot_indices(sobol, "nope")


def test_plot_indices_shows_the_noise_floor_and_fades_noise_dominated_bars():
    sobol = sa.analyze(ishigami, ISHIGAMI_BOUNDS, n=64, seed=1)
    # x3 has no first-order effect on Ishigami (S1 = 0): with a noise share of 0.3 its S1 is
    # noise-dominated whatever the sample; x1 (S1 = 0.31, ST = 0.56) stands out from it.
    judged = sa.verdicts(sobol, {"y": 0.3})
    ax = sa.plot_indices(judged, "y").axes[0]
    floors = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(floors) == 1 and floors[0].get_xdata()[0] == pytest.approx(0.3)
    assert "0.30" in ax.get_title()
    labels = [t.get_text() for t in ax.texts]
    assert sorted(labels) == sorted(judged["S1_verdict"].tolist() + judged["ST_verdict"].tolist())
    s1_bars = ax.patches[:3]  # S1 of x1, x2, x3, then ST
    faded = [bar.get_alpha() is not None and bar.get_alpha() < 1 for bar in s1_bars]
    assert faded == [v == "noise-dominated" for v in judged["S1_verdict"]]
    assert faded[2] and not faded[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1].startswith("noise floor of ST")
    # without verdicts: no floor, no labels
    plain = sa.plot_indices(sobol, "y").axes[0]
    assert not plain.texts and not [ln for ln in plain.get_lines() if ln.get_linestyle() == "--"]


# Bad specifications. --------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters,words",
    [
        ({}, ["parameters", "empty"]),
        ({"x1": (0.0,)}, ["x1", "two finite numbers"]),
        ({"x1": (0.0, 1.0, 2.0)}, ["x1", "two finite numbers"]),
        ({"x1": 3.0}, ["x1", "two finite numbers"]),
        ({"x1": ("a", 1.0)}, ["x1", "two finite numbers"]),
        ({"x1": (0.0, math.inf)}, ["x1", "two finite numbers"]),
        ({"x1": (math.nan, 1.0)}, ["x1", "two finite numbers"]),
        ({"x1": (1.0, 1.0)}, ["x1", "low must be below high"]),
        ({"x1": (0.0, 1.0), "x2": (2.0, 1.0)}, ["x2", "low must be below high"]),
        ({"replicate": (0.0, 1.0)}, ["replicate", "reserved"]),
    ],
)
def test_bad_parameters(parameters, words):
    with pytest.raises(ValueError) as info:
        sa.analyze(linear, parameters, n=8, seed=0)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    "options,words",
    [
        ({"method": "fast"}, ["method", "'fast'", "morris", "sobol"]),
        ({"n": 0}, ["n:", ">= 1"]),
        ({"n": -8}, ["n:", ">= 1"]),
        ({"n": 2.5}, ["n:", "integer"]),
        ({"n": 1000}, ["power of two", "512", "1024"]),
        ({"n": 3}, ["power of two", "2 or 4"]),
        ({"replicates": 0}, ["replicates", ">= 1"]),
        ({"n_jobs": 0}, ["n_jobs", "non-zero"]),
        ({"method": "morris", "num_levels": 3}, ["num_levels", "even"]),
        ({"method": "morris", "second_order": True}, ["second_order", "sobol"]),
        ({"conf_level": 1.0}, ["conf_level", "between 0 and 1"]),
        ({"outcomes": ["z"]}, ["outcomes", "'z'", "not returned", "'y'"]),
        ({"outcomes": ["y", "y"]}, ["outcomes", "duplicates"]),
    ],
)
def test_bad_options(options, words):
    options = {"n": 8, "seed": 0, **options}
    with pytest.raises(ValueError) as info:
        sa.analyze(linear, LINEAR_BOUNDS, **options)
    for word in words:
        assert word in str(info.value)


def test_morris_n_need_not_be_a_power_of_two():
    df = sa.analyze(linear, LINEAR_BOUNDS, method="morris", n=3, seed=0)
    assert df.attrs["n_points"] == 3 * 5


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_non_finite_outcome_names_row_and_outcome(n_jobs):
    X = np.column_stack([np.linspace(0.0, 1.0, 11), np.zeros(11)])
    with pytest.raises(sa.ModelOutputError) as info:
        sa.evaluate(nan_at_large_x, ["x1", "x2"], X, n_jobs=n_jobs)
    message = str(info.value)
    assert "sample row 10" in message and "'w'" in message and "finite" in message
    assert (info.value.row, info.value.outcome) == (10, "w")
    assert isinstance(info.value, ValueError)


def test_missing_outcome_names_row_and_outcome():
    X = np.column_stack([np.linspace(0.0, 1.0, 11), np.zeros(11)])
    with pytest.raises(sa.ModelOutputError, match=r"sample row 10: .*no value for outcome 'w'"):
        sa.evaluate(missing_at_large_x, ["x1", "x2"], X)
    # Selecting only the outcomes that are always there is fine.
    Y, outcomes = sa.evaluate(missing_at_large_x, ["x1", "x2"], X, outcomes=["y"])
    assert outcomes == ["y"] and Y.shape == (11, 1)


def test_model_output_error_pickles_with_its_attributes():
    error = sa.ModelOutputError("boom", row=3, outcome="y", replicate=1)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.row, copy.outcome, copy.replicate) == ("boom", 3, "y", 1)


# Saved evaluations (resuming). ------------------------------------------------------------------


class Counted:
    """``cheap`` that counts its calls and can be made to fail after some calls."""

    def __init__(self, fail_after: int | None = None):
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, a: float, b: float, c: float) -> dict[str, float]:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt  # as Ctrl-C in the middle of an analysis
        self.calls += 1
        return cheap(a, b, c)


def test_interrupted_analysis_resumes_from_saved_evaluations(tmp_path):
    bounds = {"a": (0.0, 1.0), "b": (-1.0, 2.0), "c": (0.0, math.pi)}
    reference = sa.analyze(cheap, bounds, n=32, seed=5)
    n_points = 32 * (3 + 2)
    broken = Counted(fail_after=57)
    with pytest.raises(KeyboardInterrupt):
        sa.analyze(broken, bounds, n=32, seed=5, cache=tmp_path / "ev")
    assert len(list((tmp_path / "ev").glob("rows-*.npz"))) == 57  # one file per finished row
    resumed = Counted()
    df = sa.analyze(resumed, bounds, n=32, seed=5, cache=tmp_path / "ev")
    assert resumed.calls == n_points - 57  # only the rows not saved were run
    pd.testing.assert_frame_equal(df, reference, check_exact=True)
    again = Counted()
    pd.testing.assert_frame_equal(sa.analyze(again, bounds, n=32, seed=5, n_jobs=2,
                                             cache=tmp_path / "ev"), reference, check_exact=True)
    assert again.calls == 0


def test_saved_evaluations_serve_only_the_same_points_and_outcomes(tmp_path):
    bounds = {"a": (0.0, 1.0), "b": (-1.0, 2.0), "c": (0.0, math.pi)}
    cache = tmp_path / "ev"
    first = Counted()
    sa.analyze(first, bounds, n=16, seed=5, cache=cache)
    assert first.calls == 16 * 5
    # the 2n design extends the n design: only its new half is run
    second = Counted()
    df = sa.analyze(second, bounds, n=32, seed=5, cache=cache)
    assert second.calls == 16 * 5
    pd.testing.assert_frame_equal(df, sa.analyze(cheap, bounds, n=32, seed=5), check_exact=True)
    # another seed gives other points: nothing is reused
    other = Counted()
    sa.analyze(other, bounds, n=16, seed=6, cache=tmp_path / "ev")
    assert other.calls == 16 * 5
    # other outcomes: the saved values are not used
    Y, names = sa.evaluate(constant, ["x1", "x2"], np.full((4, 2), 0.5), cache=tmp_path / "c2")
    Y2, names2 = sa.evaluate(constant, ["x1", "x2"], np.full((4, 2), 0.5),
                             outcomes=["k"], cache=tmp_path / "c2")
    assert names2 == ["k"] and (Y2 == 3.0).all()


def test_cache_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(sa.InputError, match="not a folder"):
        sa.evaluate(cheap, ["a", "b", "c"], np.full((2, 3), 0.5), cache=f)


# Noise: noise share, verdicts, convergence verdict, pilot guidance. -------------------------------

ORIGIN = {"x1": 0.0, "x2": 0.0, "x3": 0.0}


def _noise_points(k: int, seed: int) -> list[dict[str, float]]:
    """The origin and k - 1 uniform points of the Ishigami cube."""
    rest = np.random.default_rng(seed).uniform(-math.pi, math.pi, (k - 1, 3))
    return [ORIGIN] + [dict(zip(ORIGIN, p.tolist(), strict=True)) for p in rest]


def _expected(exact, eta: float) -> dict[str, dict[str, float]]:
    """Indices of the noisy model from those of the noise-free one (see index_verdict)."""
    return {"S1": {k: (1 - eta) * v for k, v in exact.S1.items()},
            "ST": {k: (1 - eta) * v + eta for k, v in exact.ST.items()}}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_variance_and_share_close_to_their_analytic_values(seed):
    sd, R = 2.0, 4
    model = WithNoise(ishigami, sd, seed=seed)
    df = sa.analyze(model, ISHIGAMI_BOUNDS, n=256, seed=seed, replicates=R)
    noise = sa.noise_estimate(model, _noise_points(8, seed), replicates=32)
    row = noise.iloc[0]
    # 8 points x 32 replicates: the within-point variance has 8 x 31 = 248 degrees of freedom
    # (relative sd sqrt(2/248) = 0.09), the two-way residual 7 x 31 = 217 (0.096): 30 % is
    # about 3 sd. Independent noise: both estimate sd**2.
    assert row.noise_variance == pytest.approx(sd**2, rel=0.3)
    assert row.independent_variance == pytest.approx(sd**2, rel=0.3)
    assert row.effective_variance == row.independent_variance
    eta = sa.noise_shares(noise, df.attrs["output_variance"], R)["y"]
    exact = (sd**2 / R) / (ishigami_variance() + sd**2 / R)  # 0.067
    # error of sigma^2 (0.096) and of the design variance over 1,280 points (~0.05): 30 %
    assert eta == pytest.approx(exact, rel=0.3)
    assert noise.attrs["values"]["y"].shape == (8, 32)


@pytest.mark.slow
def test_replicate_averaged_indices_recovered_and_called_signal():
    sd, R = 1.0, 8
    model = WithNoise(ishigami, sd, seed=5)
    df = sa.analyze(model, ISHIGAMI_BOUNDS, n=1024, seed=7, replicates=R)
    eta_exact = (sd**2 / R) / (ishigami_variance() + sd**2 / R)  # 0.009
    expected = _expected(ishigami_indices(), eta_exact)
    for index in ("S1", "ST"):
        got = df.set_index("parameter")[index]
        want = pd.Series(expected[index])[got.index]
        # SALib's own Ishigami tolerance (see SALIB_ATOL): noise adds under 1 % of the variance
        assert_allclose(got, want, atol=SALIB_ATOL, rtol=SALIB_RTOL)
    noise = sa.noise_estimate(model, _noise_points(4, 5), replicates=16)
    shares = sa.noise_shares(noise, df.attrs["output_variance"], R)
    v = sa.verdicts(df, shares).set_index("parameter")
    assert v.loc[["x1", "x2"], "S1_verdict"].tolist() == ["signal", "signal"]
    assert v.loc[["x1", "x2", "x3"], "ST_verdict"].tolist() == ["signal"] * 3
    assert v.loc["x3", "S1_verdict"] != "signal"  # S1 of x3 is 0
    assert v["noise_share"].iloc[0] == pytest.approx(eta_exact, rel=0.5)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_large_noise_is_flagged_noise_dominated(seed):
    sd, R = 40.0, 2
    model = WithNoise(ishigami, sd, seed=seed)
    df = sa.analyze(model, ISHIGAMI_BOUNDS, n=256, seed=seed, replicates=R)
    noise = sa.noise_estimate(model, _noise_points(8, seed), replicates=16)
    shares = sa.noise_shares(noise, df.attrs["output_variance"], R)
    exact = (sd**2 / R) / (ishigami_variance() + sd**2 / R)  # 0.983
    # sigma^2 from 7 x 15 = 105 degrees of freedom: relative sd 0.14, 45 % is about 3 sd (the
    # design variance, mostly noise too, is known better: 1,280 points); the lower end, 0.54,
    # is still above NOISE_DOMINATED_SHARE.
    assert shares["y"] == pytest.approx(exact, rel=0.45)
    v = sa.verdicts(df, shares)
    assert set(v["S1_verdict"]) == set(v["ST_verdict"]) == {"noise-dominated"}


def test_shared_noise_cancels_and_the_two_way_estimate_sees_it():
    sd = 20.0
    model = WithNoise(ishigami, sd, shared=True, seed=9)
    clean = sa.analyze(ishigami, ISHIGAMI_BOUNDS, n=64, seed=1)
    noisy = sa.analyze(model, ISHIGAMI_BOUNDS, n=64, seed=1, replicates=2)
    # common random numbers: every point gets the same noise, a constant shift the indices ignore
    cols = ["S1", "S1_conf", "ST", "ST_conf"]
    assert_allclose(noisy[cols], clean[cols], rtol=0, atol=1e-12)
    noise = sa.noise_estimate(model, _noise_points(4, 0), replicates=8)
    z = [sd * np.random.default_rng([9, r]).standard_normal() for r in range(8)]
    assert noise.noise_variance.iloc[0] == pytest.approx(np.var(z, ddof=1), rel=1e-9)
    assert noise.independent_variance.iloc[0] == pytest.approx(0.0, abs=1e-18 * sd**2)
    shares = sa.noise_shares(noise, noisy.attrs["output_variance"], 2)
    v = sa.verdicts(noisy, shares).set_index("parameter")
    assert v.loc[["x1", "x2"], "ST_verdict"].tolist() == ["signal", "signal"]
    # from the base point alone the shared part cannot be told apart: the share is an upper bound
    alone = sa.noise_estimate(model, [ORIGIN], replicates=8)
    assert math.isnan(alone.independent_variance.iloc[0])
    assert alone.effective_variance.iloc[0] == alone.noise_variance.iloc[0]
    assert sa.noise_shares(alone, noisy.attrs["output_variance"], 2)["y"] > 0.5


@pytest.mark.parametrize("index, value, conf, eta, verdict", [
    ("ST", 0.30, 0.05, 0.10, "signal"),            # lo 0.25 > floor 0.10
    ("ST", 0.15, 0.10, 0.10, "uncertain"),         # lo 0.05 <= 0.10, hi 0.25 > 2 eta
    ("ST", 0.12, 0.05, 0.10, "noise-dominated"),   # hi 0.17 <= 2 eta
    ("ST", 0.375, 0.125, 0.25, "noise-dominated"),  # lo = floor, hi = 2 eta (exact in binary)
    ("ST", 0.05, 0.01, 0.0, "signal"),             # deterministic model: floor 0
    ("ST", 0.95, 0.02, 0.60, "noise-dominated"),   # eta >= 0.5 whatever the interval
    ("S1", 0.20, 0.05, 0.10, "signal"),            # lo 0.15 > 0
    ("S1", 0.02, 0.05, 0.10, "noise-dominated"),   # hi 0.07 <= eta
    ("S1", 0.02, 0.05, 0.01, "uncertain"),         # hi 0.07 > eta 0.01: more n would tell
    ("S1", -0.25, 0.125, 0.0, "noise-dominated"),  # hi < 0 = floor + eta
    ("S1", 0.40, 0.05, 0.55, "noise-dominated"),   # eta >= 0.5
    ("S1", 0.40, math.nan, 0.10, ""),              # no interval, no verdict
    ("ST", 0.40, 0.05, math.nan, ""),              # no noise estimate, no verdict
])
def test_verdict_rule_on_hand_made_indices(index, value, conf, eta, verdict):
    assert sa.index_verdict(index, value, conf, eta) == verdict


def test_verdicts_on_a_hand_made_table():
    df = pd.DataFrame({"outcome": ["a", "a", "b", "c"], "parameter": ["p", "q", "p", "p"],
                       "S1": [0.5, 0.0, 0.5, 0.5], "S1_conf": [0.1, 0.05, 0.1, 0.1],
                       "ST": [0.6, 0.12, 0.9, 0.6], "ST_conf": [0.1, 0.05, 0.1, 0.1]})
    df.attrs["method"] = "sobol"
    v = sa.verdicts(df, {"a": 0.1, "b": 0.7})
    assert v.attrs["method"] == "sobol"
    assert v["S1_verdict"].tolist() == ["signal", "noise-dominated", "noise-dominated", ""]
    assert v["ST_verdict"].tolist() == ["signal", "noise-dominated", "noise-dominated", ""]
    assert_allclose(v["noise_share"], [0.1, 0.1, 0.7, math.nan])
    with pytest.raises(ValueError, match="Sobol"):
        sa.verdicts(df.drop(columns="ST"), {"a": 0.1})
    with pytest.raises(ValueError, match="no verdict rule"):
        sa.index_verdict("mu_star", 1.0, 0.1, 0.1)


def test_noise_shares_edge_cases():
    noise = pd.DataFrame({"outcome": ["a", "b", "c", "d"],
                          "effective_variance": [4.0, 0.0, 1.0, 100.0]})
    shares = sa.noise_shares(noise, {"a": 2.0, "b": 0.0, "c": 0.0, "d": 1.0}, 4)
    assert shares == {"a": 0.5, "b": 0.0, "c": 1.0, "d": 1.0}  # 4/4/2; 0/0; >0/0; clipped


def test_convergence_verdict_threshold():
    conv = pd.DataFrame({"abs_diff": [0.01, 0.05, 0.0501, 0.3]})
    assert sa.convergence_verdict(conv)["converged"].tolist() == [True, True, False, False]
    assert sa.convergence_verdict(conv, 0.5)["converged"].all()
    for bad in (0, -1.0, True, "0.1"):
        with pytest.raises(sa.InputError, match="convergence_tol"):
            sa.convergence_verdict(conv, bad)
    res = sa.convergence(linear, LINEAR_BOUNDS, n=8, seed=1)
    assert (res["converged"] == (res["abs_diff"] <= sa.CONVERGENCE_TOL)).all()


def test_pilot_guidance_formula_on_hand_made_values():
    v_f = 34 / 12  # linear model 5 x1 + 3 x2 on [0, 1]^2
    noise = pd.DataFrame({"outcome": ["y", "flat", "exact"],
                          "effective_variance": [4.0, 4.0, 0.0]})
    g = sa.pilot_guidance(noise, {"y": v_f + 4.0 / 4, "flat": 0.5, "exact": 2.0}, replicates=4,
                          threshold=0.1, scale=0.1).set_index("outcome")
    need = 4.0 * 0.9 / (0.1 * v_f)  # 12.7
    assert g.loc["y", "signal_variance"] == pytest.approx(v_f)
    assert g.loc["y", "noise_share"] == pytest.approx(1.0 / (v_f + 1.0))
    assert g.loc["y", "replicates_needed"] == 13
    # the recommendation is the smallest number that reaches the threshold
    share = lambda r: (4.0 / r) / (v_f + 4.0 / r)  # noqa: E731
    assert share(13) <= 0.1 < share(12)
    assert g.loc["y", "scale_needed"] == pytest.approx(0.1 * need / 4)
    assert g.loc["y", "replicates_at_scale_1"] == 2  # ceil(12.7 x 0.1)
    assert math.isnan(g.loc["flat", "replicates_needed"])  # no signal beyond the noise
    assert g.loc["exact", "replicates_needed"] == 1  # no noise
    g2 = sa.pilot_guidance(noise, {"y": v_f + 4.0}, replicates=1, threshold=0.01, scale=0.1)
    assert math.isnan(g2["scale_needed"].iloc[0])  # scale > 1 needed: out of reach
    for kw, field in (({"threshold": 1.0}, "noise_threshold"), ({"scale": 2.0}, "scale"),
                      ({"replicates": 0}, "replicates")):
        with pytest.raises(sa.InputError, match=field):
            sa.pilot_guidance(noise, {"y": 1.0}, **{"replicates": 4, **kw})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pilot_recommends_the_replicates_a_known_noise_needs(seed):
    sd, R, theta = 2.0, 4, 0.1
    bounds = {"x1": (0.0, 1.0), "x2": (0.0, 1.0)}
    model = WithNoise(linear, sd, seed=seed)
    design = sa.analyze(model, bounds, n=64, seed=seed, replicates=R)
    pts = [dict(zip(bounds, p.tolist(), strict=True))
           for p in np.random.default_rng(seed).uniform(size=(8, 2))]
    noise = sa.noise_estimate(model, pts, replicates=32)
    g = sa.pilot_guidance(noise, design.attrs["output_variance"], replicates=R, threshold=theta)
    exact = sd**2 * (1 - theta) / (theta * 34 / 12)  # 12.7
    # sigma^2 from 217 degrees of freedom (relative sd 0.096), V_f from 256 design points
    # (~0.06): the ratio is within ~0.11 (1 sd); 35 % is about 3 sd.
    need = g["replicates_needed"].iloc[0]
    assert 0.65 * exact <= need <= 1.35 * exact + 1
    # and with that many replicates the measured noise share is about the threshold
    full = sa.analyze(model, bounds, n=64, seed=seed + 10, replicates=int(need))
    eta = sa.noise_shares(noise, full.attrs["output_variance"], int(need))["y"]
    assert eta <= 1.4 * theta


def test_noise_estimate_bad_input():
    model = WithNoise(ishigami, 1.0)
    with pytest.raises(sa.InputError, match="noise_replicates"):
        sa.noise_estimate(model, [ORIGIN], replicates=1)
    with pytest.raises(sa.InputError, match="points"):
        sa.noise_estimate(model, [], replicates=2)
    with pytest.raises(sa.InputError, match="same parameters"):
        sa.noise_estimate(model, [ORIGIN, {"x1": 0.0, "x2": 0.0}], replicates=2)


def test_unknown_backend_is_refused():
    X = np.zeros((4, 1))
    with pytest.raises(sa.InputError, match="backend"):
        sa.evaluate(spy, ["x1"], X, n_jobs=2, backend="no-such-backend")


@pytest.mark.slow
def test_dask_cluster_gives_the_same_indices_and_noise():
    distributed = pytest.importorskip("distributed")
    model = WithNoise(ishigami, 1.0, seed=2)  # importable: workers unpickle it by reference
    ref = sa.analyze(model, ISHIGAMI_BOUNDS, n=64, seed=1, replicates=2)
    ref_noise = sa.noise_estimate(model, _noise_points(3, 0), replicates=4)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster)):
        got = sa.analyze(model, ISHIGAMI_BOUNDS, n=64, seed=1, replicates=2, n_jobs=-1,
                         backend="dask")
        got_noise = sa.noise_estimate(model, _noise_points(3, 0), replicates=4, n_jobs=2,
                                      backend="dask")
    pd.testing.assert_frame_equal(got, ref)
    pd.testing.assert_frame_equal(got_noise, ref_noise)
