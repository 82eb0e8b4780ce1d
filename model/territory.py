"""Territory: communes, neighbourhoods, dwellings, social résidences and the initial population.

One schema serves the embedded default agglomeration and users' local data folders (ODD §6). A
territory folder holds six CSV tables (``docs/ODD.md`` §"Input data" documents every column):

``communes.csv``        commune, name, sru_applies
``neighbourhoods.csv``  neighbourhood, commune, name, qpv, x, y, base_attractiveness,
                        private_rent_m2
``dwellings.csv``       neighbourhood, sector (private|owner), rooms (1–5), count
``social_stock.csv``    residence, neighbourhood, landlord, financing (PLAI|PLUS|PLS), rooms, count,
                        rent_m2 [, holder (prefet|action_logement|commune|bailleur)]
``population.csv``      neighbourhood, tenure (social|private|owner|hosted), quartile (1–4),
                        hh_type (single|couple|couple_children|single_parent|other), count
``applicants.csv``      tenure (social|private|hosted), quartile, priority (0|1), count

Counts are households or dwellings. Loading validates every table and reports the first problem
with the file, row and column; :func:`scale_territory` shrinks or grows every count. A count is at
most :data:`MAX_COUNT` and a table's counts add up to at most :data:`MAX_TOTAL` (ten million:
more households than Île-de-France's 5.3 million, the largest French region; a larger figure is
a typing error, and would need more memory than a workstation has). Numbers must be finite.

Files are UTF-8, with or without the byte-order mark that spreadsheet software writes ("CSV
UTF-8"); the separator (comma, semicolon or tab) is read from the header line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

HH_TYPES = ("single", "couple", "couple_children", "single_parent", "other")
TENURES = ("social", "private", "owner", "hosted")
SECTORS = ("social", "private", "owner")
FINANCING = ("PLAI", "PLUS", "PLS")
HOLDERS = ("prefet", "action_logement", "commune", "bailleur")

# column -> (kind, allowed); kind in {"str", "int", "float", "flag", "choice"}
SCHEMA: dict[str, dict[str, tuple[str, object]]] = {
    "communes": {"commune": ("str", None), "name": ("str", None), "sru_applies": ("flag", None)},
    "neighbourhoods": {
        "neighbourhood": ("str", None), "commune": ("str", None), "name": ("str", None),
        "qpv": ("flag", None), "x": ("float", None), "y": ("float", None),
        "base_attractiveness": ("float", (-5.0, 5.0)), "private_rent_m2": ("float", (1.0, 60.0)),
    },
    "dwellings": {
        "neighbourhood": ("str", None), "sector": ("choice", ("private", "owner")),
        "rooms": ("int", (1, 5)), "count": ("int", (0, None)),
    },
    "social_stock": {
        "residence": ("str", None), "neighbourhood": ("str", None), "landlord": ("str", None),
        "financing": ("choice", FINANCING), "rooms": ("int", (1, 5)), "count": ("int", (0, None)),
        "rent_m2": ("float", (1.0, 30.0)),
    },
    "population": {
        "neighbourhood": ("str", None), "tenure": ("choice", TENURES), "quartile": ("int", (1, 4)),
        "hh_type": ("choice", HH_TYPES), "count": ("int", (0, None)),
    },
    "applicants": {
        "tenure": ("choice", ("social", "private", "hosted")), "quartile": ("int", (1, 4)),
        "priority": ("flag", None), "count": ("int", (0, None)),
    },
}
OPTIONAL = {"social_stock": {"holder": ("choice", HOLDERS)}}
#: Largest count of one row (households or dwellings).
MAX_COUNT = 10_000_000
#: Largest sum of the counts of one table.
MAX_TOTAL = 10_000_000


@dataclass(frozen=True)
class Territory:
    """Validated territory tables (pandas DataFrames, one row per category count).

    Attributes:
        name: Where the tables came from (``"default"`` or the folder path).
        scale: Scale factor already applied to every count.
    """

    name: str
    communes: pd.DataFrame
    neighbourhoods: pd.DataFrame
    dwellings: pd.DataFrame
    social_stock: pd.DataFrame
    population: pd.DataFrame
    applicants: pd.DataFrame
    scale: float = 1.0

    @property
    def n_households(self) -> int:
        """Households in the initial population."""
        return int(self.population["count"].sum())

    def summary(self) -> dict[str, float]:
        """Key orders of magnitude: households, social share, QPV shares, poverty proxy."""
        nb = self.neighbourhoods.set_index("neighbourhood")
        soc = self.social_stock["count"].sum()
        tot = soc + self.dwellings["count"].sum()
        soc_qpv = self.social_stock.assign(q=self.social_stock.neighbourhood.map(nb.qpv))
        pop = self.population.assign(q=self.population.neighbourhood.map(nb.qpv))
        q1 = pop[pop.quartile == 1]
        return {
            "households": float(self.n_households),
            "communes": float(len(self.communes)),
            "neighbourhoods": float(len(nb)),
            "qpv": float(nb.qpv.sum()),
            "dwellings": float(tot),
            "social_share": float(soc / tot) if tot else float("nan"),
            "social_in_qpv_share": float(soc_qpv.loc[soc_qpv.q == 1, "count"].sum() / soc)
            if soc else float("nan"),
            "q1_share_in_qpv": float(q1.loc[q1.q == 1, "count"].sum()
                                     / max(1, pop.loc[pop.q == 1, "count"].sum())),
        }


def _fail(msg: str, file: str, row: int | None = None, column: str | None = None) -> InputError:
    where = []
    if row is not None:
        where.append(f"row {row}")  # 1-based data row, header is row 0... reported as line
    if column:
        where.append(f"column {column!r}")
    return InputError(msg, source=file, field=", ".join(where) or None)


def _check_table(name: str, df: pd.DataFrame, file: str) -> pd.DataFrame:
    schema = dict(SCHEMA[name])
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise _fail(f"missing column(s) {', '.join(missing)}; required columns: "
                    f"{', '.join(schema)}", file)
    for col, spec in OPTIONAL.get(name, {}).items():
        if col in df.columns:
            schema[col] = spec
    unknown = [c for c in df.columns if c not in schema]
    if unknown:
        raise _fail(f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(schema)}", file)
    out = {}
    for col, (kind, allowed) in schema.items():
        s = df[col]
        na = s.isna() | (s.astype(str).str.strip() == "")
        if na.any():
            r = int(np.flatnonzero(na.to_numpy())[0]) + 2
            raise _fail("empty value", file, r, col)
        if kind == "str":
            out[col] = s.astype(str).str.strip()
        elif kind == "choice":
            v = s.astype(str).str.strip()
            bad = ~v.isin(allowed)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise _fail(f"got {v.iloc[i]!r}; allowed: {', '.join(allowed)}", file, i + 2, col)
            out[col] = v
        else:
            num = pd.to_numeric(s, errors="coerce")
            if num.isna().any():
                i = int(np.flatnonzero(num.isna().to_numpy())[0])
                raise _fail(f"got {s.iloc[i]!r}; expected a number", file, i + 2, col)
            inf = ~np.isfinite(num.to_numpy(dtype=float))
            if inf.any():
                i = int(np.flatnonzero(inf)[0])
                raise _fail(f"got {s.iloc[i]!r}; expected a finite number", file, i + 2, col)
            if col == "count" and (num > MAX_COUNT).any():
                i = int(np.flatnonzero((num > MAX_COUNT).to_numpy())[0])
                raise _fail(f"got {s.iloc[i]!r}; a count is at most {MAX_COUNT:,} (see the "
                            "territory module's documentation)", file, i + 2, col)
            if kind in ("int", "flag"):
                frac = (num % 1) != 0
                if frac.any():
                    i = int(np.flatnonzero(frac.to_numpy())[0])
                    raise _fail(f"got {s.iloc[i]!r}; expected a whole number", file, i + 2, col)
                num = num.astype(np.int64)
            lo, hi = allowed if isinstance(allowed, tuple) else (None, None)
            if kind == "flag":
                lo, hi = 0, 1
            bad = np.zeros(len(num), bool)
            if lo is not None:
                bad |= (num < lo).to_numpy()
            if hi is not None:
                bad |= (num > hi).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                rng_txt = (f"from {lo} to {hi}" if hi is not None else f"≥ {lo}")
                if col == "count":
                    rng_txt = "a non-negative count"
                raise _fail(f"got {s.iloc[i]!r}; allowed: {rng_txt}", file, i + 2, col)
            out[col] = num
    if "count" in out and int(out["count"].sum()) > MAX_TOTAL:
        raise _fail(f"the counts add up to {int(out['count'].sum()):,}; at most {MAX_TOTAL:,} "
                    "are supported", file, column="count")
    return pd.DataFrame(out)


def validate(tables: dict[str, pd.DataFrame], files: dict[str, str] | None = None,
             name: str = "<tables>") -> Territory:
    """Validate raw tables (column types and ranges, keys, consistency of totals).

    Args:
        tables: One DataFrame per table of the schema.
        files: File name used in messages for each table.
        name: Name of the territory.

    Raises:
        InputError: naming the file, row and column of the first problem.
    """
    files = files or {k: f"{k}.csv" for k in SCHEMA}
    t = {k: _check_table(k, tables[k], files[k]) for k in SCHEMA}
    com, nb = t["communes"], t["neighbourhoods"]
    for key, tab in (("commune", "communes"), ("neighbourhood", "neighbourhoods")):
        dup = t[tab][key].duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise _fail(f"duplicate id {t[tab][key].iloc[i]!r}", files[tab], i + 2, key)
    if len(com) > 64:
        raise _fail(f"{len(com)} communes; at most 64 are supported", files["communes"])
    bad = ~nb.commune.isin(com.commune)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(f"commune {nb.commune.iloc[i]!r} is not in {files['communes']}",
                    files["neighbourhoods"], i + 2, "commune")
    for tab in ("dwellings", "social_stock", "population"):
        bad = ~t[tab].neighbourhood.isin(nb.neighbourhood)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _fail(f"neighbourhood {t[tab].neighbourhood.iloc[i]!r} is not in "
                        f"{files['neighbourhoods']}", files[tab], i + 2, "neighbourhood")
    res_nb = t["social_stock"].groupby("residence")["neighbourhood"].nunique()
    if (res_nb > 1).any():
        raise _fail(f"residence {res_nb[res_nb > 1].index[0]!r} lies in several neighbourhoods",
                    files["social_stock"], column="residence")
    if t["population"]["count"].sum() <= 0:
        raise _fail("the population is empty (all counts are 0)", files["population"],
                    column="count")
    # households of each tenure must fit in the dwellings of that sector, per neighbourhood
    stock = pd.concat([
        t["dwellings"][["neighbourhood", "sector", "count"]],
        t["social_stock"][["neighbourhood", "count"]].assign(sector="social"),
    ]).groupby(["neighbourhood", "sector"])["count"].sum()
    housed = t["population"][t["population"].tenure != "hosted"]
    need = housed.groupby(["neighbourhood", "tenure"])["count"].sum()
    for (nbh, tenure), n in need.items():
        have = int(stock.get((nbh, tenure), 0))
        if n > have:
            raise _fail(f"inconsistent totals: {n} {tenure} households in neighbourhood {nbh!r} "
                        f"but only {have} {tenure} dwellings there "
                        f"({files['dwellings'] if tenure != 'social' else files['social_stock']})",
                        files["population"], column="count")
    pop_tq = t["population"].groupby(["tenure", "quartile"])["count"].sum()
    app_tq = t["applicants"].groupby(["tenure", "quartile"])["count"].sum()
    for (tenure, q), n in app_tq.items():
        have = int(pop_tq.get((tenure, q), 0))
        if n > have:
            raise _fail(f"inconsistent totals: {n} {tenure} applicants of quartile {q} but only "
                        f"{have} such households in {files['population']}", files["applicants"],
                        column="count")
    return Territory(name=name, **t)


def load_folder(path: str | Path) -> Territory:
    """Load and validate a territory from a folder of CSV tables (see the module docstring)."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError("territory folder not found (expected a folder holding "
                         + ", ".join(f"{k}.csv" for k in SCHEMA) + ")", source=str(folder))
    tables, files = {}, {}
    for k in SCHEMA:
        f = folder / f"{k}.csv"
        files[k] = str(f)
        if not f.is_file():
            raise InputError(f"missing table {k}.csv; a territory folder needs "
                             + ", ".join(f"{n}.csv" for n in SCHEMA), source=str(folder))
        tables[k] = _read_csv(f)
    return validate(tables, files, name=str(folder))


def _read_csv(f: Path) -> pd.DataFrame:
    """Read one table as text cells (UTF-8 with or without BOM; ``,``, ``;`` or tab separated)."""
    import io

    try:
        text = f.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"is not UTF-8 text (byte {err.start}); save it as CSV UTF-8",
                         source=str(f)) from None
    except OSError as err:
        raise InputError(f"cannot be read: {err.strerror or err}", source=str(f)) from None
    header = next((line for line in text.splitlines() if line.strip()), "")
    if not header:
        table = f.stem if f.stem in SCHEMA else None
        cols = f"; expected a header line: {', '.join(SCHEMA[table])}" if table else ""
        raise InputError(f"is empty{cols}", source=str(f))
    sep = max((",", ";", "\t"), key=header.count)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep,
                         skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise InputError(f"cannot be read as CSV: {err}", source=str(f)) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def default_territory() -> Territory:
    """Load the embedded default agglomeration (see ``model/data/build_default.py``)."""
    root = resources.files("mixsim.model") / "data" / "default"
    tables, files = {}, {}
    for k in SCHEMA:
        with resources.as_file(root / f"{k}.csv") as f:
            files[k] = f"default/{k}.csv"
            tables[k] = pd.read_csv(f, dtype=str, keep_default_na=False)
    return validate(tables, files, name="default")


def _round_keep_total(values: np.ndarray, scale: float) -> np.ndarray:
    """Scale counts and round them keeping the scaled total (largest remainders, deterministic)."""
    x = values.astype(float) * scale
    base = np.floor(x).astype(np.int64)
    short = int(round(x.sum())) - int(base.sum())
    if short > 0:
        order = np.argsort(-(x - base), kind="stable")[:short]
        base[order] += 1
    return base


def scale_territory(t: Territory, scale: float) -> Territory:
    """Multiply every count by ``scale`` (0.1 gives a 10 % territory with the same proportions).

    Counts are rounded by largest remainders so each table keeps its scaled total; applicants are
    capped by the scaled population they are drawn from.
    """
    if not (scale > 0 and np.isfinite(scale)):
        raise InputError(f"got {scale!r}; expected a positive number", field="scale")
    if scale == 1.0:
        return t
    scaled = {}
    for k in ("dwellings", "social_stock", "population", "applicants"):
        df = getattr(t, k).copy()
        df["count"] = _round_keep_total(df["count"].to_numpy(), scale)
        scaled[k] = df
    # keep households within the dwellings of their sector after rounding
    pop = scaled["population"]
    stock = pd.concat([
        scaled["dwellings"][["neighbourhood", "sector", "count"]],
        scaled["social_stock"][["neighbourhood", "count"]].assign(sector="social"),
    ]).groupby(["neighbourhood", "sector"])["count"].sum()
    for (nbh, tenure), idx in pop[pop.tenure != "hosted"].groupby(
            ["neighbourhood", "tenure"]).groups.items():
        excess = int(pop.loc[idx, "count"].sum()) - int(stock.get((nbh, tenure), 0))
        for i in sorted(idx, key=lambda j: -pop.at[j, "count"]):
            if excess <= 0:
                break
            cut = min(excess, int(pop.at[i, "count"]))
            pop.at[i, "count"] -= cut
            excess -= cut
    cap_applicants(scaled["applicants"], pop)
    return replace(t, scale=t.scale * scale, **scaled)


def cap_applicants(applicants: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Cap the applicants of each tenure and quartile by the households they are drawn from.

    Rows of an over-full (tenure, quartile) group are cut in table order until the group fits.
    ``applicants`` is changed in place and returned.
    """
    cap = population.groupby(["tenure", "quartile"])["count"].sum()
    for (tenure, q), idx in applicants.groupby(["tenure", "quartile"]).groups.items():
        excess = int(applicants.loc[idx, "count"].sum()) - int(cap.get((tenure, q), 0))
        for i in idx:
            if excess <= 0:
                break
            cut = min(excess, int(applicants.at[i, "count"]))
            applicants.at[i, "count"] -= cut
            excess -= cut
    return applicants


def load_territory(source: str = "default", scale: float = 1.0) -> Territory:
    """Load the default territory or a data folder, then scale it."""
    t = default_territory() if source == "default" else load_folder(source)
    return scale_territory(t, scale)


#: Name of the optional geometry file of a territory folder (and of the embedded default).
GEOMETRY_FILE = "geometry.geojson"


def load_geometry(source: str = "default", *,
                  neighbourhoods: list[str] | tuple[str, ...] | None = None) -> dict | None:
    """Return the neighbourhood polygons of a territory, or ``None`` when it ships none.

    A GeoJSON ``FeatureCollection`` (``geometry.geojson`` in the territory folder, or beside the
    embedded default's tables). Each feature's ``properties`` hold ``neighbourhood`` (the id of
    ``neighbourhoods.csv``), ``name`` and ``commune``; coordinates are in the same planar units
    as the neighbourhoods' ``x``/``y``. Maps draw these polygons, or discs at ``x``/``y`` when
    there are none.

    Args:
        source: ``"default"`` or a territory folder.
        neighbourhoods: Ids of the territory's neighbourhoods; when given, every id must have
            exactly one feature and every feature a known id.

    Raises:
        InputError: naming the file and the feature if the file is not a FeatureCollection, a
            feature lacks ``properties.neighbourhood``/``name``/``commune`` or a
            ``Polygon``/``MultiPolygon`` geometry, an id repeats, or (with ``neighbourhoods``)
            an id is missing or unknown.
    """
    import json

    if source == "default":
        ref = resources.files("mixsim.model") / "data" / "default" / GEOMETRY_FILE
        if not ref.is_file():
            return None
        text = ref.read_text(encoding="utf-8")
        name = f"default/{GEOMETRY_FILE}"
    else:
        path = Path(source) / GEOMETRY_FILE
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8-sig")
        name = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"is not valid GeoJSON: {err}", source=name) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise InputError("must be a GeoJSON FeatureCollection with a 'features' list",
                         source=name, field="type")
    seen: dict[str, int] = {}
    for i, feat in enumerate(data["features"], start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        where = f"feature {i}"
        if not isinstance(props, dict):
            raise InputError("a Feature with a 'properties' object is expected", source=name,
                             field=where)
        missing = [k for k in ("neighbourhood", "name", "commune") if k not in props]
        if missing:
            raise InputError(f"missing propert{'y' if len(missing) == 1 else 'ies'} "
                             f"{', '.join(missing)}; each feature needs neighbourhood, name "
                             "and commune", source=name, field=where)
        geom = feat.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise InputError("geometry must be a Polygon or MultiPolygon", source=name,
                             field=where)
        nb = str(props["neighbourhood"])
        if nb in seen:
            raise InputError(f"neighbourhood {nb!r} already has feature {seen[nb]}",
                             source=name, field=where)
        seen[nb] = i
    if neighbourhoods is not None:
        ids = [str(n) for n in neighbourhoods]
        absent = [n for n in ids if n not in seen]
        unknown = [n for n in seen if n not in set(ids)]
        if absent or unknown:
            parts = ([f"no polygon for {', '.join(absent[:8])}"] if absent else []) + \
                ([f"unknown neighbourhood(s) {', '.join(unknown[:8])}"] if unknown else [])
            raise InputError("; ".join(parts) + "; the features must match neighbourhoods.csv",
                             source=name, field="properties.neighbourhood")
    return data
