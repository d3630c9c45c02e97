"""Read documents (app/services/documents.py) are the ``*Out`` schemas, byte for byte.

Lists and GETs are built from a few Core queries instead of ORM objects and validated
models, and on SQLite policies are written as JSON by SQLite itself; these tests keep the
renderings from drifting apart on every record of the seed and on awkward values.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    Region,
    Source,
)
from app.services.documents import (
    document_json,
    documents,
    documents_json,
    render,
    render_page,
)
from app.services.resources import (
    RESOURCES,
    ResourceName,
    record_dump,
    record_from_document,
)


def _cited(attr: Any) -> LoaderOption:
    return selectinload(attr).selectinload(Citation.source)


# The ORM rows the schemas render, for comparison with the documents built from Core queries.
READ_LOAD: dict[ResourceName, Sequence[LoaderOption]] = {
    "policies": (
        *RESOURCES["policies"].load_for_write,
        selectinload(Policy.incoming_relations).selectinload(PolicyRelation.policy),
        selectinload(Policy.goals),
    ),
    "actors": (
        selectinload(Actor.region),
        selectinload(Actor.parent),
        selectinload(Actor.children),
        selectinload(Actor.policy_links).selectinload(PolicyActor.policy),
        selectinload(Actor.goals),
        _cited(Actor.citations),
    ),
    "regions": (
        selectinload(Region.parent),
        selectinload(Region.children),
        selectinload(Region.policy_links).selectinload(PolicyRegion.policy),
        _cited(Region.citations),
    ),
    "goals": (selectinload(Goal.policy), selectinload(Goal.actor), _cited(Goal.citations)),
    "sources": (
        selectinload(Source.citations).options(
            selectinload(Citation.policy),
            selectinload(Citation.actor),
            selectinload(Citation.region),
            selectinload(Citation.goal),
            selectinload(Citation.policy_actor).options(
                selectinload(PolicyActor.policy), selectinload(PolicyActor.actor)
            ),
            selectinload(Citation.policy_region).options(
                selectinload(PolicyRegion.policy), selectinload(PolicyRegion.region)
            ),
            selectinload(Citation.policy_relation).options(
                selectinload(PolicyRelation.policy), selectinload(PolicyRelation.related_policy)
            ),
        ),
    ),
}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_every_seed_record_renders_as_its_schema(session: Session, resource: ResourceName) -> None:
    model = RESOURCES[resource].model
    rows = list(session.scalars(select(model).order_by(model.id).options(*READ_LOAD[resource])))
    assert rows, "the seed has records of every type"
    # Reversed: documents come back in the order asked for, not the table's order.
    rendered = documents(session, resource, [row.id for row in reversed(rows)])
    assert [doc["id"] for doc in rendered] == [row.id for row in reversed(rows)]
    fields = list(RESOURCES[resource].document.model_fields)
    for doc in rendered:  # the documented shape: its fields, in its order
        assert list(doc) == [f for f in fields if f in doc], doc["slug"]
        assert {f for f in fields if f not in doc} <= {"relation_chain", "relation_chain_truncated"}


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


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_json_documents_are_the_rendered_documents(
    session: Session, resource: ResourceName
) -> None:
    ids = list(
        session.scalars(
            select(RESOURCES[resource].model.id).order_by(-RESOURCES[resource].model.id)
        )
    )
    assert documents_json(session, resource, [*ids, 10**9]) == [
        render(d) for d in documents(session, resource, ids)
    ]


def test_awkward_values_render_alike(
    client: TestClient, auth: dict[str, str], session: Session
) -> None:
    """Values where SQLite's JSON and pydantic's could differ: escapes, amounts, dates."""
    cite = {"source": "digichina-2020-12-21-ai-self-reliance", "paragraph": None}
    awkward_text = 'quote " backslash \\ tab \t newline \n delete \u007f \u2028 中文 \u00e9'
    amounts = ["0.000001", "12345678901.123456", "100", "2500000.50", "0", "99999999999999"]
    # Beyond what SQLite writes exactly: such documents are built in Python.
    amounts += ["100000000000000000000000", "1234567890123456.5", "2500000000.5"]
    slugs: list[str] = []
    for number, amount in enumerate(amounts):
        slug = f"awkward-{number}"
        policy = {
            "slug": slug,
            "title": awkward_text,
            "short_name": "A/B",
            "titles": {"zh": "人工智能", "en": awkward_text},
            "kind": "plan",
            "status": "in_force",
            "summary": awkward_text,
            "identifiers": [{"scheme": "doc", "value": "国发〔2017〕35号"}],
            "announced": ["2019", "2019-02", "2020-02-29"][number % 3],
            "in_force_from": ["2021-12", None, "2021"][number % 3],
            "money": {"amount": amount, "currency": "CNY", "approximate": number % 2 == 0},
            "topics": ["talent", "investment"],
            "actors": [
                {"actor": "state-council", "role": "issuer", "citations": [cite, cite]},
                {"actor": "state-council", "role": "implementer"},
            ],
            "regions": [{"region": "cn", "role": "jurisdiction", "citations": [cite]}],
            "related": [{"policy": slugs[-1], "relation": "amends", "citations": [cite]}]
            if slugs
            else [],
            "citations": [{**cite, "section": "Intro", "excerpt": awkward_text, "note": "n"}],
        }
        created = client.post("/api/v1/policies", json=policy, headers=auth)
        assert created.status_code == 201, created.text
        slugs.append(slug)
        for stage, deadline in ((None, "2030"), (2, "2025-06"), (1, "2025-06-30")):
            goal = {
                "slug": f"{slug}-goal-{stage or 0}",
                "statement": awkward_text,
                "policy": slug,
                "stage": stage,
                "deadline": deadline,
            }
            assert client.post("/api/v1/goals", json=goal, headers=auth).status_code == 201
    # A timestamp without microseconds is written without a fraction.
    first = session.scalar(select(Policy).where(Policy.slug == slugs[0]))
    assert first is not None
    first.updated_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first.created_at = datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC)
    session.flush()
    session.expire_all()
    ids = list(session.scalars(select(Policy.id).where(Policy.slug.in_(slugs))))
    expected = [render(d) for d in documents(session, "policies", ids)]
    assert documents_json(session, "policies", ids) == expected
    assert document_json(session, "policies", slugs[0]).startswith(b'{"slug":"awkward-0"')
    stored = {d["slug"]: d["money"]["amount"] for d in documents(session, "policies", ids)}
    assert [stored[f"awkward-{n}"] for n in (0, 2, 4)] == ["0.000001", "100", "0"]


def test_a_page_is_its_items_joined() -> None:
    items = [render({"a": 1}), render({"b": [1, "é"]})]
    rest = {"total": None, "next": "http://x/?a=1&b=2"}
    assert render_page(items, rest) == render({"items": [{"a": 1}, {"b": [1, "é"]}], **rest})
    assert render_page([], {}) == render({"items": []})


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_bundle_records_from_documents_equal_the_schema_dump(
    session: Session, resource: ResourceName
) -> None:
    """Exports and writes take each record's bundle shape from its document: a valid record
    whose record_dump is itself (so an unchanged record compares equal)."""
    spec = RESOURCES[resource]
    ids = list(session.scalars(select(spec.model.id)))
    for document in documents(session, resource, ids):
        got = record_from_document(spec, document)
        expected = record_dump(spec, spec.record.model_validate(got))
        assert json.dumps(got) == json.dumps(expected), document["slug"]  # same keys and order
