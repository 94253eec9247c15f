"""What the book contributes to each ``scope = "fund"`` constraint (SPEC §9).

For a constraint over the rows ``where`` selects, the booked commitments it also selects
(matched on the columns booked with them) add a constant to what the constraint
measures: their amount (``amount``, ``share``), Σ COL·amount (``sum``, ``avg``), or their
distinct ids (``count``). A row of this round's table whose id is in the book is a
follow-on: it adds no new id to a count, and ``max_stake`` caps its booked plus new
commitment. This module computes those constants from the book; the model applies them
(``optimizer.fund``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from fundopt.errors import InputError
from fundopt.models.domain import (
    ID,
    BookedPart,
    Constraint,
    Measure,
    Not,
    Part,
    Policy,
    Range,
    Scope,
    Table,
    Where,
)
from fundopt.models.rules.expression import column_values
from fundopt.models.store.book import Booked, BookState, display_location, open_book


@dataclass(frozen=True)
class FundView:
    """The book as one round's model sees it.

    ``total`` is every booked commitment (rounds not void); ``parts`` holds a
    ``BookedPart`` per fund-scope constraint id; ``follow_on[i]`` is what the book holds
    for the id of table row i (0 for a new sub-fund); ``rounds`` names the rounds counted;
    ``frame`` has the booked commitments (``models.store.book.Booked.frame``); ``state`` is the
    book's state (``book add`` refuses a plan once the book has changed from it).
    """

    location: str
    rounds: tuple[str, ...]
    total: float
    parts: dict[str, BookedPart]
    follow_on: np.ndarray
    frame: pd.DataFrame
    state: BookState | None = None       # what a plan solved against this view records
    # Per table row: the rounds that booked its id ("2024", "2024, 2025"; "" for a new one).
    follow_on_rounds: np.ndarray | None = None

    def attach(self, constraints: tuple[Constraint, ...]) -> tuple[Constraint, ...]:
        """The constraints with their booked parts (fund scope) attached."""
        return tuple(replace(c, booked=self.parts[c.id]) if c.id in self.parts else c
                     for c in constraints)


def read_fund(location: str, table: Table, policy: Policy,
              constraints: Sequence[Constraint]) -> FundView:
    """Open the book at ``location`` and see it from this round (``solve --book``).

    Raises
    ------
    InputError
        The book cannot be opened, or its rounds do not fit this round's policy.
    """
    with open_book(location) as book:
        booked = book.booked()
    return fund_view(table, policy, constraints, booked)


def fund_view(table: Table, policy: Policy, constraints: Sequence[Constraint],
              booked: Booked) -> FundView:
    """The book's contribution to every fund-scope constraint and to each follow-on.

    Raises
    ------
    InputError
        This table is already booked, the book's amounts are in another unit than the
        policy's, or a booked commitment a ``sum`` / ``avg`` constraint selects has no
        value in its column.
    """
    frame = booked.frame
    for info in booked.rounds:
        if info.input_sha256 == table.sha256:
            raise InputError(code="input.fund.table_booked",
                             values={"name": info.name}, file=str(table.path))
        if info.unit != policy.unit:
            raise InputError(code="input.fund.unit_differs",
                             values={"name": info.name, "unit": info.unit,
                                     "policy_unit": policy.unit, "source": policy.source},
                             file=display_location(booked.location))
    amounts = frame["amount"].to_numpy(float) if len(frame) else np.zeros(0)
    parts = {}
    for c in constraints:
        if c.rule.scope is not Scope.FUND:
            continue
        mask = booked_mask(frame, c.where)
        weighted, sides, values = 0.0, (0.0, 0.0), frozenset[str]()
        if c.measure in (Measure.SUM, Measure.AVG) and mask.any():
            assert c.column is not None
            weighted = float(_booked_column(booked, mask, c.column, c) @ amounts[mask])
        elif c.measure is Measure.FUNDED and mask.any():
            assert c.column is not None
            weighted = _per_sub_fund(booked, mask, c.column, c)
        elif c.measure is Measure.RATIO and mask.any():
            assert c.rule.ratio is not None
            top, bottom = (_side(booked, mask, amounts, part, c) for part in c.rule.ratio)
            sides = (top, bottom)
        elif c.measure is Measure.GROUPS and mask.any() and c.column in frame.columns:
            cells = frame.loc[mask, c.column]
            keys = cells[cells.notna()].astype(str).str.strip()
            values = frozenset(k for k in keys if k not in ("", "nan"))
        ids = frozenset(frame.loc[mask, ID].astype(str)) if mask.any() else frozenset()
        parts[c.id] = BookedPart(float(amounts[mask].sum()), weighted, ids, booked.total,
                                 sides, values)
    by_id = (frame.groupby(frame[ID].astype(str))["amount"].sum() if len(frame)
             else pd.Series(dtype=float))
    follow_on = table.frame[ID].astype(str).map(by_id).fillna(0.0).to_numpy(float)
    rounds_of: dict[str, dict[str, None]] = {}      # id → its rounds, in booking order
    for row_id, name in zip(frame[ID].astype(str), frame["round"].astype(str), strict=True):
        rounds_of.setdefault(row_id, {})[name] = None
    rounds = np.array([", ".join(rounds_of.get(i, [])) for i in table.frame[ID].astype(str)],
                      dtype=object)
    return FundView(booked.location, tuple(r.name for r in booked.rounds), booked.total,
                    parts, follow_on, frame, booked.state, rounds)


def _booked_column(booked: Booked, mask: np.ndarray, expression: str, c: Constraint
                   ) -> np.ndarray:
    """``expression`` over the booked commitments ``mask`` selects.

    Raises
    ------
    InputError
        A selected booked commitment has no value for it.
    """
    frame = booked.frame
    column = column_values(frame, expression)[mask]
    missing = np.flatnonzero(np.isnan(column))
    if len(missing):
        row = frame.loc[mask].iloc[int(missing[0])]
        raise InputError(code="input.fund.booked_value_missing",
                         values={"id": row[ID], "round": row["round"], "expression": expression,
                                 "label": c.label, "origin": c.rule.origin},
                         file=display_location(booked.location), column=expression)
    return column


def _per_sub_fund(booked: Booked, mask: np.ndarray, expression: str, c: Constraint
                  ) -> float:
    """Σ ``expression`` over the distinct booked sub-funds ``mask`` selects, each once
    (its latest booked row): what ``funded(EXPR)`` counts of the book."""
    column = _booked_column(booked, mask, expression, c)
    ids = booked.frame.loc[mask, ID].astype(str).to_numpy()
    latest = pd.Series(column, index=ids)
    return float(latest[~latest.index.duplicated(keep="last")].sum())


def _side(booked: Booked, mask: np.ndarray, amounts: np.ndarray, part: Part, c: Constraint
          ) -> float:
    """What the book adds to one side of a ratio: its money (amount, sum) or its distinct
    sub-funds (count, funded)."""
    if part.kind is Measure.AMOUNT:
        return float(amounts[mask].sum())
    if part.kind is Measure.COUNT:
        return float(booked.frame.loc[mask, ID].astype(str).nunique())
    assert part.expression is not None
    if part.kind is Measure.SUM:
        return float(_booked_column(booked, mask, part.expression, c) @ amounts[mask])
    return _per_sub_fund(booked, mask, part.expression, c)


def booked_mask(frame: pd.DataFrame, where: Where) -> np.ndarray:
    """The booked commitments a ``where`` selects, on the columns booked with them.

    A column a round's table did not have is blank there, so its rows are not selected.
    Values compare as text, and as numbers when both sides are numbers.
    """
    mask = np.ones(len(frame), dtype=bool)
    for column, values in where:
        if column not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        cells = frame[column]
        present = cells.notna() & (cells.astype(str).str.strip() != "")
        if values == ("*",):
            mask &= present.to_numpy(dtype=bool)
            continue
        if isinstance(values, Range):
            mask &= values.contains(pd.to_numeric(cells, errors="coerce").to_numpy(float))
            continue
        if isinstance(values, Not):
            mask &= ~booked_mask(frame, ((column, values.values),)) | ~present.to_numpy(bool)
            continue
        hit = cells.astype(str).isin(values)
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").dropna()
        if len(numbers):
            hit |= pd.to_numeric(cells, errors="coerce").isin(numbers)
        mask &= (hit & present).to_numpy(dtype=bool)
    return mask
