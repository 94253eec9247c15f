"""The review workbooks print: every workbook of solve, compare, sweep and an infeasible
solve is turned into PDF by LibreOffice and its pages are read back with poppler's
``pdftotext`` (word positions per page).

Checked on the pages themselves:
- every page of a sheet with one amount per sub-fund shows the sub-fund's id on the same
  line as its amounts (the sheet fits one page across);
- no chart is cut by a page break (its title and the labels at its bottom are on one
  page, the labels below the title);
- no page is empty but for a line (besides the page header and footer).

LibreOffice and poppler come from Debian (``libreoffice-calc``, ``fonts-noto-cjk``,
``poppler-utils``); ``.ci/run`` installs them, so CI never skips this.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from pdf_pages import body_size, page_sizes
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.reports.labels import key_text, label
from fundopt.reports.text import say

ROOT = Path(__file__).parent.parent
TABLE = ROOT / "inputs" / "2024.csv"
SCENARIOS = ROOT / "inputs" / "2024-scenarios.toml"
OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
DPI = 100
ID = re.compile(r"^(TJ|HB)-[A-Z]+-\d\d$")
AMOUNT = re.compile(r"^-?\d[\d,]*\.\d\d$")
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"(.*?)</word>")
runner = CliRunner()

pytestmark = pytest.mark.skipif(
    OFFICE is None or PDFTOTEXT is None or PDFTOPPM is None,
    reason="LibreOffice or pdftotext / pdftoppm (poppler-utils) missing")


@dataclass(frozen=True)
class Word:
    x: float
    y: float
    text: str
    right: float = 0.0           # xMax of the word's box


@dataclass(frozen=True)
class Page:
    number: int
    height: float
    words: tuple[Word, ...]

    def lines(self) -> list[list[Word]]:
        """Words grouped into lines by their vertical position, top to bottom."""
        lines: list[list[Word]] = []
        for word in sorted(self.words, key=lambda w: (w.y, w.x)):
            if lines and abs(lines[-1][0].y - word.y) < 3.0:
                lines[-1].append(word)
            else:
                lines.append([word])
        return lines


@dataclass(frozen=True)
class Book:
    name: str
    lang: str
    xlsx: Path
    pages: tuple[Page, ...]

    def sheet_pages(self, sheet: str) -> list[Page]:
        """Pages whose page header (the first line) is the sheet's name."""
        return [p for p in self.pages if p.lines() and
                " ".join(w.text for w in p.lines()[0]) == sheet]


def _read_pdf(pdf: Path) -> tuple[Page, ...]:
    """The words that are *visible* on each page. LibreOffice draws a chart on every page
    it overlaps and clips it, so text extraction alone also finds clipped-away chart text;
    a word counts only where the rendered page has ink inside its box."""
    assert PDFTOTEXT is not None and PDFTOPPM is not None
    text = subprocess.run([PDFTOTEXT, "-bbox", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    prefix = pdf.with_suffix("")
    subprocess.run([PDFTOPPM, "-r", str(DPI), "-gray", str(pdf), str(prefix)], check=True,
                   capture_output=True)
    images = sorted(pdf.parent.glob(f"{prefix.name}-*.pgm"))
    pages = []
    for number, chunk in enumerate(re.split(r"<page ", text)[1:], start=1):
        height = float(re.search(r'height="([\d.]+)"', chunk).group(1))  # type: ignore[union-attr]
        ink = _pgm(images[number - 1])
        words = tuple(Word(float(m.group(1)), float(m.group(2)), html.unescape(m.group(5)),
                           float(m.group(3)))
                      for m in WORD.finditer(chunk)
                      if _inked(ink, *(float(m.group(i)) for i in range(1, 5))))
        pages.append(Page(number, height, words))
    return tuple(pages)


def _pgm(path: Path) -> np.ndarray:
    """A binary PGM (P5, 8-bit) as a 2-D array."""
    data = path.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert fields is not None, path
    width, height = int(fields.group(1)), int(fields.group(2))
    return np.frombuffer(data[fields.end():fields.end() + width * height],
                         dtype=np.uint8).reshape(height, width)


def _inked(ink: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether both halves of the word's box have ink (a word cut at a page edge or by
    a clipped chart has a blank half)."""
    scale = DPI / 72.0
    box = ink[int(y0 * scale):int(math.ceil(y1 * scale)) + 1,
              int(x0 * scale):int(math.ceil(x1 * scale)) + 1]
    middle = box.shape[1] // 2
    return middle > 0 and int(box[:, :middle].min()) < 200 and \
        int(box[:, middle:].min()) < 200


def _run(*args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 3), result.output


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Book]:
    out = tmp_path_factory.mktemp("print")
    infeasible = out / "infeasible.toml"
    infeasible.write_text((ROOT / "inputs" / "2024.toml").read_text("utf-8").replace(
        "min_share = 0.10", "min_share = 0.30"), encoding="utf-8")
    made = {
        "solve": ("en", ["solve", str(TABLE)]),
        "solve_zh": ("zh", ["solve", str(TABLE), "--lang", "zh"]),
        "compare": ("zh", ["compare", str(TABLE), "--scenarios", str(SCENARIOS), "--workers",
                           "1", "--lang", "zh"]),
        # 40 points: the amounts sheet is too wide for one page and goes several across
        "sweep": ("en", ["sweep", str(TABLE), "--param", "budget", "--from", "20", "--to",
                         "50", "--steps", "40"]),
        "infeasible": ("zh", ["solve", str(TABLE), "--policy", str(infeasible), "--lang",
                              "zh"]),
        "relaxed": ("zh", ["solve", str(TABLE), "--policy", str(infeasible), "--relax",
                           "--lang", "zh"]),
        "stability": ("zh", ["stability", str(TABLE), "--draws", "60", "--workers", "1",
                             "--lang", "zh"]),
        "book_show": ("en", ["book", "show", "2024", "--book", str(out / "book.sqlite")]),
        # the other language of each kind, for the wrapped-text check
        "compare_en": ("en", ["compare", str(TABLE), "--scenarios", str(SCENARIOS),
                              "--workers", "1"]),
        "stability_en": ("en", ["stability", str(TABLE), "--draws", "20", "--workers", "1"]),
        "book_show_zh": ("zh", ["book", "show", "2024", "--book", str(out / "book.sqlite"),
                                "--lang", "zh"]),
    }
    _run("solve", str(TABLE), "-o", str(out / "2024.json"))
    _run("book", "add", str(out / "2024.json"), "--book", str(out / "book.sqlite"),
         "--round", "2024")
    for name, (_, args) in made.items():
        _run(*args, "-o", str(out / f"{name}.xlsx"))
    assert OFFICE is not None
    subprocess.run([OFFICE, "--headless", f"-env:UserInstallation=file://{out}/profile",
                    "--convert-to", "pdf", "--outdir", str(out),
                    *(str(out / f"{name}.xlsx") for name in made)],
                   check=True, capture_output=True, timeout=300)
    return {name: Book(name, lang, out / f"{name}.xlsx", _read_pdf(out / f"{name}.pdf"))
            for name, (lang, _) in made.items()}


PER_ROW_SHEETS = {"solve": ["sheet.plan"], "solve_zh": ["sheet.plan"],
                  "compare": ["sheet.plans"], "sweep": ["sheet.sweep_amounts"],
                  "infeasible": []}


ALL_BOOKS = [*PER_ROW_SHEETS, "relaxed", "stability", "book_show"]


@pytest.mark.parametrize("name", ALL_BOOKS)
def test_every_page_is_legible(books: dict[str, Book], name: str) -> None:
    """SPEC §12: no text below 8 pt on any page, body text ≥ 9 pt (font sizes as poppler
    reads them from the PDF LibreOffice prints)."""
    pages = page_sizes(books[name].xlsx.with_suffix(".pdf"))
    assert len(pages) == len(books[name].pages)
    for page in pages:
        small = [(round(size, 2), text) for size, text in page.runs if size < 8]
        assert not small, f"{name} page {page.page}: text below 8 pt: {small[:3]}"
    assert body_size(pages) >= 9, f"{name}: body text at {body_size(pages)} pt"


@pytest.mark.parametrize("name", list(PER_ROW_SHEETS))
def test_amounts_never_print_without_their_id(books: dict[str, Book], name: str) -> None:
    book = books[name]
    for key in PER_ROW_SHEETS[name]:
        pages = book.sheet_pages(label(key, book.lang))
        assert pages, f"{name}: no page of sheet {label(key, book.lang)}"
        rows = 0
        for page in pages:
            for line in page.lines():
                if line[0].text == label("total", book.lang):  # the plan's total row
                    continue
                if any(AMOUNT.match(w.text) for w in line):
                    rows += 1
                    assert any(ID.match(w.text) for w in line), (
                        f"{name} page {page.number}: amounts without an id: "
                        + " ".join(w.text for w in line))
        assert rows >= 40, f"{name}: only {rows} rows of amounts printed"


def _content_lines(page: Page) -> list[str]:
    """The page's lines less its header (sheet name) and footer (page N of M)."""
    lines = [" ".join(w.text for w in line) for line in page.lines()]
    footer = re.compile(r"^(page \d+ of \d+|第 \d+ 页，共 \d+ 页)$")
    return [line for line in lines[1:] if not footer.match(line)]


@pytest.mark.parametrize("name", list(PER_ROW_SHEETS))
def test_no_page_is_empty_but_for_a_line(books: dict[str, Book], name: str) -> None:
    book = books[name]
    assert book.pages
    for page in book.pages:
        lines = _content_lines(page)
        assert len(lines) >= 2, f"{name} page {page.number} holds only {lines}"


def _charts(book: Book) -> list[tuple[str, list[str]]]:
    """Each chart the workbook should hold: its title and words printed at its bottom."""
    lang = book.lang
    regions, categories = ["天津", "河北"], ["国家重大平台", "重大科技专项", "前沿技术",
                                          "高端人才团队"]
    pivot = [(label("chart.by_region", lang), regions),
             (label("chart.by_category", lang), categories)]
    return {
        "solve": pivot, "solve_zh": pivot, "infeasible": [],
        "compare": [(label("chart.compare_region", lang), regions), *pivot],
        "sweep": [(label("chart.objective_curve", lang).format(param="budget"), ["budget"])],
    }[book.name]


@pytest.mark.parametrize("name", list(PER_ROW_SHEETS))
def test_no_chart_is_cut_by_a_page_break(books: dict[str, Book], name: str) -> None:
    book = books[name]
    for title, bottom in _charts(book):
        hits = [(page, line) for page in book.pages for line in page.lines()
                if " ".join(w.text for w in line) == title]
        assert len(hits) == 1, f"{name}: chart {title!r} found {len(hits)} times"
        page, line = hits[0]
        below = {w.text for w in page.words if w.y > line[0].y}
        assert set(bottom) <= below, (
            f"{name}: chart {title!r} on page {page.number} lacks {set(bottom) - below} "
            "below its title: cut by a page break")
    # and in the workbook: a manual page break right above every chart, and every chart
    # narrower than the page at the sheet's print scale (A4 landscape: 27.7 cm less margins)
    sheets = load_workbook(book.xlsx)
    for sheet in sheets:
        breaks = {b.id for b in sheet.row_breaks.brk}
        for chart in sheet._charts:
            row = chart.anchor._from.row  # 0-based row of the chart's top
            assert row in breaks, f"{name}/{sheet.title}: no page break above a chart"
            scale = (sheet.page_setup.scale or 100) / 100
            assert sheet.page_setup.orientation == "landscape"
            assert chart.width * scale <= 29.7 - 2 * 1.8, f"{name}/{sheet.title}: too wide"
    if name == "infeasible":
        assert not any(sheet._charts for sheet in sheets), "a result without a plan: no charts"


def test_infeasible_workbook_opens_with_the_diagnosis(books: dict[str, Book]) -> None:
    book = books["infeasible"]
    first = book.pages[0]
    text = " ".join(w.text for w in first.words)
    assert label("sheet.cover", "zh") in text and say("diagnosis.heading", "zh") in text
    assert "30% →" in text, text  # the suggested relaxation, as a percentage
    cover = load_workbook(book.xlsx).worksheets[0]
    assert cover.title == label("sheet.cover", "zh")
    assert cover["A3"].value == say("diagnosis.heading", "zh")


def test_every_sheet_has_a_page_setup(books: dict[str, Book]) -> None:
    for book in books.values():
        for sheet in load_workbook(book.xlsx):
            setup = sheet.page_setup
            assert setup.paperSize in (9, "9"), f"{book.name}/{sheet.title}"
            fitted = sheet.sheet_properties.pageSetUpPr is not None and \
                sheet.sheet_properties.pageSetUpPr.fitToPage
            # a fixed scale at which 11-point cells print at 9 pt, never "fit to N pages"
            assert not fitted and int(setup.scale) >= 82, f"{book.name}/{sheet.title}"
            if sheet.max_row > 1 and sheet.title != label("sheet.cover", book.lang):
                assert sheet.print_title_rows in ("1:1", "$1:$1"), f"{book.name}/{sheet.title}"
            assert sheet.oddFooter.center.text
    amounts = load_workbook(books["sweep"].xlsx)[label("sheet.sweep_amounts", "en")]
    # 40 points: several pages across, the ids and names on each
    assert amounts.print_title_cols in ("A:B", "$A:$B")


def test_a_relaxed_workbook_does_not_look_compliant(books: dict[str, Book]) -> None:
    """The first page says what the memo's cover says: not the policy as written."""
    book = books["relaxed"]
    first = "".join(w.text for w in book.pages[0].words)
    assert say("memo.notice.relaxed", "zh").replace(" ", "") in first
    assert "30%→" in first  # the changed limit, as the planner wrote it
    assert say("memo.status.optimal_relaxed", "zh").replace(" ", "") in first
    cover = load_workbook(book.xlsx).worksheets[0]
    status = [row[1] for row in cover.iter_rows(values_only=True)
              if row[0] == label("status", "zh")]
    assert status == [say("memo.status.optimal_relaxed", "zh")]
    audit = load_workbook(book.xlsx)[label("sheet.audit", "zh")]
    lines = [row[0] for row in audit.iter_rows(values_only=True)]
    assert "category.高端人才团队.min_share = 0.3 → 0.11975" in lines, lines


def test_the_stability_chart_is_whole_labelled_and_in_table_order(books: dict[str, Book]
                                                                   ) -> None:
    """Every bar carries its id, the bars run in the table's order, and no chart is cut:
    each chart page shows its title and then its ids, top to bottom."""
    book = books["stability"]
    sheet = load_workbook(book.xlsx)[label("sheet.stability", "zh")]
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)
           if row[0] and ID.match(str(row[0]))]
    title = label("chart.funded_share", "zh")
    shown: list[str] = []
    for page in book.pages:
        lines = page.lines()
        at = [i for i, line in enumerate(lines) if "".join(w.text for w in line) == title]
        if not at:
            continue
        below = [w for line in lines[at[0] + 1:] for w in line if ID.match(w.text)]
        shown += [w.text for w in sorted(below, key=lambda w: w.y)]
    assert shown == ids, f"chart ids {shown} differ from the table's {ids}"


# --- the sweep's chart and its infeasible points, at 12, 50 and 200 points ------------

SWEEP_TABLE = """id,name,region,district,category,max_ticket,score
S-01,基金一,天津,a,x,4.2,71
S-02,基金二,河北,b,y,3.1,88
S-03,基金三,天津,c,x,2.6,64
S-04,基金四,河北,a,y,4.9,93
S-05,基金五,天津,b,x,3.7,57
S-06,基金六,河北,c,y,2.2,79
S-07,基金七,天津,a,y,4.4,82
S-08,基金八,河北,b,x,3.3,69
"""
# Σ max_ticket = 28.4: with min_deploy 0.9 every budget above 31.56 has no plan.
SWEEP_POLICY = ('unit = "亿元"\nbudget = 20\nmin_deploy = 0.9\nmin_ticket = 0.5\n\n'
                '[objective]\nmaximize = "score"\n')
SWEEPS = {"12": ("en", 12), "50": ("zh", 50), "200": ("en", 200)}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Book, dict]]:
    """Sweep workbooks of budget 10 → 50 (a run of infeasible points at the top) printed
    by LibreOffice, with the sweep's .json."""
    out = tmp_path_factory.mktemp("sweeps")
    (out / "t.csv").write_text(SWEEP_TABLE, encoding="utf-8")
    (out / "t.toml").write_text(SWEEP_POLICY, encoding="utf-8")
    for name, (lang, steps) in SWEEPS.items():
        _run("sweep", str(out / "t.csv"), "--param", "budget", "--from", "10", "--to", "50",
             "--steps", str(steps), "--workers", "1", "--lang", lang,
             "-o", str(out / f"s{name}.xlsx"), "-o", str(out / f"s{name}.json"))
    assert OFFICE is not None
    subprocess.run([OFFICE, "--headless", f"-env:UserInstallation=file://{out}/profile",
                    "--convert-to", "pdf", "--outdir", str(out),
                    *(str(out / f"s{name}.xlsx") for name in SWEEPS)],
                   check=True, capture_output=True, timeout=300)
    import json

    return {name: (Book(name, lang, out / f"s{name}.xlsx", _read_pdf(out / f"s{name}.pdf")),
                   json.loads((out / f"s{name}.json").read_text("utf-8")))
            for name, (lang, _) in SWEEPS.items()}


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


@pytest.mark.parametrize("name", list(SWEEPS))
def test_sweep_chart_axis_labels_do_not_overlap(sweeps: dict[str, tuple[Book, dict]],
                                                name: str) -> None:
    """On the printed chart page, the x axis (the budget) carries a handful of increasing
    labels within the swept range, each clear of the next — at 12 points as at 200."""
    book, data = sweeps[name]
    title = label("chart.objective_curve", book.lang).format(
        param=key_text("budget", book.lang))
    hits = [(page, line) for page in book.pages for line in page.lines()
            if "".join(w.text for w in line) == title.replace(" ", "")
            or " ".join(w.text for w in line) == title]
    assert len(hits) == 1, f"{name}: chart title {title!r} found {len(hits)} times"
    page, at = hits[0]
    numeric = [line for line in page.lines() if line[0].y > at[0].y
               and len(line) >= 3 and all(_number(w.text) is not None for w in line)]
    assert numeric, f"{name}: no axis labels under the chart"
    axis = sorted(numeric[-1], key=lambda w: w.x)   # the lowest line of numbers: the x axis
    values = [float(w.text.replace(",", "")) for w in axis]
    assert 3 <= len(axis) <= 15, f"{name}: {len(axis)} x labels: {[w.text for w in axis]}"
    assert values == sorted(values) and len(set(values)) == len(values), values
    points = [p["value"] for p in data["points"]]
    assert min(points) - 1e-9 <= values[0] and values[-1] <= max(points) + 1e-9, values
    for left, right in zip(axis, axis[1:], strict=False):
        assert left.right < right.x, f"{name}: x labels {left.text} and {right.text} overlap"


@pytest.mark.parametrize("name", list(SWEEPS))
def test_infeasible_sweep_points_are_marked_on_paper(sweeps: dict[str, tuple[Book, dict]],
                                                     name: str) -> None:
    """Every point without a plan (as the .json says) is printed with its status word:
    on its row of the sweep sheet, and in the amounts sheet under a header that names
    it; no page of the amounts sheet is without amounts or that word."""
    book, data = sweeps[name]
    lang = book.lang
    word = label("status.infeasible", lang)
    bad = [p["value"] for p in data["points"] if p["status"] != "optimal"]
    assert bad, "the sweep crosses into infeasible budgets"
    assert all(p["status"] == "infeasible" for p in data["points"] if p["status"] != "optimal")
    rows = [sorted(line, key=lambda w: w.x) for page in book.sheet_pages(
        label("sheet.sweep", lang)) for line in page.lines()]
    marked = {round(_number(line[0].text) or 0, 3) for line in rows
              if _number(line[0].text) is not None and word in {w.text for w in line}}
    shown = {round(float(f"{v:.4f}"), 3) for v in bad}
    assert shown <= marked, f"{name}: infeasible rows not marked: {sorted(shown - marked)}"
    amounts = book.sheet_pages(label("sheet.sweep_amounts", lang))
    assert amounts
    for page in book.pages:     # a number too wide for its column prints as ###
        assert not any("###" in w.text for w in page.words), f"{name} page {page.number}"
    for page in amounts:
        texts = {w.text for w in page.words}
        assert any(AMOUNT.match(t) for t in texts) or word in texts, (
            f"{name} page {page.number}: an amounts page with neither amounts nor {word!r}")
    sheet = load_workbook(book.xlsx, read_only=True)[label("sheet.sweep_amounts", lang)]
    heads, *cells = [row[2:] for row in sheet.iter_rows(values_only=True)]
    covered = []
    for k, head in enumerate(heads):
        numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", str(head))]
        column = {row[k] for row in cells}
        if column == {word}:
            covered.append((numbers[0], numbers[1] if len(numbers) > 1 else numbers[0]))
        else:   # a point with a plan: an amount in every row
            assert all(isinstance(v, int | float) for v in column), (head, column)
    for value in bad:
        assert any(lo - 1e-3 <= value <= hi + 1e-3 for lo, hi in covered), value
    assert word in " ".join(w.text for p in amounts for w in p.words)


WIDE_TEXT = re.compile("[\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef]")


def _last_piece(text: str) -> str:
    """What a wrapped cell prints last: its last word, or the last character of one with
    CJK in it (CJK text wraps between any two characters, even before a closing bracket:
    ``(亿`` / ``元)``)."""
    word = text.split()[-1]
    if WIDE_TEXT.search(word):
        return word[-1]
    return word.rstrip("-").rsplit("-", 1)[-1]   # a line may break after a hyphen


def _ends(printed: str, piece: str) -> bool:
    """Whether a printed word is the end of ``piece``: the word itself, or the last line
    of a word too long for its column (a SHA-256 breaks anywhere)."""
    return printed.endswith(piece) or (len(piece) > 10 and piece.endswith(printed))


WRAPPED_BOOKS = [*ALL_BOOKS, "compare_en", "stability_en", "book_show_zh"]


@pytest.mark.parametrize("name", WRAPPED_BOOKS)
def test_wrapped_cells_print_all_their_text(books: dict[str, Book], name: str) -> None:
    """Rows are no taller than their text needs, but never shorter: the last line of
    every wrapped cell is printed (a row too short clips it, and LibreOffice draws no
    ink for it). Counted per sheet: the printed words that end with a cell's last word
    are at least as many as the wrapped cells ending with it."""
    _check_wrapped(books[name])


@pytest.mark.parametrize("name", list(SWEEPS))
def test_wrapped_sweep_cells_print_all_their_text(sweeps: dict[str, tuple[Book, dict]],
                                                  name: str) -> None:
    _check_wrapped(sweeps[name][0])


def _check_wrapped(book: Book) -> None:
    from collections import Counter

    checked = 0
    for sheet in load_workbook(book.xlsx):
        wanted: Counter[str] = Counter()
        for row in sheet.iter_rows():
            for cell in row:
                if cell.alignment.wrap_text and isinstance(cell.value, str) and \
                        cell.value.strip():
                    wanted[_last_piece(cell.value)] += 1
        if not wanted:
            continue
        words = [w.text for page in book.sheet_pages(sheet.title) for w in page.words]
        for piece, count in wanted.items():
            printed = sum(1 for w in words if _ends(w, piece))
            assert printed >= count, (
                f"{book.name}/{sheet.title}: {count} wrapped cells end with {piece!r}, "
                f"{printed} printed: a row too short cuts their last line")
            checked += count
    assert checked or book.name in ("book_show", "book_show_zh"), book.name
