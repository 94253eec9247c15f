"""Turn the ``policy`` / ``constraints`` sheets of an ``.xlsx`` table into the nested dict a
TOML policy file would give, remembering which spreadsheet row wrote each key.

Validation of the values is left to ``models.rules.policy`` (one validation for both forms);
this module only checks the sheets' own layout. The format is documented in
``models.rules.policy.policy_from_sheets``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence
from typing import Any

from fundopt.errors import InputError
from fundopt.messages import Message

# Header text of the constraints sheet → key of a [[constraints]] table.
CONSTRAINT_HEADERS = {
    "name": "name", "名称": "name", "约束": "name",
    "where": "where", "范围": "where", "条件": "where", "筛选": "where",
    "measure": "measure", "指标": "measure", "度量": "measure",
    "min": "min", "下限": "min", "最小": "min", "最小值": "min",
    "max": "max", "上限": "max", "最大": "max", "最大值": "max",
    "scope": "scope", "口径": "scope",
}
WHERE_FORMAT = Message("expected.where_cell")
# One segment of a dotted key: "quoted" or bare, then a dot or the end.
# Policy tables with no sheet form: eligible, eligible[1], limits[2], values (SPEC §11).
_TOML_ONLY = re.compile(r"(eligible|limits|values)(?:\[\d*\])?", re.IGNORECASE)
_SEGMENT = re.compile(r'\s*(?:"([^"]*)"|([^."]*[^."\s]))\s*(?:\.|$)')

Rows = Sequence[Sequence[object]]
Locations = dict[str, tuple[str, int]]


def sheet_tree(policy_rows: Rows, constraints_rows: Rows | None, source: str,
               top_keys: Collection[str]) -> tuple[dict[str, Any], Locations]:
    """The policy as a nested dict, and key path → (sheet, spreadsheet row).

    Parameters
    ----------
    policy_rows, constraints_rows
        Cell values of the two sheets, header row first.
    source
        The name of the policy sheet in messages, ``<table>.xlsx[policy]``.
    top_keys
        The policy's top-level keys: a first row whose key is one of them is data, not a
        header.

    Raises
    ------
    InputError
        A key given twice, a value without a key, a malformed key or ``where``, an unknown
        column of the constraints sheet.
    """
    tree: dict[str, Any] = {}
    rows: Locations = {}
    for number, row in enumerate(policy_rows, start=1):
        key, value = _cell(row, 0), _cell(row, 1)
        parts = split_key(str(key or ""))
        header = number == 1 and (not parts or parts[0] not in top_keys)
        if header or (key is None and value is None):
            continue
        if key is None:
            raise InputError(code="error.value_without_key", file=source, row=number,
                             value=value, expected=Message("expected.key_in_column_a"))
        if value is None:
            continue
        if not parts:
            raise InputError(code="error.malformed_key", file=source, row=number, value=key,
                             expected=Message("expected.dotted_key"))
        _toml_only(parts[0], key, source, number)
        _insert(tree, parts, value, rows, (source, number))
    if constraints_rows:
        if "constraints" in tree:
            first = min(r for k, (_, r) in rows.items() if k.split(".")[0] == "constraints")
            raise InputError(code="error.constraints_in_policy_sheet", file=source,
                             row=first, column="constraints")
        tree["constraints"] = _constraints(constraints_rows, _constraints_source(source), rows)
    return tree, rows


def _toml_only(head: str, key: object, source: str, row: int) -> None:
    """``[[eligible]]``, ``[[limits]]`` and ``[values]`` (SPEC §11) have no sheet form in
    this version: such a key in the policy sheet is an input error pointing to TOML."""
    table = _TOML_ONLY.fullmatch(head.strip())
    if table is None:
        return
    name = table[1].lower()
    written = f"[{name}]" if name == "values" else f"[[{name}]]"
    raise InputError(code="rules.sheet_toml_only", values={"table": written}, file=source,
                     row=row, column=str(key), expected=Message("rules.sheet_toml_only_hint"))


def _cell(row: Sequence[object], index: int) -> object:
    """A cell's value, text trimmed; blank → None."""
    value = row[index] if index < len(row) else None
    if isinstance(value, str):
        value = value.strip()
    return None if value is None or value == "" else value


def split_key(key: str) -> list[str]:
    """``region."a.b".min_share`` → ["region", "a.b", "min_share"]; [] if malformed."""
    parts, pos = [], 0
    if key.rstrip().endswith("."):
        return []
    while pos < len(key):
        match = _SEGMENT.match(key, pos)
        if match is None or match.end() == pos:
            return []
        parts.append(match[1] if match[1] is not None else match[2])
        pos = match.end()
    return [] if "" in parts else parts


def _insert(tree: dict[str, Any], parts: list[str], value: object, rows: Locations,
            where: tuple[str, int]) -> None:
    """Set ``tree[p0][p1]...[pn] = value``; a key given twice is an error."""
    path = ".".join(parts)
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            prefix = ".".join(parts[:depth + 1])
            raise InputError(code="error.key_has_value", values={"prefix": prefix,
                                                                 "path": path},
                             file=where[0], row=where[1], column=path, value=child,
                             expected=Message("expected.value_or_keys", {"prefix": prefix}))
        node = child
    if parts[-1] in node:
        first = rows.get(path)
        raise InputError(code="error.key_twice_at" if first else "error.key_twice",
                         values={"path": path, **({"first": first[1]} if first else {})},
                         file=where[0], row=where[1], column=path, value=value,
                         expected=Message("expected.each_key_once"))
    node[parts[-1]] = value
    rows[path] = where


def _constraints_source(source: str) -> str:
    return (source.removesuffix("[policy]") if source.endswith("[policy]") else source
            ) + "[constraints]"


def _constraints(sheet: Rows, source: str, rows: Locations) -> list[dict[str, Any]]:
    """One dict per non-blank row of the constraints sheet, ``where`` parsed."""
    columns = []
    for index in range(len(sheet[0])):
        header = _cell(sheet[0], index)
        text = str(header).strip().lower() if header is not None else None
        if text is not None and text not in CONSTRAINT_HEADERS:
            close = difflib.get_close_matches(text, list(CONSTRAINT_HEADERS), n=1)
            raise InputError(code="error.unknown_constraints_column_close" if close
                             else "error.unknown_constraints_column",
                             values={"header": header, **({"close": close[0]} if close else {})},
                             file=source, row=1, column=str(header),
                             expected=Message("expected.constraints_columns"))
        key = CONSTRAINT_HEADERS.get(text or "")
        if key is not None and key in columns:
            raise InputError(code="error.constraints_column_twice", values={"key": key},
                             file=source, row=1, column=str(header))
        columns.append(key)
    items: list[dict[str, Any]] = []
    for number, row in enumerate(sheet[1:], start=2):
        item = {key: _cell(row, i) for i, key in enumerate(columns) if key is not None}
        item = {key: value for key, value in item.items() if value is not None}
        if not item:
            continue
        if "where" in item:
            item["where"] = _parse_where(str(item["where"]), source, number)
        items.append(item)
        rows[f"constraints[{len(items)}]"] = (source, number)
    return items


def _parse_where(text: str, source: str, row: int) -> dict[str, Any]:
    """``"category=前沿技术|高端人才团队; region=天津"`` → the TOML inline table."""
    where: dict[str, Any] = {}
    for part in re.split(r"[;；]", text):
        if not part.strip():
            continue
        column, sep, values = part.replace("＝", "=").partition("=")
        items = [v.strip() for v in values.split("|")]
        if not sep or not column.strip() or "" in items:
            raise InputError(code="error.malformed_where", file=source, row=row,
                             column="where", value=part.strip(), expected=WHERE_FORMAT)
        if column.strip() in where:
            raise InputError(code="error.where_column_twice", values={"column": column.strip()},
                             file=source, row=row, column="where", value=text,
                             expected=WHERE_FORMAT)
        where[column.strip()] = items[0] if len(items) == 1 else items
    return where
