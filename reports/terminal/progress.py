"""A progress bar for long batch runs: shown on a terminal only, and only after a second.

Used as the ``progress`` callback of ``optimizer.batch.solve_many``. Nothing is shown when
the console is not a terminal (output piped or redirected), and short runs never flash a
bar: it starts lazily at the first report after ``delay`` seconds and is transient
(erased when done).
"""

from __future__ import annotations

import signal
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console

from fundopt.reports.labels import label

if TYPE_CHECKING:
    from fundopt.optimizer.engines import Engine, WorkerLost


class LazyProgress:
    """``with LazyProgress(console, "solving") as report: solve_many(..., progress=report)``."""

    def __init__(self, console: Console, description: str, delay: float = 1.0) -> None:
        self.console, self.description, self.delay = console, description, delay
        self.started = time.perf_counter()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> LazyProgress:
        self.started = time.perf_counter()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not self.console.is_terminal or time.perf_counter() - self.started < self.delay:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()


def progress_text(engine: Engine, lang: str) -> str:
    """The bar's description: ``solving (2 local processes)``."""
    where = label(f"engine.{engine.kind}", lang).format(workers=engine.workers)
    return label("progress.solving_on", lang).format(solving=label("progress.solving", lang),
                                                     where=where)


def worker_lost_text(lost: WorkerLost, lang: str) -> str:
    """What a lost local worker means for the run, in words."""
    if lost.exitcode is None:
        how = label("batch.unknown_exit", lang)
    elif lost.exitcode < 0:
        try:
            name = signal.Signals(-lost.exitcode).name
        except ValueError:
            name = str(-lost.exitcode)
        how = label("batch.killed_by", lang).format(signal=f"{name} ({-lost.exitcode})")
    else:
        how = label("batch.exit_code", lang).format(code=lost.exitcode)
    return label("batch.worker_lost", lang).format(how=how, points=lost.points,
                                                   restart=lost.restart)
