"""How stable each choice is under uncertain scores (SPEC §8, ``fundopt stability``).

The model is built once (one ``Problem`` per process). Every draw (a sampled score vector,
from the seed alone, made in ``models.uncertainty``) only changes the objective costs of
the problem's held HiGHS model, which is re-solved. Draws are solved in fixed blocks of
:data:`BLOCK` draws; each block starts from a cleared solver, so a draw's plan depends on
its block alone — never on how many workers there are or which worker took the block —
and the sums are added block by block in draw order. Serial and parallel runs give
identical numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace

import numpy as np

from fundopt.models.domain import Constraint, Policy, Table
from fundopt.models.uncertainty import require_uncertainty, score_draws
from fundopt.optimizer.batch import _one_thread, _single_threaded_highs
from fundopt.optimizer.problem import Problem, SolveOptions, SolverName
from fundopt.optimizer.result import Result

# Draws per block: a block is the unit of work and of warm starts (see the module text).
BLOCK = 25
# Funded in at least CORE of the draws: core; in less than OUT: out; else contested.
CORE, OUT = 0.9, 0.1
Progress = Callable[[int, int], None]


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


BlockResult = tuple[np.ndarray, np.ndarray, np.ndarray]

# A worker's problem, built once by the pool initializer.
_PROBLEM: Problem | None = None


def solve_block(problem: Problem, scores: np.ndarray) -> BlockResult:
    """Solve one block of draws on ``problem``'s held model, changing only its costs:
    funded counts, amount sums (in draw order) and each draw's objective."""
    problem.held().start_cold()
    model = problem.model
    n = model.n
    funded = np.zeros(n, dtype=np.int64)
    amount = np.zeros(n)
    objectives = np.full(len(scores), np.nan)
    cost = model.cost.copy()
    for j, draw in enumerate(scores):
        cost[:n] = draw
        outcome = problem.run(replace(model, cost=cost.copy()))
        if outcome.values is None:
            continue
        plan = problem.amounts(outcome.values)
        funded += plan > 0
        amount += plan
        objectives[j] = float(draw @ plan)
    return funded, amount, objectives


def stability(problem: Problem, *, draws: int | None = None, seed: int | None = None,
              workers: int | None = None, progress: Progress | None = None,
              nominal: Result | None = None) -> Stability:
    """Solve the nominal plan and one plan per draw on the model built once.

    Parameters
    ----------
    problem
        The model of the inputs (its policy has an ``[uncertainty]`` table); the serial
        run re-solves it, each worker builds its own once.
    draws, seed
        Override the policy's ``draws`` and ``seed``.
    workers
        Worker processes; default every core; 1 solves in this process.
    progress
        Called with (draws done, draws in all) after each block, in this process.
    nominal
        ``problem.solve()`` if the caller has it already.

    Returns
    -------
    Stability
        With empty per-draw arrays when the nominal model has no plan (see ``nominal``).

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
    blocks = [scores[first:first + BLOCK] for first in range(0, count, BLOCK)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(blocks)))
    if workers == 1:
        problem.warm = True      # within a block, each draw starts from the last one
        results = _serial(problem, blocks, progress)
    else:
        options = replace(problem.options, solver=SolverName.HIGHS)
        results = _parallel((table, policy, problem.constraints, options), blocks, workers,
                            progress)
    funded = np.zeros(n, dtype=np.int64)
    amount = np.zeros(n)
    for block_funded, block_amount, _ in results:   # block order: the same sums every run
        funded += block_funded
        amount += block_amount
    objectives = np.concatenate([r[2] for r in results])
    solved = int(np.isfinite(objectives).sum())
    return Stability(
        draws=count, seed=used_seed, nominal=nominal,
        funded_share=funded / solved if solved else np.zeros(n),
        mean_amount=amount / solved if solved else np.zeros(n),
        objectives=objectives, solved=solved,
        engine="serial" if workers == 1 else "local", workers=workers,
        seconds=time.perf_counter() - started)


def _serial(problem: Problem, blocks: list[np.ndarray], progress: Progress | None
            ) -> list[BlockResult]:
    total, done = sum(len(b) for b in blocks), 0
    results = []
    with _one_thread():
        for block in blocks:
            results.append(solve_block(problem, block))
            done += len(block)
            if progress is not None:
                progress(done, total)
    return results


Inputs = tuple[Table, Policy, tuple[Constraint, ...], SolveOptions]


def _parallel(inputs: Inputs, blocks: list[np.ndarray], workers: int,
              progress: Progress | None) -> list[BlockResult]:
    total, done = sum(len(b) for b in blocks), 0
    results: list[BlockResult | None] = [None] * len(blocks)
    # spawned, as in optimizer.batch: a forked child inherits HiGHS's thread pool half-alive
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                             initargs=inputs) as pool:
        futures = {pool.submit(_worker_block, block): i for i, block in enumerate(blocks)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            done += len(blocks[index])
            if progress is not None:
                progress(done, total)
    return [r for r in results if r is not None]


def _init(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
          options: SolveOptions) -> None:
    """Build this worker's problem once; every block it takes re-solves it."""
    global _PROBLEM
    _single_threaded_highs()
    _PROBLEM = Problem(table, policy, constraints, options, warm=True)


def _worker_block(scores: np.ndarray) -> BlockResult:
    assert _PROBLEM is not None
    return solve_block(_PROBLEM, scores)
