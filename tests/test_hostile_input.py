"""What the server withstands: every probe of issue 13, as an attacker would send it.

Each test sends hostile input and checks that the answer is a 4xx problem (never a 500),
that it comes in bounded time, and that nothing was written. They run on both engines.
"""

import base64
import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.services.paging import CursorCodec
from tests.conftest import assert_problem


def forge(app: FastAPI, payload: bytes) -> str:
    """A cursor signed with the server's own secret, as someone who knows it could make."""
    codec = CursorCodec(app.state.settings.cursor_secret)
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{token}.{codec._sign(payload)}"


# ------------------------------------------------------------------------------ 1. cursors

FORGED_PAYLOADS: list[Any] = [
    {"s": "changes", "v": [{"n": "1e1000000"}]},
    {"s": "changes", "v": [{"n": "9" * 5000}]},
    {"s": "changes", "v": [10**40]},
    {"s": "changes", "v": ["x"]},
    {"s": "changes", "v": [None]},
    {"s": "changes", "v": [{"t": "not a time"}]},
    {"s": "changes", "v": [{"a": 1, "b": 2}]},
    {"s": "changes", "v": [[1, 2]]},
    {"s": "changes", "v": []},
    {"s": "changes"},
    {"v": [1]},
    {"s": 5, "v": [1]},
    [1, 2, 3],
    "a string",
]


@pytest.mark.parametrize("payload", FORGED_PAYLOADS, ids=lambda p: json.dumps(p)[:40])
def test_forged_changes_cursor_is_a_quick_400(
    app: FastAPI, client: TestClient, payload: Any
) -> None:
    cursor = forge(app, json.dumps(payload).encode())
    started = time.monotonic()
    response = client.get("/api/v1/changes", params={"since": cursor})
    assert time.monotonic() - started < 2
    body = assert_problem(response, 400)
    assert body["errors"][0]["pointer"] == "/query/since"


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[" * 20_000, b'{"s": "history", "v": [{"n": "1e1000000"}]}', b"\xff\xfe"],
    ids=["not-json", "deep", "huge-exponent", "not-utf8"],
)
def test_forged_history_cursor_is_a_400(app: FastAPI, client: TestClient, payload: bytes) -> None:
    cursor = forge(app, payload)
    response = client.get("/api/v1/policies/1/history", params={"cursor": cursor})
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/policies",
        "/api/v1/timeline",
        "/api/v1/sources/digichina-2020-12-21-ai-self-reliance/supports",
    ],
)
@pytest.mark.parametrize(
    "cursor",
    ["", ".", "x" * 30_000, "é.é", "abc.def", "%00", "eyJzIjoxfQ.0000"],
    ids=["empty", "dot", "long", "non-ascii", "bad-sig", "nul", "unsigned"],
)
def test_malformed_cursors_are_400s(client: TestClient, path: str, cursor: str) -> None:
    response = client.get(path, params={"cursor": cursor})
    if cursor == "":
        assert response.status_code == 200
        return
    assert_problem(response, 400)


def test_forged_list_cursor_of_wrong_types_is_a_400(app: FastAPI, client: TestClient) -> None:
    sort = "title"
    for values in ([None, 1], [1, 1], ["a", "b"], ["a", 2**70], [{"n": "1e999999"}, 1]):
        cursor = forge(app, json.dumps({"s": sort, "v": values}).encode())
        response = client.get("/api/v1/policies", params={"sort": sort, "cursor": cursor})
        assert_problem(response, 400)


def test_forged_search_cursor_is_a_400(app: FastAPI, client: TestClient) -> None:
    for values in (["x", 1], [1.0, "x"], [float("1e308") * 10, 1]):
        payload = json.dumps({"s": "score", "v": values}).encode()
        response = client.get("/api/v1/search", params={"q": "ai", "cursor": forge(app, payload)})
        assert_problem(response, 400)


def test_genuine_cursors_still_page(client: TestClient) -> None:
    first = client.get("/api/v1/changes", params={"limit": 5}).json()
    second = client.get("/api/v1/changes", params={"since": first["cursor"], "limit": 5})
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] > first["items"][-1]["id"]
    timeline = client.get("/api/v1/timeline", params={"limit": 3}).json()
    assert client.get(timeline["next"]).status_code == 200
