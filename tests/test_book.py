"""The fund's book (SPEC §9): fundopt book add / list / show / void, against SQLite and,
when a server is configured, PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from books import IN_CI, book_location, pg_url, reset_pg, sqlalchemy_url  # noqa: F401
from conftest import ROOT
from openpyxl import load_workbook
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.errors import InputError
from fundopt.models.reading.table import read_table
from fundopt.models.store.book import SCHEMA_VERSION, open_book

SAMPLE = ROOT / "inputs" / "2024.csv"
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    """The sample round solved from a private copy of its files, as plan.json."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLE, inputs / "2024.csv")
    shutil.copy(SAMPLE.with_suffix(".toml"), inputs / "2024.toml")
    out = tmp_path / "plan.json"
    code, text = run("solve", inputs / "2024.csv", "-o", out)
    assert code == 0, text
    return out


def funded_of(plan: Path) -> dict[str, float]:
    data = json.loads(plan.read_text(encoding="utf-8"))
    return {a["id"]: a["amount"] for a in data["allocations"] if a["amount"] > 0}


def test_add_list_show_void(plan: Path, book_location: str, tmp_path: Path) -> None:  # noqa: F811
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024",
                     "--note", "IC 2024-06")
    assert code == 0, text
    assert "booked round 2024: 24 sub-funds, 40.00 亿元" in " ".join(text.split())
    code, text = run("book", "list", "--book", book_location)
    assert code == 0, text
    assert "2024" in text and "active" in text and "IC 2024-06" in text

    out = tmp_path / "out"
    code, text = run("book", "show", "2024", "--book", book_location, "-o", out / "r.json",
                     "-o", out / "r.csv", "-o", out / "r.xlsx")
    assert code == 0, text
    shown = json.loads((out / "r.json").read_text(encoding="utf-8"))
    expected = funded_of(plan)
    assert {c["id"]: c["amount"] for c in shown["commitments"]} == expected
    table = read_table(plan.parent / "in" / "2024.csv").frame.set_index("id")
    for c in shown["commitments"]:       # every input column is kept with the row
        assert c["region"] == table.at[c["id"], "region"]
        assert c["risk"] == pytest.approx(table.at[c["id"], "risk"])
    facts = shown["round"]
    assert facts["input_sha256"] == json.loads(plan.read_text())["manifest"]["input_sha256"]
    assert facts["policy_sha256"] is not None and facts["fundopt"] and facts["booked_at"]
    assert facts["void"] is False and facts["committed"] == pytest.approx(40.0)
    csv = pd.read_csv(out / "r.csv", encoding="utf-8-sig")
    assert list(csv.columns[:2]) == ["id", "amount"] and len(csv) == 24
    workbook = load_workbook(out / "r.xlsx", read_only=True)
    assert workbook.sheetnames == ["round", "commitments"]
    assert sum(1 for _ in workbook["commitments"].iter_rows()) == 25     # header + 24

    code, text = run("book", "void", "2024", "--book", book_location, "--reason",
                     "re-planned")
    assert code == 0, text
    code, text = run("book", "list", "--book", book_location)
    assert "void: re-planned" in text
    with open_book(book_location) as book:
        assert book.booked().rounds == ()           # solve --book ignores a void round
        info, rows = book.round("2024")              # ... which is kept, rows and all
        assert info.is_void and info.void_reason == "re-planned" and len(rows) == 24
    code, text = run("book", "void", "2024", "--book", book_location, "--reason", "again")
    assert code == 2 and "already void" in text
    # a void round keeps its name: it cannot be booked again
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024")
    assert code == 2 and "already in the book" in text


def test_add_refuses_a_used_round_name(plan: Path, book_location: str) -> None:  # noqa: F811
    assert run("book", "add", plan, "--book", book_location, "--round", "2024")[0] == 0
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024")
    assert code == 2
    assert "round '2024' is already in the book" in " ".join(text.split())
    with open_book(book_location) as book:
        assert [r.name for r in book.rounds()] == ["2024"]
        assert len(book.booked().frame) == 24


@pytest.mark.parametrize("changed", ["2024.csv", "2024.toml"])
def test_add_refuses_a_plan_whose_inputs_changed(plan: Path, tmp_path: Path,
                                                 changed: str) -> None:
    path = plan.parent / "in" / changed
    path.write_bytes(path.read_bytes() + b"\n")
    book = tmp_path / "fund.book"
    code, text = run("book", "add", plan, "--book", book, "--round", "2024")
    assert code == 2
    flat = " ".join(text.split())
    assert str(path) in flat and "changed since the plan was solved" in flat
    assert not book.exists()                     # nothing was created


def test_add_refuses_a_plan_that_is_not_optimal(tmp_path: Path, plan: Path) -> None:
    policy = plan.parent / "in" / "2024.toml"
    text = policy.read_text(encoding="utf-8")   # 天津 ≥ 70% with 河北 ≥ 40%: infeasible
    policy.write_text(text.replace("min_share = 0.4\nmax_share = 0.6",
                                   "min_share = 0.7\nmax_share = 0.8", 1), encoding="utf-8")
    infeasible = tmp_path / "infeasible.json"
    assert run("solve", plan.parent / "in" / "2024.csv", "-o", infeasible)[0] == 3
    code, text = run("book", "add", infeasible, "--book", tmp_path / "b", "--round", "x")
    assert code == 2 and "only an optimal or feasible plan can be booked" in text
    assert "'infeasible'" in text


def test_add_refuses_files_that_are_not_plans(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, text = run("book", "add", bad, "--book", tmp_path / "b", "--round", "x")
    assert code == 2 and "not JSON" in text
    bad.write_text('{"scenarios": []}', encoding="utf-8")
    code, text = run("book", "add", bad, "--book", tmp_path / "b", "--round", "x")
    assert code == 2 and "not a fundopt solve result" in text
    code, text = run("book", "add", tmp_path / "none.json", "--book", tmp_path / "b",
                     "--round", "x")
    assert code == 2 and "plan file not found" in text


def test_unknown_round_for_show_and_void(plan: Path, book_location: str) -> None:  # noqa: F811
    assert run("book", "add", plan, "--book", book_location, "--round", "2024")[0] == 0
    for args in (("show", "2023"), ("void", "2023", "--reason", "typo")):
        code, text = run("book", *args, "--book", book_location)
        assert code == 2
        assert "no round '2023' in the book" in text and "one of: 2024" in text
    code, text = run("book", "show", "2023", "--book", book_location, "--lang", "zh")
    assert code == 2 and "账簿中没有轮次 '2023'" in text


def test_bad_book_locations(tmp_path: Path, plan: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("this is not a database\n" * 100, encoding="utf-8")
    cases = {
        str(text_file): "not a fundopt book",
        str(tmp_path): "a folder, not a database file",
        str(tmp_path / "missing.book"): "no book at this path",
        "postgresql://nobody:secret@127.0.0.1:1/none": "cannot open the book",
        "mysql://someone@localhost/db": "not a book this fundopt can open",
    }
    for location, message in cases.items():
        code, text = run("book", "list", "--book", location)
        assert code == 2, (location, text)
        assert message in text and "Traceback" not in text, text
        assert "secret" not in text                   # a password is never shown
    # add creates a missing file, but never writes into a file that is not a book
    code, text = run("book", "add", plan, "--book", text_file, "--round", "2024")
    assert code == 2 and "not a fundopt book" in text
    assert text_file.read_text(encoding="utf-8").startswith("this is not a database")


def test_sqlite_database_of_another_program_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    code, text = run("book", "list", "--book", other)
    assert code == 2 and "holds other tables" in text


def test_schema_version_is_recorded_and_checked(book_location: str) -> None:  # noqa: F811
    with open_book(book_location, create=True) as book:
        with book.engine.begin() as conn:
            stored = conn.execute(sa.text("SELECT value FROM meta WHERE key = "
                                          "'schema_version'")).scalar_one()
            assert stored == str(SCHEMA_VERSION)
            conn.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    code, text = run("book", "list", "--book", book_location)
    assert code == 2 and "schema version 99" in text and "Upgrade fundopt" in text


def test_plain_postgresql_urls_use_psycopg() -> None:
    url = pg_url()
    if url is None:
        if IN_CI:
            pytest.fail("CI must test the book on PostgreSQL: FUNDOPT_TEST_DATABASE_URL")
        pytest.skip("no PostgreSQL server: set FUNDOPT_TEST_DATABASE_URL")
    reset_pg(url)
    with pytest.raises(InputError, match="there is no book here yet"):   # never created
        with open_book(url):
            pass
    with open_book(url, create=True):
        pass
    for location in (url, sqlalchemy_url(url)):
        with open_book(location) as book:
            assert book.engine.dialect.driver == "psycopg"
            assert book.rounds() == []
    reset_pg(url)


def test_book_commands_have_help() -> None:
    for command in ("add", "list", "show", "void"):
        code, text = run("book", command, "--help")
        assert code == 0 and "Example" in text and f"fundopt book {command}" in text


def test_a_read_only_book_can_be_read(plan: Path, tmp_path: Path) -> None:
    """An auditor's read-only copy lists and shows; only writes need the write lock."""
    book = tmp_path / "fund.book"
    assert run("book", "add", plan, "--book", book, "--round", "2024")[0] == 0
    book.chmod(0o444)
    tmp_path.chmod(0o555)        # no journal can be created beside it either
    try:
        code, text = run("book", "show", "2024", "--book", book)
        assert code == 0, text
        code, text = run("book", "void", "2024", "--book", book, "--reason", "x")
    finally:
        tmp_path.chmod(0o755)
        book.chmod(0o644)
    if os.geteuid() != 0:        # root writes anyway
        assert code == 2 and "Traceback" not in text
