"""Key paths into a policy (``region.河北.min_share``, ``constraints.risk cap.max``,
``limits[0].min_stake``): what ``sweep --param``, a scenario's ``set`` and
``Problem.solve(policy_changes=...)`` change, applied to the policy's nested dict (the
TOML document's shape) before it is validated again."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.reading.sheets import split_key

OBJECTIVE_KINDS = ("maximize", "minimize", "weights")
# An array's entry by position: constraints[0].max, limits[1].min_stake
_INDEXED = re.compile(r"^(constraints|limits)\[(\d+)\]\.(\w+)$")


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
