"""A deliberately simple reference solve of SPEC §4 with ``scipy.optimize.milp`` (test oracle).

Independent of ``fundopt.optimizer``: dense matrices, a binary y_i for every row
(l_i·y_i ≤ x_i ≤ u_i·y_i), every rule written straight from the SPEC. Only for tests and
small tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from plan_checker import eligible, selection, statuses, ticket_limits
from scipy.optimize import Bounds, LinearConstraint, milp

from fundopt.models.domain import Constraint, Measure, Policy, Sense

INF = float("inf")


def objective_vector(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """c_i: Σ_k weight_k·column_k, each column over its max |value| when normalised."""
    c = np.zeros(len(frame))
    for column, weight in policy.objective.weights.items():
        values = frame[column].to_numpy(float)
        scale = np.abs(values).max() if policy.objective.normalize else 1.0
        c += weight * values / (scale if scale > 0 else 1.0)
    return c


class _Rows:
    """Dense constraint rows over the 2n variables [x, y]."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[np.ndarray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, x_coef: np.ndarray | None, y_coef: np.ndarray | None,
            lower: float = -INF, upper: float = INF) -> None:
        row = np.zeros(2 * self.n)
        if x_coef is not None:
            row[: self.n] = x_coef
        if y_coef is not None:
            row[self.n:] = y_coef
        self.rows.append(row)
        self.lower.append(lower)
        self.upper.append(upper)

    def constraint(self) -> LinearConstraint:
        return LinearConstraint(np.vstack(self.rows), self.lower, self.upper)


def _add_policy_constraint(rows: _Rows, frame: pd.DataFrame, policy: Policy,
                           c: Constraint) -> None:
    mask = selection(frame, c.where).astype(float)
    lo = -INF if c.min is None else c.min
    hi = INF if c.max is None else c.max
    if c.measure is Measure.AMOUNT:
        rows.add(mask, None, lo, hi)
    elif c.measure is Measure.SHARE:
        rows.add(mask, None, lo * policy.budget, hi * policy.budget)
    elif c.measure is Measure.COUNT:
        rows.add(None, mask, lo, hi)
    elif c.measure is Measure.FUNDED:      # Σ EXPR·y (SPEC §11)
        assert c.column is not None
        rows.add(None, np.nan_to_num(frame[c.column].to_numpy(float)) * mask, lo, hi)
    elif c.measure is Measure.RATIO:       # M1 − b·M2 ≥ 0 / ≤ 0 (SPEC §11)
        assert c.rule.ratio is not None
        terms = []
        for part in c.rule.ratio:
            values = mask if part.expression is None else \
                np.nan_to_num(frame[part.expression].to_numpy(float)) * mask
            on_y = part.kind in (Measure.COUNT, Measure.FUNDED)
            terms.append((None, values) if on_y else (values, None))
        zero = np.zeros(len(frame))
        for bound, lower, upper in ((c.min, 0.0, INF), (c.max, -INF, 0.0)):
            if bound is None:
                continue
            (x1, y1), (x2, y2) = terms
            x = (zero if x1 is None else x1) - bound * (zero if x2 is None else x2)
            y = (zero if y1 is None else y1) - bound * (zero if y2 is None else y2)
            rows.add(x, y, lower, upper)
    else:
        assert c.column is not None
        column = np.nan_to_num(frame[c.column].to_numpy(float)) * mask
        if c.measure is Measure.SUM:
            rows.add(column, None, lo, hi)
        else:   # avg: Σ (COL − bound)·x ≥ 0 for the min, ≤ 0 for the max
            if c.min is not None:
                rows.add((column - c.min) * mask, None, 0.0, INF)
            if c.max is not None:
                rows.add((column - c.max) * mask, None, -INF, 0.0)


def reference_model(frame: pd.DataFrame, policy: Policy, constraints: Sequence[Constraint]
                    ) -> tuple[LinearConstraint, Bounds, np.ndarray, float] | None:
    """The rows and bounds of SPEC §4 over [x, y] — over [z, y] with x = step·z, z integer,
    under ``amount_step`` — their integrality and the step (None: a must row that cannot
    be funded)."""
    n = len(frame)
    lower, upper = ticket_limits(frame, policy)
    status = statuses(frame)
    fundable = (status != "exclude") & (lower <= upper) & (upper > 0) & eligible(frame, policy)
    if ((status == "must") & ~fundable).any():
        return None   # a must row that cannot be funded
    eye = np.eye(n)
    rows = _Rows(n)
    for i in range(n):   # l_i·y_i ≤ x_i ≤ u_i·y_i
        rows.add(eye[i], -upper[i] * eye[i], -INF, 0.0)
        rows.add(eye[i], -lower[i] * eye[i], 0.0, INF)
    rows.add(np.ones(n), None, policy.min_deploy * policy.budget, policy.budget)
    if policy.max_funded is not None or policy.min_funded is not None:
        rows.add(None, np.ones(n), policy.min_funded or 0,
                 INF if policy.max_funded is None else policy.max_funded)
    for c in constraints:
        _add_policy_constraint(rows, frame, policy, c)
    y_lower = (status == "must").astype(float)
    # With amount_step the variables are whole steps z (x = step·z, z integer): every x
    # coefficient is scaled, and the bounds l ≤ step·z ≤ u round by integrality alone.
    step = policy.amount_step or 1.0
    scale = np.concatenate([np.full(n, step), np.ones(n)])
    constraint = rows.constraint()
    bounds = Bounds(np.concatenate([np.zeros(n), y_lower]),
                    np.concatenate([np.where(fundable, upper, 0.0) / step,
                                    fundable.astype(float)]))
    integer_x = np.ones(n) if policy.amount_step else np.zeros(n)
    return (LinearConstraint(constraint.A * scale, constraint.lb, constraint.ub), bounds,
            np.concatenate([integer_x, np.ones(n)]), step)


def reference_solve(frame: pd.DataFrame, policy: Policy, constraints: Sequence[Constraint]
                    ) -> tuple[str, float | None, np.ndarray | None]:
    """Solve SPEC §4 exactly (MIP gap 0).

    Returns
    -------
    tuple
        ("optimal", objective, x) or ("infeasible", None, None); any other solver outcome
        is reported as ("error: <message>", None, None).
    """
    n = len(frame)
    model = reference_model(frame, policy, constraints)
    if model is None:
        return "infeasible", None, None
    constraint, bounds, integrality, step = model
    c_x = objective_vector(frame, policy)
    sign = -1.0 if policy.objective.sense is Sense.MAXIMIZE else 1.0
    res = milp(np.concatenate([sign * c_x * step, np.zeros(n)]), constraints=constraint,
               integrality=integrality, bounds=bounds, options={"mip_rel_gap": 0.0})
    if res.status == 2 or (res.status == 0 and res.x is None):
        return "infeasible", None, None
    if res.status != 0:
        return f"error: {res.message}", None, None
    x = np.clip(res.x[:n] * step, 0.0, None)
    x[np.abs(x) < 1e-9] = 0.0
    return "optimal", float(c_x @ x), x


def reference_max_min(frame: pd.DataFrame, policy: Policy, constraints: Sequence[Constraint],
                      totals: np.ndarray) -> tuple[str, float | None, np.ndarray | None]:
    """max t subject to t ≤ totals_j·x for every row j of ``totals`` and every rule of
    SPEC §4: the max–min form of ``--robust worst`` (rows = reviewers' scores) and, with
    one row per subset of scenarios, of CVaR by explicit enumeration."""
    n = len(frame)
    model = reference_model(frame, policy, constraints)
    if model is None:
        return "infeasible", None, None
    base, bounds, integrality, step = model
    # [x, y, t]: the base rows get a zero column for t; then t − totals_j·x ≤ 0
    matrix = np.hstack([np.asarray(base.A), np.zeros((base.A.shape[0], 1))])
    extra = np.hstack([-totals * step, np.zeros((len(totals), n)), np.ones((len(totals), 1))])
    constraint = LinearConstraint(np.vstack([matrix, extra]),
                                  np.concatenate([base.lb, np.full(len(totals), -INF)]),
                                  np.concatenate([base.ub, np.zeros(len(totals))]))
    cost = np.zeros(2 * n + 1)
    cost[-1] = -1.0
    res = milp(cost, constraints=constraint, integrality=np.append(integrality, 0),
               bounds=Bounds(np.append(bounds.lb, -INF), np.append(bounds.ub, INF)),
               options={"mip_rel_gap": 0.0})
    if res.status == 2 or (res.status == 0 and res.x is None):
        return "infeasible", None, None
    if res.status != 0:
        return f"error: {res.message}", None, None
    return "optimal", float(res.x[-1]), np.clip(res.x[:n] * step, 0.0, None)
