"""Uncertain scores on the console: the robust plan against the nominal optimum
(``solve --robust``) and the stability table (``fundopt stability``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.models.domain import Policy, Table
from fundopt.optimizer.result import Result
from fundopt.optimizer.stability import Stability
from fundopt.reports.labels import label
from fundopt.reports.robust import (
    criterion_text,
    plan_differences,
    reviewer_totals,
    scenarios_text,
)
from fundopt.reports.stability import GROUPS, group_counts, stability_frame
from fundopt.reports.text import CATALOGS

DASH = "—"


def _number(value: Any) -> str:
    if value is None or not np.isfinite(float(value)):
        return DASH
    return f"{float(value):,.2f}"


def render_robust(console: Console, table: Table, policy: Policy, result: Result,
                  lang: str) -> None:
    """The criterion and nominal objective of the robust plan and of the nominal optimum,
    the price of robustness, each reviewer's total and the sub-funds that differ."""
    robust = result.robust
    if robust is None:
        return
    grid = RichTable(title=f"{label('robust', lang)}: {robust.criterion}")
    grid.add_column(label("field", lang))
    grid.add_column(label("robust.plan", lang), justify="right")
    grid.add_column(label("robust.nominal_plan", lang), justify="right")
    grid.add_row(Text(label("robust.criterion", lang)), Text(criterion_text(robust, lang)), "")
    grid.add_row(Text(label("robust.scenarios", lang)), Text(scenarios_text(robust, lang)), "")
    grid.add_row(Text(label("robust.value", lang)), _number(robust.value),
                 _number(robust.nominal_plan_value))
    grid.add_row(Text(label("robust.nominal_objective", lang)),
                 _number(robust.nominal_objective), _number(robust.nominal_optimum))
    for name, plan, nominal in reviewer_totals(policy, robust):
        grid.add_row(Text(label("robust.reviewer_total", lang).format(reviewer=name)),
                     _number(plan), _number(nominal))
    grid.add_row(Text(label("robust.price", lang)), _number(robust.price), "")
    console.print(grid)
    added, dropped = plan_differences(table, result)
    if not added and not dropped:
        console.print(Text(label("robust.same_plan", lang)))
    for key, ids in (("robust.added", added), ("robust.dropped", dropped)):
        if ids:
            console.print(Text(f"{label(key, lang)}: {' '.join(ids)}"))


def render_stability(console: Console, table: Table, policy: Policy, run: Stability,
                     lang: str, max_rows: int = 60) -> None:
    """Key figures, then the rows by group (core, contested, out), most often funded first;
    at most ``max_rows`` rows (the output files have every row)."""
    figures = RichTable(title=label("stability", lang), show_header=False)
    figures.add_column()
    figures.add_column(justify="right")
    figures.add_row(label("stability.draws", lang),
                    f"{run.draws} ({label('stability.seed', lang)} {run.seed})")
    figures.add_row(label("stability.solved", lang), str(run.solved))
    figures.add_row(label("objective", lang) + " · " + label("robust.nominal_plan", lang),
                    _number(run.nominal.objective))
    for key, value in run.percentiles().items():
        figures.add_row(label(f"objective.{key}", lang), _number(value))
    figures.add_row(label("group", lang),
                    label("stability.groups", lang).format(**group_counts(run)))
    engine = f"engine.{run.engine}"
    figures.add_row(label("stability.engine", lang),
                    label(engine, lang).format(workers=run.workers) if engine in CATALOGS["en"]
                    else f"{run.engine} × {run.workers}")
    console.print(figures)
    frame = stability_frame(table, run)
    frame["order"] = [GROUPS.index(g) for g in frame["group"]]
    frame = frame.sort_values(["order", "funded_share"], ascending=[True, False],
                              kind="stable")
    grid = RichTable(title=label("sheet.stability", lang))
    unit = f" ({policy.unit})"
    shown = frame.head(max_rows)
    # "in the nominal plan" is said by the nominal amount (0.00 when not); the files
    # have the column
    cells = [[str(row.id), str(row.name), label(f"group.{row.group}", lang),
              f"{row.funded_share:.1%}", _number(row.mean_amount), _number(row.nominal_amount)]
             for row in shown.itertuples(index=False)]
    for i, (key, right) in enumerate((("id", False), ("name", False), ("group", False),
                                      ("funded_share", True), ("mean_amount", True),
                                      ("nominal_amount", True))):
        head = label(key, lang) + (unit if "amount" in key else "")
        # ids and numbers never break across lines (TJ-B / H-01, 100 / .0%) in 80
        # columns: each is at least as wide as its widest cell; the name gives way and
        # wraps, and so do long headers
        widest = max((cell_len(row[i]) for row in cells), default=1)
        grid.add_column(head, justify="right" if right else "left", overflow="fold",
                        max_width=36, min_width=8 if key == "name" else widest)
    for row in cells:
        grid.add_row(*(Text(cell) for cell in row))
    console.print(grid)
    if len(frame) > max_rows:
        console.print(Text(label("more_rows", lang).format(n=len(frame) - max_rows)))


def render_funded_shares(console: Console, table: Table, ids: list[str], run: Stability,
                         lang: str) -> None:
    """``explain`` with ``[uncertainty]``: in how many score draws each sub-fund is funded."""
    position = {str(v): i for i, v in enumerate(table.frame["id"].astype(str))}
    groups = run.groups()
    for row_id in ids:
        i = position.get(str(row_id).strip())
        if i is None:
            continue
        text = label("explain.stability", lang).format(
            share=float(run.funded_share[i]), draws=run.solved,
            group=label(f"group.{groups[i]}", lang))
        console.print(Text(f"{row_id}: {text}"))
