"""Book locations for the tests: an SQLite file always, a PostgreSQL database when
``FUNDOPT_TEST_DATABASE_URL`` names one (``.ci/run`` starts a server and sets it).

The PostgreSQL tests share that database: each one starts from an empty book (the
fundopt tables are dropped before it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import in_ci

PG_ENV = "FUNDOPT_TEST_DATABASE_URL"
BOOK_TABLES = ("round_facts", "commitments", "rounds", "meta")


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def sqlalchemy_url(url: str) -> str:
    """The test URL with the psycopg 3 driver named (what fundopt maps it to)."""
    return sa.make_url(url).set(drivername="postgresql+psycopg").render_as_string(
        hide_password=False)


def reset_pg(url: str, extra: tuple[str, ...] = ()) -> None:
    """Drop the book's tables (and ``extra`` ones) from the test database."""
    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for table in (*extra, *BOOK_TABLES):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    engine.dispose()


# In CI (.ci/run starts a server) a missing URL fails the PostgreSQL tests, never skips them.
IN_CI = in_ci()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        pg_url() is None and not IN_CI, reason=f"no PostgreSQL server: set {PG_ENV} "
        "(e.g. postgresql://postgres@127.0.0.1:5432/fundopt_test); .ci/run starts one")),
]


@pytest.fixture(params=BACKENDS)
def book_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty book: an SQLite path in a temporary folder, or the PostgreSQL test URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "fund.book")
        return
    url = pg_url()
    if url is None:
        pytest.fail(f"CI must test the book on PostgreSQL: {PG_ENV} is not set")
    reset_pg(url)
    yield url
    reset_pg(url)
