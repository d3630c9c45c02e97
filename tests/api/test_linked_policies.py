"""Regions and actors embed their first linked policies (and an actor its first goals) with
totals; /{key}/policies pages through all of them, so a hub's document stays small."""

import pytest
from fastapi.testclient import TestClient

from app.services.resources import ResourceName
from tests.conftest import assert_problem
from tests.embedding_limits import embed_at_most

HUBS = [("regions", "cn"), ("actors", "state-council")]


@pytest.mark.parametrize(("resource", "key"), HUBS)
def test_linked_policies_page_through_every_link(
    client: TestClient, resource: str, key: str
) -> None:
    record = client.get(f"/api/v1/{resource}/{key}").json()
    total = record["policies_total"]
    assert total == len(record["policies"]) >= 3  # the seed's hubs embed all their links

    paged, url = [], f"/api/v1/{resource}/{key}/policies?limit=2"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == total
        assert len(body["items"]) <= 2
        paged += body["items"]
        url = body["next"]
    assert paged == record["policies"]  # same policies, same order


@pytest.mark.parametrize(("resource", "key"), HUBS)
def test_a_hub_embeds_only_its_first_links(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, resource: ResourceName, key: str
) -> None:
    full = client.get(f"/api/v1/{resource}/{key}").json()
    embed_at_most(monkeypatch, resource, 2)
    record = client.get(f"/api/v1/{resource}/{key}").json()
    first = client.get(f"/api/v1/{resource}/{key}/policies?limit=2").json()
    assert record["policies"] == first["items"] == full["policies"][:2]
    assert record["policies_total"] == full["policies_total"] > 2
    listed = client.get(f"/api/v1/{resource}?limit=200").json()["items"]
    assert next(r for r in listed if r["slug"] == key)["policies"] == first["items"]


def test_an_actor_embeds_only_its_first_goals(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    actors = client.get("/api/v1/actors?limit=200").json()["items"]
    actor = max(actors, key=lambda a: a["goals_total"])
    assert actor["goals_total"] == len(actor["goals"]) >= 2
    embed_at_most(monkeypatch, "actors", 1)
    record = client.get(f"/api/v1/actors/{actor['slug']}").json()
    assert record["goals"] == actor["goals"][:1]
    assert record["goals_total"] == actor["goals_total"]


def test_linked_policies_errors(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/regions/no-such-region/policies"), 404)
    assert_problem(client.get("/api/v1/actors/cn/policies?cursor=forged"), 400)
    assert_problem(client.get("/api/v1/regions/cn/policies?limit=0"), 400)
    assert_problem(client.get("/api/v1/regions/cn/policies?sort=title"), 400)
