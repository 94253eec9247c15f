"""The review workbook: plan, summary, constraints and manifest sheets (SPEC §5).

openpyxl is imported inside :func:`write_xlsx` only: it is slow to import and most runs
never write a workbook. Sheets are streamed (write-only mode) so 100 000-row plans fit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fundopt.models.checks import DataWarning
from fundopt.models.domain import (
    CATEGORY,
    DISTRICT,
    FUND_SIZE,
    ID,
    MAX_TICKET,
    MIN_TICKET,
    NAME,
    REGION,
    Policy,
    Table,
)
from fundopt.optimizer.result import Result
from fundopt.reports import numbers
from fundopt.reports.captions import shown
from fundopt.reports.diagnosis_text import conflict_lines, reason_text, warning_line
from fundopt.reports.files.atomic import save_book
from fundopt.reports.files.export import manifest_dict
from fundopt.reports.frames import (
    AMOUNT,
    FUNDED,
    GROUP_COLUMNS,
    SHARE_OF_BUDGET,
    STAKE,
    group_totals,
    key_figures,
    plan_display,
)
from fundopt.reports.labels import (
    bool_text,
    label,
    measure_name,
    relaxation_text,
    status_text,
)
from fundopt.reports.text import say
from fundopt.reports.workbook import Row
from fundopt.reports.workbook.diagnosis import diagnosis_sheets
from fundopt.reports.workbook.printing import fit_width, fits_across, page_setup
from fundopt.reports.workbook.review import (
    add_pivot_charts,
    audit_rows,
    cover_rows,
    district_rows,
    input_files,
    pivot_rows,
    solve_figures,
)

AMOUNT_FMT, SHARE_FMT, COUNT_FMT, NUMBER_FMT = "#,##0.00", "0.0%", "0", "#,##0.0###"
# The plan sheet's columns: what a committee reads (the rest is on the appendix sheet).
# "funded" (text) comes before the amounts: a right-aligned number never touches the text
# of the next cell.
COMMITTEE_COLUMNS = (ID, NAME, REGION, DISTRICT, CATEGORY, FUNDED, AMOUNT, SHARE_OF_BUDGET,
                     STAKE)
PLAN_FORMATS = {AMOUNT: AMOUNT_FMT, MAX_TICKET: AMOUNT_FMT, MIN_TICKET: AMOUNT_FMT,
                FUND_SIZE: AMOUNT_FMT, SHARE_OF_BUDGET: SHARE_FMT, STAKE: SHARE_FMT}
MEASURE_FORMATS = {"share": SHARE_FMT, "amount": AMOUNT_FMT, "count": COUNT_FMT,
                   "ratio": '0.00"×"'}
FIGURE_FORMATS = {"objective": NUMBER_FMT, "committed": AMOUNT_FMT, "budget": AMOUNT_FMT,
                  "committed_share": SHARE_FMT, "gap": "0.00%", "seconds": "0.00"}
# Characters an East Asian font draws two columns wide (CJK, kana, hangul, full-width forms).
WIDE = re.compile("[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
                  "\uff00-\uff60\uffe0-\uffe6]")
# Characters XML cannot hold (openpyxl refuses them).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MIN_WIDTH, MAX_WIDTH = 6.0, 60.0
SENTENCE_WIDTH = 70.0
COVER_WIDTH = 68.0  # a SHA-256 on one line
# How a wrapped cell prints, fitted to LibreOffice's PDFs of 11-point text at the print
# scales used (82–100 %) so that no line is left out: a column of width w holds about
# 5.5·w − 2 points of Latin text (5.3 a letter, 5.6 a digit, 6.6 a capital, 8.6 an m or
# w) or CJK characters of 9.9 each; bold is 8% wider. A line is 13.5 points tall, 16
# with CJK text in it (the CJK font's taller line).
POINTS_PER_UNIT, CELL_PADDING = 5.5, 2.0
LINE_POINTS, CJK_LINE_POINTS, ROW_PADDING = 13.5, 16.0, 3.0
# Word pieces a line breaks between: a Latin word (never broken at a hyphen, to be
# safe) or one CJK character, with the opening brackets before it and the closing
# punctuation after it that a line may not be broken from (（budget、 30%），), or a run
# of spaces, or any other single character.
_WIDE_CLASS = (r"\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
               r"\uff00-\uff60\uffe0-\uffe6")
WRAP_TOKEN = re.compile(rf"[（【《「『“‘〈]*(?:[^\s{_WIDE_CLASS}]+|[{_WIDE_CLASS}])"
                        r"[）】》」』”’〉，。、：；！？％]*|\s+|.", re.S)



def write_xlsx(path: Path, table: Table, policy: Policy, result: Result, lang: str,
               notes: Sequence[DataWarning] = ()) -> None:
    """Write the review workbook.

    Parameters
    ----------
    path
        The file to write (any name; the caller renames it into place).
    table, policy, result
        What was solved and its outcome.
    lang
        ``"en"`` or ``"zh"``: sheet names and headers. Data values are not translated.
    notes
        Warnings about the data (similar spellings), listed on the summary sheet.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    from fundopt.reports.notices import notices

    cover = cover_rows(policy.report.title or label("cover.title.solve", lang),
                       solve_figures(table, policy, result, lang),
                       input_files(table, policy), result.solver, lang,
                       diagnosis_block(result, lang),
                       # without a plan the diagnosis opens the cover, saying so itself
                       [*(notices(policy, result, lang) if result.is_ok else []),
                        *_warning_notice(result, lang, notes)])
    add_sheet(book, label("sheet.cover", lang), cover, row_widths(cover, COVER_WIDTH), lang,
              title_rows=0, numbers_left=True)
    add_plan_sheet(book, table, policy, result, lang)
    if result.robust is not None:
        from fundopt.reports.robust import robust_rows

        rows = robust_rows(table, policy, result, lang)
        add_sheet(book, label("sheet.robust", lang), rows, row_widths(rows), lang)
    add_review_sheets(book, table, policy, result, lang)
    for key, rows in (("sheet.summary", _summary_rows(table, policy, result, lang, notes)),
                      ("sheet.constraints", _constraint_rows(result, lang, policy.unit)),
                      ("sheet.manifest", _manifest_rows(table, policy, result, lang)),
                      *diagnosis_sheets(table, policy, result, lang)):
        if len(rows) > 1:  # a header alone (no constraint values without a plan) is no sheet
            add_sheet(book, label(key, lang), rows, row_widths(rows), lang)
    if result.book is not None:
        from fundopt.reports.book import add_book_sheet  # it builds on this module

        add_book_sheet(book, result, lang)
    add_input_sheet(book, table, policy, result, lang)
    save_book(book, path)


def _warning_notice(result: Result, lang: str, notes: Sequence[DataWarning]
                    ) -> list[tuple[str, list[str]]]:
    """Every data warning, on the cover as on the memo's: a typo that changes the plan
    is seen on the first page, not the tenth."""
    lines = [n.message(lang) for n in notes] + [warning_line(w, lang) for w in result.warnings]
    return [(say("memo.warnings", lang), lines)] if lines else []


def diagnosis_block(result: Result, lang: str) -> list[tuple[str, list[str]]]:
    """What the cover says about a result without a plan: the plain reasons (a must-fund
    conflict), the suggested relaxation and the conflicting set, each under its heading."""
    diagnosis = result.diagnosis
    if diagnosis is None or result.relaxed:
        return []
    blocks = [("reasons", [reason_text(m, lang, diagnosis.captions)
                           for m in diagnosis.messages]),
              ("relaxation", [relaxation_text(r, lang) for r in diagnosis.relaxation]),
              ("conflict", conflict_lines(diagnosis, lang))]
    if result.status == "infeasible" and not diagnosis.relaxation and not diagnosis.messages:
        blocks.append(("relaxation", [say("diagnosis.no_relaxation", lang)]))
    return [(say(f"diagnosis.heading.{key}", lang), lines) for key, lines in blocks if lines]


def add_plan_sheet(book: Any, table: Table, policy: Policy, result: Result, lang: str) -> None:
    """The plan sheet, what a committee reads: id, name, region, district, category, the
    amount (its unit in the header), funded, share of budget and stake of every input row,
    and a total row (no amounts without a plan). The full input table is the appendix
    (:func:`add_input_sheet`)."""
    plan = plan_display(table, policy, result, lang)
    canonical = plan.attrs["canonical"]
    keep = sorted((i for i, c in enumerate(canonical) if c in COMMITTEE_COLUMNS),
                  key=lambda i: COMMITTEE_COLUMNS.index(canonical[i]))
    plan = plan.iloc[:, keep]
    plan.attrs["canonical"] = canonical = [canonical[i] for i in keep]
    unit = f" ({policy.unit})" if lang != "zh" else f"（{policy.unit}）"
    plan = plan.rename(columns={plan.columns[canonical.index(AMOUNT)]:
                                f"{plan.columns[canonical.index(AMOUNT)]}{unit}"})
    formats = [PLAN_FORMATS.get(c) for c in canonical]
    widths = _plan_widths(plan)
    wrapping = [i for i, (column, width) in enumerate(zip(plan.columns, widths, strict=True))
                if width >= MAX_WIDTH and not pd.api.types.is_numeric_dtype(plan[column])]
    keys = 2 if canonical[:2] == [ID, NAME] else 1 if canonical[:1] == [ID] else 0
    total: list[Any] = [None] * len(canonical)
    total[0] = label("total", lang)
    if result.is_ok:
        total[canonical.index(AMOUNT)] = float(result.committed)
        total[canonical.index(SHARE_OF_BUDGET)] = float(result.committed) / policy.budget
    rows = [*_plan_rows(plan, formats), (total, formats, True)]
    add_sheet(book, label("sheet.plan", lang), rows, widths, lang, wrapping=wrapping,
              key_columns=keys)


def add_input_sheet(book: Any, table: Table, policy: Policy, result: Result, lang: str
                    ) -> None:
    """The appendix: every input column of every row with its commitment (the plan as
    the CSV has it)."""
    plan = plan_display(table, policy, result, lang)
    canonical = plan.attrs["canonical"]
    formats = [PLAN_FORMATS.get(c) for c in canonical]
    widths = _plan_widths(plan)
    # Only text columns cut at the widest width can hold a text to wrap.
    wrapping = [i for i, (column, width) in enumerate(zip(plan.columns, widths, strict=True))
                if width >= MAX_WIDTH and not pd.api.types.is_numeric_dtype(plan[column])]
    keys = 2 if canonical[:2] == [ID, NAME] else 1 if canonical[:1] == [ID] else 0
    add_sheet(book, say("xlsx.sheet.inputs", lang), _plan_rows(plan, formats), widths, lang,
              wrapping=wrapping, key_columns=keys)


def add_review_sheets(book: Any, table: Table, policy: Policy, result: Result, lang: str
                      ) -> None:
    """The region × category pivot with its bar charts and the district summary (when
    there is a plan: a result without one gets no empty charts), then the audit."""
    if result.is_ok:
        pivot = pivot_rows(table, policy, result, lang)
        sheet = add_sheet(book, label("sheet.pivot", lang), pivot, row_widths(pivot), lang,
                          charts=True)
        add_pivot_charts(sheet, len(pivot) - 2, len(pivot[0][0]) - 2, policy.unit, lang)
    for key, rows in (("sheet.districts", district_rows(table, policy, result, lang)
                       if result.is_ok else []),
                      ("sheet.audit", audit_rows(result, lang, policy.unit))):
        if len(rows) > 1:  # a header alone is no sheet
            add_sheet(book, label(key, lang), rows, row_widths(rows), lang)


def add_sheet(book: Any, title: str, rows: Iterable[Row], widths: list[float], lang: str,
              title_rows: int = 1, charts: bool = False,
              wrapping: Sequence[int] | None = None, key_columns: int = 0,
              numbers_left: bool = False) -> Any:
    """Append a write-only sheet of ``rows`` and return it (charts are added to it).

    The header is bold and frozen, numbers carry their formats, text is kept as text
    (never a formula or an Excel error value such as ``#N/A``), text longer than its
    column wraps, and the page setup of ``reports.workbook.printing`` makes it print (the top
    ``title_rows`` repeat on every page; ``charts``: the sheet will carry charts).
    ``wrapping`` lists the only columns whose text may be longer than the column (None:
    any), which spares a long plan the measuring of every cell. ``key_columns`` leading
    columns name a row (id, name): repeated on every page of a sheet too wide for one.
    ``numbers_left``: numbers sit at the left of their cell, beside their label (a
    cover's key figures in a column of long paths).
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    # One page across when the widest columns can wrap to make it (a chart sheet must:
    # else each chart page would print once per page across); else pages across.
    narrowed = fit_width(widths)
    if charts or sum(narrowed) < sum(widths) and fits_across(narrowed):
        if wrapping is not None:
            wrapping = sorted({*wrapping, *(i for i, (a, b) in enumerate(
                zip(narrowed, widths, strict=True)) if a < b)})
        widths = narrowed
    if title_rows:
        sheet.freeze_panes = f"A{title_rows + 1}"  # before the first row is streamed
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold, left = Font(bold=True), Alignment(horizontal="left")
    # A streamed row is written out inside append(), so one styled cell per column and
    # style can be reused for every row instead of building a cell object per value.
    cells: dict[tuple[int, str | None, bool, bool, bool], Any] = {}

    def styled(column: int, value: Any, fmt: str | None, is_header: bool,
               wrapped: bool = False, right: bool = False) -> Any:
        key = (column, fmt, is_header, wrapped, right)
        if key not in cells:
            cells[key] = cell = WriteOnlyCell(sheet)
            if fmt is not None:
                # "_)": a right-aligned number keeps a small gap before the next column's
                # text (never "4.00是" on paper)
                cell.number_format = fmt if is_header or fmt == "@" else fmt + "_)"
            if is_header:
                cell.font = bold
            if wrapped or right:
                cell.alignment = Alignment(wrap_text=wrapped or None,
                                           vertical="top" if wrapped else None,
                                           horizontal="right" if right else None)
            elif numbers_left and not isinstance(value, str):
                cell.alignment = left
        cell = cells[key]
        cell.value = value
        if isinstance(value, str):
            # openpyxl reads "=…" as a formula and "#N/A" as an error value: keep text
            cell.data_type = "s"
        return cell

    checked = range(len(widths)) if wrapping is None else wrapping
    count = 0
    for (values, formats, is_header), below in _with_next(rows):
        # a header over numbers sits at the right, as the numbers do (SPEC §12)
        right = _number_columns(below) if is_header and not numbers_left else set()
        row = []
        lines = max((_lines_needed(values[i], widths[i], is_header) for i in checked
                     if i < len(values) and isinstance(values[i], str)), default=1)
        wrapped = lines > 1  # then every cell of the row wraps and sits at the top
        for column, (value, fmt) in enumerate(zip(values, formats, strict=True)):
            value = _plain(value)
            if isinstance(value, str):
                plain = not (is_header or wrapped or value.startswith("=")
                             or value in ERROR_CODES)
                row.append(value if plain else styled(column, value, None, is_header,
                                                      wrapped, column in right))
            elif value is None or (fmt is None and not is_header and not wrapped):
                row.append(value)
            else:
                row.append(styled(column, value, None if isinstance(value, bool) else fmt,
                                  is_header, wrapped))
        count += 1
        if wrapped:  # Excel and LibreOffice keep a streamed row one line tall otherwise
            sheet.row_dimensions[count].height = _row_points(values, widths, lines)
        sheet.append(row)
    page_setup(sheet, widths, count, lang, title_rows, charts, key_columns)
    return sheet


def _with_next(rows: Iterable[Row]) -> Iterator[tuple[Row, Row | None]]:
    """Each row with the row below it (None after the last)."""
    items = iter(rows)
    current = next(items, None)
    for below in items:
        assert current is not None
        yield current, below
        current = below
    if current is not None:
        yield current, None


def _number_columns(row: Row | None) -> set[int]:
    """The columns of ``row`` that hold numbers (not booleans)."""
    if row is None or row[2]:
        return set()
    return {i for i, value in enumerate(row[0])
            if isinstance(value, int | float | np.number) and not isinstance(value, bool)}


def _plain(value: Any) -> Any:
    """A value openpyxl can store: None for blanks and NaN, text without XML-illegal
    characters, infinities as text."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
    if isinstance(value, str) and ILLEGAL.search(value):
        return ILLEGAL.sub("", value)
    return value


def _plan_rows(plan: pd.DataFrame, formats: list[str | None]) -> Iterator[Row]:
    yield [str(c) for c in plan.columns], [None] * len(formats), True
    for values in plan.itertuples(index=False, name=None):
        yield list(values), formats, False


def _lines_needed(text: str, width: float, bold: bool = False) -> int:
    """Lines a wrapped text takes in a column ``width`` units wide: words laid out one
    after the other as the spreadsheet breaks them (Latin text between words, CJK text
    between any two characters), each character at its printed width."""
    if "\n" not in text and (2 * len(text) <= width - 2 or _text_width(text) <= width - 2):
        return 1  # the first test spares the layout for most cells of a long plan
    room = max(1.0, POINTS_PER_UNIT * width - CELL_PADDING) / (1.08 if bold else 1.0)
    total = 0
    for part in text.split("\n"):
        lines, used = 1, 0.0
        for token in WRAP_TOKEN.findall(part):
            size = sum(_char_points(c) for c in token)
            if token.isspace() or used + size <= room:
                used += size
            elif size <= room:
                lines, used = lines + 1, size
            else:  # a word longer than the line breaks anywhere
                for c in token:
                    if used + _char_points(c) > room:
                        lines, used = lines + 1, 0.0
                    used += _char_points(c)
        total += lines
    return total


def _char_points(c: str) -> float:
    """The printed width of one character of 11-point text (see POINTS_PER_UNIT)."""
    if WIDE.match(c):
        return 9.9
    if c.isdigit():
        return 5.6
    if c in "mwMW%":
        return 8.6
    return 6.6 if c.isupper() else 2.5 if c == " " else 5.3


def _row_points(values: list[Any], widths: list[float], lines: int) -> float:
    """The height of a row whose tallest cell takes ``lines`` lines: 13.5 points a line,
    2.5 more for each line that may hold CJK text (each run of it, and each line a long
    run fills)."""
    tall = 0
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and WIDE.search(value):
            runs = re.findall(f"[{_WIDE_CLASS}]+", value)
            room = max(1.0, POINTS_PER_UNIT * width - CELL_PADDING)
            tall = max(tall, len(runs) + int(sum(len(r) for r in runs) * 9.9 // room))
    return LINE_POINTS * lines + (CJK_LINE_POINTS - LINE_POINTS) * min(tall, lines) \
        + ROW_PADDING


def _text_width(text: str) -> float:
    return len(text) + len(WIDE.findall(text))


UNBROKEN = re.compile(r"[(（][^)）]*[)）]|[A-Za-z0-9_.%-]+|\S")


def wrapped_header_widths(headers: Sequence[str], lines: int = 2) -> list[float]:
    """Column widths that hold each header in ``lines`` lines at most, never narrower than
    its longest word (a header is never broken inside a word: "committed")."""
    widths = []
    for header in map(str, headers):
        # what a line may not break: a word, a unit in brackets; CJK breaks anywhere
        sizes = [(_text_width(p), p.isascii()) for p in UNBROKEN.findall(header)] or [(0, True)]
        width = max(max(n for n, _ in sizes), math.ceil(_text_width(header) / lines))
        while _lines_of(sizes, width) > lines:
            width += 1
        widths.append(_fit(width + 1))
    return widths


def _lines_of(sizes: list[tuple[float, bool]], width: float) -> int:
    """Lines a header's pieces fill at ``width``, one after another (a space before a
    Latin piece)."""
    count, used = 1, 0.0
    for size, latin in sizes:
        gap = 1 if used and latin else 0
        if used + gap + size > width:
            count, used = count + 1, size
        else:
            used += gap + size
    return count


def _fit(width: float, cap: float = MAX_WIDTH) -> float:
    return min(cap, max(MIN_WIDTH, width + 2))


def _plan_widths(plan: pd.DataFrame) -> list[float]:
    """Column widths from content, computed per column without touching each cell."""
    widths = []
    for column, canonical in zip(plan.columns, plan.attrs["canonical"], strict=True):
        values = plan[column]
        fmt = PLAN_FORMATS.get(str(canonical))
        if pd.api.types.is_bool_dtype(values):
            content = 5.0
        elif pd.api.types.is_numeric_dtype(values):
            finite = values.to_numpy(dtype=float)
            finite = finite[np.isfinite(finite)]
            top = float(np.abs(finite).max()) if finite.size else 0.0
            shown = {SHARE_FMT: "100.0%", AMOUNT_FMT: f"-{top:,.2f}"}.get(fmt or "",
                                                                         f"-{top:.6g}")
            content = float(len(shown))
        else:
            text = values.astype("string").fillna("")
            wide = text.str.count(WIDE.pattern)
            content = float((text.str.len() + wide).max()) if len(text) else 0.0
        widths.append(_fit(max(content, _text_width(str(column)))))
    return widths


def row_widths(rows: list[Row], cap: float = MAX_WIDTH) -> list[float]:
    """Column widths of a small sheet from the text of every cell, at most ``cap``."""
    columns = max((len(values) for values, _, _ in rows), default=0)
    widths = [0.0] * columns
    for values, formats, _ in rows:
        if len(values) == 1:
            # a sentence (warning, diagnosis) or a title: wraps in a column this wide
            text = "" if values[0] is None else str(values[0])
            widths[0] = max(widths[0], min(_text_width(text), SENTENCE_WIDTH))
            continue
        for i, (value, fmt) in enumerate(zip(values, formats, strict=True)):
            if isinstance(value, float) and fmt == NUMBER_FMT:   # up to 4 decimals shown
                text = f"{value:,.4f}".rstrip("0") + "0" if math.isfinite(value) else ""
            elif isinstance(value, float) and fmt in (AMOUNT_FMT, None):
                text = f"{value:,.2f}" if math.isfinite(value) else ""
            elif isinstance(value, float):
                text = "100.0%"
            else:
                text = "" if value is None else str(value)
            widths[i] = max(widths[i], _text_width(text))
    return [_fit(w, cap) for w in widths]


def _pairs(pairs: Iterable[tuple[str, Any, str | None]]) -> list[Row]:
    return [([name, value], [None, fmt], False) for name, value, fmt in pairs]


def _summary_rows(table: Table, policy: Policy, result: Result, lang: str,
                  notes: Sequence[DataWarning] = ()) -> list[Row]:
    figures = key_figures(table, policy, result)
    figures["status"] = status_text(figures["status"], lang)
    if not result.is_ok:
        for key in ("objective", "committed", "committed_share", "funded_count"):
            figures[key] = None
    rows: list[Row] = [([label("field", lang), label("value", lang)], [None, None], True)]
    rows += _pairs((label(k, lang), v, FIGURE_FORMATS.get(k)) for k, v in figures.items())
    for by in GROUP_COLUMNS:
        if by not in table.frame.columns or not result.is_ok:
            continue
        totals = group_totals(table, policy, result, by)
        rows.append(([], [], False))
        rows.append(([label(k, lang) for k in (by, "amount", "share", "count")],
                     [None] * 4, True))
        rows += [([_group_name(value, lang), amount, share, int(count)],
                  [None, AMOUNT_FMT, SHARE_FMT, COUNT_FMT], False)
                 for value, amount, share, count in totals.itertuples(index=False)]
    texts = [(label("warnings", lang), [n.message(lang) for n in notes]
              + [warning_line(w, lang) for w in result.warnings])]
    if any(c.penalty is not None for c in result.constraints):
        from fundopt.reports.targets import target_lines  # only policies with targets

        texts.append(("label.targets", target_lines(result, lang)))
    if result.diagnosis is not None:
        diagnosis = result.diagnosis
        texts += [(say("diagnosis.heading.relaxation", lang),
                   [relaxation_text(r, lang) for r in diagnosis.relaxation]),
                  (say("diagnosis.heading.conflict", lang), conflict_lines(diagnosis, lang)),
                  (say("diagnosis.heading.reasons", lang),
                   [reason_text(m, lang, diagnosis.captions) for m in diagnosis.messages])]
    for heading, lines in texts:
        if lines:
            rows.append(([], [], False))
            rows.append(([heading], [None], True))
            rows += [([line], [None], False) for line in lines]
    return rows


def _group_name(value: Any, lang: str) -> str:
    text = "" if value is None or value is pd.NA else str(value)
    return text or label("blank", lang)


def _constraint_rows(result: Result, lang: str, unit: str = "") -> list[Row]:
    """One row per policy line; the shadow price with its unit in words."""
    keys = ("constraint", "constraint_id", "measure", "value", "min", "max", "slack",
            "binding", "bound", "shadow_price")
    rows: list[Row] = [([label(k, lang) for k in keys], [None] * len(keys), True)]
    for c in result.constraints:
        fmt = MEASURE_FORMATS.get(c.measure, NUMBER_FMT)
        slack = c.slack if math.isfinite(c.slack) else None
        bound = label(c.bound, lang) if c.bound in ("min", "max") else c.bound
        limit = c.max if c.bound == "max" else c.min
        price = numbers.price_text(c.shadow_price, c.measure, unit, lang, limit,
                                   c.price_range_low, c.price_range_high)
        rows.append(([shown(c, lang), c.id, measure_name(c.measure, lang),
                      c.value, c.min, c.max, slack, bool_text(c.binding, lang), bound, price],
                     [None, None, None, fmt, fmt, fmt, fmt, None, None, None], False))
    return rows


def _manifest_rows(table: Table, policy: Policy, result: Result, lang: str) -> list[Row]:
    manifest = manifest_dict(table, policy, result)
    header: Row = ([label("field", lang), label("value", lang)], [None, None], True)
    return [header, *_pairs((label(f"manifest.{k}", lang), v, None)
                            for k, v in manifest.items())]
