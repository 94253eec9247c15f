"""The 55 OR-Library capital-budgeting problems, each as a fundopt input, solved to the
published optimum (tests/orlib.py maps a problem to a table and a policy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from orlib import Problem, load_problems, problem_params, to_fundopt_input

from fundopt.models.reading.inputs import load_inputs
from fundopt.optimizer.problem import solve


def test_all_55_problems_are_there() -> None:
    assert len(load_problems()) == 55


@pytest.mark.parametrize("problem", problem_params())
def test_published_optimum(problem: Problem, tmp_path: Path) -> None:
    inputs = load_inputs(to_fundopt_input(problem, tmp_path))
    result = solve(inputs.table, inputs.policy, inputs.constraints)
    assert result.objective == pytest.approx(problem.optimum, abs=1e-6)
    # the plan uses whole projects and respects every resource
    assert set(result.amounts.tolist()) <= {0.0, 1.0}
    assert (problem.weights @ result.amounts <= problem.capacities + 1e-9).all()
