"""Constraint captions in words.

A constraint carries a :class:`~fundopt.models.domain.Caption` made where the constraint
is made (``models.rules.expansion``): what kind of line it is, its subject, measure, conditions
and the values ``"*"`` took. This module turns one into words from the catalogs of
``reports/text`` (the ``caption.*`` codes), in the language asked for. Data values
(region, district names, the planner's own names, expressions) are never translated;
the columns of the table (SPEC §2) and the measures are named by their labels.

Nothing here reads a label: a label is a constraint's key (JSON ``name`` fields), not
text to take apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from fundopt.models.domain import KNOWN_COLUMNS, Caption, CaptionKind, Condition, Not, Range
from fundopt.reports.text import CATALOGS, say


class Captioned(Protocol):
    """Anything named by a label that may carry a caption (a reported constraint)."""

    @property
    def label(self) -> str: ...

    @property
    def caption(self) -> Caption | None: ...


def caption_text(caption: Caption, lang: str) -> str:
    """A constraint's caption as words: ``region 天津 share`` / ``地区 天津 占比``,
    ``avg(risk) where category=前沿技术`` / ``加权平均(risk)，条件 类别=前沿技术``."""
    if caption.kind is CaptionKind.BUILTIN:
        text = say("budget" if caption.subject == "budget" else "funded_count", lang)
    elif caption.kind is CaptionKind.SHORTHAND:
        text = say("caption.shorthand", lang, column=_column(caption.subject, lang),
                   value=_condition(caption.value, lang), measure=measure_words(caption, lang))
    else:
        if caption.kind is CaptionKind.NAMED:
            text = caption.subject
        elif caption.where:
            text = say("caption.where", lang, measure=measure_words(caption, lang),
                       where=_conditions(caption.where, lang))
        elif caption.rows:
            text = measure_words(caption, lang)
        else:
            text = say("caption.all_rows", lang, measure=measure_words(caption, lang))
        if caption.rows:
            text = say("caption.rows", lang, head=text,
                       rows=_conditions([(c, (v,)) for c, v in caption.rows], lang))
    if caption.number > 1:
        text = say("caption.number", lang, head=text, number=caption.number)
    return text


def name_text(name: str, caption: Caption | None, lang: str) -> str:
    """A constraint named by ``name`` in words: its caption, or where it has none, a
    policy key (``min_funded``) by its words and any other name (a ``[[limits]]`` entry,
    named by the planner) as it is."""
    if caption is not None:
        return caption_text(caption, lang)
    from fundopt.reports.labels import is_policy_key, key_text  # labels imports this module

    return key_text(name, lang) if is_policy_key(name) else name


def shown(c: Captioned, lang: str) -> str:
    """A reported constraint (``ConstraintValue``) in words."""
    return name_text(c.label, c.caption, lang)


def family_name(caption: Caption, lang: str) -> str:
    """The rule a line is one of: ``district count`` / ``区县 数量`` for a shorthand line,
    ``risk cap [district=*]`` / ``risk cap [区县=*]`` for a ``"*"`` line."""
    family = caption.family
    if family.kind is CaptionKind.SHORTHAND:
        return say("caption.family", lang, column=_column(family.subject, lang),
                   measure=measure_words(family, lang))
    return caption_text(family, lang)


def family_of(caption: Caption | None) -> Caption | None:
    """The family a line is grouped under (None: a line of its own)."""
    return caption.family if caption is not None and caption.in_family else None


def binding_summary(constraints: Sequence[Captioned], lang: str, least: int = 3
                    ) -> list[str]:
    """Binding constraints for a one-cell list: a family with ``least`` or more lines
    (the per-district counts) becomes one entry ``district count ×16``."""
    counts: dict[Caption | None, int] = {}
    for c in constraints:
        family = family_of(c.caption)
        counts[family] = counts.get(family, 0) + 1
    out: list[str] = []
    seen: set[Caption] = set()
    for c in constraints:
        family = family_of(c.caption)
        if family is not None and c.caption is not None and counts[family] >= least:
            if family not in seen:
                seen.add(family)
                out.append(f"{family_name(c.caption, lang)} ×{counts[family]}")
        else:
            out.append(shown(c, lang))
    return out


def conflict_names(conflict: Sequence[str], ids: Sequence[str],
                   captions: Mapping[str, Caption]) -> list[tuple[str, Caption | None]]:
    """A diagnosis's conflicting lines (``conflict``, their ids ``ids`` in the same
    order) with their captions; a line named after them has no id (a ``[[limits]]``
    entry: no caption; a sweep point's crossed line: its caption by its name)."""
    return [(name, captions.get(ids[i] if i < len(ids) else name))
            for i, name in enumerate(conflict)]


def measure_words(caption: Caption, lang: str) -> str:
    """What a line measures: ``share`` / ``占比``; ``avg(risk)`` / ``加权平均(risk)``; a
    ratio's two parts (``funded(fund_size) / amount`` / ``获投合计(fund_size) / 金额``)."""
    parts = []
    for kind, expression in caption.measure:
        code = f"measure.{kind}"
        word = say(code, lang) if code in CATALOGS[lang] else kind
        parts.append(f"{word}({expression})" if expression else word)
    return " / ".join(parts)


def _column(column: str, lang: str) -> str:
    """A column of SPEC §2 by its label (``district`` → 区县); any other as it is."""
    return say(column, lang) if column in KNOWN_COLUMNS else column


def _condition(condition: Condition, lang: str) -> str:
    """``滨海新区|西青区``; a range ``1..10``; ``not TJ-BH-01`` / ``非 TJ-BH-01``."""
    if isinstance(condition, Range):
        return str(condition)
    if isinstance(condition, Not):
        return say("caption.not", lang, values="|".join(condition.values))
    return "|".join(condition)


def _conditions(where: Iterable[tuple[str, Condition]], lang: str) -> str:
    return say("caption.sep", lang).join(
        say("caption.condition", lang, column=_column(column, lang),
            value=_condition(values, lang)) for column, values in where)
