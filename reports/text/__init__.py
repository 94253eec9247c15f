"""One catalog per language: message codes become words here and nowhere else.

``en.MESSAGES`` and ``zh.MESSAGES`` map a code to a ``str.format`` template over the
message's values. A code missing from a catalog is a bug (the tests check that both
catalogs hold the same codes with the same placeholders).
"""

from __future__ import annotations

from typing import Any

from fundopt.messages import Message, Said
from fundopt.reports.text import en, zh

CATALOGS: dict[str, dict[str, str]] = {"en": en.MESSAGES, "zh": zh.MESSAGES}


def say(code: str, lang: str = "en", /, **values: Any) -> str:
    """The words for message ``code`` in ``lang``, its template filled with ``values``
    (a value that is itself a :class:`~fundopt.messages.Message` or
    :class:`~fundopt.messages.Said` is said in ``lang``)."""
    said = {k: v.text(lang) if isinstance(v, Message | Said) else v for k, v in values.items()}
    return CATALOGS[lang][code].format(**said)
