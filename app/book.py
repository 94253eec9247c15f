"""The ``book`` commands: the fund's book, its rounds and their commitments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fundopt.app.steps import book_files, checked_outputs, new_console
from fundopt.errors import InputError
from fundopt.messages import Message

if TYPE_CHECKING:   # imported on use: start-up time
    import pandas as pd
    from rich.console import Console

    from fundopt.app.steps import PathLike
    from fundopt.models.store.book import RoundInfo


@dataclass(frozen=True)
class BookRun:
    """The outcome of a ``book`` command: the book's location, the round(s) it concerns
    and, for :func:`book_show`, the round's commitments (``rows``)."""

    action: str                                  # add, list, show or void
    book: str
    rounds: tuple[RoundInfo, ...]
    rows: pd.DataFrame | None = None

    def write(self, *paths: PathLike, lang: str = "en") -> list[Path]:
        """:func:`book_show` only: write the round as ``.json``, ``.csv`` or ``.xlsx``."""
        from fundopt.reports.book import write_round
        from fundopt.reports.files.export import check_output_paths

        written = [Path(p) for p in paths]
        if written and (self.action != "show" or self.rows is None):
            raise InputError(code="cli.only_book_show_writes", column="--output")
        check_output_paths(written, book_files(self.book))
        if written and self.rows is not None:
            write_round(written, self.rounds[0], self.rows, lang)
        return written

    def _repr_html_(self) -> str:
        import pandas as pd

        from fundopt.reports.book import round_dict

        rounds = pd.DataFrame([round_dict(r) for r in self.rounds])
        rows = "" if self.rows is None else self.rows.to_html(max_rows=60)
        return f"<p><b>{self.book}</b></p>" + rounds.to_html() + rows

    def show(self, console: Console | None = None, lang: str = "en") -> None:
        """Print what the ``book`` command prints."""
        from fundopt.reports import book as shown

        console = console or new_console()
        if self.action == "add":
            shown.render_added(console, self.rounds[0], self.book, lang)
        elif self.action == "void":
            shown.render_voided(console, self.rounds[0], lang)
        elif self.action == "list":
            shown.render_rounds(console, self.book, self.rounds, lang)
        elif self.rows is not None:
            shown.render_round(console, self.rounds[0], self.rows, lang)


def book_add(plan: PathLike, book: str, round_name: str, note: str = "",
             accept: Sequence[str] = ()) -> BookRun:
    """Book a solve result as a round of the fund's book (``book add``).

    Parameters
    ----------
    plan
        A ``.json`` written by ``solve -o`` (or ``SolveRun.write``); its input files must
        still match their recorded SHA-256.
    book
        An SQLite file path (created by the first add) or a ``postgresql://`` URL.
    round_name, note
        The round's name (used once) and free text kept with it.
    accept
        ``"relaxed"`` and/or ``"time_limit"``: also book a plan made under fundopt's
        suggested relaxation, or one not proven optimal, with that mark.

    Returns
    -------
    BookRun
        ``rounds[0]``: the round as booked.

    Raises
    ------
    InputError
        A plan that breaks a rule or is not the optimum of its inputs, changed inputs, a
        stale plan (the book changed since it was solved against it), the same plan
        twice, a name already booked.
    """
    from fundopt.optimizer.admit import book_plan

    info = book_plan(Path(plan), book, round_name, note, accept)
    return BookRun("add", book, (info,))


def book_list(book: str) -> BookRun:
    """The rounds of a book, void ones with their reason (``book list``).

    Returns
    -------
    BookRun
        ``rounds``: every round, in booking order.
    """
    from fundopt.models.store.book import open_book

    with open_book(book) as opened:
        infos = opened.rounds()
    return BookRun("list", book, tuple(infos))


def book_show(round_name: str, book: str, outputs: Sequence[PathLike] = (),
              lang: str = "en") -> BookRun:
    """One round: its facts and every commitment (``book show``).

    Returns
    -------
    BookRun
        ``rounds[0]``: the round; ``rows``: its commitments with every input column.
        ``outputs`` are written as ``.json``, ``.csv`` or ``.xlsx``.

    Raises
    ------
    InputError
        No such book or round.
    """
    from fundopt.models.store.book import open_book

    written = checked_outputs(outputs, book_files(book))
    with open_book(book) as opened:
        info, rows = opened.round(round_name)
    run = BookRun("show", book, (info,), rows)
    run.write(*written, lang=lang)
    return run


def book_void(round_name: str, book: str, reason: str) -> BookRun:
    """Mark a round void with a reason; nothing is deleted (``book void``), and
    ``solve(book=...)`` no longer counts it.

    Raises
    ------
    InputError
        An empty reason, no such book or round.
    """
    from fundopt.models.store.book import open_book

    if not reason.strip():
        raise InputError(code="cli.void_reason_empty", column="--reason",
                         expected=Message("cli.void_reason_empty.expected"))
    with open_book(book, write=True) as opened:
        info = opened.void(round_name, reason.strip())
    return BookRun("void", book, (info,))
