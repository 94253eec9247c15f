"""The table in the policy's unit (SPEC §7): where the table and the policy meet.

A header may name the unit of its numbers (``最高出资（万元）``). Once the policy — and so
its ``unit`` — is known, those columns are converted among 元 / 万元 / 亿元; any other
unit must be the policy's own.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from fundopt.errors import InputError
from fundopt.models.domain import Table
from fundopt.models.limits import MAX_MAGNITUDE
from fundopt.models.reading.headers import MONEY_UNITS


def in_policy_unit(table: Table, unit: str) -> Table:
    """``table`` with every column whose header names a unit converted to ``unit``.

    Converting 万元 to 亿元 divides by 10 000 (one correctly rounded division, so
    5000万元 is exactly 0.5亿元). The header shown in outputs names the new unit.

    Parameters
    ----------
    table
        As read; ``table.units`` holds the unit written in each header.
    unit
        The policy's ``unit``.

    Returns
    -------
    Table
        With converted values, headers naming ``unit`` and no ``units`` left; the same
        table if no header names a unit.

    Raises
    ------
    InputError
        A header's unit is neither ``unit`` nor convertible to it, or a converted value
        is too large for the solver.
    """
    if not table.units:
        return table
    frame = table.frame.copy()
    headers = dict(table.headers)
    file = str(table.path) + (f"[{table.sheet}]" if table.sheet else "")
    for column, written in table.units.items():
        header = headers.get(column, column)
        if written == unit:
            continue
        if written not in MONEY_UNITS or unit not in MONEY_UNITS:
            raise InputError(code="input.units.header_unit",
                             values={"written": written, "unit": unit}, file=file, column=header,
                             value=written)
        values = frame[column].to_numpy(dtype=float)
        have, want = MONEY_UNITS[written], MONEY_UNITS[unit]
        converted = values * (have // want) if have >= want else values / (want // have)
        too_large = np.abs(converted) > MAX_MAGNITUDE
        if too_large.any():
            i = int(too_large.argmax())
            raise InputError(code="input.units.too_large",
                             values={"limit": MAX_MAGNITUDE, "unit": unit}, file=file,
                             row=table.source_rows[i], column=header, value=values[i])
        frame[column] = pd.Series(converted, index=frame.index)
        at = header.rfind(written)
        headers[column] = header[:at] + unit + header[at + len(written):]
    return replace(table, frame=frame, headers=headers, units={})


def fraction_option(text: str, option: str) -> float:
    """A fraction written as the policy writes one: ``0.01`` or ``1%`` (→ 0.01), in
    [0, 1]. Used for ``--within``.

    Raises
    ------
    InputError
        Not a number, or outside [0, 1] (``--within 5`` is refused: 5% or 0.05).
    """
    cleaned = text.strip()
    percent = cleaned.endswith("%")
    try:
        value = float(cleaned.removesuffix("%").strip()) / (100.0 if percent else 1.0)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise InputError(code="option.fraction", values={"option": option}, column=option,
                         value=text)
    return value
