"""Everything ``fundopt solve`` can add to explain a plan, in one call: solve under the
suggested relaxation (``--relax``), near-optimal alternatives (``--alternatives K
--within P``) and shadow price ranges (``--ranges``)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from fundopt.models.inputs import Inputs
from fundopt.optimizer.alternatives import alternatives
from fundopt.optimizer.ranges import price_ranges
from fundopt.optimizer.relax import solve_relaxed
from fundopt.optimizer.result import Result
from fundopt.optimizer.solve import SolveOptions


@dataclass(frozen=True)
class Requests:
    """What to add: relax an infeasible policy, K alternatives within P %, price ranges."""

    relax: bool = False
    alternatives: int = 0
    within: float = 1.0
    ranges: bool = False


def add_findings(inputs: Inputs, result: Result, options: SolveOptions, requests: Requests
                 ) -> tuple[Inputs, Result]:
    """``result`` with the requested findings.

    Parameters
    ----------
    inputs
        What was solved.
    result
        Its outcome.
    options
        Solver options for every further solve.
    requests
        What to add.

    Returns
    -------
    tuple[Inputs, Result]
        The inputs actually solved (the relaxed policy under ``relax``) and the result.
    """
    if requests.relax:
        policy, constraints, result = solve_relaxed(inputs.table, inputs.policy,
                                                    inputs.constraints, result, options)
        inputs = replace(inputs, policy=policy, constraints=constraints)
    if not result.is_ok:
        return inputs, result
    if requests.alternatives:
        found = alternatives(inputs.table, inputs.policy, inputs.constraints, result,
                             requests.alternatives, requests.within, options)
        result = replace(result, alternatives=found)
    if requests.ranges:
        result = price_ranges(inputs.table, inputs.policy, inputs.constraints, result)
    return inputs, result
