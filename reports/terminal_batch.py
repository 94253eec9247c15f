"""The compare and sweep results as rich tables on a console (the only printing here)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.reports.compare import CompareRun, compare_rows, plan_changes
from fundopt.reports.labels import label
from fundopt.reports.sweep import SweepRun, display_frame

DASH = "—"


def render_compare(console: Console, run: CompareRun, lang: str) -> None:
    """The side-by-side table, then each scenario's changes against the baseline."""
    names = [label("baseline", lang) if p.name == "baseline" else p.name for p in run.scenarios]
    grid = RichTable(title=label("sheet.compare", lang), show_lines=False)
    grid.add_column(label("field", lang))
    for name in names:
        grid.add_column(name, justify="right", overflow="fold", max_width=36)
    for row in compare_rows(run, lang):
        if row.key == "description":
            continue
        values = row.values
        if row.key == "binding_constraints":  # the names are in the files; count them here
            values = tuple(len(v.split("; ")) if v and ";" in v else v for v in values)
        grid.add_row(Text(row.text), *(Text(_cell(v, row.kind)) for v in values))
    console.print(grid)
    for i in range(1, len(run.scenarios)):
        changes = plan_changes(run, i)
        if changes.empty:
            continue
        table = RichTable(title=f"{label('sheet.changes', lang)}: {names[i]}")
        for key in ("id", "name", "change", "baseline_amount", "scenario_amount", "delta"):
            table.add_column(label(key, lang), justify="right" if "amount" in key
                             or key == "delta" else "left")
        for item in changes.itertuples(index=False):
            table.add_row(Text(str(item[0])), Text(str(item[1])),
                          Text(label(f"change.{item[2]}", lang)),
                          *(Text(_cell(v, "amount")) for v in item[3:6]))
        console.print(table)


def render_sweep(console: Console, run: SweepRun, lang: str) -> None:
    """One line per point; infeasible points are shown, marked by their status."""
    frame = display_frame(run, lang)
    grid = RichTable(title=f"{label('sheet.sweep', lang)}: {run.param}")
    kinds = ["number", "text", "number", "amount", "count", "number", "text", "text", "text"]
    for column, kind in zip(frame.columns, kinds, strict=True):
        grid.add_column(str(column), justify="left" if kind == "text" else "right",
                        overflow="fold", max_width=40)
    for values in frame.itertuples(index=False, name=None):
        shown = list(values)
        shown[6] = "" if shown[6] is None else label("yes" if shown[6] else "no", lang)
        grid.add_row(*(Text(_cell(v, k)) for v, k in zip(shown, kinds, strict=True)))
    console.print(grid)


def _cell(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if kind == "share" and isinstance(value, float):
        return f"{value:.1%}"
    if kind == "amount" and isinstance(value, float):
        return f"{value:,.2f}"
    if kind == "number" and isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)
