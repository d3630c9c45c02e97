"""Read documents (app/services/documents.py) are the ``*Out`` schemas, byte for byte.

Lists and GETs are built from a few Core queries instead of ORM objects and validated
models; these tests keep the two renderings from drifting apart on every record of the seed.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.schemas.actor import ActorOut
from app.schemas.goal import GoalOut
from app.schemas.policy import PolicyOut
from app.schemas.region import RegionOut
from app.schemas.source import SourceOut
from app.services.documents import READ_LOAD, documents, region_ancestors, render
from app.services.resources import RESOURCES, ResourceName


def _schema_rendering(session: Session, resource: ResourceName, row: Any) -> bytes:
    if resource == "regions":
        out: Any = RegionOut.from_model(
            row, region_ancestors(session=session, regions=[row])[row.id]
        )
    else:
        schema: Any = {
            "policies": PolicyOut,
            "actors": ActorOut,
            "goals": GoalOut,
            "sources": SourceOut,
        }[resource]
        out = schema.from_model(row)
    rendered: bytes = out.model_dump_json(exclude={"relation_chain"}).encode()
    return rendered


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_every_seed_record_renders_as_its_schema(session: Session, resource: ResourceName) -> None:
    model = RESOURCES[resource].model
    rows = list(session.scalars(select(model).order_by(model.id).options(*READ_LOAD[resource])))
    assert rows, "the seed has records of every type"
    # Reversed: documents come back in the order asked for, not the table's order.
    rendered = documents(session, resource, [row.id for row in reversed(rows)])
    assert [doc["id"] for doc in rendered] == [row.id for row in reversed(rows)]
    for row, doc in zip(reversed(rows), rendered, strict=True):
        assert render(doc) == _schema_rendering(session, resource, row), row.slug


def test_missing_ids_are_skipped(session: Session) -> None:
    first = session.scalar(select(RESOURCES["policies"].model.id).limit(1))
    assert first is not None
    assert [d["id"] for d in documents(session, "policies", [first, 10**9])] == [first]


def test_unstaged_goals_come_last_on_every_engine(client: TestClient, auth: dict[str, str]) -> None:
    policy = "new-generation-ai-development-plan"
    for slug, stage in (("unstaged-goal", None), ("staged-goal", 1)):
        goal = {"slug": slug, "statement": "A target.", "policy": policy, "stage": stage}
        assert client.post("/api/v1/goals", json=goal, headers=auth).status_code == 201
    stages = [g["stage"] for g in client.get(f"/api/v1/policies/{policy}").json()["goals"]]
    staged = [s for s in stages if s is not None]
    assert None in stages and staged
    assert stages == sorted(staged) + [None] * (len(stages) - len(staged))
