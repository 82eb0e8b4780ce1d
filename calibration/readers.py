"""Reading helpers shared by the public-data readers: text, CSV, workbooks, numbers, codes.

Every reader of a public source (:mod:`~mixsim.calibration.filosofi`,
:mod:`~mixsim.calibration.rpls`, :mod:`~mixsim.calibration.iris_table`,
:mod:`~mixsim.calibration.local_files`) goes through these functions, so that every problem
in a user file raises the same kind of :class:`mixsim.model.errors.InputError`: the file, the
row (numbered as the file's lines, the header being row 1), the column and what is allowed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mixsim.model.errors import InputError

#: Missing-value codes of INSEE files (lower-cased, after stripping): not available, not
#: significant, no object, secret. Empty cells are missing too.
MISSING_CODES = ("nd", "ns", "so", "s")

#: A 9-character IRIS code (Corsica's départements 2A/2B included) and a 5-character commune code.
IRIS_CODE = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
COM_CODE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")


def fail(msg: str, source, row: int | None = None, column: str | None = None) -> InputError:
    """Make the error for a problem in ``source``, at ``row`` and ``column`` when known."""
    where = []
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f"column {column!r}")
    return InputError(msg, source=str(source), field=", ".join(where) or None)


def first_index(mask) -> int:
    """Return the position of the first true value of a boolean Series or array."""
    arr = mask.to_numpy() if isinstance(mask, pd.Series) else np.asarray(mask)
    return int(np.flatnonzero(arr)[0])


def read_text(path) -> tuple[str, str]:
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


def header_line(text: str) -> str:
    """Return the first non-blank line of a text."""
    return next(line for line in text.splitlines() if line.strip())


def sniff_separator(header: str, candidates: Sequence[str] = (";", ",", "\t")
                    ) -> tuple[str, int]:
    """Find the candidate separator most often in ``header`` (first on ties), and its count."""
    counts = {c: header.count(c) for c in candidates}
    sep = max(counts, key=counts.get)
    return sep, counts[sep]


def other_separator(header: str, expected: str) -> str | None:
    """Find the separator ``header`` seems to use instead of ``expected`` (None if none)."""
    sep, n = sniff_separator(header, tuple(c for c in (";", ",", "\t", "|") if c != expected))
    return sep if n else None


def sep_name(sep: str) -> str:
    """Write a separator as messages do: ``';'``, ``','``, ``tab``."""
    return {"\t": "tab", ";": "';'", ",": "','", "|": "'|'"}.get(sep, repr(sep))


def parse_csv(text: str, sep: str, source: str) -> pd.DataFrame:
    """Parse a CSV text into text cells (nothing converted), column names stripped."""
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"cannot be read as a {sep_name(sep)}-separated CSV file: {err}",
                         source=source) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_csv_table(path) -> tuple[pd.DataFrame, str, str]:
    """Read a CSV whose separator (``;``, ``,`` or tab) is found from its header.

    Returns:
        The table as text cells, the file name for messages and the separator.
    """
    text, source = read_text(path)
    sep, n = sniff_separator(header_line(text))
    if n == 0:
        sep = ";"  # a one-column file
    return parse_csv(text, sep, source), source, sep


def find_column(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    """Find the first of ``names`` that is a column of ``df`` (case-insensitive)."""
    lower = {c.lower(): c for c in df.columns}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def read_sheet(path: Path, key_names: Sequence[str], *, prefer: str | None = None,
               install_hint: str = "pip install 'mixsim[xlsx]'", sheet_hint: str = "the sheet",
               not_found: Callable[[list[str]], InputError] | None = None
               ) -> tuple[pd.DataFrame, str, int]:
    """Read the workbook sheet whose header row (within 30 rows) has a cell in ``key_names``.

    Sheets are searched in the workbook's order, or only ``prefer`` when the workbook has it.

    Returns:
        The body as text cells (columns without a header cell dropped), the name for messages
        (``file[sheet]``) and the row number of its first data row.

    Raises:
        InputError: if the file is missing, openpyxl is not installed, the workbook cannot be
            read, or no sheet has such a header cell (``not_found(sheet names)`` when given).
    """
    source = str(path)
    if not path.is_file():
        raise InputError("file not found", source=source)
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise InputError(f"reading .xlsx files needs the openpyxl package ({install_hint}); "
                         f"or save {sheet_hint} as CSV", source=source) from None
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
    except Exception as err:  # openpyxl raises many types on corrupt files
        raise InputError(f"cannot be read as a workbook: {err}", source=source) from None
    want = {k.lower() for k in key_names}
    for name in [prefer] if prefer in book else list(book):
        raw = book[name].fillna("")
        for r in range(min(30, len(raw))):
            cells = [str(v).strip() for v in raw.iloc[r]]
            if any(c.lower() in want for c in cells):
                body = raw.iloc[r + 1:].reset_index(drop=True)
                body.columns = cells
                return body.loc[:, [c != "" for c in cells]], f"{source}[{name}]", r + 2
    if not_found is not None:
        raise not_found(list(book))
    raise InputError(f"no sheet has a header cell {' or '.join(key_names)}", source=source)


def is_missing(s: pd.Series) -> pd.Series:
    """Mark the cells that are empty or one of :data:`MISSING_CODES`."""
    v = s.astype(str).str.strip().str.lower()
    return v.isin(MISSING_CODES) | (v == "") | (v == "nan") | s.isna()


def row_number(rows, i: int) -> int:
    """Return the row number of the ``i``-th data row (the header is row 1)."""
    return int(rows[i]) if rows is not None else i + 2


def to_number(s: pd.Series, source: str, column: str, rows=None,
              decimal_comma: bool = True) -> pd.Series:
    """Parse a column of numbers written with ``,`` or ``.`` decimals; missing codes -> NaN."""
    missing = is_missing(s)
    txt = s.astype(str).str.strip().str.replace("\u00a0", "", regex=False)
    txt = txt.str.replace("\u202f", "", regex=False).str.replace(" ", "", regex=False)
    if decimal_comma:
        txt = txt.str.replace(",", ".", regex=False)
    num = pd.to_numeric(txt.where(~missing), errors="coerce")
    bad = num.isna() & ~missing
    if bad.any():
        i = first_index(bad)
        raise fail(f"got {s.iloc[i]!r}; expected a number (decimal ',' or '.') or a "
                   f"missing-value code ({', '.join(MISSING_CODES)} or empty)", source,
                   row_number(rows, i), column)
    return num.astype(float)


def non_negative(num: pd.Series, raw: pd.Series, source: str, column: str, rows=None,
                 what: str = "counts") -> pd.Series:
    """Return ``num``, or raise naming the first negative value as written in ``raw``."""
    neg = num < 0
    if neg.any():
        i = first_index(neg)
        raise fail(f"got {raw.iloc[i]!r}; {what} cannot be negative", source,
                   row_number(rows, i), column)
    return num


def clean_code(s: pd.Series, width: int, pattern: re.Pattern, what: str, source: str,
               column: str, rows=None, allow_blank: bool = False) -> pd.Series:
    """Clean INSEE codes: strip, restore leading zeros lost by spreadsheets, check the format."""
    v = s.astype(str).str.strip()
    v = v.where(~(v.str.fullmatch(r"\d+") & (v.str.len() < width)), v.str.zfill(width))
    blank = v.isin(("", "nan"))
    if blank.any() and not allow_blank:
        raise fail(f"empty {what}", source, row_number(rows, first_index(blank)), column)
    bad = ~blank & ~v.str.fullmatch(pattern.pattern)
    if bad.any():
        i = first_index(bad)
        raise fail(f"got {s.iloc[i]!r}; expected a {width}-character {what}", source,
                   row_number(rows, i), column)
    return v.where(~blank, "")


def check_unique(v: pd.Series, source: str, column: str, rows=None) -> None:
    """Raise on the first non-blank value that repeats an earlier one."""
    dup = v.duplicated() & (v != "")
    if dup.any():
        i = first_index(dup)
        raise fail(f"duplicate key {v.iloc[i]!r}", source, row_number(rows, i), column)
