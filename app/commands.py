"""One function per command: read, solve, analyse, write — and return a run value."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from fundopt.app.runs import (
    CheckRun,
    ExplainRun,
    SolveRun,
    StabilityRun,
)
from fundopt.app.steps import (
    base_policy,
    batch_engine,
    book_files,
    checked_outputs,
    data_notes,
    fund_view,
    inputs_of,
    progress_of,
    refuse_warnings,
)
from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.reading.inputs import Inputs
from fundopt.optimizer.problem import Problem as Model
from fundopt.optimizer.problem import SolveOptions, SolverName

if TYPE_CHECKING:   # imported on use: start-up time
    from fundopt.app.runs import CompareRun, SweepRun
    from fundopt.app.steps import Notify, PathLike, PolicyLike, ProgressFactory, TableLike

# Score draws behind the funded shares ``explain`` quotes; ``stability`` takes the policy's.
EXPLAIN_DRAWS = 100


def solve(table: TableLike, policy: PolicyLike = None, *, sheet: str | None = None,
          relax: bool = False, alternatives: int = 0, within: float | str = "1%",
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
        The analyses of ``--relax``, ``--alternatives K --within P`` and ``--ranges``;
        ``within`` is a fraction of the optimum as the policy writes one (``0.01`` or
        ``"1%"``).
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
            raise InputError(code="cli.robust_with_analyses", column="--robust",
                             value=robust, hint=Message("cli.robust_with_analyses.hint"))
    from fundopt.models.reading.units import fraction_option

    near = fraction_option(str(within), "--within")
    inputs = inputs_of(table, policy, sheet)
    written = checked_outputs(outputs, [*inputs.files, *book_files(book)], memo=True)
    notes = data_notes(inputs, strict)
    fund = fund_view(book, inputs)
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

        result = add_findings(model, result, Requests(relax, alternatives,
                                                            near * 100.0, ranges))
    if strict:
        refuse_warnings(notes, result.warnings)
    solved_at = time.perf_counter()
    run = SolveRun(inputs, result, notes, within=str(within) if alternatives else None)
    run.write(*written, lang=lang)
    written_at = time.perf_counter()
    run.phases.update({"read": read_at - started, **result.phases,
                       "write": written_at - solved_at, "total": written_at - started})
    return run


def check(table: TableLike, policy: PolicyLike = None, *, sheet: str | None = None,
          strict: bool = False, book: str | None = None) -> CheckRun:
    """Validate the table and its policy and build the model, without solving
    (``fundopt check``).

    Parameters
    ----------
    table, policy, sheet, book
        As :func:`solve`.
    strict
        Any warning (similar spellings, rows that cannot be funded) is an error.

    Returns
    -------
    CheckRun
        The inputs, the model built from them (``built.model``: its size; ``built.warnings``)
        and the data warnings (``notes``).

    Raises
    ------
    InputError
        Anything wrong in the inputs; with ``strict``, any warning too.
    """
    from fundopt.models.checks import similar_values

    inputs = inputs_of(table, policy, sheet)
    model = Model(inputs.table, inputs.policy, inputs.constraints,
                  book=fund_view(book, inputs))
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

    inputs = inputs_of(table, policy, sheet)
    written = checked_outputs(outputs, inputs.files, memo=True)
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
    from fundopt.app.runs import CompareRun
    from fundopt.models.rules.scenarios import load_scenarios, prepare_all
    from fundopt.optimizer.batch import Job, solve_many

    file = load_scenarios(Path(scenarios))
    data, base, files = base_policy(table, policy, sheet, file)
    written = checked_outputs(outputs, [*files, Path(scenarios)])
    prepared = prepare_all(file, data, base)
    notes = data_notes(prepared[0], strict)
    jobs = [Job(p.table, p.policy, p.constraints) for p in prepared
            if p.error is None and p.table is not None and p.policy is not None]
    with batch_engine(workers, scheduler, notify) as engine, \
            progress_of(progress, engine) as report:
        solved = iter(solve_many(jobs, SolveOptions(solver=SolverName(solver)),
                                 engine=engine, progress=report))
    results = tuple(next(solved) if p.error is None else None for p in prepared)
    run = CompareRun(tuple(prepared), results, Path(scenarios), file.sha256, notes,
                     engine.describe())
    run.write(*written, lang=lang)
    return run


def sweep(table: TableLike, param: str, start: float, stop: float, steps: int = 11,
          policy: PolicyLike = None, *, step: float | None = None,
          sheet: str | None = None, solver: str = "highs",
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
    start, stop, steps, step
        The first and last value (both included) and the number of points, or instead
        a point every ``step`` from ``start`` (``--step 0.5``). A point whose value
        crosses the other bound of its line is an infeasible point, not an error.

    Returns
    -------
    SweepRun
        One result per point, infeasible points included; ``points`` is the DataFrame.
    """
    from fundopt.app.runs import SweepRun
    from fundopt.models.rules.sweep import sweep_points, sweep_values
    from fundopt.optimizer.batch import solve_points

    values = sweep_values(start, stop, steps, step)
    data, base, files = base_policy(table, policy, sheet)
    written = checked_outputs(outputs, files)
    points = sweep_points(data, base, param, values)
    first = next(p for p in points if isinstance(p, tuple))
    notes = data_notes(Inputs(data, first[0], first[1], ()), strict)
    with batch_engine(workers, scheduler, notify) as engine, \
            progress_of(progress, engine) as report:
        results = solve_points(data, points, SolveOptions(solver=SolverName(solver)),
                               engine=engine, progress=report)
    run = SweepRun(param, values, tuple(results), data, first[0], notes, engine.describe())
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
    model built once.

    Parameters
    ----------
    table, policy, sheet
        As :func:`solve`.
    draws, seed
        Override the policy's ``draws`` and ``seed``.
    workers, scheduler, progress, notify
        As :func:`compare`; the numbers are the same on every engine.
    time_limit
        Seconds for each draw's solve.
    outputs, lang
        Files to write (checked before solving), in ``"en"`` or ``"zh"``.

    Returns
    -------
    StabilityRun
        ``rows``: per sub-fund its funded share, mean amount and group (core, contested,
        out); ``stability``: the percentiles of the drawn objective. Without a nominal plan
        (an infeasible policy) ``ok`` is False and nothing is written.

    Raises
    ------
    InputError
        Bad input, or a policy without ``[uncertainty]``.
    """
    from fundopt.models.rules.uncertainty import require_uncertainty
    from fundopt.optimizer.stability import stability as run_stability

    inputs = inputs_of(table, policy, sheet)
    written = checked_outputs(outputs, inputs.files)
    require_uncertainty(inputs.policy, "stability")
    model = Model(inputs.table, inputs.policy, inputs.constraints,
                  SolveOptions(time_limit=time_limit))
    with batch_engine(workers, scheduler, notify) as engine, \
            progress_of(progress, engine) as report:
        found = run_stability(model, draws=draws, seed=seed, engine=engine, progress=report)
    run = StabilityRun(inputs, found)
    if run.ok:
        run.write(*written, lang=lang)
    return run
