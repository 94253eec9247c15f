"""中文：每个消息代码的措辞（见 ``fundopt.reports.text``）。"""

MESSAGES: dict[str, str] = {
}
