"""``[[limits]]`` (SPEC §11): per-row bounds stated once for a group of rows.

``max = "other_lp_max - 0.01"`` (not the largest holder), ``min_stake = 0.1,
max_stake = 0.3`` (10–30 % of each sub-fund), with an optional ``where`` for a group
(``fund_kind = "专项"``). Each selected row's commitment gets x ≤ max and, if funded,
x ≥ min; the tightest of all limits, the table's tickets and the policy's caps wins
(``optimizer.build.ticket_bounds``). They are bounds on the row's variable, not rows of the
model, so a limit on 100 000 rows adds nothing to the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import FUND_SIZE, Limit, Measure, Policy, Rule, Table
from fundopt.models.rules.expansion import (
    STAR,
    Reader,
    check_expression,
    check_rows,
    check_where,
    live_rows,
    selection_mask,
)
from fundopt.models.rules.policy import (
    Locator,
    each_table,
    read_expression,
    read_number,
    read_text,
    read_where,
)

LIMIT_KEYS = ("name", "where", "max", "min", "max_stake", "min_stake")
BOUND_KEYS = LIMIT_KEYS[2:]


@dataclass(frozen=True)
class RowBound:
    """One side of one limit over the table: per row its value (NaN: no bound there) and
    the key path that wrote it (``limits[2].max_stake``)."""

    key: str
    label: str
    values: np.ndarray


def parse_limits(value: Any, loc: Locator) -> tuple[Limit, ...]:
    """``[[limits]]`` tables: name, where, and at least one of the four bounds."""
    limits = []
    for origin, item in each_table(value, "limits", LIMIT_KEYS, loc,
                                   "input.row_limits.not_list", "input.row_limits.not_table"):
        if not any(key in item for key in BOUND_KEYS):
            raise loc.error(origin, "input.row_limits.no_bound",
                            expected=Message("expected.one_of", {"items": ", ".join(BOUND_KEYS)}))
        where = read_where(item.get("where", {}), f"{origin}.where", loc)
        for column, condition in where:
            if condition == STAR:
                raise loc.error(f"{origin}.where.{column}",
                                "input.row_limits.star", value="*")
        expr = {key: read_expression(_bound_text(item[key], f"{origin}.{key}", loc),
                                 f"{origin}.{key}", loc)
                for key in ("max", "min") if key in item}
        stake = {key: read_number(item[key], f"{origin}.{key}", loc, lo=0.0, hi=1.0)
                 for key in ("max_stake", "min_stake") if key in item}
        if "max_stake" in stake and "min_stake" in stake \
                and stake["min_stake"] > stake["max_stake"]:
            raise loc.error(f"{origin}.min_stake", "input.row_limits.stakes_crossed",
                            {"origin": origin, "min_stake": stake["min_stake"],
                             "max_stake": stake["max_stake"]},
                            value=stake["min_stake"])
        name = read_text(item["name"], f"{origin}.name", loc) if "name" in item else None
        limits.append(Limit(name, where, expr.get("max"), expr.get("min"),
                            stake.get("max_stake"), stake.get("min_stake"), origin))
    return tuple(limits)


def _bound_text(value: Any, path: str, loc: Locator) -> str:
    """A limit's max/min: an expression in quotes, or a plain number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(read_number(value, path, loc)))
    return read_text(value, path, loc)


def as_rule(limit: Limit) -> Rule:
    """The limit in the form ``models.rules.expansion`` checks a ``where`` in."""
    return Rule(limit.name, limit.where, Measure.AMOUNT, None, None, None, limit.origin)


def check_limits(policy: Policy, table: Table) -> None:
    """Columns, values and expressions of every limit exist and hold a number in every
    selected candidate row (excluded and ineligible rows aside).

    Raises
    ------
    InputError
        Naming the policy key, or the table row of a blank / zero divisor.
    """
    live = live_rows(table, policy)
    for limit in policy.limits:
        mask = check_where(as_rule(limit), limit.where, table, policy.source) \
            if limit.where else np.ones(len(table.frame), dtype=bool)
        for key in ("max", "min"):
            text = getattr(limit, key)
            if text is None:
                continue
            check_expression(text, f"{limit.origin}.{key}", text, table, policy.source)
            check_rows(table, text, mask & live,
                       Reader("limit", limit.label, f"{limit.origin}.{key}"))
        if (limit.max_stake is not None or limit.min_stake is not None) \
                and FUND_SIZE not in table.frame.columns:
            key = "max_stake" if limit.max_stake is not None else "min_stake"
            raise InputError(code="rules.limit_no_size", file=policy.source,
                             column=f"{limit.origin}.{key}",
                             hint=Message("rules.limit_no_size_hint"))


def row_bounds(table: Table, policy: Policy, follow_on: np.ndarray | None = None
               ) -> tuple[list[RowBound], list[RowBound]]:
    """(caps, floors) of every limit over the table, each NaN outside its ``where``.

    A stake limit has no bound in a row with a blank ``fund_size`` (as the policy's own
    ``max_stake``); ``follow_on`` (what the book holds for the row's sub-fund) counts
    toward the stake, so it comes off both stake bounds.
    """
    from fundopt.models.rules.expression import column_values

    frame = table.frame
    n = len(frame)
    size = frame[FUND_SIZE].to_numpy(float) if FUND_SIZE in frame else np.full(n, np.nan)
    held = np.zeros(n) if follow_on is None else follow_on
    caps: list[RowBound] = []
    floors: list[RowBound] = []
    for limit in policy.limits:
        mask = selection_mask(table, limit.where)
        sides = (("max", caps, limit.max, limit.max_stake),
                 ("min", floors, limit.min, limit.min_stake))
        for side, out, text, stake in sides:
            if text is not None:
                values = column_values(frame, text)
                out.append(RowBound(f"{limit.origin}.{side}", limit.label,
                                    np.where(mask, values, np.nan)))
            if stake is not None:
                values = stake * size - held
                out.append(RowBound(f"{limit.origin}.{side}_stake", limit.label,
                                    np.where(mask, values, np.nan)))
    return caps, floors
