"""Rebuild the embedded default agglomeration (``model/data/default/*``) reproducibly.

Run ``python -m mixsim.model.data.build_default`` (add ``--check`` to verify the shipped files are
what this script produces). It writes the six tables and ``geometry.geojson``, the
neighbourhoods' polygons (:func:`build_geometry`: synthetic but map-like Voronoi cells around
the neighbourhoods' x/y, clipped to a rounded outline of the agglomeration; the cells of a
commune's neighbourhoods form the commune). The territory is synthetic but follows national
orders of magnitude (ODD §6, docs/sources.md §2):

* ~100,000 households in 8 communes and 50 neighbourhoods, 10 of them QPV;
* ~18 % social dwellings (5.3 M = 15.9 % of main residences in 2022, SDES; higher in
  agglomerations with a QPV), about one third of them in QPV (USH 2022; ANCOLS);
* poverty (below 60 % of the median income per consumption unit) ~43 % in QPV vs ~15 % overall
  (ONPV 2018: 43.2 % vs 14.6 %);
* social rents around 6.3 €/m² (SDES 1/1/2023: 6.27 €/m²), PLAI < PLUS < PLS;
* households by type near the census shares (singles ~37 %, couples ~26 %, couples with children
  ~24 %, single parents ~10 %); social tenants and applicants poorer and more often single or
  single parents (USH 2022; FOPH 2022: applicants 45 % single, 24.5 % single parents);
* applicants ≈ 4.3 per yearly allocation (SDES 2022), about one third of them transfer requests
  (USH: 32 % of the demand stock in 2024).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("default")
SEED = 20241125
HH_TYPES = ("single", "couple", "couple_children", "single_parent", "other")

# commune name, number of neighbourhoods, number of QPV, SRU rule applies (> 3,500 inhabitants)
COMMUNES = [
    ("Villeneuve-Centre", 16, 5, 1),
    ("Bréval-sur-Loire", 8, 2, 1),
    ("Saint-Aubin", 7, 2, 1),
    ("Les Ormes", 6, 1, 1),
    ("Montclair", 4, 0, 1),
    ("Val-Fleuri", 4, 0, 1),
    ("Les Prés", 3, 0, 1),
    ("Haut-Bois", 2, 0, 0),
]

# household type shares by tenure
TYPE_SHARES = {
    "owner": (0.30, 0.33, 0.28, 0.06, 0.03),
    "private": (0.47, 0.20, 0.17, 0.12, 0.04),
    "social": (0.40, 0.14, 0.21, 0.21, 0.04),
    "hosted": (0.55, 0.10, 0.10, 0.23, 0.02),
}
ROOMS = {  # shares of T1..T5+
    "social": (0.08, 0.20, 0.38, 0.26, 0.08),
    "private": (0.20, 0.30, 0.27, 0.15, 0.08),
    "owner": (0.02, 0.08, 0.20, 0.30, 0.40),
}


def _split(total: int, shares, rng: np.random.Generator) -> np.ndarray:
    """Integer split of ``total`` by ``shares`` (multinomial draw, so proportions carry noise)."""
    p = np.asarray(shares, float)
    return rng.multinomial(int(total), p / p.sum())


def build(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Build the default territory tables (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    communes, nbhds, dwellings, social, population, applicants = [], [], [], [], [], []
    nid = 0
    res_id = 0
    centres = [(0, 0), (6, 2), (-5, 4), (3, -6), (10, -3), (-8, -5), (12, 6), (-12, 3)]
    for c_idx, (cname, n_nb, n_qpv, sru) in enumerate(COMMUNES):
        cid = f"C{c_idx + 1}"
        communes.append({"commune": cid, "name": cname, "sru_applies": sru})
        cx, cy = centres[c_idx]
        for k in range(n_nb):
            nid += 1
            qpv = int(k < n_qpv)
            angle = 2 * np.pi * k / n_nb + rng.normal(0, 0.2)
            radius = (0.8 + 0.9 * (k % 4)) * (1.0 if c_idx == 0 else 0.6)
            x, y = cx + radius * np.cos(angle), cy + radius * np.sin(angle)
            if qpv:
                n_dw = int(rng.integers(850, 1250))
                social_share = rng.uniform(0.55, 0.70)
                attr = rng.normal(-1.1, 0.25)
            else:
                n_dw = int(rng.integers(1700, 2800))
                # central, SRU-compliant communes have more social housing than suburbs
                social_share = np.clip(rng.normal(0.15 if c_idx < 4 else 0.09, 0.05), 0.02, 0.35)
                attr = rng.normal(0.25 if c_idx < 4 else 0.5, 0.45)
            n_social = int(round(n_dw * social_share))
            n_rest = n_dw - n_social
            owner_share = 0.35 if qpv else np.clip(rng.normal(0.68, 0.10), 0.4, 0.9)
            n_owner = int(round(n_rest * owner_share))
            n_private = n_rest - n_owner
            rent_m2 = round(float(11.5 + 2.2 * attr + rng.normal(0, 0.4)), 2)
            nb = f"N{nid:02d}"
            nbhds.append({"neighbourhood": nb, "commune": cid, "name": f"{cname} {k + 1}",
                          "qpv": qpv, "x": round(float(x), 3), "y": round(float(y), 3),
                          "base_attractiveness": round(float(attr), 3),
                          "private_rent_m2": rent_m2})
            for sector, n in (("private", n_private), ("owner", n_owner)):
                for rooms, cnt in enumerate(_split(n, ROOMS[sector], rng), start=1):
                    dwellings.append({"neighbourhood": nb, "sector": sector, "rooms": rooms,
                                      "count": int(cnt)})
            # social stock in résidences of 10-200 dwellings
            left = n_social
            while left > 0:
                size = int(min(left, rng.integers(40, 200) if qpv else rng.integers(10, 120)))
                if left - size < 10:
                    size = left
                res_id += 1
                fin_p = (0.15, 0.80, 0.05) if qpv else (0.18, 0.62, 0.20)
                fin = ("PLAI", "PLUS", "PLS")[int(rng.choice(3, p=fin_p))]
                base_rent = {"PLAI": 5.3, "PLUS": 6.1, "PLS": 8.4}[fin] + (0 if qpv else 0.3)
                rent = round(float(base_rent + rng.normal(0, 0.25)), 2)
                for rooms, cnt in enumerate(_split(size, ROOMS["social"], rng), start=1):
                    if cnt:
                        social.append({"residence": f"R{res_id:04d}", "neighbourhood": nb,
                                       "landlord": f"L{1 + (res_id % 3)}", "financing": fin,
                                       "rooms": rooms, "count": int(cnt), "rent_m2": rent})
                left -= size
            # population: occupied dwellings by tenure, quartiles of income per UC
            vac = {"social": rng.uniform(0.02, 0.04), "private": rng.uniform(0.05, 0.08),
                   "owner": rng.uniform(0.02, 0.04)}
            wealth = attr  # richer households where attractiveness is high
            q_shares = {
                "social": (0.62, 0.22, 0.11, 0.05) if qpv else (0.44, 0.28, 0.18, 0.10),
                "private": _tilt((0.27, 0.28, 0.25, 0.20), wealth),
                "owner": _tilt((0.12, 0.21, 0.30, 0.37), wealth),
            }
            if qpv:
                q_shares["private"] = (0.55, 0.25, 0.13, 0.07)
                q_shares["owner"] = (0.35, 0.30, 0.22, 0.13)
            for tenure, n in (("social", n_social), ("private", n_private), ("owner", n_owner)):
                occupied = int(round(n * (1 - vac[tenure])))
                for q, nq in enumerate(_split(occupied, q_shares[tenure], rng), start=1):
                    for t, nt in zip(HH_TYPES, _split(nq, TYPE_SHARES[tenure], rng), strict=True):
                        if nt:
                            population.append({"neighbourhood": nb, "tenure": tenure,
                                               "quartile": q, "hh_type": t, "count": int(nt)})
            # hosted households (no dwelling of their own, all applicants)
            hosted = int(rng.poisson(70 if qpv else 45))
            for q, nq in enumerate(_split(hosted, (0.62, 0.25, 0.10, 0.03), rng), start=1):
                for t, nt in zip(HH_TYPES, _split(nq, TYPE_SHARES["hosted"], rng), strict=True):
                    if nt:
                        population.append({"neighbourhood": nb, "tenure": "hosted", "quartile": q,
                                           "hh_type": t, "count": int(nt)})
    pop = pd.DataFrame(population)
    # applicants: transfer requests among social tenants, first applications among private tenants
    # and every hosted household; priority (DALO / L441-1) status for a minority
    for tenure, rate in (("social", 0.14), ("private", 0.09), ("hosted", 1.0)):
        for q in (1, 2, 3, 4):
            avail = int(pop.loc[(pop.tenure == tenure) & (pop.quartile == q), "count"].sum())
            q_rate = rate if tenure == "hosted" else rate * (1.6, 1.0, 0.5, 0.15)[q - 1]
            n_app = min(avail, int(round(avail * q_rate)))
            prio_share = {"social": 0.06, "private": 0.18, "hosted": 0.30}[tenure]
            n_prio = int(round(n_app * prio_share * (1.5 if q == 1 else 0.6)))
            n_prio = min(n_prio, n_app)
            for prio, cnt in ((1, n_prio), (0, n_app - n_prio)):
                if cnt:
                    applicants.append({"tenure": tenure, "quartile": q, "priority": prio,
                                       "count": cnt})
    return {
        "communes": pd.DataFrame(communes),
        "neighbourhoods": pd.DataFrame(nbhds),
        "dwellings": pd.DataFrame(dwellings),
        "social_stock": pd.DataFrame(social),
        "population": pop,
        "applicants": pd.DataFrame(applicants),
    }


def _tilt(shares, wealth: float) -> np.ndarray:
    """Shift quartile shares toward the top when ``wealth`` (attractiveness) is high."""
    s = np.asarray(shares, float) * np.exp(np.array([-0.5, -0.2, 0.2, 0.5]) * wealth)
    return s / s.sum()


# outline of the agglomeration: discs of OUTLINE_RADIUS km around the neighbourhoods, closed by
# OUTLINE_CLOSING km (dilate then erode) so that the edge is smooth and has no holes
OUTLINE_RADIUS = 2.4
OUTLINE_CLOSING = 2.0
GEOMETRY_DIGITS = 3  # coordinates rounded to the metre (km units)


def build_geometry(neighbourhoods: pd.DataFrame) -> dict:
    """Polygons of the neighbourhoods: Voronoi cells of their x/y inside the outline (km).

    One valid polygon per neighbourhood, containing its x/y; the cells tile the outline without
    overlap (shapely/GEOS :func:`shapely.voronoi_polygons`); properties ``neighbourhood``,
    ``name``, ``commune`` (and ``qpv``).
    """
    import shapely

    from mixsim.model.geometry import feature_collection, voronoi_cells

    x, y = neighbourhoods.x.to_numpy(float), neighbourhoods.y.to_numpy(float)
    points = shapely.MultiPoint(np.column_stack([x, y]))
    outline = points.buffer(OUTLINE_RADIUS, quad_segs=8).buffer(OUTLINE_CLOSING, quad_segs=8) \
        .buffer(-OUTLINE_CLOSING, quad_segs=8)
    cells = voronoi_cells(x, y, outline)
    records = [{"neighbourhood": r.neighbourhood, "name": r.name, "commune": r.commune,
                "qpv": int(r.qpv), "geometry": cell}
               for r, cell in zip(neighbourhoods.itertuples(), cells, strict=True)]
    return feature_collection(records, digits=GEOMETRY_DIGITS,
                              projection="synthetic planar km (same as x/y)")


def write(tables: dict[str, pd.DataFrame], out: Path = OUT, geometry: dict | None = None) -> None:
    """Write the tables as CSV files into ``out``, and the geometry if given."""
    from mixsim.model.geometry import write_geojson

    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    if geometry is not None:
        write_geojson(geometry, out / "geometry.geojson")


def geometry_differences(built: dict, path: Path, tol: float = 1e-6) -> list[str]:
    """Neighbourhoods whose shipped polygon differs from the build.

    A polygon differs when its properties do, or when the area of the symmetric difference
    exceeds ``tol`` km² (GEOS versions may place a vertex a rounding step away).
    """
    import shapely
    from shapely.geometry import shape

    if not path.is_file():
        return ["geometry.geojson is missing"]
    shipped = {f["properties"]["neighbourhood"]: f
               for f in json.loads(path.read_text(encoding="utf-8"))["features"]}
    bad = []
    for f in built["features"]:
        nb = f["properties"]["neighbourhood"]
        other = shipped.pop(nb, None)
        if other is None or other["properties"] != f["properties"] or shapely.area(
                shape(f["geometry"]).symmetric_difference(shape(other["geometry"]))) > tol:
            bad.append(nb)
    return bad + sorted(shipped)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: rebuild, or check that the shipped files are reproduced."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the files in --out")
    args = ap.parse_args(argv)
    tables = build()
    geometry = build_geometry(tables["neighbourhoods"])
    if args.check:
        bad = [n for n, df in tables.items()
               if not (args.out / f"{n}.csv").is_file()
               or (args.out / f"{n}.csv").read_text() != df.to_csv(index=False,
                                                                   lineterminator="\n")]
        geo_bad = geometry_differences(geometry, args.out / "geometry.geojson")
        if geo_bad:
            bad.append("geometry.geojson (" + ", ".join(geo_bad[:5]) + ")")
        if bad:
            print(f"differs from the build: {', '.join(bad)}", file=sys.stderr)
            return 1
        print("default territory files are reproduced exactly")
        return 0
    write(tables, args.out, geometry)
    print(f"wrote {len(tables)} tables and geometry.geojson to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
