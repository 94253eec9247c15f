"""fundopt: allocate a mother fund's capital across candidate sub-funds.

Everything the command line does is a Python call (see ``docs/api.md``)::

    import fundopt
    plan = fundopt.solve("inputs/2024.csv")
    plan.status, plan.objective, plan.allocations
    plan.write("out/plan.xlsx", lang="zh")

The names below are imported on first use, so ``import fundopt`` (and the command line's
start-up) does not pay for pandas and HiGHS until a call needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → the module that defines it
_EXPORTS = {
    **dict.fromkeys(
        ("solve", "check", "explain", "compare", "sweep", "stability", "book_add",
         "book_list", "book_show", "book_void", "Problem", "SolveRun", "CheckRun",
         "ExplainRun", "StabilityRun", "BookRun"), "fundopt.app"),
    "CompareRun": "fundopt.app.runs",
    "SweepRun": "fundopt.app.runs",
    "InputError": "fundopt.errors",
    "FundoptError": "fundopt.errors",
    "Message": "fundopt.messages",
    "verify": "fundopt.optimizer.verify",
    "VerifyRun": "fundopt.optimizer.verify",
}

__all__ = [
    "BookRun", "CheckRun", "CompareRun", "ExplainRun", "FundoptError", "InputError",
    "Message", "Problem", "SolveRun", "StabilityRun", "SweepRun", "__version__", "book_add",
    "book_list", "book_show", "book_void", "check", "compare", "explain", "solve",
    "stability", "sweep", "verify", "VerifyRun",
]

if TYPE_CHECKING:
    from fundopt.app import (
        BookRun,
        CheckRun,
        ExplainRun,
        Problem,
        SolveRun,
        StabilityRun,
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
    from fundopt.app.runs import CompareRun, SweepRun
    from fundopt.errors import FundoptError, InputError
    from fundopt.messages import Message
    from fundopt.optimizer.verify import VerifyRun, verify


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fundopt' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
