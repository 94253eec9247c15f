"""中文：每个消息代码的措辞（见 ``fundopt.reports.text``）。"""

MESSAGES: dict[str, str] = {
    # --- the policy language of a 管理办法 (issue 19)
    "rules.expr_syntax": "{text!r} 不是由列构成的算术表达式",
    "rules.expr_node": "列表达式中不允许 {what}",
    "rules.expr_expected": "数字、数值列、+ - * /、括号、min(a, b)、max(a, b)；"
                           "例如 sum(call_2025 + call_2026)",
    "rules.expr_column": "{expression}：列 {column!r} {problem}（{table}）",
    "rules.expr_missing": "不在表格中",
    "rules.expr_text": "不是数值列",
    "rules.expr_zero": "{expression} 在该行除以零，而 {user} 需要该值",
    "rules.expr_zero_hint": "请填入非零值，或将该行标记为排除（exclude）。",
    "rules.range_text": "范围 {range} 按数值筛选，而列 {column!r} 是文本列",
    "warning.ineligible": "子基金 {id} 不符合条件（{rule}）：{column} = {value}",
    "rules.ineligible_must": "必投子基金 {id} 不符合条件（{rule}）：{column} = {value}",
    "rules.ineligible_must_hint": "请清除其状态，或修改规则 {key}。",
    "explain.note.ineligible": "不符合政策中的 [[eligible]] 条件",
    "rules.limit_no_size": "限额的 max_stake / min_stake 需要 fund_size（基金规模）列",
    "rules.limit_no_size_hint": "请在表格中加入 fund_size（基金规模）列，"
                                "或将限额写成 max = \"表达式\"。",
    "rules.limit_cap": "{label}（{key}）",
    "rules.ratio_part": "比值 M1 / M2 的 {side} 须为 amount、count、sum(表达式) 或 funded(表达式)，"
                        "而不是 {text!r}",
    "rules.ratio_expected": "例如 funded(fund_size) / amount（放大倍数）",
    "measure.funded": "获投合计",
    "measure.ratio": "比值",
    "rules.undeclared": "{value} 不是 {column} 已声明的取值",
    "rules.undeclared_guess": "{value} 不是 {column} 已声明的取值；是否应为 {guess}？",
    "rules.no_candidate": "{column} {value} 没有符合条件的候选子基金（{key}）",
    "rules.penalty_without_target": "penalty 只能与 target = true 一起使用",
    "rules.target_without_penalty": "力争目标需要 penalty：每单位差额使目标函数减少的值",
    "rules.target_measure": "本版本不支持对 {measure} 设置力争目标",
    "label.targets": "力争目标",
    "label.target_met": "已达成",
    "label.target_missed": "未达成",
    "label.shortfall": "差额",
    "label.target_cost": "目标函数代价",
    "label.penalty": "单位代价",
    "target.line": "{name}：{state}，差额 {shortfall}，目标函数代价 {cost}",
    # --- the CSV plan's eligibility column (issue 19)
    "plan.ineligible_column": "不符合条件",
    "plan.ineligible_reason": "{rule}：{column} = {value}",
    # --- policy tables with no sheet form (issue 19)
    "rules.sheet_toml_only": "本版本中 {table} 不能写在工作簿的 policy 表中",
    "rules.sheet_toml_only_hint": "TOML 政策文件（fundopt solve TABLE.xlsx "
                                  "--policy POLICY.toml），其中按 docs/rules.md 书写 "
                                  "[[eligible]]、[[limits]] 与 [values]",
}
