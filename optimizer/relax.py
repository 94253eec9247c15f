"""Solve under the relaxed policy a diagnosis suggests (``fundopt solve --relax``).

Every ``to`` of the diagnosis's relaxation is applied to the constraint it names (matched
by its id and the key it was written under): a policy constraint's ``min``/``max``, or
the built-in lines ``min_deploy``, ``min_funded`` and ``max_funded``. The budget, ticket
bounds and ``must`` / ``exclude`` rows are never relaxed (SPEC §6).
"""

from __future__ import annotations

import math
from dataclasses import replace

from fundopt.models.domain import Constraint, Measure
from fundopt.optimizer.limit_diagnosis import relaxed_policy
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.result import Relaxation, Result

# A count bound is whole: a relaxed floor is rounded down, a relaxed cap up.
_COUNT_TOL = 1e-6


def apply_relaxation(constraints: tuple[Constraint, ...],
                     relaxation: tuple[Relaxation, ...]) -> tuple[Constraint, ...]:
    """The constraints (built-in lines included) with every suggested change applied."""
    moved = list(constraints)
    for r in relaxation:
        moved = [_moved(c, r) for c in moved]
    return tuple(moved)


def _moved(c: Constraint, r: Relaxation) -> Constraint:
    if c.id != r.id or c.keys[0 if r.bound == "min" else 1] != r.key:
        return c
    value = r.to_value
    if c.measure is Measure.COUNT:
        value = float(math.floor(value + _COUNT_TOL) if r.bound == "min"
                      else math.ceil(value - _COUNT_TOL))
    return c.with_written(r.bound, max(0.0, value) if r.bound == "min" else value)


def solve_relaxed(problem: Problem, result: Result) -> Result:
    """Re-solve an infeasible ``result`` of ``problem`` under its suggested relaxation.

    Parameters
    ----------
    problem
        What was solved; it is moved to the relaxed constraints.
    result
        Its outcome. Anything but an infeasible result with a suggested relaxation is
        returned as is, and the problem is left as it was.

    Returns
    -------
    Result
        A relaxed result lists the applied changes in ``relaxed`` and keeps the original
        diagnosis (its conflict set tells the planner which rules fought).
    """
    diagnosis = result.diagnosis
    if result.is_ok or diagnosis is None or not diagnosis.relaxation:
        return result
    problem.retarget(relaxed_policy(problem.policy, diagnosis.relaxation),
                     apply_relaxation(problem.constraints, diagnosis.relaxation))
    again = problem.solve()
    return replace(again, relaxed=diagnosis.relaxation, diagnosis=again.diagnosis or diagnosis)
