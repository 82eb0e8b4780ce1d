import subprocess
import sys

import numpy as np
import pytest
from conftest import write_tables

from mixsim.model.errors import InputError
from mixsim.model.territory import default_territory, load_folder, load_territory, scale_territory


def test_default_territory_has_the_specified_orders_of_magnitude():
    s = default_territory().summary()
    assert 90_000 <= s["households"] <= 110_000
    assert s["communes"] == 8 and 45 <= s["neighbourhoods"] <= 55 and 8 <= s["qpv"] <= 12
    assert 0.16 <= s["social_share"] <= 0.20
    assert 0.28 <= s["social_in_qpv_share"] <= 0.40  # "about a third" (USH 2022)


def test_default_territory_poverty_contrast_after_synthesis():
    """QPV poverty ~43 % vs ~15 % overall (ONPV 2018): below 60 % of the median income/UC."""
    from mixsim.model.population import build_state
    from mixsim.model.state import HOSTED
    st = build_state(default_territory(), np.random.default_rng(3))
    hh, nb = st.hh, st.nb
    housed = hh.tenure != HOSTED
    poor = hh.income_uc < 0.6 * np.median(hh.income_uc[housed])
    in_qpv = nb.qpv[hh.nbhd] & housed
    # tolerance: the synthetic territory targets orders of magnitude, not exact figures
    assert 0.33 <= poor[in_qpv].mean() <= 0.53
    assert 0.10 <= poor[housed].mean() <= 0.20


def test_scale_keeps_proportions():
    full = default_territory().summary()
    small = load_territory(scale=0.1).summary()
    assert 9_000 <= small["households"] <= 11_000
    for k in ("social_share", "social_in_qpv_share", "q1_share_in_qpv"):
        assert small[k] == pytest.approx(full[k], abs=0.02)


def test_scaled_population_still_fits_in_the_dwellings():
    from mixsim.model.territory import validate
    t = scale_territory(default_territory(), 0.03)
    validate({k: getattr(t, k) for k in ("communes", "neighbourhoods", "dwellings",
                                         "social_stock", "population", "applicants")})


@pytest.mark.slow
def test_build_script_reproduces_the_shipped_files():
    r = subprocess.run([sys.executable, "-m", "mixsim.model.data.build_default", "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_local_folder_round_trip(tmp_path, tables):
    write_tables(tmp_path / "t", tables)
    t = load_folder(tmp_path / "t")
    assert t.n_households == int(tables["population"]["count"].sum())


@pytest.mark.parametrize("table, change, words", [
    ("population", lambda df: df.drop(columns="quartile"), "missing column(s) quartile"),
    ("population", lambda df: df.assign(count=df["count"].where(df.index != 2, -3)),
     "row 4, column 'count'"),
    ("dwellings", lambda df: df.assign(rooms=df.rooms.where(df.index != 0, 9)),
     "from 1 to 5"),
    ("social_stock", lambda df: df.assign(financing=df.financing.where(df.index != 1, "PLX")),
     "allowed: PLAI, PLUS, PLS"),
    ("population", lambda df: df.assign(neighbourhood=df.neighbourhood.where(df.index != 0,
                                                                              "ZZ")),
     "neighbourhood 'ZZ' is not in"),
    ("population", lambda df: df.assign(count=df["count"] * 50), "inconsistent totals"),
    ("neighbourhoods", lambda df: df.assign(qpv=df.qpv.astype(str).where(df.index != 0, "yes")),
     "expected a number"),
    ("neighbourhoods", lambda df: df.assign(extra=1), "unknown column(s) extra"),
    ("applicants", lambda df: df.assign(count=df["count"] * 100), "inconsistent totals"),
])
def test_bad_data_names_file_row_column(tmp_path, tables, table, change, words):
    tables[table] = change(tables[table])
    write_tables(tmp_path / "t", tables)
    with pytest.raises(InputError) as e:
        load_folder(tmp_path / "t")
    msg = str(e.value)
    assert f"{table}.csv" in msg and words in msg


def test_missing_table_and_missing_folder(tmp_path, tables):
    with pytest.raises(InputError, match="territory folder not found"):
        load_folder(tmp_path / "nope")
    del tables["applicants"]
    write_tables(tmp_path / "t", tables)
    with pytest.raises(InputError, match="missing table applicants.csv"):
        load_folder(tmp_path / "t")
