"""Reading the planner's input files safely: regular files only, bounded in size, and TOML
bounded in nesting, so a device, a FIFO, a symbolic-link loop or a hostile file stops with
an input error instead of blocking, eating memory or crashing the parser."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.limits import MAX_JSON_DEPTH, MAX_TOML_BYTES, MAX_TOML_DEPTH


def _kind(what: str) -> Message:
    """How messages name an input file: ``"table"``, ``"policy"``, ``"scenario"``, ``"plan"``."""
    return Message(f"input.file_kind.{what}")


def read_input(path: Path, what: str, limit: int) -> bytes:
    """The bytes of an input file, after checking it is a regular file of at most ``limit``.

    Parameters
    ----------
    path
        The file as the planner named it.
    what
        ``"table"``, ``"policy"`` or ``"scenario"``: how messages name the file.
    limit
        Largest size accepted, in bytes.

    Raises
    ------
    InputError
        Not found, a symbolic-link loop, a folder, a device or FIFO (which would block or
        never end), larger than ``limit``, or unreadable.
    """
    file = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(code="input.files.not_found", values={"what": _kind(what)},
                         file=file) from None
    except OSError as exc:
        raise _os_error(exc, what, file) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "folder" if stat.S_ISDIR(info.st_mode) else "device"
        raise InputError(code="input.files.not_regular_file",
                         values={"what": _kind(what), "kind": Message(f"input.path_kind.{kind}")},
                         file=file)
    if info.st_size > limit:
        raise _too_large(what, file, info.st_size, limit)
    try:
        with open(path, "rb") as handle:
            data = _read_bounded(handle, info.st_size, limit)
    except OSError as exc:
        raise _os_error(exc, what, file) from None
    if len(data) > limit:
        raise _too_large(what, file, len(data), limit)
    return data


def _read_bounded(handle: Any, size: int, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes, reading what the file holds (``size`` at its stat)
    rather than asking for ``limit`` bytes at once: a read of 2 GiB reserves 2 GiB, which
    a memory-capped run does not have. The file may grow after the stat: reading goes on
    in 1 MiB steps until its end or past the limit."""
    parts: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = handle.read(min(max(size + 1 - total, 1 << 20), limit + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def load_toml(path: Path, what: str) -> tuple[dict[str, Any], bytes]:
    """A TOML file (UTF-8, BOM allowed) as a dict, and its bytes (for the hash).

    Raises
    ------
    InputError
        As :func:`read_input`; not UTF-8; not TOML (the parser's message says where);
        nested deeper than ``MAX_TOML_DEPTH``.
    """
    raw = read_input(path, what, MAX_TOML_BYTES)
    file = str(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(code="input.files.not_utf8", values={"what": _kind(what)},
                         file=file) from None
    _check_nesting(text, file)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(exc, file) from None
    except RecursionError:   # the bracket count below is a bound, not a parser
        raise _too_deep(file) from None
    if _depth(data) > MAX_TOML_DEPTH:
        raise _too_deep(file)
    return data, raw


# tomllib's message ends with where it stopped: "(at line 3, column 5)" or
# "(at end of document)"
_TOML_WHERE = re.compile(r"^(?P<detail>.*?)\s*\((?:at line (?P<line>\d+), column "
                         r"(?P<column>\d+)|at end of document)\)$", re.DOTALL)


def toml_error(exc: tomllib.TOMLDecodeError, file: str) -> InputError:
    """The parser's error as a message in the run's language naming the line and column;
    the parser's own English detail ("Expected '=' after a key …") is kept as data."""
    match = _TOML_WHERE.match(str(exc))
    hint = Message("hint.toml_quotes")
    if match is None:
        return InputError(file=file, code="error.toml_end", values={"detail": str(exc)},
                          hint=hint)
    detail = match["detail"]
    if match["line"] is None:
        return InputError(file=file, code="error.toml_end", values={"detail": detail},
                          hint=hint)
    return InputError(file=file, code="error.toml",
                      values={"line": int(match["line"]), "column": int(match["column"]),
                              "detail": detail}, hint=hint)


def _check_nesting(text: str, file: str) -> None:
    """Refuse deep inline nesting before the recursive parser sees it.

    Counting brackets ignores strings and comments, so it over-counts; it only rejects
    text whose brackets *could* nest deeper than 4 × the limit, far beyond any policy.
    """
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    if deepest > 4 * MAX_TOML_DEPTH:
        raise _too_deep(file)


def _depth(value: Any) -> int:
    """Nesting depth of parsed TOML, without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def _too_deep(file: str) -> InputError:
    return InputError(code="input.files.toml_too_deep",
                      values={"max_toml_depth": MAX_TOML_DEPTH}, file=file)


def _too_large(what: str, file: str, size: int, limit: int) -> InputError:
    return InputError(code="input.files.too_large",
                      values={"what": _kind(what), "size": size, "limit": limit}, file=file)


def _os_error(exc: OSError, what: str, file: str) -> InputError:
    if exc.errno == errno.ELOOP:
        return InputError(code="input.files.link_loop",
                          values={"what": _kind(what)}, file=file)
    if exc.errno == errno.EISDIR:
        return InputError(code="input.files.folder_not_file", values={"what": _kind(what)},
                          file=file)
    reason = exc.strerror or type(exc).__name__
    return InputError(code="input.files.unreadable",
                      values={"what": _kind(what), "reason": reason}, file=file)


def load_json(path: Path, what: str, limit: int) -> Any:
    """A JSON file (UTF-8, BOM allowed), read as :func:`read_input` reads and checked for
    nesting before it is parsed.

    Raises
    ------
    InputError
        As :func:`read_input`; not UTF-8 JSON; nested deeper than ``MAX_JSON_DEPTH``.
    """
    raw = read_input(path, what, limit)
    file = str(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None and json_depth(text) > MAX_JSON_DEPTH:
        raise InputError(code="json.too_deep", values={"depth": MAX_JSON_DEPTH}, file=file)
    try:
        if text is None:
            raise ValueError("not UTF-8 text")
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(code="json.invalid", values={"reason": str(exc)}, file=file) from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(text: str) -> int:
    """The deepest nesting of brackets in JSON text, strings left out (no parsing)."""
    bare = _JSON_STRING.sub("", text).encode("utf-8", "replace")
    raw = np.frombuffer(bare, dtype=np.uint8)
    steps = ((raw == ord("[")) | (raw == ord("{"))).astype(np.int64) \
        - ((raw == ord("]")) | (raw == ord("}"))).astype(np.int64)
    return int(np.cumsum(steps).max()) if len(steps) else 0
