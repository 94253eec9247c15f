"""Messages as data: a code and its values. Words come only from the catalogs.

Every layer that has something to say to a person (an error, a warning, a diagnosis
reason, a relaxation, a constraint's caption) builds a :class:`Message`; the writers turn
it into words with :func:`fundopt.reports.text.say`, in the language asked for. Nothing
parses an English sentence to make another language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """One thing to tell a person: a catalog ``code`` and the ``values`` its template uses.

    Values are data (numbers, ids, the planner's own names); they are never translated.
    """

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"en"`` or ``"zh"``)."""
        from fundopt.reports.text import say

        return say(self.code, lang, **self.values)

    def as_json(self) -> dict[str, Any]:
        """The machine-readable form: ``{"code": …, **values}``."""
        return {"code": self.code, **self.values}



@dataclass(frozen=True)
class Said:
    """Words already said in each language, used as a message's value: a list of warnings
    each made from its own message, shown inside another (``--strict``)."""

    words: Mapping[str, str]

    def text(self, lang: str = "en") -> str:
        """The words in ``lang``."""
        return self.words[lang]
