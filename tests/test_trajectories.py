import numpy as np
import pandas as pd

from mixsim.model import Scenario, run_scenario
from mixsim.model.indicators.trajectories import cohort_transitions, household_paths


def test_hand_case_with_gone_column():
    # neighbourhood classes: 0 = qpv, 1 = non-qpv
    cls = np.array([0, 0, 1])
    start = np.array([0, 1, 2, 0, -1])
    end = np.array([2, 1, 2, 0, 1])
    alive = np.array([True, True, True, False, True])
    shares, counts = cohort_transitions(start, end, alive, cls, 2)
    # from QPV: hh0 -> non-qpv, hh1 -> qpv, hh3 gone ; from non-QPV: hh2 stays ; hh4 has no start
    np.testing.assert_array_equal(counts, [[1, 1, 1], [0, 1, 0]])
    np.testing.assert_allclose(shares[0], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(shares.sum(1), 1.0)


def test_run_transition_rows_sum_to_one_and_follow_leavers_of_the_social_stock():
    r = run_scenario(Scenario(years=3), scale=0.05, seed=3)
    ind = r.indicators
    last = ind[(ind.register == "trajectory")]
    assert set(last.year) == {3}
    for system, classes in (("qpv", ("qpv", "non_qpv")), ("tercile", ("low", "middle", "high"))):
        for suffix in ("", "_social"):
            for a in classes:
                names = [f"transition_{system}_{a}_to_{b}{suffix}"
                         for b in (*classes, "gone")]
                vals = last.set_index("indicator").loc[names, "value"]
                assert abs(vals.sum() - 1.0) < 1e-9
    # social tenants at the start who left for the private market or ownership are still
    # followed: they end in a neighbourhood class, not in "gone"
    c = r.cohort
    left = c[(c.tenure_start == "social") & c.tenure_end.isin(["private", "owner"])]
    assert len(left) > 0 and left.nbhd_end.notna().all()
    social = c[c.tenure_start == "social"]
    qpv_start = social[social.qpv_start]
    to_non_qpv = (qpv_start.alive_end & ~qpv_start.qpv_end).mean()
    row = last.set_index("indicator")["value"]
    assert abs(row["transition_qpv_qpv_to_non_qpv_social"] - to_non_qpv) < 1e-9


def test_household_paths_from_the_move_log():
    moves = pd.DataFrame({"household": [5, 5, 7], "month": [3, 9, 1],
                          "from_nbhd": ["N1", "N2", "N4"], "to_nbhd": ["N2", "N3", None],
                          "kind": ["transfer", "private_move", "departure"]})
    p = household_paths(moves)
    assert p.loc[5, "neighbourhoods"] == ["N1", "N2", "N3"]
    assert p.loc[5, "kinds"] == ["transfer", "private_move"] and p.loc[7, "months"] == [1]
