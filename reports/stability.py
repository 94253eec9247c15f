"""``fundopt stability`` as data: the per-row frame, the JSON document (SPEC §8) and the
``-o`` files. The terminal (``reports.terminal.uncertainty``) and the workbook
(``reports.workbook.stability``) read the same frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fundopt
from fundopt.models.domain import CATEGORY, ID, NAME, REGION, Policy, Table
from fundopt.optimizer.stability import Stability
from fundopt.reports.files.export import json_ready, write_files
from fundopt.reports.labels import label

GROUPS = ("core", "contested", "out")
TEXT_COLUMNS = (ID, NAME, REGION, CATEGORY)


def stability_frame(table: Table, run: Stability) -> pd.DataFrame:
    """One row per input row, input order: id, name, region, category, funded_share,
    mean_amount, group, in_nominal_plan, nominal_amount (canonical column names)."""
    frame = table.frame
    out = pd.DataFrame({c: frame[c].astype(str).to_numpy() for c in TEXT_COLUMNS
                        if c in frame.columns})
    out["funded_share"] = run.funded_share
    out["mean_amount"] = run.mean_amount
    out["group"] = run.groups()
    out["in_nominal_plan"] = np.asarray(run.nominal.funded, dtype=bool)
    out["nominal_amount"] = np.asarray(run.nominal.amounts, dtype=float)
    return out


def group_counts(run: Stability) -> dict[str, int]:
    groups = run.groups()
    return {g: int((groups == g).sum()) for g in GROUPS}


def stability_dict(table: Table, policy: Policy, run: Stability) -> dict[str, Any]:
    """The JSON document of SPEC §8: every input row, in input order."""
    rows = [
        {"id": i, "funded_share": s, "mean_amount": a, "group": g, "in_nominal_plan": f,
         "nominal_amount": m}
        for i, s, a, g, f, m in zip(
            table.frame[ID].astype(str).tolist(), run.funded_share.tolist(),
            run.mean_amount.tolist(), run.groups().tolist(),
            np.asarray(run.nominal.funded, dtype=bool).tolist(),
            np.asarray(run.nominal.amounts, dtype=float).tolist(), strict=True)
    ]
    uncertainty = policy.uncertainty
    return json_ready({
        "draws": run.draws, "seed": run.seed, "objective": run.percentiles(),
        "solved": run.solved, "unit": policy.unit,
        "nominal_objective": run.nominal.objective,
        "groups": group_counts(run),
        "scenarios": "reviewers" if uncertainty and uncertainty.reviewers else "spread",
        "engine": {"kind": run.engine, "workers": run.workers},
        "rows": rows,
        "manifest": {"fundopt": fundopt.__version__, "input": str(table.path),
                     "input_sha256": table.sha256, "policy": policy.source,
                     "policy_sha256": policy.sha256, "solver": run.nominal.solver,
                     "seconds": run.seconds},
    })


def display_frame(table: Table, policy: Policy, run: Stability, lang: str) -> pd.DataFrame:
    """The frame with translated groups and yes/no, and headers in ``lang`` (CSV, sheet)."""
    frame = stability_frame(table, run)
    frame["group"] = [label(f"group.{g}", lang) for g in frame["group"]]
    frame["in_nominal_plan"] = [label("yes" if f else "no", lang)
                                for f in frame["in_nominal_plan"]]
    unit = f" ({policy.unit})"
    heads = {c: label(c, lang) for c in frame.columns}
    heads["mean_amount"] += unit
    heads["nominal_amount"] += unit
    return frame.rename(columns=heads)


def write_stability(paths: Sequence[Path], table: Table, policy: Policy, run: Stability,
                    lang: str) -> None:
    """Write the ``-o`` files (``.json``, ``.csv``, ``.xlsx``): all or none."""
    def workbook(temp: Path) -> None:
        from fundopt.reports.workbook.stability import write_stability_xlsx

        write_stability_xlsx(temp, table, policy, run, lang)

    write_files(paths, lambda: stability_dict(table, policy, run),
                lambda: display_frame(table, policy, run, lang), workbook)
