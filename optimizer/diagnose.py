"""Explain an infeasible policy: the fewest, smallest changes that make it feasible, a set
of constraints that conflict, and by how much they clash.

Two exact stages (SPEC §6, issue 18; docs/diagnosis.md):

1. **Fewest lines.** Every relaxable bound (a side of a policy line) gets a slack column
   s ≥ 0 and the line side a binary z: ``row + s ≥ lower`` (a floor) or ``row − s ≤
   upper`` (a cap), ``s ≤ room·z``. ``room`` is how far the row's activity can go within
   the column bounds, so each line may move across its whole domain (an ``avg`` cap up to
   the column's largest value, a share to 0 or past 1, a count to 0 or n): a single line
   that suffices is never missed. The MILP minimises Σz and nothing else.
2. **Smallest moves.** With that set fixed (the other lines hard), each moved line is
   brought to its *threshold*: the tightest value at which the policy still has a plan,
   the other moved lines at their own suggested values. With several lines in the set,
   a first solve shares the change out (least total move, each relative to its bound)
   as a start. A linear line (amount, share,
   count, sum, the budget's min_deploy, max_funded) is one solve that maximises (floor)
   or minimises (cap) its own activity with the line itself left out. An ``avg`` line's
   threshold is the best commitment-weighted average any plan reaches, a ratio; it is
   found exactly by Dinkelbach's method (each step minimises Σ (COL − λ)·x, one MILP; it
   stops when no plan beats λ, finitely for a MILP). A ratio line ``M1 / M2`` (SPEC §11,
   the row M1 − b·M2) is a ratio too and found the same way, each step optimising
   M1 − λ·M2. The moved lines are tightened one
   after the other, each with the others at their current values, so every
   suggested value is the threshold given the others: moved a little toward the value
   written, the policy has no plan.

Every solve is on the model as built, ``amount_step`` included: the thresholds are those
of the stepped model. Ticket bounds, ``must`` / ``exclude`` and the budget (the capital at
hand) stay hard. The conflict is an irreducible infeasible set of policy lines found by
deletion filtering; ``optimizer.clash`` says by how much it clashes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from fundopt.messages import Message
from fundopt.models.domain import ID, Caption, Measure, Sense
from fundopt.optimizer.amounts import clean
from fundopt.optimizer.clash import clash_reasons, conflict_rules
from fundopt.optimizer.fund import row_offset
from fundopt.optimizer.matrix import (
    INF,
    LinearModel,
    RowKind,
    RowTag,
    activity_range,
    append_cols,
    coo,
    with_entries,
)
from fundopt.optimizer.report import BINDING_TOL, Line, measure, slack_and_side
from fundopt.optimizer.result import Diagnosis, Relaxation, SolveStatus

if TYPE_CHECKING:
    from fundopt.optimizer.problem import Problem

# Dinkelbach steps for one avg threshold (each is one solve; it converges in a few).
MAX_AVG_STEPS = 30
# Measures whose bound sits in the row's coefficients (Σ (COL − b)·x, M1 − b·M2): their
# threshold is a best ratio, found by Dinkelbach's method.
_BOUND_IN_ROW = (Measure.AVG, Measure.RATIO)
# A suggested value is shown to this many decimals, rounded away from the value written.
DECIMALS = 6


@dataclass(frozen=True)
class _Bound:
    """One relaxable policy bound: a side of a model row (one per line and side)."""

    row: int
    key: str          # the constraint id
    side: str         # "min" or "max"
    room: float       # how far the row's activity can go past the bound (row units)
    weight: float     # 1 / (the bound's size in row units): moves compared relatively


def diagnose(problem: Problem) -> Diagnosis:
    """Suggest the fewest lines to change, each moved to its threshold, and name a
    conflicting set with what clashes in it (see the module's docstring)."""
    built = problem.built
    if built.infeasible_reasons:
        return Diagnosis(relaxation=(), conflict=(), messages=built.infeasible_reasons)
    model = problem.model
    hard = {c.id: c.hard for c in built.constraints}
    bounds = _relaxable_bounds(model, hard)
    elastic = _elastic(model, bounds)
    stage1 = _fewest(problem, elastic, bounds)
    by_id = {line.id: line for line in problem.lines}
    if stage1 is None:
        return _must_only(problem, by_id)
    fewest, start = stage1
    found = _smallest(problem, elastic, bounds, by_id, fewest, start)
    if found is None:     # the solver's binaries hid a slack: every line that moved at all
        found = _smallest(problem, elastic, bounds, by_id,
                          _any_move(problem, elastic, bounds), start)
    if found is None:
        return _must_only(problem, by_id)
    values, amounts = found
    relaxation = tuple(_relaxation(by_id[bounds[k].key], bounds[k].side, v)
                       for k, v in values.items())
    budget = problem.policy.budget
    # try the budget last, then the lines that moved, then those at a limit
    moved = {bounds[k].key for k in values}
    rank = {line.id: 3 if line.id == "budget" else 2 if line.id in moved
            else int(_at_limit(line, amounts, budget)) for line in problem.lines}
    # a line whose move alone helps is in every conflicting set
    needed = {bounds[k].key for k in values} if len(values) == 1 else set()
    conflict = _conflict(problem, rank, amounts, needed)
    lines = [by_id[key] for key in conflict]
    reasons = clash_reasons(problem, lines, amounts, relaxation)
    return Diagnosis(relaxation=relaxation, conflict=tuple(ln.label for ln in lines),
                     reasons=reasons, conflict_ids=conflict,
                     conflict_rules=conflict_rules(lines), captions=_captions(problem))


def _must_only(problem: Problem, by_id: dict[str, Line]) -> Diagnosis:
    """No move of the policy lines helps: the must-fund rows against the budget."""
    return Diagnosis((), ("budget",), reasons=(_must_reason(problem),),
                     conflict_ids=("budget",),
                     conflict_rules=conflict_rules([by_id[k] for k in ("budget",) if k in by_id]),
                     captions=_captions(problem))


def _captions(problem: Problem) -> dict[str, Caption]:
    """The caption of every line by id: what the reasons and rules point at."""
    return {line.id: line.constraint.caption for line in problem.lines
            if line.constraint.caption is not None}


# --- stage 1: the fewest lines --------------------------------------------------------


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
    """The model with a slack s and a binary z per relaxable bound: row + s ≥ lower (a
    floor), row − s ≤ upper (a cap), s ≤ room·z; its objective is Σz (stage 1)."""
    cols, ns = model.num_cols, len(bounds)
    slack = cols + np.arange(ns)
    rows = np.array([b.row for b in bounds], dtype=int)
    signs = np.array([1.0 if b.side == "min" else -1.0 for b in bounds])
    room = np.array([b.room for b in bounds])
    link_rows = model.num_rows + np.arange(ns)
    coo_rows, coo_cols, coo_vals = coo(model)
    grown = append_cols(replace(model, sense=Sense.MINIMIZE, cost=np.zeros(cols)),
                        cost=np.concatenate([np.zeros(ns), np.ones(ns)]),
                        lower=np.zeros(2 * ns), upper=np.concatenate([room, np.ones(ns)]),
                        integer=np.concatenate([np.zeros(ns), np.ones(ns)]))
    return with_entries(
        grown,
        np.concatenate([coo_rows, rows, link_rows, link_rows]),
        np.concatenate([coo_cols, slack, slack, slack + ns]),
        np.concatenate([coo_vals, signs, np.ones(ns), -room]),
        np.concatenate([model.row_lower, np.full(ns, -INF)]),
        np.concatenate([model.row_upper, np.zeros(ns)]),
        model.tags + (RowTag(RowKind.LINK, "elastic"),) * ns)


def _fewest(problem: Problem, elastic: LinearModel, bounds: list[_Bound]
            ) -> tuple[list[int], np.ndarray] | None:
    """Stage 1: the bounds (indices into ``bounds``) of a smallest set of lines whose
    moves make the policy feasible, and the elastic model's solution (a known feasible
    point for stage 2); None if no move of the policy lines does."""
    found = problem.run(elastic, role="elastic")
    if found.values is None:
        return None
    z = found.values[problem.model.num_cols + len(bounds):]
    return [k for k in range(len(bounds)) if z[k] > 0.5], found.values


def _any_move(problem: Problem, elastic: LinearModel, bounds: list[_Bound]) -> list[int]:
    """Every bound with a slack in the stage-1 solution (a fallback for a binary that the
    solver left a hair above 0)."""
    found = problem.run(elastic, role="elastic")
    assert found.values is not None
    cols = problem.model.num_cols
    return [k for k, b in enumerate(bounds)
            if found.values[cols + k] > 1e-9 * max(1.0, b.room)
            or found.values[cols + len(bounds) + k] > 0.5]


# --- stage 2: the smallest move of each -----------------------------------------------


def _smallest(problem: Problem, elastic: LinearModel, bounds: list[_Bound],
              by_id: dict[str, Line], moved: list[int], start: np.ndarray
              ) -> tuple[dict[int, float], np.ndarray] | None:
    """Stage 2: the ``moved`` bounds, each at its threshold given the others, in the
    line's own units (the constraint's min/max), with a plan under them; None if moving
    them cannot make the policy feasible.

    ``start`` (the elastic model's solution of stage 1) and then each solve's solution
    are feasible points of the next solve: each MILP starts with them as its incumbent.
    """
    values: dict[int, float | None] = dict.fromkeys(moved)
    if len(moved) > 1:
        shared = _shared_moves(problem, elastic, bounds, by_id, moved, start)
        if shared is None:
            return None
        values.update(shared[0])
        start = shared[1]
    amounts = None
    columns = start[: problem.model.num_cols]
    for k in moved:
        found = _threshold(problem, bounds, values, k, by_id[bounds[k].key], columns)
        if found is None:
            return None
        values[k], amounts = _shown(by_id[bounds[k].key], bounds[k].side, found[0]), found[1]
        columns = found[2]
    assert amounts is not None
    return {k: v for k, v in values.items() if v is not None}, amounts


def _shared_moves(problem: Problem, elastic: LinearModel, bounds: list[_Bound],
                  by_id: dict[str, Line], moved: list[int], start: np.ndarray
                  ) -> tuple[dict[int, float], np.ndarray] | None:
    """With only ``moved`` free to move, the moves of least total relative size: a start
    that shares the change out before each line is tightened to its threshold. The
    bound → its value there (line units), and the solution."""
    cols, ns = problem.model.num_cols, len(bounds)
    z = cols + ns + np.arange(ns)
    lower, upper = elastic.col_lower.copy(), elastic.col_upper.copy()
    lower[z] = upper[z] = np.isin(np.arange(ns), moved).astype(float)
    budget = problem.policy.budget
    weights = np.array([b.weight if by_id[b.key].measure not in _BOUND_IN_ROW
                        else 1.0 / (budget * max(abs(_bound_of(by_id[b.key], b.side)), 1e-3))
                        for b in bounds])
    cost = np.concatenate([np.zeros(cols), weights, np.zeros(ns)])
    found = problem.run(replace(elastic, cost=cost, col_lower=lower, col_upper=upper),
                        role="elastic", start=start)
    if found.values is None:
        return None
    amounts = clean(found.values, problem.model.n)
    shared = {}
    for k in moved:
        b, line = bounds[k], by_id[bounds[k].key]
        if line.measure in _BOUND_IN_ROW:
            value = measure(line, amounts, budget)
            shared[k] = _bound_of(line, b.side) if math.isnan(value) else value
        else:
            per_unit = problem.model.tags[b.row].per_unit
            step = found.values[cols + k] / per_unit
            shared[k] = _bound_of(line, b.side) + (-step if b.side == "min" else step)
    return shared, found.values


def _threshold(problem: Problem, bounds: list[_Bound], values: dict[int, float | None],
               k: int, line: Line, known: np.ndarray
               ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The tightest value of bound ``k`` at which the policy has a plan, the other moved
    bounds at ``values`` (None: free), that plan's amounts and its column values; None
    if it has none. ``known``: column values of a plan that keeps the other bounds (the
    solver's first incumbent)."""
    model = _model_at(problem.model, bounds, values, k, problem.lines)
    b = bounds[k]
    start, end = model.row_start_end(b.row)
    idx = model.index[start:end]
    if line.measure in _BOUND_IN_ROW:
        return _best_average(problem, model, idx, b.row, b.side, line, known)
    tag = model.tags[b.row]
    cost = np.zeros(model.num_cols)
    cost[idx] = model.value[start:end]
    sense = Sense.MAXIMIZE if b.side == "min" else Sense.MINIMIZE
    found = problem.run(replace(model, cost=cost, sense=sense), role="threshold",
                        start=known)
    if found.values is None:
        return None
    activity = float(model.value[start:end] @ found.values[idx])
    value = (activity + tag.offset) / tag.per_unit
    bound = _bound_of(line, b.side)
    value = min(value, bound) if b.side == "min" else max(value, bound)
    return value, clean(found.values, model.n), found.values


def _best_average(problem: Problem, model: LinearModel, idx: np.ndarray, row: int,
                  side: str, line: Line, known: np.ndarray
                  ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The lowest (a cap) or highest (a floor) commitment-weighted average of ``line``
    over the plans of ``model``, by Dinkelbach's method: λ ← the average of the plan
    that minimises ±Σ (COL − λ)·x, until no plan beats λ. Starts from the bound written
    (no plan reaches it), so the first step only finds a plan. A ratio M1 / M2 is the
    same with the row's M1 − λ·M2 in place of Σ (COL − λ)·x."""
    sign = 1.0 if side == "max" else -1.0
    written = _bound_of(line, side)
    row_at = _row_at(model, row, line, written)
    best, amounts, columns = written, None, known
    budget = problem.policy.budget
    for _ in range(MAX_AVG_STEPS):
        cost = np.zeros(model.num_cols)    # a new array: the held model compares costs
        cost[idx] = sign * row_at(best)
        found = problem.run(replace(model, cost=cost, sense=Sense.MINIMIZE),
                            role="threshold", start=columns)
        if found.values is None:
            break
        plan = clean(found.values, model.n)
        average = measure(line, plan, budget)
        if math.isnan(average):          # nothing in the line funded: it holds as written
            return written, plan, found.values
        if amounts is not None and sign * (average - best) >= -1e-12 * max(1.0, abs(best)):
            break
        best, amounts, columns = average, plan, found.values
    if amounts is None:
        return None
    value = max(best, written) if side == "max" else min(best, written)
    return value, amounts, columns


def _model_at(model: LinearModel, bounds: list[_Bound], values: dict[int, float | None],
              free: int, lines: list[Line]) -> LinearModel:
    """The model with each bound of ``values`` at its value (None, and ``free``: the side
    left out), the rest as written."""
    by_id = {line.id: line for line in lines}
    lower, upper, value = model.row_lower.copy(), model.row_upper.copy(), model.value.copy()
    for k, new in values.items():
        b = bounds[k]
        side = lower if b.side == "min" else upper
        if k == free or new is None:
            side[b.row] = -INF if b.side == "min" else INF
            continue
        tag, line = model.tags[b.row], by_id[b.key]
        if line.measure in _BOUND_IN_ROW:
            start, end = model.row_start_end(b.row)
            value[start:end] = _row_at(model, b.row, line, _bound_of(line, b.side))(new)
            side[b.row] = -row_offset(line.constraint, new)
        else:
            side[b.row] = new * tag.per_unit - tag.offset
    return replace(model, row_lower=lower, row_upper=upper, value=value)


def _row_at(model: LinearModel, row: int, line: Line, written: float
            ) -> Callable[[float], np.ndarray]:
    """The coefficients of an avg or ratio ``row`` (Σ (COL − λ)·x, or M1 − λ·M2) as a
    function of its bound λ; ``written``: the bound the row was built at."""
    start, end = model.row_start_end(row)
    idx = model.index[start:end]
    if line.measure is Measure.AVG:
        assert line.column is not None
        column = line.column[idx]
        return lambda bound: column - bound
    # M1 − b·M2 as built, plus (b − λ)·M2; M2's part puts money on x, funded rows on y
    ratio = line.constraint.rule.ratio
    assert ratio is not None
    part, weights = ratio[1], line.parts[1]
    on_y = idx >= model.n
    rows = idx.copy()                       # the table row of each column
    rows[on_y] = model.binary_rows[idx[on_y] - model.n]
    denominator = np.where(on_y == part.on_funded,
                           1.0 if weights is None else weights[rows], 0.0)
    built = model.value[start:end].copy()
    return lambda bound: built + (written - bound) * denominator


def _bound_of(line: Line, side: str) -> float:
    bound = line.min if side == "min" else line.max
    assert bound is not None
    return bound


def _shown(line: Line, side: str, value: float) -> float:
    """A threshold as suggested: to ``DECIMALS`` in the units written, rounded away from
    the value written (so the policy holds there), a count to a whole number."""
    if line.measure is Measure.COUNT:
        return float(math.floor(value + 1e-6) if side == "min" else math.ceil(value - 1e-6))
    c = line.constraint
    written = c.as_written(side, value)
    assert written is not None
    shown = _outward(written, -1 if side == "min" else 1)
    bound = _bound_of(line, side)
    literal = c.as_written(side)
    return shown * bound / literal if literal else shown


def _outward(value: float, direction: int) -> float:
    """``value`` to ``DECIMALS``, rounded away from the violated bound unless it is noise."""
    nearest = round(value, DECIMALS)
    if abs(nearest - value) <= 1e-9 * max(1.0, abs(value)):
        return nearest
    scaled = value * 10 ** DECIMALS
    return (math.ceil(scaled) if direction > 0 else math.floor(scaled)) / 10 ** DECIMALS


def _relaxation(line: Line, side: str, new: float) -> Relaxation:
    """The move of one bound, in the units and under the key the planner wrote it."""
    c = line.constraint
    key = c.keys[0 if side == "min" else 1]
    old = c.as_written(side)
    to = c.as_written(side, new)
    assert old is not None and to is not None
    to = round(to, DECIMALS + 3)     # the value _shown chose, without the unit round trip
    # built-in lines (budget, funded) are named by the policy key they were written under
    name = c.label if c.rule.origin else key
    return Relaxation(constraint=name, bound=side, from_value=old, to_value=to, key=key,
                      id=c.id, caption=c.caption)


# --- the conflict -----------------------------------------------------------------------


def _at_limit(line: Line, amounts: np.ndarray, budget: float) -> bool:
    slack, side = slack_and_side(line, measure(line, amounts, budget))
    return side is not None and slack <= BINDING_TOL * max(1.0, abs(line.min or 0),
                                                           abs(line.max or 0))


def _rows_of(model: LinearModel) -> dict[str, list[int]]:
    """The model rows of each policy line."""
    rows: dict[str, list[int]] = {}
    for r, tag in enumerate(model.tags):
        if tag.kind is RowKind.POLICY:
            rows.setdefault(tag.key, []).append(r)
    return rows


def _relaxations(model: LinearModel) -> list[tuple[LinearModel, str]]:
    """Weaker models to run a deletion filter on, weakest first: the LP (no whole
    numbers at all), then whole steps made continuous (``amount_step``)."""
    found = []
    if model.is_mip:
        found.append((replace(model, integer=np.zeros_like(model.integer)), "relaxed"))
    steps = np.arange(model.num_cols) >= model.n + len(model.binary_rows)
    if (model.integer & steps).any():
        found.append((replace(model, integer=model.integer & ~steps), "continuous"))
    return found


def _conflict(problem: Problem, rank: dict[str, int], plan: np.ndarray,
              needed: set[str]) -> tuple[str, ...]:
    """The ids of an irreducible conflicting set: a deletion filter over the policy
    lines, dropping them in blocks, lowest rank first.

    The budget and the lines that had to move are tried last, so the set found tends to
    contain them: the conflict a planner expects ("shares that add up to more than the
    budget") rather than an equivalent one through, say, a capital-call cap. A block of
    lines that can all go while the rest stays infeasible goes in one solve, a block
    that cannot is halved. Every line kept was tested alone, so the set is irreducible.

    The filter runs on the weakest model that is infeasible too — the LP without whole
    numbers, else with whole steps made continuous: what it cannot hold, the model as
    built cannot either, and its solves are much faster. Each line kept is then tested
    once more on the model as built, unless it is in ``needed`` (a line whose move alone
    makes the policy feasible is in every conflicting set). A test whose answer a known
    plan gives (the relaxed ``plan`` of stage 2, or a plan an earlier test on the model
    as built found) is not solved: the plan keeps every line not dropped.
    """
    lines = problem.lines
    rows_of = _rows_of(problem.model)
    dropped: set[str] = set()
    budget = problem.policy.budget
    plans = [plan]

    def holds(amounts: np.ndarray, kept: list[Line]) -> bool:
        return all(_keeps(line, amounts, budget) for line in kept)

    def infeasible_without(block: list[str], model: LinearModel, role: str) -> bool:
        gone = dropped.union(block)
        kept = [line for line in lines if line.id not in gone]
        if any(holds(known, kept) for known in plans):
            return False
        rows = [r for key in gone for r in rows_of.get(key, [])]
        lower, upper = model.row_lower.copy(), model.row_upper.copy()
        lower[rows], upper[rows] = -INF, INF
        feasibility = replace(model, cost=np.zeros_like(model.cost), row_lower=lower,
                              row_upper=upper)
        if model.is_mip or problem.options.solver != "highs":
            outcome = problem.run(feasibility, role=role, gap=1.0)
        else:   # an LP with moved row bounds: from the last basis, a few dual pivots
            outcome = problem.held(role).solve(feasibility, 1.0, warm=True)
        if outcome.values is not None and model is problem.model:
            plans.append(clean(outcome.values, model.n))
        return outcome.status is SolveStatus.INFEASIBLE

    model, role = problem.model, "main"
    for weaker, name in _relaxations(model):
        if infeasible_without([], weaker, name):
            model, role = weaker, name
            break

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
            if line.id not in dropped and line.id not in needed \
                    and infeasible_without([line.id], problem.model, "main"):
                dropped.add(line.id)
    return tuple(ln.id for ln in lines if ln.id not in dropped)


def _keeps(line: Line, amounts: np.ndarray, budget: float) -> bool:
    """Whether a plan keeps ``line`` (to the solver's tolerance; an avg over nothing
    funded holds)."""
    value = measure(line, amounts, budget)
    if math.isnan(value):
        return True
    tol = 1e-6 * max(1.0, abs(value))
    return ((line.min is None or value >= line.min - tol)
            and (line.max is None or value <= line.max + tol))


def _must_reason(problem: Problem) -> Message:
    """Why nothing helps: the must-fund rows (and their minimum tickets) against the budget."""
    model, table = problem.model, problem.table
    must = np.flatnonzero(model.col_lower[: model.n] > 0)
    ids = [str(i) for i in table.frame[ID].astype(str).to_numpy()[must]]
    total = float(model.col_lower[must].sum())
    values = {"ids": ids, "total": total, "budget": problem.policy.budget,
              "unit": problem.policy.unit}
    if total > problem.policy.budget:
        return Message("diagnosis.must_over_budget", values)
    return Message("diagnosis.must_and_tickets", values)
