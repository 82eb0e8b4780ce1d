"""A territory folder from the public files of an EPCI, in one call (docs/territory.md).

:func:`build_territory` reads each public source by name, fits the population and returns every
file of the folder; :func:`write_territory` writes them through a staging folder, so a failure
leaves nothing half-written; :func:`check_territory` reports a folder's summary and consistency.
The sources (download pages and columns in docs/territory.md):

============  ======================================================================================
``filosofi``  INSEE Filosofi IRIS, disposable income (:func:`~.importers.read_filosofi_iris`)
``rpls``      SDES RPLS results by commune, xlsx or CSV (:func:`~.importers.read_rpls_communes`)
``contours``  IGN CONTOURS-IRIS, GeoJSON or GeoPackage (:func:`~.geometry.read_contours`)
``communes``  the EPCI's communes: a CSV/xlsx list (INSEE composition of EPCIs) or codes
``qpv``       QPV perimeters, GeoJSON (2024 décret); or ``qpv_iris``, a list of IRIS codes
``census``    INSEE census IRIS tables: housing (``P21_RP``, ``P21_RP_PROP``,
              ``P21_RP_LOCHLMV``) and optionally households (``C21_MENPSEUL``…)
``sne``       optional SNE demands and allocations by commune
============  ======================================================================================

Every refusal is a :class:`mixsim.model.errors.InputError` naming the file, the row (the header
is row 1) or feature, the column and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import tomllib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely

from mixsim.model.errors import InputError
from mixsim.model.territory import GEOMETRY_FILE, HH_TYPES, TENURES, cap_applicants

from . import geometry as geo
from .filosofi import read_filosofi_iris
from .importers import build_territory_from_public
from .ipf import largest_remainder
from .local_files import (
    ARRONDISSEMENTS,
    CENSUS_TENURE,
    CENSUS_TYPES,
    COMMUNE_KEYS,
    COMMUNE_NAMES,
    SNE_COLUMNS,
    read_census_iris,
    read_commune_list,
    read_qpv_iris,
    read_sne_communes,
)
from .readers import read_csv_table
from .rpls import read_rpls_communes

#: Files of a built folder besides the six tables.
REPORT_FILES = ("ipf_fit.csv", "ipf_margins.csv", "income_fit.csv", "qpv_overlap.csv",
                GEOMETRY_FILE, "targets.toml", "build.json")


# ============================================================================ the build


@dataclass(frozen=True)
class PublicSources:
    """The public files of a territory build (see the module docstring and docs/territory.md).

    Attributes:
        filosofi: Filosofi IRIS CSV.
        rpls: RPLS results by commune (xlsx or CSV).
        contours: IRIS contours (``.geojson`` or ``.gpkg``).
        communes: The EPCI's communes: a file, or codes separated by commas.
        census: Census IRIS bases (households by tenure, optionally by type).
        qpv: QPV perimeters (GeoJSON/GeoPackage), or None.
        qpv_iris: A list of QPV IRIS codes instead of perimeters, or None.
        sne: SNE demands and allocations by commune, or None.
        epci: EPCI code selecting the communes of an INSEE composition file, or None.
        layer: GeoPackage layer of the contours when it has several.
    """

    filosofi: Path
    rpls: Path
    contours: Path
    communes: str
    census: tuple[Path, ...]
    qpv: Path | None = None
    qpv_iris: Path | None = None
    sne: Path | None = None
    epci: str | None = None
    layer: str | None = None


@dataclass(frozen=True)
class BuildOptions:
    """Choices of a territory build.

    Attributes:
        seed: Seed of the rounding of the fitted population.
        quartile_cuts: ``"national"`` or ``"territory"`` quartile cut points.
        qpv_threshold: Share of an IRIS's area inside QPV perimeters for it to be a QPV.
        households: Total households wanted (rescales the census), or None.
    """

    seed: int = 0
    quartile_cuts: str = "national"
    qpv_threshold: float = geo.QPV_AREA_THRESHOLD
    households: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.qpv_threshold <= 1:
            raise InputError(f"got {self.qpv_threshold!r}; expected a share in (0, 1]",
                             field="qpv_threshold")
        if self.quartile_cuts not in ("national", "territory"):
            raise InputError(f"got {self.quartile_cuts!r}; allowed: national, territory",
                             field="quartile_cuts")


class BuiltTerritory(NamedTuple):
    """Every file of a built territory folder, in memory.

    Attributes:
        tables: The six territory tables and the report tables, by file stem.
        geometry: The ``geometry.geojson`` FeatureCollection (km).
        targets: Text of the ``targets.toml`` skeleton.
        info: Provenance written to ``build.json`` (sources with SHA-256, options, warnings).
    """

    tables: dict[str, pd.DataFrame]
    geometry: dict
    targets: str
    info: dict


def _select_contours(contours: list[dict], communes: pd.DataFrame, source: str) -> list[dict]:
    wanted = list(communes.commune)
    keep = [c for c in contours if c["commune"] in set(wanted)]
    have = {c["commune"] for c in keep}
    absent = [c for c in wanted if c not in have]
    if absent:
        raise InputError(f"no IRIS for commune(s) {', '.join(absent[:10])} of the commune list; "
                         "is it the contours file of the right département(s)?", source=source)
    order = {c: i for i, c in enumerate(wanted)}
    return sorted(keep, key=lambda c: (order[c["commune"]], c["iris"]))


def iris_frame(contours: list[dict], census: pd.DataFrame, qpv_share: np.ndarray,
               communes: pd.DataFrame, threshold: float) -> tuple[pd.DataFrame, list[dict]]:
    """Make the builder's IRIS table from contours, census counts and QPV shares.

    IRIS absent from the census or without households (activity zones, parks) are left out,
    with a warning. Owners ``P_RP_PROP / P_RP``, social tenants ``P_RP_LOCHLMV / P_RP``,
    private tenants the rest (including households housed free of charge); ``x``/``y`` are the
    polygon's centroid in Lambert-93 km.

    Returns:
        The table (columns of :data:`~.importers.IRIS_TABLE_COLUMNS`) and the kept contours.
    """
    names = dict(zip(communes.commune, communes.name, strict=True))
    rows, kept, dropped = [], [], []
    for rec, share in zip(contours, qpv_share, strict=True):
        code = rec["iris"]
        hh = float(census.households.get(code, np.nan)) if code in census.index else np.nan
        if not (np.isfinite(hh) and hh > 0):
            dropped.append(code)
            continue
        owners = float(np.nan_to_num(census.owners.get(code)))
        social = float(np.nan_to_num(census.social.get(code)))
        own_s = min(max(owners / hh, 0.0), 1.0)
        soc_s = min(max(social / hh, 0.0), 1.0 - own_s)
        c = geo.km(rec["geometry"]).centroid
        rows.append({"neighbourhood": code, "iris": code, "commune": rec["commune"],
                     "commune_name": names.get(rec["commune"]) or rec["commune_name"],
                     "name": rec["name"], "qpv": int(share >= threshold),
                     "x": round(c.x, 3), "y": round(c.y, 3), "households": hh,
                     "owner_share": own_s, "private_share": max(1.0 - own_s - soc_s, 0.0),
                     "social_share": soc_s})
        kept.append(rec)
    if dropped:
        warnings.warn(f"{len(dropped)} IRIS without households in the census left out: "
                      + ", ".join(dropped[:10]) + ("…" if len(dropped) > 10 else ""),
                      UserWarning, stacklevel=2)
    if not rows:
        raise InputError("no IRIS of the communes has households in the census files; check "
                         "the IRIS codes", field="census")
    return pd.DataFrame(rows), kept


def apply_sne(applicants: pd.DataFrame, population: pd.DataFrame, sne: pd.DataFrame,
              communes: Sequence[str]) -> pd.DataFrame:
    """Rescale the applicants table to the SNE pending demands of the EPCI's communes.

    The structure (tenure, quartile, priority) is kept; with ``transfer_demands`` the social
    tenants' requests are set to it and the others to the rest. Counts are capped by the
    households of each tenure and quartile.
    """
    here = sne.reindex([c for c in communes if c in sne.index])
    total = float(np.nansum(here.demands)) if "demands" in here else 0.0
    if not total > 0:
        return applicants
    app = applicants.copy()
    groups = {"all": np.ones(len(app), bool)}
    wanted = {"all": total}
    if "transfer_demands" in here and np.isfinite(here.transfer_demands).any():
        transfers = min(float(np.nansum(here.transfer_demands)), total)
        groups = {"social": (app.tenure == "social").to_numpy(),
                  "other": (app.tenure != "social").to_numpy()}
        wanted = {"social": transfers, "other": total - transfers}
    for g, mask in groups.items():
        if mask.any():
            app.loc[mask, "count"] = largest_remainder(app.loc[mask, "count"].to_numpy(float),
                                                        round(wanted[g]))
    return cap_applicants(app, population)


def _weighted_rate(rp: pd.DataFrame, rate: str, weight: str) -> float | None:
    if rate not in rp:
        return None
    w = rp[weight] if weight in rp else rp.nb_ls
    ok = np.isfinite(rp[rate]) & np.isfinite(w) & (w > 0)
    if not ok.any():
        return None
    return float(np.average(rp[rate][ok], weights=w[ok]) / 100.0)


def targets_skeleton(rp: pd.DataFrame, sne: pd.DataFrame | None, rpls_name: str,
                     sne_name: str | None) -> str:
    """``targets.toml`` from the files' own figures, national figures for the rest.

    Vacancy and turnover are the RPLS ``tx_vac`` and ``tx_mob`` of the EPCI's communes averaged
    with weights ``nb_loues + nb_vacants`` (the dwellings offered for letting, RPLS's
    denominator) or ``nb_ls``; ``tx_vac3`` goes into the vacancy note. With an SNE table,
    applicants per allocation is ``sum(demands) / sum(allocations)`` and the transfer share
    ``sum(transfer_allocations) / sum(allocations)``. Other targets copy
    ``calibration/default_targets.toml`` (national figures, marked to be replaced).
    """
    from mixsim.model.config import to_toml

    default = tomllib.loads((resources.files("mixsim.calibration")
                             / "default_targets.toml").read_text(encoding="utf-8"))
    targets = {k: dict(v) for k, v in default["targets"].items()}
    national_notes = {k: t.get("note", "") for k, t in targets.items()}
    for t in targets.values():
        t["note"] = ("national figure standing in for a local one; replace it with the EPCI's "
                     "own when known. " + t.get("note", "")).strip()
    local = {**_rpls_figures(rp, rpls_name), **_sne_figures(sne, sne_name)}
    for name, (value, source, note) in local.items():
        t = targets[name]
        t.update(value=value, source=source)
        t["note"] = "; ".join(n for n in (note, national_notes[name]) if n)
        if not t["note"]:
            del t["note"]
    head = ("# Calibration targets written by `mixsim territory build` (docs/territory.md).\n"
            "# Figures from the territory's own files say so in `source`; the others are national\n"
            "# figures (calibration/default_targets.toml) to replace with local ones.\n\n")
    return head + to_toml({"burn_in": default.get("burn_in", 1), "targets": targets}) + "\n"


def _rpls_figures(rp: pd.DataFrame, rpls_name: str) -> dict[str, tuple[float, str, str]]:
    """Vacancy and turnover of the RPLS table: target name -> (value, source, note)."""
    rp = rp.copy()
    if {"nb_loues", "nb_vacants"} <= set(rp.columns):
        rp["offered"] = rp.nb_loues.fillna(0) + rp.nb_vacants.fillna(0)
    local = {}
    vac = _weighted_rate(rp, "tx_vac", "offered")
    if vac is not None:
        vac3 = _weighted_rate(rp, "tx_vac3", "offered")
        local["vacancy"] = (round(vac, 4), f"RPLS tx_vac of the EPCI's communes ({rpls_name}), "
                            "weighted by the dwellings offered for letting",
                            f"vacancy over 3 months (tx_vac3): {vac3:.2%}" if vac3 is not None
                            else "")
    mob = _weighted_rate(rp, "tx_mob", "offered")
    if mob is not None:
        local["turnover"] = (round(mob, 4), f"RPLS tx_mob of the EPCI's communes ({rpls_name}),"
                             " weighted by the dwellings offered for letting",
                             "RPLS mobility: moves into dwellings offered for at least a year")
    return local


def _sne_figures(sne: pd.DataFrame | None, sne_name: str | None
                 ) -> dict[str, tuple[float, str, str]]:
    """Applicants per allocation and transfer share of the SNE table, when it has allocations."""
    if sne is None or "allocations" not in sne or not np.nansum(sne.allocations) > 0:
        return {}
    alloc = float(np.nansum(sne.allocations))
    local = {"applicants_per_allocation": (
        round(float(np.nansum(sne.demands)) / alloc, 3),
        f"SNE demands / allocations of the EPCI's communes ({sne_name})", "")}
    if "transfer_allocations" in sne and np.isfinite(sne.transfer_allocations).any():
        local["transfer_share"] = (
            round(float(np.nansum(sne.transfer_allocations)) / alloc, 4),
            f"SNE transfer allocations / allocations ({sne_name})", "")
    return local


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def qpv_shares(src: PublicSources, contours: Sequence[dict]) -> tuple[np.ndarray, list[str]]:
    """Share of each IRIS's area inside QPV, and the codes of the perimeters that touch them.

    From the perimeters (:func:`~.geometry.qpv_overlap`), or 1 for the listed QPV IRIS codes, or
    0 everywhere without either.
    """
    if src.qpv is not None and src.qpv_iris is not None:
        raise InputError("give QPV perimeters or a list of QPV IRIS codes, not both",
                         field="qpv")
    geoms = [c["geometry"] for c in contours]
    if src.qpv is not None:
        perimeters = geo.read_qpv_perimeters(src.qpv)
        share = geo.qpv_overlap(geoms, [p["geometry"] for p in perimeters])
        tree = shapely.STRtree(np.asarray(geoms, dtype=object))
        codes = sorted({p["code"] for p in perimeters
                        if p["code"] and len(tree.query(p["geometry"], predicate="intersects"))})
        return share, codes
    if src.qpv_iris is not None:
        listed = read_qpv_iris(src.qpv_iris)
        return np.array([1.0 if c["iris"] in listed else 0.0 for c in contours]), []
    return np.zeros(len(contours)), []


def _provenance(src: PublicSources, options: BuildOptions, qpv_codes: list[str]) -> dict:
    """Make the ``build.json`` record: every source file with its SHA-256, and the options."""
    def entry(path) -> dict:
        return {"file": str(path), "sha256": _sha256(Path(path))}

    files = {"filosofi": src.filosofi, "rpls": src.rpls, "contours": src.contours,
             "qpv": src.qpv, "qpv_iris": src.qpv_iris, "sne": src.sne}
    return {"sources": {k: entry(v) for k, v in files.items() if v is not None},
            "census": [entry(p) for p in src.census],
            "communes": entry(src.communes) if Path(src.communes).is_file() else src.communes,
            "epci": src.epci, "layer": src.layer, "qpv_perimeters_used": qpv_codes,
            "options": {"seed": options.seed, "quartile_cuts": options.quartile_cuts,
                        "qpv_threshold": options.qpv_threshold,
                        "households": options.households}}


def build_territory(src: PublicSources, options: BuildOptions = BuildOptions()
                    ) -> BuiltTerritory:
    """Read every public source, fit the population and return the files of the folder.

    Steps: the commune list (:func:`read_commune_list`); the contours of its IRIS (every listed
    commune must have some); QPV membership (:func:`qpv_shares`, an IRIS is QPV when the share
    is ≥ ``qpv_threshold``); census households by tenure (and type) per IRIS
    (:func:`read_census_iris`, :func:`iris_frame`); then
    :func:`~.importers.build_territory_from_public` on Filosofi, RPLS and that IRIS table; SNE
    demands rescale the applicants (:func:`apply_sne`); :func:`targets_skeleton`.

    Raises:
        InputError: for any bad source (file, row, column and what is allowed).
    """
    communes = read_commune_list(src.communes, epci=src.epci)
    contours = _select_contours(geo.read_contours(src.contours, layer=src.layer,
                                                  communes=communes.commune), communes,
                                str(src.contours))
    share, qpv_codes = qpv_shares(src, contours)
    census = read_census_iris(src.census)
    it, kept = iris_frame(contours, census, share, communes, options.qpv_threshold)
    rp = read_rpls_communes(src.rpls)
    tables = build_territory_from_public(read_filosofi_iris(src.filosofi), rp, it,
                                         households=options.households, seed=options.seed,
                                         quartile_cuts=options.quartile_cuts,
                                         household_types=_census_types(census, it))
    sne = read_sne_communes(src.sne) if src.sne is not None else None
    here = list(communes.commune)
    if sne is not None:
        tables["applicants"] = apply_sne(tables["applicants"], tables["population"], sne, here)
    tables["qpv_overlap"] = _qpv_overlap_table(it, contours, kept, share)
    targets = targets_skeleton(rp[rp.depcom_arm.isin(set(here))],
                               None if sne is None else sne.reindex([c for c in here
                                                                     if c in sne.index]),
                               Path(src.rpls).name, Path(src.sne).name if src.sne else None)
    return BuiltTerritory(tables, _geometry(tables["neighbourhoods"], kept), targets,
                          _provenance(src, options, qpv_codes))


def _census_types(census: pd.DataFrame, it: pd.DataFrame) -> pd.DataFrame | None:
    """Take the census households by type per neighbourhood (None without that base)."""
    if not all(t in census for t in HH_TYPES):
        return None
    return census.loc[list(it.iris), list(HH_TYPES)].set_axis(list(it.neighbourhood))


def _qpv_overlap_table(it: pd.DataFrame, contours: list[dict], kept: list[dict],
                       share: np.ndarray) -> pd.DataFrame:
    """Report: each kept IRIS's area, share inside QPV perimeters and QPV flag."""
    kept_idx = [i for i, c in enumerate(contours) if any(c is k for k in kept)]
    return pd.DataFrame({
        "neighbourhood": list(it.neighbourhood),
        "area_km2": [round(contours[i]["geometry"].area / 1e6, 4) for i in kept_idx],
        "qpv_share": np.round(share[kept_idx], 4), "qpv": list(it.qpv)})


def _geometry(nb: pd.DataFrame, kept: list[dict]) -> dict:
    """Make the ``geometry.geojson`` FeatureCollection: the kept IRIS polygons in km."""
    return geo.feature_collection([
        {"neighbourhood": n, "name": nm, "commune": c, "qpv": int(q),
         "geometry": geo.km(k["geometry"])}
        for n, nm, c, q, k in zip(nb.neighbourhood, nb.name, nb.commune, nb.qpv, kept,
                                  strict=True)])


# ============================================================================ writing


def write_territory(built: BuiltTerritory, out, *, warnings_text: Sequence[str] = ()
                    ) -> list[Path]:
    """Write a built territory into ``out`` through a staging folder.

    Every file is first written into a hidden staging folder beside ``out``; only when all are
    written are they moved into ``out`` (created if needed), so an error leaves ``out`` as it
    was. Existing files of the same names are replaced; other files are left alone.

    Returns:
        The paths written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give a folder path", source="--out",
                         field=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        for name, df in built.tables.items():
            (staging / f"{name}.csv").write_text(df.to_csv(index=False, lineterminator="\n"),
                                                 encoding="utf-8")
        geo.write_geojson(built.geometry, staging / GEOMETRY_FILE)
        (staging / "targets.toml").write_text(built.targets, encoding="utf-8")
        info = dict(built.info, warnings=list(warnings_text))
        (staging / "build.json").write_text(json.dumps(info, indent=2, ensure_ascii=False)
                                            + "\n", encoding="utf-8")
        mask = os.umask(0o022)  # mkdtemp makes 0700; files get the user's usual mode
        os.umask(mask)
        mode = 0o666 & ~mask
        for f in staging.iterdir():
            os.chmod(f, mode)
        out.mkdir(exist_ok=True)
        written = []
        for f in sorted(staging.iterdir()):
            os.replace(f, out / f.name)
            written.append(out / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


# ============================================================================ checking


@dataclass(frozen=True)
class CheckReport:
    """Summary and consistency of a territory folder.

    Attributes:
        summary: (label, value) lines: counts, shares, geometry.
        problems: One sentence per inconsistency (empty when none).
        notes: Remarks that are not problems (e.g. no geometry).
    """

    summary: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_territory(folder) -> CheckReport:
    """Load a territory folder (or ``"default"``) and report its summary and consistency.

    Checks, beyond :func:`mixsim.model.territory.load_folder`'s validation (which raises):
    polygons (one per neighbourhood, valid, non-overlapping, properties matching
    ``neighbourhoods.csv``), each neighbourhood's ``x``/``y`` inside its polygon's convex hull
    (where a centroid lies), the IPF
    fit report (converged), and ``targets.toml`` (readable by the calibration).

    Raises:
        InputError: if the tables or the geometry file cannot be read.
    """
    from mixsim.model.territory import load_geometry, load_territory

    t = load_territory(str(folder))  # "default" or a folder
    folder = Path(folder)
    rep = CheckReport()
    rep.summary.extend(_summary(t))
    fc = load_geometry(str(folder))
    if fc is None:
        rep.notes.append(f"no {GEOMETRY_FILE}: maps draw discs at the neighbourhoods' x/y")
    else:
        _check_polygons(fc, t.neighbourhoods, rep)
    if t.name == "default":
        rep.notes.append("the embedded default: built by model/data/build_default.py, "
                         "national targets (calibration/default_targets.toml)")
        return rep
    _check_fit_report(folder / "ipf_fit.csv", rep)
    _check_targets(folder, rep)
    return rep


def _summary(t) -> list[tuple[str, str]]:
    """Make the summary lines of a loaded territory: counts, shares, households by tenure."""
    s = t.summary()
    pop_t = t.population.groupby("tenure")["count"].sum()
    return [
        ("households", f"{t.n_households:,}"),
        ("communes", ", ".join(f"{c} {n}" for c, n in zip(t.communes.commune, t.communes.name,
                                                          strict=True))),
        ("neighbourhoods", f"{int(s['neighbourhoods'])}, of which {int(s['qpv'])} QPV"),
        ("dwellings", f"{int(s['dwellings']):,}"),
        ("social share of dwellings", f"{s['social_share']:.1%}"),
        ("social dwellings in QPV", f"{s['social_in_qpv_share']:.1%}"),
        ("Q1 households living in QPV", f"{s['q1_share_in_qpv']:.1%}"),
        ("applicants", f"{int(t.applicants['count'].sum()):,}"),
        ("households by tenure", ", ".join(f"{k} {int(pop_t.get(k, 0)):,}" for k in TENURES)),
    ]


def _check_polygons(fc: dict, nb: pd.DataFrame, rep: CheckReport) -> None:
    """Check polygons: valid, one per neighbourhood, same commune, x/y in the convex hull."""
    rep.problems.extend(geo.check_geometry(fc, list(nb.neighbourhood)))
    polys = geo.geometries(fc)
    props = {str(f["properties"].get("neighbourhood")): f["properties"] for f in fc["features"]}
    total = sum(p.area for p in polys.values())
    rep.summary.append(("geometry", f"{len(polys)} polygons, {total:,.1f} km²"))
    for row in nb.itertuples():
        p = props.get(str(row.neighbourhood))
        if p is None:
            continue
        if str(p.get("commune")) != str(row.commune):
            rep.problems.append(f"polygon {row.neighbourhood}: commune {p.get('commune')!r}"
                                f" but {row.commune!r} in neighbourhoods.csv")
        poly = polys[str(row.neighbourhood)]
        slack = 0.05 * poly.area ** 0.5 + 1e-3
        # a centroid lies in the convex hull (not always in a concave polygon)
        if not poly.convex_hull.buffer(slack).contains(shapely.Point(row.x, row.y)):
            rep.problems.append(f"neighbourhood {row.neighbourhood}: x/y ({row.x:g}, "
                                f"{row.y:g}) lies outside its polygon")


def _check_fit_report(fit_file: Path, rep: CheckReport) -> None:
    """Check that the population fit converged; put its worst margin cell in the summary."""
    if not fit_file.is_file():
        rep.notes.append("no ipf_fit.csv (not built by `mixsim territory build`)")
        return
    fit = pd.read_csv(fit_file)
    if "converged" in fit and not fit.converged.astype(str).eq("True").all():
        rep.problems.append("ipf_fit.csv: the population fit did not converge")
    if "max_abs_error" in fit:
        rep.summary.append(("population fit, worst margin cell",
                            f"{fit.max_abs_error.max():g} household(s)"))


def _check_targets(folder: Path, rep: CheckReport) -> None:
    """Check that ``targets.toml`` is there and readable by the calibration."""
    if not (folder / "targets.toml").is_file():
        rep.notes.append("no targets.toml: `mixsim calibrate` needs one")
        return
    from mixsim.calibration.targets import load_targets
    try:
        targets = load_targets(folder)
        rep.summary.append(("calibration targets", ", ".join(
            f"{tg.name} {tg.value:g}" for tg in targets.targets)))
    except InputError as err:
        rep.problems.append(f"targets.toml: {err}")


__all__ = ["ARRONDISSEMENTS", "CENSUS_TENURE", "CENSUS_TYPES", "COMMUNE_KEYS", "COMMUNE_NAMES",
           "SNE_COLUMNS", "BuildOptions", "BuiltTerritory", "CheckReport", "PublicSources",
           "apply_sne", "build_territory", "check_territory", "iris_frame", "qpv_shares",
           "read_census_iris", "read_commune_list", "read_csv_table", "read_qpv_iris",
           "read_sne_communes", "targets_skeleton", "write_territory"]
