"""The robust plan's comparison with the nominal optimum (``solve --robust``), as data:
the ``robust`` JSON key and the workbook's robust sheet (the terminal reads the same)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fundopt.models.domain import ID, NAME, Policy, Table
from fundopt.optimizer.result import Result, Robustness
from fundopt.reports.labels import label
from fundopt.reports.workbook.review import AMOUNT_FMT, NUMBER_FMT, Row


def criterion_text(robust: Robustness, lang: str) -> str:
    """``worst`` / ``cvar:0.2`` in words."""
    if robust.criterion == "worst":
        return label("robust.criterion.worst", lang)
    alpha = float(robust.criterion.split(":", 1)[1])
    return label("robust.criterion.cvar", lang).format(alpha=alpha)


def scenarios_text(robust: Robustness, lang: str) -> str:
    return label(f"robust.scenarios.{robust.scenarios}", lang).format(count=robust.count)


def plan_differences(table: Table, result: Result) -> tuple[list[str], list[str]]:
    """Ids funded only in the robust plan, and only in the nominal optimum."""
    assert result.robust is not None
    ids = table.frame[ID].astype(str).to_numpy()
    robust = np.asarray(result.funded, dtype=bool)
    nominal = np.asarray(result.robust.nominal_amounts) > 0
    return ids[robust & ~nominal].tolist(), ids[nominal & ~robust].tolist()


def reviewer_totals(policy: Policy, robust: Robustness) -> list[tuple[str, float, float]]:
    """(reviewer column, robust plan's total, nominal optimum's total) per reviewer."""
    if robust.scenarios != "reviewers" or policy.uncertainty is None:
        return []
    return [(name, float(a), float(b)) for name, a, b in
            zip(policy.uncertainty.reviewers, robust.plan_totals, robust.nominal_totals,
                strict=True)]


def robust_dict(table: Table, policy: Policy, result: Result) -> dict[str, Any]:
    """The ``robust`` key of the JSON result (SPEC §8), plus what tells the plans apart."""
    robust = result.robust
    assert robust is not None
    added, dropped = plan_differences(table, result)
    out: dict[str, Any] = {
        "criterion": robust.criterion, "value": robust.value,
        "nominal_objective": robust.nominal_objective,
        "nominal_optimum": robust.nominal_optimum, "price": robust.price,
        "nominal_plan_value": robust.nominal_plan_value,
        "scenarios": robust.scenarios, "scenario_count": robust.count,
        "added": added, "dropped": dropped,
    }
    totals = reviewer_totals(policy, robust)
    if totals:
        out["reviewer_totals"] = [{"reviewer": name, "robust_plan": a, "nominal_optimum": b}
                                  for name, a, b in totals]
    return out


def robust_rows(table: Table, policy: Policy, result: Result, lang: str) -> list[Row]:
    """The workbook's robust sheet: the criterion for both plans, the price, each
    reviewer's total, and the sub-funds the two plans fund differently."""
    robust = result.robust
    assert robust is not None
    plan, nominal = label("robust.plan", lang), label("robust.nominal_plan", lang)
    rows: list[Row] = [
        ([label("robust.criterion", lang), f"{robust.criterion}: {criterion_text(robust, lang)}"],
         [None, None], False),
        ([label("robust.scenarios", lang), scenarios_text(robust, lang)], [None, None], False),
        ([], [], False),
        ([label("field", lang), plan, nominal], [None] * 3, True),
        ([label("robust.value", lang), robust.value, robust.nominal_plan_value],
         [None, NUMBER_FMT, NUMBER_FMT], False),
        ([label("robust.nominal_objective", lang), robust.nominal_objective,
          robust.nominal_optimum], [None, NUMBER_FMT, NUMBER_FMT], False),
    ]
    rows += [([label("robust.reviewer_total", lang).format(reviewer=name), a, b],
              [None, NUMBER_FMT, NUMBER_FMT], False)
             for name, a, b in reviewer_totals(policy, robust)]
    rows += [([label("robust.price", lang), robust.price], [None, NUMBER_FMT], False),
             ([], [], False),
             ([label("id", lang), label("name", lang), plan + f" ({policy.unit})",
               nominal + f" ({policy.unit})"], [None] * 4, True)]
    frame = table.frame
    names = frame[NAME].astype(str).to_numpy() if NAME in frame.columns else frame[ID]
    amounts = np.asarray(result.amounts, dtype=float)
    nominal_amounts = np.asarray(robust.nominal_amounts, dtype=float)
    changed = np.flatnonzero(np.abs(amounts - nominal_amounts) > 1e-9)
    ids = frame[ID].astype(str).to_numpy()
    rows += [([ids[i], names[i], float(amounts[i]), float(nominal_amounts[i])],
              [None, None, AMOUNT_FMT, AMOUNT_FMT], False) for i in changed]
    return rows
