"""``book add``: a plan enters the book only as fundopt decides it (SPEC §13).

The plan file is believed for its ids and amounts (``models.store.booking``). Everything else
is derived again here: the table and policy are read from the files it names, the amounts
are checked against every rule with the book as it is now (``optimizer.verify``, the
checker of ``fundopt verify``), and the model is solved again to confirm the plan is its
optimum. A plan that breaks the policy as written is booked only with ``--accept
relaxed``, and only if it keeps the relaxation fundopt itself suggests; a plan short of
the optimum only with ``--accept time_limit``. The round is added in the same
transaction that confirms the book has not changed since the check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from pathlib import Path

import numpy as np

import fundopt
from fundopt.errors import InputError
from fundopt.messages import Said
from fundopt.models.domain import Scope
from fundopt.models.reading.inputs import Inputs, load_inputs
from fundopt.models.reading.plan_file import amounts_by_id
from fundopt.models.store.book import Booked, NewRound, RoundInfo, now_text, open_book
from fundopt.models.store.booking import PlanClaims, read_claims
from fundopt.models.store.fund import FundView, fund_view
from fundopt.optimizer.amounts import grid
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.relax import apply_relaxation
from fundopt.optimizer.result import Relaxation
from fundopt.optimizer.verify import Verdict, check_plan

ACCEPT = ("relaxed", "time_limit")
# The plan's objective is the optimum's within this relative tolerance.
OPTIMUM_TOLERANCE = 1e-6


def book_plan(plan: Path, location: str, name: str, note: str = "",
              accept: Collection[str] = ()) -> RoundInfo:
    """Check ``plan`` again from its files and add it to the book as round ``name``.

    Parameters
    ----------
    plan
        A ``.json`` written by ``fundopt solve -o``.
    location
        The book (created by the first ``add``).
    name
        The round's name (trimmed).
    note
        Free text kept with the round.
    accept
        ``"relaxed"`` and/or ``"time_limit"``: book such plans, with that mark.

    Returns
    -------
    RoundInfo
        The round as booked.

    Raises
    ------
    InputError
        Anything in the plan or its files that does not hold; a stale plan; the same plan
        booked already; a round name in use.
    """
    name = name.strip()
    if not name:
        raise InputError(code="input.admit.empty_round", column="--round")
    claims = read_claims(plan)
    inputs = load_inputs(claims.table_path, claims.policy_path, claims.sheet)
    if inputs.table.sha256 != claims.input_sha256 or (
            claims.policy_path is not None and inputs.policy.sha256 != claims.policy_sha256):
        raise InputError(code="booking.changed_while_read", file=str(plan))   # edited meanwhile
    amounts = amounts_by_id(claims.entries, inputs.table, inputs.policy, str(plan))
    digest = plan_digest(claims, amounts)
    with open_book(location, create=True) as book:
        book.check_new(name, digest)          # the clearest refusals first
        booked = book.booked()
        view = _view(inputs, booked, claims)
        marks, relaxation, verdict, optimal, solver = _decide(inputs, amounts, view,
                                                              set(accept), str(plan))
        info = _round_info(claims, inputs, amounts, name, note, marks, relaxation, verdict,
                           optimal, solver, digest)
        rows = inputs.table.frame.iloc[np.flatnonzero(amounts > 0)].copy()
        rows.insert(0, "position", np.flatnonzero(amounts > 0))
        rows["amount"] = amounts[amounts > 0]
        return book.add(NewRound(info, rows.reset_index(drop=True)), booked.state)


def plan_digest(claims: PlanClaims, amounts: np.ndarray) -> str:
    """What makes two plans the same plan: their inputs' hashes and their amounts."""
    return hashlib.sha256(json.dumps(
        [claims.input_sha256, claims.policy_sha256, amounts.tolist()]).encode()).hexdigest()


def _view(inputs: Inputs, booked: Booked, claims: PlanClaims) -> FundView | None:
    """The book as the plan must be checked against it; a stale plan is refused."""
    state = booked.state
    if claims.solved_against is not None:
        if state != claims.solved_against:
            raise InputError(code="booking.stale",
                             values={"last": claims.solved_against.last_round or "-",
                                     "now": (state.last_round if state else None) or "-"},
                             file=str(claims.path), column="manifest.book_state")
    elif booked.rounds and any(c.rule.scope is Scope.FUND for c in inputs.constraints):
        raise InputError(code="booking.solved_without_book", file=str(claims.path))
    fund_scope = any(c.rule.scope is Scope.FUND for c in inputs.constraints)
    if not booked.rounds and not fund_scope:
        return None
    return fund_view(inputs.table, inputs.policy, inputs.constraints, booked)


def _decide(inputs: Inputs, amounts: np.ndarray, view: FundView | None, accept: set[str],
            plan: str) -> tuple[tuple[str, ...], tuple[Relaxation, ...], Verdict, bool, str]:
    """(marks, relaxation applied, verdict, proven optimal, solver) for a plan that may be
    booked; refuses any other."""
    table, policy = inputs.table, inputs.policy
    problem = Problem(table, policy, inputs.constraints, book=view)
    verdict = check_plan(table, policy, inputs.constraints, amounts, view)
    marks: list[str] = []
    relaxation: tuple[Relaxation, ...] = ()
    result = None
    if not verdict.holds:
        if "relaxed" not in accept:
            raise _broken(verdict, plan, policy.unit, "booking.breaks_policy")
        result = problem.solve()
        if result.is_ok or result.diagnosis is None or not result.diagnosis.relaxation:
            raise _broken(verdict, plan, policy.unit, "booking.breaks_feasible_policy")
        relaxation = result.diagnosis.relaxation
        relaxed = apply_relaxation(problem.constraints, relaxation)
        verdict = check_plan(table, policy, relaxed, amounts, view)
        if not verdict.holds:
            raise _broken(verdict, plan, policy.unit, "booking.breaks_relaxation")
        problem.retarget(policy, relaxed)
        marks.append("relaxed")
    if "time_limit" in accept:
        return (*marks, "time_limit"), relaxation, verdict, False, ""
    result = problem.solve()
    if not result.is_ok or result.objective is None:
        raise InputError(code="booking.no_optimum", values={"status": str(result.status)},
                         file=plan)
    loss = verdict.loss(result.objective)
    assert loss is not None
    if loss > OPTIMUM_TOLERANCE * max(1.0, abs(result.objective)):
        raise InputError(code="booking.not_optimal",
                         values={"objective": f"{verdict.objective:,.6g}",
                                 "optimum": f"{result.objective:,.6g}"},
                         file=plan)
    return tuple(marks), relaxation, verdict, True, result.solver


def _broken(verdict: Verdict, plan: str, unit: str, code: str) -> InputError:
    from fundopt.reports.terminal.verify import rule_text  # words for the broken rules

    rules = Said({"en": "; ".join(rule_text(c, unit, "en") for c in verdict.broken[:10]),
                  "zh": "；".join(rule_text(c, unit, "zh") for c in verdict.broken[:10])})
    return InputError(code=code, values={"count": len(verdict.broken), "rules": rules},
                      file=plan)


def _round_info(claims: PlanClaims, inputs: Inputs, amounts: np.ndarray, name: str,
                note: str, marks: tuple[str, ...], relaxation: tuple[Relaxation, ...],
                verdict: Verdict, optimal: bool, solver: str, digest: str) -> RoundInfo:
    policy = inputs.policy
    on = grid(policy.budget, policy.amount_step)
    funded = amounts > 0
    return RoundInfo(
        name=name, booked_at=now_text(), note=note,
        status="optimal" if optimal else "feasible", objective=verdict.objective,
        unit=policy.unit, budget=policy.budget, committed=on.total(amounts),
        funded=int(funded.sum()), input_path=str(claims.table_path),
        input_sha256=claims.input_sha256,
        policy_path=None if claims.policy_path is None else str(claims.policy_path),
        policy_sha256=claims.policy_sha256, fundopt=fundopt.__version__, solver=solver,
        planned_at=claims.planned_at, columns=tuple(str(c) for c in inputs.table.frame.columns),
        plan_sha256=digest, mark=",".join(marks),
        relaxation=tuple((r.key, r.bound, r.from_value, r.to_value) for r in relaxation),
        solved_against=None if claims.solved_against is None
        else json.dumps(claims.solved_against.as_json(), ensure_ascii=False),
    )
