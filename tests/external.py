"""Reference data that lives outside the repository (OR-Library, Pabulib).

It may not be committed into the project, so a test that needs it looks for it in
``$FUNDOPT_EXTERNAL`` or, by default, in ``shared/external`` beside the checkout, and is
*skipped* with a one-line reason when it is not there. A fresh clone therefore passes its
own tests; CI has the data and (tests/conftest.py) fails on any skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "FUNDOPT_EXTERNAL"
ROOT = Path(__file__).resolve().parents[1]


def external_root() -> Path:
    """The folder holding the external data sets: ``$FUNDOPT_EXTERNAL``, else
    ``../shared/external`` relative to the repository root."""
    given = os.environ.get(ENV)
    return Path(given) if given else ROOT.parent / "shared" / "external"


def missing(name: str, files: tuple[str, ...]) -> str | None:
    """Why data set ``name`` (with ``files``) cannot be used, or None when it is complete."""
    folder = external_root() / name
    absent = [f for f in files if not (folder / f).is_file()]
    if not absent:
        return None
    where = f"{ENV}={os.environ[ENV]}" if os.environ.get(ENV) else "../shared/external"
    return (f"external data not found: {name}/{{{','.join(absent)}}} under {where}; "
            f"set {ENV}=DIR (a folder holding {name}/) to run this test")


def require(name: str, *files: str) -> Path:
    """The folder of data set ``name``; skips the calling test when a file is missing."""
    reason = missing(name, files)
    if reason is not None:
        pytest.skip(reason)
    return external_root() / name
