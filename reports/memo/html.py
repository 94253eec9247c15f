"""The decision memo (审批稿, SPEC §12): the document a committee signs, as one
self-contained HTML page laid out for print (CSS paged media).

``-o plan.html`` writes this HTML as it is (inline CSS, charts as inline SVG, no scripts,
nothing fetched); ``-o plan.pdf`` prints it with WeasyPrint (``reports.memo.pdf``). A
browser prints the HTML to the same pages.

Pages in order: the cover (title, fund, round, local date with its zone, status in words,
framed notices first, key figures, data warnings), the plan (funded rows, a total row),
totals by region, category and district, compliance (one line per policy rule with its
limit, the plan's value, met / binding and scope; written and applied limits side by side
for a relaxed plan), the diagnosis of an infeasible policy (its rules with their numbers),
and the signature block. Every page's footer says "page x of y" and the input's short
SHA-256.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import fundopt
from fundopt.models.checks import DataWarning
from fundopt.models.domain import CATEGORY, DISTRICT, ID, NAME, REGION, Policy, Table
from fundopt.optimizer.result import ConstraintValue, Result
from fundopt.reports import numbers
from fundopt.reports.captions import conflict_names, name_text, shown
from fundopt.reports.diagnosis_text import diagnosis_lines, warning_line
from fundopt.reports.frames import AMOUNT, SHARE_OF_BUDGET, STAKE, funded_rows, group_totals
from fundopt.reports.labels import (
    column_text,
    label,
    relaxation_text,
)
from fundopt.reports.notices import notices, status_words
from fundopt.reports.text import say

SHORT_SHA = 12
# Fonts by preference: Noto (Debian's fonts-noto-cjk) first, then what Windows and macOS
# have; the Latin face comes first in English so digits and words keep a Latin design.
CJK_FONTS = ('"Noto Sans CJK SC"', '"Source Han Sans SC"', '"Microsoft YaHei"',
             '"PingFang SC"', '"WenQuanYi Micro Hei"')
LATIN_FONTS = ('"DejaVu Sans"', '"Liberation Sans"', "Arial")


@dataclass(frozen=True)
class Memo:
    """What the memo is made from (the same values ``solve`` writes every output from)."""

    table: Table
    policy: Policy
    result: Result
    lang: str
    notes: Sequence[DataWarning] = ()

    def say(self, code: str, **values: object) -> str:
        return say(code, self.lang, **values)

    @property
    def decimals(self) -> int:
        return numbers.step_decimals(self.policy.amount_step)

    def amount(self, value: float | None) -> str:
        return numbers.amount_text(value, self.decimals)


def memo_html(table: Table, policy: Policy, result: Result, lang: str,
              notes: Sequence[DataWarning] = ()) -> str:
    """The decision memo as one self-contained HTML document.

    Parameters
    ----------
    table, policy, result
        What was solved and its outcome (an infeasible result gets its diagnosis).
    lang
        ``"en"`` or ``"zh"``; data values (ids, names, regions) are never translated.
    notes
        Warnings about the data, listed on the cover.

    Returns
    -------
    str
        The HTML text, UTF-8, with its print layout in an inline style sheet.
    """
    memo = Memo(table, policy, result, lang, notes)
    title = policy.report.title or memo.say("memo.title")
    body = [_cover(memo, title)]
    if result.is_ok:
        body += [_plan(memo), _totals(memo), _compliance(memo)]
    if result.diagnosis is not None and not result.is_ok:
        body.append(_diagnosis(memo))
    body.append(_signature(memo))
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
            f'<meta charset="utf-8">\n<title>{_e(title)}</title>\n'
            f"<style>\n{_css(memo)}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# ---- the cover ---------------------------------------------------------------------------

def _cover(memo: Memo, title: str) -> str:
    policy, result = memo.policy, memo.result
    report = policy.report
    facts = [(memo.say("memo.fund"), report.fund, "fund"),
             (memo.say("memo.round"), report.round, "round"),
             (memo.say("memo.prepared_by"), report.prepared_by, "prepared_by")]
    rows = "".join(
        f"<tr><th>{_e(name)}</th><td>{_e(value) if value else _missing(memo, key)}</td></tr>"
        for name, value, key in facts)
    rows += (f"<tr><th>{_e(memo.say('memo.date'))}</th>"
             f"<td>{_e(numbers.local_time_text())}</td></tr>")
    rows += (f"<tr><th>{_e(memo.say('memo.status'))}</th>"
             f'<td class="status">{_e(_status_words(memo))}</td></tr>')
    parts = [f'<section class="cover">\n<h1>{_e(title)}</h1>',
             f'<table class="facts">{rows}</table>', *_notices(memo)]
    parts.append(f"<h2>{_e(memo.say('memo.key_figures'))}</h2>")
    parts.append(_key_figures(memo))
    warnings = [n.message(memo.lang) for n in memo.notes] + [
        warning_line(w, memo.lang) for w in result.warnings]
    parts.append(f"<h2>{_e(memo.say('memo.warnings'))}</h2>")
    parts.append(_list(warnings) if warnings else f"<p>{_e(memo.say('memo.no_warnings'))}</p>")
    sha = memo.table.sha256 or "—"
    parts.append('<p class="sources">' + _e(memo.say(
        "memo.sources", table=str(memo.table.path), sha=sha, policy=policy.source,
        version=fundopt.__version__, solver=result.solver)) + "</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _missing(memo: Memo, key: str) -> str:
    return f'<span class="missing">{_e(memo.say("memo.not_given", key=key))}</span>'


def _status_words(memo: Memo) -> str:
    return status_words(memo.result, memo.lang)


def _notices(memo: Memo) -> list[str]:
    """The framed notices, first on the cover (``reports.notices``)."""
    framed = []
    for sentence, lines in notices(memo.policy, memo.result, memo.lang):
        items = f"<ul>{''.join(f'<li>{_e(line)}</li>' for line in lines)}</ul>" if lines else ""
        framed.append(f'<div class="notice"><p><strong>{_e(sentence)}</strong></p>{items}</div>')
    return framed


def _key_figures(memo: Memo) -> str:
    policy, result = memo.policy, memo.result
    ok = result.is_ok
    unit = f" ({policy.unit})" if memo.lang != "zh" else f"（{policy.unit}）"
    objective = " + ".join(column_text(c, memo.lang) for c in policy.objective.weights)
    figures = [
        (memo.say("memo.objective", objective=objective),
         numbers.objective_text(result.objective) if ok else "—"),
        (memo.say("memo.budget") + unit, memo.amount(policy.budget)),
        (memo.say("memo.committed") + unit, memo.amount(result.committed) if ok else "—"),
        (memo.say("memo.committed_share"),
         numbers.share_text(result.committed / policy.budget) if ok else "—"),
        (memo.say("memo.funded"),
         numbers.count_text(int(np.count_nonzero(result.funded))) if ok else "—"),
        (memo.say("memo.candidates"), numbers.count_text(len(memo.table.frame))),
    ]
    rows = "".join(f'<tr><th>{_e(k)}</th><td class="num">{_e(v)}</td></tr>'
                   for k, v in figures)
    return f'<table class="figures">{rows}</table>'


# ---- the plan and its totals ------------------------------------------------------------

def _plan(memo: Memo) -> str:
    plan = funded_rows(memo.table, memo.policy, memo.result)
    heads = [("memo.col.id", ""), ("memo.col.name", ""), ("memo.col.place", ""),
             ("memo.col.category", ""), ("memo.col.amount", "num"),
             ("memo.col.share", "num"), ("memo.col.stake", "num")]
    head = "".join(f'<th class="{cls}">{_e(memo.say(code, unit=memo.policy.unit))}</th>'
                   for code, cls in heads)
    body = []
    for row in plan.to_dict("records"):
        place = " / ".join(str(row[c]) for c in (REGION, DISTRICT)
                           if c in row and _given(row[c]))
        body.append("<tr>" + "".join(_td(v, cls) for v, cls in (
            (row[ID], "nw"), (row.get(NAME, ""), ""), (place, "nw"),
            (row.get(CATEGORY, ""), "nw"),
            (memo.amount(row[AMOUNT]), "num"), (numbers.share_text(row[SHARE_OF_BUDGET]), "num"),
            (numbers.share_text(row[STAKE]), "num"))) + "</tr>")
    committed = memo.result.committed
    total = ('<tr class="total">' + _td(memo.say("memo.total"), "") + '<td colspan="3"></td>'
             + _td(memo.amount(committed), "num")
             + _td(numbers.share_text(committed / memo.policy.budget), "num")
             + "<td></td></tr>")
    if plan.empty:
        return (f'<section class="plan"><h2>{_e(memo.say("memo.plan"))}</h2>'
                f"<p>{_e(memo.say('memo.plan.empty'))}</p></section>")
    return (f'<section class="plan">\n<h2>{_e(memo.say("memo.plan"))}</h2>\n'
            f'<table class="grid"><thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(body) + f"\n</tbody>\n<tfoot>{total}</tfoot></table>\n</section>")


def _totals(memo: Memo) -> str:
    parts = ['<section class="totals">']
    for group in (REGION, CATEGORY, DISTRICT):
        if group not in memo.table.frame.columns:
            continue
        totals = group_totals(memo.table, memo.policy, memo.result, group)
        name = label(group, memo.lang)
        heads = (f"<th>{_e(name)}</th>"
                 f'<th class="num">{_e(memo.say("memo.col.amount", unit=memo.policy.unit))}</th>'
                 f'<th class="num">{_e(memo.say("memo.col.share"))}</th>'
                 f'<th class="num">{_e(memo.say("memo.col.count"))}</th>')
        rows = []
        for value, amount, share, count in totals.itertuples(index=False):
            rows.append("<tr>" + _td(_group_value(value, memo.lang), "")
                        + _td(memo.amount(amount), "num") + _td(numbers.share_text(share), "num")
                        + _td(numbers.count_text(count), "num") + "</tr>")
        committed = memo.result.committed
        funded = int(np.count_nonzero(memo.result.funded))
        total = ('<tr class="total">' + _td(memo.say("memo.total"), "")
                 + _td(memo.amount(committed), "num")
                 + _td(numbers.share_text(committed / memo.policy.budget), "num")
                 + _td(numbers.count_text(funded), "num") + "</tr>")
        block = (f'<div class="group"><h2>{_e(memo.say("memo.totals", group=name))}</h2>'
                 f'<table class="grid"><thead><tr>{heads}</tr></thead><tbody>'
                 + "".join(rows) + f"</tbody><tfoot>{total}</tfoot></table>")
        if group != DISTRICT:
            bars = [(_group_value(v, memo.lang), float(a))
                    for v, a, _, _ in totals.itertuples(index=False)]
            block += _bar_chart(memo.say("memo.chart", group=name, unit=memo.policy.unit),
                                bars, memo)
        parts.append(block + "</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _group_value(value: object, lang: str) -> str:
    return str(value) if _given(value) else label("blank", lang)


def _bar_chart(title: str, bars: Sequence[tuple[str, float]], memo: Memo) -> str:
    """A horizontal bar chart as inline SVG: every bar labelled with its name and value,
    in the order of the table above it; small enough never to be split by a page."""
    row, left, width, value_width = 18, 150, 250, 80
    top = max((v for _, v in bars), default=0.0)
    height = row * len(bars) + 6
    items = []
    for i, (name, value) in enumerate(bars):
        y = 3 + i * row
        length = 0.0 if top <= 0 else width * max(0.0, value) / top
        items.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{length:.1f}" height="{row - 6}" '
            f'fill="#4a6fa5"/>'
            f'<text x="{left + length + 4:.1f}" y="{y + 12}">{_e(memo.amount(value))}</text>')
    total_width = left + width + value_width
    return (f'<figure class="chart"><figcaption>{_e(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}pt" '
            f'height="{height}pt" viewBox="0 0 {total_width} {height}" '
            f'font-size="9" font-family="{_fonts(memo.lang, quote="")}">'
            + "".join(items) + "</svg></figure>")


# ---- compliance ----------------------------------------------------------------------------

def _compliance(memo: Memo) -> str:
    result = memo.result
    relaxed = bool(result.relaxed)
    heads = [("memo.col.rule", ""), *([("memo.col.written", "num"), ("memo.col.applied", "num")]
                                      if relaxed else [("memo.col.limit", "num")]),
             ("memo.col.value", "num"), ("memo.col.state", ""), ("memo.col.scope", "")]
    head = "".join(f'<th class="{cls}">{_e(memo.say(code))}</th>' for code, cls in heads)
    rows = [_compliance_row(memo, c, relaxed) for c in result.constraints]
    return (f'<section class="compliance">\n<h2>{_e(memo.say("memo.compliance"))}</h2>\n'
            f'<table class="grid"><thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table>\n</section>")


def _compliance_row(memo: Memo, c: ConstraintValue, relaxed: bool) -> str:
    lang = memo.lang
    applied = (c.min, c.max)
    written = list(applied)
    for r in memo.result.relaxed:     # by id: the budget's min is moved as min_deploy
        if r.id == c.id and r.bound in ("min", "max"):
            i = 0 if r.bound == "min" else 1
            literal, bound = c.written[i], applied[i]
            written[i] = (r.from_value if not literal or bound is None
                          else r.from_value * bound / literal)
    measure = c.measure
    value = numbers.measure_text(c.value, measure, memo.decimals)
    if c.scope == "fund" and c.round_value is not None:
        value += f" ({memo.say('memo.scope.round')} "
        value += numbers.measure_text(c.round_value, measure, memo.decimals) + ")"
    state = _state(memo, c, applied, tuple(written))
    cells = [_td(shown(c, lang), "")]
    limits = [_limits(written, measure, memo), _limits(applied, measure, memo)]
    cells += [_td(t, "num") for t in (limits if relaxed else limits[1:])]
    scope = memo.say("memo.scope.fund" if c.scope == "fund" else "memo.scope.round")
    cells += [_td(value, "num"), _td(state, "nw"), _td(scope, "nw")]
    changed = relaxed and limits[0] != limits[1]
    return f'<tr{" class=changed" if changed else ""}>' + "".join(cells) + "</tr>"


def _limits(bounds: Sequence[float | None], measure: str, memo: Memo) -> str:
    lo, hi = (None if b is None else numbers.limit_text(b, measure, memo.decimals)
              for b in bounds)
    if lo is not None and hi is not None:
        return memo.say("memo.min_max", min=lo, max=hi)
    if lo is not None:
        return memo.say("memo.at_least", min=lo)
    return memo.say("memo.at_most", max=hi) if hi is not None else "—"


def _state(memo: Memo, c: ConstraintValue, applied: Sequence[float | None],
           written: Sequence[float | None]) -> str:
    """Met / binding against the applied limits; NOT met as written for a relaxed line."""
    def broken(bounds: Sequence[float | None]) -> bool:
        lo, hi = bounds
        return any(limit is not None and not numbers.at_limit(c.value, limit, c.measure,
                                                               memo.decimals)
                   and (c.value < limit if side == 0 else c.value > limit)
                   for side, limit in enumerate((lo, hi)))

    if broken(applied):
        return memo.say("memo.state.broken")
    if broken(written):
        return memo.say("memo.state.broken_written")
    binding = any(limit is not None and numbers.at_limit(c.value, limit, c.measure,
                                                         memo.decimals)
                  for limit in applied)
    return memo.say("memo.state.binding" if binding else "memo.state.met")


# ---- diagnosis and signatures ----------------------------------------------------------------

def _diagnosis(memo: Memo) -> str:
    diagnosis = memo.result.diagnosis
    assert diagnosis is not None
    lang = memo.lang
    parts = [f'<section class="diagnosis">\n<h2>{_e(memo.say("memo.diagnosis"))}</h2>']
    reasons = diagnosis_lines(diagnosis, lang)   # what clashes, with its numbers
    if reasons:
        parts.append(f"<p>{_e(memo.say('memo.reasons'))}</p>")
        parts.append(_list(reasons))
    if diagnosis.conflict:
        limits = _rule_limits(memo)
        parts.append(f"<p>{_e(memo.say('memo.conflict'))}</p>")
        ids = diagnosis.conflict_ids
        named = conflict_names(diagnosis.conflict, ids, diagnosis.captions)
        shown_limits = [limits.get(ids[i]) if i < len(ids) else None for i in range(len(named))]
        parts.append(_list([
            memo.say("memo.rule_limit", rule=name_text(name, caption, lang), limit=limit)
            if limit is not None else name_text(name, caption, lang)
            for (name, caption), limit in zip(named, shown_limits, strict=True)]))
    parts.append(f"<p>{_e(memo.say('memo.relaxation'))}</p>")
    if diagnosis.relaxation:
        parts.append(_list([relaxation_text(r, lang) for r in diagnosis.relaxation]))
    else:
        parts.append(f"<p>{_e(memo.say('memo.no_relaxation'))}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _rule_limits(memo: Memo) -> dict[str, str]:
    """The limits of every policy line by its id (``c3`` → ``≥ 40%``), for the conflict of
    an infeasible policy, which has no plan values to show."""
    from fundopt.errors import InputError
    from fundopt.models.rules.expansion import expand

    policy = memo.policy
    limits = {"budget": _limits((policy.min_deploy * policy.budget or None, policy.budget),
                                "amount", memo)}
    if policy.max_funded is not None or policy.min_funded is not None:
        limits["funded"] = _limits((policy.min_funded, policy.max_funded), "count", memo)
    try:
        constraints = expand(policy, memo.table)
    except InputError:  # pragma: no cover - the solve expanded the same policy already
        return limits
    for c in constraints:
        limits[c.id] = _limits((c.min, c.max), str(c.measure), memo)
    return limits


def _signature(memo: Memo) -> str:
    rows = "".join(
        f"<tr><th>{_e(memo.say(code))}</th>"
        f"<td>{_e(memo.say('memo.sign.name'))}</td><td class=\"line\"></td>"
        f"<td>{_e(memo.say('memo.sign.date'))}</td><td class=\"line short\"></td></tr>"
        for code in ("memo.sign.draft", "memo.sign.review", "memo.sign.approve"))
    return (f'<section class="signature">\n<h2>{_e(memo.say("memo.sign"))}</h2>\n'
            f'<table class="sign">{rows}</table>\n</section>')


# ---- HTML pieces and the style sheet -------------------------------------------------------

def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _given(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(str(value).strip()) and str(value) != "<NA>"


def _td(value: object, cls: str) -> str:
    return f'<td class="{cls}">{_e(value)}</td>' if cls else f"<td>{_e(value)}</td>"


def _list(lines: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def _fonts(lang: str, quote: str = '"') -> str:
    fonts = (*CJK_FONTS, *LATIN_FONTS) if lang == "zh" else (*LATIN_FONTS, *CJK_FONTS)
    return ", ".join(f.replace('"', quote) for f in fonts) + ", sans-serif"


def _css_text(text: str) -> str:
    """``text`` as a CSS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _css(memo: Memo) -> str:
    footer = memo.say("memo.footer", page="\0page\0", pages="\0pages\0")
    content = " ".join(
        "counter(page)" if part == "page" else "counter(pages)" if part == "pages"
        else _css_text(part) for part in footer.split("\0") if part)
    sha = (memo.table.sha256 or "")[:SHORT_SHA]
    title = memo.policy.report.title or memo.say("memo.title")
    return f"""@page {{
  size: A4;
  margin: 20mm 18mm 20mm 18mm;
  @top-left {{ content: {_css_text(title)}; font-size: 8pt; color: #555; }}
  @bottom-left {{ content: {content}; font-size: 8pt; }}
  @bottom-right {{ content: {_css_text("SHA-256 " + sha)}; font-size: 8pt; }}
}}
html {{ font-family: {_fonts(memo.lang)}; font-size: 10pt; line-height: 1.35; color: #000; }}
body {{ margin: 0; }}
h1 {{ font-size: 18pt; margin: 0 0 8pt 0; }}
h2 {{ font-size: 12pt; margin: 14pt 0 5pt 0; break-after: avoid; }}
p, li {{ font-size: 10pt; }}
.missing {{ color: #555; font-style: italic; }}
.notice {{ border: 2pt solid #b00; padding: 6pt 10pt; margin: 10pt 0; break-inside: avoid; }}
.notice p, .notice ul {{ margin: 2pt 0; }}
table {{ border-collapse: collapse; font-size: 9pt; }}
table.facts th, table.figures th {{ text-align: left; font-weight: normal; color: #333;
  padding: 2pt 16pt 2pt 0; vertical-align: top; }}
table.facts td, table.figures td {{ padding: 2pt 0; }}
table.facts, table.figures {{ font-size: 10pt; }}
td.status {{ font-weight: bold; }}
table.grid {{ width: 100%; }}
table.grid th {{ border-bottom: 1pt solid #000; text-align: left; padding: 3pt 4pt;
  vertical-align: bottom; }}
table.grid td {{ border-bottom: 0.5pt solid #ccc; padding: 2pt 4pt; vertical-align: top; }}
table.grid tr {{ break-inside: avoid; }}
th.num, td.num {{ text-align: right !important; white-space: nowrap; }}
td.nw {{ white-space: nowrap; }}
tr.total td {{ border-top: 1pt solid #000; border-bottom: none; font-weight: bold; }}
tr.changed td {{ background: #fdecea; }}
thead {{ display: table-header-group; }}
tfoot {{ display: table-row-group; }}
section.plan {{ break-before: page; }}
section.compliance, section.diagnosis {{ break-before: page; }}
.group {{ break-inside: avoid; }}
figure.chart {{ margin: 6pt 0 0 0; break-inside: avoid; }}
figure.chart figcaption {{ font-size: 9pt; margin-bottom: 2pt; }}
p.sources {{ font-size: 8pt; color: #333; margin-top: 14pt; word-break: break-all; }}
section.signature {{ break-inside: avoid; margin-top: 18pt; }}
table.sign {{ width: 100%; font-size: 10pt; }}
table.sign th {{ text-align: left; width: 18%; padding: 14pt 0 2pt 0; }}
table.sign td {{ padding: 14pt 4pt 2pt 4pt; width: 8%; }}
table.sign td.line {{ border-bottom: 0.75pt solid #000; width: 40%; }}
table.sign td.line.short {{ width: 26%; }}
@media screen {{ body {{ max-width: 190mm; margin: 10mm auto; }} }}
"""
