"""Engine and session factory built from Settings; nothing connects at import time."""

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
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


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine with the per-engine settings policydb relies on (FKs and WAL on SQLite)."""
    engine = create_engine(database_url, json_serializer=_json_dumps, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that is always closed; the caller commits."""
    session = factory()
    try:
        yield session
    finally:
        session.close()
