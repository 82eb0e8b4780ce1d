"""Importers for public data (INSEE Filosofi IRIS, SDES RPLS) and a territory built from them.

ODD §6 asks for importers of the public sources a user may hold, and for a synthetic population
fitted to their margins. This module reads

* the INSEE **Filosofi** IRIS tables of disposable (``DISP_``) or declared (``DEC_``) income per
  consumption unit (:func:`read_filosofi_iris`; format in docs/sources.md §5: ``;`` separator, ``,``
  decimals, missing-value codes ``nd``, ``ns``, ``so``, ``s``, year-suffixed columns such as
  ``DISP_MED21``);
* the SDES **RPLS** results per commune (:func:`read_rpls_communes`; key ``DEPCOM_ARM``);
* a small user table of the EPCI's IRIS/neighbourhoods (:func:`read_iris_table`, columns in
  :data:`IRIS_TABLE_COLUMNS`);

and :func:`build_territory_from_public` turns them into the six territory tables of
:mod:`mixsim.model.territory`, with the joint population table fitted by iterative proportional
fitting (:func:`mixsim.calibration.ipf.ipf`). Every problem in a user file raises
:class:`mixsim.model.errors.InputError` naming the file, the row (numbered as the file's lines,
the header being row 1) and the column.

The usual entry point is ``mixsim territory build`` (:mod:`mixsim.calibration.territory_build`,
docs/territory.md), which makes the IRIS table from the IGN contours, the census and the QPV
perimeters and calls :func:`build_territory_from_public`. The older command line
``python -m mixsim.calibration.importers FILOSOFI RPLS IRIS_TABLE --out FOLDER`` writes a
territory folder from a hand-written IRIS table (``--check`` compares with an existing one).

Figures marked [U] below are assumptions (orders of magnitude, not verified statistics); [V]
figures are stated in the cited source (legend of docs/sources.md).
"""

from __future__ import annotations

import argparse
import io
import math
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from mixsim.model.errors import InputError
from mixsim.model.territory import HH_TYPES, SCHEMA, TENURES, validate

from .ipf import integerise, ipf, margin_error

#: Missing-value codes of INSEE files (lower-cased, after stripping): not available, not
#: significant, no object, secret. Empty cells are missing too.
MISSING_CODES = ("nd", "ns", "so", "s")

#: Extra tables returned by :func:`build_territory_from_public` besides the territory schema.
REPORT_TABLES = ("ipf_fit", "ipf_margins", "income_fit")

# Filosofi quantile statistics and their cumulative probability.
_QUANTILE_P = {"d1": 0.1, "d2": 0.2, "q1": 0.25, "d3": 0.3, "d4": 0.4, "med": 0.5, "d6": 0.6,
               "d7": 0.7, "q3": 0.75, "d8": 0.8, "d9": 0.9}
_FILO_STAT = re.compile(r"^(DISP|DEC)_([A-Z0-9_]+?)(\d{2})$")
_FILO_TEXT_STATS = ("NOTE",)  # year-suffixed columns that are flags/notes, kept as text
_IRIS_CODE = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
_COM_CODE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")

RPLS_REQUIRED = ("DEPCOM_ARM", "nb_ls", "nb_loues", "nb_vacants", "nb_ls_en_qpv", "tx_vac",
                 "tx_mob")
_RPLS_RATES = ("tx_vac", "tx_vac3", "tx_mob")

#: Columns of the user's IRIS table: name -> (required, kind, meaning).
IRIS_TABLE_COLUMNS: dict[str, tuple[bool, str, str]] = {
    "neighbourhood": (True, "str", "neighbourhood id used in the territory tables"),
    "iris": (False, "str", "9-character INSEE IRIS code looked up in Filosofi (blank: none)"),
    "commune": (True, "str", "5-character INSEE commune code (RPLS DEPCOM_ARM)"),
    "qpv": (True, "flag", "1 if the neighbourhood is (mostly) a QPV, else 0"),
    "x": (True, "float", "easting of the centroid, km"),
    "y": (True, "float", "northing of the centroid, km"),
    "households": (True, "float", "households in main residences (census), > 0"),
    "owner_share": (True, "share", "share of those households that own their home"),
    "private_share": (True, "share", "share renting from a private landlord"),
    "social_share": (False, "share", "share in social housing (default 1 - owner - private); "
                                     "weights the commune's RPLS stock"),
    "name": (False, "str", "neighbourhood name (default: Filosofi LIBIRIS, else the id)"),
    "commune_name": (False, "str", "commune name (default: Filosofi LIBCOM, else the code)"),
    "hosted": (False, "float", "hosted households (default 2.5 % of households, 3.5 % in QPV)"),
    "base_attractiveness": (False, "float", "attractiveness score in [-5, 5] (default from the "
                                            "income median)"),
    "private_rent_m2": (False, "float", "private rent, €/m²/month (default from attractiveness)"),
    "sru_applies": (False, "flag", "1 if SRU art. 55 applies to the commune (default: commune "
                                   "with ≥ 1,500 households)"),
}

# National distribution of living standards (€ per UC per year, current euros; persons in
# households of metropolitan France, INSEE ERFS): year -> (D1, median, D9).
NATIONAL_LIVING_STANDARD = {
    2010: (10_430, 19_270, 36_270),  # [V] Insee Première 1412 (2012), "Les niveaux de vie en 2010"
    2014: (10_770, 20_150, 37_260),  # [V] Insee Résultats, "Les niveaux de vie en 2014"
    2018: (11_210, 21_250, 39_130),  # [V] France, portrait social 2020, fiche Niveaux de vie
    2019: (11_660, 22_040, 39_930),  # [V] France, portrait social 2021, fiche Niveaux de vie
    2022: (12_970, 24_330, 43_840),  # [V] France, portrait social 2024, fiche Niveaux de vie
}
_Z90 = float(ndtri(0.9))
_Z75 = float(ndtri(0.75))

# ---- assumptions of the builder [U]: orders of magnitude shared with the embedded default
# territory (model/data/build_default.py), to be replaced by local figures where known.
HOSTED_RATE = {0: 0.025, 1: 0.035}  # hosted households per household, outside / in QPV [U]
DWELLING_VACANCY = {"private": 0.07, "owner": 0.03}  # vacant share of the sector's stock [U]
DEFAULT_SOCIAL_OCCUPANCY = 0.976  # let share when RPLS lacks it: 1 - 2.4 % vacancy [V RPLS 2023]
ROOM_SHARES = {  # shares of 1..5+ rooms [U]
    "social": (0.08, 0.20, 0.38, 0.26, 0.08),
    "private": (0.20, 0.30, 0.27, 0.15, 0.08),
    "owner": (0.02, 0.08, 0.20, 0.30, 0.40),
}
FINANCING_SHARES = (0.10, 0.82, 0.08)  # PLAI, PLUS (incl. pre-1977 HLM), PLS when RPLS lacks it [U]
SOCIAL_RENT_M2 = {"PLAI": 5.3, "PLUS": 6.1, "PLS": 8.4}  # €/m²; SDES mean 6.27 (1/1/2023) [V]
# National income quartile shares by tenure (rows: TENURES order). They only set the seed's
# tenure x income association; the neighbourhood margins come from the data. Social tenants:
# > 1/3 below the poverty line (USH 2022) and a median living standard of 15,100 € (Insee 2016)
# put about half of them in Q1 [U].
QUARTILE_BY_TENURE = np.array([
    (0.45, 0.28, 0.18, 0.09),  # social
    (0.30, 0.26, 0.23, 0.21),  # private
    (0.14, 0.22, 0.29, 0.35),  # owner
    (0.55, 0.25, 0.13, 0.07),  # hosted
])
# Household types by tenure (columns: HH_TYPES order), census orders of magnitude [U]; applicants
# 45 % single, 24.5 % single parents (FOPH 2022) [V] guide the hosted row.
TYPE_BY_TENURE = np.array([
    (0.40, 0.14, 0.21, 0.21, 0.04),  # social
    (0.47, 0.20, 0.17, 0.12, 0.04),  # private
    (0.30, 0.33, 0.28, 0.06, 0.03),  # owner
    (0.55, 0.10, 0.10, 0.23, 0.02),  # hosted
])
# Relative odds of each income quartile by household type (seed only) [U].
QUARTILE_BY_TYPE = np.array([
    (1.1, 1.0, 0.95, 0.95),  # single
    (0.7, 0.9, 1.1, 1.3),  # couple
    (0.9, 1.0, 1.05, 1.05),  # couple_children
    (1.6, 1.1, 0.8, 0.5),  # single_parent
    (1.2, 1.0, 0.9, 0.9),  # other
])
# Applications (transfer requests of social tenants, first applications of private tenants and
# hosted households) per household, with relative rates by quartile and priority shares; the same
# orders of magnitude as the default territory (≈ 4.3 applicants per yearly allocation, SDES 2022)
# [U]. Replace applicants.csv with SNE counts when available.
APPLICATION_RATE = {"social": 0.14, "private": 0.09, "hosted": 1.0}
APPLICATION_BY_QUARTILE = (1.6, 1.0, 0.5, 0.15)
PRIORITY_SHARE = {"social": 0.06, "private": 0.18, "hosted": 0.30}
SRU_MIN_HOUSEHOLDS = 1_500  # ≈ 3,500 inhabitants at ~2.2 persons per household [U]


# ============================================================================ reading helpers


def _fail(msg: str, source, row: int | None = None, column: str | None = None) -> InputError:
    where = []
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f"column {column!r}")
    return InputError(msg, source=str(source), field=", ".join(where) or None)


def _read_text(path) -> tuple[str, str]:
    """Text of a file (UTF-8 with or without BOM, else Windows-1252) and its display name."""
    f = Path(path)
    if not f.is_file():
        raise InputError("file not found", source=str(f))
    raw = f.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise InputError("the file is empty", source=str(f))
    return text, str(f)


def _header_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.strip())


def _other_separator(header: str, expected: str) -> str | None:
    counts = {c: header.count(c) for c in (";", ",", "\t", "|") if c != expected}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def _sep_name(sep: str) -> str:
    return {"\t": "tab", ";": "';'", ",": "','", "|": "'|'"}.get(sep, repr(sep))


def _parse_csv(text: str, sep: str, source: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"cannot be read as a {_sep_name(sep)}-separated CSV file: {err}",
                         source=source) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _is_missing(s: pd.Series) -> pd.Series:
    v = s.astype(str).str.strip().str.lower()
    return v.isin(MISSING_CODES) | (v == "") | (v == "nan") | s.isna()


def _row(rows, i: int) -> int:
    """Row number of the ``i``-th data row (the header is row 1)."""
    return int(rows[i]) if rows is not None else i + 2


def _to_number(s: pd.Series, source: str, column: str, rows=None,
               decimal_comma: bool = True) -> pd.Series:
    """Parse a column of numbers written with ``,`` or ``.`` decimals; missing codes -> NaN."""
    missing = _is_missing(s)
    txt = s.astype(str).str.strip().str.replace("\u00a0", "", regex=False)
    txt = txt.str.replace("\u202f", "", regex=False).str.replace(" ", "", regex=False)
    if decimal_comma:
        txt = txt.str.replace(",", ".", regex=False)
    num = pd.to_numeric(txt.where(~missing), errors="coerce")
    bad = num.isna() & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(f"got {s.iloc[i]!r}; expected a number (decimal ',' or '.') or a "
                    f"missing-value code ({', '.join(MISSING_CODES)} or empty)", source,
                    _row(rows, i), column)
    return num.astype(float)


def _code(s: pd.Series, width: int, pattern: re.Pattern, what: str, source: str, column: str,
          rows=None, allow_blank: bool = False) -> pd.Series:
    """Clean INSEE codes: strip, restore leading zeros lost by spreadsheets, check the format."""
    v = s.astype(str).str.strip()
    v = v.where(~(v.str.fullmatch(r"\d+") & (v.str.len() < width)), v.str.zfill(width))
    blank = v.isin(("", "nan"))
    if blank.any() and not allow_blank:
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise _fail(f"empty {what}", source, _row(rows, i), column)
    bad = ~blank & ~v.str.fullmatch(pattern.pattern)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(f"got {s.iloc[i]!r}; expected a {width}-character {what}", source,
                    _row(rows, i), column)
    return v.where(~blank, "")


def _duplicates(v: pd.Series, source: str, column: str, rows=None) -> None:
    dup = v.duplicated() & (v != "")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise _fail(f"duplicate key {v.iloc[i]!r}", source, _row(rows, i), column)


# ============================================================================ Filosofi


def read_filosofi_iris(path, *, sep: str = ";") -> pd.DataFrame:
    """Read an INSEE Filosofi IRIS table (disposable or declared income per UC) as tidy columns.

    The file is a CSV such as ``BASE_TD_FILO_IRIS_2021_DISP.csv`` (docs/sources.md §5): ``;``
    separator, ``,`` decimals, missing values coded ``nd``, ``ns``, ``so`` or ``s``; keys ``IRIS``
    (9 characters), ``LIBIRIS``, ``COM`` (5 characters), ``LIBCOM``; statistics named
    ``DISP_<stat><yy>`` or ``DEC_<stat><yy>`` with a 2-digit year (``DISP_MED21``,
    ``DISP_Q121``, ``DISP_D121``…``DISP_D921``, ``DISP_TP6021``, ``DEC_MED18``…).

    Args:
        path: The CSV file.
        sep: Field separator. INSEE's files use ``;``; pass ``","`` for the comma-separated
            declared-income file of 2019 (numbers then use ``.`` decimals).

    Returns:
        One row per IRIS with columns ``iris``, ``com`` (strings, leading zeros kept; ``com`` is
        the first 5 characters of ``iris`` when the file has no ``COM``), ``libiris`` and
        ``libcom`` when present, ``year`` (e.g. 2021), then one float column per statistic,
        lower-cased without the year suffix (``disp_med``, ``disp_q1``, ``disp_d1``…``disp_d9``,
        ``disp_tp60``, ``dec_med``…; missing values are NaN), then any other column as text.
        Quantiles are in € per UC per year, rates (``tp60``, shares) in percent.

    Raises:
        InputError: naming the file (and the row and column) if the file is missing or empty,
            uses another separator (e.g. a ``,``-separated file whose header reads as one
            column), lacks the ``IRIS`` column or any year-suffixed statistic, mixes years, has an
            IRIS code that is empty, malformed or repeated, a number that does not parse, or a
            statistic missing on every row.
    """
    text, source = _read_text(path)
    header = _header_line(text)
    if sep not in header:
        other = _other_separator(header, sep)
        found = f"it looks {_sep_name(other)}-separated" if other else "no separator was found"
        raise InputError(
            f"wrong separator: the header reads as one column ({header[:60]!r}…); {found}, but "
            f"INSEE Filosofi CSV files are {_sep_name(sep)}-separated"
            + (f" (pass sep={other!r} if the file really is {_sep_name(other)}-separated)"
               if other else ""), source=source)
    df = _parse_csv(text, sep, source)
    upper = {c.upper(): c for c in df.columns}
    if "IRIS" not in upper:
        raise _fail(f"missing key column 'IRIS'; the file has columns: {', '.join(df.columns)}",
                    source, column="IRIS")
    out: dict[str, pd.Series] = {}
    iris_col = upper["IRIS"]
    out["iris"] = _code(df[iris_col], 9, _IRIS_CODE, "IRIS code", source, iris_col)
    _duplicates(out["iris"], source, iris_col)
    if "COM" in upper:
        out["com"] = _code(df[upper["COM"]], 5, _COM_CODE, "commune code", source, upper["COM"])
    else:
        out["com"] = out["iris"].str[:5]
    for key in ("LIBIRIS", "LIBCOM"):
        if key in upper:
            out[key.lower()] = df[upper[key]].astype(str).str.strip()
    stats, years, other = [], {}, []
    for col in df.columns:
        if col.upper() in ("IRIS", "COM", "LIBIRIS", "LIBCOM"):
            continue
        m = _FILO_STAT.match(col.upper())
        if m:
            stats.append((col, f"{m.group(1)}_{m.group(2)}".lower(), m.group(2)))
            years.setdefault(m.group(3), []).append(col)
        else:
            other.append(col)
    if not stats:
        raise _fail("no income statistic found: expected columns such as DISP_MED21 or "
                    "DEC_MED18 (DISP_/DEC_ prefix, 2-digit year suffix)", source)
    if len(years) > 1:
        detail = "; ".join(f"20{y}: {', '.join(cols[:3])}" for y, cols in sorted(years.items()))
        raise _fail(f"columns of several years in one file ({detail}); expected one year",
                    source)
    year = 2000 + int(next(iter(years)))
    out["year"] = pd.Series(year, index=df.index, dtype=np.int64)
    for col, name, stat in stats:
        if name in out:
            raise _fail(f"column repeated as {name!r}", source, column=col)
        if stat in _FILO_TEXT_STATS:
            out[name] = df[col].astype(str).str.strip()
            continue
        num = _to_number(df[col], source, col, decimal_comma=(sep != ","))
        if num.isna().all():
            raise _fail("every value is missing (" + ", ".join(MISSING_CODES)
                        + " or empty); remove the column or use another file", source,
                        column=col)
        out[name] = num
    for col in other:
        name = col.lower()
        if name not in out:
            out[name] = df[col].astype(str).str.strip()
    return pd.DataFrame(out).reset_index(drop=True)


# ============================================================================ RPLS


def read_rpls_communes(path, *, sheet: str = "COMMUNES") -> pd.DataFrame:
    """Read the SDES RPLS results per commune (social stock at 1 January).

    Accepts the table as CSV (``;``, ``,`` or tab separated, detected from the header; ``,``
    decimals allowed unless the separator is ``,``) or, if ``openpyxl`` is installed, the
    published workbook ``resultats_rpls_YYYY.xlsx`` (sheet ``sheet``, header row found by its
    ``DEPCOM_ARM`` cell). Required columns: ``DEPCOM_ARM``, ``nb_ls``, ``nb_loues``,
    ``nb_vacants``, ``nb_ls_en_qpv``, ``tx_vac``, ``tx_mob`` (docs/sources.md §5); others such as
    ``LIBCOM``, ``nb_ls_plai``, ``nb_ls_pls``, ``nb_ls_1piece``… are kept. Column names are
    matched without regard to case.

    Returns:
        One row per commune with lower-case columns: ``depcom_arm`` (5-character string, leading
        zeros kept or restored), the numeric columns (``nb_*``, ``tx_*``, ``densite``) as floats
        with NaN for missing values (``nd``, ``ns``, ``so``, ``s``, empty) and any other column as
        text. Rates stay as written in the file (RPLS publishes them in percent [P]).

    Raises:
        InputError: naming the file (and the row and column) if it is missing, empty or has one
            column only (wrong separator), lacks a required column, has an empty, malformed or
            repeated commune code, a number that does not parse, a negative count or rate, a rate
            above 100, a required column missing on every row, ``nb_loues + nb_vacants`` above
            ``nb_ls`` by more than one dwelling (rounding), or ``nb_ls_en_qpv`` above ``nb_ls``.
    """
    f = Path(path)
    if f.suffix.lower() in (".xlsx", ".xlsm"):
        df, source, first_row, sep = *_read_rpls_excel(f, sheet), ","
    else:
        text, source = _read_text(f)
        header = _header_line(text)
        counts = {c: header.count(c) for c in (";", ",", "\t")}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            raise InputError(
                f"wrong separator: the header reads as one column ({header[:60]!r}…); expected "
                f"columns {', '.join(RPLS_REQUIRED)} separated by ';' or ','", source=source)
        df = _parse_csv(text, sep, source)
        first_row = 2
    lower = {c.lower(): c for c in df.columns}
    missing = [c for c in RPLS_REQUIRED if c.lower() not in lower]
    if missing:
        what = ("missing key column 'DEPCOM_ARM'" if missing[0] == "DEPCOM_ARM"
                else f"missing column(s) {', '.join(missing)}")
        raise _fail(f"{what}; required columns: {', '.join(RPLS_REQUIRED)}; the file has: "
                    f"{', '.join(df.columns)}", source, column=missing[0])
    # drop rows that are empty everywhere (spreadsheet exports often end with some)
    empty = df.apply(lambda s: s.astype(str).str.strip().isin(("", "nan"))).all(axis=1)
    keep_rows = np.flatnonzero(~empty.to_numpy())
    rows = keep_rows + first_row
    df = df.iloc[keep_rows].reset_index(drop=True)
    key = lower["depcom_arm"]
    out: dict[str, pd.Series] = {}
    code = _code(df[key], 5, _COM_CODE, "commune code (DEPCOM_ARM)", source, key, rows)
    _duplicates(code, source, key, rows)
    out["depcom_arm"] = code
    required = {c.lower() for c in RPLS_REQUIRED[1:]}
    for col in df.columns:
        name = col.lower()
        if name == "depcom_arm" or name in out:
            continue
        if not (name.startswith(("nb_", "tx_")) or name == "densite"):
            out[name] = df[col].astype(str).str.strip()
            continue
        num = _to_number(df[col], source, col, rows, decimal_comma=(sep != ","))
        if num.isna().all() and name in required:
            raise _fail("every value is missing (" + ", ".join(MISSING_CODES) + " or empty)",
                        source, column=col)
        neg = num < 0
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise _fail(f"got {df[col].iloc[i]!r}; counts and rates cannot be negative", source,
                        int(rows[i]), col)
        if name in _RPLS_RATES:
            high = num > 100
            if high.any():
                i = int(np.flatnonzero(high.to_numpy())[0])
                raise _fail(f"got {df[col].iloc[i]!r}; a rate in percent is at most 100",
                            source, int(rows[i]), col)
        out[name] = num
    res = pd.DataFrame(out)
    over = (res.nb_loues.fillna(0) + res.nb_vacants.fillna(0)) > res.nb_ls + 1.0
    if over.any():
        i = int(np.flatnonzero(over.to_numpy())[0])
        raise _fail(f"nb_loues + nb_vacants = {res.nb_loues.iloc[i] + res.nb_vacants.iloc[i]:g} "
                    f"exceeds nb_ls = {res.nb_ls.iloc[i]:g} for commune "
                    f"{res.depcom_arm.iloc[i]!r} (more than one dwelling of rounding)", source,
                    int(rows[i]), f"{lower['nb_loues']}, {lower['nb_vacants']}")
    over = res.nb_ls_en_qpv > res.nb_ls + 1.0
    if over.any():
        i = int(np.flatnonzero(over.to_numpy())[0])
        raise _fail(f"nb_ls_en_qpv = {res.nb_ls_en_qpv.iloc[i]:g} exceeds nb_ls = "
                    f"{res.nb_ls.iloc[i]:g}", source, int(rows[i]), lower["nb_ls_en_qpv"])
    return res.reset_index(drop=True)


def _read_rpls_excel(f: Path, sheet: str) -> tuple[pd.DataFrame, str, int]:
    """Read the RPLS workbook sheet as text cells; return it, its name and its first data row."""
    source = str(f)
    if not f.is_file():
        raise InputError("file not found", source=source)
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise InputError("reading .xlsx files needs the openpyxl package (pip install openpyxl); "
                         "or save the COMMUNES sheet as CSV", source=source) from None
    try:
        book = pd.read_excel(f, sheet_name=None, header=None, dtype=str)
    except Exception as err:  # openpyxl raises many types on corrupt files
        raise InputError(f"cannot be read as a workbook: {err}", source=source) from None
    names = [sheet] if sheet in book else list(book)
    for name in names:
        raw = book[name].fillna("")
        for r in range(min(30, len(raw))):
            cells = [str(v).strip() for v in raw.iloc[r]]
            if any(c.upper() == "DEPCOM_ARM" for c in cells):
                body = raw.iloc[r + 1:].reset_index(drop=True)
                body.columns = cells
                body = body.loc[:, [c != "" for c in cells]]
                return body, f"{source}[{name}]", r + 2
    raise _fail(f"no sheet has a 'DEPCOM_ARM' header cell (sheets: {', '.join(book)})", source,
                column="DEPCOM_ARM")


# ============================================================================ IRIS table


def read_iris_table(source) -> pd.DataFrame:
    """Read and check the user's table of the EPCI's neighbourhoods (IRIS).

    Columns (names matched without regard to case; see :data:`IRIS_TABLE_COLUMNS`): required
    ``neighbourhood``, ``commune``, ``qpv``, ``x``, ``y``, ``households``, ``owner_share``,
    ``private_share``; optional ``iris``, ``social_share``, ``name``, ``commune_name``, ``hosted``,
    ``base_attractiveness``, ``private_rent_m2``, ``sru_applies``. Shares are fractions in
    [0, 1]; ``owner_share + private_share`` (+ ``social_share`` if given) must not exceed 1.

    Args:
        source: A CSV file (``,`` or ``;`` separated) or a DataFrame with those columns.

    Returns:
        The table with lower-case column names, codes as strings (leading zeros restored) and
        numbers as floats; optional columns that are absent are absent.

    Raises:
        InputError: naming the file, row and column of the first problem.
    """
    if isinstance(source, pd.DataFrame):
        df = source.astype(str).replace({"nan": "", "None": ""})
        name = "iris_table"
    else:
        text, name = _read_text(source)
        header = _header_line(text)
        counts = {c: header.count(c) for c in (";", ",", "\t")}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            raise InputError(f"wrong separator: the header reads as one column "
                             f"({header[:60]!r}…); expected ',' or ';' separated columns",
                             source=name)
        df = _parse_csv(text, sep, name)
    lower = {c.lower().strip(): c for c in df.columns}
    unknown = [c for c in df.columns if c.lower().strip() not in IRIS_TABLE_COLUMNS]
    if unknown:
        raise _fail(f"unknown column(s) {', '.join(unknown)}; allowed: "
                    f"{', '.join(IRIS_TABLE_COLUMNS)}", name)
    missing = [c for c, (req, _, _) in IRIS_TABLE_COLUMNS.items() if req and c not in lower]
    if missing:
        raise _fail(f"missing column(s) {', '.join(missing)}; required: "
                    + ", ".join(c for c, (r, _, _) in IRIS_TABLE_COLUMNS.items() if r), name,
                    column=missing[0])
    if len(df) == 0:
        raise _fail("the table has no rows", name)
    out: dict[str, pd.Series] = {}
    for col, (_, kind, _) in IRIS_TABLE_COLUMNS.items():
        if col not in lower:
            continue
        raw = df[lower[col]]
        if col == "iris":
            out[col] = _code(raw, 9, _IRIS_CODE, "IRIS code", name, col, allow_blank=True)
        elif col == "commune":
            out[col] = _code(raw, 5, _COM_CODE, "commune code", name, col)
        elif kind == "str":
            v = raw.astype(str).str.strip()
            if col == "neighbourhood" and (v == "").any():
                i = int(np.flatnonzero((v == "").to_numpy())[0])
                raise _fail("empty value", name, i + 2, col)
            out[col] = v
        else:
            num = _to_number(raw, name, col)
            if col in ("qpv", "x", "y", "households", "owner_share", "private_share") \
                    and num.isna().any():
                i = int(np.flatnonzero(num.isna().to_numpy())[0])
                raise _fail("empty value", name, i + 2, col)
            lo, hi = {"flag": (0, 1), "share": (0, 1)}.get(kind, (None, None))
            if col == "households":
                lo = 0
            elif col == "hosted":
                lo = 0
            elif col == "base_attractiveness":
                lo, hi = -5, 5
            elif col == "private_rent_m2":
                lo, hi = 1, 60
            bad = pd.Series(False, index=num.index)
            if lo is not None:
                bad |= num < lo
            if hi is not None:
                bad |= num > hi
            if kind == "flag":
                bad |= (num % 1) != 0
            if col == "households":
                bad |= num <= 0
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                allowed = {"flag": "0 or 1", "share": "a share from 0 to 1"}.get(
                    kind, f"from {lo} to {hi}" if hi is not None else "a positive number")
                raise _fail(f"got {raw.iloc[i]!r}; expected {allowed}", name, i + 2, col)
            out[col] = num
    t = pd.DataFrame(out)
    _duplicates(t.neighbourhood, name, "neighbourhood")
    if "iris" in t:
        _duplicates(t.iris, name, "iris")
        wrong = (t.iris != "") & (t.iris.str[:5] != t.commune)
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            raise _fail(f"IRIS {t.iris.iloc[i]!r} does not belong to commune "
                        f"{t.commune.iloc[i]!r} (its first five characters)", name, i + 2, "iris")
    total = t.owner_share + t.private_share
    if "social_share" in t:
        total = total + t.social_share.fillna(0.0)
    over = total > 1 + 1e-6
    if over.any():
        i = int(np.flatnonzero(over.to_numpy())[0])
        raise _fail(f"the tenure shares add up to {total.iloc[i]:.4g} > 1", name, i + 2,
                    "owner_share, private_share" + (", social_share" if "social_share" in t
                                                    else ""))
    if "sru_applies" in t:
        per = t.groupby("commune").sru_applies.nunique(dropna=False)
        if (per > 1).any():
            raise _fail(f"sru_applies differs between rows of commune {per[per > 1].index[0]!r}",
                        name, column="sru_applies")
    return t


# ============================================================================ income model


def national_quartile_cuts(year: int) -> tuple[float, float, float]:
    """National quartile cut points of income per UC for a year (€ per UC per year).

    Built from :data:`NATIONAL_LIVING_STANDARD` (INSEE ERFS D1, median and D9 of the living
    standard of persons, metropolitan France [V]) by assuming a lognormal distribution through D1
    and D9 around the median, ``Q1/Q3 = median * exp(∓0.674 * sigma)`` with
    ``sigma = ln(D9/D1) / (2 * 1.2816)`` [U: the quartiles are derived, not published figures].
    Years between two listed years are interpolated geometrically; years outside take the
    nearest listed year [U]. E.g. 2019: 15,940 / 22,040 / 30,470; 2022: 17,660 / 24,330 / 33,520.
    The ERFS living standard includes imputed financial income that Filosofi lacks, so the cuts
    may sit a few percent above Filosofi's own [U].
    """
    years = sorted(NATIONAL_LIVING_STANDARD)
    y = min(max(int(year), years[0]), years[-1])
    lo = max(k for k in years if k <= y)
    hi = min(k for k in years if k >= y)
    w = 0.0 if hi == lo else (y - lo) / (hi - lo)
    d1, med, d9 = (math.exp((1 - w) * math.log(a) + w * math.log(b))
                   for a, b in zip(NATIONAL_LIVING_STANDARD[lo], NATIONAL_LIVING_STANDARD[hi],
                                   strict=True))
    sigma = math.log(d9 / d1) / (2 * _Z90)
    return (med * math.exp(-_Z75 * sigma), med, med * math.exp(_Z75 * sigma))


def _fit_lognormal(row: Mapping[str, float], prefix: str) -> tuple[float, float] | None:
    """(mu, sigma) of a lognormal through an IRIS's published quantiles, or None.

    Least squares of ``ln(quantile)`` on the normal score of its probability over every quantile
    present (deciles, quartiles, median). With the median only, sigma is unknown (None).
    """
    z, v = [], []
    for stat, p in _QUANTILE_P.items():
        val = row.get(f"{prefix}_{stat}")
        if val is not None and np.isfinite(val) and val > 0:
            z.append(float(ndtri(p)))
            v.append(math.log(val))
    if len(z) < 2:
        return None
    z_arr, v_arr = np.array(z), np.array(v)
    sigma = float(np.cov(z_arr, v_arr, bias=True)[0, 1] / np.var(z_arr))
    if not (sigma > 0.05):
        return None
    return float(v_arr.mean() - sigma * z_arr.mean()), sigma


def _income_distributions(it: pd.DataFrame, fil: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Per neighbourhood: lognormal (mu, sigma) of income per UC and where it came from."""
    prefix = "disp" if any(c.startswith("disp_") for c in fil.columns) else "dec"
    by_iris = fil.set_index("iris")
    mu = np.full(len(it), np.nan)
    sigma = np.full(len(it), np.nan)
    origin = np.array(["iris"] * len(it), dtype=object)
    median_only = np.zeros(len(it), bool)
    for i, code in enumerate(it.get("iris", pd.Series([""] * len(it)))):
        if code and code in by_iris.index:
            row = by_iris.loc[code].to_dict()
            fit = _fit_lognormal(row, prefix)
            if fit is not None:
                mu[i], sigma[i] = fit
                continue
            med = row.get(f"{prefix}_med")
            if med is not None and np.isfinite(med) and med > 0:
                mu[i] = math.log(med)
                median_only[i] = True
    have = np.isfinite(sigma)
    if not (have | median_only).any():
        raise InputError("no neighbourhood of the IRIS table has usable income quantiles in the "
                         f"Filosofi table ({prefix}_med, {prefix}_d1…); check the IRIS codes",
                         source="filosofi")
    communes = it.commune.to_numpy()
    known_mu = np.isfinite(mu)
    for i in np.flatnonzero(~have):
        same = communes == communes[i]
        if (have & same).any():
            s, s_from = float(np.average(sigma[have & same], weights=w[have & same])), "commune"
        elif have.any():
            s, s_from = float(np.average(sigma[have], weights=w[have])), "territory"
        else:  # medians only in the whole table: the national dispersion
            d1, _, d9 = NATIONAL_LIVING_STANDARD[max(NATIONAL_LIVING_STANDARD)]
            s, s_from = math.log(d9 / d1) / (2 * _Z90), "national"
        sigma[i] = s
        if median_only[i]:
            origin[i] = f"iris median, {s_from} spread"
        else:
            pool = known_mu & same if (known_mu & same).any() else known_mu
            mu[i] = float(np.average(mu[pool], weights=w[pool]))
            origin[i] = ("commune" if (known_mu & same).any() else "territory") + " average"
    fallback = [f"{n} ({o})" for n, o in zip(it.neighbourhood, origin, strict=True) if o != "iris"]
    if fallback:
        warnings.warn("income distribution not fully given by Filosofi for "
                      + ", ".join(fallback), UserWarning, stacklevel=3)
    return pd.DataFrame({"mu": mu, "sigma": sigma, "origin": origin})


def _territory_cuts(mu: np.ndarray, sigma: np.ndarray, w: np.ndarray) -> tuple[float, ...]:
    """Quartile cuts of the household-weighted mixture of neighbourhood lognormals."""
    w = w / w.sum()
    cuts = []
    for p in (0.25, 0.5, 0.75):
        lo, hi = float((mu - 6 * sigma).min()), float((mu + 6 * sigma).max())
        for _ in range(100):  # bisection on ln(cut)
            mid = 0.5 * (lo + hi)
            if float((w * ndtr((mid - mu) / sigma)).sum()) < p:
                lo = mid
            else:
                hi = mid
        cuts.append(math.exp(0.5 * (lo + hi)))
    return tuple(cuts)


# ============================================================================ builder


def _largest_remainder(values, total: int | None = None) -> np.ndarray:
    """Integers summing to ``total`` (default: the rounded sum), by largest remainders."""
    x = np.asarray(values, dtype=float)
    tot = int(round(float(x.sum()))) if total is None else int(total)
    if x.size == 0:
        return np.zeros(0, np.int64)
    if x.sum() > 0:
        x = x * (tot / x.sum())
    base = np.floor(x).astype(np.int64)
    short = tot - int(base.sum())
    if short > 0:
        base[np.argsort(-(x - base), kind="stable")[:short]] += 1
    return base


class TenureSplit(NamedTuple):
    """Step 1 of the builder: households by neighbourhood and tenure, and the social stock.

    Attributes:
        households: Households in main residences per neighbourhood (integers).
        stock: Social dwellings per neighbourhood.
        tenure: Households per neighbourhood x tenure (:data:`TENURES` order), hosted included.
        financing: Commune code -> shares of PLAI, PLUS, PLS.
        rooms: Commune code -> shares of 1..5+ rooms.
        libcom: Commune code -> RPLS commune name (when the RPLS table has ``libcom``).
    """

    households: np.ndarray
    stock: np.ndarray
    tenure: np.ndarray
    financing: dict[str, np.ndarray]
    rooms: dict[str, np.ndarray]
    libcom: dict[str, str]


class IncomeSplit(NamedTuple):
    """Step 2 of the builder: lognormal income per neighbourhood and households by quartile.

    Attributes:
        mu: Log-median of income per UC per neighbourhood.
        sigma: Log-standard deviation per neighbourhood.
        origin: Where each distribution came from (``iris``, ``commune average``…).
        cuts: Quartile cut points used (€/UC/year).
        shares: Share of each neighbourhood's households in quartiles 1..4.
        counts: Households per neighbourhood x quartile (integers).
    """

    mu: np.ndarray
    sigma: np.ndarray
    origin: np.ndarray
    cuts: tuple[float, float, float]
    shares: np.ndarray
    counts: np.ndarray


class PopulationFit(NamedTuple):
    """Step 3 of the builder: the joint population and its fit reports.

    Attributes:
        counts: Households per neighbourhood x tenure x quartile x household type (integers).
        population: The ``population`` table.
        ipf_fit: Per margin: cells, total, iterations, convergence, errors (report table).
        ipf_margins: Every target cell with its fitted and rounded value (report table).
    """

    counts: np.ndarray
    population: pd.DataFrame
    ipf_fit: pd.DataFrame
    ipf_margins: pd.DataFrame


def _check_frames(fil: pd.DataFrame, rp: pd.DataFrame) -> None:
    for name, df, cols in (("filosofi", fil, ("iris",)), ("rpls", rp, ("depcom_arm", "nb_ls"))):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise InputError(f"missing column(s) {', '.join(miss)}; pass the table returned by "
                             f"the reader of this module", source=name)


def tenure_by_neighbourhood(it: pd.DataFrame, rp: pd.DataFrame,
                            households: float | None = None) -> TenureSplit:
    """Households by tenure and the social stock of each neighbourhood (builder step 1).

    See :func:`build_territory_from_public` (step 1) for the method.

    Args:
        it: The IRIS table (:func:`read_iris_table`).
        rp: The RPLS table (:func:`read_rpls_communes`).
        households: Total households wanted (the table is rescaled), or None.
    """
    n_nb = len(it)
    qpv = it.qpv.to_numpy().astype(int)
    hh = it.households.to_numpy(float)
    if households is not None:
        if not (np.isfinite(households) and households > 0):
            raise InputError(f"got {households!r}; expected a positive number of households",
                             field="households")
        hh = hh * (float(households) / hh.sum())
    hh_int = _largest_remainder(hh)
    soc_share = np.clip(1.0 - it.owner_share - it.private_share, 0.0, 1.0).to_numpy()
    if "social_share" in it:
        given = it.social_share.to_numpy()
        soc_share = np.where(np.isfinite(given), given, soc_share)
    weight = hh_int * soc_share
    stock = np.zeros(n_nb, np.int64)
    occupied = np.zeros(n_nb, np.int64)
    fin_shares: dict[str, np.ndarray] = {}
    room_shares: dict[str, np.ndarray] = {}
    rp_by = rp.set_index("depcom_arm")
    absent = []
    for com in dict.fromkeys(it.commune):
        idx = np.flatnonzero(it.commune.to_numpy() == com)
        if com not in rp_by.index:
            absent.append(com)
            fin_shares[com] = np.array(FINANCING_SHARES)
            room_shares[com] = np.array(ROOM_SHARES["social"])
            continue
        row = rp_by.loc[com]
        n_ls = row.get("nb_ls")
        if n_ls is None or not np.isfinite(n_ls):
            raise _fail(f"nb_ls is missing for commune {com!r}, which the IRIS table uses",
                        "rpls", column="nb_ls")
        n_ls = int(round(n_ls))
        n_qpv = row.get("nb_ls_en_qpv", 0.0)
        n_qpv = int(round(min(n_qpv, n_ls))) if np.isfinite(n_qpv) else 0
        q_idx, o_idx = idx[qpv[idx] == 1], idx[qpv[idx] == 0]
        if n_qpv and q_idx.size == 0 or (n_ls - n_qpv) and o_idx.size == 0:
            parts = [(idx, n_ls)]
            if n_qpv and q_idx.size == 0:
                warnings.warn(f"commune {com}: RPLS counts {n_qpv} social dwellings in QPV but "
                              "the IRIS table has no QPV neighbourhood there; spreading the "
                              "whole stock", UserWarning, stacklevel=2)
        else:
            parts = [(q_idx, n_qpv), (o_idx, n_ls - n_qpv)]
        for sub, n in parts:
            if sub.size == 0 or n == 0:
                continue
            wts = weight[sub] if weight[sub].sum() > 0 else hh_int[sub].astype(float)
            stock[sub] = _largest_remainder(wts, n)
        loues = row.get("nb_loues", np.nan)
        occ = float(loues) / n_ls if n_ls > 0 and np.isfinite(loues) else \
            DEFAULT_SOCIAL_OCCUPANCY
        occ = min(max(occ, 0.0), 1.0)
        occupied[idx] = np.minimum(stock[idx],
                                   _largest_remainder(stock[idx] * occ, round(stock[idx].sum()
                                                                               * occ)))
        fin_shares[com] = _rpls_shares(row, _FINANCING_COLUMNS, np.array(FINANCING_SHARES))
        room_shares[com] = _rpls_room_shares(row)
    if absent:
        warnings.warn(f"commune(s) {', '.join(absent)} of the IRIS table are not in the RPLS "
                      "table: no social stock there", UserWarning, stacklevel=2)
    short = occupied > hh_int
    if short.any():
        warnings.warn("more RPLS social tenants than households in the IRIS table for "
                      + ", ".join(it.neighbourhood[short]) + "; households raised to match",
                      UserWarning, stacklevel=2)
        hh_int = np.maximum(hh_int, occupied)
    rest = hh_int - occupied
    op = (it.owner_share + it.private_share).to_numpy()
    own_frac = np.where(op > 0, it.owner_share.to_numpy() / np.where(op > 0, op, 1.0), 0.0)
    owners = np.rint(rest * own_frac).astype(np.int64)
    private = rest - owners
    default_hosted = hh_int * np.where(qpv == 1, HOSTED_RATE[1], HOSTED_RATE[0])
    if "hosted" in it:
        hosted = np.rint(np.where(np.isfinite(it.hosted), it.hosted, default_hosted))
    else:
        hosted = np.rint(default_hosted)
    tenure_nb = np.stack([occupied, private, owners, hosted.astype(np.int64)], axis=1)
    if tenure_nb.sum() == 0:
        raise InputError("the IRIS table gives no households", source="iris_table",
                         field="households")
    libcom = rp_by["libcom"].to_dict() if "libcom" in rp_by else {}
    return TenureSplit(hh_int, stock, tenure_nb, fin_shares, room_shares, libcom)


def _quartile_cuts(quartile_cuts, fil: pd.DataFrame, mu: np.ndarray, sigma: np.ndarray,
                   weights: np.ndarray) -> tuple[float, float, float]:
    if isinstance(quartile_cuts, str):
        if quartile_cuts == "national":
            year = int(fil["year"].iloc[0]) if "year" in fil and len(fil) else \
                max(NATIONAL_LIVING_STANDARD)
            return national_quartile_cuts(year)
        if quartile_cuts == "territory":
            return _territory_cuts(mu, sigma, weights)
        raise InputError(f"got {quartile_cuts!r}; expected 'national', 'territory' or three "
                         "cut points", field="quartile_cuts")
    cuts = tuple(float(c) for c in quartile_cuts)
    if len(cuts) != 3 or not all(0 < a < b for a, b in zip(cuts, cuts[1:] + (math.inf,),
                                                          strict=True)):
        raise InputError(f"got {quartile_cuts!r}; expected three increasing positive cut "
                         "points (€/UC/year)", field="quartile_cuts")
    return cuts


def quartiles_by_neighbourhood(it: pd.DataFrame, fil: pd.DataFrame, tenure: TenureSplit,
                               quartile_cuts="national") -> IncomeSplit:
    """Income distribution and households by quartile per neighbourhood (builder step 2)."""
    dist = _income_distributions(it, fil, tenure.households.astype(float) + 1e-9)
    mu, sigma = dist.mu.to_numpy(), dist.sigma.to_numpy()
    tot_nb = tenure.tenure.sum(axis=1)
    cuts = _quartile_cuts(quartile_cuts, fil, mu, sigma, tot_nb.astype(float) + 1e-9)
    n_nb = len(it)
    cdf = ndtr((np.log(np.array(cuts))[None, :] - mu[:, None]) / sigma[:, None])
    shares = np.diff(np.concatenate([np.zeros((n_nb, 1)), cdf, np.ones((n_nb, 1))], axis=1),
                     axis=1)
    counts = np.stack([_largest_remainder(shares[i], tot_nb[i]) for i in range(n_nb)])
    return IncomeSplit(mu, sigma, dist.origin.to_numpy(), cuts, shares, counts)


def fit_population(ids: Sequence[str], tenure_nb: np.ndarray, quartile_nb: np.ndarray,
                   rng: np.random.Generator, household_types: np.ndarray | None = None
                   ) -> PopulationFit:
    """Joint population neighbourhood x tenure x quartile x type by IPF (builder step 3).

    Margins: neighbourhood x tenure, neighbourhood x quartile, and either neighbourhood x type
    (``household_types``: the census structure of each neighbourhood, shares or counts, rescaled
    to its households) or tenure x type (:data:`TYPE_BY_TENURE` applied to the tenure totals).
    The seed carries the national associations (:data:`QUARTILE_BY_TENURE`,
    :data:`TYPE_BY_TENURE`, :data:`QUARTILE_BY_TYPE`); rounding by
    :func:`mixsim.calibration.ipf.integerise` keeps neighbourhood x tenure exact.
    """
    n_nb = len(ids)
    seed_arr = (np.ones((n_nb, 1, 1, 1)) * QUARTILE_BY_TENURE[None, :, :, None]
                * TYPE_BY_TENURE[None, :, None, :] * QUARTILE_BY_TYPE.T[None, None, :, :])
    tot_nb = tenure_nb.sum(axis=1)
    if household_types is None:
        tenure_tot = tenure_nb.sum(axis=0)
        type_m = ((1, 3), np.stack([_largest_remainder(TYPE_BY_TENURE[t], tenure_tot[t])
                                    for t in range(len(TENURES))]))
        type_label = "tenure x hh_type"
    else:
        ht = np.asarray(household_types, float)
        type_m = ((0, 3), np.stack([_largest_remainder(ht[i] if ht[i].sum() > 0
                                                       else TYPE_BY_TENURE[0], tot_nb[i])
                                    for i in range(n_nb)]))
        type_label = "neighbourhood x hh_type"
    margins = [((0, 1), tenure_nb), ((0, 2), quartile_nb), type_m]
    labels = ("neighbourhood x tenure", "neighbourhood x quartile", type_label)
    fit = ipf(seed_arr, margins)
    pop_arr = integerise(fit.fitted, rng, margins=[m[0] for m in margins], weights=(3, 1, 1))
    fit_rows, margin_rows = [], []
    keys = (list(ids), list(TENURES), [1, 2, 3, 4], list(HH_TYPES))
    names = ("neighbourhood", "tenure", "quartile", "hh_type")
    for label, (axes, target), mf in zip(labels, margins, fit.margins, strict=True):
        after = margin_error(pop_arr, axes, target)
        fit_rows.append({"margin": label, "cells": int(target.size),
                         "total": float(target.sum()), "iterations": fit.iterations,
                         "converged": fit.converged,
                         "ipf_max_abs_error": float(f"{mf.max_abs_error:.3g}"),
                         "ipf_max_rel_error": float(f"{mf.max_rel_error:.3g}"),
                         "max_abs_error": after.max_abs_error,
                         "max_rel_error": after.max_rel_error})
        other = tuple(a for a in range(4) if a not in axes)
        fitted_m, pop_m = fit.fitted.sum(axis=other), pop_arr.sum(axis=other)
        for cell in np.ndindex(target.shape):
            rec = dict.fromkeys(names, "")
            rec["margin"] = label
            for a, c in zip(axes, cell, strict=True):
                rec[names[a]] = keys[a][c]
            rec.update(target=float(target[cell]), fitted=round(float(fitted_m[cell]), 6),
                       population=int(pop_m[cell]))
            margin_rows.append({k: rec[k] for k in ("margin", *names, "target", "fitted",
                                                    "population")})
    if not fit.converged:
        warnings.warn(f"IPF did not converge in {fit.iterations} cycles (max abs error "
                      f"{fit.max_abs_error:.3g}); see the ipf_fit table", UserWarning, stacklevel=2)
    pop_rows = [{"neighbourhood": keys[0][n], "tenure": TENURES[t], "quartile": q + 1,
                 "hh_type": HH_TYPES[h], "count": int(pop_arr[n, t, q, h])}
                for n, t, q, h in zip(*np.nonzero(pop_arr), strict=True)]
    return PopulationFit(pop_arr, pd.DataFrame(pop_rows, columns=list(SCHEMA["population"])),
                         pd.DataFrame(fit_rows), pd.DataFrame(margin_rows))


def dwellings_table(ids: Sequence[str], counts: np.ndarray) -> pd.DataFrame:
    """Private and owner dwellings: households of the sector plus :data:`DWELLING_VACANCY`."""
    pop_nt = counts.sum(axis=(2, 3))
    rows = []
    for n, nb in enumerate(ids):
        for sector, t in (("private", 1), ("owner", 2)):
            n_dw = int(math.ceil(pop_nt[n, t] / (1.0 - DWELLING_VACANCY[sector]) - 1e-9))
            for rooms, cnt in enumerate(_largest_remainder(ROOM_SHARES[sector], n_dw), start=1):
                if cnt:
                    rows.append({"neighbourhood": nb, "sector": sector, "rooms": rooms,
                                 "count": int(cnt)})
    return pd.DataFrame(rows, columns=list(SCHEMA["dwellings"]))


def social_stock_table(it: pd.DataFrame, tenure: TenureSplit) -> pd.DataFrame:
    """One résidence per neighbourhood and financing, one placeholder landlord per commune."""
    rows = []
    for n, nb in enumerate(it.neighbourhood):
        com = it.commune.iloc[n]
        by_fin = _largest_remainder(tenure.financing[com], tenure.stock[n])
        for fin, n_fin in zip(("PLAI", "PLUS", "PLS"), by_fin, strict=True):
            for rooms, cnt in enumerate(_largest_remainder(tenure.rooms[com], n_fin), start=1):
                if cnt:
                    rows.append({"residence": f"{nb}-{fin}", "neighbourhood": nb,
                                 "landlord": f"L{com}", "financing": fin, "rooms": rooms,
                                 "count": int(cnt), "rent_m2": SOCIAL_RENT_M2[fin]})
    return pd.DataFrame(rows, columns=list(SCHEMA["social_stock"]))


def applicants_table(counts: np.ndarray) -> pd.DataFrame:
    """Pending applications from :data:`APPLICATION_RATE` and :data:`PRIORITY_SHARE` [U]."""
    rows = []
    pop_tq = counts.sum(axis=(0, 3))
    for tenure in ("social", "private", "hosted"):
        t = TENURES.index(tenure)
        for q in range(4):
            avail = int(pop_tq[t, q])
            rate = APPLICATION_RATE[tenure] * (1.0 if tenure == "hosted"
                                               else APPLICATION_BY_QUARTILE[q])
            n_app = min(avail, int(round(avail * rate)))
            n_prio = min(n_app, int(round(n_app * PRIORITY_SHARE[tenure]
                                          * (1.5 if q == 0 else 0.6))))
            for prio, cnt in ((1, n_prio), (0, n_app - n_prio)):
                if cnt:
                    rows.append({"tenure": tenure, "quartile": q + 1, "priority": prio,
                                 "count": cnt})
    return pd.DataFrame(rows, columns=list(SCHEMA["applicants"]))


def communes_table(it: pd.DataFrame, fil: pd.DataFrame, tenure: TenureSplit) -> pd.DataFrame:
    """Communes in order of first use; names from the IRIS table, Filosofi, RPLS, else codes."""
    libcom = dict(zip(fil.get("com", []), fil.get("libcom", fil.get("com", [])), strict=True))
    rows = []
    for com in dict.fromkeys(it.commune):
        here = it.commune == com
        name = ""
        if "commune_name" in it:
            name = next((v for v in it.commune_name[here] if v), "")
        name = name or libcom.get(com) or tenure.libcom.get(com) or com
        if "sru_applies" in it and np.isfinite(it.sru_applies[here].iloc[0]):
            sru = int(it.sru_applies[here].iloc[0])
        else:
            sru = int(tenure.households[here.to_numpy()].sum() >= SRU_MIN_HOUSEHOLDS)
        rows.append({"commune": com, "name": name, "sru_applies": sru})
    return pd.DataFrame(rows, columns=list(SCHEMA["communes"]))


def neighbourhoods_table(it: pd.DataFrame, fil: pd.DataFrame, tenure: TenureSplit,
                         income: IncomeSplit) -> pd.DataFrame:
    """Neighbourhoods with names, QPV flags, coordinates, attractiveness and private rents.

    Attractiveness is ``2.5 x ln(median / territory's median)`` clipped to [-3, 3] and the
    private rent ``11.5 + 2.2 x attractiveness`` €/m² [U] unless the IRIS table gives them.
    """
    epci_mu = float(np.average(income.mu, weights=tenure.households + 1e-9))
    attr = np.clip(2.5 * (income.mu - epci_mu), -3.0, 3.0)
    if "base_attractiveness" in it:
        attr = np.where(np.isfinite(it.base_attractiveness), it.base_attractiveness, attr)
    rent = np.clip(11.5 + 2.2 * attr, 5.0, 40.0)
    if "private_rent_m2" in it:
        rent = np.where(np.isfinite(it.private_rent_m2), it.private_rent_m2, rent)
    libiris = dict(zip(fil.iris, fil.get("libiris", fil.iris), strict=True))
    names = []
    for n, nb in enumerate(it.neighbourhood):
        name = it["name"].iloc[n] if "name" in it else ""
        code = it.iris.iloc[n] if "iris" in it else ""
        names.append(name or libiris.get(code) or nb)
    return pd.DataFrame({
        "neighbourhood": list(it.neighbourhood), "commune": list(it.commune), "name": names,
        "qpv": it.qpv.to_numpy().astype(int), "x": it.x.round(3).to_numpy(),
        "y": it.y.round(3).to_numpy(), "base_attractiveness": np.round(attr, 3),
        "private_rent_m2": np.round(rent, 2)})


def income_fit_table(it: pd.DataFrame, income: IncomeSplit) -> pd.DataFrame:
    """Report: per neighbourhood, the fitted income distribution, its origin and the cuts."""
    cuts = income.cuts
    return pd.DataFrame({
        "neighbourhood": list(it.neighbourhood), "iris": list(it.iris) if "iris" in it else "",
        "origin": income.origin, "median": np.round(np.exp(income.mu), 1),
        "sigma": np.round(income.sigma, 4),
        **{f"q{k + 1}_share": np.round(income.shares[:, k], 4) for k in range(4)},
        "cut_q1": round(cuts[0], 1), "cut_median": round(cuts[1], 1),
        "cut_q3": round(cuts[2], 1)})


def build_territory_from_public(filosofi, rpls, iris_table, *, households: float | None = None,
                                seed: int | None = 0,
                                quartile_cuts: str | Sequence[float] = "national",
                                household_types: pd.DataFrame | None = None,
                                ) -> dict[str, pd.DataFrame]:
    """Build the territory tables of an EPCI from Filosofi, RPLS and a small IRIS table.

    Steps (each a function of this module, testable alone):

    1. **Households and tenure** per neighbourhood (:func:`tenure_by_neighbourhood`):
       ``households`` of the IRIS table (rescaled to the ``households`` argument if given). The
       commune's RPLS social stock ``nb_ls`` is spread over its neighbourhoods, ``nb_ls_en_qpv``
       over the QPV ones and the rest over the others, in proportion to ``households x social
       share`` (``social_share`` column, else ``1 - owner_share - private_share``); a share
       ``nb_loues / nb_ls`` of those dwellings is occupied by social tenants. The other
       households are owners or private tenants in the ratio ``owner_share : private_share``;
       hosted households are added (``hosted`` column, or :data:`HOSTED_RATE`).
    2. **Income quartiles** (:func:`quartiles_by_neighbourhood`): each neighbourhood's income
       per UC is taken lognormal, fitted by least squares to its Filosofi quantiles (median,
       quartiles, deciles; the commune's or the territory's average when the IRIS has none,
       with a warning), and its households are split by the shares below the quartile cuts:
       national (:func:`national_quartile_cuts` for the Filosofi year), ``"territory"``
       (quartiles of the EPCI's own mixture, the quartiles the model uses), or three cut points
       in €/UC/year.
    3. **Joint population** neighbourhood x tenure x quartile x household type by
       :func:`mixsim.calibration.ipf.ipf` (:func:`fit_population`): margins neighbourhood x
       tenure (step 1), neighbourhood x quartile (step 2) and either neighbourhood x type
       (``household_types``, the census) or tenure x type (:data:`TYPE_BY_TENURE`); then
       rounded by :func:`mixsim.calibration.ipf.integerise`, which keeps neighbourhood x tenure
       exact.
    4. **Dwellings** (:func:`dwellings_table`, :func:`social_stock_table`): social stock split
       by financing and rooms with the commune's RPLS columns (``nb_ls_plai``,
       ``nb_ls_plus_av_77``/``nb_ls_plus_ap_77``, ``nb_ls_pls``, ``nb_ls_<k>piece…``) when
       present, else :data:`FINANCING_SHARES` and :data:`ROOM_SHARES`; one résidence per
       neighbourhood and financing, one placeholder landlord per commune, rents
       :data:`SOCIAL_RENT_M2`. Private and owner dwellings: households plus
       :data:`DWELLING_VACANCY`. Applicants (:func:`applicants_table`): :data:`APPLICATION_RATE`
       (assumptions; replace with SNE counts when available).

    Args:
        filosofi: Path of a Filosofi IRIS CSV or the DataFrame from :func:`read_filosofi_iris`.
        rpls: Path of an RPLS commune table or the DataFrame from :func:`read_rpls_communes`.
        iris_table: Path or DataFrame for :func:`read_iris_table`.
        households: Total households in main residences wanted (the table's counts are rescaled);
            None keeps the table's counts.
        seed: Seed of the random generator used to round the fitted population; None draws one.
        quartile_cuts: ``"national"``, ``"territory"`` or three increasing cut points.
        household_types: Optional households by type per neighbourhood: a DataFrame indexed by
            neighbourhood id with one column per :data:`mixsim.model.territory.HH_TYPES` (counts
            or shares; rescaled to each neighbourhood's households).

    Returns:
        The six territory tables (``communes``, ``neighbourhoods``, ``dwellings``,
        ``social_stock``, ``population``, ``applicants``; they pass
        :func:`mixsim.model.territory.validate`) plus three reports (:data:`REPORT_TABLES`):
        ``ipf_fit`` (per margin: cells, total, iterations, convergence, maximum absolute and
        relative error of the fitted table and of the rounded population against the target),
        ``ipf_margins`` (every target margin cell: ``margin``, its keys, ``target``, ``fitted``
        (real) and ``population`` (rounded)), ``income_fit`` (per neighbourhood: income
        distribution, its origin, the quartile shares and the cuts used).

    Raises:
        InputError: for bad input files (see the readers), IRIS-table communes missing a usable
            ``nb_ls`` in RPLS, no usable income data, or bad ``households``/``quartile_cuts``.
    """
    fil = filosofi if isinstance(filosofi, pd.DataFrame) else read_filosofi_iris(filosofi)
    rp = rpls if isinstance(rpls, pd.DataFrame) else read_rpls_communes(rpls)
    it = read_iris_table(iris_table)
    _check_frames(fil, rp)
    rng = np.random.default_rng(seed)
    tenure = tenure_by_neighbourhood(it, rp, households)
    income = quartiles_by_neighbourhood(it, fil, tenure, quartile_cuts)
    types = None
    if household_types is not None:
        types = household_types.reindex(list(it.neighbourhood))[list(HH_TYPES)].fillna(0.0)
        types = types.to_numpy(float)
    pop = fit_population(list(it.neighbourhood), tenure.tenure, income.counts, rng, types)
    tables = {
        "communes": communes_table(it, fil, tenure),
        "neighbourhoods": neighbourhoods_table(it, fil, tenure, income),
        "dwellings": dwellings_table(list(it.neighbourhood), pop.counts),
        "social_stock": social_stock_table(it, tenure),
        "population": pop.population,
        "applicants": applicants_table(pop.counts),
    }
    validate(tables, {k: f"<built {k}>" for k in SCHEMA}, name="public data")
    tables.update(ipf_fit=pop.ipf_fit, ipf_margins=pop.ipf_margins,
                  income_fit=income_fit_table(it, income))
    return tables


_FINANCING_COLUMNS = (("nb_ls_plai",), ("nb_ls_plus_av_77", "nb_ls_plus_ap_77", "nb_ls_plus"),
                      ("nb_ls_pls",))
_ROOM_COLUMN = re.compile(r"^nb_ls_([1-5])_?pi[eè]ces?(_plus|_et_plus)?$")


def _rpls_shares(row: pd.Series, groups, default: np.ndarray) -> np.ndarray:
    """Shares from groups of RPLS count columns, or ``default`` if they are absent or empty."""
    vals = []
    for cols in groups:
        present = [row.get(c) for c in cols if c in row.index]
        vals.append(sum(float(v) for v in present if v is not None and np.isfinite(v)))
    arr = np.array(vals)
    return arr / arr.sum() if arr.sum() > 0 else default


def _rpls_room_shares(row: pd.Series) -> np.ndarray:
    counts = np.zeros(5)
    for col in row.index:
        m = _ROOM_COLUMN.match(str(col))
        if m and np.isfinite(row[col]):
            counts[int(m.group(1)) - 1] += float(row[col])
    return counts / counts.sum() if counts.sum() > 0 else np.array(ROOM_SHARES["social"])


# ============================================================================ command line


def write_tables(tables: Mapping[str, pd.DataFrame], out: str | Path) -> list[Path]:
    """Write each table as ``<name>.csv`` (comma-separated, ``.`` decimals) into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        p = folder / f"{name}.csv"
        p.write_text(df.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Build a territory folder from public data files (the ``python -m`` entry point)."""
    ap = argparse.ArgumentParser(prog="python -m mixsim.calibration.importers",
                                 description=build_territory_from_public.__doc__.splitlines()[0])
    ap.add_argument("filosofi", help="Filosofi IRIS CSV (';' separated)")
    ap.add_argument("rpls", help="RPLS results per commune (CSV, or xlsx with openpyxl)")
    ap.add_argument("iris_table", help="CSV describing the EPCI's neighbourhoods")
    ap.add_argument("--out", required=True, help="territory folder to write (or --check)")
    ap.add_argument("--households", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cuts", default="national", choices=("national", "territory"))
    ap.add_argument("--check", action="store_true",
                    help="compare with the tables in --out instead of writing them")
    args = ap.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tables = build_territory_from_public(args.filosofi, args.rpls, args.iris_table,
                                                 households=args.households, seed=args.seed,
                                                 quartile_cuts=args.cuts)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if args.check:
        bad = [n for n, df in tables.items()
               if not (out / f"{n}.csv").is_file()
               or (out / f"{n}.csv").read_text(encoding="utf-8")
               != df.to_csv(index=False, lineterminator="\n")]
        if bad:
            print(f"differs from the build: {', '.join(bad)}", file=sys.stderr)
            return 1
        print(f"{out}: tables reproduced exactly")
        return 0
    write_tables(tables, out)
    fit = tables["ipf_fit"]
    print(f"wrote {len(tables)} tables to {out}; population of "
          f"{int(tables['population']['count'].sum())} households, margin error at most "
          f"{fit.max_abs_error.max():g} household(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
