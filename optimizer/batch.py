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
from fundopt.optimizer.problem import Problem, SolveOptions
from fundopt.optimizer.result import Result

# Called in the parent process as chunks finish: (jobs done, jobs in all).
Progress = Callable[[int, int], None]
# Chunks of a batch: enough that a slow chunk does not leave the other cores idle at the
# end, few enough that each chunk re-solves many points on its held model.
CHUNKS = 16


@dataclass(frozen=True)
class Job:
    """One solve: the table, the policy and its expanded constraints."""

    table: Table
    policy: Policy
    constraints: tuple[Constraint, ...]


# The worker's copy of the shared inputs, set once by the pool initializer.
_TABLES: tuple[Table, ...] = ()
_OPTIONS: SolveOptions = SolveOptions()
# The worker's problems, one per table, built at its first task and held for the rest.
_PROBLEMS: dict[int, Problem] = {}


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
    tables, tasks = _tasks(jobs)
    chunks = make_chunks(len(tasks))
    if workers <= 1:
        return _serial(tables, tasks, chunks, options, progress)
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


def make_chunks(count: int) -> list[list[int]]:
    """Job indices per chunk, a function of the job count alone.

    Each chunk is solved on one ``Problem``, re-solved from the previous point's state,
    so the chunks (not the workers) fix which warm start each point gets: results are
    the same for any number of workers. Strided (jobs i, i + k, …): neighbouring sweep
    points cost alike (a run of infeasible points, each diagnosed, is slow), so striding
    evens out the chunks.
    """
    k = min(count, CHUNKS)
    return [list(range(first, count, k)) for first in range(k)]


def _serial(tables: tuple[Table, ...], tasks: list[Task], chunks: list[list[int]],
            options: SolveOptions, progress: Progress | None) -> list[Result]:
    results: list[Result | None] = [None] * len(tasks)
    problems: dict[int, Problem] = {}
    done = 0
    with _one_thread():
        for chunk in chunks:
            solved = _solve_tasks(tables, [tasks[i] for i in chunk], options, problems)
            for index, result in zip(chunk, solved, strict=True):
                results[index] = result
            done += len(chunk)
            if progress is not None:
                progress(done, len(tasks))
    return [r for r in results if r is not None]


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
    return _solve_tasks(_TABLES, chunk, _OPTIONS, _PROBLEMS)


def _solve_tasks(tables: tuple[Table, ...], chunk: list[Task], options: SolveOptions,
                 problems: dict[int, Problem]) -> list[Result]:
    """Solve a chunk on the ``Problem`` this process holds for its table, built on first
    use and moved from point to point. The chunk's first point starts cold, so each
    point's result depends on its chunk alone, not on which process ran it."""
    results = []
    for k, (t, policy, constraints) in enumerate(chunk):
        problem = problems.get(t)
        if problem is None:
            problem = problems[t] = Problem(tables[t], policy, constraints, options, warm=True)
        else:
            problem.retarget(policy, constraints, cold=k == 0)
        results.append(problem.solve())
    return results
