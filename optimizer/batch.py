"""Solve many (table, policy, constraints) jobs — scenarios and sweep points — on an engine.

The distinct tables and the solver options are the shared input, sent to each worker once
(``optimizer.engines``); a point is one job's (table index, policy, constraints), which
are small. Each worker holds one ``Problem`` per table, built at its first point and
re-targeted from point to point. Results come back in job order and are identical on
every engine and for any number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fundopt.models.domain import Constraint, Policy, Table
from fundopt.optimizer.engines import Engine, Progress, Work, open_engine
from fundopt.optimizer.problem import Problem, SolveOptions
from fundopt.optimizer.result import Result


@dataclass(frozen=True)
class Job:
    """One solve: the table, the policy and its expanded constraints."""

    table: Table
    policy: Policy
    constraints: tuple[Constraint, ...]


@dataclass(frozen=True)
class Shared:
    """What every worker receives once: the distinct tables and the solver options."""

    tables: tuple[Table, ...]
    options: SolveOptions


@dataclass
class Held:
    """A worker's state for one batch: the shared input and its problems, one per table,
    built at first use and held for the rest of the batch."""

    shared: Shared
    problems: dict[int, Problem] = field(default_factory=dict)


Task = tuple[int, Policy, tuple[Constraint, ...]]


def solve_many(jobs: Sequence[Job], options: SolveOptions | None = None, *,
               engine: Engine | None = None, workers: int | None = None,
               progress: Progress | None = None) -> list[Result]:
    """Solve every job on ``engine`` (default: a local pool of ``workers`` processes).

    Parameters
    ----------
    jobs
        What to solve; jobs sharing a ``Table`` object send it to each worker once.
    options
        Solver options for every job.
    engine
        Where to solve (``optimizer.engines.open_engine``); the caller closes it.
    workers
        Without ``engine``: worker processes, default ``os.cpu_count()``; ``1`` solves
        serially in this process.
    progress
        Called with (done, total) as chunks of jobs finish, in this process.

    Returns
    -------
    list[Result]
        One per job, in job order.

    Notes
    -----
    Local workers are spawned, so a script calling this with more than one worker needs
    the ``if __name__ == "__main__":`` guard.
    """
    shared, tasks = _shared(jobs, options or SolveOptions())
    if not tasks:
        return []
    if engine is not None:
        return engine.map(SOLVE, shared, tasks, progress)
    with open_engine(min(workers or os.cpu_count() or 1, len(tasks))) as own:
        return own.map(SOLVE, shared, tasks, progress)


def _shared(jobs: Sequence[Job], options: SolveOptions) -> tuple[Shared, list[Task]]:
    """The distinct tables (by identity) and one light task per job."""
    index: dict[int, int] = {}
    tables: list[Table] = []
    tasks = []
    for job in jobs:
        if id(job.table) not in index:
            index[id(job.table)] = len(tables)
            tables.append(job.table)
        tasks.append((index[id(job.table)], job.policy, job.constraints))
    return Shared(tuple(tables), options), tasks


def _setup(shared: Shared) -> Held:
    return Held(shared)


def _solve_chunk(held: Held, chunk: Iterable[Task]) -> list[Result]:
    """Solve a chunk on the ``Problem`` this worker holds for its table, built on first
    use and moved from point to point. The chunk's first point starts cold, so each
    point's result depends on its chunk alone, not on which process ran it."""
    results = []
    for k, (t, policy, constraints) in enumerate(chunk):
        problem = held.problems.get(t)
        if problem is None:
            problem = held.problems[t] = Problem(held.shared.tables[t], policy, constraints,
                                                 held.shared.options, warm=True)
        else:
            problem.retarget(policy, constraints, cold=k == 0)
        results.append(problem.solve())
    return results


SOLVE: Work[Shared, Held, Task, Result] = Work(_setup, _solve_chunk)


def solve_points(table: Table, points: Sequence[tuple[Policy, tuple[Constraint, ...]] | Any],
                 options: SolveOptions | None = None, *, engine: Engine | None = None,
                 progress: Progress | None = None) -> list[Result]:
    """Solve a sweep's points: each ``(policy, constraints)`` on ``engine``; a point whose
    value crossed the other bound of its line (``models.rules.sweep.CrossedPoint``) is an
    infeasible result with that line as its conflict, without a solve."""
    import numpy as np

    from fundopt.optimizer.result import Diagnosis, SolveStatus

    jobs = [Job(table, p[0], p[1]) for p in points if isinstance(p, tuple)]
    solved = iter(solve_many(jobs, options, engine=engine, progress=progress))
    rows = len(table.frame)
    return [next(solved) if isinstance(p, tuple) else Result(
        status=SolveStatus.INFEASIBLE, objective=None, amounts=np.zeros(rows),
        funded=np.zeros(rows, dtype=bool), committed=0.0, constraints=(), warnings=(),
        solver="", seconds=0.0,
        diagnosis=Diagnosis((), (p.rule,), captions={p.rule: p.caption} if p.caption else {}))
        for p in points]
