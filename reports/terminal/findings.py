"""The terminal part of explaining a plan: the relaxed-policy banner, why a sub-fund is in
or out, near-optimal alternatives and shadow price ranges (rich tables, no markup from
data)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from fundopt.optimizer.result import Result
from fundopt.reports import numbers
from fundopt.reports.captions import shown
from fundopt.reports.findings import explanation_lines
from fundopt.reports.labels import label, relaxation_text
from fundopt.reports.terminal.summary import lines_table, titled_table
from fundopt.reports.text import say


def render_relaxed(console: Console, result: Result, lang: str) -> None:
    """Say loudly that the plan is under a relaxed policy, and which changes were applied."""
    if not result.relaxed:
        return
    console.print(Text(label("relaxed.banner", lang), style="bold yellow"))
    console.print(lines_table(label("relaxed.applied", lang),
                         [relaxation_text(r, lang) for r in result.relaxed]))


def render_findings(console: Console, result: Result, unit: str, lang: str) -> None:
    """Print the price ranges, alternatives and explanations ``result`` carries."""
    ranged = [c for c in result.constraints
              if c.price_range_low is not None or c.price_range_high is not None]
    if ranged:
        grid = titled_table(label("price_ranges", lang),
                     [label(k, lang) for k in ("constraint", "bound", "shadow_price",
                                               "range_low", "range_high")], {2, 3, 4})
        for c in ranged:
            limit = c.max if c.bound == "max" else c.min
            grid.add_row(Text(shown(c, lang)),
                         Text(label(c.bound, lang) if c.bound in ("min", "max") else ""),
                         Text(numbers.price_text(c.shadow_price, c.measure, unit, lang, limit,
                                                 c.price_range_low, c.price_range_high)),
                         numbers.range_end_text(c.price_range_low, c.measure, unit=unit),
                         numbers.range_end_text(c.price_range_high, c.measure, unit=unit))
        console.print(grid)
    if result.alternatives:
        grid = titled_table(label("alternatives", lang),
                     [label(k, lang) for k in ("alt.rank", "objective", "alt.gap",
                                               "alt.added", "alt.dropped")], {0, 1, 2})
        for a in result.alternatives:
            grid.add_row(str(a.rank), numbers.objective_text(a.objective),
                         f"{a.gap:.2%}",
                         Text(", ".join(a.added)), Text(", ".join(a.dropped)))
        console.print(grid)
    render_explanations(console, result, unit, lang)


def render_no_alternatives(console: Console, within: str, lang: str) -> None:
    """``--alternatives`` found none: say so, with the gap as it was asked."""
    console.print(Text(say("alternatives.none", lang, within=within.strip())))


def render_explanations(console: Console, result: Result, unit: str, lang: str) -> None:
    """One block of sentences per explained sub-fund."""
    for e in result.explanations:
        lines = explanation_lines(e, unit, lang)
        console.print(lines_table(f"{label('explain', lang)}: {lines[0]}", lines[1:]))


