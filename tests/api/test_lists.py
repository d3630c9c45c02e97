"""Lists: filters, sorting, keyset paging, counts and their errors, on both engines."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.api.test_records import new_policy
from tests.conftest import assert_problem


def walk(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, following `next` links."""
    items: list[dict[str, Any]] = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if not body["next"]:
            return items
        assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        response = client.get(body["next"])


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


def test_list_shape_and_total(client: TestClient) -> None:
    body = client.get("/api/v1/actors", params={"limit": 3}).json()
    assert set(body) == {"items", "total", "next", "cursor"}
    assert len(body["items"]) == 3
    assert body["next"] == f"/api/v1/actors?limit=3&cursor={body['cursor']}"
    assert body["total"] == len(walk(client, "/api/v1/actors", limit=200))
    assert client.get("/api/v1/actors", params={"count": "false"}).json()["total"] is None


@pytest.mark.parametrize("sort", ["id", "-announced,title", "title", "-in_force_to,-slug"])
def test_pagination_walk_sees_every_row_once_in_order(client: TestClient, sort: str) -> None:
    full = [p["slug"] for p in walk(client, "/api/v1/policies", sort=sort, limit=200)]
    paged = [p["slug"] for p in walk(client, "/api/v1/policies", sort=sort, limit=4)]
    assert paged == full
    assert len(set(paged)) == len(paged)


def test_pagination_is_stable_while_rows_are_inserted(
    client: TestClient, auth: dict[str, str]
) -> None:
    before = [p["slug"] for p in walk(client, "/api/v1/policies", sort="id", limit=200)]
    seen: list[str] = []
    response = client.get("/api/v1/policies", params={"sort": "id", "limit": 5})
    inserted = 0
    while True:
        body = response.json()
        seen.extend(p["slug"] for p in body["items"])
        if not body["next"]:
            break
        inserted += 1
        created = client.post(
            "/api/v1/policies", json=new_policy(f"inserted-{inserted}"), headers=auth
        )
        assert created.status_code == 201
        response = client.get(body["next"])
    # Every row that existed is seen exactly once, in order; new rows (higher ids) come last.
    assert seen[: len(before)] == before
    assert seen[len(before) :] == [f"inserted-{i}" for i in range(1, inserted + 1)]


def test_sort_descending_dates_nulls_last(client: TestClient) -> None:
    items = walk(client, "/api/v1/policies", sort="-announced", limit=200)
    dates = [p["announced"] for p in items]
    known = [d for d in dates if d is not None]
    assert dates[: len(known)] == known, "nulls sort last"
    assert [d[:4] for d in known] == sorted((d[:4] for d in known), reverse=True)


def test_limit_bounds(client: TestClient) -> None:
    assert len(client.get("/api/v1/actors", params={"limit": 200}).json()["items"]) <= 200
    problem = assert_problem(client.get("/api/v1/actors", params={"limit": 201}), 400)
    assert problem["errors"][0]["pointer"] == "/query/limit"
    assert_problem(client.get("/api/v1/actors", params={"limit": -1}), 400)
    empty = client.get("/api/v1/actors", params={"limit": 0}).json()
    assert empty["items"] == [] and empty["total"] > 0 and empty["next"] is None
    assert_problem(client.get("/api/v1/actors", params={"limit": "many"}), 400)


def test_tampered_cursor_is_400(client: TestClient) -> None:
    nxt = client.get("/api/v1/policies", params={"limit": 2}).json()["next"]
    cursor = nxt.split("cursor=")[1]
    token, signature = cursor.split(".")
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB") + "." + signature
    for bad in (tampered, "garbage", "x.y", ""):
        if bad:
            problem = assert_problem(client.get("/api/v1/policies", params={"cursor": bad}), 400)
            assert problem["errors"][0]["pointer"] == "/query/cursor"
    other_sort = client.get("/api/v1/policies", params={"cursor": cursor, "sort": "title"})
    assert_problem(other_sort, 400)


@pytest.mark.parametrize(
    ("url", "params", "pointer"),
    [
        ("/api/v1/policies", {"kind": "wish"}, "/query/kind/0"),
        ("/api/v1/policies", {"status": "dormant"}, "/query/status/0"),
        ("/api/v1/policies", {"topic": "astrology"}, "/query/topic/0"),
        ("/api/v1/policies", {"region": "atlantis"}, "/query/region"),
        ("/api/v1/policies", {"actor": "nobody"}, "/query/actor"),
        ("/api/v1/policies", {"announced_from": "2019-13"}, "/query/announced_from"),
        ("/api/v1/policies", {"sort": "colour"}, "/query/sort"),
        ("/api/v1/policies", {"regoin": "cn"}, "/query/regoin"),
        ("/api/v1/actors", {"kind": "wizard"}, "/query/kind/0"),
        ("/api/v1/actors", {"parent": "nobody"}, "/query/parent"),
        ("/api/v1/regions", {"parent": "atlantis"}, "/query/parent"),
        ("/api/v1/goals", {"policy": "nothing"}, "/query/policy"),
        ("/api/v1/goals", {"deadline_to": "soon"}, "/query/deadline_to"),
    ],
)
def test_unknown_filter_values_are_400(
    client: TestClient, url: str, params: dict[str, str], pointer: str
) -> None:
    problem = assert_problem(client.get(url, params=params), 400)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]


def test_filter_by_kind_status_and_topic(client: TestClient) -> None:
    funds = client.get("/api/v1/policies", params={"kind": "fund"}).json()["items"]
    assert funds and all(p["kind"] == "fund" for p in funds)
    several = client.get("/api/v1/policies", params=[("kind", "fund"), ("kind", "plan")]).json()
    assert {p["kind"] for p in several["items"]} == {"fund", "plan"}
    talent = walk(client, "/api/v1/policies", topic="talent", limit=200)
    assert talent and all("talent" in p["topics"] for p in talent)


def test_text_match_covers_titles_and_other_languages(client: TestClient) -> None:
    assert "new-generation-ai-development-plan" in slugs(
        client.get("/api/v1/policies", params={"q": "new generation artificial"})
    )
    assert "new-generation-ai-development-plan" in slugs(
        client.get("/api/v1/policies", params={"q": "新一代人工智能"})
    )
    assert slugs(client.get("/api/v1/policies", params={"q": "zzzunknownword"})) == []
    assert "tianjin-100bn-rmb-ai-fund" in slugs(
        client.get("/api/v1/policies", params={"q": "100% billion"})
    )


def test_region_filter_includes_sub_regions(client: TestClient) -> None:
    shanghai = client.get("/api/v1/regions", params={"iso": "CN-SH"}).json()["items"][0]
    in_shanghai = set(slugs(client.get("/api/v1/policies", params={"region": "CN-SH"})))
    by_slug = set(slugs(client.get("/api/v1/policies", params={"region": shanghai["slug"]})))
    assert in_shanghai == by_slug
    nationwide = set(slugs(client.get("/api/v1/policies", params={"region": "cn", "limit": 200})))
    assert in_shanghai < nationwide  # China includes Shanghai and its zones
    below = [c["slug"] for c in shanghai["children"]]
    assert below, "Shanghai has a free-trade zone below it"
    zone_policies = set(slugs(client.get("/api/v1/policies", params={"region": below[0]})))
    assert zone_policies and zone_policies <= in_shanghai


def test_actor_filter_with_role(client: TestClient) -> None:
    issued = client.get(
        "/api/v1/policies", params={"actor": "ministry-of-education", "actor_role": "issuer"}
    ).json()["items"]
    assert issued
    for policy in issued:
        assert {"actor": "ministry-of-education", "role": "issuer"} in [
            {"actor": a["actor"], "role": a["role"]} for a in policy["actors"]
        ]


def test_date_filters_match_by_overlap(client: TestClient, auth: dict[str, str]) -> None:
    for slug, announced in [("d-year", "2019"), ("d-month", "2019-07"), ("d-day", "2019-07-15")]:
        client.post(
            "/api/v1/policies",
            json=new_policy(slug, announced=announced, topics=["security"], kind="sanction"),
            headers=auth,
        )

    def found(**params: str) -> set[str]:
        return set(slugs(client.get("/api/v1/policies", params={"kind": "sanction", **params})))

    assert found(announced_from="2019", announced_to="2019") == {"d-year", "d-month", "d-day"}
    # July 2019 overlaps "2019" (it may have been July) as well as the July dates.
    assert found(announced_from="2019-07", announced_to="2019-07") == {
        "d-year",
        "d-month",
        "d-day",
    }
    assert found(announced_from="2019-08") == {"d-year"}
    assert found(announced_to="2019-06") == {"d-year"}
    assert found(announced_from="2019-07-16", announced_to="2019-07-31") == {"d-year", "d-month"}
    assert found(announced_from="2020") == set()


def test_in_force_on(client: TestClient) -> None:
    in_2023 = set(slugs(client.get("/api/v1/policies", params={"in_force_on": "2023"})))
    fyp = [
        p
        for p in walk(client, "/api/v1/policies", limit=200)
        if p["in_force_from"] == "2021" and p["in_force_to"] == "2025"
    ]
    assert fyp and {p["slug"] for p in fyp} <= in_2023
    in_2030 = set(slugs(client.get("/api/v1/policies", params={"in_force_on": "2030"})))
    assert not {p["slug"] for p in fyp} & in_2030


def test_in_force_on_counts_from_announcement_unless_only_planned(
    client: TestClient, auth: dict[str, str]
) -> None:
    for slug, status in [("pledged", "planned"), ("enacted", "in_force")]:
        body = new_policy(slug, status=status, announced="2019", kind="sanction")
        del body["in_force_from"], body["in_force_to"]
        assert client.post("/api/v1/policies", json=body, headers=auth).status_code == 201
    in_force = slugs(
        client.get("/api/v1/policies", params={"in_force_on": "2020", "kind": "sanction"})
    )
    assert in_force == ["enacted"]


def test_actor_region_and_goal_filters(client: TestClient) -> None:
    ministries = walk(client, "/api/v1/actors", kind="ministry")
    assert ministries and all(a["kind"] == "ministry" for a in ministries)
    tsinghua_children = walk(client, "/api/v1/actors", parent="tsinghua-university")
    assert all(a["parent"] == "tsinghua-university" for a in tsinghua_children)
    assert tsinghua_children
    in_china = walk(client, "/api/v1/actors", region="CN", limit=200)
    assert len(in_china) > len(walk(client, "/api/v1/actors", region="CN-TJ"))
    children = walk(client, "/api/v1/regions", parent="cn")
    assert children and all(r["parent"] == "cn" for r in children)
    assert [r["iso_code"] for r in walk(client, "/api/v1/regions", iso="cn-tj")] == ["CN-TJ"]
    staged = walk(client, "/api/v1/goals", deadline_from="2025", deadline_to="2030")
    assert staged and all("2025" <= g["deadline"][:4] <= "2030" for g in staged)


def test_region_detail_shows_ancestors(client: TestClient) -> None:
    deepest = max(walk(client, "/api/v1/regions", limit=200), key=lambda r: len(r["ancestors"]))
    assert len(deepest["ancestors"]) >= 2
    assert deepest["ancestors"][0]["slug"] == "cn"
    assert deepest["ancestors"][-1]["slug"] == deepest["parent"]


def test_page_of_policies_runs_a_bounded_number_of_statements(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    for i in range(60):  # more rows than one page, each with links and citations
        client.post("/api/v1/policies", json=new_policy(f"bulk-{i}"), headers=auth)
    statements: list[str] = []
    bind = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(bind, "before_cursor_execute", count)
    try:
        response = client.get("/api/v1/policies", params={"limit": 50})
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 50
    assert len(statements) <= 25, "\n".join(statements)


def test_counts_stop_at_the_cap(database: Any, session_factory: Any) -> None:
    from app.api.deps import get_session_factory
    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings(database_url=database.url, count_cap=10))
    app.dependency_overrides[get_session_factory] = lambda: session_factory
    with TestClient(app) as capped:
        body = capped.get("/api/v1/policies", params={"limit": 1}).json()
        assert body["total"] == 10 and body["total_capped"] is True
        few = capped.get("/api/v1/regions", params={"parent": "cn"}).json()
        assert few["total"] < 10 and "total_capped" not in few


def test_a_resource_without_facets_lists_without_a_facet_parameter(
    database: Any, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi import FastAPI

    from app.api.deps import get_session_factory
    from app.api.problems import install_problem_handlers
    from app.api.routes.records import records_router
    from app.config import Settings
    from app.resources import RESOURCES
    from app.services import explore

    monkeypatch.delitem(explore.FACETS, "sources")  # a resource type that declares no facets
    app = FastAPI()
    app.state.settings = Settings(database_url=database.url)
    app.state.read_slots = None
    install_problem_handlers(app)
    app.include_router(records_router(RESOURCES["sources"]), prefix="/api/v1")
    app.dependency_overrides[get_session_factory] = lambda: session_factory
    with TestClient(app) as facetless:
        listed = facetless.get("/api/v1/sources")
        assert listed.status_code == 200 and listed.json()["items"]
        problem = assert_problem(facetless.get("/api/v1/sources", params={"facet": "x"}), 400)
        assert [e["pointer"] for e in problem["errors"]] == ["/query/facet"]
        operation = app.openapi()["paths"]["/api/v1/sources"]["get"]
        assert "facet" not in {p["name"] for p in operation["parameters"]}
