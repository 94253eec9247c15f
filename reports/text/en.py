"""English words for every message code (see ``fundopt.reports.text``)."""

MESSAGES: dict[str, str] = {
}
