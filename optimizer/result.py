"""The outcome of a solve, as a value (no printing here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"        # a solution, but the time limit stopped the proof
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # time limit before any solution was found


@dataclass(frozen=True)
class ConstraintValue:
    """One line of the constraint report.

    ``shadow_price`` is the objective gained per unit the *binding* bound is loosened
    (the max raised or the min lowered), in the units of the bound (share: per 1.0 of
    share; avg: per unit of the average). 0 when not binding. For a MILP it comes from
    the LP with the binary choices fixed at the optimum.
    """

    id: str
    label: str
    measure: str
    value: float
    min: float | None
    max: float | None
    slack: float                 # distance to the nearest bound (≥ 0 when satisfied)
    binding: bool
    shadow_price: float
    bound: str | None = None     # "min" or "max" when binding


@dataclass(frozen=True)
class Relaxation:
    """A suggested change of one policy bound (SPEC §6)."""

    constraint: str              # constraint label, or a policy key such as "budget"
    bound: str                   # "min" or "max" (or the policy key's own name)
    from_value: float
    to_value: float
    key: str                     # the policy line as written, e.g. "region.河北.min_share"


@dataclass(frozen=True)
class Diagnosis:
    relaxation: tuple[Relaxation, ...]
    conflict: tuple[str, ...]
    messages: tuple[str, ...] = ()   # plain reasons, e.g. a must row that cannot be funded


@dataclass(frozen=True)
class Warning_:
    """A problem worth telling the planner that did not stop the solve."""

    code: str                    # "unfundable" …
    row_id: str
    detail: dict[str, float | str]


@dataclass(frozen=True)
class Result:
    status: SolveStatus
    objective: float | None
    amounts: np.ndarray          # commitment per input row, input order (zeros if none)
    funded: np.ndarray           # bool per input row
    committed: float
    constraints: tuple[ConstraintValue, ...]
    warnings: tuple[Warning_, ...]
    solver: str
    seconds: float
    gap: float | None = None
    diagnosis: Diagnosis | None = None
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def is_ok(self) -> bool:
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
