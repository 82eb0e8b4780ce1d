"""Regression: fixed seeds and scenarios give the tables stored in tests/regression/.

A change meant to leave results alone (a refactoring, a faster kernel) must pass these. A change
meant to alter them regenerates the files (``python -m pytest tests/test_regression.py
--update-regression``) and the commit says why; see tests/regression_cases.py.
"""

import dataclasses
import json

import pytest
from regression_cases import CASES, ROOT, SCALE, YEARS, path_of, run_case, table_hash, write

pytestmark = pytest.mark.regression


@pytest.mark.parametrize("case, scenario_file, seed", CASES, ids=[c[0] for c in CASES])
def test_tables_equal_the_stored_hashes(request, case, scenario_file, seed):
    got = run_case(scenario_file, seed)
    if request.config.getoption("--update-regression"):
        write(case, got)
        pytest.skip(f"{path_of(case).name} rewritten")
    assert path_of(case).is_file(), ("no stored record: run python -m pytest "
                                     "tests/test_regression.py --update-regression")
    stored = json.loads(path_of(case).read_text(encoding="utf-8"))
    # the summary first, so that a failure shows which figures moved
    assert {k: got[k] for k in ("indicator_rows", "moves_by_kind", "horizon")} == \
        {k: stored[k] for k in ("indicator_rows", "moves_by_kind", "horizon")}
    assert got == stored


def test_a_changed_rule_changes_the_hashes():
    # the same case with one behaviour parameter moved by 5 %: the guard must see it
    from mixsim.model import run_scenario
    from mixsim.model.config import load_scenario

    sc = load_scenario(ROOT / "experiments" / "scenarios" / "baseline.toml")
    beh = dataclasses.replace(sc.behaviour, apply_rate=sc.behaviour.apply_rate * 1.05)
    res = run_scenario(dataclasses.replace(sc, behaviour=beh), scale=SCALE, years=YEARS, seed=1)
    stored = json.loads(path_of("baseline_seed1").read_text(encoding="utf-8"))
    moves = res.moves.assign(kind=res.moves.kind.astype(str))
    assert table_hash(moves, ["month", "household", "kind", "from_dwelling", "to_dwelling"]) \
        != stored["moves_sha256"]


def test_hash_ignores_float_noise_beyond_10_digits():
    import pandas as pd
    a = pd.DataFrame({"k": [2, 1], "v": [0.1 + 0.2, 1 / 3]})
    b = pd.DataFrame({"k": [1, 2], "v": [1 / 3 * (1 + 1e-14), 0.3]})  # reordered, last bits off
    c = pd.DataFrame({"k": [1, 2], "v": [1 / 3 * (1 + 1e-8), 0.3]})
    assert table_hash(a, ["k"]) == table_hash(b, ["k"]) != table_hash(c, ["k"])
