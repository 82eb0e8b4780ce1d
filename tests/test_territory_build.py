"""Tests of `mixsim territory build/check/show`, the geometry readers and the default's polygons."""

import json
import math
import shutil
import sqlite3
import struct
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from mixsim.calibration import geometry as geo
from mixsim.calibration.importers import read_rpls_communes
from mixsim.calibration.territory_build import (
    BuildOptions,
    PublicSources,
    apply_sne,
    build_territory,
    read_census_iris,
    read_commune_list,
    read_qpv_iris,
    targets_skeleton,
)
from mixsim.experiments.cli import main
from mixsim.model.errors import InputError
from mixsim.model.geometry import check_geometry, geometries
from mixsim.model.territory import load_folder, load_geometry, load_territory

EXAMPLE = Path(__file__).resolve().parents[1] / "calibration" / "example_data"
RAW = {
    "filosofi": "filosofi_iris_sample.csv",
    "rpls": "rpls_communes_sample.csv",
    "contours": "iris_contours_sample.gpkg",
    "communes": "epci_communes_sample.csv",
    "census": "census_logement_iris_sample.csv",
    "census2": "census_menages_iris_sample.csv",
    "qpv": "qpv_sample.geojson",
    "sne": "sne_communes_sample.csv",
}


@pytest.fixture()
def raw(tmp_path):
    """A copy of the example's raw samples (tests may spoil them)."""
    d = tmp_path / "raw"
    d.mkdir()
    for name in RAW.values():
        shutil.copy(EXAMPLE / name, d / name)
    return d


def build_args(raw_dir: Path, out: Path, **override) -> list[str]:
    files = {k: raw_dir / v for k, v in RAW.items()}
    files.update(override)
    args = ["territory", "build", "--out", str(out), "--filosofi", str(files["filosofi"]),
            "--rpls", str(files["rpls"]), "--contours", str(files["contours"]),
            "--communes", str(files["communes"]), "--epci", "200000001",
            "--census", str(files["census"])]
    if files.get("census2") is not None:
        args += ["--census", str(files["census2"])]
    if files.get("qpv") is not None:
        args += ["--qpv", str(files["qpv"])]
    if files.get("sne") is not None:
        args += ["--sne", str(files["sne"])]
    return args


def sources(raw_dir: Path, **override) -> PublicSources:
    f = {k: raw_dir / v for k, v in RAW.items()}
    kw = dict(filosofi=f["filosofi"], rpls=f["rpls"], contours=f["contours"],
              communes=str(f["communes"]), census=(f["census"], f["census2"]), qpv=f["qpv"],
              sne=f["sne"], epci="200000001")
    kw.update(override)
    return PublicSources(**kw)


# --------------------------------------------------------------------------- projection


def test_lambert93_origin_and_round_trip():
    # the projection's origin: 3° E, 46.5° N is (700,000 m, 6,600,000 m) by definition
    x, y = geo.lambert93(3.0, 46.5)
    assert float(x) == pytest.approx(700_000, abs=1e-6)
    assert float(y) == pytest.approx(6_600_000, abs=1e-6)
    lon = np.array([-4.5, 2.35, 7.7, 9.4])
    lat = np.array([48.4, 48.85, 48.6, 42.7])
    back = geo.lambert93_inverse(*geo.lambert93(lon, lat))
    np.testing.assert_allclose(back, (lon, lat), atol=1e-9)


def test_lambert93_agrees_with_pyproj():
    pyproj = pytest.importorskip("pyproj")
    t = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    lon = np.array([-4.5, 2.35, 5.37, 7.7, 9.4])  # Brest, Paris, Marseille, Strasbourg, Corsica
    lat = np.array([48.4, 48.85, 43.3, 48.6, 42.7])
    # RGF93 and WGS84 are the same datum to a metre; pyproj uses the same formulas: 1 mm
    np.testing.assert_allclose(geo.lambert93(lon, lat), t.transform(lon, lat), atol=1e-3)


# --------------------------------------------------------------------------- readers


def test_gpkg_and_geojson_contours_agree():
    a = geo.read_contours(EXAMPLE / RAW["contours"])
    b = geo.read_contours(EXAMPLE / "iris_contours_sample.geojson")
    assert [r["iris"] for r in a] == [r["iris"] for r in b]
    assert len(a) == 13 and a[0]["iris"] == "001010101" and a[0]["commune"] == "00101"
    assert a[0]["name"] == "Centre-Ville" and a[0]["commune_name"] == "Valmont"
    for ra, rb in zip(a, b, strict=True):
        # GeoJSON stores lon/lat to 1e-7 degree (about 1 cm): over a perimeter of ~10 km that
        # moves at most ~100 m² of a few km², so areas agree to 1e-5 relative
        assert ra["geometry"].area == pytest.approx(rb["geometry"].area, rel=1e-5)
        assert ra["geometry"].is_valid


def test_gpkg_header_without_envelope_and_bad_blobs(tmp_path):
    poly = shapely.box(650_000, 6_700_000, 651_000, 6_701_000)
    f = tmp_path / "c.gpkg"
    geo.write_gpkg(f, "iris", [{"CODE_IRIS": "2A0040101", "geometry": poly}])
    con = sqlite3.connect(f)
    # rewrite the blob with no envelope (flags: little endian, envelope code 0)
    blob = b"GP" + bytes([0, 1]) + struct.pack("<i", 2154) + shapely.to_wkb(poly, byte_order=1)
    con.execute("UPDATE iris SET geom = ?", (blob,))
    con.commit()
    con.close()
    rec = geo.read_contours(f)
    assert rec[0]["iris"] == "2A0040101" and rec[0]["commune"] == "2A004"  # Corsica code
    assert rec[0]["geometry"].area == pytest.approx(1e6)
    con = sqlite3.connect(f)
    con.execute("UPDATE iris SET geom = ?", (b"XX" + blob[2:],))
    con.commit()
    con.close()
    with pytest.raises(InputError, match="'GP' header") as err:
        geo.read_contours(f)
    assert err.value.field == "row 1" and "c.gpkg" in err.value.source


def test_gpkg_with_two_layers_needs_a_layer_name(tmp_path):
    f = tmp_path / "two.gpkg"
    geo.write_gpkg(f, "a", [{"CODE_IRIS": "010530101", "geometry": shapely.box(0, 6.7e6,
                                                                               1, 6.7e6 + 1)}])
    con = sqlite3.connect(f)
    con.execute("INSERT INTO gpkg_contents (table_name, data_type) VALUES ('b', 'features')")
    con.execute("INSERT INTO gpkg_geometry_columns VALUES ('b', 'geom', 'POLYGON', 2154, 0, 0)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="2 feature layers.*--layer"):
        geo.read_gpkg_layer(f)
    assert len(geo.read_gpkg_layer(f, "a").properties) == 1
    with pytest.raises(InputError, match="no feature layer 'c'"):
        geo.read_gpkg_layer(f, "c")


def test_contours_codes_lose_leading_zeros_and_lists_are_unwrapped(tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"iris_code": [10530101], "com_code": 1053,
                                           "iris_name": ["Centre"]},
         "geometry": shapely.geometry.mapping(shapely.box(5.2, 46.2, 5.21, 46.21))}]}
    f = tmp_path / "ods.geojson"
    f.write_text("\ufeff" + json.dumps(fc), encoding="utf-8")  # with a BOM
    rec = geo.read_contours(f)[0]
    assert (rec["iris"], rec["commune"], rec["name"]) == ("010530101", "01053", "Centre")
    assert 800_000 < rec["geometry"].centroid.x < 900_000  # projected to Lambert-93


def test_commune_list_forms():
    assert list(read_commune_list("2A004, 2B033,1053").commune) == ["2A004", "2B033", "01053"]
    paris = read_commune_list("75056")
    assert len(paris) == 20 and paris.commune.iloc[0] == "75101"  # arrondissements
    ex = read_commune_list(EXAMPLE / RAW["communes"], epci="200000001")
    assert list(ex.commune) == ["00101", "00102", "00103"] and ex.name.iloc[0] == "Valmont"
    with pytest.raises(InputError, match="no commune of EPCI '999'"):
        read_commune_list(EXAMPLE / RAW["communes"], epci="999")


def test_commune_list_from_the_insee_epci_workbook(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    epci = wb.active
    epci.title = "EPCI"
    for r in range(5):
        epci.append([f"Intercommunalités au 1er janvier 2024, ligne {r + 1}"])
    epci.append(["EPCI", "LIBEPCI", "NATURE_EPCI", "NB_COM"])
    epci.append(["200000001", "CA du Val d'Orvanne", "CA", 3])
    comp = wb.create_sheet("Composition_communale")
    for r in range(5):
        comp.append([f"Composition communale, ligne {r + 1}"])
    comp.append(["CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG"])
    comp.append(["2A004", "Ajaccio", "242010056", "CA du Pays Ajaccien", "2A", "94"])
    comp.append(["1053", "Bourg-en-Bresse", "200071751", "CA du Bassin de Bourg", "01", "84"])
    comp.append(["01004", "Ambérieu-en-Bugey", "240100883", "CC de la Plaine de l'Ain", "01",
                 "84"])
    f = tmp_path / "EPCI_au_01-01-2024.xlsx"
    wb.save(f)
    got = read_commune_list(f, epci="200071751")
    assert list(got.commune) == ["01053"] and got.name.iloc[0] == "Bourg-en-Bresse"
    assert list(read_commune_list(f).commune) == ["2A004", "01053", "01004"]
    with pytest.raises(InputError, match="no commune of EPCI") as err:
        read_commune_list(f, epci="1")
    assert "Composition_communale" in err.value.source


def test_census_reader_separators_bom_crlf_and_types(tmp_path):
    semi = read_census_iris([EXAMPLE / RAW["census"], EXAMPLE / RAW["census2"]])
    text = (EXAMPLE / RAW["census"]).read_text(encoding="utf-8")
    df = pd.read_csv(EXAMPLE / RAW["census"], sep=";", dtype=str)
    for c in df.columns[3:]:
        df[c] = df[c].str.replace(",", ".")
    comma = tmp_path / "comma.csv"
    comma.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).replace("\n", "\r\n")
                      .encode("utf-8"))
    other = read_census_iris([comma])
    pd.testing.assert_series_equal(other.households, semi.households)
    assert semi.loc["001010101", "owners"] == pytest.approx(197.6)
    assert {"single", "single_parent", "other"} <= set(semi.columns)
    assert "P21_RP_LOCHLMV" in text
    bad = tmp_path / "types.csv"
    bad.write_text("IRIS;C21_MENPSEUL\n001010101;3\n", encoding="utf-8")
    with pytest.raises(InputError, match="all five"):
        read_census_iris([EXAMPLE / RAW["census"], bad])


def test_rpls_xlsx_sheet_communes_header_row_6(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    csv = read_rpls_communes(EXAMPLE / RAW["rpls"])
    raw = pd.read_csv(EXAMPLE / RAW["rpls"], sep=";", dtype=str)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "REGION"
    ws2 = wb.create_sheet("COMMUNES")
    for r in range(5):
        ws2.append([f"Répertoire des logements locatifs des bailleurs sociaux, ligne {r + 1}"])
    ws2.append(list(raw.columns))
    for row in raw.itertuples(index=False):
        ws2.append([v if i < 2 else float(v.replace(",", ".")) for i, v in enumerate(row)])
    f = tmp_path / "resultats_rpls_2023.xlsx"
    wb.save(f)
    got = read_rpls_communes(f)
    assert list(got.depcom_arm) == list(csv.depcom_arm)  # leading zeros kept from text cells
    np.testing.assert_allclose(got.tx_mob, csv.tx_mob)
    np.testing.assert_allclose(got.nb_ls, csv.nb_ls)


# --------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "terr"
    assert main(build_args(EXAMPLE, out)) == 0
    return out


def test_build_check_run_end_to_end(built, tmp_path, capsys):
    assert main(["territory", "check", str(built)]) == 0
    assert "consistent" in capsys.readouterr().out
    t = load_folder(built)
    fc = load_geometry(str(built), neighbourhoods=list(t.neighbourhoods.neighbourhood))
    props = {f["properties"]["neighbourhood"]: f["properties"] for f in fc["features"]}
    assert props["001010103"]["name"] == "Les Tilleuls"
    assert props["001010103"]["commune"] == "00101"
    assert list(t.communes.name) == ["Valmont", "Saint-Léger-sur-Orvanne", "Orville"]
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'years = 1\n[territory]\nsource = "{built.as_posix()}"\nscale = 0.3\n',
                        encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--no-moves"]) == 0
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["territory"] == built.as_posix()


def test_build_reproduces_the_shipped_example(built):
    for name in ("communes", "neighbourhoods", "dwellings", "social_stock", "population",
                 "applicants", "ipf_fit", "income_fit", "qpv_overlap"):
        assert (built / f"{name}.csv").read_text(encoding="utf-8") == \
            (EXAMPLE / f"{name}.csv").read_text(encoding="utf-8"), name
    mine = geometries(load_geometry(str(built)))
    shipped = geometries(load_geometry(str(EXAMPLE)))
    assert set(mine) == set(shipped)
    for k, g in mine.items():
        assert g.symmetric_difference(shipped[k]).area < 1e-6


def test_qpv_from_overlap_threshold_and_from_iris_list(raw, tmp_path):
    t = build_territory(sources(raw))
    ov = t.tables["qpv_overlap"].set_index("neighbourhood")
    assert list(ov.index[ov.qpv == 1]) == ["001010103", "001010104"]
    # the 150 m margin of the sample's perimeter covers a few % of the neighbours
    assert 0 < ov.qpv_share["001010101"] < 0.5
    low = build_territory(sources(raw), BuildOptions(qpv_threshold=0.05))
    assert low.tables["qpv_overlap"].set_index("neighbourhood").qpv["001010101"] == 1
    codes = tmp_path / "qpv_iris.csv"
    codes.write_text("iris\n1010103\n001010104\n", encoding="utf-8")  # a lost leading zero
    listed = build_territory(sources(raw, qpv=None, qpv_iris=codes))
    pd.testing.assert_frame_equal(listed.tables["population"], t.tables["population"])
    assert t.info["qpv_perimeters_used"] == ["QN00101M"]  # the other lies outside the EPCI


def test_census_households_and_tenure_reach_the_tables(raw):
    t = build_territory(sources(raw))
    census = read_census_iris([raw / RAW["census"]])
    pop = t.tables["population"]
    housed = pop[pop.tenure != "hosted"].groupby("neighbourhood")["count"].sum()
    for nb, n in housed.items():
        assert abs(n - census.households[nb]) <= 1  # rounding of weighted counts
    by = pop.groupby(["neighbourhood", "tenure"])["count"].sum().unstack()
    # the households not in RPLS social dwellings split between owners and private tenants in
    # the census ratio owners : (households - owners - HLM tenants), to one household
    private = census.households - census.owners - census.social
    share = census.owners / (census.owners + private)
    expected = (by.owner + by.private) * share[by.index]
    assert (by.owner - expected).abs().max() <= 1.0
    # the census household structure is a margin of the fit: met exactly
    fit = t.tables["ipf_fit"].set_index("margin")
    assert fit.loc["neighbourhood x hh_type", "max_abs_error"] == 0


def test_targets_skeleton_from_rpls_and_sne(built):
    with open(built / "targets.toml", "rb") as f:
        targets = tomllib.load(f)["targets"]
    # Valmont 8.9 % over 1,081 + 24 offered dwellings, Saint-Léger 9.8 % over 189 + 5,
    # Orville 8.7 % over 22 + 1 (rpls_communes_sample.csv; Bréhan is outside the EPCI)
    turnover = (8.9 * 1105 + 9.8 * 194 + 8.7 * 23) / (1105 + 194 + 23) / 100
    assert targets["turnover"]["value"] == pytest.approx(turnover, abs=5e-5)
    vacancy = (2.2 * 1105 + 2.6 * 194 + 4.3 * 23) / (1105 + 194 + 23) / 100
    assert targets["vacancy"]["value"] == pytest.approx(vacancy, abs=5e-5)
    assert "tx_vac3" in targets["vacancy"]["note"]
    # SNE: (430 + 70 + 12) demands / (100 + 16 + 3) allocations; transfers 35 / 119
    assert targets["applicants_per_allocation"]["value"] == pytest.approx(512 / 119, abs=5e-4)
    assert targets["transfer_share"]["value"] == pytest.approx(35 / 119, abs=5e-5)
    assert "national figure" in targets["mean_wait_days"]["note"]
    from mixsim.calibration.targets import default_targets, load_targets
    # the local figures above, the national ones for the rest
    assert set(load_targets(built).names) == set(default_targets().names)


def test_sne_rescales_applicants_within_households():
    t = load_folder(EXAMPLE)
    sne = pd.DataFrame({"demands": [300.0], "transfer_demands": [100.0]},
                       index=pd.Index(["00101"], name="commune"))
    app = apply_sne(t.applicants, t.population, sne, ["00101", "00102"])
    assert app["count"].sum() == 300
    assert app.loc[app.tenure == "social", "count"].sum() == 100
    same = apply_sne(t.applicants, t.population, sne, ["00102"])  # no demand listed: unchanged
    pd.testing.assert_frame_equal(same, t.applicants)


def test_missing_optional_columns_and_files_still_build(raw):
    rp = pd.read_csv(raw / RAW["rpls"], sep=";", dtype=str)
    rp = rp.drop(columns=[c for c in rp.columns if c.startswith("nb_ls_") and c != "nb_ls_en_qpv"]
                 + ["tx_vac3"])
    rp.to_csv(raw / RAW["rpls"], sep=";", index=False)
    t = build_territory(sources(raw, census=(raw / RAW["census"],), sne=None))
    fit = t.tables["ipf_fit"]
    assert list(fit.margin) == ["neighbourhood x tenure", "neighbourhood x quartile",
                                "tenure x hh_type"]
    assert "tx_vac3" not in t.targets
    assert set(t.tables["social_stock"].financing) == {"PLAI", "PLUS", "PLS"}  # national shares


def test_targets_skeleton_without_rates_keeps_national_figures():
    rp = pd.DataFrame({"depcom_arm": ["01053"], "nb_ls": [100.0]})
    text = targets_skeleton(rp, None, "r.csv", None)
    data = tomllib.loads(text)["targets"]
    assert data["turnover"]["value"] == 0.088 and "national figure" in data["turnover"]["note"]


# --------------------------------------------------------------------------- refusals


def _spoil(raw_dir: Path, name: str, old: str, new: str) -> None:
    p = raw_dir / RAW[name]
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, -1 if old == ";" else 1), encoding="utf-8")


@pytest.mark.parametrize("name, old, new, message, where", [
    ("filosofi", ";", ",", "wrong separator", None),  # a ','-separated file
    ("filosofi", "001010102;Quartier de la Gare;00101;Valmont;21,2",
     "001010102;Quartier de la Gare;00101;Valmont;21,x", "got '21,x'",
     "row 3, column 'DISP_TP6021'"),
    ("rpls", "00102;Saint-Léger-sur-Orvanne;196", "00102;Saint-Léger-sur-Orvanne;-196",
     "cannot be negative", "row 3, column 'nb_ls'"),
    ("census", "001010102;00101;Quartier de la Gare;518,4;480",
     "001010102;00101;Quartier de la Gare;518,4;4x0", "got '4x0'", "row 3, column 'P21_RP'"),
    ("census", "P21_RP_LOCHLMV", "P21_RP_HLM", "no P21_RP_LOCHLMV column", None),
    ("communes", "00102;Saint", "0010Z;Saint", "5-character commune code",
     "row 3, column 'CODGEO'"),
    ("qpv", '"FeatureCollection",', '"FeatureCollection"', "not valid GeoJSON", None),
    ("sne", "attributions;", "allocs;", "missing column 'allocations'", None),
])
def test_malformed_inputs_exit_2_naming_file_and_place(raw, tmp_path, capsys, name, old, new,
                                                      message, where):
    _spoil(raw, name, old, new)
    out = tmp_path / "out"
    assert main(build_args(raw, out)) == 2
    err = capsys.readouterr().err
    assert message in err and RAW[name] in err
    if where:
        assert where in err
    assert not out.exists()  # nothing written
    assert not [p for p in tmp_path.iterdir() if ".staging" in p.name]


def test_malformed_contours(raw, tmp_path, capsys):
    fc = json.loads((EXAMPLE / "iris_contours_sample.geojson").read_text(encoding="utf-8"))
    del fc["features"][2]["properties"]["CODE_IRIS"]
    bad = tmp_path / "contours.geojson"
    bad.write_text(json.dumps(fc), encoding="utf-8")
    assert main(build_args(raw, tmp_path / "out", contours=bad)) == 2
    err = capsys.readouterr().err
    assert "contours.geojson: feature 3" in err and "CODE_IRIS" in err
    fc = json.loads((EXAMPLE / "iris_contours_sample.geojson").read_text(encoding="utf-8"))
    fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    bad.write_text(json.dumps(fc), encoding="utf-8")
    assert main(build_args(raw, tmp_path / "out", contours=bad)) == 2
    assert "EPSG::3857" in capsys.readouterr().err
    # a listed commune without IRIS in the contours: the wrong file
    fc["features"] = [f for f in fc["features"] if f["properties"]["INSEE_COM"] != "00103"]
    del fc["crs"]
    bad.write_text(json.dumps(fc), encoding="utf-8")
    assert main(build_args(raw, tmp_path / "out", contours=bad)) == 2
    assert "no IRIS for commune(s) 00103" in capsys.readouterr().err
    assert main(build_args(raw, tmp_path / "out", contours=tmp_path / "absent.gpkg")) == 2
    assert "absent.gpkg: file not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_failed_build_leaves_an_existing_folder_untouched(raw, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "communes.csv").write_text("old", encoding="utf-8")
    _spoil(raw, "rpls", "00101;Valmont;1112", "00101;Valmont;abc")
    assert main(build_args(raw, out)) == 2
    assert sorted(p.name for p in out.iterdir()) == ["communes.csv", "notes.txt"]
    assert (out / "communes.csv").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


def test_bom_crlf_inputs_give_the_same_territory(raw, built, tmp_path):
    for name in ("filosofi", "rpls", "census", "communes"):
        p = raw / RAW[name]
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "out"
    assert main(build_args(raw, out)) == 0
    for name in ("neighbourhoods", "population", "social_stock"):
        assert (out / f"{name}.csv").read_text(encoding="utf-8") == \
            (built / f"{name}.csv").read_text(encoding="utf-8")


def test_load_geometry_refuses_bad_features(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "t", ignore=shutil.ignore_patterns("*.gpkg"))
    f = tmp_path / "t" / "geometry.geojson"
    fc = json.loads(f.read_text(encoding="utf-8"))
    ids = [x["properties"]["neighbourhood"] for x in fc["features"]]
    with pytest.raises(InputError, match="no polygon for N99"):
        load_geometry(str(tmp_path / "t"), neighbourhoods=[*ids, "N99"])
    del fc["features"][1]["properties"]["name"]
    f.write_text(json.dumps(fc), encoding="utf-8")
    with pytest.raises(InputError, match="missing property name") as err:
        load_geometry(str(tmp_path / "t"))
    assert err.value.field == "feature 2"


def test_check_reports_inconsistent_geometry(built, tmp_path, capsys):
    t = tmp_path / "t"
    shutil.copytree(built, t)
    fc = json.loads((t / "geometry.geojson").read_text(encoding="utf-8"))
    g0 = shape(fc["features"][0]["geometry"])
    fc["features"][0]["geometry"] = shapely.geometry.mapping(g0.buffer(0.5))  # onto neighbours
    (t / "geometry.geojson").write_text(json.dumps(fc), encoding="utf-8")
    assert main(["territory", "check", str(t)]) == 1
    assert "overlap" in capsys.readouterr().out


@pytest.mark.slow
def test_show_writes_maps(built, tmp_path):
    for source in (str(built), "default"):
        png = tmp_path / f"{Path(source).name}.png"
        assert main(["territory", "show", source, "--out", str(png)]) == 0
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert main(["territory", "show", "default", "--out", str(tmp_path / "m.jpg")]) == 2


# --------------------------------------------------------------------------- the default


def test_default_geometry_one_valid_polygon_per_neighbourhood_in_8_communes():
    t = load_territory("default")
    ids = list(t.neighbourhoods.neighbourhood)
    fc = load_geometry("default", neighbourhoods=ids)
    assert check_geometry(fc, ids) == []  # every id once, valid, no overlap
    polys = geometries(fc)
    props = {f["properties"]["neighbourhood"]: f["properties"] for f in fc["features"]}
    nb = t.neighbourhoods.set_index("neighbourhood")
    for i, row in nb.iterrows():
        assert polys[i].contains(shapely.Point(row.x, row.y))
        assert props[i]["commune"] == row.commune and props[i]["name"] == row["name"]
    communes = {}
    for i, p in polys.items():
        communes.setdefault(props[i]["commune"], []).append(p)
    assert len(communes) == 8
    for parts in communes.values():  # each commune is one piece
        assert shapely.union_all(parts).geom_type == "Polygon"
    # the cells tile the outline: their areas add up to the union's
    total = sum(p.area for p in polys.values())
    assert total == pytest.approx(shapely.union_all(list(polys.values())).area, rel=1e-6)
    assert not math.isnan(total)


def test_qpv_overlap_by_hand():
    iris = [shapely.box(0, 0, 2, 2), shapely.box(2, 0, 4, 2), shapely.box(4, 0, 6, 2)]
    # two perimeters overlapping each other: their union covers half of the first square and
    # a quarter of the second (the overlap is counted once)
    qpv = [shapely.box(1, 0, 2.5, 2), shapely.box(1.5, 0, 2.5, 2)]
    np.testing.assert_allclose(geo.qpv_overlap(iris, qpv), [0.5, 0.25, 0.0])


def test_geojson_in_lambert93_without_crs_member_is_recognised(tmp_path):
    recs = geo.read_contours(EXAMPLE / RAW["contours"])
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"CODE_IRIS": r["iris"]},
         "geometry": shapely.geometry.mapping(r["geometry"])} for r in recs]}
    f = tmp_path / "l93.geojson"
    f.write_text(json.dumps(fc), encoding="utf-8")
    back = geo.read_contours(f)
    assert back[0]["geometry"].equals_exact(recs[0]["geometry"], 1e-6)  # not projected again
    fc["features"][0]["geometry"] = shapely.geometry.mapping(shapely.box(0, 0, 5e7, 5e7))
    f.write_text(json.dumps(fc), encoding="utf-8")
    with pytest.raises(InputError, match="neither longitude/latitude nor Lambert-93"):
        geo.read_contours(f)


def test_bad_arguments_exit_2(tmp_path, capsys):
    args = build_args(EXAMPLE, tmp_path / "out")
    assert main([*args, "--qpv-threshold", "1.5"]) == 2
    assert "--qpv-threshold" in capsys.readouterr().err
    afile = tmp_path / "file.txt"
    afile.write_text("x", encoding="utf-8")
    assert main(build_args(EXAMPLE, afile)) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:  # argparse: --qpv and --qpv-iris exclude
        main([*args, "--qpv-iris", "codes.csv"])
    assert stop.value.code == 2
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- each reader alone


def _file(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_sne_reader_alone_french_names_missing_codes_and_a_negative_count(tmp_path):
    from mixsim.calibration.local_files import read_sne_communes
    f = _file(tmp_path, "sne.csv", "commune;demandes;attributions;demandes_mutation\n"
                                   "1053;120,5;30;nd\n01054;80;20;12\n")
    sne = read_sne_communes(f)
    assert list(sne.index) == ["01053", "01054"]  # the leading zero restored
    assert sne.loc["01053", "demands"] == 120.5 and sne.loc["01054", "allocations"] == 20
    assert np.isnan(sne.loc["01053", "transfer_demands"])  # 'nd' is unknown, not 0
    assert "transfer_allocations" not in sne
    bad = _file(tmp_path, "bad_sne.csv", "commune;demandes;attributions\n01053;-4;30\n")
    with pytest.raises(InputError, match="cannot be negative") as err:
        read_sne_communes(bad)
    assert err.value.source == str(bad)
    assert err.value.field == "row 2, column 'demandes'"


def test_qpv_iris_reader_alone_list_header_and_bad_code(tmp_path):
    # one code a line, without a header: the first line is a code, not a column name
    plain = _file(tmp_path, "qpv.txt", "001010103\n001020101\n")
    assert read_qpv_iris(plain) == {"001010103", "001020101"}
    named = _file(tmp_path, "qpv.csv", "nom;CODE_IRIS\nTilleuls;1010103\n")
    assert read_qpv_iris(named) == {"001010103"}  # leading zeros restored
    bad = _file(tmp_path, "bad_qpv.csv", "iris\n001010103\n0010X0101\n")
    with pytest.raises(InputError, match="9-character IRIS code") as err:
        read_qpv_iris(bad)
    assert err.value.source == str(bad) and err.value.field == "row 3, column 'iris'"


def test_census_reader_alone_negative_count_and_missing_key(tmp_path):
    ok = _file(tmp_path, "logement.csv", "IRIS;P20_RP;P20_RP_PROP;P20_RP_LOCHLMV\n"
                                         "001010101;100,5;40;30\n")
    c = read_census_iris([ok])  # any census year (P20_…)
    assert c.loc["001010101"].tolist() == [100.5, 40.0, 30.0]
    neg = _file(tmp_path, "neg.csv", "IRIS;P21_RP;P21_RP_PROP;P21_RP_LOCHLMV\n"
                                     "001010101;100;-40;30\n")
    with pytest.raises(InputError, match="cannot be negative") as err:
        read_census_iris([neg])
    assert err.value.source == str(neg) and err.value.field == "row 2, column 'P21_RP_PROP'"
    nokey = _file(tmp_path, "nokey.csv", "CODE;P21_RP\n001010101;3\n")
    with pytest.raises(InputError, match="missing key column 'IRIS'") as err:
        read_census_iris([nokey])
    assert err.value.source == str(nokey) and err.value.field == "column 'IRIS'"


def test_commune_list_reader_alone_file_errors(tmp_path):
    noepci = _file(tmp_path, "communes.csv", "CODGEO;LIBGEO\n01053;Bourg\n")
    with pytest.raises(InputError, match="no EPCI column") as err:
        read_commune_list(noepci, epci="200000001")
    assert err.value.source == str(noepci) and err.value.field == "column 'EPCI'"
    dup = _file(tmp_path, "dup.csv", "CODGEO;EPCI\n01053;1\n01054;2\n1053;1\n")
    with pytest.raises(InputError, match="duplicate key '01053'") as err:
        read_commune_list(dup, epci="1")
    # the row of the file, although the EPCI filter dropped the row before it
    assert err.value.field == "row 4, column 'CODGEO'"


def test_commune_workbook_without_a_code_header_names_the_keys(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["nothing", "here"])
    f = tmp_path / "book.xlsx"
    wb.save(f)
    with pytest.raises(InputError, match="no sheet has a header cell CODGEO or commune") as err:
        read_commune_list(f)
    assert err.value.source == str(f)


def test_targets_figures_alone():
    from mixsim.calibration.territory_build import _rpls_figures, _sne_figures
    rp = pd.DataFrame({"nb_ls": [100.0, 300.0], "nb_loues": [90.0, 270.0],
                       "nb_vacants": [10.0, 30.0], "tx_vac": [2.0, 6.0],
                       "tx_mob": [8.0, np.nan]})
    fig = _rpls_figures(rp, "rpls.csv")
    # weights = let + vacant dwellings (100 and 300): (2 x 100 + 6 x 300) / 400 = 5 %
    assert fig["vacancy"][0] == pytest.approx(0.05)
    assert fig["turnover"][0] == pytest.approx(0.08)  # the commune without tx_mob left out
    assert "rpls.csv" in fig["vacancy"][1]
    sne = pd.DataFrame({"demands": [40.0, 46.0], "allocations": [10.0, 10.0]})
    assert _sne_figures(sne, "sne.csv")["applicants_per_allocation"][0] == pytest.approx(4.3)
    assert _sne_figures(sne.assign(allocations=0.0), "sne.csv") == {}
    assert _sne_figures(None, None) == {}
