"""The one write path: every API write goes through apply_changes(), and the importer checks
with the same checks (app/services/write_checks.py), writes existing records through
write_changes() and records history with the same writer (app/services/history.py).

Writing happens in two phases so that records in one batch may refer to each other in any
order: first every record is checked (references, cycles, uniqueness) and *all* problems
are collected; only if there are none are the rows written, in the caller's transaction.
Nothing is committed here.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.errors import ErrorDetail, InvalidInput, PreconditionFailed
from app.models.base import RecordMixin, utcnow
from app.resources import RESOURCES, WRITE_ORDER, ResourceName
from app.schemas.bundle import FieldChange, RecordChange
from app.services import search as search  # registers the search documents' flush hook
from app.services.changes import Change, Key, Location, referenced_slugs
from app.services.history import Written, changed_fields, write_history
from app.services.resources import record_dump
from app.services.rows import stored_dumps, write_row
from app.services.write_checks import LOOKUP, BatchChecks, MemoryBatch

__all__ = ["Change", "Location", "Outcome", "Targets", "apply_changes", "begin_write"]

WRITE_INTENT = "policydb_write"  # execution option: this connection's transaction will write
WRITE_LOCK_KEY = 7031  # PostgreSQL advisory lock that serialises writers


@dataclass
class Outcome:
    """What a batch did (or, in a dry run, would do), per resource."""

    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            name: {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0} for name in WRITE_ORDER
        }
    )
    written: list[RecordMixin] = field(default_factory=list)
    # The first ``listed`` changed records field by field (0: none; API writes need none).
    listed: int = 0
    changes: list[RecordChange] = field(default_factory=list)
    changes_total: int = 0

    def count(self, resource: str, what: str, n: int = 1) -> None:
        self.counts[resource][what] += n

    def describe(
        self,
        resource: str,
        slug: str,
        action: Literal["create", "update", "delete"],
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        """Note a changed record; the first ``listed`` are kept with their field changes."""
        self.changes_total += 1
        if len(self.changes) >= self.listed:
            return
        changed = changed_fields(before, after)
        fields = {name: FieldChange(**change) for name, change in changed.items()}
        cleared = [k for k, v in changed.items() if _empty(v["new"]) and not _empty(v["old"])]
        self.changes.append(
            RecordChange(
                resource=resource, slug=slug, action=action, fields=fields, cleared=cleared
            )
        )


def _empty(value: object) -> bool:
    return value is None or value == [] or value == {}


class Targets:
    """Slug -> row for every record a batch may point at, once the batch is applied."""

    def __init__(self) -> None:
        self.rows: dict[Key, RecordMixin] = {}

    def get(self, resource: ResourceName, slug: str) -> RecordMixin:
        return self.rows[(resource, slug)]


def check_changes(
    session: Session,
    changes: Sequence[Change],
    *,
    deleted: Iterable[Key] = (),
) -> list[ErrorDetail]:
    """Every problem with a batch of records (``deleted``: records it deletes)."""
    checks = BatchChecks(MemoryBatch())
    for change in changes:
        checks.add(change)
    gone: dict[ResourceName, set[str]] = {}
    for name, slug in deleted:
        gone.setdefault(name, set()).add(slug)
    return [*checks.found, *checks.check(session, gone)]


def resolve_targets(
    session: Session, changes: Sequence[Change], *, gone: Iterable[Key] = ()
) -> Targets:
    """The rows a checked batch points at outside itself (records of the batch are added as
    they are written)."""
    targets = Targets()
    in_batch = {(c.resource, c.slug) for c in changes}
    wanted: dict[ResourceName, set[str]] = {}
    for change in changes:
        for resource, slug, _at in referenced_slugs(change):
            if (resource, slug) not in in_batch:
                wanted.setdefault(resource, set()).add(slug)
    gone = set(gone) | {
        (c.resource, c.existing.slug)
        for c in changes
        if c.existing is not None and c.existing.slug != c.slug
    }
    for resource, slugs in wanted.items():
        model = RESOURCES[resource].model
        ordered = sorted(slugs)
        for start in range(0, len(ordered), LOOKUP):
            query = select(model).where(model.slug.in_(ordered[start : start + LOOKUP]))
            for row in session.scalars(query):
                if (resource, row.slug) not in gone:
                    targets.rows[(resource, row.slug)] = row
    return targets


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
    delete: Sequence[tuple[ResourceName, RecordMixin]] = (),
) -> Outcome:
    """Check, then write a batch of records (and deletions) in the caller's transaction.

    Every created, updated and deleted record gets a history entry in the same transaction.
    """
    deleted = [(name, row.slug) for name, row in delete]
    errors = check_changes(session, changes, deleted=deleted)
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) found; nothing was written", errors)
    targets = resolve_targets(session, changes, gone=deleted)
    return write_changes(session, changes, targets, changed_by=changed_by, delete=delete)


def _stored(
    session: Session,
    changes: Sequence[Change],
    delete: Sequence[tuple[ResourceName, RecordMixin]],
    known: Mapping[Key, object],
) -> dict[Key, dict[str, object]]:
    """The bundle shape, as stored, of every existing record a batch updates or deletes
    (but those ``known``), read (a resource at a time) before any of them changes."""
    rows: dict[ResourceName, list[RecordMixin]] = {}
    for change in changes:
        if change.existing is not None and (change.resource, change.existing.slug) not in known:
            rows.setdefault(change.resource, []).append(change.existing)
    for name, row in delete:
        if (name, row.slug) not in known:
            rows.setdefault(name, []).append(row)
    found: dict[Key, dict[str, object]] = {}
    for name, held in rows.items():
        dumps = stored_dumps(session, RESOURCES[name], [row.id for row in held])
        found.update(((name, row.slug), dumps[row.id]) for row in held)
    return found


def write_changes(
    session: Session,
    changes: Sequence[Change],
    targets: Targets,
    *,
    changed_by: str,
    delete: Sequence[tuple[ResourceName, RecordMixin]] = (),
    outcome: Outcome | None = None,
    known_before: Mapping[Key, dict[str, object]] | None = None,
) -> Outcome:
    """Write a batch that has passed the checks; ``targets`` holds every row it points at.

    ``known_before``: the stored dumps of records it updates or deletes, if the caller has them.
    """
    outcome = outcome or Outcome()
    known = known_before or {}
    stored = {**_stored(session, changes, delete, known=known), **known}
    history: list[tuple[RecordMixin, Written]] = []
    # Phase 1: a row for every record, so records can point at each other in any order.
    pending: list[tuple[Change, dict[str, object], RecordMixin]] = []
    for name in WRITE_ORDER:
        resource = RESOURCES[name]
        for change in (c for c in changes if c.resource == name):
            row = change.existing
            after = record_dump(resource, change.record)
            before = stored[(name, row.slug)] if row is not None else {}
            if row is not None and before == after:
                outcome.count(name, "unchanged")
                targets.rows[(name, row.slug)] = row
                continue
            if row is None:
                row = resource.model(slug=change.slug)
                session.add(row)
                outcome.count(name, "created")
                history.append((row, Written(name, 0, change.slug, "create", before, after)))
            else:
                outcome.count(name, "updated")
                row.updated_at = utcnow()
                history.append((row, Written(name, 0, change.slug, "update", before, after)))
            outcome.describe(
                name, change.slug, "update" if change.existing else "create", before, after
            )
            targets.rows[(name, change.slug)] = row
            pending.append((change, after, row))

    for name, row in delete:
        before = stored[(name, row.slug)]
        history.append((row, Written(name, row.id, row.slug, "delete", before, {})))
        outcome.describe(name, row.slug, "delete", before, {})
        session.delete(row)
        outcome.count(name, "deleted")

    # Phase 2: fields and links.
    for change, after, row in pending:
        write_row(change, after, row, targets.get)
        outcome.written.append(row)
    _flush(session)
    for row, written in history:
        if written.action != "delete":
            written.record_id = row.id
    write_history(session, [w for _row, w in history], changed_by=changed_by, changed_at=utcnow())
    return outcome


def _flush(session: Session) -> None:
    """Send the batch's rows; a constraint the checks missed is still a clean refusal."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise InvalidInput(
            "the database refused the change",
            [ErrorDetail(pointer="", detail=str(exc.orig).splitlines()[0])],
        ) from exc
    except StaleDataError:
        raise PreconditionFailed(
            "the record was changed by someone else while this write was prepared; "
            "fetch it again and retry"
        ) from None
