"""The review workbook's diagnosis sheet (诊断): relaxed policy, infeasibility fix and
conflict, shadow price ranges, near-optimal alternatives and why sub-funds are in or out.

Rows use the workbook's row form (values, number formats, is-header) and are written by
``reports.workbook.solve``.
"""

from __future__ import annotations

from fundopt.models.domain import Policy, Table
from fundopt.optimizer.result import Result
from fundopt.reports import numbers
from fundopt.reports.captions import shown
from fundopt.reports.diagnosis_text import conflict_lines, diagnosis_lines
from fundopt.reports.findings import explanation_lines
from fundopt.reports.labels import label, relaxation_text
from fundopt.reports.text import say
from fundopt.reports.workbook import Row

NUMBER_FMT, SHARE_FMT = "#,##0.0###", "0.00%"


def diagnosis_sheets(table: Table, policy: Policy, result: Result, lang: str
                     ) -> list[tuple[str, list[Row]]]:
    """The sheets that explain the result, each named for what it holds (label key,
    rows): ``sheet.diagnosis`` (诊断) for a relaxed or infeasible policy only; on a plan
    of the policy as written, ``alternatives``, ``price_ranges`` and ``explain`` sheets
    of their own. ``[]`` when there is nothing to explain.

    Parameters
    ----------
    table, policy, result
        What was solved and its outcome.
    lang
        ``"en"`` or ``"zh"``.
    """
    diagnosis: list[Row] = []
    for block in (_relaxed(result, lang), _infeasible(result, lang)):
        if block:
            diagnosis += ([([], [], False)] if diagnosis else []) + block
    sheets = [("sheet.diagnosis", diagnosis), ("alternatives", _alternatives(result, lang)),
              ("price_ranges", _ranges(result, policy, lang)),
              ("explain", _explanations(result, policy.unit, lang))]
    return [(key, rows) for key, rows in sheets if rows]


def _text_block(title: str, lines: list[str]) -> list[Row]:
    if not lines:
        return []
    rows: list[Row] = [([title], [None], True)]
    return rows + [([line], [None], False) for line in lines]


def _relaxed(result: Result, lang: str) -> list[Row]:
    if not result.relaxed:
        return []
    return _text_block(label("relaxed.banner", lang),
                       [relaxation_text(r, lang) for r in result.relaxed])


def _infeasible(result: Result, lang: str) -> list[Row]:
    diagnosis = result.diagnosis
    if diagnosis is None or result.relaxed:
        return []
    return (_text_block(say("diagnosis.heading.relaxation", lang),
                        [relaxation_text(r, lang) for r in diagnosis.relaxation])
            + _text_block(say("diagnosis.heading.conflict", lang),
                          conflict_lines(diagnosis, lang))
            + _text_block(say("diagnosis.heading.reasons", lang),
                          diagnosis_lines(diagnosis, lang)))


def _ranges(result: Result, policy: Policy, lang: str) -> list[Row]:
    """Each binding bound's shadow price with its unit in words and the range of the
    bound over which it holds, in the bound's own format (``40%``, ``36.00 亿元``), as
    the terminal and the constraints sheet show them (``reports.numbers``)."""
    ranged = [c for c in result.constraints
              if c.price_range_low is not None or c.price_range_high is not None]
    if not ranged:
        return []
    decimals = numbers.step_decimals(policy.amount_step)
    keys = ("constraint", "bound", "shadow_price", "range_low", "range_high")
    rows: list[Row] = [([label("price_ranges", lang)], [None], True),
                       ([label(k, lang) for k in keys], [None] * len(keys), True)]
    for c in ranged:
        bound = label(c.bound, lang) if c.bound in ("min", "max") else c.bound
        limit = c.max if c.bound == "max" else c.min
        ends = [numbers.range_end_text(v, c.measure, decimals, policy.unit)
                for v in (c.price_range_low, c.price_range_high)]
        rows.append(([shown(c, lang), bound,
                      numbers.price_text(c.shadow_price, c.measure, policy.unit, lang, limit,
                                         c.price_range_low, c.price_range_high), *ends],
                     [None] * 5, False))
    return rows


def _alternatives(result: Result, lang: str) -> list[Row]:
    if not result.alternatives:
        return []
    keys = ("alt.rank", "objective", "alt.gap", "alt.added", "alt.dropped")
    rows: list[Row] = [([label("alternatives", lang)], [None], True),
                       ([label(k, lang) for k in keys], [None] * len(keys), True)]
    for a in result.alternatives:
        rows.append(([a.rank, a.objective, a.gap, ", ".join(a.added), ", ".join(a.dropped)],
                     ["0", NUMBER_FMT, SHARE_FMT, None, None], False))
    return rows


def _explanations(result: Result, unit: str, lang: str) -> list[Row]:
    rows: list[Row] = []
    for e in result.explanations:
        lines = explanation_lines(e, unit, lang)
        rows += _text_block(f"{label('explain', lang)}: {lines[0]}", lines[1:])
    return rows
