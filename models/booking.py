"""Turn a ``solve`` result file (PLAN.json) into a round for the book (SPEC §9).

A plan is booked only as it was solved: its status must be optimal or feasible and the
table and policy it names must still hash to what the plan recorded. The table is read
again so that every input column of each funded row is kept in the book.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from fundopt.errors import InputError
from fundopt.models.book import NewRound, RoundInfo, now_text
from fundopt.models.domain import ID
from fundopt.models.table import read_table

BOOKABLE = ("optimal", "feasible")


def round_from_plan(plan_path: Path, name: str, note: str = "") -> NewRound:
    """Read ``PLAN.json`` and check it against its input files.

    Parameters
    ----------
    plan_path
        A ``.json`` written by ``fundopt solve -o``.
    name
        The round's name in the book (``2024``).
    note
        Free text kept with the round.

    Returns
    -------
    NewRound
        The funded rows with every input column, and the plan's facts.

    Raises
    ------
    InputError
        The file is not a solve result, its status is not optimal or feasible, an input
        file is missing or its SHA-256 no longer matches, or the allocations do not match
        the table.
    """
    file = str(plan_path)
    if not name.strip():
        raise InputError("the round name is empty", column="--round",
                         expected="a name such as 2024", message_zh="轮次名称为空")
    plan = _load(plan_path)
    status = plan.get("status")
    if status not in BOOKABLE:
        raise InputError(f"only an optimal or feasible plan can be booked; this plan is "
                         f"{status!r}", file=file, column="status", value=status,
                         expected="optimal or feasible",
                         message_zh=f"只能登记最优或可行的方案；该方案状态为 {status!r}",
                         expected_zh="optimal 或 feasible")
    manifest = _mapping(plan.get("manifest"), "manifest", file)
    table_path = _input_file(manifest, "input", plan_path)
    _check_hash(table_path, manifest, "input_sha256", file)
    policy_path: Path | None = None
    if manifest.get("policy_sha256") is not None:
        policy_path = _input_file(manifest, "policy", plan_path)
        _check_hash(policy_path, manifest, "policy_sha256", file)
    sheet = manifest.get("sheet")
    table = read_table(table_path, sheet if isinstance(sheet, str) else None)
    amounts = _amounts(plan, table.frame[ID].astype(str).tolist(), file)
    funded = np.flatnonzero(amounts > 0)
    rows = table.frame.iloc[funded].copy()
    rows.insert(0, "position", funded)
    rows["amount"] = amounts[funded]
    columns = tuple(str(c) for c in table.frame.columns)
    info = RoundInfo(
        name=name.strip(), booked_at=now_text(), note=note, status=str(status),
        objective=(None if plan.get("objective") is None
                   else _number(plan.get("objective"), "objective", file)),
        unit=_text(plan.get("unit"), "unit", file),
        budget=_number(plan.get("budget"), "budget", file),
        committed=math.fsum(amounts[funded].tolist()), funded=len(funded),
        input_path=str(table_path), input_sha256=str(manifest["input_sha256"]),
        policy_path=None if policy_path is None else str(policy_path),
        policy_sha256=None if policy_path is None else str(manifest["policy_sha256"]),
        fundopt=str(manifest.get("fundopt", "")), solver=str(manifest.get("solver", "")),
        planned_at=None if manifest.get("created") is None else str(manifest["created"]),
        columns=columns,
    )
    return NewRound(info, rows.reset_index(drop=True))


def _load(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise InputError("plan file not found", file=file, message_zh="方案文件不存在") from None
    except OSError as exc:
        raise InputError(f"cannot read the plan file ({exc.strerror})", file=file,
                         message_zh="无法读取方案文件") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the plan file is not JSON: {exc}", file=file,
                         expected="the .json written by `fundopt solve -o plan.json`",
                         message_zh="方案文件不是 JSON",
                         expected_zh="`fundopt solve -o plan.json` 写出的 .json") from None
    if not isinstance(data, dict) or "allocations" not in data or "manifest" not in data:
        raise InputError("the file is not a fundopt solve result", file=file,
                         expected="the .json written by `fundopt solve -o plan.json`",
                         message_zh="该文件不是 fundopt 的求解结果",
                         expected_zh="`fundopt solve -o plan.json` 写出的 .json")
    return data


def _input_file(manifest: dict[str, Any], key: str, plan_path: Path) -> Path:
    """The input the plan names: as written (relative to the working folder), else
    relative to the plan's folder."""
    written = _text(manifest.get(key), f"manifest.{key}", str(plan_path))
    path = Path(written)
    if not path.is_file() and not path.is_absolute() and (plan_path.parent / path).is_file():
        path = plan_path.parent / path
    if not path.is_file():
        raise InputError(f"the plan's {'table' if key == 'input' else 'policy'} file is "
                         "not found", file=written,
                         hint=f"The plan {plan_path} was solved from this file; book it from "
                              "the folder it was solved in.",
                         message_zh=f"找不到方案所用的{'表格' if key == 'input' else '政策'}文件",
                         hint_zh=f"方案 {plan_path} 由该文件求解得到；请在求解时的目录中登记。")
    return path


def _check_hash(path: Path, manifest: dict[str, Any], key: str, plan_file: str) -> None:
    recorded = manifest.get(key)
    try:
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=str(path),
                         message_zh="无法读取文件") from None
    if actual != recorded:
        raise InputError(
            f"the file changed since the plan was solved: its SHA-256 no longer matches "
            f"{plan_file}", file=str(path), column=f"manifest.{key}", value=actual,
            expected=f"{recorded}",
            hint="Solve again from the current files and book the new plan.",
            message_zh=f"该文件在求解后被修改：SHA-256 与 {plan_file} 中记录的不符",
            hint_zh="请用当前文件重新求解，再登记新方案。")


def _amounts(plan: dict[str, Any], ids: list[str], file: str) -> np.ndarray:
    allocations = plan.get("allocations")
    if not isinstance(allocations, list) or len(allocations) != len(ids):
        raise InputError("the plan's allocations do not list every row of its table",
                         file=file, column="allocations",
                         value=len(allocations) if isinstance(allocations, list) else None,
                         expected=f"{len(ids)} allocations, one per row",
                         message_zh="方案的 allocations 与表格行数不符")
    amounts = np.zeros(len(ids))
    for k, (item, expected_id) in enumerate(zip(allocations, ids, strict=True)):
        where = f"allocations[{k}]"
        entry = _mapping(item, where, file)
        if str(entry.get("id")) != expected_id:
            raise InputError("the plan's allocation is not the table's row", file=file,
                             column=f"{where}.id", value=entry.get("id"),
                             expected=expected_id, message_zh="方案的分配与表格行不对应")
        amounts[k] = _number(entry.get("amount"), f"{where}.amount", file)
        if amounts[k] < 0:
            raise InputError("a negative amount", file=file, column=f"{where}.amount",
                             value=amounts[k], expected="an amount >= 0",
                             message_zh="出资额为负")
    return amounts


def _mapping(value: Any, key: str, file: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{key} must be an object", file=file, column=key, value=value,
                         message_zh=f"{key} 应为对象")
    return value


def _number(value: Any, key: str, file: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(float(value)):
        raise InputError(f"{key} must be a finite number", file=file, column=key, value=value,
                         message_zh=f"{key} 应为有限数值")
    return float(value)


def _text(value: Any, key: str, file: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key} must be non-empty text", file=file, column=key, value=value,
                         message_zh=f"{key} 应为非空文本")
    return value
