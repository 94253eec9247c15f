"""Read and validate the planner's policy (SPEC §3) into a typed ``Policy``.

The policy comes from a TOML file (``load_policy``) or from the ``policy`` / ``constraints``
sheets of an ``.xlsx`` table (``policy_from_sheets``). Both are first turned into the same
nested dict (the TOML document's shape) and validated by one function, ``policy_from_tree``, so a
typo is caught the same way wherever it was written. Expansion of ``"*"`` against the
table lives in ``models.rules.expansion``.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.models.domain import (
    Condition,
    Eligibility,
    Limit,
    Measure,
    Not,
    Objective,
    Part,
    Policy,
    Range,
    ReportInfo,
    Rule,
    Scope,
    Sense,
    Where,
)
from fundopt.models.limits import MAX_MAGNITUDE, MIN_STEP_FRACTION
from fundopt.models.reading.files import load_toml
from fundopt.models.reading.sheets import sheet_tree
from fundopt.models.rules.expression import ExpressionError, parse_expression

__all__ = ["load_policy", "policy_from_sheets", "read_policy_tree"]

TOP_KEYS = ("unit", "budget", "min_deploy", "max_stake", "max_single", "min_ticket",
            "amount_step", "max_funded", "min_funded", "objective", "region", "category",
            "district", "constraints", "uncertainty", "report", "eligible", "limits",
            "values")
OBJECTIVE_KEYS = ("maximize", "minimize", "weights", "sense")
SHORTHAND_GROUPS = ("region", "category", "district")
SHORTHAND_KEYS = ("min_share", "max_share", "min_amount", "max_amount", "min_count",
                  "max_count", "scope", "target", "penalty")
CONSTRAINT_KEYS = ("name", "where", "measure", "min", "max", "scope", "target", "penalty")
WHERE_TEXT = Message("input.policy.where_forms")
MEASURES_TEXT = Message("input.policy.measures")

_MEASURE = re.compile(r"^\s*(?:(?P<plain>\w+)|(?P<fn>\w+)\s*\(\s*(?P<col>[^()]*?)\s*\))\s*$")


@dataclass(frozen=True)
class Locator:
    """Where the policy came from, to name file (and spreadsheet row) in messages.

    ``rows`` maps a key path (``region.天津.min_share``, ``constraints[2]``) to the sheet
    and row that wrote it; empty for TOML. ``lenient`` accepts numbers typed as text
    (spreadsheet cells formatted as text).
    """

    file: str
    rows: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    lenient: bool = False

    def locate(self, path: str) -> tuple[str, int | None]:
        if path in self.rows:
            return self.rows[path]
        hits = [loc for key, loc in self.rows.items()
                if key.startswith((path + ".", path + "[")) or path.startswith(key + ".")]
        return min(hits, key=lambda loc: loc[1]) if hits else (self.file, None)

    def error(self, path: str, code: str, values: Mapping[str, Any] | None = None,
              **details: Any) -> InputError:
        """Input error ``code`` (with ``values``) at key ``path``, in the file and row the
        key came from."""
        file, row = self.locate(path)
        return InputError(code=code, values=values or {}, file=file, row=row, column=path,
                          **details)


def load_policy(path: Path) -> Policy:
    """Read a TOML policy file (SPEC §3).

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    Policy
        Validated, not yet expanded against a table; ``sha256`` is the hash of the file.

    Raises
    ------
    InputError
        The file cannot be read, is not TOML, or any key or value is wrong: the message
        names the file and the key path (``region.天津.min_share``).
    """
    data, sha256 = read_policy_tree(path)
    return policy_from_tree(data, Locator(str(path)), sha256)


def read_policy_tree(path: Path) -> tuple[dict[str, Any], str]:
    """The policy file as a nested dict (not yet validated) and its SHA-256.

    The one reader of policy files: ``solve``, ``compare`` and ``sweep`` all read them
    here, so a broken file gets the same message from every command.
    """
    data, raw = load_toml(path, "policy")
    return data, hashlib.sha256(raw).hexdigest()


def policy_from_sheets(policy_rows: Sequence[Sequence[object]],
                       constraints_rows: Sequence[Sequence[object]] | None,
                       source: str) -> Policy:
    """Read the policy from the ``policy`` and ``constraints`` sheets of an ``.xlsx`` table.

    The ``policy`` sheet has a header row (e.g. ``key | value`` or ``键 | 值``) and then
    one key/value row per setting. Keys are the TOML key paths, dotted:
    ``budget``, ``region.天津.min_share``, ``objective.maximize``,
    ``objective.weights.score`` (a segment may be double-quoted if it holds a dot).
    Rows with a blank value are ignored; further columns (notes) are ignored.

    The ``constraints`` sheet has a header row with the columns ``name``, ``where``,
    ``measure``, ``min``, ``max`` (also 名称, 范围, 指标, 下限, 上限) and one row per general
    constraint. ``where`` is written ``column=value``, ``column=v1|v2`` for several values,
    ``column=*`` for one constraint per value, and several conditions are joined by ``;``
    (``category=前沿技术|高端人才团队; region=天津``); blank means every row.

    Parameters
    ----------
    policy_rows, constraints_rows
        The sheets' cell values, header row first (``constraints_rows`` may be None).
    source
        How to name the policy sheet in messages, e.g. ``inputs/2024.xlsx[policy]``.

    Returns
    -------
    Policy
        As ``load_policy`` would return for the same settings; ``sha256`` is None (the
        table's hash covers the sheets).

    Raises
    ------
    InputError
        Naming the sheet, the spreadsheet row and the key path.
    """
    data, rows = sheet_tree(policy_rows, constraints_rows, source, TOP_KEYS)
    return policy_from_tree(data, Locator(source, rows, lenient=True), None)


def policy_from_tree(data: Mapping[str, Any], loc: Locator, sha256: str | None) -> Policy:
    """The one validation of a policy, from the TOML document's nested dict."""
    check_keys(data, TOP_KEYS, "", loc)
    if "budget" not in data:
        raise loc.error("budget", "input.policy.budget_missing")

    def number(key: str, lo: float | None = 0.0, hi: float | None = None,
               lo_open: bool = False, default: float | None = None) -> float | None:
        if key not in data:
            return default
        return read_number(data[key], key, loc, lo=lo, hi=hi, lo_open=lo_open)

    def count(key: str) -> int | None:
        return None if key not in data else int(read_number(data[key], key, loc, lo=0.0,
                                                        integer=True))

    max_funded, min_funded = count("max_funded"), count("min_funded")
    if max_funded is not None and min_funded is not None and min_funded > max_funded:
        raise _min_over_max(loc, "min_funded", "max_funded", min_funded, max_funded)
    uncertainty = None
    if "uncertainty" in data:
        from fundopt.models.rules.uncertainty import parse_uncertainty  # imports this module

        uncertainty = parse_uncertainty(data["uncertainty"], loc)
    objective = _objective(data["objective"], loc) if "objective" in data else Objective()
    if uncertainty is not None and uncertainty.reviewers and "objective" not in data:
        from fundopt.models.rules.uncertainty import panel_objective

        objective = panel_objective(uncertainty)
    eligible: tuple[Eligibility, ...] = ()
    if "eligible" in data:
        from fundopt.models.rules.eligibility import parse_eligible  # imports this module

        eligible = parse_eligible(data["eligible"], loc)
    limits: tuple[Limit, ...] = ()
    if "limits" in data:
        from fundopt.models.rules.row_limits import parse_limits  # imports this module

        limits = parse_limits(data["limits"], loc)
    declared = _declared(data["values"], loc) if "values" in data else ()
    rules: list[Rule] = []
    for key, value in data.items():
        if key in SHORTHAND_GROUPS:
            rules += _shorthand(key, value, loc)
        elif key == "constraints":
            rules += _general(value, loc)
    budget = float(read_number(data["budget"], "budget", loc, lo=0.0, lo_open=True))
    step = number("amount_step", lo_open=True)
    if step is not None and step < MIN_STEP_FRACTION * budget:
        raise InputError(code="step.too_fine",
                         values={"step": step, "budget": budget, "fraction": MIN_STEP_FRACTION,
                                 "smallest": MIN_STEP_FRACTION * budget},
                         file=loc.file, column="amount_step", value=step)
    return Policy(
        budget=budget,
        source=loc.file,
        unit=read_text(data["unit"], "unit", loc) if "unit" in data else Policy.unit,
        min_deploy=number("min_deploy", hi=1.0, default=0.0) or 0.0,
        max_stake=number("max_stake", hi=1.0, lo_open=True),
        max_single=number("max_single", hi=1.0, lo_open=True),
        min_ticket=number("min_ticket", default=0.0) or 0.0,
        amount_step=step,
        max_funded=max_funded,
        min_funded=min_funded,
        objective=objective,
        rules=tuple(rules),
        sha256=sha256,
        uncertainty=uncertainty,
        report=_report(data["report"], loc) if "report" in data else ReportInfo(),
        eligible=eligible,
        limits=limits,
        values=declared,
    )


def _declared(value: Any, loc: Locator) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[values] district = ["滨海新区", …]``: the values each column may take."""
    out = []
    for column, items in _table(value, "values", loc).items():
        key = f"values.{column}"
        if not isinstance(items, list) or not items:
            raise loc.error(key, "input.policy.not_list", {"key": key}, value=items)
        values = tuple(dict.fromkeys(_where_value(item, key, loc) for item in items))
        if "*" in values:
            raise loc.error(key, "input.policy.star_in_list", value="*")
        out.append((str(column).strip(), values))
    return tuple(out)


def _objective(value: Any, loc: Locator) -> Objective:
    """``[objective]``: exactly one of maximize, minimize, weights (+ optional sense)."""
    table = _table(value, "objective", loc)
    check_keys(table, OBJECTIVE_KEYS, "objective", loc)
    given = [key for key in ("maximize", "minimize", "weights") if key in table]
    if len(given) != 1:
        raise loc.error("objective", "input.policy.objective_kind",
                        value=given or None)
    kind = given[0]
    if kind != "weights":
        if "sense" in table:
            raise loc.error("objective.sense", "input.policy.sense_without_weights",
                            {"kind": kind}, value=table["sense"])
        column = read_text(table[kind], f"objective.{kind}", loc)
        return Objective(Sense(kind), {column: 1.0}, normalize=False)
    sense = Sense.MAXIMIZE
    if "sense" in table:
        text = read_text(table["sense"], "objective.sense", loc).lower()
        if text not in tuple(Sense):
            raise loc.error("objective.sense", "input.policy.unknown_sense", value=text)
        sense = Sense(text)
    weights = _table(table["weights"], "objective.weights", loc)
    if not weights:
        raise loc.error("objective.weights", "input.policy.no_weights")
    return Objective(sense, {str(col).strip(): read_number(w, f"objective.weights.{col}", loc)
                             for col, w in weights.items()}, normalize=True)


def _shorthand(group: str, value: Any, loc: Locator) -> list[Rule]:
    """``[region."天津"]`` etc.: one Rule per measure with a bound (share, amount, count)."""
    rules = []
    for name, bounds_value in _table(value, group, loc).items():
        origin = f"{group}.{name}"
        if name in SHORTHAND_KEYS and not isinstance(bounds_value, Mapping):
            raise loc.error(origin, "input.policy.outside_group",
                            {"name": name, "group": group})
        bounds = _table(bounds_value, origin, loc)
        check_keys(bounds, SHORTHAND_KEYS, origin, loc)
        given = [key for key in bounds if key not in ("scope", "target", "penalty")]
        if not given or not str(name).strip():
            raise loc.error(origin, "input.policy.no_bounds" if not given
                            else "input.policy.empty_group_name", {"group": group},
                            expected=Message("expected.one_of",
                                             {"items": ", ".join(SHORTHAND_KEYS[:-3])}))
        scope = _scope(bounds, origin, loc)
        target, penalty = _target(bounds, Measure.AMOUNT, origin, loc)
        for measure in (Measure.SHARE, Measure.AMOUNT, Measure.COUNT):
            lo_key, hi_key = f"min_{measure}", f"max_{measure}"
            if lo_key in bounds or hi_key in bounds:
                lo, hi = _bounds(bounds, lo_key, hi_key, measure, origin, loc)
                rules.append(Rule(None, ((group, (str(name).strip(),)),), measure, None, lo, hi,
                                  origin, lo_key, hi_key, scope, target=target,
                                  penalty=penalty))
    return rules


def each_table(value: Any, array: str, keys: Sequence[str], loc: Locator, not_list: str,
               not_table: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The entries of an array of tables (``[[constraints]]``, ``[[eligible]]``,
    ``[[limits]]``) as (``array[i]``, the table), each a table of ``keys`` only; the codes
    ``not_list`` and ``not_table`` say what is wrong otherwise."""
    if not isinstance(value, list):
        raise loc.error(array, not_list, value=value)
    for i, item in enumerate(value, start=1):
        origin = f"{array}[{i}]"
        if not isinstance(item, Mapping):
            raise loc.error(origin, not_table, {"path": origin, "origin": origin}, value=item)
        check_keys(item, keys, origin, loc)
        yield origin, item


def _general(value: Any, loc: Locator) -> list[Rule]:
    """``[[constraints]]`` tables: the general form."""
    rules = []
    for origin, table in each_table(value, "constraints", CONSTRAINT_KEYS, loc,
                                    "input.policy.constraints_not_list",
                                    "input.policy.not_table"):
        if "measure" not in table:
            raise loc.error(f"{origin}.measure", "input.policy.measure_missing",
                            expected=MEASURES_TEXT)
        if "min" not in table and "max" not in table:
            raise loc.error(origin, "input.policy.no_min_max")
        ratio = _ratio(read_text(table["measure"], f"{origin}.measure", loc),
                       f"{origin}.measure", loc)
        measure, column = (Measure.RATIO, None) if ratio else \
            _measure(table["measure"], f"{origin}.measure", loc)
        lo, hi = _bounds(table, "min", "max", measure, origin, loc)
        name = read_text(table["name"], f"{origin}.name", loc) if "name" in table else None
        where = read_where(table.get("where", {}), f"{origin}.where", loc)
        scope = _scope(table, origin, loc)
        target, penalty = _target(table, measure, origin, loc)
        rules.append(Rule(name or None, where, measure, column, lo, hi, origin,
                          scope=scope, ratio=ratio, target=target, penalty=penalty))
    return rules


def _target(table: Mapping[str, Any], measure: Measure, origin: str, loc: Locator
            ) -> tuple[bool, float | None]:
    """``target = true, penalty = P`` (SPEC §11): a bound that may be missed at a cost."""
    if "target" in table and not isinstance(table["target"], bool):
        raise loc.error(f"{origin}.target", "input.policy.target_not_bool",
                        value=table["target"])
    target = bool(table.get("target", False))
    if "penalty" in table and not target:
        raise loc.error(f"{origin}.penalty", "rules.penalty_without_target",
                        value=table["penalty"])
    if not target:
        return False, None
    if "penalty" not in table:
        raise loc.error(f"{origin}.penalty", "rules.target_without_penalty")
    if measure in (Measure.AVG, Measure.RATIO):
        raise loc.error(f"{origin}.target", "rules.target_measure", {"measure": str(measure)},
                        value=str(measure))
    return True, read_number(table["penalty"], f"{origin}.penalty", loc, lo=0.0)


def _scope(table: Mapping[str, Any], origin: str, loc: Locator) -> Scope:
    """``scope = "round"`` (the default) or ``"fund"`` (SPEC §9)."""
    if "scope" not in table:
        return Scope.ROUND
    text = table["scope"].strip().lower() if isinstance(table["scope"], str) else None
    if text not in tuple(Scope):
        raise loc.error(f"{origin}.scope", "input.policy.unknown_scope", value=table["scope"])
    return Scope(text)


def _measure(value: Any, path: str, loc: Locator) -> tuple[Measure, str | None]:
    """``"amount"`` → (AMOUNT, None); ``"avg( risk )"`` → (AVG, "risk");
    ``"sum(call_2025 + call_2026)"`` → (SUM, "call_2025 + call_2026") (SPEC §11)."""
    text = read_text(value, path, loc)
    match = _MEASURE.match(text)
    if match and (match["plain"] or "").lower() in ("amount", "share", "count"):
        return Measure(match["plain"].lower()), None
    head = text.split("(")[0].strip().lower()
    inner = text[text.index("(") + 1: text.rindex(")")].strip() \
        if "(" in text and text.rstrip().endswith(")") else ""
    if head in ("sum", "avg", "funded") and inner and _ratio_sides(text) is None:
        return Measure(head), read_expression(inner, path, loc)
    if head == "groups" and inner:                # groups(COL): a column, any kind
        return Measure.GROUPS, inner
    if match and head in ("sum", "avg", "funded", "groups"):     # avg(): no column
        raise loc.error(path, "input.policy.no_column_in_brackets", {"head": head},
                        value=text)
    close = difflib.get_close_matches(head, ["amount", "share", "count", "sum", "avg", "funded",
                                             "groups"], n=1)
    guess = close[0] if close else None
    if guess in ("sum", "avg") and "(" in text:
        guess = guess + text[text.index("("):].strip()
    raise loc.error(path, "input.policy.unknown_measure_close" if guess
                    else "input.policy.unknown_measure", {"text": text, "close": guess or ""},
                    expected=MEASURES_TEXT)


def _ratio(text: str, path: str, loc: Locator) -> tuple[Part, Part] | None:
    """``funded(fund_size) / amount`` → its two parts (SPEC §11); None if not a ratio."""
    sides = _ratio_sides(text)
    if sides is None:
        return None
    parts = []
    for side, name in zip(sides, ("M1", "M2"), strict=True):
        head = side.split("(")[0].strip().lower()
        inner = side[side.index("(") + 1: side.rindex(")")].strip() if "(" in side else ""
        if head in ("amount", "count") and not inner and "(" not in side:
            parts.append(Part(Measure(head)))
        elif head in ("sum", "funded") and inner and side.rstrip().endswith(")"):
            parts.append(Part(Measure(head), read_expression(inner, path, loc)))
        else:
            raise loc.error(path, "rules.ratio_part", {"side": name, "text": side.strip()},
                            value=text, expected=Message("rules.ratio_expected"))
    return parts[0], parts[1]


def _ratio_sides(text: str) -> tuple[str, str] | None:
    """The two sides of a top-level ``/`` (outside any brackets), if there is one."""
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "/" and depth == 0:
            return text[:i], text[i + 1:]
    return None


def read_expression(text: str, path: str, loc: Locator) -> str:
    """A column expression (SPEC §11) in its canonical spelling; a text that does not
    parse at all is kept as written (a header such as ``call 2025``, checked against
    the table later). Anything but arithmetic over columns is an input error."""
    try:
        return parse_expression(text).text
    except ExpressionError as exc:
        if exc.reason == "expr_syntax" and not re.search(r"[-+*/()]", text):
            return text
        raise loc.error(path, f"rules.{exc.reason}", {"text": text, "what": exc.detail},
                        value=text, expected=Message("rules.expr_expected")) from None


def read_where(value: Any, path: str, loc: Locator) -> Where:
    """``where = { column = "v" | ["v1", "v2"] | "*" | { min = A, max = B } |
    { not = ["v1"] } }`` → ((column, condition), ...)."""
    pairs: list[tuple[str, Condition]] = []
    for column, spec in _table(value, path, loc).items():
        key = f"{path}.{column}"
        if not str(column).strip():
            raise loc.error(key, "input.policy.empty_condition", expected=WHERE_TEXT)
        if isinstance(spec, Mapping):
            pairs.append((str(column).strip(), _condition(spec, key, loc)))
            continue
        items = spec if isinstance(spec, list) else [spec]
        values = tuple(dict.fromkeys(_where_value(item, key, loc) for item in items))
        if not values:
            raise loc.error(key, "input.policy.empty_condition", expected=WHERE_TEXT)
        if "*" in values and len(values) > 1:
            raise loc.error(key, "input.policy.star_not_alone", value=list(values))
        pairs.append((str(column).strip(), values))
    return tuple(pairs)


def _condition(spec: Mapping[str, Any], key: str, loc: Locator) -> Range | Not:
    """``{ min = A, max = B }`` (either end optional) or ``{ not = [values] }``."""
    check_keys(spec, ("min", "max", "not"), key, loc)
    if "not" in spec:
        if len(spec) > 1:
            raise loc.error(key, "input.policy.not_with_range", value=dict(spec),
                            expected=WHERE_TEXT)
        items = spec["not"] if isinstance(spec["not"], list) else [spec["not"]]
        values = tuple(dict.fromkeys(_where_value(item, f"{key}.not", loc) for item in items))
        if not values or "*" in values:
            raise loc.error(f"{key}.not", "input.policy.empty_not",
                            value=spec["not"])
        return Not(values)
    if not spec:
        raise loc.error(key, "input.policy.empty_condition", expected=WHERE_TEXT)
    lo, hi = (None if side not in spec else read_number(spec[side], f"{key}.{side}", loc)
              for side in ("min", "max"))
    if lo is not None and hi is not None and lo > hi:
        raise _min_over_max(loc, f"{key}.min", f"{key}.max", lo, hi)
    return Range(lo, hi)


def _where_value(value: Any, path: str, loc: Locator) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise loc.error(path, "input.policy.bad_where_value", value=value)


def _bounds(table: Mapping[str, Any], lo_key: str, hi_key: str, measure: Measure, origin: str,
            loc: Locator) -> tuple[float | None, float | None]:
    """The (min, max) pair of one measure, each checked for its range; min <= max."""
    limits: dict[Measure, tuple[float | None, float | None]] = {
        Measure.SHARE: (0.0, 1.0), Measure.AMOUNT: (0.0, None), Measure.COUNT: (0.0, None),
    }
    lo_limit, hi_limit = limits.get(measure, (None, None))
    integer = measure is Measure.COUNT
    found = [None if key not in table else
             float(read_number(table[key], f"{origin}.{key}", loc, lo=lo_limit, hi=hi_limit,
                           integer=integer))
             for key in (lo_key, hi_key)]
    lo, hi = found
    if lo is not None and hi is not None and lo > hi:
        raise _min_over_max(loc, f"{origin}.{lo_key}", f"{origin}.{hi_key}", lo, hi)
    return lo, hi


def _min_over_max(loc: Locator, lo_path: str, hi_path: str, lo: float, hi: float) -> InputError:
    return loc.error(lo_path, "policy.min_over_max",
                     {"lo_path": lo_path, "lo": f"{lo:g}", "hi_path": hi_path, "hi": f"{hi:g}"},
                     value=lo, expected=Message("policy.min_over_max.expected", {"hi": f"{hi:g}"}))


def read_number(value: Any, path: str, loc: Locator, lo: float | None = None,
            hi: float | None = None, lo_open: bool = False, integer: bool = False) -> float:
    """A finite number within [lo, hi] (``lo_open``: > lo); ``integer``: a whole number."""
    kind = "whole" if integer else "number"
    if lo is not None and hi is not None:
        expected = Message(f"input.policy.expected_{kind}_between", {"lo": lo, "hi": hi})
    elif lo is not None:
        expected = Message(f"input.policy.expected_{kind}_from",
                           {"sign": ">" if lo_open else ">=", "lo": lo})
    else:
        expected = Message(f"input.policy.expected_{kind}")
    if isinstance(value, str) and loc.lenient:
        value = _parse_text_number(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise loc.error(path, f"input.policy.not_{kind}", {"path": path}, value=value,
                        expected=expected)
    number = float(value)
    if math.isfinite(number) and abs(number) > MAX_MAGNITUDE:
        raise loc.error(path, "input.policy.too_large", {"path": path, "limit": MAX_MAGNITUDE},
                        value=value)
    bad = (not math.isfinite(number) or (integer and not number.is_integer())
           or (lo is not None and (number <= lo if lo_open else number < lo))
           or (hi is not None and number > hi))
    if bad:
        raise loc.error(path, "input.policy.out_of_range", {"path": path}, value=value,
                        expected=expected)
    return number


def _parse_text_number(text: str) -> Any:
    """Spreadsheet text ``" 1,234.5 "`` / ``"30%"`` → a number; anything else unchanged."""
    cleaned = text.strip().replace(",", "")
    scale = 0.01 if cleaned.endswith("%") else 1.0
    try:
        return float(cleaned.removesuffix("%")) * scale
    except ValueError:
        return text


def read_text(value: Any, path: str, loc: Locator) -> str:
    if loc.lenient and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise loc.error(path, "input.policy.not_text", {"path": path}, value=value)
    return value.strip()


def _table(value: Any, path: str, loc: Locator) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise loc.error(path, "input.policy.not_table", {"path": path}, value=value)
    return value


def check_keys(table: Mapping[str, Any], accepted: Sequence[str], prefix: str,
                loc: Locator) -> None:
    """Every key must be one of ``accepted``; the error suggests the closest one."""
    for key in table:
        if key in accepted:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        close = difflib.get_close_matches(str(key), accepted, n=1)
        raise loc.error(path, "error.unknown_key_close" if close else "error.unknown_key",
                        {"key": key, "close": close[0] if close else ""},
                        expected=Message("expected.one_of", {"items": ", ".join(accepted)}))


# --- [report]: the decision memo's cover (issue 20) -------------------------------------
REPORT_KEYS = ("title", "fund", "round", "prepared_by")


def _report(value: Any, loc: Locator) -> ReportInfo:
    """``[report]``: title, fund, round and prepared_by, each a text (a round may be a
    number: ``round = 2024``)."""
    table = _table(value, "report", loc)
    check_keys(table, REPORT_KEYS, "report", loc)
    texts: dict[str, str] = {}
    for key, item in table.items():
        if isinstance(item, int) and not isinstance(item, bool) and key == "round":
            item = str(item)
        texts[key] = read_text(item, f"report.{key}", loc)
    return ReportInfo(**texts)
