"""Data extension: the values of chosen properties for a list of entities, in the cell
shapes OpenRefine adds as columns; read from the records' documents (as the API serves them)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.documents import documents
from app.services.reconcile.entities import (
    LABEL_COLUMNS,
    MODELS,
    PROPERTY_BY_ID,
    TYPES,
    record_path,
)
from app.services.reconcile.parsing import ExtendQuery, parse_entity_id

Cell = dict[str, Any]


def _entity_value(record_type: str, slug: str | None, name: str | None) -> dict[str, str]:
    if not slug:
        return {}
    return {"id": f"{record_type}:{slug}", "name": name or slug}


def _one(value: dict[str, str]) -> list[Cell]:
    return [value] if value else []


def _text_values(doc: dict[str, Any], pid: str) -> list[Cell]:
    """A list-valued text property (names, aliases, topics) as string cells."""
    if pid == "names":
        return [{"str": v} for v in (doc.get("names") or {}).values()]
    if pid == "aliases":
        return [{"str": a["value"] if isinstance(a, dict) else a} for a in doc.get("aliases") or []]
    return [{"str": t} for t in doc.get("topics") or []]


def _linked_values(record_type: str, doc: dict[str, Any], pid: str) -> list[Cell]:
    """A property whose values are other records, as entity cells."""
    if pid == "actors":
        seen = dict.fromkeys((a["actor"], a.get("actor_name")) for a in doc.get("actors") or [])
        return [_entity_value("actor", s, n) for s, n in seen]
    if pid == "regions" or (pid == "region" and record_type != "actor"):  # a policy's regions
        seen = dict.fromkeys((r["region"], r.get("region_name")) for r in doc.get("regions") or [])
        return [_entity_value("region", s, n) for s, n in seen]
    if pid == "region":  # an actor's home region
        return _one(_entity_value("region", doc.get("region"), None))
    if pid == "parent":
        return _one(_entity_value(record_type, doc.get("parent"), None))
    owners = doc.get("owners") or {}  # a goal's policy or actor
    name = owners.get("policy_title" if pid == "policy" else "actor_name")
    return _one(_entity_value(pid, doc.get(pid), name))


def _values(record_type: str, doc: dict[str, Any], pid: str) -> list[Cell]:
    """A document's values of one property, in the data extension's cell shapes."""
    if record_type not in PROPERTY_BY_ID[pid].types:
        return []
    if pid == "url":
        return [{"str": record_path(record_type, doc["slug"])}]
    if pid in ("names", "aliases", "topics"):
        return _text_values(doc, pid)
    if pid in ("actors", "regions", "region", "parent") or (
        pid in ("policy", "actor") and record_type == "goal"
    ):
        return _linked_values(record_type, doc, pid)
    value = doc.get(pid)
    if value is None or value == "":
        return []
    return [{"str": str(value)}]


def extend(*, session: Session, query: ExtendQuery) -> dict[str, Any]:
    """The data extension response: each entity's values of each property."""
    wanted: dict[str, list[str]] = {}
    for entity_id in query.ids:
        record_type, slug = parse_entity_id(entity_id)
        wanted.setdefault(record_type, []).append(slug)
    docs: dict[str, tuple[str, dict[str, Any]]] = {}
    for record_type, slugs in wanted.items():
        model = MODELS[record_type]
        ids = list(session.scalars(select(model.id).where(model.slug.in_(slugs))))
        for doc in documents(session, TYPES[record_type][1], ids):
            docs[f"{record_type}:{doc['slug']}"] = (record_type, doc)
    meta = []
    for pid in query.properties:
        prop = PROPERTY_BY_ID[pid]
        item: dict[str, Any] = {"id": pid, "name": prop.name}
        if prop.entity_type:
            item["type"] = {"id": prop.entity_type, "name": TYPES[prop.entity_type][0]}
        meta.append(item)
    rows: dict[str, Any] = {}
    for entity_id in query.ids:
        found = docs.get(entity_id)
        rows[entity_id] = {
            pid: (_values(found[0], found[1], pid) if found else []) for pid in query.properties
        }
    _name_entities(session, rows)
    return {"meta": meta, "rows": rows}


def _name_entities(session: Session, rows: dict[str, Any]) -> None:
    """Give entity cells that documents name by slug only their record's name."""
    unnamed: dict[str, list[dict[str, str]]] = {}
    for cells in rows.values():
        for values in cells.values():
            for value in values:
                if "id" in value and value["name"] == value["id"].partition(":")[2]:
                    unnamed.setdefault(value["id"].partition(":")[0], []).append(value)
    for record_type, values in unnamed.items():
        model = MODELS[record_type]
        slugs = {v["id"].partition(":")[2] for v in values}
        column = LABEL_COLUMNS[record_type]
        rows_found = session.execute(select(model.slug, column).where(model.slug.in_(slugs)))
        names: dict[str, str] = {str(row[0]): str(row[1]) for row in rows_found}
        for value in values:
            value["name"] = names.get(value["id"].partition(":")[2], value["name"])
