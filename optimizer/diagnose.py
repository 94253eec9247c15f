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
from fundopt.optimizer.fund import row_offset
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
from fundopt.optimizer.report import BINDING_TOL, Line, measure, slack_and_side
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
    """Suggest the fewest, smallest bound changes and name a conflicting set.

    With ``amount_step`` the search runs first with whole steps relaxed to continuous
    amounts, which is several times faster. Its changes are exact for the stepped model
    whenever the stepped policy holds under them (the continuous moves can only be smaller,
    so they are then the smallest); that is checked by one solve, and only when it fails
    is the stepped elastic model solved. The conflict is found the same way.
    """
    built = problem.built
    if built.infeasible_reasons:
        return Diagnosis(relaxation=(), conflict=(), messages=built.infeasible_reasons)
    model = problem.model
    continuous = _continuous_steps(model)
    hard = {c.id: c.hard for c in built.constraints}
    bounds = _relaxable_bounds(model, hard)
    moves = _relaxation_moves(problem, _elastic(continuous, bounds), bounds)
    if moves is not None and continuous is not model and not _holds(problem, moves[0]):
        # whole steps need more room: first on the same lines (no fewer can do), then any
        lines = {(line.id, r.bound) for line, r in moves[0]}
        moves = (_relaxation_moves(problem, _elastic(model, bounds, lines), bounds)
                 or _relaxation_moves(problem, _elastic(model, bounds), bounds))
    if moves is None:
        return Diagnosis((), ("budget",), (_must_message(problem),))
    found, amounts = moves
    budget = problem.policy.budget
    relaxation = tuple(r for _, r in found)
    # try the budget last, then the lines that moved, then those at a limit
    moved = {line.id for line, _ in found}
    rank = {line.id: 3 if line.id == "budget" else 2 if line.id in moved
            else int(_at_limit(line, amounts, budget)) for line in problem.lines}
    return Diagnosis(relaxation=relaxation, conflict=_conflict(problem, rank, continuous))


def _relaxation_moves(problem: Problem, elastic: LinearModel, bounds: list[_Bound]
                      ) -> tuple[list[tuple[Line, Relaxation]], np.ndarray] | None:
    """The moved lines with their changes, and the relaxed plan; None if nothing helps."""
    plan = _elastic_plan(problem, elastic, bounds)
    if plan is None:
        return None
    amounts = clean(plan, problem.model.n)
    budget = problem.policy.budget
    return [(line, r) for line in problem.lines for r in _moves(line, amounts, budget)], amounts


def _continuous_steps(model: LinearModel) -> LinearModel:
    """``model`` with its whole-step columns (after x and the binaries) made continuous."""
    steps = np.arange(model.num_cols) >= model.n + len(model.binary_rows)
    if not (model.integer & steps).any():
        return model
    return replace(model, integer=model.integer & ~steps)


def _rows_of(model: LinearModel) -> dict[str, list[int]]:
    """The model rows of each policy line."""
    rows: dict[str, list[int]] = {}
    for r, tag in enumerate(model.tags):
        if tag.kind is RowKind.POLICY:
            rows.setdefault(tag.key, []).append(r)
    return rows


def _holds(problem: Problem, moves: list[tuple[Line, Relaxation]]) -> bool:
    """Whether the model as built has a plan once every suggested change is applied."""
    if any(line.measure is Measure.RATIO for line, _ in moves):
        return False    # a ratio's bound sits in its coefficients: search the model as built
    model = problem.model
    lower, upper, value = model.row_lower.copy(), model.row_upper.copy(), model.value.copy()
    rows_of = _rows_of(model)
    for line, r in moves:
        moved = line.constraint.with_written(r.bound, r.to_value)
        bound = moved.min if r.bound == "min" else moved.max
        assert bound is not None
        side = lower if r.bound == "min" else upper
        for row in rows_of[line.id]:
            tag = model.tags[row]
            if line.measure is Measure.AVG and tag.side == r.bound:
                assert line.column is not None
                start, end = int(model.start[row]), int(model.start[row + 1])
                value[start:end] = line.column[model.index[start:end]] - bound
                side[row] = -row_offset(line.constraint, bound)   # as _with_average_bound
            elif line.measure is not Measure.AVG:
                side[row] = bound * tag.per_unit - tag.offset
    trial = replace(model, cost=np.zeros_like(model.cost), row_lower=lower, row_upper=upper,
                    value=value)
    return problem.run(trial, gap=1.0).status is not SolveStatus.INFEASIBLE


def _at_limit(line: Line, amounts: np.ndarray, budget: float) -> bool:
    slack, side = slack_and_side(line, measure(line, amounts, budget))
    return side is not None and slack <= BINDING_TOL * max(1.0, abs(line.min or 0),
                                                           abs(line.max or 0))


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


def _elastic(model: LinearModel, bounds: list[_Bound],
             only: set[tuple[str, str]] | None = None) -> LinearModel:
    """The model with a slack per relaxable bound and a binary per moved (line, side):
    row + s ≥ lower (min side), row − s ≤ upper (max side), s ≤ limit·z; with ``only``,
    the other (line, side) pairs may not move.

    Its objective ranks both stages at once: M·Σz + Σ weight·s with M above the largest
    possible weighted move, so no saving in the moves can pay for one more moved line
    (one MILP instead of two in sequence).
    """
    groups = sorted({(b.key, b.side) for b in bounds})
    group_of = {g: k for k, g in enumerate(groups)}
    cols, ns, nz = model.num_cols, len(bounds), len(groups)
    slack = cols + np.arange(ns)
    rows = np.array([b.row for b in bounds], dtype=int)
    signs = np.array([1.0 if b.side == "min" else -1.0 for b in bounds])
    limits = np.array([b.limit for b in bounds])
    weights = np.array([b.weight for b in bounds])
    per_line = 1.0 + float(weights @ limits)
    link_rows = model.num_rows + np.arange(ns)
    z_of = np.array([cols + ns + group_of[(b.key, b.side)] for b in bounds], dtype=int)
    coo_rows, coo_cols, coo_vals = coo(model)
    movable = np.array([only is None or g in only for g in groups], dtype=float)
    grown = append_cols(replace(model, sense=Sense.MINIMIZE, cost=np.zeros(cols)),
                        cost=np.concatenate([weights, np.full(nz, per_line)]),
                        lower=np.zeros(ns + nz), upper=np.concatenate([limits, movable]),
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
    """Column values of the solved elastic model, or None if it is infeasible."""
    found = problem.run(elastic, role="elastic")
    if found.values is None:
        return None
    return _settle_averages(problem, elastic, bounds, found.values)


def _settle_averages(problem: Problem, elastic: LinearModel, bounds: list[_Bound],
                     values: np.ndarray) -> np.ndarray:
    """Fix each moved ``avg`` bound at its smallest sufficient move, then move the other
    lines again around it (their moves are measured in their own units); as many lines
    move as before."""
    model, n = problem.model, problem.model.n
    cols = model.num_cols
    by_id = {line.id: line for line in problem.lines}
    moved = [k for k, b in enumerate(bounds) if by_id[b.key].measure is Measure.AVG
             and values[cols + k] > 1e-9 * max(1.0, b.limit)]
    if not moved:
        return values[:cols]
    z = np.arange(cols + len(bounds), elastic.num_cols)
    fewest = float(round(values[z].sum()))
    stage2 = append_rows(elastic, [(z, np.ones(len(z)), -INF, fewest)],
                         RowTag(RowKind.LINK, "fewest"))
    stage2 = replace(stage2, cost=np.where(np.arange(stage2.num_cols) < z[0], stage2.cost, 0))
    for k in moved:
        b = bounds[k]
        line = by_id[b.key]
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
    # scope fund: the book's constant Σ (COL − bound)·booked moves with the bound too
    row_lower, row_upper = model.row_lower.copy(), model.row_upper.copy()
    booked = row_offset(line.constraint, bound)
    if b.side == "min":
        row_lower[b.row] = -booked
    else:
        row_upper[b.row] = -booked
    return replace(model, value=value, col_upper=upper, row_lower=row_lower,
                   row_upper=row_upper)


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


def _conflict(problem: Problem, rank: dict[str, int], continuous: LinearModel
              ) -> tuple[str, ...]:
    """A deletion filter over the policy lines, dropping them in blocks, lowest rank first.

    The budget and the lines that had to move are tried last, so the set found tends to
    contain them: the conflict a planner expects ("shares that add up to more than the
    budget") rather than an equivalent one through, say, a capital-call cap. Lines with
    room left in the relaxed plan come first and usually go in one block: a block of
    lines that can all go while the rest stays infeasible goes in one solve, a block that
    cannot is halved. Every line kept was tested alone, so the set is irreducible.

    The tests run on ``continuous`` (whole steps relaxed) when it is infeasible too: what
    it cannot hold, the stepped model cannot either. Each line kept is then tested once
    more on the model as built.
    """
    lines = problem.lines
    rows_of = _rows_of(problem.model)
    dropped: set[str] = set()

    def infeasible_without(block: list[str], model: LinearModel, role: str) -> bool:
        rows = [r for key in dropped.union(block) for r in rows_of.get(key, [])]
        lower, upper = model.row_lower.copy(), model.row_upper.copy()
        lower[rows], upper[rows] = -INF, INF
        feasibility = replace(model, cost=np.zeros_like(model.cost), row_lower=lower,
                              row_upper=upper)
        outcome = problem.run(feasibility, role=role, gap=1.0)
        return outcome.status is SolveStatus.INFEASIBLE

    model, role = problem.model, "main"
    if continuous is not model and infeasible_without([], continuous, "continuous"):
        model, role = continuous, "continuous"

    def filter_block(block: list[str]) -> None:
        if infeasible_without(block, model, role):
            dropped.update(block)
        elif len(block) > 1:
            half = len(block) // 2
            filter_block(block[:half])
            filter_block(block[half:])

    for level in sorted(set(rank.values())):   # a block never mixes ranks
        filter_block([ln.id for ln in lines if rank[ln.id] == level])
    if model is not problem.model:
        for line in lines:
            if line.id not in dropped and infeasible_without([line.id], problem.model, "main"):
                dropped.add(line.id)
    return tuple(ln.label for ln in lines if ln.id not in dropped)


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
