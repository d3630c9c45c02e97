"""SQLite and PostgreSQL give the same answers on the seed dataset."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from app.services import migrations
from app.services.bundle import import_bundle
from app.services.bundle_files import read_bundle_path
from tests.conftest import SEED, Database

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/policies", {"sort": "-announced,title", "limit": 200}),
    ("/api/v1/policies", {"q": "talent", "limit": 200}),
    ("/api/v1/policies", {"region": "CN-SH", "facet": ["kind", "topic", "region", "actor"]}),
    ("/api/v1/policies", {"announced_from": "2019-07", "announced_to": "2019-07"}),
    ("/api/v1/policies", {"in_force_on": "2023"}),
    ("/api/v1/actors", {"q": "university", "facet": ["kind", "region"], "limit": 200}),
    ("/api/v1/regions", {"q": "上海", "limit": 200}),
    ("/api/v1/goals", {"deadline_from": "2025", "facet": ["year", "policy"]}),
    ("/api/v1/stats", {}),
    ("/api/v1/timeline", {"limit": 200}),
    ("/api/v1/timeline", {"region": "cn", "topic": "talent", "limit": 200}),
    ("/api/v1/graph", {"root": "actor:ministry-of-education", "depth": 2}),
    ("/api/v1/graph", {"root": "region:cn", "depth": 3, "limit": 1000}),
    ("/api/v1/policies/moe-ai-higher-education-action-plan", {"expand": "relations"}),
    ("/api/v1/sources/digichina-2020-12-21-ai-self-reliance", {}),
]
SEARCHES = ["china", '"free trade zone"', "robot*", "人工智能", "Tianjin fund", "talent 2019"]


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    databases = [Database(name, tmp_path_factory.mktemp(name)) for name in ("sqlite", "postgresql")]
    try:
        result = {}
        for db in databases:
            migrations.upgrade(db.url)
            engine = db.engine()
            with Session(engine) as session:
                data, source_map = read_bundle_path(SEED)
                import_bundle(session=session, data=data, source_map=source_map)
            engine.dispose()
            result[db.engine_name] = TestClient(create_app(Settings(database_url=db.url)))
        yield result
    finally:
        for db in databases:
            db.drop()


def _without_volatile(value: Any) -> Any:
    """Drop what legitimately differs between two databases: ids and timestamps."""
    if isinstance(value, dict):
        return {
            k: _without_volatile(v)
            for k, v in value.items()
            if k not in ("id", "created_at", "updated_at", "next")
        }
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


@pytest.mark.parametrize(("url", "params"), QUERIES)
def test_same_answers(clients: dict[str, TestClient], url: str, params: dict[str, Any]) -> None:
    sqlite = clients["sqlite"].get(url, params=params)
    postgres = clients["postgresql"].get(url, params=params)
    assert sqlite.status_code == postgres.status_code == 200, (sqlite.text, postgres.text)
    assert _without_volatile(sqlite.json()) == _without_volatile(postgres.json())


@pytest.mark.parametrize("q", SEARCHES)
def test_same_search_hits(clients: dict[str, TestClient], q: str) -> None:
    # Both rank by relevance but with different formulas (bm25 and ts_rank), so the hits
    # agree while their order may differ.
    found = {
        name: client.get("/api/v1/search", params={"q": q, "limit": 200}).json()
        for name, client in clients.items()
    }
    slugs = {name: [h["slug"] for h in body["items"]] for name, body in found.items()}
    assert set(slugs["sqlite"]) == set(slugs["postgresql"])
    assert found["sqlite"]["total"] == found["postgresql"]["total"] > 0
