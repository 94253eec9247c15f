"""Explaining the plan: why in / why out (checked by independent re-solves), the relaxed
solve of an infeasible policy, and shadow price ranges."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from plan_checker import check_plan
from tables import make_table, policy, rule_constraint
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.errors import InputError
from fundopt.models.domain import Measure, Policy, Table
from fundopt.models.reading.inputs import load_inputs
from fundopt.models.rules.expansion import with_builtins
from fundopt.optimizer.explain import explain
from fundopt.optimizer.problem import Problem, solve
from fundopt.optimizer.ranges import price_ranges
from fundopt.optimizer.relax import apply_relaxation, solve_relaxed
from fundopt.optimizer.result import Explanation, SolveStatus
from fundopt.reports.labels import label

SAMPLE = ROOT / "inputs" / "2024.csv"
runner = CliRunner()


def five_funds() -> tuple:
    """A MILP: min ticket 1, at most 3 funded, region T at most 60 % of a budget of 10."""
    table = make_table(region=["T", "T", "T", "H", "H"], max_ticket=[4, 4, 3, 4, 3],
                       score=[10, 9, 8, 7, 5])
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.6,
                            label="region T share"),)
    return table, policy(budget=10.0, min_ticket=1.0, max_funded=3), cons


def with_row(table: Table, i: int, **values: float | str) -> Table:
    frame = table.frame.copy()
    for column, value in values.items():
        frame.loc[i, column] = value
    return replace(table, frame=frame)


def test_unfunded_threshold_cost_and_displaced_match_re_solves() -> None:
    table, pol, cons = five_funds()
    base = solve(table, pol, cons)
    out = [i for i in range(5) if not base.funded[i]]
    assert out
    for i in out:
        (e,) = explain(Problem(table, pol, cons), [f"r{i + 1}"], base)
        assert not e.funded and e.column == "score" and e.threshold is not None
        # just above the threshold it is funded, just below it is not (ties excluded)
        above = solve(with_row(table, i, score=e.threshold + 1e-3), pol, cons)
        below = solve(with_row(table, i, score=e.threshold - 1e-3), pol, cons)
        assert above.funded[i] and not below.funded[i]
        # forcing it in = the must re-solve (its min ticket is 1 > 0)
        forced = solve(with_row(table, i, status="must"), pol, cons)
        assert base.objective is not None and forced.objective is not None
        assert e.objective_change == pytest.approx(base.objective - forced.objective)
        dropped = {f"r{j + 1}" for j in range(5) if base.funded[j] and not forced.funded[j]}
        assert set(e.dropped) == dropped and e.forced_amount == 1.0


def test_funded_loss_and_replacement_match_an_exclude_re_solve() -> None:
    table, pol, cons = five_funds()
    base = solve(table, pol, cons)
    i = int(np.flatnonzero(base.funded)[0])
    (e,) = explain(Problem(table, pol, cons), [f"r{i + 1}"], base)
    without = solve(with_row(table, i, status="exclude"), pol, cons)
    assert base.objective is not None and without.objective is not None
    assert e.funded and e.objective_change == pytest.approx(base.objective - without.objective)
    added = {f"r{j + 1}" for j in range(5) if without.funded[j] and not base.funded[j]}
    assert set(e.added) == added
    assert e.threshold is not None and e.threshold < e.cost
    assert not solve(with_row(table, i, score=e.threshold - 1e-3), pol, cons).funded[i]
    assert solve(with_row(table, i, score=e.threshold + 1e-3), pol, cons).funded[i]
    assert "region T share" in e.binding or "funded" in e.binding


def test_lp_row_without_min_ticket_is_forced_to_a_small_amount() -> None:
    table = make_table(region=["T", "T", "H"], max_ticket=[4, 5, 5], score=[10, 8, 6])
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.4),)
    pol = policy(budget=8.0)
    base = solve(table, pol, cons)
    assert base.funded.tolist() == [True, False, True]
    (e,) = explain(Problem(table, pol, cons), ["r2"], base)
    # by hand: b enters only if it beats a (10) inside T's 40 %: threshold 10
    assert e.threshold == pytest.approx(10.0)
    assert e.forced_amount == pytest.approx(0.008)
    assert e.objective_change == pytest.approx(0.008 * (10 - 8))
    assert e.binding == ("budget", "c1")


def test_excluded_row_and_unknown_id() -> None:
    table, pol, cons = five_funds()
    table = with_row(table, 4, status="exclude")
    e = explain_one(table, pol, cons, "r5")
    assert e.note == "excluded" and e.threshold is None
    with pytest.raises(InputError, match="not in the table"):
        explain_one(table, pol, cons, "nope")


def explain_one(table: Table, pol: Policy, cons: tuple, sub_fund: str) -> Explanation:
    problem = Problem(table, pol, cons)
    (e,) = explain(problem, [sub_fund], problem.solve())
    return e


def infeasible_sample() -> tuple:
    inputs = load_inputs(SAMPLE)
    cons = tuple(replace(c, min=0.7, max=0.8) if c.label == "region 河北 share" else c
                 for c in inputs.constraints)
    return inputs.table, inputs.policy, cons


def test_sample_with_hebei_70_and_tianjin_40_gets_a_fix_and_relaxed_plan() -> None:
    table, pol, cons = infeasible_sample()
    result = solve(table, pol, cons)
    assert result.status is SolveStatus.INFEASIBLE and result.diagnosis is not None
    (move,) = result.diagnosis.relaxation
    assert (move.constraint, move.bound, move.from_value, move.to_value) == (
        "region 河北 share", "min", 0.7, 0.6)
    assert set(result.diagnosis.conflict) == {"budget", "region 天津 share",
                                              "region 河北 share"}
    problem = Problem(table, pol, cons)
    again = solve_relaxed(problem, problem.solve())
    relaxed = problem.constraints[1:]      # the budget line first
    assert again.is_ok and again.relaxed == (move,)
    assert check_plan(table.frame, pol, relaxed, again.amounts) == []
    assert next(c for c in relaxed if c.label == "region 河北 share").min == 0.6
    audit = {c.label: c for c in again.constraints}
    assert audit["region 河北 share"].min == 0.6


def test_apply_relaxation_to_policy_scalars_and_counts() -> None:
    from fundopt.optimizer.result import Relaxation
    count = rule_constraint("c1", Measure.COUNT, None, lo=3, label="all count")
    moves = (Relaxation("min_deploy", "min", 0.9, 0.75, "min_deploy", id="budget"),
             Relaxation("max_funded", "max", 2, 2.9999999, "max_funded", id="funded"),
             Relaxation("all count", "min", 3, 1.0000001, "constraints[c1].min", id="c1"))
    pol = policy(min_deploy=0.9, max_funded=2)
    budget, funded, moved = apply_relaxation(with_builtins(pol, (count,)), moves)
    assert (budget.min, budget.written, funded.max, moved.min) == (
        0.75 * pol.budget, (0.75, pol.budget), 3, 1.0)


def test_price_ranges_by_hand() -> None:
    """a 4 (10), b 2 (8), c 4 (6), T ≤ 60 % of 10. The budget price 6 holds while c takes
    the change: budget 6 … 11 (c from 0 to its cap 5). T's price 20 (b replaces c) holds
    while the budget binds and b has room: share 0.5 (c at its cap 5) … 0.9 (b at 5)."""
    table = make_table(region=["T", "T", "H"], max_ticket=[4, 5, 5], score=[10, 8, 6])
    cons = (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, hi=0.6),)
    problem = Problem(table, policy(budget=10.0), cons)
    result = price_ranges(problem, problem.solve())
    lines = {c.id: c for c in result.constraints}
    assert (lines["budget"].price_range_low, lines["budget"].price_range_high) == (
        pytest.approx(6.0), pytest.approx(11.0))
    assert (lines["c1"].price_range_low, lines["c1"].price_range_high) == (
        pytest.approx(0.5), pytest.approx(0.9))


def test_price_range_ends_are_where_the_re_solved_slope_changes() -> None:
    table, pol, cons = five_funds()
    cons = (replace(cons[0], measure=Measure.AMOUNT, min=None, max=6.0),)
    problem = Problem(table, pol, cons)
    result = price_ranges(problem, problem.solve())
    line = next(c for c in result.constraints if c.id == "c1")
    assert line.binding and line.price_range_low is not None
    fixed = solve(table, pol, cons)

    def objective(bound: float) -> float:
        moved = solve(table, pol, (replace(cons[0], max=bound),))
        assert moved.funded.tolist() == fixed.funded.tolist()
        return float(moved.objective or 0.0)

    low, high = line.price_range_low, line.price_range_high
    assert high is not None
    inside = (objective(high) - objective(low)) / (high - low)
    assert inside == pytest.approx(line.shadow_price)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    shutil.copy(SAMPLE, tmp_path / "2024.csv")
    shutil.copy(SAMPLE.with_suffix(".toml"), tmp_path / "2024.toml")
    return tmp_path / "2024.csv"


def test_cli_relax_says_relaxed_and_writes_it(sample: Path) -> None:
    policy_file = sample.with_suffix(".toml")
    text = policy_file.read_text(encoding="utf-8").replace(
        '[region."河北"]\nmin_share = 0.4\nmax_share = 0.6',
        '[region."河北"]\nmin_share = 0.7\nmax_share = 0.8')
    policy_file.write_text(text, encoding="utf-8")
    out = sample.parent / "r.json"
    result = runner.invoke(app, ["solve", str(sample), "--relax", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "RELAXED POLICY" in result.output
    assert "region 河北 share min 70% → 60% (region.河北.min_share)" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["relaxed"] is True and data["relaxation_applied"][0]["to"] == 0.6
    assert label("relaxed.banner", "zh").startswith("已放宽政策")


def test_cli_explain_and_ranges(sample: Path) -> None:
    out = sample.parent / "e.json"
    result = runner.invoke(app, ["explain", str(sample), "TJ-BH-02", "TJ-BH-03", "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert "it would enter the plan with score above" in result.output
    assert "leaving it out lowers the objective by" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [e["id"] for e in data["explain"]] == ["TJ-BH-02", "TJ-BH-03"]
    assert data["relaxed"] is False
    ranged = runner.invoke(app, ["solve", str(sample), "--ranges", "-o", str(out)])
    assert ranged.exit_code == 0 and "shadow price ranges" in ranged.output
    budget = json.loads(out.read_text(encoding="utf-8"))["constraints"][0]
    assert budget["price_range_low"] == pytest.approx(40.0)
    assert budget["price_range_high"] > 40.0
    assert runner.invoke(app, ["explain", str(sample), "NOPE"]).exit_code == 2
    assert "Example" in runner.invoke(app, ["explain", "--help"]).output


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_ranges_sheet_says_its_units(sample: Path, lang: str) -> None:
    """The workbook's price-ranges sheet gives each shadow price with its unit in words
    and each end of its range in the bound's own format (a share in percent, an amount
    with the policy's unit), read back from the printed page; the numbers are the
    .json's, formatted here by hand."""
    import subprocess

    from openpyxl import load_workbook

    from fundopt.reports.text import say

    office = shutil.which("soffice") or shutil.which("libreoffice")
    out = sample.parent
    result = runner.invoke(app, ["solve", str(sample), "--ranges", "--lang", lang,
                                 "-o", str(out / "r.json"), "-o", str(out / "r.xlsx")])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    unit = data["unit"]
    ranged = [c for c in data["constraints"] if "price_range_low" in c]
    assert {c["measure"] for c in ranged} >= {"amount", "share"}
    sheet = load_workbook(out / "r.xlsx")[label("price_ranges", lang)]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(ranged)
    per_point = say("price.per_point", lang, price="", unit=unit, measure="").strip()
    words = [w for w in per_point.split() if w]

    def end(value: float | None, measure: str, no_end: str) -> str:
        if value is None:            # the .json writes an infinite end as null
            return no_end
        if measure == "share":
            return f"{round(value * 100, 9):g}%"
        return f"{value:,.2f} {unit}"

    shown = []
    for line, (_, _, price, low, high) in zip(ranged, rows, strict=True):
        assert isinstance(price, str) and isinstance(low, str) and isinstance(high, str)
        if line["measure"] == "share":
            assert all(w in price for w in words), price
        elif line["measure"] == "amount":
            assert unit in price, price
        assert (low, high) == (end(line["price_range_low"], line["measure"], "−∞"),
                               end(line["price_range_high"], line["measure"], "∞"))
        shown += [price, low, high]
    if office is None:
        return
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{out}/profile",
                    "--convert-to", "pdf", "--outdir", str(out), str(out / "r.xlsx")],
                   check=True, capture_output=True, timeout=300)
    page = "".join(subprocess.run(["pdftotext", str(out / "r.pdf"), "-"], check=True,
                                  capture_output=True, text=True).stdout.split())
    for text in shown:
        assert "".join(text.split()) in page, text
