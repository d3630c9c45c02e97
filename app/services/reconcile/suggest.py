"""What OpenRefine asks while a person types and looks: suggestions of entities, types and
properties, the properties to propose for a type, and a preview card of one entity."""

import html
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.services import search as search_service
from app.services.reconcile.entities import (
    MODELS,
    PROPERTIES,
    TYPES,
    aliases,
    describe,
    display_name,
    other_names,
)
from app.services.reconcile.matching import Result
from app.services.reconcile.parsing import bad_input, parse_entity_id
from app.services.reconcile.scoring import PUNCTUATION, normalise

MAX_SUGGEST_CURSOR = 100  # suggestions serve typing, not a walk
SUGGEST_PAGE = 10


def suggest_entities(
    *, session: Session, prefix: str, types: Sequence[str], cursor: int
) -> list[Result]:
    """Records whose words start with what was typed (the last word as a prefix)."""
    words = PUNCTUATION.sub(" ", search_service.searchable_text(prefix)).split()
    if not words:
        return []
    q = " ".join([*words[:-1], words[-1] + "*"][: search_service.MAX_TERMS])
    hits, _total = search_service.search(
        session=session, q=q, record_types=types, limit=cursor + SUGGEST_PAGE
    )
    hits = hits[cursor:]
    results = []
    for hit in hits:
        record = session.get(MODELS[hit.record_type], hit.record_id)
        if record is None:
            continue
        results.append(
            Result(
                id=f"{hit.record_type}:{record.slug}",
                name=display_name(hit.record_type, record),
                type=hit.record_type,
                description=describe(hit.record_type, record),
                score=hit.score,
                match=False,
                features={},
            )
        )
    return results


def suggest_types(prefix: str) -> list[dict[str, str]]:
    p = normalise(prefix)
    return [
        {"id": t, "name": name}
        for t, (name, _r) in TYPES.items()
        if normalise(name).startswith(p) or t.startswith(p)
    ]


def suggest_properties(prefix: str, cursor: int) -> list[dict[str, str]]:
    p = normalise(prefix)
    found = [
        {"id": prop.id, "name": prop.name, "description": prop.description}
        for prop in PROPERTIES
        if normalise(prop.name).startswith(p) or prop.id.startswith(p.replace(" ", "_"))
    ]
    return found[cursor : cursor + SUGGEST_PAGE]


def propose_properties(record_type: str, limit: int) -> list[dict[str, str]]:
    if record_type not in TYPES:
        raise bad_input("/query/type", f"unknown type {record_type!r}; known: {', '.join(TYPES)}")
    found = [
        {"id": p.id, "name": p.name, "description": p.description}
        for p in PROPERTIES
        if record_type in p.types
    ]
    return found[:limit]


def entity(*, session: Session, entity_id: str) -> tuple[str, Any]:
    """(type, record) of an entity id; NotFound if there is no such record."""
    record_type, slug = parse_entity_id(entity_id)
    record = session.scalar(select(MODELS[record_type]).where(MODELS[record_type].slug == slug))
    if record is None:
        raise NotFound(f"no {record_type} with slug {slug!r}")
    return record_type, record


def preview_html(record_type: str, record: Any) -> str:
    """A small HTML card for OpenRefine's preview pane."""
    name = html.escape(display_name(record_type, record))
    lines = [f"<strong>{name}</strong>", html.escape(describe(record_type, record))]
    others = other_names(record) + aliases(record)
    if others:
        lines.append("Also: " + html.escape(", ".join(others)))
    text = getattr(record, "description", None) or getattr(record, "summary", None)
    if text:
        lines.append(html.escape(text))
    body = "<br>".join(lines)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{name}</title></head>"
        f'<body style="font-family: sans-serif; font-size: 13px; margin: 6px">{body}</body></html>'
    )
