"""What people read on the terminal: data printed literally, 80 columns, planner's numbers,
and data that would become Excel error values kept as text in the workbook."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from fundopt.cli import app

ROOT = Path(__file__).parent.parent
TABLE = ROOT / "inputs" / "2024.csv"
runner = CliRunner()

NASTY = {  # id → name: rich markup, a link, raw ANSI escapes, Excel error texts
    "TJ-BH-01": "[red]x[/red]",
    "TJ-BH-03": "[link=https://example.org]click[/link]",
    "TJ-XQ-02": "\x1b[31mred\x1b[0m \x1b]8;;https://example.org\x07link\x1b]8;;\x07",
    "TJ-XQ-03": "#N/A",
    "TJ-DL-01": "#REF!",
    "TJ-DL-02": "#DIV/0!",
    "TJ-JN-02": "#NAME?",
}


def _nasty_table(tmp_path: Path) -> Path:
    with TABLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        row[1] = NASTY.get(row[0], row[1])
    with (tmp_path / "t.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (tmp_path / "t.toml").write_text((ROOT / "inputs" / "2024.toml").read_text("utf-8"),
                                     encoding="utf-8")
    return tmp_path / "t.csv"


@pytest.fixture(scope="module")
def nasty(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("nasty")
    table = _nasty_table(tmp)
    result = runner.invoke(app, ["solve", str(table), "-o", str(tmp / "p.xlsx")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output, tmp / "p.xlsx"


def test_markup_in_data_is_printed_as_written(nasty: tuple[str, Path]) -> None:
    output, _ = nasty
    assert "[red]x[/red]" in output
    assert "[link=https://example.org]click[/link]" in output


def test_escape_sequences_in_data_never_reach_the_terminal(nasty: tuple[str, Path]) -> None:
    output, _ = nasty
    assert "\x1b" not in output and "\x07" not in output
    assert "\\x1b[31mred\\x1b[0m" in output  # shown, visibly, as the text it is


def test_excel_error_texts_are_text_cells(nasty: tuple[str, Path]) -> None:
    _, path = nasty
    plan = load_workbook(path).worksheets[1]
    names = {row[0].value: row[1] for row in plan.iter_rows(min_row=2)}
    for row_id in ("TJ-XQ-03", "TJ-DL-01", "TJ-DL-02", "TJ-JN-02"):
        cell = names[row_id]
        assert cell.value == NASTY[row_id] and cell.data_type == "s", (row_id, cell.data_type)
    for sheet in load_workbook(path):
        for row in sheet.iter_rows():
            assert all(c.data_type != "e" for c in row), sheet.title


def test_terminal_at_80_columns_is_plain_and_summed_up() -> None:
    result = runner.invoke(app, ["solve", str(TABLE)], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "nan" not in result.output and "<NA>" not in result.output
    # the 16 per-district counts on one line, not 16 rows
    family = [line for line in lines if line.startswith("district count: 16 at a limit")]
    assert len(family) == 1, result.output
    assert not any(re.search(r"district \S+ count", line) for line in lines)
    # binding constraint names are not broken over lines
    assert any("category 前沿技术 share" in line for line in lines)
    zh = runner.invoke(app, ["solve", str(TABLE), "--lang", "zh"], env={"COLUMNS": "80"})
    assert "区县 数量：16 项达到限值" in zh.output


def test_relaxation_in_percentages_and_must_conflict_shown(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text((ROOT / "inputs" / "2024.toml").read_text("utf-8").replace(
        "min_share = 0.10", "min_share = 0.30"), encoding="utf-8")
    result = runner.invoke(app, ["solve", str(TABLE), "--policy", str(policy)],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 3
    assert re.search(r"category 高端人才团队 share min 30% → \d+(\.\d+)?%", result.output)
    # a budget below the must-fund rows: the diagnosis' own words, framed under the status
    must = tmp_path / "m.toml"
    must.write_text((ROOT / "inputs" / "2024.toml").read_text("utf-8").replace(
        "budget = 40 ", "budget = 1.5 "), encoding="utf-8")
    out = tmp_path / "m.json"
    result = runner.invoke(app, ["solve", str(TABLE), "--policy", str(must), "-o", str(out)],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 3, result.output
    messages = json.loads(out.read_text("utf-8"))["diagnosis"]["messages"]
    assert messages
    head = result.output.splitlines()[:3]
    assert head[1].startswith("╭─ diagnosis"), head
    assert "TJ-BH-01" in result.output


def test_sweep_reasons_in_terminal_csv_and_workbook(tmp_path: Path) -> None:
    args = ["sweep", str(TABLE), "--param", "budget", "--from", "40", "--to", "50",
            "--steps", "3", "--workers", "1", "-o", str(tmp_path / "s.csv"), "-o",
            str(tmp_path / "s.xlsx")]
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "<NA>" not in result.output and "nan" not in result.output
    reason = re.compile(r"^(45|50): (fix|conflict): ", re.M)
    assert len(reason.findall(result.output)) == 2, result.output
    with (tmp_path / "s.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [bool(r["reason"]) for r in rows] == [False, True, True]
    sheet = load_workbook(tmp_path / "s.xlsx")["sweep"]
    header = [c.value for c in sheet[1]]
    column = header.index("reason")
    assert [bool(row[column].value) for row in sheet.iter_rows(min_row=2)] == \
        [False, True, True]
    # one short line per change: the moves, not the policy keys the diagnosis names
    for row in rows[1:]:
        if row["reason"].startswith("fix: "):
            assert "(" not in row["reason"] and "→" in row["reason"], row["reason"]


@pytest.mark.parametrize("seed", range(5))
def test_sweep_headers_wrap_between_words_in_three_lines(seed: int) -> None:
    """A header is never broken inside a word or a bracketed unit, and fits in three lines
    (a greedy line fill of its pieces at the width given, checked here on its own)."""
    from fundopt.reports.workbook.solve import UNBROKEN, wrapped_header_widths

    rng = random.Random(seed)
    words = ["marginal", "value", "per", "unit", "committed", "(亿元)", "获出资子基金数",
             "funded", "set", "changed", "已承诺出资", "单位边际价值"]
    headers = [" ".join(rng.sample(words, rng.randint(1, 4))) for _ in range(20)]
    for header, width in zip(headers, wrapped_header_widths(headers, lines=3), strict=True):
        pieces = UNBROKEN.findall(header)
        size = [len(p) + sum(1 for c in p if ord(c) > 0x2E80) for p in pieces]
        assert max(size) + 1 <= width, (header, width)
        lines, used = 1, 0.0
        for n, piece in zip(size, pieces, strict=True):
            gap = 1 if used and piece.isascii() else 0
            if used + gap + n > width - 1:
                lines, used = lines + 1, n
            else:
                used += gap + n
        assert lines <= 3, (header, width)


def test_compare_fits_80_columns_one_row_per_scenario() -> None:
    args = ["compare", str(TABLE), "--scenarios", str(ROOT / "inputs" / "2024-scenarios.toml"),
            "--workers", "1"]
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for scenario, status in (("河北55", "optimal"), ("人才20", "infeasible")):
        assert any(scenario in line and status in line for line in lines), scenario
    assert any(line.startswith("diagnosis · 人才20: ") for line in lines)
    wide = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert any(line.startswith("┃ field") for line in wide.output.splitlines())


def test_escape_sequences_in_an_error_message_are_shown_not_sent(tmp_path: Path) -> None:
    missing = tmp_path / "t\x1b[31m.csv"  # the file name is echoed in the message
    result = runner.invoke(app, ["solve", str(missing)])
    assert result.exit_code == 2, result.output
    assert "\x1b" not in result.output and "t\\x1b[31m.csv" in result.output


def test_stability_table_fits_80_columns_and_says_what_it_wrote(tmp_path: Path) -> None:
    from rich.cells import cell_len

    out = tmp_path / "stability.csv"
    result = runner.invoke(app, ["stability", str(TABLE), "--draws", "20", "--workers", "1",
                                 "-o", str(out)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(cell_len(line) <= 80 for line in lines if not line.startswith("wrote "))
    ids = [row.split(",")[0] for row in out.read_text("utf-8-sig").splitlines()[1:]]
    shown = " ".join(lines)
    # every id listed is whole on its line; shares are never split ("100" / ".0%")
    assert sum(1 for i in ids if f" {i} " in shown) >= 40
    table = [line for line in lines if line.startswith("│")]
    shares = [cell.strip() for line in table for cell in line.split("│") if "%" in cell]
    assert len(shares) >= 40 and all(re.fullmatch(r"\d{1,3}\.\d%", s) for s in shares)
    assert f"wrote {out}" in " ".join(result.output.split())
