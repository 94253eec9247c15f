"""SPEC §7 headers as offices write them: units in headers, --sheet, title rows, and the
missing-column message."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import ROOT
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.errors import InputError
from fundopt.models.reading.headers import closest, column_of, split_unit
from fundopt.models.reading.inputs import load_inputs
from fundopt.models.reading.table import read_table

SAMPLE = ROOT / "inputs" / "2024.csv"
POLICY = ROOT / "inputs" / "2024.toml"
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def sample_rows() -> tuple[list[Any], list[list[Any]]]:
    with open(SAMPLE, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    numeric = {"max_ticket", "min_ticket", "fund_size", "score", "risk", "reinvest",
               "call_2025"}
    header = rows[0]
    body = [[float(c) if header[i] in numeric and c else (c or None)
             for i, c in enumerate(r)] for r in rows[1:]]
    return header, body


def workbook(path: Path, sheets: list[tuple[str, list[list[Any]], str]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        sheet.sheet_state = state
        for row in rows:
            sheet.append(row)
    book.save(path)
    shutil.copy(POLICY, path.with_suffix(".toml"))
    return path


def scaled(header: list[Any], body: list[list[Any]], column: str, factor: float
           ) -> list[list[Any]]:
    at = header.index(column)
    return [[v * factor if i == at and isinstance(v, float) else v for i, v in enumerate(r)]
            for r in body]


def objective(table: Path, folder: Path) -> float:
    """The optimum of ``table``, from the JSON written into ``folder``."""
    out = folder / f"{table.stem}-result.json"
    code, text = run("solve", table, "-o", out)
    assert code == 0, text
    return float(json.loads(out.read_text(encoding="utf-8"))["objective"])


def test_split_unit_and_column_of() -> None:
    assert split_unit("最高出资（亿元）") == ("最高出资", "亿元")
    assert split_unit("max_ticket (万元)") == ("max_ticket", "万元")
    assert split_unit("fund_size【元】") == ("fund_size", "元")
    assert split_unit("(万元)") == ("(万元)", None)
    assert column_of("最高出资（万元）") == ("max_ticket", "万元")
    assert column_of("MAX_TICKET [亿元]") == ("max_ticket", "亿元")
    assert column_of("评分（分）") == ("score", None)           # not an amount: unit dropped
    assert column_of("call_2025（亿元）") == ("call_2025", "亿元")
    assert column_of("risk (score)") == ("risk (score)", None)  # extra, not money: kept
    assert closest("max_ticket", ["编号", "最高出资额", "score"]) == "最高出资额"
    assert closest("id", ["name", "region"]) is None


def test_units_in_headers_are_converted_to_the_policy_unit(tmp_path: Path) -> None:
    header, body = sample_rows()
    base = load_inputs(SAMPLE)
    renamed = [{"max_ticket": "最高出资（万元）", "min_ticket": "min_ticket (万元)",
                "fund_size": "基金规模【元】", "call_2025": "call_2025（亿元）"}.get(h, h)
               for h in header]
    rows = scaled(header, body, "max_ticket", 1e4)
    rows = scaled(header, rows, "min_ticket", 1e4)
    rows = scaled(header, rows, "fund_size", 1e8)
    path = workbook(tmp_path / "units.xlsx", [("subfunds", [renamed, *rows], "visible")])
    inputs = load_inputs(path)
    for column in ("max_ticket", "min_ticket", "fund_size", "call_2025"):
        assert inputs.table.frame[column].tolist() == pytest.approx(
            base.table.frame[column].tolist(), nan_ok=True, rel=1e-15)
    assert inputs.table.headers["max_ticket"] == "最高出资（亿元）"
    assert inputs.table.headers["fund_size"] == "基金规模【亿元】"
    assert inputs.table.units == {}
    assert objective(path, tmp_path) == pytest.approx(objective(SAMPLE, tmp_path), rel=1e-9)
    # the CSV output names the unit the values are now in
    out = tmp_path / "plan.csv"
    assert run("solve", path, "-o", out)[0] == 0
    assert "最高出资（亿元）" in out.read_text(encoding="utf-8-sig").splitlines()[0]


def test_exact_conversion_of_round_sums(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,region,category,最高出资（万元）,score\n"
                    "a,A,天津,x,5000,1\nb,B,天津,x,1234,1\nc,C,天津,x,30,1\n", encoding="utf-8")
    (tmp_path / "t.toml").write_text('unit = "亿元"\nbudget = 0.5\n', encoding="utf-8")
    assert load_inputs(path).table.frame["max_ticket"].tolist() == [0.5, 0.1234, 0.003]


def test_other_units_must_be_the_policy_unit(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,name,region,category,max_ticket (USD m),score\na,A,T,x,5,1\n",
                    encoding="utf-8")
    policy = tmp_path / "t.toml"
    policy.write_text('unit = "USD m"\nbudget = 4\n', encoding="utf-8")
    assert load_inputs(path).table.frame["max_ticket"].tolist() == [5.0]
    policy.write_text('unit = "亿元"\nbudget = 4\n', encoding="utf-8")
    code, text = run("check", path)
    assert code == 2, text
    assert "the header names the unit 'USD m', but the policy's unit is '亿元'" in \
        " ".join(text.split())
    code, text = run("check", path, "--lang", "zh")
    assert code == 2 and "表头单位为 'USD m'" in text
    policy.write_text('unit = "USD m"\nbudget = 4\n', encoding="utf-8")
    path.write_text("id,name,region,category,max_ticket (万元),score\na,A,T,x,5,1\n",
                    encoding="utf-8")
    assert run("check", path)[0] == 2


def test_table_after_an_instructions_sheet_below_title_rows(tmp_path: Path) -> None:
    header, body = sample_rows()
    path = workbook(tmp_path / "office.xlsx", [
        ("填表说明", [["请按下表填写"], ["金额单位：亿元"]], "visible"),
        ("表1", [["2024年度子基金候选名单"], [None], ["单位：亿元"], header, *body], "visible"),
    ])
    table = read_table(path)
    assert table.sheet == "表1"
    assert table.source_rows[0] == 5 and len(table.frame) == len(body)
    assert objective(path, tmp_path) == pytest.approx(objective(SAMPLE, tmp_path), rel=1e-9)
    # errors name the sheet read and the spreadsheet row
    body[3][header.index("score")] = "abc"
    workbook(path, [("表1", [["标题"], header, *body], "visible")])
    with pytest.raises(InputError) as error:
        read_table(path)
    assert error.value.file == f"{path}[表1]" and error.value.row == 6


def test_sheet_option(tmp_path: Path) -> None:
    header, body = sample_rows()
    path = workbook(tmp_path / "two.xlsx", [("a", [header, *body[:30]], "visible"),
                                            ("b", [header, *body], "visible")])
    assert len(read_table(path).frame) == 30
    assert len(read_table(path, "b").frame) == len(body)
    assert len(read_table(path, " B ").frame) == len(body)     # case and spaces
    for command in ("check", "solve", "explain"):
        extra = ["TJ-BH-01"] if command == "explain" else []
        code, text = run(command, path, *extra, "--sheet", "nope")
        words = " ".join(text.split())
        assert code == 2 and "the workbook has no sheet 'nope'" in words and "'a', 'b'" in words
    scenarios = ROOT / "inputs" / "2024-scenarios.toml"
    code, text = run("compare", path, "--scenarios", scenarios, "--sheet", "nope")
    assert code == 2 and "no sheet 'nope'" in " ".join(text.split())
    code, text = run("sweep", path, "--param", "budget", "--from", "30", "--to", "40",
                     "--steps", "2", "--sheet", "b")
    assert code == 0, text
    code, text = run("check", SAMPLE, "--sheet", "b")
    assert code == 2 and "--sheet applies to .xlsx tables only" in " ".join(text.split())


def test_missing_column_lists_headers_and_the_closest(tmp_path: Path) -> None:
    header, body = sample_rows()
    written = ["最高出资额" if h == "max_ticket" else h for h in header]
    path = workbook(tmp_path / "m.xlsx", [("Sheet1", [written, *body], "visible")])
    with pytest.raises(InputError) as error:
        read_table(path)
    text = error.value.render("en")
    assert error.value.file == f"{path}[Sheet1]"
    assert "missing required column 'max_ticket'" in text
    assert "the header row 1 has: id, name, region, district, category, 最高出资额" in text
    assert "the closest is '最高出资额'" in text
    assert "最接近的是 '最高出资额'" in error.value.render("zh")


def test_hidden_sheets_are_read_only_when_asked(tmp_path: Path) -> None:
    header, body = sample_rows()
    path = workbook(tmp_path / "h.xlsx", [("draft", [header, *body[:5]], "hidden"),
                                          ("final", [header, *body], "visible")])
    table = read_table(path)
    assert table.sheet == "final" and len(table.frame) == len(body)
    assert len(read_table(path, "draft").frame) == 5
    # a hidden subfunds sheet is not read either
    workbook(path, [("subfunds", [header, *body[:5]], "hidden"),
                    ("plan", [header, *body], "visible")])
    assert read_table(path).sheet == "plan"
    workbook(path, [("draft", [header, *body[:5]], "hidden"), ("说明", [["notes"]], "visible")])
    code, text = run("check", path)
    assert code == 2
    assert "the sheet holding the table, 'draft', is hidden" in " ".join(text.split())
    assert "--sheet 'draft'" in text


def test_formula_without_a_cached_value(tmp_path: Path) -> None:
    header, body = sample_rows()
    body[2][header.index("score")] = "=SUM(I2:I3)"
    path = workbook(tmp_path / "f.xlsx", [("subfunds", [header, *body], "visible")])
    code, text = run("check", path)
    words = " ".join(text.split())
    assert code == 2
    assert f"{path}[subfunds], row 4, column 'I': a formula Excel has not calculated" in words
    assert "let it recalculate and save it" in words
    # in the policy sheet too: budget written as a formula
    workbook(path, [("subfunds", [header, *sample_rows()[1]], "visible"),
                    ("policy", [["key", "value"], ["budget", "=30+10"]], "visible")])
    path.with_suffix(".toml").unlink()
    code, text = run("check", path)
    assert code == 2 and "[policy], row 2, column 'B': a formula" in " ".join(text.split())
