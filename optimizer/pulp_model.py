"""The model as a PuLP problem, solved by CBC through ``COIN_CMD``.

Only PuLP 4-style calls are used (``prob.add_variable``, expressions built in bulk from
zipped variables and coefficients, constraints kept in our own list rather than looked up
through the deprecated ``prob.constraints`` mapping).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from fundopt.errors import SolverError
from fundopt.models.domain import Sense
from fundopt.optimizer.matrix import LinearModel
from fundopt.optimizer.result import SolveStatus


@dataclass(frozen=True)
class PulpModel:
    problem: pulp.LpProblem
    variables: list[pulp.LpVariable]
    # For each model row, the PuLP constraints standing for it (two for a ranged row).
    rows: list[list[pulp.LpConstraint]]


def _bound(value: float) -> float | None:
    return None if np.isinf(value) else float(value)


def to_pulp(model: LinearModel, name: str = "fundopt") -> PulpModel:
    """Express ``model`` as a PuLP problem, columns and rows in the model's own order."""
    sense = pulp.LpMaximize if model.sense is Sense.MAXIMIZE else pulp.LpMinimize
    problem = pulp.LpProblem(name, sense)
    n, nb = model.n, len(model.binary_rows)
    names = [f"x{j}" for j in range(n)] + [f"y{i}" for i in model.binary_rows.tolist()]
    names += [f"v{j}" for j in range(n + nb, model.num_cols)]   # whole steps, analyses' own
    variables = [
        problem.add_variable(
            names[j], _bound(lo), _bound(hi), pulp.LpInteger if is_int else pulp.LpContinuous,
        )
        for j, (lo, hi, is_int) in enumerate(
            zip(model.col_lower.tolist(), model.col_upper.tolist(), model.integer.tolist(),
                strict=True))
    ]
    problem.setObjective(pulp.LpAffineExpression(
        (variables[j], c) for j, c in enumerate(model.cost.tolist()) if c != 0))
    rows: list[list[pulp.LpConstraint]] = []
    for r in range(model.num_rows):
        lo, hi = model.row_start_end(r)
        expr = pulp.LpAffineExpression(zip(
            (variables[j] for j in model.index[lo:hi].tolist()), model.value[lo:hi].tolist(),
            strict=True))
        rows.append(_add_row(problem, expr, model.row_lower[r], model.row_upper[r], f"r{r}"))
    return PulpModel(problem, variables, rows)


def _add_row(problem: pulp.LpProblem, expr: pulp.LpAffineExpression, lower: float,
             upper: float, name: str) -> list[pulp.LpConstraint]:
    if lower == upper:
        parts = [(pulp.LpConstraintEQ, lower, name)]
    else:
        parts = []
        if not np.isinf(lower):
            parts.append((pulp.LpConstraintGE, lower, f"{name}_lo"))
        if not np.isinf(upper):
            parts.append((pulp.LpConstraintLE, upper, f"{name}_hi"))
    made = []
    for sense, rhs, label in parts:
        constraint = pulp.LpConstraint(expr, sense=sense, rhs=float(rhs), name=label)
        problem.addConstraint(constraint)
        made.append(constraint)
    return made


def cbc_path() -> str:
    """The CBC binary installed by ``pulp[cbc]`` (cbcbox), found beside this Python."""
    found = shutil.which("cbc") or shutil.which("cbc", path=str(Path(sys.executable).parent))
    if found is None:
        raise SolverError("solver.no_cbc")
    return found


_PULP_STATUS = {
    pulp.LpSolutionOptimal: SolveStatus.OPTIMAL,
    pulp.LpSolutionIntegerFeasible: SolveStatus.FEASIBLE,
    pulp.LpSolutionInfeasible: SolveStatus.INFEASIBLE,
    pulp.LpSolutionUnbounded: SolveStatus.UNBOUNDED,
    pulp.LpSolutionNoSolutionFound: SolveStatus.NO_SOLUTION,
}


def solve_cbc(model: LinearModel, time_limit: float | None, gap: float
              ) -> tuple[SolveStatus, np.ndarray | None, np.ndarray | None]:
    """Solve with CBC. Returns status, column values and row duals (dObjective/dBound)."""
    built = to_pulp(model)
    # LPs are solved for their duals, with primal simplex: measured on a non-degenerate
    # vertex, CBC's default dual simplex reported 0 for a binding row whose dual is -0.028
    # (HiGHS and a re-solve with the bound moved agree on -0.028).
    solver = pulp.COIN_CMD(path=cbc_path(), msg=False, timeLimit=time_limit, gapRel=gap,
                           options=[] if model.is_mip else ["primalS"])
    built.problem.solve(solver)
    status = _PULP_STATUS.get(built.problem.sol_status, SolveStatus.NO_SOLUTION)
    if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return status, None, None
    values = np.array([v.varValue or 0.0 for v in built.variables])
    duals = None
    if not model.is_mip:
        # PuLP reports CBC's duals as dObjective/dRHS of the problem as stated.
        duals = np.array([sum((c.pi or 0.0) for c in row) for row in built.rows])
    return status, values, duals
