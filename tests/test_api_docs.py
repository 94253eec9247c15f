"""docs/api.md is run as written: every ``python`` block, in order, in one namespace, from
a copy of the repository's ``inputs/`` (so the examples' ``out/`` files land in a temporary
folder). An example that no longer works fails here."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

API = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks() -> list[str]:
    return BLOCK.findall(API.read_text(encoding="utf-8"))


def test_api_md_has_an_example_of_every_public_call() -> None:
    import fundopt

    text = "".join(blocks())
    calls = [n for n in fundopt.__all__ if n[0].islower() and not n.startswith("_")]
    missing = [n for n in calls if f"fundopt.{n}(" not in text]
    assert not missing, f"docs/api.md has no runnable example of {', '.join(missing)}"
    for name in ("Problem(", "InputError", "Message(", ".write(", "._repr_html_()"):
        assert name in text, name


def test_api_md_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "api_md"}
    printed = io.StringIO()
    for number, code in enumerate(blocks(), 1):
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(code, f"docs/api.md block {number}", "exec"), namespace)
            except Exception as error:   # name the block that failed
                pytest.fail(f"docs/api.md block {number} fails: {error!r}\n{code}")
    shown = printed.getvalue()
    assert "optimal 2895.78 40.0" in shown
    assert "infeasible" in shown and "budgte" in shown
    for name in ("plan.json", "plan.xlsx", "plan.csv", "compare.json", "sweep.xlsx",
                 "stability.csv"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name


def test_readme_is_a_front_page() -> None:
    """The README is a short user's guide (sqlite-utils' is 101 lines): the quick start as
    the project's brief writes it, no link outside the repository, and a "More
    documentation" section listing every page of docs/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 400
    assert "pip install -e . && fundopt solve inputs/2024.csv" in readme
    assert "pip install -e '.[test]' && pytest" in readme
    assert "../shared" not in readme
    listed = readme.split("## More documentation", 1)[1]
    missing = [page.name for page in sorted((ROOT / "docs").glob("*.md"))
               if f"(docs/{page.name})" not in listed]
    assert not missing, f"README, More documentation: no link to {', '.join(missing)}"
