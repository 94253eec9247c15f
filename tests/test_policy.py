"""models.rules.policy: reading TOML / sheet policies, validation messages, "*" expansion."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fundopt.errors import InputError
from fundopt.models.domain import Measure, Objective, Policy, Rule, Sense, Table
from fundopt.models.rules.expansion import expand, selection_mask
from fundopt.models.rules.policy import load_policy, policy_from_sheets

SPEC_EXAMPLE = """
unit = "亿元"
budget = 40
min_deploy = 0.9
max_stake = 0.3
max_single = 0.15
min_ticket = 0.2
max_funded = 20

[objective]
maximize = "score"

[region."天津"]
min_share = 0.4
max_share = 0.6
[category."高端人才团队"]
min_share = 0.15
[district."*"]
min_count = 1
max_count = 2

[[constraints]]
name = "portfolio risk"
where = { category = ["前沿技术", "高端人才团队"] }
measure = "avg(risk)"
max = 0.5
"""


def make_table(**overrides: Any) -> Table:
    """Six candidates in two regions, four districts (one blank), three categories."""
    data: dict[str, Any] = {
        "id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "name": [f"fund {i}" for i in range(1, 7)],
        "region": ["天津", "天津", "河北", "河北", "天津", "河北"],
        "district": ["静海区", "滨海新区", "石家庄", "", "静海区", "石家庄"],
        "category": ["国家重大平台", "前沿技术", "前沿技术", "高端人才团队", "高端人才团队",
                     "国家重大平台"],
        "max_ticket": [5.0, 4.0, 6.0, 3.0, 2.0, 5.0],
        "min_ticket": [np.nan] * 6,
        "fund_size": [20.0, np.nan, 30.0, 10.0, 8.0, 25.0],
        "score": [1.0, 2.0, 1.5, 1.2, 0.8, 1.1],
        "status": [""] * 6,
        "risk": [0.2, 0.6, 0.4, 0.3, 0.5, 0.1],
        "year": [2024.0, 2024.0, 2025.0, 2025.0, 2024.0, 2025.0],
        "manager": ["甲", "乙", "甲", "丙", "乙", "甲"],
    }
    data.update(overrides)
    frame = pd.DataFrame(data)
    numeric = frozenset(c for c in frame.columns if pd.api.types.is_float_dtype(frame[c]))
    headers = {c: c for c in frame.columns} | {"region": "地区"}
    return Table(path=Path("subfunds.csv"), frame=frame, source_rows=tuple(range(2, 8)),
                 headers=headers, numeric_columns=numeric, sha256="x")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def policy_of(tmp_path: Path, text: str) -> Policy:
    return load_policy(write(tmp_path, text))


def input_error(tmp_path: Path, text: str) -> InputError:
    with pytest.raises(InputError) as info:
        policy_of(tmp_path, text)
    return info.value


def expand_error(tmp_path: Path, text: str, table: Table | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        expand(policy_of(tmp_path, text), table or make_table())
    return info.value


# --- parsing -----------------------------------------------------------------------------

def test_spec_example_parses_to_rules(tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_EXAMPLE)
    policy = load_policy(path)
    assert (policy.budget, policy.unit, policy.min_deploy) == (40, "亿元", 0.9)
    assert (policy.max_stake, policy.max_single, policy.min_ticket) == (0.3, 0.15, 0.2)
    assert (policy.max_funded, policy.min_funded) == (20, None)
    assert policy.objective == Objective(Sense.MAXIMIZE, {"score": 1.0}, normalize=False)
    assert policy.source == str(path)
    assert policy.sha256 is not None and len(policy.sha256) == 64
    assert policy.rules == (
        Rule(None, (("region", ("天津",)),), Measure.SHARE, None, 0.4, 0.6, "region.天津",
             "min_share", "max_share"),
        Rule(None, (("category", ("高端人才团队",)),), Measure.SHARE, None, 0.15, None,
             "category.高端人才团队", "min_share", "max_share"),
        Rule(None, (("district", ("*",)),), Measure.COUNT, None, 1, 2, "district.*",
             "min_count", "max_count"),
        Rule("portfolio risk", (("category", ("前沿技术", "高端人才团队")),), Measure.AVG, "risk",
             None, 0.5, "constraints[1]"),
    )


def test_one_rule_per_measure_of_a_shorthand_table(tmp_path: Path) -> None:
    policy = policy_of(tmp_path, """
        budget = 10
        [region."河北"]
        max_count = 3
        min_amount = 2
        min_share = 0.1
    """)
    assert [(r.measure, r.min, r.max, r.min_key) for r in policy.rules] == [
        (Measure.SHARE, 0.1, None, "min_share"), (Measure.AMOUNT, 2, None, "min_amount"),
        (Measure.COUNT, None, 3, "min_count")]


@pytest.mark.parametrize("text, measure, column", [
    ("amount", Measure.AMOUNT, None), (" share ", Measure.SHARE, None),
    ("count", Measure.COUNT, None), ("sum(call_2025)", Measure.SUM, "call_2025"),
    ("avg( risk )", Measure.AVG, "risk"), ("AVG (risk)", Measure.AVG, "risk"),
])
def test_measure_syntax(tmp_path: Path, text: str, measure: Measure, column: str | None) -> None:
    policy = policy_of(tmp_path, f"""
        budget = 10
        [[constraints]]
        measure = "{text}"
        min = 0
    """)
    assert (policy.rules[0].measure, policy.rules[0].column) == (measure, column)


@pytest.mark.parametrize("objective, expected", [
    ("", Objective()),
    ('maximize = "risk"', Objective(Sense.MAXIMIZE, {"risk": 1.0}, False)),
    ('minimize = "risk"', Objective(Sense.MINIMIZE, {"risk": 1.0}, False)),
    ("weights = { score = 0.7, risk = -0.3 }",
     Objective(Sense.MAXIMIZE, {"score": 0.7, "risk": -0.3}, True)),
    ('weights = { risk = 1 }\nsense = "minimize"', Objective(Sense.MINIMIZE, {"risk": 1.0}, True)),
])
def test_objective_variants(tmp_path: Path, objective: str, expected: Objective) -> None:
    header = "[objective]\n" if objective else ""
    policy = load_policy(write(tmp_path, f"budget = 10\n{header}{objective}\n"))
    assert policy.objective == expected
    expand(policy, make_table())            # every column named exists and is numeric


def test_sheets_give_the_same_policy_as_toml(tmp_path: Path) -> None:
    toml = load_policy(write(tmp_path, SPEC_EXAMPLE))
    policy_rows = [
        ("键", "值", "备注"), ("unit", "亿元"), ("budget", 40), ("min_deploy", "90%"),
        ("max_stake", 0.3), ("max_single", " 0.15 "), ("min_ticket", 0.2),
        ("max_funded", 20), ("min_funded", None), (None, None),
        ("objective.maximize", "score"),
        ("region.天津.min_share", 0.4), ('region."天津".max_share', 0.6),
        ("category.高端人才团队.min_share", 0.15),
        ("district.*.min_count", 1), ("district.*.max_count", 2.0),
    ]
    constraints_rows = [("name", "where", "measure", "min", "max"),
                        ("portfolio risk", "category=前沿技术|高端人才团队", "avg(risk)", None,
                         0.5)]
    sheets = policy_from_sheets(policy_rows, constraints_rows, "t.xlsx[policy]")
    assert sheets == replace(toml, source="t.xlsx[policy]", sha256=None)


def test_sheet_where_with_several_conditions_and_header_less_sheet() -> None:
    policy = policy_from_sheets(
        [("budget", 10), ("objective.weights.score", 1), ("objective.weights.risk", "-0.5")],
        [("名称", "范围", "指标", "下限", "上限"),
         (None, "region=天津; district=*", "count", 1, None)],
        "t.xlsx[policy]")
    assert policy.objective == Objective(Sense.MAXIMIZE, {"score": 1, "risk": -0.5}, True)
    assert policy.rules[0].where == (("region", ("天津",)), ("district", ("*",)))


# --- "*" expansion -----------------------------------------------------------------------

def test_star_expands_per_district_in_table_order_skipping_blanks(tmp_path: Path) -> None:
    constraints = expand(load_policy(write(tmp_path, SPEC_EXAMPLE)), make_table())
    assert [c.id for c in constraints] == [f"c{i}" for i in range(1, 7)]
    assert [c.label for c in constraints] == [
        "region 天津 share", "category 高端人才团队 share", "district 静海区 count",
        "district 滨海新区 count", "district 石家庄 count", "portfolio risk"]
    assert constraints[2].where == (("district", ("静海区",)),)
    assert (constraints[2].min, constraints[2].max, constraints[2].rule.origin) == (
        1, 2, "district.*")


def test_two_star_columns_give_only_combinations_that_occur(tmp_path: Path) -> None:
    constraints = expand(policy_of(tmp_path, """
        budget = 10
        [[constraints]]
        where = { region = "*", category = "*" }
        measure = "count"
        max = 1
    """), make_table())
    assert [c.where for c in constraints] == [
        (("region", (r,)), ("category", (k,))) for r, k in [
            ("天津", "国家重大平台"), ("天津", "前沿技术"), ("河北", "前沿技术"),
            ("河北", "高端人才团队"), ("天津", "高端人才团队"), ("河北", "国家重大平台")]]
    assert constraints[0].label == "count [region=天津, category=国家重大平台]"


def test_star_with_a_fixed_condition_and_numeric_column(tmp_path: Path) -> None:
    constraints = expand(policy_of(tmp_path, """
        budget = 10
        [[constraints]]
        name = "TJ years"
        where = { region = "天津", year = "*" }
        measure = "sum(risk)"
        max = 1
        [[constraints]]
        where = { year = 2025 }
        measure = "amount"
        max = 1
    """), make_table())
    assert [c.label for c in constraints] == ["TJ years [year=2024]",
                                              "amount where year=2025"]
    assert selection_mask(make_table(), constraints[1].where).tolist() == [
        False, False, True, True, False, True]


def test_selection_mask_combines_conditions() -> None:
    where = (("region", ("天津",)), ("category", ("前沿技术", "高端人才团队")))
    mask = selection_mask(make_table(), where)
    assert mask.dtype == bool and mask.tolist() == [False, True, False, False, True, False]
    assert selection_mask(make_table(), ()).all()


def test_clashing_labels_get_a_suffix(tmp_path: Path) -> None:
    constraints = expand(policy_of(tmp_path, """
        budget = 10
        [[constraints]]
        name = "cap"
        measure = "amount"
        max = 5
        [[constraints]]
        name = "cap"
        measure = "count"
        max = 3
    """), make_table())
    assert [c.label for c in constraints] == ["cap", "cap #2"]


# --- errors while reading ------------------------------------------------------------------

def test_unknown_key_names_path_and_suggests(tmp_path: Path) -> None:
    error = input_error(tmp_path, """
        budget = 10
        [region."天津"]
        min_shares = 0.4
    """)
    assert error.column == "region.天津.min_shares"
    text = str(error)
    assert "policy.toml" in text and "region.天津.min_shares" in text
    assert "did you mean 'min_share'?" in text and "max_count" in text


@pytest.mark.parametrize("text, path", [
    ("budgte = 10", "budgte"),
    ("budget = 10\n[objective]\nmaximise = 'score'", "objective.maximise"),
    ("budget = 10\n[[constraints]]\nmesure = 'count'\nmax = 1", "constraints[1].mesure"),
])
def test_unknown_keys_anywhere(tmp_path: Path, text: str, path: str) -> None:
    assert input_error(tmp_path, text).column == path


def test_unknown_measure(tmp_path: Path) -> None:
    error = input_error(tmp_path, """
        budget = 10
        [[constraints]]
        measure = "mean(risk)"
        max = 1
    """)
    assert error.column == "constraints[1].measure"
    assert "unknown measure 'mean(risk)'" in str(error) and "avg(EXPR)" in str(error)


@pytest.mark.parametrize("text, path, words", [
    ("unit = '亿元'", "budget", "budget is missing"),
    ("budget = '40'", "budget", "must be a number"),
    ("budget = true", "budget", "must be a number"),
    ("budget = 0", "budget", "> 0"),
    ("budget = 10\nmin_deploy = 1.5", "min_deploy", "between 0 and 1"),
    ("budget = 10\nmax_stake = 0", "max_stake", "out of range"),
    ("budget = 10\nmax_funded = 2.5", "max_funded", "whole number"),
    ("budget = 10\nmin_funded = -1", "min_funded", "out of range"),
    ("budget = 10\nmin_funded = 3\nmax_funded = 2", "min_funded", "greater than max_funded"),
    ("budget = 10\n[region.'天津']\nmin_share = 0.7\nmax_share = 0.6",
     "region.天津.min_share", "greater than region.天津.max_share"),
    ("budget = 10\n[region.'天津']\nmax_share = 1.2", "region.天津.max_share", "between 0 and 1"),
    ("budget = 10\n[district.'*']\nmin_count = 1.5", "district.*.min_count", "whole number"),
    ("budget = 10\n[district.'*']\nmax_count = -1", "district.*.max_count", "out of range"),
    ("budget = 10\n[region.'天津']", "region.天津", "no bounds"),
    ("budget = 10\n[region]\nmin_share = 0.4", "region.min_share", "inside a region table"),
    ("budget = 10\n[[constraints]]\nmeasure = 'count'\nmin = 3\nmax = 1",
     "constraints[1].min", "greater than"),
    ("budget = 10\n[[constraints]]\nmeasure = 'count'", "constraints[1]", "neither min nor max"),
    ("budget = 10\n[[constraints]]\nmax = 1", "constraints[1].measure", "measure is missing"),
    ("budget = 10\n[[constraints]]\nmeasure = 'amount'\nmax = 1\nwhere = { region = ['*', 'a'] }",
     "constraints[1].where.region", "stand alone"),
    ("budget = 10\n[[constraints]]\nmeasure = 'amount'\nmax = 1\nwhere = { region = true }",
     "constraints[1].where.region", "where value"),
    ("budget = 10\n[objective]\nmaximize = 'score'\nminimize = 'risk'", "objective",
     "exactly one"),
    ("budget = 10\n[objective]\nmaximize = 'score'\nsense = 'minimize'", "objective.sense",
     "only used with weights"),
    ("budget = 10\n[objective]\nweights = { score = 'high' }", "objective.weights.score",
     "must be a number"),
])
def test_bad_values_name_the_key(tmp_path: Path, text: str, path: str, words: str) -> None:
    error = input_error(tmp_path, text)
    assert error.column == path and error.file is not None and error.file.endswith("policy.toml")
    assert words in str(error)


def test_bad_toml_gives_line_and_column(tmp_path: Path) -> None:
    error = input_error(tmp_path, "budget = 10\n[region.天津]\nmin_share = 0.4\n")
    assert error.file is not None and error.file.endswith("policy.toml")
    assert "not valid TOML" in str(error) and "line 2" in str(error)


@pytest.mark.parametrize("seed", range(4))
def test_toml_errors_name_line_and_column_in_both_languages(tmp_path: Path, seed: int) -> None:
    """A broken line put at a random place of a valid policy: the error names that line and
    the column of the broken key part, in English and in Chinese, and keeps the parser's
    detail as written."""
    rng = np.random.default_rng(seed)
    lines = ["budget = 10", "min_deploy = 0.9", "[region.\"天津\"]", "min_share = 0.4",
             "[category.\"前沿技术\"]", "max_share = 0.5"]
    at = int(rng.integers(0, len(lines) + 1))
    indent = " " * int(rng.integers(0, 4))
    lines.insert(at, f"{indent}bad key = 1")   # a bare key cannot hold a space
    error = input_error(tmp_path, "\n".join(lines) + "\n")
    line, column = at + 1, len(indent) + len("bad ") + 1   # both counted from 1
    assert error.file is not None and error.file.endswith("policy.toml")
    assert error.values["line"] == line and error.values["column"] == column
    detail = error.values["detail"]
    assert detail and "(at line" not in detail
    english, chinese = error.render("en"), error.render("zh")
    assert f"not valid TOML at line {line}, column {column}: {detail}" in english
    assert f"TOML 格式错误：第 {line} 行第 {column} 列" in chinese and detail in chinese
    words = chinese.replace(detail, "").replace(error.file, "")
    assert not re.search(r"\b(?!region\b|maximize\b|score\b|TOML\b)[A-Za-z]{3,}", words), words


def test_toml_error_at_the_end_of_the_file(tmp_path: Path) -> None:
    error = input_error(tmp_path, 'budget = 10\nobjective = { maximize = "score"\n')
    assert error.code in ("error.toml", "error.toml_end")
    broken = input_error(tmp_path, "budget = [1, 2")
    assert broken.code == "error.toml_end"
    assert "文件末尾" in broken.render("zh") and broken.values["detail"] in broken.render("zh")
    assert "at the end of the file" in broken.render("en")


def test_sheet_errors_name_sheet_and_row() -> None:
    with pytest.raises(InputError) as info:
        policy_from_sheets([("key", "value"), ("budget", 10), ("region.天津.min_shares", 0.4)],
                           None, "t.xlsx[policy]")
    assert (info.value.file, info.value.row, info.value.column) == (
        "t.xlsx[policy]", 3, "region.天津.min_shares")
    assert "did you mean 'min_share'?" in str(info.value)
    with pytest.raises(InputError) as info:
        policy_from_sheets([("key", "value"), ("budget", 10)],
                           [("name", "where", "measure", "max"), ("a", "region=天津", "count", 1),
                            ("b", None, "avg(risk)", "high")], "t.xlsx[policy]")
    assert (info.value.file, info.value.row, info.value.column) == (
        "t.xlsx[constraints]", 3, "constraints[2].max")
    with pytest.raises(InputError) as info:
        policy_from_sheets([("key", "value"), ("budget", 10)],
                           [("name", "where", "measure", "max"), ("a", "region 天津", "count", 1)],
                           "t.xlsx[policy]")
    assert (info.value.file, info.value.row, info.value.column) == (
        "t.xlsx[constraints]", 2, "where")
    with pytest.raises(InputError) as info:
        policy_from_sheets([("key", "value"), ("budget", 10), ("budget", 20)], None, "p")
    assert info.value.row == 3 and "given twice" in str(info.value)


# --- errors while expanding against the table ---------------------------------------------

def test_unknown_where_column(tmp_path: Path) -> None:
    error = expand_error(tmp_path, """
        budget = 10
        [[constraints]]
        where = { regoin = "天津" }
        measure = "amount"
        max = 1
    """)
    assert error.column == "constraints[1].where.regoin" and error.value == "regoin"
    assert "not in the table" in str(error) and "did you mean 'region'" in str(error).lower()
    assert error.file is not None and error.file.endswith("policy.toml")


def test_header_text_used_as_column_points_at_canonical_name(tmp_path: Path) -> None:
    error = expand_error(tmp_path, """
        budget = 10
        [[constraints]]
        where = { "地区" = "天津" }
        measure = "amount"
        max = 1
    """)
    assert "Use the column name 'region'" in str(error)


def test_where_value_in_no_row(tmp_path: Path) -> None:
    error = expand_error(tmp_path, """
        budget = 10
        [region."天律"]
        min_share = 0.1
    """)
    assert error.column == "region.天律" and error.value == "天律"
    assert "天津, 河北" in str(error) and "Did you mean '天津'?" in str(error)


def test_conditions_that_select_no_row_together(tmp_path: Path) -> None:
    error = expand_error(tmp_path, """
        budget = 10
        [[constraints]]
        where = { region = "天津", district = "石家庄" }
        measure = "amount"
        max = 1
    """)
    assert error.column == "constraints[1].where"


def test_district_shorthand_needs_a_district_column(tmp_path: Path) -> None:
    table = make_table()
    table = replace(table, frame=table.frame.drop(columns=["district"]))
    error = expand_error(tmp_path, 'budget = 10\n[district."*"]\nmax_count = 1\n', table)
    assert error.column == "district.*" and "district column" in str(error)


@pytest.mark.parametrize("measure, words", [("avg(riks)", "not in the table"),
                                            ("sum(manager)", "not numeric")])
def test_measure_column_missing_or_text(tmp_path: Path, measure: str, words: str) -> None:
    error = expand_error(tmp_path, f"""
        budget = 10
        [[constraints]]
        measure = "{measure}"
        max = 1
    """)
    assert error.column == "constraints[1].measure" and words in str(error)


@pytest.mark.parametrize("objective, key", [
    ('maximize = "return"', "objective.maximize"),
    ('minimize = "manager"', "objective.minimize"),
    ("weights = { score = 1, lev = 1 }", "objective.weights.lev"),
])
def test_objective_columns_checked(tmp_path: Path, objective: str, key: str) -> None:
    error = expand_error(tmp_path, f"budget = 10\n[objective]\n{objective}\n")
    assert error.column == key and "subfunds.csv" in str(error)


def test_missing_score_with_default_objective(tmp_path: Path) -> None:
    table = make_table()
    table = replace(table, frame=table.frame.drop(columns=["score"]),
                    numeric_columns=table.numeric_columns - {"score"})
    error = expand_error(tmp_path, "budget = 10\n", table)
    assert error.column == "objective.maximize" and "Add a score" in str(error)


def test_blank_avg_value_in_a_selected_row(tmp_path: Path) -> None:
    text = """
        budget = 10
        [[constraints]]
        name = "TJ risk"
        where = { region = "天津" }
        measure = "avg(risk)"
        max = 0.5
    """
    risk = [0.2, 0.6, np.nan, 0.3, np.nan, 0.1]
    error = expand_error(tmp_path, text, make_table(risk=risk))
    assert (error.row, error.column) == (6, "risk") and "TJ risk" in str(error)
    # blank only outside the selection, or in an excluded row: fine
    status = ["", "", "", "", "exclude", ""]
    assert len(expand(policy_of(tmp_path, text), make_table(risk=risk, status=status))) == 1
