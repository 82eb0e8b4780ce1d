"""Each lever shows its direct effect (docs/levers.md), and neutral levers leave the baseline
intact.

Every comparison is paired: the lever scenario and the baseline run on the same seeds, at scale
0.2 over 3 years (≈ 1,200 leases a year; below 0.2 the default territory is not comparable with
scale 1, docs/validation.md). The asserted direction follows from the mechanism; the
statistical assertion is on the mean over three seeds of the paired difference, and also asks
that no seed goes strongly the other way.
"""

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from mixsim.model import Scenario, run_scenario
from mixsim.model.config import load_scenario, to_toml

SEEDS = (1, 2, 3)
YEARS = 3
# below 0.2 the default territory is not comparable with scale 1 (docs/validation.md)
SCALE = 0.2
pytestmark = pytest.mark.slow


@lru_cache(maxsize=None)
def _yearly(overrides: tuple, seed: int) -> pd.DataFrame:
    sc = Scenario(years=YEARS).with_overrides(dict(overrides))
    return run_scenario(sc, scale=SCALE, seed=seed, keep_moves=False).yearly()


def paired(overrides: dict, indicator: str, agg="mean") -> np.ndarray:
    """Lever minus baseline, per seed, of an indicator aggregated over years 1..YEARS."""
    out = []
    for seed in SEEDS:
        lev = _yearly(tuple(sorted(overrides.items())), seed).loc[1:, indicator]
        base = _yearly((), seed).loc[1:, indicator]
        out.append(getattr(lev, agg)() - getattr(base, agg)())
    return np.array(out)


def raises(diff: np.ndarray) -> bool:
    return diff.mean() > 0 and diff.min() > -abs(diff.mean())


def test_q1_quota_outside_qpv_strict():
    d = paired({"levers.quota_q1.enforcement": "strict"}, "q1_share_leases_outside_qpv")
    assert raises(d) and d.mean() > 0.03


def test_q234_target_inside_qpv_strict():
    d = paired({"levers.quota_qpv.enforcement": "strict", "levers.quota_qpv.share": 0.9},
               "q234_share_leases_inside_qpv")
    assert raises(d)


def test_priority_share_strict():
    # The share is limited by the priority applicants there are, not by the quota: they wait a
    # median of 2-3 months under today's rules. A strict share far above what they can fill
    # houses the backlog of pending priority applicants in the first year, then the share
    # follows their inflow (loss of priority after a refused préfet offer off in both arms, so
    # that the quota's own effect is measured). Evening defaults of 2026-12-03, seeds 1-3:
    # year 1 +0.047, +0.018, +0.019; years 1-3 -0.010, +0.019, -0.003 (docs/levers.md §3).
    ctx = {"levers.priority.lost_after_refusal": False}
    lev = tuple(sorted({**ctx, "levers.priority.enforcement": "strict",
                        "levers.priority.share": 0.8}.items()))
    base = tuple(sorted(ctx.items()))
    d = np.array([_yearly(lev, s).loc[1, "priority_share"]
                  - _yearly(base, s).loc[1, "priority_share"] for s in SEEDS])
    assert raises(d) and (d > 0).all()


def test_flux_lowers_vacancies_unlet_for_lack_of_a_holder_candidate():
    # flux (where no holder keeps a vacancy) against stock with holders keeping theirs 3 months
    d = paired({"levers.reservation.management": "flux"}, "unlet_for_lack_of_candidate_share")
    base = paired({"levers.reservation.handback_months": 3}, "unlet_for_lack_of_candidate_share")
    assert (d - base).mean() < 0 and (d - base).max() < abs((d - base).mean())


def test_cotation_points_for_priority_raise_the_priority_share():
    d = paired({"levers.cotation.priority": 400.0, "levers.priority.enforcement": "none"},
               "priority_share")
    base = paired({"levers.priority.enforcement": "none"}, "priority_share")
    assert raises(d - base)


def test_one_candidate_per_dwelling_leaves_more_dwellings_unlet_after_refusals():
    d = paired({"levers.commission.candidates_per_dwelling": 1}, "unlet_after_refusals")
    assert raises(d)


def test_information_lowers_refusals():
    d = paired({"levers.information.level": 1.0}, "refusal_rate")
    assert raises(-d)


def test_wider_wishes_raise_the_q1_share_of_leases_outside_qpv():
    # the commission designates among the applicants who wish the dwelling's commune: with 8
    # communes wished, Q1 applicants of the QPV communes are designated outside QPV more often
    # (2026-12-03, seeds 1-3: +2.2, +4.3, +2.4 points, base 16–18 %). Advertised dwellings are
    # on a public listing every applicant sees, so wider wishes no longer lower the vacancies
    # left without a candidate (+0.6, +0.7, −1.3 points; −6.0 to −10.0 when only applicants
    # wishing the commune saw an advertisement)
    d = paired({"levers.information.wish_breadth": 8}, "q1_share_leases_outside_qpv")
    assert raises(d) and d.mean() > 0.01


def test_rent_modulation_raises_q1_leases_outside_qpv():
    d = paired({"levers.rent.modulation": 0.4}, "q1_share_leases_outside_qpv")
    assert raises(d)


def test_sls_and_loss_of_the_right_to_stay_raise_exits():
    over = {"levers.over_income.sls_threshold": 1.0, "levers.over_income.sls_exit_multiplier": 8.0,
            "levers.over_income.loss_enabled": True, "levers.over_income.loss_threshold": 1.0,
            "levers.over_income.loss_years": 1, "levers.over_income.qpv_exempt": False}
    d = paired(over, "exits_to_private_rental", "sum") + paired(over, "exits_to_ownership", "sum")
    assert raises(d)


def test_transfer_share_raises_transfers():
    d = paired({"levers.transfers.share": 0.6}, "transfer_share")
    assert raises(d)


def test_construction_adds_social_dwellings_where_placed():
    lever = {"levers.construction.units_per_year": 2000.0,
             "levers.construction.share_outside_qpv": 1.0}
    d = paired(lever, "social_dwellings", "max")
    assert (d > 150).all()  # ≈ 400 units a year at scale 0.2, minus sales and rounding
    # all of them outside QPV: the social stock in QPV never grows (sales only lower it; the
    # baseline's own programme follows the demand, so the paired difference is noise)
    for seed in SEEDS:
        in_qpv = _yearly(tuple(sorted(lever.items())), seed)["social_dwellings_in_qpv"]
        assert (in_qpv.diff().dropna() <= 0).all()


def test_renewal_demolishes_in_qpv_and_rehouses_with_priority():
    lever = {"levers.renewal.demolitions_per_year": 1500.0}
    d = paired(lever, "social_dwellings_in_qpv", "min")
    assert (d < -50).all()
    rel = np.array([_yearly(tuple(sorted(lever.items())), s).loc[1:, "relocations"].sum()
                    for s in SEEDS])
    assert (rel > 0).all()


def test_renovation_raises_qpv_attractiveness():
    lever = (("levers.renovation.investment_per_qpv", 0.3),)
    diffs = []
    for seed in SEEDS:
        sc = Scenario(years=YEARS).with_overrides(dict(lever))
        r = run_scenario(sc, scale=SCALE, seed=seed, keep_moves=False)
        b = run_scenario(Scenario(years=YEARS), scale=SCALE, seed=seed, keep_moves=False)
        q = r.neighbourhoods.qpv
        diffs.append(r.neighbourhoods.attractiveness_end[q].mean()
                     - b.neighbourhoods.attractiveness_end[q].mean())
    assert min(diffs) > 0.2  # 3 years × 0.3 a year, approached with 36 months of inertia


def test_sales_raise_exits_to_ownership():
    d = paired({"levers.sales.share_per_year": 0.02}, "exits_to_ownership", "sum")
    assert raises(d) and d.mean() > 10


def test_all_levers_at_neutral_values_reproduce_the_baseline(tmp_path):
    """A file writing every lever at its neutral (default) value, plus parameters that are inert
    at those values (bonus points with no enforcement, rebuilding with no demolition, renovation
    years with no investment), gives exactly the baseline's tables."""
    sc = Scenario(years=2)
    d = sc.to_dict()
    d["levers"]["quota_q1"]["bonus_points"] = 7.0
    d["levers"]["quota_qpv"]["bonus_points"] = 9.0
    d["levers"]["transfers"]["bonus_points"] = 3.0
    d["levers"]["renewal"]["rebuild_outside_share"] = 1.5
    d["levers"]["renewal"]["rebuild_plai_share"] = 0.9
    d["levers"]["renovation"]["years"] = 30
    d["levers"]["over_income"]["loss_years"] = 5
    path = tmp_path / "neutral.toml"
    path.write_text(to_toml(d))
    neutral = load_scenario(path)
    a = run_scenario(sc, scale=0.05, seed=8)
    b = run_scenario(neutral, scale=0.05, seed=8)
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
    pd.testing.assert_frame_equal(a.moves, b.moves)


def test_more_q1_leases_outside_qpv_do_not_raise_segregation_there():
    """ANCOLS (Dubois & Karker): raising the Q1 share of leases outside QPV to the 25 % of the
    law did not raise segregation outside QPV (docs/validation.md, pattern a).

    The quota must actually move leases (the strict enforcement brings the Q1 share outside
    QPV to about 25 %); the D of Q1 households over the neighbourhoods outside QPV must then
    not rise by more than 0.01 on average over the seeds — a tenth of its level (about 0.1 at
    this scale) and above the paired noise of three years at this scale (docs/validation.md).
    """
    over = {"levers.quota_q1.enforcement": "strict"}
    share = paired(over, "q1_share_leases_outside_qpv")
    d = paired(over, "dissimilarity_q1_by_neighbourhoods_outside_qpv")
    assert share.mean() > 0.05
    assert d.mean() < 0.01, d
