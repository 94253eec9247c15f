"""Near-optimal alternatives: distinct funded sets, each a valid plan, each within the gap."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from plan_checker import check_plan
from tables import make_table, policy, rule_constraint
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.domain import Measure
from fundopt.models.reading.inputs import load_inputs
from fundopt.optimizer.alternatives import alternatives
from fundopt.optimizer.problem import Problem

SAMPLE = ROOT / "inputs" / "2024.csv"


def assert_valid(table, pol, cons, base, found, within: float) -> None:  # type: ignore[no-untyped-def]
    sets = {tuple(np.flatnonzero(base.funded))}
    ids = table.frame["id"].to_numpy()
    for rank, alt in enumerate(found, start=1):
        assert alt.rank == rank
        assert check_plan(table.frame, pol, cons, alt.amounts) == []
        assert alt.objective >= base.objective * (1 - within / 100) - 1e-7
        assert alt.objective == pytest.approx(float(table.frame["score"] @ alt.amounts))
        funded = alt.amounts > 0
        key = tuple(np.flatnonzero(funded))
        assert key not in sets
        sets.add(key)
        assert set(alt.added) == set(ids[funded & ~base.funded])
        assert set(alt.dropped) == set(ids[base.funded & ~funded])
    objectives = [a.objective for a in found]
    assert objectives == sorted(objectives, reverse=True)


def test_milp_alternatives_are_distinct_valid_ranked_and_within_the_gap() -> None:
    table = make_table(region=["T", "T", "T", "H", "H", "H"], max_ticket=[4, 4, 3, 4, 3, 3],
                       score=[10, 9.5, 9, 8, 7.5, 7])
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.6),)
    pol = policy(budget=10.0, min_ticket=1.0, max_funded=3)
    problem = Problem(table, pol, cons)
    base = problem.solve()
    found = alternatives(problem, base, 4, 5.0)
    assert len(found) == 3   # only three other funded sets are within 5 %
    assert_valid(table, pol, cons, base, found, 5.0)


def test_lp_rows_get_binaries_so_funded_sets_differ() -> None:
    table = make_table(region=["T", "T", "H", "H"], max_ticket=[5, 5, 5, 5],
                       score=[4, 3.9, 2, 1.95])
    pol = policy(budget=6.0)
    problem = Problem(table, pol, ())
    base = problem.solve()
    assert not any(np.isnan(base.amounts))
    found = alternatives(problem, base, 3, 10.0)
    assert found
    assert_valid(table, pol, (), base, found, 10.0)


def test_a_tight_gap_leaves_no_alternative() -> None:
    table = make_table(max_ticket=[5, 5], score=[10, 1])
    pol = policy(budget=5.0, min_ticket=1.0, max_funded=1)
    problem = Problem(table, pol, ())
    assert alternatives(problem, problem.solve(), 3, 1.0) == ()


def test_sample_alternatives_within_one_percent() -> None:
    inputs = load_inputs(SAMPLE)
    problem = Problem(inputs.table, inputs.policy, inputs.constraints)
    base = problem.solve()
    found = alternatives(problem, base, 3, 1.0)
    assert len(found) == 3
    assert_valid(inputs.table, inputs.policy, inputs.constraints, base, found, 1.0)


def test_cli_alternatives_reach_json_and_workbook(tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "2024.csv")
    shutil.copy(SAMPLE.with_suffix(".toml"), tmp_path / "2024.toml")
    out = tmp_path / "r.json"
    book = tmp_path / "r.xlsx"
    result = CliRunner().invoke(app, ["solve", str(tmp_path / "2024.csv"), "--alternatives",
                                      "2", "--within", "1%", "-o", str(out), "-o", str(book),
                                      "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "近似最优备选方案" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [a["rank"] for a in data["alternatives"]] == [1, 2]
    assert all(a["gap"] <= 0.01 for a in data["alternatives"])
    from openpyxl import load_workbook
    names = load_workbook(book, read_only=True).sheetnames
    assert "近似最优备选方案" in names and "诊断" not in names  # named for what it holds


def test_within_is_written_like_the_policy_and_none_found_is_said() -> None:
    from typer.testing import CliRunner

    from fundopt.cli import app

    table = str(Path(__file__).parent.parent / "inputs" / "2024.csv")
    runner = CliRunner()
    none = runner.invoke(app, ["solve", table, "--alternatives", "3", "--within", "0.0001"])
    assert none.exit_code == 0 and "no other funded set within 0.0001 of the optimum" in \
        " ".join(none.output.split())
    for bad in ("5", "-1%", "x"):
        refused = runner.invoke(app, ["solve", table, "--alternatives", "1", "--within", bad])
        assert refused.exit_code == 2 and "0.01 or 1%" in refused.output, bad
