"""Input errors whose words come from the message catalogs (``reports.text``).

``coded_error("plan.unknown_id", file=…, row=…, id="X")`` builds an :class:`InputError`
from the catalog templates ``plan.unknown_id`` (the message) and, where the catalogs have
them, ``plan.unknown_id.expected`` and ``plan.unknown_id.hint``, in English and Chinese.
"""

from __future__ import annotations

from typing import Any

from fundopt.errors import InputError


def coded_error(code: str, /, *, file: str | None = None, row: int | None = None,
                column: str | None = None, value: Any = None, **values: Any) -> InputError:
    """An input error saying message ``code`` with ``values`` (see the module docstring)."""
    from fundopt.reports.text import CATALOGS, say

    def part(suffix: str, lang: str) -> str | None:
        key = code + suffix
        return say(key, lang, **values) if key in CATALOGS[lang] else None

    return InputError(say(code, "en", **values), file=file, row=row, column=column,
                      value=value, expected=part(".expected", "en"), hint=part(".hint", "en"),
                      message_zh=say(code, "zh", **values), expected_zh=part(".expected", "zh"),
                      hint_zh=part(".hint", "zh"))
