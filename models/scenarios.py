"""Scenario files: named sets of changes to the base policy and the sub-fund table.

A scenario file (TOML, format in the README, "Scenarios and sweeps") has an optional
``[base]`` and one ``[scenarios.NAME]`` table per scenario. Policy changes are applied to
the policy's nested dict (the TOML document's shape) and re-validated by the same
builder that validates a policy file (``models.policy.policy_from_tree``), then expanded against
the (possibly edited) table, so an override is checked exactly like the file. Data edits
act on a copy of the table's frame with vectorised masks.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    EXCLUDE,
    ID,
    MAX_TICKET,
    MUST,
    STATUS,
    Caption,
    CaptionKind,
    Constraint,
    Policy,
    Table,
)
from fundopt.models.expansion import expand, selection_mask
from fundopt.models.files import load_toml
from fundopt.models.inputs import PolicyTree, policy_file
from fundopt.models.limits import MAX_SWEEP_POINTS
from fundopt.models.policy import Locator, policy_from_tree
from fundopt.models.sheets import split_key

FILE_KEYS = ("base", "scenarios")
BASE_KEYS = ("policy", "description")
SCENARIO_KEYS = ("description", "set", "add_constraints", "remove_constraints", "edit")
EDIT_KEYS = ("where", "ids", "scale", "set", "status")
BASELINE = "baseline"
STATUS_VALUES = {"must": MUST, "必投": MUST, "exclude": EXCLUDE, "排除": EXCLUDE, "": ""}
OBJECTIVE_KINDS = ("maximize", "minimize", "weights")
SWEEP_HINT = Message("hint.sweep_param")


@dataclass(frozen=True)
class Edit:
    """One ``[[scenarios.NAME.edit]]``: rows by ``where`` or ``ids``, and what to change."""

    where: tuple[tuple[str, tuple[str, ...]], ...]
    ids: tuple[str, ...]
    scale: tuple[tuple[str, float], ...]
    set: tuple[tuple[str, float], ...]
    status: str | None
    origin: str                     # "scenarios.NAME.edit[1]"


@dataclass(frozen=True)
class Scenario:
    """One named scenario, structurally checked; values are checked when it is applied."""

    name: str
    description: str
    set: tuple[tuple[str, Any], ...]          # (key path, value)
    add_constraints: tuple[Mapping[str, Any], ...]
    remove_constraints: tuple[str, ...]
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class ScenarioFile:
    path: Path
    sha256: str
    base_policy: Path | None        # [base] policy, resolved against the scenario file
    description: str
    scenarios: tuple[Scenario, ...]


@dataclass(frozen=True)
class Prepared:
    """A scenario ready to solve, or the input error that stops it (``error``)."""

    name: str
    description: str
    table: Table | None = None
    policy: Policy | None = None
    constraints: tuple[Constraint, ...] = ()
    error: InputError | None = None


def load_scenarios(path: Path) -> ScenarioFile:
    """Read and structurally check a scenario file.

    Parameters
    ----------
    path
        The ``.toml`` scenario file.

    Returns
    -------
    ScenarioFile
        Scenarios in file order; values are validated when applied (:func:`prepare`).

    Raises
    ------
    InputError
        Unreadable or invalid TOML, an unknown key, a value of the wrong type, the
        reserved name ``baseline``; the message names the file, scenario and key.
    """
    data, raw = load_toml(path, "scenario")
    file = str(path)
    _keys(data, FILE_KEYS, "", file)
    base = _mapping(data.get("base", {}), "base", file)
    _keys(base, BASE_KEYS, "base", file)
    base_policy = None
    if "policy" in base:
        base_policy = path.parent / _string(base["policy"], "base.policy", file)
        if not os.path.lexists(base_policy):
            raise InputError(code="error.base_policy_missing", file=file,
                             column="base.policy", value=str(base_policy))
    scenarios = _mapping(data.get("scenarios", {}), "scenarios", file)
    if not scenarios:
        raise InputError(code="error.no_scenario", file=file, column="scenarios",
                         expected=Message("expected.scenario_tables"))
    parsed = tuple(_scenario(str(name), value, file) for name, value in scenarios.items())
    description = _string(base["description"], "base.description", file) \
        if "description" in base else ""
    return ScenarioFile(path, hashlib.sha256(raw).hexdigest(), base_policy, description,
                        parsed)


def prepare(scenario: Scenario, file: ScenarioFile, table: Table, base: PolicyTree
            ) -> Prepared:
    """Apply a scenario to the base policy and table; an input error is kept, not raised.

    Policy changes apply in this order: ``remove_constraints``, ``set``,
    ``add_constraints``; then the data edits in file order; then the changed policy is
    validated and expanded against the changed table.
    """
    try:
        tree = _apply_policy(scenario, base.data, str(file.path))
        edited = apply_edits(table, scenario.edits, str(file.path))
        policy = build_policy(tree, base, str(file.path), _context(scenario))
        # Expanded as written in the scenario file, so its errors name that file.
        constraints = expand(replace(policy, source=str(file.path)), edited)
        return Prepared(scenario.name, scenario.description, edited, policy, constraints)
    except InputError as error:
        return Prepared(scenario.name, scenario.description, error=_named(error, file, scenario))


def prepare_all(file: ScenarioFile, table: Table, base: PolicyTree) -> list[Prepared]:
    """The baseline (the base policy, unchanged table) and every scenario, in file order.

    Raises
    ------
    InputError
        Only if the base policy itself is invalid; a bad scenario is kept in its
        ``Prepared.error`` so it never hides the others.
    """
    policy = base.policy()
    prepared = [Prepared(BASELINE, file.description, table, policy, expand(policy, table))]
    return prepared + [prepare(s, file, table, base) for s in file.scenarios]


def base_policy_path(table: Table, file: ScenarioFile | None, option: Path | None
                     ) -> Path | None:
    """The base policy file: ``[base] policy``, else ``--policy``, else ``<stem>.toml``
    beside the table, else None (the ``.xlsx`` table's own policy sheets)."""
    return policy_file(table, option, file.base_policy if file is not None else None)


def build_policy(tree: Mapping[str, Any], base: PolicyTree, file: str, context: Message
                 ) -> Policy:
    """Validate a changed policy dict with the policy file's own builder.

    The policy keeps the base's ``source`` and hash for the manifest; errors name ``file``
    and start with ``context`` (``scenario '河北55'``).
    """
    try:
        policy = policy_from_tree(tree, Locator(file, lenient=base.lenient), base.sha256)
    except InputError as error:
        raise in_context(replace(error, file=file, row=None), context) from error
    return replace(policy, source=base.source)


def in_context(error: InputError, context: Message) -> InputError:
    """``error`` as it names what it is about (``scenario '河北55'``), once."""
    if context in error.context:
        return error
    return replace(error, context=(context, *error.context))


def one_of(items: Iterable[str]) -> Message:
    """``expected``: one of these keys, columns or names."""
    return Message("expected.one_of", {"items": ", ".join(items)})


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


# A general constraint by position: constraints[0].max
_INDEXED = re.compile(r"constraints\[(\d+)\]\.(\w+)")


def with_value(tree: Mapping[str, Any], key: str, value: Any, file: str) -> dict[str, Any]:
    """A copy of the policy dict with one key path set (``region.河北.min_share``).

    Paths reach into general constraints by name, ``constraints.risk cap.max``, or by
    position, ``constraints[0].max``. Setting
    one of ``objective.maximize`` / ``minimize`` / ``weights.COL`` replaces the objective's
    kind. Whether the path is a policy key at all is checked by the policy builder.

    Raises
    ------
    InputError
        A malformed path, a path through a value that is not a table, or a constraint name
        that does not exist.
    """
    out = copy.deepcopy(dict(tree))
    indexed = _INDEXED.match(key.strip())
    if indexed:        # limits[0].min_stake: the array's entry by index, from 0 (SPEC §14)
        _set_indexed(out, indexed[1], int(indexed[2]), indexed[3], value, key, file)
        return out
    parts = split_key(key)
    if not parts:
        raise InputError(code="error.malformed_key_path", file=file, column=key,
                         expected=Message("expected.key_path"))
    if parts[0] == "constraints":
        _set_constraint(out, parts, value, key, file)
        return out
    if parts[0] == "objective" and len(parts) > 1 and parts[1] in OBJECTIVE_KINDS:
        _switch_objective(out, parts[1])
    node = out
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InputError(code="error.value_not_table",
                             values={"path": ".".join(parts[: depth + 1])},
                             file=file, column=key, value=child)
        node = child
    node[parts[-1]] = value
    return out


def apply_edits(table: Table, edits: Sequence[Edit], file: str) -> Table:
    """The table with the data edits applied to a copy of its frame.

    Raises
    ------
    InputError
        An unknown column or id, a non-numeric target column, an edit that selects no row,
        or a value that breaks the table's rules (``max_ticket`` must stay > 0).
    """
    if not edits:
        return table
    frame = table.frame.copy()
    for edit in edits:
        edited = replace(table, frame=frame)
        mask = _edit_mask(edited, edit, file)
        for column, factor in edit.scale:
            _numeric_target(edited, column, f"{edit.origin}.scale.{column}", file)
            frame[column] = np.where(mask, frame[column].to_numpy(float) * factor,
                                     frame[column].to_numpy(float))
        for column, value in edit.set:
            _numeric_target(edited, column, f"{edit.origin}.set.{column}", file)
            frame[column] = np.where(mask, value, frame[column].to_numpy(float))
        if edit.status is not None:
            frame[STATUS] = frame[STATUS].mask(mask, edit.status)
        ticket = frame[MAX_TICKET].to_numpy(float)
        if (mask & ~(ticket > 0)).any():
            raise InputError(code="error.max_ticket_positive", file=file,
                             column=edit.origin, value=float(ticket[mask].min()),
                             expected=Message("expected.positive_number"))
    return replace(table, frame=frame)


def _apply_policy(scenario: Scenario, base: Mapping[str, Any], file: str) -> dict[str, Any]:
    tree = copy.deepcopy(dict(base))
    prefix = f"scenarios.{scenario.name}"
    for target in scenario.remove_constraints:
        tree = _removed(tree, target, f"{prefix}.remove_constraints", file)
    for key, value in scenario.set:
        tree = with_value(tree, key, value, file)
    if scenario.add_constraints:
        existing = tree.get("constraints", [])
        if not isinstance(existing, list):
            raise InputError(code="error.list_of_tables", values={"name": "constraints"},
                             file=file, column=f"{prefix}.add_constraints")
        tree["constraints"] = [*existing, *(dict(c) for c in scenario.add_constraints)]
    return tree


def _removed(tree: dict[str, Any], target: str, path: str, file: str) -> dict[str, Any]:
    """``tree`` without the general constraint named ``target``, or the key path."""
    general = tree.get("constraints", [])
    if isinstance(general, list):
        kept = [c for c in general if not (isinstance(c, Mapping) and c.get("name") == target)]
        if len(kept) < len(general):
            tree["constraints"] = kept
            return tree
    parts = split_key(target)
    node: Any = tree
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not parts or not isinstance(node, dict) or parts[-1] not in node:
        names = [str(c.get("name")) for c in general if isinstance(c, Mapping) and "name" in c]
        raise InputError(code="error.nothing_to_remove", values={"target": target},
                         file=file, column=path, value=target,
                         expected=one_of(names) if names
                         else Message("expected.key_path_example"))
    del node[parts[-1]]
    return tree


_INDEXED = re.compile(r"^(constraints|limits)\[(\d+)\]\.(\w+)$")


def _set_indexed(tree: dict[str, Any], array: str, index: int, field: str, value: Any,
                 key: str, file: str) -> None:
    """``constraints[0].max`` / ``limits[1].min_stake``: a bound of one array entry."""
    entries = tree.get(array)
    if not isinstance(entries, list) or not 0 <= index < len(entries) \
            or not isinstance(entries[index], dict):
        count = len(entries) if isinstance(entries, list) else 0
        raise InputError(code="input.scenarios.no_entry", values={"array": array, "index": index},
                         file=file, column=key,
                         expected=Message("input.scenarios.index_range", {"last": count - 1})
                         if count else Message("input.scenarios.entries", {"array": array}))
    entries[index][field] = value


def _set_constraint(tree: dict[str, Any], parts: list[str], value: Any, key: str,
                    file: str) -> None:
    general = tree.get("constraints", [])
    named = [c for c in general if isinstance(c, dict) and c.get("name") == parts[1]] \
        if len(parts) == 3 and isinstance(general, list) else []
    if not named:
        names = [str(c.get("name")) for c in general if isinstance(c, dict)] \
            if isinstance(general, list) else []
        raise InputError(code="error.no_constraint_named", file=file, column=key,
                         expected=Message("expected.constraint_key_path",
                                          {"names": ", ".join(names)}) if names
                         else Message("expected.constraint_key_path_none"))
    named[0][parts[2]] = value


def _switch_objective(tree: dict[str, Any], kind: str) -> None:
    """Setting one kind of objective drops the others (weights keep the old sense)."""
    objective = tree.get("objective")
    if not isinstance(objective, dict):
        return
    sense = "minimize" if "minimize" in objective else objective.get("sense")
    for other in OBJECTIVE_KINDS:
        if other != kind and other in objective:
            del objective[other]
    if kind == "weights" and sense is not None:
        objective.setdefault("sense", sense)
    elif kind != "weights":
        objective.pop("sense", None)


def _edit_mask(table: Table, edit: Edit, file: str) -> np.ndarray:
    frame = table.frame
    for column, _ in edit.where:
        if column not in frame.columns:
            raise InputError(code="error.unknown_column", values={"column": column},
                             file=file, column=f"{edit.origin}.where.{column}",
                             expected=one_of(map(str, frame.columns)))
    mask = selection_mask(table, edit.where)
    if edit.ids:
        ids = frame[ID].astype(str)
        missing = sorted(set(edit.ids) - set(ids))
        if missing:
            raise InputError(code="error.ids_not_in_table", file=file,
                             column=f"{edit.origin}.ids", value=missing)
        mask &= ids.isin(edit.ids).to_numpy(dtype=bool)
    if not mask.any():
        raise InputError(code="error.edit_matches_nothing", file=file,
                         column=f"{edit.origin}.where", value=dict(edit.where) or list(edit.ids),
                         hint=Message("hint.check_spelling"))
    return mask


def _numeric_target(table: Table, column: str, path: str, file: str) -> None:
    if column not in table.frame.columns or column not in table.numeric_columns:
        numeric = sorted(table.numeric_columns)
        raise InputError(code="error.not_numeric_column", values={"column": column},
                         file=file, column=path, value=column, expected=one_of(numeric))


def _named(error: InputError, file: ScenarioFile, scenario: Scenario) -> InputError:
    """The error as it names the scenario (and the scenario file, unless it is elsewhere)."""
    return in_context(replace(error, file=error.file or str(file.path)), _context(scenario))


def _context(scenario: Scenario) -> Message:
    return Message("context.scenario", {"name": scenario.name})


def _scenario(name: str, value: Any, file: str) -> Scenario:
    prefix = f"scenarios.{name}"
    if name == BASELINE:
        raise InputError(code="error.baseline_reserved", values={"name": BASELINE},
                         file=file, column=prefix, hint=Message("hint.rename_scenario"))
    table = _mapping(value, prefix, file)
    _keys(table, SCENARIO_KEYS, prefix, file)
    sets = tuple(_flatten(_mapping(table.get("set", {}), f"{prefix}.set", file)))
    added = table.get("add_constraints", [])
    if not isinstance(added, list) or not all(isinstance(c, Mapping) for c in added):
        raise InputError(code="error.list_of_tables", values={"name": "add_constraints"},
                         file=file, column=f"{prefix}.add_constraints",
                         expected='[{ name = "...", measure = "...", max = ... }]')
    removed = table.get("remove_constraints", [])
    if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
        raise InputError(code="error.list_of_names", values={"name": "remove_constraints"},
                         file=file, column=f"{prefix}.remove_constraints",
                         expected='["risk cap", "region.天津"]')
    edits = table.get("edit", [])
    if not isinstance(edits, list):
        raise InputError(code="error.list_of_tables", values={"name": "edit"}, file=file,
                         column=f"{prefix}.edit", expected=f'[[scenarios."{name}".edit]]')
    description = _string(table["description"], f"{prefix}.description", file) \
        if "description" in table else ""
    return Scenario(name, description, sets, tuple(added), tuple(removed),
                    tuple(_edit(e, f"{prefix}.edit[{i}]", file)
                          for i, e in enumerate(edits, start=1)))


def _edit(value: Any, origin: str, file: str) -> Edit:
    table = _mapping(value, origin, file)
    _keys(table, EDIT_KEYS, origin, file)
    if ("where" in table) == ("ids" in table):
        raise InputError(code="error.edit_where_or_ids", file=file, column=origin,
                         expected=Message("expected.where_or_ids"))
    where = tuple((str(col), tuple(str(v) for v in (vals if isinstance(vals, list) else [vals])))
                  for col, vals in _mapping(table.get("where", {}), f"{origin}.where",
                                            file).items())
    ids = table.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
        raise InputError(code="error.ids_list", file=file, column=f"{origin}.ids",
                         value=ids)
    changes = [tuple((str(col), _float(v, f"{origin}.{kind}.{col}", file))
                     for col, v in _mapping(table.get(kind, {}), f"{origin}.{kind}",
                                            file).items()) for kind in ("scale", "set")]
    status = None
    if "status" in table:
        text = table["status"]
        if not isinstance(text, str) or text.strip().lower() not in STATUS_VALUES:
            raise InputError(code="error.unknown_status", file=file,
                             column=f"{origin}.status", value=text,
                             expected=Message("expected.status_values"))
        status = STATUS_VALUES[text.strip().lower()]
    if not changes[0] and not changes[1] and status is None:
        raise InputError(code="error.edit_changes_nothing", file=file, column=origin,
                         expected=Message("expected.edit_kinds"))
    return Edit(where, tuple(str(i) for i in ids), changes[0], changes[1], status, origin)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{objective = {weights = {score = 0.7}}}`` → [("objective.weights.score", 0.7)].

    Keys that hold a dot (``"region.河北.min_share"``) are paths already.
    """
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out += _flatten(value, path) if isinstance(value, Mapping) and value else \
            [(path, value)]
    return out


def _float(value: Any, path: str, file: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not np.isfinite(float(value)):
        raise InputError(code="error.must_be_finite_number", values={"path": path},
                         file=file, column=path, value=value)
    return float(value)


def _string(value: Any, path: str, file: str) -> str:
    if not isinstance(value, str):
        raise InputError(code="error.must_be_text", values={"path": path}, file=file,
                         column=path, value=value)
    return value


def _mapping(value: Any, path: str, file: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(code="error.must_be_table", values={"path": path}, file=file,
                         column=path, value=value)
    return value


def _keys(table: Mapping[str, Any], accepted: Sequence[str], prefix: str, file: str) -> None:
    for key in table:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), accepted, n=1)
            raise InputError(code="error.unknown_key_close" if close else "error.unknown_key",
                             values={"key": key, **({"close": close[0]} if close else {})},
                             file=file, column=f"{prefix}.{key}" if prefix else str(key),
                             expected=one_of(accepted))
