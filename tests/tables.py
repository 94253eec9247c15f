"""Small tables, policies and constraints built in code for the optimizer tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fundopt.models.domain import Constraint, Measure, Policy, Rule, Table

NUMERIC = {"max_ticket", "min_ticket", "fund_size", "score", "risk", "call"}


def make_table(**columns: Any) -> Table:
    """A Table from columns; id/name/region/category/status get defaults."""
    n = len(next(iter(columns.values())))
    data: dict[str, Any] = {
        "id": [f"r{i + 1}" for i in range(n)],
        "name": [f"fund {i + 1}" for i in range(n)],
        "region": ["T"] * n,
        "district": [""] * n,
        "category": ["k"] * n,
        "min_ticket": [np.nan] * n,
        "fund_size": [np.nan] * n,
        "status": [""] * n,
    }
    data.update(columns)
    frame = pd.DataFrame(data)
    for column in NUMERIC & set(frame.columns):
        frame[column] = frame[column].astype(float)
    return Table(
        path=Path("test.csv"), frame=frame, source_rows=tuple(range(2, n + 2)),
        headers={c: c for c in frame.columns},
        numeric_columns=frozenset(NUMERIC & set(frame.columns)), sha256="0" * 64,
    )


def rule_constraint(cid: str, measure: Measure, where: dict[str, list[str]] | None = None,
                    column: str | None = None, lo: float | None = None,
                    hi: float | None = None, label: str | None = None) -> Constraint:
    """A general policy constraint, as ``models.rules.policy.expand`` would return it."""
    pairs = tuple((k, tuple(v)) for k, v in (where or {}).items())
    rule = Rule(label, pairs, measure, column, lo, hi, f"constraints[{cid}]")
    return Constraint(cid, label or cid, rule, pairs, measure, column, lo, hi)


def loosened(c: Constraint, side: str, step: float) -> Constraint:
    """``c`` with its ``side`` bound loosened by ``step``."""
    if side == "max":
        assert c.max is not None
        return replace(c, max=c.max + step)
    assert c.min is not None
    return replace(c, min=c.min - step)


def policy(**kwargs: Any) -> Policy:
    kwargs.setdefault("budget", 10.0)
    return Policy(**kwargs)
