"""The ``fundopt`` command line: parse options, call the three layers, map errors to exit codes."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from fundopt.errors import FundoptError, InputError

app = typer.Typer(
    help="Allocate a mother fund's capital across candidate sub-funds (母基金子基金配置优化).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE = 0, 1, 2, 3


class Lang(StrEnum):
    EN = "en"
    ZH = "zh"


class Solver(StrEnum):
    HIGHS = "highs"
    CBC = "cbc"


class LpAlgorithm(StrEnum):
    AUTO = "auto"
    SIMPLEX = "simplex"
    IPM = "ipm"


TableArg = Annotated[Path, typer.Argument(help="Sub-fund table (.csv or .xlsx).",
                                          show_default=False)]
PolicyOpt = Annotated[Path | None, typer.Option(
    "--policy", "-p", help="Policy TOML (default: <table stem>.toml beside the table).")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of labels and messages.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]

err = Console(stderr=True, highlight=False)


def _fail(code: int, text: str) -> NoReturn:
    err.print(text, markup=False)
    raise typer.Exit(code)


def _guarded(lang: Lang, debug: bool, body: Callable[[], int]) -> None:
    """Run ``body`` and turn fundopt's errors into exit codes and one clear message."""
    try:
        code = body()
    except InputError as error:
        _fail(EXIT_INPUT, ("错误：" if lang is Lang.ZH else "Error: ") + error.render(lang))
    except FundoptError as error:
        _fail(EXIT_INTERNAL, ("错误：" if lang is Lang.ZH else "Error: ") + str(error))
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as error:  # an unexpected bug: short message, traceback on --debug
        if debug:
            raise
        _fail(EXIT_INTERNAL, f"Internal error: {type(error).__name__}: {error}\n"
                             "Run again with --debug for the traceback.")
    raise typer.Exit(code)


@app.command()
def solve(
    table: TableArg,
    policy: PolicyOpt = None,
    output: Annotated[list[Path] | None, typer.Option(
        "--output", "-o", help="Write the result: .json, .csv (plan) or .xlsx (review "
        "workbook). Repeatable.")] = None,
    solver: Annotated[Solver, typer.Option(help="MILP/LP solver.")] = Solver.HIGHS,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.0, help="Stop the solver after this many seconds.")] = None,
    gap: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Relative MIP gap at which to stop (0 = prove optimal).")] = 0.0,
    algorithm: Annotated[LpAlgorithm, typer.Option(
        help="HiGHS LP algorithm; auto picks interior point for large LPs.")] = LpAlgorithm.AUTO,
    profile: Annotated[bool, typer.Option(
        "--profile", "-v", help="Print the time of each phase (read, build, solve, write).")
    ] = False,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Solve the allocation and print the plan.

    Example:

        fundopt solve inputs/2024.csv -o out/plan.xlsx -o out/plan.json --lang zh
    """

    def body() -> int:
        from fundopt.models.inputs import load_inputs
        from fundopt.optimizer.highs import Algorithm
        from fundopt.optimizer.solve import SolveOptions, SolverName
        from fundopt.optimizer.solve import solve as run_solve
        from fundopt.reports.export import check_output_paths, write_outputs
        from fundopt.reports.terminal import render_phases, render_summary

        started = time.perf_counter()
        inputs = load_inputs(table, policy)
        outputs = list(output or [])
        check_output_paths(outputs, list(inputs.files))
        read_at = time.perf_counter()
        options = SolveOptions(solver=SolverName(solver.value), time_limit=time_limit, gap=gap,
                               algorithm=Algorithm(algorithm.value))
        result = run_solve(inputs.table, inputs.policy, inputs.constraints, options)
        solved_at = time.perf_counter()
        write_outputs(outputs, inputs.table, inputs.policy, result, lang.value,
                      list(inputs.files))
        written_at = time.perf_counter()
        console = Console(highlight=False)
        render_summary(console, inputs.table, inputs.policy, result, lang.value)
        if profile:
            phases = {"read": read_at - started, **result.phases,
                      "write": written_at - solved_at, "total": written_at - started}
            render_phases(console, phases, lang.value)
        if result.is_ok:
            return EXIT_OK
        return EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_INTERNAL

    _guarded(lang, debug, body)


@app.command()
def check(
    table: TableArg,
    policy: PolicyOpt = None,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Validate the table and its policy without solving.

    Example:

        fundopt check inputs/2024.csv --policy inputs/2024.toml
    """

    def body() -> int:
        from fundopt.models.inputs import load_inputs
        from fundopt.optimizer.build import build
        from fundopt.reports.terminal import render_check

        inputs = load_inputs(table, policy)
        built = build(inputs.table, inputs.policy, inputs.constraints)
        render_check(Console(highlight=False), inputs, built, lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


def main() -> None:  # pragma: no cover - console entry for `python -m fundopt.cli`
    app(prog_name="fundopt")


if __name__ == "__main__":  # pragma: no cover
    main()
