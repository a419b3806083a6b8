"""Engine creation for the two supported backends (SQLite file/memory, PostgreSQL via psycopg 3)
and the dialect-specific idempotent bulk insert."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from ..errors import InvalidParameterError

__all__ = [
    "BACKENDS",
    "connect",
    "dialect_insert",
    "insert_ignore",
    "parse_url",
    "write_transaction",
]

#: Supported ``URL.get_backend_name()`` values.
BACKENDS: tuple[str, ...] = ("sqlite", "postgresql")
#: SQLite: wait this long (ms) for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def parse_url(url: str | URL) -> URL:
    """Parse and check a database URL (``sqlite:///path``, ``postgresql+psycopg://...``)."""
    try:
        u = make_url(url)
    except (ArgumentError, ValueError, TypeError) as e:
        raise InvalidParameterError(
            f"The 'url' parameter must be a database URL such as 'sqlite:///monitor.db' or "
            f"'postgresql+psycopg://user@host/db', got {url!r} instead ({e})."
        ) from None
    if u.get_backend_name() not in BACKENDS:
        raise InvalidParameterError(
            f"The 'url' parameter must name one of the backends {BACKENDS}, "
            f"got {u.get_backend_name()!r} instead."
        )
    if u.drivername == "postgresql":  # the driver this project installs (psycopg 3)
        u = u.set(drivername="postgresql+psycopg")
    return u


def _is_memory(u: URL) -> bool:
    return u.database in (None, "", ":memory:") or "mode=memory" in str(u)


def connect(url: URL, engine_kwargs: Mapping[str, Any] | None = None) -> Engine:
    """Create the engine; for SQLite set the connection pragmas and real transactions.

    SQLite gets ``foreign_keys=ON``, WAL journaling with ``synchronous=NORMAL`` (durable across
    application crashes; the last transactions may be lost on power failure), a busy timeout, and
    explicit ``BEGIN`` statements (the stdlib driver's implicit transactions are turned off, as
    the SQLAlchemy documentation recommends) so that a read-modify-write is atomic.
    """
    kwargs: dict[str, Any] = dict(engine_kwargs or {})
    if url.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    memory = _is_memory(url)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("check_same_thread", False)
    if memory:
        kwargs.setdefault("poolclass", StaticPool)  # one shared connection: one database
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit at the driver; we issue BEGIN
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction (SQLite: ``BEGIN IMMEDIATE``, taking the write lock
    up front so two writers never deadlock upgrading a read lock)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def insert_ignore(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> int:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` of ``rows``; returns the number of rows
    actually inserted (duplicates of stored rows, or within ``rows``, are skipped).

    PostgreSQL: one ``INSERT ... SELECT * FROM unnest(<one array per column>)`` statement — a
    short query with array parameters, several times faster than a many-row ``VALUES`` list,
    whose placeholders the driver must parse. SQLite: an executemany with ``RETURNING`` (it
    yields exactly the inserted rows).
    """
    if not rows:
        return 0
    cols = list(rows[0])
    if conn.dialect.name == "postgresql" and not any(
        isinstance(table.c[c].type, JSON) for c in cols
    ):
        prep = conn.dialect.identifier_preparer
        arrays = ", ".join(
            f"CAST(:a{i} AS {table.c[c].type.compile(dialect=conn.dialect)}[])"
            for i, c in enumerate(cols)
        )
        sql = (
            f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.quote(c) for c in cols)}) "
            f"SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(prep.quote(k) for k in keys)}) DO NOTHING"
        )
        params = {f"a{i}": [r[c] for r in rows] for i, c in enumerate(cols)}
        return int(conn.execute(text(sql), params).rowcount)
    stmt = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))
    stmt = stmt.returning(table.c[keys[0]])
    return len(conn.execute(stmt, list(rows)).all())


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The backend's ``insert()`` construct (which has ``on_conflict_do_*``)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
