"""The one write path: every create, update, import and seed goes through apply_changes().

Writing happens in two phases so that records in one batch may refer to each other in any
order: first every record is checked (fields, references, cycles, uniqueness) and *all*
problems are collected; only if there are none are the rows written, in the caller's
transaction. Nothing is committed here.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.errors import ErrorDetail, InvalidInput, PreconditionFailed, pointer
from app.models import (
    Actor,
    Citation,
    Goal,
    HistoryEntry,
    Policy,
    PolicyActor,
    PolicyRegion,
    PolicyRelation,
    PolicyTopic,
    Region,
    Source,
)
from app.models.base import utcnow
from app.partial_dates import PartialDate
from app.schemas.actor import ActorRecord
from app.schemas.common import Citation as CitationIn
from app.schemas.common import WriteModel
from app.schemas.goal import GoalRecord
from app.schemas.policy import PolicyRecord
from app.schemas.region import RegionRecord
from app.schemas.source import SourceRecord
from app.services.resources import (
    RESOURCES,
    WRITE_ORDER,
    RecordModel,
    ResourceName,
    record_dump,
    stored_record,
)

Location = tuple[str | int, ...]
WRITE_INTENT = "policydb_write"  # execution option: this connection's transaction will write
WRITE_LOCK_KEY = 7031  # PostgreSQL advisory lock that serialises writers


@dataclass
class Change:
    """One record to write: ``existing`` is the row it updates (None: a new row)."""

    resource: ResourceName
    record: WriteModel
    location: Location
    existing: RecordModel | None = None


@dataclass
class Outcome:
    """What a batch did (or, in a dry run, would do), per resource."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            name: {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0} for name in WRITE_ORDER
        }
    )
    written: list[RecordModel] = field(default_factory=list)

    def count(self, resource: str, what: str) -> None:
        self.counts[resource][what] += 1


class Targets:
    """Slug -> row for every record a batch may point at, once the batch is applied."""

    def __init__(self) -> None:
        self.rows: dict[tuple[ResourceName, str], RecordModel] = {}
        self.gone: set[tuple[ResourceName, str]] = set()

    def get(self, resource: ResourceName, slug: str) -> Any:
        return self.rows[(resource, slug)]


def referenced_slugs(change: Change) -> Iterable[tuple[ResourceName, str, Location]]:
    """Every (resource, slug) a record points at, with where in the record it does so."""
    record, loc = change.record, change.location

    def cites(
        citations: Sequence[CitationIn], at: Location
    ) -> Iterable[tuple[ResourceName, str, Location]]:
        for i, c in enumerate(citations):
            yield "sources", c.source, (*at, "citations", i, "source")

    if isinstance(record, RegionRecord | ActorRecord):
        if record.parent is not None:
            yield change.resource, record.parent, (*loc, "parent")
        if isinstance(record, ActorRecord) and record.region is not None:
            yield "regions", record.region, (*loc, "region")
    if isinstance(record, PolicyRecord):
        for i, a in enumerate(record.actors):
            yield "actors", a.actor, (*loc, "actors", i, "actor")
            yield from cites(a.citations, (*loc, "actors", i))
        for i, r in enumerate(record.regions):
            yield "regions", r.region, (*loc, "regions", i, "region")
            yield from cites(r.citations, (*loc, "regions", i))
        for i, rel in enumerate(record.related):
            yield "policies", rel.policy, (*loc, "related", i, "policy")
            yield from cites(rel.citations, (*loc, "related", i))
    if isinstance(record, GoalRecord):
        if record.policy is not None:
            yield "policies", record.policy, (*loc, "policy")
        if record.actor is not None:
            yield "actors", record.actor, (*loc, "actor")
    citations = getattr(record, "citations", None)
    if citations is not None:
        yield from cites(citations, loc)


def _slug(change: Change) -> str:
    slug: str = getattr(change.record, "slug")  # noqa: B009  every WriteModel record has one
    return slug


def _error(change: Change, at: Location, message: str) -> ErrorDetail:
    return ErrorDetail(pointer=pointer(*at), detail=message, slug=_slug(change))


def check_changes(
    session: Session,
    changes: Sequence[Change],
    *,
    deleted: Iterable[tuple[ResourceName, str]] = (),
    known: Iterable[tuple[ResourceName, str]] = (),
) -> tuple[Targets, list[ErrorDetail]]:
    """Find every problem with a batch before anything is written.

    ``known`` are slugs of records the caller already found invalid: references to them are
    not reported again as unknown.
    """
    errors: list[ErrorDetail] = []
    known = set(known)
    targets = Targets()
    targets.gone = set(deleted)

    # Duplicate slugs inside the batch.
    first_seen: dict[tuple[ResourceName, str], Change] = {}
    for change in changes:
        key = (change.resource, _slug(change))
        if key in first_seen:
            where = pointer(*first_seen[key].location) or "the request"
            errors.append(
                _error(change, (*change.location, "slug"), f"duplicate slug; first at {where}")
            )
        else:
            first_seen[key] = change

    # A renamed row frees its old slug; the batch's slugs are taken.
    for change in changes:
        if change.existing is not None and change.existing.slug != _slug(change):
            targets.gone.add((change.resource, change.existing.slug))

    # Resolve every referenced slug: in the batch, else in the database.
    wanted: dict[ResourceName, set[str]] = defaultdict(set)
    for change in changes:
        for resource, slug, _at in referenced_slugs(change):
            if (resource, slug) not in first_seen:
                wanted[resource].add(slug)
    found: set[tuple[ResourceName, str]] = set()
    for resource, slugs in wanted.items():
        model = RESOURCES[resource].model
        for row in _chunked_select(session, model, slugs):
            if (resource, row.slug) not in targets.gone:
                targets.rows[(resource, row.slug)] = row
                found.add((resource, row.slug))
    for change in changes:
        for resource, slug, at in referenced_slugs(change):
            key = (resource, slug)
            if key not in first_seen and key not in found and key not in known:
                errors.append(
                    _error(change, at, f"unknown {RESOURCES[resource].singular} slug {slug!r}")
                )

    errors.extend(_parent_cycles(session, changes, targets))
    errors.extend(_iso_code_clashes(session, changes))
    return targets, errors


def _chunked_select(session: Session, model: Any, slugs: Iterable[str]) -> Iterable[Any]:
    ordered = sorted(slugs)
    for start in range(0, len(ordered), 500):
        yield from session.scalars(
            select(model).where(model.slug.in_(ordered[start : start + 500]))
        )


def _parent_cycles(
    session: Session, changes: Sequence[Change], targets: Targets
) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    for resource, model in (("regions", Region), ("actors", Actor)):
        batch = [c for c in changes if c.resource == resource]
        if not batch:
            continue
        parent_of: dict[str, str | None] = {}
        parent_table = model.__table__.alias("parent")
        rows = session.execute(
            select(model.slug, parent_table.c.slug).outerjoin(
                parent_table, model.parent_id == parent_table.c.id
            )
        )
        for slug, parent_slug in rows:
            parent_of[slug] = parent_slug
        for change in batch:
            if change.existing is not None:
                parent_of.pop(change.existing.slug, None)
            parent_of[_slug(change)] = getattr(change.record, "parent", None)
        for change in batch:
            seen = {_slug(change)}
            current = parent_of.get(_slug(change))
            while current is not None:
                if current in seen:
                    errors.append(
                        _error(
                            change,
                            (*change.location, "parent"),
                            f"parent chain loops back to {current!r}",
                        )
                    )
                    break
                seen.add(current)
                current = parent_of.get(current)
    return errors


def _iso_code_clashes(session: Session, changes: Sequence[Change]) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    batch = [c for c in changes if c.resource == "regions"]
    codes: dict[str, Change] = {}
    for change in batch:
        code = getattr(change.record, "iso_code", None)
        if code is None:
            continue
        if code in codes:
            errors.append(
                _error(change, (*change.location, "iso_code"), f"ISO code {code} is used twice")
            )
        codes[code] = change
    if codes:
        slugs_in_batch = {_slug(c) for c in batch} | {
            c.existing.slug for c in batch if c.existing is not None
        }
        holders = session.execute(
            select(Region.iso_code, Region.slug).where(Region.iso_code.in_(sorted(codes)))
        )
        for held_code, slug in holders:
            if held_code is not None and slug not in slugs_in_batch:
                change = codes[held_code]
                errors.append(
                    _error(
                        change,
                        (*change.location, "iso_code"),
                        f"ISO code {held_code} already belongs to region {slug!r}",
                    )
                )
    return errors


def begin_write(session: Session) -> None:
    """Start the transaction a write runs in, holding the database's write lock from the start.

    Writers queue here instead of failing halfway: SQLite gets BEGIN IMMEDIATE (see app/db.py),
    PostgreSQL a transaction-level advisory lock. Serialised writers also commit history ids
    in order, so the changes feed never skips an entry. Anything read before this (an API key
    lookup) is ended first and forgotten, so checks made after it see the current rows.
    """
    if session.in_transaction():
        session.commit()
    session.expire_all()
    connection = session.connection(execution_options={WRITE_INTENT: True})
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))


def apply_changes(
    session: Session,
    changes: Sequence[Change],
    *,
    changed_by: str,
    delete: Sequence[tuple[ResourceName, RecordModel]] = (),
    known: Iterable[tuple[ResourceName, str]] = (),
    errors: Sequence[ErrorDetail] = (),
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Check, then write a batch of records (and deletions) in the caller's transaction.

    Every created, updated and deleted record gets a history entry in the same transaction.
    ``errors`` are problems the caller already found; they are reported with the rest.
    """
    targets, found = check_changes(
        session, changes, deleted=[(name, row.slug) for name, row in delete], known=known
    )
    errors = [*errors, *found]
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) found; nothing was written", errors)
    return write_changes(
        session, changes, targets, changed_by=changed_by, delete=delete, progress=progress
    )


def write_changes(
    session: Session,
    changes: Sequence[Change],
    targets: Targets,
    *,
    changed_by: str,
    delete: Sequence[tuple[ResourceName, RecordModel]] = (),
    progress: Callable[[int], None] | None = None,
    outcome: "Outcome | None" = None,
) -> Outcome:
    """Write a batch that has passed the checks; ``targets`` holds every row it points at."""
    outcome = outcome or Outcome()
    history: list[_Pending] = []
    # Phase 1: a row for every record, so records can point at each other in any order.
    pending: list[tuple[Change, RecordModel]] = []
    for name in WRITE_ORDER:
        resource = RESOURCES[name]
        for change in (c for c in changes if c.resource == name):
            row = change.existing
            after = record_dump(resource, change.record)
            before = record_dump(resource, stored_record(resource, row)) if row is not None else {}
            if row is not None and before == after:
                outcome.count(name, "unchanged")
                targets.rows[(name, row.slug)] = row
                continue
            if row is None:
                row = resource.model(slug=_slug(change))
                session.add(row)
                outcome.count(name, "created")
                history.append(_Pending(name, row, "create", before, after))
            else:
                outcome.count(name, "updated")
                row.updated_at = utcnow()
                history.append(_Pending(name, row, "update", before, after))
            targets.rows[(name, _slug(change))] = row
            pending.append((change, row))

    for name, row in delete:
        resource = RESOURCES[name]
        history.append(
            _Pending(name, row, "delete", record_dump(resource, stored_record(resource, row)), {})
        )
        session.delete(row)
        outcome.count(name, "deleted")

    # Phase 2: fields and links.
    for change, row in pending:
        _WRITERS[change.resource](row, change.record, targets)
        outcome.written.append(row)
        if progress is not None:
            progress(1)
    try:
        session.flush()
        session.add_all(entry.to_entry(changed_by) for entry in history)
        session.flush()
    except IntegrityError as exc:  # a constraint the checks above missed: still a clean refusal
        raise InvalidInput(
            "the database refused the change",
            [ErrorDetail(pointer="", detail=str(exc.orig).splitlines()[0])],
        ) from exc
    except StaleDataError:
        raise PreconditionFailed(
            "the record was changed by someone else while this write was prepared; "
            "fetch it again and retry"
        ) from None
    return outcome


@dataclass
class _Pending:
    """A history entry waiting for its row's id (known only after the flush)."""

    resource: ResourceName
    row: RecordModel
    action: str
    before: dict[str, Any]
    after: dict[str, Any]

    def to_entry(self, changed_by: str) -> HistoryEntry:
        return HistoryEntry(
            record_type=RESOURCES[self.resource].singular,
            record_id=self.row.id,
            slug=self.row.slug,
            action=self.action,
            changed_by=changed_by,
            fields=changed_fields(self.before, self.after),
            snapshot=self.after or self.before,
        )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each field that differs between two record dumps, as {"old": ..., "new": ...}."""
    if not before:  # a creation (the common case on a large import): every field is new
        return {
            key: {"old": None, "new": value} for key, value in after.items() if value is not None
        }
    keys = [*before, *(k for k in after if k not in before)]
    return {
        key: {"old": before.get(key), "new": after.get(key)}
        for key in keys
        if before.get(key) != after.get(key)
    }


def _citations(citations: Sequence[CitationIn], targets: Targets) -> list[Citation]:
    return [
        Citation(
            source=targets.get("sources", c.source),
            section=c.section,
            paragraph=c.paragraph,
            excerpt=c.excerpt,
            note=c.note,
            position=i,
        )
        for i, c in enumerate(citations)
    ]


def _dates(name: str, text: str | None) -> dict[str, Any]:
    value = PartialDate.parse(text) if text is not None else None
    return {
        f"{name}_earliest": value.earliest if value else None,
        f"{name}_latest": value.latest if value else None,
    }


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


# The plain columns of each record type (everything but references to other rows), from the
# record's bundle shape (record_dump). One definition for the ORM writers below and for the
# bulk insert of new records on import, which reads that shape back from its spool.
def source_columns(dump: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": dump["slug"],
        "title": dump["title"],
        "publisher": dump.get("publisher"),
        "series": dump.get("series"),
        "authors": dump.get("authors", []),
        "url": dump.get("url"),
        **_dates("published", dump.get("published")),
        "language": dump.get("language"),
        "sha256": dump.get("sha256"),
    }


def region_columns(dump: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": dump["slug"],
        "name": dump["name"],
        "names": dump.get("names", {}),
        "aliases": dump.get("aliases", []),
        "kind": dump["kind"],
        "iso_code": dump.get("iso_code"),
        "description": dump.get("description"),
    }


def actor_columns(dump: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": dump["slug"],
        "name": dump["name"],
        "names": dump.get("names", {}),
        "aliases": dump.get("aliases", []),
        "kind": dump["kind"],
        "description": dump.get("description"),
        "identifiers": dump.get("identifiers", []),
    }


def policy_columns(dump: dict[str, Any]) -> dict[str, Any]:
    money = dump.get("money") or {}
    return {
        "slug": dump["slug"],
        "title": dump["title"],
        "short_name": dump.get("short_name"),
        "titles": dump.get("titles", {}),
        "kind": dump["kind"],
        "status": dump["status"],
        "summary": dump.get("summary"),
        "identifiers": dump.get("identifiers", []),
        **_dates("announced", dump.get("announced")),
        **_dates("in_force_from", dump.get("in_force_from")),
        **_dates("in_force_to", dump.get("in_force_to")),
        "money_amount": _decimal(money.get("amount")),
        "money_currency": money.get("currency"),
        "money_approximate": money.get("approximate", False),
    }


def goal_columns(dump: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": dump["slug"],
        "statement": dump["statement"],
        "metric": dump.get("metric"),
        "target_value": _decimal(dump.get("target_value")),
        "unit": dump.get("unit"),
        "baseline_value": _decimal(dump.get("baseline_value")),
        **_dates("deadline", dump.get("deadline")),
        "stage": dump.get("stage"),
        "status": dump["status"],
    }


COLUMNS: dict[ResourceName, Callable[[Any], dict[str, Any]]] = {
    "sources": source_columns,
    "regions": region_columns,
    "actors": actor_columns,
    "policies": policy_columns,
    "goals": goal_columns,
}


def _set_columns(row: Any, columns: dict[str, Any]) -> None:
    for name, value in columns.items():
        setattr(row, name, value)


def _write_source(row: Any, record: Any, targets: Targets) -> None:
    assert isinstance(row, Source) and isinstance(record, SourceRecord)
    _set_columns(row, source_columns(record_dump(RESOURCES["sources"], record)))


def _write_region(row: Any, record: Any, targets: Targets) -> None:
    assert isinstance(row, Region) and isinstance(record, RegionRecord)
    _set_columns(row, region_columns(record_dump(RESOURCES["regions"], record)))
    row.parent = targets.get("regions", record.parent) if record.parent else None
    row.citations = _citations(record.citations, targets)


def _write_actor(row: Any, record: Any, targets: Targets) -> None:
    assert isinstance(row, Actor) and isinstance(record, ActorRecord)
    _set_columns(row, actor_columns(record_dump(RESOURCES["actors"], record)))
    row.region = targets.get("regions", record.region) if record.region else None
    row.parent = targets.get("actors", record.parent) if record.parent else None
    row.citations = _citations(record.citations, targets)


def _write_policy(row: Any, record: Any, targets: Targets) -> None:
    assert isinstance(row, Policy) and isinstance(record, PolicyRecord)
    _set_columns(row, policy_columns(record_dump(RESOURCES["policies"], record)))

    # Links are matched on their natural key and reused, so an unchanged link keeps its id
    # and a re-import never deletes and re-inserts the same (policy, actor, role) row.
    topics = {t.topic: t for t in row.topic_links}
    row.topic_links = [topics.get(t.value) or PolicyTopic(topic=t.value) for t in record.topics]

    row.actor_links = _relink(
        row.actor_links,
        key_of=lambda link: (link.actor.slug, link.role),
        wanted=[((a.actor, a.role.value), a.citations) for a in record.actors],
        make=lambda key: PolicyActor(actor=targets.get("actors", key[0]), role=key[1]),
        targets=targets,
    )
    row.region_links = _relink(
        row.region_links,
        key_of=lambda link: (link.region.slug, link.role),
        wanted=[((r.region, r.role.value), r.citations) for r in record.regions],
        make=lambda key: PolicyRegion(region=targets.get("regions", key[0]), role=key[1]),
        targets=targets,
    )
    row.relations = _relink(
        row.relations,
        key_of=lambda link: (link.related_policy.slug, link.relation),
        wanted=[((r.policy, r.relation.value), r.citations) for r in record.related],
        make=lambda key: PolicyRelation(
            related_policy=targets.get("policies", key[0]), relation=key[1]
        ),
        targets=targets,
    )
    row.citations = _citations(record.citations, targets)


def _relink[LinkT: (PolicyActor, PolicyRegion, PolicyRelation)](
    current: Sequence[LinkT],
    *,
    key_of: Callable[[LinkT], tuple[str, str]],
    wanted: Sequence[tuple[tuple[str, str], Sequence[CitationIn]]],
    make: Callable[[tuple[str, str]], LinkT],
    targets: Targets,
) -> list[LinkT]:
    """The links a record should have, in order, reusing the current ones by natural key."""
    existing = {key_of(link): link for link in current}
    links = []
    for position, (key, citations) in enumerate(wanted):
        link = existing.get(key) or make(key)
        link.position = position
        link.citations = _citations(citations, targets)
        links.append(link)
    return links


def _write_goal(row: Any, record: Any, targets: Targets) -> None:
    assert isinstance(row, Goal) and isinstance(record, GoalRecord)
    _set_columns(row, goal_columns(record_dump(RESOURCES["goals"], record)))
    row.policy = targets.get("policies", record.policy) if record.policy else None
    row.actor = targets.get("actors", record.actor) if record.actor else None
    row.citations = _citations(record.citations, targets)


_WRITERS = {
    "sources": _write_source,
    "regions": _write_region,
    "actors": _write_actor,
    "policies": _write_policy,
    "goals": _write_goal,
}
