"""Solve the model with the chosen solver and read the outcome back into a ``Result``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from fundopt.models.domain import Constraint, Policy, Table
from fundopt.optimizer import highs
from fundopt.optimizer.build import Built, LinearModel, build, fixed_lp
from fundopt.optimizer.diagnose import diagnose
from fundopt.optimizer.highs import Algorithm, Outcome
from fundopt.optimizer.report import clean_amounts, constraint_report, policy_lines
from fundopt.optimizer.result import Diagnosis, Result, SolveStatus


class SolverName(StrEnum):
    HIGHS = "highs"
    CBC = "cbc"


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: solver, time limit in seconds, relative MIP gap, LP algorithm."""

    solver: SolverName = SolverName.HIGHS
    time_limit: float | None = None
    gap: float = 0.0
    algorithm: Algorithm = Algorithm.AUTO


def run(model: LinearModel, options: SolveOptions) -> Outcome:
    """Solve ``model`` once with the solver named in ``options``."""
    if options.solver is SolverName.CBC:
        # imported here: PuLP's import costs start-up time that HiGHS runs need not pay
        from fundopt.optimizer.pulp_model import solve_cbc

        status, values, duals = solve_cbc(model, options.time_limit, options.gap)
        return Outcome(status, values, duals, None)
    return highs.solve_highs(model, options.time_limit, options.gap, options.algorithm)


def fixed_lp_duals(built: Built, values: np.ndarray, options: SolveOptions
                   ) -> np.ndarray | None:
    """Row duals of the LP left when every binary is fixed at its optimal value
    (zero on the linking rows, which that LP turns into bounds)."""
    model = built.model
    duals = run(fixed_lp(built, values[model.n:]), options).duals
    if duals is None:
        return None
    return np.concatenate([duals, np.zeros(model.num_rows - len(duals))])


def solver_label(options: SolveOptions) -> str:
    if options.solver is SolverName.CBC:
        from importlib.metadata import version

        return f"CBC (PuLP {version('pulp')} COIN_CMD)"
    return highs.version()


def solve(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
          options: SolveOptions | None = None) -> Result:
    """Build and solve the allocation model of SPEC §4.

    Parameters
    ----------
    table, policy, constraints
        Validated inputs; ``constraints`` is ``models.policy.expand(policy, table)``.
    options
        Solver, time limit, gap and algorithm (defaults: HiGHS, no limit, gap 0).

    Returns
    -------
    Result
        Optimal (or time-limited feasible) plan with its constraint report, or an
        infeasible result carrying a ``Diagnosis``.
    """
    options = options or SolveOptions()
    started = time.perf_counter()
    built = build(table, policy, constraints)
    built_at = time.perf_counter()
    lines = policy_lines(table, policy, constraints)
    outcome = (Outcome(SolveStatus.INFEASIBLE, None, None, None) if built.infeasible_reasons
               else run(built.model, options))
    solved_at = time.perf_counter()
    phases = {"build": built_at - started, "solve": solved_at - built_at}
    if outcome.values is None:
        diagnosis = None
        if outcome.status is SolveStatus.INFEASIBLE:
            diagnosis = diagnose(built, lines, policy, options.time_limit)
        phases["diagnose"] = time.perf_counter() - solved_at
        return _empty(built, outcome.status, diagnosis, options, started, phases)
    amounts = clean_amounts(outcome.values, built.model.n, built.bounds.lower,
                            built.bounds.upper)
    duals = outcome.duals
    if built.model.is_mip:
        duals = fixed_lp_duals(built, outcome.values, options)
    report = constraint_report(built, lines, amounts, duals, policy)
    phases["duals"] = time.perf_counter() - solved_at
    return Result(
        status=outcome.status,
        objective=float(built.model.cost[: built.model.n] @ amounts),
        amounts=amounts, funded=amounts > 0, committed=float(amounts.sum()),
        constraints=report, warnings=built.warnings, solver=solver_label(options),
        seconds=time.perf_counter() - started, gap=outcome.gap, phases=phases,
    )


def _empty(built: Built, status: SolveStatus, diagnosis: Diagnosis | None,
           options: SolveOptions, started: float, phases: dict[str, float]) -> Result:
    n = built.model.n
    return Result(
        status=status, objective=None, amounts=np.zeros(n), funded=np.zeros(n, bool),
        committed=0.0, constraints=(), warnings=built.warnings, solver=solver_label(options),
        seconds=time.perf_counter() - started, diagnosis=diagnosis, phases=phases,
    )
