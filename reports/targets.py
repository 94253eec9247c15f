"""Targets (力争, SPEC §11) in every output: each one met or missed, with its shortfall
(in the bound's unit; per 1.0 of a share) and its cost in objective (penalty × shortfall)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from fundopt.optimizer.result import Result, target_shortfall
from fundopt.reports.captions import name_text
from fundopt.reports.labels import number_text
from fundopt.reports.text import say


def target_rows(result: Result) -> list[dict[str, Any]]:
    """One record per target: name, id, met, shortfall, penalty, cost."""
    rows = []
    for c in result.constraints:
        if c.penalty is None:
            continue
        # no float noise: a shortfall is a difference of two written numbers
        short = float(f"{target_shortfall(c):.12g}") if result.is_ok else None
        rows.append({"name": c.label, "id": c.id, "met": None if short is None else short == 0,
                     "shortfall": short, "penalty": c.penalty,
                     "cost": None if short is None else float(f"{short * c.penalty:.12g}")})
    return rows


def target_lines(result: Result, lang: str) -> list[str]:
    """Each target as one sentence (the workbook's summary)."""
    captions = {c.id: c.caption for c in result.constraints}
    return [say("target.line", lang, name=name_text(r["name"], captions[r["id"]], lang),
                state=say("label.target_met" if r["met"] else "label.target_missed", lang),
                shortfall=number_text(r["shortfall"]), cost=number_text(r["cost"]))
            for r in target_rows(result) if r["met"] is not None]


def render_targets(console: Console, result: Result, lang: str) -> None:
    """The targets table of the terminal summary (nothing when the policy has none)."""
    rows = [r for r in target_rows(result) if r["met"] is not None]
    if not rows:
        return
    table = RichTable(title=say("label.targets", lang), title_justify="left")
    for key in ("label.targets", "label.shortfall", "label.penalty", "label.target_cost"):
        table.add_column(say(key, lang), justify="left" if key == "label.targets" else "right")
    captions = {c.id: c.caption for c in result.constraints}
    for r in rows:
        state = say("label.target_met" if r["met"] else "label.target_missed", lang)
        table.add_row(f"{name_text(r['name'], captions[r['id']], lang)} ({state})",
                      number_text(r["shortfall"]), number_text(r["penalty"]),
                      number_text(r["cost"]))
    console.print(table)
