"""A baseline that holds still (issue #14): today's rules on the default territory, spun up.

Statistical assertions over three seeds on the default territory at scale 0.1 (about 10,000
households, 22,000 persons) for ten years after the spin-up; each tolerance is justified next
to it. The full measurement (scale 1, 20 years) is ``benchmarks/baseline_drift.py``.
"""

import numpy as np
import pandas as pd
import pytest

from mixsim.model import Scenario
from mixsim.model.api import build_model, cohort_table
from mixsim.model.config import TerritorySpec
from mixsim.model.moves import rows_of

SEEDS = (1, 2, 3)
YEARS = 10
SCALE = 0.1
TYPES = ("single", "couple", "couple_children", "single_parent", "other")


def _run(seed: int, spin_up_years=None):
    model = build_model(Scenario(years=YEARS, territory=TerritorySpec(scale=SCALE)), seed=seed,
                        spin_up_years=spin_up_years)
    model.run(YEARS)
    df = model.recorder.frame()
    wide = df[(df.scale == "epci") & (df.unit == "EPCI")].pivot_table(
        index="year", columns="indicator", values="value", aggfunc="first", observed=True)
    return model, wide


@pytest.fixture(scope="module")
def runs():
    return [_run(s) for s in SEEDS]


@pytest.fixture(scope="module")
def mean(runs) -> pd.DataFrame:
    return pd.concat([w for _, w in runs]).groupby(level=0).mean()


@pytest.mark.slow
def test_household_types_hold_within_two_points(mean):
    # A share of ~10,000 households has a sampling sd of at most 0.5 point per seed, 0.3 on
    # the mean of three, and 0.4 on a difference of two years: ±2 points is the issue's
    # tolerance and 5 sd of noise.
    for name in ["one_person_share"] + [f"type_share_{t}" for t in TYPES]:
        drift = (mean[name].loc[1:YEARS] - mean[name].loc[0]).abs().max()
        assert drift <= 0.02, (name, drift)


@pytest.mark.slow
def test_persons_per_household_hold_or_follow_the_national_trend(mean):
    # INSEE: −0.5 %/yr recently (2.23 in 2015, 2.16 in 2021). Between holding still and that
    # trend, with 0.02 person of noise (the sd of a mean over ~10,000 households is ~0.013)
    pph = mean["persons_per_household"]
    for y in range(1, YEARS + 1):
        low = pph.loc[0] * (1 - 0.005) ** y - 0.02
        assert low <= pph.loc[y] <= pph.loc[0] + 0.02, (y, pph.loc[y])


@pytest.mark.slow
def test_birth_and_death_rates_in_published_ranges(mean):
    # INSEE 2023: 10.0 births and 9.4 deaths per 1,000 (10.9 and 9.1 in 2019). At ~22,000
    # persons a year's births (~230) have an sd of ~0.7 per 1,000 per seed, 0.4 on the mean:
    # births in 8.5–12.5. Deaths are lower in an agglomeration, whose population is younger than
    # the country's (arrivals are young adults): 5.5–10.5 per 1,000 [order of magnitude].
    births = mean["births_per_1000"].loc[1:YEARS]
    deaths = mean["deaths_per_1000"].loc[1:YEARS]
    assert births.between(8.5, 12.5).all(), births.to_dict()
    assert deaths.between(5.5, 10.5).all(), deaths.to_dict()


@pytest.mark.slow
def test_composition_of_the_territory_holds_after_the_spin_up(runs):
    # docs/sources.md: 16–20 % social dwellings, about a third of them in QPV; the spin-up holds
    # the stock fixed, so these are exactly the territory's. Poverty stays concentrated in QPV
    # (at least twice the overall rate) and the overall rate near the national 14.5 %.
    for _, wide in runs:
        y0 = wide.loc[0]
        assert 0.16 <= y0["social_share_of_dwellings"] <= 0.20
        assert 0.28 <= y0["qpv_share_of_social_dwellings"] <= 0.40
        assert 0.11 <= y0["poverty_rate"] <= 0.18
        assert y0["poverty_rate_qpv"] >= 2 * y0["poverty_rate"]


@pytest.mark.slow
def test_spin_up_keeps_the_drawn_stock(runs):
    # The stock is held fixed during the spin-up: year 0 has the drawn population's dwellings.
    # (Poverty moves in the spin-up — in QPV from ~43 % to ~33 %, overall from ~17 % to ~14 %:
    # the model's own equilibrium under today's rules, reported in docs/ODD.md §5.)
    _, raw = _run(SEEDS[0], spin_up_years=0)
    spun = runs[0][1]
    for name in ("dwellings", "social_share_of_dwellings", "qpv_share_of_social_dwellings"):
        assert spun.loc[0, name] == raw.loc[0, name], name


@pytest.mark.slow
def test_table_rows_follow_living_households_and_ids_stay_valid(runs):
    for model, wide in runs:
        rows = wide["household_rows"].loc[1:YEARS]
        living = wide["living_households"].loc[1:YEARS]
        # compaction each January above 5 % of dead rows: a year's endings (departures,
        # deaths, unions, arrivals that never came: ~10 % of the table) come on top
        assert (rows <= 1.25 * living).all()
        hh = model.state.hh
        assert (np.diff(hh.hid) > 0).all()
        log = model.log.array()
        found = rows_of(model.state, log[0])
        # the households of the last year's moves are still in the table (compaction drops
        # only rows that ended before the last January)
        last_year = log[1] >= 12 * (YEARS - 1)
        assert (found[last_year] >= 0).all()
        cohort = cohort_table(model)
        assert len(cohort) == int(wide.loc[0, "living_households"])
        assert cohort.alive_end.sum() == np.isin(hh.hid[hh.alive], cohort.household).sum()
