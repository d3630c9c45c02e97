"""Test fixtures: the same suite runs on SQLite and on PostgreSQL.

Each engine gets a database of its own, migrated once and seeded once per session; every
test then runs inside a transaction that is rolled back (code that commits only releases a
SAVEPOINT), and the app reaches that transaction through ``dependency_overrides``.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import get_session_factory
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.services import keys as key_service
from app.services import migrations
from app.services.bundle import import_bundle
from app.services.bundle_files import read_bundle_path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seed_data"
# The article's text is not part of the project; it lives in shared/ beside the checkout.
ARTICLE = Path(
    os.environ.get(
        "POLICYDB_TEST_ARTICLE",
        ROOT.parent / "shared" / "sources" / "digichina-2020-12-21-ai-self-reliance.txt",
    )
)
POSTGRES_URL_VAR = "POLICYDB_TEST_POSTGRES_URL"


class Database:
    """A throwaway database on one engine: created for the run, dropped after it."""

    def __init__(self, engine_name: str, tmp: Path) -> None:
        self.engine_name = engine_name
        self._admin: Engine | None = None
        if engine_name == "sqlite":
            self.url = f"sqlite:///{tmp / f'{uuid.uuid4().hex}.sqlite3'}"
        else:
            base = os.environ.get(POSTGRES_URL_VAR)
            if not base:
                if os.environ.get("CI"):
                    pytest.fail(f"{POSTGRES_URL_VAR} must be set in CI")
                pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_URL_VAR} to run them")
            name = f"policydb_test_{uuid.uuid4().hex[:12]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.url = make_url(base).set(database=name).render_as_string(hide_password=False)
            self.name = name

    def engine(self) -> Engine:
        return make_engine(self.url, connect_args=_connect_args(self.url))

    def drop(self) -> None:
        if self._admin is not None:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


def _connect_args(url: str) -> dict[str, Any]:
    # The app runs sync routes in worker threads; the test connection is shared with them.
    return {"check_same_thread": False} if url.startswith("sqlite") else {}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    db = Database(request.param, tmp_path_factory.mktemp(request.param))
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="session")
def engine(database: Database) -> Iterator[Engine]:
    """The engine's database migrated to head and loaded with the seed dataset."""
    migrations.upgrade(database.url)
    engine = database.engine()
    with Session(engine) as session:
        data, source_map = read_bundle_path(SEED)
        import_bundle(session=session, data=data, source_map=source_map, changed_by="seed")
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture(scope="session")
def app(database: Database) -> FastAPI:
    # One app serves the whole session: its per-client rate limit would throttle the suite
    # (tests/api/test_safe_writes.py and tests/test_hostile_input.py test it on apps of their own).
    return create_app(Settings(database_url=database.url, rate_limit_per_second=0))


@pytest.fixture
def client(app: FastAPI, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app.dependency_overrides[get_session_factory] = lambda: session_factory
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    """Headers with a valid admin API key (created inside the test's transaction)."""
    _key, secret = key_service.create_key(
        session=session, name=f"test-{uuid.uuid4().hex[:8]}", scope="admin"
    )
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A brand-new, unmigrated database of its own (for migrations and the CLI)."""
    db = Database(request.param, tmp_path)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="session")
def article_path() -> Path:
    """The source article's full text; skipped (failed in CI) where it is not at hand."""
    if not ARTICLE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the article text is missing: {ARTICLE}")
        pytest.skip(f"article text not found at {ARTICLE}; set POLICYDB_TEST_ARTICLE")
    return ARTICLE
