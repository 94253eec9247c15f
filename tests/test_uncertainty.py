"""Uncertain scores (SPEC §8): the [uncertainty] policy table, the draws, the robust models
against independent formulations, and stability."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cluster import scheduler_address
from plan_checker import check_plan
from reference import reference_max_min, reference_solve
from tables import make_table, policy, rule_constraint

from fundopt.errors import InputError
from fundopt.models.domain import Measure, Objective, Policy, Sense, Table, Uncertainty
from fundopt.models.rules.policy import load_policy
from fundopt.models.rules.uncertainty import check_uncertainty, require_uncertainty, score_draws
from fundopt.optimizer.build import build
from fundopt.optimizer.engines import open_engine
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.robust import (
    Criterion,
    Kind,
    criterion_value,
    parse_criterion,
    robust_model,
    solve_robust,
)
from fundopt.optimizer.stability import stability

REVIEWERS = ("r1", "r2", "r3", "r4")


def instance(seed: int, n: int = 8, identical: bool = False
             ) -> tuple[Table, Policy, tuple]:
    """A small random round: 4 reviewers, minimum tickets, a region share floor and a
    funded-count cap, so the models are MILPs with binding rules."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(50, 90, n)
    panel = {r: (base if identical else base + rng.uniform(-15, 15, n)).round(1)
             for r in REVIEWERS}
    table = make_table(
        max_ticket=rng.uniform(1.0, 3.0, n).round(2),
        min_ticket=np.where(rng.random(n) < 0.5, 0.5, np.nan),
        region=["T" if i % 2 else "H" for i in range(n)],
        **panel,
    )
    frame = table.frame
    for r in REVIEWERS:
        frame[r] = frame[r].astype(float)
    table = Table(table.path, frame, table.source_rows, table.headers,
                  table.numeric_columns | set(REVIEWERS), table.sha256)
    pol = policy(budget=6.0, min_deploy=0.8, min_ticket=0.3, max_funded=n - 3,
                 objective=Objective(Sense.MAXIMIZE, {r: 0.25 for r in REVIEWERS}),
                 uncertainty=Uncertainty(reviewers=REVIEWERS, draws=60, seed=seed))
    constraints = (rule_constraint("c1", Measure.SHARE, {"region": ["T"]}, lo=0.3),)
    return table, pol, constraints


def panel_matrix(table: Table) -> np.ndarray:
    return np.vstack([table.frame[r].to_numpy(float) for r in REVIEWERS])


@pytest.mark.parametrize("seed", range(6))
def test_worst_matches_max_min_milp(seed: int) -> None:
    table, pol, constraints = instance(seed)
    result = solve_robust(Problem(table, pol, constraints), Criterion(Kind.WORST))
    scores = panel_matrix(table)
    status, value, _ = reference_max_min(table.frame, pol, constraints, scores)
    assert status == "optimal"
    assert result.robust is not None
    assert result.robust.value == pytest.approx(value, rel=1e-7)
    assert result.robust.value == pytest.approx(float((scores @ result.amounts).min()))
    assert check_plan(table.frame, pol, constraints, result.amounts) == []


def test_worst_with_contract_units_matches_max_min_milp() -> None:
    """With amount_step the commitments are whole steps; the robust rows still hold x."""
    table, pol, constraints = instance(4)
    pol = replace(pol, amount_step=0.1)
    result = solve_robust(Problem(table, pol, constraints), Criterion(Kind.WORST))
    status, value, _ = reference_max_min(table.frame, pol, constraints, panel_matrix(table))
    assert status == "optimal" and result.robust is not None
    assert result.robust.value == pytest.approx(value, rel=1e-7)
    steps = result.amounts / 0.1
    assert np.allclose(steps, np.round(steps))
    assert check_plan(table.frame, pol, constraints, result.amounts) == []


@pytest.mark.parametrize(("seed", "worst"), [(s, m) for s in range(4) for m in (1, 2, 3)])
def test_cvar_matches_enumerated_worst_scenarios(seed: int, worst: int) -> None:
    """CVaR at ALPHA = m/K is the best plan's mean over its m worst reviewers: max t with
    t ≤ the mean over every subset of m reviewers (all C(K, m) of them, enumerated)."""
    table, pol, constraints = instance(seed)
    scores = panel_matrix(table)
    subsets = [scores[list(s)].mean(axis=0)
               for s in itertools.combinations(range(len(REVIEWERS)), worst)]
    status, value, _ = reference_max_min(table.frame, pol, constraints, np.vstack(subsets))
    assert status == "optimal"
    criterion = Criterion(Kind.CVAR, worst / len(REVIEWERS))
    result = solve_robust(Problem(table, pol, constraints), criterion)
    assert result.robust is not None
    assert result.robust.value == pytest.approx(value, rel=1e-7)
    totals = np.sort(scores @ result.amounts)
    assert result.robust.value == pytest.approx(totals[:worst].mean())
    assert check_plan(table.frame, pol, constraints, result.amounts) == []


@pytest.mark.parametrize("seed", range(4))
def test_price_is_never_negative_and_the_robust_plan_wins_its_criterion(seed: int) -> None:
    table, pol, constraints = instance(seed)
    for criterion in (Criterion(Kind.WORST), Criterion(Kind.CVAR, 0.3),
                      Criterion(Kind.CVAR, 0.5)):
        robust = solve_robust(Problem(table, pol, constraints), criterion).robust
        assert robust is not None
        assert robust.nominal_optimum - robust.nominal_objective >= -1e-7
        assert robust.price >= 0.0
        assert robust.price == pytest.approx(robust.nominal_optimum - robust.nominal_objective,
                                             abs=1e-6)
        assert robust.value >= robust.nominal_plan_value - 1e-7


@pytest.mark.parametrize("seed", range(4))
def test_cvar_one_is_the_nominal_mean_score_optimum(seed: int) -> None:
    table, pol, constraints = instance(seed)
    result = solve_robust(Problem(table, pol, constraints), Criterion(Kind.CVAR, 1.0))
    status, objective, _ = reference_solve(table.frame, pol, constraints)
    assert status == "optimal"
    assert result.robust is not None
    assert result.robust.value == pytest.approx(objective, rel=1e-7)
    assert result.robust.nominal_optimum == pytest.approx(objective, rel=1e-7)
    assert result.robust.price == pytest.approx(0.0, abs=1e-6)


def test_worst_is_cvar_at_one_reviewer() -> None:
    table, pol, constraints = instance(11)
    worst = solve_robust(Problem(table, pol, constraints), Criterion(Kind.WORST)).robust
    tail = solve_robust(Problem(table, pol, constraints), Criterion(Kind.CVAR, 0.25)).robust
    assert worst is not None and tail is not None
    assert worst.value == pytest.approx(tail.value, rel=1e-7)


def test_criterion_value_weights_the_boundary_scenario() -> None:
    totals = np.array([4.0, 1.0, 3.0, 2.0])
    assert criterion_value(totals, Criterion(Kind.WORST)) == 1.0
    assert criterion_value(totals, Criterion(Kind.CVAR, 0.5)) == pytest.approx(1.5)
    assert criterion_value(totals, Criterion(Kind.CVAR, 1.0)) == pytest.approx(2.5)
    # 0.375 = one scenario and half of the next: (1·0.25 + 2·0.125) / 0.375
    assert criterion_value(totals, Criterion(Kind.CVAR, 0.375)) == pytest.approx(4 / 3)


def test_robust_model_keeps_every_base_row_and_column() -> None:
    table, pol, constraints = instance(3)
    built = build(table, pol, constraints)
    model = robust_model(built.model, panel_matrix(table), Criterion(Kind.CVAR, 0.5))
    base = built.model
    assert model.num_rows == base.num_rows + len(REVIEWERS)
    assert len(model.cost) == len(base.cost) + 1 + len(REVIEWERS)
    end = int(base.start[-1])
    assert np.array_equal(model.index[:end], base.index)
    assert np.array_equal(model.value[:end], base.value)
    assert np.array_equal(model.integer[: len(base.cost)], base.integer)


def test_robust_with_spread_uses_the_draws() -> None:
    table, pol, constraints = instance(5)
    frame = table.frame
    frame["sd"] = np.linspace(0.0, 10.0, len(frame))
    table = Table(table.path, frame, table.source_rows, table.headers,
                  table.numeric_columns | {"sd"}, table.sha256)
    pol = policy(budget=6.0, min_deploy=0.8, min_ticket=0.3, max_funded=5,
                 objective=Objective(Sense.MAXIMIZE, {"r1": 1.0}),
                 uncertainty=Uncertainty(spread="sd", draws=40, seed=3))
    result = solve_robust(Problem(table, pol, constraints), Criterion(Kind.CVAR, 0.25))
    assert result.robust is not None and result.robust.scenarios == "draws"
    draws = score_draws(table, pol)
    assert result.robust.count == 40
    assert result.robust.value == pytest.approx(
        criterion_value(draws @ result.amounts, Criterion(Kind.CVAR, 0.25)))
    assert result.robust.price >= 0.0
    with pytest.raises(InputError, match="worst needs reviewers"):
        solve_robust(Problem(table, pol, constraints), Criterion(Kind.WORST))


def test_parse_criterion() -> None:
    assert parse_criterion("worst") == Criterion(Kind.WORST)
    assert parse_criterion(" CVaR:0.2 ") == Criterion(Kind.CVAR, 0.2)
    assert str(parse_criterion("cvar:1")) == "cvar:1"
    for bad in ("cvar:1.5", "cvar:0", "cvar:", "cvar:x", "best", "cvar"):
        with pytest.raises(InputError):
            parse_criterion(bad)


def test_draws_depend_on_the_seed_only() -> None:
    table, pol, _ = instance(1)
    first = score_draws(table, pol)
    assert first.shape == (60, len(table.frame))
    assert np.array_equal(first, score_draws(table, pol))
    assert not np.array_equal(first, score_draws(table, pol, seed=2))
    panel = panel_matrix(table)
    assert ((first[:, None, :] == panel[None, :, :]).any(axis=1)).all()   # a reviewer's score
    # every reviewer is drawn for some row: a bootstrap over the panel, not one reviewer
    chosen = (first[:, None, :] == panel[None, :, :]).any(axis=2).sum(axis=0)
    assert (chosen > 0).all()


def test_spread_draws_are_truncated_at_zero() -> None:
    table = make_table(max_ticket=[1.0, 1.0], score=[1.0, 50.0], sd=[5.0, 0.0])
    table = Table(table.path, table.frame, table.source_rows, table.headers,
                  table.numeric_columns | {"sd"}, table.sha256)
    pol = policy(uncertainty=Uncertainty(spread="sd", draws=500, seed=1))
    draws = score_draws(table, pol)
    assert draws.min() == 0.0 and (draws[:, 0] == 0).any()
    assert (draws[:, 1] == 50.0).all()
    assert 1.0 < draws[:, 0].mean() < 3.5   # E[max(0, 1 + 5 Z)] ≈ 2.5


def test_stability_of_identical_reviewers_is_core_or_out() -> None:
    table, pol, constraints = instance(7, identical=True)
    run = stability(Problem(table, pol, constraints), draws=40, workers=1)
    assert run.solved == 40
    assert set(run.groups()) <= {"core", "out"}
    assert np.array_equal(run.groups() == "core", run.nominal.funded)
    assert run.nominal.objective is not None
    assert np.allclose(run.objectives, run.nominal.objective)


def test_stability_on_the_dask_cluster_equals_serial() -> None:
    """The same draws, the same numbers, on the test cluster (.ci/run starts it)."""
    address = scheduler_address()
    table, pol, constraints = instance(2)
    one = stability(Problem(table, pol, constraints), draws=60, workers=1)
    with open_engine(scheduler=address) as engine:
        dask = stability(Problem(table, pol, constraints), draws=60, engine=engine)
    assert dask.engine == "dask"
    assert np.array_equal(one.funded_share, dask.funded_share)
    assert np.array_equal(one.mean_amount, dask.mean_amount)
    assert np.array_equal(one.objectives, dask.objectives, equal_nan=True)


def test_stability_is_identical_for_any_number_of_workers() -> None:
    table, pol, constraints = instance(2)
    one = stability(Problem(table, pol, constraints), draws=60, workers=1)
    two = stability(Problem(table, pol, constraints), draws=60, workers=2)
    assert one.engine == "serial" and two.engine == "local"
    assert np.array_equal(one.funded_share, two.funded_share)
    assert np.array_equal(one.mean_amount, two.mean_amount)
    assert np.array_equal(one.objectives, two.objectives)
    # each draw's plan is that draw's optimum: compare a few with fresh solves
    draws = score_draws(table, pol, 60)
    for j in (0, 31, 59):
        status, best, _ = _solve_with_costs(table, pol, constraints, draws[j])
        assert status == "optimal"
        assert one.objectives[j] == pytest.approx(best, rel=1e-7)
    assert 0.0 <= one.funded_share.min() and one.funded_share.max() <= 1.0


def _solve_with_costs(table: Table, pol: Policy, constraints: tuple, costs: np.ndarray
                      ) -> tuple[str, float | None, np.ndarray | None]:
    """The independent reference solve with ``costs`` as the objective column."""
    frame = table.frame.copy()
    frame["drawn"] = costs
    drawn = replace(pol, objective=Objective(Sense.MAXIMIZE, {"drawn": 1.0}))
    return reference_solve(frame, drawn, constraints)


def test_check_uncertainty_rejects_bad_columns() -> None:
    table = make_table(max_ticket=[1.0, 1.0], score=[1.0, 2.0], sd=[1.0, -0.5])
    table = Table(table.path, table.frame, table.source_rows, table.headers,
                  table.numeric_columns | {"sd"}, table.sha256)
    with pytest.raises(InputError, match="negative") as error:
        check_uncertainty(policy(uncertainty=Uncertainty(spread="sd")), table)
    assert error.value.row == 3
    with pytest.raises(InputError, match="not in the table"):
        check_uncertainty(policy(uncertainty=Uncertainty(reviewers=("score", "scroe"))), table)
    with pytest.raises(InputError, match="not numeric"):
        check_uncertainty(policy(uncertainty=Uncertainty(reviewers=("score", "name"))), table)


@pytest.mark.parametrize(("text", "match"), [
    ('reviewer = ["a"]', "did you mean 'reviewers'"),
    ('reviewers = ["a", "b"]\nspread = "sd"', "exactly one of reviewers, spread"),
    ("draws = 10", "exactly one of reviewers, spread"),
    ('reviewers = ["a"]\ndraws = 0', "uncertainty.draws is out of range"),
    ('reviewers = ["a"]\ndraws = 2.5', "uncertainty.draws is out of range"),
    ('reviewers = ["a"]\nseed = -1', "seed must be a whole number from 0 to 9223372036854775807"),
    ('reviewers = ["a"]\nseed = "x"', "uncertainty.seed must be a whole number"),
    ("reviewers = []", "reviewers must be a list"),
    ('reviewers = ["a", "a"]', "listed twice"),
    ('spread = ""', "uncertainty.spread must be non-empty text"),
])
def test_policy_table_errors(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f"budget = 10\n[uncertainty]\n{text}\n", encoding="utf-8")
    with pytest.raises(InputError, match=match) as error:
        load_policy(path)
    assert error.value.file == str(path)
    zh = error.value.text("zh")
    assert zh != error.value.text("en") and re.search(r"[\u4e00-\u9fff]", zh), zh


def test_policy_objective_is_the_panel_mean_unless_given(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('budget = 10\n[uncertainty]\nreviewers = ["a", "b"]\nseed = 4\n',
                    encoding="utf-8")
    loaded = load_policy(path)
    assert loaded.objective.weights == {"a": 0.5, "b": 0.5}
    assert loaded.uncertainty == Uncertainty(reviewers=("a", "b"), draws=1000, seed=4)
    path.write_text('budget = 10\n[objective]\nmaximize = "score"\n'
                    '[uncertainty]\nreviewers = ["a", "b"]\n', encoding="utf-8")
    assert load_policy(path).objective.weights == {"score": 1.0}
    path.write_text('budget = 10\n[objective]\nweights = { a = 1, b = 2 }\n'
                    '[uncertainty]\nreviewers = ["a", "b"]\n', encoding="utf-8")
    weighted = load_policy(path)   # fine for solve (a scenario may weight the objective) …
    with pytest.raises(InputError, match="maximizes one score column"):
        require_uncertainty(weighted, "stability")   # … not for the draws


# --- the command line ---------------------------------------------------------------

def _cli(*args: str | Path) -> tuple[int, str]:
    from typer.testing import CliRunner

    from fundopt.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A private copy of the sample table and policy (which has [uncertainty])."""
    import shutil

    from conftest import ROOT

    for name in ("2024.csv", "2024.toml"):
        shutil.copy(ROOT / "inputs" / name, tmp_path / name)
    return tmp_path / "2024.csv"


def test_sample_reviewers_average_to_the_score(sample: Path) -> None:
    from fundopt.models.reading.inputs import load_inputs

    inputs = load_inputs(sample)
    frame = inputs.table.frame
    assert inputs.policy.uncertainty is not None
    panel = frame[list(inputs.policy.uncertainty.reviewers)].to_numpy(float)
    assert np.array_equal(panel.sum(axis=1), 3 * frame["score"].to_numpy(float))


def test_cli_robust_writes_every_format(sample: Path, tmp_path: Path) -> None:
    import json

    from fundopt.models.reading.inputs import load_inputs

    out = tmp_path / "out"
    code, text = _cli("solve", sample, "--robust", "worst", "-o", out / "r.json",
                      "-o", out / "r.xlsx", "-o", out / "r.csv")
    assert code == 0, text
    assert "price of robustness" in text and "评审C" in text
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    robust = data["robust"]
    assert set(robust) >= {"criterion", "value", "nominal_objective", "nominal_optimum",
                           "price", "nominal_plan_value"}
    assert robust["criterion"] == "worst" and robust["price"] >= 0
    assert robust["value"] >= robust["nominal_plan_value"]
    assert data["objective"] == pytest.approx(robust["nominal_objective"])
    inputs = load_inputs(sample)
    amounts = np.array([a["amount"] for a in data["allocations"]])
    assert check_plan(inputs.table.frame, inputs.policy, inputs.constraints, amounts) == []
    panel = inputs.table.frame[["评审A", "评审B", "评审C"]].to_numpy(float)
    assert robust["value"] == pytest.approx((amounts @ panel).min())
    from openpyxl import load_workbook

    assert "robust plan" in load_workbook(out / "r.xlsx", read_only=True).sheetnames
    code, text = _cli("solve", sample, "--robust", "cvar:1", "--lang", "zh")
    assert code == 0, text
    assert "稳健代价" in text


@pytest.mark.parametrize(("args", "policy_text", "message"), [
    (("--robust", "cvar:1.5"), None, "unknown robust criterion"),
    (("--robust", "median"), None, "unknown robust criterion"),
    (("--robust", "worst"), '[uncertainty]\nspread = "sd"\n', "worst needs reviewers"),
    (("--robust", "worst"), "", "needs an [uncertainty] table"),
    ((), '[uncertainty]\nreviewers = ["评审A", "评审X"]\n', "not in the table"),
    ((), '[uncertainty]\nreviewers = ["评审A", "manager"]\n', "not numeric"),
    ((), '[uncertainty]\nreviewers = ["评审A"]\ndraws = 0\n', "uncertainty.draws"),
    ((), '[uncertainty]\nreviewers = ["评审A"]\ndraw = 5\n', "did you mean 'draws'"),
    ((), '[uncertainty]\nspread = "sd"\n', "cannot be negative"),
    ((), '[uncertainty]\nspread = "manager"\n', "not numeric"),
])
def test_cli_bad_uncertainty_input_exits_2(sample: Path, args: tuple[str, ...],
                                            policy_text: str | None, message: str) -> None:
    if policy_text is not None:
        text = sample.with_suffix(".toml").read_text(encoding="utf-8")
        text = text[: text.index("[uncertainty]")] + policy_text
        sample.with_suffix(".toml").write_text(text, encoding="utf-8")
        csv = sample.read_text(encoding="utf-8-sig").splitlines()
        bad_row = 3 if "negative" in message else -1
        csv = [csv[0] + ",sd"] + [f"{line},{'-1' if i == bad_row else '2'}"
                                  for i, line in enumerate(csv[1:], start=1)]
        sample.write_text("\n".join(csv) + "\n", encoding="utf-8")
    code, text = _cli("solve", sample, *args)
    assert code == 2, text
    assert message in text and "Traceback" not in text
    code, text = _cli("solve", sample, *args, "--lang", "zh")
    assert code == 2 and text.startswith("错误：")


def test_cli_stability_json_csv_xlsx(sample: Path, tmp_path: Path) -> None:
    import json

    import pandas as pd
    from openpyxl import load_workbook

    from fundopt.models.reading.inputs import load_inputs

    out = tmp_path / "out"
    code, text = _cli("stability", sample, "--draws", "30", "--seed", "5", "--workers", "1",
                      "-o", out / "s.json", "-o", out / "s.csv", "-o", out / "s.xlsx")
    assert code == 0, text
    assert "core" in text and "contested" in text
    data = json.loads((out / "s.json").read_text(encoding="utf-8"))
    assert data["draws"] == 30 and data["seed"] == 5
    assert data["engine"] == {"kind": "serial", "workers": 1}
    assert data["objective"]["p5"] <= data["objective"]["p50"] <= data["objective"]["p95"]
    inputs = load_inputs(sample)
    assert [r["id"] for r in data["rows"]] == inputs.table.frame["id"].tolist()
    for row in data["rows"]:
        share = row["funded_share"]
        assert row["group"] == ("core" if share >= 0.9 else "out" if share < 0.1
                                else "contested")
        assert set(row) >= {"id", "funded_share", "mean_amount", "group", "in_nominal_plan"}
    must = inputs.table.frame["status"].to_numpy() == "must"
    assert all(r["funded_share"] == 1.0 for r, m in zip(data["rows"], must, strict=True) if m)
    plan = json.loads((out / "s.json").read_text(encoding="utf-8"))
    assert sum(r["in_nominal_plan"] for r in plan["rows"]) == 24
    frame = pd.read_csv(out / "s.csv", encoding="utf-8-sig")
    assert len(frame) == len(inputs.table.frame)
    book = load_workbook(out / "s.xlsx")
    assert "stability" in book.sheetnames
    assert book["stability"]._charts, "the stability sheet has its bar chart"


def test_cli_stability_needs_uncertainty(sample: Path) -> None:
    text = sample.with_suffix(".toml").read_text(encoding="utf-8")
    sample.with_suffix(".toml").write_text(text[: text.index("[uncertainty]")],
                                           encoding="utf-8")
    code, output = _cli("stability", sample, "--draws", "5")
    assert code == 2 and "needs an [uncertainty] table" in output
    code, output = _cli("stability", sample, "--draws", "0")
    assert code == 2


def test_cli_explain_mentions_the_funded_share(sample: Path) -> None:
    code, text = _cli("explain", sample, "TJ-BH-01", "--draws", "10")
    assert code == 0, text
    assert "TJ-BH-01: funded in 100% of 10 score draws (core)" in text
    code, text = _cli("explain", sample, "TJ-BH-01", "--draws", "0")
    assert code == 0 and "score draws" not in text
