"""The command line: exit codes, outputs, languages and the main error messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from plan_checker import check_plan
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.reading.inputs import load_inputs

SAMPLE = ROOT / "inputs" / "2024.csv"
POLICY = ROOT / "inputs" / "2024.toml"
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A private copy of the sample table and policy."""
    shutil.copy(SAMPLE, tmp_path / "2024.csv")
    shutil.copy(POLICY, tmp_path / "2024.toml")
    return tmp_path / "2024.csv"


def test_solve_sample_writes_every_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run("solve", SAMPLE, "-o", out / "plan.json", "-o", out / "plan.csv",
                     "-o", out / "plan.xlsx")
    assert code == 0, text
    assert "optimal" in text and "budget" in text
    result = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    inputs = load_inputs(SAMPLE)
    assert [a["id"] for a in result["allocations"]] == inputs.table.frame["id"].tolist()
    amounts = np.array([a["amount"] for a in result["allocations"]])
    assert check_plan(inputs.table.frame, inputs.policy, inputs.constraints, amounts) == []
    assert result["status"] == "optimal"
    assert result["committed"] == pytest.approx(amounts.sum())
    assert result["manifest"]["input_sha256"] == inputs.table.sha256
    assert (out / "plan.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    plan = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    assert plan["amount"].to_numpy() == pytest.approx(amounts)
    assert (out / "plan.xlsx").stat().st_size > 0
    assert not list(out.glob("*.tmp*"))


def test_solve_in_chinese(tmp_path: Path) -> None:
    code, text = run("solve", SAMPLE, "--lang", "zh", "-o", tmp_path / "p.csv")
    assert code == 0
    assert "状态" in text and "最优" in text and "按地区汇总" in text
    header = (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith("出资额,是否出资,占预算比例,占子基金比例")


def test_cbc_reaches_the_same_optimum(tmp_path: Path) -> None:
    objectives = []
    for solver in ("highs", "cbc"):
        code, _ = run("solve", SAMPLE, "--solver", solver, "-o", tmp_path / f"{solver}.json")
        assert code == 0
        data = json.loads((tmp_path / f"{solver}.json").read_text(encoding="utf-8"))
        objectives.append(data["objective"])
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-9)


def test_infeasible_policy_exits_3_with_a_diagnosis(sample: Path) -> None:
    policy = sample.with_suffix(".toml")
    text = policy.read_text(encoding="utf-8").replace(
        '[region."河北"]\nmin_share = 0.4\nmax_share = 0.6',
        '[region."河北"]\nmin_share = 0.7\nmax_share = 0.8')
    assert "min_share = 0.7" in text
    policy.write_text(text, encoding="utf-8")
    out = sample.parent / "r.json"
    code, output = run("solve", sample, "-o", out)
    assert code == 3
    assert "region 河北 share" in output
    diagnosis = json.loads(out.read_text(encoding="utf-8"))["diagnosis"]
    assert diagnosis["relaxation"] and diagnosis["conflict"]
    assert "region 河北 share" in diagnosis["conflict"]


def test_check_validates_without_solving(sample: Path) -> None:
    code, text = run("check", sample)
    assert code == 0
    assert "valid" in text and "district 静海区 count" in text


@pytest.mark.parametrize(("edit", "expected"), [
    (("2024.csv", "TJ-BH-01,天津滨海人工智能创新平台基金,天津,滨海新区,国家重大平台,4,",
      "TJ-BH-01,天津滨海人工智能创新平台基金,天津,滨海新区,国家重大平台,four,"),
     ["2024.csv", "row 2", "max_ticket", "'four'", "a finite number"]),
    (("2024.toml", "min_deploy", "min_deploi"),
     ["2024.toml", "min_deploi", "min_deploy"]),
    (("2024.toml", 'measure = "avg(risk)"', 'measure = "avg(risks)"'),
     ["2024.toml", "risks"]),
    (("2024.toml", '[region."河北"]', '[region."河 北"]'),
     ["2024.toml", "河 北"]),
    # an empty measure used to suggest itself ("did you mean 'avg()'?")
    (("2024.toml", 'measure = "avg(risk)"', 'measure = "avg()"'),
     ["2024.toml", "constraints[1].measure", "needs a column", "avg(risk)"]),
    # one non-finite cell turns an extra column into text: name that cell, not only the key
    (("2024.csv", "国家重大平台,4,2,20,68,must,0.30,", "国家重大平台,4,2,20,68,must,inf,"),
     ["2024.toml", "avg(risk)", "Row 2", "'inf'", "not a finite number"]),
])
def test_bad_input_exits_2_with_a_precise_message(sample: Path, edit: tuple[str, str, str],
                                                  expected: list[str]) -> None:
    name, old, new = edit
    path = sample.parent / name
    text = path.read_text(encoding="utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, output = run("solve", sample)
    assert code == 2, output
    assert "Traceback" not in output
    for fragment in expected:
        assert fragment in output


def test_missing_policy_says_what_to_do(tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "round.csv")
    code, output = run("solve", tmp_path / "round.csv")
    assert code == 2
    assert "round.toml" in output and "--policy" in output


def test_outputs_never_replace_an_input(sample: Path) -> None:
    before = sample.read_bytes()
    code, output = run("solve", sample, "-o", sample)
    assert code == 2
    assert sample.read_bytes() == before
    code, output = run("solve", sample, "-o", sample.with_suffix(".txt"))
    assert code == 2 and ".json" in output


def test_output_below_a_file_exits_2(sample: Path) -> None:
    code, output = run("solve", sample, "-o", sample.parent / "2024.toml" / "plan.json")
    assert code == 2, output
    assert "Internal error" not in output
    words = " ".join(output.split())     # the console wraps long lines
    assert "2024.toml is a file, not a folder" in words


def test_unwritable_output_folder_exits_2(sample: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("fundopt.reports.files.atomic.tempfile.mkstemp", refuse)
    code, output = run("solve", sample, "-o", sample.parent / "plan.json")
    assert code == 2, output
    words = " ".join(output.split())
    assert "cannot write the output: Permission denied" in words and "plan.json" in words


def test_usage_errors_exit_2() -> None:
    assert run("solve", SAMPLE, "--lang", "fr")[0] == 2
    assert run("solve", SAMPLE, "--gap", "-1")[0] == 2
    assert run("solve", ROOT / "no-such.csv")[0] == 2


@pytest.mark.parametrize("command", ["solve", "check"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    code, text = run(command, "--help")
    assert code == 0
    assert "Example" in text and "fundopt " + command in text


def test_real_process_prints_no_solver_chatter(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fundopt.cli", "solve", str(SAMPLE), "-o",
         str(tmp_path / "p.json")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("status: optimal")
    assert "HiGHS" not in done.stdout.replace("HiGHS 1.", "")  # only the solver line
    assert "Copyright" not in done.stdout and done.stderr == ""
