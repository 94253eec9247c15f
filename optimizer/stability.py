"""How stable each choice is under uncertain scores (SPEC §8, ``fundopt stability``).

The model is built once per worker (one ``Problem``). Every draw (a sampled score vector,
from the seed alone, made in ``models.rules.uncertainty``) only changes the objective costs of
the problem's held HiGHS model, which is re-solved. The draws run on the batch engines of
``optimizer.engines`` (serial, local pool, Dask cluster) in chunks fixed by their count;
each chunk starts from a cleared solver, so a draw's plan depends on its chunk alone —
never on the engine, the number of workers or which worker took the chunk — and the sums
are added in draw order. Every engine gives identical numbers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from fundopt.models.domain import Constraint, Policy, Table
from fundopt.models.rules.uncertainty import require_uncertainty, score_draws
from fundopt.optimizer.engines import Engine, EngineKind, Progress, Work, open_engine
from fundopt.optimizer.problem import Problem, SolveOptions, SolverName
from fundopt.optimizer.result import Result

# Funded in at least CORE of the draws: core; in less than OUT: out; else contested.
CORE, OUT = 0.9, 0.1


@dataclass(frozen=True)
class Stability:
    """The outcome of ``fundopt stability``.

    ``funded_share`` and ``mean_amount`` are per input row over the draws that have a plan
    (``solved``); ``objectives`` is the drawn objective Σ s_i·x_i of each draw's plan (NaN
    where a draw has none). ``nominal`` is the plan for the policy's own objective.
    """

    draws: int
    seed: int
    nominal: Result
    funded_share: np.ndarray
    mean_amount: np.ndarray
    objectives: np.ndarray
    solved: int
    engine: str
    workers: int
    seconds: float

    def groups(self) -> np.ndarray:
        """``core`` / ``contested`` / ``out`` per row."""
        share = self.funded_share
        return np.where(share >= CORE, "core", np.where(share < OUT, "out", "contested"))

    def percentiles(self) -> dict[str, float | None]:
        """p5 / p50 / p95 of the drawn objective (None without any plan)."""
        values = self.objectives[np.isfinite(self.objectives)]
        if not len(values):
            return {"p5": None, "p50": None, "p95": None}
        p5, p50, p95 = np.percentile(values, [5, 50, 95])
        return {"p5": float(p5), "p50": float(p50), "p95": float(p95)}


# One draw's result: its plan's amounts (None without a plan) and drawn objective.
Drawn = tuple[np.ndarray | None, float]
# What every worker receives once: the inputs and the solver options.
Shared = tuple[Table, Policy, tuple[Constraint, ...], SolveOptions]


def _setup(shared: Shared) -> Problem:
    """Build this worker's problem once; every chunk of draws it takes re-solves it."""
    table, policy, constraints, options = shared
    return Problem(table, policy, constraints, options, warm=True)


def solve_draws(problem: Problem, draws: Iterable[np.ndarray]) -> list[Drawn]:
    """Solve a chunk of draws on ``problem``'s held model, changing only its costs. The
    chunk starts cold, so its results do not depend on what the worker solved before."""
    problem.held().start_cold()
    model = problem.model
    n = model.n
    cost = model.cost.copy()
    out: list[Drawn] = []
    for draw in draws:
        cost[:n] = draw
        outcome = problem.run(replace(model, cost=cost.copy()))
        if outcome.values is None:
            out.append((None, float("nan")))
            continue
        plan = problem.amounts(outcome.values)
        out.append((plan, float(draw @ plan)))
    return out


DRAWS: Work[Shared, Problem, np.ndarray, Drawn] = Work(_setup, solve_draws)


def _warm_draws(warm: bool, problem: Problem, draws: Iterable[np.ndarray]) -> list[Drawn]:
    """:func:`solve_draws` on a problem built for other solves: warm from draw to draw, as
    a worker's own problem is (each chunk still starts cold), then as it was."""
    problem.warm = True
    try:
        return solve_draws(problem, draws)
    finally:
        problem.warm = warm


def stability(problem: Problem, *, draws: int | None = None, seed: int | None = None,
              workers: int | None = None, engine: Engine | None = None,
              progress: Progress | None = None, nominal: Result | None = None) -> Stability:
    """Solve the nominal plan and one plan per draw, each worker on a model it built once.

    Parameters
    ----------
    problem
        The model of the inputs (its policy has an ``[uncertainty]`` table).
    draws, seed
        Override the policy's ``draws`` and ``seed``.
    workers, engine
        Where the draws are solved: ``engine`` (serial, local pool or Dask, see
        ``optimizer.engines``), else a local pool of ``workers`` (1: this process).
    progress
        Called with (draws done, draws in all) as chunks finish, in this process.
    nominal
        ``problem.solve()`` if the caller has it already.

    Returns
    -------
    Stability
        With empty per-draw arrays when the nominal model has no plan (see ``nominal``).
        The same numbers on every engine: the draws come from the seed alone and are
        solved in chunks fixed by their count.

    Raises
    ------
    InputError
        The policy has no ``[uncertainty]`` table.
    """
    table, policy = problem.table, problem.policy
    uncertainty = require_uncertainty(policy, "stability")
    started = time.perf_counter()
    count = uncertainty.draws if draws is None else draws
    used_seed = uncertainty.seed if seed is None else seed
    nominal = problem.solve() if nominal is None else nominal
    n = len(table.frame)
    if not nominal.is_ok:
        return Stability(count, used_seed, nominal, np.zeros(n), np.zeros(n), np.zeros(0), 0,
                         "serial", 1, time.perf_counter() - started)
    scores = score_draws(table, policy, count, used_seed)
    shared = (table, policy, problem.constraints,
              replace(problem.options, solver=SolverName.HIGHS))
    with nullcontext(engine) if engine is not None else open_engine(workers) as used:
        if used.kind is EngineKind.SERIAL:
            # in this process: the draws re-solve the caller's problem, built once
            work: Work[Shared, Problem, np.ndarray, Drawn] = Work(
                lambda _: problem, partial(_warm_draws, problem.warm))
            results = used.map(work, shared, list(scores), progress=progress)
        else:
            results = used.map(DRAWS, shared, list(scores), progress=progress)
    funded = np.zeros(n, dtype=np.int64)
    amount = np.zeros(n)
    for plan, _ in results:       # in draw order: the same sums on every engine
        if plan is not None:
            funded += plan > 0
            amount += plan
    objectives = np.array([objective for _, objective in results])
    solved = int(np.isfinite(objectives).sum())
    return Stability(
        draws=count, seed=used_seed, nominal=nominal,
        funded_share=funded / solved if solved else np.zeros(n),
        mean_amount=amount / solved if solved else np.zeros(n),
        objectives=objectives, solved=solved, engine=str(used.kind), workers=used.workers,
        seconds=time.perf_counter() - started)
