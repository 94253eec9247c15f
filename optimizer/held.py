"""A model held in one live HiGHS object, re-solved after changing only what differs.

Every analysis of a plan (diagnosis, alternatives, ranges, explain, sweep points) solves
variants of one model: other bounds, other costs, a few rows appended. ``HeldModel``
keeps the HiGHS object of the model it last solved and, for the next variant, pushes only
the differences (bounds, costs, changed coefficients, rows added or removed at the end),
so HiGHS keeps its factorisation and starts an LP from the last basis. A variant whose
columns or sparsity pattern differ is passed in full.
"""

from __future__ import annotations

from typing import ClassVar

import highspy
import numpy as np

from fundopt.models.domain import Sense
from fundopt.optimizer.highs import (
    Algorithm,
    Outcome,
    configure,
    new_highs,
    solve_prepared,
    to_highs_lp,
)
from fundopt.optimizer.matrix import LinearModel

# Above this share of changed coefficients the model is passed again instead.
MAX_CHANGED_COEFFS = 0.1


class HeldModel:
    """One HiGHS object and the model it holds.

    Parameters
    ----------
    time_limit, gap, algorithm
        Solve options (see ``optimizer.highs.configure``).
    """

    # Models passed to HiGHS in full, in this process (tests count them).
    passes: ClassVar[int] = 0

    def __init__(self, time_limit: float | None = None, gap: float = 0.0,
                 algorithm: Algorithm = Algorithm.AUTO) -> None:
        self.time_limit, self.gap, self.algorithm = time_limit, gap, algorithm
        self._highs: highspy.Highs | None = None
        self._held: LinearModel | None = None
        self._cold_next = False

    def start_cold(self) -> None:
        """Let the next solve start from scratch even if it is warm."""
        self._cold_next = True

    def solve(self, model: LinearModel, gap: float | None = None, warm: bool = False, *,
              plan: bool = False, race: bool = False,
              start: np.ndarray | None = None) -> Outcome:
        """Solve ``model`` (a variant of the one held, or a new one).

        ``gap`` overrides the relative MIP gap for this solve (1.0: any feasible point
        will do). ``warm`` starts an LP from the last basis; a cold start (the default)
        drops it, so the solve returns what a fresh HiGHS object would: at a degenerate
        optimum another basis can give another of the tied plans or duals. ``plan`` and
        ``race``: see ``highs.solve_prepared`` (a large MILP plan: canonical, raced).
        ``start``: column values of a known feasible point of a MILP, given to HiGHS as
        its first incumbent (it prunes with it from the root; the optimum is unchanged).
        """
        highs = self._hold(model)
        gap = self.gap if gap is None else gap
        highs.setOptionValue("mip_rel_gap", gap)
        if not warm or self._cold_next:
            highs.clearSolver()
            self._cold_next = False
        if start is not None and model.is_mip:
            highs.setSolution(len(start), np.arange(len(start), dtype=np.int32),
                              np.asarray(start, dtype=float))
        outcome = solve_prepared(highs, model, gap, plan=plan, race=race)
        if warm and not model.is_mip and self.algorithm is Algorithm.AUTO:
            # the next variant starts from this basis: simplex uses it, IPM would not
            highs.setOptionValue("solver", "simplex")
        return outcome

    def _hold(self, model: LinearModel) -> highspy.Highs:
        held, highs = self._held, self._highs
        if held is None or highs is None or not _same_columns(held, model) \
                or not self._update(highs, held, model):
            highs = new_highs()
            configure(highs, model, self.time_limit, self.gap, self.algorithm)
            highs.passModel(to_highs_lp(model))
            HeldModel.passes += 1
        self._highs, self._held = highs, model
        return highs

    @staticmethod
    def _update(highs: highspy.Highs, held: LinearModel, model: LinearModel) -> bool:
        """Push ``model``'s differences from ``held``; False if it must be passed anew."""
        common = min(held.num_rows, model.num_rows)
        end = int(model.start[common])
        if int(held.start[common]) != end or not (
                np.array_equal(held.start[: common + 1], model.start[: common + 1])
                and np.array_equal(held.index[:end], model.index[:end])):
            return False
        changed = np.flatnonzero(held.value[:end] != model.value[:end])
        if len(changed) > MAX_CHANGED_COEFFS * max(end, 1):
            return False
        if held.sense is not model.sense:
            highs.changeObjectiveSense(highspy.ObjSense.kMaximize
                                       if model.sense is Sense.MAXIMIZE
                                       else highspy.ObjSense.kMinimize)
        if held.num_rows > common:
            highs.deleteRows(held.num_rows - common,
                             np.arange(common, held.num_rows, dtype=np.int32))
        row_of = np.repeat(np.arange(common), np.diff(model.start[: common + 1]))
        for k in changed:
            highs.changeCoeff(int(row_of[k]), int(model.index[k]), float(model.value[k]))
        _push(highs.changeColsBounds, held.col_lower, held.col_upper,
              model.col_lower, model.col_upper)
        # changeRowsBounds exists at run time but is missing from highspy's stubs
        change_rows = getattr(highs, "changeRowsBounds")  # noqa: B009
        _push(change_rows, held.row_lower[:common], held.row_upper[:common],
              model.row_lower[:common], model.row_upper[:common])
        cost = np.flatnonzero(held.cost != model.cost).astype(np.int32)
        if len(cost):
            highs.changeColsCost(len(cost), cost, model.cost[cost])
        if model.num_rows > common:
            first = int(model.start[common])
            highs.addRows(model.num_rows - common, model.row_lower[common:],
                          model.row_upper[common:], int(model.start[-1]) - first,
                          (model.start[common:-1] - first).astype(np.int32),
                          model.index[first:], model.value[first:])
        return True


def _same_columns(held: LinearModel, model: LinearModel) -> bool:
    return held.num_cols == model.num_cols and np.array_equal(held.integer, model.integer)


def _push(change: object, old_lower: np.ndarray, old_upper: np.ndarray,
          lower: np.ndarray, upper: np.ndarray) -> None:
    """Call ``change(count, indices, lower, upper)`` for the entries that differ."""
    differs = np.flatnonzero((old_lower != lower) | (old_upper != upper)).astype(np.int32)
    if len(differs):
        change(len(differs), differs, lower[differs], upper[differs])  # type: ignore[operator]
