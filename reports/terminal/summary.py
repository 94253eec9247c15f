"""The human-readable summary of a solve, as rich tables on a console.

This is the only place the reports print, and it prints only to the console it is given.
Data values (ids, names, regions, scenario names …) are shown literally: never read as
rich markup (``[red]x[/red]``, ``[link=…]``), and control characters such as an ANSI
escape are shown as ``\x1b`` instead of being sent to the terminal. Tables fit 80 columns:
long names wrap inside their cell.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.models.checks import DataWarning
from fundopt.models.domain import CATEGORY, DISTRICT, ID, NAME, REGION, Caption, Policy, Table
from fundopt.models.reading.inputs import Inputs
from fundopt.optimizer.build import Built
from fundopt.optimizer.result import ConstraintValue, Result, SolveStatus
from fundopt.reports import numbers
from fundopt.reports.captions import family_name, family_of, measure_words, shown
from fundopt.reports.diagnosis_text import conflict_lines, reason_text, warning_line
from fundopt.reports.frames import (
    AMOUNT,
    GROUP_COLUMNS,
    STAKE,
    funded_rows,
    group_totals,
    key_figures,
)
from fundopt.reports.labels import (
    label,
    measure_name,
    relaxation_text,
    status_text,
)
from fundopt.reports.text import say

DASH = "—"
FUNDED_COLUMNS = (ID, NAME, REGION, DISTRICT, CATEGORY, AMOUNT, STAKE)
# From this many columns the funded list also shows the region (else the district says it).
WIDE_CONSOLE = 100
# Binding lines of one family (one "*" expansion or one shorthand group) from this many on
# are summed up on one line; the workbook and the JSON list each.
FAMILY_MIN = 3
# Control characters (C0 but the line feed, DEL, C1): shown escaped, never sent as is.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def literal(value: Any) -> Text:
    """Data as a rich ``Text`` shown exactly: no markup, control characters escaped."""
    text = "" if value is None or value is pd.NA else str(value)
    if isinstance(value, float) and math.isnan(value):
        text = DASH
    return Text(CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                            text))


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
    if measure == "ratio":                 # SPEC §11: a ratio reads as 5.3×
        return numbers.ratio_text(value)
    return numbers.plain_text(value)


def render_summary(console: Console, table: Table, policy: Policy, result: Result, lang: str,
                   max_rows: int = 50, notes: Sequence[DataWarning] = ()) -> None:
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
    notes
        Warnings about the data (similar spellings), shown with the solver's warnings.
    """
    # imported here: terminal.findings builds on this module's table helpers
    from fundopt.reports.terminal.findings import render_findings, render_relaxed

    console.print(_status_line(result, lang))
    if result.diagnosis is not None and not result.relaxed:
        console.print(_diagnosis_panel(result, lang))
    render_relaxed(console, result, lang)
    if result.is_ok:
        console.print(_figures(table, policy, result, lang))
        for by in GROUP_COLUMNS:
            if by in table.frame.columns:
                console.print(_totals(table, policy, result, by, lang))
        shown = numbers.shown_binding(result.constraints,
                                      numbers.step_decimals(policy.amount_step))
        for part in _binding(shown, policy.unit, lang):
            console.print(part)
        if any(c.penalty is not None for c in result.constraints):
            from fundopt.reports.targets import render_targets  # builds on labels

            render_targets(console, result, lang)
        console.print(_funded(table, policy, result, lang, max_rows, console.width))
    if result.book is not None:
        from fundopt.reports.book import render_book_totals  # it builds on this module

        render_book_totals(console, result, policy.unit, lang)
    render_notes(console, notes, lang, [warning_line(w, lang) for w in result.warnings])
    render_findings(console, result, policy.unit, lang)


def render_notes(console: Console, notes: Sequence[DataWarning], lang: str,
                 others: Sequence[str] = ()) -> None:
    """Print the warnings block: data that looks wrong, then any other warning lines."""
    lines = [n.message(lang) for n in notes] + list(others)
    if lines:
        console.print(lines_table(label("warnings", lang), lines, style="yellow"))


def render_phases(console: Console, phases: dict[str, float], lang: str) -> None:
    """Print the seconds spent in each phase of one run (``--profile``)."""
    grid = titled_table(label("phases", lang), [label("phase", lang), label("seconds", lang)], {1})
    for phase, seconds in phases.items():
        grid.add_row(Text(label(f"phase.{phase}", lang)), f"{seconds:.3f}")
    console.print(grid)


def render_check(console: Console, inputs: Inputs, built: Built, lang: str,
                 notes: Sequence[DataWarning] = ()) -> None:
    """Print what ``fundopt check`` found: sizes, the expanded constraints, warnings."""
    model = built.model
    console.print(Text(label("check.ok", lang), style="bold green"))
    grid = titled_table(label("key_figures", lang), ["", ""], {1})
    grid.show_header = False
    size = label("check.model_size", lang).format(
        cols=len(model.cost), ints=int(model.integer.sum()), rows=model.num_rows)
    for key, text in (("check.rows", str(len(inputs.table.frame))),
                      ("budget", amount_text(inputs.policy.budget, inputs.policy.unit)),
                      ("check.constraints", str(len(inputs.constraints))),
                      ("check.model", size)):
        grid.add_row(Text(label(key, lang)), literal(text))
    console.print(grid)
    rules = titled_table(label("check.constraints", lang),
                  [label("constraint", lang), label("measure", lang), label("min", lang),
                   label("max", lang)], {2, 3})
    for c in inputs.constraints:
        measure = measure_words(c.caption, lang) if c.caption is not None else \
            measure_name(str(c.measure), lang) + (f"({c.column})" if c.column else "")
        rules.add_row(literal(shown(c, lang)), literal(measure),
                      measure_text(c.min, str(c.measure), inputs.policy.unit),
                      measure_text(c.max, str(c.measure), inputs.policy.unit))
    console.print(rules)
    render_notes(console, notes, lang, [warning_line(w, lang) for w in built.warnings])


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


def titled_table(title: str, headers: list[str], right: set[int]) -> RichTable:
    """A table with ``title`` over it and ``headers`` (the columns in ``right``
    right-aligned: numbers); folded, never cut, in a narrow terminal."""
    heading = literal(title)
    # A table narrower than its title would wrap the title: make room for it.
    grid = RichTable(title=heading, title_justify="left", show_header=bool(headers),
                     min_width=min(heading.cell_len + 4, 80))
    for i, header in enumerate(headers):
        grid.add_column(literal(header), justify="right" if i in right else "left",
                        overflow="fold")
    return grid


def _figures(table: Table, policy: Policy, result: Result, lang: str) -> RichTable:
    figures = key_figures(table, policy, result)
    unit = policy.unit
    grid = titled_table(label("key_figures", lang), ["", ""], {1})
    grid.show_header = False
    objective = figures["objective"]
    rows = [
        ("objective", numbers.objective_text(objective)),
        ("committed", f"{amount_text(figures['committed'], unit)} / "
                      f"{label('budget', lang)} {amount_text(figures['budget'], unit)} "
                      f"({share_text(figures['committed_share'])})"),
        ("funded_count", f"{figures['funded_count']} / {figures['candidates']}"),
        ("solver", f"{figures['solver']}, {figures['seconds']:.2f} s"),
    ]
    for key, text in rows:
        grid.add_row(Text(label(key, lang)), literal(text))
    return grid


def _totals(table: Table, policy: Policy, result: Result, by: str, lang: str) -> RichTable:
    totals = group_totals(table, policy, result, by)
    grid = titled_table(label("totals_by", lang).format(group=label(by, lang)),
                 [label(k, lang) for k in (by, "amount", "share", "count")], {1, 2, 3})
    for value, amount, share, count in totals.itertuples(index=False):
        name = "" if value is None or value is pd.NA else str(value)
        grid.add_row(literal(name or label("blank", lang)),
                     Text(amount_text(amount, policy.unit)),
                     Text(share_text(share)), Text(str(int(count))))
    return grid


def _binding(constraints: tuple[ConstraintValue, ...], unit: str, lang: str
             ) -> list[RichTable | Text]:
    """The binding constraints: one line each, except that a family with many binding
    lines (the per-district counts of ``[district."*"]``) is summed up on one line."""
    binding = [c for c in constraints if c.binding]
    if not binding:
        return [Text(label("no_binding", lang))]
    families: dict[Caption | None, list[ConstraintValue]] = defaultdict(list)
    for c in binding:
        families[family_of(c.caption)].append(c)
    grouped = {family: members for family, members in families.items()
               if family is not None and len(members) >= FAMILY_MIN}
    keys = ("constraint", "value", "limit", "shadow_price")
    grid = titled_table(label("binding_constraints", lang), [label(k, lang) for k in keys],
                 {1, 2, 3})
    for c in binding:
        if family_of(c.caption) in grouped:
            continue
        limit = c.max if c.bound == "max" else c.min
        grid.add_row(literal(shown(c, lang)),
                     Text(measure_text(c.value, c.measure, unit)),
                     Text(limit_text(c, unit)),
                     Text(numbers.price_text(c.shadow_price, c.measure, unit, lang, limit,
                                             c.price_range_low, c.price_range_high)))
    lines: list[RichTable | Text] = [grid] if grid.row_count else []
    for members in grouped.values():
        sides = [sum(1 for c in members if c.bound == side) for side in ("min", "max")]
        detail = ", ".join(label(f"family.at_{side}", lang).format(n=n)
                           for side, n in zip(("min", "max"), sides, strict=True) if n)
        lines.append(literal(label("family.at_limit", lang).format(
            family=family_name(_caption(members[0]), lang), n=len(members), detail=detail)))
    return lines


def _caption(c: ConstraintValue) -> Caption:
    assert c.caption is not None      # a line of a family has one
    return c.caption


def limit_text(c: ConstraintValue, unit: str) -> str:
    """The bound a binding line sits at: ``≤ 40.00 亿元``, ``≥ 40.0%``."""
    if c.bound == "min" and c.min is not None:
        return "≥ " + measure_text(c.min, c.measure, unit)
    if c.bound == "max" and c.max is not None:
        return "≤ " + measure_text(c.max, c.measure, unit)
    limit = c.max if c.max is not None else c.min
    return measure_text(limit, c.measure, unit)


def _cell_text(value: Any, column: str) -> str:
    if column == AMOUNT:
        return f"{float(value):,.2f}"
    if column == STAKE:
        return share_text(float(value))
    return "" if value is None or value is pd.NA else str(value)


def _funded(table: Table, policy: Policy, result: Result, lang: str, max_rows: int,
            width: int) -> RichTable:
    funded = funded_rows(table, policy, result)
    columns = [c for c in FUNDED_COLUMNS if c in funded.columns
               and (c != REGION or DISTRICT not in funded.columns or width >= WIDE_CONSOLE)]
    heads = [label(c, lang) + (f" ({policy.unit})" if c == AMOUNT else "") for c in columns]
    grid = titled_table(f"{label('funded_subfunds', lang)} ({len(funded)})", heads,
                 {i for i, c in enumerate(columns) if c in (AMOUNT, STAKE)})
    for column, name in zip(grid.columns, columns, strict=True):
        column.no_wrap = name in (ID, DISTRICT, CATEGORY)  # one line each; names wrap
    shown = funded.loc[:, columns].head(max_rows)
    for values in shown.itertuples(index=False, name=None):
        grid.add_row(*(literal(_cell_text(v, c)) for v, c in zip(values, columns, strict=True)))
    if len(funded) > max_rows:
        grid.caption = label("more_rows", lang).format(n=len(funded) - max_rows)
    return grid


def lines_table(title: str, lines: list[str], style: str = "") -> RichTable:
    """Sentences under a title, one per row (warnings, an explanation)."""
    grid = titled_table(title, [], set())
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row(literal(line), style=style)
    return grid


def _diagnosis_panel(result: Result, lang: str) -> Panel:
    """What is wrong and how to fix it, framed, right under the status line: the plain
    reasons first (a must-fund conflict names its rows and totals), then the suggested
    relaxation and the conflicting set."""
    diagnosis = result.diagnosis
    assert diagnosis is not None
    captions = diagnosis.captions
    parts: list[Text | Padding] = [
        Text.assemble(literal(reason_text(m, lang, captions)), style="bold")
        for m in diagnosis.messages]
    reasons = [reason_text(m, lang, captions) for m in diagnosis.reasons]
    if not diagnosis.conflict_ids:      # nothing conflicts but the must rows: say why first
        parts += [Text.assemble(literal(line), style="bold") for line in reasons]
    if diagnosis.relaxation:
        parts.append(Text(say("diagnosis.heading.relaxation", lang) + ":", style="bold"))
        parts += [Padding(literal(relaxation_text(r, lang)), (0, 0, 0, 2))
                  for r in diagnosis.relaxation]
    elif result.status is SolveStatus.INFEASIBLE and not diagnosis.messages:
        parts.append(Text(say("diagnosis.no_relaxation", lang)))
    if diagnosis.conflict_ids and reasons:
        # each rule with its limit and what clashes, a "*" rule once with its values
        parts.append(Text(say("diagnosis.heading.conflict", lang) + ":", style="bold"))
        parts += [Padding(literal(line), (0, 0, 0, 2)) for line in reasons]
    elif diagnosis.conflict:
        parts.append(Text(say("diagnosis.heading.conflict", lang) + ":", style="bold"))
        parts += [Padding(literal(line), (0, 0, 0, 2))
                  for line in conflict_lines(diagnosis, lang)]
    return Panel(Group(*parts), title=Text(say("diagnosis.heading", lang)), title_align="left",
                 border_style="red", expand=False)
