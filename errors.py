"""The one error hierarchy of fundopt. Only ``cli.py`` turns these into exit codes."""

from __future__ import annotations

import re
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
        words wanted: a :class:`~fundopt.messages.Message`.
    hint
        What to do about it, likewise (default ``code.hint``).
    context
        What the error is about, outermost first (``scenario '河北55'``), each a message
        shown before the error's own: ``scenario '河北55': unknown key …``.
    message
        The message in English, made from ``code`` (read it, do not give it).
    """

    message: str = ""   # positional words: TEMP until merge (expansion.py, cli.py, app/)
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    expected: str | Message | None = None
    hint: str | Message | None = None
    message_zh: str | None = None    # TEMP until merge
    expected_zh: str | None = None   # TEMP until merge
    hint_zh: str | None = None       # TEMP until merge
    code: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[Message, ...] = ()

    def __post_init__(self) -> None:
        if self.code is not None:
            from fundopt.reports.text import CATALOGS

            self.message = self._coded("en")
            if self.expected is None and f"{self.code}.expected" in CATALOGS["en"]:
                self.expected = Message(f"{self.code}.expected", self.values)
            if self.hint is None and f"{self.code}.hint" in CATALOGS["en"]:
                self.hint = Message(f"{self.code}.hint", self.values)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render("en")

    def __reduce__(self) -> tuple[Any, ...]:
        # an error raised in a worker process keeps its code and values (not only .args)
        return _rebuilt, (type(self), {f.name: getattr(self, f.name) for f in fields(self)})

    def _coded(self, lang: str) -> str:
        from fundopt.reports.text import say

        assert self.code is not None
        return say(self.code, lang, **self.values)

    def text(self, lang: str = "en") -> str:
        """What is wrong, without the place, value, expectation and hint."""
        if self.code is not None:
            return self._coded(lang)
        if lang == "zh":   # TEMP until merge: an error given in words
            return self.message_zh or zh_fallback(self.message)
        return self.message

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
        expected = _words(self.expected, self.expected_zh, lang)
        hint = _words(self.hint, self.hint_zh, lang)
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


def _words(given: str | Message | None, given_zh: str | None, lang: str) -> str | None:
    """An error's ``expected`` or ``hint`` in ``lang``."""
    if isinstance(given, Message):
        return given.text(lang)
    if lang == "zh" and given:   # TEMP until merge: words given by a caller
        return given_zh or zh_fallback(given)
    return given


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


# TEMP until merge (delete with message_zh/expected_zh/hint_zh once models/expansion.py,
# cli.py and app/ raise codes: nothing in models/, optimizer/, reports/ uses it).
# Chinese for the phrases error messages are built from, for messages raised in words
# without their own Chinese text (the older form, kept until every layer raises codes):
# what is expected ("a number between 0 and 1"), and the common shapes of a message ("x
# must be text", "unknown column 'y'"). Names, keys and values inside stay as written; a
# sentence matching none is shown in English.
_ZH_PHRASES: tuple[tuple[str, str], ...] = (
    (r"^a (whole )?number between (\S+) and (\S+)$", "{2} 到 {3} 之间的{1}数"),
    (r"^a (whole )?number (>=?) (\S+), e\.g\. (.*)$", "{2} {3} 的{1}数，例如 {4}"),
    (r"^a (whole )?number (>=?) (\S+)$", "{2} {3} 的{1}数"),
    (r"^a (whole )?number$", "{1}数"),
    (r"^a finite number$", "有限的数"),
    (r"^a value (<=|>=|<|>) (\S+)$", "{1} {2} 的值"),
    (r"^a numeric column: (.*)$", "数值列之一：{1}"),
    (r"^a value of column (\S+): (.*)$", "列 {1} 的取值之一：{2}"),
    (r"^one of (.*)$", "以下之一：{1}"),
    (r"^either (.*) or (.*)$", "{1} 或 {2}"),
    (r"^e\.g\. (.*)$", "例如 {1}"),
    (r"^text in quotes, e\.g\. (.*)$", "带引号的文本，例如 {1}"),
    (r"^min and/or max$", "min 和/或 max"),
    (r"^maximize or minimize$", "maximize 或 minimize"),
    (r"^each key once$", "每个键只出现一次"),
    (r"^(.+) must be a table$", "{1} 应为表"),
    (r"^(.+) must be (?:non-empty )?text$", "{1} 应为（非空）文本"),
    (r"^(.+) must be a (?:finite |whole )?number$", "{1} 应为数字"),
    (r"^(.+) must be a list of (.+)$", "{1} 应为 {2} 的列表"),
    (r"^(.+) is missing$", "缺少 {1}"),
    (r"^(.+) is out of range$", "{1} 超出允许范围"),
    (r"^unknown (key|column|measure|status) (.+)$", "未知的{1} {2}"),
    (r"^(.*)column ('[^']*') is not in the table (.*)$", "{1}列 {2} 不在表格 {3} 中"),
    (r"^(.+) is greater than (.+)$", "{1} 大于 {2}"),
    (r"^(.+) given twice$", "{1} 重复给出"),
    (r"^(.+) appears twice in (.+)$", "{1} 在 {2} 中出现了两次"),
    (r"^(.*)file not found$", "找不到{1}文件"),
    (r"^no row has this value in column (.+)$", "列 {1} 中没有任何一行为此值"),
    (r"^the edit matches no row$", "该修改未匹配任何行"),
    (r"^the edit changes nothing$", "该修改没有改变任何内容"),
    (r"^ids not in the table$", "表格中没有这些编号"),
    (r"^malformed (key path|key|where)$", "格式错误的 {1}"),
    (r"^Did you mean (.+)\?$", "是否应为 {1}？"),
)
_ZH_WORDS = {"key": "键", "column": "列", "measure": "指标", "status": "状态",
             "whole ": "整", "policy ": "政策", "base policy ": "基准政策"}


def zh_fallback(text: str) -> str:
    """``text`` in Chinese where its shape is known (see ``_ZH_PHRASES``), else as is."""
    for pattern, template in _ZH_PHRASES:   # re caches the compiled patterns
        match = re.match(pattern, text)
        if match:
            parts = ["", *(_ZH_WORDS.get(g, g) if g is not None else "" for g in match.groups())]
            if " in all)" in text:
                parts = [re.sub(r"\((\d+) in all\)", r"（共 \1 个）", p) for p in parts]
            return template.format(*parts)
    return text


class BatchError(CodedError):
    """A batch of solves could not finish: its workers kept dying (exit code 1)."""
