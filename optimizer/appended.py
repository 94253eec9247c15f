"""Columns appended after the commitments, binaries and steps of the built model
(SPEC §11): one binary per value a ``groups(COL)`` constraint counts, and one shortfall
column per bound of a target (力争). Both keep the row order the rest of fundopt relies on:
policy rows first, then links.
"""

from __future__ import annotations

import numpy as np

from fundopt.models.domain import Constraint, Measure, Sense, Table
from fundopt.optimizer import fund
from fundopt.optimizer.matrix import (
    INF,
    LinearModel,
    RowKind,
    RowTag,
    append_cols,
    coo,
    policy_rows,
    with_entries,
)


def add_groups(model: LinearModel, table: Table, constraints: tuple[Constraint, ...],
                masks: dict[str, np.ndarray], y_of: np.ndarray) -> LinearModel:
    """``groups(COL)`` (SPEC §11): one binary g_v per value v of COL among the selected
    rows, with g_v ≤ Σ_{i∈v} y_i and Σ_{i∈v} y_i ≤ |v|·g_v (g_v = 1 ⇔ some row of v is
    funded), and the constraint's row Σ g_v within its bounds. With ``scope = "fund"``
    the values the book covers are constants: no binary, the bounds less their number
    (SPEC §9). The policy row is inserted
    after the other policy rows, the links after every row, so the model keeps its order:
    policy rows, then links."""
    grouped = [c for c in constraints if c.measure is Measure.GROUPS]
    if not grouped:
        return model
    rows, cols, vals = (list(a) for a in coo(model))
    kept = policy_rows(model)
    tags = list(model.tags)
    lower, upper = list(model.row_lower), list(model.row_upper)
    links: list[tuple[list[int], list[float], float, float]] = []
    first = model.num_cols
    count = 0
    policy_new: list[tuple[list[int], float, float, str]] = []
    for c in grouped:
        assert c.column is not None
        selected = np.flatnonzero(masks[c.id])
        keys = table.frame[c.column].astype(str).str.strip().to_numpy()[selected]
        g_cols = []
        covered = c.booked.values if c.booked is not None else frozenset()  # scope fund
        for value in dict.fromkeys(k for k in keys if k not in ("", "nan", *covered)):
            ys = y_of[selected[keys == value]]
            g = first + count
            count += 1
            g_cols.append(g)
            links.append(([g, *ys.tolist()], [1.0, *([-1.0] * len(ys))], -INF, 0.0))
            links.append(([g, *ys.tolist()], [-float(len(ys)), *([1.0] * len(ys))], -INF, 0.0))
        policy_new.append((g_cols, -INF if c.min is None else c.min - len(covered),
                           INF if c.max is None else c.max - len(covered), c.id))
    # renumber: the new policy rows go at ``kept``, the rows after it move down
    shift = len(policy_new)
    rows = [r + shift if r >= kept else r for r in rows]
    for k, (g_cols, *_) in enumerate(policy_new):
        rows += [kept + k] * len(g_cols)
        cols += g_cols
        vals += [1.0] * len(g_cols)
    new_tags = [RowTag(RowKind.POLICY, c.id, offset=fund.row_offset(c)) for c in grouped]
    tags = tags[:kept] + new_tags + tags[kept:]
    lower = lower[:kept] + [lo for _, lo, _, _ in policy_new] + lower[kept:]
    upper = upper[:kept] + [hi for _, _, hi, _ in policy_new] + upper[kept:]
    for link_cols, link_vals, lo, hi in links:
        rows += [len(lower)] * len(link_cols)
        cols += link_cols
        vals += link_vals
        lower.append(lo)
        upper.append(hi)
        tags.append(RowTag(RowKind.LINK, "groups"))
    model = append_cols(model, np.zeros(count), np.zeros(count), np.ones(count),
                        np.ones(count, bool))
    return with_entries(model, np.array(rows, int), np.array(cols, int), np.array(vals, float),
                        np.array(lower, float), np.array(upper, float), tuple(tags))


def add_shortfalls(model: LinearModel, constraints: tuple[Constraint, ...]) -> LinearModel:
    """Targets (SPEC §11): each bound of a ``target = true`` constraint gets a shortfall
    column s ≥ 0 in its row (row + s ≥ min, row − s ≤ max), costing ``penalty`` per unit
    of the bound (per 1.0 of a share) in the objective: less when maximizing, more when
    minimizing. Appended after every other column; a target never makes a policy
    infeasible."""
    targets = {c.id: c for c in constraints if c.rule.target}
    if not targets:
        return model
    new_rows: list[int] = []
    new_cols: list[int] = []
    new_vals: list[float] = []
    costs: list[float] = []
    worse = -1.0 if model.sense is Sense.MAXIMIZE else 1.0
    for r, tag in enumerate(model.tags):
        c = targets.get(tag.key) if tag.kind is RowKind.POLICY else None
        if c is None:
            continue
        for sign, bound in ((1.0, model.row_lower[r]), (-1.0, model.row_upper[r])):
            if np.isfinite(bound):
                new_rows.append(r)
                new_cols.append(model.num_cols + len(costs))
                new_vals.append(sign)
                penalty = c.rule.penalty or 0.0
                costs.append(worse * penalty / tag.per_unit)
    k = len(costs)
    model = append_cols(model, np.array(costs), np.zeros(k), np.full(k, INF),
                        np.zeros(k, bool))
    rows, cols, vals = coo(model)
    return with_entries(model, np.concatenate([rows, new_rows]).astype(int),
                        np.concatenate([cols, new_cols]).astype(int),
                        np.concatenate([vals, new_vals]), model.row_lower, model.row_upper,
                        model.tags)
