"""Reading the change history: per record, as of a moment, and the global changes feed."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import HistoryEntry
from app.services.resources import is_record_key, numeric_id


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
    *, session: Session, after: int | None, limit: int
) -> tuple[Sequence[HistoryEntry], int | None]:
    """Changes after the entry ``after``, oldest first, and the id to poll from next."""
    query = select(HistoryEntry)
    if after is not None:
        query = query.where(HistoryEntry.id > after)
    entries = session.scalars(query.order_by(HistoryEntry.id).limit(limit)).all()
    last = entries[-1].id if entries else after
    return entries, last
