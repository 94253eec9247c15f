"""English words for every message code (see ``fundopt.reports.text``)."""

MESSAGES: dict[str, str] = {
    # --- infeasibility diagnosis (issue 18)
    "diagnosis.limit.min": "{name} ≥ {value}",
    "diagnosis.limit.max": "{name} ≤ {value}",
    "diagnosis.limit.rows": "{limit} for each of {count}: {rows}",
    "diagnosis.sep": ", ",
    "diagnosis.budget": "the {value} budget",
    "diagnosis.over_total": "{floors}: together {total} of {cap}",
    "diagnosis.over_cap": "{floors}: together {total}, more than {cap}",
    "diagnosis.under_total": "{caps}: together at most {total}, less than {floor}",
    "diagnosis.clash": "these rules cannot all hold: {limits}",
    "diagnosis.alone": "{limit}: no plan can meet this rule alone (tickets, must-fund rows)",
    "diagnosis.reach.min": "{limit}: with the rest of the policy it reaches at most {reach}",
    "diagnosis.reach.max": "{limit}: with the rest of the policy it cannot go below {reach}",
    "diagnosis.must_over_budget": (
        "the must-fund sub-funds {ids} need at least {total} {unit} in all (their minimum "
        "tickets), more than the budget of {budget} {unit}"),
    "diagnosis.must_and_tickets": (
        "the policy stays infeasible even with every policy bound relaxed: the must-fund "
        "sub-funds {ids} (at least {total} {unit}) and the ticket bounds conflict"),
    "diagnosis.none": "(none)",
    # --- diagnosis: relaxations, grouped conflicts, must rows as data (issue 18)
    "diagnosis.relaxation": "{head} {from_} → {to} ({key})",
    "diagnosis.relaxation.bound": "{name} {bound}",
    "diagnosis.rule_rows": "{rule}, for each of {count}: {rows}",
    "diagnosis.must_unfundable": (
        "must-fund sub-fund {id} cannot be funded: its minimum ticket {min_ticket} exceeds "
        "its cap {cap} ({key})"),
    "diagnosis.heading": "diagnosis",
    "diagnosis.heading.relaxation": "suggested relaxation",
    "diagnosis.heading.conflict": "conflicting constraints",
    "diagnosis.heading.reasons": "reasons",
    "diagnosis.no_relaxation": "no relaxation of the policy bounds makes it feasible",
    "diagnosis.point.fix": "fix: {change}",
    "diagnosis.point.conflict": "conflict: {names}",
}
