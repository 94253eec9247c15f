"""The ``fundopt`` command line: parse options, call the three layers, map errors to exit codes."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from fundopt.cli_params import FastGroup
from fundopt.errors import FundoptError, InputError

if TYPE_CHECKING:  # imported on use: start-up time
    from fundopt.models.checks import DataWarning
    from fundopt.models.domain import Policy, Table
    from fundopt.models.fund import FundView
    from fundopt.models.inputs import Inputs
    from fundopt.optimizer.engines import Engine
    from fundopt.optimizer.result import Warning_

app = typer.Typer(
    help="Allocate a mother fund's capital across candidate sub-funds (母基金子基金配置优化).",
    cls=FastGroup,   # converts option values without importing pydantic (start-up time)
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130   # 128 + SIGINT, the shell's code for Ctrl-C; SIGTERM too


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
SolverOpt = Annotated[Solver, typer.Option("--solver", help="MILP/LP solver.")]
SheetOpt = Annotated[str | None, typer.Option(
    "--sheet", help="Sheet of an .xlsx table to read (default: sheet 'subfunds', else the "
    "first visible sheet holding the table).", show_default=False)]
StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Treat every warning (similar spellings, unfundable rows) as an input "
    "error: exit 2.")]
FundBookOpt = Annotated[str | None, typer.Option(
    "--book", "-b", help='The fund\'s book (SQLite path or postgresql:// URL): scope = "fund" '
    "constraints count its rounds, follow-ons count their booked stake, and the booked "
    "totals are shown beside this round's.")]

err = Console(stderr=True, highlight=False)


def _shown(text: str) -> str:
    """``text`` with control characters (an ANSI escape in a bad value) made visible."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if (ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160 else c for c in text)


def _fail(code: int, text: str) -> NoReturn:
    err.print(_shown(text), markup=False, highlight=False)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        import fundopt

        print(f"fundopt {fundopt.__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Allocate a mother fund's capital across candidate sub-funds (母基金子基金配置优化)."""


def _wrote(console: Console, paths: list[Path], lang: Lang) -> None:
    """One line per file written, so the planner knows where to look."""
    from fundopt.reports.labels import label

    for path in paths:
        console.print(label("wrote", lang.value).format(path=path), markup=False,
                      highlight=False, soft_wrap=True)  # a path is never broken


# Seconds a stopped process may take to exit cleanly. HiGHS checks for interrupts a few
# times a second, but on a loaded machine it has gone 5 s between two checks; nothing is
# being written while it solves, so the watchdog ends the process instead of waiting.
STOP_GRACE = 1.0
_farewell_said = threading.Event()


def _exit_after(seconds: float, farewell: str) -> None:
    """Start a watchdog that ends the process with exit 130 unless it has exited within
    ``seconds`` (``os._exit``: no Python or C++ clean-up runs while HiGHS still works)."""

    def watchdog() -> None:
        time.sleep(seconds)
        if not _farewell_said.is_set():
            sys.stderr.write(farewell + "\n")
            sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    threading.Thread(target=watchdog, name="fundopt-stop-watchdog", daemon=True).start()


def _guarded(lang: Lang, debug: bool, body: Callable[[], int]) -> None:
    """Run ``body`` and turn fundopt's errors into exit codes and one clear message.

    Ctrl-C and SIGTERM stop a running HiGHS solve (exit 130); files being written are left
    as they were (writes are atomic).
    """
    from fundopt.optimizer.interrupt import stop_on_signals

    farewell = ("已中断（Ctrl-C 或 SIGTERM）。" if lang is Lang.ZH
                else "Interrupted (Ctrl-C or SIGTERM).")
    try:
        with stop_on_signals(lambda: _exit_after(STOP_GRACE, farewell)):
            code = body()
    except KeyboardInterrupt:
        _farewell_said.set()
        _fail(EXIT_INTERRUPTED, farewell)
    except InputError as error:
        _fail(EXIT_INPUT, ("错误：" if lang is Lang.ZH else "Error: ") + error.render(lang))
    except FundoptError as error:
        _fail(EXIT_INTERNAL, ("错误：" if lang is Lang.ZH else "Error: ") + error.render(lang))
    except typer.Exit:
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
    solver: SolverOpt = Solver.HIGHS,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.0, help="Stop the solver after this many seconds.")] = None,
    gap: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Relative MIP gap at which to stop (0 = prove optimal).")] = 0.0,
    algorithm: Annotated[LpAlgorithm, typer.Option(
        help="HiGHS LP algorithm; auto picks interior point for large LPs.")] = LpAlgorithm.AUTO,
    profile: Annotated[bool, typer.Option(
        "--profile", "-v", help="Print the time of each phase (read, build, solve, write).")
    ] = False,
    relax: Annotated[bool, typer.Option(
        "--relax", help="If the policy is infeasible, solve under the suggested minimal "
        "relaxation (clearly marked as relaxed).")] = False,
    alternatives: Annotated[int, typer.Option(
        "--alternatives", min=0, help="Also find up to K near-optimal plans with different "
        "funded sets.")] = 0,
    within: Annotated[float, typer.Option(
        "--within", min=0.0, help="Alternatives stay within P percent of the optimum.")
    ] = 1.0,
    ranges: Annotated[bool, typer.Option(
        "--ranges", help="Find over which range of its limit each binding budget, amount, "
        "share and sum constraint keeps its shadow price.")] = False,
    sheet: SheetOpt = None,
    strict: StrictOpt = False,
    robust: Annotated[str | None, typer.Option(
        "--robust", help="Plan for uncertain scores ([uncertainty] in the policy): 'worst' "
        "(best worst-reviewer total) or 'cvar:ALPHA' (best mean of the worst ALPHA share "
        "of the scenarios), compared with the nominal optimum.", show_default=False)] = None,
    book: FundBookOpt = None,
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
        from fundopt.optimizer.problem import Problem, SolveOptions, SolverName
        from fundopt.reports.export import check_output_paths, write_outputs
        from fundopt.reports.terminal import render_phases, render_summary

        started = time.perf_counter()
        criterion = None
        if robust is not None:
            from fundopt.optimizer.robust import parse_criterion

            criterion = parse_criterion(robust)
            if relax or alternatives or ranges:
                raise InputError(
                    "--robust cannot be combined with --relax, --alternatives or --ranges",
                    column="--robust", value=robust,
                    hint="Run them as two commands: the robust plan, then the analyses of "
                         "the nominal one.",
                    message_zh="--robust 不能与 --relax、--alternatives、--ranges 同时使用",
                    hint_zh="请分两次运行：先求稳健方案，再分析名义方案。")
        inputs = load_inputs(table, policy, sheet)
        outputs = list(output or [])
        check_output_paths(outputs, [*inputs.files, *_book_files(book)])
        notes = _data_notes(inputs.table, inputs.policy, strict)
        fund = _read_fund(book, inputs)
        read_at = time.perf_counter()
        options = SolveOptions(solver=SolverName(solver.value), time_limit=time_limit, gap=gap,
                               algorithm=Algorithm(algorithm.value))
        problem = Problem(inputs.table, inputs.policy, inputs.constraints, options, book=fund)
        if criterion is not None:
            from fundopt.optimizer.robust import solve_robust

            result = solve_robust(problem, criterion)
        else:
            result = problem.solve()
        if relax or alternatives or ranges:
            from fundopt.optimizer.findings import Requests, add_findings
            result = add_findings(problem, result,
                                  Requests(relax, alternatives, within, ranges))
        if strict:
            _refuse_warnings(notes, result.warnings)
        solved_at = time.perf_counter()
        write_outputs(outputs, inputs.table, inputs.policy, result, lang.value,
                      list(inputs.files), notes)
        written_at = time.perf_counter()
        console = Console(highlight=False)
        render_summary(console, inputs.table, inputs.policy, result, lang.value, notes=notes)
        if result.robust is not None:
            from fundopt.reports.terminal_uncertainty import render_robust

            render_robust(console, inputs.table, inputs.policy, result, lang.value)
        if profile:
            phases = {"read": read_at - started, **result.phases,
                      "write": written_at - solved_at, "total": written_at - started}
            render_phases(console, phases, lang.value)
        _wrote(console, outputs, lang)
        if result.is_ok:
            return EXIT_OK
        return EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_INTERNAL

    _guarded(lang, debug, body)


@app.command()
def check(
    table: TableArg,
    policy: PolicyOpt = None,
    sheet: SheetOpt = None,
    strict: StrictOpt = False,
    book: FundBookOpt = None,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Validate the table and its policy without solving.

    Example:

        fundopt check inputs/2024.csv --policy inputs/2024.toml
    """

    def body() -> int:
        from fundopt.models.checks import similar_values
        from fundopt.models.inputs import load_inputs
        from fundopt.optimizer.problem import Problem
        from fundopt.reports.terminal import render_check

        inputs = load_inputs(table, policy, sheet)
        problem = Problem(inputs.table, inputs.policy, inputs.constraints,
                          book=_read_fund(book, inputs))
        notes = similar_values(inputs.table, inputs.policy)
        if strict:
            _refuse_warnings(notes, problem.built.warnings)
        render_check(Console(highlight=False), inputs, problem.built, lang.value, notes=notes)
        return EXIT_OK

    _guarded(lang, debug, body)


# Score draws behind the funded shares ``explain`` quotes; ``stability`` takes the policy's.
EXPLAIN_DRAWS = 100


@app.command()
def explain(
    table: TableArg,
    ids: Annotated[list[str], typer.Argument(help="Sub-fund ids to explain.",
                                             show_default=False)],
    policy: PolicyOpt = None,
    output: Annotated[list[Path] | None, typer.Option(
        "--output", "-o", help="Also write the result with its explanations (.json, .csv, "
        ".xlsx with a diagnosis sheet). Repeatable.")] = None,
    solver: SolverOpt = Solver.HIGHS,
    sheet: SheetOpt = None,
    draws: Annotated[int, typer.Option(
        "--draws", min=0, max=1_000_000, help="With [uncertainty] in the policy: score draws "
        "for each sub-fund's funded share (0 = skip).")] = EXPLAIN_DRAWS,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Explain why sub-funds are in or out of the optimal plan: the score at which each
    would enter or leave, the objective cost of forcing it in or leaving it out, what it
    displaces or what replaces it, and the binding constraints that hold it. With
    [uncertainty] in the policy, also the share of score draws in which each is funded.

    Example:

        fundopt explain inputs/2024.csv TJ-BH-02 TJ-BH-03 --lang zh
    """

    def body() -> int:
        from fundopt.models.inputs import load_inputs
        from fundopt.optimizer.explain import explain as run_explain
        from fundopt.optimizer.problem import Problem, SolveOptions, SolverName
        from fundopt.reports.export import check_output_paths, write_outputs
        from fundopt.reports.terminal import render_summary
        from fundopt.reports.terminal_findings import render_explanations

        inputs = load_inputs(table, policy, sheet)
        outputs = list(output or [])
        check_output_paths(outputs, list(inputs.files))
        options = SolveOptions(solver=SolverName(solver.value))
        problem = Problem(inputs.table, inputs.policy, inputs.constraints, options)
        result = problem.solve()
        found = run_explain(problem, ids, result)
        result = replace(result, explanations=found)
        write_outputs(outputs, inputs.table, inputs.policy, result, lang.value,
                      list(inputs.files))
        console = Console(highlight=False)
        if not result.is_ok:
            render_summary(console, inputs.table, inputs.policy, result, lang.value)
            return EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_INTERNAL
        render_explanations(console, result, inputs.policy.unit, lang.value)
        if inputs.policy.uncertainty is not None and draws > 0:
            from fundopt.optimizer.stability import stability as run_stability
            from fundopt.reports.terminal_uncertainty import render_funded_shares

            run = run_stability(problem, draws=draws, nominal=result)
            render_funded_shares(console, inputs.table, ids, run, lang.value)
        _wrote(console, outputs, lang)
        return EXIT_OK

    _guarded(lang, debug, body)


WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Worker processes (default: every core; 1 = serial).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Solve on a running Dask cluster: its scheduler's address, e.g. "
    "tcp://10.0.0.5:8786 (default: $FUNDOPT_SCHEDULER, unless --workers is given).",
    show_default=False)]


def _batch_engine(workers: int | None, scheduler: str | None, lang: Lang) -> Engine:
    """The engine of a batch command: Dask for ``--scheduler`` (or ``FUNDOPT_SCHEDULER``
    when ``--workers`` is not given), else the local pool, serial for ``--workers 1``."""
    from fundopt.optimizer.engines import open_engine
    from fundopt.reports.progress import worker_lost_text

    if scheduler and workers is not None:
        raise InputError("--workers and --scheduler exclude each other: on a cluster, "
                         "the cluster's workers solve", column="--workers", value=workers,
                         message_zh="--workers 与 --scheduler 不能同时使用：使用集群时由集群的"
                         "工作进程求解")
    if scheduler is None and workers is None:
        scheduler = os.environ.get("FUNDOPT_SCHEDULER") or None
    return open_engine(workers, scheduler,
                       lambda lost: err.print(worker_lost_text(lost, lang.value), markup=False))


BatchOutputOpt = Annotated[list[Path] | None, typer.Option(
    "--output", "-o", help="Write the result: .json, .csv or .xlsx (review workbook). "
    "Repeatable.")]


@app.command()
def compare(
    table: TableArg,
    scenarios: Annotated[Path, typer.Option(
        "--scenarios", "-s", help="Scenario file (TOML; see README, Scenarios and sweeps).",
        show_default=False)],
    policy: PolicyOpt = None,
    output: BatchOutputOpt = None,
    solver: SolverOpt = Solver.HIGHS,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    sheet: SheetOpt = None,
    strict: StrictOpt = False,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Solve the baseline and every scenario of a scenario file and compare them side by
    side, with each plan's changes against the baseline. Infeasible scenarios stay in the
    table with their diagnosis; a scenario with an input error is reported in its column
    (exit code 2 after everything else is shown and written).

    Example:

        fundopt compare inputs/2024.csv --scenarios inputs/2024-scenarios.toml -o out/compare.xlsx
    """

    def body() -> int:
        from fundopt.models.scenarios import (
            base_policy_path,
            load_scenarios,
            policy_tree,
            prepare_all,
        )
        from fundopt.models.table import read_table
        from fundopt.models.units import in_policy_unit
        from fundopt.optimizer.batch import Job, solve_many
        from fundopt.optimizer.problem import SolveOptions, SolverName
        from fundopt.reports.compare import CompareRun, write_compare
        from fundopt.reports.export import check_output_paths
        from fundopt.reports.progress import LazyProgress, progress_text
        from fundopt.reports.terminal import render_notes
        from fundopt.reports.terminal_batch import render_compare

        file = load_scenarios(scenarios)
        data = read_table(table, sheet)
        base_path = base_policy_path(data, file, policy)
        outputs = list(output or [])
        check_output_paths(outputs, [table, scenarios, *([base_path] if base_path else [])])
        base = policy_tree(data, base_path)
        prepared = prepare_all(file, in_policy_unit(data, base.unit), base)
        notes = _data_notes(prepared[0].table, prepared[0].policy, strict)
        ready = [p for p in prepared if p.error is None]
        jobs = [Job(p.table, p.policy, p.constraints) for p in ready
                if p.table is not None and p.policy is not None]
        console = Console(highlight=False)
        with _batch_engine(workers, scheduler, lang) as engine, \
                LazyProgress(console, progress_text(engine, lang.value)) as report:
            solved = iter(solve_many(jobs, SolveOptions(solver=SolverName(solver.value)),
                                     engine=engine, progress=report))
        results = tuple(next(solved) if p.error is None else None for p in prepared)
        run = CompareRun(tuple(prepared), results, scenarios, file.sha256, notes,
                         engine.describe())
        write_compare(outputs, run, lang.value)
        render_compare(console, run, lang.value)
        render_notes(console, notes, lang.value)
        _wrote(console, outputs, lang)
        errors = [p.error for p in prepared if p.error is not None]
        for error in errors:
            err.print(_shown(("错误：" if lang is Lang.ZH else "Error: ")
                             + error.render(lang.value)),
                      markup=False)
        return EXIT_INPUT if errors else EXIT_OK

    _guarded(lang, debug, body)


@app.command()
def sweep(
    table: TableArg,
    param: Annotated[str, typer.Option(
        "--param", help="Numeric policy key path: budget, min_deploy, region.河北.min_share, "
        '"constraints.risk cap.max" …', show_default=False)],
    start: Annotated[float, typer.Option("--from", help="First value.", show_default=False)],
    stop: Annotated[float, typer.Option("--to", help="Last value.", show_default=False)],
    steps: Annotated[int, typer.Option(
        "--steps", help="Number of points (2 to 10 000), evenly spaced from --from to "
        "--to.")] = 11,
    policy: PolicyOpt = None,
    output: BatchOutputOpt = None,
    solver: SolverOpt = Solver.HIGHS,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    sheet: SheetOpt = None,
    strict: StrictOpt = False,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Solve for a range of values of one policy number: the objective curve, the marginal
    value per unit between points, where the funded set changes, infeasible points marked.

    Example:

        fundopt sweep inputs/2024.csv --param budget --from 20 --to 50 --steps 50 -o out/sweep.xlsx
    """

    def body() -> int:
        from fundopt.models.scenarios import (
            base_policy_path,
            policy_tree,
            sweep_policies,
            sweep_values,
        )
        from fundopt.models.table import read_table
        from fundopt.models.units import in_policy_unit
        from fundopt.optimizer.batch import Job, solve_many
        from fundopt.optimizer.problem import SolveOptions, SolverName
        from fundopt.reports.export import check_output_paths
        from fundopt.reports.progress import LazyProgress, progress_text
        from fundopt.reports.sweep import SweepRun, write_sweep
        from fundopt.reports.terminal import render_notes
        from fundopt.reports.terminal_batch import render_sweep

        values = sweep_values(start, stop, steps)
        data = read_table(table, sheet)
        base_path = base_policy_path(data, None, policy)
        outputs = list(output or [])
        check_output_paths(outputs, [table, *([base_path] if base_path else [])])
        base = policy_tree(data, base_path)
        data = in_policy_unit(data, base.unit)
        points = sweep_policies(data, base, param, values)
        notes = _data_notes(data, points[0][0], strict)
        console = Console(highlight=False)
        with _batch_engine(workers, scheduler, lang) as engine, \
                LazyProgress(console, progress_text(engine, lang.value)) as report:
            results = solve_many([Job(data, p, c) for p, c in points],
                                 SolveOptions(solver=SolverName(solver.value)),
                                 engine=engine, progress=report)
        run = SweepRun(param, values, tuple(results), data, points[0][0], notes,
                       engine.describe())
        write_sweep(outputs, run, lang.value)
        render_sweep(console, run, lang.value)
        render_notes(console, notes, lang.value)
        _wrote(console, outputs, lang)
        return EXIT_OK

    _guarded(lang, debug, body)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to write the starter files into.",
                                           show_default=False)],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace starter files that already exist.")] = False,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Write a starter table (subfunds.csv), its policy (subfunds.toml) and a scenario file
    (scenarios.toml) that solve as they are; replace the rows and numbers with your round's.
    Existing files are never replaced without --force.

    Example:

        fundopt init round2025 --lang zh && fundopt solve round2025/subfunds.csv
    """

    def body() -> int:
        from fundopt.starter import write_starter

        written = write_starter(folder, lang.value, force)
        _wrote(Console(highlight=False), written, lang)
        return EXIT_OK

    _guarded(lang, debug, body)


@app.command()
def stability(
    table: TableArg,
    policy: PolicyOpt = None,
    sheet: SheetOpt = None,
    draws: Annotated[int | None, typer.Option(
        "--draws", min=1, max=1_000_000,
        help="Score draws (default: the policy's [uncertainty] draws, else 1000).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="Seed of the draws (default: the policy's, else 0).")] = None,
    output: BatchOutputOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.0, help="Stop each draw's solve after this many seconds.")
    ] = None,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """How stable is each choice when the scores are uncertain? Solves the plan for each
    score draw of the policy's [uncertainty] table on the model built once, and reports
    per sub-fund the share of draws in which it is funded (core >= 90%, out < 10%, else
    contested), its mean amount, and the objective's p5 / p50 / p95.

    Example:

        fundopt stability inputs/2024.csv --draws 1000 -o out/stability.xlsx
    """

    def body() -> int:
        from fundopt.models.inputs import load_inputs
        from fundopt.models.uncertainty import require_uncertainty
        from fundopt.optimizer.problem import Problem, SolveOptions
        from fundopt.optimizer.stability import stability as run_stability
        from fundopt.reports.export import check_output_paths
        from fundopt.reports.progress import LazyProgress, progress_text
        from fundopt.reports.stability import write_stability
        from fundopt.reports.terminal import render_summary
        from fundopt.reports.terminal_uncertainty import render_stability

        inputs = load_inputs(table, policy, sheet)
        outputs = list(output or [])
        check_output_paths(outputs, list(inputs.files))
        require_uncertainty(inputs.policy, "stability")
        console = Console(highlight=False)
        problem = Problem(inputs.table, inputs.policy, inputs.constraints,
                          SolveOptions(time_limit=time_limit))
        with _batch_engine(workers, scheduler, lang) as engine, \
                LazyProgress(console, progress_text(engine, lang.value)) as report:
            run = run_stability(problem, draws=draws, seed=seed, engine=engine,
                                progress=report)
        if not run.nominal.is_ok:
            render_summary(console, inputs.table, inputs.policy, run.nominal, lang.value)
            return EXIT_INFEASIBLE if run.nominal.status == "infeasible" else EXIT_INTERNAL
        write_stability(outputs, inputs.table, inputs.policy, run, lang.value)
        render_stability(console, inputs.table, inputs.policy, run, lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


def _refuse_warnings(notes: Sequence[DataWarning], warnings: Sequence[Warning_]) -> None:
    """``--strict``: any warning is an input error (exit 2)."""
    from fundopt.models.checks import strict_error
    from fundopt.reports.labels import warning_text

    # an ineligible row is the policy's own decision (SPEC §11), not a doubt about the data
    warnings = [w for w in warnings if w.code != "ineligible"]
    if notes or warnings:
        raise strict_error([*(n.message("en") for n in notes),
                            *(warning_text(w, "en") for w in warnings)],
                           [*(n.message("zh") for n in notes),
                            *(warning_text(w, "zh") for w in warnings)])


def _data_notes(table: Table | None, policy: Policy | None, strict: bool
                 ) -> tuple[DataWarning, ...]:
    """Similar values in the (base) table of a solve, compare or sweep (refused under
    --strict)."""
    from fundopt.models.checks import similar_values

    if table is None or policy is None:
        return ()
    notes = similar_values(table, policy)
    if strict:
        _refuse_warnings(notes, ())
    return notes


def _read_fund(book: str | None, inputs: Inputs) -> FundView | None:
    """The book as this round sees it, for ``--book`` (None without it)."""
    if book is None:
        return None
    from fundopt.models.fund import read_fund

    return read_fund(book, inputs.table, inputs.policy, inputs.constraints)


def _book_files(book: str | None) -> list[Path]:
    """A book given by path is an input: no output may land on it."""
    return [] if book is None or "://" in book else [Path(book)]


book_app = typer.Typer(
    help="The fund's book: the rounds committed so far, in an SQLite file or a PostgreSQL "
    "database (基金账簿).", no_args_is_help=True,
    cls=FastGroup)   # as the main app: option values converted without pydantic
app.add_typer(book_app, name="book")
BookOpt = Annotated[str, typer.Option(
    "--book", "-b", help="The book: an SQLite file path (created by the first add) or a "
    "postgresql://user@host/database URL.", show_default=False)]
RoundArg = Annotated[str, typer.Argument(help="Round name, as given to book add --round.",
                                         show_default=False)]


@book_app.command("add")
def book_add(
    plan: Annotated[Path, typer.Argument(help="A solve result (.json from solve -o).",
                                         show_default=False)],
    book: BookOpt,
    round_name: Annotated[str, typer.Option(
        "--round", "-r", help="Name of the round in the book, e.g. 2024 (used once).",
        show_default=False)],
    note: Annotated[str, typer.Option("--note", help="Free text kept with the round.")] = "",
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Book an optimal or feasible plan as a round: its funded rows with every input
    column, the input and policy SHA-256, fundopt's version and the time, in one
    transaction. The plan's input files must still match their recorded SHA-256.

    Example:

        fundopt book add out/plan.json --book fund.book --round 2024 --note "IC 2024-06"
    """

    def body() -> int:
        from fundopt.models.book import open_book
        from fundopt.models.booking import round_from_plan
        from fundopt.reports.book import render_added

        new = round_from_plan(plan, round_name, note)
        with open_book(book, create=True) as opened:
            info = opened.add(new)
        render_added(Console(highlight=False), info, book, lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


@book_app.command("list")
def book_list(book: BookOpt, lang: LangOpt = Lang.EN, debug: DebugOpt = False) -> None:
    """List the rounds of a book, void ones with their reason.

    Example:

        fundopt book list --book fund.book
    """

    def body() -> int:
        from fundopt.models.book import open_book
        from fundopt.reports.book import render_rounds

        with open_book(book) as opened:
            infos = opened.rounds()
        render_rounds(Console(highlight=False), book, infos, lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


@book_app.command("show")
def book_show(
    round_name: RoundArg,
    book: BookOpt,
    output: Annotated[list[Path] | None, typer.Option(
        "--output", "-o", help="Write the round: .json, .csv (its commitments with every "
        "input column) or .xlsx. Repeatable.")] = None,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Show one round: its facts and every commitment.

    Example:

        fundopt book show 2024 --book fund.book -o out/round-2024.xlsx
    """

    def body() -> int:
        from fundopt.models.book import open_book
        from fundopt.reports.book import render_round, write_round
        from fundopt.reports.export import check_output_paths

        outputs = list(output or [])
        check_output_paths(outputs, _book_files(book))
        with open_book(book) as opened:
            info, rows = opened.round(round_name)
        write_round(outputs, info, rows, lang.value)
        render_round(Console(highlight=False), info, rows, lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


@book_app.command("void")
def book_void(
    round_name: RoundArg,
    book: BookOpt,
    reason: Annotated[str, typer.Option(
        "--reason", help="Why the round is void (kept in the book).", show_default=False)],
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Mark a round void with a reason. Nothing is deleted; solve --book ignores it.

    Example:

        fundopt book void 2024 --book fund.book --reason "re-planned after the IC meeting"
    """

    def body() -> int:
        from fundopt.models.book import open_book
        from fundopt.reports.book import render_voided

        if not reason.strip():
            raise InputError("the reason is empty", column="--reason",
                             expected="why the round is void", message_zh="作废原因为空")
        with open_book(book) as opened:
            info = opened.void(round_name, reason.strip())
        render_voided(Console(highlight=False), info, lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


def main() -> None:  # pragma: no cover - the program (see __main__.py)
    try:
        app(prog_name="fundopt")
    except SystemExit as done:
        # The command is done and its files are written and closed. Shutting down, Python
        # would walk every object still alive looking for cycles (≈ 70 ms after a solve of
        # the sample); none of them needs collecting any more.
        gc.freeze()
        from fundopt.optimizer.interrupt import solver_busy

        if solver_busy():
            # The loser of a MILP race (optimizer/race.py) is still stopping, which can take
            # seconds; everything this process had to do is done and written, so exit now.
            # (os._exit: a normal exit would wait for it, and C++ clean-up under a live
            # HiGHS thread aborts.)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(done.code if isinstance(done.code, int) else 0 if done.code is None
                     else 1)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
