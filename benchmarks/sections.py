"""Sections of docs/performance.md written by one benchmark and kept by the others.

A section is the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``. A
benchmark that owns a section replaces it in place (or appends it); ``run.py``, which
rewrites the whole file, carries every section over unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

MARKED = re.compile(r"<!-- ([\w-]+):start -->\n.*?<!-- \1:end -->\n", re.S)


def _marked(name: str, text: str) -> str:
    return f"<!-- {name}:start -->\n{text.rstrip()}\n<!-- {name}:end -->\n"


def replace_section(path: Path, name: str, text: str) -> None:
    """Put ``text`` as section ``name`` of ``path``, in place of the old one if any."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    new = _marked(name, text)
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->\n.*?<!-- {re.escape(name)}:end -->\n",
                         re.S)
    if pattern.search(old):
        updated = pattern.sub(lambda _: new, old)
    else:
        updated = old.rstrip() + ("\n\n" if old.strip() else "") + new
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated, encoding="utf-8")


def kept_sections(path: Path) -> str:
    """Every marked section of ``path``, to carry into a rewritten file."""
    if not path.is_file():
        return ""
    return "\n".join(m.group(0) for m in MARKED.finditer(path.read_text(encoding="utf-8")))
