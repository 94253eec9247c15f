"""The policy language of a 管理办法 (SPEC §11), checked against independent references.

Each construct is solved by fundopt from a TOML policy and, separately, by the scipy
``milp`` reference of ``tests/reference.py`` fed with columns computed here with plain
pandas (never with fundopt's expression evaluator); the returned plan is checked against
every rule by ``tests/plan_checker.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from plan_checker import check_plan
from reference import reference_solve
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.reading.inputs import load_inputs
from fundopt.models.rules.expression import ExpressionError, column_values, parse_expression
from fundopt.optimizer.problem import solve
from fundopt.optimizer.result import SolveStatus

runner = CliRunner()


def random_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "id": [f"F{i:02d}" for i in range(n)],
        "name": [f"fund {i}" for i in range(n)],
        "region": rng.choice(["天津", "河北"], n),
        "district": rng.choice(["滨海新区", "西青区", "保定市", "唐山市"], n),
        "category": rng.choice(["前沿技术", "国家重大平台"], n),
        "max_ticket": rng.uniform(0.5, 3.0, n).round(2),
        "fund_size": rng.uniform(4.0, 20.0, n).round(1),
        "other_lp_max": rng.uniform(0.5, 4.0, n).round(2),
        "score": rng.integers(50, 100, n),
        "call_2025": rng.uniform(0.1, 0.5, n).round(2),
        "call_2026": rng.uniform(0.1, 0.5, n).round(2),
        "risk": rng.uniform(0.1, 0.9, n).round(2),
    })


def flat(output: str) -> str:
    """Terminal output as one line: wrapping and box borders removed."""
    return " ".join(output.replace("│", " ").split())


def write(tmp_path: Path, frame: pd.DataFrame, policy: str) -> Path:
    table = tmp_path / "t.csv"
    frame.to_csv(table, index=False)
    (tmp_path / "t.toml").write_text(policy, encoding="utf-8")
    return table


def solve_both(table: Path, derived: dict[str, Any]) -> tuple:
    """fundopt's plan and the reference optimum; ``derived`` holds each expression's
    column computed independently, under the expression's text."""
    inputs = load_inputs(table)
    result = solve(inputs.table, inputs.policy, inputs.constraints)
    frame = inputs.table.frame.copy()
    for text, values in derived.items():
        frame[text] = values.to_numpy(float)
    status, objective, _ = reference_solve(frame, inputs.policy, inputs.constraints)
    return inputs, frame, result, status, objective


# --- column expressions ------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_expressions_in_sum_and_avg_match_the_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = random_frame(rng, 12)
    cap, risk = rng.uniform(1.0, 2.5), rng.uniform(0.1, 0.4)
    policy = f"""budget = 10
min_ticket = 0.3
[[constraints]]
name = "calls of two years"
measure = "sum(call_2025 + call_2026)"
max = {cap:.3f}
[[constraints]]
name = "risk per size"
measure = "avg(max(risk, 0.2) * 10 / (fund_size - 1) + min(call_2025, call_2026))"
max = {risk:.3f}
"""
    derived = {
        "call_2025 + call_2026": frame.call_2025 + frame.call_2026,
        "max(risk, 0.2) * 10 / (fund_size - 1) + min(call_2025, call_2026)":
            np.maximum(frame.risk, 0.2) * 10 / (frame.fund_size - 1)
            + np.minimum(frame.call_2025, frame.call_2026),
    }
    inputs, ref_frame, result, status, objective = solve_both(write(tmp_path, frame, policy),
                                                              derived)
    assert [c.column for c in inputs.constraints] == list(derived)
    assert status == "optimal"
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert check_plan(ref_frame, inputs.policy, inputs.constraints, result.amounts) == []


def test_expression_values_follow_arithmetic() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [2.0, 0.0, 1.0, -1.0]})
    got = column_values(frame, "-(a + 1) * 2 / b + max(a, b, 3)")
    expected = [-2 + 3, np.nan, np.nan, 10 / 1 + 4]
    np.testing.assert_allclose(got, expected)
    assert parse_expression("a+b*( c )").text == "a + b * c"
    assert parse_expression("min(a,b) - 1e-2").columns == ("a", "b")


@pytest.mark.parametrize("text", ["__import__('os')", "risk.real", "risk ** 2", "risk % 2",
                                  "abs(risk)", "min(risk)", "risk if risk else 0",
                                  "'text'", "[risk]", "risk < 1", "lambda: 0",
                                  "min(*risk, 1)", "max(risk, key=1)", "True + risk"])
def test_only_arithmetic_is_accepted(text: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert info.value.reason == "expr_node"


SAMPLE = Path(__file__).parents[1] / "inputs"


def sample_with(tmp_path: Path, extra: str, lang: str = "en", csv_edit: tuple = ()) -> tuple:
    """Solve the 2024 sample with ``extra`` policy lines; (exit code, output, files)."""
    text = (SAMPLE / "2024.csv").read_text(encoding="utf-8-sig")
    for old, new in csv_edit:
        assert old in text
        text = text.replace(old, new, 1)
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    policy = (SAMPLE / "2024.toml").read_text(encoding="utf-8") + "\n" + extra
    (tmp_path / "t.toml").write_text(policy, encoding="utf-8")
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "-o", str(out),
                                 "--lang", lang])
    return result.exit_code, result.output, out.exists()


@pytest.mark.parametrize(("measure", "words"), [
    ("sum(__import__('os'))", "__import__(…) is not allowed"),
    ("avg(risk.real)", "risk.real is not allowed"),
    ("sum(call_2025 + nothing)", "column 'nothing' is not in the table"),
    ("sum(call_2025 + manager)", "column 'manager' is not numeric"),
    ("sum(call_2025 +)", "is not an arithmetic expression"),
])
def test_bad_expressions_are_input_errors_naming_the_key(tmp_path: Path, measure: str,
                                                         words: str) -> None:
    code, output, written = sample_with(
        tmp_path, f'[[constraints]]\nmeasure = "{measure}"\nmax = 1\n')
    assert code == 2, output
    assert "constraints[4].measure" in output and words in " ".join(output.split())
    assert "Traceback" not in output and not written


def test_blank_and_zero_divisor_name_the_row(tmp_path: Path) -> None:
    code, output, written = sample_with(
        tmp_path, '[[constraints]]\nmeasure = "avg(risk / (score - 74))"\nmax = 1\n')
    assert code == 2 and not written
    flat = " ".join(output.split())
    assert "row 3" in flat and "division by zero" in flat      # TJ-BH-02 scores 74
    code, output, written = sample_with(
        tmp_path, '[[constraints]]\nmeasure = "sum(call_2025 + reinvest)"\nmax = 30\n',
        lang="zh", csv_edit=(("基金,天津,滨海新区,重大科技专项,2,,8,74,,0.38,1.5,",
                              "基金,天津,滨海新区,重大科技专项,2,,8,74,,0.38,,"),))
    assert code == 2 and not written
    dense = "".join(output.split())
    assert "第3行" in dense and "reinvest为空" in dense


def test_blank_in_an_excluded_row_is_not_used(tmp_path: Path) -> None:
    # HB-BD-03 is excluded in the sample: its blank does not stop the solve
    text = (SAMPLE / "2024.csv").read_text(encoding="utf-8-sig")
    row = next(line for line in text.splitlines() if line.startswith("HB-BD-03"))
    cells = row.split(",")
    cells[11] = ""                                                     # reinvest
    code, output, written = sample_with(
        tmp_path, '[[constraints]]\nmeasure = "sum(call_2025 + reinvest / 10)"\nmax = 30\n',
        csv_edit=((row, ",".join(cells)),))
    assert code == 0, output
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    name = "sum(call_2025 + reinvest / 10) (all rows)"
    [line] = [c for c in data["constraints"] if c["name"] == name]
    assert line["measure"] == "sum" and line["value"] <= 30 + 1e-9


# --- where ranges and not ----------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_where_ranges_and_not_match_the_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    frame = random_frame(rng, 14)
    lo, hi = sorted(rng.uniform(4.0, 20.0, 2).round(1))
    policy = f"""budget = 10
min_ticket = 0.3
[[constraints]]
name = "mid-size funds"
where = {{ fund_size = {{ min = {lo}, max = {hi} }}, district = {{ not = ["滨海新区"] }} }}
measure = "share"
max = {rng.uniform(0.1, 0.5):.3f}
[[constraints]]
name = "small funds, per category"
where = {{ fund_size = {{ max = {hi} }}, category = "*" }}
measure = "count"
max = {int(rng.integers(1, 3))}
[[constraints]]
name = "risk outside 西青区"
where = {{ district = {{ not = ["西青区", "保定市"] }} }}
measure = "avg(risk)"
max = {rng.uniform(0.2, 0.5):.3f}
"""
    inputs, ref_frame, result, status, objective = solve_both(write(tmp_path, frame, policy), {})
    assert status == "optimal" and result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert check_plan(ref_frame, inputs.policy, inputs.constraints, result.amounts) == []
    # the checker's own selection: plain pandas
    size = frame.fund_size
    picked = (size >= lo) & (size <= hi) & (frame.district != "滨海新区")
    funded = result.amounts[picked.to_numpy()]
    assert funded.sum() / 10 <= (inputs.constraints[0].max or 0) + 1e-9


@pytest.mark.parametrize(("where", "key", "words"), [
    ('{ manager = { min = 1 } }', "constraints[4].where.manager", "is text"),
    ('{ fund_size = { min = 9, max = 2 } }', "constraints[4].where.fund_size.min",
     "is greater than"),
    ('{ district = { not = ["滨海区"] } }', "constraints[4].where.district", "滨海新区"),
    ('{ district = { not = [] } }', "constraints[4].where.district.not", "values to leave"),
    ('{ district = { nott = ["滨海新区"] } }', "constraints[4].where.district.nott",
     "did you mean 'not'"),
])
def test_bad_ranges_are_input_errors(tmp_path: Path, where: str, key: str, words: str) -> None:
    code, output, written = sample_with(
        tmp_path, f'[[constraints]]\nwhere = {where}\nmeasure = "amount"\nmax = 9\n')
    flat = " ".join(output.split())
    assert code == 2 and not written, output
    assert key in flat and words in flat and "Traceback" not in output


def test_a_range_shows_in_the_label(tmp_path: Path) -> None:
    code, output, _ = sample_with(
        tmp_path, '[[constraints]]\nwhere = { fund_size = { max = 10 } }\n'
                  'measure = "share"\nmax = 0.5\n')
    assert code == 0, output
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert any(c["name"] == "share where fund_size=..10" for c in data["constraints"])


# --- eligibility -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_eligibility_matches_the_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    frame = random_frame(rng, 14)
    frame["duration_years"] = rng.integers(5, 16, len(frame))
    frame.loc[int(rng.integers(0, 14)), "risk"] = np.nan    # blank, but in a shut-out row?
    limit = int(rng.integers(8, 14))
    policy = f"""budget = 10
min_ticket = 0.3
[[eligible]]
name = "存续期不超过{limit}年"
where = {{ duration_years = {{ max = {limit} }} }}
[[eligible]]
name = "not 唐山"
where = {{ district = {{ not = ["唐山市"] }}, category = ["前沿技术", "国家重大平台"] }}
[[constraints]]
where = {{ category = "*" }}
measure = "count"
max = {int(rng.integers(2, 4))}
"""
    blank = frame.risk.isna().to_numpy()
    shut = (frame.duration_years > limit) | (frame.district == "唐山市")
    if not shut[blank].all():
        policy += '[[constraints]]\nmeasure = "avg(risk)"\nmax = 0.9\n'
        frame.loc[blank, "risk"] = 0.5
    else:        # the blank sits in an ineligible row: the expression may read it
        policy += '[[constraints]]\nmeasure = "avg(risk * 2)"\nmax = 1.2\n'
    table = write(tmp_path, frame, policy)
    derived = {"risk * 2": frame.risk * 2}
    inputs, ref_frame, result, status, objective = solve_both(table, derived)
    assert status == "optimal" and result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert check_plan(ref_frame, inputs.policy, inputs.constraints, result.amounts) == []
    assert not result.amounts[shut.to_numpy()].any()
    listed = {w.row_id: w.detail for w in result.warnings if w.code == "ineligible"}
    assert set(listed) == set(frame.id[shut])
    for i in np.flatnonzero(shut.to_numpy()):
        detail = listed[frame.id[i]]
        if frame.duration_years[i] > limit:
            assert detail == {"rule": f"存续期不超过{limit}年", "column": "duration_years",
                              "value": str(frame.duration_years[i]), "key": "eligible[1]"}
        else:
            assert detail["rule"] == "not 唐山" and detail["value"] == "唐山市"


def test_ineligible_rows_are_listed_in_every_output(tmp_path: Path) -> None:
    extra = ('[[eligible]]\nname = "存续期不超过10年"\nwhere = { risk = { max = 0.7 } }\n'
             '[[eligible]]\nname = "非保定"\nwhere = { district = { not = ["保定市"] } }\n')
    code, output, _ = sample_with(tmp_path, extra, lang="zh")
    assert code == 3            # 保定市's district floor has no eligible candidate left
    assert "子基金HB-BD-01不符合条件（非保定）：district=保定市" in "".join(output.split())
    policy = (SAMPLE / "2024.toml").read_text(encoding="utf-8").replace(
        'min_count = 1', 'min_count = 0').replace("min_share = 0.15", "min_share = 0.13") \
        + "\n" + extra
    (tmp_path / "t.toml").write_text(policy, encoding="utf-8")
    xlsx, out, plan_csv = tmp_path / "out.xlsx", tmp_path / "out.json", tmp_path / "plan.csv"
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "-o", str(out),
                                 "-o", str(xlsx), "-o", str(plan_csv)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(plan_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    table_columns = list(pd.read_csv(tmp_path / "t.csv", nrows=0).columns)
    assert list(written.columns)[-1] == "ineligible"         # added last, the rest unchanged
    assert list(written.columns)[: len(table_columns)] == table_columns
    reasons = dict(zip(written.id, written.ineligible, strict=True))
    assert reasons["HB-BD-01"] == "非保定: district = 保定市"
    zh_csv = tmp_path / "plan-zh.csv"
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "--lang", "zh", "-o",
                                 str(zh_csv)])
    assert result.exit_code == 0, result.output
    zh = pd.read_csv(zh_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(zh.columns)[-1] == "不符合条件"
    assert dict(zip(zh.iloc[:, 0], zh["不符合条件"], strict=True))["HB-BD-01"] == \
        "非保定：district = 保定市"
    data = json.loads(out.read_text(encoding="utf-8"))
    shut = [w for w in data["warnings"] if w["code"] == "ineligible"]
    assert {"id": "HB-BD-01", "code": "ineligible",
            "detail": {"rule": "非保定", "column": "district", "value": "保定市",
                       "key": "eligible[2]"},
            "message": "sub-fund HB-BD-01 is not eligible (非保定): district = 保定市"} in shut
    frame = pd.read_csv(tmp_path / "t.csv")
    risky = set(frame.id[(frame.risk > 0.7) | (frame.district == "保定市")])
    assert {w["id"] for w in shut} == risky - {"HB-BD-03"}          # HB-BD-03 is excluded
    assert {i for i, r in reasons.items() if r} == risky - {"HB-BD-03"}
    for i in risky - {"HB-BD-03"}:
        row = frame.set_index("id").loc[i]
        assert reasons[i] == ("非保定: district = 保定市" if row.district == "保定市"
                              else f"存续期不超过10年: risk = {row.risk}")
    amounts = {a["id"]: a["amount"] for a in data["allocations"]}
    assert all(amounts[i] == 0 for i in risky)
    sheets = pd.read_excel(xlsx, sheet_name=None)
    text = " ".join(str(v) for sheet in sheets.values() for v in sheet.to_numpy().ravel())
    assert "sub-fund HB-BD-01 is not eligible (非保定): district = 保定市" in text
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "--strict"])
    assert result.exit_code != 2 or "not eligible" not in result.output


def test_an_ineligible_must_row_is_an_input_error(tmp_path: Path) -> None:
    code, output, written = sample_with(
        tmp_path, '[[eligible]]\nname = "规模不低于25亿"\nwhere = { fund_size = { min = 25 } }\n')
    flat = " ".join(output.split())
    assert code == 2 and not written
    assert "row 2" in flat and "TJ-BH-01" in flat and "规模不低于25亿" in flat
    code, output, _ = sample_with(
        tmp_path, '[[eligible]]\nname = "x"\nwhere = { district = "*" }\n')
    assert code == 2 and "eligible[1].where.district" in output
    code, output, _ = sample_with(tmp_path, '[[eligible]]\nwhere = { risk = { max = 1 } }\n')
    assert code == 2 and "eligible[1].name" in output


# --- per-row limits ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_limits_match_the_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    frame = random_frame(rng, 14)
    frame["fund_kind"] = rng.choice(["市场化", "专项"], len(frame))
    policy = f"""budget = 10
min_ticket = 0.2
max_stake = 0.35
[[limits]]
name = "不是最大出资人"
max = "other_lp_max - 0.01"
[[limits]]
name = "专项 10–30%"
where = {{ fund_kind = "专项" }}
min_stake = {rng.uniform(0.0, 0.15):.3f}
max_stake = 0.3
[[limits]]
name = "市场化"
where = {{ fund_kind = "市场化" }}
max_stake = 0.25
min = "min(0.5, fund_size / 20)"
[[constraints]]
where = {{ region = "*" }}
measure = "share"
max = 0.7
"""
    derived = {"other_lp_max - 0.01": frame.other_lp_max - 0.01,
               "min(0.5, fund_size / 20)": frame.fund_size.div(20).clip(upper=0.5)}
    inputs, ref_frame, result, status, objective = solve_both(write(tmp_path, frame, policy),
                                                              derived)
    assert len(inputs.policy.limits) == 3
    assert status == result.status.value
    if status == "optimal":
        assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
        assert check_plan(ref_frame, inputs.policy, inputs.constraints, result.amounts) == []
        x = result.amounts
        # the rules themselves, in plain pandas
        assert (x <= frame.other_lp_max - 0.01 + 1e-9).all()
        special = (frame.fund_kind == "专项").to_numpy()
        stake = x / frame.fund_size.to_numpy()
        assert (stake[special] <= 0.3 + 1e-9).all()
        assert (stake[~special] <= 0.25 + 1e-9).all()
        funded = x > 0
        floor = frame.fund_size.div(20).clip(upper=0.5).to_numpy()
        assert (x[funded & ~special] >= floor[funded & ~special] - 1e-9).all()


def test_limits_add_bounds_not_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    frame = random_frame(rng, 30)
    base = "budget = 10\n"
    limited = base + '[[limits]]\nmax = "other_lp_max - 0.01"\nmin_stake = 0.01\n' \
        '[[limits]]\nwhere = { category = "前沿技术" }\nmax_stake = 0.2\n'
    from fundopt.optimizer.build import build

    sizes = []
    for policy in (base, limited):
        inputs = load_inputs(write(tmp_path, frame, policy))
        model = build(inputs.table, inputs.policy, inputs.constraints).model
        sizes.append((model.num_rows, len(model.index)))
    # the limits' floors add binaries and their links (x ≥ l·y), no policy row
    assert sizes[1][0] == sizes[0][0] + 2 * 30 and sizes[0][0] == 1


def test_a_blocked_row_names_the_limit(tmp_path: Path) -> None:
    code, output, _ = sample_with(
        tmp_path, '[[limits]]\nname = "不是最大出资人"\nmax = "fund_size * 0.25 - 0.01"\n')
    assert "TJ-JH-02 cannot be funded: its minimum ticket 0.2 exceeds its cap 0.11 " \
           "(不是最大出资人 (limits[1].max))" in flat(output)


@pytest.mark.parametrize(("limit", "key", "words"), [
    ('max = "other_lp + 1"', "limits[1].max", "'other_lp' is not in the table"),
    ('max = "risk.real"', "limits[1].max", "is not allowed"),
    ("min_stake = 0.4\nmax_stake = 0.3", "limits[1].min_stake", "is greater than"),
    ("max_stake = 1.5", "limits[1].max_stake", "out of range"),
    ('where = { region = "天津" }', "limits[1]", "no bound"),
    ('max = "risk / (score - 74)"', "row 3", "division by zero"),
    ('maxx = 3', "limits[1].maxx", "did you mean 'max'"),
])
def test_bad_limits_are_input_errors(tmp_path: Path, limit: str, key: str, words: str) -> None:
    code, output, written = sample_with(tmp_path, f"[[limits]]\n{limit}\n")
    flat = " ".join(output.split())
    assert code == 2 and not written, output
    assert key in flat and words in flat and "Traceback" not in output


def test_sweep_moves_a_limit_by_index(tmp_path: Path) -> None:
    sample_with(tmp_path, '[[limits]]\nwhere = { category = "前沿技术" }\nmin_stake = 0.1\n')
    out = tmp_path / "sweep.json"
    result = runner.invoke(app, ["sweep", str(tmp_path / "t.csv"), "--param",
                                 "limits[0].min_stake", "--from", "0.1", "--to", "0.3",
                                 "--steps", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    points = json.loads(out.read_text(encoding="utf-8"))["points"]
    objectives = [p["objective"] for p in points]
    assert objectives == sorted(objectives, reverse=True)   # a higher floor never helps
    result = runner.invoke(app, ["sweep", str(tmp_path / "t.csv"), "--param",
                                 "limits[3].min_stake", "--from", "0.1", "--to", "0.3"])
    assert result.exit_code == 2 and "limits[3]" in result.output


def test_diagnosis_moves_a_stake_limit_and_relax_applies_it(tmp_path: Path) -> None:
    extra = ('[[limits]]\nname = "西青 floor"\nwhere = { district = "西青区" }\n'
             'min_stake = 0.35\n')
    code, output, _ = sample_with(tmp_path, extra)
    assert code == 3
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    [move] = data["diagnosis"]["relaxation"]
    assert move["key"] == "limits[1].min_stake" and move["from"] == 0.35
    assert 0.25 < move["to"] < 0.35
    assert "西青 floor" in data["diagnosis"]["conflict"]
    # the move is the least one: a little less is still infeasible, and --relax solves
    for value, expected in ((move["to"] + 0.002, 3), (move["to"], 0)):
        policy = (tmp_path / "t.toml").read_text(encoding="utf-8")
        (tmp_path / "v.toml").write_text(policy.replace("min_stake = 0.35",
                                                        f"min_stake = {value}"), "utf-8")
        result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "--policy",
                                     str(tmp_path / "v.toml")])
        assert result.exit_code == expected, (value, result.output)
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "--relax", "-o",
                                 str(tmp_path / "relaxed.json")])
    assert result.exit_code == 0, result.output
    relaxed = json.loads((tmp_path / "relaxed.json").read_text(encoding="utf-8"))
    assert relaxed["status"] == "optimal"


def test_diagnosis_names_an_expression_limit(tmp_path: Path) -> None:
    extra = ('[[limits]]\nname = "西青 floor"\nwhere = { district = "西青区" }\n'
             'min = "fund_size * 0.35"\n')
    code, output, _ = sample_with(tmp_path, extra, lang="zh")
    assert code == 3
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert "西青 floor" in data["diagnosis"]["conflict"]
    assert all(m["key"] != "limits[1].min" for m in data["diagnosis"]["relaxation"])
    assert "西青 floor" in flat(output)


# --- funded(EXPR) and ratios -------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_funded_and_ratios_match_the_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    frame = random_frame(rng, 14)
    frame["local_invest"] = rng.uniform(0.5, 8.0, len(frame)).round(2)
    leverage = round(rng.uniform(4.0, 8.0), 3)
    policy = f"""budget = 10
min_ticket = 0.3
[[constraints]]
name = "放大倍数"
measure = "funded(fund_size) / amount"
min = {leverage:.3f}
[[constraints]]
name = "整体返投"
where = {{ region = "天津" }}
measure = "funded(local_invest - 0.5) / sum(1 + call_2025)"
min = {rng.uniform(1.0, 3.0):.3f}
[[constraints]]
name = "average size of the funded"
measure = "funded(fund_size) / count"
max = {rng.uniform(10.0, 16.0):.3f}
[[constraints]]
name = "other LPs of the funded"
measure = "funded(other_lp_max * 2)"
max = {rng.uniform(10.0, 30.0):.2f}
"""
    derived = {"local_invest - 0.5": frame.local_invest - 0.5,
               "1 + call_2025": 1 + frame.call_2025,
               "other_lp_max * 2": frame.other_lp_max * 2}
    inputs, ref_frame, result, status, objective = solve_both(write(tmp_path, frame, policy),
                                                              derived)
    assert status == result.status.value
    if status != "optimal":
        return
    assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert check_plan(ref_frame, inputs.policy, inputs.constraints, result.amounts) == []
    x = result.amounts
    funded = x > 1e-9
    assert frame.fund_size[funded].sum() >= leverage * x.sum() - 1e-6     # the rule itself
    values = {c.label: c.value for c in result.constraints}
    assert values["放大倍数"] == pytest.approx(frame.fund_size[funded].sum() / x.sum())


def test_ratio_instances_are_mostly_feasible(tmp_path: Path) -> None:
    """The random family above is not vacuous: most of its instances have a plan."""
    statuses = []
    for seed in range(8):
        rng = np.random.default_rng(400 + seed)
        frame = random_frame(rng, 14)
        frame["local_invest"] = rng.uniform(0.5, 8.0, len(frame)).round(2)
        policy = (f"budget = 10\nmin_ticket = 0.3\n[[constraints]]\n"
                  f'measure = "funded(fund_size) / amount"\nmin = {rng.uniform(4.0, 8.0):.3f}\n')
        inputs = load_inputs(write(tmp_path, frame, policy))
        statuses.append(solve(inputs.table, inputs.policy, inputs.constraints).status)
    assert statuses.count(SolveStatus.OPTIMAL) >= 6


def test_a_ratio_reads_as_a_ratio(tmp_path: Path) -> None:
    code, output, _ = sample_with(
        tmp_path, '[[constraints]]\nname = "放大倍数"\nmeasure = "funded(fund_size) / amount"\n'
                  "min = 5.06\n")
    assert code == 0, output
    result = runner.invoke(app, ["check", str(tmp_path / "t.csv")])
    assert "funded(fund_size) / amount" in flat(result.output)
    assert "5.06×" in flat(result.output)


def test_leverage_too_high_is_diagnosed(tmp_path: Path) -> None:
    code, output, _ = sample_with(
        tmp_path, '[[constraints]]\nname = "放大倍数"\nmeasure = "funded(fund_size) / amount"\n'
                  "min = 9\n")
    assert code == 3
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    moves = {m["key"]: m for m in data["diagnosis"]["relaxation"]}
    assert "放大倍数" in data["diagnosis"]["conflict"]
    if "constraints[4].min" in moves:
        to = moves["constraints[4].min"]["to"]
        assert to < 9
        policy = (tmp_path / "t.toml").read_text(encoding="utf-8").replace("min = 9", f"min = {to}")
        (tmp_path / "t.toml").write_text(policy, encoding="utf-8")
        result = runner.invoke(app, ["solve", str(tmp_path / "t.csv")])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("measure", "words"), [
    ("avg(risk) / amount", "M1 of a ratio M1 / M2 must be amount, count"),
    ("funded(fund_size) / share", "M2 of a ratio M1 / M2 must be"),
    ("funded(fund_size) / avg(risk)", "not 'avg(risk)'"),
    ("funded(fund_size.real) / amount", "is not allowed"),
])
def test_bad_ratios_are_input_errors(tmp_path: Path, measure: str, words: str) -> None:
    code, output, written = sample_with(
        tmp_path, f'[[constraints]]\nmeasure = "{measure}"\nmin = 1\n')
    assert code == 2 and not written, output
    assert "constraints[4].measure" in flat(output) and words in flat(output)


def test_a_funded_floor_over_zero_tickets_is_an_input_error(tmp_path: Path) -> None:
    code, output, _ = sample_with(
        tmp_path, '[[constraints]]\nmeasure = "funded(fund_size) / amount"\nmin = 1\n')
    assert code == 0, output
    text = (SAMPLE / "2024.toml").read_text(encoding="utf-8").replace("min_ticket = 0.2",
                                                                      "min_ticket = 0")
    text = text.replace("[district.", "#").replace("min_count = 1", "").replace(
        "max_count = 2", "")
    (tmp_path / "t.toml").write_text(text + '\n[[constraints]]\nmeasure = '
                                     '"funded(fund_size) / amount"\nmin = 1\n', "utf-8")
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv")])
    assert result.exit_code == 2 and "could count as funded" in flat(result.output)


# --- [values] declarations ---------------------------------------------------------------

DISTRICTS = ["滨海新区", "西青区", "保定市", "唐山市"]


@pytest.mark.parametrize("seed", range(4))
def test_star_expands_over_declared_values(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    frame = random_frame(rng, 14)
    declared = [*DISTRICTS, "邢台市"]
    policy = f"""budget = 10
min_ticket = 0.3
[values]
district = {json.dumps(declared, ensure_ascii=False)}
[district."*"]
max_count = {int(rng.integers(1, 3))}
max_share = 0.5
"""
    inputs, ref_frame, result, status, objective = solve_both(write(tmp_path, frame, policy),
                                                              {})
    counts = [c for c in inputs.constraints if c.measure.value == "count"]
    assert [c.where for c in counts] == [(("district", (d,)),) for d in declared]
    assert status == "optimal" and result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert check_plan(ref_frame, inputs.policy, inputs.constraints, result.amounts) == []


def test_a_declared_value_with_no_candidate_is_infeasible_in_one_line(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE / "2024.csv")
    declared = [*dict.fromkeys(frame.district), "邢台市"]
    extra = f"[values]\ndistrict = {json.dumps(declared, ensure_ascii=False)}\n"
    code, output, _ = sample_with(tmp_path, extra, lang="zh")
    assert code == 3
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    # the JSON speaks the run's language (--lang zh); the reason as data is language-free
    assert data["diagnosis"]["messages"] == [
        "district 邢台市 没有符合条件的候选子基金（district.*.min_count）"]
    assert {"code": "rules.no_candidate", "column": "district", "value": "邢台市",
            "key": "district.*.min_count"} in data["diagnosis"]["reasons"]
    dense = "".join(output.split())
    assert "district邢台市没有符合条件的候选子基金（district.*.min_count）" in dense
    # ineligible candidates are no candidates either
    extra = (f"[values]\ndistrict = {json.dumps(declared[:-1], ensure_ascii=False)}\n"
             '[[eligible]]\nname = "非衡水"\nwhere = { district = { not = ["衡水市"] } }\n')
    code, output, _ = sample_with(tmp_path, extra)
    assert code == 3 and "district 衡水市 has no eligible candidate" in flat(output)


def test_an_undeclared_value_is_an_input_error(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE / "2024.csv")
    declared = [d for d in dict.fromkeys(frame.district) if d != "滨海新区"] + ["滨海区"]
    extra = f"[values]\ndistrict = {json.dumps(declared, ensure_ascii=False)}\n"
    code, output, written = sample_with(tmp_path, extra)
    assert code == 2 and not written
    assert "row 2" in flat(output) and "滨海新区 is not one of the declared values of " \
        "district; did you mean 滨海区?" in flat(output)
    declared = [*dict.fromkeys(frame.district)]
    extra = (f"[values]\ndistrict = {json.dumps(declared, ensure_ascii=False)}\n"
             '[district."滨海区"]\nmin_count = 1\n')
    code, output, _ = sample_with(tmp_path, extra)
    assert code == 2 and "district.滨海区" in flat(output)
    assert "did you mean 滨海新区" in flat(output)


# --- the worked example of a 管理办法 -----------------------------------------------------

def test_the_worked_example_solves_to_the_reference_optimum() -> None:
    inputs = load_inputs(SAMPLE / "rules.csv")
    result = solve(inputs.table, inputs.policy, inputs.constraints)
    assert result.status is SolveStatus.OPTIMAL
    frame = inputs.table.frame.copy()
    derived = {"other_lp_max - 0.01": frame.other_lp_max - 0.01,
               "fund_size * 0.5 - other_govt - 0.01": frame.fund_size * 0.5
               - frame.other_govt - 0.01,
               "0.0": pd.Series(0.0, index=frame.index),
               "call_2025 + call_2026": frame.call_2025 + frame.call_2026}
    for text, values in derived.items():
        frame[text] = values
    kinds = {c.rule.measure for c in inputs.constraints}
    assert {"ratio", "share", "sum", "avg", "count"} <= {str(k) for k in kinds}
    assert len(inputs.policy.limits) == 6 and len(inputs.policy.eligible) == 1
    assert check_plan(frame, inputs.policy, inputs.constraints, result.amounts) == []
    status, objective, _ = reference_solve(frame, inputs.policy, inputs.constraints)
    assert status == "optimal"
    assert result.objective == pytest.approx(objective, rel=1e-6)


# --- targets (力争) ------------------------------------------------------------------------

def target_reference(frame: pd.DataFrame, budget: float, share_min: float, share_p: float,
                     amount_max: float, amount_p: float) -> float:
    """max score·x − P1·s1 − P2·s2 over 0 ≤ x ≤ max_ticket, Σx ≤ budget,
    Σ_天津 x / budget + s1 ≥ share_min, Σ_前沿 x − s2 ≤ amount_max (SPEC §11), by scipy."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(frame)
    tianjin = (frame.region == "天津").to_numpy(float)
    frontier = (frame.category == "前沿技术").to_numpy(float)
    cost = np.concatenate([-frame.score.to_numpy(float), [share_p, amount_p]])
    rows = [np.concatenate([np.ones(n), [0, 0]]),
            np.concatenate([tianjin / budget, [1, 0]]),
            np.concatenate([frontier, [0, -1]])]
    res = milp(cost, constraints=LinearConstraint(np.array(rows), [-np.inf, share_min, -np.inf],
                                                  [budget, np.inf, amount_max]),
               bounds=Bounds(np.zeros(n + 2),
                             np.concatenate([frame.max_ticket.to_numpy(float),
                                             [np.inf, np.inf]])))
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_targets_match_the_reference(tmp_path: Path, seed: int) -> None:
    from fundopt.reports.targets import target_rows

    rng = np.random.default_rng(600 + seed)
    frame = random_frame(rng, 12)
    share_min, amount_max = round(rng.uniform(0.3, 0.9), 3), round(rng.uniform(0.5, 4.0), 3)
    share_p, amount_p = round(rng.uniform(0, 400), 1), round(rng.uniform(0, 80), 1)
    policy = f"""budget = 10
[region."天津"]
min_share = {share_min}
target = true
penalty = {share_p}
[[constraints]]
name = "前沿技术力争不超过"
where = {{ category = "前沿技术" }}
measure = "amount"
max = {amount_max}
target = true
penalty = {amount_p}
"""
    inputs = load_inputs(write(tmp_path, frame, policy))
    result = solve(inputs.table, inputs.policy, inputs.constraints)
    assert result.status is SolveStatus.OPTIMAL
    x = result.amounts
    share = x[(frame.region == "天津").to_numpy()].sum() / 10
    frontier = x[(frame.category == "前沿技术").to_numpy()].sum()
    short = {"region 天津 share": max(0.0, share_min - share),
             "前沿技术力争不超过": max(0.0, frontier - amount_max)}
    penalized = (frame.score.to_numpy(float) @ x - share_p * short["region 天津 share"]
                 - amount_p * short["前沿技术力争不超过"])
    expected = target_reference(frame, 10, share_min, share_p, amount_max, amount_p)
    assert penalized == pytest.approx(expected, rel=1e-7, abs=1e-6)
    listed = {r["name"]: r for r in target_rows(result)}
    for name, value in short.items():
        assert listed[name]["shortfall"] == pytest.approx(value, abs=1e-9)
        assert listed[name]["met"] == bool(value <= 1e-9)
    assert result.objective - sum(r["cost"] for r in listed.values()) == \
        pytest.approx(expected, rel=1e-7, abs=1e-6)


def test_a_target_in_every_output_and_bad_targets(tmp_path: Path) -> None:
    extra = ('[[constraints]]\nname = "力争前沿技术30%"\nwhere = { category = "前沿技术" }\n'
             'measure = "share"\nmin = 0.3\ntarget = true\npenalty = 100\n')
    code, output, _ = sample_with(tmp_path, extra, lang="zh")
    assert code == 0, output
    assert "力争前沿技术30% (未达成)" in flat(output)
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert data["targets"] == [{"name": "力争前沿技术30%", "id": "c25", "met": False,
                                "shortfall": 0.15, "penalty": 100.0, "cost": 15.0}]
    for bad, key, words in (
            ("penalty = 3", "constraints[4].penalty", "only used with target = true"),
            ("target = true", "constraints[4].penalty", "a target needs a penalty"),
            ('target = "yes"\npenalty = 1', "constraints[4].target", "true or false"),
            ("target = true\npenalty = -1", "constraints[4].penalty", "out of range")):
        (tmp_path / "out.json").unlink(missing_ok=True)
        code, output, written = sample_with(
            tmp_path, f'[[constraints]]\nmeasure = "amount"\nmin = 1\n{bad}\n')
        assert code == 2 and not written and key in flat(output) and words in flat(output)


def test_a_worded_reason_crosses_processes() -> None:
    """Batch workers return diagnoses: a reason (a message code and its values) survives
    pickling and is worded in either language where it is written."""
    import pickle

    from fundopt.messages import Message
    from fundopt.reports.diagnosis_text import reason_text

    reason = Message("rules.no_candidate", {"column": "区县", "value": "邢台市",
                                            "key": "district.*.min_count"})
    again = pickle.loads(pickle.dumps(reason))
    assert again == reason
    assert reason_text(again, "en") == \
        "区县 邢台市 has no eligible candidate (district.*.min_count)"
    assert reason_text(again, "zh") == \
        "区县 邢台市 没有符合条件的候选子基金（district.*.min_count）"


# --- groups(COL) -------------------------------------------------------------------------

def groups_reference(frame: pd.DataFrame, budget: float, ticket: float, lo: int, hi: int
                     ) -> float:
    """max score·x over x, y (funded), g (district covered), by scipy from the SPEC:
    ticket·y ≤ x ≤ max_ticket·y, Σx ≤ budget, g_v ≤ Σ_{i∈v} y_i, y_i ≤ g_v,
    lo ≤ Σ g ≤ hi."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(frame)
    values = list(dict.fromkeys(frame.district))
    m = len(values)
    width = 2 * n + m
    rows, lower, upper = [], [], []

    def add(coefs: dict[int, float], low: float, high: float) -> None:
        row = np.zeros(width)
        for k, v in coefs.items():
            row[k] += v
        rows.append(row)
        lower.append(low)
        upper.append(high)

    cap = frame.max_ticket.to_numpy(float)
    for i in range(n):
        add({i: 1.0, n + i: -cap[i]}, -np.inf, 0.0)
        add({i: 1.0, n + i: -ticket}, 0.0, np.inf)
        add({n + i: 1.0, 2 * n + values.index(frame.district[i]): -1.0}, -np.inf, 0.0)
    add(dict.fromkeys(range(n), 1.0), -np.inf, budget)
    for j, value in enumerate(values):
        members = np.flatnonzero((frame.district == value).to_numpy())
        add({2 * n + j: 1.0, **{n + int(i): -1.0 for i in members}}, -np.inf, 0.0)
    add(dict.fromkeys(range(2 * n, width), 1.0), lo, hi)
    cost = np.concatenate([-frame.score.to_numpy(float), np.zeros(n + m)])
    res = milp(cost, constraints=LinearConstraint(np.array(rows), lower, upper),
               integrality=np.concatenate([np.zeros(n), np.ones(n + m)]),
               bounds=Bounds(np.zeros(width), np.concatenate([cap, np.ones(n + m)])),
               options={"mip_rel_gap": 0.0})
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_groups_match_the_reference(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(700 + seed)
    frame = random_frame(rng, 10)
    lo, hi = sorted(int(v) for v in rng.integers(1, 5, 2))
    policy = f"""budget = 6
min_ticket = 0.5
[[constraints]]
name = "districts covered"
measure = "groups(district)"
min = {lo}
max = {hi}
"""
    inputs = load_inputs(write(tmp_path, frame, policy))
    result = solve(inputs.table, inputs.policy, inputs.constraints)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(groups_reference(frame, 6, 0.5, lo, hi), rel=1e-7)
    covered = frame.district[result.amounts > 1e-9].nunique()
    assert lo <= covered <= hi
    [line] = [c for c in result.constraints if c.label == "districts covered"]
    assert line.value == covered


def test_both_catalogs_say_the_same_things() -> None:
    """Every message code has an English and a Chinese template with the same values."""
    import string

    from fundopt.reports.text import en, zh

    assert set(en.MESSAGES) == set(zh.MESSAGES)
    fields = string.Formatter()
    for code, template in en.MESSAGES.items():
        names = {f[1] for f in fields.parse(template) if f[1]}
        assert names == {f[1] for f in fields.parse(zh.MESSAGES[code]) if f[1]}, code


def test_a_robust_plan_keeps_the_targets_penalty(tmp_path: Path) -> None:
    # the sample's [uncertainty] has three reviewers: --robust worst plans for the lowest
    extra = '[category."重大科技专项"]\nmin_share = 0.08\ntarget = true\npenalty = 100000\n'
    code, output, _ = sample_with(tmp_path, extra)
    assert code == 0, output
    nominal = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["targets"]
    assert nominal[0]["met"]
    result = runner.invoke(app, ["solve", str(tmp_path / "t.csv"), "--robust", "worst", "-o",
                                 str(tmp_path / "robust.json")])
    assert result.exit_code == 0, result.output
    robust = json.loads((tmp_path / "robust.json").read_text(encoding="utf-8"))["targets"]
    assert robust[0]["met"], robust


@pytest.mark.parametrize("key", ["eligible.name", "eligible[1].where", "limits[1].max_stake",
                                 "values.district"])
def test_eligible_limits_and_values_in_a_policy_sheet_point_to_toml(tmp_path: Path,
                                                                     key: str) -> None:
    """[[eligible]], [[limits]] and [values] have no sheet form in this version: in a
    workbook's policy sheet they are an input error naming the sheet, row and key and
    pointing to a TOML policy, which the same workbook then solves with."""
    import openpyxl

    frame = pd.read_csv(SAMPLE / "2024.csv", encoding="utf-8-sig")
    book = openpyxl.Workbook()
    book.active.title = "subfunds"
    book.active.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        book.active.append([None if pd.isna(v) else v for v in row])
    sheet = book.create_sheet("policy")
    sheet.append(["key", "value"])
    sheet.append(["budget", 20])
    sheet.append([key, 0.3])
    table = tmp_path / "t.xlsx"
    book.save(table)
    out = tmp_path / "plan.json"
    for lang, words in (("en", "cannot be written in a workbook's policy sheet"),
                        ("zh", "不能写在工作簿的 policy 表中")):
        result = runner.invoke(app, ["solve", str(table), "-o", str(out), "--lang", lang])
        flat = " ".join(result.output.split())
        assert result.exit_code == 2 and words in flat and "row 3" in flat.replace("第 3 行",
                                                                                  "row 3")
        assert key in flat and "TOML" in flat and not out.exists()
    policy = tmp_path / "p.toml"
    policy.write_text('budget = 20\n[[limits]]\nmax_stake = 0.3\n', encoding="utf-8")
    result = runner.invoke(app, ["solve", str(table), "--policy", str(policy), "-o", str(out)])
    assert result.exit_code == 0, result.output
