"""Explain an infeasible policy: the smallest change that makes it feasible, and a set of
constraints that conflict.

The relaxation is an elastic re-solve: every policy bound gets a slack column and a
binary that says whether it moves. Stage 1 minimises how many policy lines move; stage 2,
among those, minimises the total move, each scaled by its own bound. An ``avg`` bound
sits in its row's coefficients, so its slack is in money (the move times the money the
average is over) and stage 2 would shrink the money to shrink the slack; each moved
``avg`` bound is therefore fixed at the smallest move that holds (Dinkelbach's method on
the average), and the other lines are moved again around it. Ticket bounds, ``must`` /
``exclude`` and the budget (the capital at hand) stay hard. The conflict is an
irreducible infeasible set of policy constraints found by deletion filtering.

Every solve runs on a model the ``Problem`` holds: the elastic model is built once per
problem shape and only its bounds move between calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from fundopt.models.domain import ID, Measure, Sense
from fundopt.optimizer.amounts import clean
from fundopt.optimizer.matrix import (
    INF,
    LinearModel,
    RowKind,
    RowTag,
    activity_range,
    append_cols,
    append_rows,
    coo,
    with_entries,
)
from fundopt.optimizer.report import Line, measure
from fundopt.optimizer.result import Diagnosis, Relaxation, SolveStatus

if TYPE_CHECKING:
    from fundopt.optimizer.problem import Problem

# Dinkelbach steps per moved avg bound (each is one solve; it converges in a few).
MAX_AVG_STEPS = 8


@dataclass(frozen=True)
class _Bound:
    """One relaxable policy bound: a side of a model row."""

    row: int
    key: str          # the constraint id
    side: str         # "min" or "max"
    limit: float      # room the slack may need (from the row's activity range)
    weight: float     # 1 / (the bound's size in row units): moves are compared relatively


def diagnose(problem: Problem) -> Diagnosis:
    """Suggest the fewest, smallest bound changes and name a conflicting set."""
    built = problem.built
    if built.infeasible_reasons:
        return Diagnosis(relaxation=(), conflict=(), messages=built.infeasible_reasons)
    model = problem.model
    hard = {c.id: c.hard for c in built.constraints}
    bounds = _relaxable_bounds(model, hard)
    elastic = _elastic(model, bounds)
    plan = _elastic_plan(problem, elastic, bounds)
    if plan is None:
        return Diagnosis((), ("budget",), (_must_message(problem),))
    amounts = clean(plan, model.n)
    moves = {line.id: _moves(line, amounts, problem.policy.budget) for line in problem.lines}
    relaxation = tuple(r for found in moves.values() for r in found)
    conflict = _conflict(problem, {key for key, found in moves.items() if found})
    return Diagnosis(relaxation=relaxation, conflict=conflict)


def _relaxable_bounds(model: LinearModel, hard: dict[str, tuple[str, ...]]) -> list[_Bound]:
    activity_low, activity_high = activity_range(model)
    found = []
    for r, tag in enumerate(model.tags):
        if tag.kind is not RowKind.POLICY:
            continue
        lower, upper = model.row_lower[r], model.row_upper[r]
        low_side, high_side = tag.side or "min", tag.side or "max"
        if np.isfinite(lower) and low_side not in hard.get(tag.key, ()):
            found.append(_Bound(r, tag.key, low_side, max(0.0, lower - activity_low[r]),
                                1.0 / max(abs(lower), 1.0)))
        if np.isfinite(upper) and high_side not in hard.get(tag.key, ()):
            found.append(_Bound(r, tag.key, high_side, max(0.0, activity_high[r] - upper),
                                1.0 / max(abs(upper), 1.0)))
    return found


def _elastic(model: LinearModel, bounds: list[_Bound]) -> LinearModel:
    """The model with a slack per relaxable bound and a binary per moved (line, side):
    row + s ≥ lower (min side), row − s ≤ upper (max side), s ≤ limit·z; stage-1 costs."""
    groups = sorted({(b.key, b.side) for b in bounds})
    group_of = {g: k for k, g in enumerate(groups)}
    cols, ns, nz = model.num_cols, len(bounds), len(groups)
    slack = cols + np.arange(ns)
    rows = np.array([b.row for b in bounds], dtype=int)
    signs = np.array([1.0 if b.side == "min" else -1.0 for b in bounds])
    limits = np.array([b.limit for b in bounds])
    link_rows = model.num_rows + np.arange(ns)
    z_of = np.array([cols + ns + group_of[(b.key, b.side)] for b in bounds], dtype=int)
    coo_rows, coo_cols, coo_vals = coo(model)
    grown = append_cols(replace(model, sense=Sense.MINIMIZE, cost=np.zeros(cols)),
                        cost=np.concatenate([np.zeros(ns), np.ones(nz)]),
                        lower=np.zeros(ns + nz), upper=np.concatenate([limits, np.ones(nz)]),
                        integer=np.concatenate([np.zeros(ns), np.ones(nz)]))
    return with_entries(
        grown,
        np.concatenate([coo_rows, rows, link_rows, link_rows]),
        np.concatenate([coo_cols, slack, slack, z_of]),
        np.concatenate([coo_vals, signs, np.ones(ns), -limits]),
        np.concatenate([model.row_lower, np.full(ns, -INF)]),
        np.concatenate([model.row_upper, np.zeros(ns)]),
        model.tags + (RowTag(RowKind.LINK, "elastic"),) * ns)


def _elastic_plan(problem: Problem, elastic: LinearModel, bounds: list[_Bound]
                  ) -> np.ndarray | None:
    """Column values of the elastic model after both stages, or None if it is infeasible."""
    cols = problem.model.num_cols
    ns = len(bounds)
    nz = elastic.num_cols - cols - ns
    z = cols + ns + np.arange(nz)
    first = problem.run(elastic, role="elastic")
    if first.values is None:
        return None
    fewest = math.ceil(float(first.values[z].sum()) - 1e-6)
    # stage 2: at most that many lines move, each as little as possible (relative size)
    weights = np.array([b.weight for b in bounds])
    stage2 = append_rows(elastic, [(z, np.ones(nz), -INF, float(fewest))],
                         RowTag(RowKind.LINK, "fewest"))
    stage2 = replace(stage2, cost=np.concatenate([np.zeros(cols), weights, np.zeros(nz)]))
    second = problem.run(stage2, role="elastic")
    values = first.values if second.values is None else second.values
    return _settle_averages(problem, stage2, bounds, values)


def _settle_averages(problem: Problem, stage2: LinearModel, bounds: list[_Bound],
                     values: np.ndarray) -> np.ndarray:
    """Fix each moved ``avg`` bound at its smallest sufficient move, then move the other
    lines again around it (their moves are measured in their own units)."""
    model, n = problem.model, problem.model.n
    cols = model.num_cols
    by_id = {line.id: line for line in problem.lines}
    for k, b in enumerate(bounds):
        line = by_id[b.key]
        if line.measure is not Measure.AVG or values[cols + k] <= 1e-9 * max(1.0, b.limit):
            continue
        found = measure(line, clean(values, n), problem.policy.budget)
        bound = _tightest_average(problem, stage2, b, cols + k, line, found)
        stage2 = _with_average_bound(stage2, b, cols + k, line, bound)
        again = problem.run(stage2, role="elastic")
        if again.values is not None:
            values = again.values
    return values[:cols]


def _with_average_bound(model: LinearModel, b: _Bound, slack: int, line: Line,
                        bound: float) -> LinearModel:
    """``model`` with the avg row of ``b`` at ``bound`` (Σ (COL − bound)·x) and its slack
    column closed: the bound is moved in its own units instead."""
    assert line.column is not None
    start, end = int(model.start[b.row]), int(model.start[b.row + 1])
    value = model.value.copy()
    cols = model.index[start:end]
    x = cols < model.n
    value[start:end][x] = line.column[cols[x]] - bound
    upper = model.col_upper.copy()
    upper[slack] = 0.0
    return replace(model, value=value, col_upper=upper)


def _tightest_average(problem: Problem, elastic: LinearModel, b: _Bound, slack: int,
                      line: Line, found: float) -> float:
    """The smallest move of an avg bound that still holds with the other lines relaxed:
    Dinkelbach's method on the average over the line's rows, starting from ``found``."""
    assert line.column is not None
    n = problem.model.n
    sign = 1.0 if b.side == "max" else -1.0   # minimise the average (max) or maximise (min)
    selected = np.zeros(elastic.num_cols, bool)
    selected[:n] = True if line.mask is None else line.mask
    coefs = np.zeros(elastic.num_cols)
    best = found
    for _ in range(MAX_AVG_STEPS):
        trial = _with_average_bound(elastic, b, slack, line, best)
        coefs[:n] = sign * (line.column - best)
        outcome = problem.run(replace(trial, cost=np.where(selected, coefs, 0.0)),
                              role="elastic")
        if outcome.values is None:
            break
        amounts = clean(outcome.values, n)
        average = measure(line, amounts, problem.policy.budget)
        if math.isnan(average) or sign * (average - best) >= -1e-9 * max(1.0, abs(best)):
            break
        best = average
    return best


def _moves(line: Line, amounts: np.ndarray, budget: float) -> list[Relaxation]:
    """The bound changes of ``line`` that the elastic plan needed."""
    value = measure(line, amounts, budget)
    if math.isnan(value):
        return []
    moves = []
    tol = 1e-7 * max(1.0, abs(value))
    if line.min is not None and value < line.min - tol:
        moves.append(_relaxation(line, "min", _outward(value, -1)))
    if line.max is not None and value > line.max + tol:
        moves.append(_relaxation(line, "max", _outward(value, 1)))
    return moves


def _outward(value: float, direction: int) -> float:
    """``value`` to 6 decimals, rounded away from the violated bound unless it is noise."""
    nearest = round(value, 6)
    if abs(nearest - value) <= 1e-9 * max(1.0, abs(value)):
        return nearest
    scaled = value * 1e6
    return (math.ceil(scaled) if direction > 0 else math.floor(scaled)) / 1e6


def _relaxation(line: Line, side: str, new: float) -> Relaxation:
    """The move of one bound, in the units and under the key the planner wrote it."""
    c = line.constraint
    key = c.keys[0 if side == "min" else 1]
    old = c.as_written(side)
    to = c.as_written(side, new)
    assert old is not None and to is not None
    if to != new:        # written in other units (min_deploy): round again, outwards
        to = _outward(to, -1 if side == "min" else 1)
    # built-in lines (budget, funded) are named by the policy key they were written under
    name = c.label if c.rule.origin else key
    return Relaxation(constraint=name, bound=side, from_value=old, to_value=to, key=key)


def _conflict(problem: Problem, moved: set[str]) -> tuple[str, ...]:
    """Deletion filter: drop each policy line in turn, keep it only if the rest is feasible.

    Lines that had to move, and then the budget, are tried last, so the set found tends to
    contain them: the conflict a planner expects ("shares that add up to more than the
    budget") rather than an equivalent one through, say, a capital-call cap.
    """
    lines = problem.lines

    def rank(line: Line) -> int:
        return 2 if line.id == "budget" else int(line.id in moved)

    model = problem.model
    rows_of: dict[str, list[int]] = {}
    for r, tag in enumerate(model.tags):
        if tag.kind is RowKind.POLICY:
            rows_of.setdefault(tag.key, []).append(r)
    feasibility = replace(model, cost=np.zeros_like(model.cost))
    active = {ln.id for ln in lines}
    for line in sorted(lines, key=rank):
        dropped = [r for key in ({ln.id for ln in lines} - active) | {line.id}
                   for r in rows_of.get(key, [])]
        lower, upper = model.row_lower.copy(), model.row_upper.copy()
        lower[dropped], upper[dropped] = -INF, INF
        outcome = problem.run(feasibility.with_rows(lower, upper), gap=1.0)
        if outcome.status is SolveStatus.INFEASIBLE:
            active.discard(line.id)
    return tuple(ln.label for ln in lines if ln.id in active)


def _must_message(problem: Problem) -> str:
    """Why nothing helps: the must-fund rows (and their minimum tickets) against the budget."""
    model, table = problem.model, problem.table
    must = np.flatnonzero(model.col_lower[: model.n] > 0)
    ids = table.frame[ID].astype(str).to_numpy()[must]
    total = float(model.col_lower[must].sum())
    budget = problem.policy.budget
    unit = problem.policy.unit
    if total > budget:
        return (f"the must-fund sub-funds {', '.join(ids)} need at least {total:g} {unit} "
                f"in all (their minimum tickets), more than the budget of {budget:g} {unit}")
    return (f"the policy stays infeasible even with every policy bound relaxed: the "
            f"must-fund sub-funds {', '.join(ids) or '(none)'} (at least {total:g} {unit}) "
            "and the ticket bounds conflict")
