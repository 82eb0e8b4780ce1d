"""Demography (ODD §7.1), stable household ids, compaction and the spin-up, on hand-built states."""

import numpy as np
import pytest

from mixsim.model.config import Behaviour
from mixsim.model.moves import KIND, MoveLog, compact_households, rows_of
from mixsim.model.processes.demography import (
    CHILD_AGE_GAP,
    MAN_LEAVES_WITH_CHILDREN,
    demography,
    fertility_rates,
    join_households,
    mortality_quotients,
    schedules,
)
from mixsim.model.rules import household_size
from mixsim.model.state import (
    APP_FIRST,
    APP_NONE,
    COUPLE,
    COUPLE_CHILDREN,
    GONE,
    HOSTED,
    PRIVATE,
    SINGLE,
    SINGLE_PARENT,
)

# Counts of Bernoulli events are compared with their expectation within 4 standard deviations
# (a false alarm about once in 16,000 runs per assertion).
SD = 4.0


def within(observed: float, n: int, p: float, sd: float = SD) -> bool:
    """Whether a binomial count is within ``sd`` standard deviations of n × p."""
    return abs(observed - n * p) <= sd * np.sqrt(n * p * (1 - p)) + 1e-9


def quiet(state):
    """Make the households of the hand-built state inert (no event of theirs in a month)."""
    hh = state.hh
    hh.alive[:] = False


def add(state, n, *, hh_type=SINGLE, adults=1, women=0, age=40.0, tenure=HOSTED, z=0.0,
        u14=0, o14=0):
    hh = state.hh
    idx = hh.add(n)
    hh.alive[idx] = True
    hh.hh_type[idx] = hh_type
    hh.adults[idx] = adults
    hh.women[idx] = women
    hh.kids_u14[idx] = u14
    hh.kids_14p[idx] = o14
    hh.age[idx] = age
    hh.tenure[idx] = tenure
    hh.nbhd[idx] = 0
    hh.z[idx] = z
    hh.income_uc[idx] = state.median_income_uc * np.exp(0.5 * z)
    return idx


def deaths_in(log: MoveLog, idx: np.ndarray) -> int:
    a = log.array()
    return int(np.isin(a[0][a[6] == KIND["death"]], idx).sum())


# ---- schedules ---------------------------------------------------------------------------------


def life_expectancy(q: np.ndarray) -> float:
    """Period life expectancy at birth from yearly quotients (deaths mid-year)."""
    survival = np.concatenate([[1.0], np.cumprod(1 - q)])
    return float((survival[:-1] + survival[1:]).sum() / 2)


def test_mortality_schedule_gives_insee_life_expectancy():
    # INSEE 2023: 80.0 years for men, 85.7 for women; the anchors are rounded, half a year
    # either way is the precision the approximation claims
    q_m, q_w = mortality_quotients()
    assert life_expectancy(q_m) == pytest.approx(80.0, abs=0.8)
    assert life_expectancy(q_w) == pytest.approx(85.7, abs=0.8)
    assert (q_w[20:100] < q_m[20:100]).all()  # women die less at every adult age
    assert (np.diff(q_m[30:110]) > 0).all()  # and mortality rises with age


def test_fertility_schedule_gives_the_2023_total_fertility():
    rate, in_couple, alone = fertility_rates()
    assert rate.sum() == pytest.approx(1.68, abs=1e-9)  # INSEE 2023: 1.68 children per woman
    assert rate[:15].sum() == rate[50:].sum() == 0
    assert (in_couple[20:45] > alone[20:45]).all()


# ---- events on a hand-built state --------------------------------------------------------------


def test_deaths_follow_the_quotients_of_age_and_sex(tiny_state):
    st = tiny_state
    quiet(st)
    men = add(st, 20_000, age=85.0, women=0)
    women = add(st, 20_000, age=85.0, women=1)
    young = add(st, 20_000, age=30.0, women=1)
    log = MoveLog()
    out = demography(st, Behaviour(), np.random.default_rng(3), log)
    q_m, q_w = schedules()[:2]
    d_m, d_w = deaths_in(log, men), deaths_in(log, women)
    assert within(d_m, 20_000, q_m[85]) and within(d_w, 20_000, q_w[85])
    assert d_m > d_w
    assert deaths_in(log, young) <= 5  # 0.03 expected
    assert out["deaths_persons"] == out["deaths"] == log.count("death")
    gone = np.concatenate([men, women])[~st.hh.alive[np.concatenate([men, women])]]
    assert (st.hh.tenure[gone] == GONE).all()


def test_a_couple_losing_a_partner_keeps_the_survivor(tiny_state):
    st = tiny_state
    quiet(st)
    couples = add(st, 30_000, hh_type=COUPLE, adults=2, women=1, age=88.0, tenure=PRIVATE)
    log = MoveLog()
    out = demography(st, Behaviour(separation_rate=0.0), np.random.default_rng(4), log)
    hh = st.hh
    widowed = couples[hh.adults[couples] == 1]
    q_m, q_w = schedules()[:2]
    # the man is taken one year older, the woman one year younger
    assert within(len(widowed), 30_000, q_m[89] + q_w[87])
    assert (hh.hh_type[widowed] == SINGLE).all() and hh.alive[widowed].all()
    widows = int((hh.women[widowed] == 1).sum())  # the man died
    assert within(widows, len(widowed), q_m[89] / (q_m[89] + q_w[87]))
    assert out["deaths_persons"] >= len(widowed) and log.count("death") == 0


def test_births_by_age_of_the_mother_in_couples_and_alone(tiny_state):
    st = tiny_state
    quiet(st)
    couples = add(st, 20_000, hh_type=COUPLE, adults=2, women=1, age=31.0)
    mothers = add(st, 20_000, age=30.0, women=1)
    men = add(st, 5_000, age=30.0, women=0)
    old = add(st, 5_000, hh_type=COUPLE, adults=2, women=1, age=56.0)
    beh = Behaviour(separation_rate=0.0)
    out = demography(st, beh, np.random.default_rng(1), MoveLog())
    hh = st.hh
    sched = schedules()
    b_c = int((hh.kids_u14[couples] > 0).sum())
    b_a = int((hh.kids_u14[mothers] > 0).sum())
    assert within(b_c, 20_000, sched[2][30]) and within(b_a, 20_000, sched[3][30])
    assert b_c > 3 * b_a  # most births are to mothers living in a couple
    assert (hh.kids_u14[men] == 0).all() and (hh.kids_u14[old] == 0).all()
    assert (hh.hh_type[couples[hh.kids_u14[couples] > 0]] == COUPLE_CHILDREN).all()
    assert (hh.hh_type[mothers[hh.kids_u14[mothers] > 0]] == SINGLE_PARENT).all()
    assert out["births"] == b_c + b_a


def test_children_leave_home_by_age(tiny_state):
    st = tiny_state
    quiet(st)
    n = 20_000
    older = add(st, n, hh_type=SINGLE_PARENT, women=1, age=CHILD_AGE_GAP + 23.0, o14=1,
                tenure=PRIVATE)
    younger = add(st, n, hh_type=SINGLE_PARENT, women=1, age=CHILD_AGE_GAP + 15.0, o14=1,
                  tenure=PRIVATE)
    n0 = st.hh.n
    out = demography(st, Behaviour(), np.random.default_rng(2), MoveLog())
    hh = st.hh
    leave = schedules()[4]
    left_o = int((hh.kids_14p[older] == 0).sum())
    left_y = int((hh.kids_14p[younger] == 0).sum())
    assert within(left_o, n, leave[int(CHILD_AGE_GAP) + 23])
    assert within(left_y, n, leave[int(CHILD_AGE_GAP) + 15])
    assert left_o > 3 * left_y  # a 23-year-old leaves far more often than a 15-year-old
    new = np.arange(n0, hh.n)
    kids = new[hh.separated[new] == 0]
    assert len(kids) == out["children_leaving"] == left_o + left_y
    assert (hh.tenure[kids] == HOSTED).all() and (hh.hh_type[kids] == SINGLE).all()
    assert (hh.age[kids] >= 18).all() and (hh.age[kids] <= 40).all()
    assert (hh.hh_type[older[hh.kids_14p[older] == 0]] == SINGLE).all()


def test_separations_the_man_leaves_most_families(tiny_state):
    st = tiny_state
    quiet(st)
    n = 40_000
    fam = add(st, n, hh_type=COUPLE_CHILDREN, adults=2, women=1, age=35.0, u14=2,
              tenure=PRIVATE)
    n0 = st.hh.n
    out = demography(st, Behaviour(birth_rate=0.0, death_rate_75=0.0),
                     np.random.default_rng(5), MoveLog())
    hh = st.hh
    split = fam[hh.adults[fam] == 1]
    assert within(len(split), n, schedules()[5][35])
    assert out["separations"] == len(split) == hh.n - n0 == st.formations
    new = np.arange(n0, hh.n)
    assert (hh.separated[new]).all() and (hh.tenure[new] == HOSTED).all()
    men_left = int((hh.women[new] == 0).sum())
    assert within(men_left, len(new), MAN_LEAVES_WITH_CHILDREN)
    assert (hh.hh_type[split] == SINGLE_PARENT).all()
    # persons are conserved: each separation moves one adult to a new household
    assert household_size(hh, split).sum() + len(new) == 4 * len(split)


def test_unions_pair_men_and_women_of_the_territory(tiny_state):
    st = tiny_state
    quiet(st)
    men = add(st, 20_000, age=27.0, women=0, tenure=HOSTED)
    women = add(st, 20_000, age=27.0, women=1, tenure=HOSTED, z=1.0)
    persons0 = household_size(st.hh)[st.hh.alive].sum()
    log = MoveLog()
    out = demography(st, Behaviour(birth_rate=0.0, death_rate_75=0.0),
                     np.random.default_rng(6), log)
    hh = st.hh
    couples = np.concatenate([men, women])
    couples = couples[hh.alive[couples] & (hh.adults[couples] == 2)]
    p = schedules()[6][27]
    # each union takes one seeker of each sex (pairs), the unpaired bring a partner from outside
    seekers = out["unions"] + log.count("union")
    assert within(seekers, 40_000, p)
    assert log.count("union") == out["unions"] - out["unions_outside"]
    assert len(couples) == out["unions"]
    assert (hh.women[couples] == 1).all() and (hh.hh_type[couples] == COUPLE).all()
    assert household_size(hh)[hh.alive].sum() == persons0 + out["unions_outside"]
    # the couple's income rank is the mean of the partners' (0 and 1)
    a = log.array()
    joined = a[0][a[6] == KIND["union"]]
    assert (~hh.alive[joined]).all() and (hh.tenure[joined] == GONE).all()
    local = couples[np.isclose(hh.z[couples], 0.5)]
    assert len(local) >= log.count("union")


def test_join_households_moves_the_joiner_into_the_housed_partners_home(tiny_state):
    st = tiny_state
    hh, dw = st.hh, st.dw
    housed = np.flatnonzero(hh.alive & (hh.dwelling >= 0) & (hh.adults == 1)
                            & (hh.women == 0))[:3]
    hosted = add(st, 3, women=1, age=30.0, tenure=HOSTED, u14=1, hh_type=SINGLE_PARENT)
    hh.app[hosted] = APP_FIRST
    hh.app_month[hosted] = -7
    hh.app[housed] = APP_NONE
    homes = hh.dwelling[housed].copy()
    log = MoveLog()
    log.bind(hh)
    join_households(st, hosted, housed, log)
    assert (hh.dwelling[housed] == homes).all() and (dw.occupant[homes] == housed).all()
    assert (hh.adults[housed] == 2).all() and (hh.kids_u14[housed] >= 1).all()
    assert (hh.hh_type[housed] == COUPLE_CHILDREN).all()
    assert (~hh.alive[hosted]).all()
    assert (hh.app[housed] != APP_NONE).all() and (hh.app_month[housed] == -7).all()
    a = log.array()
    assert (a[6] == KIND["union"]).all() and (a[0] == hh.hid[hosted]).all()
    assert (a[4] == homes).all()


# ---- stable ids and compaction -----------------------------------------------------------------


def test_compaction_keeps_ids_occupants_and_the_move_log_valid(tiny_state):
    st = tiny_state
    hh, dw = st.hh, st.dw
    log = MoveLog()
    log.bind(hh)
    add(st, 50, age=40.0)
    rng = np.random.default_rng(7)
    dead = np.sort(rng.choice(hh.n, 120, replace=False))
    from mixsim.model.moves import remove
    remove(st, dead, log, "departure")
    survivors = np.flatnonzero(hh.alive)
    before = {c: getattr(hh, c)[survivors].copy() for c in hh.columns()}
    occupied = dw.occupant >= 0
    occ_hid = hh.hid[dw.occupant[occupied]].copy()
    next_id = hh.next_id
    new = compact_households(st)
    assert hh.n == len(survivors) and hh.alive.all()
    for c, v in before.items():
        # nan (an RFR not recorded yet) compares equal to itself
        assert np.array_equal(getattr(hh, c), v, equal_nan=v.dtype.kind == "f"), c
    assert (np.diff(hh.hid) > 0).all()
    occ = dw.occupant >= 0
    assert (occ == occupied).all() and (hh.hid[dw.occupant[occ]] == occ_hid).all()
    assert (hh.dwelling[dw.occupant[occ]] == np.flatnonzero(occ)).all()
    assert (new[dead] == -1).all() and (new[survivors] == np.arange(len(survivors))).all()
    # the log's ids: the dropped households are not found, the others are
    ids = log.array()[0]
    assert (rows_of(st, ids) == -1).all()
    assert (rows_of(st, before["hid"]) == np.arange(hh.n)).all()
    idx = hh.add(2)  # new rows get new ids
    assert list(hh.hid[idx]) == [next_id, next_id + 1]


# ---- spin-up -----------------------------------------------------------------------------------


def test_spin_up_is_cached_on_disk_and_shared_by_every_seed(tiny_territory, tmp_path,
                                                            monkeypatch):
    from mixsim.model import model as model_mod
    from mixsim.model.spinup import cache_folder

    monkeypatch.setenv("MIXSIM_CACHE_DIR", str(tmp_path))
    model_mod._INITIAL_STATES.clear()
    rng = np.random.default_rng(11)
    untouched = np.random.default_rng(11).random(3)
    a = model_mod.initial_state(tiny_territory, rng, 2)
    # the spin-up draws with its own generator: the run's stream starts at its seed
    assert (rng.random(3) == untouched).all()
    files = list(cache_folder().glob("s*.pkl"))
    assert len(files) == 1
    model_mod._INITIAL_STATES.clear()  # (so that the second build reads the file)
    b = model_mod.initial_state(tiny_territory, np.random.default_rng(12), 2)
    assert len(list(cache_folder().glob("s*.pkl"))) == 1  # another seed, the same state
    for c in a.hh.columns():
        np.testing.assert_array_equal(getattr(a.hh, c), getattr(b.hh, c), err_msg=c)
    assert a.month == b.month == 0 and a.hh.alive.all()
    assert (a.hh.hid == np.arange(a.hh.n)).all() and a.hh.cohort.all()
    assert (a.hh.move_in <= 0).all()
    # built afresh (no cache) it is the same state again
    model_mod._INITIAL_STATES.clear()
    for f in cache_folder().glob("s*.pkl"):
        f.unlink()
    c = model_mod.initial_state(tiny_territory, np.random.default_rng(99), 2)
    for col in a.hh.columns():  # (nan: an RFR not recorded yet)
        np.testing.assert_array_equal(getattr(a.hh, col), getattr(c.hh, col), err_msg=col)
    model_mod._INITIAL_STATES.clear()


def test_spin_up_cache_keeps_the_recently_used_states_within_its_size(tmp_path, monkeypatch):
    import os
    import pickle

    from mixsim.model import spinup

    monkeypatch.setenv("MIXSIM_CACHE_DIR", str(tmp_path))
    blob = np.zeros(100_000)  # about 800 kB pickled: three fit in 2.5 MB, four do not
    size = len(pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL))
    monkeypatch.setattr(spinup, "CACHE_BYTES_KEPT", int(3.5 * size))
    for k, name in enumerate(["sa.pkl", "sb.pkl", "sc.pkl"]):
        spinup.store_cached(name, blob)
        os.utime(spinup.cache_folder() / name, (1000 + k, 1000 + k))  # written in this order
    assert spinup.load_cached("sa.pkl") is not None  # read: now the most recently used
    spinup.store_cached("sd.pkl", blob)  # a fourth exceeds the size: the least recent goes
    assert sorted(f.name for f in spinup.cache_folder().glob("s*.pkl")) == ["sa.pkl", "sc.pkl",
                                                                            "sd.pkl"]
    # the number of files is capped too, and the state just written is always kept
    monkeypatch.setattr(spinup, "CACHE_FILES_KEPT", 1)
    monkeypatch.setattr(spinup, "CACHE_BYTES_KEPT", size // 2)
    spinup.store_cached("se.pkl", blob)
    assert [f.name for f in spinup.cache_folder().glob("s*.pkl")] == ["se.pkl"]


def test_runs_of_two_seeds_share_the_spun_up_state_then_differ(tiny_territory):
    from mixsim.model import model as model_mod
    from mixsim.model.config import Scenario

    m1 = model_mod.HousingModel(Scenario(years=1), territory=tiny_territory, rng=1,
                                spin_up_years=2)
    m2 = model_mod.HousingModel(Scenario(years=1), territory=tiny_territory, rng=2,
                                spin_up_years=2)
    assert (m1.state.hh.income_uc == m2.state.hh.income_uc).all()
    m1.run(1)
    m2.run(1)
    assert (m1.state.hh.n != m2.state.hh.n
            or (m1.state.hh.income_uc != m2.state.hh.income_uc).any())


def test_spin_up_runs_the_scenarios_behaviour_not_its_levers(tiny_territory, tmp_path,
                                                             monkeypatch):
    """Behaviour is the territory's past (its own spin-up); levers act from year 0 only."""
    import dataclasses

    from mixsim.model import model as model_mod
    from mixsim.model.config import Behaviour, Levers, Scenario
    from mixsim.model.spinup import cache_folder

    monkeypatch.setenv("MIXSIM_CACHE_DIR", str(tmp_path))
    model_mod._INITIAL_STATES.clear()
    base = model_mod.initial_state(tiny_territory, np.random.default_rng(11), 2)
    # a much higher departure rate over the two years of spin-up leaves another population
    other_beh = dataclasses.replace(Behaviour(), leave_rate=0.4)
    other = model_mod.initial_state(tiny_territory, np.random.default_rng(11), 2, other_beh)
    assert len(list(cache_folder().glob("s*.pkl"))) == 2
    assert other.hh.n != base.hh.n or (other.hh.age != base.hh.age).any()
    # growth, real income growth and the private vacancy target are held at 0 whatever the
    # scenario says, so a behaviour differing only there shares the default's spun-up state
    grown = dataclasses.replace(Behaviour(), growth=0.03, income_growth=0.02)
    same = model_mod.initial_state(tiny_territory, np.random.default_rng(11), 2, grown)
    assert len(list(cache_folder().glob("s*.pkl"))) == 2
    assert (same.hh.age == base.hh.age).all()
    # year 0 has the territory's incomes and ceilings: the spin-up does not move the money
    drawn = model_mod.initial_state(tiny_territory, np.random.default_rng(11), 0)
    assert same.median_income_uc == base.median_income_uc == drawn.median_income_uc
    assert same.ceiling_index == base.ceiling_index == drawn.ceiling_index == 1.0
    # a lever does not change the spun-up state the model starts from
    lev = Levers()
    lev = dataclasses.replace(lev, quota_q1=dataclasses.replace(lev.quota_q1, enforcement="strict"))
    m0 = model_mod.HousingModel(Scenario(years=1), territory=tiny_territory, rng=11,
                                spin_up_years=2)
    m1 = model_mod.HousingModel(Scenario(years=1, levers=lev), territory=tiny_territory,
                                rng=11, spin_up_years=2)
    assert (m0.state.hh.age == m1.state.hh.age).all()
    model_mod._INITIAL_STATES.clear()


def test_spin_up_behaviour_starts_a_scenario_from_another_behaviours_state(tiny_territory,
                                                                          tmp_path, monkeypatch):
    """``spin_up_behaviour`` (sensitivity ``spin_up = "base"``): the state is the given
    behaviour's; the scenario's own behaviour then acts from year 0."""
    import dataclasses

    from mixsim.model import model as model_mod
    from mixsim.model.config import Behaviour, Scenario

    monkeypatch.setenv("MIXSIM_CACHE_DIR", str(tmp_path))
    model_mod._INITIAL_STATES.clear()
    other = Scenario(years=1, behaviour=dataclasses.replace(Behaviour(), leave_rate=0.4))
    own = model_mod.HousingModel(other, territory=tiny_territory, rng=5, spin_up_years=2)
    base = model_mod.HousingModel(Scenario(years=1), territory=tiny_territory, rng=5,
                                  spin_up_years=2)
    moved = model_mod.HousingModel(other, territory=tiny_territory, rng=5, spin_up_years=2,
                                   spin_up_behaviour=Behaviour())
    # its own spin-up leaves another population; the base's spin-up leaves the base's
    assert own.state.hh.n != base.state.hh.n or (own.state.hh.age != base.state.hh.age).any()
    for col in base.state.hh.columns():
        np.testing.assert_array_equal(getattr(moved.state.hh, col), getattr(base.state.hh, col),
                                      err_msg=col)
    # from year 0 on, the scenario's behaviour acts: departures at 40 % a year empty more homes
    base.run(1)
    moved.run(1)
    assert moved.state.hh.alive.sum() < base.state.hh.alive.sum()
    model_mod._INITIAL_STATES.clear()
