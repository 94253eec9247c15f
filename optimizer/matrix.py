"""The model as arrays, and the few operations every analysis needs on them.

One home for the matrix (as linopy's ``matrices.py``): the model type, the row collector
the builder uses, appending rows or columns, activity ranges and COO views. Every solver
backend and every analysis (diagnosis, alternatives, ranges) reads and extends models
through this module only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from fundopt.models.domain import Sense

INF = np.inf


class RowKind(StrEnum):
    """What a model row stands for. Policy rows can be relaxed by the diagnosis."""

    POLICY = "policy"            # a constraint of the policy (budget and funded count too)
    LINK = "link"                # l·y ≤ x ≤ u·y, cuts and other rows added by analyses


@dataclass(frozen=True)
class RowTag:
    """Where a model row comes from.

    ``key`` is the constraint id (``c3``, ``budget``, ``funded``); ``per_unit`` is
    d(row bound)/d(constraint bound), which turns a row dual into a shadow price per unit
    of the bound (``budget`` for a share, 1 otherwise). For ``avg`` rows the bound sits
    in the coefficients and ``side`` says which one (``min``/``max``). ``offset`` is what
    the fund's book adds to the row's activity (scope ``fund``): bound·per_unit − offset
    is the row bound.
    """

    kind: RowKind
    key: str
    per_unit: float = 1.0
    side: str | None = None
    offset: float = 0.0


@dataclass(frozen=True)
class LinearModel:
    """min/max cost·v subject to row_lower ≤ A·v ≤ row_upper, col_lower ≤ v ≤ col_upper.

    ``A`` is in CSR form (``start``, ``index``, ``value``). Columns ``0..n-1`` are the
    commitments x (in units of ``step`` when it is set: x = step·k, k integer); column
    ``n + j`` is the binary of sub-fund ``binary_rows[j]``; analyses may append more.
    """

    sense: Sense
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    tags: tuple[RowTag, ...]
    n: int
    binary_rows: np.ndarray

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    @property
    def num_cols(self) -> int:
        return len(self.cost)

    def row_start_end(self, r: int) -> tuple[int, int]:
        return int(self.start[r]), int(self.start[r + 1])

    def with_bounds(self, col_lower: np.ndarray, col_upper: np.ndarray) -> LinearModel:
        return replace(self, col_lower=col_lower, col_upper=col_upper)

    def with_rows(self, row_lower: np.ndarray, row_upper: np.ndarray) -> LinearModel:
        return replace(self, row_lower=row_lower, row_upper=row_upper)

    def binary_of(self, i: int) -> int | None:
        """The binary column of sub-fund row ``i``, if it has one."""
        j = np.flatnonzero(self.binary_rows == i)
        return int(self.n + j[0]) if len(j) else None


# One row to append: (columns, coefficients, lower, upper).
NewRow = tuple[np.ndarray, np.ndarray, float, float]


class Rows:
    """Collects rows as (columns, coefficients, lower, upper, tag) and emits CSR arrays."""

    def __init__(self) -> None:
        self.indices: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.tags: list[RowTag] = []

    def add(self, cols: np.ndarray, coefs: np.ndarray, lower: float, upper: float,
            tag: RowTag) -> None:
        self.add_block(cols, coefs, np.array([len(cols)]), np.array([lower]),
                       np.array([upper]), [tag])

    def add_block(self, cols: np.ndarray, coefs: np.ndarray, lengths: np.ndarray,
                  lower: np.ndarray, upper: np.ndarray, tags: list[RowTag]) -> None:
        """Add several rows at once; ``lengths`` says how many entries each row has."""
        self.indices.append(np.asarray(cols).astype(np.int32))
        self.values.append(np.asarray(coefs).astype(float))
        self.lengths.append(np.asarray(lengths))
        self.lower.append(np.asarray(lower).astype(float))
        self.upper.append(np.asarray(upper).astype(float))
        self.tags.extend(tags)

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           tuple[RowTag, ...]]:
        """(start, index, value, row_lower, row_upper, tags)."""
        if not self.tags:
            empty = np.zeros(0)
            return np.zeros(1, np.int32), empty.astype(np.int32), empty, empty, empty, ()
        lengths = np.concatenate(self.lengths)
        start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        return (start, np.concatenate(self.indices), np.concatenate(self.values),
                np.concatenate(self.lower), np.concatenate(self.upper), tuple(self.tags))


def append_rows(model: LinearModel, rows: list[NewRow], tag: RowTag) -> LinearModel:
    """``model`` with ``rows`` added at the end, each tagged ``tag``."""
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
        tags=model.tags + (tag,) * len(rows),
    )


def append_cols(model: LinearModel, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                integer: np.ndarray) -> LinearModel:
    """``model`` with new columns (no matrix entries yet) after the existing ones."""
    return replace(model, cost=np.concatenate([model.cost, cost]),
                   col_lower=np.concatenate([model.col_lower, lower]),
                   col_upper=np.concatenate([model.col_upper, upper]),
                   integer=np.concatenate([model.integer, integer.astype(bool)]))


def coo(model: LinearModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value) of every matrix entry."""
    rows = np.repeat(np.arange(model.num_rows), np.diff(model.start))
    return rows, model.index.astype(int), model.value


def with_entries(model: LinearModel, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                 row_lower: np.ndarray, row_upper: np.ndarray,
                 tags: tuple[RowTag, ...]) -> LinearModel:
    """``model`` with its matrix and rows replaced by the COO entries given."""
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=len(row_lower))
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return replace(model, start=start, index=cols[order].astype(np.int32), value=vals[order],
                   row_lower=row_lower, row_upper=row_upper, tags=tags)


def activity_range(model: LinearModel) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value each row can take within the column bounds."""
    row_of = coo(model)[0]
    at_lower = model.value * model.col_lower[model.index]
    at_upper = model.value * model.col_upper[model.index]
    low = np.bincount(row_of, np.minimum(at_lower, at_upper), minlength=model.num_rows)
    high = np.bincount(row_of, np.maximum(at_lower, at_upper), minlength=model.num_rows)
    return low, high


def policy_rows(model: LinearModel) -> int:
    """How many leading rows are policy rows (the builder puts them before the links)."""
    return next((r for r, tag in enumerate(model.tags) if tag.kind is not RowKind.POLICY),
                model.num_rows)
