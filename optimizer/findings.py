"""Everything ``fundopt solve`` can add to explain a plan, in one call: solve under the
suggested relaxation (``--relax``), near-optimal alternatives (``--alternatives K
--within P``) and shadow price ranges (``--ranges``), all on the one ``Problem``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from fundopt.optimizer.alternatives import alternatives
from fundopt.optimizer.problem import Problem
from fundopt.optimizer.ranges import price_ranges
from fundopt.optimizer.relax import solve_relaxed
from fundopt.optimizer.result import Result


@dataclass(frozen=True)
class Requests:
    """What to add: relax an infeasible policy, K alternatives within P %, price ranges."""

    relax: bool = False
    alternatives: int = 0
    within: float = 1.0
    ranges: bool = False


def add_findings(problem: Problem, result: Result, requests: Requests) -> Result:
    """``result`` of ``problem`` with the requested findings.

    Under ``relax`` the problem moves to the relaxed constraints, and the result's
    constraint report shows the relaxed limits.
    """
    if requests.relax:
        result = solve_relaxed(problem, result)
    if not result.is_ok:
        return result
    if requests.alternatives:
        found = alternatives(problem, result, requests.alternatives, requests.within)
        result = replace(result, alternatives=found)
    if requests.ranges:
        result = price_ranges(problem, result)
    return result
