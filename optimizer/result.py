"""The outcome of a solve, as a value (no printing here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from fundopt.messages import Message
from fundopt.models.domain import Caption


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
    # Over which range of the binding bound (in the units it is written in) the shadow
    # price holds; None when not computed (``solve --ranges``), ±inf when open-ended.
    price_range_low: float | None = None
    price_range_high: float | None = None
    # The policy keys of the min and max and the bounds as written there
    # (``min_deploy = 0.9`` for the budget line's min of 36).
    keys: tuple[str, str] = ("min", "max")
    written: tuple[float | None, float | None] = (None, None)
    # SPEC §11: a target (力争) may be missed at ``penalty`` per unit of shortfall
    penalty: float | None = None
    # SPEC §9: "fund" lines are measured over the book and this round together; their
    # value over this round's commitments alone is ``round_value``.
    scope: str = "round"
    round_value: float | None = None
    caption: Caption | None = None   # what the line is, for people (None: shown by label)


@dataclass(frozen=True)
class Relaxation:
    """A suggested change of one policy bound (SPEC §6)."""

    constraint: str              # constraint label, or a policy key such as "budget"
    bound: str                   # "min" or "max" (or the policy key's own name)
    from_value: float
    to_value: float
    key: str                     # the policy line as written, e.g. "region.河北.min_share"
    id: str = ""                 # the constraint's id (``c7``, ``budget``, ``funded``)
    caption: Caption | None = None   # the constraint's caption (None: a [[limits]] entry)


@dataclass(frozen=True)
class ConflictRule:
    """One rule of a conflicting set, once: a policy line, or the lines one ``"*"`` rule
    made (issue 18). ``rule`` is the policy key it was written under (``district.*``,
    ``constraints[2]``; the built-in lines: their label, ``budget`` or ``funded``), ``label`` the
    first line's label, ``ids`` the constraint ids of its lines (``id`` the first) and
    ``rows`` the values ``"*"`` took for them (empty for a line of its own)."""

    rule: str
    label: str
    id: str
    ids: tuple[str, ...]
    rows: tuple[str, ...] = ()


def target_shortfall(c: ConstraintValue) -> float:
    """How far a target's value falls short of its bound (0 when met; SPEC §11)."""
    if c.penalty is None or not math.isfinite(c.value):
        return 0.0
    short = max(0.0, (c.min - c.value) if c.min is not None else 0.0,
                (c.value - c.max) if c.max is not None else 0.0)
    return 0.0 if short <= 1e-9 * max(1.0, abs(c.min or 0.0), abs(c.max or 0.0)) else short


@dataclass(frozen=True)
class Diagnosis:
    """Why a policy has no plan (SPEC §6).

    ``relaxation`` is the suggested change; ``conflict`` names the constraints of an
    irreducible conflicting set (their ids in ``conflict_ids``; grouped by rule in
    ``conflict_rules``). ``reasons`` say, as data
    (a catalog code and its values), what clashes and by how much; the words come from
    ``reports.text`` where the diagnosis is written.
    """

    relaxation: tuple[Relaxation, ...]
    conflict: tuple[str, ...]
    messages: tuple[Message, ...] = ()   # found before a solve: a must row that cannot be funded
    reasons: tuple[Message, ...] = ()
    conflict_ids: tuple[str, ...] = ()
    conflict_rules: tuple[ConflictRule, ...] = ()   # the conflict, a "*" rule once
    # the caption of every constraint of the policy, by id (reasons and rules name ids);
    # a line named with no id (a sweep point's crossed line) by its name
    captions: Mapping[str, Caption] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """Why one sub-fund is in or out of the plan (``fundopt explain``).

    ``threshold`` is the objective coefficient at which the sub-fund would enter the plan
    (unfunded) or leave it (funded); ``column`` names the objective column it is a value
    of (``score``), None for a weighted objective. ``objective_change`` is the objective
    given up by forcing it in (unfunded, at ``forced_amount``) or by leaving it out
    (funded), ≥ 0; None when that plan is infeasible. ``added`` / ``dropped`` are the
    other sub-funds funded in that plan and not in the optimum, and the reverse.
    ``binding`` names the binding constraints whose selection includes the sub-fund.
    ``note`` is a code: "", "excluded", "unfundable", "must", "forced_infeasible",
    "needed" (infeasible without it).
    """

    id: str
    funded: bool
    amount: float
    cost: float
    column: str | None
    threshold: float | None
    objective_change: float | None
    forced_amount: float | None
    added: tuple[str, ...]
    dropped: tuple[str, ...]
    binding: tuple[str, ...]
    note: str = ""
    binding_captions: tuple[Caption | None, ...] = ()   # of ``binding``, in order


@dataclass(frozen=True)
class Alternative:
    """A near-optimal plan with a different funded set (``solve --alternatives``).

    ``gap`` is the relative objective shortfall from the optimum (0.01 = 1 %); ``added``
    and ``dropped`` are the sub-funds funded here and not in the optimum, and the reverse.
    """

    rank: int
    objective: float
    gap: float
    amounts: np.ndarray
    added: tuple[str, ...]
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class Robustness:
    """How a robust plan (``solve --robust``) compares with the nominal optimum (SPEC §8).

    ``value`` is the plan's value under ``criterion`` (``worst`` or ``cvar:ALPHA``) and
    ``nominal_plan_value`` the nominal optimum's; ``nominal_objective`` is the plan's
    nominal objective (mean score) and ``nominal_optimum`` the best one; ``price`` is
    their difference, the nominal objective given up for robustness (≥ 0).
    ``scenarios`` says what the criterion is over (``reviewers`` or ``draws``, ``count``
    of them); ``plan_totals`` and ``nominal_totals`` are each scenario's total score
    Σ s_k·x of the robust plan and of the nominal optimum (``nominal_amounts``).
    """

    criterion: str
    value: float
    nominal_objective: float
    nominal_optimum: float
    price: float
    nominal_plan_value: float
    scenarios: str
    count: int
    nominal_amounts: np.ndarray
    plan_totals: np.ndarray
    nominal_totals: np.ndarray


@dataclass(frozen=True)
class Warning_:
    """A problem worth telling the planner that did not stop the solve."""

    code: str                    # "unfundable" …
    row_id: str
    detail: dict[str, float | str]


@dataclass(frozen=True)
class BookTotals:
    """The fund's book beside this round (``solve --book``).

    ``groups`` maps region / category / district to (value, booked, this round) rows;
    ``follow_ons`` lists (id, booked, this round) for the rows already in the book.
    """

    location: str
    rounds: tuple[str, ...]
    booked: float
    committed: float
    groups: dict[str, tuple[tuple[str, float, float], ...]]
    follow_ons: tuple[tuple[str, float, float], ...]
    decimals: int = 9            # the amounts' grid: sums are rounded to it
    # The book's state the plan was solved against ({"last_round", "digest"}, SPEC §13).
    state: dict[str, str | None] | None = None

    @property
    def fund_total(self) -> float:
        return self.add(self.booked, self.committed)

    def add(self, booked: float, now: float) -> float:
        """booked + now without float noise (both are on the grid)."""
        return round(booked + now, self.decimals)


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
    # The changes applied by ``solve --relax`` (empty: the policy as written).
    relaxed: tuple[Relaxation, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    explanations: tuple[Explanation, ...] = ()
    robust: Robustness | None = None
    book: BookTotals | None = None      # with solve --book: the book beside this round

    @property
    def is_ok(self) -> bool:
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
