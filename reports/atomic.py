"""Writing output files safely: all at once or not at all, and never over an input."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from fundopt.errors import InputError


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    # Hard links and case-insensitive file systems resolve to different names.
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(path: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output path that is one of the input files.

    Parameters
    ----------
    path
        The output file.
    inputs
        The files read for this run (table, policy).

    Raises
    ------
    InputError
        If ``path`` is (resolves to) one of ``inputs``, is a directory, or has a file
        where one of its folders should be.
    """
    for source in inputs:
        if _same_file(Path(path), Path(source)):
            raise InputError(
                "refusing to write an output over an input file",
                file=str(path), expected="an output path that is not the table or the policy",
                hint="Choose another name for -o.",
                message_zh="拒绝用输出覆盖输入文件",
                expected_zh="与输入表和政策文件不同的输出路径",
                hint_zh="请为 -o 换一个文件名。",
            )
    if Path(path).is_dir():
        raise InputError(
            "the output path is a directory", file=str(path),
            expected="a file name such as plan.xlsx", message_zh="输出路径是一个目录",
            expected_zh="文件名，例如 plan.xlsx",
        )
    blocking = next((p for p in Path(path).parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise InputError(
            f"cannot create the output: {blocking} is a file, not a folder", file=str(path),
            expected="a path whose folders are folders", message_zh=f"无法创建输出：{blocking} "
            "是文件而不是文件夹", expected_zh="上级路径均为文件夹的输出路径",
        )


def _file_mode() -> int:
    # mkstemp creates 0600 files; give the output the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary file in the same directory, then rename it.

    Readers see either the old file or the complete new one; a failed write leaves no
    temporary file behind. Missing parent directories are created.

    Parameters
    ----------
    path
        The final file.
    writer
        Called with the temporary path; must write the whole file there.

    Raises
    ------
    InputError
        The folder cannot be created or written to (permissions, read-only disk).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=path.parent)
    except OSError as exc:   # read-only folder, no permission, a file in the way
        raise InputError(f"cannot write the output: {exc.strerror or exc}", file=str(path),
                         expected="a writable folder", message_zh="无法写入输出文件",
                         expected_zh="可写的文件夹") from exc
    os.close(handle)
    temp = Path(name)
    try:
        writer(temp)
        os.chmod(temp, _file_mode())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
