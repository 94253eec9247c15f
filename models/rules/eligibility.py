"""``[[eligible]]`` (SPEC §11): which rows may be funded at all, and why the others not.

A row that fails any eligibility rule gets 0, counts in no constraint and is listed in
every output with the rule's name and the value that fails it
(``存续期不超过10年：duration_years = 12``). A ``must`` row that is ineligible is an input
error: the planner asked for two contradictory things about one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    ID,
    MUST,
    STATUS,
    Eligibility,
    Measure,
    Policy,
    Rule,
    Table,
)
from fundopt.models.rules.expansion import STAR, check_where, selection_mask
from fundopt.models.rules.policy import Locator, each_table, read_text, read_where

ELIGIBLE_KEYS = ("name", "where")


@dataclass(frozen=True)
class Ineligible:
    """A row an eligibility rule shuts out: its index, the rule, the column and value that
    fail it."""

    row: int
    rule: Eligibility
    column: str
    value: str


def parse_eligible(value: Any, loc: Locator) -> tuple[Eligibility, ...]:
    """``[[eligible]]`` tables, each with a ``name`` and a ``where`` (no ``"*"``)."""
    rules = []
    for origin, item in each_table(value, "eligible", ELIGIBLE_KEYS, loc,
                                   "input.eligibility.not_list",
                                   "input.eligibility.not_table"):
        for key in ELIGIBLE_KEYS:
            if key not in item:
                raise loc.error(f"{origin}.{key}", "input.eligibility.missing", {"key": key})
        where = read_where(item["where"], f"{origin}.where", loc)
        for column, condition in where:
            if condition == STAR:
                raise loc.error(f"{origin}.where.{column}",
                                "input.eligibility.star", value="*")
        if not where:
            raise loc.error(f"{origin}.where", "input.eligibility.empty_condition")
        rules.append(Eligibility(read_text(item["name"], f"{origin}.name", loc), where, origin))
    return tuple(rules)


def as_rule(rule: Eligibility) -> Rule:
    """The eligibility rule in the form ``models.rules.expansion`` checks a ``where`` in."""
    return Rule(rule.name, rule.where, Measure.COUNT, None, None, None, rule.origin)


def ineligible_rows(table: Table, policy: Policy) -> list[Ineligible]:
    """Every row some rule shuts out, in row order, each with the first rule (in policy
    order) and the first condition of it that the row fails."""
    if not policy.eligible:
        return []
    frame = table.frame
    found: dict[int, Ineligible] = {}
    for rule in policy.eligible:
        for column, condition in rule.where:
            fails = ~selection_mask(table, ((column, condition),))
            for i in np.flatnonzero(fails):
                if int(i) not in found:
                    found[int(i)] = Ineligible(int(i), rule, column,
                                               _cell(frame[column].iat[int(i)]))
    return [found[i] for i in sorted(found)]


def check_eligible(policy: Policy, table: Table) -> None:
    """Columns and values of each rule exist; no ``must`` row is ineligible.

    Raises
    ------
    InputError
        Naming the policy key of a bad column or value, or the table row of a ``must``
        sub-fund a rule shuts out.
    """
    for rule in policy.eligible:
        check_where(as_rule(rule), rule.where, table, policy.source)
    if STATUS not in table.frame.columns:
        return
    status = table.frame[STATUS].to_numpy()
    for row in ineligible_rows(table, policy):
        if status[row.row] == MUST:
            values = {"id": str(table.frame[ID].iat[row.row]), "rule": row.rule.name,
                      "column": row.column, "value": row.value}
            raise InputError(code="rules.ineligible_must", values=values,
                             file=str(table.path), row=table.source_rows[row.row],
                             column=table.headers.get(STATUS, STATUS),
                             value=str(table.frame[ID].iat[row.row]),
                             hint=Message("rules.ineligible_must_hint",
                                          {"key": row.rule.origin}))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:g}"
    return str(value)
