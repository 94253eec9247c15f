"""The plan and its totals as DataFrames: what every report format shows.

Columns use canonical names (``id``, ``region``, ``amount`` …); :func:`plan_headers`
gives the display names (the planner's own header text for input columns, labels in the
chosen language for the added ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fundopt.models.domain import (
    CATEGORY,
    DISTRICT,
    FUND_SIZE,
    ID,
    KNOWN_COLUMNS,
    REGION,
    STATUS,
    Policy,
    Table,
)
from fundopt.models.reading.table import status_as_written
from fundopt.optimizer.result import Result
from fundopt.reports.labels import label
from fundopt.reports.text import say

AMOUNT, FUNDED, SHARE_OF_BUDGET, STAKE = "amount", "funded", "share_of_budget", "stake"
ADDED_COLUMNS = (AMOUNT, FUNDED, SHARE_OF_BUDGET, STAKE)
GROUP_COLUMNS = (REGION, CATEGORY, DISTRICT)


def input_columns(table: Table) -> list[str]:
    """The columns the planner's table had, in the planner's order.

    ``table.headers`` lists the columns that came from the file (optional canonical
    columns the file lacked are absent from it). A table built without headers shows
    every frame column.
    """
    if not table.headers:
        return list(table.frame.columns)
    return [c for c in table.headers if c in table.frame.columns]


def plan_frame(table: Table, policy: Policy, result: Result) -> pd.DataFrame:
    """Every input row, in input order, with the commitment decided for it.

    Parameters
    ----------
    table
        The validated sub-fund table.
    policy
        The policy (for the budget).
    result
        The solve outcome; an infeasible result has zero amounts.

    Returns
    -------
    pandas.DataFrame
        The input columns (canonical names) plus ``amount``, ``funded``,
        ``share_of_budget`` (amount / budget) and ``stake`` (amount / fund_size, NaN
        where no positive fund_size is given).
    """
    plan = table.frame.loc[:, input_columns(table)].reset_index(drop=True)
    if STATUS in plan.columns:  # 必投 as the planner wrote it, not the canonical "must"
        written = status_as_written(table)
        assert written is not None
        plan[STATUS] = written.to_numpy()
    amounts = np.asarray(result.amounts, dtype=float)
    plan[AMOUNT] = amounts
    plan[FUNDED] = np.asarray(result.funded, dtype=bool)
    plan[SHARE_OF_BUDGET] = amounts / policy.budget
    if FUND_SIZE in table.frame.columns:
        size = table.frame[FUND_SIZE].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            plan[STAKE] = np.where(size > 0, amounts / size, np.nan)
    else:
        plan[STAKE] = np.nan
    return plan


def plan_headers(table: Table, lang: str) -> dict[str, str]:
    """Display name of each plan column: the planner's header, or the added column's label.

    English keeps the SPEC's machine names (``amount`` …) for the added columns so
    scripts can rely on them; Chinese uses the Chinese labels, for the table's own
    columns of SPEC §2 too (``max_ticket`` → 最高出资). Other columns keep the planner's
    header (data).
    """
    headers = {c: table.headers.get(c, c) for c in input_columns(table)}
    if lang == "zh":
        headers.update({c: label(c, lang) for c in headers if c in KNOWN_COLUMNS})
    for column in ADDED_COLUMNS:
        headers[column] = column if lang != "zh" else label(column, lang)
    return headers


def plan_display(table: Table, policy: Policy, result: Result, lang: str) -> pd.DataFrame:
    """The plan as people read it (CSV, the workbook's plan sheet): headers from
    :func:`plan_headers`, ``funded`` as 是/否 in Chinese, and no amounts at all (blank,
    not zeros) for a result without a plan. ``attrs["canonical"]`` keeps the canonical
    column names in order."""
    plan = plan_frame(table, policy, result)
    canonical = [str(c) for c in plan.columns]
    if not result.is_ok:
        for column in (AMOUNT, SHARE_OF_BUDGET, STAKE):
            plan[column] = np.nan
        plan[FUNDED] = None
    elif lang == "zh":
        plan[FUNDED] = np.where(plan[FUNDED].to_numpy(dtype=bool), label("yes", lang),
                                label("no", lang))
    plan = plan.rename(columns=plan_headers(table, lang))
    plan.attrs["canonical"] = canonical
    return plan


def with_eligibility(plan: pd.DataFrame, table: Table, policy: Policy, result: Result,
                     lang: str) -> pd.DataFrame:
    """The plan with a last column ``ineligible`` when the policy has ``[[eligible]]``
    rules (SPEC §11): for each row a rule shuts out, the rule and the failing value, as
    the other outputs list it; blank for the other rows (and an excluded row, which needs
    no reason). Without such rules the plan is returned unchanged."""
    if not policy.eligible:
        return plan
    reasons = {w.row_id: say("plan.ineligible_reason", lang, **w.detail)
               for w in result.warnings if w.code == "ineligible"}
    column = table.frame[ID].astype(str).map(reasons).fillna("").to_numpy()
    plan = plan.copy()
    plan[say("plan.ineligible_column", lang)] = column
    plan.attrs["canonical"] = [*plan.attrs.get("canonical", ()), "ineligible"]
    return plan


def group_totals(table: Table, policy: Policy, result: Result, by: str) -> pd.DataFrame:
    """Committed amount, share of budget and funded count per value of ``by``.

    Parameters
    ----------
    table, policy, result
        As for :func:`plan_frame`.
    by
        A text column, usually ``region``, ``category`` or ``district``.

    Returns
    -------
    pandas.DataFrame
        Columns ``by``, ``amount``, ``share``, ``count``; one row per distinct value in
        order of first appearance. Empty if the table has no such column.
    """
    if by not in table.frame.columns:
        return pd.DataFrame({by: pd.Series(dtype=str), "amount": pd.Series(dtype=float),
                             "share": pd.Series(dtype=float), "count": pd.Series(dtype=int)})
    codes, values = pd.factorize(table.frame[by], use_na_sentinel=False)
    amount = np.bincount(codes, np.asarray(result.amounts, dtype=float), len(values))
    count = np.bincount(codes, np.asarray(result.funded, dtype=float), len(values))
    return pd.DataFrame({by: values, "amount": amount, "share": amount / policy.budget,
                         "count": count.astype(int)})


def key_figures(table: Table, policy: Policy, result: Result) -> dict[str, Any]:
    """The headline numbers of a result, keyed by label key (``objective``, ``budget`` …)."""
    return {
        "status": str(result.status),
        "objective": result.objective,
        "committed": float(result.committed),
        "budget": float(policy.budget),
        "committed_share": float(result.committed) / policy.budget,
        "unit": policy.unit,
        "funded_count": int(np.count_nonzero(result.funded)),
        "candidates": len(table.frame),
        "gap": result.gap,
        "solver": result.solver,
        "seconds": float(result.seconds),
    }


def funded_rows(table: Table, policy: Policy, result: Result) -> pd.DataFrame:
    """The funded rows of the plan, in input order."""
    plan = plan_frame(table, policy, result)
    return plan.loc[plan[FUNDED]].reset_index(drop=True)

