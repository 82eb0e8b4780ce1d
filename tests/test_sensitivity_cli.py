"""`mixsim sensitivity`: file validation and a tiny end-to-end run."""

import numpy as np
import pandas as pd
import pytest

from mixsim.experiments.cli import main
from mixsim.experiments.sensitivity_cli import MixsimOutcomes, load_spec, noise_points

BASE = """
years = 1
[territory]
scale = 0.02
[sensitivity]
method = "sobol"
n = 2
seed = 3
[sensitivity.parameters]
"levers.quota_q1.share" = [0.1, 0.4]
"behaviour.beta_poverty" = [0.5, 5.0]
[sensitivity.outcomes]
indicators = ["q1_share_in_qpv"]
years = [1]
"""


@pytest.mark.slow
def test_tiny_sobol_run_writes_tables_and_charts(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(BASE)
    out = tmp_path / "out"
    assert main(["sensitivity", str(f), "--out", str(out)]) == 0
    df = pd.read_csv(out / "indices.csv")
    assert set(df.parameter) == {"levers.quota_q1.share", "behaviour.beta_poverty"}
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(df.columns)
    conv = pd.read_csv(out / "convergence.csv")
    assert set(conv["index"]) == {"S1", "ST"} and (conv.abs_diff >= 0).all()
    assert (out / "indices_q1_share_in_qpv_year1.png").stat().st_size > 1000
    assert (out / "indices_q1_share_in_qpv_year1.svg").is_file()
    printed = capsys.readouterr().out
    assert "convergence (n = 2 vs 2n = 4" in printed and "noise share" in printed
    # verdicts, noise share and convergence verdict in the table and the summary
    assert {"noise_share", "S1_verdict", "ST_verdict", "converged"} <= set(df.columns)
    assert set(df.S1_verdict) | set(df.ST_verdict) <= {"signal", "uncertain", "noise-dominated"}
    merged = conv.groupby(["outcome", "parameter"])["converged"].all()
    pairs = zip(df.outcome, df.parameter, strict=True)
    assert [merged[pair] for pair in pairs] == df.converged.tolist()
    noise = pd.read_csv(out / "noise.csv")
    assert noise.noise_variance.iloc[0] >= 0 and noise.replicates.iloc[0] == 4  # the default
    assert (noise.noise_share == df.noise_share.iloc[0]).all()
    flagged = (df.S1_verdict == "noise-dominated").any() or (df.ST_verdict == "noise-dominated"
                                                             ).any()
    assert ("WARNING: q1_share_in_qpv@1" in printed) == flagged
    assert "by outcome:\n  q1_share_in_qpv@1: " in printed


@pytest.mark.parametrize("change, words", [
    (('"levers.quota_q1.share" = [0.1, 0.4]', '"levers.quota_q1.share" = []'), "[low, high]"),
    (('"levers.quota_q1.share" = [0.1, 0.4]', '"levers.quota_q1.share" = [0.4, 0.1]'),
     "must be below high"),
    (('"levers.quota_q1.share" = [0.1, 0.4]', '"levers.quota_q1.shar" = [0.1, 0.4]'),
     "did you mean 'levers.quota_q1.share'"),
    (("n = 2", "n = 6"), "power of two (nearest: 4 or 8)"),
    (('"levers.quota_q1.share" = [0.1, 0.4]', '"levers.quota_q1.enforcement" = [0, 1]'),
     "not numeric"),
    (('"levers.quota_q1.share" = [0.1, 0.4]', '"levers.quota_q1.share" = [0.1, 1.4]'),
     "leaves the allowed"),
    (('years = [1]', 'years = [5]'), "expected years between 1 and 1"),
    (('years = [1]', 'years = [1]\nwindow = [1, 2]'), "1 ≤ first ≤ last ≤ 1"),
    (('years = [1]', 'window = [0, 1]'), "1 ≤ first ≤ last ≤ 1"),
    (('years = [1]', 'window = [1]'), "expected [first, last] years"),
    (('years = [1]', 'window = [[1, 1], [1, 1]]'), "a window is repeated"),
    (('years = [1]', 'windows = [1, 1]'), "unknown key 'windows'"),
    (('seed = 3', 'seed = 3\nnoise_replicates = 1'), "expected a whole number ≥ 2"),
    (('seed = 3', 'seed = 3\nnoise_threshold = 1.5'), "strictly between 0 and 1"),
    (('seed = 3', 'seed = 3\nconvergence_tol = 0'), "a number > 0"),
    (('seed = 3', 'seed = 3\npilot_n = 6'), "power of two"),
    (('seed = 3', 'seed = 3\nspin_up = "today"'), "allowed: 'point', 'base'"),
])
def test_bad_specifications_exit_2(tmp_path, capsys, change, words):
    f = tmp_path / "bad.toml"
    f.write_text(BASE.replace(*change))
    assert main(["sensitivity", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert words in err and str(f) in err and "Traceback" not in err


@pytest.mark.slow
def test_rerun_reuses_saved_evaluations_and_a_changed_file_is_refused(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(BASE)
    out = tmp_path / "out"
    assert main(["sensitivity", str(f), "--out", str(out)]) == 0
    saved = {p.name: p.stat().st_mtime_ns for p in (out / "evaluations").glob("rows-*.npz")}
    # n = 2 and 2n = 4 with 2 parameters: 4 × 4 points in all, each saved once
    assert len(saved) == 4 * 4
    first = pd.read_csv(out / "indices.csv")
    assert main(["sensitivity", str(f), "--out", str(out)]) == 0
    again = {p.name: p.stat().st_mtime_ns for p in (out / "evaluations").glob("rows-*.npz")}
    assert again == saved  # nothing was run again
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), first)
    capsys.readouterr()

    f.write_text(BASE.replace("seed = 3", "seed = 4"))
    assert main(["sensitivity", str(f), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "evaluations of another specification" in err and "--force" in err
    assert main(["sensitivity", str(f), "--out", str(out), "--force"]) == 0
    renewed = {p.name: p.stat().st_mtime_ns for p in (out / "evaluations").glob("rows-*.npz")}
    assert len(renewed) == 4 * 4 and not set(renewed.items()) & set(saved.items())


def test_window_outcome_is_the_mean_of_its_years(tmp_path):
    f = tmp_path / "w.toml"
    f.write_text(BASE.replace("years = 1\n", "years = 3\n", 1).replace(
        "years = [1]", "years = [1, 2, 3]\nwindow = [[2, 3], [1, 3]]"))
    spec = load_spec(f)
    assert spec.windows == ((2, 3), (1, 3))
    names = spec.outcome_names()
    assert names == ["q1_share_in_qpv@1", "q1_share_in_qpv@2", "q1_share_in_qpv@3",
                     "q1_share_in_qpv@2-3", "q1_share_in_qpv@1-3"]
    out = MixsimOutcomes(spec)(replicate=1, levers__quota_q1__share=0.3,
                               behaviour__beta_poverty=2.0)
    assert list(out) == names
    y = [out[f"q1_share_in_qpv@{k}"] for k in (1, 2, 3)]
    assert out["q1_share_in_qpv@2-3"] == pytest.approx(np.mean(y[1:]), rel=1e-12)
    assert out["q1_share_in_qpv@1-3"] == pytest.approx(np.mean(y), rel=1e-12)
    # a window alone: no single-year outcome by default
    f.write_text(BASE.replace("years = 1\n", "years = 3\n", 1).replace("years = [1]",
                                                                       "window = [2, 3]"))
    assert load_spec(f).outcome_names() == ["q1_share_in_qpv@2-3"]


def test_base_spin_up_starts_every_point_from_the_base_scenarios_state(tmp_path):
    """``spin_up = "base"``: a behaviour parameter acts from year 0 only; with "point" it also
    shapes the spun-up state the run starts from."""
    f = tmp_path / "b.toml"
    f.write_text(BASE.replace("seed = 3", 'seed = 3\nspin_up = "base"').replace(
        '"levers.quota_q1.share" = [0.1, 0.4]', '"behaviour.leave_rate" = [0.01, 0.4]'))
    spec = load_spec(f)
    assert spec.spin_up == "base"
    g = tmp_path / "p.toml"
    g.write_text(f.read_text().replace('spin_up = "base"', ""))
    point = load_spec(g)
    assert point.spin_up == "point"  # the default
    base_fn, point_fn = MixsimOutcomes(spec), MixsimOutcomes(point)
    rule = dict(behaviour__leave_rate=spec.scenario.behaviour.leave_rate,
                behaviour__beta_poverty=spec.scenario.behaviour.beta_poverty)
    other = dict(rule, behaviour__leave_rate=0.4)
    # at the base point both modes run the same thing
    assert base_fn(replicate=0, **rule) == point_fn(replicate=0, **rule)
    # elsewhere they differ (another initial state), and in base mode the parameter still acts
    assert base_fn(replicate=0, **other) != point_fn(replicate=0, **other)
    assert base_fn(replicate=0, **other) != base_fn(replicate=0, **rule)


def test_noise_points_start_at_the_scenario_values(tmp_path):
    f = tmp_path / "n.toml"
    f.write_text(BASE.replace("seed = 3", "seed = 3\nnoise_points = 3"))
    spec = load_spec(f)
    pts = noise_points(spec)
    assert len(pts) == 4
    assert pts[0] == {"levers__quota_q1__share": spec.scenario.levers.quota_q1.share,
                      "behaviour__beta_poverty": spec.scenario.behaviour.beta_poverty}
    for p in pts[1:]:
        assert 0.1 <= p["levers__quota_q1__share"] <= 0.4
        assert 0.5 <= p["behaviour__beta_poverty"] <= 5.0
    assert noise_points(spec) == pts  # drawn from the specification's seed


@pytest.mark.slow
def test_pilot_writes_its_recommendation_and_the_analysis_reuses_it(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text(BASE.replace("seed = 3", "seed = 3\nreplicates = 2\npilot_n = 4"))
    out = tmp_path / "out"
    assert main(["sensitivity", str(f), "--out", str(out), "--pilot", "--threshold", "0.2"]) == 0
    printed = capsys.readouterr().out
    pilot = pd.read_csv(out / "pilot.csv")
    row = pilot.iloc[0]
    assert row.outcome == "q1_share_in_qpv@1" and row.threshold == 0.2
    assert row.design_points == 4 * 4 and row.replicates == 2 and row.noise_replicates == 4
    assert f"q1_share_in_qpv@1: noise share {row.noise_share:.3f} with 2 replicate(s)" in printed
    assert row.signal_variance == pytest.approx(
        max(row.design_variance - row.noise_variance / 2, 0.0))
    if row.signal_variance > 0:  # the recommendation follows pilot_guidance's formula
        need = row.noise_variance * 0.8 / (0.2 * row.signal_variance)
        assert row.replicates_needed == max(1, np.ceil(need - 1e-9))
        if row.noise_share <= 0.2 and row.replicates_needed <= 2:
            assert "already under the threshold" in printed
        else:
            assert f"needs {int(row.replicates_needed)} replicate(s)" in printed
    else:
        assert np.isnan(row.replicates_needed) and "no signal" in printed
    assert not (out / "indices.csv").exists()
    saved = {p.name: p.stat().st_mtime_ns for p in (out / "evaluations").glob("rows-*.npz")}
    assert len(saved) == 16
    # the analysis (n = 2, then 2n = 4) reuses the pilot's design (n = 4): nothing new to run
    assert main(["sensitivity", str(f), "--out", str(out)]) == 0
    again = {p.name: p.stat().st_mtime_ns for p in (out / "evaluations").glob("rows-*.npz")}
    assert again == saved
    assert (out / "indices.csv").is_file()


def test_the_analysis_in_the_docs_is_a_valid_file_and_its_tables_are_its_own():
    """docs/sensitivity.md interprets docs/figures/sobol_default.toml: the file must load, and
    the tables shipped beside it must hold its outcomes and parameters (a changed file whose
    analysis was not rerun fails here)."""
    from pathlib import Path
    figures = Path(__file__).resolve().parents[1] / "docs" / "figures"
    spec = load_spec(figures / "sobol_default.toml")
    assert spec.spin_up == "base" and spec.replicates >= 2 and spec.convergence
    assert spec.scenario.territory.source == "default"
    indices = pd.read_csv(figures / "sobol_default_indices.csv")
    assert sorted(set(indices["outcome"])) == sorted(spec.outcome_names())
    assert sorted(set(indices["parameter"])) == sorted(spec.parameters)
    assert {"noise_share", "S1_verdict", "ST_verdict", "converged"} <= set(indices.columns)
    noise = pd.read_csv(figures / "sobol_default_noise.csv")
    assert sorted(noise["outcome"]) == sorted(spec.outcome_names())
    assert (noise["replicates"] == spec.noise_replicates).all()
    assert (noise["points"] == 1 + spec.noise_points).all()


def test_outcome_reading_lists_only_signal_and_converged_total_indices():
    from mixsim.experiments.commands.sensitivity import outcome_reading
    df = pd.DataFrame({
        "outcome": ["y"] * 3 + ["z"],
        "parameter": ["a", "b", "c", "a"],
        "ST": [0.3, 0.6, 0.2, 0.5],
        "ST_verdict": ["signal", "signal", "uncertain", "signal"]})
    conv = pd.DataFrame({
        "outcome": ["y"] * 6 + ["z"] * 2,
        "parameter": ["a", "b", "c"] * 2 + ["a", "a"],
        "index": ["S1"] * 3 + ["ST"] * 3 + ["S1", "ST"],
        "converged": [False, True, True, True, True, True, True, False]})
    # y: b before a (larger ST); c is not signal. z: a is signal but its ST moved too much
    assert outcome_reading(df, conv) == [
        "  y: 5 of 6 indices converged; drivers (ST signal, converged): b 0.60, a 0.30",
        "  z: 1 of 2 indices converged; drivers (ST signal, converged): none established"]
    assert outcome_reading(df, None)[1] == "  z: drivers (ST signal): a 0.50"
    none = df.assign(ST_verdict="uncertain")  # no signal at all
    assert outcome_reading(none, conv)[0].endswith("converged): none established")
