"""One allocation model, built once from the inputs and re-solved by every analysis.

``Problem`` owns the built model and the live HiGHS objects that hold it (and the views
analyses derive from it: the LP with the binaries fixed, the elastic model of the
diagnosis, the model of the alternatives). Solving, diagnosing, explaining and ranging
change bounds, costs or rows of a held model and re-solve without building it again. A
new policy over the same table (a sweep point, a relaxed policy, ``policy_changes``) is
a re-target: when only row bounds change (a constraint's min or max, ``min_deploy``,
``max_funded``) the model is moved without building it again (``build.rebound``), else
its arrays are built again — ``Problem.builds`` counts every build. The held HiGHS model
receives only what differs either way, and is passed anew only when its shape changed or
too many coefficients did (``HeldModel.passes``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from fundopt.errors import SolverError
from fundopt.models.domain import Constraint, Policy, Sense, Table
from fundopt.models.rules.expansion import Where, selection_mask
from fundopt.optimizer import highs
from fundopt.optimizer.amounts import grid, snap
from fundopt.optimizer.build import Built, build, fixed_lp, rebound
from fundopt.optimizer.held import HeldModel
from fundopt.optimizer.highs import Algorithm, Outcome
from fundopt.optimizer.matrix import LinearModel
from fundopt.optimizer.report import (
    BINDING_TOL,
    Line,
    constraint_report,
    measure,
    policy_lines,
)
from fundopt.optimizer.result import (
    BookTotals,
    ConstraintValue,
    Diagnosis,
    Result,
    SolveStatus,
)

if TYPE_CHECKING:   # the book's storage (SQLAlchemy) is imported only with --book
    from fundopt.models.store.fund import FundView


class SolverName(StrEnum):
    HIGHS = "highs"
    CBC = "cbc"


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: solver, time limit in seconds, relative MIP gap, LP algorithm, and
    whether a large MILP may race two HiGHS configurations on two cores (``race.py``)."""

    solver: SolverName = SolverName.HIGHS
    time_limit: float | None = None
    gap: float = 0.0
    algorithm: Algorithm = Algorithm.AUTO
    race: bool = True


def solver_label(options: SolveOptions) -> str:
    if options.solver is SolverName.CBC:
        from importlib.metadata import version

        return f"CBC (PuLP {version('pulp')} COIN_CMD)"
    return highs.version()


class Problem:
    """The model of SPEC §4 for one set of inputs, built once.

    Parameters
    ----------
    table, policy, constraints
        Validated inputs; ``constraints`` is ``models.rules.policy.expand(policy, table)``.
    options
        Solver, time limit, gap and algorithm (defaults: HiGHS, no limit, gap 0).
    warm
        Start each LP re-solve of the main model from the last basis (sweeps). Off, every
        solve returns what a fresh solve of the same model would.
    book
        The fund's book as this round sees it (``solve --book``): fund-scope constraints
        count the booked rounds, follow-ons have their stake cap lowered, and results
        carry the booked totals (``optimizer.fund``).

    Raises
    ------
    InputError
        What the builder rejects (a ``must`` row without a minimum ticket, …).
    """

    # Models built from a policy in this process, by every Problem: at construction and
    # at each re-target (tests count them). ``model_builds`` counts one problem's.
    builds: ClassVar[int] = 0
    # Problems constructed in this process (one per command and worker).
    created: ClassVar[int] = 0

    def __init__(self, table: Table, policy: Policy, constraints: tuple[Constraint, ...],
                 options: SolveOptions | None = None, warm: bool = False,
                 book: FundView | None = None) -> None:
        self.options = options or SolveOptions()
        self.warm = warm
        self.table = table
        self._masks: dict[Where, np.ndarray] = {}
        self.book = book
        self.model_builds = 0
        started = time.perf_counter()
        self._set(policy, constraints)
        Problem.created += 1
        self.build_seconds = time.perf_counter() - started
        self._held: dict[str, HeldModel] = {}

    def _set(self, policy: Policy, constraints: tuple[Constraint, ...]) -> None:
        follow_on = rounds = None
        if self.book is not None:
            constraints = self.book.attach(constraints)
            follow_on, rounds = self.book.follow_on, self.book.follow_on_rounds
        moved = None
        if self.model_builds:   # a re-target: only row bounds may have changed
            moved = rebound(self.built, self.table, self.policy, policy, constraints,
                            self._select)
        if moved is None:
            moved = build(self.table, policy, constraints, self._select, follow_on, rounds)
            self.model_builds += 1
            Problem.builds += 1
        self.policy: Policy = policy
        self.built: Built = moved
        self.constraints = self.built.constraints
        self.lines: list[Line] = policy_lines(self.table, self.constraints, self._select)

    def _select(self, where: Where) -> np.ndarray:
        """The rows ``where`` selects, computed once per problem (sweep points share them)."""
        if where not in self._masks:
            self._masks[where] = selection_mask(self.table, where)
        return self._masks[where]

    @property
    def model(self) -> LinearModel:
        return self.built.model

    def retarget(self, policy: Policy, constraints: tuple[Constraint, ...],
                 cold: bool = False) -> None:
        """Move to another policy over the same table (a sweep point, a relaxed policy).

        The held HiGHS objects stay: the next solve pushes only the bounds, costs and
        coefficients that differ, and passes the model anew only if its shape changed.
        ``cold`` makes the next solve start without the last basis.
        """
        self._set(policy, constraints)
        if cold:
            for held in self._held.values():
                held.start_cold()

    def held(self, role: str = "main") -> HeldModel:
        """The live HiGHS object of one role: ``main``, ``fixed`` (the LP with binaries
        fixed), ``elastic`` (diagnosis), ``alternatives``."""
        if role not in self._held:
            o = self.options
            self._held[role] = HeldModel(o.time_limit, o.gap, o.algorithm)
        return self._held[role]

    def run(self, model: LinearModel | None = None, role: str = "main",
            gap: float | None = None, start: np.ndarray | None = None) -> Outcome:
        """Solve ``model`` (default: the model as built) on the held object of ``role``;
        ``start``: a known feasible point of a MILP (HiGHS's first incumbent)."""
        model = self.model if model is None else model
        if self.options.solver is SolverName.CBC:
            # imported here: PuLP's import costs start-up time that HiGHS runs need not pay
            from fundopt.optimizer.pulp_model import solve_cbc

            status, values, duals = solve_cbc(model, self.options.time_limit,
                                              self.options.gap if gap is None else gap)
            return Outcome(status, values, duals, None)
        # plans (not the elastic or fixed-binary views) are made canonical among tied
        # optima when large MILPs, and raced when the options allow
        plan = role in ("main", "alternatives")
        return self.held(role).solve(model, gap, warm=self.warm and role == "main",
                                     plan=plan, race=plan and self.options.race, start=start)

    def amounts(self, values: np.ndarray) -> np.ndarray:
        """The commitments in a solver's column values, solver noise removed."""
        bounds = self.built.bounds
        return snap(values, self.model.n, bounds.lower, bounds.upper, bounds.grid)

    def objective(self, amounts: np.ndarray) -> float:
        return float(self.model.cost[: self.model.n] @ amounts)

    def penalised(self, amounts: np.ndarray) -> float:
        """The objective of a plan as the optimizer compares plans: with each missed
        target's cost, penalty × shortfall (SPEC §11), taken off (added when minimizing)."""
        cost = 0.0
        for line in self.lines:
            rule = line.constraint.rule
            if rule.target and rule.penalty:
                value = measure(line, amounts, self.policy.budget)
                if np.isfinite(value):
                    short = max(0.0, (line.min - value) if line.min is not None else 0.0,
                                (value - line.max) if line.max is not None else 0.0)
                    cost += rule.penalty * short
        worse = -1.0 if self.model.sense is Sense.MAXIMIZE else 1.0
        return self.objective(amounts) + worse * cost

    def solve(self) -> Result:
        """Solve the model as built.

        Returns
        -------
        Result
            Optimal (or time-limited feasible) plan with its constraint report, or an
            infeasible result carrying a ``Diagnosis``.
        """
        started = time.perf_counter()
        built = self.built
        outcome = (Outcome(SolveStatus.INFEASIBLE, None, None, None)
                   if built.infeasible_reasons else self.run())
        solved_at = time.perf_counter()
        phases = {"build": self.build_seconds, "solve": solved_at - started}
        if outcome.values is None:
            from fundopt.optimizer.diagnose import diagnose  # imports this module

            diagnosis = diagnose(self) if outcome.status is SolveStatus.INFEASIBLE else None
            if diagnosis is not None and self.policy.limits:
                from fundopt.optimizer.limit_diagnosis import with_limits

                diagnosis = with_limits(self, diagnosis)
            phases["diagnose"] = time.perf_counter() - solved_at
            return self._empty(outcome.status, diagnosis, started, phases)
        amounts = self.amounts(outcome.values)
        duals = outcome.duals
        if self.model.is_mip:
            duals = self.fixed_lp_duals(outcome.values)
        report = constraint_report(built, self.lines, amounts, duals, self.policy)
        recheck(report)
        phases["duals"] = time.perf_counter() - solved_at
        return Result(
            status=outcome.status, objective=self.objective(amounts),
            amounts=amounts, funded=amounts > 0, committed=built.bounds.grid.total(amounts),
            constraints=report, warnings=built.warnings, solver=solver_label(self.options),
            seconds=time.perf_counter() - started + self.build_seconds, gap=outcome.gap,
            phases=phases, book=self.book_totals(amounts),
        )

    def book_totals(self, amounts: np.ndarray) -> BookTotals | None:
        """The fund's book beside a plan of this round (None without ``--book``)."""
        if self.book is None:
            return None
        from fundopt.optimizer.fund import book_totals

        # the finer of this round's grid and 1e-9 of the budget: booked plans may be finer
        decimals = max(self.built.bounds.grid.decimals, grid(self.policy.budget, None).decimals)
        return book_totals(self.book, self.table, amounts, decimals)

    def fixed_lp(self, funded: np.ndarray) -> LinearModel:
        """The LP with every binary fixed as ``funded`` (bool per input row) says."""
        binaries = np.asarray(funded, dtype=float)[self.model.binary_rows]
        return fixed_lp(self.built, binaries)

    def fixed_lp_duals(self, values: np.ndarray) -> np.ndarray | None:
        """Row duals of the LP left when every binary is fixed at its value in ``values``
        (zero on the linking rows, which that LP turns into bounds)."""
        model = self.model
        lp = fixed_lp(self.built, values[model.n: model.n + len(model.binary_rows)])
        duals = self.run(lp, role="fixed").duals
        if duals is None:
            return None
        return np.concatenate([duals, np.zeros(model.num_rows - len(duals))])

    def _empty(self, status: SolveStatus, diagnosis: Diagnosis | None, started: float,
               phases: dict[str, float]) -> Result:
        n = self.model.n
        return Result(
            status=status, objective=None, amounts=np.zeros(n), funded=np.zeros(n, bool),
            committed=0.0, constraints=(), warnings=self.built.warnings,
            solver=solver_label(self.options),
            seconds=time.perf_counter() - started + self.build_seconds, diagnosis=diagnosis,
            phases=phases, book=self.book_totals(np.zeros(n)),
        )


def recheck(report: tuple[ConstraintValue, ...]) -> None:
    """The written plan (snapped to its bounds and grid) must keep every rule."""
    broken = [c for c in report if c.penalty is None    # a target may be missed (SPEC §11)
              and c.slack < -BINDING_TOL * max(1.0, abs(c.min or 0.0), abs(c.max or 0.0))]
    if broken:
        raise SolverError("solver.grid_breaks", {"rules": ", ".join(
            f"{c.label} ({c.value:g}: {c.min}..{c.max})" for c in broken)})


def solve(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
          options: SolveOptions | None = None) -> Result:
    """Build and solve the allocation model of SPEC §4 (one ``Problem``, solved once)."""
    return Problem(table, policy, constraints, options).solve()
