"""Messages are data: every code has words in both catalogs with the same placeholders,
every code the code raises or says exists, and an error given as a code reads as the
command line printed it before codes (English) and in Chinese."""

from __future__ import annotations

import re
import string
from pathlib import Path

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


def test_the_older_form_still_works() -> None:
    """Other layers still raise ``InputError(message, message_zh=...)`` for now."""
    error = InputError("the reason is empty", column="--reason", message_zh="作废原因为空")
    assert (error.render("en"), error.render("zh")) == (
        "--reason: the reason is empty", "--reason: 作废原因为空")


def test_scenario_errors_are_codes_in_chinese(tmp_path: Path) -> None:
    from fundopt.models.scenarios import load_scenarios

    bad = tmp_path / "s.toml"
    bad.write_text('[scenarios."a"]\nsett = { budget = 30 }\n', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_scenarios(bad)
    assert raised.value.code == "error.unknown_key_close"
    text = raised.value.render("zh")
    assert "未知的键 'sett'；是否应为 'set'？" in text
    assert not re.search(r"\b(unknown|expected|one of|did you mean)\b", text)
