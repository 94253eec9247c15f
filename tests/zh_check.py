"""What counts as English message text in a Chinese output (issue 17: one catalog per
language), for the hook in ``conftest.py`` that checks every ``--lang zh`` run of the suite.

English message text is a run of two or more lowercase ASCII words joined by single
spaces ("is not", "must be a number"), found after removing what is not message text:

- quoted spans ('…', "…", “…”, `…`): data values, ids, file and sheet names, TOML shown
  as the planner writes it, commands;
- tokens with a dot, a slash, a backslash, an equals sign, brackets or an underscore in
  them: paths (out/plan.xlsx), key paths (region.河北.min_share), codes
  (input.table.ragged), expressions (sum(fund_size)), keys (min_ticket);
- command-line options with their argument (``--robust worst``, ``--accept relaxed``);
- commands the planner is told to run (``fundopt book void``, ``pip install …``,
  ``apt-get install …``, ``dask worker …``): from the program name to the next non-ASCII
  character;
- data values of the run's inputs: every text of the .toml and .csv files in the folder of
  each file the command line names (a constraint called ``risk cap``, a scenario's
  description: the planner's own words, never translated);
- ``ALLOWED`` below: a short list of words that are not messages, each with its reason;

A single English word is allowed (policy keys such as ``budget``, status values such as
``optimal``, the measure names of the policy language): those are the planner's own
vocabulary, written in the policy file in English.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Each entry: a pattern of text that is allowed in a Chinese output, and why.
ALLOWED: tuple[tuple[str, str], ...] = (
    # the operating system's own words for a failed file operation (strerror), shown as
    # the reason inside a Chinese message ("无法读取表格文件（Permission denied）")
    (r"(?i)(permission denied|no such file or directory|is a directory|not a directory|"
     r"no space left on device|read-only file system|file name too long|"
     r"too many levels of symbolic links|disk quota exceeded)", "strerror"),
    # the TOML parser's own description of a syntax error (tomllib), inside 不是有效的 TOML
    (r"(?:Invalid|Expected|Unclosed|Illegal|Found|Cannot)[^\n（）]*", "tomllib detail"),
    # Python's name of an exception class in a connection error (no Dask scheduler)
    (r"\w+Error: [^\n）]*", "exception text of a library"),
    # the policy language's measures and bounds, written as in the policy file
    (r"\bmin (?:和/或|或) max\b|\bmin and/or max\b", "policy keys"),
)

_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”\n]*”|`[^`\n]*`|‘[^’\n]*’")
_OPTION = re.compile(r"--[a-z][\w-]*(?:[ =](?!-)[^\s，。；：、（）]+)?")
_COMMAND = re.compile(r"\b(?:fundopt|pip|dask|python|apt-get|dnf|brew)\b[ -~]*")
_TOKEN = re.compile(r"\S*[./\\=_\[\](){}<>:@#]\S*")
_ENGLISH = re.compile(r"(?<![\w-])[a-z]+(?: [a-z]+)+(?![\w-])")


def data_values(argv: Iterable[str]) -> set[str]:
    """The texts of the .toml and .csv files beside every file named in ``argv``, and the
    words of ``argv`` that are not options or files."""
    folders = {Path(a).parent for a in argv if Path(a).is_file()}
    found: set[str] = set()
    for folder in folders:
        for path in folder.glob("*.toml"):
            try:
                found.update(_texts(tomllib.loads(path.read_text(encoding="utf-8"))))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
        for path in folder.glob("*.csv"):
            try:
                with path.open(encoding="utf-8-sig", newline="") as rows:
                    found.update(cell for row in csv.reader(rows) for cell in row)
            except (OSError, UnicodeDecodeError, csv.Error):
                continue
    # the planner's own words on the command line (a round name, a note, a stray argument)
    words = {a for a in argv if not a.startswith("-") and not Path(a).suffix}
    return {text.strip() for text in found if " " in text.strip()} | words


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def english_in(text: str, data: Iterable[str] = ()) -> list[str]:
    """The English message text in ``text`` (empty when there is none), once the ``data``
    values (the planner's own texts) are taken out."""
    for value in sorted(data, key=len, reverse=True):
        # a single word only where it stands alone ("solve" is not taken out of "resolve")
        text = text.replace(value, " ") if " " in value else \
            re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", " ", text)
    for pattern, _why in ALLOWED:
        text = re.sub(pattern, " ", text)
    text = _QUOTED.sub(" ", text)
    text = _COMMAND.sub(" ", text)
    text = _OPTION.sub(" ", text)
    text = _TOKEN.sub(" ", text)
    return _ENGLISH.findall(text)
