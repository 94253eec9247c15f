"""Read a plan back: amounts by sub-fund id (``fundopt verify``, SPEC §12).

A committee edits a plan by hand and hands it back as the ``.csv`` or the ``.xlsx`` plan
sheet fundopt wrote (any columns, as long as one is the id and one the amount), or as
``.json`` (a ``solve`` result's ``allocations``, or an object ``{"id": amount}``). Rows
of the table the plan leaves out get 0. Every amount must be a finite number ≥ 0 in the
policy's unit (a unit in the amount's header is converted) and, with ``amount_step``, a
whole number of steps.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.models.domain import ID, Policy, Table
from fundopt.models.limits import MAX_MAGNITUDE, MAX_PLAN_BYTES
from fundopt.models.reading.files import load_json, read_input
from fundopt.models.reading.headers import MONEY_UNITS, column_of, split_unit

AMOUNT_HEADERS = ("amount", "出资额")
PLAN_SHEETS = ("plan", "方案")
HEADER_ROWS = 10
# An amount is on the step when within this fraction of a step of a whole number of steps.
STEP_TOLERANCE = 1e-6

# (row number as the planner sees it, or None; id; amount cell)
Entry = tuple[int | None, str, Any]


def read_plan(path: Path, table: Table, policy: Policy) -> np.ndarray:
    """The plan's amount for every row of ``table``, in row order, in the policy's unit.

    Raises
    ------
    InputError
        Not a readable ``.csv`` / ``.xlsx`` / ``.json`` plan; no id or amount column; an
        id not in the table, or given twice; an amount that is not a finite number ≥ 0,
        or off the ``amount_step``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return amounts_by_id(_json_entries(path), table, policy, str(path))
    if suffix not in (".csv", ".xlsx"):
        raise InputError(code="plan.format", file=str(path), value=path.suffix or path.name)
    entries, scale, headers = _sheet_entries(path, policy.unit)
    # the plan sheet fundopt writes ends in a total row (合计 / total): not a sub-fund
    from fundopt.reports.text import CATALOGS

    totals = {words["total"] for words in CATALOGS.values()} - set(table.frame[ID].astype(str))
    entries = [e for e in entries if e[1] not in totals]
    return amounts_by_id(entries, table, policy, str(path), scale, text=True, headers=headers)


def amounts_by_id(entries: Sequence[Entry], table: Table, policy: Policy, file: str,
                  scale: tuple[int, int] = (1, 1), text: bool = False,
                  headers: tuple[str, str] = (ID, "amount")) -> np.ndarray:
    """Put each (row, id, amount) on its table row; rows not given get 0. ``scale`` is
    (size of the written unit, size of the policy's unit) in 元; ``text``: amounts may be
    written as text (cells of a sheet), not only as numbers (JSON); ``headers``: the id and
    amount columns as the sheet names them, for messages.

    Raises
    ------
    InputError
        An id not in the table or given twice, an amount that is not a number ≥ 0, too
        large, or off the step.
    """
    ids = table.frame[ID].astype(str).tolist()
    position = {sub_id: i for i, sub_id in enumerate(ids)}
    amounts = np.zeros(len(ids))
    seen: dict[str, int | None] = {}
    for row, sub_id, cell in entries:
        column = headers[1] if row is not None else f"{sub_id}.amount"
        if sub_id not in position:
            raise InputError(code="plan.unknown_id",
                             values={"id": sub_id, "known": _shortlist(ids)}, file=file, row=row,
                             column=headers[0], value=sub_id)
        if sub_id in seen:
            raise InputError(code="plan.duplicate_id", values={"id": sub_id}, file=file, row=row,
                             column=headers[0], value=sub_id)
        seen[sub_id] = row
        value = _number(cell) if text or not isinstance(cell, str) else None
        if value is not None:
            value = value * scale[0] / scale[1]     # 5000 万元 → exactly 0.5 亿元
        if value is None or not math.isfinite(value) or value < 0:
            raise InputError(code="plan.not_amount", values={"id": sub_id}, file=file, row=row,
                             column=column, value=cell)
        if value > MAX_MAGNITUDE:
            raise InputError(code="plan.too_large",
                             values={"id": sub_id, "limit": f"{MAX_MAGNITUDE:g}"}, file=file,
                             row=row, column=column, value=cell)
        step = policy.amount_step
        if step and value > 0 and abs(value / step - round(value / step)) > STEP_TOLERANCE:
            raise InputError(code="plan.off_step",
                             values={"id": sub_id, "step": f"{step:g}", "unit": policy.unit},
                             file=file, row=row, column=column, value=cell)
        amounts[position[sub_id]] = value
    return amounts


def _number(cell: Any) -> float | None:
    """A cell as a number: blank is 0; text may carry thousands separators."""
    if cell is None:
        return 0.0
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        return float(cell)
    if isinstance(cell, str):
        text = cell.strip().replace(",", "")
        if not text:
            return 0.0
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _json_entries(path: Path) -> list[Entry]:
    data = load_json(path, "plan", MAX_PLAN_BYTES)
    file = str(path)
    if isinstance(data, dict) and "allocations" in data:
        data = data["allocations"]
    if isinstance(data, dict):
        return [(None, str(k), v) for k, v in data.items()]
    if not isinstance(data, list):
        raise InputError(code="plan.json_shape", file=file)
    entries: list[Entry] = []
    for k, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get(ID), str | int) \
                or isinstance(item.get(ID), bool):
            raise InputError(code="plan.json_item", file=file, column=f"allocations[{k}]",
                             value=item if not isinstance(item, dict | list) else None)
        entries.append((None, str(item[ID]).strip(), item.get("amount")))
    return entries


def _sheet_entries(path: Path, unit: str
                   ) -> tuple[list[Entry], tuple[int, int], tuple[str, str]]:
    """The (row, id, amount) of a plan sheet, the factor to the policy's unit and the id
    and amount headers as written."""
    file = str(path)
    data = read_input(path, "plan", MAX_PLAN_BYTES)
    if path.suffix.lower() == ".csv":
        from fundopt.models.reading.table import decode_csv

        try:
            rows = list(csv.reader(io.StringIO(decode_csv(data, file), newline="")))
        except csv.Error as exc:
            raise InputError(code="plan.not_readable", values={"reason": str(exc)},
                             file=file) from None
    else:
        from fundopt.models.reading.workbook import read_sheet_rows

        rows = read_sheet_rows(data, file, PLAN_SHEETS)
    for number, header in enumerate(rows[:HEADER_ROWS], start=1):
        names = [column_of(cell)[0] for cell in header]
        amount = [k for k, cell in enumerate(header)
                  if split_unit(cell.strip())[0].casefold() in AMOUNT_HEADERS]
        if ID in names and amount:
            scale = _unit_scale(split_unit(header[amount[0]].strip())[1], unit, file,
                                header[amount[0]])
            i, a = names.index(ID), amount[0]
            entries: list[Entry] = [(number + k, (cells[i] if i < len(cells) else "").strip(),
                        cells[a] if a < len(cells) else "")
                       for k, cells in enumerate(rows[number:], start=1)
                       if any(c.strip() for c in cells)]
            return entries, scale, (header[i].strip(), header[a].strip())
    raise InputError(code="plan.no_columns", file=file)


def _unit_scale(written: str | None, unit: str, file: str, header: str) -> tuple[int, int]:
    if written is None or written == unit:
        return 1, 1
    if written in MONEY_UNITS and unit in MONEY_UNITS:
        return MONEY_UNITS[written], MONEY_UNITS[unit]
    raise InputError(code="plan.unit", values={"unit": unit}, file=file, column=header,
                     value=written)


def _shortlist(ids: Sequence[str], shown: int = 8) -> str:
    head = ", ".join(ids[:shown])
    return head + (f", … ({len(ids)} in all)" if len(ids) > shown else "")
