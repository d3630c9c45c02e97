"""HTTP manners and the OpenAPI contract: HEAD, the front doors, 405s, typed problems, filters."""

from typing import Any

from fastapi.testclient import TestClient

from app.resources import RESOURCES
from tests.conftest import assert_problem


def test_head_answers_every_get_without_a_body(client: TestClient) -> None:
    for path in ("/api/v1/policies", "/api/v1/regions/cn", "/api/v1/changes", "/healthz"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers.get("etag") == get.headers.get("etag")
    assert client.head("/api/v1/policies/nope").status_code == 404


def test_405_says_what_is_allowed(client: TestClient) -> None:
    problem = client.post("/api/v1/changes")
    assert_problem(problem, 405)
    assert problem.headers["allow"] == "GET, HEAD"
    assert client.put("/api/v1/policies").headers["allow"] == "GET, HEAD, POST"


def test_front_doors(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/docs"
    index = client.get("/api/v1").json()
    hrefs = {c["href"] for c in index["collections"]}
    assert {f"/api/v1/{name}" for name in RESOURCES} <= hrefs
    assert {"/api/v1/changes", "/api/v1/search", "/api/v1/vocabularies"} <= hrefs
    # Each answers (some want a query or a key first), none is missing.
    assert all(client.head(href).status_code in (200, 400, 401) for href in hrefs)
    assert index["docs"] == "/docs" and index["openapi"] == "/openapi.json"


def test_region_role_and_iso_codes_in_region_filters(client: TestClient) -> None:
    def slugs(**params: Any) -> set[str]:
        body = client.get("/api/v1/policies", params={"limit": 200, **params}).json()
        return {p["slug"] for p in body["items"]}

    everything = slugs(region="CN")
    governed = slugs(region="CN", region_role="jurisdiction")
    targeted = slugs(region="CN", region_role="target")
    assert governed and targeted and governed | targeted <= everything
    for slug, role in [
        *((s, "jurisdiction") for s in governed),
        *((s, "target") for s in targeted),
    ]:
        policy = client.get(f"/api/v1/policies/{slug}").json()
        assert role in {link["role"] for link in policy["regions"]}, slug
    by_code = client.get("/api/v1/regions", params={"parent": "cn"}).json()
    assert by_code == client.get("/api/v1/regions", params={"parent": "CN"}).json()
    assert by_code["total"] > 0
    assert_problem(client.get("/api/v1/regions", params={"parent": "XX"}), 400)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_every_error_is_documented_as_a_typed_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, method, operation in _operations(spec):
        errors = {c: r for c, r in operation["responses"].items() if c[0] in "45"}
        assert errors, (method, path)
        for status, response in errors.items():
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, status)
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ProblemError"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_list_parameters_offer_only_what_the_server_accepts(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for name, resource in RESOURCES.items():
        list_op = spec["paths"][f"/api/v1/{name}"]["get"]
        parameters = {p["name"]: p for p in list_op["parameters"]}
        sort = parameters["sort"]
        assert client.get(f"/api/v1/{name}", params={"sort": sort["example"]}).status_code == 200
        for field in resource.sortable:
            ok = client.get(f"/api/v1/{name}", params={"sort": f"-{field}"})
            assert ok.status_code == 200, (name, field)
        assert_problem(client.get(f"/api/v1/{name}", params={"sort": "colour"}), 400)
        read = spec["paths"][f"/api/v1/{name}/{{key}}"]["get"]
        expand = [p for p in read["parameters"] if p["name"] == "expand"]
        assert bool(expand) == bool(resource.expansions), name
        # Every parameter with an example shows it where documentation viewers look.
        for parameter in list_op["parameters"]:
            if parameter["schema"].get("examples", [None])[0] is not None:
                assert "example" in parameter, (name, parameter["name"])
