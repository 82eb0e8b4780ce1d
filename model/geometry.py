"""Planar geometry of a territory's neighbourhoods (``geometry.geojson``), with shapely.

Helpers shared by the embedded default's build script, the public-data builder
(:mod:`mixsim.calibration.geometry`) and the checks: a FeatureCollection of neighbourhood
polygons in kilometres (the unit of ``neighbourhoods.csv`` ``x``/``y``), its deterministic
writing, its consistency check (one valid polygon per neighbourhood, no overlap) and Voronoi
cells clipped to an outline. Polygon operations are shapely's (GEOS).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry


def feature_collection(records: Sequence[dict], *, digits: int = 4,
                       projection: str = "Lambert-93 (EPSG:2154), km") -> dict:
    """GeoJSON FeatureCollection of neighbourhood polygons given in kilometres.

    Each record needs ``neighbourhood``, ``name``, ``commune`` and ``geometry``; any other
    scalar key becomes a property too; ``projection`` is recorded as a foreign member (the
    polygons are planar, not RFC 7946 longitude/latitude). Coordinates are rounded to ``digits``
    decimals with
    :func:`shapely.set_precision`, which keeps polygons valid and shared edges shared.
    """
    features = []
    grid = 10.0 ** -digits
    for rec in records:
        geom = shapely.set_precision(rec["geometry"], grid)
        props = {k: v for k, v in rec.items() if k != "geometry"}
        features.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "units": "km",
            "projection": projection,
            "features": features}


def write_geojson(fc: dict, path) -> None:
    """Write a FeatureCollection as compact, deterministic UTF-8 JSON (one feature a line)."""
    head = {k: v for k, v in fc.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in fc["features"]]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' \
        + ",\n".join(lines) + "\n]}\n"
    Path(path).write_text(text, encoding="utf-8")


def geometries(fc: dict) -> dict[str, BaseGeometry]:
    """Neighbourhood id -> shapely geometry of a FeatureCollection from :func:`load_geometry`."""
    return {str(f["properties"]["neighbourhood"]): shape(f["geometry"]) for f in fc["features"]}


def check_geometry(fc: dict, neighbourhoods: Sequence[str], *, overlap_tol: float = 1e-4
                   ) -> list[str]:
    """Problems of a territory's polygons: missing or extra ids, invalid shapes, overlaps.

    Args:
        fc: The FeatureCollection.
        neighbourhoods: Ids of ``neighbourhoods.csv``.
        overlap_tol: Share of the smaller polygon's area that a pairwise intersection may have
            (slivers along shared edges, e.g. centimetres wide in digitised contours); at least
            1 m² (1e-6 km²) is always tolerated.

    Returns:
        One sentence per problem (empty when the geometry is consistent).
    """
    problems = []
    geoms = geometries(fc)
    ids = [str(n) for n in neighbourhoods]
    missing = [n for n in ids if n not in geoms]
    extra = [n for n in geoms if n not in set(ids)]
    if missing:
        problems.append(f"no polygon for neighbourhood(s) {', '.join(missing[:10])}")
    if extra:
        problems.append(f"polygon(s) for unknown neighbourhood(s) {', '.join(extra[:10])}")
    if len(geoms) != len(fc["features"]):
        problems.append("several polygons share a neighbourhood id")
    names = list(geoms)
    arr = np.asarray([geoms[n] for n in names], dtype=object)
    invalid = [n for n, ok in zip(names, shapely.is_valid(arr), strict=True) if not ok]
    if invalid:
        problems.append(f"invalid polygon(s): {', '.join(invalid[:10])}")
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    for a, b in zip(left, right, strict=True):
        if a < b:
            area = shapely.area(shapely.intersection(arr[a], arr[b]))
            if area > max(1e-6, overlap_tol * min(arr[a].area, arr[b].area)):
                problems.append(f"polygons {names[a]} and {names[b]} overlap ({area:.3g} km²)")
    return problems


def voronoi_cells(x: Sequence[float], y: Sequence[float], outline: BaseGeometry
                  ) -> list[BaseGeometry]:
    """Voronoi cell of each point (GEOS, :func:`shapely.voronoi_polygons`) clipped to ``outline``.

    Returns the cells in the order of the points; each point lies in its own cell.
    """
    pts = shapely.points(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=outline)
    by_point = [None] * len(pts)
    tree = shapely.STRtree(pts)
    for cell in cells.geoms:
        hit = tree.query(cell, predicate="contains")
        for j in hit:
            by_point[int(j)] = cell
    if any(c is None for c in by_point):
        raise ValueError("two points coincide: their Voronoi cells are not distinct")
    return [shapely.intersection(c, outline) for c in by_point]
