"""Tests of the test oracles themselves: the OR-Library parser, the reference MILP and the
plan checker. The optimizer tests trust these, so they are checked against published
optima and hand-made cases, never against fundopt's own optimizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from orlib import Problem, load_problems, to_fundopt_input
from plan_checker import check_plan
from reference import reference_solve

from fundopt.models.domain import Constraint, Measure, Objective, Policy, Rule, Sense
from fundopt.models.reading.table import read_table
from fundopt.models.rules.expansion import expand
from fundopt.models.rules.policy import load_policy

ROOT = Path(__file__).parents[1]
FAST = ["MKNAP1-1", "MKNAP1-2", "MKNAP1-3", "MKNAP1-4", "MKNAP1-5", "MKNAP1-6", "MKNAP1-7",
        "WEING1", "WEING2", "WEING7", "WEISH01", "WEISH05", "PB1", "PB4"]


def constraint(label: str, measure: Measure, where: dict[str, list[str]] | None = None,
               column: str | None = None, lo: float | None = None,
               hi: float | None = None) -> Constraint:
    pairs = tuple((k, tuple(v)) for k, v in (where or {}).items())
    rule = Rule(label, pairs, measure, column, lo, hi, "constraints[test]")
    return Constraint(label, label, rule, pairs, measure, column, lo, hi)


def knapsack_frame(problem: Problem) -> tuple[pd.DataFrame, list[Constraint]]:
    """The problem as a frame and constraints built in code (no fundopt loader)."""
    frame = pd.DataFrame({"id": [f"P{i}" for i in range(problem.n)], "max_ticket": 1.0,
                          "min_ticket": 1.0, "score": problem.profits, "status": ""})
    cons = []
    for k in range(problem.m):
        frame[f"r{k + 1}"] = problem.weights[k]
        cons.append(constraint(f"resource {k + 1}", Measure.SUM, column=f"r{k + 1}",
                               hi=float(problem.capacities[k])))
    return frame, cons


@pytest.fixture(scope="module")
def problems() -> dict[str, Problem]:
    """The OR-Library problems by name (the test is skipped without the external data)."""
    return {p.name: p for p in load_problems()}


def sample() -> tuple[pd.DataFrame, Policy, tuple[Constraint, ...]]:
    table = read_table(ROOT / "inputs" / "2024.csv")
    policy = load_policy(ROOT / "inputs" / "2024.toml")
    return table.frame, policy, expand(policy, table)


# --- the OR-Library parser -------------------------------------------------------------

def test_parser_yields_55_problems_with_known_shapes(problems: dict[str, Problem]) -> None:
    assert len(problems) == 55
    assert sum(name.startswith("MKNAP1-") for name in problems) == 7
    shapes = {"MKNAP1-1": (6, 10, 3800), "MKNAP1-2": (10, 10, 8706.1),
              "MKNAP1-7": (50, 5, 16537), "SENTO1": (60, 30, 7772), "WEING1": (28, 2, 141278),
              "WEING7": (105, 2, 1095445), "WEISH30": (90, 5, 11191), "PB6": (40, 30, 776),
              "HP2": (35, 4, 3186)}
    for name, (n, m, optimum) in shapes.items():
        p = problems[name]
        assert (p.n, p.m, p.optimum) == (n, m, optimum), name
        assert p.weights.shape == (m, n)


def test_parser_reads_values_in_the_right_order(problems: dict[str, Problem]) -> None:
    weing1 = problems["WEING1"]
    assert weing1.profits[:3].tolist() == [1898, 440, 22507]
    assert weing1.capacities.tolist() == [600, 600]
    assert weing1.weights[0, :3].tolist() == [45, 0, 85]
    assert weing1.weights[1, -1] == 150
    first = problems["MKNAP1-1"]
    assert first.capacities.tolist() == [80, 96, 20, 36, 44, 48, 10, 18, 22, 24]


def test_to_fundopt_input_round_trips_through_the_real_loaders(
        tmp_path: Path, problems: dict[str, Problem]) -> None:
    problem = problems["WEING1"]
    csv_path = to_fundopt_input(problem, tmp_path)
    table = read_table(csv_path)
    policy = load_policy(csv_path.with_suffix(".toml"))
    cons = expand(policy, table)
    assert policy.budget == problem.n
    assert [c.label for c in cons] == ["resource 1", "resource 2"]
    status, objective, x = reference_solve(table.frame, policy, cons)
    assert status == "optimal"
    assert objective == pytest.approx(problem.optimum)
    assert x is not None
    assert check_plan(table.frame, policy, cons, x) == []


# --- the reference solve -----------------------------------------------------------------

@pytest.mark.parametrize("name", FAST)
def test_reference_reaches_published_optimum(name: str, problems: dict[str, Problem]) -> None:
    problem = problems[name]
    frame, cons = knapsack_frame(problem)
    status, objective, x = reference_solve(frame, Policy(budget=problem.n), cons)
    assert status == "optimal"
    assert objective == pytest.approx(problem.optimum, rel=1e-9)
    assert x is not None
    assert np.allclose(x, np.round(x), atol=1e-6)
    assert (problem.weights @ x <= problem.capacities + 1e-6).all()


def test_reference_hand_computed_lp() -> None:
    """a, b in T; c in H; T ≤ 60% of 10: a = 4, b = 2, c = 4 → 40 + 16 + 24 = 80."""
    frame = pd.DataFrame({"id": ["a", "b", "c"], "region": ["T", "T", "H"],
                          "max_ticket": [4.0, 5.0, 5.0], "score": [10.0, 8.0, 6.0],
                          "status": ""})
    cons = [constraint("T share", Measure.SHARE, {"region": ["T"]}, hi=0.6)]
    status, objective, x = reference_solve(frame, Policy(budget=10.0), cons)
    assert status == "optimal"
    assert objective == pytest.approx(80.0)
    assert x == pytest.approx([4.0, 2.0, 4.0])


def test_reference_avg_minimize_and_infeasible() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "max_ticket": [5.0, 5.0, 5.0],
                          "risk": [0.2, 0.5, 0.8], "score": [1.0, 2.0, 3.0], "status": ""})
    # max score with avg(risk) ≤ 0.5 over 10: a and c in equal parts beat b alone
    cons = [constraint("risk", Measure.AVG, column="risk", hi=0.5)]
    status, objective, x = reference_solve(frame, Policy(budget=10.0), cons)
    assert (status, objective) == ("optimal", pytest.approx(20.0))
    assert x is not None and x.sum() == pytest.approx(10.0)
    # minimize risk/max|risk| with at least 8 deployed: all of a, then 3 of b
    minimize = Policy(budget=10.0, min_deploy=0.8,
                      objective=Objective(Sense.MINIMIZE, {"risk": 1.0}, normalize=True))
    status, objective, x = reference_solve(frame, minimize, [])
    assert status == "optimal"
    assert objective == pytest.approx((5 * 0.2 + 3 * 0.5) / 0.8)
    # a must row whose minimum ticket exceeds its cap cannot be funded
    must = frame.assign(status=["must", "", ""], min_ticket=[6.0, np.nan, np.nan])
    assert reference_solve(must, Policy(budget=10.0), []) == ("infeasible", None, None)


# --- the plan checker on the sample ------------------------------------------------------

@pytest.fixture(scope="module")
def solved_sample() -> tuple[pd.DataFrame, Policy, tuple[Constraint, ...], np.ndarray]:
    frame, policy, cons = sample()
    status, objective, x = reference_solve(frame, policy, cons)
    assert status == "optimal" and x is not None
    assert objective == pytest.approx(2895.78, rel=1e-9)   # amount_step 0.01
    return frame, policy, cons, x


def test_reference_plan_on_the_sample_passes_check_plan(solved_sample) -> None:  # type: ignore[no-untyped-def]
    frame, policy, cons, x = solved_sample
    assert check_plan(frame, policy, cons, x) == []
    assert x.sum() == pytest.approx(policy.budget)
    assert int((x > 1e-6).sum()) == policy.max_funded


def test_check_plan_catches_a_broken_plan(solved_sample) -> None:  # type: ignore[no-untyped-def]
    frame, policy, cons, x = solved_sample
    row = {rid: i for i, rid in enumerate(frame["id"])}
    broken = x.copy()
    broken[row["HB-XA-01"]] = 0.9      # cap min(0.98, 0.3 × 2.8) = 0.84 is max_stake
    broken[row["TJ-BH-02"]] = 1.0      # a third funded sub-fund in 滨海新区
    messages = check_plan(frame, policy, cons, broken)
    assert "row HB-XA-01: amount 0.9 exceeds its cap 0.84 (max_stake)" in messages
    assert "total 41.9 exceeds the budget 40" in messages
    assert "constraint 'district 滨海新区 count': count is 3, above its max 2" in messages
    assert "26 sub-funds funded, more than max_funded 24" in messages


def test_check_plan_catches_row_rules(solved_sample) -> None:  # type: ignore[no-untyped-def]
    frame, policy, cons, x = solved_sample
    row = {rid: i for i, rid in enumerate(frame["id"])}
    broken = x.copy()
    broken[row["TJ-BH-01"]] = 0.0      # the must-fund flagship
    broken[row["HB-BD-03"]] = 0.1      # excluded, and below the 0.2 minimum ticket
    broken[row["TJ-JH-02"]] = 0.15     # cannot take its 0.2 minimum ticket under max_stake
    messages = check_plan(frame, policy, cons, broken)
    assert "row TJ-BH-01: must-fund sub-fund gets 0, not at least its minimum ticket 2" in messages
    assert "row HB-BD-03: excluded sub-fund gets 0.1" in messages
    assert "row HB-BD-03: amount 0.1 is below its minimum ticket 0.2" in messages
    assert ("row TJ-JH-02: sub-fund whose minimum ticket 0.2 exceeds its cap 0.15 gets 0.15"
            in messages)
    assert "constraint 'region 天津 share': share is 0.30375, below its min 0.4" in messages
    halved = check_plan(frame, policy, cons, x / 2)
    assert "total 20 is below min_deploy × budget 36" in halved
