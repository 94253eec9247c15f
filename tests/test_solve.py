"""The optimizer on small cases whose optimum is known by hand, on both solvers."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from tables import loosened, make_table, policy, rule_constraint

from fundopt.models.domain import Measure, Objective, Sense
from fundopt.optimizer.highs import Algorithm
from fundopt.optimizer.problem import SolveOptions, SolverName, solve
from fundopt.optimizer.result import SolveStatus

SOLVERS = [SolveOptions(solver=SolverName.HIGHS), SolveOptions(solver=SolverName.CBC)]
IDS = ["highs", "cbc"]


def three_funds() -> tuple:
    """a, b in region T; c in H. Budget 10; T at most 60% of it.

    By hand: fill the best scores first within T ≤ 6: a = 4 (10/unit), b = 2 (8/unit),
    then c = 4 (6/unit). Objective 40 + 16 + 24 = 80. One more unit of budget goes to c
    (+6); one more unit of T's share (= 10 of money) moves 10 from c to b (+10·2 = 20).
    """
    table = make_table(region=["T", "T", "H"], max_ticket=[4, 5, 5], score=[10, 8, 6])
    share = rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.6,
                            label="region T share")
    return table, policy(budget=10.0), (share,)


@pytest.mark.parametrize("options", SOLVERS, ids=IDS)
def test_hand_computed_lp(options: SolveOptions) -> None:
    table, pol, cons = three_funds()
    result = solve(table, pol, cons, options)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(80.0)
    assert result.amounts == pytest.approx([4.0, 2.0, 4.0])
    prices = {c.id: c.shadow_price for c in result.constraints}
    assert prices["budget"] == pytest.approx(6.0)
    assert prices["c1"] == pytest.approx(20.0)
    assert all(c.binding for c in result.constraints)


@pytest.mark.parametrize("options", SOLVERS, ids=IDS)
def test_hand_computed_milp(options: SolveOptions) -> None:
    """Min ticket 3, at most two funded: {b 5, c 5} = 72.5 beats {a 4, c 5} = 70 and
    {a 3, b 3} = 55.5 (T ≤ 6 keeps a and b from both being large)."""
    table = make_table(region=["T", "T", "H"], max_ticket=[4, 5, 5], score=[10, 8.5, 6])
    share = rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.6)
    pol = policy(budget=10.0, min_ticket=3.0, max_funded=2)
    result = solve(table, pol, (share,), options)
    assert result.objective == pytest.approx(72.5)
    assert result.funded.tolist() == [False, True, True]


def test_both_solvers_agree_on_duals_of_a_minimization() -> None:
    table = make_table(region=["T", "T", "H", "H"], max_ticket=[4, 5, 5, 3],
                       risk=[0.2, 0.5, 0.7, 0.9], score=[1, 2, 3, 4])
    pol = policy(budget=10.0, min_deploy=0.8,
                 objective=Objective(Sense.MINIMIZE, {"risk": 1.0}))
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["H"]}, lo=0.5),)
    results = [solve(table, pol, cons, o) for o in SOLVERS]
    assert results[0].objective == pytest.approx(results[1].objective)
    for a, b in zip(results[0].constraints, results[1].constraints, strict=True):
        assert a.shadow_price == pytest.approx(b.shadow_price, abs=1e-9)
        assert a.shadow_price >= 0


def sign_cases() -> list:
    """LPs with binding min and max bounds of every measure, in both senses."""
    table = make_table(region=["T", "T", "H", "H", "H"], category=["a", "b", "a", "b", "b"],
                       max_ticket=[4, 5, 5, 3, 6], score=[9, 7, 6, 8, 5],
                       risk=[0.2, 0.5, 0.7, 0.9, 0.4], call=[0.3, 0.4, 0.35, 0.3, 0.4])
    maximize = [
        policy(budget=12.0, min_deploy=0.5),
        (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, lo=0.2, hi=0.55),
         rule_constraint("c2", Measure.AVG, {"category": ["b"]}, "risk", hi=0.6),
         rule_constraint("c3", Measure.SUM, None, "call", hi=4.0),
         rule_constraint("c4", Measure.AMOUNT, {"category": ["a"]}, lo=5.0))]
    minimize = [
        policy(budget=12.0, min_deploy=0.75, objective=Objective(Sense.MINIMIZE, {"risk": 1})),
        (rule_constraint("c1", Measure.SHARE, {"region": ["H"]}, lo=0.6),
         rule_constraint("c2", Measure.AVG, None, "score", lo=7.0))]
    return [(table, *maximize), (table, *minimize)]


@pytest.mark.parametrize("options", SOLVERS, ids=IDS)
@pytest.mark.parametrize("case", [0, 1], ids=["maximize", "minimize"])
def test_shadow_price_is_improvement_per_unit_loosened(options: SolveOptions, case: int) -> None:
    """The one sign convention, checked against a re-solve with the bound moved."""
    table, pol, cons = sign_cases()[case]
    base = solve(table, pol, cons, options)
    assert base.status is SolveStatus.OPTIMAL
    better = 1.0 if pol.objective.sense is Sense.MAXIMIZE else -1.0
    step = 1e-3
    checked = 0
    for line in base.constraints:
        if not line.binding or line.id == "budget":
            continue
        moved = tuple(loosened(c, line.bound or "", step) if c.id == line.id else c
                      for c in cons)
        again = solve(table, pol, moved, options)
        assert again.objective is not None and base.objective is not None
        gained = better * (again.objective - base.objective) / step
        assert line.shadow_price == pytest.approx(gained, rel=1e-3, abs=1e-6), line.label
        assert line.shadow_price >= -1e-9
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("options", SOLVERS, ids=IDS)
def test_budget_shadow_price_matches_a_bigger_budget(options: SolveOptions) -> None:
    table, pol, cons = three_funds()
    base = solve(table, pol, cons, options)
    # the share is of the budget, so hold the T amount fixed by moving to an amount bound
    amount = (rule_constraint("c1", Measure.AMOUNT, {"region": ["T"]}, hi=6.0),)
    bigger = solve(table, replace(pol, budget=10.5), amount, options)
    assert base.objective is not None and bigger.objective is not None
    budget = next(c for c in base.constraints if c.id == "budget")
    assert budget.shadow_price == pytest.approx((bigger.objective - base.objective) / 0.5)


def test_unfundable_row_gets_zero_and_a_warning() -> None:
    table = make_table(max_ticket=[4, 5], min_ticket=[6, np.nan], score=[10, 1])
    result = solve(table, policy(budget=10.0, min_ticket=1.0), ())
    assert result.amounts.tolist() == [0.0, 5.0]
    assert [(w.code, w.row_id, w.detail["blocked_by"]) for w in result.warnings] == [
        ("unfundable", "r1", "max_ticket")]


def test_ticket_equal_to_a_rounded_product_cap_is_fundable() -> None:
    # 0.3 × 3 = 0.8999999999999999 in floating point: a 0.9 ticket still fits the stake cap
    table = make_table(max_ticket=[5, 5], min_ticket=[0.9, np.nan], fund_size=[3, np.nan],
                       score=[10, 1], status=["must", ""])
    result = solve(table, policy(budget=2.0, max_stake=0.3), ())
    assert result.status is SolveStatus.OPTIMAL
    assert result.warnings == ()
    assert result.amounts[0] == pytest.approx(0.9)


def test_excluded_row_that_could_not_be_funded_gets_no_warning() -> None:
    table = make_table(max_ticket=[4, 0.5], score=[10, 1], status=["", "exclude"])
    result = solve(table, policy(budget=6.0, min_ticket=1.0), ())
    assert result.warnings == ()


def test_must_and_exclude() -> None:
    table = make_table(max_ticket=[4, 5, 5], score=[10, 1, 20],
                       status=["", "must", "exclude"])
    result = solve(table, policy(budget=6.0, min_ticket=2.0), ())
    assert result.amounts.tolist() == [4.0, 2.0, 0.0]


def test_unfundable_must_row_is_infeasible_and_explained() -> None:
    table = make_table(max_ticket=[1, 5], score=[10, 1], status=["must", ""])
    result = solve(table, policy(budget=6.0, min_ticket=2.0), ())
    assert result.status is SolveStatus.INFEASIBLE
    assert result.diagnosis is not None
    assert "r1" in result.diagnosis.messages[0].text()
    assert "max_ticket" in result.diagnosis.messages[0].text()


def test_infeasible_policy_gets_minimal_relaxation_and_conflict() -> None:
    table = make_table(region=["T", "T", "H", "H"], max_ticket=[5, 5, 5, 5],
                       score=[4, 3, 2, 1])
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["H"]}, lo=0.7, label="region H share"),
            rule_constraint("c2", Measure.SHARE, {"region": ["T"]}, lo=0.4, label="region T share"),
            rule_constraint("c3", Measure.COUNT, None, hi=4, label="count"))
    result = solve(table, policy(budget=10.0, min_ticket=1.0), cons)
    assert result.status is SolveStatus.INFEASIBLE
    diagnosis = result.diagnosis
    assert diagnosis is not None
    assert len(diagnosis.relaxation) == 1
    move = diagnosis.relaxation[0]
    assert move.bound == "min"
    # moves are compared relative to their bound: 7 → 6 (1/7) beats 4 → 3 (1/4)
    assert (move.constraint, move.from_value, move.to_value) == ("region H share", 0.7, 0.6)
    assert set(diagnosis.conflict) == {"budget", "region H share", "region T share"}
    # applying the suggestion makes the policy feasible
    fixed = tuple(replace(c, min=move.to_value) if c.label == move.constraint else c
                  for c in cons)
    assert solve(table, policy(budget=10.0, min_ticket=1.0), fixed).is_ok


def test_same_input_same_output_and_no_pulp_deprecations() -> None:
    table, pol, cons = three_funds()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        first = solve(table, pol, cons, SOLVERS[1])
        second = solve(table, pol, cons, SOLVERS[1])
    assert np.array_equal(first.amounts, second.amounts)
    assert first.constraints == second.constraints


def test_large_lp_takes_interior_point_and_agrees_with_simplex() -> None:
    """From 5 000 rows an LP goes to IPM without presolve; same optimum and prices."""
    rng = np.random.default_rng(7)
    n = 6000
    table = make_table(region=rng.choice(["T", "H"], n).tolist(),
                       max_ticket=rng.uniform(0.5, 5, n).round(2).tolist(),
                       score=rng.integers(1, 100, n).tolist(),
                       risk=rng.uniform(0, 1, n).round(2).tolist())
    pol = policy(budget=2000.0)
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.45),
            rule_constraint("c2", Measure.AVG, None, "risk", hi=0.4))
    fast = solve(table, pol, cons)
    slow = solve(table, pol, cons, SolveOptions(algorithm=Algorithm.SIMPLEX))
    assert fast.objective == pytest.approx(slow.objective, rel=1e-9)
    for a, b in zip(fast.constraints, slow.constraints, strict=True):
        assert a.shadow_price == pytest.approx(b.shadow_price, rel=1e-6, abs=1e-9)


def test_milp_shadow_prices_bracket_resolves_of_the_sample() -> None:
    """For the sample MILP, each finite shadow price (from the LP with the funded set
    fixed) is a true marginal value: loosening that bound alone gains at most the price,
    tightening it costs at least the price (the sample's optimum is degenerate: 天津 min,
    河北 max and the budget bind together, so the split of the price among them is one of
    several valid ones), and where the optimum is not degenerate the two agree."""
    from conftest import ROOT

    from fundopt.models.reading.inputs import load_inputs

    inputs = load_inputs(ROOT / "inputs" / "2024.csv")
    # continuous amounts: with amount_step every re-solve moves by whole steps, and the
    # price (of the LP with the funded set fixed) is a rate, not a step's worth
    inputs = replace(inputs, policy=replace(inputs.policy, amount_step=None))
    base = solve(inputs.table, inputs.policy, inputs.constraints)
    assert base.objective is not None
    step, exact = 1e-4, 0
    for line in base.constraints:
        if not line.binding or line.id in ("budget", "funded") or np.isnan(line.shadow_price):
            continue
        gains = []
        for sign in (1, -1):
            moved = tuple(loosened(c, line.bound or "", sign * step) if c.id == line.id else c
                          for c in inputs.constraints)
            again = solve(inputs.table, inputs.policy, moved)
            assert again.objective is not None
            gains.append(sign * (again.objective - base.objective) / step)
        loosen, tighten = gains
        assert loosen <= line.shadow_price + 1e-3, line.label
        assert line.shadow_price <= tighten + 1e-3, line.label
        exact += abs(loosen - line.shadow_price) <= 1e-3 * max(1, line.shadow_price)
    assert exact >= 3
