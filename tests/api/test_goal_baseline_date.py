"""A goal's baseline date: written, read, filtered by nothing new, exported and imported back.

Added as the worked example of "adding a field" (CONTRIBUTING.md): the model, the goal's
descriptor (record shape and read document), a migration and this test, nothing else.
"""

import csv
import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.services.bundle import import_bundle, iter_export_json
from app.services.bundle_files import read_csv_folder, write_csv_folder
from tests.api.test_records import ARTICLE

GOAL = {
    "slug": "ai-talent-target-2030",
    "statement": "Train five million high-level AI personnel.",
    "actor": "steve-chen",
    "target_value": "5000000",
    "baseline_value": "50000",
    "baseline_date": "2020-12",
    "deadline": "2030",
    "citations": [{"source": ARTICLE, "excerpt": "5 million high-level AI personnel"}],
}


def test_baseline_date_is_written_read_and_patched(
    client: TestClient, auth: dict[str, str]
) -> None:
    created = client.post("/api/v1/goals", json=GOAL, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["baseline_date"] == "2020-12"
    listed = client.get("/api/v1/goals", params={"actor": "steve-chen"}).json()["items"]
    assert next(g for g in listed if g["slug"] == GOAL["slug"])["baseline_date"] == "2020-12"
    patched = client.patch(
        f"/api/v1/goals/{GOAL['slug']}",
        json={"baseline_date": "2020"},
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert client.get(f"/api/v1/goals/{GOAL['slug']}").json()["baseline_date"] == "2020"
    bad = client.patch(
        f"/api/v1/goals/{GOAL['slug']}",
        json={"baseline_date": "2020-13"},
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert bad.status_code == 422


def test_baseline_date_survives_csv_and_bundle_round_trips(
    client: TestClient, auth: dict[str, str], session: Session, tmp_path: Path
) -> None:
    assert client.post("/api/v1/goals", json=GOAL, headers=auth).status_code == 201
    exported = json.loads("".join(iter_export_json(session)))
    goal = next(g for g in exported["goals"] if g["slug"] == GOAL["slug"])
    assert goal["baseline_date"] == "2020-12"
    write_csv_folder(session, tmp_path)
    with (tmp_path / "goals.csv").open(newline="", encoding="utf-8") as f:
        rows = {row["slug"]: row for row in csv.DictReader(f)}
    assert rows[GOAL["slug"]]["baseline_date"] == "2020-12"
    data, source_map = read_csv_folder(tmp_path)
    import_bundle(session=session, data={}, mode="replace")
    import_bundle(session=session, data=data, source_map=source_map)
    again = json.loads("".join(iter_export_json(session)))
    assert again == exported
