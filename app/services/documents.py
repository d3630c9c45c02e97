"""Read documents: the JSON a GET answers with, declared once per resource.

Each resource's document is a spec (``document_spec`` in app/resources/<name>.py). Lists
and GETs take their JSON from the database itself (one statement per page of ids, on SQLite
and PostgreSQL alike);
``documents`` builds the same documents as dicts, from a few Core queries per page, for the
callers that work on values (exports, MCP, reconciliation). ``tests/api/test_documents.py``
holds the builders together, byte for byte.
"""

from collections.abc import Sequence
from typing import Any

from pydantic_core import to_json
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Region
from app.services.read import DocumentReader
from app.services.read.python_builder import IDS, AnySelect, Document, ancestor_rows
from app.services.resources import RESOURCES, ResourceName

__all__ = [
    "Document",
    "document",
    "document_json",
    "documents",
    "documents_json",
    "record_id",
    "region_ancestors",
    "render",
    "render_page",
]

_READERS: dict[ResourceName, DocumentReader] = {
    name: DocumentReader(resource.document_spec) for name, resource in RESOURCES.items()
}


def render(document: Any) -> bytes:
    """A document (or a page of them) as the JSON bytes sent and hashed for the ETag."""
    return to_json(document)


def record_id(session: Session, resource: ResourceName, key: str) -> int:
    """The id of the record with this numeric id or slug; NotFound otherwise."""
    model = RESOURCES[resource].model
    condition = model.id == int(key) if key.isdigit() else model.slug == key
    found = session.scalar(select(model.id).where(condition))
    if found is None:
        raise NotFound(f"no {RESOURCES[resource].singular} with id or slug {key!r}")
    return int(found)


def documents(session: Session, resource: ResourceName, ids: Sequence[int]) -> list[Document]:
    """The documents of these records, in the order of ``ids`` (missing ids are skipped)."""
    return _READERS[resource].dicts(session, ids)


def document(session: Session, resource: ResourceName, key: str) -> Document:
    """One record's document by numeric id or slug; NotFound otherwise."""
    return documents(session, resource, [record_id(session, resource, key)])[0]


def documents_json(session: Session, resource: ResourceName, ids: Sequence[int]) -> list[bytes]:
    """``render`` of each of ``documents(...)``, written by the database where it can."""
    return _READERS[resource].json(session, ids)


def document_json(session: Session, resource: ResourceName, key: str) -> bytes:
    """``render(document(...))``: one record's JSON by numeric id or slug; NotFound otherwise."""
    return documents_json(session, resource, [record_id(session, resource, key)])[0]


def render_page(items: Sequence[bytes], rest: dict[str, Any]) -> bytes:
    """``render({"items": [...], **rest})`` from items that are already JSON."""
    tail = render(rest)
    return b'{"items":[' + b",".join(items) + b"]" + (b"," + tail[1:] if rest else b"}")


_ANCESTOR_ROWS: AnySelect = select(
    Region.id, Region.parent_id, Region.slug, Region.name, Region.kind, Region.iso_code
).where(Region.id.in_(IDS))


def region_ancestors(*, session: Session, regions: Sequence[Any]) -> dict[int, list[Any]]:
    """Each region's enclosing regions (rows with id, parent_id, slug, name, kind, iso_code),
    outermost first: one query per tree level, not per row."""
    starts = {region.id: region.parent_id for region in regions}
    return ancestor_rows(session, _ANCESTOR_ROWS, starts)
