"""Write the example's synthetic public-format samples that describe shapes and households.

Run ``python calibration/example_data/make_samples.py`` to rewrite, from ``iris_table.csv``
(the fictitious EPCI's neighbourhoods, households and tenure shares):

* ``iris_contours_sample.geojson`` (EPSG:4326) and ``iris_contours_sample.gpkg``
  (EPSG:2154), IRIS polygons with the properties of IGN CONTOURS-IRIS (``CODE_IRIS``,
  ``NOM_IRIS``, ``INSEE_COM``, ``NOM_COM``, ``IRIS``, ``TYP_IRIS``);
* ``qpv_sample.geojson``, QPV perimeters in the data.gouv format (``code_quartier``,
  ``lib_quartier``, ``commune_qp``);
* ``census_logement_iris_sample.csv`` and ``census_menages_iris_sample.csv``, census IRIS bases
  (INSEE ``P21_*`` and ``C21_*`` columns, ``;``-separated, decimal commas, weighted counts);
* ``epci_communes_sample.csv``, an INSEE-style composition of EPCIs (``CODGEO``, ``LIBGEO``,
  ``EPCI``, ``LIBEPCI``), and ``sne_communes_sample.csv``, SNE counts by commune.

The shapes are Voronoi cells (shapely/GEOS) of the neighbourhoods' points inside commune cells,
placed at a fictitious spot of Lambert-93. Every number is invented.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from mixsim.calibration import geometry as geo

HERE = Path(__file__).resolve().parent
ORIGIN = (650_000.0, 6_700_000.0)  # Lambert-93 metres of the local (0, 0)
# commune code -> (name, centre in local km); 00104 lies outside the EPCI (filtered out)
COMMUNES = {"00101": ("Valmont", (0.0, 0.0)),
            "00102": ("Saint-Léger-sur-Orvanne", (6.4, 2.3)),
            "00103": ("Orville", (-3.8, 5.6)),
            "00104": ("Bréhan-la-Forêt", (2.5, -6.0))}
EPCI = ("200000001", "CA du Val d'Orvanne")
# household types (single, couple, couple_children, single_parent, other) by tenure [U]
TYPES = {"owner": (0.30, 0.33, 0.28, 0.06, 0.03), "private": (0.47, 0.20, 0.17, 0.12, 0.04),
         "social": (0.40, 0.14, 0.21, 0.21, 0.04)}


def _decimal(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".").replace(".", ",")


def shapes(it: pd.DataFrame) -> dict[str, shapely.Geometry]:
    """IRIS code -> polygon in Lambert-93 metres."""
    centres = np.array([c for _, c in COMMUNES.values()])
    outline = shapely.MultiPoint(np.vstack([centres, it[["x", "y"]].to_numpy()])).convex_hull
    outline = outline.buffer(1.8, quad_segs=4)
    com_cells = dict(zip(COMMUNES, geo.voronoi_cells(centres[:, 0], centres[:, 1], outline),
                         strict=True))
    out = {}
    for com, cell in com_cells.items():
        sub = it[it.commune == com]
        if sub.empty:  # a commune without IRIS subdivision: one IRIS "0000"
            out[f"{com}0000"] = cell
            continue
        for code, poly in zip(sub.iris, geo.voronoi_cells(sub.x, sub.y, cell), strict=True):
            out[code] = poly
    return {k: shapely.transform(v, lambda xy: xy * 1000.0 + np.array(ORIGIN))
            for k, v in out.items()}


def main() -> None:
    """Rewrite every sample file next to this script."""
    it = pd.read_csv(HERE / "iris_table.csv", dtype={"iris": str, "commune": str})
    polys = shapes(it)
    names = dict(zip(it.iris, it.name, strict=True))
    records = []
    for code, poly in polys.items():
        com = code[:5]
        records.append({"CODE_IRIS": code, "NOM_IRIS": names.get(code, COMMUNES[com][0]),
                        "INSEE_COM": com, "NOM_COM": COMMUNES[com][0], "IRIS": code[5:],
                        "TYP_IRIS": "H" if code in names else "Z",
                        "geometry": shapely.MultiPolygon([poly])})
    geo.write_gpkg(HERE / "iris_contours_sample.gpkg", "contours_iris", records)

    def lonlat(g):
        return shapely.set_precision(shapely.transform(
            g, lambda xy: np.column_stack(geo.lambert93_inverse(xy[:, 0], xy[:, 1]))), 1e-7)

    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {k: v for k, v in r.items() if k != "geometry"},
         "geometry": shapely.geometry.mapping(lonlat(r["geometry"]))} for r in records]}
    (HERE / "iris_contours_sample.geojson").write_text(
        json.dumps(fc, ensure_ascii=False) + "\n", encoding="utf-8")
    # QPV: the two poor IRIS of Valmont with a 150 m margin (their neighbours get < 50 %), and
    # one perimeter in the commune outside the EPCI
    qpv_a = shapely.union_all([polys["001010103"], polys["001010104"]]).buffer(150, quad_segs=4)
    qpv_b = polys["001040000"].centroid.buffer(600, quad_segs=4)
    qpv = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code_quartier": code, "lib_quartier": name,
                                           "commune_qp": com},
         "geometry": shapely.geometry.mapping(lonlat(g))}
        for code, name, com, g in (("QN00101M", "Les Tilleuls - La Roseraie", "Valmont", qpv_a),
                                   ("QN00104M", "Le Moulin", "Bréhan-la-Forêt", qpv_b))]}
    (HERE / "qpv_sample.geojson").write_text(json.dumps(qpv, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    # census: households = iris_table households; tenure from its shares (social = the rest)
    log, men = [], []
    for r in it.itertuples():
        hh = float(r.households)
        prop, priv = hh * r.owner_share, hh * r.private_share
        soc = hh - prop - priv
        grat = round(0.01 * priv, 4)
        log.append({"IRIS": r.iris, "COM": r.commune, "LIBIRIS": r.name,
                    "P21_LOG": _decimal(hh * 1.08), "P21_RP": _decimal(hh),
                    "P21_RP_PROP": _decimal(prop), "P21_RP_LOC": _decimal(priv - grat + soc),
                    "P21_RP_LOCHLMV": _decimal(soc), "P21_RP_GRAT": _decimal(grat)})
        mix = (prop * np.array(TYPES["owner"]) + priv * np.array(TYPES["private"])
               + soc * np.array(TYPES["social"]))
        men.append({"IRIS": r.iris, "C21_MEN": _decimal(hh),
                    **{c: _decimal(v) for c, v in zip(
                        ("C21_MENPSEUL", "C21_MENCOUPSENF", "C21_MENCOUPAENF",
                         "C21_MENFAMMONO", "C21_MENSFAM"), mix, strict=True)}})
    log.append({"IRIS": "001040000", "COM": "00104", "LIBIRIS": "Bréhan-la-Forêt",
                "P21_LOG": "612,3", "P21_RP": "540,2", "P21_RP_PROP": "401,7",
                "P21_RP_LOC": "131,4", "P21_RP_LOCHLMV": "52,1", "P21_RP_GRAT": "7,1"})
    pd.DataFrame(log).to_csv(HERE / "census_logement_iris_sample.csv", sep=";", index=False,
                             lineterminator="\n")
    pd.DataFrame(men).to_csv(HERE / "census_menages_iris_sample.csv", sep=";", index=False,
                             lineterminator="\n")
    pd.DataFrame([{"CODGEO": c, "LIBGEO": n, "EPCI": EPCI[0] if c != "00104" else "200000002",
                   "LIBEPCI": EPCI[1] if c != "00104" else "CC de la Forêt"}
                  for c, (n, _) in COMMUNES.items()]).to_csv(
        HERE / "epci_communes_sample.csv", sep=";", index=False, lineterminator="\n")
    pd.DataFrame({"commune": ["00101", "00102", "00103", "00104"],
                  "demandes": [430, 70, 12, 25], "attributions": [100, 16, 3, 6],
                  "demandes_mutation": [150, 20, 3, 8],
                  "attributions_mutation": [30, 4, 1, 2]}).to_csv(
        HERE / "sne_communes_sample.csv", sep=";", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
