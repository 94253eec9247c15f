"""Stopping HiGHS when asked: Ctrl-C, SIGTERM, or a caller that no longer needs the run.

The flag here is read by the interrupt callbacks that ``highs.new_highs`` puts on every
HiGHS object, which HiGHS calls a few times a second (between branch-and-bound nodes,
simplex and interior-point iterations); a run asked to stop returns with status
kInterrupt and ``highs.run`` raises KeyboardInterrupt. This module does not import
highspy, so the command line can install the handlers before anything heavy is loaded.

Python runs signal handlers in the main thread only, between bytecodes. While the main
thread is inside ``Highs.run`` the handler runs at the next interrupt callback (which is
Python code called from HiGHS), where raising would unwind through HiGHS: there it only
sets the flag, and ``highs.run`` raises once HiGHS has returned. Anywhere else it raises
KeyboardInterrupt at once.

API for batch code (worker processes, threads): ``request_stop()`` stops every run of
this process; ``stop_on_signals()`` (main thread) routes SIGINT/SIGTERM to it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_stop = threading.Event()       # this process was asked to stop
_main_in_solver = 0             # HiGHS runs in progress on the main thread
_in_solver = 0                  # HiGHS runs in progress in any thread
_count_lock = threading.Lock()
_on_first_signal: Callable[[], None] | None = None


def request_stop() -> None:
    """Ask every HiGHS run of this process to stop at its next interrupt check; each then
    raises KeyboardInterrupt in its caller, and so does every later run until
    ``clear_stop``."""
    _stop.set()


def stop_requested() -> bool:
    """Whether ``request_stop`` was called (or a signal arrived) since ``clear_stop``."""
    return _stop.is_set()


def clear_stop() -> None:
    """Forget an earlier ``request_stop`` (for a process that goes on solving)."""
    _stop.clear()


def solver_busy() -> bool:
    """Whether a HiGHS run is in progress in some thread of this process (a race's loser
    that was told to stop but has not reached its next interrupt check, for one)."""
    return _in_solver > 0


@contextmanager
def solver_running() -> Iterator[None]:
    """Mark a HiGHS run in progress in this thread (see the module's docstring)."""
    global _main_in_solver, _in_solver
    main = threading.current_thread() is threading.main_thread()
    with _count_lock:
        _in_solver += 1
        _main_in_solver += main
    try:
        yield
    finally:
        with _count_lock:
            _in_solver -= 1
            _main_in_solver -= main


def on_signal(signum: int, frame: FrameType | None) -> None:
    """Handler for SIGINT and SIGTERM: stop every HiGHS run of this process and raise
    KeyboardInterrupt in the main thread (at once, or when HiGHS has returned)."""
    first = not _stop.is_set()
    _stop.set()
    if first and _in_solver and _on_first_signal is not None:
        _on_first_signal()
    if _main_in_solver == 0:
        raise KeyboardInterrupt


@contextmanager
def stop_on_signals(on_first: Callable[[], None] | None = None) -> Iterator[None]:
    """Within this block SIGINT and SIGTERM stop HiGHS at its next interrupt check and
    raise KeyboardInterrupt; the earlier handlers come back afterwards. ``on_first`` is
    called (in the main thread) at the first signal if HiGHS is running in this process:
    the command line starts a watchdog there, since HiGHS may go seconds between two
    interrupt checks on a loaded machine. (Not otherwise: a batch's main process waits for
    its workers, whose stopping is the batch engine's business.)
    Outside the main thread, where Python cannot install handlers, the block only clears
    the flag."""
    global _on_first_signal
    clear_stop()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, on_signal) for sig in signals}
    _on_first_signal = on_first
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _on_first_signal = None
        clear_stop()
