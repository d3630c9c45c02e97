"""Conditional requests, change history, as-of reads, limits, scopes and hardening."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import SessionDep, get_session_factory
from app.config import Settings
from app.db import is_timeout, set_deadline
from app.main import create_app
from app.services import keys
from tests.api.test_records import new_policy
from tests.conftest import Database, assert_problem

GOAL = "/api/v1/goals/tianjin-ai-hub-2020"


def etag(client: TestClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    value: str = response.headers["etag"]
    assert value.startswith('"') and value.endswith('"')
    return value


def test_etag_and_if_none_match(client: TestClient, auth: dict[str, str]) -> None:
    tag = etag(client, GOAL)
    assert etag(client, GOAL) == tag  # stable while nothing changes
    cached = client.get(GOAL, headers={"If-None-Match": tag})
    assert cached.status_code == 304 and cached.headers["etag"] == tag and not cached.content
    assert client.get(GOAL, headers={"If-None-Match": '"other"'}).status_code == 200
    client.patch(GOAL, json={"status": "achieved"}, headers=auth)
    assert etag(client, GOAL) != tag


def test_etag_changes_when_links_change(client: TestClient, auth: dict[str, str]) -> None:
    url = "/api/v1/policies/tianjin-100bn-rmb-ai-fund"
    before = etag(client, url)
    policy = client.get(url).json()
    assert len(policy["actors"]) > 1
    policy["actors"] = policy["actors"][:1]
    assert client.put(url, json=policy, headers=auth).status_code == 200
    assert etag(client, url) != before


def test_if_match_lets_exactly_the_current_version_write(
    client: TestClient, auth: dict[str, str]
) -> None:
    tag = etag(client, GOAL)
    first = client.patch(GOAL, json={"status": "achieved"}, headers={**auth, "If-Match": tag})
    assert first.status_code == 200
    new_tag = first.headers["etag"]
    assert new_tag == etag(client, GOAL) != tag
    stale = client.patch(GOAL, json={"status": "missed"}, headers={**auth, "If-Match": tag})
    assert_problem(stale, 412)
    assert stale.headers["etag"] == new_tag
    assert client.get(GOAL).json()["status"] == "achieved"
    body = client.get(GOAL).json()
    assert_problem(client.put(GOAL, json=body, headers={**auth, "If-Match": tag}), 412)
    assert_problem(client.delete(GOAL, headers={**auth, "If-Match": tag}), 412)
    assert client.patch(GOAL, json={}, headers={**auth, "If-Match": "*"}).status_code == 200
    assert client.delete(GOAL, headers={**auth, "If-Match": new_tag}).status_code == 204


def test_if_match_can_be_required(database: Database, session_factory: Any) -> None:
    app = create_app(Settings(database_url=database.url, require_if_match=True))
    app.dependency_overrides[get_session_factory] = lambda: session_factory
    with session_factory() as session:
        _key, secret = keys.create_key(session=session, name="strict")
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        problem = assert_problem(client.patch(GOAL, json={}, headers=auth), 428)
        assert "If-Match" in problem["detail"]
        assert_problem(client.delete(GOAL, headers=auth), 428)
        tag = etag(client, GOAL)
        ok = client.patch(GOAL, json={"status": "achieved"}, headers={**auth, "If-Match": tag})
        assert ok.status_code == 200


def history(client: TestClient, url: str) -> list[dict[str, Any]]:
    response = client.get(f"{url}/history", params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_every_write_is_in_the_history(client: TestClient, auth: dict[str, str]) -> None:
    seeded = history(client, GOAL)
    assert [(e["action"], e["changed_by"]) for e in seeded] == [("create", "seed")]
    assert seeded[0]["fields"]["deadline"] == {"old": None, "new": "2020"}
    client.patch(GOAL, json={"status": "achieved", "stage": 2}, headers=auth)
    latest = history(client, GOAL)[0]
    assert latest["action"] == "update"
    assert latest["changed_by"].startswith("key:test-")
    assert latest["fields"] == {
        "status": {"old": "unknown", "new": "achieved"},
        "stage": {"old": None, "new": 2},
    }
    client.delete(GOAL, headers=auth)
    entries = history(client, GOAL)  # still readable after deletion
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert history(client, f"/api/v1/goals/{entries[0]['record_id']}") == entries


def test_link_changes_and_force_deletes_are_recorded(
    client: TestClient, auth: dict[str, str]
) -> None:
    url = "/api/v1/policies/apple-guizhou-data-center"
    policy = client.get(url).json()
    policy["topics"] = ["investment"]
    client.put(url, json=policy, headers=auth)
    assert set(history(client, url)[0]["fields"]) == {"topics"}
    client.delete("/api/v1/actors/guizhou-cloud-big-data?force=true", headers=auth)
    change = history(client, url)[0]
    assert change["action"] == "update" and set(change["fields"]) == {"actors"}
    assert "guizhou-cloud-big-data" in str(change["fields"]["actors"]["old"])


def test_as_of_reads_the_past(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/policies", json=new_policy(), headers=auth)
    assert created.status_code == 201
    time.sleep(0.01)
    moment = client.get("/api/v1/policies/test-policy/history").json()["items"][0]["changed_at"]
    time.sleep(0.01)
    client.patch("/api/v1/policies/test-policy", json={"title": "Later title"}, headers=auth)
    past = client.get("/api/v1/policies/test-policy", params={"as_of": moment}).json()
    assert past["record"]["title"] == "Test policy"
    assert past["changed_by"].startswith("key:")
    client.delete("/api/v1/policies/test-policy", headers=auth)
    assert_problem(client.get("/api/v1/policies/test-policy"), 404)
    again = client.get("/api/v1/policies/test-policy", params={"as_of": moment}).json()
    assert again["record"]["title"] == "Test policy"
    now = client.get("/api/v1/policies/test-policy", params={"as_of": "2999-01-01T00:00:00Z"})
    assert "deleted" in assert_problem(now, 404)["detail"]
    early = client.get("/api/v1/policies/test-policy", params={"as_of": "2000-01-01T00:00:00"})
    assert_problem(early, 404)
    assert_problem(client.get(GOAL, params={"as_of": "yesterday"}), 400)


def test_changes_feed_polls_only_what_is_new(client: TestClient, auth: dict[str, str]) -> None:
    first = client.get("/api/v1/changes", params={"limit": 1000}).json()
    assert first["items"] and first["cursor"]
    ids = [e["id"] for e in first["items"]]
    assert ids == sorted(ids)
    assert first["next"] is None  # caught up
    quiet = client.get("/api/v1/changes", params={"since": first["cursor"]}).json()
    assert quiet["items"] == [] and quiet["cursor"] == first["cursor"] and quiet["next"] is None
    later = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    client.patch(GOAL, json={"status": "achieved"}, headers=auth)
    fresh = client.get("/api/v1/changes", params={"since": quiet["cursor"]}).json()
    expected = [("policy", "test-policy", "create"), ("goal", "tianjin-ai-hub-2020", "update")]
    assert [(e["type"], e["slug"], e["action"]) for e in fresh["items"]] == expected
    by_time = client.get("/api/v1/changes", params={"since": later}).json()
    assert by_time["items"] == fresh["items"] and by_time["cursor"] == fresh["cursor"]
    assert client.get("/api/v1/changes", params={"since": "2999-01-01T00:00:00Z"}).json() == {
        "items": [],
        "next": None,
        "cursor": fresh["cursor"],
    }
    page = client.get("/api/v1/changes", params={"limit": 2}).json()
    assert len(page["items"]) == 2
    assert client.get(page["next"]).json()["items"][0]["id"] == page["items"][1]["id"] + 1
    forged = assert_problem(client.get("/api/v1/changes", params={"since": "forged.cursor"}), 400)
    assert forged["errors"][0]["pointer"] == "/query/since"


def test_scopes(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    _key, secret = keys.create_key(session=session, name="writer")
    writer = {"Authorization": f"Bearer {secret}"}
    assert client.patch(GOAL, json={"status": "achieved"}, headers=writer).status_code == 200
    problem = assert_problem(client.post("/api/v1/import", json={}, headers=writer), 403)
    assert "admin" in problem["detail"]
    assert_problem(client.get("/api/v1/keys", headers=writer), 403)
    created = client.post(
        "/api/v1/keys", json={"name": "robot", "scope": "admin"}, headers=auth
    ).json()
    assert created["key"].startswith("pdb_") and created["scope"] == "admin"
    listed = client.get("/api/v1/keys", headers=auth).json()
    assert listed["total"] == len(listed["items"]) and listed["next"] is None
    assert "robot" in [k["name"] for k in listed["items"]] and "key" not in listed["items"][0]
    assert all(k["created_at"].endswith("Z") for k in listed["items"])  # UTC, one style
    robot = {"Authorization": f"Bearer {created['key']}"}
    assert client.post("/api/v1/import", json={}, headers=robot).status_code == 200
    assert client.delete("/api/v1/keys/robot", headers=auth).status_code == 204
    assert_problem(client.post("/api/v1/import", json={}, headers=robot), 403)
    assert_problem(client.post("/api/v1/keys", json={"name": "robot"}, headers=auth), 409)
    assert_problem(client.delete("/api/v1/keys/nobody", headers=auth), 404)


def test_security_headers_and_request_ids(client: TestClient) -> None:
    response = client.get("/api/v1/policies", params={"limit": 1})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert len(response.headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id; <script>"})
    assert unsafe.headers["x-request-id"] != "bad id; <script>"
    assert (
        "access-control-allow-origin"
        not in client.get("/healthz", headers={"Origin": "https://example.org"}).headers
    )
    assert "errors" not in assert_problem(client.get("/api/v1/policies/nope"), 404)


@pytest.fixture
def limited_app(database: Database, session_factory: sessionmaker[Session]) -> FastAPI:
    app = create_app(
        Settings(
            database_url=database.url,
            rate_limit_per_second=0.5,
            rate_limit_burst=3,
            max_body_bytes=4096,
            max_record_body_bytes=4096,
            query_timeout_ms=100,
            cors_origins=["https://example.org"],
        )
    )
    app.dependency_overrides[get_session_factory] = lambda: session_factory

    @app.get("/slow-for-tests")
    def slow(session: SessionDep) -> int:
        return int(session.execute(text(_SLOW_SQL[session.get_bind().dialect.name])).scalar_one())

    return app


_SLOW_SQL = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 500000000) SELECT count(*) FROM c",
    "postgresql": "SELECT count(*) FROM generate_series(1, 500000000)",
}


def test_rate_limit(limited_app: FastAPI, auth: dict[str, str]) -> None:
    with TestClient(limited_app) as client:
        statuses = [client.get("/api/v1/vocabularies").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/v1/vocabularies")
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        # An unverified key is no one: the request still counts against its address.
        forged = {"Authorization": "Bearer pdb_someone-else"}
        assert_problem(client.get("/api/v1/vocabularies", headers=forged), 429)
        # A verified key has a bucket of its own; probes are never limited.
        assert client.get("/api/v1/vocabularies", headers=auth).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_body_limits(limited_app: FastAPI, auth: dict[str, str]) -> None:
    with TestClient(limited_app) as client:
        big = {"slug": "x", "name": "y" * 5000, "kind": "city"}
        assert_problem(client.post("/api/v1/regions", json=big, headers=auth), 413)

        def chunks() -> Iterator[bytes]:
            yield b'{"slug": "x", "name": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'", "kind": "city"}'

        chunked = client.post(
            "/api/v1/regions",
            content=chunks(),
            headers={**auth, "Content-Type": "application/json"},
        )
        assert_problem(chunked, 413)


def test_slow_queries_are_cut_off_with_503(limited_app: FastAPI) -> None:
    with TestClient(limited_app) as client:
        started = time.monotonic()
        response = client.get("/slow-for-tests")
        assert time.monotonic() - started < 5
        problem = assert_problem(response, 503)
        assert "took longer" in problem["detail"]
        assert response.headers["retry-after"]
        assert "SELECT" not in response.text
        assert client.get("/api/v1/goals", params={"limit": 1}).status_code == 200


def test_deadline_interrupts_the_statement(session: Session) -> None:
    set_deadline(session, 50)
    session.commit()  # the deadline applies from the next transaction on
    with pytest.raises(OperationalError) as caught:
        session.execute(text(_SLOW_SQL[session.get_bind().dialect.name]))
    assert is_timeout(caught.value)


def test_cors_when_configured(limited_app: FastAPI) -> None:
    with TestClient(limited_app) as client:
        response = client.get("/healthz", headers={"Origin": "https://example.org"})
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        assert "etag" in response.headers["access-control-expose-headers"].lower()
