"""Race two HiGHS configurations on a large MILP and return one canonical optimum.

Over a family of 28 fundopt MILPs (``benchmarks/milp_family.py``) neither HiGHS's defaults
nor presolve off is safe: presolve off is faster on the geometric mean but up to 3× slower
on some instances. On two or more cores both run at once, each on one thread (highspy
releases the GIL during ``run``), and the first to prove its answer wins; the other is
told to stop through the interrupt callback of ``highs.new_highs``.

Which configuration wins depends on timing, and the two may return different optima of
equal objective. ``canonical`` makes the returned plan independent of that: interchangeable
sub-funds (identical in every row of the model) are given the values in input order, and
with the binaries fixed an LP picks, among the plans of optimal objective, the one that
puts the most weight on earlier rows (a fixed secondary order).
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import replace

import highspy
import numpy as np

from fundopt.models.domain import Sense
from fundopt.optimizer import highs as hs
from fundopt.optimizer import interrupt
from fundopt.optimizer.matrix import LinearModel, RowKind, coo

# Below this many sub-funds a MILP is solved once: two model copies, two threads and the
# canonical pass cost more than the faster configuration saves (measured: benchmarks/
# milp_family.py; small MILPs solve in well under a second either way).
RACE_ROWS = 2_000
# Presolve on first: where both time out, the tie goes to HiGHS's defaults.
CONFIGS = ("on", "off")
PROVEN = frozenset({
    highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible, highspy.HighsModelStatus.kUnbounded,
})


def cores() -> int:
    """Cores a race may use: those this process may run on, or 1 in a worker process of a
    pool (``multiprocessing``, as batch solves and Dask workers are), where the other
    workers have the other cores."""
    import multiprocessing  # here: 3 ms of start-up that most solves do not need

    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def eligible(model: LinearModel, gap: float) -> bool:
    """Whether ``model`` is solved the race's way: a MILP of ``RACE_ROWS`` sub-funds or
    more, to proven optimality (with a gap the two configurations stop at different plans,
    and no canonical pass could reconcile them)."""
    return model.is_mip and model.n >= RACE_ROWS and gap == 0.0


def race(prepared: highspy.Highs) -> highspy.Highs:
    """Solve the model of ``prepared`` with presolve on and off at once; return the
    ``Highs`` object that proved its answer first (a copy: ``prepared`` is not run).

    Each racer copies the model and options of ``prepared`` and runs on one thread. When
    neither proves its answer (time limit), the one with the better solution is returned.

    Raises
    ------
    KeyboardInterrupt
        If this process was asked to stop (``highs.request_stop``, Ctrl-C, SIGTERM);
        both racers have stopped when it is raised.
    """
    model, options = prepared.getModel(), prepared.getOptions()
    finished: queue.Queue[int] = queue.Queue()
    racers, threads = [], []
    for k, presolve in enumerate(CONFIGS):
        racer = hs.new_highs()
        racer.passOptions(options)
        racer.setOptionValue("output_flag", False)
        racer.setOptionValue("presolve", presolve)
        racer.setOptionValue("threads", 1)
        racers.append(racer)
        threads.append(threading.Thread(target=_run, args=(racer, model, k, finished),
                                        name=f"fundopt-race-{presolve}"))
    try:
        for thread in threads:
            thread.start()
        winner = _winner(racers, finished)
    except BaseException:
        for racer in racers:
            hs.stop(racer)
        for thread in threads:
            thread.join()
        raise
    for k, racer in enumerate(racers):
        if k != winner and threads[k].is_alive():
            hs.stop(racer)   # its thread (not a daemon) is joined before the interpreter exits
    if interrupt.stop_requested():
        for thread in threads:
            thread.join()
        raise KeyboardInterrupt
    return racers[winner]


def _run(racer: highspy.Highs, model: highspy.HighsModel, k: int,
         finished: queue.Queue[int]) -> None:
    try:
        # passed here, not by the caller: a model passed in the thread that solves it
        # solves about 10 % faster (measured on benchmarks/milp_family.py instances)
        racer.passModel(model)
        with interrupt.solver_running():
            racer.run()
    finally:
        # each thread has its own HiGHS scheduler; free it with the thread
        reset = getattr(highspy.Highs, "resetThreadScheduler", None)
        if reset is not None:
            reset(False)
        finished.put(k)


def _winner(racers: list[highspy.Highs], finished: queue.Queue[int]) -> int:
    """Index of the racer to keep: the first that proves its answer, else the better."""
    done: list[int] = []
    while len(done) < len(racers):
        k = finished.get()
        done.append(k)
        if racers[k].getModelStatus() in PROVEN or interrupt.stop_requested():
            return k
    return min(done, key=lambda k: (-_quality(racers[k]), k))


def _quality(racer: highspy.Highs) -> float:
    """Larger is better: the objective in the maximising sense, −inf without a solution."""
    info = racer.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return -np.inf
    sense = racer.getObjectiveSense()[1]
    value = float(info.objective_function_value)
    return value if sense == highspy.ObjSense.kMaximize else -value


# --- One canonical optimum ------------------------------------------------------------


def canonical(model: LinearModel, values: np.ndarray) -> np.ndarray:
    """The canonical one among the optima tied with ``values`` (an optimal solution).

    First, sub-funds that the model cannot tell apart (equal cost, bounds and coefficients
    in every row) take their group's values in input order, largest amount first. Then,
    with every integer column fixed, an LP keeps the objective at its optimum and
    maximises Σ wᵢ·xᵢ with wᵢ = √((n − i)/n), which prefers earlier rows. If that LP fails
    (numerical trouble), the values of the first step are returned.
    """
    values = sort_interchangeable(model, values)
    polished = _polish(model, values)
    return values if polished is None else polished


def _link_rows(model: LinearModel) -> np.ndarray:
    """Rows l·y ≤ x or x ≤ u·y: tagged LINK, two entries, a commitment then a column after
    the commitments (other LINK rows, such as the cuts of the alternatives, are not)."""
    is_link = np.zeros(model.num_rows, bool)
    tagged = min(len(model.tags), model.num_rows)
    is_link[:tagged] = [t.kind is RowKind.LINK for t in model.tags[:tagged]]
    rows = np.flatnonzero(is_link)
    first = model.start[rows]
    shaped = ((model.start[rows + 1] - first == 2) & (model.index[first] < model.n)
              & (model.index[np.minimum(first + 1, len(model.index) - 1)] >= model.n)
              & (model.value[first] > 0))
    is_link[rows[~shaped]] = False
    return is_link


def sort_interchangeable(model: LinearModel, values: np.ndarray) -> np.ndarray:
    """``values`` with interchangeable sub-funds' (x, y) pairs sorted into input order.

    Two sub-funds are interchangeable when swapping their commitment and binary columns
    maps the model onto itself; any permutation of their values is then as feasible and
    as good. Candidates are found by random projections of each column (a fixed seed);
    the permuted solution is checked against every row and kept only if it holds.
    """
    n, cols = model.n, len(model.cost)
    row_of, is_link = coo(model)[0], _link_rows(model)
    linked = is_link[row_of]
    r1, r2 = np.random.default_rng(20240).random((2, model.num_rows))
    index, value = model.index, model.value

    def column_sums(entries: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(index[mask], entries[mask], minlength=cols)

    per_col = np.column_stack([
        model.cost, model.col_lower, model.col_upper, model.integer.astype(float),
        column_sums(r1[row_of] * value, ~linked), column_sums(r2[row_of] * value, ~linked),
        column_sums(value, linked), column_sums(value**2, linked),  # Σ a, Σ a² over links
    ])
    y_of = np.full(n, -1)
    y_of[model.binary_rows] = n + np.arange(len(model.binary_rows))
    has_y = y_of >= 0
    y_sig = np.zeros((n, per_col.shape[1]))
    y_sig[has_y] = per_col[y_of[has_y]]
    keys = np.column_stack([per_col[:n], has_y.astype(float), y_sig])
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    if len(np.unique(group)) == n:
        return values
    x = values[:n]
    y = np.where(has_y, values[np.maximum(y_of, 0)], 0.0)
    by_value = np.lexsort((-y, -x, group))
    by_index = np.lexsort((np.arange(n), group))
    out = values.copy()
    out[by_index] = x[by_value]
    out[y_of[by_index[has_y[by_index]]]] = y[by_value][has_y[by_index]]
    return out if _holds(model, out, values) else values


def _holds(model: LinearModel, new: np.ndarray, old: np.ndarray) -> bool:
    """Whether ``new`` breaks no row by more than ``old`` does and has its objective."""
    row_of = coo(model)[0]

    def worst(values: np.ndarray) -> float:
        act = np.bincount(row_of, model.value * values[model.index], minlength=model.num_rows)
        with np.errstate(invalid="ignore"):
            over = np.fmax(model.row_lower - act, act - model.row_upper)
        return float(np.max(over, initial=0.0))

    objective = float(model.cost @ old)
    same = abs(float(model.cost @ new) - objective) <= 1e-9 * max(1.0, abs(objective))
    return same and worst(new) <= worst(old) + 1e-9


def _polish(model: LinearModel, values: np.ndarray) -> np.ndarray | None:
    """Column values of the secondary LP with the integer columns fixed, or None."""
    fixed = _fixed_lp(model, values)
    if fixed is None:
        return None
    highs = hs.new_highs()
    highs.setOptionValue("presolve", "off")   # a few rows: presolve costs more than it saves
    highs.passModel(hs.to_highs_lp(fixed))
    hs.run(highs)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    best = float(highs.getInfo().objective_function_value)
    tol = 1e-11 * max(1.0, abs(best)) + 1e-9
    cols = np.flatnonzero(fixed.cost).astype(np.int32)
    if fixed.sense is Sense.MAXIMIZE:
        highs.addRow(best - tol, highspy.kHighsInf, len(cols), cols, fixed.cost[cols])
    else:
        highs.addRow(-highspy.kHighsInf, best + tol, len(cols), cols, fixed.cost[cols])
    n, total = fixed.n, len(fixed.cost)
    secondary = np.zeros(total)
    secondary[:n] = np.sqrt((n - np.arange(n)) / n)
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.changeColsCost(total, np.arange(total, dtype=np.int32), secondary)
    hs.run(highs)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(highs.getSolution().col_value, dtype=float)


def _fixed_lp(model: LinearModel, values: np.ndarray) -> LinearModel | None:
    """The LP with every integer column fixed at its value in ``values``; the linking rows
    (x − b·y within bounds, two entries each) become bounds on x and are dropped, since
    HiGHS solves the LP much faster without them. None if the fixed bounds cross."""
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    ints = model.integer
    lower[ints] = upper[ints] = np.round(values[ints])
    is_link = _link_rows(model)
    links = np.flatnonzero(is_link)
    first = model.start[links]
    x_col, y_col = model.index[first], model.index[first + 1]
    a, b = model.value[first], model.value[first + 1]
    y = lower[y_col]
    with np.errstate(invalid="ignore"):
        np.maximum.at(lower, x_col, (model.row_lower[links] - b * y) / a)
        np.minimum.at(upper, x_col, (model.row_upper[links] - b * y) / a)
    if np.any(lower > upper + 1e-9):
        return None
    upper = np.maximum(upper, lower)
    keep = ~is_link
    row_of = coo(model)[0]
    kept_nz = keep[row_of]
    lengths = np.diff(model.start)[keep]
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(model.start.dtype)
    tags = tuple(t for t, k in zip(model.tags, keep[: len(model.tags)], strict=False) if k)
    return replace(model, col_lower=lower, col_upper=upper,
                   integer=np.zeros_like(model.integer), start=start,
                   index=model.index[kept_nz], value=model.value[kept_nz],
                   row_lower=model.row_lower[keep], row_upper=model.row_upper[keep],
                   tags=tags)
