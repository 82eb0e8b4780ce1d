"""`mixsim sensitivity`: file validation and a tiny end-to-end run."""

import pandas as pd
import pytest

from mixsim.experiments.cli import main

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
    assert "convergence" in capsys.readouterr().out


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
])
def test_bad_specifications_exit_2(tmp_path, capsys, change, words):
    f = tmp_path / "bad.toml"
    f.write_text(BASE.replace(*change))
    assert main(["sensitivity", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert words in err and str(f) in err and "Traceback" not in err


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
