"""The review workbook of ``fundopt stability``: a cover, the stability sheet (every row's
funded share, mean amount and group, with a bar chart of the funded shares) and the
nominal plan."""

from __future__ import annotations

from pathlib import Path

from fundopt.models.domain import Policy, Table
from fundopt.optimizer.stability import Stability
from fundopt.reports.files.atomic import save_book
from fundopt.reports.labels import label
from fundopt.reports.stability import display_frame, group_counts, stability_frame
from fundopt.reports.workbook import Row
from fundopt.reports.workbook.review import (
    AMOUNT_FMT,
    COUNT_FMT,
    NUMBER_FMT,
    SHARE_FMT,
    cover_rows,
    input_files,
    place_charts,
)
from fundopt.reports.workbook.solve import COVER_WIDTH, add_plan_sheet, add_sheet, row_widths

# A bar per row is readable up to a few hundred rows; beyond, the charts show the first.
CHART_ROWS = 200
# Bars per chart, and each bar's height: a chart fits one landscape page at the print
# scale, each bar tall enough for its id.
CHART_PAGE_ROWS, BAR_CM = 20, 0.6


def write_stability_xlsx(path: Path, table: Table, policy: Policy, run: Stability,
                         lang: str) -> None:
    """Write the stability workbook to ``path``."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    book = Workbook(write_only=True)
    percentiles = run.percentiles()
    counts = group_counts(run)
    figures = [(label("stability.draws", lang), run.draws, COUNT_FMT),
               (label("stability.seed", lang), run.seed, COUNT_FMT),
               (label("stability.solved", lang), run.solved, COUNT_FMT),
               (label("objective", lang) + " · " + label("robust.nominal_plan", lang),
                run.nominal.objective, NUMBER_FMT),
               *((label(f"objective.{k}", lang), v, NUMBER_FMT) for k, v in percentiles.items()),
               *((label(f"group.{g}", lang), c, COUNT_FMT) for g, c in counts.items())]
    cover = cover_rows(label("cover.title.stability", lang), figures,
                       input_files(table, policy), run.nominal.solver, lang)
    add_sheet(book, label("sheet.cover", lang), cover, row_widths(cover, COVER_WIDTH), lang,
              title_rows=0, numbers_left=True)
    frame = display_frame(table, policy, run, lang)
    kinds = {"funded_share": SHARE_FMT, "mean_amount": AMOUNT_FMT,
             "nominal_amount": AMOUNT_FMT}
    canonical = [str(c) for c in stability_frame(table, run).columns]
    formats = [kinds.get(c) for c in canonical]
    rows: list[Row] = [(list(frame.columns), [None] * len(formats), True)]
    rows += [(list(values), formats, False)
             for values in frame.itertuples(index=False, name=None)]
    widths = [min(w, 40.0) for w in row_widths(rows)]
    sheet = add_sheet(book, label("sheet.stability", lang), rows, widths, lang, charts=True,
                      key_columns=2)
    # Below the table, after a page break, one chart per page of CHART_PAGE_ROWS bars:
    # every bar labelled with its id, in the table's order (top to bottom), no chart cut.
    shown = min(len(frame), CHART_ROWS)
    share_column = canonical.index("funded_share") + 1
    charts = []
    for first in range(0, shown, CHART_PAGE_ROWS):
        count = min(CHART_PAGE_ROWS, shown - first)
        chart = BarChart()
        chart.type, chart.title = "bar", label("chart.funded_share", lang)
        chart.legend = None
        chart.width, chart.height = 18, max(6.0, BAR_CM * count + 2.5)
        chart.x_axis.delete = chart.y_axis.delete = False
        chart.x_axis.scaling.orientation = "maxMin"   # the first row on top, as the table
        chart.x_axis.tickLblSkip = 1                  # every bar's id, none skipped
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0.0, 1.0
        chart.y_axis.number_format = "0%"
        chart.add_data(Reference(sheet, min_col=share_column, min_row=first + 2,
                                 max_row=first + count + 1), titles_from_data=False)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first + 2,
                                       max_row=first + count + 1))
        charts.append(chart)
    place_charts(sheet, charts, len(rows) + 2)
    add_plan_sheet(book, table, policy, run.nominal, lang)
    save_book(book, path)
