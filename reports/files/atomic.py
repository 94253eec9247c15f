"""Writing output files safely: all at once or not at all, and never over an input.

Every ``-o`` target is checked before anything is solved (:func:`check_not_input`, called
by ``check_output_paths``), and then written as a set (:func:`write_all`): each file goes to
a short temporary name in its own folder, and only when all are complete are they renamed
over their targets. A failure — a full disk, a folder that cannot be written — removes
the temporary files and leaves every target as it was. Temporary files that a killed run
left behind (``.fundopt-<pid>-<random>.tmp`` of a process that no longer runs) are removed
on the next write to that folder.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from fundopt.errors import InputError
from fundopt.messages import Message

Writer = Callable[[Path], None]
TEMP_PREFIX = ".fundopt-"
# .fundopt-<pid>-<mkstemp's 8 characters>.tmp: short, so any name a folder allows fits
_TEMP = re.compile(r"\.fundopt-(\d+)-[A-Za-z0-9_]{8}o?\.tmp")   # o: a backup
_STALE_SECONDS = 24 * 3600      # a temp file this old is stale whoever made it
_LEGACY_SECONDS = 600           # fundopt 0.1's temp names carry no process id


def _real(path: Path) -> str:
    # os.path.realpath does not raise on a link loop (Path.resolve does, RuntimeError)
    return os.path.realpath(path)


def _same_file(a: Path, b: Path) -> bool:
    if _real(a) == _real(b):
        return True
    # Hard links and case-insensitive file systems resolve to different names.
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def output_key(path: Path) -> str:
    """The real path of an output, to find one given twice."""
    return _real(path)


def check_not_input(path: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output path that cannot be written or is one of the input files.

    Parameters
    ----------
    path
        The output file.
    inputs
        The files read for this run (table, policy).

    Raises
    ------
    InputError
        If ``path`` is (resolves to) one of ``inputs``; is a directory or not a regular
        file; lies in or below a symbolic-link loop; has a file where one of its folders
        should be; has a name longer than its folder allows; or its nearest existing
        folder cannot be written.
    """
    path = Path(path)
    file = str(path)
    for source in inputs:
        if _same_file(path, Path(source)):
            raise InputError(code="input.atomic.over_input", file=file)
    for place in (path, *path.parents):
        try:
            info = os.stat(place)
        except (FileNotFoundError, NotADirectoryError):
            continue         # a folder above is missing, or is a file: checked next
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                continue     # the folder's name limit is checked below
            if exc.errno == errno.ELOOP:
                raise InputError(code="input.atomic.link_loop",
                                 values={"place": place}, file=file) from None
            raise _cannot_write(file, exc) from None
        if place == path:
            if stat.S_ISDIR(info.st_mode):
                raise InputError(code="input.atomic.directory", file=file)
            if not stat.S_ISREG(info.st_mode):
                raise InputError(code="input.atomic.device", file=file)
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise InputError(code="input.atomic.file_in_path",
                             values={"place": place}, file=file)
        _check_name(path, place, file)
        if not os.access(place, os.W_OK | os.X_OK):
            raise _cannot_write(file, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
        break


def _check_name(path: Path, folder: Path, file: str) -> None:
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    too_long = [part for part in path.parts if len(os.fsencode(part)) > longest]
    if too_long:
        raise InputError(code="input.atomic.long_name", values={"longest": longest},
                         file=file, value=too_long[0][:40] + "…")


def _cannot_write(file: str, exc: OSError) -> InputError:
    reason = exc.strerror or str(exc)
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return InputError(code="input.atomic.cannot_write", values={"reason": reason}, file=file,
                      hint=Message("input.atomic.disk_full") if full else None)


def _file_mode() -> int:
    # mkstemp creates 0600 files; give the output the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_stale_temps(folder: Path, target: str = "") -> None:
    """Remove temporary files of fundopt's own naming that no running write owns.

    A temp file belongs to a process by its name; it is stale when that process no
    longer runs on this machine, or when it is older than a day. fundopt 0.1 named its
    temp files after the target (``.plan.xlsx.<8 characters>.tmp``) without a process:
    those of ``target`` are stale after ten minutes.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    legacy = re.compile(re.escape(f".{target}.") + r"[A-Za-z0-9_]{8}\.tmp") if target else None
    for name in names:
        match = _TEMP.fullmatch(name)
        old = legacy is not None and legacy.fullmatch(name) is not None
        if match is None and not old:
            continue
        temp = Path(folder) / name
        with contextlib.suppress(OSError):
            age = now - temp.lstat().st_mtime
            if (age > _LEGACY_SECONDS if match is None
                    else not _running(int(match[1])) or age > _STALE_SECONDS):
                temp.unlink()


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:        # exists, but another user's
        return True
    return True


def write_all(files: Sequence[tuple[Path, Writer]]) -> None:
    """Write every file, or none of them.

    Each writer is called with a temporary path in its target's folder and must write
    the whole file there. When all are written they are renamed over their targets; if a
    rename fails, the targets already replaced get their old content back.

    Parameters
    ----------
    files
        (target, writer) pairs.

    Raises
    ------
    InputError
        A folder cannot be created or written to, or the disk is full: naming the file.
    """
    temps: list[tuple[Path, Path]] = []
    made: list[Path] = []
    try:
        for target, writer in files:
            target = Path(target)
            temp = _new_temp(target, made)
            temps.append((target, temp))
            _write_one(target, temp, writer)
        _commit(temps)
    except BaseException:
        for _, temp in temps:
            with contextlib.suppress(OSError):
                temp.unlink()
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _write_one(target: Path, temp: Path, writer: Writer) -> None:
    try:
        writer(temp)
        os.chmod(temp, _file_mode())
        return
    except OSError as exc:
        error = _cannot_write(str(target), exc)
        previous, sys.unraisablehook = sys.unraisablehook, _ignore
    # Leaving the except block frees the writer's frames: a library's half-written
    # streams (openpyxl's sheet writers) then fail again as they close (OSError, or
    # ValueError on a file already closed), which Python would print as "Exception
    # ignored" tracebacks after the one clear error below. Nothing else runs meanwhile.
    try:
        gc.collect()
    finally:
        sys.unraisablehook = previous
    raise error


def _ignore(unraisable: Any) -> None:
    """An unraisable-exception hook that drops what it is given."""


def _new_temp(target: Path, made: list[Path]) -> Path:
    folder = target.parent
    try:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        made.extend(reversed(missing))
        remove_stale_temps(folder, target.name)
        handle, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".tmp",
                                        dir=folder)
    except OSError as exc:   # read-only folder, no permission, a file in the way, full
        raise _cannot_write(str(target), exc) from None
    os.close(handle)
    return Path(name)


def _commit(temps: list[tuple[Path, Path]]) -> None:
    """Rename every temp over its target; on a failure put back what was replaced."""
    done: list[tuple[Path, Path | None]] = []     # (target, backup of its old content)
    try:
        for target, temp in temps:
            backup = None
            if target.exists():
                backup = temp.with_name(temp.name.removesuffix(".tmp") + "o.tmp")
                with contextlib.suppress(OSError):
                    os.link(target, backup)
            try:
                os.replace(temp, target)
            except OSError as exc:
                if backup is not None:
                    with contextlib.suppress(OSError):
                        backup.unlink()
                raise _cannot_write(str(target), exc) from None
            done.append((target, backup if backup is not None and backup.exists() else None))
    except BaseException:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink()
        raise
    for _, backup in done:
        if backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink()


def atomic_write(path: Path, writer: Writer) -> None:
    """Write one file through a temporary file in the same folder (see :func:`write_all`)."""
    write_all([(Path(path), writer)])


def save_book(book: Any, path: Path) -> None:
    """Save an openpyxl workbook: packed in memory, then written in one piece.

    openpyxl writing straight to a file leaves a half-closed zip behind when the disk
    fills, and Python then prints "Exception ignored" tracebacks on exit.
    """
    buffer = io.BytesIO()
    book.save(buffer)
    Path(path).write_bytes(buffer.getbuffer())
