"""The decision memo on paper: the memo's HTML printed to PDF by WeasyPrint.

WeasyPrint lays out CSS paged media (``@page`` margins with "page x of y", repeated table
headers) with the system's pango and fontconfig; it is imported only when a PDF is
written. Chinese text needs a CJK font from the system (Debian: ``fonts-noto-cjk``): a
document holding Chinese on a machine without one is refused before anything is written,
instead of printing empty boxes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from pathlib import Path

from fundopt.errors import InputError

# Han ideographs and CJK punctuation / full-width forms.
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk_font() -> bool:
    """Whether fontconfig knows a font that covers Chinese (``:lang=zh``).

    Asks the same fontconfig that pango (and so WeasyPrint) uses, with the environment as
    it is now (``FONTCONFIG_FILE`` included). Without fontconfig at all there is no font.
    """
    name = ctypes.util.find_library("fontconfig")
    if name is None:
        return False
    fc = ctypes.CDLL(name)
    fc.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fc.FcNameParse.restype = ctypes.c_void_p
    fc.FcNameParse.argtypes = [ctypes.c_char_p]
    fc.FcObjectSetBuild.restype = ctypes.c_void_p
    fc.FcFontList.restype = ctypes.POINTER(_FontSet)
    fc.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    for function in ("FcConfigDestroy", "FcPatternDestroy", "FcObjectSetDestroy",
                     "FcFontSetDestroy"):
        getattr(fc, function).argtypes = [ctypes.c_void_p]
    config = fc.FcInitLoadConfigAndFonts()
    pattern = fc.FcNameParse(b":lang=zh")
    objects = fc.FcObjectSetBuild(b"family", None)
    fonts = fc.FcFontList(config, pattern, objects)
    try:
        return bool(fonts) and fonts.contents.nfont > 0
    finally:
        if fonts:
            fc.FcFontSetDestroy(fonts)
        fc.FcObjectSetDestroy(objects)
        fc.FcPatternDestroy(pattern)
        fc.FcConfigDestroy(config)


class _FontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int),
                ("fonts", ctypes.c_void_p)]


def check_fonts(document: str, lang: str, path: Path) -> None:
    """Refuse a document with Chinese text when no installed font can draw it.

    Raises
    ------
    InputError
        Naming the output file and what to install (exit 2).
    """
    if CJK.search(document) and not has_cjk_font():
        raise InputError(code="memo.no_cjk_font", file=str(path))


def write_pdf(document: str, path: Path) -> None:
    """Print the memo's HTML ``document`` to the PDF file ``path``."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every CSS property it ignores; the memo's sheet is its own.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    HTML(string=document, base_url=None).write_pdf(str(path))
