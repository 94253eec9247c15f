"""The README, docs/reference.md and the CLI agree: every command and option the README
shows exists in the CLI's ``--help``, and every command and option of the CLI is shown in
the README and has its entry in the reference (after sqlite-utils' tests/test_docs.py).
Every key of the solve JSON is documented in the reference, and no link in the
documentation leaves the repository.

The README "shows" a command in a line of a code block, or an inline code span, that starts
with ``fundopt`` (``fundopt solve TABLE [--policy P] [-o OUT]...``); indented lines right
below such a line in a code block continue it. An option belongs to the command of the line
it is on. An option may be shown by any one of its names; every other name (``-p`` for
``--policy``) must still appear somewhere in the README.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundopt.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REFERENCE = ROOT / "docs" / "reference.md"
OPTION = re.compile(r"(?<![\w/.\-])(--?[A-Za-z][\w-]*)")
HELP_ROW = re.compile(r"^│ +(?:\* +)?(--?[A-Za-z][\w-]*)((?:[ ,/]+-{1,2}[A-Za-z][\w-]*)*)")
COMMAND_ROW = re.compile(r"^│ ([a-z][\w-]*)(?: {2,}|\s*│|$)")
PANEL = re.compile(r"^╭─ (.+?) ─")
Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Help:
    """What ``fundopt PATH --help`` shows: its options (each a tuple of its names) and,
    for a group, its sub-commands."""

    options: tuple[tuple[str, ...], ...]
    commands: tuple[str, ...]

    def names(self) -> set[str]:
        return {name for option in self.options for name in option}


@cache
def help_of(path: Path_) -> Help:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="fundopt",
                                env={"TERMINAL_WIDTH": "200", "COLUMNS": "200",
                                     "NO_COLOR": "1"})
    assert result.exit_code == 0, f"fundopt {' '.join(path)} --help failed:\n{result.output}"
    options: list[tuple[str, ...]] = []
    commands: list[str] = []
    panel = ""
    for line in result.output.splitlines():
        if heading := PANEL.match(line):
            panel = heading.group(1)
        elif option := HELP_ROW.match(line):
            names = (option.group(1), *re.findall(r"-{1,2}[A-Za-z][\w-]*", option.group(2)))
            if "--help" not in names:
                options.append(names)
        elif panel != "Arguments" and (command := COMMAND_ROW.match(line)):
            commands.append(command.group(1))
    return Help(tuple(options), tuple(commands))


def cli_commands(path: Path_ = ()) -> list[Path_]:
    """Every command path of the CLI, the root ``()`` first, depth first."""
    found = [path]
    for name in help_of(path).commands:
        found += cli_commands((*path, name))
    return found


@dataclass(frozen=True)
class Shown:
    """One README line (with its continuation lines) that shows a fundopt command."""

    path: Path_
    options: tuple[str, ...]
    text: str
    unknown: str | None   # a word after ``fundopt`` where a sub-command is expected


def _shown(text: str) -> Shown:
    words = text.split("#", 1)[0].split()[1:]   # drop "fundopt" and a trailing comment
    path: Path_ = ()
    unknown = None
    for word in words:
        if word.startswith("-") or not help_of(path).commands:
            break
        if word not in help_of(path).commands:
            unknown = word
            break
        path = (*path, word)
    return Shown(path, tuple(OPTION.findall(text.split("#", 1)[0])), text.strip(), unknown)


@cache
def readme_lines() -> tuple[Shown, ...]:
    """Every README line that shows a fundopt command."""
    text = README.read_text(encoding="utf-8")
    shown: list[Shown] = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S):
        entry: list[str] = []
        for line in block.splitlines() + [""]:
            if entry and line[:1].isspace() and line.strip()[:1] in "[-":
                entry.append(line)
                continue
            if entry:
                shown.append(_shown(" ".join(entry)))
            entry = [line] if line.startswith("fundopt ") or line == "fundopt" else []
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    shown += [_shown(span) for span in re.findall(r"`(fundopt(?: [^`]*)?)`", prose)]
    return tuple(shown)


@cache
def readme_option_mentions() -> frozenset[str]:
    """Options written anywhere in the README: in a fundopt line or alone in a code span
    (`--relax`, `-p`)."""
    text = README.read_text(encoding="utf-8")
    alone = {m for span in re.findall(r"`(-[^`]*)`", text) for m in OPTION.findall(span)}
    return frozenset(alone | {o for line in readme_lines() for o in line.options})


COMMANDS = cli_commands()


def _id(path: Path_) -> str:
    return " ".join(path) or "fundopt"


def test_readme_shows_commands_at_all() -> None:
    assert len(readme_lines()) >= len(COMMANDS)


@pytest.mark.parametrize("line", readme_lines(), ids=lambda s: s.text[:60])
def test_readme_command_and_its_options_exist(line: Shown) -> None:
    assert line.unknown is None, (
        f"README shows `{line.text}`, but `{line.unknown}` is not a command of "
        f"`fundopt {' '.join(line.path)}` (--help lists: {', '.join(help_of(line.path).commands)})")
    unknown = sorted(set(line.options) - help_of(line.path).names())
    assert not unknown, (f"README shows `{line.text}` with {', '.join(unknown)}, which "
                         f"`fundopt {' '.join(line.path)} --help` does not list")


def test_readme_options_in_code_spans_exist() -> None:
    every = {"--help"}.union(*(help_of(path).names() for path in COMMANDS))
    unknown = sorted(readme_option_mentions() - every)
    assert not unknown, f"README mentions {', '.join(unknown)}, an option of no command"


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=_id)
def test_every_command_is_in_the_readme(path: Path_) -> None:
    # a group (`fundopt book`) is shown by the lines of its sub-commands
    assert any(line.path[:len(path)] == path for line in readme_lines()), (
        f"`fundopt {' '.join(path)}` is a command but no README code line shows it: add it "
        "to the synopsis under 'Command line'")


@pytest.mark.parametrize("path", COMMANDS, ids=_id)
def test_every_option_is_in_the_readme(path: Path_) -> None:
    shown = {o for line in readme_lines() if line.path == path for o in line.options}
    missing = [" / ".join(option) for option in help_of(path).options
               if not shown & set(option)]
    assert not missing, (f"`fundopt {' '.join(path)}` has {', '.join(missing)}, which no "
                         "README line of that command shows: add it to its synopsis")
    unnamed = sorted(help_of(path).names() - readme_option_mentions())
    assert not unnamed, (f"the README never names {', '.join(unnamed)} "
                         f"(`fundopt {' '.join(path)}`); say which option it abbreviates")


@pytest.mark.parametrize("path", [p for p in COMMANDS if p and not help_of(p).commands],
                         ids=_id)
def test_every_command_help_has_an_example(path: Path_) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="fundopt")
    assert "Example" in result.output, f"`fundopt {' '.join(path)} --help` has no example"


def reference_section(path: Path_) -> str | None:
    """The text under the heading ``### `fundopt PATH` `` of docs/reference.md."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    title = re.compile(rf"^(#+) `fundopt {re.escape(' '.join(path))}`\s*$")
    for i, line in enumerate(lines):
        if heading := title.match(line):
            level = len(heading.group(1))
            end = next((j for j in range(i + 1, len(lines))
                        if re.match(rf"^#{{1,{level}}} ", lines[j])), len(lines))
            return "\n".join(lines[i + 1:end])
    return None


@pytest.mark.parametrize("path", [p for p in COMMANDS
                                  if p and (help_of(p).names() or not help_of(p).commands)],
                         ids=_id)
def test_every_command_and_option_is_in_the_reference(path: Path_) -> None:
    """Each command has its section; a group only when it has options of its own."""
    section = reference_section(path)
    assert section is not None, (f"docs/reference.md has no section `### `fundopt "
                                 f"{' '.join(path)}`` (synopsis and a table of its options)")
    mentioned = set(OPTION.findall(section))
    missing = sorted(help_of(path).names() - mentioned)
    assert not missing, (f"docs/reference.md, `fundopt {' '.join(path)}`: no entry for "
                         f"{', '.join(missing)}")
    unknown = sorted(mentioned - help_of(path).names() - {"--help"})
    assert not unknown, (f"docs/reference.md, `fundopt {' '.join(path)}` shows "
                         f"{', '.join(unknown)}, which its --help does not list")


def test_top_level_options_are_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    missing = sorted(n for n in help_of(()).names() if n not in OPTION.findall(text))
    assert not missing, f"docs/reference.md never names {', '.join(missing)}"


@pytest.mark.parametrize("doc", [README, *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda p: p.name)
def test_links_stay_inside_the_repository(doc: Path) -> None:
    text = re.sub(r"^```.*?^```", "", doc.read_text(encoding="utf-8"), flags=re.M | re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith("#"):
            continue
        assert "://" not in target and not target.startswith("mailto:"), (
            f"{doc.name} links outside the repository: {target}")
        file = (doc.parent / target.split("#", 1)[0]).resolve()
        assert file.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert file.exists(), f"{doc.name} links to {target}, which does not exist"


def _keys(value: object) -> set[str]:
    """Every key of a JSON document, at any depth (keys of data-named maps excluded)."""
    if isinstance(value, dict):
        named_by_data = {"by_region", "by_category", "detail"}
        return set(value) | {k for key, v in value.items() if key not in named_by_data
                             for k in _keys(v)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


def test_every_json_key_of_solve_is_in_the_reference(tmp_path: Path) -> None:
    """The keys a script reads from `solve -o plan.json` (feasible with --ranges and
    --alternatives, and infeasible with its diagnosis) are all documented."""
    policy = (ROOT / "inputs" / "2024.toml").read_text(encoding="utf-8")
    infeasible = tmp_path / "infeasible.toml"
    # 高端人才团队 at half the budget cannot hold with the other floors: infeasible
    infeasible.write_text(policy.replace("min_share = 0.10", "min_share = 0.5"),
                          encoding="utf-8")
    keys: set[str] = set()
    for extra, code in ((["--ranges", "--alternatives", "1"], 0),
                        (["--policy", str(infeasible)], 3)):
        out = tmp_path / "plan.json"
        result = CliRunner().invoke(app, ["solve", str(ROOT / "inputs" / "2024.csv"), "-o",
                                          str(out), *extra])
        assert result.exit_code == code, result.output
        keys |= _keys(json.loads(out.read_text(encoding="utf-8")))
    assert {"alternatives", "price_range_low", "diagnosis", "relaxation"} <= keys
    documented = set(re.findall(r"`([a-z_0-9]+)`", REFERENCE.read_text(encoding="utf-8")))
    missing = sorted(keys - documented)
    assert not missing, f"docs/reference.md (section 6) does not document {', '.join(missing)}"


@pytest.mark.parametrize("command", [("solve",), ("stability",), ("explain",)])
def test_help_keeps_bracketed_policy_tables(command: Path_) -> None:
    """``[uncertainty]`` in a help text is shown, not eaten as rich markup."""
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="fundopt",
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert "[uncertainty]" in result.output
