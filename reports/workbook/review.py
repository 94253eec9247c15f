"""Sheets of the review workbook shared by solve, compare and sweep: the cover (封面), the
region × category pivot, the district summary and the constraint audit, plus native
Excel charts.

Rows use the workbook's row form (values, number formats, is-header) and are written by
``reports.workbook.solve``; chart helpers take the written worksheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import fundopt
from fundopt.models.domain import CATEGORY, DISTRICT, REGION, Caption, CaptionKind, Policy, Table
from fundopt.optimizer.result import ConstraintValue, Result
from fundopt.reports import numbers
from fundopt.reports.captions import shown
from fundopt.reports.labels import (
    bool_text,
    label,
    measure_name,
    number_text,
)
from fundopt.reports.text import say
from fundopt.reports.workbook import BLANK, Row
from fundopt.reports.workbook.printing import break_before, chart_rows

AMOUNT_FMT, SHARE_FMT, COUNT_FMT, NUMBER_FMT = "#,##0.00", "0.0%", "0", "#,##0.0###"
MEASURE_FORMATS = {"share": SHARE_FMT, "amount": AMOUNT_FMT, "count": COUNT_FMT,
                   "ratio": '0.00"×"'}


@dataclass(frozen=True)
class InputFile:
    """A file the run read, for the cover sheet."""

    role: str            # label key: "manifest.input", "manifest.policy", "cover.scenarios"
    path: str
    sha256: str | None


def input_files(table: Table, policy: Policy) -> list[InputFile]:
    """The table and its policy, with their SHA-256."""
    return [InputFile("manifest.input", str(table.path), table.sha256),
            InputFile("manifest.policy", policy.source, policy.sha256)]


def cover_rows(title: str, figures: Sequence[tuple[str, Any, str | None]],
               files: Sequence[InputFile], solver: str, lang: str,
               diagnosis: Sequence[tuple[str, Sequence[str]]] = (),
               notices: Sequence[tuple[str, Sequence[str]]] = ()) -> list[Row]:
    """The cover sheet: title, the diagnosis of a result without a plan (heading, lines),
    the notices the memo frames on its cover (a relaxed policy, a time limit, the book,
    data warnings: sentence, lines), key figures (label, value, format), input files,
    solver, date.

    ``figures`` labels, ``notices`` and ``diagnosis`` are already in ``lang``.
    """
    rows: list[Row] = [([title], [None], True), BLANK]
    if diagnosis:
        rows.append(([say("diagnosis.heading", lang), label("cover.note.infeasible", lang)],
                     [None, None], True))
        for heading, lines in diagnosis:
            rows += [([heading if i == 0 else "", line], [None, None], False)
                     for i, line in enumerate(lines)]
        rows.append(BLANK)
    for sentence, lines in notices:
        rows.append(([sentence], [None], True))
        rows += [([f"  {line}"], [None], False) for line in lines]
    if notices:
        rows.append(BLANK)
    rows.append(([label("key_figures", lang), label("value", lang)], [None, None], True))
    rows += [([name, value], [None, fmt], False) for name, value, fmt in figures]
    rows += [BLANK, ([label("cover.files", lang), label("cover.path", lang), "SHA-256"],
                     [None] * 3, True)]
    rows += [([label(f.role, lang), f.path, f.sha256 or "—"], [None] * 3, False) for f in files]
    rows += [BLANK,
             ([label("solver", lang), solver], [None, None], False),
             ([label("manifest.fundopt", lang), fundopt.__version__], [None, None], False),
             ([label("cover.date", lang), numbers.local_time_text()], [None, None], False)]
    return rows


def solve_figures(table: Table, policy: Policy, result: Result, lang: str
                  ) -> list[tuple[str, Any, str | None]]:
    """The headline numbers of one solve for the cover sheet."""
    unit = f" ({policy.unit})"
    ok = result.is_ok  # without a plan: no plan figures (blank, not zeros)
    from fundopt.reports.notices import status_words

    return [(label("status", lang), status_words(result, lang), None),
            (label("objective", lang), result.objective if ok else None, NUMBER_FMT),
            (label("budget", lang) + unit, policy.budget, AMOUNT_FMT),
            (label("committed", lang) + unit, result.committed if ok else None, AMOUNT_FMT),
            (label("committed_share", lang), result.committed / policy.budget if ok else None,
             SHARE_FMT),
            (label("funded_count", lang), int(np.count_nonzero(result.funded)) if ok else None,
             COUNT_FMT),
            (label("candidates", lang), len(table.frame), COUNT_FMT)]


def pivot_rows(table: Table, policy: Policy, result: Result, lang: str) -> list[Row]:
    """Committed amount by region (rows) × category (columns), with totals.

    The last row holds the category totals and the last column the region totals; the
    charts of :func:`add_pivot_charts` point at them.
    """
    frame = pd.DataFrame({REGION: table.frame[REGION].to_numpy(),
                          CATEGORY: table.frame[CATEGORY].to_numpy(),
                          "amount": np.asarray(result.amounts, dtype=float)})
    pivot = frame.pivot_table(index=REGION, columns=CATEGORY, values="amount", aggfunc="sum",
                              fill_value=0.0, sort=False)
    total = label("total", lang)
    head = f"{label('region', lang)} \\ {label('category', lang)} ({policy.unit})"
    columns = [str(c) for c in pivot.columns]
    rows: list[Row] = [([head, *columns, total], [None] * (len(columns) + 2), True)]
    formats: list[str | None] = [None, *[AMOUNT_FMT] * (len(columns) + 1)]
    for region, values in pivot.iterrows():
        amounts = [float(v) for v in values]
        rows.append(([str(region), *amounts, sum(amounts)], formats, False))
    sums = [float(v) for v in pivot.sum(axis=0)]
    rows.append(([total, *sums, sum(sums)], formats, True))
    return rows


def district_rows(table: Table, policy: Policy, result: Result, lang: str) -> list[Row]:
    """Funded count, candidates, amount and share per (region, district); [] without districts."""
    if DISTRICT not in table.frame.columns or not table.frame[DISTRICT].astype(str).str.len().any():
        return []
    frame = pd.DataFrame({REGION: table.frame[REGION].to_numpy(),
                          DISTRICT: table.frame[DISTRICT].to_numpy(),
                          "amount": np.asarray(result.amounts, dtype=float),
                          "count": np.asarray(result.funded, dtype=int), "candidates": 1})
    totals = frame.groupby([REGION, DISTRICT], sort=False).sum().reset_index()
    keys = ("region", "district", "count", "candidates", "amount", "share")
    heads = [label(k, lang) + (f" ({policy.unit})" if k == "amount" else "") for k in keys]
    rows: list[Row] = [(heads, [None] * len(keys), True)]
    formats = [None, None, COUNT_FMT, COUNT_FMT, AMOUNT_FMT, SHARE_FMT]
    rows += [([str(r), str(d) or label("blank", lang), int(c), int(n), float(a),
               float(a) / policy.budget], formats, False)
             for r, d, a, c, n in totals.itertuples(index=False)]
    return rows


def audit_rows(result: Result, lang: str, unit: str = "") -> list[Row]:
    """One row per bound of every policy line, as the planner wrote it.

    ``region.河北.min_share = 0.4`` with the constraint's label, its value in the plan,
    the limit, the slack to that limit, whether it binds and its shadow price with its unit
    in words (``+2.38 per percentage point``, ``unit``: the policy's amount unit); under
    ``--relax`` the relaxed limits the plan was solved with. Only a result with a plan
    has lines (an infeasible one is explained by its diagnosis).
    """
    keys = ("audit.line", "constraint", "measure", "value", "audit.limit", "slack",
            "binding", "shadow_price")
    rows: list[Row] = [([label(k, lang) for k in keys], [None] * len(keys), True)]
    for c in numbers.shown_binding(result.constraints):  # binding as shown
        fmt = MEASURE_FORMATS.get(c.measure, NUMBER_FMT)
        for i, (side, limit) in enumerate((("min", c.min), ("max", c.max))):
            if limit is None:
                continue
            literal = c.written[i]
            key = _named_key(c.keys[i], c.caption)
            written = f"{key} = {number_text(limit if literal is None else literal)}"
            moved = [r for r in result.relaxed if r.key == c.keys[i]]
            if moved:  # --relax: the line as written, then the limit the plan was held to
                written = (f"{key} = {number_text(moved[0].from_value)} → "
                           f"{number_text(moved[0].to_value)}")
            rows.append((_audit_values(written, c, limit, side, lang, unit),
                         [None, None, None, fmt, fmt, fmt, None, None], False))
    return rows


def _audit_values(written: str, value: ConstraintValue, limit: float, side: str, lang: str,
                  unit: str = "") -> list[Any]:
    slack = value.value - limit if side == "min" else limit - value.value
    slack = 0.0 if abs(slack) < 1e-9 * max(1.0, abs(limit)) else numbers.clean(slack)
    binding = value.binding and value.bound == side
    price = numbers.price_text(value.shadow_price if binding else 0.0, value.measure, unit,
                               lang, limit, value.price_range_low, value.price_range_high)
    name = shown(value, lang)
    if value.scope == "fund":  # measured over the book and this round: say so
        from fundopt.reports.text import say

        scope = say("memo.scope.fund", lang)
        name += f"（{scope}）" if lang == "zh" else f" ({scope})"
    return [written, name, measure_name(value.measure, lang),
            value.value, limit, slack, bool_text(binding, lang), price]


def _named_key(key: str, caption: Caption | None) -> str:
    """``constraints[1].max`` of a constraint the planner named ``risk cap`` →
    ``constraints.risk cap.max``: the path a scenario's ``set`` and a sweep's ``--param``
    use, and the name the planner knows it by."""
    head, dot, rest = key.partition("].")
    if not key.startswith("constraints[") or not dot:
        return key
    if caption is None or caption.kind is not CaptionKind.NAMED:
        return key         # an unnamed constraint: its key is the only name it has
    return f"constraints.{caption.subject}.{rest}"


def add_pivot_charts(sheet: Any, rows: int, columns: int, unit: str, lang: str) -> None:
    """Bar charts of the pivot sheet: allocation by region and by category, each on a
    page of its own below the table.

    ``rows`` and ``columns`` count the pivot's data rows (regions) and columns (categories).
    """
    from openpyxl.chart import Reference

    by_region = _bar(label("chart.by_region", lang), unit)
    by_region.add_data(Reference(sheet, min_col=columns + 2, min_row=1, max_row=rows + 1),
                       titles_from_data=True)
    by_region.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    by_category = _bar(label("chart.by_category", lang), unit)
    by_category.add_data(Reference(sheet, min_col=1, max_col=columns + 1, min_row=rows + 2),
                         from_rows=True, titles_from_data=True)
    by_category.set_categories(Reference(sheet, min_col=2, max_col=columns + 1, min_row=1))
    place_charts(sheet, [by_region, by_category], rows + 3)


def place_charts(sheet: Any, charts: Sequence[Any], first_row: int) -> None:
    """Anchor ``charts`` one below the other from ``first_row`` (column A), each after a
    manual page break so that it prints whole on a page of its own."""
    row = first_row
    for chart in charts:
        break_before(sheet, row)
        sheet.add_chart(chart, f"A{row}")
        row += chart_rows(chart.height) + 2


def _bar(title: str, unit: str) -> Any:
    from openpyxl.chart import BarChart

    chart = BarChart()
    chart.type, chart.title = "col", title
    chart.y_axis.title = unit
    chart.legend = None
    chart.width, chart.height = 18, 8
    # openpyxl >= 3.1 hides axes unless told otherwise; Excel and LibreOffice then draw none.
    chart.x_axis.delete = chart.y_axis.delete = False
    return chart


def line_chart(sheet: Any, title: str, x_column: int, y_columns: Sequence[int],
               rows: int, x_title: str, y_title: str) -> Any:
    """A line of columns ``y_columns`` against the numbers of ``x_column`` (rows 2 …
    rows + 1), to be placed by :func:`place_charts`.

    A scatter chart, not a category one: its x axis is a value axis whose ticks the
    spreadsheet spaces itself (a handful of round numbers at 12 points as at 200, never
    one rotated label per point over the next), from the first point to the last; a point
    with no value (an infeasible one) leaves a gap in its line.
    """
    from openpyxl.chart import Reference, ScatterChart, Series

    chart = ScatterChart()
    chart.title = title
    chart.style = 2
    chart.x_axis.title, chart.y_axis.title = x_title, y_title
    chart.width, chart.height = 20, 10
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.number_format = chart.y_axis.number_format = "#,##0.##"
    chart.x_axis.majorTickMark = chart.y_axis.majorTickMark = "out"
    xs = Reference(sheet, min_col=x_column, min_row=2, max_row=rows + 1)
    for column in y_columns:
        series = Series(Reference(sheet, min_col=column, min_row=1, max_row=rows + 1), xs,
                        title_from_data=True)
        # a marker per point while they stay apart; a plain line over many
        series.marker.symbol = "circle" if rows <= 50 else "none"
        series.marker.size = 4
        series.smooth = False
        chart.series.append(series)
    chart.legend = None if len(y_columns) == 1 else chart.legend
    return chart


def grouped_bar(sheet: Any, title: str, first_row: int, rows: int, columns: int,
                unit: str) -> Any:
    """A clustered bar chart of a block whose header row is ``first_row``: categories in
    column A below it, one series per column B…; placed by :func:`place_charts`."""
    from openpyxl.chart import Reference

    chart = _bar(title, unit)
    chart.legend = _legend()
    chart.add_data(Reference(sheet, min_col=2, max_col=columns + 1, min_row=first_row,
                             max_row=first_row + rows), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first_row + 1,
                                   max_row=first_row + rows))
    return chart


def _legend() -> Any:
    from openpyxl.chart.legend import Legend

    legend = Legend()
    legend.position = "b"
    return legend
