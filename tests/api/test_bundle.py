"""Bundle import and export over the API: all-or-nothing, every error located, lossless."""

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import get_session_factory
from app.config import Settings
from app.errors import InvalidInput
from app.main import create_app
from app.services.bundle import import_bundle, iter_export_json
from app.services.bundle_files import read_csv_folder, write_csv_folder
from examples.build_and_import import build_bundle
from examples.build_and_import import import_bundle as example_import
from examples.export_edit_reimport import export_edit_reimport
from tests.api.test_records import ARTICLE
from tests.conftest import Database, assert_problem


def export(client: TestClient, fmt: str = "json") -> str:
    response = client.get("/api/v1/export", params={"format": fmt})
    assert response.status_code == 200, response.text
    text: str = response.text
    return text


def empty_the_database(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/import", params={"mode": "replace", "allow_delete": "true"}, json={}, headers=auth
    )
    assert response.status_code == 200, response.text
    assert json.loads(export(client))["policies"] == []


def post_import(client: TestClient, auth: dict[str, str], bundle: Any, **params: Any) -> Any:
    return client.post("/api/v1/import", params=params, json=bundle, headers=auth)


def counts(report: Any, what: str) -> dict[str, int]:
    return {name: c[what] for name, c in report.json()["counts"].items()}


def test_round_trip_is_byte_identical(client: TestClient, auth: dict[str, str]) -> None:
    first = export(client)
    empty_the_database(client, auth)
    report = client.post(
        "/api/v1/import", content=first, headers={**auth, "Content-Type": "application/json"}
    )
    assert report.status_code == 200, report.text
    assert counts(report, "created")["policies"] == len(json.loads(first)["policies"])
    assert export(client) == first


def test_yaml_round_trip(client: TestClient, auth: dict[str, str]) -> None:
    first = export(client, "yaml")
    assert yaml.safe_load(first) == json.loads(export(client))
    empty_the_database(client, auth)
    response = client.post(
        "/api/v1/import", content=first, headers={**auth, "Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    assert export(client, "yaml") == first


def test_reimport_changes_nothing(client: TestClient, auth: dict[str, str]) -> None:
    bundle = json.loads(export(client))
    report = post_import(client, auth, bundle)
    assert report.status_code == 200
    assert set(counts(report, "created").values()) == {0}
    assert set(counts(report, "updated").values()) == {0}
    assert counts(report, "unchanged")["policies"] == len(bundle["policies"])


def test_dry_run_writes_nothing(client: TestClient, auth: dict[str, str]) -> None:
    before = export(client)
    bundle = json.loads(before)
    bundle["policies"][0]["title"] = "Edited title"
    bundle["regions"].append({"slug": "new-place", "name": "New place", "kind": "city"})
    report = post_import(client, auth, bundle, dry_run="true")
    assert report.status_code == 200, report.text
    assert report.json()["dry_run"] is True
    assert counts(report, "updated")["policies"] == 1
    assert counts(report, "created")["regions"] == 1
    assert export(client) == before


def big_bundle(size: int) -> dict[str, Any]:
    cite = {"source": ARTICLE, "section": "Introduction", "paragraph": 1}
    return {
        "policies": [
            {
                "slug": f"bulk-policy-{i:04d}",
                "title": f"Bulk policy {i}",
                "kind": "measure",
                "announced": f"{2000 + i % 20}",
                "actors": [{"actor": "state-council", "role": "issuer", "citations": [cite]}],
                "citations": [cite],
            }
            for i in range(size)
        ]
    }


def test_one_bad_record_in_a_thousand_writes_nothing(
    client: TestClient, auth: dict[str, str]
) -> None:
    before = export(client)
    bundle = big_bundle(1000)
    bundle["policies"][537]["kind"] = "wish"
    problem = assert_problem(post_import(client, auth, bundle), 422)
    assert problem["errors"] == [
        {
            "pointer": "/policies/537/kind",
            "detail": problem["errors"][0]["detail"],
            "slug": "bulk-policy-0537",
        }
    ]
    assert export(client) == before
    good = post_import(client, auth, big_bundle(1000))
    assert counts(good, "created")["policies"] == 1000


def planned_rows(session: Session, table: str) -> float:
    """The row count PostgreSQL's planner believes (pg_class.reltuples; -1: never analysed)."""
    return float(
        session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})
    )


def test_a_large_import_refreshes_postgresql_statistics(
    client: TestClient, auth: dict[str, str], session: Session
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite plans these queries without statistics")

    def visible() -> float:  # rows this (rolled-back) test transaction sees
        return float(session.scalar(text("SELECT count(*) FROM policies")) or 0)

    # ANALYZE reads every row of a small table, uncommitted ones of its own transaction
    # included, so only an ANALYZE run by the import itself can match this count.
    small = post_import(client, auth, big_bundle(10))  # below the threshold: no ANALYZE
    assert counts(small, "created")["policies"] == 10
    assert planned_rows(session, "policies") != visible()
    good = post_import(client, auth, big_bundle(1010))
    assert counts(good, "created")["policies"] == 1000
    assert planned_rows(session, "policies") == visible()


def test_every_error_is_listed_with_its_location(client: TestClient, auth: dict[str, str]) -> None:
    before = export(client)
    bundle = {
        "regions": [
            {"slug": "loop-a", "name": "A", "kind": "city", "parent": "loop-b"},
            {"slug": "loop-b", "name": "B", "kind": "city", "parent": "loop-a"},
            {"slug": "dup", "name": "Dup", "kind": "city"},
            {"slug": "dup", "name": "Dup again", "kind": "city"},
        ],
        "policies": [
            {
                "slug": "p1",
                "title": "P1",
                "kind": "plan",
                "in_force_from": "2025",
                "in_force_to": "2021",
            },
            {
                "slug": "p2",
                "title": "P2",
                "kind": "plan",
                "actors": [{"actor": "nobody", "role": "issuer"}],
                "related": [{"policy": "no-policy", "relation": "implements"}],
                "citations": [{"source": "no-source"}],
            },
        ],
        "goals": [{"slug": "g1", "statement": "Orphan."}],
        "extras": [],
    }
    problem = assert_problem(post_import(client, auth, bundle), 422)
    found = {(e["pointer"], e.get("slug")) for e in problem["errors"]}
    assert {
        ("/extras", None),
        ("/regions/0/parent", "loop-a"),
        ("/regions/1/parent", "loop-b"),
        ("/regions/3/slug", "dup"),
        ("/policies/0", "p1"),
        ("/policies/1/actors/0/actor", "p2"),
        ("/policies/1/related/0/policy", "p2"),
        ("/policies/1/citations/0/source", "p2"),
        ("/goals/0", "g1"),
    } <= found
    assert export(client) == before


def test_insert_mode_refuses_existing_slugs(client: TestClient, auth: dict[str, str]) -> None:
    bundle = {"regions": [{"slug": "cn", "name": "China", "kind": "country", "iso_code": "CN"}]}
    problem = assert_problem(post_import(client, auth, bundle, mode="insert"), 422)
    assert problem["errors"][0]["pointer"] == "/regions/0/slug"
    assert post_import(client, auth, bundle).status_code == 200  # upsert is fine


def test_replace_mode_deletes_what_is_absent(client: TestClient, auth: dict[str, str]) -> None:
    bundle = json.loads(export(client))
    removed = bundle["goals"].pop()
    assert_problem(post_import(client, auth, bundle, mode="replace"), 400)  # needs the flag
    report = post_import(client, auth, bundle, mode="replace", allow_delete="true")
    assert report.status_code == 200, report.text
    assert counts(report, "deleted")["goals"] == 1
    assert_problem(client.get(f"/api/v1/goals/{removed['slug']}"), 404)


def test_bad_syntax_and_shape(client: TestClient, auth: dict[str, str]) -> None:
    yaml_headers = {**auth, "Content-Type": "application/yaml"}
    problem = assert_problem(
        client.post("/api/v1/import", content="regions: [", headers=yaml_headers), 422
    )
    assert "YAML" in problem["detail"]
    assert_problem(post_import(client, auth, [1, 2, 3]), 422)
    assert_problem(post_import(client, auth, {"format": "other"}), 422)
    assert_problem(post_import(client, auth, {"regions": {"a": 1}}), 422)
    assert_problem(post_import(client, auth, {"goals": {}}), 422)  # found by schemathesis
    assert_problem(client.post("/api/v1/import", json={}), 401)


def test_size_limits(database: Database, session_factory: sessionmaker[Session]) -> None:
    app = create_app(
        Settings(database_url=database.url, max_body_bytes=2048, max_import_records=10)
    )
    app.dependency_overrides[get_session_factory] = lambda: session_factory
    with session_factory() as session:
        from app.services.keys import create_key

        _key, secret = create_key(session=session, name="limits", scope="admin")
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        assert_problem(post_import(client, auth, big_bundle(200)), 413)
        assert_problem(post_import(client, auth, big_bundle(11)), 413)
        assert post_import(client, auth, big_bundle(2)).status_code == 200


def test_bundle_schema_is_served(client: TestClient) -> None:
    schema = client.get("/api/v1/bundle.schema.json").json()
    assert schema["title"] == "policydb bundle"
    assert "PolicyRecord" in schema["$defs"]


def test_csv_folder_round_trip(client: TestClient, session: Session, tmp_path: Path) -> None:
    before = "".join(iter_export_json(session))
    write_csv_folder(session, tmp_path)
    with (tmp_path / "policy_actors.csv").open() as f:
        assert next(csv.reader(f)) == ["policy", "actor", "role"]
    data, source_map = read_csv_folder(tmp_path)
    import_bundle(session=session, data={}, mode="replace")
    assert json.loads("".join(iter_export_json(session)))["policies"] == []
    import_bundle(session=session, data=data, source_map=source_map)
    assert "".join(iter_export_json(session)) == before


def test_csv_errors_name_file_and_line(session: Session, tmp_path: Path) -> None:
    write_csv_folder(session, tmp_path)
    path = tmp_path / "policies.csv"
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    rows[3][rows[0].index("kind")] = "wish"
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    data, source_map = read_csv_folder(tmp_path)
    with pytest.raises(InvalidInput) as caught:
        import_bundle(session=session, data=data, source_map=source_map)
    errors = caught.value.errors
    assert [(e.pointer, e.file, e.line) for e in errors] == [
        ("/policies/2/kind", "policies.csv", 4)
    ]


def test_lists_stream_as_csv_and_ndjson(client: TestClient) -> None:
    paged = client.get("/api/v1/policies", params={"topic": "talent", "limit": 200}).json()
    expected = [p["slug"] for p in paged["items"]]
    ndjson = client.get("/api/v1/policies", params={"topic": "talent", "format": "ndjson"})
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line)["slug"] for line in ndjson.text.splitlines()] == expected
    as_csv = client.get(
        "/api/v1/policies", params={"topic": "talent"}, headers={"Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["slug"] for r in rows] == expected
    assert json.loads(rows[0]["topics"])
    assert_problem(client.get("/api/v1/policies", params={"format": "csv", "region": "x"}), 400)


def test_examples_run(client: TestClient, auth: dict[str, str]) -> None:
    # Starlette's TestClient is an httpx2 client once httpx2 is installed (the mcp SDK needs
    # it); the examples take an httpx client: the same interface.
    http = cast(httpx.Client, client)
    key = auth["Authorization"].removeprefix("Bearer ")
    report = example_import(http, key, build_bundle())
    assert report["counts"]["policies"]["created"] == 1
    programme = client.get("/api/v1/policies/example-city-ai-talent-programme").json()
    assert programme["money"] == {"amount": "50000000", "currency": "CNY", "approximate": False}
    report = export_edit_reimport(http, key, "new-generation-ai-development-plan", "Edited.")
    assert report["counts"]["policies"]["updated"] == 1
    edited = client.get("/api/v1/policies/new-generation-ai-development-plan").json()
    assert edited["summary"] == "Edited."
    assert copy.deepcopy(edited) == edited


def test_merge_mode_and_the_changes_in_the_answer(client: TestClient, auth: dict[str, str]) -> None:
    before = client.get("/api/v1/regions/cn").json()
    patch = {"regions": [{"slug": "cn", "name": "China (PRC)"}]}
    response = client.post(
        "/api/v1/import", params={"mode": "merge", "dry_run": "true"}, json=patch, headers=auth
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["mode"], report["changes_total"], report["warnings"]) == ("merge", 1, [])
    assert report["changes"] == [
        {
            "resource": "regions",
            "slug": "cn",
            "action": "update",
            "fields": {"name": {"old": "China", "new": "China (PRC)"}},
            "cleared": [],
        }
    ]
    yaml_patch = "regions:\n  - slug: cn\n    name: China (PRC)\n"
    response = client.post(
        "/api/v1/import",
        params={"mode": "merge"},
        content=yaml_patch,
        headers={**auth, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    after = client.get("/api/v1/regions/cn").json()
    assert after["name"] == "China (PRC)"
    assert (after["names"], after["citations"]) == (before["names"], before["citations"])


def test_repeated_keys_are_problems_with_their_pointer(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = b'{"regions": [], "regions": []}'
    response = client.post(
        "/api/v1/import", content=body, headers={**auth, "Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["pointer"] == "/regions"
    response = client.post(
        "/api/v1/import",
        content=b"regions: []\nregions: []\n",
        headers={**auth, "Content-Type": "application/yaml"},
    )
    assert assert_problem(response, 422)["errors"][0]["pointer"] == "/regions"
