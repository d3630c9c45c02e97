"""The change history: the one writer of its entries, and reading it back (per record, as of
a moment, and the global changes feed)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import HistoryEntry
from app.schemas.history import FieldChange, HistoryEntryOut
from app.services.resources import RESOURCES, ResourceName, is_record_key, numeric_id


@dataclass
class Written:
    """One create, update or delete to record: the record's dumps before and after
    (``record_dump``; empty before a creation and after a deletion)."""

    resource: ResourceName
    record_id: int
    slug: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


def write_history(
    connection: Session | Connection,
    written: Sequence[Written],
    *,
    changed_by: str,
    changed_at: datetime,
) -> None:
    """Insert the history entries of a write, in order (their ids order the changes feed);
    the API's writes and the importer's bulk inserts both record history here."""
    if not written:
        return
    rows = [
        {
            "record_type": RESOURCES[w.resource].singular,
            "record_id": w.record_id,
            "slug": w.slug,
            "action": w.action,
            "changed_by": changed_by,
            "changed_at": changed_at,
            "fields": changed_fields(w.before, w.after),
            "snapshot": w.after or w.before,
        }
        for w in written
    ]
    connection.execute(insert(HistoryEntry.__table__), rows)  # type: ignore[arg-type]


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


def entry_out(entry: HistoryEntry) -> HistoryEntryOut:
    """A history entry as the API shows it."""
    return HistoryEntryOut(
        id=entry.id,
        type=entry.record_type,
        record_id=entry.record_id,
        slug=entry.slug,
        action=entry.action,
        changed_by=entry.changed_by,
        changed_at=entry.changed_at,
        fields={k: FieldChange(**v) for k, v in entry.fields.items()},
    )


def _record_id(session: Session, record_type: str, key: str) -> int:
    """The id a record has (or had): by numeric id, or by the slug it last had."""
    id_ = numeric_id(key)
    if not is_record_key(key):
        found = None
    elif id_ is not None:
        found = session.scalar(
            select(HistoryEntry.record_id)
            .where(HistoryEntry.record_type == record_type, HistoryEntry.record_id == id_)
            .limit(1)
        )
    else:
        found = session.scalar(
            select(HistoryEntry.record_id)
            .where(HistoryEntry.record_type == record_type, HistoryEntry.slug == key)
            .order_by(HistoryEntry.id.desc())
            .limit(1)
        )
    if found is None:
        raise NotFound(f"no history for a {record_type} with id or slug {key!r}")
    return int(found)


def record_history(
    *, session: Session, record_type: str, key: str, limit: int, before: int | None = None
) -> tuple[Sequence[HistoryEntry], int | None]:
    """A record's history entries, newest first, and the id to continue before (or None).

    Deleted records keep their history: it is found by their id or last slug.
    """
    record_id = _record_id(session, record_type, key)
    query = select(HistoryEntry).where(
        HistoryEntry.record_type == record_type, HistoryEntry.record_id == record_id
    )
    if before is not None:
        query = query.where(HistoryEntry.id < before)
    entries = session.scalars(query.order_by(HistoryEntry.id.desc()).limit(limit + 1)).all()
    if len(entries) > limit:
        return entries[:limit], entries[limit - 1].id
    return entries, None


def record_as_of(*, session: Session, record_type: str, key: str, moment: datetime) -> HistoryEntry:
    """The history entry in force at ``moment``: its snapshot is the record as it was then."""
    record_id = _record_id(session, record_type, key)
    entry = session.scalar(
        select(HistoryEntry)
        .where(
            HistoryEntry.record_type == record_type,
            HistoryEntry.record_id == record_id,
            HistoryEntry.changed_at <= moment,
        )
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        raise NotFound(f"the {record_type} {key!r} did not exist yet at {moment.isoformat()}")
    if entry.action == "delete":
        raise NotFound(
            f"the {record_type} {key!r} had been deleted by then "
            f"(at {entry.changed_at.isoformat()}); see its history"
        )
    return entry


def changes_since(
    *, session: Session, after: int | None, limit: int, after_time: datetime | None = None
) -> tuple[Sequence[HistoryEntry], int, bool]:
    """Changes after the entry ``after`` (or else made after the moment ``after_time``), oldest
    first; the id to poll from next; and whether more are waiting already."""
    query = select(HistoryEntry)
    if after is not None:
        query = query.where(HistoryEntry.id > after)
    elif after_time is not None:
        query = query.where(HistoryEntry.changed_at > after_time)
    rows = session.scalars(query.order_by(HistoryEntry.id).limit(limit + 1)).all()
    entries, more = rows[:limit], len(rows) > limit
    if entries:
        return entries, entries[-1].id, more
    if after is not None:
        return entries, after, more
    # Caught up from a moment (or an empty feed): poll from the newest entry there is.
    newest = session.scalar(select(func.max(HistoryEntry.id)))
    return entries, newest or 0, more
