"""Explain an infeasible policy: the smallest change that makes it feasible, and a set of
constraints that conflict.

The relaxation is an elastic re-solve: every policy bound gets a slack column and a
binary that says whether it moves. Stage 1 minimises how many policy lines move; stage 2,
among those, minimises the total move, each scaled by its own bound. Ticket bounds,
``must`` / ``exclude`` and the budget (the capital at hand) stay hard. The conflict is an
irreducible infeasible set of policy constraints found by deletion filtering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from fundopt.models.domain import Policy, Sense
from fundopt.optimizer.build import Built, LinearModel, RowKind
from fundopt.optimizer.highs import solve_highs
from fundopt.optimizer.report import Line, clean_amounts, measure
from fundopt.optimizer.result import Diagnosis, Relaxation, SolveStatus

INF = np.inf


@dataclass(frozen=True)
class _Bound:
    """One relaxable policy bound: a side of a model row."""

    row: int
    key: str          # the policy line id (constraint id, "budget", "funded")
    side: str         # "min" or "max"
    limit: float      # room the slack may need (from the row's activity range)
    weight: float     # 1 / (the bound's size in row units): moves are compared relatively


def diagnose(built: Built, lines: list[Line], policy: Policy,
             time_limit: float | None = None) -> Diagnosis:
    """Suggest the fewest, smallest bound changes and name a conflicting set."""
    if built.infeasible_reasons:
        return Diagnosis(relaxation=(), conflict=(), messages=built.infeasible_reasons)
    model = built.model
    bounds = _relaxable_bounds(model)
    plan = _elastic_plan(model, bounds, time_limit)
    if plan is None:
        return Diagnosis((), (), ("the policy stays infeasible even with every policy bound "
                                  "relaxed: the must-fund rows and ticket bounds conflict",))
    amounts = clean_amounts(plan, model.n)
    relaxation = tuple(r for line in lines for r in _moves(line, amounts, policy))
    moved = {line.id for line in lines for r in relaxation if r.key in line.keys}
    conflict = _conflict(model, lines, moved, time_limit)
    return Diagnosis(relaxation=relaxation, conflict=conflict)


def _relaxable_bounds(model: LinearModel) -> list[_Bound]:
    activity_low, activity_high = activity_range(model)
    found = []
    for r, tag in enumerate(model.tags):
        if tag.kind is RowKind.LINK:
            continue
        lower, upper = model.row_lower[r], model.row_upper[r]
        if np.isfinite(lower):
            found.append(_Bound(r, tag.key, tag.side or "min", max(0.0, lower - activity_low[r]),
                                1.0 / max(abs(lower), 1.0)))
        # The budget is the capital at hand, and shares, max_single and min_deploy are
        # fractions of it: it is never suggested to change.
        if np.isfinite(upper) and tag.kind is not RowKind.BUDGET:
            found.append(_Bound(r, tag.key, tag.side or "max",
                                max(0.0, activity_high[r] - upper),
                                1.0 / max(abs(upper), 1.0)))
    return found


def activity_range(model: LinearModel) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value each row can take within the column bounds."""
    row_of = _coo(model)[0]
    at_lower = model.value * model.col_lower[model.index]
    at_upper = model.value * model.col_upper[model.index]
    low = np.bincount(row_of, np.minimum(at_lower, at_upper), minlength=model.num_rows)
    high = np.bincount(row_of, np.maximum(at_lower, at_upper), minlength=model.num_rows)
    return low, high


def _elastic_plan(model: LinearModel, bounds: list[_Bound], time_limit: float | None
                  ) -> np.ndarray | None:
    """Column values of the elastic model after both stages, or None if it is infeasible."""
    groups = sorted({(b.key, b.side) for b in bounds})
    group_of = {g: k for k, g in enumerate(groups)}
    cols = len(model.cost)
    ns, nz = len(bounds), len(groups)
    slack = cols + np.arange(ns)
    z = cols + ns + np.arange(nz)
    coo_rows, coo_cols, coo_vals = _coo(model)
    # row + s ≥ lower (min side), row − s ≤ upper (max side)
    signs = np.array([1.0 if b.side == "min" else -1.0 for b in bounds])
    # a ranged row has one slack per side; the side that is not relaxed keeps its bound
    rows = np.array([b.row for b in bounds], dtype=int)
    limits = np.array([b.limit for b in bounds])
    link_rows = model.num_rows + np.arange(ns)
    z_of = np.array([z[group_of[(b.key, b.side)]] for b in bounds], dtype=int)
    all_rows = np.concatenate([coo_rows, rows, link_rows, link_rows])
    all_cols = np.concatenate([coo_cols, slack, slack, z_of])
    all_vals = np.concatenate([coo_vals, signs, np.ones(ns), -limits])
    row_lower = np.concatenate([model.row_lower, np.full(ns, -INF)])
    row_upper = np.concatenate([model.row_upper, np.zeros(ns)])
    stage1_cost = np.concatenate([np.zeros(cols + ns), np.ones(nz)])
    elastic = _from_coo(model, all_rows, all_cols, all_vals, row_lower, row_upper,
                        cost=stage1_cost,
                        col_lower=np.concatenate([model.col_lower, np.zeros(ns + nz)]),
                        col_upper=np.concatenate([model.col_upper, limits, np.ones(nz)]),
                        integer=np.concatenate([model.integer, np.zeros(ns, bool),
                                                np.ones(nz, bool)]))
    first = solve_highs(elastic, time_limit, 0.0)
    if first.values is None:
        return None
    fewest = math.ceil(float(first.values[z].sum()) - 1e-6)
    # stage 2: at most that many lines move, each as little as possible (relative size)
    weights = np.array([b.weight for b in bounds])
    stage2 = _append_row(elastic, z, np.ones(nz), -INF, float(fewest))
    stage2 = replace(stage2, cost=np.concatenate([np.zeros(cols), weights, np.zeros(nz)]))
    second = solve_highs(stage2, time_limit, 0.0)
    return (second.values if second.values is not None else first.values)[:cols]


def _moves(line: Line, amounts: np.ndarray, policy: Policy) -> list[Relaxation]:
    """The bound changes of ``line`` that the elastic plan needed."""
    value = measure(line, amounts, policy.budget)
    if math.isnan(value):
        return []
    moves = []
    tol = 1e-7 * max(1.0, abs(value))
    if line.min is not None and value < line.min - tol:
        moves.append(_relaxation(line, "min", line.min, _outward(value, -1), policy))
    if line.max is not None and value > line.max + tol:
        moves.append(_relaxation(line, "max", line.max, _outward(value, 1), policy))
    return moves


def _outward(value: float, direction: int) -> float:
    """``value`` to 6 decimals, rounded away from the violated bound unless it is noise."""
    nearest = round(value, 6)
    if abs(nearest - value) <= 1e-9 * max(1.0, abs(value)):
        return nearest
    scaled = value * 1e6
    return (math.ceil(scaled) if direction > 0 else math.floor(scaled)) / 1e6


def _relaxation(line: Line, side: str, old: float, new: float, policy: Policy) -> Relaxation:
    key = line.keys[0] if side == "min" else line.keys[1]
    if key == "min_deploy":      # written as a fraction of the budget
        old, new = old / policy.budget, _outward(new / policy.budget, -1)
    name = key if line.id in ("budget", "funded") else line.label
    return Relaxation(constraint=name, bound=side, from_value=old, to_value=new, key=key)


def _conflict(model: LinearModel, lines: list[Line], moved: set[str],
              time_limit: float | None) -> tuple[str, ...]:
    """Deletion filter: drop each policy line in turn, keep it only if the rest is feasible.

    Lines that had to move, and then the budget, are tried last, so the set found tends to
    contain them: the conflict a planner expects ("shares that add up to more than the
    budget") rather than an equivalent one through, say, a capital-call cap.
    """
    def rank(line: Line) -> int:
        return 2 if line.id == "budget" else int(line.id in moved)

    order = sorted(lines, key=rank)
    keys_of = {r: tag.key for r, tag in enumerate(model.tags) if tag.kind is not RowKind.LINK}
    active = {ln.id for ln in lines}
    feasibility = replace(model, cost=np.zeros_like(model.cost))
    for line in order:
        trial = active - {line.id}
        if not _feasible(feasibility, keys_of, trial, time_limit):
            active = trial
    return tuple(ln.label for ln in lines if ln.id in active)


def _feasible(model: LinearModel, keys_of: dict[int, str], active: set[str],
              time_limit: float | None) -> bool:
    lower, upper = model.row_lower.copy(), model.row_upper.copy()
    dropped = [r for r, key in keys_of.items() if key not in active]
    lower[dropped], upper[dropped] = -INF, INF
    outcome = solve_highs(model.with_rows(lower, upper), time_limit, 1.0)
    return outcome.status is not SolveStatus.INFEASIBLE


def _coo(model: LinearModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(model.num_rows), np.diff(model.start))
    return rows, model.index.astype(int), model.value


def _from_coo(model: LinearModel, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
              row_lower: np.ndarray, row_upper: np.ndarray, cost: np.ndarray,
              col_lower: np.ndarray, col_upper: np.ndarray, integer: np.ndarray
              ) -> LinearModel:
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=len(row_lower))
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return replace(model, sense=Sense.MINIMIZE, cost=cost, col_lower=col_lower,
                   col_upper=col_upper, integer=integer, start=start,
                   index=cols[order].astype(np.int32), value=vals[order],
                   row_lower=row_lower, row_upper=row_upper)


def _append_row(model: LinearModel, cols: np.ndarray, coefs: np.ndarray, lower: float,
                upper: float) -> LinearModel:
    return replace(model,
                   start=np.append(model.start, model.start[-1] + len(cols)).astype(np.int32),
                   index=np.concatenate([model.index, cols]).astype(np.int32),
                   value=np.concatenate([model.value, coefs]),
                   row_lower=np.append(model.row_lower, lower),
                   row_upper=np.append(model.row_upper, upper))
