"""Why a sub-fund is in or out of the optimal plan (``fundopt explain``).

Every number is a re-solve of the same model with one thing changed:

* forcing a sub-fund in: x_i ≥ its minimum ticket (and its binary fixed at 1), as a
  ``must`` row would be. A row whose minimum ticket is 0 is forced to a small positive
  amount instead, ``FORCE_FRACTION`` of the budget (capped by its ticket cap), since
  "funded with 0" means nothing;
* leaving it out: x_i = 0, as an ``exclude`` row (a ``must`` row loses its rule here);
* the threshold at which it enters (or leaves) the plan. With the sub-fund forced in,
  the best objective as a function of its coefficient c is piecewise linear and convex
  (maximize; concave for minimize): the upper envelope of plans whose slope is the amount
  x_i each commits. Newton's method on that envelope — solve at c, follow the line of the
  plan found to where it meets the objective without the sub-fund — lands exactly on the
  crossing after a few re-solves, with no bisection tolerance.

Objectives are compared as the optimizer compares plans: a missed target's cost
(penalty × shortfall, SPEC §11) is part of each (``Problem.penalised``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from fundopt.errors import InputError
from fundopt.models.domain import EXCLUDE, ID, MUST, STATUS, Policy, Table
from fundopt.optimizer.build import Built
from fundopt.optimizer.matrix import LinearModel
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.report import Line
from fundopt.optimizer.result import ConstraintValue, Explanation, Result

# A sub-fund with no minimum ticket is forced in with this share of the budget.
FORCE_FRACTION = 0.001
MAX_NEWTON_STEPS = 25
_TOL = 1e-9


@dataclass(frozen=True)
class _Context:
    table: Table
    policy: Policy
    built: Built
    lines: list[Line]
    base: Result
    problem: Problem


def explain(problem: Problem, ids: list[str], base: Result) -> tuple[Explanation, ...]:
    """Explain, for each sub-fund in ``ids``, why it is in or out of the optimal plan.

    Parameters
    ----------
    problem
        The problem ``base`` solved; every re-solve changes a bound or a cost of it.
    ids
        Sub-fund ids of the table.
    base
        Its result.

    Returns
    -------
    tuple[Explanation, ...]
        One per id, in the order given; empty if the policy has no optimal plan.

    Raises
    ------
    InputError
        An id that is not in the table.
    """
    rows = [_row_of(problem.table, sub_fund) for sub_fund in ids]
    if not base.is_ok:
        return ()
    context = _Context(problem.table, problem.policy, problem.built, problem.lines, base,
                       problem)
    return tuple(_explain_row(context, i) for i in rows)


def _row_of(table: Table, sub_fund: str) -> int:
    hits = np.flatnonzero(table.frame[ID].astype(str).to_numpy() == sub_fund)
    if len(hits) == 0:
        raise InputError(code="input.explain.no_sub_fund", values={"sub_fund": sub_fund},
                         file=str(table.path), column=table.headers.get(ID, ID), value=sub_fund)
    return int(hits[0])


def _explain_row(ctx: _Context, i: int) -> Explanation:
    model, bounds = ctx.built.model, ctx.built.bounds
    funded = bool(ctx.base.funded[i])
    column, scale = _objective_column(ctx.policy)
    status = ctx.table.frame[STATUS].iat[i] if STATUS in ctx.table.frame else ""
    binding = _binding(ctx, i)
    head = Explanation(id=str(ctx.table.frame[ID].iat[i]), funded=funded,
                       amount=float(ctx.base.amounts[i]), cost=float(model.cost[i]) / scale,
                       column=column, threshold=None, objective_change=None,
                       forced_amount=None, added=(), dropped=(),
                       binding=tuple(c.label for c in binding),
                       binding_captions=tuple(c.caption for c in binding))
    if not bounds.fundable[i]:
        ineligible = any(w.code == "ineligible" and w.row_id == head.id
                         for w in ctx.built.warnings)
        return replace(head, note="excluded" if status == EXCLUDE
                       else "ineligible" if ineligible else "unfundable")
    forced = _forced_amount(ctx, i)
    # objectives as the optimizer compares plans: a missed target's cost included
    optimum = ctx.problem.penalised(ctx.base.amounts)
    if funded:
        without = _solve(ctx, _excluded(model, i))
        if without is None:
            return replace(head, note="needed")
        other = ctx.problem.penalised(without)
        threshold = None if status == MUST else _threshold(ctx, i, forced, other)
        added, dropped = _differences(ctx, i, without)
        return replace(head, threshold=_scaled(threshold, scale),
                       objective_change=_improving(ctx, optimum - other), added=added,
                       dropped=dropped, note="must" if status == MUST else "")
    plan = _solve(ctx, _forced(model, i, forced))
    if plan is None:
        return replace(head, forced_amount=forced, note="forced_infeasible")
    value = ctx.problem.penalised(plan)
    added, dropped = _differences(ctx, i, plan)
    return replace(head, threshold=_scaled(_threshold(ctx, i, forced, optimum), scale),
                   objective_change=_improving(ctx, optimum - value), forced_amount=forced,
                   added=added, dropped=dropped)


def _objective_column(policy: Policy) -> tuple[str | None, float]:
    """The one objective column and its weight, or (None, 1) for a weighted objective."""
    weights = policy.objective.weights
    if len(weights) == 1 and not policy.objective.normalize:
        (column, weight), = weights.items()
        if weight != 0:
            return column, float(weight)
    return None, 1.0


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value / scale


def _improving(ctx: _Context, loss: float) -> float:
    """An objective difference as a loss ≥ 0 in either sense, solver noise removed."""
    sign = 1.0 if ctx.built.model.sense == "maximize" else -1.0
    value = sign * loss
    return 0.0 if abs(value) <= 1e-7 * max(1.0, abs(ctx.base.objective or 0.0)) else value


def _forced_amount(ctx: _Context, i: int) -> float:
    bounds = ctx.built.bounds
    if bounds.lower[i] > 0:
        return float(bounds.lower[i])
    small = FORCE_FRACTION * ctx.policy.budget
    step = bounds.grid.step
    if step is not None:      # at least one whole step
        small = math.ceil(small / step) * step
    return float(min(bounds.upper[i], small))


def _forced(model: LinearModel, i: int, amount: float) -> LinearModel:
    lower = model.col_lower.copy()
    lower[i] = max(lower[i], amount)
    y = model.binary_of(i)
    if y is not None:
        lower[y] = 1.0
    return model.with_bounds(lower, model.col_upper)


def _excluded(model: LinearModel, i: int) -> LinearModel:
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    lower[i] = upper[i] = 0.0
    y = model.binary_of(i)
    if y is not None:
        lower[y] = upper[y] = 0.0
    return model.with_bounds(lower, upper)


def _solve(ctx: _Context, model: LinearModel) -> np.ndarray | None:
    """The commitments of the re-solved ``model``, or None if it has no solution."""
    outcome = ctx.problem.run(model)
    return None if outcome.values is None else ctx.problem.amounts(outcome.values)


def _threshold(ctx: _Context, i: int, forced: float, target: float) -> float | None:
    """The coefficient c_i at which the best plan with sub-fund i in reaches ``target``
    (the best objective without it): Newton's method on the piecewise-linear envelope."""
    model = _forced(ctx.built.model, i, forced)
    c = float(model.cost[i])
    for _ in range(MAX_NEWTON_STEPS):
        cost = model.cost.copy()
        cost[i] = c
        plan = _solve(ctx, replace(model, cost=cost))
        if plan is None or plan[i] <= 0:
            return None
        rest = ctx.problem.penalised(plan) - float(model.cost[i]) * float(plan[i])
        step = (target - rest) / float(plan[i])
        if abs(step - c) <= _TOL * max(1.0, abs(c)):
            return step
        c = step
    return c


def _differences(ctx: _Context, i: int, plan: np.ndarray
                 ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Sub-funds other than i funded in ``plan`` and not in the optimum, and the reverse."""
    ids = ctx.table.frame[ID].astype(str).to_numpy()
    now = np.asarray(ctx.base.funded, dtype=bool)
    then = plan > 0
    others = np.arange(len(ids)) != i
    return (tuple(ids[then & ~now & others].tolist()),
            tuple(ids[now & ~then & others].tolist()))


def _binding(ctx: _Context, i: int) -> tuple[ConstraintValue, ...]:
    """The binding constraints whose selection includes row i."""
    selects = {line.id: line.mask is None or bool(line.mask[i]) for line in ctx.lines}
    return tuple(c for c in ctx.base.constraints if c.binding and selects.get(c.id, False))
