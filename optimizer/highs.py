"""HiGHS, driven in-process: the model is passed in one call as CSR arrays, in the order it
was built (MIP search is sensitive to column order; PuLP's own HiGHS interface adds
columns one Python call at a time, sorted by name)."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache

import highspy
import numpy as np

from fundopt.errors import SolverError
from fundopt.models.domain import Sense
from fundopt.optimizer import interrupt
from fundopt.optimizer.matrix import LinearModel
from fundopt.optimizer.result import SolveStatus

# From this many columns a pure LP goes to the interior-point method without presolve.
# fundopt's LPs have a few dense rows over many columns, where HiGHS's presolve costs more
# than it saves. Measured at 100 000 rows (benchmarks/, docs/performance.md): dual simplex
# 11.6 s, IPM 6.8 s, IPM without presolve 1.9 s; at 10 000 rows 0.22 / 0.21 / 0.10 s.
# Large MIPs skip presolve too: at 10 000 rows 10.2 s instead of 15.1 s (1 000 rows: 0.40
# instead of 0.48 s). Small ones keep it: without it the 55 OR-Library problems (≤ 105
# rows) took 13.6 s instead of 7.5 s and the 2024 sample 0.22 s instead of 0.09 s.
IPM_THRESHOLD = 5_000


class Algorithm(StrEnum):
    AUTO = "auto"
    SIMPLEX = "simplex"
    IPM = "ipm"


@dataclass(frozen=True)
class Outcome:
    status: SolveStatus
    values: np.ndarray | None
    duals: np.ndarray | None     # dObjective/dRowBound, one per row (LPs only)
    gap: float | None


_banner_shown = False
# Each Highs object's own stop flag (the race stops its loser with it).
_own_stop: weakref.WeakKeyDictionary[highspy.Highs, threading.Event] = (
    weakref.WeakKeyDictionary())


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints a licence banner on stdout when the first Highs object is created,
    whatever its options; silence the file descriptor while it is."""
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def new_highs() -> highspy.Highs:
    """A silent ``Highs`` object that stops at its next interrupt check once asked to.

    Every HiGHS object of fundopt is made here, so the interrupt hook is in one place: the
    simplex, interior-point and MIP interrupt callbacks stop the run when this process was
    asked to stop (``interrupt.request_stop``, Ctrl-C, SIGTERM) or this object was
    (``stop``). The first object of the process is made with stdout silenced (the
    licence banner).
    """
    global _banner_shown
    if _banner_shown:
        highs = highspy.Highs()
    else:
        with _quiet_stdout():
            highs = highspy.Highs()
        _banner_shown = True
    highs.setOptionValue("output_flag", False)
    own = threading.Event()
    _own_stop[highs] = own

    def check(event: highspy.highs.HighsCallbackEvent) -> None:
        if own.is_set() or interrupt.stop_requested():
            event.interrupt()

    # an older highspy without these callback properties: runs stop at their time limit
    # (the command line's watchdog still ends the process)
    for name in ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt"):
        hook = getattr(highs, name, None)
        if hook is not None:
            hook.subscribe(check)
    return highs


def run(highs: highspy.Highs) -> None:
    """Run a prepared ``Highs`` object (from ``new_highs``) in this thread.

    Raises
    ------
    KeyboardInterrupt
        If this process was asked to stop before or during the run.
    """
    if interrupt.stop_requested():
        raise KeyboardInterrupt
    try:
        with interrupt.solver_running():
            highs.run()
    finally:
        _own_stop[highs].clear()
    if interrupt.stop_requested():
        raise KeyboardInterrupt


def stop(highs: highspy.Highs) -> None:
    """Ask one ``Highs`` object made by ``new_highs`` to stop its current run."""
    _own_stop[highs].set()


@cache
def version() -> str:
    return f"HiGHS {new_highs().version()}"


def solve_highs(model: LinearModel, time_limit: float | None, gap: float,
                algorithm: Algorithm = Algorithm.AUTO, *, plan: bool = False,
                race: bool = False) -> Outcome:
    """Solve ``model`` once with a fresh HiGHS object. Duals are returned for LPs only.
    ``plan``, ``race``: see ``solve_prepared``."""
    highs = new_highs()
    configure(highs, model, time_limit, gap, algorithm)
    highs.passModel(to_highs_lp(model))
    return solve_prepared(highs, model, gap, plan=plan, race=race)


def solve_prepared(highs: highspy.Highs, model: LinearModel, gap: float, *,
                   plan: bool = False, race: bool = False) -> Outcome:
    """Run ``highs``, which holds ``model`` with its options set (``configure``, relative
    MIP gap ``gap``), and read the outcome. Duals are returned for LPs only.

    ``plan``: the model is a plan (not a diagnosis' elastic model); if it is a large MILP
    solved to optimality (``race.eligible``), its solution is made canonical among tied
    optima. ``race``: such a model then runs presolve on and off at once, one thread each,
    on copies of ``highs`` when there are two cores (``highs`` itself is not run); the
    canonical pass makes the answer independent of which configuration won, and of
    whether there was a race.

    Raises
    ------
    KeyboardInterrupt
        If this process was asked to stop (``interrupt.request_stop``, Ctrl-C, SIGTERM).
    """
    from fundopt.optimizer import race as racing  # racing imports this module

    canonical = plan and racing.eligible(model, gap)
    if canonical and race and racing.cores() >= 2:
        highs = racing.race(highs)
    else:
        run(highs)
    outcome = read_outcome(highs, model)
    if canonical and outcome.status is SolveStatus.OPTIMAL and outcome.values is not None:
        outcome = replace(outcome, values=racing.canonical(model, outcome.values))
    return outcome


def configure(highs: highspy.Highs, model: LinearModel, time_limit: float | None, gap: float,
              algorithm: Algorithm = Algorithm.AUTO) -> None:
    """Set the options fundopt solves ``model`` with (see ``IPM_THRESHOLD``)."""
    limit = float("inf") if time_limit is None else float(time_limit)
    options: dict[str, bool | float | str] = {"output_flag": False, "mip_rel_gap": gap,
                                              "time_limit": limit}
    if algorithm is Algorithm.AUTO:
        # leave HiGHS's own choice (simplex / branch-and-cut) below the threshold
        if model.n >= IPM_THRESHOLD:
            options["presolve"] = "off"
            if not model.is_mip:
                options["solver"] = "ipm"
    else:
        options["solver"] = "simplex" if algorithm is Algorithm.SIMPLEX else "ipm"
    for key, value in options.items():
        highs.setOptionValue(key, value)


def to_highs_lp(model: LinearModel) -> highspy.HighsLp:
    hs = highspy
    lp = hs.HighsLp()
    lp.num_col_ = len(model.cost)
    lp.num_row_ = model.num_rows
    lp.sense_ = (hs.ObjSense.kMaximize if model.sense is Sense.MAXIMIZE
                 else hs.ObjSense.kMinimize)
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.col_lower
    lp.col_upper_ = model.col_upper
    lp.row_lower_ = model.row_lower
    lp.row_upper_ = model.row_upper
    lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = model.start
    lp.a_matrix_.index_ = model.index
    lp.a_matrix_.value_ = model.value
    if model.is_mip:
        kinds = {True: hs.HighsVarType.kInteger, False: hs.HighsVarType.kContinuous}
        lp.integrality_ = [kinds[flag] for flag in model.integer.tolist()]
    return lp


def read_outcome(highs: highspy.Highs, model: LinearModel) -> Outcome:
    ms = highspy.HighsModelStatus
    status = highs.getModelStatus()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == ms.kOptimal:
        mapped = SolveStatus.OPTIMAL
    elif status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        # every column of a fundopt model is bounded, so "unbounded or infeasible" is infeasible
        mapped = SolveStatus.INFEASIBLE
    elif status == ms.kUnbounded:
        mapped = SolveStatus.UNBOUNDED
    elif status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt):
        mapped = SolveStatus.FEASIBLE if has_solution else SolveStatus.NO_SOLUTION
    else:
        # a model or solver error is never a time limit (issue: 1e15 tickets read as one)
        raise SolverError("solver.highs_failed",
                          {"status": highs.modelStatusToString(status)})
    if mapped not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return Outcome(mapped, None, None, None)
    solution = highs.getSolution()
    values = np.asarray(solution.col_value, dtype=float)
    duals = None if model.is_mip else np.asarray(solution.row_dual, dtype=float)
    gap = float(info.mip_gap) if model.is_mip else None
    return Outcome(mapped, values, duals, gap)
