"""One catalog per language: message codes become words here and nowhere else.

``en.MESSAGES`` and ``zh.MESSAGES`` map a code to a ``str.format`` template over the
message's values. A code missing from a catalog is a bug (the tests check that both
catalogs hold the same codes with the same placeholders).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from fundopt.messages import Message, Said

LANGUAGES = ("en", "zh")


class _Catalogs(Mapping[str, dict[str, str]]):
    """Each language's catalog, imported when first asked for: an English run never
    loads the Chinese words (start-up time)."""

    def __getitem__(self, lang: str) -> dict[str, str]:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        messages: dict[str, str] = importlib.import_module(f"{__name__}.{lang}").MESSAGES
        return messages

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


CATALOGS: Mapping[str, dict[str, str]] = _Catalogs()


def say(code: str, lang: str = "en", /, **values: Any) -> str:
    """The words for message ``code`` in ``lang``, its template filled with ``values``
    (a value that is itself a :class:`~fundopt.messages.Message` or
    :class:`~fundopt.messages.Said` is said in ``lang``)."""
    said = {k: v.text(lang) if isinstance(v, Message | Said) else v for k, v in values.items()}
    return CATALOGS[lang][code].format(**said)
