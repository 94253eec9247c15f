"""Usage errors follow ``--lang``: under ``--lang zh`` (anywhere on the line) an unknown
option or command, a missing argument, a bad choice or number, extra arguments, a flag
given a value … are said in Chinese from the catalog, naming the option and the value,
exit 2, no traceback, no English message words. English stays typer's own.

Option names and values are drawn at random (seeded); what each message must name is
worked out here from the command's declared options, not from the code under test.
"""

from __future__ import annotations

import random
import re
import string
import subprocess
import sys

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.reports.text import say

runner = CliRunner()
SAMPLE = str(ROOT / "inputs" / "2024.csv")
# words of click's (typer's) English usage messages
ENGLISH = re.compile(r"Usage|Error|Invalid|No such|Missing|is not|Try |Did you mean|Possible|"
                     r"unexpected|requires|does not|help\.|one of|range|integer|number")
# every long option of `solve`, as its --help lists them (docs/reference.md)
SOLVE_OPTIONS = {"--policy", "--output", "--solver", "--time-limit", "--gap", "--algorithm",
                 "--profile", "--relax", "--alternatives", "--within", "--ranges", "--sheet",
                 "--strict", "--robust", "--book", "--lang", "--debug", "--help"}


def run(args: list[str], zh_at: int | None = None) -> tuple[int, str]:
    """Run ``fundopt args`` with ``--lang zh`` put at word ``zh_at`` of the words after the
    command (None: no --lang)."""
    if zh_at is not None:
        args = [*args[:1], *args[1:][:zh_at], "--lang", "zh", *args[1:][zh_at:]]
    result = runner.invoke(app, args, prog_name="fundopt")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def zh_error(args: list[str], rng: random.Random) -> str:
    """The error text of ``args`` under --lang zh at a random place (right after the
    command, before an option or at the end): exit 2, Chinese."""
    rest = args[1:]
    places = [0, len(rest), *(i for i, word in enumerate(rest) if word.startswith("-"))]
    code, text = run(args, rng.choice(places))
    assert code == 2, text
    assert "Traceback" not in text
    assert not ENGLISH.search(text), text
    assert "错误：" in text, text
    return text


def english_error(args: list[str]) -> str:
    code, text = run(args)
    assert code == 2, text
    return text


def random_word(rng: random.Random, n: int = 7) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


@pytest.mark.parametrize("seed", range(6))
def test_unknown_option(seed: int) -> None:
    rng = random.Random(seed)
    name = "--" + random_word(rng)
    assert name not in SOLVE_OPTIONS
    text = zh_error(["solve", SAMPLE, name], rng)
    assert say("usage.no_such_option", "zh", option=name) in text
    assert "用法：fundopt solve" in text and "'fundopt solve --help'" in text
    assert "No such option: " + name in english_error(["solve", SAMPLE, name])


@pytest.mark.parametrize("seed", range(4))
def test_unknown_option_near_a_real_one_is_suggested(seed: int) -> None:
    rng = random.Random(seed)
    real = rng.choice(sorted(SOLVE_OPTIONS - {"--lang", "--help"}))
    typo = real[:-1] if len(real) > 6 else real + "x"     # one letter off
    text = zh_error(["solve", SAMPLE, typo], rng)
    assert real in text.split("没有这个选项：")[1]
    assert ("是否应为" in text) != ("相近的选项" in text)


@pytest.mark.parametrize("seed", range(4))
def test_unknown_command(seed: int) -> None:
    rng = random.Random(seed)
    command = rng.choice(["solve", "check", "explain", "compare", "sweep", "stability"])
    typo = command[:-1]
    code, text = run([typo, SAMPLE, "--lang", "zh"])
    assert code == 2 and not ENGLISH.search(text), text
    assert say("usage.no_such_command", "zh", name=typo) in text
    assert repr(command) in text and "是否应为" in text


@pytest.mark.parametrize(("args", "name", "kind"), [
    (["solve"], "'table'", "argument"),
    (["explain", SAMPLE], "'ids'", "argument"),
    (["verify", SAMPLE], "'plan'", "argument"),
    (["compare", SAMPLE], "'--scenarios' / '-s'", "option"),
    (["sweep", SAMPLE, "--from", "1", "--to", "2"], "'--param'", "option"),
    (["book", "void", "2024", "--book", "x.book"], "'--reason'", "option"),
])
def test_missing_argument_or_option(args: list[str], name: str, kind: str) -> None:
    text = zh_error(args, random.Random(0))
    assert say(f"usage.missing_{kind}", "zh", name=name) in text


@pytest.mark.parametrize("seed", range(6))
def test_bad_choice(seed: int) -> None:
    rng = random.Random(seed)
    option, choices = rng.choice([("--solver", ["highs", "cbc"]),
                                  ("--algorithm", ["auto", "simplex", "ipm"])])
    value = random_word(rng, 5)
    text = zh_error(["solve", SAMPLE, option, value], rng)
    assert f"'{option}'" in text and repr(value) in text
    assert all(repr(c) in text for c in choices)
    assert "之一" in text


@pytest.mark.parametrize("seed", range(8))
def test_bad_number(seed: int) -> None:
    rng = random.Random(seed)
    command, option, whole = rng.choice([
        (["solve", SAMPLE], "--gap", False), (["solve", SAMPLE], "--time-limit", False),
        (["solve", SAMPLE], "--alternatives", True),
        (["explain", SAMPLE, "TJ-BH-01"], "--draws", True),
        (["stability", SAMPLE], "--seed", True), (["sweep", SAMPLE], "--from", False),
        (["compare", SAMPLE, "-s", "x.toml"], "--workers", True)])
    value = random_word(rng, 4) if rng.random() < 0.5 else f"{rng.uniform(0.1, 9):.3f}x"
    text = zh_error([*command, option, value], rng)
    code = "usage.not_integer" if whole else "usage.not_number"
    assert say(code, "zh", value=value) in text and f"'{option}'" in text


@pytest.mark.parametrize(("option", "value", "bounds"), [
    ("--gap", 1.5, "0.0<=x<=1.0"), ("--gap", -0.25, "0.0<=x<=1.0"),
    ("--time-limit", -3.0, "0.0<=x"), ("--alternatives", -2, "0<=x")])
def test_number_out_of_range(option: str, value: float, bounds: str) -> None:
    text = zh_error(["solve", SAMPLE, option, str(value)], random.Random(1))
    assert say("usage.out_of_range", "zh", value=value, range=bounds) in text


@pytest.mark.parametrize("seed", range(4))
def test_extra_arguments(seed: int) -> None:
    rng = random.Random(seed)
    extra = [random_word(rng, 5) for _ in range(rng.randint(1, 3))]
    code, text = run(["check", SAMPLE, *extra, "--lang", "zh"])
    assert code == 2 and not ENGLISH.search(text), text
    assert say("usage.extra_arguments", "zh", args=" ".join(extra)) in text


def test_flag_given_a_value_and_option_without_one() -> None:
    rng = random.Random(2)
    text = zh_error(["solve", SAMPLE, "--profile=yes"], rng)
    assert say("usage.takes_no_value", "zh", name="--profile") in text
    code, text = run(["solve", SAMPLE, "--lang", "zh", "--gap"])
    assert code == 2 and say("usage.requires_value", "zh", name="--gap") in text, text


def test_lang_equals_form_and_book_commands() -> None:
    code, text = run(["book", "add", "plan.json", "--book", "b", "--round", "r",
                      "--accept", "maybe", "--lang=zh"])
    assert code == 2 and not ENGLISH.search(text), text
    assert "'maybe'" in text and "'relaxed'" in text and "用法：fundopt book add" in text


def test_english_is_typers_own() -> None:
    assert "Invalid value for '--gap'" in english_error(["solve", SAMPLE, "--gap", "x"])
    assert "Missing argument" in english_error(["solve"])
    assert "Got unexpected extra argument" in english_error(["check", SAMPLE, "a", "b"])


def test_help_under_zh_is_unchanged() -> None:
    code, zh = run(["explain", "--help", "--lang", "zh"])
    _, en = run(["explain", "--help"])
    assert code == 0 and zh == en and "[uncertainty]" in zh


def test_the_program_says_it_in_chinese() -> None:
    """Through ``python -m fundopt`` (the console script's code): stderr, exit 2."""
    done = subprocess.run([sys.executable, "-m", "fundopt", "solve", SAMPLE, "--gap", "abc",
                           "--lang", "zh"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert say("usage.not_number", "zh", value="abc") in done.stderr
    assert not ENGLISH.search(done.stderr) and done.stdout == ""


def test_start_up_farewell_is_the_catalogs() -> None:
    """``__main__`` says the farewell before anything is imported; its words are the
    catalog's."""
    source = (ROOT / "__main__.py").read_text(encoding="utf-8")
    for lang in ("en", "zh"):
        assert say("cli.interrupted", lang) + "\\n" in source
