"""Reading printed pages back with poppler: the text of each page and the size of every
piece of text on it, for the legibility tests (SPEC §12: no text below 8 pt, body ≥ 9 pt).

``pdftohtml -xml`` reports each text run with its font's size on the page; at zoom 3 the
size comes in thirds of a point (poppler rounds it to a whole number of pixels).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PDFTOHTML = shutil.which("pdftohtml")
PDFTOTEXT = shutil.which("pdftotext")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ZOOM = 3
_FONT = re.compile(r'<fontspec id="(\d+)" size="(-?\d+)"')
_TEXT = re.compile(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', re.S)
_PAGE = re.compile(r"<page number=\"(\d+)\"(.*?)</page>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Sizes:
    """Font sizes (points) of the text runs of one page, with the run's text."""

    page: int
    runs: tuple[tuple[float, str], ...]

    @property
    def smallest(self) -> float:
        return min((size for size, _ in self.runs), default=float("inf"))


def page_sizes(pdf: Path) -> list[Sizes]:
    """The font size of every text run on every page of ``pdf``."""
    assert PDFTOHTML is not None
    xml = subprocess.run([PDFTOHTML, "-xml", "-i", "-stdout", "-q", "-zoom", str(ZOOM),
                          str(pdf)], check=True, capture_output=True, text=True).stdout
    fonts = {m.group(1): int(m.group(2)) / ZOOM for m in _FONT.finditer(xml)}
    pages = []
    for page in _PAGE.finditer(xml):
        runs = tuple((fonts[m.group(1)], _TAG.sub("", m.group(2)).strip())
                     for m in _TEXT.finditer(page.group(2)))
        pages.append(Sizes(int(page.group(1)), tuple(r for r in runs if r[1])))
    return pages


def body_size(pages: list[Sizes]) -> float:
    """The size most characters are printed in: the body text."""
    count: Counter[float] = Counter()
    for page in pages:
        for size, text in page.runs:
            count[size] += len(text)
    return count.most_common(1)[0][0]


def page_texts(pdf: Path) -> list[str]:
    """The text of each page (reading order, layout kept)."""
    assert PDFTOTEXT is not None
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def chromium_pdf(page: Path, pdf: Path) -> None:
    """Print an HTML file to PDF in headless Chromium, as a reader's browser would."""
    assert CHROMIUM is not None
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={pdf.parent / 'chromium-profile'}",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert pdf.exists(), f"chromium wrote no {pdf}"
