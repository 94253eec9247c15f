"""Solve under the relaxed policy a diagnosis suggests (``fundopt solve --relax``).

Every ``to`` of the diagnosis's relaxation is applied to the policy line it names: a
policy constraint's ``min``/``max`` (matched by its label and the key it was written
under), or the policy scalars ``min_deploy``, ``min_funded`` and ``max_funded``. The
budget, ticket bounds and ``must`` / ``exclude`` rows are never relaxed (SPEC §6).
"""

from __future__ import annotations

import math
from dataclasses import replace

from fundopt.models.domain import Constraint, Measure, Policy, Table
from fundopt.optimizer.result import Relaxation, Result
from fundopt.optimizer.solve import SolveOptions, solve

# A count bound is whole: a relaxed floor is rounded down, a relaxed cap up.
_COUNT_TOL = 1e-6


def apply_relaxation(policy: Policy, constraints: tuple[Constraint, ...],
                     relaxation: tuple[Relaxation, ...]
                     ) -> tuple[Policy, tuple[Constraint, ...]]:
    """The policy and constraints with every suggested change applied.

    Parameters
    ----------
    policy, constraints
        The policy as written and its expanded constraints.
    relaxation
        ``Diagnosis.relaxation`` of an infeasible solve.

    Returns
    -------
    tuple
        The relaxed policy and constraints (lines the relaxation does not name are kept).
    """
    changes: dict[str, object] = {}
    moved = list(constraints)
    for r in relaxation:
        if r.key == "min_deploy":
            changes["min_deploy"] = max(0.0, r.to_value)
        elif r.key in ("min_funded", "max_funded"):
            changes[r.key] = _whole(r.to_value, r.bound)
        else:
            moved = [_moved(c, r) for c in moved]
    return replace(policy, **changes), tuple(moved)  # type: ignore[arg-type]


def _whole(value: float, side: str) -> int:
    if side == "min":
        return max(0, math.floor(value + _COUNT_TOL))
    return math.ceil(value - _COUNT_TOL)


def _moved(c: Constraint, r: Relaxation) -> Constraint:
    key = f"{c.rule.origin}.{c.rule.min_key if r.bound == 'min' else c.rule.max_key}"
    if c.label != r.constraint or key != r.key:
        return c
    value: float = r.to_value
    if c.measure is Measure.COUNT:
        value = float(_whole(value, r.bound))
    return replace(c, min=value) if r.bound == "min" else replace(c, max=value)


def solve_relaxed(table: Table, policy: Policy, constraints: tuple[Constraint, ...],
                  result: Result, options: SolveOptions | None = None
                  ) -> tuple[Policy, tuple[Constraint, ...], Result]:
    """Re-solve an infeasible ``result`` under its suggested relaxation.

    Parameters
    ----------
    table, policy, constraints
        What was solved.
    result
        Its outcome. Anything but an infeasible result with a suggested relaxation is
        returned as is, with the policy unchanged.
    options
        Solver options for the re-solve.

    Returns
    -------
    tuple
        The policy and constraints actually solved, and the result; a relaxed result
        lists the applied changes in ``relaxed`` and keeps the original diagnosis (its
        conflict set tells the planner which rules fought).
    """
    diagnosis = result.diagnosis
    if result.is_ok or diagnosis is None or not diagnosis.relaxation:
        return policy, constraints, result
    relaxed_policy, relaxed = apply_relaxation(policy, constraints, diagnosis.relaxation)
    again = solve(table, relaxed_policy, relaxed, options)
    return relaxed_policy, relaxed, replace(again, relaxed=diagnosis.relaxation,
                                            diagnosis=again.diagnosis or diagnosis)
