"""``fundopt compare``: scenarios side by side, and each plan's difference to the baseline.

One :class:`CompareRun` feeds every format: the terminal, ``.json`` (SPEC §6), ``.csv``
(the side-by-side table) and ``.xlsx`` (``reports.workbook.batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fundopt.models.domain import CATEGORY, ID, NAME, REGION
from fundopt.models.rules.scenarios import Prepared
from fundopt.optimizer.result import Result
from fundopt.reports.captions import binding_summary
from fundopt.reports.diagnosis_text import conflict_lines, diagnosis_lines
from fundopt.reports.files.export import (
    diagnosis_dict,
    json_ready,
    warning_dict,
    write_files,
)
from fundopt.reports.frames import group_totals
from fundopt.reports.labels import (
    label,
    relaxation_text,
    status_text,
)
from fundopt.reports.text import say

if TYPE_CHECKING:

    from fundopt.app.runs import CompareRun

# Amount differences below this share of the budget are solver-level ties, not a change
# of plan worth a reviewer's attention (1e-4 × 40亿 = 40万元).
CHANGE_TOL = 1e-4
INPUT_ERROR = "input_error"


@dataclass(frozen=True)
class CompareRow:
    """One line of the side-by-side table: a label key, its display text, a kind for
    number formats (``text``, ``amount``, ``share``, ``count``, ``number``), one value per
    scenario."""

    key: str
    text: str
    kind: str
    values: tuple[Any, ...]


def status_of(prepared: Prepared, result: Result | None) -> str:
    """The scenario's status value: a ``SolveStatus`` or ``input_error``."""
    return INPUT_ERROR if result is None or prepared.error is not None else str(result.status)


def compare_rows(run: CompareRun, lang: str) -> list[CompareRow]:
    """The side-by-side table: status, objective, committed, funded count, amount and
    share per region and per category, binding constraints, diagnosis or error."""
    pairs = list(zip(run.scenarios, run.results, strict=True))
    rows = [
        CompareRow("description", label("description", lang), "text",
                   tuple(p.description for p, _ in pairs)),
        CompareRow("status", label("status", lang), "text",
                   tuple(status_text(status_of(p, r), lang) for p, r in pairs)),
        CompareRow("objective", label("objective", lang), "number",
                   tuple(r.objective if r is not None else None for _, r in pairs)),
        CompareRow("budget", label("budget", lang), "amount",
                   tuple(p.policy.budget if p.policy is not None else None for p, _ in pairs)),
        CompareRow("committed", label("committed", lang), "amount",
                   tuple(r.committed if r is not None and r.is_ok else None for _, r in pairs)),
        CompareRow("funded_count", label("funded_count", lang), "count",
                   tuple(int(np.count_nonzero(r.funded)) if r is not None and r.is_ok else None
                         for _, r in pairs)),
    ]
    for by in (REGION, CATEGORY):
        rows += _group_rows(pairs, by, lang)
    rows.append(CompareRow("binding_constraints", label("binding_constraints", lang), "text",
                           tuple(_binding_text(r, lang) for _, r in pairs)))
    rows.append(CompareRow("diagnosis", say("diagnosis.heading", lang), "text",
                           tuple(_diagnosis_text(p, r, lang) for p, r in pairs)))
    return rows


def compare_frame(run: CompareRun, lang: str) -> pd.DataFrame:
    """The side-by-side table as a frame: one row per :class:`CompareRow`, one column per
    scenario (the first column holds the row labels)."""
    rows = compare_rows(run, lang)
    names = [_scenario_name(p.name, lang) for p in run.scenarios]
    data = {label("field", lang): [r.text for r in rows]}
    for i, name in enumerate(names):
        data[name] = [r.values[i] for r in rows]
    return pd.DataFrame(data)


def plan_changes(run: CompareRun, index: int) -> pd.DataFrame:
    """Sub-funds added, dropped or changed in scenario ``index`` against the baseline.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``name``, ``change`` (added / dropped / changed), ``baseline``,
        ``scenario``, ``delta``; empty when either plan is missing.
    """
    (base, base_result), prepared = run.baseline, run.scenarios[index]
    result = run.results[index]
    columns = [ID, NAME, "change", "baseline", "scenario", "delta"]
    if not _ok(base_result) or not _ok(result) or prepared.table is None \
            or base.table is None or base_result is None or result is None:
        return pd.DataFrame({c: [] for c in columns})
    before = np.asarray(base_result.amounts, dtype=float)
    after = np.asarray(result.amounts, dtype=float)
    funded_before = np.asarray(base_result.funded, dtype=bool)
    funded_after = np.asarray(result.funded, dtype=bool)
    tol = CHANGE_TOL * max(base.policy.budget if base.policy is not None else 1.0, 1.0)
    change = np.select([~funded_before & funded_after, funded_before & ~funded_after,
                        np.abs(after - before) > tol], ["added", "dropped", "changed"],
                       default="")
    frame = base.table.frame
    names = frame[NAME] if NAME in frame.columns else frame[ID]
    out = pd.DataFrame({ID: frame[ID].astype(str).to_numpy(),
                        NAME: names.astype(str).to_numpy(), "change": change,
                        "baseline": before, "scenario": after, "delta": after - before})
    return out.loc[out["change"] != ""].reset_index(drop=True)


def compare_dict(run: CompareRun, lang: str = "en") -> dict[str, Any]:
    """The machine-readable comparison of SPEC §6 (keys are English in every language)."""
    scenarios = []
    for i, (prepared, result) in enumerate(zip(run.scenarios, run.results, strict=True)):
        item: dict[str, Any] = {"name": prepared.name, "description": prepared.description,
                                "status": status_of(prepared, result)}
        if prepared.error is not None:
            item["error"] = prepared.error.render(lang)
        if result is not None and prepared.table is not None and prepared.policy is not None:
            item.update(_result_item(prepared, result))
            if result.diagnosis is not None:
                item["diagnosis"] = diagnosis_dict(result.diagnosis, lang)
            if i > 0:
                changes = plan_changes(run, i)
                item["changes"] = {kind: changes.loc[changes["change"] == kind,
                                                     [ID, "baseline", "scenario", "delta"]]
                                   .to_dict(orient="records")
                                   for kind in ("added", "dropped", "changed")}
        scenarios.append(item)
    out = {"scenario_file": str(run.scenario_file), "scenario_sha256": run.scenario_sha256,
           "warnings": [warning_dict(n, lang) for n in run.notes],
           "scenarios": json_ready(scenarios)}
    if run.engine is not None:
        out["engine"] = run.engine
    return out


def write_compare(paths: Sequence[Path], run: CompareRun, lang: str) -> None:
    """Write the ``-o`` files (``.json``, ``.csv``, ``.xlsx``): all or none."""
    def workbook(temp: Path) -> None:
        from fundopt.reports.workbook.batch import write_compare_xlsx

        write_compare_xlsx(temp, run=run, lang=lang)

    write_files(paths, lambda: compare_dict(run, lang), lambda: compare_frame(run, lang),
                workbook)


def _result_item(prepared: Prepared, result: Result) -> dict[str, Any]:
    assert prepared.table is not None and prepared.policy is not None
    table, policy = prepared.table, prepared.policy
    ids = table.frame[ID].astype(str).tolist()
    amounts = np.asarray(result.amounts, dtype=float).tolist()
    funded = np.asarray(result.funded, dtype=bool).tolist()
    groups = {f"by_{by}": {str(g): {"amount": a, "share": s, "count": int(c)}
                           for g, a, s, c in group_totals(table, policy, result, by)
                           .itertuples(index=False)}
              for by in (REGION, CATEGORY)}
    return {"objective": result.objective, "budget": policy.budget,
            "committed": result.committed, "funded_count": int(sum(funded)), **groups,
            "binding": [c.label for c in result.constraints if c.binding],
            "allocations": [{"id": i, "amount": a, "funded": f}
                            for i, a, f in zip(ids, amounts, funded, strict=True)]}


def _group_rows(pairs: list[tuple[Prepared, Result | None]], by: str, lang: str
                ) -> list[CompareRow]:
    """Amount and share rows for every value of ``by`` in any scenario's table."""
    totals: list[dict[str, dict[str, float]] | None] = [
        {str(g): {"amount": float(a), "share": float(s)}
         for g, a, s, _ in group_totals(p.table, p.policy, r, by).itertuples(index=False)}
        if r is not None and r.is_ok and p.table is not None and p.policy is not None
        else None for p, r in pairs]
    groups = list(dict.fromkeys(g for t in totals if t is not None for g in t))
    rows = []
    for group in groups:
        for measure, kind in (("amount", "amount"), ("share", "share")):
            values = tuple(t[group][measure] if t is not None and group in t else None
                           for t in totals)
            rows.append(CompareRow(f"{measure}.{by}.{group}",
                                   label(f"{measure}_of", lang).format(group=group), kind,
                                   values))
    return rows


def _ok(result: Result | None) -> bool:
    return result is not None and result.is_ok


def _binding_text(result: Result | None, lang: str) -> str:
    if not _ok(result) or result is None:
        return ""
    names = binding_summary([c for c in result.constraints if c.binding], lang)
    return "; ".join(names) or label("no_binding", lang)


def _diagnosis_text(prepared: Prepared, result: Result | None, lang: str) -> str:
    if prepared.error is not None:
        return prepared.error.render(lang)
    if result is None or result.diagnosis is None:
        return ""
    diagnosis = result.diagnosis
    parts = [relaxation_text(r, lang) for r in diagnosis.relaxation]
    if diagnosis.conflict:
        parts.append(say("diagnosis.heading.conflict", lang) + ": "
                     + ", ".join(conflict_lines(diagnosis, lang)))
    return "; ".join([*parts, *diagnosis_lines(diagnosis, lang)])


def _scenario_name(name: str, lang: str) -> str:
    return label("baseline", lang) if name == "baseline" else name
