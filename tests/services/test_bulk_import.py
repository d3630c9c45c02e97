"""The chunked import path: records may point across chunks, nothing is written on any error,
the input is streamed, and bulk-created rows get the same history and search documents as
rows written through the ORM."""

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.models import HistoryEntry, Policy, Region, SearchDocument
from app.services.bundle import import_bundle, iter_records, json_bundle_bytes
from app.services.imports import BundleInput
from app.services.imports.ledger import Ledger
from app.services.imports.writer import Ids
from app.services.resources import RESOURCES, record_dump
from app.services.search import document_text
from tests.api.test_records import ARTICLE

CITE = {"source": ARTICLE, "section": "Introduction", "paragraph": 1, "excerpt": "AI"}


def forward_bundle() -> dict[str, Any]:
    """Every reference points forward: to a record later in its section (or the next one)."""
    return {
        "goals": [
            {"slug": "fw-goal", "statement": "More.", "policy": "fw-policy-0", "citations": [CITE]}
        ],
        "policies": [
            {
                "slug": f"fw-policy-{i}",
                "title": f"Forward policy {i}",
                "kind": "plan",
                "topics": ["talent", "artificial_intelligence"],
                "actors": [{"actor": "fw-actor-0", "role": "issuer", "citations": [CITE]}],
                "regions": [{"region": "fw-region-0", "role": "jurisdiction"}],
                "related": (
                    [
                        {
                            "policy": f"fw-policy-{i + 1}",
                            "relation": "implements",
                            "citations": [CITE],
                        }
                    ]
                    if i < 4
                    else []
                ),
                "citations": [CITE, {**CITE, "paragraph": 2}],
            }
            for i in range(5)
        ],
        "actors": [
            {
                "slug": f"fw-actor-{i}",
                "name": f"Forward actor {i}",
                "kind": "ministry",
                "region": f"fw-region-{i}",
                **({"parent": f"fw-actor-{i + 1}"} if i < 3 else {}),
            }
            for i in range(4)
        ],
        "regions": [
            {
                "slug": f"fw-region-{i}",
                "name": f"Forward region {i}",
                "kind": "city",
                **({"parent": f"fw-region-{i + 1}"} if i < 4 else {"parent": "cn"}),
            }
            for i in range(5)
        ],
    }


def shape(name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as an export writes them: validated, defaults filled in, sorted by slug."""
    spec = RESOURCES[name]  # type: ignore[index]
    dumped = [record_dump(spec, spec.record.model_validate(r)) for r in records]
    return sorted(dumped, key=lambda r: r["slug"])


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def exported(session: Session, name: str, prefix: str) -> list[dict[str, Any]]:
    return [r for r in iter_records(session, name) if r["slug"].startswith(prefix)]  # type: ignore[arg-type]


def test_references_across_chunk_boundaries(session: Session) -> None:
    bundle = forward_bundle()
    report = import_bundle(session=session, data=bundle, chunk_size=2)
    assert report.counts["policies"].created == 5
    assert report.counts["regions"].created == 5
    # What was written reads back as the bundle (in the bundle's shape, sorted by slug).
    for name in ("regions", "actors", "policies", "goals"):
        assert exported(session, name, "fw-") == shape(name, bundle[name])
    # The same bundle again changes nothing, whatever the chunk size.
    again = import_bundle(session=session, data=bundle, chunk_size=3)
    assert {c.unchanged for c in again.counts.values()} >= {5}
    assert {c.created + c.updated for c in again.counts.values()} == {0}


def test_references_resolve_when_remembered_ids_are_forgotten(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are looked up in the database chunk by chunk, with a bounded memory of them."""
    monkeypatch.setattr(Ids, "REMEMBERED", 2)
    bundle = forward_bundle()
    import_bundle(session=session, data=bundle, chunk_size=2)
    for name in ("regions", "actors", "policies", "goals"):
        assert exported(session, name, "fw-") == shape(name, bundle[name])


def test_the_ledger_is_closed_after_an_import_and_after_a_refused_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Ledger] = []
    real_init = Ledger.__init__

    def init(ledger: Ledger) -> None:
        real_init(ledger)
        made.append(ledger)

    monkeypatch.setattr(Ledger, "__init__", init)
    import_bundle(session=session, data=forward_bundle())
    bad = forward_bundle()
    bad["policies"][0]["actors"][0]["actor"] = "no-such-actor"
    with pytest.raises(InvalidInput):
        import_bundle(session=session, data=bad)
    assert len(made) == 2
    for ledger in made:  # its temporary database is gone with the connection
        with pytest.raises(sqlite3.ProgrammingError):
            ledger.db.execute("SELECT 1")


def test_bulk_created_rows_have_history_and_search_documents(session: Session) -> None:
    bundle = forward_bundle()
    import_bundle(session=session, data=bundle, chunk_size=2, changed_by="test")
    policy = session.scalars(select(Policy).where(Policy.slug == "fw-policy-3")).one()
    assert policy.version == 1 and policy.created_at is not None
    entry = session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.slug == "fw-policy-3", HistoryEntry.record_type == "policy"
        )
    ).one()
    assert (entry.action, entry.changed_by, entry.record_id) == ("create", "test", policy.id)
    assert entry.snapshot == exported(session, "policies", "fw-policy-3")[0]
    assert entry.fields["title"] == {"old": None, "new": "Forward policy 3"}
    rows: list[Any] = [
        session.scalars(select(Policy).where(Policy.slug == "fw-policy-3")).one(),
        session.scalars(select(Region).where(Region.slug == "fw-region-2")).one(),
    ]
    for row in rows:
        document = session.scalars(
            select(SearchDocument)
            .where(SearchDocument.record_id == row.id)
            .where(
                SearchDocument.record_type == ("policy" if isinstance(row, Policy) else "region")
            )
        ).one()
        assert (document.title, document.body) == document_text(row)


def test_a_bad_record_in_the_last_chunk_writes_nothing(session: Session) -> None:
    before = {m: count(session, m) for m in (Policy, Region, HistoryEntry, SearchDocument)}
    bundle = forward_bundle()
    bundle["goals"].append({"slug": "fw-bad-goal", "statement": "x", "policy": "nowhere"})
    with pytest.raises(InvalidInput) as caught:
        import_bundle(session=session, data=bundle, chunk_size=2)
    assert [(e.pointer, e.slug) for e in caught.value.errors] == [
        ("/goals/1/policy", "fw-bad-goal")
    ]
    assert {m: count(session, m) for m in before} == before


def test_updates_may_point_at_records_created_later(session: Session) -> None:
    """An existing record's new parent/relation/ISO code may come from a new record."""
    cn = exported(session, "regions", "cn")[0]
    plan = exported(session, "policies", "new-generation-ai-development-plan")[0]
    bundle = {
        "regions": [
            {**{k: v for k, v in cn.items() if k != "iso_code"}, "parent": "fw-world"},
            {"slug": "fw-world", "name": "World", "kind": "other", "iso_code": "CN"},
        ],
        "policies": [
            {**plan, "related": [{"policy": "fw-new-policy", "relation": "implements"}]},
            {"slug": "fw-new-policy", "title": "New", "kind": "plan", "citations": [CITE]},
        ],
    }
    report = import_bundle(session=session, data=bundle, chunk_size=1)
    assert report.counts["regions"].updated == 1 and report.counts["regions"].created == 1
    assert exported(session, "regions", "cn")[0]["parent"] == "fw-world"
    assert exported(session, "regions", "fw-world")[0]["iso_code"] == "CN"
    related = exported(session, "policies", "new-generation-ai-development-plan")[0]["related"]
    assert related == [{"policy": "fw-new-policy", "relation": "implements", "citations": []}]


def test_input_is_streamed_not_materialised(session: Session) -> None:
    """Sections may be generators: the import walks them and never needs a list."""
    bundle = forward_bundle()
    walks: list[str] = []

    def items(name: str) -> Iterator[Any]:
        walks.append(name)
        yield from bundle.get(name, [])

    header: dict[str, Any] = {name: [] for name in bundle}
    streamed = BundleInput(
        header=header, items=items, counts={n: len(v) for n, v in bundle.items()}
    )
    report = import_bundle(session=session, data=streamed, chunk_size=2)
    assert report.counts["goals"].created == 1
    assert sorted(walks) == sorted(bundle)  # each section read once


def test_json_bodies_are_streamed_with_located_errors(session: Session) -> None:
    body = json.dumps(forward_bundle()).encode()
    report = import_bundle(session=session, data=json_bundle_bytes(body), dry_run=True)
    assert report.dry_run and report.counts["policies"].created == 5
    assert exported(session, "policies", "fw-") == []
    with pytest.raises(InvalidInput) as caught:
        json_bundle_bytes(b'{"regions": [\n  {"slug": "a",}\n]}')
    assert caught.value.errors[0].detail.startswith("line 2, column")
    with pytest.raises(InvalidInput) as caught:
        json_bundle_bytes(b"[1, 2]")
    assert caught.value.errors[0].detail == "expected an object"


def test_updates_in_chunks_leave_the_callers_objects_alone(session: Session) -> None:
    bundle = {
        "policies": [
            {**p, "summary": f"Edited {i}."}
            for i, p in enumerate(exported(session, "policies", ""))
        ]
    }
    mine = session.scalars(select(Region).where(Region.slug == "cn")).one()
    report = import_bundle(session=session, data=bundle, chunk_size=2)
    assert report.counts["policies"].updated == len(bundle["policies"]) > 2
    assert mine in session and mine.slug == "cn"
    history = session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.action == "update", HistoryEntry.changed_by == "import"
        )
    ).all()
    assert len(history) == len(bundle["policies"])
    assert all(set(entry.fields) == {"summary"} for entry in history)
