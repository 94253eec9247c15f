"""The decision memo (SPEC §12), checked on its printed pages.

Each memo is written by ``fundopt solve -o x.pdf -o x.html -o x.json``; the PDF comes from
WeasyPrint and the HTML is printed a second time by headless Chromium, as a reader's
browser would. On every page of both: no text below 8 pt, body text ≥ 9 pt, the footer
"page x of y" with the input's short SHA-256. The text read back from the pages is
compared with the JSON result (amounts, totals, every rule) computed independently here.

Needs poppler (``pdftohtml``, ``pdftotext``) and ``chromium``; ``.ci/run`` installs both.
"""

from __future__ import annotations

import csv
import json
import os
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pdf_pages import (
    CHROMIUM,
    PDFTOHTML,
    PDFTOTEXT,
    body_size,
    chromium_pdf,
    page_sizes,
    page_texts,
)
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.reports import numbers
from fundopt.reports.text import say

ROOT = Path(__file__).parent.parent
TABLE = ROOT / "inputs" / "2024.csv"
POLICY = ROOT / "inputs" / "2024.toml"
REPORT = ('\n[report]\ntitle = "2024年度子基金出资方案"\nfund = "京津冀科技成果转化母基金"\n'
          'round = 2024\nprepared_by = "投资部"\n')
runner = CliRunner()

pytestmark = pytest.mark.skipif(
    PDFTOHTML is None or PDFTOTEXT is None or CHROMIUM is None,
    reason="poppler-utils (pdftohtml, pdftotext) or chromium missing")


def _run(*args: object, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def memos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """Memo name → (language, folder holding memo.pdf, memo.html, chromium.pdf, plan.json)."""
    out = tmp_path_factory.mktemp("memo")
    relaxed = out / "relaxed.toml"
    relaxed.write_text(POLICY.read_text("utf-8").replace(
        '[region."河北"]\nmin_share = 0.4\nmax_share = 0.6',
        '[region."河北"]\nmin_share = 0.7\nmax_share = 0.8') + REPORT, encoding="utf-8")
    booked = out / "book.sqlite"
    _run("solve", TABLE, "-o", out / "2024.json")
    _run("book", "add", out / "2024.json", "--book", booked, "--round", "2024")
    cases: dict[str, tuple[str, list[object], int]] = {
        "relaxed_en": ("en", [TABLE, "--policy", relaxed, "--relax"], 0),
        "relaxed_zh": ("zh", [TABLE, "--policy", relaxed, "--relax", "--lang", "zh"], 0),
        "plain_en": ("en", [TABLE], 0),
        "infeasible_zh": ("zh", [TABLE, "--policy", relaxed, "--lang", "zh"], 3),
        "book_zh": ("zh", [ROOT / "inputs" / "2025.csv", "--book", booked, "--lang", "zh"], 0),
    }
    made = {}
    for name, (lang, args, code) in cases.items():
        folder = out / name
        folder.mkdir()
        _run("solve", *args, "-o", folder / "memo.pdf", "-o", folder / "memo.html",
             "-o", folder / "plan.json", code=code)
        chromium_pdf(folder / "memo.html", folder / "chromium.pdf")
        made[name] = (lang, folder)
    return made


PRINTS = [(name, kind) for name in ("relaxed_en", "relaxed_zh", "plain_en", "infeasible_zh",
                                    "book_zh") for kind in ("memo.pdf", "chromium.pdf")]


@pytest.mark.parametrize(("name", "kind"), PRINTS)
def test_every_page_is_legible(memos: dict[str, tuple[str, Path]], name: str,
                               kind: str) -> None:
    _, folder = memos[name]
    pages = page_sizes(folder / kind)
    assert pages
    for page in pages:
        small = [(size, text) for size, text in page.runs if size < 8]
        assert not small, f"{name}/{kind} page {page.page}: text below 8 pt: {small[:3]}"
    assert body_size(pages) >= 9, f"{name}/{kind}: body text at {body_size(pages)} pt"


@pytest.mark.parametrize(("name", "kind"), PRINTS)
def test_every_page_has_its_footer(memos: dict[str, tuple[str, Path]], name: str,
                                   kind: str) -> None:
    lang, folder = memos[name]
    data = json.loads((folder / "plan.json").read_text("utf-8"))
    short = data["manifest"]["input_sha256"][:12]
    texts = page_texts(folder / kind)
    for number, text in enumerate(texts, start=1):
        footer = say("memo.footer", lang, page=number, pages=len(texts))
        assert footer in text, f"{name}/{kind} page {number}: no {footer!r}"
        assert short in text, f"{name}/{kind} page {number}: no SHA-256 {short}"


@pytest.mark.parametrize("name", ["relaxed_en", "relaxed_zh"])
def test_a_relaxed_plan_says_so_on_page_one(memos: dict[str, tuple[str, Path]],
                                            name: str) -> None:
    lang, folder = memos[name]
    for kind in ("memo.pdf", "chromium.pdf"):
        first = _flat(page_texts(folder / kind)[0])
        assert _flat(say("memo.notice.relaxed", lang)) in first
        assert "70%→60%" in first and "河北" in first
        assert _flat(say("memo.status.optimal_relaxed", lang)) in first
        # the cover does not call it a plain optimum
        assert _flat(say("memo.status.optimal", lang)) not in first
        assert "京津冀科技成果转化母基金" in first and "2024" in first


def test_the_cover_says_what_is_not_given(memos: dict[str, tuple[str, Path]]) -> None:
    page = page_texts(memos["plain_en"][1] / "memo.pdf")[0]
    first = _flat(page)
    assert _flat(say("memo.title", "en")) in first   # the default title
    assert _flat(say("memo.not_given", "en", key="fund")) in first
    # local time with its zone
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d (UTC|\S+ \(UTC[+-]\d\d:\d\d\))", page)


@pytest.mark.parametrize("name", ["relaxed_en", "relaxed_zh", "plain_en", "book_zh"])
def test_plan_and_totals_equal_the_json(memos: dict[str, tuple[str, Path]], name: str
                                        ) -> None:
    lang, folder = memos[name]
    data = json.loads((folder / "plan.json").read_text("utf-8"), parse_float=Decimal)
    funded = [a for a in data["allocations"] if a["funded"]]
    total = sum((a["amount"] for a in funded), Decimal(0))
    text = "\n".join(page_texts(folder / "memo.pdf"))
    lines = text.splitlines()
    for a in funded:  # each funded row once, with its amount
        rows = [line for line in lines if re.search(rf"(^|\s){re.escape(a['id'])}\s", line)]
        assert len(rows) == 1, f"{name}: {a['id']} on {len(rows)} lines"
        assert f"{a['amount']:,.2f}" in rows[0].split(), rows[0]
    unfunded = [a["id"] for a in data["allocations"] if not a["funded"]]
    assert not any(re.search(rf"(^|\s){re.escape(i)}\s", text) for i in unfunded
                   if not _is_warned(i, data))
    total_word = say("memo.total", lang)
    totals = [line.split() for line in lines if line.split()[:1] == [total_word]]
    # the plan's total row and one per group table, each the JSON's committed and its sum
    assert len(totals) >= 4, totals
    for words in totals:
        assert f"{total:,.2f}" in words and f"{data['committed']:,.2f}" in words
    # totals by region, from the input table and the JSON amounts
    regions = _column(TABLE if name != "book_zh" else ROOT / "inputs" / "2025.csv", "region")
    by_region: dict[str, Decimal] = {}
    for a in data["allocations"]:
        by_region[regions[a["id"]]] = by_region.get(regions[a["id"]], Decimal(0)) + a["amount"]
    for region, amount in by_region.items():
        assert any(line.split()[:2] == [region, f"{amount:,.2f}"] for line in lines), region


# The words a constraint's label stands for, read back from the label here (an oracle
# independent of the captions the memo renders): built-in lines by their label, a
# shorthand line's column and measure in the language, everything else as written.
_SHORTHAND = re.compile(r"^(region|category|district) (.+) (amount|share|count)( #\d+)?$")
_WORDS = {"zh": {"region": "地区", "category": "类别", "district": "区县", "amount": "金额",
                 "share": "占比", "count": "数量", "budget": "预算", "funded": "获出资子基金数"},
          "en": {"budget": "budget", "funded": "funded sub-funds"}}


def constraint_name(name: str, lang: str) -> str:
    words = _WORDS[lang]
    if name in ("budget", "funded"):
        return words[name]
    found = _SHORTHAND.match(name)
    if not found or lang == "en":
        return name
    column, value, measure, number = found.groups()
    return f"{words[column]} {value} {words[measure]}{number or ''}"


def _is_warned(row_id: str, data: dict) -> bool:
    return any(w.get("id") == row_id for w in data["warnings"])


def _column(table: Path, column: str) -> dict[str, str]:
    with open(table, encoding="utf-8-sig", newline="") as handle:
        return {row["id"]: row[column] for row in csv.DictReader(handle)}


@pytest.mark.parametrize("name", ["relaxed_en", "relaxed_zh", "plain_en", "book_zh"])
def test_every_rule_is_in_the_compliance_table(memos: dict[str, tuple[str, Path]], name: str
                                               ) -> None:
    lang, folder = memos[name]
    data = json.loads((folder / "plan.json").read_text("utf-8"))
    rows = _compliance_rows((folder / "memo.html").read_text("utf-8"))
    assert [r[0] for r in rows] == [constraint_name(c["name"], lang)
                                    for c in data["constraints"]]
    for c, row in zip(data["constraints"], rows, strict=True):
        value, state = row[-3], row[-2]
        shown = numbers.measure_text(c["value"], c["measure"], 2)
        assert value.startswith(shown), (row, c)
        # binding exactly when the value shown equals a limit shown (as a number)
        limits = [x for x in (c["min"], c["max"]) if x is not None]
        equal = any(_number(shown) == _number(numbers.measure_text(x, c["measure"], 2))
                    for x in limits)
        if state != say("memo.state.broken_written", lang):  # checked below
            assert (state == say("memo.state.binding", lang)) == equal, (row, c)
        expected_scope = say(f"memo.scope.{c['scope']}", lang)
        assert row[-1] == expected_scope
    if data["relaxed"]:  # the written and the applied limit side by side
        changed = [r for r in rows if r[1] != r[2]]
        assert len(changed) == 1 and "70%" in changed[0][1] and "60%" in changed[0][2]
        assert changed[0][-2] == say("memo.state.broken_written", lang)


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", "").rstrip("%"))


class _Rows(HTMLParser):
    """The cell texts of the rows of the compliance table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = self.cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and ("class", "compliance") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.inside = False
        elif tag == "td":
            self.cell = False

    def handle_data(self, data: str) -> None:
        if self.inside and self.cell:
            self.rows[-1][-1] += data


def _compliance_rows(page: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(page)
    return [r for r in parser.rows if r]


def test_infeasible_memo_gives_the_rules_with_their_numbers(
        memos: dict[str, tuple[str, Path]]) -> None:
    lang, folder = memos["infeasible_zh"]
    text = _flat("\n".join(page_texts(folder / "memo.pdf")))
    assert _flat(say("memo.notice.infeasible", lang)) in text
    assert "地区天津占比：40%–60%" in text and "地区河北占比：70%–80%" in text
    assert "70%→60%" in text
    for code in ("memo.sign.draft", "memo.sign.review", "memo.sign.approve"):
        assert say(code, lang) in text


def test_a_book_based_plan_says_so_on_the_cover(memos: dict[str, tuple[str, Path]]) -> None:
    lang, folder = memos["book_zh"]
    data = json.loads((folder / "plan.json").read_text("utf-8"))
    first = _flat(page_texts(folder / "memo.pdf")[0])
    book = data["book"]
    notice = say("memo.notice.book", lang, booked=f"{book['booked']:,.2f}", rounds="2024",
                 committed=f"{book['this_round']:,.2f}", total=f"{book['fund_total']:,.2f}",
                 unit=data["unit"])
    assert _flat(notice) in first
    html = (folder / "memo.html").read_text("utf-8")
    assert say("memo.scope.fund", lang) in html


def test_the_html_is_self_contained(memos: dict[str, tuple[str, Path]]) -> None:
    for _, folder in memos.values():
        page = (folder / "memo.html").read_text("utf-8")
        assert "<script" not in page.lower() and "<link" not in page.lower()
        assert not re.search(r"(src|href)\s*=", page, re.I)
        assert "url(" not in page
        assert "<svg" in page or "infeasible" in folder.name


def test_no_cjk_font_is_exit_2_saying_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "fonts"
    empty.mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><dir>{empty}</dir>'
                      f"<cachedir>{empty}/cache</cachedir></fontconfig>", encoding="utf-8")
    target = tmp_path / "memo.pdf"
    before = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(config)
    try:
        output = _run("solve", TABLE, "-o", target, "--lang", "zh", code=2)
    finally:
        if before is None:
            del os.environ["FONTCONFIG_FILE"]
        else:
            os.environ["FONTCONFIG_FILE"] = before
    assert "fonts-noto-cjk" in output and not target.exists()
    assert say("memo.no_cjk_font", "zh") in _flat(output)


def test_report_keys_are_checked(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY.read_text("utf-8") + '\n[report]\ntitel = "x"\n', "utf-8")
    output = _run("check", TABLE, "--policy", policy, code=2)
    assert "report.titel" in output and "title" in output


def _flat(text: str) -> str:
    """Text without line breaks and runs of spaces (a wrapped sentence reads as one)."""
    return re.sub(r"\s+", "", text)


def _hard_table(folder: Path, n: int = 800, seed: int = 7) -> Path:
    """A MILP that HiGHS does not prove optimal in a second (it does not in 30 s): fixed
    tickets (min = max) whose scores are nearly proportional to their amounts, under a
    budget, a share window, a category cap, district counts and a risk average."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    size = rng.integers(100, 1000, n) / 100
    pd.DataFrame({
        "id": [f"G-{i:03d}" for i in range(n)], "name": [f"fund {i}" for i in range(n)],
        "region": rng.choice(["A", "B", "C"], n),
        "district": rng.choice([f"d{k}" for k in range(n // 10)], n),
        "category": rng.choice(["x", "y", "z"], n), "max_ticket": size, "min_ticket": size,
        "risk": rng.uniform(0, 1, n).round(3),
        "score": (size * 10 + rng.integers(0, 100, n) / 100).round(3),
    }).to_csv(folder / "hard.csv", index=False)
    (folder / "hard.toml").write_text(
        f'unit = "亿元"\nbudget = {round(n * 5 / 3)}\nmin_deploy = 0.5\namount_step = 0.01\n\n'
        '[objective]\nmaximize = "score"\n\n[district."*"]\nmax_count = 4\n\n'
        '[region.A]\nmin_share = 0.3\nmax_share = 0.33\n\n[category.x]\nmax_share = 0.31\n\n'
        '[[constraints]]\nname = "risk"\nmeasure = "avg(risk)"\nmax = 0.45\n',
        encoding="utf-8")
    return folder / "hard.csv"


def _gray(pdf: Path, page: int, dpi: int) -> list[bytes]:
    """Page ``page`` of ``pdf`` rendered in gray: one row of pixel values per line."""
    import subprocess

    data = subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l",
                           str(page), str(pdf)], check=True, capture_output=True).stdout
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert fields is not None
    width, height = int(fields.group(1)), int(fields.group(2))
    pixels = data[fields.end():]
    return [pixels[r * width:(r + 1) * width] for r in range(height)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_time_limited_memo_says_so_on_page_one(tmp_path: Path, lang: str) -> None:
    """A real solve stopped by --time-limit 1 before optimality: page 1 of the memo
    gives the status in words and the gap (the .json's, formatted here), inside the
    framed notice — a rule drawn above and below the sentence on the rendered page."""
    import subprocess

    table = _hard_table(tmp_path)
    _run("solve", table, "--time-limit", "1", "--lang", lang, "-o", tmp_path / "memo.pdf",
         "-o", tmp_path / "plan.json")
    data = json.loads((tmp_path / "plan.json").read_text("utf-8"))
    assert data["status"] == "feasible", data["status"]
    gap = data["gap"]
    assert gap is not None and gap > 0
    shown_gap = f"{round(gap * 100, 1):.1f}%"
    first = _flat(page_texts(tmp_path / "memo.pdf")[0])
    assert _flat(say("memo.status.feasible", lang)) in first
    assert _flat(say("memo.notice.time_limit", lang, gap=shown_gap)) in first
    # the frame: the page's words with their boxes, then dark rules around the notice
    words = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1",
                            str(tmp_path / "memo.pdf"), "-"], check=True,
                           capture_output=True, text=True).stdout
    boxes = [(float(m.group(1)), float(m.group(2)), float(m.group(4)), m.group(5))
             for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                  r'yMax="([\d.]+)">(.*?)</word>', words)]
    # the notice comes before the key figures: the first word that starts with the gap
    gap_word = min((b for b in boxes if shown_gap in b[3]), key=lambda b: b[1])
    dpi = 100
    rows = _gray(tmp_path / "memo.pdf", 1, dpi)
    scale = dpi / 72.0
    x = int(gap_word[0] * scale)
    y_top, y_bottom = int(gap_word[1] * scale), int(gap_word[2] * scale)
    width = len(rows[0])

    def rule(r: int) -> bool:       # a dark line across more than half the page
        return sum(1 for v in rows[r] if v < 128) > width // 2

    above = [r for r in range(max(0, y_top - int(80 * scale)), y_top) if rule(r)]
    below = [r for r in range(y_bottom, min(len(rows), y_bottom + int(80 * scale))) if rule(r)]
    assert above and below, f"{lang}: no frame around the time-limit notice"
    # and the frame's left side: a pixel column left of the text dark from rule to rule
    inside = range(above[-1] + 1, below[0])
    assert any(all(rows[r][c] < 128 for r in inside) for c in range(x)), (
        f"{lang}: the notice's frame has no left side")
