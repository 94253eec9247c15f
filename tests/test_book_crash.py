"""A round is booked whole or not at all: real ``fundopt book add`` processes killed with
SIGKILL at random moments, and two processes racing for one round name."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from books import book_location, sqlalchemy_url  # noqa: F401
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.models.store.book import open_book

ROWS = 5000          # funded rows of the plan: enough for the insert to take a while
runner = CliRunner()


def solve_big(folder: Path, tag: str) -> Path:
    """A plan funding ROWS sub-funds (an LP: every row at its max ticket of 1), from a
    table of its own (``tag`` in the names): the book takes one plan once."""
    ids = [f"S{i:05d}" for i in range(ROWS)]
    table = folder / f"big{tag}.csv"
    pd.DataFrame({"id": ids, "name": [f"子基金 {i} {tag}" for i in range(ROWS)],
                  "region": np.where(np.arange(ROWS) % 2 == 0, "天津", "河北"),
                  "category": "前沿技术", "max_ticket": 1.0,
                  "score": np.arange(ROWS) % 97 + 1.0}).to_csv(table, index=False)
    table.with_suffix(".toml").write_text(f"budget = {ROWS}\nmin_deploy = 1\n",
                                          encoding="utf-8")
    plan = folder / f"plan{tag}.json"
    result = runner.invoke(app, ["solve", str(table), "-o", str(plan)])
    assert result.exit_code == 0, result.output
    return plan


@pytest.fixture(scope="module")
def big_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return solve_big(tmp_path_factory.mktemp("big"), "")


@pytest.fixture(scope="module")
def big_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One plan per round of the kill test, each from its own table."""
    folder = tmp_path_factory.mktemp("bigs")
    return {name: solve_big(folder, name) for name in [f"r{k}" for k in range(7)] + ["after"]}


def add_process(plan: Path, book: str, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fundopt.cli", "book", "add", str(plan), "--book", book,
         "--round", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_whole(book: str) -> dict[str, int]:
    """The book opens, and every round in it has all of its rows: name → rows."""
    with open_book(book) as opened:
        infos = opened.rounds()
        frame = opened.booked().frame
        if opened.engine.dialect.name == "sqlite":
            with opened.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    counts = frame.groupby("round").size().to_dict() if len(frame) else {}
    for info in infos:
        assert counts.get(info.name, 0) == info.funded == ROWS, info.name
    assert set(counts) <= {info.name for info in infos}     # no orphan rows
    return {info.name: info.funded for info in infos}


class WriteWatch:
    """Says when a ``book add`` is inside its write transaction: SQLite's rollback journal
    exists, or PostgreSQL shows an open transaction inserting into the book."""

    def __init__(self, book: str) -> None:
        self.book = book
        self.engine = None if "://" not in book else sa.create_engine(
            sqlalchemy_url(book), poolclass=sa.pool.NullPool)

    def writing(self) -> bool:
        if self.engine is None:
            return Path(self.book + "-journal").exists()
        with self.engine.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND xact_start IS NOT NULL AND query ILIKE :insert"),
                {"insert": "INSERT INTO%"}).scalar())

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def test_sigkill_at_random_moments_leaves_whole_rounds(big_plans: dict[str, Path],
                                                       tmp_path: Path,
                                                       book_location: str) -> None:  # noqa: F811
    rng = random.Random(20240611)
    started = time.perf_counter()
    first = add_process(big_plans["r0"], book_location, "r0")
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    whole = time.perf_counter() - started          # the life of one uninterrupted add
    watch = WriteWatch(book_location)
    killed_mid_write = 0
    booked = {"r0"}
    for k in range(1, 7):
        name = f"r{k}"
        process = add_process(big_plans[name], book_location, name)
        writing = False
        if k % 2 == 0:
            # wait until the transaction writes, then kill within 50 ms (the insert of
            # ROWS rows takes longer, so the kill lands inside the transaction)
            deadline = time.perf_counter() + 3 * whole
            while process.poll() is None and time.perf_counter() < deadline:
                if watch.writing():
                    writing = True
                    break
                time.sleep(0.001)
            time.sleep(rng.uniform(0.0, 0.05))
        else:                            # anywhere in the process's life
            time.sleep(rng.uniform(0.3, 1.1) * whole)
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        rounds = check_whole(book_location)
        if code == 0 or name in rounds:  # done, or killed after the commit
            booked.add(name)
        else:
            killed_mid_write += writing
        assert set(rounds) == booked
    watch.close()
    assert killed_mid_write >= 1, "no kill landed inside a write transaction"
    # and the book still takes a new round
    final = add_process(big_plans["after"], book_location, "after")
    assert final.wait(timeout=120) == 0
    assert "after" in check_whole(book_location)


def test_two_adds_racing_for_one_round(big_plan: Path, book_location: str) -> None:  # noqa: F811
    # create the book first, so both processes find the schema and race only on the round
    with open_book(book_location, create=True):
        pass
    processes = [add_process(big_plan, book_location, "2024") for _ in range(2)]
    outcomes = sorted((p.wait(timeout=120), p.stderr.read() if p.stderr else "")
                      for p in processes)
    (won, _), (lost, message) = outcomes
    assert (won, lost) == (0, 2), outcomes
    flat = " ".join(message.split())
    assert "round '2024' is already in the book" in flat and "Traceback" not in flat
    assert check_whole(book_location) == {"2024": ROWS}


def test_sqlite_book_busy_is_a_clear_error(big_plan: Path, tmp_path: Path) -> None:
    """A writer that cannot get the book within the wait gets exit 2, not a traceback."""
    book = str(tmp_path / "fund.book")
    with open_book(book, create=True):
        pass
    engine = sa.create_engine(f"sqlite:///{book}")
    env = {**os.environ, "FUNDOPT_BOOK_WAIT": "0.2"}
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")     # another program holds the book
        done = subprocess.run(
            [sys.executable, "-m", "fundopt.cli", "book", "add", str(big_plan), "--book",
             book, "--round", "2024"], capture_output=True, text=True, env=env, timeout=120,
            check=False)
        conn.exec_driver_sql("ROLLBACK")
    engine.dispose()
    assert done.returncode == 2, done.stderr
    assert "the book is busy" in done.stderr and "Traceback" not in done.stderr
    assert check_whole(book) == {}
