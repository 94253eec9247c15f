"""What ``fundopt verify`` prints: each broken rule with its value and limit in the
policy's words, then the plan's objective and its loss against the optimum."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from fundopt.optimizer.verify import RuleCheck, VerifyRun
from fundopt.reports.terminal.summary import amount_text, measure_text
from fundopt.reports.text import say


def render_verify(console: Console, run: VerifyRun, lang: str) -> None:
    """Print the verdict of ``fundopt verify``."""
    unit = run.inputs.policy.unit
    broken = run.verdict.broken
    if broken:
        console.print(Text(say("verify.broken", lang, count=len(broken))), soft_wrap=True)
        for check in broken:
            console.print(Text("  " + rule_text(check, unit, lang)), soft_wrap=True)
    else:
        funded = int((run.amounts > 0).sum())
        console.print(Text(say("verify.holds", lang, funded=funded,
                               committed=amount_text(float(run.amounts.sum()), unit))))
    for check in run.verdict.checks:
        if check.shortfall:                # SPEC §11: a missed target, said, not broken
            console.print(Text("  " + target_text(check, unit, lang)), soft_wrap=True)
    objective = f"{run.verdict.objective:,.2f}"
    if run.optimum is None:
        console.print(Text(say("verify.no_optimum", lang, objective=objective,
                               status=run.optimum_status)))
    else:
        loss = run.loss
        console.print(Text(say("verify.objective", lang, objective=objective,
                               optimum=f"{run.optimum:,.2f}",
                               loss=f"{loss:,.2f}" if loss is not None else "-")))


def rule_text(check: RuleCheck, unit: str, lang: str) -> str:
    """A broken rule in words: what it is, the plan's value and the limit."""
    value = measure_text(check.value, check.measure, unit)
    if check.row is not None:
        limit = (f"{check.limit:g} {unit}" if check.rule == "amount_step"
                 else measure_text(check.limit, check.measure, unit))
        return say(f"verify.row.{check.rule}", lang, id=check.row, value=value, limit=limit,
                   label=check.label, key=check.key, cause=check.cause)
    scope = say("verify.fund_scope", lang) if check.scope == "fund" else ""
    return say("verify.below" if check.side == "min" else "verify.above", lang,
               label=check.label, key=check.key, scope=scope, value=value,
               limit=measure_text(check.limit, check.measure, unit))


def target_text(check: RuleCheck, unit: str, lang: str) -> str:
    """A missed target (力争) in words: its value, its bound and the shortfall."""
    scope = say("verify.fund_scope", lang) if check.scope == "fund" else ""
    return say("verify.target_missed", lang, label=check.label, key=check.key, scope=scope,
               value=measure_text(check.value, check.measure, unit),
               limit=measure_text(check.limit, check.measure, unit),
               shortfall=measure_text(check.shortfall, check.measure, unit))
