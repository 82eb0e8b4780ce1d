"""Readers of the small local files of a territory build: commune list, QPV IRIS, census, SNE.

Each reader takes one of the files named in docs/territory.md and returns a tidy table; every
refusal is a :class:`mixsim.model.errors.InputError` naming the file, the row (the header is
row 1), the column and what is allowed. :mod:`mixsim.calibration.territory_build` re-exports
them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError

from .readers import (
    COM_CODE,
    IRIS_CODE,
    check_unique,
    clean_code,
    fail,
    find_column,
    non_negative,
    read_csv_table,
    read_sheet,
    to_number,
)

#: Communes with municipal arrondissements (INSEE code -> codes of its arrondissements): IRIS,
#: Filosofi and RPLS (``DEPCOM_ARM``) use the arrondissements, EPCI lists the commune.
ARRONDISSEMENTS = {
    "75056": tuple(f"751{k:02d}" for k in range(1, 21)),  # Paris
    "69123": tuple(f"6938{k}" for k in range(1, 10)),  # Lyon
    "13055": tuple(f"132{k:02d}" for k in range(1, 17)),  # Marseille
}

#: Census columns by role (any 2-digit year: ``P21_RP``, ``P20_RP``…): INSEE "Logement" and
#: "Couples, familles, ménages" bases at IRIS level.
CENSUS_TENURE = {"households": "P{y}_RP", "owners": "P{y}_RP_PROP",
                 "social": "P{y}_RP_LOCHLMV"}
CENSUS_TYPES = {"single": "C{y}_MENPSEUL", "couple": "C{y}_MENCOUPSENF",
                "couple_children": "C{y}_MENCOUPAENF", "single_parent": "C{y}_MENFAMMONO",
                "other": "C{y}_MENSFAM"}

#: Column names accepted in the commune list and the SNE table, by role (case-insensitive).
COMMUNE_KEYS = ("CODGEO", "commune", "code", "INSEE_COM", "DEPCOM", "COM", "code_insee")
COMMUNE_NAMES = ("LIBGEO", "name", "nom", "LIBCOM", "NOM_COM", "nom_commune")
SNE_COLUMNS = {
    "demands": ("demands", "demandes", "demandes_en_cours", "nb_demandes"),
    "allocations": ("allocations", "attributions", "nb_attributions"),
    "transfer_demands": ("transfer_demands", "demandes_mutation", "mutations_demandes"),
    "transfer_allocations": ("transfer_allocations", "attributions_mutation",
                             "mutations_attributions"),
}


def read_commune_list(source, *, epci: str | None = None) -> pd.DataFrame:
    """Read the EPCI's communes: a CSV or xlsx list, or codes separated by commas.

    A file needs a code column (:data:`COMMUNE_KEYS`, e.g. ``CODGEO`` of INSEE's composition
    of EPCIs) and may have a name column (:data:`COMMUNE_NAMES`) and an ``EPCI`` column, which
    ``epci`` filters on (the INSEE file lists every commune of France). Paris, Lyon and
    Marseille are expanded to their arrondissements (:data:`ARRONDISSEMENTS`).

    Returns:
        Columns ``commune`` (5-character codes, leading zeros restored) and ``name`` (may be
        empty), in the list's order, without repeats.

    Raises:
        InputError: naming the file, row and column of a missing key column, a malformed
            or repeated code, an unknown ``epci`` or an empty list.
    """
    text = str(source)
    if not Path(text).exists() and re.fullmatch(r"[0-9ABab,;\s]+", text):
        df = pd.DataFrame({"commune": [c for c in re.split(r"[,;\s]+", text) if c]})
        name, rows = "--communes", None
    else:
        df, name, rows = _commune_file(Path(text), epci)
    key = find_column(df, COMMUNE_KEYS)
    if key is None:
        raise fail(f"no commune code column; expected one of {', '.join(COMMUNE_KEYS)} (the "
                   f"file has: {', '.join(df.columns)})", name, column=COMMUNE_KEYS[0])
    if len(df) == 0:
        raise fail("the list has no commune", name)
    codes = clean_code(df[key], 5, COM_CODE, "commune code", name, key, rows)
    check_unique(codes, name, key, rows)
    ncol = find_column(df, COMMUNE_NAMES)
    names = df[ncol].astype(str).str.strip() if ncol else pd.Series([""] * len(df))
    return _with_arrondissements(codes, names)


def _commune_file(path: Path, epci: str | None) -> tuple[pd.DataFrame, str, np.ndarray]:
    """Read a commune list file (CSV or xlsx), its rows of ``epci`` only when given.

    Returns:
        The table as text cells, its name for messages and the file's row number of each row.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df, name, first = read_sheet(path, COMMUNE_KEYS)
    else:
        df, name, _ = read_csv_table(path)
        first = 2
    rows = np.arange(len(df)) + first
    if epci is None:
        return df, name, rows
    col = find_column(df, ("EPCI", "SIREN_EPCI", "siren"))
    if col is None:
        raise fail("no EPCI column to select --epci from; expected EPCI or "
                   f"SIREN_EPCI (the file has: {', '.join(df.columns)})", name, column="EPCI")
    keep = df[col].astype(str).str.strip() == str(epci).strip()
    if not keep.any():
        raise fail(f"no commune of EPCI {epci!r}", name, column=col)
    return df[keep].reset_index(drop=True), name, rows[keep.to_numpy()]


def _with_arrondissements(codes: pd.Series, names: pd.Series) -> pd.DataFrame:
    """Make the commune table, Paris, Lyon and Marseille replaced by their arrondissements."""
    out = []
    for code, nm in zip(codes, names, strict=True):
        for c in ARRONDISSEMENTS.get(code, (code,)):
            out.append({"commune": c, "name": nm if c == code else ""})
    return pd.DataFrame(out, columns=["commune", "name"])


def read_qpv_iris(path) -> set[str]:
    """Read QPV IRIS codes: a CSV with an ``iris`` (or ``CODE_IRIS``) column, or one a line."""
    df, source, _ = read_csv_table(path)
    col = find_column(df, ("iris", "CODE_IRIS", "code_iris", "IRIS_CODE"))
    if col is None:
        if len(df.columns) != 1:
            raise fail("no IRIS code column; expected 'iris' or 'CODE_IRIS', or one code a "
                        "line", source, column="iris")
        col = df.columns[0]
        head = col.strip()
        df = pd.concat([pd.DataFrame({col: [head]}), df], ignore_index=True) \
            if re.fullmatch(r"\d{7,9}|[0-9][0-9AB]\d{7}", head) else df
    codes = clean_code(df[col], 9, IRIS_CODE, "IRIS code", source, col)
    return set(codes)


def read_census_iris(paths: Sequence) -> pd.DataFrame:
    """Households by tenure (and by type if given) per IRIS from INSEE census IRIS bases.

    Reads one or more files (``base-ic-logement-2021.csv``, ``base-ic-couples-familles-menages
    -2021.csv``…; ``;`` or ``,`` separated, ``,`` or ``.`` decimals; counts are weighted and may
    have decimals) keyed by ``IRIS`` and merges them. Columns, any 2-digit year
    (:data:`CENSUS_TENURE`, :data:`CENSUS_TYPES`): ``P21_RP`` households in main residences,
    ``P21_RP_PROP`` owners, ``P21_RP_LOCHLMV`` tenants of an HLM dwelling (required); the five
    household types ``C21_MENPSEUL``, ``C21_MENCOUPSENF``, ``C21_MENCOUPAENF``,
    ``C21_MENFAMMONO``, ``C21_MENSFAM`` (optional, all or none).

    Returns:
        Indexed by IRIS code: ``households``, ``owners``, ``social`` and, when given, one column
        per :data:`mixsim.model.territory.HH_TYPES`.

    Raises:
        InputError: naming the file, row and column of the first problem (missing key or
            column, malformed or repeated code, a number that does not parse or is negative).
    """
    merged: pd.DataFrame | None = None
    seen: dict[str, str] = {}
    for path in paths:
        part = _census_file(path, seen)
        merged = part if merged is None else merged.combine_first(part)
    if merged is None:
        raise InputError("no census file given", field="census")
    first = str(paths[0])
    for role in CENSUS_TENURE:
        if role not in merged:
            raise fail(f"no {CENSUS_TENURE[role].format(y='21')} column (any year) in the "
                       "census files; the INSEE 'Logement' IRIS base has it", first,
                       column=CENSUS_TENURE[role].format(y="YY"))
    types = [r for r in CENSUS_TYPES if r in merged]
    if types and len(types) < len(CENSUS_TYPES):
        missing = [CENSUS_TYPES[r].format(y="YY") for r in CENSUS_TYPES if r not in merged]
        raise fail(f"household types need all five columns; missing {', '.join(missing)}",
                   seen[types[0]], column=missing[0])
    return merged


def _census_file(path, seen: dict[str, str]) -> pd.DataFrame:
    """Read one census file: counts by role per IRIS; ``seen`` records each role's file."""
    df, source, sep = read_csv_table(path)
    key = find_column(df, ("IRIS", "CODE_IRIS"))
    if key is None:
        raise fail(f"missing key column 'IRIS'; the file has: {', '.join(df.columns)}",
                   source, column="IRIS")
    codes = clean_code(df[key], 9, IRIS_CODE, "IRIS code", source, key)
    check_unique(codes, source, key)
    cols = {}
    for role, pattern in {**CENSUS_TENURE, **CENSUS_TYPES}.items():
        rx = re.compile("^" + pattern.replace("{y}", r"\d\d") + "$", re.IGNORECASE)
        hit = next((c for c in df.columns if rx.match(c)), None)
        if hit is None:
            continue
        num = to_number(df[hit], source, hit, decimal_comma=(sep != ","))
        cols[role] = non_negative(num, df[hit], source, hit).to_numpy()
        seen[role] = source
    return pd.DataFrame(cols, index=pd.Index(codes, name="iris"))


def read_sne_communes(path) -> pd.DataFrame:
    """SNE demands and allocations by commune (a CSV the user exports from "Data Logement").

    Columns (case-insensitive; :data:`SNE_COLUMNS`): a commune code (:data:`COMMUNE_KEYS`),
    pending ``demands`` (``demandes``) and yearly ``allocations`` (``attributions``); optional
    ``transfer_demands`` (``demandes_mutation``) and ``transfer_allocations``
    (``attributions_mutation``). Missing values (``nd``, ``s``… or empty) count as unknown.

    Returns:
        Indexed by commune code, one float column per role present.
    """
    df, source, sep = read_csv_table(path)
    key = find_column(df, COMMUNE_KEYS)
    if key is None:
        raise fail(f"no commune code column; expected one of {', '.join(COMMUNE_KEYS)}",
                    source, column=COMMUNE_KEYS[0])
    codes = clean_code(df[key], 5, COM_CODE, "commune code", source, key)
    check_unique(codes, source, key)
    out = {}
    for role, names in SNE_COLUMNS.items():
        col = find_column(df, names)
        if col is None:
            if role in ("demands", "allocations"):
                raise fail(f"missing column {names[0]!r} (or {', '.join(names[1:])})", source,
                            column=names[0])
            continue
        num = to_number(df[col], source, col, decimal_comma=(sep != ","))
        out[role] = non_negative(num, df[col], source, col).to_numpy()
    return pd.DataFrame(out, index=pd.Index(codes, name="commune"))
