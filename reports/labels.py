"""Every user-facing label of the reports, in English and Chinese.

Labels are looked up by key; data values (region, district, category names, constraint
labels written by the planner) are never translated. Sentence templates use
``str.format`` placeholders and are filled by :func:`warning_text` and
:func:`relaxation_text`.
"""

from __future__ import annotations

import math
import re

from fundopt.messages import Said
from fundopt.optimizer.result import Relaxation, Warning_
from fundopt.reports.text import CATALOGS, say

LANGS = ("en", "zh")

LABELS: dict[str, tuple[str, str]] = {
    # solve status (SolveStatus values)
    "status.optimal": ("optimal", "最优"),
    "status.feasible": ("feasible (not proven optimal)", "可行（未证明最优）"),
    "status.infeasible": ("infeasible", "不可行"),
    "status.unbounded": ("unbounded", "无界"),
    "status.no_solution": ("no solution found", "未找到解"),
    "status.time_limit": ("time limit reached", "已达到时间限制"),
    # summary fields
    "status": ("status", "状态"),
    "objective": ("objective", "目标值"),
    "committed": ("committed", "已承诺出资"),
    "budget": ("budget", "预算"),
    "committed_share": ("share of budget committed", "出资占预算比例"),
    "funded_count": ("funded sub-funds", "获出资子基金数"),
    "candidates": ("candidate sub-funds", "候选子基金数"),
    "unit": ("unit", "单位"),
    "gap": ("MIP gap", "整数规划间隙"),
    "solver": ("solver", "求解器"),
    "seconds": ("seconds", "耗时（秒）"),
    "key_figures": ("key figures", "关键指标"),
    # per-row output columns (the canonical input columns keep the planner's header)
    "id": ("id", "编号"),
    "name": ("name", "名称"),
    "amount": ("amount", "出资额"),
    "max_ticket": ("max_ticket", "最高出资"),
    "min_ticket": ("min_ticket", "最低出资"),
    "fund_size": ("fund_size", "基金规模"),
    "score": ("score", "评分"),
    "funded": ("funded", "是否出资"),
    "share_of_budget": ("share_of_budget", "占预算比例"),
    "stake": ("stake", "占子基金比例"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    # group totals
    "region": ("region", "地区"),
    "category": ("category", "类别"),
    "district": ("district", "区县"),
    "share": ("share", "占比"),
    "count": ("count", "数量"),
    "totals_by": ("totals by {group}", "按{group}汇总"),
    "blank": ("(blank)", "（空）"),
    # constraint report
    "constraint": ("constraint", "约束"),
    "constraint_id": ("id", "编号"),
    "measure": ("measure", "度量"),
    "value": ("value", "取值"),
    "min": ("min", "下限"),
    "max": ("max", "上限"),
    "slack": ("slack", "松弛量"),
    "binding": ("binding", "是否紧约束"),
    "bound": ("binding bound", "紧约束边界"),
    "shadow_price": ("shadow price", "影子价格"),
    "binding_constraints": ("binding constraints", "紧约束"),
    "no_binding": ("no constraint is binding", "没有紧约束"),
    # funded sub-funds
    "funded_subfunds": ("funded sub-funds", "获出资子基金"),
    "more_rows": ("… and {n} more (see the output files)", "……另有 {n} 个（见输出文件）"),
    # warnings
    "warnings": ("warnings", "警告"),
    "warning.unfundable": (
        "sub-fund {id} cannot be funded: its minimum ticket {min_ticket} exceeds its cap "
        "{cap} ({blocked_by})",
        "子基金 {id} 无法获得出资：最低出资 {min_ticket} 超过其上限 {cap}（{blocked_by}）",
    ),
    "warning.other": ("sub-fund {id}: {code} {detail}", "子基金 {id}：{code} {detail}"),
    # diagnosis of an infeasible policy
    "diagnosis": ("diagnosis", "诊断"),
    "relaxation": ("suggested relaxation", "建议放宽"),
    "relaxation.sentence": ("{head} {from_} → {to} ({key})", "{head} {from_} → {to}（{key}）"),
    "conflict": ("conflicting constraints", "相互冲突的约束"),
    "messages": ("reasons", "原因"),
    "no_relaxation": ("no relaxation of the policy bounds makes it feasible",
                      "放宽政策边界无法使问题可行"),
    # manifest
    "manifest.fundopt": ("fundopt version", "fundopt 版本"),
    "manifest.input": ("input table", "输入表"),
    "manifest.input_sha256": ("input SHA-256", "输入表 SHA-256"),
    "manifest.sheet": ("input sheet", "输入工作表"),
    "manifest.policy": ("policy", "政策文件"),
    "manifest.policy_sha256": ("policy SHA-256", "政策 SHA-256"),
    "manifest.solver": ("solver", "求解器"),
    "manifest.seconds": ("seconds", "耗时（秒）"),
    "manifest.created": ("created", "生成时间"),
    "field": ("field", "项目"),
    # sheet names
    "phase": ("phase", "阶段"),
    "phases": ("time by phase", "各阶段耗时"),
    "phase.read": ("read inputs", "读取输入"),
    "phase.build": ("build model", "构建模型"),
    "phase.solve": ("solve", "求解"),
    "phase.duals": ("constraint report", "约束报告"),
    "phase.diagnose": ("diagnose", "诊断"),
    "phase.write": ("write outputs", "写出文件"),
    "phase.total": ("total", "合计"),
    "check.ok": ("table and policy are valid", "表格与政策校验通过"),
    "check.rows": ("candidate sub-funds", "候选子基金"),
    "check.constraints": ("policy constraints (after \"*\" expansion)",
                          "政策约束（展开“*”后）"),
    "check.model": ("model", "模型"),
    "check.model_size": ("{cols} variables ({ints} binary), {rows} rows",
                         "{cols} 个变量（其中 {ints} 个二元变量），{rows} 行约束"),
    "sheet.plan": ("plan", "方案"),
    "sheet.summary": ("summary", "汇总"),
    "sheet.constraints": ("constraints", "约束"),
    "sheet.manifest": ("manifest", "清单"),
    # explaining the plan (issue 4): relaxed solve, explain, alternatives, price ranges
    "sheet.diagnosis": ("diagnosis", "诊断"),
    "relaxed.banner": (
        "RELAXED POLICY: the policy as written has no feasible plan; this plan is under the "
        "policy with these changes applied",
        "已放宽政策：原政策无可行方案；本方案是在应用以下调整后的政策下求得的"),
    "relaxed.applied": ("applied changes", "已应用的调整"),
    "explain": ("why in, why out", "入选与落选原因"),
    "explain.funded": ("{id}: funded with {amount}", "{id}：获得出资 {amount}"),
    "explain.unfunded": ("{id}: not funded", "{id}：未获出资"),
    "explain.coefficient": ("its objective coefficient", "其目标系数"),
    "explain.above": ("above", "高于"),
    "explain.below": ("below", "低于"),
    "explain.enter": ("it would enter the plan with {column} {beyond} {threshold} (now {cost})",
                      "若 {column} {beyond} {threshold}，将进入方案（当前 {cost}）"),
    "explain.leave": ("it would leave the plan with {column} {beyond} {threshold} (now {cost})",
                      "若 {column} {beyond} {threshold}，将退出方案（当前 {cost}）"),
    "explain.force": ("forcing it in (at least {forced}) lowers the objective by {change}",
                      "强制投资（至少 {forced}）使目标值降低 {change}"),
    "explain.without": ("leaving it out lowers the objective by {change}",
                        "不投资它使目标值降低 {change}"),
    "explain.displaces": ("it would displace: {ids}", "将挤出：{ids}"),
    "explain.brings": ("and bring in: {ids}", "并带入：{ids}"),
    "explain.replaced": ("it would be replaced by: {ids}", "将由以下子基金替代：{ids}"),
    "explain.also_drops": ("and also drop: {ids}", "并同时退出：{ids}"),
    "explain.binding": ("binding constraints that include it: {names}",
                        "包含它的紧约束：{names}"),
    "explain.no_binding": ("no binding constraint includes it", "没有包含它的紧约束"),
    "explain.note.excluded": ("it is marked exclude", "已标记为排除"),
    "explain.note.unfundable": ("its minimum ticket exceeds its cap: it cannot be funded",
                                "其最低出资超过上限，无法获得出资"),
    "explain.note.must": ("it is a must-fund row (the figures above set that rule aside)",
                          "为必投子基金（以上数字假设取消该规则）"),
    "explain.note.forced_infeasible": ("the policy cannot be met with it funded",
                                       "若投资它，政策无法满足"),
    "explain.note.needed": ("the policy cannot be met without it", "不投资它，政策无法满足"),
    "alternatives": ("near-optimal alternatives", "近似最优备选方案"),
    "alt.rank": ("rank", "排名"),
    "alt.gap": ("gap to optimum", "与最优差距"),
    "alt.added": ("funds added", "新增子基金"),
    "alt.dropped": ("funds dropped", "移除子基金"),
    "price_ranges": ("shadow price ranges", "影子价格有效区间"),
    "range_low": ("holds from", "有效区间下限"),
    "range_high": ("holds to", "有效区间上限"),
    # scenarios, sweeps and the review workbook (issue 3)
    "sheet.cover": ("cover", "封面"),
    "sheet.pivot": ("region x category", "地区×类别"),
    "sheet.districts": ("districts", "区县汇总"),
    "sheet.audit": ("constraint audit", "约束核查"),
    "sheet.compare": ("comparison", "情景对比"),
    "sheet.changes": ("plan changes", "方案变化"),
    "sheet.plans": ("plans", "各情景方案"),
    "sheet.sweep": ("sweep", "参数扫描"),
    "sheet.sweep_amounts": ("amounts by point", "各点出资额"),
    "cover.title.solve": ("fundopt review workbook: allocation plan",
                          "fundopt 审阅工作簿：子基金配置方案"),
    "cover.title.compare": ("fundopt review workbook: scenario comparison",
                            "fundopt 审阅工作簿：情景对比"),
    "cover.title.sweep": ("fundopt review workbook: parameter sweep",
                          "fundopt 审阅工作簿：参数扫描"),
    "cover.files": ("input files", "输入文件"),
    "cover.path": ("path", "路径"),
    "cover.date": ("date", "日期"),
    "cover.scenarios": ("scenario file", "情景文件"),
    "cover.scenario_count": ("scenarios (with baseline)", "情景数（含基准）"),
    "cover.infeasible_count": ("infeasible scenarios", "不可行情景数"),
    "cover.error_count": ("scenarios with input errors", "输入有误的情景数"),
    "cover.param": ("swept parameter", "扫描参数"),
    "cover.points": ("points", "扫描点数"),
    "cover.feasible_points": ("feasible points", "可行点数"),
    "cover.best": ("best objective", "最佳目标值"),
    "total": ("total", "合计"),
    "audit.line": ("policy line", "政策条款"),
    "audit.limit": ("limit", "限值"),
    "chart.by_region": ("allocation by region", "按地区配置"),
    "chart.by_category": ("allocation by category", "按类别配置"),
    "chart.compare_region": ("committed by region per scenario", "各情景按地区出资"),
    "chart.objective_curve": ("objective by {param}", "目标值随 {param} 变化"),
    "scenario": ("scenario", "情景"),
    "description": ("description", "说明"),
    "baseline": ("baseline", "基准"),
    "status.input_error": ("input error", "输入有误"),
    "error": ("error", "错误"),
    "amount_of": ("amount: {group}", "出资额：{group}"),
    "share_of": ("share: {group}", "占比：{group}"),
    "change": ("change", "变化"),
    "change.added": ("added", "新增"),
    "change.dropped": ("dropped", "移除"),
    "change.changed": ("changed", "调整"),
    "baseline_amount": ("baseline amount", "基准出资额"),
    "scenario_amount": ("scenario amount", "情景出资额"),
    "delta": ("difference", "差额"),
    "no_changes": ("same plan as the baseline", "与基准方案相同"),
    "param_value": ("value", "参数值"),
    "marginal": ("marginal value per unit", "单位边际价值"),
    "funded_set_changed": ("funded set changed", "出资名单变化"),
    "added": ("added", "新增"),
    "dropped": ("dropped", "移除"),
    "progress.solving": ("solving", "求解中"),
    # measures (ConstraintValue.measure) and policy words inside generated labels
    "measure.amount": ("amount", "金额"),
    "measure.share": ("share", "占比"),
    "measure.count": ("count", "数量"),
    "measure.sum": ("sum", "合计"),
    "measure.avg": ("avg", "加权平均"),
    "label.all_rows": ("(all rows)", "（全部行）"),
    "label.where": ("where", "条件"),
    # binding constraints of one family on one line (detail in the workbook)
    "family.at_limit": ("{family}: {n} at a limit ({detail}); each is listed in the "
                        "workbook's constraints sheet",
                        "{family}：{n} 项达到限值（{detail}）；逐项见工作簿“约束”表"),
    "family.at_min": ("{n} at the min", "{n} 项在下限"),
    "family.at_max": ("{n} at the max", "{n} 项在上限"),
    "limit": ("limit", "限值"),
    # relaxation texts
    "policy_key": ("{key}", "政策键 {key}"),
    # output files and starter files
    "wrote": ("wrote {path}", "已写出 {path}"),
    # sweep: the short reason of an infeasible point
    "reason": ("reason", "原因"),
    "short.funded": ("funded", "出资数"),
    "short.marginal": ("marginal", "边际价值"),
    "reason.conflict": ("conflict: {names}", "冲突：{names}"),
    "reason.fix": ("fix: {change}", "调整：{change}"),
    # compare sheet, transposed (one row per scenario)
    "cover.note.infeasible": ("no plan meets the policy: see the diagnosis below",
                              "没有满足政策的方案：见下方诊断"),
    "print.page": ("page &P of &N", "第 &P 页，共 &N 页"),
    "progress.solving_on": ("{solving} ({where})", "{solving}（{where}）"),
    "engine.serial": ("in this process", "本进程串行"),
    "engine.local": ("{workers} local processes", "本机 {workers} 个进程"),
    "engine.dask": ("Dask cluster, {workers} workers", "Dask 集群，{workers} 个工作进程"),
    "batch.worker_lost": ("A worker process died ({how}). No finished result is lost: the "
                          "{points} points not yet solved run again on new workers "
                          "(restart {restart}).",
                          "一个工作进程意外退出（{how}）。已完成的结果均保留：尚未求解的 {points} "
                          "个点在新的工作进程上重新求解（第 {restart} 次重启）。"),
    "batch.killed_by": ("killed by {signal}", "被 {signal} 终止"),
    "batch.exit_code": ("exit code {code}", "退出码 {code}"),
    "batch.unknown_exit": ("cause unknown", "原因不明"),
    # uncertain scores (issue 10): robust plans and stability
    "phase.robust": ("robust model", "稳健模型"),
    "robust": ("robust plan", "稳健方案"),
    "robust.criterion": ("criterion", "稳健准则"),
    "robust.criterion.worst": ("worst reviewer's total score", "最不利评审的总评分"),
    "robust.criterion.cvar": ("mean of the worst {alpha:.0%} of the scenarios",
                              "最不利 {alpha:.0%} 情形的平均值"),
    "robust.scenarios": ("scenarios", "情形"),
    "robust.scenarios.reviewers": ("{count} reviewers, equally weighted",
                                   "{count} 位评审，权重相同"),
    "robust.scenarios.draws": ("{count} sampled score draws", "{count} 次抽样评分"),
    "robust.plan": ("robust plan", "稳健方案"),
    "robust.nominal_plan": ("nominal optimum", "名义最优方案"),
    "robust.value": ("value under the criterion", "稳健准则取值"),
    "robust.nominal_objective": ("nominal objective (mean score)", "名义目标值（平均评分）"),
    "robust.price": ("price of robustness (nominal objective given up)",
                     "稳健代价（放弃的名义目标值）"),
    "robust.reviewer_total": ("total score: {reviewer}", "总评分：{reviewer}"),
    "robust.added": ("funded only in the robust plan", "仅在稳健方案中获出资"),
    "robust.dropped": ("funded only in the nominal optimum", "仅在名义最优方案中获出资"),
    "robust.same_plan": ("the robust plan funds the same sub-funds as the nominal optimum",
                         "稳健方案与名义最优方案的出资名单相同"),
    "sheet.robust": ("robust plan", "稳健方案"),
    "stability": ("stability under uncertain scores", "评分不确定下的稳定性"),
    "sheet.stability": ("stability", "稳定性"),
    "cover.title.stability": ("fundopt review workbook: stability of the plan",
                              "fundopt 审阅工作簿：方案稳定性"),
    "stability.draws": ("draws", "抽样次数"),
    "stability.seed": ("seed", "随机种子"),
    "stability.solved": ("draws with a plan", "有方案的抽样次数"),
    "stability.engine": ("engine", "计算方式"),
    "funded_share": ("funded share of draws", "获出资抽样比例"),
    "mean_amount": ("mean amount", "平均出资额"),
    "group": ("group", "分组"),
    "group.core": ("core", "核心"),
    "group.contested": ("contested", "有争议"),
    "group.out": ("out", "落选"),
    "in_nominal_plan": ("in the nominal plan", "在名义方案中"),
    "nominal_amount": ("nominal amount", "名义出资额"),
    "objective.p5": ("objective p5", "目标值 5% 分位"),
    "objective.p50": ("objective p50 (median)", "目标值中位数"),
    "objective.p95": ("objective p95", "目标值 95% 分位"),
    "stability.groups": ("core {core} · contested {contested} · out {out}",
                         "核心 {core} 个 · 有争议 {contested} 个 · 落选 {out} 个"),
    "chart.funded_share": ("share of draws in which each sub-fund is funded",
                           "各子基金在抽样中获出资的比例"),
    "explain.stability": ("funded in {share:.0%} of {draws} score draws ({group})",
                          "在 {draws} 次评分抽样中有 {share:.0%} 获出资（{group}）"),
    # the fund's book (fundopt book …, solve --book)
    "book": ("book", "账簿"),
    "book.added": ("booked round {round}: {funded} sub-funds, {committed} ({book})",
                   "已登记轮次 {round}：{funded} 个子基金，{committed}（{book}）"),
    "book.voided": ("round {round} is void: {reason}", "轮次 {round} 已作废：{reason}"),
    "book.round": ("round", "轮次"),
    "book.commitments": ("commitments", "出资明细"),
    "book.state": ("state", "状态"),
    "book.active": ("active", "有效"),
    "book.void": ("void", "已作废"),
    "book.empty": ("no round booked yet", "尚未登记任何轮次"),
    "book.name": ("round", "轮次"),
    "book.status": ("plan status", "方案状态"),
    "book.objective": ("objective", "目标值"),
    "book.budget": ("budget", "预算"),
    "book.committed": ("committed", "已承诺出资"),
    "book.funded": ("funded sub-funds", "获出资子基金数"),
    "book.unit": ("unit", "单位"),
    "book.note": ("note", "备注"),
    "book.booked_at": ("booked at", "登记时间"),
    "book.planned_at": ("solved at", "求解时间"),
    "book.input_path": ("table", "表格文件"),
    "book.input_sha256": ("table SHA-256", "表格 SHA-256"),
    "book.policy_path": ("policy", "政策文件"),
    "book.policy_sha256": ("policy SHA-256", "政策 SHA-256"),
    "book.fundopt": ("fundopt version", "fundopt 版本"),
    "book.solver": ("solver", "求解器"),
    "book.voided_at": ("void since", "作废时间"),
    "book.void_reason": ("void reason", "作废原因"),
    "book.totals": ("the fund's book: {book} (rounds: {rounds})",
                    "基金账簿：{book}（轮次：{rounds}）"),
    "book.booked": ("booked earlier", "此前已登记"),
    "book.this_round": ("this round", "本轮"),
    "book.fund_total": ("fund total", "基金合计"),
    "book.fund_share": ("share of fund", "占基金比例"),
    "book.by": ("{group}: booked and this round", "按{group}：已登记与本轮"),
    "book.fund_constraints": ("fund-scope constraints (book + this round)",
                              "基金口径约束（账簿 + 本轮）"),
    "book.fund_value": ("fund value", "基金口径取值"),
    "book.follow_ons": ("follow-ons (sub-funds already in the book)",
                        "追加出资（账簿中已有的子基金）"),
    "book.sheet": ("book", "账簿"),
}

# Policy keys and their Chinese names, for key paths shown to people (a swept parameter).
KEY_WORDS: dict[str, str] = {
    "budget": "预算", "min_deploy": "最低投出比例", "max_stake": "占子基金规模上限",
    "max_single": "单只占预算上限", "min_ticket": "默认最低出资", "max_funded": "最多出资数量",
    "min_funded": "最少出资数量", "max_ticket": "最高出资", "region": "地区",
    "category": "类别", "district": "区县",
    "min_share": "占比下限", "max_share": "占比上限", "min_amount": "金额下限",
    "max_amount": "金额上限", "min_count": "数量下限", "max_count": "数量上限",
    "constraints": "约束", "min": "下限", "max": "上限", "objective": "目标",
    "weights": "权重",
}
# The table's own columns (SPEC §2), shown by their label.
TABLE_COLUMNS = ("id", "name", "region", "district", "category", "max_ticket", "min_ticket",
                 "fund_size", "score", "status")
# Keys whose values are fractions (shown as percentages in sentences).
FRACTION_KEYS = ("min_share", "max_share", "min_deploy", "max_stake", "max_single")
# A label made from a shorthand table: "region 天津 share" (expansion of the policy).
SHORTHAND = re.compile(r"^(region|category|district) (.+) (amount|share|count)( #\d+)?$")
GENERAL = re.compile(r"^(amount|share|count|sum|avg)(\(.*?\))?( where | \(all rows\)|$)")
STAR_SUFFIX = re.compile(r" \[([^\]]*)\]$")


def label(key: str, lang: str) -> str:
    """The label of ``key`` in ``lang``.

    Parameters
    ----------
    key
        A key of :data:`LABELS`.
    lang
        ``"en"`` or ``"zh"``; anything else falls back to English.

    Returns
    -------
    str
        The label.

    Raises
    ------
    KeyError
        If ``key`` has no label (a bug, not an input problem).
    """
    if key not in LABELS and key in CATALOGS["en"]:    # new words live in the catalogs
        return say(key, "zh" if lang == "zh" else "en")
    en, zh = LABELS[key]
    return zh if lang == "zh" else en


def constraint_name(name: str, lang: str) -> str:
    """A constraint's name for display.

    The built-in lines ``budget`` and ``funded`` are labels; a name fundopt made from the
    policy (``region 天津 share``, ``avg(risk) where category=前沿技术``, a ``"*"`` suffix
    ``[district=静海区]``) has its words translated and its values kept; a name the
    planner wrote (``risk cap``) is the planner's own words and stays as is.
    """
    builtin = {"budget": "budget", "funded": "funded_count"}
    if name in builtin:
        return label(builtin[name], lang)
    if lang != "zh":
        return name
    if name in KEY_WORDS:  # a policy key standing for its rule: min_deploy, max_funded …
        return KEY_WORDS[name]
    shorthand = SHORTHAND.match(name)
    if shorthand:
        column, value, measure, number = shorthand.groups()
        return (f"{label(column, lang)} {value} {label(f'measure.{measure}', lang)}"
                f"{number or ''}")
    suffix = STAR_SUFFIX.search(name)
    head = name[: suffix.start()] if suffix else name
    general = GENERAL.match(head)
    if general:
        measure, column, tail = general.groups()
        head = label(f"measure.{measure}", lang) + (column or "")
        rest = name[general.end(): suffix.start() if suffix else None]
        if tail == " where ":
            head += f"，{label('label.where', lang)} {_zh_columns(rest)}"
        elif tail == " (all rows)":
            head += label("label.all_rows", lang)
    if suffix:
        head += f" [{_zh_columns(suffix.group(1))}]"
    return head


def _zh_columns(text: str) -> str:
    """``district=静海区, region=天津`` with the canonical column names in Chinese."""
    parts = []
    for part in text.split(", "):
        column, sep, value = part.partition("=")
        if column in ("region", "category", "district"):
            column = label(column, "zh")
        parts.append(f"{column}{sep}{value}")
    return ", ".join(parts)


def column_text(column: str, lang: str) -> str:
    """A table column's name for people: the columns of SPEC §2 by their label
    (``score`` → 评分 in Chinese), any other column by its own name (data)."""
    return label(column, lang) if column in TABLE_COLUMNS else column


def measure_name(measure: str, lang: str) -> str:
    """``share`` → ``占比``; an unknown measure is shown as it is."""
    key = f"measure.{measure}"
    return label(key, lang) if key in LABELS or key in CATALOGS["en"] else measure


def bool_text(value: bool, lang: str) -> str:
    """``True`` → ``yes`` / ``是``."""
    return label("yes" if value else "no", lang)


def key_text(key: str, lang: str) -> str:
    """A policy key path for people: ``region.河北.min_share`` → ``地区.河北.占比下限``
    in Chinese (values between the dots are kept), unchanged in English."""
    if lang != "zh":
        return key
    return ".".join(KEY_WORDS.get(part, part) for part in key.split("."))


def is_fraction_key(key: str) -> bool:
    """Whether a policy key holds a fraction of a whole (shown as a percentage)."""
    return key.rsplit(".", 1)[-1] in FRACTION_KEYS


def percent_text(value: float) -> str:
    """``0.2`` → ``20%``, ``0.12525`` → ``12.525%`` (no float noise, no trailing zeros)."""
    if not math.isfinite(value):
        return "—"
    return f"{round(value * 100, 9):.6g}%"


def status_text(status: str, lang: str) -> str:
    """The label of a solve status value such as ``"optimal"``."""
    return label(f"status.{status}", lang)


def bound_text(bound: str, lang: str) -> str:
    """``min``/``max`` as a label; other bound names (``budget``…) are policy keys, shown
    by :func:`key_text`."""
    return label(bound, lang) if bound in ("min", "max") else key_text(bound, lang)


def number_text(value: float) -> str:
    """A bound or measure value as the planner would write it (``0.7``, ``12``)."""
    return f"{value:.6g}"


def warning_text(warning: Warning_, lang: str) -> str:
    """One warning as a sentence."""
    key = f"warning.{warning.code}"
    if key in CATALOGS[lang]:           # a warning whose words are in the message catalogs
        return say(key, lang, id=warning.row_id, **warning.detail)
    if key in LABELS:
        detail = {k: number_text(v) if isinstance(v, float) else key_text(str(v), lang)
                  for k, v in warning.detail.items()}
        try:
            return label(key, lang).format(id=warning.row_id, **detail)
        except KeyError:
            pass  # a detail the template needs is missing: fall back to the generic form
    detail_text = ", ".join(f"{k}={v}" for k, v in warning.detail.items())
    return label("warning.other", lang).format(id=warning.row_id, code=warning.code,
                                                detail=detail_text)


def relaxation_text(relaxation: Relaxation, lang: str) -> str:
    """A suggested change as a sentence.

    Example: ``region 河北 share min 0.7 → 0.6 (region.河北.min_share)``.
    """
    # A policy key such as "budget" is both the constraint and the bound: say it once.
    if relaxation.bound == relaxation.constraint:
        head = key_text(relaxation.constraint, lang)
    else:
        head = constraint_name(relaxation.constraint, lang) + " " + bound_text(
            relaxation.bound, lang)
    shown = percent_text if _is_share(relaxation) else number_text
    return label("relaxation.sentence", lang).format(
        head=head,
        from_=shown(relaxation.from_value), to=shown(relaxation.to_value),
        key=label("policy_key", lang).format(key=relaxation.key),
    )


def _is_share(relaxation: Relaxation) -> bool:
    return is_fraction_key(relaxation.key) or relaxation.constraint.endswith(" share")


def family_of(name: str) -> str:
    """The family of a generated constraint label: ``district 滨海新区 count`` →
    ``district * count``; ``risk cap [district=静海区]`` → ``risk cap [district=*]``;
    ``""`` for a line of its own."""
    shorthand = SHORTHAND.match(name)
    if shorthand:
        return f"{shorthand.group(1)} * {shorthand.group(3)}"
    suffix = STAR_SUFFIX.search(name)
    if suffix:
        stars = ", ".join(part.partition("=")[0] + "=*" for part in suffix.group(1).split(", "))
        return f"{name[: suffix.start()]} [{stars}]"
    return ""


def family_name(family: str, lang: str) -> str:
    """A family for people: ``district * count`` → ``district count`` / ``区县 数量``."""
    shorthand = SHORTHAND.match(family)
    if shorthand:
        column, _, measure, _ = shorthand.groups()
        return f"{label(column, lang)} {measure_name(measure, lang)}"
    return constraint_name(family, lang)


def binding_summary(names: list[str], lang: str, least: int = 3) -> list[str]:
    """Binding constraint names for a one-cell list: a family with ``least`` or more
    lines (the per-district counts) becomes one entry ``district count ×16``."""
    families: dict[str, int] = {}
    for name in names:
        family = family_of(name)
        families[family] = families.get(family, 0) + 1
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        family = family_of(name)
        if family and families[family] >= least:
            if family not in seen:
                seen.add(family)
                out.append(f"{family_name(family, lang)} ×{families[family]}")
        else:
            out.append(constraint_name(name, lang))
    return out


# The diagnosis' plain reasons come from the optimizer as English sentences; these are
# their Chinese forms (an unknown sentence is shown as it is).
MESSAGES_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^must-fund sub-fund (?P<id>.+) cannot be funded: its minimum ticket "
                r"(?P<low>\S+) exceeds its cap (?P<cap>\S+) \((?P<key>[^)]*)\)$"),
     "必投子基金 {id} 无法获得出资：最低出资 {low} 超过其上限 {cap}（{key}）"),
    (re.compile(r"^the must-fund sub-funds (?P<ids>.+) need at least (?P<total>\S+) "
                r"(?P<unit>\S*) ?in all \(their minimum tickets\), more than the budget of "
                r"(?P<budget>\S+) (?P<unit2>\S*)$"),
     "必投子基金 {ids} 的最低出资合计至少 {total} {unit}，超过预算 {budget} {unit2}"),
    (re.compile(r"^the policy stays infeasible even with every policy bound relaxed: the "
                r"must-fund sub-funds (?P<ids>.+) \(at least (?P<total>\S+) (?P<unit>[^)]*)\)"
                r" and the ticket bounds conflict$"),
     "即使放宽所有政策边界仍不可行：必投子基金 {ids}（至少 {total} {unit}）与出资上下限相互冲突"),
)


def message_text(message: str, lang: str) -> str:
    """A plain reason of a diagnosis in ``lang``."""
    if isinstance(message, Said):           # worded from the catalogs
        return message.message.text("zh" if lang == "zh" else "en")
    if lang != "zh":
        return message
    for pattern, template in MESSAGES_ZH:
        match = pattern.match(message)
        if match:
            values = match.groupdict()
            if "key" in values:
                values["key"] = key_text(values["key"], lang)
            if values.get("ids") == "(none)":
                values["ids"] = "（无）"
            return template.format(**values)
    return message
