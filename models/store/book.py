"""The fund's book (SPEC §9): every round the mother fund committed, kept in a database.

A book is an SQLite file (the default: a path) or a PostgreSQL database (a
``postgresql://`` URL) for an office where several planners share one book. It is read
and written through SQLAlchemy Core. The schema is the project's own and carries its
version (``meta.schema_version``); a write (``add``, ``void``) creates or migrates it in
one transaction, a read never changes it (SQLite is opened read-only).

Every spelling of a book — a path, an ``sqlite:///`` URL (relative or absolute), a symbolic
link — resolves to one file (:func:`resolve_book`), so no output can be written over it.
A damaged book (a row that does not read back, a schema version that is not a number) is an
input error naming the round or the version; nothing is rewritten to "repair" it.

The book is append-only: a round is added whole in one transaction (an interrupted ``add``
leaves the book as it was), a round name is used once, and ``void`` marks a round with a
reason without deleting anything.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from fundopt.errors import InputError
from fundopt.messages import Message

SCHEMA_VERSION = 2
# How long a writer waits for another one to finish with an SQLite book, in seconds
# (environment variable FUNDOPT_BOOK_WAIT).
SQLITE_BUSY_SECONDS = 10.0
WAIT_ENV = "FUNDOPT_BOOK_WAIT"
WRITES = "fundopt_writes"      # execution option of a connection that writes
PG_CONNECT_SECONDS = 5
# Key of the PostgreSQL advisory lock that serialises schema migrations.
_PG_MIGRATION_LOCK = 7_462_019
# Key of the PostgreSQL advisory lock a writer holds for its whole transaction: the book
# it checked a plan against is the book it adds the plan to.
_PG_WRITE_LOCK = 7_462_021
SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")
PG_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")

metadata = sa.MetaData()
meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
rounds = sa.Table(
    "rounds", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("booked_at", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("objective", sa.Float, nullable=True),
    sa.Column("unit", sa.String(32), nullable=False),
    sa.Column("budget", sa.Float, nullable=False),
    sa.Column("committed", sa.Float, nullable=False),
    sa.Column("funded", sa.Integer, nullable=False),
    sa.Column("input_path", sa.Text, nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("policy_path", sa.Text, nullable=True),
    sa.Column("policy_sha256", sa.String(64), nullable=True),
    sa.Column("fundopt", sa.String(32), nullable=False),
    sa.Column("solver", sa.Text, nullable=False),
    sa.Column("planned_at", sa.String(32), nullable=True),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("voided_at", sa.String(32), nullable=True),
    sa.Column("void_reason", sa.Text, nullable=True),
)
commitments = sa.Table(
    "commitments", metadata,
    sa.Column("round_id", sa.Integer, sa.ForeignKey("rounds.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),   # row of the round's table
    sa.Column("sub_id", sa.String(200), nullable=False, index=True),
    sa.Column("amount", sa.Float, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),            # every input column of the row
)

# Schema version 2: what fundopt re-derived when it admitted the round (SPEC §13). Rounds
# booked under version 1 have no row here.
round_facts = sa.Table(
    "round_facts", metadata,
    sa.Column("round_id", sa.Integer, sa.ForeignKey("rounds.id"), primary_key=True),
    sa.Column("plan_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("mark", sa.String(32), nullable=False, default=""),
    sa.Column("relaxation", sa.Text, nullable=False, default="[]"),
    sa.Column("solved_against", sa.Text, nullable=True),
)


@dataclass(frozen=True)
class BookState:
    """What a plan solved against the book saw: the last round booked (void or not) and a
    digest of the active rounds. Any ``add`` or ``void`` changes it."""

    last_round: str | None
    digest: str

    def as_json(self) -> dict[str, str | None]:
        return {"last_round": self.last_round, "digest": self.digest}


@dataclass(frozen=True)
class RoundInfo:
    """One booked round, as listed by ``book list``."""

    name: str
    booked_at: str
    note: str
    status: str                  # the plan's solve status: optimal or feasible
    objective: float | None
    unit: str
    budget: float
    committed: float
    funded: int
    input_path: str
    input_sha256: str
    policy_path: str | None
    policy_sha256: str | None
    fundopt: str
    solver: str
    planned_at: str | None
    columns: tuple[str, ...]
    voided_at: str | None = None
    void_reason: str | None = None
    # Schema 2 (None / empty for rounds booked before): the digest of the plan (input
    # hashes and amounts), "relaxed" or "time_limit" when booked with --accept, the
    # relaxation applied (policy key, bound, from, to) and the book state it was checked
    # against.
    plan_sha256: str | None = None
    mark: str = ""
    relaxation: tuple[tuple[str, str, float, float], ...] = ()
    solved_against: str | None = None

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


@dataclass(frozen=True)
class NewRound:
    """A round to add: its facts and its commitments.

    ``rows`` has one row per funded sub-fund, in the order of the round's table, with
    ``position`` (0-based row of that table), ``id``, ``amount`` and every input column
    (``info.columns``).
    """

    info: RoundInfo
    rows: pd.DataFrame


@dataclass(frozen=True)
class Booked:
    """The commitments of every round that is not void, for ``solve --book``.

    ``frame`` has one row per commitment: ``round``, ``id``, ``amount`` and the input
    columns of each round's table (a column missing from a round's table is blank there).
    """

    location: str
    rounds: tuple[RoundInfo, ...]
    frame: pd.DataFrame
    state: BookState | None = None

    @property
    def total(self) -> float:
        return float(self.frame["amount"].sum()) if len(self.frame) else 0.0


def display_location(location: str) -> str:
    """The book as it may be shown: a path, or a URL with its password hidden."""
    if not _is_url(location):
        return location
    try:
        return sa.make_url(location).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):
        return location


@dataclass(frozen=True)
class Place:
    """Where a book lives: an SQLite file (``path``: absolute, links resolved) or a
    PostgreSQL database (``url``); ``location`` is the spelling the planner gave."""

    location: str
    path: Path | None
    url: sa.URL | None


def resolve_book(location: str) -> Place:
    """The one place every spelling of a book names (SPEC §13): a path, ``sqlite:///rel``,
    ``sqlite:////abs``, a symbolic link to either, or a ``postgresql://`` URL.

    Raises
    ------
    InputError
        Empty, not a URL SQLAlchemy can read (a port that is not a number), an
        ``sqlite://`` URL without a file or with options, another kind of database.
    """
    if not location.strip() or "\x00" in location:
        raise InputError(code="book.bad_location", column="--book", value=location)
    if not _is_url(location):
        return Place(location, _real_path(location), None)
    try:
        url = sa.make_url(location)
    except (sa_exc.ArgumentError, ValueError):
        raise InputError(code="book.bad_location", column="--book",
                         value=display_location(location)) from None
    if url.drivername in SQLITE_DRIVERS:
        if not url.database or url.database == ":memory:" or url.query:
            raise InputError(code="book.sqlite_url", column="--book",
                             value=display_location(location))
        return Place(location, _real_path(url.database), None)
    if url.drivername in PG_DRIVERS:
        return Place(location, None, url.set(drivername="postgresql+psycopg"))
    raise InputError(code="book.bad_location", column="--book", value=display_location(location))


def book_files(location: str | None) -> list[Path]:
    """The file a book is kept in (none for PostgreSQL): no output may be written on it."""
    if location is None:
        return []
    place = resolve_book(location)
    return [] if place.path is None else [place.path]


def _real_path(text: str) -> Path:
    return Path(os.path.realpath(os.path.abspath(text)))


class Book:
    """An open book. Use :func:`open_book`; every method is one transaction."""

    def __init__(self, engine: Engine, location: str, version: int = SCHEMA_VERSION) -> None:
        self.engine = engine
        self.location = location
        self.version = version        # the schema version read (an old book is read as is)

    def rounds(self) -> list[RoundInfo]:
        """Every round, void ones included, in the order they were booked."""
        with self._reading() as conn:
            rows = list(conn.execute(sa.select(*_ROUND_COLUMNS).order_by(rounds.c.id)))
            facts = self._facts(conn)
            return [_info(row, facts.get(row.id), self.location) for row in rows]

    def round(self, name: str) -> tuple[RoundInfo, pd.DataFrame]:
        """A round and its commitments (``position``, ``id``, ``amount`` + input columns).

        Raises
        ------
        InputError
            No round of that name; a damaged row.
        """
        with self._reading() as conn:
            row = _round_row(conn, name, self.location)
            info = _info(row, self._facts(conn).get(row.id), self.location)
            return info, _commitment_frame(conn, [row], self.location)

    def add(self, new: NewRound, state: BookState | None = None) -> RoundInfo:
        """Add a round and all its commitments in one transaction.

        Parameters
        ----------
        new
            The round.
        state
            The book's state the round was checked against: if the book has changed
            since (a round added or voided), nothing is added.

        Raises
        ------
        InputError
            The round name is already in the book (void rounds included), the same plan
            is an active round already, or the book changed since the check.
        """
        info = new.info
        with self._writing() as conn:
            self._check_new(conn, info.name, info.plan_sha256)
            if state is not None and _state(conn) != state:
                raise InputError(code="book.changed", file=display_location(self.location))
            values = {k: v for k, v in vars(info).items() if k in rounds.c}
            values["columns"] = list(info.columns)
            try:
                inserted = conn.execute(rounds.insert().values(**values))
            except sa_exc.IntegrityError as error:   # lost a race to another writer
                raise _name_taken(info.name, self.location, None) from error
            key = inserted.inserted_primary_key
            assert key is not None
            round_id = int(key[0])
            if info.plan_sha256 is not None:
                conn.execute(round_facts.insert().values(
                    round_id=round_id, plan_sha256=info.plan_sha256, mark=info.mark,
                    relaxation=json.dumps([list(r) for r in info.relaxation],
                                          ensure_ascii=False),
                    solved_against=info.solved_against))
            records = _records(new.rows, info.columns, round_id)
            if records:
                conn.execute(commitments.insert(), records)
        return info

    def check_new(self, name: str, plan_sha256: str | None) -> None:
        """Refuse a round name in use, or a plan that is an active round already (``add``
        checks both again in its transaction).

        Raises
        ------
        InputError
            Naming the round that holds the name or the plan.
        """
        with self._reading() as conn:
            self._check_new(conn, name, plan_sha256)

    def _check_new(self, conn: Connection, name: str, plan_sha256: str | None) -> None:
        taken = conn.execute(sa.select(rounds.c.booked_at)
                             .where(rounds.c.name == name)).first()
        if taken is not None:
            raise _name_taken(name, self.location, taken[0])
        if plan_sha256 is None or self.version < 2:
            return
        twin = conn.execute(
            sa.select(rounds.c.name).join(round_facts, round_facts.c.round_id == rounds.c.id)
            .where(round_facts.c.plan_sha256 == plan_sha256, rounds.c.voided_at.is_(None))
        ).first()
        if twin is not None:
            raise InputError(code="book.same_plan", values={"round": twin[0]},
                             file=display_location(self.location))

    def void(self, name: str, reason: str) -> RoundInfo:
        """Mark a round void with a reason; the round and its rows stay in the book.

        Raises
        ------
        InputError
            No round of that name, or it is void already.
        """
        with self._writing() as conn:
            row = _round_row(conn, name, self.location)
            if row.voided_at is not None:
                when = f"{row.voided_at}: {row.void_reason}"
                raise InputError(code="input.book.already_void",
                                 values={"name": name, "when": when},
                                 file=display_location(self.location))
            conn.execute(rounds.update().where(rounds.c.id == row.id)
                         .values(voided_at=now_text(), void_reason=reason))
            row = _round_row(conn, name, self.location)
            return _info(row, self._facts(conn).get(row.id), self.location)

    def booked(self) -> Booked:
        """The commitments of every round that is not void (what ``solve --book`` counts),
        and the book's state."""
        with self._reading() as conn:
            rows = list(conn.execute(sa.select(*_ROUND_COLUMNS)
                                     .where(rounds.c.voided_at.is_(None))
                                     .order_by(rounds.c.id)))
            facts = self._facts(conn)
            return Booked(self.location,
                          tuple(_info(r, facts.get(r.id), self.location) for r in rows),
                          _commitment_frame(conn, rows, self.location), _state(conn))

    def state(self) -> BookState:
        """The book's state now (see :class:`BookState`)."""
        with self._reading() as conn:
            return _state(conn)

    def _facts(self, conn: Connection) -> dict[int, Any]:
        if self.version < 2:
            return {}
        return {row.round_id: row for row in conn.execute(sa.select(round_facts))}

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with _database_errors(self.location), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with _database_errors(self.location), _write(self.engine) as conn:
            yield conn


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    """One write transaction (on SQLite it takes the write lock at its start; on
    PostgreSQL an advisory lock held to its end)."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITES: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                             {"key": _PG_WRITE_LOCK})
            yield conn


@contextmanager
def open_book(location: str, create: bool = False, write: bool = False) -> Iterator[Book]:
    """Open a book to read it, or (``write``) to add to it or void a round.

    Parameters
    ----------
    location
        A file path (SQLite) or a database URL: ``postgresql://user@host/db`` (driven by
        psycopg 3) or ``sqlite:///path`` (see :func:`resolve_book`).
    create
        Create a missing SQLite file, or the schema in an empty database (``book add``);
        implies ``write``. A file created by a failed ``add`` is removed again.
    write
        Open for writing: an older schema is migrated. Otherwise the book is opened
        read-only and never created, migrated or changed.

    Raises
    ------
    InputError
        A path that is not a book, a URL that cannot connect or is not supported, a
        schema version that is not a number or is newer than this fundopt reads.
    """
    write = write or create
    place = resolve_book(location)
    created = place.path is not None and create and not place.path.exists()
    engine = _engine(place, create, write)
    done = False
    try:
        with _database_errors(location), _bad_options(location):
            with engine.connect() as conn:       # a read: a current book needs no lock
                version = _checked_version(conn, location, write)
            if write and version != SCHEMA_VERSION:
                with _write(engine) as conn:
                    _migrate(conn, location, create)
                version = SCHEMA_VERSION
        yield Book(engine, location, version or SCHEMA_VERSION)
        done = True
    finally:
        engine.dispose()
        if created and not done and place.path is not None:
            _remove_new_file(place.path)


def _remove_new_file(path: Path) -> None:
    """A book file this run created and failed to fill: gone, with its journal."""
    for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal")):
        try:
            leftover.unlink()
        except OSError:
            pass


def _is_url(location: str) -> bool:
    return "://" in location


def _engine(place: Place, create: bool, write: bool) -> Engine:
    if place.url is not None:
        args: dict[str, Any] = {"connect_timeout": PG_CONNECT_SECONDS}
        if not write:
            args["options"] = "-c default_transaction_read_only=on"
        try:
            return sa.create_engine(place.url, connect_args=args, poolclass=sa.pool.NullPool)
        except ImportError as error:
            raise InputError(code="input.book.no_psycopg",
                             file=display_location(place.location)) from error
        except (sa_exc.ArgumentError, ValueError, TypeError):
            raise InputError(code="book.bad_location", column="--book",
                             value=display_location(place.location)) from None
    path = place.path
    assert path is not None
    shown = place.location
    if path.is_dir():
        raise InputError(code="input.book.folder", file=shown)
    if not path.exists() and not create:
        raise InputError(code="input.book.missing", file=shown)
    if path.exists() and not path.is_file():
        raise InputError(code="book.not_file", file=shown)
    if write:
        # a URL object, not text: a '?' or '#' in the path is part of the file name
        return _sqlite_engine(sa.URL.create("sqlite", database=str(path)))
    read_only = f"file:{quote(str(path))}?mode=ro"
    return _sqlite_engine(sa.URL.create("sqlite", database=read_only, query={"uri": "true"}))
def _sqlite_engine(url: str | sa.URL) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": _busy_seconds()},
                              poolclass=sa.pool.NullPool)

    # pysqlite begins transactions lazily and only before writes; SQLAlchemy's documented
    # recipe takes control. A write begins IMMEDIATE, taking the write lock at once, so two
    # writers are serialised (the second waits, then sees the first one's round) instead
    # of failing half-way with a lock upgrade; a read begins DEFERRED.
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        writes = conn.get_execution_options().get(WRITES, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _busy_seconds() -> float:
    text = os.environ.get(WAIT_ENV, "").strip()
    if not text:
        return SQLITE_BUSY_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < math.inf:
        raise InputError(code="input.book.wait_seconds", values={"wait_env": WAIT_ENV},
                         column=WAIT_ENV, value=text)
    return seconds


@contextmanager
def _bad_options(location: str) -> Iterator[None]:
    """A URL whose options the driver cannot take (``?connect_timeout=abc``) is bad input."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise InputError(code="book.bad_location", column="--book",
                         value=display_location(location)) from error


@contextmanager
def _database_errors(location: str) -> Iterator[None]:
    """Turn the database's errors into one clear input error naming the book."""
    shown = display_location(location)
    try:
        yield
    except sa_exc.DBAPIError as error:
        text = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        lowered = text.lower()
        if "not a database" in lowered or "malformed" in lowered:
            raise InputError(code="input.book.not_sqlite", file=shown, value=text) from error
        if "locked" in lowered or "busy" in lowered:
            raise InputError(code="input.book.busy", file=shown) from error
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            raise InputError(code="input.book.cannot_open", file=shown, value=text) from error
        raise InputError(code="input.book.refused", file=shown, value=text) from error


def _checked_version(conn: Connection, location: str, write: bool) -> int | None:
    """The book's schema version as read (None: a database without a book, which only a
    writer may fill).

    Raises
    ------
    InputError
        Not a book and not empty (read), a version that is not a number, or a version
        newer than this fundopt reads.
    """
    names = set(sa.inspect(conn).get_table_names())
    shown = display_location(location)
    if "meta" not in names:
        foreign = names - {t.name for t in metadata.sorted_tables}
        if foreign:
            raise InputError(code="input.book.foreign_tables", file=shown,
                             value=sorted(foreign)[:5])
        if not write:
            raise InputError(code="book.no_book", file=shown)
        return None
    found = conn.execute(sa.select(meta.c.value)
                         .where(meta.c.key == "schema_version")).scalar_one_or_none()
    text = "" if found is None else str(found)
    if not text.isdigit() or int(text) < 1:
        raise InputError(code="book.bad_version", file=shown, column="meta.schema_version",
                         value=found)
    version = int(text)
    if version > SCHEMA_VERSION:
        raise InputError(code="input.book.newer_schema",
                         values={"version": version, "schema_version": SCHEMA_VERSION}, file=shown)
    return version


def _migrate(conn: Connection, location: str, create: bool) -> None:
    """Create the schema, or bring an older one up to ``SCHEMA_VERSION``, in one
    transaction (the version is read again under the lock: another writer may have
    migrated meanwhile)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                     {"key": _PG_MIGRATION_LOCK})
    version = _checked_version(conn, location, write=True)
    if version is None and not create:
        raise InputError(code="book.no_book", file=display_location(location))
    for step in range((version or 0) + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[step](conn)
    if (version or 0) < SCHEMA_VERSION:
        conn.execute(meta.delete().where(meta.c.key == "schema_version"))
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))


def _create_v1(conn: Connection) -> None:
    for table in (meta, rounds, commitments):
        table.create(conn, checkfirst=True)


def _create_v2(conn: Connection) -> None:
    round_facts.create(conn, checkfirst=True)


# Schema version → the step that brings the previous version to it. A change of the
# schema adds a step here and raises SCHEMA_VERSION; old books are migrated when written.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1, 2: _create_v2}

# The columns of ``rounds`` read back (every one: a version-1 book has them all), the
# JSON one as text where the database keeps text, so that a damaged cell is named here.
_ROUND_COLUMNS = tuple(sa.type_coerce(c, sa.Text).label(c.name) if c.name == "columns" else c
                       for c in rounds.c)


def _state(conn: Connection) -> BookState:
    last = conn.execute(sa.select(rounds.c.name).order_by(rounds.c.id.desc()).limit(1)
                        ).scalar_one_or_none()
    active = conn.execute(sa.select(rounds.c.id, rounds.c.name, rounds.c.booked_at)
                          .where(rounds.c.voided_at.is_(None)).order_by(rounds.c.id))
    text = "\n".join(f"{r.id}\t{r.name}\t{r.booked_at}" for r in active)
    return BookState(None if last is None else str(last),
                     hashlib.sha256(text.encode("utf-8")).hexdigest())


def _round_row(conn: Connection, name: str, location: str) -> Any:
    name = name.strip()
    row = conn.execute(sa.select(*_ROUND_COLUMNS).where(rounds.c.name == name)).first()
    if row is None:
        known = [r[0] for r in conn.execute(sa.select(rounds.c.name).order_by(rounds.c.id))]
        raise InputError(code="input.book.no_round" if known else "input.book.no_round_yet",
                         values={"name": name, "known": ", ".join(known)},
                         file=display_location(location))
    return row


def _name_taken(name: str, location: str, booked_at: str | None) -> InputError:
    when = Message("input.book.booked_at", {"at": booked_at}) if booked_at else ""
    return InputError(code="input.book.name_taken", values={"name": name, "when": when},
                      file=display_location(location))


# RoundInfo fields read from ``rounds``: (name, kinds accepted, may be NULL)
_TEXT, _NUMBER = (str,), (int, float)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": (_TEXT, False), "booked_at": (_TEXT, False), "note": (_TEXT, True),
    "status": (_TEXT, False), "objective": (_NUMBER, True), "unit": (_TEXT, False),
    "budget": (_NUMBER, False), "committed": (_NUMBER, False), "funded": ((int,), False),
    "input_path": (_TEXT, False), "input_sha256": (_TEXT, False),
    "policy_path": (_TEXT, True), "policy_sha256": (_TEXT, True), "fundopt": (_TEXT, False),
    "solver": (_TEXT, False), "planned_at": (_TEXT, True), "voided_at": (_TEXT, True),
    "void_reason": (_TEXT, True),
}


def _info(row: Any, facts: Any, location: str) -> RoundInfo:
    """A round as read back, every field checked (a damaged row is named, not trusted)."""
    values: dict[str, Any] = {}
    for name, (kinds, nullable) in _FIELDS.items():
        value = getattr(row, name)
        if value is None and nullable:
            values[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, kinds) or (
                isinstance(value, float) and not math.isfinite(value)):
            raise _damaged(location, row, f"rounds.{name}", value)
        values[name] = value
    for name in ("budget", "committed", "funded"):
        if values[name] < 0:
            raise _damaged(location, row, f"rounds.{name}", values[name])
    columns = _json_value(row.columns)
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise _damaged(location, row, "rounds.columns", row.columns)
    values["columns"] = tuple(columns)
    values["note"] = values["note"] or ""
    if facts is not None:
        relaxation = _json_value(facts.relaxation)
        if not isinstance(relaxation, list) or not all(
                isinstance(r, list) and len(r) == 4 for r in relaxation):
            raise _damaged(location, row, "round_facts.relaxation", facts.relaxation)
        values.update(plan_sha256=facts.plan_sha256, mark=facts.mark or "",
                      relaxation=tuple(tuple(r) for r in relaxation),
                      solved_against=facts.solved_against)
    return RoundInfo(**values)


def _json_value(value: Any) -> Any:
    """A JSON cell read as text (SQLite) or already decoded (PostgreSQL); a cell that is
    not JSON reads as a marker that no check accepts."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return _NOT_JSON
    return value


_NOT_JSON = object()


def _damaged(location: str, row: Any, field: str, value: Any) -> InputError:
    name = getattr(row, "name", None)
    return InputError(code="book.damaged",
                      values={"round": name if isinstance(name, str)
                              else f"#{getattr(row, 'id', '?')}"},
                      file=display_location(location), column=field,
                      value=value if not isinstance(value, bytes) else repr(value[:40]))


def _records(rows: pd.DataFrame, columns: Sequence[str], round_id: int) -> list[dict[str, Any]]:
    data = rows.loc[:, list(columns)].astype(object)
    data = data.where(pd.notna(data), None)
    return [
        {"round_id": round_id, "position": int(position), "sub_id": str(sub_id),
         "amount": float(amount), "data": {c: _plain(v) for c, v in zip(columns, values,
                                                                         strict=True)}}
        for position, sub_id, amount, values in zip(
            rows["position"].tolist(), rows["id"].tolist(), rows["amount"].tolist(),
            data.itertuples(index=False, name=None), strict=True)
    ]


def _plain(value: Any) -> Any:
    """A cell as JSON: numbers as float (NaN as null), everything else as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if hasattr(value, "item"):          # numpy scalar
        return _plain(value.item())
    return str(value)


# Commitment columns read back, the JSON cell as text where the database keeps text, so
# that a damaged cell is found and named here rather than deep in a result processor.
_COMMITMENT_COLUMNS = (commitments.c.round_id, commitments.c.position, commitments.c.sub_id,
                       commitments.c.amount,
                       sa.type_coerce(commitments.c.data, sa.Text).label("data"))


def _commitment_frame(conn: Connection, round_rows: Sequence[Any], location: str
                      ) -> pd.DataFrame:
    names = {r.id: r.name for r in round_rows}
    columns: list[str] = []
    for r in round_rows:
        columns += [c for c in _info(r, None, location).columns if c not in columns]
    base = ["round", "position", "id", "amount"]
    if not names:
        return pd.DataFrame(columns=base + [c for c in columns if c not in base])
    query = (sa.select(*_COMMITMENT_COLUMNS).where(commitments.c.round_id.in_(list(names)))
             .order_by(commitments.c.round_id, commitments.c.position))
    records = []
    for row in conn.execute(query):
        data = _json_value(row.data)
        amount = row.amount
        where = f"commitments[{names[row.round_id]}, position {row.position}]"
        if isinstance(amount, bool) or not isinstance(amount, int | float) \
                or not math.isfinite(amount) or amount < 0:
            raise InputError(code="book.damaged", values={"round": names[row.round_id]},
                             file=display_location(location), column=f"{where}.amount",
                             value=amount)
        if not isinstance(data, dict) or not isinstance(row.sub_id, str) \
                or not isinstance(row.position, int):
            raise InputError(code="book.damaged", values={"round": names[row.round_id]},
                             file=display_location(location), column=f"{where}.data", value=None)
        data = dict(data)
        data.update({"round": names[row.round_id], "position": row.position,
                     "id": row.sub_id, "amount": float(amount)})
        records.append(data)
    frame = pd.DataFrame.from_records(records, columns=base + [c for c in columns
                                                               if c not in base])
    return frame


def now_text() -> str:
    """The current time as the book stores it (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
