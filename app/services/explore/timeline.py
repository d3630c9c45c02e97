"""The timeline: dated events (policies announced, entering into force and ending; goal
deadlines) in date order, a keyset page at a time."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Integer, exists, literal, or_, select, union_all
from sqlalchemy.orm import Session

from app.models import Actor, Goal, Policy, PolicyActor, PolicyRegion, PolicyTopic
from app.partial_dates import PartialDate
from app.services.paging import CursorCodec, SortKey, after_condition
from app.services.queries import region_ids_within, slug_id


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
