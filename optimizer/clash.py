"""By how much a conflicting set of policy lines clashes, as data (``Message``s).

The diagnosis finds a set of lines that cannot hold together; a committee needs to see
why, in numbers: ``region 天津 share ≥ 40%, region 河北 share ≥ 70%: together 110% of the
40 亿元 budget``. Three forms, first that fits:

- ``diagnosis.over_total``: floors on amounts or shares over disjoint selections that
  together ask for more than a cap over all of them (the budget, a region's cap);
- ``diagnosis.under_total``: caps whose selections cover a floor's and that together allow
  less than the floor (the regions' caps against ``min_deploy``);
- ``diagnosis.alone``: a single line that no plan can keep (tickets, ``must`` rows);
- otherwise ``diagnosis.clash``: every line of the set with its limit, and for each line the
  suggestion moves, ``diagnosis.reach.min``/``.max``: how far it can go with the rest of the
  policy (its threshold, the suggested value).

A limit is a dict: ``id``, ``name`` (the constraint's label or, for the built-in lines, its
policy key), ``builtin``, ``side`` (``min``/``max``), ``measure``, ``value`` (as written),
``percent`` (shown as a percentage); lines from one ``"*"`` rule are one limit with the
values ``"*"`` took in ``rows`` and their ids in ``ids``. Words come only from
``reports.text`` (``reports.diagnosis_text`` renders these).
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from fundopt.messages import Message
from fundopt.models.domain import Measure
from fundopt.optimizer.fund import share_base
from fundopt.optimizer.report import Line, measure, slack_and_side
from fundopt.optimizer.result import ConflictRule, Relaxation

if TYPE_CHECKING:
    from fundopt.optimizer.problem import Problem

MONEY = (Measure.AMOUNT, Measure.SHARE)


def clash_reasons(problem: Problem, lines: list[Line], amounts: np.ndarray,
                  relaxation: tuple[Relaxation, ...]) -> tuple[Message, ...]:
    """What clashes in the conflicting ``lines``, given the relaxed plan ``amounts`` and
    the suggested ``relaxation`` (whose moved sides are the sides in conflict)."""
    if not lines:
        return ()
    moved = {(r.id, r.bound): r for r in relaxation}
    sides = {line.id: _side(line, amounts, problem.policy.budget, moved) for line in lines}
    unit = problem.policy.unit
    total = _over_total(problem, lines, sides) or _under_total(problem, lines, sides)
    if total is not None:
        reasons = [total]
    elif len(lines) == 1:     # no plan keeps this one line, whatever the others say
        reasons = [Message("diagnosis.alone", {
            "limit": _limit(lines, sides[lines[0].id]), "unit": unit})]
    else:
        reasons = [Message("diagnosis.clash", {"limits": _limits(lines, sides), "unit": unit})]
    for line in lines:
        for side in ("min", "max"):
            r = moved.get((line.id, side))
            if r is not None:
                code = "diagnosis.reach.min" if side == "min" else "diagnosis.reach.max"
                reasons.append(Message(code, {
                    "limit": _limit([line], side), "reach": r.to_value, "unit": unit}))
    return tuple(reasons)


def _side(line: Line, amounts: np.ndarray, budget: float,
          moved: dict[tuple[str, str], Relaxation]) -> str:
    """The side of ``line`` in the conflict: the one moved, the only one, or the one the
    relaxed plan presses against."""
    for side in ("min", "max"):
        if (line.id, side) in moved:
            return side
    if line.min is None or line.max is None:
        return "min" if line.max is None else "max"
    pressed = slack_and_side(line, measure(line, amounts, budget))[1]
    return pressed or "max"


def conflict_rules(lines: list[Line]) -> tuple[ConflictRule, ...]:
    """The conflicting ``lines`` by rule: a line of its own, or the lines of one ``"*"``
    rule once, with the values ``"*"`` took (the sub-funds, districts … involved)."""
    groups: dict[object, list[Line]] = {}
    for line in lines:
        c = line.constraint
        groups.setdefault(c.rule if _starred(line) else c.id, []).append(line)
    found = []
    for group in groups.values():
        c = group[0].constraint
        rule = c.rule.origin or c.label        # a built-in line: budget, funded
        rows = tuple(_row(ln) for ln in group) if _starred(group[0]) else ()
        found.append(ConflictRule(rule=rule, label=group[0].label, id=c.id,
                                  ids=tuple(ln.id for ln in group), rows=rows))
    return tuple(found)


def _starred(line: Line) -> bool:
    return any(values == ("*",) for _, values in line.constraint.rule.where)


def _row(line: Line) -> str:
    """The values ``"*"`` took for one line of a ``"*"`` rule."""
    starred = [col for col, vals in line.constraint.rule.where if vals == ("*",)]
    return " ".join(v for col, vals in line.constraint.where
                    if col in starred and isinstance(vals, tuple) for v in vals)


def _limits(lines: list[Line], sides: dict[str, str]) -> list[dict[str, Any]]:
    """One limit per line, the lines of one ``"*"`` rule (same side) as one."""
    groups: dict[tuple[object, str], list[Line]] = {}
    for line in lines:
        key = (line.constraint.rule if _starred(line) else line.id, sides[line.id])
        groups.setdefault(key, []).append(line)
    return [_limit(group, side) for (_, side), group in groups.items()]


def _limit(group: list[Line], side: str) -> dict[str, Any]:
    c = group[0].constraint
    values = [ln.constraint.as_written(side) for ln in group]
    found: dict[str, Any] = {
        "id": c.id, "name": c.label if c.rule.origin else c.keys[0 if side == "min" else 1],
        "builtin": not c.rule.origin, "side": side, "measure": str(c.measure),
        "value": values[0],
        "percent": c.measure is Measure.SHARE or (not c.rule.origin and side == "min"
                                                   and c.written is not None
                                                   and c.measure is Measure.AMOUNT),
    }
    if len(group) > 1:
        found["ids"] = [ln.id for ln in group]
        found["rows"] = [_row(ln) for ln in group]
        found["labels"] = [ln.label for ln in group]
        if len(set(values)) > 1:
            found["values"] = values
    return found


def _money(problem: Problem, line: Line, side: str) -> float | None:
    """A round-scope amount or share bound in money, None for any other line."""
    c = line.constraint
    if c.measure not in MONEY or c.booked is not None:
        return None
    bound = line.min if side == "min" else line.max
    if bound is None:
        return None
    return bound * (share_base(c, problem.policy.budget) if c.measure is Measure.SHARE else 1)


def _mask(problem: Problem, line: Line) -> np.ndarray:
    fundable = problem.built.bounds.fundable
    return fundable if line.mask is None else line.mask & fundable


def _over_total(problem: Problem, lines: list[Line], sides: dict[str, str]) -> Message | None:
    """Floors over disjoint selections inside one cap's, together above the cap."""
    caps = [ln for ln in lines if sides[ln.id] == "max"]
    floors = [ln for ln in lines if sides[ln.id] == "min"]
    if len(caps) != 1 or not floors:
        return None
    cap = caps[0]
    cap_money = _money(problem, cap, "max")
    money = [_money(problem, ln, "min") for ln in floors]
    if cap_money is None or any(m is None for m in money):
        return None
    masks = [_mask(problem, ln) for ln in floors]
    inside = _mask(problem, cap)
    if any((m & ~inside).any() for m in masks) or any(
            (a & b).any() for a, b in combinations(masks, 2)):
        return None
    total = math.fsum(m for m in money if m is not None)
    if total <= cap_money:
        return None
    return Message("diagnosis.over_total", {
        "floors": _limits(floors, sides), "cap": _limit([cap], "max"), "total": total,
        "share": total / problem.policy.budget, "unit": problem.policy.unit})


def _under_total(problem: Problem, lines: list[Line], sides: dict[str, str]
                 ) -> Message | None:
    """Caps whose selections cover one floor's, together below the floor."""
    caps = [ln for ln in lines if sides[ln.id] == "max"]
    floors = [ln for ln in lines if sides[ln.id] == "min"]
    if len(floors) != 1 or not caps:
        return None
    floor = floors[0]
    floor_money = _money(problem, floor, "min")
    money = [_money(problem, ln, "max") for ln in caps]
    if floor_money is None or any(m is None for m in money):
        return None
    covered = np.zeros_like(_mask(problem, floor))
    for ln in caps:
        covered |= _mask(problem, ln)
    if (_mask(problem, floor) & ~covered).any():
        return None
    total = math.fsum(m for m in money if m is not None)
    if total >= floor_money:
        return None
    return Message("diagnosis.under_total", {
        "caps": _limits(caps, sides), "floor": _limit([floor], "min"), "total": total,
        "share": total / problem.policy.budget, "unit": problem.policy.unit})
