"""Measure every policy constraint on a plan: value, slack, binding side, shadow price."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from fundopt.models.domain import Constraint, Measure, Policy, Sense, Table
from fundopt.models.rules.expansion import selection_mask
from fundopt.models.rules.expression import column_values
from fundopt.optimizer.amounts import ZERO
from fundopt.optimizer.build import Built, Select
from fundopt.optimizer.fund import avg_money, counted_rows, fresh_rows, fund_measure
from fundopt.optimizer.matrix import RowKind
from fundopt.optimizer.result import ConstraintValue

BINDING_TOL = 1e-6


@dataclass(frozen=True)
class Line:
    """A constraint ready to be measured on a plan: its selection and column as arrays."""

    constraint: Constraint
    mask: np.ndarray | None          # None = every row
    column: np.ndarray | None        # for sum / avg / funded
    # a ratio's numerator and denominator columns (None: amount / count)
    parts: tuple[np.ndarray | None, np.ndarray | None] = (None, None)

    @property
    def id(self) -> str:
        return self.constraint.id

    @property
    def label(self) -> str:
        return self.constraint.label

    @property
    def measure(self) -> Measure:
        return self.constraint.measure

    @property
    def min(self) -> float | None:
        return self.constraint.min

    @property
    def max(self) -> float | None:
        return self.constraint.max


def policy_lines(table: Table, constraints: tuple[Constraint, ...],
                 select: Select | None = None) -> list[Line]:
    """One line per constraint (``Built.constraints``: the budget and funded count too)."""
    select = select or partial(selection_mask, table)
    # a blank is allowed only where no money can go (an excluded row): it measures as 0
    def values(text: str | None) -> np.ndarray | None:
        return None if text is None else np.nan_to_num(column_values(table.frame, text))

    def ratio(c: Constraint) -> tuple[np.ndarray | None, np.ndarray | None]:
        if c.rule.ratio is None:
            return None, None
        sides = []
        for part in c.rule.ratio:
            side = values(part.expression)
            if c.booked is not None and part.on_funded:   # follow-ons: counted by the book
                fresh = fresh_rows(table, c)
                side = np.where(fresh, 1.0 if side is None else side, 0.0)
            sides.append(side)
        return sides[0], sides[1]

    def column(c: Constraint) -> np.ndarray | None:
        if c.measure is Measure.GROUPS:      # the values as codes (blank: -1)
            assert c.column is not None
            text = table.frame[c.column].astype(str).str.strip()
            codes = pd.factorize(text)[0].astype(float)
            covered = ["", "nan", *(c.booked.values if c.booked is not None else ())]
            return np.where(text.isin(covered).to_numpy(), -1.0, codes)
        return values(c.column)

    # a fund-scope count or funded(...) skips the follow-ons even with no where
    return [Line(c, counted_rows(table, c, select(c.where))
                 if c.where or c.booked is not None else None,
                 column(c), ratio(c))
            for c in constraints]


def measure(line: Line, amounts: np.ndarray, budget: float) -> float:
    """The value of ``line``'s measure on a plan (NaN for an avg over nothing funded);
    for scope ``fund``, over the fund's book and the plan together."""
    x = amounts if line.mask is None else amounts[line.mask]
    if line.constraint.booked is not None and line.measure is Measure.RATIO:
        sides = line.constraint.booked.sides
        top, bottom = (part_value(line, k, x) + sides[k] for k in (0, 1))
        return top / bottom if bottom > ZERO else float("nan")
    if line.constraint.booked is not None:
        column = line.column if line.column is None or line.mask is None \
            else line.column[line.mask]
        return fund_measure(line.constraint, x, column, budget)
    if line.measure is Measure.AMOUNT:
        return float(x.sum())
    if line.measure is Measure.SHARE:
        return float(x.sum() / budget)
    if line.measure is Measure.COUNT:
        return float((x > ZERO).sum())
    if line.measure is Measure.RATIO:
        top, bottom = (part_value(line, k, x) for k in (0, 1))
        return top / bottom if bottom > ZERO else float("nan")
    assert line.column is not None
    column = line.column if line.mask is None else line.column[line.mask]
    if line.measure is Measure.FUNDED:
        return float(column[x > ZERO].sum())
    if line.measure is Measure.GROUPS:
        codes = column[x > ZERO]
        return float(len(np.unique(codes[codes >= 0])))
    weighted = float(column @ x)
    if line.measure is Measure.SUM:
        return weighted
    total = float(x.sum())
    return weighted / total if total > ZERO else float("nan")


def part_value(line: Line, k: int, x: np.ndarray) -> float:
    """The value of side ``k`` (0 numerator, 1 denominator) of a ratio on the plan ``x``
    (over the rows the line selects)."""
    ratio = line.constraint.rule.ratio
    assert ratio is not None
    part, column = ratio[k], line.parts[k]
    if column is not None and line.mask is not None:
        column = column[line.mask]
    funded = x > ZERO
    if part.kind is Measure.AMOUNT:
        return float(x.sum())
    if part.kind is Measure.COUNT:     # a column of 0/1: follow-ons of the book are 0
        return float(funded.sum() if column is None else column[funded].sum())
    assert column is not None
    return float(column @ x) if part.kind is Measure.SUM else float(column[funded].sum())


def slack_and_side(line: Line, value: float) -> tuple[float, str | None]:
    """Distance to the nearest bound, and which bound it is (None if no bound applies)."""
    if np.isnan(value):
        return float("inf"), None
    gaps = {}
    if line.min is not None:
        gaps["min"] = value - line.min
    if line.max is not None:
        gaps["max"] = line.max - value
    if not gaps:
        return float("inf"), None
    side = min(gaps, key=lambda k: gaps[k])
    return gaps[side], side


def constraint_report(built: Built, lines: list[Line], amounts: np.ndarray,
                      duals: np.ndarray | None, policy: Policy) -> tuple[ConstraintValue, ...]:
    """One ``ConstraintValue`` per policy line.

    ``duals`` are dObjective/dRowBound per model row (from the LP, or the LP with the
    binaries fixed). The shadow price is turned into "objective improvement per unit the
    binding bound is loosened": positive or zero at an optimum, for either sense. A count
    in a MILP has none (NaN): its binaries are fixed in that LP.
    """
    model = built.model
    improving = 1.0 if model.sense is Sense.MAXIMIZE else -1.0
    rows_of: dict[str, list[int]] = {}
    for r, tag in enumerate(model.tags):
        if tag.kind is not RowKind.LINK:
            rows_of.setdefault(tag.key, []).append(r)
    report = []
    for line in lines:
        value = measure(line, amounts, policy.budget)
        slack, side = slack_and_side(line, value)
        bound = line.max if side == "max" else line.min
        binding = side is not None and slack <= BINDING_TOL * max(1.0, abs(bound or 0.0))
        price = 0.0
        if binding and line.measure in (Measure.COUNT, Measure.GROUPS) and model.is_mip:
            # the count's binaries are fixed in the LP the duals come from: no price
            price = float("nan")
        elif binding and duals is not None:
            price = _shadow_price(model.tags, rows_of.get(line.id, []), duals, side, line,
                                  amounts, improving)
        c = line.constraint
        round_value = None
        if c.booked is not None:     # scope fund: this round's part beside the fund's value
            alone = replace(line, constraint=replace(c, booked=None))
            round_value = measure(alone, amounts, policy.budget)
        report.append(ConstraintValue(
            id=line.id, label=line.label, measure=str(line.measure), value=value,
            min=line.min, max=line.max, slack=slack, binding=binding,
            shadow_price=price, bound=side if binding else None, keys=c.keys,
            written=(c.as_written("min"), c.as_written("max")),
            scope=str(c.rule.scope), round_value=round_value,
            penalty=c.rule.penalty if c.rule.target else None, caption=c.caption,
        ))
    return tuple(report)


def _shadow_price(tags: tuple, rows: list[int], duals: np.ndarray, side: str | None,
                  line: Line, amounts: np.ndarray, improving: float) -> float:
    loosen = 1.0 if side == "max" else -1.0
    total = 0.0
    for r in rows:
        tag = tags[r]
        if tag.side is not None and tag.side != side:
            continue
        per_unit = tag.per_unit
        if line.measure is Measure.AVG:
            # Σ(COL − b)·x ≤ 0: moving b by δ moves the row by δ·Σx (envelope theorem)
            x = amounts if line.mask is None else amounts[line.mask]
            per_unit = avg_money(line.constraint, x)
        elif line.measure is Measure.RATIO:
            # M1 − b·M2 ≥ 0: moving b by δ moves the row by δ·M2
            x = amounts if line.mask is None else amounts[line.mask]
            per_unit = part_value(line, 1, x)
        total += improving * loosen * float(duals[r]) * per_unit
    return 0.0 if abs(total) < 1e-12 else total
