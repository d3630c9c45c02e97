"""Create, read, replace, patch and delete through the API, on both engines."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import assert_problem

ARTICLE = "digichina-2020-12-21-ai-self-reliance"


def cite(excerpt: str = "a test excerpt") -> dict[str, Any]:
    return {"source": ARTICLE, "section": "Introduction", "paragraph": 1, "excerpt": excerpt}


def new_policy(slug: str = "test-policy", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "title": "Test policy",
        "kind": "fund",
        "status": "planned",
        "announced": "2019-07",
        "in_force_from": "2021",
        "in_force_to": "2025",
        "money": {"amount": "2500000.50", "currency": "cny", "approximate": True},
        "topics": ["talent", "investment"],
        "actors": [{"actor": "state-council", "role": "issuer", "citations": [cite()]}],
        "regions": [{"region": "cn", "role": "jurisdiction"}],
        "citations": [cite()],
    }
    body.update(fields)
    return body


def test_create_then_get_by_slug_and_id(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/policies", json=new_policy(), headers=auth)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/policies/test-policy"
    body = created.json()
    assert body["announced"] == "2019-07"
    assert body["in_force_from"] == "2021"
    assert body["money"] == {"amount": "2500000.5", "currency": "CNY", "approximate": True}
    assert body["topics"] == ["investment", "talent"]
    assert body["actors"][0]["actor"] == "state-council"
    assert body["actors"][0]["actor_name"]
    assert body["actors"][0]["citations"][0]["source_title"]
    by_id = client.get(f"/api/v1/policies/{body['id']}").json()
    by_slug = client.get("/api/v1/policies/test-policy").json()
    assert by_id == by_slug == body


def test_get_body_can_be_put_back_unchanged(client: TestClient, auth: dict[str, str]) -> None:
    original = client.get("/api/v1/policies/new-generation-ai-development-plan").json()
    replaced = client.put(
        "/api/v1/policies/new-generation-ai-development-plan", json=original, headers=auth
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == original  # nothing changed, not even updated_at


@pytest.mark.parametrize("resource", ["policies", "actors", "regions", "goals", "sources"])
def test_every_resource_round_trips_get_put(
    client: TestClient, auth: dict[str, str], resource: str
) -> None:
    item = client.get(f"/api/v1/{resource}", params={"limit": 1}).json()["items"][0]
    again = client.put(f"/api/v1/{resource}/{item['slug']}", json=item, headers=auth)
    assert again.status_code == 200, again.text
    assert again.json() == client.get(f"/api/v1/{resource}/{item['slug']}").json()


def test_put_changes_fields_and_links(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    body = new_policy(title="Renamed", actors=[], topics=["trade"], money=None)
    response = client.put("/api/v1/policies/test-policy", json=body, headers=auth)
    assert response.status_code == 200, response.text
    stored = client.get("/api/v1/policies/test-policy").json()
    assert stored["title"] == "Renamed"
    assert stored["actors"] == []
    assert stored["topics"] == ["trade"]
    assert stored["money"] is None
    assert stored["updated_at"] >= stored["created_at"]


def test_put_with_new_slug_renames(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    response = client.put(
        "/api/v1/policies/test-policy", json=new_policy(slug="renamed-policy"), headers=auth
    )
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/policies/renamed-policy").status_code == 200
    assert_problem(client.get("/api/v1/policies/test-policy"), 404)


def test_patch_is_a_merge_patch(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    response = client.patch(
        "/api/v1/policies/test-policy",
        json={"summary": "Patched.", "money": None, "titles": {"zh": "测试"}},
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] == "Patched."
    assert body["money"] is None
    assert body["titles"] == {"zh": "测试"}
    assert body["title"] == "Test policy"  # untouched


def test_patch_that_breaks_the_record_is_422(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    response = client.patch(
        "/api/v1/policies/test-policy", json={"in_force_to": "2019"}, headers=auth
    )
    body = assert_problem(response, 422)
    assert "in_force_from is after in_force_to" in str(body["errors"])
    assert client.get("/api/v1/policies/test-policy").json()["in_force_to"] == "2025"


def test_read_only_fields_are_ignored_unknown_fields_refused(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = new_policy(id=999999, created_at="1999-01-01T00:00:00Z", goals=[], related_from=[])
    assert client.post("/api/v1/policies", json=body, headers=auth).status_code == 201
    stored = client.get("/api/v1/policies/test-policy").json()
    assert stored["id"] != 999999
    problem = assert_problem(
        client.post("/api/v1/policies", json=new_policy("other", colour="red"), headers=auth), 422
    )
    assert problem["errors"][0]["pointer"] == "/body/colour"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"kind": "wish"}, "/body/kind"),
        ({"announced": "2019-13"}, "/body/announced"),
        ({"announced": "July 2019"}, "/body/announced"),
        ({"money": {"amount": "5", "currency": "XXY"}}, "/body/money/currency"),
        ({"money": {"amount": "-5", "currency": "CNY"}}, "/body/money/amount"),
        ({"topics": ["astrology"]}, "/body/topics/0"),
        ({"slug": "Not A Slug"}, "/body/slug"),
        ({"actors": [{"actor": "state-council", "role": "overlord"}]}, "/body/actors/0/role"),
        ({"in_force_from": "2026", "in_force_to": "2025"}, "/body"),
    ],
)
def test_invalid_policy_bodies_are_422_with_location(
    client: TestClient, auth: dict[str, str], fields: dict[str, Any], where: str
) -> None:
    response = client.post("/api/v1/policies", json=new_policy(**fields), headers=auth)
    body = assert_problem(response, 422)
    assert any(e["pointer"] == where for e in body["errors"]), body
    assert_problem(client.get("/api/v1/policies/test-policy"), 404)


def test_unknown_reference_is_422_naming_the_slug(client: TestClient, auth: dict[str, str]) -> None:
    body = new_policy(actors=[{"actor": "no-such-actor", "role": "issuer"}])
    problem = assert_problem(client.post("/api/v1/policies", json=body, headers=auth), 422)
    assert problem["errors"] == [
        {
            "pointer": "/actors/0/actor",
            "detail": "unknown actor slug 'no-such-actor'",
            "slug": "test-policy",
        }
    ]


def test_region_codes_are_validated(client: TestClient, auth: dict[str, str]) -> None:
    region = {"slug": "atlantis", "name": "Atlantis", "kind": "country", "iso_code": "QQ"}
    problem = assert_problem(client.post("/api/v1/regions", json=region, headers=auth), 422)
    assert problem["errors"][0]["pointer"] == "/body/iso_code"
    taken = {"slug": "china-again", "name": "China", "kind": "country", "iso_code": "CN"}
    problem = assert_problem(client.post("/api/v1/regions", json=taken, headers=auth), 422)
    assert "already belongs to region" in problem["errors"][0]["detail"]


def test_parent_cycles_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    cn = client.get("/api/v1/regions/cn").json()
    child = client.get("/api/v1/regions/cn").json()["children"][0]["slug"]
    problem = assert_problem(
        client.put("/api/v1/regions/cn", json={**cn, "parent": child}, headers=auth), 422
    )
    assert problem["errors"][0]["pointer"] == "/parent"
    assert "loops back" in problem["errors"][0]["detail"]


def test_duplicate_slug_is_409(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/policies", json=new_policy(), headers=auth).status_code == 201
    assert_problem(client.post("/api/v1/policies", json=new_policy(), headers=auth), 409)
    other = new_policy("second")
    client.post("/api/v1/policies", json=other, headers=auth)
    renamed = client.put("/api/v1/policies/second", json=new_policy(), headers=auth)
    assert_problem(renamed, 409)


def test_goal_needs_an_owner(client: TestClient, auth: dict[str, str]) -> None:
    goal = {"slug": "orphan-goal", "statement": "Something.", "deadline": "2030"}
    problem = assert_problem(client.post("/api/v1/goals", json=goal, headers=auth), 422)
    assert "owner" in problem["errors"][0]["detail"]


def test_delete_refuses_while_referenced_then_forces(
    client: TestClient, auth: dict[str, str]
) -> None:
    problem = assert_problem(client.delete("/api/v1/actors/state-council", headers=auth), 409)
    assert "force=true" in problem["detail"]
    assert client.get("/api/v1/actors/state-council").status_code == 200
    forced = client.delete("/api/v1/actors/state-council", params={"force": True}, headers=auth)
    assert forced.status_code == 204
    assert_problem(client.get("/api/v1/actors/state-council"), 404)
    issued = client.get("/api/v1/policies", params={"actor_role": "issuer", "limit": 200}).json()
    assert all(a["actor"] != "state-council" for p in issued["items"] for a in p["actors"])


def test_delete_unreferenced_record(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    assert client.delete("/api/v1/policies/test-policy", headers=auth).status_code == 204
    assert_problem(client.get("/api/v1/policies/test-policy"), 404)


def test_force_delete_of_policy_removes_its_own_goals(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/policies", json=new_policy(), headers=auth)
    goal = {"slug": "test-goal", "statement": "Do it.", "policy": "test-policy", "stage": 1}
    assert client.post("/api/v1/goals", json=goal, headers=auth).status_code == 201
    assert_problem(client.delete("/api/v1/policies/test-policy", headers=auth), 409)
    response = client.delete("/api/v1/policies/test-policy?force=true", headers=auth)
    assert response.status_code == 204
    assert_problem(client.get("/api/v1/goals/test-goal"), 404)


def test_source_delete_refused_while_cited(client: TestClient, auth: dict[str, str]) -> None:
    problem = assert_problem(client.delete(f"/api/v1/sources/{ARTICLE}", headers=auth), 409)
    assert "citations" in problem["errors"][0]["detail"]


def test_force_deleting_a_source_drops_its_citations_everywhere(
    client: TestClient, auth: dict[str, str]
) -> None:
    # Found by schemathesis: records whose id equalled the source's id kept their citations.
    response = client.delete(f"/api/v1/sources/{ARTICLE}?force=true", headers=auth)
    assert response.status_code == 204, response.text
    for resource in ("regions", "actors", "policies", "goals"):
        for record in client.get(f"/api/v1/{resource}", params={"limit": 200}).json()["items"]:
            cited = [c["source"] for c in record["citations"]]
            for link in record.get("actors", []) + record.get("regions", []):
                cited += [c["source"] for c in link["citations"]]
            assert ARTICLE not in cited, record["slug"]


def test_writes_need_a_key(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/policies", json=new_policy())
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer pdb_not-a-real-key"}
    assert_problem(client.post("/api/v1/policies", json=new_policy(), headers=bad), 401)
    assert_problem(client.delete("/api/v1/policies/test-policy"), 401)


def test_revoked_key_is_403(client: TestClient, session: Any) -> None:
    from app.services import keys

    _key, secret = keys.create_key(session=session, name="to-revoke")
    keys.revoke_key(session=session, name="to-revoke")
    response = client.post(
        "/api/v1/policies", json=new_policy(), headers={"Authorization": f"Bearer {secret}"}
    )
    assert_problem(response, 403)


def test_detail_embeds_relations(client: TestClient) -> None:
    aidp = client.get("/api/v1/policies/new-generation-ai-development-plan").json()
    assert aidp["related_from"], "plans that support the AIDP point back at it"
    region = client.get("/api/v1/regions/cn").json()
    assert region["children"] and region["policies"]
    actor = client.get("/api/v1/actors/ministry-of-education").json()
    assert any(p["role"] == "issuer" for p in actor["policies"])
