"""What explains the plan, as data and sentences: the relaxed policy, why a sub-fund is in
or out, near-optimal alternatives and shadow price ranges (shared by the terminal, the
``.json`` result and the workbook's diagnosis sheet)."""

from __future__ import annotations

import math
from typing import Any

from fundopt.optimizer.result import Alternative, ConstraintValue, Explanation, Result
from fundopt.reports.captions import name_text
from fundopt.reports.labels import (
    column_text,
    label,
    number_text,
    relaxation_text,
)


def findings_dict(result: Result, ids: list[str], unit: str, lang: str = "en"
                  ) -> dict[str, Any]:
    """The JSON keys of issue 4: ``relaxed`` (always), ``relaxation_applied``,
    ``alternatives`` and ``explain`` (when there are any). ``ids`` are the table's ids in
    input order, ``unit`` the policy's unit of amounts."""
    out: dict[str, Any] = {"relaxed": bool(result.relaxed)}
    if result.relaxed:
        out["relaxation_applied"] = [
            {"constraint": r.constraint, "bound": r.bound, "from": r.from_value,
             "to": r.to_value, "key": r.key, "text": relaxation_text(r, lang)}
            for r in result.relaxed]
    if result.alternatives:
        out["alternatives"] = [alternative_dict(a, ids) for a in result.alternatives]
    if result.explanations:
        out["explain"] = [
            {"id": e.id, "funded": e.funded, "amount": e.amount, "cost": e.cost,
             "column": e.column, "threshold": e.threshold,
             "objective_change": e.objective_change, "forced_amount": e.forced_amount,
             "added": list(e.added), "dropped": list(e.dropped), "binding": list(e.binding),
             "note": e.note, "text": explanation_lines(e, unit, lang)}
            for e in result.explanations]
    return out


def alternative_dict(alternative: Alternative, ids: list[str]) -> dict[str, Any]:
    """One alternative plan: rank, objective, gap, differences and its funded rows."""
    return {
        "rank": alternative.rank, "objective": alternative.objective, "gap": alternative.gap,
        "added": list(alternative.added), "dropped": list(alternative.dropped),
        "allocations": [{"id": i, "amount": float(a)}
                        for i, a in zip(ids, alternative.amounts.tolist(), strict=True)
                        if a > 0],
    }


def price_range_dict(c: ConstraintValue) -> dict[str, Any]:
    """``price_range_low`` / ``price_range_high`` of a constraint line, when computed."""
    if c.price_range_low is None and c.price_range_high is None:
        return {}
    return {"price_range_low": c.price_range_low, "price_range_high": c.price_range_high}


def explanation_lines(e: Explanation, unit: str, lang: str) -> list[str]:
    """Why sub-fund ``e.id`` is in or out, one sentence per finding."""
    def amount(value: float) -> str:
        return f"{number_text(value)} {unit}".strip()

    def fill(key: str, **values: Any) -> str:
        return label(key, lang).format(**values)

    lines = [fill("explain.funded", id=e.id, amount=amount(e.amount)) if e.funded
             else fill("explain.unfunded", id=e.id)]
    if e.threshold is not None:
        # maximize: enters above / leaves below its threshold; minimize: the reverse
        beyond = label("explain.above" if e.threshold >= e.cost else "explain.below", lang)
        lines.append(fill("explain.leave" if e.funded else "explain.enter",
                          column=column_text(e.column, lang) if e.column
                          else label("explain.coefficient", lang),
                          beyond=beyond, threshold=_number(e.threshold),
                          cost=_number(e.cost)))
    if e.objective_change is not None:
        key = "explain.without" if e.funded else "explain.force"
        lines.append(fill(key, change=_number(e.objective_change),
                          forced=amount(e.forced_amount or 0.0)))
    if e.funded:
        pairs = (("explain.replaced", e.added), ("explain.also_drops", e.dropped))
    else:
        pairs = (("explain.displaces", e.dropped), ("explain.brings", e.added))
    lines += [fill(key, ids=", ".join(ids)) for key, ids in pairs if ids]
    if e.note:
        lines.append(label(f"explain.note.{e.note}", lang))
    captions = e.binding_captions or (None,) * len(e.binding)
    names = ", ".join(name_text(n, c, lang)
                      for n, c in zip(e.binding, captions, strict=True))
    lines.append(fill("explain.binding", names=names) if names
                 else label("explain.no_binding", lang))
    return lines


def _number(value: float) -> str:
    return number_text(value) if math.isfinite(value) else str(value)
