"""Near-optimal plans with different funded sets (``fundopt solve --alternatives K``).

The model is extended so that the funded set is a vector of binaries: every fundable row
gets a binary y_i (rows that had none get x_i ≤ u_i·y_i, and x_i ≥ ε_i·y_i with ε_i =
``MIN_FRACTION`` of the budget where the row has no minimum ticket, so y_i = 1 means money
is committed). Then, repeatedly: keep the objective within P % of the optimum, cut off
every funded set found so far (a no-good cut Σ_{i∈S}(1 − y_i) + Σ_{i∉S} y_i ≥ 1) and
solve. Each solve returns the best plan left, so the alternatives come out ranked.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fundopt.models.domain import ID, Constraint, Policy, Sense, Table
from fundopt.optimizer.build import Built, LinearModel, RowKind, RowTag, build
from fundopt.optimizer.report import clean_amounts
from fundopt.optimizer.result import Alternative, Result
from fundopt.optimizer.solve import SolveOptions, run

# In this mode a row with no minimum ticket counts as funded from this share of the budget.
MIN_FRACTION = 1e-4
INF = np.inf


def alternatives(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
                 base: Result, count: int, within: float,
                 options: SolveOptions | None = None) -> tuple[Alternative, ...]:
    """Up to ``count`` plans whose funded sets differ from the optimum's and from each
    other, each with an objective within ``within`` percent of the optimum.

    Parameters
    ----------
    table, policy, constraints
        The validated inputs.
    base
        The optimal result of these inputs.
    count
        How many alternatives at most (K).
    within
        The allowed objective shortfall in percent of |optimum| (P).
    options
        Solver options of every solve.

    Returns
    -------
    tuple[Alternative, ...]
        Best first; fewer than ``count`` when no other funded set is within the gap.
    """
    if not base.is_ok or base.objective is None or count <= 0:
        return ()
    options = options or SolveOptions()
    built = build(table, policy, constraints)
    model, rows = _with_binaries(built, policy)
    n, y = model.n, model.n + np.arange(len(rows))
    optimum = float(base.objective)
    slack = abs(optimum) * within / 100.0
    low, high = ((optimum - slack, INF) if model.sense is Sense.MAXIMIZE
                 else (-INF, optimum + slack))
    model = _append_rows(model, [(np.arange(n), model.cost[:n], low, high)])
    ids = table.frame[ID].astype(str).to_numpy()
    best = np.asarray(base.funded, dtype=bool)
    found: list[Alternative] = []
    funded = best
    for rank in range(1, count + 1):
        model = _append_rows(model, [_no_good(y, funded[rows])])
        outcome = run(model, options)
        if outcome.values is None:
            break
        funded = np.zeros(n, bool)
        funded[rows] = np.round(outcome.values[y]) > 0
        amounts = clean_amounts(outcome.values, n, built.bounds.lower, built.bounds.upper)
        amounts = np.where(funded, amounts, 0.0)
        objective = float(model.cost[:n] @ amounts)
        found.append(Alternative(
            rank=rank, objective=objective,
            gap=abs(optimum - objective) / max(abs(optimum), 1e-12), amounts=amounts,
            added=tuple(ids[funded & ~best].tolist()),
            dropped=tuple(ids[best & ~funded].tolist())))
    return tuple(found)


def _with_binaries(built: Built, policy: Policy) -> tuple[LinearModel, np.ndarray]:
    """The model with a binary for every fundable row, and the row of each binary.

    Binaries keep their columns (n + j for ``binary_rows[j]``); the new ones follow. Every
    binary of a row with no minimum ticket gets a floor x_i ≥ ε_i·y_i so that y_i = 1
    means money is committed.
    """
    model, bounds = built.model, built.bounds
    n = model.n
    new = np.setdiff1d(np.flatnonzero(bounds.fundable), model.binary_rows)
    rows = np.concatenate([model.binary_rows, new]).astype(int)
    k = len(new)
    first = len(model.cost)
    grown = replace(
        model,
        cost=np.concatenate([model.cost, np.zeros(k)]),
        col_lower=np.concatenate([model.col_lower, np.zeros(k)]),
        col_upper=np.concatenate([model.col_upper, np.ones(k)]),
        integer=np.concatenate([model.integer, np.ones(k, bool)]),
        binary_rows=rows,
    )
    links: list[tuple[np.ndarray, np.ndarray, float, float]] = []
    for j, i in enumerate(new):
        links.append((np.array([i, first + j]), np.array([1.0, -bounds.upper[i]]), -INF, 0.0))
    floor = np.minimum(bounds.upper, MIN_FRACTION * policy.budget)
    for j, i in enumerate(rows):
        if bounds.lower[i] <= 0:
            links.append((np.array([i, n + j]), np.array([1.0, -floor[i]]), 0.0, INF))
    return _append_rows(grown, links), rows


def _no_good(y: np.ndarray, funded: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Σ_{i∉S} y_i − Σ_{i∈S} y_i ≥ 1 − |S|: at least one binary differs from ``funded``."""
    coefs = np.where(funded, -1.0, 1.0)
    return y, coefs, 1.0 - float(funded.sum()), INF


def _append_rows(model: LinearModel,
                 rows: list[tuple[np.ndarray, np.ndarray, float, float]]) -> LinearModel:
    if not rows:
        return model
    lengths = np.array([len(cols) for cols, _, _, _ in rows])
    return replace(
        model,
        start=np.concatenate([model.start, model.start[-1] + np.cumsum(lengths)]
                             ).astype(np.int32),
        index=np.concatenate([model.index, *(cols for cols, _, _, _ in rows)]
                             ).astype(np.int32),
        value=np.concatenate([model.value, *(coefs for _, coefs, _, _ in rows)]),
        row_lower=np.append(model.row_lower, [lo for _, _, lo, _ in rows]),
        row_upper=np.append(model.row_upper, [hi for _, _, _, hi in rows]),
        tags=model.tags + tuple(RowTag(RowKind.LINK, "alternative") for _ in rows),
    )
