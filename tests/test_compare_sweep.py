"""``fundopt compare`` and ``fundopt sweep`` through the CLI, and their review workbooks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from fundopt.cli import app

ROOT = Path(__file__).parent.parent
TABLE = str(ROOT / "inputs" / "2024.csv")
SCENARIOS = str(ROOT / "inputs" / "2024-scenarios.toml")
runner = CliRunner()


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, str]:
    out = tmp_path_factory.mktemp("compare")
    result = runner.invoke(app, ["compare", TABLE, "--scenarios", SCENARIOS, "-o",
                                 str(out / "c.json"), "-o", str(out / "c.xlsx"), "-o",
                                 str(out / "c.csv"), "--lang", "zh"])
    return json.loads((out / "c.json").read_text("utf-8")), out, result.output + \
        f"\nexit={result.exit_code}"


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, str]:
    out = tmp_path_factory.mktemp("sweep")
    result = runner.invoke(app, ["sweep", TABLE, "--param", "budget", "--from", "38",
                                 "--to", "44", "--steps", "4", "-o", str(out / "s.json"),
                                 "-o", str(out / "s.xlsx"), "-o", str(out / "s.csv")])
    return json.loads((out / "s.json").read_text("utf-8")), out, result.output + \
        f"\nexit={result.exit_code}"


def test_compare_json_has_every_scenario(compared: tuple[Any, Path, str]) -> None:
    data, _, output = compared
    assert output.endswith("exit=0")
    names = [s["name"] for s in data["scenarios"]]
    assert names[0] == "baseline" and len(names) == 7
    by_name = {s["name"]: s for s in data["scenarios"]}
    talent = by_name["人才20"]
    assert talent["status"] == "infeasible" and talent["diagnosis"]["relaxation"]
    assert len(by_name["baseline"]["allocations"]) == 40
    cut = by_name["预算30亿"]
    assert cut["committed"] == pytest.approx(30.0)
    assert cut["changes"]["added"] and cut["changes"]["dropped"]
    assert "不可行" in output  # the infeasible scenario is marked in the table


def test_compare_workbook(compared: tuple[Any, Path, str]) -> None:
    _, out, _ = compared
    book = load_workbook(out / "c.xlsx")
    assert book.sheetnames[:4] == ["封面", "情景对比", "方案变化", "各情景方案"]
    assert {"地区×类别", "区县汇总", "约束核查"} <= set(book.sheetnames)
    compare = book["情景对比"]
    assert compare.freeze_panes == "A2" and len(compare._charts) == 1
    header = [c.value for c in compare[1]]
    assert header[1] == "基准" and "人才20" in header
    assert len(book["地区×类别"]._charts) == 2
    _no_formula_errors(book)
    cover = [r for r in book["封面"].iter_rows(values_only=True)]
    assert any(r[0] == "情景文件" and r[2] and len(r[2]) == 64 for r in cover)


def test_compare_keeps_going_past_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenarios.cut]\nset = { budget = 35 }\n\n[scenarios.typo]\n'
                   'set = { "region.河北.min_shar" = 0.5 }\n', encoding="utf-8")
    result = runner.invoke(app, ["compare", TABLE, "--scenarios", str(bad), "-o",
                                 str(tmp_path / "c.json"), "--workers", "1"])
    assert result.exit_code == 2
    data = json.loads((tmp_path / "c.json").read_text("utf-8"))
    status = {s["name"]: s["status"] for s in data["scenarios"]}
    assert status == {"baseline": "optimal", "cut": "optimal", "typo": "input_error"}
    typo = data["scenarios"][2]["error"]
    assert "scenario 'typo'" in typo and "region.河北.min_shar" in typo and str(bad) in typo


def test_sweep_json_marks_infeasible_points(swept: tuple[Any, Path, str]) -> None:
    data, _, output = swept
    assert output.endswith("exit=0")
    assert data["param"] == "budget"
    points = data["points"]
    assert [p["value"] for p in points] == [38.0, 40.0, 42.0, 44.0]
    assert [p["status"] for p in points] == ["optimal", "optimal", "infeasible", "infeasible"]
    assert points[2]["objective"] is None and points[2]["funded"] == []
    assert "diagnosis" in points[2]
    slope = (points[1]["objective"] - points[0]["objective"]) / 2.0
    assert points[1]["marginal"] == pytest.approx(slope)
    assert points[1]["funded_set_changed"] is True


def test_sweep_workbook_and_csv(swept: tuple[Any, Path, str]) -> None:
    _, out, _ = swept
    book = load_workbook(out / "s.xlsx")
    assert book.sheetnames == ["cover", "sweep", "amounts by point"]
    sheet = book["sweep"]
    assert len(sheet._charts) == 1 and sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "budget" and sheet["B4"].value == "infeasible"
    assert sheet["C4"].value is None  # no objective at an infeasible point: a gap
    _no_formula_errors(book)
    csv = (out / "s.csv").read_text("utf-8-sig").splitlines()
    assert len(csv) == 5 and csv[0].startswith("budget,status,objective")


def test_sweep_bad_param_is_an_input_error() -> None:
    result = runner.invoke(app, ["sweep", TABLE, "--param", "region.河北.max_share",
                                 "--from", "0.5", "--to", "1.2", "--steps", "3"])
    assert result.exit_code == 2
    assert "sweep point region.河北.max_share = 1.2" in " ".join(result.output.split())


@pytest.mark.parametrize(("param", "english", "chinese"), [
    ("objective", "with keys below it", "[objective]及其下的键"),
    ("constraints[9].max", "an index from 0 to", "之间的序号"),
    ("nosuch", "unknown key", "未知的键"),
])
def test_sweep_param_errors_and_hint_in_chinese(param: str, english: str, chinese: str) -> None:
    """A --param that is no numeric policy key: exit 2, the expectation and the hint in the
    language asked for."""
    args = ["sweep", TABLE, "--param", param, "--from", "20", "--to", "50", "--steps", "3"]
    en = runner.invoke(app, args)
    zh = runner.invoke(app, [*args, "--lang", "zh"])
    assert en.exit_code == zh.exit_code == 2
    en_text, zh_text = " ".join(en.output.split()), "".join(zh.output.split())
    assert english in en_text and "--param takes a numeric policy key path" in en_text
    assert chinese in zh_text and "--param应为政策中的数值键路径" in zh_text
    assert english not in " ".join(zh.output.split())
    assert "takes a numeric" not in zh_text


def test_commands_have_examples() -> None:
    for command in ("compare", "sweep"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


def test_solve_workbook_has_review_sheets(tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", TABLE, "-o", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 0
    book = load_workbook(tmp_path / "p.xlsx")
    assert book.sheetnames[0] == "cover"
    assert {"plan", "region x category", "districts", "constraint audit"} <= set(book.sheetnames)
    audit = [r for r in book["constraint audit"].iter_rows(values_only=True)]
    line = next(r for r in audit if r[0] == "region.河北.max_share = 0.6")
    assert line[4] == 0.6 and line[6] == "yes"
    assert any(r[0] == "budget = 40" for r in audit)
    _no_formula_errors(book)


def _no_formula_errors(book: Any) -> None:
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                assert not (isinstance(cell.value, str) and cell.value.startswith("#")), \
                    f"{sheet.title}!{cell.coordinate} = {cell.value}"


OFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(OFFICE is None, reason="LibreOffice (libreoffice/soffice) is not on PATH")
def test_workbooks_convert_to_pdf_with_libreoffice(compared: tuple[Any, Path, str],
                                                   swept: tuple[Any, Path, str],
                                                   tmp_path: Path) -> None:
    assert OFFICE is not None
    books = [compared[1] / "c.xlsx", swept[1] / "s.xlsx"]
    subprocess.run([OFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, books)],
                   check=True, capture_output=True, timeout=180)
    for book in books:
        pdf = (tmp_path / book.name).with_suffix(".pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page") >= 2 or \
            pdf.count(b"/Type /Page") >= 3


def test_sweep_step_gives_the_values_a_planner_writes() -> None:
    from fundopt.models.rules.sweep import sweep_values

    assert sweep_values(36, 38, 11, step=0.5) == (36.0, 36.5, 37.0, 37.5, 38.0)
    assert sweep_values(0.1, 0.3, 11, step=0.1) == (0.1, 0.2, 0.3)
    assert sweep_values(50, 40, 11, step=5) == (50.0, 45.0, 40.0)
    assert sweep_values(20, 21, 11, step=0.3) == (20.0, 20.3, 20.6, 20.9)  # up to --to
    for value in sweep_values(1600, 1601, 11):  # no float noise from linspace
        assert repr(value) == f"{round(value, 1)!r}"


def test_sweep_across_the_other_bound_marks_the_points_infeasible(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    result = runner.invoke(app, ["sweep", TABLE, "--param", "region.河北.min_share",
                                 "--from", "0.5", "--to", "0.7", "--step", "0.05",
                                 "--workers", "1", "-o", str(out), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    points = json.loads(out.read_text("utf-8"))["points"]
    assert [p["value"] for p in points] == [0.5, 0.55, 0.6, 0.65, 0.7]
    # the policy's 河北 max_share is 0.6: beyond it no plan can exist
    for p in points:
        if p["value"] <= 0.6:
            assert p["status"] == "optimal"
        else:
            assert p["status"] == "infeasible"
            assert p["diagnosis"]["conflict"] == ["region 河北 share"]
    assert "冲突：地区 河北 占比" in result.output
    refused = runner.invoke(app, ["sweep", TABLE, "--param", "region.河北.min_share",
                                  "--from", "0.65", "--to", "0.7", "--steps", "2",
                                  "--workers", "1"])
    assert refused.exit_code == 2  # every point crossed: nothing to sweep
