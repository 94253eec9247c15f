"""The command line's options and arguments, each declared once (``cli.py`` uses them).

Each alias is one typer declaration: its names and its ``--help`` text (docs/reference.md
lists every option; ``tests/test_docs.py`` checks it against ``--help``). ``\\[`` keeps a
literal ``[uncertainty]`` from being read as rich markup in the help.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "Accept", "AcceptOpt", "AlgorithmOpt", "AlternativesOpt", "BatchOutputOpt", "BookOpt",
    "BookOutputOpt", "DebugOpt", "DrawsOpt", "ExplainDrawsOpt", "ExplainOutputOpt",
    "FolderArg", "ForceOpt", "FromOpt", "FundBookOpt", "GapOpt", "IdsArg", "Lang", "LangOpt",
    "LpAlgorithm", "NoteOpt", "ParamOpt", "PlanArg", "PolicyOpt", "ProfileOpt", "RangesOpt",
    "ReasonOpt", "RelaxOpt", "RobustOpt", "RoundArg", "RoundOpt", "ScenariosOpt",
    "SchedulerOpt", "SeedOpt", "SheetOpt", "SolveOutputOpt", "Solver", "SolverOpt",
    "StepOpt", "StepsOpt", "StrictOpt", "TableArg", "TimeLimitOpt", "DrawTimeLimitOpt",
    "ToOpt", "VerifyPlanArg", "WithinOpt", "WorkersOpt", "lang_of",
]


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


class Accept(StrEnum):
    RELAXED = "relaxed"
    TIME_LIMIT = "time_limit"


def lang_of(args: Sequence[str]) -> str:
    """``"zh"`` when ``--lang zh`` (or ``--lang=zh``) is anywhere on a command line, as
    ``__main__`` reads it before any option is parsed; else ``"en"``."""
    zh = "--lang=zh" in args or any(a == "--lang" and b == "zh"
                                    for a, b in zip(args, args[1:], strict=False))
    return "zh" if zh else "en"


def _arg(help: str) -> Any:
    return typer.Argument(help=help, show_default=False)


# --- every command
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of labels and messages.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]

# --- the inputs
TableArg = Annotated[Path, _arg("Sub-fund table (.csv or .xlsx).")]
PolicyOpt = Annotated[Path | None, typer.Option(
    "--policy", "-p", help="Policy TOML (default: <table stem>.toml beside the table).")]
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

# --- outputs
SolveOutputOpt = Annotated[list[Path] | None, typer.Option(
    "--output", "-o", help="Write the result: .json, .csv (plan), .xlsx (review "
    "workbook), .pdf or .html (decision memo). Repeatable.")]
ExplainOutputOpt = Annotated[list[Path] | None, typer.Option(
    "--output", "-o", help="Also write the result with its explanations (.json, .csv, "
    ".xlsx with a diagnosis sheet). Repeatable.")]
BatchOutputOpt = Annotated[list[Path] | None, typer.Option(
    "--output", "-o", help="Write the result: .json, .csv or .xlsx (review workbook). "
    "Repeatable.")]
BookOutputOpt = Annotated[list[Path] | None, typer.Option(
    "--output", "-o", help="Write the round: .json, .csv (its commitments with every "
    "input column) or .xlsx. Repeatable.")]

# --- solving
SolverOpt = Annotated[Solver, typer.Option("--solver", help="MILP/LP solver.")]
TimeLimitOpt = Annotated[float | None, typer.Option(
    "--time-limit", min=0.0, help="Stop the solver after this many seconds.")]
DrawTimeLimitOpt = Annotated[float | None, typer.Option(
    "--time-limit", min=0.0, help="Stop each draw's solve after this many seconds.")]
GapOpt = Annotated[float, typer.Option(
    min=0.0, max=1.0, help="Relative MIP gap at which to stop (0 = prove optimal).")]
AlgorithmOpt = Annotated[LpAlgorithm, typer.Option(
    help="HiGHS LP algorithm; auto picks interior point for large LPs.")]
ProfileOpt = Annotated[bool, typer.Option(
    "--profile", "-v", help="Print the time of each phase (read, build, solve, write).")]
RelaxOpt = Annotated[bool, typer.Option(
    "--relax", help="If the policy is infeasible, solve under the suggested minimal "
    "relaxation (clearly marked as relaxed).")]
AlternativesOpt = Annotated[int, typer.Option(
    "--alternatives", min=0, help="Also find up to K near-optimal plans with different "
    "funded sets.")]
WithinOpt = Annotated[str, typer.Option(
    "--within", help="Alternatives stay within this fraction of the optimum, written as "
    "the policy writes fractions: 0.01 or 1%.")]
RangesOpt = Annotated[bool, typer.Option(
    "--ranges", help="Find over which range of its limit each binding budget, amount, "
    "share and sum constraint keeps its shadow price.")]
RobustOpt = Annotated[str | None, typer.Option(
    "--robust", help="Plan for uncertain scores (\\[uncertainty] in the policy): 'worst' "
    "(best worst-reviewer total) or 'cvar:ALPHA' (best mean of the worst ALPHA share "
    "of the scenarios), compared with the nominal optimum.", show_default=False)]

# --- explain, stability
IdsArg = Annotated[list[str], _arg("Sub-fund ids to explain.")]
ExplainDrawsOpt = Annotated[int, typer.Option(
    "--draws", min=0, max=1_000_000, help="With \\[uncertainty] in the policy: score draws "
    "for each sub-fund's funded share (0 = skip).")]
DrawsOpt = Annotated[int | None, typer.Option(
    "--draws", min=1, max=1_000_000,
    help="Score draws (default: the policy's \\[uncertainty] draws, else 1000).")]
SeedOpt = Annotated[int | None, typer.Option(
    "--seed", min=0, max=2**63 - 1,       # models.limits.MAX_SEED, as the policy's
    help="Seed of the draws (default: the policy's, else 0).")]

# --- batches: compare, sweep, stability
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Worker processes (default: every core; 1 = serial).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Solve on a running Dask cluster: its scheduler's address, e.g. "
    "tcp://10.0.0.5:8786 (default: $FUNDOPT_SCHEDULER, unless --workers is given).",
    show_default=False)]
ScenariosOpt = Annotated[Path, typer.Option(
    "--scenarios", "-s", help="Scenario file (TOML; see README, Scenarios and sweeps).",
    show_default=False)]
ParamOpt = Annotated[str, typer.Option(
    "--param", help="Numeric policy key path: budget, min_deploy, region.河北.min_share, "
    '"constraints.risk cap.max" …', show_default=False)]
FromOpt = Annotated[float, typer.Option("--from", help="First value.", show_default=False)]
ToOpt = Annotated[float, typer.Option("--to", help="Last value.", show_default=False)]
StepsOpt = Annotated[int, typer.Option(
    "--steps", help="Number of points (2 to 10 000), evenly spaced from --from to --to.")]
StepOpt = Annotated[float | None, typer.Option(
    "--step", help="Instead of --steps: a point every STEP from --from, up to --to "
    "(--step 0.5).", show_default=False)]

# --- init, verify
FolderArg = Annotated[Path, _arg("Folder to write the starter files into.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace starter files that already exist.")]
VerifyPlanArg = Annotated[Path, _arg(
    "The plan to check: .csv or .xlsx (plan sheet) as solve wrote it and a committee "
    "edited it, or .json; amounts by id.")]

# --- book
BookOpt = Annotated[str, typer.Option(
    "--book", "-b", help="The book: an SQLite file path (created by the first add) or a "
    "postgresql://user@host/database URL.", show_default=False)]
PlanArg = Annotated[Path, _arg("A solve result (.json from solve -o).")]
RoundArg = Annotated[str, _arg("Round name, as given to book add --round.")]
RoundOpt = Annotated[str, typer.Option(
    "--round", "-r", help="Name of the round in the book, e.g. 2024 (used once).",
    show_default=False)]
NoteOpt = Annotated[str, typer.Option("--note", help="Free text kept with the round.")]
AcceptOpt = Annotated[list[Accept] | None, typer.Option(
    "--accept", help="Also book a plan made under fundopt's suggested relaxation "
    "(relaxed) or not proven optimal (time_limit), with that mark. Repeatable.")]
ReasonOpt = Annotated[str, typer.Option(
    "--reason", help="Why the round is void (kept in the book).", show_default=False)]
