"""Messages are data: every code has words in both catalogs with the same placeholders,
every code the code raises or says exists, and an error given as a code reads as the
command line printed it before codes (English) and in Chinese."""

from __future__ import annotations

import random
import re
import string
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from fundopt.errors import InputError
from fundopt.messages import Message
from fundopt.reports.text import CATALOGS, en, say, zh

# A code written in the source: code="…", Message("…", …), say("…", …), label("…", …)
# a method called label (SQLAlchemy's column.label("x")) is not the catalog's label()
CODE_IN_SOURCE = re.compile(
    r'(?:code=|Message\(|(?<![.\w])say\(|(?<![.\w])label\()"([a-z_][\w.]*)"')


def placeholders(template: str) -> set[str]:
    return {field.split(".")[0].split("[")[0]
            for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_both_catalogs_hold_the_same_codes() -> None:
    assert set(en.MESSAGES) == set(zh.MESSAGES), (
        set(en.MESSAGES) ^ set(zh.MESSAGES))


@pytest.mark.parametrize("code", sorted(en.MESSAGES))
def test_every_code_has_the_same_placeholders_in_both_languages(code: str) -> None:
    assert en.MESSAGES[code].strip() and zh.MESSAGES[code].strip(), code
    assert placeholders(en.MESSAGES[code]) == placeholders(zh.MESSAGES[code]), code


def test_every_code_in_the_source_is_in_the_catalogs() -> None:
    sources = [p for p in ROOT.rglob("*.py")
               if not ({"tests", "benchmarks", ".git"} & set(p.relative_to(ROOT).parts))]
    used = {(p.relative_to(ROOT).as_posix(), code) for p in sources
            for code in CODE_IN_SOURCE.findall(p.read_text(encoding="utf-8"))}
    missing = sorted((file, code) for file, code in used if code not in en.MESSAGES)
    assert not missing, f"codes with no words in the catalogs: {missing}"
    assert len(used) > 100


def test_a_message_is_its_code_and_values() -> None:
    message = Message("wrote", {"path": "out/plan.xlsx"})
    assert message.text("en") == "wrote out/plan.xlsx"
    assert message.text("zh") == "已写出 out/plan.xlsx"
    assert message.as_json() == {"code": "wrote", "path": "out/plan.xlsx"}
    assert say("wrote", "zh", path="x") == CATALOGS["zh"]["wrote"].format(path="x")


def test_an_error_given_as_a_code_reads_as_the_words_it_replaced() -> None:
    """The English is what the command line printed when the words were inline; the
    Chinese comes from the catalog, with the context, expectation and hint."""
    error = InputError(code="error.unknown_key_close", values={"key": "budgte",
                                                               "close": "budget"},
                       file="s.toml", column="scenarios.a.budgte",
                       expected=Message("expected.one_of", {"items": "budget, policy"}),
                       context=(Message("context.scenario", {"name": "河北55"}),))
    assert error.message == "unknown key 'budgte'; did you mean 'budget'?"
    assert error.render("en") == ("s.toml, scenarios.a.budgte: scenario '河北55': unknown key "
                                  "'budgte'; did you mean 'budget'?; expected one of budget, "
                                  "policy")
    assert error.render("zh") == ("s.toml, scenarios.a.budgte: 情景 '河北55': 未知的键 'budgte'"
                                  "；是否应为 'budget'？；应为 以下之一：budget, policy")


def test_scenario_errors_are_codes_in_chinese(tmp_path: Path) -> None:
    from fundopt.models.rules.scenarios import load_scenarios

    bad = tmp_path / "s.toml"
    bad.write_text('[scenarios."a"]\nsett = { budget = 30 }\n', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_scenarios(bad)
    assert raised.value.code == "error.unknown_key_close"
    text = raised.value.render("zh")
    assert "未知的键 'sett'；是否应为 'set'？" in text
    assert not re.search(r"\b(unknown|expected|one of|did you mean)\b", text)


# --- one catalog per language (issue 17) --------------------------------------------------

# A code as a string of the source: "input.table.ragged", f"input.file_kind.{what}" (its
# fixed part), or the second argument of Locator.error(path, "code", ...)
LITERAL_CODE = re.compile(r'(?<![\w.])f?"((?:input|batch)\.[a-z_]+\.?[a-z_]*)')
SCOPE = ("models", "optimizer", "reports", "starter.py", "errors.py", "coded.py")


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py")
            if p.relative_to(ROOT).parts[0] in SCOPE and p.name != "expansion.py"
            and "text" not in p.relative_to(ROOT).parts]


def test_every_input_code_of_the_source_has_words() -> None:
    """Every ``input.*``/``batch.*`` code written in models/, optimizer/, reports/ is in
    both catalogs (an f-string code: some code starts with its fixed part)."""
    found = {(p.name, code) for p in _sources()
             for code in LITERAL_CODE.findall(p.read_text(encoding="utf-8"))}
    assert len(found) > 150
    missing = sorted((name, code) for name, code in found
                     if code not in en.MESSAGES
                     and not any(k.startswith(code) for k in en.MESSAGES))
    assert not missing, missing


def test_an_expectation_or_hint_belongs_to_a_message() -> None:
    """``X.expected`` and ``X.hint`` are said only with error ``X``: ``X`` must exist, and
    its placeholders must cover theirs (they are filled with the error's values)."""
    for code in en.MESSAGES:
        base, _, part = code.rpartition(".")
        if part not in ("expected", "hint") or not base.startswith(("input.", "batch.")):
            continue
        assert base in en.MESSAGES, code


def test_the_layers_give_no_words_of_their_own() -> None:
    """No ``message_zh=``/``expected_zh=``/``hint_zh=`` and no InputError without a code in
    models/ (but expansion.py), optimizer/, reports/ and starter.py."""
    import ast

    for path in _sources():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(?:message|expected|hint)_zh=", text), path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InputError":
                assert any(k.arg == "code" for k in node.keywords), (path, node.lineno)


def _errors_in_the_catalogs() -> list[str]:
    """The error codes of the catalogs said by models/, optimizer/, reports/."""
    heads = ("input.", "batch.", "book.", "booking.", "plan.", "policy.", "json.", "step.",
             "option.", "uncertainty.", "rules.", "error.", "memo.no_cjk_font")
    return sorted(c for c in en.MESSAGES if c.startswith(heads)
                  and not c.endswith((".expected", ".hint")))


def _value(rng: random.Random, spec: str) -> Any:
    """A random value for a placeholder whose format spec is ``spec``."""
    if spec:                                        # {limit:,} {lo:g}: a number
        return rng.choice([0, 1, 2.5, 40, 1e6, 12345.678])
    return rng.choice(["河北", "TJ-BH-01", "inputs/2024.toml", "region.河北.min_share",
                       "基金 A", 3, 0.25, "sum(fund_size)", "第二轮", "2024"])


@pytest.mark.parametrize("seed", range(20))
def test_errors_render_in_chinese_without_english(seed: int) -> None:
    """Random values, places and contexts for every error code of the catalogs: the
    Chinese rendering (message, expectation, hint) holds no English message text, and the
    English one holds every value. Independent of the code that raises them."""
    from zh_check import english_in

    rng = random.Random(seed)
    for code in _errors_in_the_catalogs():
        fields = {f.split(".")[0].split("[")[0]: spec or ""
                  for _, f, spec, _ in string.Formatter().parse(en.MESSAGES[code]) if f}
        for suffix in (".expected", ".hint"):
            if code + suffix in en.MESSAGES:
                fields.update({f.split(".")[0]: spec or "" for _, f, spec, _
                               in string.Formatter().parse(en.MESSAGES[code + suffix]) if f})
        values = {name: _value(rng, spec) for name, spec in fields.items()}
        error = InputError(code=code, values=values,
                           file=rng.choice([None, "inputs/2024.csv", "p.toml"]),
                           row=rng.choice([None, 2, 17]),
                           column=rng.choice([None, "max_ticket", "region.天津.min_share"]),
                           value=rng.choice([None, "abc", -1.5]),
                           context=rng.choice([(), (Message("context.scenario",
                                                            {"name": "河北55"}),)]))
        zh_text = error.render("zh")
        assert not english_in(zh_text), (code, zh_text)
        assert error.render("en") != zh_text or not fields, code


@pytest.mark.parametrize(("text", "found"), [
    ("p.toml, budget: 缺少 budget（本轮出资总额）；应为 > 0 的数，例如 budget = 40", []),
    ("错误：t.csv, 第 3 行, 列 “status”: 未知状态（实际为 'maybe not'）", []),
    ("请换一个 --round 名称；`fundopt book list` 列出已用名称。", []),
    ("--robust worst 需要 [uncertainty] 中的 reviewers（评审列）", []),
    ("region.河北.min_share = 0.3 大于 region.河北.max_share = 0.2", []),
    ("无法读取表格文件（Permission denied）", []),
    ("t.csv: the table has no candidate rows", ["the table has no candidate rows"]),
    ("方案违反 1 条规则：sub-fund X is not eligible", ["is not eligible"]),
    ("求解完成。Solve again with --book BOOK.", ["again with"]),
])
def test_what_counts_as_english(text: str, found: list[str]) -> None:
    """The detector the ``--lang zh`` hook uses (tests/zh_check.py): data values, options,
    paths, key paths, commands and the OS's own words are not message text."""
    from zh_check import english_in

    assert english_in(text) == found


def test_an_error_from_a_worker_process_keeps_its_code() -> None:
    """Errors cross process boundaries pickled (the local pool, Dask): code, values and
    place survive, so the parent says them in either language."""
    import pickle

    error = InputError(code="input.table.ragged", values={"found": 3, "width": 5},
                       file="t.csv", row=4, context=(Message("context.scenario",
                                                             {"name": "河北55"}),))
    back = pickle.loads(pickle.dumps(error))
    assert (back.code, dict(back.values), back.row) == ("input.table.ragged",
                                                         {"found": 3, "width": 5}, 4)
    assert [back.render(lang) for lang in ("en", "zh")] == [
        error.render(lang) for lang in ("en", "zh")]
    assert "该行有 3 个字段" in back.render("zh")


def test_solver_and_batch_errors_are_codes() -> None:
    """SolverError and BatchError say their code in either language, and pickle."""
    import pickle

    from fundopt.errors import BatchError, SolverError

    for error in (SolverError("solver.highs_failed", {"status": "Solve error"}),
                  BatchError("batch.workers_left", {"address": "tcp://10.0.0.5:8786"})):
        back = pickle.loads(pickle.dumps(error))
        assert str(back) == str(error) == error.render("en")
        assert back.render("zh") == error.render("zh") == say(error.code, "zh",
                                                              **error.values)


_BAD = ["x", "", -1, 0, 1e30, float("nan"), True, [], ["a", "a"], {}, {"min": 2, "max": 1},
        {"not": []}, "*", "sum(", "avg()", "amount / avg(x)", 2.5, {"budgte": 1}]


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a policy tree (list items by index)."""
    found = [prefix] if prefix else []
    items = (tree.items() if isinstance(tree, dict)
             else enumerate(tree) if isinstance(tree, list) else ())
    for key, value in items:
        found += _paths(value, (*prefix, key))
    return found


@pytest.mark.parametrize("seed", range(40))
def test_random_bad_policies_and_tables_say_it_in_chinese(seed: int, tmp_path: Path) -> None:
    """Random damage to the sample policy (a value of the wrong kind, an unknown key, a key
    removed) and to the sample table (a bad cell, a header renamed): whatever error the
    readers of models/ raise renders in Chinese without English message text, and names
    the same place in both languages."""
    import copy
    import tomllib

    from zh_check import data_values, english_in

    from fundopt.models.reading.table import read_table
    from fundopt.models.rules.policy import Locator, policy_from_tree

    rng = random.Random(seed)
    base = tomllib.loads((ROOT / "inputs" / "2024.toml").read_text(encoding="utf-8"))
    errors: list[InputError] = []
    for _ in range(25):
        tree = copy.deepcopy(base)
        path = rng.choice(_paths(tree))
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        kind = rng.random()
        if kind < 0.7:
            parent[path[-1]] = copy.deepcopy(rng.choice(_BAD))
        elif kind < 0.85 and isinstance(parent, dict):
            parent[f"{path[-1]}x"] = 1
        elif isinstance(parent, dict):
            del parent[path[-1]]
        try:
            policy_from_tree(tree, Locator("p.toml"), None)
        except InputError as error:
            errors.append(error)
    lines = (ROOT / "inputs" / "2024.csv").read_text(encoding="utf-8-sig").splitlines()
    for k in range(10):
        rows = [line.split(",") for line in lines]
        row, col = rng.randrange(len(rows)), rng.randrange(len(rows[0]))
        rows[row][col] = rng.choice(["abc", "-5", "1e400", "", "maybe", "1,2", "30%%",
                                     rows[0][col]])
        bad = tmp_path / f"t{k}.csv"
        bad.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
        try:
            read_table(bad)
        except InputError as error:
            errors.append(error)
    assert errors
    data = data_values([str(ROOT / "inputs" / "2024.csv")])
    for raised in errors:
        assert raised.code is not None, raised
        zh_text = raised.render("zh")
        assert not english_in(zh_text, data), zh_text
        for place in (raised.file, raised.column):
            assert place is None or place in zh_text and place in raised.render("en")
