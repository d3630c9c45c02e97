"""Read documents: the JSON a GET answers with, built from a few Core queries per page.

Reads are the hot path, and building ORM objects plus validated Pydantic models for every
embedded link cost ~20x more than the queries themselves. So policies and goals (the large
tables) are read here with one query per kind of embedded thing for a whole page of ids,
and the dicts are built directly in the shape of the ``*Out`` schemas (which still document
the API and describe writes). ``tests/api/test_documents.py`` checks that, for every record
of the seed, the document equals the schema's own rendering of the ORM row, so the two
cannot drift apart. The smaller tables (sources, regions, actors) are rendered from the ORM
by their schemas.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from pydantic_core import to_json
from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from app.errors import NotFound
from app.models import (
    Actor,
    Citation,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    PolicyTopic,
    Region,
    Source,
)
from app.partial_dates import PartialDate
from app.resources.sources import EMBEDDED_SUPPORTS
from app.schemas.links import EMBEDDED_LINKS
from app.services.embedded import support_counts, supported_facts
from app.services.resources import RESOURCES, ResourceName
from app.services.sqlite_documents import policy_documents

Document = dict[str, Any]
_CHUNK = 500  # ids per IN (...) list


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
    found: dict[int, Document] = {}
    for start in range(0, len(ids), _CHUNK):
        found.update(_BUILDERS[resource](session, list(ids[start : start + _CHUNK])))
    return [found[i] for i in ids if i in found]


def document(session: Session, resource: ResourceName, key: str) -> Document:
    """One record's document by numeric id or slug; NotFound otherwise."""
    return documents(session, resource, [record_id(session, resource, key)])[0]


def documents_json(session: Session, resource: ResourceName, ids: Sequence[int]) -> list[bytes]:
    """``render`` of each of ``documents(...)``, built by the database where it can.

    On SQLite, policies (the table that grows) are written as JSON by SQLite itself
    (app/services/sqlite_documents.py), byte for byte what ``render`` writes.
    """
    if resource == "policies" and session.get_bind().dialect.name == "sqlite":
        found = dict(policy_documents(session, ids))
        if inexact := [i for i, text in found.items() if text is None]:
            found.update((d["id"], render(d)) for d in documents(session, resource, inexact))
        return [text for i in ids if (text := found.get(i)) is not None]
    return [render(d) for d in documents(session, resource, ids)]


def document_json(session: Session, resource: ResourceName, key: str) -> bytes:
    """``render(document(...))``: one record's JSON by numeric id or slug; NotFound otherwise."""
    return documents_json(session, resource, [record_id(session, resource, key)])[0]


def render_page(items: Sequence[bytes], rest: dict[str, Any]) -> bytes:
    """``render({"items": [...], **rest})`` from items that are already JSON."""
    tail = render(rest)
    return b'{"items":[' + b",".join(items) + b"]" + (b"," + tail[1:] if rest else b"}")


def _date(earliest: Any, latest: Any) -> str | None:
    value = PartialDate.from_columns(earliest, latest)
    return None if value is None else str(value)


def _timestamp(value: Any) -> str:
    # Exactly as the schemas write a datetime (pydantic's JSON form).
    return to_json(value).decode()[1:-1]


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _grouped(rows: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def _citations_of(owner: Any) -> Select[Any]:
    return (
        select(
            owner,
            Source.slug,
            Source.title,
            Citation.section,
            Citation.paragraph,
            Citation.excerpt,
            Citation.note,
        )
        .join(Source, Source.id == Citation.source_id)
        .where(owner.in_(_IDS))
        .order_by(owner, Citation.position, Citation.id)
    )


# Statements are built once: constructing them costs more than running them.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_CITATIONS = {
    name: _citations_of(getattr(Citation, name))
    for name in (
        "policy_id",
        "actor_id",
        "region_id",
        "goal_id",
        "policy_actor_id",
        "policy_region_id",
        "policy_relation_id",
    )
}
_OTHER = aliased(Policy)
_POLICY_QUERIES = {
    "policies": select(Policy.__table__).where(Policy.id.in_(_IDS)),
    "topics": select(PolicyTopic.policy_id, PolicyTopic.topic)
    .where(PolicyTopic.policy_id.in_(_IDS))
    .order_by(PolicyTopic.policy_id, PolicyTopic.topic),
    "actors": select(
        PolicyActor.id, PolicyActor.policy_id, PolicyActor.role, Actor.slug, Actor.name
    )
    .join(Actor, Actor.id == PolicyActor.actor_id)
    .where(PolicyActor.policy_id.in_(_IDS))
    .order_by(PolicyActor.policy_id, PolicyActor.position, PolicyActor.id),
    "regions": select(
        PolicyRegion.id, PolicyRegion.policy_id, PolicyRegion.role, Region.slug, Region.name
    )
    .join(Region, Region.id == PolicyRegion.region_id)
    .where(PolicyRegion.policy_id.in_(_IDS))
    .order_by(PolicyRegion.policy_id, PolicyRegion.position, PolicyRegion.id),
    "related": select(
        PolicyRelation.id,
        PolicyRelation.policy_id,
        PolicyRelation.relation,
        _OTHER.slug,
        _OTHER.title,
    )
    .join(_OTHER, _OTHER.id == PolicyRelation.related_policy_id)
    .where(PolicyRelation.policy_id.in_(_IDS))
    .order_by(PolicyRelation.policy_id, PolicyRelation.position, PolicyRelation.id),
    "related_from": select(
        PolicyRelation.related_policy_id, PolicyRelation.relation, _OTHER.slug, _OTHER.title
    )
    .join(_OTHER, _OTHER.id == PolicyRelation.policy_id)
    .where(PolicyRelation.related_policy_id.in_(_IDS))
    .order_by(PolicyRelation.related_policy_id, PolicyRelation.id),
    "goals": select(
        Goal.policy_id,
        Goal.slug,
        Goal.statement,
        Goal.deadline_earliest,
        Goal.deadline_latest,
        Goal.stage,
    )
    .where(Goal.policy_id.in_(_IDS))
    .order_by(Goal.policy_id, Goal.stage.is_(None), Goal.stage, Goal.id),
}
_GOAL_QUERY = (
    select(Goal.__table__, Policy.slug, Policy.title, Actor.slug, Actor.name)
    .outerjoin(Policy, Policy.id == Goal.policy_id)
    .outerjoin(Actor, Actor.id == Goal.actor_id)
    .where(Goal.id.in_(_IDS))
)


def _citations(session: Session, owner: str, ids: Sequence[int]) -> dict[int, list[Document]]:
    """Citations of the records (or links) whose ``owner`` column is in ``ids``, in order."""
    if not ids:
        return {}
    rows = session.execute(_CITATIONS[owner], {"ids": ids})
    cited: dict[int, list[Document]] = defaultdict(list)
    for owner_id, slug, title, section, paragraph, excerpt, note in rows:
        cited[owner_id].append(
            {
                "source": slug,
                "section": section,
                "paragraph": paragraph,
                "excerpt": excerpt,
                "note": note,
                "source_title": title,
            }
        )
    return cited


def _goal_ref(goal: Any) -> Document:
    return {
        "slug": goal.slug,
        "statement": goal.statement,
        "deadline": _date(goal.deadline_earliest, goal.deadline_latest),
        "stage": goal.stage,
    }


def _policies(session: Session, ids: list[int]) -> dict[int, Document]:
    def rows(name: str) -> list[Any]:
        return list(session.execute(_POLICY_QUERIES[name], {"ids": ids}))

    policies = rows("policies")
    if not policies:
        return {}
    topics = _grouped(rows("topics"), lambda r: r.policy_id)
    actor_links = rows("actors")
    region_links = rows("regions")
    relations = rows("related")
    incoming = _grouped(rows("related_from"), lambda r: r.related_policy_id)
    goals = _grouped(rows("goals"), lambda r: r.policy_id)
    cited = _citations(session, "policy_id", ids)
    actor_cited = _citations(session, "policy_actor_id", [r.id for r in actor_links])
    region_cited = _citations(session, "policy_region_id", [r.id for r in region_links])
    relation_cited = _citations(session, "policy_relation_id", [r.id for r in relations])

    actors = _grouped(actor_links, lambda r: r.policy_id)
    regions = _grouped(region_links, lambda r: r.policy_id)
    related = _grouped(relations, lambda r: r.policy_id)
    out: dict[int, Document] = {}
    for p in policies:
        money = None
        if p.money_amount is not None and p.money_currency is not None:
            money = {
                "amount": _decimal(p.money_amount),
                "currency": p.money_currency,
                "approximate": p.money_approximate,
            }
        out[p.id] = {
            "slug": p.slug,
            "title": p.title,
            "short_name": p.short_name,
            "titles": p.titles,
            "kind": p.kind,
            "status": p.status,
            "summary": p.summary,
            # Rebuilt in schema order: PostgreSQL's JSONB reorders the keys it stores.
            "identifiers": [{"scheme": i["scheme"], "value": i["value"]} for i in p.identifiers],
            "announced": _date(p.announced_earliest, p.announced_latest),
            "in_force_from": _date(p.in_force_from_earliest, p.in_force_from_latest),
            "in_force_to": _date(p.in_force_to_earliest, p.in_force_to_latest),
            "money": money,
            "topics": [t.topic for t in topics.get(p.id, ())],
            "actors": [
                {
                    "actor": a.slug,
                    "role": a.role,
                    "citations": actor_cited.get(a.id, []),
                    "actor_name": a.name,
                }
                for a in actors.get(p.id, ())
            ],
            "regions": [
                {
                    "region": r.slug,
                    "role": r.role,
                    "citations": region_cited.get(r.id, []),
                    "region_name": r.name,
                }
                for r in regions.get(p.id, ())
            ],
            "related": [
                {
                    "policy": r.slug,
                    "relation": r.relation,
                    "citations": relation_cited.get(r.id, []),
                    "policy_title": r.title,
                }
                for r in related.get(p.id, ())
            ],
            "citations": cited.get(p.id, []),
            "id": p.id,
            "created_at": _timestamp(p.created_at),
            "updated_at": _timestamp(p.updated_at),
            "related_from": [
                {"policy": r.slug, "title": r.title, "role": r.relation}
                for r in incoming.get(p.id, ())
            ],
            "goals": [_goal_ref(g) for g in goals.get(p.id, ())],
        }
    return out


def _first_linked_policies(link: Any, owner: Any) -> Select[Any]:
    """The first EMBEDDED_LINKS policies linked to each owner (a region or actor), in link order.

    A window numbers each owner's links, so a hub with thousands of links costs one pass
    over its index entries, not a document of thousands of policies.
    """
    ranked = (
        select(
            owner.label("owner"),
            link.policy_id,
            link.role,
            func.row_number().over(partition_by=owner, order_by=link.id).label("n"),
        )
        .where(owner.in_(_IDS))
        .subquery()
    )
    return (
        select(ranked.c.owner, Policy.slug, Policy.title, ranked.c.role)
        .join(Policy, Policy.id == ranked.c.policy_id)
        .where(ranked.c.n <= bindparam("embedded"))
        .order_by(ranked.c.owner, ranked.c.n)
    )


def _counts(owner: Any) -> Select[Any]:
    return select(owner, func.count()).where(owner.in_(_IDS)).group_by(owner)


_PARENT_REGION, _PARENT_ACTOR = aliased(Region), aliased(Actor)
_RANKED_GOALS = (
    select(
        Goal.actor_id,
        Goal.slug,
        Goal.statement,
        Goal.deadline_earliest,
        Goal.deadline_latest,
        Goal.stage,
        func.row_number().over(partition_by=Goal.actor_id, order_by=Goal.id).label("n"),
    )
    .where(Goal.actor_id.in_(_IDS))
    .subquery()
)
_REGION_QUERIES = {
    "regions": select(Region.__table__, _PARENT_REGION.slug.label("parent_slug"))
    .outerjoin(_PARENT_REGION, _PARENT_REGION.id == Region.parent_id)
    .where(Region.id.in_(_IDS)),
    "children": select(Region.parent_id, Region.slug, Region.name, Region.kind, Region.iso_code)
    .where(Region.parent_id.in_(_IDS))
    .order_by(Region.parent_id, Region.name, Region.id),
    "policies": _first_linked_policies(PolicyRegion, PolicyRegion.region_id),
    "policy_counts": _counts(PolicyRegion.region_id),
}
_ACTOR_QUERIES = {
    "actors": select(
        Actor.__table__,
        Region.slug.label("region_slug"),
        _PARENT_ACTOR.slug.label("parent_slug"),
    )
    .outerjoin(Region, Region.id == Actor.region_id)
    .outerjoin(_PARENT_ACTOR, _PARENT_ACTOR.id == Actor.parent_id)
    .where(Actor.id.in_(_IDS)),
    "children": select(Actor.parent_id, Actor.slug, Actor.name, Actor.kind)
    .where(Actor.parent_id.in_(_IDS))
    .order_by(Actor.parent_id, Actor.name, Actor.id),
    "policies": _first_linked_policies(PolicyActor, PolicyActor.actor_id),
    "policy_counts": _counts(PolicyActor.actor_id),
    "goals": select(_RANKED_GOALS)
    .where(_RANKED_GOALS.c.n <= bindparam("embedded"))
    .order_by(_RANKED_GOALS.c.actor_id, _RANKED_GOALS.c.n),
    "goal_counts": _counts(Goal.actor_id),
}


def _policy_refs(rows: Iterable[Any]) -> dict[int, list[Document]]:
    refs: dict[int, list[Document]] = defaultdict(list)
    for owner, slug, title, role in rows:
        refs[owner].append({"policy": slug, "title": title, "role": role})
    return refs


def _region_ref(r: Any) -> Document:
    return {"slug": r.slug, "name": r.name, "kind": r.kind, "iso_code": r.iso_code}


def _regions(session: Session, ids: list[int]) -> dict[int, Document]:
    def rows(name: str) -> list[Any]:
        return list(
            session.execute(_REGION_QUERIES[name], {"ids": ids, "embedded": EMBEDDED_LINKS})
        )

    regions = rows("regions")
    if not regions:
        return {}
    ancestors = region_ancestors(session=session, regions=regions)
    children = _grouped(rows("children"), lambda r: r.parent_id)
    policies = _policy_refs(rows("policies"))
    counts = dict(rows("policy_counts"))
    cited = _citations(session, "region_id", ids)
    return {
        r.id: {
            "slug": r.slug,
            "name": r.name,
            "names": r.names,
            "aliases": r.aliases,
            "kind": r.kind,
            "iso_code": r.iso_code,
            "parent": r.parent_slug,
            "description": r.description,
            "citations": cited.get(r.id, []),
            "id": r.id,
            "created_at": _timestamp(r.created_at),
            "updated_at": _timestamp(r.updated_at),
            "ancestors": [_region_ref(a) for a in ancestors[r.id]],
            "children": [_region_ref(c) for c in children.get(r.id, ())],
            "policies": policies.get(r.id, []),
            "policies_total": counts.get(r.id, 0),
        }
        for r in regions
    }


def _actors(session: Session, ids: list[int]) -> dict[int, Document]:
    def rows(name: str) -> list[Any]:
        return list(session.execute(_ACTOR_QUERIES[name], {"ids": ids, "embedded": EMBEDDED_LINKS}))

    actors = rows("actors")
    if not actors:
        return {}
    children = _grouped(rows("children"), lambda r: r.parent_id)
    policies = _policy_refs(rows("policies"))
    policy_counts = dict(rows("policy_counts"))
    goals = _grouped(rows("goals"), lambda r: r.actor_id)
    goal_counts = dict(rows("goal_counts"))
    cited = _citations(session, "actor_id", ids)
    return {
        a.id: {
            "slug": a.slug,
            "name": a.name,
            "names": a.names,
            "aliases": a.aliases,
            "kind": a.kind,
            "region": a.region_slug,
            "parent": a.parent_slug,
            "description": a.description,
            "identifiers": [{"scheme": i["scheme"], "value": i["value"]} for i in a.identifiers],
            "citations": cited.get(a.id, []),
            "id": a.id,
            "created_at": _timestamp(a.created_at),
            "updated_at": _timestamp(a.updated_at),
            "children": [
                {"slug": c.slug, "name": c.name, "kind": c.kind} for c in children.get(a.id, ())
            ],
            "policies": policies.get(a.id, []),
            "policies_total": policy_counts.get(a.id, 0),
            "goals": [_goal_ref(g) for g in goals.get(a.id, ())],
            "goals_total": goal_counts.get(a.id, 0),
        }
        for a in actors
    }


def _goals(session: Session, ids: list[int]) -> dict[int, Document]:
    rows = session.execute(_GOAL_QUERY, {"ids": ids}).all()
    cited = _citations(session, "goal_id", ids)
    out: dict[int, Document] = {}
    for row in rows:
        g = row._mapping
        policy_slug, policy_title, actor_slug, actor_name = row[-4:]
        out[g["id"]] = {
            "slug": g["slug"],
            "statement": g["statement"],
            "policy": policy_slug,
            "actor": actor_slug,
            "metric": g["metric"],
            "target_value": _decimal(g["target_value"]),
            "unit": g["unit"],
            "baseline_value": _decimal(g["baseline_value"]),
            "deadline": _date(g["deadline_earliest"], g["deadline_latest"]),
            "stage": g["stage"],
            "status": g["status"],
            "citations": cited.get(g["id"], []),
            "id": g["id"],
            "created_at": _timestamp(g["created_at"]),
            "updated_at": _timestamp(g["updated_at"]),
            "owners": {"policy_title": policy_title, "actor_name": actor_name},
        }
    return out


_ANCESTOR_ROWS = select(
    Region.id, Region.parent_id, Region.slug, Region.name, Region.kind, Region.iso_code
).where(Region.id.in_(_IDS))


def region_ancestors(*, session: Session, regions: Sequence[Any]) -> dict[int, list[Any]]:
    """Each region's enclosing regions (rows with id, parent_id, slug, name, kind, iso_code),
    outermost first: one query per tree level, not per row."""
    known: dict[int, Any] = {r.id: r for r in regions}
    missing = {r.parent_id for r in regions if r.parent_id is not None} - known.keys()
    while missing:
        rows = session.execute(_ANCESTOR_ROWS, {"ids": list(missing)}).all()
        known.update({r.id: r for r in rows})
        missing = {r.parent_id for r in rows if r.parent_id is not None} - known.keys()
    result: dict[int, list[Any]] = {}
    for region in regions:
        chain: list[Any] = []
        parent_id = region.parent_id
        while parent_id is not None and len(chain) < 64:
            parent = known[parent_id]
            chain.append(parent)
            parent_id = parent.parent_id
        result[region.id] = list(reversed(chain))
    return result


def _sources(session: Session, ids: list[int]) -> dict[int, Document]:
    sources = session.execute(select(Source.__table__).where(Source.id.in_(ids))).all()
    counts = support_counts(session, ids)
    out: dict[int, Document] = {}
    for s in sources:
        supports, _ = supported_facts(session, s.id, limit=EMBEDDED_SUPPORTS)
        out[s.id] = {
            "slug": s.slug,
            "title": s.title,
            "publisher": s.publisher,
            "series": s.series,
            "authors": s.authors,
            "url": s.url,
            "published": _date(s.published_earliest, s.published_latest),
            "language": s.language,
            "sha256": s.sha256,
            "id": s.id,
            "created_at": _timestamp(s.created_at),
            "updated_at": _timestamp(s.updated_at),
            "supports": supports,
            "supports_total": counts.get(s.id, 0),
        }
    return out


_BUILDERS: dict[ResourceName, Callable[[Session, list[int]], dict[int, Document]]] = {
    "policies": _policies,
    "goals": _goals,
    "actors": _actors,
    "regions": _regions,
    "sources": _sources,
}
