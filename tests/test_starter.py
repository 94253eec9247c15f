"""Day one: ``fundopt init``, ``--version``, "wrote PATH" lines, shell completion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fundopt
from fundopt.cli import app
from fundopt.starter import POLICY_NAME, SCENARIOS_NAME, TABLE_NAME

runner = CliRunner()


@pytest.mark.parametrize(("lang", "first_header"), [("en", "id"), ("zh", "编号")])
def test_init_writes_files_that_solve_and_compare(tmp_path: Path, lang: str,
                                                  first_header: str) -> None:
    folder = tmp_path / "round"
    result = runner.invoke(app, ["init", str(folder), "--lang", lang])
    assert result.exit_code == 0, result.output
    for name in (TABLE_NAME, POLICY_NAME, SCENARIOS_NAME):
        assert str(folder / name) in result.output
    header = (folder / TABLE_NAME).read_text("utf-8-sig").splitlines()[0]
    assert header.split(",")[0] == first_header
    out = tmp_path / "plan.json"
    solved = runner.invoke(app, ["solve", str(folder / TABLE_NAME), "-o", str(out)])
    assert solved.exit_code == 0, solved.output
    plan = json.loads(out.read_text("utf-8"))
    assert plan["status"] == "optimal" and plan["committed"] > 0 and not plan["warnings"]
    compared = runner.invoke(app, ["compare", str(folder / TABLE_NAME), "--scenarios",
                                   str(folder / SCENARIOS_NAME), "--workers", "1"])
    assert compared.exit_code == 0, compared.output
    checked = runner.invoke(app, ["check", str(folder / TABLE_NAME), "--strict"])
    assert checked.exit_code == 0, checked.output


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    (tmp_path / POLICY_NAME).write_text("budget = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert (tmp_path / POLICY_NAME).read_text("utf-8") == "budget = 1\n"
    assert not (tmp_path / TABLE_NAME).exists()  # nothing written
    zh = runner.invoke(app, ["init", str(tmp_path), "--lang", "zh"])
    assert zh.exit_code == 2 and "文件已存在" in zh.output
    forced = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and "budget = 10" in (tmp_path / POLICY_NAME).read_text("utf-8")


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"fundopt {fundopt.__version__}"


def test_shell_completion_is_offered() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.output and "--show-completion" in result.output


def test_wrote_lines_in_both_languages(tmp_path: Path) -> None:
    table = Path(__file__).parent.parent / "inputs" / "2024.csv"
    outputs = [tmp_path / "plan.json", tmp_path / "plan.csv"]
    args = ["solve", str(table), *(a for o in outputs for a in ("-o", str(o)))]
    en = runner.invoke(app, args)
    assert [line for line in en.output.splitlines() if line.startswith("wrote ")] == \
        [f"wrote {o}" for o in outputs]
    zh = runner.invoke(app, [*args, "--lang", "zh"])
    assert f"已写出 {outputs[0]}" in zh.output


def test_version_in_a_real_process() -> None:
    result = subprocess.run([sys.executable, "-m", "fundopt.cli", "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and fundopt.__version__ in result.stdout


def test_a_chinese_starter_is_chinese(tmp_path: Path) -> None:
    """--lang zh: Chinese headers, column and constraint names, comments, descriptions;
    only keys, commands and file names stay as code."""
    import re

    assert runner.invoke(app, ["init", str(tmp_path), "--lang", "zh"]).exit_code == 0
    code = {"fundopt", "solve", "compare", "subfunds", "csv", "toml", "xlsx", "pdf", "lang",
            "zh", "scenarios", "report", "title", "fund", "round", "prepared_by", "score",
            "avg", "budget", "region", "min_share"}
    for name in ("subfunds.csv", "subfunds.toml", "scenarios.toml"):
        for line in (tmp_path / name).read_text("utf-8-sig").splitlines():
            # a comment, a name, a description or a header: no English words
            texts = re.findall(r"#(.*)$", line) + re.findall(
                r'^(?:name|description)\s*=\s*"([^"]*)"', line)
            if name.endswith(".csv") and line.startswith("编号"):
                texts.append(line)
            for text in texts:
                words = set(re.findall(r"[A-Za-z_]{2,}", text)) - code
                assert not words, f"{name}: {line}"
    assert "risk" not in (tmp_path / "subfunds.toml").read_text("utf-8")
