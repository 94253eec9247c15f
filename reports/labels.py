"""The reports' labels, and the sentences of warnings and relaxations.

Labels are looked up by code in the catalogs of ``reports/text`` (one per language); data
values (region, district, category names, constraint names written by the planner) are
never translated. Sentence templates use ``str.format`` placeholders and are filled by
:func:`warning_text` and :func:`relaxation_text`; a constraint is named by its caption
(``reports.captions``).
"""

from __future__ import annotations

import math

from fundopt.models.domain import CaptionKind
from fundopt.optimizer.result import Relaxation, Warning_
from fundopt.reports.captions import caption_text
from fundopt.reports.text import CATALOGS, say

LANGS = ("en", "zh")

# The table's own columns (SPEC §2), shown by their label.
TABLE_COLUMNS = ("id", "name", "region", "district", "category", "max_ticket", "min_ticket",
                 "fund_size", "score", "status")
# Keys whose values are fractions (shown as percentages in sentences).
FRACTION_KEYS = ("min_share", "max_share", "min_deploy", "max_stake", "max_single")


def label(key: str, lang: str) -> str:
    """The label (or unfilled template) of ``key`` in ``lang``: the catalogs' entry.

    Parameters
    ----------
    key
        A code of the catalogs (``reports/text/en.py``, ``zh.py``).
    lang
        ``"en"`` or ``"zh"``; anything else falls back to English.

    Raises
    ------
    KeyError
        If ``key`` has no label (a bug, not an input problem).
    """
    return CATALOGS["zh" if lang == "zh" else "en"][key]


def column_text(column: str, lang: str) -> str:
    """A table column's name for people: the columns of SPEC §2 by their label
    (``score`` → 评分 in Chinese), any other column by its own name (data)."""
    return label(column, lang) if column in TABLE_COLUMNS else column


def measure_name(measure: str, lang: str) -> str:
    """``share`` → ``占比``; an unknown measure is shown as it is."""
    key = f"measure.{measure}"
    return label(key, lang) if key in CATALOGS["en"] else measure


def bool_text(value: bool, lang: str) -> str:
    """``True`` → ``yes`` / ``是``."""
    return label("yes" if value else "no", lang)


def key_text(key: str, lang: str) -> str:
    """A policy key path for people: ``region.河北.min_share`` → ``地区.河北.占比下限``
    in Chinese (values between the dots are kept), unchanged in English."""
    if lang != "zh":
        return key
    words = CATALOGS[lang]
    return ".".join(words.get(f"key.{part}", part) for part in key.split("."))


def is_policy_key(name: str) -> bool:
    """Whether ``name`` is one of the policy's own keys (``min_funded``, ``budget`` …)."""
    return f"key.{name}" in CATALOGS["en"]


def is_fraction_key(key: str) -> bool:
    """Whether a policy key holds a fraction of a whole (shown as a percentage)."""
    return key.rsplit(".", 1)[-1] in FRACTION_KEYS


def percent_text(value: float) -> str:
    """``0.2`` → ``20%``, ``0.12525`` → ``12.525%`` (no float noise, no trailing zeros)."""
    if not math.isfinite(value):
        return "—"
    return f"{round(value * 100, 9):.6g}%"


def status_text(status: str, lang: str) -> str:
    """The label of a solve status value such as ``"optimal"``."""
    return label(f"status.{status}", lang)


def bound_text(bound: str, lang: str) -> str:
    """``min``/``max`` as a label; other bound names (``budget``…) are policy keys, shown
    by :func:`key_text`."""
    return label(bound, lang) if bound in ("min", "max") else key_text(bound, lang)


def number_text(value: float) -> str:
    """A bound or measure value as the planner would write it (``0.7``, ``12``)."""
    return f"{value:.6g}"


def warning_text(warning: Warning_, lang: str) -> str:
    """One warning as a sentence."""
    key = f"warning.{warning.code}"
    if warning.code == "ineligible":    # the rule's name and the row's value, as written
        return say(key, lang, id=warning.row_id, **warning.detail)
    if key in CATALOGS["en"]:
        detail = {k: number_text(v) if isinstance(v, float) else key_text(str(v), lang)
                  for k, v in warning.detail.items()}
        try:
            return label(key, lang).format(id=warning.row_id, **detail)
        except KeyError:
            pass  # a detail the template needs is missing: fall back to the generic form
    detail_text = ", ".join(f"{k}={v}" for k, v in warning.detail.items())
    return label("warning.other", lang).format(id=warning.row_id, code=warning.code,
                                                detail=detail_text)


def relaxation_text(relaxation: Relaxation, lang: str, key: bool = True) -> str:
    """A suggested change as a sentence, with the policy key it moves unless ``key`` is
    False (a sweep point's reason, one short line of many).

    Example: ``region 河北 share min 0.7 → 0.6 (region.河北.min_share)``.
    """
    caption = relaxation.caption
    # A policy key such as "budget" is both the constraint and the bound: say it once.
    if relaxation.bound == relaxation.constraint:
        head = key_text(relaxation.constraint, lang)
    else:
        # a built-in line is named by the key moved (min_deploy); a [[limits]] entry (no
        # caption) by its own name
        name = (relaxation.constraint if caption is None
                else key_text(relaxation.constraint, lang)
                if caption.kind is CaptionKind.BUILTIN else caption_text(caption, lang))
        head = say("diagnosis.relaxation.bound", lang, name=name,
                   bound=bound_text(relaxation.bound, lang))
    shown = percent_text if _is_share(relaxation) else number_text
    return say("diagnosis.relaxation" if key else "diagnosis.relaxation.short", lang,
               head=head, from_=shown(relaxation.from_value), to=shown(relaxation.to_value),
               key=relaxation.key)


def _is_share(relaxation: Relaxation) -> bool:
    caption = relaxation.caption
    return is_fraction_key(relaxation.key) or (
        caption is not None and caption.measure == (("share", None),))
