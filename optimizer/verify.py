"""Check a plan against every rule of its policy (``fundopt verify``, ``book add``).

A plan here is only its amounts: a committee's hand-edited sheet, or a ``solve`` result
being booked. Every rule of SPEC §4 (with the book's fund-scope parts of §9) and of the
policy language of §11 (``[[eligible]]``, ``[[limits]]``, ``funded(EXPR)``, ratios,
``groups(COL)``, targets) is evaluated on those amounts directly, without the model
builder: a plan is judged by what it commits, not by how a model would have made it.
Each rule gives a :class:`RuleCheck` (its value, its limit and whether it holds) as
data; words come from ``reports``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fundopt.models.domain import (
    EXCLUDE,
    FUND_SIZE,
    ID,
    MAX_TICKET,
    MIN_TICKET,
    MUST,
    STATUS,
    Constraint,
    Measure,
    Part,
    Policy,
    Scope,
    Sense,
    Table,
)
from fundopt.models.rules.eligibility import ineligible_rows
from fundopt.models.rules.expansion import selection_mask, with_builtins
from fundopt.models.rules.expression import column_values
from fundopt.optimizer.report import BINDING_TOL

if TYPE_CHECKING:
    from fundopt.models.reading.inputs import Inputs
    from fundopt.models.store.fund import FundView

# A bound holds within this tolerance, relative to max(1, |bound|): the tolerance within
# which solve itself re-checks every plan it writes (optimizer.report.BINDING_TOL), so a
# plan fundopt wrote is never refused by the checker of book add. Amounts are written as
# decimals: a share of 0.4 computed from them may come out 0.39999999999999997.
TOLERANCE = BINDING_TOL
# Below this fraction of the budget an amount is zero.
ZERO_FRACTION = 1e-12

# Row rules: what each row's amount must satisfy (SPEC §4, §7, §9).
ROW_RULES = ("max_ticket", "max_stake", "max_single", "min_ticket", "must", "exclude",
             "amount_step")


@dataclass(frozen=True)
class RuleCheck:
    """One rule evaluated on a plan.

    ``rule`` is a constraint id (``budget``, ``funded``, ``c3``) or a row rule of
    :data:`ROW_RULES`; ``label`` what reports call it (the constraint's label, the row
    rule's policy key); ``key`` the policy key of the bound (``region.天津.min_share``).
    ``value`` is what the plan measures and ``limit`` the bound it is held to, on
    ``side`` ("min" or "max"), both in the measure's own units; ``row`` names the row
    of a row rule. ``scope`` is "fund" when the value counts the book.
    """

    rule: str
    label: str
    key: str
    measure: str
    value: float | None
    limit: float | None
    side: str
    holds: bool
    scope: str = "round"
    row: str | None = None
    written: float | None = None     # the limit as the policy writes it (min_deploy 0.9)
    # SPEC §11: why an ineligible row is shut out (``duration_years = 18``)
    cause: str | None = None
    # SPEC §11: a target (力争) always holds; this is how far its value falls short of
    # its bound (0 when met), None for every other rule
    shortfall: float | None = None


@dataclass(frozen=True)
class Verdict:
    """Every rule checked on a plan, and the plan's objective.

    ``checks`` holds one entry per bound of every constraint (the budget, the funded
    count and each policy constraint) and, for row rules, one entry per rule kind that
    all rows keep plus one per row that breaks it.
    """

    checks: tuple[RuleCheck, ...]
    objective: float
    sense: Sense

    @property
    def broken(self) -> tuple[RuleCheck, ...]:
        return tuple(c for c in self.checks if not c.holds)

    @property
    def holds(self) -> bool:
        return not self.broken

    def loss(self, optimum: float | None) -> float | None:
        """How much worse than ``optimum`` the plan's objective is (≥ 0 for a plan that
        holds; None without an optimum)."""
        if optimum is None:
            return None
        gap = optimum - self.objective
        return gap if self.sense is Sense.MAXIMIZE else -gap


def check_plan(table: Table, policy: Policy, constraints: Sequence[Constraint],
               amounts: np.ndarray, book: FundView | None = None) -> Verdict:
    """Evaluate every rule of the policy on ``amounts``.

    Parameters
    ----------
    table, policy, constraints
        The inputs (``constraints`` as ``models.rules.policy.expand`` returns them).
    amounts
        Commitment per table row, in row order, in the policy's unit.
    book
        The fund's book as this round sees it: fund-scope constraints count its rounds
        and a follow-on's stake cap holds for its booked plus new commitment.

    Returns
    -------
    Verdict
        Per-rule results and the plan's objective.
    """
    x = np.asarray(amounts, dtype=float)
    if book is not None:
        constraints = book.attach(tuple(constraints))
    zero = ZERO_FRACTION * policy.budget
    checks = _row_checks(table, policy, x, zero, book)
    checks += _eligible_checks(table, policy, x, zero)
    checks += _limit_checks(table, policy, x, zero, book)
    for c in with_builtins(policy, tuple(constraints)):
        checks += _constraint_checks(table, policy, c, x, zero)
    return Verdict(tuple(checks), float(plan_objective(table, policy) @ x),
                   policy.objective.sense)


def plan_objective(table: Table, policy: Policy) -> np.ndarray:
    """c_i of SPEC §3 ``[objective]``: a column, or weighted columns over their max |value|."""
    frame = table.frame
    cost = np.zeros(len(frame))
    for column, weight in policy.objective.weights.items():
        values = frame[column].to_numpy(float)
        scale = np.abs(values).max() if policy.objective.normalize else 1.0
        cost += weight * (values / scale if scale > 0 else values)
    return cost


def _holds(value: float, limit: float, side: str) -> bool:
    slack = TOLERANCE * max(1.0, abs(limit))
    return value >= limit - slack if side == "min" else value <= limit + slack


def _row_checks(table: Table, policy: Policy, x: np.ndarray, zero: float,
                book: FundView | None) -> list[RuleCheck]:
    frame = table.frame
    n = len(frame)
    ids = frame[ID].astype(str).to_numpy()
    status = frame[STATUS].to_numpy() if STATUS in frame else np.full(n, "")
    funded = x > zero
    lower = np.full(n, policy.min_ticket)
    if MIN_TICKET in frame:
        lower = frame[MIN_TICKET].fillna(policy.min_ticket).to_numpy(float)
    caps: dict[str, np.ndarray] = {"max_ticket": frame[MAX_TICKET].to_numpy(float)}
    if policy.max_stake is not None and FUND_SIZE in frame:
        held = book.follow_on if book is not None else np.zeros(n)
        # a blank fund_size sets no cap; the book's commitment to the same id uses it up
        caps["max_stake"] = np.where(frame[FUND_SIZE].isna(), np.inf,
                                     policy.max_stake * frame[FUND_SIZE].to_numpy(float)
                                     - held)
    if policy.max_single is not None:
        caps["max_single"] = np.full(n, policy.max_single * policy.budget)
    tests: list[tuple[str, str, np.ndarray, np.ndarray, str]] = []   # rule, measure, limit
    for rule, cap in caps.items():
        tests.append((rule, "amount", cap, np.array([_holds(a, c, "max")
                                                     for a, c in zip(x, cap, strict=True)]),
                      "max"))
    tests.append(("min_ticket", "amount", lower,
                  ~funded | np.array([_holds(a, lo, "min")
                                      for a, lo in zip(x, lower, strict=True)]), "min"))
    tests.append(("must", "amount", np.maximum(lower, zero),
                  (status != MUST) | funded & (x >= lower - TOLERANCE * np.maximum(1, lower)),
                  "min"))
    tests.append(("exclude", "amount", np.zeros(n), (status != EXCLUDE) | ~funded, "max"))
    if policy.amount_step:
        steps = x / policy.amount_step
        on_step = np.abs(steps - np.round(steps)) <= 1e-6
        tests.append(("amount_step", "amount", np.full(n, policy.amount_step), on_step, ""))
    checks = []
    for rule, measure, limit, ok, side in tests:
        if ok.all():        # one entry for a rule every row keeps, one per row breaking it
            checks.append(RuleCheck(rule, rule, rule, measure, None, None, side, True))
        for i in np.flatnonzero(~ok):
            checks.append(RuleCheck(rule, rule, rule, measure, float(x[i]),
                                    float(limit[i]), side, False, row=str(ids[i])))
    negative = np.flatnonzero(x < 0)
    for i in negative:
        checks.append(RuleCheck("negative", "amount", "amount", "amount", float(x[i]), 0.0,
                                "min", False, row=str(ids[i])))
    return checks


def _eligible_checks(table: Table, policy: Policy, x: np.ndarray, zero: float
                     ) -> list[RuleCheck]:
    """SPEC §11 ``[[eligible]]``: a row some rule shuts out must get nothing. One entry
    when no ineligible row is funded, one per ineligible row the plan funds."""
    if not policy.eligible:
        return []
    ids = table.frame[ID].astype(str).to_numpy()
    checks = [RuleCheck("ineligible", r.rule.name, r.rule.origin, "amount", float(x[r.row]),
                        0.0, "max", False, row=str(ids[r.row]),
                        cause=f"{r.column} = {r.value}")
              for r in ineligible_rows(table, policy) if x[r.row] > zero]
    if not checks:
        checks.append(RuleCheck("ineligible", "eligible", "eligible", "amount", None, None,
                                "max", True))
    return checks


def _limit_checks(table: Table, policy: Policy, x: np.ndarray, zero: float,
                  book: FundView | None) -> list[RuleCheck]:
    """SPEC §11 ``[[limits]]``: each selected row gets x ≤ max and, if funded, x ≥ min;
    a stake is a fraction of ``fund_size`` less what the book holds for the sub-fund. A
    blank (NaN) bound binds nothing. One entry per bound every row keeps, one per row
    breaking it."""
    frame = table.frame
    n = len(frame)
    ids = frame[ID].astype(str).to_numpy()
    size = frame[FUND_SIZE].to_numpy(float) if FUND_SIZE in frame else np.full(n, np.nan)
    held = book.follow_on if book is not None else np.zeros(n)
    funded = x > zero
    checks = []
    for limit in policy.limits:
        mask = selection_mask(table, limit.where)
        bounds = (("max", "max", limit.max, None), ("min", "min", limit.min, None),
                  ("max", "max_stake", None, limit.max_stake),
                  ("min", "min_stake", None, limit.min_stake))
        for side, key, text, stake in bounds:
            if text is None and stake is None:
                continue
            bound = column_values(frame, text) if text is not None else stake * size - held
            bound = np.where(mask, bound, np.nan)
            live = ~np.isnan(bound) & (funded if side == "min" else True)
            ok = np.ones(n, dtype=bool)
            for i in np.flatnonzero(live):
                ok[i] = _holds(float(x[i]), float(bound[i]), side)
            key = f"{limit.origin}.{key}"
            if ok.all():
                checks.append(RuleCheck(f"limit_{side}", limit.label, key, "amount", None,
                                        None, side, True))
            for i in np.flatnonzero(~ok):
                checks.append(RuleCheck(f"limit_{side}", limit.label, key, "amount",
                                        float(x[i]), float(bound[i]), side, False,
                                        row=str(ids[i])))
    return checks


def _constraint_checks(table: Table, policy: Policy, c: Constraint, x: np.ndarray,
                       zero: float) -> list[RuleCheck]:
    value = measure(table, policy, c, x, zero)
    fund = c.rule.scope is Scope.FUND and c.booked is not None
    checks = []
    for side, limit, key in (("min", c.min, c.keys[0]), ("max", c.max, c.keys[1])):
        if limit is None:
            continue
        if c.measure is Measure.RATIO:     # M1 − bound·M2 ≥ 0: vacuous when M2 = 0
            holds = _ratio_holds(table, c, x, zero, limit, side)
        else:
            holds = value is None or _holds(value, limit, side)   # avg over nothing: vacuous
        shortfall = None
        if c.rule.target:                  # SPEC §11: a missed target breaks no rule
            shortfall = 0.0 if holds or value is None else abs(value - limit)
            holds = True
        # a number of districts reads as a count (5), not as a sum (5.00)
        shown = Measure.COUNT if c.measure is Measure.GROUPS else c.measure
        checks.append(RuleCheck(c.id, c.label, key, str(shown), value, limit, side,
                                holds, "fund" if fund else "round",
                                written=c.as_written(side), shortfall=shortfall))
    return checks


def measure(table: Table, policy: Policy, c: Constraint, x: np.ndarray, zero: float
            ) -> float | None:
    """What constraint ``c`` measures on ``x``, the book's part included for fund scope
    (None for an average over no money, or a ratio whose denominator is 0)."""
    mask = selection_mask(table, c.where)
    chosen = x[mask]
    part = c.booked if c.rule.scope is Scope.FUND else None
    if c.measure is Measure.RATIO:
        top, bottom = _ratio_sides(table, c, x, zero)
        return top / bottom if bottom != 0 else None
    if c.measure is Measure.FUNDED:
        assert c.column is not None
        return _part_value(table, c, Part(Measure.FUNDED, c.column), x, zero) \
            + (part.weighted if part else 0.0)
    if c.measure is Measure.GROUPS:
        assert c.column is not None
        cells = table.frame[c.column].to_numpy()[mask][chosen > zero]
        values = {str(v) for v in cells if not _blank(v)}
        return float(len(values | set(part.values if part else ())))
    amount = float(chosen.sum()) + (part.amount if part else 0.0)
    if c.measure is Measure.AMOUNT:
        return amount
    if c.measure is Measure.SHARE:
        return amount / (policy.budget + (part.total if part else 0.0))
    if c.measure is Measure.COUNT:
        ids = set(table.frame[ID].astype(str).to_numpy()[mask][chosen > zero])
        return float(len(ids | set(part.ids if part else ())))
    assert c.column is not None
    column = column_values(table.frame, c.column)[mask]
    used = chosen > zero
    weighted = float(column[used] @ chosen[used]) + (part.weighted if part else 0.0)
    if c.measure is Measure.SUM:
        return weighted
    return weighted / amount if amount > zero else None


def _ratio_sides(table: Table, c: Constraint, x: np.ndarray, zero: float
                 ) -> tuple[float, float]:
    """(M1, M2) of a ratio on ``x``, the book's sides added for fund scope."""
    assert c.rule.ratio is not None
    top, bottom = (_part_value(table, c, p, x, zero) for p in c.rule.ratio)
    if c.rule.scope is Scope.FUND and c.booked is not None:
        top, bottom = top + c.booked.sides[0], bottom + c.booked.sides[1]
    return top, bottom


def _ratio_holds(table: Table, c: Constraint, x: np.ndarray, zero: float, bound: float,
                 side: str) -> bool:
    """M1 / M2 ≥ bound as M1 − bound·M2 ≥ 0 (≤ for a max), as SPEC §11 states it."""
    top, bottom = _ratio_sides(table, c, x, zero)
    slack = TOLERANCE * max(1.0, abs(top), abs(bound * bottom))
    gap = top - bound * bottom
    return gap >= -slack if side == "min" else gap <= slack


def _part_value(table: Table, c: Constraint, part: Part, x: np.ndarray, zero: float
                ) -> float:
    """``amount``, ``count``, ``sum(EXPR)`` or ``funded(EXPR)`` over the rows ``c``
    selects. With a book, a counted side (count, funded) skips the sub-funds the book
    already holds: each sub-fund counts once over the fund's life."""
    mask = selection_mask(table, c.where)
    used = mask & (x > zero)
    if part.on_funded and c.rule.scope is Scope.FUND and c.booked is not None:
        ids = table.frame[ID].astype(str).to_numpy()
        used &= ~np.isin(ids, list(c.booked.ids))
    if part.kind is Measure.AMOUNT:
        return float(x[mask].sum())
    if part.kind is Measure.COUNT:
        return float(used.sum())
    assert part.expression is not None
    values = column_values(table.frame, part.expression)[used]
    return float(values.sum()) if part.kind is Measure.FUNDED else float(values @ x[used])


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) \
        or str(value).strip() == ""


@dataclass(frozen=True)
class VerifyRun:
    """``fundopt verify``: the inputs, the plan read back, its verdict and the optimum it
    is measured against (``optimum`` is None when the policy has none)."""

    inputs: Inputs
    amounts: np.ndarray
    verdict: Verdict
    optimum: float | None
    optimum_status: str

    @property
    def loss(self) -> float | None:
        return self.verdict.loss(self.optimum)


def verify(table: Path, plan: Path, policy: Path | None = None, book: str | None = None,
           sheet: str | None = None) -> VerifyRun:
    """Read a (hand-edited) plan and check it against every rule of its policy (SPEC §12).

    Parameters
    ----------
    table, policy, sheet
        The inputs, as ``fundopt solve`` takes them.
    plan
        ``.csv``, ``.xlsx`` (plan sheet) or ``.json``: amounts by id.
    book
        The fund's book: fund-scope rules count its rounds (it is only read).

    Raises
    ------
    InputError
        Bad inputs, or a plan with an id not in the table, an amount that is not a
        number ≥ 0 or off the step.
    """
    from fundopt.models.reading.inputs import load_inputs
    from fundopt.models.reading.plan_file import read_plan
    from fundopt.optimizer.problem import Problem

    inputs = load_inputs(table, policy, sheet)
    amounts = read_plan(plan, inputs.table, inputs.policy)
    view = None
    if book is not None:
        from fundopt.models.store.fund import read_fund

        view = read_fund(book, inputs.table, inputs.policy, inputs.constraints)
    verdict = check_plan(inputs.table, inputs.policy, inputs.constraints, amounts, view)
    best = Problem(inputs.table, inputs.policy, inputs.constraints, book=view).solve()
    return VerifyRun(inputs, amounts, verdict, best.objective if best.is_ok else None,
                     str(best.status))
