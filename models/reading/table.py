"""Read and validate the sub-fund table (SPEC §2) into a :class:`~fundopt.models.domain.Table`.

A ``.csv`` (UTF-8, UTF-8 with BOM or GB18030/GBK) or ``.xlsx`` file becomes a DataFrame
with canonical column names for the known columns, float64 numeric columns and trimmed
text. Every problem is an :class:`~fundopt.errors.InputError` naming the file, the
spreadsheet row (header = row 1), the column as the planner wrote it, and the value.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    CATEGORY,
    DISTRICT,
    EXCLUDE,
    FUND_SIZE,
    ID,
    KNOWN_COLUMNS,
    MAX_TICKET,
    MIN_TICKET,
    MUST,
    NAME,
    REGION,
    REQUIRED_COLUMNS,
    SCORE,
    STATUS,
    Table,
)
from fundopt.models.limits import MAX_MAGNITUDE, MAX_TABLE_BYTES
from fundopt.models.reading.files import read_input
from fundopt.models.reading.headers import (
    ALIASES,
    Records,
    closest,
    column_letter,
    column_of,
    numbered_rows,
)

__all__ = ["ALIASES", "check_magnitude", "parse_numbers", "read_table"]
_NUMERIC = (MAX_TICKET, MIN_TICKET, FUND_SIZE, SCORE)
_NON_BLANK_TEXT = (ID, NAME, REGION, CATEGORY)
_TEXT_COLUMNS = (*_NON_BLANK_TEXT, DISTRICT, STATUS)
# White space that a cell could start or end with, next to a separator or a line end
_PADDED = tuple(pair.encode() for pair in (" ,", ", ", "\t", " \n", "\n ", " \r", "\u3000"))
# Lower bound of each bounded numeric column: (bound, strict).
_LOWER_BOUNDS = {MAX_TICKET: (0.0, True), MIN_TICKET: (0.0, False), FUND_SIZE: (0.0, True)}
_STATUS_VALUES = {"must": MUST, "必投": MUST, "exclude": EXCLUDE, "排除": EXCLUDE, "": ""}


def status_as_written(table: Table) -> pd.Series | None:
    """The status column as the planner wrote it (必投 stays 必投), where the written word
    still means the row's status (a scenario may have changed it); None without one."""
    if STATUS not in table.frame.columns:
        return None
    status = table.frame[STATUS].astype(str)
    if table.written_status is None or len(table.written_status) != len(status):
        return status
    written = pd.Series(table.written_status, index=status.index, dtype=object)
    same = written.str.strip().str.lower().map(_STATUS_VALUES).to_numpy() == status.to_numpy()
    return status.where(~same, written.str.strip())
# 1,234.5 — but not "1,2", which may be a decimal comma.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")

# column name → trimmed cells (numpy str arrays), or float64 where the CSV reader already
# parsed finite numbers
Text = dict[str, np.ndarray]
# (header row number, header cells, trimmed cells per column, row number per body row)
Grid = tuple[int, list[str], list[np.ndarray], list[int]]


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Read a sub-fund table and validate it against SPEC §2 and §7.

    Parameters
    ----------
    path
        A ``.csv`` or ``.xlsx`` file. For ``.xlsx`` see ``sheet``; the ``policy`` and
        ``constraints`` sheets, if present, are returned raw for the policy reader.
    sheet
        ``--sheet``: the ``.xlsx`` sheet to read. Without it, the visible sheet
        ``subfunds``, else the first visible sheet whose header row (within its first 10
        rows, below any title rows) names the required columns.

    Returns
    -------
    Table
        ``frame`` has a RangeIndex, canonical names for the known columns present in the
        file and every other column under its trimmed header (without a 元/万元/亿元 unit).
        Known numeric columns, and extra columns whose non-blank cells (at least one) all
        parse as numbers, are float64 with blank → NaN; other columns are trimmed text
        (blank → ""). ``status`` holds "must", "exclude" or "". Absent optional columns
        are not added. ``units`` holds the unit written in an amount column's header:
        the values are not yet converted (:func:`fundopt.models.reading.units.in_policy_unit`).

    Raises
    ------
    InputError
        Missing, unreadable or not a regular file, wrong extension, undecodable CSV,
        ragged rows, bad or missing headers, non-finite or out-of-range numbers, blank
        required text, duplicate ids, unknown status values, or no candidate rows.
    """
    path = Path(path)
    return table_from_bytes(read_input(path, "table", MAX_TABLE_BYTES), path, sheet)


def table_from_frame(frame: pd.DataFrame, name: str = "<DataFrame>") -> Table:
    """A sub-fund table given as a DataFrame, validated exactly as a ``.csv`` file is.

    The frame is written as CSV (its columns as headers, no index) and read by the same
    reader, so every check and message of :func:`read_table` applies; messages name the
    table ``name`` and rows as a spreadsheet would number them (header = row 1).
    """
    data = frame.to_csv(index=False).encode("utf-8")
    return table_from_bytes(data, Path(name), suffix=".csv")


def table_from_bytes(data: bytes, path: Path, sheet: str | None = None,
                     suffix: str | None = None) -> Table:
    """The table held in ``data``, the bytes of the ``.csv`` or ``.xlsx`` file ``path``
    (see :func:`read_table`); ``suffix`` overrides the format the path's suffix names."""
    file = str(path)
    suffix = suffix or path.suffix.lower()
    policy_sheet = constraints_sheet = sheet_read = None
    if suffix == ".csv":
        if sheet is not None:
            raise InputError(code="input.table.sheet_on_csv", file=file, value=sheet)
        grid = _csv_grid(data, file)
    elif suffix == ".xlsx":
        from fundopt.models.reading.workbook import read_workbook  # start-up: CSV runs skip it

        book = read_workbook(data, file, sheet)
        sheet_read, file = book.sheet, f"{file}[{book.sheet}]"
        grid = _records_grid(book.records, file)
        policy_sheet, constraints_sheet = book.policy_sheet, book.constraints_sheet
    else:
        raise InputError(code="input.table.format", file=file,
                         value=path.suffix or "(no extension)")
    text, headers, units, rows = _text_columns(grid, file)
    numbers = _numeric_columns(text, headers, rows, file)
    status = _check_text(text, headers, rows, file)
    columns = {name: numbers[name] if name in numbers
               else pd.Series(values.astype(object), dtype="str") for name, values in text.items()}
    if status is not None:
        columns[STATUS] = status
    return Table(
        path=path, frame=pd.DataFrame(columns), source_rows=tuple(rows), headers=headers,
        numeric_columns=frozenset(numbers), sha256=hashlib.sha256(data).hexdigest(),
        policy_sheet=policy_sheet, constraints_sheet=constraints_sheet,
        units={c: u for c, u in units.items() if c in numbers}, sheet=sheet_read,
        written_status=None if status is None else tuple(text[STATUS].astype(str).tolist()),
    )


# --- reading cells ---------------------------------------------------------------------

def decode_csv(data: bytes, file: str) -> str:
    """The text of a CSV file's bytes (see :func:`_decode`)."""
    return _decode(data, file)


def _decode(data: bytes, file: str) -> str:
    """UTF-8 with BOM, else strict UTF-8, else GB18030 (a superset of GBK)."""
    encodings = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(code="input.table.encoding", file=file)


def _csv_grid(data: bytes, file: str) -> Grid:
    """The cells of a CSV file.

    Files without quote characters, where every line is one row, are split by pandas' C
    tokenizer after a vectorised check that each line has the header's number of fields.
    Files with quotes (a value may hold a comma or a line break) go through the csv
    module, which knows the row of every cell exactly.
    """
    text = _decode(data, file)
    if '"' in text:
        return _records_grid(_csv_records(text, file), file)
    if "\r" in text:
        # CRLF (Windows) and CR alone (Excel for Mac) end a line as LF does; a stray CR
        # inside a line therefore splits it, and the row count check below names it.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = text.encode("utf-8")
    raw = np.frombuffer(encoded, dtype=np.uint8)
    ends = np.append(np.flatnonzero(raw == ord("\n")), len(raw))
    starts = np.concatenate([[0], ends[:-1] + 1])

    def per_line(mask: np.ndarray) -> np.ndarray:
        return np.bincount(np.searchsorted(ends, np.flatnonzero(mask)), minlength=len(ends))

    commas = per_line(raw == ord(","))
    fields = commas + 1
    # a line of nothing but commas and white space is a blank row
    filler = commas + per_line((raw == ord(" ")) | (raw == ord("\t")))
    used = np.flatnonzero(ends - starts > filler)
    if len(used) == 0:
        raise _no_rows(file)
    width = fields[used[0]]
    ragged = used[fields[used] != width]
    if len(ragged):
        _raise_ragged(file, int(ragged[0]) + 1, int(fields[ragged[0]]), int(width))
    first = int(used[0])
    header = raw[starts[first]:ends[first]].tobytes().decode("utf-8").split(",")
    # text columns stay text (an id 101 is "101", not 101.0); others may parse as numbers
    as_text = {pos: object for pos, cell in enumerate(header)
               if column_of(cell)[0] in _TEXT_COLUMNS or not cell.strip()}
    # bytes, not a StringIO: pandas 3 re-copies a text buffer (twice the time at 1M rows)
    frame = pd.read_csv(io.BytesIO(encoded), header=None, names=range(int(width)),
                        encoding="utf-8", skiprows=first + 1, dtype=as_text, na_filter=False,
                        skip_blank_lines=False, engine="c")
    body = used[1:]
    frame = frame.iloc[body - first - 1]       # line k of the file is frame row k - first - 1
    # Stripping 100 000 cells a column costs more than parsing them: skip it when no cell
    # can have white space at either end (none next to a comma or a line end).
    # (searched in the bytes: 10× faster than in a str of Chinese text)
    trim = text[:1].isspace() or any(pair in encoded for pair in _PADDED)
    cells = [_column_cells(frame[c], trim) for c in frame]
    return first + 1, header, cells, (body + 1).tolist()


def _column_cells(column: pd.Series, trim: bool) -> np.ndarray:
    """A column as trimmed text (object array), or float64 when pandas parsed finite numbers."""
    if column.dtype.kind in "if":
        values = column.to_numpy(dtype=float)
        if np.isfinite(values).all():
            return values
    # plain Python strings: converting 100 000 of them to a numpy str array and back costs
    # more than the rest of reading
    if column.dtype.kind in "if":           # numbers, but some not finite (inf, nan)
        column = column.astype(str)
    cells = column.to_numpy(dtype=object)
    return np.array([cell.strip() for cell in cells], dtype=object) if trim else cells


def _raise_ragged(file: str, row: int, found: int, width: int) -> None:
    raise InputError(code="input.table.ragged",
                     values={"found": found, "width": width}, file=file, row=row)


def _csv_records(text: str, file: str) -> Records:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = numbered_rows(reader)
    except csv.Error as exc:
        raise InputError(code="input.table.unreadable_csv", values={"exc": exc},
                         file=file) from None
    if records:
        width = len(records[0][1])
        for number, cells in records[1:]:
            if len(cells) != width:
                _raise_ragged(file, number, len(cells), width)
    return records


def _records_grid(records: Records, file: str) -> Grid:
    """Rows of cells (as the csv module or openpyxl give them) as trimmed columns."""
    if not records:
        raise _no_rows(file)
    (header_row, header), body = records[0], records[1:]
    width = max(len(cells) for _, cells in records)
    padded = [cells if len(cells) == width else cells + [""] * (width - len(cells))
              for _, cells in body] or [[""] * width]
    grid = np.strings.strip(np.array(padded, dtype=str))   # numpy's vectorised string ops
    cells = [grid[: len(body), pos] for pos in range(width)]
    return header_row, header, cells, [number for number, _ in body]


def _text_columns(grid: Grid, file: str
                  ) -> tuple[Text, dict[str, str], dict[str, str], list[int]]:
    """Trimmed text cells by canonical column name, the headers as written, the unit
    written in a header (by column), the row numbers."""
    header_row, header, cells, rows = grid
    width = len(cells)
    written = [cell.strip() for cell in header] + [""] * (width - len(header))
    names, units = _column_names(written, cells, header_row, rows, file)
    headers = {name: written[pos] for pos, name in names.items()}
    _check_required(headers, [w for w in written if w], header_row, file)
    if not rows:
        raise _no_rows(file)
    return {name: cells[pos] for pos, name in names.items()}, headers, units, rows


def _column_names(written: list[str], cells: list[np.ndarray], header_row: int,
                  rows: list[int], file: str) -> tuple[dict[int, str], dict[str, str]]:
    """Position → column name, and column → unit written in its header; columns with no
    header must be entirely blank (then dropped)."""
    names: dict[int, str] = {}
    units: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for pos, header in enumerate(written):
        letter = column_letter(pos + 1)
        if not header:
            _raise_first(cells[pos] != "", cells[pos], rows, file, None,
                         "input.table.no_header", letter=letter)
            continue
        name, unit = column_of(header)
        earlier = by_name.get(name.casefold())
        if earlier is not None:
            same = earlier.casefold() == header.casefold()
            raise InputError(code="input.table.duplicate_header" if same
                             else "input.table.same_meaning",
                             values={"name": name, "earlier": earlier, "header": header},
                             file=file, row=header_row, column=header)
        by_name[name.casefold()] = header
        names[pos] = name
        if unit is not None:
            units[name] = unit
    return names, units


def _check_required(headers: dict[str, str], found: list[str], header_row: int,
                    file: str) -> None:
    for column in REQUIRED_COLUMNS:
        if column not in headers:
            spellings = " / ".join((column, *ALIASES[column]))
            listed = ", ".join(found) or "(none)"
            unmatched = [w for name, w in headers.items() if name not in KNOWN_COLUMNS]
            near = closest(column, unmatched)
            raise InputError(code="input.table.missing_column",
                             values={"column": column, "header_row": header_row,
                                     "listed": listed, "spellings": spellings,
                                     "near": Message("input.table.closest", {"near": near})
                                     if near else ""},
                             file=file, column=column)


def _no_rows(file: str) -> InputError:
    return InputError(code="input.table.no_rows", file=file)


# --- values ----------------------------------------------------------------------------

def parse_numbers(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse trimmed text cells as numbers, vectorised (SPEC §2).

    Accepts thousands separators (``1,234.5``; misplaced ones such as ``1,2`` are not
    numbers), a percent sign (``30%`` → 0.30) and spaces before the sign.

    Parameters
    ----------
    text
        Trimmed text cells; ``""`` is blank.

    Returns
    -------
    values, bad
        float64 values (blank → NaN) and a mask of the non-blank cells that are not a
        finite number.
    """
    parsed = _parse(np.asarray(text, dtype=str), locate=True)
    assert parsed is not None   # locate=True always parses
    return parsed


def _parse(text: np.ndarray, locate: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """``parse_numbers``; with ``locate`` False, None as soon as some cell is not a number."""
    blank = text == ""
    percent = np.strings.endswith(text, "%")
    body = text
    if percent.any():
        body = np.strings.strip(np.where(percent, np.strings.slice(text, 0, -1), text))
    bad = np.strings.find(body, "_") >= 0   # Python's float() would accept 1_000
    grouped = np.strings.find(body, ",") >= 0
    if grouped.any():
        misplaced = [_GROUPED.fullmatch(s) is None for s in body[grouped].tolist()]
        bad[grouped] |= np.array(misplaced, dtype=bool)
        body = np.strings.replace(body, ",", "")
    values = np.full(len(text), np.nan)
    filled = ~blank
    try:
        values[filled] = body[filled].astype(np.float64)
    except ValueError:
        if not locate:
            return None
        # Some cell is not a number; pandas marks which (NaN) at C speed.
        values[filled] = pd.to_numeric(body[filled].astype(object), errors="coerce")
    values = np.where(percent, values / 100, values)
    return values, filled & (~np.isfinite(values) | bad)


def _numeric_columns(text: Text, headers: dict[str, str], rows: list[int],
                     file: str) -> dict[str, np.ndarray]:
    """Known numeric columns must parse; an extra column is numeric when all its cells do."""
    numbers: dict[str, np.ndarray] = {}
    for column, cells in text.items():
        if cells.dtype.kind == "f":     # the CSV reader already parsed finite numbers
            if column in _NUMERIC:
                _check_bounds(column, cells, cells, headers, rows, file)
            numbers[column] = cells
        elif column in _NUMERIC:
            values, bad = parse_numbers(cells)
            _raise_first(bad, cells, rows, file, headers[column], "input.table.not_finite")
            _check_bounds(column, values, cells, headers, rows, file)
            numbers[column] = values
        elif column not in KNOWN_COLUMNS and (cells != "").any():
            parsed = _parse(np.asarray(cells, dtype=str), locate=False)
            if parsed is not None and not parsed[1].any():
                numbers[column] = parsed[0]
    return numbers


def _check_bounds(column: str, values: np.ndarray, cells: np.ndarray,
                  headers: dict[str, str], rows: list[int], file: str) -> None:
    _raise_first(np.abs(values) > MAX_MAGNITUDE, cells, rows, file, headers[column],
                 "input.table.too_large", limit=MAX_MAGNITUDE)
    if column == MAX_TICKET:
        _raise_first(np.isnan(values), cells, rows, file, headers[column],
                     "input.table.blank_number")
    if column in _LOWER_BOUNDS:
        bound, strict = _LOWER_BOUNDS[column]
        low = values <= bound if strict else values < bound
        sign = ">" if strict else ">="
        _raise_first(low, cells, rows, file, headers[column], "input.table.out_of_range",
                     sign=sign, bound=bound)


def check_magnitude(table: Table, column: str) -> None:
    """A column the model uses must hold numbers HiGHS can take (``MAX_MAGNITUDE``).

    Raises
    ------
    InputError
        Naming the first row over the limit.
    """
    values = table.frame[column].to_numpy(dtype=float)
    over = np.abs(np.nan_to_num(values)) > MAX_MAGNITUDE
    file = str(table.path) + (f"[{table.sheet}]" if table.sheet else "")
    _raise_first(over, values, list(table.source_rows), file, table.headers.get(column, column),
                 "input.table.too_large", limit=MAX_MAGNITUDE)


def _raise_first(mask: np.ndarray, cells: np.ndarray, rows: list[int], file: str,
                 header: str | None, code: str, **values: Any) -> None:
    """Raise error ``code`` (with ``values``) for the first row where ``mask`` holds,
    naming its spreadsheet row."""
    if mask.any():
        i = int(mask.argmax())
        raise InputError(code=code, values=values, file=file, row=rows[i], column=header,
                         value=str(cells[i]))


def _check_text(text: Text, headers: dict[str, str], rows: list[int],
                file: str) -> pd.Series | None:
    """Check required text and unique ids; return ``status`` normalised, if present."""
    for column in _NON_BLANK_TEXT:
        _raise_first(text[column] == "", text[column], rows, file, headers[column],
                     "input.table.blank_text")
    ids = pd.Series(text[ID].astype(object))
    duplicated = ids.duplicated().to_numpy()
    if duplicated.any():
        i = int(duplicated.argmax())
        first = int((ids == ids.iat[i]).to_numpy().argmax())
        raise InputError(code="input.table.duplicate_id",
                         values={"id": ids.iat[i], "first": rows[first], "row": rows[i]}, file=file,
                         row=rows[i], column=headers[ID], value=ids.iat[i])
    if STATUS not in text:
        return None
    status = pd.Series(text[STATUS].astype(object)).str.lower().map(_STATUS_VALUES)
    _raise_first(status.isna().to_numpy(), text[STATUS], rows, file, headers[STATUS],
                 "input.table.unknown_status")
    return status.astype("str")
