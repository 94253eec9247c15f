"""What ``fundopt book …`` prints and writes: the rounds of a book and one round's rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from fundopt.models.domain import CATEGORY, DISTRICT, ID, NAME, REGION
from fundopt.models.store.book import RoundInfo, display_location
from fundopt.optimizer.result import Result
from fundopt.reports.captions import shown
from fundopt.reports.files.atomic import save_book
from fundopt.reports.files.export import json_ready, write_files
from fundopt.reports.labels import label, measure_name, status_text
from fundopt.reports.terminal.summary import DASH, amount_text, measure_text, share_text
from fundopt.reports.text import say

# Columns of a round listed on the terminal (the output files have every column).
SHOWN = (ID, NAME, REGION, DISTRICT, CATEGORY, "amount")
# The facts of a round, in the order they are shown (RoundInfo field names).
FACTS = ("name", "status", "objective", "budget", "committed", "funded", "unit", "note",
         "booked_at", "planned_at", "input_path", "input_sha256", "policy_path",
         "policy_sha256", "fundopt", "solver", "voided_at", "void_reason")


def round_dict(info: RoundInfo) -> dict[str, Any]:
    """A round's facts as JSON-ready values (``columns`` left out)."""
    out: dict[str, Any] = json_ready({k: getattr(info, k) for k in FACTS})
    out["void"] = info.is_void
    out["plan_sha256"] = info.plan_sha256
    out["mark"] = [m for m in info.mark.split(",") if m]
    out["relaxation"] = [{"key": k, "bound": b, "from": f, "to": t}
                         for k, b, f, t in info.relaxation]
    return out


def visible(text: str) -> str:
    """``text`` with control characters (an ANSI escape in a round's name or note) shown
    as escapes instead of acting on the terminal."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if (ord(c) < 32 and c not in "\n") or 127 <= ord(c) < 160 else c
                   for c in text)


def _marks(info: RoundInfo, lang: str) -> str:
    """`` (relaxed, time limit)`` for a round booked with --accept, else empty."""
    marks = [say(f"book.mark.{m}", lang) for m in info.mark.split(",") if m]
    if not marks:
        return ""
    return f"（{'、'.join(marks)}）" if lang == "zh" else f" ({', '.join(marks)})"


def render_added(console: Console, info: RoundInfo, location: str, lang: str) -> None:
    """``book add``: one line saying what was booked where."""
    console.print(Text(label("book.added", lang).format(
        round=info.name, funded=info.funded, committed=amount_text(info.committed, info.unit),
        book=display_location(location))))


def render_voided(console: Console, info: RoundInfo, lang: str) -> None:
    console.print(Text(label("book.voided", lang).format(
        round=info.name, reason=info.void_reason or "")))


def render_rounds(console: Console, location: str, infos: Sequence[RoundInfo], lang: str
                  ) -> None:
    """``book list``: one line per round, void ones marked with their reason."""
    keys = ("book.round", "book.booked_at", "funded_count", "committed", "book.state",
            "book.note")
    grid = RichTable(title=Text(label("book", lang) + _colon(lang) + display_location(location)),
                     title_justify="left")
    for i, key in enumerate(keys):
        grid.add_column(Text(label(key, lang)), justify="right" if i in (2, 3) else "left")
    for info in infos:
        state = (label("book.void", lang) + _colon(lang) + (info.void_reason or "")
                 if info.is_void
                 else label("book.active", lang)) + _marks(info, lang)
        # 2026-06-30T09:15:02+00:00 → 2026-06-30 09:15 (UTC; book show has the full time)
        booked = info.booked_at[:16].replace("T", " ")
        grid.add_row(*(Text(visible(t)) for t in (
            info.name, booked, str(info.funded), amount_text(info.committed, info.unit),
            state, info.note)))
    if not infos:
        grid.caption = label("book.empty", lang)
    console.print(grid)


def render_round(console: Console, info: RoundInfo, rows: pd.DataFrame, lang: str) -> None:
    """``book show``: the round's facts and its funded sub-funds."""
    facts = RichTable(title=Text(f"{label('book.round', lang)} {visible(info.name)}"),
                      title_justify="left", show_header=False)
    facts.add_column()
    facts.add_column()
    for key, value in _fact_pairs(info, lang):
        facts.add_row(Text(key), Text(visible(value)))
    console.print(facts)
    columns = [c for c in SHOWN if c in rows.columns]
    grid = RichTable(title=Text(f"{label('funded_subfunds', lang)} ({len(rows)})"),
                     title_justify="left")
    for c in columns:
        grid.add_column(Text(label(c, lang)), justify="right" if c == "amount" else "left")
    for values in rows.loc[:, columns].itertuples(index=False, name=None):
        grid.add_row(*(Text(amount_text(float(v), info.unit) if c == "amount"
                            else visible(_text(v))) for v, c in zip(values, columns,
                                                                     strict=True)))
    console.print(grid)


def write_round(paths: Sequence[Path], info: RoundInfo, rows: pd.DataFrame, lang: str) -> None:
    """``book show -o``: ``.json`` (facts and commitments), ``.csv`` (the commitments with
    every input column) or ``.xlsx`` (a round sheet and a commitments sheet)."""
    frame = _commitments(info, rows)

    def data() -> dict[str, Any]:
        records = json_ready(frame.astype(object).where(pd.notna(frame), None)
                             .to_dict(orient="records"))
        return {"round": round_dict(info), "commitments": records}

    def workbook(temp: Path) -> None:
        from openpyxl import Workbook

        from fundopt.reports.workbook.solve import AMOUNT_FMT, Row, add_sheet, row_widths

        book = Workbook(write_only=True)
        facts: list[Row] = [([label("field", lang), label("value", lang)], [None, None], True)]
        facts += [([k, v], [None, None], False) for k, v in _fact_pairs(info, lang)]
        add_sheet(book, label("book.round", lang), facts, row_widths(facts), lang)
        formats: list[str | None] = [AMOUNT_FMT if c == "amount" else None
                                     for c in frame.columns]
        table: list[Row] = [(list(frame.columns), [None] * len(formats), True)]
        table += [(list(values), formats, False)
                  for values in frame.itertuples(index=False, name=None)]
        add_sheet(book, label("book.commitments", lang), table, row_widths(table), lang)
        save_book(book, temp)

    write_files(paths, data, lambda: frame, workbook)


def _commitments(info: RoundInfo, rows: pd.DataFrame) -> pd.DataFrame:
    """id, amount, then every input column of the round's table, in its order."""
    columns = [ID, "amount"] + [c for c in info.columns if c not in (ID, "amount")]
    present = [c for c in columns if c in rows.columns]
    return rows.loc[:, present].reset_index(drop=True)


def _fact_pairs(info: RoundInfo, lang: str) -> list[tuple[str, str]]:
    pairs = []
    for key in FACTS:
        value = getattr(info, key)
        if key in ("voided_at", "void_reason") and value is None:
            continue
        if key == "status":
            text = status_text(str(value), lang)
        elif key in ("budget", "committed"):
            text = amount_text(value, info.unit)
        elif isinstance(value, float):
            text = DASH if not math.isfinite(value) else f"{value:,.6g}"
        else:
            text = DASH if value is None or value == "" else str(value)
        pairs.append((label(f"book.{key}", lang), text))
    if info.mark:
        pairs.append((say("book.fact.mark", lang), _marks(info, lang).strip(" ()（）")))
    for k, _bound, before, after in info.relaxation:
        pairs.append((say("book.fact.relaxation", lang), f"{k}: {before:g} → {after:g}"))
    if info.plan_sha256:
        pairs.append((say("book.fact.plan_sha256", lang), info.plan_sha256))
    if info.solved_against:
        pairs.append((say("book.fact.solved_against", lang), info.solved_against))
    return pairs


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


# ---- solve --book: the book beside this round ----------------------------------------

# A column of a book table: how its values are shown ("text", "amount", "share" or a
# constraint measure, whose values are shown in the measure's units).
Section = tuple[str, list[str], list[str], list[list[Any]]]


def book_sections(result: Result, lang: str) -> list[Section]:
    """The book beside this round, as (title, headers, column kinds, rows) tables: the
    totals, each group (region, category, district), the fund-scope constraints and the
    follow-ons. Shared by the terminal and the workbook."""
    totals = result.book
    if totals is None:
        return []
    fund = totals.fund_total
    sections: list[Section] = [(
        label("book.totals", lang).format(book=display_location(totals.location),
                                          rounds=", ".join(totals.rounds) or DASH),
        [label("book.booked", lang), label("book.this_round", lang),
         label("book.fund_total", lang)],
        ["amount"] * 3, [[totals.booked, totals.committed, fund]])]
    for group, rows in totals.groups.items():
        sections.append((
            label("book.by", lang).format(group=label(group, lang)),
            [label(group, lang), label("book.booked", lang), label("book.this_round", lang),
             label("book.fund_total", lang), label("book.fund_share", lang)],
            ["text", "amount", "amount", "amount", "share"],
            [[value or label("blank", lang), before, now, totals.add(before, now),
              totals.add(before, now) / fund if fund > 0 else float("nan")]
             for value, before, now in rows]))
    scoped = [c for c in result.constraints if c.scope == "fund"]
    if scoped:
        sections.append((
            label("book.fund_constraints", lang),
            [label(k, lang) for k in ("constraint", "measure")]
            + [label("book.fund_value", lang), label("book.this_round", lang)]
            + [label(k, lang) for k in ("min", "max", "binding")],
            ["text", "text", "measure", "measure", "measure", "measure", "text"],
            [[shown(c, lang), measure_name(c.measure, lang), c.value,
              c.round_value, c.min, c.max, label("yes" if c.binding else "no", lang)]
             for c in scoped]))
    if totals.follow_ons:
        sections.append((
            label("book.follow_ons", lang),
            [label("id", lang), label("book.booked", lang), label("book.this_round", lang),
             label("book.fund_total", lang)],
            ["text", "amount", "amount", "amount"],
            [[i, before, now, totals.add(before, now)]
             for i, before, now in totals.follow_ons]))
    return sections


def render_book_totals(console: Console, result: Result, unit: str, lang: str) -> None:
    """Print the book beside this round (``solve --book``); nothing without a book."""
    for title, headers, kinds, rows in book_sections(result, lang):
        grid = RichTable(title=Text(title), title_justify="left")
        for header, kind in zip(headers, kinds, strict=True):
            grid.add_column(Text(header), justify="left" if kind == "text" else "right")
        for row in rows:
            measure = _measure_of(row, kinds, lang)
            grid.add_row(*(Text(_shown(v, k, measure, unit))
                           for v, k in zip(row, kinds, strict=True)))
        console.print(grid)


def book_totals_dict(result: Result) -> dict[str, Any] | None:
    """``.json`` key ``book``: the rounds counted, booked / this round / fund totals, the
    totals by group and the follow-ons (None without ``--book``)."""
    totals = result.book
    if totals is None:
        return None
    return json_ready({
        "location": display_location(totals.location), "rounds": list(totals.rounds),
        "booked": totals.booked, "this_round": totals.committed, "fund_total": totals.fund_total,
        "by_group": {group: [{"value": v, "booked": b, "this_round": n,
                              "fund_total": totals.add(b, n)} for v, b, n in rows]
                     for group, rows in totals.groups.items()},
        "follow_ons": [{"id": i, "booked": b, "this_round": n, "fund_total": totals.add(b, n)}
                       for i, b, n in totals.follow_ons],
    })


def add_book_sheet(workbook: Any, result: Result, lang: str) -> None:
    """The workbook's book sheet: every section of :func:`book_sections` under the other."""
    from fundopt.reports.workbook.solve import (
        AMOUNT_FMT,
        MEASURE_FORMATS,
        SHARE_FMT,
        Row,
        add_sheet,
        row_widths,
    )

    formats = {"amount": AMOUNT_FMT, "share": SHARE_FMT, "text": None}
    rows: list[Row] = []
    for title, headers, kinds, body in book_sections(result, lang):
        if rows:
            rows.append(([""], [None], False))
        rows.append(([title], [None], True))
        rows.append((list(headers), [None] * len(headers), True))
        for row in body:
            measure = _measure_of(row, kinds, lang)
            rows.append((list(row), [formats.get(k, MEASURE_FORMATS.get(measure))
                                     for k in kinds], False))
    if rows:
        add_sheet(workbook, label("book.sheet", lang), rows, row_widths(rows), lang)


def _measure_of(row: list[Any], kinds: list[str], lang: str) -> str:
    """The measure of a constraint row (its second column, shown in ``lang``), "" for
    other tables."""
    if "measure" not in kinds:
        return ""
    names = {measure_name(m, lang): m for m in ("amount", "share", "count", "sum", "avg")}
    return names.get(str(row[1]), str(row[1]))


def _shown(value: Any, kind: str, measure: str, unit: str) -> str:
    if kind == "text":
        return _text(value)
    if kind == "amount":
        return amount_text(value, unit)
    if kind == "share":
        return share_text(value)
    return measure_text(value, measure, unit)
