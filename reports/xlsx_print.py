"""Print setup of the review workbook: every sheet prints as officials expect.

- A4, fitted to one page wide (landscape when the sheet is wider than a portrait page),
  so the id and name columns are on every page that holds amounts;
- the header row repeated on every page (print titles), the sheet name in the page
  header and "page N of M" in the footer;
- charts on pages of their own: a manual page break before each chart and after the
  last, charts sized to fit one page, so no chart is cut in two;
- the page count chosen so that the last page of a sheet never holds a lone line or two.

The page geometry below is an estimate of what Excel and LibreOffice lay out (default
11-point font, 15-point rows); the LibreOffice PDF test checks the result on real pages.
"""

from __future__ import annotations

import math
from typing import Any

from fundopt.reports.labels import label

# A4 in points, less 1.8 cm margins left/right and 2.5 cm top/bottom (with header/footer).
A4_SHORT, A4_LONG = 595.0 - 2 * 51.0, 842.0 - 2 * 51.0
PAGE_TOP_BOTTOM = 2 * 71.0
ROW_POINTS = 15.0
# One unit of openpyxl column width is about 7 points of the default font at 100 %.
WIDTH_POINTS = 7.0
# A chart (cm → rows of 15 pt at 100 %) plus a blank row around it.
CM_POINTS = 28.35
CHART_WIDTH_CM = 18.0
# Below this print scale a sheet with key columns goes several pages across instead.
MIN_SCALE = 0.4
# A last page with fewer lines than this is folded into the pages before it.
MIN_LAST_PAGE = 5


def fit_to_pages(sheet: Any) -> None:
    """Mark ``sheet`` as scaled to fit its pages (:func:`page_setup` says how many); a
    write-only sheet needs this before its first row, as it belongs to the sheet's head."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


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
        (:func:`break_before`). Excel and LibreOffice ignore manual breaks on a sheet
        "fitted to" pages, so such a sheet gets a fixed scale that fits its width (and
        the charts' width) instead, in landscape.
    key_columns
        How many leading columns name a row (id, name). A sheet too wide for one page at
        a legible scale (a sweep's amounts at 50 points) is printed several pages across
        instead, these columns repeated on each, so no page holds amounts without ids.
    """
    from openpyxl.utils import get_column_letter

    width = max(1.0, sum(widths)) * WIDTH_POINTS
    if charts:
        width = max(width, CHART_WIDTH_CM * CM_POINTS)
    landscape = charts or width > A4_SHORT
    page_width, page_height = (A4_LONG, A4_SHORT) if landscape else (A4_SHORT, A4_LONG)
    page_height -= PAGE_TOP_BOTTOM - 2 * 51.0
    scale = min(1.0, page_width / width)
    setup = sheet.page_setup
    setup.paperSize = 9  # A4
    setup.orientation = "landscape" if landscape else "portrait"
    if charts:
        # a margin for fonts wider than estimated: a column cut off is worse than small type
        setup.scale = max(10, min(100, int(scale * 90)))
    elif scale < MIN_SCALE and key_columns > 0:
        keys = sum(widths[:key_columns]) * WIDTH_POINTS
        across = page_width / MIN_SCALE - keys
        setup.fitToWidth = max(1, math.ceil((width - keys) / across))
        setup.fitToHeight = _pages_tall(rows, MIN_SCALE, page_height, title_rows)
        sheet.print_title_cols = f"A:{get_column_letter(key_columns)}"
    else:
        setup.fitToWidth = 1
        setup.fitToHeight = _pages_tall(rows, scale, page_height, title_rows)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.7
    sheet.page_margins.top = sheet.page_margins.bottom = 0.95
    sheet.page_margins.header = sheet.page_margins.footer = 0.4
    if title_rows > 0 and rows > title_rows:
        sheet.print_title_rows = f"1:{title_rows}"
    sheet.oddHeader.center.text = "&A"
    sheet.oddFooter.center.text = label("print.page", lang)


def _pages_tall(rows: int, scale: float, page_height: float, title_rows: int) -> int:
    """Pages the rows need at ``scale``, one fewer when the last would hold a lone line."""
    per_page = max(1, int(page_height / (ROW_POINTS * scale)) - title_rows)
    body = max(1, rows - title_rows)
    pages = math.ceil(body / per_page)
    if pages > 1 and body - (pages - 1) * per_page < MIN_LAST_PAGE:
        pages -= 1  # shrink a little instead of printing a near-empty page
    return pages


def chart_rows(height_cm: float) -> int:
    """Sheet rows (15 pt each) a chart of ``height_cm`` covers."""
    return math.ceil(height_cm * CM_POINTS / ROW_POINTS)


def break_before(sheet: Any, row: int) -> None:
    """A manual page break above sheet row ``row`` (1-based): a chart anchored at that
    row starts a new page."""
    from openpyxl.worksheet.pagebreak import Break

    if row > 1:
        sheet.row_breaks.append(Break(id=row - 1))
