"""The reconciliation service, checked against the W3C 0.2 JSON Schemas on both engines."""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from app.services import reconcile as service
from app.services.bundle import import_bundle
from tests.conftest import ROOT, Database, assert_problem

SPECS = Path(ROOT.parent / "shared" / "specs" / "reconciliation-0.2" / "schemas")
URL = "/api/v1/reconcile"


def _registry() -> Registry:
    registry: Registry = Registry()
    for path in SPECS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        registry = registry.with_resource(schema["$id"], resource)
    return registry


@pytest.fixture(scope="module")
def validate() -> Any:
    if not SPECS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the reconciliation 0.2 schemas are missing: {SPECS}")
        pytest.skip(f"the reconciliation 0.2 schemas are not at {SPECS}")
    registry = _registry()

    def check(name: str, instance: Any) -> None:
        schema = json.loads((SPECS / f"{name}.json").read_text(encoding="utf-8"))
        validator = Draft7Validator(schema, registry=registry)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]

    return check


def _reconcile(client: TestClient, validate: Any, batch: dict[str, Any]) -> dict[str, Any]:
    validate("reconciliation-query-batch", batch)
    response = client.post(URL, data={"queries": json.dumps(batch)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    validate("reconciliation-result-batch", body)
    assert set(body) == set(batch)
    for answer in body.values():
        scores = [c["score"] for c in answer["result"]]
        assert scores == sorted(scores, reverse=True)
    return body


def test_manifest(client: TestClient, validate: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    manifest = response.json()
    validate("manifest", manifest)
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {
        "policy",
        "actor",
        "region",
        "goal",
        "source",
    }
    # Every advertised service answers.
    view = manifest["view"]["url"].replace("{{id}}", "actor%3Aministry-of-education")
    assert client.get(view, follow_redirects=False).status_code == 302
    for kind in ("entity", "type", "property"):
        suggest = manifest["suggest"][kind]
        assert client.get(suggest["service_url"] + suggest["service_path"] + "?prefix=m").is_success
    proposals = manifest["extend"]["propose_properties"]
    url = proposals["service_url"] + proposals["service_path"]
    assert client.get(url, params={"type": "actor"}).is_success


# A spreadsheet's columns as people type them: case, punctuation, abbreviations, aliases,
# pinyin with and without tone marks, Chinese.
REALISTIC = [
    ("actor", "Ministry of Education", "ministry-of-education", True),
    ("actor", "MINISTRY OF EDUCATION.", "ministry-of-education", True),
    ("actor", "ministry-of-education", "ministry-of-education", True),
    ("actor", "教育部", "ministry-of-education", True),
    ("actor", "Jiàoyùbù", "ministry-of-education", True),
    ("actor", "Jiaoyubu", "ministry-of-education", True),
    ("actor", "MoE", "ministry-of-education", True),
    ("actor", "state council", "state-council", True),
    ("actor", "国务院", "state-council", True),
    ("actor", "Guowuyuan", "state-council", True),
    ("actor", "Communist Party of China", "ccp", True),
    ("actor", "中国共产党", "ccp", True),
    ("actor", "Zhongguo Gongchandang", "ccp", True),
    ("actor", "C.C.P.", "ccp", True),
    ("actor", "Chinese Communist Party (CCP)", "ccp", False),
    ("actor", "Tsinghua Univ.", "tsinghua-university", False),
    ("actor", "Qinghua Daxue", "tsinghua-university", True),
    ("actor", "清华大学", "tsinghua-university", True),
    ("actor", "tencent", "tencent", True),
    ("actor", "腾讯", "tencent", True),
    ("actor", "Chinese Academy of Sciences", "chinese-academy-of-sciences", True),
    ("actor", "CAS", "chinese-academy-of-sciences", True),
    ("actor", "Tianjin Municipal Govt", "tianjin-municipal-government", False),
    ("actor", "State Department", "us-department-of-state", True),
    ("actor", "Xi Jinping", "xi-jinping", True),
    ("actor", "习近平", "xi-jinping", True),
    ("actor", "xi  jinping", "xi-jinping", True),
    ("region", "TIANJIN", "tianjin", True),
    ("region", "天津", "tianjin", True),
    ("region", "Tiānjīn", "tianjin", True),
    ("region", "CN-TJ", "tianjin", True),
    ("region", "cn-tj", "tianjin", True),
    ("region", "beijing", "beijing", True),
    ("region", "北京", "beijing", True),
    ("region", "Shanghai", "shanghai", True),
    ("region", "上海", "shanghai", True),
    ("region", "Guangdong Province", "guangdong", False),
    ("region", "Shenzhen", "shenzhen", True),
    ("region", "深圳", "shenzhen", True),
    ("region", "People's Republic of China", "cn", True),
    ("region", "PRC", "cn", True),
    ("region", "China", "cn", True),
    ("region", "CN", "cn", True),
    ("region", "Zhongguo", "cn", True),
    ("region", "U.S.", "us", True),
    ("region", "united states", "us", True),
    ("region", "Zhongguancun", "zhongguancun-science-park", True),
    ("region", "Shanghai FTZ", "shanghai-free-trade-zone", True),
    ("region", "Lingang", "lingang-new-area", False),
]


def test_realistic_batch_reconciles_every_name(client: TestClient, validate: Any) -> None:
    batch = {
        f"q{i}": {"query": q, "type": t, "limit": 5} for i, (t, q, _s, _m) in enumerate(REALISTIC)
    }
    body = _reconcile(client, validate, batch)
    wrong = []
    for i, (record_type, query, slug, sure) in enumerate(REALISTIC):
        result = body[f"q{i}"]["result"]
        top = result[0] if result else None
        expected = f"{record_type}:{slug}"
        if top is None or top["id"] != expected or top["match"] is not sure:
            wrong.append((query, expected, sure, top and (top["id"], top["score"], top["match"])))
        assert all(not c["match"] for c in result[1:])
    assert not wrong


def test_get_and_post_agree(client: TestClient, validate: Any) -> None:
    batch = {"a": {"query": "Tianjin"}, "b": {"query": "Ministry of Education", "type": ["actor"]}}
    by_get = client.get(URL, params={"queries": json.dumps(batch)})
    assert by_get.status_code == 200
    assert by_get.json() == _reconcile(client, validate, batch)
    top = by_get.json()["a"]["result"][0]
    assert (top["id"], top["match"]) == ("region:tianjin", True)
    assert top["type"] == [{"id": "region", "name": "Region"}]


def test_match_only_when_unambiguous(client: TestClient, validate: Any) -> None:
    body = _reconcile(
        client,
        validate,
        {
            # A region's name and an actor's alias: no type says which.
            "both": {"query": "Zhongguancun Science Park"},
            "typed": {"query": "Zhongguancun Science Park", "type": "region"},
            "by_kind": {
                "query": "Zhongguancun Science Park",
                "properties": [{"pid": "kind", "v": "science_park"}],
            },
            "nothing": {"query": "Atlantis Ministry of Fishing Quotas", "type": "region"},
        },
    )
    both = body["both"]["result"]
    assert {c["id"] for c in both[:2]} == {
        "region:zhongguancun-science-park",
        "actor:zhongguancun-administration",
    }
    assert not any(c["match"] for c in both)
    assert body["typed"]["result"][0]["match"] is True
    assert body["by_kind"]["result"][0]["id"] == "region:zhongguancun-science-park"
    assert body["by_kind"]["result"][0]["match"] is True
    assert not any(c["match"] for c in body["nothing"]["result"])


def test_properties_constrain(client: TestClient, validate: Any) -> None:
    body = _reconcile(
        client,
        validate,
        {
            "right": {
                "query": "Beijing Municipal Government",
                "type": "actor",
                "properties": [{"pid": "region", "v": "CN-BJ"}],
            },
            "wrong": {
                "query": "Beijing Municipal Government",
                "type": "actor",
                "properties": [{"pid": "region", "v": {"id": "region:shanghai", "name": "x"}}],
            },
            "iso_only": {"type": "region", "properties": [{"pid": "iso_code", "v": "CN-GD"}]},
            "parent_only": {"type": "region", "properties": [{"pid": "parent", "v": "shanghai"}]},
        },
    )
    right, wrong = body["right"]["result"][0], body["wrong"]["result"][0]
    assert right["id"] == wrong["id"] == "actor:beijing-municipal-government"
    assert right["match"] is True and right["score"] == 100
    assert wrong["match"] is False and wrong["score"] < right["score"]
    features = {f["id"]: f["value"] for f in wrong["features"]}
    assert features["property_region"] is False
    assert [c["id"] for c in body["iso_only"]["result"]] == ["region:guangdong"]
    assert [c["id"] for c in body["parent_only"]["result"]] == ["region:shanghai-free-trade-zone"]


def test_limit_and_types(client: TestClient, validate: Any) -> None:
    body = _reconcile(
        client,
        validate,
        {
            "one": {"query": "Ministry", "limit": 1},
            "policies": {"query": "Tianjin fund", "type": "policy"},
        },
    )
    assert len(body["one"]["result"]) == 1
    assert body["policies"]["result"]
    assert all(c["id"].startswith("policy:") for c in body["policies"]["result"])
    assert body["policies"]["result"][0]["id"] == "policy:tianjin-100bn-rmb-ai-fund"


def test_queries_use_a_bounded_number_of_statements(
    client: TestClient, session: Session, validate: Any
) -> None:
    statements: list[str] = []
    bind = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(bind, "before_cursor_execute", count)
    try:
        batch = {f"q{i}": {"query": q, "type": t} for i, (t, q, _s, _m) in enumerate(REALISTIC)}
        _reconcile(client, validate, batch)
    finally:
        event.remove(bind, "before_cursor_execute", count)
    # slug + ISO + full text + loading candidates and their links: a handful per query,
    # however many rows the tables hold (no scan of every record in Python).
    assert len(statements) <= 8 * len(REALISTIC)


def test_many_namesakes(client: TestClient, session: Session, validate: Any) -> None:
    """Thousands of records sharing the query's words: the right one still wins, clearly."""
    actors = [
        {
            "slug": f"bulk-ministry-{i}",
            "name": f"Ministry of Education and Bureau {i}",
            "kind": "ministry",
        }
        for i in range(3000)
    ]
    import_bundle(session=session, data={"actors": actors}, changed_by="test")
    statements: list[str] = []
    bind = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(bind, "before_cursor_execute", count)
    try:
        body = _reconcile(
            client,
            validate,
            {
                "exact": {"query": "Ministry of Education", "type": "actor"},
                "typo": {"query": "Ministry of Educaton", "type": "actor"},
                "bulk": {"query": "Ministry of Education and Bureau 1234", "type": "actor"},
            },
        )
    finally:
        event.remove(bind, "before_cursor_execute", count)
    exact = body["exact"]["result"]
    assert exact[0]["id"] == "actor:ministry-of-education" and exact[0]["match"] is True
    assert len(exact) == 10  # the default limit, not 3000 candidates
    assert body["typo"]["result"]
    assert body["bulk"]["result"][0]["id"] == "actor:bulk-ministry-1234"
    assert len(statements) <= 8 * 3


def test_suggest(client: TestClient, validate: Any) -> None:
    entities = client.get(f"{URL}/suggest/entity", params={"prefix": "Minis"})
    assert entities.status_code == 200
    validate("suggest-entities-response", entities.json())
    ids = [r["id"] for r in entities.json()["result"]]
    assert "actor:ministry-of-education" in ids
    typed = client.get(f"{URL}/suggest/entity", params={"prefix": "tian", "type": "region"})
    assert [r["id"] for r in typed.json()["result"]] == ["region:tianjin"]
    chinese = client.get(f"{URL}/suggest/entity", params={"prefix": "教育"})
    assert "actor:ministry-of-education" in [r["id"] for r in chinese.json()["result"]]
    later = client.get(f"{URL}/suggest/entity", params={"prefix": "Minis", "cursor": 1})
    assert [r["id"] for r in later.json()["result"]] == ids[1:]
    assert client.get(f"{URL}/suggest/entity", params={"prefix": "!!"}).json() == {"result": []}

    types = client.get(f"{URL}/suggest/type", params={"prefix": "ac"})
    validate("suggest-types-response", types.json())
    assert types.json()["result"] == [{"id": "actor", "name": "Actor"}]
    properties = client.get(f"{URL}/suggest/property", params={"prefix": "iso"})
    validate("suggest-properties-response", properties.json())
    assert [p["id"] for p in properties.json()["result"]] == ["iso_code"]


def test_preview_and_view(client: TestClient) -> None:
    preview = client.get(f"{URL}/preview", params={"id": "region:tianjin"})
    assert preview.status_code == 200
    assert preview.headers["content-type"].startswith("text/html")
    assert "Tianjin" in preview.text and "天津" in preview.text
    assert "x-frame-options" not in preview.headers  # OpenRefine shows it in an iframe
    view = client.get(f"{URL}/view/region:tianjin", follow_redirects=False)
    assert view.status_code == 302
    assert view.headers["location"] == "/api/v1/regions/tianjin"
    assert client.get(view.headers["location"]).json()["iso_code"] == "CN-TJ"
    assert_problem(client.get(f"{URL}/view/region:atlantis"), 404)
    assert_problem(client.get(f"{URL}/view/planet:mars"), 400)
    assert_problem(client.get(f"{URL}/preview", params={"id": "actor:nobody"}), 404)


def test_data_extension(client: TestClient, validate: Any) -> None:
    proposal = client.get(f"{URL}/properties", params={"type": "actor", "limit": 50})
    assert proposal.status_code == 200
    validate("data-extension-property-proposal", proposal.json())
    assert "region" in [p["id"] for p in proposal.json()["properties"]]
    query: dict[str, Any] = {
        "ids": ["actor:ministry-of-education", "region:tianjin", "actor:nobody"],
        "properties": [{"id": "kind"}, {"id": "region"}, {"id": "parent"}, {"id": "iso_code"}],
    }
    validate("data-extension-query", query)
    response = client.post(URL, data={"extend": json.dumps(query)})
    assert response.status_code == 200, response.text
    body = response.json()
    validate("data-extension-response", body)
    moe = body["rows"]["actor:ministry-of-education"]
    assert moe["kind"] == [{"str": "ministry"}]
    assert moe["region"] == [{"id": "region:cn", "name": "China"}]
    assert moe["parent"] == [{"id": "actor:state-council", "name": "State Council"}]
    tianjin = body["rows"]["region:tianjin"]
    assert tianjin["iso_code"] == [{"str": "CN-TJ"}]
    assert tianjin["parent"] == [{"id": "region:cn", "name": "China"}]
    assert body["rows"]["actor:nobody"] == {p["id"]: [] for p in query["properties"]}
    by_get = client.get(URL, params={"extend": json.dumps(query)})
    assert by_get.json() == body

    policy = client.post(
        URL,
        data={
            "extend": json.dumps(
                {
                    "ids": ["policy:tianjin-100bn-rmb-ai-fund"],
                    "properties": [{"id": "regions"}, {"id": "actors"}, {"id": "announced"}],
                }
            )
        },
    ).json()
    validate("data-extension-response", policy)
    row = policy["rows"]["policy:tianjin-100bn-rmb-ai-fund"]
    assert {"id": "region:tianjin", "name": "Tianjin"} in row["regions"]
    assert row["actors"][0] == {
        "id": "actor:tianjin-municipal-government",
        "name": "Tianjin Municipal Government",
    }
    assert len(row["actors"]) == len({a["id"] for a in row["actors"]})  # issuer + funder: once
    assert row["announced"] == []  # the article does not date the pledge


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"queries": "{not json"}, "/query/queries"),
        ({"queries": "[1, 2]"}, "/query/queries"),
        ({"queries": json.dumps({"q": "text"})}, "/query/queries/q"),
        ({"queries": json.dumps({"q": {"query": "x", "type": "planet"}})}, "/query/queries/q/type"),
        ({"queries": json.dumps({"q": {"query": "x", "limit": 0}})}, "/query/queries/q/limit"),
        ({"queries": json.dumps({"q": {"query": "x", "limit": 10**6}})}, "/query/queries/q/limit"),
        ({"queries": json.dumps({"q": {"query": "x" * 501}})}, "/query/queries/q/query"),
        ({"queries": json.dumps({"q": {"query": ""}})}, "/query/queries/q"),
        ({"queries": json.dumps({"q": {"query": "x", "extra": 1}})}, "/query/queries/q"),
        (
            {"queries": json.dumps({"q": {"query": "x", "properties": [{"pid": "hue", "v": 1}]}})},
            "/query/queries/q/properties/0/pid",
        ),
        (
            {"queries": json.dumps({f"q{i}": {"query": "x"} for i in range(101)})},
            "/query/queries",
        ),
        ({"extend": json.dumps({"ids": "x"})}, "/query/extend"),
        ({"extend": json.dumps({"ids": ["nope"], "properties": []})}, "/query/extend/ids/0"),
        (
            {"extend": json.dumps({"ids": [], "properties": [{"id": "colour"}]})},
            "/query/extend/properties/0/id",
        ),
        ({"extend": json.dumps({"ids": ["actor:x"] * 501, "properties": []})}, "/query/extend/ids"),
        ({"quereis": "{}"}, "/query/quereis"),
        ({"queries": json.dumps({"q": {"query": "a\x00b"}})}, "/query/queries/q/query"),
        (
            {"extend": json.dumps({"ids": ["actor:\x00"], "properties": []})},
            "/query/extend/ids/0",
        ),
        # Found by a review: each of these was a 500.
        ({"queries": "[" * 5_000 + "]" * 5_000}, "/query/queries"),
        ({"queries": '{"q": {"query": "x", "limit": 1' + "0" * 5000 + "}}"}, "/query/queries"),
        ({"queries": '{"q": {"query": "\\ud800"}}'}, "/query/queries/q/query"),
        ({"queries": '{"\\ud800": {"query": "abc"}}'}, "/query/queries"),
        ({"extend": '{"ids": ["actor:\\ud800"], "properties": []}'}, "/query/extend/ids/0"),
    ],
)
def test_bad_input_is_a_400(client: TestClient, params: dict[str, str], pointer: str) -> None:
    body = assert_problem(client.get(URL, params=params), 400)
    assert pointer in [e["pointer"] for e in body["errors"]]
    assert client.get(URL, params=params).headers["access-control-allow-origin"] == "*"


def test_bad_form_and_suggest_input(client: TestClient) -> None:
    body = assert_problem(client.post(URL, data={"queries": "{"}), 400)
    assert body["errors"][0]["pointer"] == "/form/queries"
    assert_problem(client.get(f"{URL}/suggest/entity", params={"prefix": "x" * 501}), 400)
    assert_problem(client.get(f"{URL}/suggest/entity", params={"prefix": "x", "cursor": -1}), 400)
    assert_problem(client.get(f"{URL}/suggest/entity", params={"prefix": "x", "type": "z"}), 400)
    assert_problem(client.get(f"{URL}/properties", params={"type": "planet"}), 400)
    assert_problem(client.get(f"{URL}/properties", params={"type": "actor", "limit": 0}), 400)
    assert_problem(client.get(f"{URL}/suggest/entity"), 400)
    assert_problem(client.get(f"{URL}/view/actor:a%00b"), 400)
    assert client.get(f"{URL}/suggest/entity", params={"prefix": "a\x00"}).status_code == 200


def test_cors_on_reconciliation_only(client: TestClient) -> None:
    origin = {"Origin": "https://openrefine.example"}
    assert client.get(URL, headers=origin).headers["access-control-allow-origin"] == "*"
    preflight = client.options(URL, headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    other = client.get("/api/v1/policies", headers=origin)
    assert "access-control-allow-origin" not in other.headers


def test_normalise() -> None:
    assert service.normalise("  Tiānjīn Municipal Gov't. ") == "tianjin municipal govt"
    assert service.normalise("中国（上海）") == "中国 上海"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    text=st.text(max_size=60),
    prefix=st.text(max_size=30),
    value=st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=False)),
)
def test_any_text_is_answered_never_a_500(
    client: TestClient, text: str, prefix: str, value: Any
) -> None:
    batch = {
        "q": {"query": text or "x", "properties": [{"pid": "region", "v": value}]},
        "r": {"query": text or "x", "type": "region"},
    }
    extend = {"ids": [f"region:{text}"], "properties": [{"id": "parent"}]}
    for response in (
        client.post(URL, data={"queries": json.dumps(batch)}),
        client.get(f"{URL}/suggest/entity", params={"prefix": prefix}),
        client.get(f"{URL}/preview", params={"id": f"actor:{prefix}"}),
        client.get(URL, params={"extend": json.dumps(extend)}),
    ):
        assert response.status_code < 500, response.text


def test_a_tie_is_no_match_even_with_limit_one(
    client: TestClient, auth: dict[str, str], validate: Any
) -> None:
    """Found by a review: the runner-up was taken after the cut to ``limit``."""
    twin = {"slug": "moe-twin", "name": "Ministry of Education", "kind": "ministry"}
    assert client.post("/api/v1/actors", json=twin, headers=auth).status_code == 201
    query = {"query": "Ministry of Education", "type": "actor"}
    for limit in (1, 2):
        results = _reconcile(client, validate, {"q": {**query, "limit": limit}})["q"]["result"]
        assert len(results) == limit and results[0]["score"] == 100
        assert not any(r["match"] for r in results)


def test_the_manifest_uses_the_public_url_whatever_the_host(database: Database) -> None:
    settings = Settings(database_url=database.url, public_url="https://policy.example.org")
    with TestClient(create_app(settings)) as client:
        body = client.get(URL, headers={"Host": "evil.example"}).json()
    assert body["identifierSpace"] == "https://policy.example.org/api/v1/"
    assert body["view"]["url"].startswith("https://policy.example.org/api/v1/reconcile/view/")
