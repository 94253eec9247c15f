"""What ``[[limits]]`` add to the diagnosis of an infeasible policy (SPEC §11).

A limit is a bound on each selected row's commitment, not a row of the model, so the
elastic diagnosis (``optimizer.diagnose``) holds it fixed, as it holds the tickets. This
module asks the limits themselves, one policy line at a time (never one row at a time):

- a limit without which the policy is feasible takes part in the conflict, and is named
  there by its label, whatever it is written as (an expression limit is never dropped
  silently);
- a scalar of such a limit (``min_stake`` down toward 0, ``max_stake`` up toward 1) that
  alone makes the policy feasible is moved by the least amount that does, found by
  bisection, and suggested as the relaxation when it changes fewer lines than the elastic
  one (``limits[1].min_stake 0.1 → 0.08``).

Each test is one feasibility solve of the model rebuilt with the limit changed: a few
solves per limit rule, independent of the number of rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from fundopt.models.domain import Limit, Policy
from fundopt.optimizer.build import build
from fundopt.optimizer.result import Diagnosis, Relaxation, SolveStatus

if TYPE_CHECKING:
    from fundopt.optimizer.problem import Problem

# Bisection steps on a stake scalar: its suggested move is exact to 1/2^STEPS of the room.
STEPS = 10


def with_limits(problem: Problem, diagnosis: Diagnosis) -> Diagnosis:
    """``diagnosis`` with the limits that take part in the conflict named, and a single
    scalar move suggested where it changes fewer policy lines."""
    policy = problem.policy
    if not policy.limits:
        return diagnosis
    named: list[str] = []
    moves: list[Relaxation] = []
    for k, limit in enumerate(policy.limits):
        if not _feasible(problem, _replaced(policy, k, None)):
            continue
        named.append(limit.label)
        for side, loose in (("min_stake", 0.0), ("max_stake", 1.0)):
            value = getattr(limit, side)
            if value is None or value == loose:
                continue
            if not _feasible(problem, _replaced(policy, k, _with_stake(limit, side, loose))):
                continue
            to = _least_move(problem, policy, k, limit, side, value, loose)
            moves.append(Relaxation(limit.label, side, value, to, f"{limit.origin}.{side}"))
    if not named:
        return diagnosis
    conflict = (*diagnosis.conflict, *(n for n in named if n not in diagnosis.conflict))
    relaxation = diagnosis.relaxation
    if moves and (not relaxation or len(relaxation) > 1):
        relaxation = (min(moves, key=lambda m: abs(m.to_value - m.from_value)),)
    return replace(diagnosis, relaxation=relaxation, conflict=conflict)


def relaxed_policy(policy: Policy, relaxation: tuple[Relaxation, ...]) -> Policy:
    """``policy`` with every suggested move of a limit's scalar applied (``--relax``)."""
    limits = list(policy.limits)
    for r in relaxation:
        for k, limit in enumerate(limits):
            if r.key == f"{limit.origin}.{r.bound}" and r.bound in ("min_stake", "max_stake"):
                limits[k] = _with_stake(limit, r.bound, r.to_value)
    return replace(policy, limits=tuple(limits))


def _least_move(problem: Problem, policy: Policy, k: int, limit: Limit, side: str,
                value: float, loose: float) -> float:
    """The scalar closest to ``value`` (toward ``loose``) at which the policy is feasible."""
    bad, good = value, loose
    for _ in range(STEPS):
        middle = (bad + good) / 2
        if _feasible(problem, _replaced(policy, k, _with_stake(limit, side, middle))):
            good = middle
        else:
            bad = middle
    # a clean number a planner would write: the feasible end, rounded outward to 3 places
    rounded = float(np.floor(good * 1000) / 1000 if loose < value
                    else np.ceil(good * 1000) / 1000)
    return rounded if _feasible(problem, _replaced(
        policy, k, _with_stake(limit, side, rounded))) else good


def _with_stake(limit: Limit, side: str, value: float) -> Limit:
    if side == "min_stake":
        return replace(limit, min_stake=value)
    return replace(limit, max_stake=value)


def _replaced(policy: Policy, k: int, limit: Limit | None) -> Policy:
    limits = list(policy.limits)
    if limit is None:
        del limits[k]
    else:
        limits[k] = limit
    return replace(policy, limits=tuple(limits))


def _feasible(problem: Problem, policy: Policy) -> bool:
    """Whether the problem's constraints hold under ``policy`` (a zero-cost solve)."""
    book = problem.book
    built = build(problem.table, policy, problem.constraints, None,
                  None if book is None else book.follow_on,
                  None if book is None else book.follow_on_rounds)
    if built.infeasible_reasons:
        return False
    model = replace(built.model, cost=np.zeros_like(built.model.cost))
    outcome = problem.run(model, role="limits", gap=1.0)
    return outcome.status is not SolveStatus.INFEASIBLE and outcome.values is not None
