"""A progress bar for long batch runs: shown on a terminal only, and only after a second.

Used as the ``progress`` callback of ``optimizer.batch.solve_many``. Nothing is shown when
the console is not a terminal (output piped or redirected), and short runs never flash a
bar: it starts lazily at the first report after ``delay`` seconds and is transient
(erased when done).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console


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
