"""The compare and sweep results as rich tables on a console (the only printing here).

Scenario names, ids and reasons are data: shown literally (``reports.terminal.summary.literal``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.reports import numbers
from fundopt.reports.compare import compare_rows, plan_changes
from fundopt.reports.labels import is_fraction_key, key_text, label
from fundopt.reports.sweep import display_frame, sweep_frame
from fundopt.reports.terminal.summary import literal
from fundopt.reports.text import say

DASH = "—"

if TYPE_CHECKING:
    from fundopt.app.runs import CompareRun, SweepRun


def render_compare(console: Console, run: CompareRun, lang: str) -> None:
    """The side-by-side table (one column per scenario; on a console too narrow for that,
    one row per scenario in three tables: figures, amount by region, amount by category),
    each infeasible scenario's diagnosis, then each scenario's changes."""
    names = [label("baseline", lang) if p.name == "baseline" else p.name for p in run.scenarios]
    if FIELD_WIDTH + COLUMN_WIDTH * len(names) > console.width:
        _compare_rows(console, run, names, lang)
    else:
        _compare_columns(console, run, names, lang)
    _changes(console, run, names, lang)


# Widths the side-by-side table needs: the row labels, then one column per scenario.
FIELD_WIDTH, COLUMN_WIDTH = 24, 12


def _compare_rows(console: Console, run: CompareRun, names: list[str], lang: str) -> None:
    rows = {r.key: r for r in compare_rows(run, lang)}
    unit = run.baseline[0].policy.unit if run.baseline[0].policy is not None else ""
    figures = ("status", "objective", "committed", "funded_count", "binding_constraints")
    kinds = {k: rows[k].kind for k in figures}
    heads = [label("scenario", lang), label("status", lang), label("objective", lang),
             f"{label('committed', lang)} ({unit})", label("short.funded", lang),
             label("binding_constraints", lang)]
    grid = RichTable(title=literal(label("sheet.compare", lang)))
    for i, head in enumerate(heads):
        grid.add_column(literal(head), justify="left" if i < 2 else "right", overflow="fold")
    for i, name in enumerate(names):
        values = [rows[k].values[i] for k in figures]
        binding = values[-1]
        values[-1] = len(binding.split("; ")) if binding and ";" in binding else binding
        grid.add_row(literal(name), *(literal(_cell(v, kinds[k]))
                                      for v, k in zip(values, figures, strict=True)))
    console.print(grid)
    for group in ("region", "category"):
        keys = [k for k in rows if k.startswith(f"amount.{group}.")]
        if not keys:
            continue
        table = RichTable(title=literal(f"{label(f'chart.by_{group}', lang)} ({unit})"))
        table.add_column(literal(label("scenario", lang)), overflow="fold")
        for key in keys:
            table.add_column(literal(key.split(".", 2)[2]), justify="right", overflow="fold")
        for i, name in enumerate(names):
            table.add_row(literal(name), *(literal(_cell(rows[k].values[i], "amount"))
                                           for k in keys))
        console.print(table)
    _diagnoses(console, names, rows["diagnosis"].values, lang)


def _diagnoses(console: Console, names: list[str], values: tuple[Any, ...], lang: str
               ) -> None:
    for name, text in zip(names, values, strict=True):
        if text:
            console.print(Text.assemble((f"{say('diagnosis.heading', lang)} · ", "bold red"),
                                        literal(name), ": ", literal(text)))


def _compare_columns(console: Console, run: CompareRun, names: list[str], lang: str) -> None:
    grid = RichTable(title=literal(label("sheet.compare", lang)), show_lines=False)
    grid.add_column(literal(label("field", lang)), overflow="fold")
    for name in names:
        grid.add_column(literal(name), justify="right", overflow="fold", max_width=36)
    diagnoses: tuple[Any, ...] = ()
    for row in compare_rows(run, lang):
        if row.key == "description":
            continue
        values = row.values
        if row.key == "binding_constraints":  # the names are in the files; count them here
            values = tuple(len(v.split("; ")) if v and ";" in v else v for v in values)
        if row.key == "diagnosis":  # sentences: below the table, one per scenario
            diagnoses = values
            continue
        grid.add_row(literal(row.text), *(literal(_cell(v, row.kind)) for v in values))
    console.print(grid)
    _diagnoses(console, names, diagnoses, lang)


def _changes(console: Console, run: CompareRun, names: list[str], lang: str) -> None:
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
    kinds = ["share" if is_fraction_key(run.param) else "written", "text", "objective",
             "amount", "count", "objective"]
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
        return numbers.limit_share_text(value)  # a swept fraction, as the policy writes it
    if kind == "written" and isinstance(value, float):
        return numbers.written_text(value)
    if kind == "objective" and isinstance(value, float):
        return numbers.objective_text(value)
    if kind == "amount" and isinstance(value, float):
        return f"{value:,.2f}"
    if kind == "number" and isinstance(value, float):  # an objective: two decimals
        return numbers.objective_text(value)
    return str(value)

