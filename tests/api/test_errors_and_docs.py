"""Every error path answers RFC 9457 problem+json; the docs work offline."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_records import new_policy
from tests.conftest import assert_problem


def error_paths(auth: dict[str, str]) -> list[tuple[str, str, dict[str, Any], int]]:
    big = "x" * 10
    json_auth = {**auth, "Content-Type": "application/json"}
    return [
        ("GET", "/api/v1/nowhere", {}, 404),
        ("GET", "/api/v1/policies/no-such-policy", {}, 404),
        ("GET", "/api/v1/policies/123456789", {}, 404),
        ("DELETE", "/api/v1/vocabularies", {}, 405),
        ("GET", "/api/v1/policies?limit=1000", {}, 400),
        ("GET", "/api/v1/policies?cursor=abc", {}, 400),
        ("GET", "/api/v1/policies?unknown=1", {}, 400),
        ("POST", "/api/v1/policies", {"json": new_policy()}, 401),
        ("POST", "/api/v1/policies", {"json": {"slug": "x"}, "headers": auth}, 422),
        ("POST", "/api/v1/policies", {"content": "{not json", "headers": json_auth}, 400),
        ("POST", "/api/v1/policies", {"json": [1, 2], "headers": auth}, 422),
        (
            "POST",
            "/api/v1/actors",
            {"json": {"slug": "state-council", "name": big, "kind": "ministry"}, "headers": auth},
            409,
        ),
        (
            "PUT",
            "/api/v1/regions/nowhere",
            {"json": {"slug": "nowhere", "name": "N", "kind": "city"}, "headers": auth},
            404,
        ),
        ("PATCH", "/api/v1/goals/nothing", {"json": {}, "headers": auth}, 404),
        ("DELETE", "/api/v1/actors/state-council", {"headers": auth}, 409),
        ("POST", "/api/v1/import", {"content": "{", "headers": auth}, 422),
        ("POST", "/api/v1/import?mode=replace", {"json": {}, "headers": auth}, 400),
        ("GET", "/api/v1/export?format=xml", {}, 400),
    ]


def test_every_error_path_is_a_problem(client: TestClient, auth: dict[str, str]) -> None:
    for method, url, kwargs, status in error_paths(auth):
        response = client.request(method, url, **kwargs)
        body = assert_problem(response, status)
        assert body["instance"] == url.split("?")[0], (method, url)
        assert "Traceback" not in response.text and "SELECT" not in response.text


def test_validation_problem_lists_every_field_at_fault(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = new_policy(kind="wish", status="dormant", announced="someday")
    problem = assert_problem(client.post("/api/v1/policies", json=body, headers=auth), 422)
    pointers = {e["pointer"] for e in problem["errors"]}
    assert {"/body/kind", "/body/status", "/body/announced"} <= pointers


def test_vocabularies_list_codes_with_labels(client: TestClient) -> None:
    vocabularies = client.get("/api/v1/vocabularies").json()
    assert {"policy_kind", "actor_role", "topic", "policy_relation"} <= set(vocabularies)
    assert {"value": "zone_designation", "label": "Zone designation"} in vocabularies["policy_kind"]
    for terms in vocabularies.values():
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", t["value"]) for t in terms)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_other_hosts(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    refs = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)
    assert refs, "the page loads its assets"
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), f"{page} refers to an external host: {ref}"
        assert client.get(ref).status_code == 200, ref
    assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html


def test_openapi_documents_every_endpoint_and_parameter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["description"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method} {path} has no description"
            for parameter in operation.get("parameters", []):
                name = f"{method} {path} {parameter['name']}"
                assert parameter.get("description"), f"{name} has no description"
                schema = parameter.get("schema", {})
                has_example = (
                    "example" in parameter
                    or "examples" in parameter
                    or "examples" in schema
                    or "enum" in schema
                    or schema.get("type") == "boolean"
                    or any("enum" in s or "examples" in s for s in schema.get("anyOf", []))
                )
                assert has_example, f"{name} has no example"
    kinds = spec["components"]["schemas"]["PolicyKind"]["enum"]
    assert "zone_designation" in kinds
