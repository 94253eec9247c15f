"""Sweep points: the base policy with one number set to each value of a range
(``fundopt sweep``), each validated and expanded like a policy file; a value that crosses
the other bound of its own line is an infeasible point, not an error."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import Caption, CaptionKind, Constraint, Policy, Table
from fundopt.models.limits import MAX_SWEEP_POINTS
from fundopt.models.reading.inputs import PolicyTree
from fundopt.models.reading.sheets import split_key
from fundopt.models.rules.expansion import expand
from fundopt.models.rules.keypaths import with_value
from fundopt.models.rules.scenarios import build_policy, in_context

SWEEP_HINT = Message("hint.sweep_param")


def sweep_values(start: float, stop: float, steps: int, step: float | None = None
                 ) -> tuple[float, ...]:
    """The points of a sweep from ``start`` to ``stop`` (both included): ``steps`` evenly
    spaced, or every ``step`` (``--step 0.5``: 20, 20.5, … up to ``stop``), each value
    without float noise (``20.1``, never ``20.100000000000001``).

    Raises
    ------
    InputError
        An end that is not a finite number, a step that is not positive, or more than
        ``MAX_SWEEP_POINTS`` points.
    """
    for option, value in (("--from", start), ("--to", stop)):
        if not math.isfinite(value):
            raise InputError(code="input.scenarios.not_finite", column=option, value=value)
    if step is not None:
        if not (math.isfinite(step) and step > 0):
            raise InputError(code="input.scenarios.step", column="--step",
                             value=step)
        # whole steps from start, the last within a millionth of a step of stop
        steps = int(math.floor(abs(stop - start) / step + 1e-6)) + 1
    if not 2 <= steps <= MAX_SWEEP_POINTS:
        raise InputError(code="input.scenarios.points",
                         values={"limit": MAX_SWEEP_POINTS},
                         column="--step" if step else "--steps", value=step if step else steps)
    if step is not None:
        direction = 1.0 if stop >= start else -1.0
        raw = start + direction * step * np.arange(steps)
    else:
        raw = np.linspace(start, stop, steps)
    # 10 decimals: the noise of linspace and of k·step goes, the value written stays
    return tuple(float(v) for v in np.round(raw, 10))


@dataclass(frozen=True)
class CrossedPoint:
    """A sweep point whose value crosses the other bound of its own policy line (a
    ``min_share`` swept past the ``max_share``): no plan can exist there, so the point is
    marked infeasible with that line as the conflict, not refused (SPEC §12).

    ``rule`` is the line's constraint label (``region 河北 share``, a constraint's name)
    or, for a top-level pair (``min_funded`` / ``max_funded``), the policy key;
    ``caption`` says what the line is (None for a policy key).
    """

    rule: str
    caption: Caption | None = None


def sweep_policies(table: Table, base: PolicyTree, key: str, values: Sequence[float]
                   ) -> list[tuple[Policy, tuple[Constraint, ...]]]:
    """The base policy with ``key`` set to each value, validated and expanded.

    Raises
    ------
    InputError
        As :func:`sweep_points`, and for a value that crosses the other bound of its line.
    """
    return [p for p in sweep_points(table, base, key, values, crossing=False)
            if isinstance(p, tuple)]


def sweep_points(table: Table, base: PolicyTree, key: str, values: Sequence[float],
                 crossing: bool = True
                 ) -> list[tuple[Policy, tuple[Constraint, ...]] | CrossedPoint]:
    """The base policy with ``key`` set to each value, validated and expanded; a point
    whose value crosses the other bound of its line is a :class:`CrossedPoint`
    (``crossing=False``: an error, as any other).

    Raises
    ------
    InputError
        The key is not a numeric policy key path, or a value is out of its range; the
        message names the point (``sweep point budget = 45``). Every point crossed is
        also an error: there is nothing to sweep.
    """
    out: list[tuple[Policy, tuple[Constraint, ...]] | CrossedPoint] = []
    first_error: InputError | None = None
    for value in values:
        context = Message("context.sweep_point", {"key": key, "value": float(value)})
        try:
            tree = with_value(base.data, key, float(value), base.source)
            policy = build_policy(tree, base, base.source, context)
            out.append((policy, expand(policy, table)))
        except InputError as error:
            hint = error.hint or SWEEP_HINT
            error = replace(in_context(error, context), hint=hint)
            crossed = _crossed_rule(error, key) if crossing else None
            if crossed is None:
                raise error from None
            first_error = first_error or error
            out.append(CrossedPoint(*crossed))
    if first_error is not None and all(isinstance(p, CrossedPoint) for p in out):
        raise first_error
    return out


def _crossed_rule(error: InputError, key: str) -> tuple[str, Caption | None] | None:
    """The policy line a swept value crossed (its min above its max) and its caption,
    else None.

    The policy reader raises this one error as ``policy.min_over_max`` on the swept line's
    own key pair; nothing else is a crossing.
    """
    parts = split_key(key)
    if error.code != "policy.min_over_max" or not parts:
        return None
    lo_key = (error.column or "").rsplit(".", 1)[-1]
    if parts[0] in ("region", "category", "district") and len(parts) == 3:
        measure = lo_key.removeprefix("min_")
        return f"{parts[0]} {parts[1]} {measure}", Caption(
            CaptionKind.SHORTHAND, parts[0], (parts[1],), ((measure, None),))
    if parts[0] == "constraints" and len(parts) == 3:
        # the constraint's name, as the planner wrote it
        return parts[1], Caption(CaptionKind.NAMED, parts[1])
    return (lo_key, None) if len(parts) == 1 else None
