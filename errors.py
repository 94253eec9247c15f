"""The one error hierarchy of fundopt. Only ``cli.py`` turns these into exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FundoptError(Exception):
    """Base of every error fundopt raises on purpose."""


@dataclass
class InputError(FundoptError):
    """A problem in a file or option the planner gave (exit code 2).

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    file
        The file, if the problem is in one.
    row
        The row as the planner sees it in the spreadsheet (header = row 1).
    column
        The column or policy key.
    value
        The offending value.
    expected
        What would have been accepted.
    hint
        What to do about it.
    message_zh, expected_zh, hint_zh
        The same in Chinese, shown with ``--lang zh`` (English is used where missing).
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    expected: str | None = None
    hint: str | None = None
    message_zh: str | None = None
    expected_zh: str | None = None
    hint_zh: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render("en")

    def render(self, lang: str = "en") -> str:
        """The message in English (``"en"``) or Chinese (``"zh"``), naming where it is."""
        zh = lang == "zh"
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"第 {self.row} 行" if zh else f"row {self.row}")
        if self.column:
            if self.row is not None:
                where.append(f"列 “{self.column}”" if zh else f"column {self.column!r}")
            else:
                where.append(str(self.column))
        message = (self.message_zh if zh else None) or self.message
        expected = (self.expected_zh if zh else None) or self.expected
        hint = (self.hint_zh if zh else None) or self.hint
        head = ", ".join(where)
        text = f"{head}: {message}" if head else message
        if self.value is not None:
            text += f"（实际为 {self.value!r}）" if zh else f" (got {self.value!r})"
        if expected:
            text += f"；应为 {expected}" if zh else f"; expected {expected}"
        if hint:
            text += f"\n\n{hint}"
        return text


class SolverError(FundoptError):
    """The solver failed or is missing (exit code 1)."""
