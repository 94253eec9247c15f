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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.models.domain import EXCLUDE, ID, MAX_TICKET, MUST, STATUS, Constraint, Policy, Table
from fundopt.models.expansion import selection_mask
from fundopt.models.files import load_toml
from fundopt.models.limits import MAX_SWEEP_POINTS
from fundopt.models.policy import (
    TOP_KEYS,
    Locator,
    expand,
    policy_from_tree,
    read_policy_tree,
)
from fundopt.models.sheets import sheet_tree, split_key

FILE_KEYS = ("base", "scenarios")
BASE_KEYS = ("policy", "description")
SCENARIO_KEYS = ("description", "set", "add_constraints", "remove_constraints", "edit")
EDIT_KEYS = ("where", "ids", "scale", "set", "status")
BASELINE = "baseline"
STATUS_VALUES = {"must": MUST, "必投": MUST, "exclude": EXCLUDE, "排除": EXCLUDE, "": ""}
OBJECTIVE_KINDS = ("maximize", "minimize", "weights")
SWEEP_HINT = ("--param takes a numeric policy key path, e.g. budget, min_deploy, "
              "region.河北.min_share or \"constraints.risk cap.max\".")


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


@dataclass(frozen=True)
class PolicyTree:
    """The base policy as its nested dict, with what is needed to validate a changed copy."""

    data: Mapping[str, Any]
    source: str
    lenient: bool = False           # values typed as text in an .xlsx policy sheet
    sha256: str | None = None

    @property
    def unit(self) -> str:
        """The policy's ``unit`` as written (its type is checked with the rest)."""
        unit = self.data.get("unit", Policy.unit)
        return unit if isinstance(unit, str) else Policy.unit


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
            raise InputError("base policy file not found", file=file, column="base.policy",
                             value=str(base_policy))
    scenarios = _mapping(data.get("scenarios", {}), "scenarios", file)
    if not scenarios:
        raise InputError("the file names no scenario", file=file, column="scenarios",
                         expected='one or more [scenarios."NAME"] tables')
    parsed = tuple(_scenario(str(name), value, file) for name, value in scenarios.items())
    description = _string(base["description"], "base.description", file) \
        if "description" in base else ""
    return ScenarioFile(path, hashlib.sha256(raw).hexdigest(), base_policy, description,
                        parsed)


def policy_tree(table: Table, policy_path: Path | None) -> PolicyTree:
    """The base policy as a nested dict: a TOML file, or the ``.xlsx`` table's sheets.

    Raises
    ------
    InputError
        The file cannot be read, or there is no policy.
    """
    if policy_path is not None:
        data, sha256 = read_policy_tree(policy_path)
        # validated as written first, so a mistake in the file reads as it does for solve
        policy_from_tree(data, Locator(str(policy_path)), sha256)
        return PolicyTree(data, str(policy_path), sha256=sha256)
    if table.policy_sheet is None:
        raise InputError("no policy found for the table", file=str(table.path),
                         hint="Try --policy to point at the policy file.")
    source = f"{table.path}[policy]"
    data, _ = sheet_tree(table.policy_sheet, table.constraints_sheet, source, TOP_KEYS)
    return PolicyTree(data, source, lenient=True)


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
        policy = build_policy(tree, base, str(file.path), f"scenario {scenario.name!r}")
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
    policy = policy_from_tree(base.data, Locator(base.source, lenient=base.lenient), base.sha256)
    prepared = [Prepared(BASELINE, file.description, table, policy, expand(policy, table))]
    return prepared + [prepare(s, file, table, base) for s in file.scenarios]


def base_policy_path(table: Table, file: ScenarioFile | None, option: Path | None
                     ) -> Path | None:
    """The base policy file: ``[base] policy``, else ``--policy``, else ``<stem>.toml``
    beside the table, else None (the ``.xlsx`` table's own policy sheets)."""
    if file is not None and file.base_policy is not None:
        return file.base_policy
    if option is not None:
        return option
    beside = table.path.with_suffix(".toml")
    # lexists: a broken link or a link loop beside the table is reported, not skipped
    return beside if os.path.lexists(beside) else None


def build_policy(tree: Mapping[str, Any], base: PolicyTree, file: str, context: str
                 ) -> Policy:
    """Validate a changed policy dict with the policy file's own builder.

    The policy keeps the base's ``source`` and hash for the manifest; errors name ``file``
    and start with ``context`` (``scenario '河北55'``).
    """
    try:
        policy = policy_from_tree(tree, Locator(file, lenient=base.lenient), base.sha256)
    except InputError as error:
        raise replace(error, file=file, row=None,
                      message=f"{context}: {error.message}") from error
    return replace(policy, source=base.source)


def sweep_values(start: float, stop: float, steps: int) -> tuple[float, ...]:
    """``steps`` evenly spaced values from ``start`` to ``stop`` (both included).

    Raises
    ------
    InputError
        An end that is not a finite number, or more than ``MAX_SWEEP_POINTS`` points.
    """
    for option, value in (("--from", start), ("--to", stop)):
        if not math.isfinite(value):
            raise InputError("not a finite number", column=option, value=value,
                             expected="a finite number", message_zh="不是有限数值",
                             expected_zh="有限数值")
    if not 2 <= steps <= MAX_SWEEP_POINTS:
        raise InputError("number of points out of range", column="--steps", value=steps,
                         expected=f"2 to {MAX_SWEEP_POINTS:,} points",
                         hint="A sweep solves one model per point; split a longer range.",
                         message_zh="点数超出范围",
                         expected_zh=f"2 至 {MAX_SWEEP_POINTS:,} 个点",
                         hint_zh="每个点求解一次模型；更长的区间请分段扫描。")
    return tuple(float(v) for v in np.linspace(start, stop, steps))


def sweep_policies(table: Table, base: PolicyTree, key: str, values: Sequence[float]
                   ) -> list[tuple[Policy, tuple[Constraint, ...]]]:
    """The base policy with ``key`` set to each value, validated and expanded.

    Raises
    ------
    InputError
        The key is not a numeric policy key path, or a value is out of its range; the
        message names the point (``sweep point budget = 45``).
    """
    out = []
    for value in values:
        context = f"sweep point {key} = {value:g}"
        try:
            tree = with_value(base.data, key, float(value), base.source)
            policy = build_policy(tree, base, base.source, context)
            out.append((policy, expand(policy, table)))
        except InputError as error:
            message = error.message if error.message.startswith(context) \
                else f"{context}: {error.message}"
            raise replace(error, message=message, hint=error.hint or SWEEP_HINT) from error
    return out


def with_value(tree: Mapping[str, Any], key: str, value: Any, file: str) -> dict[str, Any]:
    """A copy of the policy dict with one key path set (``region.河北.min_share``).

    Paths reach into general constraints by name: ``constraints.risk cap.max``. Setting
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
        raise InputError("malformed key path", file=file, column=key,
                         expected="a dotted key such as budget or region.天津.min_share")
    if parts[0] == "constraints":
        _set_constraint(out, parts, value, key, file)
        return out
    if parts[0] == "objective" and len(parts) > 1 and parts[1] in OBJECTIVE_KINDS:
        _switch_objective(out, parts[1])
    node = out
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InputError(f"{'.'.join(parts[: depth + 1])} is a value, not a table",
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
            raise InputError("max_ticket must stay > 0", file=file, column=edit.origin,
                             value=float(ticket[mask].min()), expected="a number > 0")
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
            raise InputError("constraints must be a list of tables", file=file,
                             column=f"{prefix}.add_constraints")
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
        raise InputError(f"nothing to remove: {target!r} is neither a constraint name nor a "
                         "key path of the policy", file=file, column=path, value=target,
                         expected="one of " + ", ".join(names) if names else
                         'a key path such as "region.天津"')
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
        raise InputError(f"the policy has no {array}[{index}] (entries count from 0)",
                         file=file, column=key,
                         expected=f"an index from 0 to {count - 1}" if count
                         else f"a policy with [[{array}]] entries",
                         message_zh=f"政策中没有 {array}[{index}]（从 0 开始计数）")
    entries[index][field] = value


def _set_constraint(tree: dict[str, Any], parts: list[str], value: Any, key: str,
                    file: str) -> None:
    general = tree.get("constraints", [])
    named = [c for c in general if isinstance(c, dict) and c.get("name") == parts[1]] \
        if len(parts) == 3 and isinstance(general, list) else []
    if not named:
        names = [str(c.get("name")) for c in general if isinstance(c, dict)] \
            if isinstance(general, list) else []
        raise InputError("no general constraint by that name", file=file, column=key,
                         expected='constraints.<name>.<min|max|...>, names: '
                         + (", ".join(names) or "none"))
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
            raise InputError(f"unknown column {column!r}", file=file,
                             column=f"{edit.origin}.where.{column}",
                             expected="one of " + ", ".join(map(str, frame.columns)))
    mask = selection_mask(table, edit.where)
    if edit.ids:
        ids = frame[ID].astype(str)
        missing = sorted(set(edit.ids) - set(ids))
        if missing:
            raise InputError("ids not in the table", file=file, column=f"{edit.origin}.ids",
                             value=missing)
        mask &= ids.isin(edit.ids).to_numpy(dtype=bool)
    if not mask.any():
        raise InputError("the edit matches no row", file=file, column=f"{edit.origin}.where",
                         value=dict(edit.where) or list(edit.ids),
                         hint="Check the spelling of the values against the table.")
    return mask


def _numeric_target(table: Table, column: str, path: str, file: str) -> None:
    if column not in table.frame.columns or column not in table.numeric_columns:
        numeric = sorted(table.numeric_columns)
        raise InputError(f"{column!r} is not a numeric column of the table", file=file,
                         column=path, value=column, expected="one of " + ", ".join(numeric))


def _named(error: InputError, file: ScenarioFile, scenario: Scenario) -> InputError:
    """The error as it names the scenario (and the scenario file, unless it is elsewhere)."""
    message = error.message
    if f"scenario {scenario.name!r}" not in message:
        message = f"scenario {scenario.name!r}: {message}"
    return replace(error, message=message, file=error.file or str(file.path))


def _scenario(name: str, value: Any, file: str) -> Scenario:
    prefix = f"scenarios.{name}"
    if name == BASELINE:
        raise InputError(f"{BASELINE!r} is the name of the unchanged base", file=file,
                         column=prefix, hint="Rename the scenario.")
    table = _mapping(value, prefix, file)
    _keys(table, SCENARIO_KEYS, prefix, file)
    sets = tuple(_flatten(_mapping(table.get("set", {}), f"{prefix}.set", file)))
    added = table.get("add_constraints", [])
    if not isinstance(added, list) or not all(isinstance(c, Mapping) for c in added):
        raise InputError("add_constraints must be a list of tables", file=file,
                         column=f"{prefix}.add_constraints",
                         expected='[{ name = "...", measure = "...", max = ... }]')
    removed = table.get("remove_constraints", [])
    if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
        raise InputError("remove_constraints must be a list of names", file=file,
                         column=f"{prefix}.remove_constraints",
                         expected='["risk cap", "region.天津"]')
    edits = table.get("edit", [])
    if not isinstance(edits, list):
        raise InputError("edit must be a list of tables", file=file, column=f"{prefix}.edit",
                         expected=f'[[scenarios."{name}".edit]]')
    description = _string(table["description"], f"{prefix}.description", file) \
        if "description" in table else ""
    return Scenario(name, description, sets, tuple(added), tuple(removed),
                    tuple(_edit(e, f"{prefix}.edit[{i}]", file)
                          for i, e in enumerate(edits, start=1)))


def _edit(value: Any, origin: str, file: str) -> Edit:
    table = _mapping(value, origin, file)
    _keys(table, EDIT_KEYS, origin, file)
    if ("where" in table) == ("ids" in table):
        raise InputError("an edit selects rows by exactly one of where or ids", file=file,
                         column=origin, expected='where = { category = "前沿技术" } or ids = [..]')
    where = tuple((str(col), tuple(str(v) for v in (vals if isinstance(vals, list) else [vals])))
                  for col, vals in _mapping(table.get("where", {}), f"{origin}.where",
                                            file).items())
    ids = table.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
        raise InputError("ids must be a list of ids", file=file, column=f"{origin}.ids",
                         value=ids)
    changes = [tuple((str(col), _float(v, f"{origin}.{kind}.{col}", file))
                     for col, v in _mapping(table.get(kind, {}), f"{origin}.{kind}",
                                            file).items()) for kind in ("scale", "set")]
    status = None
    if "status" in table:
        text = table["status"]
        if not isinstance(text, str) or text.strip().lower() not in STATUS_VALUES:
            raise InputError("unknown status", file=file, column=f"{origin}.status", value=text,
                             expected='"must", "exclude" or "" (clear)')
        status = STATUS_VALUES[text.strip().lower()]
    if not changes[0] and not changes[1] and status is None:
        raise InputError("the edit changes nothing", file=file, column=origin,
                         expected="scale, set or status")
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
        raise InputError(f"{path} must be a finite number", file=file, column=path, value=value)
    return float(value)


def _string(value: Any, path: str, file: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{path} must be text", file=file, column=path, value=value)
    return value


def _mapping(value: Any, path: str, file: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"{path} must be a table", file=file, column=path, value=value)
    return value


def _keys(table: Mapping[str, Any], accepted: Sequence[str], prefix: str, file: str) -> None:
    for key in table:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), accepted, n=1)
            raise InputError(f"unknown key {key!r}" + (f"; did you mean {close[0]!r}?"
                                                       if close else ""),
                             file=file, column=f"{prefix}.{key}" if prefix else str(key),
                             expected="one of " + ", ".join(accepted))
