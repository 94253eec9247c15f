"""English words for every message code (see ``fundopt.reports.text``)."""

MESSAGES: dict[str, str] = {
    # --- plans read back, verify and the book (issue 21)
    "json.too_deep": "objects or arrays nested deeper than {depth} levels",
    "json.too_deep.expected": "at most {depth} levels of nesting",
    "json.invalid": "the file is not JSON: {reason}",
    "plan.format": "unsupported plan format",
    "plan.format.expected": "a .csv, .xlsx or .json plan",
    "plan.unknown_id": "the plan names sub-fund {id}, which is not in the table",
    "plan.unknown_id.expected": "an id of the table: {known}",
    "plan.duplicate_id": "sub-fund {id} is in the plan twice",
    "plan.duplicate_id.expected": "each id once",
    "plan.not_amount": "the amount of {id} is not a number >= 0",
    "plan.not_amount.expected": "a number >= 0 in the policy's unit (blank = 0)",
    "plan.too_large": "the amount of {id} is too large",
    "plan.too_large.expected": "at most {limit}",
    "plan.off_step": "the amount of {id} is not a whole number of steps of {step} {unit}",
    "plan.off_step.expected": "a multiple of amount_step = {step}",
    "plan.json_shape": "the JSON is not a plan",
    "plan.json_shape.expected": ('a solve result, a list of {{"id": …, "amount": …}} or an '
                                 'object {{"id": amount}}'),
    "plan.json_item": "an allocation is not an object with an id",
    "plan.json_item.expected": '{{"id": "…", "amount": …}}',
    "plan.not_readable": "not a readable plan file ({reason})",
    "plan.no_columns": "no header row with an id column and an amount column",
    "plan.no_columns.expected": "columns id (编号) and amount (出资额) in the first 10 rows",
    "plan.unit": "the amount's header names the unit {value}, the policy's unit is {unit}",
    "verify.holds": "Every rule of the policy holds: {funded} sub-funds, {committed}.",
    "verify.broken": "{count} rule(s) broken:",
    "verify.below": "{label} ({key}{scope}): {value}, below its minimum {limit}",
    "verify.above": "{label} ({key}{scope}): {value}, above its maximum {limit}",
    "verify.fund_scope": ", whole fund",
    "verify.row.max_ticket": "sub-fund {id}: {value}, above its max_ticket {limit}",
    "verify.row.max_stake": "sub-fund {id}: {value}, above max_stake × fund_size {limit}",
    "verify.row.max_single": "sub-fund {id}: {value}, above max_single × budget {limit}",
    "verify.row.min_ticket": "sub-fund {id}: {value}, below its minimum ticket {limit}",
    "verify.row.must": "sub-fund {id} must be funded (status must): gets {value}, needs {limit}",
    "verify.row.exclude": "sub-fund {id} is excluded (status exclude) but gets {value}",
    "verify.row.amount_step": "sub-fund {id}: {value} is not a whole number of steps of {limit}",
    "verify.row.negative": "sub-fund {id}: the amount {value} is negative",
    "verify.objective": "Objective of this plan: {objective}; optimum: {optimum}; loss: {loss}",
    "verify.no_optimum": ("Objective of this plan: {objective}; the policy has no optimum "
                          "({status})"),
    "book.bad_location": "not a book this fundopt can open",
    "book.bad_location.expected": ("a file path (SQLite), sqlite:///path or "
                                   "postgresql://user@host[:port]/database"),
    "book.sqlite_url": "an sqlite:/// URL must name a file and take no options",
    "book.sqlite_url.expected": "sqlite:///relative/path or sqlite:////absolute/path",
    "book.not_file": "the book path is not a regular file",
    "book.empty": "there is no book here yet (an empty file or database)",
    "book.empty.hint": ("A book is created by the first `fundopt book add`; reading never "
                        "creates one. Check the --book path."),
    "book.bad_version": "the book's schema version is not a version number: the book is damaged",
    "book.bad_version.hint": ("Restore the book from a backup; fundopt does not rewrite a "
                              "damaged book."),
    "book.damaged": "the book is damaged: round {round} does not read back",
    "book.damaged.hint": ("Restore the book from a backup; fundopt does not rewrite a "
                          "damaged book."),
    "book.same_plan": "this plan is already booked as round {round}",
    "book.same_plan.hint": ("The same plan (same inputs, same amounts) is booked once; void "
                            "round {round} first to book it under another name."),
    "book.changed": "the book changed while this plan was being checked",
    "book.changed.hint": "Solve again against the book as it is now, then book the new plan.",
    "booking.bad_field": "the plan file's field is missing or malformed",
    "booking.bad_field.expected": "the value fundopt solve wrote there",
    "booking.bad_hash": "the plan file's SHA-256 is missing or malformed",
    "booking.bad_hash.expected": "64 hexadecimal digits, as fundopt solve wrote them",
    "booking.no_policy_hash": "the plan records no SHA-256 of its policy",
    "booking.no_policy_hash.expected": ("the policy's SHA-256 (only a policy read from the "
                                        ".xlsx table's own sheets has none)"),
    "booking.changed_while_read": "an input file changed while the plan was being booked",
    "booking.changed_while_read.hint": "Book it again once nobody edits the files.",
    "booking.stale": ("the plan was solved against another state of the book (last round "
                      "then: {last}; now: {now})"),
    "booking.stale.hint": ("A round was added or voided since: solve again with --book and "
                           "book the new plan."),
    "booking.solved_without_book": ("the policy has scope = \"fund\" rules, but the plan "
                                    "was solved without the book"),
    "booking.solved_without_book.hint": "Solve again with --book BOOK and book the new plan.",
    "booking.breaks_policy": "the plan breaks {count} rule(s) of its policy",
    "booking.breaks_policy.hint": ("Only a plan that keeps the policy is booked. A plan "
                                   "solved with --relax is booked with --accept relaxed."),
    "booking.breaks_feasible_policy": ("the plan breaks {count} rule(s) of a policy that "
                                       "can be met: it is not a relaxed plan"),
    "booking.breaks_feasible_policy.hint": "Solve again and book the new plan.",
    "booking.breaks_relaxation": ("the plan breaks {count} rule(s) even under the relaxation "
                                  "fundopt suggests"),
    "booking.breaks_relaxation.hint": "Solve again with --relax and book the new plan.",
    "booking.no_optimum": "the plan's inputs have no optimum now ({status})",
    "booking.not_optimal": ("the plan is not the optimum of its inputs: objective {objective}, "
                            "optimum {optimum}"),
    "booking.not_optimal.hint": ("An edited plan is not booked; a plan stopped by --time-limit "
                                 "is booked with --accept time_limit."),
    "book.mark.relaxed": "relaxed",
    "book.mark.time_limit": "time limit",
    "book.fact.mark": "booked with",
    "book.fact.relaxation": "relaxation applied",
    "book.fact.plan_sha256": "plan SHA-256",
    "book.fact.solved_against": "solved against book",
    "uncertainty.seed": "uncertainty.seed must be a whole number from 0 to {limit}",
    "step.too_fine": ("amount_step = {step:g} is finer than {fraction:g} of the budget "
                      "({budget:g}): the solver cannot resolve so many steps exactly"),
    "step.too_fine.expected": "amount_step >= {smallest:g} (a coarser contract unit)",
}
