"""The human-readable summary of a solve, as rich tables on a console.

This is the only place the reports print, and it prints only to the console it is given.
Data values (ids, names, regions …) are shown as plain text, never as rich markup.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.models.domain import CATEGORY, DISTRICT, ID, NAME, REGION, Policy, Table
from fundopt.models.inputs import Inputs
from fundopt.optimizer.build import Built
from fundopt.optimizer.result import ConstraintValue, Result, SolveStatus
from fundopt.reports.frames import (
    AMOUNT,
    GROUP_COLUMNS,
    STAKE,
    funded_rows,
    group_totals,
    key_figures,
)
from fundopt.reports.labels import (
    constraint_name,
    label,
    relaxation_text,
    status_text,
    warning_text,
)

DASH = "—"
FUNDED_COLUMNS = (ID, NAME, REGION, DISTRICT, CATEGORY, AMOUNT, STAKE)


def amount_text(value: float | None, unit: str) -> str:
    """``1234.5`` → ``1,234.50 亿元``."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:,.2f} {unit}"


def share_text(value: float | None) -> str:
    """``0.451`` → ``45.1%``."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.1%}"


def measure_text(value: float | None, measure: str, unit: str) -> str:
    """A constraint value or bound in the units of its measure."""
    if value is None or not math.isfinite(value):
        return DASH
    if measure == "share":
        return share_text(value)
    if measure == "amount":
        return amount_text(value, unit)
    if measure == "count":
        return f"{value:.0f}"
    return f"{value:,.4g}"


def render_summary(console: Console, table: Table, policy: Policy, result: Result, lang: str,
                   max_rows: int = 50) -> None:
    """Print the summary of a solve (SPEC §5) to ``console``.

    Parameters
    ----------
    console
        Where to print.
    table, policy, result
        What was solved and its outcome.
    lang
        ``"en"`` or ``"zh"``.
    max_rows
        At most this many funded sub-funds are listed; the output files have them all.
    """
    # imported here: terminal_findings builds on this module's table helpers
    from fundopt.reports.terminal_findings import render_findings, render_relaxed

    console.print(_status_line(result, lang))
    render_relaxed(console, result, lang)
    if result.is_ok:
        console.print(_figures(table, policy, result, lang))
        for by in GROUP_COLUMNS:
            if by in table.frame.columns:
                console.print(_totals(table, policy, result, by, lang))
        console.print(_binding(result.constraints, policy.unit, lang))
        console.print(_funded(table, policy, result, lang, max_rows))
    if result.warnings:
        console.print(_lines(label("warnings", lang),
                             [warning_text(w, lang) for w in result.warnings]))
    if result.diagnosis is not None:
        _print_diagnosis(console, result, lang)
    render_findings(console, result, policy.unit, lang)


def render_phases(console: Console, phases: dict[str, float], lang: str) -> None:
    """Print the seconds spent in each phase of one run (``--profile``)."""
    grid = _grid(label("phases", lang), [label("phase", lang), label("seconds", lang)], {1})
    for phase, seconds in phases.items():
        grid.add_row(Text(label(f"phase.{phase}", lang)), f"{seconds:.3f}")
    console.print(grid)


def render_check(console: Console, inputs: Inputs, built: Built, lang: str) -> None:
    """Print what ``fundopt check`` found: sizes, the expanded constraints, warnings."""
    model = built.model
    console.print(Text(label("check.ok", lang), style="bold green"))
    grid = _grid(label("key_figures", lang), ["", ""], {1})
    grid.show_header = False
    size = label("check.model_size", lang).format(
        cols=len(model.cost), ints=int(model.integer.sum()), rows=model.num_rows)
    for key, text in (("check.rows", str(len(inputs.table.frame))),
                      ("budget", amount_text(inputs.policy.budget, inputs.policy.unit)),
                      ("check.constraints", str(len(inputs.constraints))),
                      ("check.model", size)):
        grid.add_row(Text(label(key, lang)), Text(text))
    console.print(grid)
    rules = _grid(label("check.constraints", lang),
                  [label("constraint", lang), label("measure", lang), label("min", lang),
                   label("max", lang)], {2, 3})
    for c in inputs.constraints:
        measure = str(c.measure) + (f"({c.column})" if c.column else "")
        rules.add_row(Text(c.label), measure,
                      measure_text(c.min, str(c.measure), inputs.policy.unit),
                      measure_text(c.max, str(c.measure), inputs.policy.unit))
    console.print(rules)
    if built.warnings:
        console.print(_lines(label("warnings", lang),
                             [warning_text(w, lang) for w in built.warnings]))


def _status_line(result: Result, lang: str) -> Text:
    line = Text(f"{label('status', lang)}: ")
    style = "green" if result.status is SolveStatus.OPTIMAL else (
        "yellow" if result.is_ok else "red")
    line.append(status_text(result.status, lang), style=f"bold {style}")
    if result.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION):
        note = label("status.time_limit", lang)
        if result.gap is not None and math.isfinite(result.gap):
            note += f", {label('gap', lang)} {result.gap:.2%}"
        line.append(f" — {note}")
    return line


def _grid(title: str, headers: list[str], right: set[int]) -> RichTable:
    heading = Text(title)
    # A table narrower than its title would wrap the title: make room for it.
    grid = RichTable(title=heading, title_justify="left", show_header=bool(headers),
                     min_width=heading.cell_len + 4)
    for i, header in enumerate(headers):
        grid.add_column(Text(header), justify="right" if i in right else "left")
    return grid


def _figures(table: Table, policy: Policy, result: Result, lang: str) -> RichTable:
    figures = key_figures(table, policy, result)
    unit = policy.unit
    grid = _grid(label("key_figures", lang), ["", ""], {1})
    grid.show_header = False
    objective = figures["objective"]
    rows = [
        ("objective", DASH if objective is None else f"{objective:,.6g}"),
        ("committed", f"{amount_text(figures['committed'], unit)} / "
                      f"{label('budget', lang)} {amount_text(figures['budget'], unit)} "
                      f"({share_text(figures['committed_share'])})"),
        ("funded_count", f"{figures['funded_count']} / {figures['candidates']}"),
        ("solver", f"{figures['solver']}, {figures['seconds']:.2f} s"),
    ]
    for key, text in rows:
        grid.add_row(Text(label(key, lang)), Text(text))
    return grid


def _totals(table: Table, policy: Policy, result: Result, by: str, lang: str) -> RichTable:
    totals = group_totals(table, policy, result, by)
    grid = _grid(label("totals_by", lang).format(group=label(by, lang)),
                 [label(k, lang) for k in (by, "amount", "share", "count")], {1, 2, 3})
    for value, amount, share, count in totals.itertuples(index=False):
        name = "" if value is None or value is pd.NA else str(value)
        grid.add_row(Text(name or label("blank", lang)), Text(amount_text(amount, policy.unit)),
                     Text(share_text(share)), Text(str(int(count))))
    return grid


def _binding(constraints: tuple[ConstraintValue, ...], unit: str, lang: str
             ) -> RichTable | Text:
    binding = [c for c in constraints if c.binding]
    if not binding:
        return Text(label("no_binding", lang))
    keys = ("constraint", "measure", "value", "min", "max", "shadow_price")
    grid = _grid(label("binding_constraints", lang), [label(k, lang) for k in keys],
                 {2, 3, 4, 5})
    for c in binding:
        grid.add_row(*(Text(t) for t in (
            constraint_name(c.label, lang), c.measure, measure_text(c.value, c.measure, unit),
            measure_text(c.min, c.measure, unit), measure_text(c.max, c.measure, unit),
            f"{c.shadow_price:,.4g}")))
    return grid


def _cell_text(value: Any, column: str, unit: str) -> str:
    if column == AMOUNT:
        return amount_text(float(value), unit)
    if column == STAKE:
        return share_text(float(value))
    return "" if value is None or value is pd.NA else str(value)


def _funded(table: Table, policy: Policy, result: Result, lang: str, max_rows: int
            ) -> RichTable:
    funded = funded_rows(table, policy, result)
    columns = [c for c in FUNDED_COLUMNS if c in funded.columns]
    grid = _grid(f"{label('funded_subfunds', lang)} ({len(funded)})",
                 [label(c, lang) for c in columns],
                 {i for i, c in enumerate(columns) if c in (AMOUNT, STAKE)})
    shown = funded.loc[:, columns].head(max_rows)
    for values in shown.itertuples(index=False, name=None):
        grid.add_row(*(Text(_cell_text(v, c, policy.unit))
                       for v, c in zip(values, columns, strict=True)))
    if len(funded) > max_rows:
        grid.caption = label("more_rows", lang).format(n=len(funded) - max_rows)
    return grid


def _lines(title: str, lines: list[str]) -> RichTable:
    grid = _grid(title, [], set())
    grid.add_column()
    for line in lines:
        grid.add_row(Text(line))
    return grid


def _print_diagnosis(console: Console, result: Result, lang: str) -> None:
    diagnosis = result.diagnosis
    assert diagnosis is not None
    if diagnosis.relaxation:
        console.print(_lines(label("relaxation", lang),
                             [relaxation_text(r, lang) for r in diagnosis.relaxation]))
    elif result.status is SolveStatus.INFEASIBLE and not diagnosis.messages:
        console.print(Text(label("no_relaxation", lang)))
    if diagnosis.conflict:
        console.print(_lines(label("conflict", lang),
                             [constraint_name(name, lang) for name in diagnosis.conflict]))
    if diagnosis.messages:
        console.print(_lines(label("messages", lang), list(diagnosis.messages)))
