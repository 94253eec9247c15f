"""What ``book add`` takes from a ``solve`` result file (PLAN.json), and nothing more
(SPEC §13).

A plan is trusted for its ids and amounts only, and for where its inputs are: the table
and the policy it names must still hash to what it recorded (a policy without a hash is
accepted only from the policy sheets of an ``.xlsx`` table, which the table's hash
covers). Its status, objective, budget, unit and relaxation are re-derived from those
files (``optimizer.admit``). The book state a plan records (solved with ``--book``) is
kept to refuse it once the book has changed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import ID
from fundopt.models.limits import MAX_PLAN_BYTES
from fundopt.models.reading.files import load_json
from fundopt.models.reading.plan_file import Entry
from fundopt.models.store.book import BookState

BOOKABLE = ("optimal", "feasible")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PlanClaims:
    """What a plan file says that ``book add`` may use.

    ``policy_path`` is None when the policy came from the ``.xlsx`` table's sheets;
    ``entries`` are (None, id, amount) in the file's order; ``solved_against`` is the book
    state the plan was solved against (None: solved without ``--book``).
    """

    path: Path
    table_path: Path
    input_sha256: str
    sheet: str | None
    policy_path: Path | None
    policy_sha256: str | None
    entries: tuple[Entry, ...]
    solved_against: BookState | None
    planned_at: str | None


def read_claims(plan_path: Path) -> PlanClaims:
    """Read ``PLAN.json`` and check its input files against the hashes it recorded.

    Raises
    ------
    InputError
        Not a solve result (bounded read: a device, FIFO, a huge or deeply nested file is
        refused before parsing), a status that is not a plan, a missing or changed input
        file, a missing or malformed hash, allocations that are not (id, amount) objects.
    """
    file = str(plan_path)
    plan = load_json(plan_path, "plan", MAX_PLAN_BYTES)
    if not isinstance(plan, dict) or "allocations" not in plan or "manifest" not in plan:
        raise InputError(code="input.booking.not_a_result", file=file)
    status = plan.get("status")
    if status not in BOOKABLE:
        raise InputError(code="input.booking.status",
                         values={"status": status}, file=file, column="status", value=status)
    manifest = _mapping(plan.get("manifest"), "manifest", file)
    table_path = _input_file(manifest, "input", plan_path)
    input_sha = _hash(manifest, "input_sha256", file)
    _check_hash(table_path, input_sha, "input_sha256", file)
    sheet = manifest.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        raise InputError(code="booking.bad_field", file=file, column="manifest.sheet", value=sheet)
    policy_path: Path | None = None
    policy_sha = manifest.get("policy_sha256")
    if policy_sha is None:
        # only a policy read from the table's own sheets has no hash of its own
        if manifest.get("policy") != f"{manifest.get('input')}[policy]" \
                or table_path.suffix.lower() != ".xlsx":
            raise InputError(code="booking.no_policy_hash", file=file,
                             column="manifest.policy_sha256", value=None)
    else:
        policy_sha = _hash(manifest, "policy_sha256", file)
        policy_path = _input_file(manifest, "policy", plan_path)
        _check_hash(policy_path, policy_sha, "policy_sha256", file)
    created = manifest.get("created")
    return PlanClaims(plan_path, table_path, input_sha, sheet, policy_path, policy_sha,
                      _entries(plan.get("allocations"), file), _state(manifest, file),
                      created if isinstance(created, str) else None)


def _entries(allocations: Any, file: str) -> tuple[Entry, ...]:
    if not isinstance(allocations, list):
        raise InputError(code="booking.bad_field", file=file, column="allocations",
                         value=type(allocations).__name__)
    entries: list[Entry] = []
    for k, item in enumerate(allocations):
        entry = _mapping(item, f"allocations[{k}]", file)
        sub_id = entry.get(ID)
        if not isinstance(sub_id, str):
            raise InputError(code="booking.bad_field", file=file, column=f"allocations[{k}].id",
                             value=sub_id)
        entries.append((None, sub_id, entry.get("amount")))
    return tuple(entries)


def _state(manifest: dict[str, Any], file: str) -> BookState | None:
    state = manifest.get("book_state")
    if state is None:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("digest"), str) \
            or not (state.get("last_round") is None or isinstance(state["last_round"], str)):
        raise InputError(code="booking.bad_field", file=file, column="manifest.book_state",
                         value=None)
    return BookState(state["last_round"], state["digest"])


def _hash(manifest: dict[str, Any], key: str, file: str) -> str:
    value = manifest.get(key)
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise InputError(code="booking.bad_hash", file=file, column=f"manifest.{key}", value=value)
    return value


def _input_file(manifest: dict[str, Any], key: str, plan_path: Path) -> Path:
    """The input the plan names: as written (relative to the working folder), else
    relative to the plan's folder."""
    written = manifest.get(key)
    if not isinstance(written, str) or not written.strip() or "\x00" in written:
        raise InputError(code="booking.bad_field", file=str(plan_path), column=f"manifest.{key}",
                         value=written)
    path = Path(written)
    if not path.is_file() and not path.is_absolute() and (plan_path.parent / path).is_file():
        path = plan_path.parent / path
    if not path.is_file():
        what = Message("input.file_kind.table" if key == "input" else "input.file_kind.policy")
        raise InputError(code="input.booking.input_missing",
                         values={"what": what, "plan_path": plan_path}, file=written)
    return path


def _check_hash(path: Path, recorded: str, key: str, plan_file: str) -> None:
    try:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(code="input.booking.unreadable", values={"strerror": exc.strerror},
                         file=str(path)) from None
    if digest != recorded:
        raise InputError(code="input.booking.input_changed",
                         values={"plan_file": plan_file, "recorded": recorded}, file=str(path),
                         column=f"manifest.{key}", value=digest)


def _mapping(value: Any, key: str, file: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(code="input.booking.not_object", values={"key": key}, file=file,
                         column=key, value=value if not isinstance(value, list) else None)
    return value
