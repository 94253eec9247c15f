"""Print setup of the review workbook: every sheet prints as officials expect.

- A4 (landscape when the sheet is wider than a portrait page), scaled down to fit one
  page across only while the body text stays legible (11-point cells at ≥ 82 %: 9 pt,
  SPEC §12); a wider sheet continues on further pages across, its id and name columns
  repeated on each, so no page holds amounts without their ids;
- the header row repeated on every page (print titles), the sheet name in the page
  header and "page N of M" in the footer;
- charts on pages of their own: a manual page break before each chart and after the
  last, charts sized to fit one page, so no chart is cut in two;
- the header row repeated on every page down, so every page's numbers have their header.

The page geometry below is an estimate of what Excel and LibreOffice lay out (default
11-point font, 15-point rows); the LibreOffice PDF test checks the result on real pages.
"""

from __future__ import annotations

import math
from typing import Any

from fundopt.reports.labels import label

# A4 in points, less 1.8 cm margins left/right and 2.5 cm top/bottom (with header/footer).
A4_SHORT, A4_LONG = 595.0 - 2 * 51.0, 842.0 - 2 * 51.0
ROW_POINTS = 15.0
# One unit of openpyxl column width is about 7 points of the default font at 100 %.
WIDTH_POINTS = 7.0
# A chart (cm → rows of 15 pt at 100 %) plus a blank row around it.
CM_POINTS = 28.35
CHART_WIDTH_CM = 18.0
# The smallest print scale: the workbook's 11-point body text prints at 9 pt (SPEC §12:
# body ≥ 9 pt, nothing below 8). A sheet wider than the page at this scale goes on pages
# across instead of shrinking further.
MIN_SCALE = 0.82


def page_setup(sheet: Any, widths: list[float], rows: int, lang: str,
               title_rows: int = 1, charts: bool = False, key_columns: int = 0) -> None:
    """Set up printing for ``sheet``.

    Parameters
    ----------
    sheet
        A worksheet (write-only or not), before it is saved.
    widths
        Its column widths (openpyxl units).
    rows
        Its number of rows.
    lang
        Language of the footer.
    title_rows
        How many top rows repeat on every page (0: none, e.g. a cover).
    charts
        The sheet carries charts below its rows, each after a manual page break
        (:func:`break_before`), in landscape at a scale that fits the charts' width.
    key_columns
        How many leading columns name a row (id, name). A sheet too wide for one page at
        a legible scale (a sweep's amounts at 50 points) is printed several pages across
        instead, these columns repeated on each, so no page holds amounts without ids.

    Every sheet prints at a fixed scale (never "fitted to" a page count, which would
    shrink a long or wide sheet below legible type).
    """
    from openpyxl.utils import get_column_letter

    width = max(1.0, sum(widths)) * WIDTH_POINTS
    if charts:
        width = max(width, CHART_WIDTH_CM * CM_POINTS)
    landscape = charts or width > A4_SHORT
    page_width = A4_LONG if landscape else A4_SHORT
    # a margin for fonts wider than estimated: a column cut off is worse than small type
    scale = min(1.0, page_width / width * 0.95)
    setup = sheet.page_setup
    setup.paperSize = 9  # A4
    setup.orientation = "landscape" if landscape else "portrait"
    setup.scale = max(round(MIN_SCALE * 100), int(scale * 100))
    if scale < MIN_SCALE and key_columns > 0:
        sheet.print_title_cols = f"A:{get_column_letter(key_columns)}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.7
    sheet.page_margins.top = sheet.page_margins.bottom = 0.95
    sheet.page_margins.header = sheet.page_margins.footer = 0.4
    if title_rows > 0 and rows > title_rows:
        sheet.print_title_rows = f"1:{title_rows}"
    sheet.oddHeader.center.text = "&A"
    sheet.oddFooter.center.text = label("print.page", lang)


# Column width units that fit one A4 landscape page across at the smallest scale (less a
# margin for fonts wider than estimated).
PAGE_UNITS = A4_LONG / (MIN_SCALE * WIDTH_POINTS) * 0.95


def fits_across(widths: list[float]) -> bool:
    """Whether columns this wide print on one page across at a legible scale."""
    return sum(widths) <= PAGE_UNITS


def fit_width(widths: list[float], floor: float = 12.0) -> list[float]:
    """Column widths narrowed so the sheet fits one A4 landscape page across at the
    smallest legible scale: the widest columns are cut to a common cap (not below
    ``floor``; a sheet too wide even so stays wider), and their text wraps."""
    limit = PAGE_UNITS
    if sum(widths) <= limit:
        return widths
    low, high = floor, max(widths)
    for _ in range(40):  # bisect the cap
        cap = (low + high) / 2
        if sum(min(w, cap) for w in widths) > limit:
            high = cap
        else:
            low = cap
    return [min(w, low) for w in widths]


def chart_rows(height_cm: float) -> int:
    """Sheet rows (15 pt each) a chart of ``height_cm`` covers."""
    return math.ceil(height_cm * CM_POINTS / ROW_POINTS)


def break_before(sheet: Any, row: int) -> None:
    """A manual page break above sheet row ``row`` (1-based): a chart anchored at that
    row starts a new page."""
    from openpyxl.worksheet.pagebreak import Break

    if row > 1:
        sheet.row_breaks.append(Break(id=row - 1))
