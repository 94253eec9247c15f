"""A model built once from the inputs, re-solved under policy changes (``fundopt.Problem``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from fundopt.app.runs import SolveRun
from fundopt.app.steps import inputs_of
from fundopt.optimizer.problem import Problem as Model
from fundopt.optimizer.problem import SolveOptions, SolverName

if TYPE_CHECKING:   # imported on use: start-up time

    from fundopt.app.steps import PolicyLike, TableLike
    from fundopt.models.domain import Constraint, Policy

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
        self.inputs = inputs_of(table, policy, sheet)
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
        from fundopt.models.rules.expansion import expand
        from fundopt.models.rules.keypaths import with_value
        from fundopt.models.rules.scenarios import build_policy

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


