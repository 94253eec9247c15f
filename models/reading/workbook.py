"""Reading the sub-fund table out of an ``.xlsx`` workbook (SPEC §2, §7).

Before openpyxl parses anything, the archive is checked against the limits of
:mod:`fundopt.models.limits` (total unpacked size, longest cell), so a small file that
unpacks to gigabytes stops at once. The table is read from ``--sheet NAME``, else the
visible sheet ``subfunds``, else the first visible sheet whose header row (within its
first 10 rows, below any title rows) names the required columns. Hidden sheets are read
only when ``--sheet`` names them. A formula whose value Excel never calculated is an
error, not a blank.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING
from xml.etree.ElementTree import ParseError

import numpy as np

from fundopt.errors import InputError
from fundopt.models.domain import REQUIRED_COLUMNS
from fundopt.models.limits import MAX_CELL_CHARS, MAX_XLSX_UNPACKED
from fundopt.models.reading.headers import Records, column_letter, holds_required, numbered_rows

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

TABLE_SHEET, POLICY_SHEET, CONSTRAINTS_SHEET = "subfunds", "policy", "constraints"
HEADER_ROWS = 10          # the header row is within a sheet's first 10 rows
Sheet = tuple[tuple[object, ...], ...]

_CHUNK = 1 << 22
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_BYTES = 6 * MAX_CELL_CHARS      # &quot; is 6 bytes for one character
_XML_PARTS = re.compile(r"xl/(?:worksheets/[^/]+|sharedStrings)\.xml", re.IGNORECASE)
# what zipfile, zlib and openpyxl raise on a damaged archive (RuntimeError: a part flagged
# as encrypted)
_ERRORS = (zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError, EOFError,
           zipfile.LargeZipFile, NotImplementedError, RuntimeError, zlib.error)


@dataclass(frozen=True)
class WorkbookTable:
    """The table sheet's rows from its header row on, and the raw policy sheets."""

    sheet: str
    records: Records
    policy_sheet: Sheet | None
    constraints_sheet: Sheet | None


def read_workbook(data: bytes, file: str, sheet: str | None) -> WorkbookTable:
    """The sub-fund sheet of an ``.xlsx`` file (see the module's docstring).

    Parameters
    ----------
    data
        The file's bytes.
    file
        The file's name, for messages.
    sheet
        ``--sheet``: the sheet to read, by name (hidden ones too); None to choose.

    Raises
    ------
    InputError
        Not a readable workbook, over a limit, no such sheet, no sheet of sub-funds, or a
        formula without a calculated value.
    """
    formulas = _check_archive(data, file)
    # imported here: openpyxl costs start-up time that CSV runs should not pay
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (*_ERRORS, InvalidFileException):
        raise _not_xlsx(file) from None
    try:
        table = _choose_sheet(book, file, sheet)
        where = f"{file}[{table.title}]"
        rows = [[_cell_text(v, where, n, c) for c, v in enumerate(row, start=1)]
                for n, row in enumerate(_sheet_rows(table), start=1)]
        raw = {name: _raw_sheet(s) for s in book.worksheets
               if (name := s.title.strip().casefold()) in (POLICY_SHEET, CONSTRAINTS_SHEET)}
        titles = {s.title.strip().casefold(): s.title for s in book.worksheets}
    except _ERRORS:
        raise _not_xlsx(file) from None
    finally:
        book.close()
    if formulas:
        _check_formulas(data, file, table.title, rows)
        for name, values in raw.items():
            _check_formulas(data, file, titles[name], [list(r) for r in values])
    records = numbered_rows(rows)
    return WorkbookTable(table.title, _from_header(records), raw.get(POLICY_SHEET),
                         raw.get(CONSTRAINTS_SHEET))


def read_sheet_rows(data: bytes, file: str, names: Sequence[str]) -> list[list[str]]:
    """Every row of a workbook's sheet as text cells: the first sheet named one of
    ``names`` (any case), else the first visible sheet (``verify`` reads a plan sheet).

    Raises
    ------
    InputError
        Not a readable workbook, or over a limit.
    """
    _check_archive(data, file)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (*_ERRORS, InvalidFileException):
        raise _not_xlsx(file) from None
    try:
        wanted = [n.casefold() for n in names]
        sheets = [s for s in book.worksheets if s.title.strip().casefold() in wanted] or \
            [s for s in book.worksheets if s.sheet_state == "visible"]
        if not sheets:
            raise _not_xlsx(file)
        where = f"{file}[{sheets[0].title}]"
        return [[_cell_text(v, where, n, c) for c, v in enumerate(row, start=1)]
                for n, row in enumerate(_sheet_rows(sheets[0]), start=1)]
    except _ERRORS:
        raise _not_xlsx(file) from None
    finally:
        book.close()


def _not_xlsx(file: str) -> InputError:
    return InputError(code="input.workbook.unreadable", file=file)


# --- limits, before parsing -------------------------------------------------------------

def _check_archive(data: bytes, file: str) -> bool:
    """Check the unpacked size and the longest cell; True if some sheet holds formulas."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
        total = sum(part.file_size for part in parts)
        if total > MAX_XLSX_UNPACKED:
            raise InputError(code="input.workbook.unpacked_size",
                             values={"total": total, "limit": MAX_XLSX_UNPACKED},
                             file=file)
        formulas = False
        for part in parts:
            if _XML_PARTS.fullmatch(part.filename):
                with archive.open(part) as stream:
                    formulas |= _scan_part(stream, file, part.filename)
        return formulas
    except _ERRORS:
        raise _not_xlsx(file) from None


def _scan_part(stream: IO[bytes], file: str, part: str) -> bool:
    """Stream one XML part: refuse a text node too long for a cell; find formulas.

    Text between ``>`` and ``<`` is a cell's text (XML escapes ``<`` inside text), so the
    longest such run bounds the longest cell before any of it is parsed.
    """
    formulas, run, tail = False, 0, b""
    while chunk := stream.read(_CHUNK):
        formulas = formulas or _FORMULA.search(tail + chunk) is not None
        tail = chunk[-8:]
        raw = np.frombuffer(chunk, dtype=np.uint8)
        marks = np.flatnonzero((raw == ord("<")) | (raw == ord(">")))
        if len(marks) == 0:
            run += len(chunk)
        else:
            gaps = np.diff(marks)
            longest = max(run + int(marks[0]), int(gaps.max()) if len(gaps) else 0)
            run = len(chunk) - int(marks[-1]) - 1
            if longest > _CELL_BYTES:
                raise _long_cell(file, part)
        if run > _CELL_BYTES:
            raise _long_cell(file, part)
    return formulas


def _long_cell(file: str, part: str | None, row: int | None = None, column: str | None = None
               ) -> InputError:
    """A cell too long: at ``row``/``column``, or somewhere in the package ``part``."""
    return InputError(code="input.workbook.long_cell_in" if part else "input.workbook.long_cell",
                      values={"limit": MAX_CELL_CHARS, "part": part}, file=file,
                      row=row, column=column)


# --- choosing the sheet ---------------------------------------------------------------

def _choose_sheet(book: Workbook, file: str, wanted: str | None) -> ReadOnlyWorksheet:
    sheets: list[ReadOnlyWorksheet] = list(book.worksheets)
    if wanted is not None:
        for match in (lambda s: s.title == wanted,
                      lambda s: s.title.strip().casefold() == wanted.strip().casefold()):
            found = [s for s in sheets if match(s)]
            if found:
                return found[0]
        names = ", ".join(repr(s.title) for s in sheets)
        raise InputError(code="input.workbook.no_sheet",
                         values={"wanted": wanted, "names": names}, file=file)
    visible = [s for s in sheets if s.sheet_state == "visible"]
    candidates = [s for s in visible
                  if s.title.strip().casefold() not in (POLICY_SHEET, CONSTRAINTS_SHEET)]
    named = [s for s in candidates if s.title.strip().casefold() == TABLE_SHEET]
    if named:
        return named[0]
    for sheet in candidates:
        if _holds_table(sheet):
            return sheet
    hidden = [s for s in sheets if s.sheet_state != "visible" and _holds_table(s)]
    if hidden:
        title = hidden[0].title
        raise InputError(code="input.workbook.hidden", values={"title": title}, file=file)
    if candidates:
        return candidates[0]     # the message will list the headers it found there
    raise InputError(code="input.workbook.no_table_sheet", values={"sheet": TABLE_SHEET},
                     file=file)


def _holds_table(sheet: ReadOnlyWorksheet) -> bool:
    """Whether one of the sheet's first rows names every required column."""
    top = [[_plain(v) for v in row] for row in _sheet_rows(sheet, HEADER_ROWS)]
    return any(holds_required(row) == len(REQUIRED_COLUMNS) for row in top)


def _from_header(records: Records) -> Records:
    """The rows from the header row on: the first of the first 10 rows that names every
    required column (title rows above it are dropped), else the one naming the most."""
    top = [(i, holds_required(cells)) for i, (number, cells) in enumerate(records)
           if number <= HEADER_ROWS]
    if not top:
        return records
    best = max(top, key=lambda item: (item[1], -item[0]))
    return records[best[0]:]


# --- cells -------------------------------------------------------------------------------

def _plain(value: object) -> str:
    return "" if value is None else str(value)


def _cell_text(value: object, where: str, row: int, column: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))          # an Excel id 101.0 is "101"
    if isinstance(value, float):
        return repr(value)              # round-trips exactly through the number parser
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        raise _long_cell(where, None, row, column_letter(column))
    return text


def _sheet_rows(sheet: ReadOnlyWorksheet, max_row: int | None = None
                ) -> Iterable[Sequence[object]]:
    # Some writers record a wrong dimension; reset it so no cell is cut off, and start at
    # A1 so row numbers are the spreadsheet's.
    sheet.reset_dimensions()
    rows: Iterable[Sequence[object]] = sheet.iter_rows(min_row=1, min_col=1, max_row=max_row,
                                                       values_only=True)
    return rows


def _raw_sheet(sheet: ReadOnlyWorksheet) -> Sheet:
    rows = [tuple(row) for row in _sheet_rows(sheet)]
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
    return tuple(rows)


def _check_formulas(data: bytes, file: str, title: str, values: Sequence[Sequence[object]]
                    ) -> None:
    """A formula cell whose calculated value the file does not hold is an error."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except _ERRORS:
        raise _not_xlsx(file) from None
    try:
        for number, row in enumerate(_sheet_rows(book[title]), start=1):
            for column, formula in enumerate(row, start=1):
                if not (isinstance(formula, str) and formula.startswith("=")):
                    continue
                cells = values[number - 1] if number <= len(values) else ()
                value = cells[column - 1] if column <= len(cells) else None
                if value is None or value == "":
                    raise InputError(code="input.workbook.formula",
                                     file=f"{file}[{title}]", row=number,
                                     column=column_letter(column), value=formula)
    except _ERRORS:
        raise _not_xlsx(file) from None
    finally:
        book.close()
