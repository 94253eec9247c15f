"""Constraint captions (issue 17): every constraint carries one, made where it is made, and
its words in English and Chinese equal a rendering written here from the policy file and
the table themselves (not through ``models.rules.expansion``)."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fundopt.models.domain import Caption, CaptionKind, Table
from fundopt.models.rules.expansion import expand, with_builtins
from fundopt.models.rules.policy import load_policy
from fundopt.optimizer.relax import apply_relaxation
from fundopt.optimizer.result import ConstraintValue, Relaxation
from fundopt.reports.captions import binding_summary, caption_text, family_name

REGIONS = ("天津", "河北", "北京")
CATEGORIES = ("前沿技术", "生物医药", "新材料")
DISTRICTS = ("滨海新区", "西青区", "和平区", "")
NUMERIC = ("max_ticket", "fund_size", "score", "risk", "call")
# The reference's own Chinese words (the catalogs are what is being checked)
ZH_COLUMN = {"region": "地区", "category": "类别", "district": "区县"}
ZH_MEASURE = {"amount": "金额", "share": "占比", "count": "数量", "sum": "合计",
              "avg": "加权平均", "funded": "获投合计", "groups": "覆盖数"}
GENERAL_MEASURES = ("amount", "share", "count", "sum(risk)", "avg(call)", "funded(fund_size)",
                    "funded(fund_size) / amount", "count / sum(risk)", "groups(district)")
NAMES = ("风险上限", "risk cap", "返投倍数")


def _table(rng: random.Random) -> Table:
    n = rng.randint(8, 16)
    data: dict[str, list] = {
        "id": [f"F{i:02d}" for i in range(n)],
        "name": [f"基金{i}" for i in range(n)],
        "region": [rng.choice(REGIONS) for _ in range(n)],
        "district": [rng.choice(DISTRICTS) for _ in range(n)],
        "category": [rng.choice(CATEGORIES) for _ in range(n)],
        "min_ticket": [np.nan] * n,
        "status": [""] * n,
        **{c: [round(rng.uniform(0.5, 9.0), 1) for _ in range(n)] for c in NUMERIC},
    }
    data["district"][0] = "滨海新区"          # "*" over districts has a value to take
    frame = pd.DataFrame(data)
    return Table(path=Path("t.csv"), frame=frame, source_rows=tuple(range(2, n + 2)),
                 headers={c: c for c in frame.columns}, numeric_columns=frozenset(NUMERIC),
                 sha256="0")


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _random_policy(rng: random.Random, frame: pd.DataFrame
                   ) -> tuple[str, list[tuple[str, dict]]]:
    """A policy file, and what it says as (kind, facts) items in the order written."""
    items: list[tuple[str, dict]] = []
    shorthand: list[str] = []
    for group, values in (("region", REGIONS), ("category", CATEGORIES),
                          ("district", ("*", "滨海新区"))):
        present = [v for v in values if v == "*" or v in set(frame[group])]
        for value in rng.sample(present, rng.randint(0, min(2, len(present)))):
            measures = rng.sample(["share", "amount", "count"], rng.randint(1, 3))
            keys = "\n".join(f"{rng.choice(['min', 'max'])}_{m} = 1" for m in measures)
            shorthand.append(f'[{group}."{value}"]\n{keys}\n')
            # the file's order of measures inside one table is share, amount, count
            for m in ("share", "amount", "count"):
                if m in measures:
                    items.append(("shorthand", {"group": group, "value": value, "measure": m}))
    general: list[str] = []
    for _ in range(rng.randint(1, 6)):
        row = frame.iloc[rng.randrange(len(frame))]
        where: dict[str, object] = {}
        for column in rng.sample(["region", "category", "district", "risk", "not"],
                                 rng.randint(0, 3)):
            if column == "risk":
                where["risk"] = {"min": float(row["risk"]) - 0.5}
            elif column == "not":
                others = sorted(set(frame["category"]) - {row["category"]})
                if others and "category" not in where:
                    where["category"] = {"not": [others[0]]}
            elif column == "district" and not row["district"]:
                continue
            else:
                where[column] = "*" if rng.random() < 0.4 else str(row[column])
        measure = rng.choice(GENERAL_MEASURES)
        name = rng.choice(NAMES) if rng.random() < 0.4 else None
        lines = ["[[constraints]]"] + ([f'name = "{name}"'] if name else [])
        if where:
            lines.append(f"where = {_toml_value(where)}")
        lines += [f'measure = "{measure}"', "max = 1" if measure == "share" else "max = 1000"]
        general.append("\n".join(lines) + "\n")
        items.append(("general", {"name": name, "where": where, "measure": measure}))
    text = "budget = 10\nmax_funded = 5\n" + "".join(shorthand) + "\n".join(general)
    return text, items


def _selected(frame: pd.DataFrame, where: dict) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, cond in where.items():
        if cond == "*":
            mask &= frame[column].astype(str).str.strip() != ""
        elif isinstance(cond, dict) and "not" in cond:
            mask &= ~frame[column].isin(cond["not"])
        elif isinstance(cond, dict):
            mask &= frame[column] >= cond["min"]
        else:
            mask &= frame[column] == cond
    return mask


def _measure_words(measure: str, lang: str) -> str:
    if lang == "en":
        return measure
    return " / ".join(re.sub(r"^(\w+)", lambda m: ZH_MEASURE[m.group(1)], part)
                      for part in measure.split(" / "))


def _column(column: str, lang: str) -> str:
    return ZH_COLUMN.get(column, column) if lang == "zh" else column


def _condition(cond: object, lang: str) -> str:
    if isinstance(cond, dict) and "not" in cond:
        return ("非 " if lang == "zh" else "not ") + "|".join(cond["not"])
    if isinstance(cond, dict):
        return f"{cond['min']:g}.."
    return str(cond)


def _expected(items: list[tuple[str, dict]], frame: pd.DataFrame, lang: str) -> Counter:
    """The captions the policy file should give, rendered from the file's own facts."""
    found: Counter = Counter()
    for kind, facts in items:
        if kind == "shorthand":
            group, value = facts["group"], facts["value"]
            values = ([v for v in dict.fromkeys(frame[group]) if v] if value == "*"
                      else [value])
            for v in values:
                found[f"{_column(group, lang)} {v} "
                      f"{ZH_MEASURE[facts['measure']] if lang == 'zh' else facts['measure']}"] += 1
            continue
        where, measure = facts["where"], _measure_words(facts["measure"], lang)
        stars = [c for c, v in where.items() if v == "*"]
        fixed = [(c, v) for c, v in where.items() if v != "*"]
        if facts["name"]:
            head = facts["name"]
        elif fixed:
            conditions = ", ".join(f"{_column(c, lang)}={_condition(v, lang)}" for c, v in fixed)
            head = (f"{measure}，条件 {conditions}" if lang == "zh"
                    else f"{measure} where {conditions}")
        elif not stars:
            head = f"{measure}（全部行）" if lang == "zh" else f"{measure} (all rows)"
        else:
            head = measure
        if not stars:
            found[head] += 1
            continue
        rows = frame.loc[_selected(frame, where), stars].drop_duplicates()
        for combo in rows.itertuples(index=False, name=None):
            taken = ", ".join(f"{_column(c, lang)}={v}" for c, v in zip(stars, combo,
                                                                         strict=True))
            found[f"{head} [{taken}]"] += 1
    return found


def _without_numbers(found: Counter) -> Counter:
    """Labels made unique with " #k" are compared without the suffix (the reference does
    not number clashes; the count of each caption is what matters)."""
    return Counter(re.sub(r" #\d+$", "", text) for text in found.elements())


@pytest.mark.parametrize("seed", range(40))
def test_captions_match_a_rendering_of_the_policy_file(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    table = _table(rng)
    text, items = _random_policy(rng, table.frame)
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    policy = load_policy(tmp_path / "policy.toml")
    constraints = expand(policy, table)
    every = with_builtins(policy, constraints)
    assert all(c.caption is not None for c in every)
    captions = [c.caption for c in constraints if c.caption is not None]
    for lang in ("en", "zh"):
        words = Counter(caption_text(c, lang) for c in captions)
        assert _without_numbers(words) == _expected(items, table.frame, lang), (lang, text)
    # the English caption says what the label (the constraint's key) says
    assert [caption_text(c, "en") for c in captions] == [c.label for c in constraints]
    builtins = {c.id: c.caption for c in every[: len(every) - len(constraints)]}
    assert {k: (caption_text(c, "en"), caption_text(c, "zh"))
            for k, c in builtins.items() if c is not None} == {
        "budget": ("budget", "预算"), "funded": ("funded sub-funds", "获出资子基金数")}
    # Chinese captions: no English words but the data and the columns and names written
    data = {*REGIONS, *CATEGORIES, *DISTRICTS, *NUMERIC, *NAMES, "fund_size"}
    for c in captions:
        zh = re.sub(r"\([^)]*\)", "", caption_text(c, "zh"))   # an expression is data
        for word in sorted(data - {""}, key=len, reverse=True):
            zh = zh.replace(word, "")
        assert not re.search(r"[A-Za-z]", zh), (caption_text(c, "zh"), text)


def test_clashing_captions_are_numbered_like_their_labels(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        'budget = 10\n[[constraints]]\nname = "上限"\nmeasure = "amount"\nmax = 5\n'
        '[[constraints]]\nname = "上限"\nmeasure = "count"\nmax = 3\n'
        '[[constraints]]\nname = "上限"\nwhere = { district = "*" }\nmeasure = "count"\n'
        "max = 3\n", encoding="utf-8")
    table = _table(random.Random(1))
    constraints = expand(load_policy(tmp_path / "p.toml"), table)
    assert [caption_text(c.caption, "en") for c in constraints if c.caption] == \
        [c.label for c in constraints]
    assert [caption_text(c.caption, "zh") for c in constraints if c.caption][:2] == \
        ["上限", "上限 #2"]


def _value(caption: Caption, label: str) -> ConstraintValue:
    return ConstraintValue(id=label, label=label, measure="count", value=1.0, min=None,
                           max=1.0, slack=0.0, binding=True, shadow_price=0.0, bound="max",
                           caption=caption)


def test_a_family_is_summed_up_by_its_caption() -> None:
    lines = [_value(Caption(CaptionKind.SHORTHAND, "district", (d,), (("count", None),)), d)
             for d in ("滨海新区", "西青区", "和平区")]
    alone = _value(Caption(CaptionKind.GENERAL, measure=(("avg", "risk"),),
                           where=(("region", ("天津",)),)), "avg(risk) where region=天津")
    assert binding_summary([*lines, alone], "en") == [
        "district count ×3", "avg(risk) where region=天津"]
    assert binding_summary([*lines, alone], "zh") == [
        "区县 数量 ×3", "加权平均(risk)，条件 地区=天津"]
    starred = Caption(CaptionKind.NAMED, "风险上限", measure=(("avg", "risk"),),
                      rows=(("district", "西青区"),))
    assert family_name(starred, "zh") == "风险上限 [区县=*]"
    assert family_name(starred, "en") == "风险上限 [district=*]"


def test_a_relaxation_finds_its_constraint_by_id(tmp_path: Path) -> None:
    """The relaxation names its constraint by id: the words it carries play no part."""
    (tmp_path / "p.toml").write_text(
        'budget = 10\n[region."天津"]\nmin_share = 0.5\n[region."河北"]\nmin_share = 0.5\n',
        encoding="utf-8")
    table = _table(random.Random(3))
    table.frame.loc[:, "region"] = ["天津", "河北"] * (len(table.frame) // 2) + \
        ["天津"] * (len(table.frame) % 2)
    constraints = expand(load_policy(tmp_path / "p.toml"), table)
    second = constraints[1]
    move = Relaxation(constraint="whatever the text", bound="min", from_value=0.5,
                      to_value=0.3, key=second.keys[0], id=second.id)
    moved = apply_relaxation(constraints, (move,))
    assert [c.min for c in moved] == [0.5, 0.3]
    wrong_id = Relaxation(constraint=second.label, bound="min", from_value=0.5, to_value=0.3,
                          key=second.keys[0], id=constraints[0].id)
    assert [c.min for c in apply_relaxation(constraints, (wrong_id,))] == [0.5, 0.5]


# --- the errors of models.rules.expansion are codes with words in both catalogs ---------------

ERRORS = [
    ('[[constraints]]\nwhere = { regoin = "天津" }\nmeasure = "amount"\nmax = 5\n',
     "expand.no_column"),
    ('[[constraints]]\nwhere = { region = "天金" }\nmeasure = "amount"\nmax = 5\n',
     "expand.no_value"),
    ('[objective]\nmaximize = "irr"\n', "expand.objective_missing"),
    ('[objective]\nmaximize = "region"\n', "expand.objective_text"),
    ('[[constraints]]\nmeasure = "groups(sector)"\nmin = 1\n', "expand.groups_column"),
    ('[[constraints]]\nmeasure = "sum(risk + nothing)"\nmax = 5\n', "expand.expr_missing"),
    ('[[constraints]]\nmeasure = "sum(risk / (call - call))"\nmax = 5\n',
     "expand.zero.constraint"),
    ('[[constraints]]\nname = "风险"\nmeasure = "avg(gap)"\nmax = 5\n',
     "expand.blank.constraint"),
    ('[values]\nregion = ["天津", "河北"]\n', "rules.undeclared_guess"),
    ('[[constraints]]\nwhere = { empty = "*" }\nmeasure = "amount"\nmax = 5\n',
     "expand.star_blank"),
    ('[[constraints]]\nwhere = { region = { min = 1 } }\nmeasure = "amount"\nmax = 5\n',
     "rules.range_text"),
]


@pytest.mark.parametrize(("text", "code"), ERRORS)
def test_expansion_errors_are_coded_in_both_languages(tmp_path: Path, text: str, code: str
                                                      ) -> None:
    from fundopt.errors import InputError
    from fundopt.messages import Message
    from fundopt.reports.text import say

    table = _table(random.Random(5))
    table.frame["gap"] = table.frame["risk"]
    table.frame.loc[1, "gap"] = np.nan
    table.frame["empty"] = ""
    table = Table(path=table.path, frame=table.frame, source_rows=table.source_rows,
                  headers={c: c for c in table.frame.columns},
                  numeric_columns=table.numeric_columns | {"gap"}, sha256="0")
    table.frame.loc[:, "region"] = ["天津", "河北", "北京"] * (len(table.frame) // 3) + \
        ["天津"] * (len(table.frame) % 3)
    (tmp_path / "p.toml").write_text("budget = 10\n" + text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        expand(load_policy(tmp_path / "p.toml"), table)
    error = info.value
    assert error.code == code
    for part in (error.expected, error.hint):     # words only through the catalogs
        assert part is None or isinstance(part, Message)
    zh = error.render("zh")
    assert error.text("zh") == say(code, "zh", **error.values)
    assert re.search(r"[\u4e00-\u9fff]", zh) and error.text("zh") != error.text("en")
    for where in (error.file, error.column):       # the place, named in both languages
        assert where is None or (where in zh and where in error.render("en"))
