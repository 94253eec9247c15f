"""``scope = "fund"`` in the model: the book's constants applied to the constraint rows.

A fund-scope constraint carries what the book adds to it (``Constraint.booked``, from
``models.store.fund``). The model keeps this round's commitments as its only variables; the
book enters as constants (SPEC §9):

- ``amount``: Σx + A ∈ [min, max], so the row is Σx ∈ [min − A, max − A];
- ``sum(COL)``: Σ COL·x + W ∈ [min, max];
- ``share``: (Σx + A) / (T + budget) ∈ [min, max], T being every booked commitment;
- ``count``: the booked ids it selects, plus the rows funded now whose id is not among
  them (a follow-on to a booked id does not count twice);
- ``avg(COL)``: Σ (COL − b)·x + (W − b·A) ≥ 0 for a min b, ≤ 0 for a max b;
- ``funded(EXPR)``: Σ EXPR over the booked ids it selects (each once), plus Σ EXPR·y over
  the rows funded now whose id is not among them, like ``count`` (SPEC §11);
- a ratio M1 / M2 ≥ b: (M1 + C1) − b·(M2 + C2) ≥ 0, C1 and C2 what the book adds to each
  side; a count or funded side skips the follow-ons, as above;
- ``groups(COL)``: the values the book already covers count once, as constants; only the
  other values get a binary (``optimizer.appended``).

Follow-ons (rows whose id is in the book) have ``max_stake`` applied to their booked plus
new commitment: their stake cap is lowered by what the book holds for them
(``ticket_bounds``). Reports measure a fund-scope constraint over the fund, with the
value over this round alone beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fundopt.errors import InputError
from fundopt.models.domain import (
    CATEGORY,
    DISTRICT,
    ID,
    REGION,
    Constraint,
    Measure,
    Policy,
    Scope,
    Table,
)
from fundopt.optimizer.amounts import ZERO
from fundopt.optimizer.result import BookTotals

if TYPE_CHECKING:   # the book's storage (SQLAlchemy) is imported only with --book
    from fundopt.models.store.fund import FundView

GROUPS = (REGION, CATEGORY, DISTRICT)


def check_fund_scope(constraints: Sequence[Constraint], policy: Policy) -> None:
    """``scope = "fund"`` needs the book: a fund-scope constraint without its booked part
    was solved without ``--book``.

    Raises
    ------
    InputError
        Naming the policy file and the key of the first such constraint.
    """
    for c in constraints:
        if c.rule.scope is Scope.FUND and c.booked is None:
            raise InputError(code="input.fund_solve.no_book", file=policy.source,
                             column=f"{c.rule.origin}.scope", value="fund")


def row_offset(c: Constraint, bound: float | None = None) -> float:
    """What the book adds to the activity of ``c``'s row, in row units (0 without a book).

    ``bound`` is the avg or ratio bound of the row (such a row's constant depends on it).
    """
    p = c.booked
    if p is None:
        return 0.0
    if c.measure is Measure.COUNT:
        return float(len(p.ids))
    if c.measure is Measure.GROUPS:
        return float(len(p.values))
    if c.measure in (Measure.SUM, Measure.FUNDED):
        return p.weighted
    if c.measure is Measure.RATIO:
        assert bound is not None
        return p.sides[0] - bound * p.sides[1]
    if c.measure is Measure.AVG:
        assert bound is not None
        return p.weighted - bound * p.amount
    return p.amount


def share_base(c: Constraint, budget: float) -> float:
    """What a share divides by: the budget, plus every booked commitment for fund scope."""
    return budget + (c.booked.total if c.booked is not None else 0.0)


def counted_rows(table: Table, c: Constraint, mask: np.ndarray) -> np.ndarray:
    """The rows a count or ``funded(EXPR)`` adds to: ``mask`` less the follow-ons its
    booked ids already count."""
    if c.booked is None or c.measure not in (Measure.COUNT, Measure.FUNDED) \
            or not c.booked.ids:
        return mask
    rows = np.flatnonzero(mask)     # look up only the selected ids: a district, not the table
    ids = table.frame[ID].to_numpy()[rows].astype(str)
    counted = mask.copy()
    counted[rows[np.isin(ids, list(c.booked.ids))]] = False
    return counted


def fresh_rows(table: Table, c: Constraint) -> np.ndarray:
    """Per table row: whether its id is not among the booked ids of ``c`` (all True
    without a book): the rows a count or funded side of a ratio adds to."""
    n = len(table.frame)
    if c.booked is None or not c.booked.ids:
        return np.ones(n, dtype=bool)
    ids = table.frame[ID].to_numpy().astype(str)
    return ~np.isin(ids, list(c.booked.ids))


def stake_room(follow_on: np.ndarray | None, stake_cap: np.ndarray) -> np.ndarray:
    """``max_stake·fund_size`` less what the book holds for the same sub-fund."""
    if follow_on is None:
        return stake_cap
    return stake_cap - follow_on


def fund_measure(c: Constraint, x: np.ndarray, column: np.ndarray | None,
                 budget: float) -> float:
    """The value of a fund-scope constraint over the book and this round's ``x``
    (``x`` and ``column`` over the rows the constraint selects; NaN for an avg over
    nothing funded)."""
    p = c.booked
    assert p is not None
    if c.measure is Measure.COUNT:
        return float((x > ZERO).sum() + len(p.ids))
    if c.measure is Measure.FUNDED:
        assert column is not None
        return float(column[x > ZERO].sum()) + p.weighted
    if c.measure is Measure.GROUPS:     # ``column``: codes, -1 for blanks and booked values
        assert column is not None
        codes = column[x > ZERO]
        return float(len(np.unique(codes[codes >= 0])) + len(p.values))
    amount = float(x.sum()) + p.amount
    if c.measure is Measure.AMOUNT:
        return amount
    if c.measure is Measure.SHARE:
        return amount / share_base(c, budget)
    assert column is not None
    weighted = float(column @ x) + p.weighted
    if c.measure is Measure.SUM:
        return weighted
    return weighted / amount if amount > ZERO else float("nan")


def avg_money(c: Constraint, x: np.ndarray) -> float:
    """Σx an avg is over (the book's part included): d(row)/d(bound) for its price."""
    return float(x.sum()) + (c.booked.amount if c.booked is not None else 0.0)


def book_totals(view: FundView, table: Table, amounts: np.ndarray, decimals: int
                ) -> BookTotals:
    """The book beside this round's plan: totals by region, category and district (values
    of this round's table first, then those only the book has) and the follow-ons.

    Sums are rounded to ``decimals`` (the amounts' grid, ``optimizer.amounts``) so that
    they carry no float noise; booked amounts were written on such a grid too.
    """
    frame, booked = table.frame, view.frame
    groups = {}
    for column in GROUPS:
        if column not in frame.columns and column not in booked.columns:
            continue
        now = _sums(frame, column, amounts)
        before = (_sums(booked, column, booked["amount"].to_numpy(float))
                  if column in booked.columns else pd.Series(dtype=float))
        values = list(dict.fromkeys([*now.index, *before.index]))
        groups[column] = tuple((str(v), round(float(before.get(v, 0.0)), decimals),
                                round(float(now.get(v, 0.0)), decimals)) for v in values)
    follow = np.flatnonzero(view.follow_on > 0)
    ids = frame[ID].astype(str).to_numpy()
    follow_ons = tuple((str(ids[i]), round(float(view.follow_on[i]), decimals),
                        float(amounts[i])) for i in follow)
    return BookTotals(view.location, view.rounds, round(view.total, decimals),
                      round(float(amounts.sum()), decimals), groups, follow_ons, decimals,
                      None if view.state is None else view.state.as_json())


def _sums(frame: pd.DataFrame, column: str, amounts: np.ndarray) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(dtype=float)
    keys = frame[column].fillna("").astype(str).str.strip()
    return pd.Series(amounts, index=keys.to_numpy()).groupby(level=0, sort=False).sum()
