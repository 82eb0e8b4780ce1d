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


@pytest.fixture(scope="module", autouse=True)
def spun_up_here():
    """Spin the initial states up in this process, not from the disk cache.

    The stored records are then checked against a spin-up built by this Python, numpy and
    Mesa: a state cached by another environment (CI's two Pythons share one cache) would hide
    a difference between them — numpy's binomial changed between 2.4 and 2.5 and did, until
    the model drew its own (model/draws.py). Costs about 30 s at the records' scale.
    """
    from mixsim.model import model, spinup

    saved = spinup.load_cached, spinup.store_cached
    spinup.load_cached = lambda key: None
    spinup.store_cached = lambda key, state: None
    model._INITIAL_STATES.clear()
    yield
    spinup.load_cached, spinup.store_cached = saved
    model._INITIAL_STATES.clear()


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
