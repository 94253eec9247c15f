"""Find and load everything one run needs: the table, its policy, the expanded constraints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fundopt.errors import InputError
from fundopt.models.domain import Constraint, Policy, Table
from fundopt.models.policy import (
    Locator,
    expand,
    load_policy,
    policy_from_sheets,
    policy_from_tree,
)
from fundopt.models.table import read_table, table_from_frame
from fundopt.models.units import in_policy_unit

# How a policy given as a dict (the library) is named in messages and the manifest.
POLICY_DICT = "<policy dict>"


@dataclass(frozen=True)
class Inputs:
    """What one run reads: the table (in the policy's unit), the policy, its constraints
    expanded against the table, and every file read (outputs must never replace one).
    ``policy_data`` is the policy as a dict when it was given as one (the library)."""

    table: Table
    policy: Policy
    constraints: tuple[Constraint, ...]
    files: tuple[Path, ...]
    policy_data: Mapping[str, Any] | None = None


def policy_path_for(table_path: Path) -> Path:
    """``inputs/2024.csv`` → ``inputs/2024.toml`` (SPEC §3)."""
    return table_path.with_suffix(".toml")


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
    files = [table_path]
    # lexists: a broken link or a link loop beside the table is reported, not skipped
    if policy_path is None and os.path.lexists(policy_path_for(table_path)):
        policy_path = policy_path_for(table_path)
    if policy_path is not None:
        policy = load_policy(policy_path)
        files.append(policy_path)
    elif table.policy_sheet is not None:
        policy = policy_from_sheets(table.policy_sheet, table.constraints_sheet,
                                    source=f"{table_path}[policy]")
    else:
        raise InputError(
            f"no policy found: expected {policy_path_for(table_path).name} beside the table",
            file=str(table_path),
            hint="Try --policy to point at the policy file, e.g. --policy inputs/2024.toml",
            message_zh=f"找不到政策文件：应在表格旁放置 {policy_path_for(table_path).name}",
            hint_zh="可用 --policy 指定政策文件，例如 --policy inputs/2024.toml",
        )
    table = in_policy_unit(table, policy.unit)
    return Inputs(table, policy, expand(policy, table), tuple(files))


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
        return load_inputs(Path(table), None if policy is None else Path(policy), sheet)
    if isinstance(table, pd.DataFrame):
        read, files = table_from_frame(table), []
    else:
        read, files = read_table(Path(table), sheet), [Path(table)]
    if isinstance(policy, Mapping):
        rules = policy_from_tree(policy, Locator(POLICY_DICT), None)
    elif policy is not None:
        rules = load_policy(Path(policy))
        files.append(Path(policy))
    else:
        raise InputError("no policy given for a DataFrame table", column="policy",
                         expected="a policy file path or a dict shaped like the policy file",
                         message_zh="DataFrame 表格未给出政策",
                         expected_zh="政策文件路径，或与政策文件结构相同的字典")
    read = in_policy_unit(read, rules.unit)
    return Inputs(read, rules, expand(rules, read), tuple(files),
                  dict(policy) if isinstance(policy, Mapping) else None)
