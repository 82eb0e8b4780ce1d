"""Reader of the INSEE Filosofi IRIS tables of income per consumption unit.

:func:`read_filosofi_iris` reads the disposable (``DISP_``) or declared (``DEC_``) income tables
(format in docs/sources.md §5: ``;`` separator, ``,`` decimals, missing-value codes ``nd``,
``ns``, ``so``, ``s``, year-suffixed columns such as ``DISP_MED21``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError

from .readers import (
    COM_CODE,
    IRIS_CODE,
    MISSING_CODES,
    check_unique,
    clean_code,
    fail,
    header_line,
    other_separator,
    parse_csv,
    read_text,
    sep_name,
    to_number,
)

#: Filosofi quantile statistics and their cumulative probability.
QUANTILE_P = {"d1": 0.1, "d2": 0.2, "q1": 0.25, "d3": 0.3, "d4": 0.4, "med": 0.5, "d6": 0.6,
              "d7": 0.7, "q3": 0.75, "d8": 0.8, "d9": 0.9}
_FILO_STAT = re.compile(r"^(DISP|DEC)_([A-Z0-9_]+?)(\d{2})$")
_FILO_TEXT_STATS = ("NOTE",)  # year-suffixed columns that are flags/notes, kept as text
_FILO_KEYS = ("IRIS", "COM", "LIBIRIS", "LIBCOM")


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
    text, source = read_text(path)
    _check_separator(header_line(text), sep, source)
    df = parse_csv(text, sep, source)
    out = _filosofi_keys(df, source)
    stats, years, other = _classify_columns(df)
    out["year"] = pd.Series(_filosofi_year(years, source), index=df.index, dtype=np.int64)
    for col, name, stat in stats:
        if name in out:
            raise fail(f"column repeated as {name!r}", source, column=col)
        out[name] = _statistic(df[col], stat, source, col, decimal_comma=(sep != ","))
    for col in other:
        name = col.lower()
        if name not in out:
            out[name] = df[col].astype(str).str.strip()
    return pd.DataFrame(out).reset_index(drop=True)


def _check_separator(header: str, sep: str, source: str) -> None:
    """Refuse a header without ``sep`` (e.g. a ``,``-separated file), naming the likely one."""
    if sep in header:
        return
    other = other_separator(header, sep)
    found = f"it looks {sep_name(other)}-separated" if other else "no separator was found"
    raise InputError(
        f"wrong separator: the header reads as one column ({header[:60]!r}…); {found}, but "
        f"INSEE Filosofi CSV files are {sep_name(sep)}-separated"
        + (f" (pass sep={other!r} if the file really is {sep_name(other)}-separated)"
           if other else ""), source=source)


def _filosofi_keys(df: pd.DataFrame, source: str) -> dict[str, pd.Series]:
    """Read the keys: ``iris`` (checked, unique), ``com`` (or derived), ``libiris``, ``libcom``."""
    upper = {c.upper(): c for c in df.columns}
    if "IRIS" not in upper:
        raise fail(f"missing key column 'IRIS'; the file has columns: {', '.join(df.columns)}",
                   source, column="IRIS")
    out: dict[str, pd.Series] = {}
    iris_col = upper["IRIS"]
    out["iris"] = clean_code(df[iris_col], 9, IRIS_CODE, "IRIS code", source, iris_col)
    check_unique(out["iris"], source, iris_col)
    if "COM" in upper:
        out["com"] = clean_code(df[upper["COM"]], 5, COM_CODE, "commune code", source,
                                upper["COM"])
    else:
        out["com"] = out["iris"].str[:5]
    for key in ("LIBIRIS", "LIBCOM"):
        if key in upper:
            out[key.lower()] = df[upper[key]].astype(str).str.strip()
    return out


def _classify_columns(df: pd.DataFrame) -> tuple[list[tuple[str, str, str]],
                                                 dict[str, list[str]], list[str]]:
    """Split the non-key columns into statistics ``(column, name, stat)``, by year, and others."""
    stats, years, other = [], {}, []
    for col in df.columns:
        if col.upper() in _FILO_KEYS:
            continue
        m = _FILO_STAT.match(col.upper())
        if m:
            stats.append((col, f"{m.group(1)}_{m.group(2)}".lower(), m.group(2)))
            years.setdefault(m.group(3), []).append(col)
        else:
            other.append(col)
    return stats, years, other


def _filosofi_year(years: dict[str, list[str]], source: str) -> int:
    """Return the one year of the statistics' suffixes (``21`` -> 2021)."""
    if not years:
        raise fail("no income statistic found: expected columns such as DISP_MED21 or "
                   "DEC_MED18 (DISP_/DEC_ prefix, 2-digit year suffix)", source)
    if len(years) > 1:
        detail = "; ".join(f"20{y}: {', '.join(cols[:3])}" for y, cols in sorted(years.items()))
        raise fail(f"columns of several years in one file ({detail}); expected one year",
                   source)
    return 2000 + int(next(iter(years)))


def _statistic(raw: pd.Series, stat: str, source: str, col: str, *,
               decimal_comma: bool) -> pd.Series:
    """Parse one statistic's column: text for notes, else numbers not all missing."""
    if stat in _FILO_TEXT_STATS:
        return raw.astype(str).str.strip()
    num = to_number(raw, source, col, decimal_comma=decimal_comma)
    if num.isna().all():
        raise fail("every value is missing (" + ", ".join(MISSING_CODES)
                   + " or empty); remove the column or use another file", source, column=col)
    return num
