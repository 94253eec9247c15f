"""The application layer: one function per command, each returning a run value.

These functions are fundopt's public Python API (SPEC §14) and what the command line
calls: ``cli.py`` parses options, calls one of them, shows the run value, writes its files
and maps its status to an exit code. Every run value has DataFrame views, ``write(...)``
for any ``-o`` format, ``show(...)`` (the terminal summary) and ``_repr_html_`` (Jupyter).

Data flows one way: ``models`` read and validate, ``optimizer`` solves, ``reports`` turn
run values into words and files; this module only glues them, as ``cli.py`` did before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from fundopt.errors import InputError
from fundopt.models.inputs import POLICY_DICT, Inputs, inputs_from
from fundopt.optimizer.problem import Problem as Model
from fundopt.optimizer.problem import SolveOptions, SolverName

if TYPE_CHECKING:   # imported on use: start-up time
    import pandas as pd
    from rich.console import Console

    from fundopt.models.book import RoundInfo
    from fundopt.models.checks import DataWarning
    from fundopt.models.domain import Constraint, Policy, Table
    from fundopt.models.fund import FundView
    from fundopt.models.inputs import PolicyTree
    from fundopt.optimizer.build import Built
    from fundopt.optimizer.engines import Engine, Progress, WorkerLost
    from fundopt.optimizer.result import Diagnosis, Result, Warning_
    from fundopt.optimizer.stability import Stability
    from fundopt.reports.compare import CompareRun
    from fundopt.reports.sweep import SweepRun

    # What a table or a policy may be given as: a path, or (library) a DataFrame / a dict.
    PathLike: TypeAlias = str | os.PathLike[str]
    TableLike: TypeAlias = PathLike | pd.DataFrame
    PolicyLike: TypeAlias = PathLike | Mapping[str, Any] | None
    # A batch command's progress display: given the engine, a context that yields the
    # callback ``(done, total)`` (the command line's progress bar), or None.
    ProgressFactory: TypeAlias = Callable[[Engine], AbstractContextManager[Progress | None]]
    # Called when a local worker process dies (the command line prints a line).
    Notify: TypeAlias = Callable[[WorkerLost], None]

# Score draws behind the funded shares ``explain`` quotes; ``stability`` takes the policy's.
EXPLAIN_DRAWS = 100

__all__ = [
    "BookRun", "CheckRun", "ExplainRun", "Problem", "SolveRun", "StabilityRun",
    "book_add", "book_list", "book_show", "book_void", "check", "compare", "explain",
    "solve", "stability", "sweep",
]


# --- run values -----------------------------------------------------------------------

@dataclass(frozen=True)
class SolveRun:
    """The outcome of :func:`solve`: the inputs, the plan and what was noticed on the way.

    Attributes
    ----------
    inputs
        The table (in the policy's unit), the policy and its expanded constraints.
    result
        The optimizer's result (plan, constraint report, diagnosis, analyses).
    notes
        Warnings about the data (similar spellings of one value).
    phases
        Seconds per phase: ``read``, ``build``, ``solve``, …, ``write``, ``total``.
    """

    inputs: Inputs
    result: Result
    notes: tuple[DataWarning, ...] = ()
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``optimal``, ``feasible`` (time limit), ``infeasible``, ``unbounded``, …"""
        return str(self.result.status)

    @property
    def ok(self) -> bool:
        """True when there is a plan (optimal or feasible)."""
        return self.result.is_ok

    @property
    def objective(self) -> float | None:
        return self.result.objective

    @property
    def committed(self) -> float:
        """The total committed, in the policy's unit."""
        return self.result.committed

    @property
    def warnings(self) -> tuple[DataWarning | Warning_, ...]:
        """The data warnings, then the solver's (rows that cannot be funded)."""
        return (*self.notes, *self.result.warnings)

    @property
    def diagnosis(self) -> Diagnosis | None:
        """Why the policy is infeasible, and the smallest relaxation (else None)."""
        return self.result.diagnosis

    @property
    def allocations(self) -> pd.DataFrame:
        """Every input row in input order: the input columns plus ``amount``, ``funded``,
        ``share_of_budget`` and ``stake``."""
        from fundopt.reports.frames import plan_frame

        return plan_frame(self.inputs.table, self.inputs.policy, self.result)

    @property
    def constraints(self) -> pd.DataFrame:
        """One row per constraint: ``name``, ``id``, ``measure``, ``value``, ``min``,
        ``max``, ``slack``, ``binding``, ``shadow_price``, ``scope``."""
        import pandas as pd

        return pd.DataFrame(
            [{"name": c.label, "id": c.id, "measure": c.measure, "value": c.value,
              "min": c.min, "max": c.max, "slack": c.slack, "binding": c.binding,
              "shadow_price": c.shadow_price, "scope": c.scope}
             for c in self.result.constraints],
            columns=["name", "id", "measure", "value", "min", "max", "slack", "binding",
                     "shadow_price", "scope"])

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON document ``solve -o plan.json`` writes (keys English in every language)."""
        from fundopt.reports.export import result_dict

        return result_dict(self.inputs.table, self.inputs.policy, self.result, lang,
                           self.notes)

    def write(self, *paths: PathLike, lang: str = "en") -> list[Path]:
        """Write ``.json``, ``.csv`` (the plan) or ``.xlsx`` (the review workbook) files,
        atomically and never over an input file. Returns the paths written."""
        from fundopt.reports.export import write_outputs

        written = [Path(p) for p in paths]
        write_outputs(written, self.inputs.table, self.inputs.policy, self.result, lang,
                      list(self.inputs.files), self.notes)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print the summary ``fundopt solve`` prints."""
        from fundopt.reports.terminal import render_summary

        console = console or _console()
        table, policy = self.inputs.table, self.inputs.policy
        render_summary(console, table, policy, self.result, lang, notes=self.notes)
        if self.result.robust is not None:
            from fundopt.reports.terminal_uncertainty import render_robust

            render_robust(console, table, policy, self.result, lang)

    def _repr_html_(self) -> str:
        line = f"<p><b>{self.status}</b>"
        if self.objective is not None:
            line += (f" · objective {self.objective:,.6g} · committed "
                     f"{self.committed:,.6g} {self.inputs.policy.unit}")
        return line + "</p>" + self.allocations.to_html(max_rows=60)


@dataclass(frozen=True)
class CheckRun:
    """The outcome of :func:`check`: the inputs, the model built from them (its size, the
    rows that cannot be funded) and the data warnings."""

    inputs: Inputs
    built: Built
    notes: tuple[DataWarning, ...] = ()

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt check`` prints."""
        from fundopt.reports.terminal import render_check

        render_check(console or _console(), self.inputs, self.built, lang, notes=self.notes)


@dataclass(frozen=True)
class ExplainRun(SolveRun):
    """The outcome of :func:`explain`: the optimal plan with the explanations of ``ids``
    (``result.explanations``) and, with ``[uncertainty]``, their funded share over score
    draws (``shares``)."""

    ids: tuple[str, ...] = ()
    shares: Stability | None = None

    @property
    def explanations(self) -> pd.DataFrame:
        """One row per explained sub-fund (the fields of ``optimizer.result.Explanation``)."""
        import dataclasses

        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(e) for e in self.result.explanations or ()])

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt explain`` prints."""
        from fundopt.reports.terminal_findings import render_explanations

        console = console or _console()
        if not self.ok:
            super().show(console, lang)
            return
        render_explanations(console, self.result, self.inputs.policy.unit, lang)
        if self.shares is not None:
            from fundopt.reports.terminal_uncertainty import render_funded_shares

            render_funded_shares(console, self.inputs.table, list(self.ids), self.shares,
                                 lang)


@dataclass(frozen=True)
class StabilityRun:
    """The outcome of :func:`stability`: per sub-fund the share of score draws in which
    it is funded, its mean amount, and the drawn objective's percentiles."""

    inputs: Inputs
    stability: Stability

    @property
    def nominal(self) -> Result:
        """The plan for the policy's own objective."""
        return self.stability.nominal

    @property
    def ok(self) -> bool:
        return self.nominal.is_ok

    @property
    def status(self) -> str:
        return str(self.nominal.status)

    @property
    def rows(self) -> pd.DataFrame:
        """One row per input row: ``id``, ``funded_share``, ``mean_amount``, ``group``,
        ``in_nominal_plan``."""
        from fundopt.reports.stability import stability_frame

        return stability_frame(self.inputs.table, self.stability)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON document ``stability -o x.json`` writes."""
        from fundopt.reports.stability import stability_dict

        return stability_dict(self.inputs.table, self.inputs.policy, self.stability)

    def write(self, *paths: PathLike, lang: str = "en") -> list[Path]:
        """Write ``.json``, ``.csv`` or ``.xlsx`` files; returns the paths written."""
        from fundopt.reports.export import check_output_paths
        from fundopt.reports.stability import write_stability

        written = [Path(p) for p in paths]
        check_output_paths(written, list(self.inputs.files))
        write_stability(written, self.inputs.table, self.inputs.policy, self.stability, lang)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what ``fundopt stability`` prints."""
        console = console or _console()
        if not self.ok:
            from fundopt.reports.terminal import render_summary

            render_summary(console, self.inputs.table, self.inputs.policy, self.nominal, lang)
            return
        from fundopt.reports.terminal_uncertainty import render_stability

        render_stability(console, self.inputs.table, self.inputs.policy, self.stability, lang)

    def _repr_html_(self) -> str:
        return f"<p><b>{self.status}</b> · {self.stability.draws} draws</p>" + \
            self.rows.to_html(max_rows=60)


@dataclass(frozen=True)
class BookRun:
    """The outcome of a ``book`` command: the book's location, the round(s) it concerns
    and, for :func:`book_show`, the round's commitments (``rows``)."""

    action: str                                  # add, list, show or void
    book: str
    rounds: tuple[RoundInfo, ...]
    rows: pd.DataFrame | None = None

    def write(self, *paths: PathLike, lang: str = "en") -> list[Path]:
        """:func:`book_show` only: write the round as ``.json``, ``.csv`` or ``.xlsx``."""
        from fundopt.reports.book import write_round
        from fundopt.reports.export import check_output_paths

        written = [Path(p) for p in paths]
        if written and (self.action != "show" or self.rows is None):
            raise InputError("only book show writes files", column="--output",
                             message_zh="只有 book show 可以写出文件")
        check_output_paths(written, _book_files(self.book))
        if written and self.rows is not None:
            write_round(written, self.rounds[0], self.rows, lang)
        return written

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what the ``book`` command prints."""
        from fundopt.reports import book as shown

        console = console or _console()
        if self.action == "add":
            shown.render_added(console, self.rounds[0], self.book, lang)
        elif self.action == "void":
            shown.render_voided(console, self.rounds[0], lang)
        elif self.action == "list":
            shown.render_rounds(console, self.book, self.rounds, lang)
        elif self.rows is not None:
            shown.render_round(console, self.rounds[0], self.rows, lang)


# --- commands -------------------------------------------------------------------------

def solve(table: TableLike, policy: PolicyLike = None, *, sheet: str | None = None,
          relax: bool = False, alternatives: int = 0, within: float = 1.0,
          ranges: bool = False, robust: str | None = None, book: str | None = None,
          solver: str = "highs", time_limit: float | None = None, gap: float = 0.0,
          algorithm: str = "auto", strict: bool = False, outputs: Sequence[PathLike] = (),
          lang: str = "en") -> SolveRun:
    """Solve the allocation (``fundopt solve``).

    Parameters
    ----------
    table
        The sub-fund table: a ``.csv`` / ``.xlsx`` path, or a DataFrame with the table's
        columns (validated as a ``.csv`` file is).
    policy
        The policy: a ``.toml`` path, a dict shaped like the policy file, or None for
        ``<table stem>.toml`` beside the table (or the ``.xlsx`` table's policy sheets).
    sheet
        The ``.xlsx`` sheet holding the table.
    relax, alternatives, within, ranges
        The analyses of ``--relax``, ``--alternatives K --within P`` and ``--ranges``.
    robust
        ``"worst"`` or ``"cvar:ALPHA"``: plan for uncertain scores (``--robust``).
    book
        The fund's book (SQLite path or ``postgresql://`` URL), as ``--book``.
    solver, time_limit, gap, algorithm
        ``"highs"`` or ``"cbc"``; seconds; relative MIP gap; ``"auto"``, ``"simplex"``
        or ``"ipm"``.
    strict
        Any warning is an :class:`~fundopt.errors.InputError`.
    outputs, lang
        Files to write once solved (checked before solving), in ``"en"`` or ``"zh"``.

    Returns
    -------
    SolveRun
        An infeasible policy is a result (``status == "infeasible"`` with its
        ``diagnosis``), not an exception.

    Raises
    ------
    InputError
        Bad input: the message names the file, row, column or key (``error.render(lang)``).
    """
    from fundopt.optimizer.highs import Algorithm

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
    inputs = _inputs(table, policy, sheet)
    written = _checked(outputs, [*inputs.files, *_book_files(book)])
    notes = data_notes(inputs, strict)
    fund = _read_fund(book, inputs)
    read_at = time.perf_counter()
    options = SolveOptions(solver=SolverName(solver), time_limit=time_limit, gap=gap,
                           algorithm=Algorithm(algorithm))
    model = Model(inputs.table, inputs.policy, inputs.constraints, options, book=fund)
    if criterion is not None:
        from fundopt.optimizer.robust import solve_robust

        result = solve_robust(model, criterion)
    else:
        result = model.solve()
    if relax or alternatives or ranges:
        from fundopt.optimizer.findings import Requests, add_findings

        result = add_findings(model, result, Requests(relax, alternatives, within, ranges))
    if strict:
        refuse_warnings(notes, result.warnings)
    solved_at = time.perf_counter()
    run = SolveRun(inputs, result, notes)
    run.write(*written, lang=lang)
    written_at = time.perf_counter()
    run.phases.update({"read": read_at - started, **result.phases,
                       "write": written_at - solved_at, "total": written_at - started})
    return run


def check(table: TableLike, policy: PolicyLike = None, *, sheet: str | None = None,
          strict: bool = False, book: str | None = None) -> CheckRun:
    """Validate the table and its policy and build the model, without solving
    (``fundopt check``).

    Raises
    ------
    InputError
        Anything wrong in the inputs; with ``strict``, any warning too.
    """
    from fundopt.models.checks import similar_values

    inputs = _inputs(table, policy, sheet)
    model = Model(inputs.table, inputs.policy, inputs.constraints,
                  book=_read_fund(book, inputs))
    notes = similar_values(inputs.table, inputs.policy)
    if strict:
        refuse_warnings(notes, model.built.warnings)
    return CheckRun(inputs, model.built, notes)


def explain(table: TableLike, ids: Sequence[str], policy: PolicyLike = None, *,
            sheet: str | None = None, solver: str = "highs", draws: int = EXPLAIN_DRAWS,
            outputs: Sequence[PathLike] = (), lang: str = "en") -> ExplainRun:
    """Explain why sub-funds ``ids`` are in or out of the optimal plan (``fundopt explain``):
    the score at which each would enter or leave, the cost of forcing it in or out, what
    it displaces or what replaces it, the binding constraints that hold it; with
    ``[uncertainty]``, its funded share over ``draws`` score draws (0 = skip).

    Raises
    ------
    InputError
        Bad input, or an id that is not in the table.
    """
    from fundopt.optimizer.explain import explain as run_explain

    inputs = _inputs(table, policy, sheet)
    written = _checked(outputs, inputs.files)
    model = Model(inputs.table, inputs.policy, inputs.constraints,
                  SolveOptions(solver=SolverName(solver)))
    result = model.solve()
    result = replace(result, explanations=run_explain(model, list(ids), result))
    run = ExplainRun(inputs, result, ids=tuple(ids))
    run.write(*written, lang=lang)
    if result.is_ok and inputs.policy.uncertainty is not None and draws > 0:
        from fundopt.optimizer.stability import stability as run_stability

        run = replace(run, shares=run_stability(model, draws=draws, nominal=result))
    return run


def compare(table: TableLike, scenarios: PathLike, policy: PolicyLike = None, *,
            sheet: str | None = None, solver: str = "highs", workers: int | None = None,
            scheduler: str | None = None, strict: bool = False,
            outputs: Sequence[PathLike] = (), lang: str = "en",
            progress: ProgressFactory | None = None, notify: Notify | None = None
            ) -> CompareRun:
    """Solve the baseline and every scenario of a scenario file (``fundopt compare``).

    Parameters
    ----------
    table, scenarios, policy
        The table (path or DataFrame), the scenario ``.toml`` file, and the base policy
        (default: the scenario file's ``[base] policy``, else ``<stem>.toml``).
    workers, scheduler
        Worker processes (1 = serial), or a Dask scheduler address.
    progress, notify
        The command line's progress bar and lost-worker notice (optional).

    Returns
    -------
    CompareRun
        A scenario with an input error keeps it in ``errors``; infeasible scenarios carry
        their diagnosis.
    """
    from fundopt.models.scenarios import load_scenarios, prepare_all
    from fundopt.optimizer.batch import Job, solve_many
    from fundopt.reports.compare import CompareRun

    file = load_scenarios(Path(scenarios))
    data, base, files = _base_policy(table, policy, sheet, file)
    written = _checked(outputs, [*files, Path(scenarios)])
    prepared = prepare_all(file, data, base)
    notes = data_notes(prepared[0], strict)
    jobs = [Job(p.table, p.policy, p.constraints) for p in prepared
            if p.error is None and p.table is not None and p.policy is not None]
    with _engine(workers, scheduler, notify) as engine, _progress(progress, engine) as report:
        solved = iter(solve_many(jobs, SolveOptions(solver=SolverName(solver)),
                                 engine=engine, progress=report))
    results = tuple(next(solved) if p.error is None else None for p in prepared)
    run = CompareRun(tuple(prepared), results, Path(scenarios), file.sha256, notes,
                     engine.describe())
    run.write(*written, lang=lang)
    return run


def sweep(table: TableLike, param: str, start: float, stop: float, steps: int = 11,
          policy: PolicyLike = None, *, sheet: str | None = None, solver: str = "highs",
          workers: int | None = None, scheduler: str | None = None, strict: bool = False,
          outputs: Sequence[PathLike] = (), lang: str = "en",
          progress: ProgressFactory | None = None, notify: Notify | None = None
          ) -> SweepRun:
    """Solve for ``steps`` evenly spaced values of one policy number (``fundopt sweep``).

    Parameters
    ----------
    param
        A numeric policy key path: ``budget``, ``region.天津.min_share``,
        ``constraints.risk cap.max`` …
    start, stop, steps
        The first and last value (both included) and the number of points.

    Returns
    -------
    SweepRun
        One result per point, infeasible points included; ``points`` is the DataFrame.
    """
    from fundopt.models.scenarios import sweep_policies, sweep_values
    from fundopt.optimizer.batch import Job, solve_many
    from fundopt.reports.sweep import SweepRun

    values = sweep_values(start, stop, steps)
    data, base, files = _base_policy(table, policy, sheet)
    written = _checked(outputs, files)
    points = sweep_policies(data, base, param, values)
    notes = data_notes(Inputs(data, points[0][0], points[0][1], ()), strict)
    with _engine(workers, scheduler, notify) as engine, _progress(progress, engine) as report:
        results = solve_many([Job(data, p, c) for p, c in points],
                             SolveOptions(solver=SolverName(solver)),
                             engine=engine, progress=report)
    run = SweepRun(param, values, tuple(results), data, points[0][0], notes,
                   engine.describe())
    run.write(*written, lang=lang)
    return run


def stability(table: TableLike, policy: PolicyLike = None, *, sheet: str | None = None,
              draws: int | None = None, seed: int | None = None,
              workers: int | None = None, scheduler: str | None = None,
              time_limit: float | None = None, outputs: Sequence[PathLike] = (),
              lang: str = "en", progress: ProgressFactory | None = None,
              notify: Notify | None = None) -> StabilityRun:
    """How stable is each choice when the scores are uncertain (``fundopt stability``)?

    Solves the plan for each score draw of the policy's ``[uncertainty]`` table on the
    model built once (``draws`` and ``seed`` override the policy's).

    Raises
    ------
    InputError
        Bad input, or a policy without ``[uncertainty]``.
    """
    from fundopt.models.uncertainty import require_uncertainty
    from fundopt.optimizer.stability import stability as run_stability

    inputs = _inputs(table, policy, sheet)
    written = _checked(outputs, inputs.files)
    require_uncertainty(inputs.policy, "stability")
    model = Model(inputs.table, inputs.policy, inputs.constraints,
                  SolveOptions(time_limit=time_limit))
    with _engine(workers, scheduler, notify) as engine, _progress(progress, engine) as report:
        found = run_stability(model, draws=draws, seed=seed, engine=engine, progress=report)
    run = StabilityRun(inputs, found)
    if run.ok:
        run.write(*written, lang=lang)
    return run


def book_add(plan: PathLike, book: str, round_name: str, note: str = "") -> BookRun:
    """Book a solve result (a ``.json`` from ``solve -o``) as a round (``book add``)."""
    from fundopt.models.book import open_book
    from fundopt.models.booking import round_from_plan

    new = round_from_plan(Path(plan), round_name, note)
    with open_book(book, create=True) as opened:
        info = opened.add(new)
    return BookRun("add", book, (info,))


def book_list(book: str) -> BookRun:
    """The rounds of a book, void ones with their reason (``book list``)."""
    from fundopt.models.book import open_book

    with open_book(book) as opened:
        infos = opened.rounds()
    return BookRun("list", book, tuple(infos))


def book_show(round_name: str, book: str, outputs: Sequence[PathLike] = (),
              lang: str = "en") -> BookRun:
    """One round: its facts and every commitment (``book show``); ``rows`` holds them."""
    from fundopt.models.book import open_book

    written = _checked(outputs, _book_files(book))
    with open_book(book) as opened:
        info, rows = opened.round(round_name)
    run = BookRun("show", book, (info,), rows)
    run.write(*written, lang=lang)
    return run


def book_void(round_name: str, book: str, reason: str) -> BookRun:
    """Mark a round void with a reason; nothing is deleted (``book void``)."""
    from fundopt.models.book import open_book

    if not reason.strip():
        raise InputError("the reason is empty", column="--reason",
                         expected="why the round is void", message_zh="作废原因为空",
                         expected_zh="作废该轮次的原因")
    with open_book(book) as opened:
        info = opened.void(round_name, reason.strip())
    return BookRun("void", book, (info,))


# --- a model built once, re-solved ----------------------------------------------------

class Problem:
    """One set of inputs and the model built from them, re-solved under policy changes.

    Parameters
    ----------
    table, policy, sheet
        As :func:`solve`.
    solver, time_limit, gap
        As :func:`solve`.

    Examples
    --------
    >>> problem = fundopt.Problem("inputs/2024.csv")          # doctest: +SKIP
    >>> problem.solve().objective, problem.solve({"budget": 30}).objective  # doctest: +SKIP
    """

    def __init__(self, table: TableLike, policy: PolicyLike = None, *,
                 sheet: str | None = None, solver: str = "highs",
                 time_limit: float | None = None, gap: float = 0.0) -> None:
        self.inputs = _inputs(table, policy, sheet)
        self._changes: Mapping[str, float] = {}
        self._current = self.inputs
        self.model = Model(self.inputs.table, self.inputs.policy, self.inputs.constraints,
                           SolveOptions(solver=SolverName(solver), time_limit=time_limit,
                                        gap=gap))

    @property
    def builds(self) -> int:
        """Times this problem's model was built from a policy (1 + each rebuild)."""
        return self.model.model_builds

    def solve(self, policy_changes: Mapping[str, float] | None = None) -> SolveRun:
        """Solve under the policy with ``policy_changes`` applied (key paths as in
        ``sweep --param``: ``budget``, ``region.天津.min_share``, ``constraints[0].max``,
        ``constraints.risk cap.max``); None or ``{}`` solves the policy as given.

        The model is not built again: the held solver model is moved to the changed
        policy (only bounds, costs and coefficients that differ are pushed to HiGHS).
        The result equals a fresh :func:`solve` of the changed policy.

        Raises
        ------
        InputError
            A key path that is not a numeric policy key, or a value out of its range.
        """
        changes = dict(policy_changes or {})
        if changes != self._changes:
            policy, constraints = self._changed(changes)
            self.model.retarget(policy, constraints, cold=True)
            self._changes, self._current = changes, replace(
                self.inputs, policy=policy, constraints=constraints)
        return SolveRun(self._current, self.model.solve())

    def _changed(self, changes: Mapping[str, float]
                 ) -> tuple[Policy, tuple[Constraint, ...]]:
        from fundopt.messages import Message
        from fundopt.models.expansion import expand
        from fundopt.models.scenarios import build_policy, with_value

        if not changes:
            return self.inputs.policy, self.inputs.constraints
        base = self.inputs.base
        assert base is not None                # every loader keeps the tree
        tree = base.data
        for key, value in changes.items():
            tree = with_value(tree, key, value, base.source)
        context = Message("context.policy_change",
                          {"changes": ", ".join(f"{k} = {v:g}" for k, v in changes.items())})
        policy = build_policy(tree, base, base.source, context)
        return policy, expand(policy, self.inputs.table)


# --- shared steps ---------------------------------------------------------------------

def data_notes(inputs: Inputs | Any, strict: bool) -> tuple[DataWarning, ...]:
    """Similar values in the (base) table of a run; under ``strict`` an input error."""
    from fundopt.models.checks import similar_values

    if inputs.table is None or inputs.policy is None:
        return ()
    notes = similar_values(inputs.table, inputs.policy)
    if strict:
        refuse_warnings(notes, ())
    return notes


def refuse_warnings(notes: Sequence[DataWarning], warnings: Sequence[Warning_]) -> None:
    """``--strict``: any warning is an input error (exit 2)."""
    from fundopt.models.checks import strict_error
    from fundopt.reports.labels import warning_text

    if notes or warnings:
        raise strict_error([*(n.message("en") for n in notes),
                            *(warning_text(w, "en") for w in warnings)],
                           [*(n.message("zh") for n in notes),
                            *(warning_text(w, "zh") for w in warnings)])


def _inputs(table: TableLike, policy: PolicyLike, sheet: str | None) -> Inputs:
    import pandas as pd

    return inputs_from(table if isinstance(table, pd.DataFrame) else Path(table),
                       policy if policy is None or isinstance(policy, Mapping)
                       else Path(policy), sheet)


def _base_policy(table: TableLike, policy: PolicyLike, sheet: str | None, file: Any = None
                 ) -> tuple[Table, PolicyTree, list[Path]]:
    """The table (in the policy's unit), the base policy as a tree to vary, the files read
    (for ``compare`` and ``sweep``: scenarios and sweep points vary these inputs)."""
    import pandas as pd

    from fundopt.models.inputs import PolicyTree, load_base, policy_file
    from fundopt.models.table import read_table, table_from_frame
    from fundopt.models.units import in_policy_unit

    if isinstance(table, pd.DataFrame):
        data, files = table_from_frame(table), []
    else:
        data, files = read_table(Path(table), sheet), [Path(table)]
    if isinstance(policy, Mapping):
        base = PolicyTree(dict(policy), POLICY_DICT)
        base.policy()                          # checked as solve checks it
    else:
        path = policy_file(data, None if policy is None else Path(policy),
                           file.base_policy if file is not None else None)
        files += [path] if path else []
        base, _ = load_base(data, path)
    return in_policy_unit(data, base.unit), base, files


def _checked(outputs: Sequence[PathLike], inputs: Sequence[Path]) -> list[Path]:
    """The ``-o`` paths, checked before anything is solved or written."""
    paths = [Path(p) for p in outputs]
    if paths:
        from fundopt.reports.export import check_output_paths

        check_output_paths(paths, inputs)
    return paths


def _read_fund(book: str | None, inputs: Inputs) -> FundView | None:
    """The book as this round sees it, for ``--book`` (None without it)."""
    if book is None:
        return None
    from fundopt.models.fund import read_fund

    return read_fund(book, inputs.table, inputs.policy, inputs.constraints)


def _book_files(book: str | None) -> list[Path]:
    """A book given by path is an input: no output may land on it."""
    return [] if book is None or "://" in book else [Path(book)]


def _engine(workers: int | None, scheduler: str | None, notify: Notify | None) -> Engine:
    """The engine of a batch command: Dask for ``scheduler`` (or ``FUNDOPT_SCHEDULER``
    when ``workers`` is not given), else the local pool, serial for ``workers=1``."""
    from fundopt.optimizer.engines import open_engine

    if scheduler and workers is not None:
        raise InputError("--workers and --scheduler exclude each other: on a cluster, "
                         "the cluster's workers solve", column="--workers", value=workers,
                         message_zh="--workers 与 --scheduler 不能同时使用：使用集群时由集群的"
                         "工作进程求解")
    if scheduler is None and workers is None:
        scheduler = os.environ.get("FUNDOPT_SCHEDULER") or None
    return open_engine(workers, scheduler, notify)


@contextmanager
def _progress(factory: ProgressFactory | None, engine: Engine) -> Iterator[Progress | None]:
    with factory(engine) if factory is not None else nullcontext() as report:
        yield report


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)
