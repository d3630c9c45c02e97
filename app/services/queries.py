"""Read queries: filters, sorting, paging and the loaders that embed relations without N+1."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, exists, func, or_, select
from sqlalchemy.orm import Session

from app.errors import BadQuery, ErrorDetail, NotFound
from app.models import (
    Actor,
    Goal,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyTopic,
    Region,
    Source,
)
from app.partial_dates import PartialDate
from app.services.paging import CursorCodec, PageResult, SortField, keyset_page, parse_sort
from app.services.resources import RESOURCES, ResourceName, is_record_key, numeric_id
from app.services.search import matching_ids

# The fields each resource's lists sort by, from its descriptor.
SORT_FIELDS: dict[ResourceName, dict[str, SortField]] = {
    name: {key: SortField(s.column, nullable=s.nullable) for key, s in resource.sortable.items()}
    for name, resource in RESOURCES.items()
}


@dataclass
class ListParams:
    """Paging and sorting, common to every list."""

    limit: int
    cursor: str | None = None
    sort: str | None = None
    count: bool = True
    count_cap: int = 100_000


@dataclass
class Filters:
    """The filters of a list; which apply depends on the resource (see the API docs)."""

    q: str | None = None
    kind: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    region: str | None = None
    actor: str | None = None
    actor_role: list[str] = field(default_factory=list)
    policy: str | None = None
    parent: str | None = None
    iso: str | None = None
    announced_from: PartialDate | None = None
    announced_to: PartialDate | None = None
    in_force_on: PartialDate | None = None
    deadline_from: PartialDate | None = None
    deadline_to: PartialDate | None = None


def get_record(
    *, session: Session, resource: ResourceName, key: str, for_write: bool = False
) -> Any:
    """A record by numeric id or slug, with its relations loaded; NotFound otherwise."""
    spec = RESOURCES[resource]
    model = spec.model
    if not is_record_key(key):
        raise NotFound(f"no {spec.singular} with id or slug {key!r}")
    id_ = numeric_id(key)
    condition = model.id == id_ if id_ is not None else model.slug == key
    options = spec.load_for_write if for_write else ()
    row = session.scalars(select(model).where(condition).options(*options)).first()
    if row is None:
        raise NotFound(f"no {spec.singular} with id or slug {key!r}")
    return row


def _unknown(param: str, what: str, value: str) -> BadQuery:
    return BadQuery(
        f"unknown {what} {value!r}",
        [ErrorDetail(pointer=f"/query/{param}", detail=f"no {what} with slug {value!r}")],
    )


def slug_id(session: Session, model: Any, value: str, param: str, what: str) -> int:
    found = session.scalar(select(model.id).where(model.slug == value))
    if found is None:
        raise _unknown(param, what, value)
    return int(found)


def region_ids_within(session: Session, value: str, param: str) -> Any:
    """The region with this slug or ISO code and every region below it, as a subquery."""
    root = session.scalar(
        select(Region.id).where(or_(Region.slug == value, Region.iso_code == value.upper()))
    )
    if root is None:
        raise _unknown(param, "region", value)
    tree = select(Region.id).where(Region.id == root).cte("region_tree", recursive=True)
    tree = tree.union_all(select(Region.id).where(Region.parent_id == tree.c.id))
    return select(tree.c.id)


def policy_query(session: Session, f: Filters) -> Select[Any]:
    stmt = select(Policy)
    if f.q:
        stmt = stmt.where(Policy.id.in_(matching_ids(session, "policy", f.q)))
    if f.kind:
        stmt = stmt.where(Policy.kind.in_(f.kind))
    if f.status:
        stmt = stmt.where(Policy.status.in_(f.status))
    for topic in f.topic:  # every topic asked for must be present
        stmt = stmt.where(
            exists().where(PolicyTopic.policy_id == Policy.id, PolicyTopic.topic == topic)
        )
    if f.region:
        within = region_ids_within(session, f.region, "region")
        stmt = stmt.where(
            exists().where(PolicyRegion.policy_id == Policy.id, PolicyRegion.region_id.in_(within))
        )
    if f.actor:
        actor_id = slug_id(session, Actor, f.actor, "actor", "actor")
        link = [PolicyActor.policy_id == Policy.id, PolicyActor.actor_id == actor_id]
        if f.actor_role:
            link.append(PolicyActor.role.in_(f.actor_role))
        stmt = stmt.where(exists().where(*link))
    elif f.actor_role:
        stmt = stmt.where(
            exists().where(PolicyActor.policy_id == Policy.id, PolicyActor.role.in_(f.actor_role))
        )
    # Dates are intervals: a filter matches every record whose interval overlaps its own.
    if f.announced_from:
        stmt = stmt.where(Policy.announced_latest >= f.announced_from.earliest)
    if f.announced_to:
        stmt = stmt.where(Policy.announced_earliest <= f.announced_to.latest)
    if f.in_force_on:
        # Without an explicit start, a policy counts from its announcement, unless it is only
        # planned (a pledge is not in force).
        announced_start = case((Policy.status == "planned", None), else_=Policy.announced_earliest)
        start = func.coalesce(Policy.in_force_from_earliest, announced_start)
        stmt = stmt.where(
            start <= f.in_force_on.latest,
            or_(
                Policy.in_force_to_latest.is_(None),
                Policy.in_force_to_latest >= f.in_force_on.earliest,
            ),
        )
    return stmt


def actor_query(session: Session, f: Filters) -> Select[Any]:
    stmt = select(Actor)
    if f.q:
        stmt = stmt.where(Actor.id.in_(matching_ids(session, "actor", f.q)))
    if f.kind:
        stmt = stmt.where(Actor.kind.in_(f.kind))
    if f.region:
        stmt = stmt.where(Actor.region_id.in_(region_ids_within(session, f.region, "region")))
    if f.parent:
        stmt = stmt.where(Actor.parent_id == slug_id(session, Actor, f.parent, "parent", "actor"))
    return stmt


def region_query(session: Session, f: Filters) -> Select[Any]:
    stmt = select(Region)
    if f.q:
        stmt = stmt.where(Region.id.in_(matching_ids(session, "region", f.q)))
    if f.kind:
        stmt = stmt.where(Region.kind.in_(f.kind))
    if f.parent:
        parent_id = slug_id(session, Region, f.parent, "parent", "region")
        stmt = stmt.where(Region.parent_id == parent_id)
    if f.iso:
        stmt = stmt.where(Region.iso_code == f.iso.upper())
    return stmt


def goal_query(session: Session, f: Filters) -> Select[Any]:
    stmt = select(Goal)
    if f.q:
        stmt = stmt.where(Goal.id.in_(matching_ids(session, "goal", f.q)))
    if f.policy:
        stmt = stmt.where(Goal.policy_id == slug_id(session, Policy, f.policy, "policy", "policy"))
    if f.actor:
        stmt = stmt.where(Goal.actor_id == slug_id(session, Actor, f.actor, "actor", "actor"))
    if f.deadline_from:
        stmt = stmt.where(Goal.deadline_latest >= f.deadline_from.earliest)
    if f.deadline_to:
        stmt = stmt.where(Goal.deadline_earliest <= f.deadline_to.latest)
    return stmt


def source_query(session: Session, f: Filters) -> Select[Any]:
    stmt = select(Source)
    if f.q:
        stmt = stmt.where(Source.id.in_(matching_ids(session, "source", f.q)))
    return stmt


_QUERIES = {
    "policies": policy_query,
    "actors": actor_query,
    "regions": region_query,
    "goals": goal_query,
    "sources": source_query,
}


def filtered_query(session: Session, resource: ResourceName, filters: Filters) -> Select[Any]:
    """The rows of ``resource`` that ``filters`` select, unordered."""
    return _QUERIES[resource](session, filters)


def list_records(
    *,
    session: Session,
    resource: ResourceName,
    filters: Filters,
    params: ListParams,
    codec: CursorCodec,
) -> PageResult:
    """One page of the ids of a resource's records matching ``filters``, in sort order."""
    keys = parse_sort(
        params.sort,
        SORT_FIELDS[resource],
        RESOURCES[resource].default_sort,
        RESOURCES[resource].model.id,
    )
    sort_spec = ",".join(("-" if k.descending else "") + k.name for k in keys)
    return keyset_page(
        session,
        _QUERIES[resource](session, filters),
        keys=keys,
        sort_spec=sort_spec,
        cursor=params.cursor,
        limit=params.limit,
        count=params.count,
        codec=codec,
        count_cap=params.count_cap,
    )


def iter_documents[T](
    *,
    session: Session,
    resource: ResourceName,
    filters: Filters,
    sort: str | None,
    codec: CursorCodec,
    build: Callable[[Session, ResourceName, Sequence[int]], list[T]],
    batch: int = 500,
) -> Iterator[list[T]]:
    """Every matching record's document (as ``build`` renders a page of ids: ``documents``,
    or ``documents_json`` for bytes), a page at a time, for streamed exports.

    Closes ``session`` at the end.

    The first page is read at once, so a bad filter fails before anything is streamed.
    """
    try:
        page = list_records(
            session=session,
            resource=resource,
            filters=filters,
            params=ListParams(limit=batch, sort=sort, count=False),
            codec=codec,
        )
    except Exception:
        session.close()
        raise
    return _pages_from(session, resource, filters, sort, codec, build, batch, page)


def _pages_from[T](
    session: Session,
    resource: ResourceName,
    filters: Filters,
    sort: str | None,
    codec: CursorCodec,
    build: Callable[[Session, ResourceName, Sequence[int]], list[T]],
    batch: int,
    page: PageResult,
) -> Iterator[list[T]]:
    try:
        while True:
            yield build(session, resource, page.ids)
            if page.next_cursor is None:
                return
            session.expunge_all()  # memory stays flat however many rows stream out
            params = ListParams(limit=batch, sort=sort, count=False, cursor=page.next_cursor)
            page = list_records(
                session=session, resource=resource, filters=filters, params=params, codec=codec
            )
    finally:
        session.close()
