"""Geometry of a territory: IRIS contours, QPV perimeters, centroids and synthetic cells.

Reads the public shapes a territory build needs (docs/territory.md):

* the IGN **CONTOURS-IRIS** polygons, as GeoJSON or as the GeoPackage IGN ships
  (:func:`read_contours`). A GeoPackage is an SQLite file whose geometry blobs are a small
  ``GP`` header followed by standard WKB (OGC GeoPackage 1.3, §2.1.3); :func:`read_gpkg_layer`
  reads it with :mod:`sqlite3` and :func:`shapely.from_wkb`, so no GDAL stack is needed;
* the **QPV** perimeters of the 2024 décret as GeoJSON (:func:`read_qpv_perimeters`) and the
  share of each IRIS's area they cover (:func:`qpv_overlap`).

Every shape is brought to **Lambert-93** (EPSG:2154, the official projection of metropolitan
France, RGF93 / GRS80 ellipsoid). Longitude/latitude files (EPSG:4326 or RGF93 geographic
EPSG:4171; WGS84 and RGF93 differ by less than a metre) are projected by the Lambert conformal
conic formulas of IGN's note NT/G 71 (:func:`lambert93`), exact to the millimetre, so pyproj is
not required. Territory tables and ``geometry.geojson`` use **kilometres** of Lambert-93 (the
planar unit of the neighbourhoods' ``x``/``y``). Overseas projections are not supported.

Polygon operations (intersection, union, area, centroid, Voronoi cells) are shapely's (GEOS).
The GeoJSON output helpers (:func:`feature_collection`, :func:`write_geojson`,
:func:`check_geometry`, :func:`voronoi_cells`) live in :mod:`mixsim.model.geometry` and are
re-exported here.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import struct
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from mixsim.model.errors import InputError
from mixsim.model.geometry import (  # noqa: F401  (re-exported: one import for the builders)
    check_geometry,
    feature_collection,
    geometries,
    voronoi_cells,
    write_geojson,
)

# ---- Lambert-93 (EPSG:2154): GRS80 ellipsoid, secant cone at 44° and 49° N, origin 3° E / 46.5° N
# at (700,000 m, 6,600,000 m) (IGN, "Projection cartographique conique conforme de Lambert",
# note NT/G 71; décret 2000-1276).
_A = 6_378_137.0
_F = 1 / 298.257222101
_E = math.sqrt(_F * (2 - _F))
_PHI1, _PHI2, _PHI0, _LAM0 = (math.radians(v) for v in (44.0, 49.0, 46.5, 3.0))
_X0, _Y0 = 700_000.0, 6_600_000.0


def _m(phi):
    return np.cos(phi) / np.sqrt(1 - (_E * np.sin(phi)) ** 2)


def _t(phi):
    es = _E * np.sin(phi)
    return np.tan(np.pi / 4 - phi / 2) / ((1 - es) / (1 + es)) ** (_E / 2)


_N = float((math.log(_m(_PHI1)) - math.log(_m(_PHI2))) / (math.log(_t(_PHI1))
                                                             - math.log(_t(_PHI2))))
_AF = float(_A * _m(_PHI1) / (_N * _t(_PHI1) ** _N))
_RHO0 = float(_AF * _t(_PHI0) ** _N)

#: CRS accepted, by EPSG code: geographic ones are projected to Lambert-93.
GEOGRAPHIC_EPSG = (4326, 4171)
LAMBERT93_EPSG = 2154
#: Default share of an IRIS's area that QPV perimeters must cover for it to count as QPV.
QPV_AREA_THRESHOLD = 0.5


def lambert93(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project longitude/latitude (degrees, RGF93 ≈ WGS84) to Lambert-93 metres (x, y)."""
    phi = np.radians(np.asarray(lat, float))
    theta = _N * (np.radians(np.asarray(lon, float)) - _LAM0)
    rho = _AF * _t(phi) ** _N
    return _X0 + rho * np.sin(theta), _Y0 + _RHO0 - rho * np.cos(theta)


def lambert93_inverse(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (degrees) of Lambert-93 coordinates (metres); inverse of lambert93."""
    dx = np.asarray(x, float) - _X0
    dy = _RHO0 - (np.asarray(y, float) - _Y0)
    rho = np.hypot(dx, dy)
    t = (rho / _AF) ** (1 / _N)
    lon = np.degrees(np.arctan2(dx, dy) / _N + _LAM0)
    phi = np.pi / 2 - 2 * np.arctan(t)
    for _ in range(12):  # fixed point of the isometric latitude; converges in ~6 steps
        es = _E * np.sin(phi)
        phi = np.pi / 2 - 2 * np.arctan(t * ((1 - es) / (1 + es)) ** (_E / 2))
    return lon, np.degrees(phi)


def to_lambert93(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    """Return ``geom`` in Lambert-93 metres (projected when ``epsg`` is geographic)."""
    if epsg == LAMBERT93_EPSG:
        return geom

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(lambert93(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, project)


def km(geom: BaseGeometry) -> BaseGeometry:
    """Lambert-93 metres to kilometres (the planar unit of the territory tables)."""
    return shapely.transform(geom, lambda xy: xy / 1000.0)


# ============================================================================ reading shapes


@dataclass(frozen=True)
class Layer:
    """Features of a vector file: properties and shapely geometries (Lambert-93 metres).

    Attributes:
        source: File (and layer) name used in messages.
        properties: One dict per feature, keys as in the file.
        geometries: One geometry per feature (None when the feature has none).
    """

    source: str
    properties: list[dict]
    geometries: list[BaseGeometry | None]


_EPSG_IN_NAME = re.compile(r"EPSG[:/]{1,2}(?:[\d.]*:)?(\d+)$", re.IGNORECASE)


def _geojson_epsg(data: dict, coords_sample: np.ndarray, source: str) -> int:
    """EPSG code of a GeoJSON file: its (2008-style) ``crs`` member, else guessed from values."""
    crs = data.get("crs")
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", ""))
        if name.upper().endswith("CRS84"):
            return 4326
        m = _EPSG_IN_NAME.search(name)
        if m:
            code = int(m.group(1))
            if code in GEOGRAPHIC_EPSG or code == LAMBERT93_EPSG:
                return code
        raise InputError(f"coordinate reference system {name!r} is not supported; allowed: "
                         "EPSG:4326 / CRS84 (longitude, latitude), EPSG:4171 (RGF93 "
                         "geographic) or EPSG:2154 (Lambert-93)", source=source, field="crs")
    if coords_sample.size == 0:
        return 4326
    lo, hi = coords_sample.min(axis=0), coords_sample.max(axis=0)
    if lo[0] >= -180 and hi[0] <= 180 and lo[1] >= -90 and hi[1] <= 90:
        return 4326  # RFC 7946: GeoJSON is longitude/latitude unless said otherwise
    if lo[0] >= -400_000 and hi[0] <= 1_600_000 and lo[1] >= 5_900_000 and hi[1] <= 7_300_000:
        return LAMBERT93_EPSG
    raise InputError("coordinates are neither longitude/latitude nor Lambert-93 metres (x from "
                     f"{lo[0]:g} to {hi[0]:g}, y from {lo[1]:g} to {hi[1]:g}) and the file has "
                     "no 'crs' member; allowed: EPSG:4326 or EPSG:2154", source=source,
                     field="coordinates")


def read_geojson(path) -> Layer:
    """Read a GeoJSON FeatureCollection (UTF-8 with or without BOM) into Lambert-93 metres.

    Raises:
        InputError: naming the file (and the feature) if it is missing, not JSON, not a
            FeatureCollection, has a feature without a readable geometry, or an unsupported CRS.
    """
    f = Path(path)
    source = str(f)
    if not f.is_file():
        raise InputError("file not found", source=source)
    try:
        data = json.loads(f.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"is not valid GeoJSON (UTF-8 JSON): {err}", source=source) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise InputError("must be a GeoJSON FeatureCollection with a 'features' list",
                         source=source, field="type")
    props, geoms = [], []
    for i, feat in enumerate(data["features"]):
        if not isinstance(feat, dict):
            raise InputError("is not a GeoJSON Feature object", source=source,
                             field=f"feature {i + 1}")
        props.append(dict(feat.get("properties") or {}))
        g = feat.get("geometry")
        if g is None:
            geoms.append(None)
            continue
        try:
            geoms.append(shape(g))
        except (ValueError, TypeError, AttributeError, KeyError,
                shapely.errors.GEOSException) as err:
            raise InputError(f"unreadable geometry: {err}", source=source,
                             field=f"feature {i + 1}") from None
    sample = [np.asarray(shapely.get_coordinates(g)) for g in geoms[:50] if g is not None]
    epsg = _geojson_epsg(data, np.vstack(sample) if sample else np.zeros((0, 2)), source)
    geoms = [None if g is None else to_lambert93(g, epsg) for g in geoms]
    return Layer(source, props, geoms)


def _gpkg_geometry(blob: bytes, source: str, row: int) -> BaseGeometry | None:
    """Decode a GeoPackage geometry blob: ``GP`` header, optional envelope, then WKB."""
    if blob is None:
        return None
    if len(blob) < 8 or blob[:2] != b"GP":
        raise InputError("geometry blob does not start with the GeoPackage 'GP' header",
                         source=source, field=f"row {row}")
    flags = blob[3]
    if flags & 0b0010_0000:  # extended GeoPackage geometry type
        raise InputError("extended GeoPackage geometries are not supported", source=source,
                         field=f"row {row}")
    envelope = (flags >> 1) & 0b111
    sizes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    if envelope not in sizes:
        raise InputError(f"invalid envelope code {envelope} in the geometry header",
                         source=source, field=f"row {row}")
    if flags & 0b0001_0000:  # empty geometry flag
        return None
    try:
        return shapely.from_wkb(bytes(blob[8 + sizes[envelope]:]))
    except shapely.errors.GEOSException as err:
        raise InputError(f"unreadable WKB geometry: {err}", source=source,
                         field=f"row {row}") from None


def read_gpkg_layer(path, layer: str | None = None, keep=None) -> Layer:
    """Read one feature layer of a GeoPackage (e.g. IGN CONTOURS-IRIS) into Lambert-93 metres.

    Args:
        path: The ``.gpkg`` file.
        layer: Table name; None takes the only feature layer (or refuses, listing them).
        keep: Optional ``keep(properties) -> bool``; rows it rejects are skipped before their
            geometry is decoded.

    Raises:
        InputError: naming the file if it is not a GeoPackage, the layer is absent or ambiguous,
            its CRS is not EPSG:2154/4326/4171, or a geometry blob is malformed.
    """
    f = Path(path)
    source = str(f)
    if not f.is_file():
        raise InputError("file not found", source=source)
    if f.read_bytes()[:16] != b"SQLite format 3\x00":
        raise InputError("is not a GeoPackage (an SQLite file)", source=source)
    con = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
    try:
        try:
            layers = con.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c JOIN "
                "gpkg_geometry_columns g ON g.table_name = c.table_name "
                "WHERE c.data_type = 'features'").fetchall()
        except sqlite3.DatabaseError as err:
            raise InputError(f"is not a GeoPackage (no gpkg_contents table: {err})",
                             source=source) from None
        names = [r[0] for r in layers]
        if layer is None:
            if len(layers) != 1:
                raise InputError(f"{len(layers)} feature layers ({', '.join(names) or 'none'}); "
                                 "name one with --layer", source=source, field="layer")
            table, column, srs_id = layers[0]
        else:
            match = [r for r in layers if r[0] == layer]
            if not match:
                raise InputError(f"no feature layer {layer!r}; layers: {', '.join(names)}",
                                 source=source, field="layer")
            table, column, srs_id = match[0]
        epsg = srs_id
        row = con.execute("SELECT organization, organization_coordsys_id FROM "
                          "gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)).fetchone()
        if row and str(row[0]).upper() == "EPSG":
            epsg = int(row[1])
        if epsg not in GEOGRAPHIC_EPSG and epsg != LAMBERT93_EPSG:
            raise InputError(f"layer {table!r} uses srs {epsg}; allowed: EPSG:2154 "
                             "(Lambert-93), EPSG:4326 or EPSG:4171", source=source,
                             field="srs_id")
        cur = con.execute(f'SELECT * FROM "{table}"')
        cols = [d[0] for d in cur.description]
        g_idx = cols.index(column)
        props, geoms = [], []
        for i, rec in enumerate(cur, start=1):
            prop = {c: v for c, v in zip(cols, rec, strict=True) if c != column}
            if keep is not None and not keep(prop):
                continue
            props.append(prop)
            g = _gpkg_geometry(rec[g_idx], f"{source}[{table}]", i)
            geoms.append(None if g is None else to_lambert93(g, epsg))
    finally:
        con.close()
    return Layer(f"{source}[{table}]", props, geoms)


def read_layer(path, layer: str | None = None, keep=None) -> Layer:
    """Read a GeoJSON (``.geojson``/``.json``) or GeoPackage (``.gpkg``) file.

    ``keep`` filters GeoPackage rows before their geometry is decoded (see
    :func:`read_gpkg_layer`); GeoJSON files are read whole.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".gpkg":
        return read_gpkg_layer(path, layer, keep)
    if suffix in (".geojson", ".json"):
        return read_geojson(path)
    raise InputError(f"unsupported file type {suffix or '(none)'!r}; allowed: .geojson, .json "
                     "or .gpkg", source=str(path))


# ============================================================================ IRIS contours

#: Property names of the IRIS contours by role, in order of preference (IGN CONTOURS-IRIS
#: before and after 2023, and the opendatasoft/data.gouv "georef-france-iris" export).
CONTOUR_FIELDS = {
    "iris": ("CODE_IRIS", "code_iris", "iris_code", "DCOMIRIS"),
    "name": ("NOM_IRIS", "nom_iris", "iris_name", "LIB_IRIS"),
    "commune": ("INSEE_COM", "code_insee", "com_code", "DEPCOM", "insee_com"),
    "commune_name": ("NOM_COM", "nom_commune", "com_name", "nom_com"),
}
_IRIS_CODE = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
_COM_CODE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")


def _prop(props: dict, names: Sequence[str]) -> tuple[str | None, object]:
    lower = {k.lower(): k for k in props}
    for n in names:
        if n.lower() in lower:
            key = lower[n.lower()]
            v = props[key]
            if isinstance(v, list):  # opendatasoft exports wrap values in lists
                v = v[0] if v else None
            return key, v
    return None, None


def _clean_code(value, width: int, pattern: re.Pattern, what: str, source: str,
                where: str, column: str | None) -> str:
    v = "" if value is None else str(value).strip()
    if re.fullmatch(r"\d+(\.0)?", v):  # numbers lose leading zeros (and may gain ".0")
        v = v.split(".")[0].zfill(width)
    if not pattern.fullmatch(v):
        raise InputError(f"got {value!r}; expected a {width}-character {what}", source=source,
                         field=f"{where}, column {column!r}" if column else where)
    return v


def _in_communes(wanted: set[str]):
    """Row filter of :func:`read_contours`: keep IRIS of the wanted communes.

    Rows whose code cannot be read are kept, so that the code's check reports them.
    """
    def keep(props: dict) -> bool:
        _, code = _prop(props, CONTOUR_FIELDS["iris"])
        v = "" if code is None else str(code).strip()
        if re.fullmatch(r"\d+(\.0)?", v):
            v = v.split(".")[0].zfill(9)
        return not _IRIS_CODE.fullmatch(v) or v[:5] in wanted

    return keep


def read_contours(path, *, layer: str | None = None,
                  communes: Iterable[str] | None = None) -> list[dict]:
    """Read IRIS polygons (IGN CONTOURS-IRIS GeoJSON or GeoPackage) in Lambert-93 metres.

    Properties are matched by role without regard to case (:data:`CONTOUR_FIELDS`): the IRIS
    code (required; 9 characters, leading zeros restored), its name, the commune code (default:
    the code's first 5 characters) and the commune name. With ``communes``, features of other
    communes are skipped once their codes are read (national files hold ~50,000 IRIS).

    Returns:
        One dict per IRIS: ``iris``, ``name``, ``commune``, ``commune_name`` (strings; names may
        be empty) and ``geometry`` (a valid shapely Polygon or MultiPolygon, metres).

    Raises:
        InputError: naming the file and the feature (row) and property of the first problem: no
            IRIS-code property, a malformed or repeated code, a commune code that disagrees with
            the IRIS code, a missing or non-polygonal geometry.
    """
    wanted = None if communes is None else set(communes)
    lay = read_layer(path, layer, None if wanted is None else _in_communes(wanted))
    if not lay.properties and wanted is None:
        raise InputError("the file has no features", source=lay.source)
    out, seen = [], {}
    for i, (props, geom) in enumerate(zip(lay.properties, lay.geometries, strict=True), 1):
        where = f"feature {i}"
        key, code = _prop(props, CONTOUR_FIELDS["iris"])
        if key is None:
            raise InputError("no IRIS code property; expected one of "
                             f"{', '.join(CONTOUR_FIELDS['iris'])} (the feature has: "
                             f"{', '.join(props) or 'none'})", source=lay.source, field=where)
        code = _clean_code(code, 9, _IRIS_CODE, "IRIS code", lay.source, where, key)
        if code in seen:
            raise InputError(f"IRIS {code!r} repeats feature {seen[code]}", source=lay.source,
                             field=f"{where}, column {key!r}")
        seen[code] = i
        ckey, com = _prop(props, CONTOUR_FIELDS["commune"])
        com = code[:5] if ckey is None or com in (None, "") else _clean_code(
            com, 5, _COM_CODE, "commune code", lay.source, where, ckey)
        if com != code[:5]:
            raise InputError(f"IRIS {code!r} does not belong to commune {com!r} (its first five "
                             "characters)", source=lay.source, field=f"{where}, column {ckey!r}")
        if wanted is not None and com not in wanted:
            continue
        if geom is None or geom.is_empty:
            raise InputError(f"IRIS {code!r} has no geometry", source=lay.source, field=where)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(f"IRIS {code!r} has a {geom.geom_type} geometry; expected a Polygon "
                             "or MultiPolygon", source=lay.source, field=where)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            geom = shapely.union_all([g for g in getattr(geom, "geoms", [geom])
                                      if g.geom_type in ("Polygon", "MultiPolygon")])
            warnings.warn(f"{lay.source}: {where} (IRIS {code}) had an invalid polygon, repaired "
                          "with shapely.make_valid", UserWarning, stacklevel=2)
        _, name = _prop(props, CONTOUR_FIELDS["name"])
        _, cname = _prop(props, CONTOUR_FIELDS["commune_name"])
        out.append({"iris": code, "name": "" if name is None else str(name).strip(),
                    "commune": com, "commune_name": "" if cname is None else str(cname).strip(),
                    "geometry": geom})
    return out


# ============================================================================ QPV

QPV_FIELDS = {"code": ("code_qp", "code_quartier", "CODE_QP", "code_qpv", "qp", "QUARTIER"),
              "name": ("lib_qp", "nom_qp", "nom_quartier", "LIB_QP", "nom")}


def read_qpv_perimeters(path, *, layer: str | None = None) -> list[dict]:
    """Read QPV perimeters (data.gouv GeoJSON of the 2024 décret, or a GeoPackage).

    Returns:
        One dict per perimeter: ``code`` (e.g. ``QN01234M``; empty when absent), ``name`` and
        ``geometry`` (Lambert-93 metres, polygons only).

    Raises:
        InputError: if the file has no polygon, or a feature has a non-polygonal geometry.
    """
    lay = read_layer(path, layer)
    out = []
    for i, (props, geom) in enumerate(zip(lay.properties, lay.geometries, strict=True), 1):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(f"a {geom.geom_type} geometry; QPV perimeters must be polygons",
                             source=lay.source, field=f"feature {i}")
        _, code = _prop(props, QPV_FIELDS["code"])
        _, name = _prop(props, QPV_FIELDS["name"])
        out.append({"code": "" if code is None else str(code).strip(),
                    "name": "" if name is None else str(name).strip(),
                    "geometry": geom if geom.is_valid else shapely.make_valid(geom)})
    if not out:
        raise InputError("no QPV polygon in the file", source=lay.source)
    return out


def qpv_overlap(iris_geoms: Sequence[BaseGeometry], qpv_geoms: Iterable[BaseGeometry]
                ) -> np.ndarray:
    """Share of each IRIS's area inside the union of the QPV perimeters (0 to 1)."""
    qpv = shapely.union_all(list(qpv_geoms))
    areas = shapely.area(np.asarray(iris_geoms, dtype=object))
    inside = shapely.area(shapely.intersection(np.asarray(iris_geoms, dtype=object), qpv))
    return np.where(areas > 0, inside / np.where(areas > 0, areas, 1.0), 0.0)


def write_gpkg(path, layer: str, records: Sequence[dict], *, srs_id: int = LAMBERT93_EPSG
               ) -> None:
    """Write polygons as a minimal GeoPackage feature layer (OGC GeoPackage 1.3).

    Used to make the example's and the tests' samples in IGN's format. Each record holds a
    ``geometry`` (in the CRS ``srs_id``: 2154 or 4326) and scalar properties (text or numbers).
    Geometry blobs are the ``GP`` header (version 0, little-endian, xy envelope) then WKB.
    """
    f = Path(path)
    if f.exists():
        f.unlink()
    crs = {LAMBERT93_EPSG: "RGF93 v1 / Lambert-93", 4326: "WGS 84"}[srs_id]
    cols = [k for k in records[0] if k != "geometry"]
    con = sqlite3.connect(f)
    try:
        con.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
        con.execute("PRAGMA user_version = 10300")
        con.execute("CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER "
                    "PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER "
                    "NOT NULL, definition TEXT NOT NULL, description TEXT)")
        con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, 'undefined', "
                    "NULL)", (crs, srs_id, srs_id))
        con.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT "
                    "NOT NULL, identifier TEXT, description TEXT DEFAULT '', last_change "
                    "DATETIME, min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id "
                    "INTEGER)")
        con.execute("CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name "
                    "TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, "
                    "z TINYINT NOT NULL, m TINYINT NOT NULL)")
        bounds = shapely.total_bounds([r["geometry"] for r in records])
        con.execute("INSERT INTO gpkg_contents VALUES (?, 'features', ?, '', "
                    "'2024-01-01T00:00:00Z', ?, ?, ?, ?, ?)",
                    (layer, layer, *map(float, bounds), srs_id))
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'MULTIPOLYGON', ?, 0, "
                    "0)", (layer, srs_id))
        kinds = ["REAL" if isinstance(records[0][c], float) else
                 "INTEGER" if isinstance(records[0][c], int) else "TEXT" for c in cols]
        con.execute(f'CREATE TABLE "{layer}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom '
                    "BLOB, " + ", ".join(f'"{c}" {k}' for c, k in zip(cols, kinds, strict=True))
                    + ")")
        for r in records:
            g = r["geometry"]
            env = struct.pack("<4d", *g.bounds)
            head = b"GP" + bytes([0, 0b0000_0011]) + struct.pack("<i", srs_id)
            blob = head + env + shapely.to_wkb(g, byte_order=1)
            names = ", ".join(f'"{c}"' for c in cols)
            con.execute(f'INSERT INTO "{layer}" (geom, {names}) VALUES (?{", ?" * len(cols)})',
                        (blob, *[r[c] for c in cols]))
        con.commit()
    finally:
        con.close()
