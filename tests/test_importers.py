"""Tests for calibration.importers: Filosofi and RPLS readers, the IRIS table, the builder."""

import math
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixsim.calibration.importers import (
    build_territory_from_public,
    national_quartile_cuts,
    read_filosofi_iris,
    read_iris_table,
    read_rpls_communes,
)
from mixsim.model.errors import InputError
from mixsim.model.territory import SCHEMA, load_folder, validate

EXAMPLE = Path(__file__).resolve().parents[1] / "calibration" / "example_data"
FILOSOFI = EXAMPLE / "filosofi_iris_sample.csv"
RPLS = EXAMPLE / "rpls_communes_sample.csv"
IRIS_TABLE = EXAMPLE / "iris_table.csv"

FILO_HEADER = ("IRIS;LIBIRIS;COM;LIBCOM;DISP_TP6021;DISP_Q121;DISP_MED21;DISP_Q321;DISP_D121;"
               "DISP_D921")
RPLS_HEADER = "DEPCOM_ARM;LIBCOM;nb_ls;nb_loues;nb_vacants;nb_ls_en_qpv;tx_vac;tx_mob"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def built():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example builds without any fallback
        return build_territory_from_public(FILOSOFI, RPLS, IRIS_TABLE, seed=0)


# --------------------------------------------------------------------------
# Filosofi
# --------------------------------------------------------------------------


def test_filosofi_missing_codes_decimal_comma_and_keys(tmp_path):
    f = _write(tmp_path, "filo.csv", "\n".join([
        FILO_HEADER,
        "010530101;Centre;01053;Bourg;12,5;15230;21870,5;30120;11040;40200",
        "010530102;Gare;01053;Bourg;nd;ns;19800;so;s;",
        "010530103;Nord;01053;Bourg; ND ;14000;18000;26000;9000;35000",
    ]) + "\n")
    df = read_filosofi_iris(f)
    assert list(df.iris) == ["010530101", "010530102", "010530103"]  # leading zero kept
    assert list(df.com) == ["01053"] * 3
    assert df.disp_med.iloc[0] == 21870.5 and df.disp_tp60.iloc[0] == 12.5
    assert df.loc[1, ["disp_tp60", "disp_q1", "disp_q3", "disp_d1", "disp_d9"]].isna().all()
    assert math.isnan(df.disp_tp60.iloc[2])  # codes are case- and space-insensitive
    assert df.disp_med.iloc[1] == 19800.0


def test_filosofi_year_suffix_stripped_and_year_set(tmp_path):
    f = _write(tmp_path, "filo.csv", FILO_HEADER + "\n010530101;A;01053;B;12,5;1;2;3;4;5\n")
    df = read_filosofi_iris(f)
    assert set(df.columns) >= {"iris", "libiris", "com", "libcom", "year", "disp_tp60",
                               "disp_q1", "disp_med", "disp_q3", "disp_d1", "disp_d9"}
    assert (df.year == 2021).all()
    dec = _write(tmp_path, "dec.csv", "IRIS;COM;DEC_MED15;DEC_D115;DEC_D915;DEC_GI15\n"
                 "751010101;75101;30000;9000;70000;0,41\n")
    df = read_filosofi_iris(dec)
    assert list(df.columns[:3]) == ["iris", "com", "year"]
    assert df.year.iloc[0] == 2015
    assert df.dec_med.iloc[0] == 30000 and df.dec_gi.iloc[0] == pytest.approx(0.41)


def test_filosofi_restores_leading_zeros_and_derives_com(tmp_path):
    f = _write(tmp_path, "filo.csv", "IRIS;DISP_MED19\n10530101;20000\n2A0040000;18000\n")
    df = read_filosofi_iris(f)
    assert list(df.iris) == ["010530101", "2A0040000"]
    assert list(df.com) == ["01053", "2A004"]


def test_filosofi_comma_separated_file_is_a_wrong_separator(tmp_path):
    f = _write(tmp_path, "filo.csv", FILO_HEADER.replace(";", ",")
               + "\n010530101,A,01053,B,12.5,1,2,3,4,5\n")
    with pytest.raises(InputError, match=r"wrong separator.*looks ','-separated") as err:
        read_filosofi_iris(f)
    assert err.value.source == str(f)
    # the comma-separated 2019 declared-income files can be read by saying so
    assert read_filosofi_iris(f, sep=",").disp_tp60.iloc[0] == 12.5


def test_filosofi_missing_iris_column(tmp_path):
    f = _write(tmp_path, "filo.csv", "CODE;COM;DISP_MED21\n010530101;01053;20000\n")
    with pytest.raises(InputError, match="missing key column 'IRIS'") as err:
        read_filosofi_iris(f)
    assert err.value.source == str(f) and "IRIS" in err.value.field


def test_filosofi_all_missing_column(tmp_path):
    f = _write(tmp_path, "filo.csv", "IRIS;DISP_MED21;DISP_D121\n010530101;20000;nd\n"
               "010530102;21000;s\n")
    with pytest.raises(InputError, match="every value is missing") as err:
        read_filosofi_iris(f)
    assert err.value.field == "column 'DISP_D121'"
    assert str(f) in str(err.value)


def test_filosofi_unparsable_number_names_row_and_column(tmp_path):
    f = _write(tmp_path, "filo.csv", "IRIS;DISP_MED21;DISP_D121\n010530101;20000;9000\n"
               "010530102;21 000;abc\n")
    with pytest.raises(InputError, match="got 'abc'; expected a number") as err:
        read_filosofi_iris(f)
    assert err.value.field == "row 3, column 'DISP_D121'"  # header = row 1
    assert err.value.source == str(f)


def test_filosofi_other_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_filosofi_iris(tmp_path / "absent.csv")
    f = _write(tmp_path, "mixed.csv", "IRIS;DISP_MED20;DISP_MED21\n010530101;1;2\n")
    with pytest.raises(InputError, match="several years"):
        read_filosofi_iris(f)
    f = _write(tmp_path, "dup.csv", "IRIS;DISP_MED21\n010530101;1\n010530101;2\n")
    with pytest.raises(InputError, match="duplicate key") as err:
        read_filosofi_iris(f)
    assert err.value.field == "row 3, column 'IRIS'"
    f = _write(tmp_path, "bad.csv", "IRIS;DISP_MED21\n01053-0101;1\n")
    with pytest.raises(InputError, match="9-character IRIS code"):
        read_filosofi_iris(f)


# --------------------------------------------------------------------------
# RPLS
# --------------------------------------------------------------------------


def test_rpls_reads_codes_as_strings_and_decimal_commas(tmp_path):
    f = _write(tmp_path, "rpls.csv", RPLS_HEADER + "\n01053;Bourg;1200;1150;30;400;2,5;9,1\n"
               "1004;Ambérieu;300;290;5;0;1,7;nd\n")
    df = read_rpls_communes(f)
    assert list(df.depcom_arm) == ["01053", "01004"]
    assert df.tx_vac.iloc[0] == 2.5 and math.isnan(df.tx_mob.iloc[1])
    assert df.nb_ls.dtype == float and df.libcom.iloc[1] == "Ambérieu"
    comma = _write(tmp_path, "rpls2.csv", RPLS_HEADER.replace(";", ",")
                   + "\n01053,Bourg,1200,1150,30,400,2.5,9.1\n")
    assert read_rpls_communes(comma).tx_mob.iloc[0] == 9.1


def test_rpls_missing_depcom_arm(tmp_path):
    f = _write(tmp_path, "rpls.csv", RPLS_HEADER.replace("DEPCOM_ARM", "DEPCOM")
               + "\n01053;Bourg;1200;1150;30;400;2,5;9,1\n")
    with pytest.raises(InputError, match="missing key column 'DEPCOM_ARM'") as err:
        read_rpls_communes(f)
    assert err.value.source == str(f) and "DEPCOM_ARM" in err.value.field


def test_rpls_wrong_separator(tmp_path):
    f = _write(tmp_path, "rpls.csv", RPLS_HEADER.replace(";", "|")
               + "\n01053|Bourg|1200|1150|30|400|2.5|9.1\n")
    with pytest.raises(InputError, match="wrong separator"):
        read_rpls_communes(f)


@pytest.mark.parametrize("row, match, field", [
    ("01053;Bourg;1200;1150;30;400;2,5;x", "got 'x'; expected a number", "row 2, column 'tx_mob'"),
    ("01053;Bourg;1200;1150;-3;400;2,5;9", "cannot be negative", "row 2, column 'nb_vacants'"),
    ("01053;Bourg;1200;1190;30;400;2,5;9", "exceeds nb_ls", "row 2, column 'nb_loues, nb_vacants'"),
    ("01053;Bourg;1200;1150;30;1300;2,5;9", "nb_ls_en_qpv", "row 2, column 'nb_ls_en_qpv'"),
    ("01053;Bourg;1200;1150;30;400;250;9", "at most 100", "row 2, column 'tx_vac'"),
    ("0105;Bourg;1200;1150;30;400;2,5;9", None, None),  # 4 digits: a lost leading zero, fine
    ("01053x;Bourg;1200;1150;30;400;2,5;9", "5-character commune code",
     "row 2, column 'DEPCOM_ARM'"),
])
def test_rpls_row_errors(tmp_path, row, match, field):
    f = _write(tmp_path, "rpls.csv", RPLS_HEADER + "\n" + row + "\n")
    if match is None:
        assert read_rpls_communes(f).depcom_arm.iloc[0] == "00105"
        return
    with pytest.raises(InputError, match=match) as err:
        read_rpls_communes(f)
    assert err.value.field == field and err.value.source == str(f)


def test_rpls_rounding_tolerance_and_all_missing(tmp_path):
    ok = _write(tmp_path, "ok.csv", RPLS_HEADER + "\n01053;B;1200;1171;30;0;2,5;9\n")
    assert read_rpls_communes(ok).nb_loues.iloc[0] == 1171  # one dwelling over: rounding
    f = _write(tmp_path, "rpls.csv", RPLS_HEADER + "\n01053;B;1200;1150;30;0;2,5;nd\n"
               "01054;C;100;90;3;0;3;s\n")
    with pytest.raises(InputError, match="every value is missing") as err:
        read_rpls_communes(f)
    assert err.value.field == "column 'tx_mob'"


def test_rpls_xlsx_without_openpyxl_says_so(tmp_path):
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("openpyxl is installed")
    f = tmp_path / "resultats_rpls_2023.xlsx"
    f.write_bytes(b"PK")
    with pytest.raises(InputError, match="openpyxl"):
        read_rpls_communes(f)


# --------------------------------------------------------------------------
# IRIS table
# --------------------------------------------------------------------------


def test_iris_table_errors(tmp_path):
    base = pd.read_csv(IRIS_TABLE, dtype=str)
    t = read_iris_table(base)
    assert t.iris.iloc[0] == "001010101" and t.commune.iloc[0] == "00101"
    bad = base.copy()
    bad.loc[3, "owner_share"] = "0.9"
    with pytest.raises(InputError, match="add up to") as err:
        read_iris_table(bad)
    assert err.value.field.startswith("row 5")
    f = _write(tmp_path, "iris.csv", base.drop(columns="households").to_csv(index=False))
    with pytest.raises(InputError, match="missing column.*households") as err:
        read_iris_table(f)
    assert err.value.source == str(f)
    bad = base.copy()
    bad.loc[0, "iris"] = "001029999"
    with pytest.raises(InputError, match="does not belong to commune"):
        read_iris_table(bad)


# --------------------------------------------------------------------------
# example folder and the builder
# --------------------------------------------------------------------------


def test_example_folder_loads():
    t = load_folder(EXAMPLE)
    assert len(t.communes) == 3
    assert len(t.neighbourhoods) == 12 and t.neighbourhoods.qpv.sum() == 2
    assert 2_000 <= t.n_households <= 10_000
    assert t.communes.commune.iloc[0] == "00101"


def test_example_targets_file():
    with open(EXAMPLE / "targets.toml", "rb") as f:
        targets = tomllib.load(f)["targets"]
    want = {"turnover": 0.088, "vacancy": 0.024, "applicants_per_allocation": 4.3,
            "transfer_share": 0.30, "mean_wait_days": 520, "q1_share_leases_outside_qpv": 0.155,
            "refusing_applicant_share": 0.46, "poverty_rate_qpv": 0.432, "sls_payer_share": 0.03}
    from mixsim.calibration.targets import default_targets
    assert set(targets) == set(default_targets().names)  # the national figures, standing in
    for name, value in want.items():
        assert targets[name]["value"] == pytest.approx(value)
        assert targets[name]["tolerance"] > 0 and targets[name]["source"]


def test_public_samples_build_a_valid_territory(built):
    t = validate({k: built[k] for k in SCHEMA})
    assert len(t.neighbourhoods) == 12 and t.n_households > 5_000
    # social stock of each commune equals its RPLS nb_ls
    rpls = read_rpls_communes(RPLS).set_index("depcom_arm")
    stock = t.social_stock.merge(t.neighbourhoods[["neighbourhood", "commune"]])
    per_commune = stock.groupby("commune")["count"].sum()
    for com, n in per_commune.items():
        assert n == rpls.nb_ls[com]
    qpv_nb = set(t.neighbourhoods.neighbourhood[t.neighbourhoods.qpv == 1])
    assert stock[stock.neighbourhood.isin(qpv_nb)]["count"].sum() == rpls.nb_ls_en_qpv["00101"]


def test_population_margins_match_within_the_reported_error(built):
    pop = built["population"]
    fit = built["ipf_fit"].set_index("margin")
    assert fit.converged.all()
    margins = built["ipf_margins"]
    for label, keys in (("neighbourhood x tenure", ["neighbourhood", "tenure"]),
                        ("neighbourhood x quartile", ["neighbourhood", "quartile"]),
                        ("tenure x hh_type", ["tenure", "hh_type"])):
        target = margins[margins.margin == label].copy()
        if "quartile" in keys:
            target["quartile"] = target.quartile.astype(int)
        got = pop.groupby(keys)["count"].sum()
        got = target.set_index(keys).join(got.rename("got")).fillna({"got": 0})
        diff = (got.got - got.target).abs()
        assert diff.max() <= fit.loc[label, "max_abs_error"] + 1e-9
        assert (got.fitted - got.target).abs().max() <= fit.loc[label, "ipf_max_abs_error"] + 1e-6
        assert fit.loc[label, "ipf_max_abs_error"] < 1e-4
    assert fit.loc["neighbourhood x tenure", "max_abs_error"] == 0  # kept exactly


def test_iris_table_build_matches_the_shipped_example_from_public_files(built):
    # the shipped tables come from `mixsim territory build` on the raw samples (census counts
    # equal to iris_table.csv's households and shares, ids = IRIS codes); the IRIS-table path
    # gives the same households by neighbourhood and tenure, social stock and communes
    ids = dict(zip(read_iris_table(IRIS_TABLE).neighbourhood, read_iris_table(IRIS_TABLE).iris,
                   strict=True))
    shipped = load_folder(EXAMPLE)
    pd.testing.assert_frame_equal(built["communes"], shipped.communes, check_dtype=False)
    mine = built["population"].assign(neighbourhood=built["population"].neighbourhood.map(ids))
    pd.testing.assert_series_equal(
        mine.groupby(["neighbourhood", "tenure"])["count"].sum(),
        shipped.population.groupby(["neighbourhood", "tenure"])["count"].sum())
    stock = built["social_stock"].assign(neighbourhood=built["social_stock"].neighbourhood.map(ids))
    pd.testing.assert_series_equal(stock.groupby("neighbourhood")["count"].sum(),
                                   shipped.social_stock.groupby("neighbourhood")["count"].sum())
    nb = built["neighbourhoods"]
    nb = nb.assign(neighbourhood=nb.neighbourhood.map(ids))
    cols = ["neighbourhood", "commune", "name", "qpv", "base_attractiveness", "private_rent_m2"]
    pd.testing.assert_frame_equal(nb[cols], shipped.neighbourhoods[cols], check_dtype=False)


def test_income_quartiles_follow_the_filosofi_medians(built):
    inc = built["income_fit"].set_index("neighbourhood")
    assert (inc.origin == "iris").all()
    # the poorest IRIS (a QPV, median 12,900 €) has the largest Q1 share
    assert inc.q1_share.idxmax() == "N03"
    shares = inc[["q1_share", "q2_share", "q3_share", "q4_share"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, atol=2e-4)  # rounded to 4 decimals
    q1, med, q3 = national_quartile_cuts(2021)
    assert inc.cut_q1.iloc[0] == pytest.approx(q1, abs=0.1)


def test_national_cuts_by_hand():
    # 2019 ERFS: D1 11,660, median 22,040, D9 39,930; sigma = ln(D9/D1) / (2 * 1.28155)
    sigma = math.log(39_930 / 11_660) / (2 * 1.2815516)
    q1, med, q3 = national_quartile_cuts(2019)
    assert med == pytest.approx(22_040)
    assert q1 == pytest.approx(22_040 * math.exp(-0.6744898 * sigma), rel=1e-6)
    assert q3 == pytest.approx(22_040 * math.exp(0.6744898 * sigma), rel=1e-6)
    assert national_quartile_cuts(2030) == national_quartile_cuts(2022)


def test_territory_cuts_give_equal_quartiles_and_missing_iris_falls_back():
    iris = read_iris_table(IRIS_TABLE)
    iris.loc[iris.neighbourhood == "N08", "iris"] = ""  # no Filosofi row for this one
    with pytest.warns(UserWarning, match=r"N08 \(commune average\)"):
        tables = build_territory_from_public(FILOSOFI, RPLS, iris, quartile_cuts="territory",
                                             households=4_000, seed=1)
    q = tables["population"].groupby("quartile")["count"].sum()
    assert q.max() - q.min() <= 0.02 * q.sum()
    housed = tables["population"][tables["population"].tenure != "hosted"]["count"].sum()
    assert abs(housed - 4_000) <= 12  # the households argument rescales the table
    with pytest.raises(InputError, match="quartile_cuts"):
        build_territory_from_public(FILOSOFI, RPLS, IRIS_TABLE, quartile_cuts=(3, 2, 1))


def test_tenure_step_alone_by_hand():
    from mixsim.calibration.importers import tenure_by_neighbourhood
    it = read_iris_table(pd.DataFrame({
        "neighbourhood": ["A", "B"], "commune": ["01053", "01053"], "qpv": ["1", "0"],
        "x": ["0", "1"], "y": ["0", "0"], "households": ["200", "300"],
        "owner_share": ["0.2", "0.6"], "private_share": ["0.2", "0.3"]}))
    rp = pd.DataFrame({"depcom_arm": ["01053"], "nb_ls": [100.0], "nb_ls_en_qpv": [60.0],
                       "nb_loues": [95.0]})
    t = tenure_by_neighbourhood(it, rp)
    # nb_ls_en_qpv = 60 goes to the QPV neighbourhood A, the other 40 to B
    assert list(t.stock) == [60, 40]
    # 95 % of each stock is let: 57 and 38 social tenants
    assert list(t.tenure[:, 0]) == [57, 38]
    # the rest in the owner : private ratio (A 1:1 -> 72/71, B 2:1 -> 175/87), hosted 3.5 % in
    # QPV (7) and 2.5 % elsewhere (7.5 -> 8)
    assert list(t.tenure[0]) == [57, 71, 72, 7]
    assert list(t.tenure[1]) == [38, 87, 175, 8]


# --------------------------------------------------------------------------
# the shared reading helpers, the income model and one commune's stock, alone
# --------------------------------------------------------------------------


def test_reading_helpers_alone(tmp_path):
    from mixsim.calibration.readers import (
        COM_CODE,
        check_unique,
        clean_code,
        read_csv_table,
        to_number,
    )
    s = pd.Series(["1 234,5", "nd", "", "7.25", "\u00a012"])
    np.testing.assert_array_equal(to_number(s, "f.csv", "x"),
                                  [1234.5, np.nan, np.nan, 7.25, 12.0])
    with pytest.raises(InputError, match="got '1,2,3'") as err:
        to_number(pd.Series(["1", "1,2,3"]), "f.csv", "x", rows=np.array([5, 9]))
    assert err.value.source == "f.csv" and err.value.field == "row 9, column 'x'"
    assert list(clean_code(pd.Series(["1053", " 2A004 "]), 5, COM_CODE, "commune code",
                           "f.csv", "c")) == ["01053", "2A004"]
    with pytest.raises(InputError, match="5-character commune code") as err:
        clean_code(pd.Series(["01053", "2C004"]), 5, COM_CODE, "commune code", "f.csv", "c")
    assert err.value.field == "row 3, column 'c'"
    with pytest.raises(InputError, match="duplicate key 'a'") as err:
        check_unique(pd.Series(["a", "", "", "a"]), "f.csv", "k")  # blanks may repeat
    assert err.value.field == "row 5, column 'k'"
    tab = _write(tmp_path, "t.tsv", "a\tb\tc;d\n1\t2\t3;4\n")  # the most frequent wins
    df, source, sep = read_csv_table(tab)
    assert sep == "\t" and list(df.columns) == ["a", "b", "c;d"] and source == str(tab)


def test_iris_table_bounds_name_row_and_column():
    base = pd.read_csv(IRIS_TABLE, dtype=str)
    for col, value, allowed in (("private_rent_m2", "75", "from 1 to 60"),
                                ("qpv", "0.5", "0 or 1"),
                                ("households", "0", "a positive number"),
                                ("owner_share", "1.2", "a share from 0 to 1")):
        bad = base.copy()
        if col not in bad:
            bad[col] = ""
        bad.loc[2, col] = value
        with pytest.raises(InputError, match=f"got '{value}'; expected {allowed}") as err:
            read_iris_table(bad)
        assert err.value.field == f"row 4, column '{col}'"


def test_income_gaps_filled_from_the_commune_then_the_territory():
    from mixsim.calibration.income import _fill_gaps
    mu = np.log([20_000.0, 30_000.0, np.nan, 15_000.0, np.nan])
    sigma = np.array([0.4, 0.6, np.nan, np.nan, np.nan])
    median_only = np.array([False, False, False, True, False])
    communes = np.array(["A", "A", "A", "A", "B"])
    w = np.array([1.0, 3.0, 1.0, 1.0, 1.0])
    origin = _fill_gaps(mu, sigma, median_only, communes, w)
    assert list(origin) == ["iris", "iris", "commune average", "iris median, commune spread",
                            "territory average"]
    # commune A's fitted IRIS weighted 1 and 3: (0.4 + 3 x 0.6) / 4
    assert sigma[2] == pytest.approx(0.55) and sigma[3] == pytest.approx(0.55)
    assert sigma[4] == pytest.approx(0.55)  # commune B has no fit: the territory's
    assert mu[3] == pytest.approx(math.log(15_000))  # its own median kept
    # median of A's known IRIS, weights 1, 3, 1: (ln 20,000 + 3 ln 30,000 + ln 15,000) / 5
    want = (math.log(20_000) + 3 * math.log(30_000) + math.log(15_000)) / 5
    assert mu[2] == pytest.approx(want)


def test_one_commune_stock_without_a_qpv_neighbourhood_spreads_it_all():
    from mixsim.calibration.importers import _commune_stock
    row = pd.Series({"nb_ls": 100.0, "nb_ls_en_qpv": 40.0, "nb_loues": 90.0})
    qpv, hh = np.array([0, 0]), np.array([100, 300])
    with pytest.warns(UserWarning, match="no QPV neighbourhood there"):
        stock, let = _commune_stock("01053", row, qpv, hh * 0.5, hh)
    # 90 % let: 22.5 and 67.5, the tied remainder to the first by largest remainders
    assert list(stock) == [25, 75] and list(let) == [23, 67]
    with pytest.raises(InputError, match="nb_ls is missing for commune '01053'"):
        _commune_stock("01053", row.drop("nb_ls"), qpv, hh * 0.5, hh)
