"""Find and load everything one run needs: the table, its policy, the expanded constraints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fundopt.errors import InputError
from fundopt.models.domain import Constraint, Policy, Table
from fundopt.models.policy import expand, load_policy, policy_from_sheets
from fundopt.models.table import read_table
from fundopt.models.units import in_policy_unit


@dataclass(frozen=True)
class Inputs:
    table: Table
    policy: Policy
    constraints: tuple[Constraint, ...]
    files: tuple[Path, ...]          # every file read (outputs must never replace one)


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
    if policy.uncertainty is not None:
        from fundopt.models.uncertainty import with_panel_score

        table = with_panel_score(table, policy)
    return Inputs(table, policy, expand(policy, table), tuple(files))
