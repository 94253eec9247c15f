"""The review workbooks (.xlsx): every sheet is a list of rows written by
``reports.workbook.solve.add_sheet``."""

from typing import Any

# One sheet row: the values, their number formats, and whether it is a (bold) header.
Row = tuple[list[Any], list[str | None], bool]
BLANK: Row = ([], [], False)
