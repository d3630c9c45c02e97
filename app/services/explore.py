"""Exploring the data: facet counts, statistics, a timeline of dated events and the graph of
links around a record. Every query here is bounded: facets by a value limit and a time budget,
the timeline by keyset pages, the graph by depth and node count."""

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    distinct,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.db import apply_deadline, is_timeout
from app.errors import BadQuery, ErrorDetail, NotFound
from app.models import (
    Actor,
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
from app.services.paging import CursorCodec, SortKey, after_condition
from app.services.queries import region_ids_within, slug_id
from app.services.resources import RESOURCES, ResourceName
from app.vocabularies import label


# ---------------------------------------------------------------------------- time budget
class BudgetExceeded(Exception):
    """A bounded query ran out of time."""


@contextmanager
def time_budget(session: Session, milliseconds: int) -> Iterator[None]:
    """Abort the statements run inside after ``milliseconds`` (raising BudgetExceeded).

    Runs inside a SAVEPOINT, so a timed-out statement leaves the transaction usable; the
    request's own deadline (if sooner) still applies, and is restored afterwards.
    """
    connection = session.connection()
    request_deadline = session.info.get("deadline")
    deadline = time.monotonic() + milliseconds / 1000
    if request_deadline is not None:
        deadline = min(deadline, request_deadline)
    nested = connection.begin_nested()
    try:
        apply_deadline(connection, deadline)
        yield
        apply_deadline(connection, request_deadline)
        nested.commit()
    except (OperationalError, DBAPIError) as exc:
        nested.rollback()
        apply_deadline(connection, request_deadline)
        if is_timeout(exc):
            raise BudgetExceeded from None
        raise


# --------------------------------------------------------------------------------- facets
@dataclass(frozen=True)
class Facet:
    """How to count one facet: a query of (value, label, count) over a set of record ids."""

    count: Callable[[Any], Any]  # record ids (None: all) -> select of (value, label, count)
    description: str


def _within(column: Any, ids: Any) -> Any:
    # Without filters the count runs over the table (or its index) as it is, instead of
    # first collecting every id to test membership against.
    return true() if ids is None else column.in_(ids)


def _by_code(column: Any, model: Any) -> Callable[[Any], Any]:
    def count(ids: Any) -> Any:
        n = func.count().label("n")
        return (
            select(column, literal(None).label("label"), n)
            .where(_within(model.id, ids))
            .group_by(column)
        )

    return count


def _by_year(column: Any, model: Any) -> Callable[[Any], Any]:
    def count(ids: Any) -> Any:
        year = extract("year", column).label("value")
        n = func.count().label("n")
        return (
            select(year, literal(None).label("label"), n)
            .where(_within(model.id, ids), column.is_not(None))
            .group_by(year)
        )

    return count


def _linked(
    link_column: Any, owner_column: Any, target: Any, target_label: Any
) -> Callable[[Any], Select[Any]]:
    def count(ids: Any) -> Select[Any]:
        n = func.count(distinct(owner_column)).label("n")
        return (
            select(target.slug, target_label, n)
            .join(target, target.id == link_column)
            .where(_within(owner_column, ids))
            .group_by(target.id, target.slug, target_label)
        )

    return count


def _topics(ids: Any) -> Any:
    n = func.count(distinct(PolicyTopic.policy_id)).label("n")
    return (
        select(PolicyTopic.topic, literal(None).label("label"), n)
        .where(_within(PolicyTopic.policy_id, ids))
        .group_by(PolicyTopic.topic)
    )


FACETS: dict[ResourceName, dict[str, Facet]] = {
    "policies": {
        "kind": Facet(_by_code(Policy.kind, Policy), "policy kind"),
        "status": Facet(_by_code(Policy.status, Policy), "status"),
        "topic": Facet(_topics, "topic"),
        "region": Facet(
            _linked(PolicyRegion.region_id, PolicyRegion.policy_id, Region, Region.name),
            "directly linked region",
        ),
        "actor": Facet(
            _linked(PolicyActor.actor_id, PolicyActor.policy_id, Actor, Actor.name),
            "linked actor",
        ),
        "year": Facet(_by_year(Policy.announced_earliest, Policy), "year announced"),
    },
    "actors": {
        "kind": Facet(_by_code(Actor.kind, Actor), "actor kind"),
        "region": Facet(_linked(Actor.region_id, Actor.id, Region, Region.name), "home region"),
    },
    "regions": {
        "kind": Facet(_by_code(Region.kind, Region), "region kind"),
    },
    "goals": {
        "status": Facet(_by_code(Goal.status, Goal), "goal status"),
        "policy": Facet(_linked(Goal.policy_id, Goal.id, Policy, Policy.title), "owner policy"),
        "actor": Facet(_linked(Goal.actor_id, Goal.id, Actor, Actor.name), "owner actor"),
        "year": Facet(_by_year(Goal.deadline_earliest, Goal), "deadline year"),
    },
    "sources": {
        "publisher": Facet(_by_code(Source.publisher, Source), "publisher"),
        "language": Facet(_by_code(Source.language, Source), "language"),
    },
}


@dataclass
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class FacetResult:
    values: list[FacetValue] = field(default_factory=list)
    truncated: bool = False
    timed_out: bool = False


def check_facets(resource: ResourceName, names: Sequence[str]) -> None:
    known = FACETS[resource]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadQuery(
            f"unknown facet(s): {', '.join(unknown)}",
            [
                ErrorDetail(
                    "/query/facet",
                    f"{n!r} is not a facet of {resource}; one of: {', '.join(known)}",
                )
                for n in unknown
            ],
        )


def facet_counts(
    *,
    session: Session,
    resource: ResourceName,
    filtered: Select[Any],
    names: Sequence[str],
    max_values: int,
    budget_ms: int,
) -> dict[str, FacetResult]:
    """Counts per value of each named facet, over the rows ``filtered`` selects."""
    check_facets(resource, names)
    model = RESOURCES[resource].model
    ids = None
    if filtered.whereclause is not None:
        ids = filtered.with_only_columns(model.id).order_by(None)
    results: dict[str, FacetResult] = {}
    for name in dict.fromkeys(names):
        query = FACETS[resource][name].count(ids)
        ordered = query.order_by(query.selected_columns[2].desc(), query.selected_columns[0])
        try:
            with time_budget(session, budget_ms):
                rows = session.execute(ordered.limit(max_values + 1)).all()
        except BudgetExceeded:
            results[name] = FacetResult(timed_out=True)
            continue
        values = [
            FacetValue(
                value=str(int(value) if isinstance(value, float) else value),
                label=str(row_label) if row_label is not None else label(str(value)),
                count=int(n),
            )
            for value, row_label, n in rows[:max_values]
            if value is not None
        ]
        results[name] = FacetResult(values=values, truncated=len(rows) > max_values)
    return results


def stats(*, session: Session, max_values: int, budget_ms: int) -> dict[str, Any]:
    """Record counts by type, and the facets of each type over everything."""
    counts = {
        name: session.scalar(select(func.count()).select_from(spec.model)) or 0
        for name, spec in RESOURCES.items()
    }
    breakdown = {
        name: facet_counts(
            session=session,
            resource=name,
            filtered=select(RESOURCES[name].model),
            names=list(FACETS[name]),
            max_values=max_values,
            budget_ms=budget_ms,
        )
        for name in ("policies", "actors", "regions", "goals")
    }
    return {"counts": counts, "by": breakdown}


# ------------------------------------------------------------------------------- timeline
@dataclass
class TimelineFilters:
    start: PartialDate | None = None
    end: PartialDate | None = None
    region: str | None = None
    actor: str | None = None
    topic: list[str] = field(default_factory=list)


_POLICY_EVENTS = (
    ("policy_announced", Policy.announced_earliest, Policy.announced_latest),
    ("policy_in_force_from", Policy.in_force_from_earliest, Policy.in_force_from_latest),
    ("policy_in_force_to", Policy.in_force_to_earliest, Policy.in_force_to_latest),
)
TIMELINE_SORT = "date,event,type,id"


def _policy_conditions(session: Session, f: TimelineFilters) -> list[Any]:
    conditions: list[Any] = []
    if f.region:
        within = region_ids_within(session, f.region, "region")
        conditions.append(
            exists().where(PolicyRegion.policy_id == Policy.id, PolicyRegion.region_id.in_(within))
        )
    if f.actor:
        actor_id = slug_id(session, Actor, f.actor, "actor", "actor")
        conditions.append(
            exists().where(PolicyActor.policy_id == Policy.id, PolicyActor.actor_id == actor_id)
        )
    for topic in f.topic:
        conditions.append(
            exists().where(PolicyTopic.policy_id == Policy.id, PolicyTopic.topic == topic)
        )
    return conditions


def _in_window(earliest: Any, latest: Any, f: TimelineFilters) -> list[Any]:
    conditions = [earliest.is_not(None)]
    if f.start:
        conditions.append(latest >= f.start.earliest)
        # A partial date (a year, month or day) never crosses a new year, so an event that
        # ends on or after the start also begins in the start's year or later: a bound on
        # ``earliest`` that an index serves without reading the year before.
        conditions.append(earliest >= date(f.start.earliest.year, 1, 1))
    if f.end:
        conditions.append(earliest <= f.end.latest)
    return conditions


def timeline_parts(session: Session, f: TimelineFilters) -> list[Any]:
    """One select per kind of dated event, each with the columns (earliest, latest, event,
    type, id, slug, title, stage)."""
    policy_filter = _policy_conditions(session, f)
    parts: list[Any] = []
    for event, earliest, latest in _POLICY_EVENTS:
        parts.append(
            select(
                earliest.label("earliest"),
                latest.label("latest"),
                literal(event).label("event"),
                literal("policy").label("type"),
                Policy.id.label("id"),
                Policy.slug.label("slug"),
                Policy.title.label("title"),
                literal(None, type_=Integer).label("stage"),
            ).where(*_in_window(earliest, latest, f), *policy_filter)
        )
    goal_filter: list[Any] = []
    if f.region or f.topic or f.actor:
        owning = select(Policy.id).where(*policy_filter)
        if f.actor:
            actor_id = slug_id(session, Actor, f.actor, "actor", "actor")
            goal_filter.append(or_(Goal.policy_id.in_(owning), Goal.actor_id == actor_id))
        else:
            goal_filter.append(Goal.policy_id.in_(owning))
    parts.append(
        select(
            Goal.deadline_earliest.label("earliest"),
            Goal.deadline_latest.label("latest"),
            literal("goal_deadline").label("event"),
            literal("goal").label("type"),
            Goal.id.label("id"),
            Goal.slug.label("slug"),
            Goal.statement.label("title"),
            Goal.stage.label("stage"),
        ).where(*_in_window(Goal.deadline_earliest, Goal.deadline_latest, f), *goal_filter)
    )
    return parts


def _timeline_keys(events: Any) -> list[SortKey]:
    return [
        SortKey("earliest", events.c.earliest, False, False),
        SortKey("event", events.c.event, False, False),
        SortKey("type", events.c.type, False, False),
        SortKey("id", events.c.id, False, False),
    ]


@dataclass
class TimelinePage:
    rows: list[Any]
    next_cursor: str | None


def timeline(
    *,
    session: Session,
    filters: TimelineFilters,
    limit: int,
    cursor: str | None,
    codec: CursorCodec,
) -> TimelinePage:
    """Dated events in date order (ties: event, type, id), a keyset page at a time.

    Each kind of event is paged on its own first (its event and type are constant, so its
    order is (date, id), which an index serves), and only those few rows are merged: the
    page never sorts every event after the start date.
    """
    after = codec.decode(cursor, TIMELINE_SORT, [date, str, str, int]) if cursor else None
    pages = []
    for part in timeline_parts(session, filters):
        events = part.subquery()
        stmt = select(events)
        if after is not None:
            stmt = stmt.where(after_condition(_timeline_keys(events), after))
        stmt = stmt.order_by(events.c.earliest, events.c.id).limit(limit + 1)
        pages.append(select(stmt.subquery()))
    merged = union_all(*pages).subquery("events")
    keys = _timeline_keys(merged)
    stmt = select(merged).order_by(*(k.column for k in keys)).limit(limit + 1)
    rows = list(session.execute(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = codec.encode(TIMELINE_SORT, [last.earliest, last.event, last.type, last.id])
    return TimelinePage(rows=rows, next_cursor=next_cursor)


# ---------------------------------------------------------------------------------- graph
GRAPH_TYPES: dict[str, Any] = {
    "policy": Policy,
    "actor": Actor,
    "region": Region,
    "goal": Goal,
}
_LABELS = {
    "policy": Policy.title,
    "actor": Actor.name,
    "region": Region.name,
    "goal": Goal.statement,
}


@dataclass(frozen=True)
class Edge:
    source: tuple[str, int]
    target: tuple[str, int]
    type: str
    role: str | None = None


@dataclass
class Graph:
    nodes: dict[tuple[str, int], dict[str, Any]]
    edges: list[Edge]
    truncated: bool


def parse_root(root: str) -> tuple[str, str]:
    record_type, _, slug = root.partition(":")
    if record_type not in GRAPH_TYPES or not slug:
        raise BadQuery(
            "root must be <type>:<slug>",
            [ErrorDetail("/query/root", f"e.g. policy:some-slug; types: {', '.join(GRAPH_TYPES)}")],
        )
    return record_type, slug


def _neighbours(session: Session, frontier: dict[str, list[int]]) -> list[Edge]:
    """Every edge touching the frontier, one query per kind of edge."""
    edges: list[Edge] = []
    policies, actors = frontier.get("policy", []), frontier.get("actor", [])
    regions, goals = frontier.get("region", []), frontier.get("goal", [])
    if policies or actors:
        for policy_id, actor_id, role in session.execute(
            select(PolicyActor.policy_id, PolicyActor.actor_id, PolicyActor.role).where(
                or_(PolicyActor.policy_id.in_(policies), PolicyActor.actor_id.in_(actors))
            )
        ):
            edges.append(Edge(("actor", actor_id), ("policy", policy_id), "actor_role", role))
    if policies or regions:
        for policy_id, region_id, role in session.execute(
            select(PolicyRegion.policy_id, PolicyRegion.region_id, PolicyRegion.role).where(
                or_(PolicyRegion.policy_id.in_(policies), PolicyRegion.region_id.in_(regions))
            )
        ):
            edges.append(Edge(("policy", policy_id), ("region", region_id), "region_role", role))
    if policies:
        for source, target, relation in session.execute(
            select(
                PolicyRelation.policy_id, PolicyRelation.related_policy_id, PolicyRelation.relation
            ).where(
                or_(
                    PolicyRelation.policy_id.in_(policies),
                    PolicyRelation.related_policy_id.in_(policies),
                )
            )
        ):
            edges.append(Edge(("policy", source), ("policy", target), "policy_relation", relation))
    if goals or policies or actors:
        for goal_id, owner_policy, owner_actor in session.execute(
            select(Goal.id, Goal.policy_id, Goal.actor_id).where(
                or_(Goal.id.in_(goals), Goal.policy_id.in_(policies), Goal.actor_id.in_(actors))
            )
        ):
            if owner_policy is not None:
                edges.append(
                    Edge(("goal", goal_id), ("policy", owner_policy), "goal_owner", "policy")
                )
            if owner_actor is not None:
                edges.append(Edge(("goal", goal_id), ("actor", owner_actor), "goal_owner", "actor"))
    for record_type, model, ids in (("region", Region, regions), ("actor", Actor, actors)):
        if ids:
            for child, parent in session.execute(
                select(model.id, model.parent_id).where(
                    model.parent_id.is_not(None),
                    or_(model.id.in_(ids), model.parent_id.in_(ids)),
                )
            ):
                if parent is not None:
                    edges.append(Edge((record_type, child), (record_type, parent), "parent"))
    if actors:
        for based_actor, home in session.execute(
            select(Actor.id, Actor.region_id).where(
                Actor.id.in_(actors), Actor.region_id.is_not(None)
            )
        ):
            if home is not None:
                edges.append(Edge(("actor", based_actor), ("region", home), "home_region"))
    return edges


def graph(*, session: Session, root: str, depth: int, max_nodes: int) -> Graph:
    """Nodes and typed edges within ``depth`` links of ``root``, at most ``max_nodes`` nodes."""
    record_type, slug = parse_root(root)
    model = GRAPH_TYPES[record_type]
    root_id = session.scalar(select(model.id).where(model.slug == slug))
    if root_id is None:
        raise NotFound(f"no {record_type} with slug {slug!r}")
    seen: set[tuple[str, int]] = {(record_type, root_id)}
    frontier = {(record_type, root_id)}
    edges: set[Edge] = set()
    truncated = False
    for _level in range(depth):
        by_type: dict[str, list[int]] = defaultdict(list)
        for node_type, node_id in frontier:
            by_type[node_type].append(node_id)
        next_frontier: set[tuple[str, int]] = set()
        for edge in _neighbours(session, by_type):
            for end in (edge.source, edge.target):
                if end not in seen:
                    if len(seen) >= max_nodes:
                        truncated = True
                        continue
                    seen.add(end)
                    next_frontier.add(end)
            if edge.source in seen and edge.target in seen:
                edges.add(edge)
        frontier = next_frontier
        if not frontier:
            break
    nodes: dict[tuple[str, int], dict[str, Any]] = {}
    by_type = defaultdict(list)
    for node_type, node_id in seen:
        by_type[node_type].append(node_id)
    for node_type, ids in by_type.items():
        node_model = GRAPH_TYPES[node_type]
        for node_id, node_slug, node_label, kind in session.execute(
            select(
                node_model.id,
                node_model.slug,
                _LABELS[node_type],
                getattr(node_model, "kind", literal(None)),
            ).where(node_model.id.in_(ids))
        ):
            nodes[(node_type, node_id)] = {
                "id": f"{node_type}:{node_slug}",
                "type": node_type,
                "slug": node_slug,
                "label": node_label,
                "kind": kind,
            }
    ordered_edges = sorted(edges, key=lambda e: (e.source, e.target, e.type, e.role or ""))
    return Graph(nodes=nodes, edges=ordered_edges, truncated=truncated)


# ------------------------------------------------------------------------ relation chains
CHAIN_RELATIONS = ("implements", "supports", "amends")


# Rows read per link the chain may hold (links to policies already seen are read too).
ROWS_PER_LINK = 4


def relation_chain(
    *, session: Session, policy_id: int, policy_slug: str, max_depth: int, max_links: int = 200
) -> tuple[list[dict[str, Any]], bool]:
    """Policies reached by following implements/supports/amends links onward (cycle-safe),
    at most ``max_links`` of them; the flag says whether there were more."""
    seen = {policy_id}
    truncated = False
    frontier = [policy_id]
    chain: list[dict[str, Any]] = []
    slugs = {policy_id: policy_slug}
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        rows = session.execute(
            select(
                PolicyRelation.policy_id,
                PolicyRelation.relation,
                Policy.id,
                Policy.slug,
                Policy.title,
            )
            .join(Policy, Policy.id == PolicyRelation.related_policy_id)
            .where(
                PolicyRelation.policy_id.in_(frontier),
                PolicyRelation.relation.in_(CHAIN_RELATIONS),
            )
            .order_by(PolicyRelation.policy_id, PolicyRelation.position)
            .limit(ROWS_PER_LINK * max_links + 1)
        ).all()
        if len(rows) > ROWS_PER_LINK * max_links:
            rows = rows[: ROWS_PER_LINK * max_links]
            truncated = True
        frontier = []
        for source_id, relation, target_id, target_slug, title in rows:
            slugs[target_id] = target_slug
            if target_id in seen:
                continue
            if len(chain) >= max_links:
                return chain, True
            seen.add(target_id)
            frontier.append(target_id)
            chain.append(
                {
                    "policy": target_slug,
                    "title": title,
                    "relation": relation,
                    "via": slugs[source_id],
                    "depth": depth,
                }
            )
    return chain, truncated
