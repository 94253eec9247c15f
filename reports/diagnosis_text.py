"""The words of a diagnosis: its reasons (``Message``s of ``optimizer.clash`` and the
must-fund reasons) in the planner's units, from the ``reports.text`` catalogs.

Shared by the terminal panel, the ``.json`` result (``diagnosis.messages``), the
workbook's diagnosis sheet and the scenario comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fundopt.messages import Message
from fundopt.models.domain import Caption
from fundopt.optimizer.result import Diagnosis, Warning_
from fundopt.reports.captions import conflict_names, family_name, name_text
from fundopt.reports.labels import key_text, number_text, percent_text, warning_text
from fundopt.reports.numbers import amount_text, limit_share_text, ratio_text, step_decimals
from fundopt.reports.text import say


def diagnosis_lines(diagnosis: Diagnosis, lang: str) -> list[str]:
    """Every plain reason of ``diagnosis`` as a sentence: what the build found (a must row
    that cannot be funded), then what clashes and by how much."""
    return [reason_text(m, lang, diagnosis.captions)
            for m in (*diagnosis.messages, *diagnosis.reasons)]


def conflict_lines(diagnosis: Diagnosis, lang: str) -> list[str]:
    """The conflicting set, a rule once: a line by its name, the lines of one ``"*"``
    rule as the rule with the values it took (``district count, for each of 3: …``)."""
    captions = diagnosis.captions
    if not diagnosis.conflict_rules:
        return [name_text(name, caption, lang) for name, caption in
                conflict_names(diagnosis.conflict, diagnosis.conflict_ids, captions)]
    found = []
    for rule in diagnosis.conflict_rules:
        caption = captions.get(rule.id)
        if not rule.rows:
            found.append(name_text(rule.label, caption, lang))
            continue
        name = name_text(rule.label, None, lang) if caption is None \
            else family_name(caption, lang)
        found.append(say("diagnosis.rule_rows", lang, rule=name, count=len(rule.rows),
                         rows=", ".join(rule.rows)))
    return found


def reason_text(message: Message, lang: str,
                captions: Mapping[str, Caption] | None = None) -> str:
    """One reason in ``lang``; limits and totals in the units the planner wrote, each
    line named by the caption of its id in ``captions`` (``Diagnosis.captions``)."""
    captions = captions or {}
    v = message.values
    unit = str(v.get("unit", ""))
    code = message.code
    if code == "diagnosis.over_total":
        cap = v["cap"]
        floors = _limits(v["floors"], unit, lang, captions)
        total = (percent_text(v["share"]) if all(f["percent"] for f in v["floors"])
                 else _amount(v["total"], unit))
        if cap["builtin"] and cap["side"] == "max":      # the budget
            return say(code, lang, floors=floors, total=total,
                       cap=say("diagnosis.budget", lang, value=_amount(cap["value"], unit)))
        return say("diagnosis.over_cap", lang, floors=floors, total=total,
                   cap=limit_text(cap, unit, lang, captions))
    if code == "diagnosis.under_total":
        total = (percent_text(v["share"]) if all(c["percent"] for c in v["caps"])
                 else _amount(v["total"], unit))
        return say(code, lang, caps=_limits(v["caps"], unit, lang, captions), total=total,
                   floor=limit_text(v["floor"], unit, lang, captions))
    if code == "diagnosis.alone":
        return say(code, lang, limit=limit_text(v["limit"], unit, lang, captions))
    if code == "diagnosis.clash":
        return say(code, lang, limits=_limits(v["limits"], unit, lang, captions))
    if code.startswith("diagnosis.reach."):
        limit = v["limit"]
        return say(code, lang, limit=limit_text(limit, unit, lang, captions),
                   reach=_value(limit, v["reach"], unit))
    if code == "diagnosis.must_stake_full":
        return say("diagnosis.must_stake", lang, sentence=stake_text(v["id"], v, lang))
    if code == "diagnosis.must_unfundable":
        return say(code, lang, id=v["id"], min_ticket=number_text(v["min_ticket"]),
                   cap=number_text(v["cap"]), key=key_text(v["key"], lang))
    if code.startswith("diagnosis.must_"):
        ids = ", ".join(v["ids"]) or say("diagnosis.none", lang)
        return say(code, lang, ids=ids, total=number_text(v["total"]),
                   budget=number_text(v["budget"]), unit=unit)
    return say(code, lang, **v)


def limit_text(limit: dict[str, Any], unit: str, lang: str,
               captions: Mapping[str, Caption] | None = None) -> str:
    """``region 天津 share ≥ 40%``; the lines of one ``"*"`` rule once, their values
    listed: ``district count ≥ 1 for each of 3: 和平区, 河东区, 南开区``. The line is
    named by the caption of its ``id`` in ``captions``."""
    name = str(limit["name"])
    caption = (captions or {}).get(str(limit.get("id")))
    if "rows" in limit:
        shown = name_text(name, None, lang) if caption is None \
            else family_name(caption, lang)
        values = limit.get("values")
        value = (f"{_value(limit, min(values), unit)}–{_value(limit, max(values), unit)}"
                 if values else _value(limit, limit["value"], unit))
        one = say(f"diagnosis.limit.{limit['side']}", lang, name=shown, value=value)
        return say("diagnosis.limit.rows", lang, limit=one, count=len(limit["rows"]),
                   rows=", ".join(limit["rows"]))
    shown = key_text(name, lang) if limit["builtin"] else name_text(name, caption, lang)
    return say(f"diagnosis.limit.{limit['side']}", lang, name=shown,
               value=_value(limit, limit["value"], unit))


def _limits(limits: list[dict[str, Any]], unit: str, lang: str,
            captions: Mapping[str, Caption]) -> str:
    return say("diagnosis.sep", lang).join(limit_text(x, unit, lang, captions)
                                           for x in limits)


def _value(limit: dict[str, Any], value: float, unit: str) -> str:
    if limit["percent"]:
        return percent_text(value)
    if limit["measure"] == "amount":
        return _amount(value, unit)
    if limit["measure"] == "ratio":          # SPEC §11: a ratio reads as 5.3×
        return ratio_text(value)
    return number_text(value)


def _amount(value: float, unit: str) -> str:
    return f"{number_text(value)} {unit}".strip()


def warning_line(warning: Warning_, lang: str) -> str:
    """One warning as a sentence; a follow-on whose booked stake is full says so with its
    numbers (``its stake booked in round 2024, 0.72 亿元, is already at the cap of 30%``)."""
    if warning.code == "stake_full":
        return stake_text(warning.row_id, warning.detail, lang)
    return warning_text(warning, lang)


def stake_text(row_id: str, v: Any, lang: str) -> str:
    """Why a follow-on cannot get more: the book's stake against its cap (``stake_full``
    details of ``optimizer.build``), amounts in the policy's unit."""
    unit = str(v["unit"])
    amounts = ("booked", "fund_size", "room", "min_ticket")
    decimals = max(step_decimals(float(v[k])) for k in amounts)

    def money(key: str) -> str:
        return amount_text(float(v[key]), decimals, unit)

    rounds = str(v["rounds"])
    where = (say("stake.book", lang) if not rounds
             else say("stake.rounds" if "," in rounds else "stake.round", lang, rounds=rounds))
    full = float(v["room"]) <= 0
    return say("warning.stake_full" if full else "warning.stake_short", lang, id=row_id,
               where=where, booked=money("booked"), stake=limit_share_text(float(v["stake"])),
               fund_size=money("fund_size"), key=", ".join(
                   filter(None, (str(v.get("limit", "")), key_text(str(v["blocked_by"]), lang)))),
               room=money("room"), min_ticket=money("min_ticket"))
