"""Check a policy against the sub-fund table and expand ``"*"`` into one constraint per value.

``expand`` is the last step of reading the inputs: every column, value and measure the
policy names must exist in the table (SPEC §3: a typo never passes silently). The result,
``Constraint`` values with stable ids ``c1, c2, …`` and unique human labels, is what the
model, the reports and the diagnosis all speak of.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    DISTRICT,
    EXCLUDE,
    SCORE,
    STATUS,
    Caption,
    CaptionKind,
    Constraint,
    Measure,
    Not,
    Policy,
    Range,
    Rule,
    Table,
    Where,
    describe_condition,
)
from fundopt.models.limits import MAX_MAGNITUDE
from fundopt.models.reading.table import check_magnitude, parse_numbers
from fundopt.models.rules.expression import frame_values, parse_expression

STAR = ("*",)
SHOWN = 12  # values listed in an error message before "… (N in all)"


def selection_mask(table: Table, where: Where) -> np.ndarray:
    """The rows a ``where`` selects: every (column, values) pair holds.

    Parameters
    ----------
    table
        The sub-fund table.
    where
        ((column, accepted values), ...), as in ``Constraint.where``; empty selects every
        row. Values of numeric columns are compared as numbers. ``("*",)`` selects the rows
        with a non-blank value.

    Returns
    -------
    np.ndarray
        Boolean, one entry per row of ``table.frame``.
    """
    frame = table.frame
    mask = np.ones(len(frame), dtype=bool)
    for column, values in where:
        series = frame[column]
        if isinstance(values, Range):
            mask &= values.contains(series.to_numpy(float))
        elif isinstance(values, Not):
            mask &= ~selection_mask(table, ((column, values.values),))
        elif values == STAR:
            mask &= ~_blank(table, column)
        elif column in table.numeric_columns:
            numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
            mask &= series.isin(numbers.dropna()).to_numpy(dtype=bool)
        else:
            mask &= series.isin(values).to_numpy(dtype=bool)
    return mask


def expand(policy: Policy, table: Table) -> tuple[Constraint, ...]:
    """Validate the policy against the table and expand ``"*"``.

    A ``"*"`` column gives one constraint per distinct non-blank value, in table order of
    first appearance; several ``"*"`` columns give one per combination that occurs among
    the rows the rest of ``where`` selects.

    Parameters
    ----------
    policy
        From ``load_policy`` / ``policy_from_sheets``.
    table
        The validated sub-fund table.

    Returns
    -------
    tuple[Constraint, ...]
        Ids ``c1, c2, …`` in policy order; labels such as ``region 天津 share`` or
        ``portfolio risk [district=静海区]``, unique (``#2`` appended on a clash); each
        with its :class:`~fundopt.models.domain.Caption` (what reports show).

    Raises
    ------
    InputError
        An objective or measure column that is missing or not numeric, a ``where`` column
        or value that is not in the table, a selection with no row, a blank value where a
        ``sum`` / ``avg`` constraint needs it.
    """
    _check_objective(policy, table)
    if policy.uncertainty is not None:
        from fundopt.models.rules.uncertainty import (
            check_uncertainty,  # imports models.rules.policy
        )

        check_uncertainty(policy, table)
    if policy.eligible:
        from fundopt.models.rules.eligibility import check_eligible  # imports this module

        check_eligible(policy, table)
    if policy.limits:
        from fundopt.models.rules.row_limits import check_limits  # imports this module

        check_limits(policy, table)
    declared = dict(policy.values)
    if declared:
        undeclared_error(table, declared, policy.source)
    labels: set[str] = {BUDGET, FUNDED}
    constraints: list[Constraint] = []
    for rule in policy.rules:
        for where, stars in _expansions(rule, table, policy.source, declared):
            label, number = _unique(_label(rule, where, stars), labels)
            constraints.append(Constraint(f"c{len(constraints) + 1}", label, rule, where,
                                          rule.measure, rule.column, rule.min, rule.max,
                                          caption=caption(rule, where, stars, number)))
    _check_blanks(constraints, table, policy)
    return tuple(constraints)


BUDGET, FUNDED = "budget", "funded"


def with_builtins(policy: Policy, constraints: tuple[Constraint, ...]
                  ) -> tuple[Constraint, ...]:
    """The budget and the funded-count rule as ordinary constraints, then ``constraints``.

    ``min_deploy·budget ≤ Σx ≤ budget`` is the constraint ``budget`` (its max is hard:
    the capital at hand is never suggested to change) and ``min_funded ≤ count ≤
    max_funded`` the constraint ``funded``, both over every row. Constraints already
    holding them (a relaxed copy) are returned as they are.
    """
    if any(c.id == BUDGET for c in constraints):
        return constraints
    deploy = policy.min_deploy * policy.budget if policy.min_deploy > 0 else None
    budget = _builtin(BUDGET, Measure.AMOUNT, deploy, policy.budget, ("min_deploy", BUDGET))
    builtins = [replace(budget, written=(policy.min_deploy if deploy else None, policy.budget),
                        hard=("max",))]
    if policy.max_funded is not None or policy.min_funded is not None:
        builtins.append(_builtin(FUNDED, Measure.COUNT, _float(policy.min_funded),
                                 _float(policy.max_funded), ("min_funded", "max_funded")))
    return (*builtins, *constraints)


def _builtin(name: str, measure: Measure, lo: float | None, hi: float | None,
             keys: tuple[str, str]) -> Constraint:
    rule = Rule(name, (), measure, None, lo, hi, origin="", min_key=keys[0], max_key=keys[1])
    return Constraint(name, name, rule, (), measure, None, lo, hi,
                      caption=Caption(CaptionKind.BUILTIN, subject=name,
                                      measure=((str(measure), None),)))


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)


def _is_shorthand(rule: Rule) -> bool:
    return not rule.origin.startswith(("constraints[", "eligible[", "limits["))


def _key(rule: Rule, column: str) -> str:
    """The policy key that wrote a where column: ``region.天津`` or ``constraints[2].where.X``."""
    return rule.origin if _is_shorthand(rule) else f"{rule.origin}.where.{column}"


def _expansions(rule: Rule, table: Table, source: str,
                declared: Mapping[str, tuple[str, ...]] | None = None
                ) -> list[tuple[Where, tuple[tuple[str, str], ...]]]:
    """(where without "*", the (column, value) pairs "*" took) for each constraint of ``rule``.

    A ``"*"`` over a column the policy's ``[values]`` declares takes every declared value,
    present in the table or not (SPEC §11): a value with no candidate is not dropped.
    """
    declared = declared or {}
    for text in rule.expressions:
        check_expression(text, f"{rule.origin}.measure", rule.measure_text, table, source)
    if rule.measure is Measure.GROUPS and rule.column not in table.frame.columns:
        raise InputError(code="expand.groups_column",
                         values={"column": rule.column, "table": str(table.path)},
                         file=source, column=f"{rule.origin}.measure", value=rule.column,
                         expected=_listed("expand.columns", table.frame.columns),
                         hint=_column_hint(str(rule.column), table))
    mask = check_where(rule, rule.where, table, source, declared)
    stars = [column for column, values in rule.where if values == STAR]
    if not stars:
        return [(rule.where, ())]
    if any(column in declared for column in stars):
        return _declared_expansions(rule, table, mask, stars, declared)
    keep = mask & ~np.logical_or.reduce([_blank(table, column) for column in stars])
    combos = table.frame.loc[keep, stars].drop_duplicates()
    if combos.empty:
        raise InputError(code="expand.star_blank", values={"columns": ", ".join(stars)},
                         file=source, column=_key(rule, stars[0]))
    out = []
    for combo in combos.itertuples(index=False, name=None):
        taken = dict(zip(stars, (_as_text(v) for v in combo), strict=True))
        where = tuple((c, (taken[c],) if v == STAR else v) for c, v in rule.where)
        out.append((where, tuple(taken.items())))
    return out


def _declared_expansions(rule: Rule, table: Table, mask: np.ndarray, stars: list[str],
                         declared: Mapping[str, tuple[str, ...]]
                         ) -> list[tuple[Where, tuple[tuple[str, str], ...]]]:
    """One constraint per declared value of each declared ``"*"`` column, crossed with the
    values present among the selected rows for the others."""
    choices = [declared[column] if column in declared else
               tuple(dict.fromkeys(_as_text(v) for v in
                                   table.frame.loc[mask & ~_blank(table, column), column]))
               for column in stars]
    out = []
    for combo in itertools.product(*choices):
        taken = dict(zip(stars, combo, strict=True))
        where = tuple((c, (taken[c],) if v == STAR else v) for c, v in rule.where)
        out.append((where, tuple(taken.items())))
    return out


def check_where(rule: Rule, where: Where, table: Table, source: str,
                declared: Mapping[str, tuple[str, ...]] | None = None) -> np.ndarray:
    """Every column of ``where`` exists, every value occurs, a range is on a numeric column
    and some row meets the conditions (``"*"`` aside) together; returns those rows.

    Raises
    ------
    InputError
        Naming the policy key (``constraints[2].where.district``) of the first problem.
    """
    for column, _ in where:
        _check_column(rule, column, table, source)
    fixed = tuple((column, values) for column, values in where if values != STAR)
    declared = declared or {}
    for column, values in fixed:
        if isinstance(values, Range):
            _check_range(rule, column, values, table, source)
        else:
            listed = values.values if isinstance(values, Not) else values
            if column in declared:        # checked against the declaration instead
                _check_declared(rule, column, listed, declared[column], source)
            else:
                _check_values(rule, column, listed, table, source)
    mask = selection_mask(table, fixed)
    if not mask.any() and not any(column in declared for column, _ in fixed):
        raise InputError(code="expand.no_row", file=source, column=f"{rule.origin}.where",
                         value=_describe_where(fixed), hint=Message("expand.no_row.hint"))
    return mask


def _check_column(rule: Rule, column: str, table: Table, source: str) -> None:
    columns = list(table.frame.columns)
    if column in columns:
        return
    if _is_shorthand(rule) and column == DISTRICT:
        raise InputError(code="expand.no_district",
                         values={"origin": rule.origin, "table": str(table.path)},
                         file=source, column=rule.origin, hint=Message("expand.no_district.hint"))
    raise InputError(code="expand.no_column", values={"column": column, "table": str(table.path)},
                     file=source, column=_key(rule, column), value=column,
                     expected=_listed("expand.columns", columns), hint=_column_hint(column, table))


def check_expression(text: str, key: str, expression: str, table: Table, source: str) -> None:
    """Every column ``text`` reads is a numeric column of the table, within the solver's
    range; ``key`` is the policy key that wrote it, ``expression`` how to name it.

    Raises
    ------
    InputError
        Naming ``key``, the column and the numeric columns there are.
    """
    columns = [text] if text in table.frame.columns else list(parse_expression(text).columns)
    numeric = [c for c in table.frame.columns if c in table.numeric_columns]
    for column in columns:
        problem = ("expr_missing" if column not in table.frame.columns
                   else "expr_text" if column not in table.numeric_columns else None)
        if problem:
            raise InputError(code=f"expand.{problem}",
                             values={"expression": expression, "column": column,
                                     "table": str(table.path)},
                             file=source, column=key, value=column,
                             expected=_listed("expand.numeric_columns", numeric),
                             hint=(_not_number_hint(table, column)
                                   or _column_hint(column, table, numeric)))
        check_magnitude(table, column)


def _check_declared(rule: Rule, column: str, values: tuple[str, ...],
                    declared: tuple[str, ...], source: str) -> None:
    """A where value of a declared column must be one of the declared values."""
    for value in values:
        if value not in declared:
            raise _undeclared(value, column, declared, source, _key(rule, column), None)


def undeclared_error(table: Table, declared: Mapping[str, tuple[str, ...]], source: str
                     ) -> None:
    """Every value of a declared column in the table is declared (SPEC §11 ``[values]``).

    Raises
    ------
    InputError
        Naming the table row and the value, with the closest declared value.
    """
    for column, values in declared.items():
        if column not in table.frame.columns:
            raise InputError(code="expand.values_column",
                             values={"column": column, "table": str(table.path)},
                             file=source, column=f"values.{column}",
                             expected=_listed("expand.columns", table.frame.columns),
                             hint=_column_hint(column, table))
        cells = table.frame[column]
        text = np.array([_as_text(v) for v in cells], dtype=object)
        bad = np.flatnonzero(~_blank(table, column) & ~np.isin(text, list(values)))
        if len(bad):
            i = int(bad[0])
            raise _undeclared(str(text[i]), column, values, str(table.path),
                              table.headers.get(column, column), table.source_rows[i])


def _undeclared(value: str, column: str, declared: tuple[str, ...], file: str, key: str,
                row: int | None) -> InputError:
    close = difflib.get_close_matches(value, list(declared), n=1, cutoff=0.5)
    values = {"value": value, "column": column, "guess": close[0] if close else ""}
    code = "rules.undeclared_guess" if close else "rules.undeclared"
    return InputError(code=code, values=values, file=file, row=row, column=key, value=value,
                      expected=_listed("expand.one_of", declared))


def _check_range(rule: Rule, column: str, values: Range, table: Table, source: str) -> None:
    """A range selects by number: its column must be numeric."""
    if column in table.numeric_columns:
        return
    numeric = [c for c in table.frame.columns if c in table.numeric_columns]
    raise InputError(code="rules.range_text", values={"column": column, "range": str(values)},
                     file=source, column=_key(rule, column), value=str(values),
                     expected=_listed("expand.numeric_columns", numeric),
                     hint=_not_number_hint(table, column))


def _check_values(rule: Rule, column: str, values: tuple[str, ...], table: Table,
                  source: str) -> None:
    """Every accepted value must occur in some row (vectorised over the column)."""
    for value in values:
        if selection_mask(table, ((column, (value,)),)).any():
            continue
        present = [_as_text(v) for v in table.frame.loc[~_blank(table, column), column].unique()]
        # Short CJK names differ by one character in two: a lower cutoff still helps.
        close = difflib.get_close_matches(value, present, n=1, cutoff=0.5)
        raise InputError(code="expand.no_value", values={"column": column, "value": value},
                         file=source, column=_key(rule, column), value=value,
                         expected=_listed("expand.values_of", present, column=column),
                         hint=_did_you_mean(close[0]) if close else None)


def _check_objective(policy: Policy, table: Table) -> None:
    """Objective columns exist, are numeric and have no blank."""
    objective = policy.objective
    numeric = [c for c in table.frame.columns if c in table.numeric_columns]
    for column in objective.weights:
        key = (f"objective.weights.{column}" if objective.normalize
               else f"objective.{objective.sense}")
        if column not in table.numeric_columns:
            missing = column not in table.frame.columns
            hint = (None if missing else _not_number_hint(table, column)) \
                or _column_hint(column, table, numeric)
            if missing and column == SCORE:
                hint = Message("expand.no_score.hint")
            raise InputError(code="expand.objective_missing" if missing
                             else "expand.objective_text",
                             values={"column": column, "table": str(table.path)},
                             file=policy.source, column=key, value=column,
                             expected=_listed("expand.numeric_columns", numeric), hint=hint)
        blank = np.isnan(table.frame[column].to_numpy(float))
        if blank.any():
            _raise_blank(table, column, int(np.argmax(blank)), Reader("objective", key=key))
        check_magnitude(table, column)


def _check_blanks(constraints: Sequence[Constraint], table: Table, policy: Policy) -> None:
    """sum / avg columns and expressions need a value in every row they measure, and no
    division by zero there (excluded and ineligible rows aside)."""
    live = live_rows(table, policy)
    for c in constraints:
        for text in c.rule.expressions:
            check_rows(table, text, selection_mask(table, c.where) & live,
                       Reader("constraint", c.label, c.rule.origin))


def live_rows(table: Table, policy: Policy) -> np.ndarray:
    """Rows that are candidates at all: not excluded (SPEC §4), eligible (SPEC §11)."""
    frame = table.frame
    live = (frame[STATUS].to_numpy() != EXCLUDE if STATUS in frame.columns
            else np.ones(len(frame), dtype=bool))
    return live & eligible_mask(table, policy)


def eligible_mask(table: Table, policy: Policy) -> np.ndarray:
    """True for the rows every ``[[eligible]]`` rule admits (SPEC §11)."""
    mask = np.ones(len(table.frame), dtype=bool)
    for rule in policy.eligible:
        mask &= selection_mask(table, rule.where)
    return mask


@dataclass(frozen=True)
class Reader:
    """Who reads a column's values, for the errors about a cell: a ``constraint`` (its
    label ``name``, written under ``key``), the ``objective`` or a ``limit``."""

    kind: str
    name: str = ""
    key: str = ""

    def values(self) -> dict[str, str]:
        return {"name": self.name, "key": self.key}


def check_rows(table: Table, text: str, used: np.ndarray, user: Reader) -> np.ndarray:
    """The values of column or expression ``text``, after checking that every ``used`` row
    has one: a blank cell it reads, or a division by zero, is an input error naming the
    first such row and ``user``."""
    evaluated = frame_values(table.frame, text)
    zero = used & evaluated.zero_division
    blank = used & np.isnan(evaluated.values) & ~evaluated.zero_division
    if blank.any():
        i = int(np.argmax(blank))
        columns = [text] if text in table.frame.columns else parse_expression(text).columns
        empty = next(c for c in columns if np.isnan(table.frame[c].to_numpy(float)[i]))
        _raise_blank(table, empty, i, user)
    if zero.any():
        i = int(np.argmax(zero))
        raise InputError(code=f"expand.zero.{user.kind}",
                         values={"expression": text, **user.values()}, file=str(table.path),
                         row=table.source_rows[i], column=text,
                         expected=Message("expand.zero.expected"),
                         hint=Message("rules.expr_zero_hint"))
    over = used & (np.abs(np.nan_to_num(evaluated.values)) > MAX_MAGNITUDE)
    if over.any():
        i = int(np.argmax(over))
        raise InputError(code="expand.too_large", values={"expression": text},
                         file=str(table.path), row=table.source_rows[i], column=text,
                         value=float(evaluated.values[i]),
                         expected=Message("expand.too_large.expected",
                                          {"limit": f"{MAX_MAGNITUDE:g}"}))
    return evaluated.values


def _raise_blank(table: Table, column: str, index: int, user: Reader) -> None:
    raise InputError(code=f"expand.blank.{user.kind}", values={"column": column, **user.values()},
                     file=str(table.path), row=table.source_rows[index],
                     column=table.headers.get(column, column),
                     expected=Message("expand.blank.expected"), hint=Message("expand.blank.hint"))


def _label(rule: Rule, where: Where, stars: tuple[tuple[str, str], ...]) -> str:
    """``region 天津 share``; ``portfolio risk [district=静海区]``; ``avg(risk) where …``."""
    if _is_shorthand(rule):
        column, values = where[0]
        return f"{column} {describe_condition(values)} {rule.measure}"
    measure = rule.measure_text
    fixed = tuple((c, v) for c, v in rule.where if v != STAR)
    base = rule.name or (f"{measure} where {_describe_where(fixed)}" if fixed
                         else f"{measure} (all rows)" if not stars else measure)
    if stars:
        base += " [" + ", ".join(f"{c}={v}" for c, v in stars) + "]"
    return base


def caption(rule: Rule, where: Where, stars: tuple[tuple[str, str], ...], number: int = 1
            ) -> Caption:
    """The caption of the line ``rule`` makes for ``where`` (``stars``: the values ``"*"``
    took), the same facts :func:`_label` writes in words."""
    if rule.ratio is not None:
        measure = tuple((str(p.kind), p.expression) for p in rule.ratio)
    else:
        measure = ((str(rule.measure), rule.column),)
    if _is_shorthand(rule):
        column, values = where[0]
        return Caption(CaptionKind.SHORTHAND, subject=column, value=values, measure=measure,
                       number=number)
    if rule.name:
        return Caption(CaptionKind.NAMED, subject=rule.name, measure=measure, rows=stars,
                       number=number)
    fixed = tuple((c, v) for c, v in rule.where if v != STAR)
    return Caption(CaptionKind.GENERAL, measure=measure, where=fixed, rows=stars,
                   number=number)


def _unique(label: str, taken: set[str]) -> tuple[str, int]:
    """``label``, or ``label #k`` with the first k from 2 not taken; and k (1: as is)."""
    candidate, k = label, 1
    while candidate in taken:
        k += 1
        candidate = f"{label} #{k}"
    taken.add(candidate)
    return candidate, k


def _describe_where(where: Where) -> str:
    return ", ".join(f"{column}={describe_condition(values)}" for column, values in where)


def _blank(table: Table, column: str) -> np.ndarray:
    series = table.frame[column]
    if column in table.numeric_columns:
        return series.isna().to_numpy(dtype=bool)
    return (series.isna() | (series.astype(str).str.strip() == "")).to_numpy(dtype=bool)


def _as_text(value: object) -> str:
    """A cell as a where value: whole floats without ``.0`` (2024.0 → "2024")."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _listed(code: str, values: Iterable[object], **more: str) -> Message:
    """What is expected: ``code`` with the first ``SHOWN`` of ``values`` (``items``), or
    ``code.more`` with their count as well when there are more."""
    items = [str(v) for v in values]
    shown = {"items": ", ".join(items[:SHOWN]), "count": len(items), **more}
    return Message(code + (".more" if len(items) > SHOWN else ""), shown)


def _did_you_mean(close: str) -> Message:
    return Message("expand.did_you_mean", {"close": close})


def _not_number_hint(table: Table, column: str) -> Message | None:
    """Name the first cell of a text column that keeps it from being numeric."""
    if column not in table.frame.columns:
        return None
    cells = table.frame[column].fillna("").astype(str).str.strip().to_numpy(dtype=str)
    values, bad = parse_numbers(cells)
    if not bad.any() or not np.isfinite(values).any():    # clean, or a true text column
        return None
    i = int(bad.argmax())
    return Message("expand.not_number.hint",
                   {"row": table.source_rows[i], "table": str(table.path), "cell": str(cells[i]),
                    "header": table.headers.get(column, column)})


def _column_hint(column: str, table: Table, among: Sequence[str] | None = None
                 ) -> Message | None:
    """Point at the canonical name of a header the planner wrote, or a close spelling."""
    for canonical, header in table.headers.items():
        if header.strip().casefold() == column.strip().casefold() and canonical != column:
            return Message("expand.use_column", {"canonical": canonical, "header": header})
    close = difflib.get_close_matches(column, list(among or table.frame.columns), n=1)
    return _did_you_mean(close[0]) if close else None
