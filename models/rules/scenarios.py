"""Scenario files: named sets of changes to the base policy and the sub-fund table.

A scenario file (TOML, format in the README, "Scenarios and sweeps") has an optional
``[base]`` and one ``[scenarios.NAME]`` table per scenario. Policy changes are applied to
the policy's nested dict (the TOML document's shape) and re-validated by the same
builder that validates a policy file (``models.rules.policy.policy_from_tree``), then
expanded against
the (possibly edited) table, so an override is checked exactly like the file. Data edits
act on a copy of the table's frame with vectorised masks.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
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
    Constraint,
    Policy,
    Table,
)
from fundopt.models.reading.files import load_toml
from fundopt.models.reading.inputs import PolicyTree, policy_file
from fundopt.models.reading.sheets import split_key
from fundopt.models.rules.expansion import expand, selection_mask
from fundopt.models.rules.keypaths import with_value
from fundopt.models.rules.policy import Locator, policy_from_tree

FILE_KEYS = ("base", "scenarios")
BASE_KEYS = ("policy", "description")
SCENARIO_KEYS = ("description", "set", "add_constraints", "remove_constraints", "edit")
EDIT_KEYS = ("where", "ids", "scale", "set", "status")
BASELINE = "baseline"
STATUS_VALUES = {"must": MUST, "必投": MUST, "exclude": EXCLUDE, "排除": EXCLUDE, "": ""}


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
