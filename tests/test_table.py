"""Tests of ``models.reading.table``: reading and validating the sub-fund table (SPEC §2)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fundopt.errors import InputError
from fundopt.models.domain import EXCLUDE, MUST
from fundopt.models.reading.table import read_table

HEADER = "id,name,region,district,category,max_ticket,min_ticket,fund_size,score,status"
ROWS = [
    "TJ-01,滨海基金,天津,滨海新区,国家重大平台,3,0.5,20,8.5,must",
    "HB-01,雄安基金,河北,雄安新区,前沿技术,2.5,,,7,",
]


def write_csv(tmp_path: Path, lines: list[str], name: str = "t.csv",
              encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def error_of(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_table(path)
    return info.value


# --- encodings and formats -------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_csv(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path, [HEADER, *ROWS], encoding=encoding)
    table = read_table(path)
    frame = table.frame
    assert list(frame.columns) == HEADER.split(",")
    assert isinstance(frame.index, pd.RangeIndex) and list(frame.index) == [0, 1]
    assert frame["id"].tolist() == ["TJ-01", "HB-01"]
    assert frame["name"].iat[0] == "滨海基金"
    assert frame["max_ticket"].dtype == np.float64
    assert frame["max_ticket"].tolist() == [3.0, 2.5]
    assert frame["min_ticket"].isna().iat[1] and frame["fund_size"].isna().iat[1]
    assert frame["status"].tolist() == [MUST, ""]
    assert table.source_rows == (2, 3)
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table.numeric_columns == {"max_ticket", "min_ticket", "fund_size", "score"}
    assert table.headers["id"] == "id" and table.policy_sheet is None


def test_gb18030_csv_with_chinese_headers(tmp_path: Path) -> None:
    lines = ["编号,子基金名称,省市,区县,投资方向,最高出资,最低出资,子基金规模,综合评分,状态",
             "TJ-01,滨海基金,天津,滨海新区,高端人才团队,3,0.5,20,8.5,必投",
             "HB-01,雄安基金,河北,,重大科技专项,2,,,7,排除"]
    table = read_table(write_csv(tmp_path, lines, encoding="gb18030"))
    assert list(table.frame.columns) == HEADER.split(",")
    assert table.frame["category"].tolist() == ["高端人才团队", "重大科技专项"]
    assert table.frame["district"].tolist() == ["滨海新区", ""]
    assert table.frame["status"].tolist() == [MUST, EXCLUDE]
    assert table.headers["name"] == "子基金名称" and table.headers["score"] == "综合评分"


def test_undecodable_csv(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,name\n\xff\xff,x\n")
    err = error_of(path)
    assert "cannot decode" in str(err) and "GB18030" in str(err) and str(path) in str(err)


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


XLSX_ROWS: list[list[object]] = [
    ["ID", "Name", "Region", "Category", "Max_Ticket", "Score", "risk", "manager"],
    [101.0, "滨海基金", "天津", "国家重大平台", 3, 8.5, 0.2, "甲"],
    [102, "雄安基金", "河北", "前沿技术", "1,234.5", 7, None, "乙"],
]


def test_xlsx_subfunds_sheet_and_policy_sheets(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "t.xlsx", {
        "policy": [["key", "value"], ["budget", 40], [None, None]],
        "subfunds": XLSX_ROWS,
        "constraints": [["name", "measure", "max"], ["risk", "avg(risk)", 0.5]],
    })
    table = read_table(path)
    assert table.frame["id"].tolist() == ["101", "102"]
    assert table.frame["max_ticket"].tolist() == [3.0, 1234.5]
    assert table.frame["risk"].iat[0] == 0.2 and table.frame["risk"].isna().iat[1]
    assert table.numeric_columns == {"max_ticket", "score", "risk"}
    assert table.headers == {"id": "ID", "name": "Name", "region": "Region",
                             "category": "Category", "max_ticket": "Max_Ticket",
                             "score": "Score", "risk": "risk", "manager": "manager"}
    assert table.policy_sheet == (("key", "value"), ("budget", 40))
    assert table.constraints_sheet == (("name", "measure", "max"), ("risk", "avg(risk)", 0.5))


def test_xlsx_first_sheet_fallback(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "t.xlsx", {"候选": XLSX_ROWS, "other": [["x"], [1]]})
    table = read_table(path)
    assert table.frame["name"].tolist() == ["滨海基金", "雄安基金"]
    assert table.policy_sheet is None and table.constraints_sheet is None


def test_xlsx_error_names_spreadsheet_row(tmp_path: Path) -> None:
    rows = [XLSX_ROWS[0], [], XLSX_ROWS[1], ["103", "x", "天津", "c", "lots", 1, 0, "丙"]]
    err = error_of(make_xlsx(tmp_path / "t.xlsx", {"subfunds": rows}))
    assert err.row == 4 and err.column == "Max_Ticket" and err.value == "lots"


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"this is not a zip file")
    err = error_of(path)
    assert err.message == "not a readable .xlsx file" and err.file == str(path)


def test_unknown_extension(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, *ROWS], name="t.txt")
    err = error_of(path)
    assert "unsupported table format" in str(err) and ".csv or .xlsx" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nope.csv")
    assert err.message == "table file not found" and err.file == str(tmp_path / "nope.csv")


# --- values ----------------------------------------------------------------------------

def test_thousands_percent_spaces_and_extra_columns(tmp_path: Path) -> None:
    lines = ["id, Name ,region,category,max_ticket,score,leverage,notes",
             'a1,甲,天津,c," 1,234.5 ", 30% ,1.5,first',
             "a2,乙,河北,c,2, 7 ,,12",
             "",
             "a3,丙,河北,c,1e1,-1.5,2,",
             "", ""]
    table = read_table(write_csv(tmp_path, lines))
    frame = table.frame
    assert frame["max_ticket"].tolist() == [1234.5, 2.0, 10.0]
    assert frame["score"].tolist() == pytest.approx([0.30, 7.0, -1.5])
    assert frame["leverage"].dtype == np.float64 and frame["leverage"].isna().iat[1]
    assert frame["notes"].tolist() == ["first", "12", ""]
    assert "leverage" in table.numeric_columns and "notes" not in table.numeric_columns
    assert table.source_rows == (2, 3, 5)       # the blank row 4 is skipped, not renumbered
    assert table.headers["name"] == "Name"


def test_blank_extra_column_stays_text(tmp_path: Path) -> None:
    lines = ["id,name,region,category,max_ticket,remark", "a,b,c,d,1,", "e,f,g,h,2,"]
    table = read_table(write_csv(tmp_path, lines))
    assert "remark" not in table.numeric_columns and table.frame["remark"].tolist() == ["", ""]


@pytest.mark.parametrize("written", ["MUST", " Must ", "必投"])
def test_status_aliases(tmp_path: Path, written: str) -> None:
    lines = ["id,name,region,category,max_ticket,Status", f"a,b,c,d,1,{written}",
             "e,f,g,h,2,Exclude", "i,j,k,l,3,排除", "m,n,o,p,4,"]
    table = read_table(write_csv(tmp_path, lines))
    assert table.frame["status"].tolist() == [MUST, EXCLUDE, EXCLUDE, ""]


# --- errors ----------------------------------------------------------------------------

GOOD = "a,甲,天津,c,1"
BASE = "id,name,region,category,max_ticket"


def csv_error(tmp_path: Path, lines: list[str]) -> InputError:
    return error_of(write_csv(tmp_path, lines))


def test_ragged_row(tmp_path: Path) -> None:
    err = csv_error(tmp_path, [BASE, GOOD, "b,乙,河北,c,1,234"])
    assert err.row == 3 and "ragged row: 6 fields, but the header has 5" in str(err)
    assert "row 3" in str(err)


def test_duplicate_id(tmp_path: Path) -> None:
    err = csv_error(tmp_path, [BASE, GOOD, "b,乙,河北,c,1", "a,丙,河北,c,1"])
    assert err.row == 4 and err.column == "id" and err.value == "a"
    assert "duplicate id 'a' (rows 2 and 4)" in str(err)


@pytest.mark.parametrize("header,missing", [
    ("id,name,region,category", "max_ticket"),
    ("编号,名称,类别,最高出资", "region"),
])
def test_missing_required_column(tmp_path: Path, header: str, missing: str) -> None:
    err = csv_error(tmp_path, [header, "a,b,c,1"])
    assert f"missing required column {missing!r}" in str(err)
    assert "最高出资" in str(err) if missing == "max_ticket" else "地区 / 省市" in str(err)


@pytest.mark.parametrize("header,row,message", [
    (BASE + ",Name", 1, "duplicate header: 'name' and 'Name'"),
    (BASE + ",名称", 1, "two columns both mean 'name': 'name' and '名称'"),
    (BASE + ",NOTES, notes", 1, "duplicate header: 'NOTES' and 'notes'"),
    (BASE + ",", 2, "column F holds values but has no header"),
])
def test_bad_headers(tmp_path: Path, header: str, row: int, message: str) -> None:
    err = csv_error(tmp_path, [header, GOOD + ",x" * (header.count(",") - 4)])
    assert err.row == row and message in str(err)


def test_blank_headerless_column_is_dropped(tmp_path: Path) -> None:
    table = read_table(write_csv(tmp_path, [BASE + ",,", GOOD + ",,"]))
    assert list(table.frame.columns) == BASE.split(",")


@pytest.mark.parametrize("value,column,message", [
    ("abc", "max_ticket", "not a finite number"),
    ("inf", "max_ticket", "not a finite number"),
    ("nan", "score", "not a finite number"),
    ("1,2", "score", "not a finite number"),
    ("%", "score", "not a finite number"),
    ("-1", "max_ticket", "number out of range"),
    ("0", "max_ticket", "number out of range"),
    ("", "max_ticket", "required value is blank"),
    ("-0.5", "min_ticket", "number out of range"),
    ("0", "fund_size", "number out of range"),
])
def test_bad_numbers(tmp_path: Path, value: str, column: str, message: str) -> None:
    header = "ID,name,region,category,max_ticket,min_ticket,fund_size,score"
    row = {"max_ticket": "2", "min_ticket": "0", "fund_size": "10", "score": "1"}
    row[column] = f'"{value}"'
    bad = "b,乙,河北,c," + ",".join(row.values())
    err = csv_error(tmp_path, [header, "a,甲,天津,c,1,0,10,5", "", bad])
    assert err.row == 4 and err.column == column and err.value == value
    assert message in str(err) and f"row 4, column {column!r}" in str(err)
    if "finite" in message:
        assert "a finite number" in str(err)


def test_blank_required_text(tmp_path: Path) -> None:
    err = csv_error(tmp_path, ["编号,名称,地区,类别,最高出资", GOOD, "b,乙, ,c,1"])
    assert err.row == 3 and err.column == "地区" and "required value is blank" in str(err)


def test_blank_id(tmp_path: Path) -> None:
    err = csv_error(tmp_path, [BASE, GOOD, " ,乙,河北,c,1"])
    assert err.row == 3 and err.column == "id"


def test_bad_status(tmp_path: Path) -> None:
    err = csv_error(tmp_path, [BASE + ",状态", GOOD + ",必投", "b,乙,河北,c,1,maybe"])
    assert err.row == 3 and err.column == "状态" and err.value == "maybe"
    assert "must / 必投, exclude / 排除, or blank" in str(err)
    assert "未知状态" in err.render("zh")


@pytest.mark.parametrize("lines", [[BASE], [BASE, "", " , , , , "], []])
def test_empty_table(tmp_path: Path, lines: list[str]) -> None:
    err = csv_error(tmp_path, lines)
    assert "no candidate rows" in str(err)


def test_underscore_and_decimal_comma_are_not_numbers(tmp_path: Path) -> None:
    err = csv_error(tmp_path, [BASE, GOOD, "b,乙,河北,c,1_000"])
    assert err.row == 3 and err.value == "1_000"
    lines = [BASE + ",weight", GOOD + ',"1,5"', "b,乙,河北,c,1,2"]
    assert "weight" not in read_table(write_csv(tmp_path, lines)).numeric_columns


def test_xlsx_uneven_rows_and_headerless_values(tmp_path: Path) -> None:
    rows: list[list[object]] = [["id", "name", "region", "category", "max_ticket"],
                                ["a", "甲", "天津", "c", 1], ["b", "乙", "河北", "c", 2, "stray"]]
    err = error_of(make_xlsx(tmp_path / "t.xlsx", {"Sheet1": rows}))
    assert err.row == 3 and err.value == "stray" and "column F holds values" in str(err)
    assert "第 F 列有数据但没有表头" in err.render("zh")


def test_chinese_rendering_of_number_error(tmp_path: Path) -> None:
    err = csv_error(tmp_path, ["编号,名称,地区,类别,最高出资", GOOD, "b,乙,河北,c,inf"])
    assert err.render("zh").startswith(f"{err.file}, 第 3 行, 列 “最高出资”: 不是有限数值")


# --- the two CSV paths: unquoted files (pandas' tokenizer), quoted ones (csv module) ------

@pytest.mark.parametrize("quoted", [False, True])
def test_both_csv_paths_agree(tmp_path: Path, quoted: bool) -> None:
    name = '"滨海, 一期"' if quoted else "滨海一期"
    lines = [BASE + ",note", f"101,{name},天津,c,1,x", "", "102,乙,河北,c,2.5, y "]
    table = read_table(write_csv(tmp_path, lines))
    assert table.frame["id"].tolist() == ["101", "102"]     # ids stay text
    assert table.frame["max_ticket"].tolist() == [1.0, 2.5]
    assert table.frame["note"].tolist() == ["x", "y"]
    assert table.source_rows == (2, 4)                       # the blank line keeps its number


@pytest.mark.parametrize("quoted", [False, True])
def test_short_row_is_ragged_on_both_paths(tmp_path: Path, quoted: bool) -> None:
    first = 'a,"甲",天津,c,1' if quoted else GOOD
    path = tmp_path / "t.csv"
    path.write_bytes("\r\n".join([BASE, first, "", "b,乙,河北,c"]).encode() + b"\r\n")
    err = error_of(path)
    assert err.row == 4 and "ragged row: 4 fields, but the header has 5" in str(err)


def test_numbers_parsed_by_the_tokenizer_are_still_checked(tmp_path: Path) -> None:
    err = error_of(write_csv(tmp_path, [BASE, GOOD, "b,乙,河北,c,inf"]))
    assert err.row == 3 and err.column == "max_ticket" and err.value == "inf"
    err = error_of(write_csv(tmp_path, [BASE, GOOD, "b,乙,河北,c,-2"]))
    assert err.row == 3 and "out of range" in str(err)
