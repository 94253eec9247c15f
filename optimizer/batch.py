"""Solve many (table, policy, constraints) jobs on all cores: scenarios and sweep points.

Workers are spawned (fresh interpreters). Each receives the distinct tables once, through
the pool initializer; a task carries only a chunk of (table index, policy, constraints)
triples, which are small (about four chunks per worker). Results come back in job order
and are identical to a serial run (each solve is deterministic and independent).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass

import highspy

from fundopt.models.domain import Constraint, Policy, Table
from fundopt.optimizer.highs import new_highs
from fundopt.optimizer.result import Result
from fundopt.optimizer.solve import SolveOptions, solve

# Called in the parent process as chunks finish: (jobs done, jobs in all).
Progress = Callable[[int, int], None]
# Chunks per worker: a few, so a slow chunk does not leave the other cores idle at the end.
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True)
class Job:
    """One solve: the table, the policy and its expanded constraints."""

    table: Table
    policy: Policy
    constraints: tuple[Constraint, ...]


# The worker's copy of the shared inputs, set once by the pool initializer.
_TABLES: tuple[Table, ...] = ()
_OPTIONS: SolveOptions = SolveOptions()


def solve_many(jobs: Sequence[Job], options: SolveOptions | None = None, *,
               workers: int | None = None, progress: Progress | None = None
               ) -> list[Result]:
    """Solve every job, in parallel when there is more than one job and one core.

    Parameters
    ----------
    jobs
        What to solve; jobs sharing a ``Table`` object send it to each worker once.
    options
        Solver options for every job.
    workers
        Worker processes; default ``os.cpu_count()``. ``1`` solves serially in this process.
    progress
        Called with (done, total) after each finished chunk, in this process.

    Returns
    -------
    list[Result]
        One per job, in job order.

    Notes
    -----
    Workers are spawned, so a script calling this with more than one worker needs the
    ``if __name__ == "__main__":`` guard.
    """
    options = options or SolveOptions()
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        return _serial(jobs, options, progress)
    tables, tasks = _tasks(jobs)
    count = min(len(tasks), workers * CHUNKS_PER_WORKER)
    # Strided chunks (jobs i, i + count, …): neighbouring sweep points cost alike (a run
    # of infeasible points, each diagnosed, is slow), so striding evens out the chunks.
    chunks = [list(range(first, len(tasks), count)) for first in range(count)]
    results: list[Result | None] = [None] * len(jobs)
    done = 0
    # "spawn", not the default "fork": a process forked after HiGHS has started its
    # thread pool inherits the pool's state without its threads and spins for ever.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                             initargs=(tables, options)) as pool:
        futures = {pool.submit(_solve_chunk, [tasks[i] for i in chunk]): chunk
                   for chunk in chunks}
        for future in as_completed(futures):
            for index, result in zip(futures[future], future.result(), strict=True):
                results[index] = result
            done += len(futures[future])
            if progress is not None:
                progress(done, len(jobs))
    return [r for r in results if r is not None]


def _serial(jobs: Sequence[Job], options: SolveOptions, progress: Progress | None
            ) -> list[Result]:
    results = []
    with _one_thread():
        for i, job in enumerate(jobs, start=1):
            results.append(solve(job.table, job.policy, job.constraints, options))
            if progress is not None:
                progress(i, len(jobs))
    return results


Task = tuple[int, Policy, tuple[Constraint, ...]]


def _tasks(jobs: Sequence[Job]) -> tuple[tuple[Table, ...], list[Task]]:
    """The distinct tables (by identity) and one light task per job."""
    index: dict[int, int] = {}
    tables: list[Table] = []
    tasks = []
    for job in jobs:
        if id(job.table) not in index:
            index[id(job.table)] = len(tables)
            tables.append(job.table)
        tasks.append((index[id(job.table)], job.policy, job.constraints))
    return tuple(tables), tasks


def _init(tables: tuple[Table, ...], options: SolveOptions) -> None:
    global _TABLES, _OPTIONS
    _TABLES, _OPTIONS = tables, options
    _single_threaded_highs()


def _single_threaded_highs() -> None:
    """(Re)start this process's HiGHS task scheduler with one thread.

    Every batch solve, serial or in a worker, runs on a one-thread scheduler, because
    HiGHS may return a different one of several tied optima with another thread count:
    so the two runs agree exactly. It also saves CPU: HiGHS's idle helper threads spin
    (~40 % of a core in a serial sweep), time the other workers need. The process-wide
    scheduler is sized at the first run after a reset, hence the empty model.
    """
    highspy.Highs.resetGlobalScheduler(True)
    highs = new_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.passModel(highspy.HighsLp())
    highs.run()


@contextmanager
def _one_thread() -> Iterator[None]:
    """One-thread HiGHS for a serial batch in this process, HiGHS's default afterwards."""
    _single_threaded_highs()
    try:
        yield
    finally:
        highspy.Highs.resetGlobalScheduler(True)


def _solve_chunk(chunk: list[Task]) -> list[Result]:
    return [solve(_TABLES[t], policy, constraints, _OPTIONS) for t, policy, constraints in chunk]
