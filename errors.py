"""The one error hierarchy of fundopt. Only ``cli.py`` turns these into exit codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from fundopt.messages import Message


class FundoptError(Exception):
    """Base of every error fundopt raises on purpose."""

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"en"`` or ``"zh"``); English unless overridden."""
        return str(self)


@dataclass
class InputError(FundoptError):
    """A problem in a file or option the planner gave (exit code 2).

    An error is a message code and its values; its words come from the catalogs of
    ``reports/text`` in the language asked for: ``code`` is the message, and where the
    catalogs have them, ``code + ".expected"`` and ``code + ".hint"`` (filled with the same
    values) say what would have been accepted and what to do.

    Parameters
    ----------
    code, values
        The catalog code of the message and the values its templates take (data: never
        translated). A value that is a :class:`~fundopt.messages.Message` is said in the
        same language.
    file
        The file, if the problem is in one.
    row
        The row as the planner sees it in the spreadsheet (header = row 1).
    column
        The column or policy key.
    value
        The offending value.
    expected
        What would have been accepted, when the catalog's ``code.expected`` is not the
        words wanted: a :class:`~fundopt.messages.Message`, or text that is the same in
        every language (an example of TOML syntax).
    hint
        What to do about it, likewise (default ``code.hint``).
    context
        What the error is about, outermost first (``scenario '河北55'``), each a message
        shown before the error's own: ``scenario '河北55': unknown key …``.
    message
        The message in English, made from ``code`` (read it, do not give it).
    """

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    expected: str | Message | None = None
    hint: str | Message | None = None
    context: tuple[Message, ...] = ()
    message: str = field(init=False, default="")

    def __post_init__(self) -> None:
        from fundopt.reports.text import CATALOGS

        self.message = self.text("en")
        if self.expected is None and f"{self.code}.expected" in CATALOGS["en"]:
            self.expected = Message(f"{self.code}.expected", self.values)
        if self.hint is None and f"{self.code}.hint" in CATALOGS["en"]:
            self.hint = Message(f"{self.code}.hint", self.values)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render("en")

    def __reduce__(self) -> tuple[Any, ...]:
        # an error raised in a worker process keeps its code and values (not only .args)
        return _rebuilt, (type(self), {f.name: getattr(self, f.name) for f in fields(self)
                                       if f.init})

    def text(self, lang: str = "en") -> str:
        """What is wrong, without the place, value, expectation and hint."""
        from fundopt.reports.text import say

        return say(self.code, lang, **self.values)

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
        message = self.text(lang)
        if self.context:
            message = ": ".join([*(c.text(lang) for c in self.context), message])
        expected = _words(self.expected, lang)
        hint = _words(self.hint, lang)
        head = ", ".join(where)
        text = f"{head}: {message}" if head else message
        if self.value is not None:
            text += f"（实际为 {self.value!r}）" if zh else f" (got {self.value!r})"
        if expected:
            text += f"；应为 {expected}" if zh else f"; expected {expected}"
        if hint:
            text += f"\n\n{hint}"
        return text


def _rebuilt(kind: type[InputError], state: dict[str, Any]) -> InputError:
    return kind(**state)


def _words(given: str | Message | None, lang: str) -> str | None:
    """An error's ``expected`` or ``hint`` in ``lang``."""
    return given.text(lang) if isinstance(given, Message) else given


class CodedError(FundoptError):
    """An error that is a catalog code and its values, said in the language asked for.

    Parameters
    ----------
    code, values
        The catalog code of what happened (and what to do) and the values it takes.
    """

    def __init__(self, code: str, values: Mapping[str, Any] | None = None) -> None:
        self.code, self.values = code, dict(values or {})
        super().__init__(self.render("en"))

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.code, self.values)

    def render(self, lang: str = "en") -> str:
        from fundopt.reports.text import say

        return say(self.code, lang, **self.values)


class SolverError(CodedError):
    """The solver failed or is missing (exit code 1)."""


class BatchError(CodedError):
    """A batch of solves could not finish: its workers kept dying (exit code 1)."""
