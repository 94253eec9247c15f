"""The one loader: the table, its policy, the expanded constraints.

Every command reads its inputs here. ``solve``, ``check``, ``explain`` and ``stability``
take them as they are (:func:`load_inputs`); ``compare`` and ``sweep`` vary them — a
scenario or a sweep point is the base policy (:class:`PolicyTree`) with some values
changed, validated by the same builder (``models.rules.scenarios``). The library may give the
table as a DataFrame and the policy as a dict (:func:`inputs_from`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fundopt.errors import InputError
from fundopt.models.domain import Constraint, Policy, Table
from fundopt.models.reading.sheets import sheet_tree
from fundopt.models.reading.table import read_table, table_from_frame
from fundopt.models.reading.units import in_policy_unit
from fundopt.models.rules.expansion import expand
from fundopt.models.rules.policy import TOP_KEYS, Locator, policy_from_tree, read_policy_tree

# How a policy given as a dict (the library) is named in messages and the manifest.
POLICY_DICT = "<policy dict>"


@dataclass(frozen=True)
class PolicyTree:
    """The policy as its nested dict, with what is needed to validate it and changed
    copies of it: where it came from, the spreadsheet rows of an ``.xlsx`` policy sheet's
    keys (for messages) and whether numbers may be typed as text there."""

    data: Mapping[str, Any]
    source: str
    lenient: bool = False           # values typed as text in an .xlsx policy sheet
    sha256: str | None = None
    rows: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """The policy's ``unit`` as written (its type is checked with the rest)."""
        unit = self.data.get("unit", Policy.unit)
        return unit if isinstance(unit, str) else Policy.unit

    def policy(self) -> Policy:
        """The validated policy (SPEC §3).

        Raises
        ------
        InputError
            Naming the file (or sheet and row) and key of the first mistake.
        """
        return policy_from_tree(self.data, Locator(self.source, self.rows, self.lenient),
                                self.sha256)


@dataclass(frozen=True)
class Inputs:
    """What one run reads: the table (in the policy's unit), the policy, its constraints
    expanded against the table, every file read (outputs must never replace one) and the
    policy as a tree (to vary it: ``Problem.solve(policy_changes=...)``)."""

    table: Table
    policy: Policy
    constraints: tuple[Constraint, ...]
    files: tuple[Path, ...]
    base: PolicyTree | None = None


def policy_path_for(table_path: Path) -> Path:
    """``inputs/2024.csv`` → ``inputs/2024.toml`` (SPEC §3)."""
    return table_path.with_suffix(".toml")


def policy_file(table: Table, option: Path | None = None, base: Path | None = None
                ) -> Path | None:
    """The policy file of a run: a scenario file's ``[base] policy``, else ``--policy``,
    else ``<stem>.toml`` beside the table, else None (the ``.xlsx`` table's own sheets)."""
    if base is not None:
        return base
    if option is not None:
        return option
    beside = policy_path_for(table.path)
    # lexists: a broken link or a link loop beside the table is reported, not skipped
    return beside if os.path.lexists(beside) else None


def load_base(table: Table, path: Path | None) -> tuple[PolicyTree, Policy]:
    """The policy of ``table`` — the TOML file ``path``, else the table's ``policy`` and
    ``constraints`` sheets — as a tree, and validated.

    Raises
    ------
    InputError
        Anything wrong in the policy, or no policy at all.
    """
    if path is not None:
        data, sha256 = read_policy_tree(path)
        tree = PolicyTree(data, str(path), sha256=sha256)
    elif table.policy_sheet is not None:
        source = f"{table.path}[policy]"
        data, rows = sheet_tree(table.policy_sheet, table.constraints_sheet, source, TOP_KEYS)
        tree = PolicyTree(data, source, lenient=True, rows=rows)
    else:
        beside = policy_path_for(table.path).name
        raise InputError(code="input.inputs.no_policy", values={"beside": beside},
                         file=str(table.path))
    return tree, tree.policy()


def policy_tree(table: Table, path: Path | None) -> PolicyTree:
    """The policy of ``table`` as a tree, validated (see :func:`load_base`)."""
    return load_base(table, path)[0]


def load_inputs(table_path: Path, policy_path: Path | None = None,
                sheet: str | None = None) -> Inputs:
    """Read the table and its policy, convert the table to the policy's unit and expand
    the policy against the table.

    The policy is ``policy_path`` if given, else ``<stem>.toml`` beside the table, else the
    ``policy`` / ``constraints`` sheets of an ``.xlsx`` table. ``sheet`` is ``--sheet``.

    Raises
    ------
    InputError
        Anything wrong in either file, or no policy found.
    """
    table = read_table(table_path, sheet)
    path = policy_file(table, policy_path)
    return _inputs(table, *load_base(table, path), (table_path, *([path] if path else [])))


def inputs_from(table: Path | pd.DataFrame, policy: Path | Mapping[str, Any] | None = None,
                sheet: str | None = None) -> Inputs:
    """:func:`load_inputs` for the library: the table may also be a DataFrame (validated
    as a ``.csv`` file is) and the policy a dict shaped like the TOML file (validated by
    the same builder; messages name it ``<policy dict>``).

    Raises
    ------
    InputError
        As :func:`load_inputs`; a DataFrame without a policy.
    """
    if not isinstance(table, pd.DataFrame) and not isinstance(policy, Mapping):
        return load_inputs(Path(table), policy, sheet)
    read, files = read_any_table(table, sheet)
    if isinstance(policy, Mapping):
        tree = PolicyTree(dict(policy), POLICY_DICT)
        return _inputs(read, tree, tree.policy(), tuple(files))
    if policy is None:
        raise InputError(code="input.inputs.no_policy_for_frame", column="policy")
    return _inputs(read, *load_base(read, Path(policy)), (*files, Path(policy)))


def read_any_table(table: Path | pd.DataFrame, sheet: str | None = None
                   ) -> tuple[Table, list[Path]]:
    """A table file (``sheet`` of an ``.xlsx``) or a DataFrame, validated alike, and the
    files it was read from (none for a DataFrame)."""
    if isinstance(table, pd.DataFrame):
        return table_from_frame(table), []
    return read_table(Path(table), sheet), [Path(table)]


def _inputs(table: Table, tree: PolicyTree, policy: Policy, files: tuple[Path, ...]
            ) -> Inputs:
    table = in_policy_unit(table, policy.unit)
    if policy.uncertainty is not None:
        from fundopt.models.rules.uncertainty import with_panel_score

        table = with_panel_score(table, policy)
    return Inputs(table, policy, expand(policy, table), files, tree)
