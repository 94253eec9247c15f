"""English words for every message code (see ``fundopt.reports.text``)."""

MESSAGES: dict[str, str] = {
    # --- the policy language of a 管理办法 (issue 19)
    "rules.expr_syntax": "{text!r} is not an arithmetic expression over columns",
    "rules.expr_node": "{what} is not allowed in a column expression",
    "rules.expr_expected": "numbers, numeric columns, + - * /, parentheses, min(a, b), "
                           "max(a, b); e.g. sum(call_2025 + call_2026)",
    "rules.expr_column": "{expression}: column {column!r} {problem} ({table})",
    "rules.expr_missing": "is not in the table",
    "rules.expr_text": "is not numeric",
    "rules.expr_zero": "division by zero in {expression} for this row, which {user} uses",
    "rules.expr_zero_hint": "Fill in a non-zero value, or mark the row exclude (排除) if it "
                            "is not a candidate.",
    "rules.range_text": "a range {range} selects by number, and column {column!r} is text",
    "warning.ineligible": "sub-fund {id} is not eligible ({rule}): {column} = {value}",
    "rules.ineligible_must": "must-fund sub-fund {id} is not eligible ({rule}): "
                             "{column} = {value}",
    "rules.ineligible_must_hint": "Clear its status, or change the rule {key}.",
    "explain.note.ineligible": "an [[eligible]] rule of the policy shuts it out",
    "rules.limit_no_size": "max_stake / min_stake of a limit need a fund_size column",
    "rules.limit_no_size_hint": "Add a fund_size (基金规模) column to the table, or write the "
                                "limit as max = \"EXPR\".",
    "rules.limit_cap": "{label} ({key})",
    "rules.ratio_part": "{side} of a ratio M1 / M2 must be amount, count, sum(EXPR) or "
                        "funded(EXPR), not {text!r}",
    "rules.ratio_expected": "e.g. funded(fund_size) / amount (the leverage rule)",
    "measure.funded": "funded",
    "measure.ratio": "ratio",
    "rules.undeclared": "{value} is not one of the declared values of {column}",
    "rules.undeclared_guess": "{value} is not one of the declared values of {column}; "
                              "did you mean {guess}?",
    "rules.no_candidate": "{column} {value} has no eligible candidate ({key})",
    "rules.penalty_without_target": "penalty is only used with target = true",
    "rules.target_without_penalty": "a target needs a penalty: the objective lost per unit "
                                    "of shortfall",
    "rules.target_measure": "a target on {measure} is not supported in this version",
    "label.targets": "targets",
    "label.target_met": "met",
    "label.target_missed": "missed",
    "label.shortfall": "shortfall",
    "label.target_cost": "cost in objective",
    "label.penalty": "penalty",
    "target.line": "{name}: {state}, shortfall {shortfall}, cost in objective {cost}",
    # --- the CSV plan's eligibility column (issue 19)
    "plan.ineligible_column": "ineligible",
    "plan.ineligible_reason": "{rule}: {column} = {value}",
    # --- policy tables with no sheet form (issue 19)
    "rules.sheet_toml_only": "{table} cannot be written in a workbook's policy sheet in "
                             "this version",
    "rules.sheet_toml_only_hint": "the policy as a TOML file (fundopt solve TABLE.xlsx "
                                  "--policy POLICY.toml), where [[eligible]], [[limits]] "
                                  "and [values] are written as in docs/rules.md",
}
