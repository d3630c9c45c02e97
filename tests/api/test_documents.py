"""Read documents (app/services/documents.py): every builder writes the same bytes.

Lists and GETs take their JSON from the database (SQLite's or PostgreSQL's SQL, generated
from each resource's spec), other callers take dicts from the Python builder; these tests
keep the renderings from drifting apart on every record of the seed and on awkward values
entered through the API (tests/services/test_read_model.py writes rawer ones).
"""

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Policy
from app.services.documents import (
    _READERS,
    document_json,
    documents,
    documents_json,
    render,
    render_page,
)
from app.services.read.sql_builder import json_documents
from app.services.resources import (
    RESOURCES,
    ResourceName,
    record_dump,
    record_from_document,
)


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_every_seed_record_is_written_alike_by_the_database_and_python(
    session: Session, resource: ResourceName
) -> None:
    model = RESOURCES[resource].model
    # Reversed: documents come back in the order asked for, not the table's order.
    ids = list(session.scalars(select(model.id).order_by(model.id.desc())))
    assert ids, "the seed has records of every type"
    statement = _READERS[resource].statement(session)
    assert statement is not None, f"{resource} is written by the database on every engine"
    written = json_documents(session, statement, ids)
    assert [record for record, _ in written] == ids
    rendered = [render(d) for d in documents(session, resource, ids)]
    for record, (_, text), python in zip(ids, written, rendered, strict=True):
        assert text == python, record


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
    ids = list(session.scalars(select(Policy.id).where(Policy.slug.in_(slugs)).order_by(Policy.id)))
    expected = [render(d) for d in documents(session, "policies", ids)]
    assert documents_json(session, "policies", ids) == expected
    first_json = document_json(session, "policies", slugs[0])
    assert first_json.startswith(b'{"slug":"awkward-0","title":"quote \\" backslash \\\\ tab \\t')
    assert b'"created_at":"2026-01-02T03:04:05.000120Z","updated_at":"2026-01-02T03:04:05Z"' in (
        first_json
    )
    stored = {d["slug"]: d["money"]["amount"] for d in documents(session, "policies", ids)}
    assert [stored[f"awkward-{n}"] for n in (0, 2, 4)] == ["0.000001", "100", "0"]
    assert [json.loads(e)["announced"] for e in expected[:3]] == ["2019", "2019-02", "2020-02-29"]


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
