"""The ``fundopt`` command line: parse options, call the three layers, map errors to exit codes."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from fundopt.cli_params import FastGroup
from fundopt.errors import FundoptError, InputError

# Score draws behind the funded shares ``explain`` quotes (as ``fundopt.app``; not imported
# from there at start-up).
EXPLAIN_DRAWS = 100

if TYPE_CHECKING:  # imported on use: start-up time
    from fundopt.app.steps import Notify, ProgressFactory

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


def _exit_code(status: str) -> int:
    """0 with a plan, 3 for an infeasible policy, 1 for anything else (solver failure)."""
    if status in ("optimal", "feasible"):
        return EXIT_OK
    return EXIT_INFEASIBLE if status == "infeasible" else EXIT_INTERNAL


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
    from fundopt.optimizer.interrupt import stop_on_signals, stop_requested

    farewell = ("已中断（Ctrl-C 或 SIGTERM）。" if lang is Lang.ZH
                else "Interrupted (Ctrl-C or SIGTERM).")
    try:
        with stop_on_signals(lambda: _exit_after(STOP_GRACE, farewell)):
            try:
                code = body()
            except Exception:
                # a signal inside an extension's import surfaces as its ImportError
                if stop_requested():
                    raise KeyboardInterrupt from None
                raise
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
        "--output", "-o", help="Write the result: .json, .csv (plan), .xlsx (review "
        "workbook), .pdf or .html (decision memo). Repeatable.")] = None,
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
    within: Annotated[str, typer.Option(
        "--within", help="Alternatives stay within this fraction of the optimum, written as "
        "the policy writes fractions: 0.01 or 1%.")] = "1%",
    ranges: Annotated[bool, typer.Option(
        "--ranges", help="Find over which range of its limit each binding budget, amount, "
        "share and sum constraint keeps its shadow price.")] = False,
    sheet: SheetOpt = None,
    strict: StrictOpt = False,
    robust: Annotated[str | None, typer.Option(
        "--robust", help="Plan for uncertain scores (\\[uncertainty] in the policy): 'worst' "
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
        from fundopt import app as run_app

        run = run_app.solve(table, policy, sheet=sheet, relax=relax, alternatives=alternatives,
                            within=within, ranges=ranges, robust=robust, book=book,
                            solver=solver.value, time_limit=time_limit, gap=gap,
                            algorithm=algorithm.value, strict=strict, outputs=output or [],
                            lang=lang.value)
        console = Console(highlight=False)
        run.show(console, lang.value)
        if alternatives and run.result.is_ok and not run.result.alternatives:
            from fundopt.reports.terminal.findings import render_no_alternatives

            render_no_alternatives(console, within, lang.value)
        if profile:
            from fundopt.reports.terminal.summary import render_phases

            render_phases(console, run.phases, lang.value)
        _wrote(console, output or [], lang)
        return _exit_code(run.result.status)

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
        from fundopt import app as run_app

        run = run_app.check(table, policy, sheet=sheet, strict=strict, book=book)
        run.show(Console(highlight=False), lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


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
        "--draws", min=0, max=1_000_000, help="With \\[uncertainty] in the policy: score draws "
        "for each sub-fund's funded share (0 = skip).")] = EXPLAIN_DRAWS,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Explain why sub-funds are in or out of the optimal plan: the score at which each
    would enter or leave, the objective cost of forcing it in or leaving it out, what it
    displaces or what replaces it, and the binding constraints that hold it. With
    \\[uncertainty] in the policy, also the share of score draws in which each is funded.

    Example:

        fundopt explain inputs/2024.csv TJ-BH-02 TJ-BH-03 --lang zh
    """

    def body() -> int:
        from fundopt import app as run_app

        run = run_app.explain(table, ids, policy, sheet=sheet, solver=solver.value,
                              draws=draws, outputs=output or [], lang=lang.value)
        console = Console(highlight=False)
        run.show(console, lang.value)
        if not run.ok:
            return _exit_code(run.result.status)
        _wrote(console, output or [], lang)
        return EXIT_OK

    _guarded(lang, debug, body)


WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Worker processes (default: every core; 1 = serial).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Solve on a running Dask cluster: its scheduler's address, e.g. "
    "tcp://10.0.0.5:8786 (default: $FUNDOPT_SCHEDULER, unless --workers is given).",
    show_default=False)]


def _progress(console: Console, lang: Lang) -> ProgressFactory:
    """A batch command's progress bar, shown once the batch takes a while."""
    from fundopt.reports.terminal.progress import LazyProgress, progress_text

    return lambda engine: LazyProgress(console, progress_text(engine, lang.value))


def _notify(lang: Lang) -> Notify:
    """One line on stderr when a local worker process dies."""
    from fundopt.reports.terminal.progress import worker_lost_text

    return lambda lost: err.print(worker_lost_text(lost, lang.value), markup=False)


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
        from fundopt import app as run_app

        console = Console(highlight=False)
        run = run_app.compare(table, scenarios, policy, sheet=sheet, solver=solver.value,
                              workers=workers, scheduler=scheduler, strict=strict,
                              outputs=output or [], lang=lang.value,
                              progress=_progress(console, lang), notify=_notify(lang))
        run.show(console, lang.value)
        _wrote(console, output or [], lang)
        for error in run.errors:
            err.print(_shown(("错误：" if lang is Lang.ZH else "Error: ")
                             + error.render(lang.value)),
                      markup=False)
        return EXIT_INPUT if run.errors else EXIT_OK

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
    step: Annotated[float | None, typer.Option(
        "--step", help="Instead of --steps: a point every STEP from --from, up to --to "
        "(--step 0.5).", show_default=False)] = None,
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
        from fundopt import app as run_app

        console = Console(highlight=False)
        run = run_app.sweep(table, param, start, stop, steps, policy, step=step,
                            sheet=sheet,
                            solver=solver.value, workers=workers, scheduler=scheduler,
                            strict=strict, outputs=output or [], lang=lang.value,
                            progress=_progress(console, lang), notify=_notify(lang))
        run.show(console, lang.value)
        _wrote(console, output or [], lang)
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
        help="Score draws (default: the policy's \\[uncertainty] draws, else 1000).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, max=2**63 - 1,       # models.limits.MAX_SEED, as the policy's
        help="Seed of the draws (default: the policy's, else 0).")] = None,
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
    score draw of the policy's \\[uncertainty] table on the model built once, and reports
    per sub-fund the share of draws in which it is funded (core >= 90%, out < 10%, else
    contested), its mean amount, and the objective's p5 / p50 / p95.

    Example:

        fundopt stability inputs/2024.csv --draws 1000 -o out/stability.xlsx
    """

    def body() -> int:
        from fundopt import app as run_app

        console = Console(highlight=False)
        run = run_app.stability(table, policy, sheet=sheet, draws=draws, seed=seed,
                                workers=workers, scheduler=scheduler, time_limit=time_limit,
                                outputs=output or [], lang=lang.value,
                                progress=_progress(console, lang), notify=_notify(lang))
        run.show(console, lang.value)
        if run.ok:
            _wrote(console, output or [], lang)
        return EXIT_OK if run.ok else _exit_code(run.nominal.status)

    _guarded(lang, debug, body)


@app.command()
def verify(
    table: TableArg,
    plan: Annotated[Path, typer.Argument(
        help="The plan to check: .csv or .xlsx (plan sheet) as solve wrote it and a "
        "committee edited it, or .json; amounts by id.", show_default=False)],
    policy: PolicyOpt = None,
    sheet: SheetOpt = None,
    book: FundBookOpt = None,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Check a (hand-edited) plan against every rule of the policy: prints each broken
    rule with its value and limit, the plan's objective and its loss against the
    optimum. Exit 0 when every rule holds, 3 when one is broken, 2 on bad input.

    Example:

        fundopt verify inputs/2024.csv out/plan-edited.xlsx --lang zh
    """

    def body() -> int:
        from fundopt.optimizer.verify import verify as run_verify
        from fundopt.reports.terminal.verify import render_verify

        run = run_verify(table, plan, policy, book, sheet)
        render_verify(Console(highlight=False), run, lang.value)
        return EXIT_OK if run.verdict.holds else EXIT_INFEASIBLE

    _guarded(lang, debug, body)


book_app = typer.Typer(
    help="The fund's book: the rounds committed so far, in an SQLite file or a PostgreSQL "
    "database (基金账簿).", no_args_is_help=True,
    cls=FastGroup)   # as the main app: option values converted without pydantic
app.add_typer(book_app, name="book")
BookOpt = Annotated[str, typer.Option(
    "--book", "-b", help="The book: an SQLite file path (created by the first add) or a "
    "postgresql://user@host/database URL.", show_default=False)]


class Accept(StrEnum):
    RELAXED = "relaxed"
    TIME_LIMIT = "time_limit"


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
    accept: Annotated[list[Accept] | None, typer.Option(
        "--accept", help="Also book a plan made under fundopt's suggested relaxation "
        "(relaxed) or not proven optimal (time_limit), with that mark. Repeatable.")] = None,
    lang: LangOpt = Lang.EN,
    debug: DebugOpt = False,
) -> None:
    """Book a plan as a round, after checking it again from its files: the table and
    policy must still match their recorded SHA-256, the amounts must keep every rule with
    the book as it is now and be the optimum, and the book must not have changed since
    the plan was solved against it. Stores its funded rows with every input column (in
    the policy's unit), the hashes, fundopt's version and the time, in one transaction.

    Example:

        fundopt book add out/plan.json --book fund.book --round 2024 --note "IC 2024-06"
    """

    def body() -> int:
        from fundopt import app as run_app

        run = run_app.book_add(plan, book, round_name, note, [a.value for a in accept or ()])
        run.show(Console(highlight=False), lang.value)
        return EXIT_OK

    _guarded(lang, debug, body)


@book_app.command("list")
def book_list(book: BookOpt, lang: LangOpt = Lang.EN, debug: DebugOpt = False) -> None:
    """List the rounds of a book, void ones with their reason.

    Example:

        fundopt book list --book fund.book
    """

    def body() -> int:
        from fundopt import app as run_app

        run_app.book_list(book).show(Console(highlight=False), lang.value)
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
        from fundopt import app as run_app

        run = run_app.book_show(round_name, book, output or [], lang.value)
        run.show(Console(highlight=False), lang.value)
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
        from fundopt import app as run_app

        run_app.book_void(round_name, book, reason).show(Console(highlight=False),
                                                         lang.value)
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
