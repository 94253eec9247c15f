"""Reports: JSON, CSV, XLSX, atomic writing and the terminal summary."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import fundopt
from fundopt.errors import InputError
from fundopt.models.domain import Caption, CaptionKind, Policy, Table
from fundopt.optimizer.result import (
    ConstraintValue,
    Diagnosis,
    Relaxation,
    Result,
    SolveStatus,
    Warning_,
)
from fundopt.reports.files.atomic import atomic_write
from fundopt.reports.files.export import check_output_paths, result_dict, write_outputs
from fundopt.reports.frames import group_totals, plan_display, plan_frame
from fundopt.reports.labels import label
from fundopt.reports.terminal.summary import render_summary
from fundopt.reports.text import CATALOGS

HEADERS = {"id": "编号", "name": "名称", "region": "地区", "district": "区县",
           "category": "类别", "max_ticket": "最高出资", "fund_size": "基金规模",
           "score": "评分", "manager": "管理人"}


def make_table(tmp_path: Path) -> Table:
    frame = pd.DataFrame({
        "id": ["TJ-01", "TJ-02", "HB-01", "HB-02"],
        "name": ["滨海基金", "=SUM(A1)", "雄安基金", "+cmd"],
        "region": ["天津", "天津", "河北", "河北"],
        "district": ["滨海新区", "", "雄安新区", "石家庄"],
        "category": ["前沿技术", "国家重大平台", "前沿技术", "高端人才团队"],
        "max_ticket": [5.0, 4.0, 6.0, 3.0],
        "fund_size": [20.0, np.nan, 30.0, 10.0],
        "score": [1.2, 0.9, 1.1, 0.7],
        "manager": ["@张三", "李四", "-王五", "赵六"],
    })
    path = tmp_path / "subfunds.csv"
    path.write_text("placeholder", encoding="utf-8")
    return Table(path=path, frame=frame, source_rows=(2, 3, 4, 5), headers=dict(HEADERS),
                 numeric_columns=frozenset({"max_ticket", "fund_size", "score"}),
                 sha256="ab" * 32)


def make_policy(tmp_path: Path) -> Policy:
    path = tmp_path / "subfunds.toml"
    path.write_text("budget = 10\n", encoding="utf-8")
    return Policy(budget=10.0, source=str(path), unit="亿元", sha256="cd" * 32)


def _shorthand(column: str, value: str, measure: str) -> Caption:
    """The caption ``models.rules.expansion`` gives the line ``[column."value"] min_measure``."""
    return Caption(CaptionKind.SHORTHAND, column, (value,), ((measure, None),))


def optimal_result() -> Result:
    amounts = np.array([5.0, 0.0, 3.0, 2.0])
    constraints = (
        ConstraintValue("budget", "budget", "amount", 10.0, None, 10.0, 0.0, True, 1.15,
                        "max", caption=Caption(CaptionKind.BUILTIN, "budget")),
        ConstraintValue("c1", "region 天津 share", "share", 0.5, 0.4, 0.6, 0.1, False, 0.0,
                        caption=_shorthand("region", "天津", "share")),
        ConstraintValue("c2", "portfolio risk", "avg", float("nan"), None, 0.5,
                        float("inf"), False, 0.0),
    )
    warnings = (Warning_("unfundable", "TJ-02", {"min_ticket": 5.0, "cap": 4.0,
                                                  "blocked_by": "max_ticket"}),)
    return Result(SolveStatus.OPTIMAL, 12.3, amounts, amounts > 0, 10.0, constraints,
                  warnings, "HiGHS 1.16", 0.05, gap=0.0)


def infeasible_result() -> Result:
    diagnosis = Diagnosis(
        relaxation=(Relaxation("region 河北 share", "min", 0.7, 0.6, "region.河北.min_share",
                                id="c2", caption=_shorthand("region", "河北", "share")),),
        conflict=("region 河北 share", "region 天津 share"), conflict_ids=("c2", "c1"),
        captions={"c2": _shorthand("region", "河北", "share"),
                  "c1": _shorthand("region", "天津", "share")},
    )
    return Result(SolveStatus.INFEASIBLE, None, np.zeros(4), np.zeros(4, dtype=bool), 0.0,
                  (), (), "HiGHS 1.16", 0.02, diagnosis=diagnosis)


@pytest.fixture
def case(tmp_path: Path) -> tuple[Table, Policy, Result, list[Path]]:
    table, policy = make_table(tmp_path), make_policy(tmp_path)
    return table, policy, optimal_result(), [table.path, Path(policy.source)]


# --- labels and frames ------------------------------------------------------------------

def test_labels_have_both_languages() -> None:
    assert all(CATALOGS["en"][key] and CATALOGS["zh"][key] for key in CATALOGS["en"])
    assert label("status.optimal", "zh") == "最优"
    assert label("shadow_price", "en") == "shadow price"
    assert label("sheet.manifest", "zh") == "清单"


def test_plan_frame(case: tuple[Table, Policy, Result, list[Path]]) -> None:
    table, policy, result, _ = case
    plan = plan_frame(table, policy, result)
    assert list(plan.columns) == [*HEADERS, "amount", "funded", "share_of_budget", "stake"]
    assert plan["id"].tolist() == ["TJ-01", "TJ-02", "HB-01", "HB-02"]
    assert plan["share_of_budget"].tolist() == [0.5, 0.0, 0.3, 0.2]
    assert plan["stake"].iloc[0] == 0.25 and math.isnan(plan["stake"].iloc[1])
    assert plan["funded"].tolist() == [True, False, True, True]


def test_group_totals_in_order_of_first_appearance(
        case: tuple[Table, Policy, Result, list[Path]]) -> None:
    table, policy, result, _ = case
    region = group_totals(table, policy, result, "region")
    assert region["region"].tolist() == ["天津", "河北"]
    assert region["amount"].tolist() == [5.0, 5.0]
    assert region["share"].tolist() == [0.5, 0.5]
    assert region["count"].tolist() == [1, 2]
    category = group_totals(table, policy, result, "category")
    assert category["category"].tolist() == ["前沿技术", "国家重大平台", "高端人才团队"]
    assert category["amount"].tolist() == [8.0, 0.0, 2.0]


# --- JSON -------------------------------------------------------------------------------

def test_json_keys_and_values(case: tuple[Table, Policy, Result, list[Path]],
                              tmp_path: Path) -> None:
    table, policy, result, inputs = case
    out = tmp_path / "out" / "result.json"
    write_outputs([out], table, policy, result, "zh", inputs)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "滨海基金" in out.read_text(encoding="utf-8")  # ensure_ascii=False
    assert {"status", "objective", "unit", "budget", "committed", "allocations",
            "constraints", "manifest", "warnings"} <= data.keys()
    assert (data["status"], data["objective"], data["unit"]) == ("optimal", 12.3, "亿元")
    assert (data["budget"], data["committed"]) == (10.0, 10.0)
    assert data["allocations"][0] == {"id": "TJ-01", "name": "滨海基金", "amount": 5.0,
                                      "funded": True}
    assert [a["id"] for a in data["allocations"]] == ["TJ-01", "TJ-02", "HB-01", "HB-02"]
    first = data["constraints"][0]
    assert {"name", "id", "measure", "value", "min", "max", "slack", "binding",
            "shadow_price"} <= first.keys()
    assert (first["name"], first["binding"], first["shadow_price"]) == ("budget", True, 1.15)
    risk = data["constraints"][2]
    assert risk["value"] is None and risk["slack"] is None  # NaN / inf → null
    manifest = data["manifest"]
    assert manifest["fundopt"] == fundopt.__version__
    assert manifest["input_sha256"] == "ab" * 32 and manifest["policy_sha256"] == "cd" * 32
    assert manifest["solver"] == "HiGHS 1.16" and manifest["created"]
    assert data["warnings"][0]["code"] == "unfundable"
    assert "diagnosis" not in data


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_cap_at_its_limit_as_shown_is_binding_everywhere(tmp_path: Path, lang: str) -> None:
    """A risk cap at 0.6199999999999999 (shown 0.62) against 0.62 that the solver left
    unflagged is binding in the JSON, in the terminal's binding list and in the audit sheet;
    one at 0.61 is not."""
    from dataclasses import replace

    from fundopt.reports.workbook.review import audit_rows

    table, policy = make_table(tmp_path), make_policy(tmp_path)
    base = optimal_result()
    at_cap = ConstraintValue("c2", "portfolio risk", "avg", 0.6199999999999999, None, 0.62,
                             1e-16, False, 0.0)
    below = replace(at_cap, id="c3", label="portfolio score", value=0.61, slack=0.01)
    result = replace(base, constraints=(*base.constraints[:2], at_cap, below))
    data = result_dict(table, policy, result, lang)
    flags = {c["id"]: (c["binding"], c["bound"]) for c in data["constraints"]}
    assert flags["c2"] == (True, "max") and flags["c3"] == (False, None)
    assert flags["c1"] == (False, None) and flags["budget"] == (True, "max")
    text = render(table, policy, result, lang)
    listed = text[text.index(label("binding_constraints", lang)):]
    assert "portfolio risk" in listed and "portfolio score" not in listed
    rows = {r[0][1]: r[0][6] for r in audit_rows(result, lang)[1:]}
    assert rows["portfolio risk"] == label("yes", lang)
    assert rows["portfolio score"] == label("no", lang)


def test_json_infeasible_has_diagnosis(tmp_path: Path) -> None:
    table, policy = make_table(tmp_path), make_policy(tmp_path)
    data = result_dict(table, policy, infeasible_result())
    assert data["status"] == "infeasible" and data["objective"] is None
    assert data["diagnosis"]["relaxation"][0] == {
        "constraint": "region 河北 share", "bound": "min", "from": 0.7, "to": 0.6,
        "key": "region.河北.min_share", "id": "c2",
        "text": "region 河北 share min 70% → 60% (region.河北.min_share)"}
    assert data["diagnosis"]["conflict"] == ["region 河北 share", "region 天津 share"]
    assert all(a["amount"] == 0.0 and a["funded"] is False for a in data["allocations"])


# --- CSV --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_csv_bom_protection_and_round_trip(
        case: tuple[Table, Policy, Result, list[Path]], tmp_path: Path, lang: str) -> None:
    table, policy, result, inputs = case
    out = tmp_path / "plan.csv"
    write_outputs([out], table, policy, result, lang, inputs)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    added = (["amount", "funded", "share_of_budget", "stake"] if lang == "en"
             else ["出资额", "是否出资", "占预算比例", "占子基金比例"])
    assert list(back.columns) == [*HEADERS.values(), *added]
    assert back["名称"].tolist() == ["滨海基金", "'=SUM(A1)", "雄安基金", "'+cmd"]
    assert back["管理人"].tolist() == ["'@张三", "李四", "'-王五", "赵六"]
    assert back[added[0]].tolist() == [5.0, 0.0, 3.0, 2.0]  # numbers untouched
    assert back["编号"].tolist() == ["TJ-01", "TJ-02", "HB-01", "HB-02"]


# --- XLSX -------------------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "sheets"), [
    ("en", ["plan", "summary", "constraints", "manifest"]),
    ("zh", ["方案", "汇总", "约束", "清单"]),
])
def test_xlsx_workbook(case: tuple[Table, Policy, Result, list[Path]], tmp_path: Path,
                       lang: str, sheets: list[str]) -> None:
    from openpyxl import load_workbook

    table, policy, result, inputs = case
    out = tmp_path / "review.xlsx"
    write_outputs([out], table, policy, result, lang, inputs)
    book = load_workbook(out)
    # The review sheets of issue 3 (cover first, pivot, districts, audit) come in between.
    assert book.sheetnames[0] == ("cover" if lang == "en" else "封面")
    assert [name for name in book.sheetnames if name in sheets] == sheets
    for sheet in book.worksheets[1:]:  # the cover has no header row to freeze
        assert sheet.freeze_panes == "A2"
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
        assert all(c.font.bold for c in sheet[1] if c.value is not None)
    plan = book[sheets[0]]
    header = [c.value for c in plan[1]]
    assert header[:3] == ["编号", "名称", "地区"]
    # the committee's columns, the amount with its unit; the appendix has every column
    amount_col = header.index("amount (亿元)" if lang == "en" else "出资额（亿元）") + 1
    share_col = header.index("share_of_budget" if lang == "en" else "占预算比例") + 1
    stake_col = header.index("stake" if lang == "en" else "占子基金比例") + 1
    assert plan.cell(2, amount_col).value == 5.0
    # each format with "_)": a gap after a right-aligned number, before the next text
    assert plan.cell(2, amount_col).number_format == "#,##0.00_)"
    assert plan.cell(2, share_col).number_format == "0.0%_)"
    assert plan.cell(2, stake_col).number_format == "0.0%_)"
    assert plan.cell(3, stake_col).value is None  # no fund_size
    name = plan.cell(3, 2)
    assert name.value == "=SUM(A1)" and name.data_type == "s"
    last = [c.value for c in plan[plan.max_row]]
    assert last[0] == ("total" if lang == "en" else "合计")
    assert last[amount_col - 1] == pytest.approx(float(result.committed))
    assert plan.cell(1, amount_col).alignment.horizontal == "right"  # over its numbers
    appendix = book.worksheets[-1]  # every input column, as the CSV has them
    assert [c.value for c in appendix[1]] == list(
        plan_display(table, policy, result, lang).columns)
    assert len([c.value for c in appendix[1]]) > len(header)
    # CJK names count double: the name column is wider than its longest ASCII length.
    assert plan.column_dimensions["B"].width >= 2 * len("滨海基金")
    summary_text = [c.value for row in book[sheets[1]].iter_rows() for c in row]
    assert "天津" in summary_text and "河北" in summary_text and "滨海新区" in summary_text
    manifest = {r[0].value: r[1].value for r in book[sheets[3]].iter_rows(min_row=2)}
    assert "ab" * 32 in manifest.values()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_xlsx_shadow_prices_say_their_unit(tmp_path: Path, lang: str) -> None:
    """The constraints and audit sheets give each binding line's shadow price in words with
    its unit (a share's per percentage point), as the terminal does; random prices, checked
    against plain string formatting."""
    from dataclasses import replace

    from openpyxl import load_workbook

    rng = np.random.default_rng(int.from_bytes(lang.encode(), "big"))
    table, policy = make_table(tmp_path), make_policy(tmp_path)
    base = optimal_result()
    words = {"en": {"share": "{p} per percentage point", "amount": "{p} per 亿元",
                    "count": "{p} per sub-fund"},
             "zh": {"share": "每个百分点 {p}", "amount": "每亿元 {p}", "count": "每个子基金 {p}"}}
    lines, expected = [], {}
    for i, measure in enumerate(["share", "amount", "count", "share", "amount"]):
        price = float(rng.uniform(0.5, 900))
        name = f"line {i}"
        lines.append(ConstraintValue(f"c{i}", name, measure, 4.0 if measure != "share"
                                     else 0.4, 0.4 if measure == "share" else 4.0, None, 0.0,
                                     True, price, "min"))
        per = price / 100 if measure == "share" else price
        expected[name] = words[lang][measure].format(p=f"+{per:,.2f}")
    lines.append(ConstraintValue("c9", "line 9", "count", 2.0, 2.0, None, 0.0, True,
                                 float("nan"), "min"))
    expected["line 9"] = "—"  # a count in a MILP has no price
    result = replace(base, constraints=(base.constraints[0], *lines))
    out = tmp_path / "review.xlsx"
    write_outputs([out], table, policy, result, lang, [table.path, Path(policy.source)])
    book = load_workbook(out)
    for key, name_col in (("sheet.constraints", 0), ("sheet.audit", 1)):
        sheet = book[label(key, lang)]
        rows = list(sheet.iter_rows(values_only=True))
        price_col = list(rows[0]).index(label("shadow_price", lang))
        found = {r[name_col]: r[price_col] for r in rows[1:] if r[name_col] in expected}
        assert found == expected, key


def test_xlsx_infeasible_lists_diagnosis(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    table, policy = make_table(tmp_path), make_policy(tmp_path)
    out = tmp_path / "infeasible.xlsx"
    write_outputs([out], table, policy, infeasible_result(), "zh", [table.path])
    values = [c.value for row in load_workbook(out)["汇总"].iter_rows() for c in row]
    assert "地区 河北 占比 下限 70% → 60%（政策键 region.河北.min_share）" in values
    assert "地区 天津 占比" in values


# --- paths and atomic writes ------------------------------------------------------------

def test_refuses_to_overwrite_an_input(case: tuple[Table, Policy, Result, list[Path]]
                                       ) -> None:
    table, policy, result, inputs = case
    before = table.path.read_bytes()
    sneaky = table.path.parent / "." / table.path.name
    with pytest.raises(InputError, match="over an input"):
        write_outputs([sneaky], table, policy, result, "en", inputs)
    assert table.path.read_bytes() == before


def test_paths_are_checked_before_anything_is_written(
        case: tuple[Table, Policy, Result, list[Path]], tmp_path: Path) -> None:
    table, policy, result, inputs = case
    good = tmp_path / "ok.json"
    with pytest.raises(InputError) as error:
        write_outputs([good, tmp_path / "plan.txt"], table, policy, result, "en", inputs)
    assert str(error.value).endswith("; expected .json, .csv, .xlsx, .pdf or .html")
    assert not good.exists()
    with pytest.raises(InputError) as error:  # sweep, compare …: no memo
        check_output_paths([tmp_path / "sweep.pdf"], inputs)
    assert str(error.value).endswith("; expected .json, .csv or .xlsx")
    with pytest.raises(InputError, match="twice"):
        check_output_paths([good, tmp_path / "." / "ok.json"], inputs)
    check_output_paths([good, tmp_path / "new" / "plan.XLSX"], inputs)


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.json"
    def write(text: str) -> Callable[[Path], None]:
        return lambda p: None if p.write_text(text, encoding="utf-8") else None

    atomic_write(target, write("1"))
    atomic_write(target, write("2"))
    assert target.read_text(encoding="utf-8") == "2"

    def broken(path: Path) -> None:
        path.write_text("partial", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(InputError, match="cannot write the output: disk full") as error:
        atomic_write(target, broken)
    assert error.value.file == str(target)
    assert target.read_text(encoding="utf-8") == "2"
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


# --- terminal ---------------------------------------------------------------------------

def render(table: Table, policy: Policy, result: Result, lang: str) -> str:
    console = Console(record=True, width=120)
    render_summary(console, table, policy, result, lang)
    return console.export_text()


def test_terminal_summary_english(case: tuple[Table, Policy, Result, list[Path]]) -> None:
    table, policy, result, _ = case
    text = render(table, policy, result, "en")
    for expected in ("status: optimal", "objective", "12.3", "10.00 亿元", "100.0%",
                     "totals by region", "天津", "滨海新区", "binding constraints",
                     "shadow price", "1.15", "funded sub-funds (3)", "雄安基金", "25.0%",
                     "sub-fund TJ-02 cannot be funded"):
        assert expected in text, expected
    assert "=SUM(A1)" not in text  # TJ-02 is not funded


def test_terminal_summary_chinese(case: tuple[Table, Policy, Result, list[Path]]) -> None:
    table, policy, result, _ = case
    text = render(table, policy, result, "zh")
    for expected in ("状态: 最优", "目标值", "已承诺出资", "预算", "按地区汇总", "按区县汇总",
                     "（空）", "紧约束", "影子价格", "获出资子基金", "出资额", "警告"):
        assert expected in text, expected


def test_terminal_feasible_says_time_limit(
        case: tuple[Table, Policy, Result, list[Path]]) -> None:
    table, policy, result, _ = case
    feasible = Result(SolveStatus.FEASIBLE, 12.0, result.amounts, result.funded, 10.0, (),
                      (), "HiGHS", 60.0, gap=0.0123)
    assert "time limit reached, MIP gap 1.23%" in render(table, policy, feasible, "en")
    assert "已达到时间限制" in render(table, policy, feasible, "zh")


@pytest.mark.parametrize(("lang", "sentence", "title"), [
    ("en", "region 河北 share min 70% → 60% (region.河北.min_share)", "conflicting"),
    ("zh", "地区 河北 占比 下限 70% → 60%（政策键 region.河北.min_share）", "相互冲突的约束"),
])
def test_terminal_infeasible_diagnosis(tmp_path: Path, lang: str, sentence: str,
                                       title: str) -> None:
    text = render(make_table(tmp_path), make_policy(tmp_path), infeasible_result(), lang)
    tianjin = "region 天津 share" if lang == "en" else "地区 天津 占比"
    assert sentence in text and title in text and tianjin in text
    assert label("status.infeasible", lang) in text


def test_terminal_does_not_interpret_markup(tmp_path: Path) -> None:
    table = make_table(tmp_path)
    frame = table.frame.assign(name=["[bold]x[/bold]", "b", "c", "d"])
    table = Table(table.path, frame, table.source_rows, table.headers,
                  table.numeric_columns, table.sha256)
    assert "[bold]x[/bold]" in render(table, make_policy(tmp_path), optimal_result(), "en")


def test_policy_key_relaxation_is_said_once() -> None:
    from fundopt.reports.labels import relaxation_text

    change = Relaxation("budget", "budget", 40.0, 45.5, "budget")
    assert relaxation_text(change, "en") == "budget 40 → 45.5 (budget)"
    assert relaxation_text(change, "zh") == "预算 40 → 45.5（政策键 budget）"


def test_openpyxl_is_imported_only_when_writing_xlsx() -> None:
    import subprocess
    import sys

    code = ("import sys, fundopt.reports.files.export, fundopt.reports.terminal.summary; "
            "sys.exit('openpyxl' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
