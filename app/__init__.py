"""The application layer: one function per command, each returning a run value.

These functions are fundopt's public Python API (SPEC §14) and what the command line
calls: ``cli.py`` parses options, calls one of them, shows the run value, writes its files
and maps its status to an exit code. Every run value has DataFrame views, ``write(...)``
for any ``-o`` format, ``show(...)`` (the terminal summary) and ``_repr_html_`` (Jupyter).

Data flows one way: ``models`` read and validate, ``optimizer`` solves, ``reports`` turn
run values into words and files; this module only glues them, as ``cli.py`` did before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# public name → the module of this package that defines it, imported on first use: the
# book commands need neither pandas' readers nor HiGHS
_EXPORTS = {
    **dict.fromkeys(("EXPLAIN_DRAWS", "check", "compare", "explain", "solve", "stability",
                     "sweep"), "commands"),
    **dict.fromkeys(("BookRun", "book_add", "book_list", "book_show", "book_void"), "book"),
    "Problem": "problem",
    **dict.fromkeys(("CheckRun", "ExplainRun", "SolveRun", "StabilityRun"), "runs"),
}

__all__ = [
    "EXPLAIN_DRAWS", "BookRun", "CheckRun", "ExplainRun", "Problem", "SolveRun",
    "StabilityRun", "book_add", "book_list", "book_show", "book_void", "check", "compare",
    "explain", "solve", "stability", "sweep",
]

if TYPE_CHECKING:
    from fundopt.app.book import BookRun, book_add, book_list, book_show, book_void
    from fundopt.app.commands import (
        EXPLAIN_DRAWS,
        check,
        compare,
        explain,
        solve,
        stability,
        sweep,
    )
    from fundopt.app.problem import Problem
    from fundopt.app.runs import CheckRun, ExplainRun, SolveRun, StabilityRun


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fundopt.app' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"fundopt.app.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
