"""``--lang zh`` is complete: every label, header, sheet name, measure, status, boolean and
message a Chinese reader sees is Chinese; only data (the table's values, the planner's own
column and constraint names, scenario names and descriptions), file names and policy keys
quoted as code (``政策键 region.河北.min_share``, the audit's policy lines) stay as written.

The scan runs every command that reports something, with outputs of every format, and
looks for English words in what is not data.
"""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.domain import KNOWN_COLUMNS

ROOT = Path(__file__).parent.parent
TABLE = ROOT / "inputs" / "2024.csv"
POLICY = ROOT / "inputs" / "2024.toml"
SCENARIOS = ROOT / "inputs" / "2024-scenarios.toml"
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
# Text quoted as code or naming a file: never a label to translate.
CODE = [
    re.compile(r"政策键 [^）;]*"),                              # a policy key path
    re.compile(r"^[\w.*\[\]\u4e00-\u9fff -]+ = -?[\d.]+(e-?\d+)?$"),  # audit: key = value
    # audit under --relax: key = as written → applied
    re.compile(r"^[\w.*\[\]\u4e00-\u9fff -]+ = -?[\d.]+(e-?\d+)? → -?[\d.]+(e-?\d+)?$"),
    re.compile(r"\d\d:\d\d [A-Z]{2,5}( \(UTC[+-]\d\d:\d\d\))?$"),  # local time, zone
    re.compile(r"\b[0-9a-f]{64}\b"),                            # SHA-256
    re.compile(r"SHA-256"),
    re.compile(r"HiGHS \d[\d.]*"),                              # the solver's name
    re.compile(r"\bfundopt\b"),                                 # the program's name
    re.compile(r"\S+\.(csv|toml|xlsx|json)\b"),                 # file names and paths
]
runner = CliRunner()


def _data_words() -> set[str]:
    """Words that are data: table values, the planner's own column headers, constraint
    names and measure columns of the policy, scenario names and descriptions."""
    words: set[str] = set()
    with TABLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    words |= {w for h in rows[0] if h not in KNOWN_COLUMNS for w in WORD.findall(h)}
    words |= {w for row in rows[1:] for cell in row for w in WORD.findall(cell)}
    policy = tomllib.loads(POLICY.read_text("utf-8"))
    for c in policy.get("constraints", []):
        words |= set(WORD.findall(c.get("name", ""))) | set(WORD.findall(c["measure"][4:]))
    scenarios = tomllib.loads(SCENARIOS.read_text("utf-8"))
    for name, scenario in scenarios["scenarios"].items():
        words |= set(WORD.findall(name))
        for c in scenario.get("add_constraints", []):
            words |= set(WORD.findall(c.get("name", "")))
    return words


def _descriptions() -> list[str]:
    """The scenario descriptions (data, removed whole: their words are common English)."""
    scenarios = tomllib.loads(SCENARIOS.read_text("utf-8"))
    found = [s.get("description", "") for s in scenarios["scenarios"].values()]
    return [d for d in [*found, scenarios.get("base", {}).get("description", "")] if d]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[str, str]], Path]:
    """(where, text) of everything a zh run shows, and the output folder."""
    out = tmp_path_factory.mktemp("zh")
    infeasible = out / "infeasible.toml"
    infeasible.write_text(POLICY.read_text("utf-8").replace("min_share = 0.10",
                                                            "min_share = 0.30"), "utf-8")
    must = out / "must.toml"
    must.write_text(POLICY.read_text("utf-8").replace("budget = 40 ", "budget = 1.5 "),
                    "utf-8")
    runs = {
        "solve": ["solve", str(TABLE), "-o", str(out / "s.xlsx"), "-o", str(out / "s.csv")],
        "findings": ["solve", str(TABLE), "--policy", str(infeasible), "--relax", "--ranges",
                     "--alternatives", "2", "--within", "1%", "-o", str(out / "r.xlsx")],
        "infeasible": ["solve", str(TABLE), "--policy", str(infeasible), "-o",
                       str(out / "i.xlsx"), "-o", str(out / "i.csv")],
        "must": ["solve", str(TABLE), "--policy", str(must), "-o", str(out / "m.xlsx")],
        "check": ["check", str(TABLE)],
        "explain": ["explain", str(TABLE), "TJ-BH-02", "TJ-BH-03", "-o", str(out / "e.xlsx")],
        "compare": ["compare", str(TABLE), "--scenarios", str(SCENARIOS), "--workers", "1",
                    "-o", str(out / "c.xlsx"), "-o", str(out / "c.csv")],
        "sweep": ["sweep", str(TABLE), "--param", "budget", "--from", "36", "--to", "48",
                  "--steps", "4", "--workers", "1", "-o", str(out / "w.xlsx"), "-o",
                  str(out / "w.csv")],
        "sweep_share": ["sweep", str(TABLE), "--param", "region.河北.min_share", "--from",
                        "0.4", "--to", "0.6", "--steps", "2", "--workers", "1"],
        "init": ["init", str(out / "starter")],
    }
    texts: list[tuple[str, str]] = []
    for name, args in runs.items():
        result = runner.invoke(app, [*args, "--lang", "zh"], env={"COLUMNS": "100"})
        assert result.exit_code in (0, 3), (name, result.output)
        texts += [(f"{name}: terminal", line) for line in result.output.splitlines()]
    for path in sorted(out.glob("*.csv")):
        header = path.read_text("utf-8-sig").splitlines()[0]
        texts.append((f"{path.name}: header", header))
    for path in sorted(out.glob("*.xlsx")):
        for sheet in load_workbook(path):
            texts.append((f"{path.name}: sheet name", sheet.title))
            data_columns = _data_columns(sheet)
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and (cell.row == 1 or
                                                        cell.column not in data_columns):
                        texts.append((f"{path.name}: {sheet.title}!{cell.coordinate}",
                                      cell.value))
    return texts, out


def _data_columns(sheet: object) -> set[int]:
    """Columns whose cells below the header are ids (编号: a sub-fund's id, a constraint's
    stable id such as ``budget`` or ``c7``, the key into the JSON): code, not labels."""
    header = next(sheet.iter_rows(max_row=1), ())  # type: ignore[attr-defined]
    return {cell.column for cell in header if cell.value == "编号"}


def test_no_english_label_in_any_chinese_output(
        outputs: tuple[list[tuple[str, str]], Path]) -> None:
    texts, out = outputs
    allowed, descriptions = _data_words(), _descriptions()
    found: dict[str, str] = {}
    for where, text in texts:
        text = text.replace(str(out), "").replace(str(ROOT), "")
        for description in descriptions:
            text = text.replace(description, " ")
        for pattern in CODE:
            text = pattern.sub(" ", text)
        for word in WORD.findall(text):
            if word not in allowed:
                found.setdefault(word, f"{where}: {text.strip()[:100]}")
    assert not found, "untranslated English in --lang zh output:\n" + "\n".join(
        f"  {word!r} in {where}" for word, where in sorted(found.items()))


def test_booleans_and_statuses_are_chinese(outputs: tuple[list[tuple[str, str]], Path]
                                          ) -> None:
    _, out = outputs
    header = (out / "s.csv").read_text("utf-8-sig").splitlines()
    funded = header[0].split(",").index("是否出资")
    assert {line.split(",")[funded] for line in header[1:]} == {"是", "否"}
    plan = load_workbook(out / "s.xlsx").worksheets[1]
    assert {c.value for c in plan["P"][1:]} <= {"是", "否"} or \
        any(c.value == "是" for row in plan.iter_rows() for c in row)


BAD_POLICIES = [
    ("min_deploy = 0.9 ", "min_deploy = 1.9 "),
    ("max_share = 0.6", 'max_share = "x"'),
    ('measure = "avg(risk)"', 'measure = "avg(riskk)"'),
    ("min_share = 0.4", "min_shar = 0.4"),
    ("budget = 40 ", "budget = -4 "),
    ('[district."*"]', '[district."滨海"]'),
    ("max_funded = 24 ", "max_funded = 2.5 "),
]


@pytest.mark.parametrize(("old", "new"), BAD_POLICIES)
def test_errors_are_chinese(tmp_path: Path, old: str, new: str) -> None:
    """An input error names keys, columns and values as written (code) and says the rest
    in Chinese: "应为 0 到 1 之间的数", never "应为 a number between 0 and 1"."""
    text = POLICY.read_text("utf-8")
    assert old in text
    policy = tmp_path / "p.toml"
    policy.write_text(text.replace(old, new, 1), "utf-8")
    result = runner.invoke(app, ["solve", str(TABLE), "--policy", str(policy), "--lang", "zh"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 2 and result.output.startswith("错误：")
    keys = {"min_share", "max_share", "min_amount", "max_amount", "min_count", "max_count",
            "scope", "target", "penalty"}
    code = set(WORD.findall(text)) | set(WORD.findall(new)) | _data_words() | \
        set(KNOWN_COLUMNS) | keys  # policy keys and column names are code
    message = result.output.replace(str(policy), "").replace(str(TABLE), "")
    english = set(WORD.findall(message)) - code
    assert not english, f"{english} in {result.output}"


def test_the_planners_status_words_are_kept(tmp_path: Path) -> None:
    """必投 / 排除 as the planner wrote them stay so in every output (data is never
    rewritten), and still mean must / exclude to the model."""
    table = tmp_path / "t.csv"
    table.write_text(TABLE.read_text("utf-8-sig").replace(",must,", ",必投,")
                     .replace(",exclude,", ",排除,"), encoding="utf-8")
    (tmp_path / "t.toml").write_text(POLICY.read_text("utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["solve", str(table), "-o", str(tmp_path / "p.csv"),
                                 "-o", str(tmp_path / "p.xlsx"), "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "p.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows["TJ-BH-01"]["status"] == "必投" and rows["TJ-BH-01"]["funded"] == "True"
    assert rows["HB-BD-03"]["status"] == "排除" and rows["HB-BD-03"]["funded"] == "False"
    appendix = load_workbook(tmp_path / "p.xlsx").worksheets[-1]
    cells = {c.value for row in appendix.iter_rows() for c in row}
    assert {"必投", "排除"} <= cells and "must" not in cells and "exclude" not in cells


def test_a_round_against_the_book_is_chinese_and_says_its_scope(tmp_path: Path) -> None:
    book = tmp_path / "book.sqlite"
    assert runner.invoke(app, ["solve", str(TABLE), "-o", str(tmp_path / "p.json")]
                         ).exit_code == 0
    assert runner.invoke(app, ["book", "add", str(tmp_path / "p.json"), "--book", str(book),
                               "--round", "2024"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    result = runner.invoke(app, ["solve", str(ROOT / "inputs" / "2025.csv"), "--book",
                                 str(book), "--lang", "zh", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheets = load_workbook(out)
    cells = {c.value for row in sheets["账簿"].iter_rows() for c in row}
    assert "地区 天津 占比" in cells and "region 天津 share" not in cells
    assert not {"count", "share", "amount"} & cells
    audit = [row[1] for row in sheets["约束核查"].iter_rows(values_only=True)]
    assert "地区 天津 占比（全基金）" in audit
    cover = [row[0] for row in sheets["封面"].iter_rows(max_row=4, values_only=True)]
    assert any(str(c).startswith("按全基金口径规划：账簿中已登记") for c in cover)
