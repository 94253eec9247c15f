"""``coded_error``: a thin alias of :class:`~fundopt.errors.InputError` given a code.

``coded_error("plan.unknown_id", file=…, row=…, id="X")`` is
``InputError(code="plan.unknown_id", values={"id": "X"}, file=…, row=…)``; fundopt's own
code raises the latter. The alias stays for code written against it.
"""

from __future__ import annotations

from typing import Any

from fundopt.errors import InputError


def coded_error(code: str, /, *, file: str | None = None, row: int | None = None,
                column: str | None = None, value: Any = None, **values: Any) -> InputError:
    """``InputError(code=code, values=values, file=file, row=row, column=column, value=value)``."""
    return InputError(code=code, values=values, file=file, row=row, column=column,
                      value=value)
