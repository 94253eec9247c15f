"""Random instances: fundopt's optimum equals an independent scipy.optimize.milp solve, and
the plan keeps every rule (checked by code that does not reuse the model builder)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_checker import check_plan
from reference import reference_solve
from tables import make_table, policy, rule_constraint

from fundopt.models.domain import Measure, Objective, Sense
from fundopt.optimizer.problem import Problem, solve
from fundopt.optimizer.relax import solve_relaxed
from fundopt.optimizer.result import SolveStatus


@st.composite
def instances(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(3, 9))
    money = st.floats(0.5, 10, allow_nan=False).map(lambda v: round(v, 2))
    regions = draw(st.lists(st.sampled_from(["T", "H"]), min_size=n, max_size=n))
    regions[:2] = ["T", "H"]
    table = make_table(
        region=regions,
        category=draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
        max_ticket=draw(st.lists(money, min_size=n, max_size=n)),
        fund_size=draw(st.lists(st.one_of(st.just(float("nan")), money.map(lambda v: 3 * v)),
                                min_size=n, max_size=n)),
        min_ticket=draw(st.lists(st.one_of(st.just(float("nan")), st.just(0.5), money),
                                 min_size=n, max_size=n)),
        score=draw(st.lists(st.integers(0, 100), min_size=n, max_size=n)),
        risk=draw(st.lists(st.floats(0, 1).map(lambda v: round(v, 2)), min_size=n,
                           max_size=n)),
    )
    pol = policy(
        budget=draw(st.floats(3, 30).map(lambda v: round(v, 1))),
        min_deploy=draw(st.sampled_from([0.0, 0.5, 0.8])),
        max_stake=draw(st.sampled_from([None, 0.3])),
        max_single=draw(st.sampled_from([None, 0.5])),
        min_ticket=draw(st.sampled_from([0.0, 0.3])),
        max_funded=draw(st.sampled_from([None, 2, 4])),
        amount_step=draw(st.sampled_from([None, None, 0.1, 0.25])),
        objective=draw(st.sampled_from([
            Objective(), Objective(Sense.MINIMIZE, {"risk": 1.0}),
            Objective(Sense.MAXIMIZE, {"score": 0.7, "risk": -0.3}, normalize=True)])),
    )
    share = draw(st.floats(0.1, 0.6).map(lambda v: round(v, 2)))
    options = [
        rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, lo=share * 0.5, hi=share + 0.3),
        rule_constraint("c2", Measure.AVG, {"category": ["a"]}, "risk", hi=0.6),
        rule_constraint("c3", Measure.AMOUNT, {"category": ["b"]}, hi=pol.budget / 2),
        rule_constraint("c4", Measure.COUNT, {"region": ["H"]}, hi=2),
        rule_constraint("c5", Measure.SUM, None, "risk", hi=pol.budget / 3),
    ]
    chosen = draw(st.lists(st.sampled_from(options), unique_by=lambda c: c.id, max_size=4))
    return table, pol, tuple(sorted(chosen, key=lambda c: c.id))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimum_matches_scipy_milp(case: tuple) -> None:
    table, pol, cons = case
    result = solve(table, pol, cons)
    status, objective, _ = reference_solve(table.frame, pol, cons)
    if status == "infeasible":
        assert result.status is SolveStatus.INFEASIBLE
        assert result.diagnosis is not None
        if result.diagnosis.relaxation:   # the policy with every change applied holds
            problem = Problem(table, pol, cons)
            relaxed = solve_relaxed(problem, problem.solve())
            assert relaxed.is_ok, result.diagnosis
        return
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert check_plan(table.frame, pol, cons, result.amounts) == []
    assert result.committed == round(math.fsum(result.amounts), 12)
