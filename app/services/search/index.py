"""Keeping the index in step: every record has a row in ``search_documents`` (title + body
text), rewritten whenever the record is flushed, so the index can never lag behind a write,
an import or a delete. The engine-specific index over that table is built by the migrations.
"""

from typing import Any

from sqlalchemy import delete, event, insert, tuple_
from sqlalchemy.orm import Session, UOWTransaction

from app.models import SearchDocument
from app.resources import RESOURCES
from app.services.search.text import document_text

# Every type of record is indexed, under its singular name.
RECORD_TYPES: dict[str, type[Any]] = {r.singular: r.model for r in RESOURCES.values()}
_TYPE_OF = {model: name for name, model in RECORD_TYPES.items()}


def _sync_search_documents(session: Session, _flush: UOWTransaction) -> None:
    """After every flush, rewrite the documents of the records it inserted, changed or deleted."""
    touched = [o for o in (*session.new, *session.dirty) if type(o) in _TYPE_OF]
    gone = [o for o in session.deleted if type(o) in _TYPE_OF]
    if not touched and not gone:
        return
    keys = [(_TYPE_OF[type(o)], o.id) for o in (*touched, *gone)]
    connection = session.connection()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        connection.execute(
            delete(SearchDocument).where(
                tuple_(SearchDocument.record_type, SearchDocument.record_id).in_(chunk)
            )
        )
    rows = []
    for record in touched:
        title, body = document_text(record)
        rows.append(
            {
                "record_type": _TYPE_OF[type(record)],
                "record_id": record.id,
                "title": title,
                "body": body,
            }
        )
    if rows:
        connection.execute(insert(SearchDocument), rows)


event.listen(Session, "after_flush", _sync_search_documents)
