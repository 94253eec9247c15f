"""How stable each choice is under uncertain scores (SPEC §8, ``fundopt stability``).

The model is built once. Every draw (a sampled score vector, from the seed alone, made
in ``models.uncertainty``) only changes the objective costs of the held HiGHS model, which
is re-solved. Draws are solved in fixed blocks of :data:`BLOCK` draws; each block starts
from a cleared solver, so a draw's plan depends on its block alone — never on how many
workers there are or which worker took the block — and the sums are added block by block
in draw order. Serial and parallel runs give identical numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from fundopt.models.domain import Constraint, Policy, Sense, Table
from fundopt.models.uncertainty import require_uncertainty, score_draws
from fundopt.optimizer.batch import _one_thread, _single_threaded_highs
from fundopt.optimizer.build import Bounds, LinearModel, build
from fundopt.optimizer.highs import IPM_THRESHOLD, new_highs
from fundopt.optimizer.highs import _to_highs_lp as to_highs_lp
from fundopt.optimizer.report import clean_amounts
from fundopt.optimizer.result import Result
from fundopt.optimizer.solve import SolveOptions, solve

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


class HeldModel:
    """A model passed to HiGHS once; each ``solve`` changes the commitments' costs only."""

    def __init__(self, model: LinearModel, bounds: Bounds, options: SolveOptions) -> None:
        self.n = model.n
        self.bounds = bounds
        self.highs = new_highs()
        settings: dict[str, bool | float | str] = {"output_flag": False, "threads": 1,
                                                   "mip_rel_gap": options.gap}
        if options.time_limit is not None:
            settings["time_limit"] = float(options.time_limit)
        if not model.is_mip:
            # the dual simplex re-starts from the last basis after a cost change
            settings["solver"] = "simplex"
        elif model.n >= IPM_THRESHOLD:
            settings["presolve"] = "off"
        for key, value in settings.items():
            self.highs.setOptionValue(key, value)
        self.highs.passModel(to_highs_lp(model))
        self.maximize = model.sense is Sense.MAXIMIZE
        self.columns = np.arange(self.n, dtype=np.int32)

    def clear(self) -> None:
        """Forget the last solution and basis: the next solve starts afresh."""
        self.highs.clearSolver()

    def solve(self, cost: np.ndarray) -> np.ndarray | None:
        """The commitments that optimize ``cost`` (None: no plan within the limits)."""
        self.highs.changeColsCost(self.n, self.columns, np.asarray(cost, dtype=float))
        self.highs.run()
        if self.highs.getInfo().primal_solution_status != 2:   # no feasible solution
            return None
        values = np.asarray(self.highs.getSolution().col_value, dtype=float)
        return clean_amounts(values, self.n, self.bounds.lower, self.bounds.upper)


BlockResult = tuple[np.ndarray, np.ndarray, np.ndarray]

# A worker's held model, set once by the pool initializer.
_HELD: HeldModel | None = None


def solve_block(held: HeldModel, scores: np.ndarray) -> BlockResult:
    """Solve one block of draws: funded counts, amount sums (in draw order), objectives."""
    held.clear()
    funded = np.zeros(held.n, dtype=np.int64)
    amount = np.zeros(held.n)
    objectives = np.full(len(scores), np.nan)
    for j, draw in enumerate(scores):
        plan = held.solve(draw)
        if plan is None:
            continue
        funded += plan > 0
        amount += plan
        objectives[j] = float(draw @ plan)
    return funded, amount, objectives


def stability(table: Table, policy: Policy, constraints: tuple[Constraint, ...], *,
              draws: int | None = None, seed: int | None = None,
              options: SolveOptions | None = None, workers: int | None = None,
              progress: Progress | None = None) -> Stability:
    """Solve the nominal plan and one plan per draw on the model built once.

    Parameters
    ----------
    table, policy, constraints
        Validated inputs; the policy has an ``[uncertainty]`` table.
    draws, seed
        Override the policy's ``draws`` and ``seed``.
    options
        Time limit and gap (the draws are always solved with HiGHS).
    workers
        Worker processes; default every core; 1 solves in this process.
    progress
        Called with (draws done, draws in all) after each block, in this process.

    Returns
    -------
    Stability
        With empty per-draw arrays when the nominal model has no plan (see ``nominal``).

    Raises
    ------
    InputError
        The policy has no ``[uncertainty]`` table.
    """
    uncertainty = require_uncertainty(policy, "stability")
    started = time.perf_counter()
    options = options or SolveOptions()
    count = uncertainty.draws if draws is None else draws
    used_seed = uncertainty.seed if seed is None else seed
    nominal = solve(table, policy, constraints, options)
    n = len(table.frame)
    if not nominal.is_ok:
        return Stability(count, used_seed, nominal, np.zeros(n), np.zeros(n), np.zeros(0), 0,
                         "serial", 1, time.perf_counter() - started)
    scores = score_draws(table, policy, count, used_seed)
    built = build(table, policy, constraints)
    blocks = [scores[first:first + BLOCK] for first in range(0, count, BLOCK)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(blocks)))
    if workers == 1:
        results = _serial(built.model, built.bounds, options, blocks, progress)
    else:
        results = _parallel(built.model, built.bounds, options, blocks, workers, progress)
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


def _serial(model: LinearModel, bounds: Bounds, options: SolveOptions,
            blocks: list[np.ndarray], progress: Progress | None) -> list[BlockResult]:
    total = sum(len(b) for b in blocks)
    results = []
    with _one_thread():
        held = HeldModel(model, bounds, options)
        for block in blocks:
            results.append(solve_block(held, block))
            if progress is not None:
                progress(sum(len(b) for b in blocks[: len(results)]), total)
    return results


def _parallel(model: LinearModel, bounds: Bounds, options: SolveOptions,
              blocks: list[np.ndarray], workers: int, progress: Progress | None
              ) -> list[BlockResult]:
    total, done = sum(len(b) for b in blocks), 0
    results: list[BlockResult | None] = [None] * len(blocks)
    # spawned, as in optimizer.batch: a forked child inherits HiGHS's thread pool half-alive
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                             initargs=(model, bounds, options)) as pool:
        futures = {pool.submit(_worker_block, block): i for i, block in enumerate(blocks)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            done += len(blocks[index])
            if progress is not None:
                progress(done, total)
    return [r for r in results if r is not None]


def _init(model: LinearModel, bounds: Bounds, options: SolveOptions) -> None:
    global _HELD
    _single_threaded_highs()
    _HELD = HeldModel(model, bounds, options)


def _worker_block(scores: np.ndarray) -> BlockResult:
    assert _HELD is not None
    return solve_block(_HELD, scores)
