"""Engine and session factory built from Settings; nothing connects at import time."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


def _json_dumps(value: Any) -> str:
    # Keep non-ASCII names readable in the database and searchable with LIKE.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
    # SAVEPOINTs and rollbacks behave as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _map_sqlite_file(dbapi_connection: Any, _record: Any) -> None:
    # Read through the OS page cache (shared by every connection) instead of copying pages
    # into each connection's own small cache: a server's lookups need fewer reads.
    dbapi_connection.execute("PRAGMA mmap_size=1073741824")


def _begin_sqlite(connection: Connection) -> None:
    # A transaction that will write takes the write lock at once (IMMEDIATE): a deferred one
    # that read first could not upgrade after another writer committed ("database is locked").
    write = connection.get_execution_options().get("policydb_write")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(database_url: str, *, serving: bool = False, **kwargs: Any) -> Engine:
    """An engine with the per-engine settings policydb relies on (FKs and WAL on SQLite).

    ``serving``: the engine of a long-running server, whose many pooled connections read
    the SQLite file through a shared memory map (a one-off CLI run keeps its memory small).
    """
    engine = create_engine(database_url, json_serializer=_json_dumps, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        if serving:
            event.listen(engine, "connect", _map_sqlite_file)
        event.listen(engine, "begin", _begin_sqlite)
        event.listen(engine, "checkin", _clear_progress_handler)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def set_deadline(session: Session, milliseconds: int) -> None:
    """Bound all database work of this session (a request) to ``milliseconds`` from now."""
    session.info["deadline"] = time.monotonic() + milliseconds / 1000


def apply_deadline(connection: Connection, deadline: float | None) -> None:
    """Make the database abort statements running past ``deadline`` (None: no bound).

    SQLite calls a progress handler every 100,000 VM steps (a millisecond or so of work);
    PostgreSQL gets a transaction-local statement_timeout. Either way the error that results
    is reported as a 503 "query took too long" (app/api/problems.py).
    """
    if connection.dialect.name == "postgresql":
        remaining = 0 if deadline is None else max(1, int((deadline - time.monotonic()) * 1000))
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {remaining}")
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is None:
        return
    if deadline is None:
        dbapi.set_progress_handler(None, 0)
    else:
        # The handler is Python, so each call takes the GIL back from a running statement:
        # every 2,000 steps made list pages and facets ~20% slower under load.
        dbapi.set_progress_handler(lambda: int(time.monotonic() > deadline), 100_000)


def is_timeout(error: Exception) -> bool:
    """Whether a database error means a statement ran out of time."""
    message = str(error).lower()
    return "interrupted" in message or "statement timeout" in message


class BudgetExceeded(Exception):
    """A bounded query ran out of time."""


@contextmanager
def time_budget(session: Session, milliseconds: int) -> Iterator[None]:
    """Abort the statements run inside after ``milliseconds`` (raising BudgetExceeded).

    Runs inside a SAVEPOINT, so a timed-out statement leaves the transaction usable; the
    request's own deadline (if sooner) still applies, and is restored afterwards.
    """
    connection = session.connection()
    request_deadline = session.info.get("deadline")
    deadline = time.monotonic() + milliseconds / 1000
    if request_deadline is not None:
        deadline = min(deadline, request_deadline)
    nested = connection.begin_nested()
    try:
        apply_deadline(connection, deadline)
        yield
        apply_deadline(connection, request_deadline)
        nested.commit()
    except (OperationalError, DBAPIError) as exc:
        nested.rollback()
        apply_deadline(connection, request_deadline)
        if is_timeout(exc):
            raise BudgetExceeded from None
        raise


@event.listens_for(Session, "after_begin")
def _bound_transaction(session: Session, _transaction: Any, connection: Connection) -> None:
    deadline = session.info.get("deadline")
    if deadline is not None:
        apply_deadline(connection, deadline)


def _clear_progress_handler(dbapi_connection: Any, _record: Any) -> None:
    # A pooled SQLite connection must not carry one request's deadline into the next.
    dbapi_connection.set_progress_handler(None, 0)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that is always closed; the caller commits."""
    session = factory()
    try:
        yield session
    finally:
        session.close()
