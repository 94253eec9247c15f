"""``fundopt init DIR``: a starter table, policy and scenario file that solve as they are.

The planner replaces the rows and numbers with the real round. Every file is in the
language asked for: ``--lang zh`` writes Chinese headers, Chinese column and constraint
names (风险, 风险上限) and Chinese comments and descriptions; English writes English.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fundopt.errors import InputError
from fundopt.reports.files.atomic import write_all

TABLE_NAME, POLICY_NAME, SCENARIOS_NAME = "subfunds.csv", "subfunds.toml", "scenarios.toml"

HEADERS = {
    "en": "id,name,region,district,category,max_ticket,min_ticket,fund_size,score,status,risk",
    "zh": "编号,名称,地区,区县,类别,最高出资,最低出资,基金规模,评分,状态,风险",
}
ROWS = """\
TJ-01,天津滨海智能制造基金,天津,滨海新区,国家重大平台,2,0.5,10,70,必投,0.30
TJ-02,天津西青生物医药基金,天津,西青区,重大科技专项,1.5,,6,66,,0.40
TJ-03,天津东丽新材料天使基金,天津,东丽区,前沿技术,0.8,,3,72,,0.60
TJ-04,天津武清青年人才基金,天津,武清区,高端人才团队,0.6,,2,64,,0.55
TJ-05,天津津南氢能基金,天津,津南区,前沿技术,0.8,,3,61,,0.65
HB-01,河北雄安数字经济基金,河北,雄安新区,国家重大平台,2.5,0.5,12,75,,0.30
HB-02,河北石家庄生物制造基金,河北,石家庄市,重大科技专项,1.5,,6,63,,0.40
HB-03,河北唐山机器人天使基金,河北,唐山市,前沿技术,0.8,,3,69,,0.60
HB-04,河北保定人才创业基金,河北,保定市,高端人才团队,0.6,,2,60,,0.50
HB-05,河北廊坊卫星应用基金,河北,廊坊市,前沿技术,0.8,,3,58,,0.65
"""

POLICY = """\
# Starter policy for subfunds.csv: replace every number with your round's own.
# Solve with: fundopt solve subfunds.csv -o plan.xlsx -o plan.pdf

unit = "亿元"          # label of all amounts
budget = 10            # capital to commit this round
min_deploy = 0.8       # commit at least 80% of the budget
max_stake = 0.3        # at most 30% of a sub-fund's size
max_single = 0.25      # at most 25% of the budget in one sub-fund
min_ticket = 0.2       # minimum ticket where the table leaves it blank
max_funded = 8         # at most 8 funded sub-funds

[objective]
maximize = "score"     # value per unit committed

# Regional balance
[region."天津"]
min_share = 0.4
max_share = 0.6

[region."河北"]
min_share = 0.4
max_share = 0.6

# Every direction gets something
[category."前沿技术"]
min_share = 0.1

# Every district one or two projects at most
[district."*"]
max_count = 2

[[constraints]]        # the general form
name = "risk cap"
where = { category = ["前沿技术", "高端人才团队"] }
measure = "avg(risk)"  # commitment-weighted risk
max = 0.6

# The decision memo's cover (-o plan.pdf): uncomment and fill in
# [report]
# title = "Sub-fund allocation plan"
# fund = "…"
# round = 2025
# prepared_by = "…"
"""

POLICY_ZH = """\
# subfunds.csv 的起步政策文件：请把各项数字换成本轮的实际政策。
# 求解：fundopt solve subfunds.csv -o 方案.xlsx -o 方案.pdf --lang zh

unit = "亿元"          # 所有金额的单位
budget = 10            # 本轮预算
min_deploy = 0.8       # 至少投出预算的 80%
max_stake = 0.3        # 不超过子基金规模的 30%
max_single = 0.25      # 单只不超过预算的 25%
min_ticket = 0.2       # 表中未填最低出资时的默认值
max_funded = 8         # 最多投资 8 只子基金

[objective]
maximize = "score"     # 以评分为目标（表头“评分”即 score 列）

# 地区平衡
[region."天津"]
min_share = 0.4
max_share = 0.6

[region."河北"]
min_share = 0.4
max_share = 0.6

# 各投资方向的下限
[category."前沿技术"]
min_share = 0.1

# 每个区县最多两个项目
[district."*"]
max_count = 2

[[constraints]]        # 一般形式
name = "风险上限"
where = { category = ["前沿技术", "高端人才团队"] }
measure = "avg(风险)"  # 按出资加权的风险
max = 0.6

# 审批稿封面（-o 方案.pdf）：去掉注释并填写
# [report]
# title = "子基金出资方案"
# fund = "……"
# round = 2025
# prepared_by = "……"
"""

SCENARIOS = """\
# Starter scenarios.
# Compare with: fundopt compare subfunds.csv --scenarios scenarios.toml -o compare.xlsx

[base]
description = "as proposed"

[scenarios."budget 8"]
description = "budget cut to 8"
set = { budget = 8 }

[scenarios."Hebei 55"]
description = "Hebei at least 55%"
set = { "region.河北.min_share" = 0.55 }
"""

SCENARIOS_ZH = """\
# 起步情景文件。
# 对比：fundopt compare subfunds.csv --scenarios scenarios.toml -o 对比.xlsx --lang zh

[base]
description = "原方案"

[scenarios."预算8亿"]
description = "预算降至 8 亿元"
set = { budget = 8 }

[scenarios."河北55"]
description = "河北至少 55%"
set = { "region.河北.min_share" = 0.55 }
"""


def starter_files(lang: str) -> dict[str, str]:
    """File name → text of the three starter files, all in ``lang``."""
    zh = lang == "zh"
    return {TABLE_NAME: HEADERS["zh" if zh else "en"] + "\n" + ROWS,
            POLICY_NAME: POLICY_ZH if zh else POLICY,
            SCENARIOS_NAME: SCENARIOS_ZH if zh else SCENARIOS}


def write_starter(folder: Path, lang: str = "en", force: bool = False) -> list[Path]:
    """Write the starter files into ``folder`` (created if missing).

    Parameters
    ----------
    folder
        Where to write.
    lang
        Language of the table's headers.
    force
        Replace files that already exist; otherwise an existing file is an error and
        nothing is written.

    Returns
    -------
    list[Path]
        The files written, in order.

    Raises
    ------
    InputError
        A starter file exists (without ``force``), or ``folder`` is not a folder.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(code="input.starter.not_folder", file=str(folder))
    files = starter_files(lang)
    existing = [folder / name for name in files if (folder / name).exists()]
    if existing and not force:
        raise InputError(code="input.starter.exists", file=str(existing[0]))
    # all three files or none (a full disk half-way leaves the old ones as they were)
    # BOM: Excel on Windows then reads the Chinese values as UTF-8
    writes = [(folder / name, _text_writer(text, "utf-8-sig" if name.endswith(".csv")
                                           else "utf-8")) for name, text in files.items()]
    write_all(writes)
    return [path for path, _ in writes]


def _text_writer(text: str, encoding: str) -> Callable[[Path], None]:
    def write(temp: Path) -> None:
        temp.write_text(text, encoding=encoding)
    return write
