"""The ``fundopt`` command line: options → a call of ``fundopt.app`` → show and write →
exit code. The options are declared in ``cli_options.py``; exit codes and the files each
command announces come from ``app/outcome.py``, usage errors in Chinese from
``app/usage.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fundopt import cli_options as opt
from fundopt.cli_params import FastGroup

# Score draws behind the funded shares ``explain`` quotes (as ``fundopt.app``; not imported
# from there at start-up).
EXPLAIN_DRAWS = 100

if TYPE_CHECKING:  # imported on use: start-up time
    from fundopt.app.steps import Notify, ProgressFactory


class Group(FastGroup):
    """The app's command group (see ``cli_params``); under ``--lang zh`` its usage errors
    (unknown option, missing argument, bad value …) are said in Chinese, exit 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        line = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or opt.lang_of(line) != "zh":
            return super().main(args, prog_name, complete_var, standalone_mode,
                                windows_expand_args, **extra)
        from fundopt.app.usage import main_in

        main_in("zh", line, lambda: super(Group, self).main(
            line, prog_name, complete_var, False, windows_expand_args, **extra),
            lambda text: err.print(_shown(text), markup=False, highlight=False))


app = typer.Typer(
    help="Allocate a mother fund's capital across candidate sub-funds (母基金子基金配置优化).",
    cls=Group, no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False)
book_app = typer.Typer(
    help="The fund's book: the rounds committed so far, in an SQLite file or a PostgreSQL "
    "database (基金账簿).", no_args_is_help=True, cls=FastGroup)
app.add_typer(book_app, name="book")
err = Console(stderr=True, highlight=False)


def _shown(text: str) -> str:
    """``text`` with control characters (an ANSI escape in a bad value) made visible."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if (ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160 else c for c in text)


def _version(value: bool) -> None:
    if value:
        import fundopt

        print(f"fundopt {fundopt.__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
                 ] = False) -> None:
    """Allocate a mother fund's capital across candidate sub-funds (母基金子基金配置优化)."""


def _wrote(console: Console, paths: list[Path], lang: opt.Lang) -> None:
    """One line per file written, so the planner knows where to look."""
    from fundopt.reports.text import say

    for path in paths:   # a path is never broken
        console.print(say("wrote", lang.value, path=path), markup=False, highlight=False,
                      soft_wrap=True)


def _run(lang: opt.Lang, debug: bool, call: Callable[[Console], Any],
         outputs: list[Path] | None = None, profile: bool = False,
         show: Callable[[Any, Console], None] | None = None) -> None:
    """The body of every command: ``call`` (given the console, for a progress bar) returns
    a run value; show it, list the files written, say the input errors of scenarios, and
    exit with the run's code."""

    def body() -> int:
        from fundopt.app.outcome import announced, exit_code
        from fundopt.app.steps import new_console
        from fundopt.reports.text import say

        console = new_console()
        run = call(console)
        (show or (lambda run, console: run.show(console, lang.value)))(run, console)
        if profile:
            run.show_phases(console, lang.value)
        _wrote(console, announced(run, outputs or []), lang)
        for error in getattr(run, "errors", ()):
            err.print(_shown(say("cli.error", lang.value, message=error.render(lang.value))),
                      markup=False)
        return exit_code(run)

    from fundopt.app.outcome import guarded

    raise typer.Exit(guarded(body, lang.value, debug, lambda text: err.print(
        _shown(text), markup=False, highlight=False)))


def _progress(console: Console, lang: opt.Lang) -> ProgressFactory:
    """A batch command's progress bar, shown once the batch takes a while."""
    from fundopt.reports.terminal.progress import LazyProgress, progress_text

    return lambda engine: LazyProgress(console, progress_text(engine, lang.value))


def _notify(lang: opt.Lang) -> Notify:
    """One line on stderr when a local worker process dies."""
    from fundopt.reports.terminal.progress import worker_lost_text

    return lambda lost: err.print(worker_lost_text(lost, lang.value), markup=False)


@app.command()
def solve(table: opt.TableArg, policy: opt.PolicyOpt = None, output: opt.SolveOutputOpt = None,
          solver: opt.SolverOpt = opt.Solver.HIGHS, time_limit: opt.TimeLimitOpt = None,
          gap: opt.GapOpt = 0.0, algorithm: opt.AlgorithmOpt = opt.LpAlgorithm.AUTO,
          profile: opt.ProfileOpt = False, relax: opt.RelaxOpt = False,
          alternatives: opt.AlternativesOpt = 0, within: opt.WithinOpt = "1%",
          ranges: opt.RangesOpt = False, sheet: opt.SheetOpt = None, strict: opt.StrictOpt = False,
          robust: opt.RobustOpt = None, book: opt.FundBookOpt = None,
          lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Solve the allocation and print the plan.

    Example:

        fundopt solve inputs/2024.csv -o out/plan.xlsx -o out/plan.json --lang zh
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.solve(
        table, policy, sheet=sheet, relax=relax, alternatives=alternatives, within=within,
        ranges=ranges, robust=robust, book=book, solver=solver.value, time_limit=time_limit,
        gap=gap, algorithm=algorithm.value, strict=strict, outputs=output or [],
        lang=lang.value), output, profile)


@app.command()
def check(table: opt.TableArg, policy: opt.PolicyOpt = None, sheet: opt.SheetOpt = None,
          strict: opt.StrictOpt = False, book: opt.FundBookOpt = None,
          lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Validate the table and its policy without solving.

    Example:

        fundopt check inputs/2024.csv --policy inputs/2024.toml
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.check(table, policy, sheet=sheet, strict=strict,
                                                book=book))


@app.command()
def explain(table: opt.TableArg, ids: opt.IdsArg, policy: opt.PolicyOpt = None,
            output: opt.ExplainOutputOpt = None, solver: opt.SolverOpt = opt.Solver.HIGHS,
            sheet: opt.SheetOpt = None, draws: opt.ExplainDrawsOpt = EXPLAIN_DRAWS,
            lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Explain why sub-funds are in or out of the optimal plan: the score at which each
    would enter or leave, the objective cost of forcing it in or leaving it out, what it
    displaces or what replaces it, and the binding constraints that hold it. With
    \\[uncertainty] in the policy, also the share of score draws in which each is funded.

    Example:

        fundopt explain inputs/2024.csv TJ-BH-02 TJ-BH-03 --lang zh
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.explain(
        table, ids, policy, sheet=sheet, solver=solver.value, draws=draws,
        outputs=output or [], lang=lang.value), output)


@app.command()
def compare(table: opt.TableArg, scenarios: opt.ScenariosOpt, policy: opt.PolicyOpt = None,
            output: opt.BatchOutputOpt = None, solver: opt.SolverOpt = opt.Solver.HIGHS,
            workers: opt.WorkersOpt = None, scheduler: opt.SchedulerOpt = None,
            sheet: opt.SheetOpt = None, strict: opt.StrictOpt = False,
            lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Solve the baseline and every scenario of a scenario file and compare them side by
    side, with each plan's changes against the baseline. Infeasible scenarios stay in the
    table with their diagnosis; a scenario with an input error is reported in its column
    (exit code 2 after everything else is shown and written).

    Example:

        fundopt compare inputs/2024.csv --scenarios inputs/2024-scenarios.toml -o out/compare.xlsx
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.compare(
        table, scenarios, policy, sheet=sheet, solver=solver.value, workers=workers,
        scheduler=scheduler, strict=strict, outputs=output or [], lang=lang.value,
        progress=_progress(console, lang), notify=_notify(lang)), output)


@app.command()
def sweep(table: opt.TableArg, param: opt.ParamOpt, start: opt.FromOpt, stop: opt.ToOpt,
          steps: opt.StepsOpt = 11, step: opt.StepOpt = None, policy: opt.PolicyOpt = None,
          output: opt.BatchOutputOpt = None, solver: opt.SolverOpt = opt.Solver.HIGHS,
          workers: opt.WorkersOpt = None, scheduler: opt.SchedulerOpt = None,
          sheet: opt.SheetOpt = None, strict: opt.StrictOpt = False,
          lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Solve for a range of values of one policy number: the objective curve, the marginal
    value per unit between points, where the funded set changes, infeasible points marked.

    Example:

        fundopt sweep inputs/2024.csv --param budget --from 20 --to 50 --steps 50 -o out/sweep.xlsx
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.sweep(
        table, param, start, stop, steps, policy, step=step, sheet=sheet, solver=solver.value,
        workers=workers, scheduler=scheduler, strict=strict, outputs=output or [],
        lang=lang.value, progress=_progress(console, lang), notify=_notify(lang)), output)


@app.command()
def init(folder: opt.FolderArg, force: opt.ForceOpt = False, lang: opt.LangOpt = opt.Lang.EN,
         debug: opt.DebugOpt = False) -> None:
    """Write a starter table (subfunds.csv), its policy (subfunds.toml) and a scenario file
    (scenarios.toml) that solve as they are; replace the rows and numbers with your round's.
    Existing files are never replaced without --force.

    Example:

        fundopt init round2025 --lang zh && fundopt solve round2025/subfunds.csv
    """
    from fundopt.starter import write_starter

    _run(lang, debug, lambda console: write_starter(folder, lang.value, force),
         show=lambda written, console: _wrote(console, written, lang))


@app.command()
def stability(table: opt.TableArg, policy: opt.PolicyOpt = None, sheet: opt.SheetOpt = None,
              draws: opt.DrawsOpt = None, seed: opt.SeedOpt = None,
              output: opt.BatchOutputOpt = None, workers: opt.WorkersOpt = None,
              scheduler: opt.SchedulerOpt = None, time_limit: opt.DrawTimeLimitOpt = None,
              lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """How stable is each choice when the scores are uncertain? Solves the plan for each
    score draw of the policy's \\[uncertainty] table on the model built once, and reports
    per sub-fund the share of draws in which it is funded (core >= 90%, out < 10%, else
    contested), its mean amount, and the objective's p5 / p50 / p95.

    Example:

        fundopt stability inputs/2024.csv --draws 1000 -o out/stability.xlsx
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.stability(
        table, policy, sheet=sheet, draws=draws, seed=seed, workers=workers,
        scheduler=scheduler, time_limit=time_limit, outputs=output or [], lang=lang.value,
        progress=_progress(console, lang), notify=_notify(lang)), output)


@app.command()
def verify(table: opt.TableArg, plan: opt.VerifyPlanArg, policy: opt.PolicyOpt = None,
           sheet: opt.SheetOpt = None, book: opt.FundBookOpt = None,
           lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Check a (hand-edited) plan against every rule of the policy: prints each broken
    rule with its value and limit, the plan's objective and its loss against the
    optimum. Exit 0 when every rule holds, 3 when one is broken, 2 on bad input.

    Example:

        fundopt verify inputs/2024.csv out/plan-edited.xlsx --lang zh
    """
    from fundopt.optimizer.verify import verify as run_verify
    from fundopt.reports.terminal.verify import render_verify

    _run(lang, debug, lambda console: run_verify(table, plan, policy, book, sheet),
         show=lambda run, console: render_verify(console, run, lang.value))


@book_app.command("add")
def book_add(plan: opt.PlanArg, book: opt.BookOpt, round_name: opt.RoundOpt, note: opt.NoteOpt = "",
             accept: opt.AcceptOpt = None, lang: opt.LangOpt = opt.Lang.EN,
             debug: opt.DebugOpt = False) -> None:
    """Book a plan as a round, after checking it again from its files: the table and
    policy must still match their recorded SHA-256, the amounts must keep every rule with
    the book as it is now and be the optimum, and the book must not have changed since
    the plan was solved against it. Stores its funded rows with every input column (in
    the policy's unit), the hashes, fundopt's version and the time, in one transaction.

    Example:

        fundopt book add out/plan.json --book fund.book --round 2024 --note "IC 2024-06"
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.book_add(plan, book, round_name, note,
                                                   [a.value for a in accept or ()]))


@book_app.command("list")
def book_list(book: opt.BookOpt, lang: opt.LangOpt = opt.Lang.EN,
              debug: opt.DebugOpt = False) -> None:
    """List the rounds of a book, void ones with their reason.

    Example:

        fundopt book list --book fund.book
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.book_list(book))


@book_app.command("show")
def book_show(round_name: opt.RoundArg, book: opt.BookOpt, output: opt.BookOutputOpt = None,
              lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Show one round: its facts and every commitment.

    Example:

        fundopt book show 2024 --book fund.book -o out/round-2024.xlsx
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.book_show(round_name, book, output or [],
                                                    lang.value))


@book_app.command("void")
def book_void(round_name: opt.RoundArg, book: opt.BookOpt, reason: opt.ReasonOpt,
              lang: opt.LangOpt = opt.Lang.EN, debug: opt.DebugOpt = False) -> None:
    """Mark a round void with a reason. Nothing is deleted; solve --book ignores it.

    Example:

        fundopt book void 2024 --book fund.book --reason "re-planned after the IC meeting"
    """
    from fundopt import app as run

    _run(lang, debug, lambda console: run.book_void(round_name, book, reason))


def main() -> None:  # pragma: no cover - the program (see __main__.py)
    try:
        app(prog_name="fundopt")
    except SystemExit as done:
        from fundopt.app.outcome import leave

        leave(done.code)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
