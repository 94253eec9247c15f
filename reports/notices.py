"""What every document for people says first about a plan (SPEC §12): its status in words
and the notices that must come before any figure — a relaxed policy, a time limit, a plan
made against the book, no plan at all. Shared by the memo and the workbook's cover."""

from __future__ import annotations

import math

from fundopt.models.domain import Policy
from fundopt.optimizer.result import Result, SolveStatus
from fundopt.reports import numbers
from fundopt.reports.labels import label, relaxation_text
from fundopt.reports.text import say


def status_words(result: Result, lang: str) -> str:
    """The status as a sentence: a relaxed optimum never reads as a plain optimum."""
    if result.status == SolveStatus.OPTIMAL:
        return say("memo.status.optimal_relaxed" if result.relaxed else "memo.status.optimal",
                   lang)
    if result.status in (SolveStatus.FEASIBLE, SolveStatus.INFEASIBLE):
        return say(f"memo.status.{result.status}", lang)
    return say("memo.status.other", lang, status=label(f"status.{result.status}", lang))


def notices(policy: Policy, result: Result, lang: str) -> list[tuple[str, list[str]]]:
    """Each notice as (its sentence, the lines under it), in the order they are shown."""
    found: list[tuple[str, list[str]]] = []
    if result.relaxed:
        found.append((say("memo.notice.relaxed", lang),
                      [relaxation_text(r, lang) for r in result.relaxed]))
    if result.status == SolveStatus.FEASIBLE:
        gap = result.gap
        found.append((say("memo.notice.time_limit", lang, gap=numbers.share_text(gap))
                      if gap is not None and math.isfinite(gap)
                      else say("memo.notice.time_limit_no_gap", lang), []))
    if result.book is not None:
        book = result.book
        decimals = numbers.step_decimals(policy.amount_step)
        found.append((say(
            "memo.notice.book", lang, booked=numbers.amount_text(book.booked, decimals),
            rounds=", ".join(book.rounds) or numbers.DASH,
            committed=numbers.amount_text(book.committed, decimals),
            total=numbers.amount_text(book.fund_total, decimals), unit=policy.unit), []))
    if not result.is_ok:
        found.append((say("memo.notice.infeasible", lang), []))
    return found
