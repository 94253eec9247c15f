"""The fund's book (SPEC §9): every round the mother fund committed, kept in a database.

A book is an SQLite file (the default: a path) or a PostgreSQL database (a
``postgresql://`` URL) for an office where several planners share one book. It is read
and written through SQLAlchemy Core. The schema is the project's own and carries its
version (``meta.schema_version``); opening a book creates or migrates it in one
transaction.

The book is append-only: a round is added whole in one transaction (an interrupted ``add``
leaves the book as it was), a round name is used once, and ``void`` marks a round with a
reason without deleting anything.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from fundopt.errors import InputError

SCHEMA_VERSION = 1
# How long a writer waits for another one to finish with an SQLite book, in seconds
# (environment variable FUNDOPT_BOOK_WAIT).
SQLITE_BUSY_SECONDS = 10.0
WAIT_ENV = "FUNDOPT_BOOK_WAIT"
WRITES = "fundopt_writes"      # execution option of a connection that writes
PG_CONNECT_SECONDS = 5
# Key of the PostgreSQL advisory lock that serialises schema migrations.
_PG_MIGRATION_LOCK = 7_462_019

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

    @property
    def total(self) -> float:
        return float(self.frame["amount"].sum()) if len(self.frame) else 0.0


def display_location(location: str) -> str:
    """The book as it may be shown: a path, or a URL with its password hidden."""
    if not _is_url(location):
        return location
    try:
        return sa.make_url(location).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return location


class Book:
    """An open book. Use :func:`open_book`; every method is one transaction."""

    def __init__(self, engine: Engine, location: str) -> None:
        self.engine = engine
        self.location = location

    def rounds(self) -> list[RoundInfo]:
        """Every round, void ones included, in the order they were booked."""
        with self._reading() as conn:
            return [_info(row) for row in conn.execute(sa.select(rounds).order_by(rounds.c.id))]

    def round(self, name: str) -> tuple[RoundInfo, pd.DataFrame]:
        """A round and its commitments (``position``, ``id``, ``amount`` + input columns).

        Raises
        ------
        InputError
            No round of that name.
        """
        with self._reading() as conn:
            row = _round_row(conn, name, self.location)
            return _info(row), _commitment_frame(conn, [row])

    def add(self, new: NewRound) -> RoundInfo:
        """Add a round and all its commitments in one transaction.

        Raises
        ------
        InputError
            The round name is already in the book (void rounds included).
        """
        info = new.info
        with self._writing() as conn:
            taken = conn.execute(sa.select(rounds.c.booked_at)
                                 .where(rounds.c.name == info.name)).first()
            if taken is not None:
                raise _name_taken(info.name, self.location, taken[0])
            values = {k: v for k, v in vars(info).items() if k in rounds.c}
            values["columns"] = list(info.columns)
            try:
                inserted = conn.execute(rounds.insert().values(**values))
            except sa_exc.IntegrityError as error:   # lost a race to another writer
                raise _name_taken(info.name, self.location, None) from error
            key = inserted.inserted_primary_key
            assert key is not None
            round_id = int(key[0])
            records = _records(new.rows, info.columns, round_id)
            if records:
                conn.execute(commitments.insert(), records)
        return info

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
                raise InputError(f"round {name!r} is already void ({when})",
                                 file=display_location(self.location),
                                 message_zh=f"轮次 {name!r} 已作废（{when}）")
            conn.execute(rounds.update().where(rounds.c.id == row.id)
                         .values(voided_at=now_text(), void_reason=reason))
            return _info(_round_row(conn, name, self.location))

    def booked(self) -> Booked:
        """The commitments of every round that is not void (what ``solve --book`` counts)."""
        with self._reading() as conn:
            rows = list(conn.execute(sa.select(rounds).where(rounds.c.voided_at.is_(None))
                                     .order_by(rounds.c.id)))
            return Booked(self.location, tuple(_info(r) for r in rows),
                          _commitment_frame(conn, rows))

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
    """One write transaction (on SQLite it takes the write lock at its start)."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITES: True})
        with conn.begin():
            yield conn


@contextmanager
def open_book(location: str, create: bool = False) -> Iterator[Book]:
    """Open (and create or migrate) a book.

    Parameters
    ----------
    location
        A file path (SQLite) or a database URL: ``postgresql://user@host/db`` (driven by
        psycopg 3) or ``sqlite:///path``.
    create
        Create a missing SQLite file (``book add``); otherwise a missing file is an error.

    Raises
    ------
    InputError
        A path that is not a database, a URL that cannot connect or is not supported, a
        book written by a newer fundopt.
    """
    engine = _engine(location, create)
    try:
        with _database_errors(location):
            with engine.connect() as conn:       # a read: a current book needs no lock
                current = _schema_version(conn) == SCHEMA_VERSION
            if not current:
                with _write(engine) as conn:
                    _migrate(conn, location)
        book = Book(engine, location)
        yield book
    finally:
        engine.dispose()


def _is_url(location: str) -> bool:
    return "://" in location


def _engine(location: str, create: bool) -> Engine:
    if not _is_url(location):
        path = Path(location)
        if path.is_dir():
            raise InputError("the book is a folder, not a database file", file=location,
                             expected="a file path such as fund.book or a postgresql:// URL",
                             message_zh="账簿路径是文件夹，不是数据库文件")
        if not create and not path.is_file():
            raise InputError("no book at this path", file=location,
                             hint="A book is created by the first `fundopt book add`; "
                                  "check the --book path.",
                             message_zh="该路径下没有账簿",
                             hint_zh="账簿在第一次 `fundopt book add` 时创建；请检查 --book 路径。")
        return _sqlite_engine(f"sqlite:///{path}")
    try:
        url = sa.make_url(location)
    except sa_exc.ArgumentError as error:
        raise _bad_url(location) from error
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        url = url.set(drivername="postgresql+psycopg")
        try:
            return sa.create_engine(url, connect_args={"connect_timeout": PG_CONNECT_SECONDS},
                                    poolclass=sa.pool.NullPool)
        except ImportError as error:
            raise InputError("PostgreSQL books need the psycopg package",
                             file=display_location(location),
                             hint="pip install 'psycopg[binary]'",
                             message_zh="PostgreSQL 账簿需要安装 psycopg") from error
    if url.drivername == "sqlite" and url.database:
        if not create and not Path(url.database).is_file():
            return _engine(url.database, create)       # the same message as for a path
        return _sqlite_engine(url)
    raise _bad_url(location)


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
        raise InputError(f"{WAIT_ENV} must be a number of seconds", column=WAIT_ENV,
                         value=text, expected="a number >= 0, e.g. 10",
                         message_zh=f"{WAIT_ENV} 应为秒数")
    return seconds


def _bad_url(location: str) -> InputError:
    return InputError("not a book this fundopt can open", file=display_location(location),
                      expected="a file path (SQLite) or postgresql://user@host/database",
                      message_zh="无法识别的账簿位置",
                      expected_zh="文件路径（SQLite）或 postgresql://用户@主机/数据库")


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
            raise InputError("this file is not a fundopt book (not an SQLite database)",
                             file=shown, value=text,
                             hint="Give --book a new file name, or the path of an existing book.",
                             message_zh="该文件不是 fundopt 账簿（不是 SQLite 数据库）",
                             hint_zh="请为 --book 指定新文件名或已有账簿的路径。") from error
        if "locked" in lowered or "busy" in lowered:
            raise InputError("the book is busy: another fundopt is writing to it", file=shown,
                             hint="Try again in a moment.", message_zh="账簿正被另一个 fundopt "
                             "进程写入", hint_zh="请稍后重试。") from error
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            raise InputError("cannot open the book", file=shown, value=text,
                             hint="Check the path or URL, that the database server runs and "
                                  "that the user may connect.",
                             message_zh="无法打开账簿",
                             hint_zh="请检查路径或 URL、数据库服务是否运行、用户是否有权连接。"
                             ) from error
        raise InputError("the book's database refused the request", file=shown, value=text,
                         message_zh="账簿数据库拒绝了该操作") from error


def _migrate(conn: Connection, location: str) -> None:
    """Create the schema, or bring an older one up to ``SCHEMA_VERSION``, in one transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                     {"key": _PG_MIGRATION_LOCK})
    names = set(sa.inspect(conn).get_table_names())
    found = _schema_version(conn)
    if found is None:
        foreign = names - {t.name for t in metadata.sorted_tables}
        if foreign:
            raise InputError("this database holds other tables; it is not a fundopt book",
                             file=display_location(location), value=sorted(foreign)[:5],
                             hint="Use an empty database or file for the book.",
                             message_zh="该数据库包含其他表，不是 fundopt 账簿",
                             hint_zh="请为账簿使用空数据库或新文件。")
    version = found or 0
    if version > SCHEMA_VERSION:
        raise InputError(f"the book has schema version {version}; this fundopt reads up to "
                         f"{SCHEMA_VERSION}", file=display_location(location),
                         hint="Upgrade fundopt to use this book.",
                         message_zh=f"账簿结构版本为 {version}，"
                                    f"本 fundopt 最高支持 {SCHEMA_VERSION}",
                         hint_zh="请升级 fundopt。")
    for step in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[step](conn)
    if version < SCHEMA_VERSION:
        conn.execute(meta.delete().where(meta.c.key == "schema_version"))
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))


def _schema_version(conn: Connection) -> int | None:
    """The book's recorded schema version; None for a database without fundopt's tables."""
    if "meta" not in sa.inspect(conn).get_table_names():
        return None
    found = conn.execute(sa.select(meta.c.value)
                         .where(meta.c.key == "schema_version")).scalar_one_or_none()
    return int(found) if found is not None and str(found).isdigit() else 0


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


# Schema version → the step that brings the previous version to it. A change of the
# schema adds a step here and raises SCHEMA_VERSION; old books are migrated when opened.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1}


def _round_row(conn: Connection, name: str, location: str) -> Any:
    row = conn.execute(sa.select(rounds).where(rounds.c.name == name)).first()
    if row is None:
        known = [r[0] for r in conn.execute(sa.select(rounds.c.name).order_by(rounds.c.id))]
        raise InputError(f"no round {name!r} in the book", file=display_location(location),
                         expected="one of: " + (", ".join(known) or "(none yet)"),
                         message_zh=f"账簿中没有轮次 {name!r}",
                         expected_zh="以下之一：" + ("、".join(known) or "（暂无）"))
    return row


def _name_taken(name: str, location: str, booked_at: str | None) -> InputError:
    when = f" (booked {booked_at})" if booked_at else ""
    return InputError(f"round {name!r} is already in the book{when}",
                      file=display_location(location),
                      expected="a round name not used before (void rounds keep their name)",
                      hint="Choose another --round name; `fundopt book list` shows the used ones.",
                      message_zh=f"账簿中已有轮次 {name!r}", expected_zh="未使用过的轮次名称",
                      hint_zh="请换一个 --round 名称；`fundopt book list` 列出已用名称。")


def _info(row: Any) -> RoundInfo:
    values = {name: getattr(row, name) for name in RoundInfo.__dataclass_fields__}
    values["columns"] = tuple(values["columns"] or ())
    values["note"] = values["note"] or ""
    return RoundInfo(**values)


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


def _commitment_frame(conn: Connection, round_rows: Sequence[Any]) -> pd.DataFrame:
    names = {r.id: r.name for r in round_rows}
    columns: list[str] = []
    for r in round_rows:
        columns += [c for c in (r.columns or ()) if c not in columns]
    base = ["round", "position", "id", "amount"]
    if not names:
        return pd.DataFrame(columns=base + [c for c in columns if c not in base])
    query = (sa.select(commitments).where(commitments.c.round_id.in_(list(names)))
             .order_by(commitments.c.round_id, commitments.c.position))
    records = []
    for row in conn.execute(query):
        data = dict(row.data or {})
        data.update({"round": names[row.round_id], "position": row.position,
                     "id": row.sub_id, "amount": row.amount})
        records.append(data)
    frame = pd.DataFrame.from_records(records, columns=base + [c for c in columns
                                                               if c not in base])
    return frame


def now_text() -> str:
    """The current time as the book stores it (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
