"""The book is the fund's record (SPEC §13, issue 21): nothing enters it unchecked,
nothing destroys it. One regression test per defect R1–R18 of the red team's report, on
SQLite and on PostgreSQL (``book_location``), plus fuzzing of hand-edited plans."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from books import book_location, sqlalchemy_url  # noqa: F401
from conftest import ROOT, wait_for_fundopt_code
from typer.testing import CliRunner

from fundopt.cli import app
from fundopt.errors import InputError
from fundopt.models.reading.inputs import load_inputs
from fundopt.models.store.book import open_book

INPUTS = ROOT / "inputs"
runner = CliRunner()


def run(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The 2024 and 2025 samples, with 2024 solved as plan-2024.json."""
    for name in ("2024.csv", "2024.toml", "2025.csv", "2025.toml"):
        shutil.copy(INPUTS / name, tmp_path / name)
    code, text = run("solve", tmp_path / "2024.csv", "-o", tmp_path / "plan-2024.json")
    assert code == 0, text
    return tmp_path


def edited(plan: Path, change: Callable[[dict[str, Any]], object], name: str = "edited.json"
           ) -> Path:
    data = json.loads(plan.read_text(encoding="utf-8"))
    change(data)
    out = plan.parent / name
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out


def rounds_of(location: str) -> list[str]:
    """The book's rounds ([] for a book no add has written yet: an empty database, or no
    file at all when the first add was stopped before it made one)."""
    try:
        with open_book(location) as book:
            return [r.name for r in book.rounds()]
    except InputError as error:
        assert error.code in ("book.no_book", "input.book.missing"), error
        return []


def office_copy(folder: Path, office: str) -> Path:
    """The 2025 table as one office saved it (a column of its own: another file)."""
    table = pd.read_csv(folder / "2025.csv", encoding="utf-8-sig", dtype=str)
    table["office"] = office
    table.to_csv(folder / f"2025{office}.csv", index=False, encoding="utf-8-sig")
    shutil.copy(folder / "2025.toml", folder / f"2025{office}.toml")
    return folder / f"2025{office}.csv"


def allocation(data: dict[str, Any], sub_id: str) -> dict[str, Any]:
    return next(a for a in data["allocations"] if a["id"] == sub_id)


# --- R2: book add believes nothing but ids and amounts --------------------------------

def _raise_ticket(d: dict[str, Any]) -> None:
    allocation(d, "TJ-BH-01")["amount"] = 40.0          # max_ticket 4


def _fund_an_unfunded_row(d: dict[str, Any]) -> None:
    idle = next(a for a in d["allocations"] if a["amount"] == 0 and a["id"] != "HB-BD-03")
    idle["amount"] = 5.0


def _off_step(d: dict[str, Any]) -> None:
    allocation(d, "TJ-BH-01")["amount"] = 3.995


def _every_amount_1000(d: dict[str, Any]) -> None:
    for a in d["allocations"]:
        a["amount"] = 1000.0


def _relabel_infeasible(d: dict[str, Any]) -> None:
    for a in d["allocations"]:
        a["amount"] = 0.0
    d["status"] = "optimal"


def suboptimal(folder: Path) -> dict[str, float]:
    """Amounts that keep every rule of the 2024 policy but are not its optimum: the
    optimum of the policy with TJ-BH-03 (funded at the optimum) left out."""
    stricter = folder / "stricter.toml"
    stricter.write_text((folder / "2024.toml").read_text(encoding="utf-8")
                        + '\n[[constraints]]\nname = "without"\nwhere = { id = "TJ-BH-03" }\n'
                        'measure = "amount"\nmax = 0\n', encoding="utf-8")
    out = folder / "stricter.json"
    code, text = run("solve", folder / "2024.csv", "--policy", stricter, "-o", out)
    assert code == 0, text
    data = json.loads(out.read_text(encoding="utf-8"))
    return {a["id"]: a["amount"] for a in data["allocations"]}


def _move_money(d: dict[str, Any]) -> None:
    amounts = suboptimal(Path(d["manifest"]["input"]).parent)
    for a in d["allocations"]:
        a["amount"] = amounts[a["id"]]


@pytest.mark.parametrize(("change", "needle"), [
    (_raise_ticket, "above its max_ticket"),
    (_fund_an_unfunded_row, "breaks"),
    (_off_step, "not a whole number of steps of 0.01"),
    (_every_amount_1000, "above its max_ticket"),
    (_relabel_infeasible, "breaks"),
    (_move_money, "is not the optimum of its inputs"),
    (lambda d: d["manifest"].update(policy_sha256=None), "records no SHA-256 of its policy"),
    (lambda d: d["manifest"].update(input_sha256="abc"), "SHA-256 is missing or malformed"),
    (lambda d: d["manifest"].update(input=["x"]), "manifest.input"),
    (lambda d: d.update(allocations={"TJ-BH-01": 4}), "allocations"),
    (lambda d: allocation(d, "TJ-BH-01").update(id=7), "allocations[0].id"),
    (lambda d: allocation(d, "TJ-BH-01").update(amount="4"), "not a number >= 0"),
    (lambda d: allocation(d, "TJ-BH-01").update(amount=-4), "not a number >= 0"),
    (lambda d: allocation(d, "TJ-BH-01").update(id="NOPE"), "not in the table"),
    (lambda d: d["manifest"].update(book_state={"digest": 5}), "manifest.book_state"),
    (lambda d: d.update(status="infeasible"), "only an optimal or feasible plan"),
])
def test_hand_edited_plans_are_refused(folder: Path, book_location: str,  # noqa: F811
                                       change: Callable[[dict[str, Any]], object],
                                       needle: str) -> None:
    plan = edited(folder / "plan-2024.json", change)
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024")
    assert code == 2, text
    assert needle in flat(text), text
    if "://" not in book_location:
        assert not Path(book_location).exists()       # R18: a refused first add leaves no file
    else:
        assert rounds_of(book_location) == []


@pytest.mark.parametrize("field", ["budget", "unit", "objective", "committed", "status",
                                   "gap", "constraints", "warnings", "relaxed"])
def test_edited_facts_are_derived_again(folder: Path, book_location: str,  # noqa: F811
                                        field: str) -> None:
    """Fields besides ids, amounts and input hashes are not believed: the round is booked
    with the values fundopt derives from the files."""
    values = {"budget": 4000, "unit": "元", "objective": 1e9, "committed": 1.0,
              "status": "feasible", "gap": 0.5, "constraints": [], "warnings": None,
              "relaxed": True}
    plan = edited(folder / "plan-2024.json", lambda d: d.update({field: values[field]}))
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024")
    assert code == 0, text
    with open_book(book_location) as book:
        (info,) = book.rounds()
    assert (info.budget, info.unit, info.status, info.mark) == (40.0, "亿元", "optimal", "")
    assert info.committed == 40.0 and info.objective == pytest.approx(2895.78)


def test_random_edits_of_amounts_never_book_a_broken_plan(folder: Path,
                                                          tmp_path: Path) -> None:
    """Fuzz: random edits of the amounts; whatever is booked keeps every rule (checked by
    tests/plan_checker.py, which shares no code with fundopt's checker)."""
    from plan_checker import check_plan as independent

    inputs = load_inputs(folder / "2024.csv")
    base = json.loads((folder / "plan-2024.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(21)
    booked = refused = 0
    for k in range(12):
        data = json.loads(json.dumps(base))
        for a in rng.choice(data["allocations"], int(rng.integers(1, 4)), replace=False):
            a["amount"] = round(max(0.0, a["amount"] + float(rng.integers(-100, 100)) / 100), 2)
        plan = tmp_path / f"edit{k}.json"
        plan.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        book = tmp_path / f"fund{k}.book"
        code, text = run("book", "add", plan, "--book", book, "--round", "2024")
        assert code in (0, 2) and "Traceback" not in text, text
        if code == 0:
            x = inputs.table.frame["id"].map({a["id"]: a["amount"]
                                              for a in data["allocations"]}).to_numpy(float)
            assert independent(inputs.table.frame, inputs.policy, inputs.constraints, x) == []
            booked += 1
        else:
            refused += 1
    assert refused >= 8, (booked, refused)


# --- R3: a --relax plan is booked only as relaxed --------------------------------------

def _infeasible_policy(folder: Path) -> Path:
    policy = folder / "2024.toml"
    text = policy.read_text(encoding="utf-8")
    text = text.replace('[region."天津"]\nmin_share = 0.4', '[region."天津"]\nmin_share = 0.5')
    policy.write_text(text.replace('[region."河北"]\nmin_share = 0.4',
                                   '[region."河北"]\nmin_share = 0.55'), encoding="utf-8")
    return policy


def test_a_relaxed_plan_needs_accept_and_is_marked(folder: Path,
                                                   book_location: str) -> None:  # noqa: F811
    _infeasible_policy(folder)
    plan = folder / "relaxed.json"
    code, text = run("solve", folder / "2024.csv", "--relax", "-o", plan)
    assert code == 0, text
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024")
    assert code == 2 and "breaks" in text and "--accept relaxed" in flat(text), text
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024",
                     "--accept", "relaxed")
    assert code == 0, text
    code, text = run("book", "list", "--book", book_location)
    assert code == 0 and "active (relaxed)" in text, text
    code, text = run("book", "show", "2024", "--book", book_location, "--lang", "zh")
    # either region's floor may move (one line each: the diagnosis may pick either)
    assert code == 0 and "已放宽" in text and re.search(r"region\.(天津|河北)\.min_share", text)
    # a relaxed plan that also breaks the relaxation fundopt suggests is refused
    bad = edited(plan, _raise_ticket, "bad.json")
    code, text = run("book", "add", bad, "--book", folder / "other.book", "--round", "2024",
                     "--accept", "relaxed")
    assert code == 2 and "even under the relaxation" in flat(text), text


def test_a_plan_breaking_a_feasible_policy_is_not_a_relaxed_plan(folder: Path) -> None:
    plan = edited(folder / "plan-2024.json", _raise_ticket)
    code, text = run("book", "add", plan, "--book", folder / "f.book", "--round", "x",
                     "--accept", "relaxed")
    assert code == 2 and "it is not a relaxed plan" in flat(text), text


def test_a_time_limited_plan_needs_accept(folder: Path, book_location: str) -> None:  # noqa: F811
    plan = edited(folder / "plan-2024.json", _move_money)
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024",
                     "--accept", "time_limit")
    assert code == 0, text
    with open_book(book_location) as book:
        (info,) = book.rounds()
    assert info.status == "feasible" and info.mark == "time_limit"
    assert "active (time limit)" in run("book", "list", "--book", book_location)[1]


# --- R4, R5: one plan once; a changed book makes a plan stale --------------------------

def test_the_same_plan_is_booked_once(folder: Path, book_location: str) -> None:  # noqa: F811
    plan = folder / "plan-2024.json"
    assert run("book", "add", plan, "--book", book_location, "--round", "2024")[0] == 0
    code, text = run("book", "add", plan, "--book", book_location, "--round", "2024-bis")
    assert code == 2 and "already booked as round 2024" in flat(text), text
    assert rounds_of(book_location) == ["2024"]


def test_two_offices_solving_against_one_book(folder: Path,
                                              book_location: str) -> None:  # noqa: F811
    assert run("book", "add", folder / "plan-2024.json", "--book", book_location,
               "--round", "2024")[0] == 0
    plans = []
    for office in ("a", "b"):         # each office its own copy of the 2025 table
        out = folder / f"plan-2025-{office}.json"
        code, text = run("solve", office_copy(folder, office), "--book", book_location,
                         "-o", out)
        assert code == 0, text
        plans.append(out)
    assert run("book", "add", plans[0], "--book", book_location, "--round", "2025")[0] == 0
    code, text = run("book", "add", plans[1], "--book", book_location, "--round", "2025-b")
    assert code == 2 and "another state of the book" in flat(text), text
    assert "solve again" in flat(text)
    # voiding the base round makes the 2025 plan stale too
    code, text = run("book", "void", "2025", "--book", book_location, "--reason", "redo")
    assert code == 0, text
    code, text = run("book", "add", plans[0], "--book", book_location, "--round", "2025-c")
    assert code == 2 and "another state of the book" in flat(text), text
    assert rounds_of(book_location) == ["2024", "2025"]


def test_offices_racing_add_book_one_plan(folder: Path, book_location: str) -> None:  # noqa: F811
    """Two real processes add plans solved against the same book at once: one lands,
    the other is refused as stale (never both: the fund would exceed its caps)."""
    assert run("book", "add", folder / "plan-2024.json", "--book", book_location,
               "--round", "2024")[0] == 0
    plans = []
    for office in ("a", "b"):
        out = folder / f"plan-{office}.json"
        code, text = run("solve", office_copy(folder, office), "--book", book_location,
                         "-o", out)
        assert code == 0, text
        plans.append(out)
    processes = [subprocess.Popen(
        [sys.executable, "-m", "fundopt.cli", "book", "add", str(plan), "--book",
         book_location, "--round", f"2025-{k}"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for k, plan in enumerate(plans)]
    outcomes = sorted((p.wait(timeout=120), p.stderr.read() if p.stderr else "")
                      for p in processes)
    assert [code for code, _ in outcomes] == [0, 2], outcomes
    assert "another state of the book" in flat(outcomes[1][1]) \
        or "changed while this plan was being checked" in flat(outcomes[1][1]), outcomes
    assert len(rounds_of(book_location)) == 2


# --- R6: units are converted before they are stored ------------------------------------

def test_columns_in_wan_yuan_are_stored_in_the_policy_unit(folder: Path,
                                                           book_location: str) -> None:  # noqa: F811
    table = pd.read_csv(folder / "2024.csv", encoding="utf-8-sig", dtype=str)
    table["fund_size"] = (table["fund_size"].astype(float) * 10_000).map("{:.0f}".format)
    table = table.rename(columns={"fund_size": "fund_size (万元)"})
    table.to_csv(folder / "wan.csv", index=False, encoding="utf-8-sig")
    shutil.copy(folder / "2024.toml", folder / "wan.toml")
    code, text = run("solve", folder / "wan.csv", "-o", folder / "wan.json")
    assert code == 0, text
    code, text = run("book", "add", folder / "wan.json", "--book", book_location,
                     "--round", "2024")
    assert code == 0, text
    with open_book(book_location) as book:
        frame = book.booked().frame
    sizes = dict(zip(table["id"], table["fund_size (万元)"].astype(float) / 10_000,
                     strict=True))
    for sub_id, size in zip(frame["id"], frame["fund_size"], strict=True):
        assert size == pytest.approx(sizes[sub_id])


# --- R1, R13, R16, R17, R18: the book's spellings and who may write it -----------------

def _booked_file(folder: Path) -> Path:
    book = folder / "fund.book"
    assert run("book", "add", folder / "plan-2024.json", "--book", book, "--round",
               "2024")[0] == 0
    return book


def test_book_spelled_as_json_cannot_be_overwritten(folder: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """R1 as found: the book named fund.json, -o fund.json through an sqlite URL."""
    monkeypatch.chdir(folder)
    assert run("book", "add", "plan-2024.json", "--book", "out.json", "--round", "2024")[0] == 0
    before = Path("out.json").read_bytes()
    Path("link.json").symlink_to(folder / "out.json")
    Path("sub").mkdir()
    spellings = ["out.json", "./out.json", "link.json", "sqlite:///out.json",
                 "sqlite:///link.json", f"sqlite:///{folder}/out.json",
                 f"sqlite:///{folder}/./sub/../out.json", f"sqlite:///{folder}/link.json"]
    for spelling in spellings:
        for target in ("out.json", "link.json", "sub/../out.json", str(folder / "out.json")):
            code, text = run("solve", "2025.csv", "--book", spelling, "-o", target)
            assert code == 2 and "over an input" in flat(text), (spelling, target, text)
            code, text = run("book", "show", "2024", "--book", spelling, "-o", target)
            assert code == 2 and "over an input" in flat(text), (spelling, target, text)
    assert Path("out.json").read_bytes() == before


@pytest.mark.parametrize("spelling", [
    "postgresql://u@h:notaport/db", "sqlite:///x.book?timeout=abc", "sqlite://", "mysql://h/db",
    "postgresql://postgres@127.0.0.1:1/db?connect_timeout=abc", " ", "sqlite:///:memory:",
])
def test_malformed_book_values_exit_2(folder: Path, spelling: str) -> None:
    for args in (["book", "list", "--book", spelling],
                 ["book", "add", folder / "plan-2024.json", "--book", spelling, "--round", "x"],
                 ["solve", folder / "2024.csv", "--book", spelling]):
        code, text = run(*args)
        assert code == 2 and "Traceback" not in text, (args, text)


def test_a_path_with_a_question_mark_is_one_file(folder: Path) -> None:
    book = folder / "fund?mode=ro#1.book"
    code, text = run("book", "add", folder / "plan-2024.json", "--book", book, "--round", "2024")
    assert code == 0, text
    assert book.is_file() and sorted(p.name for p in folder.glob("fund*")) == [book.name]
    assert rounds_of(str(book)) == ["2024"]


def test_read_only_commands_never_create_or_change_a_book(folder: Path) -> None:
    empty = folder / "empty.book"
    empty.touch()
    missing = folder / "missing.book"
    for book in (empty, missing):
        for args in (["book", "list", "--book", book], ["book", "show", "2024", "--book", book],
                     ["solve", folder / "2024.csv", "--book", book],
                     ["check", folder / "2024.csv", "--book", book],
                     ["verify", folder / "2024.csv", folder / "plan-2024.json", "--book", book]):
            code, text = run(*args)
            assert code == 2 and "Traceback" not in text, (args, text)
    assert empty.read_bytes() == b"" and not missing.exists()
    book = _booked_file(folder)
    with sqlite3.connect(book) as conn:
        conn.execute("UPDATE meta SET value = 'v1-beta' WHERE key = 'schema_version'")
    before = book.read_bytes()
    for args in (["book", "list", "--book", book], ["book", "show", "2024", "--book", book],
                 ["book", "void", "2024", "--book", book, "--reason", "x"],
                 ["book", "add", folder / "plan-2024.json", "--book", book, "--round", "y"],
                 ["solve", folder / "2025.csv", "--book", book]):
        code, text = run(*args)
        assert code == 2 and "schema version is not a version number" in flat(text), text
        assert "meta.schema_version" in text and "'v1-beta'" in text
    assert book.read_bytes() == before


def test_a_version_1_book_is_read_as_is_and_migrated_by_a_write(folder: Path) -> None:
    book = _booked_file(folder)
    with sqlite3.connect(book) as conn:       # a book as fundopt 0.1 left it
        conn.execute("DROP TABLE round_facts")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    before = book.read_bytes()
    assert run("book", "list", "--book", book)[0] == 0
    assert run("book", "show", "2024", "--book", book)[0] == 0
    assert book.read_bytes() == before
    assert run("book", "void", "2024", "--book", book, "--reason", "redo")[0] == 0
    with sqlite3.connect(book) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("2",)


def test_round_names_are_trimmed_everywhere(folder: Path, book_location: str) -> None:  # noqa: F811
    code, text = run("book", "add", folder / "plan-2024.json", "--book", book_location,
                     "--round", "  2024 ")
    assert code == 0, text
    assert run("book", "show", " 2024", "--book", book_location)[0] == 0
    assert run("book", "void", "2024  ", "--book", book_location, "--reason", "x")[0] == 0
    assert rounds_of(book_location) == ["2024"]


def test_a_full_disk_leaves_no_book_file(folder: Path) -> None:
    book = folder / "fund.book"
    done = subprocess.run(
        ["prlimit", "--fsize=16384", sys.executable, "-m", "fundopt.cli", "book", "add",
         str(folder / "plan-2024.json"), "--book", str(book), "--round", "2024"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert not book.exists() and not Path(f"{book}-journal").exists()


# --- R7, R15: damaged books, escapes in names ------------------------------------------

def _damage(location: str, statement: str) -> None:
    url = location if "://" in location else f"sqlite:///{location}"
    engine = sa.create_engine(sqlalchemy_url(url) if "://" in location else url,
                              poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


@pytest.mark.parametrize(("statement", "needle"), [
    ("UPDATE commitments SET amount = -1 WHERE position = 0", "commitments[2024, position 0]"),
    ("UPDATE rounds SET budget = -40", "rounds.budget"),
    ("UPDATE meta SET value = 'x' WHERE key = 'schema_version'", "meta.schema_version"),
    ("UPDATE commitments SET data = '\"text\"' WHERE position = 0",
     "commitments[2024, position 0].data"),
])
def test_damaged_rows_exit_2_naming_them(folder: Path, book_location: str,  # noqa: F811
                                         statement: str, needle: str) -> None:
    assert run("book", "add", folder / "plan-2024.json", "--book", book_location,
               "--round", "2024")[0] == 0
    _damage(book_location, statement)
    for args in (["book", "list", "--book", book_location],
                 ["book", "show", "2024", "--book", book_location],
                 ["solve", folder / "2025.csv", "--book", book_location]):
        code, text = run(*args)
        if code == 0:          # list reads no commitments: only the damage it reads counts
            assert "commitments" in needle and args[1] == "list"
            continue
        assert code == 2 and needle in text and "Traceback" not in text, (args, text)


@pytest.mark.parametrize("statement", [
    "UPDATE commitments SET data = '{not json' WHERE position = 2",
    "UPDATE commitments SET amount = 'lots' WHERE position = 2",
    "UPDATE rounds SET columns = '[1, 2' ",
    "UPDATE rounds SET funded = 'many'",
])
def test_damaged_sqlite_rows_exit_2(folder: Path, statement: str) -> None:
    book = _booked_file(folder)
    _damage(str(book), statement)
    for args in (["book", "show", "2024", "--book", book],
                 ["solve", folder / "2025.csv", "--book", book]):
        code, text = run(*args)
        assert code == 2 and "damaged" in text and "2024" in text, (args, text)


def test_bit_flips_exit_2(folder: Path) -> None:
    book = _booked_file(folder)
    data = bytearray(book.read_bytes())
    rng = np.random.default_rng(7)
    for trial in range(20):
        flipped = bytearray(data)
        for at in rng.integers(0, len(flipped), 40):
            flipped[int(at)] ^= 1 << int(rng.integers(0, 8))
        copy = folder / f"flip{trial}.book"
        copy.write_bytes(bytes(flipped))
        for args in (["book", "list", "--book", copy], ["book", "show", "2024", "--book", copy],
                     ["solve", folder / "2025.csv", "--book", copy]):
            code, text = run(*args)
            assert code in (0, 2, 3) and "Traceback" not in text and "Internal" not in text, \
                (trial, args, text)


def test_escapes_in_names_and_notes_are_shown_not_run(folder: Path,
                                                      book_location: str) -> None:  # noqa: F811
    code, text = run("book", "add", folder / "plan-2024.json", "--book", book_location,
                     "--round", "2024\x1b[2J", "--note", "ok\x1b]0;pwned\x07")
    assert code == 0, text
    for args in (["book", "list", "--book", book_location],
                 ["book", "show", "2024\x1b[2J", "--book", book_location]):
        code, text = run(*args)
        assert code == 0 and "\x1b" not in text and "\x07" not in text, text
        assert "\\x1b[2J" in text


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a JSON document (the allocations: their first three entries)."""
    if isinstance(value, dict):
        return [prefix] + [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [prefix] + [p for i, v in enumerate(value[:3]) for p in _paths(v, (*prefix, i))]
    return [prefix]


def test_every_field_of_the_plan_edited(folder: Path) -> None:
    """Fuzz: each field of a solve result set to a value of another kind. Every edit is
    refused with exit 2 or booked with the round fundopt derives from the files; none is
    an internal error."""
    base = json.loads((folder / "plan-2024.json").read_text(encoding="utf-8"))
    strange: list[Any] = [None, "x", -1, 1e300, [], {}, True]
    rng = np.random.default_rng(2121)
    outcomes = {0: 0, 2: 0}
    for k, path in enumerate(p for p in _paths(base) if p):
        data = json.loads(json.dumps(base))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = strange[int(rng.integers(len(strange)))]
        plan = folder / f"fuzz{k}.json"
        plan.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        book = folder / f"fuzz{k}.book"
        code, text = run("book", "add", plan, "--book", book, "--round", "r")
        assert code in (0, 2) and "Internal error" not in text, (path, text)
        outcomes[code] += 1
        if code == 0:
            with open_book(str(book)) as opened:
                (info,) = opened.rounds()
            assert (info.budget, info.committed, info.status) == (40.0, 40.0, "optimal"), path
    assert outcomes[0] and outcomes[2], outcomes


def test_signals_during_book_add_leave_the_book_whole(folder: Path,
                                                      book_location: str) -> None:  # noqa: F811
    """SIGINT or SIGTERM at random moments of real `book add` processes: each ends with
    exit 0 (booked) or 130, never a traceback; an interrupted add booked its round whole
    (the signal came after the commit) or not at all."""
    import random
    import signal
    import time

    rng = random.Random(2121)
    booked: set[str] = set()
    base = pd.read_csv(folder / "2024.csv", encoding="utf-8-sig", dtype=str)
    for k in range(8):
        table = folder / f"s{k}.csv"            # a table of its own for each round
        base.assign(office=f"s{k}").to_csv(table, index=False, encoding="utf-8-sig")
        shutil.copy(folder / "2024.toml", table.with_suffix(".toml"))
        plan = folder / f"plan-s{k}.json"
        assert run("solve", table, "-o", plan)[0] == 0
        process = subprocess.Popen(
            [sys.executable, "-m", "fundopt", "book", "add", str(plan), "--book",
             book_location, "--round", f"s{k}"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        wait_for_fundopt_code(process)
        time.sleep(rng.uniform(0.0, 2.4))
        process.send_signal(signal.SIGINT if k % 2 == 0 else signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
        # after fundopt's code, in Python's shutdown, a signal ends it as itself
        assert process.returncode in (0, 130, -signal.SIGINT, -signal.SIGTERM), (k, stderr)
        assert "Traceback" not in stderr, stderr
        # exit 0: booked. Interrupted: booked whole (the signal came after the commit) or
        # not at all; `book list` says which
        present = f"s{k}" in rounds_of(book_location)
        assert present or process.returncode != 0
        if present:
            booked.add(f"s{k}")
            # void it: the next copy of the same sub-funds is then no follow-on
            assert run("book", "void", f"s{k}", "--book", book_location, "--reason",
                       "test")[0] == 0
    assert set(rounds_of(book_location)) == booked
    with open_book(book_location) as book:
        for name in booked:
            info, rows = book.round(name)
            assert len(rows) == info.funded == 24
