"""Robust plans (SPEC §8, ``solve --robust``): the built model, transformed at matrix level.

Both criteria keep the built model whole — every policy rule, count, minimum ticket and
must/exclude row still holds — and only replace its objective by a criterion over score
scenarios s_k (one cost vector per scenario, over the commitments x):

- ``worst``: max t subject to t ≤ Σ_i s_k,i·x_i for every reviewer k (max–min);
- ``cvar:ALPHA``: the mean of the worst ALPHA share of the K equally likely scenarios,
  in Rockafellar–Uryasev's linear form: max η − 1/(ALPHA·K)·Σ_k z_k subject to
  z_k ≥ η − Σ_i s_k,i·x_i, z_k ≥ 0. At ALPHA = 1 it is the mean over the scenarios.

The new columns (t, or η and z) come after the model's own; the new rows after its rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from fundopt.errors import InputError
from fundopt.models.domain import Policy, Sense, Table
from fundopt.models.rules.uncertainty import require_uncertainty, reviewer_scores, score_draws
from fundopt.optimizer.matrix import (
    INF,
    LinearModel,
    RowKind,
    RowTag,
    append_cols,
    append_rows,
)
from fundopt.optimizer.problem import Problem, recheck
from fundopt.optimizer.report import constraint_report
from fundopt.optimizer.result import Result, Robustness


class Kind(StrEnum):
    WORST = "worst"
    CVAR = "cvar"


@dataclass(frozen=True)
class Criterion:
    """``worst``, or ``cvar`` at tail share ``alpha`` (0 < alpha ≤ 1)."""

    kind: Kind
    alpha: float = 1.0

    def __str__(self) -> str:
        return str(self.kind) if self.kind is Kind.WORST else f"cvar:{self.alpha:g}"


def parse_criterion(text: str) -> Criterion:
    """``"worst"`` or ``"cvar:0.2"`` (the ``--robust`` option).

    Raises
    ------
    InputError
        Anything else, or an ALPHA outside (0, 1].
    """
    cleaned = text.strip().lower()
    if cleaned == Kind.WORST:
        return Criterion(Kind.WORST)
    head, _, tail = cleaned.partition(":")
    alpha = None
    if head == Kind.CVAR:
        try:
            alpha = float(tail)
        except ValueError:
            alpha = None
    if alpha is None or not 0.0 < alpha <= 1.0:
        raise InputError(code="input.robust.criterion", column="--robust",
                         value=text)
    return Criterion(Kind.CVAR, alpha)


def scenarios(table: Table, policy: Policy, criterion: Criterion) -> tuple[np.ndarray, str]:
    """The score scenarios of ``criterion`` (one row per scenario) and what they are.

    Raises
    ------
    InputError
        No ``[uncertainty]`` in the policy, or ``worst`` without reviewers.
    """
    uncertainty = require_uncertainty(policy, "--robust")
    if uncertainty.reviewers:
        return reviewer_scores(table, policy), "reviewers"
    if criterion.kind is Kind.WORST:
        raise InputError(code="input.robust.worst_needs_reviewers", file=policy.source,
                         column="uncertainty.spread", value=str(uncertainty.spread))
    return score_draws(table, policy), "draws"


def robust_model(model: LinearModel, scores: np.ndarray, criterion: Criterion) -> LinearModel:
    """``model`` with its objective replaced by ``criterion`` over the rows of ``scores``.

    Parameters
    ----------
    model
        The built (maximizing) model; columns ``0..n-1`` are the commitments.
    scores
        Shape (K, n): one score vector per scenario.
    criterion
        ``worst`` or ``cvar:ALPHA``.

    Returns
    -------
    LinearModel
        Same rows and columns first; then the criterion's columns (t; or η, z_1..z_K)
        and one row per scenario (tagged as hard rows).
    """
    k, n = scores.shape
    first = model.num_cols
    if criterion.kind is Kind.WORST:
        # Σ s_k·x − t ≥ 0
        cost, lower, upper = np.array([1.0]), np.array([-INF]), np.array([INF])
        aux_cols = np.full((k, 1), first)
        aux_coefs = np.full((k, 1), -1.0)
    else:
        # Σ s_k·x − η + z_k ≥ 0
        cost = np.concatenate([[1.0], np.full(k, -1.0 / (criterion.alpha * k))])
        lower = np.concatenate([[-INF], np.zeros(k)])
        upper = np.full(k + 1, INF)
        aux_cols = np.column_stack([np.full(k, first), first + 1 + np.arange(k)])
        aux_coefs = np.column_stack([np.full(k, -1.0), np.ones(k)])
    # the commitments' scores move into the scenario rows; what columns after the binaries
    # cost (a target's shortfall penalty, SPEC §11) stays in the objective
    kept = np.where(np.arange(first) < n, 0.0, model.cost)
    grown = append_cols(replace(model, sense=Sense.MAXIMIZE, cost=kept),
                        cost, lower, upper, np.zeros(len(cost), bool))
    cols = np.hstack([np.tile(np.arange(n), (k, 1)), aux_cols])
    coefs = np.hstack([scores, aux_coefs])
    rows = [(c, v, 0.0, INF) for c, v in zip(cols, coefs, strict=True)]
    return append_rows(grown, rows, RowTag(RowKind.LINK, "robust"))


def criterion_value(totals: np.ndarray, criterion: Criterion) -> float:
    """The criterion over equally likely scenario totals Σ s_k·x (independent of the LP).

    ``worst`` is the smallest total; ``cvar:ALPHA`` the mean of the lowest ALPHA share,
    the scenario at the boundary counted with the fraction of its weight that fits.
    """
    ordered = np.sort(np.asarray(totals, dtype=float))
    if criterion.kind is Kind.WORST:
        return float(ordered[0])
    k = len(ordered)
    before = np.arange(k) / k                         # tail mass before each scenario
    weight = np.clip(criterion.alpha - before, 0.0, 1.0 / k)
    return float(weight @ ordered / criterion.alpha)


def solve_robust(problem: Problem, criterion: Criterion) -> Result:
    """Solve the nominal model and the robust one; the robust plan with its comparison.

    Parameters
    ----------
    problem
        The model built once; its main held model gives the nominal optimum, a held model
        of its own (role ``robust``) the robust plan.
    criterion
        ``worst`` or ``cvar:ALPHA``.

    Returns
    -------
    Result
        The robust plan (``objective`` is its nominal objective, the mean score) with
        ``robust`` set; or the nominal result unchanged when the nominal model has no
        plan (the robust model has the same feasible plans: same diagnosis).

    Raises
    ------
    InputError
        No ``[uncertainty]``, or ``worst`` without reviewers.
    """
    scores, kind = scenarios(problem.table, problem.policy, criterion)
    nominal = problem.solve()
    if not nominal.is_ok or nominal.objective is None:
        return nominal
    started = time.perf_counter()
    outcome = problem.run(robust_model(problem.model, scores, criterion), role="robust")
    if outcome.values is None:
        nothing = np.zeros_like(nominal.amounts)
        return replace(nominal, status=outcome.status, objective=None, robust=None,
                       amounts=nothing, funded=nothing > 0, committed=0.0, constraints=(),
                       book=problem.book_totals(nothing))
    amounts = problem.amounts(outcome.values)
    plan_objective = problem.objective(amounts)
    plan_totals, nominal_totals = scores @ amounts, scores @ nominal.amounts
    robustness = Robustness(
        criterion=str(criterion),
        value=criterion_value(plan_totals, criterion),
        nominal_objective=plan_objective,
        nominal_optimum=nominal.objective,
        price=_price(nominal.objective, plan_objective),
        nominal_plan_value=criterion_value(nominal_totals, criterion),
        scenarios=kind, count=len(scores), nominal_amounts=nominal.amounts,
        plan_totals=plan_totals, nominal_totals=nominal_totals,
    )
    # shadow prices of the robust model would be in the criterion's units: none given
    report = constraint_report(problem.built, problem.lines, amounts, None, problem.policy)
    recheck(report)
    return replace(
        nominal, status=outcome.status, objective=plan_objective, amounts=amounts,
        funded=amounts > 0, committed=problem.built.bounds.grid.total(amounts),
        gap=outcome.gap, constraints=report,
        seconds=nominal.seconds + time.perf_counter() - started,
        phases={**nominal.phases, "robust": time.perf_counter() - started},
        robust=robustness, book=problem.book_totals(amounts),
    )


def _price(optimum: float, objective: float) -> float:
    """The nominal objective given up; a difference within solver tolerance is 0."""
    price = optimum - objective
    return 0.0 if abs(price) <= 1e-9 * max(1.0, abs(optimum)) else price
