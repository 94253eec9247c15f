"""The application layer: one function per command, each returning a run value.

These functions are fundopt's public Python API (SPEC §14) and what the command line
calls: ``cli.py`` parses options, calls one of them, shows the run value, writes its files
and maps its status to an exit code. Every run value has DataFrame views, ``write(...)``
for any ``-o`` format, ``show(...)`` (the terminal summary) and ``_repr_html_`` (Jupyter).

Data flows one way: ``models`` read and validate, ``optimizer`` solves, ``reports`` turn
run values into words and files; this module only glues them, as ``cli.py`` did before.
"""

from __future__ import annotations

from fundopt.app.commands import (
    EXPLAIN_DRAWS,
    book_add,
    book_list,
    book_show,
    book_void,
    check,
    compare,
    explain,
    solve,
    stability,
    sweep,
)
from fundopt.app.problem import Problem
from fundopt.app.runs import BookRun, CheckRun, ExplainRun, SolveRun, StabilityRun

__all__ = [
    "EXPLAIN_DRAWS", "BookRun", "CheckRun", "ExplainRun", "Problem", "SolveRun",
    "StabilityRun", "book_add", "book_list", "book_show", "book_void", "check", "compare",
    "explain", "solve", "stability", "sweep",
]
