"""``fundopt sweep``: the objective as one policy number moves, point by point.

For every point: status, objective, committed, funded count, the marginal value per unit
of the parameter since the previous point, and whether the funded set changed since the
previous feasible point (with the ids added and dropped). Infeasible points stay, marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fundopt.models.domain import ID
from fundopt.optimizer.result import Result
from fundopt.reports.diagnosis_text import conflict_lines, reason_text
from fundopt.reports.files.export import (
    diagnosis_dict,
    json_ready,
    warning_dict,
    write_files,
)
from fundopt.reports.labels import (
    bool_text,
    key_text,
    label,
    relaxation_text,
    status_text,
)
from fundopt.reports.text import say

if TYPE_CHECKING:

    from fundopt.app.runs import SweepRun

SWEEP_COLUMNS = ("param_value", "status", "objective", "committed", "funded_count", "marginal",
                 "funded_set_changed", "added", "dropped")


def sweep_frame(run: SweepRun) -> pd.DataFrame:
    """One row per point, columns :data:`SWEEP_COLUMNS` (canonical names).

    ``marginal`` is (objective change) / (parameter change) from the previous point, NaN
    when either point has no plan; ``added`` / ``dropped`` are space-separated ids against
    the previous feasible point.
    """
    ok = np.array([r.is_ok for r in run.results], dtype=bool)
    objective = np.array([r.objective if r.is_ok and r.objective is not None else np.nan
                          for r in run.results], dtype=float)
    values = np.asarray(run.values, dtype=float)
    marginal = np.full(len(values), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        marginal[1:] = np.diff(objective) / np.diff(values)
    ids = run.table.frame[ID].astype(str).to_numpy()
    changed, added, dropped = [], [], []
    previous: np.ndarray | None = None
    for result, feasible in zip(run.results, ok, strict=True):
        funded = np.asarray(result.funded, dtype=bool)
        if not feasible or previous is None:
            changed.append(False if feasible else None)
            added.append("")
            dropped.append("")
        else:
            added.append(" ".join(ids[funded & ~previous]))
            dropped.append(" ".join(ids[previous & ~funded]))
            changed.append(bool(added[-1] or dropped[-1]))
        previous = funded if feasible else previous
    return pd.DataFrame({
        "param_value": values, "status": [str(r.status) for r in run.results],
        "objective": objective,
        "committed": [r.committed if r.is_ok else np.nan for r in run.results],
        "funded_count": pd.array([int(np.count_nonzero(r.funded)) if r.is_ok else None
                                  for r in run.results], dtype="Int64"),
        "marginal": marginal, "funded_set_changed": changed, "added": added,
        "dropped": dropped,
    })


def sweep_headers(run: SweepRun, lang: str) -> dict[str, str]:
    """Display name of each sweep column; amounts carry the policy's unit."""
    unit = f" ({run.policy.unit})"
    heads = {c: label(c, lang) for c in (*SWEEP_COLUMNS, "reason")}
    heads["param_value"] = key_text(run.param, lang)
    heads["committed"] += unit
    return heads


def display_frame(run: SweepRun, lang: str) -> pd.DataFrame:
    """The sweep frame for people (terminal, CSV, workbook): translated statuses, yes/no,
    headers in ``lang``, and a last column ``reason`` with each infeasible point's short
    reason (:func:`point_reason`)."""
    frame = sweep_frame(run)
    frame["status"] = [status_text(s, lang) for s in frame["status"]]
    frame["funded_set_changed"] = [None if v is None else bool_text(bool(v), lang)
                                   for v in frame["funded_set_changed"]]
    frame["reason"] = [point_reason(r, lang) for r in run.results]
    return frame.rename(columns=sweep_headers(run, lang))


def point_reason(result: Result, lang: str) -> str:
    """Why a point has no plan, in a few words: the diagnosis' first plain reason (a
    must-fund conflict), else the suggested change, else the conflicting constraints;
    ``""`` for a point with a plan."""
    if result.is_ok:
        return ""
    diagnosis = result.diagnosis
    if diagnosis is None:
        return status_text(result.status, lang)
    if diagnosis.messages:
        return reason_text(diagnosis.messages[0], lang, diagnosis.captions)
    if diagnosis.relaxation:
        return say("diagnosis.point.fix", lang, change=say("list.semicolon", lang).join(
            relaxation_text(r, lang, key=False) for r in diagnosis.relaxation))
    if diagnosis.conflict:
        return say("diagnosis.point.conflict", lang,
                   names=", ".join(conflict_lines(diagnosis, lang)))
    return say("diagnosis.no_relaxation", lang)


def sweep_dict(run: SweepRun, lang: str = "en") -> dict[str, Any]:
    """The machine-readable sweep of SPEC §6: every point, infeasible ones included."""
    frame = sweep_frame(run)
    ids = run.table.frame[ID].astype(str).to_numpy()
    points = []
    for row, result in zip(frame.itertuples(index=False), run.results, strict=True):
        point: dict[str, Any] = {
            "value": row.param_value, "status": row.status,
            "objective": row.objective, "committed": row.committed,
            "funded": ids[np.asarray(result.funded, dtype=bool)].tolist() if result.is_ok
            else [],
            "marginal": row.marginal, "funded_set_changed": row.funded_set_changed,
        }
        if result.diagnosis is not None:
            point["diagnosis"] = diagnosis_dict(result.diagnosis, lang)
        points.append(point)
    out = {"param": run.param, "unit": run.policy.unit, "points": json_ready(points),
           "warnings": [warning_dict(n, lang) for n in run.notes]}
    if run.engine is not None:
        out["engine"] = run.engine
    return out


def write_sweep(paths: Sequence[Path], run: SweepRun, lang: str) -> None:
    """Write the ``-o`` files (``.json``, ``.csv``, ``.xlsx``): all or none."""
    def workbook(temp: Path) -> None:
        from fundopt.reports.workbook.batch import write_sweep_xlsx

        write_sweep_xlsx(temp, run=run, lang=lang)

    write_files(paths, lambda: sweep_dict(run, lang), lambda: display_frame(run, lang),
                workbook)
