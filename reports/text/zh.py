"""中文：每个消息代码的措辞（见 ``fundopt.reports.text``）。"""

MESSAGES: dict[str, str] = {
    # --- infeasibility diagnosis (issue 18)
    "diagnosis.limit.min": "{name} ≥ {value}",
    "diagnosis.limit.max": "{name} ≤ {value}",
    "diagnosis.limit.rows": "{limit}（每项，共 {count} 项：{rows}）",
    "diagnosis.sep": "，",
    "diagnosis.budget": "{value}预算",
    "diagnosis.over_total": "{floors}：合计占 {cap}的 {total}",
    "diagnosis.over_cap": "{floors}：合计 {total}，超过 {cap}",
    "diagnosis.under_total": "{caps}：合计至多 {total}，低于 {floor}",
    "diagnosis.clash": "以下规则无法同时满足：{limits}",
    "diagnosis.alone": "{limit}：仅此一条规则就无法满足（出资上下限、必投子基金）",
    "diagnosis.reach.min": "{limit}：在其余政策下最多只能达到 {reach}",
    "diagnosis.reach.max": "{limit}：在其余政策下不能低于 {reach}",
    "diagnosis.must_over_budget": (
        "必投子基金 {ids} 的最低出资合计至少 {total} {unit}，超过预算 {budget} {unit}"),
    "diagnosis.must_and_tickets": (
        "即使放宽所有政策边界仍不可行：必投子基金 {ids}（至少 {total} {unit}）"
        "与出资上下限相互冲突"),
    "diagnosis.none": "（无）",
    # --- diagnosis: relaxations, grouped conflicts, must rows as data (issue 18)
    "diagnosis.relaxation": "{head} {from_} → {to}（政策键 {key}）",
    "diagnosis.relaxation.bound": "{name} {bound}",
    "diagnosis.rule_rows": "{rule}（共 {count} 项：{rows}）",
    "diagnosis.must_unfundable": (
        "必投子基金 {id} 无法获得出资：最低出资 {min_ticket} 超过其上限 {cap}（{key}）"),
    "diagnosis.heading": "诊断",
    "diagnosis.heading.relaxation": "建议放宽",
    "diagnosis.heading.conflict": "相互冲突的约束",
    "diagnosis.heading.reasons": "原因",
    "diagnosis.no_relaxation": "放宽政策边界无法使问题可行",
    "diagnosis.point.fix": "调整：{change}",
    "diagnosis.point.conflict": "冲突：{names}",
}
