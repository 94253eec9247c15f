"""Data that looks wrong (SPEC §7): the similar_values warning and --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.checks import normalize, similar_values, stem
from fundopt.models.domain import Measure, Policy, Rule, Table

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def _table(column: str, values: list[str]) -> Table:
    frame = pd.DataFrame({"id": [f"R{i}" for i in range(len(values))], "name": values,
                          "region": ["天津"] * len(values), "category": ["前沿技术"] * len(values),
                          column: values, "max_ticket": 1.0})
    return Table(Path("t.csv"), frame, tuple(range(2, len(values) + 2)), {},
                 frozenset({"max_ticket"}), "00" * 32)


def _pairs(column: str, values: list[str], policy: Policy | None = None) -> set[tuple[str, ...]]:
    found = similar_values(_table(column, values), policy or Policy(budget=1.0))
    return {w.values for w in found}


def test_each_kind_of_similarity() -> None:
    assert _pairs("district", ["滨海新区", "滨海新区", "滨海区"]) == {("滨海新区", "滨海区")}
    assert _pairs("district", ["唐山市", "唐山"]) == {("唐山市", "唐山")}
    assert _pairs("category", ["前沿 技术", "前沿技术", "前沿技术"]) == {("前沿技术", "前沿 技术")}
    assert _pairs("category", ["ＡＢＣ", "ABC"]) == {("ＡＢＣ", "ABC")}
    assert _pairs("district", ["石家庄", "石家庄高新"]) == {("石家庄", "石家庄高新")}
    assert _pairs("district", ["秦皇岛市", "秦黄岛市"]) == {("秦皇岛市", "秦黄岛市")}


def test_real_distinct_names_are_not_flagged() -> None:
    tianjin = ["滨海新区", "和平区", "河东区", "河西区", "南开区", "河北区", "红桥区", "东丽区",
               "西青区", "津南区", "北辰区", "武清区", "宝坻区", "宁河区", "静海区", "蓟州区"]
    hebei = ["石家庄市", "唐山市", "秦皇岛市", "邯郸市", "邢台市", "保定市", "张家口市",
             "承德市", "沧州市", "廊坊市", "衡水市", "雄安新区"]
    assert _pairs("district", tianjin + hebei) == set()
    assert _pairs("region", ["河北", "河南", "山西", "陕西", "天津"]) == set()
    assert _pairs("batch", ["2023-1", "2023-2"], Policy(budget=1.0, rules=(
        Rule(None, (("batch", ("*",)),), Measure.COUNT, None, None, 1.0, "constraints[1]"),))
    ) == set()


def test_where_columns_are_checked_and_the_rarer_rows_named() -> None:
    policy = Policy(budget=1.0, rules=(
        Rule("m", (("manager", ("*",)),), Measure.COUNT, None, None, 2.0, "constraints[1]"),))
    table = _table("manager", ["海河基金", "海河基金", "海河 基金"])
    found = similar_values(table, policy)
    assert [(w.column, w.values, w.ids) for w in found] == [
        ("manager", ("海河基金", "海河 基金"), ("R2",))]
    assert "海河 基金" in found[0].message("en") and "R2" in found[0].message("zh")
    assert similar_values(table, Policy(budget=1.0)) == ()  # manager unused: not checked


def test_normalize_and_stem() -> None:
    assert normalize(" 滨海　新区 ") == "滨海新区"
    assert stem("滨海新区") == stem("滨海区") == "滨海"
    assert stem("区") == "区"  # never down to nothing


def _typo_table(tmp_path: Path) -> Path:
    text = (ROOT / "inputs" / "2024.csv").read_text("utf-8-sig").splitlines()
    # TJ-BH-02's district written 滨海区 instead of 滨海新区
    text = [line.replace(",滨海新区,", ",滨海区,") if line.startswith("TJ-BH-02,") else line
            for line in text]
    (tmp_path / "t.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (tmp_path / "t.toml").write_text((ROOT / "inputs" / "2024.toml").read_text("utf-8"),
                                     encoding="utf-8")
    return tmp_path / "t.csv"


def test_typo_warns_in_summary_and_json_and_strict_refuses(tmp_path: Path) -> None:
    table = _typo_table(tmp_path)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["solve", str(table), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "滨海区" in result.output and "滨海新区" in result.output
    warnings = json.loads(out.read_text("utf-8"))["warnings"]
    similar = [w for w in warnings if w["code"] == "similar_values"]
    assert similar == [{"code": "similar_values", "column": "district",
                        "values": ["滨海新区", "滨海区"], "ids": ["TJ-BH-02"],
                        "message": similar[0]["message"]}]
    assert "TJ-BH-02" in similar[0]["message"]
    strict = runner.invoke(app, ["solve", str(table), "--strict", "-o",
                                 str(tmp_path / "s.json")])
    assert strict.exit_code == 2, strict.output
    assert "滨海区" in strict.output and not (tmp_path / "s.json").exists()
    zh = runner.invoke(app, ["check", str(table), "--strict", "--lang", "zh"])
    assert zh.exit_code == 2 and "--strict 下有" in zh.output and "看起来是同一个值" in zh.output


def test_strict_counts_every_warning(tmp_path: Path) -> None:
    # the sample's only warning: TJ-JH-02 cannot take the minimum ticket under max_stake
    result = runner.invoke(app, ["solve", str(ROOT / "inputs" / "2024.csv"), "--strict"])
    assert result.exit_code == 2 and "TJ-JH-02" in result.output
    typo = _typo_table(tmp_path)
    sweep = runner.invoke(app, ["sweep", str(typo), "--param", "budget",
                                "--from", "38", "--to", "40", "--steps", "2", "--strict"])
    assert sweep.exit_code == 2 and "滨海区" in sweep.output
    out = tmp_path / "sweep.json"
    sweep = runner.invoke(app, ["sweep", str(typo), "--param", "budget", "--from", "38",
                                "--to", "40", "--steps", "2", "--workers", "1", "-o", str(out)])
    assert sweep.exit_code == 0 and "滨海区" in sweep.output
    assert [w["values"] for w in json.loads(out.read_text("utf-8"))["warnings"]] == \
        [["滨海新区", "滨海区"]]
