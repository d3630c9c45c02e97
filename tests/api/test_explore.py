"""Search, facets, statistics, timeline, graph and relation chains, on both engines."""

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_lists import walk
from tests.api.test_records import new_policy
from tests.conftest import assert_problem


def hits(client: TestClient, q: str, **params: Any) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q, "limit": 200, **params})
    assert response.status_code == 200, response.text
    return [h["slug"] for h in response.json()["items"]]


def test_search_ranks_and_highlights(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"q": "Tianjin fund"}).json()
    assert body["items"][0]["slug"] == "tianjin-100bn-rmb-ai-fund"
    first = body["items"][0]
    assert first["type"] == "policy" and first["url"] == "/api/v1/policies/" + first["slug"]
    assert "<mark>" in first["snippet"]
    scores = [h["score"] for h in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_phrase_prefix_type_and_chinese(client: TestClient) -> None:
    assert "shanghai-free-trade-zone" in hits(client, '"free trade zone"')
    assert "shanghai-free-trade-zone" not in hits(client, '"zone trade free"')
    assert "horizon-robotics" in hits(client, "robot*")
    assert "horizon-robotics" not in hits(client, "robot")
    assert set(hits(client, "tianjin", type="region")) == {"tianjin"}
    aidp = "new-generation-ai-development-plan"
    assert hits(client, "新一代人工智能发展规划", type="policy")[0] == aidp
    assert "state-council-2017-aidp" in hits(client, "新一代人工智能发展规划")  # its notice
    assert aidp in hits(client, "人工智能")  # a part of a Chinese name
    assert "tianjin" in hits(client, "天津")


@pytest.mark.parametrize("q", ['"open phrase', "*", "**", "a*b", '""', "&&&", "x" * 201])
def test_malformed_queries_are_400(client: TestClient, q: str) -> None:
    problem = assert_problem(client.get("/api/v1/search", params={"q": q}), 400)
    assert problem["errors"][0]["pointer"] == "/query/q"
    assert_problem(client.get("/api/v1/policies", params={"q": q}), 400)


def test_search_pages_walk_every_hit_once(client: TestClient) -> None:
    everything = client.get("/api/v1/search", params={"q": "china", "limit": 200}).json()
    walked = [h["slug"] for h in walk(client, "/api/v1/search", q="china", limit=3)]
    assert walked == [h["slug"] for h in everything["items"]]
    assert len(walked) == everything["total"] > 3


def test_index_follows_every_write(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/policies", json=new_policy(title="Zyxquorp programme"), headers=auth)
    assert hits(client, "zyxquorp") == ["test-policy"]
    assert [p["slug"] for p in walk(client, "/api/v1/policies", q="zyxquorp")] == ["test-policy"]
    client.patch("/api/v1/policies/test-policy", json={"title": "Plover scheme"}, headers=auth)
    assert hits(client, "zyxquorp") == []
    assert hits(client, "plover") == ["test-policy"]
    bundle = {
        "actors": [
            {
                "slug": "quillon-ministry",
                "name": "Quillon Ministry",
                "kind": "ministry",
                "names": {"zh": "奎隆部"},
            }
        ]
    }
    assert client.post("/api/v1/import", json=bundle, headers=auth).status_code == 200
    assert hits(client, "quillon") == ["quillon-ministry"]
    assert hits(client, "奎隆") == ["quillon-ministry"]
    client.delete("/api/v1/policies/test-policy", headers=auth)
    client.delete("/api/v1/actors/quillon-ministry", headers=auth)
    assert hits(client, "plover") == [] and hits(client, "quillon") == []


def test_facets_count_the_filtered_rows(client: TestClient) -> None:
    body = client.get(
        "/api/v1/policies",
        params=[
            ("facet", "kind"),
            ("facet", "topic"),
            ("facet", "year"),
            ("facet", "region"),
            ("facet", "actor"),
            ("limit", "1"),
        ],
    ).json()
    kinds = body["facets"]["kind"]
    assert sum(v["count"] for v in kinds["values"]) == body["total"]
    assert not kinds["truncated"] and not kinds["timed_out"]
    assert all(v["label"] for v in kinds["values"])
    assert {"value": "tianjin", "label": "Tianjin", "count": 2} in body["facets"]["region"][
        "values"
    ]
    talent = client.get("/api/v1/policies", params={"topic": "talent", "facet": "topic"}).json()
    counts = {v["value"]: v["count"] for v in talent["facets"]["topic"]["values"]}
    assert counts["talent"] == talent["total"]
    assert "facets" not in client.get("/api/v1/policies").json()
    actors = client.get("/api/v1/actors", params={"facet": "kind"}).json()
    assert sum(v["count"] for v in actors["facets"]["kind"]["values"]) == actors["total"]
    problem = assert_problem(client.get("/api/v1/policies", params={"facet": "colour"}), 400)
    assert problem["errors"][0]["pointer"] == "/query/facet/0"  # the facet at fault


def test_stats(client: TestClient) -> None:
    stats = client.get("/api/v1/stats").json()
    for resource in ("policies", "actors", "regions", "goals", "sources"):
        total = client.get(f"/api/v1/{resource}", params={"limit": 1}).json()["total"]
        assert stats["counts"][resource] == total
    years = {v["value"]: v["count"] for v in stats["by"]["policies"]["year"]["values"]}
    assert years["2019"] >= 3
    assert stats["by"]["goals"]["year"]["values"]


def test_timeline_in_date_order_with_precision(client: TestClient) -> None:
    events = walk(client, "/api/v1/timeline", limit=7)
    assert events == client.get("/api/v1/timeline", params={"limit": 200}).json()["items"]
    dates = [e["date"] for e in events]
    assert dates == sorted(dates, key=lambda d: d[:4])  # by earliest day
    mps = next(e for e in events if e["record"]["slug"] == "mps-12-measures-foreign-talent-2019")
    assert mps == {
        "date": "2019-07",
        "precision": "month",
        "event": "policy_announced",
        "stage": None,
        "record": {
            "type": "policy",
            "slug": "mps-12-measures-foreign-talent-2019",
            "title": mps["record"]["title"],
            "url": "/api/v1/policies/mps-12-measures-foreign-talent-2019",
        },
    }
    stages = [
        e["stage"]
        for e in events
        if e["record"]["slug"].startswith("moe-ai-higher-ed") and e["event"] == "goal_deadline"
    ]
    assert stages == [1, 2, 2, 3]


def test_timeline_filters(client: TestClient) -> None:
    shanghai = client.get("/api/v1/timeline", params={"region": "CN-SH"}).json()["items"]
    assert [(e["date"], e["event"]) for e in shanghai] == [
        ("2013", "policy_announced"),
        ("2019-07-27", "policy_announced"),
    ]
    window = client.get("/api/v1/timeline", params={"from": "2019-07", "to": "2019-07"}).json()
    assert {e["date"][:4] for e in window["items"]} == {"2019"}  # "2019" overlaps July 2019
    # Mid-month start: exactly the events whose (partial) date ends on or after it.
    everything = client.get("/api/v1/timeline", params={"limit": 200}).json()["items"]
    ends = {"2019": "2019-12-31", "2019-07": "2019-07-31"}  # dates that string-compare early
    expected = [e for e in everything if ends.get(e["date"], e["date"]) >= "2019-07-15"]
    since = client.get("/api/v1/timeline", params={"from": "2019-07-15", "limit": 200}).json()
    assert since["items"] == expected
    assert {"2019", "2019-07"} & {e["date"] for e in expected}  # the cases the bound must keep
    moe = client.get("/api/v1/timeline", params={"actor": "ministry-of-education"}).json()
    assert {e["record"]["type"] for e in moe["items"]} == {"policy", "goal"}
    talent = client.get("/api/v1/timeline", params={"topic": "talent"}).json()["items"]
    assert talent
    for bad in (
        {"from": "2019-13"},
        {"region": "atlantis"},
        {"actor": "nobody"},
        {"topic": "astrology"},
        {"cursor": "x.y"},
    ):
        assert_problem(client.get("/api/v1/timeline", params=bad), 400)


def test_graph_around_a_ministry(client: TestClient) -> None:
    graph = client.get(
        "/api/v1/graph", params={"root": "actor:ministry-of-education", "depth": 1}
    ).json()
    ids = {n["id"] for n in graph["nodes"]}
    assert "policy:moe-ai-higher-education-action-plan" in ids
    assert {
        "source": "actor:ministry-of-education",
        "target": "policy:moe-ai-higher-education-action-plan",
        "type": "actor_role",
        "role": "issuer",
    } in graph["edges"]
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    deeper = client.get(
        "/api/v1/graph", params={"root": "actor:ministry-of-education", "depth": 2}
    ).json()
    assert len(deeper["nodes"]) > len(graph["nodes"])
    alone = client.get("/api/v1/graph", params={"root": "region:cn", "depth": 0}).json()
    assert [n["id"] for n in alone["nodes"]] == ["region:cn"] and alone["edges"] == []
    capped = client.get(
        "/api/v1/graph", params={"root": "region:cn", "depth": 3, "limit": 5}
    ).json()
    assert len(capped["nodes"]) == 5 and capped["truncated"]


def test_graphml(client: TestClient) -> None:
    params: dict[str, str | int] = {"root": "policy:tianjin-100bn-rmb-ai-fund", "depth": 2}
    as_json = client.get("/api/v1/graph", params=params).json()
    response = client.get("/api/v1/graph", params={**params, "format": "graphml"})
    assert response.headers["content-type"].startswith("application/graphml+xml")
    root = ET.fromstring(response.content)
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    assert len(root.findall(f"{ns}graph/{ns}node")) == len(as_json["nodes"])
    assert len(root.findall(f"{ns}graph/{ns}edge")) == len(as_json["edges"])


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"root": "policy"}, 400),
        ({"root": "planet:earth"}, 400),
        ({"root": "policy:nope"}, 404),
        ({"root": "region:cn", "depth": 99}, 400),
        ({"root": "region:cn", "limit": 100000}, 400),
        ({"root": "region:cn", "format": "dot"}, 400),
    ],
)
def test_graph_bad_input(client: TestClient, params: dict[str, Any], status: int) -> None:
    assert_problem(client.get("/api/v1/graph", params=params), status)


def test_relation_chain_is_transitive_and_cycle_safe(
    client: TestClient, auth: dict[str, str]
) -> None:
    plan = client.get(
        "/api/v1/policies/moe-ai-higher-education-action-plan", params={"expand": "relations"}
    ).json()
    assert "new-generation-ai-development-plan" in [c["policy"] for c in plan["relation_chain"]]
    assert (
        "relation_chain"
        not in client.get("/api/v1/policies/moe-ai-higher-education-action-plan").json()
    )
    client.post("/api/v1/policies", json=new_policy("loop-a"), headers=auth)
    client.post(
        "/api/v1/policies",
        json=new_policy("loop-b", related=[{"policy": "loop-a", "relation": "implements"}]),
        headers=auth,
    )
    client.patch(
        "/api/v1/policies/loop-a",
        json={"related": [{"policy": "loop-b", "relation": "amends"}]},
        headers=auth,
    )
    chain = client.get("/api/v1/policies/loop-a", params={"expand": "relations"}).json()
    assert [(c["policy"], c["depth"], c["via"]) for c in chain["relation_chain"]] == [
        ("loop-b", 1, "loop-a")
    ]
    assert_problem(client.get("/api/v1/actors/state-council", params={"expand": "relations"}), 400)
    assert_problem(client.get("/api/v1/policies/loop-a", params={"expand": "everything"}), 400)
