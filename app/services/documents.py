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
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

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
from app.schemas.actor import ActorOut
from app.schemas.region import RegionOut
from app.schemas.source import EMBEDDED_SUPPORTS
from app.services.resources import POLICY_WRITE_LOAD, RESOURCES, ResourceName
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


def _cited(attr: Any) -> LoaderOption:
    return selectinload(attr).selectinload(Citation.source)


READ_LOAD: dict[ResourceName, Sequence[LoaderOption]] = {
    "policies": (
        *POLICY_WRITE_LOAD,
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


def region_ancestors(*, session: Session, regions: Sequence[Region]) -> dict[int, list[Region]]:
    """Each region's enclosing regions, outermost first: one query per tree level, not per row."""
    known: dict[int, Region] = {r.id: r for r in regions}
    missing = {r.parent_id for r in regions if r.parent_id is not None} - known.keys()
    while missing:
        rows = session.scalars(select(Region).where(Region.id.in_(missing))).all()
        known.update({r.id: r for r in rows})
        missing = {r.parent_id for r in rows if r.parent_id is not None} - known.keys()
    result: dict[int, list[Region]] = {}
    for region in regions:
        chain: list[Region] = []
        parent_id = region.parent_id
        while parent_id is not None and len(chain) < 64:
            parent = known[parent_id]
            chain.append(parent)
            parent_id = parent.parent_id
        result[region.id] = list(reversed(chain))
    return result


def _supports_query() -> Any:
    """A source's citations, with what each one cites (a record, or a link and its ends)."""
    ends = {name: aliased(Policy) for name in ("actor_link", "region_link", "relation", "target")}
    linked_actor, linked_region = aliased(Actor), aliased(Region)
    return (
        select(
            Citation.id,
            Citation.section,
            Citation.paragraph,
            Citation.excerpt,
            Citation.note,
            PolicyActor.role.label("actor_role"),
            ends["actor_link"].slug.label("actor_link_policy"),
            linked_actor.slug.label("actor_link_actor"),
            PolicyRegion.role.label("region_role"),
            ends["region_link"].slug.label("region_link_policy"),
            linked_region.slug.label("region_link_region"),
            PolicyRelation.relation.label("relation"),
            ends["relation"].slug.label("relation_policy"),
            ends["target"].slug.label("relation_target"),
            Policy.slug.label("policy"),
            Actor.slug.label("actor"),
            Region.slug.label("region"),
            Goal.slug.label("goal"),
        )
        .outerjoin(PolicyActor, PolicyActor.id == Citation.policy_actor_id)
        .outerjoin(ends["actor_link"], ends["actor_link"].id == PolicyActor.policy_id)
        .outerjoin(linked_actor, linked_actor.id == PolicyActor.actor_id)
        .outerjoin(PolicyRegion, PolicyRegion.id == Citation.policy_region_id)
        .outerjoin(ends["region_link"], ends["region_link"].id == PolicyRegion.policy_id)
        .outerjoin(linked_region, linked_region.id == PolicyRegion.region_id)
        .outerjoin(PolicyRelation, PolicyRelation.id == Citation.policy_relation_id)
        .outerjoin(ends["relation"], ends["relation"].id == PolicyRelation.policy_id)
        .outerjoin(ends["target"], ends["target"].id == PolicyRelation.related_policy_id)
        .outerjoin(Policy, Policy.id == Citation.policy_id)
        .outerjoin(Actor, Actor.id == Citation.actor_id)
        .outerjoin(Region, Region.id == Citation.region_id)
        .outerjoin(Goal, Goal.id == Citation.goal_id)
        .where(Citation.source_id == bindparam("source_id"), Citation.id > bindparam("after"))
        .order_by(Citation.id)
        .limit(bindparam("limit"))
    )


_SUPPORTS = _supports_query()
_SUPPORT_COUNTS = (
    select(Citation.source_id, func.count())
    .where(Citation.source_id.in_(_IDS))
    .group_by(Citation.source_id)
)


def _fact(row: Any) -> Document:
    """A citation as a SupportedFact (app/schemas/source.py)."""
    if row.actor_role is not None:
        kind, record, link = (
            "policy_actor",
            row.actor_link_policy,
            (row.actor_role, row.actor_link_actor),
        )
    elif row.region_role is not None:
        kind, record = "policy_region", row.region_link_policy
        link = (row.region_role, row.region_link_region)
    elif row.relation is not None:
        kind, record, link = (
            "policy_relation",
            row.relation_policy,
            (row.relation, row.relation_target),
        )
    else:
        kind, record = next(
            (k, getattr(row, k)) for k in ("policy", "actor", "region", "goal") if getattr(row, k)
        )
        link = None
    return {
        "type": kind,
        "record": record,
        "link": f"{link[0]}: {link[1]}" if link else None,
        "section": row.section,
        "paragraph": row.paragraph,
        "excerpt": row.excerpt,
        "note": row.note,
    }


def supported_facts(
    session: Session, source_id: int, *, after: int = 0, limit: int
) -> tuple[list[Document], int | None]:
    """A page of what a source supports, by citation id, and the id to continue after."""
    rows = session.execute(
        _SUPPORTS, {"source_id": source_id, "after": after, "limit": limit + 1}
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_fact(r) for r in rows], (rows[-1].id if more else None)


def support_counts(session: Session, source_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(_SUPPORT_COUNTS, {"ids": list(source_ids)})
    return {row[0]: int(row[1]) for row in rows}


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


def _from_schema(
    resource: ResourceName, render_rows: Callable[[Session, Sequence[Any]], list[Any]]
) -> Callable[[Session, list[int]], dict[int, Document]]:
    """A builder that renders ORM rows through the resource's ``*Out`` schema."""

    def build(session: Session, ids: list[int]) -> dict[int, Document]:
        model = RESOURCES[resource].model
        query: Select[Any] = select(model).where(model.id.in_(ids)).options(*READ_LOAD[resource])
        rows = list(session.scalars(query))
        return {
            out.id: out.model_dump(mode="json", exclude={"relation_chain"})
            for out in render_rows(session, rows)
        }

    return build


def _regions(session: Session, rows: Sequence[Any]) -> list[Any]:
    ancestors = region_ancestors(session=session, regions=rows)
    return [RegionOut.from_model(r, ancestors[r.id]) for r in rows]


_BUILDERS: dict[ResourceName, Callable[[Session, list[int]], dict[int, Document]]] = {
    "policies": _policies,
    "goals": _goals,
    "actors": _from_schema("actors", lambda _s, rows: [ActorOut.from_model(r) for r in rows]),
    "regions": _from_schema("regions", _regions),
    "sources": _sources,
}
