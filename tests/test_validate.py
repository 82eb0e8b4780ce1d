"""`mixsim validate`: bands of years, the comparison table, the command."""

import math

import numpy as np
import pandas as pd
import pytest

from mixsim.calibration.targets import CalibrationTargets, Target
from mixsim.experiments.cli import main
from mixsim.experiments.validate import bands, validation_table


@pytest.mark.parametrize("first, last, width, expected", [
    (2, 20, 5, [(2, 5), (6, 10), (11, 15), (16, 20)]),
    (1, 7, 5, [(1, 5), (6, 7)]),
    (2, 4, 1, [(2, 2), (3, 3), (4, 4)]),
    (6, 6, 5, [(6, 6)]),
    (3, 12, 10, [(3, 10), (11, 12)]),
])
def test_bands_cover_every_year_once(first, last, width, expected):
    got = bands(first, last, width)
    assert got == expected
    covered = [y for a, b in got for y in range(a, b + 1)]
    assert covered == list(range(first, last + 1))


def _targets(**kw):
    t = [Target(name="turnover", value=0.09, tolerance=0.01, source="test", indicator="turnover"),
         Target(name="wait", value=500.0, tolerance=50.0, source="test",
                indicator="mean_wait_days", **kw)]
    return CalibrationTargets(targets=tuple(t), burn_in=1, source="test",
                              parameters={"behaviour.apply_rate": (0.03, 0.3)})


def test_validation_table_means_intervals_and_verdicts():
    rng = np.random.default_rng(0)
    rows = []
    for rep in range(4):
        for year in range(2, 11):
            # turnover sits at 0.09 in years 2-5, then drifts to 0.12 (out of tolerance)
            rows.append({"replicate": rep, "year": year,
                         "turnover": (0.09 if year <= 5 else 0.12) + 0.001 * rep,
                         "mean_wait_days": 480.0 + rng.normal(0, 1)})
    yearly = pd.DataFrame(rows)
    table = validation_table(yearly, _targets(), bands(2, 10))
    assert list(table["band"]) == ["2–5", "6–10", "2–5", "6–10"]
    t = table.set_index(["target", "band"])
    # replicate means in 2-5: 0.090, 0.091, 0.092, 0.093 -> mean 0.0915
    assert t.loc[("turnover", "2–5"), "simulated_mean"] == pytest.approx(0.0915)
    assert t.loc[("turnover", "2–5"), "simulated_p05"] == pytest.approx(
        np.percentile([0.090, 0.091, 0.092, 0.093], 5))
    assert t.loc[("turnover", "2–5"), "passed"]
    assert not t.loc[("turnover", "6–10"), "passed"]
    assert t.loc[("wait", "6–10"), "passed"] and t.loc[("wait", "6–10"), "replicates"] == 4


def test_target_tied_to_years_and_missing_indicator():
    yearly = pd.DataFrame({"replicate": [0, 0, 0], "year": [2, 3, 4],
                           "turnover": [0.09, 0.09, 0.09]})
    table = validation_table(yearly, _targets(years=(3,)), bands(2, 4, 2))
    wait = table[table["target"] == "wait"]
    assert list(wait["band"]) == ["3–4"]  # only the band holding year 3
    assert math.isnan(wait.iloc[0]["simulated_mean"]) and not wait.iloc[0]["passed"]


@pytest.mark.slow
def test_validate_command_writes_table_chart_and_prints_verdict(tmp_path, capsys):
    out = tmp_path / "val"
    rc = main(["validate", "--scale", "0.03", "--years", "3", "--replicates", "2",
               "--out", str(out)])
    assert rc == 0
    for name in ("validation.csv", "validation.parquet", "validation.png"):
        assert (out / name).is_file()
    table = pd.read_csv(out / "validation.csv")
    assert set(table["band"]) == {"2–3"}  # burn-in of 1 year, then one band
    assert {"turnover", "q1_share_leases_outside_qpv"} <= set(table["target"])
    assert (table["replicates"] == 2).all()
    text = capsys.readouterr().out
    assert "verdict:" in text and f"{int(table['passed'].sum())} of {len(table)} pass" in text


@pytest.mark.slow
def test_validate_on_a_data_folder_uses_its_targets(tmp_path, capsys):
    from pathlib import Path
    folder = Path(__file__).parent.parent / "calibration" / "example_data"
    rc = main(["validate", str(folder), "--scale", "0.2", "--years", "2", "--replicates", "1",
               "--out", str(tmp_path / "v")])
    assert rc == 0
    table = pd.read_csv(tmp_path / "v" / "validation.csv")
    from mixsim.calibration.targets import load_targets
    assert set(table["target"]) == {t.name for t in load_targets(folder).targets}


@pytest.mark.parametrize("args, words", [
    (["no/such/folder"], "territory folder not found"),
    (["--years", "1"], "burn-in"),
])
def test_validate_bad_input(tmp_path, capsys, args, words):
    out = tmp_path / "v"
    assert main(["validate", *args, "--out", str(out)]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_validate_bad_argument(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--scale", "-1", "--out", str(tmp_path / "v")])
    assert exc.value.code == 2 and "positive number" in capsys.readouterr().err
