"""Contract sums and clean numbers (SPEC §7): amount_step makes an exact integer model,
amounts are written as the decimals they stand for, committed is their exact sum."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from plan_checker import check_plan
from reference import reference_solve
from tables import make_table, policy
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.reading.inputs import load_inputs
from fundopt.optimizer.amounts import grid, snap
from fundopt.optimizer.problem import solve

SAMPLE = ROOT / "inputs" / "2024.csv"


def test_sample_amounts_are_whole_steps_and_match_an_integer_model(tmp_path: Path) -> None:
    inputs = load_inputs(SAMPLE)
    assert inputs.policy.amount_step == 0.01
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(app, ["solve", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    # read as written: every amount a decimal with at most two places
    data = json.loads(out.read_text(encoding="utf-8"), parse_float=Decimal)
    amounts = [a["amount"] for a in data["allocations"]]
    assert all(Decimal(a) == Decimal(a).quantize(Decimal("0.01")) for a in amounts)
    assert Decimal(data["committed"]) == sum(Decimal(a) for a in amounts)
    status, objective, _ = reference_solve(inputs.table.frame, inputs.policy,
                                           inputs.constraints)
    assert status == "optimal"
    assert float(data["objective"]) == pytest.approx(objective, rel=1e-9)
    x = np.array([float(a) for a in amounts])
    assert check_plan(inputs.table.frame, inputs.policy, inputs.constraints, x) == []


def test_stepped_bounds_round_inwards_and_block_a_row_with_no_whole_step() -> None:
    """Row 2's ticket must lie in [0.31, 0.38]: no multiple of 0.1 does, so it is blocked
    with the usual warning; row 1's cap 2.57 becomes 2.5."""
    table = make_table(max_ticket=[2.57, 0.38, 5.0], min_ticket=[0.5, 0.31, 1.0],
                       score=[10.0, 100.0, 1.0])
    result = solve(table, policy(budget=3.0, amount_step=0.1), ())
    assert result.amounts.tolist() == [2.5, 0.0, 0.0]
    assert [w.row_id for w in result.warnings] == ["r2"]
    assert result.committed == 2.5


@pytest.mark.parametrize(("budget", "step", "decimals"), [
    (40.0, 0.01, 2), (40.0, 0.25, 2), (10.0, 5.0, 0), (40.0, None, 8), (2.0e4, None, 5),
])
def test_grid_decimals(budget: float, step: float | None, decimals: int) -> None:
    on = grid(budget, step)
    assert on.decimals == decimals
    noisy = np.array([3, 3, 3]) * (step or 0.07) * (1 + 1e-13)     # 0.21000000000000002 …
    assert on.total(on.round(noisy)) == round(3 * 3 * (step or 0.07), decimals)


def test_a_tolerance_sliver_below_half_a_minimum_ticket_is_not_funded() -> None:
    """A MIP's tolerances let x = 1e-8 through with its binary at 0: that row is not
    funded (snapping it up to its minimum ticket once broke the budget and max_funded in a
    400-point sweep); 0.720001 against a 0.72 cap is put back to the cap."""
    lower, upper = np.array([0.2, 0.2, 0.0]), np.array([1.0, 0.72, 1.0])
    amounts = snap(np.array([1e-8, 0.720001, 3e-10]), 3, lower, upper, grid(40.0, None))
    assert amounts.tolist() == [0.0, 0.72, 0.0]
