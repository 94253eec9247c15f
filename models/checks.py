"""Data that looks wrong (SPEC §7): two spellings of what a person reads as one value.

A typo such as 滨海区 for 滨海新区 makes a second district: the plan stays feasible, the
district rule counts the row under the wrong name, and nothing fails. This module finds
such pairs in the grouping columns (``region``, ``district``, ``category``) and in every
column a policy ``where`` or ``"*"`` uses, and returns them as warnings; ``--strict``
turns them into an input error (:func:`strict_error`).

Two distinct values are *similar* when they are

- equal after Unicode NFKC and removal of white space (``ＡＢ`` / ``A B``),
- equal after dropping a trailing administrative suffix 省 / 市 / 区 / 县 / 新区
  (``滨海区`` / ``滨海新区``, ``唐山`` / ``唐山市``),
- one a prefix of the other, the shorter at least two characters (``石家庄`` /
  ``石家庄高新``), or
- one edit apart (one character inserted, removed or replaced) once the suffix is dropped,
  the shorter at least three characters and not two different digits (``石家庄`` /
  ``石家装``). Two-character names one edit apart are common real pairs (河东区 / 河西区 /
  河北区 are three Tianjin districts; 河北 / 河南 two provinces), so they are not flagged;
  neither are ``2023-1`` / ``2023-2``.

Every test is done by hashing or sorting, never by comparing all pairs, so a column with
100 000 distinct values costs a fraction of a second.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from fundopt.errors import InputError
from fundopt.messages import Message, Said
from fundopt.models.domain import CATEGORY, DISTRICT, ID, REGION, Policy, Table

SIMILAR_VALUES = "similar_values"
GROUP_COLUMNS = (REGION, DISTRICT, CATEGORY)
# Longest first: 新区 must be dropped as a whole, not as 区.
SUFFIXES = ("新区", "省", "市", "区", "县")
MIN_PREFIX, MIN_EDIT = 2, 3
# Why two values look alike; each reason has its sentence in the catalogs
# (``warning.similar_values.<reason>``).
REASONS = ("spacing", "suffix", "prefix", "edit")


@dataclass(frozen=True)
class DataWarning:
    """Something in the data worth a planner's second look; it does not stop the solve.

    ``values`` are the two spellings, the more frequent first; ``ids`` the rows of the
    rarer one (the likely typo), in input order.
    """

    code: str
    column: str
    values: tuple[str, str]
    ids: tuple[str, ...]
    reason: str                      # one of REASONS

    def as_message(self) -> Message:
        """The warning as a message code and its values (all data)."""
        common, rare = self.values
        shown = ", ".join(self.ids[:10]) + (" …" if len(self.ids) > 10 else "")
        return Message(f"warning.{self.code}.{self.reason}",
                       {"column": self.column, "common": common, "rare": rare, "ids": shown})

    def message(self, lang: str = "en") -> str:
        """The warning as one sentence in ``"en"`` or ``"zh"``."""
        return self.as_message().text(lang)


def checked_columns(table: Table, policy: Policy) -> list[str]:
    """The text columns to check: region, district, category, and every column a policy
    rule selects rows by (``where``, including ``"*"``), in that order."""
    used = [c for rule in policy.rules for c, _ in rule.where]
    columns = [c for c in dict.fromkeys([*GROUP_COLUMNS, *used])
               if c in table.frame.columns and c not in table.numeric_columns and c != ID]
    return columns


def similar_values(table: Table, policy: Policy) -> tuple[DataWarning, ...]:
    """Every pair of similar values in the checked columns (see the module docstring).

    Parameters
    ----------
    table
        The validated table.
    policy
        Its policy (for the columns its rules select by).

    Returns
    -------
    tuple[DataWarning, ...]
        One warning per similar pair, by column in :func:`checked_columns` order, then by
        first appearance of the pair's values in the table.
    """
    found: list[DataWarning] = []
    ids = table.frame[ID].astype(str).to_numpy()
    for column in checked_columns(table, policy):
        values = table.frame[column].astype("string").fillna("").to_numpy(dtype=object)
        counts = pd.Series(values).value_counts(sort=False)
        distinct = [str(v) for v in counts.index if str(v) != ""]
        order = {v: i for i, v in enumerate(dict.fromkeys(str(v) for v in values))}
        for a, b, reason in sorted(_similar_pairs(distinct),
                                   key=lambda p: (order[p[0]], order[p[1]])):
            # the rarer spelling is the likely typo; on a tie, the later one
            first = (counts[a], -order[a]) >= (counts[b], -order[b])
            common, rare = (a, b) if first else (b, a)
            rows = tuple(ids[values == rare].tolist())
            found.append(DataWarning(SIMILAR_VALUES, column, (common, rare), rows, reason))
    return tuple(found)


def strict_error(warnings: Iterable[str], warnings_zh: Iterable[str]) -> InputError:
    """The input error ``--strict`` raises for the given warning sentences."""
    en, zh = list(warnings), list(warnings_zh)
    said = Said({"en": "\n  ".join(en), "zh": "\n  ".join(zh)})
    return InputError(code="input.checks.strict", values={"count": len(en), "warnings": said})


def normalize(value: str) -> str:
    """NFKC, white space removed, case folded."""
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


def stem(value: str) -> str:
    """The normalized value without one trailing administrative suffix (if more remains)."""
    text = normalize(value)
    for suffix in SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _similar_pairs(values: list[str]) -> list[tuple[str, str, str]]:
    """``(a, b, reason)`` for each similar pair, each pair once, the first reason found."""
    pairs: dict[tuple[str, str], str] = {}

    def add(a: str, b: str, reason: str) -> None:
        if a != b:
            pairs.setdefault((a, b) if a < b else (b, a), reason)

    by_spacing: dict[str, list[str]] = defaultdict(list)
    by_stem: dict[str, list[str]] = defaultdict(list)
    for v in values:
        by_spacing[normalize(v)].append(v)
        by_stem[stem(v)].append(v)
    for reason, groups in (("spacing", by_spacing), ("suffix", by_stem)):
        for members in groups.values():
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    add(a, b, reason)
    stems = sorted(by_stem)
    for i, short in enumerate(stems):  # every stem starting with `short` follows it
        if len(short) < MIN_PREFIX:
            continue
        for j in range(i + 1, len(stems)):   # not stems[i + 1:]: no copy per stem
            long = stems[j]
            if not long.startswith(short):
                break
            for a in by_stem[short]:
                for b in by_stem[long]:
                    add(a, b, "prefix")
    for a, b in _one_edit_apart(list(by_stem)):
        for x in by_stem[a]:
            for y in by_stem[b]:
                add(x, y, "edit")
    return [(a, b, reason) for (a, b), reason in pairs.items()]


def _one_edit_apart(texts: list[str]) -> set[tuple[str, str]]:
    """Pairs of texts one insertion, deletion or substitution apart (deletion neighbourhoods:
    two such texts share a string obtained by deleting one character at a position)."""
    keys: dict[tuple[str, int], list[str]] = defaultdict(list)
    whole = set(texts)
    for text in texts:
        for i in range(len(text)):
            keys[(text[:i] + text[i + 1:], i)].append(text)
    found: set[tuple[str, str]] = set()
    for (deleted, position), members in keys.items():
        # substitution: both lost a character at the same position
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if not (a[position].isdigit() and b[position].isdigit()):
                    found.add((a, b) if a < b else (b, a))
        # insertion: the shorter text is itself the deleted form
        if deleted in whole:
            for a in members:
                found.add((deleted, a) if deleted < a else (a, deleted))
    return {(a, b) for a, b in found if min(len(a), len(b)) >= MIN_EDIT}
