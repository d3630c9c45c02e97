"""What the server withstands: every probe of issue 13, as an attacker would send it.

Each test sends hostile input and checks that the answer is a 4xx problem (never a 500),
that it comes in bounded time, and that nothing was written. They run on both engines.
The sections follow the issue's probes:

1. forged and malformed paging cursors; the per-installation cursor secret
2. the rate limit: random Authorization headers, X-Forwarded-For, probes
3, 6. deeply nested JSON and YAML, YAML aliases and huge integers, too many values
4. writes refused before their body is read; body sizes
5. errors are not amplified (caps, errors_total)
7. search snippets are escaped HTML
8. path keys, ids and NULs; control characters in written text
9. CSV formula injection (lists, exports, lossless import, BOM)
10. GraphML stays well-formed
11. 405 Allow, Host, key names with "/", bounded fields, expand=relations, import budget

The last part runs `policydb serve` under a 1 GB address-space cap and sends the body
attacks to it, checking that it answers each with a problem and stays alive.
"""

import base64
import csv
import io
import json
import os
import resource
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import get_session_factory
from app.cli import secret_warning
from app.config import Settings
from app.main import create_app
from app.models import InstallationSecret, Region
from app.services import keys as key_service
from app.services import migrations
from app.services.bundle import import_bundle
from app.services.bundle_files import read_bundle_path, read_csv_folder, write_csv_folder
from app.services.installation import KNOWN_CURSOR_SECRETS, installation_secret, is_weak_secret
from app.services.paging import CursorCodec
from bench.soak import worker_pids
from tests.conftest import ROOT, SEED, Database, assert_problem


@pytest.fixture(scope="module")
def app(database: Database) -> FastAPI:
    """The app without its rate limit: these tests send hundreds of requests in a second
    (the limit itself is tested below with an app of its own)."""
    return create_app(Settings(database_url=database.url, rate_limit_per_second=0))


def forge(client: TestClient, payload: bytes) -> str:
    """A cursor signed with the server's own secret, as someone who knew it could make."""
    client.get("/api/v1/changes", params={"limit": 1})  # the codec is made on first use
    codec: CursorCodec = client.app.state.cursor_codec  # type: ignore[attr-defined]
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
def test_forged_changes_cursor_is_a_quick_400(client: TestClient, payload: Any) -> None:
    cursor = forge(client, json.dumps(payload).encode())
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
def test_forged_history_cursor_is_a_400(client: TestClient, payload: bytes) -> None:
    cursor = forge(client, payload)
    response = client.get("/api/v1/policies/1/history", params={"cursor": cursor})
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/policies",
        "/api/v1/timeline",
        "/api/v1/sources/digichina-2020-12-21-ai-self-reliance/supports",
        "/api/v1/regions/cn/policies",
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


def test_forged_list_cursor_of_wrong_types_is_a_400(client: TestClient) -> None:
    sort = "title"
    for values in ([None, 1], [1, 1], ["a", "b"], ["a", 2**70], [{"n": "1e999999"}, 1]):
        cursor = forge(client, json.dumps({"s": sort, "v": values}).encode())
        response = client.get("/api/v1/policies", params={"sort": sort, "cursor": cursor})
        assert_problem(response, 400)


def test_forged_search_cursor_is_a_400(client: TestClient) -> None:
    for values in (["x", 1], [1.0, "x"], [float("1e308") * 10, 1]):
        payload = json.dumps({"s": "score", "v": values}).encode()
        response = client.get(
            "/api/v1/search", params={"q": "ai", "cursor": forge(client, payload)}
        )
        assert_problem(response, 400)


def test_genuine_cursors_still_page(client: TestClient) -> None:
    first = client.get("/api/v1/changes", params={"limit": 5}).json()
    second = client.get("/api/v1/changes", params={"since": first["cursor"], "limit": 5})
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] > first["items"][-1]["id"]
    timeline = client.get("/api/v1/timeline", params={"limit": 3}).json()
    assert client.get(timeline["next"]).status_code == 200


# ---------------------------------------------------------- 8. keys, ids and NULs in URLs

RESOURCES = ["policies", "actors", "regions", "goals", "sources"]
BAD_KEYS = ["²", "①", "99999999999999999999", str(2**31), str(2**63), "0", "%00", "a%00b", "Ab"]


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("resource", RESOURCES)
def test_path_keys_that_name_nothing_are_404s(client: TestClient, resource: str, key: str) -> None:
    for path in (f"/api/v1/{resource}/{key}", f"/api/v1/{resource}/{key}/history"):
        assert_problem(client.get(path), 404)
    assert_problem(client.get(f"/api/v1/sources/{key}/supports"), 404)
    assert_problem(client.get(f"/api/v1/regions/{key}/policies"), 404)
    assert_problem(client.get(f"/api/v1/actors/{key}/policies"), 404)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_writes_to_bad_keys_are_404s(client: TestClient, auth: dict[str, str], key: str) -> None:
    assert_problem(client.delete(f"/api/v1/regions/{key}", headers=auth), 404)
    patch = {**auth, "Content-Type": "application/merge-patch+json"}
    assert_problem(client.patch(f"/api/v1/regions/{key}", content=b"{}", headers=patch), 404)


@pytest.mark.parametrize(
    "query",
    [
        "region=cn%00",
        "q=ai%00",
        "topic=%00",
        "actor=a%00&actor_role=issuer",
        "sort=title%00",
    ],
)
def test_nul_in_filters_is_a_400(client: TestClient, query: str) -> None:
    body = assert_problem(client.get(f"/api/v1/policies?{query}"), 400)
    assert body["errors"][0]["pointer"].startswith("/query/")
    assert_problem(client.get(f"/api/v1/search?{query.replace('region', 'q')}"), 400)
    assert_problem(client.get(f"/api/v1/graph?root=policy:x%00&{query}"), 400)


# ------------------------------------------------ written text every output format can carry

UNSAFE_TEXTS = ["a\x00b", "bell\x07", "cr\rlf", "esc\x1b[31m", "nonchar\uffff", "nonchar\ufffe"]


def _count(client: TestClient, resource: str) -> int:
    total: int = client.get(f"/api/v1/{resource}", params={"limit": 0}).json()["total"]
    return total


@pytest.mark.parametrize("text", UNSAFE_TEXTS, ids=repr)
def test_control_characters_are_refused_on_write(
    client: TestClient, auth: dict[str, str], text: str
) -> None:
    before = _count(client, "regions")
    region: dict[str, Any] = {"slug": "ctl-region", "name": f"Zone {text}", "kind": "city"}
    body = assert_problem(client.post("/api/v1/regions", json=region, headers=auth), 422)
    assert body["errors"][0]["pointer"] == "/body/name"
    assert "control characters" in body["errors"][0]["detail"]
    region = {"slug": "ctl-region", "name": "Zone", "kind": "city", "aliases": [text]}
    body = assert_problem(client.post("/api/v1/regions", json=region, headers=auth), 422)
    assert body["errors"][0]["pointer"] == "/body/aliases/0"
    region = {"slug": "ctl-region", "name": "Zone", "kind": "city", "names": {"en": text}}
    assert_problem(client.post("/api/v1/regions", json=region, headers=auth), 422)
    patch = {**auth, "Content-Type": "application/merge-patch+json"}
    response = client.patch(
        "/api/v1/regions/tianjin", content=json.dumps({"description": text}), headers=patch
    )
    assert_problem(response, 422)
    record = {"slug": "ctl-region", "name": "Zone", "kind": "city", "aliases": [text]}
    bundle = {"regions": [record]}
    assert_problem(client.post("/api/v1/import", json=bundle, headers=auth), 422)
    assert _count(client, "regions") == before
    assert client.get("/api/v1/regions/tianjin").json().get("description") != text


def test_nul_in_written_slugs_and_references_is_a_422(
    client: TestClient, auth: dict[str, str]
) -> None:
    before = _count(client, "regions")
    for region in (
        {"slug": "nul\u0000town", "name": "Nul", "kind": "city"},
        {"slug": "nul-town", "name": "Nul", "kind": "city", "parent": "cn\u0000"},
    ):
        body = json.dumps(region).encode()  # the NUL travels as the escape \u0000
        assert b"\\u0000" in body
        headers = {**auth, "Content-Type": "application/json"}
        response = client.post("/api/v1/regions", content=body, headers=headers)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["pointer"] in ("/body/slug", "/body/parent")
    assert _count(client, "regions") == before


def test_lone_surrogates_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    body = b'{"slug": "ctl-region", "name": "Zone \\ud800", "kind": "city"}'
    headers = {**auth, "Content-Type": "application/json"}
    assert_problem(client.post("/api/v1/regions", content=body, headers=headers), 422)


def test_tab_and_newline_are_fine(client: TestClient, auth: dict[str, str]) -> None:
    region = {"slug": "tab-region", "name": "Zone", "kind": "city", "description": "a\tb\nc"}
    assert client.post("/api/v1/regions", json=region, headers=auth).status_code == 201


# ------------------------------------------------------------------- 11. bounded fields


def test_summary_and_identifiers_are_bounded(client: TestClient, auth: dict[str, str]) -> None:
    policy: dict[str, Any] = {
        "slug": "too-big",
        "title": "T",
        "kind": "plan",
        "summary": "x" * 20_001,
    }
    body = assert_problem(client.post("/api/v1/policies", json=policy, headers=auth), 422)
    assert body["errors"][0]["pointer"] == "/body/summary"
    identifiers = [{"scheme": "s", "value": str(i)} for i in range(1000)]
    policy = {"slug": "too-big", "title": "T", "kind": "plan", "identifiers": identifiers}
    body = assert_problem(client.post("/api/v1/policies", json=policy, headers=auth), 422)
    assert body["errors"] == [
        {"pointer": "/body/identifiers", "detail": body["errors"][0]["detail"]}
    ]
    schema = client.get("/api/v1/bundle.schema.json").json()
    policy_schema = schema["$defs"]["PolicyRecord"]["properties"]
    assert policy_schema["identifiers"]["maxItems"] == 50
    assert policy_schema["summary"]["anyOf"][0]["maxLength"] == 20_000
    openapi = client.get("/openapi.json").json()["components"]["schemas"]
    assert openapi["PolicyRecord"]["properties"]["topics"]["maxItems"] == 50


def test_a_key_named_with_a_slash_can_be_revoked(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/keys", json={"name": "team/a"}, headers=auth)
    assert created.status_code == 201, created.text
    assert client.delete("/api/v1/keys/team/a", headers=auth).status_code == 204
    revoked = {"Authorization": f"Bearer {created.json()['key']}"}
    region = {"slug": "x-region", "name": "X", "kind": "city"}
    assert_problem(client.post("/api/v1/regions", json=region, headers=revoked), 403)
    assert_problem(client.delete("/api/v1/keys/a%00b", headers=auth), 404)
    assert_problem(client.post("/api/v1/keys", json={"name": "a\x00b"}, headers=auth), 422)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/policies", "GET, HEAD, POST"),
        ("POST", "/api/v1/policies/tianjin-100bn-rmb-ai-fund", "DELETE, GET, HEAD, PATCH, PUT"),
        ("DELETE", "/api/v1/search", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
    ],
)
def test_405_lists_the_allowed_methods(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


# ------------------------------------------------------------------ 7. search snippets


def test_search_snippets_are_escaped_html(client: TestClient, auth: dict[str, str]) -> None:
    policy = {
        "slug": "zebra-xss",
        "title": "Zebra <script>alert(1)</script> <svg/onload=alert(3)//",
        "kind": "plan",
        "summary": 'Zebra <img src=x onerror="alert(2)"> and a literal <mark>fake</mark> tag; '
        "zebra 1 <2 && <svg/onload=alert(3)//",
    }
    assert client.post("/api/v1/policies", json=policy, headers=auth).status_code == 201
    hits = client.get("/api/v1/search", params={"q": "zebra"}).json()["items"]
    assert hits, "the new policy is found"
    for hit in hits:
        snippet = hit["snippet"]
        assert "<script" not in snippet and "<img" not in snippet, snippet
        assert "<mark>fake" not in snippet, snippet
        stripped = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped, snippet
        assert "<mark>Zebra</mark>" in snippet, snippet
    # The text is there, as text: escaped (SQLite), or with the tags dropped by
    # PostgreSQL's parser, which reads them as markup and leaves them out of headlines.
    assert any("alert(" in hit["snippet"] for hit in hits)


# -------------------------------------------------------------- 9. CSV formula injection

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "'quoted"]


def _formula_region(client: TestClient, auth: dict[str, str]) -> None:
    region = {
        "slug": "formula-town",
        "name": FORMULAS[0],
        "kind": "city",
        "aliases": FORMULAS[1:3],
        "description": FORMULAS[3],
        "citations": [
            {
                "source": "digichina-2020-12-21-ai-self-reliance",
                "section": FORMULAS[4],
                "excerpt": FORMULAS[5],
                "note": "=1+1",
            }
        ],
    }
    response = client.post("/api/v1/regions", json=region, headers=auth)
    assert response.status_code == 201, response.text


def test_csv_lists_neutralise_formulas(client: TestClient, auth: dict[str, str]) -> None:
    _formula_region(client, auth)
    text = client.get("/api/v1/regions", params={"format": "csv", "kind": "city"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if r["slug"] == "formula-town")
    assert row["name"] == "'" + FORMULAS[0]
    assert row["description"] == "'" + FORMULAS[3]
    for cell in (c for r in rows for c in r.values()):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_csv_export_neutralises_formulas_and_reads_back_losslessly(
    client: TestClient, auth: dict[str, str], session: Session, tmp_path: Path
) -> None:
    _formula_region(client, auth)
    before = client.get("/api/v1/regions/formula-town").json()
    write_csv_folder(session, tmp_path)
    for path in tmp_path.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path, cell)
    # Excel saves CSV with a byte order mark: it is read past, not taken for a column name.
    for path in tmp_path.glob("*.csv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    data, _source_map = read_csv_folder(tmp_path)
    region = next(r for r in data["regions"] if r["slug"] == "formula-town")
    assert region["name"] == before["name"] == FORMULAS[0]
    assert region["description"] == FORMULAS[3]
    assert region["aliases"] == FORMULAS[1:3]
    assert region["citations"][0]["excerpt"] == FORMULAS[5]
    report = import_bundle(session=session, data=data, dry_run=True)
    assert report.counts["regions"].unchanged >= 1
    assert report.counts["regions"].created == 0 and report.counts["regions"].updated == 0


# ------------------------------------------------------------- 10. GraphML stays XML


def test_graphml_is_well_formed_even_for_stored_control_characters(
    client: TestClient, session: Session
) -> None:
    # Such text can no longer be written through the API; rows from before still render.
    session.execute(
        update(Region).where(Region.slug == "tianjin").values(name="Tian\x01jin \uffff\x0b")
    )
    session.commit()
    response = client.get(
        "/api/v1/graph", params={"root": "region:tianjin", "format": "graphml", "depth": 1}
    )
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    labels = [d.text for d in root.iter("{http://graphml.graphdrawing.org/xmlns}data")]
    assert any(label and label.startswith("Tian") for label in labels)


# ------------------------------------------------------------------ 2. the rate limit


@pytest.fixture
def limited_client(
    database: Database, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """An app that allows 3 requests, then 1 every 20 seconds, per client (slow enough that a
    loaded machine, or coverage measurement, never refills a token between requests)."""
    limited = create_app(
        Settings(database_url=database.url, rate_limit_per_second=0.05, rate_limit_burst=3)
    )
    limited.dependency_overrides[get_session_factory] = lambda: session_factory
    with TestClient(limited, raise_server_exceptions=False) as client:
        yield client


def test_random_authorization_headers_do_not_escape_the_rate_limit(
    limited_client: TestClient,
) -> None:
    statuses = [
        limited_client.get(
            "/api/v1/vocabularies", headers={"Authorization": f"Bearer pdb_{i}"}
        ).status_code
        for i in range(6)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429, 429]


def test_forwarded_for_does_not_escape_the_rate_limit(limited_client: TestClient) -> None:
    statuses = [
        limited_client.get(
            "/api/v1/vocabularies", headers={"X-Forwarded-For": f"10.0.0.{i}"}
        ).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_a_verified_key_has_its_own_bucket_and_probes_are_never_limited(
    limited_client: TestClient, auth: dict[str, str]
) -> None:
    for _ in range(4):
        limited_client.get("/api/v1/vocabularies")
    assert_problem(limited_client.get("/api/v1/vocabularies"), 429)
    assert limited_client.get("/api/v1/vocabularies", headers=auth).status_code == 200
    for _ in range(20):
        assert limited_client.get("/healthz").status_code == 200
        assert limited_client.get("/readyz").status_code == 200


# ------------------------------------------------- 3, 4. bodies: the key first, then bounds


def test_writes_without_a_valid_key_are_refused_before_the_body_is_read(
    client: TestClient,
) -> None:
    garbage = b"{" * 100 + b"not json"
    for headers in ({}, {"Authorization": "Bearer pdb_made-up"}, {"Authorization": "Basic x"}):
        response = client.post("/api/v1/regions", content=garbage, headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    # Declared 51 MB, none of it sent: the answer does not wait for the body.
    response = client.post(
        "/api/v1/policies",
        content=b"[{}]",
        headers={"Content-Length": str(51 * 1024 * 1024), "Content-Type": "application/json"},
    )
    assert_problem(response, 401)
    assert_problem(client.post("/api/v1/import", content=garbage), 401)


def test_a_revoked_key_is_refused_before_the_body(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/keys", json={"name": "soon-revoked"}, headers=auth).json()
    assert client.delete("/api/v1/keys/soon-revoked", headers=auth).status_code == 204
    response = client.post(
        "/api/v1/regions",
        content=b"not json",
        headers={"Authorization": f"Bearer {created['key']}"},
    )
    assert_problem(response, 403)


@pytest.mark.parametrize("depth", [65, 20_000])
def test_deeply_nested_record_bodies_are_400s(
    client: TestClient, auth: dict[str, str], depth: int
) -> None:
    nested = b"[" * depth + b"]" * depth
    body = b'{"slug": "deep", "name": "Deep", "kind": "city", "names": ' + nested + b"}"
    headers = {**auth, "Content-Type": "application/json"}
    problem = assert_problem(client.post("/api/v1/regions", content=body, headers=headers), 400)
    assert "deeper than 64" in problem["detail"]
    patch = {**auth, "Content-Type": "application/merge-patch+json"}
    response = client.patch(
        "/api/v1/regions/tianjin", content=b'{"names": ' + nested + b"}", headers=patch
    )
    assert_problem(response, 400)
    # Brackets inside strings are text, not nesting.
    text = {"slug": "brackets", "name": "[" * 100, "kind": "city"}
    assert client.post("/api/v1/regions", json=text, headers=auth).status_code == 201


def test_record_bodies_have_their_own_size_limit(client: TestClient, auth: dict[str, str]) -> None:
    body = json.dumps({"slug": "big", "name": "B", "kind": "city", "description": "x" * 2_000_000})
    headers = {**auth, "Content-Type": "application/json"}
    problem = assert_problem(client.post("/api/v1/regions", content=body, headers=headers), 413)
    assert str(1024 * 1024) in problem["detail"]


# -------------------------------------------------------------- 11. Host is not reflected


def test_next_links_do_not_reflect_the_host_header(client: TestClient) -> None:
    evil = {"Host": "evil.example"}
    response = client.get("/api/v1/policies", params={"limit": 1}, headers=evil)
    assert response.json()["next"].startswith("/api/v1/policies?")
    assert response.headers["link"].startswith("</api/v1/policies?")
    for path in ("/api/v1/changes", "/api/v1/timeline?limit=1", "/api/v1/search?q=ai&limit=1"):
        answer = client.get(path, headers=evil)
        assert "evil.example" not in answer.text, path
        assert "evil.example" not in answer.headers.get("link", ""), path


# ---------------------------------------------------------- 3, 6. nesting in JSON and YAML


def _import(client: TestClient, auth: dict[str, str], body: bytes, media: str) -> Any:
    headers = {**auth, "Content-Type": media}
    return client.post("/api/v1/import", content=body, headers=headers)


@pytest.mark.parametrize("depth", [65, 20_000, 100_000])
def test_deeply_nested_json_imports_are_refused_while_parsing(
    client: TestClient, auth: dict[str, str], depth: int
) -> None:
    before = _count(client, "policies")
    body = b'{"policies": [' + b"[" * depth + b"]" * depth + b"]}"
    started = time.monotonic()
    problem = assert_problem(_import(client, auth, body, "application/json"), 422)
    assert time.monotonic() - started < 5
    assert "deeper than 64" in problem["errors"][0]["detail"]
    assert _count(client, "policies") == before


def test_json_import_at_the_depth_limit_is_read(client: TestClient, auth: dict[str, str]) -> None:
    # 64 levels: bundle, section, record, and 61 levels inside one of its fields.
    nested = "[" * 61 + "]" * 61
    body = f'{{"regions": [{{"slug": "r", "name": "R", "kind": "city", "aliases": {nested}}}]}}'
    problem = assert_problem(_import(client, auth, body.encode(), "application/json"), 422)
    assert problem["errors"][0]["pointer"].startswith("/regions/0/aliases")


BILLION_LAUGHS = b"""
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (BILLION_LAUGHS, "aliases"),
        (b"regions: " + b"[" * 100 + b"]" * 100, "deeper than 64"),
        # libyaml stops at 1,000 levels itself, while looking ahead: either way, refused.
        (b"regions: " + b"[" * 100_000 + b"]" * 100_000, "nest"),
        (b"regions: [" + b"a," * 600_000 + b"a]", "more than 500000 values"),
        (b"regions:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 200)), "deeper than 64"),
        (b"version: " + b"9" * 100_000, "more than 100 digits"),
        (b"regions: [{slug: r, name: R, kind: city, <<: *x}]", "alias"),
    ],
    ids=[
        "billion-laughs",
        "flow-nesting",
        "flow-nesting-100k",
        "many-values",
        "block-nesting",
        "huge-integer",
        "merge-alias",
    ],
)
def test_hostile_yaml_imports_are_quick_422s(
    client: TestClient, auth: dict[str, str], body: bytes, says: str
) -> None:
    started = time.monotonic()
    problem = assert_problem(_import(client, auth, body, "application/yaml"), 422)
    assert time.monotonic() - started < 5
    assert says in problem["errors"][0]["detail"]


def test_yaml_anchors_without_aliases_are_fine(client: TestClient, auth: dict[str, str]) -> None:
    body = b"regions:\n  - &r {slug: anchored-town, name: Anchored, kind: city}\n"
    response = _import(client, auth, body, "application/yaml")
    assert response.status_code == 200, response.text


# ------------------------------------------------------------ 5. errors are not amplified


def test_a_million_invalid_topics_are_one_error(client: TestClient, auth: dict[str, str]) -> None:
    topics = json.dumps(["nope"] * 1_000_000)
    body = f'{{"policies": [{{"slug": "p", "title": "P", "kind": "plan", "topics": {topics}}}]}}'
    response = _import(client, auth, body.encode(), "application/json")
    problem = assert_problem(response, 422)
    assert len(response.content) < 10_000
    # Refused whole while the stream is read (too many values for one record).
    assert [e["pointer"] for e in problem["errors"]] == ["/policies/0"]
    # Under that bound, the schema's own limit gives one error, not one per topic.
    topics = json.dumps(["nope"] * 50_000)
    body = f'{{"policies": [{{"slug": "p", "title": "P", "kind": "plan", "topics": {topics}}}]}}'
    problem = assert_problem(_import(client, auth, body.encode(), "application/json"), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["/policies/0/topics"]


def test_errors_are_capped_with_their_total(client: TestClient, auth: dict[str, str]) -> None:
    before = _count(client, "regions")
    regions = [{"slug": f"bad-{i}", "name": "", "kind": "nowhere"} for i in range(3000)]
    response = client.post("/api/v1/import", json={"regions": regions}, headers=auth)
    problem = assert_problem(response, 422)
    assert len(problem["errors"]) == 100
    assert problem["errors_total"] == 6000
    assert problem["detail"].startswith("6000 problem(s)")
    assert len(response.content) < 50_000
    assert _count(client, "regions") == before


def test_record_errors_are_capped_too(client: TestClient, auth: dict[str, str]) -> None:
    links = [{"actor": "state-council", "role": f"bad-{i}"} for i in range(500)]
    policy = {"slug": "p", "title": "P", "kind": "plan", "actors": links}
    response = client.post("/api/v1/policies", json=policy, headers=auth)
    problem = assert_problem(response, 422)
    assert len(problem["errors"]) == 100 and problem["errors_total"] == 500


# ----------------------------------------------- 11. imports have a time budget of their own


def test_http_imports_are_not_held_to_the_read_budget(
    database: Database, session_factory: sessionmaker[Session], auth: dict[str, str]
) -> None:
    strict = create_app(
        Settings(database_url=database.url, query_timeout_ms=50, rate_limit_per_second=0)
    )
    strict.dependency_overrides[get_session_factory] = lambda: session_factory
    regions = [{"slug": f"budget-{i}", "name": f"Town {i}", "kind": "city"} for i in range(4000)]
    with TestClient(strict, raise_server_exceptions=False) as client:
        started = time.monotonic()
        response = client.post("/api/v1/import", json={"regions": regions}, headers=auth)
        assert time.monotonic() - started > 0.05, "the import must outlast the read budget"
        assert response.status_code == 200, response.text
        assert response.json()["counts"]["regions"]["created"] == 4000


# ------------------------------------------------- 1. the cursor secret is the installation's


def test_the_cursor_secret_is_generated_once_and_kept(engine: Engine) -> None:
    with Session(engine) as session:
        first = installation_secret(session=session)
    with Session(engine) as session:
        assert installation_secret(session=session) == first
        stored = session.scalar(select(InstallationSecret.value))
    assert stored == first and len(first) >= 32
    assert not is_weak_secret(first)
    assert first not in KNOWN_CURSOR_SECRETS


def test_cursors_are_signed_with_the_installation_secret(
    database: Database, session_factory: sessionmaker[Session], session: Session
) -> None:
    fresh = create_app(Settings(database_url=database.url))  # no secret read yet
    fresh.dependency_overrides[get_session_factory] = lambda: session_factory
    client = TestClient(fresh, raise_server_exceptions=False)
    page = client.get("/api/v1/policies", params={"limit": 1}).json()
    cursor = page["next"].split("cursor=")[1]
    secret = installation_secret(session=session)
    token, signature = cursor.split(".")
    payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert CursorCodec(secret)._sign(payload) == signature
    public = CursorCodec("policydb-cursor-signing-key")
    forged = f"{token}.{public._sign(payload)}"
    assert_problem(client.get("/api/v1/policies", params={"limit": 1, "cursor": forged}), 400)


def test_a_configured_cursor_secret_wins(database: Database) -> None:
    configured = create_app(Settings(database_url=database.url, cursor_secret="x" * 40))
    with TestClient(configured) as client:
        page = client.get("/api/v1/policies", params={"limit": 1}).json()
    token, signature = page["next"].split("cursor=")[1].split(".")
    payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert CursorCodec("x" * 40)._sign(payload) == signature


@pytest.mark.parametrize("secret", ["policydb-cursor-signing-key", "short"])
def test_serve_warns_about_a_known_cursor_secret(secret: str) -> None:
    assert is_weak_secret(secret)
    assert secret_warning(Settings(cursor_secret=secret)) is not None
    assert secret_warning(Settings(cursor_secret="a-long-random-value-0123456789")) is None
    assert secret_warning(Settings(cursor_secret=None)) is None


# ----------------------------------------------------------- 11. expand=relations is capped


def test_relation_chains_are_capped(client: TestClient, auth: dict[str, str]) -> None:
    # A fan of 250 supported policies, each supporting one more: 500 reachable policies.
    policies: list[dict[str, Any]] = [
        {"slug": f"leaf-{i}", "title": f"Leaf {i}", "kind": "plan"} for i in range(250)
    ]
    policies += [
        {
            "slug": f"branch-{i}",
            "title": f"Branch {i}",
            "kind": "plan",
            "related": [{"policy": f"leaf-{i}", "relation": "supports"}],
        }
        for i in range(250)
    ]
    root = {
        "slug": "fan-root",
        "title": "Root",
        "kind": "plan",
        "related": [{"policy": f"branch-{i}", "relation": "supports"} for i in range(250)],
    }
    response = client.post("/api/v1/import", json={"policies": [*policies, root]}, headers=auth)
    assert response.status_code == 200, response.text
    doc = client.get("/api/v1/policies/fan-root", params={"expand": "relations"}).json()
    assert len(doc["relation_chain"]) == 200
    assert doc["relation_chain_truncated"] is True
    small = client.get("/api/v1/policies/branch-3", params={"expand": "relations"}).json()
    assert [link["policy"] for link in small["relation_chain"]] == ["leaf-3"]
    assert "relation_chain_truncated" not in small


# ---------------------------------------------- a real server under a memory cap, attacked

# The server's address space is capped (RLIMIT_AS) at this: a parse that grew with its input
# (the 20k-level JSON took 1 GB, a 51 MB array 1.3 GB, a YAML alias tree far more) would fail.
MEMORY_CAP = 1024 * 1024 * 1024


@dataclass
class LiveServer:
    base: str
    auth: dict[str, str]
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        """The process still runs and answers its liveness probe at once."""
        if self.process.poll() is not None:
            return False
        return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _serve(database: Database, **settings: str) -> LiveServer:
    """``policydb serve`` on a migrated, seeded database, with an admin key."""
    migrations.upgrade(database.url)
    engine = database.engine()
    with Session(engine) as session:
        data, source_map = read_bundle_path(SEED)
        import_bundle(session=session, data=data, source_map=source_map, changed_by="seed")
        _key, secret = key_service.create_key(session=session, name="live", scope="admin")
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "POLICYDB_DATABASE_URL": database.url,
        "POLICYDB_PORT": str(port),
        "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MB of address space per thread arena
        **{f"POLICYDB_{k.upper()}": v for k, v in settings.items()},
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "policydb"), "serve"],
        cwd=ROOT,
        env=env,
        preexec_fn=_cap_memory,
        stderr=subprocess.DEVNULL,
    )
    live = LiveServer(f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{live.base}/readyz", timeout=1).status_code == 200:
                return live
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not start")


def _stop(live: LiveServer) -> None:
    if live.process.poll() is None:
        live.process.terminate()
        live.process.wait(timeout=10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    database = Database(request.param, tmp_path_factory.mktemp(f"live-{request.param}"))
    try:
        server = _serve(database, rate_limit_per_second="0")
        try:
            yield server
        finally:
            _stop(server)
    finally:
        database.drop()


def _policies(n: int) -> bytes:
    return json.dumps(
        {
            "policies": [
                {
                    "slug": f"bulk-{i}",
                    "title": f"Bulk policy {i} " + "x" * 400,
                    "kind": "plan",
                    "summary": "y" * 200,
                    "topics": ["artificial_intelligence"],
                }
                for i in range(n)
            ]
        }
    ).encode()


BILLION_LAUGHS_9 = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
    b"%c: &%c [%s]\n" % (98 + i, 98 + i, b",".join([b"*%c" % (97 + i)] * 9)) for i in range(8)
)
DEEP_JSON = b'{"policies": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
ARRAY_51MB = b"[" + b"{}," * (17 * 1024 * 1024) + b"{}]"
YAML_VALUES = b"a:\n" + b"- {}\n" * 2**20  # 5 MB: once 1 GB and 36 s of parsing
BAD_RECORDS = json.dumps({"regions": [{"slug": "X", "kind": "no"}] * 100_000}).encode()
MILLION_TOPICS = json.dumps(
    {"policies": [{"slug": "p", "title": "t", "kind": "plan", "topics": ["x"] * 1_000_000}]}
).encode()

# (name, method, path, body, content type, with the admin key?, expected status)
ATTACKS = [
    ("deep-json-import-without-key", "POST", "/api/v1/import", DEEP_JSON, "json", False, 401),
    ("deep-json-import", "POST", "/api/v1/import", DEEP_JSON, "json", True, 422),
    ("51MB-array-without-key", "POST", "/api/v1/policies", ARRAY_51MB, "json", False, 401),
    ("51MB-array-with-key", "POST", "/api/v1/policies", ARRAY_51MB, "json", True, 413),
    ("million-topics", "POST", "/api/v1/import", MILLION_TOPICS, "json", True, 422),
    ("100k-invalid-records", "POST", "/api/v1/import", BAD_RECORDS, "json", True, 422),
    ("billion-laughs", "POST", "/api/v1/import", BILLION_LAUGHS_9, "yaml", True, 422),
    ("deep-yaml", "POST", "/api/v1/import", b"a: " + b"[" * 100_000, "yaml", True, 422),
    (
        "yaml-5MB-of-values",
        "POST",
        "/api/v1/import",
        b"a:\n" + b"- {}\n" * 2**20,
        "yaml",
        True,
        422,
    ),
    (
        "huge-yaml-integer",
        "POST",
        "/api/v1/import",
        b"version: " + b"9" * 100_000,
        "yaml",
        True,
        422,
    ),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attacks_on_a_memory_capped_server(live: LiveServer, attack: tuple[Any, ...]) -> None:
    _name, method, path, body, syntax, keyed, expected = attack
    headers = {"Content-Type": f"application/{syntax}", **(live.auth if keyed else {})}
    started = time.monotonic()
    try:
        response = httpx.request(
            method, live.base + path, content=body, headers=headers, timeout=60
        )
    except httpx.TransportError:  # refused mid-upload: the server closed before reading it all
        assert not keyed and expected == 401
    else:
        assert response.status_code == expected, response.text[:500]
        assert response.headers["content-type"].startswith("application/problem+json")
        assert len(response.content) < 20_000
    assert time.monotonic() - started < 30
    assert live.alive()
    # The bound: no attack takes the worker's resident memory past 300 MB (its peak
    # so far: these run first on each engine's server, before the large import below).
    assert _peak_resident_mb(live) < 300


def _peak_resident_mb(live: LiveServer) -> float:
    """The largest peak resident memory (VmHWM) of the server's worker processes."""
    peaks = [
        int(line.split()[1]) / 1024
        for pid in worker_pids(live.process.pid)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    ]
    assert peaks, "no worker process found"
    return max(peaks)


def test_a_large_import_within_the_documented_limits_succeeds(live: LiveServer) -> None:
    body = _policies(20_000)
    assert 13_000_000 < len(body) < 50 * 1024 * 1024
    headers = {**live.auth, "Content-Type": "application/json"}
    response = httpx.post(f"{live.base}/api/v1/import", content=body, headers=headers, timeout=300)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["counts"]["policies"]["created"] == 20_000
    assert live.alive()


def test_healthz_answers_while_an_attack_is_parsed(live: LiveServer) -> None:
    headers = {**live.auth, "Content-Type": "application/json"}
    body = b'{"policies": [' + b"{}," * (12 * 1024 * 1024) + b"{}]}"
    with ThreadPoolExecutor(1) as pool:
        attack = pool.submit(
            httpx.post, f"{live.base}/api/v1/import", content=body, headers=headers, timeout=120
        )
        time.sleep(0.5)
        while not attack.done():
            started = time.monotonic()
            assert live.alive()
            assert time.monotonic() - started < 2, "the event loop is blocked"
            time.sleep(0.2)
        assert attack.result().status_code == 413


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(None, [200, 200, 200, 429, 429]), ('["127.0.0.1"]', [200] * 5)],
    ids=["untrusted", "trusted-proxy"],
)
def test_forwarded_for_counts_only_from_trusted_proxies(
    tmp_path_factory: pytest.TempPathFactory, trusted: str | None, expected: list[int]
) -> None:
    database = Database("sqlite", tmp_path_factory.mktemp("live-rate"))
    settings = {"rate_limit_per_second": "0.2", "rate_limit_burst": "3"}
    if trusted is not None:
        settings["trusted_proxies"] = trusted
    server = _serve(database, **settings)
    try:
        statuses = [
            httpx.get(
                f"{server.base}/api/v1/vocabularies", headers={"X-Forwarded-For": f"10.0.0.{i}"}
            ).status_code
            for i in range(5)
        ]
        assert statuses == expected
        assert all(httpx.get(f"{server.base}/healthz").status_code == 200 for _ in range(10))
    finally:
        _stop(server)


def test_too_many_records_are_refused_while_counting(
    client: TestClient, auth: dict[str, str]
) -> None:
    # 13 million empty records in 40 MB: refused at record 200,001, not after counting all.
    body = b'{"policies": [' + b"{}," * (13 * 1024 * 1024) + b"{}]}"
    started = time.monotonic()
    problem = assert_problem(_import(client, auth, body, "application/json"), 413)
    assert "more than 200000 records" in problem["detail"]
    assert time.monotonic() - started < 4, time.monotonic() - started


@pytest.mark.parametrize(
    ("secret", "warned"), [("policydb-cursor-signing-key", True), ("q" * 40, False), (None, False)]
)
def test_serve_warns_when_started_with_a_known_cursor_secret(
    tmp_path: Path, secret: str | None, warned: bool
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "POLICYDB_DATABASE_URL": f"sqlite:///{tmp_path / 'warn.sqlite3'}",
        "POLICYDB_PORT": str(port),
        "POLICYDB_SEED_ON_START": "false",
    }
    env.pop("POLICYDB_CURSOR_SECRET", None)
    if secret is not None:
        env["POLICYDB_CURSOR_SECRET"] = secret
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "policydb"), "serve"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert ("warning: POLICYDB_CURSOR_SECRET" in err.decode()) == warned


def test_key_checks_while_the_database_is_down_are_503s_not_500s(tmp_path: Path) -> None:
    down = create_app(Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"))
    key = {"Authorization": "Bearer pdb_whoever"}
    with TestClient(down, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/regions", json={}, headers=key)
        assert_problem(response, 503)
        assert response.headers["retry-after"]
        assert_problem(client.get("/api/v1/policies", headers=key), 503)


def test_a_json_record_of_too_many_values_is_refused_before_it_is_built(
    client: TestClient, auth: dict[str, str]
) -> None:
    # 400,000 one-element lists in one record: once 520 MB of objects before validation.
    topics = "[" + ",".join(["[1]"] * 400_000) + "]"
    body = f'{{"policies": [{{"slug": "p", "title": "P", "kind": "plan", "topics": {topics}}}]}}'
    problem = assert_problem(_import(client, auth, body.encode(), "application/json"), 422)
    assert problem["errors"] == [
        {"pointer": "/policies/0", "detail": "a record of more than 100000 values"}
    ]


@pytest.mark.parametrize(("value", "status"), [(2**31 - 1, 200), (2**31, 400), (-(2**62), 400)])
def test_forged_cursors_with_large_ids(client: TestClient, value: int, status: int) -> None:
    # Ids are 32-bit (PostgreSQL binds them as integer): the largest pages past the end,
    # anything beyond is a malformed cursor, never a 500.
    for path, sort, param in (
        ("/api/v1/changes", "changes", "since"),
        ("/api/v1/policies/1/history", "history", "cursor"),
        ("/api/v1/sources/1/supports", "supports", "cursor"),
        ("/api/v1/regions/cn/policies", "links", "cursor"),
    ):
        cursor = forge(client, json.dumps({"s": sort, "v": [value]}).encode())
        response = client.get(path, params={param: cursor})
        assert response.status_code == status, (path, response.text)


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_integers_beyond_the_columns_are_422s(
    client: TestClient, auth: dict[str, str], value: int
) -> None:
    goal = {"slug": "big-stage", "statement": "S", "actor": "state-council", "stage": value}
    problem = assert_problem(client.post("/api/v1/goals", json=goal, headers=auth), 422)
    assert problem["errors"][0]["pointer"] == "/body/stage"
    cite = {"source": "digichina-2020-12-21-ai-self-reliance", "paragraph": value}
    region = {"slug": "big-para", "name": "B", "kind": "city", "citations": [cite]}
    problem = assert_problem(client.post("/api/v1/regions", json=region, headers=auth), 422)
    assert problem["errors"][0]["pointer"] == "/body/citations/0/paragraph"


@pytest.mark.parametrize(
    "moment", ["2020-01-01T00:00:00+14:00", "2020-01-01T00:00:00", "0001-01-01T00:00:00+00:00"]
)
def test_forged_time_cursors_page_or_400_never_500(client: TestClient, moment: str) -> None:
    cases: list[list[Any]] = [[{"t": moment}, 1], [{"d": moment[:10]}, 1], [{"t": moment}, None]]
    for values in cases:
        cursor = forge(client, json.dumps({"s": "updated_at,id", "v": values}).encode())
        response = client.get("/api/v1/policies", params={"sort": "updated_at", "cursor": cursor})
        expected = 400 if values[1] is None or "d" in values[0] else 200
        assert response.status_code == expected, (values, response.text)
