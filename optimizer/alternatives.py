"""Near-optimal plans with different funded sets (``fundopt solve --alternatives K``).

The model is extended so that the funded set is a vector of binaries: every fundable row
gets a binary y_i (rows that had none get x_i ≤ u_i·y_i, and x_i ≥ ε_i·y_i with ε_i =
``MIN_FRACTION`` of the budget where the row has no minimum ticket, so y_i = 1 means money
is committed). Then, repeatedly: keep the objective within P % of the optimum (the
objective the optimizer compares: a missed target's cost included, SPEC §11), cut off
every funded set found so far (a no-good cut Σ_{i∈S}(1 − y_i) + Σ_{i∉S} y_i ≥ 1) and
solve. Each solve returns the best plan left, so the alternatives come out ranked.
"""

from __future__ import annotations

import numpy as np

from fundopt.models.domain import ID, Sense
from fundopt.optimizer.matrix import (
    INF,
    LinearModel,
    NewRow,
    RowKind,
    RowTag,
    append_cols,
    append_rows,
)
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import Alternative, Result

# In this mode a row with no minimum ticket counts as funded from this share of the budget.
MIN_FRACTION = 1e-4
_CUT = RowTag(RowKind.LINK, "alternative")


def alternatives(problem: Problem, base: Result, count: int, within: float
                 ) -> tuple[Alternative, ...]:
    """Up to ``count`` plans whose funded sets differ from the optimum's and from each
    other, each with an objective within ``within`` percent of the optimum.

    Parameters
    ----------
    problem
        The problem ``base`` solved.
    base
        Its optimal result.
    count
        How many alternatives at most (K).
    within
        The allowed objective shortfall in percent of |optimum| (P).

    Returns
    -------
    tuple[Alternative, ...]
        Best first; fewer than ``count`` when no other funded set is within the gap.
    """
    if not base.is_ok or base.objective is None or count <= 0:
        return ()
    model, rows = _with_binaries(problem)
    n, y = model.n, model.n + np.arange(len(rows))
    # plans compare as the optimizer compares them: a missed target's cost included (its
    # shortfall column's cost in the model; problem.penalised on a plan)
    optimum = problem.penalised(base.amounts)
    slack = abs(optimum) * within / 100.0
    low, high = ((optimum - slack, INF) if model.sense is Sense.MAXIMIZE
                 else (-INF, optimum + slack))
    model = append_rows(model, [(np.arange(model.num_cols), model.cost, low, high)], _CUT)
    ids = problem.table.frame[ID].astype(str).to_numpy()
    best = np.asarray(base.funded, dtype=bool)
    found: list[Alternative] = []
    funded = best
    for rank in range(1, count + 1):
        model = append_rows(model, [_no_good(y, funded[rows])], _CUT)
        outcome = problem.run(model, role="alternatives")
        if outcome.values is None:
            break
        funded = np.zeros(n, bool)
        funded[rows] = np.round(outcome.values[y]) > 0
        amounts = np.where(funded, problem.amounts(outcome.values), 0.0)
        compared = problem.penalised(amounts)
        found.append(Alternative(
            rank=rank, objective=problem.objective(amounts),
            gap=abs(optimum - compared) / max(abs(optimum), 1e-12), amounts=amounts,
            added=tuple(ids[funded & ~best].tolist()),
            dropped=tuple(ids[best & ~funded].tolist())))
    return tuple(found)


def _with_binaries(problem: Problem) -> tuple[LinearModel, np.ndarray]:
    """The model with a binary for every fundable row, and the row of each binary.

    Binaries keep their columns (n + j for ``binary_rows[j]``); the new ones follow. Every
    binary of a row with no minimum ticket gets a floor x_i ≥ ε_i·y_i so that y_i = 1
    means money is committed.
    """
    model, bounds = problem.model, problem.built.bounds
    n = model.n
    new = np.setdiff1d(np.flatnonzero(bounds.fundable), model.binary_rows)
    rows = np.concatenate([model.binary_rows, new]).astype(int)
    k = len(new)
    first = model.num_cols
    grown = append_cols(model, np.zeros(k), np.zeros(k), np.ones(k), np.ones(k, bool))
    links: list[NewRow] = []
    for j, i in enumerate(new):
        links.append((np.array([i, first + j]), np.array([1.0, -bounds.upper[i]]), -INF, 0.0))
    floor = np.minimum(bounds.upper, MIN_FRACTION * problem.policy.budget)
    for j, i in enumerate(rows):
        if bounds.lower[i] <= 0:
            links.append((np.array([i, n + j]), np.array([1.0, -floor[i]]), 0.0, INF))
    grown = append_rows(grown, links, _CUT)
    return grown, rows


def _no_good(y: np.ndarray, funded: np.ndarray) -> NewRow:
    """Σ_{i∉S} y_i − Σ_{i∈S} y_i ≥ 1 − |S|: at least one binary differs from ``funded``."""
    coefs = np.where(funded, -1.0, 1.0)
    return y, coefs, 1.0 - float(funded.sum()), INF
