"""What the command line makes of a run value: its exit code and the files it announces.

SPEC §3: ``0`` a plan (or nothing to solve), ``1`` a solver failure or an internal error,
``2`` bad input or usage, ``3`` an infeasible policy (or, for ``verify``, a broken rule),
``130`` interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fundopt.errors import FundoptError, InputError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130   # 128 + SIGINT, the shell's code for Ctrl-C; SIGTERM too


def status_code(status: str) -> int:
    """0 with a plan, 3 for an infeasible policy, 1 for anything else (solver failure)."""
    if status in ("optimal", "feasible"):
        return EXIT_OK
    return EXIT_INFEASIBLE if status == "infeasible" else EXIT_INTERNAL


def exit_code(run: Any) -> int:
    """The exit code of a command that returned ``run``: 2 when a scenario of a compare
    had an input error (shown in its column), 0/3 for a verify's verdict, else by the
    status of its plan (a run without one, such as check or sweep, exits 0)."""
    if getattr(run, "errors", None):
        return EXIT_INPUT
    verdict = getattr(run, "verdict", None)
    if verdict is not None:
        return EXIT_OK if verdict.holds else EXIT_INFEASIBLE
    status = getattr(run, "status", None)
    return EXIT_OK if status is None else status_code(status)


def announced(run: Any, outputs: Sequence[Path]) -> list[Path]:
    """The ``-o`` files the command line lists as written ("wrote …"): every one, except
    for explain and stability without a plan (the diagnosis is what they show)."""
    from fundopt.app.runs import ExplainRun, StabilityRun

    if isinstance(run, ExplainRun | StabilityRun) and not run.ok:
        return []
    return list(outputs)


# Seconds a stopped process may take to exit cleanly. HiGHS checks for interrupts a few
# times a second, but on a loaded machine it has gone 5 s between two checks; nothing is
# being written while it solves, so the watchdog ends the process instead of waiting.
STOP_GRACE = 1.0
_farewell_said = threading.Event()


def _exit_after(seconds: float, farewell: str) -> None:
    """Start a watchdog that ends the process with exit 130 unless it has exited within
    ``seconds`` (``os._exit``: no Python or C++ clean-up runs while HiGHS still works)."""

    def watchdog() -> None:
        time.sleep(seconds)
        if not _farewell_said.is_set():
            sys.stderr.write(farewell + "\n")
            sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    threading.Thread(target=watchdog, name="fundopt-stop-watchdog", daemon=True).start()


def guarded(body: Callable[[], int], lang: str, debug: bool, fail: Callable[[str], None]
            ) -> int:
    """Run a command's ``body`` and return its exit code; fundopt's errors become their
    exit code and one clear message, given to ``fail`` (an unexpected bug: a short
    message, or its traceback with ``debug``).

    Ctrl-C and SIGTERM stop a running HiGHS solve (exit 130); files being written are left
    as they were (writes are atomic).
    """
    from fundopt.optimizer.interrupt import stop_on_signals, stop_requested
    from fundopt.reports.text import say

    farewell = say("cli.interrupted", lang)
    try:
        with stop_on_signals(lambda: _exit_after(STOP_GRACE, farewell)):
            try:
                return body()
            except Exception:
                # a signal inside an extension's import surfaces as its ImportError
                if stop_requested():
                    raise KeyboardInterrupt from None
                raise
    except KeyboardInterrupt:
        _farewell_said.set()
        fail(farewell)
        return EXIT_INTERRUPTED
    except FundoptError as error:
        fail(say("cli.error", lang, message=error.render(lang)))
        return EXIT_INPUT if isinstance(error, InputError) else EXIT_INTERNAL
    except Exception as error:
        if debug:
            raise
        fail(say("cli.internal_error", lang, kind=type(error).__name__, detail=error))
        return EXIT_INTERNAL


def leave(code: Any) -> None:
    """The command is done (exit ``code``) and its files are written and closed: make the
    process's end quick, or end it now if a solver is still stopping."""
    # Shutting down, Python would walk every object still alive looking for cycles (≈ 70
    # ms after a solve of the sample); none of them needs collecting any more.
    gc.freeze()
    from fundopt.optimizer.interrupt import solver_busy

    if solver_busy():
        # The loser of a MILP race (optimizer/race.py) is still stopping, which can take
        # seconds; everything this process had to do is done and written, so exit now.
        # (os._exit: a normal exit would wait for it, and C++ clean-up under a live HiGHS
        # thread aborts.)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0 if code is None else 1)
