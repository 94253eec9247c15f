"""Read and validate the planner's policy (SPEC §3) into a typed ``Policy``.

The policy comes from a TOML file (``load_policy``) or from the ``policy`` / ``constraints``
sheets of an ``.xlsx`` table (``policy_from_sheets``). Both are first turned into the same
nested dict (the TOML document's shape) and validated by one function, ``policy_from_tree``, so a
typo is caught the same way wherever it was written. Expansion of ``"*"`` against the
table lives in ``models.expansion``.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fundopt.coded import coded_error
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
from fundopt.models.expression import ExpressionError, parse_expression
from fundopt.models.files import load_toml
from fundopt.models.limits import MAX_MAGNITUDE, MIN_STEP_FRACTION
from fundopt.models.sheets import sheet_tree

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
WHERE_TEXT = ('column = "value", ["v1", "v2"], "*", { min = A, max = B } (numbers) or '
              '{ not = ["v1"] }')
MEASURES_TEXT = ("amount, share, count, sum(EXPR), avg(EXPR), funded(EXPR), groups(COL) or a "
                 "ratio M1 / M2 of amount, count, sum(EXPR), funded(EXPR)")

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

    def error(self, path: str, message: str, **details: Any) -> InputError:
        file, row = self.locate(path)
        return InputError(message, file=file, row=row, column=path, **details)


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
    _check_keys(data, TOP_KEYS, "", loc)
    if "budget" not in data:
        raise loc.error("budget", "budget is missing", expected="a number > 0, e.g. budget = 40",
                        message_zh="缺少 budget（本轮出资总额）")

    def number(key: str, lo: float | None = 0.0, hi: float | None = None,
               lo_open: bool = False, default: float | None = None) -> float | None:
        if key not in data:
            return default
        return _number(data[key], key, loc, lo=lo, hi=hi, lo_open=lo_open)

    def count(key: str) -> int | None:
        return None if key not in data else int(_number(data[key], key, loc, lo=0.0,
                                                        integer=True))

    max_funded, min_funded = count("max_funded"), count("min_funded")
    if max_funded is not None and min_funded is not None and min_funded > max_funded:
        raise _min_over_max(loc, "min_funded", "max_funded", min_funded, max_funded)
    uncertainty = None
    if "uncertainty" in data:
        from fundopt.models.uncertainty import parse_uncertainty  # imports this module

        uncertainty = parse_uncertainty(data["uncertainty"], loc)
    objective = _objective(data["objective"], loc) if "objective" in data else Objective()
    if uncertainty is not None and uncertainty.reviewers and "objective" not in data:
        from fundopt.models.uncertainty import panel_objective

        objective = panel_objective(uncertainty)
    eligible: tuple[Eligibility, ...] = ()
    if "eligible" in data:
        from fundopt.models.eligibility import parse_eligible  # imports this module

        eligible = parse_eligible(data["eligible"], loc)
    limits: tuple[Limit, ...] = ()
    if "limits" in data:
        from fundopt.models.row_limits import parse_limits  # imports this module

        limits = parse_limits(data["limits"], loc)
    declared = _declared(data["values"], loc) if "values" in data else ()
    rules: list[Rule] = []
    for key, value in data.items():
        if key in SHORTHAND_GROUPS:
            rules += _shorthand(key, value, loc)
        elif key == "constraints":
            rules += _general(value, loc)
    budget = float(_number(data["budget"], "budget", loc, lo=0.0, lo_open=True))
    step = number("amount_step", lo_open=True)
    if step is not None and step < MIN_STEP_FRACTION * budget:
        raise coded_error("step.too_fine", file=loc.file, column="amount_step", value=step,
                          step=step, budget=budget, fraction=MIN_STEP_FRACTION,
                          smallest=MIN_STEP_FRACTION * budget)
    return Policy(
        budget=budget,
        source=loc.file,
        unit=_text(data["unit"], "unit", loc) if "unit" in data else Policy.unit,
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
            raise loc.error(key, f"{key} must be a list of values", value=items,
                            expected='e.g. district = ["滨海新区", "西青区"]')
        values = tuple(dict.fromkeys(_where_value(item, key, loc) for item in items))
        if "*" in values:
            raise loc.error(key, '"*" is not a value', value="*",
                            expected="the values the column may take")
        out.append((str(column).strip(), values))
    return tuple(out)


def _objective(value: Any, loc: Locator) -> Objective:
    """``[objective]``: exactly one of maximize, minimize, weights (+ optional sense)."""
    table = _table(value, "objective", loc)
    _check_keys(table, OBJECTIVE_KEYS, "objective", loc)
    given = [key for key in ("maximize", "minimize", "weights") if key in table]
    if len(given) != 1:
        raise loc.error("objective", "[objective] needs exactly one of maximize, minimize, weights",
                        value=given or None, expected='e.g. maximize = "score"',
                        message_zh="[objective] 须且只能给出 maximize、minimize、weights 之一")
    kind = given[0]
    if kind != "weights":
        if "sense" in table:
            raise loc.error("objective.sense", f"sense is only used with weights; {kind} "
                            "already states the sense", value=table["sense"])
        column = _text(table[kind], f"objective.{kind}", loc)
        return Objective(Sense(kind), {column: 1.0}, normalize=False)
    sense = Sense.MAXIMIZE
    if "sense" in table:
        text = _text(table["sense"], "objective.sense", loc).lower()
        if text not in tuple(Sense):
            raise loc.error("objective.sense", "unknown sense", value=text,
                            expected="maximize or minimize")
        sense = Sense(text)
    weights = _table(table["weights"], "objective.weights", loc)
    if not weights:
        raise loc.error("objective.weights", "weights names no column",
                        expected="e.g. weights = { score = 0.7, leverage = 0.3 }")
    return Objective(sense, {str(col).strip(): _number(w, f"objective.weights.{col}", loc)
                             for col, w in weights.items()}, normalize=True)


def _shorthand(group: str, value: Any, loc: Locator) -> list[Rule]:
    """``[region."天津"]`` etc.: one Rule per measure with a bound (share, amount, count)."""
    rules = []
    for name, bounds_value in _table(value, group, loc).items():
        origin = f"{group}.{name}"
        if name in SHORTHAND_KEYS and not isinstance(bounds_value, Mapping):
            raise loc.error(origin, f"{name} must be inside a {group} table",
                            expected=f'[{group}."<value>"] {name} = ...',
                            hint=f'Name the {group} first, e.g. [{group}."天津"] or '
                                 f'[{group}."*"] for every {group}.')
        bounds = _table(bounds_value, origin, loc)
        _check_keys(bounds, SHORTHAND_KEYS, origin, loc)
        given = [key for key in bounds if key not in ("scope", "target", "penalty")]
        if not given or not str(name).strip():
            raise loc.error(origin, "no bounds given" if not given else f"empty {group} name",
                            expected="one of " + ", ".join(SHORTHAND_KEYS[:-3]))
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


def _general(value: Any, loc: Locator) -> list[Rule]:
    """``[[constraints]]`` tables: the general form."""
    if not isinstance(value, list):
        raise loc.error("constraints", "constraints must be a list of tables",
                        value=value, expected='[[constraints]] tables, each with measure = "..."')
    rules = []
    for i, item in enumerate(value, start=1):
        origin = f"constraints[{i}]"
        table = _table(item, origin, loc)
        _check_keys(table, CONSTRAINT_KEYS, origin, loc)
        if "measure" not in table:
            raise loc.error(f"{origin}.measure", "measure is missing", expected=MEASURES_TEXT)
        if "min" not in table and "max" not in table:
            raise loc.error(origin, "the constraint has neither min nor max",
                            expected="min and/or max")
        ratio = _ratio(_text(table["measure"], f"{origin}.measure", loc),
                       f"{origin}.measure", loc)
        measure, column = (Measure.RATIO, None) if ratio else \
            _measure(table["measure"], f"{origin}.measure", loc)
        lo, hi = _bounds(table, "min", "max", measure, origin, loc)
        name = _text(table["name"], f"{origin}.name", loc) if "name" in table else None
        where = _where(table.get("where", {}), f"{origin}.where", loc)
        scope = _scope(table, origin, loc)
        target, penalty = _target(table, measure, origin, loc)
        rules.append(Rule(name or None, where, measure, column, lo, hi, origin,
                          scope=scope, ratio=ratio, target=target, penalty=penalty))
    return rules


def _target(table: Mapping[str, Any], measure: Measure, origin: str, loc: Locator
            ) -> tuple[bool, float | None]:
    """``target = true, penalty = P`` (SPEC §11): a bound that may be missed at a cost."""
    if "target" in table and not isinstance(table["target"], bool):
        raise loc.error(f"{origin}.target", "target must be true or false",
                        value=table["target"], expected="target = true")
    target = bool(table.get("target", False))
    if "penalty" in table and not target:
        message = Message("rules.penalty_without_target")
        raise loc.error(f"{origin}.penalty", message.text("en"), value=table["penalty"],
                        expected="target = true beside penalty = P",
                        message_zh=message.text("zh"))
    if not target:
        return False, None
    if "penalty" not in table:
        message = Message("rules.target_without_penalty")
        raise loc.error(f"{origin}.penalty", message.text("en"),
                        expected="penalty = P (objective per unit of shortfall)",
                        message_zh=message.text("zh"))
    if measure in (Measure.AVG, Measure.RATIO):
        message = Message("rules.target_measure", {"measure": str(measure)})
        raise loc.error(f"{origin}.target", message.text("en"), value=str(measure),
                        expected="amount, share, count, sum(EXPR) or funded(EXPR)",
                        message_zh=message.text("zh"))
    return True, _number(table["penalty"], f"{origin}.penalty", loc, lo=0.0)


def _scope(table: Mapping[str, Any], origin: str, loc: Locator) -> Scope:
    """``scope = "round"`` (the default) or ``"fund"`` (SPEC §9)."""
    if "scope" not in table:
        return Scope.ROUND
    text = table["scope"].strip().lower() if isinstance(table["scope"], str) else None
    if text not in tuple(Scope):
        raise loc.error(f"{origin}.scope", "unknown scope", value=table["scope"],
                        expected='"round" (this round\'s commitments) or "fund" (the rounds '
                                 'in the book plus this one)',
                        message_zh="未知的 scope（口径）",
                        expected_zh='"round"（仅本轮出资）或 "fund"（账簿中各轮加本轮）')
    return Scope(text)


def _measure(value: Any, path: str, loc: Locator) -> tuple[Measure, str | None]:
    """``"amount"`` → (AMOUNT, None); ``"avg( risk )"`` → (AVG, "risk");
    ``"sum(call_2025 + call_2026)"`` → (SUM, "call_2025 + call_2026") (SPEC §11)."""
    text = _text(value, path, loc)
    match = _MEASURE.match(text)
    if match and (match["plain"] or "").lower() in ("amount", "share", "count"):
        return Measure(match["plain"].lower()), None
    head = text.split("(")[0].strip().lower()
    inner = text[text.index("(") + 1: text.rindex(")")].strip() \
        if "(" in text and text.rstrip().endswith(")") else ""
    if head in ("sum", "avg", "funded") and inner and _ratio_sides(text) is None:
        return Measure(head), _expression(inner, path, loc)
    if head == "groups" and inner:                # groups(COL): a column, any kind
        return Measure.GROUPS, inner
    if match and head in ("sum", "avg", "funded", "groups"):     # avg(): no column
        raise loc.error(path, f"{head}() needs a column name inside the brackets",
                        value=text, expected=f"e.g. {head}(risk)",
                        message_zh=f"{head}() 的括号中缺少列名", expected_zh=f"如 {head}(risk)")
    close = difflib.get_close_matches(head, ["amount", "share", "count", "sum", "avg", "funded",
                                             "groups"], n=1)
    guess = close[0] if close else None
    if guess in ("sum", "avg") and "(" in text:
        guess = guess + text[text.index("("):].strip()
    raise loc.error(path, f"unknown measure {text!r}" + (f"; did you mean {guess!r}?" if guess
                                                          else ""),
                    expected=MEASURES_TEXT, message_zh=f"未知的指标 {text!r}")


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
            parts.append(Part(Measure(head), _expression(inner, path, loc)))
        else:
            values = {"side": name, "text": side.strip()}
            raise loc.error(path, Message("rules.ratio_part", values).text("en"), value=text,
                            expected=Message("rules.ratio_expected").text("en"),
                            message_zh=Message("rules.ratio_part", values).text("zh"),
                            expected_zh=Message("rules.ratio_expected").text("zh"))
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


def _expression(text: str, path: str, loc: Locator) -> str:
    """A column expression (SPEC §11) in its canonical spelling; a text that does not
    parse at all is kept as written (a header such as ``call 2025``, checked against
    the table later). Anything but arithmetic over columns is an input error."""
    try:
        return parse_expression(text).text
    except ExpressionError as exc:
        if exc.reason == "expr_syntax" and not re.search(r"[-+*/()]", text):
            return text
        message = Message(f"rules.{exc.reason}", {"text": text, "what": exc.detail})
        raise loc.error(path, message.text("en"), value=text,
                        expected=Message("rules.expr_expected").text("en"),
                        message_zh=message.text("zh"),
                        expected_zh=Message("rules.expr_expected").text("zh")) from None


def _where(value: Any, path: str, loc: Locator) -> Where:
    """``where = { column = "v" | ["v1", "v2"] | "*" | { min = A, max = B } |
    { not = ["v1"] } }`` → ((column, condition), ...)."""
    pairs: list[tuple[str, Condition]] = []
    for column, spec in _table(value, path, loc).items():
        key = f"{path}.{column}"
        if not str(column).strip():
            raise loc.error(key, "empty condition", expected=WHERE_TEXT)
        if isinstance(spec, Mapping):
            pairs.append((str(column).strip(), _condition(spec, key, loc)))
            continue
        items = spec if isinstance(spec, list) else [spec]
        values = tuple(dict.fromkeys(_where_value(item, key, loc) for item in items))
        if not values:
            raise loc.error(key, "empty condition", expected=WHERE_TEXT)
        if "*" in values and len(values) > 1:
            raise loc.error(key, '"*" must stand alone', value=list(values),
                            expected='"*" or a list of values')
        pairs.append((str(column).strip(), values))
    return tuple(pairs)


def _condition(spec: Mapping[str, Any], key: str, loc: Locator) -> Range | Not:
    """``{ min = A, max = B }`` (either end optional) or ``{ not = [values] }``."""
    _check_keys(spec, ("min", "max", "not"), key, loc)
    if "not" in spec:
        if len(spec) > 1:
            raise loc.error(key, "not cannot be combined with min or max", value=dict(spec),
                            expected=WHERE_TEXT)
        items = spec["not"] if isinstance(spec["not"], list) else [spec["not"]]
        values = tuple(dict.fromkeys(_where_value(item, f"{key}.not", loc) for item in items))
        if not values or "*" in values:
            raise loc.error(f"{key}.not", "not needs the values to leave out",
                            value=spec["not"], expected='e.g. { not = ["TJ-BH-01"] }')
        return Not(values)
    if not spec:
        raise loc.error(key, "empty condition", expected=WHERE_TEXT)
    lo, hi = (None if side not in spec else _number(spec[side], f"{key}.{side}", loc)
              for side in ("min", "max"))
    if lo is not None and hi is not None and lo > hi:
        raise _min_over_max(loc, f"{key}.min", f"{key}.max", lo, hi)
    return Range(lo, hi)


def _where_value(value: Any, path: str, loc: Locator) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise loc.error(path, "a where value must be non-empty text or a number", value=value,
                    expected='column = "value", ["v1", "v2"] or "*"')


def _bounds(table: Mapping[str, Any], lo_key: str, hi_key: str, measure: Measure, origin: str,
            loc: Locator) -> tuple[float | None, float | None]:
    """The (min, max) pair of one measure, each checked for its range; min <= max."""
    limits: dict[Measure, tuple[float | None, float | None]] = {
        Measure.SHARE: (0.0, 1.0), Measure.AMOUNT: (0.0, None), Measure.COUNT: (0.0, None),
    }
    lo_limit, hi_limit = limits.get(measure, (None, None))
    integer = measure is Measure.COUNT
    found = [None if key not in table else
             float(_number(table[key], f"{origin}.{key}", loc, lo=lo_limit, hi=hi_limit,
                           integer=integer))
             for key in (lo_key, hi_key)]
    lo, hi = found
    if lo is not None and hi is not None and lo > hi:
        raise _min_over_max(loc, f"{origin}.{lo_key}", f"{origin}.{hi_key}", lo, hi)
    return lo, hi


def _min_over_max(loc: Locator, lo_path: str, hi_path: str, lo: float, hi: float) -> InputError:
    return loc.error(lo_path, "", code="policy.min_over_max",
                     values={"lo_path": lo_path, "lo": f"{lo:g}", "hi_path": hi_path,
                             "hi": f"{hi:g}"},
                     value=lo, expected=Message("policy.min_over_max.expected", {"hi": f"{hi:g}"}))


def _number(value: Any, path: str, loc: Locator, lo: float | None = None,
            hi: float | None = None, lo_open: bool = False, integer: bool = False) -> float:
    """A finite number within [lo, hi] (``lo_open``: > lo); ``integer``: a whole number."""
    kind = "a whole number" if integer else "a number"
    bound = [f">{'' if lo_open else '='} {lo:g}" if lo is not None and hi is None else "",
             f"between {lo:g} and {hi:g}" if lo is not None and hi is not None else ""]
    expected = " ".join([kind, *filter(None, bound)])
    if isinstance(value, str) and loc.lenient:
        value = _parse_text_number(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise loc.error(path, f"{path} must be {kind}", value=value, expected=expected,
                        message_zh=f"{path} 应为数字")
    number = float(value)
    if math.isfinite(number) and abs(number) > MAX_MAGNITUDE:
        raise loc.error(path, f"{path} is too large for the solver", value=value,
                        expected=f"{expected} of at most {MAX_MAGNITUDE:g}",
                        message_zh=f"{path} 数值过大，求解器无法处理")
    bad = (not math.isfinite(number) or (integer and not number.is_integer())
           or (lo is not None and (number <= lo if lo_open else number < lo))
           or (hi is not None and number > hi))
    if bad:
        raise loc.error(path, f"{path} is out of range", value=value, expected=expected,
                        message_zh=f"{path} 超出允许范围")
    return number


def _parse_text_number(text: str) -> Any:
    """Spreadsheet text ``" 1,234.5 "`` / ``"30%"`` → a number; anything else unchanged."""
    cleaned = text.strip().replace(",", "")
    scale = 0.01 if cleaned.endswith("%") else 1.0
    try:
        return float(cleaned.removesuffix("%")) * scale
    except ValueError:
        return text


def _text(value: Any, path: str, loc: Locator) -> str:
    if loc.lenient and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise loc.error(path, f"{path} must be non-empty text", value=value,
                        expected='text in quotes, e.g. "score"', message_zh=f"{path} 应为文本")
    return value.strip()


def _table(value: Any, path: str, loc: Locator) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise loc.error(path, f"{path} must be a table", value=value,
                        expected=f"[{path}] with keys below it, or an inline table {{ ... }}",
                        expected_zh=f"[{path}] 及其下的键，或内联表 {{ ... }}")
    return value


def _check_keys(table: Mapping[str, Any], accepted: Sequence[str], prefix: str,
                loc: Locator) -> None:
    """Every key must be one of ``accepted``; the error suggests the closest one."""
    for key in table:
        if key in accepted:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        close = difflib.get_close_matches(str(key), accepted, n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        guess_zh = f"，是否应为 {close[0]!r}？" if close else ""
        raise loc.error(path, f"unknown key {key!r}{guess}",
                        expected="one of " + ", ".join(accepted),
                        message_zh=f"未知的键 {key!r}{guess_zh}")


# --- [report]: the decision memo's cover (issue 20) -------------------------------------
REPORT_KEYS = ("title", "fund", "round", "prepared_by")


def _report(value: Any, loc: Locator) -> ReportInfo:
    """``[report]``: title, fund, round and prepared_by, each a text (a round may be a
    number: ``round = 2024``)."""
    table = _table(value, "report", loc)
    _check_keys(table, REPORT_KEYS, "report", loc)
    texts: dict[str, str] = {}
    for key, item in table.items():
        if isinstance(item, int) and not isinstance(item, bool) and key == "round":
            item = str(item)
        texts[key] = _text(item, f"report.{key}", loc)
    return ReportInfo(**texts)
