"""cli_params.FastGroup: option values converted without pydantic, exactly as typer does.

The same small app is built twice, with typer's own group and with FastGroup; every
command line must give the same values (and types) or the same usage error (exit 2).
"""

from __future__ import annotations

import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from fundopt.cli import app as fundopt_app
from fundopt.cli_params import FastGroup

ROOT = Path(__file__).resolve().parents[1]


class Level(StrEnum):
    LOW = "low"
    HIGH = "high"


def make_app(group: type[TyperGroup]) -> tuple[typer.Typer, dict[str, Any]]:
    app = typer.Typer(cls=group, add_completion=False)
    got: dict[str, Any] = {}

    @app.command()
    def run(
        path: Path,
        names: Annotated[list[str] | None, typer.Argument()] = None,
        level: Level = Level.LOW,
        ratio: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.5,
        count: Annotated[int | None, typer.Option(min=1)] = None,
        steps: int = 3,
        out: Annotated[list[Path] | None, typer.Option("--out", "-o")] = None,
        flag: bool = False,
        text: str = "x",
        existing: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
    ) -> None:
        got.update(path=path, names=names, level=level, ratio=ratio, count=count,
                   steps=steps, out=out, flag=flag, text=text, existing=existing)

    @app.command()
    def other() -> None:
        got["other"] = True

    return app, got


LINES = [
    ["run", "a.csv"],
    ["run", "a.csv", "x", "y", "--level", "high", "--ratio", "1", "--count", "4",
     "--steps", "-2", "-o", "o1.json", "--out", "o2.xlsx", "--flag", "--text", "中文"],
    ["run", "a.csv", "--ratio", "0", "--steps", " 7"],
    ["run", "a.csv", "--existing", __file__],
    ["other"],
    ["run", "a.csv", "--ratio", "1.5"],
    ["run", "a.csv", "--ratio", "-0.1"],
    ["run", "a.csv", "--ratio", "abc"],
    ["run", "a.csv", "--ratio", "nan"],
    ["run", "a.csv", "--steps", "inf"],
    ["run", "a.csv", "--count", "0"],
    ["run", "a.csv", "--count", "1.5"],
    ["run", "a.csv", "--steps", "x"],
    ["run", "a.csv", "--level", "HIGH"],
    ["run", "a.csv", "--level", "medium"],
    ["run", "a.csv", "--existing", "no/such/file.csv"],
    ["run", "a.csv", "--existing", str(ROOT)],
    ["run"],
    ["run", "--help"],
    ["--help"],
]


@pytest.mark.parametrize("argv", LINES, ids=" ".join)
def test_fast_group_converts_as_typer_does(argv: list[str]) -> None:
    (typer_app, typer_got), (fast_app, fast_got) = make_app(TyperGroup), make_app(FastGroup)
    expected = CliRunner().invoke(typer_app, argv)
    result = CliRunner().invoke(fast_app, argv)
    assert result.exit_code == expected.exit_code, result.output
    assert fast_got == typer_got
    assert {k: type(v) for k, v in fast_got.items()} == {k: type(v) for k, v in typer_got.items()}
    if expected.exit_code == 2:
        option = next((word for word in argv if word.startswith("--")), None)
        assert "Invalid value" in result.output or "Missing" in result.output
        if option and "Invalid value" in expected.output:
            assert f"'{option}'" in result.output
    if "--help" in argv:
        assert result.output == expected.output


def test_fundopt_usage_errors_name_the_option() -> None:
    sample = str(ROOT / "inputs" / "2024.csv")
    for argv, option, words in (
        (["solve", sample, "--gap", "2"], "--gap", "0.0<=x<=1.0"),
        (["solve", sample, "--solver", "gurobi"], "--solver", "'highs', 'cbc'"),
        (["solve", sample, "--alternatives", "two"], "--alternatives", "'two'"),
        (["solve", sample, "--time-limit", "-1"], "--time-limit", "0.0<=x"),
    ):
        result = CliRunner().invoke(fundopt_app, argv, prog_name="fundopt")
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{option}'" in result.output
        assert words in " ".join(result.output.replace("│", " ").split())


def test_solve_does_not_import_pydantic() -> None:
    """Start-up: a whole `fundopt solve` of the sample never loads pydantic (~0.1 s)."""
    script = ("import sys\n"
              "from fundopt.cli import app\n"
              "try:\n"
              f"    app(['solve', {str(ROOT / 'inputs' / '2024.csv')!r}], prog_name='fundopt')\n"
              "except SystemExit as stop:\n"
              "    assert stop.code == 0, stop.code\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_every_parameter_gets_the_fast_converter() -> None:
    fast_app, _ = make_app(FastGroup)
    group = typer.main.get_command(fast_app)
    assert isinstance(group, FastGroup)
    command = group.get_command(typer.Context(group), "run")
    assert command is not None
    kinds = {p.name: type(getattr(p, "_runtime_param", None)).__name__ for p in command.params}
    assert kinds == dict.fromkeys(kinds, "_Fast")
