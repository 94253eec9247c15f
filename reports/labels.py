"""Every user-facing label of the reports, in English and Chinese.

Labels are looked up by key; data values (region, district, category names, constraint
labels written by the planner) are never translated. Sentence templates use
``str.format`` placeholders and are filled by :func:`warning_text` and
:func:`relaxation_text`.
"""

from __future__ import annotations

from fundopt.optimizer.result import Relaxation, Warning_

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
    "gap": ("MIP gap", "MIP 间隙"),
    "solver": ("solver", "求解器"),
    "seconds": ("seconds", "耗时（秒）"),
    "key_figures": ("key figures", "关键指标"),
    # per-row output columns (the canonical input columns keep the planner's header)
    "id": ("id", "编号"),
    "name": ("name", "名称"),
    "amount": ("amount", "出资额"),
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
}


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
    en, zh = LABELS[key]
    return zh if lang == "zh" else en


def constraint_name(name: str, lang: str) -> str:
    """A constraint's name for display: the built-in lines ``budget`` and ``funded`` are
    labels to translate; every other name is the planner's own words and stays as is."""
    builtin = {"budget": "budget", "funded": "funded_count"}
    return label(builtin[name], lang) if name in builtin else name


def status_text(status: str, lang: str) -> str:
    """The label of a solve status value such as ``"optimal"``."""
    return label(f"status.{status}", lang)


def bound_text(bound: str, lang: str) -> str:
    """``min``/``max`` as a label; other bound names (``budget``…) are policy keys, kept."""
    return label(bound, lang) if bound in ("min", "max") else bound


def number_text(value: float) -> str:
    """A bound or measure value as the planner would write it (``0.7``, ``12``)."""
    return f"{value:.6g}"


def warning_text(warning: Warning_, lang: str) -> str:
    """One warning as a sentence."""
    key = f"warning.{warning.code}"
    if key in LABELS:
        detail = {k: number_text(v) if isinstance(v, float) else v
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
    head = relaxation.constraint
    if relaxation.bound != relaxation.constraint:
        head += " " + bound_text(relaxation.bound, lang)
    return label("relaxation.sentence", lang).format(
        head=head,
        from_=number_text(relaxation.from_value), to=number_text(relaxation.to_value),
        key=relaxation.key,
    )
