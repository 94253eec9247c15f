"""Matching the table's headers as offices write them (SPEC §2, §7).

A header names a known column in English or Chinese (``max_ticket``, ``最高出资``), in any
case, and may carry a unit in half- or full-width brackets: ``最高出资（亿元）``,
``max_ticket (万元)``, ``fund_size [元]``. The column is matched without the unit; the unit
of an amount column is kept, so its values can be converted to the policy's unit once the
policy is known (:mod:`fundopt.models.reading.units`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

from fundopt.models.domain import (
    CATEGORY,
    DISTRICT,
    FUND_SIZE,
    ID,
    MAX_TICKET,
    MIN_TICKET,
    NAME,
    REGION,
    REQUIRED_COLUMNS,
    SCORE,
    STATUS,
)

Records = list[tuple[int, list[str]]]   # (spreadsheet row number, cells) of non-blank rows


def numbered_rows(rows: Iterable[list[str]]) -> Records:
    """Untrimmed text cells with their spreadsheet row numbers; blank rows are skipped."""
    return [(number, cells) for number, cells in enumerate(rows, start=1)
            if "".join(cells).strip()]


def column_letter(number: int) -> str:
    """1 → A, 27 → AA, as the spreadsheet names its columns."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


ALIASES: dict[str, tuple[str, ...]] = {
    ID: ("编号",), NAME: ("名称", "子基金名称"), REGION: ("地区", "省市"), DISTRICT: ("区县",),
    CATEGORY: ("类别", "投资方向"), MAX_TICKET: ("最高出资",), MIN_TICKET: ("最低出资",),
    FUND_SIZE: ("基金规模", "子基金规模"), SCORE: ("评分", "综合评分"), STATUS: ("状态",),
}
"""Chinese aliases of each known column (SPEC §2); the English name is matched too."""

AMOUNT_COLUMNS = (MAX_TICKET, MIN_TICKET, FUND_SIZE)
"""Known columns in the policy's unit: a unit in their header is converted."""

MONEY_UNITS = {"元": 1, "万元": 10**4, "亿元": 10**8}
"""Units converted into one another, with their size in 元."""

LOOKUP = {alias.casefold(): col for col, names in ALIASES.items() for alias in (col, *names)}
# "最高出资（亿元）", "max_ticket (万元)", "fund_size [元]", "评分【分】"
_UNIT = re.compile(r"(?P<base>.*?)\s*[(（\[［【](?P<unit>[^()（）\[\]［］【】]+)[)）\]］】]")


def split_unit(header: str) -> tuple[str, str | None]:
    """``"最高出资（亿元）"`` → ("最高出资", "亿元"); a header without a unit → (header, None)."""
    match = _UNIT.fullmatch(header.strip())
    if match is None or not match["base"].strip():
        return header.strip(), None
    return match["base"].strip(), match["unit"].strip()


def column_of(header: str) -> tuple[str, str | None]:
    """The column name a header gives, and the unit its values are in (None: the policy's).

    A known column is matched by its English or Chinese name, without a unit in brackets;
    the unit is kept only for amount columns. Another column keeps its header as its name,
    unless the unit is one of 元 / 万元 / 亿元: then the name is the header without it, and
    its numbers are converted like amounts.
    """
    written = header.strip()
    if written.casefold() in LOOKUP:
        return LOOKUP[written.casefold()], None
    base, unit = split_unit(written)
    known = LOOKUP.get(base.casefold())
    if known is not None:
        return known, unit if known in AMOUNT_COLUMNS else None
    if unit in MONEY_UNITS:
        return base, unit
    return written, None


def holds_required(headers: Sequence[str]) -> int:
    """How many of the required columns a row of header cells names."""
    names = {column_of(cell)[0] for cell in headers if cell.strip()}
    return sum(column in names for column in REQUIRED_COLUMNS)


def closest(column: str, headers: Sequence[str]) -> str | None:
    """The written header nearest to any spelling of ``column``, if one is near at all."""
    spellings = [s.casefold() for s in (column, *ALIASES.get(column, ()))]
    best: tuple[float, str] | None = None
    for header in headers:
        base = split_unit(header)[0].casefold()
        if not base:
            continue
        score = max(difflib.SequenceMatcher(None, base, s).ratio() for s in spellings)
        # a spelling inside a longer header (最高出资额, 子基金编号) is close too
        if any(s in base or base in s for s in spellings):
            score = max(score, 0.8)
        if score >= 0.5 and (best is None or score > best[0]):
            best = (score, header)
    return best[1] if best else None
