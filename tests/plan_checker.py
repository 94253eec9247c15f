"""An independent check that a plan obeys every rule of SPEC §4 (test oracle).

Written from the SPEC, not from ``fundopt.optimizer``: it shares no code with the model
builder, so a bug there cannot hide itself here. ``check_plan`` returns the rules a plan
breaks, in words; an empty list means the plan is valid.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fundopt.models.domain import Constraint, Measure, Not, Part, Policy, Range

INF = float("inf")


def ticket_limits(frame: pd.DataFrame, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """(l, u): each row's minimum ticket if funded and its cap (SPEC §4)."""
    n = len(frame)
    upper = frame["max_ticket"].to_numpy(float).copy()
    if policy.max_stake is not None and "fund_size" in frame:
        stake = policy.max_stake * frame["fund_size"].to_numpy(float)
        upper = np.fmin(upper, stake)          # fmin: a blank fund_size (NaN) sets no cap
    if policy.max_single is not None:
        upper = np.minimum(upper, policy.max_single * policy.budget)
    lower = np.full(n, policy.min_ticket, dtype=float)
    if "min_ticket" in frame:
        cell = frame["min_ticket"].to_numpy(float)
        lower = np.where(np.isnan(cell), lower, cell)
    # [[limits]] (SPEC §11): x ≤ max, x ≥ min if funded, stakes of fund_size; a limit's
    # expression is read from a column of that name (the tests compute it with pandas)
    for limit in policy.limits:
        rows = selection(frame, limit.where)
        size = frame["fund_size"].to_numpy(float) if "fund_size" in frame else np.full(n, np.nan)
        caps = [frame[limit.max].to_numpy(float) if limit.max else None,
                limit.max_stake * size if limit.max_stake is not None else None]
        floors = [frame[limit.min].to_numpy(float) if limit.min else None,
                  limit.min_stake * size if limit.min_stake is not None else None]
        for cap in caps:
            if cap is not None:
                upper = np.where(rows & ~np.isnan(cap), np.minimum(upper, np.maximum(cap, 0)),
                                 upper)
        for floor in floors:
            if floor is not None:
                lower = np.where(rows & ~np.isnan(floor), np.maximum(lower, floor), lower)
    return lower, upper


def statuses(frame: pd.DataFrame) -> np.ndarray:
    """The normalised status column ("must", "exclude" or ""), "" where absent."""
    if "status" not in frame:
        return np.full(len(frame), "", dtype=object)
    return frame["status"].fillna("").astype(str).to_numpy(dtype=object)


def eligible(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Rows every ``[[eligible]]`` rule admits (SPEC §11)."""
    mask = np.ones(len(frame), dtype=bool)
    for rule in policy.eligible:
        mask &= selection(frame, rule.where)
    return mask


def selection(frame: pd.DataFrame, where: Sequence[tuple[str, object]]) -> np.ndarray:
    """Rows whose every ``where`` column holds one of its listed values (all rows if none);
    a ``{min, max}`` range (SPEC §11) keeps the numbers inside it, ``{not}`` every row but
    the listed values."""
    mask = np.ones(len(frame), dtype=bool)
    for column, condition in where:
        if isinstance(condition, Range):
            numbers = pd.to_numeric(frame[column], errors="coerce")
            low = -INF if condition.min is None else condition.min
            high = INF if condition.max is None else condition.max
            mask &= numbers.between(low, high).to_numpy()
        elif isinstance(condition, Not):
            mask &= ~frame[column].astype(str).isin([str(v) for v in condition.values]
                                                    ).to_numpy()
        else:
            assert isinstance(condition, tuple)
            mask &= frame[column].astype(str).isin([str(v) for v in condition]).to_numpy()
    return mask


def measure_value(frame: pd.DataFrame, policy: Policy, constraint: Constraint,
                  amounts: np.ndarray, tol: float = 1e-6) -> float | None:
    """The constraint's measure on the plan; None for an avg over rows with no money."""
    mask = selection(frame, constraint.where)
    x = amounts[mask]
    if constraint.measure is Measure.AMOUNT:
        return float(x.sum())
    if constraint.measure is Measure.SHARE:
        return float(x.sum() / policy.budget)
    if constraint.measure is Measure.COUNT:
        return float((x > tol).sum())
    if constraint.measure is Measure.RATIO:
        assert constraint.rule.ratio is not None
        top, bottom = (_part(frame, part, mask, x, tol) for part in constraint.rule.ratio)
        return None if bottom <= tol else top / bottom
    assert constraint.column is not None
    column = frame[constraint.column].to_numpy(float)[mask]
    funded = x > tol
    if constraint.measure is Measure.FUNDED:
        return float(column[funded].sum())
    weighted = float((column[funded] * x[funded]).sum())
    if constraint.measure is Measure.SUM:
        return weighted
    total = float(x.sum())
    return None if total <= tol else weighted / total


def _part(frame: pd.DataFrame, part: Part, mask: np.ndarray, x: np.ndarray,
          tol: float) -> float:
    """One side of a ratio on the plan: amount, count, sum(EXPR) or funded(EXPR)."""
    funded = x > tol
    column = None if part.expression is None else frame[part.expression].to_numpy(float)[mask]
    if part.kind is Measure.AMOUNT:
        return float(x.sum())
    if part.kind is Measure.COUNT:
        return float(funded.sum())
    assert column is not None
    if part.kind is Measure.SUM:
        return float((column[funded] * x[funded]).sum())
    return float(column[funded].sum())


def check_plan(frame: pd.DataFrame, policy: Policy, constraints: Sequence[Constraint],
               amounts: np.ndarray, tol: float = 1e-6) -> list[str]:
    """Every rule of SPEC §4 the plan breaks, in words.

    Parameters
    ----------
    frame
        The candidate table (canonical columns of ``models.domain``).
    policy
        The policy the plan was made under.
    constraints
        The expanded policy constraints.
    amounts
        The commitment x_i per row, in row order.
    tol
        Absolute tolerance on amounts; bounds are compared with relative tolerance.

    Returns
    -------
    list[str]
        One sentence per broken rule; empty when the plan is valid.
    """
    x = np.asarray(amounts, dtype=float)
    return (_row_rules(frame, policy, x, tol) + _total_rules(policy, x, tol)
            + [v for c in constraints for v in _constraint_rule(frame, policy, c, x, tol)])


def _row_rules(frame: pd.DataFrame, policy: Policy, x: np.ndarray, tol: float) -> list[str]:
    lower, upper = ticket_limits(frame, policy)
    ids = frame["id"].astype(str).to_numpy()
    status = statuses(frame)
    funded = x > tol
    problems: list[tuple[np.ndarray, str]] = [
        (x < -tol, "amount {x:g} is negative"),
        (x > upper + tol * np.maximum(1, upper), "amount {x:g} exceeds its cap {u:g} ({cap})"),
        (funded & (x < lower - tol), "amount {x:g} is below its minimum ticket {l:g}"),
        ((status == "must") & ~(funded & (x >= lower - tol)),
         "must-fund sub-fund gets {x:g}, not at least its minimum ticket {l:g}"),
        ((status == "exclude") & funded, "excluded sub-fund gets {x:g}"),
        (~eligible(frame, policy) & funded, "ineligible sub-fund gets {x:g}"),
        ((lower > upper) & funded,
         "sub-fund whose minimum ticket {l:g} exceeds its cap {u:g} gets {x:g}"),
    ]
    if policy.amount_step:
        steps = x / policy.amount_step
        problems.append((np.abs(steps - np.round(steps)) > 1e-9 * np.maximum(1, steps),
                         f"amount {{x!r}} is not a whole number of steps of "
                         f"{policy.amount_step:g}"))
    messages = []
    for mask, template in problems:
        for i in np.flatnonzero(mask):
            text = template.format(x=x[i], u=upper[i], l=lower[i],
                                   cap=_cap_name(frame, policy, int(i), upper[i]))
            messages.append(f"row {ids[i]}: {text}")
    return messages


def _cap_name(frame: pd.DataFrame, policy: Policy, i: int, cap: float) -> str:
    """Which of max_ticket / max_stake / max_single sets the cap of row i."""
    if policy.max_single is not None and cap == policy.max_single * policy.budget:
        return "max_single"
    if (policy.max_stake is not None and "fund_size" in frame
            and cap == policy.max_stake * frame["fund_size"].to_numpy(float)[i]):
        return "max_stake"
    return "max_ticket"


def _total_rules(policy: Policy, x: np.ndarray, tol: float) -> list[str]:
    total, count = float(x.sum()), int((x > tol).sum())
    slack = tol * max(1.0, policy.budget)
    messages = []
    if total > policy.budget + slack:
        messages.append(f"total {total:g} exceeds the budget {policy.budget:g}")
    if total < policy.min_deploy * policy.budget - slack:
        messages.append(f"total {total:g} is below min_deploy × budget "
                        f"{policy.min_deploy * policy.budget:g}")
    if policy.max_funded is not None and count > policy.max_funded:
        messages.append(f"{count} sub-funds funded, more than max_funded {policy.max_funded}")
    if policy.min_funded is not None and count < policy.min_funded:
        messages.append(f"{count} sub-funds funded, fewer than min_funded {policy.min_funded}")
    return messages


def _constraint_rule(frame: pd.DataFrame, policy: Policy, c: Constraint, x: np.ndarray,
                     tol: float) -> list[str]:
    value = measure_value(frame, policy, c, x, tol)
    if value is None:
        return []
    head = f"constraint '{c.label}': {c.measure} is {value:g}"
    messages = []
    if c.min is not None and value < c.min - tol * max(1.0, abs(c.min)):
        messages.append(f"{head}, below its min {c.min:g}")
    if c.max is not None and value > c.max + tol * max(1.0, abs(c.max)):
        messages.append(f"{head}, above its max {c.max:g}")
    return messages
