"""Over which range of its limit a shadow price holds (``fundopt solve --ranges``).

The best objective as a function of one bound b is piecewise linear and concave (in the
improving direction) for an LP, and the shadow price is its slope at the written bound
b0. The price holds on the piece through b0. Each end of that piece is found by
parametric re-solves with the bound moved: start at the far end of the bound's useful
range, and while the objective there lies below the line through b0, move to where the
tangent at the probe (its own dual) meets that line. Concavity makes every step land on
or beyond the breakpoint, and the step after an adjacent piece lands on it exactly, so a
handful of LP solves per side suffice (at most ``MAX_STEPS``).

As for the shadow prices themselves, a MILP is ranged with its binary choices fixed at
the optimum: the range is where the price holds for the same funded set. The budget moves
alone, with share limits held at their amounts, as in its shadow price.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from fundopt.models.domain import Sense
from fundopt.optimizer.matrix import LinearModel, RowKind, activity_range
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import ConstraintValue, Result

RANGED_MEASURES = ("amount", "share", "sum")
MAX_STEPS = 10           # per side: at most 20 re-solves per constraint
_REL_TOL = 1e-7

# objective (improving sense) and its slope in the bound at a trial bound; None: infeasible
Probe = Callable[[float], tuple[float, float] | None]


@dataclass(frozen=True)
class _Line:
    at: float            # b0
    value: float         # objective at b0, improving sense
    slope: float         # d objective / d b at b0, improving sense


def price_ranges(problem: Problem, result: Result) -> Result:
    """``result`` with ``price_range_low`` / ``price_range_high`` set on the budget and
    every binding amount, share and sum constraint.

    Parameters
    ----------
    problem
        The problem ``result`` was solved from.
    result
        An optimal (or feasible) result.

    Returns
    -------
    Result
        The same result; ranged lines carry the interval of the bound, in the units it
        is written in, over which their shadow price holds (±inf when open-ended).
    """
    if not result.is_ok:
        return result
    lp = problem.fixed_lp(result.funded)
    low, high = activity_range(lp)
    report = []
    for c in result.constraints:
        row = _row(lp, c)
        if row is None or not c.binding:
            report.append(c)
            continue
        per_unit, offset = lp.tags[row].per_unit, lp.tags[row].offset   # offset: the book
        lo_r, hi_r = sorted(((float(low[row]) + offset) / per_unit,
                             (float(high[row]) + offset) / per_unit))
        edges = _range(problem, lp, row, c, per_unit, lo_r, hi_r)
        report.append(replace(c, price_range_low=edges[0], price_range_high=edges[1]))
    return replace(result, constraints=tuple(report))


def _row(model: LinearModel, c: ConstraintValue) -> int | None:
    if c.id != "budget" and c.measure not in RANGED_MEASURES:
        return None
    for r, tag in enumerate(model.tags):
        if tag.key == c.id and tag.kind is RowKind.POLICY:
            return r
    return None


def _range(problem: Problem, model: LinearModel, row: int, c: ConstraintValue, per_unit: float,
           activity_low: float, activity_high: float) -> tuple[float, float]:
    side = c.bound or "max"
    b0 = c.max if side == "max" else c.min
    assert b0 is not None
    sign = 1.0 if model.sense is Sense.MAXIMIZE else -1.0
    probe = _prober(problem, model, row, side, per_unit, sign)
    start = probe(b0)
    if start is None:
        return b0, b0
    line = _Line(b0, start[0], start[1])
    # the far ends: beyond them the row cannot bind (loosening) or cannot be met at all
    other = c.min if side == "max" else c.max
    down = max(activity_low, other) if side == "max" and other is not None else activity_low
    up = min(activity_high, other) if side == "min" and other is not None else activity_high
    loosen_up = side == "max"
    ends = (_edge(probe, line, min(down, b0), loosening=not loosen_up),
            _edge(probe, line, max(up, b0), loosening=loosen_up))
    # an end within solver noise of b0 is b0: the bound sits on a breakpoint
    near = 1e-9 * max(1.0, abs(b0))
    low_end, high_end = (b0 if abs(end - b0) <= near else end for end in ends)
    return low_end, high_end


def _prober(problem: Problem, model: LinearModel, row: int, side: str, per_unit: float,
            sign: float) -> Probe:
    def probe(bound: float) -> tuple[float, float] | None:
        lower, upper = model.row_lower.copy(), model.row_upper.copy()
        (upper if side == "max" else lower)[row] = bound * per_unit - model.tags[row].offset
        outcome = problem.run(model.with_rows(lower, upper), role="fixed")
        if outcome.values is None or outcome.duals is None:
            return None
        value = sign * float(model.cost @ outcome.values)
        return value, sign * float(outcome.duals[row]) * per_unit

    return probe


def _edge(probe: Probe, line: _Line, far: float, loosening: bool) -> float:
    """The end of the piece through ``line.at`` towards ``far``: ±inf when loosening with
    a zero price reaches ``far``, where the bound stops mattering."""
    if far == line.at:
        return far
    tol = _REL_TOL * max(1.0, abs(line.value))
    trial, inside = far, line.at
    for _ in range(MAX_STEPS):
        found = probe(trial)
        on_line = found is not None and (
            found[0] >= line.value + line.slope * (trial - line.at) - tol)
        if on_line:
            if trial == far and loosening and line.slope == 0:
                return float(np.inf) if far > line.at else float(-np.inf)
            return trial
        nxt = _meet(line, trial, found)
        if nxt is not None and abs(nxt - inside) <= 1e-9 * max(1.0, abs(inside)):
            return inside                # the tangent meets the line at b0: a breakpoint
        if nxt is None or not min(inside, trial) < nxt < max(inside, trial):
            nxt = (inside + trial) / 2   # infeasible probe or noise: halve the distance
        if abs(nxt - trial) <= 1e-9 * max(1.0, abs(trial)):
            return nxt
        trial = nxt
    return trial


def _meet(line: _Line, at: float, found: tuple[float, float] | None) -> float | None:
    """Where the tangent at the probe meets the line through b0."""
    if found is None or found[1] == line.slope:
        return None
    value, slope = found
    return (value - line.value - slope * at + line.slope * line.at) / (line.slope - slope)
