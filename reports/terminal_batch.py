"""The compare and sweep results as rich tables on a console (the only printing here).

Scenario names, ids and reasons are data: shown literally (``reports.terminal.literal``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.reports.compare import CompareRun, compare_rows, plan_changes
from fundopt.reports.labels import key_text, label
from fundopt.reports.sweep import SweepRun, display_frame, sweep_frame
from fundopt.reports.terminal import literal

DASH = "—"


def render_compare(console: Console, run: CompareRun, lang: str) -> None:
    """The side-by-side table, then each scenario's changes against the baseline."""
    names = [label("baseline", lang) if p.name == "baseline" else p.name for p in run.scenarios]
    grid = RichTable(title=literal(label("sheet.compare", lang)), show_lines=False)
    grid.add_column(literal(label("field", lang)), overflow="fold")
    for name in names:
        grid.add_column(literal(name), justify="right", overflow="fold", max_width=36)
    diagnoses = []
    for row in compare_rows(run, lang):
        if row.key == "description":
            continue
        values = row.values
        if row.key == "binding_constraints":  # the names are in the files; count them here
            values = tuple(len(v.split("; ")) if v and ";" in v else v for v in values)
        if row.key == "diagnosis":  # sentences: below the table, one per scenario
            diagnoses = [(n, v) for n, v in zip(names, values, strict=True) if v]
            continue
        grid.add_row(literal(row.text), *(literal(_cell(v, row.kind)) for v in values))
    console.print(grid)
    for name, text in diagnoses:
        console.print(Text.assemble((f"{label('diagnosis', lang)} · ", "bold red"),
                                    literal(name), ": ", literal(text)))
    for i in range(1, len(run.scenarios)):
        changes = plan_changes(run, i)
        if changes.empty:
            continue
        table = RichTable(title=literal(f"{label('sheet.changes', lang)}: {names[i]}"))
        for key in ("id", "name", "change", "baseline_amount", "scenario_amount", "delta"):
            table.add_column(label(key, lang), justify="right" if "amount" in key
                             or key == "delta" else "left", overflow="fold")
        for item in changes.itertuples(index=False):
            table.add_row(literal(item[0]), literal(item[1]),
                          Text(label(f"change.{item[2]}", lang)),
                          *(Text(_cell(v, "amount")) for v in item[3:6]))
        console.print(table)


def render_sweep(console: Console, run: SweepRun, lang: str) -> None:
    """One line per point (value, status, objective, committed, funded count, marginal
    value), then one line per point where the funded set changed (+added −dropped) or
    that has no plan (its short reason), so the table fits 80 columns."""
    frame = display_frame(run, lang)
    canonical = sweep_frame(run)
    grid = RichTable(title=literal(f"{label('sheet.sweep', lang)}: {key_text(run.param, lang)}"))
    unit = f" ({run.policy.unit})"
    heads = [key_text(run.param, lang), label("status", lang), label("objective", lang),
             label("committed", lang) + unit, label("short.funded", lang),
             label("short.marginal", lang)]
    kinds = ["number", "text", "number", "amount", "count", "number"]
    for head, kind in zip(heads, kinds, strict=True):
        grid.add_column(literal(head), justify="left" if kind == "text" else "right",
                        overflow="fold")
    notes: list[Text] = []
    for shown, added, dropped in zip(frame.itertuples(index=False, name=None),
                                     canonical["added"], canonical["dropped"], strict=True):
        cells = [_cell(v, k) for v, k in zip(shown[:6], kinds, strict=True)]
        grid.add_row(*(literal(c) for c in cells))
        change = " ".join([*(f"+{i}" for i in added.split()),
                           *(f"−{i}" for i in dropped.split())])
        if shown[-1] or change:
            notes.append(Text.assemble(f"{cells[0]}: ", literal(shown[-1] or change)))
    console.print(grid)
    if notes:
        console.print(Text(f"{label('change', lang)} / {label('reason', lang)}",
                           style="bold"))
        for note in notes:
            console.print(note)


def _cell(value: Any, kind: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if kind == "share" and isinstance(value, float):
        return f"{value:.1%}"
    if kind == "amount" and isinstance(value, float):
        return f"{value:,.2f}"
    if kind == "number" and isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)

