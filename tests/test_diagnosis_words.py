"""The diagnosis as a committee reads it (issue 18): a ``"*"`` rule once in every output,
and under ``--lang zh`` no English word of the catalogs anywhere.

Each case runs the CLI (``solve … -o r.json`` and ``-o r.xlsx``) on an infeasible policy
and reads what it wrote: the terminal, the JSON (``diagnosis.messages``,
``diagnosis.relaxation[].text``, ``diagnosis.conflict_rules``) and every workbook cell
(openpyxl).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.reports.text import en

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (ROOT / "inputs/2024.toml").read_text(encoding="utf-8")


def run(table: Path, policy: Path | None, out: Path, lang: str) -> tuple[str, Any]:
    """The terminal and what ``-o out`` wrote (the JSON's ``diagnosis``, or the workbook's
    cell texts)."""
    args = ["solve", str(table), "-o", str(out), "--lang", lang]
    if policy is not None:
        args += ["--policy", str(policy)]
    got = CliRunner().invoke(app, args)
    assert got.exit_code == 3, got.output
    if out.suffix == ".json":
        return got.output, json.loads(out.read_text(encoding="utf-8"))["diagnosis"]
    book = load_workbook(out, read_only=True)
    cells = [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for v in row if isinstance(v, str)]
    book.close()
    return got.output, cells


def per_fund(folder: Path) -> Path:
    """Six sub-funds, each capped at 1 by one ``"*"`` rule over ids, against min_deploy 9."""
    rows = ["id,name,region,category,max_ticket,score"] + [
        f"P{i},基金{i},天津,甲,5,{10 - i}" for i in range(6)]
    (folder / "p.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "p.toml").write_text(
        'budget = 10\nmin_deploy = 0.9\nunit = "亿元"\n[objective]\nmaximize = "score"\n'
        '[[constraints]]\nname = "单只上限"\nwhere = { id = "*" }\nmeasure = "amount"\n'
        'max = 1\n', encoding="utf-8")
    return folder / "p.csv"


def test_a_star_rule_is_one_entry_in_the_json_terminal_and_workbook(tmp_path: Path) -> None:
    table = per_fund(tmp_path)
    for lang in ("en", "zh"):
        terminal, diagnosis = run(table, None, tmp_path / "r.json", lang)
        # the flat list keeps its meaning: every line, min_deploy and the six caps
        assert len(diagnosis["conflict"]) == len(diagnosis["conflict_ids"]) == 7
        rules = diagnosis["conflict_rules"]
        assert len(rules) == 2
        (star,) = [r for r in rules if r["rows"]]
        (other,) = [r for r in rules if not r["rows"]]
        assert star["rule"] == "constraints[1]" and star["name"].startswith("单只上限")
        assert star["rows"] == [f"P{i}" for i in range(6)]
        assert len(star["ids"]) == 6 and star["id"] == star["ids"][0]
        assert other["ids"] == [other["id"]]
        assert set(star["ids"]) | {other["id"]} == set(diagnosis["conflict_ids"])
        _, cells = run(table, None, tmp_path / "r.xlsx", lang)
        # one line per sub-fund would be "单只上限 [id=P1]" …: only the moved line is named
        (move,) = diagnosis["relaxation"]
        for text in (terminal, *cells):
            assert not re.search(r"\[id=P\d\]", text.replace(move["constraint"], "")), text
        listed = "P0, P1, P2, P3, P4, P5"
        assert sum(listed in text for text in cells) >= 1
        assert listed in terminal.replace("\n", " ").replace("│", " ").replace("  ", " ") \
            or "P5" in terminal


def test_grouped_conflict_lines_without_reasons_list_each_rule_once() -> None:
    """The terminal/workbook fallback (no reason fits) is the grouped form too."""
    from fundopt.optimizer.result import ConflictRule, Diagnosis
    from fundopt.reports.diagnosis_text import conflict_lines

    rules = (ConflictRule("budget", "budget", "budget", ("budget",)),
             ConflictRule("district.*", "district 和平区 count", "c4", ("c4", "c5", "c6"),
                          ("和平区", "河东区", "南开区")))
    from fundopt.models.domain import Caption, CaptionKind

    captions = {"budget": Caption(CaptionKind.BUILTIN, "budget"),
                **{c: Caption(CaptionKind.SHORTHAND, "district", (d,), (("count", None),))
                   for c, d in (("c4", "和平区"), ("c5", "河东区"), ("c6", "南开区"))}}
    diagnosis = Diagnosis((), ("budget", "district 和平区 count", "district 河东区 count",
                               "district 南开区 count"), conflict_ids=("budget", "c4", "c5", "c6"),
                          conflict_rules=rules, captions=captions)
    assert conflict_lines(diagnosis, "en") == [
        "budget", "district count, for each of 3: 和平区, 河东区, 南开区"]
    assert conflict_lines(diagnosis, "zh") == [
        "预算", "区县 数量（共 3 项：和平区, 河东区, 南开区）"]


# --- no English under --lang zh -------------------------------------------------------------


def catalog_words() -> set[str]:
    """The English words of the diagnosis' catalog entries (headings included)."""
    texts = [t for code, t in en.MESSAGES.items() if code.startswith("diagnosis.")]
    words = set()
    for text in texts:
        words |= {w.lower() for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}", " ", text))}
    return words


def english_in(text: str, words: set[str]) -> set[str]:
    """Catalog words in ``text`` as words of their own (a policy key such as
    ``region.河北.min_share`` or ``max_ticket`` is data, kept as written)."""
    found = set()
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.\[\]]*", text):
        if token.isalpha() and token.lower() in words:
            found.add(token.lower())
    return found


def _policy(folder: Path, name: str, old: str, new: str) -> Path:
    assert old in SAMPLE
    path = folder / f"{name}.toml"
    path.write_text(SAMPLE.replace(old, new), encoding="utf-8")
    return path


def zh_cases(folder: Path) -> list[tuple[Path, Path | None]]:
    sample = ROOT / "inputs/2024.csv"
    hb = '[region."河北"]\nmin_share = 0.4\nmax_share = 0.6'
    tj = '[region."天津"]\nmin_share = 0.4\nmax_share = 0.6'
    must = folder / "m"
    must.mkdir()
    (must / "m.csv").write_text(
        "id,name,region,category,max_ticket,min_ticket,score,status\n"
        "A,甲,天津,k,4,2,5,must\nB,乙,河北,k,4,1.5,4,must\nC,丙,河北,k,4,1,3,\n",
        encoding="utf-8")
    (must / "m.toml").write_text('budget = 3\nunit = "亿元"\n', encoding="utf-8")
    blocked = folder / "b"
    blocked.mkdir()
    (blocked / "b.csv").write_text(
        "id,name,region,category,max_ticket,min_ticket,score,status\n"
        "A,甲,天津,k,1,2,5,must\nB,乙,河北,k,4,1,4,\n", encoding="utf-8")
    (blocked / "b.toml").write_text('budget = 3\nunit = "亿元"\n', encoding="utf-8")
    stars = folder / "s"
    stars.mkdir()
    return [
        (sample, _policy(folder, "over", hb, '[region."河北"]\nmin_share = 0.7\nmax_share = 0.8')),
        (sample, _policy(folder, "under", f"{tj}\n\n{hb}",
                         '[region."天津"]\nmax_share = 0.4\n\n[region."河北"]\nmax_share = 0.45')),
        (sample, _policy(folder, "f175", '"前沿技术"]\nmin_share = 0.15',
                         '"前沿技术"]\nmin_share = 0.175')),
        (per_fund(stars), None),
        (must / "m.csv", None),
        (blocked / "b.csv", None),
    ]


@pytest.mark.parametrize("case", range(6))
def test_no_catalog_english_under_lang_zh(case: int, tmp_path: Path) -> None:
    words = catalog_words()
    assert {"together", "budget", "cannot", "rule", "ticket"} <= words   # the check bites
    table, policy = zh_cases(tmp_path)[case]
    # the inputs' own words (a status "must", a rule named "risk cap" …) are data
    toml = (policy or table.with_suffix(".toml")).read_text(encoding="utf-8")
    data = table.read_text(encoding="utf-8") + " ".join(re.findall(r'name = "([^"]*)"', toml))
    words -= {w.lower() for w in re.findall(r"[A-Za-z]+", data)}
    assert {"together", "budget", "cannot", "rule"} <= words
    terminal, diagnosis = run(table, policy, tmp_path / "r.json", "zh")
    _, cells = run(table, policy, tmp_path / "r.xlsx", "zh")
    texts = [terminal, *diagnosis["messages"], *(r["text"] for r in diagnosis["relaxation"]),
             *cells]
    assert diagnosis["messages"] or diagnosis["relaxation"]
    for text in texts:
        assert not english_in(text, words), (english_in(text, words), text)
    # and the same run in English does say them (the words are the catalog's)
    terminal_en, diagnosis_en = run(table, policy, tmp_path / "r.json", "en")
    assert english_in(" ".join([terminal_en, *diagnosis_en["messages"]]), words)
