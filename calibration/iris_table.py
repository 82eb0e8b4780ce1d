"""Reader of the user's table of an EPCI's neighbourhoods (IRIS), the older builder's input.

:func:`read_iris_table` reads and checks the table whose columns are :data:`IRIS_TABLE_COLUMNS`;
``mixsim territory build`` makes the same table from the IGN contours and the census
(:func:`mixsim.calibration.territory_build.iris_frame`).
"""

from __future__ import annotations

import pandas as pd

from mixsim.model.errors import InputError

from .readers import (
    COM_CODE,
    IRIS_CODE,
    check_unique,
    clean_code,
    fail,
    first_index,
    header_line,
    parse_csv,
    read_text,
    sniff_separator,
    to_number,
)

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

# Bounds of the numeric columns, by column then by kind: (lowest, highest), None = open.
_BOUNDS = {"households": (0, None), "hosted": (0, None), "base_attractiveness": (-5, 5),
           "private_rent_m2": (1, 60)}
_KIND_BOUNDS = {"flag": (0, 1), "share": (0, 1)}
_REQUIRED_NUMBERS = ("qpv", "x", "y", "households", "owner_share", "private_share")


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
    df, name = _iris_source(source)
    lower = _check_columns(df, name)
    out: dict[str, pd.Series] = {}
    for col, (_, kind, _) in IRIS_TABLE_COLUMNS.items():
        if col in lower:
            out[col] = _iris_column(df[lower[col]], col, kind, name)
    t = pd.DataFrame(out)
    _check_rows(t, name)
    return t


def _iris_source(source) -> tuple[pd.DataFrame, str]:
    """Read the table as text cells (a DataFrame, or a ``,``/``;`` separated file); its name."""
    if isinstance(source, pd.DataFrame):
        return source.astype(str).replace({"nan": "", "None": ""}), "iris_table"
    text, name = read_text(source)
    header = header_line(text)
    sep, n = sniff_separator(header)
    if n == 0:
        raise InputError(f"wrong separator: the header reads as one column "
                         f"({header[:60]!r}…); expected ',' or ';' separated columns",
                         source=name)
    return parse_csv(text, sep, name), name


def _check_columns(df: pd.DataFrame, name: str) -> dict[str, str]:
    """Map lower-case names to columns; refuse unknown or missing columns and an empty table."""
    lower = {c.lower().strip(): c for c in df.columns}
    unknown = [c for c in df.columns if c.lower().strip() not in IRIS_TABLE_COLUMNS]
    if unknown:
        raise fail(f"unknown column(s) {', '.join(unknown)}; allowed: "
                   f"{', '.join(IRIS_TABLE_COLUMNS)}", name)
    missing = [c for c, (req, _, _) in IRIS_TABLE_COLUMNS.items() if req and c not in lower]
    if missing:
        raise fail(f"missing column(s) {', '.join(missing)}; required: "
                   + ", ".join(c for c, (r, _, _) in IRIS_TABLE_COLUMNS.items() if r), name,
                   column=missing[0])
    if len(df) == 0:
        raise fail("the table has no rows", name)
    return lower


def _iris_column(raw: pd.Series, col: str, kind: str, name: str) -> pd.Series:
    """Parse one column by its kind: codes, text, or numbers within their bounds."""
    if col == "iris":
        return clean_code(raw, 9, IRIS_CODE, "IRIS code", name, col, allow_blank=True)
    if col == "commune":
        return clean_code(raw, 5, COM_CODE, "commune code", name, col)
    if kind == "str":
        v = raw.astype(str).str.strip()
        if col == "neighbourhood" and (v == "").any():
            raise fail("empty value", name, first_index(v == "") + 2, col)
        return v
    num = to_number(raw, name, col)
    if col in _REQUIRED_NUMBERS and num.isna().any():
        raise fail("empty value", name, first_index(num.isna()) + 2, col)
    _check_bounds(num, raw, col, kind, name)
    return num


def _check_bounds(num: pd.Series, raw: pd.Series, col: str, kind: str, name: str) -> None:
    """Refuse the first value outside the column's bounds (:data:`_BOUNDS`, by kind)."""
    lo, hi = _BOUNDS.get(col, _KIND_BOUNDS.get(kind, (None, None)))
    bad = pd.Series(False, index=num.index)
    if lo is not None:
        bad |= num < lo
    if hi is not None:
        bad |= num > hi
    if kind == "flag":
        bad |= (num % 1) != 0  # an empty optional flag is refused too (NaN % 1 is NaN)
    if col == "households":
        bad |= num <= 0
    if bad.any():
        i = first_index(bad)
        allowed = {"flag": "0 or 1", "share": "a share from 0 to 1"}.get(
            kind, f"from {lo} to {hi}" if hi is not None else "a positive number")
        raise fail(f"got {raw.iloc[i]!r}; expected {allowed}", name, i + 2, col)


def _check_rows(t: pd.DataFrame, name: str) -> None:
    """Cross-column checks: unique ids, IRIS within their commune, shares, one SRU per commune."""
    check_unique(t.neighbourhood, name, "neighbourhood")
    if "iris" in t:
        check_unique(t.iris, name, "iris")
        wrong = (t.iris != "") & (t.iris.str[:5] != t.commune)
        if wrong.any():
            i = first_index(wrong)
            raise fail(f"IRIS {t.iris.iloc[i]!r} does not belong to commune "
                       f"{t.commune.iloc[i]!r} (its first five characters)", name, i + 2, "iris")
    total = t.owner_share + t.private_share
    if "social_share" in t:
        total = total + t.social_share.fillna(0.0)
    over = total > 1 + 1e-6
    if over.any():
        i = first_index(over)
        raise fail(f"the tenure shares add up to {total.iloc[i]:.4g} > 1", name, i + 2,
                   "owner_share, private_share" + (", social_share" if "social_share" in t
                                                   else ""))
    if "sru_applies" in t:
        per = t.groupby("commune").sru_applies.nunique(dropna=False)
        if (per > 1).any():
            raise fail(f"sru_applies differs between rows of commune {per[per > 1].index[0]!r}",
                       name, column="sru_applies")
