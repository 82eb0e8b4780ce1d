"""Reader of the SDES RPLS results per commune (social housing stock at 1 January).

:func:`read_rpls_communes` reads the published workbook ``resultats_rpls_YYYY.xlsx`` (sheet
``COMMUNES``) or its CSV export, keyed by ``DEPCOM_ARM`` (docs/sources.md §5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError

from .readers import (
    COM_CODE,
    MISSING_CODES,
    check_unique,
    clean_code,
    fail,
    first_index,
    header_line,
    non_negative,
    parse_csv,
    read_sheet,
    read_text,
    sniff_separator,
    to_number,
)

RPLS_REQUIRED = ("DEPCOM_ARM", "nb_ls", "nb_loues", "nb_vacants", "nb_ls_en_qpv", "tx_vac",
                 "tx_mob")
_RPLS_RATES = ("tx_vac", "tx_vac3", "tx_mob")
_RPLS_NUMERIC_REQUIRED = frozenset(c.lower() for c in RPLS_REQUIRED[1:])


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
    df, source, first_row, sep = _read_rpls_frame(Path(path), sheet)
    lower = _check_required(df, source)
    df, rows = _drop_empty_rows(df, first_row)
    key = lower["depcom_arm"]
    out: dict[str, pd.Series] = {}
    code = clean_code(df[key], 5, COM_CODE, "commune code (DEPCOM_ARM)", source, key, rows)
    check_unique(code, source, key, rows)
    out["depcom_arm"] = code
    for col in df.columns:
        name = col.lower()
        if name == "depcom_arm" or name in out:
            continue
        if not (name.startswith(("nb_", "tx_")) or name == "densite"):
            out[name] = df[col].astype(str).str.strip()
            continue
        out[name] = _rpls_number(df[col], source, col, rows, decimal_comma=(sep != ","))
    res = pd.DataFrame(out)
    _check_totals(res, source, rows, lower)
    return res.reset_index(drop=True)


def _read_rpls_frame(f: Path, sheet: str) -> tuple[pd.DataFrame, str, int, str]:
    """Read the table as text cells; return it, its name, its first data row and separator."""
    if f.suffix.lower() in (".xlsx", ".xlsm"):
        return *_read_rpls_excel(f, sheet), ","
    text, source = read_text(f)
    header = header_line(text)
    sep, n = sniff_separator(header)
    if n == 0:
        raise InputError(
            f"wrong separator: the header reads as one column ({header[:60]!r}…); expected "
            f"columns {', '.join(RPLS_REQUIRED)} separated by ';' or ','", source=source)
    return parse_csv(text, sep, source), source, 2, sep


def _read_rpls_excel(f: Path, sheet: str) -> tuple[pd.DataFrame, str, int]:
    """Read the RPLS workbook sheet as text cells; return it, its name and its first data row."""
    def not_found(sheets: list[str]) -> InputError:
        return fail(f"no sheet has a 'DEPCOM_ARM' header cell (sheets: {', '.join(sheets)})",
                    str(f), column="DEPCOM_ARM")

    return read_sheet(f, ("DEPCOM_ARM",), prefer=sheet, install_hint="pip install openpyxl",
                      sheet_hint="the COMMUNES sheet", not_found=not_found)


def _check_required(df: pd.DataFrame, source: str) -> dict[str, str]:
    """Map lower-case names to columns; refuse a table without :data:`RPLS_REQUIRED`."""
    lower = {c.lower(): c for c in df.columns}
    missing = [c for c in RPLS_REQUIRED if c.lower() not in lower]
    if missing:
        what = ("missing key column 'DEPCOM_ARM'" if missing[0] == "DEPCOM_ARM"
                else f"missing column(s) {', '.join(missing)}")
        raise fail(f"{what}; required columns: {', '.join(RPLS_REQUIRED)}; the file has: "
                   f"{', '.join(df.columns)}", source, column=missing[0])
    return lower


def _drop_empty_rows(df: pd.DataFrame, first_row: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Leave out rows empty everywhere (spreadsheet exports often end with some).

    Returns:
        The table and the file's row number of each row kept.
    """
    empty = df.apply(lambda s: s.astype(str).str.strip().isin(("", "nan"))).all(axis=1)
    keep_rows = np.flatnonzero(~empty.to_numpy())
    return df.iloc[keep_rows].reset_index(drop=True), keep_rows + first_row


def _rpls_number(raw: pd.Series, source: str, col: str, rows: np.ndarray, *,
                 decimal_comma: bool) -> pd.Series:
    """Parse a count or rate column: not negative, rates at most 100, required not empty."""
    name = col.lower()
    num = to_number(raw, source, col, rows, decimal_comma=decimal_comma)
    if num.isna().all() and name in _RPLS_NUMERIC_REQUIRED:
        raise fail("every value is missing (" + ", ".join(MISSING_CODES) + " or empty)",
                   source, column=col)
    non_negative(num, raw, source, col, rows, what="counts and rates")
    high = num > 100
    if name in _RPLS_RATES and high.any():
        i = first_index(high)
        raise fail(f"got {raw.iloc[i]!r}; a rate in percent is at most 100", source,
                   int(rows[i]), col)
    return num


def _check_totals(res: pd.DataFrame, source: str, rows: np.ndarray,
                  lower: dict[str, str]) -> None:
    """Refuse let + vacant dwellings or dwellings in QPV above ``nb_ls`` (beyond rounding)."""
    over = (res.nb_loues.fillna(0) + res.nb_vacants.fillna(0)) > res.nb_ls + 1.0
    if over.any():
        i = first_index(over)
        raise fail(f"nb_loues + nb_vacants = {res.nb_loues.iloc[i] + res.nb_vacants.iloc[i]:g} "
                   f"exceeds nb_ls = {res.nb_ls.iloc[i]:g} for commune "
                   f"{res.depcom_arm.iloc[i]!r} (more than one dwelling of rounding)", source,
                   int(rows[i]), f"{lower['nb_loues']}, {lower['nb_vacants']}")
    over = res.nb_ls_en_qpv > res.nb_ls + 1.0
    if over.any():
        i = first_index(over)
        raise fail(f"nb_ls_en_qpv = {res.nb_ls_en_qpv.iloc[i]:g} exceeds nb_ls = "
                   f"{res.nb_ls.iloc[i]:g}", source, int(rows[i]), lower["nb_ls_en_qpv"])
