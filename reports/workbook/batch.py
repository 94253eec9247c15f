"""Review workbooks of ``fundopt compare`` and ``fundopt sweep``.

Both open with a cover sheet (封面); the comparison adds the side-by-side table with a
chart, the plan changes against the baseline, every scenario's plan, and the baseline's
pivot, district and audit sheets; the sweep adds the point table with the objective
curve as a native line chart and the amount of every sub-fund at every point.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fundopt.models.domain import CATEGORY, ID, NAME, REGION
from fundopt.reports.compare import compare_rows, plan_changes, status_of
from fundopt.reports.files.atomic import save_book
from fundopt.reports.labels import key_text, label, status_text
from fundopt.reports.sweep import display_frame
from fundopt.reports.text import say
from fundopt.reports.workbook import Row
from fundopt.reports.workbook.review import (
    AMOUNT_FMT,
    COUNT_FMT,
    NUMBER_FMT,
    SHARE_FMT,
    InputFile,
    cover_rows,
    grouped_bar,
    input_files,
    line_chart,
    place_charts,
)
from fundopt.reports.workbook.solve import (
    COVER_WIDTH,
    add_review_sheets,
    add_sheet,
    row_widths,
    wrapped_header_widths,
)

SWEEP_CAPS = {"added": 12.0, "dropped": 12.0, "reason": 60.0}
KIND_FORMATS: dict[str, str | None] = {"amount": AMOUNT_FMT, "share": SHARE_FMT,
                                       "count": COUNT_FMT, "number": NUMBER_FMT, "text": None}
SCENARIO_WIDTH = 22.0
SWEEP_FORMATS = {"param_value": NUMBER_FMT, "objective": NUMBER_FMT, "committed": AMOUNT_FMT,
                 "funded_count": COUNT_FMT, "marginal": NUMBER_FMT}

if TYPE_CHECKING:
    from fundopt.app.runs import CompareRun, SweepRun


def write_compare_xlsx(path: Path, run: CompareRun, lang: str) -> None:
    """Write the comparison workbook to ``path``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    base, base_result = run.baseline
    names = [label("baseline", lang) if p.name == "baseline" else p.name for p in run.scenarios]
    statuses = [status_of(p, r) for p, r in zip(run.scenarios, run.results, strict=True)]
    figures = [(label("cover.scenario_count", lang), len(run.scenarios), COUNT_FMT),
               (label("cover.infeasible_count", lang), statuses.count("infeasible"), COUNT_FMT),
               (label("cover.error_count", lang), statuses.count("input_error"), COUNT_FMT),
               (label("objective", lang) + " · " + names[0],
                base_result.objective if base_result is not None else None, NUMBER_FMT)]
    assert base.table is not None and base.policy is not None and base_result is not None
    files = [*input_files(base.table, base.policy),
             InputFile("cover.scenarios", str(run.scenario_file), run.scenario_sha256)]
    cover = cover_rows(label("cover.title.compare", lang), figures, files, base_result.solver,
                       lang)
    add_sheet(book, label("sheet.cover", lang), cover, row_widths(cover, COVER_WIDTH), lang,
              title_rows=0, numbers_left=True)
    _comparison_sheet(book, run, names, lang)
    changes = _change_rows(run, names, lang)
    add_sheet(book, label("sheet.changes", lang), changes, row_widths(changes), lang)
    plans = _plans_rows(run, names, lang)
    add_sheet(book, label("sheet.plans", lang), plans, row_widths(plans), lang, key_columns=2)
    add_review_sheets(book, base.table, base.policy, base_result, lang)
    save_book(book, path)


def _comparison_sheet(book: Any, run: CompareRun, names: list[str], lang: str) -> None:
    compare = compare_rows(run, lang)
    count = len(names)
    rows: list[Row] = [([label("field", lang), *names], [None] * (count + 1), True)]
    rows += [([r.text, *r.values], [None, *[KIND_FORMATS[r.kind]] * count], False)
             for r in compare]
    # The chart's block: committed amount by region (rows) per scenario (columns).
    regions = [r for r in compare if r.key.startswith(f"amount.{REGION}.")]
    first = len(rows) + 2
    rows += [([], [], False), ([label("region", lang), *names], [None] * (count + 1), True)]
    rows += [([r.key.split(".", 2)[2], *r.values],
              [None, *[AMOUNT_FMT] * count], False) for r in regions]
    # Scenario columns narrow enough that all fit one page across; long texts wrap.
    widths = row_widths(rows)
    widths = [min(widths[0], 30.0), *(min(w, SCENARIO_WIDTH) for w in widths[1:])]
    sheet = add_sheet(book, label("sheet.compare", lang), rows, widths, lang,
                      charts=bool(regions))
    if regions:
        unit = run.baseline[0].policy.unit if run.baseline[0].policy is not None else ""
        place_charts(sheet, [grouped_bar(sheet, label("chart.compare_region", lang), first,
                                         len(regions), count, unit)],
                     first + len(regions) + 2)


def _change_rows(run: CompareRun, names: list[str], lang: str) -> list[Row]:
    keys = ("scenario", "id", "name", "change", "baseline_amount", "scenario_amount", "delta")
    rows: list[Row] = [([label(k, lang) for k in keys], [None] * len(keys), True)]
    formats: list[str | None] = [None, None, None, None, AMOUNT_FMT, AMOUNT_FMT, AMOUNT_FMT]
    for i in range(1, len(run.scenarios)):
        changes = plan_changes(run, i)
        if changes.empty:
            result = run.results[i]
            ok = result is not None and result.is_ok
            status = status_of(run.scenarios[i], result)
            text = label("no_changes" if ok else f"status.{status}", lang)
            rows.append(([names[i], "", "", text, None, None, None], formats, False))
        for item in changes.itertuples(index=False):
            rows.append(([names[i], item[0], item[1], label(f"change.{item[2]}", lang),
                          item[3], item[4], item[5]], formats, False))
    return rows


def _plans_rows(run: CompareRun, names: list[str], lang: str) -> list[Row]:
    base = run.baseline[0]
    assert base.table is not None
    frame = base.table.frame
    heads = [label(k, lang) for k in ("id", "name", "region", "category")]
    unit = f" ({base.policy.unit})" if base.policy is not None else ""
    rows: list[Row] = [([*heads, *(n + unit for n in names)], [None] * (4 + len(names)), True)]
    amounts = np.column_stack([np.asarray(r.amounts, dtype=float) if r is not None and r.is_ok
                               else np.full(len(frame), np.nan) for r in run.results])
    formats: list[str | None] = [None] * 4 + [AMOUNT_FMT] * len(names)
    text = frame[[ID, NAME, REGION, CATEGORY]].astype(str).to_numpy()
    rows += [([*t, *a], formats, False) for t, a in zip(text.tolist(), amounts.tolist(),
                                                       strict=True)]
    return rows


def write_sweep_xlsx(path: Path, run: SweepRun, lang: str) -> None:
    """Write the sweep workbook to ``path``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    frame = display_frame(run, lang)
    feasible = [r for r in run.results if r.is_ok and r.objective is not None]
    best = max((r.objective for r in feasible if r.objective is not None), default=None)
    figures = [(label("cover.param", lang), key_text(run.param, lang), None),
               (label("cover.points", lang), len(run.values), COUNT_FMT),
               (label("cover.feasible_points", lang), len(feasible), COUNT_FMT),
               (label("cover.best", lang), best, NUMBER_FMT)]
    cover = cover_rows(label("cover.title.sweep", lang), figures,
                       input_files(run.table, run.policy), run.results[0].solver, lang)
    add_sheet(book, label("sheet.cover", lang), cover, row_widths(cover, COVER_WIDTH), lang,
              title_rows=0, numbers_left=True)
    canonical = ["param_value", "status", "objective", "committed", "funded_count", "marginal",
                 "funded_set_changed", "added", "dropped", "reason"]
    formats = [SWEEP_FORMATS.get(c) for c in canonical]
    rows: list[Row] = [(list(frame.columns), [None] * len(canonical), True)]
    rows += [(list(values), formats, False)
             for values in frame.itertuples(index=False, name=None)]
    # Widths from the values, a header wrapping over three lines at most; the reason of an
    # infeasible point is the longest text: the lists of ids give it room.
    body, heads = row_widths(rows[1:]), wrapped_header_widths(list(frame.columns), lines=3)
    widths = [min(max(b, h), SWEEP_CAPS.get(c, 40.0))
              for c, b, h in zip(canonical, body, heads, strict=True)]
    sheet = add_sheet(book, label("sheet.sweep", lang), rows, widths, lang,
                      charts=len(feasible) > 0)
    if feasible:  # no empty chart when no point has a plan
        param = key_text(run.param, lang)
        chart = line_chart(sheet, label("chart.objective_curve", lang).format(param=param), 1,
                           [3], len(run.values), param, label("objective", lang))
        if max(run.values) > min(run.values):   # the axis spans the sweep, first to last
            chart.x_axis.scaling.min = min(run.values)
            chart.x_axis.scaling.max = max(run.values)
        place_charts(sheet, [chart], len(rows) + 2)
    amounts = _amount_rows(run, lang)
    add_sheet(book, label("sheet.sweep_amounts", lang), amounts, row_widths(amounts), lang,
              key_columns=2)
    save_book(book, path)


def _amount_rows(run: SweepRun, lang: str) -> list[Row]:
    """Every sub-fund's amount at every point. A point with no plan is marked, never a
    blank column: its cells say its status (``infeasible`` / ``不可行``), and a run of
    such points in a row shares one column headed by its first and last value (200
    points with 150 infeasible print no pages of empty columns)."""
    frame = run.table.frame
    param = key_text(run.param, lang)
    heads = [label("id", lang), label("name", lang)]
    columns: list[tuple[np.ndarray | str, str | None]] = []
    results = list(zip(run.values, run.results, strict=True))
    k = 0
    while k < len(results):
        value, result = results[k]
        if result.is_ok:
            heads.append(f"{param} = {value:g}")
            columns.append((np.asarray(result.amounts, dtype=float), AMOUNT_FMT))
            k += 1
            continue
        last = k
        while last + 1 < len(results) and not results[last + 1][1].is_ok \
                and results[last + 1][1].status == result.status:
            last += 1
        word = status_text(result.status, lang)
        heads.append(f"{param} = {value:g}" if last == k else say(
            "sweep.points_run", lang, param=param, first=f"{value:g}",
            last=f"{results[last][0]:g}", count=last - k + 1))
        columns.append((word, "@"))
        k = last + 1
    rows: list[Row] = [(heads, [None] * len(heads), True)]
    formats: list[str | None] = [None, None, *(fmt for _, fmt in columns)]
    text = frame[[ID, NAME]].astype(str).to_numpy()
    for i, names in enumerate(text.tolist()):
        cells = [column if isinstance(column, str) else float(column[i])
                 for column, _ in columns]
        rows.append(([*names, *cells], formats, False))
    return rows
